"""The demo district's twin data: two Shanghai streets, their grids and twin features.

This module owns the deterministic generator behind `gridops demo` (PROTOCOL.md, "The demo
district"): the streets `JSL` (Jiangsu Road, Changning) and `HM` (Huamu, Pudong), twelve
grids each, and the twin layers `components` (points), `pipelines` (lines) and `areas`
(polygons) laid out along a generated road network.

Invariants kept here:
- The same seed gives the same grids and the same features in the same order; every random
  choice comes from a `random.Random` seeded from the seed and a fixed label, never from the
  global generator.
- The grids of a street tile it exactly: they are the cells of one jittered lattice whose
  vertices are shared, so neighbours have identical edges; each grid is a convex quadrangle,
  closed, counter-clockwise, 2D. The two streets lie about 11 km apart.
- Every feature lies strictly inside (at least a metre from the edges of) the grid named by
  its `grid_code` and `street_code`: a point, every vertex of a line, every vertex of a
  polygon.

Work is done in metres on a local plane per street, with points as complex numbers
(x + yj), and converted to WGS 84 lon/lat, rotated about the street's centre, at the end.
Standard library only; Python 3.9+.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Tuple

STREETS: list[dict[str, Any]] = [
    {"code": "JSL", "name": "江苏路街道", "district": "长宁区", "center": (121.430, 31.220)},
    {"code": "HM", "name": "花木街道", "district": "浦东新区", "center": (121.550, 31.200)},
]

COMPONENT_KINDS = tuple(
    "streetlight hydrant manhole litter_bin camera electrical_box bus_stop bike_rack".split()
)
PIPELINE_KINDS = ("water", "drain", "gas", "power")
AREA_KINDS = ("compound", "building_site", "protected_building", "school", "market")

KIND_NAMES: dict[str, str] = {
    "streetlight": "路灯",
    "hydrant": "消防栓",
    "manhole": "井盖",
    "litter_bin": "废物箱",
    "camera": "监控探头",
    "electrical_box": "配电箱",
    "bus_stop": "公交站",
    "bike_rack": "非机动车停放点",
    "water": "给水管",
    "drain": "排水管",
    "gas": "燃气管",
    "power": "电力管线",
    "compound": "住宅小区",
    "building_site": "建筑工地",
    "protected_building": "优秀历史建筑",
    "school": "学校",
    "market": "菜市场",
}

DEFAULT_SEED = 20260601
_COLS, _ROWS = 4, 3
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0
_ID_FORMAT = {"components": ("cmp", 6), "pipelines": ("pl", 4), "areas": ("ar", 3)}
_DIAMETERS = {"drain": (300, 1000), "water": (100, 500), "gas": (100, 300), "power": (150, 300)}

# A half-plane: (a point on its line, its unit normal, the least signed distance allowed).
Constraint = Tuple[complex, complex, float]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclass(frozen=True)
class _Plan:
    """How one street is laid out; lengths in metres."""

    cell: float  # nominal grid size
    rotation: float  # degrees, anticlockwise, of the whole lattice
    arterial: float  # a grid's boundary road: centreline (the grid's edge) to kerb
    lane: float  # an interior road: centreline to kerb
    pavement: float  # pavement width
    spacing: dict[str, float]  # metres between components along a road, keys as _SPACED
    grid_roads: tuple[str, ...]  # one road per grid, that names it
    prefixes: tuple[str, ...]  # compound names: prefix + suffix
    suffixes: tuple[str, ...]
    landmarks: tuple[str, ...]  # protected buildings
    protected: tuple[int, int, int]  # per grid (min, max), plus this many in random grids
    schools: tuple[str, ...]
    markets: tuple[str, ...]


# `drain` and `other`: manholes along drain pipes and along the other pipes.
_SPACED = _words("streetlight litter_bin hydrant electrical_box bike_rack bus_stop drain other")

_PLANS: dict[str, _Plan] = {
    "JSL": _Plan(
        cell=370.0,
        rotation=14.0,
        arterial=8.0,
        lane=4.0,
        pavement=3.0,
        spacing=dict(zip(_SPACED, (25, 45, 90, 110, 120, 320, 30, 60))),
        grid_roads=_words(
            "愚园路 江苏路 长宁路 武夷路 延安西路 安西路 镇宁路 华山路 利西路 宣化路 岐山路"
            " 万航渡路"
        ),
        prefixes=_words(
            "华山 愚园 江苏 长宁 兆丰 安西 岐山 中实 武夷 镇宁 利西 宣化 万航 汇川 东浜"
            " 西浜 北汪 曹家堰 长新 福世 定西 凯旋 江宁 新华"
        ),
        suffixes=_words("新村 花苑 公寓 小区 大楼 坊 里 别墅 苑"),
        landmarks=_words(
            "王伯群住宅 西园公寓 涌泉坊 中一村 安定坊 宏业花园 又一村 愚园路住宅 兆丰别墅"
            " 岐山村 四明别墅 长宁路住宅 柳林别墅 湖南别墅 桃源村 华山路花园住宅"
        ),
        protected=(1, 3, 0),
        schools=_words("江苏路第五小学 愚园路第一小学 长宁实验小学 延安初级中学 市三女中"),
        markets=_words("江苏路菜市场 愚园路菜场 安西路菜场 武夷路菜场"),
    ),
    "HM": _Plan(
        cell=1300.0,
        rotation=-20.0,
        arterial=16.0,
        lane=9.0,
        pavement=5.0,
        spacing=dict(zip(_SPACED, (40, 200, 180, 300, 400, 500, 100, 400))),
        grid_roads=_words(
            "锦绣路 芳甸路 梅花路 白杨路 樱花路 海桐路 玉兰路 杜鹃路 花木路 丁香路 民生路 芳华路"
        ),
        prefixes=_words(
            "联洋 证大 锦绣 芳华 花木 钦洋 樱花 牡丹 梅园 由由 东方 世纪 玉兰 海桐 白杨"
            " 丁香 杜鹃 芳甸 明月 仁恒 大华 御景 云间 银杏"
        ),
        suffixes=_words("苑 新苑 花园 家园 新村 公寓 雅苑 名邸 华庭"),
        landmarks=_words("花木老街祠堂 张家宅 严家宅 陈家祠堂"),
        protected=(0, 0, 2),
        schools=_words("花木中心小学 进才实验小学 建平中学西校 明珠小学 东方幼儿园"),
        markets=_words("花木菜市场 联洋菜场 樱花路菜场 锦绣路菜场"),
    ),
}


@dataclass
class _Grid:
    code: str
    street: str
    name: str
    index: int
    quad: list[complex]  # metres, counter-clockwise: SW, SE, NE, NW
    ring: list[list[float]]  # lon/lat, closed
    to_lonlat: Callable[[complex], list[float]] = field(repr=False)


@dataclass
class _Road:
    a: complex  # centreline ends, on the grid's edges (a boundary road: the edge itself)
    b: complex
    half: float  # centreline to kerb
    edge: int  # the grid edge it runs along, or -1 for an interior road

    @property
    def normal(self) -> complex:  # to the left of a→b: into the grid for a boundary road
        return (self.b - self.a) * 1j / abs(self.b - self.a)


# Plane geometry in metres.


def _dot(p: complex, q: complex) -> float:
    return (p.conjugate() * q).real


def _lerp(p: complex, q: complex, t: float) -> complex:
    return p + (q - p) * t


def _bilinear(q: list[complex], u: float, v: float) -> complex:
    return _lerp(_lerp(q[0], q[1], u), _lerp(q[3], q[2], u), v)


def _area(poly: list[complex]) -> float:
    return sum((poly[i - 1].conjugate() * p).imag for i, p in enumerate(poly)) / 2


def _half_planes(poly: list[complex], margin: float) -> list[Constraint]:
    """The constraints that keep a point `margin` inside a convex polygon."""
    turn = 1j if _area(poly) > 0 else -1j
    return [(a, (b - a) * turn / abs(b - a), margin) for a, b in zip(poly, poly[1:] + poly[:1])]


def _satisfies(p: complex, cons: list[Constraint]) -> bool:
    return all(_dot(p - a, n) >= least for a, n, least in cons)


def _clip_segment(a: complex, b: complex, cons: list[Constraint]) -> Optional[tuple[float, float]]:
    """The range of t in [0, 1] where a + (b - a)t satisfies every constraint, if any."""
    t0, t1 = 0.0, 1.0
    for p, n, least in cons:
        c, g = _dot(a - p, n) - least, _dot(b - a, n)
        if abs(g) < 1e-12:
            if c < 0:
                return None
        elif g > 0:
            t0 = max(t0, -c / g)
        else:
            t1 = min(t1, -c / g)
    return (t0, t1) if t1 - t0 > 1e-9 else None


def _clip_polygon(poly: list[complex], cons: list[Constraint]) -> list[complex]:
    """Sutherland–Hodgman: the part of a convex polygon that satisfies every constraint."""
    for p, n, least in cons:
        out: list[complex] = []
        for prev, cur in zip(poly[-1:] + poly[:-1], poly):
            dp, dc = _dot(prev - p, n) - least, _dot(cur - p, n) - least
            if (dc >= 0) != (dp >= 0):
                out.append(_lerp(prev, cur, dp / (dp - dc)))
            if dc >= 0:
                out.append(cur)
        if len(out) < 3:
            return []
        poly = out
    return poly


def _extent(poly: list[complex], axis: complex) -> tuple[float, float]:
    ds = [_dot(p, axis) for p in poly]
    return min(ds), max(ds)


def _slab(poly: list[complex], axis: complex, lo: float, hi: float) -> list[complex]:
    """The part of a convex polygon between fractions `lo` and `hi` of its extent on `axis`."""
    d0, d1 = _extent(poly, axis)
    cons = [(0j, axis, d0 + lo * (d1 - d0)), (0j, -axis, -(d0 + hi * (d1 - d0)))]
    return _clip_polygon(poly, cons)


def _intersect(r: _Road, s: _Road) -> Optional[complex]:
    d1, d2 = r.b - r.a, s.b - s.a
    den = (d1.conjugate() * d2).imag
    if abs(den) < 1e-9:
        return None
    return r.a + d1 * ((s.a - r.a).conjugate() * d2).imag / den


# The streets and their grids.


def _projector(center: tuple[float, float], rotation: float) -> Callable[[complex], list[float]]:
    lon0, lat0 = center
    kx = _M_PER_DEG_LON_EQ * math.cos(math.radians(lat0))
    turn = complex(math.cos(math.radians(rotation)), math.sin(math.radians(rotation)))

    def to_lonlat(p: complex) -> list[float]:
        q = p * turn
        return [round(lon0 + q.real / kx, 7), round(lat0 + q.imag / _M_PER_DEG_LAT, 7)]

    return to_lonlat


def _street_grids(street: dict[str, Any], seed: int) -> list[_Grid]:
    code = street["code"]
    plan = _PLANS[code]
    rng = random.Random(f"{seed}:grids:{code}")
    widths = [plan.cell * rng.uniform(0.9, 1.1) for _ in range(_COLS)]
    heights = [plan.cell * rng.uniform(0.9, 1.1) for _ in range(_ROWS)]
    xs = [sum(widths[:i]) - sum(widths) / 2 for i in range(_COLS + 1)]
    ys = [sum(heights[:j]) - sum(heights) / 2 for j in range(_ROWS + 1)]
    jitter = 0.08 * plan.cell
    verts = [
        [complex(x + rng.uniform(-jitter, jitter), y + rng.uniform(-jitter, jitter)) for y in ys]
        for x in xs
    ]
    to_lonlat = _projector(street["center"], plan.rotation)
    lonlat = [[to_lonlat(p) for p in column] for column in verts]
    out = []
    for index in range(_COLS * _ROWS):  # numbered row by row from the north-west
        i, j = index % _COLS, _ROWS - 1 - index // _COLS
        corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
        ring = [lonlat[a][b] for a, b in corners]
        out.append(
            _Grid(
                code=f"{code}-{index + 1:02d}",
                street=code,
                name=f"{plan.grid_roads[index]}网格",
                index=index,
                quad=[verts[a][b] for a, b in corners],
                ring=[*ring, ring[0]],
                to_lonlat=to_lonlat,
            )
        )
    return out


def grids(seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """The 24 demo grids: `code`, `street_code`, `name` and a GeoJSON Polygon `geometry`."""
    return [
        {
            "code": g.code,
            "street_code": g.street,
            "name": g.name,
            "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in g.ring]]},
        }
        for street in STREETS
        for g in _street_grids(street, seed)
    ]


# The twin features of one grid.


@dataclass
class _StreetState:
    """What the grids of one street share while they are laid out, one after the other."""

    names: set[str] = field(default_factory=set)  # area names already given
    specials: dict[int, list[str]] = field(default_factory=dict)  # grid index: area kinds
    protected: dict[int, int] = field(default_factory=dict)  # grid index: how many to place


class _GridBuilder:
    """Lays out one grid's roads, then its pipelines, components and areas."""

    def __init__(self, grid: _Grid, plan: _Plan, rng: random.Random, street: _StreetState):
        self.g, self.plan, self.rng, self.street = grid, plan, rng, street
        q = grid.quad
        self.edges = _half_planes(q, 0.0)
        self.roads = [_Road(q[k], q[(k + 1) % 4], plan.arterial, k) for k in range(4)]
        # Interior roads: south to north (normal west), then west to east (normal north).
        self.us = [
            _Road(_bilinear(q, u, 0), _bilinear(q, u, 1), plan.lane, -1) for u in self._cuts()
        ]
        self.vs = [
            _Road(_bilinear(q, 0, v), _bilinear(q, 1, v), plan.lane, -1) for v in self._cuts()
        ]
        self.roads += self.us + self.vs
        self.layers: dict[str, list[dict[str, Any]]] = {layer: [] for layer in _ID_FORMAT}
        self.seq: dict[str, int] = {}

    def build(self) -> Iterator[dict[str, Any]]:
        self._pipelines()
        self._pavements()
        self._junctions()
        self._blocks()
        for features in self.layers.values():
            yield from features

    def _cuts(self) -> list[float]:
        n = self.rng.randint(1, 2)
        return [(k + 1) / (n + 1) + self.rng.uniform(-0.06, 0.06) for k in range(n)]

    def _inside(self, margin: float) -> list[Constraint]:
        return [(a, n, margin) for a, n, _ in self.edges]

    def _on_land(self, p: complex, clearance: float = 0.0, beside: Optional[_Road] = None) -> bool:
        """Off every carriageway, by `clearance` metres from those not `beside` p."""
        for r in self.roads:
            d = _dot(p - r.a, r.normal)
            if (d if r.edge >= 0 else abs(d)) < r.half + (0 if r is beside else clearance) - 1e-6:
                return False
        return True

    def _next(self, key: str) -> int:
        self.seq[key] = self.seq.get(key, 0) + 1
        return self.seq[key]

    def _emit(self, layer: str, kind: str, geometry: dict[str, Any], **props: Any) -> None:
        prefix, width = _ID_FORMAT[layer]
        props.update(grid_code=self.g.code, street_code=self.g.street)
        feature_id = f"{prefix}-{self.g.code}-{self._next(layer):0{width}d}"
        self.layers[layer].append(
            {
                "type": "Feature",
                "id": feature_id,
                "geometry": geometry,
                "properties": {"layer": layer, "kind": kind, **props},
            }
        )

    def point(self, kind: str, p: complex) -> None:
        name = f"{KIND_NAMES[kind]} {self.g.code}-{self._next(kind):04d}"
        status = "normal"
        if self.rng.random() < 0.03:
            status = "faulty" if kind in ("streetlight", "camera", "electrical_box") else "damaged"
        geometry = {"type": "Point", "coordinates": self.g.to_lonlat(p)}
        self._emit("components", kind, geometry, name=name, status=status)

    def polygon(self, kind: str, poly: list[complex], name: str) -> None:
        ring = [self.g.to_lonlat(p) for p in (poly if _area(poly) > 0 else poly[::-1])]
        self._emit("areas", kind, {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}, name=name)

    def _along(
        self, a: complex, b: complex, span: tuple[float, float], step: float
    ) -> Iterator[complex]:
        """Points every `step` metres (from a random phase, a little jittered) along a→b."""
        length = abs(b - a)
        lo, hi = span[0] * length, span[1] * length
        t = lo + self.rng.uniform(0.2, 0.9) * step
        while t < hi:
            s = t + self.rng.uniform(-0.08, 0.08) * step
            if lo <= s <= hi:
                yield _lerp(a, b, s / length)
            t += step

    def _pipelines(self) -> None:
        """Pipes under every road (the grid's own side of a boundary road), manholes on them."""
        for road in self.roads:
            if road.edge >= 0:  # offsets from the centreline, as a fraction of the half-width
                offsets, odds = (
                    {"drain": 0.3, "gas": 0.5, "water": 0.75, "power": 0.92},
                    {"gas": 0.8},
                )
            else:
                offsets = {"drain": 0.0, "gas": 0.5, "water": -0.5, "power": -0.85}
                odds = {"gas": 0.6, "power": 0.7}
            for kind in PIPELINE_KINDS:
                if self.rng.random() >= odds.get(kind, 1.0):
                    continue
                a, b = (p + road.normal * offsets[kind] * road.half for p in (road.a, road.b))
                span = _clip_segment(a, b, self._inside(1.5))
                if span is None:
                    continue
                ts = list(span)  # and a vertex where the pipe crosses another road's centreline
                for other in self.roads:
                    c, g = _dot(a - other.a, other.normal), _dot(b - a, other.normal)
                    if other is not road and abs(g) > 1e-9 and span[0] < -c / g < span[1]:
                        ts.append(-c / g)
                line = [self.g.to_lonlat(_lerp(a, b, t)) for t in sorted(ts)]
                low, high = _DIAMETERS[kind]
                self._emit(
                    "pipelines",
                    kind,
                    {"type": "LineString", "coordinates": line},
                    name=f"{KIND_NAMES[kind]} {self.g.code}-{self._next(kind):03d}",
                    diameter_mm=self.rng.randrange(low, high + 1, 50),
                )
                step = self.plan.spacing["drain" if kind == "drain" else "other"]
                for p in self._along(a, b, span, step):
                    self.point("manhole", p)

    def _pavements(self) -> None:
        """Street furniture along the pavement of every side of a road inside the grid."""
        sp, pave = self.plan.spacing, self.plan.pavement
        for road in self.roads:
            sides = [1.0] if road.edge >= 0 else [1.0, -1.0]
            hydrant_side = self.rng.choice(sides)
            # A pavement runs up to the kerbs of the grid's other boundary roads.
            cons = [
                (a, n, 0.0 if k == road.edge else self.plan.arterial + 1.0)
                for k, (a, n, _) in enumerate(self.edges)
            ]
            for side in sides:
                away = road.normal * side
                kerb_a, kerb_b = road.a + away * road.half, road.b + away * road.half
                span = _clip_segment(kerb_a, kerb_b, cons)
                if span is None:
                    continue
                todo = [("streetlight", 0.6), ("litter_bin", 1.2), ("electrical_box", pave - 0.6)]
                todo += [("bike_rack", pave - 1.2)]  # depth: metres from the kerb
                todo += [("hydrant", 0.4)] if side == hydrant_side else []
                todo += [("bus_stop", pave * 0.5)] if road.edge >= 0 else []
                for kind, depth in todo:
                    for p in self._along(kerb_a, kerb_b, span, sp[kind]):
                        if self._on_land(p + away * depth, clearance=1.5, beside=road):
                            self.point(kind, p + away * depth)

    def _junctions(self) -> None:
        """Cameras at the corners of crossings, of T-junctions and of the grid."""
        pairs = [(self.roads[k], self.roads[(k + 1) % 4]) for k in range(4)]
        pairs += [(r, e) for r in self.us + self.vs for e in self.roads[:4]]
        pairs += [(r, s) for r in self.us for s in self.vs]
        for r, s in pairs:
            x = _intersect(r, s)
            if x is None or not _satisfies(x, self._inside(-0.5)):
                continue
            spots = []
            for sr in [1.0] if r.edge >= 0 else [1.0, -1.0]:
                for ss in [1.0] if s.edge >= 0 else [1.0, -1.0]:
                    p = x + r.normal * sr * (r.half + 1.5) + s.normal * ss * (s.half + 1.5)
                    if self._on_land(p) and _satisfies(p, self._inside(1.0)):
                        spots.append(p)
            self.rng.shuffle(spots)
            for p in spots[: 2 if r.edge < 0 and s.edge < 0 else 1]:
                self.point("camera", p)

    def _blocks(self) -> None:
        """Compounds, schools, markets, sites and protected buildings in the road blocks."""
        back = self.plan.pavement + 1.0  # from the kerb to a block's fence
        blocks = []
        for i in range(len(self.us) + 1):
            for j in range(len(self.vs) + 1):
                cons = [(a, n, self.plan.arterial + back) for a, n, _ in self.edges]
                for k, r in enumerate(self.us):  # block i lies west of interior roads i, i+1…
                    cons.append((r.a, r.normal * (1 if i <= k else -1), r.half + back))
                for k, r in enumerate(self.vs):  # block j lies south of roads j, j+1…
                    cons.append((r.a, r.normal * (-1 if j <= k else 1), r.half + back))
                poly = _clip_polygon(list(self.g.quad), cons)
                if poly and _area(poly) > 400:
                    blocks.append(poly)
        self.rng.shuffle(blocks)
        axis = (self.g.quad[1] - self.g.quad[0]) / abs(self.g.quad[1] - self.g.quad[0])
        kinds = self.street.specials.get(self.g.index, [])
        for poly, kind in zip(blocks, kinds + ["compound"] * len(blocks)):
            if kind == "compound":
                if self.rng.random() < 0.1:
                    continue  # a park or a green: nothing on the twin
                self._compounds(poly, axis)
                if self.street.protected.get(self.g.index, 0) > 0:
                    self._protected(poly, axis)
            elif kind == "building_site":
                self.polygon(kind, poly, self._name(kind))
            else:  # a school or a market takes part of the block, compounds the rest
                cut = self.rng.uniform(0.45, 0.75)
                part = _slab(poly, axis, 0.0, cut)
                self.polygon(kind, part, self._name(kind))
                self._gate(part, "bike_rack")
                d0, d1 = _extent(poly, axis)
                rest = _slab(poly, axis, cut + 6.0 / (d1 - d0), 1.0)
                if rest and _area(rest) > 300:
                    self._compounds(rest, axis)

    def _compounds(self, poly: list[complex], axis: complex) -> None:
        d0, d1 = _extent(poly, axis)
        parts = self.rng.randint(1, max(1, min(3, round((d1 - d0) / (self.plan.cell * 0.22)))))
        gap = 4.0 / (d1 - d0)  # half the width of the lane between two compounds
        for k in range(parts):
            lo, hi = k / parts + (gap if k else 0), (k + 1) / parts - (gap if k < parts - 1 else 0)
            piece = _slab(poly, axis, lo, hi)
            if piece and _area(piece) > 300:
                self.polygon("compound", piece, self._name("compound"))
                self._gate(piece, "electrical_box")

    def _protected(self, poly: list[complex], axis: complex) -> None:
        quad = poly[:4] if len(poly) >= 4 else [*poly, poly[-1]]
        for _ in range(20):
            w, h = self.rng.uniform(16, 36), self.rng.uniform(12, 24)
            c = _bilinear(quad, self.rng.uniform(0.15, 0.85), self.rng.uniform(0.15, 0.85))
            rect = [c + axis * complex(sx * w, sy * h) / 2 for sx, sy in _SQUARE]
            if all(_satisfies(p, _half_planes(poly, 2.0)) for p in rect):
                self.polygon("protected_building", rect, self._name("protected_building"))
                self.street.protected[self.g.index] -= 1
                return

    def _gate(self, poly: list[complex], kind: str) -> None:
        """A component just inside the first edge of an area (its gate)."""
        a, n, _ = _half_planes(poly, 0.0)[0]
        p = _lerp(a, poly[1], 0.5) + n * 2.0
        if self._on_land(p) and _satisfies(p, self._inside(1.0)):
            self.point(kind, p)

    def _name(self, kind: str) -> str:
        """A name for an area, unique in the street."""
        plan, rng = self.plan, self.rng
        road = plan.grid_roads[self.g.index]
        pools = {
            "school": plan.schools,
            "market": plan.markets,
            "protected_building": plan.landmarks,
        }
        for attempt in range(200):
            if kind == "compound" and attempt < 60:
                name = rng.choice(plan.prefixes) + rng.choice(plan.suffixes)
            elif kind == "compound":
                name = f"{rng.choice(plan.grid_roads)}{rng.randint(10, 1500)}弄"
            elif kind == "building_site":
                name = f"{road}{rng.randint(1, 60)}号地块工地"
            elif attempt < 40:
                name = rng.choice(pools[kind])
            else:
                suffix = "住宅" if kind == "protected_building" else KIND_NAMES[kind]
                name = f"{road}{rng.randint(10, 1500)}号{suffix}"
            if name not in self.street.names:
                self.street.names.add(name)
                return name
        raise RuntimeError(f"no unused name left for {kind}")  # pragma: no cover


_SQUARE = ((-1, -1), (1, -1), (1, 1), (-1, 1))


def twin_features(seed: int = DEFAULT_SEED) -> Iterator[dict[str, Any]]:
    """Every twin feature of the demo district, street by street and grid by grid.

    Within a grid: its components, then its pipelines, then its areas. Each is a GeoJSON
    Feature with a stable text `id` and `properties` `layer`, `kind`, `name`, `grid_code`,
    `street_code` (components also `status`; pipelines also `diameter_mm`). Pure: the same
    seed yields the same features in the same order.
    """
    for street in STREETS:
        plan = _PLANS[street["code"]]
        rng = random.Random(f"{seed}:plan:{street['code']}")
        street_grids = _street_grids(street, seed)
        state = _StreetState(specials={g.index: [] for g in street_grids})
        for kind in ("school", "market", "building_site"):
            for index in rng.sample(range(len(street_grids)), 3):
                state.specials[index].append(kind)
        low, high, extra = plan.protected
        state.protected = {g.index: rng.randint(low, high) for g in street_grids}
        for index in rng.sample(range(len(street_grids)), extra):
            state.protected[index] += 1
        for g in street_grids:
            grid_rng = random.Random(f"{seed}:twin:{g.code}")
            yield from _GridBuilder(g, plan, grid_rng, state).build()
