"""OGC GeoPackage 1.3 with plain ``sqlite3``: geometry encoding, schema, R-tree upkeep.

Owns everything GridOps writes or reads in GeoPackage form, on devices (no SpatiaLite on
Android) and on the hub: WKB and GeoPackageBinary geometry blobs, the core tables, feature and
attribute tables, the ``gpkg_rtree_index`` extension, and reading what GDAL/QGIS write.
Geometries are GeoJSON-like dicts (2D; a Z or M value is dropped on the way in and out).

Invariants:
- Blobs are GeoPackageBinary version 0 (spec 1.0-1.3, Req 19), written little-endian with no
  envelope for points, an [minx, maxx, miny, maxy] envelope (code 1) for other geometries,
  and the empty flag with no envelope for empty ones; the WKB inside is ISO little-endian 2D
  (an empty point is NaN NaN). Reading accepts both byte orders, envelope codes 0-4 and the
  ISO (1000/2000/3000) and EWKB (high-bit) Z/M variants.
- A file made by ``init_geopackage`` has application_id 'GPKG', user_version 10300 and the
  core tables exactly as the spec's table definition SQL gives them.
- Every row of a feature table with a non-empty geometry has one ``rtree_<t>_<geom>`` row
  with its envelope, and no other row has one: either the spec's R-tree triggers (Annex F.3,
  GeoPackage 1.3: insert, update1-4, delete) keep it so, calling ST_IsEmpty/ST_MinX/... that
  ``register_st_functions`` provides on every writing connection; or, for a table made with
  ``triggers=False`` (bulk loads), the functions here with ``maintain_rtree=True`` do, until
  ``create_spatial_index`` adds the triggers that the spec (Req 75) wants in a shipped file.
- Schema and data functions are atomic (a SAVEPOINT); they commit only when no transaction
  was open, so a caller can join them with its own writes in one transaction.
"""

from __future__ import annotations

import math
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

Geometry = dict[str, Any]
BBox = tuple[float, float, float, float]

GPKG_APPLICATION_ID = 0x47504B47  # 'GPKG'
GPKG_USER_VERSION = 10300
RTREE_EXTENSION_DEFINITION = "http://www.geopackage.org/spec120/#extension_rtree"
GEOMETRY_TYPES = tuple(
    "GEOMETRY POINT LINESTRING POLYGON MULTIPOINT MULTILINESTRING MULTIPOLYGON "
    "GEOMETRYCOLLECTION".split()
)
_WGS84 = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]]'
)
_LATLON = ',AXIS["Latitude",NORTH],AXIS["Longitude",EAST]'
_WKT_4326 = _WGS84 + _LATLON + ',AUTHORITY["EPSG","4326"]]'
_WKT_3857 = (
    'PROJCS["WGS 84 / Pseudo-Mercator",' + _WGS84 + ',AUTHORITY["EPSG","4326"]],'
    'PROJECTION["Mercator_1SP"],PARAMETER["central_meridian",0],PARAMETER["scale_factor",1],'
    'PARAMETER["false_easting",0],PARAMETER["false_northing",0],'
    'UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],'
    'EXTENSION["PROJ4","+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 '
    '+k=1 +units=m +nadgrids=@null +wktext +no_defs"],AUTHORITY["EPSG","3857"]]'
)
_WKT_4490 = (
    'GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",'
    '6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],'
    'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]]' + _LATLON + ',AUTHORITY["EPSG","4490"]]'
)
#: Arguments for ``add_srs(conn, *SRS_...)``: web mercator, China's CGCS2000.
SRS_3857 = (3857, "EPSG", 3857, _WKT_3857, "WGS 84 / Pseudo-Mercator")
SRS_4490 = (4490, "EPSG", 4490, _WKT_4490, "China Geodetic Coordinate System 2000")

# The core tables as GeoPackage 1.3 Annex C gives them (and GDAL writes them).
_CORE_SQL = f"""
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL,
  column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,
  extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
  ('Undefined Cartesian SRS', -1, 'NONE', -1, 'undefined',
   'undefined Cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined',
   'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{_WKT_4326}',
   'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')
"""

# GeoPackage 1.3 Annex F.3 R-tree triggers (as GDAL writes them too):
# {t} table, {c} geometry column, {i} integer primary key, {r} rtree table.
_ENTRY = "(NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}))"
_TRIGGERS_SQL = """
"{n}_insert" AFTER INSERT ON {t} WHEN (new.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c}))
  BEGIN INSERT OR REPLACE INTO {r} VALUES ENTRY; END;

"{n}_update1" AFTER UPDATE OF {c} ON {t}
  WHEN OLD.{i} = NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
  BEGIN INSERT OR REPLACE INTO {r} VALUES ENTRY; END;

"{n}_update2" AFTER UPDATE OF {c} ON {t}
  WHEN OLD.{i} = NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
  BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END;

"{n}_update3" AFTER UPDATE ON {t}
  WHEN OLD.{i} != NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
  BEGIN DELETE FROM {r} WHERE id = OLD.{i}; INSERT OR REPLACE INTO {r} VALUES ENTRY; END;

"{n}_update4" AFTER UPDATE ON {t}
  WHEN OLD.{i} != NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
  BEGIN DELETE FROM {r} WHERE id IN (OLD.{i}, NEW.{i}); END;

"{n}_delete" AFTER DELETE ON {t} WHEN old.{c} NOT NULL
  BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END
""".replace("ENTRY", _ENTRY)


class GpkgError(ValueError):
    """A geometry, blob or GeoPackage that this module cannot read or write."""


# ----------------------------------------------------------------------------- WKB

_NAMES = tuple(
    "- Point LineString Polygon MultiPoint MultiLineString MultiPolygon GeometryCollection".split()
)
_CODES = {name: code for code, name in enumerate(_NAMES) if code}
_DEPTH = dict(zip(_NAMES[1:7], (0, 1, 2, 1, 2, 3)))  # nesting of positions in coordinates
_NAN_XY = struct.pack("<2d", math.nan, math.nan)


def _xy(pos: Sequence[float]) -> tuple[float, float]:
    if len(pos) < 2:
        raise GpkgError(f"a position needs x and y, got {pos!r}")
    return float(pos[0]), float(pos[1])


def _put_points(points: Sequence[Sequence[float]], out: list[bytes]) -> None:
    flat = [v for p in points for v in _xy(p)]
    out.append(struct.pack(f"<I{len(flat)}d", len(points), *flat))


def _put_geom(geom: Geometry, out: list[bytes]) -> None:
    if not isinstance(geom, dict):
        raise GpkgError(f"a geometry is a dict, got {type(geom).__name__}")
    code = _CODES.get(geom.get("type"))  # type: ignore[arg-type]
    if code is None:
        raise GpkgError(f"unsupported geometry type {geom.get('type')!r}")
    out.append(struct.pack("<BI", 1, code))
    if code == 7:
        parts = geom.get("geometries") or []
        out.append(struct.pack("<I", len(parts)))
        for part in parts:
            _put_geom(part, out)
        return
    coords = geom.get("coordinates") or []
    if code == 1:
        out.append(struct.pack("<2d", *_xy(coords)) if len(coords) else _NAN_XY)
    elif code == 2:
        _put_points(coords, out)
    elif code == 3:
        out.append(struct.pack("<I", len(coords)))
        for ring in coords:
            _put_points(ring, out)
    else:
        out.append(struct.pack("<I", len(coords)))
        for member in coords:
            _put_geom({"type": _NAMES[code - 3], "coordinates": member}, out)


def wkb_encode(geom: Geometry) -> bytes:
    """ISO WKB, little-endian, 2D (Z dropped). An empty point is written as NaN NaN."""
    out: list[bytes] = []
    _put_geom(geom, out)
    return b"".join(out)


def _count(data: bytes, off: int, e: str, item_size: int) -> tuple[int, int]:
    (n,) = struct.unpack_from(e + "I", data, off)
    if n * item_size > len(data) - off - 4:
        raise GpkgError(f"WKB count {n} at offset {off} runs past the end of the data")
    return n, off + 4


def _get_points(data: bytes, off: int, e: str, dims: int) -> tuple[list[list[float]], int]:
    n, off = _count(data, off, e, 8 * dims)
    vals = struct.unpack_from(f"{e}{n * dims}d", data, off)
    return [[vals[i], vals[i + 1]] for i in range(0, n * dims, dims)], off + 8 * n * dims


def _get_geom(data: bytes, off: int, depth: int = 0) -> tuple[Geometry, int]:
    if depth > 16:
        raise GpkgError("WKB nested too deeply")
    order = data[off]
    if order not in (0, 1):
        raise GpkgError(f"invalid WKB byte order {order} at offset {off}")
    e = "<" if order else ">"
    (raw,) = struct.unpack_from(e + "I", data, off + 1)
    off += 5
    dims = 2
    if raw & 0xE0000000:  # EWKB: Z, M and SRID flags in the high bits
        dims += bool(raw & 0x80000000) + bool(raw & 0x40000000)
        if raw & 0x20000000:
            off += 4
        raw &= 0x0FFFFFFF
    flavour, code = divmod(raw, 1000)
    if not 0 < code < len(_NAMES) or flavour > 3:
        raise GpkgError(f"unsupported WKB geometry type {raw}")
    dims += (0, 1, 1, 2)[flavour]
    name = _NAMES[code]
    if code == 1:
        x, y = struct.unpack_from(f"{e}{dims}d", data, off)[:2]
        coords: list[Any] = [] if math.isnan(x) and math.isnan(y) else [x, y]
        return {"type": name, "coordinates": coords}, off + 8 * dims
    if code == 2:
        coords, off = _get_points(data, off, e, dims)
        return {"type": name, "coordinates": coords}, off
    if code == 3:
        n, off = _count(data, off, e, 4)
        coords = []
        for _ in range(n):
            ring, off = _get_points(data, off, e, dims)
            coords.append(ring)
        return {"type": name, "coordinates": coords}, off
    n, off = _count(data, off, e, 9)
    parts = []
    for _ in range(n):
        part, off = _get_geom(data, off, depth + 1)
        if code != 7 and part["type"] != _NAMES[code - 3]:
            raise GpkgError(f"{name} holds a {part['type']}")
        parts.append(part)
    if code == 7:
        return {"type": name, "geometries": parts}, off
    return {"type": name, "coordinates": [p["coordinates"] for p in parts]}, off


def wkb_decode(data: bytes) -> Geometry:
    """Decode WKB (either byte order; ISO or EWKB Z/M/ZM variants) to a 2D geometry dict."""
    try:
        return _get_geom(bytes(data), 0)[0]
    except (struct.error, IndexError) as exc:
        raise GpkgError(f"truncated or invalid WKB ({exc})") from exc


def _bbox_or_none(geom: Geometry) -> BBox | None:
    gtype = geom.get("type")
    if gtype == "GeometryCollection":
        boxes = [b for b in map(_bbox_or_none, geom.get("geometries") or []) if b]
        if not boxes:
            return None
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
    depth = _DEPTH.get(gtype)  # type: ignore[arg-type]
    if depth is None:
        raise GpkgError(f"unsupported geometry type {gtype!r}")
    level: list[Any] = [geom.get("coordinates") or []]
    for _ in range(depth):
        level = [item for seq in level for item in seq]
    minx = miny = math.inf
    maxx = maxy = -math.inf
    for pos in level:
        if len(pos) < 2 or pos[0] != pos[0] or pos[1] != pos[1]:  # empty or NaN
            continue
        x, y = pos[0], pos[1]
        minx, maxx = min(minx, x), max(maxx, x)
        miny, maxy = min(miny, y), max(maxy, y)
    if minx == math.inf:
        return None
    return float(minx), float(miny), float(maxx), float(maxy)


def geometry_bbox(geom: Geometry) -> BBox:
    """(minx, miny, maxx, maxy) of a geometry; GpkgError for an empty one."""
    box = _bbox_or_none(geom)
    if box is None:
        raise GpkgError("an empty geometry has no bounding box")
    return box


# ------------------------------------------------------------------ GeoPackageBinary

_ENVELOPE_SIZES = (0, 32, 48, 48, 64)


def _blob(geom: Geometry, srs_id: int) -> tuple[bytes, BBox | None]:
    wkb = wkb_encode(geom)
    box = _bbox_or_none(geom)
    if box is None:
        head = struct.pack("<2sBBi", b"GP", 0, 0x11, srs_id)  # little-endian, empty
    elif geom["type"] == "Point":
        head = struct.pack("<2sBBi", b"GP", 0, 0x01, srs_id)
    else:
        head = struct.pack("<2sBBi4d", b"GP", 0, 0x03, srs_id, box[0], box[2], box[1], box[3])
    return head + wkb, box


_POINT_HEAD = struct.Struct("<2sBBiBIdd")  # header without envelope + WKB point, LE


def gpkg_blob(geom: Geometry | None, srs_id: int = 4326) -> bytes | None:
    """GeoPackageBinary for a geometry (None for None)."""
    if geom is None:
        return None
    coords = geom.get("coordinates")
    if geom.get("type") == "Point" and coords and len(coords) >= 2:
        # The hot path of bulk loads: one struct.pack for header and WKB.
        x, y = coords[0], coords[1]
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and x == x and y == y:
            return _POINT_HEAD.pack(b"GP", 0, 0x01, srs_id, 1, 1, float(x), float(y))
    return _blob(geom, srs_id)[0]


def _header(blob: bytes) -> tuple[int, int, int, tuple[float, ...] | None]:
    """(flags, srs_id, offset of the WKB, envelope's first four values or None)."""
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise GpkgError(f"a GeoPackage geometry is a blob, got {type(blob).__name__}")
    if len(blob) < 8 or bytes(blob[:2]) != b"GP":
        raise GpkgError("not a GeoPackage geometry blob (no 'GP' magic)")
    version, flags = blob[2], blob[3]
    if version != 0:
        raise GpkgError(f"unsupported GeoPackageBinary version {version}")
    if flags & 0x20:
        raise GpkgError("ExtendedGeoPackageBinary geometries are not supported")
    code = (flags >> 1) & 7
    if code > 4:
        raise GpkgError(f"invalid envelope indicator code {code} in GeoPackage blob")
    e = "<" if flags & 1 else ">"
    end = 8 + _ENVELOPE_SIZES[code]
    if len(blob) < end:
        raise GpkgError("GeoPackage blob truncated inside its header")
    (srs_id,) = struct.unpack_from(e + "i", blob, 4)
    env = struct.unpack_from(e + "4d", blob, 8) if code else None
    return flags, srs_id, end, env


def gpkg_blob_decode(blob: bytes | None) -> Geometry | None:
    """Geometry dict from GeoPackageBinary (any envelope code, byte order, empty flag)."""
    if blob is None:
        return None
    _, _, off, _ = _header(blob)
    return wkb_decode(bytes(blob[off:]))


def blob_envelope(blob: bytes) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) from the blob's header, else from its WKB; None when empty."""
    flags, _, off, env = _header(blob)
    if flags & 0x10:
        return None
    if env is not None and not any(v != v for v in env):
        return env  # type: ignore[return-value]
    if len(blob) >= off + 21 and blob[off] in (0, 1):
        e = "<" if blob[off] else ">"
        (raw,) = struct.unpack_from(e + "I", blob, off + 1)
        if raw in (1, 1001, 2001, 3001):  # plain point: no need to decode
            x, y = struct.unpack_from(e + "2d", blob, off + 5)
            return None if x != x else (x, x, y, y)
    box = _bbox_or_none(wkb_decode(bytes(blob[off:])))
    return None if box is None else (box[0], box[2], box[1], box[3])


# --------------------------------------------------------------- SQL functions, R*Tree


def _st(index: int) -> Any:
    def fn(blob: bytes | None) -> float | None:
        env = None if blob is None else blob_envelope(blob)
        return None if env is None else env[index]

    return fn


def _st_is_empty(blob: bytes | None) -> int | None:
    return None if blob is None else int(blob_envelope(blob) is None)


def register_st_functions(conn: sqlite3.Connection) -> None:
    """Register the ST_* functions that the GeoPackage R-tree triggers call. A value that is
    not GeoPackageBinary makes the statement fail rather than leave the index wrong."""
    funcs = {
        "ST_IsEmpty": _st_is_empty,
        "ST_MinX": _st(0),
        "ST_MaxX": _st(1),
        "ST_MinY": _st(2),
        "ST_MaxY": _st(3),
    }
    for name, fn in funcs.items():
        try:
            conn.create_function(name, 1, fn, deterministic=True)
        except sqlite3.NotSupportedError:  # SQLite older than 3.8.3
            conn.create_function(name, 1, fn)


def has_rtree(conn: sqlite3.Connection) -> bool:
    """True when this SQLite has the R*Tree module (probed with a temp virtual table)."""
    try:
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.gridops_rtree_probe "
            "USING rtree(id, minx, maxx, miny, maxy)"
        )
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.gridops_rtree_probe")
    return True


def require_rtree(conn: sqlite3.Connection) -> None:
    if not has_rtree(conn):
        raise GpkgError(
            f"this SQLite ({sqlite3.sqlite_version}) was built without the R*Tree "
            "module, which GeoPackage spatial indexes need"
        )


# ------------------------------------------------------------------------- schema


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def _atomic(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("SAVEPOINT gridops_gpkg")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # some errors make SQLite roll the whole transaction back
            conn.execute("ROLLBACK TO gridops_gpkg")
            conn.execute("RELEASE gridops_gpkg")
        raise
    conn.execute("RELEASE gridops_gpkg")


@contextmanager
def _hint() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "no such function: ST_" in str(exc):
            raise GpkgError(
                f"{exc}: this table has R-tree triggers; call "
                "register_st_functions(conn) on the connection first"
            ) from exc
        raise


def init_geopackage(conn: sqlite3.Connection) -> None:
    """Make the connection's database a GeoPackage 1.3 (idempotent; keeps a GPKG version)."""
    with _atomic(conn):
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id != GPKG_APPLICATION_ID or version < 10200:
            conn.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
        for sql in _CORE_SQL.split(";\n"):
            conn.execute(sql)


def add_srs(
    conn: sqlite3.Connection,
    srs_id: int,
    organization: str,
    org_id: int,
    definition: str,
    name: str,
    description: str | None = None,
) -> None:
    """Add a CRS to gpkg_spatial_ref_sys unless its srs_id is there (``**SRS_3857``)."""
    with _atomic(conn):
        conn.execute(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
            (name, srs_id, organization, org_id, definition, description),
        )


def _register(
    conn: sqlite3.Connection,
    table: str,
    data_type: str,
    identifier: str | None,
    description: str,
    srs_id: int | None,
) -> None:
    if not conn.execute(
        "SELECT 1 FROM gpkg_contents WHERE lower(table_name) = lower(?)", (table,)
    ).fetchone():
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, "
            "description, srs_id) VALUES (?, ?, ?, ?, ?)",
            (table, data_type, identifier or table, description, srs_id),
        )


def _column_sql(columns: Sequence[tuple[str, str]], reserved: set[str]) -> str:
    for name, _ in columns:
        if name.lower() in reserved:
            raise GpkgError(f"column name {name!r} is reserved")
    return "".join(f", {_q(name)} {sqltype}" for name, sqltype in columns)


def create_feature_table(
    conn: sqlite3.Connection,
    table: str,
    geometry_type: str,
    columns: Sequence[tuple[str, str]],
    *,
    srs_id: int = 4326,
    identifier: str | None = None,
    description: str = "",
    spatial_index: bool = True,
    triggers: bool = True,
) -> None:
    """A feature table ``fid, geom, <columns>``, registered, with its R-tree (idempotent).

    With ``triggers=False`` the caller keeps the R-tree (``maintain_rtree=True`` below)."""
    gtype = geometry_type.upper()
    if gtype not in GEOMETRY_TYPES:
        raise GpkgError(f"unknown geometry type {geometry_type!r}")
    with _atomic(conn):
        init_geopackage(conn)
        if not conn.execute(
            "SELECT 1 FROM gpkg_spatial_ref_sys WHERE srs_id = ?", (srs_id,)
        ).fetchone():
            raise GpkgError(f"srs_id {srs_id} is not in gpkg_spatial_ref_sys: add_srs() first")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {_q(table)} (fid INTEGER PRIMARY KEY "
            f"AUTOINCREMENT NOT NULL, geom {gtype}"
            f"{_column_sql(columns, {'fid', 'geom'})})"
        )
        _register(conn, table, "features", identifier, description, srs_id)
        conn.execute(
            "INSERT OR IGNORE INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
            (table, gtype, srs_id),
        )
        if spatial_index:
            _create_rtree(conn, table, "geom", "fid", triggers)


def create_spatial_index(conn: sqlite3.Connection, table: str, *, triggers: bool = True) -> None:
    """Give a feature table its R-tree (filled from its rows) and, with ``triggers``, the spec's
    triggers (idempotent). A table made with ``triggers=False`` meets Req 75 only once this
    has added them: call it after a bulk load, before other software writes the file."""
    lay = _layer(conn, table)
    if lay.geom is None:
        raise GpkgError(f"{table!r} is not a feature table")
    with _atomic(conn):
        _create_rtree(conn, lay.table, lay.geom, lay.pk, triggers)


def _create_rtree(conn: sqlite3.Connection, table: str, col: str, pk: str, triggers: bool) -> None:
    require_rtree(conn)
    rname = f"rtree_{table}_{col}"
    existed = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (rname,)).fetchone()
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {_q(rname)} USING rtree(id, minx, maxx, miny, maxy)"
    )
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', ?, 'write-only')",
        (table, col, RTREE_EXTENSION_DEFINITION),
    )
    if triggers:
        names = {"t": _q(table), "c": _q(col), "i": _q(pk), "r": _q(rname)}
        names["n"] = rname.replace('"', '""')
        for body in _TRIGGERS_SQL.format(**names).strip().split("\n\n"):
            conn.execute("CREATE TRIGGER IF NOT EXISTS " + body)
    if not existed:  # index a table that already has rows
        rows = conn.execute(
            f"SELECT {_q(pk)}, {_q(col)} FROM {_q(table)} WHERE {_q(col)} IS NOT NULL"
        ).fetchall()
        entries = [(fid, *env) for fid, env in ((f, blob_envelope(b)) for f, b in rows) if env]
        conn.executemany(f"INSERT INTO {_q(rname)} VALUES (?, ?, ?, ?, ?)", entries)


def create_attribute_table(
    conn: sqlite3.Connection,
    table: str,
    columns: Sequence[tuple[str, str]],
    *,
    identifier: str | None = None,
    description: str = "",
) -> None:
    """A non-spatial table ``fid, <columns>`` registered as 'attributes' (idempotent)."""
    with _atomic(conn):
        init_geopackage(conn)
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {_q(table)} (fid INTEGER PRIMARY KEY "
            f"AUTOINCREMENT NOT NULL{_column_sql(columns, {'fid'})})"
        )
        _register(conn, table, "attributes", identifier, description, None)


# --------------------------------------------------------------------------- data


class _Layer(NamedTuple):
    table: str
    geom: str | None
    srs_id: int
    pk: str
    rtree: str | None  # quoted name when the R-tree exists


def _layer(conn: sqlite3.Connection, table: str) -> _Layer:
    cols = conn.execute(f"PRAGMA table_info({_q(table)})").fetchall()
    if not cols:
        raise GpkgError(f"no table {table!r} in this GeoPackage")
    pk = next((c[1] for c in cols if c[5] == 1 and c[2].upper() == "INTEGER"), "rowid")
    row = conn.execute(
        "SELECT table_name, column_name, srs_id FROM gpkg_geometry_columns "
        "WHERE lower(table_name) = lower(?)",
        (table,),
    ).fetchone()
    if row is None:
        return _Layer(table, None, 0, pk, None)
    rname = f"rtree_{row[0]}_{row[1]}"
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (rname,)).fetchone()
    return _Layer(row[0], row[1], row[2], pk, _q(rname) if exists else None)


def _blob_box(geom: Geometry | None, srs_id: int) -> tuple[bytes | None, BBox | None]:
    return (None, None) if geom is None else _blob(geom, srs_id)


def insert_features(
    conn: sqlite3.Connection,
    table: str,
    columns: list[str],
    rows: Iterable[tuple[Geometry | None, tuple[Any, ...]]],
    *,
    maintain_rtree: bool,
    chunk_size: int = 1000,
) -> int:
    """Insert (geometry, values) rows in chunks; with ``maintain_rtree`` also the R-tree rows
    (for a table without triggers). Returns how many rows were inserted."""
    lay = _layer(conn, table)
    if lay.geom is None:
        raise GpkgError(f"{table!r} is not a feature table")
    rtree = lay.rtree if maintain_rtree else None
    names = ", ".join(_q(n) for n in [lay.geom, *columns])
    sql = f"INSERT INTO {_q(table)} ({names}) VALUES ({', '.join('?' * (len(columns) + 1))})"
    by_row = lay.pk.lower() in {c.lower() for c in columns}
    total = 0
    batch: list[tuple[Any, ...]] = []
    boxes: list[BBox | None] = []

    def flush() -> None:
        if by_row:
            fids: Iterable[int] = [conn.execute(sql, p).lastrowid for p in batch]  # type: ignore[misc]
        else:
            conn.executemany(sql, batch)
            last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
            fids = range(last - len(batch) + 1, last + 1)  # rowids of one INSERT run
            if rtree and conn.execute(
                f"SELECT count(*) FROM {_q(table)} WHERE {_q(lay.pk)} BETWEEN ? AND ?",
                (fids[0], last),
            ).fetchone()[0] != len(batch):
                raise GpkgError(f"the new rows of {table!r} did not get consecutive fids")
        if rtree:
            conn.executemany(
                f"INSERT OR REPLACE INTO {rtree} VALUES (?, ?, ?, ?, ?)",
                [(f, b[0], b[2], b[1], b[3]) for f, b in zip(fids, boxes) if b],
            )
        batch.clear()
        boxes.clear()

    with _atomic(conn), _hint():
        for geom, values in rows:
            if len(values) != len(columns):
                raise GpkgError(f"{len(values)} values for {len(columns)} columns")
            blob, box = _blob_box(geom, lay.srs_id)
            batch.append((blob, *values))
            boxes.append(box)
            total += 1
            if len(batch) >= chunk_size:
                flush()
        if batch:
            flush()
    return total


def upsert_feature(
    conn: sqlite3.Connection,
    table: str,
    key_column: str,
    key_value: Any,
    geom: Geometry | None,
    values: dict[str, Any],
    *,
    maintain_rtree: bool,
) -> int:
    """Update the row whose ``key_column`` is ``key_value`` (its fid is kept; columns missing
    from ``values`` keep their value) or insert it. Returns the fid."""
    lay = _layer(conn, table)
    if lay.geom is None:
        raise GpkgError(f"{table!r} is not a feature table")
    blob, box = _blob_box(geom, lay.srs_id)
    cols = {k: v for k, v in values.items() if k != key_column}
    t = _q(table)
    with _atomic(conn), _hint():
        row = conn.execute(
            f"SELECT {_q(lay.pk)} FROM {t} WHERE {_q(key_column)} = ?", (key_value,)
        ).fetchone()
        if row is not None:
            fid = row[0]
            sets = ", ".join(f"{_q(n)} = ?" for n in [lay.geom, *cols])
            conn.execute(
                f"UPDATE {t} SET {sets} WHERE {_q(lay.pk)} = ?", (blob, *cols.values(), fid)
            )
        else:
            names = ", ".join(_q(n) for n in [lay.geom, key_column, *cols])
            marks = ", ".join("?" * (len(cols) + 2))
            fid = conn.execute(
                f"INSERT INTO {t} ({names}) VALUES ({marks})", (blob, key_value, *cols.values())
            ).lastrowid
        if maintain_rtree and lay.rtree:
            conn.execute(f"DELETE FROM {lay.rtree} WHERE id = ?", (fid,))
            if box:
                conn.execute(
                    f"INSERT INTO {lay.rtree} VALUES (?, ?, ?, ?, ?)",
                    (fid, box[0], box[2], box[1], box[3]),
                )
    return int(fid)


def delete_features(
    conn: sqlite3.Connection,
    table: str,
    key_column: str,
    keys: Iterable[Any],
    *,
    maintain_rtree: bool,
) -> int:
    """Delete the rows whose ``key_column`` is in ``keys``; returns how many went."""
    lay = _layer(conn, table)
    keys = list(keys)
    t, k = _q(table), _q(key_column)
    count = 0
    with _atomic(conn), _hint():
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            if maintain_rtree and lay.rtree:
                conn.execute(
                    f"DELETE FROM {lay.rtree} WHERE id IN "
                    f"(SELECT {_q(lay.pk)} FROM {t} WHERE {k} IN ({marks}))",
                    chunk,
                )
            count += conn.execute(f"DELETE FROM {t} WHERE {k} IN ({marks})", chunk).rowcount
    return count


def update_contents_extent(conn: sqlite3.Connection, table: str) -> BBox | None:
    """Set gpkg_contents' extent (from the R-tree, else the geometries) and last_change.
    Returns (minx, miny, maxx, maxy), None for no geometry. R-tree bounds are float32,
    rounded outwards."""
    lay = _layer(conn, table)
    box: BBox | None = None
    if lay.rtree:
        row = conn.execute(
            f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {lay.rtree}"
        ).fetchone()
        box = None if row[0] is None else tuple(row)
    elif lay.geom:
        envs = [
            env
            for (b,) in conn.execute(
                f"SELECT {_q(lay.geom)} FROM {_q(table)} WHERE {_q(lay.geom)} IS NOT NULL"
            )
            if (env := blob_envelope(b))
        ]
        if envs:
            box = (
                min(e[0] for e in envs),
                min(e[2] for e in envs),
                max(e[1] for e in envs),
                max(e[3] for e in envs),
            )
    with _atomic(conn):
        conn.execute(
            "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
            "last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            "WHERE lower(table_name) = lower(?)",
            (*(box or (None,) * 4), table),
        )
    return box


def read_layers(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The feature tables with their geometry column, type and CRS, by table name."""
    try:
        cur = conn.execute(
            "SELECT c.table_name, g.column_name, g.geometry_type_name, g.srs_id, "
            "s.organization, s.organization_coordsys_id, s.definition, c.identifier, "
            "c.description, g.z, g.m FROM gpkg_contents c JOIN gpkg_geometry_columns g "
            "ON lower(g.table_name) = lower(c.table_name) LEFT JOIN gpkg_spatial_ref_sys s "
            "ON s.srs_id = g.srs_id WHERE c.data_type = 'features' ORDER BY c.table_name"
        )
    except sqlite3.OperationalError as exc:
        raise GpkgError(f"not a GeoPackage with feature tables ({exc})") from exc
    keys = [d[0] for d in cur.description]
    return [dict(zip(keys, row)) for row in cur]


def read_features(
    conn: sqlite3.Connection, table: str
) -> Iterator[tuple[dict[str, Any], Geometry | None]]:
    """(properties without the fid and geometry columns, geometry) for each row, by fid."""
    lay = _layer(conn, table)
    skip = {lay.pk.lower(), (lay.geom or "").lower()}
    props = [
        c[1] for c in conn.execute(f"PRAGMA table_info({_q(table)})") if c[1].lower() not in skip
    ]
    sel = ", ".join([_q(lay.geom) if lay.geom else "NULL", *map(_q, props)])
    for row in conn.execute(f"SELECT {sel} FROM {_q(table)} ORDER BY {_q(lay.pk)}"):
        yield dict(zip(props, row[1:])), gpkg_blob_decode(row[0])
