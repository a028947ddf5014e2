"""The plugin as QGIS drives it, in headless QGIS with a mocked `iface`: the toolbar and
menu, connecting through the Connect dialog to a real hub on a loopback port (layers,
settings without the password, the password in QGIS's auth database), Sync now as a
SyncTask and the status line after it, a wrong password and an unreachable hub shown in the
dialog, a panel whose module is missing, and unload. The Connect dialog and the status line
are rendered to docs/screenshots/ (in Chinese when lrelease can compile the translation).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")
pytest.importorskip("mock", reason="qgis.testing.mocked needs the mock package")

from qgis.core import QgsApplication, QgsProject, QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QEvent, Qt, QTranslator
from qgis.PyQt.QtWidgets import QDialogButtonBox, QLabel, QStatusBar, QToolBar

import qgis_plugin
from qgis_plugin import plugin as plugin_module
from qgis_plugin.core.layers import GROUP_NAME, TABLES, GridOpsLayers
from qgis_plugin.core.session import SessionStatus
from qgis_plugin.core.settings import ConnectionSettings
from qgis_plugin.gui.status import StatusWidget

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
ACTIONS = [
    "GridOpsConnect",
    "GridOpsSync",
    "GridOpsTasksDock",
    "GridOpsReviewDock",
    "GridOpsStatsDock",
]


class StatusBar:
    """Stands in for `iface.statusBarIface()` (the mock's is a bare Mock): a real QStatusBar."""

    def __init__(self, window: Any) -> None:
        self.bar = QStatusBar(window)
        window.setStatusBar(self.bar)

    def addPermanentWidget(self, widget: Any, stretch: int = 0) -> None:
        self.bar.addPermanentWidget(widget, stretch)

    def removeWidget(self, widget: Any) -> None:
        self.bar.removeWidget(widget)


@pytest.fixture
def iface(qgis_app: Any) -> Any:
    """`qgis.testing.mocked.get_iface()` with a real status bar and real dock areas."""
    from qgis.testing.mocked import get_iface

    mocked = get_iface()
    window = mocked.mainWindow()
    status_bar = StatusBar(window)
    mocked.statusBarIface.return_value = status_bar
    mocked.addDockWidget.side_effect = window.addDockWidget
    mocked.removeDockWidget.side_effect = window.removeDockWidget
    return mocked


@pytest.fixture
def clean_settings(qgis_app: Any, tmp_path: Path) -> Iterator[ConnectionSettings]:
    """No GridOps connection stored; replicas go to this test's folder."""
    settings = QgsSettings()

    def wipe() -> None:
        ConnectionSettings(settings).clear_password()
        settings.remove("gridops")

    wipe()
    conn = ConnectionSettings(settings)
    conn.replica_folder = str(tmp_path / "replicas")
    yield conn
    wipe()


@pytest.fixture
def plugin(iface: Any, clean_settings: ConnectionSettings) -> Iterator[Any]:
    gridops = qgis_plugin.classFactory(iface)
    gridops.initGui()
    yield gridops
    if gridops.toolbar is not None:
        gridops.unload()
    project = QgsProject.instance()
    group = project.layerTreeRoot().findGroup(GROUP_NAME)
    for layer in list(project.mapLayers().values()):
        if layer.customProperty("gridops/table"):
            project.removeMapLayer(layer.id())
    if group is not None:
        group.parent().removeChildNode(group)


def action(plugin: Any, name: str) -> Any:
    found = [a for a in plugin.actions if a.objectName() == name]
    assert len(found) == 1, name
    return found[0]


def messages(iface: Any) -> list[tuple[str, str]]:
    return [(c.args[0], c.args[1]) for c in iface.messageBar().pushMessage.call_args_list]


def open_dialog(plugin: Any, qtbot: Any, url: str, username: str, password: str) -> Any:
    action(plugin, "GridOpsConnect").trigger()
    dialog = plugin.connect_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.passwordEdit.echoMode() == dialog.passwordEdit.Password
    dialog.hubUrlEdit.setText(url)
    dialog.usernameEdit.setText(username)
    dialog.passwordEdit.setText(password)
    return dialog


def click_ok(qtbot: Any, dialog: Any) -> None:
    qtbot.mouseClick(dialog.buttonBox.button(QDialogButtonBox.Ok), Qt.LeftButton)


def settings_values() -> dict[str, str]:
    settings = QgsSettings()
    settings.sync()
    return {key: str(settings.value(key)) for key in settings.allKeys()}


# ----------------------------------------------------------------------------- GUI


def test_init_gui_adds_actions_and_status_unload_removes_them(plugin: Any, iface: Any) -> None:
    window = iface.mainWindow()
    toolbars = window.findChildren(QToolBar, "GridOpsToolbar")
    assert len(toolbars) == 1
    assert [a.objectName() for a in toolbars[0].actions()] == ACTIONS
    assert [c.args[1].objectName() for c in iface.addPluginToMenu.call_args_list] == ACTIONS
    assert action(plugin, "GridOpsTasksDock").isCheckable()
    status = window.findChildren(QLabel, "GridOpsStatus")
    assert status == [plugin.status_widget]
    assert status[0].text() in ("GridOps: not connected", "GridOps：未连接")
    assert plugin.session is not None and not plugin.session.is_connected()
    assert plugin.scheduler is not None and not plugin.scheduler.is_active()

    plugin.unload()
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    assert window.findChildren(QToolBar, "GridOpsToolbar") == []
    assert window.findChildren(QLabel, "GridOpsStatus") == []
    assert iface.removePluginMenu.call_count == len(ACTIONS)
    assert plugin.actions == [] and plugin.session is None and plugin.scheduler is None


def test_sync_and_panels_need_a_connection(plugin: Any, iface: Any) -> None:
    action(plugin, "GridOpsSync").trigger()
    tasks = action(plugin, "GridOpsTasksDock")
    tasks.trigger()
    assert not tasks.isChecked() and plugin.docks == {}
    assert plugin.task is None
    not_connected = QCoreApplication.translate("GridOps", "Not connected")
    assert [title for title, _ in messages(iface)].count(not_connected) == 2


# ----------------------------------------------------------------------------- connect


def test_connect_through_the_dialog_then_sync_now(
    plugin: Any, iface: Any, qtbot: Any, live_hub: Any, clean_settings: ConnectionSettings
) -> None:
    password = "demo"
    dialog = open_dialog(plugin, qtbot, live_hub.url, "jsl-dispatcher", password)
    dialog.intervalSpin.setValue(15)
    click_ok(qtbot, dialog)
    assert not dialog.isVisible() and not dialog.errorLabel.isVisible()

    # Connected: the layers are in the project and a first sync fetches the data.
    group = QgsProject.instance().layerTreeRoot().findGroup(GROUP_NAME)
    assert group is not None and len(group.findLayers()) == len(TABLES)
    qtbot.waitUntil(lambda: plugin.syncs_finished >= 1, timeout=60_000)
    assert plugin.task.error is None
    layers = GridOpsLayers(QgsProject.instance(), plugin.session.replica_path()).layers()
    assert layers["grids"].featureCount() == 12

    # URL and username in QgsSettings, the password only in the auth database.
    stored = ConnectionSettings(QgsSettings())
    assert stored.hub_url == live_hub.url.rstrip("/")
    assert stored.username == "jsl-dispatcher"
    assert stored.sync_interval_minutes == 15
    assert plugin.scheduler.is_active()
    values = settings_values()
    assert not [k for k, v in values.items() if password == v or "password" in k.lower()]
    assert stored.auth_config_id in QgsApplication.authManager().configIds()
    assert stored.password() == password

    # Sync now: a SyncTask in the task manager; the status line is refreshed after it.
    action(plugin, "GridOpsSync").trigger()
    task = plugin.task
    assert task is not None and plugin.syncing
    qtbot.waitUntil(lambda: plugin.syncs_finished >= 2, timeout=60_000)
    assert task.error is None and task.result is not None and task.result.pulled == 0
    text = plugin.status_widget.text()
    assert ("待发送 0" in text) or ("waiting 0" in text), text
    assert "—" not in text and ("never" not in text)
    titles = [text for _, text in messages(iface)]
    assert any(t.startswith(("Synced", "已同步")) for t in titles), titles

    # The providers the docks get follow the session.
    assert plugin.session.replica() is not None and plugin.session.client().token
    plugin.unload()
    assert plugin.session is None


def test_wrong_password_is_shown_in_the_dialog_and_nothing_is_stored(
    plugin: Any, qtbot: Any, live_hub: Any, clean_settings: ConnectionSettings
) -> None:
    before = settings_values()
    configs = set(QgsApplication.authManager().configIds())
    dialog = open_dialog(plugin, qtbot, live_hub.url, "jsl-dispatcher", "wrong-password")
    click_ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.errorLabel.isVisible()
    assert dialog.errorLabel.text().strip()
    assert "cannot reach" not in dialog.errorLabel.text().lower()
    assert not plugin.session.is_connected()
    assert settings_values() == before
    assert set(QgsApplication.authManager().configIds()) == configs
    folder = Path(clean_settings.replica_folder)
    assert not folder.exists() or list(folder.iterdir()) == []
    assert QgsProject.instance().layerTreeRoot().findGroup(GROUP_NAME) is None

    dialog.passwordEdit.setText("demo2")  # typing clears the message
    assert not dialog.errorLabel.isVisible()


def test_unreachable_hub_says_offline(plugin: Any, qtbot: Any) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dialog = open_dialog(plugin, qtbot, f"http://127.0.0.1:{port}", "jsl-dispatcher", "demo")
    click_ok(qtbot, dialog)
    assert dialog.isVisible()
    text = dialog.errorLabel.text()
    assert f"127.0.0.1:{port}" in text and ("Cannot reach" in text or "无法连接" in text)
    assert ConnectionSettings(QgsSettings()).hub_url == ""


def test_a_missing_panel_module_warns_instead_of_failing(
    plugin: Any, iface: Any, qtbot: Any, live_hub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = open_dialog(plugin, qtbot, live_hub.url, "jsl-dispatcher", "demo")
    click_ok(qtbot, dialog)
    qtbot.waitUntil(lambda: plugin.syncs_finished >= 1, timeout=60_000)
    monkeypatch.setitem(plugin_module.DOCKS, "tasks", ("no_such_dock", "TasksDock"))
    tasks = action(plugin, "GridOpsTasksDock")
    tasks.trigger()
    assert not tasks.isChecked() and "tasks" not in plugin.docks
    assert any("no_such_dock" in text for _, text in messages(iface))


# ----------------------------------------------------------------------------- screenshots


def _zh_translator(tmp_path: Path) -> Any:
    """The plugin's zh_CN translation compiled from the .ts, or None without lrelease."""
    lrelease = shutil.which("lrelease")
    if lrelease is None:
        return None
    qm = tmp_path / "gridops_zh_CN.qm"
    ts = ROOT / "qgis_plugin" / "i18n" / "gridops_zh_CN.ts"
    subprocess.run([lrelease, "-silent", str(ts), "-qm", str(qm)], check=True)
    translator = QTranslator()
    return translator if translator.load(str(qm)) else None


def test_connect_dialog_and_status_render_to_png(
    qgis_app: Any, qtbot: Any, tmp_path: Path, clean_settings: ConnectionSettings
) -> None:
    from datetime import datetime

    from qgis_plugin.core.session import Session
    from qgis_plugin.gui.connect_dialog import ConnectDialog, error_text
    from sync.client import Offline

    translator = _zh_translator(tmp_path)
    if translator is not None:
        QCoreApplication.installTranslator(translator)
    try:
        clean_settings.hub_url = "https://gridops.jingansi.example.gov.cn"
        clean_settings.username = "jsl-dispatcher"
        clean_settings.sync_interval_minutes = 10
        dialog = ConnectDialog(Session(clean_settings), clean_settings)
        qtbot.addWidget(dialog)
        dialog.passwordEdit.setText("demo-password")
        dialog.show_error(error_text(Offline("no route"), clean_settings.hub_url))
        dialog.resize(dialog.sizeHint().expandedTo(dialog.minimumSizeHint()))
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.passwordEdit.deselect()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        assert dialog.grab().save(str(SCREENSHOTS / "qgis_connect_dialog.png"), "PNG")
        if translator is not None:
            assert dialog.usernameLabel.text() == "用户名"

        status = SessionStatus(True, datetime(2026, 5, 12, 14, 35), 3, 1)
        widget = StatusWidget(lambda: status)
        qtbot.addWidget(widget)
        widget.show()
        assert widget.grab().save(str(SCREENSHOTS / "qgis_status.png"), "PNG")
        expected = "上次同步 14:35 · 待发送 3 · 冲突 1" if translator else "Last sync 14:35"
        assert widget.text().startswith(expected), widget.text()
        widget.stop()
    finally:
        if translator is not None:
            QCoreApplication.removeTranslator(translator)
