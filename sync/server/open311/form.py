"""The body of a GeoReport v2 POST request (form-encoded), read and checked field by field.

Every field the specification names is taken (`api_key`, `jurisdiction_id`,
`service_code`, `lat`, `long`, `address_string`, `address_id`, `email`, `device_id`,
`account_id`, `first_name`, `last_name`, `phone`, `description`, `media_url`,
`attribute[code]` and `attribute[code][]`); anything else, a field given twice, a body that
is not UTF-8 or control characters in a text are refused with a clear `FormError` rather
than dropped. An empty field counts as not given (the specification's "optional").
"""

from __future__ import annotations

import math
import re
import urllib.parse
from dataclasses import dataclass, field

MAX_BODY_BYTES = 256 * 1024
MAX_FIELDS = 200
MAX_DESCRIPTION = 4000  # the specification's limit
_LIMITS = {
    "api_key": 256,
    "jurisdiction_id": 128,
    "service_code": 64,
    "lat": 64,
    "long": 64,
    "address_string": 500,
    "address_id": 128,
    "email": 254,
    "device_id": 128,
    "account_id": 128,
    "first_name": 100,
    "last_name": 100,
    "phone": 40,
    "description": MAX_DESCRIPTION,
    "media_url": 2048,
}
PERSONAL = ("email", "phone", "first_name", "last_name", "device_id", "account_id")
_MULTILINE = ("description", "address_string")
_ATTRIBUTE = re.compile(r"attribute\[([^\[\]]{1,64})\](\[\])?\Z")
# XML 1.0 cannot carry these; a text holding one would make an unreadable answer.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_PHONE = re.compile(r"[0-9+\-() ]{3,40}\Z")


class FormError(ValueError):
    """The body cannot be taken as it is; the message says why."""


@dataclass
class Report:
    """A checked POST body. `lat`/`long` may still be missing: the caller decides how to
    refuse that (after the key has been checked)."""

    api_key: str | None = None
    jurisdiction_id: str | None = None
    service_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    address_string: str | None = None
    address_id: str | None = None
    description: str | None = None
    media_url: str | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    reporter: dict[str, str | None] = field(default_factory=dict)


def check_text(name: str, value: str, limit: int, multiline: bool = False) -> str:
    """A text field within its length, without control characters (line breaks only where
    `multiline`). Raises FormError."""
    if len(value) > limit:
        raise FormError(f"{name} is longer than {limit} characters")
    if _BAD_CHARS.search(value) or (
        not multiline and ("\n" in value or "\r" in value or "\t" in value)
    ):
        raise FormError(f"{name} holds a control character")
    return value


def _coordinate(name: str, text: str, limit: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FormError(f"{name} must be a number (WGS 84 degrees), not {text[:32]!r}") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise FormError(f"{name} must be within -{limit:g}..{limit:g}")
    return value


def _media_url(text: str) -> str:
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FormError("media_url must be an http:// or https:// URL")
    return text


def _email(text: str) -> str:
    local, _, domain = text.partition("@")
    if not local or "." not in domain or " " in text:
        raise FormError("email is not an email address")
    return text


def parse(body: bytes) -> Report:
    """Reads a form-encoded body into a Report; raises FormError for anything it cannot
    take whole."""
    if len(body) > MAX_BODY_BYTES:
        raise FormError(f"the request body is over {MAX_BODY_BYTES // 1024} KB")
    try:
        text = body.decode("utf-8")
        pairs = urllib.parse.parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise FormError("the body is not UTF-8 (percent-encoded UTF-8 is expected)") from None
    except ValueError:
        raise FormError(f"the body has more than {MAX_FIELDS} fields") from None
    fields: dict[str, str] = {}
    report = Report()
    for key, value in pairs:
        match = _ATTRIBUTE.match(key)
        if match:
            code = check_text("attribute code", match.group(1), 64)
            report.attributes.setdefault(code, []).append(
                check_text(f"attribute[{code}]", value, 4000, multiline=True)
            )
            continue
        if key not in _LIMITS:
            raise FormError(f"unknown field {key[:64]!r}: see the GeoReport v2 POST arguments")
        if key in fields:
            raise FormError(f"{key} is given more than once")
        fields[key] = check_text(key, value, _LIMITS[key], multiline=key in _MULTILINE)
    given = {key: value for key, value in fields.items() if value.strip()}
    report.api_key = given.get("api_key")
    report.jurisdiction_id = given.get("jurisdiction_id")
    report.service_code = given.get("service_code")
    if "lat" in given:
        report.lat = _coordinate("lat", given["lat"], 90.0)
    if "long" in given:
        report.lon = _coordinate("long", given["long"], 180.0)
    report.address_string = given.get("address_string")
    report.address_id = given.get("address_id")
    report.description = given.get("description")
    if "media_url" in given:
        report.media_url = _media_url(given["media_url"])
    if "email" in given:
        _email(given["email"])
    if "phone" in given and not _PHONE.match(given["phone"]):
        raise FormError("phone may hold digits, spaces and + - ( ) only")
    report.reporter = {name: given.get(name) for name in PERSONAL}
    return report
