"""`detections_per_s` and `dispatch_p99_ms`: street cameras against the served demo hub.

`detections_per_s`: `gridops simulate-cameras`' engine (`sync.simulate_cameras.run`) sends
street JSL's cameras' detections to the hub (`gridops serve` in its subprocess, the demo
district and the prepared tasks) for `DURATION_S` seconds: problems seen in bursts and
again and again by one or two cameras (most answers are `merged`), false alarms below the
threshold, clears; a snapshot (a unique small JPEG) with each camera's first detection of
a problem, every fifth repeat and each clear. It offers `OFFERED` detections a second,
more than the target, from `SENDERS` keep-alive connections, so the figure is what the
hub sustains: detections answered 200 / wall time. The problems' clock runs `SPEED` times
faster than the wall clock, so that clears come within the run.

`dispatch_p99_ms`: in street HM (no simulator traffic there), `SAMPLES` times in turn for
each of its 12 grids: the grid's worker has read its feed up to date; a camera reports a new
problem (confidence 0.9, a snapshot, a place at least 70 m from every earlier sample of its
kind) and, as soon as the 200 is in, the worker reads its feed once
(`GET /api/v1/sync/changes` from its cursor). The time from sending the detection to that
answer, which must hold the task assigned to that worker: detection accepted → task
committed → returned by the worker's next feed read, without any polling interval. Figure:
the 99th percentile (also p50 and max); every sample must answer `dispatched`. Printed
beside it: samples without a snapshot (no photo to check and fsync), and samples while the
simulator sends `LOADED_RATE` detections a second in JSL.

A quick look: `BENCH_DETECTIONS_S=10 python -m bench --tasks 2000 detections_per_s`
(fewer seconds, a smaller store; results.json is not written for a smaller store).
"""

from __future__ import annotations

import base64
import math
import os
import threading
import time
from typing import Any

import requests

from sync import geo, simulate_cameras
from sync.demo import CAMERA_KEY

from .common import BenchHub, Figure, say, worker_id

NAME = "detections_per_s"
DISPATCH = "dispatch_p99_ms"
TARGET = 200.0
DISPATCH_TARGET = 50.0
DURATION_S = float(os.environ.get("BENCH_DETECTIONS_S", "60"))
OFFERED = 400.0
SENDERS = 8
SPEED = 10.0
SAMPLES = 240
LOADED_RATE = 100.0
KINDS = ("litter", "bike_parking", "illegal_drying", "waterlogging", "streetlight_out")
ANCHOR = "none runs here"
ANCHOR_SOURCE = (
    "no published figure of another system for camera events turned into dispatched tasks "
    "was found to measure against"
)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class Worker:
    """A worker's device reading its feed: logged in, cursor kept up to date."""

    def __init__(self, bench: BenchHub, username: str) -> None:
        self.client = bench.client(username)
        self.url = bench.url
        self.cursor = ""
        while self.read()[1]:
            pass

    def read(self) -> tuple[list[dict[str, Any]], bool]:
        resp = self.client.session.get(
            self.url + "/api/v1/sync/changes",
            params={"since": self.cursor, "limit": 5000},
            timeout=60,
        )
        if resp.status_code != 200:
            raise RuntimeError(f"changes answered {resp.status_code}: {resp.text[:300]}")
        body = resp.json()
        self.cursor = body["cursor"]
        return body["changes"], body["has_more"]


class Sampler:
    """Dispatch samples in street HM, one worker after the other."""

    def __init__(self, bench: BenchHub) -> None:
        self.bench = bench
        self.camera = requests.Session()
        self.camera.headers["X-Api-Key"] = CAMERA_KEY
        self.workers = {n: Worker(bench, worker_id("HM", n)) for n in range(1, 13)}
        self.used: dict[str, list[tuple[float, float]]] = {k: [] for k in KINDS}
        self.serial = 0

    def _place(self, grid: str, kind: str) -> tuple[float, float]:
        for lon, lat in self.bench.places.points[grid]:
            if all(geo.distance_m(lon, lat, x, y) > 70 for x, y in self.used[kind]):
                self.used[kind].append((lon, lat))
                return lon, lat
        raise RuntimeError(f"no fresh place left in {grid} for {kind}")

    def sample(self, snapshot: bool = True) -> float:
        """One detection (with a snapshot, unless told) → feed read; milliseconds."""
        self.serial += 1
        n = (self.serial - 1) % 12 + 1
        grid, worker = f"HM-{n:02d}", self.workers[n]
        kind = KINDS[(self.serial - 1) // 12 % len(KINDS)]
        lon, lat = self._place(grid, kind)
        body = {
            "camera_id": f"cam-bench-{grid}",
            "kind": kind,
            "lon": lon,
            "lat": lat,
            "confidence": 0.9,
            "detected_at": "2026-06-01T08:30:00+08:00",
        }
        if snapshot:
            jpeg = simulate_cameras.snapshot_jpeg(90_000 + self.serial)
            body["snapshot"] = base64.b64encode(jpeg).decode()
        started = time.perf_counter()
        resp = self.camera.post(self.bench.url + "/api/v1/detections", json=body, timeout=60)
        if resp.status_code != 200:
            raise RuntimeError(f"detection answered {resp.status_code}: {resp.text[:300]}")
        changes, _ = worker.read()
        took = (time.perf_counter() - started) * 1000
        answer = resp.json()
        if answer["action"] != "dispatched":
            raise AssertionError(f"sample {self.serial}: {answer}")
        mine = [c for c in changes if c["entity"] == "task" and c["id"] == answer["task_id"]]
        if not mine or (mine[0]["data"] or {}).get("assignee_id") != worker_id("HM", n):
            raise AssertionError(f"sample {self.serial}: the worker's feed read missed the task")
        return took


def _throughput(bench: BenchHub) -> tuple[Figure, list[str]]:
    cpu = bench.hub_cpu_s()
    summary = simulate_cameras.run(
        bench.url,
        CAMERA_KEY,
        OFFERED,
        DURATION_S,
        street="JSL",
        speed=SPEED,
        senders=SENDERS,
        progress=say,
    )
    cpu = bench.hub_cpu_s() - cpu
    if not summary.accepted or set(summary.statuses) - {200, 422}:
        raise RuntimeError("the simulator's detections were refused:\n" + summary.text())
    notes = [
        f"simulator: street JSL, {summary.cameras} cameras, offered {OFFERED:g}/s for {DURATION_S:g} s from {SENDERS} connections, "
        f"problems' clock ×{SPEED:g}",
        *summary.text().splitlines(),
        f"hub CPU {cpu:.1f} s for {summary.accepted:,} detections "
        f"({cpu / max(summary.accepted, 1) * 1000:.2f} ms each)",
    ]
    figure = Figure(
        name=NAME,
        value=summary.accepted_per_s,
        unit="detections/s",
        target=TARGET,
        higher_is_better=True,
        anchor=ANCHOR,
        anchor_source=ANCHOR_SOURCE,
        notes=notes,
    )
    return figure, notes


def _loaded(bench: BenchHub, sampler: Sampler, samples: int) -> tuple[list[float], str]:
    """Dispatch samples while the simulator sends LOADED_RATE detections a second in JSL."""
    box: dict[str, Any] = {}
    load_s = 5.0 + samples * 0.1

    def load() -> None:
        box["summary"] = simulate_cameras.run(
            bench.url, CAMERA_KEY, LOADED_RATE, load_s, street="JSL", speed=SPEED, seed=2
        )

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    time.sleep(2.0)  # the load under way
    times = []
    deadline = time.monotonic() + load_s - 3.0
    while len(times) < samples and time.monotonic() < deadline:
        times.append(sampler.sample())
        time.sleep(0.05)
    thread.join(timeout=load_s + 60)
    summary = box.get("summary")
    achieved = f"{summary.accepted_per_s:.0f}/s accepted" if summary else "did not finish"
    return times, achieved


def run(bench: BenchHub) -> list[Figure]:
    throughput, _ = _throughput(bench)
    say(f"  {throughput.name} = {throughput.value:,.1f} detections/s")

    sampler = Sampler(bench)
    for _ in range(12):  # warm-up: every worker's first read, one sample each
        sampler.sample()
    times = [sampler.sample() for _ in range(SAMPLES)]
    bare = [sampler.sample(snapshot=False) for _ in range(SAMPLES // 2)]
    loaded, achieved = _loaded(bench, sampler, 60)
    notes = [
        f"{len(times)} samples in street HM, each a new problem with a snapshot (a ~10 KB JPEG, "
        f"checked with Pillow and fsync'd as an uploaded photo is) for one of its 12 workers; "
        f"p50 {_pct(times, 0.5):.1f} ms, p99 {_pct(times, 0.99):.1f} ms, max {max(times):.1f} ms;"
        " every one `dispatched` and in the worker's next feed read",
        f"without a snapshot: {len(bare)} samples, p50 {_pct(bare, 0.5):.1f} ms, "
        f"p99 {_pct(bare, 0.99):.1f} ms, max {max(bare):.1f} ms",
    ]
    if loaded:
        notes.append(
            f"under load (the simulator at {LOADED_RATE:g}/s offered in JSL, {achieved}): "
            f"{len(loaded)} samples, p50 {_pct(loaded, 0.5):.1f} ms, "
            f"p99 {_pct(loaded, 0.99):.1f} ms, max {max(loaded):.1f} ms"
        )
    dispatch = Figure(
        name=DISPATCH,
        value=_pct(times, 0.99),
        unit="ms",
        target=DISPATCH_TARGET,
        higher_is_better=False,
        anchor=ANCHOR,
        anchor_source=ANCHOR_SOURCE,
        notes=notes,
    )
    return [throughput, dispatch]
