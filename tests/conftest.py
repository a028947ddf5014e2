"""Shared fixtures: a demo hub made once per session and copied per test, an in-process
client, and a real hub served by uvicorn on a loopback port.

- `demo_template` builds the demo district (with its tasks and photos) once per session.
- `hub` is a fresh copy of it for one test (a `sync.server.hub.Hub` on `tmp_path`).
- `api` is an in-process HTTP client (httpx through the ASGI app), with `login(username)`.
- `live_hub` serves `hub` on 127.0.0.1 with a free port; `live_hub.url` is its base URL;
  `HttpDevice` is an account talking to it over plain HTTP.
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
# Kivy reads these when first imported (RECIPES.md): no argv parsing, no logs in the home
# folder, its config in a throwaway folder. The window itself is made by `kivy_window`.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
if "KIVY_HOME" not in os.environ:
    import tempfile

    os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="gridops-kivy-home-")


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


class HttpDevice:
    """A demo account (password "demo") talking to a live hub over plain HTTP, as an
    independent client would: login, `get`, photo `upload`, `push` (the results as
    answered) and `pull` (the changes since the last pull, `page` at a time)."""

    def __init__(self, url: str, username: str, device: str = "phone", page: int = 500) -> None:
        import requests

        self.url = url
        self.page = page
        self.device_id = f"{device}-{username}"
        self.session = requests.Session()
        resp = self.session.post(
            f"{url}/api/v1/auth/login",
            json={"username": username, "password": "demo", "device_id": self.device_id},
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        self.user = resp.json()["user"]
        self.session.headers["Authorization"] = f"Bearer {resp.json()['token']}"
        self.cursor = ""

    def get(self, path: str) -> Any:
        return self.session.get(f"{self.url}/api/v1{path}", timeout=10)

    def upload(self, data: bytes, sha: str) -> int:
        resp = self.session.put(
            f"{self.url}/api/v1/photos/{sha}",
            data=data,
            headers={"Content-Type": "image/jpeg"},
            timeout=10,
        )
        assert resp.status_code in (200, 201), resp.text
        return int(resp.status_code)

    def push(self, *ops: dict[str, Any]) -> list[dict[str, Any]]:
        resp = self.session.post(
            f"{self.url}/api/v1/sync/push",
            json={"device_id": self.device_id, "ops": list(ops)},
            timeout=30,
        )
        assert resp.status_code == 200, resp.text
        return list(resp.json()["results"])

    def pull(self) -> list[dict[str, Any]]:
        changes: list[dict[str, Any]] = []
        while True:
            resp = self.session.get(
                f"{self.url}/api/v1/sync/changes",
                params={"since": self.cursor, "limit": self.page},
                timeout=30,
            )
            assert resp.status_code == 200, resp.text
            body = resp.json()
            changes += body["changes"]
            self.cursor = body["cursor"]
            if not body["has_more"]:
                return changes


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


# ------------------------------------------------------------------ the Kivy field app


@pytest.fixture(scope="session")
def kivy_window() -> Any:
    """Kivy's one window, headless (SDL2 offscreen on Mesa), 720×1280 portrait."""
    from kivy.config import Config

    Config.set("graphics", "width", "720")
    Config.set("graphics", "height", "1280")
    from kivy.base import EventLoop
    from kivy.core.window import Window

    EventLoop.ensure_window()
    return Window


def pump(until: Any = None, timeout: float = 20.0) -> None:
    """Runs Kivy's clock (mainthread callbacks, kv bindings) until `until()` is true, or
    once when no condition is given; raises TimeoutError past `timeout` seconds."""
    from kivy.base import EventLoop

    deadline = time.monotonic() + timeout
    while True:
        EventLoop.idle()
        if until is None or until():
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        time.sleep(0.01)


class FieldApp:
    """A field app (`field_app.app.GridOpsApp`) built on the headless window, with desktop
    stand-in devices: the camera hands out what `photo()` made (real JPEGs); a set position."""

    def __init__(self, window: Any, data_dir: Path, server: str, position: Any) -> None:
        # kv's `app` is a proxy that keeps the first app it finds until that app's on_stop;
        # a kv binding evaluated after the previous test's app stopped may have caught it
        # again, so it is pointed at this test's app (the one about to be made).
        from kivy.lang.parser import global_idmap

        from field_app.app import GridOpsApp
        from field_app.devices import Devices
        from field_app.devices.desktop import BrowserNavigator, FileCamera, LogNotifier, SetLocator

        object.__setattr__(global_idmap["app"], "_obj", None)
        self.window = window
        self.photo_dir = data_dir.parent / "camera"
        self.photo_dir.mkdir(exist_ok=True)
        self.camera = FileCamera()
        self.locator = SetLocator()
        if position is not None:
            self.locator.set_position(*position)
        self.navigator = BrowserNavigator(open_url=lambda url: True)
        self.notifier = LogNotifier()
        devices = Devices(self.camera, self.locator, self.navigator, self.notifier)
        self.app = GridOpsApp(
            data_dir=str(data_dir), server=server, devices=devices, sync_period_s=3600
        )
        self.root = self.app.build()
        self.app.root = self.root
        window.add_widget(self.root)
        self.app.dispatch("on_start")
        pump()

    def photo(self, seed: int = 0, size: tuple[int, int] = (640, 480)) -> str:
        """A real JPEG file that the camera hands out next."""
        data, sha = jpeg(seed, size)
        path = self.photo_dir / f"photo-{sha[:12]}.jpg"
        path.write_bytes(data)
        self.camera.files = [str(path)]
        self.camera._next = 0
        return str(path)

    def screen(self, name: str) -> Any:
        return self.app.screen(name)

    @property
    def current(self) -> str:
        return str(self.app.manager.current)

    def sync_and_wait(self, timeout: float = 30.0) -> Any:
        """Asks for one more sync and waits until it has run (on the runner's thread)."""
        runner = self.app.runner
        assert runner is not None
        pump(lambda: not runner.state.running, timeout)
        runs = runner.runs
        runner.sync_now()
        pump(lambda: runner.runs > runs, timeout)
        pump()
        return runner.state

    def close(self) -> None:
        self.window.remove_widget(self.root)
        self.app.dispatch("on_stop")
        pump()


@pytest.fixture
def field_app(kivy_window: Any, tmp_path: Path) -> Iterator[Any]:
    """`make(server, position=(lon, lat, accuracy))` builds a `FieldApp`; closed after."""
    made: list[FieldApp] = []

    def make(server: str = "", position: Any = None, data_dir: Path | None = None) -> FieldApp:
        app = FieldApp(kivy_window, data_dir or tmp_path / "app", server, position)
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()
