"""Tasks made from twin features selected on the map: which features are selected in the
GridOps twin layers (components, pipelines, areas), the new-task dialog's defaults for them
(the likely task kind, the feature's name in the title) and each task's fields (a point on
the feature, its id in the description so the worker finds the right lamp post)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject
from qgis.PyQt.QtCore import QCoreApplication

from .task_table import TASK_KIND_FOR_COMPONENT, component_kind_labels

TWIN_TABLES = ("components", "pipelines", "areas")
WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
MAX_PLACES_SHOWN = 5


def selected_twin_features(layers: Any) -> List[Dict[str, Any]]:
    """The selected features of the twin layers of `layers` (a `GridOpsLayers`), each as
    `{table, id, kind, name, lon, lat}` with a point on the feature in WGS 84. Features
    without a geometry are left out."""
    found: List[Dict[str, Any]] = []
    for table in TWIN_TABLES:
        layer = layers.layer(table)
        if layer is None or not layer.selectedFeatureCount():
            continue
        to_wgs84 = None
        if layer.crs().isValid() and layer.crs() != WGS84:
            to_wgs84 = QgsCoordinateTransform(layer.crs(), WGS84, QgsProject.instance())
        has_name = "name" in layer.fields().names()
        for feature in layer.selectedFeatures():
            geometry = feature.geometry()
            if geometry is None or geometry.isEmpty():
                continue
            point = geometry.pointOnSurface().asPoint()
            if to_wgs84 is not None:
                point = to_wgs84.transform(point)
            found.append(
                {
                    "table": table,
                    "id": str(feature["id"]),
                    "kind": str(feature["kind"] or ""),
                    "name": str(feature["name"] or "") if has_name else "",
                    "lon": point.x(),
                    "lat": point.y(),
                }
            )
    return found


def feature_title(feature: Dict[str, Any]) -> str:
    """The feature's name ("路灯 JSL-01-0001"), or the kind as users read it and its id."""
    if feature["name"]:
        return str(feature["name"])
    label = component_kind_labels().get(feature["kind"], feature["kind"])
    return f"{label} {feature['id']}".strip()


def new_task_defaults(features: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The new-task dialog's defaults for tasks at `features` (the first one decides)."""
    first = features[0]
    shown = ", ".join(f["id"] for f in features[:MAX_PLACES_SHOWN])
    if len(features) > MAX_PLACES_SHOWN:
        shown += QCoreApplication.translate("GridOps", " and {0} more").format(
            len(features) - MAX_PLACES_SHOWN
        )
    return {
        "kind": TASK_KIND_FOR_COMPONENT.get(first["kind"], "other"),
        "title": feature_title(first),
        "place": shown,
    }


def task_for_feature(
    feature: Dict[str, Any], values: Dict[str, Any], defaults: Dict[str, Any]
) -> Tuple[str, float, float, Dict[str, Any]]:
    """`(kind, lon, lat, fields)` of the task at `feature` from the dialog's `values`. A title
    left as suggested becomes each feature's own; the description starts with the feature's
    id."""
    fields = {k: v for k, v in values.items() if k != "kind" and v is not None}
    if values.get("title") == defaults.get("title"):
        fields["title"] = feature_title(feature)
    line = QCoreApplication.translate("GridOps", "Component: {0}").format(feature["id"])
    fields["description"] = "\n".join(filter(None, [line, values.get("description")]))
    return values["kind"], feature["lon"], feature["lat"], fields
