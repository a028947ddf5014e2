"""The GeoReport v2 endpoints under `/open311/v2/`, each with a `.json` or `.xml` suffix.

| path | method | who |
|---|---|---|
| `discovery` | GET | anyone |
| `services`, `services/{service_code}` | GET | anyone |
| `requests` | GET | anyone (the specification's filters) |
| `requests` | POST | a client with an Open311 `api_key` (form-encoded) |
| `requests/{service_request_id}`, `tokens/{token}` | GET | anyone |

Every refusal under `/open311/` is the specification's error list in the format the path
asked for (XML when it named none): 404 for what does not exist (an unknown service code,
request, token or jurisdiction), 403 for a missing or wrong `api_key` (a camera key
included), 400 for everything else; a refused POST writes nothing. `jurisdiction_id` is
optional everywhere (this hub serves one jurisdiction); when given it must be this hub's
(`DEFAULT_JURISDICTION_ID`, or the store's meta `open311_jurisdiction_id`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

from ... import model
from ...store.open311 import Open311Error
from ..auth import secret_hash
from ..hub import Hub
from . import catalogue, form, present, render

DEFAULT_JURISDICTION_ID = "gridops"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_SPAN = timedelta(days=90)
MAX_REQUESTS = 1000
MAX_IDS = 1000
Format = Literal["json", "xml"]

_FORMAT_DOC = "json or xml"
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/xml": {}}},
    400: {"description": "the specification's error list (bad input)"},
    404: {"description": "the specification's error list (not found)"},
}


def _format_of(request: Request) -> str:
    last = request.url.path.rsplit("/", 1)[-1]
    return "json" if last.endswith(".json") else "xml"


class Open311Route(APIRoute):
    """Turns every refusal of its endpoint into the specification's error list."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Open311Error as err:
                return render.error(_format_of(request), err.status, err.description)
            except RequestValidationError as exc:
                problems = exc.errors()
                if any(tuple(p.get("loc", ()))[:2] == ("path", "fmt") for p in problems):
                    return render.error("xml", 404, "unknown format: end the path in .json or .xml")
                described = "; ".join(
                    f"{'.'.join(str(x) for x in p.get('loc', ())[1:])}: {p.get('msg')}"
                    for p in problems[:5]
                )
                return render.error(_format_of(request), 400, described or "bad request")

        return route


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def _language(request: Request) -> str:
    """zh or en, by `Accept-Language` (q-values honoured); Chinese when neither is asked."""
    best, best_q = "zh", 0.0
    for part in (request.headers.get("accept-language") or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        lang = tag.strip().lower().split("-")[0]
        if lang in catalogue.LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


def _check_jurisdiction(hub: Hub, jurisdiction_id: str | None) -> None:
    if not jurisdiction_id:
        return
    ours = hub.store.get_meta("open311_jurisdiction_id", DEFAULT_JURISDICTION_ID)
    if jurisdiction_id.strip().lower() != str(ours).lower():
        raise Open311Error(
            404, f"jurisdiction_id {jurisdiction_id[:64]!r} not found: this hub serves {ours!r}"
        )


def _answer(request: Request, fmt: str, root: str, body: Any, status: int = 200) -> Response:
    lang = _language(request)
    headers = {"Content-Language": "zh-CN" if lang == "zh" else "en", "Vary": "Accept-Language"}
    return render.answer(fmt, root, body, status, headers)


_Jurisdiction = Query(None, max_length=128, description="optional: this hub serves one")


# ------------------------------------------------------------------- discovery and services


@router.get("/discovery.{fmt}", responses=_ANSWERS)
def discovery(request: Request, fmt: Format = Path(description=_FORMAT_DOC)) -> Response:
    """Service discovery: where this GeoReport v2 endpoint is and what it speaks."""
    base = str(request.base_url).rstrip("/") + router.prefix
    body = {
        "changeset": catalogue.CHANGESET,
        "contact": "GridOps hub: the street offices' unified operations. "
        "Ask the hub's operator for help.",
        "key_service": "API keys for posting requests are issued by the hub's operator "
        "(gridops keys add --purpose open311 --name YOUR-APP).",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": catalogue.CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _answer(request, fmt, "discovery", body)


@router.get("/services.{fmt}", responses=_ANSWERS)
def services(
    request: Request,
    fmt: Format = Path(description=_FORMAT_DOC),
    jurisdiction_id: str | None = _Jurisdiction,
) -> Response:
    """The services: one per task kind, named in the language asked for."""
    _check_jurisdiction(_hub(request), jurisdiction_id)
    lang = _language(request)
    body = [catalogue.service_item(s, lang) for s in catalogue.SERVICES]
    return _answer(request, fmt, "services", body)


@router.get("/services/{service_code}.{fmt}", responses=_ANSWERS)
def service_definition(
    request: Request,
    service_code: str = Path(max_length=64),
    fmt: Format = Path(description=_FORMAT_DOC),
    jurisdiction_id: str | None = _Jurisdiction,
) -> Response:
    """A service's definition: the attributes a report of it may carry."""
    _check_jurisdiction(_hub(request), jurisdiction_id)
    service = catalogue.service(service_code)
    if service is None:
        raise Open311Error(404, f"service_code {service_code!r} not found")
    return _answer(
        request, fmt, "service_definition", catalogue.definition(service, _language(request))
    )


# ------------------------------------------------------------------- requests


def _when(name: str, text: str | None) -> datetime | None:
    if not text:
        return None
    parsed = model.parse_time(text)
    if parsed is None:
        hint = " (write + as %2B in a URL)" if " " in text else ""
        raise Open311Error(
            400, f"{name} must be a W3C date and time with a zone, e.g. 2026-06-01T08:00:00Z{hint}"
        )
    return parsed


def _window(start_text: str | None, end_text: str | None) -> tuple[datetime, datetime]:
    """[start, end] as the specification reads them: at most 90 days; the most recent 90
    days by default; 90 days after a lone start or before a lone end."""
    start, end = _when("start_date", start_text), _when("end_date", end_text)
    if start is not None and end is not None:
        if end < start:
            raise Open311Error(400, "end_date is before start_date")
        if end - start > MAX_SPAN:
            raise Open311Error(400, "start_date and end_date may not span more than 90 days")
        return start, end
    if start is not None:
        return start, start + MAX_SPAN
    if end is not None:
        return end - MAX_SPAN, end
    now = datetime.now(timezone.utc)
    return now - MAX_SPAN, now


def _list(text: str | None) -> list[str] | None:
    if not text:
        return None
    items = [item.strip() for item in text.split(",") if item.strip()]
    return items or None


@router.get("/requests.{fmt}", responses=_ANSWERS)
def list_requests(
    request: Request,
    fmt: Format = Path(description=_FORMAT_DOC),
    service_request_id: str | None = Query(
        None, max_length=40_000, description="comma-separated; overrides every other filter"
    ),
    service_code: str | None = Query(None, max_length=1000, description="comma-separated"),
    start_date: str | None = Query(None, max_length=64, description="W3C date-time with a zone"),
    end_date: str | None = Query(None, max_length=64, description="at most 90 days after start"),
    status: str | None = Query(None, max_length=64, description="open, closed or both"),
    jurisdiction_id: str | None = _Jurisdiction,
) -> Response:
    """Citizens' requests, newest first (at most 1,000; the last 90 days by default)."""
    hub = _hub(request)
    _check_jurisdiction(hub, jurisdiction_id)
    ids = _list(service_request_id)
    if ids is not None:
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"at most {MAX_IDS} service_request_id values at once")
        for item in ids:
            if not model.is_uuid(item):
                raise Open311Error(400, f"service_request_id {item[:64]!r} is not a request id")
        records = hub.store.open311_requests(ids=ids, limit=MAX_REQUESTS)
    else:
        codes = _list(service_code)
        for code in codes or []:
            if catalogue.service(code) is None:
                raise Open311Error(400, f"unknown service_code {code[:64]!r}")
        statuses = _list(status)
        for item in statuses or []:
            if item not in ("open", "closed"):
                raise Open311Error(400, f"status must be open or closed, not {item[:32]!r}")
        start, end = _window(start_date, end_date)
        records = hub.store.open311_requests(
            service_codes=codes, start=start, end=end, statuses=statuses, limit=MAX_REQUESTS
        )
    lang = _language(request)
    body = [present.request_item(record, lang) for record in records]
    return _answer(request, fmt, "service_requests", body)


@router.get("/requests/{service_request_id}.{fmt}", responses=_ANSWERS)
def get_request(
    request: Request,
    service_request_id: str = Path(max_length=64),
    fmt: Format = Path(description=_FORMAT_DOC),
    jurisdiction_id: str | None = _Jurisdiction,
) -> Response:
    """One request as it stands."""
    hub = _hub(request)
    _check_jurisdiction(hub, jurisdiction_id)
    record = hub.store.open311_request(service_request_id)
    if record is None:
        raise Open311Error(404, f"service_request_id {service_request_id!r} not found")
    return _answer(
        request, fmt, "service_requests", [present.request_item(record, _language(request))]
    )


@router.get("/tokens/{token}.{fmt}", responses=_ANSWERS)
def get_token(
    request: Request,
    token: str = Path(max_length=64),
    fmt: Format = Path(description=_FORMAT_DOC),
    jurisdiction_id: str | None = _Jurisdiction,
) -> Response:
    """The request id behind a token. Every service here is realtime, so a POST answers
    with the id itself; the token of a request is its id."""
    hub = _hub(request)
    _check_jurisdiction(hub, jurisdiction_id)
    record = hub.store.open311_request(token)
    if record is None:
        raise Open311Error(404, f"token {token!r} not found")
    body = [{"service_request_id": record["service_request_id"], "token": token}]
    return _answer(request, fmt, "service_requests", body)


_POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code", "lat", "long"],
                    "properties": {
                        "api_key": {"type": "string"},
                        "jurisdiction_id": {"type": "string"},
                        "service_code": {"type": "string", "enum": list(model.KINDS)},
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "long": {"type": "number", "minimum": -180, "maximum": 180},
                        "address_string": {"type": "string"},
                        "address_id": {"type": "string"},
                        "email": {"type": "string"},
                        "device_id": {"type": "string"},
                        "account_id": {"type": "string"},
                        "first_name": {"type": "string"},
                        "last_name": {"type": "string"},
                        "phone": {"type": "string"},
                        "description": {"type": "string", "maxLength": form.MAX_DESCRIPTION},
                        "media_url": {"type": "string", "format": "uri"},
                    },
                    "additionalProperties": {
                        "type": "string",
                        "description": "attribute[code]=value (attribute[code][]= for lists)",
                    },
                }
            }
        },
    }
}


@router.post(
    "/requests.{fmt}",
    status_code=201,
    responses={**_ANSWERS, 201: _ANSWERS[200], 403: {"description": "missing or wrong api_key"}},
    openapi_extra=_POST_BODY,
)
async def post_request(request: Request, fmt: Format = Path(description=_FORMAT_DOC)) -> Response:
    """Files a citizen's report: a `reported` task for the street office to triage. Needs
    an Open311 `api_key` and `lat`/`long`; answers the new `service_request_id` at once."""
    hub = _hub(request)
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise Open311Error(400, "send the request as application/x-www-form-urlencoded")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > form.MAX_BODY_BYTES:
            raise Open311Error(400, f"the request body is over {form.MAX_BODY_BYTES // 1024} KB")
    try:
        report = form.parse(bytes(body))
    except form.FormError as err:
        raise Open311Error(400, str(err)) from None
    key = report.api_key or request.query_params.get("api_key") or ""
    key_name = None
    if 0 < len(key) <= 256:
        key_name = await run_in_threadpool(hub.store.open311_key_name, secret_hash(key))
    if key_name is None:
        raise Open311Error(
            403, "missing or invalid api_key: posting requests needs an Open311 key of this hub"
        )
    _check_jurisdiction(hub, report.jurisdiction_id or request.query_params.get("jurisdiction_id"))
    if not report.service_code:
        raise Open311Error(400, "service_code is required (see services)")
    service = catalogue.service(report.service_code)
    if service is None:
        raise Open311Error(404, f"service_code {report.service_code!r} not found")
    lat, lon = report.lat, report.lon
    if lat is None or lon is None:
        why = "lat and long are required: the hub finds the street office by the point"
        if report.address_string or report.address_id:
            why += "; an address alone cannot be placed (this hub does not geocode)"
        raise Open311Error(400, why)
    try:
        answers = catalogue.check_attributes(service, report.attributes)
    except catalogue.AnswerError as err:
        raise Open311Error(400, str(err)) from None
    lines = [report.description or "", *catalogue.describe_answers(service, answers)]
    if report.address_string:
        lines.append(f"地址：{report.address_string}")
    if report.media_url:
        lines.append(f"图片/视频：{report.media_url}")
    record = await run_in_threadpool(
        lambda: hub.store.add_open311_request(
            key_name=key_name,
            jurisdiction_id=report.jurisdiction_id,
            service_code=service.code,
            lon=lon,
            lat=lat,
            title=f"市民上报：{service.zh}",
            task_description="\n".join(line for line in lines if line)[: model.MAX_TEXT],
            due_hours=service.response_hours,
            description=report.description,
            address_string=report.address_string,
            address_id=report.address_id,
            media_url=report.media_url,
            attributes=answers,
            reporter=report.reporter,
        )
    )
    body_out = [
        {
            "service_request_id": record["service_request_id"],
            "service_notice": catalogue.notice(service, _language(request)),
            "account_id": None,
        }
    ]
    return _answer(request, fmt, "service_requests", body_out, status=201)


# ------------------------------------------------------------------- anything else


@router.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    include_in_schema=False,
)
def elsewhere(request: Request, rest: str) -> Response:
    """A path or method this endpoint does not have, refused in the specification's form."""
    allowed = sorted(
        method
        for route in router.routes
        if isinstance(route, APIRoute)
        and route.endpoint is not elsewhere
        and route.matches(request.scope)[0] is Match.PARTIAL
        for method in route.methods or ()
    )
    if allowed:
        return render.error(
            _format_of(request),
            405,
            f"{request.method} is not allowed here; use {', '.join(allowed)}",
        )
    return render.error(
        _format_of(request),
        404,
        "no such GeoReport v2 resource: see discovery, services, requests and tokens, "
        "each ending in .json or .xml",
    )
