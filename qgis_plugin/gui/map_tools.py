"""Map tools of the Tasks dock: `CreateTaskTool` hands a clicked point, in WGS 84, to the dock
(which then asks what the new task is)."""

from __future__ import annotations

from typing import Any, Callable

from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject
from qgis.gui import QgsMapMouseEvent, QgsMapTool
from qgis.PyQt.QtCore import Qt

WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")


class CreateTaskTool(QgsMapTool):
    """A click on the map hands its point, in WGS 84, to `on_point`."""

    def __init__(self, canvas: Any, on_point: Callable[[QgsPointXY], None]) -> None:
        super().__init__(canvas)
        self.on_point = on_point
        self.setCursor(Qt.CrossCursor)

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:
        if event.button() == Qt.LeftButton:
            self.pick(self.toMapCoordinates(event.pos()))

    def pick(self, point: QgsPointXY) -> None:
        """`point` in the canvas's CRS."""
        crs = self.canvas().mapSettings().destinationCrs()
        if crs.isValid() and crs != WGS84:
            point = QgsCoordinateTransform(crs, WGS84, QgsProject.instance()).transform(point)
        self.on_point(QgsPointXY(point))
