"""The phone's hardware behind small facades: camera, position, navigation, notifications.

The app only talks to these interfaces; `desktop.py` has stand-ins (a file instead of the
camera, a set position instead of GPS), `android.py` the real ones. Callbacks may come on
any thread; the screens hop back to the UI thread themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

Purpose = Dict[str, str]  # what a photo is taken for: {"screen": "report", "task_id", "role"}


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

    def capture(
        self, on_done: Callable[[Optional[str]], None], purpose: Optional[Purpose] = None
    ) -> None:
        """Calls `on_done` with the path of a JPEG, or None if the worker cancelled.

        `purpose` says what the photo is for (`{"screen": "report", "task_id": …, "role":
        "after"}` or `{"screen": "patrol"}`); a camera whose photo can outlive the app
        (Android's) keeps it beside the file, for `leftovers()`.
        """
        raise NotImplementedError

    def stored(self, path: str) -> None:
        """The photo at `path` is committed in the replica. A camera that wrote the file
        itself deletes it now; a file the worker picked stays theirs (the default)."""

    def leftovers(self) -> List[Tuple[str, Purpose]]:
        """Photos a capture left behind when the app was ended while the camera was open,
        oldest first, each with its purpose ({} when unknown). None by default."""
        return []


class Locator:
    """The phone's position, as fixes arrive."""

    last: Optional[Fix] = None
    settable = False  # True for a stand-in whose position the worker types (desktop)

    def start(self, on_fix: Callable[[Fix], None]) -> None:
        """Starts delivering fixes to `on_fix` (and keeps the latest in `last`)."""
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def set_position(self, lon: float, lat: float, accuracy_m: Optional[float] = 5.0) -> Fix:
        """Sets the position by hand (only where `settable`)."""
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
