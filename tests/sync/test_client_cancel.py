"""Cancelling a sync while the hub is unreachable: the client's retry waits end at once.

`HubClient` retries a call that cannot reach the hub with exponential backoff; inside
`client.interruptible(event)` (which `SyncJob.run` enters with its cancel event) those
waits end as soon as the event is set. Real sockets: the "hub" is a loopback port where
nothing listens, so every attempt is refused by the kernel.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import free_port

from sync.client import HubClient, Offline
from sync.replica import Replica
from sync.syncjob import Cancelled, SyncJob


class CountingSession(requests.Session):
    """A real session that counts its requests and signals each one."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.called = threading.Event()

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls += 1
        self.called.set()
        return super().request(*args, **kwargs)


def dead_hub_client(backoff_s: float, retries: int = 3, **options: Any) -> HubClient:
    session = CountingSession()
    return HubClient(
        f"http://127.0.0.1:{free_port()}",
        session=session,
        retries=retries,
        backoff_s=backoff_s,
        timeout=(2.0, 2.0),
        **options,
    )


def test_cancel_ends_a_job_waiting_between_retries(tmp_path: Path) -> None:
    replica = Replica(tmp_path / "device.gpkg")
    try:
        # Uninterrupted, the waits after the three failures would last 5 + 10 + 20 s.
        client = dead_hub_client(backoff_s=5.0)
        session = client.session
        assert isinstance(session, CountingSession)
        job = SyncJob(replica, client).start()
        assert session.called.wait(10), "the job never called the hub"
        time.sleep(0.2)  # the first attempt has failed: the job waits before the second
        started = time.monotonic()
        job.cancel()
        with pytest.raises(Cancelled) as caught:
            job.wait(timeout=10)
        elapsed = time.monotonic() - started
        assert elapsed < 1.0, f"cancel took {elapsed:.2f} s"
        assert not job.is_running()
        assert session.calls == 1  # no attempt after the cancel
        assert isinstance(caught.value.__cause__, Offline)
        assert replica.state("cursor") is None  # nothing was applied
    finally:
        replica.close()


def test_without_a_cancel_the_client_retries_then_says_offline(tmp_path: Path) -> None:
    slept: list[float] = []
    client = dead_hub_client(backoff_s=0.5, retries=2, sleep=slept.append)
    with pytest.raises(Offline):
        client.health()
    assert slept == [0.5, 1.0]  # outside `interruptible`, the client's own sleep is used
    assert client.session.calls == 3  # type: ignore[attr-defined]

    # Inside `interruptible` with the event never set, the same retries happen (waiting
    # on the event), and the block leaves the thread as it found it.
    stop = threading.Event()
    client = dead_hub_client(backoff_s=0.01, retries=2, sleep=slept.append)
    with client.interruptible(stop), pytest.raises(Offline):
        client.health()
    assert client.session.calls == 3  # type: ignore[attr-defined]
    assert slept == [0.5, 1.0]  # the event was waited on, not the client's sleep
    with pytest.raises(Offline):
        client.health()
    assert slept == [0.5, 1.0, 0.01, 0.02]


def test_an_interrupt_covers_only_the_thread_that_asked_for_it() -> None:
    stop = threading.Event()
    stop.set()
    client = dead_hub_client(backoff_s=0.05, retries=2)
    other: dict[str, Any] = {}

    def elsewhere() -> None:  # another thread's call through the same client
        try:
            client.health()
        except Offline as err:
            other["error"] = err

    with client.interruptible(stop):
        with pytest.raises(Offline):
            client.health()  # the event is already set: one attempt, no retry
        assert client.session.calls == 1  # type: ignore[attr-defined]
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join(10)
    assert isinstance(other.get("error"), Offline)
    assert client.session.calls == 4  # type: ignore[attr-defined]  # 1 + the other's 3
