"""What the benchmarks share: a hub holding 100,000 tasks, served by a real uvicorn process.

- `Figure`: one measured figure with its target and its anchor (a published or measured
  figure of another system), printed side by side by `bench.__main__`.
- `BenchHub`: a temporary data folder with the demo district's streets, grids and users
  (`sync.demo.seed(hub, tasks=False)`) and `PREPARED_TASKS` tasks inserted in-process
  through the store API (`hub.store.push`, 500 ops a call), then served by
  `.venv/bin/gridops serve` in a subprocess on 127.0.0.1 and a free port, so that the
  client (this process) and the hub do not share a GIL. Removed when closed.
- `Client`: a logged-in demo account over one `requests.Session` (keep-alive).

Nothing here imports `tests/`: the little that is needed from `tests/conftest.py` (a free
port, op shapes) is repeated.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests

PREPARED_TASKS = 100_000
BATCH = 500
PREPARE_WAL_PAGES = 20_000  # 80 MB of WAL between checkpoints while preparing
STREETS = ("JSL", "HM")
WORKERS_PER_STREET = 12
KINDS = (
    "litter",
    "bike_parking",
    "illegal_drying",
    "waterlogging",
    "streetlight_out",
    "manhole_damaged",
    "other",
)
TITLES = {
    "litter": "路面垃圾堆积",
    "bike_parking": "共享单车乱停放",
    "illegal_drying": "沿街晾晒",
    "waterlogging": "路面积水",
    "streetlight_out": "路灯不亮",
    "manhole_damaged": "井盖破损",
    "other": "其他问题",
}
PASSWORD = "demo"


# ------------------------------------------------------------------- figures


@dataclass
class Figure:
    """One benchmark's result, its target and its anchor."""

    name: str
    value: float
    unit: str
    target: float | None  # None: a figure reported beside another, with no target of its own
    higher_is_better: bool
    anchor: str  # the other system's figure, as its source gives it
    anchor_source: str
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        if self.higher_is_better:
            return self.value >= self.target
        return self.value <= self.target

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "—"
        return f"{'≥' if self.higher_is_better else '≤'} {self.target:,.0f} {self.unit}"


def say(text: str = "") -> None:
    print(text, flush=True)


# ------------------------------------------------------------------- ops and places


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def make_op(
    op_type: str, task_id: str, payload: dict[str, Any], at: str, **extra: Any
) -> dict[str, Any]:
    """An op as a device makes it (PROTOCOL.md "Sync"): fresh op_id, the device's `at`."""
    return {
        "op_id": str(uuid.uuid4()),
        "type": op_type,
        "task_id": task_id,
        "at": at,
        "payload": payload,
        **extra,
    }


def photo_item(sha256: str, role: str, lon: float, lat: float, at: str) -> dict[str, Any]:
    return {"sha256": sha256, "role": role, "taken_at": at, "lon": lon, "lat": lat}


class Places:
    """Random points inside each demo grid (R-tree box, then the exact polygon test)."""

    def __init__(self, rng: random.Random, per_grid: int = 200) -> None:
        from sync import demo, demo_district
        from sync.geo import bbox, point_in_polygon

        self.points: dict[str, list[tuple[float, float]]] = {}
        for grid in demo_district.grids(demo.SEED):
            minx, miny, maxx, maxy = bbox(grid["geometry"])
            found: list[tuple[float, float]] = []
            while len(found) < per_grid:
                lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
                if point_in_polygon(lon, lat, grid["geometry"]):
                    found.append((round(lon, 6), round(lat, 6)))
            self.points[grid["code"]] = found
        self.rng = rng

    def point(self, grid_code: str) -> tuple[float, float]:
        return self.rng.choice(self.points[grid_code])


def grid_code(street: str, n: int) -> str:
    return f"{street}-{n:02d}"


def worker_id(street: str, n: int) -> str:
    return f"{street.lower()}-worker-{n:02d}"


def dispatcher_id(street: str) -> str:
    return f"{street.lower()}-dispatcher"


def create_payload(
    kind: str,
    lon: float,
    lat: float,
    grid_name: str,
    photo_sha: str,
    at: str,
    rng: random.Random,
    assignee: str | None = None,
) -> dict[str, Any]:
    title = TITLES[kind]
    payload: dict[str, Any] = {
        "kind": kind,
        "lon": lon,
        "lat": lat,
        "title": f"{title}（{grid_name}）",
        "description": f"{grid_name}内发现{title}，请尽快处置。",
        "priority": rng.choice(("urgent", "high", "normal", "normal", "normal", "low")),
        "source": rng.choice(("office", "hotline", "camera")),
        "photos": [photo_item(photo_sha, "before", lon, lat, at)],
    }
    if assignee:
        payload["assignee_id"] = assignee
    return payload


def demo_jpeg(kind: str, role: str, seed: int) -> tuple[bytes, str]:
    """A real JPEG of a street scene (the demo's photo maker, 1280×960), and its sha256."""
    from sync import demo_photos

    data = demo_photos.make_photo(kind, role, seed)
    return data, hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------- the hub


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_tool(name: str) -> str | None:
    """A command installed beside the running interpreter (the venv's), else on PATH."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


@dataclass
class Prepared:
    """What the in-process preparation left in the store, for the benchmarks to use."""

    task_ids: dict[str, list[str]]  # street -> ids of prepared tasks, open or assigned
    open_ids: dict[str, list[str]]  # street -> ids of prepared tasks still open, unassigned
    seconds: float
    ops_per_s: float


class BenchHub:
    """A temporary hub with the demo district and 100,000 tasks, served on loopback."""

    def __init__(self, tasks: int = PREPARED_TASKS, seed: int = 20260601) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="gridops-bench-"))
        self.data = self.tmp / "hub"
        self.rng = random.Random(seed)
        self.places = Places(self.rng)
        self.tasks = tasks
        self.proc: subprocess.Popen[bytes] | None = None
        self.spy: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.prepared: Prepared | None = None
        self.grid_names: dict[str, str] = {}
        self.clients: dict[str, Client] = {}
        self.server_command: list[str] = []

    # ---------------------------------------------------------------- preparation

    def prepare(self) -> Prepared:
        """Seeds the demo district and inserts the tasks through `hub.store.push`."""
        from sync import demo
        from sync.server.hub import Hub

        hub = Hub(self.data)
        try:
            started = time.perf_counter()
            demo.seed(hub, tasks=False)
            say(f"  demo district (streets, grids, users, twin) seeded in "
                f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            self.grid_names = {g["properties"]["code"]: g["properties"]["name"]
                               for g in hub.store.list_grids()}  # fmt: skip
            self.prepared = self._insert_tasks(hub)
        finally:
            hub.close()
        return self.prepared

    def _store_photos(self, hub: Any, uploader: str, count: int) -> list[str]:
        """A few real photos put in the hub in-process (as `sync.demo` does)."""
        hashes = []
        for n in range(count):
            kind = KINDS[n % len(KINDS)]
            data, sha = demo_jpeg(kind, "before", 1000 + n)
            stored = hub.photos.put(sha, data, None)
            if stored.status == 201:
                hub.store.add_photo_record(
                    sha, stored.offset, stored.content_type, stored.width, stored.height, uploader
                )
            hashes.append(sha)
        return hashes

    def _insert_tasks(self, hub: Any) -> Prepared:
        store = hub.store
        # Preparation only: the store checkpoints its WAL every 1,000 pages (SQLite's
        # default), and at this size nearly every 500-op commit then pays a checkpoint with
        # its fsync, which halves the insert rate. This connection (closed before serving)
        # checkpoints less often; the served hub opens its own with its own settings.
        writer = getattr(store, "_writer", None)
        if writer is not None:
            writer.execute(f"PRAGMA wal_autocheckpoint={PREPARE_WAL_PAGES}")
        users = {u["id"]: u for u in store.list_users()}
        photos = self._store_photos(hub, "jsl-dispatcher", 4)
        rng = self.rng
        task_ids: dict[str, list[str]] = {s: [] for s in STREETS}
        open_ids: dict[str, list[str]] = {s: [] for s in STREETS}
        # Backdated over the last 30 days, oldest first, as a hub that has served a while.
        clock = datetime.now(timezone.utc) - timedelta(days=30)
        step = timedelta(days=29) / max(self.tasks, 1)
        batches = (self.tasks + BATCH - 1) // BATCH
        started = time.perf_counter()
        done = 0
        for b in range(batches):
            street = STREETS[b % len(STREETS)]
            user = users[dispatcher_id(street)]
            ops: list[dict[str, Any]] = []
            for _ in range(min(BATCH, self.tasks - done - len(ops))):
                n = rng.randint(1, WORKERS_PER_STREET)
                grid = grid_code(street, n)
                lon, lat = self.places.point(grid)
                clock += step
                at = iso(clock)
                assignee = worker_id(street, n) if rng.random() < 0.4 else None
                task_id = str(uuid.uuid4())
                ops.append(
                    make_op(
                        "task.create",
                        task_id,
                        create_payload(
                            rng.choice(KINDS),
                            lon,
                            lat,
                            self.grid_names[grid],
                            rng.choice(photos),
                            at,
                            rng,
                            assignee,
                        ),
                        at,
                    )
                )
                task_ids[street].append(task_id)
                if assignee is None:
                    open_ids[street].append(task_id)
            results = store.push(user, "bench-prepare", ops, now=iso(clock))
            bad = [r for r in results if r["status"] != "applied"]
            if bad:
                raise RuntimeError(f"preparing tasks: {bad[0]}")
            done += len(ops)
            if (b + 1) % 40 == 0 or b + 1 == batches:
                rate = done / (time.perf_counter() - started)
                say(f"  prepared {done:,}/{self.tasks:,} tasks ({rate:,.0f} ops/s in-process)")
        seconds = time.perf_counter() - started
        return Prepared(task_ids, open_ids, seconds, done / seconds)

    # ---------------------------------------------------------------- serving

    def start(self, profile: str | None = None) -> None:
        """Serves the hub with `gridops serve` in a subprocess; waits for /health.

        With `profile` (a file), `py-spy record` samples the hub process into it (raw
        collapsed stacks) until `stop()`.
        """
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server_command = [venv_tool("gridops") or "gridops", "serve",
                               "--data", str(self.data), "--host", "127.0.0.1",
                               "--port", str(port), "--log-level", "warning"]  # fmt: skip
        self.log = open(self.tmp / "server.log", "wb")
        self.proc = subprocess.Popen(self.server_command, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("the hub did not start:\n" + self.server_log())
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the hub did not answer /health in 60 s")
            time.sleep(0.05)
        if profile:
            spy = venv_tool("py-spy")
            if spy is None:
                raise RuntimeError("py-spy is not installed (pip install py-spy)")
            self.spy = subprocess.Popen(
                [spy, "record", "--pid", str(self.proc.pid), "--rate", "250",
                 "--format", "raw", "--output", profile, "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=self.log,
            )  # fmt: skip
            time.sleep(1.0)  # py-spy attaches

    def hub_cpu_s(self) -> float:
        """CPU seconds the hub process has used so far (user + system; Linux), else 0."""
        if self.proc is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def server_log(self) -> str:
        path = self.tmp / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        for client in self.clients.values():
            client.session.close()
        self.clients = {}
        spy, self.spy = self.spy, None
        if spy is not None and spy.poll() is None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            try:
                spy.wait(timeout=60)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.log.close()

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def client(self, username: str, device_id: str | None = None) -> Client:
        key = f"{username}/{device_id or ''}"
        if key not in self.clients:
            self.clients[key] = Client(self.url, username, device_id or f"bench-{username}")
        return self.clients[key]


class Client:
    """A demo account logged in on one device, over one keep-alive session."""

    def __init__(self, url: str, username: str, device_id: str) -> None:
        self.url = url
        self.username = username
        self.device_id = device_id
        self.session = requests.Session()
        resp = self.session.post(
            url + "/api/v1/auth/login",
            json={"username": username, "password": PASSWORD, "device_id": device_id},
        )
        resp.raise_for_status()
        self.user = resp.json()["user"]
        self.session.headers["Authorization"] = f"Bearer {resp.json()['token']}"

    def push_body(self, ops: list[dict[str, Any]]) -> bytes:
        """The push request's body, serialised once (outside any timing)."""
        return json.dumps({"device_id": self.device_id, "ops": ops}).encode()

    def push_raw(self, body: bytes) -> requests.Response:
        resp = self.session.post(
            self.url + "/api/v1/sync/push",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        if resp.status_code != 200:
            raise RuntimeError(f"push answered {resp.status_code}: {resp.text[:500]}")
        return resp

    def push(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = self.push_raw(self.push_body(ops)).json()["results"]
        return results

    def put_photo(self, data: bytes, sha256: str) -> int:
        resp = self.session.put(
            f"{self.url}/api/v1/photos/{sha256}",
            data=data,
            headers={"Content-Type": "image/jpeg"},
        )
        if resp.status_code not in (200, 201):
            raise RuntimeError(f"photo upload answered {resp.status_code}: {resp.text[:300]}")
        return resp.status_code


def assert_applied(results: list[dict[str, Any]], expected: int, what: str) -> None:
    if len(results) != expected:
        raise AssertionError(f"{what}: {len(results)} results for {expected} ops")
    bad = [r for r in results if r["status"] != "applied"]
    if bad:
        raise AssertionError(f"{what}: {len(bad)} ops not applied, first: {bad[0]}")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def load_text() -> str:
    """The machine's load average: figures taken on a busy machine read low."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"
