"""Android's background sync service: keeps the worker's replica in sync, tells of new tasks.

python-for-android runs this file as `__main__` in the service's own process (the class
`cn.gridops.field.ServiceSync`, see `control.py`), with the app's folder as the working
directory and the argument `control.start_service` passed in `PYTHON_SERVICE_ARGUMENT`:
the app's data folder. It runs `field_app.core.sync_loop.run_sync_loop` (the app's own
`SyncRunner`: period, backoff, a 401 stops it) until a stop is requested, and posts a
notification when a sync brings tasks that became the worker's to do.

The service is sticky: when Android restarts it after killing it, the argument is empty, so
the data folder of the last start is remembered in the app's private folder
(`ANDROID_PRIVATE/MEMO_FILE`). When the folder holds a stop request, or nobody is logged
in, the service ends at once (and python-for-android stops it when this file returns).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Callable, Dict, List, Optional, Tuple

# Absolute imports: python-for-android runs this file as a script, not as a module.
from field_app.core import settings
from field_app.devices.base import Notifier
from field_app.i18n import KIND_LABELS, label, set_language, tr
from field_app.service.control import stop_requested

log = logging.getLogger("gridops.app.service")
MEMO_FILE = "sync-service.json"

Loop = Callable[[str, Callable[[], bool], Callable[[List[Dict[str, Any]]], None]], bool]


def resolve_data_dir(argument: str, private_dir: str) -> Optional[str]:
    """The data folder to sync: the start's argument (then remembered), else the last one."""
    memo = os.path.join(private_dir, MEMO_FILE) if private_dir else ""
    if argument:
        if memo:
            with open(memo, "w", encoding="utf-8") as handle:
                json.dump({"data_dir": argument}, handle)
        return argument
    if not memo:
        return None
    try:
        with open(memo, encoding="utf-8") as handle:
            value = json.load(handle).get("data_dir")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def new_tasks_message(tasks: List[Dict[str, Any]]) -> Tuple[str, str]:
    """The notification's title and text for tasks that became the worker's to do."""
    if len(tasks) == 1:
        task = tasks[0]
        return tr("New task"), str(task.get("title") or label(KIND_LABELS, task.get("kind")))
    return tr("New tasks"), tr("{count} new tasks to do", count=len(tasks))


def run_service(data_dir: str, notifier: Notifier, loop: Optional[Loop] = None) -> bool:
    """Syncs the account kept in `data_dir` until a stop is requested.

    Returns False at once when a stop was requested or nobody is logged in, True after a
    clean stop. Notifications are in the language the worker chose in the app.
    """
    if stop_requested(data_dir):
        log.info("sync service: stop requested, not syncing")
        return False
    set_language(settings.load_language(data_dir))
    if loop is None:
        from field_app.core.sync_loop import run_sync_loop

        loop = run_sync_loop

    def on_new_tasks(tasks: List[Dict[str, Any]]) -> None:
        if tasks:
            notifier.notify(*new_tasks_message(tasks))

    return loop(data_dir, lambda: stop_requested(data_dir), on_new_tasks)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    data_dir = resolve_data_dir(
        os.environ.get("PYTHON_SERVICE_ARGUMENT", ""), os.environ.get("ANDROID_PRIVATE", "")
    )
    if data_dir is None:
        log.warning("sync service: no data folder given or remembered; ending")
        return
    from field_app.devices.android import AndroidNotifier

    set_language(settings.load_language(data_dir))
    notifier = AndroidNotifier(channel_name=tr("Task notifications"))
    synced = run_service(data_dir, notifier)
    log.info("sync service ends (%s)", "stopped" if synced else "nothing to sync")


if __name__ == "__main__":
    main()
