"""The worker's actions on a task: claim, start, pause, resume, decline (with a reason).

Each is one replica transaction (checked, shown, queued; `sync.replica.actions`). A refusal
comes back as `ActionError` with a message for the worker and nothing queued. Reporting
a fix is `report`; a new find is `patrol`.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from sync.replica import Refused, Replica

from ..i18n import REFUSAL_LABELS, label, tr

TITLE_KEY = "app.task_title:"  # sync_state key prefix (the replica's key-value table)


class ActionError(Exception):
    """An action that was not done; `str()` is the worker's message."""


def refusal_text(err: Refused) -> str:
    """A device-side refusal as a worker reads it."""
    return label(REFUSAL_LABELS, err.code) if err.code in REFUSAL_LABELS else err.message


def remember_title(replica: Replica, task_id: str) -> None:
    """Keeps the task's title on the device, so that a refusal of an op on a task that has
    since left the worker's scope (the hub then sends no task) still says which one."""
    task = replica.task(task_id)
    if task is not None and task.get("title"):
        key = TITLE_KEY + task_id
        if replica.state(key) != task["title"]:
            replica.set_state(key, str(task["title"]))


def remembered_title(replica: Replica, task_id: str) -> Optional[str]:
    return replica.state(TITLE_KEY + task_id)


class TaskActions:
    """Actions on the tasks of one replica."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica

    def _do(self, method: str, task_id: str, *args: Any) -> Dict[str, Any]:
        remember_title(self.replica, task_id)
        try:
            return dict(getattr(self.replica, method)(task_id, *args))
        except Refused as err:
            raise ActionError(refusal_text(err)) from None

    def claim(self, task_id: str) -> Dict[str, Any]:
        return self._do("claim", task_id)

    def start(self, task_id: str) -> Dict[str, Any]:
        return self._do("start", task_id)

    def resume(self, task_id: str) -> Dict[str, Any]:
        return self._do("resume", task_id)

    def pause(self, task_id: str, reason: str) -> Dict[str, Any]:
        reason = (reason or "").strip()
        if not reason:
            raise ActionError(tr("Say why you pause the task"))
        return self._do("pause", task_id, reason)

    def decline(self, task_id: str, reason: str) -> Dict[str, Any]:
        reason = (reason or "").strip()
        if not reason:
            raise ActionError(tr("Say why you decline the task"))
        return self._do("decline", task_id, reason)
