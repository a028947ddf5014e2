"""GridOps field app: the grid worker's phone app (Kivy), offline first, on `sync`.

`core/` holds the presenters and services the screens call (no Kivy), `devices/` the
camera, GPS, navigation and notification facades (desktop stand-ins; Android in
`devices/android.py`), `screens/` one `.kv` and one `.py` per screen, `widgets/` the
offline grid map, `i18n` the message catalogue (zh_CN by default, English switch).

The app's version is the project's one version constant, `sync.__version__` (defined in
`sync/__init__.py`, which setuptools reads too); it is re-exported here. Buildozer reads it
with `version.regex = __version__ = ['"](.*)['"]` and
`version.filename = %(source.dir)s/sync/__init__.py`.
"""

from sync import __version__

__all__ = ["__version__"]
