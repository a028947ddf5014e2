"""`gridops simulate-cameras`: realistic streams of street-camera detections against a hub.

What the stream looks like (PROTOCOL.md "Street cameras" is what it speaks):
- Cameras stand in the demo district's grids (or those of `--grids FILE`, a GeoJSON
  FeatureCollection such as `GET /api/v1/grids` returns), in clusters of one or two at a
  crossing, two crossings per grid.
- A problem (litter most often, then bikes, laundry, water, a dark light, a broken manhole
  cover) appears 5–25 m from a camera and is seen by it, and half the time by the other
  camera of its crossing too: first a burst of 2–4 detections a second or two apart
  (consecutive frames), then one every 15–60 s while it lasts (2–15 minutes), each a few
  metres off (the box's projection on the ground), each with a confidence spread around
  the problem's own (about 0.72; one problem in eight is a false alarm around 0.35, below
  the hub's threshold, and gone within two minutes).
- Most real problems are reported `cleared` by their camera some seconds after they end.
- Now and then problems come in a burst: 4–10 of one kind in one street within 20 s
  (rain: waterlogging; a market closing: litter).
- A camera attaches a snapshot (a small JPEG, unique) to its first detection of a problem,
  to every fifth repeat and to a clear.

Problems arrive at the rate that makes `--rate` detections a second on average, and the run
starts in the steady state (problems already under way), so that the first seconds already
carry repeats. `--speed N` runs the problems' clock N times faster than the wall clock (so
clears arrive within a short run). Detections are sent open-loop, on time, by `--senders`
threads with one keep-alive session each; a hub slower than the offered rate shows as lag
and as detections left unsent at the end. The summary gives the answers by status and by
action, the achieved rate and the latency percentiles.
"""

from __future__ import annotations

import base64
import bisect
import heapq
import io
import json
import math
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import geo

KIND_WEIGHTS = {
    "litter": 35,
    "bike_parking": 25,
    "illegal_drying": 10,
    "waterlogging": 8,
    "streetlight_out": 8,
    "manhole_damaged": 6,
    "other": 8,
}
BURST_KINDS = ("waterlogging", "litter")
FALSE_ALARM_SHARE = 0.12
BURST_SHARE = 0.1  # of problem arrivals: a burst of 4–10 problems instead of one
CLEAR_SHARE = 0.7  # of real problems: their camera reports them gone
SNAPSHOT_EVERY = 5  # repeats between snapshots
_M_PER_DEG = math.pi * geo.EARTH_RADIUS_M / 180.0


@dataclass(frozen=True)
class Camera:
    id: str
    lon: float
    lat: float
    grid_code: str
    street_code: str


@dataclass
class Crossing:
    """One or two cameras at one place, watching the same stretch of street."""

    cameras: list[Camera]
    geometry: dict[str, Any]  # the grid's polygon


@dataclass(frozen=True)
class Event:
    """One detection to send: `at_s` seconds after the start (wall clock)."""

    at_s: float
    camera_id: str
    kind: str
    lon: float
    lat: float
    confidence: float
    cleared: bool
    snapshot_seed: int | None  # None: no snapshot

    def body(self, snapshots: bool) -> dict[str, Any]:
        """The request body, stamped with the camera's clock now."""
        body: dict[str, Any] = {
            "camera_id": self.camera_id,
            "kind": self.kind,
            "lon": round(self.lon, 7),
            "lat": round(self.lat, 7),
            "confidence": round(self.confidence, 3),
            "detected_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        }
        if self.cleared:
            body["cleared"] = True
        if snapshots and self.snapshot_seed is not None:
            body["snapshot"] = base64.b64encode(snapshot_jpeg(self.snapshot_seed)).decode()
        return body


def snapshot_jpeg(seed: int, size: tuple[int, int] = (320, 180)) -> bytes:
    """A small, unique street-camera-like JPEG (a scene and a boxed object), via Pillow."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    shade = rng.randint(70, 150)
    img = Image.new("RGB", size, (shade, shade + rng.randint(-10, 10), shade - 10))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, size[1] * 2 // 3, size[0], size[1]), fill=(90, 90, 95))  # the road
    x, y = rng.randint(10, size[0] - 70), rng.randint(size[1] // 2, size[1] - 40)
    w, h = rng.randint(20, 60), rng.randint(15, 35)
    color = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
    draw.rectangle((x, y, x + w, y + h), fill=color)
    draw.rectangle((x - 3, y - 3, x + w + 3, y + h + 3), outline=(255, 40, 40), width=2)
    draw.text((4, 4), f"CAM {seed % 100000:05d}", fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def demo_grids() -> list[dict[str, Any]]:
    """The demo district's grids (what `gridops demo` serves)."""
    from . import demo_district

    return demo_district.grids(demo_district.DEFAULT_SEED)


def grids_from_file(path: str | Path) -> list[dict[str, Any]]:
    """Grids from a GeoJSON FeatureCollection whose properties hold `code`, `street_code`."""
    doc = json.loads(Path(path).read_text("utf-8"))
    out = []
    for feature in doc.get("features", []) if isinstance(doc, dict) else []:
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        if props.get("code") and geometry.get("type") in ("Polygon", "MultiPolygon"):
            out.append(
                {
                    "code": str(props["code"]),
                    "street_code": str(props.get("street_code") or ""),
                    "geometry": geometry,
                }
            )
    if not out:
        raise ValueError(f"{path}: no grid polygons with a code property")
    return out


def _offset(lon: float, lat: float, metres: float, bearing: float) -> tuple[float, float]:
    dlat = metres * math.cos(bearing) / _M_PER_DEG
    dlon = metres * math.sin(bearing) / (_M_PER_DEG * math.cos(math.radians(lat)))
    return lon + dlon, lat + dlat


def _inside(rng: random.Random, geometry: dict[str, Any]) -> tuple[float, float]:
    minx, miny, maxx, maxy = geo.bbox(geometry)
    while True:
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if geo.point_in_polygon(lon, lat, geometry):
            return lon, lat


def place_cameras(grids: list[dict[str, Any]], rng: random.Random) -> list[Crossing]:
    """Two crossings per grid, each with one or two cameras 5–15 m apart."""
    crossings = []
    for grid in grids:
        code, street = grid["code"], grid.get("street_code", "")
        for n in range(2):
            lon, lat = _inside(rng, grid["geometry"])
            cams = [Camera(f"cam-{code}-{n + 1}a", lon, lat, code, street)]
            if rng.random() < 0.7:
                lon2, lat2 = _offset(lon, lat, rng.uniform(5, 15), rng.uniform(0, 2 * math.pi))
                if geo.point_in_polygon(lon2, lat2, grid["geometry"]):
                    cams.append(Camera(f"cam-{code}-{n + 1}b", lon2, lat2, code, street))
            crossings.append(Crossing(cams, grid["geometry"]))
    return crossings


class Scenario:
    """The problems and their detections over a run, on the wall clock (seconds)."""

    def __init__(
        self,
        crossings: list[Crossing],
        rate: float,
        speed: float = 1.0,
        seed: int = 1,
    ) -> None:
        if not crossings:
            raise ValueError("no cameras: no grids to place them in")
        self.crossings = crossings
        self.rng = random.Random(seed)
        self.rate = rate
        self.speed = speed
        self._seed = seed * 1_000_003
        kinds, weights = zip(*KIND_WEIGHTS.items())
        self._kinds = list(kinds)
        total = sum(weights)
        self._cum = [sum(weights[: i + 1]) / total for i in range(len(weights))]
        # Mean detections per problem, measured on a throwaway sample of problems.
        sample = random.Random(seed + 7)
        per_problem = [len(self._problem(0.0, sample)) for _ in range(2000)]
        self.per_problem = sum(per_problem) / len(per_problem)
        self.mean_cluster = (1 - BURST_SHARE) + BURST_SHARE * 7.0

    def _kind(self, rng: random.Random) -> str:
        return self._kinds[bisect.bisect_left(self._cum, rng.random())]

    def _problem(
        self, t0: float, rng: random.Random, kind: str | None = None, street: str | None = None
    ) -> list[tuple[float, Camera, str, float, float, float, bool, bool]]:
        """One problem's detections in simulated seconds: (t, camera, kind, lon, lat,
        confidence, cleared, with_snapshot)."""
        pool = [c for c in self.crossings if street is None or c.cameras[0].street_code == street]
        crossing = rng.choice(pool or self.crossings)
        kind = kind or self._kind(rng)
        first = rng.choice(crossing.cameras)
        lon, lat = first.lon, first.lat
        for _ in range(10):
            cand = _offset(first.lon, first.lat, rng.uniform(5, 25), rng.uniform(0, 2 * math.pi))
            if geo.point_in_polygon(cand[0], cand[1], crossing.geometry):
                lon, lat = cand
                break
        watchers = [first]
        others = [c for c in crossing.cameras if c is not first]
        if others and rng.random() < 0.5:
            watchers.append(others[0])
        false_alarm = rng.random() < FALSE_ALARM_SHARE
        base = rng.gauss(0.35, 0.08) if false_alarm else rng.gauss(0.72, 0.12)
        life = rng.uniform(20, 120) if false_alarm else rng.uniform(120, 900)
        out = []

        def seen(t: float, cam: Camera, snap: bool) -> None:
            jlon, jlat = _offset(lon, lat, abs(rng.gauss(0, 2.0)), rng.uniform(0, 2 * math.pi))
            conf = min(0.99, max(0.05, base + rng.gauss(0, 0.07)))
            out.append((t, cam, kind, jlon, jlat, conf, False, snap))

        for cam in watchers:
            t = t0 if cam is first else t0 + rng.uniform(2, 30)
            n = 0
            for _ in range(rng.randint(2, 4)):
                seen(t, cam, n == 0)
                n += 1
                t += rng.uniform(0.5, 3.0)
            while True:
                t += rng.uniform(15, 60)
                if t >= t0 + life:
                    break
                seen(t, cam, n % SNAPSHOT_EVERY == 0)
                n += 1
        if not false_alarm and rng.random() < CLEAR_SHARE:
            conf = min(0.99, max(0.05, rng.gauss(0.85, 0.07)))
            out.append((t0 + life + rng.uniform(5, 60), first, kind, lon, lat, conf, True, True))
        return out

    def events(self, duration_s: float) -> Iterator[Event]:
        """The run's detections in wall-clock order, `duration_s` seconds of them. Problems
        begin before the start too (the steady state), and only their detections within
        the run are sent."""
        sim_end = duration_s * self.speed
        arrivals = self.rate / (self.speed * self.per_problem * self.mean_cluster)
        heap: list[tuple[float, int, Event]] = []
        rng = self.rng
        t = -1000.0  # longer ago than any problem lasts (15 min + its clear)
        serial = 0
        while True:
            t += rng.expovariate(arrivals) if arrivals > 0 else math.inf
            if t > sim_end:
                break
            if rng.random() < BURST_SHARE:
                kind = rng.choice(BURST_KINDS)
                street = rng.choice(self.crossings).cameras[0].street_code
                starts = [t + rng.uniform(0, 20) for _ in range(rng.randint(4, 10))]
                problems = [self._problem(s, rng, kind, street) for s in starts]
            else:
                problems = [self._problem(t, rng)]
            for detections in problems:
                for at, cam, kind, lon, lat, conf, cleared, snap in detections:
                    if 0 <= at < sim_end:
                        serial += 1
                        seed = self._seed + serial if snap else None
                        event = Event(at / self.speed, cam.id, kind, lon, lat, conf, cleared, seed)
                        heapq.heappush(heap, (event.at_s, serial, event))
        while heap:
            yield heapq.heappop(heap)[2]


@dataclass
class Summary:
    """What a run sent and what the hub answered."""

    offered_rate: float
    duration_s: float
    cameras: int = 0
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)
    not_sent: int = 0
    failed: int = 0  # no answer at all (connection refused, timeout)
    errors: list[str] = field(default_factory=list)  # the first 20 refusals and failures
    elapsed_s: float = 0.0

    @property
    def accepted(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def accepted_per_s(self) -> float:
        return self.accepted / self.elapsed_s if self.elapsed_s else 0.0

    def percentile(self, values: list[float], q: float) -> float:
        if not values:
            return 0.0
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    def text(self) -> str:
        statuses = ", ".join(f"{code} ×{n:,}" for code, n in sorted(self.statuses.items()))
        actions = ", ".join(f"{name} {n:,}" for name, n in self.actions.most_common())
        lat = self.latencies_ms
        lines = [
            f"{self.cameras} cameras sent {self.sent:,} detections in {self.elapsed_s:.1f} s "
            f"(offered {self.offered_rate:g}/s); accepted {self.accepted:,} "
            f"({self.accepted_per_s:,.1f}/s)",
            f"answers: {statuses or 'none'}",
            f"actions: {actions or 'none'}",
            f"latency ms: p50 {self.percentile(lat, 0.5):.1f}, p95 {self.percentile(lat, 0.95):.1f}"
            f", p99 {self.percentile(lat, 0.99):.1f}, max {max(lat, default=0):.1f}; "
            f"lag behind schedule p99 {self.percentile(self.lag_ms, 0.99):.0f} ms",
        ]
        if self.failed:
            lines.append(f"no answer (connection failed or timed out): {self.failed:,}")
        if self.not_sent:
            lines.append(f"not sent (the hub fell behind the offered rate): {self.not_sent:,}")
        lines += [f"error (×{n}): {e}" for e, n in Counter(self.errors).most_common(5)]
        return "\n".join(lines)


def run(
    server: str,
    key: str,
    rate: float,
    duration_s: float = 60.0,
    *,
    street: str | None = None,
    grids: list[dict[str, Any]] | None = None,
    speed: float = 1.0,
    senders: int = 4,
    snapshots: bool = True,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> Summary:
    """Sends the scenario's detections to `server` for `duration_s` seconds; returns the
    summary. Detections still queued when the time is up are counted as not sent."""
    import requests

    if rate <= 0 or duration_s <= 0 or senders < 1 or speed <= 0:
        raise ValueError("rate, duration, speed and senders must be positive")
    if snapshots:
        try:
            import PIL  # noqa: F401  (snapshots are made with Pillow)
        except ImportError:
            raise ValueError("snapshots need Pillow: install it, or pass --no-snapshots") from None
    grid_list = grids if grids is not None else demo_grids()
    if street:
        grid_list = [g for g in grid_list if g.get("street_code") == street]
        if not grid_list:
            raise ValueError(f"no grids of street {street!r}")
    crossings = place_cameras(grid_list, random.Random(seed))
    scenario = Scenario(crossings, rate, speed, seed)
    summary = Summary(rate, duration_s, cameras=sum(len(c.cameras) for c in crossings))
    todo: queue.Queue[Event | None] = queue.Queue()
    lock = threading.Lock()
    url = server.rstrip("/") + "/api/v1/detections"
    start = time.monotonic()
    deadline = start + duration_s
    last_done = [start]

    def sender() -> None:
        session = requests.Session()
        session.headers["X-Api-Key"] = key
        while True:
            event = todo.get()
            if event is None:
                session.close()
                return
            if time.monotonic() >= deadline:
                with lock:
                    summary.not_sent += 1
                continue
            body = event.body(snapshots)
            sent = time.monotonic()
            try:
                resp = session.post(url, json=body, timeout=30)
            except requests.RequestException as err:
                with lock:
                    summary.sent += 1
                    summary.failed += 1
                    if len(summary.errors) < 20:
                        summary.errors.append(f"{type(err).__name__}: {err}")
                continue
            done = time.monotonic()
            took = (done - sent) * 1000
            with lock:
                last_done[0] = max(last_done[0], done)
                summary.sent += 1
                summary.statuses[resp.status_code] += 1
                summary.latencies_ms.append(took)
                summary.lag_ms.append((sent - start - event.at_s) * 1000)
                if resp.status_code == 200:
                    try:
                        summary.actions[str(resp.json().get("action", "?"))] += 1
                    except ValueError:
                        summary.actions["?"] += 1
                elif len(summary.errors) < 20:
                    summary.errors.append(f"{resp.status_code}: {resp.text[:200]}")

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    next_report = start + 10
    try:
        for event in scenario.events(duration_s):
            wait = start + event.at_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if time.monotonic() >= deadline:
                break
            todo.put(event)
            if progress is not None and time.monotonic() >= next_report:
                next_report += 10
                with lock:
                    progress(
                        f"  {time.monotonic() - start:.0f} s: {summary.sent:,} sent, "
                        f"{summary.accepted:,} accepted, {todo.qsize():,} waiting"
                    )
    finally:
        for _ in threads:
            todo.put(None)
        for thread in threads:
            thread.join(timeout=60)
        # Answers to detections sent before the deadline may come in just after it.
        summary.elapsed_s = max(last_done[0], min(time.monotonic(), deadline)) - start
    return summary
