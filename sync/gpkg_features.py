"""Rows of GeoPackage feature tables with plain ``sqlite3``: insert, upsert, delete, read.

Owns the data functions GridOps writes and reads feature tables with, on devices and on the
hub, including what GDAL/QGIS write (`read_layers`, `read_features`).

Invariants:
- Every row of a feature table with a non-empty geometry has one ``rtree_<t>_<geom>`` row
  with its envelope, and no other row has one: the spec's triggers keep it so (the
  connection needs ``register_st_functions``; without it a write fails with a `GpkgError`
  that says so), or, for a table made with ``triggers=False``, these functions do when
  called with ``maintain_rtree=True``.
- Data functions are atomic (a SAVEPOINT); they commit only when no transaction was open,
  so a caller can join them with its own writes in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from .gpkg_geometry import BBox, Geometry, GpkgError, _blob, blob_envelope, gpkg_blob_decode
from .gpkg_schema import _atomic, _hint, _layer, _q


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
