"""GeoPackage 1.3 tables with plain ``sqlite3``: core tables, feature and attribute tables, R-trees.

Owns the DDL GridOps runs on a GeoPackage: the core tables as the spec's Annex C gives them,
the CRS rows, feature and attribute tables registered in ``gpkg_contents``, and the
``gpkg_rtree_index`` extension with the spec's triggers (Annex F.3, GeoPackage 1.3: insert,
update1-4, delete). Also the helpers `sync.gpkg_features` shares: quoting, the SAVEPOINT
wrapper and the lookup of a table's geometry column and R-tree.

Invariants:
- A file made by ``init_geopackage`` has application_id 'GPKG', user_version 10300 and the
  core tables exactly as the spec's table definition SQL gives them.
- A feature table's R-tree is either kept by the spec's triggers, which call the ST_*
  functions that ``register_st_functions`` (`sync.gpkg_geometry`) provides on every writing
  connection; or, for a table made with ``triggers=False`` (bulk loads), by the writers of
  `sync.gpkg_features` with ``maintain_rtree=True``, until ``create_spatial_index`` adds the
  triggers that the spec (Req 75) wants in a shipped file.
- Schema functions are atomic (a SAVEPOINT); they commit only when no transaction was open,
  so a caller can join them with its own writes in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

from .gpkg_geometry import GpkgError, blob_envelope

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
