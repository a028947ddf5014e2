"""Data routes: photos, grids, users and duty, the twin extract and twin feature upserts.

Scope is enforced here on every call: something outside the caller's scope answers 404
exactly as if it did not exist; a call inside the scope that the role may not make
answers 403 `forbidden` (PROTOCOL.md "Authentication and roles").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from .. import model
from ..store import TwinError
from . import photos as photo_files
from .app import ERROR_RESPONSES, Caller, caller, hub_of
from .errors import ApiError
from .extract import build_extract
from .schemas import (
    DutyRequest,
    DutyResponse,
    RevokeRequest,
    TwinDeleteRequest,
    TwinFeaturesRequest,
)

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)


def _office(who: Caller) -> None:
    if who.actor.role not in model.OFFICE_ROLES:
        raise ApiError(403, "forbidden", "only street-office staff may do this")


# ------------------------------------------------------------------- photos


@router.put(
    "/photos/{sha256}",
    tags=["photos"],
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def put_photo(
    sha256: str, request: Request, response: Response, who: Caller = Depends(caller)
) -> dict[str, Any]:
    """Stores a photo under its sha256 (201), or says it is held (200); pieces with
    `Content-Range` answer 202 until complete. Checked once the last piece is in."""
    hub = hub_of(request)
    photo_files.check_hash_name(sha256)
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype not in photo_files.CONTENT_TYPES:
        raise ApiError(415, "not_an_image", "send Content-Type image/jpeg or image/png")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > photo_files.MAX_BYTES:
                raise ApiError(413, "too_large", "a photo may be at most 20 MB")
    except ClientDisconnect:
        # The device went away mid-piece: nothing of this piece is kept; it resends.
        raise ApiError(400, "client_disconnected", "the upload was cut off") from None
    stored = await run_in_threadpool(
        hub.photos.put, sha256, bytes(body), request.headers.get("content-range")
    )
    if stored.status == 201:
        await run_in_threadpool(
            hub.store.add_photo_record,
            sha256,
            stored.offset,
            stored.content_type,
            stored.width,
            stored.height,
            who.user["id"],
        )
    elif stored.status == 200:
        await run_in_threadpool(_ensure_record, hub, sha256, who.user["id"])
    response.status_code = stored.status
    response.headers["Upload-Offset"] = str(stored.offset)
    return {"sha256": sha256, "size": stored.offset, "complete": stored.status in (200, 201)}


def _ensure_record(hub: Any, sha256: str, user_id: str) -> None:
    """A photo already held: make sure this uploader is recorded (and the photo is, after
    a crash between the file's rename and its record)."""
    record = hub.store.photo_record(sha256)
    if record is None:
        data = hub.photos.path(sha256).read_bytes()
        ctype, width, height = photo_files.inspect_image(data)
        hub.store.add_photo_record(sha256, len(data), ctype, width, height, user_id)
    else:
        hub.store.add_photo_record(
            sha256,
            record["size"],
            record["content_type"],
            record["width"],
            record["height"],
            user_id,
        )


@router.head("/photos/{sha256}", tags=["photos"])
def head_photo(sha256: str, request: Request, who: Caller = Depends(caller)) -> Response:
    """200 with `Upload-Offset` (the bytes held), or 404 if nothing is held."""
    photo_files.check_hash_name(sha256)
    held = hub_of(request).photos.held(sha256)
    if held is None:
        return Response(status_code=404)
    return Response(status_code=200, headers={"Upload-Offset": str(held)})


@router.get("/photos/{sha256}", tags=["photos"], response_class=FileResponse)
def get_photo(sha256: str, request: Request, who: Caller = Depends(caller)) -> FileResponse:
    """The photo's bytes, for callers who see a task using it or who uploaded it."""
    hub = hub_of(request)
    photo_files.check_hash_name(sha256)
    record = hub.store.photo_record(sha256)
    if record is None or not hub.store.photo_readable(who.user, sha256):
        raise ApiError(404, "not_found", "no such photo")
    return FileResponse(
        hub.photos.path(sha256),
        media_type=record["content_type"],
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )


# ------------------------------------------------------------------- grids and users


@router.get("/grids", tags=["reference"])
def grids(request: Request, who: Caller = Depends(caller)) -> dict[str, Any]:
    """The grids in scope as a GeoJSON FeatureCollection."""
    street = None if who.actor.role == "admin" else who.actor.street_code
    return {"type": "FeatureCollection", "features": hub_of(request).store.list_grids(street)}


@router.get("/users", tags=["reference"])
def users(
    request: Request,
    role: str | None = Query(None, description="worker, dispatcher, supervisor or admin"),
    who: Caller = Depends(caller),
) -> list[dict[str, Any]]:
    """Users in scope (dispatchers, supervisors and admins)."""
    _office(who)
    if role is not None and role not in model.ROLES:
        raise ApiError(422, "invalid_payload", f"role must be one of {', '.join(model.ROLES)}")
    street = None if who.actor.role == "admin" else who.actor.street_code
    store = hub_of(request).store
    return [store.user_view(who.actor, u) for u in store.list_users(street, role)]


@router.put("/me/duty", tags=["reference"], response_model=DutyResponse)
def my_duty(body: DutyRequest, request: Request, who: Caller = Depends(caller)) -> dict:
    """A worker's shift switch: the hub dispatches only to workers on duty."""
    if who.actor.role != "worker":
        raise ApiError(403, "forbidden", "only workers have a duty switch")
    user = hub_of(request).store.set_duty(who.user["id"], body.on_duty)
    return {"on_duty": user["on_duty"]}


@router.put("/users/{user_id}/duty", tags=["reference"], response_model=DutyResponse)
def user_duty(
    user_id: str, body: DutyRequest, request: Request, who: Caller = Depends(caller)
) -> dict:
    """The office sets a worker's duty flag."""
    store = hub_of(request).store
    target = store.user(user_id) if model.is_code(user_id) else None
    if (
        target is None
        or not model.can_see_street(who.actor, target["street_code"])
        or (who.actor.role == "worker" and target["role"] != "worker")
    ):
        raise ApiError(404, "not_found", "no such user")
    _office(who)
    if target["role"] != "worker":
        raise ApiError(422, "invalid_payload", "only workers have a duty flag")
    return {"on_duty": store.set_duty(user_id, body.on_duty)["on_duty"]}


@router.post("/devices/revoke", tags=["auth"])
def revoke_device(
    body: RevokeRequest, request: Request, who: Caller = Depends(caller)
) -> dict[str, Any]:
    """Revokes a user's tokens on one device (a lost phone), or on all of them."""
    store = hub_of(request).store
    target = store.user(body.user_id) if model.is_code(body.user_id) else None
    if target is None or not model.can_see_street(who.actor, target["street_code"]):
        raise ApiError(404, "not_found", "no such user")
    if target["id"] != who.user["id"]:
        _office(who)
    return {"revoked": store.revoke_tokens(body.user_id, body.device_id)}


# ------------------------------------------------------------------- twin


@router.get(
    "/twin/extract.gpkg",
    tags=["twin"],
    response_class=FileResponse,
    responses={200: {"content": {"application/geopackage+sqlite3": {}}}},
)
def extract(
    request: Request, if_none_match: str | None = Header(None), who: Caller = Depends(caller)
) -> Response:
    """An OGC GeoPackage of the twin layers in scope, with `ETag` and `X-Sync-Cursor`."""
    from . import cursor as cursors

    hub = hub_of(request)
    with hub.store.snapshot() as conn:
        etag = hub.store.twin_etag(conn, who.actor)
        position = hub.store.feed_position(conn)
        headers = {
            "ETag": f'"{etag}"',
            "X-Sync-Cursor": cursors.encode(
                {"seq": position, "ep": hub.store.get_meta("feed_epoch", "0")},
                hub.cursor_secret,
            ),
            "Cache-Control": "private, no-cache",
        }
        tags = [t.strip().removeprefix("W/").strip('"') for t in (if_none_match or "").split(",")]
        if etag in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
        target = hub.extracts / f"{etag}.gpkg"
        if not target.exists():
            build_extract(hub.store, conn, who.actor, target)
    return FileResponse(
        target,
        media_type="application/geopackage+sqlite3",
        headers=headers,
        filename="gridops-extract.gpkg",
    )


@router.post("/twin/features", tags=["twin"])
def twin_upsert(
    body: TwinFeaturesRequest, request: Request, who: Caller = Depends(caller)
) -> dict[str, Any]:
    """Upserts twin features by id (admins). All or nothing: one bad feature refuses all."""
    if who.actor.role != "admin":
        raise ApiError(403, "forbidden", "only admins change the twin layers")
    try:
        counts = hub_of(request).store.upsert_twin(body.layer, body.features)
    except TwinError as err:
        raise ApiError(422, "invalid_payload", str(err)) from None
    return {"layer": body.layer, **counts}


@router.post("/twin/features/delete", tags=["twin"])
def twin_delete(
    body: TwinDeleteRequest, request: Request, who: Caller = Depends(caller)
) -> dict[str, Any]:
    """Removes twin features by id (admins)."""
    if who.actor.role != "admin":
        raise ApiError(403, "forbidden", "only admins change the twin layers")
    try:
        removed = hub_of(request).store.delete_twin(body.layer, body.ids)
    except TwinError as err:
        raise ApiError(422, "invalid_payload", str(err)) from None
    return {"layer": body.layer, "removed": removed}
