"""The task list: three tabs (to do / sent / done), marks, distance from me, sort order.

Reads the replica through a read-only connection of its own (WAL: it sees whole committed
transactions only, never a page the sync thread is applying) and only the columns a row
shows, so a list of a thousand tasks is built in a few milliseconds.

Tabs partition the tasks a worker sees:
- to do: open tasks of my grids (to claim) and tasks assigned to me that are not finished
  (assigned, in progress, paused, rework);
- sent: what I handed on and wait for (submitted, my patrol reports, declined, and tasks
  that now belong to someone else);
- done: closed, canceled, invalid.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional, Tuple

from sync import model

from ..i18n import KIND_LABELS, PRIORITY_LABELS, STATUS_LABELS, label, tr
from . import display

TABS: Tuple[str, ...] = ("todo", "sent", "done")
TAB_LABELS = {"todo": "To do", "sent": "Sent", "done": "Done"}
SORTS: Tuple[str, ...] = ("priority", "distance", "due")
SORT_LABELS = {"priority": "By priority", "distance": "Nearest first", "due": "By due time"}
MY_WORK = frozenset(("assigned", "in_progress", "paused", "rework"))
_PRIORITY_RANK = {p: n for n, p in enumerate(model.PRIORITIES)}


@dataclass
class TaskRow:
    """One line of the list, ready to show."""

    id: str
    title: str
    kind_label: str
    status: str
    status_label: str
    priority: str
    priority_label: str
    overdue: bool
    due_text: str
    distance_m: Optional[float]
    distance_text: str
    pending: int  # this device's ops on it not yet answered by the hub
    claimable: bool
    due_at: Optional[str]


@dataclass
class StatusLine:
    """What the list's header says about syncing."""

    ops_waiting: int
    photos_waiting: int
    unseen_refusals: int
    last_sync_at: Optional[str]

    def text(self) -> str:
        parts = []
        if self.ops_waiting or self.photos_waiting:
            parts.append(
                tr(
                    "{ops} waiting to send ({photos} photos)",
                    ops=self.ops_waiting,
                    photos=self.photos_waiting,
                )
            )
        else:
            parts.append(tr("Everything sent"))
        if self.last_sync_at:
            parts.append(tr("last sync {time}", time=display.local_time(self.last_sync_at)))
        else:
            parts.append(tr("never synced"))
        return " · ".join(parts)


def tab_of(status: str, assignee_id: Optional[str], me: str) -> str:
    if status in model.FINAL:
        return "done"
    if status == "open" or (status in MY_WORK and assignee_id == me):
        return "todo"
    return "sent"


class TaskListPresenter:
    """Builds the rows of each tab from a replica file."""

    def __init__(self, replica_path: str, me_id: str) -> None:
        self.me_id = me_id
        self.conn = sqlite3.connect(
            f"file:{replica_path}?mode=ro", uri=True, check_same_thread=False
        )

    def close(self) -> None:
        self.conn.close()

    def rows(
        self,
        tab: str,
        position: Optional[Tuple[float, float]] = None,
        sort: str = "priority",
        now: Optional[datetime] = None,
    ) -> List[TaskRow]:
        """The tab's rows in the chosen order. Read-only."""
        if tab not in TABS:
            raise ValueError(f"unknown tab {tab!r}")
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}")
        now = now or display.utc_now()
        words: Dict[Tuple[int, Optional[str]], str] = {}  # labels, each looked up once

        def word(table: Dict[str, str], key: Optional[str]) -> str:
            known = words.get((id(table), key))
            if known is None:
                known = words[(id(table), key)] = label(table, key)
            return known

        out: List[TaskRow] = []
        query = (
            "SELECT id, kind, title, status, priority, lon, lat, due_at, pending, assignee_id "
            "FROM tasks"
        )
        for (
            tid,
            kind,
            title,
            status,
            priority,
            lon,
            lat,
            due_at,
            pending,
            assignee,
        ) in self.conn.execute(query):
            if tab_of(status, assignee, self.me_id) != tab:
                continue
            meters = None
            if position is not None and lon is not None and lat is not None:
                meters = display.distance_m(position[0], position[1], lon, lat)
            active = status in model.ACTIVE and status not in ("submitted", "reported")
            due = display.parse(due_at)
            out.append(
                TaskRow(
                    id=tid,
                    title=title or word(KIND_LABELS, kind),
                    kind_label=word(KIND_LABELS, kind),
                    status=status,
                    status_label=word(STATUS_LABELS, status),
                    priority=priority or "normal",
                    priority_label=word(PRIORITY_LABELS, priority or "normal"),
                    overdue=active and due is not None and due < now,
                    due_text=display.local_text(due, now),
                    distance_m=meters,
                    distance_text=display.distance_text(meters),
                    pending=int(pending or 0),
                    claimable=status == "open",
                    due_at=due_at,
                )
            )
        out.sort(key=_sort_key(sort))
        return out

    def counts(self) -> Dict[str, int]:
        counts = dict.fromkeys(TABS, 0)
        for status, assignee in self.conn.execute("SELECT status, assignee_id FROM tasks"):
            counts[tab_of(status, assignee, self.me_id)] += 1
        return counts

    def status_line(self) -> StatusLine:
        one = self.conn.execute
        return StatusLine(
            ops_waiting=int(one("SELECT COUNT(*) FROM outbox").fetchone()[0]),
            photos_waiting=int(one("SELECT COUNT(*) FROM photos WHERE uploaded = 0").fetchone()[0]),
            unseen_refusals=int(one("SELECT COUNT(*) FROM refusals WHERE seen = 0").fetchone()[0]),
            last_sync_at=(
                one("SELECT value FROM sync_state WHERE key = 'last_pull_at'").fetchone() or [None]
            )[0],
        )


def _sort_key(sort: str):  # type: ignore[no-untyped-def]
    far = float("inf")
    if sort == "distance":
        return lambda r: (r.distance_m if r.distance_m is not None else far, r.due_at or "~")
    if sort == "due":
        return lambda r: (r.due_at or "~", _PRIORITY_RANK.get(r.priority, 9))
    return lambda r: (
        not r.overdue,
        _PRIORITY_RANK.get(r.priority, 9),
        r.due_at or "~",
    )
