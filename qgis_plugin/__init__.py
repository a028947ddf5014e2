"""GridOps QGIS plugin: QGIS calls `classFactory(iface)` when it loads the plugin.

Installed from the zip this package is the folder `gridops` in the profile's plugin folder;
in a checkout it is `qgis_plugin`. Everything inside imports its siblings relatively, so the
folder's name does not matter.
"""

from __future__ import annotations

from typing import Any


def classFactory(iface: Any) -> Any:
    """Make the plugin for QGIS's interface `iface` (nothing is added to the GUI yet)."""
    from .plugin import GridOpsPlugin

    return GridOpsPlugin(iface)
