"""Typing the position on a desktop: the GPS stand-in's fix, set by hand.

Shown in the report and patrol screens only when the locator is a stand-in that can be
set (`Locator.settable`, i.e. `devices.desktop.SetLocator`); on a phone the position comes
from the GPS and this row takes no room. The text is `lon,lat[,accuracy]` (WGS 84
degrees, metres); the app checks it (`GridOpsApp.set_position`) and a wrong one is
refused with a message, the position unchanged. Its layout is `position_entry.kv`, loaded
with this module (the first screen that shows it), not at start.
"""

from __future__ import annotations

import os

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout


class PositionEntry(BoxLayout):
    error = StringProperty("")

    def submit(self) -> None:
        problem = App.get_running_app().set_position(self.ids.text.text)
        self.error = problem or ""
        if not problem:
            self.ids.text.text = ""


Builder.load_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), "position_entry.kv"))
