"""The hub's SQLite schema as numbered migrations (`PRAGMA user_version` is the version).

Each migration runs once, in order, inside one transaction; a database newer than this code
is refused rather than guessed at. Tables:

- `meta` (key/value: feed floor, cursor secret), `streets`, `grids` + `grids_rtree`,
  `users`, `user_grids`, `tokens`, `login_failures`, `api_keys`;
- `tasks` (one row a task; `photos`, `history`, `conflicts` as JSON text so that a task is
  read in one row), `ops` (every op_id ever answered `applied` or `rejected`: the
  exactly-once ledger and each sender's refused ops);
- `photos`, `photo_refs` (which tasks use a photo, for read permission), `photo_uploaders`;
- `changes` (the feed: one row per change, `seq` monotonic) and `change_keys` (who may
  read it: see `sync.model.task_audience`), so that a scoped pull costs what it returns;
- `twin` (city components, pipelines, areas; geometry as a GeoPackage blob, so that an
  extract copies it without re-encoding) + `twin_rtree`;
- `incidents` + `incidents_rtree`, `detections` (migration 2, `schema_incidents`);
- `open311_requests`, `open311_reporters` (migration 3, `schema_open311`).
"""

from __future__ import annotations

import sqlite3

from .schema_incidents import INCIDENTS_MIGRATION
from .schema_open311 import OPEN311_MIGRATION

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE streets (
        code TEXT PRIMARY KEY, name TEXT NOT NULL, district TEXT NOT NULL DEFAULT '');
    CREATE TABLE grids (
        rid INTEGER PRIMARY KEY,
        code TEXT UNIQUE NOT NULL,
        street_code TEXT NOT NULL REFERENCES streets(code),
        name TEXT NOT NULL DEFAULT '',
        geometry TEXT NOT NULL,
        updated_at TEXT NOT NULL);
    CREATE INDEX grids_street ON grids(street_code);
    CREATE VIRTUAL TABLE grids_rtree USING rtree(id, minx, maxx, miny, maxy);
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT UNIQUE NOT NULL,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('worker', 'dispatcher', 'supervisor', 'admin')),
        street_code TEXT,
        password_hash TEXT NOT NULL,
        on_duty INTEGER NOT NULL DEFAULT 0,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL);
    CREATE INDEX users_street ON users(street_code, role);
    CREATE TABLE user_grids (
        user_id TEXT NOT NULL REFERENCES users(id),
        grid_code TEXT NOT NULL,
        PRIMARY KEY (user_id, grid_code)) WITHOUT ROWID;
    CREATE INDEX user_grids_grid ON user_grids(grid_code);
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at REAL NOT NULL,
        revoked_at TEXT,
        last_seen_at TEXT);
    CREATE INDEX tokens_user ON tokens(user_id, device_id);
    CREATE TABLE login_failures (username TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX login_failures_user ON login_failures(username, at);
    CREATE TABLE api_keys (
        key_hash TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        purpose TEXT NOT NULL CHECK (purpose IN ('camera', 'open311')),
        created_at TEXT NOT NULL,
        revoked_at TEXT);
    CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT,
        description TEXT,
        status TEXT NOT NULL,
        priority TEXT NOT NULL,
        lon REAL NOT NULL,
        lat REAL NOT NULL,
        grid_code TEXT NOT NULL,
        street_code TEXT NOT NULL,
        assignee_id TEXT,
        reporter_id TEXT,
        source TEXT NOT NULL,
        incident_id TEXT,
        due_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL,
        photos TEXT NOT NULL,
        history TEXT NOT NULL,
        conflicts TEXT NOT NULL,
        past_assignee_ids TEXT NOT NULL);
    CREATE INDEX tasks_assignee ON tasks(assignee_id) WHERE assignee_id IS NOT NULL;
    CREATE INDEX tasks_reporter ON tasks(reporter_id) WHERE reporter_id IS NOT NULL;
    CREATE INDEX tasks_grid_status ON tasks(grid_code, status);
    CREATE INDEX tasks_street_status ON tasks(street_code, status);
    CREATE TABLE ops (
        op_id TEXT PRIMARY KEY,
        actor_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        task_id TEXT,
        type TEXT,
        status TEXT NOT NULL CHECK (status IN ('applied', 'rejected')),
        code TEXT,
        message TEXT,
        at TEXT,
        server_at TEXT NOT NULL,
        payload TEXT NOT NULL);
    CREATE INDEX ops_rejected ON ops(actor_id, server_at) WHERE status = 'rejected';
    CREATE TABLE photos (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        uploaded_by TEXT NOT NULL,
        created_at TEXT NOT NULL);
    CREATE TABLE photo_refs (
        sha256 TEXT NOT NULL, task_id TEXT NOT NULL,
        PRIMARY KEY (sha256, task_id)) WITHOUT ROWID;
    CREATE TABLE photo_uploaders (
        sha256 TEXT NOT NULL, user_id TEXT NOT NULL,
        PRIMARY KEY (sha256, user_id)) WITHOUT ROWID;
    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        at TEXT NOT NULL);
    CREATE TABLE change_keys (
        key TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (key, seq)) WITHOUT ROWID;
    CREATE INDEX change_keys_seq ON change_keys(seq);
    CREATE TABLE twin (
        rid INTEGER PRIMARY KEY,
        id TEXT UNIQUE NOT NULL,
        layer TEXT NOT NULL CHECK (layer IN ('components', 'pipelines', 'areas')),
        kind TEXT NOT NULL,
        name TEXT,
        grid_code TEXT,
        street_code TEXT,
        status TEXT,
        props TEXT NOT NULL,
        geom BLOB NOT NULL,
        updated_at TEXT NOT NULL);
    CREATE INDEX twin_grid ON twin(grid_code, layer);
    CREATE INDEX twin_street ON twin(street_code, layer);
    CREATE VIRTUAL TABLE twin_rtree USING rtree(id, minx, maxx, miny, maxy);
    """,
    # 2: camera detections and incidents
    INCIDENTS_MIGRATION,
    # 3: Open311 requests
    OPEN311_MIGRATION,
]


class SchemaError(RuntimeError):
    """The database's schema is newer than this code knows."""


def migrate(conn: sqlite3.Connection) -> int:
    """Brings the schema up to date; returns the version. Each step is one transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise SchemaError(
            f"database schema version {version} is newer than this GridOps "
            f"({len(MIGRATIONS)}); upgrade GridOps"
        )
    for number in range(version + 1, len(MIGRATIONS) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[number - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)
