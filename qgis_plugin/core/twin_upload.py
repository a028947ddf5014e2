"""Sending an office's own features to the hub as twin features (no Qt, no QGIS).

PROTOCOL.md: `POST /api/v1/twin/features` (admins) `{"layer", "features": [GeoJSON Feature]}`
upserts by `id`; the hub refuses a whole request when one feature in it is bad. So that a
refusal never leaves an import half done for a reason known beforehand, `check_feature()`
runs the hub's own checks here first (a text id of at most 128 characters, a non-empty kind,
a geometry of the layer's type with WGS 84 coordinates, plain-JSON properties) and
`find_bad()` adds the one check a request needs as a whole (no id twice). The caller sends
nothing while anything is bad.

`upload()` then sends the features in batches (the hub takes at most 10,000 per request),
reporting progress after each and stopping between batches when asked to. Upserts are
idempotent: an import stopped by a cancel, a lost connection or a hub refusal (an id the hub
already holds in another layer is the one thing only the hub knows) can simply be run again.
What was already sent is in the `UploadResult` of the exception or return value.

`TwinClient` is the plugin's `HubClient` with the twin calls the device client does not need.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from sync import geo
from sync.client import HubClient, HubError

LAYER_GEOMETRIES = {
    "components": ("Point",),
    "pipelines": ("LineString", "MultiLineString"),
    "areas": ("Polygon", "MultiPolygon"),
}
# What a layer of each QGIS/GeoJSON geometry family goes into when no layer is chosen.
LAYER_OF_GEOMETRY = {
    "Point": "components",
    "LineString": "pipelines",
    "MultiLineString": "pipelines",
    "Polygon": "areas",
    "MultiPolygon": "areas",
}
MAX_ID = 128
MAX_BATCH = 10_000  # the hub's limit per request
DEFAULT_BATCH = 500
DEVICE_ID = "qgis-processing-twin-import"


@dataclass
class BadFeature:
    """A source feature that cannot be sent, and why."""

    ref: str  # how the person finds it in their layer (its QGIS feature id)
    twin_id: Optional[str]  # the id it would have had on the hub, when it has one
    reason: str

    def text(self) -> str:
        if self.twin_id:
            return f"feature {self.ref} (id {self.twin_id!r}): {self.reason}"
        return f"feature {self.ref}: {self.reason}"


@dataclass
class UploadResult:
    """What the hub took so far."""

    layer: str
    total: int  # features to send
    sent: int = 0  # features the hub accepted
    batches: int = 0  # requests the hub accepted
    inserted: int = 0
    updated: int = 0
    outside_grids: int = 0  # accepted, but in no grid (only admins see them)
    cancelled: bool = False
    sent_ids: List[str] = field(default_factory=list, repr=False)


class UploadFailed(Exception):
    """The hub refused a batch (or could not be reached); `result` says what it had taken
    before, `error` is the hub's `HubError`."""

    def __init__(self, error: HubError, result: UploadResult, batch: int, batches: int) -> None:
        done = (
            f"; the {result.sent} feature(s) of the batches before were imported"
            " (an import can be run again: features are updated by id)"
            if result.sent
            else "; nothing was imported"
        )
        super().__init__(f"the hub refused batch {batch} of {batches}: {error.message}{done}")
        self.error = error
        self.result = result


class NotAdmin(Exception):
    """The account may not change the twin layers."""


class TwinClient(HubClient):
    """A `HubClient` with the admin's twin calls."""

    @classmethod
    def from_client(cls, client: HubClient) -> TwinClient:
        """The same hub, token and HTTP session as `client`."""
        return cls(client.base_url, client.token, session=client.session, timeout=client.timeout)

    def upsert_twin(self, layer: str, features: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
        """`POST /api/v1/twin/features`; the hub's counts. Raises HubError when refused."""
        return dict(
            self._json("POST", "/api/v1/twin/features", json={"layer": layer, "features": features})
        )


def admin_client(url: str, username: str, password: str) -> TwinClient:
    """Logs in at `url`; raises NotAdmin (before anything is sent) unless the account is an
    admin, HubError/Offline when the hub refuses or cannot be reached."""
    client = TwinClient(url)
    user = client.login(username, password, DEVICE_ID)
    if user.get("role") != "admin":
        raise NotAdmin(
            f"{username} is a {user.get('role')}; only an admin account may import twin features"
        )
    return client


def check_feature(layer: str, feature: Dict[str, Any]) -> Optional[str]:
    """Why the hub would refuse this GeoJSON Feature for `layer`, or None when it is fine."""
    fid = feature.get("id")
    if not isinstance(fid, str) or not fid.strip():
        return "no id"
    if len(fid) > MAX_ID:
        return f"the id is longer than {MAX_ID} characters"
    props = feature.get("properties")
    if not isinstance(props, dict):
        return "properties must be an object"
    kind = props.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        return "no kind"
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or not geometry.get("type"):
        return "no geometry"
    allowed = LAYER_GEOMETRIES[layer]
    if geometry["type"] not in allowed:
        return f"a {geometry['type']}, but {layer} takes {' or '.join(allowed)}"
    try:
        geo.check_geometry(geometry)
    except ValueError as exc:
        return str(exc)
    try:
        json.dumps(props, allow_nan=False)
    except (TypeError, ValueError):
        return "an attribute value is not plain JSON (NaN, infinity or binary)"
    return None


def find_bad(
    layer: str, features: Sequence[Dict[str, Any]], refs: Sequence[str]
) -> List[BadFeature]:
    """Every feature the hub would refuse (`check_feature`) and every id used twice; `refs`
    names the features for people (same order)."""
    if layer not in LAYER_GEOMETRIES:
        raise ValueError(f"layer must be one of {', '.join(LAYER_GEOMETRIES)}")
    bad = []
    first: Dict[str, str] = {}
    for feature, ref in zip(features, refs):
        fid = feature.get("id") if isinstance(feature.get("id"), str) else None
        reason = check_feature(layer, feature)
        if reason is None and fid is not None:
            if fid in first:
                reason = f"the same id as feature {first[fid]}"
            else:
                first[fid] = ref
        if reason is not None:
            bad.append(BadFeature(ref, fid, reason))
    return bad


def upload(
    client: TwinClient,
    layer: str,
    features: Sequence[Dict[str, Any]],
    batch_size: int = DEFAULT_BATCH,
    progress: Optional[Callable[[int, int], None]] = None,
    should_stop: Optional[Callable[[], bool]] = None,
) -> UploadResult:
    """Sends `features` (checked with `find_bad` first) in batches of `batch_size`.

    `progress(sent, total)` after each accepted batch; `should_stop()` is asked before each
    batch, and a True ends the upload with `cancelled` set. Raises UploadFailed on the first
    refused batch (what came before stays imported; nothing after it is sent)."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"the batch size must be 1…{MAX_BATCH}")
    result = UploadResult(layer, len(features))
    batches = (len(features) + batch_size - 1) // batch_size
    for number, start in enumerate(range(0, len(features), batch_size), 1):
        if should_stop is not None and should_stop():
            result.cancelled = True
            break
        batch = list(features[start : start + batch_size])
        try:
            counts = client.upsert_twin(layer, batch)
        except HubError as exc:
            raise UploadFailed(exc, result, number, batches) from exc
        result.batches += 1
        result.sent += len(batch)
        result.sent_ids += [f["id"] for f in batch]
        result.inserted += int(counts.get("inserted", 0))
        result.updated += int(counts.get("updated", 0))
        result.outside_grids += int(counts.get("outside_grids", 0))
        if progress is not None:
            progress(result.sent, result.total)
    return result
