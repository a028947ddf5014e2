"""OGC GeoPackage 1.3 with plain ``sqlite3``: the one module everyone imports.

GridOps writes and reads GeoPackage on devices (no SpatiaLite on Android) and on the hub.
The work lives in three modules, which import each other in this order only and never this
one, so nothing imports in a circle:

- `sync.gpkg_geometry`: geometries as GeoJSON-like dicts, WKB and GeoPackageBinary blobs,
  bounding boxes, and the ST_* SQL functions the R-tree triggers call;
- `sync.gpkg_schema`: the core tables, CRS rows, feature and attribute tables, and the
  ``gpkg_rtree_index`` extension with the spec's triggers;
- `sync.gpkg_features`: inserting, upserting, deleting and reading rows, keeping the R-tree
  exact for tables without triggers, and the extent in ``gpkg_contents``.

This module re-exports their public names, so callers keep writing `gpkg.gpkg_blob`,
`gpkg.create_feature_table`, `gpkg.GpkgError`. Each module's docstring gives the invariants
it keeps (blob format, core-table SQL, one R-tree row per non-empty geometry, atomic writes
that join a caller's transaction).
"""

from __future__ import annotations

from .gpkg_features import (
    delete_features,
    insert_features,
    read_features,
    read_layers,
    update_contents_extent,
    upsert_feature,
)
from .gpkg_geometry import (
    BBox,
    Geometry,
    GpkgError,
    blob_envelope,
    geometry_bbox,
    gpkg_blob,
    gpkg_blob_decode,
    register_st_functions,
    wkb_decode,
    wkb_encode,
)
from .gpkg_schema import (
    GEOMETRY_TYPES,
    GPKG_APPLICATION_ID,
    GPKG_USER_VERSION,
    RTREE_EXTENSION_DEFINITION,
    SRS_3857,
    SRS_4490,
    add_srs,
    create_attribute_table,
    create_feature_table,
    create_spatial_index,
    has_rtree,
    init_geopackage,
    require_rtree,
)

__all__ = [
    "GEOMETRY_TYPES",
    "GPKG_APPLICATION_ID",
    "GPKG_USER_VERSION",
    "RTREE_EXTENSION_DEFINITION",
    "SRS_3857",
    "SRS_4490",
    "BBox",
    "Geometry",
    "GpkgError",
    "add_srs",
    "blob_envelope",
    "create_attribute_table",
    "create_feature_table",
    "create_spatial_index",
    "delete_features",
    "geometry_bbox",
    "gpkg_blob",
    "gpkg_blob_decode",
    "has_rtree",
    "init_geopackage",
    "insert_features",
    "read_features",
    "read_layers",
    "register_st_functions",
    "require_rtree",
    "update_contents_extent",
    "upsert_feature",
    "wkb_decode",
    "wkb_encode",
]
