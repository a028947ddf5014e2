"""Builds the QGIS plugin zip: `dist/gridops-qgis-plugin-<version>.zip`.

The zip holds one folder, `gridops/`, as QGIS's Plugins → Install from ZIP expects:

- the plugin's own files from `qgis_plugin/` (no tests, caches or translation sources),
- `i18n/gridops_<locale>.qm`, compiled here from the committed `.ts` with `lrelease`,
- the `sync` client modules the plugin runs (`CLIENT_MODULES`), copied from the checkout's
  `sync/` so the installed plugin carries the client it was built with. The hub's code
  (`sync/server`, `sync/store`, the CLI and the demo) is never copied.

The version is read from `qgis_plugin/metadata.txt` (the one source of it). The `.qm` files
are build output, never committed: the `.ts` is the source a translator edits, and a
committed binary could silently disagree with it.

`update_ts()` is the developer step that refreshes the `.ts` from the source strings with
`pylupdate5` (`make qgis-plugin-ts`); translations already filled in are kept.

Usage: python packaging/build_qgis_plugin.py [--dist DIR] [--update-ts]
(run as a script: `packaging/` is deliberately not a package, so it never shadows PyPI's
`packaging`, which pip and pytest import).
"""

from __future__ import annotations

import argparse
import configparser
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_SRC = ROOT / "qgis_plugin"
SYNC_SRC = ROOT / "sync"
PLUGIN_FOLDER = "gridops"
LOCALES = ("zh_CN",)
# The client side of `sync`: what the plugin's code imports, directly or through these.
CLIENT_MODULES = (
    "__init__.py",
    "model.py",
    "vocabulary.py",
    "validation.py",
    "scopes.py",
    "decision.py",
    "geo.py",
    "gpkg.py",
    "gpkg_geometry.py",
    "gpkg_schema.py",
    "gpkg_features.py",
    "client.py",
    "syncjob.py",
    "replica/*.py",
)
SKIP_DIRS = {"__pycache__", "tests"}
SKIP_SUFFIXES = {".pyc", ".pyo", ".ts", ".qm"}


def plugin_version(plugin_src: Path = PLUGIN_SRC) -> str:
    """The `version` of the plugin's metadata.txt."""
    parser = configparser.ConfigParser()
    with open(plugin_src / "metadata.txt", encoding="utf-8") as f:
        parser.read_file(f)
    return parser.get("general", "version").strip()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SystemExit(
            f"{name} not found: run `make system-deps` (Debian: see .ci/system-deps.sh)"
        )
    return found


def _skipped(rel: Path) -> bool:
    """Caches, tests, and a stray vendored `sync/` left in the source folder."""
    folders = rel.parts[:-1]
    return bool(SKIP_DIRS.intersection(folders)) or (folders[:1] == ("sync",))


def plugin_sources(plugin_src: Path = PLUGIN_SRC) -> list[Path]:
    """The plugin's Python files that carry user-visible strings (no vendored client)."""
    return sorted(p for p in plugin_src.rglob("*.py") if not _skipped(p.relative_to(plugin_src)))


def update_ts(plugin_src: Path = PLUGIN_SRC) -> list[Path]:
    """Refresh `i18n/gridops_<locale>.ts` from the source strings. Writes the .ts files."""
    sources = [str(p.relative_to(plugin_src)) for p in plugin_sources(plugin_src)]
    written = []
    for locale in LOCALES:
        ts = f"i18n/gridops_{locale}.ts"
        subprocess.run(
            [_tool("pylupdate5"), "-noobsolete", *sources, "-ts", ts],
            cwd=plugin_src,
            check=True,
        )
        written.append(plugin_src / ts)
    return written


def _copy_plugin(plugin_src: Path, dest: Path) -> None:
    for path in sorted(plugin_src.rglob("*")):
        rel = path.relative_to(plugin_src)
        if path.is_dir() or _skipped(rel):
            continue
        if path.suffix in SKIP_SUFFIXES or path.name.startswith("."):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _copy_client(sync_src: Path, dest: Path) -> None:
    for pattern in CLIENT_MODULES:
        matches = sorted(sync_src.glob(pattern))
        if not matches:
            raise SystemExit(f"sync/{pattern} is missing")
        for path in matches:
            target = dest / path.relative_to(sync_src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def _compile_translations(plugin_src: Path, dest: Path) -> None:
    lrelease = _tool("lrelease")
    for ts in sorted((plugin_src / "i18n").glob("*.ts")):
        qm = dest / "i18n" / (ts.stem + ".qm")
        qm.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([lrelease, "-silent", str(ts), "-qm", str(qm)], check=True)
        if not qm.is_file():
            raise SystemExit(f"lrelease wrote no {qm}")


def build(
    dist: Path = ROOT / "dist", plugin_src: Path = PLUGIN_SRC, sync_src: Path = SYNC_SRC
) -> Path:
    """Write `dist/gridops-qgis-plugin-<version>.zip` (replacing it) and return its path."""
    version = plugin_version(plugin_src)
    dist.mkdir(parents=True, exist_ok=True)
    out = dist / f"gridops-qgis-plugin-{version}.zip"
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / PLUGIN_FOLDER
        _copy_plugin(plugin_src, stage)
        _copy_client(sync_src, stage / "sync")
        _compile_translations(plugin_src, stage)
        partial = out.with_suffix(".zip.part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(stage.rglob("*")):
                zf.write(path, path.relative_to(stage.parent).as_posix())
        partial.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--update-ts", action="store_true", help="refresh the .ts files only")
    args = parser.parse_args(argv)
    if args.update_ts:
        for ts in update_ts():
            print(ts)
        return 0
    print(build(args.dist))
    return 0


if __name__ == "__main__":
    sys.exit(main())
