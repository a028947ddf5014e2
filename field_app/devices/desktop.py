"""Desktop stand-ins for the phone's hardware, so the app runs and is tested on a laptop.

- `FileCamera`: a "photo" is a JPEG file: the next one of a preset list or folder
  (`GRIDOPS_CAMERA_DIR`, for tests and demos), else picked in a Kivy file chooser popup;
- `SetLocator`: the position is set (`GRIDOPS_POSITION="lon,lat[,accuracy]"`, `--position`,
  typed in the report and patrol screens, or `set_position()` from code), not measured;
- `BrowserNavigator`: opens the place on OpenStreetMap (or Amap) in the web browser;
- `LogNotifier`: logs the notification and hands it to an optional `show` callback (the
  app shows a toast).
"""

from __future__ import annotations

import logging
import math
import os
import time
from typing import Callable, List, Optional
from urllib.parse import quote

from .base import Camera, Fix, Locator, Navigator, Notifier, Purpose

log = logging.getLogger("gridops.app.devices")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


class FileCamera(Camera):
    """Photos from files: a preset queue or folder, else a file chooser."""

    def __init__(self, files: Optional[List[str]] = None, folder: Optional[str] = None) -> None:
        if folder and not files:
            files = sorted(
                os.path.join(folder, name)
                for name in os.listdir(folder)
                if name.lower().endswith(PHOTO_SUFFIXES)
            )
        self.files = list(files or [])
        self._next = 0

    def capture(
        self, on_done: Callable[[Optional[str]], None], purpose: Optional[Purpose] = None
    ) -> None:
        if self.files:
            path = self.files[self._next % len(self.files)]
            self._next += 1
            on_done(path)
            return
        self._choose(on_done)

    def _choose(self, on_done: Callable[[Optional[str]], None]) -> None:
        from kivy.uix.boxlayout import BoxLayout
        from kivy.uix.button import Button
        from kivy.uix.filechooser import FileChooserListView
        from kivy.uix.popup import Popup

        from ..i18n import tr

        box = BoxLayout(orientation="vertical")
        chooser = FileChooserListView(
            path=os.path.expanduser("~"), filters=[f"*{s}" for s in PHOTO_SUFFIXES]
        )
        buttons = BoxLayout(size_hint_y=None, height="56dp")
        cancel = Button(text=tr("Cancel"))
        use = Button(text=tr("Use this photo"))
        buttons.add_widget(cancel)
        buttons.add_widget(use)
        box.add_widget(chooser)
        box.add_widget(buttons)
        popup = Popup(title=tr("Choose a photo"), content=box)

        def done(path: Optional[str]) -> None:
            popup.dismiss()
            on_done(path)

        cancel.bind(on_release=lambda *_: done(None))
        use.bind(on_release=lambda *_: done(chooser.selection[0] if chooser.selection else None))
        popup.open()


def parse_position(text: Optional[str]) -> Optional[Fix]:
    """`"lon,lat"` or `"lon,lat,accuracy"` as a set fix; ValueError when malformed."""
    if not text:
        return None
    parts = [p.strip() for p in text.replace("，", ",").split(",")]
    if len(parts) not in (2, 3):
        raise ValueError(f"a position is lon,lat[,accuracy], not {text!r}")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"a position is numbers lon,lat[,accuracy], not {text!r}") from None
    if not all(math.isfinite(n) for n in numbers):
        raise ValueError(f"not a position: {text!r}")
    lon, lat = numbers[0], numbers[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"lon,lat out of range: {text!r}")
    accuracy = numbers[2] if len(numbers) == 3 else 5.0
    if accuracy < 0:
        raise ValueError(f"a negative accuracy: {text!r}")
    return Fix(lon, lat, accuracy, time.time(), "set")


class SetLocator(Locator):
    """A position that is set, not measured."""

    settable = True

    def __init__(self, fix: Optional[Fix] = None) -> None:
        self.last = fix
        self._on_fix: Optional[Callable[[Fix], None]] = None

    def start(self, on_fix: Callable[[Fix], None]) -> None:
        self._on_fix = on_fix
        if self.last is not None:
            on_fix(self.last)

    def stop(self) -> None:
        self._on_fix = None

    def set_position(self, lon: float, lat: float, accuracy_m: Optional[float] = 5.0) -> Fix:
        self.last = Fix(lon, lat, accuracy_m, time.time(), "set")
        if self._on_fix is not None:
            self._on_fix(self.last)
        return self.last


def navigation_url(lon: float, lat: float, label: str, provider: str = "osm") -> str:
    """A web map URL for the place (WGS 84; Amap is told so with `coordinate=wgs84`)."""
    if provider == "amap":
        return (
            f"https://uri.amap.com/marker?position={lon:.6f},{lat:.6f}"
            f"&name={quote(label)}&coordinate=wgs84&callnative=1"
        )
    return (
        f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=18/{lat:.6f}/{lon:.6f}"
    )


class BrowserNavigator(Navigator):
    def __init__(
        self, provider: str = "osm", open_url: Optional[Callable[[str], bool]] = None
    ) -> None:
        self.provider = provider
        self.open_url = open_url
        self.opened: List[str] = []

    def navigate(self, lon: float, lat: float, label: str) -> bool:
        url = navigation_url(lon, lat, label, self.provider)
        self.opened.append(url)
        log.info("navigate: %s", url)
        if self.open_url is None:
            import webbrowser  # only when used: it is not needed to start the app

            return bool(webbrowser.open(url))
        return bool(self.open_url(url))


class LogNotifier(Notifier):
    def __init__(self, show: Optional[Callable[[str, str], None]] = None) -> None:
        self.show = show
        self.sent: List[tuple] = []

    def notify(self, title: str, text: str) -> None:
        self.sent.append((title, text))
        log.info("notification: %s — %s", title, text)
        if self.show is not None:
            self.show(title, text)
