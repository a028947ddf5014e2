"""Bad input gets a clear answer and changes nothing (PROTOCOL.md "Conventions": every
error under /api/v1 is `{"error": {"code", "message"}}`, bad input never yields a 500, and
a refused request changes nothing).

- Malformed pushes are refused whole: not JSON → 400, a wrong shape → 422, over 500 ops or
  over the body limit → 413; the store is untouched.
- A bad op inside a good push is `rejected` on its own (`invalid_payload`, `outside_grids`)
  and the valid op behind it is applied.
- Photos: non-images, wrong hashes, decompression bombs, wrong content types and tricky
  names are refused with 4xx and nothing is kept; resumable uploads answer 202/409/201
  with `Upload-Offset`, and HEAD tells what is held.
- Login, the change feed's cursors and limits, unknown routes and the twin upsert refuse
  bad input with the right status and code.

"""

from __future__ import annotations

import hashlib
import json
import struct
import uuid
import zlib
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from conftest import jpeg, op

API = "/api/v1"
PUSH = f"{API}/sync/push"
CHANGES = f"{API}/sync/changes"
JSON_TYPE = {"Content-Type": "application/json"}
# Tables whose rows a refused request must leave alone.
TABLES = (
    "tasks",
    "ops",
    "changes",
    "change_keys",
    "photos",
    "photo_refs",
    "photo_uploaders",
    "tokens",
    "login_failures",
    "users",
    "twin",
    "meta",
)


# --------------------------------------------------------------------------- helpers


def state(hub: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a refused request must not change: row counts, the tasks themselves, the feed
    position and the photo files (complete and partial)."""
    reader = hub.store.reader
    out: dict[str, Any] = {
        table: reader.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in TABLES
        if table not in skip
    }
    rows = [tuple(r) for r in reader.execute("SELECT * FROM tasks ORDER BY id")]
    out["tasks_digest"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    out["feed_position"] = hub.store.feed_position()
    out["photo_files"] = sorted(
        (str(p.relative_to(hub.photos.root)), p.stat().st_size)
        for p in hub.photos.root.rglob("*")
        if p.is_file()
    )
    return out


def assert_error(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The status, and the error body of PROTOCOL.md (with `code` where it names one)."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], body
    assert error["code"] == error["code"].lower() and " " not in error["code"], body
    assert isinstance(error.get("message"), str) and error["message"], body
    if code is not None:
        assert error["code"] == code, body
    return dict(error)


def point_in(hub: Any, grid_code: str) -> tuple[float, float]:
    """A point inside the grid (checked with the hub's own lookup)."""
    from sync import geo

    grid = hub.store.get_grid(grid_code)
    assert grid is not None, grid_code
    lon, lat = geo.representative_point(grid["geometry"])
    assert hub.store.locate(lon, lat) == (grid_code, grid["properties"]["street_code"])
    return lon, lat


def png(width: int, height: int, *, palette: bool = False, rows: int | None = None) -> bytes:
    """A valid 1-bit PNG (grey, or palette) of all-zero pixels: tiny on the wire, huge once
    decoded (a decompression bomb), written row by row so the test never holds the pixels.
    `rows` cuts the pixel data short after that many rows (the header still says `height`)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    color_type = 3 if palette else 0
    ihdr = struct.pack(">IIBBBBB", width, height, 1, color_type, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    count = height if rows is None else rows
    idat = b"".join(packer.compress(row) for _ in range(count)) + packer.flush()
    plte = chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff") if palette else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + plte
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_photo(
    api: Any,
    headers: dict[str, str],
    name: str,
    data: Any,
    content_type: str | None = "image/jpeg",
    content_range: str | None = None,
) -> Any:
    extra = dict(headers)
    if content_type is not None:
        extra["Content-Type"] = content_type
    if content_range is not None:
        extra["Content-Range"] = content_range
    return api.put(f"{API}/photos/{name}", headers=extra, content=data)


def assert_nothing_held(api: Any, headers: dict[str, str], name: str) -> None:
    """No photo under this name: GET and HEAD both 404."""
    assert api.get(f"{API}/photos/{name}", headers=headers).status_code == 404
    assert api.head(f"{API}/photos/{name}", headers=headers).status_code == 404


@pytest.fixture
def office(api: Any) -> dict[str, str]:
    """Auth headers of the JSL dispatcher (logged in before any snapshot is taken)."""
    return api.login("jsl-dispatcher")


# --------------------------------------------------------------------------- malformed pushes


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b'{"device_id": "d", "ops": [',
        b'{"device_id": "d", "ops": [{"payload": {"lon": NaN}}]}',
        b'{"device_id": "d", "ops": [{"payload": {"lat": Infinity}}]}',
        b'{"device_id": "d", "ops": [{"payload": {"lat": -Infinity}}]}',
        b"{'device_id': 'd', 'ops': []}",
        b'{"device_id": "d", "ops": []} trailing',
        b"\xff\xfe{\x00}\x00",
        b'{"device_id": "\xc3\x28", "ops": []}',
    ],
    ids=[
        "text",
        "empty",
        "truncated",
        "nan-literal",
        "infinity-literal",
        "minus-infinity",
        "single-quotes",
        "trailing-garbage",
        "utf16",
        "bad-utf8",
    ],
)
def test_push_body_not_json_is_400(api: Any, hub: Any, office: dict, body: bytes) -> None:
    before = state(hub)
    resp = api.post(PUSH, headers={**office, "Content-Type": "application/json"}, content=body)
    assert_error(resp, 400)
    assert state(hub) == before


@pytest.mark.parametrize(
    "body",
    [
        [],
        [{"op_id": str(uuid.uuid4())}],
        "ops",
        42,
        None,
        {},
        {"device_id": "d"},
        {"device_id": "d", "ops": {}},
        {"device_id": "d", "ops": "task.create"},
        {"device_id": "d", "ops": None},
        {"device_id": "d", "ops": 3},
        {"device_id": 7, "ops": []},
        {"device_id": "", "ops": []},
        {"device_id": "d" * 129, "ops": []},
    ],
    ids=[
        "empty-list",
        "list-of-ops",
        "string",
        "number",
        "null",
        "empty-object",
        "missing-ops",
        "ops-object",
        "ops-string",
        "ops-null",
        "ops-number",
        "device-id-number",
        "device-id-empty",
        "device-id-too-long",
    ],
)
def test_push_wrong_shape_is_422(api: Any, hub: Any, office: dict, body: Any) -> None:
    before = state(hub)
    resp = api.post(PUSH, headers={**office, **JSON_TYPE}, content=json.dumps(body))
    assert_error(resp, 422)
    assert state(hub) == before


def test_push_of_501_ops_is_413_and_500_is_answered(api: Any, hub: Any, office: dict) -> None:
    """The op limit is 500: one more refuses the whole request; 500 are all answered."""
    point = point_in(hub, "JSL-01")
    ops = [op("task.create", kind="litter", lon=point[0], lat=point[1]) for _ in range(501)]
    before = state(hub)
    resp = api.post(PUSH, headers=office, json={"device_id": "d", "ops": ops})
    assert_error(resp, 413)
    assert state(hub) == before
    # 500 ops whose op_id is no UUID: each answered `rejected`, none recorded.
    bad = [{**o, "op_id": f"not-a-uuid-{i}"} for i, o in enumerate(ops[:500])]
    resp = api.post(PUSH, headers=office, json={"device_id": "d", "ops": bad})
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert len(results) == 500
    assert {(r["status"], r["code"]) for r in results} == {("rejected", "invalid_payload")}
    assert state(hub) == before


def _huge_push_body() -> bytes:
    """A push over the hub's 25 MB body limit (valid JSON, padded with spaces)."""
    return b'{"device_id": "d", "ops": [' + b" " * (25 * 1024 * 1024 + 10) + b"]}"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_push_body_over_25_mb_is_413(api: Any, hub: Any, office: dict, chunked: bool) -> None:
    body = _huge_push_body()
    content: Any = body
    if chunked:  # no Content-Length: the hub must count while it reads

        def pieces() -> Iterator[bytes]:
            for start in range(0, len(body), 1 << 20):
                yield body[start : start + (1 << 20)]

        content = pieces()
    before = state(hub)
    resp = api.post(PUSH, headers={**office, "Content-Type": "application/json"}, content=content)
    assert_error(resp, 413)
    assert state(hub) == before


@pytest.mark.parametrize(
    "token", [None, "", "garbage", "Bearer"], ids=["none", "empty", "garbage", "scheme-only"]
)
def test_push_without_a_valid_token_is_401(api: Any, hub: Any, token: str | None) -> None:
    point = point_in(hub, "JSL-01")
    headers = {} if token is None else {"Authorization": f"Bearer {token}".strip()}
    before = state(hub)
    resp = api.post(
        PUSH,
        headers=headers,
        json={
            "device_id": "d",
            "ops": [op("task.create", kind="litter", lon=point[0], lat=point[1])],
        },
    )
    assert_error(resp, 401)
    assert state(hub) == before


# --------------------------------------------------------------------------- bad ops in a good push


class Ctx:
    """What the bad ops are built from: a point in JSL-01, one outside every grid, and a
    task assigned to jsl-worker-01 (made before the test's snapshot)."""

    def __init__(self, hub: Any, api: Any) -> None:
        self.point = point_in(hub, "JSL-01")
        self.nowhere = (0.0, 0.0)
        lon, lat = self.point
        created = api.push(
            "jsl-dispatcher",
            op("task.create", kind="litter", lon=lon, lat=lat, assignee_id="jsl-worker-01"),
        )
        assert created[0]["status"] == "applied", created
        self.task = created[0]["task"]
        self.task_id = self.task["id"]

    def create(self, **payload: Any) -> dict[str, Any]:
        base = {"kind": "litter", "lon": self.point[0], "lat": self.point[1]}
        base.update(payload)
        return op("task.create", **base)

    def on_task(self, op_type: str, **payload: Any) -> dict[str, Any]:
        return op(op_type, self.task_id, **payload)


def _with(item: dict[str, Any], **fields: Any) -> dict[str, Any]:
    out = dict(item)
    out.update(fields)
    return out


def _without(item: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in keys}


def _payload_without(item: dict[str, Any], *keys: str) -> dict[str, Any]:
    return _with(item, payload={k: v for k, v in item["payload"].items() if k not in keys})


GOOD_HEX = "a" * 64
# (id, sender, the bad op, expected code). Each is pushed before a valid op of the same
# sender, which must be applied.
BAD_OPS: list[tuple[str, str, Callable[[Ctx], Any], str]] = [
    # the op itself
    ("op-not-object-string", "jsl-dispatcher", lambda c: "task.create", "invalid_payload"),
    ("op-not-object-number", "jsl-dispatcher", lambda c: 42, "invalid_payload"),
    ("op-not-object-null", "jsl-dispatcher", lambda c: None, "invalid_payload"),
    ("op-not-object-list", "jsl-dispatcher", lambda c: [c.create()], "invalid_payload"),
    (
        "unknown-type",
        "jsl-dispatcher",
        lambda c: _with(c.create(), type="task.explode"),
        "invalid_payload",
    ),
    ("type-number", "jsl-dispatcher", lambda c: _with(c.create(), type=7), "invalid_payload"),
    ("missing-type", "jsl-dispatcher", lambda c: _without(c.create(), "type"), "invalid_payload"),
    (
        "op-id-not-uuid",
        "jsl-dispatcher",
        lambda c: _with(c.create(), op_id="op-1"),
        "invalid_payload",
    ),
    ("op-id-number", "jsl-dispatcher", lambda c: _with(c.create(), op_id=12345), "invalid_payload"),
    ("op-id-missing", "jsl-dispatcher", lambda c: _without(c.create(), "op_id"), "invalid_payload"),
    (
        "task-id-path",
        "jsl-dispatcher",
        lambda c: _with(c.create(), task_id="../../etc/passwd"),
        "invalid_payload",
    ),
    (
        "task-id-36-chars",
        "jsl-dispatcher",
        lambda c: _with(c.create(), task_id="../" * 12),
        "invalid_payload",
    ),
    ("task-id-empty", "jsl-dispatcher", lambda c: _with(c.create(), task_id=""), "invalid_payload"),
    (
        "task-id-sql",
        "jsl-dispatcher",
        lambda c: _with(c.create(), task_id="x' OR '1'='1"),
        "invalid_payload",
    ),
    (
        "at-not-a-time",
        "jsl-dispatcher",
        lambda c: _with(c.create(), at="yesterday"),
        "invalid_payload",
    ),
    (
        "at-without-zone",
        "jsl-dispatcher",
        lambda c: _with(c.create(), at="2026-06-01T08:30:00"),
        "invalid_payload",
    ),
    (
        "base-version-string",
        "jsl-dispatcher",
        lambda c: _with(c.on_task("task.update", title="t"), base_version="1"),
        "invalid_payload",
    ),
    (
        "payload-list",
        "jsl-dispatcher",
        lambda c: _with(c.create(), payload=[1, 2]),
        "invalid_payload",
    ),
    (
        "payload-string",
        "jsl-dispatcher",
        lambda c: _with(c.create(), payload="kind=litter"),
        "invalid_payload",
    ),
    ("payload-number", "jsl-dispatcher", lambda c: _with(c.create(), payload=5), "invalid_payload"),
    # task.create fields
    ("lon-string", "jsl-dispatcher", lambda c: c.create(lon="121.43"), "invalid_payload"),
    ("lat-bool", "jsl-dispatcher", lambda c: c.create(lat=True), "invalid_payload"),
    (
        "lat-missing",
        "jsl-dispatcher",
        lambda c: _payload_without(c.create(), "lat"),
        "invalid_payload",
    ),
    ("lon-181", "jsl-dispatcher", lambda c: c.create(lon=181), "invalid_payload"),
    ("lon-minus-180.0001", "jsl-dispatcher", lambda c: c.create(lon=-180.0001), "invalid_payload"),
    ("lat-minus-91", "jsl-dispatcher", lambda c: c.create(lat=-91), "invalid_payload"),
    ("lat-1e308", "jsl-dispatcher", lambda c: c.create(lat=1e308), "invalid_payload"),
    (
        "priority-unknown",
        "jsl-dispatcher",
        lambda c: c.create(priority="critical"),
        "invalid_payload",
    ),
    (
        "priority-null-in-update",
        "jsl-dispatcher",
        lambda c: c.on_task("task.update", priority=None),
        "invalid_payload",
    ),
    ("kind-unknown", "jsl-dispatcher", lambda c: c.create(kind="pothole"), "invalid_payload"),
    ("kind-list", "jsl-dispatcher", lambda c: c.create(kind=["litter"]), "invalid_payload"),
    (
        "kind-missing",
        "jsl-dispatcher",
        lambda c: _payload_without(c.create(), "kind"),
        "invalid_payload",
    ),
    ("title-number", "jsl-dispatcher", lambda c: c.create(title=42), "invalid_payload"),
    ("title-too-long", "jsl-dispatcher", lambda c: c.create(title="x" * 201), "invalid_payload"),
    ("source-unknown", "jsl-dispatcher", lambda c: c.create(source="rumour"), "invalid_payload"),
    (
        "due-at-not-a-time",
        "jsl-dispatcher",
        lambda c: c.create(due_at="tomorrow"),
        "invalid_payload",
    ),
    (
        "self-fix-string",
        "jsl-worker-01",
        lambda c: c.create(source="patrol", self_fix="yes"),
        "invalid_payload",
    ),
    (
        "assignee-path",
        "jsl-dispatcher",
        lambda c: c.create(assignee_id="../admin"),
        "invalid_payload",
    ),
    (
        "incident-not-uuid",
        "jsl-dispatcher",
        lambda c: c.create(incident_id="inc-1"),
        "invalid_payload",
    ),
    (
        "outside-grids",
        "jsl-dispatcher",
        lambda c: c.create(lon=c.nowhere[0], lat=c.nowhere[1]),
        "outside_grids",
    ),
    # photos
    (
        "photo-sha-short",
        "jsl-dispatcher",
        lambda c: c.create(photos=[{"sha256": GOOD_HEX[:63], "role": "before"}]),
        "invalid_payload",
    ),
    (
        "photo-sha-upper",
        "jsl-dispatcher",
        lambda c: c.create(photos=[{"sha256": GOOD_HEX.upper(), "role": "before"}]),
        "invalid_payload",
    ),
    (
        "photo-sha-path",
        "jsl-dispatcher",
        lambda c: c.create(photos=[{"sha256": "../" * 21 + "x", "role": "before"}]),
        "invalid_payload",
    ),
    (
        "photo-sha-number",
        "jsl-dispatcher",
        lambda c: c.create(photos=[{"sha256": 12, "role": "before"}]),
        "invalid_payload",
    ),
    (
        "photo-role-unknown",
        "jsl-dispatcher",
        lambda c: c.create(photos=[{"sha256": GOOD_HEX, "role": "selfie"}]),
        "invalid_payload",
    ),
    (
        "photo-not-object",
        "jsl-dispatcher",
        lambda c: c.create(photos=[GOOD_HEX]),
        "invalid_payload",
    ),
    (
        "photos-not-list",
        "jsl-dispatcher",
        lambda c: c.create(photos={"sha256": GOOD_HEX}),
        "invalid_payload",
    ),
    (
        "photo-lon-181",
        "jsl-dispatcher",
        lambda c: c.create(photos=[{"sha256": GOOD_HEX, "role": "before", "lon": 181, "lat": 31}]),
        "invalid_payload",
    ),
    (
        "photos-21",
        "jsl-dispatcher",
        lambda c: c.create(photos=[{"sha256": f"{i:064x}", "role": "before"} for i in range(21)]),
        "invalid_payload",
    ),
    # required texts and other op types
    (
        "cancel-reason-blank",
        "jsl-dispatcher",
        lambda c: c.on_task("task.cancel", reason="   "),
        "invalid_payload",
    ),
    (
        "cancel-reason-missing",
        "jsl-dispatcher",
        lambda c: c.on_task("task.cancel"),
        "invalid_payload",
    ),
    (
        "comment-text-empty",
        "jsl-dispatcher",
        lambda c: c.on_task("task.comment", text=""),
        "invalid_payload",
    ),
    (
        "comment-text-number",
        "jsl-dispatcher",
        lambda c: c.on_task("task.comment", text=3),
        "invalid_payload",
    ),
    (
        "decline-reason-blank",
        "jsl-worker-01",
        lambda c: c.on_task("task.decline", reason="\t\n "),
        "invalid_payload",
    ),
    ("assign-no-assignee", "jsl-dispatcher", lambda c: c.on_task("task.assign"), "invalid_payload"),
    (
        "assign-not-a-worker",
        "jsl-dispatcher",
        lambda c: c.on_task("task.assign", assignee_id="jsl-supervisor"),
        "invalid_payload",
    ),
    ("update-nothing", "jsl-dispatcher", lambda c: c.on_task("task.update"), "invalid_payload"),
    (
        "submit-without-photos",
        "jsl-worker-01",
        lambda c: c.on_task("task.submit", note="done"),
        "invalid_payload",
    ),
    (
        "submit-before-photo-only",
        "jsl-worker-01",
        lambda c: c.on_task("task.submit", photos=[{"sha256": GOOD_HEX, "role": "before"}]),
        "invalid_payload",
    ),
    (
        "submit-accuracy-negative",
        "jsl-worker-01",
        lambda c: c.on_task(
            "task.submit", accuracy_m=-1, photos=[{"sha256": GOOD_HEX, "role": "after"}]
        ),
        "invalid_payload",
    ),
    (
        "triage-decision-unknown",
        "jsl-dispatcher",
        lambda c: c.on_task("task.triage", decision="maybe"),
        "invalid_payload",
    ),
]


@pytest.mark.parametrize("sender,build,code", [b[1:] for b in BAD_OPS], ids=[b[0] for b in BAD_OPS])
def test_bad_op_is_rejected_alone(
    api: Any, hub: Any, sender: str, build: Callable[[Ctx], Any], code: str
) -> None:
    """The bad op is `rejected` with its code; the valid op behind it (same sender) is
    applied; the bad op creates no task and leaves the task it names as it was."""
    ctx = Ctx(hub, api)
    api.login(sender)
    bad = build(ctx)
    good = ctx.create(title="behind the bad op")
    task_before = hub.store.get_task(ctx.task_id)
    tasks_before = state(hub)["tasks"]

    results = api.push(sender, bad, good)

    assert len(results) == 2
    assert results[0]["status"] == "rejected", results[0]
    assert results[0]["code"] == code, results[0]
    assert isinstance(results[0]["message"], str) and results[0]["message"]
    assert results[1]["status"] == "applied", results[1]
    assert results[1]["op_id"] == good["op_id"]
    assert state(hub)["tasks"] == tasks_before + 1
    assert hub.store.get_task(good["task_id"]) is not None
    after = hub.store.get_task(ctx.task_id)
    assert after is not None and task_before is not None
    for key in ("status", "version", "assignee_id", "title", "priority", "photos", "history"):
        assert after[key] == task_before[key], key
    if isinstance(bad, dict) and bad.get("task_id") != ctx.task_id:
        task_id = bad.get("task_id")
        if isinstance(task_id, str):
            assert hub.store.get_task(task_id) is None


def test_bad_op_does_not_block_later_ops_on_the_same_task(api: Any, hub: Any) -> None:
    """Unlike `retry`, a rejected op does not hold back the ops behind it on its task."""
    ctx = Ctx(hub, api)
    version = ctx.task["version"]
    results = api.push(
        "jsl-dispatcher",
        ctx.on_task("task.cancel", reason="   "),
        ctx.on_task("task.update", title="renamed"),
        ctx.on_task("task.comment", text=""),
        ctx.on_task("task.comment", text="still here"),
    )
    assert [(r["status"], r["code"]) for r in results] == [
        ("rejected", "invalid_payload"),
        ("applied", None),
        ("rejected", "invalid_payload"),
        ("applied", None),
    ]
    task = hub.store.get_task(ctx.task_id)
    assert task["status"] == "assigned" and task["title"] == "renamed"
    assert task["version"] == version + 1


def test_op_without_a_uuid_op_id_is_answered_not_recorded(api: Any, hub: Any) -> None:
    """Nothing to key it by: the answer echoes the op_id sent, and no ledger row is kept."""
    ctx = Ctx(hub, api)
    before = state(hub)
    results = api.push("jsl-dispatcher", _with(ctx.create(), op_id="not-a-uuid"))
    assert results == [
        {
            "op_id": "not-a-uuid",
            "status": "rejected",
            "code": "invalid_payload",
            "message": results[0]["message"],
            "task": None,
        }
    ]
    assert state(hub) == before


def test_rejected_op_resent_answers_duplicate_with_the_same_code(api: Any, hub: Any) -> None:
    """The control case for the bug below: a payload-level rejection, re-sent, is a
    `duplicate` with the same code and is recorded once."""
    ctx = Ctx(hub, api)
    bad = ctx.create(lon=181)
    first = api.push("jsl-dispatcher", bad)
    again = api.push("jsl-dispatcher", bad)
    assert (first[0]["status"], first[0]["code"]) == ("rejected", "invalid_payload")
    assert (again[0]["status"], again[0]["code"]) == ("duplicate", "invalid_payload")
    count = hub.store.reader.execute(
        "SELECT COUNT(*) FROM ops WHERE op_id = ?", (bad["op_id"],)
    ).fetchone()[0]
    assert count == 1


def test_resent_op_with_a_bad_envelope_answers_duplicate(api: Any, hub: Any) -> None:
    ctx = Ctx(hub, api)
    bad = _with(ctx.create(), at="yesterday")
    good = ctx.create(title="behind the re-sent op")
    first = api.push("jsl-dispatcher", bad)
    assert (first[0]["status"], first[0]["code"]) == ("rejected", "invalid_payload")
    resp = api.post(
        PUSH,
        headers=api.login("jsl-dispatcher"),
        json={"device_id": "d", "ops": [bad, good]},
    )
    assert resp.status_code == 200, resp.text
    again = resp.json()["results"]
    assert (again[0]["status"], again[0]["code"]) == ("duplicate", "invalid_payload")
    assert again[1]["status"] == "applied"


def test_applied_op_id_reused_with_a_bad_envelope_answers_duplicate(api: Any, hub: Any) -> None:
    ctx = Ctx(hub, api)
    good = ctx.create()
    assert api.push("jsl-dispatcher", good)[0]["status"] == "applied"
    resp = api.post(
        PUSH,
        headers=api.login("jsl-dispatcher"),
        json={"device_id": "d", "ops": [_with(good, type="task.bogus")]},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["results"][0]["status"] == "duplicate"


@pytest.mark.parametrize(
    "op_type", [["task.create"], {"name": "task.create"}], ids=["list", "object"]
)
def test_op_type_not_a_string_is_rejected_alone(api: Any, hub: Any, op_type: Any) -> None:
    ctx = Ctx(hub, api)
    good = ctx.create()
    resp = api.post(
        PUSH,
        headers=api.login("jsl-dispatcher"),
        json={"device_id": "d", "ops": [_with(ctx.create(), type=op_type), good]},
    )
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert (results[0]["status"], results[0]["code"]) == ("rejected", "invalid_payload")
    assert results[1]["status"] == "applied"


def test_photo_sha_with_a_trailing_newline_is_invalid(api: Any, hub: Any) -> None:
    ctx = Ctx(hub, api)
    _, real = jpeg(3)
    results = api.push(
        "jsl-dispatcher", ctx.create(photos=[{"sha256": real + "\n", "role": "before"}])
    )
    assert (results[0]["status"], results[0]["code"]) == ("rejected", "invalid_payload")


# --------------------------------------------------------------------------- photos


def test_photo_that_is_not_an_image_is_415(api: Any, hub: Any, office: dict) -> None:
    for data in (b"hello, not a photo", b"GIF89a" + b"\x00" * 64, b"%PDF-1.4\n" + b"0" * 99):
        name = sha(data)
        before = state(hub)
        assert_error(put_photo(api, office, name, data), 415, "not_an_image")
        assert state(hub) == before
        assert_nothing_held(api, office, name)


def test_photo_image_of_another_format_or_cut_short_is_415(
    api: Any, hub: Any, office: dict
) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "GIF")
    whole, _ = jpeg(4)
    for data in (buf.getvalue(), whole[: len(whole) // 2], whole[:2]):
        name = sha(data)
        before = state(hub)
        assert_error(put_photo(api, office, name, data), 415, "not_an_image")
        assert state(hub) == before
        assert_nothing_held(api, office, name)


def test_photo_with_the_wrong_hash_is_400(api: Any, hub: Any, office: dict) -> None:
    data, real = jpeg(6)
    other = sha(b"something else")
    before = state(hub)
    assert_error(put_photo(api, office, other, data), 400, "hash_mismatch")
    assert state(hub) == before
    assert_nothing_held(api, office, other)
    assert_nothing_held(api, office, real)


@pytest.mark.parametrize(
    "width,height,palette,rows",
    [
        (10_000, 10_000, False, None),
        (7_800, 7_800, True, None),
        (100_000, 100_000, False, 10),
        (1, 60_000_000, False, 10),
    ],
    ids=["100MP-1bit", "61MP-palette", "10G-pixel-header", "1x60M-header"],
)
def test_photo_decompression_bomb_is_413(
    api: Any, hub: Any, office: dict, width: int, height: int, palette: bool, rows: Any
) -> None:
    """Tiny files that decode to more than 50 megapixels are refused (by their header,
    before any pixel is decoded: the cut-short ones would not even decode)."""
    data = png(width, height, palette=palette, rows=rows)
    assert len(data) < 64 * 1024
    name = sha(data)
    before = state(hub)
    assert_error(put_photo(api, office, name, data, "image/png"), 413, "too_large")
    assert state(hub) == before
    assert_nothing_held(api, office, name)


def test_photo_just_under_the_pixel_limit_is_stored(api: Any, hub: Any, office: dict) -> None:
    """The control case: a 1-bit PNG of 7,000 × 7,000 (49 MP) is an acceptable photo."""
    data = png(7_000, 7_000)
    resp = put_photo(api, office, sha(data), data, "image/png")
    assert resp.status_code == 201, resp.text


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_photo_over_20_mb_is_413(api: Any, hub: Any, office: dict, chunked: bool) -> None:
    head, _ = jpeg(8)
    data = head + b"\x00" * (20 * 1024 * 1024 + 1 - len(head))
    content: Any = data
    if chunked:

        def pieces() -> Iterator[bytes]:
            for start in range(0, len(data), 1 << 20):
                yield data[start : start + (1 << 20)]

        content = pieces()
    name = sha(data)
    before = state(hub)
    assert_error(put_photo(api, office, name, content), 413, "too_large")
    assert state(hub) == before
    assert_nothing_held(api, office, name)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/octet-stream",
        "image/gif",
        "image/jpeg-ish",
        "multipart/form-data",
    ],
)
def test_photo_with_the_wrong_content_type_is_415(
    api: Any, hub: Any, office: dict, content_type: str | None
) -> None:
    data, name = jpeg(9)
    before = state(hub)
    assert_error(put_photo(api, office, name, data, content_type), 415)
    assert state(hub) == before
    assert_nothing_held(api, office, name)


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "..",
        "%2e%2e",
        "%2e%2e%2f%2e%2e%2fhub.sqlite",
        "..%2F..%2Fhub.sqlite",
        "a" * 63,
        "a" * 65,
        "A" * 64,
        "g" * 64,
        "a" * 63 + "%00",
        "a" * 64 + "%00",
        ".partial%2F" + "a" * 64,
        "%20" + "a" * 64,
    ],
)
def test_photo_name_tricks_are_4xx(api: Any, hub: Any, office: dict, name: str) -> None:
    data, _ = jpeg(10)
    before = state(hub)
    for method in ("PUT", "GET", "HEAD"):
        extra = {"Content-Type": "image/jpeg"} if method == "PUT" else {}
        resp = api.request(
            method,
            f"{API}/photos/{name}",
            headers={**office, **extra},
            content=data if method == "PUT" else None,
        )
        assert resp.status_code in (400, 404), (method, resp.status_code, resp.text)
        if method != "HEAD":
            assert_error(resp, resp.status_code)
    assert state(hub) == before


def test_resumable_upload_in_three_pieces(api: Any, hub: Any, office: dict) -> None:
    data, name = jpeg(11, (320, 240))
    total = len(data)
    cuts = [0, total // 3, 2 * total // 3, total]
    assert_nothing_held(api, office, name)

    answers = []
    for i in range(3):
        start, end = cuts[i], cuts[i + 1]
        resp = put_photo(
            api, office, name, data[start:end], content_range=f"bytes {start}-{end - 1}/{total}"
        )
        answers.append((resp.status_code, resp.headers.get("Upload-Offset")))
        if i < 2:
            # Mid-way: HEAD tells the bytes held; the photo is not served yet.
            head = api.head(f"{API}/photos/{name}", headers=office)
            assert (head.status_code, head.headers.get("Upload-Offset")) == (200, str(end))
            assert api.get(f"{API}/photos/{name}", headers=office).status_code == 404
    assert answers == [(202, str(cuts[1])), (202, str(cuts[2])), (201, str(total))]
    head = api.head(f"{API}/photos/{name}", headers=office)
    assert (head.status_code, head.headers.get("Upload-Offset")) == (200, str(total))
    got = api.get(f"{API}/photos/{name}", headers=office)
    assert got.status_code == 200 and got.content == data


def test_resumable_piece_at_the_wrong_offset_is_409(api: Any, hub: Any, office: dict) -> None:
    data, name = jpeg(12, (320, 240))
    total = len(data)
    first = put_photo(api, office, name, data[:100], content_range=f"bytes 0-99/{total}")
    assert (first.status_code, first.headers.get("Upload-Offset")) == (202, "100")
    files = state(hub)["photo_files"]
    for start in (0, 50, 101, 200):
        piece = data[start : start + 100]
        resp = put_photo(
            api, office, name, piece, content_range=f"bytes {start}-{start + 99}/{total}"
        )
        assert_error(resp, 409)
        assert resp.headers.get("Upload-Offset") == "100"
        assert state(hub)["photo_files"] == files
    head = api.head(f"{API}/photos/{name}", headers=office)
    assert (head.status_code, head.headers.get("Upload-Offset")) == (200, "100")
    # The device goes on from the offset it was told.
    rest = put_photo(api, office, name, data[100:], content_range=f"bytes 100-{total - 1}/{total}")
    assert rest.status_code == 201, rest.text


@pytest.mark.parametrize(
    "content_range",
    [
        "bytes 0-9",
        "bytes=0-9/100",
        "bytes 9-0/100",
        "bytes 0-99/50",
        "bytes 0-9/100 extra",
        "items 0-9/100",
        "bytes -1-9/100",
    ],
)
def test_resumable_piece_with_a_bad_range_is_400(
    api: Any, hub: Any, office: dict, content_range: str
) -> None:
    data, name = jpeg(13)
    before = state(hub)
    assert_error(put_photo(api, office, name, data[:10], content_range=content_range), 400)
    assert state(hub) == before
    assert_nothing_held(api, office, name)


def test_resumable_piece_declaring_over_20_mb_is_413(api: Any, hub: Any, office: dict) -> None:
    data, name = jpeg(14)
    total = 20 * 1024 * 1024 + 1
    before = state(hub)
    resp = put_photo(api, office, name, data[:10], content_range=f"bytes 0-9/{total}")
    assert_error(resp, 413, "too_large")
    assert state(hub) == before
    assert_nothing_held(api, office, name)


@pytest.mark.parametrize("flaw", ["not-an-image", "wrong-hash"])
def test_refused_resumable_upload_keeps_nothing(
    api: Any, hub: Any, office: dict, flaw: str
) -> None:
    """The checks run once the last piece is in; a refusal drops the pieces too."""
    if flaw == "not-an-image":
        data = b"not a photo at all, " * 50
        name = sha(data)
        status, code = 415, "not_an_image"
    else:
        data, _ = jpeg(15, (200, 100))
        name = sha(b"another photo")
        status, code = 400, "hash_mismatch"
    total = len(data)
    before = state(hub)
    first = put_photo(api, office, name, data[:100], content_range=f"bytes 0-99/{total}")
    assert (first.status_code, first.headers.get("Upload-Offset")) == (202, "100")
    head = api.head(f"{API}/photos/{name}", headers=office)
    assert (head.status_code, head.headers.get("Upload-Offset")) == (200, "100")
    last = put_photo(api, office, name, data[100:], content_range=f"bytes 100-{total - 1}/{total}")
    assert_error(last, status, code)
    assert state(hub) == before
    assert_nothing_held(api, office, name)


def test_head_of_a_photo_never_held_is_404(api: Any, office: dict) -> None:
    assert_nothing_held(api, office, sha(b"never uploaded"))


# --------------------------------------------------------------------------- login


LOGIN = f"{API}/auth/login"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "admin"},
        {"username": "admin", "password": "demo"},
        {"password": "demo", "device_id": "d"},
        {"username": 1, "password": "demo", "device_id": "d"},
        {"username": "admin", "password": ["demo"], "device_id": "d"},
        {"username": "admin", "password": "demo", "device_id": None},
        {"username": "admin", "password": "demo", "device_id": {"id": "d"}},
        {"username": "", "password": "demo", "device_id": "d"},
        {"username": "admin", "password": "", "device_id": "d"},
        {"username": "admin", "password": "demo", "device_id": "d" * 129},
        {"username": "a" * 65, "password": "demo", "device_id": "d"},
        ["admin", "demo", "d"],
        "admin:demo",
        None,
    ],
)
def test_login_with_missing_fields_or_wrong_types_is_422(api: Any, hub: Any, body: Any) -> None:
    before = state(hub)
    assert_error(api.post(LOGIN, headers=JSON_TYPE, content=json.dumps(body)), 422)
    assert state(hub) == before


@pytest.mark.parametrize("body", [b"", b"username=admin&password=demo", b'{"username": "admin",'])
def test_login_body_not_json_is_refused(api: Any, hub: Any, body: bytes) -> None:
    before = state(hub)
    resp = api.post(LOGIN, headers={"Content-Type": "application/json"}, content=body)
    assert resp.status_code in (400, 422), resp.text
    assert_error(resp, resp.status_code)
    assert state(hub) == before


@pytest.mark.parametrize("username", ["admin", "jsl-worker-03", "nobody-here"])
def test_login_with_a_wrong_password_is_401(api: Any, hub: Any, username: str) -> None:
    """Unknown users answer exactly as wrong passwords do; no token is issued."""
    before = state(hub, skip=("login_failures",))
    resp = api.post(LOGIN, json={"username": username, "password": "not-demo", "device_id": "d"})
    assert_error(resp, 401, "invalid_credentials")
    assert "token" not in resp.text
    assert state(hub, skip=("login_failures",)) == before


def test_login_locks_an_account_after_ten_failures(api: Any, hub: Any) -> None:
    from sync.server.auth import hash_password

    hub.store.add_user(
        user_id="lock-test",
        username="lock-test",
        display_name="Lock test",
        role="worker",
        street_code="JSL",
        password_hash=hash_password("right"),
        grid_codes=["JSL-02"],
    )

    def login(password: str, username: str = "lock-test") -> Any:
        return api.post(LOGIN, json={"username": username, "password": password, "device_id": "d"})

    assert login("right").status_code == 200
    before = state(hub, skip=("login_failures",))
    statuses = [login(f"wrong-{i}").status_code for i in range(11)]
    assert statuses == [401] * 10 + [429]
    locked = login("right")
    assert_error(locked, 429)
    assert "token" not in locked.text
    assert state(hub, skip=("login_failures",)) == before
    # The lock is per account: another one still logs in.
    assert (
        api.post(
            LOGIN, json={"username": "jsl-worker-02", "password": "demo", "device_id": "d"}
        ).status_code
        == 200
    )


# --------------------------------------------------------------------------- the change feed


def _pull(api: Any, headers: dict[str, str], since: str, limit: int = 500) -> Any:
    return api.get(CHANGES, headers=headers, params={"since": since, "limit": limit})


def _cursor_after_full_pull(api: Any, headers: dict[str, str]) -> str:
    cursor = ""
    while True:
        resp = _pull(api, headers, cursor, 5000)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        cursor = body["cursor"]
        if not body["has_more"]:
            return str(cursor)


@pytest.mark.parametrize(
    "since",
    [
        "garbage",
        ".",
        "a.b.c",
        "eyJzZXEiOjF9",
        "eyJzZXEiOjF9.",
        "é.ü",
        "%00",
        "e30.AAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_changes_with_a_cursor_not_issued_is_400(
    api: Any, hub: Any, office: dict, since: str
) -> None:
    before = state(hub)
    assert_error(_pull(api, office, since), 400, "invalid_cursor")
    assert state(hub) == before


def test_changes_with_a_tampered_cursor_is_400(api: Any, hub: Any, office: dict) -> None:
    import base64

    cursor = _cursor_after_full_pull(api, office)
    payload, mac = cursor.split(".")
    # Another position, with the old signature.
    forged_state = json.dumps({"seq": 0}, separators=(",", ":")).encode()
    forged = base64.urlsafe_b64encode(forged_state).rstrip(b"=").decode()
    flipped = ("B" if payload[0] == "A" else "A") + payload[1:]
    mac_flipped = ("B" if mac[0] == "A" else "A") + mac[1:]
    before = state(hub)
    for bad in (f"{forged}.{mac}", f"{flipped}.{mac}", f"{payload}.{mac_flipped}", cursor[:-3]):
        assert_error(_pull(api, office, bad), 400, "invalid_cursor")
    assert state(hub) == before
    assert _pull(api, office, cursor).status_code == 200


def test_changes_with_a_compacted_cursor_is_410(api: Any, hub: Any, office: dict) -> None:
    cursor = _cursor_after_full_pull(api, office)
    snapshot_page = _pull(api, office, "", 1)
    assert snapshot_page.status_code == 200 and snapshot_page.json()["has_more"]
    mid_snapshot = snapshot_page.json()["cursor"]
    point = point_in(hub, "JSL-01")
    assert (
        api.push("jsl-dispatcher", op("task.create", kind="litter", lon=point[0], lat=point[1]))[0][
            "status"
        ]
        == "applied"
    )

    hub.store.compact_feed(hub.store.feed_position())

    before = state(hub)
    assert_error(_pull(api, office, cursor), 410, "cursor_expired")
    assert_error(_pull(api, office, mid_snapshot), 410, "cursor_expired")
    assert state(hub) == before
    # The client starts again from an empty `since`.
    assert _cursor_after_full_pull(api, office)


def test_changes_with_a_cursor_at_the_floor_is_served(api: Any, hub: Any, office: dict) -> None:
    """The control case: compaction up to the cursor's own position loses nothing after it."""
    cursor = _cursor_after_full_pull(api, office)
    hub.store.compact_feed(hub.store.feed_position())
    resp = _pull(api, office, cursor)
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("limit", ["0", "5001", "-1", "abc", "1.5", ""])
def test_changes_with_a_bad_limit_is_422(api: Any, hub: Any, office: dict, limit: str) -> None:
    before = state(hub)
    resp = api.get(CHANGES, headers=office, params={"since": "", "limit": limit})
    assert_error(resp, 422)
    assert state(hub) == before


def test_changes_with_a_cursor_over_2048_chars_is_refused(api: Any, hub: Any, office: dict) -> None:
    before = state(hub)
    resp = _pull(api, office, "x" * 2049)
    assert resp.status_code in (400, 422), resp.text
    assert_error(resp, resp.status_code)
    assert state(hub) == before


# --------------------------------------------------------------------------- other endpoints


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", f"{API}/nope"),
        ("POST", f"{API}/sync/pull"),
        ("GET", f"{API}/tasks/{uuid.uuid4()}/history"),
        ("GET", f"{API}/photos"),
        ("PUT", f"{API}/v2/tasks"),
    ],
)
def test_unknown_route_under_api_is_404(
    api: Any, hub: Any, office: dict, method: str, path: str
) -> None:
    before = state(hub)
    assert_error(api.request(method, path, headers=office), 404)
    assert_error(api.request(method, path), 404)
    assert state(hub) == before


@pytest.mark.parametrize(
    "method,path", [("DELETE", f"{API}/tasks"), ("GET", PUSH), ("POST", f"{API}/grids")]
)
def test_wrong_method_is_405(api: Any, hub: Any, office: dict, method: str, path: str) -> None:
    before = state(hub)
    assert_error(api.request(method, path, headers=office), 405)
    assert state(hub) == before


@pytest.mark.parametrize(
    "path,params",
    [
        (f"{API}/tasks", {"status": "done"}),
        (f"{API}/tasks", {"limit": "0"}),
        (f"{API}/users", {"role": "boss"}),
    ],
)
def test_bad_query_is_422(api: Any, hub: Any, office: dict, path: str, params: dict) -> None:
    before = state(hub)
    assert_error(api.get(path, headers=office, params=params), 422)
    assert state(hub) == before


@pytest.mark.parametrize("task_id", ["../../etc/passwd", "not-a-uuid", "%2e%2e", "0" * 36])
def test_task_by_a_bad_id_is_404(api: Any, hub: Any, office: dict, task_id: str) -> None:
    resp = api.get(f"{API}/tasks/{task_id}", headers=office)
    assert resp.status_code == 404, resp.text
    assert_error(resp, 404)


@pytest.mark.parametrize("body", [{}, {"on_duty": "maybe"}, {"on_duty": None}, [True]])
def test_duty_with_a_bad_body_is_422(api: Any, hub: Any, body: Any) -> None:
    worker = api.login("jsl-worker-04")
    before = state(hub)
    assert_error(api.put(f"{API}/me/duty", headers=worker, json=body), 422)
    assert state(hub) == before


TWIN = f"{API}/twin/features"


@pytest.mark.parametrize(
    "body",
    [
        {"layer": "roads", "features": []},
        {"layer": "components", "features": {}},
        {"layer": "components", "features": [{"type": "Feature"}]},
        {
            "layer": "components",
            "features": [
                {
                    "type": "Feature",
                    "id": "c1",
                    "geometry": {"type": "Point", "coordinates": [181, 31.2]},
                    "properties": {"kind": "hydrant"},
                }
            ],
        },
        {
            "layer": "components",
            "features": [
                {
                    "type": "Feature",
                    "id": "c1",
                    "geometry": {"type": "Point", "coordinates": ["121.4", 31.2]},
                    "properties": {"kind": "hydrant"},
                }
            ],
        },
        {
            "layer": "components",
            "features": [
                {
                    "type": "Feature",
                    "id": "c1",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[121.4, 31.2], [121.41, 31.21]],
                    },
                    "properties": {"kind": "hydrant"},
                }
            ],
        },
        {
            "layer": "components",
            "features": [
                {
                    "type": "Feature",
                    "id": "c1",
                    "geometry": {"type": "Point", "coordinates": [121.4, 31.2]},
                    "properties": {},
                }
            ],
        },
        {
            "layer": "components",
            "features": [
                {
                    "type": "Feature",
                    "id": "",
                    "geometry": {"type": "Point", "coordinates": [121.4, 31.2]},
                    "properties": {"kind": "hydrant"},
                }
            ],
        },
    ],
    ids=[
        "layer-unknown",
        "features-object",
        "no-geometry",
        "lon-181",
        "lon-string",
        "wrong-geometry",
        "no-kind",
        "empty-id",
    ],
)
def test_twin_upsert_with_bad_features_is_422(api: Any, hub: Any, body: Any) -> None:
    admin = api.login("admin")
    before = state(hub)
    assert_error(api.post(TWIN, headers=admin, json=body), 422)
    assert state(hub) == before


def test_twin_upsert_by_a_dispatcher_is_403(api: Any, hub: Any, office: dict) -> None:
    body = {
        "layer": "components",
        "features": [
            {
                "type": "Feature",
                "id": "c1",
                "geometry": {"type": "Point", "coordinates": [121.4, 31.2]},
                "properties": {"kind": "hydrant"},
            }
        ],
    }
    before = state(hub)
    assert_error(api.post(TWIN, headers=office, json=body), 403, "forbidden")
    assert state(hub) == before


@pytest.mark.parametrize(
    "coordinate",
    [
        pytest.param(
            "1" + "0" * 400,
            id="400-digit-int",
        ),
        pytest.param("NaN", id="nan"),
        pytest.param("1e400", id="1e400"),
    ],
)
def test_twin_upsert_with_an_unrepresentable_coordinate_is_422(
    api: Any, hub: Any, coordinate: str
) -> None:
    """Python's JSON reader takes these (the push's does not): they must still be refused."""
    admin = api.login("admin")
    body = (
        '{"layer": "components", "features": [{"type": "Feature", "id": "big", "geometry": '
        '{"type": "Point", "coordinates": [' + coordinate + ', 31.2]}, "properties": '
        '{"kind": "hydrant"}}]}'
    )
    before = state(hub)
    resp = api.post(TWIN, headers={**admin, "Content-Type": "application/json"}, content=body)
    assert_error(resp, 422, "invalid_payload")
    assert state(hub) == before
