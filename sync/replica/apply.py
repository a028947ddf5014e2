"""Taking in what the hub says: pulled changes, push answers, the twin extract.

Invariants:
- A page of changes is applied in one transaction together with its cursor, so a device
  killed mid-pull resumes from the last whole page. Applying never touches the outbox.
- Each task row shows the hub's last word (`server`) with the ops still in the outbox
  replayed on top (`rebase`), so the user sees their own work at once and the hub's truth
  after; an op the hub answered leaves the outbox in the same transaction as its effect.
- A refused op is kept in `refusals` with its payload until the user has seen it; its
  photos stay on the device meanwhile.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Dict, Iterable, List, Optional, Tuple

from .. import gpkg, model
from . import schema
from .actions import ActionsMixin
from .bulk import replace_features, upsert_features
from .core import utc_now

_TASK_ROW = ("geom", *schema.TASK_FIELDS, *schema.TASK_JSON_FIELDS, "server", "pending")


# One encoder for every task row (json.dumps with options makes a new one each call).
_to_json = json.JSONEncoder(ensure_ascii=False).encode


def _encode_task(task: Dict[str, Any]) -> Tuple[str, Tuple[str, ...]]:
    """The task as JSON (the `server` column) and its lists as JSON (the `photos`,
    `history` and `conflicts` columns), each list encoded once for both: the rest of the
    task is encoded, and the lists' texts are spliced in after it. The same JSON as
    `json.dumps(task, ensure_ascii=False)` when the lists come last, as the hub sends them."""
    rest = {k: v for k, v in task.items() if k not in schema.TASK_JSON_FIELDS}
    parts = [_to_json(rest)[1:-1]] if rest else []
    columns = []
    for key in schema.TASK_JSON_FIELDS:
        value = task.get(key)
        text = _to_json(value) if value else None
        columns.append(text or "[]")
        if key in task:
            parts.append(f'"{key}": {_to_json(value) if text is None else text}')
    return "{" + ", ".join(parts) + "}", tuple(columns)


def _task_values(
    task: Dict[str, Any],
    server: Optional[str],
    pending: int,
    lists: Optional[Tuple[str, ...]] = None,
) -> tuple:
    """A `tasks` row (`_TASK_ROW` order); `lists` are the JSON field columns when already
    encoded (`_encode_task`)."""
    point = None
    if task.get("lon") is not None and task.get("lat") is not None:
        point = gpkg.gpkg_blob({"type": "Point", "coordinates": [task["lon"], task["lat"]]})
    if lists is None:
        lists = tuple(_to_json(task.get(k) or []) for k in schema.TASK_JSON_FIELDS)
    return (point, *(task.get(k) for k in schema.TASK_FIELDS), *lists, server, pending)


class ApplyMixin(ActionsMixin):
    """Pull apply, push answers, rebase, extract."""

    def _write_task(
        self, conn: Any, task: Dict[str, Any], server: Optional[str], pending: int
    ) -> None:
        upsert_features(conn, "tasks", list(_TASK_ROW), [_task_values(task, server, pending)])

    def rebase(self, conn: sqlite3.Connection, task_id: str) -> None:
        """Recomputes a task row: the hub's version, then each waiting op replayed on it.

        An op that no longer applies (the hub moved the task on) is left in the outbox,
        unshown; the hub will answer it. No hub version and no waiting op: the row goes.
        """
        row = conn.execute("SELECT server FROM tasks WHERE id = ?", (task_id,)).fetchone()
        server = row[0] if row else None
        ops = [
            dict(r)
            for r in conn.execute(
                "SELECT op_id, type, task_id, at, payload FROM outbox WHERE task_id = ? "
                "ORDER BY fid",
                (task_id,),
            )
        ]
        if server is None and not ops:
            conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
            return
        task: Optional[Dict[str, Any]] = json.loads(server) if server else None
        if task is not None:
            task.setdefault("past_assignee_ids", [])
        actor = self.actor
        for op in ops:
            op["payload"] = json.loads(op["payload"])
            decision = model.decide(actor, op, task, self, op["at"])
            if decision.status == "applied":
                task = decision.task
        if task is None:  # a create that no longer applies locally: keep it visible
            conn.execute("UPDATE tasks SET pending = ? WHERE id = ?", (len(ops), task_id))
            return
        self._write_task(conn, task, server, len(ops))

    # ------------------------------------------------------------------ pull

    def apply_changes(self, changes: List[Dict[str, Any]], cursor: str) -> int:
        """Applies one page of the feed and saves its cursor, in one transaction.

        Returns the number of changes applied. Never adds to the outbox.
        """
        with self.transaction(durable=False) as conn:
            waiting = {r[0] for r in conn.execute("SELECT DISTINCT task_id FROM outbox")}
            plain_tasks: List[tuple] = []
            twin: Dict[str, List[Dict[str, Any]]] = {}
            for change in changes:
                entity, key, data = change["entity"], change["id"], change.get("data")
                upsert = change["op"] == "upsert" and data is not None
                if entity == "task":
                    if key in waiting:
                        server = _to_json(data) if upsert else None
                        conn.execute("UPDATE tasks SET server = ? WHERE id = ?", (server, key))
                        self.rebase(conn, key)
                    elif upsert:
                        assert data is not None
                        server, lists = _encode_task(data)
                        plain_tasks.append(_task_values(data, server, 0, lists))
                    else:
                        conn.execute("DELETE FROM tasks WHERE id = ?", (key,))
                elif entity == "user":
                    self._apply_user(conn, key, data if upsert else None)
                elif entity == "grid":
                    self._apply_grid(conn, key, data if upsert else None)
                elif entity == "twin_feature":
                    twin.setdefault("remove" if not upsert else "upsert", []).append(
                        data if upsert and data is not None else {"id": key}
                    )
            if plain_tasks:
                upsert_features(conn, "tasks", list(_TASK_ROW), plain_tasks)
            self._apply_twin(
                conn, twin.get("upsert", []), [f["id"] for f in twin.get("remove", [])]
            )
            conn.execute(
                "INSERT INTO sync_state(key, value) VALUES ('cursor', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (cursor,),
            )
            conn.execute(
                "INSERT INTO sync_state(key, value) VALUES ('last_pull_at', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (utc_now(),),
            )
        return len(changes)

    def _apply_user(
        self, conn: sqlite3.Connection, user_id: str, data: Optional[Dict[str, Any]]
    ) -> None:
        if data is None:
            conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
            return
        conn.execute(
            "INSERT INTO users(id, username, display_name, role, street_code, grid_codes, "
            "on_duty) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "username = excluded.username, display_name = excluded.display_name, "
            "role = excluded.role, street_code = excluded.street_code, "
            "grid_codes = excluded.grid_codes, on_duty = excluded.on_duty",
            (
                user_id,
                data.get("username"),
                data.get("display_name"),
                data.get("role"),
                data.get("street_code"),
                json.dumps(data.get("grid_codes") or []),
                None if data.get("on_duty") is None else int(bool(data["on_duty"])),
            ),
        )
        me = self.me
        if me is not None and me["id"] == user_id:
            me.update(
                {
                    k: data[k]
                    for k in ("display_name", "role", "street_code", "grid_codes", "on_duty")
                    if k in data
                }
            )
            conn.execute(
                "UPDATE sync_state SET value = ? WHERE key = 'user'",
                (json.dumps(me, ensure_ascii=False),),
            )

    def _apply_grid(
        self, conn: sqlite3.Connection, code: str, data: Optional[Dict[str, Any]]
    ) -> None:
        self._grids = None
        if data is None:
            conn.execute("DELETE FROM grids WHERE code = ?", (code,))
            return
        geometry = data["geometry"]
        if geometry["type"] == "Polygon":
            geometry = {"type": "MultiPolygon", "coordinates": [geometry["coordinates"]]}
        props = data.get("properties") or {}
        upsert_features(
            conn,
            "grids",
            ["geom", "id", "code", "street_code", "name", "worker_ids"],
            [
                (
                    gpkg.gpkg_blob(geometry),
                    code,
                    code,
                    props.get("street_code"),
                    props.get("name"),
                    json.dumps(props.get("worker_ids") or []),
                )
            ],
            key="code",
        )

    def _apply_twin(
        self, conn: sqlite3.Connection, upserts: Iterable[Dict[str, Any]], removes: List[str]
    ) -> None:
        rows: Dict[str, List[tuple]] = {}
        for feature in upserts:
            props = dict(feature.get("properties") or {})
            layer = props.pop("layer", None)
            if layer not in schema.TWIN_LAYERS:
                continue
            fixed = [
                props.pop(k, None) for k in ("kind", "name", "grid_code", "street_code", "status")
            ]
            props.pop("id", None)
            rows.setdefault(layer, []).append(
                (
                    gpkg.gpkg_blob(feature["geometry"]),
                    feature["id"],
                    *fixed,
                    json.dumps(props, ensure_ascii=False) if props else "{}",
                )
            )
        for layer in schema.TWIN_LAYERS:
            # Removed features, and features that moved to another layer.
            gone = list(removes) + [
                r[1] for other, values in rows.items() if other != layer for r in values
            ]
            for start in range(0, len(gone), 500):
                chunk = gone[start : start + 500]
                conn.execute(
                    f"DELETE FROM {layer} WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )
        for layer, values in rows.items():
            upsert_features(
                conn,
                layer,
                ["geom", "id", "kind", "name", "grid_code", "street_code", "status", "props"],
                values,
            )

    # ------------------------------------------------------------------ push answers

    def apply_push_results(self, results: List[Dict[str, Any]]) -> Dict[str, int]:
        """Takes the hub's answers to a push; returns counts by status. One transaction."""
        counts: Dict[str, int] = {}
        with self.transaction() as conn:
            touched = []
            for result in results:
                status = str(result.get("status"))
                counts[status] = counts.get(status, 0) + 1
                row = conn.execute(
                    "SELECT * FROM outbox WHERE op_id = ?", (result.get("op_id"),)
                ).fetchone()
                if row is None:
                    continue
                if status == "retry":
                    conn.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE op_id = ?",
                        (result.get("code"), row["op_id"]),
                    )
                    for sha in result.get("missing") or []:
                        conn.execute("UPDATE photos SET uploaded = 0 WHERE sha256 = ?", (sha,))
                    continue
                conn.execute("DELETE FROM outbox WHERE op_id = ?", (row["op_id"],))
                task = result.get("task")
                server, lists = _encode_task(task) if task else (None, None)
                # A duplicate with a code is a refusal whose first answer was lost.
                if status == "rejected" or (status == "duplicate" and result.get("code")):
                    conn.execute(
                        "INSERT OR IGNORE INTO refusals(op_id, type, task_id, code, message, "
                        "payload, task, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            row["op_id"],
                            row["type"],
                            row["task_id"],
                            result.get("code"),
                            result.get("message"),
                            row["payload"],
                            server,
                            utc_now(),
                        ),
                    )
                if conn.execute("SELECT 1 FROM tasks WHERE id = ?", (row["task_id"],)).fetchone():
                    conn.execute(
                        "UPDATE tasks SET server = ? WHERE id = ?", (server, row["task_id"])
                    )
                elif task is not None:
                    upsert_features(
                        conn, "tasks", list(_TASK_ROW), [_task_values(task, server, 0, lists)]
                    )
                touched.append(row["task_id"])
            for task_id in dict.fromkeys(touched):
                self.rebase(conn, task_id)
            conn.execute(
                "INSERT INTO sync_state(key, value) VALUES ('last_push_at', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (utc_now(),),
            )
        return counts

    def mark_uploaded(self, sha256: str) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE photos SET uploaded = 1 WHERE sha256 = ?", (sha256,))

    def purge_photos(self) -> int:
        """Drops photos the hub holds and nothing here still needs: not in a waiting op,
        an unseen refusal, or an active task. Returns how many went. Costs nothing when
        no uploaded photo is left on the device (the usual case between syncs)."""
        with self.transaction() as conn:
            candidates = [
                r[0] for r in conn.execute("SELECT sha256 FROM photos WHERE uploaded = 1")
            ]
            if not candidates:
                return 0
            needed = set()
            for (payload,) in conn.execute("SELECT payload FROM outbox"):
                needed.update(model.photo_hashes(json.loads(payload)))
            for (payload,) in conn.execute("SELECT payload FROM refusals WHERE seen = 0"):
                needed.update(model.photo_hashes(json.loads(payload or "{}")))
            gone = 0
            for sha in candidates:
                if (
                    sha in needed
                    or conn.execute(
                        "SELECT 1 FROM tasks WHERE instr(photos, ?) > 0 AND status NOT IN "
                        "('closed', 'canceled', 'invalid') LIMIT 1",
                        (sha,),
                    ).fetchone()
                ):
                    continue
                conn.execute("DELETE FROM photos WHERE sha256 = ?", (sha,))
                gone += 1
        return gone

    # ------------------------------------------------------------------ extract, reset

    def load_extract(self, path: str, etag: Optional[str]) -> Dict[str, int]:
        """Replaces the twin layers and grids with those of a downloaded extract file, in
        one transaction; returns the rows per twin layer."""
        counts: Dict[str, int] = {}
        with self._lock:
            self.conn.execute("ATTACH DATABASE ? AS ext", (path,))  # not inside a transaction
            try:
                self._copy_extract(counts, etag)
            finally:
                self.conn.execute("DETACH DATABASE ext")
        self._grids = None
        return counts

    def _copy_extract(self, counts: Dict[str, int], etag: Optional[str]) -> None:
        # Not flushed at once (like a pulled page): a power cut may undo the whole load,
        # never tear it, and without its etag the next sync downloads the extract again.
        with self.transaction(durable=False) as conn:
            for layer, (_gtype, columns) in schema.TWIN_LAYERS.items():
                # Rows with their fids and the hub's R-tree as it is (checked first), the
                # triggers set aside meanwhile: no Python call per row.
                counts[layer] = replace_features(conn, "ext", layer, [c[0] for c in columns])
            conn.execute("DELETE FROM main.grids WHERE code NOT IN (SELECT code FROM ext.grids)")
            grid_rows = conn.execute(
                "SELECT geom, id, code, street_code, name FROM ext.grids"
            ).fetchall()
            upsert_features(
                conn,
                "main.grids",
                ["geom", "id", "code", "street_code", "name"],
                [tuple(r) for r in grid_rows],
                key="code",
            )
            conn.execute(
                "INSERT INTO sync_state(key, value) VALUES ('extract_etag', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (etag,),
            )

    def reset_scope(self) -> None:
        """Forgets the hub's data (a 410: the cursor is too old), keeping every op and photo
        still waiting; the next sync pulls the scope again from scratch."""
        with self.transaction() as conn:
            waiting = {r[0] for r in conn.execute("SELECT DISTINCT task_id FROM outbox")}
            conn.execute("UPDATE tasks SET server = NULL")
            for (task_id,) in conn.execute("SELECT id FROM tasks").fetchall():
                if task_id in waiting:
                    self.rebase(conn, task_id)
                else:
                    conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
            conn.execute("DELETE FROM users")
            conn.execute("DELETE FROM sync_state WHERE key IN ('cursor', 'extract_etag')")
