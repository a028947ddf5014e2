"""The plugin's UI-free logic: connection settings (the password in QGIS's authentication
database), the sync as a `QgsTask` and its timer, and the GridOps layer group read from the
replica GeoPackage.

Nothing here makes a widget, so the docks and the tests drive the same code; nothing in
`sync` imports this package.
"""
