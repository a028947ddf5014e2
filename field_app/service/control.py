"""Starting and stopping the background sync service from the app.

`start_service(data_dir)` starts `cn.gridops.field.ServiceSync` (python-for-android's class
for the `Sync` service of `packaging/buildozer.spec`), which runs `field_app/service/main.py`
in its own process with `data_dir` as its argument and keeps syncing while the app is not
in front, with an ongoing notification (Android's rule for a foreground service).
`stop_service(data_dir)` stops it. Both answer False and do nothing off Android, so the app
calls them unconditionally.

One process syncs at a time: the app starts the service when it goes to the background
(`App.on_pause`) and stops it when it is back (`App.on_resume`), and on logging out. A stop
is recorded in `data_dir` first (`STOP_FILE`): Android may restart a sticky service on its
own later, and the service then ends at once instead of syncing for an app in front or an
account that logged out.
"""

from __future__ import annotations

import logging
import os

from ..i18n import tr

log = logging.getLogger("gridops.app.service")

PACKAGE = "cn.gridops.field"  # package.domain + "." + package.name in buildozer.spec
SERVICE_NAME = "Sync"  # the name in the spec's `services`
SERVICE_CLASS = f"{PACKAGE}.Service{SERVICE_NAME.capitalize()}"  # p4a's generated class
STOP_FILE = "sync-service.stop"


def on_android() -> bool:
    """True inside the APK: python-for-android sets ANDROID_ARGUMENT for the app."""
    return "ANDROID_ARGUMENT" in os.environ


def stop_requested(data_dir: str) -> bool:
    return os.path.exists(os.path.join(data_dir, STOP_FILE))


def prepare_service() -> bool:
    """Resolves, on the calling thread, the Java classes `start_service` needs; False off
    Android. The app calls it on its UI thread before handing the start to a thread of its
    own: pyjnius on a thread that Python started finds no class of the app (its class
    loader is the system's; python-for-android issue #2242), and a class resolved once is
    cached for every thread."""
    if not on_android():
        return False
    from jnius import autoclass  # type: ignore[import-not-found]

    autoclass("org.kivy.android.PythonActivity")
    autoclass(SERVICE_CLASS)
    return True


def start_service(data_dir: str) -> bool:
    """Starts the sync service for the account kept in `data_dir`; False off Android.

    Clears an earlier stop request first. Starting a running service does nothing.
    """
    if not on_android():
        return False
    flag = os.path.join(data_dir, STOP_FILE)
    if os.path.exists(flag):
        os.remove(flag)
    from jnius import autoclass  # type: ignore[import-not-found]

    activity = autoclass("org.kivy.android.PythonActivity").mActivity
    service = autoclass(SERVICE_CLASS)
    # start(context, smallIconName, contentTitle, contentText, argument): "" = the app icon
    service.start(activity, "", tr("GridOps sync"), tr("Keeping your tasks in sync"), data_dir)
    log.info("sync service started for %s", data_dir)
    return True


def stop_service(data_dir: str) -> bool:
    """Records the stop in `data_dir` and stops the service; False off Android.

    Android ends the service's process at once, possibly mid-sync, which is safe: every
    sync step commits on its own and the hub applies each op once.
    """
    if not on_android():
        return False
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, STOP_FILE), "w", encoding="utf-8") as handle:
        handle.write("stop\n")
    from jnius import autoclass

    activity = autoclass("org.kivy.android.PythonActivity").mActivity
    autoclass(SERVICE_CLASS).stop(activity)
    log.info("sync service stopped")
    return True
