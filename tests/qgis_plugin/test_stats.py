"""Statistics per grid against a real hub on a loopback port, in headless QGIS: the figures of
`qgis_plugin.core.stats` over a dispatcher's synced replica checked against a computation of
our own from the hub's store; the definitions on hand-made tasks (window edges, reopened and
re-closed, the totals' median); the Statistics dock (rows, totals, refreshed after a sync the
plugin ran, its map button adding the choropleth layer); and the dock and the map rendered to
docs/screenshots/qgis_stats_dock.png and qgis_stats_map.png in Chinese.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")
pytest.importorskip("mock", reason="qgis.testing.mocked needs the mock package")

from qgis.core import (
    QgsExpression,
    QgsExpressionContext,
    QgsGraduatedSymbolRenderer,
    QgsProject,
    QgsSettings,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QCoreApplication, QTranslator
from qgis.testing.mocked import get_iface

import qgis_plugin
from qgis_plugin.core import stats
from qgis_plugin.core.layers import GROUP_NAME, GridOpsLayers
from qgis_plugin.core.settings import ConnectionSettings
from qgis_plugin.gui.stats_dock import STATS_PROPERTY, StatsDock
from qgis_plugin.processing import choropleth
from sync.client import HubClient
from sync.replica import Replica
from sync.syncjob import login, sync_once

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
FINAL = {"closed", "canceled", "invalid"}
UTC = timezone.utc


# ----------------------------------------------------------------------------- helpers


def parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def hub_figures(store: Any, street: str, now: datetime) -> dict[str, dict[str, Any]]:
    """Our own figures per grid code (and "" for the street), from the hub's tasks."""
    admin = store.user_by_username("admin")
    tasks = [t for t in store.list_tasks(admin, limit=100_000) if t["street_code"] == street]
    codes = [g["properties"]["code"] for g in store.list_grids(street)]
    out: dict[str, dict[str, Any]] = {}
    for code in [*codes, ""]:
        mine = [t for t in tasks if code in ("", t["grid_code"])]
        open_ = [t for t in mine if t["status"] not in FINAL]
        hours = []
        for task in mine:
            if task["status"] != "closed":
                continue
            confirms = [h for h in task["history"] if h["type"] == "task.confirm"]
            closed = parse(confirms[-1]["server_at"])
            assert closed is not None
            if now - timedelta(days=7) <= closed <= now:
                hours.append((closed - parse(task["created_at"])).total_seconds() / 3600)
        out[code] = {
            "open": len(open_),
            "overdue": sum(1 for t in open_ if t["due_at"] and parse(t["due_at"]) < now),
            "closed_week": len(hours),
            "median_close_h": median(hours),
        }
    return out


def figures(row: stats.GridStats) -> dict[str, Any]:
    return {k: getattr(row, k) for k in ("open", "overdue", "closed_week", "median_close_h")}


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    for key in a:
        if isinstance(a[key], float) or isinstance(b[key], float):
            if a[key] is None or b[key] is None or abs(a[key] - b[key]) > 1e-6:
                return False
        elif a[key] != b[key]:
            return False
    return True


def confirm_a_submitted_task(live_hub: Any) -> dict[str, Any]:
    """jsl-supervisor confirms one submitted JSL task on the hub; returns the task after."""
    client = HubClient(live_hub.url)
    client.login("jsl-supervisor", "demo", "test-stats-supervisor")
    store = live_hub.hub.store
    submitted = store.list_tasks(store.user_by_username("jsl-supervisor"), status="submitted")
    assert submitted, "the demo has submitted tasks"
    task = submitted[0]
    import uuid

    (result,) = client.push(
        "test-stats-supervisor",
        [
            {
                "op_id": str(uuid.uuid4()),
                "type": "task.confirm",
                "task_id": task["id"],
                "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "payload": {"note": "确认"},
            }
        ],
    )
    assert result["status"] == "applied", result
    return dict(result["task"])


def report_tasks(live_hub: Any, code: str, count: int) -> None:
    """jsl-dispatcher creates `count` open tasks inside grid `code` (below its label), due an
    hour ago."""
    import uuid

    from sync import geo

    grid = live_hub.hub.store.get_grid(code)
    lon, lat = geo.representative_point(grid["geometry"])
    client = HubClient(live_hub.url)
    client.login("jsl-dispatcher", "demo", "test-stats-dispatcher")
    due = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ops = [
        {
            "op_id": str(uuid.uuid4()),
            "type": "task.create",
            "task_id": str(uuid.uuid4()),
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "payload": {
                "kind": "litter",
                "lon": lon + 0.0005 * (n % 3 - 1),
                "lat": lat - 0.0006 - 0.0004 * (n // 3),
                "title": f"垃圾堆积 {n + 1}",
                "due_at": due,
            },
        }
        for n in range(count)
    ]
    results = client.push("test-stats-dispatcher", ops)
    assert [r["status"] for r in results] == ["applied"] * count, results
    assert {r["task"]["grid_code"] for r in results} == {code}


@pytest.fixture
def replica(qgis_app: Any, live_hub: Any, tmp_path: Path) -> Iterator[Replica]:
    """A JSL dispatcher's replica, logged in and synced once."""
    rep = Replica(str(tmp_path / "jsl-dispatcher.gpkg"))
    login(rep, HubClient(live_hub.url), "jsl-dispatcher", "demo")
    sync_once(rep, HubClient(live_hub.url, rep.state("token")))
    yield rep
    rep.close()


def chinese_translators(tmp_path: Path) -> list[QTranslator]:
    """The committed zh_CN .ts compiled; [] when lrelease is missing."""
    lrelease = shutil.which("lrelease")
    if lrelease is None:
        return []
    ts = ROOT / "qgis_plugin" / "i18n" / "gridops_zh_CN.ts"
    qm = tmp_path / "gridops_zh_CN.qm"
    subprocess.run([lrelease, "-silent", str(ts), "-qm", str(qm)], check=True)
    translator = QTranslator()
    assert translator.load(str(qm))
    return [translator]


# ----------------------------------------------------------------------------- definitions


def task(
    code: str,
    status: str,
    created: datetime,
    due: datetime | None = None,
    confirms: tuple[datetime, ...] = (),
    updated: datetime | None = None,
) -> dict[str, Any]:
    iso = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "id": f"{code}-{status}-{created.timestamp()}",
        "status": status,
        "grid_code": code,
        "street_code": "JSL",
        "created_at": created.strftime(iso),
        "updated_at": (updated or created).strftime(iso),
        "due_at": due.strftime(iso) if due else None,
        "history": [
            {"type": "task.confirm", "server_at": c.strftime(iso), "at": None} for c in confirms
        ],
    }


def test_definitions_on_hand_made_tasks() -> None:
    now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    day = timedelta(days=1)
    grids = [
        {"code": "G-1", "name": "一号网格", "street_code": "JSL", "worker_ids": ["w1", "w2"]},
        {"code": "G-2", "name": "二号网格", "street_code": "JSL", "worker_ids": []},
    ]
    tasks = [
        task("G-1", "open", now - 3 * day, due=now - day),  # open, overdue
        task("G-1", "in_progress", now - day, due=now + day),  # open, not overdue
        task("G-1", "reported", now - day),  # open, no due time
        task("G-1", "canceled", now - 2 * day, due=now - day),  # not open, never overdue
        task("G-1", "invalid", now - 2 * day),  # not open
        # closed 2 h after creation, within the window
        task("G-1", "closed", now - 2 * day, confirms=(now - 2 * day + timedelta(hours=2),)),
        # reopened and closed again: the last confirm counts (10 h after creation)
        task(
            "G-1",
            "closed",
            now - 2 * day,
            confirms=(now - 2 * day + timedelta(hours=1), now - 2 * day + timedelta(hours=10)),
        ),
        # closed 8 days ago: outside the window
        task("G-2", "closed", now - 10 * day, confirms=(now - 8 * day,)),
        # closed with no confirm in its history (a camera's close): updated_at is the time
        task("G-2", "closed", now - 2 * day, updated=now - 2 * day + timedelta(hours=30)),
        # closed exactly at the window's start: inside (inclusive)
        task("G-2", "closed", now - 8 * day, confirms=(now - 7 * day,)),
        # a grid the replica no longer holds: a row of its own
        task("G-9", "assigned", now - day, due=now - timedelta(hours=1)),
        # submitted is still open
        task("G-2", "submitted", now - day, due=now - timedelta(minutes=1)),
    ]
    table = stats.compute(grids, tasks, {"w1": "张三", "w2": "李四"}, now)
    rows = {r.code: r for r in table.rows}
    assert list(rows) == ["G-1", "G-2", "G-9"]
    assert rows["G-1"].worker == "张三、李四" and rows["G-1"].name == "一号网格"
    assert figures(rows["G-1"]) == {
        "open": 3,
        "overdue": 1,
        "closed_week": 2,
        "median_close_h": 6.0,  # of 2 h and 10 h
    }
    assert figures(rows["G-2"]) == {
        "open": 1,
        "overdue": 1,
        "closed_week": 2,
        "median_close_h": 27.0,  # of 30 h and 24 h
    }
    assert figures(rows["G-9"]) == {
        "open": 1,
        "overdue": 1,
        "closed_week": 0,
        "median_close_h": None,
    }
    # Totals: sums, and the median over all four closes (2, 10, 24, 30 → 17), not the median
    # of the grids' medians (6 and 27 → 16.5).
    assert figures(table.total) == {
        "open": 5,
        "overdue": 3,
        "closed_week": 4,
        "median_close_h": 17.0,
    }
    for key in ("open", "overdue", "closed_week"):
        assert getattr(table.total, key) == sum(getattr(r, key) for r in table.rows)


def test_open_replica_refuses_what_is_not_a_replica(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        stats.open_replica(str(tmp_path / "missing.gpkg"))
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValueError, match="not a GridOps replica"):
        stats.open_replica(str(junk))


# ----------------------------------------------------------------------------- the hub's data


def test_figures_match_the_hub(replica: Replica, live_hub: Any) -> None:
    confirm_a_submitted_task(live_hub)  # at least one close inside the window
    sync_once(replica, HubClient(live_hub.url, replica.state("token")))
    now = datetime.now(UTC)
    table = stats.stats_of_file(replica.path, now)
    expected = hub_figures(live_hub.hub.store, "JSL", now)

    assert [r.code for r in table.rows] == sorted(c for c in expected if c)
    for row in table.rows:
        assert same(figures(row), expected[row.code]), (row.code, figures(row))
        assert row.name.endswith("网格") and row.street_code == "JSL"
    assert same(figures(table.total), expected[""])
    # The demo district gives every figure something to count.
    assert table.total.open > 0 and table.total.overdue > 0
    assert table.total.closed_week >= 1 and table.total.median_close_h > 0
    # Each grid's worker by name, as the hub has them.
    store = live_hub.hub.store
    worker = store.user_by_username("jsl-worker-03")
    row = next(r for r in table.rows if r.code == "JSL-03")
    assert row.worker == worker["display_name"]


# ----------------------------------------------------------------------------- the dock


def test_dock_shows_a_row_per_grid_and_the_totals(
    qtbot: Any, project: Any, replica: Replica
) -> None:
    dock = StatsDock(get_iface(), lambda: replica.path, project)
    qtbot.addWidget(dock)
    dock.show()
    table = dock.stats
    assert table is not None
    rows = dock.row_texts()
    assert len(rows) == len(table.rows) + 1 == 13
    for texts, row in zip(rows, table.rows):
        assert texts[0] == f"{row.code} {row.name}"
        assert texts[1] == row.worker and texts[1]
        assert texts[2:5] == [str(row.open), str(row.overdue), str(row.closed_week)]
        expected_median = "—" if row.median_close_h is None else f"{row.median_close_h:.1f}"
        assert texts[5] == expected_median
    total = rows[-1]
    assert total[0] in ("Total", "合计")
    assert int(total[2]) == sum(r.open for r in table.rows) == table.total.open
    assert int(total[3]) == table.total.overdue > 0
    assert dock.mapButton.isEnabled()

    not_connected = StatsDock(get_iface(), lambda: None, project)
    qtbot.addWidget(not_connected)
    assert not_connected.refresh() is None and not_connected.table.rowCount() == 0
    assert not not_connected.mapButton.isEnabled()


def test_dock_says_when_the_file_is_not_a_replica(qtbot: Any, project: Any, tmp_path: Path) -> None:
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"\0" * 4096)
    dock = StatsDock(get_iface(), lambda: str(junk), project)
    qtbot.addWidget(dock)
    assert dock.stats is None and dock.table.rowCount() == 0
    assert str(junk) in dock.captionLabel.text()
    # The map cannot be made from it either: said in the dock, nothing added.
    layers_before = set(project.mapLayers())
    assert dock.add_map() is not None
    qtbot.waitUntil(lambda: dock.map_task is None, timeout=30_000)
    assert dock.messageLabel.text() in (
        "The statistics map could not be made.",
        "无法生成统计地图。",
    )
    assert set(project.mapLayers()) == layers_before and dock.map_layer_id is None


def test_map_button_adds_the_choropleth(qtbot: Any, project: Any, replica: Replica) -> None:
    dock = StatsDock(get_iface(), lambda: replica.path, project)
    qtbot.addWidget(dock)
    dock.show()
    task = dock.add_map()
    assert task is not None and not dock.mapButton.isEnabled()
    assert dock.add_map() is None  # one at a time
    qtbot.waitUntil(lambda: dock.map_layer_id is not None, timeout=30_000)
    layer = project.mapLayer(dock.map_layer_id)
    assert isinstance(layer, QgsVectorLayer) and layer.customProperty(STATS_PROPERTY)
    assert project.layerTreeRoot().children()[0].layerId() == layer.id()
    renderer = layer.renderer()
    assert isinstance(renderer, QgsGraduatedSymbolRenderer)
    assert renderer.classAttribute() == "open"
    assert [(r.lowerValue(), r.upperValue()) for r in renderer.ranges()] == [
        (lo, hi) for lo, hi, _ in choropleth.CLASSES
    ]
    by_code = {f["code"]: f for f in layer.getFeatures()}
    assert dock.stats is not None
    assert sorted(by_code) == [r.code for r in dock.stats.rows]
    for row in dock.stats.rows:
        feature = by_code[row.code]
        assert (feature["open"], feature["overdue"], feature["closed_week"]) == (
            row.open,
            row.overdue,
            row.closed_week,
        )
        assert not feature.geometry().isEmpty()
    assert dock.mapButton.isEnabled()
    # Each grid is labelled with its name and its two counts.
    assert layer.labelsEnabled()
    expression = QgsExpression(layer.labeling().settings().fieldName)
    feature = by_code["JSL-03"]
    context = QgsExpressionContext()
    context.setFeature(feature)
    assert expression.evaluate(context) in (
        f"{feature['name']}\nopen {feature['open']} · overdue {feature['overdue']}",
        f"{feature['name']}\n在办 {feature['open']} · 超期 {feature['overdue']}",
    )

    # Again: the new layer replaces the old one.
    old = layer.id()
    dock.add_map()
    qtbot.waitUntil(lambda: dock.map_layer_id not in (None, old), timeout=30_000)
    stats_layers = [
        lyr for lyr in project.mapLayers().values() if lyr.customProperty(STATS_PROPERTY)
    ]
    assert [lyr.id() for lyr in stats_layers] == [dock.map_layer_id]


# ----------------------------------------------------------------------------- in the plugin


class StatusBar:
    def __init__(self, window: Any) -> None:
        from qgis.PyQt.QtWidgets import QStatusBar

        self.bar = QStatusBar(window)
        window.setStatusBar(self.bar)

    def addPermanentWidget(self, widget: Any, stretch: int = 0) -> None:
        self.bar.addPermanentWidget(widget, stretch)

    def removeWidget(self, widget: Any) -> None:
        self.bar.removeWidget(widget)


@pytest.fixture
def plugin(qgis_app: Any, tmp_path: Path) -> Iterator[Any]:
    """The plugin loaded with a mocked iface (real status bar and dock areas), no stored
    connection, replicas in this test's folder."""
    iface = get_iface()
    window = iface.mainWindow()
    iface.statusBarIface.return_value = StatusBar(window)
    iface.addDockWidget.side_effect = window.addDockWidget
    iface.removeDockWidget.side_effect = window.removeDockWidget
    settings = QgsSettings()
    ConnectionSettings(settings).clear_password()
    settings.remove("gridops")
    ConnectionSettings(settings).replica_folder = str(tmp_path / "replicas")
    gridops = qgis_plugin.classFactory(iface)
    gridops.initGui()
    yield gridops
    if gridops.toolbar is not None:
        gridops.unload()
    project = QgsProject.instance()
    for layer in list(project.mapLayers().values()):
        if layer.customProperty("gridops/table") or layer.customProperty(STATS_PROPERTY):
            project.removeMapLayer(layer.id())
    group = project.layerTreeRoot().findGroup(GROUP_NAME)
    if group is not None:
        group.parent().removeChildNode(group)
    ConnectionSettings(settings).clear_password()
    settings.remove("gridops")


def test_plugin_panel_refreshes_after_each_sync(plugin: Any, qtbot: Any, live_hub: Any) -> None:
    toggle = next(a for a in plugin.actions if a.objectName() == "GridOpsStatsDock")
    assert toggle.isCheckable()
    from qgis.PyQt.QtCore import Qt
    from qgis.PyQt.QtWidgets import QDialogButtonBox

    next(a for a in plugin.actions if a.objectName() == "GridOpsConnect").trigger()
    dialog = plugin.connect_dialog
    dialog.hubUrlEdit.setText(live_hub.url)
    dialog.usernameEdit.setText("jsl-dispatcher")
    dialog.passwordEdit.setText("demo")
    qtbot.mouseClick(dialog.buttonBox.button(QDialogButtonBox.Ok), Qt.LeftButton)
    qtbot.waitUntil(lambda: plugin.syncs_finished >= 1, timeout=60_000)
    toggle.trigger()
    dock = plugin.docks["stats"]
    assert isinstance(dock, StatsDock) and not dock.isHidden() and toggle.isChecked()
    before = dock.stats
    assert before is not None

    task = confirm_a_submitted_task(live_hub)
    plugin.run_sync()
    qtbot.waitUntil(lambda: plugin.syncs_finished >= 2, timeout=60_000)
    after = dock.stats
    assert after is not None and after is not before
    grid = task["grid_code"]
    row_before = next(r for r in before.rows if r.code == grid)
    row_after = next(r for r in after.rows if r.code == grid)
    assert row_after.closed_week == row_before.closed_week + 1
    assert row_after.open == row_before.open - 1
    assert after.total.closed_week == before.total.closed_week + 1

    toggle.trigger()
    assert dock.isHidden() and not toggle.isChecked()


# ----------------------------------------------------------------------------- screenshots


def render_map(project: Any, layers: list[Any], extent: Any, path: Path) -> Any:
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    mercator = QgsCoordinateReferenceSystem("EPSG:3857")
    box = QgsCoordinateTransform(layers[0].crs(), mercator, project).transformBoundingBox(extent)
    box.scale(1.08)
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(mercator)
    settings.setExtent(box)
    settings.setOutputSize(QSize(1200, 900))
    settings.setBackgroundColor(QColor("#ffffff"))
    settings.setFlag(QgsMapSettings.Antialiasing, True)
    settings.setFlag(QgsMapSettings.DrawLabeling, True)
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    path.parent.mkdir(parents=True, exist_ok=True)
    assert image.save(str(path), "PNG")
    return image


def test_dock_and_map_render_in_chinese(
    qtbot: Any, project: Any, replica: Replica, live_hub: Any, tmp_path: Path
) -> None:
    from qgis.PyQt.QtGui import QColor

    confirm_a_submitted_task(live_hub)
    # A busy day in two grids, so the map shows more than two classes.
    for code, count in (("JSL-07", 6), ("JSL-02", 2), ("JSL-11", 9)):
        report_tasks(live_hub, code, count)
    sync_once(replica, HubClient(live_hub.url, replica.state("token")))
    translators = chinese_translators(tmp_path)
    for translator in translators:
        QCoreApplication.installTranslator(translator)
    try:
        dock = StatsDock(get_iface(), lambda: replica.path, project)
        qtbot.addWidget(dock)
        dock.resize(760, 600)
        dock.show()
        qtbot.waitExposed(dock)
        image = dock.grab()
        assert image.save(str(SCREENSHOTS / "qgis_stats_dock.png"), "PNG")
        if translators:
            assert dock.mapButton.text() == "统计地图"
            assert dock.table.horizontalHeaderItem(2).text() == "在办"
            assert dock.row_texts()[-1][0] == "合计"

        dock.add_map()
        qtbot.waitUntil(lambda: dock.map_layer_id is not None, timeout=30_000)
        stats_layer = project.mapLayer(dock.map_layer_id)
        if translators:
            assert stats_layer.name() == "网格统计"
            assert "在办 " in stats_layer.labeling().settings().fieldName
        tasks = GridOpsLayers(project, replica.path).add()["tasks"]
        tasks.setLabelsEnabled(False)  # the grids' labels carry the figures
        picture = render_map(
            project,
            [tasks, stats_layer],
            stats_layer.extent(),
            SCREENSHOTS / "qgis_stats_map.png",
        )
        # The classes' colours are on the map (the fill of grids with 0, 1–2 … open).
        colours = {
            QColor(picture.pixel(x, y)).name()
            for x in range(0, picture.width(), 4)
            for y in range(0, picture.height(), 4)
        }
        present = {c for _lo, _hi, c in choropleth.CLASSES} & colours
        assert len(present) == len(choropleth.CLASSES), present  # 0 … 10 or more
    finally:
        for translator in translators:
            QCoreApplication.removeTranslator(translator)
