"""What the device benchmarks share: a replica logged in to the bench hub, and ways to see
where a device's sync spends its time and bytes.

- `Device`: a `sync.replica.Replica` in the bench's temporary folder and a
  `sync.client.HubClient` logged in with `sync.syncjob.login`, over a `WireSession`.
- `WireSession`: a `requests.Session` that adds up the HTTP bytes each way (request and
  status lines, headers, bodies as sent and as read off the socket), since the client's own
  counters (`HubClient.bytes_sent`) count only `data=` bodies, not the JSON of a push.
- `Phases`: wraps methods of the client and the replica on one instance (nothing in `sync/`
  changes) and adds up the wall time spent in each, for a sync's breakdown.
- `profile_top`: one call under cProfile (and the replica's SQL timed per statement by
  `SqlTimer`), its top functions and statements as text lines.
- `camera_jpeg`: a 12-megapixel (4000×3000) JPEG with noise and texture, the size of a
  phone camera's file (~5–6 MB), different at every call.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import shutil
import sqlite3
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, TypeVar

import requests

from .common import PASSWORD, BenchHub

T = TypeVar("T")


class WireSession(requests.Session):
    """Counts HTTP bytes each way, as near the wire as `requests` lets one see."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0  # all of it: lines, headers, bodies
        self.received = 0
        self.body_sent = 0  # bodies alone
        self.body_received = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        resp = super().send(request, **kwargs)
        host = (request.url or "").split("/")[2] if request.url else ""
        head = f"{request.method} {request.path_url} HTTP/1.1\r\nHost: {host}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items()) + "\r\n"
        body = request.body or b""
        size = len(body.encode() if isinstance(body, str) else body)
        self.sent += len(head.encode()) + size
        self.body_sent += size
        raw = resp.raw
        status = f"HTTP/1.1 {resp.status_code} {resp.reason}\r\n"
        status += "".join(f"{k}: {v}\r\n" for k, v in resp.headers.items()) + "\r\n"
        if kwargs.get("stream"):
            read = int(resp.headers.get("Content-Length") or 0)  # read later, by the caller
        else:
            read = raw.tell() if hasattr(raw, "tell") else len(resp.content)
        self.received += len(status.encode()) + read
        self.body_received += read
        return resp


class Device:
    """One account's replica and client, logged in to the bench hub."""

    def __init__(self, bench: BenchHub, username: str, name: str) -> None:
        from sync.client import HubClient
        from sync.replica import Replica
        from sync.syncjob import login

        folder = bench.tmp / "devices"
        folder.mkdir(exist_ok=True)
        self.path = folder / f"{name}.gpkg"
        self.replica = Replica(self.path)
        self.wire = WireSession()
        self.client = HubClient(bench.url, session=self.wire)
        self.user = login(self.replica, self.client, username, PASSWORD)
        self.username = username

    def sync(self) -> Any:
        from sync.syncjob import sync_once

        return sync_once(self.replica, self.client)

    def my_tasks(self, status: str) -> list[dict[str, Any]]:
        """This user's tasks in a status, as the replica shows them."""
        me = self.user["id"]
        return [t for t in self.replica.tasks([status]) if t["assignee_id"] == me]

    def checkpoint(self) -> None:
        """Moves the WAL into the file and empties it (so the file alone is the replica)."""
        self.replica.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

    def file_bytes(self) -> int:
        """The replica's file and its WAL, as a copy of the replica would take them."""
        return sum(
            os.path.getsize(p) for p in (self.path, Path(f"{self.path}-wal")) if os.path.exists(p)
        )

    def copy_to(self, dest: Path) -> None:
        self.checkpoint()
        shutil.copyfile(self.path, dest)

    def close(self) -> None:
        self.wire.close()
        self.replica.close()


class Phases:
    """Wall time per wrapped method (instance attributes shadow the class's methods)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, obj: Any, method: str, label: str | None = None) -> None:
        inner = getattr(obj, method)
        key = label or method

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - started
                self.calls[key] += 1

        setattr(obj, method, timed)

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def snapshot(self) -> dict[str, float]:
        return dict(self.seconds)


def wrap_sync(device: Device, phases: Phases) -> None:
    """Times the steps of `sync_once`: HTTP calls on the client, apply steps on the replica."""
    for method in ("push", "changes", "upload_photo"):
        phases.wrap(device.client, method, f"http {method}")
    for method in (
        "photos_to_upload",
        "photo_bytes",
        "mark_uploaded",
        "outbox",
        "apply_push_results",
        "apply_changes",
        "purge_photos",
    ):
        phases.wrap(device.replica, method, f"replica {method}")


def breakdown(per_run: list[dict[str, float]], totals: list[float]) -> str:
    """Median ms per phase over the runs, and the rest of the sync ("other")."""
    from .common import median

    keys = sorted({k for run in per_run for k in run}, key=lambda k: -median(
        [run.get(k, 0.0) for run in per_run]))  # fmt: skip
    parts = [f"{k} {median([run.get(k, 0.0) for run in per_run]) * 1000:.1f}" for k in keys]
    other = median([t - sum(run.values()) for run, t in zip(per_run, totals)])
    parts.append(f"other {other * 1000:.1f}")
    return "; ".join(parts) + " ms (medians)"


class SqlTimer:
    """Stands in for a replica's connection for a while: times each SQL statement (by its
    first words) and passes everything else through."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @staticmethod
    def _key(sql: str, many: bool) -> str:
        text = " ".join(sql.split())
        for head in ("CREATE TRIGGER", "DROP TRIGGER", "PRAGMA synchronous"):
            if text.startswith(head):
                text = head
        return ("executemany " if many else "") + (text[:72] + "…" if len(text) > 72 else text)

    def _timed(self, many: bool, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            if many:
                return self.conn.executemany(sql, *args)
            return self.conn.execute(sql, *args)
        finally:
            key = self._key(sql, many)
            self.seconds[key] += time.perf_counter() - started
            self.calls[key] += 1

    def execute(self, sql: str, *args: Any) -> Any:
        return self._timed(False, sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        return self._timed(True, sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def lines(self, top: int = 10) -> list[str]:
        rows = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:top]
        out = [f"{'SQL ms':>8} {'calls':>9}  statement"]
        out += [f"{s * 1000:8.1f} {self.calls[k]:9,}  {k}" for k, s in rows]
        return out


def profile_top(
    fn: Callable[[], T], top: int = 18, replica: Any = None
) -> tuple[T, list[str], str]:
    """Runs `fn` under cProfile: (its result, the top functions by own time as lines, a
    one-line summary of the five biggest). With `replica`, its connection is timed per SQL
    statement meanwhile (`SqlTimer`), and those lines follow."""
    prof = cProfile.Profile()
    timer = None
    if replica is not None:
        timer = SqlTimer(replica.conn)
        replica.conn = timer
    try:
        result = prof.runcall(fn)
    finally:
        if timer is not None:
            replica.conn = timer.conn
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    lines = [f"{'own ms':>8} {'cum ms':>8} {'calls':>9}  function (total {total * 1000:.0f} ms)"]
    short = []
    for (path, line, func), (_cc, calls, own, cum, _callers) in rows[:top]:
        where = "/".join(Path(path).parts[-2:]) if path != "~" else ""
        name = f"{func} ({where}:{line})" if where else func
        lines.append(f"{own * 1000:8.1f} {cum * 1000:8.1f} {calls:9,}  {name}")
        if len(short) < 5:
            short.append(f"{name} {100 * own / total if total else 0:.0f}%")
    summary = "device hot spots (cProfile, own time): " + ", ".join(short)
    if timer is not None:
        lines += timer.lines()
        key, seconds = max(timer.seconds.items(), key=lambda kv: kv[1])
        summary += f"; top SQL: {key} {seconds * 1000:.0f} ms of {total * 1000:.0f}"
    return result, lines, summary


def camera_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A camera-sized JPEG: gradients under two scales of random noise (a new one each call),
    quality 92 as phone cameras save; ~5–6 MB at 12 megapixels."""
    from PIL import Image

    size = (width, height)
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(size),
            Image.radial_gradient("L").resize(size),
            Image.linear_gradient("L").rotate(90).resize(size),
        ),
    )
    bicubic = getattr(Image, "Resampling", Image).BICUBIC
    coarse = Image.effect_noise((width // 4, height // 4), 60).resize(size, bicubic)
    fine = Image.effect_noise(size, 30)
    texture = Image.merge("RGB", (coarse, fine, Image.blend(coarse, fine, 0.5)))
    out = io.BytesIO()
    Image.blend(base, texture, 0.5).save(out, "JPEG", quality=92)
    return out.getvalue()


def gpkg_connection(path: Path, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A plain sqlite3 connection to a GeoPackage, set up as the replica sets its own up:
    the ST_* functions its R-tree triggers call, WAL; synchronous=NORMAL by default, as the
    replica commits pulled pages (FULL for what the user did)."""
    from sync import gpkg

    conn = sqlite3.connect(path, isolation_level=None)
    gpkg.register_st_functions(conn)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    return conn
