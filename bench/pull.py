"""`pull_10k_changes_ms`: a device pulling 10,000 changes in its scope over HTTP.

The device is street JSL's dispatcher (its scope: every task of JSL). It takes its feed
position from the twin extract's `X-Sync-Cursor` (PROTOCOL.md "Reference data": the
position a device holding the extract pulls on from), then 10,000 task changes happen in
JSL, pushed over HTTP by the office: 4,000 new tasks, 3,000 open tasks assigned, 3,000
tasks' priority and due time updated, each change on a different task of the 100,000 in
the store. The device then pulls `GET /api/v1/sync/changes?since=<cursor>&limit=5000`
(PROTOCOL.md's largest page; the repository has no device client with a page size of its
own yet): 2 pages, 5,000 changes each, the second with `has_more: false` (asserted, and
10,000 distinct task upserts).

Figure: the median over `RUNS` pulls from the same cursor of the wall time of both
requests, each answer read and decoded (`requests`' JSON), as the device waits for it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .common import (
    BATCH,
    KINDS,
    BenchHub,
    Figure,
    assert_applied,
    create_payload,
    demo_jpeg,
    grid_code,
    iso,
    make_op,
    median,
    say,
    worker_id,
)

NAME = "pull_10k_changes_ms"
TARGET = 500.0
CHANGES = 10_000
PAGE = 5000
RUNS = 5
STREET = "JSL"
ANCHOR = "PowerSync: 2,000–20,000 ops/s per client → 10,000 changes in 0.5–5 s"
ANCHOR_SOURCE = (
    'PowerSync docs, "Performance and Limits" → Performance Expectations → Sync '
    "(PowerSync Service → Client): “Sync speed: Expect a rate of 2,000-20,000 operations "
    "per second per client” — https://docs.powersync.com/resources/performance-and-limits"
)


def _changes(bench: BenchHub, photo: str) -> list[dict[str, Any]]:
    """10,000 ops of JSL's office, each on a task no other op of the list touches."""
    assert bench.prepared is not None
    rng = bench.rng
    open_ids = list(bench.prepared.open_ids[STREET])
    open_set = set(open_ids)
    others = [t for t in bench.prepared.task_ids[STREET] if t not in open_set]
    rng.shuffle(open_ids)
    rng.shuffle(others)
    # 4,000 creates, 3,000 assigns, 3,000 updates (fewer of the last two in a smaller store).
    assigns, updates = min(3000, len(open_ids)), min(3000, len(others))
    creates = CHANGES - assigns - updates
    clock = datetime.now(timezone.utc) - timedelta(hours=2)
    ops: list[dict[str, Any]] = []
    for i in range(creates):
        n = i % 12 + 1
        grid = grid_code(STREET, n)
        lon, lat = bench.places.point(grid)
        at = iso(clock + timedelta(seconds=i))
        payload = create_payload(
            KINDS[i % len(KINDS)], lon, lat, bench.grid_names[grid], photo, at, rng
        )
        ops.append(make_op("task.create", str(uuid.uuid4()), payload, at))
    # An open prepared task may be in any grid of the street: a worker of the street takes it.
    for i, task_id in enumerate(open_ids[:assigns]):
        at = iso(clock + timedelta(seconds=creates + i))
        payload = {"assignee_id": worker_id(STREET, i % 12 + 1)}
        ops.append(make_op("task.assign", task_id, payload, at))
    for i, task_id in enumerate(others[:updates]):
        at = iso(clock + timedelta(seconds=creates + assigns + i))
        payload = {"priority": "high", "due_at": iso(clock + timedelta(hours=12))}
        ops.append(make_op("task.update", task_id, payload, at))
    rng.shuffle(ops)
    return ops


@dataclass
class Pull:
    """One pull from a cursor to the end of the feed, and where its time went."""

    seconds: float  # the whole pull, as the device waits for it
    headers_s: float  # until each answer's headers: the hub building the page
    body_s: float  # reading the bodies
    decode_s: float  # the device's JSON decoding
    changes: list[dict[str, Any]]
    pages: int


def _pull(client: Any, cursor: str) -> Pull:
    changes: list[dict[str, Any]] = []
    pages, headers_s, decode_s = 0, 0.0, 0.0
    started = time.perf_counter()
    while True:
        sent = time.perf_counter()
        resp = client.session.get(
            client.url + "/api/v1/sync/changes", params={"since": cursor, "limit": str(PAGE)}
        )
        got = time.perf_counter()
        if resp.status_code != 200:
            raise RuntimeError(f"changes answered {resp.status_code}: {resp.text[:300]}")
        body = resp.json()
        decode_s += time.perf_counter() - got
        headers_s += min(resp.elapsed.total_seconds(), got - sent)
        pages += 1
        changes.extend(body["changes"])
        cursor = body["cursor"]
        if not body["has_more"]:
            break
    seconds = time.perf_counter() - started
    return Pull(seconds, headers_s, seconds - headers_s - decode_s, decode_s, changes, pages)


def run(bench: BenchHub) -> Figure:
    device = bench.client(f"{STREET.lower()}-dispatcher", "bench-pull-device")
    office = bench.client(f"{STREET.lower()}-dispatcher", "bench-pull-office")

    started = time.perf_counter()
    resp = device.session.get(device.url + "/api/v1/twin/extract.gpkg")
    resp.raise_for_status()
    cursor = resp.headers["X-Sync-Cursor"]
    say(f"  device's extract ({len(resp.content) / 1e6:.1f} MB) and its cursor in "
        f"{time.perf_counter() - started:.2f} s")  # fmt: skip

    data, sha = demo_jpeg("litter", "before", 7000)
    office.put_photo(data, sha)
    ops = _changes(bench, sha)
    started = time.perf_counter()
    for start in range(0, len(ops), BATCH):
        batch = ops[start : start + BATCH]
        assert_applied(office.push(batch), len(batch), "pull benchmark's changes")
    say(f"  {len(ops):,} changes in {STREET} pushed in {time.perf_counter() - started:.1f} s")

    pulls: list[Pull] = []
    cpu_ms: list[float] = []
    for _ in range(RUNS):
        cpu = bench.hub_cpu_s()
        pull = _pull(device, cursor)
        cpu_ms.append((bench.hub_cpu_s() - cpu) * 1000)
        pulls.append(pull)
        changes, pages = pull.changes, pull.pages
        ids = {c["id"] for c in changes}
        if len(changes) != CHANGES or len(ids) != CHANGES or pages != CHANGES // PAGE:
            raise AssertionError(
                f"pulled {len(changes)} changes ({len(ids)} tasks) in {pages} pages, "
                f"expected {CHANGES} in {CHANGES // PAGE}"
            )
        if any(c["entity"] != "task" or c["op"] != "upsert" for c in changes):
            raise AssertionError("expected task upserts only")
    times = [p.seconds * 1000 for p in pulls]
    # One more page, to report an answer's size (not timed).
    resp = device.session.get(
        device.url + "/api/v1/sync/changes", params={"since": cursor, "limit": str(PAGE)}
    )
    page_mb = len(resp.content) / 1e6
    return Figure(
        name=NAME,
        value=median(times),
        unit="ms",
        target=TARGET,
        higher_is_better=False,
        anchor=ANCHOR,
        anchor_source=ANCHOR_SOURCE,
        notes=[
            f"{CHANGES:,} task upserts in {CHANGES // PAGE} pages of limit={PAGE} "
            f"(~{page_mb:.1f} MB a page); runs: " + ", ".join(f"{t:.0f}" for t in times) + " ms",
            "medians: hub until the answers' headers "
            f"{median([p.headers_s * 1000 for p in pulls]):.0f} ms, bodies "
            f"{median([p.body_s * 1000 for p in pulls]):.0f} ms, device's JSON decode "
            f"{median([p.decode_s * 1000 for p in pulls]):.0f} ms; hub CPU per pull "
            f"{median(cpu_ms):.0f} ms",
            "device: JSL dispatcher pulling from the extract's X-Sync-Cursor; "
            "time = both requests, bodies read and JSON-decoded",
        ],
    )
