"""The field app end to end, driving its real Kivy widgets, with a real hub on a loopback
port (issue 5's "done when"): log in; the worker's tasks are listed; with the hub stopped,
start a task and report a fix with a photo → queued and shown as waiting; the hub back,
sync → the hub has the task submitted with the photo; a refused op shows in conflicts with
its data; a patrol find travels.
"""

from __future__ import annotations

from typing import Any

from conftest import LiveHub, pump

WORKER = "jsl-worker-03"


def grid_point(hub: Any, code: str) -> tuple[float, float]:
    """A point inside a grid (the centre of its bounding box, checked with the hub)."""
    grid = hub.store.get_grid(code)
    ring = grid["geometry"]["coordinates"][0]
    if grid["geometry"]["type"] == "MultiPolygon":
        ring = ring[0]
    lon = (min(p[0] for p in ring) + max(p[0] for p in ring)) / 2
    lat = (min(p[1] for p in ring) + max(p[1] for p in ring)) / 2
    assert hub.store.locate(lon, lat)[0] == code
    return lon, lat


def log_in(fa: Any, username: str = WORKER) -> None:
    screen = fa.screen("login")
    assert fa.current == "login"
    screen.ids.username.text = username
    screen.ids.password.text = "demo"
    screen.ids.login_button.dispatch("on_release")
    pump(lambda: fa.current == "tasks" or screen.error, 30)
    assert fa.current == "tasks", screen.error
    runner = fa.app.runner
    pump(lambda: runner.runs >= 1 and not runner.state.running, 60)
    pump()


def worker_tasks(hub: Any, username: str) -> dict[str, dict[str, Any]]:
    user = hub.store.user_by_username(username)
    rows = hub.store.reader.execute("SELECT id FROM tasks").fetchall()
    out = {}
    for (task_id,) in rows:
        task = hub.store.get_task(task_id)
        if task["assignee_id"] == user["id"] and task["status"] in (
            "assigned",
            "in_progress",
            "paused",
            "rework",
        ):
            out[task_id] = task
    return out


def row_view(fa: Any, task_id: str) -> Any:
    """The list row widget the worker would tap."""
    rv = fa.screen("tasks").ids.list
    pump(lambda: any(getattr(v, "task_id", None) == task_id for v in rv.layout_manager.children))
    return next(v for v in rv.layout_manager.children if v.task_id == task_id)


def action_button(fa: Any, action: str) -> Any:
    bar = fa.screen("detail").ids.action_bar
    found = [b for b in bar.children if getattr(b, "action", None) == action]
    assert found, (
        f"no {action} button; there are {[getattr(b, 'action', None) for b in bar.children]}"
    )
    return found[0]


def test_login_list_offline_fix_then_sync(hub: Any, live_hub: Any, field_app: Any) -> None:
    lon, lat = grid_point(hub, "JSL-03")
    fa = field_app(live_hub.url, position=(lon, lat, 8.0))
    log_in(fa)

    # The worker's tasks are listed in "to do".
    mine = worker_tasks(hub, WORKER)
    assert mine, "the demo gives jsl-worker-03 work"
    listed = {row["task_id"] for row in fa.screen("tasks").ids.list.data}
    assert set(mine) <= listed
    assert fa.screen("tasks").todo_count == len(listed)
    assert fa.screen("tasks").ids.tab_todo.text.endswith(str(len(listed)))

    # The hub goes away; the worker starts a task and reports the fix with a photo.
    live_hub.stop()
    target = next(t for t in mine.values() if t["status"] == "assigned")
    row_view(fa, target["id"]).dispatch("on_release")
    assert fa.current == "detail"
    action_button(fa, "start").dispatch("on_release")
    assert fa.app.replica.task(target["id"])["status"] == "in_progress"
    action_button(fa, "report").dispatch("on_release")
    assert fa.current == "report"
    report = fa.screen("report")
    fa.photo(seed=7)
    report.ids.add_after.dispatch("on_release")
    pump(lambda: len(report.ids.after.children) == 1)
    report.ids.note.text = "已清理完毕"
    report.ids.submit.dispatch("on_release")
    assert fa.current == "tasks", report.error

    # Queued and shown as waiting; the sync finds the hub gone: offline banner.
    state = fa.sync_and_wait()
    assert state.online is False
    assert fa.app.online is False
    assert fa.screen("tasks").ids.offline_banner.opacity == 1
    assert fa.app.replica.pending_count() == 2
    tasks = fa.screen("tasks")
    tasks.set_tab("sent")
    row = next(r for r in tasks.ids.list.data if r["task_id"] == target["id"])
    assert row["pending"] == 2 and row["badge"]
    assert "2" in tasks.ids.status_line.text

    # The hub is back: sync; the hub has the task submitted with the photo.
    back = LiveHub(hub, port=live_hub.port).start()
    try:
        state = fa.sync_and_wait()
        assert state.online is True and state.last_error is None
        assert fa.app.replica.pending_count() == 0
        held = hub.store.get_task(target["id"])
        assert held["status"] == "submitted"
        after = [p for p in held["photos"] if p["role"] == "after"]
        assert len(after) == 1
        assert hub.store.holds_photos([after[0]["sha256"]]) == {after[0]["sha256"]}
        submit = [h for h in held["history"] if h["type"] == "task.submit"][-1]
        assert submit["payload"]["note"] == "已清理完毕"
        assert submit["payload"]["accuracy_m"] == 8.0
        assert fa.app.online is True
        assert fa.screen("tasks").ids.offline_banner.opacity == 0
    finally:
        back.stop()


def office_push(hub: Any, username: str, op_type: str, task_id: str, **payload: Any) -> None:
    from conftest import op

    user = hub.store.user_by_username(username)
    result = hub.store.push(user, "test-office", [op(op_type, task_id, **payload)])[0]
    assert result["status"] == "applied", result


def test_refused_op_shows_in_conflicts_with_its_data(
    hub: Any, live_hub: Any, field_app: Any
) -> None:
    lon, lat = grid_point(hub, "JSL-03")
    fa = field_app(live_hub.url, position=(lon, lat, 8.0))
    log_in(fa)
    target = next(t for t in worker_tasks(hub, WORKER).values() if t["status"] == "in_progress")

    # Offline, the worker pauses the task on the phone, with a reason typed in the popup...
    live_hub.stop()
    fa.screen("tasks").open_task(target["id"])
    action_button(fa, "pause").dispatch("on_release")
    popup = fa.screen("detail").popup
    popup.ids.confirm.dispatch("on_release")
    assert popup.error, "an empty reason is refused with a message"
    assert fa.app.replica.pending_count() == 0
    popup.ids.reason.text = "等待物业配合开门"
    popup.ids.confirm.dispatch("on_release")
    assert fa.app.replica.task(target["id"])["status"] == "paused"

    # ...while the office gives it to another worker: the hub refuses the pause.
    worker4 = hub.store.user_by_username("jsl-worker-04")
    office_push(hub, "jsl-dispatcher", "task.assign", target["id"], assignee_id=worker4["id"])
    back = LiveHub(hub, port=live_hub.port).start()
    try:
        fa.sync_and_wait()
    finally:
        back.stop()
    assert fa.app.replica.pending_count() == 0
    tasks = fa.screen("tasks")
    assert tasks.refusals == 1
    assert tasks.ids.refusals_banner.opacity == 1
    tasks.ids.refusals_banner.dispatch("on_release")
    assert fa.current == "conflicts"
    cards = fa.screen("conflicts").ids.cards.children
    assert len(cards) == 1
    card = cards[0]
    assert "等待物业配合开门" in card.ids.fields.text
    assert card.ids.why.text.endswith("任务已不再分派给你") or "assigned" in card.ids.why.text
    assert target["title"] == card.ids.title.text
    # The hub kept it too, in the task's conflicts.
    kept = hub.store.get_task(target["id"])["conflicts"]
    assert [c["code"] for c in kept] == ["not_assignee"]
    assert kept[0]["payload"]["reason"] == "等待物业配合开门"
    # Seen now: the banner goes.
    fa.app.go("tasks")
    assert fa.screen("tasks").refusals == 0


def test_patrol_find_travels(hub: Any, live_hub: Any, field_app: Any) -> None:
    lon, lat = grid_point(hub, "JSL-03")
    fa = field_app(live_hub.url, position=(lon, lat, 6.0))
    log_in(fa)
    fa.screen("tasks").ids.patrol_button.dispatch("on_release")
    assert fa.current == "patrol"
    patrol = fa.screen("patrol")
    patrol.ids.submit.dispatch("on_release")
    assert patrol.error  # no kind chosen yet: a message, nothing queued
    assert fa.app.replica.pending_count() == 0
    kind_button = next(b for b in patrol.ids.kinds.children if b.kind == "manhole_damaged")
    kind_button.dispatch("on_release")
    fa.photo(seed=3)
    patrol.ids.add_photo.dispatch("on_release")
    pump(lambda: len(patrol.ids.photos.children) == 1)
    patrol.ids.note.text = "井盖边缘破裂"
    patrol.ids.self_fix.dispatch("on_release")
    assert patrol.self_fix
    patrol.ids.submit.dispatch("on_release")
    assert fa.current == "tasks", patrol.error
    assert fa.app.replica.pending_count() == 1

    fa.sync_and_wait()
    assert fa.app.replica.pending_count() == 0
    me = hub.store.user_by_username(WORKER)
    found = [
        hub.store.get_task(r[0])
        for r in hub.store.reader.execute(
            "SELECT id FROM tasks WHERE description = ?", ("井盖边缘破裂",)
        )
    ]
    assert len(found) == 1
    task = found[0]
    assert task["source"] == "patrol" and task["kind"] == "manhole_damaged"
    assert task["status"] == "assigned" and task["assignee_id"] == me["id"]
    assert task["grid_code"] == "JSL-03"
    assert len(task["photos"]) == 1 and task["photos"][0]["role"] == "before"
    assert hub.store.holds_photos([task["photos"][0]["sha256"]])
    # It is in the worker's own list, to do.
    assert task["id"] in {r["task_id"] for r in fa.screen("tasks").ids.list.data}
