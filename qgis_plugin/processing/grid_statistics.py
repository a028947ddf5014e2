"""Processing algorithm `gridops:gridstatistics`: the grids of the replica as polygons with
their statistics (`core.stats`: open, overdue, closed in the last 7 days, median hours to
close) as fields, written to any feature sink (a GeoPackage, a temporary layer …). Loaded
into the project it is styled as a choropleth of open tasks (`choropleth`). The street's
totals are outputs too (numbers a model can use).
"""

from __future__ import annotations

from typing import Any, Dict

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication

from ..core import stats
from . import choropleth
from .algorithm import GridOpsAlgorithm, help_text, make_field

OUTPUT = "OUTPUT"
FIELD_KINDS = {
    "code": "text",
    "name": "text",
    "street_code": "text",
    "worker": "text",
    "open": "int",
    "overdue": "int",
    "closed_week": "int",
    "median_close_h": "real",
}
TOTALS = {
    "TOTAL_OPEN": "open",
    "TOTAL_OVERDUE": "overdue",
    "TOTAL_CLOSED_WEEK": "closed_week",
    "TOTAL_MEDIAN_CLOSE_H": "median_close_h",
}


def output_fields() -> QgsFields:
    fields = QgsFields()
    for name in stats.FIELDS:
        fields.append(make_field(name, FIELD_KINDS[name]))
    return fields


class GridStatisticsAlgorithm(GridOpsAlgorithm):
    """Grid statistics as a polygon layer."""

    def name(self) -> str:
        return "gridstatistics"

    def displayName(self) -> str:
        return QCoreApplication.translate("GridOps", "Grid statistics")

    def shortHelpString(self) -> str:
        return help_text(
            QCoreApplication.translate(
                "GridOps", "Writes the replica's grids with four figures per grid."
            ),
            QCoreApplication.translate("GridOps", "open: tasks not closed, canceled or invalid."),
            QCoreApplication.translate("GridOps", "overdue: open tasks past their due time."),
            QCoreApplication.translate("GridOps", "closed_week: tasks closed in the last 7 days."),
            QCoreApplication.translate(
                "GridOps", "median_close_h: their median hours from creation to closing."
            ),
            QCoreApplication.translate(
                "GridOps", "Loaded into the project, it is a choropleth of open tasks."
            ),
        )

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_replica_parameter()
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                OUTPUT,
                QCoreApplication.translate("GridOps", "Grid statistics"),
                QgsProcessing.TypeVectorPolygon,
            )
        )
        for name in TOTALS:
            self.addOutput(QgsProcessingOutputNumber(name, name.lower()))

    def processAlgorithm(
        self, parameters: Dict[str, Any], context: Any, feedback: Any
    ) -> Dict[str, Any]:
        path = self.replica_path(parameters, context)
        conn = self.open_replica(path)
        try:
            table = stats.replica_stats(conn)
        finally:
            conn.close()
        grids = QgsVectorLayer(f"{path}|layername=grids", "grids", "ogr")
        if not grids.isValid():
            raise QgsProcessingException(
                QCoreApplication.translate("GridOps", "The replica has no readable grids layer.")
            )
        geometries = {f["code"]: QgsGeometry(f.geometry()) for f in grids.getFeatures()}
        fields = output_fields()
        crs = grids.crs() if grids.crs().isValid() else QgsCoordinateReferenceSystem("EPSG:4326")
        sink, dest_id = self.parameterAsSink(
            parameters, OUTPUT, context, fields, QgsWkbTypes.MultiPolygon, crs
        )
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, OUTPUT))
        for index, row in enumerate(table.rows):
            if feedback.isCanceled():
                break
            feature = QgsFeature(fields)
            values = row.values()
            feature.setAttributes([values[name] for name in stats.FIELDS])
            geometry = geometries.get(row.code)
            if geometry is not None:
                feature.setGeometry(geometry)
            else:
                feedback.pushInfo(
                    QCoreApplication.translate(
                        "GridOps", "Grid {code} has tasks but is no longer in the replica."
                    ).format(code=row.code)
                )
            if not sink.addFeature(feature, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(self.writeFeatureError(sink, parameters, OUTPUT))
            feedback.setProgress(100.0 * (index + 1) / max(1, len(table.rows)))
        if context.willLoadLayerOnCompletion(dest_id):
            details = context.layerToLoadOnCompletionDetails(dest_id)
            details.setPostProcessor(choropleth.ChoroplethStyler.create())
        results: Dict[str, Any] = {OUTPUT: dest_id}
        for name, attribute in TOTALS.items():
            results[name] = getattr(table.total, attribute)
        return results
