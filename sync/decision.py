"""Deciding one op against a task as it stands, and applying it: `decide()`.

Owns the order of PROTOCOL.md's checks and the effects of each op type. Pure: what it needs
to know beyond the task (which grid holds a point, who a user is) comes through `World`.

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

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .scopes import can_see_task
from .validation import OpError, validate_payload
from .vocabulary import (
    ASSIGNEE_OPS,
    OP_ROLES,
    PATROL_SELF_FIX_RADIUS_M,
    SYSTEM_ID,
    TRANSITIONS,
    VERSIONED_OPS,
    Actor,
    World,
)


@dataclass
class Decision:
    """What the hub (or a device, offline) does with one op."""

    status: str  # "applied" or "rejected"
    code: Optional[str] = None
    message: Optional[str] = None
    task: Optional[Dict[str, Any]] = None  # the task after an applied op
    photos: List[Dict[str, Any]] = field(default_factory=list)  # photo items the op attaches


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
