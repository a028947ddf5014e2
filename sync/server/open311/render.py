"""GeoReport v2 answers as the specification writes them, in JSON or XML.

- JSON follows the specification's Spark convention: the root element is dropped, a list
  element becomes an array (`services` -> `[{...}, ...]`), an empty element is `null`.
- XML is UTF-8 with the XML declaration, no namespace, the specification's element names:
  `<services><service>`, `<service_requests><request>`, `<service_definition>`,
  `<attributes><attribute>`, `<values><value>`, `<discovery>`, `<endpoints><endpoint>`,
  `<formats><format>`, `<errors><error><code/><description/></error></errors>`. Booleans
  are `true`/`false`; a missing value is an empty element.
- Errors carry the HTTP status in `code` (404 for what does not exist, 403 for a wrong or
  missing `api_key`, 400 for anything else) and a description for people.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from fastapi.responses import Response

FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The element that each list element holds, by the list's name.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        tag = ITEM_TAGS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, tag), item)
    else:
        element.text = _text(value)


def to_xml(root: str, body: Any) -> bytes:
    """`body` (a dict, or a list for a list element) under the element `root`."""
    element = ET.Element(root)
    _fill(element, body)
    text = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8")


def to_json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")


def answer(
    fmt: str, root: str, body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """An answer in `fmt` (json or xml): `body` as it is in JSON, under `root` in XML."""
    content = to_json(body) if fmt == "json" else to_xml(root, body)
    return Response(content, status_code=status, media_type=MEDIA_TYPES[fmt], headers=headers)


def error(fmt: str, status: int, description: str) -> Response:
    """The specification's error list, with one error."""
    return answer(
        fmt if fmt in FORMATS else "xml",
        "errors",
        [{"code": status, "description": description}],
        status=status,
    )
