"""Reading the office's own layers (GeoPackage or GeoJSON from any GIS) as twin features.

`read_source()` yields GeoJSON Features in WGS 84, ready for `SQLiteStore.upsert_twin`, from
every feature table of a GeoPackage (or one, by name) or a GeoJSON file, transforming the
coordinates when the source is in another CRS: EPSG:3857 and CGCS2000 (EPSG:4490, which
matches WGS 84 to well under a metre) built in; any other through GDAL's `osr` when it is
installed. Errors are `ImportProblem` with a message that names the file, the layer and the
fix: a file that is neither format, a missing id or kind field, a CRS with no transform.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import gpkg

GEOMETRY_LAYERS = {
    "Point": "components",
    "MultiPoint": "components",
    "LineString": "pipelines",
    "MultiLineString": "pipelines",
    "Polygon": "areas",
    "MultiPolygon": "areas",
}
_R = 6378137.0


class ImportProblem(ValueError):
    """Why a file cannot be imported, for the person running the import."""


@dataclass
class FieldMap:
    id_field: str = "id"
    kind_field: str = "kind"
    kind: str | None = None  # one kind for every feature, instead of a field
    name_field: str = "name"
    status_field: str = "status"


def _mercator_to_wgs84(x: float, y: float) -> tuple[float, float]:
    lon = math.degrees(x / _R)
    lat = math.degrees(2 * math.atan(math.exp(y / _R)) - math.pi / 2)
    return lon, lat


def transformer_for(epsg: int | None, where: str) -> Callable[[float, float], tuple[float, float]]:
    """A function lon/lat ← source x/y for this EPSG code; ImportProblem if none exists."""
    if epsg in (None, 4326, 4490, 0):
        return lambda x, y: (x, y)
    if epsg in (3857, 900913):
        return _mercator_to_wgs84
    try:
        from osgeo import osr
    except ImportError:
        raise ImportProblem(
            f"{where}: coordinates are in EPSG:{epsg}, which GridOps can only transform with "
            "GDAL installed (python3-gdal); reproject the layer to EPSG:4326 in QGIS first"
        ) from None
    from osgeo import gdal

    src, dst = osr.SpatialReference(), osr.SpatialReference()
    gdal.PushErrorHandler("CPLQuietErrorHandler")  # our message, not GDAL's, reaches people
    try:
        known = src.ImportFromEPSG(int(epsg)) == 0
    except RuntimeError:
        known = False
    finally:
        gdal.PopErrorHandler()
    if not known:
        raise ImportProblem(f"{where}: unknown CRS EPSG:{epsg}; reproject to EPSG:4326 first")
    dst.ImportFromEPSG(4326)
    for ref in (src, dst):
        ref.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(src, dst)

    def run(x: float, y: float) -> tuple[float, float]:
        lon, lat, _ = transform.TransformPoint(x, y)
        return lon, lat

    return run


def _map_coords(node: Any, fn: Callable[[float, float], tuple[float, float]]) -> Any:
    if node and isinstance(node[0], (int, float)):
        return list(fn(float(node[0]), float(node[1])))
    return [_map_coords(child, fn) for child in node]


def _feature(
    props: dict[str, Any],
    geometry: dict[str, Any] | None,
    fields: FieldMap,
    where: str,
    transform: Callable[[float, float], tuple[float, float]],
    index: int,
) -> dict[str, Any]:
    if fields.id_field not in props:
        raise ImportProblem(
            f"{where}: no field {fields.id_field!r} for the feature id "
            f"(fields: {', '.join(sorted(props)) or 'none'}); name one with "
            "--id-field"
        )
    if fields.kind is None and fields.kind_field not in props:
        raise ImportProblem(
            f"{where}: no field {fields.kind_field!r} for the kind (fields: "
            f"{', '.join(sorted(props)) or 'none'}); name one with --kind-field "
            "or give every feature one kind with --kind"
        )
    if geometry is None:
        raise ImportProblem(f"{where}: feature {props.get(fields.id_field)!r} has no geometry")
    fid = props[fields.id_field]
    if fid is None or str(fid).strip() == "":
        raise ImportProblem(f"{where}: feature number {index + 1} has an empty id")
    out_props = {
        k: v
        for k, v in props.items()
        if k not in (fields.id_field, fields.kind_field, fields.name_field, fields.status_field)
        and _plain(v)
    }
    out_props["kind"] = fields.kind or props.get(fields.kind_field)
    if props.get(fields.name_field) is not None:
        out_props["name"] = str(props[fields.name_field])
    if props.get(fields.status_field) is not None:
        out_props["status"] = str(props[fields.status_field])
    geometry = {
        "type": geometry["type"],
        "coordinates": _map_coords(geometry["coordinates"], transform),
    }
    if geometry["type"] == "MultiPoint":
        if len(geometry["coordinates"]) != 1:
            raise ImportProblem(
                f"{where}: feature {fid!r} is a MultiPoint of {len(geometry['coordinates'])} "
                "points; a component is one point"
            )
        geometry = {"type": "Point", "coordinates": geometry["coordinates"][0]}
    return {"type": "Feature", "id": str(fid), "geometry": geometry, "properties": out_props}


def _plain(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (str, int, bool))


def read_source(
    path: str | Path, fields: FieldMap, source_layer: str | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(twin layer, feature) for every feature of the file, in WGS 84."""
    path = Path(path)
    if not path.is_file():
        raise ImportProblem(f"{path}: no such file")
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(b"SQLite format 3"):
        yield from _read_gpkg(path, fields, source_layer)
    elif head.lstrip()[:1] == b"{":
        yield from _read_geojson(path, fields)
    else:
        raise ImportProblem(f"{path}: not a GeoPackage or a GeoJSON file")


def _layer_of(geometry: dict[str, Any] | None, where: str) -> str:
    kind = (geometry or {}).get("type")
    if kind not in GEOMETRY_LAYERS:
        raise ImportProblem(f"{where}: geometry type {kind} cannot be a twin feature")
    return GEOMETRY_LAYERS[kind]


def _read_gpkg(
    path: Path, fields: FieldMap, source_layer: str | None
) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        layers = gpkg.read_layers(conn)
    except (sqlite3.DatabaseError, gpkg.GpkgError) as err:
        raise ImportProblem(f"{path}: not a readable GeoPackage ({err})") from None
    if source_layer is not None:
        layers = [layer for layer in layers if layer["table_name"] == source_layer]
        if not layers:
            raise ImportProblem(f"{path}: no feature table named {source_layer!r}")
    if not layers:
        raise ImportProblem(f"{path}: the GeoPackage has no feature table")
    try:
        for layer in layers:
            where = f"{path.name}:{layer['table_name']}"
            epsg = None
            if str(layer.get("organization") or "").upper() == "EPSG":
                epsg = int(layer["organization_coordsys_id"])
            elif layer.get("srs_id") not in (None, 4326, 0, -1):
                raise ImportProblem(
                    f"{where}: CRS {layer.get('srs_id')} is not an EPSG code; "
                    "reproject to EPSG:4326 first"
                )
            transform = transformer_for(epsg, where)
            for index, (props, geometry) in enumerate(
                gpkg.read_features(conn, layer["table_name"])
            ):
                feature = _feature(props, geometry, fields, where, transform, index)
                yield _layer_of(feature["geometry"], where), feature
    finally:
        conn.close()


def _read_geojson(path: Path, fields: FieldMap) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ImportProblem(f"{path}: not valid GeoJSON ({err})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ImportProblem(f"{path}: a GeoJSON FeatureCollection is expected")
    epsg = None
    crs = ((doc.get("crs") or {}).get("properties") or {}).get("name")
    if crs and "CRS84" not in crs:
        digits = crs.rsplit(":", 1)[-1]
        if not digits.isdigit():
            raise ImportProblem(f"{path}: unknown CRS {crs!r}")
        epsg = int(digits)
    transform = transformer_for(epsg, path.name)
    for index, item in enumerate(doc.get("features") or []):
        if not isinstance(item, dict):
            raise ImportProblem(f"{path.name}: feature number {index + 1} is not an object")
        props = dict(item.get("properties") or {})
        if "id" in item and fields.id_field not in props:
            props[fields.id_field] = item["id"]
        feature = _feature(props, item.get("geometry"), fields, path.name, transform, index)
        yield _layer_of(feature["geometry"], path.name), feature
