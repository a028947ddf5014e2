"""A task's detail: facts, the offline map, photos, history; the actions it allows now.

Pause and decline ask for a reason in a popup; every action is one call into
`core.actions` (queued on the device, sent by the next sync).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from kivy.app import App
from kivy.clock import mainthread
from kivy.properties import ListProperty, ObjectProperty, StringProperty
from kivy.uix.popup import Popup
from kivy.uix.screenmanager import Screen

from ..core.actions import ActionError
from ..core.background import run_in_background
from ..core.detail import ACTION_LABELS, TaskDetail, load_detail
from ..core.map_model import load_map_data
from ..i18n import tr
from ..widgets.grid_map import GridMap  # noqa: F401  (used in detail.kv)
from ..widgets.photo_thumb import Thumb

PRIMARY = ("report", "start", "resume", "claim")


class ReasonPopup(Popup):
    """Asks for the reason of a pause or a decline."""

    prompt = StringProperty("")
    confirm_text = StringProperty("")
    error = StringProperty("")
    on_confirm: Optional[Callable[[str], Optional[str]]] = None

    def confirm(self) -> None:
        assert self.on_confirm is not None
        problem = self.on_confirm(self.ids.reason.text)
        if problem:
            self.error = problem
        else:
            self.dismiss()


class DetailScreen(Screen):
    detail: Optional[TaskDetail] = ObjectProperty(None, allownone=True)
    facts = StringProperty("")
    history_text = StringProperty("")
    actions = ListProperty([])
    popup: Optional[ReasonPopup] = None

    def refresh(self) -> None:
        app = App.get_running_app()
        if app.replica is None or not app.current_task_id:
            return
        try:
            detail = load_detail(app.replica, app.current_task_id)
        except KeyError:  # the task left this device's scope meanwhile
            app.go("tasks")
            return
        self.detail = detail
        facts = [f"{detail.kind_label} · {detail.status_label} · {detail.priority_label}"]
        if detail.due_text:
            due = tr("Due {time}", time=detail.due_text)
            facts.append(("⚠ " + tr("Overdue") + " · " + due) if detail.overdue else due)
        if detail.grid_code:
            facts.append(tr("Grid {code}", code=detail.grid_code))
        if detail.pending:
            facts.append(tr("{n} changes waiting to send", n=detail.pending))
        self.facts = "\n".join(facts)
        self.history_text = "\n".join(
            f"{h.when}  {h.who}  {h.what}" for h in reversed(detail.history)
        )
        self.actions = list(detail.actions)
        self._build_actions()
        self._show_photos()
        self._show_map()

    # ------------------------------------------------------------------ pieces

    def _build_actions(self) -> None:
        from kivy.factory import Factory

        bar = self.ids.action_bar
        bar.clear_widgets()
        names = [a for a in PRIMARY if a in self.actions]
        names += [a for a in self.actions if a not in PRIMARY]
        for name in names:
            cls = Factory.BigButton if name in PRIMARY else Factory.QuietButton
            button = cls(text=tr(ACTION_LABELS[name]))
            button.action = name
            button.bind(on_release=lambda b: self.do(b.action))
            bar.add_widget(button)

    def _show_photos(self) -> None:
        app = App.get_running_app()
        row = self.ids.photos
        row.clear_widgets()
        assert self.detail is not None
        for item in self.detail.photos:
            thumb = Thumb(caption=item.role_label, sha256=item.sha256)
            thumb.set_bytes(app.photos.get(item.sha256))
            row.add_widget(thumb)
            if app.photos.get(item.sha256) is None and app.session is not None:
                self._fetch(thumb)

    def _fetch(self, thumb: Thumb) -> None:
        app = App.get_running_app()
        photos, sha = app.photos, thumb.sha256
        # app.client is made on first use: off the UI thread, with the fetch itself
        run_in_background(
            lambda: photos.fetch(app.client, sha), lambda data, err: self._fetched(thumb, data, err)
        )

    @mainthread
    def _fetched(self, thumb: Thumb, data: Any, error: Any) -> None:
        if error is None:
            thumb.set_bytes(data)

    def _show_map(self) -> None:
        app = App.get_running_app()
        fix = app.position()
        me = (fix.lon, fix.lat, fix.accuracy_m) if fix is not None else None
        task = app.replica.task(app.current_task_id)
        self.ids.map.data = load_map_data(app.replica, task, me)

    def on_position(self, _fix: Any) -> None:
        if self.detail is not None:
            self._show_map()

    # ------------------------------------------------------------------ actions

    def do(self, action: str) -> None:
        app = App.get_running_app()
        task_id = app.current_task_id
        if action == "report":
            app.go("report")
        elif action == "navigate":
            assert self.detail is not None
            if not app.devices.navigator.navigate(
                self.detail.lon, self.detail.lat, self.detail.title
            ):
                app.show_toast(tr("No map app could take the place"))
        elif action in ("pause", "decline"):
            self.ask_reason(action)
        else:
            self._act(lambda: getattr(app.actions, action)(task_id), action)

    def ask_reason(self, action: str) -> ReasonPopup:
        app = App.get_running_app()
        task_id = app.current_task_id
        popup = ReasonPopup(
            title=tr(ACTION_LABELS[action]),
            prompt=tr("Why do you pause it?")
            if action == "pause"
            else tr("Why do you decline it? It goes back to the street office."),
            confirm_text=tr(ACTION_LABELS[action]),
        )

        def confirm(reason: str) -> Optional[str]:
            try:
                getattr(app.actions, action)(task_id, reason)
            except ActionError as err:
                return str(err)
            self._after_action(action)
            return None

        popup.on_confirm = confirm
        popup.open()
        self.popup = popup
        return popup

    def _act(self, call: Callable[[], Any], action: str) -> None:
        app = App.get_running_app()
        try:
            call()
        except ActionError as err:
            app.show_toast(str(err))
            return
        self._after_action(action)

    def _after_action(self, action: str) -> None:
        app = App.get_running_app()
        app.show_toast(tr("Saved on the phone; it will be sent at the next sync"))
        app.sync_now()
        if action == "decline":
            app.go("tasks")
        else:
            self.refresh()


SCREEN_CLASS = DetailScreen
