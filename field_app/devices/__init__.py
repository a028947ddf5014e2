"""The phone's hardware for the app: `make_devices(platform)` picks the implementation.

`"android"` imports `field_app.devices.android` lazily (it needs pyjnius and plyer, which a
desktop does not have) and calls its `make_devices()`, which returns a `Devices`; any other
platform gets the desktop stand-ins of `desktop.py`, configured from the environment:
`GRIDOPS_CAMERA_DIR` (a folder of JPEGs the camera hands out in turn), `GRIDOPS_POSITION`
(`lon,lat[,accuracy]`) and `GRIDOPS_MAP` (`osm` or `amap`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .base import Camera, Fix, Locator, Navigator, Notifier

__all__ = ["Camera", "Devices", "Fix", "Locator", "Navigator", "Notifier", "make_devices"]


@dataclass
class Devices:
    camera: Camera
    locator: Locator
    navigator: Navigator
    notifier: Notifier


def make_devices(platform: str) -> Devices:
    if platform == "android":
        from . import android  # type: ignore[attr-defined]

        return android.make_devices()  # type: ignore[no-any-return]
    from .desktop import BrowserNavigator, FileCamera, LogNotifier, SetLocator, parse_position

    folder = os.environ.get("GRIDOPS_CAMERA_DIR")
    return Devices(
        camera=FileCamera(folder=folder) if folder else FileCamera(),
        locator=SetLocator(parse_position(os.environ.get("GRIDOPS_POSITION"))),
        navigator=BrowserNavigator(os.environ.get("GRIDOPS_MAP", "osm")),
        notifier=LogNotifier(),
    )
