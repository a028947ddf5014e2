"""Replicas converge with the hub: offline work on several devices, synced in any order,
through a network that drops connections, with photos uploaded in resumable pieces.

1. Two workers, a dispatcher and a supervisor each bootstrap a replica, then work offline
   (creates in two grids, assignments, starts, pauses, fixes with photos, patrol finds,
   comments, confirm/reject, a reassignment of a task a worker is on, claims and office
   edits that race) and sync in several orders, then once more. Every replica must equal
   the hub's state for its account's scope; every op is applied once or refused with the
   expected code and kept; nothing stays in an outbox.
2. A worker's replica syncs through `FaultProxy` (30% of connections dropped, half of them
   after the hub committed): `sync_once` is re-run until it goes through; every op is in
   the hub's histories and ledger exactly once and every photo is intact.
3. A large photo is cut off at seeded random byte offsets (mid-piece, or after the hub took
   a piece but before its answer came back), or stopped between pieces, and resumed: each
   resumption sends exactly the bytes the hub did not hold, from its `HEAD` offset.
4. A refusal whose answer was lost (the retry answers `duplicate` with the code) still
   reaches the device's `refusals`; the feed sends task positions exactly.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import random
import socket
import uuid
from collections import Counter
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

import pytest
import requests
from conftest import LiveHub
from faultproxy import FaultProxy
from test_replica_sync import camera_jpeg, centre, device, hub_view

from sync.client import HubClient, HubError, Offline
from sync.replica import Replica, utc_now
from sync.replica.schema import TASK_FIELDS, TASK_JSON_FIELDS
from sync.syncjob import login, sync_once

W3, W4 = "jsl-worker-03", "jsl-worker-04"
USERS = {"office": "jsl-dispatcher", "sup": "jsl-supervisor", "w3": W3, "w4": W4}


# ---------------------------------------------------------------------------- helpers


def spot(hub: Any, grid: str, k: int) -> tuple[float, float]:
    """The k-th point (a few tens of metres apart) around the centre of a grid."""
    lon, lat = centre(hub, grid)
    lon += 0.00015 * (k % 5 - 2)
    lat += 0.00015 * (k // 5 - 1)
    assert hub.store.locate(lon, lat) == (grid, "JSL")
    return lon, lat


def hub_op(op_type: str, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """An op as a desk client sends it straight to the hub."""
    return {
        "op_id": str(uuid.uuid4()),
        "type": op_type,
        "task_id": task_id,
        "at": utc_now(),
        "payload": payload,
    }


def last_op(replica: Replica) -> str:
    """The op_id of the action just done on this replica."""
    return str(replica.outbox()[-1]["op_id"])


def summary(task: dict[str, Any]) -> dict[str, Any]:
    """What must match: status, assignee, version, photo hashes, history and conflict op_ids."""
    return {
        "status": task["status"],
        "assignee_id": task["assignee_id"],
        "version": task["version"],
        "photos": [p["sha256"] for p in task["photos"]],
        "history": [h["op_id"] for h in task["history"]],
        "conflicts": [c["op_id"] for c in task["conflicts"]],
    }


def fields(task: dict[str, Any]) -> dict[str, Any]:
    """Every field the replica keeps of a task but its position (see `position`)."""
    return {k: task.get(k) for k in (*TASK_FIELDS, *TASK_JSON_FIELDS) if k not in ("lon", "lat")}


def position(task: dict[str, Any]) -> Any:
    """The position to 1e-9 degrees (0.1 mm): the feed rounds it at the 15th significant
    digit (see `test_feed_sends_task_positions_exactly`)."""
    return pytest.approx((task["lon"], task["lat"]), abs=1e-9)


def assert_converged(replica: Replica, hub: Any, username: str) -> None:
    """The replica shows exactly the hub's tasks for this account, as the hub has them."""
    expected = hub_view(hub, username)
    local = {t["id"]: t for t in replica.tasks()}
    assert set(local) == set(expected), (
        username,
        "only on the device:",
        set(local) - set(expected),
        "only on the hub:",
        set(expected) - set(local),
    )
    for task_id, want in expected.items():
        assert summary(local[task_id]) == summary(want), (username, task_id)
        assert fields(local[task_id]) == fields(want), (username, task_id)
        assert (local[task_id]["lon"], local[task_id]["lat"]) == position(want)
    assert replica.outbox() == []
    assert [t["id"] for t in local.values() if t["pending"]] == []


def hub_op_counts(hub: Any) -> tuple[Counter[str], Counter[str]]:
    """How often each op_id occurs in the hub's task histories, and in their conflicts."""
    history: Counter[str] = Counter()
    conflicts: Counter[str] = Counter()
    for hist, confl in hub.store.reader.execute("SELECT history, conflicts FROM tasks"):
        history.update(h["op_id"] for h in json.loads(hist))
        conflicts.update(c["op_id"] for c in json.loads(confl))
    return history, conflicts


def ledger(hub: Any, op_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The hub's `ops` rows for these op_ids, by op_id (each should hold one)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(op_ids), 500):
        chunk = op_ids[start : start + 500]
        rows = hub.store.reader.execute(
            "SELECT op_id, actor_id, device_id, status, code FROM ops "
            f"WHERE op_id IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
        for row in rows:
            out.setdefault(row[0], []).append(
                {"actor_id": row[1], "device_id": row[2], "status": row[3], "code": row[4]}
            )
    return out


def noisy_jpeg(seed: int, size: tuple[int, int], grain: tuple[int, int], quality: int) -> bytes:
    """A JPEG of smoothed random noise (seeded): it stays large once compressed."""
    from PIL import Image

    rng = random.Random(seed)
    bilinear = getattr(Image, "Resampling", Image).BILINEAR
    channels = [
        Image.frombytes("L", grain, rng.randbytes(grain[0] * grain[1])).resize(size, bilinear)
        for _ in range(3)
    ]
    out = io.BytesIO()
    Image.merge("RGB", channels).save(out, "JPEG", quality=quality)
    return out.getvalue()


# ---------------------------------------------------------------------------- 1. convergence

ORDERS = [
    ("office", "sup", "w3", "w4"),
    ("w3", "w4", "sup", "office"),
    ("w4", "office", "w3", "sup"),
    ("sup", "w3", "office", "w4"),
]


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
def test_offline_work_converges_in_any_sync_order(
    live_hub: LiveHub, tmp_path: Any, order: tuple[str, ...]
) -> None:
    hub = live_hub.hub
    devices = {name: device(tmp_path, live_hub.url, user) for name, user in USERS.items()}
    office, sup, w3, w4 = (devices[n][0] for n in ("office", "sup", "w3", "w4"))
    seeds = iter(range(1, 50))

    def sync(name: str) -> Any:
        replica, client = devices[name]
        return sync_once(replica, client)

    def snap(replica: Replica, grid: str, role: str = "after") -> dict[str, Any]:
        lon, lat = spot(hub, grid, 7)
        return replica.add_photo(camera_jpeg((2000, 1500), next(seeds)), role, lon=lon, lat=lat)

    for name in devices:
        sync(name)

    # ---- Online, before: tasks to judge, to race on, and one reassigned while w3 is away.
    def office_task(grid: str, k: int, title: str, assignee: Optional[str] = None) -> str:
        lon, lat = spot(hub, grid, k)
        made = office.create_task("litter", lon, lat, title=title, assignee_id=assignee)
        return str(made["id"])

    s1 = office_task("JSL-03", 0, "to confirm", W3)
    s2 = office_task("JSL-03", 1, "to reject", W3)
    gone = office_task("JSL-03", 2, "reassigned while w3 is offline", W3)
    race = office_task("JSL-03", 3, "reassigned while w3 works on it", W3)
    o3 = office_task("JSL-03", 4, "open: w3 claims it, the office assigns it")
    p4 = office_task("JSL-04", 0, "w4's task, edited by the office", W4)
    sync("office")
    sync("w3")
    for task_id in (s1, s2):
        w3.start(task_id)
        w3.submit(task_id, [snap(w3, "JSL-03")], note="好了")
    w3.start(gone)
    w3.start(race)
    assert sync("w3").pushed == {"applied": 6}
    # w3 is now out of reach; the office reassigns `gone` meanwhile.
    sync("office")
    office.assign(gone, W4)
    assert sync("office").pushed == {"applied": 1}
    sync("sup")
    sync("w4")
    assert w3.task(gone)["assignee_id"] == W3  # w3 has not heard
    assert w4.task(gone)["status"] == "assigned"
    assert sup.task(s1)["status"] == sup.task(s2)["status"] == "submitted"
    history0, _ = hub_op_counts(hub)

    # ---- Offline: everyone works, nobody syncs.
    # The office: new tasks in both grids, assignments, a reassignment, edits, a cancel.
    n1 = office_task("JSL-03", 5, "new, open in JSL-03")
    n2 = office_task("JSL-04", 1, "new, for w4", W4)
    n3 = office_task("JSL-03", 6, "new, for w3", W3)
    n4 = office_task("JSL-04", 2, "new, open, then assigned")
    office.assign(n4, W4)
    n5 = office_task("JSL-03", 8, "new, then canceled")
    office.cancel(n5, "重复")
    office.assign(race, W4)
    race_assign = last_op(office)
    office.assign(o3, W4)
    o3_assign = last_op(office)
    office.update_task(p4, priority="urgent")
    p4_update = last_op(office)
    office.comment(p4, "请尽快处理")
    assert office.task(race)["assignee_id"] == W4

    # The supervisor judges the two fixes.
    sup.confirm(s1, note="确认")
    sup.reject(s2, "照片不清楚")
    sup.comment(s1, "做得好")

    # w3: a late fix of `gone` (refused whatever the order), a fix of `race` (the office is
    # reassigning it), a claim the office races, patrol finds, comments.
    gone_photo = snap(w3, "JSL-03")
    w3.submit(gone, [gone_photo], note="已清理")
    gone_submit = last_op(w3)
    assert w3.task(gone)["status"] == "submitted"
    w3.comment(race, "到场")
    race_comment = last_op(w3)
    w3.submit(race, [snap(w3, "JSL-03")], note="好了")
    race_submit = last_op(w3)
    w3.claim(o3)
    o3_claim = last_op(w3)
    lon, lat = spot(hub, "JSL-03", 9)
    pf1 = w3.patrol_find("litter", lon, lat, self_fix=True, photos=[snap(w3, "JSL-03", "before")])
    assert (pf1["status"], pf1["assignee_id"]) == ("assigned", W3)
    w3.start(pf1["id"])
    w3.submit(pf1["id"], [snap(w3, "JSL-03")], note="顺手清理")
    lon, lat = spot(hub, "JSL-03", 10)
    pf2 = w3.patrol_find("manhole_damaged", lon, lat, self_fix=False)
    assert pf2["status"] == "reported"
    w3.comment(s2, "已补拍")

    # w4: works the reassigned task and its own, with a pause, and finds something.
    w4.start(gone)
    w4.start(p4)
    w4.pause(p4, "等待工具")
    w4.resume(p4)
    w4.comment(p4, "工具到了")
    w4.submit(p4, [snap(w4, "JSL-04")], note="修好了")
    lon, lat = spot(hub, "JSL-04", 3)
    pf4 = w4.patrol_find("bike_parking", lon, lat, self_fix=True)
    w4.start(pf4["id"])

    made = {name: [o["op_id"] for o in devices[name][0].outbox()] for name in devices}
    assert all(made.values())
    assert hub_op_counts(hub)[0] == history0  # nothing reached the hub

    # ---- Sync in this order, then again the other way round so that everyone hears all.
    for name in order:
        result = sync(name)
        assert devices[name][0].outbox() == [], (name, result)
    for name in reversed(order):
        result = sync(name)
        assert result.pushed == {}
    for name in order:  # nothing left to hear
        assert sync(name).pulled == 0, name

    # ---- Everyone equals the hub for their scope.
    for name, (replica, _client) in devices.items():
        assert_converged(replica, hub, USERS[name])

    # ---- What was refused depends on who reached the hub first, and nothing else.
    office_first = order.index("office") < order.index("w3")
    w4_first = order.index("w4") < order.index("office")
    refused: dict[str, dict[str, str]] = {
        "office": {},
        "sup": {},
        "w3": {gone_submit: "not_assignee"},
        "w4": {},
    }
    if office_first:
        refused["w3"].update(
            {race_comment: "not_assignee", race_submit: "not_assignee", o3_claim: "not_found"}
        )
    else:
        refused["office"].update({race_assign: "conflict", o3_assign: "conflict"})
    if w4_first:
        refused["office"][p4_update] = "conflict"
    history, conflicts = hub_op_counts(hub)
    for name, (replica, client) in devices.items():
        got = {r["op_id"]: r["code"] for r in replica.refusals()}
        assert got == refused[name], name
        rows = ledger(hub, made[name])
        for op_id in made[name]:
            assert len(rows.get(op_id, [])) == 1, (name, op_id)
            row = rows[op_id][0]
            assert (row["actor_id"], row["device_id"]) == (USERS[name], replica.device_id)
            if op_id in refused[name]:
                assert (row["status"], row["code"]) == ("rejected", refused[name][op_id])
                assert history[op_id] == 0
                kept = 0 if refused[name][op_id] == "not_found" else 1
                assert conflicts[op_id] == kept, (name, op_id)
            else:
                assert row["status"] == "applied"
                assert history[op_id] == 1, (name, op_id)
                assert conflicts[op_id] == 0
        on_hub = {c["op_id"]: c["code"] for c in client.get("/api/v1/conflicts")}
        assert {k: on_hub.get(k) for k in refused[name]} == refused[name]

    # ---- The late fix of `gone`: refused, kept with its photo, gone from w3's replica.
    late = next(r for r in w3.refusals() if r["op_id"] == gone_submit)
    assert late["type"] == "task.submit" and late["task_id"] == gone and late["task"] is None
    assert late["payload"]["photos"] == [gone_photo] and late["payload"]["note"] == "已清理"
    assert w3.task(gone) is None
    kept = next(c for c in hub.store.get_task(gone)["conflicts"] if c["op_id"] == gone_submit)
    assert kept["code"] == "not_assignee" and kept["actor_id"] == W3
    assert kept["payload"]["photos"][0]["sha256"] == gone_photo["sha256"]
    stored = hub.photos.path(gone_photo["sha256"]).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == gone_photo["sha256"]
    assert w3.photo_bytes(gone_photo["sha256"]) is not None  # kept until the user has seen it
    w3.mark_refusals_seen()
    w3.purge_photos()
    assert w3.photo_bytes(gone_photo["sha256"]) is None

    # ---- Where each task ended up.
    def state(task_id: str) -> tuple[str, Optional[str]]:
        task = hub.store.get_task(task_id)
        return task["status"], task["assignee_id"]

    assert state(s1) == ("closed", W3)
    assert state(s2) == ("rework", W3)
    assert state(gone) == ("in_progress", W4)
    assert state(race) == (("assigned", W4) if office_first else ("submitted", W3))
    assert state(o3) == ("assigned", W4 if office_first else W3)
    assert state(p4) == ("submitted", W4)
    assert hub.store.get_task(p4)["priority"] == ("normal" if w4_first else "urgent")
    assert [state(t) for t in (n1, n2, n3, n4, n5)] == [
        ("open", None),
        ("assigned", W4),
        ("assigned", W3),
        ("assigned", W4),
        ("canceled", None),
    ]
    assert state(pf1["id"]) == ("submitted", W3)
    assert state(pf2["id"]) == ("reported", None)
    assert state(pf4["id"]) == ("in_progress", W4)
    assert w3.task(s2)["status"] == "rework"  # heard the supervisor
    assert {n1, n3} <= {t["id"] for t in w3.tasks()}
    assert {n2, n4, gone} <= {t["id"] for t in w4.tasks()}
    assert pf2["id"] in {t["id"] for t in office.tasks(["reported"])}


# ---------------------------------------------------------------------------- 2. faulty network


def until_synced(call: Callable[[], Any], attempts: int = 100) -> tuple[Any, int]:
    """Runs `call` until it goes through the faulty line (the client's own retries ran out
    on the others); returns its result and the number of tries."""
    for attempt in range(1, attempts + 1):
        try:
            return call(), attempt
        except Offline:
            continue
        except HubError as err:
            if err.status < 500 and err.status != 429:
                raise
    raise AssertionError(f"no sync went through in {attempts} attempts")


def test_sync_through_dropped_connections_applies_every_op_once(
    live_hub: LiveHub, tmp_path: Any
) -> None:
    hub = live_hub.hub
    proxy = FaultProxy(live_hub.port, drop_request=0.15, drop_response=0.15, seed=5).start()
    session = requests.Session()
    session.headers["Connection"] = "close"  # the proxy serves one request per connection
    client = HubClient(proxy.url, session=session, retries=1, backoff_s=0.0)
    replica = Replica(tmp_path / "flaky.gpkg")
    tries = []
    try:
        tries.append(until_synced(lambda: login(replica, client, W3, "demo"))[1])
        tries.append(until_synced(lambda: sync_once(replica, client))[1])  # the bootstrap
        assert replica.state("extract_etag") is not None

        # Offline: 10 patrol finds, each commented and started; 5 paused, resumed and
        # fixed with a photo of their own (large enough to go up in several pieces).
        made_tasks = []
        photos = []
        for k in range(10):
            lon, lat = spot(hub, "JSL-03", k)
            task_id = replica.patrol_find("litter", lon, lat, self_fix=True, title=f"巡查 {k}")[
                "id"
            ]
            made_tasks.append(task_id)
            replica.comment(task_id, f"发现 {k}")
            replica.start(task_id)
        for k, task_id in enumerate(made_tasks[:5]):
            replica.pause(task_id, "午休")
            replica.resume(task_id)
            lon, lat = spot(hub, "JSL-03", k)
            photo = replica.add_photo(
                noisy_jpeg(100 + k, (1600, 1200), (400, 300), 90), "after", lon=lon, lat=lat
            )
            photos.append(photo["sha256"])
            replica.submit(task_id, [photo], note="好了")
        assert len(set(photos)) == 5
        assert all(len(replica.photo_bytes(sha) or b"") > 256 * 1024 for sha in photos)
        made = [o["op_id"] for o in replica.outbox()]
        assert len(made) == 45

        tries.append(until_synced(lambda: sync_once(replica, client))[1])
        # A second sync through the faulty line finds nothing left to do.
        again, n = until_synced(lambda: sync_once(replica, client))
        tries.append(n)
        assert again.pushed == {} and again.photos_sent == 0
    finally:
        proxy.stop()
        session.close()

    # The proxy did cut connections, some after the hub had committed.
    assert proxy.counts.dropped_response > 0 and proxy.counts.dropped_request > 0, proxy.counts
    assert sum(tries) > len(tries), tries  # some syncs gave up half-way and were run again
    assert_converged(replica, hub, W3)
    history, conflicts = hub_op_counts(hub)
    assert {op_id: history[op_id] for op_id in made} == dict.fromkeys(made, 1)
    assert not any(conflicts[op_id] for op_id in made)
    rows = ledger(hub, made)
    assert {op_id: len(rows.get(op_id, [])) for op_id in made} == dict.fromkeys(made, 1)
    assert {(r[0]["status"], r[0]["device_id"]) for r in rows.values()} == {
        ("applied", replica.device_id)
    }
    for task_id in made_tasks:
        task = hub.store.get_task(task_id)
        assert task["status"] == ("submitted" if task_id in made_tasks[:5] else "in_progress")
        assert task["version"] == (5 if task_id in made_tasks[:5] else 2)
    for sha in photos:
        assert hashlib.sha256(hub.photos.path(sha).read_bytes()).hexdigest() == sha
        assert not (hub.photos.partial / sha).exists()
    assert sorted(p["sha256"] for t in made_tasks[:5] for p in hub.store.get_task(t)["photos"]) == (
        sorted(photos)
    )
    replica.close()


# ---------------------------------------------------------------------------- 3. resumable photos

PIECE = 64 * 1024


@pytest.fixture(scope="module")
def big_photo() -> bytes:
    data = noisy_jpeg(7, (4000, 3000), (800, 600), 60)
    assert 1_000_000 <= len(data) <= 3_000_000
    return data


def tagged(jpeg: bytes, tag: str) -> bytes:
    """The same picture as another file: a JPEG comment (COM segment) after the SOI marker."""
    text = tag.encode()
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


def _content_range(headers: dict[str, str]) -> tuple[int, int, int]:
    span, total = headers["Content-Range"].split()[1].split("/")
    start, end = span.split("-")
    return int(start), int(end), int(total)


def _send_partial(url: str, headers: dict[str, str], body: bytes, keep: int) -> None:
    """Sends a PUT whose body is cut off after `keep` bytes, then hangs up."""
    parts = urlsplit(url)
    head = [
        f"PUT {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[:keep])
        sock.shutdown(socket.SHUT_WR)
        try:  # wait until the hub has hung up too: it has dealt with the cut piece
            while sock.recv(65536):
                pass
        except OSError:
            pass


class CuttingLine:
    """Wraps a HubClient's session: records the PUT pieces that reach the hub, and cuts the
    line at a byte offset of the photo, either mid-piece (the hub gets part of a piece and a
    hang-up) or after a whole piece (the hub took it; its answer is lost). Once cut, the
    line stays down (the client's retries fail too) until `restore()`."""

    def __init__(self, client: HubClient) -> None:
        self.inner = client.session.request
        client.session.request = self.request  # type: ignore[method-assign]
        self.cut_at: Optional[int] = None
        self.mode = "mid_piece"
        self.down = False
        self.pieces: list[tuple[int, int]] = []  # (start, length) delivered whole
        self.partial: list[tuple[int, int]] = []  # (start, length) of cut pieces

    def arm(self, cut_at: Optional[int], mode: str = "mid_piece") -> None:
        self.cut_at, self.mode, self.down = cut_at, mode, False
        self.pieces, self.partial = [], []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if self.down:
            raise requests.ConnectionError("the line is down")
        if method != "PUT":
            return self.inner(method, url, **kwargs)
        body = kwargs["data"]
        start, end, _total = _content_range(kwargs["headers"])
        assert end - start + 1 == len(body)
        if self.cut_at is not None and start <= self.cut_at <= end:
            self.down = True
            if self.mode == "mid_piece":
                keep = self.cut_at - start
                _send_partial(url, kwargs["headers"], body, keep)
                self.partial.append((start, keep))
                raise requests.ConnectionError("cut off mid-piece")
            self.inner(method, url, **kwargs).close()
            self.pieces.append((start, len(body)))
            raise requests.ConnectionError("cut off before the answer")
        resp = self.inner(method, url, **kwargs)
        self.pieces.append((start, len(body)))
        return resp


def _held(hub: Any, sha: str) -> int:
    return hub.photos.held(sha) or 0


def _assert_contiguous(pieces: list[tuple[int, int]], start: int) -> int:
    """The pieces follow each other from `start`; returns where they end."""
    at = start
    for piece_start, length in pieces:
        assert piece_start == at, (pieces, start)
        at += length
    return at


def test_photo_upload_resumes_after_cuts_at_random_offsets(
    live_hub: LiveHub, big_photo: bytes
) -> None:
    hub = live_hub.hub
    client = HubClient(live_hub.url, retries=2, backoff_s=0.0)
    client.login(W3, "demo", "cut-phone")
    line = CuttingLine(client)
    data, total = big_photo, len(big_photo)
    sha = hashlib.sha256(data).hexdigest()
    rng = random.Random(20260601)

    held = 0
    cuts = sorted(rng.sample(range(1, total), 6))
    modes = [rng.choice(("mid_piece", "answer_lost")) for _ in cuts]
    modes[:2] = ["mid_piece", "answer_lost"]  # both kinds, whatever the seed
    tried = 0
    for cut_at, mode in zip(cuts, modes):
        if cut_at <= held:  # the hub already holds past this point
            continue
        tried += 1
        line.arm(cut_at, mode)
        with pytest.raises(Offline):
            client.upload_photo(sha, data, piece=PIECE)
        # This attempt sent from what the hub held, nothing it already had.
        sent_to = _assert_contiguous(line.pieces, held)
        cut_piece = held + (cut_at - held) // PIECE * PIECE
        if mode == "mid_piece":
            assert line.partial == [(cut_piece, cut_at - cut_piece)]
            assert sent_to == cut_piece
        else:
            assert sent_to == min(cut_piece + PIECE, total)
        # The hub keeps whole pieces only: what was sent whole before the cut, no more.
        assert _held(hub, sha) == sent_to, (cut_at, mode)
        held = sent_to
        if held == total:
            break
    assert tried >= 4

    line.arm(None)
    assert client.upload_photo(sha, data, piece=PIECE) is True
    assert sum(length for _s, length in line.pieces) == total - held
    assert _assert_contiguous(line.pieces, held) == total
    stored = hub.photos.path(sha).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == sha and stored == data
    assert not (hub.photos.partial / sha).exists()
    assert hub.store.photo_record(sha) is not None
    assert client.photo_offset(sha) == total


@pytest.mark.parametrize("stop_after", [1, 7, 20])
def test_photo_upload_stopped_between_pieces_resumes_from_head_offset(
    live_hub: LiveHub, big_photo: bytes, stop_after: int
) -> None:
    hub = live_hub.hub
    client = HubClient(live_hub.url, retries=2, backoff_s=0.0)
    client.login(W3, "demo", "stop-phone")
    line = CuttingLine(client)
    # A photo of its own per case: the hub keeps a photo once it is whole.
    data = tagged(big_photo, f"stop after {stop_after}")
    total, sha = len(data), hashlib.sha256(data).hexdigest()
    assert client.photo_offset(sha) is None

    line.arm(None)
    assert (
        client.upload_photo(
            sha, data, piece=PIECE, should_stop=lambda: len(line.pieces) >= stop_after
        )
        is False
    )
    assert len(line.pieces) == stop_after
    assert client.photo_offset(sha) == _held(hub, sha) == stop_after * PIECE

    line.arm(None)
    assert client.upload_photo(sha, data, piece=PIECE) is True
    assert line.pieces[0][0] == stop_after * PIECE
    assert sum(length for _s, length in line.pieces) == total - stop_after * PIECE
    assert hashlib.sha256(hub.photos.path(sha).read_bytes()).hexdigest() == sha
    # Sent again whole, it is held already: 200, nothing appended.
    line.arm(None)
    assert client.upload_photo(sha, data, piece=PIECE) is True
    assert line.pieces == []


def test_photo_piece_retried_after_a_lost_answer_follows_upload_offset(
    live_hub: LiveHub, big_photo: bytes
) -> None:
    """The client's own retry of a piece whose answer was lost gets 409 with the hub's
    offset and carries on from there: one piece is sent twice, nothing is stored twice."""
    hub = live_hub.hub
    client = HubClient(live_hub.url, retries=2, backoff_s=0.0)
    client.login(W3, "demo", "retry-phone")
    data = tagged(big_photo, "lost answer")
    total, sha = len(data), hashlib.sha256(data).hexdigest()
    inner = client.session.request
    puts: list[tuple[int, int]] = []
    statuses: list[int] = []

    def request(method: str, url: str, **kwargs: Any) -> requests.Response:
        resp = inner(method, url, **kwargs)
        if method == "PUT":
            start, _end, _total = _content_range(kwargs["headers"])
            puts.append((start, len(kwargs["data"])))
            statuses.append(resp.status_code)
            if len(puts) == 3:  # the hub took the third piece; its answer never arrives
                resp.close()
                raise requests.ConnectionError("answer lost")
        return resp

    client.session.request = request  # type: ignore[method-assign]
    assert client.upload_photo(sha, data, piece=PIECE) is True
    assert puts[3] == puts[2] and statuses[3] == 409  # the retry, refused at its offset
    assert sum(length for _s, length in puts) == total + PIECE
    assert hashlib.sha256(hub.photos.path(sha).read_bytes()).hexdigest() == sha


# ---------------------------------------------------------------------------- 4. lost refusals


def test_refusal_whose_answer_was_lost_still_reaches_the_user(
    live_hub: LiveHub, tmp_path: Any
) -> None:
    """The hub refuses a worker's late fix, but its answer is lost on the way back; the
    client's retry of the push answers `duplicate` with the same code (PROTOCOL.md). The
    device must still keep the refusal, with its payload and photo, for the user."""
    hub = live_hub.hub
    replica, client = device(tmp_path, live_hub.url, W3)
    sync_once(replica, client)
    task_id = next(t["id"] for t in replica.tasks(["assigned"]))
    # The office reassigns the task while the worker is offline...
    lon, lat = spot(hub, "JSL-03", 0)
    office = HubClient(live_hub.url)
    office.login("jsl-dispatcher", "demo", "desk")
    [answer] = office.push("desk", [hub_op("task.assign", task_id, {"assignee_id": W4})])
    assert answer["status"] == "applied"
    # ...who fixes it all the same.
    replica.start(task_id)
    photo = replica.add_photo(camera_jpeg((2000, 1500), 9), "after", lon=lon, lat=lat)
    replica.submit(task_id, [photo], note="好了")
    sent = [o["op_id"] for o in replica.outbox()]

    inner = client.session.request
    answers: list[dict[str, Any]] = []

    def request(method: str, url: str, **kwargs: Any) -> requests.Response:
        resp = inner(method, url, **kwargs)
        if url.endswith("/api/v1/sync/push"):
            answers.append(resp.json())
            if len(answers) == 1:  # the hub has refused and recorded; the answer is lost
                resp.close()
                raise requests.ConnectionError("answer lost")
        return resp

    client.session.request = request  # type: ignore[method-assign]
    sync_once(replica, client)
    assert [r["status"] for r in answers[0]["results"]] == ["rejected", "rejected"]
    assert [(r["status"], r["code"]) for r in answers[1]["results"]] == [
        ("duplicate", "not_assignee")
    ] * 2
    assert replica.outbox() == [] and replica.task(task_id) is None
    refusals = {r["op_id"]: r for r in replica.refusals()}
    assert set(refusals) == set(sent)
    assert {r["code"] for r in refusals.values()} == {"not_assignee"}
    assert refusals[sent[-1]]["payload"]["photos"] == [photo]
    assert replica.photo_bytes(photo["sha256"]) is not None


# ---------------------------------------------------------------------------- 5. positions


def test_feed_sends_task_positions_exactly(live_hub: LiveHub, tmp_path: Any) -> None:
    hub = live_hub.hub
    worker, worker_client = device(tmp_path, live_hub.url, W3)
    office, office_client = device(tmp_path, live_hub.url, "jsl-dispatcher")
    sync_once(worker, worker_client)
    sync_once(office, office_client)
    lon, lat = centre(hub, "JSL-03")
    lon, lat = math.nextafter(lon, 180.0), math.nextafter(lat, 90.0)  # 17 digits to print
    assert float(f"{lon:.15g}") != lon
    made = worker.patrol_find("litter", lon, lat, self_fix=False)
    answer = sync_once(worker, worker_client)
    assert answer.pushed == {"applied": 1}
    on_hub = hub.store.get_task(made["id"])
    assert (on_hub["lon"], on_hub["lat"]) == (lon, lat)
    sync_once(office, office_client)  # the office hears of it through the feed only
    pulled = office.task(made["id"])
    assert pulled is not None
    assert (pulled["lon"], pulled["lat"]) == (lon, lat)
