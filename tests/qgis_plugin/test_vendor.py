"""`qgis_plugin.vendor`: which `sync` the plugin gets (runs without QGIS).

The happy path of the vendored copy (a clean interpreter with no `sync`) is covered by
test_package.py, which loads the installed zip in a fresh QGIS.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import sync
from qgis_plugin import vendor


def _fake_vendored(folder: Path, version: str) -> Path:
    folder.mkdir()
    (folder / "__init__.py").write_text(f'__version__ = "{version}"\n', "utf-8")
    return folder


def test_a_checkout_without_a_vendored_copy_uses_the_installed_sync(tmp_path: Path) -> None:
    assert vendor.ensure_sync(tmp_path / "sync") is sync


def test_the_same_client_release_already_imported_is_reused(tmp_path: Path) -> None:
    folder = _fake_vendored(tmp_path / "sync", sync.__version__)
    assert vendor.vendored_version(folder) == sync.__version__
    assert vendor.ensure_sync(folder) is sys.modules["sync"]


def test_a_different_sync_already_imported_is_refused_not_replaced(tmp_path: Path) -> None:
    folder = _fake_vendored(tmp_path / "sync", "0.0.0-other")
    with pytest.raises(vendor.SyncConflict, match="another 'sync' package"):
        vendor.ensure_sync(folder)
    assert sys.modules["sync"] is sync
