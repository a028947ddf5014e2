"""Screens with a large replica and no hub: a thousand tasks, the language switch, logging
out refused while work is unsent; and the app's font."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import pump

from bench.app_start import TASKS, make_device


def test_a_thousand_tasks_and_the_language_switch(field_app: Any, tmp_path: Path) -> None:
    data = make_device(tmp_path / "device")
    fa = field_app("http://127.0.0.1:9", position=(121.43, 31.22, 5.0), data_dir=data)
    assert fa.current == "tasks"  # stays logged in
    tasks = fa.screen("tasks")
    rv = tasks.ids.list
    assert len(rv.data) == tasks.todo_count == TASKS
    pump()
    # The RecycleView makes widgets only for the rows on screen.
    views = rv.layout_manager.children
    assert 0 < len(views) < 40
    rv.scroll_y = 0
    pump(lambda: any(v.task_id == rv.data[-1]["task_id"] for v in rv.layout_manager.children))
    assert len(rv.layout_manager.children) < 40
    assert tasks.ids.tab_todo.text == f"待办 {TASKS}"

    # Settings: English, kept; the task list follows.
    tasks.ids.settings_button.dispatch("on_release")
    screen = fa.screen("settings")
    screen.ids.lang_en.dispatch("on_release")
    pump()
    assert fa.app.lang == "en"
    assert screen.ids.logout.text == "Log out"
    assert (data / "settings.json").read_text().count("en") == 1
    fa.app.go("tasks")
    pump()
    assert tasks.ids.tab_todo.text == f"To do {TASKS}"
    assert tasks.ids.sync_button.text in ("Sync", "Syncing…")
    fa.app.set_language("zh_CN")


def test_log_out_refused_while_unsent(field_app: Any, tmp_path: Path) -> None:
    data = make_device(tmp_path / "device")
    fa = field_app("http://127.0.0.1:9", data_dir=data)
    task = fa.app.replica.tasks(["assigned"])[0]
    fa.app.actions.start(task["id"])
    fa.app.go("settings")
    screen = fa.screen("settings")
    screen.ids.logout.dispatch("on_release")
    assert "1" in screen.message and fa.current == "settings"
    assert fa.app.session is not None
    assert (data / "session.json").exists()


def test_font_has_chinese_latin_and_rare_name_characters() -> None:
    from fontTools.ttLib import TTFont

    from field_app import i18n
    from field_app.fonts import FONT_FILE

    assert Path(FONT_FILE).exists(), "build it: make app-font (tools/make_app_font.py)"
    assert (Path(FONT_FILE).parent / "OFL.txt").read_text().count("SIL OPEN FONT LICENSE") == 1
    with TTFont(FONT_FILE, lazy=True) as font:
        cmap = font.getBestCmap()
    texts = "".join(i18n.catalogue("zh_CN").values()) + "堃喆玥䶮 0123456789 ABCxyz ✓⚠‹·…±"
    missing = sorted({c for c in texts if ord(c) not in cmap and not c.isspace()})
    assert missing == []
