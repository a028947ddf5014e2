"""The app's message catalogue: every user-facing string goes through `tr()`.

Message ids are the English source text; `locale/zh_CN.json` maps them to Chinese. zh_CN is
the default language, English the switch (`set_language`). A missing translation shows
the English text (and `missing()` lists it for the tests), never an empty label. Texts
may carry `{name}` fields, filled by `tr(text, name=value)`.

Also the labels of the wire's enumerations (statuses, kinds, priorities, op types, refusal
codes), so that the screens and presenters never show a wire name to a worker.
No Kivy here: presenters use it too.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
_HERE = os.path.dirname(os.path.abspath(__file__))
_catalogues: Dict[str, Dict[str, str]] = {}
_language = DEFAULT_LANGUAGE


def catalogue(language: str) -> Dict[str, str]:
    """The translations of one language (empty for English, the source language)."""
    if language not in _catalogues:
        path = os.path.join(_HERE, "locale", f"{language}.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                _catalogues[language] = dict(json.load(handle))
        else:
            _catalogues[language] = {}
    return _catalogues[language]


def set_language(language: str) -> None:
    """Switches the language of every later `tr()`; refuses a language it does not have."""
    global _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    _language = language


def language() -> str:
    return _language


def tr(text: str, **fields: Any) -> str:
    """`text` in the current language, with `{name}` fields filled in."""
    out = catalogue(_language).get(text, text) if _language != "en" else text
    return out.format(**fields) if fields else out


def missing(language: str, texts: List[str]) -> List[str]:
    """The texts that have no translation in `language` (for the tests)."""
    if language == "en":
        return []
    known = catalogue(language)
    return [t for t in texts if t not in known]


# The wire's enumerations, as workers read them. Each label is a literal for the
# catalogue test to find.
STATUS_LABELS = {
    "reported": "Reported",
    "open": "Open",
    "assigned": "Assigned",
    "declined": "Declined",
    "in_progress": "In progress",
    "paused": "Paused",
    "submitted": "Submitted",
    "rework": "Rework",
    "closed": "Closed",
    "canceled": "Canceled",
    "invalid": "Invalid",
}
KIND_LABELS = {
    "litter": "Litter",
    "bike_parking": "Bike parking",
    "illegal_drying": "Laundry over the street",
    "waterlogging": "Waterlogging",
    "streetlight_out": "Street light out",
    "manhole_damaged": "Damaged manhole",
    "other": "Other",
}
PRIORITY_LABELS = {
    "urgent": "Urgent",
    "high": "High",
    "normal": "Normal",
    "low": "Low",
}
PHOTO_ROLE_LABELS = {"before": "Before", "after": "After", "evidence": "Evidence"}
OP_LABELS = {
    "task.create": "Created",
    "task.triage": "Triaged",
    "task.claim": "Claimed",
    "task.assign": "Assigned",
    "task.update": "Edited",
    "task.decline": "Declined",
    "task.start": "Started",
    "task.pause": "Paused",
    "task.resume": "Resumed",
    "task.submit": "Fix reported",
    "task.confirm": "Confirmed",
    "task.reject": "Sent back",
    "task.cancel": "Canceled",
    "task.reopen": "Reopened",
    "task.comment": "Comment",
}
REFUSAL_LABELS = {
    "not_found": "The task is no longer visible to you",
    "invalid_payload": "Something in it was not valid",
    "outside_grids": "The place is outside every grid",
    "forbidden": "You may not do this",
    "not_assignee": "The task is no longer assigned to you",
    "conflict": "Someone changed the task first",
    "invalid_transition": "The task had already moved on",
    "missing_photos": "A photo has not reached the hub yet",
}


def label(table: Dict[str, str], key: Any) -> str:
    """The worker's word for a wire value (the value itself when it is unknown)."""
    if key is None:
        return ""
    text = table.get(str(key))
    return tr(text) if text else str(key)
