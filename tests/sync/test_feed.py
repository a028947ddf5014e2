"""The scoped change feed (`GET /api/v1/sync/changes`): snapshot paging, changes made during
a snapshot, scope filtering, `remove` when a task leaves the scope, one entry per entity."""

from __future__ import annotations

from typing import Any

from conftest import Api, op

from sync import geo


def pull_all(api: Api, username: str, since: str = "", limit: int = 500) -> tuple[list, str]:
    changes: list[dict[str, Any]] = []
    while True:
        resp = api.get(
            "/api/v1/sync/changes",
            params={"since": since, "limit": limit},
            headers=api.login(username),
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        changes += body["changes"]
        since = body["cursor"]
        if not body["has_more"]:
            return changes, since


def centre(hub: Any, grid_code: str) -> tuple[float, float]:
    minx, miny, maxx, maxy = geo.bbox(hub.store.get_grid(grid_code)["geometry"])
    return (minx + maxx) / 2, (miny + maxy) / 2


def test_snapshot_pages_deliver_each_entity_once(api: Api, hub: Any) -> None:
    changes, _ = pull_all(api, "jsl-dispatcher", limit=7)
    keys = [(c["entity"], c["id"]) for c in changes]
    assert len(keys) == len(set(keys))
    tasks = {c["id"] for c in changes if c["entity"] == "task"}
    in_street = {
        r[0] for r in hub.store.reader.execute("SELECT id FROM tasks WHERE street_code = 'JSL'")
    }
    assert tasks == in_street and len(tasks) >= 20
    users = {c["id"] for c in changes if c["entity"] == "user"}
    assert users == {"jsl-dispatcher", "jsl-supervisor"} | {
        f"jsl-worker-{n:02d}" for n in range(1, 13)
    }
    grids = [c for c in changes if c["entity"] == "grid"]
    assert sorted(g["id"] for g in grids) == [f"JSL-{n:02d}" for n in range(1, 13)]
    assert grids[0]["data"]["type"] == "Feature"
    assert set(grids[0]["data"]["properties"]) >= {"code", "street_code", "name", "worker_ids"}
    assert all(c["op"] == "upsert" for c in changes)


def test_changes_during_a_snapshot_are_not_lost(api: Api, hub: Any) -> None:
    first = api.get(
        "/api/v1/sync/changes",
        params={"since": "", "limit": 5},
        headers=api.login("jsl-dispatcher"),
    ).json()
    assert first["has_more"]
    lon, lat = centre(hub, "JSL-02")
    created = op("task.create", kind="litter", lon=lon, lat=lat, title="during snapshot")
    assert api.push("jsl-dispatcher", created)[0]["status"] == "applied"
    rest, cursor = pull_all(api, "jsl-dispatcher", since=first["cursor"], limit=5)
    ids = [c["id"] for c in first["changes"] + rest if c["entity"] == "task"]
    assert ids.count(created["task_id"]) >= 1
    # From the final cursor, nothing new: the feed is caught up.
    tail, _ = pull_all(api, "jsl-dispatcher", since=cursor)
    assert tail == []


def test_worker_scope_and_remove_when_the_task_leaves_it(api: Api, hub: Any) -> None:
    snapshot, cursor3 = pull_all(api, "jsl-worker-03")
    for change in snapshot:
        if change["entity"] == "task":
            task = change["data"]
            assert "jsl-worker-03" in (task["assignee_id"], task.get("reporter_id")) or (
                task["status"] == "open" and task["grid_code"] == "JSL-03"
            )
        if change["entity"] == "user":
            assert change["data"]["role"] == "worker"
            if change["id"] != "jsl-worker-03":
                assert "on_duty" not in change["data"]
    _, cursor4 = pull_all(api, "jsl-worker-04")
    lon, lat = centre(hub, "JSL-03")
    created = op("task.create", kind="waterlogging", lon=lon, lat=lat)
    api.push("jsl-dispatcher", created)
    changes, cursor3 = pull_all(api, "jsl-worker-03", since=cursor3)
    assert [(c["id"], c["op"]) for c in changes] == [(created["task_id"], "upsert")]
    assert pull_all(api, "jsl-worker-04", since=cursor4)[0] == []
    # Assigned to someone else: it leaves worker 03's scope.
    api.push("jsl-dispatcher", op("task.assign", created["task_id"], assignee_id="jsl-worker-04"))
    changes, cursor3 = pull_all(api, "jsl-worker-03", since=cursor3)
    assert changes == [{"entity": "task", "id": created["task_id"], "op": "remove", "data": None}]
    changes, _ = pull_all(api, "jsl-worker-04", since=cursor4)
    assert [(c["id"], c["op"], c["data"]["assignee_id"]) for c in changes] == [
        (created["task_id"], "upsert", "jsl-worker-04")
    ]
    # Other streets never see it.
    _, hm_cursor = pull_all(api, "hm-dispatcher")
    api.push("jsl-dispatcher", op("task.comment", created["task_id"], text="hi"))
    assert pull_all(api, "hm-dispatcher", since=hm_cursor)[0] == []


def test_many_changes_to_one_task_arrive_once_as_it_stands(api: Api, hub: Any) -> None:
    _, cursor = pull_all(api, "jsl-supervisor")
    lon, lat = centre(hub, "JSL-05")
    created = op("task.create", kind="litter", lon=lon, lat=lat)
    ops = [created] + [op("task.comment", created["task_id"], text=f"#{n}") for n in range(9)]
    assert {r["status"] for r in api.push("jsl-dispatcher", *ops)} == {"applied"}
    changes, _ = pull_all(api, "jsl-supervisor", since=cursor)
    assert len(changes) == 1 and len(changes[0]["data"]["history"]) == 10


def test_duty_and_user_changes_reach_the_office(api: Api) -> None:
    _, cursor = pull_all(api, "jsl-dispatcher")
    resp = api.put("/api/v1/me/duty", json={"on_duty": False}, headers=api.login("jsl-worker-05"))
    assert resp.status_code == 200 and resp.json() == {"on_duty": False}
    changes, _ = pull_all(api, "jsl-dispatcher", since=cursor)
    assert [(c["entity"], c["id"], c["data"]["on_duty"]) for c in changes] == [
        ("user", "jsl-worker-05", False)
    ]
    workers = api.get(
        "/api/v1/users", params={"role": "worker"}, headers=api.login("jsl-dispatcher")
    ).json()
    assert {u["id"]: u["on_duty"] for u in workers}["jsl-worker-05"] is False
    assert len(workers) == 12


def test_a_worker_given_a_grid_receives_its_open_tasks_and_twin(api: Api, hub: Any) -> None:
    lon, lat = centre(hub, "JSL-09")
    created = op("task.create", kind="litter", lon=lon, lat=lat)
    api.push("jsl-dispatcher", created)
    _, cursor = pull_all(api, "jsl-worker-08")
    hub.store.set_user_grids("jsl-worker-08", ["JSL-08", "JSL-09"])
    api.tokens.clear()  # the worker's next request reads their new grids
    changes, cursor = pull_all(api, "jsl-worker-08", since=cursor)
    tasks = {c["id"]: c["op"] for c in changes if c["entity"] == "task"}
    assert tasks[created["task_id"]] == "upsert"
    twin = [c for c in changes if c["entity"] == "twin_feature"]
    in_grid = hub.store.reader.execute(
        "SELECT COUNT(*) FROM twin WHERE grid_code = 'JSL-09'"
    ).fetchone()[0]
    assert len(twin) == in_grid and all(c["op"] == "upsert" for c in twin)
    # Relieved of it again: the open task and the grid's twin leave the worker's replica.
    hub.store.set_user_grids("jsl-worker-08", ["JSL-08"])
    changes, _ = pull_all(api, "jsl-worker-08", since=cursor)
    assert {c["id"]: c["op"] for c in changes if c["entity"] == "task"}[
        created["task_id"]
    ] == "remove"
    assert {c["op"] for c in changes if c["entity"] == "twin_feature"} == {"remove"}
