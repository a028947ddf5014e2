"""The plugin's core against a real hub on a loopback port, in headless QGIS: settings with
the password in QGIS's auth database, the sync as a QgsTask (progress, cancel, timer), the
GridOps layers from the replica (counts, styles, no duplicates, refresh after a sync) and a
map of them rendered to docs/screenshots/qgis_layers_jsl.png.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")

from qgis.core import QgsApplication, QgsFeatureRequest, QgsSettings

from qgis_plugin.core.layers import GROUP_NAME, TABLES, GridOpsLayers, style_path
from qgis_plugin.core.settings import ConnectionSettings
from qgis_plugin.core.sync_task import SyncScheduler, SyncTask, phase_percent
from sync.client import HubClient
from sync.replica import Replica
from sync.syncjob import Cancelled, SyncResult, login

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


class Outcome:
    """What a SyncTask handed back through its callback and signal."""

    def __init__(self, task: SyncTask) -> None:
        self.callback: list[tuple[Any, Any]] = []
        self.signal: list[tuple[Any, Any]] = []
        self.progress: list[float] = []
        task.on_finished = lambda result, error: self.callback.append((result, error))
        task.sync_finished.connect(lambda result, error: self.signal.append((result, error)))
        task.progressChanged.connect(self.progress.append)


def logged_in(live_hub: Any, tmp_path: Path, username: str = "jsl-dispatcher") -> str:
    path = str(tmp_path / f"{username}.gpkg")
    replica = Replica(path)
    try:
        login(replica, HubClient(live_hub.url), username, "demo")
    finally:
        replica.close()
    return path


def run_task(qtbot: Any, task: SyncTask) -> Outcome:
    outcome = Outcome(task)
    QgsApplication.taskManager().addTask(task)
    qtbot.waitUntil(lambda: bool(outcome.callback), timeout=60_000)
    return outcome


@pytest.fixture
def synced(qgis_app: Any, qtbot: Any, live_hub: Any, tmp_path: Path) -> str:
    """A dispatcher's replica, synced once through a SyncTask."""
    path = logged_in(live_hub, tmp_path)
    outcome = run_task(qtbot, SyncTask(path))
    _result, error = outcome.callback[0]
    assert error is None, error
    return path


def table_counts(path: str) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


# ----------------------------------------------------------------------------- settings


def test_password_lives_in_the_auth_database_only(qgis_app: Any) -> None:
    from qgis.core import QgsAuthMethodConfig

    settings = QgsSettings()
    conn = ConnectionSettings(settings)
    conn.hub_url = "https://gridops.example.gov.cn/"
    conn.username = "jsl-dispatcher"
    conn.sync_interval_minutes = 5
    secret = "s3cret-密码-Zx9"
    config_id = conn.set_password(secret)

    again = ConnectionSettings(QgsSettings())
    assert again.password() == secret
    assert again.hub_url == "https://gridops.example.gov.cn"
    assert again.sync_interval_minutes == 5
    assert again.replica_path().endswith("jsl-dispatcher@gridops.example.gov.cn.gpkg")
    config = QgsAuthMethodConfig()
    ok, config = QgsApplication.authManager().loadAuthenticationConfig(config_id, config, True)
    assert ok and config.method() == "Basic" and config.config("username") == "jsl-dispatcher"

    # A new password updates the same config.
    assert again.set_password("second") == config_id
    assert ConnectionSettings(QgsSettings()).password() == "second"

    settings.sync()
    for key in settings.allKeys():
        value = settings.value(key)
        assert secret not in str(value) and "second" not in str(value), key
    assert "gridops/auth_config_id" in settings.allKeys()
    assert not [k for k in settings.allKeys() if "password" in k.lower()]
    ini = Path(settings.fileName())
    if ini.exists():
        assert secret not in ini.read_text(encoding="utf-8", errors="replace")

    again.clear_password()
    assert again.password() is None and again.auth_config_id == ""
    assert config_id not in QgsApplication.authManager().configIds()


# ----------------------------------------------------------------------------- sync task


def test_phase_percent_spans_the_bar() -> None:
    assert phase_percent("photos", 0, 4) == 0
    assert phase_percent("push", 1, 2) == 30
    assert phase_percent("pull", 5, 5) == 99
    assert phase_percent("done", 1, 1) == 100
    assert phase_percent("pull", 3, 0) == 60


def test_sync_task_runs_in_the_task_manager(
    qgis_app: Any, qtbot: Any, live_hub: Any, tmp_path: Path
) -> None:
    path = logged_in(live_hub, tmp_path)
    task = SyncTask(path)
    outcome = run_task(qtbot, task)
    result, error = outcome.callback[0]
    assert error is None
    assert isinstance(result, SyncResult) and result.extract_loaded and result.pulled > 0
    qtbot.waitUntil(lambda: bool(outcome.signal), timeout=5_000)
    assert outcome.signal[0] == (result, None)
    assert task.phases[0] == "pull" and "extract" in task.phases and task.phases[-1] == "done"
    qtbot.waitUntil(lambda: 100.0 in outcome.progress, timeout=5_000)
    assert any(0 < p < 100 for p in outcome.progress)
    counts = table_counts(path)
    assert counts["grids"] == 12 and counts["tasks"] > 0 and counts["components"] > 0

    # Nothing new: a second sync pulls nothing and pushes nothing.
    result2, error2 = run_task(qtbot, SyncTask(path)).callback[0]
    assert error2 is None and result2.pulled == 0 and result2.pushed == {}


def test_cancel_stops_the_sync_and_it_runs_again(
    qgis_app: Any, qtbot: Any, live_hub: Any, tmp_path: Path
) -> None:
    path = logged_in(live_hub, tmp_path)
    entered, gate = threading.Event(), threading.Event()

    class HeldClient(HubClient):
        def changes(self, since: str, limit: int = 500) -> Any:
            entered.set()
            gate.wait(20)
            return super().changes(since, limit)

    task = SyncTask(path, client_factory=HeldClient)
    outcome = Outcome(task)
    QgsApplication.taskManager().addTask(task)
    qtbot.waitUntil(entered.is_set, timeout=20_000)
    task.cancel()
    gate.set()
    qtbot.waitUntil(lambda: bool(outcome.callback), timeout=30_000)
    result, error = outcome.callback[0]
    assert result is None and isinstance(error, Cancelled)
    replica = Replica(path)
    try:
        assert replica.state("extract_etag") is None  # stopped before the extract
    finally:
        replica.close()

    result, error = run_task(qtbot, SyncTask(path)).callback[0]
    assert error is None and result.extract_loaded


def test_sync_error_is_handed_back(qgis_app: Any, qtbot: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "never-logged-in.gpkg")
    result, error = run_task(qtbot, SyncTask(path)).callback[0]
    assert result is None and isinstance(error, ValueError)


def test_scheduler_skips_while_a_sync_runs(qgis_app: Any, qtbot: Any) -> None:
    started: list[int] = []
    busy = [False]
    ticks: list[bool] = []
    scheduler = SyncScheduler(lambda: started.append(1), lambda: busy[0], 0)
    scheduler.ticked.connect(ticks.append)
    assert not scheduler.is_active()
    scheduler.set_interval(0.001)  # 60 ms
    assert scheduler.is_active()
    qtbot.waitUntil(lambda: len(started) >= 2, timeout=5_000)
    busy[0] = True
    n = len(started)
    qtbot.waitUntil(lambda: ticks.count(False) >= 2, timeout=5_000)
    assert len(started) == n
    scheduler.set_interval(0)
    assert not scheduler.is_active()


# ----------------------------------------------------------------------------- layers


def test_layers_in_a_group_with_the_replica_counts(
    qgis_app: Any, project: Any, synced: str
) -> None:
    layers = GridOpsLayers(project, synced).add()
    group = project.layerTreeRoot().findGroup(GROUP_NAME)
    assert group is not None
    tree_order = [node.layer().customProperty("gridops/table") for node in group.findLayers()]
    assert tree_order == list(TABLES) and tree_order[0] == "tasks"
    counts = table_counts(synced)
    for table, layer in layers.items():
        assert layer.isValid(), table
        assert layer.featureCount() == counts[table], table
        assert layer.crs().authid() == "EPSG:4326"
        assert Path(style_path(table)).exists()
    assert layers["tasks"].renderer().type() == "RuleRenderer"
    assert layers["components"].renderer().type() == "categorizedSymbol"
    legend = {c.value(): c.label() for c in layers["components"].renderer().categories()}
    assert legend["hydrant"] == "消防栓" and legend["bike_rack"] == "非机动车停放点"
    assert layers["tasks"].labelsEnabled() and layers["grids"].labelsEnabled()

    again = GridOpsLayers(project, synced).add()
    assert {t: lyr.id() for t, lyr in again.items()} == {t: lyr.id() for t, lyr in layers.items()}
    assert len(project.mapLayers()) == len(TABLES)
    assert len(group.findLayers()) == len(TABLES)
    assert len([g for g in project.layerTreeRoot().children() if g.name() == GROUP_NAME]) == 1


def test_refresh_shows_an_offline_action_after_sync(
    qgis_app: Any, qtbot: Any, project: Any, synced: str, live_hub: Any
) -> None:
    gridops = GridOpsLayers(project, synced)
    tasks = gridops.add()["tasks"]
    replica = Replica(synced)
    try:
        users = [dict(r) for r in replica.conn.execute("SELECT * FROM users")]
        task, worker = next(
            (t, u)
            for t in replica.tasks(["open"])
            for u in users
            if u["role"] == "worker" and t["grid_code"] in json.loads(u["grid_codes"] or "[]")
        )
        replica.assign(task["id"], worker["id"])
    finally:
        replica.close()
    result, error = run_task(qtbot, SyncTask(synced)).callback[0]
    assert error is None and result.pushed.get("applied") == 1
    assert live_hub.hub.store.get_task(task["id"])["status"] == "assigned"

    assert gridops.refresh() == list(TABLES)
    request = QgsFeatureRequest().setFilterExpression(f"\"id\" = '{task['id']}'")
    features = list(tasks.getFeatures(request))
    assert len(features) == 1
    assert features[0]["status"] == "assigned"
    assert features[0]["assignee_id"] == worker["id"]
    assert len(project.mapLayers()) == len(TABLES)  # refreshed, not reloaded


# ----------------------------------------------------------------------------- the map


def render(layers: dict[str, Any], extent_wgs84: Any, path: Path) -> Any:
    """Renders the GridOps layers over `extent_wgs84` in Web Mercator, 1200×900, to `path`."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
        QgsProject,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    mercator = QgsCoordinateReferenceSystem("EPSG:3857")
    extent = QgsCoordinateTransform(
        layers["grids"].crs(), mercator, QgsProject.instance()
    ).transformBoundingBox(extent_wgs84)
    extent.scale(1.04)
    settings = QgsMapSettings()
    settings.setLayers([layers[t] for t in TABLES])
    settings.setDestinationCrs(mercator)
    settings.setExtent(extent)
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
    assert (image.width(), image.height()) == (1200, 900)
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 50
    white = QColor("#ffffff").rgb()
    inked = sum(
        1
        for x in range(0, image.width(), 10)
        for y in range(0, image.height(), 10)
        if image.pixel(x, y) != white
    )
    assert inked > 0.2 * (image.width() // 10) * (image.height() // 10)
    return settings


def test_map_renders_to_png(qgis_app: Any, project: Any, synced: str) -> None:
    """The street (docs/screenshots/qgis_layers_jsl.png) and one grid up close, where the
    components show (qgis_layers_jsl_grid.png)."""
    layers = GridOpsLayers(project, synced).add()
    street = render(layers, layers["grids"].extent(), SCREENSHOTS / "qgis_layers_jsl.png")
    assert street.scale() > layers["components"].minimumScale()  # components hidden

    grid = next(
        layers["grids"].getFeatures(QgsFeatureRequest().setFilterExpression("\"code\" = 'JSL-07'"))
    )
    close = render(layers, grid.geometry().boundingBox(), SCREENSHOTS / "qgis_layers_jsl_grid.png")
    assert close.scale() < layers["components"].minimumScale()
