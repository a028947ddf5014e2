"""Synthetic street photos for the demo tasks: a problem before, the same scene fixed after.

This module owns `make_photo`, which paints a plausible Shanghai street with Pillow (hazy
sky, façades with shop fronts and windows, plane trees and street lights along the kerb, a
road in perspective, grain and vignetting so that the JPEG is photo-like in look and size)
and shows one task kind's problem in it.

Invariants kept here:
- The same arguments give the same bytes: every random choice comes from a `random.Random`
  seeded from the arguments, never from the global generator or the clock.
- "before" and "after" of one kind and seed share the scene (the same street, the same
  camera); only the problem and the grain differ, as between two real shots. Any other role
  (the demo's "evidence") shows the problem from a slightly moved camera.

Pillow is imported inside `make_photo`, so that importing this module costs nothing.
"""

from __future__ import annotations

import functools
import io
import math
import random
from typing import Any, Callable, List, Sequence, Tuple

TASK_KINDS = tuple(
    "litter bike_parking illegal_drying waterlogging streetlight_out manhole_damaged other".split()
)
Colour = Tuple[int, ...]
XY = Tuple[float, float]
Item = Tuple[float, Callable[[], Any]]  # (depth, painter): painted far to near

_ROAD_KINDS = ("waterlogging", "manhole_damaged", "streetlight_out")
_BIKES = ((250, 200, 20), (30, 120, 225), (80, 185, 95), (235, 90, 40))
_CLOTHES = ((220, 60, 60), (60, 90, 200), (240, 240, 235), (250, 190, 40), (90, 160, 90),
            (230, 140, 180), (40, 40, 45), (130, 200, 230))  # fmt: skip
_WALLS = ((196, 184, 164), (176, 166, 156), (160, 90, 70), (214, 206, 188), (150, 156, 162),
          (188, 150, 120), (120, 110, 104))  # fmt: skip
_LITTER = ((235, 235, 230), (30, 30, 32), (40, 90, 190), (200, 40, 40), (230, 200, 60),
           (150, 110, 70))  # fmt: skip
_SIGNS = ((150, 40, 40), (40, 90, 150), (60, 120, 70), (200, 150, 50))
# Outlines in units of the width: a bicycle (side view, metres), a shirt, trousers.
_FRAME = ((-0.52, 0.33), (0.0, 0.3), (-0.12, 0.85), (-0.52, 0.33), (-0.12, 0.85), (0.38, 0.8),
          (0.0, 0.3), (0.38, 0.8), (0.52, 0.33))  # fmt: skip
_SHIRT = ((0, 0), (1, 0), (1.3, -0.35), (0.9, -0.45), (0.9, -1.3), (0.1, -1.3), (0.1, -0.45),
          (-0.3, -0.35))  # fmt: skip
_TROUSERS = ((0, 0), (1, 0), (1, -2), (0.55, -2), (0.5, -0.6), (0.45, -2), (0, -2))


def make_photo(kind: str, role: str, seed: int, size: tuple[int, int] = (1280, 960)) -> bytes:
    """A JPEG (quality 80) of a street showing a task `kind` unsolved, or fixed when `role`
    is "after". Pure; about 0.1 s and 150–300 KB at the default size."""
    if kind not in TASK_KINDS:
        raise ValueError(f"unknown task kind: {kind}")
    from PIL import Image, ImageChops, ImageDraw

    width, height = size
    img = Image.new("RGB", size)
    _Scene(kind, role, seed, width, height).paint(img, ImageDraw.Draw(img, "RGBA"))
    grain = random.Random(f"{seed}:{kind}:{role}:grain").randbytes(width * height)
    noise = Image.frombytes("L", size, grain).point([118 + v * 20 // 255 for v in range(256)])
    img = ImageChops.add(img, Image.merge("RGB", (noise, noise, noise)), offset=-128)
    img = ImageChops.multiply(img, _vignette(size))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


@functools.lru_cache(maxsize=4)
def _vignette(size: tuple[int, int]) -> Any:
    from PIL import Image

    ring = Image.radial_gradient("L").resize(size).point([255 - v // 4 for v in range(256)])
    return Image.merge("RGB", (ring, ring, ring))


_WINDOW = (250, 214, 140)
_ANGLES = [k * math.pi / 8 for k in range(17)]


def _corners(u: float, v: float) -> List[XY]:
    return [(u, v), (-u, v), (-u, -v), (u, -v)]


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return tuple(int(p + (q - p) * t) for p, q in zip(a, b))


def _shade(c: Colour, k: float) -> Colour:
    return tuple(min(255, int(v * k)) for v in c[:3]) + tuple(c[3:])


class _Scene:
    """A street seen from eye height, in metres: X to the right, Y up, Z ahead."""

    def __init__(self, kind: str, role: str, seed: int, width: int, height: int) -> None:
        self.kind, self.fixed, self.w, self.h = kind, role == "after", width, height
        self.rng = rng = random.Random(f"{seed}:{kind}:scene")
        self.problem = random.Random(f"{seed}:{kind}:problem")
        moved = role not in ("before", "after")
        shift = random.Random(f"{seed}:{role}").uniform(-0.5, 0.5) if moved else 0.0
        self.dusk = kind == "streetlight_out"
        self.f = width * rng.uniform(0.62, 0.72)
        self.cx = width * (0.5 + rng.uniform(-0.05, 0.05) + shift * 0.1)
        self.horizon = height * (rng.uniform(0.52, 0.56) if self.dusk else rng.uniform(0.36, 0.42))
        self.eye = 1.55
        # The kerb is left of the camera: just left when the problem is on the road.
        self.kerb = (0.6 if kind in _ROAD_KINDS else -1.8) + rng.uniform(-0.3, 0.3) + shift
        self.road_left = self.kerb - rng.uniform(7.0, 10.5)
        self.facade_r = self.kerb + rng.uniform(4.5, 6.0)
        self.facade_l = self.road_left - rng.uniform(3.0, 4.5)
        self.lamp_z = rng.uniform(16, 20)  # the street light nearest the camera

    def p(self, x: float, y: float, z: float) -> XY:
        z = max(z, 0.3)
        return (self.cx + self.f * x / z, self.horizon + self.f * (self.eye - y) / z)

    def ground(self, pts: Sequence[XY], y: float = 0.0) -> List[XY]:
        return [self.p(x, y, z) for x, z in pts]

    def flat(self, x0: float, x1: float, z0: float, z1: float) -> List[XY]:
        return self.ground([(x0, z0), (x1, z0), (x1, z1), (x0, z1)])

    def wall(self, x: float, y0: float, y1: float, z0: float, z1: float) -> List[XY]:
        return [self.p(x, y0, z0), self.p(x, y1, z0), self.p(x, y1, z1), self.p(x, y0, z1)]

    def front(self, x0: float, x1: float, y0: float, y1: float, z: float) -> List[XY]:
        return [self.p(x0, y0, z), self.p(x1, y0, z), self.p(x1, y1, z), self.p(x0, y1, z)]

    def circle(self, x: float, z: float, r: float, n: int = 28, wobble: float = 0.0) -> List[XY]:
        """A circle on the ground; a wobbly one draws on the problem's random numbers."""
        pts = []
        for k in range(n):
            rr = r * (1 + self.problem.uniform(-wobble, wobble)) if wobble else r
            pts.append(
                (x + rr * math.cos(2 * math.pi * k / n), z + rr * math.sin(2 * math.pi * k / n))
            )
        return self.ground(pts)

    def box(
        self, d: Any, x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, c: Colour
    ) -> None:
        """A box: its top, the side facing the camera, its front."""
        top = [self.p(x0, y1, z0), self.p(x1, y1, z0), self.p(x1, y1, z1), self.p(x0, y1, z1)]
        d.polygon(top, fill=_shade(c, 1.12))
        if not x0 < 0 < x1:
            d.polygon(self.wall(x1 if x1 < 0 else x0, y0, y1, z0, z1), fill=_shade(c, 0.8))
        d.polygon(self.front(x0, x1, y0, y1, z0), fill=c)

    def paint(self, img: Any, d: Any) -> None:
        self._sky(img, d)
        self._ground(d)
        self._buildings(d)
        items = self._furniture(d) + _PROBLEMS[self.kind](self, d)
        for _, painter in sorted(items, key=lambda item: -item[0]):
            painter()

    def _sky(self, img: Any, d: Any) -> None:
        from PIL import Image

        top, low = ((150, 182, 212), (222, 226, 228))
        if self.dusk:
            top, low = ((22, 28, 62), (200, 110, 80))
        hz = int(self.horizon) + 2
        column = Image.new("RGB", (1, hz))
        column.putdata([_mix(top, low, (y / hz) ** 0.8) for y in range(hz)])
        img.paste(column.resize((self.w, hz)), (0, 0))
        x = 0.0
        while x < self.w:  # the far skyline
            bw, bh = self.rng.uniform(20, 90), self.rng.uniform(10, 70) * self.h / 960
            tone = self.rng.randint(50, 80) if self.dusk else self.rng.randint(150, 185)
            box = [x, self.horizon - bh, x + bw, self.horizon + 2]
            d.rectangle(box, fill=(tone, tone + 4, tone + 10))
            x += bw

    def _ground(self, d: Any) -> None:
        far, near, rng = 400.0, 0.5, self.rng
        paving = (100, 98, 96) if self.dusk else (176, 170, 160)
        d.polygon(self.flat(-300, 300, near, far), fill=paving)
        asphalt = (48, 50, 54) if self.dusk else (92, 94, 98)
        d.polygon(self.flat(self.road_left, self.kerb, near, far), fill=asphalt)
        paint = (150, 150, 145) if self.dusk else (205, 205, 198)
        for x in (self.kerb, self.road_left):  # kerbstones
            d.polygon(self.flat(x - 0.15, x + 0.15, near, far), fill=_shade(paving, 1.15))
        mid, z = (self.kerb + self.road_left) / 2, rng.uniform(1, 7)
        while z < 150:  # the dashed centre line
            d.polygon(self.flat(mid - 0.08, mid + 0.08, z, z + 4), fill=paint)
            z += 10
        z, x = rng.uniform(30, 45), self.road_left + 0.3
        while x < self.kerb - 0.5:  # a zebra crossing
            d.polygon(self.flat(x, x + 0.45, z, z + 4), fill=paint)
            x += 0.9
        joint = _shade(paving, 0.86)
        for x0, x1 in ((self.kerb + 0.15, self.facade_r), (self.facade_l, self.road_left - 0.15)):
            z = 1.0
            while z < 35:  # paving joints
                d.line(self.ground([(x0, z), (x1, z)]), fill=joint)
                z += 0.6 if z < 12 else 1.2
            for k in range(int((x1 - x0) / 0.6) + 1):
                d.line(self.ground([(x0 + 0.6 * k, 1.0), (x0 + 0.6 * k, 60.0)]), fill=joint)

    def _buildings(self, d: Any) -> None:
        rng = self.rng
        for x in (self.facade_r, self.facade_l):
            z = 0.5
            while z < 260:
                length, storeys = rng.uniform(8, 26), rng.choice((2, 3, 3, 4, 6, 8, 12, 18))
                light = (0.5 if self.dusk else 1.0) * (0.86 if x > 0 else 1.0)  # x > 0: in shade
                wall = _shade(rng.choice(_WALLS), light)
                d.polygon(self.wall(x, 0, storeys * 3.1 + 1.0, z, z + length), fill=wall)
                self._frontage(d, x, z, length, storeys, wall)
                z += length + (rng.uniform(3, 10) if rng.random() < 0.2 else 0)

    def _frontage(self, d: Any, x: float, z0: float, length: float, storeys: int, wall: Any):
        """Shop signs, shop windows and the windows of the floors above."""
        rng, z1 = self.rng, z0 + length
        sign = _shade(rng.choice(_SIGNS), 0.6 if self.dusk else 1.0)
        d.polygon(self.wall(x, 2.8, 3.5, z0 + 0.3, z1 - 0.3), fill=sign)
        glass = (150, 120, 70) if self.dusk else _mix((120, 134, 142), wall, 0.25)
        d.polygon(self.wall(x, 0.2, 2.6, z0 + 0.5, z1 - 0.5), fill=glass)
        for k in range(1, int(length / 2.5)):  # mullions and doors
            mullion = [self.p(x, 0.2, z0 + 2.5 * k), self.p(x, 2.6, z0 + 2.5 * k)]
            d.line(mullion, fill=_shade(wall, 0.7))
        if z0 > 120:
            return
        pane = _mix(wall, (62, 76, 92), 0.7)
        for storey in range(1, storeys):
            z = z0 + 0.8
            while z + 1.4 < z1:
                lit = self.dusk and rng.random() < 0.45
                y = storey * 3.1 + 0.9
                d.polygon(self.wall(x, y, y + 1.5, z, z + 1.4), fill=_WINDOW if lit else pane)
                z += 2.6

    def _furniture(self, d: Any) -> List[Item]:
        rng = self.rng
        items: List[Item] = []
        for x in (self.kerb + 0.9, self.road_left - 0.9):
            z = rng.uniform(8, 11)
            while z < 140:  # plane trees, leaving the nearest street light in sight
                tree = self._tree(d, x + rng.uniform(-0.1, 0.1), z, rng.getrandbits(32))
                clear = z - self.lamp_z if self.kind == "streetlight_out" else abs(z - self.lamp_z)
                if x < 0 or clear > 5:
                    items.append((z, tree))
                z += rng.uniform(7, 9)
        for side, x in ((1, self.kerb + 0.35), (-1, self.road_left - 0.35)):
            z = self.lamp_z + (rng.uniform(12, 18) if side < 0 else 0)
            while z < 200:
                near = side > 0 and z == self.lamp_z
                if not near or self.kind != "streetlight_out":
                    items.append((z, self._lamp(d, x, z, side, lit=True)))
                z += 30
        z = rng.uniform(14, 24)
        for _ in range(rng.randint(2, 4)):  # cars driving away
            x = rng.uniform(self.road_left + 1.2, (self.kerb + self.road_left) / 2 - 1.0)
            colour = rng.choice(((230, 230, 232), (30, 30, 35), (150, 152, 158), (160, 30, 30)))
            items.append((z, self._car(d, x, z, _shade(colour, 0.6 if self.dusk else 1.0))))
            z += rng.uniform(10, 30)
        return items

    def _tree(self, d: Any, x: float, z: float, seed: int) -> Callable[[], None]:
        rng = random.Random(seed)

        def paint() -> None:
            bark = (45, 40, 36) if self.dusk else (96, 88, 72)
            d.polygon(self.front(x - 0.18, x + 0.18, 0, 3.4, z), fill=bark)
            for k in range(28 if z < 60 else 8):  # the canopy, leaf cluster by leaf cluster
                cx, cy = x + rng.uniform(-2.0, 2.0), rng.uniform(3.6, 6.0)
                r = rng.uniform(0.5, 1.1)
                g = rng.randint(80, 150) if not self.dusk else rng.randint(34, 56)
                (x0, y0), (x1, y1) = self.p(cx - r, cy + r, z), self.p(cx + r, cy - r, z)
                d.ellipse([x0, y0, x1, y1], fill=(g // 2 + k, g, g // 3, 230))

        return paint

    def _lamp(self, d: Any, x: float, z: float, side: int, lit: bool) -> Callable[[], None]:
        def paint() -> None:
            steel, arm, width = (70, 74, 78), x - side * 1.8, max(1, int(self.f * 0.14 / z))
            d.line(
                [self.p(x, 0, z), self.p(x, 7.5, z), self.p(arm, 7.7, z)], fill=steel, width=width
            )
            (x0, y0), (x1, y1) = self.p(arm - 0.6, 7.85, z), self.p(arm + 0.6, 7.5, z)
            on = lit and self.dusk
            d.ellipse([x0, y0, x1, y1], fill=(255, 244, 210) if on else (60, 62, 66))
            if on:  # a halo round the lamp and a pool of light under it
                cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                for k in range(8, 0, -1):
                    r = (x1 - x0) * k * 0.45
                    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 214, 150, 22))
                for radius in (5.0, 3.5, 2.2):
                    d.polygon(self.circle(arm, z, radius, 24), fill=(255, 200, 120, 30))

        return paint

    def _car(self, d: Any, x: float, z: float, colour: Colour) -> Callable[[], None]:
        def paint() -> None:
            for sx in (-0.85, 0.65):  # tyres
                d.polygon(self.front(x + sx, x + sx + 0.2, 0, 0.35, z + 0.1), fill=(20, 20, 20))
            self.box(d, x - 0.9, x + 0.9, 0.3, 1.0, z, z + 4.4, colour)
            self.box(d, x - 0.75, x + 0.75, 1.0, 1.45, z + 1.0, z + 3.4, _shade(colour, 0.9))
            d.polygon(self.front(x - 0.65, x + 0.65, 1.05, 1.4, z + 1.0), fill=(40, 46, 55))
            for sx in (-0.75, 0.55):
                d.polygon(self.front(x + sx, x + sx + 0.2, 0.75, 0.9, z), fill=(210, 20, 20))

        return paint


# The problems: each gives what it adds to the scene as (depth, painter) items.


def _litter(s: _Scene, d: Any) -> List[Item]:
    rng = s.problem
    bx, bz = s.facade_r - 0.7, rng.uniform(6, 8)
    grey, green = (90, 90, 95), (40, 120, 70)
    items: List[Item] = [  # a pair of sorting bins, in both photos
        (bz + 0.6, lambda: s.box(d, bx - 0.3, bx + 0.3, 0, 1.0, bz + 0.6, bz + 1.15, grey)),
        (bz, lambda: s.box(d, bx - 0.3, bx + 0.3, 0, 1.0, bz, bz + 0.55, green)),
    ]
    for _ in range(0 if s.fixed else rng.randint(22, 36)):
        x, z = rng.uniform(s.kerb + 0.3, s.facade_r - 0.3), min(14, max(3.5, rng.gauss(bz, 2.0)))
        colour, r = rng.choice(_LITTER), rng.uniform(0.14, 0.3)
        if rng.random() < 0.45:  # a tied bag: a lumpy body and a knot
            body = [
                (x + r * math.cos(a) * rng.uniform(0.92, 1.05), r * (1 + math.sin(a)) * 0.85)
                for a in _ANGLES[:16]
            ]
            knot = [(x - 0.05, 1.6 * r), (x - 0.07, 1.6 * r + 0.07), (x + 0.07, 1.6 * r + 0.07)]
            items.append((z, functools.partial(_bag, s, d, z, body + knot, colour)))
        else:  # wrappers, cups and paper lying flat
            a, r, q = rng.uniform(0, math.pi), r * 0.8, r * rng.uniform(0.25, 0.55)
            ca, sa = math.cos(a), math.sin(a)
            pts = [(x + u * ca - v * sa, z + u * sa + v * ca) for u, v in _corners(r, q)]
            items.append((z, functools.partial(d.polygon, s.ground(pts, 0.02), fill=colour)))
    return items


def _bag(s: _Scene, d: Any, z: float, outline: List[XY], colour: Colour) -> None:
    lo, hi = min(x for x, _ in outline), max(x for x, _ in outline)
    shadow = [(lo, z - 0.1), (hi, z - 0.1), (hi + 0.1, z + 0.2), (lo + 0.1, z + 0.2)]
    d.polygon(s.ground(shadow), fill=(20, 20, 20, 70))
    d.polygon([s.p(x, y, z) for x, y in outline], fill=colour)
    shine = [s.p(x - 0.02, y * 0.8 + 0.05, z) for x, y in outline[9:13]]
    d.polygon(shine, fill=(255, 255, 255, 50))


def _bike(s: _Scene, d: Any, x: float, z: float, yaw: float, lying: bool, colour: Colour) -> Item:
    ax, az = math.cos(yaw), math.sin(yaw)

    def at(a: float, h: float) -> XY:
        if lying:
            return s.p(x + ax * a - az * h, 0.04, z + az * a + ax * h)
        return s.p(x + ax * a, h, z + az * a)

    def paint() -> None:
        width = max(2, int(s.f * 0.07 / max(z, 1)))
        for c in (-0.52, 0.52):
            ring = [at(c + 0.33 * math.cos(a), 0.33 + 0.33 * math.sin(a)) for a in _ANGLES]
            d.line(ring, fill=(25, 25, 25), width=width + 1)
        d.line([at(a, h) for a, h in _FRAME], fill=colour, width=width)
        bars = [at(0.38, 0.8), at(0.42, 1.0), at(0.3, 1.0), at(0.55, 1.0)]
        d.line(bars, fill=(40, 40, 40), width=width)
        d.polygon([at(-0.25, 0.88), at(0, 0.88), at(0, 0.94), at(-0.25, 0.94)], fill=(20, 20, 20))
        basket = [at(0.45, 0.75), at(0.75, 0.75), at(0.75, 0.95), at(0.45, 0.95)]
        d.polygon(basket, fill=_shade(colour, 0.7))

    return (z, paint)


def _bike_parking(s: _Scene, d: Any) -> List[Item]:
    rng = s.problem
    z0, n = rng.uniform(6.5, 8.5), rng.randint(8, 14)
    bikes = [(rng.choice(_BIKES), rng.uniform(0, math.pi), rng.random() < 0.35) for _ in range(n)]
    if not s.fixed:  # a heap across the pavement, some fallen
        x0 = (s.kerb + s.facade_r) / 2
        return [
            _bike(s, d, x0 + rng.gauss(0, 0.9), z0 + rng.gauss(0, 1.3), yaw, lying, colour)
            for colour, yaw, lying in bikes
        ]
    bay = s.flat(s.kerb + 0.3, s.kerb + 2.3, z0 - 1.0, z0 + 0.7 * n)  # a painted bay
    items: List[Item] = [(99.0, lambda: d.line([*bay, bay[0]], fill=(235, 235, 230), width=3))]
    for k, (colour, _, _) in enumerate(bikes):  # side by side, square to the kerb
        items.append(_bike(s, d, s.kerb + 1.3, z0 - 0.5 + 0.7 * k, 0.0, False, colour))
    return items


def _illegal_drying(s: _Scene, d: Any) -> List[Item]:
    rng = s.problem
    items: List[Item] = []
    for z in (rng.uniform(6, 7.5), rng.uniform(9, 11)):  # lines from a tree to the windows
        h, xa, xb = rng.uniform(2.1, 2.5), s.kerb + 0.9, s.facade_r
        if not s.fixed:
            items.append((z, functools.partial(_washing, s, d, z, xa, xb, h)))
    return items


def _washing(s: _Scene, d: Any, z: float, xa: float, xb: float, h: float) -> None:
    rng = s.problem

    def sag(t: float) -> float:
        return h - t * (1 - t)

    line = [s.p(xa + (xb - xa) * k / 12, sag(k / 12), z) for k in range(13)]
    d.line(line, fill=(60, 60, 60), width=2)
    t = 0.06
    while t < 0.92:
        w, colour = rng.uniform(0.3, 0.7), rng.choice(_CLOTHES)
        x, y = xa + (xb - xa) * t, sag(t + w / (xb - xa) / 2)
        shape = rng.choice(("shirt", "trousers", "towel", "quilt"))
        if shape in ("towel", "quilt"):
            w, long = (w * 2, 1.1) if shape == "quilt" else (w, 0.55)
            outline = [(0, 0), (w, 0), (w, -long), (0, -long)]
        else:
            outline = [(a * w, b * w) for a, b in (_SHIRT if shape == "shirt" else _TROUSERS)]
        d.polygon([s.p(x + a, y + b, z) for a, b in outline], fill=colour)
        for k in range(1, 5 if shape == "quilt" else 0):  # the quilt's stitching
            seam = [s.p(x, y - k * 0.22, z), s.p(x + w, y - k * 0.22, z)]
            d.line(seam, fill=_shade(colour, 0.75))
        for peg in (x, x + w):
            d.line([s.p(peg, y + 0.05, z), s.p(peg, y - 0.05, z)], fill=(230, 230, 230), width=2)
        t += (w + rng.uniform(0.05, 0.25)) / (xb - xa)


def _waterlogging(s: _Scene, d: Any) -> List[Item]:
    rng = s.problem
    z0, z1 = rng.uniform(2.0, 3.5), rng.uniform(18, 30)
    edge = [
        (s.road_left - 0.5 + rng.uniform(-0.4, 0.4), z1 - (z1 - z0) * k / 20) for k in range(21)
    ]
    edge += [(s.kerb + rng.uniform(-0.15, 0.25), z0 + (z1 - z0) * k / 20) for k in range(21)]
    if s.fixed:  # damp patches are all that is left
        patches = []
        for _ in range(4):
            x, z = rng.uniform(s.road_left + 1, s.kerb - 1), rng.uniform(z0 + 1, z1 / 2)
            patches.append(s.circle(x, z, rng.uniform(0.4, 1.2), 20, 0.25))
        return [(500.0, lambda: [d.polygon(p, fill=(60, 62, 66, 70)) for p in patches])]

    def paint() -> None:
        d.polygon(s.ground(edge), fill=(100, 114, 128, 235))
        zz = z1
        while zz > z0:  # the sky and the façades mirrored, fading towards the camera
            tone = _mix((90, 104, 118), (200, 212, 222), (zz - z0) / (z1 - z0))
            d.polygon(s.flat(s.road_left, s.kerb, zz - 0.4, zz), fill=(*tone, 70))
            zz -= 0.8
        for _ in range(14):  # ripples
            x, z = rng.uniform(s.road_left + 0.5, s.kerb - 0.5), rng.uniform(z0 + 0.5, z1 * 0.7)
            d.line(s.circle(x, z, rng.uniform(0.2, 0.6), 20), fill=(180, 190, 200, 110), width=2)

    return [(500.0, paint)]


def _streetlight_out(s: _Scene, d: Any) -> List[Item]:
    return [(s.lamp_z, s._lamp(d, s.kerb + 0.35, s.lamp_z, 1, lit=s.fixed))]


def _manhole_damaged(s: _Scene, d: Any) -> List[Item]:
    rng = s.problem
    x, z, r = s.kerb - rng.uniform(1.2, 2.0), rng.uniform(4.0, 5.5), 0.36
    hole = s.circle(x, z, r, 24, 0.08)
    pieces, cracks = [], []
    for k in range(3):  # pieces of the broken cover, some fallen in
        a = rng.uniform(0, 2 * math.pi)
        cx, cz = x + math.cos(a) * r * 0.7, z + math.sin(a) * r * 0.7
        piece = [(cx + rng.uniform(-0.16, 0.16), cz + rng.uniform(-0.16, 0.16)) for _ in range(4)]
        pieces.append((s.ground(piece), (60 + 10 * k, 60 + 10 * k, 62 + 10 * k)))
    for _ in range(6):  # cracks in the asphalt around it
        a = rng.uniform(0, 2 * math.pi)
        rs = [r + 0.05 * k for k in range(6)]
        cracks.append(s.ground([(x + math.cos(a) * q, z + math.sin(a) * q) for q in rs]))

    def paint() -> None:
        d.polygon(s.circle(x, z, r + 0.08), fill=(70, 70, 72))
        if s.fixed:  # a new cover, with its rings
            d.polygon(s.circle(x, z, r), fill=(58, 58, 60))
            for k in (0.75, 0.5, 0.25):
                ring = s.circle(x, z, r * k)
                d.line([*ring, ring[0]], fill=(88, 88, 90), width=2)
            return
        d.polygon(hole, fill=(18, 16, 14))
        for piece, colour in pieces:
            d.polygon(piece, fill=colour)
        for crack in cracks:
            d.line(crack, fill=(30, 30, 30), width=2)

    return [(400.0, paint)]


def _other(s: _Scene, d: Any) -> List[Item]:
    rng = s.problem
    items: List[Item] = []
    x0, z0 = (s.kerb + s.facade_r) / 2 + 0.3, rng.uniform(6, 8)  # a dumped sofa and boxes
    sofa = (rng.randint(90, 140), rng.randint(60, 90), rng.randint(40, 70))
    if s.fixed:
        return items
    box = functools.partial(s.box, d)
    items.append(
        (z0 + 0.65, functools.partial(box, x0 - 1, x0 + 1, 0.5, 0.95, z0 + 0.65, z0 + 0.9, sofa))
    )
    items.append((z0, functools.partial(box, x0 - 1, x0 + 1, 0.1, 0.5, z0, z0 + 0.9, sofa)))
    for _ in range(rng.randint(3, 6)):
        bx, bz = x0 + rng.uniform(-1.4, 1.4), z0 + rng.uniform(-1.6, -0.4)
        w, h, tone = rng.uniform(0.3, 0.6), rng.uniform(0.25, 0.6), rng.randint(150, 200)
        cardboard = (tone, int(tone * 0.78), int(tone * 0.5))
        items.append(
            (bz, functools.partial(box, bx - w / 2, bx + w / 2, 0, h, bz, bz + w, cardboard))
        )
    return items


_PROBLEMS: dict[str, Callable[[_Scene, Any], List[Item]]] = dict(
    zip(
        TASK_KINDS,
        (
            _litter,
            _bike_parking,
            _illegal_drying,
            _waterlogging,
            _streetlight_out,
            _manhole_damaged,
            _other,
        ),
    )
)
