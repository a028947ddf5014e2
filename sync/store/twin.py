"""The city's twin layers in the hub: components, pipelines and areas, upserted by id.

Each feature's `grid_code` and `street_code` are derived here from its geometry (the grid
holding its representative point), never taken from the sender. Geometry is kept as a
GeoPackage blob, so that an extract copies it as it is. Every upsert and delete is logged in
the feed under the grid's and the street's twin keys (`sync.model.twin_audience`), before
and after, so a feature that moves out of a grid reaches its old grid as a `remove`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

from .. import geo, gpkg, model
from .base import utc_now
from .feed import FeedMixin

LAYER_GEOMETRIES = {
    "components": ("Point",),
    "pipelines": ("LineString", "MultiLineString"),
    "areas": ("Polygon", "MultiPolygon"),
}
_RESERVED = {"layer", "kind", "name", "grid_code", "street_code", "status", "id"}


class TwinError(ValueError):
    """A feature that cannot be stored; the message says which and why."""


def check_feature(layer: str, feature: Any, index: int) -> dict[str, Any]:
    """Validates one GeoJSON Feature for `layer`; returns it normalised. Raises TwinError."""
    where = f"feature {index}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise TwinError(f"{where}: not a GeoJSON Feature")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise TwinError(f"{where}: properties must be an object")
    fid = feature.get("id", props.get("id"))
    if isinstance(fid, int) and not isinstance(fid, bool):
        fid = str(fid)
    if not isinstance(fid, str) or not fid.strip() or len(fid) > 128:
        raise TwinError(f"{where}: needs a text id (at most 128 characters)")
    where = f"feature {fid!r}"
    try:
        geometry = geo.check_geometry(feature.get("geometry"))
    except ValueError as err:
        raise TwinError(f"{where}: {err}") from None
    if geometry["type"] not in LAYER_GEOMETRIES[layer]:
        raise TwinError(
            f"{where}: a {layer} feature must be a "
            f"{' or '.join(LAYER_GEOMETRIES[layer])}, not {geometry['type']}"
        )
    if geometry["type"] in ("LineString", "Polygon"):
        # One geometry type per GeoPackage table: lines and polygons are kept as Multi*.
        geometry = {"type": "Multi" + geometry["type"], "coordinates": [geometry["coordinates"]]}
    kind = props.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        raise TwinError(f"{where}: properties.kind is required")
    name = props.get("name")
    status = props.get("status")
    extra = {k: v for k, v in props.items() if k not in _RESERVED}
    try:
        json.dumps(extra, allow_nan=False)
    except ValueError:
        raise TwinError(f"{where}: properties must be plain JSON (no NaN)") from None
    return {
        "id": fid,
        "layer": layer,
        "kind": kind,
        "geometry": geometry,
        "name": None if name is None else str(name),
        "status": None if status is None else str(status),
        "props": extra,
    }


class TwinMixin(FeedMixin):
    """Upserting, deleting and reading twin features."""

    def on_twin_change(self, listener: Callable[[], None]) -> None:
        """Calls `listener()` after each committed twin upsert or delete, on the writing
        thread (the hub's extract prebuilder: it only sets an event)."""
        self.__dict__.setdefault("_twin_listeners", []).append(listener)

    def _twin_changed(self) -> None:
        for listener in self.__dict__.get("_twin_listeners", ()):
            listener()

    def upsert_twin(self, layer: str, features: list[Any]) -> dict[str, int]:
        """Validates every feature first, then upserts them all in one transaction.

        Returns counts `{"inserted", "updated", "outside_grids"}`. Raises TwinError and
        writes nothing when any feature is bad.
        """
        if layer not in LAYER_GEOMETRIES:
            raise TwinError(f"layer must be one of {', '.join(LAYER_GEOMETRIES)}")
        checked = [check_feature(layer, f, i) for i, f in enumerate(features)]
        ids = [f["id"] for f in checked]
        if len(set(ids)) != len(ids):
            raise TwinError("the same feature id appears twice in one request")
        counts = {"inserted": 0, "updated": 0, "outside_grids": 0}
        now = utc_now()
        located = []
        for feature in checked:
            lon, lat = geo.representative_point(feature["geometry"])
            located.append(self.locate(lon, lat))
        with self.write() as conn:
            for feature, where in zip(checked, located):
                grid_code, street_code = where if where else (None, None)
                if where is None:
                    counts["outside_grids"] += 1
                old = conn.execute(
                    "SELECT rid, layer, grid_code, street_code FROM twin WHERE id = ?",
                    (feature["id"],),
                ).fetchone()
                if old is not None and old["layer"] != layer:
                    raise TwinError(
                        f"feature {feature['id']!r} already exists in layer {old['layer']}"
                    )
                blob = gpkg.gpkg_blob(feature["geometry"])
                values = (
                    layer,
                    feature["kind"],
                    feature["name"],
                    grid_code,
                    street_code,
                    feature["status"],
                    json.dumps(feature["props"], ensure_ascii=False),
                    blob,
                    now,
                )
                if old is None:
                    rid = conn.execute(
                        "INSERT INTO twin(layer, kind, name, grid_code, street_code, status, "
                        "props, geom, updated_at, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (*values, feature["id"]),
                    ).lastrowid
                    counts["inserted"] += 1
                    keys = model.twin_audience(grid_code, street_code)
                else:
                    rid = old["rid"]
                    conn.execute(
                        "UPDATE twin SET layer = ?, kind = ?, name = ?, grid_code = ?, "
                        "street_code = ?, status = ?, props = ?, geom = ?, updated_at = ? "
                        "WHERE rid = ?",
                        (*values, rid),
                    )
                    conn.execute("DELETE FROM twin_rtree WHERE id = ?", (rid,))
                    counts["updated"] += 1
                    keys = model.twin_audience(grid_code, street_code) | model.twin_audience(
                        old["grid_code"], old["street_code"]
                    )
                minx, miny, maxx, maxy = geo.bbox(feature["geometry"])
                conn.execute(
                    "INSERT INTO twin_rtree(id, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
                    (rid, minx, maxx, miny, maxy),
                )
                self.log_change(conn, "twin_feature", feature["id"], keys, now)
        self._twin_changed()
        return counts

    def twin_ids_in_other_layers(self, layer: str, ids: list[str]) -> list[str]:
        """Those of these ids that exist in a layer other than `layer` (read-only)."""
        clash: list[str] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            clash += [
                r[0]
                for r in self.reader.execute(
                    f"SELECT id FROM twin WHERE id IN ({marks}) AND layer != ?", [*chunk, layer]
                )
            ]
        return clash

    def delete_twin(self, layer: str, ids: list[Any]) -> int:
        """Deletes features of `layer` by id; returns how many existed. One transaction."""
        if layer not in LAYER_GEOMETRIES:
            raise TwinError(f"layer must be one of {', '.join(LAYER_GEOMETRIES)}")
        if not all(isinstance(i, str) and i for i in ids):
            raise TwinError("ids must be non-empty strings")
        now = utc_now()
        removed = 0
        with self.write() as conn:
            for fid in ids:
                row = conn.execute(
                    "SELECT rid, grid_code, street_code FROM twin WHERE id = ? AND layer = ?",
                    (fid, layer),
                ).fetchone()
                if row is None:
                    continue
                conn.execute("DELETE FROM twin WHERE rid = ?", (row["rid"],))
                conn.execute("DELETE FROM twin_rtree WHERE id = ?", (row["rid"],))
                self.log_change(
                    conn,
                    "twin_feature",
                    fid,
                    model.twin_audience(row["grid_code"], row["street_code"]),
                    now,
                )
                removed += 1
        if removed:
            self._twin_changed()
        return removed

    def _twin_scope_sql(self, actor: model.Actor) -> tuple[str, list[Any]]:
        if actor.role == "admin":
            return "1 = 1", []
        if actor.role in model.OFFICE_ROLES:
            return "street_code = ?", [actor.street_code]
        grids = sorted(actor.grid_codes)
        return f"grid_code IN ({','.join('?' * len(grids)) or 'NULL'})", grids

    def iter_twin(
        self, conn: sqlite3.Connection, actor: model.Actor, layer: str, boxes: bool = False
    ) -> Iterator[sqlite3.Row]:
        """The twin rows of one layer in the actor's scope (inside the caller's snapshot),
        by id. With `boxes`, each row also has `minx, maxx, miny, maxy`: its bounding box as
        `twin_rtree` holds it (float32, rounded outwards; NULL for a row it lacks)."""
        where, args = self._twin_scope_sql(actor)
        if boxes:
            yield from conn.execute(
                f"SELECT t.id, t.kind, t.name, t.grid_code, t.street_code, t.status, t.props, "
                f"t.geom, r.minx, r.maxx, r.miny, r.maxy FROM twin t "
                f"LEFT JOIN twin_rtree r ON r.id = t.rid WHERE t.layer = ? AND {where} "
                f"ORDER BY t.id",
                [layer, *args],
            )
            return
        yield from conn.execute(
            f"SELECT id, kind, name, grid_code, street_code, status, props, geom FROM twin "
            f"WHERE layer = ? AND {where} ORDER BY id",
            [layer, *args],
        )

    def twin_etag(self, conn: sqlite3.Connection, actor: model.Actor) -> str:
        """Changes whenever the actor's extract would: its twin changes and its grids."""
        keys = model.actor_feed_keys(actor)
        if keys is None:
            twin_seq = conn.execute(
                "SELECT MAX(seq) FROM changes WHERE entity IN ('twin_feature', 'grid')"
            ).fetchone()[0]
        else:
            twin_keys = sorted(k for k in keys if k.startswith(("t:", "ts:")))
            twin_seq = conn.execute(
                f"SELECT MAX(seq) FROM change_keys WHERE key IN "
                f"({','.join('?' * len(twin_keys)) or 'NULL'})",
                twin_keys,
            ).fetchone()[0]
        grids = conn.execute(
            "SELECT MAX(updated_at), COUNT(*) FROM grids WHERE street_code = ? OR ? IS NULL",
            (actor.street_code, actor.street_code),
        ).fetchone()
        scope = f"{actor.role}|{actor.street_code}|{','.join(sorted(actor.grid_codes))}"
        text = (
            f"{scope}|{twin_seq}|{grids[0]}|{grids[1]}|{self.get_meta('instance_id')}|"
            f"{self.get_meta('feed_epoch', '0')}"
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def twin_counts(self) -> dict[str, int]:
        return {
            r[0]: r[1]
            for r in self.reader.execute("SELECT layer, COUNT(*) FROM twin GROUP BY layer")
        }
