"""PROTOCOL.md's scopes: who may see a task, a twin feature or a street, and feed audiences.

Owns the visibility rules and the feed keys they map to, so that the hub's feed and a
device's idea of "mine" agree: `task_audience()` gives the keys a task is logged under,
`actor_feed_keys()` the keys an actor reads, and an actor sees a task exactly when
`can_see_task()` says so (admins see everything).

Runs on Python 3.9+ (it is carried inside the QGIS plugin); standard library only.
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, Optional

from .vocabulary import OFFICE_ROLES, Actor


def can_see_task(actor: Actor, task: Dict[str, Any]) -> bool:
    """PROTOCOL.md's scope: may this actor see this task at all."""
    if actor.role == "admin":
        return True
    if actor.role in OFFICE_ROLES:
        return task.get("street_code") == actor.street_code
    if task.get("assignee_id") == actor.id or task.get("reporter_id") == actor.id:
        return True
    return (
        task.get("status") == "open"
        and not task.get("assignee_id")
        and task.get("grid_code") in actor.grid_codes
    )


def task_audience(task: Dict[str, Any]) -> FrozenSet[str]:
    """Feed keys of everyone who may see the task as it stands (admins see all anyway).

    `s:<street>` the street office, `u:<user>` a worker by id, `g:<grid>` the workers of
    a grid (for unassigned open tasks). A change is logged under the keys of the task
    before and after it, so that whoever loses sight of a task is told (`remove`).
    """
    keys = {"s:" + str(task.get("street_code"))}
    if task.get("assignee_id"):
        keys.add("u:" + task["assignee_id"])
    if task.get("reporter_id"):
        keys.add("u:" + task["reporter_id"])
    if task.get("status") == "open" and not task.get("assignee_id"):
        keys.add("g:" + str(task.get("grid_code")))
    return frozenset(keys)


def actor_feed_keys(actor: Actor) -> Optional[FrozenSet[str]]:
    """The feed keys an actor reads; None means everything (admin)."""
    if actor.role == "admin":
        return None
    if actor.role in OFFICE_ROLES:
        street = str(actor.street_code)
        return frozenset(("s:" + street, "r:" + street, "ts:" + street))
    keys = {"u:" + actor.id, "r:" + str(actor.street_code)}
    for grid in actor.grid_codes:
        keys.add("g:" + grid)
        keys.add("t:" + grid)
    return frozenset(keys)


def reference_audience(street_code: str) -> FrozenSet[str]:
    """Feed keys for a street's users and grids (everyone of that street sees them)."""
    return frozenset(("r:" + street_code,))


def twin_audience(grid_code: Optional[str], street_code: Optional[str]) -> FrozenSet[str]:
    """Feed keys for a twin feature: the grid's workers and the street office."""
    keys = set()
    if grid_code:
        keys.add("t:" + grid_code)
    if street_code:
        keys.add("ts:" + street_code)
    return frozenset(keys)


def can_see_twin(actor: Actor, grid_code: Optional[str], street_code: Optional[str]) -> bool:
    if actor.role == "admin":
        return True
    if actor.role in OFFICE_ROLES:
        return street_code is not None and street_code == actor.street_code
    return grid_code is not None and grid_code in actor.grid_codes


def can_see_street(actor: Actor, street_code: Optional[str]) -> bool:
    """Users and grids of a street: visible to anyone of that street, and to admins."""
    return actor.role == "admin" or (street_code is not None and street_code == actor.street_code)


def public_task(task: Dict[str, Any]) -> Dict[str, Any]:
    """The task as PROTOCOL.md shows it (internal fields such as past assignees left out)."""
    out = {k: v for k, v in task.items() if k != "past_assignee_ids"}
    return out
