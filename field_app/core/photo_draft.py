"""Photos being attached to a report or a find, before it is sent.

A photo is kept in the replica the moment it is attached (`Replica.add_photo`: upright,
≤ 1600 px, JPEG, no EXIF, its time and place read first), so a photo taken is never lost
even if the app dies before the report is sent. The draft keeps the items (hash, role,
time, place) that the op will carry. A file that is not an image is refused at once with
a clear message, and nothing is kept. Once the replica holds a photo's bytes, `release(path)`
is called (the camera's `stored`: Android's camera then deletes its capture file, never
before). Photos kept earlier (recovered from an interrupted capture, `core.captures`) are
`adopt`ed as they are.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from sync.replica import PhotoError, Refused, Replica

from ..devices.base import Fix
from ..i18n import tr

MAX_PHOTOS = 20  # sync.model.MAX_PHOTOS_PER_OP


class DraftError(Exception):
    """A report or find that cannot go as it is; `str()` is the worker's message."""


class PhotoDraft:
    """The photos of one report or find, in the order taken."""

    def __init__(self, replica: Replica, release: Optional[Callable[[str], None]] = None) -> None:
        self.replica = replica
        self.release = release or (lambda path: None)
        self.items: List[Dict[str, Any]] = []

    def add(self, path: str, role: str, fix: Optional[Fix] = None) -> Dict[str, Any]:
        """Reads the camera's file and keeps the photo on the device (one transaction)."""
        if len(self.items) >= MAX_PHOTOS:
            raise DraftError(tr("At most {n} photos", n=MAX_PHOTOS))
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            raise DraftError(tr("The photo file cannot be read")) from None
        try:
            item = self.replica.add_photo(
                data, role, lon=fix.lon if fix else None, lat=fix.lat if fix else None
            )
        except PhotoError:
            raise DraftError(tr("This file is not a photo")) from None
        except Refused as err:
            raise DraftError(err.message) from None
        self.release(path)  # committed in the replica: the camera's file may go
        if any(i["sha256"] == item["sha256"] for i in self.items):
            raise DraftError(tr("This photo is already attached"))
        self.items.append(item)
        return item

    def adopt(self, item: Dict[str, Any]) -> bool:
        """Attaches a photo the replica already holds (its item as `add` returned it);
        False when it is attached already or the draft is full."""
        if len(self.items) >= MAX_PHOTOS or any(i["sha256"] == item["sha256"] for i in self.items):
            return False
        self.items.append(dict(item))
        return True

    def remove(self, sha256: str) -> None:
        self.items = [i for i in self.items if i["sha256"] != sha256]

    def count(self, role: Optional[str] = None) -> int:
        return sum(1 for i in self.items if role is None or i["role"] == role)

    def data(self, sha256: str) -> Optional[bytes]:
        return self.replica.photo_bytes(sha256)
