"""A patrol find: kind, photo, note, "I will fix it myself", where."""

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
        self.find = PatrolFind(app.replica, app.position)
        self.kind = ""
        self.self_fix = False
        self.error = ""
        self.ids.note.text = ""
        self.ids.photos.clear_widgets()
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
        App.get_running_app().devices.camera.capture(self._taken)

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
        thumb = Thumb(caption=tr("Photo"))
        thumb.set_bytes(self.find.photos.data(item["sha256"]))
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
