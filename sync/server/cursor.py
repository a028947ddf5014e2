"""Opaque feed cursors: a feed state, signed, so that a cursor the hub did not issue is
refused (400 `invalid_cursor`) instead of being trusted.

Format: base64url(JSON state) + "." + the first 16 bytes of HMAC-SHA256(secret, payload),
base64url. The state is the store's (`sync.store.feed`): `{"seq": N}` or a snapshot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


class InvalidCursor(ValueError):
    """Not a cursor this hub issued."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(state: dict[str, Any], secret: bytes) -> str:
    payload = _b64(json.dumps(state, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret, payload.encode(), hashlib.sha256).digest()[:16]
    return f"{payload}.{_b64(mac)}"


def decode(cursor: str, secret: bytes) -> dict[str, Any]:
    """The state inside a cursor; raises InvalidCursor for anything not issued here."""
    try:
        payload, mac = cursor.split(".")
        expected = hmac.new(secret, payload.encode(), hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise InvalidCursor("the cursor was not issued by this hub")
        state = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidCursor("the cursor was not issued by this hub") from err
    if not isinstance(state, dict) or not (
        isinstance(state.get("seq"), int) or isinstance(state.get("snap"), int)
    ):
        raise InvalidCursor("the cursor was not issued by this hub")
    return state
