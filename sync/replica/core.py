"""The replica file: opening it, its transactions, its state, and reading tasks back.

One writer per replica (the UI and the sync job share one `Replica` object, whose lock
serialises writes); every change is one SQLite transaction, so a process killed at any
point leaves the file as it was before or after a whole step, never between. The WAL is
checkpointed in the background after the commits (`checkpoint`), never inside one. The
connection registers the `ST_*` functions the GeoPackage R-tree triggers call, so plain
`sqlite3` writes the file (no SpatiaLite on Android), and checks that SQLite has R*Tree.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Tuple

from .. import geo, gpkg, model
from . import schema
from .checkpoint import Checkpointer, configure


def utc_now() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class ReplicaError(Exception):
    """The replica cannot do what was asked (not logged in, corrupt state...)."""


class Refused(Exception):
    """An action refused on the device for a reason known offline (PROTOCOL.md codes)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ReplicaBase:
    """The file, its lock and its small state table."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self.checkpoints = Checkpointer(self.path)
        self.conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self.conn.row_factory = sqlite3.Row
        gpkg.register_st_functions(self.conn)
        gpkg.require_rtree(self.conn)
        self.conn.execute("PRAGMA synchronous=FULL")  # a phone loses power: lose nothing
        self.conn.execute("PRAGMA foreign_keys=ON")
        # The schema first, then WAL: a new file's GeoPackage header (application_id,
        # user_version) is then in the file itself, not only in the WAL, so GDAL and QGIS
        # see a GeoPackage even while a device has it open or was killed.
        with self.transaction():
            schema.create(self.conn)
        self.conn.execute("PRAGMA journal_mode=WAL")
        # Checkpoints on a thread of their own, not inside the COMMIT of a large load.
        configure(self.conn)
        self._grids: Optional[List[Tuple[str, str, Dict[str, Any]]]] = None

    def close(self) -> None:
        """Closes the file; a checkpoint still due runs at once, in the background."""
        with self._lock:
            self.checkpoints.close()
            self.conn.close()

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction (re-entrant: an inner one joins the outer).

        `durable=False` is for what the hub can send again (pulled pages): its commit is not
        flushed to storage at once (a power cut may undo it, never tear it; the cursor goes
        back with it). What the user did is always flushed before the call returns.
        """
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            if not durable:
                self.conn.execute("PRAGMA synchronous=NORMAL")
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.conn
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                self.conn.execute("COMMIT")
            finally:
                if not durable:
                    self.conn.execute("PRAGMA synchronous=FULL")
            self.checkpoints.wrote()

    # ------------------------------------------------------------------ state

    def state(self, key: str, default: Optional[str] = None) -> Optional[str]:
        row = self.conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row and row[0] is not None else default

    def set_state(self, key: str, value: Optional[str]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO sync_state(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @property
    def me(self) -> Optional[Dict[str, Any]]:
        """The logged-in user as the hub described them, or None."""
        text = self.state("user")
        return json.loads(text) if text else None

    @property
    def actor(self) -> model.Actor:
        user = self.me
        if user is None:
            raise ReplicaError("no one is logged in on this replica")
        return model.Actor(
            user["id"],
            user["role"],
            user.get("street_code"),
            frozenset(user.get("grid_codes") or ()),
        )

    @property
    def device_id(self) -> str:
        value = self.state("device_id")
        if value is None:
            import uuid

            value = str(uuid.uuid4())
            self.set_state("device_id", value)
        return value

    # ------------------------------------------------------------------ world (for decide)

    def _grid_list(self) -> List[Tuple[str, str, Dict[str, Any]]]:
        if self._grids is None:
            self._grids = [
                (row[0], row[1], gpkg.gpkg_blob_decode(row[2]) or {})
                for row in self.conn.execute("SELECT code, street_code, geom FROM grids")
            ]
        return self._grids

    def locate(self, lon: float, lat: float) -> Optional[Tuple[str, str]]:
        for code, street, geometry in self._grid_list():
            if geometry and geo.point_in_polygon(lon, lat, geometry):
                return code, street
        return None

    def near_grids(self, lon: float, lat: float, grid_codes: FrozenSet[str], meters: float) -> bool:
        for code, _street, geometry in self._grid_list():
            if code in grid_codes and geometry:
                if geo.distance_to_polygon_m(lon, lat, geometry) <= meters:
                    return True
        return False

    def user(self, user_id: str) -> Optional[Dict[str, Any]]:
        """A user of the street as last pulled (`sync.model.World`), or None."""
        row = self.conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["grid_codes"] = json.loads(out["grid_codes"] or "[]")
        return out

    # ------------------------------------------------------------------ reading tasks

    @staticmethod
    def _task_dict(row: sqlite3.Row) -> Dict[str, Any]:
        task = {k: row[k] for k in schema.TASK_FIELDS}
        for key in schema.TASK_JSON_FIELDS:
            task[key] = json.loads(row[key] or "[]")
        task["pending"] = row["pending"]
        task["past_assignee_ids"] = []
        return task

    def task(self, task_id: str) -> Optional[Dict[str, Any]]:
        """A task as the device shows it (the hub's word plus the ops still waiting)."""
        row = self.conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return self._task_dict(row) if row else None

    def tasks(self, statuses: Optional[List[str]] = None) -> List[Dict[str, Any]]:
        """Tasks, most urgent first (priority, then due time). Read-only."""
        sql = "SELECT * FROM tasks"
        args: List[Any] = []
        if statuses:
            sql += f" WHERE status IN ({','.join('?' * len(statuses))})"
            args = list(statuses)
        sql += (
            " ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 "
            "WHEN 'normal' THEN 2 ELSE 3 END, due_at IS NULL, due_at, created_at"
        )
        return [self._task_dict(r) for r in self.conn.execute(sql, args)]

    def outbox(self) -> List[Dict[str, Any]]:
        """Ops waiting for the hub's answer, oldest first."""
        out = []
        for row in self.conn.execute("SELECT * FROM outbox ORDER BY fid"):
            op = {
                "op_id": row["op_id"],
                "type": row["type"],
                "task_id": row["task_id"],
                "at": row["at"],
                "payload": json.loads(row["payload"]),
            }
            if row["base_version"] is not None:
                op["base_version"] = row["base_version"]
            out.append(op)
        return out

    def pending_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def refusals(self, unseen_only: bool = False) -> List[Dict[str, Any]]:
        """What the hub refused, newest first, with the payload the user sent."""
        sql = "SELECT * FROM refusals"
        if unseen_only:
            sql += " WHERE seen = 0"
        out = []
        for row in self.conn.execute(sql + " ORDER BY fid DESC"):
            item = dict(row)
            item["payload"] = json.loads(item["payload"] or "{}")
            item["task"] = json.loads(item["task"]) if item["task"] else None
            item.pop("fid", None)
            out.append(item)
        return out

    def mark_refusals_seen(self) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE refusals SET seen = 1 WHERE seen = 0")

    def photo_bytes(self, sha256: str) -> Optional[bytes]:
        row = self.conn.execute("SELECT data FROM photos WHERE sha256 = ?", (sha256,)).fetchone()
        return bytes(row[0]) if row else None

    def photos_to_upload(self) -> List[str]:
        """Hashes of photos the hub does not hold yet, oldest first."""
        return [
            r[0]
            for r in self.conn.execute("SELECT sha256 FROM photos WHERE uploaded = 0 ORDER BY fid")
        ]
