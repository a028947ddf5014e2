"""How times and distances read on the phone: local clock time, metres or kilometres.

Times on the wire are ISO 8601 UTC; a worker reads them in the phone's zone (China: UTC+8,
the default here, as for EXIF times in `sync.replica.photos`). Pure functions.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Optional

from sync.model import parse_time

from ..i18n import tr

LOCAL_OFFSET = timedelta(hours=8)
EARTH_RADIUS_M = 6_371_008.8


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def parse(value: Optional[str]) -> Optional[datetime]:
    """An ISO 8601 time as an aware datetime, or None when absent or unreadable."""
    if not value:
        return None
    return parse_time(value)


def local_time(value: Optional[str], now: Optional[datetime] = None) -> str:
    """`今天 14:30` / `6月3日 14:30` style: short, in the phone's zone; '' when absent."""
    return local_text(parse(value), now)


def local_text(moment: Optional[datetime], now: Optional[datetime] = None) -> str:
    """`local_time` of a time already parsed (a list parses each once)."""
    if moment is None:
        return ""
    local = moment.astimezone(timezone(LOCAL_OFFSET))
    today = (now or utc_now()).astimezone(timezone(LOCAL_OFFSET)).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return tr("today {time}", time=clock)
    if local.date() == today - timedelta(days=1):
        return tr("yesterday {time}", time=clock)
    return tr("{month}/{day} {time}", month=local.month, day=local.day, time=clock)


def is_overdue(due_at: Optional[str], now: Optional[datetime] = None) -> bool:
    moment = parse(due_at)
    return moment is not None and moment < (now or utc_now())


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def distance_text(meters: Optional[float]) -> str:
    if meters is None:
        return ""
    if meters < 1000:
        return tr("{n} m", n=round(meters))
    return tr("{n} km", n=f"{meters / 1000:.1f}")


def accuracy_text(accuracy_m: Optional[float]) -> str:
    if accuracy_m is None:
        return tr("accuracy unknown")
    return tr("±{n} m", n=round(accuracy_m))
