"""Reporting a fix: before/after photos, a note, the position with its accuracy; submit.

The submit is one replica action (`task.submit`: checked, shown as submitted, queued);
offline it waits in the outbox with its photos until a sync sends both, photos first.
The hub needs at least one "after" photo: that is checked here first, with a message.
Photos recovered from a capture interrupted while this report was being made
(`core.captures`) are in the new report from the start.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from sync.replica import Refused, Replica

from ..devices.base import Fix
from ..i18n import tr
from . import captures, display
from .actions import refusal_text, remember_title
from .photo_draft import DraftError, PhotoDraft


class FixReport:
    """The report of a fix of one task, being made."""

    def __init__(
        self,
        replica: Replica,
        task_id: str,
        position: Callable[[], Optional[Fix]],
        release: Optional[Callable[[str], None]] = None,
    ) -> None:
        self.replica = replica
        self.task_id = task_id
        self.position = position
        self.photos = PhotoDraft(replica, release)
        self.note = ""
        self.recovered: List[Dict[str, Any]] = [
            item for item in captures.for_report(replica, task_id) if self.photos.adopt(item)
        ]

    def add_photo(self, path: str, role: str) -> Dict[str, Any]:
        if role not in ("before", "after"):
            raise DraftError(tr("A fix has before and after photos"))
        return self.photos.add(path, role, self.position())

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
        """Queues the report; returns the task as it now shows. DraftError if refused."""
        if self.photos.count("after") == 0:
            raise DraftError(tr("Add at least one photo after the fix"))
        fix = self.position()
        remember_title(self.replica, self.task_id)
        try:
            task = dict(
                self.replica.submit(
                    self.task_id,
                    list(self.photos.items),
                    note=self.note.strip() or None,
                    lon=fix.lon if fix else None,
                    lat=fix.lat if fix else None,
                    accuracy_m=fix.accuracy_m if fix else None,
                )
            )
        except Refused as err:
            raise DraftError(refusal_text(err)) from None
        captures.mark_used(self.replica, (i["sha256"] for i in self.photos.items))
        return task
