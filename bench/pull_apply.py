"""`pull_apply_rows_per_s`: a device applying pulled changes, with the spatial index kept.

In-process, no HTTP: this is the device's cost of taking in what it pulled. A fresh
replica (`sync.replica.Replica`, a GeoPackage whose feature tables have the standard R-tree
triggers; how `apply_changes` keeps the index is its own business, but the index must come
out exact: checked) is given 50,000 twin feature upserts (points of the `components`
layer, grid after grid over the demo district), as the feed gives them after JSON decoding
(`{"entity": "twin_feature", "op": "upsert", "id", "data": GeoJSON Feature}`), in pages of
1,000 (the sync job's page size), each page through `Replica.apply_changes(page, cursor)`:
one transaction with its cursor.

Figure: 50,000 / the summed wall time of the 50 `apply_changes` calls (the rows are new:
inserts). Also printed: the same 50,000 features applied again, moved (updates), and the
real task upserts of the hub's feed (JSL's dispatcher's snapshot, fetched over HTTP first,
not timed) applied in their pages of 1,000.

Beside it, measured in the same run on the same machine with the same points:
- plain sqlite3: `executemany` INSERTs into a GeoPackage `components` table with the same
  R-tree triggers (same `ST_*` functions, WAL, synchronous=NORMAL as the replica's pull
  apply), in
  transactions of 1,000 rows, the rows built from the same decoded features;
- GDAL/OGR (`osgeo.ogr`, GPKG driver): `CreateFeature` of the same points into an
  existing layer with a spatial index, in one transaction, until the file is closed;
- PowerSync's published client sync rate (quoted).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from .common import BenchHub, Figure, say
from .device import gpkg_connection, profile_top
from .pull import ANCHOR_SOURCE as POWERSYNC_SOURCE

NAME = "pull_apply_rows_per_s"
TARGET = 50_000.0
FEATURES = 50_000
PAGE = 1000
TASK_PAGES = 20  # pages of real task upserts from the hub's feed
FIXED = ("kind", "name", "grid_code", "street_code", "status")
KINDS = (
    ("manhole", "井盖"),
    ("streetlight", "路灯"),
    ("hydrant", "消火栓"),
    ("trash_bin", "垃圾桶"),
)
POWERSYNC = "PowerSync: 2,000–20,000 ops/s per client"


def _features(rng: random.Random, prefix: str, count: int) -> list[dict[str, Any]]:
    """GeoJSON point Features of the components layer, as the feed sends twin features:
    grid after grid (the order they were imported in, so the feed's), random within each."""
    from sync import demo, demo_district, geo

    grids = [
        (g["code"], g["street_code"], geo.bbox(g["geometry"]))
        for g in demo_district.grids(demo.SEED)
    ]
    out = []
    per_grid = -(-count // len(grids))  # grid by grid, as the twin was imported and is fed
    for n in range(count):
        code, street, (minx, miny, maxx, maxy) = grids[n // per_grid]
        kind, label = KINDS[n % len(KINDS)]
        fid = f"cmp-{prefix}-{n:06d}"
        x, y = round(rng.uniform(minx, maxx), 7), round(rng.uniform(miny, maxy), 7)
        out.append(
            {
                "type": "Feature",
                "id": fid,
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": {
                    "layer": "components",
                    "kind": kind,
                    "name": f"{label} {code}-{n:06d}",
                    "grid_code": code,
                    "street_code": street,
                    "status": "normal",
                    "id": fid,
                },
            }
        )
    return out


def _pages(features: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Feed pages of twin upserts, JSON-encoded and decoded as the device gets them."""
    changes = [
        {"entity": "twin_feature", "id": f["id"], "op": "upsert", "data": f} for f in features
    ]
    return [json.loads(json.dumps(changes[i : i + PAGE])) for i in range(0, len(changes), PAGE)]


def _apply(replica: Any, pages: list[list[dict[str, Any]]], tag: str) -> float:
    seconds = 0.0
    for n, page in enumerate(pages):
        started = time.perf_counter()
        replica.apply_changes(page, f"{tag}-{n}")
        seconds += time.perf_counter() - started
    return seconds


def _sqlite_baseline(path: Path, features: list[dict[str, Any]]) -> float:
    """Plain batched GeoPackage inserts with the same R-tree triggers; seconds."""
    from sync import gpkg
    from sync.replica import schema

    conn = gpkg_connection(path)
    conn.execute("BEGIN")
    gpkg.create_feature_table(conn, "components", "POINT", schema.TWIN_LAYERS["components"][1])
    conn.execute("COMMIT")
    sql = (
        "INSERT INTO components(geom, id, kind, name, grid_code, street_code, status, props) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )
    started = time.perf_counter()
    for i in range(0, len(features), PAGE):
        rows = []
        for f in features[i : i + PAGE]:
            p = f["properties"]
            rest = {k: v for k, v in p.items() if k not in FIXED and k not in ("layer", "id")}
            rows.append((gpkg.gpkg_blob(f["geometry"]), f["id"], p["kind"], p["name"],
                         p["grid_code"], p["street_code"], p["status"], json.dumps(rest)))  # fmt: skip
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    indexed = conn.execute("SELECT COUNT(*) FROM rtree_components_geom").fetchone()[0]
    conn.close()
    if indexed != len(features):
        raise AssertionError(f"sqlite3 baseline: {indexed} R-tree rows for {len(features)}")
    return seconds


def _gdal_baseline(path: Path, features: list[dict[str, Any]]) -> float:
    """GDAL/OGR: the same points into an existing GPKG layer with a spatial index, one
    transaction, timed until the file is closed (GDAL may finish its index then)."""
    from osgeo import ogr, osr

    ogr.UseExceptions()
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer(
        "components", srs, ogr.wkbPoint, options=["SPATIAL_INDEX=YES", "GEOMETRY_NAME=geom"]
    )
    for name in ("id", *FIXED, "props"):
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTString))
    ds = None  # an empty layer with its R-tree, as a replica's before a pull
    started = time.perf_counter()
    ds = ogr.Open(str(path), 1)
    layer = ds.GetLayerByName("components")
    defn = layer.GetLayerDefn()
    ds.StartTransaction()
    for f in features:
        p = f["properties"]
        feat = ogr.Feature(defn)
        feat.SetField("id", f["id"])
        for key in FIXED:
            feat.SetField(key, p[key])
        feat.SetField("props", "{}")
        point = ogr.Geometry(ogr.wkbPoint)
        x, y = f["geometry"]["coordinates"]
        point.AddPoint_2D(x, y)
        feat.SetGeometryDirectly(point)
        layer.CreateFeature(feat)
    ds.CommitTransaction()
    ds = None
    seconds = time.perf_counter() - started
    ds = ogr.Open(str(path))
    indexed = ds.ExecuteSQL("SELECT COUNT(*) FROM rtree_components_geom").GetNextFeature()
    count = indexed.GetField(0)
    ds = None
    if count != len(features):
        raise AssertionError(f"GDAL baseline: {count} R-tree rows for {len(features)}")
    return seconds


def _task_pages(bench: BenchHub) -> list[list[dict[str, Any]]]:
    """Real task upserts as the feed gives them: JSL's dispatcher's snapshot pages."""
    client = bench.client("jsl-dispatcher", "bench-apply-device")
    pages: list[list[dict[str, Any]]] = []
    since = ""
    for _ in range(TASK_PAGES):
        resp = client.session.get(
            client.url + "/api/v1/sync/changes", params={"since": since, "limit": str(PAGE)}
        )
        resp.raise_for_status()
        body = resp.json()
        tasks = [c for c in body["changes"] if c["entity"] == "task"]
        if tasks:
            pages.append(tasks)
        since = body["cursor"]
        if not body["has_more"] or len(tasks) < len(body["changes"]):
            break
    return pages


def run(bench: BenchHub) -> Figure:
    from sync.replica import Replica

    rng = random.Random(20260613)
    folder = bench.tmp / "apply"
    folder.mkdir(exist_ok=True)
    started = time.perf_counter()
    features = _features(rng, "pa", FEATURES)
    pages = _pages(features)
    moved = _pages(
        [
            {**f, "geometry": {"type": "Point", "coordinates": [x + 1e-4, y + 1e-4]}}
            for f in features
            for x, y in [f["geometry"]["coordinates"]]
        ]
    )
    say(f"  {FEATURES:,} twin point features in {len(pages)} feed pages made in "
        f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    started = time.perf_counter()
    task_pages = _task_pages(bench)
    task_count = sum(len(p) for p in task_pages)
    say(f"  {task_count:,} task upserts fetched from the hub's feed ({len(task_pages)} pages) "
        f"in {time.perf_counter() - started:.1f} s")  # fmt: skip

    replica = Replica(folder / "device.gpkg")
    inserts_s = _apply(replica, pages, "twin")
    rows = replica.conn.execute("SELECT COUNT(*) FROM components").fetchone()[0]
    indexed = replica.conn.execute("SELECT COUNT(*) FROM rtree_components_geom").fetchone()[0]
    if rows != FEATURES or indexed != FEATURES:
        raise AssertionError(f"replica: {rows} rows, {indexed} R-tree rows for {FEATURES}")
    updates_s = _apply(replica, moved, "moved")
    box = replica.conn.execute(
        "SELECT minx FROM rtree_components_geom WHERE id = (SELECT fid FROM components "
        "WHERE id = ?)",
        (features[0]["id"],),
    ).fetchone()[0]
    if abs(box - (features[0]["geometry"]["coordinates"][0] + 1e-4)) > 1e-4:
        raise AssertionError("the R-tree did not follow the moved points")
    tasks_s = _apply(replica, task_pages, "tasks") if task_pages else 0.0
    value = FEATURES / inserts_s
    say(f"  replica: {FEATURES:,} inserts in {inserts_s:.2f} s, {FEATURES:,} updates in "
        f"{updates_s:.2f} s, {task_count:,} task upserts in {tasks_s:.2f} s")  # fmt: skip

    sqlite_s = _sqlite_baseline(folder / "sqlite3.gpkg", features)
    say(f"  sqlite3 executemany baseline: {sqlite_s:.2f} s")
    try:
        gdal_s: float | None = _gdal_baseline(folder / "gdal.gpkg", features)
        say(f"  GDAL/OGR baseline: {gdal_s:.2f} s")
    except ImportError:
        gdal_s = None
        say("  GDAL/OGR baseline: osgeo is not importable here")
    sqlite_rate = FEATURES / sqlite_s
    gdal_rate = FEATURES / gdal_s if gdal_s else None
    anchor = f"sqlite3 executemany into a GPKG with R-tree triggers: {sqlite_rate:,.0f} rows/s"
    if gdal_rate:
        anchor += f"; GDAL/OGR GPKG, one transaction: {gdal_rate:,.0f} rows/s"
    anchor += f"; {POWERSYNC}"
    notes = [
        f"{FEATURES:,} twin point upserts (new rows) in {len(pages)} pages of {PAGE} through "
        f"Replica.apply_changes: {inserts_s:.2f} s; R-tree rows checked ({indexed:,})",
        f"the same {FEATURES:,} moved (updates, R-tree updated): {updates_s:.2f} s = "
        f"{FEATURES / updates_s:,.0f} rows/s",
        f"{task_count:,} real task upserts (JSL dispatcher's feed pages of {PAGE}, new rows): "
        + (f"{tasks_s:.2f} s = {task_count / tasks_s:,.0f} rows/s" if tasks_s else "none"),
        f"same points, plain sqlite3 executemany, transactions of {PAGE}: {sqlite_s:.2f} s "
        f"= {sqlite_rate:,.0f} rows/s (ours is {value / sqlite_rate:.2f}× that)",
        (
            f"same points, GDAL/OGR CreateFeature in one transaction: {gdal_s:.2f} s = "
            f"{gdal_rate:,.0f} rows/s (ours is {value / gdal_rate:.2f}× that)"
            if gdal_s and gdal_rate
            else "GDAL/OGR: not measured (osgeo not importable)"
        ),
    ]
    if value < TARGET:
        extra = _pages(_features(rng, "pf", 10 * PAGE))
        _r, lines, short = profile_top(lambda: _apply(replica, extra, "profiled"), replica=replica)
        say("  device profile of 10 more pages of new twin points (cProfile, top by own time):")
        for line in lines:
            say(f"    {line}")
        notes.append(short)
    replica.close()
    return Figure(
        name=NAME,
        value=value,
        unit="rows/s",
        target=TARGET,
        higher_is_better=True,
        anchor=anchor,
        anchor_source=(
            "sqlite3 and GDAL/OGR (osgeo "
            + _gdal_version()
            + ") measured in this run; PowerSync: "
            + POWERSYNC_SOURCE
        ),
        notes=notes,
    )


def _gdal_version() -> str:
    try:
        from osgeo import gdal

        return str(gdal.__version__)
    except ImportError:
        return "absent"
