"""Street offices' extracts built ahead (`sync.server.prebuild`): at hub start and after twin
changes, served as they are by `GET /api/v1/twin/extract.gpkg` with an ETag and an
`X-Sync-Cursor` that stay exact (PROTOCOL.md "Reference data"): a device pulling on from
the cursor neither misses nor doubles a twin change.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync import cli, geo
from sync.server import cursor as cursors
from sync.server.extract import BuildCancelled, build_extract
from sync.server.hub import Hub, HubSettings
from sync.server.prebuild import PrebuildSettings

EXTRACT = "/api/v1/twin/extract.gpkg"
OFFICE = ("jsl-dispatcher", "jsl-supervisor")


def make_hub(template: Path, folder: Path, **settings: Any) -> Hub:
    data = folder / "hub"
    shutil.copytree(template, data)
    options = {"min_features": 1_000, "quiet_s": 0.3, "poll_s": 60.0, "grace_s": 0.0}
    options.update(settings)
    return Hub(data, HubSettings(prebuild=PrebuildSettings(**options)))


@pytest.fixture
def manual(demo_template: Path, tmp_path: Path) -> Iterator[Hub]:
    """A hub whose prebuilder only runs when the test calls `run_once`."""
    hub = make_hub(demo_template, tmp_path, enabled=False)
    yield hub
    hub.close()


def client(hub: Hub) -> Any:
    from fastapi.testclient import TestClient

    from sync.server.app import create_app

    return TestClient(create_app(hub))


def login(api: Any, username: str) -> dict[str, str]:
    resp = api.post(
        "/api/v1/auth/login",
        json={"username": username, "password": "demo", "device_id": f"t-{username}"},
    )
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def files(hub: Hub) -> set[str]:
    return {p.name for p in hub.extracts.glob("*.gpkg")}


def office_files(hub: Hub, street: str = "JSL") -> list[Path]:
    etags = []
    with hub.store.snapshot() as conn:
        for role in ("dispatcher", "supervisor"):
            actor = hub.store.actor(hub.store.user(f"{street.lower()}-{role}"))
            etags.append(hub.store.twin_etag(conn, actor))
    return [hub.extracts / f"{e}.gpkg" for e in etags]


def add_component(hub: Hub, fid: str, grid: str = "JSL-03") -> None:
    lon, lat = geo.representative_point(hub.store.get_grid(grid)["geometry"])
    feature = {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"kind": "hydrant", "name": fid},
    }
    assert hub.store.upsert_twin("components", [feature])["inserted"] == 1


def ids_in(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM components")}
    finally:
        conn.close()


def twin_ids(api: Any, headers: dict[str, str], since: str) -> list[str]:
    resp = api.get("/api/v1/sync/changes", params={"since": since}, headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["has_more"] is False
    return [c["id"] for c in body["changes"] if c["entity"] == "twin_feature"]


def wait_for(check: Any, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# ----------------------------------------------------------------------------- the thread


def test_hub_start_builds_missing_street_extracts_and_a_twin_change_rebuilds(
    demo_template: Path, tmp_path: Path
) -> None:
    hub = make_hub(demo_template, tmp_path)
    try:
        wait_for(lambda: all(p.exists() for s in ("JSL", "HM") for p in office_files(hub, s)))
        dispatcher, supervisor = office_files(hub)
        assert dispatcher != supervisor and os.path.samefile(dispatcher, supervisor)
        assert len(files(hub)) == 4
        # a twin change wakes it (no poll for 60 s): a new file; the old ones go (grace 0)
        add_component(hub, "woke-it")
        wait_for(lambda: all(p.exists() for p in office_files(hub)))
        newer = office_files(hub)
        assert newer[0] != dispatcher and "woke-it" in ids_in(newer[0])
        wait_for(lambda: not dispatcher.exists() and not supervisor.exists())
        assert len(files(hub)) == 4  # HM's were not touched: its street did not change
    finally:
        hub.close()
    assert not list(hub.extracts.glob(".*.tmp"))


# ----------------------------------------------------------------------------- one look


def test_a_connect_gets_the_built_file_with_an_exact_cursor(manual: Hub) -> None:
    hub = manual
    hub.prebuilder.run_once(quiet=False)
    dispatcher, _supervisor = office_files(hub)
    built = dispatcher.read_bytes()
    before = files(hub)
    with client(hub) as api:
        office = login(api, "jsl-dispatcher")
        # task changes after the build move the feed on, and leave the twin as it was
        lon, lat = geo.representative_point(hub.store.get_grid("JSL-02")["geometry"])
        task = {"kind": "litter", "lon": lon, "lat": lat, "title": "after the build"}
        push = api.post(
            "/api/v1/sync/push",
            headers=office,
            json={
                "device_id": "t-jsl-dispatcher",
                "ops": [
                    {
                        "op_id": "00000000-0000-4000-8000-00000000aa01",
                        "type": "task.create",
                        "task_id": "00000000-0000-4000-8000-00000000bb01",
                        "at": "2026-06-01T08:30:00Z",
                        "payload": task,
                    }
                ],
            },
        )
        assert push.json()["results"][0]["status"] == "applied", push.text
        resp = api.get(EXTRACT, headers=office)
        assert resp.status_code == 200
        assert resp.content == built  # the file built ahead, as it is
        assert files(hub) == before  # nothing built in the request
        position = hub.store.feed_position()
        cursor = resp.headers["x-sync-cursor"]
        assert cursors.decode(cursor, hub.cursor_secret)["seq"] == position
        assert twin_ids(api, office, cursor) == []

        # a twin change: a new ETag (never the old file), in the feed once from the cursor
        add_component(hub, "after-the-build")
        again = api.get(EXTRACT, headers={**office, "If-None-Match": resp.headers["etag"]})
        assert again.status_code == 200 and again.headers["etag"] != resp.headers["etag"]
        assert "after-the-build" in ids_in_bytes(again.content, hub.extracts / "x.gpkg")
        assert twin_ids(api, office, cursor) == ["after-the-build"]
        assert twin_ids(api, office, again.headers["x-sync-cursor"]) == []


def ids_in_bytes(content: bytes, path: Path) -> set[str]:
    path.write_bytes(content)
    try:
        return ids_in(path)
    finally:
        path.unlink()


def test_the_etag_must_hold_still_before_a_build(manual: Hub) -> None:
    hub = manual
    assert hub.prebuilder.run_once() is True  # first look: waiting for the quiet time
    assert files(hub) == set()
    add_component(hub, "moving")
    assert hub.prebuilder.run_once() is True  # JSL changed: its quiet time starts again
    time.sleep(0.35)
    assert hub.prebuilder.run_once() is False
    assert all(p.exists() for s in ("JSL", "HM") for p in office_files(hub, s))
    assert "moving" in ids_in(office_files(hub)[0])


def test_small_streets_are_left_to_the_request(demo_template: Path, tmp_path: Path) -> None:
    hub = make_hub(demo_template, tmp_path, enabled=False, min_features=1_000_000)
    try:
        assert hub.prebuilder.run_once(quiet=False) is False
        assert files(hub) == set()
        with client(hub) as api:  # built on demand, as before
            resp = api.get(EXTRACT, headers=login(api, "jsl-dispatcher"))
            assert resp.status_code == 200
        assert len(files(hub)) == 1
    finally:
        hub.close()


def test_an_extract_built_on_demand_is_linked_for_the_other_role(manual: Hub) -> None:
    hub = manual
    with client(hub) as api:
        assert api.get(EXTRACT, headers=login(api, "jsl-supervisor")).status_code == 200
    dispatcher, supervisor = office_files(hub)
    assert supervisor.exists() and not dispatcher.exists()
    hub.prebuilder.run_once(quiet=False)
    assert os.path.samefile(dispatcher, supervisor)
    assert dispatcher in hub.prebuilder.built and supervisor not in hub.prebuilder.built


def test_a_stopped_build_leaves_nothing(manual: Hub) -> None:
    hub = manual
    actor = hub.store.actor(hub.store.user("jsl-dispatcher"))
    target = hub.extracts / "stopped.gpkg"
    with hub.store.snapshot() as conn, pytest.raises(BuildCancelled):
        build_extract(hub.store, conn, actor, target, should_stop=lambda: True)
    assert list(hub.extracts.iterdir()) == []


# ----------------------------------------------------------------------------- the switch


def test_no_prebuild_switch_and_env_reach_the_hub_settings(
    demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "hub"
    shutil.copytree(demo_template, data)
    monkeypatch.delenv("GRIDOPS_PREBUILD_EXTRACTS", raising=False)
    cases = [
        (["serve", "--data", str(data)], True, None, True),
        (["demo", "--data", str(data)], True, None, True),
        (["serve", "--data", str(data), "--no-prebuild"], True, None, False),
        (["demo", "--data", str(data), "--no-prebuild"], True, None, False),
        (["serve", "--data", str(data)], True, "0", False),
        (["serve", "--data", str(data)], True, "off", False),
        (["serve", "--data", str(data)], True, "1", True),
        # one-shot commands never build beside their own work
        (["users", "--data", str(data), "list"], False, None, False),
    ]
    for argv, serving, env, expected in cases:
        if env is None:
            monkeypatch.delenv("GRIDOPS_PREBUILD_EXTRACTS", raising=False)
        else:
            monkeypatch.setenv("GRIDOPS_PREBUILD_EXTRACTS", env)
        hub = cli._hub(cli.build_parser().parse_args(argv), serving=serving)
        try:
            assert hub.settings.prebuild.enabled is expected, (argv, env)
            assert hub.prebuilder.running is expected, (argv, env)
        finally:
            hub.close()
        assert not hub.prebuilder.running


def big_street(template: Path, folder: Path) -> Path:
    """A copy of the demo hub whose JSL holds more twin features than the prebuilder's
    floor (10,000 by default; the demo has about 5,000 components per street)."""
    hub = make_hub(template, folder, enabled=False)
    try:
        grid = hub.store.get_grid("JSL-05")["geometry"]
        minx, miny, maxx, maxy = geo.bbox(grid)
        features = []
        n = 0
        while len(features) < 6_000:
            n += 1
            lon = minx + (maxx - minx) * ((n * 0.618034) % 1.0)
            lat = miny + (maxy - miny) * ((n * 0.414214) % 1.0)
            if geo.point_in_polygon(lon, lat, grid):
                features.append(
                    {
                        "type": "Feature",
                        "id": f"extra-{n}",
                        "geometry": {"type": "Point", "coordinates": [lon, lat]},
                        "properties": {"kind": "hydrant", "name": f"extra {n}"},
                    }
                )
        hub.store.upsert_twin("components", features)
        with hub.store.snapshot() as conn:
            count = conn.execute("SELECT COUNT(*) FROM twin WHERE street_code = 'JSL'").fetchone()
        assert count[0] >= PrebuildSettings().min_features
    finally:
        hub.close()
    return folder / "hub"


def serve(data: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    from conftest import free_port

    port = free_port()
    command = [sys.executable, "-m", "sync.cli", "serve", "--data", str(data)]
    command += ["--port", str(port), "--log-level", "warning", *extra]
    proc = subprocess.Popen(
        command,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc


@pytest.mark.parametrize(
    "switch", [("--no-prebuild",), ()], ids=["flag", "env GRIDOPS_PREBUILD_EXTRACTS=0"]
)
def test_a_hub_served_without_prebuild_builds_nothing_ahead(
    demo_template: Path, tmp_path: Path, switch: tuple[str, ...]
) -> None:
    """Two `gridops serve` processes on copies of a big street: the one with prebuilding
    builds JSL's extracts ahead; the other, given the same time, builds none."""
    on = big_street(demo_template, tmp_path / "on")
    off = tmp_path / "off" / "hub"
    shutil.copytree(on, off)
    env = {"GRIDOPS_PREBUILD_EXTRACTS": "1" if switch else "0"}  # the flag alone, or the env
    env_on = {"GRIDOPS_PREBUILD_EXTRACTS": "1"}
    procs = [serve(on, env=env_on), serve(off, *switch, env=env)]
    try:
        wait_for(lambda: len(list((on / "extracts").glob("*.gpkg"))) >= 2, seconds=120)
        assert all(p.poll() is None for p in procs)  # both still serving
        assert list((off / "extracts").glob("*.gpkg")) == []
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
