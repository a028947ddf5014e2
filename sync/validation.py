"""Op checks that need no lookups: the envelope, each op type's payload, and the values in them.

Owns `OpError` (a refusal with a PROTOCOL.md code) and the value checks (UUIDs, codes, ISO 8601
times, WGS 84 positions, photo items). Pure: no I/O and no knowledge of the world, so a
device runs the same checks offline that the hub runs online.

Invariants kept here:
- A bad op raises `OpError("invalid_payload", ...)` with a message naming the field.
- `validate_payload` returns a new, normalised dict; the payload it is given is not changed.

Runs on Python 3.9+ (it is carried inside the QGIS plugin); standard library only.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from .vocabulary import KINDS, OP_TYPES, PHOTO_ROLES, PRIORITIES, SOURCES, TRIAGE_DECISIONS

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
