"""The permission matrix of PROTOCOL.md "Authentication and roles": each role × each op and
endpoint × inside/outside the caller's scope.

The expected answers are written out literally in the tables below, read from PROTOCOL.md
(the op table's "who" column, the scope rules and the check order `not_found`,
`invalid_payload`, `outside_grids`, `forbidden`, `not_assignee`, `conflict`,
`invalid_transition`); nothing here is computed by the code under test. Outside the scope
answers 404 (in a push: `rejected` `not_found`, nothing revealed); inside the scope but not
allowed answers 403 (in a push: `rejected` `forbidden`).

Every task lies in grid JSL-03 of street JSL. The actors, by their relation to it:

- `assignee`: jsl-worker-03, the worker of JSL-03, assigned to the task;
- `former-assignee`: jsl-worker-04, to whom the task was assigned before jsl-worker-03;
- `grid-worker`: jsl-worker-03b, a second worker of JSL-03 (added by this module), never
  the assignee;
- `other-grid-worker`: jsl-worker-05, a worker of the same street, grid JSL-05;
- `reporter`: jsl-worker-07, who reported the `reported` tasks as a patrol find;
- `dispatcher`, `supervisor`: the JSL street office; `admin`;
- `hm-worker`, `hm-dispatcher`, `hm-supervisor`: the other street (outside the scope).

One hub serves the whole module (copying the demo hub per row would be slow); every row
prepares its own fresh task through the hub's own push, as the office and the worker would.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Api, jpeg, op

ACTORS: dict[str, str] = {
    "assignee": "jsl-worker-03",
    "former-assignee": "jsl-worker-04",
    "grid-worker": "jsl-worker-03b",
    "other-grid-worker": "jsl-worker-05",
    "reporter": "jsl-worker-07",
    "dispatcher": "jsl-dispatcher",
    "supervisor": "jsl-supervisor",
    "admin": "admin",
    "hm-worker": "hm-worker-03",
    "hm-dispatcher": "hm-dispatcher",
    "hm-supervisor": "hm-supervisor",
}
INSIDE = "inside"
OUTSIDE = "outside"

# (op type, the task's status before the op, actor, inside/outside the street, expected)
# where expected is `applied` or the `rejected` code.
OP_MATRIX: list[tuple[str, str | None, str, str, str]] = [
    # task.create: office roles anywhere in their street; a worker's patrol find anywhere in
    # their street ("elsewhere: forbidden"). A task that does not exist yet cannot be
    # "not seen", so outside the street is `forbidden` for the office too.
    ("task.create", None, "grid-worker", INSIDE, "applied"),
    ("task.create", None, "other-grid-worker", INSIDE, "applied"),
    ("task.create", None, "hm-worker", OUTSIDE, "forbidden"),
    ("task.create", None, "dispatcher", INSIDE, "applied"),
    ("task.create", None, "supervisor", INSIDE, "applied"),
    ("task.create", None, "admin", INSIDE, "applied"),
    ("task.create", None, "hm-dispatcher", OUTSIDE, "forbidden"),
    ("task.create", None, "hm-supervisor", OUTSIDE, "forbidden"),
    # task.triage: dispatcher, supervisor. A `reported` task is seen by its reporter and
    # the office, not by the grid's workers (only unassigned `open` tasks are).
    ("task.triage", "reported", "reporter", INSIDE, "forbidden"),
    ("task.triage", "reported", "grid-worker", INSIDE, "not_found"),
    ("task.triage", "reported", "other-grid-worker", INSIDE, "not_found"),
    ("task.triage", "reported", "hm-worker", OUTSIDE, "not_found"),
    ("task.triage", "reported", "dispatcher", INSIDE, "applied"),
    ("task.triage", "reported", "supervisor", INSIDE, "applied"),
    ("task.triage", "reported", "admin", INSIDE, "applied"),
    ("task.triage", "reported", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.triage", "reported", "hm-supervisor", OUTSIDE, "not_found"),
    # task.claim: a worker whose grid holds the task.
    ("task.claim", "open", "grid-worker", INSIDE, "applied"),
    ("task.claim", "open", "other-grid-worker", INSIDE, "not_found"),
    ("task.claim", "open", "hm-worker", OUTSIDE, "not_found"),
    ("task.claim", "open", "dispatcher", INSIDE, "forbidden"),
    ("task.claim", "open", "supervisor", INSIDE, "forbidden"),
    ("task.claim", "open", "admin", INSIDE, "forbidden"),
    ("task.claim", "open", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.claim", "open", "hm-supervisor", OUTSIDE, "not_found"),
    ("task.claim", "assigned", "assignee", INSIDE, "invalid_transition"),
    ("task.claim", "assigned", "grid-worker", INSIDE, "not_found"),
    # task.assign: dispatcher, supervisor.
    ("task.assign", "assigned", "assignee", INSIDE, "forbidden"),
    ("task.assign", "assigned", "grid-worker", INSIDE, "not_found"),
    ("task.assign", "assigned", "other-grid-worker", INSIDE, "not_found"),
    ("task.assign", "assigned", "hm-worker", OUTSIDE, "not_found"),
    ("task.assign", "assigned", "dispatcher", INSIDE, "applied"),
    ("task.assign", "assigned", "supervisor", INSIDE, "applied"),
    ("task.assign", "assigned", "admin", INSIDE, "applied"),
    ("task.assign", "assigned", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.assign", "assigned", "hm-supervisor", OUTSIDE, "not_found"),
    # task.update: dispatcher, supervisor.
    ("task.update", "assigned", "assignee", INSIDE, "forbidden"),
    ("task.update", "assigned", "grid-worker", INSIDE, "not_found"),
    ("task.update", "assigned", "other-grid-worker", INSIDE, "not_found"),
    ("task.update", "assigned", "hm-worker", OUTSIDE, "not_found"),
    ("task.update", "assigned", "dispatcher", INSIDE, "applied"),
    ("task.update", "assigned", "supervisor", INSIDE, "applied"),
    ("task.update", "assigned", "admin", INSIDE, "applied"),
    ("task.update", "assigned", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.update", "assigned", "hm-supervisor", OUTSIDE, "not_found"),
    # The assignee's ops: decline, start, pause, resume, submit. A worker's op on a task
    # that was assigned to them before is `not_assignee` (PROTOCOL.md "Sync").
    ("task.decline", "assigned", "assignee", INSIDE, "applied"),
    ("task.decline", "assigned", "former-assignee", INSIDE, "not_assignee"),
    ("task.decline", "assigned", "grid-worker", INSIDE, "not_found"),
    ("task.decline", "assigned", "other-grid-worker", INSIDE, "not_found"),
    ("task.decline", "assigned", "hm-worker", OUTSIDE, "not_found"),
    ("task.decline", "assigned", "dispatcher", INSIDE, "forbidden"),
    ("task.decline", "assigned", "supervisor", INSIDE, "forbidden"),
    ("task.decline", "assigned", "admin", INSIDE, "forbidden"),
    ("task.decline", "assigned", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.decline", "assigned", "hm-supervisor", OUTSIDE, "not_found"),
    ("task.start", "assigned", "assignee", INSIDE, "applied"),
    ("task.start", "assigned", "former-assignee", INSIDE, "not_assignee"),
    ("task.start", "assigned", "grid-worker", INSIDE, "not_found"),
    ("task.start", "assigned", "other-grid-worker", INSIDE, "not_found"),
    ("task.start", "assigned", "hm-worker", OUTSIDE, "not_found"),
    ("task.start", "assigned", "dispatcher", INSIDE, "forbidden"),
    ("task.start", "assigned", "supervisor", INSIDE, "forbidden"),
    ("task.start", "assigned", "admin", INSIDE, "forbidden"),
    ("task.start", "assigned", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.start", "assigned", "hm-supervisor", OUTSIDE, "not_found"),
    ("task.pause", "in_progress", "assignee", INSIDE, "applied"),
    ("task.pause", "in_progress", "former-assignee", INSIDE, "not_assignee"),
    ("task.pause", "in_progress", "grid-worker", INSIDE, "not_found"),
    ("task.pause", "in_progress", "other-grid-worker", INSIDE, "not_found"),
    ("task.pause", "in_progress", "hm-worker", OUTSIDE, "not_found"),
    ("task.pause", "in_progress", "dispatcher", INSIDE, "forbidden"),
    ("task.pause", "in_progress", "supervisor", INSIDE, "forbidden"),
    ("task.pause", "in_progress", "admin", INSIDE, "forbidden"),
    ("task.pause", "in_progress", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.pause", "in_progress", "hm-supervisor", OUTSIDE, "not_found"),
    ("task.resume", "paused", "assignee", INSIDE, "applied"),
    ("task.resume", "paused", "former-assignee", INSIDE, "not_assignee"),
    ("task.resume", "paused", "grid-worker", INSIDE, "not_found"),
    ("task.resume", "paused", "other-grid-worker", INSIDE, "not_found"),
    ("task.resume", "paused", "hm-worker", OUTSIDE, "not_found"),
    ("task.resume", "paused", "dispatcher", INSIDE, "forbidden"),
    ("task.resume", "paused", "supervisor", INSIDE, "forbidden"),
    ("task.resume", "paused", "admin", INSIDE, "forbidden"),
    ("task.resume", "paused", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.resume", "paused", "hm-supervisor", OUTSIDE, "not_found"),
    ("task.submit", "in_progress", "assignee", INSIDE, "applied"),
    ("task.submit", "in_progress", "former-assignee", INSIDE, "not_assignee"),
    ("task.submit", "in_progress", "grid-worker", INSIDE, "not_found"),
    ("task.submit", "in_progress", "other-grid-worker", INSIDE, "not_found"),
    ("task.submit", "in_progress", "hm-worker", OUTSIDE, "not_found"),
    ("task.submit", "in_progress", "dispatcher", INSIDE, "forbidden"),
    ("task.submit", "in_progress", "supervisor", INSIDE, "forbidden"),
    ("task.submit", "in_progress", "admin", INSIDE, "forbidden"),
    ("task.submit", "in_progress", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.submit", "in_progress", "hm-supervisor", OUTSIDE, "not_found"),
    # task.confirm, task.reject: supervisor (and admin).
    ("task.confirm", "submitted", "assignee", INSIDE, "forbidden"),
    ("task.confirm", "submitted", "grid-worker", INSIDE, "not_found"),
    ("task.confirm", "submitted", "other-grid-worker", INSIDE, "not_found"),
    ("task.confirm", "submitted", "hm-worker", OUTSIDE, "not_found"),
    ("task.confirm", "submitted", "dispatcher", INSIDE, "forbidden"),
    ("task.confirm", "submitted", "supervisor", INSIDE, "applied"),
    ("task.confirm", "submitted", "admin", INSIDE, "applied"),
    ("task.confirm", "submitted", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.confirm", "submitted", "hm-supervisor", OUTSIDE, "not_found"),
    ("task.reject", "submitted", "assignee", INSIDE, "forbidden"),
    ("task.reject", "submitted", "grid-worker", INSIDE, "not_found"),
    ("task.reject", "submitted", "other-grid-worker", INSIDE, "not_found"),
    ("task.reject", "submitted", "hm-worker", OUTSIDE, "not_found"),
    ("task.reject", "submitted", "dispatcher", INSIDE, "forbidden"),
    ("task.reject", "submitted", "supervisor", INSIDE, "applied"),
    ("task.reject", "submitted", "admin", INSIDE, "applied"),
    ("task.reject", "submitted", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.reject", "submitted", "hm-supervisor", OUTSIDE, "not_found"),
    # task.cancel: dispatcher, supervisor.
    ("task.cancel", "assigned", "assignee", INSIDE, "forbidden"),
    ("task.cancel", "assigned", "grid-worker", INSIDE, "not_found"),
    ("task.cancel", "assigned", "other-grid-worker", INSIDE, "not_found"),
    ("task.cancel", "assigned", "hm-worker", OUTSIDE, "not_found"),
    ("task.cancel", "assigned", "dispatcher", INSIDE, "applied"),
    ("task.cancel", "assigned", "supervisor", INSIDE, "applied"),
    ("task.cancel", "assigned", "admin", INSIDE, "applied"),
    ("task.cancel", "assigned", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.cancel", "assigned", "hm-supervisor", OUTSIDE, "not_found"),
    # task.reopen: supervisor (and admin). A closed task keeps its assignee, who sees it.
    ("task.reopen", "closed", "assignee", INSIDE, "forbidden"),
    ("task.reopen", "closed", "grid-worker", INSIDE, "not_found"),
    ("task.reopen", "closed", "other-grid-worker", INSIDE, "not_found"),
    ("task.reopen", "closed", "hm-worker", OUTSIDE, "not_found"),
    ("task.reopen", "closed", "dispatcher", INSIDE, "forbidden"),
    ("task.reopen", "closed", "supervisor", INSIDE, "applied"),
    ("task.reopen", "closed", "admin", INSIDE, "applied"),
    ("task.reopen", "closed", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.reopen", "closed", "hm-supervisor", OUTSIDE, "not_found"),
    # task.comment: anyone who can see the task.
    ("task.comment", "assigned", "assignee", INSIDE, "applied"),
    ("task.comment", "assigned", "former-assignee", INSIDE, "not_assignee"),
    ("task.comment", "assigned", "grid-worker", INSIDE, "not_found"),
    ("task.comment", "assigned", "other-grid-worker", INSIDE, "not_found"),
    ("task.comment", "assigned", "hm-worker", OUTSIDE, "not_found"),
    ("task.comment", "assigned", "dispatcher", INSIDE, "applied"),
    ("task.comment", "assigned", "supervisor", INSIDE, "applied"),
    ("task.comment", "assigned", "admin", INSIDE, "applied"),
    ("task.comment", "assigned", "hm-dispatcher", OUTSIDE, "not_found"),
    ("task.comment", "assigned", "hm-supervisor", OUTSIDE, "not_found"),
    ("task.comment", "open", "grid-worker", INSIDE, "applied"),
    ("task.comment", "open", "other-grid-worker", INSIDE, "not_found"),
    ("task.comment", "open", "hm-worker", OUTSIDE, "not_found"),
    ("task.comment", "reported", "reporter", INSIDE, "applied"),
    ("task.comment", "reported", "grid-worker", INSIDE, "not_found"),
    ("task.comment", "closed", "assignee", INSIDE, "applied"),
]

# The status an applied op leaves (PROTOCOL.md's op table), by (op type, actor) where the
# actor matters (a worker's patrol find: self-fix in their grid → assigned, else reported).
AFTER: dict[tuple[str, str], str] = {
    ("task.create", "grid-worker"): "assigned",
    ("task.create", "other-grid-worker"): "reported",
    ("task.create", "dispatcher"): "open",
    ("task.create", "supervisor"): "open",
    ("task.create", "admin"): "open",
}
AFTER_OP: dict[str, str] = {
    "task.triage": "open",
    "task.claim": "assigned",
    "task.assign": "assigned",
    "task.update": "assigned",
    "task.decline": "declined",
    "task.start": "in_progress",
    "task.pause": "paused",
    "task.resume": "in_progress",
    "task.submit": "submitted",
    "task.confirm": "closed",
    "task.reject": "rework",
    "task.cancel": "canceled",
    "task.reopen": "open",
}

# Where the hub's answer disagrees with PROTOCOL.md: (op, start, actor) -> reason.
HUB_BUGS: dict[tuple[str, str | None, str], str] = {}


# ---------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture(scope="module")
def mapi(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One hub for the module, with a second worker in grid JSL-03 (`jsl-worker-03b`)."""
    from fastapi.testclient import TestClient

    from sync.server.app import create_app
    from sync.server.auth import hash_password
    from sync.server.hub import Hub

    data = tmp_path_factory.mktemp("permissions") / "hub"
    shutil.copytree(demo_template, data)
    hub = Hub(data)
    hub.store.add_user(
        user_id="jsl-worker-03b",
        username="jsl-worker-03b",
        display_name="JSL-03 second worker",
        role="worker",
        street_code="JSL",
        password_hash=hash_password("demo"),
        grid_codes=["JSL-03"],
        on_duty=True,
    )
    with TestClient(create_app(hub)) as client:
        the_api = Api(client)
        the_api.hub = hub  # type: ignore[attr-defined]
        yield the_api
    hub.close()


def _point_in(hub: Any, grid_code: str) -> tuple[float, float]:
    from sync import geo

    grid = hub.store.get_grid(grid_code)
    minx, miny, maxx, maxy = geo.bbox(grid["geometry"])
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    assert hub.store.locate(lon, lat) == (grid_code, grid["properties"]["street_code"])
    return lon, lat


@pytest.fixture(scope="module")
def where(mapi: Api) -> dict[str, tuple[float, float]]:
    hub = mapi.hub  # type: ignore[attr-defined]
    return {code: _point_in(hub, code) for code in ("JSL-03", "JSL-05", "HM-03")}


@pytest.fixture(scope="module")
def after_photo(mapi: Api) -> str:
    """A photo held by the hub, uploaded by the assignee, for `task.submit`."""
    data, sha = jpeg(201)
    resp = mapi.put(
        f"/api/v1/photos/{sha}",
        content=data,
        headers={**mapi.login("jsl-worker-03"), "Content-Type": "image/jpeg"},
    )
    assert resp.status_code in (200, 201), resp.text
    return sha


def _applied(results: list[dict[str, Any]]) -> dict[str, Any]:
    assert [r["status"] for r in results] == ["applied"] * len(results), results
    return results[-1]


def _task(api: Api, task_id: str) -> dict[str, Any]:
    resp = api.get(f"/api/v1/tasks/{task_id}", headers=api.login("admin"))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def prepare(
    api: Api, status: str | None, point: tuple[float, float], photo: str, grid: str = "JSL-03"
) -> str:
    """A fresh task in `status`, brought there by the hub's own push as the office and the
    assignee would. Assigned tasks were first assigned to jsl-worker-04, then to
    jsl-worker-03 (so jsl-worker-04 is a former assignee)."""
    task_id = str(uuid.uuid4())
    if status is None:
        return task_id
    lon, lat = point
    office = "jsl-dispatcher" if grid.startswith("JSL") else "hm-dispatcher"
    if status == "reported":
        _applied(
            api.push(
                "jsl-worker-07",
                op("task.create", task_id, kind="litter", lon=lon, lat=lat, source="patrol"),
            )
        )
    elif status == "open":
        _applied(api.push(office, op("task.create", task_id, kind="litter", lon=lon, lat=lat)))
    else:
        _applied(
            api.push(
                office,
                op(
                    "task.create",
                    task_id,
                    kind="litter",
                    lon=lon,
                    lat=lat,
                    assignee_id="jsl-worker-04",
                ),
                op("task.assign", task_id, assignee_id="jsl-worker-03"),
            )
        )
        worker_ops = {
            "assigned": [],
            "in_progress": [op("task.start", task_id)],
            "paused": [op("task.start", task_id), op("task.pause", task_id, reason="午休")],
            "submitted": [_submit(task_id, photo)],
            "closed": [_submit(task_id, photo)],
        }[status]
        if worker_ops:
            _applied(api.push("jsl-worker-03", *worker_ops))
        if status == "closed":
            _applied(api.push("jsl-supervisor", op("task.confirm", task_id, note="好")))
    assert _task(api, task_id)["status"] == status
    return task_id


def _submit(task_id: str, photo: str) -> dict[str, Any]:
    return op("task.submit", task_id, note="清理完毕", photos=[{"sha256": photo, "role": "after"}])


def _op_for(
    op_type: str, task_id: str, actor: str, point: tuple[float, float], photo: str
) -> dict[str, Any]:
    """The op as the actor's device would send it, with a well-formed payload."""
    lon, lat = point
    if op_type == "task.create":
        if ACTORS[actor].startswith(("jsl-worker", "hm-worker")):
            return op(
                op_type, task_id, kind="litter", lon=lon, lat=lat, source="patrol", self_fix=True
            )
        return op(op_type, task_id, kind="litter", lon=lon, lat=lat)
    payloads: dict[str, dict[str, Any]] = {
        "task.triage": {"decision": "accept"},
        "task.claim": {},
        "task.assign": {"assignee_id": "jsl-worker-06"},
        "task.update": {"priority": "high"},
        "task.decline": {"reason": "不属于本网格"},
        "task.start": {},
        "task.pause": {"reason": "等待物业"},
        "task.resume": {},
        "task.submit": {"note": "好了", "photos": [{"sha256": photo, "role": "after"}]},
        "task.confirm": {"note": "确认"},
        "task.reject": {"comment": "照片不清楚"},
        "task.cancel": {"reason": "重复"},
        "task.reopen": {"reason": "又脏了"},
        "task.comment": {"text": "收到"},
    }
    return op(op_type, task_id, **payloads[op_type])


def _matrix_params() -> list[Any]:
    params = []
    for row in OP_MATRIX:
        op_type, start, actor, scope, expected = row
        marks = []
        bug = HUB_BUGS.get((op_type, start, actor))
        if bug:
            marks.append(pytest.mark.xfail(strict=True, reason=f"hub bug: {bug}"))
        ident = f"{op_type}-{start or 'new'}-{actor}-{scope}-{expected}"
        params.append(pytest.param(*row, marks=marks, id=ident))
    return params


# ---------------------------------------------------------------------------------------
# Ops


@pytest.mark.parametrize(("op_type", "start", "actor", "scope", "expected"), _matrix_params())
def test_op_permission(
    mapi: Api,
    where: dict[str, tuple[float, float]],
    after_photo: str,
    op_type: str,
    start: str | None,
    actor: str,
    scope: str,
    expected: str,
) -> None:
    assert scope == (OUTSIDE if actor.startswith("hm-") else INSIDE)
    point = where["JSL-03"]
    task_id = prepare(mapi, start, point, after_photo)
    before = None if start is None else _task(mapi, task_id)

    sent = _op_for(op_type, task_id, actor, point, after_photo)
    (result,) = mapi.push(ACTORS[actor], sent)

    assert result["op_id"] == sent["op_id"]
    if expected == "applied":
        assert (result["status"], result["code"]) == ("applied", None), result
        now = _task(mapi, task_id)
        if op_type == "task.comment":
            assert before is not None
            assert (now["status"], now["version"]) == (before["status"], before["version"])
            assert now["history"][-1]["type"] == "task.comment"
        else:
            then = AFTER.get((op_type, actor)) or AFTER_OP[op_type]
            assert now["status"] == then
            assert now["version"] == (1 if before is None else before["version"] + 1)
        assert now["history"][-1]["actor_id"] == ACTORS[actor]
    else:
        assert (result["status"], result["code"]) == ("rejected", expected), result
        if expected == "not_found":
            assert result["task"] is None, "a not_found answer reveals nothing about the task"
        if before is None:
            got = mapi.get(f"/api/v1/tasks/{task_id}", headers=mapi.login("admin"))
            assert got.status_code == 404, "a refused create made a task"
        else:
            now = _task(mapi, task_id)
            assert (now["status"], now["version"], now["assignee_id"]) == (
                before["status"],
                before["version"],
                before["assignee_id"],
            ), "a refused op changed the task"
        # Nothing a device sent is lost: the refusal is in the sender's own list.
        mine = mapi.get("/api/v1/conflicts", headers=mapi.login(ACTORS[actor]))
        assert mine.status_code == 200
        assert any(c["op_id"] == sent["op_id"] and c["code"] == expected for c in mine.json()), (
            "the refused op is not in the sender's conflicts"
        )
