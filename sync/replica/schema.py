"""The replica's tables: one OGC GeoPackage per account and hub, that QGIS and GDAL open.

Feature tables (with the standard R-tree triggers, kept through the `ST_*` functions that
`sync.gpkg.register_st_functions` gives plain sqlite3):
- `grids`, `components`, `pipelines`, `areas`: the twin layers of the extract, by `id`;
- `tasks`: a point per task with its status, assignee, priority and due time for styling,
  the hub's last word on it (`server`, JSON) and the ops still waiting (`pending`).

Attribute tables (registered as `attributes` so the file stays a valid GeoPackage):
- `users`; `outbox` (ops not yet answered by the hub, in the order made); `photos` (the
  photo cache: downsized JPEG bytes until the hub holds them); `refusals` (what the hub
  refused, kept for the user); `sync_state` (cursor, token, bootstrap step).
"""

from __future__ import annotations

import sqlite3

from .. import gpkg, model

SCHEMA_VERSION = 1

TWIN_LAYERS = {
    "components": (
        "POINT",
        [
            ("id", "TEXT NOT NULL UNIQUE"),
            ("kind", "TEXT"),
            ("name", "TEXT"),
            ("grid_code", "TEXT"),
            ("street_code", "TEXT"),
            ("status", "TEXT"),
            ("props", "TEXT"),
        ],
    ),
    "pipelines": (
        "MULTILINESTRING",
        [
            ("id", "TEXT NOT NULL UNIQUE"),
            ("kind", "TEXT"),
            ("name", "TEXT"),
            ("grid_code", "TEXT"),
            ("street_code", "TEXT"),
            ("status", "TEXT"),
            ("props", "TEXT"),
        ],
    ),
    "areas": (
        "MULTIPOLYGON",
        [
            ("id", "TEXT NOT NULL UNIQUE"),
            ("kind", "TEXT"),
            ("name", "TEXT"),
            ("grid_code", "TEXT"),
            ("street_code", "TEXT"),
            ("status", "TEXT"),
            ("props", "TEXT"),
        ],
    ),
}
GRID_COLUMNS = [
    ("id", "TEXT NOT NULL UNIQUE"),
    ("code", "TEXT NOT NULL UNIQUE"),
    ("street_code", "TEXT"),
    ("name", "TEXT"),
    ("worker_ids", "TEXT"),
]
TASK_FIELDS = model.TASK_FIELDS
TASK_JSON_FIELDS = model.TASK_JSON_FIELDS
TASK_COLUMNS = [
    ("id", "TEXT NOT NULL UNIQUE"),
    ("kind", "TEXT"),
    ("title", "TEXT"),
    ("description", "TEXT"),
    ("status", "TEXT"),
    ("priority", "TEXT"),
    ("lon", "REAL"),
    ("lat", "REAL"),
    ("grid_code", "TEXT"),
    ("street_code", "TEXT"),
    ("assignee_id", "TEXT"),
    ("reporter_id", "TEXT"),
    ("source", "TEXT"),
    ("incident_id", "TEXT"),
    ("due_at", "TEXT"),
    ("created_at", "TEXT"),
    ("updated_at", "TEXT"),
    ("version", "INTEGER"),
    ("photos", "TEXT"),
    ("history", "TEXT"),
    ("conflicts", "TEXT"),
    ("server", "TEXT"),  # the task as the hub last sent it (JSON); NULL: made here, unsent
    ("pending", "INTEGER NOT NULL DEFAULT 0"),  # ops on it still in the outbox
]


def create(conn: sqlite3.Connection) -> None:
    """Creates every table of an empty replica (idempotent), in the caller's transaction."""
    gpkg.init_geopackage(conn)
    gpkg.create_feature_table(
        conn,
        "grids",
        "MULTIPOLYGON",
        GRID_COLUMNS,
        identifier="网格 grids",
        description="GridOps grids",
    )
    for layer, (geometry_type, columns) in TWIN_LAYERS.items():
        gpkg.create_feature_table(
            conn,
            layer,
            geometry_type,
            columns,
            identifier=layer,
            description=f"GridOps twin: {layer}",
        )
    gpkg.create_feature_table(
        conn, "tasks", "POINT", TASK_COLUMNS, identifier="任务 tasks", description="GridOps tasks"
    )
    gpkg.create_attribute_table(
        conn,
        "users",
        [
            ("id", "TEXT NOT NULL UNIQUE"),
            ("username", "TEXT"),
            ("display_name", "TEXT"),
            ("role", "TEXT"),
            ("street_code", "TEXT"),
            ("grid_codes", "TEXT"),
            ("on_duty", "INTEGER"),
        ],
    )
    gpkg.create_attribute_table(
        conn,
        "outbox",
        [
            ("op_id", "TEXT NOT NULL UNIQUE"),
            ("type", "TEXT NOT NULL"),
            ("task_id", "TEXT NOT NULL"),
            ("at", "TEXT NOT NULL"),
            ("payload", "TEXT NOT NULL"),
            ("base_version", "INTEGER"),
            ("attempts", "INTEGER NOT NULL DEFAULT 0"),
            ("last_error", "TEXT"),
        ],
    )
    gpkg.create_attribute_table(
        conn,
        "photos",
        [
            ("sha256", "TEXT NOT NULL UNIQUE"),
            ("data", "BLOB NOT NULL"),
            ("size", "INTEGER NOT NULL"),
            ("width", "INTEGER"),
            ("height", "INTEGER"),
            ("taken_at", "TEXT"),
            ("lon", "REAL"),
            ("lat", "REAL"),
            ("uploaded", "INTEGER NOT NULL DEFAULT 0"),
            ("created_at", "TEXT NOT NULL"),
        ],
    )
    gpkg.create_attribute_table(
        conn,
        "refusals",
        [
            ("op_id", "TEXT NOT NULL UNIQUE"),
            ("type", "TEXT"),
            ("task_id", "TEXT"),
            ("code", "TEXT"),
            ("message", "TEXT"),
            ("payload", "TEXT"),
            ("task", "TEXT"),
            ("at", "TEXT"),
            ("seen", "INTEGER NOT NULL DEFAULT 0"),
        ],
    )
    gpkg.create_attribute_table(
        conn, "sync_state", [("key", "TEXT NOT NULL UNIQUE"), ("value", "TEXT")]
    )
    conn.execute("CREATE INDEX IF NOT EXISTS outbox_task ON outbox(task_id)")
    conn.execute("CREATE INDEX IF NOT EXISTS tasks_status ON tasks(status)")
    conn.execute(
        "INSERT OR IGNORE INTO sync_state(key, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
