"""`sync.model` on its own: the state machine of PROTOCOL.md's table, written out here
literally, validation, scope, and the order in which checks answer."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import pytest

from sync import model

WORKER = model.Actor("w1", "worker", "JSL", frozenset({"JSL-01"}))
OTHER_WORKER = model.Actor("w2", "worker", "JSL", frozenset({"JSL-02"}))
DISPATCHER = model.Actor("d1", "dispatcher", "JSL")
SUPERVISOR = model.Actor("s1", "supervisor", "JSL")
ADMIN = model.Actor("admin", "admin", None)


class World:
    """Two grids: JSL-01 is lon 0..1, JSL-02 lon 1..2 (lat 0..1); HM-01 lon 10..11."""

    users: ClassVar[dict[str, dict[str, Any]]] = {
        "w1": {"id": "w1", "role": "worker", "street_code": "JSL", "grid_codes": ["JSL-01"]},
        "w2": {"id": "w2", "role": "worker", "street_code": "JSL", "grid_codes": ["JSL-02"]},
        "hw": {"id": "hw", "role": "worker", "street_code": "HM", "grid_codes": ["HM-01"]},
        "d1": {"id": "d1", "role": "dispatcher", "street_code": "JSL", "grid_codes": []},
    }

    def locate(self, lon: float, lat: float) -> Any:
        if not 0 <= lat <= 1:
            return None
        if 0 <= lon < 1:
            return "JSL-01", "JSL"
        if 1 <= lon < 2:
            return "JSL-02", "JSL"
        if 10 <= lon < 11:
            return "HM-01", "HM"
        return None

    def near_grids(self, lon: float, lat: float, grids: frozenset, meters: float) -> bool:
        located = self.locate(lon, lat)
        return located is not None and located[0] in grids

    def user(self, user_id: str) -> Any:
        return self.users.get(user_id)


def make_op(
    op_type: str, task_id: str = "", base_version: int | None = None, **payload: Any
) -> dict[str, Any]:
    item = {
        "op_id": str(uuid.uuid4()),
        "type": op_type,
        "task_id": task_id or str(uuid.uuid4()),
        "at": "2026-06-01T08:00:00Z",
        "payload": payload,
    }
    if base_version is not None:
        item["base_version"] = base_version
    return item


def task_in(status: str, assignee: str | None = "w1") -> dict[str, Any]:
    task = model.new_task(str(uuid.uuid4()), "2026-06-01T00:00:00.000Z")
    task.update(
        kind="litter",
        status=status,
        lon=0.5,
        lat=0.5,
        grid_code="JSL-01",
        street_code="JSL",
        assignee_id=assignee,
        reporter_id="d1",
        source="office",
        version=3,
    )
    return task


PAYLOADS: dict[str, dict[str, Any]] = {
    "task.triage": {"decision": "accept"},
    "task.claim": {},
    "task.assign": {"assignee_id": "w1"},
    "task.update": {"priority": "urgent"},
    "task.decline": {"reason": "不是我的"},
    "task.start": {},
    "task.pause": {"reason": "等物业"},
    "task.resume": {},
    "task.submit": {"photos": [{"sha256": "a" * 64, "role": "after"}]},
    "task.confirm": {},
    "task.reject": {"comment": "再拍一张"},
    "task.cancel": {"reason": "重复"},
    "task.reopen": {"reason": "又脏了"},
    "task.comment": {"text": "收到"},
}
# PROTOCOL.md's table: op -> (from statuses, resulting status, actor who may send it).
TABLE = [
    ("task.triage", {"reported"}, "open", SUPERVISOR),
    ("task.claim", {"open"}, "assigned", WORKER),
    (
        "task.assign",
        {"open", "assigned", "declined", "in_progress", "paused", "rework"},
        "assigned",
        DISPATCHER,
    ),
    (
        "task.update",
        {
            "reported",
            "open",
            "assigned",
            "declined",
            "in_progress",
            "paused",
            "submitted",
            "rework",
        },
        None,
        DISPATCHER,
    ),
    ("task.decline", {"assigned"}, "declined", WORKER),
    ("task.start", {"assigned", "rework"}, "in_progress", WORKER),
    ("task.pause", {"in_progress"}, "paused", WORKER),
    ("task.resume", {"paused"}, "in_progress", WORKER),
    ("task.submit", {"assigned", "in_progress", "rework"}, "submitted", WORKER),
    ("task.confirm", {"submitted"}, "closed", SUPERVISOR),
    ("task.reject", {"submitted"}, "rework", SUPERVISOR),
    (
        "task.cancel",
        {
            "reported",
            "open",
            "assigned",
            "declined",
            "in_progress",
            "paused",
            "submitted",
            "rework",
        },
        "canceled",
        DISPATCHER,
    ),
    ("task.reopen", {"closed"}, "open", SUPERVISOR),
    ("task.comment", set(model.STATUSES), None, SUPERVISOR),
]


@pytest.mark.parametrize(
    ("op_type", "sources", "target", "actor"), TABLE, ids=[row[0] for row in TABLE]
)
def test_transitions_match_the_protocol_table(
    op_type: str, sources: set, target: Any, actor: model.Actor
) -> None:
    for status in model.STATUSES:
        # Assigned to the worker throughout (claim: unassigned), so only the status decides.
        assignee = None if op_type == "task.claim" else "w1"
        task = task_in(status, assignee)
        task["reporter_id"] = actor.id  # the sender always sees the task: only status matters
        decision = model.decide(
            actor,
            make_op(op_type, task["id"], **PAYLOADS[op_type]),
            task,
            World(),
            "2026-06-01T09:00:00.000Z",
        )
        if status in sources:
            assert decision.status == "applied", (status, decision)
            assert decision.task["status"] == (target or status)
            changed = op_type != "task.comment"
            assert decision.task["version"] == task["version"] + (1 if changed else 0)
            assert decision.task["history"][-1]["type"] == op_type
            assert task["history"] == []  # the input is never mutated
        else:
            assert (decision.status, decision.code) == ("rejected", "invalid_transition"), status


def test_create_open_or_assigned_and_patrol_rules() -> None:
    world = World()
    made = model.decide(
        DISPATCHER, make_op("task.create", kind="litter", lon=0.5, lat=0.5), None, world, "t"
    )
    assert (made.task["status"], made.task["grid_code"], made.task["source"]) == (
        "open",
        "JSL-01",
        "office",
    )
    made = model.decide(
        DISPATCHER,
        make_op("task.create", kind="litter", lon=1.5, lat=0.5, assignee_id="w2"),
        None,
        world,
        "t",
    )
    assert (made.task["status"], made.task["assignee_id"]) == ("assigned", "w2")
    fix = model.decide(
        WORKER,
        make_op("task.create", kind="litter", lon=0.5, lat=0.5, self_fix=True),
        None,
        world,
        "t",
    )
    assert (fix.task["status"], fix.task["assignee_id"], fix.task["source"]) == (
        "assigned",
        "w1",
        "patrol",
    )
    found = model.decide(
        WORKER,
        make_op("task.create", kind="litter", lon=1.5, lat=0.5, self_fix=True),
        None,
        world,
        "t",
    )
    assert (found.task["status"], found.task["assignee_id"]) == ("reported", None)
    away = model.decide(
        WORKER, make_op("task.create", kind="litter", lon=10.5, lat=0.5), None, world, "t"
    )
    assert (away.status, away.code) == ("rejected", "forbidden")
    nowhere = model.decide(
        DISPATCHER, make_op("task.create", kind="litter", lon=5, lat=0.5), None, world, "t"
    )
    assert nowhere.code == "outside_grids"
    foreign = model.decide(
        DISPATCHER,
        make_op("task.create", kind="litter", lon=0.5, lat=0.5, assignee_id="hw"),
        None,
        world,
        "t",
    )
    assert foreign.code == "invalid_payload"


def test_check_order_not_found_first_then_payload_then_role() -> None:
    world = World()
    hidden = task_in("assigned", "w2")
    hidden["grid_code"] = "JSL-02"
    # Invisible to w1 and malformed: not_found answers first.
    assert (
        model.decide(WORKER, make_op("task.pause", hidden["id"]), hidden, world, "t").code
        == "not_found"
    )
    task = task_in("submitted")
    # Visible, malformed and forbidden: invalid_payload before forbidden.
    assert (
        model.decide(DISPATCHER, make_op("task.reject", task["id"]), task, world, "t").code
        == "invalid_payload"
    )
    assert (
        model.decide(
            DISPATCHER, make_op("task.reject", task["id"], comment="x"), task, world, "t"
        ).code
        == "forbidden"
    )
    # forbidden before not_assignee, not_assignee before invalid_transition.
    mine = task_in("closed", "w1")
    assert (
        model.decide(
            OTHER_WORKER,
            make_op("task.assign", mine["id"], assignee_id="w2"),
            {**mine, "reporter_id": "w2"},
            world,
            "t",
        ).code
        == "forbidden"
    )
    theirs = {**task_in("closed", "w2"), "reporter_id": "w1"}
    assert (
        model.decide(WORKER, make_op("task.start", theirs["id"]), theirs, world, "t").code
        == "not_assignee"
    )
    # conflict before invalid_transition, only for office edits with base_version.
    stale = task_in("closed")
    assert (
        model.decide(
            DISPATCHER,
            make_op("task.cancel", stale["id"], base_version=1, reason="x"),
            stale,
            world,
            "t",
        ).code
        == "conflict"
    )
    assert (
        model.decide(
            DISPATCHER,
            make_op("task.cancel", stale["id"], base_version=3, reason="x"),
            stale,
            world,
            "t",
        ).code
        == "invalid_transition"
    )


def test_past_assignee_gets_not_assignee_not_not_found() -> None:
    task = task_in("assigned", "w2")
    task["past_assignee_ids"] = ["w1"]
    task["reporter_id"] = "d1"
    decision = model.decide(
        WORKER, make_op("task.submit", task["id"], **PAYLOADS["task.submit"]), task, World(), "t"
    )
    assert decision.code == "not_assignee"
    stranger = model.Actor("w9", "worker", "JSL", frozenset({"JSL-09"}))
    assert (
        model.decide(
            stranger,
            make_op("task.submit", task["id"], **PAYLOADS["task.submit"]),
            task,
            World(),
            "t",
        ).code
        == "not_found"
    )


@pytest.mark.parametrize(
    ("op_type", "payload"),
    [
        ("task.create", {"kind": "litter", "lon": 181, "lat": 0}),
        ("task.create", {"kind": "litter", "lon": 0, "lat": -90.5}),
        ("task.create", {"kind": "litter", "lon": float("nan"), "lat": 0}),
        ("task.create", {"kind": "litter", "lon": "0", "lat": 0}),
        ("task.create", {"kind": "litter", "lon": True, "lat": 0}),
        ("task.create", {"kind": "rocket", "lon": 0, "lat": 0}),
        ("task.create", {"kind": "litter", "lon": 0, "lat": 0, "priority": "asap"}),
        ("task.create", {"kind": "litter", "lon": 0, "lat": 0, "due_at": "tomorrow"}),
        ("task.create", {"kind": "litter", "lon": 0, "lat": 0, "due_at": "2026-06-01T08:00:00"}),
        ("task.create", {"kind": "litter", "lon": 0, "lat": 0, "title": 5}),
        ("task.reject", {"comment": "   "}),
        ("task.decline", {}),
        ("task.submit", {"photos": [{"sha256": "a" * 64, "role": "before"}]}),
        ("task.submit", {"photos": [{"sha256": "A" * 64, "role": "after"}]}),
        ("task.submit", {"photos": "a.jpg"}),
        ("task.update", {}),
        ("task.triage", {"decision": "duplicate", "reason": "dup"}),
        ("task.assign", {"assignee_id": "../../etc"}),
        ("task.launch", {}),
    ],
)
def test_invalid_payloads(op_type: str, payload: dict[str, Any]) -> None:
    with pytest.raises(model.OpError) as err:
        model.validate_payload(op_type, payload)
    assert err.value.code == "invalid_payload" and err.value.message


def test_scope_and_feed_keys_agree() -> None:
    open_task = task_in("open", None)
    assert model.can_see_task(WORKER, open_task)
    assert not model.can_see_task(OTHER_WORKER, open_task)
    assert model.can_see_task(DISPATCHER, open_task) and model.can_see_task(ADMIN, open_task)
    assert not model.can_see_task(model.Actor("d9", "dispatcher", "HM"), open_task)
    for actor in (WORKER, OTHER_WORKER, DISPATCHER):
        keys = model.actor_feed_keys(actor)
        assert keys is not None
        for task in (open_task, task_in("assigned", "w1"), task_in("assigned", "w2")):
            # Whoever may see a task reads at least one of its feed keys.
            if model.can_see_task(actor, task):
                assert keys & model.task_audience(task), (actor, task["status"])
    assert model.actor_feed_keys(ADMIN) is None
