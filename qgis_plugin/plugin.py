"""The plugin object QGIS holds: toolbar, menu, status-bar line, docks, timer and session.

`initGui` adds a toolbar "GridOps" and a Plugins → GridOps menu with Connect…, Sync now and
three checkable panel toggles (Tasks, Review, Statistics); the GridOps line in the status
bar; the `SyncScheduler` (interval from the settings); the Processing provider `gridops`
(`processing.provider`); and the `Session`, reopening the replica of the account that
logged in last. `unload` removes all of it (and the translator), stops the timer and closes
the session, so QGIS can reload the plugin.

What the actions need from `core` (which imports the sync client) is imported when the GUI
comes up, guarded: the toolbar comes up even when that code cannot be imported, and the
failure is shown in QGIS's message bar. The docks are made on their first toggle from
`gui.tasks_dock` / `gui.review_dock`; a build without one shows a warning instead.

Translations: `i18n/gridops_<locale>.qm`, chosen by QGIS's own language setting
(`QgsApplication.locale()`, which honours `locale/overrideFlag` and `locale/userLocale`).
Source strings are English, in the context "GridOps".
"""

from __future__ import annotations

import importlib
import os
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Optional

from qgis.core import Qgis, QgsApplication, QgsProject
from qgis.PyQt.QtCore import QCoreApplication, QLocale, Qt, QTranslator
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QToolBar

from . import vendor
from .gui.status import StatusWidget

PLUGIN_DIR = os.path.dirname(os.path.abspath(__file__))
I18N_DIR = os.path.join(PLUGIN_DIR, "i18n")
ICON_PATH = os.path.join(PLUGIN_DIR, "icons", "gridops.svg")
TOOLBAR_NAME = "GridOpsToolbar"
# Panel name → (module in gui/, class). Made on first toggle; other builds may lack one.
DOCKS = {
    "tasks": ("tasks_dock", "TasksDock"),
    "review": ("review_dock", "ReviewDock"),
    "stats": ("stats_dock", "StatsDock"),
}
NOT_CONNECTED = SimpleNamespace(connected=False, last_sync=None, pending=0, conflicts=0)


def qgis_locale() -> str:
    """The language QGIS itself runs in, e.g. "zh_CN", or "zh" when QGIS follows the system."""
    return QgsApplication.locale() or QLocale().name()


def load_translator(locale: str, folder: str = I18N_DIR) -> Optional[QTranslator]:
    """A translator for `locale` from `folder`, or None when the plugin has no such language.

    QGIS gives a bare language ("zh") when it follows the system locale; that is widened to
    the language's main country (QLocale("zh") → "zh_CN") before giving up.
    """
    translator = QTranslator()
    for code in (locale, QLocale(locale).name()):
        if code and translator.load(f"gridops_{code}", folder):
            return translator
    return None


class GridOpsPlugin:
    """GridOps inside QGIS. `iface` is QGIS's interface (tests pass a mocked one)."""

    def __init__(self, iface: Any) -> None:
        self.iface = iface
        self.actions: List[QAction] = []
        self.toolbar: Optional[QToolBar] = None
        self.translator = load_translator(qgis_locale())
        if self.translator is not None:
            QCoreApplication.installTranslator(self.translator)
        self.sync_error: Optional[str] = None
        self.task: Any = None
        self.syncing = False
        self.syncs_finished = 0  # completed or failed SyncTasks (tests wait on it)
        self.session: Any = None
        self.scheduler: Any = None
        self.status_widget: Optional[StatusWidget] = None
        self.connect_dialog: Any = None
        self.docks: Dict[str, Any] = {}
        self.dock_actions: Dict[str, QAction] = {}
        self.provider: Any = None  # the Processing provider, while registered
        try:
            self.sync = vendor.ensure_sync()
        except ImportError as exc:  # SyncConflict is one: shown when the GUI is up
            self.sync = None
            self.sync_error = str(exc)

    @staticmethod
    def menu_name() -> str:
        return QCoreApplication.translate("GridOps", "&GridOps")

    # ------------------------------------------------------------------ GUI up and down

    def initGui(self) -> None:
        """Add the toolbar, the menu entries, the status line, the timer and the session."""
        self.toolbar = QToolBar(
            QCoreApplication.translate("GridOps", "GridOps"), self.iface.mainWindow()
        )
        self.toolbar.setObjectName(TOOLBAR_NAME)
        self.iface.addToolBar(self.toolbar)
        icon = QIcon(ICON_PATH)
        self._add_action(
            "GridOpsConnect",
            icon,
            QCoreApplication.translate("GridOps", "Connect…"),
            QCoreApplication.translate("GridOps", "Connect to the GridOps hub"),
            self.connect,
        )
        self._add_action(
            "GridOpsSync",
            icon,
            QCoreApplication.translate("GridOps", "Sync now"),
            QCoreApplication.translate("GridOps", "Sync the replica with the hub now"),
            lambda: self.run_sync(),
        )
        self.dock_actions["tasks"] = self._add_action(
            "GridOpsTasksDock",
            icon,
            QCoreApplication.translate("GridOps", "Tasks"),
            QCoreApplication.translate("GridOps", "Show or hide the GridOps tasks panel"),
            lambda checked: self.toggle_dock("tasks", checked),
            checkable=True,
        )
        self.dock_actions["review"] = self._add_action(
            "GridOpsReviewDock",
            icon,
            QCoreApplication.translate("GridOps", "Review"),
            QCoreApplication.translate("GridOps", "Show or hide the GridOps review panel"),
            lambda checked: self.toggle_dock("review", checked),
            checkable=True,
        )
        self.dock_actions["stats"] = self._add_action(
            "GridOpsStatsDock",
            icon,
            QCoreApplication.translate("GridOps", "Statistics"),
            QCoreApplication.translate("GridOps", "Show or hide the GridOps statistics panel"),
            lambda checked: self.toggle_dock("stats", checked),
            checkable=True,
        )
        self.status_widget = StatusWidget(self.status)
        self.iface.statusBarIface().addPermanentWidget(self.status_widget)
        if self.sync_error:
            self._warn(
                QCoreApplication.translate("GridOps", "The sync client cannot be loaded"),
                self.sync_error,
            )
            return
        core = self._core()
        if core is None:
            return
        self._add_provider()
        settings = core.ConnectionSettings()
        self.session = core.Session(settings)
        self.scheduler = core.SyncScheduler(
            lambda: self.run_sync(quiet=True), lambda: self.syncing, settings.sync_interval_minutes
        )
        try:
            self.session.open_saved()
        except Exception as exc:  # a damaged replica file: the user can connect again
            self._warn(
                QCoreApplication.translate("GridOps", "The last GridOps replica cannot be opened"),
                str(exc),
            )
        self.status_widget.refresh()

    def _add_action(
        self,
        name: str,
        icon: QIcon,
        text: str,
        tip: str,
        slot: Callable[..., Any],
        checkable: bool = False,
    ) -> QAction:
        action = QAction(icon, text, self.iface.mainWindow())
        action.setObjectName(name)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        # triggered, not toggled: setChecked() from a dock's own close must not re-enter.
        action.triggered.connect(slot)
        assert self.toolbar is not None
        self.toolbar.addAction(action)
        self.iface.addPluginToMenu(self.menu_name(), action)
        self.actions.append(action)
        return action

    def unload(self) -> None:
        """Remove everything `initGui` and `__init__` added; stop the timer, close the session."""
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler.deleteLater()
            self.scheduler = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.task is not None and self.syncing:
            self.task.on_finished = None
            self.task.cancel()
        for dock in self.docks.values():
            self.iface.removeDockWidget(dock)
            dock.close()
            dock.deleteLater()
        self.docks = {}
        self.dock_actions = {}
        if self.connect_dialog is not None:
            self.connect_dialog.close()
            self.connect_dialog.deleteLater()
            self.connect_dialog = None
        if self.status_widget is not None:
            self.status_widget.stop()
            self.iface.statusBarIface().removeWidget(self.status_widget)
            self.status_widget.deleteLater()
            self.status_widget = None
        for action in self.actions:
            self.iface.removePluginMenu(self.menu_name(), action)
            if self.toolbar is not None:
                self.toolbar.removeAction(action)
            action.deleteLater()
        self.actions = []
        if self.toolbar is not None:
            self.iface.mainWindow().removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.session is not None:
            self.session.disconnect()
            self.session = None
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None

    # ------------------------------------------------------------------ helpers

    def _add_provider(self) -> None:
        """Registers the GridOps Processing provider; its algorithms ask for the session
        when they run, so a later connect or reconnect needs nothing more."""
        try:
            from .processing.provider import GridOpsProvider
        except ImportError as exc:
            self._warn(
                QCoreApplication.translate("GridOps", "The GridOps Processing tools are missing"),
                str(exc),
            )
            return
        self.provider = GridOpsProvider(lambda: self.session)
        QgsApplication.processingRegistry().addProvider(self.provider)

    def _message(self, title: str, text: str, level: Any, duration: int) -> None:
        self.iface.messageBar().pushMessage(title, text, level=level, duration=duration)

    def _warn(self, title: str, text: str) -> None:
        self._message(title, text, Qgis.Warning, 10)

    def _core(self) -> Optional[SimpleNamespace]:
        """What the actions use from `core`, or None after telling the user why it failed."""
        try:
            vendor.ensure_sync()
            from .core.layers import GridOpsLayers
            from .core.session import Session
            from .core.settings import ConnectionSettings
            from .core.sync_task import SyncScheduler, SyncTask
        except ImportError as exc:
            self._warn(QCoreApplication.translate("GridOps", "GridOps is not complete"), str(exc))
            return None
        return SimpleNamespace(
            GridOpsLayers=GridOpsLayers,
            ConnectionSettings=ConnectionSettings,
            Session=Session,
            SyncScheduler=SyncScheduler,
            SyncTask=SyncTask,
        )

    def status(self) -> Any:
        """The session's `SessionStatus` (a not-connected one before there is a session)."""
        return self.session.status() if self.session is not None else NOT_CONNECTED

    def refresh_status(self) -> None:
        if self.status_widget is not None:
            self.status_widget.refresh()

    def layers(self) -> Any:
        """The GridOps layer group of the current replica in the current project, or None."""
        core = self._core()
        path = self.session.replica_path() if self.session is not None else None
        if core is None or path is None:
            return None
        return core.GridOpsLayers(QgsProject.instance(), path)

    def _require_session(self) -> bool:
        if self.session is not None and self.session.is_connected():
            return True
        self._warn(
            QCoreApplication.translate("GridOps", "Not connected"),
            QCoreApplication.translate("GridOps", "Connect to the hub first (GridOps → Connect…)."),
        )
        return False

    # ------------------------------------------------------------------ connect

    def connect(self) -> None:
        """Opens the Connect dialog; once the hub accepted, shows the account's layers."""
        if self.session is None:
            if self._core() is not None:
                self._warn(
                    QCoreApplication.translate("GridOps", "GridOps is not complete"),
                    self.sync_error or "",
                )
            return
        from .gui.connect_dialog import ConnectDialog

        if self.connect_dialog is not None:
            self.connect_dialog.deleteLater()
        self.connect_dialog = ConnectDialog(
            self.session, self.session.settings, self.iface.mainWindow()
        )
        self.connect_dialog.accepted.connect(self._connected)
        self.connect_dialog.open()  # window-modal, without a nested event loop

    def _connected(self) -> None:
        assert self.session is not None
        if self.scheduler is not None:
            self.scheduler.set_interval(self.session.settings.sync_interval_minutes)
        # Docks made for another account's replica are made again on their next toggle.
        for name in list(self.docks):
            self._drop_dock(name)
        layers = self.layers()
        if layers is not None:
            try:
                layers.add()
            except ValueError as exc:
                self._warn(
                    QCoreApplication.translate("GridOps", "The GridOps layers cannot be added"),
                    str(exc),
                )
        self.refresh_status()
        self._message(
            QCoreApplication.translate("GridOps", "GridOps"),
            QCoreApplication.translate(
                "GridOps", "Connected as {username}; fetching the data now."
            ).format(username=self.session.settings.username),
            Qgis.Success,
            5,
        )
        self.run_sync(quiet=True)

    # ------------------------------------------------------------------ sync

    def run_sync(self, quiet: bool = False) -> Any:
        """Starts one sync in QGIS's task manager (unless one is running) and returns the
        task. When it ends the layers, docks and status are refreshed and the message bar
        says how it went. `quiet` (the timer) skips the "not connected" warning."""
        core = self._core()
        if core is None or self.syncing:
            return None
        if quiet and (self.session is None or not self.session.is_connected()):
            return None
        if not self._require_session():
            return None
        path = self.session.replica_path()
        self.syncing = True
        # Kept on self: the task manager does not keep the Python object alive.
        self.task = core.SyncTask(
            path,
            description=QCoreApplication.translate("GridOps", "GridOps sync"),
            on_finished=self._sync_finished,
        )
        QgsApplication.taskManager().addTask(self.task)
        return self.task

    def _sync_finished(self, result: Any, error: Optional[BaseException]) -> None:
        self.syncing = False
        self.syncs_finished += 1
        if self.toolbar is None:  # unloaded meanwhile
            return
        layers = self.layers()
        if layers is not None:
            layers.refresh()
        for dock in self.docks.values():
            refresh = getattr(dock, "refresh", None)
            if callable(refresh):
                try:
                    refresh()
                except Exception as exc:  # a dock's fault must not hide the sync's outcome
                    self._warn(
                        QCoreApplication.translate(
                            "GridOps", "A GridOps panel could not be refreshed"
                        ),
                        str(exc),
                    )
        self.refresh_status()
        if error is not None:
            from .gui.connect_dialog import error_text

            url = self.session.settings.hub_url if self.session is not None else ""
            self._warn(QCoreApplication.translate("GridOps", "Sync failed"), error_text(error, url))
            return
        sent = sum((result.pushed or {}).values()) if result is not None else 0
        received = result.pulled if result is not None else 0
        self._message(
            QCoreApplication.translate("GridOps", "GridOps"),
            QCoreApplication.translate(
                "GridOps", "Synced: {sent} sent, {received} received."
            ).format(sent=sent, received=received),
            Qgis.Success,
            5,
        )
        conflicts = self.status().conflicts
        if conflicts:
            self._warn(
                QCoreApplication.translate("GridOps", "GridOps"),
                QCoreApplication.translate(
                    "GridOps", "{count} change(s) were refused by the hub: see the Review panel."
                ).format(count=conflicts),
            )

    # ------------------------------------------------------------------ docks

    def toggle_dock(self, name: str, checked: bool) -> None:
        """Shows or hides a panel, making it on its first showing."""
        dock = self.docks.get(name)
        if dock is None and checked:
            dock = self._make_dock(name)
        if dock is None:
            self.dock_actions[name].setChecked(False)
            return
        dock.setVisible(checked)
        if checked:
            dock.raise_()

    def _make_dock(self, name: str) -> Any:
        if not self._require_session():
            return None
        module_name, class_name = DOCKS[name]
        title = {
            "tasks": QCoreApplication.translate("GridOps", "Tasks"),
            "review": QCoreApplication.translate("GridOps", "Review"),
            "stats": QCoreApplication.translate("GridOps", "Statistics"),
        }[name]
        try:
            module = importlib.import_module(f"{__package__}.gui.{module_name}")
            factory = getattr(module, class_name)
            session = self.session
            if name == "tasks":
                dock = factory(self.iface, session.replica, self.layers())
            elif name == "stats":
                dock = factory(self.iface, session.replica_path)
            else:
                dock = factory(self.iface, session.replica, session.client, self.layers())
        except ImportError as exc:
            self._warn(
                QCoreApplication.translate(
                    "GridOps", "The {panel} panel is not available in this build"
                ).format(panel=title),
                str(exc),
            )
            return None
        except Exception as exc:  # a panel that fails to build must not take QGIS with it
            self._warn(
                QCoreApplication.translate(
                    "GridOps", "The {panel} panel could not be opened"
                ).format(panel=title),
                str(exc),
            )
            return None
        self.iface.addDockWidget(Qt.RightDockWidgetArea, dock)
        dock.visibilityChanged.connect(self.dock_actions[name].setChecked)
        self.docks[name] = dock
        return dock

    def _drop_dock(self, name: str) -> None:
        dock = self.docks.pop(name)
        self.iface.removeDockWidget(dock)
        dock.close()
        dock.deleteLater()
        self.dock_actions[name].setChecked(False)
