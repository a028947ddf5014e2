"""Run by test_package.py in a fresh interpreter: load the installed plugin as QGIS does.

Usage: python load_from_profile.py <profile plugins folder> <locale>

Loads `gridops` from the profile's plugin folder through `qgis.utils` (the functions QGIS
itself calls: updateAvailablePlugins, loadPlugin, startPlugin, unloadPlugin) with a mocked
`iface`, and prints one JSON object describing what happened. A fresh interpreter is used
because the vendored client registers itself as the top-level `sync`, which the test
process has already imported from the checkout.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(plugins_dir: str, locale: str) -> dict[str, Any]:
    from qgis.core import QgsApplication, QgsSettings

    if QgsApplication.instance() is None:
        from qgis.testing import start_app

        start_app()
    import qgis.utils
    from qgis.PyQt.QtCore import QCoreApplication, QEvent
    from qgis.PyQt.QtWidgets import QToolBar
    from qgis.testing.mocked import get_iface

    settings = QgsSettings()
    settings.setValue("locale/overrideFlag", True)
    settings.setValue("locale/userLocale", locale)

    iface = get_iface()
    qgis.utils.iface = iface
    qgis.utils.plugin_paths = [plugins_dir]
    sys.path.insert(0, plugins_dir)  # what QGIS does for each plugin folder
    qgis.utils.updateAvailablePlugins()
    out: dict[str, Any] = {
        "qgis_locale": QgsApplication.locale(),
        "available": list(qgis.utils.available_plugins),
        "metadata_name": qgis.utils.pluginMetadata("gridops", "name"),
        "loaded": qgis.utils.loadPlugin("gridops"),
        "started": qgis.utils.startPlugin("gridops"),
    }
    if not out["started"]:
        return out
    plugin = qgis.utils.plugins["gridops"]
    window = iface.mainWindow()
    toolbars = window.findChildren(QToolBar, "GridOpsToolbar")
    out["plugin_file"] = sys.modules["gridops"].__file__
    out["sync_error"] = plugin.sync_error
    out["plugin_sync_file"] = getattr(plugin.sync, "__file__", None)
    out["toolbar_titles"] = [t.windowTitle() for t in toolbars]
    out["toolbar_actions"] = [a.text() for t in toolbars for a in t.actions()]
    out["menu_added"] = [
        (c.args[0], c.args[1].text()) for c in iface.addPluginToMenu.call_args_list
    ]
    # What the actions use: importing it pulls in sync.client, sync.replica, sync.syncjob.
    out["core_loaded"] = plugin._core() is not None
    out["warnings"] = [str(c.args) for c in iface.messageBar().pushMessage.call_args_list]
    out["sync_modules"] = {
        name: getattr(module, "__file__", None)
        for name, module in sorted(sys.modules.items())
        if name == "sync" or name.startswith("sync.")
    }
    removed: list[tuple[str, str]] = []
    iface.removePluginMenu.side_effect = lambda menu, action: removed.append((menu, action.text()))
    out["unloaded"] = qgis.utils.unloadPlugin("gridops")
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    out["toolbars_after_unload"] = len(window.findChildren(QToolBar, "GridOpsToolbar"))
    out["menu_removed"] = removed
    out["connect_after_unload"] = QCoreApplication.translate("GridOps", "Connect")
    return out


if __name__ == "__main__":
    print("RESULT " + json.dumps(main(sys.argv[1], sys.argv[2]), ensure_ascii=False))
