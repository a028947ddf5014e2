"""Street cameras' detections turned into tasks: dispatch, merge, triage, auto-close, reopen.

PROTOCOL.md "Street cameras" fixes the answers; this module decides them. One detection is
one `write()` transaction (the writer's lock held throughout), in this order:

1. The grid holding the point (`locate`: in-memory buckets of grids, then the exact test);
   none is `outside_grids` and nothing is written.
2. The incidents of the same kind within the merge radius: a box in degrees from the
   radius, looked up in `incidents_rtree`, then the exact distance (`sync.geo`); nearest
   first. An incident whose task is final and can no longer be reopened leaves the R-tree.
3. `cleared: true`: the nearest matching incident whose camera task is `submitted` is
   closed (`task.confirm` by `system`) when the confidence reaches the threshold
   (`closed`); otherwise the clear is only recorded (`noted`).
4. An active incident (its task in an active status) takes the sighting, whatever the
   confidence (`merged`): count, last seen, cameras, latest snapshot. The sighting is
   written into the task's history (a `task.comment` by `system` with the snapshot as an
   `evidence` photo) when a camera sees it for the first time or the last such note is
   older than `note_interval_min`, so a problem seen every few seconds does not grow its
   task without bound; every sighting stays in `detections`.
5. Below the confidence threshold: a new task `reported` for triage (`queued_for_triage`).
6. An incident whose task closed within the reopen window: the task is reopened, given a
   new due time and assigned again (`reopened`).
7. Otherwise a new incident and task, `assigned` to the grid's worker on duty (the least
   busy when several are) (`dispatched`) or `open` in the street's queue (`queued`).

Tasks change only through `push_in` with ops of the `system` actor, so the ledger (exactly
once), history (`actor_id: "system"`, the detection's id in the payload), photo references
and the feed work as for any device's ops. A snapshot is recorded as a photo and referenced
by the task, so the task's audience may fetch it.
"""

from __future__ import annotations

import json
import math
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import geo, model
from .camera_rules import (
    ACTIONS,
    KIND_NAMES,
    CameraSettings,
    Detection,
    DetectionRefused,
    Snapshot,
)
from .tasks import TaskMixin

_METRES_PER_DEGREE = math.pi * geo.EARTH_RADIUS_M / 180.0

__all__ = [
    "ACTIONS",
    "KIND_NAMES",
    "CameraSettings",
    "Detection",
    "DetectionRefused",
    "IncidentMixin",
    "Snapshot",
]

# The hub's own account, as `push_in` takes a user: an admin of no street, so that it may
# dispatch, close and reopen in every street.
SYSTEM_USER: dict[str, Any] = {
    "id": model.SYSTEM_ID,
    "role": "admin",
    "street_code": None,
    "grid_codes": [],
}


@dataclass
class _Candidate:
    """An incident near a detection, with what its task's status says about it."""

    rid: int
    id: str
    task_id: str
    grid_code: str
    count: int
    camera_ids: list[str]
    noted_at: str | None
    status: str
    source: str
    updated_at: str
    distance_m: float


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _age_s(then: str | None, now: datetime) -> float:
    parsed = model.parse_time(then)
    return math.inf if parsed is None else (now - parsed).total_seconds()


class IncidentMixin(TaskMixin):
    """Camera detections, incidents, and the tasks the hub makes of them."""

    def camera_key(self, key_hash: str) -> tuple[str, str] | None:
        """(name, purpose) of a live API key, or None if unknown or revoked."""
        row = self.reader.execute(
            "SELECT name, purpose FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
            (key_hash,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def record_detection(
        self,
        det: Detection,
        key_name: str,
        settings: CameraSettings,
        snapshot: Snapshot | None = None,
    ) -> dict[str, Any]:
        """Decides and applies one detection; returns PROTOCOL.md's answer
        `{detection_id, incident_id, task_id, action}`.

        One write transaction: the detection row, the incident, the snapshot's photo
        record and every task op commit together or not at all. Raises `DetectionRefused`
        (`outside_grids`) with nothing written.
        """
        detection_id = str(uuid.uuid4())
        with self.write() as conn:
            # The clock is read under the writer's lock: sightings' times follow commit order.
            received = datetime.now(timezone.utc)
            now = _iso(received)
            located = self.locate(det.lon, det.lat)
            if located is None:
                raise DetectionRefused("outside_grids", "the point is in no grid")
            if snapshot is not None:
                conn.execute(
                    "INSERT OR IGNORE INTO photos(sha256, size, content_type, width, height, "
                    "uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        snapshot.sha256,
                        snapshot.size,
                        snapshot.content_type,
                        snapshot.width,
                        snapshot.height,
                        model.SYSTEM_ID,
                        now,
                    ),
                )
            step = _Step(self, conn, det, detection_id, settings, snapshot, received, now)
            incident_id, task_id, action = step.run(located)
            conn.execute(
                "INSERT INTO detections(id, camera_id, key_name, kind, lon, lat, confidence, "
                "cleared, detected_at, received_at, snapshot_sha256, incident_id, task_id, "
                "action, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    detection_id,
                    det.camera_id,
                    key_name,
                    det.kind,
                    det.lon,
                    det.lat,
                    det.confidence,
                    int(det.cleared),
                    det.detected_at,
                    now,
                    snapshot.sha256 if snapshot else None,
                    incident_id,
                    task_id,
                    action,
                    json.dumps(det.extra, ensure_ascii=False),
                ),
            )
        return {
            "detection_id": detection_id,
            "incident_id": incident_id,
            "task_id": task_id,
            "action": action,
        }

    def get_incident(self, incident_id: str) -> dict[str, Any] | None:
        """PROTOCOL.md's incident object (`snapshots` from its sightings, oldest first), or
        None. Read-only; the caller checks the scope through its task."""
        with self.snapshot() as conn:
            row = conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
            if row is None:
                return None
            snapshots = [
                r[0]
                for r in conn.execute(
                    "SELECT snapshot_sha256 FROM detections WHERE incident_id = ? AND cleared = 0 "
                    "AND snapshot_sha256 IS NOT NULL GROUP BY snapshot_sha256 ORDER BY MIN(rowid)",
                    (incident_id,),
                )
            ]
        return {
            "id": row["id"],
            "kind": row["kind"],
            "lon": row["lon"],
            "lat": row["lat"],
            "count": row["count"],
            "first_seen": row["first_seen"],
            "last_seen": row["last_seen"],
            "task_id": row["task_id"],
            "camera_ids": json.loads(row["camera_ids"]),
            "snapshots": snapshots,
        }

    def worker_on_duty(self, conn: sqlite3.Connection, grid_code: str) -> str | None:
        """The grid's worker on duty who has the fewest tasks in hand, or None."""
        workers = [
            r[0]
            for r in conn.execute(
                "SELECT u.id FROM user_grids ug JOIN users u ON u.id = ug.user_id "
                "WHERE ug.grid_code = ? AND u.role = 'worker' AND u.on_duty = 1 "
                "AND u.disabled = 0 ORDER BY u.id",
                (grid_code,),
            )
        ]
        if len(workers) <= 1:
            return workers[0] if workers else None
        loads = {
            worker: conn.execute(
                "SELECT COUNT(*) FROM tasks WHERE assignee_id = ? "
                "AND status IN ('assigned', 'in_progress', 'paused', 'rework')",
                (worker,),
            ).fetchone()[0]
            for worker in workers
        }
        return min(workers, key=lambda w: (loads[w], w))


class _Step:
    """One detection's decision and writes, inside `record_detection`'s transaction."""

    def __init__(
        self,
        store: IncidentMixin,
        conn: sqlite3.Connection,
        det: Detection,
        detection_id: str,
        settings: CameraSettings,
        snapshot: Snapshot | None,
        received: datetime,
        now: str,
    ) -> None:
        self.store = store
        self.conn = conn
        self.det = det
        self.detection_id = detection_id
        self.settings = settings
        self.snapshot = snapshot
        self.received = received
        self.now = now

    def run(self, located: tuple[str, str]) -> tuple[str | None, str | None, str]:
        """(incident_id, task_id, action); applies the action's writes."""
        det, settings = self.det, self.settings
        near = self._candidates()
        active = [c for c in near if c.status in model.ACTIVE]
        if det.cleared:
            return self._clear(near, active)
        if active:
            return self._merge(active[0])
        if det.confidence < settings.confidence_threshold:
            return self._create(located, triage=True)
        window_s = settings.reopen_window_h * 3600.0
        for cand in near:
            if cand.status == "closed" and _age_s(cand.updated_at, self.received) <= window_s:
                return self._reopen(cand)
        return self._create(located, triage=False)

    # ---------------------------------------------------------------- lookups

    def _candidates(self) -> list[_Candidate]:
        """Incidents of the detection's kind within the merge radius, nearest first.

        Those that can never match again (task canceled or invalid, or closed longer ago
        than the reopen window) are dropped from the R-tree on the way.
        """
        det, radius = self.det, self.settings.merge_radius_m
        dlat = radius / _METRES_PER_DEGREE * 1.01
        dlon = dlat / max(math.cos(math.radians(det.lat)), 1e-6)
        rows = self.conn.execute(
            "SELECT i.rid, i.id, i.task_id, i.grid_code, i.count, i.camera_ids, i.noted_at, "
            "i.lon, i.lat, t.status, t.source, t.updated_at FROM incidents_rtree r "
            "JOIN incidents i ON i.rid = r.id JOIN tasks t ON t.id = i.task_id "
            "WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ? AND i.kind = ?",
            (det.lon + dlon, det.lon - dlon, det.lat + dlat, det.lat - dlat, det.kind),
        ).fetchall()
        window_s = self.settings.reopen_window_h * 3600.0
        found: list[_Candidate] = []
        for row in rows:
            status = row["status"]
            if status in model.FINAL and (
                status != "closed" or _age_s(row["updated_at"], self.received) > window_s
            ):
                self.conn.execute("DELETE FROM incidents_rtree WHERE id = ?", (row["rid"],))
                continue
            distance = geo.distance_m(det.lon, det.lat, row["lon"], row["lat"])
            if distance <= radius:
                found.append(
                    _Candidate(
                        rid=row["rid"],
                        id=row["id"],
                        task_id=row["task_id"],
                        grid_code=row["grid_code"],
                        count=row["count"],
                        camera_ids=json.loads(row["camera_ids"]),
                        noted_at=row["noted_at"],
                        status=status,
                        source=row["source"],
                        updated_at=row["updated_at"],
                        distance_m=distance,
                    )
                )
        found.sort(key=lambda c: (c.distance_m, c.id))
        return found

    # ---------------------------------------------------------------- actions

    def _clear(
        self, near: list[_Candidate], active: list[_Candidate]
    ) -> tuple[str | None, str | None, str]:
        det = self.det
        if det.confidence >= self.settings.confidence_threshold:
            for cand in active:
                if cand.status == "submitted" and cand.source == "camera":
                    note = f"摄像头 {det.camera_id} 确认问题已消除（置信度 {det.confidence:.2f}）"
                    self._apply(cand.task_id, [("task.confirm", {"note": note})])
                    return cand.id, cand.task_id, "closed"
        matches = active or near
        if not matches:
            return None, None, "noted"
        return matches[0].id, matches[0].task_id, "noted"

    def _merge(self, cand: _Candidate) -> tuple[str | None, str | None, str]:
        det = self.det
        new_camera = det.camera_id not in cand.camera_ids
        interval_s = self.settings.note_interval_min * 60.0
        note = new_camera or _age_s(cand.noted_at, self.received) >= interval_s
        count = cand.count + 1
        self._update_incident(cand, count, noted=note)
        if note:
            text = f"摄像头 {det.camera_id} 再次发现（第 {count} 次，置信度 {det.confidence:.2f}）"
            self._apply(cand.task_id, [("task.comment", {"text": text})])
        elif self.snapshot is not None:
            self.conn.execute(
                "INSERT OR IGNORE INTO photo_refs(sha256, task_id) VALUES (?, ?)",
                (self.snapshot.sha256, cand.task_id),
            )
        return cand.id, cand.task_id, "merged"

    def _reopen(self, cand: _Candidate) -> tuple[str | None, str | None, str]:
        det = self.det
        self._update_incident(cand, cand.count + 1, noted=True)
        reason = f"摄像头 {det.camera_id} 在任务关闭后再次发现（置信度 {det.confidence:.2f}）"
        ops: list[tuple[str, dict[str, Any]]] = [
            ("task.reopen", {"reason": reason}),
            ("task.update", {"due_at": self._due()}),
        ]
        worker = self.store.worker_on_duty(self.conn, cand.grid_code)
        if worker is not None:
            ops.append(("task.assign", {"assignee_id": worker}))
        self._apply(cand.task_id, ops)
        return cand.id, cand.task_id, "reopened"

    def _create(self, located: tuple[str, str], triage: bool) -> tuple[str, str, str]:
        det, now = self.det, self.now
        grid_code, street_code = located
        incident_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
        worker = None if triage else self.store.worker_on_duty(self.conn, grid_code)
        payload: dict[str, Any] = {
            "kind": det.kind,
            "lon": det.lon,
            "lat": det.lat,
            "title": f"{KIND_NAMES[det.kind]}（摄像头 {det.camera_id}）"[: model.MAX_TITLE],
            "description": (
                f"摄像头 {det.camera_id} 于 {det.detected_at} 自动识别"
                f"（置信度 {det.confidence:.2f}）"
            ),
            "priority": "normal",
            "due_at": self._due(),
            "source": "camera",
            "incident_id": incident_id,
        }
        if worker is not None:
            payload["assignee_id"] = worker
        if triage:
            payload["triage"] = True
        rid = self.conn.execute(
            "INSERT INTO incidents(id, kind, lon, lat, street_code, grid_code, task_id, count, "
            "first_seen, last_seen, camera_ids, latest_snapshot, noted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            (
                incident_id,
                det.kind,
                det.lon,
                det.lat,
                street_code,
                grid_code,
                task_id,
                now,
                now,
                json.dumps([det.camera_id], ensure_ascii=False),
                self.snapshot.sha256 if self.snapshot else None,
                now,
            ),
        ).lastrowid
        self.conn.execute(
            "INSERT INTO incidents_rtree(id, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
            (rid, det.lon, det.lon, det.lat, det.lat),
        )
        self._apply(task_id, [("task.create", payload)])
        action = "queued_for_triage" if triage else ("dispatched" if worker else "queued")
        return incident_id, task_id, action

    # ---------------------------------------------------------------- writes

    def _due(self) -> str:
        hours = self.settings.service_levels_h.get(self.det.kind, 24.0)
        return _iso(self.received + timedelta(hours=hours))

    def _update_incident(self, cand: _Candidate, count: int, noted: bool) -> None:
        cameras = cand.camera_ids
        if self.det.camera_id not in cameras:
            cameras = [*cameras, self.det.camera_id]
        self.conn.execute(
            "UPDATE incidents SET count = ?, last_seen = ?, camera_ids = ?, "
            "latest_snapshot = COALESCE(?, latest_snapshot), noted_at = ? WHERE rid = ?",
            (
                count,
                self.now,
                json.dumps(cameras, ensure_ascii=False),
                self.snapshot.sha256 if self.snapshot else None,
                self.now if noted else cand.noted_at,
                cand.rid,
            ),
        )

    def _apply(self, task_id: str, steps: list[tuple[str, dict[str, Any]]]) -> None:
        """Applies the `system` actor's ops on one task through `push_in`. The first op
        carries the snapshot as an `evidence` photo; every op carries the detection's id.
        An op the model refuses is a bug here: it raises, and the transaction rolls back."""
        det = self.det
        ops = []
        for n, (op_type, payload) in enumerate(steps):
            payload = {**payload, "detection_id": self.detection_id}
            if n == 0 and self.snapshot is not None:
                payload["photos"] = [
                    {
                        "sha256": self.snapshot.sha256,
                        "role": "evidence",
                        "taken_at": det.detected_at,
                        "lon": det.lon,
                        "lat": det.lat,
                    }
                ]
            ops.append(
                {
                    "op_id": str(uuid.uuid4()),
                    "type": op_type,
                    "task_id": task_id,
                    "at": det.detected_at,
                    "payload": payload,
                }
            )
        device = f"camera:{det.camera_id}"[:128]
        results = self.store.push_in(self.conn, SYSTEM_USER, device, ops, self.now)
        refused = [r for r in results if r["status"] != "applied"]
        if refused:
            raise RuntimeError(f"the hub's own op was not applied: {refused[0]}")
