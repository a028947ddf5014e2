"""The twin extract: an OGC GeoPackage of the layers in one caller's scope.

Layers (PROTOCOL.md "Reference data"): `grids` (polygons), `components` (points),
`pipelines` (lines), `areas` (polygons); every feature has its stable text `id`. The file is
built from one read snapshot, named by its ETag and cached: the same scope and the same
twin state give the same file, so a device that already holds it gets a 304.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import gpkg, model
from ..replica.schema import TWIN_LAYERS
from ..store import SQLiteStore

# The twin layers as PROTOCOL.md lists them: the replica loads the extract by copying them.
LAYERS = TWIN_LAYERS
GRID_COLUMNS = [
    ("id", "TEXT NOT NULL UNIQUE"),
    ("code", "TEXT NOT NULL UNIQUE"),
    ("street_code", "TEXT"),
    ("name", "TEXT"),
]


def build_extract(
    store: SQLiteStore, conn: sqlite3.Connection, actor: model.Actor, target: Path
) -> Path:
    """Writes the actor's extract to `target` (atomically) from the snapshot `conn`."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    out = sqlite3.connect(str(tmp))
    try:
        out.execute("PRAGMA journal_mode=OFF")
        out.execute("PRAGMA synchronous=OFF")
        gpkg.register_st_functions(out)  # the R-tree triggers call them; no SpatiaLite here
        gpkg.init_geopackage(out)
        out.execute("BEGIN")
        gpkg.create_feature_table(
            out,
            "grids",
            "MULTIPOLYGON",
            GRID_COLUMNS,
            identifier="grids",
            description="GridOps grids",
            triggers=True,
        )
        if actor.role == "admin":
            rows = conn.execute("SELECT * FROM grids ORDER BY code").fetchall()
        else:
            rows = conn.execute(
                "SELECT * FROM grids WHERE street_code = ? ORDER BY code", (actor.street_code,)
            ).fetchall()
        _insert(
            out,
            "grids",
            ["id", "code", "street_code", "name"],
            (
                (
                    gpkg.gpkg_blob(_multi(json.loads(r["geometry"]))),
                    (r["code"], r["code"], r["street_code"], r["name"]),
                )
                for r in rows
            ),
        )
        for layer, (geometry_type, columns) in LAYERS.items():
            gpkg.create_feature_table(
                out,
                layer,
                geometry_type,
                columns,
                identifier=layer,
                description=f"GridOps twin: {layer}",
                triggers=True,
            )
            names = [c[0] for c in columns]
            _insert(
                out,
                layer,
                names,
                (
                    (
                        r["geom"],
                        (
                            r["id"],
                            r["kind"],
                            r["name"],
                            r["grid_code"],
                            r["street_code"],
                            r["status"],
                            r["props"],
                        ),
                    )
                    for r in store.iter_twin(conn, actor, layer)
                ),
            )
        for layer in ("grids", *LAYERS):
            gpkg.update_contents_extent(out, layer)
        out.execute("COMMIT")
    except BaseException:
        out.close()
        tmp.unlink(missing_ok=True)
        raise
    out.close()
    os.replace(tmp, target)
    return target


def _multi(geometry: dict) -> dict:
    if geometry["type"] == "Polygon":
        return {"type": "MultiPolygon", "coordinates": [geometry["coordinates"]]}
    return geometry


def _insert(
    out: sqlite3.Connection,
    table: str,
    names: list[str],
    rows: Iterable[tuple[bytes | None, tuple[Any, ...]]],
) -> None:
    sql = f"INSERT INTO {table}(geom, {', '.join(names)}) VALUES (?{', ?' * len(names)})"
    # The standard R-tree triggers keep the spatial index (GeoPackage Req 75 wants them).
    out.executemany(sql, ((blob, *values) for blob, values in rows))
