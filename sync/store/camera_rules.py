"""What a street camera sends and how the hub treats it, without the store: the answers
(`ACTIONS`), the task titles by kind, `CameraSettings` (confidence threshold, merge radius,
reopen window, service levels per kind; `gridops serve --camera-config FILE.json`) and the
checked inputs `Detection` and `Snapshot`. `sync.store.incidents` applies them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import model

ACTIONS = ("dispatched", "queued", "reopened", "merged", "queued_for_triage", "closed", "noted")
# Task titles by kind: the street office reads Chinese.
KIND_NAMES = {
    "litter": "路面垃圾",
    "bike_parking": "非机动车乱停放",
    "illegal_drying": "沿街晾晒",
    "waterlogging": "道路积水",
    "streetlight_out": "路灯不亮",
    "manhole_damaged": "井盖破损",
    "other": "其他问题",
}
DEFAULT_SERVICE_LEVELS_H = {
    "litter": 2.0,
    "bike_parking": 4.0,
    "illegal_drying": 8.0,
    "waterlogging": 1.0,
    "streetlight_out": 24.0,
    "manhole_damaged": 2.0,
    "other": 24.0,
}


@dataclass
class CameraSettings:
    """How the hub treats detections (PROTOCOL.md's defaults); `gridops serve
    --camera-config FILE.json` sets any of them."""

    confidence_threshold: float = 0.5  # below: a `reported` task for triage
    merge_radius_m: float = 30.0  # same kind this close to an active incident: merged
    reopen_window_h: float = 24.0  # seen again this soon after its task closed: reopened
    # Due time after creation, per kind (hours); kinds not given keep these defaults.
    service_levels_h: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_SERVICE_LEVELS_H)
    )
    # A repeated sighting is written into the task's history at most this often (minutes),
    # unless a camera sees the problem for the first time.
    note_interval_min: float = 10.0

    @classmethod
    def from_mapping(cls, data: Any) -> CameraSettings:
        """Settings from a JSON object; ValueError naming the first bad or unknown key."""
        if not isinstance(data, dict):
            raise ValueError("camera settings must be a JSON object")
        known = {"confidence_threshold", "merge_radius_m", "reopen_window_h"}
        known |= {"service_levels_h", "note_interval_min"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown camera setting {unknown[0]!r}; known: {sorted(known)}")
        out = cls()
        limits = {
            "confidence_threshold": (0.0, 1.0),
            "merge_radius_m": (0.1, 1000.0),
            "reopen_window_h": (0.0, 24.0 * 365),
            "note_interval_min": (0.0, 24.0 * 60),
        }
        for name, (low, high) in limits.items():
            if name in data:
                setattr(out, name, _number(name, data[name], low, high))
        levels = data.get("service_levels_h", {})
        if not isinstance(levels, dict):
            raise ValueError("service_levels_h must be an object: kind -> hours")
        for kind, hours in levels.items():
            if kind not in model.KINDS:
                raise ValueError(
                    f"service_levels_h: unknown kind {kind!r}; kinds: {', '.join(model.KINDS)}"
                )
            out.service_levels_h[kind] = _number(f"service_levels_h.{kind}", hours, 0.01, 8760.0)
        return out

    @classmethod
    def load(cls, path: str | Path) -> CameraSettings:
        """Settings from a JSON file; ValueError (with the file's name) if it is unusable."""
        try:
            text = Path(path).read_text("utf-8")
        except OSError as err:
            raise ValueError(f"{path}: {err.strerror or err}") from None
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ValueError(f"{path}: not JSON ({err})") from None
        try:
            return cls.from_mapping(data)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None


def _number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number")
    if not low <= value <= high:
        raise ValueError(f"{name} must be within {low:g}..{high:g}")
    return float(value)


@dataclass(frozen=True)
class Detection:
    """One detection as a camera sent it, already checked (`sync.server.routes_cameras`)."""

    camera_id: str
    kind: str  # one of model.KINDS
    lon: float
    lat: float
    confidence: float  # 0..1
    detected_at: str  # ISO 8601 with a zone (the camera's clock)
    cleared: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # fields beyond PROTOCOL.md's


@dataclass(frozen=True)
class Snapshot:
    """A snapshot already checked and stored as a photo file (`sync.server.photos`)."""

    sha256: str
    size: int
    width: int
    height: int
    content_type: str = "image/jpeg"


class DetectionRefused(Exception):
    """A detection the hub refuses as a whole (`outside_grids`); nothing was written."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
