"""Sync routes: push, the change feed, the sender's refused ops, and tasks by id.

Push is parsed by hand so that only a malformed request is refused whole (400 not JSON,
413 over the op limit, 422 wrong shape); a bad op inside a good request is answered
`rejected` on its own by the store (PROTOCOL.md "Conventions").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from .. import model
from ..store import CursorExpired
from . import cursor as cursors
from .app import ERROR_RESPONSES, Caller, caller, hub_of, json_response, read_json
from .errors import ApiError
from .schemas import ChangesResponse, PushResponse

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)


@router.post(
    "/sync/push",
    tags=["sync"],
    response_model=PushResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/PushRequest"}}
            },
        }
    },
)
async def push(request: Request, who: Caller = Depends(caller)) -> Response:
    """Applies the device's ops in order; one result per op (applied, duplicate,
    rejected, retry). The same op_id is applied at most once."""
    hub = hub_of(request)
    body = await read_json(request, hub.settings.max_body_bytes)
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_payload", "the body must be an object with device_id, ops")
    ops = body.get("ops")
    if not isinstance(ops, list):
        raise ApiError(422, "invalid_payload", "ops must be a list")
    if len(ops) > hub.settings.max_push_ops:
        raise ApiError(413, "too_many_ops", f"at most {hub.settings.max_push_ops} ops per push")
    device_id = body.get("device_id", who.device_id)
    if not isinstance(device_id, str) or not 0 < len(device_id) <= 128:
        raise ApiError(422, "invalid_payload", "device_id must be a string")
    results = await run_in_threadpool(hub.store.push, who.user, device_id, ops)
    return json_response({"results": results})


@router.get("/sync/changes", tags=["sync"], response_model=ChangesResponse)
def changes(
    request: Request,
    since: str = Query("", max_length=2048, description="a cursor from the last answer"),
    limit: int = Query(500, ge=1, le=5000),
    who: Caller = Depends(caller),
) -> Response:
    """The changes in the caller's scope since the cursor; `remove` when something left it.
    An empty `since` starts with tasks, users and grids as they stand."""
    hub = hub_of(request)
    state = None
    if since:
        try:
            state = cursors.decode(since, hub.cursor_secret)
        except cursors.InvalidCursor as err:
            raise ApiError(400, "invalid_cursor", str(err)) from None
    try:
        items, new_state, has_more = hub.store.read_changes(who.user, state, limit)
    except CursorExpired as err:
        raise ApiError(410, "cursor_expired", f"{err}; pull again with an empty since") from None
    return json_response(
        {
            "changes": items,
            "cursor": cursors.encode(new_state, hub.cursor_secret),
            "has_more": has_more,
        }
    )


@router.get("/conflicts", tags=["sync"])
def conflicts(request: Request, who: Caller = Depends(caller)) -> list[dict[str, Any]]:
    """The caller's own refused ops, newest first, with the task as they may see it now."""
    return hub_of(request).store.list_conflicts(who.user)


@router.get("/tasks/{task_id}", tags=["tasks"])
def get_task(task_id: str, request: Request, who: Caller = Depends(caller)) -> dict[str, Any]:
    """One task, if it is in the caller's scope (else 404, as if it did not exist)."""
    task = hub_of(request).store.get_task(task_id) if model.is_uuid(task_id) else None
    if task is None or not model.can_see_task(who.actor, task):
        raise ApiError(404, "not_found", "no such task")
    return model.public_task(task)


@router.get("/tasks", tags=["tasks"])
def list_tasks(
    request: Request,
    status: str | None = Query(None, description="one status of PROTOCOL.md"),
    limit: int = Query(1000, ge=1, le=5000),
    who: Caller = Depends(caller),
) -> list[dict[str, Any]]:
    """The tasks in the caller's scope, newest first (for scripts; devices use the feed)."""
    if status is not None and status not in model.STATUSES:
        raise ApiError(422, "invalid_payload", f"status must be one of {model.STATUSES}")
    return hub_of(request).store.list_tasks(who.user, status, limit)
