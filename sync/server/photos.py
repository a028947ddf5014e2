"""Photo files on the hub: content-addressed, resumable uploads, checked with Pillow.

Invariants (PROTOCOL.md "Photos"):
- A photo is stored under its sha256 only after the complete bytes hash to that name and
  decode as a JPEG or PNG within the limits (20 MB, 50 megapixels; decompression bombs are
  refused before any pixel is decoded). Until then it is a partial file, never served.
- A piece of a resumable upload must start exactly at the bytes held (else 409 with
  `Upload-Offset`); pieces of one photo are serialised by a per-hash lock.
- Files are written to a temporary name and renamed, so a crash leaves either the old
  state or the new, never a torn file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from .errors import ApiError

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
CONTENT_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG"}
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_RANGE = re.compile(r"bytes (\d{1,12})-(\d{1,12})/(\d{1,12})\Z")


@dataclass
class Stored:
    status: int  # 201 stored, 200 already held, 202 incomplete
    offset: int  # bytes held
    width: int = 0
    height: int = 0
    content_type: str = ""


def check_hash_name(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise ApiError(400, "invalid_hash", "a photo is named by its sha256: 64 lowercase hex")
    return sha256


def inspect_image(data: bytes) -> tuple[str, int, int]:
    """(content type, width, height) of an acceptable image, else ApiError 415/413."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in CONTENT_TYPES.values():
                    raise ApiError(415, "not_an_image", "only JPEG and PNG photos are accepted")
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise ApiError(413, "too_large", "the image has more than 50 megapixels")
                img.load()
                fmt = img.format
    except ApiError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ApiError(413, "too_large", "the image decompresses to too many pixels") from None
    except Exception:  # Pillow raises many types for broken files
        raise ApiError(415, "not_an_image", "the bytes do not decode as a JPEG or PNG") from None
    content_type = next(k for k, v in CONTENT_TYPES.items() if v == fmt)
    return content_type, width, height


class PhotoFiles:
    """The hub's photo folder: complete photos by hash, partial uploads apart."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.partial = self.root / ".partial"
        self.partial.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def lock(self, sha256: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(sha256, threading.Lock())

    def held(self, sha256: str) -> int | None:
        """Bytes held: the size of a complete photo, of a partial upload, or None."""
        done = self.path(sha256)
        if done.exists():
            return done.stat().st_size
        part = self.partial / sha256
        return part.stat().st_size if part.exists() else None

    def put(self, sha256: str, body: bytes, content_range: str | None) -> Stored:
        """Takes a whole photo or one piece. Raises ApiError for every refusal.

        On 201 the caller records the photo in the store; the file is already in place.
        """
        check_hash_name(sha256)
        with self.lock(sha256):
            done = self.path(sha256)
            if done.exists():
                # Held already: answer 200 only to someone who sent the same bytes, so that
                # the name alone never makes anyone an uploader (and a reader) of a photo.
                self._check_same(done, body, content_range)
                return Stored(200, done.stat().st_size)
            if content_range is None:
                if len(body) > MAX_BYTES:
                    raise ApiError(413, "too_large", "a photo may be at most 20 MB")
                return self._finish(sha256, body)
            match = _RANGE.match(content_range.strip())
            if not match:
                raise ApiError(400, "bad_range", "Content-Range must be 'bytes a-b/total'")
            start, end, total = (int(g) for g in match.groups())
            if total > MAX_BYTES:
                raise ApiError(413, "too_large", "a photo may be at most 20 MB")
            if end < start or end >= total or end - start + 1 != len(body):
                raise ApiError(400, "bad_range", "Content-Range does not match the body")
            part = self.partial / sha256
            held = part.stat().st_size if part.exists() else 0
            if start != held:
                raise ApiError(
                    409,
                    "offset_mismatch",
                    f"the hub holds {held} bytes; send from there",
                    headers={"Upload-Offset": str(held)},
                )
            with open(part, "ab") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            held += len(body)
            if held < total:
                return Stored(202, held)
            data = part.read_bytes()
            try:
                return self._finish(sha256, data)
            except ApiError:
                part.unlink(missing_ok=True)
                raise

    @staticmethod
    def _check_same(done: Path, body: bytes, content_range: str | None) -> None:
        if content_range is None:
            if hashlib.sha256(body).hexdigest() != done.name:
                raise ApiError(400, "hash_mismatch", "the bytes do not hash to the photo's name")
            return
        match = _RANGE.match(content_range.strip())
        if not match:
            raise ApiError(400, "bad_range", "Content-Range must be 'bytes a-b/total'")
        start, end, total = (int(g) for g in match.groups())
        size = done.stat().st_size
        with open(done, "rb") as handle:
            handle.seek(start)
            same = total == size and end - start + 1 == len(body) and handle.read(len(body)) == body
        if not same:
            raise ApiError(400, "hash_mismatch", "these bytes are not part of the photo held")

    def _finish(self, sha256: str, data: bytes) -> Stored:
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ApiError(400, "hash_mismatch", "the bytes do not hash to the photo's name")
        content_type, width, height = inspect_image(data)
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        (self.partial / sha256).unlink(missing_ok=True)
        return Stored(201, len(data), width, height, content_type)
