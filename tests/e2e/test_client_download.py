"""`HubClient.extract` against a real hub: the download goes to the file in pieces, is
counted once, and an unchanged extract answers 304 without a body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sync.client import HubClient


def test_extract_is_streamed_and_counted_once(live_hub: Any, tmp_path: Path) -> None:
    client = HubClient(live_hub.url)
    client.login("jsl-dispatcher", "demo", "test-device")
    before = client.bytes_received
    dest = tmp_path / "extract.gpkg"
    downloaded, etag, cursor = client.extract(str(dest))
    size = dest.stat().st_size
    assert downloaded and etag and cursor and size > 100_000
    assert dest.read_bytes()[:16] == b"SQLite format 3\x00"
    assert client.bytes_received - before == size

    before = client.bytes_received
    again = tmp_path / "again.gpkg"
    downloaded, same_etag, _ = client.extract(str(again), etag)
    assert not downloaded and same_etag == etag and not again.exists()
    assert client.bytes_received == before
