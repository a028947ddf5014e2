"""Every user-facing string of the app has its Chinese translation, and the language
switch is kept on the device."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from field_app import i18n
from field_app.core import settings

ROOT = Path(__file__).resolve().parents[2] / "field_app"
CALL = re.compile(r"""\btr\(\s*(?:\n\s*)?("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
LABEL_TABLES = (
    "STATUS_LABELS",
    "KIND_LABELS",
    "PRIORITY_LABELS",
    "PHOTO_ROLE_LABELS",
    "OP_LABELS",
    "REFUSAL_LABELS",
)


def source_strings() -> set[str]:
    """The literals passed to tr()/app.tr() in the app's .py and .kv files, and the label
    tables whose values go through tr()."""
    import ast

    found: set[str] = set()
    for path in [*ROOT.rglob("*.py"), *ROOT.rglob("*.kv")]:
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(ast.literal_eval(match.group(1)))
    from field_app.app import PHASE_LABELS
    from field_app.core.conflicts import FIELD_NAMES
    from field_app.core.detail import ACTION_LABELS
    from field_app.core.tasklist import SORT_LABELS, TAB_LABELS

    for table in (PHASE_LABELS, ACTION_LABELS, SORT_LABELS, TAB_LABELS, FIELD_NAMES):
        found.update(table.values())
    for name in LABEL_TABLES:
        found.update(getattr(i18n, name).values())
    return found


def test_every_string_has_a_chinese_translation() -> None:
    texts = sorted(source_strings())
    assert len(texts) > 100
    assert i18n.missing("zh_CN", texts) == []


def test_translations_keep_their_fields() -> None:
    field = re.compile(r"\{(\w+)")
    for source, chinese in i18n.catalogue("zh_CN").items():
        assert set(field.findall(source)) == set(field.findall(chinese)), source
        assert chinese.strip(), source


def test_catalogue_has_no_stale_entries() -> None:
    stale = set(i18n.catalogue("zh_CN")) - source_strings()
    assert stale == set()


def test_tr_switches_language_and_fills_fields() -> None:
    try:
        i18n.set_language("zh_CN")
        assert i18n.tr("Log in") == "登录"
        assert i18n.tr("{n} new tasks", n=3) == "3 个新任务"
        assert i18n.label(i18n.STATUS_LABELS, "in_progress") == "处置中"
        i18n.set_language("en")
        assert i18n.tr("Log in") == "Log in"
        assert i18n.tr("{n} new tasks", n=3) == "3 new tasks"
        assert i18n.label(i18n.STATUS_LABELS, "no_such_status") == "no_such_status"
        with pytest.raises(ValueError, match="unknown language"):
            i18n.set_language("fr")
        assert i18n.language() == "en"
    finally:
        i18n.set_language("zh_CN")


def test_language_choice_is_kept(tmp_path: Path) -> None:
    data = str(tmp_path)
    assert settings.load_language(data) == "zh_CN"
    try:
        settings.save_language(data, "en")
        assert settings.load_language(data) == "en"
        assert i18n.language() == "en"
        with pytest.raises(settings.SettingsError):
            settings.save_language(data, "xx")
        assert settings.load_language(data) == "en"
    finally:
        settings.save_language(data, "zh_CN")
    (tmp_path / "settings.json").write_text("{not json")
    assert settings.load_language(data) == "zh_CN"
