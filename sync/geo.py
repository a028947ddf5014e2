"""Plane geometry on WGS 84 lon/lat that the rules need: point in polygon, distances.

Small and exact enough for a city: distances use a local equirectangular projection around
the point (error well under 0.1 % over a few kilometres). Geometries are GeoJSON dicts.
Runs on Python 3.9+; standard library only.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Iterable, List, Sequence, Tuple

EARTH_RADIUS_M = 6_371_008.8
Ring = Sequence[Sequence[float]]


def _polygons(geometry: Dict[str, Any]) -> List[List[Ring]]:
    kind = geometry.get("type")
    if kind == "Polygon":
        return [geometry["coordinates"]]
    if kind == "MultiPolygon":
        return list(geometry["coordinates"])
    raise ValueError(f"not a polygon: {kind}")


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def point_in_polygon(lon: float, lat: float, geometry: Dict[str, Any]) -> bool:
    """True when the point lies inside a Polygon or MultiPolygon (holes respected)."""
    for rings in _polygons(geometry):
        if rings and _in_ring(lon, lat, rings[0]):
            if not any(_in_ring(lon, lat, hole) for hole in rings[1:]):
                return True
    return False


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _segment_distance_m(lon: float, lat: float, a: Sequence[float], b: Sequence[float]) -> float:
    kx = math.cos(math.radians(lat)) * math.pi * EARTH_RADIUS_M / 180.0
    ky = math.pi * EARTH_RADIUS_M / 180.0
    ax, ay = (a[0] - lon) * kx, (a[1] - lat) * ky
    bx, by = (b[0] - lon) * kx, (b[1] - lat) * ky
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
    return math.hypot(ax + t * dx, ay + t * dy)


def distance_to_polygon_m(lon: float, lat: float, geometry: Dict[str, Any]) -> float:
    """0 inside the polygon, else the distance in metres to its nearest edge."""
    if point_in_polygon(lon, lat, geometry):
        return 0.0
    best = math.inf
    for rings in _polygons(geometry):
        for ring in rings:
            for i in range(len(ring) - 1):
                best = min(best, _segment_distance_m(lon, lat, ring[i], ring[i + 1]))
    return best


def coordinates(geometry: Dict[str, Any]) -> Iterable[Tuple[float, float]]:
    """Every vertex of a GeoJSON geometry."""

    def walk(node: Any) -> Iterable[Tuple[float, float]]:
        if node and isinstance(node[0], (int, float)):
            yield float(node[0]), float(node[1])
        else:
            for child in node:
                yield from walk(child)

    return walk(geometry.get("coordinates") or [])


def bbox(geometry: Dict[str, Any]) -> Tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of a GeoJSON geometry."""
    xs, ys = [], []
    for x, y in coordinates(geometry):
        xs.append(x)
        ys.append(y)
    if not xs:
        raise ValueError("empty geometry")
    return min(xs), min(ys), max(xs), max(ys)


def representative_point(geometry: Dict[str, Any]) -> Tuple[float, float]:
    """A point that stands for the geometry when finding its grid.

    A point itself; a polygon's bbox centre when it lies inside, else its first vertex;
    a line's middle vertex.
    """
    kind = geometry.get("type")
    if kind == "Point":
        c = geometry["coordinates"]
        return float(c[0]), float(c[1])
    if kind in ("Polygon", "MultiPolygon"):
        minx, miny, maxx, maxy = bbox(geometry)
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        if point_in_polygon(cx, cy, geometry):
            return cx, cy
    verts = list(coordinates(geometry))
    if not verts:
        raise ValueError("empty geometry")
    return verts[len(verts) // 2]


def check_geometry(geometry: Any) -> Dict[str, Any]:
    """Validates a GeoJSON geometry's shape and ranges; raises ValueError with the reason."""
    kinds = {
        "Point": 0,
        "MultiPoint": 1,
        "LineString": 1,
        "MultiLineString": 2,
        "Polygon": 2,
        "MultiPolygon": 3,
    }
    if not isinstance(geometry, dict) or geometry.get("type") not in kinds:
        raise ValueError("geometry must be a GeoJSON Point, LineString, Polygon or Multi*")
    depth = kinds[geometry["type"]]

    def walk(node: Any, level: int) -> None:
        if not isinstance(node, list):
            raise ValueError("coordinates must be nested lists")
        if level == 0:
            if len(node) < 2:
                raise ValueError("a position needs two numbers")
            x, y = node[0], node[1]
            for value, limit in ((x, 180.0), (y, 90.0)):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError("coordinates must be numbers")
                if isinstance(value, int) and abs(value) > 10**6:
                    raise ValueError("coordinates out of WGS 84 range")
                if not math.isfinite(value) or abs(value) > limit:
                    raise ValueError("coordinates out of WGS 84 range")
            return
        if not node:
            raise ValueError("empty coordinates")
        for child in node:
            walk(child, level - 1)

    walk(geometry.get("coordinates"), depth)
    return geometry
