"""Task photos for the supervisor's review, by sha256, kept in a folder next to the replica.

Where a photo comes from, first hit wins: the cache folder `<replica>.photos/<sha>.jpg`,
the replica's own `photos` table (what this device took and may not have sent yet), then
the hub (`GET /api/v1/photos/{sha}` through `HubClient.photo`).

Invariant: a file in the cache folder always hashes to its name. It is written to a
temporary file in the same folder and renamed into place, so a crash never leaves half a
photo under a real name; a file that does not hash to its name (a torn copy from elsewhere)
is ignored and fetched again. Bytes from the hub that do not hash to the asked sha are
refused (`PhotoCacheError`) and never cached.

`PhotoFetchTask` does the fetching on a task-manager thread (network and disk never on the
UI thread); it touches no widget and checks `isCanceled()` between photos.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import threading
from typing import Callable, Dict, List, Optional

from qgis.core import QgsTask

from sync.client import HubClient

ClientProvider = Callable[[], Optional[HubClient]]
Fetched = Callable[[Dict[str, bytes], Dict[str, str]], None]


class PhotoCacheError(Exception):
    """A photo could not be had: not held anywhere we may read, or corrupt bytes."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PhotoCache:
    """The photo cache of the replica at `replica_path`; `client_provider()` gives the hub
    client (or None offline). Safe to use from a worker thread: it opens its own read-only
    connection to the replica for each lookup rather than share the UI's `Replica`."""

    def __init__(self, replica_path: str, client_provider: ClientProvider) -> None:
        self.replica_path = os.path.abspath(replica_path)
        self.folder = self.replica_path + ".photos"
        self.client_provider = client_provider
        self._guard = threading.Lock()
        self._locks: Dict[str, threading.Lock] = {}

    def path(self, sha256: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise PhotoCacheError(f"not a sha256: {sha256!r}")
        return os.path.join(self.folder, f"{sha256}.jpg")

    def cached(self, sha256: str) -> Optional[bytes]:
        """The cached bytes when the file is there and hashes to its name. Read-only."""
        try:
            with open(self.path(sha256), "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        return data if sha256_of(data) == sha256 else None

    def _from_replica(self, sha256: str) -> Optional[bytes]:
        if not os.path.exists(self.replica_path):
            return None
        uri = "file:" + self.replica_path + "?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=10.0)
        except sqlite3.Error:
            return None
        try:
            row = conn.execute("SELECT data FROM photos WHERE sha256 = ?", (sha256,)).fetchone()
        except sqlite3.Error:
            return None
        finally:
            conn.close()
        return bytes(row[0]) if row and row[0] is not None else None

    def _store(self, sha256: str, data: bytes) -> None:
        os.makedirs(self.folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{sha256[:12]}-", suffix=".part", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path(sha256))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def fetch(self, sha256: str) -> bytes:
        """The photo's bytes: from the cache, else the replica, else the hub (network).

        Writes the cache file when the bytes came from the replica or the hub. Raises
        `PhotoCacheError` when no source has it, or `sync.client.HubError` from the hub.
        Two threads asking for the same photo download it once."""
        with self._guard:
            lock = self._locks.setdefault(sha256, threading.Lock())
        with lock:
            return self._fetch(sha256)

    def _fetch(self, sha256: str) -> bytes:
        data = self.cached(sha256)
        if data is not None:
            return data
        data = self._from_replica(sha256)
        if data is None or sha256_of(data) != sha256:
            client = self.client_provider()
            if client is None:
                raise PhotoCacheError(f"photo {sha256[:12]} is not cached and the hub is unknown")
            data = client.photo(sha256)
            if sha256_of(data) != sha256:
                raise PhotoCacheError(f"photo {sha256[:12]}: the hub sent other bytes")
        self._store(sha256, data)
        return data


class PhotoFetchTask(QgsTask):
    """Fetches photos through a `PhotoCache` on a task-manager thread.

    `on_done(photos, errors)` runs on the main thread once it is over (also when cancelled:
    with what was fetched so far); `photos` maps sha → bytes, `errors` sha → message."""

    def __init__(
        self,
        cache: PhotoCache,
        shas: List[str],
        on_done: Optional[Fetched] = None,
        description: str = "GridOps photos",
    ) -> None:
        super().__init__(description, QgsTask.CanCancel)
        self.cache = cache
        self.shas = list(dict.fromkeys(shas))
        self.on_done = on_done
        self.photos: Dict[str, bytes] = {}
        self.errors: Dict[str, str] = {}
        # Plain Python state: the task manager deletes the C++ task once it has finished.
        self.done = False

    def run(self) -> bool:
        """On a worker thread: every photo, one by one. True unless cancelled."""
        for index, sha in enumerate(self.shas):
            if self.isCanceled():
                return False
            try:
                self.photos[sha] = self.cache.fetch(sha)
            except Exception as err:  # shown per photo; one missing photo stops nothing
                self.errors[sha] = str(err)
            self.setProgress(100.0 * (index + 1) / max(1, len(self.shas)))
        return True

    def finished(self, result: bool) -> None:
        """On the main thread."""
        self.done = True
        if self.on_done is not None:
            self.on_done(self.photos, self.errors)
