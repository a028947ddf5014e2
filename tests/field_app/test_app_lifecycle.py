"""The app in the phone's life cycle: who syncs in front and behind, and what a cold start
does before the task list is drawn.

- `on_pause` (the app leaves the screen) with someone logged in holds the app's runner and
  starts Android's sync service once the runner has stopped; `on_resume` stops the service
  and the app syncs again at once; logging out stops the service; with nobody logged in
  neither is called. `field_app.service.control`'s functions are replaced by recorders
  (off Android they do nothing); everything else is real: the app, its runner, a replica.
- The runner's `hold()` / `release()` / `stop()` end a job waiting on a dead hub at once.
- `requests` is not imported to draw the task list.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import free_port, pump

from bench.app_start import make_device
from field_app.core.handover import SyncHandover
from field_app.core.sync_runner import SyncRunner
from field_app.service import control
from sync.client import HubClient
from sync.replica import Replica

REPO = Path(__file__).resolve().parents[2]
DEAD_HUB = "http://127.0.0.1:9"  # nothing listens: every sync finds the hub unreachable


def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> None:
    """Polls a condition that another thread makes true (no Kivy clock needed)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not become true in time")
        time.sleep(0.02)


@pytest.fixture
def service_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Records the app's calls of `start_service` / `stop_service` (both answer True,
    as on a phone)."""
    calls: list[tuple[str, str]] = []

    def recorder(name: str) -> Callable[[str], bool]:
        def call(data_dir: str) -> bool:
            calls.append((name, data_dir))
            return True

        return call

    monkeypatch.setattr(control, "start_service", recorder("start"))
    monkeypatch.setattr(control, "stop_service", recorder("stop"))
    return calls


def test_the_service_syncs_while_the_app_is_behind(
    field_app: Any, tmp_path: Path, service_calls: list[tuple[str, str]]
) -> None:
    data = make_device(tmp_path / "device")
    fa = field_app(DEAD_HUB, data_dir=data)
    runner = fa.app.runner
    assert fa.current == "tasks"
    # The first sync starts once the list is drawn, after stopping a service that may
    # still run from before this start (Android may have ended the app behind it).
    pump(lambda: runner.is_alive())
    assert service_calls == [("stop", str(data))]
    pump(lambda: runner.runs >= 1)

    assert fa.app.on_pause() is True  # Android keeps the app
    assert runner.held
    wait_for(lambda: ("start", str(data)) in service_calls)
    assert service_calls == [("stop", str(data)), ("start", str(data))]
    assert runner.wait_held(0)  # no job of the app runs while the service syncs
    held_runs = runner.runs
    runner.sync_now()
    time.sleep(0.3)
    assert runner.runs == held_runs

    fa.app.on_resume()
    assert service_calls[-1] == ("stop", str(data))
    assert not runner.held
    pump(lambda: runner.runs > held_runs)  # the app syncs again at once

    # Logging out stops the service: nothing syncs the account behind the login screen.
    fa.app.go("settings")
    fa.screen("settings").ids.logout.dispatch("on_release")
    assert fa.current == "login"
    assert service_calls[-1] == ("stop", str(data))
    count = len(service_calls)
    assert fa.app.on_pause() is True
    fa.app.on_resume()
    time.sleep(0.3)
    assert len(service_calls) == count  # nobody logged in: no service, no stop


def test_nobody_logged_in_no_service(
    field_app: Any, tmp_path: Path, service_calls: list[tuple[str, str]]
) -> None:
    fa = field_app(DEAD_HUB, data_dir=tmp_path / "fresh")
    pump()
    assert fa.current == "login" and fa.app.runner is None
    assert fa.app.on_pause() is True
    time.sleep(0.3)
    fa.app.on_resume()
    assert service_calls == []


def test_back_in_front_before_the_runner_stopped_starts_no_service(tmp_path: Path) -> None:
    replica = Replica(tmp_path / "device.gpkg")
    making, gate = threading.Event(), threading.Event()

    def make_client() -> HubClient:  # the runner's first sync is busy here until `gate`
        making.set()
        gate.wait(10)
        return HubClient(f"http://127.0.0.1:{free_port()}", retries=0)

    calls: list[str] = []
    handover = SyncHandover(
        str(tmp_path),
        start_service=lambda d: calls.append("start") or True,
        stop_service=lambda d: calls.append("stop") or True,
    )
    runner = SyncRunner(replica, make_client, period_s=3600, backoff_s=(3600.0,)).start()
    try:
        assert making.wait(10)
        thread = handover.to_background(runner)
        time.sleep(0.5)
        assert calls == []  # the runner is still in its sync: the service waits
        handover.to_foreground(runner)
        assert calls == ["stop"] and not runner.held
        gate.set()
        thread.join(10)
        assert not thread.is_alive()
        assert calls == ["stop"]  # the pending start was called off
        wait_for(lambda: runner.runs >= 1 and not runner.state.running)

        # An idle runner: the service starts at once, and stops when the app is back.
        thread = handover.to_background(runner)
        thread.join(10)
        assert calls == ["stop", "start"] and handover.service_started
        handover.to_foreground(runner)
        assert calls == ["stop", "start", "stop"] and not handover.service_started
    finally:
        gate.set()
        runner.stop()
        replica.close()


@pytest.mark.parametrize("how", ["stop", "hold"])
def test_the_runner_lets_go_of_a_dead_hub_at_once(tmp_path: Path, how: str) -> None:
    """Without interruptible retry waits, this took the client's whole backoff (here
    2 + 4 + 8 s) before the runner noticed."""
    replica = Replica(tmp_path / "device.gpkg")
    client = HubClient(f"http://127.0.0.1:{free_port()}", retries=3, backoff_s=2.0)
    runner = SyncRunner(replica, client, period_s=3600).start()
    try:
        wait_for(lambda: runner.state.running)
        time.sleep(0.3)  # the first attempt was refused: the client waits to retry
        started = time.monotonic()
        if how == "stop":
            runner.stop()
            assert not runner.is_alive()
        else:
            runner.hold()
            assert runner.wait_held(5)
        assert time.monotonic() - started < 1.0
        assert runner.state.running is False
        assert runner.state.online is None  # a cancelled sync says nothing about the hub
    finally:
        runner.stop()
        replica.close()


def test_drawing_the_task_list_needs_no_http_library() -> None:
    code = (
        "import sys\n"
        "import field_app.app, field_app.screens.tasks, field_app.core.tasklist\n"
        "print(sorted(m for m in ('requests', 'urllib3', 'sync.client', 'sync.syncjob',"
        " 'PIL.Image') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    # PIL comes with Kivy's image providers; the HTTP stack comes with the first sync.
    assert out.stdout.strip() == "['PIL.Image']"
