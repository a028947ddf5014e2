"""The scoped change feed: a snapshot for a new device, then the changes since a position.

Protocol kept (PROTOCOL.md `sync/changes`):
- A state is either `{"snap": S, "e": entity_index, "k": last_id}` (a new device being sent
  the tasks, users and grids in its scope as they stand, in id order, page by page; `S` is
  the feed position when the snapshot began) or `{"seq": N}` (changes after position N).
  After the snapshot the device reads changes after `S`, so nothing that happened during
  the snapshot is lost (a change seen twice is an idempotent upsert).
- A change page reads only the rows logged under the caller's feed keys
  (`sync.model.actor_feed_keys`), so its cost follows the changes in scope, not the city.
  Each entity appears once per page, as it stands now: `upsert` if the caller may see it,
  else `remove` (it left the scope, or was deleted).
- Positions below the feed floor (compacted) raise `CursorExpired`.
"""

from __future__ import annotations

from typing import Any

import orjson

from .. import gpkg, model
from .tasks import TaskMixin

SNAPSHOT_ENTITIES = ("task", "user", "grid")


class CursorExpired(Exception):
    """The position is older than the feed keeps: start again with an empty `since`."""


class FeedMixin(TaskMixin):
    """Reads the feed for one user."""

    def read_changes(
        self, user: dict[str, Any], state: dict[str, Any] | None, limit: int
    ) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
        """(changes, next state, has_more) for this user. Read-only, one snapshot."""
        actor = self.actor(user)
        epoch = self.get_meta("feed_epoch", "0")
        with self.snapshot():
            if not state:
                state = {"snap": self.feed_position(), "e": 0, "k": ""}
            elif str(state.get("ep", "0")) != epoch:
                raise CursorExpired("the hub was restored from a backup since this cursor")
            if "snap" in state:
                items, new_state, more = self._snapshot_page(actor, user, state, limit)
            else:
                seq = int(state["seq"])
                if seq < self.feed_floor() or seq > self.feed_position():
                    raise CursorExpired("the cursor is older than the feed keeps")
                items, new_state, more = self._change_page(actor, user, seq, limit)
        new_state["ep"] = epoch
        return items, new_state, more

    # ---------------------------------------------------------------- snapshot

    def _snapshot_page(
        self, actor: model.Actor, user: dict[str, Any], state: dict[str, Any], limit: int
    ) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
        if int(state["snap"]) < self.feed_floor():
            raise CursorExpired("the snapshot is older than the feed keeps")
        out: list[dict[str, Any]] = []
        index, last = int(state["e"]), str(state["k"])
        while index < len(SNAPSHOT_ENTITIES) and len(out) < limit:
            want = limit - len(out)
            items = self._snapshot_items(actor, user, SNAPSHOT_ENTITIES[index], last, want)
            out.extend(items)
            if len(items) < want:
                index, last = index + 1, ""
            else:
                last = str(items[-1]["id"])
        if index >= len(SNAPSHOT_ENTITIES):
            return out, {"seq": int(state["snap"])}, self._has_changes(actor, int(state["snap"]))
        return out, {"snap": state["snap"], "e": index, "k": last}, True

    def _snapshot_items(
        self, actor: model.Actor, user: dict[str, Any], entity: str, after: str, limit: int
    ) -> list[dict[str, Any]]:
        conn = self.reader
        if entity == "task":
            where, args = self.visible_tasks_sql(actor)
            rows = conn.execute(
                f"SELECT * FROM tasks WHERE {where} AND id > ? ORDER BY id LIMIT ?",
                [*args, after, limit],
            ).fetchall()
            return [self._change("task", r["id"], wire_task(r)) for r in rows]
        if entity == "user":
            sql, args = "SELECT id FROM users WHERE id > ?", [after]
            if actor.role != "admin":
                sql += " AND street_code = ?"
                args.append(actor.street_code)
            if actor.role == "worker":
                sql += " AND (role = 'worker' OR id = ?)"
                args.append(actor.id)
            rows = conn.execute(sql + " ORDER BY id LIMIT ?", [*args, limit]).fetchall()
            items = []
            for (user_id,) in rows:
                other = self.user(user_id)
                if other is not None:
                    items.append(self._change("user", user_id, self.user_view(actor, other)))
            return items
        sql, args = "SELECT * FROM grids WHERE code > ?", [after]
        if actor.role != "admin":
            sql += " AND street_code = ?"
            args.append(actor.street_code)
        rows = conn.execute(sql + " ORDER BY code LIMIT ?", [*args, limit]).fetchall()
        return [self._change("grid", r["code"], self.grid_feature(r)) for r in rows]

    @staticmethod
    def _change(entity: str, entity_id: str, data: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "entity": entity,
            "id": entity_id,
            "op": "upsert" if data else "remove",
            "data": data,
        }

    # ---------------------------------------------------------------- changes

    def _key_filter(self, actor: model.Actor) -> tuple[str, list[str]] | None:
        keys = model.actor_feed_keys(actor)
        if keys is None:
            return None
        ordered = sorted(keys)
        return f"key IN ({','.join('?' * len(ordered))})", ordered

    def _has_changes(self, actor: model.Actor, after: int) -> bool:
        flt = self._key_filter(actor)
        args: list[Any]
        if flt is None:
            sql, args = "SELECT 1 FROM changes WHERE seq > ? LIMIT 1", [after]
        else:
            sql, args = (
                f"SELECT 1 FROM change_keys WHERE {flt[0]} AND seq > ? LIMIT 1",
                [*flt[1], after],
            )
        return self.reader.execute(sql, args).fetchone() is not None

    def _change_page(
        self, actor: model.Actor, user: dict[str, Any], after: int, limit: int
    ) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
        flt = self._key_filter(actor)
        if flt is None:
            sql = "SELECT seq, entity, entity_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?"
            args: list[Any] = [after, limit + 1]
        else:
            sql = (
                "SELECT c.seq, c.entity, c.entity_id FROM changes c WHERE c.seq IN ("
                f"SELECT DISTINCT seq FROM change_keys WHERE {flt[0]} AND seq > ? "
                "ORDER BY seq LIMIT ?) ORDER BY c.seq"
            )
            args = [*flt[1], after, limit + 1]
        rows = self.reader.execute(sql, args).fetchall()
        has_more = len(rows) > limit
        rows = rows[:limit]
        position = rows[-1]["seq"] if rows else after
        latest: dict[tuple[str, str], int] = {}
        for row in rows:
            latest[(row["entity"], row["entity_id"])] = row["seq"]
        tasks = self._task_rows([eid for (entity, eid) in latest if entity == "task"])
        out = []
        for (entity, entity_id), _seq in sorted(latest.items(), key=lambda kv: kv[1]):
            if entity == "task":
                found = tasks.get(entity_id)
                if found is not None and model.can_see_task(actor, found[0]):
                    out.append(
                        {
                            "entity": "task",
                            "id": entity_id,
                            "op": "upsert",
                            "data": orjson.Fragment(found[1]),
                        }
                    )
                else:
                    out.append(self._change("task", entity_id, None))
            else:
                out.append(self._change(entity, entity_id, self._current(actor, entity, entity_id)))
        return out, {"seq": position}, has_more

    def _task_rows(self, ids: list[str]) -> dict[str, tuple[dict[str, Any], str]]:
        """id -> (the columns scope is decided by, the task's wire JSON built by SQLite),
        fetched in chunks: one query per 500 tasks, and no Python object per field."""
        rows: dict[str, tuple[dict[str, Any], str]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            cur = self.reader.cursor()
            cur.row_factory = None
            cur.execute(
                f"SELECT id, street_code, grid_code, status, assignee_id, reporter_id, "
                f"{WIRE_TASK_SQL} FROM tasks WHERE id IN ({marks})",
                chunk,
            )
            for tid, street, grid, status, assignee, reporter, wire in cur:
                scope = {
                    "street_code": street,
                    "grid_code": grid,
                    "status": status,
                    "assignee_id": assignee,
                    "reporter_id": reporter,
                }
                rows[tid] = (scope, wire)
        return rows

    def _current(self, actor: model.Actor, entity: str, entity_id: str) -> dict[str, Any] | None:
        """The entity as the actor may see it now, or None (a `remove`)."""
        if entity == "task":
            task = self.get_task(entity_id)
            if task is None or not model.can_see_task(actor, task):
                return None
            return model.public_task(task)
        if entity == "user":
            other = self.user(entity_id)
            if other is None or not model.can_see_street(actor, other["street_code"]):
                return None
            if actor.role == "worker" and other["role"] != "worker":
                return None
            return self.user_view(actor, other)
        if entity == "grid":
            grid = self.get_grid(entity_id)
            if grid is None or not model.can_see_street(actor, grid["properties"]["street_code"]):
                return None
            return grid
        if entity == "twin_feature":
            row = self.reader.execute("SELECT * FROM twin WHERE id = ?", (entity_id,)).fetchone()
            if row is None or not model.can_see_twin(actor, row["grid_code"], row["street_code"]):
                return None
            return twin_feature(row)
        return None

    @staticmethod
    def user_view(actor: model.Actor, other: dict[str, Any]) -> dict[str, Any]:
        """A user as this actor may see them: workers see colleagues' names only."""
        view = {
            k: other[k]
            for k in (
                "id",
                "username",
                "display_name",
                "role",
                "street_code",
                "grid_codes",
                "on_duty",
            )
        }
        if actor.role == "worker" and other["id"] != actor.id:
            view.pop("on_duty")
        return view


_WIRE_JSON = model.TASK_JSON_FIELDS
_WIRE_SCALARS = model.TASK_FIELDS
# The task object of PROTOCOL.md, serialised by SQLite itself (the hot path of a pull).
# SQLite writes a REAL in JSON with 15 significant digits; positions need 17 to come back
# as the same double, so they are printed with "%!.17g" and passed through as JSON numbers.
_EXACT = ("lon", "lat")
WIRE_TASK_SQL = "json_object({}, {}) AS wire".format(
    ", ".join(
        f"'{c}', CASE WHEN {c} IS NULL THEN NULL ELSE json(printf('%!.17g', {c})) END"
        if c in _EXACT
        else f"'{c}', {c}"
        for c in _WIRE_SCALARS
    ),
    ", ".join(f"'{c}', json({c})" for c in _WIRE_JSON),
)


def wire_task(row: Any) -> dict[str, Any]:
    """A task row as the feed sends it, without parsing its JSON columns: they go out as
    orjson fragments, as stored. Scope checks read only the plain columns (and
    `reporter_id`, which stays in for them: it is a user id, shown to whoever sees the task)."""
    out = row if isinstance(row, dict) else dict(row)  # fresh dicts are reused, not copied
    out.pop("past_assignee_ids", None)
    for key in _WIRE_JSON:
        out[key] = orjson.Fragment(out[key])
    return out


def twin_feature(row: Any) -> dict[str, Any]:
    """A twin row as the GeoJSON Feature the feed and the API send."""
    import json

    props = json.loads(row["props"])
    props.update(
        layer=row["layer"],
        kind=row["kind"],
        name=row["name"],
        grid_code=row["grid_code"],
        street_code=row["street_code"],
        status=row["status"],
        id=row["id"],
    )
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": gpkg.gpkg_blob_decode(row["geom"]),
        "properties": props,
    }
