"""Typing the position on a desktop: shown in the report and patrol screens only with the
desktop's set position, a typed position becomes the fix the screens show and the report
carries, a wrong one is refused with a message and changes nothing. Real widgets on the
headless window, a worker's device with 1,000 tasks and no hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from conftest import pump

from bench.app_start import make_device
from field_app import i18n
from field_app.devices import Devices
from field_app.devices.base import Fix, Locator
from field_app.devices.desktop import BrowserNavigator, FileCamera, LogNotifier


def type_position(fa: Any, screen_name: str, text: str) -> Any:
    entry = fa.screen(screen_name).ids.position_entry
    entry.ids.text.text = text
    entry.ids.set_button.dispatch("on_release")
    pump()
    return entry


@pytest.mark.parametrize("screen_name", ["report", "patrol"])
def test_a_typed_position_is_the_fix(field_app: Any, tmp_path: Path, screen_name: str) -> None:
    data = make_device(tmp_path / "device")
    fa = field_app("http://127.0.0.1:9", data_dir=data)  # no position yet
    task = fa.app.replica.tasks(["in_progress"])[0]
    fa.app.current_task_id = task["id"]
    fa.app.go(screen_name)
    screen = fa.screen(screen_name)
    entry = screen.ids.position_entry
    pump()
    assert fa.app.can_set_position
    assert entry.height > 0 and entry.opacity == 1 and not entry.disabled
    assert screen.position_text == i18n.tr("No position yet")

    entry = type_position(fa, screen_name, "121.4302，31.2207, 8")  # a Chinese comma too
    assert entry.error == "" and entry.ids.text.text == ""
    fix = fa.app.position()
    assert (fix.lon, fix.lat, fix.accuracy_m, fix.source) == (121.4302, 31.2207, 8.0, "set")
    assert screen.position_text == i18n.tr(
        "{lat:.5f}, {lon:.5f} ({accuracy})",
        lat=31.2207,
        lon=121.4302,
        accuracy=i18n.tr("±{n} m", n=8),
    )
    assert "31.22070, 121.43020" in screen.position_text

    for wrong in ("121.43", "abc,31.2", "121.43,91", "nan,31.2", "121.43,31.22,-3", ""):
        entry = type_position(fa, screen_name, wrong)
        assert entry.error == i18n.tr(
            "Type the position as longitude,latitude (and accuracy in m)"
        ), wrong
        assert "经度,纬度" in entry.error
        assert fa.app.position() is fix  # unchanged
        assert entry.ids.text.text == wrong  # kept as typed, for correcting


def test_the_report_carries_the_typed_position(field_app: Any, tmp_path: Path) -> None:
    data = make_device(tmp_path / "device")
    fa = field_app("http://127.0.0.1:9", data_dir=data)
    task = fa.app.replica.tasks(["in_progress"])[0]
    fa.app.current_task_id = task["id"]
    fa.app.go("report")
    type_position(fa, "report", "121.4311,31.2222,4")
    fa.photo(7)
    report = fa.screen("report")
    report.ids.add_after.dispatch("on_release")
    pump()
    report.ids.submit.dispatch("on_release")
    assert fa.current == "tasks", report.error
    op = fa.app.replica.outbox()[-1]
    assert op["type"] == "task.submit"
    assert (op["payload"]["lon"], op["payload"]["lat"]) == (121.4311, 31.2222)
    assert op["payload"]["accuracy_m"] == 4.0


class Gps(Locator):
    """A locator like the phone's: fixes come from the receiver, none can be typed."""

    def __init__(self) -> None:
        self.last: Optional[Fix] = Fix(121.43, 31.22, 12.0, 0.0, "gps")

    def start(self, on_fix: Callable[[Fix], None]) -> None:
        assert self.last is not None
        on_fix(self.last)

    def stop(self) -> None:
        pass


@pytest.fixture
def gps_app(kivy_window: Any) -> Iterator[Any]:
    from kivy.lang.parser import global_idmap

    from field_app.app import GridOpsApp

    made: list[tuple[Any, Any]] = []

    def make(data_dir: Path) -> Any:
        object.__setattr__(global_idmap["app"], "_obj", None)  # as conftest's FieldApp
        devices = Devices(
            FileCamera(), Gps(), BrowserNavigator(open_url=lambda url: True), LogNotifier()
        )
        app = GridOpsApp(data_dir=str(data_dir), server="http://127.0.0.1:9", devices=devices)
        root = app.build()
        app.root = root
        kivy_window.add_widget(root)
        app.dispatch("on_start")
        pump()
        made.append((app, root))
        return app

    yield make
    for app, root in made:
        kivy_window.remove_widget(root)
        app.dispatch("on_stop")
        pump()


def test_no_entry_where_the_gps_gives_the_position(gps_app: Any, tmp_path: Path) -> None:
    app = gps_app(make_device(tmp_path / "device"))
    assert not app.can_set_position
    app.current_task_id = app.replica.tasks(["in_progress"])[0]["id"]
    for name in ("report", "patrol"):
        app.go(name)
        pump()
        entry = app.screen(name).ids.position_entry
        assert entry.height == 0 and entry.opacity == 0 and entry.disabled
    assert app.set_position("121.5,31.3") == i18n.tr("The position comes from the GPS here")
    assert app.position().lon == 121.43
