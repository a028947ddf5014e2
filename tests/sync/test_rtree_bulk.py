"""Packed R-trees and whole-table copies (`sync.replica.bulk`): the twin extract's R-tree as
the hub packs it, and the replica loading an extract by copying its rows and R-tree.

The oracle is SQLite itself: the same boxes inserted one by one into an R*Tree through its
virtual table, and `rtreecheck()` on the shadow tables written directly.
"""

from __future__ import annotations

import json
import random
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest

from sync import gpkg
from sync.replica import Replica
from sync.replica.bulk import pack_rtree, rtree_copyable, rtree_ok
from sync.server.extract import build_extract

LAYERS = ("components", "pipelines", "areas")
BOX_QUERY = "SELECT id FROM {} WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?"


def boxes(
    rng: random.Random, n: int, start: int = 1
) -> list[tuple[int, float, float, float, float]]:
    """Points and small boxes around Shanghai, doubles that float32 cannot hold exactly."""
    out = []
    for i in range(n):
        x, y = rng.uniform(121.3, 121.6), rng.uniform(31.1, 31.3)
        w, h = (0.0, 0.0) if i % 3 else (rng.uniform(0, 0.003), rng.uniform(0, 0.003))
        out.append((start + i, x, x + w, y, y + h))
    return out


def fresh(conn: sqlite3.Connection, name: str) -> None:
    conn.execute(f"CREATE VIRTUAL TABLE {name} USING rtree(id, minx, maxx, miny, maxy)")


def rows_of(conn: sqlite3.Connection, table: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {table}"))


@pytest.mark.parametrize("n", [1, 50, 51, 52, 2_601, 20_000])
def test_packed_tree_is_the_tree_sqlite_would_answer_from(n: int) -> None:
    rng = random.Random(n)
    entries = boxes(rng, n)
    conn = sqlite3.connect(":memory:")
    fresh(conn, "packed")
    fresh(conn, "inserted")
    conn.execute("BEGIN")
    pack_rtree(conn, "packed", entries)
    conn.executemany("INSERT INTO inserted VALUES (?, ?, ?, ?, ?)", entries)
    conn.execute("COMMIT")
    assert rtree_ok(conn, "packed")
    # the same float32 boxes (rounded outwards, as SQLite rounds them) under the same ids
    assert rows_of(conn, "packed") == rows_of(conn, "inserted")
    for _ in range(300):
        x, y, size = rng.uniform(121.3, 121.6), rng.uniform(31.1, 31.3), rng.uniform(0, 0.05)
        args = (x, x + size, y, y + size)
        got = sorted(r[0] for r in conn.execute(BOX_QUERY.format("packed"), args))
        assert got == sorted(r[0] for r in conn.execute(BOX_QUERY.format("inserted"), args))
    depth = struct.unpack(">H", conn.execute("SELECT data FROM packed_node WHERE nodeno = 1")
                          .fetchone()[0][:2])[0]  # fmt: skip
    assert depth == (0 if n <= 51 else 1 if n <= 51 * 51 else 2)


def test_a_packed_tree_takes_sqlite_writes_afterwards() -> None:
    rng = random.Random(7)
    entries = boxes(rng, 5_000)
    conn = sqlite3.connect(":memory:")
    fresh(conn, "packed")
    fresh(conn, "inserted")
    with conn:
        pack_rtree(conn, "packed", entries)
        conn.executemany("INSERT INTO inserted VALUES (?, ?, ?, ?, ?)", entries)
    gone = [(e[0],) for e in entries[::2]]
    more = boxes(rng, 3_000, start=100_000)
    moved = [(121.5, 121.5, 31.2, 31.2, e[0]) for e in entries[1:600:2]]
    with conn:
        for table in ("packed", "inserted"):
            conn.executemany(f"DELETE FROM {table} WHERE id = ?", gone)
            conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?)", more)
            conn.executemany(
                f"UPDATE {table} SET minx = ?, maxx = ?, miny = ?, maxy = ? WHERE id = ?", moved
            )
    assert rtree_ok(conn, "packed")
    assert rows_of(conn, "packed") == rows_of(conn, "inserted")


def test_pack_refuses_a_tree_with_entries_and_bad_boxes() -> None:
    conn = sqlite3.connect(":memory:")
    fresh(conn, "r")
    conn.execute("INSERT INTO r VALUES (1, 0, 1, 0, 1)")
    with pytest.raises(ValueError, match="not an empty R\\*Tree"):
        pack_rtree(conn, "r", [(2, 0.0, 1.0, 0.0, 1.0)])
    fresh(conn, "s")
    for bad in [(1, 2.0, 1.0, 0.0, 1.0), (1, 0.0, 1.0, float("nan"), 1.0)]:
        with pytest.raises(ValueError, match="min > max"):
            pack_rtree(conn, "s", [bad])
    assert conn.execute("SELECT COUNT(*) FROM s").fetchone()[0] == 0
    assert rows_of(conn, "r") == [(1, 0.0, 1.0, 0.0, 1.0)]


# ----------------------------------------------------------------------------- the extract


def expected_index(path: Path, table: str) -> list[tuple[Any, ...]]:
    """What the GeoPackage triggers would have put in the table's R-tree: each row's
    envelope inserted through SQLite (which rounds to float32 outwards)."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(f"SELECT fid, geom FROM {table} WHERE geom IS NOT NULL").fetchall()
    finally:
        conn.close()
    oracle = sqlite3.connect(":memory:")
    fresh(oracle, "r")
    envs = [(fid, gpkg.blob_envelope(blob)) for fid, blob in rows]
    oracle.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)", [(f, *e) for f, e in envs if e])
    return rows_of(oracle, "r")


@pytest.fixture
def extract(hub: Any, tmp_path: Path) -> Path:
    """JSL's street office extract, built by the hub."""
    actor = hub.store.actor(hub.store.user("jsl-dispatcher"))
    target = tmp_path / "jsl.gpkg"
    with hub.store.snapshot() as conn:
        build_extract(hub.store, conn, actor, target)
    return target


def test_the_hub_packs_each_layers_index_as_the_triggers_would(extract: Path) -> None:
    conn = sqlite3.connect(extract)
    try:
        for table in (*LAYERS, "grids"):
            assert rtree_ok(conn, f"rtree_{table}_geom"), table
            assert rows_of(conn, f"rtree_{table}_geom") == expected_index(extract, table), table
            triggers = {
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                    (table,),
                )
            }
            assert triggers == {f"rtree_{table}_geom_{s}" for s in
                                ("insert", "update1", "update2", "update3", "update4", "delete")}  # fmt: skip
        assert conn.execute("SELECT COUNT(*) FROM components").fetchone()[0] >= 5_000
    finally:
        conn.close()


def new_replica(path: Path) -> Replica:
    replica = Replica(path)
    me = {"id": "jsl-dispatcher", "role": "dispatcher", "street_code": "JSL", "grid_codes": []}
    replica.set_state("user", json.dumps(me))
    return replica


def copyable(extract: Path, tmp_path: Path, layer: str) -> bool:
    """`rtree_copyable` as a new replica's connection sees the extract."""
    replica = Replica(tmp_path / "probe.gpkg")
    replica.conn.execute("ATTACH DATABASE ? AS ext", (str(extract),))
    try:
        return rtree_copyable(replica.conn, "ext", layer)
    finally:
        replica.conn.execute("DETACH DATABASE ext")
        replica.close()


def test_the_replica_copies_a_sound_index_as_it_is(extract: Path, tmp_path: Path) -> None:
    assert all(copyable(extract, tmp_path, layer) for layer in LAYERS)
    replica = new_replica(tmp_path / "r.gpkg")
    counts = replica.load_extract(str(extract), "etag-1")
    source = sqlite3.connect(extract)
    for layer in LAYERS:
        assert counts[layer] == source.execute(f"SELECT COUNT(*) FROM {layer}").fetchone()[0]
        assert rtree_ok(replica.conn, f"rtree_{layer}_geom")
        theirs = rows_of(source, f"rtree_{layer}_geom_node")
        assert rows_of(replica.conn, f"rtree_{layer}_geom_node") == theirs  # node for node
        mine = [tuple(r) for r in replica.conn.execute(f"SELECT fid, id FROM {layer}")]
        assert sorted(mine) == rows_of(source, f"(SELECT fid, id FROM {layer})")
    source.close()
    assert replica.state("extract_etag") == "etag-1"
    triggers = replica.conn.execute(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree_%'"
    ).fetchone()[0]
    assert triggers == 6 * 5  # grids, the three twin layers, tasks: all put back

    # the feed's upserts afterwards go through the triggers into the copied tree
    feature = {
        "type": "Feature",
        "id": "after-load",
        "geometry": {"type": "Point", "coordinates": [121.4312345, 31.2212345]},
        "properties": {"layer": "components", "kind": "hydrant", "grid_code": "JSL-01"},
    }
    replica.apply_changes(
        [{"entity": "twin_feature", "id": "after-load", "op": "upsert", "data": feature}], "c1"
    )
    assert rtree_ok(replica.conn, "rtree_components_geom")
    hits = replica.conn.execute(
        BOX_QUERY.format("rtree_components_geom"), (121.4312, 121.4313, 31.2212, 31.2213)
    ).fetchall()
    fid = replica.conn.execute("SELECT fid FROM components WHERE id = 'after-load'").fetchone()
    assert (fid[0],) in [tuple(h) for h in hits]
    replica.close()


def tamper(path: Path, how: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        if how == "entry missing":
            conn.execute(
                "DELETE FROM rtree_components_geom_rowid WHERE rowid = "
                "(SELECT MAX(rowid) FROM rtree_components_geom_rowid)"
            )
        elif how == "box outside its parent":
            nodeno, data = conn.execute(
                "SELECT nodeno, data FROM rtree_components_geom_node WHERE nodeno = "
                "(SELECT nodeno FROM rtree_components_geom_rowid LIMIT 1)"
            ).fetchone()
            data = bytearray(data)
            struct.pack_into(">ff", data, 4 + 8, 10.0, 10.5)  # the first cell's minx, maxx
            conn.execute(
                "UPDATE rtree_components_geom_node SET data = ? WHERE nodeno = ?",
                (bytes(data), nodeno),
            )
        elif how == "wrong box inside the tree":
            # every box of a leaf nudged within its parent: rtreecheck cannot see it
            rows = conn.execute(
                "SELECT nodeno, data FROM rtree_components_geom_node WHERE nodeno IN "
                "(SELECT DISTINCT nodeno FROM rtree_components_geom_rowid)"
            ).fetchall()
            for nodeno, data in rows:
                data = bytearray(data)
                cells = struct.unpack_from(">H", data, 2)[0]
                boxes_ = [struct.unpack_from(">ffff", data, 4 + 24 * c + 8) for c in range(cells)]
                first = boxes_[0]
                for c in range(cells):  # every cell gets the first one's box
                    struct.pack_into(">ffff", data, 4 + 24 * c + 8, *first)
                conn.execute(
                    "UPDATE rtree_components_geom_node SET data = ? WHERE nodeno = ?",
                    (bytes(data), nodeno),
                )
        elif how == "other node size":
            conn.execute("DROP TABLE rtree_components_geom")
            conn.execute(
                "CREATE VIRTUAL TABLE rtree_components_geom USING rtree(id, minx, maxx, miny, maxy)"
            )
            # an empty tree whose root is smaller than ours: not ours to copy
            conn.execute("UPDATE rtree_components_geom_node SET data = zeroblob(500)")
    conn.close()


@pytest.mark.parametrize(
    "how",
    ["entry missing", "box outside its parent", "wrong box inside the tree", "other node size"],
)
def test_an_untrustworthy_index_is_rebuilt_from_the_rows(
    extract: Path, tmp_path: Path, how: str
) -> None:
    tamper(extract, how)
    assert not copyable(extract, tmp_path, "components")
    assert copyable(extract, tmp_path, "areas")
    replica = new_replica(tmp_path / "r.gpkg")
    replica.load_extract(str(extract), "etag-x")
    assert rtree_ok(replica.conn, "rtree_components_geom")
    assert rows_of(replica.conn, "rtree_components_geom") == expected_index(
        tmp_path / "r.gpkg", "components"
    )
    replica.close()
