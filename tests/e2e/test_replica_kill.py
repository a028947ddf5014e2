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
2. A replica being written by the client (offline actions and syncs on a thread) passes
   GDAL's GeoPackage validator, and QGIS opens its layers with the feature counts sqlite3
   reads.
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
LOG = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

def mark(text):
    os.write(LOG, ("%.6f %s\n" % (time.monotonic(), text)).encode())

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
    if "photos" in last or "mark_uploaded" in last:
        return "photo upload"
    if "push" in last:
        return "push"
    if "changes" in last or "pull" in last:
        return "pull"
    if "purge" in last:
        return "purge"
    return "between syncs"  # progress done, synced n


class OfflineWork:
    """The worker's offline actions between kills, and the office's changes on the hub."""

    def __init__(self, replica: Replica, hub: Any, rnd: random.Random) -> None:
        self.replica = replica
        self.hub = hub
        self.rnd = rnd
        self.op_ids: list[str] = []  # every op the device made, in order
        self.photos: list[str] = []  # every photo the device kept
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
        return item

    def _mine(self, *statuses: str) -> list[dict[str, Any]]:
        return [t for t in self.replica.tasks(list(statuses)) if t["assignee_id"] == WORKER]

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
            lon, lat = point_in_grid(self.hub, rnd, GRID)
            item = self._photo("before")
            self._act(
                lambda: self.replica.patrol_find(
                    rnd.choice(("litter", "bike_parking", "illegal_drying")),
                    lon,
                    lat,
                    self_fix=True,
                    photos=[item],
                    title="巡查发现",
                )
            )
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
    kill_after: float | None,
    *,
    from_spawn: bool = False,
) -> tuple[bool, list[str], float]:
    """Runs one life of the child; kills it `kill_after` seconds after it is ready (or after
    its spawn). Returns (killed, markers, seconds from spawn to ready)."""
    log.write_bytes(b"")
    spawned = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(script), str(replica_path), str(log), str(rounds)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if kill_after is not None and from_spawn:
            time.sleep(kill_after)
        elif kill_after is not None:
            deadline = spawned + 30
            while b" ready\n" not in log.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.002)
            time.sleep(kill_after)
        killed = False
        if kill_after is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    markers = log.read_text().splitlines()
    if killed:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 0, err.decode(errors="replace")
    startup = 0.0
    times = {line.split(" ", 1)[1]: float(line.split(" ", 1)[0]) for line in markers}
    if "boot" in times and "ready" in times:
        startup = times["ready"] - times["boot"]
    return killed, markers, startup


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

    # Measure: a child life syncing a typical round (office changes, ops, two photos).
    work.office_round(creates=20)
    work.device_round(photos=True)
    killed, markers, startup = run_child(script, replica_path, log, 1, None)
    times = {m.split(" ", 1)[1]: float(m.split(" ", 1)[0]) for m in markers}
    sync_s = times["synced 0"] - times["sync 0"]
    assert not killed and replica.pending_count() == 0

    target_kills = 110
    kills: Counter[str] = Counter()
    last_markers: Counter[str] = Counter()
    lives = 0
    survived = 0
    while sum(kills.values()) < target_kills:
        lives += 1
        assert lives < 400, (kills, survived)
        # Something to push, to upload and to pull in most lives.
        roll = rnd.random()
        work.device_round(photos=roll < 0.45)
        if roll > 0.6:
            work.office_round(creates=rnd.choice((0, 5, 30, 80)))
        pick = rnd.random()
        if pick < 0.05:  # during interpreter start and the replica's opening
            kill_after, from_spawn = rnd.uniform(0, startup + 0.3), True
        elif pick < 0.2:  # at once
            kill_after, from_spawn = rnd.uniform(0, 0.003), False
        else:  # anywhere in the sync (or the next, light one)
            kill_after, from_spawn = rnd.uniform(0, sync_s * 1.3), False
        killed, markers, _ = run_child(
            script, replica_path, log, 3, kill_after, from_spawn=from_spawn
        )
        if not killed:
            survived += 1
            continue
        kills[phase_of(markers)] += 1
        last_markers[markers[-1].split(" ", 1)[1] if markers else "spawn"] += 1
        # After every kill: the file is sound, and no op or photo has gone missing: an op
        # that left the outbox is in the hub's ledger, a photo that left the device is held.
        assert replica.conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        waiting = {o["op_id"] for o in replica.outbox()}
        ledger = _ledger(hub, work.op_ids)
        assert [o for o in work.op_ids if o not in waiting and o not in ledger] == []
        kept = {r[0] for r in replica.conn.execute("SELECT sha256 FROM photos")}
        assert [s for s in work.photos if s not in kept and not hub.photos.path(s).exists()] == []
    loop_s = time.monotonic() - started

    # One clean sync, then the whole account.
    final = sync_once(replica, HubClient(live_hub.url, token=replica.state("token")))
    assert replica.outbox() == [] and replica.pending_count() == 0, final

    histories: Counter[str] = Counter()
    for (history,) in hub.store.reader.execute("SELECT history FROM tasks"):
        histories.update(h["op_id"] for h in json.loads(history))
    refused = Counter(c["op_id"] for c in hub.store.list_conflicts(hub.store.user(WORKER), 5000))
    made = Counter(work.op_ids)
    assert set(made.values()) == {1}
    assert {o: histories[o] + refused[o] for o in made} == dict.fromkeys(made, 1)
    ledger_rows = hub.store.reader.execute(
        "SELECT op_id, COUNT(*) FROM ops WHERE actor_id = ? AND device_id = ? GROUP BY op_id",
        (WORKER, replica.device_id),
    ).fetchall()
    assert {r[0]: r[1] for r in ledger_rows} == dict.fromkeys(made, 1)

    photo_files = [p for p in (hub.photos.root).glob("??/*") if p.is_file()]
    for path in photo_files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, path
    held = {p.name for p in photo_files}
    assert set(work.photos) <= held
    assert all(hub.store.photo_record(s) is not None for s in work.photos)
    assert list(hub.photos.partial.iterdir()) == []  # no upload left half-way
    for sha, data in replica.conn.execute("SELECT sha256, data FROM photos"):
        assert hashlib.sha256(data).hexdigest() == sha

    assert replica.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert replica.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    on_hub = {t["id"]: t for t in hub.store.list_tasks(hub.store.user(WORKER), limit=10000)}
    local = {t["id"]: t for t in replica.tasks()}
    assert set(local) == set(on_hub)
    assert {k: (t["status"], t["version"]) for k, t in local.items()} == {
        k: (t["status"], t["version"]) for k, t in on_hub.items()
    }

    report = {
        "kills": sum(kills.values()),
        "where": dict(kills),
        "survived": survived,
        "lives": lives,
        "ops": len(made),
        "refused_by_hub": sum(1 for o in made if refused[o]),
        "refused_on_device": work.refused_locally,
        "photos": len(work.photos),
        "sync_s": round(sync_s, 3),
        "startup_s": round(startup, 3),
        "loop_s": round(loop_s, 1),
        "last_markers": dict(last_markers.most_common()),
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    assert kills["photo upload"] >= 5 and kills["push"] >= 5 and kills["pull"] >= 5, report


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
