"""A citizen's request as GeoReport v2 shows it: status, notes, agency, times, place.

- `status` is `open` while the task is active (`reported` … `rework`) and `closed` once it
  is final (`closed`, `canceled`, `invalid`).
- `status_notes` says in plain words what last happened to the task (its newest history
  entry other than a comment or an edit), with the reason, comment or note given for it.
- `agency_responsible` is the street office of the street holding the point;
  `expected_datetime` the task's due time; `description` the reporter's own words (the
  office's edits to the task stay internal); `address` the reporter's address, or the
  street and grid when they gave none.
- Only public fields: nothing of the reporter's personal fields reaches this module.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

from ... import model
from . import catalogue

# Words for what an op did, by op type (and triage decision): (Chinese, English).
_DONE: dict[str, tuple[str, str]] = {
    "task.create": ("已收到，等待街道办事处受理", "Received; waiting for the street office"),
    "accept": ("街道办事处已受理", "Accepted by the street office"),
    "invalid": ("未予受理", "Not taken up"),
    "duplicate": ("与已有的上报重复", "A duplicate of an earlier report"),
    "task.claim": ("已安排网格员处理", "A grid worker has been assigned"),
    "task.assign": ("已安排网格员处理", "A grid worker has been assigned"),
    "task.decline": ("正在重新安排处理人员", "Being reassigned"),
    "task.start": ("网格员正在处理", "A grid worker is on it"),
    "task.resume": ("网格员正在处理", "A grid worker is on it"),
    "task.pause": ("处理暂停", "Work paused"),
    "task.submit": ("已处理，等待核查", "Dealt with; waiting for a check"),
    "task.confirm": ("已办结", "Done"),
    "task.reject": ("核查未通过，正在返工", "Checked and sent back for more work"),
    "task.cancel": ("已撤销", "Canceled"),
    "task.reopen": ("已重新开启处理", "Reopened"),
}
_QUIET = ("task.comment", "task.update")


def open311_status(task_status: str) -> str:
    return "open" if task_status in model.ACTIVE else "closed"


def w3_time(value: str | None) -> str | None:
    """A time in the W3C profile of ISO 8601, UTC, whole seconds (`2026-06-01T08:30:00Z`)."""
    parsed = model.parse_time(value)
    if parsed is None:
        return None
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_notes(history: list[dict[str, Any]], lang: str) -> str | None:
    """What last happened to the task, in plain words, with its reason or comment."""
    for entry in reversed(history):
        kind = entry.get("type")
        if kind in _QUIET:
            continue
        payload = entry.get("payload") if isinstance(entry.get("payload"), dict) else {}
        key = payload.get("decision") if kind == "task.triage" else kind
        words = _DONE.get(str(key))
        if words is None:
            return None
        said = next(
            (
                payload[name].strip()
                for name in ("reason", "comment", "note")
                if isinstance(payload.get(name), str) and payload[name].strip()
            ),
            None,
        )
        text = words[0] if lang == "zh" else words[1]
        if said:
            text += f"：{said}" if lang == "zh" else f": {said}"
        return text
    return None


def agency(street_name: str | None) -> str | None:
    return f"{street_name}办事处" if street_name else None


def request_item(record: dict[str, Any], lang: str) -> dict[str, Any]:
    """One `<request>` of GET requests and GET requests/{id}, in the specification's order."""
    task = record["task"]
    service = catalogue.service(record["service_code"])
    address = record["address_string"]
    if not address and record["street_name"]:
        address = f"{record['street_name']} {record['grid_name'] or task['grid_code']}"
    return {
        "service_request_id": record["service_request_id"],
        "status": open311_status(task["status"]),
        "status_notes": status_notes(task["history"], lang),
        "service_name": catalogue.name(service, lang) if service else record["service_code"],
        "service_code": record["service_code"],
        "description": record["description"],
        "agency_responsible": agency(record["street_name"]),
        "service_notice": catalogue.notice(service, lang) if service else None,
        "requested_datetime": w3_time(record["requested_at"]),
        "updated_datetime": w3_time(task["updated_at"]),
        "expected_datetime": w3_time(task["due_at"]),
        "address": address,
        "address_id": record["address_id"],
        "zipcode": None,
        "lat": task["lat"],
        "long": task["lon"],
        "media_url": record["media_url"],
    }
