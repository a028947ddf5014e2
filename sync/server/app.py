"""The hub's ASGI application: `create_app(hub)` wires the routes of PROTOCOL.md.

Routes live in `routes_sync` (push, changes, conflicts, tasks), `routes_data` (photos,
grids, users, duty, twin) and here (health, login). Every refusal uses the error body of
`errors`; request bodies are capped before they are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .. import __version__, model
from . import errors
from .errors import ApiError
from .hub import Hub
from .schemas import ErrorBody, LoginRequest, LoginResponse

_bearer = HTTPBearer(auto_error=False, description="the token from /api/v1/auth/login")
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 415, 422, 429)
}


@dataclass
class Caller:
    """The authenticated user of a request."""

    user: dict[str, Any]
    device_id: str
    actor: model.Actor


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON answer serialised by orjson: the hot paths (push, changes) skip re-validating
    what the store built."""
    import orjson

    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def caller(
    request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Caller:
    """FastAPI dependency: the bearer token's user, or 401."""
    hub = hub_of(request)
    user, device_id = hub.auth.resolve(creds.credentials if creds else None)
    return Caller(user, device_id, hub.store.actor(user))


async def read_json(request: Request, limit: int) -> Any:
    """The request body as JSON: 413 past `limit` bytes, 400 if it is not JSON."""
    import orjson

    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"the request body is over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "too_large", f"the request body is over {limit} bytes")
    try:
        return orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        raise ApiError(400, "invalid_json", "the body is not JSON") from None


def create_app(hub: Hub) -> FastAPI:
    """The ASGI app serving `hub`."""
    app = FastAPI(
        title="GridOps hub",
        version=__version__,
        description="The wire contract of PROTOCOL.md: tasks, sync, photos, twin layers.",
    )
    app.state.hub = hub
    errors.install(app)

    @app.get("/api/v1/health", tags=["hub"])
    def health() -> dict[str, Any]:
        """Answers once the hub is ready."""
        return {
            "status": "ok",
            "version": __version__,
            "instance": hub.store.get_meta("instance_id"),
        }

    @app.post(
        "/api/v1/auth/login", tags=["auth"], response_model=LoginResponse, responses=ERROR_RESPONSES
    )
    def login(body: LoginRequest) -> dict[str, Any]:
        """Logs a user in on one device; the token is revoked per device (a lost phone)."""
        token, user = hub.auth.login(body.username, body.password, body.device_id)
        return {"token": token, "user": _public_user(user)}

    @app.post("/api/v1/auth/logout", tags=["auth"], responses=ERROR_RESPONSES)
    def logout(who: Caller = Depends(caller)) -> dict[str, Any]:
        """Revokes the caller's tokens on this device."""
        revoked = hub.store.revoke_tokens(who.user["id"], who.device_id)
        return {"revoked": revoked}

    @app.get("/api/v1/me", tags=["auth"], responses=ERROR_RESPONSES)
    def me(who: Caller = Depends(caller)) -> dict[str, Any]:
        return _public_user(who.user)

    from . import open311, routes_cameras, routes_data, routes_sync

    app.include_router(routes_sync.router)
    app.include_router(routes_data.router)
    app.include_router(routes_cameras.router)
    app.include_router(open311.router)
    _document_hand_parsed_bodies(app)
    return app


def _document_hand_parsed_bodies(app: FastAPI) -> None:
    """Puts the models of bodies parsed by hand (push) into the OpenAPI components, so
    that the `$ref`s of their routes resolve."""
    from .schemas import PushRequest

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = build()
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            schema = PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas["PushRequest"] = schema
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _public_user(user: dict[str, Any]) -> dict[str, Any]:
    return {
        k: user[k]
        for k in ("id", "username", "display_name", "role", "street_code", "grid_codes", "on_duty")
    }
