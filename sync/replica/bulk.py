"""Bulk writes into GeoPackage feature tables, keeping their R-tree index exact.

Three things shape this module:
- `INSERT ... ON CONFLICT DO UPDATE` cannot be used on a table with the GeoPackage R-tree
  triggers: an outer conflict clause overrides their `INSERT OR REPLACE` and breaks them.
  So an upsert finds which keys exist, then runs one UPDATE and one INSERT (executemany).
- The triggers call Python `ST_*` functions five times per row. For a large batch the
  triggers are set aside inside the caller's transaction, the rows written, the R-tree
  rows written directly from the envelopes, and the triggers put back (their exact SQL,
  read from `sqlite_master`) before the transaction commits: no reader ever sees the file
  without its triggers, and the index is the one the triggers would have made.
- Filling a large empty R*Tree one INSERT at a time costs SQLite ~10-20 µs a row (each
  insert descends, splits and re-inserts). `pack_rtree` writes a whole packed tree (STR:
  sort-tile-recursive) straight into the R*Tree's shadow tables (`<rtree>_node`, `_parent`,
  `_rowid`), in the format SQLite's rtree.c reads, as GDAL's `sqlite_rtree_bulk_load` does
  for its GeoPackages; `rtree_ok` checks such a tree with SQLite's own `rtreecheck()`.
  `replace_features` copies a whole table and its R-tree from another GeoPackage attached
  to the connection (the twin extract): rows with their fids, and the shadow tables as they
  are once checked, else the tree packed again from the rows' envelopes.
"""

from __future__ import annotations

import math
import sqlite3
import struct
from array import array
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .. import gpkg

BULK_FROM = 64  # rows: below this, the triggers do the work
_POINT_XY = struct.Struct("<dd")
_CHUNK = 500
_CELL = struct.Struct(">qffff")  # rtree.c: rowid, then minx, maxx, miny, maxy as float32
Entry = Tuple[int, float, float, float, float]  # id, minx, maxx, miny, maxy


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


# ------------------------------------------------------------------ packed R*Tree


def _float32(values: List[float], up: bool) -> List[float]:
    """The float32 values SQLite's R*Tree stores for these bounds: rounded outwards
    (towards -inf for minima, +inf for maxima), so a box never shrinks."""
    near = array("f", values).tolist()  # round to nearest, in C
    if near == values:
        return near
    out = []
    for d, f in zip(values, near):
        if (f < d) if up else (f > d):
            # rtree.c's rtreeValueUp/Down: scale by 1 +/- 2**-23 and round again.
            away, towards = 1.0 + 1.0 / 8388608.0, 1.0 - 1.0 / 8388608.0
            scale = (towards if d < 0 else away) if up else (away if d < 0 else towards)
            f = array("f", [d * scale])[0]
        out.append(f)
    return out


def _tiles(items: List[tuple], capacity: int) -> List[List[tuple]]:
    """Sort-tile-recursive grouping of (cx, cy, ...) items into nodes of at most
    `capacity`: vertical slices by x, then runs by y, each slice cut into near-equal
    groups (so no node is left with a handful of cells)."""
    leaves = -(-len(items) // capacity)
    slices = math.ceil(math.sqrt(leaves))
    per_slice = capacity * -(-leaves // slices)
    items.sort(key=itemgetter(0))
    groups: List[List[tuple]] = []
    for start in range(0, len(items), per_slice):
        column = sorted(items[start : start + per_slice], key=itemgetter(1))
        count = -(-len(column) // capacity)
        size, extra = divmod(len(column), count)
        at = 0
        for n in range(count):
            step = size + (1 if n < extra else 0)
            groups.append(column[at : at + step])
            at += step
    return groups


def pack_rtree(conn: sqlite3.Connection, rtree: str, entries: List[Entry]) -> None:
    """Fills the empty R*Tree `rtree` (columns id, minx, maxx, miny, maxy) with `entries`
    in one go: an STR-packed tree written into its shadow tables. Bounds are rounded
    outwards to float32 as SQLite rounds them. Runs in the caller's transaction; the table
    must have been made by `CREATE VIRTUAL TABLE ... USING rtree(...)` on this database.

    Raises ValueError when the R*Tree already holds entries or a box is inverted/NaN.
    """
    if not entries:
        return
    node_size = conn.execute(f'SELECT length(data) FROM "{rtree}_node" WHERE nodeno = 1').fetchone()
    if node_size is None or conn.execute(f'SELECT 1 FROM "{rtree}_rowid" LIMIT 1').fetchone():
        raise ValueError(f"{rtree} is not an empty R*Tree")
    capacity = (node_size[0] - 4) // _CELL.size
    ids, minx, maxx, miny, maxy = (list(column) for column in zip(*entries))
    if not all(a <= b for a, b in zip(minx, maxx)) or not all(a <= b for a, b in zip(miny, maxy)):
        raise ValueError(f"{rtree}: a box with min > max (or NaN)")
    minx, maxx = _float32(minx, up=False), _float32(maxx, up=True)
    miny, maxy = _float32(miny, up=False), _float32(maxy, up=True)
    # (centre x, centre y, ref, minx, maxx, miny, maxy): ref is an entry's id on the leaf
    # level, a node's number above. Nodes are numbered from 2 as they are made; the one
    # node of the top level, the root, is 1 (rtree.c reads the tree's depth from node 1).
    items = [
        ((x0 + x1) * 0.5, (y0 + y1) * 0.5, ref, x0, x1, y0, y1)
        for ref, x0, x1, y0, y1 in zip(ids, minx, maxx, miny, maxy)
    ]
    nodes: List[Tuple[int, bytes]] = []
    parents: List[Tuple[int, int]] = []
    rowids: List[Tuple[int, int]] = []
    formats: Dict[int, struct.Struct] = {}
    size = node_size[0]
    number, depth = 2, 0
    while True:
        groups = _tiles(items, capacity)
        root = len(groups) == 1
        items = []
        for group in groups:
            count = len(group)
            nodeno = 1 if root else number
            number += 0 if root else 1
            form = formats.get(count)
            if form is None:
                form = formats[count] = struct.Struct(">HH" + "qffff" * count + f"{size}x")
            blob = form.pack(
                depth if root else 0, count, *chain.from_iterable(c[2:] for c in group)
            )
            nodes.append((nodeno, blob[:size]))
            (parents if depth else rowids).extend(zip([c[2] for c in group], repeat(nodeno)))
            if not root:
                x0 = min(c[3] for c in group)
                x1 = max(c[4] for c in group)
                y0 = min(c[5] for c in group)
                y1 = max(c[6] for c in group)
                items.append(((x0 + x1) * 0.5, (y0 + y1) * 0.5, nodeno, x0, x1, y0, y1))
        if root:
            break
        depth += 1
    conn.execute(f'DELETE FROM "{rtree}_node"')
    conn.executemany(f'INSERT INTO "{rtree}_node"(nodeno, data) VALUES (?, ?)', nodes)
    conn.executemany(f'INSERT INTO "{rtree}_parent"(nodeno, parentnode) VALUES (?, ?)', parents)
    conn.executemany(f'INSERT INTO "{rtree}_rowid"(rowid, nodeno) VALUES (?, ?)', rowids)


def rtree_ok(conn: sqlite3.Connection, rtree: str, schema: str = "main") -> bool:
    """True when SQLite's `rtreecheck()` finds the R*Tree's structure sound (False also when
    this SQLite has no rtreecheck, older than 3.24). Read-only."""
    try:
        row = conn.execute("SELECT rtreecheck(?, ?)", (schema, rtree)).fetchone()
    except sqlite3.OperationalError:
        return False
    return row is not None and row[0] == "ok"


# ------------------------------------------------------------------ whole-table copy


def _empty_rtree(conn: sqlite3.Connection, rtree: str) -> None:
    """Empties an R*Tree through its shadow tables (deleting 100,000 entries through the
    virtual table rebalances it 100,000 times), keeping its node size."""
    node = f'main."{rtree}_node"'
    size = conn.execute(f"SELECT length(data) FROM {node} WHERE nodeno = 1").fetchone()[0]
    for shadow in ("rowid", "parent", "node"):
        conn.execute(f'DELETE FROM main."{rtree}_{shadow}"')
    conn.execute(f"INSERT INTO {node}(nodeno, data) VALUES (1, zeroblob(?))", (size,))


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> List[str]:
    return [r[1] for r in conn.execute(f'PRAGMA "{schema}".table_info("{table}")')]


def rtree_copyable(conn: sqlite3.Connection, src: str, table: str) -> bool:
    """True when the R-tree of `table` in the attached database `src` can be copied into
    ours as it is: the same columns, shadow tables and node size as `main`'s, sound by
    `rtreecheck()`, one entry per row with a geometry and none for a row that is not there
    (compared by count, sum and sum of squares of the ids), and the boxes of a sample of
    about 500 rows right. Read-only."""
    rtree = f"rtree_{table}_geom"
    for name in (rtree, f"{rtree}_node", f"{rtree}_parent", f"{rtree}_rowid"):
        theirs = _columns(conn, src, name)
        if not theirs or theirs != _columns(conn, "main", name):
            return False
    their_size = conn.execute(
        f'SELECT length(data) FROM "{src}"."{rtree}_node" WHERE nodeno = 1'
    ).fetchone()
    size = conn.execute(f'SELECT length(data) FROM main."{rtree}_node" WHERE nodeno = 1')
    if their_size is None or their_size[0] != size.fetchone()[0] or not rtree_ok(conn, rtree, src):
        return False
    # The same ids on both sides: count, sum and sum of squares of the R-tree's ids and of
    # the fids of rows with a geometry (two scans of integer keys, no join).
    ids = conn.execute(
        f'SELECT COUNT(*), TOTAL(rowid), TOTAL(rowid * rowid) FROM "{src}"."{rtree}_rowid"'
    ).fetchone()
    fids = conn.execute(
        f'SELECT COUNT(*), TOTAL(fid), TOTAL(fid * fid) FROM "{src}"."{table}" '
        "WHERE geom IS NOT NULL"
    ).fetchone()
    if tuple(ids) != tuple(fids):
        return False
    last = conn.execute(f'SELECT MAX(rowid) FROM "{src}"."{rtree}_rowid"').fetchone()[0] or 0
    picks = list(range(1, last + 1, max(1, last // 500)))
    sample = conn.execute(
        f'SELECT f.geom, r.minx, r.maxx, r.miny, r.maxy FROM "{src}"."{table}" f '
        f'CROSS JOIN "{src}"."{rtree}" r ON r.id = f.fid '
        f"WHERE f.fid IN ({','.join('?' * len(picks))})",
        picks,
    ).fetchall()
    for geom, *box in sample:
        env = gpkg.blob_envelope(geom)
        if env is None:
            return False
        # What SQLite stores for the geometry's envelope: float32, rounded outwards.
        low = _float32([env[0], env[2]], up=False)
        high = _float32([env[1], env[3]], up=True)
        if box != [low[0], high[0], low[1], high[1]]:
            return False
    return True


def replace_features(conn: sqlite3.Connection, src: str, table: str, columns: List[str]) -> int:
    """Replaces every row of `main.<table>` (a feature table with the R-tree triggers) with
    those of the same table in the attached database `src`, fids kept, and its R-tree with
    theirs: copied as it is when `rtree_copyable` says so, else packed from the rows.
    The triggers are set aside meanwhile and put back before returning. Runs in the
    caller's transaction; returns the number of rows."""
    names = ", ".join(c for c in columns if c not in ("fid", "geom"))
    suspended = _suspend_triggers(conn, table)
    try:
        conn.execute(f'DELETE FROM main."{table}"')
        copied = conn.execute(
            f'INSERT INTO main."{table}"(fid, geom, {names}) '
            f'SELECT fid, geom, {names} FROM "{src}"."{table}" ORDER BY fid'
        ).rowcount
        rtree = f"rtree_{table}_geom"
        _empty_rtree(conn, rtree)
        if rtree_copyable(conn, src, table):
            conn.execute(f'DELETE FROM main."{rtree}_node"')
            for shadow in ("node", "parent", "rowid"):
                conn.execute(
                    f'INSERT INTO main."{rtree}_{shadow}" SELECT * FROM "{src}"."{rtree}_{shadow}"'
                )
        else:
            pack_rtree(conn, rtree, _envelopes(conn, table))
    finally:
        for sql in suspended or ():
            conn.execute(sql)
    return int(copied)


def _envelopes(conn: sqlite3.Connection, table: str) -> List[Entry]:
    """The R-tree entries of main.<table>'s rows, from their geometry blobs."""
    entries: List[Entry] = []
    for fid, blob in conn.execute(f'SELECT fid, geom FROM main."{table}" WHERE geom IS NOT NULL'):
        if len(blob) == 29 and blob[3] == 0x01 and blob[8] == 1:
            x, y = _POINT_XY.unpack_from(blob, 13)
            entries.append((fid, x, x, y, y))
            continue
        env = gpkg.blob_envelope(blob)
        if env is not None:
            entries.append((fid, *env))
    return entries
