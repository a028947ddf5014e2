"""Photos an interrupted capture left behind: kept, then put back where they were meant.

On Android the camera app writes each photo into `files/captures/`, and the app keeps it in
the replica (`Replica.add_photo`) when the photo comes back, then lets the camera delete its
file (`Camera.stored`). When Android ends the app while the camera app is open (low
memory: a mid-range phone, a 12-megapixel photo), no photo ever comes back and the draft
the worker was filling is gone with the app; the photo is still in `files/captures/`, with
what it was taken for beside it (`Camera.leftovers`).

What a worker wants then is to find the photo where they took it, not to take it again.
So at start (`recover`), every leftover photo is kept in the replica (one transaction),
listed in the replica's `sync_state` (`RECOVERED_KEY`) with its purpose, and only then
is its file deleted: a crash anywhere leaves the file (kept again at the next start, same
hash) or the photo listed, never neither. Then:

- a photo taken for the fix report of a task is put in that task's report when it is next
  opened (before/after as it was taken), and the app opens that report at once
  (`resume_screen`);
- a photo taken for a patrol find goes into the next find, which the app opens;
- a photo whose purpose is unknown, or whose task cannot be reported any more (it moved
  on meanwhile), is offered with the next patrol find: the task list shows a banner until
  it is used.

A recovered photo leaves the list when a report or find that carries it is queued
(`mark_used`). Until then it stays on the device (and is uploaded by the next sync like
any photo that waits: nothing is lost even if the worker never uses it).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sync.replica import PhotoError, Refused, Replica

from ..devices.base import Camera, Fix, Purpose
from .detail import available_actions

log = logging.getLogger("gridops.app.captures")
RECOVERED_KEY = "app.recovered_photos"  # sync_state: JSON list of {"item", "purpose"}


@dataclass
class Recovered:
    """A photo kept from an interrupted capture, not used in a report or find yet."""

    item: Dict[str, Any]  # the photo item an op carries: sha256, role, taken_at, lon, lat
    purpose: Purpose  # {"screen": "report", "task_id", "role"}, {"screen": "patrol"} or {}


def recovered(replica: Replica) -> List[Recovered]:
    """The photos kept from interrupted captures and not used yet, oldest first."""
    try:
        rows = json.loads(replica.state(RECOVERED_KEY) or "[]")
    except ValueError:
        log.warning("unreadable %s in the replica; ignoring it", RECOVERED_KEY)
        return []
    return [Recovered(dict(r["item"]), dict(r.get("purpose") or {})) for r in rows]


def _save(replica: Replica, items: List[Recovered]) -> None:
    rows = [{"item": r.item, "purpose": r.purpose} for r in items]
    replica.set_state(RECOVERED_KEY, json.dumps(rows, ensure_ascii=False) if rows else None)


def recover(replica: Replica, camera: Camera, fix: Optional[Fix] = None) -> List[Recovered]:
    """Keeps every photo `camera` left behind, then deletes its file; returns the photos
    recovered now. A file that is not a photo (a capture cut off before the camera app
    wrote a whole JPEG) is left where it is, with a warning, and tried again next time."""
    known = recovered(replica)
    now: List[Recovered] = []
    for path, purpose in camera.leftovers():
        role = purpose.get("role") if purpose.get("screen") == "report" else "evidence"
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            item = replica.add_photo(
                data,
                role or "evidence",
                lon=fix.lon if fix else None,
                lat=fix.lat if fix else None,
            )
        except (OSError, PhotoError, Refused) as err:
            log.warning("capture %s not kept: %s", path, err)
            continue
        entry = Recovered(item, dict(purpose))
        if not any(r.item["sha256"] == item["sha256"] for r in known):
            known.append(entry)
            _save(replica, known)
        camera.stored(path)  # the photo is in the replica and listed: the file can go
        now.append(entry)
    return now


def _reportable(replica: Replica, task_id: str) -> bool:
    task = replica.task(task_id) if task_id else None
    return task is not None and "report" in available_actions(replica, task)


def for_report(replica: Replica, task_id: str) -> List[Dict[str, Any]]:
    """The recovered photo items taken for the report of `task_id` (with their role)."""
    return [
        r.item
        for r in recovered(replica)
        if r.purpose.get("screen") == "report" and r.purpose.get("task_id") == task_id
    ]


def for_patrol(replica: Replica) -> List[Dict[str, Any]]:
    """The recovered photo items a patrol find offers: those taken for a find, and those
    whose purpose is unknown or whose task cannot be reported any more."""
    out = []
    for r in recovered(replica):
        screen = r.purpose.get("screen")
        if screen == "report" and _reportable(replica, r.purpose.get("task_id", "")):
            continue
        out.append(dict(r.item, role="evidence"))
    return out


def resume_screen(replica: Replica, photos: List[Recovered]) -> Optional[Tuple[str, str]]:
    """Where the worker was when the newest of `photos` was taken: ("report", task_id)
    while that task can still be reported, ("patrol", "") for a find; None otherwise."""
    for r in reversed(photos):
        screen = r.purpose.get("screen")
        task_id = r.purpose.get("task_id", "")
        if screen == "report" and _reportable(replica, task_id):
            return "report", task_id
        if screen == "patrol":
            return "patrol", ""
    return None


def mark_used(replica: Replica, hashes: Iterable[str]) -> None:
    """These photos went into a queued report or find: they leave the recovered list."""
    used = set(hashes)
    known = recovered(replica)
    left = [r for r in known if r.item["sha256"] not in used]
    if len(left) != len(known):
        _save(replica, left)
