"""Headless QGIS for the plugin's tests: one QgsApplication per pytest process.

`start_app()` is called only when no QgsApplication exists yet (tests/sync/test_extract.py
may have started one; two in one process crash). It uses a throwaway profile folder, so
settings and the auth database stay out of the user's profile.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

MASTER_PASSWORD = "gridops-test-master"


@pytest.fixture(scope="session")
def qgis_app() -> Any:
    pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")
    from qgis.core import QgsApplication

    app = QgsApplication.instance()
    if app is None:
        from qgis.testing import start_app

        app = start_app()
    # A fresh profile has no master password, and nobody can type one in headless: setting
    # it with verify=True stores it as the master password and unlocks the auth database.
    assert QgsApplication.authManager().setMasterPassword(MASTER_PASSWORD, True)
    return app


@pytest.fixture
def project(qgis_app: Any) -> Iterator[Any]:
    """A project of its own per test, emptied after (a layer must not outlive QGIS)."""
    from qgis.core import QgsProject

    proj = QgsProject()
    yield proj
    proj.clear()
