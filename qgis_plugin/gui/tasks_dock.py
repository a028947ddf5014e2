"""The Tasks dock: the replica's tasks in a filtered table, the dispatcher's actions on them
(assign, priority, due time, cancel, create from the map, zoom), and its selection kept in
step with the tasks layer's.

Every action is a replica action (queued for the next sync); a refusal known offline shows
in the message bar with its message; after any action the table reloads and the GridOps
layers refresh. The questions an action asks (which worker, which reason...) go through a
`Prompts` object passed to the constructor, so tests answer them without modal dialogs.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeatureRequest,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
)
from qgis.gui import QgsDockWidget
from qgis.PyQt import uic
from qgis.PyQt.QtCore import QCoreApplication, QItemSelection, QItemSelectionModel
from qgis.PyQt.QtWidgets import QAbstractItemView, QDialog, QHeaderView, QInputDialog, QWidget

from sync import model
from sync.replica import Refused, ReplicaError

from ..core.layers import GridOpsLayers
from ..core.task_table import (
    TASK_ID_ROLE,
    TaskFilter,
    TaskFilterProxy,
    TaskTableModel,
    Worker,
    kind_labels,
    priority_labels,
    status_labels,
    workers_with_load,
)
from ..core.twin_selection import new_task_defaults, selected_twin_features, task_for_feature
from .assign_dialog import AssignDialog
from .map_tools import CreateTaskTool
from .task_dialogs import DueDialog, NewTaskDialog

FORM_CLASS, _ = uic.loadUiType(os.path.join(os.path.dirname(__file__), "tasks_dock.ui"))
WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
ACTIVE_KEY = "__active__"
ZOOM_MARGIN_DEG = 0.0015  # about 150 m around a single task


def _combo_choice(parent: QWidget, title: str, label: str, items: Dict[str, str], current: str):
    """A QInputDialog.getItem over labelled keys; the chosen key or None."""
    keys = list(items)
    labels = [items[k] for k in keys]
    index = keys.index(current) if current in keys else 0
    text, ok = QInputDialog.getItem(parent, title, label, labels, index, False)
    return keys[labels.index(text)] if ok and text in labels else None


class Prompts:
    """The questions the dock's actions ask, as modal dialogs. Each returns None when the
    user cancels. Tests pass an object with the same methods."""

    def choose_worker(
        self, workers: List[Worker], tasks: List[Dict[str, Any]], parent: QWidget
    ) -> Optional[str]:
        dialog = AssignDialog(workers, tasks, parent)
        return dialog.selected_worker_id() if dialog.exec_() == QDialog.Accepted else None

    def choose_priority(self, current: str, parent: QWidget) -> Optional[str]:
        return _combo_choice(
            parent,
            QCoreApplication.translate("GridOps", "Priority"),
            QCoreApplication.translate("GridOps", "New priority:"),
            priority_labels(),
            current,
        )

    def choose_due(self, current: Optional[str], parent: QWidget) -> Optional[str]:
        dialog = DueDialog(current, parent)
        return dialog.value() if dialog.exec_() == QDialog.Accepted else None

    def cancel_reason(self, parent: QWidget) -> Optional[str]:
        text, ok = QInputDialog.getText(
            parent,
            QCoreApplication.translate("GridOps", "Cancel tasks"),
            QCoreApplication.translate("GridOps", "Reason for cancelling:"),
        )
        return text.strip() if ok and text.strip() else None

    def new_task(
        self, parent: QWidget, defaults: Optional[Dict[str, Any]] = None
    ) -> Optional[Dict[str, Any]]:
        dialog = NewTaskDialog(defaults, parent)
        return dialog.values() if dialog.exec_() == QDialog.Accepted else None


class TasksDock(QgsDockWidget):
    """The dispatcher's task list. `replica_provider()` returns the open `Replica` (or None
    while not connected); `layers` is the GridOps layer group of that replica."""

    def __init__(
        self,
        iface: Any,
        replica_provider: Callable[[], Any],
        layers: GridOpsLayers,
        prompts: Optional[Prompts] = None,
        parent: Optional[QWidget] = None,
    ) -> None:
        super().__init__(QCoreApplication.translate("GridOps", "GridOps tasks"), parent)
        self.setObjectName("GridOpsTasksDock")
        self.iface = iface
        self.replica_provider = replica_provider
        self.layers = layers
        self.prompts = prompts or Prompts()
        self.ui = FORM_CLASS()
        self.contents = QWidget(self)
        self.ui.setupUi(self.contents)
        self.setWidget(self.contents)
        self.model = TaskTableModel(self)
        self.proxy = TaskFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.ui.tableView.setModel(self.proxy)
        self.map_tool = CreateTaskTool(iface.mapCanvas(), self.create_at)
        self.map_tool.deactivated.connect(lambda: self.ui.createButton.setChecked(False))
        self._layer: Any = None
        self._syncing_selection = False
        self._fill_static_texts()
        self._connect()
        self.reload()

    # ------------------------------------------------------------------ set-up

    def _fill_static_texts(self) -> None:
        ui = self.ui
        ui.statusCombo.addItem(QCoreApplication.translate("GridOps", "All statuses"), "")
        ui.statusCombo.addItem(QCoreApplication.translate("GridOps", "Active"), ACTIVE_KEY)
        for key, label in status_labels().items():
            ui.statusCombo.addItem(label, key)
        ui.kindCombo.addItem(QCoreApplication.translate("GridOps", "All kinds"), "")
        for key, label in kind_labels().items():
            ui.kindCombo.addItem(label, key)
        ui.searchEdit.setPlaceholderText(
            QCoreApplication.translate("GridOps", "Search title, description or id")
        )
        ui.overdueCheck.setText(QCoreApplication.translate("GridOps", "Overdue only"))
        ui.assignButton.setText(QCoreApplication.translate("GridOps", "Assign…"))
        ui.priorityButton.setText(QCoreApplication.translate("GridOps", "Priority"))
        ui.dueButton.setText(QCoreApplication.translate("GridOps", "Due time"))
        ui.cancelButton.setText(QCoreApplication.translate("GridOps", "Cancel task"))
        ui.createButton.setText(QCoreApplication.translate("GridOps", "Create from map"))
        ui.createButton.setToolTip(
            QCoreApplication.translate("GridOps", "Click on the map where the new task is")
        )
        ui.componentButton.setText(QCoreApplication.translate("GridOps", "From component"))
        ui.componentButton.setToolTip(
            QCoreApplication.translate(
                "GridOps", "Create a task at each twin feature selected on the map"
            )
        )
        ui.zoomButton.setText(QCoreApplication.translate("GridOps", "Zoom"))

    def _connect(self) -> None:
        ui = self.ui
        for combo in (ui.statusCombo, ui.kindCombo, ui.gridCombo, ui.assigneeCombo):
            combo.currentIndexChanged.connect(self.apply_filter)
        ui.overdueCheck.toggled.connect(self.apply_filter)
        ui.searchEdit.textChanged.connect(self.apply_filter)
        ui.assignButton.clicked.connect(self.assign_selected)
        ui.priorityButton.clicked.connect(self.set_priority_selected)
        ui.dueButton.clicked.connect(self.set_due_selected)
        ui.cancelButton.clicked.connect(self.cancel_selected)
        ui.createButton.toggled.connect(self.set_create_mode)
        ui.componentButton.clicked.connect(self.create_from_selected_features)
        ui.zoomButton.clicked.connect(self.zoom_to_selected)
        ui.tableView.doubleClicked.connect(self.zoom_to_index)
        ui.tableView.selectionModel().selectionChanged.connect(self.select_on_layer)
        ui.tableView.setSelectionBehavior(QAbstractItemView.SelectRows)

    def _layout_columns(self) -> None:
        header = self.ui.tableView.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setMinimumSectionSize(36)

    # ------------------------------------------------------------------ data

    def replica(self) -> Any:
        return self.replica_provider()

    def reload(self, refresh_layers: bool = False) -> None:
        """Re-reads the replica (keeping filters and selected tasks) and reconnects the
        tasks layer; with `refresh_layers`, the GridOps layers are re-read first."""
        selected = self.selected_task_ids()
        if refresh_layers:
            # Re-reading the layer drops its selection: that must not clear the table's.
            self._syncing_selection = True
            try:
                self.layers.refresh()
            finally:
                self._syncing_selection = False
        replica = self.replica()
        if replica is None:
            self.model.set_tasks([], [])
        else:
            self.model.reload(replica)
        self._fill_choices()
        self._layout_columns()
        self._connect_layer()
        self.apply_filter()
        self.select_task_ids(selected)

    def _fill_choices(self) -> None:
        ui = self.ui
        grid, assignee = ui.gridCombo.currentData(), ui.assigneeCombo.currentData()
        for combo in (ui.gridCombo, ui.assigneeCombo):
            combo.blockSignals(True)
            combo.clear()
        ui.gridCombo.addItem(QCoreApplication.translate("GridOps", "All grids"), "")
        for code in sorted({t["grid_code"] for t in self.model.tasks if t.get("grid_code")}):
            ui.gridCombo.addItem(code, code)
        ui.assigneeCombo.addItem(QCoreApplication.translate("GridOps", "Anyone"), "")
        for worker in workers_with_load(self.model.users, self.model.tasks):
            ui.assigneeCombo.addItem(worker.name, worker.id)
        for combo, value in ((ui.gridCombo, grid), (ui.assigneeCombo, assignee)):
            combo.setCurrentIndex(max(0, combo.findData(value or "")))
            combo.blockSignals(False)

    def current_filter(self) -> TaskFilter:
        ui = self.ui
        status = ui.statusCombo.currentData() or ""
        statuses = model.ACTIVE if status == ACTIVE_KEY else frozenset([status] if status else [])
        return TaskFilter(
            statuses=frozenset(statuses),
            grid=ui.gridCombo.currentData() or "",
            assignee_id=ui.assigneeCombo.currentData() or "",
            kind=ui.kindCombo.currentData() or "",
            overdue_only=ui.overdueCheck.isChecked(),
            text=ui.searchEdit.text(),
        )

    def apply_filter(self, *_args: Any) -> None:
        self.proxy.set_filter(self.current_filter())
        self.ui.countLabel.setText(
            QCoreApplication.translate("GridOps", "{0} of {1} tasks").format(
                self.proxy.rowCount(), self.model.rowCount()
            )
        )

    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return self.proxy.rowCount()

    # ------------------------------------------------------------------ selection

    def selected_task_ids(self) -> List[str]:
        rows = self.ui.tableView.selectionModel().selectedRows()
        return [self.proxy.data(index, TASK_ID_ROLE) for index in sorted(rows)]

    def selected_tasks(self) -> List[Dict[str, Any]]:
        ids = set(self.selected_task_ids())
        return [t for t in self.model.tasks if t["id"] in ids]

    def select_task_ids(self, task_ids: List[str]) -> None:
        """Selects the shown rows of `task_ids` (others are ignored)."""
        selection = QItemSelection()
        for task_id in task_ids:
            row = self.model.row_of(task_id)
            if row < 0:
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if index.isValid():
                selection.select(index, index)
        flags = QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows
        self.ui.tableView.selectionModel().select(selection, flags)

    def _connect_layer(self) -> None:
        layer = self.layers.layer("tasks")
        if layer is self._layer:
            return
        if self._layer is not None:
            try:
                self._layer.selectionChanged.disconnect(self.select_from_layer)
            except (TypeError, RuntimeError):
                pass
        self._layer = layer
        if layer is not None:
            layer.selectionChanged.connect(self.select_from_layer)

    def feature_ids(self, task_ids: List[str]) -> List[int]:
        """The tasks layer's feature ids of `task_ids`."""
        layer = self.layers.layer("tasks")
        if layer is None or not task_ids:
            return []
        quoted = ",".join("'" + t.replace("'", "''") + "'" for t in task_ids)
        request = QgsFeatureRequest().setFilterExpression(f'"id" IN ({quoted})')
        request.setNoAttributes()
        return [f.id() for f in layer.getFeatures(request)]

    def select_on_layer(self, *_args: Any) -> None:
        if self._syncing_selection:
            return
        layer = self.layers.layer("tasks")
        if layer is None:
            return
        self._syncing_selection = True
        try:
            layer.selectByIds(self.feature_ids(self.selected_task_ids()))
        finally:
            self._syncing_selection = False

    def select_from_layer(self, *_args: Any) -> None:
        if self._syncing_selection or self._layer is None:
            return
        self._syncing_selection = True
        try:
            self.select_task_ids([str(f["id"]) for f in self._layer.selectedFeatures()])
        finally:
            self._syncing_selection = False

    # ------------------------------------------------------------------ actions

    def _warn(self, text: str) -> None:
        self.iface.messageBar().pushMessage(
            QCoreApplication.translate("GridOps", "GridOps"), text, Qgis.Warning, 5
        )

    def run_on_tasks(self, task_ids: List[str], action: Callable[[Any, str], Any]) -> int:
        """Calls `action(replica, task_id)` for each task; a refusal goes to the message bar
        with its message. Then reloads and refreshes the layers. Returns how many were done."""
        replica = self.replica()
        if replica is None:
            self._warn(QCoreApplication.translate("GridOps", "Not connected"))
            return 0
        done = 0
        for task_id in task_ids:
            try:
                action(replica, task_id)
                done += 1
            except (Refused, ReplicaError) as err:
                self.iface.messageBar().pushMessage(
                    QCoreApplication.translate("GridOps", "Refused"),
                    getattr(err, "message", str(err)),
                    Qgis.Critical,
                    8,
                )
        self.reload(refresh_layers=True)
        return done

    def _need_selection(self) -> List[Dict[str, Any]]:
        tasks = self.selected_tasks()
        if not tasks:
            self._warn(QCoreApplication.translate("GridOps", "Select one or more tasks first"))
        return tasks

    def assign_selected(self) -> int:
        tasks = self._need_selection()
        if not tasks:
            return 0
        workers = workers_with_load(self.model.users, self.model.tasks)
        worker_id = self.prompts.choose_worker(workers, tasks, self)
        if worker_id is None:
            return 0
        return self.run_on_tasks([t["id"] for t in tasks], lambda r, i: r.assign(i, worker_id))

    def set_priority_selected(self) -> int:
        tasks = self._need_selection()
        if not tasks:
            return 0
        priority = self.prompts.choose_priority(tasks[0].get("priority") or "normal", self)
        if priority is None:
            return 0
        ids = [t["id"] for t in tasks]
        return self.run_on_tasks(ids, lambda r, i: r.update_task(i, priority=priority))

    def set_due_selected(self) -> int:
        tasks = self._need_selection()
        if not tasks:
            return 0
        due_at = self.prompts.choose_due(tasks[0].get("due_at"), self)
        if due_at is None:
            return 0
        ids = [t["id"] for t in tasks]
        return self.run_on_tasks(ids, lambda r, i: r.update_task(i, due_at=due_at))

    def cancel_selected(self) -> int:
        tasks = self._need_selection()
        if not tasks:
            return 0
        reason = self.prompts.cancel_reason(self)
        if reason is None:
            return 0
        return self.run_on_tasks([t["id"] for t in tasks], lambda r, i: r.cancel(i, reason))

    def set_create_mode(self, on: bool) -> None:
        canvas = self.iface.mapCanvas()
        if on:
            canvas.setMapTool(self.map_tool)
        elif canvas.mapTool() is self.map_tool:
            canvas.unsetMapTool(self.map_tool)

    def create_at(self, point: QgsPointXY) -> Optional[str]:
        """Asks kind, title, priority and source, then creates a task at `point` (WGS 84).
        Returns the new task's id, or None (cancelled or refused)."""
        values = self.prompts.new_task(self)
        if values is None:
            return None
        created: List[str] = []
        fields = {k: v for k, v in values.items() if k != "kind" and v is not None}

        def make(replica: Any, _task_id: str) -> None:
            task = replica.create_task(values["kind"], point.x(), point.y(), **fields)
            created.append(task["id"])

        self.run_on_tasks(["new"], make)
        self.ui.createButton.setChecked(False)
        if created:
            self.select_task_ids(created)
        return created[0] if created else None

    def create_from_selected_features(self) -> List[str]:
        """A task at each selected twin feature, after one question (prefilled from the
        first feature: the likely kind, its name in the title, its id in the description).
        Returns the new tasks' ids."""
        features = selected_twin_features(self.layers)
        if not features:
            self._warn(
                QCoreApplication.translate(
                    "GridOps", "Select a component, pipeline or area on the map first"
                )
            )
            return []
        defaults = new_task_defaults(features)
        values = self.prompts.new_task(self, defaults)
        if values is None:
            return []
        created: List[str] = []
        by_key = {f"{f['table']}:{f['id']}": f for f in features}

        def make(replica: Any, key: str) -> None:
            kind, lon, lat, fields = task_for_feature(by_key[key], values, defaults)
            created.append(replica.create_task(kind, lon, lat, **fields)["id"])

        self.run_on_tasks(list(by_key), make)
        if created:
            self.select_task_ids(created)
        return created

    # ------------------------------------------------------------------ the map

    def zoom_to_index(self, index: Any) -> None:
        self.zoom_to_tasks([self.proxy.data(index, TASK_ID_ROLE)])

    def zoom_to_selected(self) -> None:
        self.zoom_to_tasks(self.selected_task_ids())

    def zoom_to_tasks(self, task_ids: List[str]) -> bool:
        """Centres the map on the tasks and flashes them; False when none has a place."""
        points = [
            (t["lon"], t["lat"])
            for t in self.model.tasks
            if t["id"] in set(task_ids) and t.get("lon") is not None
        ]
        if not points:
            return False
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        extent = QgsRectangle(min(xs), min(ys), max(xs), max(ys))
        extent.grow(ZOOM_MARGIN_DEG)
        canvas = self.iface.mapCanvas()
        crs = canvas.mapSettings().destinationCrs()
        if crs.isValid() and crs != WGS84:
            extent = QgsCoordinateTransform(WGS84, crs, QgsProject.instance()).transformBoundingBox(
                extent
            )
        canvas.setExtent(extent)
        canvas.refresh()
        layer = self.layers.layer("tasks")
        fids = self.feature_ids(task_ids)
        if layer is not None and fids:
            canvas.flashFeatureIds(layer, fids)
        return True
