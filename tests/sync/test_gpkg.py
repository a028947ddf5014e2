"""sync.gpkg: WKB and GeoPackageBinary, GeoPackage tables and R-tree upkeep with plain sqlite3,
and what GDAL/OGR makes of it (GDAL tests skip where osgeo is missing)."""

from __future__ import annotations

import math
import re
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest

from sync import gpkg
from sync.gpkg import (
    SRS_3857,
    GpkgError,
    add_srs,
    blob_envelope,
    create_attribute_table,
    create_feature_table,
    create_spatial_index,
    delete_features,
    geometry_bbox,
    gpkg_blob,
    gpkg_blob_decode,
    has_rtree,
    init_geopackage,
    insert_features,
    read_features,
    read_layers,
    register_st_functions,
    require_rtree,
    update_contents_extent,
    upsert_feature,
    wkb_decode,
    wkb_encode,
)

POINT = {"type": "Point", "coordinates": [116.397, 39.909]}
LINE = {"type": "LineString", "coordinates": [[116.1, 39.8], [116.2, 39.85], [116.25, 39.7]]}
POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [[116.0, 39.0], [117.0, 39.0], [117.0, 40.0], [116.0, 40.0], [116.0, 39.0]],
        [[116.2, 39.2], [116.4, 39.2], [116.4, 39.4], [116.2, 39.2]],
    ],
}
MULTIPOINT = {"type": "MultiPoint", "coordinates": [[1.5, -2.0], [3.0, 4.25]]}
MULTILINE = {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[-5, 2], [3, 8]]]}
MULTIPOLYGON = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[0, 0], [2, 0], [2, 2], [0, 0]]],
        [
            [[10, 10], [12, 10], [12, 13], [10, 10]],
            [[10.5, 10.2], [11, 10.2], [11, 10.4], [10.5, 10.2]],
        ],
    ],
}
COLLECTION = {"type": "GeometryCollection", "geometries": [POINT, LINE]}
ALL = {
    "point": POINT,
    "linestring": LINE,
    "polygon": POLYGON,
    "multipoint": MULTIPOINT,
    "multilinestring": MULTILINE,
    "multipolygon": MULTIPOLYGON,
    "geometrycollection": COLLECTION,
}
EMPTY = {
    "point": {"type": "Point", "coordinates": []},
    "linestring": {"type": "LineString", "coordinates": []},
    "polygon": {"type": "Polygon", "coordinates": []},
    "multipolygon": {"type": "MultiPolygon", "coordinates": []},
}
WKB_TYPE = {"Point": 1, "LineString": 2, "Polygon": 3, "MultiPoint": 4}


def _pt(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


def _square(x: float, y: float, size: float = 0.01) -> dict[str, Any]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


# ------------------------------------------------------------------------------------ WKB


@pytest.mark.parametrize("geom", list(ALL.values()), ids=list(ALL))
def test_wkb_round_trip_every_type(geom: dict[str, Any]) -> None:
    data = wkb_encode(geom)
    assert data[0] == 1  # little-endian
    code = {"MultiLineString": 5, "MultiPolygon": 6, "GeometryCollection": 7, **WKB_TYPE}
    assert struct.unpack_from("<I", data, 1)[0] == code[geom["type"]]
    assert wkb_decode(data) == geom


def test_wkb_point_bytes_are_iso_little_endian() -> None:
    assert wkb_encode(_pt(1, 2)).hex().upper() == "0101000000000000000000F03F0000000000000040"


@pytest.mark.parametrize("geom", list(EMPTY.values()), ids=list(EMPTY))
def test_wkb_empty_geometries_round_trip(geom: dict[str, Any]) -> None:
    data = wkb_encode(geom)
    assert wkb_decode(data) == geom
    if geom["type"] == "Point":  # ISO: POINT EMPTY is NaN NaN
        assert all(math.isnan(v) for v in struct.unpack_from("<2d", data, 5))


def test_wkb_encode_drops_z() -> None:
    line3d = {"type": "LineString", "coordinates": [[1, 2, 30], [3, 4, 40]]}
    assert wkb_encode(line3d) == wkb_encode({"type": "LineString", "coordinates": [[1, 2], [3, 4]]})
    assert wkb_decode(wkb_encode({"type": "Point", "coordinates": [5, 6, 7]})) == _pt(5, 6)


def test_wkb_decode_big_endian_made_by_hand() -> None:
    line = struct.pack(">BII4d", 0, 2, 2, 1.0, 2.0, 3.0, 4.0)
    assert wkb_decode(line) == {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}
    ring = [0.0, 0.0, 4.0, 0.0, 4.0, 3.0, 0.0, 0.0]
    poly = struct.pack(">BIII8d", 0, 3, 1, 4, *ring)
    assert wkb_decode(poly) == {
        "type": "Polygon",
        "coordinates": [[[0, 0], [4, 0], [4, 3], [0, 0]]],
    }
    # a big-endian MultiPoint whose members are little-endian: each part has its own order
    multi = struct.pack(">BII", 0, 4, 2) + struct.pack("<BI2d", 1, 1, 7, 8)
    multi += struct.pack(">BI2d", 0, 1, -1.5, 2.5)
    assert wkb_decode(multi) == {"type": "MultiPoint", "coordinates": [[7, 8], [-1.5, 2.5]]}


def test_wkb_decode_z_m_zm_variants_to_2d() -> None:
    assert wkb_decode(struct.pack("<BI3d", 1, 1001, 1, 2, 3)) == _pt(1, 2)  # ISO Z
    assert wkb_decode(struct.pack("<BI3d", 1, 2001, 1, 2, 9)) == _pt(1, 2)  # ISO M
    assert wkb_decode(struct.pack(">BI4d", 0, 3001, 1, 2, 3, 4)) == _pt(1, 2)  # ISO ZM, BE
    line_z = struct.pack(">BII6d", 0, 1002, 2, 1, 2, 10, 3, 4, 20)
    assert wkb_decode(line_z) == {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}
    ring_zm = [0, 0, 1, 9, 1, 0, 1, 9, 1, 1, 1, 9, 0, 0, 1, 9]
    poly_zm = struct.pack("<BIII16d", 1, 3003, 1, 4, *ring_zm)
    assert wkb_decode(poly_zm)["coordinates"] == [[[0, 0], [1, 0], [1, 1], [0, 0]]]
    # EWKB (PostGIS): Z flag in the high bit, and the SRID flag followed by the SRID
    assert wkb_decode(struct.pack("<BI3d", 1, 0x80000001, 5, 6, 7)) == _pt(5, 6)
    member = struct.pack("<BII6d", 1, 0x80000002, 2, 0, 0, 1, 1, 1, 1)
    ewkb = struct.pack("<BIiI", 1, 0xA0000005, 4326, 1) + member
    assert wkb_decode(ewkb) == {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]]]}
    mpoly_z = struct.pack("<BII", 1, 1006, 1) + struct.pack("<BIII", 1, 1003, 1, 4)
    mpoly_z += struct.pack("<12d", 0, 0, 5, 2, 0, 5, 2, 2, 5, 0, 0, 5)
    assert wkb_decode(mpoly_z)["coordinates"] == [[[[0, 0], [2, 0], [2, 2], [0, 0]]]]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x01\x01\x00\x00\x00\x00\x00",  # truncated point
        struct.pack("<BI", 7, 1) + b"\x00" * 16,  # bad byte order
        struct.pack("<BI2d", 1, 17, 0, 0),  # unknown type
        struct.pack("<BII", 1, 2, 10**9),  # count far beyond the data
        struct.pack("<BII", 1, 4, 1) + wkb_encode(LINE),  # MultiPoint holding a LineString
    ],
)
def test_wkb_decode_rejects_garbage(data: bytes) -> None:
    with pytest.raises(GpkgError):
        wkb_decode(data)


def test_wkb_encode_rejects_bad_geometry() -> None:
    with pytest.raises(GpkgError, match="unsupported geometry type"):
        wkb_encode({"type": "Circle", "coordinates": [0, 0]})
    with pytest.raises(GpkgError, match="x and y"):
        wkb_encode({"type": "Point", "coordinates": [1]})


def test_geometry_bbox() -> None:
    assert geometry_bbox(POLYGON) == (116.0, 39.0, 117.0, 40.0)
    assert geometry_bbox(MULTILINE) == (-5.0, 0.0, 3.0, 8.0)
    assert geometry_bbox({"type": "Point", "coordinates": [3, 4, 99]}) == (3.0, 4.0, 3.0, 4.0)
    assert geometry_bbox(COLLECTION) == (116.1, 39.7, 116.397, 39.909)
    with pytest.raises(GpkgError, match="empty"):
        geometry_bbox(EMPTY["polygon"])


# ------------------------------------------------------------------------ GeoPackageBinary


def test_gpkg_blob_point_has_no_envelope() -> None:
    blob = gpkg_blob(_pt(1, 2))
    assert blob is not None
    # byte for byte what GDAL writes for POINT (1 2) in EPSG:4326
    assert blob.hex().upper() == "47500001E61000000101000000000000000000F03F0000000000000040"
    assert gpkg_blob_decode(blob) == _pt(1, 2)
    assert blob_envelope(blob) == (1.0, 1.0, 2.0, 2.0)


@pytest.mark.parametrize("geom", [g for g in ALL.values() if g["type"] != "Point"])
def test_gpkg_blob_other_types_have_xy_envelope(geom: dict[str, Any]) -> None:
    blob = gpkg_blob(geom, srs_id=3857)
    assert blob is not None
    assert blob[:4] == b"GP\x00\x03"  # version 0, little-endian, envelope code 1
    assert struct.unpack_from("<i", blob, 4)[0] == 3857
    minx, miny, maxx, maxy = geometry_bbox(geom)
    assert struct.unpack_from("<4d", blob, 8) == (minx, maxx, miny, maxy)
    assert blob[40:] == wkb_encode(geom)
    assert gpkg_blob_decode(blob) == geom
    assert blob_envelope(blob) == (minx, maxx, miny, maxy)


@pytest.mark.parametrize("geom", list(EMPTY.values()), ids=list(EMPTY))
def test_gpkg_blob_empty_flag(geom: dict[str, Any]) -> None:
    blob = gpkg_blob(geom, srs_id=-1)
    assert blob is not None
    assert blob[:4] == b"GP\x00\x11"  # empty flag, no envelope, little-endian
    assert struct.unpack_from("<i", blob, 4)[0] == -1
    assert blob[8:] == wkb_encode(geom)
    assert blob_envelope(blob) is None
    assert gpkg_blob_decode(blob) == geom


def test_gpkg_blob_none() -> None:
    assert gpkg_blob(None) is None
    assert gpkg_blob_decode(None) is None


def test_gpkg_blob_decode_any_envelope_code_and_byte_order() -> None:
    wkb_be = struct.pack(">BII4d", 0, 2, 2, 1.0, 2.0, 3.0, 4.0)
    line = {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}
    # big-endian header, envelope code 2 (xyz: 6 doubles); the envelope is read as given
    head = b"GP\x00" + bytes([2 << 1]) + struct.pack(">i", 4490)
    blob = head + struct.pack(">6d", 0.5, 3.5, 1.5, 4.5, -1, 1) + wkb_be
    assert gpkg_blob_decode(blob) == line
    assert blob_envelope(blob) == (0.5, 3.5, 1.5, 4.5)
    for code, n in ((3, 6), (4, 8)):  # xym, xyzm, little-endian
        head = b"GP\x00" + bytes([code << 1 | 1]) + struct.pack("<i", 4326)
        blob = head + struct.pack(f"<{n}d", 1, 3, 2, 4, *[0] * (n - 4)) + wkb_be
        assert gpkg_blob_decode(blob) == line
        assert blob_envelope(blob) == (1, 3, 2, 4)
    # no envelope in the header: computed from the WKB
    blob = b"GP\x00\x01" + struct.pack("<i", 4326) + wkb_encode(POLYGON)
    assert blob_envelope(blob) == (116.0, 117.0, 39.0, 40.0)
    assert gpkg_blob_decode(blob) == POLYGON


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "magic"),
        (b"this is not a geometry", "magic"),
        (b"GP\x00", "magic"),
        (b"GP\x00" + bytes([5 << 1 | 1]) + b"\x00" * 40, "envelope indicator"),
        (b"GP\x01\x01" + b"\x00" * 30, "version"),
        (b"GP\x00\x21" + b"\x00" * 30, "Extended"),
        (b"GP\x00\x03" + b"\x00" * 10, "truncated"),
        (b"GP\x00\x01\xe6\x10\x00\x00\x01\x02\x00\x00\x00\xff\xff", "WKB"),
    ],
)
def test_garbage_blob_raises_gpkg_error(blob: bytes, message: str) -> None:
    with pytest.raises(GpkgError, match=message) as info:
        gpkg_blob_decode(blob)
    assert isinstance(info.value, ValueError)


# ------------------------------------------------------------- SQL functions and R*Tree


def test_st_functions_in_sql() -> None:
    conn = sqlite3.connect(":memory:")
    register_st_functions(conn)
    blob = gpkg_blob(POLYGON)
    row = conn.execute(
        "SELECT ST_IsEmpty(?1), ST_MinX(?1), ST_MaxX(?1), ST_MinY(?1), ST_MaxY(?1)", (blob,)
    ).fetchone()
    assert row == (0, 116.0, 117.0, 39.0, 40.0)
    empty = gpkg_blob(EMPTY["linestring"])
    assert conn.execute("SELECT ST_IsEmpty(?1), ST_MinX(?1)", (empty,)).fetchone() == (1, None)
    assert conn.execute("SELECT ST_IsEmpty(NULL), ST_MaxY(NULL)").fetchone() == (None, None)
    # registered as deterministic: SQLite accepts them in an index expression
    conn.execute("CREATE TABLE t (g BLOB)")
    conn.execute("CREATE INDEX t_minx ON t (ST_MinX(g))")
    conn.execute("INSERT INTO t VALUES (?)", (gpkg_blob(_pt(3, 4)),))
    assert conn.execute("SELECT count(*) FROM t WHERE ST_MinX(g) = 3").fetchone() == (1,)
    with pytest.raises(sqlite3.OperationalError):  # garbage is refused, not indexed silently
        conn.execute("SELECT ST_MinX(?)", (b"garbage",)).fetchone()
    conn.close()


def test_has_rtree_and_require_rtree() -> None:
    conn = sqlite3.connect(":memory:")
    assert has_rtree(conn)
    assert has_rtree(conn)  # the probe cleans up after itself
    require_rtree(conn)
    assert conn.execute("SELECT count(*) FROM temp.sqlite_master").fetchone() == (0,)
    conn.close()

    class NoRtree:  # an SQLite built without R*Tree answers this way
        def execute(self, sql: str, *args: Any) -> None:
            raise sqlite3.OperationalError("no such module: rtree")

    assert not has_rtree(NoRtree())  # type: ignore[arg-type]
    with pytest.raises(GpkgError, match="R\\*Tree"):
        require_rtree(NoRtree())  # type: ignore[arg-type]


# ------------------------------------------------------------------------------- schema


def _columns(conn: sqlite3.Connection, table: str) -> list[tuple[Any, ...]]:
    return [tuple(r[1:]) for r in conn.execute(f"PRAGMA table_info({table})")]


def test_init_geopackage_core_tables(tmp_path: Path) -> None:
    path = tmp_path / "core.gpkg"
    conn = sqlite3.connect(path)
    init_geopackage(conn)
    init_geopackage(conn)  # idempotent
    add_srs(conn, *SRS_3857)
    add_srs(conn, *SRS_3857)
    assert not conn.in_transaction  # committed: nothing was open before
    conn.close()
    header = path.read_bytes()[:100]
    assert header[68:72] == b"GPKG"
    assert struct.unpack(">I", header[60:64])[0] == 10300

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone() == (0x47504B47,)
    rows = conn.execute(
        "SELECT srs_id, organization, organization_coordsys_id, definition FROM "
        "gpkg_spatial_ref_sys ORDER BY srs_id"
    ).fetchall()
    assert [r[:3] for r in rows] == [
        (-1, "NONE", -1),
        (0, "NONE", 0),
        (3857, "EPSG", 3857),
        (4326, "EPSG", 4326),
    ]
    assert rows[0][3] == rows[1][3] == "undefined"
    assert rows[3][3].startswith('GEOGCS["WGS 84"') and 'AUTHORITY["EPSG","4326"]]' in rows[3][3]
    assert _columns(conn, "gpkg_spatial_ref_sys") == [
        ("srs_name", "TEXT", 1, None, 0),
        ("srs_id", "INTEGER", 1, None, 1),
        ("organization", "TEXT", 1, None, 0),
        ("organization_coordsys_id", "INTEGER", 1, None, 0),
        ("definition", "TEXT", 1, None, 0),
        ("description", "TEXT", 0, None, 0),
    ]
    assert _columns(conn, "gpkg_contents") == [
        ("table_name", "TEXT", 1, None, 1),
        ("data_type", "TEXT", 1, None, 0),
        ("identifier", "TEXT", 0, None, 0),
        ("description", "TEXT", 0, "''", 0),
        ("last_change", "DATETIME", 1, "strftime('%Y-%m-%dT%H:%M:%fZ','now')", 0),
        ("min_x", "DOUBLE", 0, None, 0),
        ("min_y", "DOUBLE", 0, None, 0),
        ("max_x", "DOUBLE", 0, None, 0),
        ("max_y", "DOUBLE", 0, None, 0),
        ("srs_id", "INTEGER", 0, None, 0),
    ]
    assert _columns(conn, "gpkg_geometry_columns") == [
        ("table_name", "TEXT", 1, None, 1),
        ("column_name", "TEXT", 1, None, 2),
        ("geometry_type_name", "TEXT", 1, None, 0),
        ("srs_id", "INTEGER", 1, None, 0),
        ("z", "TINYINT", 1, None, 0),
        ("m", "TINYINT", 1, None, 0),
    ]
    assert _columns(conn, "gpkg_extensions") == [
        ("table_name", "TEXT", 0, None, 0),
        ("column_name", "TEXT", 0, None, 0),
        ("extension_name", "TEXT", 1, None, 0),
        ("definition", "TEXT", 1, None, 0),
        ("scope", "TEXT", 1, None, 0),
    ]
    fks = {(r[2], r[3]) for r in conn.execute("PRAGMA foreign_key_list(gpkg_geometry_columns)")}
    assert fks == {("gpkg_contents", "table_name"), ("gpkg_spatial_ref_sys", "srs_id")}
    conn.close()


def test_schema_calls_join_an_open_transaction(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.gpkg")
    conn.execute("BEGIN")
    create_feature_table(conn, "pts", "POINT", [("id", "TEXT")])
    assert conn.in_transaction  # not committed behind the caller's back
    conn.rollback()
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
    conn.close()


def test_create_feature_table_refuses_bad_input(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.gpkg")
    with pytest.raises(GpkgError, match="geometry type"):
        create_feature_table(conn, "t", "CIRCLE", [])
    with pytest.raises(GpkgError, match="srs_id 2000"):
        create_feature_table(conn, "t", "POINT", [], srs_id=2000)
    with pytest.raises(GpkgError, match="reserved"):
        create_feature_table(conn, "t", "POINT", [("geom", "TEXT")])
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 't'").fetchone() == (0,)
    conn.close()


# ---------------------------------------------------------- writing with plain sqlite3


def _rtree(
    conn: sqlite3.Connection, table: str, geom: str = "geom"
) -> dict[int, tuple[float, ...]]:
    return {r[0]: tuple(r[1:]) for r in conn.execute(f"SELECT * FROM rtree_{table}_{geom}")}


def _assert_rtree_matches(
    conn: sqlite3.Connection, table: str, pk: str = "fid", geom_col: str = "geom"
) -> None:
    """One R-tree row per non-empty geometry, holding its envelope (R-trees store float32,
    rounded outwards), and no other rows."""
    expected = {}
    for fid, blob in conn.execute(f"SELECT {pk}, {geom_col} FROM {table}"):
        geom = gpkg_blob_decode(blob)
        if geom is not None and blob_envelope(blob) is not None:
            minx, miny, maxx, maxy = geometry_bbox(geom)
            expected[fid] = (minx, maxx, miny, maxy)
    got = _rtree(conn, table, geom_col)
    assert set(got) == set(expected)
    for fid, (minx, maxx, miny, maxy) in expected.items():
        rminx, rmaxx, rminy, rmaxy = got[fid]
        assert rminx <= minx and rminy <= miny and rmaxx >= maxx and rmaxy >= maxy
        for a, b in zip(got[fid], expected[fid]):
            assert a == pytest.approx(b, abs=1e-4)


def test_plain_sqlite3_triggers_keep_rtree_in_step(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "city.gpkg")
    with pytest.raises(sqlite3.OperationalError):  # really no SpatiaLite here
        conn.execute("SELECT spatialite_version()")
    register_st_functions(conn)
    cols = [("id", "TEXT UNIQUE NOT NULL"), ("kind", "TEXT")]
    for table, gtype in (("pts", "POINT"), ("lines", "LINESTRING"), ("areas", "POLYGON")):
        create_feature_table(conn, table, gtype, cols)
        names = {
            r[0]
            for r in conn.execute(
                f"SELECT name FROM sqlite_master WHERE tbl_name = '{table}' AND type = 'trigger'"
            )
        }
        suffixes = ("insert", "update1", "update2", "update3", "update4", "delete")
        assert names == {f"rtree_{table}_geom_{s}" for s in suffixes}
    pts = [(_pt(116.3 + i / 100, 39.9 + i / 200), (f"p{i}", "pole")) for i in range(20)]
    pts += [(None, ("p-null", "pole")), (EMPTY["point"], ("p-empty", "pole"))]
    assert insert_features(conn, "pts", ["id", "kind"], pts, maintain_rtree=False) == 22
    insert_features(conn, "lines", ["id", "kind"], [(LINE, ("l1", "cable"))], maintain_rtree=False)
    areas = [(_square(116 + i / 10, 39.5), (f"a{i}", "block")) for i in range(5)]
    insert_features(conn, "areas", ["id", "kind"], areas, maintain_rtree=False)
    for table in ("pts", "lines", "areas"):
        _assert_rtree_matches(conn, table)
    assert len(_rtree(conn, "pts")) == 20  # NULL and empty geometries are not indexed

    fid = upsert_feature(
        conn, "pts", "id", "p3", _pt(120, 30), {"kind": "moved"}, maintain_rtree=False
    )
    assert _rtree(conn, "pts")[fid] == (120, 120, 30, 30)
    assert conn.execute("SELECT kind FROM pts WHERE fid = ?", (fid,)).fetchone() == ("moved",)
    new = upsert_feature(
        conn, "pts", "id", "p-new", _pt(1, 2), {"kind": "pole"}, maintain_rtree=False
    )
    assert new not in (fid, None) and _rtree(conn, "pts")[new] == (1, 1, 2, 2)
    conn.execute("UPDATE areas SET geom = ? WHERE id = 'a0'", (gpkg_blob(POLYGON),))  # update1
    conn.execute("UPDATE pts SET geom = NULL WHERE id = 'p4'")  # update2
    conn.execute("UPDATE pts SET geom = ? WHERE id = 'p-empty'", (gpkg_blob(_pt(5, 6)),))
    conn.execute("UPDATE pts SET fid = 1000 WHERE id = 'p5'")  # update3: the id moves
    conn.execute("UPDATE pts SET fid = 1001, geom = NULL WHERE id = 'p6'")  # update4
    assert delete_features(conn, "pts", "id", ["p7", "p8", "nope"], maintain_rtree=False) == 2
    conn.execute("DELETE FROM lines")
    conn.commit()
    for table in ("pts", "lines", "areas"):
        _assert_rtree_matches(conn, table)
    tree = _rtree(conn, "pts")
    assert 1000 in tree and 1001 not in tree and len(tree) == 20 - 1 - 1 - 2 + 2
    assert _rtree(conn, "areas")[1] == pytest.approx((116, 117, 39, 40))
    assert _rtree(conn, "lines") == {}
    conn.close()


def test_maintain_rtree_without_triggers(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "bulk.gpkg")  # no ST_* functions on this connection
    create_feature_table(conn, "bulk", "POLYGON", [("id", "TEXT UNIQUE NOT NULL")], triggers=False)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone() == (
        0,
    )
    rows = [(_square(100 + i / 1000, 20), (f"b{i}",)) for i in range(2500)]
    rows[10] = (None, ("b10",))
    rows[11] = (EMPTY["polygon"], ("b11",))
    assert (
        insert_features(conn, "bulk", ["id"], iter(rows), maintain_rtree=True, chunk_size=700)
        == 2500
    )
    _assert_rtree_matches(conn, "bulk")
    assert len(_rtree(conn, "bulk")) == 2498
    fid = upsert_feature(conn, "bulk", "id", "b5", _square(0, 0), {}, maintain_rtree=True)
    assert _rtree(conn, "bulk")[fid] == pytest.approx((0, 0.01, 0, 0.01), abs=1e-6)
    upsert_feature(conn, "bulk", "id", "b6", None, {}, maintain_rtree=True)
    upsert_feature(conn, "bulk", "id", "b10", _square(1, 1), {}, maintain_rtree=True)
    upsert_feature(conn, "bulk", "id", "new", _square(2, 2), {}, maintain_rtree=True)
    assert (
        delete_features(
            conn, "bulk", "id", [f"b{i}" for i in range(100, 1300)], maintain_rtree=True
        )
        == 1200
    )
    # explicit fids take the row-by-row path
    insert_features(
        conn, "bulk", ["fid", "id"], [(_square(3, 3), (9000, "x"))], maintain_rtree=True
    )
    _assert_rtree_matches(conn, "bulk")
    assert 9000 in _rtree(conn, "bulk")
    conn.close()


def test_writes_are_atomic_and_explain_missing_st_functions(tmp_path: Path) -> None:
    path = tmp_path / "t.gpkg"
    conn = sqlite3.connect(path)
    register_st_functions(conn)
    create_feature_table(conn, "pts", "POINT", [("id", "TEXT UNIQUE NOT NULL")])
    insert_features(conn, "pts", ["id"], [(_pt(1, 1), ("a",))], maintain_rtree=False)
    rows = [(_pt(2, 2), ("b",)), (_pt(3, 3), ("a",))]  # the second breaks UNIQUE
    with pytest.raises(sqlite3.IntegrityError):
        insert_features(conn, "pts", ["id"], rows, maintain_rtree=False)
    assert conn.execute("SELECT id FROM pts").fetchall() == [("a",)]
    assert list(_rtree(conn, "pts")) == [1]
    conn.close()

    other = sqlite3.connect(path)  # a writer that forgot register_st_functions
    with pytest.raises(GpkgError, match="register_st_functions"):
        insert_features(other, "pts", ["id"], [(_pt(2, 2), ("b",))], maintain_rtree=False)
    assert other.execute("SELECT count(*) FROM pts").fetchone() == (1,)
    other.close()


def test_update_contents_extent_and_attribute_table(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.gpkg")
    register_st_functions(conn)
    create_feature_table(conn, "areas", "POLYGON", [("id", "TEXT")], identifier="地块")
    insert_features(
        conn, "areas", ["id"], [(POLYGON, ("a",)), (_square(118, 41), ("b",))], maintain_rtree=False
    )
    box = update_contents_extent(conn, "areas")
    assert box == pytest.approx((116, 39, 118.01, 41.01), abs=1e-4)
    row = conn.execute(
        "SELECT identifier, min_x, min_y, max_x, max_y, last_change FROM gpkg_contents "
        "WHERE table_name = 'areas'"
    ).fetchone()
    assert row[0] == "地块" and row[1:5] == pytest.approx(box)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row[5])
    create_attribute_table(conn, "tasks", [("task_id", "TEXT NOT NULL"), ("state", "TEXT")])
    create_attribute_table(conn, "tasks", [("task_id", "TEXT NOT NULL"), ("state", "TEXT")])
    assert conn.execute(
        "SELECT data_type, srs_id FROM gpkg_contents WHERE table_name = 'tasks'"
    ).fetchone() == ("attributes", None)
    conn.execute("INSERT INTO tasks (task_id, state) VALUES ('t1', 'open')")
    assert list(read_features(conn, "tasks")) == [({"task_id": "t1", "state": "open"}, None)]
    assert [layer["table_name"] for layer in read_layers(conn)] == ["areas"]
    conn.close()


def test_create_spatial_index_on_a_filled_table(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.gpkg")
    create_feature_table(conn, "pts", "POINT", [("id", "TEXT")], spatial_index=False)
    insert_features(
        conn, "pts", ["id"], [(_pt(i, -i), (str(i),)) for i in range(50)], maintain_rtree=False
    )
    assert conn.execute("SELECT count(*) FROM gpkg_extensions").fetchone() == (0,)
    create_spatial_index(conn, "pts")
    _assert_rtree_matches(conn, "pts")
    assert len(_rtree(conn, "pts")) == 50
    ext = conn.execute(
        "SELECT table_name, column_name, extension_name, definition, scope FROM gpkg_extensions"
    ).fetchall()
    assert ext == [
        ("pts", "geom", "gpkg_rtree_index", gpkg.RTREE_EXTENSION_DEFINITION, "write-only")
    ]
    conn.close()


# ------------------------------------------------------------------------------- GDAL


@pytest.fixture
def ogr() -> Any:
    pytest.importorskip("osgeo", reason="GDAL's Python bindings (python3-gdal) are not installed")
    from osgeo import ogr as _ogr

    _ogr.UseExceptions()
    return _ogr


NAMES = ["变电站", "开关站", "Pole 7"]


def _write_city(path: Path) -> None:
    """A GeoPackage as a device writes it: plain sqlite3, triggers, a 3857 layer, a bulk layer
    indexed afterwards, an attribute table. No empty geometries here: GDAL 3.6's validator
    reads the empty flag from the wrong bit (3 instead of 4) and refuses even GDAL's own."""
    conn = sqlite3.connect(path)
    register_st_functions(conn)
    cols = [
        ("id", "TEXT UNIQUE NOT NULL"),
        ("name", "TEXT"),
        ("floors", "INTEGER"),
        ("height", "REAL"),
        ("updated_at", "DATETIME"),
    ]
    create_feature_table(conn, "assets", "POINT", cols, description="电力设施")
    rows = [
        (
            _pt(116.3 + i / 10, 39.9 + i / 10),
            (f"a{i}", NAMES[i], i, 2.5 * i, "2024-05-01T08:00:00.000Z"),
        )
        for i in range(3)
    ]
    rows.append((None, ("a-null", "无位置", None, None, None)))
    insert_features(conn, "assets", [c for c, _ in cols], rows, maintain_rtree=False)
    create_feature_table(conn, "cables", "LINESTRING", [("id", "TEXT")])
    insert_features(conn, "cables", ["id"], [(LINE, ("c1",))], maintain_rtree=False)
    add_srs(conn, *SRS_3857)
    create_feature_table(conn, "blocks_3857", "MULTIPOLYGON", [("id", "TEXT")], srs_id=3857)
    insert_features(conn, "blocks_3857", ["id"], [(MULTIPOLYGON, ("m1",))], maintain_rtree=False)
    create_feature_table(conn, "bulk", "POLYGON", [("id", "TEXT")], triggers=False)
    bulk = [(_square(116 + i / 100, 39), (f"b{i}",)) for i in range(100)]
    insert_features(conn, "bulk", ["id"], bulk, maintain_rtree=True)
    create_spatial_index(conn, "bulk")  # now with the triggers: conformant
    create_attribute_table(conn, "tasks", [("task_id", "TEXT NOT NULL"), ("state", "TEXT")])
    conn.execute("INSERT INTO tasks (task_id, state) VALUES ('t1', 'open')")
    for table in ("assets", "cables", "blocks_3857", "bulk"):
        update_contents_extent(conn, table)
    conn.commit()
    conn.close()


def test_gdal_reads_what_plain_sqlite3_wrote(tmp_path: Path, ogr: Any) -> None:
    path = tmp_path / "city.gpkg"
    _write_city(path)
    ds = ogr.Open(str(path))
    assert {ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())} == {
        "assets",
        "cables",
        "blocks_3857",
        "bulk",
        "tasks",
    }
    assets = ds.GetLayerByName("assets")
    assert assets.GetGeomType() == ogr.wkbPoint
    assert assets.GetSpatialRef().GetAuthorityCode(None) == "4326"
    assert assets.GetFeatureCount() == 4
    assert assets.GetGeometryColumn() == "geom" and assets.GetFIDColumn() == "fid"
    feats = sorted(assets, key=lambda f: f.GetFID())
    for i, feat in enumerate(feats[:3]):
        assert feat.GetField("name") == NAMES[i]
        assert feat.GetField("floors") == i and feat.GetField("height") == 2.5 * i
        geom = feat.GetGeometryRef()
        assert geom.GetGeometryType() == ogr.wkbPoint
        assert (geom.GetX(), geom.GetY()) == (116.3 + i / 10, 39.9 + i / 10)
    assert feats[3].GetGeometryRef() is None
    assets.SetSpatialFilterRect(116.35, 39.95, 116.45, 40.05)  # uses the R-tree
    assert [f.GetField("id") for f in assets] == ["a1"]
    assets.SetSpatialFilter(None)
    assert assets.GetExtent() == pytest.approx((116.3, 116.5, 39.9, 40.1), abs=1e-4)

    cables = ds.GetLayerByName("cables")
    assert cables.GetGeomType() == ogr.wkbLineString
    assert wkb_decode(bytes(cables.GetNextFeature().GetGeometryRef().ExportToIsoWkb())) == LINE
    blocks = ds.GetLayerByName("blocks_3857")
    assert blocks.GetGeomType() == ogr.wkbMultiPolygon
    assert blocks.GetSpatialRef().GetAuthorityCode(None) == "3857"
    assert (
        wkb_decode(bytes(blocks.GetNextFeature().GetGeometryRef().ExportToIsoWkb())) == MULTIPOLYGON
    )
    bulk = ds.GetLayerByName("bulk")
    assert bulk.GetFeatureCount() == 100 and bulk.GetGeomType() == ogr.wkbPolygon
    bulk.SetSpatialFilterRect(116.105, 39.001, 116.1151, 39.002)
    assert sorted(f.GetField("id") for f in bulk) == ["b10", "b11"]
    tasks = ds.GetLayerByName("tasks")
    assert tasks.GetGeomType() == ogr.wkbNone and tasks.GetFeatureCount() == 1
    ds = None


def test_gdal_validator_accepts_what_plain_sqlite3_wrote(tmp_path: Path) -> None:
    validate_gpkg = pytest.importorskip(
        "osgeo_utils.samples.validate_gpkg", reason="GDAL's validate_gpkg.py is not installed"
    )
    path = tmp_path / "city.gpkg"
    _write_city(path)
    errors = validate_gpkg.check(
        str(path), abort_at_first_error=False, extra_checks=True, warning_as_error=True
    )
    assert errors == []

    # the validator does look: an R-tree kept without triggers breaks Req 75
    conn = sqlite3.connect(path)
    conn.execute('DROP TRIGGER "rtree_bulk_geom_update3"')
    conn.commit()
    conn.close()
    errors = validate_gpkg.check(str(path), abort_at_first_error=False, warning_as_error=True)
    assert [req for req, _ in errors] == [75]


def _ogr_layer(ds: Any, ogr: Any, name: str, epsg: int, gtype: int, options: list[str]) -> Any:
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return ds.CreateLayer(name, srs, gtype, options=options)


def test_read_a_geopackage_that_gdal_wrote(tmp_path: Path, ogr: Any) -> None:
    path = tmp_path / "gdal.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    shops = _ogr_layer(ds, ogr, "shops", 4326, ogr.wkbPoint, ["GEOMETRY_NAME=shape", "FID=ogc_fid"])
    shops.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    shops.CreateField(ogr.FieldDefn("floors", ogr.OFTInteger))
    for i, name in enumerate(NAMES):
        feat = ogr.Feature(shops.GetLayerDefn())
        feat.SetField("name", name)
        feat.SetField("floors", i + 1)
        feat.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({116 + i} {39 + i})"))
        shops.CreateFeature(feat)
    roads = _ogr_layer(ds, ogr, "roads", 3857, ogr.wkbLineString25D, [])
    roads.CreateField(ogr.FieldDefn("ref", ogr.OFTString))
    for ref, wkt in (
        ("G1", "LINESTRING Z (1 2 10, 3 4 20)"),
        ("none", None),
        ("e", "LINESTRING EMPTY"),
    ):
        feat = ogr.Feature(roads.GetLayerDefn())
        feat.SetField("ref", ref)
        if wkt:
            feat.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        roads.CreateFeature(feat)
    ds = None

    conn = sqlite3.connect(path)
    layers = {layer["table_name"]: layer for layer in read_layers(conn)}
    assert set(layers) == {"shops", "roads"}
    assert layers["shops"]["column_name"] == "shape"
    assert layers["shops"]["geometry_type_name"] == "POINT"
    assert (layers["shops"]["srs_id"], layers["shops"]["organization"]) == (4326, "EPSG")
    assert layers["shops"]["organization_coordsys_id"] == 4326
    assert "WGS 84" in layers["shops"]["definition"]
    assert layers["roads"]["geometry_type_name"] == "LINESTRING"
    assert layers["roads"]["srs_id"] == 3857 and layers["roads"]["organization_coordsys_id"] == 3857
    assert "Pseudo-Mercator" in layers["roads"]["definition"] and layers["roads"]["z"] == 1

    assert list(read_features(conn, "shops")) == [
        ({"name": name, "floors": i + 1}, _pt(116 + i, 39 + i)) for i, name in enumerate(NAMES)
    ]
    assert list(read_features(conn, "roads")) == [
        ({"ref": "G1"}, {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}),
        ({"ref": "none"}, None),
        ({"ref": "e"}, {"type": "LineString", "coordinates": []}),
    ]
    # our encoder writes GDAL's blobs byte for byte (empty flag and envelope included)
    for (blob,) in conn.execute("SELECT shape FROM shops"):
        assert gpkg_blob(gpkg_blob_decode(blob)) == blob
    empty = conn.execute("SELECT geom FROM roads WHERE ref = 'e'").fetchone()[0]
    assert gpkg_blob(gpkg_blob_decode(empty), srs_id=3857) == empty

    # write into GDAL's table through GDAL's own R-tree triggers, then let GDAL find it
    register_st_functions(conn)
    upsert_feature(conn, "shops", "name", "新店", _pt(100, 10), {"floors": 9}, maintain_rtree=False)
    upsert_feature(conn, "shops", "name", NAMES[0], _pt(101, 11), {}, maintain_rtree=False)
    delete_features(conn, "shops", "name", [NAMES[1]], maintain_rtree=False)
    _assert_rtree_matches(conn, "shops", "ogc_fid", "shape")
    conn.commit()
    conn.close()
    ds = ogr.Open(str(path))
    shops = ds.GetLayerByName("shops")
    assert shops.GetFeatureCount() == 3
    shops.SetSpatialFilterRect(99, 9, 102, 12)
    assert sorted(f.GetField("name") for f in shops) == sorted(["新店", NAMES[0]])
    shops.SetSpatialFilterRect(116.5, 39.5, 117.5, 40.5)
    assert [f.GetField("name") for f in shops] == []
    ds = None
