"""The phone's hardware on Android: camera, position, navigation and notifications.

Every call into Android (pyjnius' `jnius`, python-for-android's `android`) is imported
inside the method that needs it, so this module imports on a desktop, where the tests check
the classes against the facades of `base.py` and run the pure parts (URIs, fixes, the
capture result) without a phone.

- `AndroidCamera`: Android's own capture intent (`MediaStore.ACTION_IMAGE_CAPTURE`), told
  to write into `files/captures/` through a `content://` URI from AndroidX's FileProvider
  (authority `<package>.fileprovider`, declared by `packaging/android/p4a_hook.py`, paths
  in `packaging/android/res/xml/file_paths.xml`). plyer's camera hands the camera app a
  `file://` URI, which Android 7+ refuses with `FileUriExposedException` (plyer PR #852).
  The result comes back through `android.activity.bind(on_activity_result=...)`.
- `AndroidLocator`: the platform's `LocationManager` (GPS and network providers) through a
  pyjnius listener. Not plyer's `gps`: its released listener (plyer 2.1.0) lacks the
  `onLocationChanged(List)` that Android 12 calls, and every fix is lost there with a
  `NotImplementedError` (plyer issues #657, #687; the fix, PR #665, is unreleased).
- `AndroidNavigator`: an `ACTION_VIEW` intent for Amap (`androidamap://viewMap…&dev=1`) or
  Baidu Map (`baidumap://map/marker…&coord_type=wgs84`), whichever is installed, each told
  the point is WGS 84 (Chinese map apps draw on GCJ-02 / BD-09 and would show a GPS point
  a few hundred metres off); else `geo:lat,lon?q=lat,lon(label)` for any map app.
- `AndroidNotifier`: a NotificationCompat notification on the app's own channel, with an
  immutable PendingIntent that opens the app (plyer's notification builds a mutable-less
  PendingIntent that Android 12+ rejects). Works in the app and in the sync service.

The camera keeps, beside each capture file, what the photo is for (`<uuid>.json`), so that a
photo found in `files/captures/` after Android ended the app can go where it was meant
(`field_app.core.captures`); `stored(path)` deletes the file and its purpose once the
replica holds the photo.

Runtime permissions (camera, location, notifications) are asked with
`android.permissions.request_permissions` the first time they are needed. Callbacks come on
Android's UI thread or a binder thread, as `base.py` allows; the screens hop back to Kivy's.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import uuid
from typing import Any, Callable, List, Optional, Tuple

from . import Devices
from .base import Camera, Fix, Locator, Navigator, Notifier, Purpose
from .map_links import geo_uri, navigation_intents

__all__ = ["geo_uri", "navigation_intents"]  # the URIs live in map_links; used here

log = logging.getLogger("gridops.app.devices")

CAPTURES_DIR = "captures"  # under Context.getFilesDir(); file_paths.xml shares only this
PURPOSE_SUFFIX = ".json"  # beside each capture: what it was taken for
FILEPROVIDER_SUFFIX = ".fileprovider"  # the authority is the package name + this
CAPTURE_REQUEST_CODE = 0x6D01  # our startActivityForResult code (16 bits)
NOTIFICATION_CHANNEL = "gridops.tasks"
RESULT_OK = -1  # android.app.Activity.RESULT_OK
PERMISSION_GRANTED = 0  # android.content.pm.PackageManager.PERMISSION_GRANTED
PERMISSION_CAMERA = "android.permission.CAMERA"
PERMISSIONS_LOCATION = (
    "android.permission.ACCESS_FINE_LOCATION",
    "android.permission.ACCESS_COARSE_LOCATION",
)
PERMISSION_NOTIFICATIONS = "android.permission.POST_NOTIFICATIONS"  # Android 13+


def _activity() -> Any:
    from jnius import autoclass  # type: ignore[import-not-found]

    return autoclass("org.kivy.android.PythonActivity").mActivity


def _context() -> Any:
    """The app's context: the activity in the app, the service in the sync service."""
    from jnius import autoclass

    if "PYTHON_SERVICE_ARGUMENT" in os.environ:
        return autoclass("org.kivy.android.PythonService").mService
    return _activity()


def _sdk_int() -> int:
    from jnius import autoclass

    return int(autoclass("android.os.Build$VERSION").SDK_INT)


def with_permissions(
    permissions: List[str], then: Callable[[bool], None], request: bool = True
) -> None:
    """Calls `then(True)` once every permission is granted, `then(False)` when refused.

    Asks the worker for the missing ones when `request`; only the activity can ask, so the
    sync service passes False and gets False for a permission not granted yet.
    """
    context = _context()
    missing = [p for p in permissions if context.checkSelfPermission(p) != PERMISSION_GRANTED]
    if not missing:
        then(True)
        return
    if not request:
        then(False)
        return
    from android.permissions import request_permissions  # type: ignore[import-not-found]

    def answered(asked: List[str], grants: List[bool]) -> None:
        granted = bool(grants) and all(grants)
        if not granted:
            log.warning("permission refused: %s", ", ".join(asked))
        then(granted)

    request_permissions(missing, answered)


# --- camera -----------------------------------------------------------------------------


def purpose_file(path: str) -> str:
    """Where the purpose of the capture at `path` is kept: `<uuid>.jpg` → `<uuid>.json`."""
    return os.path.splitext(path)[0] + PURPOSE_SUFFIX


def write_purpose(path: str, purpose: Optional[Purpose]) -> None:
    """Keeps what the capture at `path` is for beside it (written before the camera app
    opens, so that a photo found after the app was killed can go where it was meant)."""
    if not purpose:
        return
    target = purpose_file(path)
    with open(target + ".tmp", "w", encoding="utf-8") as handle:
        json.dump({k: str(v) for k, v in purpose.items()}, handle, ensure_ascii=False)
    os.replace(target + ".tmp", target)


def read_purpose(path: str) -> Purpose:
    """The purpose kept beside the capture at `path`; {} when none or unreadable."""
    try:
        with open(purpose_file(path), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


def remove_capture(path: str) -> None:
    """Deletes a capture file and its purpose (each only if there)."""
    for name in (path, purpose_file(path)):
        if os.path.isfile(name):
            os.remove(name)


def capture_result(path: str, result_code: int) -> Optional[str]:
    """The photo the camera app left at `path`, or None (cancelled, or nothing written).

    A cancelled or empty capture file is removed (with its purpose); a photo is never
    removed here: the app hands it to `Replica.add_photo`, which keeps its own copy, and
    only then calls `AndroidCamera.stored()`, which deletes the file.
    """
    written = os.path.isfile(path) and os.path.getsize(path) > 0
    if result_code == RESULT_OK and written:
        return path
    remove_capture(path)
    return None


def leftover_captures(captures_dir: str) -> List[str]:
    """Photos in `captures_dir`, oldest first: after Android killed the app while the
    camera was open (low memory), the photo is there but no callback will ever come.
    Purpose files and empty files (a capture that never wrote) are not photos."""
    if not os.path.isdir(captures_dir):
        return []
    paths = [
        os.path.join(captures_dir, name)
        for name in os.listdir(captures_dir)
        if not name.endswith((PURPOSE_SUFFIX, ".tmp"))
    ]
    photos = [p for p in paths if os.path.isfile(p) and os.path.getsize(p) > 0]
    return sorted(photos, key=os.path.getmtime)


class AndroidCamera(Camera):
    """One photo through the phone's camera app, written to `files/captures/<uuid>.jpg`.

    `folder` stands in for the app's `files/captures/` (tests on a desktop)."""

    def __init__(self, folder: Optional[str] = None) -> None:
        self._folder = folder
        self._pending: Optional[tuple] = None  # (path, on_done) while the camera is open

    def captures_dir(self) -> str:
        if self._folder is None:
            self._folder = os.path.join(_context().getFilesDir().getAbsolutePath(), CAPTURES_DIR)
        return self._folder

    def stored(self, path: str) -> None:
        """Deletes a capture of ours (and its purpose) once the replica holds its photo;
        a file outside `files/captures/` is not ours and stays."""
        folder = os.path.realpath(self.captures_dir())
        if os.path.dirname(os.path.realpath(path)) == folder:
            remove_capture(path)

    def leftovers(self) -> List[Tuple[str, Purpose]]:
        return [(path, read_purpose(path)) for path in leftover_captures(self.captures_dir())]

    def capture(
        self, on_done: Callable[[Optional[str]], None], purpose: Optional[Purpose] = None
    ) -> None:
        if self._pending is not None:
            log.warning("camera already open; ignoring a second capture")
            return

        def permitted(granted: bool) -> None:
            if not granted:
                on_done(None)
                return
            try:
                self._launch(on_done, purpose)
            except Exception:
                log.exception("could not open the camera app")
                self._unbind()
                on_done(None)

        # The manifest declares CAMERA, so Android refuses the capture intent until the
        # permission is granted, although the camera app is the one that takes the photo.
        with_permissions([PERMISSION_CAMERA], permitted)

    def _launch(self, on_done: Callable[[Optional[str]], None], purpose: Optional[Purpose]) -> None:
        from android import activity as android_activity  # type: ignore[import-not-found]
        from jnius import autoclass, cast

        context = _activity()
        Intent = autoclass("android.content.Intent")
        MediaStore = autoclass("android.provider.MediaStore")
        File = autoclass("java.io.File")
        FileProvider = autoclass("androidx.core.content.FileProvider")

        folder = File(self.captures_dir())
        folder.mkdirs()
        target = File(folder, f"{uuid.uuid4()}.jpg")
        write_purpose(target.getAbsolutePath(), purpose)
        authority = context.getPackageName() + FILEPROVIDER_SUFFIX
        uri = FileProvider.getUriForFile(context, authority, target)
        intent = Intent(MediaStore.ACTION_IMAGE_CAPTURE)
        intent.putExtra(MediaStore.EXTRA_OUTPUT, cast("android.os.Parcelable", uri))
        intent.addFlags(
            Intent.FLAG_GRANT_WRITE_URI_PERMISSION | Intent.FLAG_GRANT_READ_URI_PERMISSION
        )
        self._pending = (target.getAbsolutePath(), on_done)
        android_activity.bind(on_activity_result=self._on_activity_result)
        context.startActivityForResult(intent, CAPTURE_REQUEST_CODE)

    def _on_activity_result(self, request_code: int, result_code: int, data: Any) -> None:
        if request_code != CAPTURE_REQUEST_CODE or self._pending is None:
            return
        path, on_done = self._pending
        self._unbind()
        on_done(capture_result(path, result_code))

    def _unbind(self) -> None:
        self._pending = None
        try:
            from android import activity as android_activity

            android_activity.unbind(on_activity_result=self._on_activity_result)
        except Exception:
            log.debug("activity result listener was not bound")


# --- position ---------------------------------------------------------------------------


def fix_from_location(location: Any) -> Optional[Fix]:
    """A `Fix` from an `android.location.Location`; None for a position out of range."""
    lon, lat = float(location.getLongitude()), float(location.getLatitude())
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    accuracy = float(location.getAccuracy()) if location.hasAccuracy() else None
    millis = int(location.getTime())
    return Fix(
        lon=lon,
        lat=lat,
        accuracy_m=accuracy,
        time=millis / 1000.0 if millis > 0 else time.time(),
        source=str(location.getProvider() or "gps"),
    )


_listener_class: Any = None


def _location_listener_class() -> Any:
    """A pyjnius `LocationListener` (defined on first use: it needs jnius)."""
    global _listener_class
    if _listener_class is not None:
        return _listener_class
    from jnius import PythonJavaClass, java_method  # type: ignore[import-not-found]

    class LocationListener(PythonJavaClass):  # type: ignore[misc]
        __javainterfaces__ = ["android/location/LocationListener"]  # noqa: RUF012 (pyjnius)

        def __init__(self, deliver: Callable[[Any], None]) -> None:
            super().__init__()
            self.deliver = deliver

        @java_method("(Landroid/location/Location;)V")
        def onLocationChanged(self, location: Any) -> None:
            self.deliver(location)

        # Android 12+ may deliver a batch (a default method that pyjnius cannot inherit).
        @java_method("(Ljava/util/List;)V", name="onLocationChanged")
        def onLocationChangedList(self, locations: Any) -> None:
            if locations.size() > 0:
                self.deliver(locations.get(locations.size() - 1))

        @java_method("(Ljava/lang/String;)V")
        def onProviderEnabled(self, provider: str) -> None:
            log.info("location provider on: %s", provider)

        @java_method("(Ljava/lang/String;)V")
        def onProviderDisabled(self, provider: str) -> None:
            log.info("location provider off: %s", provider)

        @java_method("(Ljava/lang/String;ILandroid/os/Bundle;)V")
        def onStatusChanged(self, provider: str, status: int, extras: Any) -> None:
            pass  # deprecated since API 29 and never called there

        @java_method("(I)V")
        def onFlushComplete(self, request_code: int) -> None:
            pass

    _listener_class = LocationListener
    return _listener_class


class AndroidLocator(Locator):
    """Fixes from the GPS and network providers, every `min_time_ms` / `min_distance_m`."""

    PROVIDERS = ("gps", "network")

    def __init__(self, min_time_ms: int = 2000, min_distance_m: float = 1.0) -> None:
        self.min_time_ms = min_time_ms
        self.min_distance_m = min_distance_m
        self.last: Optional[Fix] = None
        self._on_fix: Optional[Callable[[Fix], None]] = None
        self._manager: Any = None
        self._listener: Any = None

    def start(self, on_fix: Callable[[Fix], None]) -> None:
        self._on_fix = on_fix

        def permitted(granted: bool) -> None:
            if not granted:
                log.warning("no location permission: the position stays unknown")
                return
            if self._on_fix is None:  # stopped while the worker was answering
                return
            try:
                self._request_updates()
            except Exception:
                log.exception("could not start location updates")

        with_permissions(list(PERMISSIONS_LOCATION), permitted)

    def _request_updates(self) -> None:
        from jnius import autoclass, cast

        Context = autoclass("android.content.Context")
        Looper = autoclass("android.os.Looper")
        context = _context()
        manager = cast(
            "android.location.LocationManager",
            context.getSystemService(Context.LOCATION_SERVICE),
        )
        listener = _location_listener_class()(self._deliver)
        enabled = [p for p in self.PROVIDERS if manager.isProviderEnabled(p)]
        for provider in enabled:
            known = manager.getLastKnownLocation(provider)
            if known is not None:
                self._deliver(known)
            manager.requestLocationUpdates(
                provider,
                self.min_time_ms,
                float(self.min_distance_m),
                listener,
                Looper.getMainLooper(),
            )
        self._manager, self._listener = manager, listener
        if not enabled:
            log.warning("location is off on this phone (no GPS or network provider)")

    def _deliver(self, location: Any) -> None:
        fix = fix_from_location(location)
        if fix is None:
            return
        if self.last is not None and fix.time < self.last.time:
            return  # an older last-known position arriving after a live fix
        self.last = fix
        if self._on_fix is not None:
            self._on_fix(fix)

    def stop(self) -> None:
        self._on_fix = None
        if self._manager is not None and self._listener is not None:
            self._manager.removeUpdates(self._listener)
        self._manager = self._listener = None


# --- navigation -------------------------------------------------------------------------


class AndroidNavigator(Navigator):
    """Hands the place to an installed Chinese map app with its WGS 84 flag, else `geo:`.

    Each intent names its app's package, so Android starts that app or, when it is not
    installed, refuses at once (`ActivityNotFoundException`); no package query is needed
    (Android 11 hides other apps' packages from queries unless the manifest lists them)."""

    def navigate(self, lon: float, lat: float, label: str) -> bool:
        tries = navigation_intents(lon, lat, label)
        from jnius import autoclass

        Intent = autoclass("android.content.Intent")
        Uri = autoclass("android.net.Uri")
        activity = _activity()
        for package, uri_text in tries:
            intent = Intent(Intent.ACTION_VIEW, Uri.parse(uri_text))
            if package is not None:
                intent.setPackage(package)
            try:
                activity.startActivity(intent)
            except Exception:
                log.info("no app takes %s", uri_text)
                continue
            return True
        log.warning("no map app takes the place")
        return False


# --- notifications ----------------------------------------------------------------------


class AndroidNotifier(Notifier):
    """Notifications on the channel `NOTIFICATION_CHANNEL`, each with its own id."""

    def __init__(self, channel_name: str = "Tasks") -> None:
        self.channel_name = channel_name
        self._channel_made = False
        self._next_id = int(time.time()) % 100_000 * 10

    def notify(self, title: str, text: str) -> None:
        in_service = "PYTHON_SERVICE_ARGUMENT" in os.environ
        if _sdk_int() < 33:
            self._post(title, text)
            return
        with_permissions(
            [PERMISSION_NOTIFICATIONS],
            lambda granted: self._post(title, text) if granted else None,
            request=not in_service,
        )

    def _post(self, title: str, text: str) -> None:
        from jnius import autoclass

        context = _context()
        Builder = autoclass("androidx.core.app.NotificationCompat$Builder")
        NotificationCompat = autoclass("androidx.core.app.NotificationCompat")
        PendingIntent = autoclass("android.app.PendingIntent")
        manager = self._manager(context)
        launch = context.getPackageManager().getLaunchIntentForPackage(context.getPackageName())
        opener = PendingIntent.getActivity(
            context, 0, launch, PendingIntent.FLAG_IMMUTABLE | PendingIntent.FLAG_UPDATE_CURRENT
        )
        builder = Builder(context, NOTIFICATION_CHANNEL)
        builder.setSmallIcon(context.getApplicationInfo().icon)
        builder.setContentTitle(title)
        builder.setContentText(text)
        builder.setPriority(NotificationCompat.PRIORITY_DEFAULT)
        builder.setContentIntent(opener)
        builder.setAutoCancel(True)
        self._next_id += 1
        manager.notify(self._next_id, builder.build())

    def _manager(self, context: Any) -> Any:
        """The system's NotificationManager, with our channel made (Android 8+)."""
        from jnius import autoclass, cast

        Context = autoclass("android.content.Context")
        NotificationManager = autoclass("android.app.NotificationManager")
        manager = cast(
            "android.app.NotificationManager",
            context.getSystemService(Context.NOTIFICATION_SERVICE),
        )
        if not self._channel_made and _sdk_int() >= 26:
            NotificationChannel = autoclass("android.app.NotificationChannel")
            channel = NotificationChannel(
                NOTIFICATION_CHANNEL, self.channel_name, NotificationManager.IMPORTANCE_DEFAULT
            )
            manager.createNotificationChannel(channel)  # a no-op when it exists
            self._channel_made = True
        return manager


def make_devices() -> Devices:
    """The app's devices on a phone (what `devices.make_devices("android")` returns)."""
    from ..i18n import tr

    return Devices(
        camera=AndroidCamera(),
        locator=AndroidLocator(),
        navigator=AndroidNavigator(),
        notifier=AndroidNotifier(channel_name=tr("Task notifications")),
    )
