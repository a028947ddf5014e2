"""`push_ops_per_s`: push throughput over HTTP on loopback into a hub holding 100,000 tasks.

The work of a street office and its workers, in batches of 500 ops (PROTOCOL.md's maximum):
a round is one dispatcher push (200 `task.create` with a "before" photo reference, 200
`task.assign` of those tasks to a worker, 100 `task.comment`) and then that worker's push
(200 `task.start`, 200 `task.submit` with an "after" photo reference and the fix's place,
100 `task.comment`), interleaved per task as devices make them. The photos are real JPEGs
uploaded over HTTP first. Rounds alternate between the two streets and move through the
workers. One warm-up round is not counted.

Figure: total ops / summed wall time of the push calls (request out, whole answer in),
every op answered `applied` (asserted). Bodies are serialised before the clock starts, so
the figure is the hub's and HTTP's, not the client's JSON encoder's.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from .common import (
    KINDS,
    STREETS,
    BenchHub,
    Figure,
    assert_applied,
    create_payload,
    demo_jpeg,
    dispatcher_id,
    grid_code,
    iso,
    make_op,
    photo_item,
    say,
    worker_id,
)

NAME = "push_ops_per_s"
TARGET = 5000.0
ROUNDS = 10  # measured rounds: 2 pushes of 500 ops each
WARMUP_ROUNDS = 1
TASKS_PER_ROUND = 200  # + as many assigns (or starts and submits), + 100 comments
ANCHOR = "PowerSync: 2,000–4,000 ops/s (small rows, into its service)"
ANCHOR_SOURCE = (
    'PowerSync docs, "Performance and Limits" → Performance Expectations → Database '
    "Replication (Source DB → PowerSync Service): “Small rows: 2,000-4,000 operations per "
    "second” — https://docs.powersync.com/resources/performance-and-limits"
)


def _round(
    bench: BenchHub, r: int, before: list[str], after: list[str]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The two pushes of round `r`: (username, ops) for the dispatcher, then the worker."""
    rng = bench.rng
    street = STREETS[r % len(STREETS)]
    n = (r // len(STREETS)) % 12 + 1
    grid, worker = grid_code(street, n), worker_id(street, n)
    clock = datetime.now(timezone.utc) - timedelta(hours=8)
    office: list[dict[str, Any]] = []
    field: list[dict[str, Any]] = []
    for i in range(TASKS_PER_ROUND):
        task_id = str(uuid.uuid4())
        lon, lat = bench.places.point(grid)
        clock += timedelta(seconds=30)
        at = iso(clock)
        payload = create_payload(
            KINDS[i % len(KINDS)],
            lon,
            lat,
            bench.grid_names[grid],
            before[i % len(before)],
            at,
            rng,
        )
        payload["due_at"] = iso(clock + timedelta(hours=24))
        office.append(make_op("task.create", task_id, payload, at))
        office.append(make_op("task.assign", task_id, {"assignee_id": worker}, at))
        if i % 2 == 0:
            office.append(
                make_op("task.comment", task_id, {"text": "请今日内处置，注意安全。"}, at)
            )
        spot_lon, spot_lat = lon + rng.uniform(-1e-4, 1e-4), lat + rng.uniform(-1e-4, 1e-4)
        later = iso(clock + timedelta(hours=1))
        field.append(make_op("task.start", task_id, {}, later))
        field.append(
            make_op(
                "task.submit",
                task_id,
                {
                    "note": "已处置完毕，现场已清理。",
                    "lon": spot_lon,
                    "lat": spot_lat,
                    "accuracy_m": round(rng.uniform(4, 25), 1),
                    "photos": [
                        photo_item(after[i % len(after)], "after", spot_lon, spot_lat, later)
                    ],
                },
                later,
            )
        )
        if i % 2 == 0:
            field.append(make_op("task.comment", task_id, {"text": "已到场，正在处理。"}, later))
    return [(dispatcher_id(street), office), (worker, field)]


def run(bench: BenchHub) -> Figure:
    # Real photos, uploaded over HTTP before any op refers to them.
    before: list[str] = []
    after: list[str] = []
    for n in range(3):
        for role, street, into in (("before", "JSL", before), ("after", "HM", after)):
            data, sha = demo_jpeg(KINDS[n], role, 5000 + n)
            uploader = dispatcher_id(street) if role == "before" else worker_id(street, 1)
            bench.client(uploader).put_photo(data, sha)
            into.append(sha)
    say(f"  uploaded {len(before) + len(after)} JPEG photos over HTTP")

    rounds = [_round(bench, r, before, after) for r in range(WARMUP_ROUNDS + ROUNDS)]
    pushes = [
        (bench.client(user), ops, bench.client(user).push_body(ops), r >= WARMUP_ROUNDS)
        for r, pair in enumerate(rounds)
        for user, ops in pair
    ]
    total_ops, total_s, hub_cpu, per_push = 0, 0.0, 0.0, []
    for client, ops, body, counted in pushes:
        cpu = bench.hub_cpu_s()
        started = time.perf_counter()
        resp = client.push_raw(body)
        elapsed = time.perf_counter() - started
        cpu = bench.hub_cpu_s() - cpu
        assert_applied(resp.json()["results"], len(ops), f"push by {client.username}")
        if counted:
            total_ops += len(ops)
            total_s += elapsed
            hub_cpu += cpu
            per_push.append(elapsed)
    value = total_ops / total_s
    per_push.sort()
    return Figure(
        name=NAME,
        value=value,
        unit="ops/s",
        target=TARGET,
        higher_is_better=True,
        anchor=ANCHOR,
        anchor_source=ANCHOR_SOURCE,
        notes=[
            f"{total_ops:,} ops in {len(per_push)} pushes of 500 (after {WARMUP_ROUNDS} "
            f"warm-up round), {total_s:.2f} s of push calls; per push min "
            f"{per_push[0] * 1000:.0f} ms, median {per_push[len(per_push) // 2] * 1000:.0f} ms, "
            f"max {per_push[-1] * 1000:.0f} ms",
            f"hub CPU during the push calls: {hub_cpu:.2f} s "
            f"({total_ops / hub_cpu if hub_cpu else 0:,.0f} ops per hub CPU-second)",
            "mix per 1,000 ops: 200 create (photo ref), 200 assign, 200 start, "
            "200 submit (photo ref), 200 comment; all answered applied",
        ],
    )
