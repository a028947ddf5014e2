"""The sync as a background `QgsTask`, and the timer that starts it.

`SyncTask.run()` runs on a task-manager thread and touches no widget: it opens its own
`Replica` and `HubClient` there, runs one `sync.syncjob.SyncJob`, turns the job's
`progress(phase, done, total)` into the task's percentage (shown in QGIS's task manager) and
stops the job at its next safe point when the task is cancelled. `finished()` runs back on
the main thread and hands the `SyncResult` (or the error) to `sync_finished` and to the
optional `on_finished` callback. A sync stopped anywhere is simply run again (syncjob.py).

`SyncScheduler` starts a sync every N minutes (the setting) and skips a tick while one is
still running.
"""

from __future__ import annotations

from typing import Callable, Optional

from qgis.core import QgsTask
from qgis.PyQt.QtCore import QObject, QTimer, pyqtSignal

from sync.client import HubClient
from sync.replica import Replica
from sync.syncjob import Cancelled, SyncJob, SyncResult

# Where each phase sits in the task's 0–100 bar: (start, end).
PHASE_SPAN = {
    "photos": (0.0, 20.0),
    "photo_bytes": (0.0, 20.0),
    "push": (20.0, 40.0),
    "extract": (40.0, 60.0),
    "pull": (60.0, 99.0),
    "done": (100.0, 100.0),
}

Finished = Callable[[Optional[SyncResult], Optional[BaseException]], None]


def phase_percent(phase: str, done: int, total: int) -> float:
    """The task's percentage for a progress report of the job."""
    start, end = PHASE_SPAN.get(phase, (0.0, 0.0))
    fraction = min(1.0, done / total) if total > 0 else 0.0
    return start + (end - start) * fraction


class SyncTask(QgsTask):
    """One sync of the replica at `replica_path` with the hub it logged in to.

    The replica must already hold a token (`sync.syncjob.login`); `hub_url` defaults to the
    hub it logged in to. `client_factory` builds the `HubClient` (tests pass their own).
    """

    sync_finished = pyqtSignal(object, object)  # SyncResult or None, error or None

    def __init__(
        self,
        replica_path: str,
        hub_url: Optional[str] = None,
        description: str = "GridOps sync",
        on_finished: Optional[Finished] = None,
        client_factory: Callable[[str, Optional[str]], HubClient] = HubClient,
    ) -> None:
        super().__init__(description, QgsTask.CanCancel)
        self.replica_path = replica_path
        self.hub_url = hub_url
        self.on_finished = on_finished
        self.client_factory = client_factory
        self.result: Optional[SyncResult] = None
        self.error: Optional[BaseException] = None
        self.phases: list[str] = []  # the phases reported, in order (for the status line)
        self._job: Optional[SyncJob] = None

    def _progress(self, phase: str, done: int, total: int) -> None:
        if not self.phases or self.phases[-1] != phase:
            self.phases.append(phase)
        self.setProgress(phase_percent(phase, done, total))
        if self.isCanceled() and self._job is not None:
            self._job.cancel()

    def run(self) -> bool:
        """On a worker thread: the whole sync. True when it completed."""
        replica = None
        try:
            replica = Replica(self.replica_path)
            url = self.hub_url or replica.state("hub_url")
            if not url:
                raise ValueError("this replica has not logged in to a hub")
            client = self.client_factory(url, replica.state("token"))
            self._job = SyncJob(replica, client, self._progress)
            if self.isCanceled():
                raise Cancelled("sync cancelled")
            self.result = self._job.run()
            return True
        except Cancelled as err:
            self.error = err
            return False
        except Exception as err:  # handed to finished() on the main thread
            self.error = err
            return False
        finally:
            self._job = None
            if replica is not None:
                replica.close()

    def cancel(self) -> None:
        job = self._job
        if job is not None:
            job.cancel()
        super().cancel()

    def finished(self, result: bool) -> None:
        """On the main thread, once run() returned (or the task was cancelled before)."""
        if not result and self.error is None and self.isCanceled():
            self.error = Cancelled("sync cancelled")
        self.sync_finished.emit(self.result, self.error)
        if self.on_finished is not None:
            self.on_finished(self.result, self.error)


class SyncScheduler(QObject):
    """Calls `start_sync` every `interval_minutes` unless `is_busy()` says one is running.

    `start_sync` is the same call the Sync button makes (it builds a `SyncTask` and hands it
    to the task manager). An interval of 0 stops the timer.
    """

    ticked = pyqtSignal(bool)  # True: a sync was started; False: skipped (one was running)

    def __init__(
        self,
        start_sync: Callable[[], object],
        is_busy: Callable[[], bool],
        interval_minutes: float = 0.0,
        parent: Optional[QObject] = None,
    ) -> None:
        super().__init__(parent)
        self.start_sync = start_sync
        self.is_busy = is_busy
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.set_interval(interval_minutes)

    def set_interval(self, minutes: float) -> None:
        """Restarts the timer with a new interval; 0 (or less) stops it."""
        self.timer.stop()
        if minutes > 0:
            self.timer.start(max(1, round(minutes * 60_000)))

    def is_active(self) -> bool:
        return self.timer.isActive()

    def tick(self) -> None:
        if self.is_busy():
            self.ticked.emit(False)
            return
        self.start_sync()
        self.ticked.emit(True)

    def stop(self) -> None:
        self.timer.stop()
