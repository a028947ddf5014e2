"""The app's font: Noto Sans SC (OFL), subset by `tools/make_app_font.py`, registered once.

Registered under Kivy's default font name, so every widget (labels, buttons, text inputs,
popup titles) draws Chinese, Latin, digits and the few symbols used (✓ ⚠ ·) with it. On a
desktop where the subset has not been built yet (`make app-font`), Debian's Noto Sans CJK
collection stands in, with a warning in the log.
"""

from __future__ import annotations

import logging
import os
from typing import Optional

log = logging.getLogger("gridops.app")
FONT_FILE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "fonts", "NotoSansSC-GridOps.otf"
)
SYSTEM_FALLBACK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
_registered: Optional[str] = None


def font_path() -> str:
    """The font file the app uses; RuntimeError when there is none at all."""
    if os.path.exists(FONT_FILE):
        return FONT_FILE
    if os.path.exists(SYSTEM_FALLBACK):
        log.warning("app font not built (make app-font); using %s", SYSTEM_FALLBACK)
        return SYSTEM_FALLBACK
    raise RuntimeError(f"no font with Chinese glyphs: build {FONT_FILE} with make app-font")


def register_font() -> str:
    """Makes the app font Kivy's default (once); returns its path."""
    global _registered
    if _registered is None:
        from kivy.core.text import DEFAULT_FONT, LabelBase

        path = font_path()
        LabelBase.register(DEFAULT_FONT, path)
        _registered = path
    return _registered
