"""`plugin_street_load_s`: the QGIS plugin connecting to a street of 100,000 components,
until the first full map render of the street is done.

The street: a hub of its own (`BenchHub` in its own temporary folder, served by `gridops
serve` on loopback): the demo district (`sync.demo.seed(hub, tasks=False)`), 2,000 tasks in
street JSL (and as many in HM) through `hub.store.push`, and JSL's twin filled up to exactly
100,000 components (made-up street lights, hydrants, manholes... of the demo's kinds, at
random points of the street, each checked with `store.locate` to fall in one of its grids)
with `store.upsert_twin`, beside the demo's pipelines and areas.

What is measured: the connect a street office sees. The hub builds a big street's extract
ahead, in the background (`sync.server.prebuild`: at start when missing, and after twin
changes), so the first dispatcher who connects after the twin was imported downloads a file
that is already there; the benchmark waits for that build after starting the hub (its time
and CPU are printed) and checks that every measured connect was served that same file. The
cold case (no file yet: the hub builds it inside the request, as when prebuilding is off
with GRIDOPS_PREBUILD_EXTRACTS=0, or for the first connect within seconds of a twin change)
is the second figure, `plugin_street_load_cold_s`: the hub restarted with prebuilding off and
its extract cache emptied before each run.

A run is a fresh QGIS process (`bench/plugin_load_qgis.py`; headless, a throwaway profile)
that does, with the plugin's own code and in the order the plugin's Connect does it
(`GridOpsPlugin._connected`, then `_sync_finished`), as JSL's dispatcher on a new replica:
1. `Session.connect` (the login; the replica file is made),
2. `GridOpsLayers.add()`: the five layers from the replica with the shipped styles,
3. a `SyncTask` in QGIS's task manager: tasks, users and grids pulled, the twin extract
   downloaded and loaded, the feed pulled on,
4. `GridOpsLayers.refresh()`,
5. a `QgsMapRendererParallelJob` of the five layers over the street's extent (its grids'
   extent) at 1600×1000 in the layers' CRS (EPSG:4326, which a new project takes from its
   first layer), antialiased, labels on; the components must be visible at that scale
   (checked), the image must be drawn (checked) and hold 100,000 components (checked).
The figure is the time from 1 to the end of 5, median of `RUNS` runs. The parts are printed
(login, layers, the sync's steps, refresh, render) and the hub's CPU per run. When the target
is missed, one more run profiles the sync task's thread (cProfile) and renders each layer
alone, and the hub's `build_extract` is profiled in-process.

The anchor, same run, each in a fresh QGIS process too: plain QGIS opening the `components`
layer of the run's replica file (`QgsVectorLayer("<file>|layername=components", …, "ogr")`),
loading the shipped `components.qml` and rendering the same extent with the same settings.
Also printed: the same with all five layers from the file.
"""

from __future__ import annotations

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
COLD = "plugin_street_load_cold_s"
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
PREBUILD_TIMEOUT_S = 300
ROOT = Path(__file__).resolve().parent.parent
TABLES = ("tasks", "components", "pipelines", "grids", "areas")


# ------------------------------------------------------------------- the street's hub


def add_components(data: Path, rng: random.Random, total: int) -> tuple[int, float]:
    """Fills the street's `components` up to `total` with random points of its grids.

    Returns (components added, seconds). Raises RuntimeError if the count comes out wrong.
    """
    from sync import demo_district, geo
    from sync.server.hub import Hub, HubSettings
    from sync.server.prebuild import PrebuildSettings

    hub = Hub(data, HubSettings(prebuild=PrebuildSettings(enabled=False)))
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


# ------------------------------------------------------------------- a QGIS process


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
    """One QGIS process (`python -m bench.plugin_load_qgis MODE …`); its JSON answer."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{mode}.json"
    command = [sys.executable, "-m", "bench.plugin_load_qgis", mode, "--folder", str(folder),
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


# ------------------------------------------------------------------- the benchmark


def _steps_text(runs: list[dict[str, Any]], key: str) -> str:
    names = list(dict.fromkeys(k for r in runs for k in r[key]))
    return "; ".join(f"{n} {median([r[key].get(n, 0.0) for r in runs]):.2f}" for n in names)


def _check_counts(counts: dict[str, int], expected: int, what: str) -> None:
    if counts.get("components") != expected:
        raise AssertionError(f"{what}: {counts.get('components')} components, not {expected:,}")


def extract_files(data: Path) -> dict[str, tuple[int, int]]:
    """The hub's cached extracts: file name -> (inode, size)."""
    return {p.name: (p.stat().st_ino, p.stat().st_size) for p in (data / "extracts").glob("*.gpkg")}


def dispatcher_extract(data: Path) -> Path:
    """The file the hub serves JSL's dispatcher now: `extracts/<its ETag>.gpkg` (the ETag
    read from the hub's database, as the extract route reads it)."""
    from sync.store import SQLiteStore

    store = SQLiteStore(data / "hub.sqlite")
    try:
        actor = store.actor(store.user(USERNAME))
        with store.snapshot() as conn:
            etag = store.twin_etag(conn, actor)
    finally:
        store.close()
    return data / "extracts" / f"{etag}.gpkg"


def wait_for_prebuild(street: BenchHub) -> tuple[float, float, int]:
    """Waits until the served hub has built the dispatcher's extract ahead (its background
    prebuilder); returns (seconds from the hub answering /health, the hub's CPU seconds
    meanwhile, the file's bytes). Raises RuntimeError after PREBUILD_TIMEOUT_S."""
    started, cpu = time.perf_counter(), street.hub_cpu_s()
    target = dispatcher_extract(street.data)
    while not target.exists():
        if time.perf_counter() - started > PREBUILD_TIMEOUT_S:
            raise RuntimeError(f"the hub did not build {target.name} ahead:\n{street.server_log()}")
        time.sleep(0.05)
    return time.perf_counter() - started, street.hub_cpu_s() - cpu, target.stat().st_size


def restart(street: BenchHub, prebuild: bool) -> None:
    """Serves the street's hub again, with its extract prebuilder on or off."""
    street.stop()
    before = os.environ.get("GRIDOPS_PREBUILD_EXTRACTS")
    os.environ["GRIDOPS_PREBUILD_EXTRACTS"] = "1" if prebuild else "0"
    try:
        street.start()
    finally:
        if before is None:
            del os.environ["GRIDOPS_PREBUILD_EXTRACTS"]
        else:
            os.environ["GRIDOPS_PREBUILD_EXTRACTS"] = before


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
    cold_runs: list[dict[str, Any]] = []
    file_runs: list[dict[str, Any]] = []
    all_runs: list[dict[str, Any]] = []

    def one_run(n: int, cold: bool, profile: bool = False) -> dict[str, Any]:
        folder = street.tmp / f"run-{n}"
        if cold:
            clear_extracts(street.data)
        served = dispatcher_extract(street.data)
        before = extract_files(street.data).get(served.name)
        if (before is None) != cold:
            raise AssertionError(f"{served.name} {'is' if before else 'is not'} there already")
        cpu = street.hub_cpu_s()
        answer = run_child("plugin", folder, "--url", street.url,
                           *(["--profile"] if profile else []))  # fmt: skip
        answer["hub_cpu"] = street.hub_cpu_s() - cpu
        after = extract_files(street.data).get(served.name)
        if after is None or (not cold and after != before):
            raise AssertionError(f"{served.name} was not the file served ahead / built")
        answer["extract_bytes"] = after[1]
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

    ahead_s, ahead_cpu, ahead_bytes = wait_for_prebuild(street)
    say(f"  the hub built {USERNAME}'s extract ahead {ahead_s:.2f} s after it started serving "
        f"(its quiet time of 2 s included; hub CPU {ahead_cpu:.2f} s; "
        f"{ahead_bytes / 1e6:,.1f} MB)")  # fmt: skip
    for n in range(RUNS):
        answer = one_run(n, cold=False)
        plugin_runs.append(answer)
        say(f"  run {n + 1}: {answer['total']:.2f} s ({_steps_text([answer], 'steps')}); "
            f"hub CPU {answer['hub_cpu']:.2f} s")  # fmt: skip
        anchors(answer, every_layer=n == 0)
        say(f"    plain QGIS from the file: components {file_runs[-1]['total']:.2f} s"
            + (f", all five layers {all_runs[-1]['total']:.2f} s" if n == 0 else ""))  # fmt: skip
    say("  cold: the hub served again with GRIDOPS_PREBUILD_EXTRACTS=0, its cache emptied "
        "before each run: it builds the extract inside the request")  # fmt: skip
    restart(street, prebuild=False)
    for n in range(RUNS):
        answer = one_run(RUNS + n, cold=True)
        cold_runs.append(answer)
        say(f"  cold run {n + 1}: {answer['total']:.2f} s ({_steps_text([answer], 'steps')}); "
            f"hub CPU {answer['hub_cpu']:.2f} s")  # fmt: skip

    first = plugin_runs[0]
    value = median([r["total"] for r in plugin_runs])
    cold_value = median([r["total"] for r in cold_runs])
    anchor = median([r["total"] for r in file_runs])
    anchor_all = median([r["total"] for r in all_runs])
    scale = first["render"]["scale"]
    load_after = load_text()
    notes = [
        f"{load_before} before the runs, {load_after} after (a busy machine reads high)",
        f"street {STREET}: {components:,} components, {first['counts']['pipelines']:,} "
        f"pipelines, {first['counts']['areas']:,} areas, {first['counts']['grids']} grids, "
        f"{first['counts']['tasks']:,} tasks in {USERNAME}'s replica "
        f"({first['replica_bytes'] / 1e6:,.1f} MB); QGIS {first['qgis']}",
        f"render: {CANVAS[0]}×{CANVAS[1]} over the street's grids' extent in {first['crs']} "
        f"at 1:{scale:,.0f} (the components' style shows them from 1:"
        f"{first['render']['min_scale']:,.0f}: checked), antialiased, labels on",
        f"what is measured: a connect to a hub that built the street's extract ahead (in the "
        f"background, {ahead_s:.2f} s after it started serving, hub CPU {ahead_cpu:.2f} s), "
        f"as an office connects after the twin was imported; checked: no extract built during "
        f"a measured connect. The hub building it inside the request: {COLD}",
        "runs (new replica each): " + ", ".join(f"{r['total']:.2f}" for r in plugin_runs) + " s",
        "where the time went (medians, s): " + _steps_text(plugin_runs, "steps"),
        "inside the sync (medians, s): " + _steps_text(plugin_runs, "sync_steps"),
        f"hub CPU per connect {median([r['hub_cpu'] for r in plugin_runs]):.2f} s; the extract "
        f"file {first['extract_bytes'] / 1e6:,.1f} MB, the sync's bytes received as the client "
        f"counts them {first['result']['bytes_received'] / 1e6:,.1f} MB",
        f"plain QGIS, components from the replica file: open + style "
        f"{median([r['opened'] for r in file_runs]):.2f} s, render "
        f"{median([r['render']['seconds'] for r in file_runs]):.2f} s; all five layers "
        f"{anchor_all:.2f} s (render {median([r['render']['seconds'] for r in all_runs]):.2f} s)",
    ]
    cold_notes = [
        f"{load_before} before the runs, {load_after} after",
        "the hub served with GRIDOPS_PREBUILD_EXTRACTS=0 and its extract cache emptied before "
        "each run: the first connect after a twin change when nothing was built ahead",
        "runs: " + ", ".join(f"{r['total']:.2f}" for r in cold_runs) + " s",
        "where the time went (medians, s): " + _steps_text(cold_runs, "steps"),
        "inside the sync (medians, s): " + _steps_text(cold_runs, "sync_steps"),
        f"hub CPU per connect {median([r['hub_cpu'] for r in cold_runs]):.2f} s",
    ]
    if value > TARGET:
        restart(street, prebuild=True)
        wait_for_prebuild(street)
        profiled = one_run(2 * RUNS, cold=False, profile=True)
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
        cold_notes.append(_hub_profile(street))
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
            name=COLD,
            value=cold_value,
            unit="s",
            target=None,
            higher_is_better=False,
            anchor=f"the same connect on the extract built ahead, {value:.2f} s ({NAME})",
            anchor_source="measured in this run, same hub, same QGIS",
            notes=cold_notes,
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
    from sync.server.hub import Hub, HubSettings
    from sync.server.prebuild import PrebuildSettings

    from .device import profile_top

    street.stop()
    hub = Hub(street.data, HubSettings(prebuild=PrebuildSettings(enabled=False)))
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
