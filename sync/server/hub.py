"""The hub as one object: its data folder, store, photo files and authenticator.

A data folder holds `hub.sqlite` (the store), `photos/` (photo files by hash) and
`extracts/` (cached twin extracts, safe to delete; the street offices' are built ahead by
a background thread, `prebuild.ExtractPrebuilder`). `Hub` is what the ASGI app and the CLI
share; tests make one on a temporary folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..store import SQLiteStore
from ..store.incidents import CameraSettings
from .auth import Authenticator, AuthSettings
from .photos import PhotoFiles
from .prebuild import ExtractPrebuilder, PrebuildSettings


@dataclass
class HubSettings:
    auth: AuthSettings = field(default_factory=AuthSettings)
    max_push_ops: int = 500
    max_body_bytes: int = 25 * 1024 * 1024
    default_limit: int = 500
    max_limit: int = 5000
    # Street cameras: confidence threshold, merge radius, reopen window, service levels
    # (`gridops serve --camera-config FILE.json`; docs/hub.md "Street cameras").
    cameras: CameraSettings = field(default_factory=CameraSettings)
    # Street offices' twin extracts built ahead in the background (`prebuild.py`); off with
    # `gridops serve/demo --no-prebuild` (or GRIDOPS_PREBUILD_EXTRACTS=0 for those commands).
    prebuild: PrebuildSettings = field(default_factory=PrebuildSettings)


class Hub:
    """Everything one running hub owns."""

    def __init__(self, data_dir: str | os.PathLike[str], settings: HubSettings | None = None):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = settings or HubSettings()
        self.store = SQLiteStore(self.data_dir / "hub.sqlite")
        self.photos = PhotoFiles(self.data_dir / "photos")
        self.extracts = self.data_dir / "extracts"
        self.extracts.mkdir(exist_ok=True)
        self.auth = Authenticator(self.store, self.settings.auth)
        secret = self.store.get_meta("cursor_secret")
        assert secret is not None
        self.cursor_secret = bytes.fromhex(secret)
        self.prebuilder = ExtractPrebuilder(self.store, self.extracts, self.settings.prebuild)
        self.store.on_twin_change(self.prebuilder.wake)
        if self.settings.prebuild.enabled:
            self.prebuilder.start()

    def close(self) -> None:
        self.prebuilder.stop()
        self.store.close()
