"""The GridOps layer group: the replica GeoPackage's feature tables as ordinary QGIS layers.

`GridOpsLayers(project, replica_path).add()` finds or makes a top-level group "GridOps" and
puts in it, top to bottom, tasks, components, pipelines, grids and areas, each read through
the "ogr" provider (`<replica>|layername=<table>`) and styled from the QML shipped in
`qgis_plugin/styles/` (made by `tools/make_qgis_styles.py`). A layer is recognised by its
custom property `gridops/table` and its source, so `add()` run again adds nothing.
`refresh()` after a sync reloads each provider and repaints, without reloading the project.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional

from qgis.core import QgsLayerTreeGroup, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QCoreApplication

GROUP_NAME = "GridOps"
TABLE_PROPERTY = "gridops/table"
STYLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "styles")
# Top to bottom in the layer tree: points over lines over outlines over fills.
TABLES = ("tasks", "components", "pipelines", "grids", "areas")


def _tr(text: str) -> str:
    return QCoreApplication.translate("GridOpsLayers", text)


def layer_titles() -> Dict[str, str]:
    """The layer names users see (translated)."""
    return {
        "tasks": _tr("Tasks"),
        "components": _tr("Components"),
        "pipelines": _tr("Pipelines"),
        "grids": _tr("Grids"),
        "areas": _tr("Areas"),
    }


def style_path(table: str) -> str:
    return os.path.join(STYLES_DIR, f"{table}.qml")


class GridOpsLayers:
    """The GridOps group of `project` for the replica at `replica_path`."""

    def __init__(self, project: QgsProject, replica_path: str) -> None:
        self.project = project
        self.replica_path = os.path.abspath(replica_path)

    def source(self, table: str) -> str:
        return f"{self.replica_path}|layername={table}"

    def group(self) -> Optional[QgsLayerTreeGroup]:
        return self.project.layerTreeRoot().findGroup(GROUP_NAME)

    def layers(self) -> Dict[str, QgsVectorLayer]:
        """This replica's GridOps layers in the project, by table."""
        found: Dict[str, QgsVectorLayer] = {}
        for layer in self.project.mapLayers().values():
            table = layer.customProperty(TABLE_PROPERTY)
            if (
                table in TABLES
                and isinstance(layer, QgsVectorLayer)
                and os.path.abspath(layer.source().split("|")[0]) == self.replica_path
            ):
                found.setdefault(str(table), layer)
        return found

    def layer(self, table: str) -> Optional[QgsVectorLayer]:
        return self.layers().get(table)

    def add(self) -> Dict[str, QgsVectorLayer]:
        """Adds what is missing of the group and its layers (idempotent); returns them all.

        Raises ValueError when the replica has no such table (not a GridOps replica)."""
        root = self.project.layerTreeRoot()
        group = self.group() or root.insertGroup(0, GROUP_NAME)
        existing = self.layers()
        titles = layer_titles()
        for index, table in enumerate(TABLES):
            layer = existing.get(table)
            if layer is None:
                layer = QgsVectorLayer(self.source(table), titles[table], "ogr")
                if not layer.isValid():
                    raise ValueError(f"{self.replica_path} has no valid layer {table!r}")
                self.apply_style(layer, table)
                # After the style: loading a QML replaces the layer's custom properties.
                layer.setCustomProperty(TABLE_PROPERTY, table)
                self.project.addMapLayer(layer, False)
                group.insertLayer(index, layer)
                existing[table] = layer
        return existing

    @staticmethod
    def apply_style(layer: QgsVectorLayer, table: str) -> bool:
        """Loads the shipped QML of `table` into `layer`; False when it is missing or bad."""
        path = style_path(table)
        if not os.path.exists(path):
            return False
        _message, ok = layer.loadNamedStyle(path)
        layer.triggerRepaint()
        return bool(ok)

    def refresh(self) -> List[str]:
        """Re-reads every GridOps layer from the replica (after a sync) and repaints it, the
        project untouched. Returns the tables refreshed."""
        refreshed = []
        layers = self.layers()
        for table in TABLES:
            layer = layers.get(table)
            if layer is None:
                continue
            layer.dataProvider().reloadData()
            layer.updateExtents()
            layer.triggerRepaint()
            refreshed.append(table)
        return refreshed

    def remove(self) -> None:
        """Takes this replica's layers (and the group, once empty) out of the project."""
        for layer in self.layers().values():
            self.project.removeMapLayer(layer.id())
        group = self.group()
        if group is not None and not group.children():
            group.parent().removeChildNode(group)
