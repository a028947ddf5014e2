"""A task's photos for the screen: from the replica, a disk cache, or the hub.

Photos this device took are in the replica until the hub holds them. Photos others took
(the dispatcher's "before", the camera's snapshot) are fetched from the hub when online,
checked against their sha256 and kept in `<data>/photo-cache/` so they show offline later.
`fetch()` does network I/O: call it off the UI thread.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Optional

from sync.replica import Replica

if TYPE_CHECKING:
    from sync.client import HubClient


class PhotoCache:
    def __init__(self, replica: Replica, folder: str) -> None:
        self.replica = replica
        self.folder = folder

    def _path(self, sha256: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a photo hash: {sha256!r}")
        return os.path.join(self.folder, f"{sha256}.jpg")

    def get(self, sha256: str) -> Optional[bytes]:
        """The bytes if this device has them (replica or cache), else None. Read-only."""
        data = self.replica.photo_bytes(sha256)
        if data is not None:
            return data
        try:
            with open(self._path(sha256), "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def fetch(self, client: HubClient, sha256: str) -> bytes:
        """The bytes, from the hub if needed (network); raises the client's errors."""
        data = self.get(sha256)
        if data is not None:
            return data
        data = client.photo(sha256)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"the hub sent other bytes for photo {sha256[:12]}…")
        os.makedirs(self.folder, exist_ok=True)
        path = self._path(sha256)
        with open(path + ".tmp", "wb") as handle:
            handle.write(data)
        os.replace(path + ".tmp", path)
        return data
