"""A photo thumbnail made from JPEG bytes (the replica's or the photo cache's)."""

from __future__ import annotations

import io
from typing import Optional

from kivy.core.image import Image as CoreImage
from kivy.properties import StringProperty
from kivy.uix.image import Image


class Thumb(Image):
    """Shows `set_bytes(data)`; `caption` labels it (before / after / evidence)."""

    caption = StringProperty("")
    sha256 = StringProperty("")

    def set_bytes(self, data: Optional[bytes]) -> None:
        if not data:
            self.texture = None
            self.color = (0.80, 0.82, 0.85, 1)
            return
        self.color = (1, 1, 1, 1)
        self.texture = CoreImage(io.BytesIO(data), ext="jpg").texture
