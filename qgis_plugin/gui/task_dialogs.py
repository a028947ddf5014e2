"""The small dialogs the Tasks dock asks with: a new task (kind, title, description, priority,
source; prefilled when it is made from a twin component) and a due time. Layouts are in the
`.ui` files beside this module; the texts are set here so they are translated."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any, Dict, Optional

from qgis.PyQt import uic
from qgis.PyQt.QtCore import QCoreApplication, QDateTime
from qgis.PyQt.QtWidgets import QDialog, QDialogButtonBox, QWidget

from sync import model

from ..core.task_table import kind_labels, priority_labels, source_labels

_HERE = os.path.dirname(__file__)
NEW_TASK_FORM, _ = uic.loadUiType(os.path.join(_HERE, "new_task_dialog.ui"))
DUE_FORM, _ = uic.loadUiType(os.path.join(_HERE, "due_dialog.ui"))


def _select(combo: Any, key: Optional[str]) -> None:
    index = combo.findData(key)
    if index >= 0:
        combo.setCurrentIndex(index)


class NewTaskDialog(QDialog):
    """Kind, title, description, priority and source of a new task. `defaults` may hold
    `kind`, `title`, `description`, `priority`, `source` and `place` (a line saying where the
    task will be: a point, or the component it is made from)."""

    def __init__(
        self, defaults: Optional[Dict[str, Any]] = None, parent: Optional[QWidget] = None
    ) -> None:
        super().__init__(parent)
        defaults = defaults or {}
        self.ui = NEW_TASK_FORM()
        self.ui.setupUi(self)
        ui = self.ui
        self.setWindowTitle(QCoreApplication.translate("GridOps", "New task"))
        ui.placeLabel.setText(QCoreApplication.translate("GridOps", "Place"))
        ui.kindLabel.setText(QCoreApplication.translate("GridOps", "Kind"))
        ui.titleLabel.setText(QCoreApplication.translate("GridOps", "Title"))
        ui.descriptionLabel.setText(QCoreApplication.translate("GridOps", "Description"))
        ui.priorityLabel.setText(QCoreApplication.translate("GridOps", "Priority"))
        ui.sourceLabel.setText(QCoreApplication.translate("GridOps", "Source"))
        place = defaults.get("place")
        ui.placeLabel.setVisible(bool(place))
        ui.placeValue.setVisible(bool(place))
        ui.placeValue.setText(place or "")
        for key, label in kind_labels().items():
            ui.kindCombo.addItem(label, key)
        for key, label in priority_labels().items():
            ui.priorityCombo.addItem(label, key)
        sources = source_labels()
        for key in ("office", "hotline"):
            ui.sourceCombo.addItem(sources[key], key)
        _select(ui.kindCombo, defaults.get("kind"))
        _select(ui.priorityCombo, defaults.get("priority") or "normal")
        _select(ui.sourceCombo, defaults.get("source") or "office")
        ui.titleEdit.setText(defaults.get("title") or "")
        ui.descriptionEdit.setPlainText(defaults.get("description") or "")
        ui.titleEdit.textChanged.connect(self._check)
        ui.descriptionEdit.textChanged.connect(self._check)
        self._check()

    def _check(self, *_args: Any) -> None:
        """OK only while the texts fit the hub's limits."""
        text = self.ui.descriptionEdit.toPlainText()
        ok = len(self.ui.titleEdit.text()) <= model.MAX_TITLE and len(text) <= model.MAX_TEXT
        self.ui.buttonBox.button(QDialogButtonBox.Ok).setEnabled(ok)

    def values(self) -> Dict[str, Any]:
        """The op's fields; empty texts are left out (None)."""
        ui = self.ui
        return {
            "kind": ui.kindCombo.currentData(),
            "title": ui.titleEdit.text().strip() or None,
            "description": ui.descriptionEdit.toPlainText().strip() or None,
            "priority": ui.priorityCombo.currentData(),
            "source": ui.sourceCombo.currentData(),
        }


class DueDialog(QDialog):
    """A due time, in local time, shown and returned as UTC ISO 8601."""

    def __init__(self, current: Optional[str], parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.ui = DUE_FORM()
        self.ui.setupUi(self)
        self.setWindowTitle(QCoreApplication.translate("GridOps", "Due time"))
        self.ui.dueLabel.setText(QCoreApplication.translate("GridOps", "Due time"))
        parsed = model.parse_time(current)
        start = QDateTime.fromSecsSinceEpoch(int(parsed.timestamp())) if parsed else None
        self.ui.dueEdit.setDateTime(start or QDateTime.currentDateTime().addSecs(24 * 3600))

    def value(self) -> str:
        seconds = self.ui.dueEdit.dateTime().toSecsSinceEpoch()
        return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
