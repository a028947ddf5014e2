"""The open connection: the account's `Replica` and the `HubClient` holding its token.

`Session(settings)` is the one owner of both on the main thread; the docks get them through
the providers `replica()` and `client()` (None while not connected), so a reconnect under
another account hands every dock the new ones. A `SyncTask` opens its own `Replica` on its
worker thread (the file is in WAL mode; the connection here only reads and does the
user's edits).

`connect()` stores nothing until the hub said yes: a wrong password or an unreachable hub
leaves `QgsSettings`, the auth database and the replica folder as they were (a replica file
made only for the attempt is deleted again).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Optional

from sync.client import HubClient
from sync.replica import Replica
from sync.syncjob import login

from .settings import PREFIX, ConnectionSettings

# A login is one HTTP call made on the UI thread (the dialog waits for it): fail fast.
LOGIN_TIMEOUT = (3.0, 10.0)


@dataclass
class SessionStatus:
    """What the status bar shows."""

    connected: bool  # a replica is open
    last_sync: Optional[datetime]  # the last completed pull, local time; None: never
    pending: int  # ops waiting in the outbox
    conflicts: int  # refusals the user has not seen


class _Values:
    """A dict standing in for `QgsSettings`, to ask `ConnectionSettings` for a replica path
    without writing anything."""

    def __init__(self, values: Dict[str, Any]) -> None:
        self.values = values

    def value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def setValue(self, key: str, value: Any) -> None:
        self.values[key] = value


def parse_time(value: Optional[str]) -> Optional[datetime]:
    """A replica time (ISO 8601 UTC, "…Z") as a local datetime; None when absent or bad."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone()


class Session:
    """The current account's replica and hub client. `client_factory(url, token)` makes
    the clients (tests may pass their own)."""

    def __init__(
        self,
        settings: ConnectionSettings,
        client_factory: Callable[..., HubClient] = HubClient,
    ) -> None:
        self.settings = settings
        self.client_factory = client_factory
        self._replica: Optional[Replica] = None
        self._client: Optional[HubClient] = None

    # ------------------------------------------------------------------ providers

    def replica(self) -> Optional[Replica]:
        return self._replica

    def client(self) -> Optional[HubClient]:
        return self._client

    def is_connected(self) -> bool:
        return self._replica is not None

    def replica_path(self) -> Optional[str]:
        return self._replica.path if self._replica is not None else None

    # ------------------------------------------------------------------ connecting

    def path_for(self, url: str, username: str) -> str:
        """The replica file `connect(url, username, …)` would use (nothing is written)."""
        probe = ConnectionSettings(
            _Values(  # type: ignore[arg-type]
                {
                    PREFIX + "hub_url": url.strip().rstrip("/"),
                    PREFIX + "username": username.strip(),
                    PREFIX + "replica_folder": self.settings.replica_folder,
                }
            ),
            self.settings.auth_manager,
        )
        return probe.replica_path()

    def connect(self, url: str, username: str, password: str, remember: bool = True) -> Any:
        """Logs in to the hub at `url`, then stores URL and username in `QgsSettings`, the
        password in QGIS's auth database (or forgets a stored one when `remember` is False)
        and opens the account's replica as the current one. Returns the hub's user.

        Raises `sync.client.Offline` (hub unreachable), `sync.client.HubError` (refused,
        e.g. a wrong password), ValueError (the file belongs to another account) or
        RuntimeError (the auth database refused the password); nothing is stored then.
        """
        url = url.strip().rstrip("/")
        username = username.strip()
        path = self.path_for(url, username)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        existed = os.path.exists(path)
        if self._replica is not None and os.path.abspath(self._replica.path) == os.path.abspath(
            path
        ):
            self.disconnect()  # the same file: one connection to it from here
        replica = Replica(path)
        try:
            client = self.client_factory(url, None, timeout=LOGIN_TIMEOUT, retries=0)
            user = login(replica, client, username, password)
            old = (self.settings.hub_url, self.settings.username)
            self.settings.hub_url = url
            self.settings.username = username
            try:
                if remember:
                    self.settings.set_password(password)
                else:
                    self.settings.clear_password()
            except Exception:
                self.settings.hub_url, self.settings.username = old
                raise
        except BaseException:
            replica.close()
            if not existed:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    if os.path.exists(path + suffix):
                        os.remove(path + suffix)
            raise
        self.disconnect()
        self._replica = replica
        self._client = self.client_factory(url, replica.state("token"))
        return user

    def open_saved(self) -> bool:
        """Opens the replica of the stored account when it has logged in before (QGIS
        started again); True when a session is open after."""
        if self._replica is not None:
            return True
        if not (self.settings.hub_url and self.settings.username):
            return False
        path = self.settings.replica_path()
        if not os.path.exists(path):
            return False
        replica = Replica(path)
        token, url = replica.state("token"), replica.state("hub_url")
        if not token or not url:
            replica.close()
            return False
        self._replica = replica
        self._client = self.client_factory(url, token)
        return True

    def disconnect(self) -> None:
        """Closes the replica; the providers return None after. Settings are kept."""
        if self._replica is not None:
            self._replica.close()
        self._replica = None
        self._client = None

    # ------------------------------------------------------------------ status

    def status(self) -> SessionStatus:
        """Last sync, ops waiting, unseen conflicts (a read of the replica)."""
        replica = self._replica
        if replica is None:
            return SessionStatus(False, None, 0, 0)
        return SessionStatus(
            True,
            parse_time(replica.state("last_pull_at")),
            replica.pending_count(),
            len(replica.refusals(unseen_only=True)),
        )
