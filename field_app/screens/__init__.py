"""The app's screens: one `.kv` (layout) and one `.py` (handlers that call `core`) each.

`make_screen(name)` loads the shared widget styles (`common.kv`, once), then that screen's
module and `.kv` (once) and returns a new screen. The app makes each screen the first time
it is shown, so a cold start parses and builds only the screen it opens on.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Set

from kivy.lang import Builder

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ("login", "tasks", "detail", "report", "patrol", "conflicts", "settings")
_loaded: Set[str] = set()


def load_common() -> None:
    """The shared styles (and the app root's toast), before any widget is made."""
    if "common" not in _loaded:
        Builder.load_file(os.path.join(HERE, "common.kv"))
        _loaded.add("common")


def make_screen(name: str) -> Any:
    if name not in NAMES:
        raise ValueError(f"no screen named {name!r}")
    load_common()
    module = importlib.import_module(f"field_app.screens.{name}")
    if name not in _loaded:
        Builder.load_file(os.path.join(HERE, f"{name}.kv"))
        _loaded.add(name)
    return module.SCREEN_CLASS(name=name)
