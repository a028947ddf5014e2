"""A patrol find: a problem the worker came across, with its kind, photos, a note, where,
and "I will fix it myself".

Sent as `task.create` with `source: patrol` (`Replica.patrol_find`): with "I will fix it
myself" and the place in (or within 50 m of) the worker's grids it becomes their own task
at once; otherwise it goes to the street office to triage. The place is the phone's fix
(required: the hub places the task by it). Photos recovered from an interrupted capture
that no report claims (`core.captures.for_patrol`) are in a new find from the start.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from sync import model
from sync.replica import Refused, Replica

from ..devices.base import Fix
from ..i18n import KIND_LABELS, label, tr
from . import captures, display
from .actions import refusal_text
from .photo_draft import DraftError, PhotoDraft

KINDS = model.KINDS


class PatrolFind:
    """A find being made."""

    def __init__(
        self,
        replica: Replica,
        position: Callable[[], Optional[Fix]],
        release: Optional[Callable[[str], None]] = None,
    ) -> None:
        self.replica = replica
        self.position = position
        self.photos = PhotoDraft(replica, release)
        self.kind: Optional[str] = None
        self.note = ""
        self.self_fix = False
        self.recovered: List[Dict[str, Any]] = [
            item for item in captures.for_patrol(replica) if self.photos.adopt(item)
        ]

    def add_photo(self, path: str) -> Dict[str, Any]:
        return self.photos.add(path, "evidence", self.position())

    def position_text(self) -> str:
        fix = self.position()
        if fix is None:
            return tr("No position yet")
        return tr(
            "{lat:.5f}, {lon:.5f} ({accuracy})",
            lat=fix.lat,
            lon=fix.lon,
            accuracy=display.accuracy_text(fix.accuracy_m),
        )

    def submit(self) -> Dict[str, Any]:
        """Queues the find; returns the new task as it shows. DraftError if refused."""
        if self.kind not in KINDS:
            raise DraftError(tr("Choose what kind of problem it is"))
        fix = self.position()
        if fix is None:
            raise DraftError(tr("No position yet: wait for the GPS"))
        if self.photos.count() == 0:
            raise DraftError(tr("Add a photo of the problem"))
        # A find the worker fixes has "before" photos; one for the office, evidence.
        role = "before" if self.self_fix else "evidence"
        photos = [dict(item, role=role) for item in self.photos.items]
        note = self.note.strip()
        try:
            task = dict(
                self.replica.patrol_find(
                    self.kind,
                    fix.lon,
                    fix.lat,
                    self_fix=self.self_fix,
                    photos=photos,
                    title=tr("Patrol find: {kind}", kind=label(KIND_LABELS, self.kind)),
                    **({"description": note} if note else {}),
                )
            )
        except Refused as err:
            if err.code == "forbidden":
                raise DraftError(tr("The place is outside your street")) from None
            raise DraftError(refusal_text(err)) from None
        captures.mark_used(self.replica, (i["sha256"] for i in photos))
        return task
