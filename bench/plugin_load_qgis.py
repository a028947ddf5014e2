"""The QGIS side of `plugin_street_load_s` (`bench/plugin_load.py`): one measurement in this
process, a fresh headless QGIS (`python -m bench.plugin_load_qgis plugin|file|file-all …`,
run by `plugin_load.run_child`, which reads the JSON it writes).

- `plugin`: the plugin's own code in the order its Connect runs it, as JSL's dispatcher on a
  new replica: `Session.connect`, `GridOpsLayers.add()`, a `SyncTask` in QGIS's task manager
  (the main thread waits in a Qt event loop, as QGIS's does), `GridOpsLayers.refresh()`,
  then a `QgsMapRendererParallelJob` of the five layers over the street's extent; each step
  timed, and the sync's inside by wrapping `HubClient`/`Replica` methods on their classes.
- `file` / `file-all`: plain QGIS opening the run's replica file with the "ogr" provider and
  the shipped QML (the components layer; all five), rendering the same extent the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .plugin_load import CANVAS, CHILD_TIMEOUT_S, PASSWORD, TABLES, USERNAME


def map_settings(layers: list[Any], extent: Any, crs: Any) -> Any:
    """What a 1600×1000 canvas over `extent` draws: antialiased, labels on."""
    from qgis.core import QgsMapSettings
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(crs)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(*CANVAS))
    settings.setBackgroundColor(QColor("#ffffff"))
    settings.setFlag(QgsMapSettings.Antialiasing, True)
    settings.setFlag(QgsMapSettings.DrawLabeling, True)
    return settings


def render(settings: Any, components: Any, png: Path, check: bool = True) -> dict[str, Any]:
    """Renders with a `QgsMapRendererParallelJob` until it finished; checks the components
    are shown at this scale and (with `check`) that the image is a drawn map. Saves it to
    `png`. `done_at` is the `perf_counter()` when the job finished (checks and PNG after)."""
    from qgis.core import QgsMapRendererParallelJob

    if components.hasScaleBasedVisibility() and not components.isInScaleRange(settings.scale()):
        raise RuntimeError(
            f"the components are hidden at 1:{settings.scale():,.0f} by their style "
            f"(shown from 1:{components.minimumScale():,.0f}): the render would not draw them"
        )
    started = time.perf_counter()
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    done_at = time.perf_counter()
    errors = [f"{e.layerID}: {e.message}" for e in job.errors()]
    if errors:
        raise RuntimeError(f"rendering failed: {errors}")
    image = job.renderedImage()
    white = settings.backgroundColor().rgb()
    step = 8
    samples = [image.pixel(x, y) for x in range(0, image.width(), step)
               for y in range(0, image.height(), step)]  # fmt: skip
    inked = sum(1 for p in samples if p != white) / len(samples)
    if check and (
        (image.width(), image.height()) != CANVAS or inked < 0.2 or len(set(samples)) < 20
    ):
        raise RuntimeError(f"the render is not a drawn map ({inked:.0%} inked)")
    image.save(str(png), "PNG")
    return {
        "seconds": done_at - started,
        "done_at": done_at,
        "inked": inked,
        "scale": settings.scale(),
        "min_scale": components.minimumScale(),
    }


def timed_methods(seconds: dict[str, float]) -> None:
    """Wraps the client's and the replica's sync steps (on their classes: the sync task makes
    its own instances on its thread) so that each adds its wall time to `seconds`."""
    from sync.client import HubClient
    from sync.replica import Replica

    def wrap(cls: Any, method: str, label: str) -> None:
        inner = getattr(cls, method)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - started

        setattr(cls, method, timed)

    wrap(HubClient, "changes", "http changes")
    wrap(HubClient, "extract", "http extract (hub builds it, download)")
    wrap(Replica, "apply_changes", "replica apply_changes")
    wrap(Replica, "load_extract", "replica load_extract")
    wrap(Replica, "purge_photos", "replica purge_photos")


def measure_plugin(args: argparse.Namespace) -> dict[str, Any]:
    """The plugin's connect, sync, layers and first render, as one run (in this process)."""
    from qgis.core import QgsApplication, QgsMapSettings, QgsProject
    from qgis.PyQt.QtCore import QEventLoop, QTimer

    from bench.device import profile_top
    from qgis_plugin.core.layers import GridOpsLayers
    from qgis_plugin.core.session import Session
    from qgis_plugin.core.settings import ConnectionSettings
    from qgis_plugin.core.sync_task import SyncTask

    class ProfiledSyncTask(SyncTask):
        """The plugin's sync task, its thread under cProfile."""

        def run(self) -> bool:
            done, self.lines, self.short = profile_top(super().run, top=25)
            return done

    steps: dict[str, float] = {}
    sync_steps: dict[str, float] = {}
    timed_methods(sync_steps)
    settings = ConnectionSettings()
    settings.replica_folder = str(args.folder)
    session = Session(settings)
    project = QgsProject.instance()
    outcome: list[tuple[Any, Any]] = []
    loop = QEventLoop()

    started = mark = time.perf_counter()

    def step(name: str, at: float | None = None) -> None:
        nonlocal mark
        now = time.perf_counter() if at is None else at
        steps[name] = now - mark
        mark = now

    session.connect(args.url, USERNAME, PASSWORD, remember=False)
    step("login (Session.connect)")
    path = session.replica_path()
    assert path is not None
    group = GridOpsLayers(project, path)
    layers = group.add()
    step("layers (GridOpsLayers.add)")
    task = (ProfiledSyncTask if args.profile else SyncTask)(
        path, on_finished=lambda result, error: (outcome.append((result, error)), loop.quit())
    )
    QgsApplication.taskManager().addTask(task)
    QTimer.singleShot(CHILD_TIMEOUT_S * 1000, loop.quit)
    loop.exec_()
    step("sync (SyncTask)")
    if not outcome or outcome[0][1] is not None:
        raise RuntimeError(f"the sync did not complete: {outcome[0][1] if outcome else 'timeout'}")
    result = outcome[0][0]
    group.refresh()
    step("refresh (GridOpsLayers.refresh)")
    extent = layers["grids"].extent()
    crs = layers["grids"].crs()
    drawn = render(
        map_settings([layers[t] for t in TABLES], extent, crs),
        layers["components"],
        args.folder / "plugin.png",
    )
    step("first render (QgsMapRendererParallelJob)", drawn["done_at"])
    total = drawn["done_at"] - started
    counts = {t: layers[t].featureCount() for t in TABLES}
    apart = {}
    if args.profile:  # where the render's time goes: each layer alone, then without labels
        for table in TABLES:
            alone = map_settings([layers[table]], extent, crs)
            apart[table] = render(
                alone, layers["components"], args.folder / f"{table}.png", check=False
            )
        unlabelled = map_settings([layers[t] for t in TABLES], extent, crs)
        unlabelled.setFlag(QgsMapSettings.DrawLabeling, False)
        apart["all, no labels"] = render(unlabelled, layers["components"], args.folder / "nl.png")
    project.removeAllMapLayers()
    session.disconnect()
    return {
        "total": total,
        "steps": steps,
        "sync_steps": sync_steps,
        "result": {
            "pulled": result.pulled,
            "extract_loaded": result.extract_loaded,
            "bytes_received": result.bytes_received,
            "seconds": result.seconds,
        },
        "counts": counts,
        "extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
        "crs": crs.authid(),
        "render": drawn,
        "replica": path,
        "replica_bytes": os.path.getsize(path),
        "profile": getattr(task, "lines", []),
        "profile_short": getattr(task, "short", ""),
        "apart": {k: v["seconds"] for k, v in apart.items()},
    }


def measure_file(args: argparse.Namespace, tables: tuple[str, ...]) -> dict[str, Any]:
    """Plain QGIS: `tables` of the replica file as "ogr" layers with the shipped styles,
    rendered over the same extent (in this process)."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsProject,
        QgsRectangle,
        QgsVectorLayer,
    )

    from qgis_plugin.core.layers import style_path

    project = QgsProject.instance()
    extent = QgsRectangle(*args.extent)
    crs = QgsCoordinateReferenceSystem(args.crs)
    started = time.perf_counter()
    layers = {}
    for table in tables:
        layer = QgsVectorLayer(f"{args.replica}|layername={table}", table, "ogr")
        if not layer.isValid():
            raise RuntimeError(f"{args.replica} has no valid layer {table}")
        _message, ok = layer.loadNamedStyle(style_path(table))
        if not ok:
            raise RuntimeError(f"the style of {table} did not load")
        project.addMapLayer(layer)
        layers[table] = layer
    opened = time.perf_counter() - started
    drawn = render(
        map_settings([layers[t] for t in tables], extent, crs),
        layers["components"],
        args.folder / f"file-{len(tables)}.png",
    )
    total = drawn["done_at"] - started
    counts = {t: layers[t].featureCount() for t in tables}
    project.removeAllMapLayers()
    return {"total": total, "opened": opened, "render": drawn, "counts": counts}


def child_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plugin_load_qgis")
    parser.add_argument("mode", choices=("plugin", "file", "file-all"))
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--url")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--replica")
    parser.add_argument("--extent", type=float, nargs=4)
    parser.add_argument("--crs")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import Qgis
    from qgis.testing import start_app

    start_app()
    if args.mode == "plugin":
        answer = measure_plugin(args)
    else:
        answer = measure_file(args, TABLES if args.mode == "file-all" else ("components",))
    answer["qgis"] = Qgis.version()
    args.out.write_text(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
