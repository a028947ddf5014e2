"""A task's whole life over real HTTP against a hub on a loopback port (PROTOCOL.md tables).

Covers: create → assign → start → submit with photo → reject → rework → submit → confirm;
a claim refused outside the worker's grids; patrol finds (self-fix and for triage); a
reassignment while the first worker is offline, whose late submit is refused
`not_assignee`, kept with its photo in `conflicts`, and whose feed then shows a `remove`.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from conftest import HttpDevice, jpeg, op


def Device(url: str, username: str) -> HttpDevice:
    """A phone over HTTP, pulling in small pages so that paging is exercised."""
    return HttpDevice(url, username, page=200)


def _point_in(hub: Any, grid_code: str) -> tuple[float, float]:
    from sync import geo

    grid = hub.store.get_grid(grid_code)
    minx, miny, maxx, maxy = geo.bbox(grid["geometry"])
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    assert hub.store.locate(lon, lat) == (grid_code, grid["properties"]["street_code"])
    return lon, lat


def _applied(results: list[dict[str, Any]]) -> dict[str, Any]:
    assert [r["status"] for r in results] == ["applied"] * len(results), results
    return results[-1]["task"]


def test_full_lifecycle_with_rework(live_hub: Any) -> None:
    hub = live_hub.hub
    dispatcher = Device(live_hub.url, "jsl-dispatcher")
    supervisor = Device(live_hub.url, "jsl-supervisor")
    worker = Device(live_hub.url, "jsl-worker-03")
    lon, lat = _point_in(hub, "JSL-03")

    create = op("task.create", kind="litter", lon=lon, lat=lat, title="路口垃圾")
    task_id = create["task_id"]
    task = _applied(dispatcher.push(create))
    assert (task["status"], task["grid_code"], task["street_code"]) == ("open", "JSL-03", "JSL")
    assert task["version"] == 1 and task["source"] == "office"

    task = _applied(dispatcher.push(op("task.assign", task_id, assignee_id="jsl-worker-03")))
    assert (task["status"], task["assignee_id"], task["version"]) == (
        "assigned",
        "jsl-worker-03",
        2,
    )
    task = _applied(worker.push(op("task.start", task_id)))
    assert task["status"] == "in_progress"

    data, sha = jpeg(1)
    assert worker.upload(data, sha) == 201
    assert worker.upload(data, sha) == 200
    photo = {
        "sha256": sha,
        "role": "after",
        "taken_at": "2026-06-01T09:00:00Z",
        "lon": lon,
        "lat": lat,
    }
    task = _applied(
        worker.push(
            op(
                "task.submit",
                task_id,
                note="清理完毕",
                lon=lon,
                lat=lat,
                accuracy_m=5,
                photos=[photo],
            )
        )
    )
    assert task["status"] == "submitted"
    assert task["photos"][0]["sha256"] == sha and task["photos"][0]["uploaded_by"] == (
        "jsl-worker-03"
    )
    got = supervisor.session.get(f"{live_hub.url}/api/v1/photos/{sha}", timeout=10)
    assert got.status_code == 200 and got.content == data

    task = _applied(supervisor.push(op("task.reject", task_id, comment="照片不清楚")))
    assert task["status"] == "rework"
    task = _applied(worker.push(op("task.start", task_id)))
    assert task["status"] == "in_progress"
    data2, sha2 = jpeg(2)
    worker.upload(data2, sha2)
    task = _applied(
        worker.push(op("task.submit", task_id, photos=[{"sha256": sha2, "role": "after"}]))
    )
    task = _applied(supervisor.push(op("task.confirm", task_id, note="确认")))
    assert task["status"] == "closed"
    assert [p["sha256"] for p in task["photos"]] == [sha, sha2]
    assert [h["type"] for h in task["history"]] == [
        "task.create",
        "task.assign",
        "task.start",
        "task.submit",
        "task.reject",
        "task.start",
        "task.submit",
        "task.confirm",
    ]
    assert task["version"] == 8
    assert {h["actor_id"] for h in task["history"]} == {
        "jsl-dispatcher",
        "jsl-worker-03",
        "jsl-supervisor",
    }
    # The worker's feed carries the task as it ended.
    seen = {c["id"]: c for c in worker.pull() if c["entity"] == "task"}
    assert seen[task_id]["op"] == "upsert" and seen[task_id]["data"]["status"] == "closed"


def test_claim_refused_outside_the_workers_grids(live_hub: Any) -> None:
    hub = live_hub.hub
    dispatcher = Device(live_hub.url, "jsl-dispatcher")
    lon, lat = _point_in(hub, "JSL-04")
    create = op("task.create", kind="bike_parking", lon=lon, lat=lat)
    _applied(dispatcher.push(create))
    own = Device(live_hub.url, "jsl-worker-04")
    other = Device(live_hub.url, "jsl-worker-05")
    # A worker of another grid cannot see the open task at all: not_found, nothing revealed.
    refused = other.push(op("task.claim", create["task_id"]))[0]
    assert (refused["status"], refused["code"], refused["task"]) == ("rejected", "not_found", None)
    claimed = _applied(own.push(op("task.claim", create["task_id"])))
    assert (claimed["status"], claimed["assignee_id"]) == ("assigned", "jsl-worker-04")


def test_patrol_finds_self_fix_and_for_triage(live_hub: Any) -> None:
    hub = live_hub.hub
    worker = Device(live_hub.url, "jsl-worker-06")
    lon, lat = _point_in(hub, "JSL-06")
    mine = _applied(
        worker.push(
            op("task.create", kind="litter", lon=lon, lat=lat, source="patrol", self_fix=True)
        )
    )
    assert (mine["status"], mine["assignee_id"], mine["source"]) == (
        "assigned",
        "jsl-worker-06",
        "patrol",
    )
    far_lon, far_lat = _point_in(hub, "JSL-09")
    found = _applied(
        worker.push(
            op(
                "task.create",
                kind="waterlogging",
                lon=far_lon,
                lat=far_lat,
                source="patrol",
                self_fix=True,
            )
        )
    )
    assert (found["status"], found["assignee_id"]) == ("reported", None)
    # The reporter still sees their find; the office triages it.
    dispatcher = Device(live_hub.url, "jsl-dispatcher")
    task = _applied(dispatcher.push(op("task.triage", found["id"], decision="accept")))
    assert task["status"] == "open" and task["grid_code"] == "JSL-09"
    # Outside the worker's street: forbidden.
    hm_lon, hm_lat = _point_in(hub, "HM-01")
    refused = worker.push(
        op("task.create", kind="litter", lon=hm_lon, lat=hm_lat, source="patrol")
    )[0]
    assert (refused["status"], refused["code"]) == ("rejected", "forbidden")


def test_late_submit_after_reassignment_is_kept(live_hub: Any) -> None:
    hub = live_hub.hub
    dispatcher = Device(live_hub.url, "jsl-dispatcher")
    supervisor = Device(live_hub.url, "jsl-supervisor")
    first = Device(live_hub.url, "jsl-worker-07")
    lon, lat = _point_in(hub, "JSL-07")
    create = op("task.create", kind="illegal_drying", lon=lon, lat=lat, assignee_id="jsl-worker-07")
    task_id = create["task_id"]
    _applied(dispatcher.push(create))
    _applied(first.push(op("task.start", task_id)))
    first.pull()
    # The first worker goes offline; the office reassigns meanwhile.
    _applied(dispatcher.push(op("task.assign", task_id, assignee_id="jsl-worker-08")))
    # Back online, the first worker's queued fix report arrives late.
    data, sha = jpeg(7)
    first.upload(data, sha)
    late = first.push(
        op(
            "task.submit",
            task_id,
            note="已处理",
            photos=[{"sha256": sha, "role": "after", "lon": lon, "lat": lat}],
        )
    )[0]
    assert (late["status"], late["code"], late["task"]) == ("rejected", "not_assignee", None)
    # Kept: in the task's conflicts with its payload, and in the sender's own list.
    task = supervisor.session.get(f"{live_hub.url}/api/v1/tasks/{task_id}", timeout=10).json()
    assert task["status"] == "assigned" and task["assignee_id"] == "jsl-worker-08"
    [conflict] = task["conflicts"]
    assert (conflict["op_id"], conflict["code"], conflict["actor_id"]) == (
        late["op_id"],
        "not_assignee",
        "jsl-worker-07",
    )
    assert conflict["payload"]["photos"][0]["sha256"] == sha
    mine = first.session.get(f"{live_hub.url}/api/v1/conflicts", timeout=10).json()
    assert mine[0]["op_id"] == late["op_id"] and mine[0]["payload"]["note"] == "已处理"
    # The supervisor can look at the late photo; the first worker's feed drops the task.
    assert (
        supervisor.session.get(f"{live_hub.url}/api/v1/photos/{sha}", timeout=10).status_code == 200
    )
    removes = [c for c in first.pull() if c["entity"] == "task" and c["id"] == task_id]
    assert removes == [{"entity": "task", "id": task_id, "op": "remove", "data": None}]
    # Re-sending the refused op answers duplicate with the same code.
    again = first.push({**op("task.submit", task_id), "op_id": late["op_id"]})[0]
    assert (again["status"], again["code"]) == ("duplicate", "not_assignee")


@pytest.mark.parametrize("username", ["jsl-worker-01", "jsl-dispatcher", "admin"])
def test_health_and_openapi(live_hub: Any, username: str) -> None:
    assert requests.get(f"{live_hub.url}/api/v1/health", timeout=5).json()["status"] == "ok"
    doc = requests.get(f"{live_hub.url}/openapi.json", timeout=5).json()
    assert "/api/v1/sync/push" in doc["paths"] and "/api/v1/twin/extract.gpkg" in doc["paths"]
    Device(live_hub.url, username)  # every kind of account logs in
