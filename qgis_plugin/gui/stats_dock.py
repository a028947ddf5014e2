"""The Statistics dock: per grid its worker, open and overdue tasks, tasks closed in the last
7 days and their median time to close, with the street's totals in the last row, and a
button that runs the Grid statistics algorithm to put the choropleth on the map.

Layout lives in `stats_dock.ui`; the figures come from `core.stats` (their definitions are
there), read from the replica file at each `refresh()` — which the plugin calls after every
sync. The map button runs `gridops:gridstatistics` as a `QgsProcessingAlgRunnerTask` on the
task manager (the dock never waits for it) into a temporary layer, styles it
(`processing.choropleth`) and adds it at the top of the project, replacing the one it added
before.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any, Callable, Dict, List, Optional

from qgis.core import (
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)
from qgis.gui import QgsDockWidget
from qgis.PyQt import uic
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QBrush, QColor, QFont
from qgis.PyQt.QtWidgets import QHeaderView, QTableWidgetItem, QWidget

from ..core import stats
from ..processing import choropleth
from ..processing.algorithm import REPLICA
from ..processing.grid_statistics import OUTPUT, GridStatisticsAlgorithm

FORM_CLASS, _BASE = uic.loadUiType(os.path.join(os.path.dirname(__file__), "stats_dock.ui"))

PathProvider = Callable[[], Optional[str]]
STATS_PROPERTY = "gridops/stats"  # marks the layer this dock added
NUMBER_COLUMNS = ("open", "overdue", "closed_week", "median_close_h")
OVERDUE_COLOUR = QColor("#b91c1c")
TOTAL_BACKGROUND = QColor("#e5e7eb")


def column_titles() -> List[str]:
    return [
        QCoreApplication.translate("GridOps", "Grid"),
        QCoreApplication.translate("GridOps", "Worker"),
        QCoreApplication.translate("GridOps", "Open tasks"),
        QCoreApplication.translate("GridOps", "Overdue"),
        QCoreApplication.translate("GridOps", "Closed (7 days)"),
        QCoreApplication.translate("GridOps", "Median hours to close"),
    ]


def hours_text(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:.1f}"


class StatsDock(QgsDockWidget, FORM_CLASS):
    """The Statistics dock. `replica_path_provider()` gives the connected replica's file
    (None when not connected); the map goes into `project` (default: the current one)."""

    def __init__(
        self,
        iface: Any,
        replica_path_provider: PathProvider,
        project: Optional[QgsProject] = None,
        parent: Optional[QWidget] = None,
    ) -> None:
        super().__init__(parent)
        self.setupUi(self)
        self.iface = iface
        self.replica_path_provider = replica_path_provider
        self.project = project
        self.stats: Optional[stats.StatsTable] = None
        self.map_task: Optional[QgsProcessingAlgRunnerTask] = None
        self.map_layer_id: Optional[str] = None
        self.retranslate()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        self.refreshButton.clicked.connect(self.refresh)
        self.mapButton.clicked.connect(self.add_map)
        self.refresh()

    def retranslate(self) -> None:
        """The dock's fixed texts (kept here, not in the .ui, so pylupdate5 finds them)."""
        self.setWindowTitle(QCoreApplication.translate("GridOps", "GridOps statistics"))
        self.refreshButton.setText(QCoreApplication.translate("GridOps", "Refresh"))
        self.mapButton.setText(QCoreApplication.translate("GridOps", "Statistics map"))
        self.mapButton.setToolTip(
            QCoreApplication.translate(
                "GridOps", "Add a map of the grids coloured by their open tasks"
            )
        )
        titles = column_titles()
        self.table.setColumnCount(len(titles))
        self.table.setHorizontalHeaderLabels(titles)

    def current_project(self) -> QgsProject:
        return self.project if self.project is not None else QgsProject.instance()

    def show_message(self, text: str) -> None:
        self.messageLabel.setText(text)
        self.messageLabel.setVisible(bool(text))

    # ------------------------------------------------------------------ the table

    def refresh(self) -> Optional[stats.StatsTable]:
        """Reads the figures from the replica again and shows them; returns them (None when
        not connected or the file cannot be read, said in the dock)."""
        path = self.replica_path_provider()
        self.mapButton.setEnabled(path is not None)
        if path is None:
            self.stats = None
            self.table.setRowCount(0)
            self.captionLabel.setText(
                QCoreApplication.translate("GridOps", "Connect to the hub to see statistics.")
            )
            return None
        try:
            table = stats.stats_of_file(path)
        except (OSError, ValueError, sqlite3.Error) as exc:
            self.stats = None
            self.table.setRowCount(0)
            self.captionLabel.setText(
                QCoreApplication.translate(
                    "GridOps", "The statistics cannot be read: {error}"
                ).format(error=exc)
            )
            return None
        self.stats = table
        self.fill(table)
        when = table.now.astimezone().strftime("%Y-%m-%d %H:%M")
        as_of = QCoreApplication.translate("GridOps", "As of {time}.").format(time=when)
        scope = QCoreApplication.translate(
            "GridOps", "Open: not closed, canceled or invalid; closed, median: last 7 days."
        )
        self.captionLabel.setText(f"{as_of} {scope}")
        return table

    def fill(self, table: stats.StatsTable) -> None:
        rows = [*table.rows, table.total]
        self.table.setRowCount(len(rows))
        total_name = QCoreApplication.translate("GridOps", "Total")
        for index, row in enumerate(rows):
            is_total = row is table.total
            grid = total_name if is_total else " ".join(p for p in (row.code, row.name) if p)
            texts = [
                grid,
                row.worker,
                str(row.open),
                str(row.overdue),
                str(row.closed_week),
                hours_text(row.median_close_h),
            ]
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if column >= 2:
                    item.setTextAlignment(int(Qt.AlignRight | Qt.AlignVCenter))
                if column == 0 and not is_total:
                    item.setData(Qt.UserRole, row.code)
                if column == 3 and row.overdue:
                    item.setForeground(QBrush(OVERDUE_COLOUR))
                if is_total:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                    item.setBackground(QBrush(TOTAL_BACKGROUND))
                self.table.setItem(index, column, item)

    def row_texts(self) -> List[List[str]]:
        """What the table shows, row by row (tests read it)."""
        return [
            [self.table.item(r, c).text() for c in range(self.table.columnCount())]
            for r in range(self.table.rowCount())
        ]

    # ------------------------------------------------------------------ the map

    def add_map(self) -> Optional[QgsProcessingAlgRunnerTask]:
        """Runs Grid statistics on the task manager; the layer is added when it is done.
        Returns the task (None when not connected or one is still running)."""
        path = self.replica_path_provider()
        if path is None or self.map_task is not None:
            return None
        algorithm = GridStatisticsAlgorithm().create()
        context = QgsProcessingContext()
        context.setProject(self.current_project())
        feedback = QgsProcessingFeedback()
        parameters = {REPLICA: path, OUTPUT: "TEMPORARY_OUTPUT"}
        task = QgsProcessingAlgRunnerTask(algorithm, parameters, context, feedback)
        task.executed.connect(self._map_done)
        # The task only points at these: kept with it (the task manager keeps the task alive),
        # so they outlive the dock if the plugin is unloaded while it runs.
        task.held = {"algorithm": algorithm, "context": context, "feedback": feedback}
        self.map_task = task
        self.mapButton.setEnabled(False)
        self.show_message(QCoreApplication.translate("GridOps", "Making the statistics map…"))
        QgsApplication.taskManager().addTask(task)
        return task

    def _map_done(self, ok: bool, results: Dict[str, Any]) -> None:
        context = self.map_task.held["context"] if self.map_task is not None else None
        self.map_task = None
        self.mapButton.setEnabled(self.replica_path_provider() is not None)
        layer = context.takeResultLayer(results[OUTPUT]) if ok and context and results else None
        if not isinstance(layer, QgsVectorLayer):
            self.show_message(
                QCoreApplication.translate("GridOps", "The statistics map could not be made.")
            )
            return
        self.add_layer(layer)
        self.show_message("")

    def add_layer(self, layer: QgsVectorLayer) -> QgsVectorLayer:
        """Styles `layer` as the choropleth and puts it at the top of the project, in place
        of the statistics layer this dock added before."""
        project = self.current_project()
        if self.map_layer_id and project.mapLayer(self.map_layer_id) is not None:
            project.removeMapLayer(self.map_layer_id)
        layer.setName(QCoreApplication.translate("GridOps", "Grid statistics"))
        choropleth.apply(layer)
        layer.setCustomProperty(STATS_PROPERTY, True)
        project.addMapLayer(layer, False)
        project.layerTreeRoot().insertLayer(0, layer)
        self.map_layer_id = layer.id()
        return layer
