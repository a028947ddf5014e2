"""Camera capture files: deleted once their photo is in the replica, never before; photos an
interrupted capture left behind are kept at start and go back where they were taken.

Real files in a captures folder (`AndroidCamera(folder=...)` is the phone's camera with its
`files/captures/` on a temporary folder; only opening the camera app needs Android), real
JPEGs made with Pillow, a real replica (a worker's device with 1,000 tasks and no hub, as
`bench/app_start.py` makes it), and the real app on the headless window.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import jpeg, pump

from bench.app_start import make_device
from field_app.core import captures
from field_app.core.detail import available_actions
from field_app.core.patrol import PatrolFind
from field_app.core.photo_draft import DraftError
from field_app.core.report import FixReport
from field_app.devices import Devices
from field_app.devices import android as droid
from field_app.devices.base import Fix
from field_app.devices.desktop import BrowserNavigator, LogNotifier, SetLocator
from sync.replica import Replica

HERE = Fix(121.4301, 31.2202, 6.0, 0.0, "set")


def shoot(folder: Path, seed: int, purpose: dict[str, str] | None) -> Path:
    """What the camera app leaves: `<uuid>.jpg` (a real JPEG), its purpose beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    data, sha = jpeg(seed, (640, 480))
    path = folder / f"{sha[:16]}.jpg"
    path.write_bytes(data)
    os.utime(path, (1_700_000_000 + seed, 1_700_000_000 + seed))  # taken in seed order
    droid.write_purpose(str(path), purpose)
    return path


@pytest.fixture
def device(tmp_path: Path) -> Iterator[tuple[Path, Replica]]:
    data = make_device(tmp_path / "phone")
    replica = Replica(next(data.glob("*.gpkg")))
    yield data, replica
    replica.close()


@pytest.fixture
def synced(hub: Any, live_hub: Any, tmp_path: Path) -> Iterator[tuple[Replica, Fix]]:
    """A worker's device synced with a real hub (its grids and tasks), and a fix inside
    the worker's grid."""
    from field_app.core import session as sessions
    from field_app.core.sync_runner import SyncRunner

    session, replica = sessions.login(str(tmp_path / "app"), live_hub.url, "jsl-worker-03", "demo")
    SyncRunner(replica, session.client(replica)).run_once()
    ring = hub.store.get_grid("JSL-03")["geometry"]["coordinates"][0]
    ring = ring[0] if isinstance(ring[0][0], list) else ring
    lon = (min(p[0] for p in ring) + max(p[0] for p in ring)) / 2
    lat = (min(p[1] for p in ring) + max(p[1] for p in ring)) / 2
    yield replica, Fix(lon, lat, 6.0, 0.0, "set")
    replica.close()


def reportable(replica: Replica) -> str:
    """A task of the worker's that a fix can be reported on now (started if need be)."""
    working = replica.tasks(["in_progress"])
    if working:
        return str(working[0]["id"])
    task = replica.tasks(["assigned"])[0]
    replica.start(task["id"])
    return str(task["id"])


# ------------------------------------------------------------------ the camera's files


def test_the_camera_deletes_only_its_own_files(tmp_path: Path) -> None:
    folder = tmp_path / "files" / "captures"
    camera = droid.AndroidCamera(folder=str(folder))
    taken = shoot(folder, 1, {"screen": "patrol"})
    assert droid.read_purpose(str(taken)) == {"screen": "patrol"}
    assert camera.leftovers() == [(str(taken), {"screen": "patrol"})]  # the .json is no photo

    picked = tmp_path / "Pictures" / "mine.jpg"  # a file that is not the camera's
    picked.parent.mkdir()
    picked.write_bytes(jpeg(2)[0])
    camera.stored(str(picked))
    assert picked.exists()

    camera.stored(str(taken))
    assert not taken.exists() and not Path(droid.purpose_file(str(taken))).exists()
    assert camera.leftovers() == []


def test_a_cancelled_capture_leaves_nothing(tmp_path: Path) -> None:
    path = shoot(tmp_path, 3, {"screen": "report", "task_id": "t", "role": "after"})
    assert droid.capture_result(str(path), 0) is None  # RESULT_CANCELED
    assert list(tmp_path.iterdir()) == []
    unreadable = tmp_path / "x.jpg"
    unreadable.write_bytes(b"\xff\xd8")
    Path(droid.purpose_file(str(unreadable))).write_text("{not json", encoding="utf-8")
    assert droid.read_purpose(str(unreadable)) == {}


def test_a_photo_taken_is_kept_before_its_file_goes(device: tuple[Path, Replica]) -> None:
    _data, replica = device
    folder = Path(replica.path).parent / "captures"
    camera = droid.AndroidCamera(folder=str(folder))
    task_id = reportable(replica)
    report = FixReport(replica, task_id, lambda: HERE, release=camera.stored)
    shot = shoot(folder, 4, {"screen": "report", "task_id": task_id, "role": "after"})
    item = report.add_photo(str(shot), "after")
    assert replica.photo_bytes(item["sha256"]) is not None
    assert not shot.exists()

    # A photo the replica refuses (not an image) keeps its file: nothing to keep it by.
    broken = folder / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    with pytest.raises(DraftError):
        report.add_photo(str(broken), "before")
    assert broken.exists()


def test_no_file_is_deleted_when_the_replica_did_not_commit(
    device: tuple[Path, Replica], monkeypatch: pytest.MonkeyPatch
) -> None:
    _data, replica = device
    folder = Path(replica.path).parent / "captures"
    camera = droid.AndroidCamera(folder=str(folder))
    shot = shoot(folder, 5, {"screen": "patrol"})

    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(replica, "add_photo", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        captures.recover(replica, camera)
    find = PatrolFind(replica, lambda: HERE, release=camera.stored)
    with pytest.raises(sqlite3.OperationalError):
        find.add_photo(str(shot))
    assert shot.exists() and camera.leftovers() == [(str(shot), {"screen": "patrol"})]
    assert captures.recovered(replica) == []


# ------------------------------------------------------------------ recovery at start


def test_recovered_photos_go_where_they_were_taken(synced: tuple[Replica, Fix]) -> None:
    replica, here = synced
    folder = Path(replica.path).parent / "captures"
    camera = droid.AndroidCamera(folder=str(folder))
    task_id = reportable(replica)
    other = next(t for t in replica.tasks(["assigned", "in_progress"]) if t["id"] != task_id)
    if other["status"] == "assigned":
        replica.decline(other["id"], "不在我的网格")
    else:
        replica.pause(other["id"], "等待物业配合")
    done = replica.task(other["id"])  # declined or paused: no fix can be reported on it now
    assert done is not None and "report" not in available_actions(replica, done)
    for_find = shoot(folder, 10, {"screen": "patrol"})
    before = shoot(folder, 11, {"screen": "report", "task_id": task_id, "role": "before"})
    unknown = shoot(folder, 12, None)
    stale = shoot(folder, 13, {"screen": "report", "task_id": done["id"], "role": "after"})
    cut_off = folder / "cut-off.jpg"  # the camera app was ended before it wrote a JPEG
    cut_off.write_bytes(b"\xff\xd8\xff\xe0 half")

    found = captures.recover(replica, camera, here)
    assert len(found) == 4
    assert sorted(p.name for p in folder.iterdir()) == ["cut-off.jpg"]  # kept: not a photo
    assert all(replica.photo_bytes(r.item["sha256"]) is not None for r in found)
    assert [r.purpose for r in captures.recovered(replica)] == [r.purpose for r in found]
    assert captures.resume_screen(replica, found) == ("report", task_id)
    assert captures.recover(replica, camera, here) == []  # nothing twice

    report = FixReport(replica, task_id, lambda: here)
    assert [(i["role"], i["sha256"]) for i in report.photos.items] == [
        ("before", found[1].item["sha256"])
    ]
    find = PatrolFind(replica, lambda: here)
    offered = {found[0].item["sha256"], found[2].item["sha256"], found[3].item["sha256"]}
    assert {i["sha256"] for i in find.photos.items} == offered
    assert all(i["role"] == "evidence" for i in find.photos.items)

    # Used in a queued report, a photo leaves the list; the others wait for a find.
    report.add_photo(str(shoot(folder, 14, None)), "after")
    report.submit()
    op = replica.outbox()[-1]
    assert op["type"] == "task.submit"
    assert found[1].item["sha256"] in {p["sha256"] for p in op["payload"]["photos"]}
    assert len(captures.recovered(replica)) == 3
    find.kind = "other"
    find.submit()
    assert captures.recovered(replica) == []
    assert replica.state(captures.RECOVERED_KEY) is None
    assert unknown.exists() is False and stale.exists() is False and for_find.exists() is False
    assert before.exists() is False


# ------------------------------------------------------------------ the app


@pytest.fixture
def phone_app(kivy_window: Any) -> Iterator[Any]:
    """`make(data_dir, camera_folder)`: the app with the phone's camera on that folder
    (and the desktop stand-ins for the rest), built on the headless window."""
    from kivy.lang.parser import global_idmap

    from field_app.app import GridOpsApp

    made: list[tuple[Any, Any]] = []

    def make(data_dir: Path, folder: Path) -> Any:
        object.__setattr__(global_idmap["app"], "_obj", None)  # as conftest's FieldApp
        locator = SetLocator()
        locator.set_position(HERE.lon, HERE.lat, HERE.accuracy_m)
        devices = Devices(
            droid.AndroidCamera(folder=str(folder)),
            locator,
            BrowserNavigator(open_url=lambda url: True),
            LogNotifier(),
        )
        app = GridOpsApp(
            data_dir=str(data_dir), server="http://127.0.0.1:9", devices=devices, sync_period_s=3600
        )
        root = app.build()
        app.root = root
        kivy_window.add_widget(root)
        app.dispatch("on_start")
        made.append((app, root))
        return app

    yield make
    for app, root in made:
        kivy_window.remove_widget(root)
        app.dispatch("on_stop")
        pump()


def test_the_app_reopens_the_report_with_the_photo(phone_app: Any, tmp_path: Path) -> None:
    data = make_device(tmp_path / "phone")
    folder = tmp_path / "captures"
    with _open(data) as replica:
        task_id = reportable(replica)
    shot = shoot(folder, 20, {"screen": "report", "task_id": task_id, "role": "after"})
    app = phone_app(data, folder)
    pump(lambda: app.manager.current == "report", 30)
    assert app.current_task_id == task_id
    screen = app.screen("report")
    assert len(screen.ids.after.children) == 1 and len(screen.ids.before.children) == 0
    assert not shot.exists()
    assert "1" in app.toast

    screen.ids.note.text = "路面已清理"
    screen.ids.submit.dispatch("on_release")
    assert app.manager.current == "tasks", screen.error
    op = app.replica.outbox()[-1]
    assert (op["type"], op["task_id"]) == ("task.submit", task_id)
    assert [p["role"] for p in op["payload"]["photos"]] == ["after"]
    assert captures.recovered(app.replica) == []
    assert app.recovered_photos == 0


def test_a_photo_of_unknown_purpose_is_offered_for_a_find(phone_app: Any, tmp_path: Path) -> None:
    data = make_device(tmp_path / "phone")
    folder = tmp_path / "captures"
    shoot(folder, 21, None)
    app = phone_app(data, folder)
    tasks = app.screen("tasks")
    pump(lambda: app.recovered_photos == 1, 30)
    assert app.manager.current == "tasks"
    banner = tasks.ids.recovered_banner
    pump()
    assert banner.height > 0 and banner.opacity == 1 and "1" in banner.text
    banner.dispatch("on_release")
    assert app.manager.current == "patrol"
    assert len(app.screen("patrol").ids.photos.children) == 1


def _open(data: Path) -> Any:
    from contextlib import closing

    return closing(Replica(next(data.glob("*.gpkg"))))


def test_purpose_files_are_json(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    droid.write_purpose(str(path), {"screen": "report", "task_id": "任务", "role": "after"})
    assert json.loads(Path(droid.purpose_file(str(path))).read_text(encoding="utf-8")) == {
        "screen": "report",
        "task_id": "任务",
        "role": "after",
    }
    droid.write_purpose(str(tmp_path / "b.jpg"), None)
    assert not (tmp_path / "b.json").exists()
