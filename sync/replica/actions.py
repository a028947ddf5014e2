"""Every action of PROTOCOL.md, done on the device: checked, applied locally, queued.

Invariant: an action is one transaction that validates with `sync.model.decide` (so the
device refuses offline what the hub would refuse for a reason known offline), writes the
task row as the user should now see it, and appends the op to the outbox. Nothing is
queued that was refused; nothing is shown that is not queued.

`base_version` is sent for office edits but not checked here: only the hub knows whether
another dispatcher moved the task on.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any, Dict, List, Optional

from .. import model
from .core import Refused, ReplicaBase, utc_now
from .photos import prepare_photo


class ActionsMixin(ReplicaBase):
    """`act()` and one method per op type."""

    def _write_task(
        self, conn: Any, task: Dict[str, Any], server: Optional[str], pending: int
    ) -> None:
        raise NotImplementedError  # provided by ApplyMixin

    def act(
        self,
        op_type: str,
        task_id: Optional[str] = None,
        payload: Optional[Dict[str, Any]] = None,
        base_version: Optional[int] = None,
    ) -> Dict[str, Any]:
        """Does one action on the device; returns the task as it now shows.

        Raises `Refused(code, message)` and changes nothing when the action is refused.
        """
        payload = dict(payload or {})
        task_id = task_id or str(uuid.uuid4())
        op: Dict[str, Any] = {
            "op_id": str(uuid.uuid4()),
            "type": op_type,
            "task_id": task_id,
            "at": utc_now(),
            "payload": payload,
        }
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT server, pending FROM tasks WHERE id = ?", (task_id,)
            ).fetchone()
            current = self.task(task_id)
            try:
                model.validate_envelope(op)
            except model.OpError as err:
                raise Refused(err.code, err.message) from None
            decision = model.decide(self.actor, op, current, self, op["at"])
            if decision.status != "applied":
                raise Refused(decision.code or "refused", decision.message or "")
            for sha in model.photo_hashes(payload):
                if self.photo_bytes(sha) is None:
                    raise Refused("invalid_payload", f"photo {sha[:12]}… is not on this device")
            if base_version is not None:
                op["base_version"] = base_version
            conn.execute(
                "INSERT INTO outbox(op_id, type, task_id, at, payload, base_version) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    op["op_id"],
                    op_type,
                    task_id,
                    op["at"],
                    json.dumps(payload, ensure_ascii=False),
                    base_version,
                ),
            )
            assert decision.task is not None
            self._write_task(
                conn,
                decision.task,
                row["server"] if row else None,
                (row["pending"] if row else 0) + 1,
            )
        found = self.task(task_id)
        assert found is not None
        return found

    # ------------------------------------------------------------------ photos

    def add_photo(
        self,
        source: bytes,
        role: str,
        lon: Optional[float] = None,
        lat: Optional[float] = None,
        utc_offset: timedelta = timedelta(hours=8),
    ) -> Dict[str, Any]:
        """Keeps a camera photo on the device (upright, ≤ 1600 px, JPEG, no EXIF) and
        returns the photo item for an op. The EXIF position wins over `lon, lat` (the
        phone's fix when the photo was attached), which stand in when EXIF has none."""
        if role not in model.PHOTO_ROLES:
            raise Refused("invalid_payload", "photo role must be before, after or evidence")
        photo = prepare_photo(source, utc_offset)
        p_lon = photo.lon if photo.lon is not None else lon
        p_lat = photo.lat if photo.lat is not None else lat
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO photos(sha256, data, size, width, height, taken_at, "
                "lon, lat, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    photo.sha256,
                    photo.data,
                    len(photo.data),
                    photo.width,
                    photo.height,
                    photo.taken_at or utc_now(),
                    p_lon,
                    p_lat,
                    utc_now(),
                ),
            )
        return {
            "sha256": photo.sha256,
            "role": role,
            "taken_at": photo.taken_at or utc_now(),
            "lon": p_lon,
            "lat": p_lat,
        }

    # ------------------------------------------------------------------ one per op type

    def create_task(self, kind: str, lon: float, lat: float, **fields: Any) -> Dict[str, Any]:
        """An office task (or, for a worker, a patrol find: see `patrol_find`)."""
        return self.act(
            "task.create",
            fields.pop("task_id", None),
            {"kind": kind, "lon": lon, "lat": lat, **fields},
        )

    def patrol_find(
        self,
        kind: str,
        lon: float,
        lat: float,
        *,
        self_fix: bool,
        photos: Optional[List[Dict[str, Any]]] = None,
        **fields: Any,
    ) -> Dict[str, Any]:
        return self.create_task(
            kind, lon, lat, source="patrol", self_fix=self_fix, photos=photos or [], **fields
        )

    def triage(
        self,
        task_id: str,
        decision: str,
        reason: Optional[str] = None,
        duplicate_of: Optional[str] = None,
    ) -> Dict[str, Any]:
        payload: Dict[str, Any] = {"decision": decision}
        if reason is not None:
            payload["reason"] = reason
        if duplicate_of is not None:
            payload["duplicate_of"] = duplicate_of
        return self.act("task.triage", task_id, payload)

    def claim(self, task_id: str) -> Dict[str, Any]:
        return self.act("task.claim", task_id)

    def _server_version(self, task_id: str) -> Optional[int]:
        """The version the hub will hold when this edit reaches it, if nobody else moved the
        task: the hub's last version plus this device's waiting edits (the shown version).
        None for a task the hub has not seen yet."""
        row = self.conn.execute(
            "SELECT server, version FROM tasks WHERE id = ?", (task_id,)
        ).fetchone()
        return int(row[1]) if row and row[0] else None

    def assign(self, task_id: str, assignee_id: str) -> Dict[str, Any]:
        return self.act(
            "task.assign",
            task_id,
            {"assignee_id": assignee_id},
            base_version=self._server_version(task_id),
        )

    def update_task(self, task_id: str, **fields: Any) -> Dict[str, Any]:
        return self.act("task.update", task_id, fields, base_version=self._server_version(task_id))

    def cancel(
        self, task_id: str, reason: str, duplicate_of: Optional[str] = None
    ) -> Dict[str, Any]:
        payload: Dict[str, Any] = {"reason": reason}
        if duplicate_of:
            payload["duplicate_of"] = duplicate_of
        return self.act("task.cancel", task_id, payload, base_version=self._server_version(task_id))

    def decline(self, task_id: str, reason: str) -> Dict[str, Any]:
        return self.act("task.decline", task_id, {"reason": reason})

    def start(self, task_id: str) -> Dict[str, Any]:
        return self.act("task.start", task_id)

    def pause(self, task_id: str, reason: str) -> Dict[str, Any]:
        return self.act("task.pause", task_id, {"reason": reason})

    def resume(self, task_id: str) -> Dict[str, Any]:
        return self.act("task.resume", task_id)

    def submit(
        self,
        task_id: str,
        photos: List[Dict[str, Any]],
        note: Optional[str] = None,
        lon: Optional[float] = None,
        lat: Optional[float] = None,
        accuracy_m: Optional[float] = None,
    ) -> Dict[str, Any]:
        payload: Dict[str, Any] = {"photos": photos}
        for key, value in (("note", note), ("lon", lon), ("lat", lat), ("accuracy_m", accuracy_m)):
            if value is not None:
                payload[key] = value
        return self.act("task.submit", task_id, payload)

    def confirm(self, task_id: str, note: Optional[str] = None) -> Dict[str, Any]:
        return self.act("task.confirm", task_id, {"note": note} if note else {})

    def reject(self, task_id: str, comment: str) -> Dict[str, Any]:
        return self.act("task.reject", task_id, {"comment": comment})

    def reopen(self, task_id: str, reason: str) -> Dict[str, Any]:
        return self.act("task.reopen", task_id, {"reason": reason})

    def comment(self, task_id: str, text: str) -> Dict[str, Any]:
        return self.act("task.comment", task_id, {"text": text})
