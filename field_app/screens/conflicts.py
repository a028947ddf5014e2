"""What the hub refused and why, with the data that was sent (kept, nothing lost)."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import NumericProperty
from kivy.uix.screenmanager import Screen

from ..core.conflicts import load_conflicts, mark_seen
from ..i18n import PHOTO_ROLE_LABELS, label, tr
from ..widgets.photo_thumb import Thumb


class ConflictsScreen(Screen):
    count = NumericProperty(0)

    def refresh(self) -> None:
        app = App.get_running_app()
        if app.replica is None:
            return
        items = load_conflicts(app.replica)
        self.count = len(items)
        box = self.ids.cards
        box.clear_widgets()
        for item in items:
            card = Factory.ConflictCard()
            card.ids.title.text = item.task_title
            card.ids.what.text = f"{item.what} · {item.when}"
            card.ids.why.text = "⚠ " + item.why
            card.ids.hub.text = tr("The hub said: {message}", message=item.hub_message)
            card.ids.fields.text = "\n".join(item.fields)
            for photo in item.photos:
                thumb = Thumb(caption=label(PHOTO_ROLE_LABELS, photo.get("role")))
                thumb.set_bytes(app.photos.get(photo["sha256"]))
                card.ids.photos.add_widget(thumb)
            if not item.photos:
                card.ids.photo_row.height = 0
            box.add_widget(card)
        mark_seen(app.replica)


SCREEN_CLASS = ConflictsScreen
