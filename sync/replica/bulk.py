"""Bulk upserts into GeoPackage feature tables, keeping their R-tree index exact.

Two things shape this module:
- `INSERT ... ON CONFLICT DO UPDATE` cannot be used on a table with the GeoPackage R-tree
  triggers: an outer conflict clause overrides their `INSERT OR REPLACE` and breaks them.
  So an upsert finds which keys exist, then runs one UPDATE and one INSERT (executemany).
- The triggers call Python `ST_*` functions five times per row. For a large batch the
  triggers are set aside inside the caller's transaction, the rows written, the R-tree
  rows written directly from the envelopes, and the triggers put back (their exact SQL,
  read from `sqlite_master`) before the transaction commits: no reader ever sees the file
  without its triggers, and the index is the one the triggers would have made.
"""

from __future__ import annotations

import sqlite3
import struct
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .. import gpkg

BULK_FROM = 64  # rows: below this, the triggers do the work
_POINT_XY = struct.Struct("<dd")
_CHUNK = 500


def _existing(
    conn: sqlite3.Connection, table: str, key: str, keys: Sequence[Any]
) -> Dict[Any, int]:
    """key -> fid of the rows that exist, one query per 500 keys."""
    found: Dict[Any, int] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        marks = ",".join("?" * len(chunk))
        for fid, value in conn.execute(
            f"SELECT fid, {key} FROM {table} WHERE {key} IN ({marks})", chunk
        ):
            found[value] = fid
    return found


def upsert_features(
    conn: sqlite3.Connection, table: str, columns: List[str], rows: List[tuple], key: str = "id"
) -> None:
    """Inserts or updates rows (tuples in `columns` order, `geom` a GeoPackage blob) by a
    unique key. Runs in the caller's transaction."""
    if not rows:
        return
    at = columns.index(key)
    existing = _existing(conn, table, key, [r[at] for r in rows])
    others = [c for c in columns if c != key]
    updates = [
        (*(r[i] for i, c in enumerate(columns) if c != key), r[at])
        for r in rows
        if r[at] in existing
    ]
    inserts = [r for r in rows if r[at] not in existing]
    bare = table.split(".")[-1]
    suspended = _suspend_triggers(conn, bare) if len(rows) >= BULK_FROM else None
    try:
        if updates:
            conn.executemany(
                f"UPDATE {table} SET {', '.join(c + ' = ?' for c in others)} WHERE {key} = ?",
                updates,
            )
        if inserts:
            cur = conn.executemany(
                f"INSERT INTO {table}({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                inserts,
            )
            # One statement, AUTOINCREMENT fids, nothing else inserting: the new rows took
            # the fids just below the last one.
            last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
            first = last - cur.rowcount + 1
            existing.update((r[at], first + n) for n, r in enumerate(inserts))
        if suspended is not None:
            _index(conn, bare, columns, rows, at, existing)
    finally:
        if suspended is not None:
            for sql in suspended:
                conn.execute(sql)


def _suspend_triggers(conn: sqlite3.Connection, table: str) -> Optional[List[str]]:
    """Drops the table's R-tree triggers and returns their SQL to put them back."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
        "AND name LIKE ?",
        (table, f"rtree_{table}_geom_%"),
    ).fetchall()
    if not rows:
        return None
    for name, _sql in rows:
        conn.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in rows]


def _index(
    conn: sqlite3.Connection,
    table: str,
    columns: List[str],
    rows: List[tuple],
    at: int,
    fids: Dict[Any, int],
) -> None:
    """Writes the R-tree rows of these rows (key -> fid in `fids`), as the triggers would."""
    g = columns.index("geom")
    entries: List[Tuple[int, float, float, float, float]] = []
    empty: List[Tuple[int]] = []
    for row in rows:
        fid = fids[row[at]]
        blob = row[g]
        if blob is not None and len(blob) == 29 and blob[3] == 0x01 and blob[8] == 1:
            x, y = _POINT_XY.unpack_from(blob, 13)  # a little-endian point: no parsing
            entries.append((fid, x, x, y, y))
            continue
        env = gpkg.blob_envelope(blob) if blob is not None else None
        if env is None:
            empty.append((fid,))
        else:
            entries.append((fid, *env))
    rtree = f"rtree_{table}_geom"
    if empty:
        conn.executemany(f"DELETE FROM {rtree} WHERE id = ?", empty)
    conn.executemany(f"INSERT OR REPLACE INTO {rtree} VALUES (?, ?, ?, ?, ?)", entries)
