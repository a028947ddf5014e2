"""A property-based run over the hub's OpenAPI document finds no 5xx (PROTOCOL.md
"Conventions": bad input never yields a 500; every error under `/api/v1` carries
`{"error": {"code", "message"}}`).

Schemathesis (3.x) turns the document the hub serves into Hypothesis strategies; every
operation is run with a bearer token of each role in turn (worker, dispatcher, supervisor,
admin), each (role, operation) pair against a fresh copy of the demo hub, with schema-valid
("positive") and schema-violating ("negative") requests. Health and login take no token and
run once, anonymously; a last sweep sends every operation without a valid token.
Runs are derandomized, so CI sees the same requests every time.

Two things are worked around here rather than skipped (see `_openapi_document` and
`_hypothesis_jsonschema_compat`): the push body's schema refers to `Op` in
`#/components/schemas`, which the document does not hold (`test_openapi_refs_resolve`
pins that), and hypothesis-jsonschema 0.23.1 calls `many.more()`, which recent Hypothesis
releases no longer have.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import DataGenerationMethod  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.exceptions import SkipTest  # noqa: E402
from schemathesis.transports import RequestsTransport  # noqa: E402

ROLES = {
    "worker": "jsl-worker-01",
    "dispatcher": "jsl-dispatcher",
    "supervisor": "jsl-supervisor",
    "admin": "admin",
}
# Per operation: schema-valid requests, then requests that break the schema on purpose.
POSITIVE_EXAMPLES = 25
NEGATIVE_EXAMPLES = 12
# Operations that take no bearer token: run once, not once per role.
ANONYMOUS = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/login")}
# Operations that may revoke the caller's own token (a fresh one is minted after them).
REVOKING = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/devices/revoke")}


def _hypothesis_jsonschema_compat() -> None:
    """hypothesis-jsonschema 0.23.1 draws object properties with `many(...).more()`;
    Hypothesis 6.16x+ made `many` a context manager iterated with `for _ in elements`.
    Give `many` back a `more()` built on the new protocol (same choices, same spans)."""
    from hypothesis.internal.conjecture import utils as cu

    if hasattr(cu.many, "more"):
        return

    def more(self: Any) -> bool:
        if getattr(self, "_compat_iter", None) is None:
            self.__enter__()
            self._compat_iter = iter(self)
        try:
            next(self._compat_iter)
        except StopIteration:
            self.__exit__(None, None, None)
            return False
        return True

    cu.many.more = more


_hypothesis_jsonschema_compat()


def _raw_openapi() -> dict[str, Any]:
    """The document the hub serves at /openapi.json (no hub needed to build it)."""
    from sync.server.app import create_app

    return create_app(None).openapi()  # type: ignore[arg-type]


def _openapi_document() -> dict[str, Any]:
    """The hub's document with schemas that hide in a body's `$defs` hoisted into
    `#/components/schemas`, where its `$ref`s point."""
    doc = copy.deepcopy(_raw_openapi())
    components = doc.setdefault("components", {}).setdefault("schemas", {})

    def hoist(node: Any) -> None:
        if isinstance(node, dict):
            for name, schema in (node.pop("$defs", None) or {}).items():
                components.setdefault(name, schema)
            for value in node.values():
                hoist(value)
        elif isinstance(node, list):
            for value in node:
                hoist(value)

    hoist(doc["paths"])
    return doc


schemathesis.experimental.OPEN_API_3_1.enable()  # FastAPI writes OpenAPI 3.1
SCHEMA = schemathesis.from_dict(
    _openapi_document(),
    data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative],
)
OPERATIONS = {
    (op.method.upper(), op.path): op
    for op in (result.ok() for result in SCHEMA.get_all_operations())
}
AUTHENTICATED = sorted(key for key in OPERATIONS if key not in ANONYMOUS)


def error_body_under_api(ctx: Any, response: Any, case: Any) -> None:
    """Every refusal under /api/v1 carries {"error": {"code": snake_case, "message"}}."""
    if response.status_code < 400 or case.method.upper() == "HEAD":
        return
    if not case.operation.path.startswith("/api/v1"):
        return
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON error body") from None
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{response.status_code} body is not an error body: {body}"
    assert isinstance(error.get("code"), str) and error["code"], body
    assert error["code"] == error["code"].lower() and " " not in error["code"], body
    assert isinstance(error.get("message"), str), body


CHECKS = (not_a_server_error, error_body_under_api)


def _mint_token(hub: Any, username: str) -> str:
    """A bearer token for a demo account, made the way login makes one (without paying
    for Argon2 in every parametrized test)."""
    from sync.server.auth import secret_hash

    user = hub.store.user_by_username(username)
    assert user is not None, username
    token = secrets.token_urlsafe(32)
    hub.store.add_token(secret_hash(token), user["id"], "fuzz", hub.auth.settings.token_ttl_s)
    return token


def _run_operation(
    operation: Any,
    client: Any,
    headers_for: Any,
    after_call: Any = None,
) -> list[str]:
    """Runs one operation's positive then negative examples; returns failure reports."""
    transport = RequestsTransport()
    failures: list[str] = []
    for method, examples in (
        (DataGenerationMethod.positive, POSITIVE_EXAMPLES),
        (DataGenerationMethod.negative, NEGATIVE_EXAMPLES),
    ):

        @given(case=operation.as_strategy(data_generation_method=method))
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        def run(case: Any) -> None:
            headers = headers_for()
            response = transport.send(
                case, session=client, base_url="http://testserver", headers=headers
            )
            if after_call is not None:
                after_call()
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except (SkipTest, Unsatisfiable):
            # No request can break this operation's schema (say, a free-text path
            # parameter): the positive run covers it.
            if method is DataGenerationMethod.positive:
                raise
        except Exception as err:  # a failing check: report it, go on with the rest
            failures.append(f"{operation.verbose_name} ({method.name}): {err}")
    return failures


class _AsgiAdapter:
    """A `requests` transport adapter that hands each prepared request to the app
    through FastAPI's in-process TestClient, so Schemathesis' requests-based transport
    and checks work on the ASGI app without a socket."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, request: Any, **_: Any) -> Any:
        import requests
        from requests.structures import CaseInsensitiveDict

        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = [
            (name.encode("latin-1"), str(value).encode("latin-1", "replace"))
            for name, value in request.headers.items()
        ]
        answer = self.client.request(
            request.method, request.url, headers=headers, content=body or None
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.content
        response.encoding = answer.encoding
        response.reason = answer.reason_phrase
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def client(hub: Any) -> Any:
    """A requests.Session whose every request is served in-process by an app on `hub`."""
    import requests
    from fastapi.testclient import TestClient

    from sync.server.app import create_app

    with TestClient(create_app(hub), raise_server_exceptions=False) as asgi:
        with requests.Session() as session:
            session.mount("http://testserver", _AsgiAdapter(asgi))  # type: ignore[arg-type]
            yield session


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize(
    "key", AUTHENTICATED, ids=[f"{m} {p}" for m, p in AUTHENTICATED] if AUTHENTICATED else None
)
def test_no_server_error_as_role(hub: Any, client: Any, role: str, key: tuple[str, str]) -> None:
    """Every operation, logged in as `role`: no 5xx, and refusals carry the error body."""
    from sync.server.auth import secret_hash

    username = ROLES[role]
    token = {"value": _mint_token(hub, username)}

    def headers_for() -> dict[str, str]:
        return {"Authorization": f"Bearer {token['value']}"}

    def renew_if_revoked() -> None:
        if hub.store.token_user(secret_hash(token["value"])) is None:
            token["value"] = _mint_token(hub, username)

    after = renew_if_revoked if key in REVOKING else None
    failures = _run_operation(OPERATIONS[key], client, headers_for, after)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("key", sorted(ANONYMOUS), ids=[f"{m} {p}" for m, p in sorted(ANONYMOUS)])
def test_no_server_error_without_token(hub: Any, client: Any, key: tuple[str, str]) -> None:
    """Health and login (which take no token): no 5xx, refusals carry the error body."""
    failures = _run_operation(OPERATIONS[key], client, dict)
    assert not failures, "\n\n".join(failures)


def test_no_server_error_with_a_bad_token(hub: Any, client: Any) -> None:
    """Every authenticated operation with a token the hub never issued: 401, not 5xx."""
    failures: list[str] = []
    for key in AUTHENTICATED:
        failures += _run_operation(
            OPERATIONS[key], client, lambda: {"Authorization": "Bearer not-a-token"}
        )
    assert not failures, "\n\n".join(failures)


@pytest.mark.xfail(
    strict=True,
    reason="hub bug: the push body schema refers to #/components/schemas/Op, which the "
    "OpenAPI document does not define (Op is left in the body schema's $defs)",
)
def test_openapi_refs_resolve() -> None:
    """Every `$ref` in /openapi.json points at something the document holds."""
    doc = _raw_openapi()

    def resolve(ref: str) -> Any:
        assert ref.startswith("#/"), ref
        node: Any = doc
        for part in ref[2:].split("/"):
            assert isinstance(node, dict) and part in node, f"dangling $ref {ref}"
            node = node[part]
        return node

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                resolve(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
