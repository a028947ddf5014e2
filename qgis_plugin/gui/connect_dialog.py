"""The Connect dialog: hub address, account, password, remember-me and the sync interval.

The layout is `connect_dialog.ui` (loaded once, at import); the texts are set here through
the plugin's translate context "GridOps", so that they share the plugin's one translation
file. OK logs in through `Session.connect` (one HTTP call with a short timeout, so the
dialog waits at most a few seconds) and closes only when the hub said yes; otherwise the
reason is shown inside the dialog: the hub's own message for a refusal, a plain offline
message when the hub cannot be reached.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from qgis.PyQt import uic
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtWidgets import QApplication, QDialog, QDialogButtonBox, QWidget

from sync.client import HubError, Offline

UI_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "connect_dialog.ui")
FORM_CLASS, _BASE = uic.loadUiType(UI_PATH)


def error_text(error: BaseException, url: str) -> str:
    """What the dialog says when a login failed."""
    if isinstance(error, Offline):
        return QCoreApplication.translate(
            "GridOps", "Cannot reach the hub at {url}. Check the address and the network."
        ).format(url=url)
    if isinstance(error, HubError):
        return error.message or QCoreApplication.translate(
            "GridOps", "The hub refused the login ({status})."
        ).format(status=error.status)
    return str(error) or type(error).__name__


class ConnectDialog(QDialog, FORM_CLASS):  # type: ignore[misc,valid-type]
    """Logs `session` in. `settings` (a `ConnectionSettings`) fills the fields and receives
    the sync interval; `session.connect` stores the rest."""

    def __init__(self, session: Any, settings: Any, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setupUi(self)
        self.session = session
        self.settings = settings
        self.user: Any = None
        self.retranslate()
        self.errorLabel.hide()
        self.hubUrlEdit.setText(settings.hub_url)
        self.hubUrlEdit.setCursorPosition(0)  # a long address shows its start
        self.usernameEdit.setText(settings.username)
        self.intervalSpin.setValue(round(settings.sync_interval_minutes))
        self.buttonBox.accepted.connect(self.accept)
        for edit in (self.hubUrlEdit, self.usernameEdit, self.passwordEdit):
            edit.textChanged.connect(self.clear_error)
        (
            self.passwordEdit if settings.hub_url and settings.username else self.hubUrlEdit
        ).setFocus()

    def retranslate(self) -> None:
        self.setWindowTitle(QCoreApplication.translate("GridOps", "Connect to the GridOps hub"))
        self.hubUrlLabel.setText(QCoreApplication.translate("GridOps", "Hub address"))
        self.usernameLabel.setText(QCoreApplication.translate("GridOps", "Username"))
        self.passwordLabel.setText(QCoreApplication.translate("GridOps", "Password"))
        self.rememberCheck.setText(
            QCoreApplication.translate(
                "GridOps", "Remember the password (QGIS authentication database)"
            )
        )
        self.intervalLabel.setText(QCoreApplication.translate("GridOps", "Sync every"))
        self.intervalSpin.setSuffix(QCoreApplication.translate("GridOps", " min"))
        self.intervalSpin.setSpecialValueText(QCoreApplication.translate("GridOps", "Off"))
        self.intervalSpin.setToolTip(
            QCoreApplication.translate(
                "GridOps", "Minutes between automatic syncs; 0 turns them off."
            )
        )
        self.buttonBox.button(QDialogButtonBox.Ok).setText(
            QCoreApplication.translate("GridOps", "Log in")
        )
        self.buttonBox.button(QDialogButtonBox.Cancel).setText(
            QCoreApplication.translate("GridOps", "Cancel")
        )

    def show_error(self, text: str) -> None:
        self.errorLabel.setText(text)
        self.errorLabel.show()

    def clear_error(self) -> None:
        self.errorLabel.clear()
        self.errorLabel.hide()

    def accept(self) -> None:
        """Logs in; closes the dialog only when the hub accepted."""
        url = self.hubUrlEdit.text().strip().rstrip("/")
        username = self.usernameEdit.text().strip()
        password = self.passwordEdit.text()
        if not url or not username or not password:
            self.show_error(
                QCoreApplication.translate(
                    "GridOps", "Fill in the hub address, the username and the password."
                )
            )
            return
        if "://" not in url:
            url = "http://" + url if url.startswith(("localhost", "127.")) else "https://" + url
            self.hubUrlEdit.setText(url)
        self.clear_error()
        self.buttonBox.setEnabled(False)
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            self.user = self.session.connect(
                url, username, password, remember=self.rememberCheck.isChecked()
            )
        except Exception as error:  # every failure is shown here, the dialog stays open
            self.show_error(error_text(error, url))
            self.passwordEdit.selectAll()
            self.passwordEdit.setFocus()
            return
        finally:
            QApplication.restoreOverrideCursor()
            self.buttonBox.setEnabled(True)
        self.settings.sync_interval_minutes = self.intervalSpin.value()
        self.passwordEdit.clear()
        super().accept()
