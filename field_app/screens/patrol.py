"""A patrol find: kind, photo, note, "I will fix it myself", where.

Photos kept from an interrupted capture that no report claims are in a new find from the
start (`core.captures`); each new photo's capture file is deleted once the replica holds
it. On a desktop the position can be typed (`widgets.position_entry`).
"""

from __future__ import annotations

from typing import Any, Optional

from kivy.app import App
from kivy.clock import mainthread
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from ..core.patrol import KINDS, PatrolFind
from ..core.photo_draft import DraftError
from ..i18n import KIND_LABELS, label, tr
from ..widgets.photo_thumb import Thumb
from ..widgets.position_entry import PositionEntry  # noqa: F401  (used in patrol.kv)


class PatrolScreen(Screen):
    kind = StringProperty("")
    self_fix = BooleanProperty(False)
    position_text = StringProperty("")
    error = StringProperty("")
    find: Optional[PatrolFind] = None

    def refresh(self) -> None:
        app = App.get_running_app()
        if app.replica is None:
            return
        self.find = PatrolFind(app.replica, app.position, release=app.devices.camera.stored)
        self.kind = ""
        self.self_fix = False
        self.error = ""
        self.ids.note.text = ""
        self.ids.photos.clear_widgets()
        for item in self.find.recovered:  # kept from a capture the app did not see end
            self._show(item["sha256"])
        self.position_text = self.find.position_text()
        kinds = self.ids.kinds
        kinds.clear_widgets()
        for kind in KINDS:
            button = Factory.ChoiceButton(text=label(KIND_LABELS, kind), group="kind")
            button.kind = kind
            button.bind(on_release=lambda b: self.choose_kind(b.kind))
            kinds.add_widget(button)

    def choose_kind(self, kind: str) -> None:
        self.kind = kind
        for button in self.ids.kinds.children:
            button.state = "down" if button.kind == kind else "normal"

    def on_position(self, _fix: Any) -> None:
        if self.find is not None:
            self.position_text = self.find.position_text()

    def take_photo(self) -> None:
        App.get_running_app().devices.camera.capture(self._taken, {"screen": "patrol"})

    @mainthread
    def _taken(self, path: Optional[str]) -> None:
        if path is None or self.find is None:
            return
        try:
            item = self.find.add_photo(path)
        except DraftError as err:
            self.error = str(err)
            return
        self.error = ""
        self._show(item["sha256"])

    def _show(self, sha256: str) -> None:
        assert self.find is not None
        thumb = Thumb(caption=tr("Photo"))
        thumb.set_bytes(self.find.photos.data(sha256))
        self.ids.photos.add_widget(thumb)

    def submit(self) -> None:
        app = App.get_running_app()
        assert self.find is not None
        self.find.kind = self.kind or None
        self.find.note = self.ids.note.text
        self.find.self_fix = self.self_fix
        try:
            task = self.find.submit()
        except DraftError as err:
            self.error = str(err)
            return
        self.find = None
        if task.get("status") == "assigned":
            app.show_toast(tr("Find saved: it is your task now"))
        else:
            app.show_toast(tr("Find saved: the street office will handle it"))
        app.sync_now()
        app.go("tasks")


SCREEN_CLASS = PatrolScreen
