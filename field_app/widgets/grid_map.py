"""The offline grid map: grid outline, nearby components, the task's point, my position.

Drawn with Kivy canvas instructions from `field_app.core.map_model` (which does the
projection); no internet tiles. Redrawn when its size, position or data change; clipped
to its box (a StencilView).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from kivy.graphics import Color, Ellipse, Line, Rectangle
from kivy.metrics import dp
from kivy.properties import ObjectProperty
from kivy.uix.stencilview import StencilView

from field_app.core.map_model import MapData, ScreenMap, project

KIND_COLORS: Dict[str, Tuple[float, float, float]] = {
    "streetlight": (0.95, 0.70, 0.10),
    "hydrant": (0.85, 0.20, 0.20),
    "manhole": (0.45, 0.35, 0.30),
    "litter_bin": (0.20, 0.60, 0.30),
    "camera": (0.40, 0.40, 0.75),
    "electrical_box": (0.55, 0.55, 0.55),
    "bus_stop": (0.10, 0.55, 0.75),
    "bike_rack": (0.65, 0.45, 0.75),
}
DEFAULT_KIND = (0.5, 0.5, 0.5)


class GridMap(StencilView):
    data: Optional[MapData] = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.screen_map: Optional[ScreenMap] = None
        self.bind(pos=self.redraw, size=self.redraw, data=self.redraw)

    def redraw(self, *_args: Any) -> None:
        self.canvas.clear()
        with self.canvas:
            Color(0.93, 0.92, 0.88, 1)
            Rectangle(pos=self.pos, size=self.size)
        if self.data is None or self.width < 10 or self.height < 10:
            self.screen_map = None
            return
        sm = project(self.data, self.width, self.height, pad=dp(10))
        self.screen_map = sm
        ox, oy = self.x, self.y
        with self.canvas:
            Color(0.07, 0.42, 0.80, 0.10)
            for ring in sm.outlines:
                Line(points=_shift(ring, ox, oy), width=dp(6), close=True)
            Color(0.07, 0.42, 0.80, 1)
            for ring in sm.outlines:
                Line(points=_shift(ring, ox, oy), width=dp(1.5), close=True)
            half = dp(3)
            for x, y, kind in sm.components:
                Color(*KIND_COLORS.get(kind, DEFAULT_KIND), 1)
                Rectangle(pos=(ox + x - half, oy + y - half), size=(2 * half, 2 * half))
            if sm.me is not None:
                x, y, radius = sm.me
                if radius > dp(6):
                    Color(0.10, 0.45, 0.95, 0.18)
                    Ellipse(pos=(ox + x - radius, oy + y - radius), size=(2 * radius, 2 * radius))
                Color(1, 1, 1, 1)
                r = dp(8)
                Ellipse(pos=(ox + x - r, oy + y - r), size=(2 * r, 2 * r))
                Color(0.10, 0.45, 0.95, 1)
                r = dp(6)
                Ellipse(pos=(ox + x - r, oy + y - r), size=(2 * r, 2 * r))
            if sm.task is not None:
                x, y = sm.task
                Color(1, 1, 1, 1)
                r = dp(11)
                Ellipse(pos=(ox + x - r, oy + y - r), size=(2 * r, 2 * r))
                Color(0.85, 0.12, 0.12, 1)
                r = dp(8)
                Ellipse(pos=(ox + x - r, oy + y - r), size=(2 * r, 2 * r))


def _shift(flat: list, ox: float, oy: float) -> list:
    return [v + (ox if i % 2 == 0 else oy) for i, v in enumerate(flat)]
