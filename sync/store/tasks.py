"""Tasks and the push protocol: each op applied at most once, with its effects, in order.

Invariants (PROTOCOL.md "Sync"):
- A push is one write transaction. For each op, in order: an `op_id` seen before answers
  `duplicate` (nothing applied); else `sync.model.decide()` says `applied` or `rejected`;
  an op whose photos the hub does not hold yet answers `retry` (`missing_photos`) and is not
  recorded, and later ops of the same request on that task answer `retry` (`blocked`).
- An applied op writes the task row, its history, its photos' references, the `ops` ledger
  row and a change in the feed, together. A rejected op writes the ledger row (the sender's
  `conflicts` list) and, where the task exists and the sender may see it or was its
  assignee, an entry in the task's `conflicts` with the full payload and photo references.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import orjson

from .. import model
from .base import utc_now
from .directory import DirectoryMixin

_TASK_JSON = (*model.TASK_JSON_FIELDS, "past_assignee_ids")


def _dumps(value: Any) -> str:
    """JSON text for a column; values orjson cannot write (huge ints) fall back to json."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


def task_from_row(row: sqlite3.Row) -> dict[str, Any]:
    task = dict(row)
    for key in _TASK_JSON:
        task[key] = orjson.loads(task[key])
    return task


class _PushBatch:
    """What one push reads up front and writes at its end, in a few statements instead of
    a few per op: the ledger rows already held for its op_ids, the photos held, and the
    ledger and photo-reference rows it adds. Lives only inside the push's transaction."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[str, str | None, str | None]] = {}
        self.photos: set[str] = set()
        self.ledger: list[tuple[Any, ...]] = []
        self.refs: list[tuple[str, str]] = []

    @classmethod
    def prefetch(cls, store: TaskMixin, conn: sqlite3.Connection, ops: list[Any]) -> _PushBatch:
        batch = cls()
        ids = [op["op_id"] for op in ops if isinstance(op, dict) and model.is_uuid(op.get("op_id"))]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for op_id, status, code, message in conn.execute(
                f"SELECT op_id, status, code, message FROM ops WHERE op_id IN ({marks})", chunk
            ):
                batch.seen[op_id] = (status, code, message)
        hashes = sorted(
            {h for op in ops if isinstance(op, dict) for h in model.photo_hashes(op.get("payload"))}
        )
        for start in range(0, len(hashes), 500):
            batch.photos |= store.holds_photos(hashes[start : start + 500], conn)
        return batch

    def flush(self, conn: sqlite3.Connection) -> None:
        conn.executemany(
            "INSERT INTO ops(op_id, actor_id, device_id, task_id, type, status, code, message, "
            "at, server_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.ledger,
        )
        conn.executemany(
            "INSERT OR IGNORE INTO photo_refs(sha256, task_id) VALUES (?, ?)", self.refs
        )


class TaskMixin(DirectoryMixin):
    """Reading tasks and applying pushes."""

    def get_task(self, task_id: str, conn: sqlite3.Connection | None = None) -> dict | None:
        """The task with its internal fields (reporter, past assignees), or None."""
        row = (
            (conn or self.reader).execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        )
        return task_from_row(row) if row else None

    def _save_task(self, conn: sqlite3.Connection, task: dict[str, Any], insert: bool) -> None:
        columns = [c for c in model.TASK_FIELDS if c != "id"]
        values = [task[c] for c in columns] + [_dumps(task[k]) for k in _TASK_JSON]
        columns += list(_TASK_JSON)
        if insert:
            conn.execute(
                f"INSERT INTO tasks(id, {', '.join(columns)}) VALUES (?{', ?' * len(columns)})",
                [task["id"], *values],
            )
        else:
            conn.execute(
                f"UPDATE tasks SET {', '.join(c + ' = ?' for c in columns)} WHERE id = ?",
                [*values, task["id"]],
            )

    def holds_photos(self, hashes: list[str], conn: sqlite3.Connection | None = None) -> set[str]:
        """The subset of these photo hashes the hub holds complete."""
        if not hashes:
            return set()
        conn = conn or self.reader
        marks = ",".join("?" * len(hashes))
        return {
            r[0]
            for r in conn.execute(f"SELECT sha256 FROM photos WHERE sha256 IN ({marks})", hashes)
        }

    def push(
        self, user: dict[str, Any], device_id: str, ops: list[Any], now: str | None = None
    ) -> list[dict[str, Any]]:
        """Applies a device's ops in order; returns one result per op (PROTOCOL.md shape).

        One write transaction for the whole request: an unexpected error rolls every op of
        the request back, so a retry of the same request is always safe. `now` backdates
        the hub's clock for seeding and imports; the API never passes it.
        """
        # One stamp for the request: its ops commit together, at one moment.
        now = now or utc_now()
        with self.write() as conn:
            return self.push_in(conn, user, device_id, ops, now)

    def push_in(
        self,
        conn: sqlite3.Connection,
        user: dict[str, Any],
        device_id: str,
        ops: list[Any],
        now: str,
    ) -> list[dict[str, Any]]:
        """`push` inside the caller's `write()` transaction, for the hub's own ops (camera
        dispatch, auto-close, reopen) that must commit with the rest of their work."""
        actor = self.actor(user)
        results: list[dict[str, Any]] = []
        blocked: set[str] = set()
        self._local.push_users = {}
        self._local.push_tasks = {}
        try:
            self._local.push = _PushBatch.prefetch(self, conn, ops)
            for op in ops:
                results.append(self._push_one(conn, actor, device_id, op, blocked, now))
            self._flush_tasks(conn, now)
            self._local.push.flush(conn)
        finally:
            self._local.push_users = None
            self._local.push_tasks = None
            self._local.push = None
        return results

    # A push's tasks are read once and written once, however many of its ops touch them:
    # id -> [task as it now stands, existed before the push, changed, feed keys so far].

    def _load(self, conn: sqlite3.Connection, task_id: str) -> dict[str, Any] | None:
        staged = self._local.push_tasks
        if task_id not in staged:
            task = self.get_task(task_id, conn)
            staged[task_id] = [task, task is not None, False, set()]
        found: dict[str, Any] | None = staged[task_id][0]
        return found

    def _stage(self, task: dict[str, Any], before: dict[str, Any] | None) -> None:
        entry = self._local.push_tasks[task["id"]]
        entry[0], entry[2] = task, True
        entry[3] |= model.task_audience(task)
        if before is not None:
            entry[3] |= model.task_audience(before)

    def _flush_tasks(self, conn: sqlite3.Connection, now: str) -> None:
        """Writes each changed task once, and one feed change for it, readable by whoever
        saw it before the push, at any step of it, or after."""
        for task, existed, changed, keys in self._local.push_tasks.values():
            if changed:
                self._save_task(conn, task, insert=not existed)
                self.log_change(conn, "task", task["id"], keys, now)

    def _result(
        self,
        actor: model.Actor,
        op_id: Any,
        status: str,
        code: str | None,
        message: str | None,
        task: dict[str, Any] | None,
    ) -> dict[str, Any]:
        visible = task if task is not None and model.can_see_task(actor, task) else None
        return {
            "op_id": op_id,
            "status": status,
            "code": code,
            "message": message,
            "task": model.public_task(visible) if visible else None,
        }

    def _push_one(
        self,
        conn: sqlite3.Connection,
        actor: model.Actor,
        device_id: str,
        op: Any,
        blocked: set[str],
        now: str | None,
    ) -> dict[str, Any]:
        op_id = op.get("op_id") if isinstance(op, dict) else None
        if model.is_uuid(op_id):
            # The ledger first: an op seen before answers as it did, whatever it carries now.
            seen = self._local.push.seen.get(op_id)
            if seen is not None:
                task_id = op.get("task_id")
                task = self._load(conn, task_id) if model.is_uuid(task_id) else None
                return self._result(actor, op_id, "duplicate", seen[1], seen[2], task)
        try:
            model.validate_envelope(op)
        except model.OpError as err:
            # Without a valid op_id there is nothing to key it by: answered, not recorded.
            if not model.is_uuid(op_id):
                return self._result(actor, op_id, "rejected", err.code, err.message, None)
            task = None
            if model.is_uuid(op.get("task_id")):
                task = self._load(conn, op["task_id"])
            return self._refuse(conn, actor, device_id, op, task, err.code, err.message, now)
        task = self._load(conn, op["task_id"])
        if op["task_id"] in blocked:
            return {
                **self._result(
                    actor,
                    op_id,
                    "retry",
                    "blocked",
                    "an earlier op on this task waits for its photos",
                    None,
                ),
                "missing": [],
            }
        server_at = now or utc_now()
        decision = model.decide(actor, op, task, self, server_at)
        if decision.status == "applied" or decision.code not in ("not_found", "invalid_payload"):
            hashes = model.photo_hashes(op.get("payload"))
            missing = [h for h in hashes if h not in self._local.push.photos]
            if missing:
                blocked.add(op["task_id"])
                return {
                    **self._result(
                        actor,
                        op_id,
                        "retry",
                        "missing_photos",
                        "upload these photos first: " + ", ".join(missing),
                        None,
                    ),
                    "missing": missing,
                }
        if decision.status == "rejected":
            return self._refuse(
                conn, actor, device_id, op, task, decision.code or "", decision.message or "", now
            )
        new = decision.task
        assert new is not None
        self._stage(new, task)
        self._ledger(conn, actor, device_id, op, "applied", None, None, server_at)
        for photo in decision.photos:
            self._local.push.refs.append((photo["sha256"], new["id"]))
        return self._result(actor, op_id, "applied", None, None, new)

    def _ledger(
        self,
        conn: sqlite3.Connection,
        actor: model.Actor,
        device_id: str,
        op: dict[str, Any],
        status: str,
        code: str | None,
        message: str | None,
        server_at: str,
    ) -> None:
        payload = op.get("payload") if isinstance(op.get("payload"), dict) else {}
        self._local.push.seen[op["op_id"]] = (status, code, message)
        self._local.push.ledger.append(
            (
                op["op_id"],
                actor.id,
                device_id,
                str(op.get("task_id"))[:64],
                str(op.get("type"))[:64],
                status,
                code,
                message,
                str(op.get("at"))[:64],
                server_at,
                _dumps(payload),
            )
        )

    def _refuse(
        self,
        conn: sqlite3.Connection,
        actor: model.Actor,
        device_id: str,
        op: dict[str, Any],
        task: dict[str, Any] | None,
        code: str,
        message: str,
        now: str | None = None,
    ) -> dict[str, Any]:
        server_at = now or utc_now()
        self._ledger(conn, actor, device_id, op, "rejected", code, message, server_at)
        keeps = task is not None and (
            model.can_see_task(actor, task) or actor.id in task.get("past_assignee_ids", [])
        )
        if keeps and code != "not_found":
            assert task is not None
            task = dict(task)
            task["conflicts"] = [
                *task["conflicts"],
                model.conflict_entry(actor.id, op, code, server_at),
            ]
            self._stage(task, None)
            for sha in model.photo_hashes(op.get("payload")):
                self._local.push.refs.append((sha, task["id"]))
        return self._result(actor, op["op_id"], "rejected", code, message, task)

    def list_conflicts(self, user: dict[str, Any], limit: int = 500) -> list[dict[str, Any]]:
        """The user's own refused ops, newest first, each with the task as they may see it."""
        actor = self.actor(user)
        rows = self.reader.execute(
            "SELECT op_id, type, task_id, code, message, at, server_at, payload FROM ops "
            "WHERE actor_id = ? AND status = 'rejected' ORDER BY server_at DESC, rowid DESC "
            "LIMIT ?",
            (actor.id, limit),
        ).fetchall()
        out = []
        for row in rows:
            item = dict(row)
            item["payload"] = json.loads(item["payload"])
            task = self.get_task(row["task_id"]) if model.is_uuid(row["task_id"]) else None
            visible = task is not None and model.can_see_task(actor, task)
            item["task"] = model.public_task(task) if visible and task else None
            out.append(item)
        return out

    def visible_tasks_sql(self, actor: model.Actor) -> tuple[str, list[Any]]:
        """A WHERE clause (over `tasks`) selecting exactly the tasks the actor may see."""
        if actor.role == "admin":
            return "1 = 1", []
        if actor.role in model.OFFICE_ROLES:
            return "street_code = ?", [actor.street_code]
        grids = sorted(actor.grid_codes)
        clause = "(assignee_id = ? OR reporter_id = ?"
        args: list[Any] = [actor.id, actor.id]
        if grids:
            clause += (
                f" OR (status = 'open' AND assignee_id IS NULL AND grid_code IN "
                f"({','.join('?' * len(grids))}))"
            )
            args += grids
        return clause + ")", args

    def list_tasks(
        self, user: dict[str, Any], status: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        actor = self.actor(user)
        where, args = self.visible_tasks_sql(actor)
        if status is not None:
            where += " AND status = ?"
            args.append(status)
        rows = self.reader.execute(
            f"SELECT * FROM tasks WHERE {where} ORDER BY created_at DESC LIMIT ?", [*args, limit]
        ).fetchall()
        return [model.public_task(task_from_row(r)) for r in rows]

    def user(self, user_id: str) -> dict[str, Any] | None:
        """As `DirectoryMixin.user`, remembered for the length of one push (the writer's
        lock is held, so users cannot change meanwhile); per thread."""
        cache = getattr(self._local, "push_users", None)
        if cache is None:
            return super().user(user_id)
        if user_id not in cache:
            cache[user_id] = super().user(user_id)
        return cache[user_id]
