"""The Tasks dock's model, without its widgets: the replica's tasks as a Qt table, the
filter the dock's controls set, and the workers an assignment can go to.

`TaskTableModel.reload(replica)` reads the tasks (`Replica.tasks()`, most urgent first) and
the street's users; the table is read-only (every change goes through a replica action and
a reload). `TaskFilter.accepts(task, now)` is a pure function of one task, used by
`TaskFilterProxy` and by tests alike. Labels are translated in the "GridOps" context (the
English source strings; Chinese in `i18n/gridops_zh_CN.ts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, FrozenSet, List, Optional, Sequence

from qgis.PyQt.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
)
from qgis.PyQt.QtGui import QBrush, QColor

from sync import model

TASK_ID_ROLE = Qt.UserRole + 1
COLUMNS = (
    "title",
    "kind",
    "status",
    "priority",
    "grid",
    "assignee",
    "due",
    "overdue",
    "pending",
)


def kind_labels() -> Dict[str, str]:
    """Task kinds as users read them (translated)."""
    return {
        "litter": QCoreApplication.translate("GridOps", "Litter"),
        "bike_parking": QCoreApplication.translate("GridOps", "Bike parking"),
        "illegal_drying": QCoreApplication.translate("GridOps", "Street-side drying"),
        "waterlogging": QCoreApplication.translate("GridOps", "Waterlogging"),
        "streetlight_out": QCoreApplication.translate("GridOps", "Streetlight out"),
        "manhole_damaged": QCoreApplication.translate("GridOps", "Damaged manhole cover"),
        "other": QCoreApplication.translate("GridOps", "Other"),
    }


def component_kind_labels() -> Dict[str, str]:
    """Twin component kinds as users read them (translated)."""
    return {
        "streetlight": QCoreApplication.translate("GridOps", "Streetlight"),
        "hydrant": QCoreApplication.translate("GridOps", "Hydrant"),
        "manhole": QCoreApplication.translate("GridOps", "Manhole"),
        "litter_bin": QCoreApplication.translate("GridOps", "Litter bin"),
        "camera": QCoreApplication.translate("GridOps", "Camera"),
        "electrical_box": QCoreApplication.translate("GridOps", "Electrical box"),
        "bus_stop": QCoreApplication.translate("GridOps", "Bus stop"),
        "bike_rack": QCoreApplication.translate("GridOps", "Bike rack"),
    }


# The task kind a problem at a twin component most likely is ("other" when none fits).
TASK_KIND_FOR_COMPONENT = {
    "streetlight": "streetlight_out",
    "manhole": "manhole_damaged",
    "litter_bin": "litter",
    "bike_rack": "bike_parking",
}


def status_labels() -> Dict[str, str]:
    """Task statuses as users read them (translated)."""
    return {
        "reported": QCoreApplication.translate("GridOps", "Reported"),
        "open": QCoreApplication.translate("GridOps", "Open"),
        "assigned": QCoreApplication.translate("GridOps", "Assigned"),
        "declined": QCoreApplication.translate("GridOps", "Declined"),
        "in_progress": QCoreApplication.translate("GridOps", "In progress"),
        "paused": QCoreApplication.translate("GridOps", "Paused"),
        "submitted": QCoreApplication.translate("GridOps", "Submitted"),
        "rework": QCoreApplication.translate("GridOps", "Rework"),
        "closed": QCoreApplication.translate("GridOps", "Closed"),
        "canceled": QCoreApplication.translate("GridOps", "Canceled"),
        "invalid": QCoreApplication.translate("GridOps", "Invalid"),
    }


def priority_labels() -> Dict[str, str]:
    """Priorities as users read them (translated)."""
    return {
        "urgent": QCoreApplication.translate("GridOps", "Urgent"),
        "high": QCoreApplication.translate("GridOps", "High"),
        "normal": QCoreApplication.translate("GridOps", "Normal"),
        "low": QCoreApplication.translate("GridOps", "Low"),
    }


def source_labels() -> Dict[str, str]:
    """Where a task came from (translated)."""
    return {
        "camera": QCoreApplication.translate("GridOps", "Camera"),
        "citizen": QCoreApplication.translate("GridOps", "Citizen"),
        "hotline": QCoreApplication.translate("GridOps", "Hotline call"),
        "patrol": QCoreApplication.translate("GridOps", "Patrol"),
        "office": QCoreApplication.translate("GridOps", "Office"),
    }


def column_titles() -> List[str]:
    return [
        QCoreApplication.translate("GridOps", "Title"),
        QCoreApplication.translate("GridOps", "Kind"),
        QCoreApplication.translate("GridOps", "Status"),
        QCoreApplication.translate("GridOps", "Priority"),
        QCoreApplication.translate("GridOps", "Grid"),
        QCoreApplication.translate("GridOps", "Assignee"),
        QCoreApplication.translate("GridOps", "Due"),
        QCoreApplication.translate("GridOps", "Overdue"),
        QCoreApplication.translate("GridOps", "Pending"),
    ]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def is_overdue(task: Dict[str, Any], now: datetime) -> bool:
    """An active task whose due time has passed."""
    due = model.parse_time(task.get("due_at"))
    return due is not None and task.get("status") in model.ACTIVE and due < now


def local_time_text(value: Optional[str]) -> str:
    """An ISO time as local `YYYY-MM-DD HH:MM`, or "" when there is none."""
    parsed = model.parse_time(value)
    return parsed.astimezone().strftime("%Y-%m-%d %H:%M") if parsed else ""


@dataclass(frozen=True)
class TaskFilter:
    """What the dock's filter controls ask for; an empty field matches every task."""

    statuses: FrozenSet[str] = frozenset()
    grid: str = ""
    assignee_id: str = ""
    kind: str = ""
    overdue_only: bool = False
    text: str = ""

    def accepts(self, task: Dict[str, Any], now: datetime) -> bool:
        """Pure: whether `task` passes every set field. `text` is searched, ignoring case,
        in the title, the description and the id."""
        if self.statuses and task.get("status") not in self.statuses:
            return False
        if self.grid and task.get("grid_code") != self.grid:
            return False
        if self.assignee_id and task.get("assignee_id") != self.assignee_id:
            return False
        if self.kind and task.get("kind") != self.kind:
            return False
        if self.overdue_only and not is_overdue(task, now):
            return False
        needle = self.text.strip().lower()
        if needle:
            haystack = " ".join(
                str(task.get(key) or "") for key in ("title", "description", "id")
            ).lower()
            if needle not in haystack:
                return False
        return True


def filter_tasks(
    tasks: Sequence[Dict[str, Any]], task_filter: TaskFilter, now: Optional[datetime] = None
) -> List[Dict[str, Any]]:
    moment = now or utc_now()
    return [t for t in tasks if task_filter.accepts(t, moment)]


def read_users(replica: Any) -> List[Dict[str, Any]]:
    """The street's users as last pulled into the replica (read-only)."""
    users = []
    for row in replica.conn.execute("SELECT * FROM users ORDER BY username"):
        user = dict(row)
        user["grid_codes"] = json.loads(user.get("grid_codes") or "[]")
        users.append(user)
    return users


@dataclass
class Worker:
    """A worker an assignment can go to, with their grids and active task count."""

    id: str
    name: str
    grid_codes: List[str] = field(default_factory=list)
    load: int = 0


def workers_with_load(
    users: Sequence[Dict[str, Any]], tasks: Sequence[Dict[str, Any]]
) -> List[Worker]:
    """The workers among `users`, each with the number of active tasks assigned to them."""
    load: Dict[str, int] = {}
    for task in tasks:
        if task.get("assignee_id") and task.get("status") in model.ACTIVE:
            load[task["assignee_id"]] = load.get(task["assignee_id"], 0) + 1
    return [
        Worker(
            u["id"],
            u.get("display_name") or u.get("username") or u["id"],
            list(u.get("grid_codes") or []),
            load.get(u["id"], 0),
        )
        for u in users
        if u.get("role") == "worker"
    ]


def suggest_worker(workers: Sequence[Worker], tasks: Sequence[Dict[str, Any]]) -> Optional[str]:
    """The worker of the tasks' grid (the grid most of them are in), the least loaded first;
    None when no worker has that grid."""
    counts: Dict[str, int] = {}
    for task in tasks:
        if task.get("grid_code"):
            counts[task["grid_code"]] = counts.get(task["grid_code"], 0) + 1
    for grid in sorted(counts, key=lambda g: -counts[g]):
        own = [w for w in workers if grid in w.grid_codes]
        if own:
            return min(own, key=lambda w: (w.load, w.name)).id
    return None


class TaskTableModel(QAbstractTableModel):
    """The replica's tasks, one row each, in the replica's order (most urgent first)."""

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.tasks: List[Dict[str, Any]] = []
        self.users: List[Dict[str, Any]] = []
        self._names: Dict[str, str] = {}
        self._now = utc_now()

    def reload(self, replica: Any) -> None:
        """Re-reads tasks and users from `replica`."""
        self.set_tasks(replica.tasks(), read_users(replica))

    def set_tasks(
        self, tasks: List[Dict[str, Any]], users: Optional[List[Dict[str, Any]]] = None
    ) -> None:
        self.beginResetModel()
        self.tasks = list(tasks)
        if users is not None:
            self.users = list(users)
        self._names = {
            u["id"]: u.get("display_name") or u.get("username") or u["id"] for u in self.users
        }
        self._now = utc_now()
        self.endResetModel()

    def task(self, row: int) -> Dict[str, Any]:
        return self.tasks[row]

    def row_of(self, task_id: str) -> int:
        for row, task in enumerate(self.tasks):
            if task["id"] == task_id:
                return row
        return -1

    def user_name(self, user_id: Optional[str]) -> str:
        return self._names.get(user_id or "", user_id or "")

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.tasks)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return column_titles()[section]
        return None

    def text(self, task: Dict[str, Any], column: str) -> str:
        if column == "title":
            return task.get("title") or task["id"][:8]
        if column == "kind":
            return kind_labels().get(task.get("kind") or "", task.get("kind") or "")
        if column == "status":
            return status_labels().get(task.get("status") or "", task.get("status") or "")
        if column == "priority":
            return priority_labels().get(task.get("priority") or "", task.get("priority") or "")
        if column == "grid":
            return task.get("grid_code") or ""
        if column == "assignee":
            return self.user_name(task.get("assignee_id"))
        if column == "due":
            return local_time_text(task.get("due_at"))
        if column == "overdue":
            return "⚠" if is_overdue(task, self._now) else ""
        if column == "pending":
            return str(task.get("pending") or "") if task.get("pending") else ""
        return ""

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid():
            return None
        task = self.tasks[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.DisplayRole:
            return self.text(task, column)
        if role == TASK_ID_ROLE:
            return task["id"]
        if role == Qt.ToolTipRole and column == "title":
            return task.get("description") or task.get("title") or ""
        if role == Qt.ForegroundRole:
            if column == "overdue" or (column == "priority" and task.get("priority") == "urgent"):
                return QBrush(QColor("#c62828"))
        if role == Qt.TextAlignmentRole and column in ("overdue", "pending"):
            return int(Qt.AlignCenter)
        return None


class TaskFilterProxy(QSortFilterProxyModel):
    """The rows of a `TaskTableModel` that pass a `TaskFilter`."""

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.task_filter = TaskFilter()
        self._now = utc_now()

    def set_filter(self, task_filter: TaskFilter) -> None:
        self.task_filter = task_filter
        self._now = utc_now()
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:
        source = self.sourceModel()
        if not isinstance(source, TaskTableModel):
            return True
        return self.task_filter.accepts(source.task(source_row), self._now)
