"""Background syncs: at start, on demand, periodically, and with backoff while offline.

A `SyncRunner` owns one thread that runs `sync.syncjob.SyncJob`s one after another, never
on the caller's (UI) thread:
- `start()` syncs at once, then every `period_s`; `sync_now()` asks for one as soon as the
  current one ends; `stop()` cancels the running job at its next safe point and ends the
  thread;
- when the hub cannot be reached (`Offline`), the next try waits along `BACKOFF_S`
  (5 s, 10 s, 30 s, 1 min, 2 min, 5 min…); any success resets it;
- a 401 (the token was revoked or expired) stops the periodic syncs: the worker must log in
  again (`state.needs_login`).

Callbacks run on the runner's thread (the UI hops back to its own): `on_progress(phase,
done, total)` (SyncJob's phases), `on_state(SyncState)` after each change, and
`on_new_tasks(tasks)` with the tasks that became the worker's to do during a sync (new or
newly assigned to them), for a notification.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Optional, Set

from sync.client import HubClient, HubError, Offline
from sync.replica import Replica
from sync.syncjob import Cancelled, SyncJob

from .tasklist import MY_WORK

log = logging.getLogger("gridops.app.sync")
BACKOFF_S = (5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
PERIOD_S = 300.0


@dataclass(frozen=True)
class SyncState:
    """What the screens show about syncing."""

    running: bool = False
    online: Optional[bool] = None  # None: not tried yet
    last_success_at: Optional[float] = None  # time.time()
    last_error: Optional[str] = None
    needs_login: bool = False
    next_try_s: Optional[float] = None  # seconds until the next automatic try
    failures: int = 0


def my_open_work(replica: Replica) -> Set[str]:
    """Ids of the tasks that are the worker's to do now (assigned to them, not finished)."""
    me = (replica.me or {}).get("id")
    marks = ",".join("?" * len(MY_WORK))
    rows = replica.conn.execute(
        f"SELECT id FROM tasks WHERE assignee_id = ? AND status IN ({marks})",
        (me, *sorted(MY_WORK)),
    )
    return {r[0] for r in rows}


class SyncRunner:
    """Runs syncs of one replica in the background."""

    def __init__(
        self,
        replica: Replica,
        client: HubClient,
        *,
        period_s: float = PERIOD_S,
        backoff_s: tuple = BACKOFF_S,
        on_progress: Optional[Callable[[str, int, int], None]] = None,
        on_state: Optional[Callable[[SyncState], None]] = None,
        on_new_tasks: Optional[Callable[[List[Dict[str, Any]]], None]] = None,
    ) -> None:
        self.replica = replica
        self.client = client
        self.period_s = period_s
        self.backoff_s = backoff_s
        self.on_progress = on_progress or (lambda phase, done, total: None)
        self.on_state = on_state or (lambda state: None)
        self.on_new_tasks = on_new_tasks or (lambda tasks: None)
        self.state = SyncState()
        self.runs = 0  # syncs tried so far, whatever their outcome
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._job: Optional[SyncJob] = None
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control

    def start(self) -> SyncRunner:
        """Starts the thread; the first sync begins at once."""
        if self._thread is None:
            self._wake.set()
            self._thread = threading.Thread(
                target=self._loop, name="gridops-sync-runner", daemon=True
            )
            self._thread.start()
        return self

    def sync_now(self) -> None:
        """Asks for a sync now (or right after the one running)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        with self._lock:
            job = self._job
        if job is not None:
            job.cancel()
        if self._thread is not None:
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------ the loop

    def _set(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        try:
            self.on_state(self.state)
        except Exception:  # a screen's callback must not stop the syncs
            log.exception("on_state callback failed")

    def _loop(self) -> None:
        delay: Optional[float] = None
        while not self._stop.is_set():
            self._wake.wait(delay)
            if self._stop.is_set():
                break
            self._wake.clear()
            self.run_once()
            if self.state.needs_login:
                delay = None  # only sync_now() wakes it
            elif self.state.online is False or self.state.last_error:
                n = min(self.state.failures, len(self.backoff_s)) - 1
                delay = self.backoff_s[max(n, 0)]
            else:
                delay = self.period_s
            self._set(next_try_s=delay)

    def run_once(self) -> SyncState:
        """One sync on the calling thread (the loop's, or a test's); returns the state."""
        try:
            return self._run_once()
        finally:
            self.runs += 1

    def _run_once(self) -> SyncState:
        before = my_open_work(self.replica)
        job = SyncJob(self.replica, self.client, progress=self._progress)
        with self._lock:
            self._job = job
        self._set(running=True)
        try:
            job.run()
        except Cancelled:
            self._set(running=False)
            return self.state
        except Offline as err:
            log.info("sync: offline (%s)", err)
            self._set(
                running=False, online=False, last_error=None, failures=self.state.failures + 1
            )
            return self.state
        except HubError as err:
            log.warning("sync refused by the hub: %s", err)
            self._set(
                running=False,
                online=True,
                last_error=err.message or err.code,
                needs_login=err.status == 401,
                failures=self.state.failures + 1,
            )
            return self.state
        except Exception as err:  # a bug must not end the runner: shown, retried later
            log.exception("sync failed")
            self._set(
                running=False, online=None, last_error=str(err), failures=self.state.failures + 1
            )
            return self.state
        finally:
            with self._lock:
                self._job = None
        self._set(
            running=False,
            online=True,
            last_error=None,
            needs_login=False,
            failures=0,
            last_success_at=time.time(),
        )
        arrived = sorted(my_open_work(self.replica) - before)
        if arrived:
            tasks = [t for t in (self.replica.task(i) for i in arrived) if t is not None]
            try:
                self.on_new_tasks(tasks)
            except Exception:
                log.exception("on_new_tasks callback failed")
        return self.state

    def _progress(self, phase: str, done: int, total: int) -> None:
        try:
            self.on_progress(phase, done, total)
        except Exception:
            log.exception("on_progress callback failed")
