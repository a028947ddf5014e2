"""The Tasks dock against a real hub on a loopback port, in headless QGIS: a dispatcher's
replica synced, the dock's table and filters checked against the replica's own rows, the
selection kept in step with the tasks layer, assign (through the dialog, and many at once),
cancel, priority, due time and create-from-map done on the replica and synced to the hub,
and the dock rendered to docs/screenshots/qgis_tasks_dock.png in Chinese.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")

from qgis.core import QgsCoordinateReferenceSystem, QgsFeatureRequest, QgsPointXY, QgsRectangle
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QPoint, Qt, QTimer, QTranslator
from qgis.PyQt.QtWidgets import QApplication, QDialogButtonBox
from qgis.testing.mocked import get_iface

from qgis_plugin.core.layers import GridOpsLayers
from qgis_plugin.core.task_table import TaskFilter, filter_tasks, read_users, suggest_worker
from qgis_plugin.core.task_table import workers_with_load as loads
from qgis_plugin.core.twin_selection import new_task_defaults, selected_twin_features
from qgis_plugin.gui.assign_dialog import AssignDialog
from qgis_plugin.gui.task_dialogs import DueDialog, NewTaskDialog
from qgis_plugin.gui.tasks_dock import Prompts, TasksDock
from sync.client import HubClient
from sync.replica import Replica
from sync.syncjob import login, sync_once

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "qgis_tasks_dock.png"
ACTIVE = ("reported", "open", "assigned", "declined", "in_progress", "paused", "submitted")
ACTIVE += ("rework",)


class FakePrompts(Prompts):
    """Answers the dock's questions without dialogs; records what was asked."""

    def __init__(self) -> None:
        self.worker_id: str | None = None
        self.priority: str | None = None
        self.due_at: str | None = None
        self.reason: str | None = None
        self.task_values: dict[str, Any] | None = None
        self.asked: list[tuple[str, Any]] = []

    def choose_worker(self, workers: Any, tasks: Any, parent: Any) -> str | None:
        self.asked.append(("worker", [t["id"] for t in tasks]))
        return self.worker_id

    def choose_priority(self, current: str, parent: Any) -> str | None:
        return self.priority

    def choose_due(self, current: str | None, parent: Any) -> str | None:
        return self.due_at

    def cancel_reason(self, parent: Any) -> str | None:
        return self.reason

    def new_task(
        self, parent: Any, defaults: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        self.asked.append(("new_task", defaults))
        return self.task_values


class Setup:
    def __init__(self, replica: Replica, live_hub: Any, dock: TasksDock, iface: Any) -> None:
        self.replica = replica
        self.live_hub = live_hub
        self.dock = dock
        self.iface = iface
        self.layer = dock.layers.layer("tasks")

    def sync(self) -> Any:
        client = HubClient(self.live_hub.url, self.replica.state("token"))
        return sync_once(self.replica, client)

    def hub_task(self, task_id: str) -> dict[str, Any]:
        task = self.live_hub.hub.store.get_task(task_id)
        assert task is not None, task_id
        return dict(task)

    def users(self) -> list[dict[str, Any]]:
        return read_users(self.replica)

    def workers_of(self, grid: str) -> list[dict[str, Any]]:
        return [u for u in self.users() if u["role"] == "worker" and grid in u["grid_codes"]]


@pytest.fixture
def replica(qgis_app: Any, live_hub: Any, tmp_path: Path) -> Iterator[Replica]:
    """A dispatcher's replica, logged in and synced once."""
    rep = Replica(str(tmp_path / "jsl-dispatcher.gpkg"))
    login(rep, HubClient(live_hub.url), "jsl-dispatcher", "demo")
    sync_once(rep, HubClient(live_hub.url, rep.state("token")))
    yield rep
    rep.close()


def make_dock(project: Any, replica: Replica, prompts: Prompts | None = None) -> Any:
    layers = GridOpsLayers(project, replica.path)
    layers.add()
    iface = get_iface()
    dock = TasksDock(iface, lambda: replica, layers, prompts)
    dock.resize(900, 560)
    dock.show()
    return dock, iface


@pytest.fixture
def setup(qgis_app: Any, qtbot: Any, project: Any, replica: Replica, live_hub: Any) -> Any:
    dock, iface = make_dock(project, replica, FakePrompts())
    qtbot.addWidget(dock)
    return Setup(replica, live_hub, dock, iface)


def choose(combo: Any, data: str) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def overdue(task: dict[str, Any], now: datetime) -> bool:
    due = task.get("due_at")
    if not due or task["status"] not in ACTIVE:
        return False
    return datetime.fromisoformat(due.replace("Z", "+00:00")) < now


def select_rows(dock: TasksDock, task_ids: list[str]) -> None:
    dock.select_task_ids(task_ids)
    assert sorted(dock.selected_task_ids()) == sorted(task_ids)


def open_task_with_worker(s: Setup) -> tuple[dict[str, Any], dict[str, Any]]:
    """An open task of a grid that has a worker, and that worker."""
    for task in s.replica.tasks(["open"]):
        if task["grid_code"] and s.workers_of(task["grid_code"]):
            return task, s.workers_of(task["grid_code"])[0]
    raise AssertionError("no open task in a grid with a worker")


# ----------------------------------------------------------------------------- the table


def test_dock_lists_the_dispatchers_tasks_and_filters(setup: Setup) -> None:
    dock, tasks = setup.dock, setup.replica.tasks()
    assert tasks and dock.row_count() == len(tasks)
    assert dock.model.columnCount() == 9
    now = datetime.now(timezone.utc)

    choose(dock.ui.statusCombo, "open")
    assert dock.row_count() == sum(t["status"] == "open" for t in tasks) > 0
    choose(dock.ui.statusCombo, "__active__")
    assert dock.row_count() == sum(t["status"] in ACTIVE for t in tasks)
    choose(dock.ui.statusCombo, "")

    grid = tasks[0]["grid_code"]
    choose(dock.ui.gridCombo, grid)
    assert dock.row_count() == sum(t["grid_code"] == grid for t in tasks) > 0
    choose(dock.ui.gridCombo, "")

    dock.ui.overdueCheck.setChecked(True)
    assert dock.row_count() == sum(overdue(t, now) for t in tasks)
    dock.ui.overdueCheck.setChecked(False)

    word = next(t["title"] for t in tasks if t["title"])[:4]
    dock.ui.searchEdit.setText(word)
    expected = sum(word.lower() in f"{t['title']} {t['description']} {t['id']}" for t in tasks)
    assert 0 < dock.row_count() == expected
    dock.ui.searchEdit.setText(tasks[-1]["id"][:13])
    assert dock.row_count() == 1
    dock.ui.searchEdit.clear()

    kind = tasks[0]["kind"]
    choose(dock.ui.kindCombo, kind)
    assert dock.row_count() == sum(t["kind"] == kind for t in tasks)
    choose(dock.ui.kindCombo, "")
    assert dock.row_count() == len(tasks)
    assert dock.ui.countLabel.text()


def test_task_filter_is_pure() -> None:
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    tasks = [
        {"id": "a1", "title": "路面积水", "status": "open", "grid_code": "G1", "kind": "litter"},
        {"id": "b2", "title": "x", "description": "井盖", "status": "closed", "grid_code": "G2"},
        {"id": "c3", "title": "y", "status": "assigned", "due_at": "2026-05-01T00:00:00Z"},
    ]
    assert [t["id"] for t in filter_tasks(tasks, TaskFilter(), now)] == ["a1", "b2", "c3"]
    assert len(filter_tasks(tasks, TaskFilter(statuses=frozenset({"open"})), now)) == 1
    assert [t["id"] for t in filter_tasks(tasks, TaskFilter(text="井盖"), now)] == ["b2"]
    assert [t["id"] for t in filter_tasks(tasks, TaskFilter(overdue_only=True), now)] == ["c3"]
    assert [t["id"] for t in filter_tasks(tasks, TaskFilter(text="C3"), now)] == ["c3"]
    assert filter_tasks(tasks, TaskFilter(grid="G2", kind="litter"), now) == []


# ----------------------------------------------------------------------------- selection


def test_selection_follows_the_tasks_layer_both_ways(setup: Setup) -> None:
    dock, layer = setup.dock, setup.layer
    tasks = setup.replica.tasks()
    ids = [tasks[0]["id"], tasks[2]["id"]]
    select_rows(dock, ids)
    assert sorted(str(f["id"]) for f in layer.selectedFeatures()) == sorted(ids)

    other = tasks[5]["id"]
    request = QgsFeatureRequest().setFilterExpression(f"\"id\" = '{other}'")
    fid = next(layer.getFeatures(request)).id()
    layer.selectByIds([fid])
    assert dock.selected_task_ids() == [other]
    layer.removeSelection()
    assert dock.selected_task_ids() == []


def test_double_click_zooms_and_flashes(setup: Setup, qtbot: Any) -> None:
    dock = setup.dock
    task = setup.replica.tasks()[0]
    canvas = setup.iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    canvas.setExtent(QgsRectangle(0, 0, 10, 10))
    with mock.patch.object(canvas, "flashFeatureIds") as flash:
        index = dock.proxy.index(0, 0)
        dock.ui.tableView.doubleClicked.emit(index)
    assert flash.called and flash.call_args[0][0] is setup.layer
    centre = canvas.extent().center()
    assert abs(centre.x() - 20037508.34 * task["lon"] / 180) < 50


# ----------------------------------------------------------------------------- actions


def test_assign_through_the_dialog_reaches_the_hub(setup: Setup, qtbot: Any, project: Any) -> None:
    setup.dock.prompts = Prompts()  # the real dialog
    task, worker = open_task_with_worker(setup)
    select_rows(setup.dock, [task["id"]])
    seen: dict[str, Any] = {}

    def answer() -> None:
        dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, AssignDialog)]
        dialog = next(d for d in dialogs if d.isVisible())
        seen["suggested"] = dialog.suggested_id
        seen["rows"] = dialog.workerTable.rowCount()
        assert dialog.select_worker(worker["id"])
        dialog.buttonBox.accepted.emit()

    QTimer.singleShot(50, answer)
    qtbot.mouseClick(setup.dock.ui.assignButton, Qt.LeftButton)
    assert seen["suggested"] in {w["id"] for w in setup.workers_of(task["grid_code"])}
    assert seen["rows"] == sum(u["role"] == "worker" for u in setup.users())

    local = setup.replica.task(task["id"])
    assert local["status"] == "assigned" and local["assignee_id"] == worker["id"]
    assert local["pending"] == 1
    row = setup.dock.model.row_of(task["id"])
    assert setup.dock.model.text(setup.dock.model.task(row), "pending") == "1"
    result = setup.sync()
    assert result.pushed.get("applied") == 1
    hub = setup.hub_task(task["id"])
    assert hub["status"] == "assigned" and hub["assignee_id"] == worker["id"]
    assert setup.replica.task(task["id"])["pending"] == 0


def test_assign_dialog_suggests_the_grids_worker(setup: Setup, qtbot: Any) -> None:
    task, _worker = open_task_with_worker(setup)
    workers = loads(setup.users(), setup.replica.tasks())
    dialog = AssignDialog(workers, [task])
    qtbot.addWidget(dialog)
    expected = suggest_worker(workers, [task])
    assert expected in {w["id"] for w in setup.workers_of(task["grid_code"])}
    assert dialog.selected_worker_id() == expected
    load = {w.id: w.load for w in workers}
    active = [t for t in setup.replica.tasks() if t["status"] in ACTIVE]
    assert load[expected] == sum(t["assignee_id"] == expected for t in active)


def test_assign_many_at_once(setup: Setup) -> None:
    worker = next(u for u in setup.users() if u["role"] == "worker")
    candidates = setup.replica.tasks(["open", "declined", "assigned"])
    tasks = [t for t in candidates if t["assignee_id"] != worker["id"]][:3]
    assert len(tasks) == 3
    ids = [t["id"] for t in tasks]
    select_rows(setup.dock, ids)
    setup.dock.prompts.worker_id = worker["id"]
    assert setup.dock.assign_selected() == 3
    assert sorted(setup.dock.selected_task_ids()) == sorted(ids)  # kept after the reload
    assert setup.sync().pushed.get("applied") == 3
    for task_id in ids:
        assert setup.hub_task(task_id)["assignee_id"] == worker["id"]


def test_cancel_priority_and_due_time(setup: Setup) -> None:
    prompts = setup.dock.prompts
    first, second = setup.replica.tasks(["open"])[:2]
    select_rows(setup.dock, [first["id"]])
    prompts.reason = "重复上报"
    assert setup.dock.cancel_selected() == 1
    select_rows(setup.dock, [second["id"]])
    prompts.priority = "urgent"
    assert setup.dock.set_priority_selected() == 1
    # Two office edits of one task between syncs: the replica sends both with the hub's last
    # version, so the hub refuses the second as a conflict (sync/replica/actions.py).
    setup.sync()
    prompts.due_at = "2030-01-02T03:04:00Z"
    assert setup.dock.set_due_selected() == 1
    assert setup.replica.task(second["id"])["pending"] == 1
    setup.sync()
    assert setup.replica.refusals() == []
    cancelled = setup.hub_task(first["id"])
    assert cancelled["status"] == "canceled"
    assert any("重复上报" in str(h) for h in cancelled.get("history") or [])
    updated = setup.hub_task(second["id"])
    assert updated["priority"] == "urgent" and updated["due_at"].startswith("2030-01-02T03:04")


def test_refusal_shows_in_the_message_bar(setup: Setup) -> None:
    task = next(t for t in setup.replica.tasks() if t["status"] in ("closed", "canceled"))
    select_rows(setup.dock, [task["id"]])
    setup.dock.prompts.reason = "test"
    bar = setup.iface.messageBar()
    bar.reset_mock()
    assert setup.dock.cancel_selected() == 0
    assert bar.pushMessage.called
    assert setup.replica.pending_count() == 0


def test_create_from_a_map_click(setup: Setup, qtbot: Any) -> None:
    dock, canvas = setup.dock, setup.iface.mapCanvas()
    grids = dock.layers.layer("grids")
    grid = next(grids.getFeatures())
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    centroid = grid.geometry().pointOnSurface().asPoint()
    canvas.setExtent(
        QgsRectangle(
            centroid.x() - 1e-4, centroid.y() - 1e-4, centroid.x() + 1e-4, centroid.y() + 1e-4
        )
    )
    qtbot.mouseClick(dock.ui.createButton, Qt.LeftButton)
    assert canvas.mapTool() is dock.map_tool
    before = len(setup.replica.tasks())
    dock.prompts.task_values = {
        "kind": "waterlogging",
        "title": "地图上新建",
        "priority": "high",
        "source": "office",
    }
    pixel = canvas.getCoordinateTransform().transform(centroid)
    middle = QPoint(round(pixel.x()), round(pixel.y()))
    event = QgsMapMouseEvent(canvas, QEvent.MouseButtonRelease, middle, Qt.LeftButton)
    dock.map_tool.canvasReleaseEvent(event)
    assert len(setup.replica.tasks()) == before + 1
    assert dock.row_count() == before + 1
    assert not dock.ui.createButton.isChecked()
    (office_id,) = dock.selected_task_ids()

    dock.prompts.task_values = {
        "kind": "other",
        "title": "居民来电",
        "priority": "normal",
        "source": "hotline",
    }
    hotline_id = dock.create_at(QgsPointXY(centroid))
    assert hotline_id and dock.selected_task_ids() == [hotline_id]
    assert setup.sync().pushed.get("applied") == 2

    office = setup.hub_task(office_id)
    assert office["source"] == "office" and office["title"] == "地图上新建"
    assert office["grid_code"] == grid["code"] and office["priority"] == "high"
    assert abs(office["lon"] - centroid.x()) < 1e-5 and abs(office["lat"] - centroid.y()) < 1e-5
    assert setup.hub_task(hotline_id)["source"] == "hotline"
    request = QgsFeatureRequest().setFilterExpression(f"\"id\" = '{hotline_id}'")
    assert len(list(setup.layer.getFeatures(request))) == 1  # the layer was refreshed


def test_create_from_selected_components(setup: Setup) -> None:
    dock = setup.dock
    components = dock.layers.layer("components")
    request = QgsFeatureRequest().setFilterExpression("\"kind\" = 'streetlight'")
    lamps = list(components.getFeatures(request))[:2]
    assert len(lamps) == 2
    dock.prompts.task_values = None
    assert dock.create_from_selected_features() == []  # nothing selected: a warning, no task
    assert ("new_task", None) not in dock.prompts.asked
    components.selectByIds([f.id() for f in lamps])
    before = len(setup.replica.tasks())
    assert dock.create_from_selected_features() == []  # cancelled in the dialog
    assert len(setup.replica.tasks()) == before and setup.replica.pending_count() == 0
    _, defaults = dock.prompts.asked[-1]
    assert defaults["kind"] == "streetlight_out"
    assert defaults["title"].endswith(str(lamps[0]["name"] or lamps[0]["id"]))
    assert str(lamps[1]["id"]) in defaults["place"]

    dock.prompts.task_values = {
        "kind": "streetlight_out",
        "title": defaults["title"],  # left as suggested: each task gets its own lamp's
        "description": "夜间不亮",
        "priority": "high",
        "source": "hotline",
    }
    created = dock.create_from_selected_features()
    assert len(created) == 2 and sorted(dock.selected_task_ids()) == sorted(created)
    assert setup.sync().pushed.get("applied") == 2
    for task_id, lamp in zip(created, lamps):
        task = setup.hub_task(task_id)
        point = lamp.geometry().asPoint()
        assert abs(task["lon"] - point.x()) < 1e-6 and abs(task["lat"] - point.y()) < 1e-6
        assert task["kind"] == "streetlight_out" and task["source"] == "hotline"
        assert task["title"].endswith(str(lamp["name"] or lamp["id"]))
        assert str(lamp["id"]) in task["description"] and "夜间不亮" in task["description"]
        assert task["grid_code"] == lamp["grid_code"]


def test_new_task_and_due_dialogs(qgis_app: Any, qtbot: Any) -> None:
    dialog = NewTaskDialog({"kind": "manhole_damaged", "title": "井盖 M-1", "place": "M-1"})
    qtbot.addWidget(dialog)
    assert dialog.ui.placeValue.text() == "M-1"
    dialog.ui.descriptionEdit.setPlainText("  缺角  ")
    values = dialog.values()
    assert values == {
        "kind": "manhole_damaged",
        "title": "井盖 M-1",
        "description": "缺角",
        "priority": "normal",
        "source": "office",
    }
    ok = dialog.ui.buttonBox.button(QDialogButtonBox.Ok)
    dialog.ui.titleEdit.setMaxLength(1000)
    dialog.ui.titleEdit.setText("长" * 201)  # over the hub's limit: OK is disabled
    assert not ok.isEnabled()
    dialog.ui.titleEdit.setText("")
    assert ok.isEnabled() and dialog.values()["title"] is None

    due = DueDialog("2026-12-01T08:30:00Z")
    qtbot.addWidget(due)
    assert due.value() == "2026-12-01T08:30:00Z"
    due.ui.dueEdit.setDateTime(due.ui.dueEdit.dateTime().addSecs(3600))
    assert due.value() == "2026-12-01T09:30:00Z"


# ----------------------------------------------------------------------------- screenshot


def chinese_translator(tmp_path: Path) -> QTranslator | None:
    """The zh_CN translation compiled from the committed .ts, or None without lrelease."""
    lrelease = shutil.which("lrelease")
    if lrelease is None:
        return None
    qm = tmp_path / "gridops_zh_CN.qm"
    ts = ROOT / "qgis_plugin" / "i18n" / "gridops_zh_CN.ts"
    subprocess.run([lrelease, "-silent", str(ts), "-qm", str(qm)], check=True)
    translator = QTranslator()
    assert translator.load(str(qm))
    return translator


def test_dock_renders_in_chinese(
    qgis_app: Any, qtbot: Any, project: Any, replica: Replica, tmp_path: Path
) -> None:
    translator = chinese_translator(tmp_path)
    if translator is not None:
        QCoreApplication.installTranslator(translator)
    try:
        replica.update_task(replica.tasks(["open"])[0]["id"], priority="urgent")  # one pending
        dock, _iface = make_dock(project, replica, FakePrompts())
        qtbot.addWidget(dock)
        dock.resize(980, 520)
        dock.select_task_ids([t["id"] for t in replica.tasks()[:2]])
        image = dock.grab()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        assert image.save(str(SCREENSHOT), "PNG")
        assert image.width() >= 900
        if translator is not None:
            assert dock.ui.assignButton.text() == "派遣…"
            assert dock.model.headerData(1, Qt.Horizontal) == "类型"
        components = dock.layers.layer("components")
        lamp = next(components.getFeatures("\"kind\" = 'streetlight'"))
        components.selectByIds([lamp.id()])
        defaults = new_task_defaults(selected_twin_features(dock.layers))
        dialog = NewTaskDialog(defaults)
        qtbot.addWidget(dialog)
        dialog.resize(420, 300)
        dialog.show()
        assert dialog.grab().save(str(SCREENSHOT.with_name("qgis_new_task_dialog.png")), "PNG")
        if translator is not None:
            assert dialog.ui.kindCombo.currentText() == "路灯不亮"
            assert defaults["title"] == lamp["name"] and lamp["name"].startswith("路灯 ")
    finally:
        if translator is not None:
            QCoreApplication.removeTranslator(translator)
