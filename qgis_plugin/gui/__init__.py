"""The plugin's widgets: the connect dialog, the status-bar line and the docks."""
