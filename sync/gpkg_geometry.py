"""GeoPackage geometry blobs with plain ``sqlite3``: WKB, GeoPackageBinary, the ST_* functions.

Owns the encoding of geometries, on devices (no SpatiaLite on Android) and on the hub:
geometries are GeoJSON-like dicts (2D; a Z or M value is dropped on the way in and out),
written as ISO WKB inside a GeoPackageBinary header; and the ST_IsEmpty/ST_MinX/... SQL
functions that the GeoPackage R-tree triggers call, computed from those blobs.

Invariants:
- Blobs are GeoPackageBinary version 0 (spec 1.0-1.3, Req 19), written little-endian with no
  envelope for points, an [minx, maxx, miny, maxy] envelope (code 1) for other geometries,
  and the empty flag with no envelope for empty ones; the WKB inside is ISO little-endian 2D
  (an empty point is NaN NaN). Reading accepts both byte orders, envelope codes 0-4 and the
  ISO (1000/2000/3000) and EWKB (high-bit) Z/M variants.
- A value that is not GeoPackageBinary raises `GpkgError` (in SQL: the statement fails)
  rather than being read as empty.
"""

from __future__ import annotations

import math
import sqlite3
import struct
from collections.abc import Sequence
from typing import Any

Geometry = dict[str, Any]
BBox = tuple[float, float, float, float]


class GpkgError(ValueError):
    """A geometry, blob or GeoPackage that this module cannot read or write."""


_NAMES = tuple(
    "- Point LineString Polygon MultiPoint MultiLineString MultiPolygon GeometryCollection".split()
)
_CODES = {name: code for code, name in enumerate(_NAMES) if code}
_DEPTH = dict(zip(_NAMES[1:7], (0, 1, 2, 1, 2, 3)))  # nesting of positions in coordinates
_NAN_XY = struct.pack("<2d", math.nan, math.nan)


def _xy(pos: Sequence[float]) -> tuple[float, float]:
    if len(pos) < 2:
        raise GpkgError(f"a position needs x and y, got {pos!r}")
    return float(pos[0]), float(pos[1])


def _put_points(points: Sequence[Sequence[float]], out: list[bytes]) -> None:
    flat = [v for p in points for v in _xy(p)]
    out.append(struct.pack(f"<I{len(flat)}d", len(points), *flat))


def _put_geom(geom: Geometry, out: list[bytes]) -> None:
    if not isinstance(geom, dict):
        raise GpkgError(f"a geometry is a dict, got {type(geom).__name__}")
    code = _CODES.get(geom.get("type"))  # type: ignore[arg-type]
    if code is None:
        raise GpkgError(f"unsupported geometry type {geom.get('type')!r}")
    out.append(struct.pack("<BI", 1, code))
    if code == 7:
        parts = geom.get("geometries") or []
        out.append(struct.pack("<I", len(parts)))
        for part in parts:
            _put_geom(part, out)
        return
    coords = geom.get("coordinates") or []
    if code == 1:
        out.append(struct.pack("<2d", *_xy(coords)) if len(coords) else _NAN_XY)
    elif code == 2:
        _put_points(coords, out)
    elif code == 3:
        out.append(struct.pack("<I", len(coords)))
        for ring in coords:
            _put_points(ring, out)
    else:
        out.append(struct.pack("<I", len(coords)))
        for member in coords:
            _put_geom({"type": _NAMES[code - 3], "coordinates": member}, out)


def wkb_encode(geom: Geometry) -> bytes:
    """ISO WKB, little-endian, 2D (Z dropped). An empty point is written as NaN NaN."""
    out: list[bytes] = []
    _put_geom(geom, out)
    return b"".join(out)


def _count(data: bytes, off: int, e: str, item_size: int) -> tuple[int, int]:
    (n,) = struct.unpack_from(e + "I", data, off)
    if n * item_size > len(data) - off - 4:
        raise GpkgError(f"WKB count {n} at offset {off} runs past the end of the data")
    return n, off + 4


def _get_points(data: bytes, off: int, e: str, dims: int) -> tuple[list[list[float]], int]:
    n, off = _count(data, off, e, 8 * dims)
    vals = struct.unpack_from(f"{e}{n * dims}d", data, off)
    return [[vals[i], vals[i + 1]] for i in range(0, n * dims, dims)], off + 8 * n * dims


def _get_geom(data: bytes, off: int, depth: int = 0) -> tuple[Geometry, int]:
    if depth > 16:
        raise GpkgError("WKB nested too deeply")
    order = data[off]
    if order not in (0, 1):
        raise GpkgError(f"invalid WKB byte order {order} at offset {off}")
    e = "<" if order else ">"
    (raw,) = struct.unpack_from(e + "I", data, off + 1)
    off += 5
    dims = 2
    if raw & 0xE0000000:  # EWKB: Z, M and SRID flags in the high bits
        dims += bool(raw & 0x80000000) + bool(raw & 0x40000000)
        if raw & 0x20000000:
            off += 4
        raw &= 0x0FFFFFFF
    flavour, code = divmod(raw, 1000)
    if not 0 < code < len(_NAMES) or flavour > 3:
        raise GpkgError(f"unsupported WKB geometry type {raw}")
    dims += (0, 1, 1, 2)[flavour]
    name = _NAMES[code]
    if code == 1:
        x, y = struct.unpack_from(f"{e}{dims}d", data, off)[:2]
        coords: list[Any] = [] if math.isnan(x) and math.isnan(y) else [x, y]
        return {"type": name, "coordinates": coords}, off + 8 * dims
    if code == 2:
        coords, off = _get_points(data, off, e, dims)
        return {"type": name, "coordinates": coords}, off
    if code == 3:
        n, off = _count(data, off, e, 4)
        coords = []
        for _ in range(n):
            ring, off = _get_points(data, off, e, dims)
            coords.append(ring)
        return {"type": name, "coordinates": coords}, off
    n, off = _count(data, off, e, 9)
    parts = []
    for _ in range(n):
        part, off = _get_geom(data, off, depth + 1)
        if code != 7 and part["type"] != _NAMES[code - 3]:
            raise GpkgError(f"{name} holds a {part['type']}")
        parts.append(part)
    if code == 7:
        return {"type": name, "geometries": parts}, off
    return {"type": name, "coordinates": [p["coordinates"] for p in parts]}, off


def wkb_decode(data: bytes) -> Geometry:
    """Decode WKB (either byte order; ISO or EWKB Z/M/ZM variants) to a 2D geometry dict."""
    try:
        return _get_geom(bytes(data), 0)[0]
    except (struct.error, IndexError) as exc:
        raise GpkgError(f"truncated or invalid WKB ({exc})") from exc


def _bbox_or_none(geom: Geometry) -> BBox | None:
    gtype = geom.get("type")
    if gtype == "GeometryCollection":
        boxes = [b for b in map(_bbox_or_none, geom.get("geometries") or []) if b]
        if not boxes:
            return None
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
    depth = _DEPTH.get(gtype)  # type: ignore[arg-type]
    if depth is None:
        raise GpkgError(f"unsupported geometry type {gtype!r}")
    level: list[Any] = [geom.get("coordinates") or []]
    for _ in range(depth):
        level = [item for seq in level for item in seq]
    minx = miny = math.inf
    maxx = maxy = -math.inf
    for pos in level:
        if len(pos) < 2 or pos[0] != pos[0] or pos[1] != pos[1]:  # empty or NaN
            continue
        x, y = pos[0], pos[1]
        minx, maxx = min(minx, x), max(maxx, x)
        miny, maxy = min(miny, y), max(maxy, y)
    if minx == math.inf:
        return None
    return float(minx), float(miny), float(maxx), float(maxy)


def geometry_bbox(geom: Geometry) -> BBox:
    """(minx, miny, maxx, maxy) of a geometry; GpkgError for an empty one."""
    box = _bbox_or_none(geom)
    if box is None:
        raise GpkgError("an empty geometry has no bounding box")
    return box


_ENVELOPE_SIZES = (0, 32, 48, 48, 64)


def _blob(geom: Geometry, srs_id: int) -> tuple[bytes, BBox | None]:
    wkb = wkb_encode(geom)
    box = _bbox_or_none(geom)
    if box is None:
        head = struct.pack("<2sBBi", b"GP", 0, 0x11, srs_id)  # little-endian, empty
    elif geom["type"] == "Point":
        head = struct.pack("<2sBBi", b"GP", 0, 0x01, srs_id)
    else:
        head = struct.pack("<2sBBi4d", b"GP", 0, 0x03, srs_id, box[0], box[2], box[1], box[3])
    return head + wkb, box


_POINT_HEAD = struct.Struct("<2sBBiBIdd")  # header without envelope + WKB point, LE


def gpkg_blob(geom: Geometry | None, srs_id: int = 4326) -> bytes | None:
    """GeoPackageBinary for a geometry (None for None)."""
    if geom is None:
        return None
    coords = geom.get("coordinates")
    if geom.get("type") == "Point" and coords and len(coords) >= 2:
        # The hot path of bulk loads: one struct.pack for header and WKB.
        x, y = coords[0], coords[1]
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and x == x and y == y:
            return _POINT_HEAD.pack(b"GP", 0, 0x01, srs_id, 1, 1, float(x), float(y))
    return _blob(geom, srs_id)[0]


def _header(blob: bytes) -> tuple[int, int, int, tuple[float, ...] | None]:
    """(flags, srs_id, offset of the WKB, envelope's first four values or None)."""
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise GpkgError(f"a GeoPackage geometry is a blob, got {type(blob).__name__}")
    if len(blob) < 8 or bytes(blob[:2]) != b"GP":
        raise GpkgError("not a GeoPackage geometry blob (no 'GP' magic)")
    version, flags = blob[2], blob[3]
    if version != 0:
        raise GpkgError(f"unsupported GeoPackageBinary version {version}")
    if flags & 0x20:
        raise GpkgError("ExtendedGeoPackageBinary geometries are not supported")
    code = (flags >> 1) & 7
    if code > 4:
        raise GpkgError(f"invalid envelope indicator code {code} in GeoPackage blob")
    e = "<" if flags & 1 else ">"
    end = 8 + _ENVELOPE_SIZES[code]
    if len(blob) < end:
        raise GpkgError("GeoPackage blob truncated inside its header")
    (srs_id,) = struct.unpack_from(e + "i", blob, 4)
    env = struct.unpack_from(e + "4d", blob, 8) if code else None
    return flags, srs_id, end, env


def gpkg_blob_decode(blob: bytes | None) -> Geometry | None:
    """Geometry dict from GeoPackageBinary (any envelope code, byte order, empty flag)."""
    if blob is None:
        return None
    _, _, off, _ = _header(blob)
    return wkb_decode(bytes(blob[off:]))


def blob_envelope(blob: bytes) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) from the blob's header, else from its WKB; None when empty."""
    flags, _, off, env = _header(blob)
    if flags & 0x10:
        return None
    if env is not None and not any(v != v for v in env):
        return env  # type: ignore[return-value]
    if len(blob) >= off + 21 and blob[off] in (0, 1):
        e = "<" if blob[off] else ">"
        (raw,) = struct.unpack_from(e + "I", blob, off + 1)
        if raw in (1, 1001, 2001, 3001):  # plain point: no need to decode
            x, y = struct.unpack_from(e + "2d", blob, off + 5)
            return None if x != x else (x, x, y, y)
    box = _bbox_or_none(wkb_decode(bytes(blob[off:])))
    return None if box is None else (box[0], box[2], box[1], box[3])


# --------------------------------------------------------------- SQL functions, R*Tree


def _st(index: int) -> Any:
    def fn(blob: bytes | None) -> float | None:
        env = None if blob is None else blob_envelope(blob)
        return None if env is None else env[index]

    return fn


def _st_is_empty(blob: bytes | None) -> int | None:
    return None if blob is None else int(blob_envelope(blob) is None)


def register_st_functions(conn: sqlite3.Connection) -> None:
    """Register the ST_* functions that the GeoPackage R-tree triggers call. A value that is
    not GeoPackageBinary makes the statement fail rather than leave the index wrong."""
    funcs = {
        "ST_IsEmpty": _st_is_empty,
        "ST_MinX": _st(0),
        "ST_MaxX": _st(1),
        "ST_MinY": _st(2),
        "ST_MaxY": _st(3),
    }
    for name, fn in funcs.items():
        try:
            conn.create_function(name, 1, fn, deterministic=True)
        except sqlite3.NotSupportedError:  # SQLite older than 3.8.3
            conn.create_function(name, 1, fn)
