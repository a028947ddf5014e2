"""Devices with replicas against a real hub: bootstrap, offline work, sync, convergence."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import LiveHub

from sync import geo
from sync.client import HubClient, Offline
from sync.replica import Refused, Replica
from sync.syncjob import login, sync_once

OPENED: list[Replica] = []


@pytest.fixture(autouse=True)
def close_devices() -> Iterator[None]:
    """Closes the replicas `device` opened (Python 3.13 warns about unclosed connections)."""
    yield
    while OPENED:
        OPENED.pop().close()


def device(tmp_path: Any, url: str, username: str) -> tuple[Replica, HubClient]:
    replica = Replica(tmp_path / f"{username}.gpkg")
    OPENED.append(replica)
    client = HubClient(url, retries=1, backoff_s=0.01)
    login(replica, client, username, "demo")
    return replica, client


def camera_jpeg(size: tuple[int, int] = (4000, 3000), seed: int = 3) -> bytes:
    from PIL import Image

    img = Image.new("RGB", size, (seed * 40 % 255, 120, 60))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def centre(hub: Any, code: str) -> tuple[float, float]:
    minx, miny, maxx, maxy = geo.bbox(hub.store.get_grid(code)["geometry"])
    return (minx + maxx) / 2, (miny + maxy) / 2


def hub_view(hub: Any, username: str) -> dict[str, dict[str, Any]]:
    user = hub.store.user(username)
    return {t["id"]: t for t in hub.store.list_tasks(user, limit=5000)}


def test_bootstrap_work_offline_then_sync(live_hub: LiveHub, tmp_path: Any) -> None:
    hub = live_hub.hub
    replica, client = device(tmp_path, live_hub.url, "jsl-worker-03")
    first = sync_once(replica, client)
    assert first.extract_loaded
    mine = hub_view(hub, "jsl-worker-03")
    assert {t["id"] for t in replica.tasks()} == set(mine)
    components = replica.conn.execute("SELECT COUNT(*) FROM components").fetchone()[0]
    assert (
        components
        == hub.store.reader.execute(
            "SELECT COUNT(*) FROM twin WHERE layer = 'components' AND grid_code = 'JSL-03'"
        ).fetchone()[0]
    )
    assert replica.conn.execute("SELECT COUNT(*) FROM grids").fetchone()[0] == 12

    # Offline: a task assigned to this worker is started and fixed with a camera photo.
    task = next(t for t in replica.tasks(["assigned"]))
    replica.start(task["id"])
    lon, lat = centre(hub, "JSL-03")
    photo = replica.add_photo(camera_jpeg(), "after", lon=lon, lat=lat)
    shown = replica.submit(task["id"], [photo], note="清理完毕", lon=lon, lat=lat, accuracy_m=6)
    assert shown["status"] == "submitted" and shown["pending"] == 2
    with pytest.raises(Refused) as refused:
        replica.confirm(task["id"])
    assert refused.value.code == "forbidden"
    assert replica.pending_count() == 2

    result = sync_once(replica, client)
    assert result.pushed == {"applied": 2} and result.photos_sent == 1
    on_hub = hub.store.get_task(task["id"])
    assert on_hub["status"] == "submitted"
    assert on_hub["photos"][-1]["sha256"] == photo["sha256"]
    stored = hub.photos.path(photo["sha256"]).read_bytes()
    from PIL import Image

    assert max(Image.open(io.BytesIO(stored)).size) == 1600
    assert replica.pending_count() == 0
    assert replica.task(task["id"])["status"] == "submitted"
    assert replica.task(task["id"])["pending"] == 0


def test_offline_with_the_hub_down(hub: Any, tmp_path: Any) -> None:
    server = LiveHub(hub).start()
    replica, client = device(tmp_path, server.url, "jsl-worker-05")
    sync_once(replica, client)
    lon, lat = centre(hub, "JSL-05")
    server.stop()
    made = replica.patrol_find("litter", lon, lat, self_fix=True)
    assert made["status"] == "assigned" and made["assignee_id"] == "jsl-worker-05"
    with pytest.raises(Offline):
        sync_once(replica, client)
    assert replica.pending_count() == 1
    server = LiveHub(hub, port=server.port).start()
    try:
        result = sync_once(replica, client)
    finally:
        server.stop()
    assert result.pushed == {"applied": 1}
    assert hub.store.get_task(made["id"])["status"] == "assigned"


def test_sync_job_runs_in_the_background_reports_and_cancels(
    live_hub: LiveHub, tmp_path: Any
) -> None:
    from sync.syncjob import Cancelled, SyncJob

    replica, client = device(tmp_path, live_hub.url, "jsl-dispatcher")
    seen: list[tuple[str, int, int]] = []
    job = SyncJob(replica, client, progress=lambda *p: seen.append(p)).start()
    result = job.wait(timeout=60)
    assert not job.is_running()
    assert result.pulled > 0 and result.extract_loaded and result.bytes_received > 0
    phases = [p[0] for p in seen]
    assert phases[0] in ("pull", "extract") and phases[-1] == "done" and "pull" in phases
    assert job.bytes_received == client.bytes_received
    # A job cancelled before it starts stops at its first safe point, changing nothing.
    lon, lat = centre(live_hub.hub, "JSL-02")
    replica.create_task("litter", lon, lat, title="取消测试")
    stopped = SyncJob(replica, client)
    stopped.cancel()
    stopped.start()
    with pytest.raises(Cancelled):
        stopped.wait(timeout=30)
    assert replica.pending_count() == 1


def test_two_office_edits_before_a_sync_both_apply(live_hub: LiveHub, tmp_path: Any) -> None:
    replica, client = device(tmp_path, live_hub.url, "jsl-dispatcher")
    sync_once(replica, client)
    task = next(t for t in replica.tasks(["open", "assigned"]))
    replica.update_task(task["id"], priority="urgent")
    replica.update_task(task["id"], due_at="2026-12-01T08:00:00Z")
    replica.assign(task["id"], "jsl-worker-02")
    result = sync_once(replica, client)
    assert result.pushed == {"applied": 3}, replica.refusals()
    on_hub = live_hub.hub.store.get_task(task["id"])
    assert (on_hub["priority"], on_hub["due_at"], on_hub["assignee_id"]) == (
        "urgent",
        "2026-12-01T08:00:00Z",
        "jsl-worker-02",
    )
    # Someone else moves the task on meanwhile: the next edit is refused, not overwriting.
    office = live_hub.hub.store.user("jsl-supervisor")
    from conftest import op

    live_hub.hub.store.push(office, "desk", [op("task.update", task["id"], title="别人改了")])
    replica.update_task(task["id"], priority="low")
    assert sync_once(replica, client).pushed == {"rejected": 1}
    assert replica.refusals()[0]["code"] == "conflict"
