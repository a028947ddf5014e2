"""`GET /api/v1/twin/extract.gpkg` (PROTOCOL.md "Reference data") and the twin writes that
change it: scope per role, an OGC GeoPackage that GDAL validates and QGIS loads, the ETag and
its 304, the X-Sync-Cursor as a feed position, and refused twin upserts that change nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sync import geo

EXTRACT = "/api/v1/twin/extract.gpkg"
TWIN_LAYERS = ("components", "pipelines", "areas")
FIELDS = {
    "grids": {"code", "street_code", "name"},
    "components": {"id", "kind", "name", "grid_code", "street_code", "status"},
    "pipelines": {"id", "kind", "grid_code"},
    "areas": {"id", "kind", "name"},
}


# ----------------------------------------------------------------------------- helpers


@pytest.fixture
def ogr() -> Any:
    pytest.importorskip("osgeo", reason="GDAL's Python bindings (python3-gdal) are not installed")
    from osgeo import ogr as _ogr

    _ogr.UseExceptions()
    return _ogr


def spot(hub: Any, code: str, dx: float = 0.0, dy: float = 0.0) -> tuple[float, float]:
    """A point inside grid `code` (checked with the hub's own `locate`)."""
    grid = hub.store.get_grid(code)
    lon, lat = geo.representative_point(grid["geometry"])
    lon, lat = lon + dx, lat + dy
    assert hub.store.locate(lon, lat) == (code, grid["properties"]["street_code"])
    return lon, lat


def point(fid: str, lon: float, lat: float, kind: str = "hydrant", **props: Any) -> dict:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"kind": kind, **props},
    }


def upsert(api: Any, layer: str, *features: dict, user: str = "admin") -> Any:
    return api.post(
        "/api/v1/twin/features",
        headers=api.login(user),
        json={"layer": layer, "features": list(features)},
    )


def fetch(api: Any, user: str, path: Path | None = None, etag: str | None = None) -> Any:
    """GET the extract as `user` (optionally conditional); saves a 200's body to `path`."""
    headers = dict(api.login(user))
    if etag is not None:
        headers["If-None-Match"] = etag
    resp = api.get(EXTRACT, headers=headers)
    if resp.status_code == 200 and path is not None:
        path.write_bytes(resp.content)
    return resp


def feed(api: Any, user: str, since: str) -> dict[str, Any]:
    resp = api.get("/api/v1/sync/changes", params={"since": since}, headers=api.login(user))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body["has_more"] is False
    return body


def twin_changes(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in body["changes"] if c["entity"] == "twin_feature"}


def store_count(hub: Any, layer: str, where: str, *args: Any) -> int:
    sql = f"SELECT COUNT(*) FROM twin WHERE layer = ? AND {where}"
    return int(hub.store.reader.execute(sql, (layer, *args)).fetchone()[0])


def ids_in(path: Path, layer: str) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute(f"SELECT id FROM {layer}")}
    finally:
        conn.close()


def read_layers(ogr: Any, path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every layer as OGR reads it: field values plus the geometry type and SRS."""
    ds = ogr.Open(str(path))
    out: dict[str, list[dict[str, Any]]] = {}
    for i in range(ds.GetLayerCount()):
        lyr = ds.GetLayer(i)
        srs = lyr.GetSpatialRef()
        assert srs is not None and srs.GetAuthorityCode(None) == "4326", lyr.GetName()
        rows = []
        for feat in lyr:
            row = feat.items()
            geom = feat.GetGeometryRef()
            row["_geom"] = None if geom is None else geom.ExportToJson()
            rows.append(row)
        out[lyr.GetName()] = rows
    ds = None
    return out


def layer_summary(ogr: Any, path: Path) -> dict[str, tuple[int, set[str]]]:
    """{layer: (feature count, field names)} as OGR sees the file, without reading features."""
    ds = ogr.Open(str(path))
    out = {}
    for i in range(ds.GetLayerCount()):
        lyr = ds.GetLayer(i)
        defn = lyr.GetLayerDefn()
        names = {defn.GetFieldDefn(j).GetName() for j in range(defn.GetFieldCount())}
        out[lyr.GetName()] = (lyr.GetFeatureCount(), names)
    ds = None
    return out


def column(path: Path, layer: str, name: str) -> list[Any]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute(f"SELECT {name} FROM {layer}")]
    finally:
        conn.close()


def validate(path: Path) -> list[Any]:
    validate_gpkg = pytest.importorskip(
        "osgeo_utils.samples.validate_gpkg", reason="GDAL's validate_gpkg.py is not installed"
    )
    errors: list[Any] = validate_gpkg.check(
        str(path), abort_at_first_error=False, extra_checks=True, warning_as_error=True
    )
    return errors


# ----------------------------------------------------------------------------- content


def test_worker_extract_is_a_valid_geopackage_of_their_grid(
    api: Any, hub: Any, tmp_path: Path, ogr: Any
) -> None:
    path = tmp_path / "w03.gpkg"
    resp = fetch(api, "jsl-worker-03", path)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/geopackage+sqlite3")
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"

    layers = read_layers(ogr, path)
    assert set(FIELDS) <= set(layers)
    for name, wanted in FIELDS.items():
        for row in layers[name]:
            assert wanted <= set(row), (name, sorted(row))

    grids = layers["grids"]
    assert sorted(g["code"] for g in grids) == [f"JSL-{n:02d}" for n in range(1, 13)]
    assert {g["street_code"] for g in grids} == {"JSL"}

    for layer in TWIN_LAYERS:
        rows = layers[layer]
        assert rows, layer
        ids = [r["id"] for r in rows]
        assert all(isinstance(i, str) and i for i in ids), layer
        assert len(set(ids)) == len(ids), layer
        assert {r["grid_code"] for r in rows} == {"JSL-03"}, layer
        assert len(rows) == store_count(hub, layer, "grid_code = ?", "JSL-03"), layer
    components = layers["components"]
    assert len(components) == int(
        hub.store.reader.execute(
            "SELECT COUNT(*) FROM twin WHERE layer='components' AND grid_code='JSL-03'"
        ).fetchone()[0]
    )
    assert all(r["kind"] and r["street_code"] == "JSL" for r in components)

    # the geometry is the store's, as GDAL reads it
    import json

    from sync.gpkg import gpkg_blob_decode

    sample = components[len(components) // 2]
    blob = hub.store.reader.execute(
        "SELECT geom FROM twin WHERE id = ?", (sample["id"],)
    ).fetchone()[0]
    stored = gpkg_blob_decode(blob)
    got = json.loads(sample["_geom"])
    assert got["type"] == "Point"
    assert got["coordinates"][:2] == pytest.approx(stored["coordinates"], abs=1e-12)

    assert validate(path) == []


@pytest.mark.parametrize(
    ("user", "streets", "grids"),
    [("jsl-dispatcher", {"JSL"}, 12), ("admin", {"JSL", "HM"}, 24)],
)
def test_office_and_admin_extract_scope(
    api: Any, hub: Any, tmp_path: Path, ogr: Any, user: str, streets: set[str], grids: int
) -> None:
    path = tmp_path / f"{user}.gpkg"
    assert fetch(api, user, path).status_code == 200
    summary = layer_summary(ogr, path)
    assert set(FIELDS) <= set(summary)
    for name, wanted in FIELDS.items():
        assert wanted <= summary[name][1], name
    assert summary["grids"][0] == grids
    assert set(column(path, "grids", "street_code")) == streets
    marks = ",".join("?" * len(streets))
    for layer in TWIN_LAYERS:
        want = store_count(hub, layer, f"street_code IN ({marks})", *sorted(streets))
        assert summary[layer][0] == want, layer
        assert set(column(path, layer, "street_code")) == streets, layer
        ids = column(path, layer, "id")
        assert all(isinstance(i, str) and i for i in ids) and len(set(ids)) == len(ids), layer
    if user == "admin":  # every feature of the hub
        total = hub.store.reader.execute("SELECT COUNT(*) FROM twin").fetchone()[0]
        assert sum(summary[name][0] for name in TWIN_LAYERS) == total
    assert validate(path) == []


# ----------------------------------------------------------------------------- ETag


def test_etag_304_and_what_changes_it(api: Any, hub: Any, tmp_path: Path) -> None:
    first = fetch(api, "jsl-worker-03", tmp_path / "1.gpkg")
    etag = first.headers["etag"]
    assert etag.strip('"')

    again = fetch(api, "jsl-worker-03", etag=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers.get("x-sync-cursor")
    # a weak validator and a list match too
    assert fetch(api, "jsl-worker-03", etag=f'"nope", W/{etag}').status_code == 304
    assert fetch(api, "jsl-worker-03", etag='"something-else"').status_code == 200

    dispatcher_etag = fetch(api, "jsl-dispatcher").headers["etag"]

    # a change in another street, or in another grid of the street: not the worker's
    assert upsert(api, "components", point("x-hm", *spot(hub, "HM-02"))).status_code == 200
    assert upsert(api, "components", point("x-j5", *spot(hub, "JSL-05"))).status_code == 200
    assert fetch(api, "jsl-worker-03", etag=etag).status_code == 304
    # ... but JSL-05 is the dispatcher's street
    assert fetch(api, "jsl-dispatcher", etag=dispatcher_etag).status_code == 200

    # a change in JSL-03: a new ETag and the feature in the new file
    lon, lat = spot(hub, "JSL-03")
    resp = upsert(api, "components", point("x-j3", lon, lat, kind="bench", name="新长椅"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["inserted"] == 1
    assert fetch(api, "jsl-worker-03", etag=etag).status_code == 200
    newer = fetch(api, "jsl-worker-03", tmp_path / "2.gpkg")
    assert newer.headers["etag"] != etag
    assert "x-j3" in ids_in(tmp_path / "2.gpkg", "components")
    assert "x-j3" not in ids_in(tmp_path / "1.gpkg", "components")
    assert ids_in(tmp_path / "2.gpkg", "components").isdisjoint({"x-hm", "x-j5"})
    conn = sqlite3.connect(tmp_path / "2.gpkg")
    row = conn.execute("SELECT kind, name, grid_code FROM components WHERE id='x-j3'").fetchone()
    conn.close()
    assert row == ("bench", "新长椅", "JSL-03")

    # a delete in JSL-03 changes it again
    gone = api.post(
        "/api/v1/twin/features/delete",
        headers=api.login("admin"),
        json={"layer": "components", "ids": ["x-j3"]},
    )
    assert gone.status_code == 200 and gone.json()["removed"] == 1
    third = fetch(api, "jsl-worker-03", tmp_path / "3.gpkg")
    assert third.headers["etag"] not in (etag, newer.headers["etag"])
    assert "x-j3" not in ids_in(tmp_path / "3.gpkg", "components")


# ----------------------------------------------------------------------------- cursor


def test_cursor_is_the_feed_position_of_the_extract(api: Any, hub: Any, tmp_path: Path) -> None:
    lon, lat = spot(hub, "JSL-03")
    # a change made before the extract is in the file, and not sent again by the feed
    assert upsert(api, "components", point("before", lon, lat)).status_code == 200
    resp = fetch(api, "jsl-worker-03", tmp_path / "x.gpkg")
    cursor = resp.headers["x-sync-cursor"]
    assert "before" in ids_in(tmp_path / "x.gpkg", "components")
    assert twin_changes(feed(api, "jsl-worker-03", cursor)) == {}

    # a change after it arrives as an upsert of a GeoJSON Feature
    resp = upsert(api, "components", point("after", lon, lat, kind="hydrant", name="H-9", dn=150))
    assert resp.status_code == 200, resp.text
    body = feed(api, "jsl-worker-03", cursor)
    change = twin_changes(body)["after"]
    assert change["op"] == "upsert"
    data = change["data"]
    assert data["type"] == "Feature" and data["id"] == "after"
    assert data["geometry"]["type"] == "Point"
    assert data["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-12)
    props = data["properties"]
    assert (props["layer"], props["kind"], props["name"]) == ("components", "hydrant", "H-9")
    assert props["grid_code"] == "JSL-03" and props["dn"] == 150
    assert "before" not in twin_changes(body)
    cursor = body["cursor"]

    # changes elsewhere do not reach the worker at all
    assert upsert(api, "components", point("elsewhere", *spot(hub, "HM-02"))).status_code == 200
    assert twin_changes(feed(api, "jsl-worker-03", cursor)) == {}

    # moved out of JSL-03: a remove for the worker, an upsert for the street office
    office = fetch(api, "jsl-dispatcher").headers["x-sync-cursor"]
    moved = point("after", *spot(hub, "JSL-05"), kind="hydrant")
    resp = upsert(api, "components", moved)
    assert resp.status_code == 200 and resp.json()["updated"] == 1
    body = feed(api, "jsl-worker-03", cursor)
    assert twin_changes(body)["after"]["op"] == "remove"
    assert twin_changes(body)["after"]["data"] is None
    seen = twin_changes(feed(api, "jsl-dispatcher", office))["after"]
    assert seen["op"] == "upsert" and seen["data"]["properties"]["grid_code"] == "JSL-05"
    cursor = body["cursor"]

    # a delete: a remove
    gone = api.post(
        "/api/v1/twin/features/delete",
        headers=api.login("admin"),
        json={"layer": "components", "ids": ["before"]},
    )
    assert gone.status_code == 200 and gone.json()["removed"] == 1
    body = feed(api, "jsl-worker-03", cursor)
    assert twin_changes(body)["before"]["op"] == "remove"


# ----------------------------------------------------------------------------- refusals


def _linestring(lon: float, lat: float) -> dict:
    return {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.0002, lat + 0.0002]]}


BAD = {
    "line as component": lambda lon, lat: {
        "type": "Feature",
        "id": "bad-1",
        "geometry": _linestring(lon, lat),
        "properties": {"kind": "hydrant"},
    },
    "no kind": lambda lon, lat: {
        "type": "Feature",
        "id": "bad-1",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": "x"},
    },
    "empty kind": lambda lon, lat: point("bad-1", lon, lat, kind=""),
    "no id": lambda lon, lat: {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"kind": "hydrant"},
    },
    "latitude out of range": lambda lon, lat: point("bad-1", lon, 95.0),
    "longitude out of range": lambda lon, lat: point("bad-1", 181.5, lat),
    "no geometry": lambda lon, lat: {
        "type": "Feature",
        "id": "bad-1",
        "geometry": None,
        "properties": {"kind": "hydrant"},
    },
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_twin_upsert_is_refused_whole(api: Any, hub: Any, case: str) -> None:
    lon, lat = spot(hub, "JSL-03")
    etag = fetch(api, "jsl-worker-03").headers["etag"]
    position = hub.store.feed_position()
    rows = hub.store.reader.execute("SELECT COUNT(*) FROM twin").fetchone()[0]

    good = point("good-1", lon, lat)
    resp = upsert(api, "components", good, BAD[case](lon, lat))
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert error["code"] == "invalid_payload"
    assert isinstance(error["message"], str) and error["message"]

    assert hub.store.reader.execute("SELECT COUNT(*) FROM twin").fetchone()[0] == rows
    assert hub.store.reader.execute("SELECT 1 FROM twin WHERE id = 'good-1'").fetchone() is None
    assert hub.store.feed_position() == position
    assert fetch(api, "jsl-worker-03", etag=etag).status_code == 304


def test_pipelines_and_areas_take_their_geometry_only(api: Any, hub: Any) -> None:
    lon, lat = spot(hub, "JSL-03")
    pt = {"type": "Point", "coordinates": [lon, lat]}
    for layer in ("pipelines", "areas"):
        feature = {"type": "Feature", "id": f"p-{layer}", "geometry": pt, "properties": {}}
        feature["properties"]["kind"] = "water"
        resp = upsert(api, layer, feature)
        assert resp.status_code == 422, (layer, resp.text)
        assert resp.json()["error"]["code"] == "invalid_payload"
    line = {"type": "Feature", "id": "ok-line", "geometry": _linestring(lon, lat)}
    line["properties"] = {"kind": "water"}
    resp = upsert(api, "pipelines", line)
    assert resp.status_code == 200, resp.text
    assert resp.json()["inserted"] == 1


@pytest.mark.parametrize("user", ["jsl-dispatcher", "jsl-supervisor", "jsl-worker-03"])
def test_only_admins_change_the_twin(api: Any, hub: Any, user: str) -> None:
    lon, lat = spot(hub, "JSL-03")
    position = hub.store.feed_position()
    victim = hub.store.reader.execute(
        "SELECT id FROM twin WHERE layer='components' AND grid_code='JSL-03' LIMIT 1"
    ).fetchone()[0]

    resp = upsert(api, "components", point("nope", lon, lat), user=user)
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"]["code"] == "forbidden"
    resp = api.post(
        "/api/v1/twin/features/delete",
        headers=api.login(user),
        json={"layer": "components", "ids": [victim]},
    )
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"]["code"] == "forbidden"

    assert hub.store.reader.execute("SELECT 1 FROM twin WHERE id = 'nope'").fetchone() is None
    assert hub.store.reader.execute("SELECT 1 FROM twin WHERE id = ?", (victim,)).fetchone()
    assert hub.store.feed_position() == position


def test_extract_needs_a_token(api: Any) -> None:
    resp = api.get(EXTRACT)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "unauthorized"


# ----------------------------------------------------------------------------- QGIS


def test_qgis_loads_every_layer(api: Any, tmp_path: Path) -> None:
    pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")
    from qgis.core import QgsApplication, QgsVectorLayer

    if QgsApplication.instance() is None:
        from qgis.testing import start_app

        start_app()
    path = tmp_path / "w03.gpkg"
    assert fetch(api, "jsl-worker-03", path).status_code == 200
    conn = sqlite3.connect(path)
    counts = {name: conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] for name in FIELDS}
    conn.close()
    assert counts["grids"] == 12 and all(counts.values())

    for name, fields in FIELDS.items():
        layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
        try:
            assert layer.isValid(), name
            assert layer.featureCount() == counts[name], name
            assert layer.crs().authid() == "EPSG:4326", name
            assert fields <= set(layer.fields().names()), name
            assert sum(1 for _ in layer.getFeatures()) == counts[name], name
        finally:
            del layer  # a layer that outlives QgsApplication crashes the interpreter at exit
