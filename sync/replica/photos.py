"""Photos as a device keeps them: upright, downsized, stripped, content-addressed.

`prepare_photo()` takes a camera file's bytes and returns the JPEG the device will send:
turned upright by its EXIF orientation, the long side at most 1600 px, re-encoded as JPEG
without any EXIF (a phone's EXIF holds the device's serial and more), after reading the
time and position it was taken at. Pillow is imported here only, lazily: the QGIS plugin
never calls this.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

MAX_SIDE = 1600
JPEG_QUALITY = 85


class PhotoError(ValueError):
    """The bytes are not a photo the device can keep."""


@dataclass
class PreparedPhoto:
    data: bytes  # the JPEG to keep and send
    sha256: str
    width: int
    height: int
    taken_at: Optional[str]  # ISO 8601 UTC, from EXIF when present
    lon: Optional[float]
    lat: Optional[float]


def _ratio(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        num, den = value
        return float(num) / float(den)


def _gps(exif: Any) -> tuple[Optional[float], Optional[float]]:
    try:
        gps = exif.get_ifd(0x8825)
    except Exception:
        return None, None
    if not gps or 2 not in gps or 4 not in gps:
        return None, None
    try:

        def dms(values: Any) -> float:
            d, m, s = (_ratio(v) for v in values)
            return d + m / 60 + s / 3600

        lat, lon = dms(gps[2]), dms(gps[4])
        if str(gps.get(1, "N")).upper().startswith("S"):
            lat = -lat
        if str(gps.get(3, "E")).upper().startswith("W"):
            lon = -lon
    except Exception:
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return round(lon, 7), round(lat, 7)


def _taken_at(exif: Any, utc_offset: timedelta) -> Optional[str]:
    try:
        sub = exif.get_ifd(0x8769)
    except Exception:
        sub = {}
    text = (sub or {}).get(0x9003) or exif.get(0x0132)  # DateTimeOriginal, DateTime
    if not text:
        return None
    try:
        local = datetime.strptime(str(text).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    # EXIF times carry no zone: they are the phone's local time.
    moment = (local - utc_offset).replace(tzinfo=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def prepare_photo(source: bytes, utc_offset: timedelta = timedelta(hours=8)) -> PreparedPhoto:
    """The device's copy of a camera photo; raises PhotoError for anything not an image.

    `utc_offset` is the phone's zone for EXIF times (China: UTC+8).
    """
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(source)) as img:
            exif = img.getexif()
            lon, lat = _gps(exif)
            taken_at = _taken_at(exif, utc_offset)
            upright = ImageOps.exif_transpose(img)
            upright = upright.convert("RGB")
            lanczos = getattr(Image, "Resampling", Image).LANCZOS  # Pillow < 9.1 too
            upright.thumbnail((MAX_SIDE, MAX_SIDE), lanczos)
            out = io.BytesIO()
            upright.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
            width, height = upright.size
    except PhotoError:
        raise
    except Exception as err:  # Pillow raises many kinds for broken files
        raise PhotoError(f"not a photo: {err}") from None
    data = out.getvalue()
    return PreparedPhoto(data, hashlib.sha256(data).hexdigest(), width, height, taken_at, lon, lat)
