"""The twin extract: an OGC GeoPackage of the layers in one caller's scope.

Layers (PROTOCOL.md "Reference data"): `grids` (polygons), `components` (points),
`pipelines` (lines), `areas` (polygons); every feature has its stable text `id`. The file is
built from one read snapshot, named by its ETag and cached: the same scope and the same
twin state give the same file, so a device that already holds it gets a 304. The street
offices' files are built ahead in the background (`prebuild.py`).

Building is bulk work: the twin layers are written without the R-tree triggers (fids 1, 2,
... in id order), then each layer's R-tree is packed in one go (`replica.bulk.pack_rtree`)
from the boxes the hub keeps in `twin_rtree`, then the GeoPackage triggers (Req 75) are
added, so the file a device or GDAL opens is an ordinary GeoPackage whose index is the one
the triggers would have made. A device copies that index as it is (`replica.bulk`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .. import gpkg, model
from ..replica.bulk import pack_rtree
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


class BuildCancelled(Exception):
    """`build_extract` was told to stop (the hub is closing); nothing was written."""


def build_extract(
    store: SQLiteStore,
    conn: sqlite3.Connection,
    actor: model.Actor,
    target: Path,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """Writes the actor's extract to `target` (atomically: a temporary file renamed) from
    the snapshot `conn`. `should_stop` is asked between layers; when it says so, the
    temporary file goes and BuildCancelled is raised."""
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
            if should_stop is not None and should_stop():
                raise BuildCancelled(f"building {target.name} was cancelled")
            # No triggers while it fills: rows, then the whole R-tree packed from the boxes
            # the hub keeps (`twin_rtree`), then the triggers GeoPackage Req 75 wants.
            gpkg.create_feature_table(
                out,
                layer,
                geometry_type,
                columns,
                identifier=layer,
                description=f"GridOps twin: {layer}",
                triggers=False,
            )
            names = [c[0] for c in columns]
            twin = store.iter_twin(conn, actor, layer, boxes=True)
            entries = _copy_rows(out, layer, names, twin)
            pack_rtree(out, f"rtree_{layer}_geom", entries)
            gpkg.create_spatial_index(out, layer)
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


def _copy_rows(
    out: sqlite3.Connection, layer: str, names: list[str], rows: Iterable[sqlite3.Row]
) -> list[tuple[int, float, float, float, float]]:
    """Inserts twin rows (as `iter_twin(..., boxes=True)` gives them) with fids 1, 2, ...;
    returns the R-tree entries `(fid, minx, maxx, miny, maxy)` of the non-empty ones."""
    entries: list[tuple[int, float, float, float, float]] = []
    values: list[tuple[Any, ...]] = []
    for fid, r in enumerate(rows, 1):
        values.append((fid, r[7], *r[:7]))
        if r[8] is not None:
            entries.append((fid, r[8], r[9], r[10], r[11]))
        else:  # a row twin_rtree lacks: its box from the blob (None when empty)
            env = gpkg.blob_envelope(r[7])
            if env is not None:
                entries.append((fid, *env))
    marks = ", ?" * len(names)
    out.executemany(
        f"INSERT INTO {layer}(fid, geom, {', '.join(names)}) VALUES (?, ?{marks})", values
    )
    return entries


def _insert(
    out: sqlite3.Connection,
    table: str,
    names: list[str],
    rows: Iterable[tuple[bytes | None, tuple[Any, ...]]],
) -> None:
    sql = f"INSERT INTO {table}(geom, {', '.join(names)}) VALUES (?{', ?' * len(names)})"
    # The standard R-tree triggers keep the spatial index (GeoPackage Req 75 wants them).
    out.executemany(sql, ((blob, *values) for blob, values in rows))
