"""Exactly once over a faulty network: pushes and photo uploads through a proxy that drops
connections, some after the hub has committed. The client retries each request until it is
answered; every op must then be in its task's history exactly once, every photo intact, and
replays must answer `duplicate`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import requests
from conftest import jpeg, op
from faultproxy import FaultProxy


def _retry(call: Any, attempts: int = 60) -> requests.Response:
    for _ in range(attempts):
        try:
            return call()
        except requests.ConnectionError:
            continue
    raise AssertionError("no answer after many attempts")


class FlakyDevice:
    """Talks through the proxy, one connection per request, retrying until answered."""

    def __init__(self, url: str, token: str, device_id: str) -> None:
        self.url = url
        self.device_id = device_id
        self.headers = {"Authorization": f"Bearer {token}", "Connection": "close"}

    def push(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        resp = _retry(
            lambda: requests.post(
                f"{self.url}/api/v1/sync/push",
                json={"device_id": self.device_id, "ops": ops},
                headers=self.headers,
                timeout=30,
            )
        )
        assert resp.status_code == 200, resp.text
        return list(resp.json()["results"])

    def upload(self, data: bytes, sha: str) -> None:
        resp = _retry(
            lambda: requests.put(
                f"{self.url}/api/v1/photos/{sha}",
                data=data,
                headers={**self.headers, "Content-Type": "image/jpeg"},
                timeout=30,
            )
        )
        assert resp.status_code in (200, 201), resp.text


def _token(url: str, username: str) -> str:
    resp = requests.post(
        f"{url}/api/v1/auth/login",
        json={"username": username, "password": "demo", "device_id": f"flaky-{username}"},
        timeout=10,
    )
    assert resp.status_code == 200
    return str(resp.json()["token"])


def test_every_op_applied_exactly_once_through_dropped_connections(live_hub: Any) -> None:
    hub = live_hub.hub
    grid = hub.store.get_grid("JSL-03")
    from sync import geo

    minx, miny, maxx, maxy = geo.bbox(grid["geometry"])
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    proxy = FaultProxy(live_hub.port, drop_request=0.2, drop_response=0.3, seed=7).start()
    try:
        office = FlakyDevice(proxy.url, _token(live_hub.url, "jsl-dispatcher"), "flaky-office")
        worker = FlakyDevice(proxy.url, _token(live_hub.url, "jsl-worker-03"), "flaky-phone")
        sent: list[dict[str, Any]] = []
        task_ids = []
        for batch in range(6):
            ops = []
            for _ in range(5):
                create = op(
                    "task.create",
                    kind="litter",
                    lon=lon,
                    lat=lat,
                    assignee_id="jsl-worker-03",
                    title=f"batch {batch}",
                )
                task_ids.append(create["task_id"])
                ops.append(create)
            results = office.push(ops)
            assert {r["status"] for r in results} <= {"applied", "duplicate"}, results
            sent += ops
        photos = {}
        for n, task_id in enumerate(task_ids):
            data, sha = jpeg(100 + n)
            worker.upload(data, sha)
            photos[task_id] = (data, sha)
        for start in range(0, len(task_ids), 5):
            ops = []
            for task_id in task_ids[start : start + 5]:
                ops.append(op("task.start", task_id))
                ops.append(op("task.comment", task_id, text="到场"))
                ops.append(
                    op(
                        "task.submit",
                        task_id,
                        note="好了",
                        photos=[{"sha256": photos[task_id][1], "role": "after"}],
                    )
                )
            results = worker.push(ops)
            assert {r["status"] for r in results} <= {"applied", "duplicate"}, results
            sent += ops
    finally:
        proxy.stop()

    # The proxy really dropped answers after the hub had committed, and requests before.
    assert proxy.counts.dropped_response >= 3 and proxy.counts.dropped_request >= 3
    sent_ids = Counter(o["op_id"] for o in sent)
    history_ids: Counter[str] = Counter()
    for task_id in task_ids:
        task = hub.store.get_task(task_id)
        assert (
            task["status"] == "submitted" and task["version"] == 3
        )  # create, start, submit; a comment leaves it
        history_ids.update(h["op_id"] for h in task["history"])
        stored = hub.photos.path(photos[task_id][1]).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == photos[task_id][1]
    assert history_ids == sent_ids  # each op exactly once
    assert set(history_ids.values()) == {1}
    ledger = hub.store.reader.execute(
        "SELECT COUNT(*) FROM ops WHERE actor_id IN ('jsl-dispatcher', 'jsl-worker-03') "
        "AND device_id LIKE 'flaky-%'"
    ).fetchone()[0]
    assert ledger == len(sent)

    # Replays, straight to the hub this time, answer duplicate and change nothing.
    before = hub.store.feed_position()
    direct = FlakyDevice(live_hub.url, _token(live_hub.url, "jsl-worker-03"), "replay")
    replay = direct.push([o for o in sent if o["type"] != "task.create"][:60])
    assert {r["status"] for r in replay} == {"duplicate"}
    assert hub.store.feed_position() == before
