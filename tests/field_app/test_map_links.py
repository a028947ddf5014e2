"""Handing a place to a map app in China: Amap and Baidu told the point is WGS 84, then
`geo:`. The URIs are pure functions; the navigator's order of tries runs against a
stand-in of pyjnius' `autoclass` and the activity (no phone here), which refuses the apps
that are "not installed" as Android does (`ActivityNotFoundException`)."""

from __future__ import annotations

import math
import sys
import types
from typing import Any, Optional

import pytest

from field_app.devices import android as droid
from field_app.devices import map_links

LABEL = "江苏路 12 号 (东门)&x=1"
LABEL_Q = "%E6%B1%9F%E8%8B%8F%E8%B7%AF%2012%20%E5%8F%B7%20%E4%B8%9C%E9%97%A8%20%26x%3D1"


def test_amap_uri_says_wgs84() -> None:
    assert map_links.amap_uri(121.431234, 31.221, LABEL) == (
        "androidamap://viewMap?sourceApplication=GridOps"
        f"&poiname={LABEL_Q}&lat=31.221000&lon=121.431234&dev=1"
    )


def test_baidu_uri_says_wgs84() -> None:
    assert map_links.baidu_uri(121.431234, 31.221, LABEL) == (
        f"baidumap://map/marker?location=31.221000,121.431234&title={LABEL_Q}"
        f"&content={LABEL_Q}&coord_type=wgs84&src=andr.gridops.field"
    )


def test_the_order_of_tries() -> None:
    tries = map_links.navigation_intents(121.43, 31.22, "井盖")
    assert [package for package, _uri in tries] == [
        "com.autonavi.minimap",
        "com.baidu.BaiduMap",
        None,
    ]
    assert [uri.split(":", 1)[0] for _package, uri in tries] == ["androidamap", "baidumap", "geo"]
    assert tries[2][1] == droid.geo_uri(121.43, 31.22, "井盖")  # the same geo: as before


@pytest.mark.parametrize(("lon", "lat"), [(181, 31), (121, -91), (math.nan, 31), (121, math.inf)])
@pytest.mark.parametrize("build", ["amap_uri", "baidu_uri", "geo_uri", "navigation_intents"])
def test_every_link_refuses_a_bad_position(build: str, lon: float, lat: float) -> None:
    with pytest.raises(ValueError, match="WGS 84"):
        getattr(map_links, build)(lon, lat, "x")


class Intent:
    """android.content.Intent as the navigator uses it."""

    ACTION_VIEW = "android.intent.action.VIEW"

    def __init__(self, action: str, uri: str) -> None:
        self.action, self.uri = action, uri
        self.package: Optional[str] = None

    def setPackage(self, package: str) -> None:
        self.package = package


class Activity:
    """Starts the intents of the installed apps, refuses the others."""

    def __init__(self, installed: set[str], any_map_app: bool) -> None:
        self.installed, self.any_map_app = installed, any_map_app
        self.tried: list[tuple[Optional[str], str]] = []
        self.started: list[tuple[Optional[str], str]] = []

    def startActivity(self, intent: Intent) -> None:
        self.tried.append((intent.package, intent.uri))
        ok = intent.package in self.installed if intent.package else self.any_map_app
        if not ok:
            raise RuntimeError("android.content.ActivityNotFoundException")
        self.started.append((intent.package, intent.uri))


@pytest.fixture
def phone(monkeypatch: pytest.MonkeyPatch) -> Any:
    def make(installed: set[str], any_map_app: bool = True) -> Activity:
        activity = Activity(installed, any_map_app)
        classes = {"android.content.Intent": Intent, "android.net.Uri": types.SimpleNamespace(
            parse=lambda text: text
        )}  # fmt: skip
        jnius = types.ModuleType("jnius")
        jnius.autoclass = classes.__getitem__  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "jnius", jnius)
        monkeypatch.setattr(droid, "_activity", lambda: activity)
        return activity

    return make


@pytest.mark.parametrize(
    ("installed", "chosen"),
    [
        ({"com.autonavi.minimap", "com.baidu.BaiduMap"}, "com.autonavi.minimap"),
        ({"com.baidu.BaiduMap"}, "com.baidu.BaiduMap"),
        (set(), None),
    ],
)
def test_the_navigator_prefers_a_chinese_map_app(
    phone: Any, installed: set[str], chosen: Optional[str]
) -> None:
    activity = phone(installed)
    assert droid.AndroidNavigator().navigate(121.43, 31.22, "井盖") is True
    assert len(activity.started) == 1
    package, uri = activity.started[0]
    assert package == chosen
    if chosen == "com.autonavi.minimap":
        assert uri.endswith("&dev=1")
    elif chosen == "com.baidu.BaiduMap":
        assert "&coord_type=wgs84&" in uri
    else:
        assert uri.startswith("geo:31.220000,121.430000?")


def test_no_map_app_at_all(phone: Any) -> None:
    activity = phone(set(), any_map_app=False)
    assert droid.AndroidNavigator().navigate(121.43, 31.22, "井盖") is False
    assert [package for package, _uri in activity.tried] == [
        "com.autonavi.minimap",
        "com.baidu.BaiduMap",
        None,
    ]
