"""The hub's HTTP client for devices and the QGIS plugin (`requests` only).

Every call has timeouts; calls that are safe to repeat (all of them: a push is idempotent
per `op_id`, a photo piece per offset) are retried with exponential backoff on connection
errors, 5xx and 429. Errors come back as `HubError` with the hub's `code`, or as
`Offline` when the hub cannot be reached. Photo uploads are resumable: `upload_photo`
asks the hub how much it holds and sends the rest in pieces (`Content-Range`).

The waits between retries can be cut short: inside `with client.interruptible(event):`
(`sync.syncjob.SyncJob` hands it its cancel event) a call made on that thread stops
retrying as soon as the event is set and raises the error of its last attempt.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import requests

PIECE_BYTES = 256 * 1024


class HubError(Exception):
    """The hub refused a request: HTTP status, PROTOCOL.md code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Offline(HubError):
    """The hub could not be reached (no network, timeout, connection dropped)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "offline", message)


class CursorExpired(HubError):
    """410: the feed no longer serves this cursor; pull the scope again from scratch."""


class HubClient:
    """One hub, one account's token."""

    def __init__(
        self,
        base_url: str,
        token: Optional[str] = None,
        session: Optional[requests.Session] = None,
        timeout: Tuple[float, float] = (5.0, 60.0),
        retries: int = 3,
        backoff_s: float = 0.3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.session = session or requests.Session()
        self.timeout = timeout
        self.retries = retries
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.bytes_sent = 0
        self.bytes_received = 0
        self._local = threading.local()  # .stop: the event that cuts this thread's waits

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def interruptible(self, stop: threading.Event) -> Iterator[None]:
        """Within the block, retry waits of calls made on this thread end when `stop` is
        set; the call then raises its last attempt's error (`Offline`, or the hub's)."""
        previous = getattr(self._local, "stop", None)
        self._local.stop = stop
        try:
            yield
        finally:
            self._local.stop = previous

    def _wait(self, seconds: float) -> bool:
        """Waits before a retry; True when told to stop meanwhile (no more attempts)."""
        stop: Optional[threading.Event] = getattr(self._local, "stop", None)
        if stop is None:
            self.sleep(seconds)
            return False
        return stop.wait(seconds)

    def _request(
        self, method: str, path: str, *, retry: bool = True, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = f"{self.base_url}{path}"
        attempts = self.retries + 1 if retry else 1
        last: Optional[Exception] = None
        for attempt in range(attempts):
            if attempt and self._wait(self.backoff_s * (2 ** (attempt - 1))):
                break
            try:
                resp = self.session.request(
                    method, url, headers=headers, timeout=self.timeout, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as err:
                last = err
                continue
            body = kwargs.get("data") or b""
            self.bytes_sent += len(body) if isinstance(body, (bytes, bytearray)) else 0
            if not (kwargs.get("stream") and resp.status_code < 300):
                # A streamed download is counted (and held) piece by piece by its reader.
                self.bytes_received += len(resp.content or b"")
            if resp.status_code >= 500 or resp.status_code == 429:
                last = _error(resp)
                continue
            return resp
        if isinstance(last, HubError):
            raise last
        raise Offline(f"cannot reach {self.base_url}: {last}")

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        if "json" in kwargs:  # sent as bytes, so that what goes out is counted
            kwargs["data"] = json.dumps(kwargs.pop("json"), ensure_ascii=False).encode("utf-8")
            kwargs["headers"] = {
                **(kwargs.get("headers") or {}),
                "Content-Type": "application/json",
            }
        resp = self._request(method, path, **kwargs)
        if resp.status_code >= 400:
            raise _error(resp)
        return resp.json()

    # ------------------------------------------------------------------ calls

    def health(self) -> Dict[str, Any]:
        return dict(self._json("GET", "/api/v1/health"))

    def login(self, username: str, password: str, device_id: str) -> Dict[str, Any]:
        """Logs in; keeps the token; returns the user."""
        body = self._json(
            "POST",
            "/api/v1/auth/login",
            json={"username": username, "password": password, "device_id": device_id},
        )
        self.token = body["token"]
        return dict(body["user"])

    def push(self, device_id: str, ops: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        body = self._json("POST", "/api/v1/sync/push", json={"device_id": device_id, "ops": ops})
        return list(body["results"])

    def changes(self, since: str, limit: int = 500) -> Dict[str, Any]:
        resp = self._request("GET", "/api/v1/sync/changes", params={"since": since, "limit": limit})
        if resp.status_code == 410:
            err = _error(resp)
            raise CursorExpired(err.status, err.code, err.message)
        if resp.status_code >= 400:
            raise _error(resp)
        return dict(resp.json())

    def extract(
        self, dest: str, etag: Optional[str] = None
    ) -> Tuple[bool, Optional[str], Optional[str]]:
        """Downloads the twin extract to `dest` unless the hub says it is unchanged.

        Returns (downloaded, etag, X-Sync-Cursor).
        """
        headers = {"If-None-Match": f'"{etag}"'} if etag else {}
        resp = self._request("GET", "/api/v1/twin/extract.gpkg", headers=headers, stream=True)
        if resp.status_code == 304:
            return False, etag, resp.headers.get("X-Sync-Cursor")
        if resp.status_code >= 400:
            raise _error(resp)
        with open(dest, "wb") as handle:
            for chunk in resp.iter_content(1 << 16):
                handle.write(chunk)
                self.bytes_received += len(chunk)
        new_etag = (resp.headers.get("ETag") or "").strip('"') or None
        return True, new_etag, resp.headers.get("X-Sync-Cursor")

    def photo_offset(self, sha256: str) -> Optional[int]:
        """Bytes of this photo the hub holds (the size once complete), or None."""
        resp = self._request("HEAD", f"/api/v1/photos/{sha256}")
        if resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            raise _error(resp)
        return int(resp.headers.get("Upload-Offset", "0"))

    def upload_photo(
        self,
        sha256: str,
        data: bytes,
        content_type: str = "image/jpeg",
        piece: int = PIECE_BYTES,
        progress: Optional[Callable[[int, int], None]] = None,
        should_stop: Optional[Callable[[], bool]] = None,
    ) -> bool:
        """Sends what the hub does not hold of this photo, piece by piece.

        Returns True once the hub holds it whole; False if stopped on request.
        """
        total = len(data)
        offset = self.photo_offset(sha256) or 0
        while offset < total:
            if should_stop and should_stop():
                return False
            end = min(offset + piece, total)
            resp = self._request(
                "PUT",
                f"/api/v1/photos/{sha256}",
                data=data[offset:end],
                headers={
                    "Content-Type": content_type,
                    "Content-Range": f"bytes {offset}-{end - 1}/{total}",
                },
            )
            if resp.status_code in (200, 201):
                offset = total
            elif resp.status_code in (202, 409):
                offset = int(resp.headers.get("Upload-Offset", offset))
            else:
                raise _error(resp)
            if progress:
                progress(offset, total)
        return True

    def photo(self, sha256: str) -> bytes:
        resp = self._request("GET", f"/api/v1/photos/{sha256}")
        if resp.status_code >= 400:
            raise _error(resp)
        return bytes(resp.content)

    def get(self, path: str, **params: Any) -> Any:
        """Any other JSON GET under the hub (`/api/v1/users`, `/api/v1/conflicts` ...)."""
        return self._json("GET", path, params=params or None)

    def put(self, path: str, body: Dict[str, Any]) -> Any:
        return self._json("PUT", path, json=body)


def _error(resp: requests.Response) -> HubError:
    try:
        detail = resp.json().get("error") or {}
    except ValueError:
        detail = {}
    return HubError(
        resp.status_code,
        str(detail.get("code") or resp.status_code),
        str(detail.get("message") or resp.reason or ""),
    )
