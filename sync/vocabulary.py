"""The words of PROTOCOL.md's task workflow: statuses, roles, kinds, op types, transitions.

Owns the fixed vocabulary every other rule module speaks (`sync.validation`, `sync.scopes`,
`sync.decision`), and the two shapes the rules take as input: `Actor` (who acts or reads) and
`World` (what the caller's storage answers). No functions with rules live here, so that this
module imports nothing from the rest of `sync`.

Invariants kept here:
- `OP_TYPES` is the keys of `OP_ROLES`; `TRANSITIONS` has every op type but `task.create`
  (the task does not exist yet); `ASSIGNEE_OPS` and `VERSIONED_OPS` are subsets of them.
- `ACTIVE` (the first eight statuses) and `FINAL` (the three a task ends in) split
  `STATUSES` in two.

Runs on Python 3.9+ (it is carried inside the QGIS plugin); standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Optional, Protocol, Tuple

STATUSES: Tuple[str, ...] = (
    "reported",
    "open",
    "assigned",
    "declined",
    "in_progress",
    "paused",
    "submitted",
    "rework",
    "closed",
    "canceled",
    "invalid",
)
ACTIVE: FrozenSet[str] = frozenset(STATUSES[:8])
FINAL: FrozenSet[str] = frozenset(("closed", "canceled", "invalid"))
PRIORITIES: Tuple[str, ...] = ("urgent", "high", "normal", "low")
SOURCES: Tuple[str, ...] = ("camera", "citizen", "hotline", "patrol", "office")
KINDS: Tuple[str, ...] = (
    "litter",
    "bike_parking",
    "illegal_drying",
    "waterlogging",
    "streetlight_out",
    "manhole_damaged",
    "other",
)
ROLES: Tuple[str, ...] = ("worker", "dispatcher", "supervisor", "admin")
OFFICE_ROLES: FrozenSet[str] = frozenset(("dispatcher", "supervisor", "admin"))
PHOTO_ROLES: Tuple[str, ...] = ("before", "after", "evidence")
TRIAGE_DECISIONS: Tuple[str, ...] = ("accept", "invalid", "duplicate")

# Who may send each op type: the roles, and whether the sender must be the task's assignee.
OP_ROLES: Dict[str, FrozenSet[str]] = {
    "task.create": frozenset(ROLES),
    "task.triage": frozenset(("dispatcher", "supervisor", "admin")),
    "task.claim": frozenset(("worker",)),
    "task.assign": frozenset(("dispatcher", "supervisor", "admin")),
    "task.update": frozenset(("dispatcher", "supervisor", "admin")),
    "task.decline": frozenset(("worker",)),
    "task.start": frozenset(("worker",)),
    "task.pause": frozenset(("worker",)),
    "task.resume": frozenset(("worker",)),
    "task.submit": frozenset(("worker",)),
    "task.confirm": frozenset(("supervisor", "admin")),
    "task.reject": frozenset(("supervisor", "admin")),
    "task.cancel": frozenset(("dispatcher", "supervisor", "admin")),
    "task.reopen": frozenset(("supervisor", "admin")),
    "task.comment": frozenset(ROLES),
}
ASSIGNEE_OPS: FrozenSet[str] = frozenset(
    ("task.decline", "task.start", "task.pause", "task.resume", "task.submit")
)
# Office edits that honour `base_version`.
VERSIONED_OPS: FrozenSet[str] = frozenset(("task.update", "task.assign", "task.cancel"))
# op type -> statuses it may start from (create has none: the task does not exist yet).
TRANSITIONS: Dict[str, FrozenSet[str]] = {
    "task.triage": frozenset(("reported",)),
    "task.claim": frozenset(("open",)),
    "task.assign": frozenset(("open", "assigned", "declined", "in_progress", "paused", "rework")),
    "task.update": ACTIVE,
    "task.decline": frozenset(("assigned",)),
    "task.start": frozenset(("assigned", "rework")),
    "task.pause": frozenset(("in_progress",)),
    "task.resume": frozenset(("paused",)),
    "task.submit": frozenset(("assigned", "in_progress", "rework")),
    "task.confirm": frozenset(("submitted",)),
    "task.reject": frozenset(("submitted",)),
    "task.cancel": ACTIVE,
    "task.reopen": frozenset(("closed",)),
    "task.comment": frozenset(STATUSES),
}
OP_TYPES: FrozenSet[str] = frozenset(OP_ROLES)
# The task object of PROTOCOL.md: its plain fields, then the lists it carries.
TASK_FIELDS: Tuple[str, ...] = (
    "id",
    "kind",
    "title",
    "description",
    "status",
    "priority",
    "lon",
    "lat",
    "grid_code",
    "street_code",
    "assignee_id",
    "reporter_id",
    "source",
    "incident_id",
    "due_at",
    "created_at",
    "updated_at",
    "version",
)
TASK_JSON_FIELDS: Tuple[str, ...] = ("photos", "history", "conflicts")

PATROL_SELF_FIX_RADIUS_M = 50.0
# The hub's own actor id: automatic transitions (camera dispatch, auto-close, reopen) are
# recorded under it (PROTOCOL.md "Tasks": history entries with `actor_id: "system"`).
SYSTEM_ID = "system"


@dataclass(frozen=True)
class Actor:
    """Who sends an op or reads: enough of a user to decide scope and permission."""

    id: str
    role: str  # one of ROLES
    street_code: Optional[str]  # None only for admins
    grid_codes: FrozenSet[str] = field(default_factory=frozenset)  # a worker's grids


class World(Protocol):
    """What `decide()` needs to know beyond the task itself; the caller's storage answers."""

    def locate(self, lon: float, lat: float) -> Optional[Tuple[str, str]]:
        """(grid_code, street_code) of the grid holding the point, or None."""

    def near_grids(self, lon: float, lat: float, grid_codes: FrozenSet[str], meters: float) -> bool:
        """True when the point is inside, or within `meters` of, one of these grids."""

    def user(self, user_id: str) -> Optional[Dict[str, Any]]:
        """The user's `id, role, street_code, grid_codes`, or None if unknown."""
