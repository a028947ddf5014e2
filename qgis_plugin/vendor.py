"""Makes the GridOps `sync` client importable as the top-level package `sync`.

Two layouts:

- Installed from the zip: the build copied the client modules into `<plugin>/sync/`. That
  copy is the one this plugin was built and tested with, so it is the one that runs.
- A checkout (the plugin imported as `qgis_plugin` next to the repository's `sync`): there is
  no vendored copy and `sync` is imported normally.

Why not put the plugin folder on `sys.path`: that would also expose the plugin's own modules
(`core`, `plugin`, `vendor`) as top-level names to every other plugin in the same QGIS. The
vendored package is instead loaded from its own folder under the name `sync` and registered in
`sys.modules`; its modules import each other relatively, so `sync.client`, `sync.replica`...
resolve inside that folder.

Conflicts: `sync` is a generic name, and another plugin may have imported a different `sync`
first. Replacing a module another plugin is using would break that plugin, so this module
never does; it reuses an already imported `sync` only when it is the same GridOps client
release (same `__version__`), and otherwise raises `SyncConflict` with both locations, which
the plugin shows to the user.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Optional

VENDORED_DIR = Path(__file__).resolve().parent / "sync"


class SyncConflict(ImportError):
    """Another, different package is already imported under the name `sync`."""


def vendored_version(folder: Path = VENDORED_DIR) -> Optional[str]:
    """The `__version__` written in the vendored copy, read from its text; None if absent."""
    init = folder / "__init__.py"
    if not init.is_file():
        return None
    found = re.search(r"^__version__\s*=\s*[\"']([^\"']+)[\"']", init.read_text("utf-8"), re.M)
    return found.group(1) if found else None


def _is_inside(module: ModuleType, folder: Path) -> bool:
    location = getattr(module, "__file__", None)
    if not location:
        return False
    try:
        Path(location).resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def ensure_sync(folder: Path = VENDORED_DIR) -> ModuleType:
    """Return the `sync` package the plugin uses, importing the vendored copy if needed.

    Side effect: may add `sync` to `sys.modules`. Raises `SyncConflict` when a different
    `sync` is already imported, `ImportError` when no `sync` can be found at all.
    """
    if not (folder / "__init__.py").is_file():
        return importlib.import_module("sync")
    loaded = sys.modules.get("sync")
    if loaded is not None:
        if _is_inside(loaded, folder):
            return loaded
        if getattr(loaded, "__version__", None) == vendored_version(folder):
            return loaded
        raise SyncConflict(
            f"another 'sync' package is already loaded from {getattr(loaded, '__file__', '?')}; "
            f"GridOps needs its own copy in {folder}"
        )
    spec = importlib.util.spec_from_file_location(
        "sync", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the vendored sync client from {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["sync"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["sync"]
        raise
    return module
