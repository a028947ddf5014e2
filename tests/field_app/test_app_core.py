"""The field app's core (no Kivy): session, task list, detail, actions, report, patrol,
conflicts, settings, the sync runner and loop, the map model, the desktop devices; against
a real hub on a loopback port and real replicas."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import jpeg, op

from field_app.core import session as sessions
from field_app.core import settings
from field_app.core.actions import ActionError, TaskActions
from field_app.core.conflicts import load_conflicts
from field_app.core.detail import available_actions, load_detail
from field_app.core.map_model import MapData, load_map_data, project
from field_app.core.patrol import PatrolFind
from field_app.core.photo_draft import DraftError
from field_app.core.report import FixReport
from field_app.core.sync_loop import run_sync_loop
from field_app.core.sync_runner import SyncRunner
from field_app.core.tasklist import TaskListPresenter, tab_of
from field_app.devices.base import Fix
from field_app.devices.desktop import FileCamera, SetLocator, navigation_url, parse_position
from sync.client import HubClient

WORKER = "jsl-worker-03"


def grid_centre(hub: Any, code: str) -> tuple[float, float]:
    ring = hub.store.get_grid(code)["geometry"]["coordinates"][0]
    ring = ring[0] if isinstance(ring[0][0], list) else ring
    lon = (min(p[0] for p in ring) + max(p[0] for p in ring)) / 2
    lat = (min(p[1] for p in ring) + max(p[1] for p in ring)) / 2
    return lon, lat


@pytest.fixture
def device(hub: Any, live_hub: Any, tmp_path: Path) -> Any:
    """A logged-in, synced worker device: (session, replica)."""
    data = str(tmp_path / "app")
    session, replica = sessions.login(data, live_hub.url, WORKER, "demo")
    SyncRunner(replica, session.client(replica)).run_once()
    yield session, replica
    replica.close()


def photo_file(tmp_path: Path, seed: int) -> str:
    data, sha = jpeg(seed, (320, 240))
    path = tmp_path / f"{sha[:8]}.jpg"
    path.write_bytes(data)
    return str(path)


# ------------------------------------------------------------------ session


def test_login_keeps_device_id_and_session(hub: Any, live_hub: Any, tmp_path: Path) -> None:
    data = str(tmp_path / "app")
    first = sessions.device_id(data)
    assert sessions.device_id(data) == first
    session, replica = sessions.login(data, live_hub.url + "/", WORKER, "demo")
    try:
        assert session.device_id == first and session.server == live_hub.url
        assert replica.state("token") and replica.state("device_id") == first
        loaded = sessions.load_session(data)
        assert loaded is not None
        assert (loaded.server, loaded.username, loaded.device_id, loaded.replica_path) == (
            live_hub.url,
            WORKER,
            first,
            session.replica_path,
        )
        devices = hub.store.list_devices(hub.store.user_by_username(WORKER)["id"])
        assert first in {d["device_id"] for d in devices}
    finally:
        replica.close()


@pytest.mark.parametrize(
    ("server", "username", "password", "message"),
    [
        ("ftp://x", WORKER, "demo", "https://"),
        ("LIVE", WORKER, "", "account and password"),
        ("LIVE", WORKER, "wrong", "Wrong account or password"),
        ("LIVE", "jsl-dispatcher", "demo", "QGIS plugin"),
        ("http://127.0.0.1:9", WORKER, "demo", "Cannot reach the hub"),
    ],
)
def test_a_failed_login_says_why_and_changes_nothing(
    live_hub: Any, tmp_path: Path, server: str, username: str, password: str, message: str
) -> None:
    from field_app import i18n

    i18n.set_language("en")
    try:
        data = tmp_path / "app"
        with pytest.raises(sessions.LoginError, match=message.replace("(", r"\(")):
            sessions.login(
                str(data),
                live_hub.url if server == "LIVE" else server,
                username,
                password,
                client_factory=lambda url: HubClient(url, retries=0),
            )
    finally:
        i18n.set_language("zh_CN")
    assert sessions.load_session(str(data)) is None
    assert list(data.glob("*.gpkg")) == []


def test_logout_refuses_while_anything_is_unsent(device: Any) -> None:
    session, replica = device
    task = next(t for t in replica.tasks(["assigned"]))
    TaskActions(replica).start(task["id"])
    with pytest.raises(sessions.UnsentWork, match="1"):
        sessions.logout(session, replica)
    assert sessions.load_session(session.data_dir) is not None
    assert replica.state("token")
    SyncRunner(replica, session.client(replica)).run_once()
    sessions.logout(session, replica)
    assert sessions.load_session(session.data_dir) is None
    assert replica.state("token") is None


# ------------------------------------------------------------------ task list


def test_tabs_partition_and_marks(device: Any) -> None:
    _session, replica = device
    me = replica.me["id"]
    presenter = TaskListPresenter(replica.path, me)
    try:
        all_ids = {t["id"] for t in replica.tasks()}
        seen: set[str] = set()
        for tab in ("todo", "sent", "done"):
            ids = {r.id for r in presenter.rows(tab)}
            assert not ids & seen
            seen |= ids
        assert seen == all_ids
        assert sum(presenter.counts().values()) == len(all_ids)
        todo = presenter.rows("todo")
        assert todo and all(
            r.status == "open" or replica.task(r.id)["assignee_id"] == me for r in todo
        )
        # Overdue: due in the past, not finished.
        later = datetime.now(timezone.utc) + timedelta(days=30)
        assert all(r.overdue for r in presenter.rows("todo", now=later) if r.due_at)
        # Distance from me, nearest first.
        lon, lat = replica.task(todo[0].id)["lon"], replica.task(todo[0].id)["lat"]
        nearest = presenter.rows("todo", (lon, lat), "distance")
        assert nearest[0].id == todo[0].id and nearest[0].distance_m < 1
        assert [r.distance_m for r in nearest] == sorted(r.distance_m for r in nearest)
        with pytest.raises(ValueError):
            presenter.rows("nope")
        line = presenter.status_line()
        assert line.ops_waiting == 0 and line.last_sync_at
    finally:
        presenter.close()


def test_tab_of() -> None:
    assert tab_of("open", None, "me") == "todo"
    assert tab_of("in_progress", "me", "me") == "todo"
    assert tab_of("in_progress", "other", "me") == "sent"
    assert tab_of("submitted", "me", "me") == "sent"
    assert tab_of("closed", "me", "me") == "done"


# ------------------------------------------------------------------ detail and actions


def test_detail_offers_what_the_model_allows(device: Any) -> None:
    _session, replica = device
    for status, expected in (
        ("assigned", {"start", "decline", "report", "navigate"}),
        ("in_progress", {"pause", "report", "navigate"}),
        ("open", {"claim", "navigate"}),
    ):
        tasks = replica.tasks([status])
        if not tasks:
            continue
        assert set(available_actions(replica, tasks[0])) == expected, status
    task = replica.tasks(["in_progress"])[0]
    detail = load_detail(replica, task["id"])
    assert detail.title == task["title"] and detail.history
    assert detail.photos and detail.photos[0].role == "before"
    with pytest.raises(KeyError):
        load_detail(replica, "no-such-task")


def test_actions_need_a_reason_and_queue(device: Any) -> None:
    _session, replica = device
    actions = TaskActions(replica)
    task = replica.tasks(["in_progress"])[0]
    with pytest.raises(ActionError):
        actions.pause(task["id"], "   ")
    assert replica.pending_count() == 0
    actions.pause(task["id"], "等待配合")
    with pytest.raises(ActionError):
        actions.pause(task["id"], "again")  # already paused: refused offline
    assert replica.pending_count() == 1
    assert replica.task(task["id"])["status"] == "paused"


# ------------------------------------------------------------------ report and patrol


def test_report_needs_an_after_photo_and_refuses_non_images(device: Any, tmp_path: Path) -> None:
    _session, replica = device
    task = replica.tasks(["in_progress"])[0]
    fix = Fix(121.43, 31.22, 7.0, time.time(), "set")
    report = FixReport(replica, task["id"], lambda: fix)
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    with pytest.raises(DraftError):
        report.add_photo(str(bad), "after")
    with pytest.raises(DraftError):
        report.add_photo(photo_file(tmp_path, 1), "evidence")
    report.add_photo(photo_file(tmp_path, 1), "before")
    with pytest.raises(DraftError):
        report.submit()  # no after photo
    assert replica.pending_count() == 0
    item = report.add_photo(photo_file(tmp_path, 2), "after")
    with pytest.raises(DraftError):
        report.add_photo(photo_file(tmp_path, 2), "after")  # the same photo twice
    report.note = "  done "
    shown = report.submit()
    assert shown["status"] == "submitted"
    sent = replica.outbox()[-1]
    assert sent["payload"]["note"] == "done" and sent["payload"]["accuracy_m"] == 7.0
    assert [p["sha256"] for p in sent["payload"]["photos"]][-1] == item["sha256"]
    assert item["lon"] == 121.43  # the fix stands in for a photo without EXIF position


def test_patrol_find_checks_kind_position_photo_and_street(
    device: Any, hub: Any, tmp_path: Path
) -> None:
    _session, replica = device
    position: dict[str, Any] = {"fix": None}
    find = PatrolFind(replica, lambda: position["fix"])
    with pytest.raises(DraftError):
        find.submit()  # no kind
    find.kind = "litter"
    with pytest.raises(DraftError):
        find.submit()  # no position
    lon, lat = grid_centre(hub, "HM-01")  # another street
    position["fix"] = Fix(lon, lat, 5.0, time.time(), "set")
    find.add_photo(photo_file(tmp_path, 4))
    with pytest.raises(DraftError):
        find.submit()
    assert replica.pending_count() == 0
    lon, lat = grid_centre(hub, "JSL-05")  # my street, not my grid: to the office
    position["fix"] = Fix(lon, lat, 5.0, time.time(), "set")
    find.self_fix = True
    task = find.submit()
    assert task["status"] == "reported" and task["source"] == "patrol"
    assert replica.outbox()[-1]["payload"]["photos"][0]["role"] == "before"


# ------------------------------------------------------------------ conflicts, settings


def test_conflicts_keep_the_data_sent(device: Any, hub: Any) -> None:
    session, replica = device
    task = replica.tasks(["in_progress"])[0]
    TaskActions(replica).pause(task["id"], "物业未开门")
    office = hub.store.user_by_username("jsl-dispatcher")
    other = hub.store.user_by_username("jsl-worker-04")
    result = hub.store.push(office, "t", [op("task.assign", task["id"], assignee_id=other["id"])])
    assert result[0]["status"] == "applied"
    SyncRunner(replica, session.client(replica)).run_once()
    items = load_conflicts(replica)
    assert len(items) == 1
    assert items[0].code == "not_assignee" and items[0].task_title == task["title"]
    assert any("物业未开门" in line for line in items[0].fields)
    assert not items[0].seen


def test_duty_switch_goes_to_the_hub(device: Any, hub: Any) -> None:
    session, replica = device
    assert settings.on_duty(replica) is True
    assert settings.set_duty(replica, session.client(replica), False) is False
    assert hub.store.user_by_username(WORKER)["on_duty"] in (0, False)
    assert settings.on_duty(replica) is False
    offline = HubClient("http://127.0.0.1:9", token="x", retries=0)
    with pytest.raises(settings.SettingsError):
        settings.set_duty(replica, offline, True)
    assert settings.on_duty(replica) is False


# ------------------------------------------------------------------ sync runner and loop


def test_runner_backs_off_offline_then_reports_new_tasks(device: Any, hub: Any) -> None:
    session, replica = device
    states: list[Any] = []
    runner = SyncRunner(
        replica,
        HubClient("http://127.0.0.1:9", token="x", retries=0),
        backoff_s=(0.05, 0.1),
        on_state=states.append,
    )
    runner.start()
    deadline = time.monotonic() + 10
    while runner.runs < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    runner.stop()
    assert runner.runs >= 3
    assert runner.state.online is False and runner.state.failures >= 3
    assert any(s.next_try_s == 0.1 for s in states)

    arrived: list[Any] = []
    online = SyncRunner(replica, session.client(replica), on_new_tasks=arrived.extend)
    office = hub.store.user_by_username("jsl-dispatcher")
    me = hub.store.user_by_username(WORKER)
    lon, lat = grid_centre(hub, "JSL-03")
    new = op("task.create", kind="litter", lon=lon, lat=lat, title="新派任务", assignee_id=me["id"])
    assert hub.store.push(office, "t", [new])[0]["status"] == "applied"
    state = online.run_once()
    assert state.online is True and state.failures == 0
    assert [t["id"] for t in arrived] == [new["task_id"]]


def test_sync_loop_runs_until_told_to_stop(device: Any, tmp_path: Path) -> None:
    session, replica = device
    assert run_sync_loop(str(tmp_path / "nobody"), lambda: True) is False
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    started = time.monotonic()
    assert run_sync_loop(session.data_dir, stop.is_set, poll_s=0.05) is True
    assert time.monotonic() - started < 20
    assert replica.state("last_pull_at")


# ------------------------------------------------------------------ map model, devices


def test_map_projection_fits_and_keeps_aspect() -> None:
    data = MapData(
        outlines=[[(121.0, 31.0), (121.01, 31.0), (121.01, 31.01), (121.0, 31.01), (121.0, 31.0)]],
        components=[(121.005, 31.005, "hydrant")],
        task=(121.0, 31.0),
        me=(121.01, 31.01, 20.0),
        bbox=(121.0, 31.0, 121.01, 31.01),
    )
    sm = project(data, 400, 800, pad=10)
    xs, ys = sm.outlines[0][0::2], sm.outlines[0][1::2]
    assert min(xs) >= 10 - 1e-6 and max(xs) <= 390 + 1e-6
    assert min(ys) >= 10 - 1e-6 and max(ys) <= 790 + 1e-6
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    # A degree of longitude is cos(31°) of a degree of latitude.
    assert width / height == pytest.approx(0.857, abs=0.01)
    assert sm.task == (min(xs), min(ys))  # south-west corner: bottom left
    assert sm.components[0][:2] == pytest.approx(((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2))
    assert sm.me is not None and sm.me[2] == pytest.approx(20.0 / sm.meters_per_px)


def test_map_data_from_the_replica(device: Any) -> None:
    _session, replica = device
    task = replica.tasks(["in_progress"])[0]
    data = load_map_data(replica, task, (task["lon"], task["lat"], 10.0), limit=50)
    assert data.outlines and data.task == (task["lon"], task["lat"])
    assert 0 < len(data.components) <= 50
    box = data.bbox
    assert box is not None
    assert all(box[0] <= x <= box[2] and box[1] <= y <= box[3] for x, y, _k in data.components)


def test_desktop_devices(tmp_path: Path) -> None:
    assert parse_position("121.43,31.22").accuracy_m == 5.0
    assert parse_position("121.43, 31.22, 12").accuracy_m == 12.0
    for bad in ("121.43", "x,y", "200,31", "1,2,3,4"):
        with pytest.raises(ValueError):
            parse_position(bad)
    url = navigation_url(121.43, 31.22, "井盖", "amap")
    assert "coordinate=wgs84" in url and "121.430000,31.220000" in url
    assert "mlat=31.220000" in navigation_url(121.43, 31.22, "x")
    locator = SetLocator()
    fixes: list[Fix] = []
    locator.start(fixes.append)
    assert fixes == []
    locator.set_position(121.4, 31.2, 3.0)
    assert fixes[-1].lon == 121.4 and locator.last is fixes[-1]
    for n in range(2):
        (tmp_path / f"IMG_{n}.jpg").write_bytes(jpeg(n)[0])
    camera = FileCamera(folder=str(tmp_path))
    got: list[Any] = []
    for _ in range(3):
        camera.capture(got.append)
    assert [Path(p).name for p in got] == ["IMG_0.jpg", "IMG_1.jpg", "IMG_0.jpg"]


def test_session_file_is_json(device: Any) -> None:
    session, _replica = device
    data = json.loads((Path(session.data_dir) / "session.json").read_text())
    assert data["username"] == WORKER and "token" not in data
