"""Street cameras' routes (PROTOCOL.md "Street cameras"): detections in, incidents out.

- `POST /api/v1/detections` takes an `X-Api-Key` of purpose `camera` (none, an unknown, a
  revoked or an Open311 key: 401). Every field is checked here before anything is
  written (422 `invalid_payload` naming the field); the snapshot, base64 JPEG, is checked
  like an uploaded photo (`sync.server.photos`: 413 `too_large`, 415 `not_an_image`,
  decompression bombs refused) and stored under its hash before the store records the
  detection in one transaction (`sync.store.incidents`). A point in no grid is 422
  `outside_grids` and leaves nothing behind.
- `GET /api/v1/incidents/{id}` (bearer token) answers only if the caller may see the
  incident's task, else 404 as if it did not exist.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any, Literal, Optional

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from .. import model
from ..store.incidents import Detection, DetectionRefused, Snapshot
from . import photos as photo_files
from .app import ERROR_RESPONSES, Caller, caller, hub_of, json_response, read_json
from .auth import secret_hash
from .errors import ApiError
from .hub import Hub

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)

FIELDS = ("camera_id", "kind", "lon", "lat", "confidence", "detected_at", "snapshot", "cleared")
REQUIRED = ("camera_id", "kind", "lon", "lat", "confidence", "detected_at")
MAX_CAMERA_ID = 128
_JPEG_MAGIC = b"\xff\xd8\xff"
# A 16×12 JPEG: the OpenAPI examples carry a real snapshot.
_EXAMPLE_SNAPSHOT = (
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERX"
    "RTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAMABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAEC"
    "AwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2Jy"
    "ggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWW"
    "l5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEA"
    "AwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMi"
    "MoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0"
    "dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn"
    "6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwBlFFFc4j//2Q=="
)
# In the demo district (grid JSL-01), so that the examples are accepted by `gridops demo`.
_EXAMPLE = {
    "camera_id": "cam-jsl-yuyuan-01",
    "kind": "litter",
    "lon": 121.4232,
    "lat": 31.2221,
    "confidence": 0.87,
    "detected_at": "2026-06-01T08:30:00+08:00",
}


class DetectionRequest(BaseModel):
    """One detection (PROTOCOL.md "Street cameras"); other fields are kept as sent."""

    model_config = ConfigDict(extra="allow")
    camera_id: str = Field(min_length=1, max_length=MAX_CAMERA_ID, description="the camera's id")
    kind: Literal[
        "litter",
        "bike_parking",
        "illegal_drying",
        "waterlogging",
        "streetlight_out",
        "manhole_damaged",
        "other",
    ] = Field(description="a service code (task kind)")
    lon: float = Field(ge=-180, le=180, description="WGS 84 longitude of the problem")
    lat: float = Field(ge=-90, le=90, description="WGS 84 latitude of the problem")
    confidence: float = Field(ge=0, le=1, description="the model's confidence, 0..1")
    detected_at: str = Field(description="ISO 8601 with a zone (the camera's clock)")
    snapshot: Optional[str] = Field(None, description="base64 JPEG (at most 20 MB decoded)")
    cleared: bool = Field(False, description="the problem seen before is gone")


class DetectionResponse(BaseModel):
    detection_id: str = Field(description="the hub's id of this detection")
    incident_id: Optional[str] = Field(description="the incident it made or joined, if any")
    task_id: Optional[str] = Field(description="the incident's task, if any")
    action: Literal[
        "dispatched", "queued", "reopened", "merged", "queued_for_triage", "closed", "noted"
    ]


class IncidentResponse(BaseModel):
    id: str
    kind: str
    lon: float
    lat: float
    count: int = Field(description="sightings (clears not counted)")
    first_seen: str = Field(description="the hub's clock")
    last_seen: str = Field(description="the hub's clock")
    task_id: str
    camera_ids: list[str]
    snapshots: list[str] = Field(description="the sightings' photo hashes, oldest first")


def _detection_body_doc() -> dict[str, Any]:
    schema = DetectionRequest.model_json_schema()
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": schema,
                "examples": {
                    "sighting": {"value": {**_EXAMPLE, "snapshot": _EXAMPLE_SNAPSHOT}},
                    "repeat": {"value": {**_EXAMPLE, "camera_id": "cam-jsl-yuyuan-02"}},
                    "uncertain": {"value": {**_EXAMPLE, "kind": "other", "confidence": 0.31}},
                    "cleared": {"value": {**_EXAMPLE, "cleared": True, "confidence": 0.93}},
                },
            }
        },
    }


# ------------------------------------------------------------------- checks


def _refuse(message: str) -> ApiError:
    return ApiError(422, "invalid_payload", message)


def check_detection(body: Any) -> tuple[Detection, str | None]:
    """The detection and its base64 snapshot (or None); ApiError 422 naming the first bad
    field. Fields beyond PROTOCOL.md's are kept in `Detection.extra`."""
    if not isinstance(body, dict):
        raise _refuse("the body must be a JSON object with " + ", ".join(REQUIRED))
    missing = [name for name in REQUIRED if body.get(name) is None]
    if missing:
        raise _refuse("missing: " + ", ".join(missing))
    camera_id = body["camera_id"]
    if (
        not isinstance(camera_id, str)
        or not camera_id.strip()
        or len(camera_id) > MAX_CAMERA_ID
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in camera_id)
    ):
        raise _refuse(f"camera_id must be a printable text of 1..{MAX_CAMERA_ID} characters")
    kind = body["kind"]
    if not isinstance(kind, str) or kind not in model.KINDS:
        raise _refuse(f"kind must be one of {', '.join(model.KINDS)}")
    try:
        lon, lat = model.check_lon_lat(body["lon"], body["lat"])
    except model.OpError as err:
        raise _refuse(err.message) from None
    confidence = body["confidence"]
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, (int, float))
        or not 0 <= confidence <= 1  # NaN fails this too
    ):
        raise _refuse("confidence must be a number within 0..1")
    detected_at = body["detected_at"]
    if model.parse_time(detected_at) is None:
        raise _refuse("detected_at must be an ISO 8601 time with a zone")
    cleared = body.get("cleared")
    if cleared is None:
        cleared = False
    elif not isinstance(cleared, bool):
        raise _refuse("cleared must be true or false")
    snapshot = body.get("snapshot")
    if snapshot is not None and (not isinstance(snapshot, str) or not snapshot.strip()):
        raise _refuse("snapshot must be a base64 JPEG")
    detection = Detection(
        camera_id=camera_id,
        kind=kind,
        lon=lon,
        lat=lat,
        confidence=float(confidence),
        detected_at=detected_at,
        cleared=cleared,
        extra={k: v for k, v in body.items() if k not in FIELDS},
    )
    return detection, snapshot


def decode_snapshot(text: str) -> bytes:
    """The JPEG bytes of a base64 snapshot: 422 not base64, 413 past 20 MB, 415 not a
    JPEG. (Pillow's full check runs when it is stored.)"""
    if len(text) > photo_files.MAX_BYTES // 3 * 4 + 1024:
        raise ApiError(413, "too_large", "a snapshot may be at most 20 MB")
    try:
        # Line breaks (MIME base64) are allowed; anything else outside the alphabet is not.
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _refuse("snapshot is not valid base64") from None
    if len(data) > photo_files.MAX_BYTES:
        raise ApiError(413, "too_large", "a snapshot may be at most 20 MB")
    if not data.startswith(_JPEG_MAGIC):
        raise ApiError(415, "not_an_image", "the snapshot must be a JPEG")
    return data


def store_snapshot(hub: Hub, data: bytes) -> Snapshot:
    """Checks the JPEG as an uploaded photo is checked and puts it under its hash (the
    store records it with the detection). ApiError 413/415 with nothing stored."""
    sha = hashlib.sha256(data).hexdigest()
    stored = hub.photos.put(sha, data, None)
    if stored.status == 201:
        return Snapshot(sha, stored.offset, stored.width, stored.height, stored.content_type)
    record = hub.store.photo_record(sha)
    if record is not None:
        return Snapshot(
            sha, record["size"], record["width"], record["height"], record["content_type"]
        )
    content_type, width, height = photo_files.inspect_image(data)
    return Snapshot(sha, len(data), width, height, content_type)


def _camera_key(hub: Hub, key: str | None) -> str:
    """The name of a live camera key, else 401: none, unknown, revoked, or a key of another
    purpose (PROTOCOL.md: "a missing or wrong key → 401"; the answer does not tell a live
    Open311 key from a made-up one)."""
    found = hub.store.camera_key(secret_hash(key)) if key else None
    if found is None or found[1] != "camera":
        raise ApiError(
            401,
            "unauthorized",
            "send a live camera key in X-Api-Key" if key else "X-Api-Key is missing",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    return found[0]


def _record(hub: Hub, det: Detection, key_name: str, snapshot_text: str | None) -> dict:
    data = decode_snapshot(snapshot_text) if snapshot_text is not None else None
    if hub.store.locate(det.lon, det.lat) is None:
        raise ApiError(422, "outside_grids", "the point is in no grid")
    snapshot = store_snapshot(hub, data) if data is not None else None
    try:
        return hub.store.record_detection(det, key_name, hub.settings.cameras, snapshot)
    except DetectionRefused as err:
        raise ApiError(422, err.code, err.message) from None


# ------------------------------------------------------------------- routes


@router.post(
    "/detections",
    tags=["cameras"],
    response_model=DetectionResponse,
    openapi_extra={"requestBody": _detection_body_doc()},
)
async def post_detection(
    request: Request,
    x_api_key: Optional[str] = Header(
        None,
        alias="X-Api-Key",
        description="a camera key (`gridops keys add --purpose camera`)",
        examples=["demo-camera-key"],
    ),
) -> Response:
    """A camera's detection: dispatched, queued, merged, queued for triage, closed,
    reopened or noted (PROTOCOL.md "Street cameras")."""
    hub = hub_of(request)
    key_name = _camera_key(hub, x_api_key)  # one indexed read: not worth a thread hop
    body = await read_json(request, hub.settings.max_body_bytes)
    detection, snapshot_text = check_detection(body)
    result = await run_in_threadpool(_record, hub, detection, key_name, snapshot_text)
    return json_response(result)


@router.get("/incidents/{incident_id}", tags=["cameras"], response_model=IncidentResponse)
def get_incident(incident_id: str, request: Request, who: Caller = Depends(caller)) -> Response:
    """An incident, if the caller may see its task (else 404, as if it did not exist)."""
    store = hub_of(request).store
    incident = store.get_incident(incident_id) if model.is_uuid(incident_id) else None
    task = store.get_task(incident["task_id"]) if incident else None
    if incident is None or task is None or not model.can_see_task(who.actor, task):
        raise ApiError(404, "not_found", "no such incident")
    return json_response(incident)
