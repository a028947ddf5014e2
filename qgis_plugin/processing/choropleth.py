"""The style of the grid statistics layer: a choropleth of the open tasks per grid.

Built in code rather than shipped as a QML so that the legend's class labels and the label
text follow the plugin's language. The classes are fixed (0, 1–2, 3–4, 5–9, 10 and more)
rather than computed from the data, so a map of Monday and one of Friday, or of two streets,
read the same colours the same way. Each grid is labelled with its name and its open and
overdue counts.

`ChoroplethStyler` applies it when Processing loads the algorithm's output into the project
(the toolbox, `processing.runAndLoadResults`); the statistics dock applies it directly.
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from qgis.core import (
    QgsExpression,
    QgsFillSymbol,
    QgsGraduatedSymbolRenderer,
    QgsPalLayerSettings,
    QgsProcessingLayerPostProcessorInterface,
    QgsRendererRange,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QColor

FIELD = "open"
# (lower, upper, fill): inclusive bounds of open tasks; light to dark as the work piles up.
CLASSES: Tuple[Tuple[int, int, str], ...] = (
    (0, 0, "#fff5eb"),
    (1, 2, "#fdd0a2"),
    (3, 4, "#fd8d3c"),
    (5, 9, "#e6550d"),
    (10, 1_000_000, "#a63603"),
)


def class_labels() -> List[str]:
    """The legend's labels of `CLASSES`, in the same order."""
    return [
        "0",
        "1–2",
        "3–4",
        "5–9",
        QCoreApplication.translate("GridOps", "10 or more"),
    ]


def renderer() -> QgsGraduatedSymbolRenderer:
    """A graduated renderer on "open" with the fixed classes."""
    ranges = []
    for (lower, upper, colour), label in zip(CLASSES, class_labels()):
        symbol = QgsFillSymbol.createSimple(
            {"color": colour, "outline_color": "#4b5563", "outline_width": "0.4"}
        )
        ranges.append(QgsRendererRange(lower, upper, symbol, label))
    return QgsGraduatedSymbolRenderer(FIELD, ranges)


def label_expression() -> str:
    """The grid's name, then "open N · overdue M" in the plugin's language (the placeholders
    replaced in the expression, so a translation may put them in any order)."""
    counts = QCoreApplication.translate("GridOps", "open {open} · overdue {overdue}")
    text = (
        f"replace(replace({QgsExpression.quotedString(counts)}, '{{open}}', to_string(\"open\")),"
        f" '{{overdue}}', to_string(\"overdue\"))"
    )
    return f'coalesce("name", "code") || \'\\n\' || {text}'


def labeling() -> QgsVectorLayerSimpleLabeling:
    settings = QgsPalLayerSettings()
    settings.isExpression = True
    settings.fieldName = label_expression()
    text = QgsTextFormat()
    text.setSize(9)
    text.setColor(QColor("#111827"))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(1.0)
    buffer.setColor(QColor("#ffffff"))
    text.setBuffer(buffer)
    settings.setFormat(text)
    return QgsVectorLayerSimpleLabeling(settings)


def apply(layer: QgsVectorLayer) -> None:
    """Styles a grid statistics layer as the choropleth, labels on, and repaints it."""
    layer.setRenderer(renderer())
    layer.setLabeling(labeling())
    layer.setLabelsEnabled(True)
    layer.triggerRepaint()


class ChoroplethStyler(QgsProcessingLayerPostProcessorInterface):
    """Applies the choropleth when Processing loads the output layer into the project.

    Processing keeps only a pointer to the post-processor, so the Python object is held in
    `ChoroplethStyler.instance` until the next run replaces it."""

    instance: Optional[ChoroplethStyler] = None

    def postProcessLayer(self, layer: Any, context: Any, feedback: Any) -> None:
        if isinstance(layer, QgsVectorLayer):
            apply(layer)

    @staticmethod
    def create() -> ChoroplethStyler:
        ChoroplethStyler.instance = ChoroplethStyler()
        return ChoroplethStyler.instance
