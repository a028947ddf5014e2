"""Settings: the language (kept on the device), the hub, the duty switch, logging out.

- language: `settings.json` in the app's data folder; zh_CN unless the worker chose English;
- duty: the hub dispatches only to workers on duty; the switch is the hub's
  `PUT /api/v1/me/duty` (network: the screen calls it off the UI thread), and the answer
  is kept in the replica's user so that the screen shows it offline;
- logging out: `session.logout`, which refuses while anything is unsent.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Optional

from sync.replica import Replica

from .. import i18n
from ..i18n import tr

if TYPE_CHECKING:
    from sync.client import HubClient

SETTINGS_FILE = "settings.json"


class SettingsError(Exception):
    """A setting that could not be changed; `str()` is the worker's message."""


def load_language(data_dir: str) -> str:
    """The language chosen on this device (zh_CN by default). Read-only."""
    try:
        with open(os.path.join(data_dir, SETTINGS_FILE), encoding="utf-8") as handle:
            value = json.load(handle).get("language")
    except (OSError, ValueError, AttributeError):
        return i18n.DEFAULT_LANGUAGE
    return value if value in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def save_language(data_dir: str, language: str) -> None:
    """Switches the app's language and keeps the choice; refuses an unknown language."""
    if language not in i18n.LANGUAGES:
        raise SettingsError(f"unknown language {language!r}")
    os.makedirs(data_dir, exist_ok=True)
    path = os.path.join(data_dir, SETTINGS_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"language": language}, handle)
    os.replace(tmp, path)
    i18n.set_language(language)


def on_duty(replica: Replica) -> Optional[bool]:
    """The duty flag as last known on the device (None: not known yet). Read-only."""
    me = replica.me or {}
    if me.get("on_duty") is not None:
        return bool(me["on_duty"])
    user = replica.user(me["id"]) if me.get("id") else None
    if user is not None and user.get("on_duty") is not None:
        return bool(user["on_duty"])
    return None


def set_duty(replica: Replica, client: HubClient, on: bool) -> bool:
    """Sets the duty flag at the hub (network) and keeps its answer on the device."""
    from sync.client import HubError, Offline

    try:
        answer = client.put("/api/v1/me/duty", {"on_duty": bool(on)})
    except Offline:
        raise SettingsError(tr("Going on or off duty needs a connection to the hub")) from None
    except HubError as err:
        raise SettingsError(tr("The hub refused: {message}", message=err.message)) from None
    value = bool(answer["on_duty"])
    me = dict(replica.me or {})
    me["on_duty"] = value
    replica.set_state("user", json.dumps(me, ensure_ascii=False))
    return value
