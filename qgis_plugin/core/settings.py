"""The connection to a hub: URL, account, replica folder and sync interval in `QgsSettings`
under `gridops/`, the password in QGIS's authentication database.

Invariant: no password is ever written to `QgsSettings`. The password lives in an auth
config of method "Basic" (username + password) in `QgsAuthManager`; `QgsSettings` keeps only
that config's id (`gridops/auth_config_id`). The auth database is encrypted with QGIS's
master password: inside QGIS, storing or reading a config asks the user for it once per
session (QGIS shows its own dialog). Headless (tests, scripts) nobody can answer, so set it
first: `QgsApplication.authManager().setMasterPassword("…", True)` — on a fresh profile
this stores the given password as the new master password and returns True.
"""

from __future__ import annotations

import os
import re
from typing import Any, Optional
from urllib.parse import urlparse

from qgis.core import QgsApplication, QgsAuthManager, QgsAuthMethodConfig, QgsSettings

PREFIX = "gridops/"
AUTH_METHOD = "Basic"
DEFAULT_SYNC_MINUTES = 0  # the timer is off until the user sets an interval


def _pair(result: Any) -> tuple[bool, Optional[QgsAuthMethodConfig]]:
    """PyQGIS returns `(ok, config)` from the auth calls with an out-argument."""
    if isinstance(result, tuple):
        return bool(result[0]), result[1] if len(result) > 1 else None
    return bool(result), None


class ConnectionSettings:
    """Reads and writes one connection; every property goes straight to `QgsSettings`."""

    def __init__(
        self,
        settings: Optional[QgsSettings] = None,
        auth_manager: Optional[QgsAuthManager] = None,
    ) -> None:
        self.settings = settings or QgsSettings()
        self.auth_manager = auth_manager or QgsApplication.authManager()

    def _get(self, key: str, default: Any = "") -> Any:
        return self.settings.value(PREFIX + key, default)

    def _set(self, key: str, value: Any) -> None:
        self.settings.setValue(PREFIX + key, value)

    @property
    def hub_url(self) -> str:
        return str(self._get("hub_url") or "").rstrip("/")

    @hub_url.setter
    def hub_url(self, value: str) -> None:
        self._set("hub_url", value.strip().rstrip("/"))

    @property
    def username(self) -> str:
        return str(self._get("username") or "")

    @username.setter
    def username(self, value: str) -> None:
        self._set("username", value.strip())

    @property
    def replica_folder(self) -> str:
        """Where replica files live; by default `gridops/` in the QGIS profile folder."""
        folder = str(self._get("replica_folder") or "")
        return folder or os.path.join(QgsApplication.qgisSettingsDirPath(), "gridops")

    @replica_folder.setter
    def replica_folder(self, value: str) -> None:
        self._set("replica_folder", value)

    @property
    def sync_interval_minutes(self) -> float:
        """Minutes between automatic syncs; 0 turns the timer off."""
        try:
            return max(0.0, float(self._get("sync_interval_minutes", DEFAULT_SYNC_MINUTES)))
        except (TypeError, ValueError):
            return float(DEFAULT_SYNC_MINUTES)

    @sync_interval_minutes.setter
    def sync_interval_minutes(self, value: float) -> None:
        self._set("sync_interval_minutes", float(value))

    @property
    def auth_config_id(self) -> str:
        return str(self._get("auth_config_id") or "")

    def replica_path(self) -> str:
        """The replica file of this account on this hub: one file per account and hub."""
        host = urlparse(self.hub_url).netloc or "hub"
        name = re.sub(r"[^A-Za-z0-9._@-]+", "_", f"{self.username}@{host}")
        return os.path.join(self.replica_folder, f"{name}.gpkg")

    # ------------------------------------------------------------------ the password

    def set_password(self, password: str) -> str:
        """Stores username and password in an auth config (made, or updated in place) and
        keeps only its id in `QgsSettings`. Returns the id; raises RuntimeError when the
        auth database refuses (no master password, or it is disabled)."""
        config = QgsAuthMethodConfig()
        existing = self.auth_config_id
        if existing:
            ok, loaded = _pair(self.auth_manager.loadAuthenticationConfig(existing, config, True))
            if ok and loaded is not None:
                config = loaded
            elif not ok:
                existing = ""
        config.setName(f"GridOps {self.username}@{urlparse(self.hub_url).netloc or 'hub'}")
        config.setMethod(AUTH_METHOD)
        config.setUri(self.hub_url)
        config.setConfig("username", self.username)
        config.setConfig("password", password)
        if existing:
            ok = bool(self.auth_manager.updateAuthenticationConfig(config))
            config_id = existing
        else:
            ok, stored = _pair(self.auth_manager.storeAuthenticationConfig(config))
            config_id = (stored or config).id()
        if not ok or not config_id:
            raise RuntimeError("QGIS's authentication database did not store the password")
        self._set("auth_config_id", config_id)
        return config_id

    def password(self) -> Optional[str]:
        """The stored password, or None when there is none (or the database is locked)."""
        config_id = self.auth_config_id
        if not config_id:
            return None
        config = QgsAuthMethodConfig()
        ok, loaded = _pair(self.auth_manager.loadAuthenticationConfig(config_id, config, True))
        if not ok:
            return None
        return (loaded or config).config("password") or None

    def clear_password(self) -> None:
        """Removes the auth config and forgets its id."""
        config_id = self.auth_config_id
        if config_id:
            self.auth_manager.removeAuthenticationConfig(config_id)
        self.settings.remove(PREFIX + "auth_config_id")
