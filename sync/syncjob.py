"""One sync of a replica with its hub, as a job the UIs drive without blocking.

Protocol (each step commits on its own, so a sync interrupted anywhere — killed, cut off,
cancelled — is simply run again):
1. photos: every photo the hub does not hold goes up first, resumably;
2. push: the outbox in batches of ≤ 500, answers applied as they come (an op leaves the
   outbox only once the hub answered it); `missing_photos` sends those photos and pushes
   again;
3. pull: page by page, each page with its cursor in one transaction; a new replica pulls
   with an empty `since`, then loads the twin extract, then pulls on from its first cursor
   (PROTOCOL.md); a 410 forgets the hub's data (never the outbox) and starts the scope over;
4. photos the hub holds and nothing here needs any more are dropped.

`SyncJob.start()` runs it on a thread; `progress(phase, done, total)` reports (phases
`photos` and `photo_bytes`, `push` (ops), `pull` (changes), `extract`, `done`; the bytes
moved so far are `job.bytes_sent` / `job.bytes_received`); `cancel()` stops at the next
safe point, and cuts short a wait between the client's retries (the job runs inside
`client.interruptible(cancel event)`): a cancelled job raises `Cancelled` at once, never
after the client's backoff; `wait()` returns the `SyncResult` (or raises its error).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional

from .client import CursorExpired, HubClient, HubError
from .replica import Replica

Progress = Callable[[str, int, int], None]
PUSH_BATCH = 500
PULL_LIMIT = 1000


class Cancelled(Exception):
    """The sync stopped on request at a safe point."""


@dataclass
class SyncResult:
    photos_sent: int = 0
    pushed: Dict[str, int] = field(default_factory=dict)
    pulled: int = 0
    extract_loaded: bool = False
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0


class SyncJob:
    """A sync of `replica` through `client`; usable once."""

    def __init__(
        self, replica: Replica, client: HubClient, progress: Optional[Progress] = None
    ) -> None:
        self.replica = replica
        self.client = client
        self.progress = progress or (lambda phase, done, total: None)
        self._cancel = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._result: Optional[SyncResult] = None
        self._error: Optional[BaseException] = None

    # ------------------------------------------------------------------ job interface

    def start(self) -> SyncJob:
        self._thread = threading.Thread(target=self._run_caught, name="gridops-sync", daemon=True)
        self._thread.start()
        return self

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def bytes_sent(self) -> int:
        return self.client.bytes_sent

    @property
    def bytes_received(self) -> int:
        return self.client.bytes_received

    def wait(self, timeout: Optional[float] = None) -> SyncResult:
        if self._thread is not None:
            self._thread.join(timeout)
        if self._error is not None:
            raise self._error
        if self._result is None:
            raise TimeoutError("the sync is still running")
        return self._result

    def _run_caught(self) -> None:
        try:
            self._result = self.run()
        except BaseException as err:  # handed to wait()
            self._error = err

    # ------------------------------------------------------------------ the sync

    def _check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled("sync cancelled")

    def run(self) -> SyncResult:
        """The whole sync, on the calling thread."""
        try:
            with self.client.interruptible(self._cancel):
                return self._run()
        except HubError as err:
            if self._cancel.is_set():  # a retry wait cut short, or a call failing meanwhile
                raise Cancelled("sync cancelled") from err
            raise

    def _run(self) -> SyncResult:
        started = time.monotonic()
        sent0, recv0 = self.client.bytes_sent, self.client.bytes_received
        result = SyncResult()
        result.photos_sent = self._upload_photos()
        result.pushed = self._push()
        result.pulled, result.extract_loaded = self._pull()
        self.replica.purge_photos()
        result.bytes_sent = self.client.bytes_sent - sent0
        result.bytes_received = self.client.bytes_received - recv0
        result.seconds = time.monotonic() - started
        self.progress("done", 1, 1)
        return result

    def _upload_photos(self) -> int:
        waiting = self.replica.photos_to_upload()
        for n, sha in enumerate(waiting):
            self._check()
            self.progress("photos", n, len(waiting))
            data = self.replica.photo_bytes(sha)
            if data is None:
                continue
            if not self.client.upload_photo(
                sha,
                data,
                should_stop=self._cancel.is_set,
                progress=lambda done, total: self.progress("photo_bytes", done, total),
            ):
                raise Cancelled("sync cancelled")
            self.replica.mark_uploaded(sha)
        return len(waiting)

    def _push(self) -> Dict[str, int]:
        totals: Dict[str, int] = {}
        for _round in range(3):  # a missing photo: send it, push again
            ops = self.replica.outbox()
            if not ops:
                break
            retry = False
            for start in range(0, len(ops), PUSH_BATCH):
                self._check()
                self.progress("push", start, len(ops))
                batch = ops[start : start + PUSH_BATCH]
                results = self.client.push(self.replica.device_id, batch)
                counts = self.replica.apply_push_results(results)
                for key, value in counts.items():
                    totals[key] = totals.get(key, 0) + value
                retry = retry or any(r.get("code") == "missing_photos" for r in results)
            if not retry:
                break
            self._upload_photos()
        return totals

    def _pull(self) -> tuple[int, bool]:
        pulled, loaded = 0, False
        for _attempt in range(2):
            try:
                if self.replica.state("cursor") is None:
                    pulled += self._pull_pages("")
                if self.replica.state("extract_etag") is None:
                    loaded = self._load_extract()
                pulled += self._pull_pages(self.replica.state("cursor") or "")
                return pulled, loaded
            except CursorExpired:
                self.replica.reset_scope()
        raise CursorExpired(410, "cursor_expired", "the hub keeps refusing the cursor")

    def _pull_pages(self, since: str) -> int:
        count = 0
        while True:
            self._check()
            body = self.client.changes(since, PULL_LIMIT)
            count += self.replica.apply_changes(body["changes"], body["cursor"])
            self.progress("pull", count, count + (PULL_LIMIT if body["has_more"] else 0))
            since = body["cursor"]
            if not body["has_more"]:
                return count

    def _load_extract(self) -> bool:
        self._check()
        self.progress("extract", 0, 1)
        handle, path = tempfile.mkstemp(
            suffix=".gpkg", dir=os.path.dirname(self.replica.path) or None
        )
        os.close(handle)
        try:
            downloaded, etag, _cursor = self.client.extract(
                path, self.replica.state("extract_etag")
            )
            if downloaded:
                self.replica.load_extract(path, etag or "")
        finally:
            os.unlink(path)
        return downloaded


def sync_once(
    replica: Replica, client: HubClient, progress: Optional[Progress] = None
) -> SyncResult:
    """A whole sync on the calling thread (scripts and tests)."""
    return SyncJob(replica, client, progress).run()


def login(replica: Replica, client: HubClient, username: str, password: str) -> Dict[str, Any]:
    """Logs in and keeps the token and the user in the replica (a phone stays logged in)."""
    import json

    user = client.login(username, password, replica.device_id)
    current = replica.me
    if current is not None and current["id"] != user["id"]:
        raise ValueError("this replica belongs to another account; open another file")
    replica.set_state("user", json.dumps(user, ensure_ascii=False))
    replica.set_state("token", client.token)
    replica.set_state("hub_url", client.base_url)
    return user
