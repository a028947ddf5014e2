"""The plugin object QGIS holds: the GridOps toolbar and menu, the translator, and the actions.

`initGui` adds a toolbar "GridOps" and a Plugins → GridOps menu with Connect and Sync;
`unload` removes every action, the toolbar and the translator it added, so QGIS can reload
the plugin. The actions call into `core` (connection settings, the sync task, the layer
group), imported when an action runs: the toolbar comes up even when that code cannot be
imported, and the failure is shown in QGIS's message bar instead.

Translations: `i18n/gridops_<locale>.qm`, chosen by QGIS's own language setting
(`QgsApplication.locale()`, which honours `locale/overrideFlag` and `locale/userLocale`).
Source strings are English, in the context "GridOps".
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any, List, Optional

from qgis.core import Qgis, QgsApplication, QgsProject
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QToolBar

from . import vendor

PLUGIN_DIR = os.path.dirname(os.path.abspath(__file__))
I18N_DIR = os.path.join(PLUGIN_DIR, "i18n")
ICON_PATH = os.path.join(PLUGIN_DIR, "icons", "gridops.svg")
TOOLBAR_NAME = "GridOpsToolbar"


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
        try:
            self.sync = vendor.ensure_sync()
        except ImportError as exc:  # SyncConflict is one: shown when the GUI is up
            self.sync = None
            self.sync_error = str(exc)

    @staticmethod
    def menu_name() -> str:
        return QCoreApplication.translate("GridOps", "&GridOps")

    def initGui(self) -> None:
        """Add the toolbar, the menu entries and their actions."""
        self.toolbar = QToolBar(
            QCoreApplication.translate("GridOps", "GridOps"), self.iface.mainWindow()
        )
        self.toolbar.setObjectName(TOOLBAR_NAME)
        self.iface.addToolBar(self.toolbar)
        icon = QIcon(ICON_PATH)
        self._add_action(
            icon,
            QCoreApplication.translate("GridOps", "Connect"),
            QCoreApplication.translate("GridOps", "Connect to the GridOps hub"),
            self.connect,
        )
        self._add_action(
            icon,
            QCoreApplication.translate("GridOps", "Sync"),
            QCoreApplication.translate("GridOps", "Sync the replica with the hub now"),
            self.run_sync,
        )
        if self.sync_error:
            self._warn(
                QCoreApplication.translate("GridOps", "The sync client cannot be loaded"),
                self.sync_error,
            )

    def _add_action(self, icon: QIcon, text: str, tip: str, slot: Any) -> QAction:
        action = QAction(icon, text, self.iface.mainWindow())
        action.setObjectName("GridOps" + text.replace(" ", ""))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        assert self.toolbar is not None
        self.toolbar.addAction(action)
        self.iface.addPluginToMenu(self.menu_name(), action)
        self.actions.append(action)
        return action

    def unload(self) -> None:
        """Remove everything `initGui` and `__init__` added."""
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
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None

    def _warn(self, title: str, text: str) -> None:
        self.iface.messageBar().pushMessage(title, text, level=Qgis.Warning, duration=10)

    def _core(self) -> Optional[SimpleNamespace]:
        """What the actions use from `core`, or None after telling the user why it failed."""
        try:
            vendor.ensure_sync()
            from .core.layers import GridOpsLayers
            from .core.settings import ConnectionSettings
            from .core.sync_task import SyncTask
        except ImportError as exc:
            self._warn(QCoreApplication.translate("GridOps", "GridOps is not complete"), str(exc))
            return None
        return SimpleNamespace(
            GridOpsLayers=GridOpsLayers, ConnectionSettings=ConnectionSettings, SyncTask=SyncTask
        )

    def _replica_path(self, core: Any) -> Optional[str]:
        settings = core.ConnectionSettings()
        path = settings.replica_path() if settings.hub_url and settings.username else ""
        if not path or not os.path.exists(path):
            self._warn(
                QCoreApplication.translate("GridOps", "Not connected"),
                QCoreApplication.translate(
                    "GridOps", "Set the hub address and account, then log in to the hub first."
                ),
            )
            return None
        return path

    def connect(self) -> None:
        """Show this account's replica as the GridOps layer group in the current project."""
        core = self._core()
        if core is None:
            return
        path = self._replica_path(core)
        if path is not None:
            core.GridOpsLayers(QgsProject.instance(), path).add()

    def run_sync(self) -> None:
        """Start one sync in QGIS's task manager; the layers are refreshed when it ends."""
        core = self._core()
        if core is None:
            return
        path = self._replica_path(core)
        if path is None:
            return
        layers = core.GridOpsLayers(QgsProject.instance(), path)

        def finished(result: Any, error: Optional[BaseException]) -> None:
            if error is not None:
                self._warn(QCoreApplication.translate("GridOps", "Sync failed"), str(error))
            layers.refresh()

        # Kept on self: the task manager does not keep the Python object alive.
        self.task = core.SyncTask(
            path,
            description=QCoreApplication.translate("GridOps", "GridOps sync"),
            on_finished=finished,
        )
        QgsApplication.taskManager().addTask(self.task)
