"""The hub's storage behind one narrow interface, so that PostgreSQL/PostGIS can replace it.

`SQLiteStore` (SQLite in WAL mode, one writer) is the embedded default. What the server
needs from any store, grouped by the module that implements it for SQLite:

- `base`: `write()` (the single writer's transaction), `snapshot()` (a consistent read),
  `log_change()`, `feed_position()`, `feed_floor()`, `compact_feed()`, `backup()`;
- `directory`: streets, grids (`upsert_grids`, `list_grids`, `locate`, `near_grids`),
  users (`add_user`, `user`, `user_by_username`, `list_users`, `set_duty`,
  `set_user_grids`, `set_password_hash`), tokens (`add_token`, `token_user`,
  `revoke_tokens`, `list_devices`), login failures, API keys;
- `tasks`: `push()` (PROTOCOL.md's per-op results, exactly once), `get_task()`,
  `list_tasks()`, `list_conflicts()`, `holds_photos()`;
- `feed`: `read_changes()` (snapshot, then scoped changes; `CursorExpired`);
- `twin`: `upsert_twin()`, `delete_twin()`, `iter_twin()`, `twin_etag()`;
- `photos` (table only): `add_photo_record()`, `photo_record()`, `photo_readable()`;
- `incidents`: `record_detection()` (a camera's detection: dispatch, merge, triage,
  auto-close, reopen, in one transaction), `get_incident()`, `camera_key()`;
- `open311`: `add_open311_request()` (a citizen's report: a `reported` task),
  `open311_request()`, `open311_requests()`, `open311_key_name()`.

Every method documents whether it writes; writes are one transaction each.
"""

from __future__ import annotations

import secrets
from typing import Any

from .. import model
from .base import utc_now
from .feed import CursorExpired
from .incidents import IncidentMixin
from .open311 import Open311Mixin
from .twin import TwinError, TwinMixin

__all__ = ["CursorExpired", "SQLiteStore", "TwinError", "utc_now"]


class SQLiteStore(IncidentMixin, Open311Mixin, TwinMixin):
    """The hub's store on one SQLite file."""

    def __init__(self, path: Any) -> None:
        super().__init__(path)
        if self.get_meta("instance_id") is None:
            with self.write() as conn:
                self.set_meta(conn, "instance_id", secrets.token_hex(8))
                self.set_meta(conn, "cursor_secret", secrets.token_hex(32))

    # ---------------------------------------------------------------- photos

    def add_photo_record(
        self, sha256: str, size: int, content_type: str, width: int, height: int, user_id: str
    ) -> bool:
        """Records a complete, checked photo; True if it is new. One transaction."""
        with self.write() as conn:
            new = (
                conn.execute(
                    "INSERT OR IGNORE INTO photos(sha256, size, content_type, width, height, "
                    "uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (sha256, size, content_type, width, height, user_id, utc_now()),
                ).rowcount
                == 1
            )
            conn.execute(
                "INSERT OR IGNORE INTO photo_uploaders(sha256, user_id) VALUES (?, ?)",
                (sha256, user_id),
            )
        return new

    def photo_record(self, sha256: str) -> dict[str, Any] | None:
        row = self.reader.execute("SELECT * FROM photos WHERE sha256 = ?", (sha256,)).fetchone()
        return dict(row) if row else None

    def photo_readable(self, user: dict[str, Any], sha256: str) -> bool:
        """May this user fetch the photo: they uploaded it, or see a task that uses it."""
        actor = self.actor(user)
        conn = self.reader
        if conn.execute(
            "SELECT 1 FROM photo_uploaders WHERE sha256 = ? AND user_id = ?", (sha256, actor.id)
        ).fetchone():
            return True
        for (task_id,) in conn.execute(
            "SELECT task_id FROM photo_refs WHERE sha256 = ?", (sha256,)
        ).fetchall():
            task = self.get_task(task_id)
            if task is not None and model.can_see_task(actor, task):
                return True
        return False
