"""The Android side of the field app, on a desktop: the device facades and the sync service.

`field_app/devices/android.py` must import without pyjnius or python-for-android's
`android` (nothing Android runs at import), implement the facades of `devices/base.py`,
and get its pure parts right (the geo: URI, a fix from a location, a capture's result).
The service (`field_app/service/`) is run for real against a hub on a loopback port, with
the desktop notifier in place of Android's.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import subprocess
import sys
import threading
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
import requests
from conftest import LiveHub

from field_app import i18n
from field_app.core import session as sessions
from field_app.core import settings
from field_app.core.sync_loop import run_sync_loop
from field_app.devices import Devices, base
from field_app.devices import android as droid
from field_app.devices.desktop import LogNotifier
from field_app.service import control
from field_app.service import main as service
from sync.syncjob import sync_once

REPO = Path(__file__).resolve().parents[2]
WORKER = "jsl-worker-03"


@pytest.fixture(autouse=True)
def language() -> Iterator[None]:
    """The service switches the app's language: put it back after each test."""
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


# --- the module on a desktop -----------------------------------------------------------


def test_imports_without_android() -> None:
    code = (
        "import sys, field_app.devices.android, field_app.service.main, "
        "field_app.service.control\n"
        "print(sorted(m for m in ('jnius', 'android', 'plyer', 'kivy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("cls", "facade", "methods"),
    [
        (droid.AndroidCamera, base.Camera, ["capture"]),
        (droid.AndroidLocator, base.Locator, ["start", "stop"]),
        (droid.AndroidNavigator, base.Navigator, ["navigate"]),
        (droid.AndroidNotifier, base.Notifier, ["notify"]),
    ],
)
def test_classes_implement_the_facades(cls: type, facade: type, methods: list[str]) -> None:
    assert issubclass(cls, facade)
    for name in methods:
        mine, theirs = getattr(cls, name), getattr(facade, name)
        assert mine is not theirs, f"{cls.__name__}.{name} is the facade's NotImplementedError"
        assert list(inspect.signature(mine).parameters) == list(
            inspect.signature(theirs).parameters
        )


def test_make_devices_gives_the_android_set() -> None:
    devices = droid.make_devices()
    assert isinstance(devices, Devices)
    assert isinstance(devices.camera, droid.AndroidCamera)
    assert isinstance(devices.locator, droid.AndroidLocator)
    assert devices.locator.last is None
    assert isinstance(devices.navigator, droid.AndroidNavigator)
    assert isinstance(devices.notifier, droid.AndroidNotifier)


# --- navigation ------------------------------------------------------------------------


def test_geo_uri() -> None:
    uri = droid.geo_uri(121.431234, 31.221, "江苏路 12 号 (东门)")
    assert uri == (
        "geo:31.221000,121.431234?q=31.221000,121.431234("
        "%E6%B1%9F%E8%8B%8F%E8%B7%AF%2012%20%E5%8F%B7%20%E4%B8%9C%E9%97%A8)"
    )
    assert droid.geo_uri(0, 0, "") == "geo:0.000000,0.000000?q=0.000000,0.000000()"


@pytest.mark.parametrize(("lon", "lat"), [(181, 31), (121, -91), (math.nan, 31), (121, math.inf)])
def test_geo_uri_refuses_a_bad_position(lon: float, lat: float) -> None:
    with pytest.raises(ValueError, match="WGS 84"):
        droid.geo_uri(lon, lat, "x")


def test_navigator_refuses_a_bad_position_before_touching_android() -> None:
    with pytest.raises(ValueError):
        droid.AndroidNavigator().navigate(math.nan, 31.2, "x")


# --- camera ----------------------------------------------------------------------------


def test_capture_result(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"\xff\xd8 a jpeg")
    assert droid.capture_result(str(photo), droid.RESULT_OK) == str(photo)
    assert photo.exists()

    empty = tmp_path / "b.jpg"
    empty.write_bytes(b"")
    assert droid.capture_result(str(empty), droid.RESULT_OK) is None
    assert not empty.exists()

    cancelled = tmp_path / "c.jpg"
    cancelled.write_bytes(b"\xff\xd8 half written")
    assert droid.capture_result(str(cancelled), 0) is None  # RESULT_CANCELED
    assert not cancelled.exists()

    assert droid.capture_result(str(tmp_path / "never.jpg"), droid.RESULT_OK) is None


def test_leftover_captures(tmp_path: Path) -> None:
    assert droid.leftover_captures(str(tmp_path / "none")) == []
    old, new, empty = tmp_path / "1.jpg", tmp_path / "2.jpg", tmp_path / "3.jpg"
    new.write_bytes(b"new")
    old.write_bytes(b"old")
    empty.write_bytes(b"")
    os.utime(old, (1_000_000, 1_000_000))
    assert droid.leftover_captures(str(tmp_path)) == [str(old), str(new)]


# --- position --------------------------------------------------------------------------


class Location:
    """The getters of android.location.Location that the locator reads."""

    def __init__(
        self, lon: float, lat: float, accuracy: Optional[float], millis: int, provider: str
    ) -> None:
        self.values = (lon, lat, accuracy, millis, provider)

    def getLongitude(self) -> float:
        return self.values[0]

    def getLatitude(self) -> float:
        return self.values[1]

    def hasAccuracy(self) -> bool:
        return self.values[2] is not None

    def getAccuracy(self) -> float:
        return self.values[2] or 0.0

    def getTime(self) -> int:
        return self.values[3]

    def getProvider(self) -> str:
        return self.values[4]


def test_fix_from_location() -> None:
    fix = droid.fix_from_location(Location(121.43, 31.22, 6.5, 1_780_000_000_123, "gps"))
    assert fix == base.Fix(121.43, 31.22, 6.5, 1_780_000_000.123, "gps")
    coarse = droid.fix_from_location(Location(121.43, 31.22, None, 1_780_000_000_000, "network"))
    assert coarse is not None and coarse.accuracy_m is None and coarse.source == "network"
    assert droid.fix_from_location(Location(200.0, 31.22, 5.0, 1, "gps")) is None
    assert droid.fix_from_location(Location(math.nan, 31.22, 5.0, 1, "gps")) is None


def test_locator_keeps_the_newest_fix() -> None:
    locator = droid.AndroidLocator()
    got: list[base.Fix] = []
    locator._on_fix = got.append  # as start() sets it once the permission is granted
    locator._deliver(Location(121.43, 31.22, 5.0, 2_000_000, "gps"))
    locator._deliver(Location(121.40, 31.20, 50.0, 1_000_000, "network"))  # older: ignored
    locator._deliver(Location(999.0, 31.20, 5.0, 3_000_000, "gps"))  # out of range: ignored
    locator._deliver(Location(121.44, 31.23, 4.0, 4_000_000, "gps"))
    assert [(f.lon, f.lat) for f in got] == [(121.43, 31.22), (121.44, 31.23)]
    assert locator.last == got[-1]
    locator.stop()
    locator._deliver(Location(121.45, 31.24, 4.0, 5_000_000, "gps"))
    assert len(got) == 2 and locator.last is not None and locator.last.lon == 121.45


# --- service control and main ----------------------------------------------------------


def test_service_control_is_a_no_op_off_android(tmp_path: Path) -> None:
    assert not control.on_android()
    assert control.prepare_service() is False
    assert control.start_service(str(tmp_path)) is False
    assert control.stop_service(str(tmp_path)) is False
    assert list(tmp_path.iterdir()) == []


def test_resolve_data_dir_remembers_the_last_start(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir()
    assert service.resolve_data_dir("", str(private)) is None
    assert service.resolve_data_dir("/data/app/gridops", str(private)) == "/data/app/gridops"
    # Android restarting the sticky service passes no argument
    assert service.resolve_data_dir("", str(private)) == "/data/app/gridops"
    (private / service.MEMO_FILE).write_text("{not json", encoding="utf-8")
    assert service.resolve_data_dir("", str(private)) is None
    assert service.resolve_data_dir("", "") is None


def test_new_tasks_message() -> None:
    i18n.set_language("en")
    assert service.new_tasks_message([{"title": "Bikes on Yuyuan Rd", "kind": "bike_parking"}]) == (
        "New task",
        "Bikes on Yuyuan Rd",
    )
    assert service.new_tasks_message([{"title": "", "kind": "litter"}]) == ("New task", "Litter")
    assert service.new_tasks_message([{"title": "a"}, {"title": "b"}, {"title": "c"}]) == (
        "New tasks",
        "3 new tasks to do",
    )


def test_service_does_nothing_after_a_stop(tmp_path: Path) -> None:
    (tmp_path / control.STOP_FILE).write_text("stop\n", encoding="utf-8")
    notifier = LogNotifier()
    assert service.run_service(str(tmp_path), notifier) is False
    assert notifier.sent == []


def test_service_runs_as_a_script_like_python_for_android(tmp_path: Path) -> None:
    """p4a runs the file (not the module) from the app's folder, '.' on sys.path, with its
    argument and private folder in the environment. Nobody is logged in: it ends at once."""
    data, private = tmp_path / "data", tmp_path / "private"
    data.mkdir()
    private.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.update(PYTHON_SERVICE_ARGUMENT=str(data), ANDROID_PRIVATE=str(private))
    out = subprocess.run(
        [sys.executable, "field_app/service/main.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "sync service ends (nothing to sync)" in out.stderr
    memo = json.loads((private / service.MEMO_FILE).read_text(encoding="utf-8"))
    assert memo == {"data_dir": str(data)}


def grid_point(hub: Any, code: str) -> tuple[float, float]:
    ring = hub.store.get_grid(code)["geometry"]["coordinates"][0]
    if isinstance(ring[0][0], list):  # a MultiPolygon's first ring
        ring = ring[0]
    lon = (min(p[0] for p in ring) + max(p[0] for p in ring)) / 2
    lat = (min(p[1] for p in ring) + max(p[1] for p in ring)) / 2
    assert hub.store.locate(lon, lat)[0] == code
    return lon, lat


def dispatch_new_task(live_hub: LiveHub, title: str) -> str:
    """The street office creates a task assigned to the worker, through the hub's API."""
    hub = live_hub.hub
    login = requests.post(
        f"{live_hub.url}/api/v1/auth/login",
        json={"username": "jsl-dispatcher", "password": "demo", "device_id": "office-pc"},
        timeout=10,
    )
    login.raise_for_status()
    lon, lat = grid_point(hub, "JSL-03")
    task_id = str(uuid.uuid4())
    worker = hub.store.user_by_username(WORKER)
    push = requests.post(
        f"{live_hub.url}/api/v1/sync/push",
        headers={"Authorization": f"Bearer {login.json()['token']}"},
        json={
            "device_id": "office-pc",
            "ops": [
                {
                    "op_id": str(uuid.uuid4()),
                    "type": "task.create",
                    "task_id": task_id,
                    "at": "2026-06-01T08:30:00Z",
                    "payload": {
                        "kind": "litter",
                        "lon": lon,
                        "lat": lat,
                        "title": title,
                        "assignee_id": worker["id"],
                    },
                }
            ],
        },
        timeout=10,
    )
    push.raise_for_status()
    assert push.json()["results"][0]["status"] == "applied", push.text
    return task_id


@pytest.mark.parametrize("chosen", ["zh_CN", "en"])
def test_service_syncs_and_notifies_new_tasks(
    live_hub: LiveHub, tmp_path: Path, chosen: str
) -> None:
    data_dir = str(tmp_path / "data")
    session, replica = sessions.login(data_dir, live_hub.url, WORKER, "demo")
    sync_once(replica, session.client(replica))  # the app synced before going to the back
    replica.close()
    settings.save_language(data_dir, chosen)
    i18n.set_language(i18n.DEFAULT_LANGUAGE if chosen == "en" else "en")  # the app's, not it
    task_id = dispatch_new_task(live_hub, "弄堂口垃圾堆放")

    notifier = LogNotifier()
    result: dict[str, Any] = {}
    loop = partial(run_sync_loop, poll_s=0.05)
    thread = threading.Thread(
        target=lambda: result.update(ok=service.run_service(data_dir, notifier, loop))
    )
    thread.start()
    deadline = time.monotonic() + 60
    while not notifier.sent and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    (Path(data_dir) / control.STOP_FILE).write_text("stop\n", encoding="utf-8")
    thread.join(60)
    assert not thread.is_alive()
    assert result == {"ok": True}
    i18n.set_language(chosen)
    assert notifier.sent == [(i18n.tr("New task"), "弄堂口垃圾堆放")]
    assert i18n.language() == chosen

    reopened = sessions.load_session(data_dir)
    assert reopened is not None
    replica = reopened.open_replica()
    try:
        task = replica.task(task_id)
        assert task is not None and task["status"] == "assigned"
    finally:
        replica.close()
