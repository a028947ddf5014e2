"""Background syncs: at start, on demand, periodically, and with backoff while offline.

A `SyncRunner` owns one thread that runs `sync.syncjob.SyncJob`s one after another, never
on the caller's (UI) thread:
- `start()` syncs at once, then every `period_s`; `sync_now()` asks for one as soon as the
  current one ends; `stop()` cancels the running job at its next safe point and ends the
  thread;
- `hold()` cancels the running job and keeps the thread waiting, syncing nothing, until
  `release()` (which syncs at once); `wait_held(timeout)` returns once no job runs any
  more. The app holds its runner while Android's background service syncs in its place
  (`field_app.core.handover`);
- when the hub cannot be reached (`Offline`), the next try waits along `BACKOFF_S`
  (5 s, 10 s, 30 s, 1 min, 2 min, 5 min…); any success resets it;
- a 401 (the token was revoked or expired) stops the periodic syncs: the worker must log in
  again (`state.needs_login`).

Callbacks run on the runner's thread (the UI hops back to its own): `on_progress(phase,
done, total)` (SyncJob's phases), `on_state(SyncState)` after each change, and
`on_new_tasks(tasks)` with the tasks that became the worker's to do during a sync (new or
newly assigned to them), for a notification.

The client may be given as a function that makes it: it is then called on the runner's
thread before the first sync, so that importing `requests` (about a quarter of a second
on the project's test machine) never holds up the screen at start. `sync.client` and
`sync.syncjob` are imported the same way, when the first sync runs.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Union

from sync.replica import Replica

from .tasklist import MY_WORK

if TYPE_CHECKING:
    from sync.client import HubClient
    from sync.syncjob import SyncJob

ClientOrFactory = Union["HubClient", Callable[[], "HubClient"]]

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
        client: ClientOrFactory,
        *,
        period_s: float = PERIOD_S,
        backoff_s: tuple = BACKOFF_S,
        on_progress: Optional[Callable[[str, int, int], None]] = None,
        on_state: Optional[Callable[[SyncState], None]] = None,
        on_new_tasks: Optional[Callable[[List[Dict[str, Any]]], None]] = None,
    ) -> None:
        self.replica = replica
        self._client: Optional[HubClient] = None if callable(client) else client
        self._make_client: Optional[Callable[[], HubClient]] = client if callable(client) else None
        self.period_s = period_s
        self.backoff_s = backoff_s
        self.on_progress = on_progress or (lambda phase, done, total: None)
        self.on_state = on_state or (lambda state: None)
        self.on_new_tasks = on_new_tasks or (lambda tasks: None)
        self.state = SyncState()
        self.runs = 0  # syncs tried so far, whatever their outcome
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._held = threading.Event()
        self._idle = threading.Event()  # set while held (or stopped) with no job running
        self._job: Optional[SyncJob] = None
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._client_lock = threading.Lock()

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
        self._cancel_job()
        if self._thread is not None:
            self._thread.join(timeout)

    def hold(self) -> None:
        """Cancels the running job (at its next safe point) and syncs nothing until
        `release()`. Returns at once; `wait_held()` tells when the job has ended."""
        self._held.set()
        self._wake.set()
        self._cancel_job()

    def release(self) -> None:
        """Ends a `hold()`: syncs at once, then as before."""
        self._held.clear()
        self._idle.clear()
        self._wake.set()

    @property
    def held(self) -> bool:
        return self._held.is_set()

    def wait_held(self, timeout: Optional[float] = None) -> bool:
        """True once held (or stopped) with no job running; False after `timeout` s."""
        if not self.is_alive():
            with self._lock:
                return self._job is None
        return self._idle.wait(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def client(self) -> HubClient:
        """The hub's client, made on first use when a factory was given."""
        with self._client_lock:  # not self._lock: hold() must not wait for the making
            if self._client is None:
                assert self._make_client is not None
                self._client = self._make_client()
            return self._client

    def _cancel_job(self) -> None:
        with self._lock:
            job = self._job
        if job is not None:
            job.cancel()

    # ------------------------------------------------------------------ the loop

    def _set(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        try:
            self.on_state(self.state)
        except Exception:  # a screen's callback must not stop the syncs
            log.exception("on_state callback failed")

    def _loop(self) -> None:
        delay: Optional[float] = None
        try:
            while not self._stop.is_set():
                self._wake.wait(delay)
                if self._stop.is_set():
                    break
                self._wake.clear()
                if self._held.is_set():
                    self._idle.set()
                    delay = None  # only release() (or stop()) wakes it
                    continue
                self._idle.clear()
                delay = self._after(self.run_once())
        finally:
            self._idle.set()

    def _after(self, state: SyncState) -> Optional[float]:
        """The wait until the next automatic sync after one that ended in `state`."""
        if self._held.is_set():
            self._idle.set()
            return None
        if state.needs_login:
            delay: Optional[float] = None  # only sync_now() wakes it
        elif state.online is False or state.last_error:
            n = min(state.failures, len(self.backoff_s)) - 1
            delay = self.backoff_s[max(n, 0)]
        else:
            delay = self.period_s
        self._set(next_try_s=delay)
        return delay

    def run_once(self) -> SyncState:
        """One sync on the calling thread (the loop's, or a test's); returns the state."""
        try:
            return self._run_once()
        finally:
            self.runs += 1

    def _run_once(self) -> SyncState:
        from sync.client import HubError, Offline
        from sync.syncjob import Cancelled, SyncJob

        before = my_open_work(self.replica)
        job = SyncJob(self.replica, self.client, progress=self._progress)
        with self._lock:
            self._job = job
        on_own_thread = threading.current_thread() is self._thread
        if on_own_thread and (self._held.is_set() or self._stop.is_set()):
            job.cancel()  # held or stopped between the loop's wake and here
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
