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

Tables: `OP_MATRIX` (every op type of PROTOCOL.md's table × actor), `ORDER_MATRIX` (ops
failing several checks), and one per endpoint: `TASK_READ`, `USERS`, `MY_DUTY`,
`USER_DUTY`, `GRIDS`, `PHOTO_READ`, `EXTRACT`, `TWIN_WRITE`, `TWIN_FEED`, `FEED`, plus
`/conflicts` (only one's own) and 401 for every endpoint without a live token.

One hub serves the whole module (copying the demo hub per row would be slow); every row
prepares its own fresh task through the hub's own push, as the office and the worker would.
Where the hub disagrees with PROTOCOL.md the test keeps PROTOCOL.md's answer and is marked
`xfail(strict=True, reason="hub bug: ...")`.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
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
def mhub(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One demo hub for the module, with a second worker in grid JSL-03 (`jsl-worker-03b`)."""
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
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def mapi(mhub: Any) -> Iterator[Api]:
    """The in-process client of `mhub` (tokens cached per account for the module)."""
    from fastapi.testclient import TestClient

    from sync.server.app import create_app

    with TestClient(create_app(mhub)) as client:
        yield Api(client)


def _point_in(hub: Any, grid_code: str) -> tuple[float, float]:
    from sync import geo

    grid = hub.store.get_grid(grid_code)
    minx, miny, maxx, maxy = geo.bbox(grid["geometry"])
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    assert hub.store.locate(lon, lat) == (grid_code, grid["properties"]["street_code"])
    return lon, lat


@pytest.fixture(scope="module")
def where(mhub: Any) -> dict[str, tuple[float, float]]:
    """A point inside each grid the tables use."""
    return {code: _point_in(mhub, code) for code in ("JSL-03", "JSL-05", "HM-03")}


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
    api: Api,
    status: str | None,
    point: tuple[float, float],
    photo: str,
    office: str = "jsl-dispatcher",
) -> str:
    """A fresh task in `status` (None: a fresh id, no task), brought there by the hub's own
    push as the office and the assignee would. Tasks past `open` were first assigned to
    jsl-worker-04, then to jsl-worker-03 (so jsl-worker-04 is a former assignee); those
    are JSL tasks, while `open` ones may be made by another street's `office`."""
    task_id = str(uuid.uuid4())
    if status is None:
        return task_id
    lon, lat = point
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
    sent = _op_for(op_type, task_id, actor, point, after_photo)
    _check_push(mapi, task_id, start, actor, sent, expected)
    if expected == "applied":
        now = _task(mapi, task_id)
        if op_type == "task.comment":
            assert now["status"] == start
        else:
            assert now["status"] == (AFTER.get((op_type, actor)) or AFTER_OP[op_type])


def _check_push(
    mapi: Api,
    task_id: str,
    start: str | None,
    actor: str,
    sent: dict[str, Any],
    expected: str,
) -> None:
    """Sends `sent` as `actor` and checks the answer against `expected`, and what it did."""
    before = None if start is None else _task(mapi, task_id)
    (result,) = mapi.push(ACTORS[actor], sent)
    assert result["op_id"] == sent["op_id"]
    if expected == "applied":
        assert (result["status"], result["code"]) == ("applied", None), result
        now = _task(mapi, task_id)
        changes = sent["type"] != "task.comment"
        base = 0 if before is None else before["version"]
        assert now["version"] == base + (1 if changes else 0)
        assert now["history"][-1]["op_id"] == sent["op_id"]
        assert now["history"][-1]["actor_id"] == ACTORS[actor]
        # `task` is null when the caller can no longer see it (a declined task went back
        # to the office); else the task as it now stands.
        if sent["type"] == "task.decline":
            assert result["task"] is None
        else:
            assert result["task"]["id"] == task_id
            assert result["task"]["version"] == now["version"]
        return
    assert (result["status"], result["code"]) == ("rejected", expected), result
    if before is None:
        assert result["task"] is None
        got = mapi.get(f"/api/v1/tasks/{task_id}", headers=mapi.login("admin"))
        assert got.status_code == 404, "a refused create made a task"
    else:
        now = _task(mapi, task_id)
        assert (now["status"], now["version"], now["assignee_id"], now["history"]) == (
            before["status"],
            before["version"],
            before["assignee_id"],
            before["history"],
        ), "a refused op changed the task"
        kept = [c for c in now["conflicts"] if c["op_id"] == sent["op_id"]]
        if expected == "not_found":
            # Nothing about the task is revealed, and nothing is added to it.
            assert result["task"] is None
            assert kept == []
        else:
            # Kept in the task's conflicts with its payload (the sender may see the task,
            # or it was assigned to them before).
            assert [(c["code"], c["actor_id"], c["payload"]) for c in kept] == [
                (expected, ACTORS[actor], sent["payload"])
            ]
            # `task` as the sender may now see it: a former assignee no longer does.
            if actor == "former-assignee":
                assert result["task"] is None
            else:
                assert result["task"]["id"] == task_id
    # Nothing a device sent is lost: the refusal is in the sender's own list ...
    mine = mapi.get("/api/v1/conflicts", headers=mapi.login(ACTORS[actor]))
    assert mine.status_code == 200
    assert [(c["code"], c["payload"]) for c in mine.json() if c["op_id"] == sent["op_id"]] == [
        (expected, sent["payload"])
    ]
    # ... and sending it again answers `duplicate` with the same code, revealing no more.
    (again,) = mapi.push(ACTORS[actor], sent)
    assert (again["status"], again["code"]) == ("duplicate", expected), again
    assert (again["task"] is None) == (result["task"] is None)


# Check order (PROTOCOL.md "Tasks": `not_found`, `invalid_payload`, `outside_grids`,
# `forbidden`, `not_assignee`, `conflict`, `invalid_transition`; the first failing check
# answers). (op type, start status, actor, payload, base_version, expected); a
# `base_version` of -1 stands for a stale one (the task's version minus one).
NOWHERE = {"lon": 0.0, "lat": 0.0}  # in no grid
ORDER_MATRIX: list[tuple[str, str | None, str, dict[str, Any], int | None, str]] = [
    # not_found before invalid_payload
    ("task.reject", "submitted", "hm-supervisor", {"comment": ""}, None, "not_found"),
    ("task.decline", "assigned", "other-grid-worker", {"reason": ""}, None, "not_found"),
    ("task.create", "assigned", "hm-dispatcher", {"kind": "litter", **NOWHERE}, None, "not_found"),
    ("task.create", "assigned", "other-grid-worker", {"kind": "litter", **NOWHERE}, None, "not_found"),
    # invalid_payload before forbidden and not_assignee
    ("task.reject", "submitted", "dispatcher", {"comment": ""}, None, "invalid_payload"),
    ("task.decline", "assigned", "dispatcher", {"reason": ""}, None, "invalid_payload"),
    ("task.decline", "assigned", "former-assignee", {"reason": ""}, None, "invalid_payload"),
    ("task.create", None, "hm-worker", {"lon": 121.43, "lat": 31.22}, None, "invalid_payload"),
    # outside_grids before forbidden
    ("task.create", None, "hm-dispatcher", {"kind": "litter", **NOWHERE}, None, "outside_grids"),
    ("task.create", None, "grid-worker", {"kind": "litter", "source": "patrol", **NOWHERE}, None, "outside_grids"),
    # forbidden before not_assignee, conflict and invalid_transition
    ("task.assign", "assigned", "assignee", {"assignee_id": "jsl-worker-06"}, -1, "forbidden"),
    ("task.cancel", "closed", "assignee", {"reason": "x"}, -1, "forbidden"),
    ("task.confirm", "assigned", "dispatcher", {}, None, "forbidden"),
    ("task.reopen", "open", "dispatcher", {"reason": "x"}, None, "forbidden"),
    # not_assignee before invalid_transition
    ("task.start", "in_progress", "former-assignee", {}, None, "not_assignee"),
    # conflict before invalid_transition
    ("task.assign", "assigned", "dispatcher", {"assignee_id": "jsl-worker-06"}, -1, "conflict"),
    ("task.cancel", "closed", "supervisor", {"reason": "x"}, -1, "conflict"),
    ("task.update", "assigned", "admin", {"priority": "low"}, -1, "conflict"),
    # invalid_transition last
    ("task.confirm", "assigned", "supervisor", {}, None, "invalid_transition"),
    ("task.start", "submitted", "assignee", {}, None, "invalid_transition"),
    ("task.claim", "assigned", "assignee", {}, None, "invalid_transition"),
    ("task.cancel", "closed", "dispatcher", {"reason": "x"}, None, "invalid_transition"),
    # the current base_version passes
    ("task.assign", "assigned", "supervisor", {"assignee_id": "jsl-worker-06"}, 0, "applied"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("op_type", "start", "actor", "payload", "base_version", "expected"),
    [
        pytest.param(*row, id=f"{row[0]}-{row[1] or 'new'}-{row[2]}-{row[5]}")
        for row in ORDER_MATRIX
    ],
)
def test_check_order(
    mapi: Api,
    where: dict[str, tuple[float, float]],
    after_photo: str,
    op_type: str,
    start: str | None,
    actor: str,
    payload: dict[str, Any],
    base_version: int | None,
    expected: str,
) -> None:
    task_id = prepare(mapi, start, where["JSL-03"], after_photo)
    base = None
    if base_version is not None:
        base = _task(mapi, task_id)["version"] + base_version
    sent = op(op_type, task_id, base_version=base, **payload)
    _check_push(mapi, task_id, start, actor, sent, expected)


# ---------------------------------------------------------------------------------------
# Endpoints

JSL_WORKERS = {f"jsl-worker-{n:02d}" for n in range(1, 13)} | {"jsl-worker-03b"}
HM_WORKERS = {f"hm-worker-{n:02d}" for n in range(1, 13)}
JSL_GRIDS = {f"JSL-{n:02d}" for n in range(1, 13)}
HM_GRIDS = {f"HM-{n:02d}" for n in range(1, 13)}


@pytest.fixture(scope="module")
def fixed(mapi: Api, where: dict[str, tuple[float, float]], after_photo: str) -> dict[str, str]:
    """Tasks and photos the endpoint tables refer to by name.

    - `assigned`: JSL-03, assigned to jsl-worker-04 then jsl-worker-03;
    - `open-JSL-03`, `open-JSL-05`: open in those grids; `open-HM-03`: open in HM-03;
    - `reported`: jsl-worker-07's patrol find in JSL-03;
    - `submitted`: JSL-03, submitted by jsl-worker-03 with photo `in-photos` (uploaded by
      jsl-worker-03), after jsl-worker-04's late submit with photo `in-conflicts` (uploaded
      by jsl-worker-04) was refused `not_assignee` and kept in the task's `conflicts`;
    - photo `unused`: uploaded by jsl-worker-05, used by no task.
    """
    out = {
        "assigned": prepare(mapi, "assigned", where["JSL-03"], after_photo),
        "open-JSL-03": prepare(mapi, "open", where["JSL-03"], after_photo),
        "open-JSL-05": prepare(mapi, "open", where["JSL-05"], after_photo),
        "open-HM-03": prepare(mapi, "open", where["HM-03"], after_photo, office="hm-dispatcher"),
        "reported": prepare(mapi, "reported", where["JSL-03"], after_photo),
    }
    photos = {}
    for name, seed, uploader in (
        ("in-photos", 211, "jsl-worker-03"),
        ("in-conflicts", 212, "jsl-worker-04"),
        ("unused", 213, "jsl-worker-05"),
    ):
        data, sha = jpeg(seed)
        resp = mapi.put(
            f"/api/v1/photos/{sha}",
            content=data,
            headers={**mapi.login(uploader), "Content-Type": "image/jpeg"},
        )
        assert resp.status_code == 201, resp.text
        photos[name] = sha
    task_id = prepare(mapi, "assigned", where["JSL-03"], after_photo)
    (late,) = mapi.push("jsl-worker-04", _submit(task_id, photos["in-conflicts"]))
    assert (late["status"], late["code"]) == ("rejected", "not_assignee")
    _applied(mapi.push("jsl-worker-03", _submit(task_id, photos["in-photos"])))
    out["submitted"] = task_id
    out.update({f"photo:{k}": v for k, v in photos.items()})
    return out


# (task, actor, inside/outside, expected HTTP status of GET /api/v1/tasks/{id})
TASK_READ: list[tuple[str, str, str, int]] = [
    ("assigned", "assignee", INSIDE, 200),
    ("assigned", "former-assignee", INSIDE, 404),
    ("assigned", "grid-worker", INSIDE, 404),
    ("assigned", "other-grid-worker", INSIDE, 404),
    ("assigned", "hm-worker", OUTSIDE, 404),
    ("assigned", "dispatcher", INSIDE, 200),
    ("assigned", "supervisor", INSIDE, 200),
    ("assigned", "admin", INSIDE, 200),
    ("assigned", "hm-dispatcher", OUTSIDE, 404),
    ("assigned", "hm-supervisor", OUTSIDE, 404),
    ("open-JSL-03", "grid-worker", INSIDE, 200),
    ("open-JSL-03", "assignee", INSIDE, 200),
    ("open-JSL-03", "other-grid-worker", INSIDE, 404),
    ("open-JSL-03", "hm-worker", OUTSIDE, 404),
    ("open-JSL-03", "dispatcher", INSIDE, 200),
    ("open-JSL-03", "hm-dispatcher", OUTSIDE, 404),
    ("reported", "reporter", INSIDE, 200),
    ("reported", "grid-worker", INSIDE, 404),
    ("reported", "supervisor", INSIDE, 200),
    ("reported", "hm-supervisor", OUTSIDE, 404),
    ("open-HM-03", "hm-worker", INSIDE, 200),
    ("open-HM-03", "hm-dispatcher", INSIDE, 200),
    ("open-HM-03", "assignee", OUTSIDE, 404),
    ("open-HM-03", "dispatcher", OUTSIDE, 404),
    ("open-HM-03", "supervisor", OUTSIDE, 404),
    ("open-HM-03", "admin", INSIDE, 200),
]


@pytest.mark.parametrize(("task", "actor", "scope", "expected"), TASK_READ)
def test_get_task(
    mapi: Api, fixed: dict[str, str], task: str, actor: str, scope: str, expected: int
) -> None:
    headers = mapi.login(ACTORS[actor])
    resp = mapi.get(f"/api/v1/tasks/{fixed[task]}", headers=headers)
    assert resp.status_code == expected, resp.text
    if expected == 200:
        assert resp.json()["id"] == fixed[task]
    else:
        # Exactly as if it did not exist.
        missing = mapi.get(f"/api/v1/tasks/{uuid.uuid4()}", headers=headers)
        assert missing.status_code == 404
        assert resp.json() == missing.json()
        assert resp.json()["error"]["code"] == "not_found"


# (actor, expected status of GET /api/v1/users?role=worker, the worker usernames listed)
USERS: list[tuple[str, int, set[str] | None]] = [
    ("assignee", 403, None),
    ("grid-worker", 403, None),
    ("hm-worker", 403, None),
    ("dispatcher", 200, JSL_WORKERS),
    ("supervisor", 200, JSL_WORKERS),
    ("hm-dispatcher", 200, HM_WORKERS),
    ("hm-supervisor", 200, HM_WORKERS),
    ("admin", 200, JSL_WORKERS | HM_WORKERS),
]


@pytest.mark.parametrize(("actor", "expected", "workers"), USERS)
def test_list_workers(mapi: Api, actor: str, expected: int, workers: set[str] | None) -> None:
    resp = mapi.get("/api/v1/users", params={"role": "worker"}, headers=mapi.login(ACTORS[actor]))
    assert resp.status_code == expected, resp.text
    if expected == 403:
        assert resp.json()["error"]["code"] == "forbidden"
        return
    listed = resp.json()
    assert {u["username"] for u in listed} == workers
    assert {u["role"] for u in listed} == {"worker"}


# (actor, expected status of PUT /api/v1/me/duty)
MY_DUTY: list[tuple[str, int]] = [
    ("assignee", 200),
    ("grid-worker", 200),
    ("hm-worker", 200),
    ("dispatcher", 403),
    ("supervisor", 403),
    ("hm-dispatcher", 403),
    ("admin", 403),
]


@pytest.mark.parametrize(("actor", "expected"), MY_DUTY)
def test_my_duty(mapi: Api, actor: str, expected: int) -> None:
    headers = mapi.login(ACTORS[actor])
    resp = mapi.put("/api/v1/me/duty", json={"on_duty": False}, headers=headers)
    assert resp.status_code == expected, resp.text
    if expected == 200:
        assert resp.json() == {"on_duty": False}
        back = mapi.put("/api/v1/me/duty", json={"on_duty": True}, headers=headers)
        assert (back.status_code, back.json()) == (200, {"on_duty": True})
    else:
        assert resp.json()["error"]["code"] == "forbidden"


def _on_duty(mapi: Api, username: str) -> bool:
    resp = mapi.get("/api/v1/users", params={"role": "worker"}, headers=mapi.login("admin"))
    assert resp.status_code == 200
    return bool(next(u for u in resp.json() if u["username"] == username)["on_duty"])


# (target worker, actor, inside/outside, expected status of PUT /api/v1/users/{id}/duty)
USER_DUTY: list[tuple[str, str, str, int]] = [
    ("jsl-worker-05", "dispatcher", INSIDE, 200),
    ("jsl-worker-05", "supervisor", INSIDE, 200),
    ("jsl-worker-05", "admin", INSIDE, 200),
    ("jsl-worker-05", "hm-dispatcher", OUTSIDE, 404),
    ("jsl-worker-05", "hm-supervisor", OUTSIDE, 404),
    ("jsl-worker-05", "assignee", INSIDE, 403),
    ("jsl-worker-05", "other-grid-worker", INSIDE, 403),
    ("jsl-worker-05", "hm-worker", OUTSIDE, 404),
    ("hm-worker-05", "hm-dispatcher", INSIDE, 200),
    ("hm-worker-05", "admin", INSIDE, 200),
    ("hm-worker-05", "dispatcher", OUTSIDE, 404),
    ("hm-worker-05", "supervisor", OUTSIDE, 404),
]


@pytest.mark.parametrize(("target", "actor", "scope", "expected"), USER_DUTY)
def test_user_duty(mapi: Api, target: str, actor: str, scope: str, expected: int) -> None:
    assert _on_duty(mapi, target) is True
    headers = mapi.login(ACTORS[actor])
    resp = mapi.put(f"/api/v1/users/{target}/duty", json={"on_duty": False}, headers=headers)
    assert resp.status_code == expected, resp.text
    if expected == 200:
        assert resp.json() == {"on_duty": False}
        assert _on_duty(mapi, target) is False
        back = mapi.put(f"/api/v1/users/{target}/duty", json={"on_duty": True}, headers=headers)
        assert back.status_code == 200
    else:
        code = {403: "forbidden", 404: "not_found"}[expected]
        assert resp.json()["error"]["code"] == code
        if expected == 404:
            missing = mapi.put(
                "/api/v1/users/no-such-user/duty", json={"on_duty": False}, headers=headers
            )
            assert missing.status_code == 404 and missing.json() == resp.json()
    assert _on_duty(mapi, target) is True


# (actor, the grid codes GET /api/v1/grids answers)
GRIDS: list[tuple[str, set[str]]] = [
    ("assignee", JSL_GRIDS),
    ("other-grid-worker", JSL_GRIDS),
    ("dispatcher", JSL_GRIDS),
    ("supervisor", JSL_GRIDS),
    ("hm-worker", HM_GRIDS),
    ("hm-dispatcher", HM_GRIDS),
    ("hm-supervisor", HM_GRIDS),
    ("admin", JSL_GRIDS | HM_GRIDS),
]


@pytest.mark.parametrize(("actor", "codes"), GRIDS)
def test_grids(mapi: Api, actor: str, codes: set[str]) -> None:
    resp = mapi.get("/api/v1/grids", headers=mapi.login(ACTORS[actor]))
    assert resp.status_code == 200, resp.text
    features = resp.json()["features"]
    assert len(features) == len(codes)
    assert {f["properties"]["code"] for f in features} == codes


# (photo, actor, inside/outside, expected status of GET /api/v1/photos/{sha})
PHOTO_READ: list[tuple[str, str, str, int]] = [
    ("in-photos", "assignee", INSIDE, 200),  # sees the task, and uploaded it
    ("in-photos", "former-assignee", INSIDE, 404),
    ("in-photos", "grid-worker", INSIDE, 404),
    ("in-photos", "other-grid-worker", INSIDE, 404),
    ("in-photos", "hm-worker", OUTSIDE, 404),
    ("in-photos", "dispatcher", INSIDE, 200),
    ("in-photos", "supervisor", INSIDE, 200),
    ("in-photos", "admin", INSIDE, 200),
    ("in-photos", "hm-dispatcher", OUTSIDE, 404),
    ("in-photos", "hm-supervisor", OUTSIDE, 404),
    ("in-conflicts", "former-assignee", INSIDE, 200),  # uploaded it
    ("in-conflicts", "assignee", INSIDE, 200),  # sees the task that keeps it in conflicts
    ("in-conflicts", "dispatcher", INSIDE, 200),
    ("in-conflicts", "other-grid-worker", INSIDE, 404),
    ("in-conflicts", "hm-dispatcher", OUTSIDE, 404),
    ("unused", "other-grid-worker", INSIDE, 200),  # uploaded it
    ("unused", "assignee", INSIDE, 404),
    ("unused", "dispatcher", INSIDE, 404),
    ("unused", "admin", INSIDE, 404),
    ("unused", "hm-worker", OUTSIDE, 404),
]


@pytest.mark.parametrize(("photo", "actor", "scope", "expected"), PHOTO_READ)
def test_get_photo(
    mapi: Api, fixed: dict[str, str], photo: str, actor: str, scope: str, expected: int
) -> None:
    sha = fixed[f"photo:{photo}"]
    resp = mapi.get(f"/api/v1/photos/{sha}", headers=mapi.login(ACTORS[actor]))
    assert resp.status_code == expected, resp.text
    if expected == 200:
        assert hashlib.sha256(resp.content).hexdigest() == sha
    else:
        assert resp.json()["error"]["code"] == "not_found"


def test_put_of_wrong_bytes_for_a_held_photo_grants_no_access(
    mapi: Api, fixed: dict[str, str]
) -> None:
    sha = fixed["photo:in-photos"]
    headers = mapi.login("hm-worker-03")
    assert mapi.get(f"/api/v1/photos/{sha}", headers=headers).status_code == 404
    claim = mapi.put(
        f"/api/v1/photos/{sha}",
        content=b"not the photo",
        headers={**headers, "Content-Type": "image/jpeg"},
    )
    got = mapi.get(f"/api/v1/photos/{sha}", headers=headers)
    # The bytes do not hash to the name: 400 hash_mismatch, and nothing changes.
    assert (claim.status_code, got.status_code) == (400, 404), (claim.text, got.status_code)


# (actor, the grid codes of the components in their extract (None: not checked), their
# street codes, the codes in the extract's `grids` layer)
EXTRACT: list[tuple[str, set[str] | None, set[str], set[str]]] = [
    ("assignee", {"JSL-03"}, {"JSL"}, JSL_GRIDS),
    ("other-grid-worker", {"JSL-05"}, {"JSL"}, JSL_GRIDS),
    ("hm-worker", {"HM-03"}, {"HM"}, HM_GRIDS),
    ("dispatcher", None, {"JSL"}, JSL_GRIDS),
    ("supervisor", None, {"JSL"}, JSL_GRIDS),
    ("hm-dispatcher", None, {"HM"}, HM_GRIDS),
    ("admin", None, {"JSL", "HM"}, JSL_GRIDS | HM_GRIDS),
]


@pytest.mark.parametrize(("actor", "grids", "streets", "grid_layer"), EXTRACT)
def test_twin_extract(
    mapi: Api,
    tmp_path: Path,
    actor: str,
    grids: set[str] | None,
    streets: set[str],
    grid_layer: set[str],
) -> None:
    """200 for every role; the components are those of the caller's scope (a worker: their
    grids; the office: their street; an admin: everything)."""
    resp = mapi.get("/api/v1/twin/extract.gpkg", headers=mapi.login(ACTORS[actor]))
    assert resp.status_code == 200, resp.text
    path = tmp_path / "extract.gpkg"
    path.write_bytes(resp.content)
    conn = sqlite3.connect(path)
    try:
        pairs = set(conn.execute("SELECT DISTINCT grid_code, street_code FROM components"))
        codes = {r[0] for r in conn.execute("SELECT code FROM grids")}
    finally:
        conn.close()
    assert {s for _, s in pairs} == streets
    if grids is not None:
        assert {g for g, _ in pairs} == grids
    assert codes == grid_layer


# (actor, expected status of POST /api/v1/twin/features and .../delete)
TWIN_WRITE: list[tuple[str, int]] = [
    ("assignee", 403),
    ("hm-worker", 403),
    ("dispatcher", 403),
    ("supervisor", 403),
    ("hm-dispatcher", 403),
    ("hm-supervisor", 403),
    ("admin", 200),
]


@pytest.mark.parametrize(("actor", "expected"), TWIN_WRITE)
def test_twin_write(
    mapi: Api, where: dict[str, tuple[float, float]], actor: str, expected: int
) -> None:
    lon, lat = where["JSL-03"]
    fid = f"perm-{actor}-{uuid.uuid4().hex[:8]}"
    feature = {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"kind": "hydrant", "name": "permission test"},
    }
    admin = mapi.login("admin")
    headers = mapi.login(ACTORS[actor])
    resp = mapi.post(
        "/api/v1/twin/features",
        json={"layer": "components", "features": [feature]},
        headers=headers,
    )
    assert resp.status_code == expected, resp.text
    if expected == 403:
        assert resp.json()["error"]["code"] == "forbidden"
        # Nothing was written: the admin then has nothing to remove...
        gone = mapi.post(
            "/api/v1/twin/features/delete",
            json={"layer": "components", "ids": [fid]},
            headers=admin,
        )
        assert (gone.status_code, gone.json()["removed"]) == (200, 0)
        # ... and a refused delete leaves the admin's feature in place.
        made = mapi.post(
            "/api/v1/twin/features",
            json={"layer": "components", "features": [feature]},
            headers=admin,
        )
        assert made.status_code == 200
    refused = {"layer": "components", "ids": [fid]}
    resp = mapi.post("/api/v1/twin/features/delete", json=refused, headers=headers)
    assert resp.status_code == expected, resp.text
    if expected == 200:
        assert resp.json()["removed"] == 1
    else:
        assert resp.json()["error"]["code"] == "forbidden"
        gone = mapi.post("/api/v1/twin/features/delete", json=refused, headers=admin)
        assert (gone.status_code, gone.json()["removed"]) == (200, 1)


# (actor, whether their feed carries a new component in JSL-03, and one in JSL-05)
TWIN_FEED: list[tuple[str, bool, bool]] = [
    ("assignee", True, False),
    ("other-grid-worker", False, True),
    ("hm-worker", False, False),
    ("dispatcher", True, True),
    ("hm-dispatcher", False, False),
    ("admin", True, True),
]


@pytest.mark.parametrize(("actor", "sees03", "sees05"), TWIN_FEED)
def test_twin_changes_scope(
    mapi: Api, where: dict[str, tuple[float, float]], actor: str, sees03: bool, sees05: bool
) -> None:
    username = ACTORS[actor]
    _, cursor = _pull(mapi, username)
    ids = {}
    for grid in ("JSL-03", "JSL-05"):
        lon, lat = where[grid]
        ids[grid] = f"perm-feed-{grid}-{uuid.uuid4().hex[:8]}"
        feature = {
            "type": "Feature",
            "id": ids[grid],
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"kind": "hydrant"},
        }
        resp = mapi.post(
            "/api/v1/twin/features",
            json={"layer": "components", "features": [feature]},
            headers=mapi.login("admin"),
        )
        assert resp.status_code == 200, resp.text
    later, _ = _pull(mapi, username, cursor)
    seen = {c["id"] for c in later if c["entity"] == "twin_feature"}
    assert (ids["JSL-03"] in seen, ids["JSL-05"] in seen) == (sees03, sees05)


@pytest.fixture(scope="module")
def markers(mapi: Api) -> dict[str, str]:
    """Each actor's own refused op (an op on a task that does not exist): op_id by actor."""
    out = {}
    for actor, username in ACTORS.items():
        sent = op("task.comment", text="hello?")
        (result,) = mapi.push(username, sent)
        assert (result["status"], result["code"]) == ("rejected", "not_found")
        out[actor] = sent["op_id"]
    return out


@pytest.mark.parametrize("actor", list(ACTORS))
def test_conflicts_only_own(mapi: Api, markers: dict[str, str], actor: str) -> None:
    resp = mapi.get("/api/v1/conflicts", headers=mapi.login(ACTORS[actor]))
    assert resp.status_code == 200, resp.text
    seen = {c["op_id"] for c in resp.json()}
    assert markers[actor] in seen
    assert seen.isdisjoint(v for k, v in markers.items() if k != actor)


def _pull(mapi: Api, username: str, since: str = "") -> tuple[list[dict[str, Any]], str]:
    changes: list[dict[str, Any]] = []
    while True:
        resp = mapi.get(
            "/api/v1/sync/changes",
            params={"since": since, "limit": 5000},
            headers=mapi.login(username),
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        changes += body["changes"]
        since = body["cursor"]
        if not body["has_more"]:
            return changes, since


# The demo accounts as PROTOCOL.md describes them: (role, street, grids).
PROFILES: dict[str, tuple[str, str | None, set[str]]] = {
    "assignee": ("worker", "JSL", {"JSL-03"}),
    "former-assignee": ("worker", "JSL", {"JSL-04"}),
    "grid-worker": ("worker", "JSL", {"JSL-03"}),
    "other-grid-worker": ("worker", "JSL", {"JSL-05"}),
    "reporter": ("worker", "JSL", {"JSL-07"}),
    "dispatcher": ("dispatcher", "JSL", set()),
    "supervisor": ("supervisor", "JSL", set()),
    "admin": ("admin", None, set()),
    "hm-worker": ("worker", "HM", {"HM-03"}),
    "hm-dispatcher": ("dispatcher", "HM", set()),
    "hm-supervisor": ("supervisor", "HM", set()),
}

# (actor, which of the named tasks their feed carries)
FEED: list[tuple[str, dict[str, bool]]] = [
    ("assignee", {"assigned": True, "open-JSL-03": True, "open-JSL-05": False, "open-HM-03": False, "reported": False}),
    ("grid-worker", {"assigned": False, "open-JSL-03": True, "open-JSL-05": False, "open-HM-03": False, "reported": False}),
    ("other-grid-worker", {"assigned": False, "open-JSL-03": False, "open-JSL-05": True, "open-HM-03": False, "reported": False}),
    ("reporter", {"assigned": False, "open-JSL-03": False, "open-JSL-05": False, "open-HM-03": False, "reported": True}),
    ("hm-worker", {"assigned": False, "open-JSL-03": False, "open-JSL-05": False, "open-HM-03": True, "reported": False}),
    ("dispatcher", {"assigned": True, "open-JSL-03": True, "open-JSL-05": True, "open-HM-03": False, "reported": True}),
    ("supervisor", {"assigned": True, "open-JSL-03": True, "open-JSL-05": True, "open-HM-03": False, "reported": True}),
    ("hm-dispatcher", {"assigned": False, "open-JSL-03": False, "open-JSL-05": False, "open-HM-03": True, "reported": False}),
    ("admin", {"assigned": True, "open-JSL-03": True, "open-JSL-05": True, "open-HM-03": True, "reported": True}),
]  # fmt: skip


def _visible_to_worker(task: dict[str, Any], user_id: str, grids: set[str]) -> bool:
    """PROTOCOL.md's worker scope, written out: assigned to them, reported by them, or an
    unassigned open task in their grids."""
    return (
        task["assignee_id"] == user_id
        or task.get("reporter_id") == user_id
        or (task["status"] == "open" and task["assignee_id"] is None and task["grid_code"] in grids)
    )


@pytest.mark.parametrize(("actor", "sees"), FEED)
def test_changes_feed_scope(
    mapi: Api,
    fixed: dict[str, str],
    where: dict[str, tuple[float, float]],
    after_photo: str,
    actor: str,
    sees: dict[str, bool],
) -> None:
    username = ACTORS[actor]
    changes, cursor = _pull(mapi, username)
    tasks = {c["id"]: c for c in changes if c["entity"] == "task"}
    assert {name: fixed[name] in tasks for name in sees} == sees
    role, street, grids_of_mine = PROFILES[actor]
    if role == "worker":
        for change in tasks.values():
            assert change["op"] == "upsert"
            assert _visible_to_worker(change["data"], username, grids_of_mine), change
    elif role != "admin":
        assert {c["data"]["street_code"] for c in tasks.values()} == {street}
    if role != "admin":
        users = [c["data"] for c in changes if c["entity"] == "user"]
        grids = [c["data"]["properties"] for c in changes if c["entity"] == "grid"]
        assert users and {u["street_code"] for u in users} == {street}
        assert {g["code"] for g in grids} == {"JSL": JSL_GRIDS, "HM": HM_GRIDS}[street]
    # Read on: of two new open tasks (JSL-03 and JSL-05), each reaches only its scope.
    new03 = prepare(mapi, "open", where["JSL-03"], after_photo)
    new05 = prepare(mapi, "open", where["JSL-05"], after_photo)
    later, _ = _pull(mapi, username, cursor)
    ids = {c["id"] for c in later if c["entity"] == "task"}
    assert (new03 in ids, new05 in ids) == (sees["open-JSL-03"], sees["open-JSL-05"])


# Every endpoint of PROTOCOL.md that needs a token: (method, path, json body).
def _endpoints(sha: str) -> list[tuple[str, str, Any]]:
    task_id = str(uuid.uuid4())
    return [
        ("POST", "/api/v1/sync/push", {"device_id": "x", "ops": []}),
        ("GET", "/api/v1/sync/changes", None),
        ("GET", "/api/v1/conflicts", None),
        ("GET", f"/api/v1/tasks/{task_id}", None),
        ("GET", "/api/v1/grids", None),
        ("GET", "/api/v1/users?role=worker", None),
        ("PUT", "/api/v1/me/duty", {"on_duty": True}),
        ("PUT", "/api/v1/users/jsl-worker-05/duty", {"on_duty": True}),
        ("GET", f"/api/v1/photos/{sha}", None),
        ("HEAD", f"/api/v1/photos/{sha}", None),
        ("PUT", f"/api/v1/photos/{sha}", b""),
        ("GET", "/api/v1/twin/extract.gpkg", None),
        ("POST", "/api/v1/twin/features", {"layer": "components", "features": []}),
        ("POST", "/api/v1/twin/features/delete", {"layer": "components", "ids": ["x"]}),
    ]


ENDPOINT_NAMES = [f"{m} {p.split('?')[0]}" for m, p, _ in _endpoints("0" * 64)]


@pytest.mark.parametrize("token", ["none", "garbage", "revoked"])
@pytest.mark.parametrize("index", range(len(ENDPOINT_NAMES)), ids=ENDPOINT_NAMES)
def test_no_valid_token_is_401(
    mapi: Api, fixed: dict[str, str], revoked_token: str, index: int, token: str
) -> None:
    method, path, body = _endpoints(fixed["photo:in-photos"])[index]
    headers = {
        "none": {},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "revoked": {"Authorization": f"Bearer {revoked_token}"},
    }[token]
    kwargs: dict[str, Any] = {"headers": headers}
    if isinstance(body, bytes):
        kwargs["content"] = body
        headers["Content-Type"] = "image/jpeg"
    elif body is not None:
        kwargs["json"] = body
    resp = mapi.request(method, path, **kwargs)
    assert resp.status_code == 401, resp.text
    if method != "HEAD":
        assert isinstance(resp.json()["error"]["code"], str)


@pytest.fixture(scope="module")
def revoked_token(mapi: Api) -> str:
    """A token of jsl-dispatcher's lost phone, revoked (logged out) on that device only."""
    resp = mapi.post(
        "/api/v1/auth/login",
        json={"username": "jsl-dispatcher", "password": "demo", "device_id": "lost-phone"},
    )
    assert resp.status_code == 200
    token = resp.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert mapi.get("/api/v1/grids", headers=bearer).status_code == 200
    assert mapi.post("/api/v1/auth/logout", headers=bearer).status_code == 200
    # Revoked on that device only: the account's other devices carry on.
    assert mapi.get("/api/v1/grids", headers=mapi.login("jsl-dispatcher")).status_code == 200
    return str(token)
