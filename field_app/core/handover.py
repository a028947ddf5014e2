"""Who syncs: the app's runner while the app is in front, Android's service behind it.

Exactly one process syncs a replica at a time. In front, the app's `SyncRunner` does.
When the app goes to the background with someone logged in (Kivy's `App.on_pause`),
`to_background(runner)` holds the runner (its running job is cancelled at its next safe
point; a wait between the client's retries ends at once) and, on a thread of its own once
the runner has stopped syncing, starts the service (`field_app.service.control
.start_service`): the app's UI loop is paused by then, so nothing can be left for it to do
(the app resolves the service's Java classes on its UI thread first: `prepare_service`).
When the app is back in front (`App.on_resume`), and at start, `to_foreground(runner)`
stops the service (`stop_service`, which also records the stop in the data folder, so that
Android restarting the sticky service later does not sync behind the app) and releases
the runner, which syncs at once. A `to_foreground()` that comes before the service was
started cancels that start: one lock orders them. Logging out stops the service
(`stop_service()`).

Off Android the control functions do nothing and answer False; they are looked up when
called, so tests can replace them. No Kivy here.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional

from .sync_runner import SyncRunner

log = logging.getLogger("gridops.app.handover")
Control = Callable[[str], bool]


def _control(name: str) -> Control:
    from ..service import control

    return getattr(control, name)  # type: ignore[no-any-return]


class SyncHandover:
    """Hands syncing between the app (in front) and the service (behind) for one data
    folder. `start_service`/`stop_service` default to `field_app.service.control`'s."""

    def __init__(
        self,
        data_dir: str,
        start_service: Optional[Control] = None,
        stop_service: Optional[Control] = None,
        hold_timeout_s: float = 120.0,
    ) -> None:
        self.data_dir = data_dir
        self._start = start_service
        self._stop = stop_service
        self.hold_timeout_s = hold_timeout_s  # past a request's timeouts, so never hit
        self._lock = threading.Lock()
        self._turn = 0  # each change of side; a pending start checks it is still its turn
        self.service_started = False

    def to_background(self, runner: SyncRunner) -> threading.Thread:
        """Holds the runner now; starts the service once it has stopped syncing (on the
        returned thread, so that the UI thread never waits for a request in flight)."""
        with self._lock:
            self._turn += 1
            turn = self._turn
        runner.hold()
        thread = threading.Thread(
            target=self._start_when_held, args=(runner, turn), name="gridops-handover", daemon=True
        )
        thread.start()
        return thread

    def _start_when_held(self, runner: SyncRunner, turn: int) -> None:
        deadline = time.monotonic() + self.hold_timeout_s
        while not runner.wait_held(0.2):
            if self._turn != turn:
                return  # back in front before the runner stopped
            if time.monotonic() > deadline:
                log.warning("the app's sync did not stop in time: the service is not started")
                return
        with self._lock:
            if self._turn != turn:
                return
            try:
                started = (self._start or _control("start_service"))(self.data_dir)
            except Exception:  # the app keeps working; it syncs again when back in front
                log.exception("the sync service could not be started")
                return
            self.service_started = bool(started)

    def to_foreground(self, runner: Optional[SyncRunner] = None) -> None:
        """Stops the service, then lets the runner sync (at once, if it was held)."""
        with self._lock:
            self._turn += 1
            self._stop_service()
        if runner is not None and runner.held:
            runner.release()

    def stop_service(self) -> None:
        """Stops the service (logging out): nothing syncs the account behind the app."""
        with self._lock:
            self._turn += 1
            self._stop_service()

    def _stop_service(self) -> None:
        try:
            (self._stop or _control("stop_service"))(self.data_dir)
        except Exception:
            log.exception("the sync service could not be stopped")
        self.service_started = False
