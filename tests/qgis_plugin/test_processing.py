"""The GridOps Processing provider against a real hub on a loopback port, in headless QGIS,
run through QGIS's own `processing.run` (the Processing plugin that QGIS ships):

- the provider registered by the plugin's `initGui` and removed by `unload`, its algorithms
  using the connected session's replica;
- Grid statistics to a GeoPackage, read back with GDAL and checked against `core.stats`,
  and styled as the choropleth when Processing loads it;
- Export tasks to a GeoPackage and a CSV (BOM, Chinese, lon/lat), checked against our own
  selection of the hub's tasks; bad filters refused;
- Import layer as twin features: a GeoPackage of points in EPSG:3857 and lines in CGCS2000
  sent with the connected admin session or an authentication configuration, read back from
  the hub's store and through a dispatcher's sync; bad features listed with nothing sent; a
  hub refusal stopping with the hub's message; cancel between batches; progress; accounts
  that may not import.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")
pytest.importorskip("mock", reason="qgis.testing.mocked needs the mock package")

from osgeo import ogr, osr
from qgis.core import (
    QgsApplication,
    QgsAuthMethodConfig,
    QgsGraduatedSymbolRenderer,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsSettings,
)
from qgis.PyQt.QtCore import QDateTime, Qt
from qgis.testing.mocked import get_iface

import qgis_plugin
from qgis_plugin.core import stats, twin_upload
from qgis_plugin.core.session import Session
from qgis_plugin.core.settings import ConnectionSettings
from qgis_plugin.processing.export_tasks import EXPORT_FIELDS
from qgis_plugin.processing.grid_statistics import TOTALS
from qgis_plugin.processing.provider import ALGORITHMS, PROVIDER_ID, GridOpsProvider
from sync import geo, gpkg, model
from sync.client import HubClient
from sync.replica import Replica
from sync.syncjob import login, sync_once

R = 6378137.0
# GDAL 3.7+ warns (FutureWarning) when a script relies on its old error style: choose.
ogr.UseExceptions()
osr.UseExceptions()


def _processing() -> Any:
    """QGIS's Processing plugin (shipped in python3-qgis-common), initialised once."""
    plugins = os.path.join(QgsApplication.pkgDataPath(), "python", "plugins")
    if plugins not in sys.path:
        sys.path.append(plugins)
    import processing
    from processing.core.Processing import Processing

    Processing.initialize()
    return processing


@pytest.fixture(scope="module")
def processing(qgis_app: Any) -> Any:
    return _processing()


class Holder:
    """What the provider's session provider returns; tests set `session`."""

    def __init__(self) -> None:
        self.session: Any = None


@pytest.fixture
def holder(processing: Any) -> Iterator[Holder]:
    """The GridOps provider registered for this test, its session taken from the holder."""
    held = Holder()
    registry = QgsApplication.processingRegistry()
    assert registry.providerById(PROVIDER_ID) is None
    assert registry.addProvider(GridOpsProvider(lambda: held.session))
    yield held
    registry.removeProvider(registry.providerById(PROVIDER_ID))
    if held.session is not None:
        held.session.disconnect()


@pytest.fixture
def settings(qgis_app: Any, tmp_path: Path) -> Iterator[ConnectionSettings]:
    qs = QgsSettings()
    ConnectionSettings(qs).clear_password()
    qs.remove("gridops")
    conn = ConnectionSettings(qs)
    conn.replica_folder = str(tmp_path / "replicas")
    yield conn
    ConnectionSettings(qs).clear_password()
    qs.remove("gridops")


def connect(settings: ConnectionSettings, live_hub: Any, username: str) -> Session:
    """A real plugin Session logged in as `username` and synced once."""
    session = Session(settings)
    session.connect(live_hub.url, username, "demo", remember=False)
    sync_once(session.replica(), session.client())
    return session


@pytest.fixture
def replica(qgis_app: Any, live_hub: Any, tmp_path: Path) -> Iterator[Replica]:
    """A JSL dispatcher's replica, logged in and synced once."""
    rep = Replica(str(tmp_path / "jsl-dispatcher.gpkg"))
    login(rep, HubClient(live_hub.url), "jsl-dispatcher", "demo")
    sync_once(rep, HubClient(live_hub.url, rep.state("token")))
    yield rep
    rep.close()


def open_ogr(path: Path) -> Any:
    source = ogr.Open(str(path))
    assert source is not None, path
    return source


def ogr_rows(path: Path) -> tuple[list[str], list[dict[str, Any]], list[Any]]:
    """Field names, attribute rows and geometries (as GeoJSON dicts) of a file's first layer."""
    import json

    source = open_ogr(path)
    layer = source.GetLayer(0)
    definition = layer.GetLayerDefn()
    names = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
    rows, shapes = [], []
    for feature in layer:
        rows.append({name: feature.GetField(name) for name in names})
        geometry = feature.GetGeometryRef()
        shapes.append(json.loads(geometry.ExportToJson()) if geometry is not None else None)
    return names, rows, shapes


# ----------------------------------------------------------------------------- the provider


def test_plugin_registers_the_provider_and_unload_removes_it(
    processing: Any, settings: ConnectionSettings, live_hub: Any, tmp_path: Path
) -> None:
    registry = QgsApplication.processingRegistry()
    plugin = qgis_plugin.classFactory(get_iface())
    plugin.initGui()
    try:
        provider = registry.providerById(PROVIDER_ID)
        assert provider is not None
        ids = sorted(a.id() for a in provider.algorithms())
        assert ids == sorted(f"{PROVIDER_ID}:{cls().name()}" for cls in ALGORITHMS)
        assert ids == ["gridops:exporttasks", "gridops:gridstatistics", "gridops:importtwin"]

        # Not connected: an algorithm that needs the replica says so.
        with pytest.raises(QgsProcessingException, match="No GridOps replica"):
            processing.run("gridops:gridstatistics", {"OUTPUT": "TEMPORARY_OUTPUT"})

        # Connected: the algorithms read the session's replica without being told.
        plugin.session.connect(live_hub.url, "jsl-dispatcher", "demo", remember=False)
        sync_once(plugin.session.replica(), plugin.session.client())
        result = processing.run("gridops:gridstatistics", {"OUTPUT": "TEMPORARY_OUTPUT"})
        table = stats.stats_of_file(plugin.session.replica_path())
        assert result["OUTPUT"].featureCount() == len(table.rows) == 12
        assert result["TOTAL_OPEN"] == table.total.open > 0
    finally:
        plugin.unload()
    assert registry.providerById(PROVIDER_ID) is None


# ----------------------------------------------------------------------------- grid statistics


def test_grid_statistics_to_a_geopackage(
    processing: Any, holder: Holder, replica: Replica, tmp_path: Path
) -> None:
    out = tmp_path / "stats.gpkg"
    result = processing.run("gridops:gridstatistics", {"REPLICA": replica.path, "OUTPUT": str(out)})
    table = stats.stats_of_file(replica.path)
    names, rows, shapes = ogr_rows(out)
    assert names == list(stats.FIELDS)
    assert len(rows) == len(table.rows) == 12
    by_code = {row["code"]: row for row in rows}
    for expected in table.rows:
        got = by_code[expected.code]
        assert got["name"] == expected.name and got["worker"] == expected.worker
        assert (got["open"], got["overdue"], got["closed_week"]) == (
            expected.open,
            expected.overdue,
            expected.closed_week,
        )
        if expected.median_close_h is None:
            assert got["median_close_h"] is None
        else:
            assert abs(got["median_close_h"] - expected.median_close_h) < 1e-9
    assert all(s is not None and s["type"] == "MultiPolygon" for s in shapes)
    # The polygons are the replica's grids.
    grid_rows = replica.conn.execute("SELECT code, geom FROM grids").fetchall()
    for code, blob in grid_rows:
        index = [r["code"] for r in rows].index(code)
        assert geo.bbox(shapes[index]) == pytest.approx(geo.bbox(gpkg.gpkg_blob_decode(blob)))
    for name, attribute in TOTALS.items():
        assert result[name] == getattr(table.total, attribute)


def test_grid_statistics_loaded_into_the_project_is_a_choropleth(
    processing: Any, holder: Holder, replica: Replica
) -> None:
    project = QgsProject.instance()
    before = set(project.mapLayers())
    result = processing.runAndLoadResults(
        "gridops:gridstatistics", {"REPLICA": replica.path, "OUTPUT": "TEMPORARY_OUTPUT"}
    )
    added = [project.mapLayer(i) for i in set(project.mapLayers()) - before]
    try:
        assert len(added) == 1 and added[0].id() == result["OUTPUT"]
        renderer = added[0].renderer()
        assert isinstance(renderer, QgsGraduatedSymbolRenderer)
        assert renderer.classAttribute() == "open" and len(renderer.ranges()) == 5
        assert added[0].labelsEnabled()
    finally:
        for layer in added:
            project.removeMapLayer(layer.id())


# ----------------------------------------------------------------------------- export tasks


def test_export_tasks_to_geopackage_and_csv(
    processing: Any, holder: Holder, replica: Replica, live_hub: Any, tmp_path: Path
) -> None:
    store = live_hub.hub.store
    hub_tasks = [
        t
        for t in store.list_tasks(store.user_by_username("admin"), limit=100_000)
        if t["street_code"] == "JSL"
    ]
    created = sorted(model.parse_time(t["created_at"]) for t in hub_tasks)
    since = created[len(created) // 3]
    wanted_statuses = ["open", "assigned", "in_progress", "closed", "submitted"]
    wanted_grids = {"JSL-01", "JSL-02", "JSL-05", "JSL-06", "JSL-07", "JSL-08"}
    expected = {
        t["id"]: t
        for t in hub_tasks
        if t["status"] in wanted_statuses
        and t["grid_code"] in wanted_grids
        and model.parse_time(t["created_at"]) >= since
    }
    assert len(expected) >= 2, "the filter must leave something to export"

    gpkg_out, csv_out = tmp_path / "tasks.gpkg", tmp_path / "任务.csv"
    result = processing.run(
        "gridops:exporttasks",
        {
            "REPLICA": replica.path,
            "STATUSES": [model.STATUSES.index(s) for s in wanted_statuses],
            "GRIDS": "JSL-01, JSL-02；JSL-05 JSL-06,JSL-07;JSL-08",
            "CREATED_FROM": QDateTime.fromMSecsSinceEpoch(int(since.timestamp() * 1000), Qt.UTC),
            "OUTPUT": str(gpkg_out),
            "CSV": str(csv_out),
        },
    )
    assert result["COUNT"] == len(expected)

    names, rows, shapes = ogr_rows(gpkg_out)
    assert names == [name for name, _kind in EXPORT_FIELDS]
    assert {r["id"] for r in rows} == set(expected)
    for row, shape in zip(rows, shapes):
        task = expected[row["id"]]
        assert row["title"] == task["title"] and row["status"] == task["status"]
        assert row["grid_code"] == task["grid_code"] and row["created_at"] == task["created_at"]
        assert shape["coordinates"] == pytest.approx([task["lon"], task["lat"]])
        assert row["photos"] == len(task["photos"])
        assert (row["closed_at"] is not None) == (task["status"] == "closed")

    raw = csv_out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    with open(csv_out, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == [name for name, _kind in EXPORT_FIELDS]
    assert {r["id"] for r in table} == set(expected)
    for row in table:
        task = expected[row["id"]]
        assert row["title"] == task["title"] and any(
            "\u4e00" <= c <= "\u9fff" for c in row["title"]
        )
        assert float(row["lon"]) == pytest.approx(task["lon"])
        assert float(row["lat"]) == pytest.approx(task["lat"])
        assignee = store.user(task["assignee_id"]) if task["assignee_id"] else None
        assert row["assignee"] == (assignee["display_name"] if assignee else "")


def test_export_refuses_bad_filters_and_writes_nothing(
    processing: Any, holder: Holder, replica: Replica, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    with pytest.raises(QgsProcessingException, match="No such grid in the replica: HM-01"):
        processing.run(
            "gridops:exporttasks",
            {"REPLICA": replica.path, "GRIDS": "JSL-01,HM-01", "CSV": str(out), "OUTPUT": None},
        )
    early = QDateTime.fromString("2026-01-01T00:00:00Z", Qt.ISODate)
    late = QDateTime.fromString("2026-02-01T00:00:00Z", Qt.ISODate)
    with pytest.raises(QgsProcessingException, match="range is empty"):
        processing.run(
            "gridops:exporttasks",
            {
                "REPLICA": replica.path,
                "CREATED_FROM": late,
                "CREATED_TO": early,
                "CSV": str(out),
                "OUTPUT": None,
            },
        )
    with pytest.raises(QgsProcessingException, match="Choose where to export"):
        processing.run("gridops:exporttasks", {"REPLICA": replica.path, "OUTPUT": None})
    with pytest.raises(QgsProcessingException, match="not a GridOps replica"):
        junk = tmp_path / "junk.gpkg"
        junk.write_bytes(b"\0" * 2048)
        processing.run("gridops:exporttasks", {"REPLICA": str(junk), "CSV": str(out)})
    assert not out.exists() and not Path(str(out) + ".part").exists()


# ----------------------------------------------------------------------------- import twin


def mercator(lon: float, lat: float) -> tuple[float, float]:
    x = math.radians(lon) * R
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * R
    return x, y


def write_layer(
    path: Path,
    geometry_type: int,
    epsg: int,
    fields: list[tuple[str, int]],
    rows: list[tuple[dict[str, Any], str | None]],
) -> Path:
    """A GeoPackage layer with these fields and (attributes, WKT or None) rows, written with
    GDAL as an office's GIS would."""
    driver = ogr.GetDriverByName("GPKG")
    source = driver.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    layer = source.CreateLayer("assets", srs, geometry_type)
    for name, kind in fields:
        layer.CreateField(ogr.FieldDefn(name, kind))
    for attributes, wkt in rows:
        feature = ogr.Feature(layer.GetLayerDefn())
        for name, value in attributes.items():
            if value is not None:
                feature.SetField(name, value)
        if wkt is not None:
            feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    source = None  # closes and flushes
    return path


def points_in(live_hub: Any, code: str, count: int) -> list[tuple[float, float]]:
    lon, lat = geo.representative_point(live_hub.hub.store.get_grid(code)["geometry"])
    return [(round(lon + 0.00004 * n, 7), round(lat + 0.00003 * n, 7)) for n in range(count)]


POINT_FIELDS = [
    ("asset_no", ogr.OFTString),
    ("type", ogr.OFTString),
    ("label", ogr.OFTString),
    ("height_m", ogr.OFTReal),
    ("installed", ogr.OFTDate),
]


def point_layer(live_hub: Any, tmp_path: Path, prefix: str, count: int) -> tuple[Path, list]:
    """`count` streetlights in JSL-04, in Web Mercator, with ids `<prefix>-<n>`."""
    spots = points_in(live_hub, "JSL-04", count)
    rows = []
    for n, (lon, lat) in enumerate(spots):
        x, y = mercator(lon, lat)
        attributes = {
            "asset_no": f"{prefix}-{n}",
            "type": "streetlight",
            "label": f"武夷路{n + 1}号灯杆",
            "height_m": 8.5,
            "installed": "2024-05-01",
        }
        rows.append((attributes, f"POINT ({x!r} {y!r})"))
    path = write_layer(tmp_path / f"{prefix}.gpkg", ogr.wkbPoint, 3857, POINT_FIELDS, rows)
    return path, spots


def twin_row(store: Any, fid: str) -> Any:
    return store.reader.execute("SELECT * FROM twin WHERE id = ?", (fid,)).fetchone()


def import_params(path: Path, **extra: Any) -> dict[str, Any]:
    params = {
        "INPUT": str(path),
        "ID_FIELD": "asset_no",
        "KIND_FIELD": "type",
        "NAME_FIELD": "label",
        "BATCH_SIZE": 2,
    }
    params.update(extra)
    return params


class RecordingFeedback(QgsProcessingFeedback):
    """Keeps the progress and the errors; cancels once `cancel_above` % is passed."""

    def __init__(self, cancel_above: float | None = None) -> None:
        super().__init__()
        self.progress: list[float] = []
        self.errors: list[str] = []
        self.cancel_above = cancel_above
        self.progressChanged.connect(self._progress)

    def _progress(self, value: float) -> None:
        self.progress.append(value)
        if self.cancel_above is not None and value > self.cancel_above:
            self.cancel()

    def reportError(self, error: str, fatalError: bool = False) -> None:
        self.errors.append(error)
        super().reportError(error, fatalError)


def run_import(processing: Any, params: dict[str, Any], feedback: Any = None) -> Any:
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    return processing.run("gridops:importtwin", params, context=context, feedback=feedback)


def test_import_points_with_the_connected_admin(
    processing: Any,
    holder: Holder,
    settings: ConnectionSettings,
    live_hub: Any,
    replica: Replica,
    tmp_path: Path,
) -> None:
    holder.session = connect(settings, live_hub, "admin")
    path, spots = point_layer(live_hub, tmp_path, "LAMP", 5)
    feedback = RecordingFeedback()
    result = run_import(processing, import_params(path), feedback)
    assert (result["SENT"], result["INSERTED"], result["UPDATED"]) == (5, 5, 0)
    assert result["OUTSIDE_GRIDS"] == 0
    assert feedback.progress == sorted(feedback.progress) and feedback.progress[-1] == 100
    assert len([p for p in feedback.progress if 30 < p < 100]) == 2  # batches of 2, 2, 1

    store = live_hub.hub.store
    for n, (lon, lat) in enumerate(spots):
        row = twin_row(store, f"LAMP-{n}")
        assert row["layer"] == "components" and row["kind"] == "streetlight"
        assert row["name"] == f"武夷路{n + 1}号灯杆" and row["grid_code"] == "JSL-04"
        shape = gpkg.gpkg_blob_decode(row["geom"])
        assert shape["type"] == "Point"
        assert shape["coordinates"][0] == pytest.approx(lon, abs=1e-7)
        assert shape["coordinates"][1] == pytest.approx(lat, abs=1e-7)
        import json

        assert json.loads(row["props"]) == {"height_m": 8.5, "installed": "2024-05-01"}

    # The street's dispatcher gets them in the next sync, through the feed.
    sync_once(replica, HubClient(live_hub.url, replica.state("token")))
    got = replica.conn.execute(
        "SELECT id, kind, grid_code FROM components WHERE id LIKE 'LAMP-%' ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in got] == [(f"LAMP-{n}", "streetlight", "JSL-04") for n in range(5)]

    # Run again with another kind for all and no other fields: updated, not doubled.
    again = run_import(
        processing,
        import_params(path, KIND_FIELD=None, KIND="lamp_post", OTHER_FIELDS=False, BATCH_SIZE=500),
    )
    assert (again["INSERTED"], again["UPDATED"]) == (0, 5)
    assert twin_row(store, "LAMP-0")["kind"] == "lamp_post"
    assert twin_row(store, "LAMP-0")["props"] == "{}"


def auth_config(username: str, password: str) -> str:
    """A Basic configuration in QGIS's authentication database; its id."""
    config = QgsAuthMethodConfig("Basic")
    config.setName(f"GridOps {username} {uuid.uuid4().hex[:6]}")
    config.setConfig("username", username)
    config.setConfig("password", password)
    assert QgsApplication.authManager().storeAuthenticationConfig(config)
    return config.id()


def test_import_lines_with_an_auth_configuration(
    processing: Any, holder: Holder, live_hub: Any, tmp_path: Path
) -> None:
    lon, lat = geo.representative_point(live_hub.hub.store.get_grid("JSL-05")["geometry"])
    rows = [
        ({"pid": 9001, "kind": "water_main"}, f"LINESTRING ({lon} {lat}, {lon + 0.0005} {lat})"),
        (
            {"pid": 9002, "kind": "sewer"},
            f"MULTILINESTRING (({lon} {lat + 0.0002}, {lon + 0.0004} {lat + 0.0003}))",
        ),
    ]
    fields = [("pid", ogr.OFTInteger), ("kind", ogr.OFTString)]
    # CGCS2000 (EPSG:4490), the CRS of Chinese survey data; lon/lat axis order as OGR writes.
    path = write_layer(tmp_path / "pipes.gpkg", ogr.wkbMultiLineString, 4490, fields, rows)
    params = {
        "INPUT": str(path),
        "ID_FIELD": "pid",
        "KIND_FIELD": "kind",
        "HUB_URL": live_hub.url,
        "AUTH": auth_config("admin", "demo"),
    }
    result = run_import(processing, params)  # no session at all: the configuration's account
    assert (result["SENT"], result["INSERTED"]) == (2, 2)
    row = twin_row(live_hub.hub.store, "9001")  # integer ids become text
    assert row["layer"] == "pipelines" and row["kind"] == "water_main"
    assert row["grid_code"] == "JSL-05"
    shape = gpkg.gpkg_blob_decode(row["geom"])
    assert shape["type"] == "MultiLineString"
    assert shape["coordinates"][0][0] == pytest.approx([lon, lat], abs=1e-6)


def test_bad_features_are_listed_and_nothing_is_sent(
    processing: Any,
    holder: Holder,
    settings: ConnectionSettings,
    live_hub: Any,
    tmp_path: Path,
) -> None:
    holder.session = connect(settings, live_hub, "admin")
    (lon, lat), (lon2, lat2) = points_in(live_hub, "JSL-06", 2)
    good = f"POINT ({lon} {lat})"
    rows = [
        ({"asset_no": "OK-1", "type": "hydrant", "label": "好的"}, good),
        ({"asset_no": "NOGEOM", "type": "hydrant"}, None),
        ({"asset_no": None, "type": "hydrant"}, f"POINT ({lon2} {lat2})"),
        ({"asset_no": "NOKIND", "type": "  "}, good),
        ({"asset_no": "OK-1", "type": "hydrant"}, good),
        ({"asset_no": "MULTI", "type": "hydrant"}, f"MULTIPOINT (({lon} {lat}), ({lon2} {lat2}))"),
    ]
    fields = [("asset_no", ogr.OFTString), ("type", ogr.OFTString), ("label", ogr.OFTString)]
    path = write_layer(tmp_path / "bad.gpkg", ogr.wkbMultiPoint, 4326, fields, rows)
    store = live_hub.hub.store
    before = store.twin_counts()
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException, match=r"5 of 6 feature\(s\) cannot be imported"):
        run_import(processing, import_params(path), feedback)
    errors = "\n".join(feedback.errors)
    assert "'NOGEOM'): no geometry" in errors
    assert "no id" in errors
    assert "'NOKIND'): no kind" in errors
    assert "'OK-1'): the same id as feature" in errors
    assert "'MULTI'): a MultiPoint, but components takes Point" in errors
    assert store.twin_counts() == before
    assert twin_row(store, "OK-1") is None


def test_a_hub_refusal_stops_with_its_message(
    processing: Any,
    holder: Holder,
    settings: ConnectionSettings,
    live_hub: Any,
    tmp_path: Path,
) -> None:
    holder.session = connect(settings, live_hub, "admin")
    store = live_hub.hub.store
    pipe_id = store.reader.execute("SELECT id FROM twin WHERE layer = 'pipelines'").fetchone()[0]
    path, _spots = point_layer(live_hub, tmp_path, "CLASH", 3)
    # The second point takes an id the hub holds as a pipeline: only the hub knows that.
    layer = ogr.Open(str(path), 1)
    feature = layer.GetLayer(0).GetFeature(2)
    feature.SetField("asset_no", pipe_id)
    layer.GetLayer(0).SetFeature(feature)
    layer = None
    with pytest.raises(QgsProcessingException) as refused:
        run_import(processing, import_params(path, BATCH_SIZE=1))
    message = str(refused.value)
    assert "batch 2 of 3" in message
    assert f"{pipe_id!r} already exists in layer pipelines" in message
    assert "the 1 feature(s) of the batches before were imported" in message
    assert twin_row(store, "CLASH-0") is not None  # batch 1
    assert twin_row(store, "CLASH-2") is None  # never sent
    assert twin_row(store, pipe_id)["layer"] == "pipelines"  # untouched


def test_cancel_stops_between_batches(
    processing: Any,
    holder: Holder,
    settings: ConnectionSettings,
    live_hub: Any,
    tmp_path: Path,
) -> None:
    holder.session = connect(settings, live_hub, "admin")
    path, _spots = point_layer(live_hub, tmp_path, "STOP", 6)
    feedback = RecordingFeedback(cancel_above=31.0)  # after the first batch
    result = run_import(processing, import_params(path, BATCH_SIZE=2), feedback)
    assert result["SENT"] == 2
    store = live_hub.hub.store
    assert [twin_row(store, f"STOP-{n}") is not None for n in range(6)] == [True, True] + [
        False
    ] * 4


def test_accounts_that_may_not_import(
    processing: Any,
    holder: Holder,
    settings: ConnectionSettings,
    live_hub: Any,
    tmp_path: Path,
) -> None:
    path, _spots = point_layer(live_hub, tmp_path, "NOPE", 1)
    store = live_hub.hub.store
    with pytest.raises(QgsProcessingException, match="No hub"):
        run_import(processing, import_params(path))
    holder.session = connect(settings, live_hub, "jsl-dispatcher")
    with pytest.raises(QgsProcessingException, match="needs an admin account"):
        run_import(processing, import_params(path))
    dispatcher = auth_config("jsl-dispatcher", "demo")
    with pytest.raises(QgsProcessingException, match="jsl-dispatcher is a dispatcher"):
        run_import(processing, import_params(path, AUTH=dispatcher))
    wrong = auth_config("admin", "not-the-password")
    with pytest.raises(QgsProcessingException, match="refused the login"):
        run_import(processing, import_params(path, AUTH=wrong))
    assert twin_row(store, "NOPE-0") is None


def test_check_feature_mirrors_the_hub() -> None:
    """What `twin_upload.check_feature` lets through, the hub's own check takes, and what
    it refuses, the hub refuses too."""
    from sync.store.twin import TwinError
    from sync.store.twin import check_feature as hub_check

    point = {"type": "Point", "coordinates": [121.43, 31.22]}
    cases = [
        {"type": "Feature", "id": "a", "geometry": point, "properties": {"kind": "k"}},
        {"type": "Feature", "id": "", "geometry": point, "properties": {"kind": "k"}},
        {"type": "Feature", "id": "x" * 129, "geometry": point, "properties": {"kind": "k"}},
        {"type": "Feature", "id": "b", "geometry": point, "properties": {"kind": ""}},
        {"type": "Feature", "id": "c", "geometry": None, "properties": {"kind": "k"}},
        {
            "type": "Feature",
            "id": "d",
            "geometry": {"type": "Point", "coordinates": [200.0, 31.0]},
            "properties": {"kind": "k"},
        },
        {
            "type": "Feature",
            "id": "e",
            "geometry": {"type": "LineString", "coordinates": [[121.4, 31.2], [121.5, 31.2]]},
            "properties": {"kind": "k"},
        },
        {
            "type": "Feature",
            "id": "f",
            "geometry": point,
            "properties": {"kind": "k", "h": float("nan")},
        },
    ]
    for case in cases:
        mine = twin_upload.check_feature("components", case)
        try:
            hub_check("components", case, 0)
            hub_ok = True
        except TwinError:
            hub_ok = False
        assert (mine is None) == hub_ok, (case["id"], mine)
    assert twin_upload.check_feature("components", cases[0]) is None
    with pytest.raises(ValueError, match="batch size"):
        twin_upload.upload(twin_upload.TwinClient("http://127.0.0.1:9"), "components", [], 0)
