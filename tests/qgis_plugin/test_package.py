"""The plugin zip, as users install it: built by packaging/build_qgis_plugin.py, unpacked
into a clean QGIS profile folder and loaded from there by QGIS's own plugin loader.

The loading runs in a fresh interpreter (load_from_profile.py): the zip's vendored client
registers itself as the top-level `sync`, which this process has already imported from the
checkout, and a clean QGIS starts with no `sync` at all.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_build_script() -> Any:
    # By path: the folder is named `packaging`, and importing it as a package would shadow
    # PyPI's `packaging`, which pytest and pip use.
    spec = importlib.util.spec_from_file_location(
        "build_qgis_plugin", ROOT / "packaging" / "build_qgis_plugin.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_script = _load_build_script()
LOADER = Path(__file__).with_name("load_from_profile.py")
CLIENT = {
    "sync/__init__.py",
    "sync/model.py",
    "sync/vocabulary.py",
    "sync/validation.py",
    "sync/scopes.py",
    "sync/decision.py",
    "sync/geo.py",
    "sync/gpkg.py",
    "sync/gpkg_geometry.py",
    "sync/gpkg_schema.py",
    "sync/gpkg_features.py",
    "sync/client.py",
    "sync/syncjob.py",
    *(f"sync/replica/{p.name}" for p in (ROOT / "sync" / "replica").glob("*.py")),
}
# What QGIS reads to list and load a plugin, plus what the brief asks the metadata to carry.
METADATA_KEYS = {"name", "qgisMinimumVersion", "description", "about", "version", "author", "email"}


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_script.build(dist=tmp_path_factory.mktemp("dist"))


def _metadata(zf: zipfile.ZipFile) -> configparser.SectionProxy:
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the key case
    parser.read_string(zf.read("gridops/metadata.txt").decode("utf-8"))
    return parser["general"]


def test_zip_is_named_after_the_metadata_version(plugin_zip: Path) -> None:
    with zipfile.ZipFile(plugin_zip) as zf:
        version = _metadata(zf)["version"]
    assert version == build_script.plugin_version()
    assert plugin_zip.name == f"gridops-qgis-plugin-{version}.zip"


def test_zip_layout(plugin_zip: Path) -> None:
    with zipfile.ZipFile(plugin_zip) as zf:
        names = {n for n in zf.namelist() if not n.endswith("/")}
        meta = _metadata(zf)
    assert {n.split("/")[0] for n in names} == {"gridops"}
    inside = {n.removeprefix("gridops/") for n in names}
    assert {"__init__.py", "plugin.py", "vendor.py", "metadata.txt", "icons/gridops.svg"} <= inside
    assert "i18n/gridops_zh_CN.qm" in inside
    assert not any(n.endswith((".pyc", ".ts")) or "__pycache__" in n for n in inside)
    assert not any(n.startswith("tests/") for n in inside)

    vendored = {n for n in inside if n.startswith("sync/")}
    assert vendored == CLIENT
    for hub_only in ("sync/server/", "sync/store/", "sync/cli.py", "sync/demo", "twin_import"):
        assert not any(hub_only in n for n in inside), hub_only

    assert METADATA_KEYS <= set(meta)
    assert meta["qgisMinimumVersion"] == "3.22"
    assert meta["name"] == "GridOps 网格运维"
    assert meta["icon"] == "icons/gridops.svg"
    assert meta["experimental"] == "True"
    assert f"gridops/{meta['icon']}" in names


def test_every_python_file_parses_as_python_3_9(plugin_zip: Path) -> None:
    with zipfile.ZipFile(plugin_zip) as zf:
        sources = [n for n in zf.namelist() if n.endswith(".py")]
        assert sources
        for name in sources:
            ast.parse(zf.read(name).decode("utf-8"), filename=name, feature_version=(3, 9))


def _load_installed(plugin_zip: Path, tmp_path: Path, locale: str) -> dict[str, Any]:
    """Unpack the zip into a clean profile and load the plugin there in a fresh QGIS."""
    plugins = tmp_path / "profile" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(plugin_zip) as zf:
        zf.extractall(plugins)
    home = tmp_path / "home"
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(home),
        "TMPDIR": str(tmp_path),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, str(LOADER), str(plugins), locale],
        cwd=tmp_path,  # not the checkout: its `sync` must not be the one found
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    result["plugin_dir"] = str(plugins / "gridops")
    return result


def test_installed_plugin_runs_its_vendored_client(plugin_zip: Path, tmp_path: Path) -> None:
    result = _load_installed(plugin_zip, tmp_path, "zh_CN")
    plugin_dir = Path(result["plugin_dir"])
    assert result["available"] == ["gridops"]
    assert result["metadata_name"] == "GridOps 网格运维"
    assert result["loaded"] and result["started"]
    assert Path(result["plugin_file"]).parent == plugin_dir
    assert result["sync_error"] is None
    assert Path(result["plugin_sync_file"]) == plugin_dir / "sync" / "__init__.py"
    # The actions' code imports the client; every sync module that ran came from the zip.
    assert result["core_loaded"], result["warnings"]
    modules = result["sync_modules"]
    assert {"sync", "sync.client", "sync.syncjob", "sync.replica"} <= set(modules)
    for name, location in modules.items():
        assert Path(location).is_relative_to(plugin_dir / "sync"), (name, location)


def test_gui_is_chinese_under_zh_cn_and_removed_on_unload(plugin_zip: Path, tmp_path: Path) -> None:
    result = _load_installed(plugin_zip, tmp_path, "zh_CN")
    assert result["qgis_locale"] == "zh_CN"
    assert result["toolbar_titles"] == ["GridOps 网格运维"]
    assert result["toolbar_actions"] == ["连接…", "立即同步", "任务", "审核", "统计"]
    assert [text for _, text in result["menu_added"]] == [
        "连接…",
        "立即同步",
        "任务",
        "审核",
        "统计",
    ]
    assert {menu for menu, _ in result["menu_added"]} == {"GridOps 网格运维(&G)"}

    assert result["unloaded"]
    assert result["toolbars_after_unload"] == 0
    assert result["menu_removed"] == result["menu_added"]
    assert result["connect_after_unload"] == "Connect"  # the translator went with it


def test_gui_is_english_under_other_locales(plugin_zip: Path, tmp_path: Path) -> None:
    result = _load_installed(plugin_zip, tmp_path, "en_US")
    assert result["toolbar_titles"] == ["GridOps"]
    assert result["toolbar_actions"] == ["Connect…", "Sync now", "Tasks", "Review", "Statistics"]
    assert {menu for menu, _ in result["menu_added"]} == {"&GridOps"}
