"""A device's sync killed anywhere, and a replica read by QGIS and GDAL while it is written.

1. SIGKILL loop (DESIGN.md "Exactly once ... a client killed mid-sync"): a child process
   opens a worker's replica and syncs in a loop; the test kills it with SIGKILL after a
   seeded random delay, over and over (at least 100 kills), adding offline work (comments,
   patrol finds with photos, start, submit) to the replica between kills while the office
   changes the worker's tasks on the hub, so every life has something to push and to pull.
   The child logs phase markers (progress callback, each HTTP request, each local commit
   step) to a file, so the test knows where each kill landed. Finally one clean sync: the
   outbox is empty, every op made on the device is applied or refused exactly once (task
   histories and the sender's conflicts; the hub's ledger), every photo on the hub hashes to
   its name, and the replica passes `PRAGMA integrity_check`.
   A deterministic complement kills the child exactly at each step boundary of a sync.
2. A replica being written by the client (offline actions and syncs on a thread) passes
   GDAL's GeoPackage validator (on SQLite backup copies taken while it is written, and on
   the file itself once closed), and QGIS opens its layers with the feature counts sqlite3
   reads.
3. A refusal whose first answer was lost (the device killed right after the hub answered)
   still reaches the device's `refusals` (found by the loop; fixed in 86a92d7).
4. A replica in use is a GeoPackage on disk: its header is in the file, not only in the WAL.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import LiveHub, op
from test_replica_sync import centre, device

from sync import geo
from sync.client import HubClient
from sync.replica import Refused, Replica
from sync.syncjob import sync_once

WORKER = "jsl-worker-03"
GRID = "JSL-03"
OTHER_WORKER = "jsl-worker-04"
ACTIVE = ("assigned", "in_progress", "paused", "rework", "submitted", "reported", "declined")

# The child: opens the replica, then syncs `rounds` times, writing a marker line (monotonic
# time, what it is about to do or has just done) before and after every step that talks to
# the hub or commits to the replica. Markers go straight to a file with os.write: a SIGKILL
# loses nothing written before it, so the last line says where the kill landed.
CHILD = r"""
import os, sys, time
import signal
LOG = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
DIE_AT, _, NTH = (sys.argv[4] if len(sys.argv) > 4 else "").partition("#")
SEEN = [0]

def mark(text):
    os.write(LOG, ("%.6f %s\n" % (time.monotonic(), text)).encode())
    if text == DIE_AT:
        SEEN[0] += 1
        if SEEN[0] == int(NTH or 1):
            os.kill(os.getpid(), signal.SIGKILL)

mark("boot")
from sync.client import HubClient
from sync.replica import Replica
from sync.syncjob import sync_once


class TracedClient(HubClient):
    def _request(self, method, path, **kwargs):
        what = path.split("/api/v1/", 1)[-1]
        if what.startswith("photos/"):
            what = "photos"
        mark("req %s %s" % (method, what))
        resp = super()._request(method, path, **kwargs)
        mark("resp %s %s %s" % (method, what, resp.status_code))
        return resp


def traced(name, call):
    def wrapper(*args, **kwargs):
        mark("begin " + name)
        out = call(*args, **kwargs)
        mark("end " + name)
        return out
    return wrapper


replica = Replica(sys.argv[1])
for name in ("apply_push_results", "apply_changes", "mark_uploaded", "purge_photos"):
    setattr(replica, name, traced(name, getattr(replica, name)))
client = TracedClient(replica.state("hub_url"), token=replica.state("token"), retries=1,
                      backoff_s=0.01)
mark("ready")
for n in range(int(sys.argv[3])):
    mark("sync %d" % n)
    sync_once(replica, client, lambda phase, done, total: mark("progress %s %d/%d" % (
        phase, done, total)))
    mark("synced %d" % n)
mark("exit")
"""


def noisy_jpeg(rnd: random.Random, size: tuple[int, int] = (2000, 1500)) -> bytes:
    """A camera-sized JPEG whose noise keeps it a few hundred KB after the device's 1600 px
    downsizing (so it goes up in two or three resumable pieces)."""
    from PIL import Image

    base = Image.new("RGB", size, tuple(rnd.randrange(256) for _ in range(3)))
    noise = Image.effect_noise(size, rnd.choice((20, 30, 40))).convert("RGB")
    out = io.BytesIO()
    Image.blend(base, noise, 0.5).save(out, "JPEG", quality=90)
    return out.getvalue()


def point_in_grid(hub: Any, rnd: random.Random, code: str) -> tuple[float, float]:
    minx, miny, maxx, maxy = geo.bbox(hub.store.get_grid(code)["geometry"])
    for _ in range(200):
        lon, lat = rnd.uniform(minx, maxx), rnd.uniform(miny, maxy)
        found = hub.store.locate(lon, lat)
        if found and found[0] == code:
            return round(lon, 7), round(lat, 7)
    return centre(hub, code)


def phase_of(markers: list[str]) -> str:
    """Where a kill landed, from the child's last marker."""
    last = markers[-1].split(" ", 1)[1] if markers else "spawn"
    if last in ("spawn", "boot"):
        return "startup"  # interpreter, imports, opening the replica
    if last == "ready" or last.startswith("sync "):
        return "sync start"
    if "purge_photos" in last:
        return "purge"
    if "photo" in last or "mark_uploaded" in last:  # photos, photo_bytes
        return "photo upload"
    if "push" in last:
        return "push"
    if "changes" in last or "pull" in last:
        return "pull"
    return "after a whole sync"  # progress done, synced n, exit


def inside_commit(markers: list[str]) -> bool:
    """Killed between a replica step's begin and end (its transaction may or may not have
    committed)."""
    return bool(markers) and markers[-1].split(" ", 1)[1].startswith("begin ")


class OfflineWork:
    """The worker's offline actions between kills, and the office's changes on the hub."""

    def __init__(self, replica: Replica, hub: Any, rnd: random.Random) -> None:
        self.replica = replica
        self.hub = hub
        self.rnd = rnd
        self.op_ids: list[str] = []  # every op the device made, in order
        self.photos: list[str] = []  # every photo the device kept
        self.photo_sizes: list[int] = []
        self.refused_locally = 0
        self.office = hub.store.user("jsl-dispatcher")
        self.supervisor = hub.store.user("jsl-supervisor")

    def _act(self, action: Callable[[], Any]) -> bool:
        before = {o["op_id"] for o in self.replica.outbox()}
        try:
            action()
        except Refused:
            self.refused_locally += 1
            return False
        made = [o["op_id"] for o in self.replica.outbox() if o["op_id"] not in before]
        assert len(made) == 1, made
        self.op_ids.append(made[0])
        return True

    def _photo(self, role: str) -> dict[str, Any]:
        lon, lat = point_in_grid(self.hub, self.rnd, GRID)
        item = self.replica.add_photo(noisy_jpeg(self.rnd), role, lon=lon, lat=lat)
        self.photos.append(item["sha256"])
        self.photo_sizes.append(len(self.replica.photo_bytes(item["sha256"]) or b""))
        return item

    def _mine(self, *statuses: str) -> list[dict[str, Any]]:
        return [t for t in self.replica.tasks(list(statuses)) if t["assignee_id"] == WORKER]

    def patrol(self) -> None:
        """A patrol find, fixed on the spot, with a photo."""
        lon, lat = point_in_grid(self.hub, self.rnd, GRID)
        item = self._photo("before")
        kind = self.rnd.choice(("litter", "bike_parking", "illegal_drying"))
        self._act(
            lambda: self.replica.patrol_find(
                kind, lon, lat, self_fix=True, photos=[item], title="巡查发现"
            )
        )

    def device_round(self, photos: bool) -> None:
        rnd = self.rnd
        active = [
            t
            for t in self.replica.tasks(list(ACTIVE))
            if WORKER in (t["assignee_id"], t["reporter_id"])
        ]
        for task in rnd.sample(active, min(len(active), rnd.randint(1, 3))):
            self._act(lambda t=task: self.replica.comment(t["id"], f"到场查看 {rnd.random():.4f}"))
        for task in rnd.sample(self._mine("assigned", "rework"), 1)[:1]:
            self._act(lambda t=task: self.replica.start(t["id"]))
        if not photos:
            return
        if rnd.random() < 0.5:
            self.patrol()
        working = self._mine("in_progress")
        if working:
            task = rnd.choice(working)
            item = self._photo("after")
            self._act(lambda: self.replica.submit(task["id"], [item], note="已处理", accuracy_m=5))

    def office_round(self, creates: int) -> None:
        """New tasks for the worker, edits, reviews, and now and then a conflict: a task the
        device has ops waiting on is canceled or reassigned (its ops will be refused)."""
        rnd, store = self.rnd, self.hub.store
        ops = []
        for _ in range(creates):
            lon, lat = point_in_grid(self.hub, rnd, GRID)
            ops.append(
                op(
                    "task.create",
                    kind=rnd.choice(("litter", "waterlogging", "streetlight_out")),
                    lon=lon,
                    lat=lat,
                    assignee_id=WORKER,
                    title=f"派单 {rnd.randrange(10**6)}",
                    priority=rnd.choice(("urgent", "high", "normal", "low")),
                )
            )
        mine = store.list_tasks(store.user(WORKER), limit=5000)
        for task in rnd.sample(mine, min(len(mine), 3)):
            ops.append(op("task.update", task["id"], description=f"补充 {rnd.random():.5f}"))
        waiting = {o["task_id"] for o in self.replica.outbox()}
        hub_ids = {t["id"] for t in mine if t["status"] in ACTIVE}
        targets = sorted(waiting & hub_ids)
        if targets and rnd.random() < 0.5:
            task_id = rnd.choice(targets)
            if rnd.random() < 0.5:
                ops.append(op("task.cancel", task_id, reason="重复派单"))
            else:
                ops.append(op("task.assign", task_id, assignee_id=OTHER_WORKER))
        results = store.push(self.office, "office-desk", ops)
        assert all(r["status"] in ("applied", "rejected") for r in results), results
        submitted = [t for t in mine if t["status"] == "submitted"]
        reviews = [
            op("task.confirm", t["id"], note="合格")
            if rnd.random() < 0.5
            else op("task.reject", t["id"], comment="请补拍")
            for t in rnd.sample(submitted, min(len(submitted), 2))
        ]
        if reviews:
            store.push(self.supervisor, "review-desk", reviews)


def run_child(
    script: Path,
    replica_path: Path,
    log: Path,
    rounds: int,
    kill: tuple[str, float, str] | None = None,
    die_at: str | None = None,
) -> tuple[bool, list[str]]:
    """Runs one life of the child and returns (killed, its markers).

    `kill` is (mode, seconds, marker): SIGKILL `seconds` after the spawn (`spawn`), after
    the child is ready (`ready`), or after `marker` first appears in its log (`marker`).
    `die_at` ("marker" or "marker#n"): the child kills itself with SIGKILL on writing that
    marker (the n-th time): a kill at an exact step. Without either, the child must finish
    its rounds."""
    log.write_bytes(b"")
    args = [sys.executable, str(script), str(replica_path), str(log), str(rounds)]
    proc = subprocess.Popen(
        [*args, die_at] if die_at else args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    killed = False
    try:
        if kill is not None:
            mode, seconds, marker = kill
            wanted = {"spawn": None, "ready": b" ready\n", "marker": f" {marker}".encode()}[mode]
            deadline = time.monotonic() + 60
            while wanted is not None and wanted not in log.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.0005)
            time.sleep(seconds)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if die_at is not None and proc.returncode == -signal.SIGKILL:
        killed = True
    if killed and proc.returncode == 0:
        # It finished between the poll and the signal (the kill hit a zombie): a whole life.
        killed = False
    if killed:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 0, err.decode(errors="replace")
    return killed, log.read_text().splitlines()


def marker_times(markers: list[str]) -> dict[str, float]:
    return {m.split(" ", 1)[1]: float(m.split(" ", 1)[0]) for m in markers}


# Kills aimed at a step: (marker that starts it, longest delay after it, needs photos).
AIMED = (
    ("req PUT photos", 0.010, True),  # a piece in flight
    ("resp PUT photos 202", 0.002, True),  # between pieces
    ("begin mark_uploaded", 0.002, True),
    ("req POST sync/push", 0.006, False),  # the hub may or may not have committed
    ("resp POST sync/push 200", 0.003, False),  # answered, being taken in
    ("req GET sync/changes", 0.006, False),
    ("begin apply_changes", 0.006, False),
    ("begin purge_photos", 0.002, False),
)


@pytest.mark.slow
def test_sigkill_anywhere_in_sync_loses_nothing_and_applies_nothing_twice(
    live_hub: LiveHub, tmp_path: Path
) -> None:
    hub = live_hub.hub
    rnd = random.Random(20260601)
    replica, client = device(tmp_path, live_hub.url, WORKER)
    sync_once(replica, client)  # bootstrap: feed snapshot, extract
    replica_path = Path(replica.path)
    script = tmp_path / "sync_child.py"
    script.write_text(CHILD)
    log = tmp_path / "child.log"
    work = OfflineWork(replica, hub, rnd)
    started = time.monotonic()

    # Measure: a life that only starts (interpreter, imports, opening the replica), and a
    # life syncing a typical round (office changes, a few ops, two photos).
    spawned = time.monotonic()
    run_child(script, replica_path, log, 0)
    startup_s = time.monotonic() - spawned
    work.office_round(creates=20)
    work.device_round(photos=True)
    _killed, markers = run_child(script, replica_path, log, 1)
    times = marker_times(markers)
    sync_s = times["synced 0"] - times["sync 0"]
    assert replica.pending_count() == 0

    target_kills = 120
    kills: Counter[str] = Counter()
    how: Counter[str] = Counter()
    last_markers: Counter[str] = Counter()
    in_commit = 0
    lives = survived = 0
    while sum(kills.values()) < target_kills:
        lives += 1
        assert lives < 400, (kills, survived)
        # Something to push in every life; photos to upload in about half; changes to pull
        # (sometimes a lot of them) in about half.
        roll = rnd.random()
        work.device_round(photos=roll < 0.5)
        if roll > 0.45:
            work.office_round(creates=rnd.choice((0, 5, 30, 120)))
        photos_waiting = bool(replica.photos_to_upload())
        pick = rnd.random()
        if pick < 0.05:  # while the interpreter starts and the replica opens
            kill = ("spawn", rnd.uniform(0, startup_s), "")
        elif pick < 0.15:  # as soon as it is ready: very short delays
            kill = ("ready", rnd.uniform(0, 0.003), "")
        elif pick < 0.6:  # anywhere in the sync (or in the next, lighter one)
            kill = ("ready", rnd.uniform(0, sync_s * 1.5), "")
        else:  # aimed at one step, at a random point inside it
            marker, longest, _ = rnd.choice([a for a in AIMED if photos_waiting or not a[2]])
            kill = ("marker", rnd.uniform(0, longest), marker)
        killed, markers = run_child(script, replica_path, log, 3, kill)
        if not killed:
            survived += 1
            continue
        kills[phase_of(markers)] += 1
        how[kill[0]] += 1
        in_commit += inside_commit(markers)
        last_markers[markers[-1].split(" ", 1)[1] if markers else "spawn"] += 1
        check_after_kill(hub, replica, work)
    loop_s = time.monotonic() - started

    # One clean sync, then the whole account.
    final = sync_once(replica, HubClient(live_hub.url, token=replica.state("token")))
    assert replica.outbox() == [] and replica.pending_count() == 0, final
    refused = check_exactly_once(hub, replica, work)

    report = {
        "kills": sum(kills.values()),
        "where": dict(kills),
        "how": dict(how),
        "inside_a_replica_commit_step": in_commit,
        "survived": survived,
        "lives": lives,
        "ops": len(work.op_ids),
        "refused_by_hub": len(refused),
        "refused_on_device": work.refused_locally,
        "photos": len(work.photos),
        "photo_kb": [min(work.photo_sizes) // 1024, max(work.photo_sizes) // 1024],
        "sync_s": round(sync_s, 3),
        "startup_s": round(startup_s, 3),
        "loop_s": round(loop_s, 1),
        "last_markers": dict(last_markers.most_common()),
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    assert kills["photo upload"] >= 5 and kills["push"] >= 5 and kills["pull"] >= 5, report


def check_after_kill(hub: Any, replica: Replica, work: OfflineWork) -> None:
    """The file is sound, and nothing has gone missing: an op that left the outbox is in
    the hub's ledger, a photo that left the device is on the hub."""
    assert replica.conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    waiting = {o["op_id"] for o in replica.outbox()}
    ledger = _ledger(hub, work.op_ids)
    assert [o for o in work.op_ids if o not in waiting and o not in ledger] == []
    kept = {r[0] for r in replica.conn.execute("SELECT sha256 FROM photos")}
    assert [s for s in work.photos if s not in kept and not hub.photos.path(s).exists()] == []


def check_exactly_once(hub: Any, replica: Replica, work: OfflineWork) -> Counter[str]:
    """After a clean sync: every op the device made is applied (in one task's history) or
    refused (in the sender's conflicts) exactly once and in the ledger once; every photo on
    the hub hashes to its name and the device's are all there; the replica is intact and
    shows what the hub shows. Returns the refused op ids."""
    histories: Counter[str] = Counter()
    conflicts: Counter[str] = Counter()
    for history, kept in hub.store.reader.execute("SELECT history, conflicts FROM tasks"):
        histories.update(h["op_id"] for h in json.loads(history))
        conflicts.update(c["op_id"] for c in json.loads(kept))
    refused = Counter(c["op_id"] for c in hub.store.list_conflicts(hub.store.user(WORKER), 5000))
    made = Counter(work.op_ids)
    assert set(made.values()) <= {1}
    assert {o: histories[o] + refused[o] for o in made} == dict.fromkeys(made, 1)
    assert all(conflicts[o] <= 1 and histories[o] == 0 for o in refused)
    # ... and the device knows of every refusal, even one whose first answer it never read.
    assert set(refused) <= {r["op_id"] for r in replica.refusals()}
    ledger = hub.store.reader.execute(
        "SELECT op_id, COUNT(*) FROM ops WHERE actor_id = ? AND device_id = ? GROUP BY op_id",
        (WORKER, replica.device_id),
    ).fetchall()
    assert {r[0]: r[1] for r in ledger} == dict.fromkeys(made, 1)

    photo_files = [p for p in hub.photos.root.glob("??/*") if p.is_file()]
    for path in photo_files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, path
    assert set(work.photos) <= {p.name for p in photo_files}
    assert all(hub.store.photo_record(s) is not None for s in work.photos)
    assert list(hub.photos.partial.iterdir()) == []  # no upload left half-way
    for sha, data in replica.conn.execute("SELECT sha256, data FROM photos"):
        assert hashlib.sha256(data).hexdigest() == sha

    assert replica.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert replica.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    on_hub = {t["id"]: t for t in hub.store.list_tasks(hub.store.user(WORKER), limit=10000)}
    local = {t["id"]: t for t in replica.tasks()}
    assert {k: (t["status"], t["version"], t["pending"]) for k, t in local.items()} == {
        k: (t["status"], t["version"], 0) for k, t in on_hub.items()
    }
    return refused


def _ledger(hub: Any, op_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(op_ids), 500):
        chunk = op_ids[start : start + 500]
        found.update(
            r[0]
            for r in hub.store.reader.execute(
                f"SELECT op_id FROM ops WHERE op_id IN ({','.join('?' * len(chunk))})", chunk
            )
        )
    return found


# ---------------------------------------------------------------------- kill at exact steps


def _kill_setup(live_hub: LiveHub, tmp_path: Path) -> tuple[Replica, HubClient, Path, Path]:
    replica, client = device(tmp_path, live_hub.url, WORKER)
    sync_once(replica, client)
    script = tmp_path / "sync_child.py"
    script.write_text(CHILD)
    return replica, client, script, tmp_path / "child.log"


# Every step boundary of a sync, in order (the n-th time for a photo's second piece).
STEPS = (
    "ready",
    "req HEAD photos",
    "resp HEAD photos 404",
    "req PUT photos",
    "resp PUT photos 202",
    "req PUT photos#2",
    "resp PUT photos 201",
    "begin mark_uploaded",
    "end mark_uploaded",
    "req POST sync/push",
    "resp POST sync/push 200",
    "begin apply_push_results",
    "end apply_push_results",
    "req GET sync/changes",
    "resp GET sync/changes 200",
    "begin apply_changes",
    "end apply_changes",
    "begin purge_photos",
    "end purge_photos",
    "synced 0",
)


def test_sigkill_at_every_step_of_a_sync_then_resume(live_hub: LiveHub, tmp_path: Path) -> None:
    """Deterministic complement of the loop: the child kills itself exactly at each step
    boundary (before a request, after its answer, before and after each local commit), with
    a photo to upload, ops to push and office changes to pull; the next life resumes."""
    hub = live_hub.hub
    replica, _client, script, log = _kill_setup(live_hub, tmp_path)
    work = OfflineWork(replica, hub, random.Random(7))
    for step in STEPS:
        work.office_round(creates=5)
        work.device_round(photos=True)
        work.patrol()
        killed, markers = run_child(script, Path(replica.path), log, 1, die_at=step)
        assert killed, f"the sync never reached {step!r}"
        assert markers[-1].split(" ", 1)[1] == step.split("#")[0]
        check_after_kill(hub, replica, work)
        run_child(script, Path(replica.path), log, 1)
        assert replica.outbox() == [], step
    check_exactly_once(hub, replica, work)


def test_a_refusal_whose_answer_was_lost_still_reaches_the_device(
    live_hub: LiveHub, tmp_path: Path
) -> None:
    hub = live_hub.hub
    replica, client, script, log = _kill_setup(live_hub, tmp_path)
    task = next(t for t in replica.tasks(["assigned"]) if t["assignee_id"] == WORKER)
    replica.comment(task["id"], "到场")
    (sent,) = [o["op_id"] for o in replica.outbox()]
    # The office reassigns the task meanwhile: the hub will refuse the comment.
    office = hub.store.user("jsl-dispatcher")
    hub.store.push(office, "desk", [op("task.assign", task["id"], assignee_id=OTHER_WORKER)])
    # The device dies right after the hub answered the push, before taking the answer in.
    killed, markers = run_child(
        script, Path(replica.path), log, 1, die_at="begin apply_push_results"
    )
    assert killed and markers[-2].split(" ", 1)[1] == "resp POST sync/push 200"
    sync_once(replica, client)
    assert replica.outbox() == []
    assert [c["op_id"] for c in hub.store.list_conflicts(hub.store.user(WORKER))] == [sent]
    # What the replica promises: a refused op is kept in `refusals` until the user saw it.
    assert [r["op_id"] for r in replica.refusals()] == [sent]


# ---------------------------------------------------------------------- QGIS and GDAL

LAYERS = ("tasks", "components", "grids", "pipelines", "areas")


def _qgis_core() -> Any:
    core = pytest.importorskip("qgis.core")
    if core.QgsApplication.instance() is None:
        from qgis.testing import start_app

        start_app()
    return core


def _counts(path: str) -> dict[str, int]:
    """Rows per layer, read with plain sqlite3 in one read transaction."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("BEGIN")
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in LAYERS}
    finally:
        conn.close()


def _backup(path: str, dest: Path) -> str:
    """A consistent copy of a live replica through SQLite's backup API."""
    src, dst = sqlite3.connect(path), sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return str(dest)


def _validate(path: str) -> list[Any]:
    validate_gpkg = pytest.importorskip("osgeo_utils.samples.validate_gpkg")
    return list(
        validate_gpkg.check(
            path,
            abort_at_first_error=False,
            extra_checks=True,
            warning_as_error=True,
            warning_msg=False,
        )
    )


class OfficeWriter(threading.Thread):
    """The office client at work on its replica: tasks created, edited, commented and
    assigned offline, and a sync every few actions, until stopped."""

    def __init__(self, replica: Replica, client: HubClient, points: list[Any]) -> None:
        super().__init__(name="office-writer", daemon=True)
        self.replica = replica
        self.client = client
        self.points = points
        self.stop = threading.Event()
        self.actions = self.syncs = self.refused = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set():
                code, (lon, lat) = self.points[n % len(self.points)]
                worker = f"jsl-worker-{code[-2:]}"
                n += 1
                try:
                    made = self.replica.create_task(
                        "litter", lon, lat, title=f"办公室派单 {n}", priority="high"
                    )
                    self.replica.comment(made["id"], "请尽快处理")
                    self.replica.update_task(made["id"], description=f"第 {n} 单")
                    self.replica.assign(made["id"], worker)
                    self.actions += 4
                except Refused:
                    self.refused += 1
                if n % 4 == 0:
                    sync_once(self.replica, self.client)
                    self.syncs += 1
        except BaseException as err:  # handed to the test
            self.error = err


def test_replica_being_written_opens_in_qgis_and_passes_the_gdal_validator(
    live_hub: LiveHub, tmp_path: Path
) -> None:
    core = _qgis_core()
    pytest.importorskip("osgeo_utils.samples.validate_gpkg")
    hub = live_hub.hub
    rnd = random.Random(11)
    replica, client = device(tmp_path, live_hub.url, "jsl-dispatcher")
    sync_once(replica, client)
    path = replica.path
    points = [
        (code, point_in_grid(hub, rnd, code))
        for code in (f"JSL-{rnd.randint(1, 12):02d}" for _ in range(100))
    ]
    schema_before = _schema(path)
    live_errors = [_validate(path)]  # just bootstrapped
    writer = OfficeWriter(replica, client, points)
    writer.start()
    try:
        for n in range(6):
            time.sleep(0.3)
            assert writer.error is None and writer.is_alive()
            # GDAL's validator on the file as it is being written, then on a backup copy.
            live_errors.append(_validate(path))
            assert _validate(_backup(path, tmp_path / f"copy{n}.gpkg")) == []
            # QGIS loads every layer; its counts match sqlite3's read just before and after
            # (tasks only grow while the office writes; the twin layers do not change).
            before = _counts(path)
            layers = {t: core.QgsVectorLayer(f"{path}|layername={t}", t, "ogr") for t in LAYERS}
            loaded = {t: (lyr.isValid(), lyr.featureCount()) for t, lyr in layers.items()}
            del layers
            after = _counts(path)
            assert all(valid for valid, _ in loaded.values()), loaded
            for t in LAYERS:
                assert before[t] <= loaded[t][1] <= after[t], (t, before, loaded, after)
            assert {t: before[t] for t in LAYERS if t != "tasks"} == {
                t: after[t] for t in LAYERS if t != "tasks"
            }
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    assert writer.actions >= 40 and writer.syncs >= 5, vars(writer)
    sync_once(replica, client)
    assert replica.pending_count() == 0

    # The writer has stopped (the replica still open): exact counts, and QGIS wrote nothing.
    counts = _counts(path)
    for t in LAYERS:
        layer = core.QgsVectorLayer(f"{path}|layername={t}", t, "ogr")
        assert layer.isValid() and layer.featureCount() == counts[t], t
        del layer
    assert counts["tasks"] == len(
        hub.store.list_tasks(hub.store.user("jsl-dispatcher"), limit=9999)
    )
    assert _schema(path) == schema_before
    assert _validate(_backup(path, tmp_path / "final.gpkg")) == []
    replica.close()
    assert _validate(path) == []
    # The live file too, read by GDAL's validator while the client wrote it.
    assert live_errors == [[]] * len(live_errors), live_errors
    print(
        json.dumps(
            {
                "writer": {k: getattr(writer, k) for k in ("actions", "syncs", "refused")},
                "live_file_validator_errors": live_errors,
                "counts": counts,
            },
            ensure_ascii=False,
        )
    )


def _schema(path: str) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute("SELECT type, name FROM sqlite_master").fetchall())
    finally:
        conn.close()


def test_a_replica_in_use_is_a_geopackage_on_disk(live_hub: LiveHub, tmp_path: Path) -> None:
    pytest.importorskip("osgeo_utils.samples.validate_gpkg")
    from osgeo import gdal, ogr

    replica, client = device(tmp_path, live_hub.url, WORKER)
    sync_once(replica, client)
    messages: list[str] = []
    gdal.PushErrorHandler(lambda _cls, _no, msg: messages.append(msg))
    try:
        opened = ogr.Open(replica.path)
        assert opened is not None and opened.GetLayerByName("tasks") is not None
        opened = None
    finally:
        gdal.PopErrorHandler()
    header = Path(replica.path).read_bytes()[:100]
    assert (header[68:72], int.from_bytes(header[60:64], "big")) == (b"GPKG", 10300)
    assert _validate(replica.path) == []
    assert messages == []
