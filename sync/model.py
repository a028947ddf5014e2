"""The task workflow of PROTOCOL.md as pure functions: the one module everyone imports.

The rules about tasks live in four modules, so that the hub, the QGIS plugin and the field
app refuse the same things for the same reasons (the devices refuse offline what the hub
would refuse for a reason known offline):

- `sync.vocabulary`: statuses, roles, kinds, op types and their transitions, `Actor`, `World`;
- `sync.validation`: `OpError`, the envelope and payload checks and the value checks;
- `sync.scopes`: who sees a task, a twin feature or a street, and the feed keys;
- `sync.decision`: `decide()`, which checks an op in PROTOCOL.md's order and applies it.

This module re-exports their public names, so callers keep writing `model.decide`,
`model.Actor`, `model.KINDS`. Those modules import each other in that order only
(vocabulary <- validation, scopes <- decision) and never import this one, so nothing imports
in a circle. None of them does I/O: what they need to know about the world comes in through a
`World` object that the caller implements over its own storage.

Runs on Python 3.9+ (it is carried inside the QGIS plugin); standard library only.
"""

from __future__ import annotations

from .decision import (
    Decision,
    conflict_entry,
    decide,
    new_task,
)
from .scopes import (
    actor_feed_keys,
    can_see_street,
    can_see_task,
    can_see_twin,
    public_task,
    reference_audience,
    task_audience,
    twin_audience,
)
from .validation import (
    MAX_PHOTOS_PER_OP,
    MAX_TEXT,
    MAX_TITLE,
    OpError,
    check_lon_lat,
    is_code,
    is_uuid,
    parse_time,
    photo_hashes,
    validate_envelope,
    validate_payload,
    validate_photos,
)
from .vocabulary import (
    ACTIVE,
    ASSIGNEE_OPS,
    FINAL,
    KINDS,
    OFFICE_ROLES,
    OP_ROLES,
    OP_TYPES,
    PATROL_SELF_FIX_RADIUS_M,
    PHOTO_ROLES,
    PRIORITIES,
    ROLES,
    SOURCES,
    STATUSES,
    SYSTEM_ID,
    TASK_FIELDS,
    TASK_JSON_FIELDS,
    TRANSITIONS,
    TRIAGE_DECISIONS,
    VERSIONED_OPS,
    Actor,
    World,
)

__all__ = [
    "ACTIVE",
    "ASSIGNEE_OPS",
    "FINAL",
    "KINDS",
    "MAX_PHOTOS_PER_OP",
    "MAX_TEXT",
    "MAX_TITLE",
    "OFFICE_ROLES",
    "OP_ROLES",
    "OP_TYPES",
    "PATROL_SELF_FIX_RADIUS_M",
    "PHOTO_ROLES",
    "PRIORITIES",
    "ROLES",
    "SOURCES",
    "STATUSES",
    "SYSTEM_ID",
    "TASK_FIELDS",
    "TASK_JSON_FIELDS",
    "TRANSITIONS",
    "TRIAGE_DECISIONS",
    "VERSIONED_OPS",
    "Actor",
    "Decision",
    "OpError",
    "World",
    "actor_feed_keys",
    "can_see_street",
    "can_see_task",
    "can_see_twin",
    "check_lon_lat",
    "conflict_entry",
    "decide",
    "is_code",
    "is_uuid",
    "new_task",
    "parse_time",
    "photo_hashes",
    "public_task",
    "reference_audience",
    "task_audience",
    "twin_audience",
    "validate_envelope",
    "validate_payload",
    "validate_photos",
]
