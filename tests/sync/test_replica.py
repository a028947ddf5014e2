"""The replica on its own (no hub): a valid GeoPackage written with plain sqlite3 through
the R-tree triggers, offline refusals, the outbox, rebase, photos prepared for sending."""

from __future__ import annotations

import ast
import io
import json
import os
import random
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.replica import PhotoError, Refused, Replica, prepare_photo

GRID = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
GRID2 = {"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}
ME = {
    "id": "w1",
    "username": "w1",
    "display_name": "王玥",
    "role": "worker",
    "street_code": "JSL",
    "grid_codes": ["G1"],
    "on_duty": True,
}


def task(
    task_id: str, status: str = "assigned", assignee: str | None = "w1", version: int = 2
) -> dict[str, Any]:
    return {
        "id": task_id,
        "kind": "litter",
        "title": "垃圾",
        "description": None,
        "status": status,
        "priority": "normal",
        "lon": 0.5,
        "lat": 0.5,
        "grid_code": "G1",
        "street_code": "JSL",
        "assignee_id": assignee,
        "reporter_id": "d1",
        "source": "office",
        "incident_id": None,
        "due_at": None,
        "created_at": "2026-06-01T00:00:00Z",
        "updated_at": "2026-06-01T00:00:00Z",
        "version": version,
        "photos": [],
        "history": [],
        "conflicts": [],
    }


T1 = "11111111-1111-4111-8111-111111111111"
T2 = "22222222-2222-4222-8222-222222222222"


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[Replica]:
    rep = Replica(tmp_path / "w1.gpkg")
    rep.set_state("user", json.dumps(ME))
    rep.apply_changes(
        [
            {
                "entity": "grid",
                "id": "G1",
                "op": "upsert",
                "data": {
                    "type": "Feature",
                    "geometry": GRID,
                    "properties": {
                        "code": "G1",
                        "street_code": "JSL",
                        "name": "一号网格",
                        "worker_ids": ["w1"],
                    },
                },
            },
            {
                "entity": "grid",
                "id": "G2",
                "op": "upsert",
                "data": {
                    "type": "Feature",
                    "geometry": GRID2,
                    "properties": {
                        "code": "G2",
                        "street_code": "JSL",
                        "name": "二号网格",
                        "worker_ids": [],
                    },
                },
            },
            {"entity": "user", "id": "w1", "op": "upsert", "data": ME},
            {"entity": "task", "id": T1, "op": "upsert", "data": task(T1)},
            {"entity": "task", "id": T2, "op": "upsert", "data": task(T2, "open", None)},
            {
                "entity": "twin_feature",
                "id": "c1",
                "op": "upsert",
                "data": {
                    "type": "Feature",
                    "id": "c1",
                    "geometry": {"type": "Point", "coordinates": [0.2, 0.3]},
                    "properties": {
                        "layer": "components",
                        "kind": "streetlight",
                        "name": "路灯1",
                        "grid_code": "G1",
                        "street_code": "JSL",
                        "status": "normal",
                    },
                },
            },
        ],
        cursor="c1",
    )
    yield rep
    rep.close()


def jpeg(size: tuple[int, int], exif: Any = None) -> bytes:
    from PIL import Image

    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, size[0] // 2, size[1] // 4))  # a mark top-left
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif) if exif is not None else img.save(out, "JPEG")
    return out.getvalue()


def test_plain_sqlite_writes_a_geopackage_through_the_rtree_triggers(replica: Replica) -> None:
    conn = replica.conn
    # No SpatiaLite: the triggers call our Python ST_* functions.
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("SELECT spatialite_version()")
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    rtree = conn.execute("SELECT minx, maxx, miny, maxy FROM rtree_components_geom").fetchall()
    assert [tuple(r) for r in rtree] == [
        (pytest.approx(0.2), pytest.approx(0.2), pytest.approx(0.3), pytest.approx(0.3))
    ]
    replica.start(T1)  # an update through the triggers
    assert conn.execute("SELECT COUNT(*) FROM rtree_tasks_geom").fetchone()[0] == 2
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_actions_queue_ops_and_refuse_offline(replica: Replica) -> None:
    started = replica.start(T1)
    assert (started["status"], started["pending"], started["version"]) == ("in_progress", 1, 3)
    [queued] = replica.outbox()
    assert (queued["type"], queued["task_id"]) == ("task.start", T1)
    for call, code in (
        (lambda: replica.confirm(T1), "forbidden"),
        (lambda: replica.start(T1), "invalid_transition"),
        (lambda: replica.pause(T1, "  "), "invalid_payload"),
        (lambda: replica.start("33333333-3333-4333-8333-333333333333"), "not_found"),
        (lambda: replica.create_task("litter", 5.0, 0.5), "outside_grids"),
    ):
        with pytest.raises(Refused) as err:
            call()
        assert err.value.code == code
    assert len(replica.outbox()) == 1  # nothing refused was queued
    claimed = replica.claim(T2)
    assert (claimed["status"], claimed["assignee_id"]) == ("assigned", "w1")
    near = replica.patrol_find("litter", 1.5, 0.5, self_fix=True)
    assert near["status"] == "reported"  # G2 is not this worker's grid: for the office
    mine = replica.patrol_find("bike_parking", 0.4, 0.4, self_fix=True)
    assert (mine["status"], mine["assignee_id"]) == ("assigned", "w1")


def test_pulled_changes_rebase_waiting_ops(replica: Replica) -> None:
    replica.start(T1)
    replica.comment(T1, "到场")
    moved = task(T1, version=3)
    moved["title"] = "新标题"
    replica.apply_changes([{"entity": "task", "id": T1, "op": "upsert", "data": moved}], "c2")
    shown = replica.task(T1)
    assert (shown["title"], shown["status"], shown["pending"]) == ("新标题", "in_progress", 2)
    assert len(replica.outbox()) == 2  # applying never touches the outbox
    # The hub answers: the start applied, the comment refused.
    ops = replica.outbox()
    after = {**moved, "status": "in_progress", "version": 4}
    replica.apply_push_results(
        [
            {"op_id": ops[0]["op_id"], "status": "applied", "code": None, "task": after},
            {
                "op_id": ops[1]["op_id"],
                "status": "rejected",
                "code": "not_assignee",
                "message": "no longer yours",
                "task": None,
            },
        ]
    )
    assert replica.outbox() == []
    [refusal] = replica.refusals()
    assert (refusal["code"], refusal["payload"]) == ("not_assignee", {"text": "到场"})
    # A remove with nothing waiting takes the task off the device.
    replica.apply_changes([{"entity": "task", "id": T1, "op": "remove", "data": None}], "c3")
    assert replica.task(T1) is None and replica.state("cursor") == "c3"


def test_photos_upright_downsized_stripped(replica: Replica) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the camera was held upright
    exif[0x0132] = "2026:06:01 16:30:00"
    exif[0x010F] = "PhoneMaker"
    gps = {1: "N", 2: (31.0, 13.0, 12.0), 3: "E", 4: (121.0, 25.0, 48.0)}
    exif[0x8825] = gps
    raw = jpeg((4000, 3000), exif=exif)
    prepared = prepare_photo(raw)
    img = Image.open(io.BytesIO(prepared.data))
    assert img.size == (1200, 1600)  # turned upright, long side 1600
    assert not img.getexif()  # nothing of the phone's EXIF left
    assert prepared.taken_at == "2026-06-01T08:30:00Z"  # UTC+8 local time → UTC
    assert prepared.lon == pytest.approx(121.43, abs=1e-4)
    assert prepared.lat == pytest.approx(31.22, abs=1e-4)
    item = replica.add_photo(raw, "after", lon=0.5, lat=0.5)
    assert item["lon"] == pytest.approx(121.43, abs=1e-4)  # EXIF position wins
    assert replica.photo_bytes(item["sha256"]) == prepared.data
    assert replica.photos_to_upload() == [item["sha256"]]
    with pytest.raises(PhotoError):
        prepare_photo(b"not a photo")


def test_submit_needs_photos_on_the_device(replica: Replica) -> None:
    ghost = {"sha256": "a" * 64, "role": "after"}
    with pytest.raises(Refused) as err:
        replica.submit(T1, [ghost])
    assert err.value.code == "invalid_payload"
    photo = replica.add_photo(jpeg((800, 600)), "after")
    done = replica.submit(T1, [photo], note="好了")
    assert done["status"] == "submitted" and done["photos"][0]["sha256"] == photo["sha256"]
    # Uploaded but still needed by a waiting op: kept.
    replica.mark_uploaded(photo["sha256"])
    assert replica.purge_photos() == 0


CARRIED = [
    "model.py",
    "vocabulary.py",
    "validation.py",
    "scopes.py",
    "decision.py",
    "geo.py",
    "gpkg.py",
    "gpkg_geometry.py",
    "gpkg_schema.py",
    "gpkg_features.py",
    "client.py",
    "syncjob.py",
    "replica/__init__.py",
    "replica/core.py",
    "replica/actions.py",
    "replica/apply.py",
    "replica/schema.py",
    "replica/photos.py",
    "replica/bulk.py",
    "replica/checkpoint.py",
]


@pytest.mark.parametrize("name", CARRIED)
def test_device_code_parses_as_python_3_9(name: str) -> None:
    path = Path(__file__).resolve().parents[2] / "sync" / name
    tree = ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 9))
    assert any(
        isinstance(node, ast.ImportFrom) and node.module == "__future__" for node in tree.body
    ), "needs `from __future__ import annotations`"
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    # Standard library plus requests; Pillow only inside the photo module, lazily.
    assert not imported & {"fastapi", "uvicorn", "orjson", "argon2", "kivy", "qgis", "PyQt5"}


def test_bulk_pages_keep_the_rtree_exact_and_the_triggers(replica: Replica) -> None:
    from sync import gpkg

    conn = replica.conn
    triggers = sorted(
        r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
    )

    def feature(n: int, layer: str, x: float) -> dict[str, Any]:
        geometry: dict[str, Any] = {"type": "Point", "coordinates": [x, 0.5]}
        if layer == "areas":
            geometry = {
                "type": "MultiPolygon",
                "coordinates": [[[[x, 0.1], [x + 0.01, 0.1], [x, 0.2], [x, 0.1]]]],
            }
        return {
            "entity": "twin_feature",
            "id": f"f{n}",
            "op": "upsert",
            "data": {
                "type": "Feature",
                "id": f"f{n}",
                "geometry": geometry,
                "properties": {"layer": layer, "kind": "k", "grid_code": "G1"},
            },
        }

    replica.apply_changes([feature(n, "components", n / 1000) for n in range(300)], "p1")
    # Updates (moved points), a layer change and removals, again in one big page.
    page = [feature(n, "components", 0.9 - n / 1000) for n in range(200)]
    page += [feature(n, "areas", 0.3) for n in range(200, 280)]
    page += [
        {"entity": "twin_feature", "id": f"f{n}", "op": "remove", "data": None}
        for n in range(280, 300)
    ]
    replica.apply_changes(page, "p2")
    for layer, count in (("components", 201), ("areas", 80)):  # + the fixture's c1
        rows = conn.execute(f"SELECT fid, geom FROM {layer}").fetchall()
        assert len(rows) == count
        index = {
            r[0]: tuple(r[1:])
            for r in conn.execute(f"SELECT id, minx, maxx, miny, maxy FROM rtree_{layer}_geom")
        }
        assert index == {
            fid: tuple(pytest.approx(v, abs=1e-6) for v in gpkg.blob_envelope(blob))
            for fid, blob in rows
        }
    assert (
        sorted(r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'"))
        == triggers
    )


# ----------------------------------------------------------------------------- WAL checkpoints


def wal_state(path: str | Path) -> tuple[int, int]:
    """(frames in the WAL, frames already copied into the file), read from the wal-index
    (`-shm`, native byte order; SQLite's walformat: mxFrame at byte 16 of the header,
    nBackfill at byte 96) without taking part in any checkpoint."""
    data = Path(f"{path}-shm").read_bytes()[:100]
    (mx_frame,) = struct.unpack_from("=I", data, 16)
    (backfilled,) = struct.unpack_from("=I", data, 96)
    return mx_frame, backfilled


def big_page(n: int, start: int = 0) -> list[dict[str, Any]]:
    """`n` twin points, about 300 bytes of WAL each."""
    return [
        {
            "entity": "twin_feature",
            "id": f"b{k}",
            "op": "upsert",
            "data": {
                "type": "Feature",
                "id": f"b{k}",
                "geometry": {"type": "Point", "coordinates": [(k % 997) / 997, 0.5]},
                "properties": {"layer": "components", "kind": "k", "name": "名称" * 40},
            },
        }
        for k in range(start, start + n)
    ]


def test_a_large_commit_is_checkpointed_in_the_background_once_quiet(replica: Replica) -> None:
    from sync.replica import checkpoint

    # The writer keeps SQLite's own checkpoint-at-commit as a far backstop only.
    page_size = replica.conn.execute("PRAGMA page_size").fetchone()[0]
    auto = replica.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    assert auto * page_size >= checkpoint.BACKSTOP_BYTES > checkpoint.URGENT_BYTES
    assert replica.checkpoints.wait_idle(timeout=30)
    done = replica.checkpoints.completed
    replica.checkpoints.quiet_s = 60.0
    replica.apply_changes(big_page(20_000), "big")  # ~8 MB of WAL: past SQLite's 1,000 pages
    time.sleep(0.3)
    frames, copied = wal_state(replica.path)
    assert frames > 1000 and copied < frames, (frames, copied)  # not checkpointed at commit
    other = sqlite3.connect(replica.path)  # readers see it all through the WAL meanwhile
    try:
        assert other.execute("SELECT COUNT(*) FROM components").fetchone()[0] == 20_001
        # The next commit after a quiet time: checkpointed in the background, the replica
        # still open (the other connection keeps the WAL file from being removed).
        replica.checkpoints.quiet_s = 0.3
        started = time.monotonic()
        replica.set_state("quiet", "1")
        assert replica.checkpoints.wait_idle(timeout=30)
        assert time.monotonic() - started >= 0.3
        frames, copied = wal_state(replica.path)
        assert copied == frames > 1000
        assert replica.checkpoints.completed == done + 1
        # The WAL file is cut back when SQLite starts it over (the next commit).
        replica.set_state("after", "1")
        assert Path(f"{replica.path}-wal").stat().st_size <= checkpoint.JOURNAL_LIMIT_BYTES
    finally:
        other.close()


def test_closing_checkpoints_at_once_and_a_large_wal_does_not_wait(tmp_path: Path) -> None:
    path = tmp_path / "r.gpkg"
    rep = Replica(path)
    rep.set_state("user", json.dumps(ME))
    rep.checkpoints.quiet_s = 60.0
    other = sqlite3.connect(path)  # another reader (QGIS): the close is not the last one
    try:
        assert other.execute("SELECT COUNT(*) FROM components").fetchone()[0] == 0
        rep.apply_changes(big_page(20_000), "big")
        frames, copied = wal_state(path)
        assert copied < frames
        started = time.monotonic()
        rep.close()
        assert time.monotonic() - started < 1.0  # the close does not wait for it
        assert rep.checkpoints.wait_idle(timeout=30)
        frames, copied = wal_state(path)
        assert copied == frames > 1000
        assert time.monotonic() - started < 30  # not the 60 s quiet time

        # Writes that never pause: past `urgent_bytes` each commit is checkpointed at once.
        rep = Replica(path)
        rep.checkpoints.quiet_s = 60.0
        rep.checkpoints.urgent_bytes = 1024 * 1024
        rep.apply_changes(big_page(20_000, start=20_000), "big2")
        assert rep.checkpoints.wait_idle(timeout=30)
        frames, copied = wal_state(path)
        assert copied == frames > 1000
        assert other.execute("SELECT COUNT(*) FROM components").fetchone()[0] == 40_000
        rep.close()
    finally:
        other.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_a_deleted_replica_is_not_made_again_by_its_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "gone.gpkg"
    rep = Replica(path)
    rep.checkpoints.quiet_s = 0.2
    rep.set_state("user", json.dumps(ME))
    rep.close()
    for suffix in ("", "-wal", "-shm"):  # a failed first login removes the new file
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert rep.checkpoints.wait_idle(timeout=30)
    assert not path.exists()


# The child: writes a large page (its commit returns), says so, then idles while its
# background checkpoint runs (at once: the WAL is past `urgent_bytes`); the test kills it at
# a random point of that checkpoint (it takes 0.05-0.3 s here).
KILLED_CHILD = r"""
import json, sys, time
from sync.replica import Replica
rep = Replica(sys.argv[1])
rep.set_state("user", sys.argv[2])
rep.checkpoints.quiet_s = 60.0
rep.checkpoints.urgent_bytes = 1024 * 1024
page = json.loads(sys.stdin.read())
rep.apply_changes(page, "killed")
print("committed", flush=True)
time.sleep(60)
"""


def test_a_replica_killed_during_its_background_checkpoint_keeps_every_commit(
    tmp_path: Path,
) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    rng = random.Random(7)
    page = json.dumps(big_page(15_000))
    for n in range(6):
        path = tmp_path / f"k{n}.gpkg"
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED_CHILD, str(path), json.dumps(ME)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(page)
        proc.stdin.close()
        assert proc.stdout.readline().strip() == "committed"
        time.sleep(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        rep = Replica(path)
        try:
            assert rep.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert rep.conn.execute("SELECT COUNT(*) FROM components").fetchone()[0] == 15_000
            assert rep.state("cursor") == "killed"
            assert (
                rep.conn.execute("SELECT COUNT(*) FROM rtree_components_geom").fetchone()[0]
                == 15_000
            )
        finally:
            rep.close()


# ----------------------------------------------------------------------------- task JSON


def test_a_pulled_task_is_stored_with_each_list_encoded_once(replica: Replica) -> None:
    t3 = "33333333-3333-4333-8333-333333333333"
    data = task(t3)
    data["photos"] = [{"sha256": "a" * 64, "role": "before", "taken_at": None}]
    data["history"] = [{"op_id": "o1", "type": "task.create", "payload": {"title": "垃圾"}}]
    plain = task(T2, "open", None)
    odd = {"history": [{"type": "task.comment"}]}  # the lists first, one of them null
    odd.update((k, v) for k, v in plain.items() if k != "history")
    odd["conflicts"] = None
    replica.apply_changes(
        [
            {"entity": "task", "id": t3, "op": "upsert", "data": data},
            {"entity": "task", "id": T2, "op": "upsert", "data": odd},
        ],
        cursor="c2",
    )
    row = replica.conn.execute(
        "SELECT server, photos, history, conflicts FROM tasks WHERE id = ?", (t3,)
    ).fetchone()
    # Lists last, as the hub sends a task: the same text json.dumps makes.
    assert row[0] == json.dumps(data, ensure_ascii=False)
    assert tuple(row[1:]) == tuple(
        json.dumps(data[k], ensure_ascii=False) for k in ("photos", "history", "conflicts")
    )
    row = replica.conn.execute(
        "SELECT server, photos, history, conflicts FROM tasks WHERE id = ?", (T2,)
    ).fetchone()
    assert json.loads(row[0]) == odd  # lists elsewhere, a null among them: the same task
    assert tuple(row[1:]) == ("[]", '[{"type": "task.comment"}]', "[]")
    assert replica.task(T2)["history"] == [{"type": "task.comment"}]
