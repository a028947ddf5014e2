"""The GridOps Processing provider (id `gridops`) and its algorithms, one module each:
grid statistics (a choropleth layer of the grids), export tasks (GeoPackage or CSV) and
import a layer as twin features into the hub.

The plugin registers `provider.GridOpsProvider` in `initGui` and removes it in `unload`.
"""
