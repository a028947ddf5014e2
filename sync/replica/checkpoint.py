"""Checkpoints of the replica's write-ahead log, done off the writer's path.

Why: SQLite copies the WAL back into the file (a checkpoint) inside the COMMIT that takes the
WAL past 1,000 pages, fsyncs included. Loading a street's twin extract (~18 MB of WAL) or a
first pull of 2,000 tasks paid ~0.2 s for it inside the sync. So the replica's connection keeps
the automatic checkpoint only as a far backstop (`BACKSTOP_BYTES`), and a `Checkpointer` does
the work on a thread of its own, with a connection of its own (opened for each checkpoint):
- PASSIVE checkpoints: they never wait for, nor block, the writer or a reader (QGIS drawing
  the layers); frames a reader still needs are left for a later try;
- one once the writes have been quiet for `quiet_s` (a sync is a burst of commits), one at
  once when the WAL file has passed `urgent_bytes` (writes that never pause cannot grow it
  without bound), and one at once when the replica closes (the end of every sync job in the
  QGIS plugin, whose sync task opens and closes its own replica; when the closing connection
  is the file's last one, SQLite checkpoints at its close itself, as it always did);
- `JOURNAL_LIMIT_BYTES` truncates the WAL file each time SQLite starts it over, so the WAL
  stays bounded on disk too, not only in content.
Crash safety is SQLite's own: a checkpoint cut off anywhere (SIGKILL, a power cut) leaves the
WAL the truth, replayed at the next open. The thread keeps the file's path only, never the
`Replica`, and ends as soon as nothing is due; the next commit starts another.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Optional

log = logging.getLogger("gridops.replica")

QUIET_S = 2.0  # no commit for this long: checkpoint
URGENT_BYTES = 32 * 1024 * 1024  # a WAL file this large: checkpoint at once
BACKSTOP_BYTES = 128 * 1024 * 1024  # SQLite's own checkpoint at commit, should the thread lag
JOURNAL_LIMIT_BYTES = 4 * 1024 * 1024  # the WAL file is cut back to this when it starts over
MAX_TRIES = 5  # a checkpoint that cannot finish (readers): tries before waiting for a write


def configure(conn: sqlite3.Connection) -> None:
    """Sets the writer connection `conn` (in WAL mode) to leave checkpoints to a
    `Checkpointer`: the automatic one only past `BACKSTOP_BYTES`, and the WAL file cut back
    to `JOURNAL_LIMIT_BYTES` when it starts over. No transaction; takes effect at once."""
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.execute(f"PRAGMA wal_autocheckpoint={max(1000, BACKSTOP_BYTES // page_size)}")
    conn.execute(f"PRAGMA journal_size_limit={JOURNAL_LIMIT_BYTES}")


class Checkpointer:
    """Runs PASSIVE checkpoints of the database at `path` on a background thread.

    `wrote()` after each commit, `close()` when the replica closes; both return at once.
    `wait_idle()` waits for nothing to be due (tests, and whoever wants the file whole).
    """

    def __init__(
        self, path: str, quiet_s: float = QUIET_S, urgent_bytes: int = URGENT_BYTES
    ) -> None:
        self.path = path
        self.wal_path = path + "-wal"
        self._uri = Path(os.path.abspath(path)).as_uri() + "?mode=rw"
        self.quiet_s = quiet_s
        self.urgent_bytes = urgent_bytes
        self.completed = 0  # checkpoints that left nothing in the WAL to copy
        self._cond = threading.Condition()
        self._due: Optional[float] = None  # time.monotonic() a checkpoint is due; None: none
        self._tries = 0
        self._closing = False
        self._thread: Optional[threading.Thread] = None

    def wrote(self) -> None:
        """A write transaction committed: a checkpoint is due `quiet_s` from now, or at once
        when the WAL file is past `urgent_bytes`. Any thread; never blocks on I/O beyond a
        stat of the WAL file."""
        try:
            urgent = os.path.getsize(self.wal_path) >= self.urgent_bytes
        except OSError:  # no WAL file (yet): nothing large to hurry for
            urgent = False
        now = time.monotonic()
        with self._cond:
            if self._closing:
                return
            self._due = now if urgent else now + self.quiet_s
            self._tries = 0
            self._start()
            self._cond.notify_all()

    def close(self) -> None:
        """The replica closes: what is due is checkpointed at once, then the thread ends.
        Returns without waiting (`wait_idle` waits)."""
        with self._cond:
            self._closing = True
            if self._due is not None:
                self._due = time.monotonic()
            self._cond.notify_all()

    def wait_idle(self, timeout: Optional[float] = None) -> bool:
        """Waits until no checkpoint is due and the thread has ended; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._due is not None or self._thread is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    # ------------------------------------------------------------------ the thread

    def _start(self) -> None:
        # Under self._cond.
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="gridops-replica-checkpoint", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        try:
            while self._wait_due():
                self._checkpoint()
        except Exception as err:  # a thread must not die loudly; the backstop remains
            log.warning("replica %s: background checkpoint failed: %s", self.path, err)
            with self._cond:
                self._due = None
        finally:
            with self._cond:
                self._thread = None
                if self._due is not None:
                    self._start()  # a write came in while this thread was ending
                self._cond.notify_all()

    def _wait_due(self) -> bool:
        """Waits until a checkpoint is due (True), or returns False when none is."""
        with self._cond:
            while True:
                if self._due is None:
                    return False
                left = self._due - time.monotonic()
                if left <= 0:
                    self._due = None
                    return True
                self._cond.wait(left)

    def _checkpoint(self) -> None:
        # A connection for this checkpoint only: between checkpoints the thread holds no
        # handle on the file, so a replica deleted after `close()` (a failed first login) is
        # never touched again, nor is a new file made at its path (`mode=rw` never creates).
        try:
            conn = sqlite3.connect(self._uri, uri=True, isolation_level=None, timeout=30.0)
            try:
                busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                conn.close()
        except sqlite3.Error as err:
            log.info("replica %s: checkpoint not done: %s", self.path, err)
            busy, frames, copied = 1, 1, 0
        if not busy and copied >= frames:  # frames -1: not in WAL mode, nothing to do
            self.completed += 1
            return
        with self._cond:  # a reader or another checkpoint held frames back: try again later
            self._tries += 1
            if self._due is None and self._tries < MAX_TRIES and not self._gone():
                self._due = time.monotonic() + min(self.quiet_s, 0.5)

    def _gone(self) -> bool:
        return not os.path.exists(self.path)
