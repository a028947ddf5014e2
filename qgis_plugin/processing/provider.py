"""The GridOps Processing provider, id `gridops`: grid statistics, export tasks, import a
layer as twin features.

`GridOpsProvider(session_provider)` is built by the plugin with a callable that returns its
current `Session` (or None), which every algorithm gets (see `algorithm`). The plugin adds it
to `QgsApplication.processingRegistry()` in `initGui` and removes it in `unload`.
"""

from __future__ import annotations

import os
from typing import Optional

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .algorithm import SessionProvider
from .export_tasks import ExportTasksAlgorithm
from .grid_statistics import GridStatisticsAlgorithm
from .import_twin import ImportTwinAlgorithm

PROVIDER_ID = "gridops"
ICON_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "icons", "gridops.svg")
ALGORITHMS = (GridStatisticsAlgorithm, ExportTasksAlgorithm, ImportTwinAlgorithm)


class GridOpsProvider(QgsProcessingProvider):
    """The provider; `session_provider()` gives the plugin's session (None: not connected)."""

    def __init__(self, session_provider: Optional[SessionProvider] = None) -> None:
        super().__init__()
        self.session_provider = session_provider

    def id(self) -> str:
        return PROVIDER_ID

    def name(self) -> str:
        return QCoreApplication.translate("GridOps", "GridOps")

    def longName(self) -> str:
        return self.name()

    def icon(self) -> QIcon:
        return QIcon(ICON_PATH)

    def loadAlgorithms(self) -> None:
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm(self.session_provider))
