"""Shared fixtures: a demo hub made once per session and copied per test, an in-process
client, and a real hub served by uvicorn on a loopback port.

- `demo_template` builds the demo district (with its tasks and photos) once per session.
- `hub` is a fresh copy of it for one test (a `sync.server.hub.Hub` on `tmp_path`).
- `api` is an in-process HTTP client (httpx through the ASGI app), with `login(username)`.
- `live_hub` serves `hub` on 127.0.0.1 with a free port; `live_hub.url` is its base URL.
- `qgis_app` (session) and `project`: headless QGIS for the plugin's tests.

One conftest for the whole tree: tests import helpers with `from conftest import ...`, and
a second conftest.py in a subfolder would be imported under the same module name.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sync import demo
    from sync.server.hub import Hub

    path = tmp_path_factory.mktemp("demo-template")
    hub = Hub(path)
    demo.seed(hub)
    hub.close()
    return path


@pytest.fixture
def hub(demo_template: Path, tmp_path: Path) -> Iterator[Any]:
    from sync.server.hub import Hub

    data = tmp_path / "hub"
    shutil.copytree(demo_template, data)
    the_hub = Hub(data)
    yield the_hub
    the_hub.close()


class Api:
    """An HTTP client bound to one hub, with a helper to log in as a demo account."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def login(self, username: str, device_id: str | None = None) -> dict[str, str]:
        """Auth headers for the demo account `username` (password `demo`)."""
        if username not in self.tokens or device_id:
            resp = self.client.post(
                "/api/v1/auth/login",
                json={
                    "username": username,
                    "password": "demo",
                    "device_id": device_id or f"test-{username}",
                },
            )
            assert resp.status_code == 200, resp.text
            self.tokens[username] = resp.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def push(self, username: str, *ops: dict[str, Any]) -> list[dict[str, Any]]:
        resp = self.client.post(
            "/api/v1/sync/push",
            headers=self.login(username),
            json={"device_id": f"test-{username}", "ops": list(ops)},
        )
        assert resp.status_code == 200, resp.text
        return list(resp.json()["results"])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def api(hub: Any) -> Iterator[Api]:
    from fastapi.testclient import TestClient

    from sync.server.app import create_app

    with TestClient(create_app(hub)) as client:
        yield Api(client)


def op(
    op_type: str, task_id: str | None = None, base_version: int | None = None, **payload: Any
) -> dict[str, Any]:
    """An op as a device makes it: fresh op_id, the device clock's `at`."""
    item: dict[str, Any] = {
        "op_id": str(uuid.uuid4()),
        "type": op_type,
        "task_id": task_id or str(uuid.uuid4()),
        "at": "2026-06-01T08:30:00Z",
        "payload": payload,
    }
    if base_version is not None:
        item["base_version"] = base_version
    return item


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveHub:
    """A hub served by uvicorn in a background thread on a loopback port."""

    def __init__(self, hub: Any, port: int | None = None) -> None:
        import uvicorn

        from sync.server.app import create_app

        self.hub = hub
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(hub), host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveHub:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the hub did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_hub(hub: Any) -> Iterator[LiveHub]:
    server = LiveHub(hub).start()
    yield server
    server.stop()


def jpeg(seed: int = 0, size: tuple[int, int] = (64, 48)) -> tuple[bytes, str]:
    """A small real JPEG made with Pillow, and its sha256."""
    import hashlib
    import io

    from PIL import Image

    img = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    data = buf.getvalue()
    return data, hashlib.sha256(data).hexdigest()


MASTER_PASSWORD = "gridops-test-master"


@pytest.fixture(scope="session")
def qgis_app() -> Any:
    """One QgsApplication per pytest process: `start_app()` only when none exists yet
    (tests/sync/test_extract.py may have started one; two in one process crash). Its
    throwaway profile keeps settings and the auth database out of the user's."""
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
