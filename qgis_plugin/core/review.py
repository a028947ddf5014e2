"""What a supervisor looks at before closing a submitted task, read from the replica's task
dict (PROTOCOL.md task fields): the before photos of the create, the after photos, note and
position of the latest submit, how far from the task point the worker stood and how long
the work took (the hub's `server_at` stamps, never a device clock), and the conflicts: ops
the hub refused, kept with their payload and photos.

No widget here: the Review dock shows these values and the tests check them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from qgis.PyQt.QtCore import QCoreApplication

from sync.geo import distance_m

BEFORE_ROLES = ("before", "evidence")


@dataclass
class PhotoRef:
    sha256: str
    role: str  # before | after | evidence
    taken_at: Optional[str]  # device time at capture, when known
    lon: Optional[float]
    lat: Optional[float]


@dataclass
class Review:
    task_id: str
    title: str
    before: List[PhotoRef] = field(default_factory=list)  # from the create
    after: List[PhotoRef] = field(default_factory=list)  # from the latest submit
    note: str = ""  # the worker's note on the latest submit
    submitted_by: Optional[str] = None  # actor id of the latest submit
    submitted_at: Optional[str] = None  # the hub's server_at of the latest submit
    distance_m: Optional[float] = None  # task point → where the worker stood when submitting
    accuracy_m: Optional[float] = None  # the phone's GNSS accuracy at that moment
    duration_s: Optional[float] = None  # create → latest submit, by the hub's clock


@dataclass
class ConflictEntry:
    task_id: Optional[str]
    task_title: str
    op_id: str
    op_type: str
    code: str
    actor_id: Optional[str]  # who sent it (None: this device, from its own refusals)
    at: Optional[str]
    message: str
    photos: List[PhotoRef]
    note: str


def parse_time(text: Optional[str]) -> Optional[datetime]:
    """An ISO 8601 time with a zone (`Z` too) as an aware datetime, or None."""
    if not text:
        return None
    value = text.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:  # fractions other than 3 or 6 digits (Python 3.9's fromisoformat)
            head, _, rest = value.partition(".")
            zone = rest[rest.find("+") :] if "+" in rest else ""
            moment = datetime.fromisoformat(head + zone)
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def photo_refs(items: Any, roles: Optional[tuple] = None) -> List[PhotoRef]:
    """Photo items of a payload or a task (those with one of `roles`, if given)."""
    out: List[PhotoRef] = []
    for item in items or []:
        if not isinstance(item, dict) or not item.get("sha256"):
            continue
        role = str(item.get("role") or "")
        if roles is not None and role not in roles:
            continue
        out.append(
            PhotoRef(
                str(item["sha256"]),
                role,
                item.get("taken_at"),
                _number(item.get("lon")),
                _number(item.get("lat")),
            )
        )
    return out


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _latest(history: List[Dict[str, Any]], op_type: str) -> Optional[Dict[str, Any]]:
    found = [h for h in history if h.get("type") == op_type]
    return found[-1] if found else None


def review_of(task: Dict[str, Any]) -> Review:
    """The review of one task (a replica task dict). Read-only."""
    history = list(task.get("history") or [])
    review = Review(str(task["id"]), str(task.get("title") or task.get("kind") or ""))
    create = next((h for h in history if h.get("type") == "task.create"), None)
    submit = _latest(history, "task.submit")
    if create is not None:
        review.before = photo_refs((create.get("payload") or {}).get("photos"), BEFORE_ROLES)
    if not review.before:
        review.before = photo_refs(task.get("photos"), BEFORE_ROLES)
    if submit is None:
        return review
    payload = submit.get("payload") or {}
    review.after = photo_refs(payload.get("photos"), ("after",))
    review.note = str(payload.get("note") or "")
    review.submitted_by = submit.get("actor_id")
    review.submitted_at = submit.get("server_at") or submit.get("at")
    lon, lat = _number(payload.get("lon")), _number(payload.get("lat"))
    task_lon, task_lat = _number(task.get("lon")), _number(task.get("lat"))
    if None not in (lon, lat, task_lon, task_lat):
        review.distance_m = distance_m(task_lon, task_lat, lon, lat)  # type: ignore[arg-type]
    review.accuracy_m = _number(payload.get("accuracy_m"))
    if create is not None:
        start = parse_time(create.get("server_at") or create.get("at"))
        end = parse_time(review.submitted_at)
        if start is not None and end is not None and end >= start:
            review.duration_s = (end - start).total_seconds()
    return review


def duration_text(seconds: Optional[float]) -> str:
    """Text such as "2 h 15 min" (Chinese: "2 小时 15 分"), days past 24 h, "–" if unknown."""
    if seconds is None:
        return "–"
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return QCoreApplication.translate("GridOps", "{days} d {hours} h {minutes} min").format(
            days=days, hours=hours, minutes=mins
        )
    if hours:
        return QCoreApplication.translate("GridOps", "{hours} h {minutes} min").format(
            hours=hours, minutes=mins
        )
    return QCoreApplication.translate("GridOps", "{minutes} min").format(minutes=mins)


def distance_text(review: Review) -> str:
    """Text such as "23 m from the task point (GNSS ±8 m)", or a notice without a position."""
    if review.distance_m is None:
        return QCoreApplication.translate("GridOps", "No position with the submission")
    distance = round(review.distance_m)
    if review.accuracy_m is None:
        return QCoreApplication.translate("GridOps", "{distance} m from the task point").format(
            distance=distance
        )
    return QCoreApplication.translate(
        "GridOps", "{distance} m from the task point (GNSS ±{accuracy} m)"
    ).format(distance=distance, accuracy=round(review.accuracy_m))


def _conflict_photos(payload: Dict[str, Any]) -> List[PhotoRef]:
    return photo_refs(payload.get("photos"))


def conflicts_of(task: Dict[str, Any]) -> List[ConflictEntry]:
    """A task's `conflicts` (refused ops of anyone, e.g. a reassigned worker's late submit)."""
    out = []
    for item in task.get("conflicts") or []:
        payload = item.get("payload") or {}
        out.append(
            ConflictEntry(
                str(task.get("id")),
                str(task.get("title") or ""),
                str(item.get("op_id") or ""),
                str(item.get("type") or ""),
                str(item.get("code") or ""),
                item.get("actor_id"),
                item.get("at"),
                str(item.get("message") or ""),
                _conflict_photos(payload),
                str(payload.get("note") or payload.get("comment") or ""),
            )
        )
    return out


def all_conflicts(
    tasks: List[Dict[str, Any]], refusals: List[Dict[str, Any]]
) -> List[ConflictEntry]:
    """This device's own refusals (`Replica.refusals()`) and every task's conflicts, newest
    first, each op once."""
    entries: List[ConflictEntry] = []
    seen = set()
    for item in refusals:
        payload = item.get("payload") or {}
        task = item.get("task") or {}
        entries.append(
            ConflictEntry(
                item.get("task_id"),
                str(task.get("title") or ""),
                str(item.get("op_id") or ""),
                str(item.get("type") or ""),
                str(item.get("code") or ""),
                None,
                item.get("at"),
                str(item.get("message") or ""),
                _conflict_photos(payload),
                str(payload.get("note") or payload.get("comment") or ""),
            )
        )
        seen.add(entries[-1].op_id)
    for task in tasks:
        for entry in conflicts_of(task):
            if entry.op_id not in seen:
                seen.add(entry.op_id)
                entries.append(entry)
    entries.sort(key=lambda e: e.at or "", reverse=True)
    return entries
