"""The sync loop without any UI: what Android's background service runs.

`run_sync_loop(data_dir, should_stop, on_new_tasks)` loads the logged-in session
(`session.load_session`), opens its replica and runs the app's `SyncRunner` (the same
backoff and period) until `should_stop()` answers True, checking it every `poll_s`.
Returns False at once when nobody is logged in on this device, True after a clean stop.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional

from .session import load_session
from .sync_runner import PERIOD_S, SyncRunner


def run_sync_loop(
    data_dir: str,
    should_stop: Callable[[], bool],
    on_new_tasks: Optional[Callable[[List[Dict[str, Any]]], None]] = None,
    *,
    period_s: float = PERIOD_S,
    poll_s: float = 1.0,
) -> bool:
    session = load_session(data_dir)
    if session is None:
        return False
    replica = session.open_replica()
    try:
        runner = SyncRunner(
            replica, session.client(replica), period_s=period_s, on_new_tasks=on_new_tasks
        ).start()
        try:
            while not should_stop():
                time.sleep(poll_s)
        finally:
            runner.stop()
    finally:
        replica.close()
    return True
