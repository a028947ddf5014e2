"""Who is logged in on this device, and where their replica is.

The app's data folder holds:
- `device.json`: the device id, made once and kept across logins (the hub revokes tokens
  per device, so a lost phone can be cut off);
- `session.json`: the hub URL, the username and the replica's file name while someone is
  logged in; the token itself lives in the replica (`sync_state`), as `sync.syncjob.login`
  keeps it;
- one replica GeoPackage per account and hub (`<username>@<host_port>.gpkg`).

`load_session(data_dir)` is what the app and Android's background service call at start:
the session of the last login (the worker stays logged in), or None. `sync.client` (and
with it `requests`) is imported only when a login or a client is needed, not at start.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional
from urllib.parse import urlparse

from sync.replica import Replica

from ..i18n import tr

if TYPE_CHECKING:
    from sync.client import HubClient

SESSION_FILE = "session.json"
DEVICE_FILE = "device.json"


class LoginError(Exception):
    """A login that did not happen, with a message for the worker."""


class UnsentWork(Exception):
    """Logging out was refused: ops or photos have not reached the hub yet."""


@dataclass
class Session:
    """The logged-in account on this device."""

    data_dir: str
    server: str
    username: str
    device_id: str
    replica_path: str
    user: Dict[str, Any] = field(default_factory=dict)

    def open_replica(self) -> Replica:
        replica = Replica(self.replica_path)
        if replica.state("device_id") != self.device_id:
            replica.set_state("device_id", self.device_id)
        return replica

    def client(self, replica: Replica, **options: Any) -> HubClient:
        """A client for the hub with the token the replica keeps."""
        from sync.client import HubClient

        return HubClient(self.server, token=replica.state("token"), **options)


def _write_json(path: str, data: Dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _read_json(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def device_id(data_dir: str) -> str:
    """This device's id: made once, then kept in `device.json` for good."""
    os.makedirs(data_dir, exist_ok=True)
    path = os.path.join(data_dir, DEVICE_FILE)
    data = _read_json(path)
    if data and isinstance(data.get("device_id"), str) and data["device_id"]:
        return str(data["device_id"])
    value = str(uuid.uuid4())
    _write_json(path, {"device_id": value})
    return value


def normalise_server(url: str) -> str:
    """The hub URL as typed, checked: http(s)://host[:port][/path], no trailing slash."""
    text = (url or "").strip().rstrip("/")
    if text and "://" not in text:
        text = "https://" + text
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise LoginError(tr("The hub address is not a web address (https://…)"))
    return text


def replica_file(data_dir: str, server: str, username: str) -> str:
    """The replica's path for this account on this hub."""
    parsed = urlparse(server)
    host = f"{parsed.hostname}_{parsed.port}" if parsed.port else str(parsed.hostname)
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", f"{username}@{host}")
    return os.path.join(data_dir, f"{safe}.gpkg")


def load_session(data_dir: str) -> Optional[Session]:
    """The session of the last login on this device, or None (nobody logged in).

    Read-only, apart from making the device id on first use.
    """
    data = _read_json(os.path.join(data_dir, SESSION_FILE))
    if not data:
        return None
    try:
        path = os.path.join(data_dir, str(data["replica"]))
        server, username = str(data["server"]), str(data["username"])
    except KeyError:
        return None
    if not os.path.exists(path):
        return None
    return Session(
        data_dir, server, username, device_id(data_dir), path, dict(data.get("user") or {})
    )


def login(
    data_dir: str,
    server: str,
    username: str,
    password: str,
    client_factory: Optional[Callable[[str], HubClient]] = None,
) -> tuple[Session, Replica]:
    """Logs in at the hub (network), keeps the token in the account's replica and the
    session in `session.json`. Raises LoginError with a message for the worker; a failed
    login changes nothing on the device. `client_factory(url)` makes the client (default
    `HubClient`)."""
    from sync.client import HubClient
    from sync.syncjob import login as replica_login

    username = (username or "").strip()
    server = normalise_server(server)
    if not username or not password:
        raise LoginError(tr("Enter your account and password"))
    os.makedirs(data_dir, exist_ok=True)
    dev = device_id(data_dir)
    path = replica_file(data_dir, server, username)
    existed = os.path.exists(path)
    replica = Replica(path)
    try:
        replica.set_state("device_id", dev)
        user = replica_login(replica, (client_factory or HubClient)(server), username, password)
        if user.get("role") != "worker":
            replica.set_state("token", None)
            raise LoginError(tr("This app is for grid workers; office staff use the QGIS plugin"))
    except BaseException as err:
        replica.close()
        if not existed:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
        raise _login_error(err) from None
    session = Session(data_dir, server, username, dev, path, user)
    save_session(session)
    return session, replica


def save_session(session: Session) -> None:
    """Keeps the session in `session.json` (the replica must be in the same folder)."""
    _write_json(
        os.path.join(session.data_dir, SESSION_FILE),
        {
            "server": session.server,
            "username": session.username,
            "replica": os.path.basename(session.replica_path),
            "user": session.user,
        },
    )


def _login_error(err: BaseException) -> BaseException:
    from sync.client import HubError, Offline

    if isinstance(err, LoginError):
        return err
    if isinstance(err, Offline):
        return LoginError(tr("Cannot reach the hub: check the network and the address"))
    if isinstance(err, HubError):
        if err.code == "invalid_credentials":
            return LoginError(tr("Wrong account or password"))
        if err.status == 429:
            return LoginError(tr("Too many attempts: wait a few minutes"))
        return LoginError(tr("The hub refused the login: {message}", message=err.message))
    if isinstance(err, ValueError):  # the replica belongs to another account
        return LoginError(str(err))
    return err


def logout(session: Session, replica: Replica) -> None:
    """Logs out: refuses (UnsentWork) while any op or photo has not reached the hub.

    Forgets the token (in the replica) and the session file; the replica file stays, so
    logging in again on this hub does not download everything anew.
    """
    ops = replica.pending_count()
    photos = len(replica.photos_to_upload())
    if ops or photos:
        raise UnsentWork(
            tr(
                "{ops} changes and {photos} photos have not reached the hub yet: sync before logging out",
                ops=ops,
                photos=photos,
            )
        )
    replica.set_state("token", None)
    path = os.path.join(session.data_dir, SESSION_FILE)
    if os.path.exists(path):
        os.remove(path)
