"""`plugin_street_load_s`: the QGIS plugin connecting to a street of 100,000 components,
until the first full map render of the street is done.

The street: a hub of its own (`BenchHub` in its own temporary folder, served by `gridops
serve` on loopback): the demo district (`sync.demo.seed(hub, tasks=False)`), 2,000 tasks in
street JSL (and as many in HM) through `hub.store.push`, and JSL's twin filled up to exactly
100,000 components (made-up street lights, hydrants, manholes... of the demo's kinds, at
random points of the street, each checked with `store.locate` to fall in one of its grids)
with `store.upsert_twin`, beside the demo's pipelines and areas.

A run is a fresh QGIS process (headless: `QT_QPA_PLATFORM=offscreen`, `qgis.testing.
start_app`, a throwaway profile) that does, with the plugin's own code and in the order the
plugin's Connect does it (`GridOpsPlugin._connected`, then `_sync_finished`), as JSL's
dispatcher on a new replica file:
1. `Session.connect` (the login; the replica file is made),
2. `GridOpsLayers.add()`: the five layers from the replica with the shipped styles,
3. a `SyncTask` in QGIS's task manager: tasks, users and grids pulled, the twin extract
   downloaded and loaded, the feed pulled on; the main thread waits in a Qt event loop as
   QGIS's own loop does,
4. `GridOpsLayers.refresh()`,
5. a `QgsMapRendererParallelJob` of the five layers over the street's extent (its grids'
   extent) at 1600×1000 in the layers' CRS (EPSG:4326, which a new project takes from its
   first layer), antialiased, labels on; the components must be visible at that scale
   (checked), the image must be drawn (checked) and hold 100,000 components (checked).
The figure is the time from 1 to the end of 5, median of `RUNS` runs. Before each run the
hub's extract cache is emptied, so the hub builds the street's extract for this connect,
as it does for the first device after any twin change; one more run on the cached extract
is printed beside. The parts are printed (login, layers, the sync's steps timed by
wrapping `HubClient`/`Replica` methods in the run's process, refresh, render), and the
hub's CPU per run. When the target is missed, one more run profiles the sync task's thread
(cProfile) and the hub's `build_extract` is profiled in-process.

The anchor, same run, each in a fresh QGIS process too: plain QGIS opening the `components`
layer of the run's replica file (`QgsVectorLayer("<file>|layername=components", …, "ogr")`),
loading the shipped `components.qml` and rendering the same extent with the same settings.
Also printed: the same with all five layers from the file.

`python -m bench.plugin_load plugin|file|file-all …` is the QGIS side of one run (used by
`run`; it writes its timings as JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .common import BenchHub, Figure, load_text, median, say

NAME = "plugin_street_load_s"
ANCHOR = "qgis_file_street_load_s"
TARGET = 2.0
STREET = "JSL"
USERNAME = "jsl-dispatcher"
PASSWORD = "demo"
COMPONENTS = 100_000
STREET_TASKS = 2_000  # and as many in the other street (the bench hub alternates batches)
RUNS = 3
CANVAS = (1600, 1000)
BATCH = 2_000
CHILD_TIMEOUT_S = 600
ROOT = Path(__file__).resolve().parent.parent
TABLES = ("tasks", "components", "pipelines", "grids", "areas")


# ------------------------------------------------------------------- the street's hub


def add_components(data: Path, rng: random.Random, total: int) -> tuple[int, float]:
    """Fills the street's `components` up to `total` with random points of its grids.

    Returns (components added, seconds). Raises RuntimeError if the count comes out wrong.
    """
    from sync import demo_district, geo
    from sync.server.hub import Hub

    hub = Hub(data)
    try:
        store = hub.store
        count_sql = "SELECT COUNT(*) FROM twin WHERE layer = 'components' AND street_code = ?"
        have = store.reader.execute(count_sql, (STREET,)).fetchone()[0]
        if have > total:
            raise ValueError(f"street {STREET} already holds {have:,} components (> {total:,})")
        grids = [g for g in store.list_grids() if g["properties"]["street_code"] == STREET]
        boxes = [geo.bbox(g["geometry"]) for g in grids]
        minx, miny = min(b[0] for b in boxes), min(b[1] for b in boxes)
        maxx, maxy = max(b[2] for b in boxes), max(b[3] for b in boxes)
        kinds = demo_district.COMPONENT_KINDS
        started = time.perf_counter()
        batch: list[dict[str, Any]] = []
        added = 0
        while have + added + len(batch) < total:
            lon, lat = round(rng.uniform(minx, maxx), 7), round(rng.uniform(miny, maxy), 7)
            where = store.locate(lon, lat)
            if where is None or where[1] != STREET:
                continue
            n = added + len(batch)
            kind = rng.choice(kinds)
            status = "normal" if rng.random() >= 0.03 else "damaged"
            batch.append(
                {
                    "type": "Feature",
                    "id": f"bench-cmp-{n:06d}",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {
                        "kind": kind,
                        "name": f"{demo_district.KIND_NAMES[kind]} {where[0]}-B{n:06d}",
                        "status": status,
                    },
                }
            )
            if len(batch) == BATCH or have + added + len(batch) == total:
                counts = store.upsert_twin("components", batch)
                if counts["inserted"] != len(batch):
                    raise RuntimeError(f"adding components: {counts} for {len(batch)}")
                added += len(batch)
                batch = []
        seconds = time.perf_counter() - started
        got = store.reader.execute(count_sql, (STREET,)).fetchone()[0]
        if got != total:
            raise RuntimeError(f"street {STREET} holds {got:,} components, not {total:,}")
        return added, seconds
    finally:
        hub.close()


def street_hub(components: int = COMPONENTS, tasks: int = STREET_TASKS) -> BenchHub:
    """A served hub whose street JSL has `components` components and `tasks` tasks."""
    street = BenchHub(tasks=2 * tasks, seed=20260604)
    try:
        say(f"  street hub in {street.tmp}")
        street.prepare()
        added, seconds = add_components(street.data, street.rng, components)
        say(f"  {added:,} components added to {STREET} through store.upsert_twin in "
            f"{seconds:.1f} s: {components:,} in the street")  # fmt: skip
        street.start()
    except BaseException:
        street.close()
        raise
    return street


def clear_extracts(data: Path) -> int:
    """Empties the hub's extract cache (`Hub.extracts`, safe to delete); files removed."""
    removed = 0
    for path in (data / "extracts").glob("*.gpkg"):
        path.unlink()
        removed += 1
    return removed


# ------------------------------------------------------------------- the QGIS side


def child_env(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    runtime = folder / "xdg-runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    for name in ("cache", "config", "data"):
        (folder / f"xdg-{name}").mkdir(exist_ok=True)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=str(runtime),
        XDG_CACHE_HOME=str(folder / "xdg-cache"),
        XDG_CONFIG_HOME=str(folder / "xdg-config"),
        XDG_DATA_HOME=str(folder / "xdg-data"),
        TMPDIR=str(folder),  # start_app's throwaway profile goes here
    )
    return env


def run_child(mode: str, folder: Path, *args: str) -> dict[str, Any]:
    """One QGIS process (`python -m bench.plugin_load MODE …`); its JSON answer."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{mode}.json"
    command = [sys.executable, "-m", "bench.plugin_load", mode, "--folder", str(folder),
               "--out", str(out), *args]  # fmt: skip
    proc = subprocess.run(command, cwd=ROOT, env=child_env(folder), capture_output=True,
                          text=True, timeout=CHILD_TIMEOUT_S)  # fmt: skip
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(
            f"{' '.join(command)} exited with {proc.returncode}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    answer: dict[str, Any] = json.loads(out.read_text())
    return answer


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
    parser = argparse.ArgumentParser(prog="python -m bench.plugin_load")
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


# ------------------------------------------------------------------- the benchmark


def _steps_text(runs: list[dict[str, Any]], key: str) -> str:
    names = list(dict.fromkeys(k for r in runs for k in r[key]))
    return "; ".join(f"{n} {median([r[key].get(n, 0.0) for r in runs]):.2f}" for n in names)


def _check_counts(counts: dict[str, int], expected: int, what: str) -> None:
    if counts.get("components") != expected:
        raise AssertionError(f"{what}: {counts.get('components')} components, not {expected:,}")


def run(bench: BenchHub | None = None) -> list[Figure]:
    """The benchmark (the main bench hub is not used: the street has a hub of its own)."""
    street = street_hub(COMPONENTS, STREET_TASKS)
    try:
        return _measure(street, COMPONENTS)
    finally:
        street.close()


def _measure(street: BenchHub, components: int) -> list[Figure]:
    load_before = load_text()
    plugin_runs: list[dict[str, Any]] = []
    file_runs: list[dict[str, Any]] = []
    all_runs: list[dict[str, Any]] = []

    def one_run(n: int, cold: bool, profile: bool = False) -> dict[str, Any]:
        folder = street.tmp / f"run-{n}"
        if cold:
            clear_extracts(street.data)
        cpu = street.hub_cpu_s()
        answer = run_child("plugin", folder, "--url", street.url,
                           *(["--profile"] if profile else []))  # fmt: skip
        answer["hub_cpu"] = street.hub_cpu_s() - cpu
        answer["extract_bytes"] = sum(
            p.stat().st_size for p in (street.data / "extracts").glob("*.gpkg")
        )
        _check_counts(answer["counts"], components, "the plugin's layers")
        return answer

    def anchors(answer: dict[str, Any], every_layer: bool) -> None:
        folder = street.tmp / f"anchor-{len(file_runs)}"
        where = ["--replica", answer["replica"], "--crs", answer["crs"], "--extent",
                 *(repr(v) for v in answer["extent"])]  # fmt: skip
        modes = (("file", file_runs), ("file-all", all_runs))
        for mode, runs in modes if every_layer else modes[:1]:
            got = run_child(mode, folder, *where)
            _check_counts(got["counts"], components, f"plain QGIS ({mode})")
            runs.append(got)

    for n in range(RUNS):
        answer = one_run(n, cold=True)
        plugin_runs.append(answer)
        say(f"  run {n + 1}: {answer['total']:.2f} s ({_steps_text([answer], 'steps')}); "
            f"hub CPU {answer['hub_cpu']:.2f} s")  # fmt: skip
        anchors(answer, every_layer=n == 0)
        say(f"    plain QGIS from the file: components {file_runs[-1]['total']:.2f} s"
            + (f", all five layers {all_runs[-1]['total']:.2f} s" if n == 0 else ""))  # fmt: skip
    warm = one_run(RUNS, cold=False)
    say(f"  run on the hub's cached extract: {warm['total']:.2f} s")

    first = plugin_runs[0]
    value = median([r["total"] for r in plugin_runs])
    anchor = median([r["total"] for r in file_runs])
    anchor_all = median([r["total"] for r in all_runs])
    scale = first["render"]["scale"]
    notes = [
        f"{load_before} before the runs, {load_text()} after (a busy machine reads high)",
        f"street {STREET}: {components:,} components, {first['counts']['pipelines']:,} "
        f"pipelines, {first['counts']['areas']:,} areas, {first['counts']['grids']} grids, "
        f"{first['counts']['tasks']:,} tasks in {USERNAME}'s replica "
        f"({first['replica_bytes'] / 1e6:,.1f} MB); QGIS {first['qgis']}",
        f"render: {CANVAS[0]}×{CANVAS[1]} over the street's grids' extent in {first['crs']} "
        f"at 1:{scale:,.0f} (the components' style shows them from 1:"
        f"{first['render']['min_scale']:,.0f}: checked), antialiased, labels on",
        "runs (new replica, extract built by the hub): "
        + ", ".join(f"{r['total']:.2f}" for r in plugin_runs)
        + f" s; on the hub's cached extract: {warm['total']:.2f} s",
        "where the time went (medians, s): " + _steps_text(plugin_runs, "steps"),
        "inside the sync (medians, s): " + _steps_text(plugin_runs, "sync_steps"),
        f"hub CPU per connect {median([r['hub_cpu'] for r in plugin_runs]):.2f} s (cached "
        f"extract: {warm['hub_cpu']:.2f} s); the extract file {first['extract_bytes'] / 1e6:,.1f} "
        f"MB, the sync's bytes received as the client counts them "
        f"{first['result']['bytes_received'] / 1e6:,.1f} MB",
        f"plain QGIS, components from the replica file: open + style "
        f"{median([r['opened'] for r in file_runs]):.2f} s, render "
        f"{median([r['render']['seconds'] for r in file_runs]):.2f} s; all five layers "
        f"{anchor_all:.2f} s (render {median([r['render']['seconds'] for r in all_runs]):.2f} s)",
    ]
    if value > TARGET:
        profiled = one_run(RUNS + 1, cold=True, profile=True)
        say("  the sync task's thread under cProfile (one more run, top by own time):")
        for line in profiled["profile"]:
            say(f"    {line}")
        notes.append(
            "the sync task's thread (cProfile, own time): "
            + profiled["profile_short"].split(": ", 1)[-1]
        )
        apart = "; ".join(f"{k} {v:.2f}" for k, v in profiled["apart"].items())
        say(f"  the same render again, each layer alone, then without labels (s): {apart}")
        notes.append(f"render again, each layer alone, then all without labels (s): {apart}")
        notes.append(_hub_profile(street))
    source = (
        f"QGIS {first['qgis']} (QgsVectorLayer 'ogr', the shipped QML, "
        "QgsMapRendererParallelJob), measured in this run on the run's replica file"
    )
    return [
        Figure(
            name=NAME,
            value=value,
            unit="s",
            target=TARGET,
            higher_is_better=False,
            anchor=(
                f"plain QGIS: the components layer from the replica file, same style and "
                f"extent, {anchor:.2f} s (all five layers {anchor_all:.2f} s)"
            ),
            anchor_source=source,
            notes=notes,
        ),
        Figure(
            name=ANCHOR,
            value=anchor,
            unit="s",
            target=None,
            higher_is_better=False,
            anchor="the plugin's connect, sync, load and first render, above",
            anchor_source=source,
            notes=[
                "runs (fresh QGIS each): "
                + ", ".join(f"{r['total']:.2f}" for r in file_runs)
                + f" s; all five layers (first run only): {anchor_all:.2f} s"
            ],
        ),
    ]


def _hub_profile(street: BenchHub) -> str:
    """The hub's `build_extract` for the street's dispatcher under cProfile, in-process
    (the served hub stopped first); prints the top functions, returns a one-line summary."""
    from sync.server.extract import build_extract
    from sync.server.hub import Hub

    from .device import profile_top

    street.stop()
    hub = Hub(street.data)
    try:
        actor = hub.store.actor(hub.store.user(USERNAME))
        target = street.tmp / "profiled-extract.gpkg"
        with hub.store.snapshot() as conn:
            started = time.perf_counter()
            _path, lines, short = profile_top(
                lambda: build_extract(hub.store, conn, actor, target), top=15
            )
            seconds = time.perf_counter() - started
    finally:
        hub.close()
    say(f"  the hub's build_extract for {USERNAME} under cProfile ({seconds:.2f} s):")
    for line in lines:
        say(f"    {line}")
    return f"hub's build_extract (cProfile, {seconds:.2f} s): " + short.split(": ", 1)[1]


if __name__ == "__main__":
    sys.exit(child_main())
