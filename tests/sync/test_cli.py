"""The `gridops` command (README "Operating a hub"), run for real as a subprocess on a copy
of the demo hub's data folder: import-twin (GeoPackages written by GDAL/OGR in EPSG:4326,
3857 and 32651, GeoJSON, --kind/--id-field/--source-layer, re-import), its errors (exit 2,
one `gridops:` line on stderr, nothing imported), users, devices, keys, grids import, and
backup/restore while a live hub serves.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import op

from sync import geo

_NEXT_TO_PYTHON = Path(sys.executable).parent / "gridops"
GRIDOPS = str(_NEXT_TO_PYTHON) if _NEXT_TO_PYTHON.exists() else shutil.which("gridops")


# ----------------------------------------------------------------------------- helpers


def gridops(data: Path, *args: Any) -> subprocess.CompletedProcess[str]:
    assert GRIDOPS, "the gridops command is not installed (pip install -e .)"
    return subprocess.run(
        [GRIDOPS, *map(str, args), "--data", str(data)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def gridops_many(data: Path, *runs: tuple[Any, ...]) -> list[subprocess.CompletedProcess[str]]:
    """Several `gridops` runs at once (refusals that must each write nothing: cheaper)."""
    assert GRIDOPS, "the gridops command is not installed (pip install -e .)"
    procs = []
    for args in runs:
        cmd = [GRIDOPS, *map(str, args), "--data", str(data)]
        procs.append(
            (
                cmd,
                subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    results = []
    for cmd, proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(cmd, proc.returncode, out, err))
    return results


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2 with one `gridops: ...` line on stderr (naming `words`) and nothing on stdout."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gridops: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert result.stdout == ""
    return lines[0]


@pytest.fixture
def data(demo_template: Path, tmp_path: Path) -> Path:
    """A copy of the demo hub's data folder that no process has open."""
    target = tmp_path / "data"
    shutil.copytree(demo_template, target)
    return target


@contextmanager
def opened(data: Path) -> Iterator[Any]:
    from sync.server.hub import Hub

    hub = Hub(data)
    try:
        yield hub
    finally:
        hub.close()


@contextmanager
def served(data: Path) -> Iterator[Any]:
    """An in-process client of a hub on `data` (open while the CLI writes to it)."""
    from fastapi.testclient import TestClient

    from sync.server.app import create_app

    with opened(data) as hub, TestClient(create_app(hub)) as client:
        yield client


def eventually(read: Any, timeout: float = 6.0) -> Any:
    """`read()` once it is truthy (or its last value after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def state(data: Path) -> dict[str, Any]:
    """What a refused command must leave as it was."""
    conn = sqlite3.connect(data / "hub.sqlite")
    try:
        out: dict[str, Any] = {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("twin", "users", "user_grids", "streets", "grids", "api_keys", "tasks")
        }
        out["twin_updated"] = conn.execute("SELECT MAX(updated_at) FROM twin").fetchone()[0]
        out["live_tokens"] = conn.execute(
            "SELECT COUNT(*) FROM tokens WHERE revoked_at IS NULL"
        ).fetchone()[0]
        out["live_keys"] = conn.execute(
            "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL"
        ).fetchone()[0]
        out["seq"] = conn.execute("SELECT MAX(seq) FROM changes").fetchone()[0]
        out["passwords"] = conn.execute(
            "SELECT group_concat(password_hash) FROM (SELECT password_hash FROM users ORDER BY id)"
        ).fetchone()[0]
        return out
    finally:
        conn.close()


def twin_rows(data: Path, *ids: str) -> dict[str, dict[str, Any]]:
    from sync.gpkg import gpkg_blob_decode

    conn = sqlite3.connect(data / "hub.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            f"SELECT * FROM twin WHERE id IN ({','.join('?' * len(ids))})", ids
        ).fetchall()
    finally:
        conn.close()
    out = {}
    for row in rows:
        item = dict(row)
        item["geometry"] = gpkg_blob_decode(row["geom"])
        item["props"] = json.loads(row["props"])
        out[row["id"]] = item
    return out


def spots(data: Path, code: str, n: int) -> list[tuple[float, float]]:
    """`n` distinct points inside grid `code`, each checked with the hub's `locate`."""
    with opened(data) as hub:
        grid = hub.store.get_grid(code)
        lon, lat = geo.representative_point(grid["geometry"])
        out = []
        for i in range(n):
            p = (lon + 0.00005 * i, lat + 0.00003 * i)
            assert hub.store.locate(*p) == (code, grid["properties"]["street_code"]), p
            out.append(p)
        return out


def transform(lon: float, lat: float, epsg: int) -> tuple[float, float]:
    """WGS 84 lon/lat → x/y in EPSG:`epsg`, through GDAL's osr."""
    from osgeo import osr

    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(4326)
    dst.ImportFromEPSG(epsg)
    for ref in (src, dst):
        ref.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    x, y, _ = osr.CoordinateTransformation(src, dst).TransformPoint(lon, lat)
    return x, y


@pytest.fixture
def ogr() -> Any:
    pytest.importorskip("osgeo", reason="GDAL's Python bindings (python3-gdal) are not installed")
    from osgeo import ogr as _ogr
    from osgeo import osr as _osr

    _ogr.UseExceptions()
    _osr.UseExceptions()
    return _ogr


Layer = tuple[str, int, int, list[str], list[tuple[dict[str, Any], str]]]


def write_gpkg(path: Path, layers: list[Layer]) -> Path:
    """A GeoPackage written by GDAL/OGR: (name, epsg, geometry type, fields, [(values, wkt)])."""
    from osgeo import ogr, osr

    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    for name, epsg, gtype, fields, features in layers:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        lyr = ds.CreateLayer(name, srs, gtype)
        for field in fields:
            kind = ogr.OFTInteger if field == "floors" else ogr.OFTString
            lyr.CreateField(ogr.FieldDefn(field, kind))
        for values, wkt in features:
            feat = ogr.Feature(lyr.GetLayerDefn())
            for key, value in values.items():
                feat.SetField(key, value)
            feat.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
            lyr.CreateFeature(feat)
            feat = None
    ds = None
    return path


def write_geojson(path: Path, features: list[dict[str, Any]], crs: str | None = None) -> Path:
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def feature(geometry: dict[str, Any], fid: Any = None, **props: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "Feature", "geometry": geometry, "properties": props}
    if fid is not None:
        item["id"] = fid
    return item


def pt(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


# ----------------------------------------------------------------------------- import-twin


def test_import_twin_geopackage_in_three_crs(data: Path, tmp_path: Path, ogr: Any) -> None:
    (a, b, c, d) = spots(data, "JSL-03", 4)
    mx, my = transform(*b, 3857)
    ux, uy = transform(*c, 32651)
    assert 300_000 < ux < 400_000 and 3_400_000 < uy < 3_500_000  # really UTM 51N metres
    line = f"LINESTRING ({a[0]} {a[1]}, {d[0]} {d[1]}, {d[0] + 0.0001} {d[1]})"
    x0, y0 = a
    ring = f"{x0} {y0}, {x0 + 0.0003} {y0}, {x0 + 0.0003} {y0 + 0.0002}, {x0} {y0}"
    path = write_gpkg(
        tmp_path / "city.gpkg",
        [
            (
                "hydrants_4326",
                4326,
                ogr.wkbPoint,
                ["id", "kind", "name", "floors"],
                [
                    (
                        {"id": "t-p4326", "kind": "hydrant", "name": "消火栓 1", "floors": 3},
                        f"POINT ({x0} {y0})",
                    )
                ],
            ),
            (
                "hydrants_3857",
                3857,
                ogr.wkbPoint,
                ["id", "kind", "name"],
                [({"id": "t-p3857", "kind": "hydrant", "name": "H2"}, f"POINT ({mx} {my})")],
            ),
            (
                "poles_utm",
                32651,
                ogr.wkbPoint,
                ["id", "kind", "name"],
                [({"id": "t-p32651", "kind": "pole", "name": "P3"}, f"POINT ({ux} {uy})")],
            ),
            (
                "water_mains",
                4326,
                ogr.wkbLineString,
                ["id", "kind"],
                [({"id": "t-line", "kind": "water_main"}, line)],
            ),
            (
                "sites",
                4326,
                ogr.wkbPolygon,
                ["id", "kind", "name"],
                [
                    (
                        {"id": "t-area", "kind": "building_site", "name": "工地"},
                        f"POLYGON (({ring}))",
                    )
                ],
            ),
        ],
    )
    ids = ("t-p4326", "t-p3857", "t-p32651", "t-line", "t-area")
    before = state(data)

    # one table by name first
    out = ok(gridops(data, "import-twin", path, "--source-layer", "poles_utm"))
    assert out.strip().splitlines()[-1].endswith(": 1 new, 0 updated, 0 outside every grid")
    assert set(twin_rows(data, *ids)) == {"t-p32651"}

    result = gridops(data, "import-twin", path)
    out = ok(result)
    assert out.count("\n") == 1, out  # the counts line only; the progress bar is on stderr
    assert out.startswith("imported 5 features in ")
    assert out.rstrip().endswith(": 4 new, 1 updated, 0 outside every grid")
    assert "importing [" in result.stderr and "5/5" in result.stderr
    assert "importing" not in out

    rows = twin_rows(data, *ids)
    assert {fid: (r["layer"], r["grid_code"], r["street_code"]) for fid, r in rows.items()} == {
        "t-p4326": ("components", "JSL-03", "JSL"),
        "t-p3857": ("components", "JSL-03", "JSL"),
        "t-p32651": ("components", "JSL-03", "JSL"),
        "t-line": ("pipelines", "JSL-03", "JSL"),
        "t-area": ("areas", "JSL-03", "JSL"),
    }
    for fid, (lon, lat) in (("t-p4326", a), ("t-p3857", b), ("t-p32651", c)):
        geometry = rows[fid]["geometry"]
        assert geometry["type"] == "Point"
        assert geometry["coordinates"] == pytest.approx([lon, lat], abs=1e-6), fid
    assert rows["t-line"]["geometry"]["type"] == "MultiLineString"
    assert rows["t-line"]["geometry"]["coordinates"][0][0] == pytest.approx(list(a), abs=1e-9)
    assert rows["t-area"]["geometry"]["type"] == "MultiPolygon"
    assert rows["t-p4326"]["kind"] == "hydrant" and rows["t-p4326"]["name"] == "消火栓 1"
    assert rows["t-p4326"]["props"] == {"floors": 3}
    assert rows["t-area"]["kind"] == "building_site" and rows["t-area"]["name"] == "工地"
    assert state(data)["twin"] == before["twin"] + 5

    # the same file again: updates, no duplicates
    out = ok(gridops(data, "import-twin", path))
    assert out.rstrip().endswith(": 0 new, 5 updated, 0 outside every grid")
    assert state(data)["twin"] == before["twin"] + 5
    assert twin_rows(data, *ids)["t-p32651"]["geometry"]["coordinates"] == pytest.approx(
        list(c), abs=1e-6
    )


def test_import_twin_geojson_kind_id_field_and_crs(data: Path, tmp_path: Path, ogr: Any) -> None:
    (a, b, c) = spots(data, "JSL-03", 3)
    before = state(data)

    lights = write_geojson(
        tmp_path / "lights.geojson",
        [
            feature(pt(*a), asset_no="SL-0001", name="路灯 1", height=9.5),
            feature(pt(*b), asset_no="SL-0002"),
            feature(pt(121.0, 30.0), asset_no="SL-0003"),  # in no grid: kept, counted
        ],
    )
    result = gridops(data, "import-twin", lights, "--kind", "streetlight", "--id-field", "asset_no")
    out = ok(result)
    assert out.rstrip().endswith(": 3 new, 0 updated, 1 outside every grid"), out
    assert "importing [" in result.stderr
    rows = twin_rows(data, "SL-0001", "SL-0002", "SL-0003")
    assert {r["kind"] for r in rows.values()} == {"streetlight"}
    assert {r["layer"] for r in rows.values()} == {"components"}
    assert rows["SL-0001"]["name"] == "路灯 1"
    assert rows["SL-0001"]["props"] == {"height": 9.5}
    assert rows["SL-0001"]["geometry"]["coordinates"] == pytest.approx(list(a), abs=1e-12)
    assert (rows["SL-0001"]["grid_code"], rows["SL-0003"]["grid_code"]) == ("JSL-03", None)

    # lines → pipelines, polygons → areas; a GeoJSON in EPSG:3857 is transformed
    ax, ay = transform(*a, 3857)
    cx, cy = transform(*c, 3857)
    ring = [[ax, ay], [ax + 30, ay], [ax + 30, ay + 20], [ax, ay]]
    mixed = write_geojson(
        tmp_path / "mixed.json",
        [
            feature(
                {"type": "LineString", "coordinates": [[ax, ay], [cx, cy]]}, "g-line", kind="gas"
            ),
            feature({"type": "Polygon", "coordinates": [ring]}, "g-area", kind="compound"),
            feature(pt(cx, cy), "g-point", kind="manhole"),
        ],
        crs="urn:ogc:def:crs:EPSG::3857",
    )
    out = ok(gridops(data, "import-twin", mixed))
    assert out.rstrip().endswith(": 3 new, 0 updated, 0 outside every grid")
    rows = twin_rows(data, "g-line", "g-area", "g-point")
    assert {k: r["layer"] for k, r in rows.items()} == {
        "g-line": "pipelines",
        "g-area": "areas",
        "g-point": "components",
    }
    assert rows["g-point"]["geometry"]["coordinates"] == pytest.approx(list(c), abs=1e-6)
    assert rows["g-line"]["geometry"]["coordinates"][0][0] == pytest.approx(list(a), abs=1e-6)
    assert {r["grid_code"] for r in rows.values()} == {"JSL-03"}

    # re-import with another kind: updated in place
    out = ok(gridops(data, "import-twin", lights, "--kind", "lamp", "--id-field", "asset_no"))
    assert out.rstrip().endswith(": 0 new, 3 updated, 1 outside every grid")
    assert twin_rows(data, "SL-0002")["SL-0002"]["kind"] == "lamp"
    assert state(data)["twin"] == before["twin"] + 6


def _text(path: Path, spot: tuple[float, float]) -> Path:
    path.write_text("id,kind,lon,lat\nx1,hydrant,121.43,31.22\n", encoding="utf-8")
    return path


def _gpkg_without_kind(path: Path, spot: tuple[float, float]) -> Path:
    from osgeo import ogr

    return write_gpkg(
        path,
        [
            (
                "assets",
                4326,
                ogr.wkbPoint,
                ["id", "type"],
                [({"id": "e-1", "type": "hydrant"}, f"POINT ({spot[0]} {spot[1]})")],
            )
        ],
    )


def _gpkg_without_an_id(path: Path, spot: tuple[float, float]) -> Path:
    from osgeo import ogr

    where = f"POINT ({spot[0]} {spot[1]})"
    return write_gpkg(
        path,
        [
            (
                "assets",
                4326,
                ogr.wkbPoint,
                ["id", "kind"],
                [({"id": "e-1", "kind": "hydrant"}, where), ({"kind": "hydrant"}, where)],
            )
        ],
    )


def _geojson_without_an_id(path: Path, spot: tuple[float, float]) -> Path:
    return write_geojson(
        path,
        [feature(pt(*spot), "e-1", kind="hydrant"), feature(pt(*spot), kind="hydrant")],
    )


def _geojson_unknown_crs(path: Path, spot: tuple[float, float]) -> Path:
    return write_geojson(
        path, [feature(pt(*spot), "e-1", kind="hydrant")], crs="urn:ogc:def:crs:EPSG::999999"
    )


def _missing(path: Path, spot: tuple[float, float]) -> Path:
    return path


# (writer, file name, words the one error line names)
IMPORT_ERRORS = {
    "text file": (_text, "cities.csv", ("not a GeoPackage or a GeoJSON",)),
    "GeoPackage without a kind field": (_gpkg_without_kind, "a.gpkg", ("'kind'", "--kind")),
    "GeoPackage feature without id": (_gpkg_without_an_id, "b.gpkg", ("empty id",)),
    "GeoJSON feature without id": (_geojson_without_an_id, "c.geojson", ("'id'", "--id-field")),
    "missing file": (_missing, "nowhere.gpkg", ("no such file",)),
}


def test_import_twin_errors_are_one_line_and_import_nothing(
    data: Path, tmp_path: Path, ogr: Any
) -> None:
    (spot,) = spots(data, "JSL-03", 1)
    paths = {
        case: writer(tmp_path / name, spot) for case, (writer, name, _) in IMPORT_ERRORS.items()
    }
    crs = _geojson_unknown_crs(tmp_path / "d.geojson", spot)
    before = state(data)
    *results, crs_result = gridops_many(
        data, *(("import-twin", p) for p in paths.values()), ("import-twin", crs)
    )
    for (case, (_, name, words)), result in zip(IMPORT_ERRORS.items(), results):
        line = refused(result, *words)
        assert name in line, case
    # an unknown CRS: exit 2 and a gridops: line naming it
    assert crs_result.returncode == 2 and crs_result.stdout == ""
    last = crs_result.stderr.strip().splitlines()[-1]
    assert last.startswith("gridops: d.geojson") and "EPSG:999999" in last
    assert state(data) == before


def test_import_twin_unknown_crs_is_one_line(data: Path, tmp_path: Path, ogr: Any) -> None:
    (spot,) = spots(data, "JSL-03", 1)
    path = _geojson_unknown_crs(tmp_path / "d.geojson", spot)
    refused(gridops(data, "import-twin", path), "EPSG:999999")


def test_import_twin_is_all_or_nothing(data: Path, tmp_path: Path) -> None:
    (a, b) = spots(data, "JSL-03", 2)
    path = write_geojson(
        tmp_path / "half.geojson",
        [
            feature({"type": "LineString", "coordinates": [list(a), list(b)]}, "h-1", kind="gas"),
            feature(pt(a[0], 95.0), "h-2", kind="hydrant"),
        ],
    )
    before = state(data)
    result = gridops(data, "import-twin", path)
    assert result.returncode == 2, result
    assert twin_rows(data, "h-1", "h-2") == {}  # fails today: h-1 was committed
    assert state(data) == before
    refused(result, "h-2")  # also today: the error is glued to the unfinished progress bar


# ----------------------------------------------------------------------------- users, devices


def _login(client: Any, username: str, password: str, device: str) -> Any:
    return client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, "device_id": device},
    )


def _bearer(client: Any, username: str, password: str) -> dict[str, str]:
    resp = _login(client, username, password, f"test-{username}")
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def _me(client: Any, token: str) -> int:
    resp = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return int(resp.status_code)


def test_users_and_devices(data: Path) -> None:
    out = ok(
        gridops(
            data,
            *("users", "add", "zhang-san", "--role", "worker", "--street", "JSL"),
            *("--grids", "JSL-03", "--name", "张三", "--password", "pw-one"),
        )
    )
    assert out.strip() == "added worker zhang-san (张三)"

    listed = ok(gridops(data, "users", "list", "--street", "JSL"))
    line = next(x for x in listed.splitlines() if x.split()[0] == "zhang-san")
    assert "worker" in line and "JSL-03" in line and "张三" in line
    assert any(x.split()[0] == "jsl-worker-03" for x in listed.splitlines())
    assert not any(x.startswith("hm-") for x in listed.splitlines())

    with served(data) as client:
        resp = _login(client, "zhang-san", "pw-one", "phone-a")
        assert resp.status_code == 200, resp.text
        user = resp.json()["user"]
        assert (user["role"], user["street_code"], user["grid_codes"]) == (
            "worker",
            "JSL",
            ["JSL-03"],
        )
        assert user["display_name"] == "张三"
        phone_a = resp.json()["token"]
        phone_b = _login(client, "zhang-san", "pw-one", "phone-b").json()["token"]
        assert _me(client, phone_a) == _me(client, phone_b) == 200

        devices = ok(gridops(data, "devices", "list", "--user", "zhang-san"))
        assert {x.split()[1] for x in devices.splitlines()} == {"phone-a", "phone-b"}
        assert all(x.split()[0] == "zhang-san" for x in devices.splitlines())
        assert all(x.rstrip().endswith("live tokens 1") for x in devices.splitlines())

        # a lost phone: that device's token only
        out = ok(gridops(data, "devices", "revoke", "zhang-san", "phone-a"))
        assert "1 token" in out
        assert _me(client, phone_a) == 401
        assert _me(client, phone_b) == 200

        # a new password revokes every token; only the new password logs in
        out = ok(gridops(data, "users", "passwd", "zhang-san", "--password", "pw-two"))
        assert "1 token(s) revoked" in out
        assert _me(client, phone_b) == 401
        assert _login(client, "zhang-san", "pw-one", "phone-c").status_code == 401
        resp = _login(client, "zhang-san", "pw-two", "phone-c")
        assert resp.status_code == 200, resp.text
        phone_c = resp.json()["token"]
        assert _me(client, phone_c) == 200

        out = ok(gridops(data, "users", "revoke", "zhang-san"))
        assert "revoked 1 token(s)" in out
        assert _me(client, phone_c) == 401
        # the account itself still works
        assert _login(client, "zhang-san", "pw-two", "phone-d").status_code == 200


USER_ERRORS = {
    "unknown street": (
        ("users", "add", "li-si", "--role", "worker", "--street", "XX", "--password", "p"),
        ("'XX'",),
    ),
    "grid of another street": (
        ("users", "add", "li-si", "--role", "worker", "--street", "JSL", "--grids", "HM-01"),
        ("HM-01",),
    ),
    "existing user": (
        ("users", "add", "jsl-worker-03", "--role", "worker", "--street", "JSL"),
        ("exists",),
    ),
    "passwd of an unknown user": (("users", "passwd", "nobody", "--password", "p"), ("'nobody'",)),
    "device revoke, unknown user": (("devices", "revoke", "nobody", "phone"), ("'nobody'",)),
}


def test_user_and_device_errors_write_nothing(data: Path) -> None:
    with served(data) as client:  # a live token that a wrong revoke must not touch
        token = client.post(
            "/api/v1/auth/login",
            json={"username": "jsl-worker-03", "password": "demo", "device_id": "phone"},
        ).json()["token"]
    before = state(data)
    bad_role = ("users", "add", "li-si", "--role", "boss", "--street", "JSL", "--password", "p")
    runs = [
        (*args, "--password", "p")
        if args[:2] == ("users", "add") and "--password" not in args
        else args
        for args, _ in USER_ERRORS.values()
    ]
    *results, parser = gridops_many(data, *runs, bad_role)
    for (case, (_, words)), result in zip(USER_ERRORS.items(), results):
        try:
            refused(result, *words)
        except AssertionError as err:
            raise AssertionError(f"{case}: {err}") from None
    # a role that is not one: argparse's own usage error, also exit 2
    assert parser.returncode == 2 and parser.stdout == ""
    assert "invalid choice: 'boss'" in parser.stderr
    assert state(data) == before
    with served(data) as client:
        assert _me(client, token) == 200


# ----------------------------------------------------------------------------- keys


def test_keys_add_list_revoke(data: Path) -> None:
    from sync.server.auth import secret_hash

    out = ok(gridops(data, "keys", "add", "--purpose", "camera", "--name", "cam-yuyuan-rd"))
    key = out.split("cam-yuyuan-rd:", 1)[1].split()[0]
    assert len(key) >= 24
    listed = ok(gridops(data, "keys", "list"))
    line = next(x for x in listed.splitlines() if x.split()[0] == "cam-yuyuan-rd")
    assert line.split()[1] == "camera" and line.rstrip().endswith("active")
    with opened(data) as hub:
        assert hub.store.api_key_purpose(secret_hash(key)) == "camera"
        assert hub.auth.key_purpose(key) == "camera"

    out = ok(gridops(data, "keys", "revoke", "--name", "cam-yuyuan-rd"))
    assert "cam-yuyuan-rd" in out
    listed = ok(gridops(data, "keys", "list"))
    line = next(x for x in listed.splitlines() if x.split()[0] == "cam-yuyuan-rd")
    assert "revoked" in line
    with opened(data) as hub:
        assert hub.auth.key_purpose(key) is None
        assert hub.auth.key_purpose("demo-camera-key") == "camera"  # the others stay

    before = state(data)
    refused(gridops(data, "keys", "revoke", "--name", "cam-yuyuan-rd"), "cam-yuyuan-rd")
    assert state(data) == before


def test_keys_add_refuses_a_taken_name(data: Path) -> None:
    before = state(data)
    refused(gridops(data, "keys", "add", "--purpose", "camera", "--name", "demo-camera"), "exists")
    assert state(data) == before


# ----------------------------------------------------------------------------- grids


def _square(x: float, y: float, size: float) -> dict[str, Any]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_grids_import_creates_a_new_streets_grids(data: Path, tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "xh.geojson",
        [
            feature(_square(121.60, 31.30, 0.01), code="XH-01", street_code="XH", name="徐汇一"),
            feature(_square(121.61, 31.30, 0.01), code="XH-02", street_code="XH", name="徐汇二"),
        ],
    )
    with opened(data) as hub:  # a hub that was serving before the import
        assert hub.store.locate(121.605, 31.305) is None
        out = ok(gridops(data, "grids", "import", path))
        assert out.strip() == "imported 2 grids"
        # the serving hub re-reads the grids within a few seconds (sync.store.directory)
        assert eventually(lambda: hub.store.locate(121.605, 31.305)) == ("XH-01", "XH")
        assert hub.store.locate(121.615, 31.305) == ("XH-02", "XH")
        assert hub.store.get_grid("XH-02")["properties"]["name"] == "徐汇二"
    with served(data) as client:
        admin = _bearer(client, "admin", "demo")
        grids = client.get("/api/v1/grids", headers=admin).json()["features"]
        mine = {f["properties"]["code"]: f["properties"] for f in grids if f["id"][:2] == "XH"}
        assert sorted(mine) == ["XH-01", "XH-02"]
        assert mine["XH-01"]["street_code"] == "XH" and mine["XH-01"]["name"] == "徐汇一"
        # a task reported there lands in the new grid
        task_id = str(uuid.uuid4())
        resp = client.post(
            "/api/v1/sync/push",
            headers=admin,
            json={
                "device_id": "desk",
                "ops": [op("task.create", task_id, kind="litter", lon=121.615, lat=31.305)],
            },
        )
        result = resp.json()["results"][0]
        assert result["status"] == "applied", result
        assert (result["task"]["grid_code"], result["task"]["street_code"]) == ("XH-02", "XH")


def test_grids_import_of_a_line_is_refused(data: Path, tmp_path: Path) -> None:
    line = {"type": "LineString", "coordinates": [[121.60, 31.30], [121.61, 31.31]]}
    path = write_geojson(tmp_path / "l.geojson", [feature(line, code="XH-01", street_code="XH")])
    before = state(data)
    refused(gridops(data, "grids", "import", path), "XH-01", "polygon")
    assert state(data) == before


def test_grids_import_refused_writes_no_street(data: Path, tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "bad.geojson",
        [
            feature(_square(121.60, 31.30, 0.01), code="XH-01", street_code="XH"),
            feature(_square(121.61, 31.30, 0.01), code="bad code!", street_code="XH"),
        ],
    )
    before = state(data)
    refused(gridops(data, "grids", "import", path), "bad code!")
    assert state(data) == before


def test_grids_import_redraw_reaches_a_serving_hub(data: Path, tmp_path: Path) -> None:
    with opened(data) as hub:
        grid = hub.store.get_grid("JSL-03")
        lon, lat = geo.representative_point(grid["geometry"])
        assert hub.store.locate(lon, lat) == ("JSL-03", "JSL")  # cached now
        # JSL-03 redrawn far away: its old spot is in no grid any more
        path = write_geojson(
            tmp_path / "redraw.geojson",
            [feature(_square(121.60, 31.30, 0.01), code="JSL-03", street_code="JSL")],
        )
        ok(gridops(data, "grids", "import", path))
        assert eventually(lambda: hub.store.locate(121.605, 31.305)) == ("JSL-03", "JSL")
        assert hub.store.locate(lon, lat) is None


# ----------------------------------------------------------------------------- backup


def test_backup_while_serving_and_restore(live_hub: Any, tmp_path: Path) -> None:
    import httpx

    data = live_hub.hub.data_dir
    with httpx.Client(base_url=live_hub.url, timeout=20) as http:
        resp = http.post(
            "/api/v1/auth/login",
            json={"username": "jsl-dispatcher", "password": "demo", "device_id": "desk"},
        )
        headers = {"Authorization": f"Bearer {resp.json()['token']}"}
        lon, lat = geo.representative_point(live_hub.hub.store.get_grid("JSL-03")["geometry"])
        task_id = str(uuid.uuid4())
        resp = http.post(
            "/api/v1/sync/push",
            headers=headers,
            json={
                "device_id": "desk",
                "ops": [
                    op("task.create", task_id, kind="litter", lon=lon, lat=lat, title="备份前")
                ],
            },
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["results"][0]["status"] == "applied", resp.text
        tasks = live_hub.hub.store.reader.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]

        backup = tmp_path / "backups" / "hub.sqlite"
        backup.parent.mkdir()
        out = ok(gridops(data, "backup", backup))
        assert str(backup) in out
        # the hub kept serving
        assert http.get("/api/v1/health").json()["status"] == "ok"
        assert http.get(f"/api/v1/tasks/{task_id}", headers=headers).status_code == 200
        refused(gridops(data, "backup", backup), "exists")

    restored = tmp_path / "restored"
    out = ok(gridops(restored, "restore", backup, "--force"))
    assert "restored" in out
    with opened(restored) as hub:
        assert hub.store.reader.execute("SELECT COUNT(*) FROM tasks").fetchone()[0] == tasks
        task = hub.store.get_task(task_id)
        assert task is not None and task["title"] == "备份前" and task["grid_code"] == "JSL-03"
    with served(restored) as client:
        resp = _login(client, "jsl-dispatcher", "demo", "desk-2")
        assert resp.status_code == 200
        headers = {"Authorization": f"Bearer {resp.json()['token']}"}
        assert client.get(f"/api/v1/tasks/{task_id}", headers=headers).status_code == 200

    # refusals: an existing hub without --force, files that are not backups, no file
    before = state(restored)
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 50, encoding="utf-8")
    other = tmp_path / "other.sqlite"  # SQLite, but not a hub's
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    no_force, not_db, not_ours = gridops_many(
        restored, ("restore", backup), ("restore", text, "--force"), ("restore", other, "--force")
    )
    refused(no_force, "--force")
    refused(not_db, "not a GridOps backup")
    refused(not_ours, "not a GridOps backup")
    assert state(restored) == before
