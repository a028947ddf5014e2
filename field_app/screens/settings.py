"""Settings: language, hub, on / off duty, log out (refused while anything is unsent)."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import mainthread
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from .. import __version__
from ..core import settings
from ..core.background import run_in_background
from ..core.session import UnsentWork
from ..i18n import tr


class SettingsScreen(Screen):
    account = StringProperty("")
    server = StringProperty("")
    duty = StringProperty("unknown")  # "on", "off", "unknown"
    busy = BooleanProperty(False)
    message = StringProperty("")
    version = StringProperty(__version__)

    def refresh(self) -> None:
        app = App.get_running_app()
        self.message = ""
        if app.replica is None or app.session is None:
            return
        me = app.replica.me or {}
        grids = "、".join(me.get("grid_codes") or [])
        self.account = f"{me.get('display_name') or ''}（{me.get('username') or ''}）  {grids}"
        self.server = app.session.server
        value = settings.on_duty(app.replica)
        self.duty = "unknown" if value is None else ("on" if value else "off")

    def set_language(self, language: str) -> None:
        App.get_running_app().set_language(language)

    def set_duty(self, on: bool) -> None:
        app = App.get_running_app()
        if self.busy:
            return
        self.busy = True
        self.message = ""
        replica = app.replica
        # app.client is made on first use: off the UI thread, with the call itself
        run_in_background(lambda: settings.set_duty(replica, app.client, on), self._duty_done)

    @mainthread
    def _duty_done(self, value: Any, error: Any) -> None:
        self.busy = False
        if error is not None:
            self.message = str(error)
            self.refresh_duty()
            return
        self.duty = "on" if value else "off"
        self.message = tr("You are on duty") if value else tr("You are off duty")

    def refresh_duty(self) -> None:
        value = settings.on_duty(App.get_running_app().replica)
        self.duty = "unknown" if value is None else ("on" if value else "off")

    def log_out(self) -> None:
        try:
            App.get_running_app().log_out()
        except UnsentWork as err:
            self.message = str(err)


SCREEN_CLASS = SettingsScreen
