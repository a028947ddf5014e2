"""The task list: tabs, marks, distance, sort; sync button, offline banner, what waits.

The rows come from `core.tasklist.TaskListPresenter`; the RecycleView only makes widgets
for the rows on screen, so a thousand tasks scroll smoothly.
"""

from __future__ import annotations

from typing import Any, Dict, List

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from ..core import captures
from ..core.tasklist import SORTS, TABS
from ..i18n import tr


class TaskRowView(ButtonBehavior, BoxLayout):
    """One row; its properties are the keys of the data dicts below."""

    task_id = StringProperty("")
    title = StringProperty("")
    line2 = StringProperty("")
    line3 = StringProperty("")
    priority = StringProperty("normal")
    overdue = BooleanProperty(False)
    pending = NumericProperty(0)
    badge = StringProperty("")

    def on_release(self) -> None:
        App.get_running_app().screen("tasks").open_task(self.task_id)


class TasksScreen(Screen):
    tab = StringProperty("todo")
    sort = StringProperty("priority")
    todo_count = NumericProperty(0)
    sent_count = NumericProperty(0)
    done_count = NumericProperty(0)
    status_text = StringProperty("")
    refusals = NumericProperty(0)
    empty_text = StringProperty("")

    def refresh(self) -> None:
        app = App.get_running_app()
        if app.tasklist is None:
            return
        fix = app.position()
        position = (fix.lon, fix.lat) if fix is not None else None
        rows = app.tasklist.rows(self.tab, position, self.sort)
        self.ids.list.data = [self._row_data(r) for r in rows]
        counts = app.tasklist.counts()
        self.todo_count, self.sent_count, self.done_count = (counts[t] for t in TABS)
        line = app.tasklist.status_line()
        self.status_text = line.text()
        self.refusals = line.unseen_refusals
        self.empty_text = "" if rows else tr("Nothing here")
        if app.replica is not None:
            app.recovered_photos = len(captures.for_patrol(app.replica))

    @staticmethod
    def _row_data(row: Any) -> Dict[str, Any]:
        bits: List[str] = [row.kind_label, row.status_label]
        if row.due_text:
            bits.append(tr("due {time}", time=row.due_text))
        line3: List[str] = []
        if row.overdue:
            line3.append("⚠ " + tr("Overdue"))
        if row.priority in ("urgent", "high"):
            line3.append(row.priority_label)
        if row.distance_text:
            line3.append(row.distance_text)
        if row.claimable:
            line3.append(tr("Open: you can claim it"))
        return {
            "task_id": row.id,
            "title": row.title,
            "line2": " · ".join(bits),
            "line3": " · ".join(line3),
            "priority": row.priority,
            "overdue": row.overdue,
            "pending": row.pending,
            "badge": tr("Waiting to send") if row.pending else "",
        }

    def set_tab(self, tab: str) -> None:
        self.tab = tab
        self.refresh()

    def next_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.refresh()

    def open_task(self, task_id: str) -> None:
        app = App.get_running_app()
        app.current_task_id = task_id
        app.go("detail")

    def on_position(self, _fix: Any) -> None:
        if self.sort == "distance" or self.tab == "todo":
            self.refresh()


SCREEN_CLASS = TasksScreen
