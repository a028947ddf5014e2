"""The supervisor's Review dock: the queue of submitted tasks, before/after photos side by
side, the worker's note, distance and duration, Confirm (确认) and Send back (退回), and a
Conflicts tab with what the hub refused (this device's refusals and every task's
`conflicts`, such as a late submit from a worker the task was taken from).

Layout lives in `review_dock.ui`; the values come from `qgis_plugin.core.review`; photos
are fetched by `PhotoFetchTask` on the task manager, so the dock never waits on the network
or the disk. Confirm and Send back only queue an op in the replica (the next sync sends it);
the queue and the map layers are refreshed at once.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional

from qgis.core import QgsApplication
from qgis.gui import QgsDockWidget
from qgis.PyQt import sip, uic
from qgis.PyQt.QtCore import QCoreApplication, QSize, Qt, pyqtSignal
from qgis.PyQt.QtGui import QPixmap
from qgis.PyQt.QtWidgets import (
    QDialog,
    QLabel,
    QLayout,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from sync.client import HubClient
from sync.replica import Refused, Replica

from ..core.photo_cache import PhotoCache, PhotoFetchTask
from ..core.review import (
    ConflictEntry,
    PhotoRef,
    Review,
    all_conflicts,
    distance_text,
    duration_text,
    review_of,
)

FORM_CLASS, _BASE = uic.loadUiType(os.path.join(os.path.dirname(__file__), "review_dock.ui"))

THUMB_SIZE = QSize(160, 120)
TASK_ROLE = Qt.UserRole

ReplicaProvider = Callable[[], Optional[Replica]]
ClientProvider = Callable[[], Optional[HubClient]]


class Thumbnail(QLabel):
    """One photo, scaled to a thumbnail; `clicked(sha)` when clicked."""

    clicked = pyqtSignal(str)

    def __init__(self, photo: PhotoRef, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.photo = photo
        self.full = QPixmap()
        self.setFixedSize(THUMB_SIZE)
        self.setAlignment(Qt.AlignCenter)
        self.setStyleSheet("QLabel { background: #f1f5f9; border: 1px solid #cbd5e1; }")
        self.setText(QCoreApplication.translate("GridOps", "Loading…"))
        self.setToolTip(photo.taken_at or photo.sha256[:12])
        self.setCursor(Qt.PointingHandCursor)

    def set_photo(self, data: bytes) -> bool:
        """Shows the photo; False (and a notice) when the bytes are not an image."""
        pixmap = QPixmap()
        if not pixmap.loadFromData(data):
            self.show_error(QCoreApplication.translate("GridOps", "Not an image"))
            return False
        self.full = pixmap
        self.setPixmap(pixmap.scaled(THUMB_SIZE, Qt.KeepAspectRatio, Qt.SmoothTransformation))
        return True

    def show_error(self, message: str) -> None:
        self.setText(QCoreApplication.translate("GridOps", "No photo"))
        self.setToolTip(message)

    def mousePressEvent(self, event: Any) -> None:
        if event.button() == Qt.LeftButton and not self.full.isNull():
            event.accept()
            self.clicked.emit(self.photo.sha256)
            return
        super().mousePressEvent(event)


class PhotoViewer(QDialog):
    """A photo at full size, scaled down to fit the dialog (and up to its own size)."""

    def __init__(self, pixmap: QPixmap, title: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.pixmap = pixmap
        self.label = QLabel(self)
        self.label.setAlignment(Qt.AlignCenter)
        self.label.setMinimumSize(1, 1)
        self.label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        screen = QgsApplication.primaryScreen()
        room = screen.availableGeometry().size() * 0.8 if screen is not None else QSize(1000, 800)
        self.resize(pixmap.size().boundedTo(room).expandedTo(QSize(320, 240)))

    def resizeEvent(self, event: Any) -> None:
        self.label.setPixmap(
            self.pixmap.scaled(self.label.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation)
        )
        super().resizeEvent(event)


class ReviewDock(QgsDockWidget, FORM_CLASS):
    """The Review dock. `replica_provider()` gives the open replica (None when not connected),
    `client_provider()` the hub client for photos (None offline), `layers.refresh()` re-reads
    the map layers after an action."""

    def __init__(
        self,
        iface: Any,
        replica_provider: ReplicaProvider,
        client_provider: ClientProvider,
        layers: Any,
        parent: Optional[QWidget] = None,
    ) -> None:
        super().__init__(parent)
        self.setupUi(self)
        self.iface = iface
        self.replica_provider = replica_provider
        self.client_provider = client_provider
        self.layers = layers
        self.tasks: List[Dict[str, Any]] = []
        self.review: Optional[Review] = None
        self.conflicts: List[ConflictEntry] = []
        self.thumbnails: Dict[str, List[Thumbnail]] = {"before": [], "after": [], "conflict": []}
        self.photo_tasks: List[PhotoFetchTask] = []  # kept alive until they finish
        self.viewer: Optional[PhotoViewer] = None
        self._cache: Optional[PhotoCache] = None
        self.retranslate()
        self.queueList.currentRowChanged.connect(self.show_task)
        self.commentEdit.textChanged.connect(self.update_buttons)
        self.confirmButton.clicked.connect(self.confirm)
        self.sendBackButton.clicked.connect(self.send_back)
        self.conflictList.currentRowChanged.connect(self.show_conflict)
        self.refresh()

    def retranslate(self) -> None:
        """The dock's fixed texts (kept here, not in the .ui, so pylupdate5 finds them)."""
        self.setWindowTitle(QCoreApplication.translate("GridOps", "GridOps review"))
        self.tabs.setTabText(0, QCoreApplication.translate("GridOps", "To review"))
        self.beforeBox.setTitle(QCoreApplication.translate("GridOps", "Before"))
        self.afterBox.setTitle(QCoreApplication.translate("GridOps", "After"))
        self.noteCaption.setText(QCoreApplication.translate("GridOps", "Worker's note:"))
        self.distanceCaption.setText(QCoreApplication.translate("GridOps", "Position:"))
        self.durationCaption.setText(QCoreApplication.translate("GridOps", "Time taken:"))
        self.commentEdit.setPlaceholderText(
            QCoreApplication.translate(
                "GridOps", "Comment (optional to confirm, required to send back)"
            )
        )
        self.confirmButton.setText(QCoreApplication.translate("GridOps", "Confirm"))
        self.sendBackButton.setText(QCoreApplication.translate("GridOps", "Send back"))
        self.conflictsCaption.setText(
            QCoreApplication.translate("GridOps", "What the hub refused, as it was sent:")
        )
        self.conflictPhotosBox.setTitle(QCoreApplication.translate("GridOps", "Photos sent"))

    # ------------------------------------------------------------------ helpers

    def replica(self) -> Optional[Replica]:
        return self.replica_provider()

    def photo_cache(self) -> Optional[PhotoCache]:
        replica = self.replica()
        if replica is None:
            return None
        if self._cache is None or self._cache.replica_path != os.path.abspath(replica.path):
            self._cache = PhotoCache(replica.path, self.client_provider)
        return self._cache

    def user_name(self, user_id: Optional[str]) -> str:
        replica = self.replica()
        user = replica.user(user_id) if replica is not None and user_id else None
        if user is None:
            return user_id or QCoreApplication.translate("GridOps", "this device")
        return str(user.get("display_name") or user.get("username") or user_id)

    def current_task_id(self) -> Optional[str]:
        item = self.queueList.currentItem()
        return str(item.data(TASK_ROLE)) if item is not None else None

    def _clear(self, key: str, layout: QLayout) -> None:
        """Empties a photo row: its thumbnails, its "no photos" line and its stretch."""
        self.thumbnails[key] = []
        while layout.count():
            widget = layout.takeAt(0).widget()
            if widget is not None:
                widget.setParent(None)
                widget.deleteLater()

    def _add_thumbnails(self, key: str, layout: QLayout, photos: List[PhotoRef]) -> None:
        self._clear(key, layout)
        for photo in photos:
            thumb = Thumbnail(photo)
            thumb.clicked.connect(self.open_photo)
            layout.addWidget(thumb)
            self.thumbnails[key].append(thumb)
        if not photos:
            empty = QLabel(QCoreApplication.translate("GridOps", "No photos"))
            empty.setObjectName("noPhotos")
            layout.addWidget(empty)
        layout.addStretch(1)

    def fetch_photos(self, photos: List[PhotoRef]) -> Optional[PhotoFetchTask]:
        """Starts fetching `photos` on the task manager; the thumbnails fill in when done."""
        cache = self.photo_cache()
        if cache is None or not photos:
            return None
        task = PhotoFetchTask(
            cache,
            [p.sha256 for p in photos],
            self.photos_arrived,
            QCoreApplication.translate("GridOps", "GridOps photos"),
        )
        self.photo_tasks = [t for t in self.photo_tasks if not t.done]
        self.photo_tasks.append(task)
        QgsApplication.taskManager().addTask(task)
        return task

    def photos_arrived(self, photos: Dict[str, bytes], errors: Dict[str, str]) -> None:
        """On the main thread: fills the thumbnails still shown."""
        self.photo_tasks = [t for t in self.photo_tasks if not t.done]
        for thumbs in self.thumbnails.values():
            for thumb in thumbs:
                if sip.isdeleted(thumb):  # the dock was closed while the photos came
                    continue
                sha = thumb.photo.sha256
                if sha in photos and thumb.full.isNull():
                    thumb.set_photo(photos[sha])
                elif sha in errors:
                    thumb.show_error(errors[sha])

    # ------------------------------------------------------------------ the queue

    def closeEvent(self, event: Any) -> None:
        for task in self.photo_tasks:
            if not task.done:
                task.cancel()
        super().closeEvent(event)

    def busy(self) -> bool:
        """True while photos are being fetched."""
        return any(not t.done for t in self.photo_tasks)

    def refresh(self) -> None:
        """Re-reads the submitted tasks and the conflicts from the replica, keeping the
        selection when the task is still waiting."""
        keep = self.current_task_id()
        replica = self.replica()
        self.tasks = replica.tasks(["submitted"]) if replica is not None else []
        self.queueList.blockSignals(True)
        self.queueList.clear()
        row = 0
        for index, task in enumerate(self.tasks):
            submit = review_of(task)
            text = "{title}  ·  {grid}  ·  {worker}".format(
                title=task.get("title") or task.get("kind"),
                grid=task.get("grid_code") or "",
                worker=self.user_name(submit.submitted_by or task.get("assignee_id")),
            )
            item = QListWidgetItem(text)
            item.setData(TASK_ROLE, task["id"])
            self.queueList.addItem(item)
            if task["id"] == keep:
                row = index
        self.queueList.setCurrentRow(row if self.tasks else -1)
        self.queueList.blockSignals(False)
        if replica is None:
            caption = QCoreApplication.translate("GridOps", "Not connected")
        else:
            caption = QCoreApplication.translate("GridOps", "Submitted tasks: {count}").format(
                count=len(self.tasks)
            )
        self.queueCaption.setText(caption)
        self.show_task(self.queueList.currentRow())
        self.refresh_conflicts()

    def show_task(self, row: int) -> None:
        """Shows the review of the task in `row` of the queue (nothing for -1)."""
        task = self.tasks[row] if 0 <= row < len(self.tasks) else None
        self.review = review_of(task) if task is not None else None
        self.commentEdit.clear()
        self.statusLabel.clear()
        review = self.review
        if review is None:
            self.titleLabel.setText(QCoreApplication.translate("GridOps", "Nothing to review"))
            for label in (self.noteLabel, self.distanceLabel, self.durationLabel):
                label.setText("–")
            self._clear("before", self.beforeLayout)
            self._clear("after", self.afterLayout)
            self.update_buttons()
            return
        self.titleLabel.setText(review.title)
        self.noteLabel.setText(review.note or "–")
        self.distanceLabel.setText(distance_text(review))
        self.durationLabel.setText(duration_text(review.duration_s))
        self._add_thumbnails("before", self.beforeLayout, review.before)
        self._add_thumbnails("after", self.afterLayout, review.after)
        self.fetch_photos(review.before + review.after)
        self.update_buttons()

    def update_buttons(self) -> None:
        has_task = self.review is not None
        has_comment = bool(self.commentEdit.toPlainText().strip())
        self.confirmButton.setEnabled(has_task)
        self.sendBackButton.setEnabled(has_task and has_comment)
        self.commentHint.setText(
            QCoreApplication.translate("GridOps", "Write a comment to send the task back.")
            if has_task and not has_comment
            else ""
        )

    def open_photo(self, sha: str) -> None:
        thumb = next(
            (t for ts in self.thumbnails.values() for t in ts if t.photo.sha256 == sha), None
        )
        if thumb is None or thumb.full.isNull():
            return
        title = QCoreApplication.translate("GridOps", "Photo {taken_at}").format(
            taken_at=thumb.photo.taken_at or sha[:12]
        )
        self.viewer = PhotoViewer(thumb.full, title, self)
        self.viewer.show()

    # ------------------------------------------------------------------ actions

    def _after_action(self, message: str) -> None:
        self.refresh()
        self.layers.refresh()
        self.statusLabel.setText(message)

    def _act(self, action: Callable[[Replica, str], Any]) -> bool:
        replica, task_id = self.replica(), self.current_task_id()
        if replica is None or task_id is None:
            return False
        try:
            action(replica, task_id)
        except Refused as err:
            self.statusLabel.setText(
                QCoreApplication.translate("GridOps", "Refused: {message}").format(
                    message=err.message
                )
            )
            return False
        return True

    def confirm(self) -> bool:
        """Queues `task.confirm` (with the comment as its note, if any) for the selected task."""
        note = self.commentEdit.toPlainText().strip() or None
        if not self._act(lambda replica, task_id: replica.confirm(task_id, note)):
            return False
        self._after_action(
            QCoreApplication.translate(
                "GridOps", "Confirmed; the hub hears of it at the next sync."
            )
        )
        return True

    def send_back(self) -> bool:
        """Queues `task.reject` with the comment; refuses (nothing queued) without one."""
        comment = self.commentEdit.toPlainText().strip()
        if not comment:
            self.update_buttons()
            self.commentEdit.setFocus()
            return False
        if not self._act(lambda replica, task_id: replica.reject(task_id, comment)):
            return False
        self._after_action(
            QCoreApplication.translate(
                "GridOps", "Sent back for rework; the hub hears of it at the next sync."
            )
        )
        return True

    # ------------------------------------------------------------------ conflicts

    def refresh_conflicts(self) -> None:
        replica = self.replica()
        self.conflicts = (
            all_conflicts(replica.tasks(), replica.refusals()) if replica is not None else []
        )
        self.tabs.setTabText(
            1,
            QCoreApplication.translate("GridOps", "Conflicts ({count})").format(
                count=len(self.conflicts)
            ),
        )
        self.conflictList.blockSignals(True)
        self.conflictList.clear()
        for entry in self.conflicts:
            self.conflictList.addItem(
                "{at}  {code}  ·  {type}  ·  {who}".format(
                    at=(entry.at or "")[:16].replace("T", " "),
                    code=entry.code,
                    type=entry.op_type,
                    who=self.user_name(entry.actor_id),
                )
            )
        self.conflictList.setCurrentRow(0 if self.conflicts else -1)
        self.conflictList.blockSignals(False)
        self.show_conflict(self.conflictList.currentRow())

    def show_conflict(self, row: int) -> None:
        entry = self.conflicts[row] if 0 <= row < len(self.conflicts) else None
        if entry is None:
            self.conflictDetail.setText(QCoreApplication.translate("GridOps", "No conflicts"))
            self._clear("conflict", self.conflictPhotosLayout)
            return
        self.conflictDetail.setText(
            QCoreApplication.translate(
                "GridOps", "Task: {title}\nSent by {who} at {at}: {type}, refused ({code})\n{note}"
            ).format(
                title=entry.task_title or entry.task_id or "–",
                who=self.user_name(entry.actor_id),
                at=(entry.at or "–").replace("T", " "),
                type=entry.op_type,
                code=entry.code,
                note=entry.note or entry.message,
            )
        )
        self._add_thumbnails("conflict", self.conflictPhotosLayout, entry.photos)
        self.fetch_photos(entry.photos)
