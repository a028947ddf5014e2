"""The phone's hardware behind small facades: camera, position, navigation, notifications.

The app only talks to these interfaces; `desktop.py` has stand-ins (a file instead of the
camera, a set position instead of GPS), `android.py` the real ones. Callbacks may come on
any thread; the screens hop back to the UI thread themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional


@dataclass
class Fix:
    """A position: WGS 84 degrees, its accuracy in metres, when (time.time()), from what."""

    lon: float
    lat: float
    accuracy_m: Optional[float]
    time: float
    source: str  # "gps", "network", "set" (desktop) ...


class Camera:
    """Takes one photo."""

    def capture(self, on_done: Callable[[Optional[str]], None]) -> None:
        """Calls `on_done` with the path of a JPEG, or None if the worker cancelled."""
        raise NotImplementedError


class Locator:
    """The phone's position, as fixes arrive."""

    last: Optional[Fix] = None

    def start(self, on_fix: Callable[[Fix], None]) -> None:
        """Starts delivering fixes to `on_fix` (and keeps the latest in `last`)."""
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class Navigator:
    """Hands a place to the phone's map app."""

    def navigate(self, lon: float, lat: float, label: str) -> bool:
        """True when a map app took it."""
        raise NotImplementedError


class Notifier:
    """Tells the worker something while they may not be looking (new tasks)."""

    def notify(self, title: str, text: str) -> None:
        raise NotImplementedError
