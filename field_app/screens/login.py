"""Login: hub address, account, password. The network call runs off the UI thread."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import mainthread
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from ..core import session as sessions
from ..core.background import run_in_background


class LoginScreen(Screen):
    error = StringProperty("")
    busy = BooleanProperty(False)

    def refresh(self) -> None:
        app = App.get_running_app()
        if not self.ids.server.text:
            self.ids.server.text = app.server
        self.error = ""

    def log_in(self) -> None:
        if self.busy:
            return
        app = App.get_running_app()
        server, username, password = (
            self.ids.server.text,
            self.ids.username.text,
            self.ids.password.text,
        )
        self.busy = True
        self.error = ""
        run_in_background(
            lambda: sessions.login(app.data_dir, server, username, password), self._done
        )

    @mainthread
    def _done(self, result: Any, error: Any) -> None:
        self.busy = False
        if error is not None:
            self.error = str(error)
            return
        self.ids.password.text = ""
        session, replica = result
        App.get_running_app().open_session(session, replica)


SCREEN_CLASS = LoginScreen
