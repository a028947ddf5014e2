"""The shipped QML styles at the scales a street office uses (made by
tools/make_qgis_styles.py): components sized on the ground, fine dots over a street and kind
symbols up close; task titles labelled from 1:2,500 in, not over a whole street.

Each case renders real features from a replica through QGIS and measures the ink.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")

from qgis.core import QgsMapSettings, QgsPointXY, QgsRectangle, QgsVectorLayer

from qgis_plugin.core.layers import style_path
from sync.replica import Replica

LON, LAT = 121.4310, 31.2210
SIZE = (400, 400)


@pytest.fixture
def replica(tmp_path: Path) -> str:
    """A replica with one street light and one task 60 m east of it, far from each other
    on screen at every scale used here."""
    path = tmp_path / "styles.gpkg"
    rep = Replica(path)
    me = {"id": "jsl-dispatcher", "role": "dispatcher", "street_code": "JSL", "grid_codes": []}
    rep.set_state("user", json.dumps(me))
    light = {
        "type": "Feature",
        "id": "light-1",
        "geometry": {"type": "Point", "coordinates": [LON, LAT]},
        "properties": {"layer": "components", "kind": "streetlight", "name": "路灯 1"},
    }
    task = {
        "id": "00000000-0000-4000-8000-000000000001",
        "kind": "litter",
        "title": "路面垃圾堆积（镇宁路网格）",
        "status": "open",
        "priority": "normal",
        "lon": LON + 0.0006,
        "lat": LAT,
        "grid_code": "JSL-07",
        "street_code": "JSL",
        "version": 1,
        "photos": [],
        "history": [],
        "conflicts": [],
    }
    rep.apply_changes(
        [
            {"entity": "twin_feature", "id": "light-1", "op": "upsert", "data": light},
            {"entity": "task", "id": task["id"], "op": "upsert", "data": task},
        ],
        "c1",
    )
    rep.close()
    return str(path)


def layer(project: Any, path: str, table: str) -> QgsVectorLayer:
    lyr = QgsVectorLayer(f"{path}|layername={table}", table, "ogr")
    assert lyr.isValid()
    _message, ok = lyr.loadNamedStyle(style_path(table))
    assert ok
    project.addMapLayer(lyr)
    return lyr


def render(layers: list[QgsVectorLayer], scale: float, png: Path) -> tuple[Any, QgsMapSettings]:
    """The layers around the street light at `scale` (EPSG:4326, as a new project is), with
    labels; returns the image and the settings."""
    from qgis.core import QgsMapRendererSequentialJob
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[0].crs())
    settings.setOutputSize(QSize(*SIZE))
    settings.setBackgroundColor(QColor("#ffffff"))
    settings.setFlag(QgsMapSettings.Antialiasing, True)
    settings.setFlag(QgsMapSettings.DrawLabeling, True)
    half = 0.001
    settings.setExtent(QgsRectangle(LON - half, LAT - half, LON + half, LAT + half))
    # Zoom the extent until the map is at the wanted scale (within 1 %).
    for _ in range(20):
        ratio = scale / settings.scale()
        if abs(ratio - 1) < 0.01:
            break
        half *= ratio
        settings.setExtent(QgsRectangle(LON - half, LAT - half, LON + half, LAT + half))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    assert image.save(str(png), "PNG")
    return image, settings


def inked(image: Any, x0: int, x1: int) -> int:
    """Pixels that are not white between columns x0 and x1."""
    white = 0xFFFFFFFF
    return sum(
        1 for x in range(x0, x1) for y in range(image.height()) if image.pixel(x, y) != white
    )


def test_components_are_dots_over_a_street_and_symbols_up_close(
    qgis_app: Any, project: Any, replica: str, tmp_path: Path
) -> None:
    components = layer(project, replica, "components")
    sizes = {}
    for scale in (500, 1_000, 4_000):
        image, settings = render([components], scale, tmp_path / f"components-{scale}.png")
        assert components.isInScaleRange(settings.scale())
        sizes[scale] = inked(image, 0, image.width())
    # full size (3.2 mm) up close, whatever the zoom; about 1 mm over a street at 1:4,000
    # (the metres are real ones: in EPSG:4326 QGIS's scale leaves out the latitude)
    assert sizes[500] == sizes[1_000]
    mm = settings.outputDpi() / 25.4
    assert sizes[1_000] > (3.0 * mm) ** 2 * 0.3  # a star of 3.2 mm
    assert 0 < sizes[4_000] < sizes[1_000] / 4  # drawn, not hidden, but a dot


def test_task_titles_show_from_1_2500_in(
    qgis_app: Any, project: Any, replica: str, tmp_path: Path
) -> None:
    tasks = layer(project, replica, "tasks")
    labels = {}
    for scale in (2_000, 4_000):
        image, settings = render([tasks], scale, tmp_path / f"tasks-{scale}.png")
        task_x = int(settings.mapToPixel().transform(QgsPointXY(LON + 0.0006, LAT)).x())
        marker = inked(image, task_x - 12, task_x + 12)
        labels[scale] = inked(image, 0, image.width()) - marker
        assert marker > 0  # the task itself is drawn at both scales
    assert labels[2_000] > 200  # its title, a dozen Chinese characters with a halo
    assert labels[4_000] == 0  # over a street: no titles
