"""Who and where: streets, grids (with the spatial lookup), users, tokens, API keys.

Passwords and tokens arrive here already hashed (`sync.server.auth` hashes them): the
store never sees a secret. Every change to a user or a grid is logged in the feed under
the street's reference key, so devices learn about new colleagues and redrawn grids.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from typing import Any

from .. import geo, model
from .base import StoreBase, utc_now


class DirectoryMixin(StoreBase):
    """Streets, grids, users, tokens and API keys; also `sync.model.World` for `decide()`."""

    _grid_cache: dict[str, tuple[str, dict[str, Any]]]
    _buckets: tuple[float, tuple[Any, ...], dict[tuple[int, int], list[Any]]] | None

    # ---------------------------------------------------------------- streets and grids

    def upsert_street(self, code: str, name: str, district: str = "") -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO streets(code, name, district) VALUES (?, ?, ?) ON CONFLICT(code) "
                "DO UPDATE SET name = excluded.name, district = excluded.district",
                (code, name, district),
            )

    def list_streets(self) -> list[dict[str, Any]]:
        return self.rows(self.reader.execute("SELECT * FROM streets ORDER BY code"))

    def upsert_grids(
        self, grids: list[dict[str, Any]], new_streets: dict[str, str] | None = None
    ) -> int:
        """Adds or redraws grids `{code, street_code, name, geometry}`, first adding the
        streets in `new_streets` (code -> name) that do not exist; one transaction.

        Raises ValueError (nothing written) for an unknown street or a bad polygon.
        """
        now = utc_now()
        with self.write() as conn:
            for street_code, name in (new_streets or {}).items():
                if not model.is_code(street_code):
                    raise ValueError(f"bad street code {street_code!r}")
                conn.execute(
                    "INSERT OR IGNORE INTO streets(code, name) VALUES (?, ?)", (street_code, name)
                )
            for grid in grids:
                code, street = grid.get("code"), grid.get("street_code")
                if not model.is_code(code):
                    raise ValueError(f"bad grid code {code!r}")
                if not conn.execute("SELECT 1 FROM streets WHERE code = ?", (street,)).fetchone():
                    raise ValueError(f"grid {code}: unknown street {street!r}")
                geometry = geo.check_geometry(grid.get("geometry"))
                if geometry["type"] not in ("Polygon", "MultiPolygon"):
                    raise ValueError(f"grid {code}: geometry must be a polygon")
                minx, miny, maxx, maxy = geo.bbox(geometry)
                row = conn.execute("SELECT rid FROM grids WHERE code = ?", (code,)).fetchone()
                values = (street, grid.get("name") or code, json.dumps(geometry), now)
                if row:
                    rid = row[0]
                    conn.execute(
                        "UPDATE grids SET street_code = ?, name = ?, geometry = ?, updated_at = ? "
                        "WHERE rid = ?",
                        (*values, rid),
                    )
                    conn.execute("DELETE FROM grids_rtree WHERE id = ?", (rid,))
                else:
                    rid = conn.execute(
                        "INSERT INTO grids(street_code, name, geometry, updated_at, code) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (*values, code),
                    ).lastrowid
                conn.execute(
                    "INSERT INTO grids_rtree(id, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
                    (rid, minx, maxx, miny, maxy),
                )
                self.log_change(conn, "grid", str(code), model.reference_audience(str(street)), now)
        self._grid_cache = {}
        self._buckets = None
        return len(grids)

    def _grid_geometry(self, code: str) -> tuple[str, dict[str, Any]] | None:
        self._grid_buckets()  # refreshes (and clears this cache) when grids changed
        cache = getattr(self, "_grid_cache", None)
        if cache is None:
            cache = self._grid_cache = {}
        if code not in cache:
            row = self.reader.execute(
                "SELECT street_code, geometry FROM grids WHERE code = ?", (code,)
            ).fetchone()
            if row is None:
                return None
            cache[code] = (row[0], json.loads(row[1]))
        return cache[code]

    def _grid_buckets(self) -> dict[tuple[int, int], list[tuple[str, str, dict[str, Any]]]]:
        """Grids by 0.01° cell of their bounding box, kept in memory (a city has thousands
        of grids: a few MB). Rebuilt when the grids table changes, even from another
        process (checked at most every 2 s)."""
        now = time.monotonic()
        cached = getattr(self, "_buckets", None)
        if cached is not None and now - cached[0] < 2.0:
            return cached[2]
        stamp = tuple(
            self.reader.execute("SELECT COUNT(*), MAX(updated_at), MAX(rid) FROM grids").fetchone()
        )
        if cached is not None and cached[1] == stamp:
            self._buckets = (now, stamp, cached[2])
            return cached[2]
        buckets: dict[tuple[int, int], list[tuple[str, str, dict[str, Any]]]] = {}
        for code, street, text in self.reader.execute(
            "SELECT code, street_code, geometry FROM grids ORDER BY code"
        ):
            geometry = json.loads(text)
            minx, miny, maxx, maxy = geo.bbox(geometry)
            for bx in range(math.floor(minx * 100), math.floor(maxx * 100) + 1):
                for by in range(math.floor(miny * 100), math.floor(maxy * 100) + 1):
                    buckets.setdefault((bx, by), []).append((code, street, geometry))
        self._buckets = (now, stamp, buckets)
        self._grid_cache = {}
        return buckets

    def locate(self, lon: float, lat: float) -> tuple[str, str] | None:
        """(grid_code, street_code) of the grid holding the point: a bucket of candidate
        grids by bounding box, then the exact test. (PostGIS: a GiST index, ST_Contains.)"""
        cell = (math.floor(lon * 100), math.floor(lat * 100))
        for code, street, geometry in self._grid_buckets().get(cell, ()):
            if geo.point_in_polygon(lon, lat, geometry):
                return code, street
        return None

    def near_grids(self, lon: float, lat: float, grid_codes: frozenset[str], meters: float) -> bool:
        for code in grid_codes:
            found = self._grid_geometry(code)
            if found and geo.distance_to_polygon_m(lon, lat, found[1]) <= meters:
                return True
        return False

    def grid_feature(self, row: sqlite3.Row | dict[str, Any]) -> dict[str, Any]:
        workers = [
            r[0]
            for r in self.reader.execute(
                "SELECT ug.user_id FROM user_grids ug JOIN users u ON u.id = ug.user_id "
                "WHERE ug.grid_code = ? AND u.disabled = 0 ORDER BY ug.user_id",
                (row["code"],),
            )
        ]
        return {
            "type": "Feature",
            "id": row["code"],
            "geometry": json.loads(row["geometry"]),
            "properties": {
                "code": row["code"],
                "street_code": row["street_code"],
                "name": row["name"],
                "worker_ids": workers,
            },
        }

    def get_grid(self, code: str) -> dict[str, Any] | None:
        row = self.reader.execute("SELECT * FROM grids WHERE code = ?", (code,)).fetchone()
        return self.grid_feature(row) if row else None

    def list_grids(self, street_code: str | None = None) -> list[dict[str, Any]]:
        """Grids as GeoJSON Features, of one street or (None) of all."""
        if street_code is None:
            rows = self.reader.execute("SELECT * FROM grids ORDER BY code").fetchall()
        else:
            rows = self.reader.execute(
                "SELECT * FROM grids WHERE street_code = ? ORDER BY code", (street_code,)
            ).fetchall()
        return [self.grid_feature(row) for row in rows]

    # ---------------------------------------------------------------- users

    def user(self, user_id: str) -> dict[str, Any] | None:
        """A user as PROTOCOL.md shows it (`id ... grid_codes, on_duty`), or None."""
        row = self.reader.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return self._user_dict(row) if row else None

    def user_by_username(self, username: str) -> dict[str, Any] | None:
        row = self.reader.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        return self._user_dict(row, with_hash=True) if row else None

    def _user_dict(self, row: sqlite3.Row, with_hash: bool = False) -> dict[str, Any]:
        grids = [
            r[0]
            for r in self.reader.execute(
                "SELECT grid_code FROM user_grids WHERE user_id = ? ORDER BY grid_code",
                (row["id"],),
            )
        ]
        out = {
            "id": row["id"],
            "username": row["username"],
            "display_name": row["display_name"],
            "role": row["role"],
            "street_code": row["street_code"],
            "grid_codes": grids,
            "on_duty": bool(row["on_duty"]),
            "disabled": bool(row["disabled"]),
        }
        if with_hash:
            out["password_hash"] = row["password_hash"]
        return out

    def actor(self, user: dict[str, Any]) -> model.Actor:
        return model.Actor(
            id=user["id"],
            role=user["role"],
            street_code=user.get("street_code"),
            grid_codes=frozenset(user.get("grid_codes") or ()),
        )

    def list_users(
        self, street_code: str | None = None, role: str | None = None
    ) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM users WHERE 1 = 1", []
        if street_code is not None:
            sql += " AND street_code = ?"
            args.append(street_code)
        if role is not None:
            sql += " AND role = ?"
            args.append(role)
        rows = self.reader.execute(sql + " ORDER BY username", args).fetchall()
        return [self._user_dict(row) for row in rows]

    def add_user(
        self,
        *,
        user_id: str,
        username: str,
        display_name: str,
        role: str,
        street_code: str | None,
        password_hash: str,
        grid_codes: list[str] = (),  # type: ignore[assignment]
        on_duty: bool = False,
    ) -> dict[str, Any]:
        """Creates a user; raises ValueError (nothing written) for bad or clashing values."""
        if role not in model.ROLES:
            raise ValueError(f"role must be one of {', '.join(model.ROLES)}")
        if not model.is_code(user_id) or not model.is_code(username):
            raise ValueError("user id and username: letters, digits, '_', '.', '-'")
        if model.SYSTEM_ID in (user_id, username):
            # The hub's own actor: tasks it files carry it as their reporter.
            raise ValueError(f"{model.SYSTEM_ID!r} is reserved for the hub itself")
        if role != "admin" and not street_code:
            raise ValueError(f"a {role} needs a street")
        now = utc_now()
        with self.write() as conn:
            if (
                street_code
                and not conn.execute(
                    "SELECT 1 FROM streets WHERE code = ?", (street_code,)
                ).fetchone()
            ):
                raise ValueError(f"unknown street {street_code!r}")
            if conn.execute(
                "SELECT 1 FROM users WHERE id = ? OR username = ?", (user_id, username)
            ).fetchone():
                raise ValueError(f"user {username!r} exists")
            conn.execute(
                "INSERT INTO users(id, username, display_name, role, street_code, password_hash,"
                " on_duty, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    username,
                    display_name,
                    role,
                    street_code,
                    password_hash,
                    int(on_duty),
                    now,
                ),
            )
            self._set_grids(conn, user_id, street_code, list(grid_codes), now)
        found = self.user(user_id)
        assert found is not None
        return found

    def _set_grids(
        self,
        conn: sqlite3.Connection,
        user_id: str,
        street: str | None,
        grids: list[str],
        now: str,
    ) -> None:
        old = [
            r[0]
            for r in conn.execute("SELECT grid_code FROM user_grids WHERE user_id = ?", (user_id,))
        ]
        for code in grids:
            row = conn.execute("SELECT street_code FROM grids WHERE code = ?", (code,)).fetchone()
            if row is None or row[0] != street:
                raise ValueError(f"grid {code!r} is not a grid of street {street}")
        conn.execute("DELETE FROM user_grids WHERE user_id = ?", (user_id,))
        conn.executemany(
            "INSERT INTO user_grids(user_id, grid_code) VALUES (?, ?)",
            [(user_id, code) for code in grids],
        )
        if street:
            keys = model.reference_audience(street)
            self.log_change(conn, "user", user_id, keys, now)
            for code in set(old) | set(grids):
                self.log_change(conn, "grid", code, keys, now)
        # A worker given or relieved of a grid: its open tasks and its twin features reach
        # (or leave) them through the feed, under their own key; a grid's worth of rows.
        mine = frozenset(("u:" + user_id,))
        for code in set(old) ^ set(grids):
            for (task_id,) in conn.execute(
                "SELECT id FROM tasks WHERE grid_code = ? AND status = 'open' "
                "AND assignee_id IS NULL",
                (code,),
            ).fetchall():
                self.log_change(conn, "task", task_id, mine, now)
            for (feature_id,) in conn.execute(
                "SELECT id FROM twin WHERE grid_code = ?", (code,)
            ).fetchall():
                self.log_change(conn, "twin_feature", feature_id, mine, now)

    def set_user_grids(self, user_id: str, grid_codes: list[str]) -> None:
        user = self.user(user_id)
        if user is None:
            raise ValueError("no such user")
        with self.write() as conn:
            self._set_grids(conn, user_id, user["street_code"], grid_codes, utc_now())

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        with self.write() as conn:
            conn.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            )

    def set_duty(self, user_id: str, on_duty: bool) -> dict[str, Any]:
        now = utc_now()
        with self.write() as conn:
            conn.execute("UPDATE users SET on_duty = ? WHERE id = ?", (int(on_duty), user_id))
            street = conn.execute(
                "SELECT street_code FROM users WHERE id = ?", (user_id,)
            ).fetchone()
            if street and street[0]:
                self.log_change(conn, "user", user_id, model.reference_audience(street[0]), now)
        found = self.user(user_id)
        assert found is not None
        return found

    # ---------------------------------------------------------------- tokens

    def add_token(self, token_hash: str, user_id: str, device_id: str, ttl_s: float) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO tokens(token_hash, user_id, device_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (token_hash, user_id, device_id, utc_now(), time.time() + ttl_s),
            )

    def token_user(self, token_hash: str) -> tuple[dict[str, Any], str] | None:
        """(user, device_id) for a live token; None if unknown, expired or revoked."""
        row = self.reader.execute(
            "SELECT user_id, device_id, expires_at, revoked_at FROM tokens WHERE token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None or row["revoked_at"] is not None or row["expires_at"] < time.time():
            return None
        user = self.user(row["user_id"])
        if user is None or user["disabled"]:
            return None
        return user, row["device_id"]

    def revoke_tokens(self, user_id: str, device_id: str | None = None) -> int:
        """Revokes a user's tokens, on one device or (None) on all; returns how many."""
        sql = "UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"
        args: list[Any] = [utc_now(), user_id]
        if device_id is not None:
            sql += " AND device_id = ?"
            args.append(device_id)
        with self.write() as conn:
            return conn.execute(sql, args).rowcount

    def list_devices(self, user_id: str | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT t.user_id, u.username, t.device_id, MIN(t.created_at) AS first_login, "
            "MAX(t.created_at) AS last_login, SUM(t.revoked_at IS NULL AND t.expires_at > ?) "
            "AS live_tokens FROM tokens t JOIN users u ON u.id = t.user_id"
        )
        args: list[Any] = [time.time()]
        if user_id is not None:
            sql += " WHERE t.user_id = ?"
            args.append(user_id)
        sql += " GROUP BY t.user_id, t.device_id ORDER BY u.username, t.device_id"
        return self.rows(self.reader.execute(sql, args))

    # ---------------------------------------------------------------- login failures

    def record_login_failure(self, username: str) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO login_failures(username, at) VALUES (?, ?)", (username, time.time())
            )
            conn.execute("DELETE FROM login_failures WHERE at < ?", (time.time() - 86400,))

    def recent_login_failures(self, username: str, window_s: float) -> int:
        return int(
            self.reader.execute(
                "SELECT COUNT(*) FROM login_failures WHERE username = ? AND at > ?",
                (username, time.time() - window_s),
            ).fetchone()[0]
        )

    # ---------------------------------------------------------------- API keys

    def add_api_key(self, key_hash: str, name: str, purpose: str) -> None:
        """Adds a key; ValueError if the name is taken (names identify keys to revoke)."""
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM api_keys WHERE name = ?", (name,)).fetchone():
                raise ValueError(f"a key named {name!r} exists")
            conn.execute(
                "INSERT INTO api_keys(key_hash, name, purpose, created_at) VALUES (?, ?, ?, ?)",
                (key_hash, name, purpose, utc_now()),
            )

    def api_key_purpose(self, key_hash: str) -> str | None:
        row = self.reader.execute(
            "SELECT purpose FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,)
        ).fetchone()
        return row[0] if row else None

    def list_api_keys(self) -> list[dict[str, Any]]:
        return self.rows(
            self.reader.execute(
                "SELECT name, purpose, created_at, revoked_at FROM api_keys ORDER BY created_at"
            )
        )

    def revoke_api_key(self, name: str) -> int:
        with self.write() as conn:
            return conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                (utc_now(), name),
            ).rowcount
