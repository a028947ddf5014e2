"""The offline grid map: what to draw and where, from the replica alone (no tiles).

`load_map_data(replica, task, me)` gathers the task's grid outline (or the worker's grids),
the twin components near it (through the layer's R-tree, at most `limit`), the task's
point and my position. `project(data, width, height)` turns those longitudes and
latitudes into screen coordinates: a local equirectangular projection (x scaled by the
cosine of the latitude, right for the few hundred metres of a grid), fitted into the
widget with the aspect kept; origin at the bottom left, y up (Kivy's convention).
Both are plain functions; the widget (`field_app.widgets.grid_map`) only draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sync import gpkg

LonLat = Tuple[float, float]
METERS_PER_DEGREE = 111_320.0


@dataclass
class MapData:
    outlines: List[List[LonLat]] = field(default_factory=list)  # grid rings, closed
    components: List[Tuple[float, float, str]] = field(default_factory=list)  # lon, lat, kind
    task: Optional[LonLat] = None
    me: Optional[Tuple[float, float, Optional[float]]] = None  # lon, lat, accuracy in m
    bbox: Optional[Tuple[float, float, float, float]] = None  # min lon, min lat, max lon, max lat


@dataclass
class ScreenMap:
    outlines: List[List[float]]  # flat x0, y0, x1, y1, … per ring (Kivy Line points)
    components: List[Tuple[float, float, str]]
    task: Optional[Tuple[float, float]]
    me: Optional[Tuple[float, float, float]]  # x, y, accuracy radius in pixels
    meters_per_px: float


def _rings(geometry: Optional[Dict[str, Any]]) -> List[List[LonLat]]:
    if not geometry:
        return []
    coords = geometry.get("coordinates") or []
    polygons = [coords] if geometry.get("type") == "Polygon" else coords
    return [[(float(p[0]), float(p[1])) for p in ring] for poly in polygons for ring in poly]


def _bbox(points: Sequence[LonLat]) -> Optional[Tuple[float, float, float, float]]:
    if not points:
        return None
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def load_map_data(
    replica: Any,
    task: Optional[Dict[str, Any]] = None,
    me: Optional[Tuple[float, float, Optional[float]]] = None,
    limit: int = 400,
) -> MapData:
    """What the map of a task (or, without one, of the worker's grids) shows. Read-only."""
    conn = replica.conn
    codes: List[str] = []
    if task and task.get("grid_code"):
        codes = [task["grid_code"]]
    else:
        codes = list((replica.me or {}).get("grid_codes") or [])
    data = MapData(me=me)
    for code in codes:
        row = conn.execute("SELECT geom FROM grids WHERE code = ?", (code,)).fetchone()
        if row is not None:
            data.outlines.extend(_rings(gpkg.gpkg_blob_decode(row[0])))
    if task and task.get("lon") is not None and task.get("lat") is not None:
        data.task = (float(task["lon"]), float(task["lat"]))
    points = [p for ring in data.outlines for p in ring]
    if data.task:
        points.append(data.task)
    box = _bbox(points)
    if box is None:
        return data
    # At least ~150 m across, so a lone point still shows its surroundings.
    half = 0.00075
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    box = (
        min(box[0], cx - half),
        min(box[1], cy - half),
        max(box[2], cx + half),
        max(box[3], cy + half),
    )
    data.bbox = box
    rows = conn.execute(
        "SELECT c.kind, r.minx, r.miny FROM rtree_components_geom AS r "
        "JOIN components AS c ON c.fid = r.id "
        "WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ? LIMIT ?",
        (box[0], box[2], box[1], box[3], limit),
    )
    data.components = [(float(x), float(y), str(kind or "")) for kind, x, y in rows]
    return data


def project(data: MapData, width: float, height: float, pad: float = 12.0) -> ScreenMap:
    """Screen coordinates of everything in `data` inside a `width` × `height` box."""
    box = data.bbox
    if box is None:
        pts = [p for ring in data.outlines for p in ring]
        pts += [data.task] if data.task else []
        pts += [(data.me[0], data.me[1])] if data.me else []
        box = _bbox(pts) or (0.0, 0.0, 1.0, 1.0)
    min_x, min_y, max_x, max_y = box
    lat0 = math.radians((min_y + max_y) / 2)
    kx = math.cos(lat0)
    span_x = max((max_x - min_x) * kx, 1e-9)
    span_y = max(max_y - min_y, 1e-9)
    usable_w, usable_h = max(width - 2 * pad, 1.0), max(height - 2 * pad, 1.0)
    scale = min(usable_w / span_x, usable_h / span_y)  # px per degree of latitude
    off_x = pad + (usable_w - span_x * scale) / 2
    off_y = pad + (usable_h - span_y * scale) / 2

    def xy(lon: float, lat: float) -> Tuple[float, float]:
        return off_x + (lon - min_x) * kx * scale, off_y + (lat - min_y) * scale

    meters_per_px = METERS_PER_DEGREE / scale
    outlines = []
    for ring in data.outlines:
        flat: List[float] = []
        for lon, lat in ring:
            flat.extend(xy(lon, lat))
        outlines.append(flat)
    me = None
    if data.me is not None:
        mx, my = xy(data.me[0], data.me[1])
        me = (mx, my, (data.me[2] or 0.0) / meters_per_px)
    return ScreenMap(
        outlines=outlines,
        components=[(*xy(lon, lat), kind) for lon, lat, kind in data.components],
        task=xy(*data.task) if data.task else None,
        me=me,
        meters_per_px=meters_per_px,
    )
