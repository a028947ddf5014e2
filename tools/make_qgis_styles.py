"""Writes the QML styles the QGIS plugin ships (`qgis_plugin/styles/<table>.qml`).

The renderers and labels are built here with PyQGIS and saved with `saveNamedStyle`; the
QML files are committed, and this script is their one source. Run it again after a change:
`QT_QPA_PLATFORM=offscreen .venv/bin/python tools/make_qgis_styles.py`.
"""

from __future__ import annotations

import os
import sys

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsFillSymbol,
    QgsLineSymbol,
    QgsMapUnitScale,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsRendererCategory,
    QgsRuleBasedRenderer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsUnitTypes,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtGui import QColor, QFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "qgis_plugin", "styles")

ACTIVE = (
    "reported",
    "open",
    "assigned",
    "declined",
    "in_progress",
    "paused",
    "submitted",
    "rework",
)
# status: (legend, fill colour, size mm)
TASK_STATUS = {
    "reported": ("待受理 reported", "#ff9800", 3.6),
    "open": ("待派遣 open", "#fdd835", 3.6),
    "assigned": ("已派遣 assigned", "#1e88e5", 3.6),
    "declined": ("被退回 declined", "#8e24aa", 3.6),
    "in_progress": ("处置中 in progress", "#00acc1", 3.6),
    "paused": ("暂停 paused", "#8d6e63", 3.6),
    "submitted": ("待核查 submitted", "#7cb342", 3.6),
    "rework": ("返工 rework", "#f4511e", 3.6),
    "closed": ("已结案 closed", "#2e7d32", 2.4),
    "canceled": ("已取消 canceled", "#bdbdbd", 2.2),
    "invalid": ("无效 invalid", "#bdbdbd", 2.2),
}
# kind: (legend, shape, fill, size mm)
COMPONENTS = {
    "streetlight": ("路灯", "star", "#fdd835", 3.2),
    "hydrant": ("消防栓", "triangle", "#e53935", 2.8),
    "manhole": ("井盖", "circle", "#757575", 2.0),
    "litter_bin": ("垃圾桶", "square", "#43a047", 2.2),
    "camera": ("摄像头", "diamond", "#1e88e5", 2.8),
    "electrical_box": ("电箱", "square", "#fb8c00", 2.6),
    "bus_stop": ("公交站", "pentagon", "#8e24aa", 3.4),
    "bike_rack": ("非机动车停放点", "hexagon", "#00897b", 3.0),
}
PIPELINES = {
    "water": ("给水管", "#1e88e5", "solid"),
    "drain": ("排水管", "#6d4c41", "solid"),
    "gas": ("燃气管", "#f9a825", "dash"),
    "power": ("电力管线", "#e53935", "dot"),
}
AREAS = {
    "compound": ("住宅小区", "#fff3e0"),
    "building_site": ("建筑工地", "#ffab91"),
    "protected_building": ("优秀历史建筑", "#ce93d8"),
    "school": ("学校", "#90caf9"),
    "market": ("菜市场", "#a5d6a7"),
}
COMPONENTS_FROM_SCALE = 5000  # components show from 1:5000 in
# Components are sized in metres on the ground, so that a street of 100,000 of them reads as
# fine dots and a grid up close as kind symbols: full size (the mm above) from 1:1,500 in,
# shrinking with the scale below that, never under COMPONENT_MIN_MM.
COMPONENTS_FULL_SCALE = 1500
COMPONENT_MIN_MM = 0.8
# Task titles from 1:2,500 in: a street overview holds thousands of tasks, whose labels would
# cover the map (and placing them took seconds); there the status colours tell the story.
TASK_LABELS_FROM_SCALE = 2500
OVERDUE = (
    '"due_at" IS NOT NULL AND to_datetime("due_at") < now() AND "status" IN ('
    + ", ".join(f"'{s}'" for s in ACTIVE)
    + ")"
)


def text_format(size: float, colour: str = "#212121", bold: bool = False) -> QgsTextFormat:
    fmt = QgsTextFormat()
    font = QFont()
    font.setBold(bold)
    fmt.setFont(font)
    fmt.setSize(size)
    fmt.setColor(QColor(colour))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(0.8)
    buffer.setColor(QColor("#ffffff"))
    fmt.setBuffer(buffer)
    return fmt


def marker(shape: str, fill: str, size: float, outline: str = "#263238", width: float = 0.3):
    return QgsMarkerSymbol.createSimple(
        {
            "name": shape,
            "color": fill,
            "size": str(size),
            "outline_color": outline,
            "outline_width": str(width),
        }
    )


def ground_sized(symbol: QgsMarkerSymbol, size_mm: float, width_mm: float) -> QgsMarkerSymbol:
    """The marker sized in metres on the ground (as large as `size_mm` at
    COMPONENTS_FULL_SCALE, never larger; never smaller than COMPONENT_MIN_MM); its outline
    likewise. A fixed size per render, so QGIS still draws it from its cached image."""
    metres = COMPONENTS_FULL_SCALE / 1000.0
    layer = symbol.symbolLayer(0)
    layer.setSize(size_mm * metres)
    layer.setSizeUnit(QgsUnitTypes.RenderMetersInMapUnits)
    limits = QgsMapUnitScale()
    limits.minSizeMMEnabled, limits.minSizeMM = True, COMPONENT_MIN_MM
    limits.maxSizeMMEnabled, limits.maxSizeMM = True, size_mm
    layer.setSizeMapUnitScale(limits)
    layer.setStrokeWidth(width_mm * metres)
    layer.setStrokeWidthUnit(QgsUnitTypes.RenderMetersInMapUnits)
    stroke = QgsMapUnitScale()
    stroke.maxSizeMMEnabled, stroke.maxSizeMM = True, width_mm
    layer.setStrokeWidthMapUnitScale(stroke)
    return symbol


def ring(size: float, colour: str, width: float, style: str = "solid") -> QgsMarkerSymbol:
    return QgsMarkerSymbol.createSimple(
        {
            "name": "circle",
            "color": "0,0,0,0",
            "size": str(size),
            "outline_color": colour,
            "outline_width": str(width),
            "outline_style": style,
        }
    )


def tasks_style(layer: QgsVectorLayer) -> None:
    root = QgsRuleBasedRenderer.Rule(None)
    for status, (legend, colour, size) in TASK_STATUS.items():
        root.appendChild(
            QgsRuleBasedRenderer.Rule(
                marker("circle", colour, size), 0, 0, f"\"status\" = '{status}'", legend
            )
        )
    root.appendChild(
        QgsRuleBasedRenderer.Rule(ring(6.0, "#d50000", 0.9), 0, 0, OVERDUE, "超期 overdue")
    )
    root.appendChild(
        QgsRuleBasedRenderer.Rule(
            marker("star", "#d50000", 2.6, "#ffffff", 0.2),
            0,
            0,
            '"priority" = \'urgent\' AND "status" IN (' + ", ".join(f"'{s}'" for s in ACTIVE) + ")",
            "紧急 urgent",
        )
    )
    # Stable rule keys (QGIS makes random ones): the file changes only where the style does.
    root.setRuleKey("tasks")
    for rule, key in zip(root.children(), [*TASK_STATUS, "overdue", "urgent"]):
        rule.setRuleKey(f"tasks-{key}")
    layer.setRenderer(QgsRuleBasedRenderer(root))
    settings = QgsPalLayerSettings()
    settings.fieldName = "title"
    settings.setFormat(text_format(8.5))
    settings.placement = QgsPalLayerSettings.OrderedPositionsAroundPoint
    settings.dist = 1.2
    settings.priority = 8
    settings.scaleVisibility = True
    settings.maximumScale = 0
    settings.minimumScale = TASK_LABELS_FROM_SCALE
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)


def categorised(field: str, table: dict, make) -> QgsCategorizedSymbolRenderer:
    cats = [QgsRendererCategory(kind, make(*spec[1:]), spec[0]) for kind, spec in table.items()]
    return QgsCategorizedSymbolRenderer(field, cats)


def components_style(layer: QgsVectorLayer) -> None:
    def symbol(shape: str, fill: str, size: float) -> QgsMarkerSymbol:
        return ground_sized(marker(shape, fill, size, "#37474f", 0.25), size, 0.25)

    renderer = categorised("kind", COMPONENTS, symbol)
    renderer.addCategory(QgsRendererCategory("", symbol("circle", "#9e9e9e", 1.8), "其他"))
    layer.setRenderer(renderer)
    layer.setLabelsEnabled(False)
    # A street holds thousands of components: drawn from one grid's scale in, they would
    # bury the tasks on a street overview.
    layer.setScaleBasedVisibility(True)
    layer.setMinimumScale(COMPONENTS_FROM_SCALE)


def pipelines_style(layer: QgsVectorLayer) -> None:
    def line(colour: str, style: str) -> QgsLineSymbol:
        return QgsLineSymbol.createSimple(
            {"line_color": colour, "line_width": "0.55", "line_style": style, "capstyle": "round"}
        )

    renderer = categorised("kind", PIPELINES, line)
    renderer.addCategory(QgsRendererCategory("", line("#9e9e9e", "solid"), "其他"))
    layer.setRenderer(renderer)
    layer.setOpacity(0.85)
    layer.setLabelsEnabled(False)


def areas_style(layer: QgsVectorLayer) -> None:
    def fill(colour: str) -> QgsFillSymbol:
        symbol = QgsFillSymbol.createSimple(
            {"color": colour, "outline_color": "#8d6e63", "outline_width": "0.2"}
        )
        symbol.setOpacity(0.55)
        return symbol

    renderer = categorised("kind", AREAS, fill)
    renderer.addCategory(QgsRendererCategory("", fill("#e0e0e0"), "其他"))
    layer.setRenderer(renderer)
    settings = QgsPalLayerSettings()
    settings.fieldName = "name"
    settings.setFormat(text_format(7.5, "#5d4037"))
    settings.placement = QgsPalLayerSettings.Horizontal
    settings.priority = 3
    settings.maximumScale = 0
    settings.minimumScale = 12000
    settings.scaleVisibility = True
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)


def grids_style(layer: QgsVectorLayer) -> None:
    symbol = QgsFillSymbol.createSimple(
        {
            "color": "0,0,0,0",
            "style": "no",
            "outline_color": "#1a237e",
            "outline_width": "0.7",
            "outline_style": "dash",
        }
    )
    layer.renderer().setSymbol(symbol)
    settings = QgsPalLayerSettings()
    settings.isExpression = True
    settings.fieldName = "\"code\" || '\\n' || coalesce(\"name\", '')"
    settings.setFormat(text_format(11, "#1a237e", bold=True))
    settings.placement = QgsPalLayerSettings.OverPoint
    settings.priority = 10
    settings.obstacle = False
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)


STYLES = {
    "tasks": tasks_style,
    "components": components_style,
    "pipelines": pipelines_style,
    "grids": grids_style,
    "areas": areas_style,
}


def main(replica_path: str) -> None:
    os.makedirs(OUT, exist_ok=True)
    for table, style in STYLES.items():
        layer = QgsVectorLayer(f"{replica_path}|layername={table}", table, "ogr")
        if not layer.isValid():
            raise SystemExit(f"{replica_path}: no layer {table}")
        style(layer)
        path = os.path.join(OUT, f"{table}.qml")
        _message, ok = layer.saveNamedStyle(path)
        if not ok:
            raise SystemExit(f"could not write {path}")
        print(path)
        del layer


if __name__ == "__main__":
    if os.environ.get("QT_HASH_SEED") != "0":
        # Qt writes XML attributes in hash order: a fixed seed keeps the QML files' text
        # the same from one run to the next, so a change shows as the lines it changes.
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "QT_HASH_SEED": "0"})
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.testing import start_app

    start_app()
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        import tempfile

        sys.path.insert(0, ROOT)
        from sync.replica import Replica

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "empty.gpkg")
            Replica(path).close()
            main(path)
