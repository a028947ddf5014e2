"""The GridOps line in QGIS's status bar: last sync, ops waiting to be sent, unseen conflicts.

`StatusWidget(status_provider)` asks `status_provider()` (`Session.status`) for a
`SessionStatus` on `refresh()`, which the plugin calls after each sync and a timer calls
every `REFRESH_MS` (edits made in the docks change the waiting count between syncs).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from qgis.PyQt.QtCore import QCoreApplication, QTimer
from qgis.PyQt.QtWidgets import QLabel, QWidget

REFRESH_MS = 30_000


def status_text(status: Any) -> str:
    """The line for a `SessionStatus`."""
    if not status.connected:
        return QCoreApplication.translate("GridOps", "GridOps: not connected")
    when = (
        status.last_sync.strftime("%H:%M")
        if status.last_sync is not None
        else QCoreApplication.translate("GridOps", "never")
    )
    return QCoreApplication.translate(
        "GridOps", "Last sync {time} · waiting {pending} · conflicts {conflicts}"
    ).format(time=when, pending=status.pending, conflicts=status.conflicts)


class StatusWidget(QLabel):
    """A label for `iface.statusBarIface().addPermanentWidget`."""

    def __init__(
        self,
        status_provider: Callable[[], Any],
        parent: Optional[QWidget] = None,
        refresh_ms: int = REFRESH_MS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("GridOpsStatus")
        self.status_provider = status_provider
        self.setToolTip(
            QCoreApplication.translate(
                "GridOps", "GridOps: last sync, changes waiting to be sent, unseen conflicts"
            )
        )
        self.setContentsMargins(6, 0, 6, 0)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(refresh_ms)
        self.refresh()

    def refresh(self) -> None:
        try:
            status = self.status_provider()
        except Exception as error:  # a replica being replaced: say so, try again next tick
            self.setText(
                QCoreApplication.translate(
                    "GridOps", "GridOps: status unavailable ({error})"
                ).format(error=error)
            )
            return
        self.setText(status_text(status))
        self.setStyleSheet("color: #b00020;" if status.conflicts else "")

    def stop(self) -> None:
        self.timer.stop()
