"""What the hub refused, why, and the data the worker sent (kept: nothing is lost).

Reads the replica's `refusals` (the hub keeps them too, in the task's `conflicts` and the
worker's `GET /api/v1/conflicts`). Opening the screen marks them seen, which lets the
device drop their photos once the hub holds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from sync.replica import Replica

from ..i18n import KIND_LABELS, OP_LABELS, PHOTO_ROLE_LABELS, REFUSAL_LABELS, label, tr
from . import display
from .actions import remembered_title


@dataclass
class ConflictItem:
    op_id: str
    task_id: str
    task_title: str
    what: str  # the action, as the worker did it
    why: str  # the refusal, in words
    code: str
    hub_message: str
    when: str
    seen: bool
    fields: List[str] = field(default_factory=list)  # the data sent, one line each
    photos: List[Dict[str, Any]] = field(default_factory=list)  # items with their role


FIELD_NAMES = {
    "reason": "Reason",
    "note": "Note",
    "comment": "Comment",
    "text": "Text",
    "title": "Title",
    "description": "Description",
}


def _fields(payload: Dict[str, Any]) -> List[str]:
    lines = []
    for key, name in FIELD_NAMES.items():
        if payload.get(key):
            lines.append(f"{tr(name)}：{payload[key]}")
    if payload.get("kind"):
        lines.append(f"{tr('Kind')}：{label(KIND_LABELS, payload['kind'])}")
    if payload.get("lon") is not None and payload.get("lat") is not None:
        lines.append(
            tr(
                "Position: {lat:.5f}, {lon:.5f}",
                lat=float(payload["lat"]),
                lon=float(payload["lon"]),
            )
        )
    photos = payload.get("photos") or []
    if photos:
        roles = ", ".join(label(PHOTO_ROLE_LABELS, p.get("role")) for p in photos)
        lines.append(tr("{n} photos ({roles})", n=len(photos), roles=roles))
    return lines


def load_conflicts(replica: Replica) -> List[ConflictItem]:
    """The refusals, newest first. Read-only."""
    out = []
    for r in replica.refusals():
        payload = r.get("payload") or {}
        task: Optional[Dict[str, Any]] = r.get("task") or replica.task(r.get("task_id") or "")
        title = (
            (task or {}).get("title")
            or payload.get("title")
            or remembered_title(replica, r.get("task_id") or "")
            or tr("(a task you can no longer see)")
        )
        out.append(
            ConflictItem(
                op_id=r["op_id"],
                task_id=r.get("task_id") or "",
                task_title=str(title),
                what=label(OP_LABELS, r.get("type")),
                why=label(REFUSAL_LABELS, r.get("code")),
                code=str(r.get("code") or ""),
                hub_message=str(r.get("message") or ""),
                when=display.local_time(r.get("at")),
                seen=bool(r.get("seen")),
                fields=_fields(payload),
                photos=[dict(p) for p in payload.get("photos") or []],
            )
        )
    return out


def mark_seen(replica: Replica) -> None:
    """The worker has seen them (one transaction)."""
    replica.mark_refusals_seen()
