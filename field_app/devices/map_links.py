"""The links that hand a place to a map app on a phone: pure functions, no Android.

A phone's GPS gives WGS 84. Maps published in China are drawn on GCJ-02 (Amap, Tencent)
or BD-09 (Baidu), offset from WGS 84 by a few hundred metres in a Chinese city, and a
Chinese map app reads a plain `geo:` point as its own coordinates: the task would show
in the wrong street. Their own URIs take a flag saying the point is WGS 84, and the app
shifts it itself:

- Amap (高德地图, `com.autonavi.minimap`): `androidamap://viewMap?sourceApplication=…
  &poiname=…&lat=…&lon=…&dev=1`, where `dev=1` means "WGS 84, shift it" (`dev=0`: already
  GCJ-02);
- Baidu Map (百度地图, `com.baidu.BaiduMap`): `baidumap://map/marker?location=lat,lon
  &title=…&content=…&coord_type=wgs84&src=andr.<company>.<app>`;
- anything else: `geo:lat,lon?q=lat,lon(label)` (RFC 5870, WGS 84).

`navigation_intents()` lists them in the order `AndroidNavigator` tries them. Every
builder refuses a position out of range (ValueError) before anything is tried.
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple
from urllib.parse import quote

AMAP_PACKAGE = "com.autonavi.minimap"  # 高德地图
BAIDU_PACKAGE = "com.baidu.BaiduMap"  # 百度地图
SOURCE_APP = "GridOps"  # who calls, as Amap's sourceApplication and Baidu's src ask
BAIDU_SOURCE = "andr.gridops.field"  # Baidu's src: andr.<company>.<app>


def _check_position(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"not a WGS 84 position: lon={lon!r}, lat={lat!r}")


def _clean_label(label: str) -> str:
    return " ".join(label.replace("(", " ").replace(")", " ").split())


def geo_uri(lon: float, lat: float, label: str) -> str:
    """`geo:lat,lon?q=lat,lon(label)` (WGS 84); ValueError for a position out of range."""
    _check_position(lon, lat)
    place = f"{lat:.6f},{lon:.6f}"
    return f"geo:{place}?q={place}({quote(_clean_label(label), safe='')})"


def amap_uri(lon: float, lat: float, label: str) -> str:
    """Amap's own URI for a marked place, told the point is WGS 84 (`dev=1`: Amap shifts
    it to its GCJ-02 map itself; with `dev=0` it would draw a GPS point a few hundred
    metres off)."""
    _check_position(lon, lat)
    return (
        f"androidamap://viewMap?sourceApplication={SOURCE_APP}"
        f"&poiname={quote(_clean_label(label), safe='')}"
        f"&lat={lat:.6f}&lon={lon:.6f}&dev=1"
    )


def baidu_uri(lon: float, lat: float, label: str) -> str:
    """Baidu Map's URI for a marked place, with `coord_type=wgs84` (Baidu's own maps are
    BD-09; without the flag it would read the point as BD-09 and draw it off)."""
    _check_position(lon, lat)
    name = quote(_clean_label(label), safe="")
    return (
        f"baidumap://map/marker?location={lat:.6f},{lon:.6f}&title={name}&content={name}"
        f"&coord_type=wgs84&src={BAIDU_SOURCE}"
    )


def navigation_intents(lon: float, lat: float, label: str) -> List[Tuple[Optional[str], str]]:
    """What to try, in order, as (package, URI): Amap, then Baidu, each with its flag for
    WGS 84 coordinates, then `geo:` for any map app. Chinese map apps draw on GCJ-02
    (Baidu on BD-09) and read a `geo:` point as theirs, so a GPS position would show a
    few hundred metres off in a Chinese city; their own URIs take a WGS 84 flag. ValueError
    for a position out of range (checked before anything is tried)."""
    return [
        (AMAP_PACKAGE, amap_uri(lon, lat, label)),
        (BAIDU_PACKAGE, baidu_uri(lon, lat, label)),
        (None, geo_uri(lon, lat, label)),
    ]
