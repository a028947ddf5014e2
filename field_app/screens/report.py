"""Reporting a fix: before and after photos, a note, the position with its accuracy."""

from __future__ import annotations

from typing import Any, Optional

from kivy.app import App
from kivy.clock import mainthread
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from ..core.photo_draft import DraftError
from ..core.report import FixReport
from ..i18n import tr
from ..widgets.photo_thumb import Thumb


class ReportScreen(Screen):
    task_title = StringProperty("")
    position_text = StringProperty("")
    error = StringProperty("")
    report: Optional[FixReport] = None

    def refresh(self) -> None:
        """A new report for the task shown in the detail screen."""
        app = App.get_running_app()
        if app.replica is None or not app.current_task_id:
            return
        task = app.replica.task(app.current_task_id) or {}
        self.task_title = str(task.get("title") or "")
        self.report = FixReport(app.replica, app.current_task_id, app.position)
        self.ids.note.text = ""
        self.ids.before.clear_widgets()
        self.ids.after.clear_widgets()
        self.error = ""
        self.position_text = self.report.position_text()

    def on_position(self, _fix: Any) -> None:
        if self.report is not None:
            self.position_text = self.report.position_text()

    def take_photo(self, role: str) -> None:
        app = App.get_running_app()
        app.devices.camera.capture(lambda path: self._taken(role, path))

    @mainthread
    def _taken(self, role: str, path: Optional[str]) -> None:
        if path is None or self.report is None:
            return
        try:
            item = self.report.add_photo(path, role)
        except DraftError as err:
            self.error = str(err)
            return
        self.error = ""
        thumb = Thumb(caption=tr("Before") if role == "before" else tr("After"))
        thumb.set_bytes(self.report.photos.data(item["sha256"]))
        self.ids[role].add_widget(thumb)

    def submit(self) -> None:
        app = App.get_running_app()
        assert self.report is not None
        self.report.note = self.ids.note.text
        try:
            self.report.submit()
        except DraftError as err:
            self.error = str(err)
            return
        self.report = None
        app.show_toast(tr("Fix reported; it will be sent at the next sync"))
        app.sync_now()
        app.go("tasks")


SCREEN_CLASS = ReportScreen
