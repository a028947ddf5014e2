"""`app_cold_start_s` and `app_rss_mb`: the field app launched to a list of 1,000 tasks.

A worker's device as the app leaves it: a replica (`sync.replica.Replica`, a GeoPackage)
holding 1,000 tasks of the worker (each with a three-step history), a kept session
(`field_app.core.session`), the app's font built. Each launch is a fresh Python process
(a real cold start: interpreter, Kivy, SDL2 and its GL window, the font, the `.kv` files,
the replica, the presenter's query): the app is built with `GridOpsApp(data_dir)`, which
opens the session and shows the task list; the child reports, once the list's RecycleView
holds the 1,000 rows and a frame has been drawn, the seconds since the parent started it
and its resident memory (VmRSS). The hub URL points at a closed loopback port, so the
first background sync finds no hub (the cold start of a phone with no network) and does
not touch the bench hub. Median of `RUNS`.

The app starts its first sync once the list is on screen, on the runner's thread, which
is where `sync.client` and `requests` are first imported. The child says whether they
were loaded when it measured, then imports them itself and measures again: the notes
give what they add, so that `app_rss_mb` is not read as the app's whole footprint.

Anchor, in the same run: a bare Kivy app (one Label) started the same way, to its first
frame: what Kivy itself costs here. Headless (SDL2 offscreen on Mesa llvmpipe, as the
tests run), 720×1280 at density 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .common import BenchHub, Figure, median, say

NAME = "app_cold_start_s"
RSS = "app_rss_mb"
TASKS = 1000
RUNS = 5
ROOT = Path(__file__).resolve().parents[1]
WORKER = {
    "id": "jsl-worker-03",
    "username": "jsl-worker-03",
    "display_name": "高磊",
    "role": "worker",
    "street_code": "JSL",
    "grid_codes": ["JSL-03"],
    "on_duty": True,
}
KINDS = ("litter", "bike_parking", "illegal_drying", "waterlogging", "streetlight_out")
STATUSES = ("assigned", "in_progress", "paused", "rework", "open")

CHILD_APP = r"""
import os, sys, time
from kivy.config import Config
Config.set("graphics", "width", "720")
Config.set("graphics", "height", "1280")
from kivy.clock import Clock
from field_app.app import GridOpsApp

class Bench(GridOpsApp):
    def on_start(self):
        super().on_start()
        Clock.schedule_interval(self.check, 0)

    def check(self, _dt):
        rows = self.screen("tasks").ids.list.data
        if self.manager.current == "tasks" and len(rows) >= int(os.environ["BENCH_TASKS"]):
            Clock.schedule_once(self.report, 0)  # after the next frame is drawn
            return False

    def report(self, _dt):
        elapsed = time.time() - float(os.environ["BENCH_T0"])
        loaded, before = int("requests" in sys.modules), rss_mb()
        import sync.syncjob  # what the first sync imports (sync.client, requests)
        print(f"BENCH {elapsed:.4f} {before:.1f} {loaded} {rss_mb():.1f}", flush=True)
        self.stop()

def rss_mb():
    rss = [l for l in open("/proc/self/status") if l.startswith("VmRSS:")][0].split()[1]
    return int(rss) / 1024

Bench(data_dir=sys.argv[1]).run()
"""

CHILD_BARE = r"""
import os, time
from kivy.config import Config
Config.set("graphics", "width", "720")
Config.set("graphics", "height", "1280")
from kivy.app import App
from kivy.clock import Clock
from kivy.uix.label import Label

class Bare(App):
    def build(self):
        Clock.schedule_once(self.report, 0)
        return Label(text="GridOps")

    def report(self, _dt):
        elapsed = time.time() - float(os.environ["BENCH_T0"])
        rss = [l for l in open("/proc/self/status") if l.startswith("VmRSS:")][0].split()[1]
        print(f"BENCH {elapsed:.4f} {int(rss) / 1024:.1f}", flush=True)
        self.stop()

Bare().run()
"""


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_device(folder: Path) -> Path:
    """A data folder with a logged-in session and a replica of 1,000 of the worker's tasks."""
    from field_app.core.session import Session, device_id, save_session
    from sync.replica import Replica

    data = folder / "app"
    data.mkdir(parents=True)
    path = data / "jsl-worker-03@127.0.0.1_9.gpkg"
    replica = Replica(path)
    replica.set_state("user", json.dumps(WORKER, ensure_ascii=False))
    replica.set_state("token", "bench-token")
    now = datetime.now(timezone.utc)
    changes = []
    for n in range(TASKS):
        created = now - timedelta(hours=n % 170)
        status = STATUSES[n % len(STATUSES)]
        kind = KINDS[n % len(KINDS)]
        task_id = str(uuid.uuid4())
        history = [
            {"op_id": str(uuid.uuid4()), "type": t, "actor_id": "jsl-dispatcher",
             "at": _iso(created), "server_at": _iso(created), "payload": {}}
            for t in ("task.create", "task.assign", "task.comment")
        ]  # fmt: skip
        changes.append({
            "entity": "task", "id": task_id, "op": "upsert",
            "data": {
                "id": task_id, "kind": kind, "title": f"任务 {n:04d}：路面问题", "description": "",
                "status": status, "priority": ("urgent", "high", "normal", "low")[n % 4],
                "lon": 121.43 + (n % 37) * 0.0001, "lat": 31.22 + (n % 41) * 0.0001,
                "grid_code": "JSL-03", "street_code": "JSL",
                "assignee_id": None if status == "open" else WORKER["id"],
                "reporter_id": "jsl-dispatcher", "source": "office", "incident_id": None,
                "due_at": _iso(created + timedelta(hours=48)), "created_at": _iso(created),
                "updated_at": _iso(created), "version": 3, "photos": [], "history": history,
                "conflicts": [],
            },
        })  # fmt: skip
    replica.apply_changes(changes, "bench-cursor")
    replica.close()
    save_session(
        Session(str(data), "http://127.0.0.1:9", "jsl-worker-03", device_id(str(data)),
                str(path), WORKER)
    )  # fmt: skip
    return data


def launch(code: str, args: list[str], home: Path) -> tuple[float, float, list[float]]:
    """(seconds from the launch to the first frame, RSS in MB then, what else it said)."""
    script = home.with_suffix(".py")  # Kivy's App looks for its class's source file
    script.write_text(code, encoding="utf-8")
    env = dict(
        os.environ,
        KIVY_NO_ARGS="1",
        KIVY_NO_CONSOLELOG="1",
        KIVY_NO_FILELOG="1",
        KIVY_HOME=str(home),
        KIVY_METRICS_DENSITY="2",
        BENCH_TASKS=str(TASKS),
        PYTHONPATH=str(ROOT),
    )
    env["BENCH_T0"] = repr(time.time())
    out = subprocess.run(
        [sys.executable, str(script), *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"the app did not report (exit {out.returncode}):\n{out.stderr[-3000:]}")
    _, seconds, rss, *more = line.split()
    return float(seconds), float(rss), [float(x) for x in more]


def run(_bench: BenchHub) -> list[Figure]:
    from field_app.fonts import FONT_FILE

    with tempfile.TemporaryDirectory(prefix="gridops-app-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        data = make_device(folder)
        say(f"  device with {TASKS:,} tasks made in {time.perf_counter() - started:.1f} s")
        if not os.path.exists(FONT_FILE):
            say("  (the app font is not built: make app-font; Debian's Noto CJK stands in)")
        bare: list[tuple[float, float, list[float]]] = []
        app: list[tuple[float, float, list[float]]] = []
        for n in range(RUNS):
            bare.append(launch(CHILD_BARE, [], folder / f"kivy-bare-{n}"))
            app.append(launch(CHILD_APP, [str(data)], folder / f"kivy-app-{n}"))
            say(f"  run {n + 1}: bare Kivy {bare[-1][0]:.2f} s, {bare[-1][1]:.0f} MB; "
                f"field app {app[-1][0]:.2f} s, {app[-1][1]:.0f} MB")  # fmt: skip
    bare_s, bare_mb = median([b[0] for b in bare]), median([b[1] for b in bare])
    app_s, app_mb = median([a[0] for a in app]), median([a[1] for a in app])
    loaded = sum(int(a[2][0]) for a in app)
    http_mb = median([a[2][1] - a[1] for a in app])
    source = (
        "a bare Kivy 2.3.1 app (one Label) launched the same way in the same run, "
        "to its first frame"
    )
    notes = [
        f"launch (fresh process) → task list with {TASKS:,} tasks drawn; median of {RUNS}",
        f"bare Kivy app to its first frame: {bare_s:.2f} s, {bare_mb:.0f} MB",
        f"the app's own cost over Kivy: {app_s - bare_s:.2f} s, {app_mb - bare_mb:.0f} MB",
    ]
    return [
        Figure(NAME, app_s, "s", 2.0, False, f"bare Kivy: {bare_s:.2f} s", source, notes),
        Figure(RSS, app_mb, "MB", 150.0, False, f"bare Kivy: {bare_mb:.0f} MB", source,
               [f"resident memory (VmRSS) with the {TASKS:,}-task list shown",
                f"requests already loaded by the first sync then: {loaded} of {RUNS} runs; "
                f"importing sync.syncjob (sync.client, requests) right after adds "
                f"{http_mb:.1f} MB (median)"]),
    ]  # fmt: skip
