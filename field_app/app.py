"""The Kivy application: screens, the session, the background sync, the devices.

`GridOpsApp(data_dir, server, devices)` builds a ScreenManager with one screen per `.kv`
under `screens/`; at start it opens the session kept on the device (`core.session`) or
shows the login. Everything the screens do goes through the presenters of `core`; sync
runs on the `SyncRunner`'s thread and reports back here through `mainthread` callbacks.
`run()` is what `main.py` (Android) and `python -m field_app` call.

A cold start does only what the first screen needs: the task list's screen and `.kv` (the
others are made on first use), the list's columns from the replica. The background work
begins once that first frame is on screen: photos an interrupted capture left behind are
kept (`core.captures`), then the first sync runs, on the runner's thread, which is also
where `sync.client` (and `requests`) is first imported.

On Android the app hands syncing to the background service when it leaves the screen
(`on_pause`, which answers True so that Android keeps the app) and takes it back on
`on_resume` (`core.handover`): one process syncs at a time.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.utils import platform as kivy_platform

from sync.replica import Replica

from . import i18n
from .core import captures, settings
from .core import session as sessions
from .core.actions import TaskActions
from .core.background import run_in_background
from .core.handover import SyncHandover
from .core.photo_cache import PhotoCache
from .core.sync_runner import SyncRunner, SyncState
from .core.tasklist import TaskListPresenter
from .devices import Devices, make_devices
from .fonts import register_font

if TYPE_CHECKING:
    from sync.client import HubClient

log = logging.getLogger("gridops.app")
SCREENS = ("login", "tasks", "detail", "report", "patrol", "conflicts", "settings")
PHASE_LABELS = {
    "photos": "Sending photos",
    "photo_bytes": "Sending photos",
    "push": "Sending changes",
    "pull": "Receiving tasks",
    "extract": "Loading the grid map",
    "done": "Synced",
}


def default_data_dir() -> str:
    if kivy_platform == "android":
        from android.storage import app_storage_path  # type: ignore[import-not-found]

        return os.path.join(app_storage_path(), "gridops")
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(base, "gridops-field")


class AppRoot(FloatLayout):
    """The screens, with a toast on top."""


class GridOpsApp(App):
    title = "GridOps"
    lang = StringProperty(i18n.DEFAULT_LANGUAGE)
    online = BooleanProperty(True)  # False once a sync found the hub unreachable
    syncing = BooleanProperty(False)
    sync_progress = NumericProperty(0.0)  # 0..1 of the current phase
    sync_text = StringProperty("")
    toast = StringProperty("")
    me_name = StringProperty("")
    can_set_position = BooleanProperty(False)  # a desktop stand-in: the worker types it
    recovered_photos = NumericProperty(0)  # kept from an interrupted capture, for a find

    def __init__(
        self,
        data_dir: Optional[str] = None,
        server: Optional[str] = None,
        devices: Optional[Devices] = None,
        sync_period_s: float = 300.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.data_dir = data_dir or default_data_dir()
        self.server = server or ""
        self.devices = devices or make_devices(kivy_platform)
        self.sync_period_s = sync_period_s
        self.session: Optional[sessions.Session] = None
        self.replica: Optional[Replica] = None
        self.tasklist: Optional[TaskListPresenter] = None
        self.actions: Optional[TaskActions] = None
        self.photos: Optional[PhotoCache] = None
        self.runner: Optional[SyncRunner] = None
        self.current_task_id: Optional[str] = None
        self._toast_event: Any = None
        self.handover = SyncHandover(self.data_dir)
        self.can_set_position = bool(self.devices.locator.settable)
        self.lang = settings.load_language(self.data_dir)
        i18n.set_language(self.lang)

    # ------------------------------------------------------------------ i18n for kv

    def tr(self, text: str, *_lang: Any, **fields: Any) -> str:
        """`i18n.tr`; kv passes `app.lang` as an extra argument so it re-binds on a switch."""
        return i18n.tr(text, **fields)

    def set_language(self, language: str) -> None:
        settings.save_language(self.data_dir, language)
        self.lang = language
        self.refresh()

    # ------------------------------------------------------------------ building

    def build(self) -> AppRoot:
        from kivy.core.window import Window

        register_font()
        Window.clearcolor = (0.95, 0.95, 0.96, 1)
        from .screens import load_common

        load_common()
        root = AppRoot()
        manager = ScreenManager(transition=NoTransition())
        root.add_widget(manager)
        root.manager = manager
        self.manager = manager
        saved = sessions.load_session(self.data_dir)
        if saved is not None:
            self.open_session(saved)
        else:
            self.go("login")
        return root

    def on_start(self) -> None:
        self.devices.locator.start(self._on_fix)

    def on_stop(self) -> None:
        self.close_session()

    def on_pause(self) -> bool:
        """The app leaves the screen (Android): the service syncs in its place while
        someone is logged in. True: Android keeps the app, which resumes where it was."""
        if self.session is not None and self.runner is not None:
            from .service import control

            control.prepare_service()  # here: the start itself runs on another thread
            self.handover.to_background(self.runner)
        return True

    def on_resume(self) -> None:
        """Back in front: the service stops, the app syncs at once and shows what the
        service brought meanwhile."""
        if self.session is not None and self.runner is not None:
            self.handover.to_foreground(self.runner)
            self.refresh()

    def screen(self, name: str) -> Any:
        """The screen called `name`, made the first time it is asked for."""
        from .screens import make_screen

        if not self.manager.has_screen(name):
            self.manager.add_widget(make_screen(name))
        return self.manager.get_screen(name)

    def go(self, name: str) -> None:
        """Shows a screen (refreshing it first)."""
        screen = self.screen(name)
        if hasattr(screen, "refresh"):
            screen.refresh()
        self.manager.current = name

    def refresh(self) -> None:
        current = self.manager.current_screen
        if current is not None and hasattr(current, "refresh"):
            current.refresh()

    # ------------------------------------------------------------------ session

    def open_session(self, session: sessions.Session, replica: Optional[Replica] = None) -> None:
        self.close_session()
        self.session = session
        self.replica = replica or session.open_replica()
        me = self.replica.me or session.user
        self.me_name = str(me.get("display_name") or me.get("username") or "")
        self.tasklist = TaskListPresenter(self.replica.path, me["id"])
        self.actions = TaskActions(self.replica)
        self.photos = PhotoCache(self.replica, os.path.join(self.data_dir, "photo-cache"))
        the_replica = self.replica
        runner = SyncRunner(
            self.replica,
            lambda: session.client(the_replica),  # made on the runner's thread
            period_s=self.sync_period_s,
            on_progress=self._on_progress,
            on_state=self._on_sync_state,
            on_new_tasks=self._on_new_tasks,
        )
        self.runner = runner
        self.go("tasks")
        self._after_first_frame(lambda: self._begin_background_work(runner))

    @property
    def client(self) -> Optional[HubClient]:
        """The hub's client of the open session (made on first use, on any thread)."""
        runner = self.runner
        return runner.client if runner is not None else None

    def _after_first_frame(self, then: Any) -> None:
        """Calls `then()` once the next frame is on screen (the first, at start)."""
        from kivy.core.window import Window

        def flipped(*_: Any) -> None:
            Window.unbind(on_flip=flipped)
            then()

        Window.bind(on_flip=flipped)
        Window.canvas.ask_update()

    def _begin_background_work(self, runner: SyncRunner) -> None:
        """Keeps what an interrupted capture left, then starts syncing (stopping the
        background service first: it may still run from before this start)."""
        if self.runner is not runner or self.replica is None:
            return  # logged out before the first frame
        replica, camera, fix = self.replica, self.devices.camera, self.position()
        if camera.leftovers():
            run_in_background(
                lambda: captures.recover(replica, camera, fix),
                lambda found, error: self._recovered(replica, found, error),
                name="gridops-recover",
            )
        else:
            self.recovered_photos = len(captures.for_patrol(replica))
        self.handover.to_foreground(runner)
        runner.start()

    @mainthread
    def _recovered(self, replica: Replica, found: Any, error: Any) -> None:
        if error is not None:
            log.error("photos of an interrupted capture not kept: %s", error)
            return
        if replica is not self.replica:
            return
        self.recovered_photos = len(captures.for_patrol(replica))
        if not found:
            return
        self.show_toast(
            self.tr("{n} photos taken before the app was closed were kept", n=len(found))
        )
        where = captures.resume_screen(replica, found)
        if where is not None and self.manager.current == "tasks":
            screen, task_id = where
            if task_id:
                self.current_task_id = task_id
            self.go(screen)
        else:
            self.refresh()

    def close_session(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        if self.tasklist is not None:
            self.tasklist.close()
            self.tasklist = None
        if self.replica is not None:
            self.replica.close()
            self.replica = None
        self.session = None

    def log_out(self) -> None:
        """Raises `UnsentWork` (nothing changes) while anything is unsent. Stops the
        background service: nothing syncs the account any more."""
        assert self.session is not None and self.replica is not None
        sessions.logout(self.session, self.replica)
        self.handover.stop_service()
        self.close_session()
        self.go("login")

    def sync_now(self) -> None:
        if self.runner is not None:
            self.runner.sync_now()

    # ------------------------------------------------------------------ devices

    @mainthread
    def _on_fix(self, fix: Any) -> None:
        current = self.manager.current_screen if hasattr(self, "manager") else None
        if current is not None and hasattr(current, "on_position"):
            current.on_position(fix)

    def position(self) -> Any:
        return self.devices.locator.last

    def set_position(self, text: str) -> Optional[str]:
        """Sets the stand-in's position from `lon,lat[,accuracy]` as typed (desktop);
        returns the worker's message when it is not a position (nothing changes)."""
        if not self.devices.locator.settable:
            return self.tr("The position comes from the GPS here")
        from .devices.desktop import parse_position

        try:
            fix = parse_position(text)
        except ValueError:
            fix = None
        if fix is None:
            return self.tr("Type the position as longitude,latitude (and accuracy in m)")
        self.devices.locator.set_position(fix.lon, fix.lat, fix.accuracy_m)
        return None

    # ------------------------------------------------------------------ sync callbacks

    @mainthread
    def _on_progress(self, phase: str, done: int, total: int) -> None:
        self.sync_text = i18n.label(PHASE_LABELS, phase)
        self.sync_progress = (done / total) if total else 0.0

    @mainthread
    def _on_sync_state(self, state: SyncState) -> None:
        self.syncing = state.running
        if state.online is not None:
            self.online = state.online
        if state.needs_login:
            self.show_toast(self.tr("Your login has expired: log in again"))
        elif state.last_error and not state.running:
            self.show_toast(self.tr("Sync failed: {error}", error=state.last_error))
        if not state.running:
            self.sync_text = ""
            self.refresh()

    @mainthread
    def _on_new_tasks(self, tasks: List[Dict[str, Any]]) -> None:
        titles = "、".join(str(t.get("title") or "") for t in tasks[:3])
        self.devices.notifier.notify(self.tr("{n} new tasks", n=len(tasks)), titles)
        self.show_toast(self.tr("{n} new tasks", n=len(tasks)))

    # ------------------------------------------------------------------ messages

    def show_toast(self, text: str, seconds: float = 4.0) -> None:
        self.toast = text
        if self._toast_event is not None:
            self._toast_event.cancel()
        self._toast_event = Clock.schedule_once(lambda *_: self._clear_toast(text), seconds)

    def _clear_toast(self, text: str) -> None:
        if self.toast == text:
            self.toast = ""


def run(data_dir: Optional[str] = None, server: Optional[str] = None) -> None:
    """Starts the app (Android's `main.py`; `python -m field_app` passes its options)."""
    GridOpsApp(data_dir=data_dir, server=server).run()
