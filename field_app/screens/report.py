"""Reporting a fix: before and after photos, a note, the position with its accuracy.

The camera is told what each photo is for (this task's report, before or after), so that
a photo taken while Android ended the app comes back into this report (`core.captures`);
its capture file is deleted once the replica holds it. On a desktop the position can be
typed (`widgets.position_entry`).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from kivy.app import App
from kivy.clock import mainthread
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from ..core.photo_draft import DraftError
from ..core.report import FixReport
from ..i18n import tr
from ..widgets.photo_thumb import Thumb
from ..widgets.position_entry import PositionEntry  # noqa: F401  (used in report.kv)


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
        self.report = FixReport(
            app.replica, app.current_task_id, app.position, release=app.devices.camera.stored
        )
        self.ids.note.text = ""
        self.ids.before.clear_widgets()
        self.ids.after.clear_widgets()
        for item in self.report.recovered:  # kept from a capture the app did not see end
            self._show(item)
        self.error = ""
        self.position_text = self.report.position_text()

    def on_position(self, _fix: Any) -> None:
        if self.report is not None:
            self.position_text = self.report.position_text()

    def take_photo(self, role: str) -> None:
        app = App.get_running_app()
        purpose = {"screen": "report", "task_id": app.current_task_id or "", "role": role}
        app.devices.camera.capture(lambda path: self._taken(role, path), purpose)

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
        self._show(item)

    def _show(self, item: Dict[str, Any]) -> None:
        assert self.report is not None
        role = "before" if item.get("role") == "before" else "after"
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
