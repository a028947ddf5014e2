"""Connections, transactions and the change log of the SQLite store.

One writer: every write goes through `write()`, which holds a process-wide lock and one
`BEGIN IMMEDIATE` transaction, so that the change log's `seq` is assigned in commit order and
a reader never sees a change before the data it describes. Readers use one connection per
thread (WAL lets them read while the writer writes).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from . import schema


def utc_now() -> str:
    """The hub's clock as PROTOCOL.md writes times: ISO 8601, UTC, milliseconds."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class StoreBase:
    """Owns the database file: connections, the writer lock, migrations, meta, change log."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._writer = self._connect()
        self._writer.execute("PRAGMA journal_mode=WAL")
        # Checkpoints run in a background thread, not inside a commit: with SQLite's
        # default (every 1,000 pages) most large pushes paid for one, fsync included.
        self._writer.execute("PRAGMA wal_autocheckpoint=20000")
        schema.migrate(self._writer)
        self._all_readers: list[sqlite3.Connection] = []
        self._closed = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="gridops-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _checkpoint_loop(self, every_s: float = 2.0) -> None:
        """Copies the WAL back into the database now and then without blocking anyone
        (PASSIVE): readers and the writer go on; the WAL stays small."""
        conn = self._connect()
        try:
            while not self._closed.wait(every_s):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    continue
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        # A city's hot pages (indexes, recent tasks) stay in memory: 64 MB of page cache per
        # connection, and reads through mmap instead of copies.
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("PRAGMA mmap_size=1073741824")
        return conn

    def close(self) -> None:
        """Closes every connection this store opened."""
        self._closed.set()
        self._checkpointer.join(timeout=10)
        with self._write_lock:
            self._writer.close()
        for conn in self._all_readers:
            try:
                conn.close()
            except sqlite3.ProgrammingError:
                pass

    # ---------------------------------------------------------------- connections

    @property
    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (autocommit: each statement sees the latest commit)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            self._all_readers.append(conn)
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees one consistent state."""
        conn = self.reader
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """The single writer's transaction: commits on success, rolls back on any error."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # ---------------------------------------------------------------- meta

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.reader.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ---------------------------------------------------------------- change log

    def log_change(
        self, conn: sqlite3.Connection, entity: str, entity_id: str, keys: Iterable[str], at: str
    ) -> int:
        """Appends one change to the feed, readable under `keys`; returns its seq.

        Call inside `write()`: the seq becomes visible with the data it describes.
        """
        cur = conn.execute(
            "INSERT INTO changes(entity, entity_id, at) VALUES (?, ?, ?)", (entity, entity_id, at)
        )
        seq = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT OR IGNORE INTO change_keys(key, seq) VALUES (?, ?)",
            [(key, seq) for key in set(keys)],
        )
        return seq

    def feed_position(self, conn: sqlite3.Connection | None = None) -> int:
        """The seq of the newest change (0 for none)."""
        conn = conn or self.reader
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
        return int(row[0]) if row else 0

    def feed_floor(self) -> int:
        """Cursors below this seq are too old to serve (their changes were compacted)."""
        return int(self.get_meta("feed_floor", "0") or 0)

    def compact_feed(self, keep_after_seq: int) -> int:
        """Drops changes up to `keep_after_seq`; cursors older than that answer 410 after.

        Returns the number of changes removed. One write transaction.
        """
        with self.write() as conn:
            floor = max(self.feed_floor(), keep_after_seq)
            removed = conn.execute("DELETE FROM changes WHERE seq <= ?", (floor,)).rowcount
            conn.execute("DELETE FROM change_keys WHERE seq <= ?", (floor,))
            self.set_meta(conn, "feed_floor", str(floor))
        return removed

    def backup(self, target: str | os.PathLike[str]) -> None:
        """A consistent copy of the whole database, taken while the hub serves."""
        if os.path.exists(target):
            raise FileExistsError(f"{target} exists; choose a new file for the backup")
        # VACUUM INTO reads one snapshot (WAL): writers go on while it copies.
        self._connect().execute("VACUUM INTO ?", (str(target),)).connection.close()

    @staticmethod
    def rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
        return [dict(row) for row in cursor.fetchall()]
