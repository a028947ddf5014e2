"""`sync_10_changes_1m_ms`: 10 changed tasks synced from a replica of 1,000,000 rows.

The device is a worker of street HM (`hm-worker-12`) with a real replica
(`sync.replica.Replica`, a GeoPackage) bootstrapped from the hub by `sync_once` (its tasks:
the ones assigned to it and the open ones of its grid; its grid's twin extract). Then its
`components` layer is filled up to 1,000,000 point rows with their R-tree entries (made-up
manholes, street lights... spread over the street's grids; bulk-inserted with sqlite3: the
layer's R-tree triggers dropped, rows and R-tree rows inserted in one transaction, the
triggers put back exactly as they were), so that the file holds a street's worth of twin
and more (~1,000,000 rows + its ~thousands of tasks).

A round: the worker starts 10 of its assigned tasks on the device (`replica.start`: 10
`task.start` ops in the outbox; not timed), then `sync_once` is timed whole: no photos,
the outbox read and pushed over HTTP (one request), the hub applies the 10 ops, the
answers applied, the feed pulled from the device's cursor (the 10 tasks come back) and
applied, photos purged. Each round's push must answer 10 `applied` (asserted). One
warm-up round; the figure is the median of `RUNS` rounds.

Anchor, measured in the same run: Mergin Maps' way of syncing a GeoPackage, with
`pygeodiff` (the geodiff library Mergin Maps uses): `create_changeset` between a copy of
the replica from before a round's 10 changes and one from after them (the whole files
compared), then `apply_changeset` of that changeset onto a third copy (the server's).
`speedup_vs_geodiff` = geodiff's median (create + apply) / our median sync.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import struct
import time
from typing import Any

from .common import BenchHub, Figure, median, say
from .device import Device, Phases, breakdown, profile_top, wrap_sync

NAME = "sync_10_changes_1m_ms"
SPEEDUP = "speedup_vs_geodiff"
TARGET = 50.0
USERNAME = "hm-worker-12"
ROWS = 1_000_000
CHANGES = 10
RUNS = 9
WARMUP = 1
GEODIFF_RUNS = 3
CHUNK = 50_000
COMPONENT_KINDS = (
    ("manhole", "井盖"),
    ("streetlight", "路灯"),
    ("hydrant", "消火栓"),
    ("trash_bin", "垃圾桶"),
    ("camera", "监控探头"),
    ("bike_rack", "非机动车停放点"),
)
GEODIFF_SOURCE = (
    "pygeodiff (the geodiff library of Mergin Maps), run here: “Compare two datasets to get "
    "changesets (diffs) & apply changesets … Geodiff library is used by Mergin Maps” — "
    "https://github.com/MerginMaps/geodiff"
)


def _point_blob(x: float, y: float) -> bytes:
    """GeoPackageBinary of a point, as `sync.gpkg.gpkg_blob` writes it (no envelope)."""
    return struct.pack("<2sBBiBIdd", b"GP", 0, 0x01, 4326, 1, 1, x, y)


def fill_components(device: Device, total: int, rng: random.Random) -> tuple[int, float]:
    """Fills the replica's `components` layer up to `total` rows with their R-tree rows.

    The layer's R-tree triggers are dropped for the load and put back as they were (their
    SQL from sqlite_master) in the same transaction; the R-tree rows are inserted directly
    (the triggers would call the Python ST_* functions 5 times a row).
    Returns (rows added, seconds).
    """
    from sync import geo, gpkg

    assert _point_blob(121.5, 31.2) == gpkg.gpkg_blob(
        {"type": "Point", "coordinates": [121.5, 31.2]}
    )
    started = time.perf_counter()
    conn = device.replica.conn
    boxes = [
        (code, street, geo.bbox(gpkg.gpkg_blob_decode(blob) or {}))
        for code, street, blob in conn.execute("SELECT code, street_code, geom FROM grids")
    ]
    have = conn.execute("SELECT COUNT(*) FROM components").fetchone()[0]
    adding = max(total - have, 0)
    # A connection of its own with a 400 MB page cache (the R-tree inserts thrash the
    # default 2 MB one: 40 s instead of 16), so the replica's own connection keeps its
    # settings for the measured syncs.
    bulk = sqlite3.connect(device.path, isolation_level=None)
    bulk.execute("PRAGMA cache_size=-400000")
    bulk.execute("BEGIN IMMEDIATE")
    try:
        triggers = bulk.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'components'"
        ).fetchall()
        for name, _sql in triggers:
            bulk.execute(f'DROP TRIGGER "{name}"')
        fid = bulk.execute("SELECT COALESCE(MAX(fid), 0) FROM components").fetchone()[0]
        done = 0
        per_grid = -(-adding // len(boxes))  # grid after grid, as a twin import goes
        while done < adding:
            rows, entries = [], []
            for n in range(done, min(done + CHUNK, adding)):
                code, street, (minx, miny, maxx, maxy) = boxes[n // per_grid]
                kind, label = COMPONENT_KINDS[n % len(COMPONENT_KINDS)]
                x = round(rng.uniform(minx, maxx), 7)
                y = round(rng.uniform(miny, maxy), 7)
                fid += 1
                rows.append((fid, _point_blob(x, y), f"cmp-bench-{n:07d}", kind,
                             f"{label} {code}-{n:07d}", code, street, "normal", "{}"))  # fmt: skip
                entries.append((fid, x, x, y, y))
            bulk.executemany(
                "INSERT INTO components(fid, geom, id, kind, name, grid_code, street_code, "
                "status, props) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            bulk.executemany("INSERT INTO rtree_components_geom VALUES (?, ?, ?, ?, ?)", entries)
            done += len(rows)
        for _name, sql in triggers:
            bulk.execute(sql)
        bulk.execute("COMMIT")
        bulk.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except BaseException:
        if bulk.in_transaction:
            bulk.execute("ROLLBACK")
        raise
    finally:
        bulk.close()
    device.checkpoint()
    return adding, time.perf_counter() - started


def _round(
    bench: BenchHub,
    device: Device,
    tasks: list[dict[str, Any]],
    phases: Phases,
    profiled: bool = False,
) -> dict[str, Any]:
    started = time.perf_counter()
    for task in tasks:
        device.replica.start(task["id"])
    acted = time.perf_counter() - started
    phases.reset()
    sent, received = device.wire.sent, device.wire.received
    cpu = bench.hub_cpu_s()
    started = time.perf_counter()
    profile: tuple[list[str], str] = ([], "")
    if profiled:  # the sync alone, not the 10 actions before it
        result, lines, short = profile_top(device.sync, replica=device.replica)
        profile = (lines, short)
    else:
        result = device.sync()
    seconds = time.perf_counter() - started
    cpu = bench.hub_cpu_s() - cpu
    if result.pushed != {"applied": len(tasks)}:
        raise AssertionError(f"pushed {result.pushed}, expected {len(tasks)} applied")
    if result.pulled < len(tasks):
        raise AssertionError(f"pulled {result.pulled} changes, expected ≥ {len(tasks)}")
    return {
        "seconds": seconds,
        "act": acted,
        "hub_cpu": cpu,
        "phases": phases.snapshot(),
        "pulled": result.pulled,
        "bytes": (device.wire.sent - sent, device.wire.received - received),
        "profile": profile,
    }


def _geodiff(before: Any, after: Any, server: Any, work: Any) -> dict[str, Any]:
    """Mergin Maps' way: changeset between two whole files, applied to a third copy."""
    import json

    import pygeodiff

    gd = pygeodiff.GeoDiff()
    create, apply, copies = [], [], 0.0
    summary: list[dict[str, Any]] = []
    for n in range(GEODIFF_RUNS):
        changeset = work / f"changeset-{n}.diff"
        started = time.perf_counter()
        shutil.copyfile(before, server)  # the server's copy, as before the changes
        copies += time.perf_counter() - started
        started = time.perf_counter()
        gd.create_changeset(str(before), str(after), str(changeset))
        create.append(time.perf_counter() - started)
        started = time.perf_counter()
        gd.apply_changeset(str(server), str(changeset))
        apply.append(time.perf_counter() - started)
        if n == 0:
            gd.list_changes_summary(str(changeset), str(work / "summary.json"))
            summary = json.loads((work / "summary.json").read_text())["geodiff_summary"]
            size = changeset.stat().st_size
    return {
        "create": create,
        "apply": apply,
        "total": [c + a for c, a in zip(create, apply)],
        "summary": summary,
        "changeset_bytes": size,
        "copy_s": copies / GEODIFF_RUNS,
    }


def run(bench: BenchHub) -> list[Figure]:
    rng = random.Random(20260612)
    started = time.perf_counter()
    device = Device(bench, USERNAME, "sync-1m")
    first = device.sync()
    say(f"  {USERNAME}'s replica bootstrapped by sync_once in {time.perf_counter() - started:.1f} s "
        f"({first.pulled:,} changes pulled, extract loaded: {first.extract_loaded})")  # fmt: skip
    conn = device.replica.conn
    tasks_on_device = conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
    extract_components = conn.execute("SELECT COUNT(*) FROM components").fetchone()[0]

    added, fill_s = fill_components(device, ROWS, rng)
    rows = conn.execute("SELECT COUNT(*) FROM components").fetchone()[0]
    indexed = conn.execute("SELECT COUNT(*) FROM rtree_components_geom").fetchone()[0]
    if rows != ROWS or indexed != ROWS:
        raise AssertionError(f"components: {rows} rows, {indexed} R-tree entries, not {ROWS}")
    file_mb = device.file_bytes() / 1e6
    say(f"  components filled to {rows:,} rows (+{added:,}, R-tree entries {indexed:,}) in "
        f"{fill_s:.1f} s; replica file {file_mb:.0f} MB")  # fmt: skip

    assigned = device.my_tasks("assigned")
    rounds = WARMUP + 1 + RUNS + 1  # warm-up, geodiff's copies, measured, a profiled one
    if len(assigned) < rounds * CHANGES:
        raise RuntimeError(
            f"{USERNAME} has {len(assigned)} assigned tasks, needs {rounds * CHANGES}"
        )
    batches = [assigned[i * CHANGES : (i + 1) * CHANGES] for i in range(rounds)]
    phases = Phases()
    wrap_sync(device, phases)
    for _ in range(WARMUP):
        _round(bench, device, batches.pop(0), phases)

    # geodiff's files: the replica before and after one round's 10 changes (that round is
    # synced like the others but not counted: the copies took its page cache).
    work = bench.tmp / "geodiff"
    work.mkdir(exist_ok=True)
    before, after, server = work / "before.gpkg", work / "after.gpkg", work / "server.gpkg"
    started = time.perf_counter()
    device.copy_to(before)
    batch = batches.pop(0)
    for task in batch:
        device.replica.start(task["id"])
    device.copy_to(after)
    say(f"  copies of the replica before and after 10 changes for geodiff in "
        f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    phases.reset()
    device.sync()

    runs = [_round(bench, device, batches.pop(0), phases) for _ in range(RUNS)]
    times = [r["seconds"] * 1000 for r in runs]
    value = median(times)
    notes = [
        f"replica: {rows:,} rows in `components` ({extract_components:,} from the grid's "
        f"extract, {added:,} bulk-inserted with their R-tree rows in {fill_s:.1f} s) and "
        f"{tasks_on_device:,} tasks; file {file_mb:.0f} MB",
        f"round: {CHANGES} × `replica.start` on {USERNAME}'s assigned tasks (median "
        f"{median([r['act'] for r in runs]) * 1000:.1f} ms for the 10, not timed), then "
        f"`sync_once` timed: push {CHANGES} ops, hub applies, pull back "
        f"({median([r['pulled'] for r in runs]):.0f} changes), all applied; after "
        f"{WARMUP} warm-up round",
        "runs: " + ", ".join(f"{t:.1f}" for t in times) + " ms",
        "where the sync's time went: "
        + breakdown([r["phases"] for r in runs], [r["seconds"] for r in runs]),
        f"hub CPU per sync {median([r['hub_cpu'] for r in runs]) * 1000:.0f} ms; HTTP bytes "
        f"per sync sent {median([r['bytes'][0] for r in runs]):,.0f}, received "
        f"{median([r['bytes'][1] for r in runs]):,.0f}",
    ]
    figures: list[Figure] = []
    anchor = "geodiff: not measured"
    anchor_source = GEODIFF_SOURCE
    geodiff: dict[str, Any] | None = None
    try:
        import pygeodiff  # noqa: F401
    except ImportError:
        anchor = "geodiff: pygeodiff is not installed here (pip install pygeodiff)"
        say(f"  {anchor}")
    else:
        started = time.perf_counter()
        try:
            geodiff = _geodiff(before, after, server, work)
        except Exception as err:  # a crash of the anchor is reported, not fatal
            anchor = f"geodiff: failed here ({type(err).__name__}: {err})"
            say(f"  {anchor}")
        else:
            say(f"  geodiff: {GEODIFF_RUNS} × (copy, create_changeset, apply_changeset) in "
                f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    if geodiff is not None:
        gd_create = median(geodiff["create"]) * 1000
        gd_apply = median(geodiff["apply"]) * 1000
        gd_total = (median(geodiff["create"]) + median(geodiff["apply"])) * 1000
        changed = ", ".join(
            f"{t['table']} +{t['insert']}/~{t['update']}/-{t['delete']}" for t in geodiff["summary"]
        )
        anchor = (
            f"geodiff (Mergin Maps): create_changeset {gd_create:,.0f} ms + apply_changeset "
            f"{gd_apply:,.0f} ms = {gd_total:,.0f} ms, same replica, this run"
        )
        notes.append(
            f"geodiff: create_changeset between copies before/after the 10 changes (the "
            f"whole {file_mb:.0f} MB files) runs "
            + ", ".join(f"{t * 1000:.0f}" for t in geodiff["create"])
            + " ms; apply_changeset onto a third copy "
            + ", ".join(f"{t * 1000:.0f}" for t in geodiff["apply"])
            + f" ms; changeset {geodiff['changeset_bytes']:,} bytes ({changed}; "
            "+insert/~update/-delete)"
        )
    else:
        notes.append(anchor)

    if value > TARGET:
        batch = batches.pop(0)
        lines, short = _round(bench, device, batch, phases, profiled=True)["profile"]
        say("  device profile of one more round's sync (cProfile, top by own time):")
        for line in lines:
            say(f"    {line}")
        notes.append(short)
    device.close()
    shutil.rmtree(work, ignore_errors=True)

    figures.append(
        Figure(
            name=NAME,
            value=value,
            unit="ms",
            target=TARGET,
            higher_is_better=False,
            anchor=anchor,
            anchor_source=anchor_source,
            notes=notes,
        )
    )
    if geodiff is not None:
        gd_total = (median(geodiff["create"]) + median(geodiff["apply"])) * 1000
        figures.append(
            Figure(
                name=SPEEDUP,
                value=gd_total / value,
                unit="×",
                target=None,
                higher_is_better=True,
                anchor=f"geodiff create + apply {gd_total:,.0f} ms vs our sync {value:.1f} ms",
                anchor_source=anchor_source,
                notes=[
                    f"geodiff's median create_changeset + median apply_changeset ({gd_total:,.0f} ms) "
                    f"/ our median whole sync ({value:.1f} ms); create_changeset alone: "
                    f"{median(geodiff['create']) * 1000 / value:.1f}×"
                ],
            )
        )
    return figures
