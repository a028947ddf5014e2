"""The task workflow of PROTOCOL.md as pure functions: states, roles, scopes, validation.

This module owns every rule about tasks, so that the hub, the QGIS plugin and the field app
refuse the same things for the same reasons (the devices refuse offline what the hub would
refuse for a reason known offline). It does no I/O: what it needs to know about the world
(which grid holds a point, who a user is) comes in through a `World` object that the caller
implements over its own storage.

Invariants kept here:
- `decide()` checks an op in PROTOCOL.md's order: `not_found`, `invalid_payload`,
  `outside_grids`, `forbidden`, `not_assignee`, `conflict`, `invalid_transition`; the first
  failing check answers.
- An applied op returns a new task dict; the input task is never mutated.
- `version` grows by one for each applied op that changes a field or the status; a comment
  only adds to `history`.

Runs on Python 3.9+ (it is carried inside the QGIS plugin); standard library only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, FrozenSet, List, Optional, Protocol, Tuple

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
MAX_TEXT = 4000
MAX_TITLE = 200
MAX_PHOTOS_PER_OP = 20
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")  # \Z: "$" would also accept a trailing newline
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}\Z")


class OpError(Exception):
    """A refusal with a PROTOCOL.md code (`invalid_payload`, `forbidden`, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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


@dataclass
class Decision:
    """What the hub (or a device, offline) does with one op."""

    status: str  # "applied" or "rejected"
    code: Optional[str] = None
    message: Optional[str] = None
    task: Optional[Dict[str, Any]] = None  # the task after an applied op
    photos: List[Dict[str, Any]] = field(default_factory=list)  # photo items the op attaches


# ---------------------------------------------------------------------------------------
# Scope


def can_see_task(actor: Actor, task: Dict[str, Any]) -> bool:
    """PROTOCOL.md's scope: may this actor see this task at all."""
    if actor.role == "admin":
        return True
    if actor.role in OFFICE_ROLES:
        return task.get("street_code") == actor.street_code
    if task.get("assignee_id") == actor.id or task.get("reporter_id") == actor.id:
        return True
    return (
        task.get("status") == "open"
        and not task.get("assignee_id")
        and task.get("grid_code") in actor.grid_codes
    )


def task_audience(task: Dict[str, Any]) -> FrozenSet[str]:
    """Feed keys of everyone who may see the task as it stands (admins see all anyway).

    `s:<street>` the street office, `u:<user>` a worker by id, `g:<grid>` the workers of
    a grid (for unassigned open tasks). A change is logged under the keys of the task
    before and after it, so that whoever loses sight of a task is told (`remove`).
    """
    keys = {"s:" + str(task.get("street_code"))}
    if task.get("assignee_id"):
        keys.add("u:" + task["assignee_id"])
    if task.get("reporter_id"):
        keys.add("u:" + task["reporter_id"])
    if task.get("status") == "open" and not task.get("assignee_id"):
        keys.add("g:" + str(task.get("grid_code")))
    return frozenset(keys)


def actor_feed_keys(actor: Actor) -> Optional[FrozenSet[str]]:
    """The feed keys an actor reads; None means everything (admin)."""
    if actor.role == "admin":
        return None
    if actor.role in OFFICE_ROLES:
        street = str(actor.street_code)
        return frozenset(("s:" + street, "r:" + street, "ts:" + street))
    keys = {"u:" + actor.id, "r:" + str(actor.street_code)}
    for grid in actor.grid_codes:
        keys.add("g:" + grid)
        keys.add("t:" + grid)
    return frozenset(keys)


def reference_audience(street_code: str) -> FrozenSet[str]:
    """Feed keys for a street's users and grids (everyone of that street sees them)."""
    return frozenset(("r:" + street_code,))


def twin_audience(grid_code: Optional[str], street_code: Optional[str]) -> FrozenSet[str]:
    """Feed keys for a twin feature: the grid's workers and the street office."""
    keys = set()
    if grid_code:
        keys.add("t:" + grid_code)
    if street_code:
        keys.add("ts:" + street_code)
    return frozenset(keys)


def can_see_twin(actor: Actor, grid_code: Optional[str], street_code: Optional[str]) -> bool:
    if actor.role == "admin":
        return True
    if actor.role in OFFICE_ROLES:
        return street_code is not None and street_code == actor.street_code
    return grid_code is not None and grid_code in actor.grid_codes


def can_see_street(actor: Actor, street_code: Optional[str]) -> bool:
    """Users and grids of a street: visible to anyone of that street, and to admins."""
    return actor.role == "admin" or (street_code is not None and street_code == actor.street_code)


# ---------------------------------------------------------------------------------------
# Validation of values


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def is_uuid(value: Any) -> bool:
    """A UUID in its canonical 36-character text form."""
    return isinstance(value, str) and _UUID.match(value) is not None


def is_code(value: Any) -> bool:
    """Stable text codes of users, streets and grids: letters, digits, `_ . -`."""
    return isinstance(value, str) and bool(_CODE.match(value))


def parse_time(value: Any) -> Optional[datetime]:
    """An ISO 8601 time with a zone, or None if it is not one."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed


def check_lon_lat(lon: Any, lat: Any) -> Tuple[float, float]:
    """Both must be finite numbers within WGS 84 ranges; raises `invalid_payload`."""
    for name, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OpError("invalid_payload", f"{name} must be a number")
        if isinstance(value, int) and abs(value) > 10**6:
            raise OpError("invalid_payload", f"{name} must be within -{limit:g}..{limit:g}")
        if not math.isfinite(value) or not -limit <= value <= limit:
            raise OpError("invalid_payload", f"{name} must be within -{limit:g}..{limit:g}")
    return float(lon), float(lat)


def _text(payload: Dict[str, Any], name: str, *, required: bool, limit: int = MAX_TEXT) -> Any:
    value = payload.get(name)
    if value is None:
        if required:
            raise OpError("invalid_payload", f"{name} is required")
        return None
    if not isinstance(value, str):
        raise OpError("invalid_payload", f"{name} must be a string")
    if required and not value.strip():
        raise OpError("invalid_payload", f"{name} must not be empty")
    if len(value) > limit:
        raise OpError("invalid_payload", f"{name} is longer than {limit} characters")
    return value


def _choice(payload: Dict[str, Any], name: str, options: Tuple[str, ...], default: Any) -> Any:
    value = payload.get(name, default)
    if value is None and default is None:
        return None
    if value not in options:
        raise OpError("invalid_payload", f"{name} must be one of {', '.join(options)}")
    return value


def _time_field(payload: Dict[str, Any], name: str) -> Optional[str]:
    value = payload.get(name)
    if value is None:
        return None
    if parse_time(value) is None:
        raise OpError("invalid_payload", f"{name} must be an ISO 8601 time with a zone")
    return str(value)


def validate_photos(value: Any) -> List[Dict[str, Any]]:
    """Photo items `{sha256, role, taken_at?, lon?, lat?}`, normalised."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise OpError("invalid_payload", "photos must be a list")
    if len(value) > MAX_PHOTOS_PER_OP:
        raise OpError("invalid_payload", f"at most {MAX_PHOTOS_PER_OP} photos per op")
    items = []
    for item in value:
        if not isinstance(item, dict):
            raise OpError("invalid_payload", "each photo must be an object")
        sha = item.get("sha256")
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise OpError("invalid_payload", "photo sha256 must be 64 lowercase hex digits")
        role = item.get("role")
        if role not in PHOTO_ROLES:
            raise OpError("invalid_payload", "photo role must be before, after or evidence")
        photo: Dict[str, Any] = {"sha256": sha, "role": role, "taken_at": None}
        photo["taken_at"] = _time_field(item, "taken_at")
        if item.get("lon") is not None or item.get("lat") is not None:
            photo["lon"], photo["lat"] = check_lon_lat(item.get("lon"), item.get("lat"))
        else:
            photo["lon"] = photo["lat"] = None
        items.append(photo)
    return items


def validate_payload(op_type: str, payload: Any) -> Dict[str, Any]:
    """Checks one op's payload against PROTOCOL.md and returns it normalised.

    Raises `OpError("invalid_payload", ...)`. Pure: no lookups, so devices run it offline.
    """
    if not isinstance(op_type, str) or op_type not in OP_TYPES:
        raise OpError("invalid_payload", f"unknown op type {str(op_type)[:64]!r}")
    if not isinstance(payload, dict):
        raise OpError("invalid_payload", "payload must be an object")
    p = payload
    out: Dict[str, Any] = {}
    if op_type == "task.create":
        out["kind"] = _choice(p, "kind", KINDS, None)
        if out["kind"] is None:
            raise OpError("invalid_payload", "kind is required")
        out["lon"], out["lat"] = check_lon_lat(p.get("lon"), p.get("lat"))
        out["title"] = _text(p, "title", required=False, limit=MAX_TITLE)
        out["description"] = _text(p, "description", required=False)
        out["priority"] = _choice(p, "priority", PRIORITIES, "normal")
        out["due_at"] = _time_field(p, "due_at")
        out["source"] = _choice(p, "source", SOURCES, "office")
        assignee = p.get("assignee_id")
        if assignee is not None and not is_code(assignee):
            raise OpError("invalid_payload", "assignee_id must be a user id")
        out["assignee_id"] = assignee
        self_fix = p.get("self_fix", False)
        if not isinstance(self_fix, bool):
            raise OpError("invalid_payload", "self_fix must be true or false")
        out["self_fix"] = self_fix
        # `triage: true`: the hub itself files the task `reported` for the office to triage
        # (a camera's detection below the confidence threshold).
        triage = p.get("triage", False)
        if not isinstance(triage, bool):
            raise OpError("invalid_payload", "triage must be true or false")
        if triage and assignee is not None:
            raise OpError("invalid_payload", "a task filed for triage has no assignee")
        out["triage"] = triage
        incident = p.get("incident_id")
        if incident is not None and not is_uuid(incident):
            raise OpError("invalid_payload", "incident_id must be a UUID")
        out["incident_id"] = incident
    elif op_type == "task.triage":
        out["decision"] = _choice(p, "decision", TRIAGE_DECISIONS, None)
        if out["decision"] is None:
            raise OpError("invalid_payload", "decision is required")
        out["reason"] = _text(p, "reason", required=out["decision"] != "accept")
        dup = p.get("duplicate_of")
        if out["decision"] == "duplicate" and not is_uuid(dup):
            raise OpError("invalid_payload", "duplicate_of must be the id of the other task")
        if dup is not None and not is_uuid(dup):
            raise OpError("invalid_payload", "duplicate_of must be a UUID")
        out["duplicate_of"] = dup
    elif op_type == "task.assign":
        if not is_code(p.get("assignee_id")):
            raise OpError("invalid_payload", "assignee_id is required")
        out["assignee_id"] = p["assignee_id"]
    elif op_type == "task.update":
        fields = [k for k in ("title", "description", "priority", "due_at") if k in p]
        if not fields:
            raise OpError(
                "invalid_payload", "nothing to update: give title, description, priority or due_at"
            )
        if "title" in p:
            out["title"] = _text(p, "title", required=False, limit=MAX_TITLE)
        if "description" in p:
            out["description"] = _text(p, "description", required=False)
        if "priority" in p:
            out["priority"] = _choice(p, "priority", PRIORITIES, None)
            if out["priority"] is None:
                raise OpError("invalid_payload", "priority must not be null")
        if "due_at" in p:
            out["due_at"] = _time_field(p, "due_at")
    elif op_type in ("task.decline", "task.pause", "task.reopen"):
        out["reason"] = _text(p, "reason", required=True)
    elif op_type == "task.cancel":
        out["reason"] = _text(p, "reason", required=True)
        dup = p.get("duplicate_of")
        if dup is not None and not is_uuid(dup):
            raise OpError("invalid_payload", "duplicate_of must be a UUID")
        out["duplicate_of"] = dup
    elif op_type == "task.submit":
        out["note"] = _text(p, "note", required=False)
        if p.get("lon") is not None or p.get("lat") is not None:
            out["lon"], out["lat"] = check_lon_lat(p.get("lon"), p.get("lat"))
        acc = p.get("accuracy_m")
        if acc is not None and (
            isinstance(acc, bool)
            or not isinstance(acc, (int, float))
            or not math.isfinite(acc)
            or acc < 0
        ):
            raise OpError("invalid_payload", "accuracy_m must be a non-negative number")
        out["accuracy_m"] = acc
    elif op_type == "task.confirm":
        out["note"] = _text(p, "note", required=False)
    elif op_type == "task.reject":
        out["comment"] = _text(p, "comment", required=True)
    elif op_type == "task.comment":
        out["text"] = _text(p, "text", required=True)
    photos = validate_photos(p.get("photos"))
    if op_type == "task.submit" and not any(ph["role"] == "after" for ph in photos):
        raise OpError("invalid_payload", "a fix report needs at least one photo with role after")
    if photos:
        out["photos"] = photos
    return out


def validate_envelope(op: Any) -> Dict[str, Any]:
    """Checks an op's own fields (`op_id, type, task_id, at, payload, base_version`)."""
    if not isinstance(op, dict):
        raise OpError("invalid_payload", "an op must be an object")
    if not is_uuid(op.get("op_id")):
        raise OpError("invalid_payload", "op_id must be a UUID string")
    if not isinstance(op.get("type"), str) or op["type"] not in OP_TYPES:
        raise OpError("invalid_payload", f"unknown op type {str(op.get('type'))[:64]!r}")
    if not is_uuid(op.get("task_id")):
        raise OpError("invalid_payload", "task_id must be a UUID string")
    if parse_time(op.get("at")) is None:
        raise OpError("invalid_payload", "at must be an ISO 8601 time with a zone")
    if not isinstance(op.get("payload", {}), dict):
        raise OpError("invalid_payload", "payload must be an object")
    base = op.get("base_version")
    if base is not None and (isinstance(base, bool) or not isinstance(base, int)):
        raise OpError("invalid_payload", "base_version must be an integer")
    return op


# ---------------------------------------------------------------------------------------
# Deciding and applying ops


def new_task(task_id: str, created_at: str) -> Dict[str, Any]:
    """An empty task record; `decide()` fills it for `task.create`."""
    return {
        "id": task_id,
        "kind": None,
        "title": None,
        "description": None,
        "status": None,
        "priority": "normal",
        "lon": None,
        "lat": None,
        "grid_code": None,
        "street_code": None,
        "assignee_id": None,
        "reporter_id": None,
        "source": None,
        "incident_id": None,
        "due_at": None,
        "created_at": created_at,
        "updated_at": created_at,
        "version": 0,
        "photos": [],
        "history": [],
        "conflicts": [],
        "past_assignee_ids": [],
    }


def _copy_task(task: Dict[str, Any]) -> Dict[str, Any]:
    """A copy that `decide()` may change: the lists it appends to are new lists (their
    items are never changed in place, so they are shared)."""
    new = dict(task)
    for key in ("photos", "history", "conflicts", "past_assignee_ids"):
        new[key] = list(task.get(key) or [])
    return new


def _reject(code: str, message: str) -> Decision:
    return Decision("rejected", code, message)


def _set_assignee(task: Dict[str, Any], assignee: Optional[str]) -> None:
    old = task.get("assignee_id")
    if old and old != assignee and old not in task["past_assignee_ids"]:
        task["past_assignee_ids"].append(old)
    task["assignee_id"] = assignee


def decide(
    actor: Actor,
    op: Dict[str, Any],
    task: Optional[Dict[str, Any]],
    world: World,
    server_at: str,
) -> Decision:
    """Decides one op (already through `validate_envelope`) against the task as it stands.

    `task` is the current task or None when no task has that id. Returns a Decision; on
    `applied`, `decision.task` is a new dict with the op's effects and its history entry.
    Pure: reads only its arguments and `world`.
    """
    op_type = op["type"]
    if op_type == "task.create":
        if task is not None:
            if not can_see_task(actor, task):
                return _reject("not_found", "no such task")
            return _reject("conflict", "a task with this id already exists")
    else:
        if task is None:
            return _reject("not_found", "no such task")
        if not can_see_task(actor, task) and actor.id not in task.get("past_assignee_ids", []):
            return _reject("not_found", "no such task")
    try:
        payload = validate_payload(op_type, op.get("payload") or {})
    except OpError as err:
        return _reject(err.code, err.message)

    if op_type == "task.create":
        return _decide_create(actor, op, payload, world, server_at)
    assert task is not None

    if actor.role not in OP_ROLES[op_type]:
        return _reject("forbidden", f"a {actor.role} may not {op_type.split('.')[1]} tasks")
    if op_type == "task.claim" and task["grid_code"] not in actor.grid_codes:
        return _reject("forbidden", "only a worker of the task's grid may claim it")
    if op_type in ASSIGNEE_OPS and task.get("assignee_id") != actor.id:
        return _reject("not_assignee", "the task is not assigned to you")
    if actor.role == "worker" and not can_see_task(actor, task):
        return _reject("not_assignee", "the task is no longer assigned to you")
    base = op.get("base_version")
    if op_type in VERSIONED_OPS and base is not None and base != task["version"]:
        return _reject("conflict", f"the task changed since version {base} (now {task['version']})")
    if task["status"] not in TRANSITIONS[op_type]:
        return _reject(
            "invalid_transition", f"cannot {op_type.split('.')[1]} a task that is {task['status']}"
        )
    if op_type == "task.assign":
        assignee = world.user(payload["assignee_id"])
        if assignee is None or assignee.get("role") != "worker":
            return _reject("invalid_payload", "assignee_id is not a worker")
        if assignee.get("street_code") != task["street_code"]:
            return _reject("invalid_payload", "the assignee works in another street")

    new = _copy_task(task)
    changed = True
    if op_type == "task.triage":
        new["status"] = "open" if payload["decision"] == "accept" else "invalid"
    elif op_type == "task.claim":
        _set_assignee(new, actor.id)
        new["status"] = "assigned"
    elif op_type == "task.assign":
        _set_assignee(new, payload["assignee_id"])
        new["status"] = "assigned"
    elif op_type == "task.update":
        for key in ("title", "description", "priority", "due_at"):
            if key in payload:
                new[key] = payload[key]
    elif op_type == "task.decline":
        _set_assignee(new, None)
        new["status"] = "declined"
    elif op_type in ("task.start", "task.resume"):
        new["status"] = "in_progress"
    elif op_type == "task.pause":
        new["status"] = "paused"
    elif op_type == "task.submit":
        new["status"] = "submitted"
    elif op_type == "task.confirm":
        new["status"] = "closed"
    elif op_type == "task.reject":
        new["status"] = "rework"
    elif op_type == "task.cancel":
        new["status"] = "canceled"
    elif op_type == "task.reopen":
        _set_assignee(new, None)
        new["status"] = "open"
    elif op_type == "task.comment":
        changed = False
    return _applied(new, actor, op, payload, server_at, changed)


def _decide_create(
    actor: Actor, op: Dict[str, Any], payload: Dict[str, Any], world: World, server_at: str
) -> Decision:
    located = world.locate(payload["lon"], payload["lat"])
    if located is None:
        return _reject("outside_grids", "the point is in no grid")
    grid_code, street_code = located
    if payload["triage"] and actor.id != SYSTEM_ID:
        return _reject("forbidden", "only the hub itself files tasks for triage")
    if actor.role != "admin" and street_code != actor.street_code:
        return _reject("forbidden", "the point is outside your street")
    assignee = payload.get("assignee_id")
    if actor.role == "worker":
        if payload["source"] not in ("patrol", "office"):
            return _reject("forbidden", "a worker reports patrol finds only")
        if assignee is not None and assignee != actor.id:
            return _reject("forbidden", "a worker may not assign tasks")
        payload["source"] = "patrol"
        near = world.near_grids(
            payload["lon"], payload["lat"], actor.grid_codes, PATROL_SELF_FIX_RADIUS_M
        )
        if payload["self_fix"] and near:
            status, assignee = "assigned", actor.id
        else:
            status, assignee = "reported", None
    else:
        if assignee is not None:
            user = world.user(assignee)
            if user is None or user.get("role") != "worker":
                return _reject("invalid_payload", "assignee_id is not a worker")
            if user.get("street_code") != street_code:
                return _reject("invalid_payload", "the assignee works in another street")
        status = "assigned" if assignee else ("reported" if payload["triage"] else "open")
    task = new_task(op["task_id"], server_at)
    task.update(
        kind=payload["kind"],
        title=payload["title"],
        description=payload["description"],
        priority=payload["priority"],
        lon=payload["lon"],
        lat=payload["lat"],
        grid_code=grid_code,
        street_code=street_code,
        assignee_id=assignee,
        reporter_id=actor.id,
        source=payload["source"],
        incident_id=payload["incident_id"],
        due_at=payload["due_at"],
        status=status,
    )
    return _applied(task, actor, op, payload, server_at, True)


def _applied(
    task: Dict[str, Any],
    actor: Actor,
    op: Dict[str, Any],
    payload: Dict[str, Any],
    server_at: str,
    changed: bool,
) -> Decision:
    photos = []
    for item in payload.get("photos", []):
        photo = dict(item)
        photo["uploaded_by"] = actor.id
        photos.append(photo)
        if not any(p["sha256"] == photo["sha256"] for p in task["photos"]):
            task["photos"].append(photo)
    if changed:
        task["version"] += 1
        task["updated_at"] = server_at
    task["history"].append(
        {
            "op_id": op["op_id"],
            "type": op["type"],
            "actor_id": actor.id,
            "at": op.get("at"),
            "server_at": server_at,
            "payload": op.get("payload") or {},
        }
    )
    return Decision("applied", task=task, photos=photos)


def conflict_entry(actor_id: str, op: Dict[str, Any], code: str, server_at: str) -> Dict[str, Any]:
    """The record a refused op leaves in its task's `conflicts`."""
    return {
        "op_id": op.get("op_id"),
        "type": op.get("type"),
        "actor_id": actor_id,
        "at": op.get("at"),
        "server_at": server_at,
        "code": code,
        "payload": op.get("payload") if isinstance(op.get("payload"), dict) else {},
    }


def photo_hashes(payload: Any) -> List[str]:
    """The sha256 of every well-formed photo item an op payload refers to."""
    if not isinstance(payload, dict) or not isinstance(payload.get("photos"), list):
        return []
    out = []
    for item in payload["photos"]:
        if isinstance(item, dict):
            sha = item.get("sha256")
            if isinstance(sha, str) and _SHA256.match(sha) and sha not in out:
                out.append(sha)
    return out


def public_task(task: Dict[str, Any]) -> Dict[str, Any]:
    """The task as PROTOCOL.md shows it (internal fields such as past assignees left out)."""
    out = {k: v for k, v in task.items() if k != "past_assignee_ids"}
    return out
