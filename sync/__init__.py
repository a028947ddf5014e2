"""GridOps sync: the model, the device replica, the client and the hub.

`sync.model`, `sync.geo` and `sync.gpkg` (and later `sync.replica`, `sync.client`) run on
devices and inside QGIS: Python 3.9+, standard library plus `requests`. `sync.store`,
`sync.server` and `sync.cli` are the hub's and need the `hub` extra.
"""

__version__ = "0.1.0"
