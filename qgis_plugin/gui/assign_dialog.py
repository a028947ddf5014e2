"""The Assign dialog: the street's workers with their grids and current load, the worker of
the selected tasks' grid pre-selected. It only chooses; the dock does the assignment.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence

from qgis.PyQt import uic
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTableWidgetItem, QWidget

from ..core.task_table import Worker, suggest_worker

FORM_CLASS, _ = uic.loadUiType(os.path.join(os.path.dirname(__file__), "assign_dialog.ui"))


class AssignDialog(QDialog, FORM_CLASS):
    """Pick one worker for `tasks` (one or many task dicts)."""

    def __init__(
        self,
        workers: Sequence[Worker],
        tasks: Sequence[Dict[str, Any]],
        parent: Optional[QWidget] = None,
    ) -> None:
        super().__init__(parent)
        self.setupUi(self)
        self.workers: List[Worker] = list(workers)
        self.tasks = list(tasks)
        self.suggested_id = suggest_worker(self.workers, self.tasks)
        self.setWindowTitle(QCoreApplication.translate("GridOps", "Assign tasks"))
        self.summaryLabel.setText(self.summary())
        self.buttonBox.button(QDialogButtonBox.Ok).setText(
            QCoreApplication.translate("GridOps", "Assign")
        )
        self.buttonBox.button(QDialogButtonBox.Cancel).setText(
            QCoreApplication.translate("GridOps", "Cancel")
        )
        self.buttonBox.accepted.connect(self.accept)
        self.buttonBox.rejected.connect(self.reject)
        self.workerTable.itemSelectionChanged.connect(self.update_ok)
        self.workerTable.itemDoubleClicked.connect(self.accept)
        self.fill()

    def summary(self) -> str:
        if len(self.tasks) == 1:
            title = self.tasks[0].get("title") or self.tasks[0]["id"][:8]
            return QCoreApplication.translate("GridOps", "Assign “{0}” to:").format(title)
        return QCoreApplication.translate("GridOps", "Assign {0} tasks to:").format(len(self.tasks))

    def fill(self) -> None:
        table = self.workerTable
        table.setColumnCount(3)
        table.setHorizontalHeaderLabels(
            [
                QCoreApplication.translate("GridOps", "Worker"),
                QCoreApplication.translate("GridOps", "Grids"),
                QCoreApplication.translate("GridOps", "Active tasks"),
            ]
        )
        table.setRowCount(len(self.workers))
        suggested = QCoreApplication.translate("GridOps", "(suggested)")
        for row, worker in enumerate(self.workers):
            name = worker.name
            if worker.id == self.suggested_id:
                name = f"{name} {suggested}"
            cells = [name, ", ".join(worker.grid_codes), str(worker.load)]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.UserRole, worker.id)
                if column == 2:
                    item.setTextAlignment(int(Qt.AlignCenter))
                table.setItem(row, column, item)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        if self.suggested_id is not None:
            self.select_worker(self.suggested_id)
        self.update_ok()

    def select_worker(self, worker_id: str) -> bool:
        """Selects the row of `worker_id`; False when there is no such worker."""
        for row, worker in enumerate(self.workers):
            if worker.id == worker_id:
                self.workerTable.selectRow(row)
                self.workerTable.scrollToItem(self.workerTable.item(row, 0))
                return True
        return False

    def selected_worker_id(self) -> Optional[str]:
        rows = self.workerTable.selectionModel().selectedRows()
        return self.workers[rows[0].row()].id if rows else None

    def update_ok(self) -> None:
        self.buttonBox.button(QDialogButtonBox.Ok).setEnabled(self.selected_worker_id() is not None)
