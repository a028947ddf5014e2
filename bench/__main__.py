"""Runs the benchmarks: `python -m bench [FIGURE ...]` (all of them when none is named).

Prepares one temporary hub (demo district + 100,000 tasks), serves it with `gridops serve`
on loopback, runs each benchmark against it (the device benchmarks with their replicas in
the same temporary folder), prints every figure beside its target and anchor, then a
table, and writes `bench/results.json` (figure → number) and `bench/results.md`. Running a
subset updates only those figures in `results.json`. A benchmark may give several figures
(a figure and the anchor it is measured beside). The temporary folder is removed at the end.

    --tasks N      prepared tasks (default 100,000; fewer for a quick look)
    --py-spy FILE  serve the hub under `py-spy record` and write its profile to FILE
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

from . import app_start, detections, offline_day, plugin_load, pull, pull_apply, push, sync_changes
from . import spy as spy_report
from .common import PREPARED_TASKS, BenchHub, Figure, load_text, say

BENCHMARKS: dict[str, Callable[[BenchHub], Figure | list[Figure]]] = {
    push.NAME: push.run,
    pull.NAME: pull.run,
    sync_changes.NAME: sync_changes.run,
    pull_apply.NAME: pull_apply.run,
    offline_day.NAME: offline_day.run,
    plugin_load.NAME: plugin_load.run,
    app_start.NAME: app_start.run,
    detections.NAME: detections.run,
}
ALIASES = {
    "push": push.NAME,
    "pull": pull.NAME,
    "sync": sync_changes.NAME,
    "speedup_vs_geodiff": sync_changes.NAME,
    "apply": pull_apply.NAME,
    "offline": offline_day.NAME,
    "offline_day_sync_bytes": offline_day.NAME,
    "replica_file_bytes": offline_day.NAME,
    "plugin": plugin_load.NAME,
    "plugin_street_load": plugin_load.NAME,
    plugin_load.ANCHOR: plugin_load.NAME,
    "app": app_start.NAME,
    app_start.RSS: app_start.NAME,
    "detections": detections.NAME,
    detections.DISPATCH: detections.NAME,
}
HERE = Path(__file__).resolve().parent


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def _verdict(fig: Figure) -> str:
    if fig.passed is None:
        return "—"
    return "PASS" if fig.passed else "FAIL"


def report_line(fig: Figure) -> str:
    return (
        f"{fig.name} = {_fmt(fig.value)} {fig.unit}   target {fig.target_text}: "
        f"{_verdict(fig)}   anchor: {fig.anchor}"
    )


def table(figures: list[Figure]) -> str:
    head = ("figure", "value", "unit", "target", "result", "anchor [source]")
    rows = [
        (f.name, _fmt(f.value), f.unit, f.target_text, _verdict(f), f"{f.anchor} [{i}]")
        for i, f in enumerate(figures, 1)
    ]
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(w) if c == 1 else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(cells, widths))
        ).rstrip()

    out = [line(head), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append("")
    out += [f"[{i}] {f.anchor_source}" for i, f in enumerate(figures, 1)]
    return "\n".join(out)


def markdown(figures: list[Figure], context: list[str]) -> str:
    out = [
        "# GridOps benchmark results",
        "",
        *[f"- {c}" for c in context],
        "",
        "| figure | value | unit | target | result | anchor | anchor's source |",
        "| --- | ---: | --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        out.append(
            f"| `{f.name}` | {_fmt(f.value)} | {f.unit} | {f.target_text} | {_verdict(f)} "
            f"| {f.anchor} | {f.anchor_source} |"
        )
    out.append("")
    for f in figures:
        out.append(f"**{f.name}**")
        out.append("")
        out += [f"- {n}" for n in f.notes]
        out.append("")
    return "\n".join(out)


def write_results(figures: list[Figure], everything: bool, context: list[str]) -> None:
    path = HERE / "results.json"
    results: dict[str, float] = {}
    if not everything and path.exists():
        try:
            old = json.loads(path.read_text())
            results = {k: v for k, v in old.items() if isinstance(v, (int, float))}
        except (OSError, ValueError):
            results = {}
    for f in figures:
        results[f.name] = round(f.value, 1)
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    if everything:
        (HERE / "results.md").write_text(markdown(figures, context))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("figures", nargs="*", help=f"any of {', '.join(BENCHMARKS)}")
    parser.add_argument("--tasks", type=int, default=PREPARED_TASKS)
    parser.add_argument("--py-spy", dest="py_spy", metavar="FILE")
    args = parser.parse_args(argv)
    names = list(dict.fromkeys(ALIASES.get(n, n) for n in args.figures)) or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown figure {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    everything = set(names) == set(BENCHMARKS) and args.tasks == PREPARED_TASKS

    started = time.perf_counter()
    context = [
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
        "hub: `gridops serve` (uvicorn) in a subprocess on 127.0.0.1; client: requests.Session",
        f"at start: {load_text()}",
    ]
    for c in context:
        say(c)
    figures: list[Figure] = []
    failures: list[str] = []
    bench = BenchHub(tasks=args.tasks)
    try:
        say(f"\nPreparing a hub with {args.tasks:,} tasks in {bench.tmp} …")
        prepared = bench.prepare()
        say(f"  {args.tasks:,} tasks inserted through hub.store.push in {prepared.seconds:.1f} s "
            f"({prepared.ops_per_s:,.0f} ops/s in-process, batches of 500)")  # fmt: skip
        context.append(
            f"store prepared with {args.tasks:,} tasks via hub.store.push in-process: "
            f"{prepared.seconds:.1f} s ({prepared.ops_per_s:,.0f} ops/s)"
        )
        bench.start(os.path.abspath(args.py_spy) if args.py_spy else None)
        say(f"  hub serving on {bench.url}")
        for name in names:
            say(f"\n== {name}")
            t0 = time.perf_counter()
            try:
                given = BENCHMARKS[name](bench)
            except Exception:
                failures.append(name)
                say(traceback.format_exc())
                say(bench.server_log())
                continue
            for fig in given if isinstance(given, list) else [given]:
                figures.append(fig)
                for note in fig.notes:
                    say(f"  {note}")
                say(f"  {report_line(fig)}")
            say(f"  ({time.perf_counter() - t0:.1f} s)")
    finally:
        bench.close()
    total = time.perf_counter() - started
    context.append(f"at end: {load_text()}")
    context.append(f"whole run: {total:.0f} s")
    say(f"\nat end: {load_text()}")
    say("\n" + table(figures))
    if figures and args.tasks != PREPARED_TASKS:
        say(f"\n(a store of {args.tasks:,} tasks, not {PREPARED_TASKS:,}: results.json untouched)")
    elif figures:
        write_results(figures, everything and not failures, context)
        say(f"\nwrote {HERE / 'results.json'}" + (" and results.md" if everything else ""))
    if args.py_spy and Path(args.py_spy).exists():
        say(f"\nhub profile ({args.py_spy}), top functions by cumulative samples:")
        say(spy_report.summary(args.py_spy))
    say(f"total time: {total:.1f} s")
    if failures:
        say(f"benchmarks that did not finish: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
