"""A task's detail: what it is, its history, its photos, and which actions it allows now.

The actions offered are exactly those `sync.model.decide` would apply (tried with a stand-in
payload on the task as the device shows it), so the screen never offers what the device
or the hub would refuse for a reason known offline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional

from sync import model
from sync.replica import Replica

from ..i18n import (
    KIND_LABELS,
    OP_LABELS,
    PHOTO_ROLE_LABELS,
    PRIORITY_LABELS,
    STATUS_LABELS,
    label,
    tr,
)
from . import display

# Screen action → the op it sends and a stand-in payload for trying it.
_TRIALS: Dict[str, tuple] = {
    "claim": ("task.claim", {}),
    "start": ("task.start", {}),
    "pause": ("task.pause", {"reason": "-"}),
    "resume": ("task.resume", {}),
    "decline": ("task.decline", {"reason": "-"}),
    "report": ("task.submit", {"photos": [{"sha256": "0" * 64, "role": "after"}]}),
}
ACTIONS = tuple(_TRIALS)
ACTION_LABELS = {
    "claim": "Claim",
    "start": "Start",
    "pause": "Pause",
    "resume": "Resume",
    "decline": "Decline",
    "report": "Report fix",
    "navigate": "Navigate",
}


@dataclass
class HistoryLine:
    when: str
    who: str
    what: str  # the op's label, with its reason, note or comment
    type: str


@dataclass
class PhotoItem:
    sha256: str
    role: str
    role_label: str
    on_device: bool  # the bytes are in the replica's photo cache


@dataclass
class TaskDetail:
    id: str
    title: str
    kind_label: str
    status: str
    status_label: str
    priority: str
    priority_label: str
    due_text: str
    overdue: bool
    description: str
    grid_code: str
    lon: Optional[float]
    lat: Optional[float]
    pending: int
    history: List[HistoryLine] = field(default_factory=list)
    photos: List[PhotoItem] = field(default_factory=list)
    actions: List[str] = field(default_factory=list)


def available_actions(replica: Replica, task: Dict[str, Any]) -> List[str]:
    """The screen actions `sync.model.decide` allows on this task now. Read-only."""
    actor = replica.actor
    out = []
    for name, (op_type, payload) in _TRIALS.items():
        op = {
            "op_id": str(uuid.uuid4()),
            "type": op_type,
            "task_id": task["id"],
            "at": display.utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "payload": dict(payload),
        }
        if model.decide(actor, op, task, replica, op["at"]).status == "applied":
            out.append(name)
    if task.get("lon") is not None and task.get("lat") is not None:
        out.append("navigate")
    return out


def _who(replica: Replica, actor_id: Optional[str]) -> str:
    if actor_id == "system":
        return tr("System")
    me = replica.me or {}
    if actor_id and actor_id == me.get("id"):
        return tr("Me")
    user = replica.user(actor_id) if actor_id else None
    if user and user.get("display_name"):
        return str(user["display_name"])
    return actor_id or ""


def _what(entry: Dict[str, Any]) -> str:
    text = label(OP_LABELS, entry.get("type"))
    payload = entry.get("payload") or {}
    for key in ("reason", "note", "comment", "text"):
        if payload.get(key):
            return f"{text}：{payload[key]}"
    return text


def load_detail(replica: Replica, task_id: str, now: Optional[datetime] = None) -> TaskDetail:
    """The task as the device shows it, ready for the screen; KeyError if unknown."""
    task = replica.task(task_id)
    if task is None:
        raise KeyError(task_id)
    status = task["status"]
    history = [
        HistoryLine(
            when=display.local_time(h.get("at") or h.get("server_at"), now),
            who=_who(replica, h.get("actor_id")),
            what=_what(h),
            type=str(h.get("type")),
        )
        for h in task["history"]
    ]
    photos = [
        PhotoItem(
            sha256=p["sha256"],
            role=p.get("role") or "evidence",
            role_label=label(PHOTO_ROLE_LABELS, p.get("role") or "evidence"),
            on_device=replica.photo_bytes(p["sha256"]) is not None,
        )
        for p in task["photos"]
    ]
    return TaskDetail(
        id=task["id"],
        title=task.get("title") or label(KIND_LABELS, task.get("kind")),
        kind_label=label(KIND_LABELS, task.get("kind")),
        status=status,
        status_label=label(STATUS_LABELS, status),
        priority=task.get("priority") or "normal",
        priority_label=label(PRIORITY_LABELS, task.get("priority") or "normal"),
        due_text=display.local_time(task.get("due_at"), now),
        overdue=status in model.ACTIVE
        and status not in ("submitted", "reported")
        and display.is_overdue(task.get("due_at"), now),
        description=task.get("description") or "",
        grid_code=task.get("grid_code") or "",
        lon=task.get("lon"),
        lat=task.get("lat"),
        pending=int(task.get("pending") or 0),
        history=history,
        photos=photos,
        actions=available_actions(replica, task),
    )
