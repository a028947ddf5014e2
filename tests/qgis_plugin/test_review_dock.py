"""The supervisor's Review dock against a real hub on a loopback port, in headless QGIS: the
queue of submitted tasks, before/after photos fetched from the hub and cached next to the
replica, the note, distance and duration, Confirm and Send back through a sync to the hub,
the Conflicts tab with a reassigned worker's late submit, and the dock rendered to
docs/screenshots/qgis_review_dock.png.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")

import requests
from qgis.PyQt.QtCore import Qt
from qgis.testing.mocked import get_iface

from qgis_plugin.core.photo_cache import PhotoCache
from qgis_plugin.gui.review_dock import ReviewDock
from sync import geo
from sync.client import HubClient
from sync.replica import Replica
from sync.syncjob import login, sync_once

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def jpeg(seed: int, size: tuple[int, int]) -> tuple[bytes, str]:
    """A small real JPEG, and its sha256."""
    import io

    from PIL import Image

    img = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue(), hashlib.sha256(buf.getvalue()).hexdigest()


class CountingClient(HubClient):
    """A HubClient that counts its photo downloads."""

    photo_calls = 0

    def photo(self, sha256: str) -> bytes:
        self.photo_calls += 1
        return super().photo(sha256)


class FakeLayers:
    def __init__(self) -> None:
        self.refreshed = 0

    def refresh(self) -> list[str]:
        self.refreshed += 1
        return ["tasks"]


class Supervisor:
    """A jsl-supervisor replica, logged in and synced, with its counting client."""

    def __init__(self, live_hub: Any, tmp_path: Path) -> None:
        self.replica = Replica(str(tmp_path / "jsl-supervisor.gpkg"))
        self.client = CountingClient(live_hub.url)
        login(self.replica, self.client, "jsl-supervisor", "demo")
        self.sync()
        self.client.photo_calls = 0

    def sync(self) -> Any:
        return sync_once(self.replica, self.client)


@pytest.fixture
def supervisor(qgis_app: Any, live_hub: Any, tmp_path: Path) -> Any:
    sup = Supervisor(live_hub, tmp_path)
    yield sup
    sup.replica.close()


@pytest.fixture
def make_dock(qtbot: Any, supervisor: Supervisor) -> Any:
    docks: list[ReviewDock] = []

    def make() -> ReviewDock:
        layers = FakeLayers()
        dock = ReviewDock(
            get_iface(), lambda: supervisor.replica, lambda: supervisor.client, layers
        )
        dock.fake_layers = layers
        qtbot.addWidget(dock)
        dock.resize(480, 820)
        dock.show()
        docks.append(dock)
        return dock

    yield make
    for dock in docks:  # no photo task may outlive the replica
        qtbot.waitUntil(lambda d=dock: not d.busy(), timeout=20_000)


def thumbs(dock: ReviewDock, key: str) -> list[Any]:
    return dock.thumbnails[key]


def wait_photos(qtbot: Any, dock: ReviewDock, *keys: str) -> None:
    qtbot.waitUntil(
        lambda: all(not t.full.isNull() for k in keys for t in thumbs(dock, k)), timeout=30_000
    )


def select(dock: ReviewDock, task_id: str) -> None:
    row = next(i for i, t in enumerate(dock.tasks) if t["id"] == task_id)
    dock.queueList.setCurrentRow(row)


def expected_duration(create_at: str, submit_at: str) -> str:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    minutes = int((parse(submit_at) - parse(create_at)).total_seconds() // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days} d {hours} h {mins} min"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


# ----------------------------------------------------------------------------- the queue


def test_queue_photos_note_distance_duration(
    qtbot: Any, live_hub: Any, supervisor: Supervisor, make_dock: Any
) -> None:
    submitted = supervisor.replica.tasks(["submitted"])
    assert submitted, "the demo district has submitted tasks"
    for task in submitted:  # as the hub holds them: before and after photos
        roles = {p["role"] for p in live_hub.hub.store.get_task(task["id"])["photos"]}
        assert {"before", "after"} <= roles
    dock = make_dock()
    assert dock.queueList.count() == len(submitted)
    assert str(len(submitted)) in dock.queueCaption.text()

    wait_photos(qtbot, dock, "before", "after")  # the first task, selected at once
    calls = supervisor.client.photo_calls
    assert calls == len({t.photo.sha256 for k in ("before", "after") for t in thumbs(dock, k)})
    task = submitted[-1]
    select(dock, task["id"])
    wait_photos(qtbot, dock, "before", "after")
    before, after = thumbs(dock, "before"), thumbs(dock, "after")
    assert len(before) >= 1 and len(after) >= 1
    assert all(t.pixmap() is not None and not t.pixmap().isNull() for t in before + after)
    assert all(t.pixmap().width() <= 160 and t.pixmap().height() <= 120 for t in before + after)

    # Fetched from the hub once each, then kept next to the replica, named by their hash.
    shas = {t.photo.sha256 for t in before + after}
    assert supervisor.client.photo_calls == calls + len(shas)
    calls = supervisor.client.photo_calls
    cache = PhotoCache(supervisor.replica.path, lambda: None)
    for sha in shas:
        data = Path(cache.path(sha)).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
    assert Path(supervisor.replica.path + ".photos").is_dir()
    again = make_dock()
    select(again, task["id"])
    wait_photos(qtbot, again, "before", "after")
    assert supervisor.client.photo_calls == calls
    assert cache.fetch(next(iter(shas))) and supervisor.client.photo_calls == calls

    # Note, distance and duration, worked out here from the task's history.
    history = task["history"]
    create = next(h for h in history if h["type"] == "task.create")
    submit = [h for h in history if h["type"] == "task.submit"][-1]
    pay = submit["payload"]
    assert dock.noteLabel.text() == pay["note"]
    metres = geo.distance_m(task["lon"], task["lat"], pay["lon"], pay["lat"])
    assert dock.distanceLabel.text() == (
        f"{round(metres)} m from the task point (GNSS ±{round(pay['accuracy_m'])} m)"
    )
    assert dock.durationLabel.text() == expected_duration(create["server_at"], submit["server_at"])

    # A click on a thumbnail opens the photo at full size.
    qtbot.mouseClick(after[0], Qt.LeftButton)
    assert dock.viewer is not None and dock.viewer.isVisible()
    assert dock.viewer.pixmap.size() == after[0].full.size()
    assert after[0].full.width() > 160
    dock.viewer.close()


def test_confirm_closes_the_task_on_the_hub(
    qtbot: Any, live_hub: Any, supervisor: Supervisor, make_dock: Any
) -> None:
    dock = make_dock()
    count = dock.queueList.count()
    task_id = dock.current_task_id()
    assert task_id is not None and dock.confirmButton.isEnabled()
    qtbot.mouseClick(dock.confirmButton, Qt.LeftButton)
    assert supervisor.replica.pending_count() == 1
    assert dock.queueList.count() == count - 1
    assert task_id not in [t["id"] for t in dock.tasks]
    assert dock.fake_layers.refreshed == 1
    result = supervisor.sync()
    assert result.pushed.get("applied") == 1
    assert live_hub.hub.store.get_task(task_id)["status"] == "closed"


def test_send_back_needs_a_comment(
    qtbot: Any, live_hub: Any, supervisor: Supervisor, make_dock: Any
) -> None:
    dock = make_dock()
    task_id = dock.current_task_id()
    assert task_id is not None
    assert not dock.sendBackButton.isEnabled() and dock.commentHint.text()
    qtbot.mouseClick(dock.sendBackButton, Qt.LeftButton)
    assert dock.send_back() is False
    dock.commentEdit.setPlainText("   ")
    assert not dock.sendBackButton.isEnabled() and dock.send_back() is False
    assert supervisor.replica.pending_count() == 0
    assert dock.fake_layers.refreshed == 0

    comment = "照片未拍到全貌，请补拍。"
    dock.commentEdit.setPlainText(comment)
    assert dock.sendBackButton.isEnabled() and not dock.commentHint.text()
    qtbot.mouseClick(dock.sendBackButton, Qt.LeftButton)
    assert supervisor.replica.pending_count() == 1
    assert dock.fake_layers.refreshed == 1
    assert task_id not in [t["id"] for t in dock.tasks]
    supervisor.sync()
    task = live_hub.hub.store.get_task(task_id)
    assert task["status"] == "rework"
    last = task["history"][-1]
    assert last["type"] == "task.reject" and last["payload"]["comment"] == comment


# ----------------------------------------------------------------------------- conflicts


class Device:
    """Just enough of a phone over HTTP: login, photo upload, push."""

    def __init__(self, url: str, username: str) -> None:
        self.url = url
        self.session = requests.Session()
        resp = self.session.post(
            f"{url}/api/v1/auth/login",
            json={"username": username, "password": "demo", "device_id": f"phone-{username}"},
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        self.username = username
        self.session.headers["Authorization"] = f"Bearer {resp.json()['token']}"

    def push(self, op_type: str, task_id: str, **payload: Any) -> dict[str, Any]:
        op = {
            "op_id": str(uuid.uuid4()),
            "type": op_type,
            "task_id": task_id,
            "at": "2026-06-01T08:30:00Z",
            "payload": payload,
        }
        resp = self.session.post(
            f"{self.url}/api/v1/sync/push",
            json={"device_id": f"phone-{self.username}", "ops": [op]},
            timeout=30,
        )
        assert resp.status_code == 200, resp.text
        return dict(resp.json()["results"][0])


def test_late_submit_of_a_reassigned_worker_shows_in_conflicts(
    qtbot: Any, live_hub: Any, supervisor: Supervisor, make_dock: Any
) -> None:
    hub = live_hub.hub
    dispatcher = Device(live_hub.url, "jsl-dispatcher")
    first = Device(live_hub.url, "jsl-worker-07")
    minx, miny, maxx, maxy = geo.bbox(hub.store.get_grid("JSL-07")["geometry"])
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    task_id = str(uuid.uuid4())
    made = dispatcher.push(
        "task.create",
        task_id,
        kind="illegal_drying",
        lon=lon,
        lat=lat,
        title="沿街晾晒",
        assignee_id="jsl-worker-07",
    )
    assert made["status"] == "applied", made
    assert first.push("task.start", task_id)["status"] == "applied"
    assert dispatcher.push("task.assign", task_id, assignee_id="jsl-worker-08")["status"] == (
        "applied"
    )
    data, sha = jpeg(7, (320, 240))
    resp = first.session.put(
        f"{live_hub.url}/api/v1/photos/{sha}",
        data=data,
        headers={"Content-Type": "image/jpeg"},
        timeout=10,
    )
    assert resp.status_code in (200, 201), resp.text
    late = first.push(
        "task.submit",
        task_id,
        note="已处理",
        photos=[{"sha256": sha, "role": "after", "lon": lon, "lat": lat}],
    )
    assert (late["status"], late["code"]) == ("rejected", "not_assignee")

    supervisor.sync()
    dock = make_dock()
    entries = [e for e in dock.conflicts if e.op_id == late["op_id"]]
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.task_id, entry.code, entry.actor_id) == (task_id, "not_assignee", "jsl-worker-07")
    assert entry.note == "已处理" and [p.sha256 for p in entry.photos] == [sha]
    assert str(len(dock.conflicts)) in dock.tabs.tabText(1)

    dock.tabs.setCurrentIndex(1)
    dock.conflictList.setCurrentRow(dock.conflicts.index(entry))
    assert "not_assignee" in dock.conflictDetail.text() and "已处理" in dock.conflictDetail.text()
    wait_photos(qtbot, dock, "conflict")
    [thumb] = thumbs(dock, "conflict")
    assert not thumb.pixmap().isNull() and thumb.full.size().width() == 320


# ----------------------------------------------------------------------------- the picture


def test_review_dock_renders_to_png(
    qtbot: Any, tmp_path: Path, supervisor: Supervisor, make_dock: Any
) -> None:
    """In Chinese, as the street office sees it (the .ts compiled with lrelease)."""
    import shutil
    import subprocess

    from qgis.PyQt.QtCore import QCoreApplication, QTranslator

    lrelease = shutil.which("lrelease")
    if lrelease is None:
        pytest.skip("lrelease (qttools5-dev-tools) is not installed")
    ts = Path(__file__).resolve().parents[2] / "qgis_plugin" / "i18n" / "gridops_zh_CN.ts"
    qm = tmp_path / "gridops_zh_CN.qm"
    subprocess.run([lrelease, "-silent", str(ts), "-qm", str(qm)], check=True)
    translator = QTranslator()
    assert translator.load(str(qm))
    QCoreApplication.installTranslator(translator)
    try:
        dock = make_dock()
        dock.resize(480, 700)
        assert dock.current_task_id() is not None
        wait_photos(qtbot, dock, "before", "after")
        assert dock.confirmButton.text() == "确认" and dock.sendBackButton.text() == "退回"
        assert "距任务点" in dock.distanceLabel.text() and " 分" in dock.durationLabel.text()
        qtbot.wait(50)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / "qgis_review_dock.png"
        image = dock.grab().toImage()
        assert image.save(str(path), "PNG")
        assert os.path.getsize(path) > 10_000
        assert (image.width(), image.height()) == (dock.width(), dock.height())
    finally:
        QCoreApplication.removeTranslator(translator)
