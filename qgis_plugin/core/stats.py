"""Statistics per grid, read from the plugin's replica GeoPackage (no Qt, no QGIS).

The figures, one definition each (the dock, the Processing layer and the tests share them):

- `open`: tasks in an active status (`sync.model.ACTIVE`: reported … rework), i.e. neither
  closed nor canceled nor invalid;
- `overdue`: open tasks whose `due_at` is before `now`;
- `closed_week`: tasks that are closed now and were closed in the last 7 days — a rolling
  window of 7 × 24 h before `now`, not the ISO week, so that a Monday morning does not read
  zero and the figure does not depend on the office's time zone;
- `median_close_h`: the median, in hours, of `closed − created_at` over those same tasks
  (None when there are none), so the two figures always describe the same tasks.

A task's closing time is the hub's `server_at` of the last `task.confirm` in its history, or
its `updated_at` when there is none (a closed task takes no further field changes until it is
reopened, so `updated_at` is then the closing time too).

Totals add the rows up, except the median, which is taken over every task in the window (a
median of medians would be wrong). A task whose grid is not in the replica's `grids` table (a
grid the hub has since removed) gets a row of its own, so nothing is silently left out and
the totals are always the sum of the rows.

Everything here only reads; `open_replica()` opens the file read-only, so it can run on a
Processing thread beside the plugin's own connection.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from sync import model

WINDOW = timedelta(days=7)
CLOSING_OPS = frozenset(("task.confirm",))
# The fields of a statistics row, in the order the Processing layer writes them.
FIELDS = (
    "code",
    "name",
    "street_code",
    "worker",
    "open",
    "overdue",
    "closed_week",
    "median_close_h",
)
WORKER_SEPARATOR = "、"


@dataclass
class GridStats:
    """The four figures of one grid (or of the whole replica, for the totals row)."""

    code: str  # grid code; "" for the totals row
    name: str  # the grid's name as the hub has it
    street_code: str
    worker: str  # display names of the grid's workers, joined by "、"
    open: int = 0
    overdue: int = 0
    closed_week: int = 0
    median_close_h: Optional[float] = None
    close_hours: List[float] = field(default_factory=list, repr=False)  # the median's inputs

    def values(self) -> Dict[str, Any]:
        """The row as `FIELDS` name it."""
        return {name: getattr(self, name) for name in FIELDS}


@dataclass
class StatsTable:
    """One row per grid (by code) and the totals row."""

    rows: List[GridStats]
    total: GridStats
    now: datetime


def open_replica(path: str) -> sqlite3.Connection:
    """A read-only connection to the replica at `path` (rows as `sqlite3.Row`).

    Raises FileNotFoundError when there is no such file, ValueError when it is not a GridOps
    replica (no `tasks` or `grids` table)."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no replica at {path}")
    conn = sqlite3.connect(file.absolute().as_uri() + "?mode=ro", uri=True, timeout=30.0)
    conn.row_factory = sqlite3.Row
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ValueError(f"{path} is not a GridOps replica: {exc}") from None
    missing = {"tasks", "grids", "users"} - tables
    if missing:
        conn.close()
        raise ValueError(f"{path} is not a GridOps replica (no {', '.join(sorted(missing))})")
    return conn


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def read_tasks(conn: sqlite3.Connection) -> List[Dict[str, Any]]:
    """Every task of the replica as the device shows it, `history` parsed. Read-only."""
    out = []
    for row in conn.execute("SELECT * FROM tasks ORDER BY created_at, id"):
        task = {k: row[k] for k in model.TASK_FIELDS}
        for key in model.TASK_JSON_FIELDS:
            task[key] = json.loads(row[key] or "[]")
        out.append(task)
    return out


def read_stat_tasks(conn: sqlite3.Connection) -> List[Dict[str, Any]]:
    """What the figures need of every task (the history only of closed ones, the one place it
    is read), lighter than `read_tasks` for a street's years of tasks. Read-only."""
    out = []
    sql = (
        "SELECT id, status, grid_code, street_code, due_at, created_at, updated_at, "
        "CASE WHEN status = 'closed' THEN history END AS history FROM tasks"
    )
    for row in conn.execute(sql):
        task = dict(row)
        task["history"] = json.loads(task["history"] or "[]")
        out.append(task)
    return out


def read_grids(conn: sqlite3.Connection) -> List[Dict[str, Any]]:
    """The grids (`code, name, street_code, worker_ids`), by code. Read-only."""
    return [
        {
            "code": row["code"],
            "name": row["name"] or "",
            "street_code": row["street_code"] or "",
            "worker_ids": json.loads(row["worker_ids"] or "[]"),
        }
        for row in conn.execute(
            "SELECT code, name, street_code, worker_ids FROM grids ORDER BY code"
        )
    ]


def user_names(conn: sqlite3.Connection) -> Dict[str, str]:
    """User id → the name people read (display name, else username). Read-only."""
    return {
        row["id"]: row["display_name"] or row["username"] or row["id"]
        for row in conn.execute("SELECT id, username, display_name FROM users")
    }


def closed_at(task: Dict[str, Any]) -> Optional[datetime]:
    """When a closed task was closed (see the module's docstring); None if it is not closed
    or no time is known."""
    if task.get("status") != "closed":
        return None
    for entry in reversed(task.get("history") or []):
        if isinstance(entry, dict) and entry.get("type") in CLOSING_OPS:
            when = model.parse_time(entry.get("server_at")) or model.parse_time(entry.get("at"))
            if when is not None:
                return when
    return model.parse_time(task.get("updated_at"))


def is_open(task: Dict[str, Any]) -> bool:
    return task.get("status") in model.ACTIVE


def is_overdue(task: Dict[str, Any], now: datetime) -> bool:
    due = model.parse_time(task.get("due_at"))
    return is_open(task) and due is not None and due < now


def close_hours(task: Dict[str, Any], now: datetime) -> Optional[float]:
    """Hours from creation to closing when the task was closed within the window before
    `now`; None otherwise."""
    closed = closed_at(task)
    created = model.parse_time(task.get("created_at"))
    if closed is None or created is None or not (now - WINDOW <= closed <= now):
        return None
    return (closed - created).total_seconds() / 3600.0


def _add(row: GridStats, task: Dict[str, Any], now: datetime) -> None:
    if is_open(task):
        row.open += 1
        if is_overdue(task, now):
            row.overdue += 1
    hours = close_hours(task, now)
    if hours is not None:
        row.closed_week += 1
        row.close_hours.append(hours)


def _finish(row: GridStats) -> GridStats:
    row.median_close_h = statistics.median(row.close_hours) if row.close_hours else None
    return row


def compute(
    grids: Iterable[Dict[str, Any]],
    tasks: Iterable[Dict[str, Any]],
    names: Optional[Dict[str, str]] = None,
    now: Optional[datetime] = None,
) -> StatsTable:
    """The statistics table of these grids and tasks at `now` (default: the current time).
    Pure: reads nothing but its arguments."""
    now = now or utc_now()
    names = names or {}
    rows: Dict[str, GridStats] = {}
    for grid in grids:
        workers = [names.get(w, w) for w in grid.get("worker_ids") or []]
        rows[grid["code"]] = GridStats(
            grid["code"],
            grid.get("name") or "",
            grid.get("street_code") or "",
            WORKER_SEPARATOR.join(workers),
        )
    total = GridStats("", "", "", "")
    for task in tasks:
        code = task.get("grid_code") or ""
        row = rows.get(code)
        if row is None:  # a grid no longer in the replica: its own row, never dropped
            row = rows[code] = GridStats(code, "", task.get("street_code") or "", "")
        _add(row, task, now)
        _add(total, task, now)
    ordered = [_finish(rows[code]) for code in sorted(rows)]
    return StatsTable(ordered, _finish(total), now)


def replica_stats(conn: sqlite3.Connection, now: Optional[datetime] = None) -> StatsTable:
    """`compute()` over the grids, tasks and users of a replica connection. Read-only."""
    return compute(read_grids(conn), read_stat_tasks(conn), user_names(conn), now)


def stats_of_file(path: str, now: Optional[datetime] = None) -> StatsTable:
    """`replica_stats()` of the replica file at `path`, opened read-only and closed after."""
    conn = open_replica(path)
    try:
        return replica_stats(conn, now)
    finally:
        conn.close()
