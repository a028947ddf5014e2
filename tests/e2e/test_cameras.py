"""Street cameras against a real hub on a loopback port (PROTOCOL.md "Street cameras").

Over HTTP: a detection dispatched to the grid's worker on duty and seen in that worker's
feed; repeats merged into one incident and one task; triage below the confidence
threshold; auto-close of a submitted camera task on `cleared`; reopen when seen again
after closing (and a new task once the reopen window has passed); keys (missing, wrong,
Open311, revoked: 401); a grid with no worker on duty (`queued`) and the least busy of two
on duty; outside every grid (422); `incidents/{id}` and its scope; every kind of bad input
refused with nothing changed. Also the settings file of `--camera-config` and the simulator
(`gridops simulate-cameras`) against the same hub.
"""

from __future__ import annotations

import base64
import io
import json
import math
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import HttpDevice, jpeg, op

CAMERA_KEY = "demo-camera-key"


class Device(HttpDevice):
    """A logged-in demo account over HTTP whose `pull` gives the task changes since the
    last pull, by task id."""

    def __init__(self, url: str, username: str) -> None:
        super().__init__(url, username)
        self.username = username
        self.pull()  # from here on, `pull` returns what changed since

    def pull(self) -> dict[str, dict[str, Any]]:  # type: ignore[override]
        return {c["id"]: c for c in super().pull() if c["entity"] == "task"}


def detect(url: str, key: str | None = CAMERA_KEY, **fields: Any) -> requests.Response:
    headers = {"X-Api-Key": key} if key is not None else {}
    return requests.post(f"{url}/api/v1/detections", json=fields, headers=headers, timeout=30)


def sighting(lon: float, lat: float, **over: Any) -> dict[str, Any]:
    body = {
        "camera_id": "cam-test-01",
        "kind": "litter",
        "lon": lon,
        "lat": lat,
        "confidence": 0.9,
        "detected_at": "2026-06-01T08:30:00+08:00",
    }
    body.update(over)
    return body


def accepted(resp: requests.Response, action: str) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["action"] == action, body
    return dict(body)


def snapshot(seed: int) -> tuple[str, str]:
    """(base64 of a real JPEG, its sha256)."""
    data, sha = jpeg(seed, (96, 64))
    return base64.b64encode(data).decode(), sha


def center(hub: Any, grid_code: str) -> tuple[float, float]:
    from sync import geo

    grid = hub.store.get_grid(grid_code)
    minx, miny, maxx, maxy = geo.bbox(grid["geometry"])
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    assert hub.store.locate(lon, lat) == (grid_code, grid["properties"]["street_code"])
    return lon, lat


def moved(lon: float, lat: float, east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    metres_per_degree = math.pi * 6_371_008.8 / 180
    return (
        lon + east_m / (metres_per_degree * math.cos(math.radians(lat))),
        lat + north_m / metres_per_degree,
    )


def counts(hub: Any) -> dict[str, int]:
    reader = hub.store.reader
    return {
        table: reader.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in ("detections", "incidents", "tasks", "photos", "changes", "ops")
    }


def submit(worker: Device, task_id: str, seed: int = 50) -> None:
    data, sha = jpeg(seed)
    worker.upload(data, sha)
    results = worker.push(
        op("task.start", task_id),
        op("task.submit", task_id, note="已清理", photos=[{"sha256": sha, "role": "after"}]),
    )
    assert [r["status"] for r in results] == ["applied", "applied"], results
    assert results[-1]["task"]["status"] == "submitted"


# ------------------------------------------------------------------- dispatch


def test_a_detection_is_dispatched_to_the_grids_worker_on_duty(live_hub: Any) -> None:
    hub, url = live_hub.hub, live_hub.url
    worker = Device(url, "jsl-worker-03")
    neighbour = Device(url, "jsl-worker-04")
    lon, lat = center(hub, "JSL-03")
    snap, sha = snapshot(1)

    answer = accepted(detect(url, **sighting(lon, lat, snapshot=snap)), "dispatched")
    assert uuid.UUID(answer["detection_id"]) and uuid.UUID(answer["incident_id"])

    seen = worker.pull()
    assert list(seen) == [answer["task_id"]]
    task = seen[answer["task_id"]]["data"]
    assert seen[answer["task_id"]]["op"] == "upsert"
    assert (task["status"], task["assignee_id"], task["source"]) == (
        "assigned",
        "jsl-worker-03",
        "camera",
    )
    assert (task["grid_code"], task["street_code"], task["kind"]) == ("JSL-03", "JSL", "litter")
    assert task["incident_id"] == answer["incident_id"]
    # The service level of litter: due two hours after creation.
    due = datetime.fromisoformat(task["due_at"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(task["created_at"].replace("Z", "+00:00"))
    assert due - created == timedelta(hours=2)
    assert [(p["sha256"], p["role"], p["uploaded_by"]) for p in task["photos"]] == [
        (sha, "evidence", "system")
    ]
    assert len(task["history"]) == 1
    created_entry = task["history"][0]
    assert (created_entry["type"], created_entry["actor_id"]) == ("task.create", "system")
    assert created_entry["payload"]["detection_id"] == answer["detection_id"]
    # The snapshot is the task audience's to fetch; the other grid's worker sees nothing.
    photo = worker.get(f"/photos/{sha}")
    assert photo.status_code == 200 and photo.content == base64.b64decode(snap)
    assert neighbour.pull() == {}
    assert neighbour.get(f"/photos/{sha}").status_code == 404
    assert neighbour.get(f"/tasks/{answer['task_id']}").status_code == 404


def test_no_worker_on_duty_queues_the_task_and_the_least_busy_on_duty_gets_it(
    live_hub: Any,
) -> None:
    hub, url = live_hub.hub, live_hub.url
    dispatcher = Device(url, "jsl-dispatcher")
    off = dispatcher.session.put(
        f"{url}/api/v1/users/jsl-worker-05/duty", json={"on_duty": False}, timeout=10
    )
    assert off.status_code == 200 and off.json() == {"on_duty": False}
    lon, lat = center(hub, "JSL-05")
    answer = accepted(detect(url, **sighting(lon, lat, kind="bike_parking")), "queued")
    task = dispatcher.get(f"/tasks/{answer['task_id']}").json()
    assert (task["status"], task["assignee_id"]) == ("open", None)
    # Bike parking: four hours.
    due = datetime.fromisoformat(task["due_at"].replace("Z", "+00:00"))
    assert due - datetime.fromisoformat(task["created_at"].replace("Z", "+00:00")) == timedelta(
        hours=4
    )

    # Two workers of JSL-06 on duty: the one with fewer tasks in hand gets it.
    from sync.server.auth import hash_password

    hub.store.add_user(
        user_id="jsl-worker-06b",
        username="jsl-worker-06b",
        display_name="新同事",
        role="worker",
        street_code="JSL",
        password_hash=hash_password("demo"),
        grid_codes=["JSL-06"],
        on_duty=True,
    )
    lon, lat = center(hub, "JSL-06")
    # The demo's worker of JSL-06 has a task in hand; the new one has none.
    given = op("task.create", kind="other", lon=lon, lat=lat, assignee_id="jsl-worker-06")
    assert dispatcher.push(given)[0]["status"] == "applied"
    answer = accepted(detect(url, **sighting(lon, lat, kind="waterlogging")), "dispatched")
    assert dispatcher.get(f"/tasks/{answer['task_id']}").json()["assignee_id"] == "jsl-worker-06b"


# ------------------------------------------------------------------- merge


def test_repeats_merge_into_one_incident_and_one_task(live_hub: Any) -> None:
    hub, url = live_hub.hub, live_hub.url
    dispatcher = Device(url, "jsl-dispatcher")
    lon, lat = center(hub, "JSL-07")
    snaps = [snapshot(10 + n) for n in range(3)]
    first = accepted(detect(url, **sighting(lon, lat, snapshot=snaps[0][0])), "dispatched")
    answers = [first]
    # Four repeats within 30 m, from the same camera and from a second one.
    for n, (east, camera) in enumerate(((3, "cam-test-01"), (-8, "cam-test-02"), (20, "cam-test-01"), (0, "cam-test-02"))):  # fmt: skip
        extra = {"snapshot": snaps[n][0]} if n in (1, 2) else {}
        answers.append(
            accepted(
                detect(url, **sighting(*moved(lon, lat, east, 5), camera_id=camera, **extra)),
                "merged",
            )
        )
    assert {a["task_id"] for a in answers} == {first["task_id"]}
    assert {a["incident_id"] for a in answers} == {first["incident_id"]}
    assert len({a["detection_id"] for a in answers}) == 5

    incident = dispatcher.get(f"/incidents/{first['incident_id']}").json()
    assert incident["count"] == 5
    assert incident["camera_ids"] == ["cam-test-01", "cam-test-02"]
    assert incident["snapshots"] == [snaps[0][1], snaps[1][1], snaps[2][1]]
    assert incident["task_id"] == first["task_id"]
    assert (incident["lon"], incident["lat"], incident["kind"]) == (lon, lat, "litter")
    assert incident["first_seen"] < incident["last_seen"]

    tasks = [t for t in dispatcher.get("/tasks").json() if t["incident_id"] == first["incident_id"]]
    assert len(tasks) == 1
    task = tasks[0]
    # Written into the history: the creation and the second camera's first sighting (with
    # its snapshot), not every repeat; the version moves only with the creation.
    assert [(h["type"], h["actor_id"]) for h in task["history"]] == [
        ("task.create", "system"),
        ("task.comment", "system"),
    ]
    assert task["history"][1]["payload"]["detection_id"] == answers[2]["detection_id"]
    assert task["version"] == 1
    assert [p["sha256"] for p in task["photos"]] == [snaps[0][1], snaps[1][1]]
    # Every snapshot of the incident can be fetched by the task's audience.
    worker = Device(url, "jsl-worker-07")
    for _, sha in snaps:
        assert worker.get(f"/photos/{sha}").status_code == 200

    # Another kind at the same place, and the same kind 60 m away: new incidents.
    other_kind = accepted(detect(url, **sighting(lon, lat, kind="illegal_drying")), "dispatched")
    far = accepted(detect(url, **sighting(*moved(lon, lat, 60))), "dispatched")
    assert len({first["task_id"], other_kind["task_id"], far["task_id"]}) == 3


def test_every_sighting_is_noted_when_the_interval_is_zero(live_hub: Any) -> None:
    hub, url = live_hub.hub, live_hub.url
    hub.settings.cameras.note_interval_min = 0
    lon, lat = center(hub, "JSL-08")
    first = accepted(detect(url, **sighting(lon, lat)), "dispatched")
    for _ in range(2):
        accepted(detect(url, **sighting(lon, lat)), "merged")
    task = Device(url, "jsl-dispatcher").get(f"/tasks/{first['task_id']}").json()
    assert [h["type"] for h in task["history"]] == ["task.create", "task.comment", "task.comment"]
    assert "第 3 次" in task["history"][-1]["payload"]["text"]


# ------------------------------------------------------------------- triage


def test_below_the_threshold_a_reported_task_for_triage(live_hub: Any) -> None:
    hub, url = live_hub.hub, live_hub.url
    dispatcher = Device(url, "jsl-dispatcher")
    worker = Device(url, "jsl-worker-09")
    lon, lat = center(hub, "JSL-09")
    answer = accepted(detect(url, **sighting(lon, lat, confidence=0.31)), "queued_for_triage")
    task = dispatcher.get(f"/tasks/{answer['task_id']}").json()
    assert (task["status"], task["assignee_id"], task["source"]) == ("reported", None, "camera")
    assert task["history"][0]["payload"]["triage"] is True
    assert worker.pull() == {}  # a reported task is the office's, not the grid's

    # A sure sighting of the same problem joins the incident: merge is checked first.
    accepted(detect(url, **sighting(lon, lat, confidence=0.95)), "merged")
    triaged = dispatcher.push(op("task.triage", answer["task_id"], decision="accept"))[0]
    assert (triaged["status"], triaged["task"]["status"]) == ("applied", "open")
    assert answer["task_id"] in worker.pull()

    # The threshold is a setting.
    hub.settings.cameras.confidence_threshold = 0.2
    lon2, lat2 = moved(lon, lat, 100)
    assert hub.store.locate(lon2, lat2) is not None
    accepted(detect(url, **sighting(lon2, lat2, kind="other", confidence=0.3)), "dispatched")


def test_no_one_may_file_a_task_for_triage_but_the_hub(live_hub: Any) -> None:
    lon, lat = center(live_hub.hub, "JSL-09")
    dispatcher = Device(live_hub.url, "jsl-dispatcher")
    result = dispatcher.push(op("task.create", kind="litter", lon=lon, lat=lat, triage=True))[0]
    assert (result["status"], result["code"]) == ("rejected", "forbidden")


# ------------------------------------------------------------------- auto-close and reopen


def test_cleared_closes_a_submitted_camera_task_and_a_new_sighting_reopens_it(
    live_hub: Any,
) -> None:
    hub, url = live_hub.hub, live_hub.url
    worker = Device(url, "jsl-worker-10")
    supervisor = Device(url, "jsl-supervisor")
    lon, lat = center(hub, "JSL-10")
    first = accepted(detect(url, **sighting(lon, lat)), "dispatched")
    task_id = first["task_id"]

    # Gone before anyone reported a fix: only noted.
    noted = accepted(detect(url, **sighting(lon, lat, cleared=True)), "noted")
    assert (noted["incident_id"], noted["task_id"]) == (first["incident_id"], task_id)
    assert supervisor.get(f"/tasks/{task_id}").json()["status"] == "assigned"

    submit(worker, task_id)
    # A doubtful clear does not close it either.
    accepted(detect(url, **sighting(lon, lat, cleared=True, confidence=0.3)), "noted")
    assert supervisor.get(f"/tasks/{task_id}").json()["status"] == "submitted"

    snap, sha = snapshot(30)
    closed = accepted(
        detect(
            url,
            **sighting(*moved(lon, lat, 10), camera_id="cam-other", cleared=True, snapshot=snap),
        ),
        "closed",
    )
    assert (closed["task_id"], closed["incident_id"]) == (task_id, first["incident_id"])
    task = worker.pull()[task_id]["data"]
    assert task["status"] == "closed"
    confirm = task["history"][-1]
    assert (confirm["type"], confirm["actor_id"]) == ("task.confirm", "system")
    assert confirm["payload"]["detection_id"] == closed["detection_id"]
    assert sha in [p["sha256"] for p in task["photos"] if p["role"] == "evidence"]
    # Clears are not sightings.
    assert supervisor.get(f"/incidents/{first['incident_id']}").json()["count"] == 1

    # Seen again soon after: the same task, reopened and dispatched again.
    again = accepted(detect(url, **sighting(lon, lat, camera_id="cam-test-02")), "reopened")
    assert (again["task_id"], again["incident_id"]) == (task_id, first["incident_id"])
    task = worker.pull()[task_id]["data"]
    assert (task["status"], task["assignee_id"]) == ("assigned", "jsl-worker-10")
    assert [(h["type"], h["actor_id"]) for h in task["history"][-3:]] == [
        ("task.reopen", "system"),
        ("task.update", "system"),
        ("task.assign", "system"),
    ]
    assert {h["payload"]["detection_id"] for h in task["history"][-3:]} == {again["detection_id"]}
    assert task["due_at"] > task["history"][-3]["server_at"]
    incident = supervisor.get(f"/incidents/{first['incident_id']}").json()
    assert incident["count"] == 2 and incident["camera_ids"] == ["cam-test-01", "cam-test-02"]


def test_after_the_reopen_window_a_new_task_is_made(live_hub: Any) -> None:
    hub, url = live_hub.hub, live_hub.url
    worker = Device(url, "jsl-worker-11")
    lon, lat = center(hub, "JSL-11")
    first = accepted(detect(url, **sighting(lon, lat, kind="manhole_damaged")), "dispatched")
    submit(worker, first["task_id"])
    accepted(detect(url, **sighting(lon, lat, kind="manhole_damaged", cleared=True)), "closed")
    hub.settings.cameras.reopen_window_h = 0
    later = accepted(detect(url, **sighting(lon, lat, kind="manhole_damaged")), "dispatched")
    assert later["task_id"] != first["task_id"]
    assert later["incident_id"] != first["incident_id"]
    # The old incident left the index: it can never match again.
    (left,) = hub.store.reader.execute(
        "SELECT COUNT(*) FROM incidents_rtree r JOIN incidents i ON i.rid = r.id WHERE i.id = ?",
        (first["incident_id"],),
    ).fetchone()
    assert left == 0


# ------------------------------------------------------------------- keys and places


def test_missing_wrong_open311_and_revoked_keys_are_refused(live_hub: Any) -> None:
    from sync.server.auth import secret_hash

    hub, url = live_hub.hub, live_hub.url
    hub.store.add_api_key(secret_hash("old-camera-key"), "old-camera", "camera")
    assert hub.store.revoke_api_key("old-camera") == 1
    body = sighting(*center(hub, "JSL-01"))
    before = counts(hub)
    for key in (None, "", "not-a-key", "demo-open311-key", "old-camera-key"):
        resp = detect(url, key=key, **body)
        assert resp.status_code == 401, (key, resp.text)
        assert resp.json()["error"]["code"] == "unauthorized"
    # A bearer token is not a camera key either.
    token = Device(url, "admin").session.headers["Authorization"]
    resp = requests.post(
        f"{url}/api/v1/detections", json=body, headers={"Authorization": token}, timeout=10
    )
    assert resp.status_code == 401
    assert counts(hub) == before


def test_a_point_in_no_grid_is_refused(live_hub: Any) -> None:
    hub, url = live_hub.hub, live_hub.url
    before = counts(hub)
    snap, sha = snapshot(40)
    for lon, lat in ((121.0, 30.0), (0.0, 0.0), (121.49, 31.21)):  # between the two streets
        assert hub.store.locate(lon, lat) is None
        resp = detect(url, **sighting(lon, lat, snapshot=snap))
        assert resp.status_code == 422, resp.text
        assert resp.json()["error"]["code"] == "outside_grids"
    assert counts(hub) == before
    assert not hub.photos.path(sha).exists()


# ------------------------------------------------------------------- incidents


def test_the_incident_endpoint_answers_within_the_tasks_scope(live_hub: Any) -> None:
    hub, url = live_hub.hub, live_hub.url
    lon, lat = center(hub, "JSL-12")
    first = accepted(detect(url, **sighting(lon, lat)), "dispatched")
    path = f"/incidents/{first['incident_id']}"
    for username in ("jsl-dispatcher", "jsl-supervisor", "jsl-worker-12", "admin"):
        resp = Device(url, username).get(path)
        assert resp.status_code == 200, (username, resp.text)
        assert set(resp.json()) == {
            "id",
            "kind",
            "lon",
            "lat",
            "count",
            "first_seen",
            "last_seen",
            "task_id",
            "camera_ids",
            "snapshots",
        }
    for username in ("hm-dispatcher", "hm-supervisor", "jsl-worker-11", "hm-worker-12"):
        resp = Device(url, username).get(path)
        assert resp.status_code == 404, (username, resp.text)
        assert resp.json()["error"]["code"] == "not_found"
    dispatcher = Device(url, "jsl-dispatcher")
    for bad in (str(uuid.uuid4()), "not-a-uuid", first["task_id"]):
        assert dispatcher.get(f"/incidents/{bad}").status_code == 404
    assert requests.get(f"{url}/api/v1{path}", timeout=10).status_code == 401


# ------------------------------------------------------------------- bad input


def _png_base64() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _jpeg_claiming(width: int, height: int) -> str:
    """A real JPEG whose header claims another size (a decompression bomb's header)."""
    data = bytearray(jpeg(3, (16, 16))[0])
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return base64.b64encode(bytes(data)).decode()


BAD_FIELDS: list[tuple[str, dict[str, Any], int, str]] = [
    ("no camera", {"camera_id": None}, 422, "invalid_payload"),
    ("empty camera", {"camera_id": "  "}, 422, "invalid_payload"),
    ("camera with a newline", {"camera_id": "cam\n1"}, 422, "invalid_payload"),
    ("camera too long", {"camera_id": "c" * 129}, 422, "invalid_payload"),
    ("camera a number", {"camera_id": 17}, 422, "invalid_payload"),
    ("unknown kind", {"kind": "graffiti"}, 422, "invalid_payload"),
    ("no kind", {"kind": None}, 422, "invalid_payload"),
    ("lon out of range", {"lon": 181.0}, 422, "invalid_payload"),
    ("lat out of range", {"lat": -90.5}, 422, "invalid_payload"),
    ("lon a string", {"lon": "121.4"}, 422, "invalid_payload"),
    ("lat true", {"lat": True}, 422, "invalid_payload"),
    ("confidence above 1", {"confidence": 1.5}, 422, "invalid_payload"),
    ("confidence below 0", {"confidence": -0.1}, 422, "invalid_payload"),
    ("confidence a word", {"confidence": "high"}, 422, "invalid_payload"),
    ("confidence true", {"confidence": True}, 422, "invalid_payload"),
    ("no detected_at", {"detected_at": None}, 422, "invalid_payload"),
    ("detected_at a word", {"detected_at": "yesterday"}, 422, "invalid_payload"),
    ("detected_at without zone", {"detected_at": "2026-06-01T08:30:00"}, 422, "invalid_payload"),
    ("detected_at a number", {"detected_at": 1780000000}, 422, "invalid_payload"),
    ("cleared a word", {"cleared": "yes"}, 422, "invalid_payload"),
    ("snapshot a number", {"snapshot": 5}, 422, "invalid_payload"),
    ("snapshot empty", {"snapshot": ""}, 422, "invalid_payload"),
    ("snapshot not base64", {"snapshot": "not base64 at all!"}, 422, "invalid_payload"),
    ("snapshot a PNG", {"snapshot": _png_base64()}, 415, "not_an_image"),
    ("snapshot text", {"snapshot": base64.b64encode(b"hello").decode()}, 415, "not_an_image"),
    (
        "snapshot a cut JPEG",
        {"snapshot": base64.b64encode(jpeg(4)[0][:200]).decode()},
        415,
        "not_an_image",
    ),
    ("snapshot a bomb", {"snapshot": _jpeg_claiming(20000, 20000)}, 413, "too_large"),
]


@pytest.mark.parametrize("fields, status, code", [c[1:] for c in BAD_FIELDS], ids=[c[0] for c in BAD_FIELDS])  # fmt: skip
def test_bad_fields_are_refused_and_change_nothing(
    live_hub: Any, fields: dict[str, Any], status: int, code: str
) -> None:
    hub, url = live_hub.hub, live_hub.url
    body = {**sighting(*center(hub, "JSL-02")), **fields}
    body = {k: v for k, v in body.items() if v is not None}
    before = counts(hub)
    files = sorted(p.name for p in hub.photos.root.rglob("*") if p.is_file())
    resp = detect(url, **body)
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] == code and error["message"]
    assert counts(hub) == before
    assert sorted(p.name for p in hub.photos.root.rglob("*") if p.is_file()) == files


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"not json", 400),
        (b'{"camera_id": "c", "confidence": NaN}', 400),
        (b"[1, 2, 3]", 422),
        (b'"a detection"', 422),
        (b"", 400),
    ],
    ids=["not json", "NaN", "a list", "a string", "empty"],
)
def test_bodies_that_are_not_a_detection_are_refused(
    live_hub: Any, raw: bytes, status: int
) -> None:
    hub, url = live_hub.hub, live_hub.url
    before = counts(hub)
    resp = requests.post(
        f"{url}/api/v1/detections",
        data=raw,
        headers={"X-Api-Key": CAMERA_KEY, "Content-Type": "application/json"},
        timeout=10,
    )
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] in ("invalid_json", "invalid_payload")
    assert counts(hub) == before


def test_a_huge_body_is_refused(live_hub: Any) -> None:
    hub, url = live_hub.hub, live_hub.url
    hub.settings.max_body_bytes = 300_000
    before = counts(hub)
    body = sighting(*center(hub, "JSL-02"), snapshot="A" * 400_000)
    resp = detect(url, **body)
    assert resp.status_code == 413, resp.text
    assert resp.json()["error"]["code"] == "too_large"
    assert counts(hub) == before


def test_fields_beyond_the_protocol_are_kept_with_the_detection(live_hub: Any) -> None:
    hub, url = live_hub.hub, live_hub.url
    extra = {"bbox": [10, 20, 64, 48], "track_id": 4711, "model": "yolo-street-v3"}
    answer = accepted(detect(url, **sighting(*center(hub, "JSL-04"), **extra)), "dispatched")
    row = hub.store.reader.execute(
        "SELECT key_name, camera_id, action, extra FROM detections WHERE id = ?",
        (answer["detection_id"],),
    ).fetchone()
    assert (row[0], row[1], row[2]) == ("demo-camera", "cam-test-01", "dispatched")
    assert json.loads(row[3]) == extra


def test_any_body_gets_an_answer_not_a_server_error(live_hub: Any) -> None:
    """Property-based: bodies mixing good values with JSON of every type, with the demo
    camera key (the OpenAPI fuzz run has no camera key, so it stops at 401). Every answer
    is 200 or a refusal with the error body, and a refusal changes nothing."""
    from datetime import timezone

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    hub, url = live_hub.hub, live_hub.url
    lon0, lat0 = center(hub, "JSL-01")
    good_jpeg = snapshot(60)[0]
    anything = st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
        max_leaves=4,
    )
    good = {
        "camera_id": st.text(
            st.characters(min_codepoint=33, max_codepoint=0x9FFF, exclude_categories=["Cs"]),
            min_size=1,
            max_size=40,
        ),
        "kind": st.sampled_from(["litter", "bike_parking", "waterlogging", "other"]),
        "lon": st.floats(lon0 - 0.0005, lon0 + 0.0005),
        "lat": st.floats(lat0 - 0.0005, lat0 + 0.0005),
        "confidence": st.floats(0, 1),
        "detected_at": st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat()),
        "snapshot": st.just(good_jpeg),
        "cleared": st.booleans(),
    }
    bad = {
        "camera_id": st.just("") | st.text(min_size=129, max_size=140),
        "kind": st.sampled_from(["Litter", "graffiti", ""]),
        "lon": st.floats(-200, 200),
        "lat": st.floats(-100, 100),
        "confidence": st.floats(-0.5, 1.5),
        "detected_at": st.text(max_size=30),
        "snapshot": st.sampled_from([_png_base64(), "%%%", good_jpeg[:40]]),
        "cleared": st.sampled_from(["yes", 1]),
    }

    required = ("camera_id", "kind", "lon", "lat", "confidence", "detected_at")
    drop = object()
    # A good detection, then none, one or two changes: a field made bad, made any JSON at
    # all, or left out; and now and then a field of the camera's own.
    change = st.sampled_from(sorted(good)).flatmap(
        lambda name: st.tuples(st.just(name), bad[name] | anything | st.just(drop))
    )
    bodies = st.tuples(
        st.fixed_dictionaries(
            {name: good[name] for name in required},
            optional={"snapshot": good["snapshot"], "cleared": good["cleared"]},
        ),
        st.lists(change, max_size=2),
        st.none() | st.dictionaries(st.sampled_from(["bbox", "track_id"]), anything),
    ).map(
        lambda parts: {
            **{k: v for k, v in {**parts[0], **dict(parts[1])}.items() if v is not drop},
            **(parts[2] or {}),
        }
    )
    session = requests.Session()
    session.headers["X-Api-Key"] = CAMERA_KEY
    answered: dict[int, int] = {}

    @given(body=bodies)
    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(body: dict[str, Any]) -> None:
        before = counts(hub)
        resp = session.post(f"{url}/api/v1/detections", json=body, timeout=30)
        answered[resp.status_code] = answered.get(resp.status_code, 0) + 1
        assert resp.status_code in (200, 413, 415, 422), (body, resp.text)
        if resp.status_code == 200:
            assert resp.json()["action"] in ("dispatched", "merged", "queued_for_triage", "noted")
            assert counts(hub)["detections"] == before["detections"] + 1
        else:
            error = resp.json()["error"]
            assert error["code"] in ("invalid_payload", "outside_grids", "not_an_image")
            assert error["message"]
            assert counts(hub) == before

    run()
    assert answered.get(200, 0) > 0 and answered.get(422, 0) > 0, answered


# ------------------------------------------------------------------- settings and simulator


def test_camera_settings_from_a_file(tmp_path: Path) -> None:
    from sync import cli
    from sync.store.incidents import CameraSettings

    good = tmp_path / "cameras.json"
    good.write_text(
        json.dumps(
            {
                "confidence_threshold": 0.6,
                "merge_radius_m": 25,
                "reopen_window_h": 12,
                "service_levels_h": {"litter": 1.5},
            }
        )
    )
    settings = CameraSettings.load(good)
    assert (settings.confidence_threshold, settings.merge_radius_m) == (0.6, 25.0)
    assert settings.reopen_window_h == 12.0
    assert settings.service_levels_h["litter"] == 1.5
    assert settings.service_levels_h["waterlogging"] == 1.0  # the default kept
    for content, message in (
        ('{"confidence_threshold": 2}', "within 0..1"),
        ('{"merge_radius": 30}', "unknown camera setting 'merge_radius'"),
        ('{"service_levels_h": {"graffiti": 2}}', "unknown kind 'graffiti'"),
        ('{"service_levels_h": {"litter": "soon"}}', "must be a number"),
        ("[1]", "JSON object"),
        ("{", "not JSON"),
    ):
        bad = tmp_path / "bad.json"
        bad.write_text(content)
        with pytest.raises(ValueError, match=message):
            CameraSettings.load(bad)
    # `gridops serve` refuses a bad file before serving anything.
    assert cli.main(["serve", "--data", str(tmp_path / "hub"), "--camera-config", str(bad)]) == 2
    assert not (tmp_path / "hub").exists()


def test_the_simulator_sends_bursts_repeats_and_clears(live_hub: Any) -> None:
    from sync import simulate_cameras

    summary = simulate_cameras.run(
        live_hub.url, CAMERA_KEY, rate=40, duration_s=4, street="HM", speed=60, senders=2
    )
    assert summary.sent > 60 and summary.accepted > 60, summary.text()
    assert set(summary.statuses) <= {200, 422}, summary.text()
    assert summary.actions["dispatched"] > 0 and summary.actions["merged"] > 0, summary.text()
    assert summary.actions["noted"] > 0, summary.text()  # clears of problems no one fixed
    rows = live_hub.hub.store.reader.execute(
        "SELECT DISTINCT street_code FROM incidents"
    ).fetchall()
    assert [r[0] for r in rows] == ["HM"]
    text = summary.text()
    assert "accepted" in text and "merged" in text


def test_the_simulate_cameras_command_prints_a_summary(
    live_hub: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from sync import cli

    args = ["simulate-cameras", "--server", live_hub.url, "--key", CAMERA_KEY]
    assert cli.main([*args, "--rate", "20", "--duration", "2", "--street", "JSL"]) == 0
    out = capsys.readouterr().out
    assert "detections/s for 2 s in street JSL" in out
    assert "answers: 200 ×" in out and "actions: " in out and "dispatched" in out
    # A wrong key: every detection refused, said so, and a failing exit status.
    assert cli.main([*args[:3], "--key", "wrong", "--rate", "10", "--duration", "1"]) == 1
    assert "401" in capsys.readouterr().out
    assert cli.main([*args, "--rate", "10", "--street", "XYZ"]) == 2
    assert "no grids of street 'XYZ'" in capsys.readouterr().err


# ------------------------------------------------------------------- the system actor


def test_the_system_actors_id_cannot_be_given_to_a_user(hub: Any) -> None:
    """Camera tasks carry `system` as their reporter: a user of that id would see them all."""
    from sync.server.auth import hash_password

    with pytest.raises(ValueError, match="reserved"):
        hub.store.add_user(
            user_id="system",
            username="system",
            display_name="冒名",
            role="worker",
            street_code="JSL",
            password_hash=hash_password("x"),
        )
