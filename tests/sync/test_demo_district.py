"""The demo district's generator: determinism, counts, grid tiling, grid codes; its photos."""

from __future__ import annotations

import io
import math
from collections import Counter
from typing import Any, Dict, List, Sequence, Tuple

import pytest

from sync import demo_district

Ring = Sequence[Sequence[float]]
STREET_CODES = ("JSL", "HM")
TASK_KINDS = (  # PROTOCOL.md, "Service codes (task kinds)"
    "litter",
    "bike_parking",
    "illegal_drying",
    "waterlogging",
    "streetlight_out",
    "manhole_damaged",
    "other",
)


def in_ring(x: float, y: float, ring: Ring) -> bool:
    """Ray casting, written here so that the module's own geometry is not what is tested."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        (xi, yi), (xj, yj) = ring[i][:2], ring[j][:2]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def metres(lon: float, lat: float, origin: Tuple[float, float]) -> Tuple[float, float]:
    k = math.cos(math.radians(origin[1]))
    return (lon - origin[0]) * 111_320 * k, (lat - origin[1]) * 110_574


def shoelace(ring: Ring) -> float:
    return (
        sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1))
        / 2
    )


def vertices(geometry: Dict[str, Any]) -> List[Sequence[float]]:
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return [coords]
    if kind == "LineString":
        return list(coords)
    assert kind == "Polygon", kind
    return [p for ring in coords for p in ring]


@pytest.fixture(scope="module")
def grids() -> List[Dict[str, Any]]:
    return demo_district.grids()


@pytest.fixture(scope="module")
def features() -> List[Dict[str, Any]]:
    return list(demo_district.twin_features())


@pytest.fixture(scope="module")
def rings(grids: List[Dict[str, Any]]) -> Dict[str, Ring]:
    return {g["code"]: g["geometry"]["coordinates"][0] for g in grids}


def test_same_seed_same_output_and_another_seed_differs(features: List[Dict[str, Any]]) -> None:
    assert demo_district.grids() == demo_district.grids(demo_district.DEFAULT_SEED)
    assert list(demo_district.twin_features()) == features
    other = list(demo_district.twin_features(seed=7))
    assert other != features
    assert demo_district.grids(seed=7) != demo_district.grids()


def test_grids_are_twelve_per_street_with_the_protocol_codes(grids: List[Dict[str, Any]]) -> None:
    codes = [g["code"] for g in grids]
    expected = [f"{street}-{n:02d}" for street in STREET_CODES for n in range(1, 13)]
    assert sorted(codes) == sorted(expected)
    for g in grids:
        assert g["street_code"] == g["code"].split("-")[0]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in g["name"]), g["name"]
        ring = g["geometry"]["coordinates"][0]
        assert g["geometry"]["type"] == "Polygon" and len(g["geometry"]["coordinates"]) == 1
        assert ring[0] == ring[-1] and len(ring) >= 4
        assert all(len(p) == 2 for p in ring)
        assert shoelace(ring) > 0, f"{g['code']} is not counter-clockwise"
    assert {s["code"] for s in demo_district.STREETS} == set(STREET_CODES)


def test_grid_sizes_fit_the_streets(grids: List[Dict[str, Any]]) -> None:
    limits = {"JSL": (280, 480, 1.2e6, 2.3e6), "HM": (950, 1500, 14e6, 26e6)}
    for street in demo_district.STREETS:
        low, high, total_low, total_high = limits[street["code"]]
        total = 0.0
        for g in grids:
            if g["street_code"] != street["code"]:
                continue
            ring = [
                metres(lon, lat, street["center"]) for lon, lat in g["geometry"]["coordinates"][0]
            ]
            area = shoelace(ring)
            assert low <= math.sqrt(area) <= high, (g["code"], math.sqrt(area))
            total += area
        assert total_low <= total <= total_high, (street["code"], total)


def test_grids_lie_around_the_stated_centres(grids: List[Dict[str, Any]]) -> None:
    for street in demo_district.STREETS:
        pts = [
            metres(lon, lat, street["center"])
            for g in grids
            if g["street_code"] == street["code"]
            for lon, lat in g["geometry"]["coordinates"][0][:-1]
        ]
        cx, cy = sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts)
        assert math.hypot(cx, cy) < (150 if street["code"] == "JSL" else 500)


def test_grids_of_a_street_tile_it_without_overlaps_or_gaps(grids: List[Dict[str, Any]]) -> None:
    for street in demo_district.STREETS:
        mine = [
            g["geometry"]["coordinates"][0] for g in grids if g["street_code"] == street["code"]
        ]
        lons = [p[0] for ring in mine for p in ring]
        lats = [p[1] for ring in mine for p in ring]
        x0, x1, y0, y1 = min(lons), max(lons), min(lats), max(lats)
        steps = 60
        covered = 0
        for i in range(steps + 1):
            for j in range(steps + 1):
                x, y = (
                    x0 + (x1 - x0) * (i + 0.5) / (steps + 1),
                    y0 + (y1 - y0) * (j + 0.5) / (steps + 1),
                )
                hits = sum(in_ring(x, y, ring) for ring in mine)
                assert hits <= 1, f"grids overlap at {x}, {y}"
                covered += hits
        assert covered > 0.5 * (steps + 1) ** 2
        cx, cy = street["center"]
        for i in range(-10, 11):  # the middle of the street, well inside its outline
            for j in range(-10, 11):
                x, y = cx + (x1 - x0) * 0.2 * i / 10, cy + (y1 - y0) * 0.2 * j / 10
                assert sum(in_ring(x, y, ring) for ring in mine) == 1, f"a gap at {x}, {y}"
        # Inner edges are shared: each is used, reversed, by exactly one neighbour.
        edges = Counter()
        for ring in mine:
            for a, b in zip(ring, ring[1:]):
                edges[(tuple(a), tuple(b))] += 1
        inner = [e for e in edges if (e[1], e[0]) in edges]
        assert len(inner) == 2 * 17  # a 4 x 3 lattice has 17 inner edges
        assert all(edges[e] == 1 for e in edges)


def test_the_two_streets_are_apart(grids: List[Dict[str, Any]]) -> None:
    boxes = {}
    for street in STREET_CODES:
        pts = [
            p for g in grids if g["street_code"] == street for p in g["geometry"]["coordinates"][0]
        ]
        boxes[street] = (
            min(p[0] for p in pts),
            max(p[0] for p in pts),
            min(p[1] for p in pts),
            max(p[1] for p in pts),
        )
    (a0, a1, _, _), (b0, b1, _, _) = boxes["JSL"], boxes["HM"]
    assert a1 < b0 or b1 < a0


def test_counts_per_street_and_layer(features: List[Dict[str, Any]]) -> None:
    per_layer = Counter(
        (f["properties"]["street_code"], f["properties"]["layer"]) for f in features
    )
    kinds = {street: set() for street in STREET_CODES}
    for f in features:
        if f["properties"]["layer"] == "components":
            kinds[f["properties"]["street_code"]].add(f["properties"]["kind"])
    for street in STREET_CODES:
        assert per_layer[(street, "components")] >= 5000
        assert len(kinds[street]) >= 6
        assert 100 <= per_layer[(street, "pipelines")] <= 1000
        assert 20 <= per_layer[(street, "areas")] <= 200
    areas = [f["properties"] for f in features if f["properties"]["layer"] == "areas"]
    area_kinds = Counter((props["street_code"], props["kind"]) for props in areas)
    for kind in demo_district.AREA_KINDS:
        assert area_kinds[("JSL", kind)] >= 1, kind
    assert area_kinds[("JSL", "protected_building")] >= 5
    assert set(kinds["JSL"]) == set(demo_district.COMPONENT_KINDS)


def test_features_are_well_formed(features: List[Dict[str, Any]]) -> None:
    geometry_of = {"components": "Point", "pipelines": "LineString", "areas": "Polygon"}
    prefix_of = {"components": "cmp-", "pipelines": "pl-", "areas": "ar-"}
    statuses = Counter()
    for f in features:
        props = f["properties"]
        layer = props["layer"]
        assert f["type"] == "Feature" and isinstance(f["id"], str)
        assert f["id"].startswith(prefix_of[layer] + props["grid_code"] + "-")
        assert f["geometry"]["type"] == geometry_of[layer]
        assert props["kind"] in demo_district.KIND_NAMES and props["name"]
        if layer == "components":
            assert props["name"].startswith(demo_district.KIND_NAMES[props["kind"]] + " ")
            statuses[props["status"]] += 1
        if layer == "areas":
            ring = f["geometry"]["coordinates"][0]
            assert ring[0] == ring[-1] and len(ring) >= 4
    broken = statuses["faulty"] + statuses["damaged"]
    assert set(statuses) <= {"normal", "faulty", "damaged"}
    assert 0.01 < broken / sum(statuses.values()) < 0.06


def test_ids_are_unique(features: List[Dict[str, Any]]) -> None:
    ids = [f["id"] for f in features]
    assert len(set(ids)) == len(ids)


def test_every_vertex_lies_in_the_grid_named_by_its_grid_code(
    features: List[Dict[str, Any]], rings: Dict[str, Ring]
) -> None:
    for f in features:
        code = f["properties"]["grid_code"]
        assert f["properties"]["street_code"] == code.split("-")[0]
        for lon, lat in vertices(f["geometry"]):
            assert in_ring(lon, lat, rings[code]), (f["id"], lon, lat)
    points = [f for f in features if f["geometry"]["type"] == "Point"][::50]
    for f in points:  # and in no other grid
        lon, lat = f["geometry"]["coordinates"]
        assert [c for c, ring in rings.items() if in_ring(lon, lat, ring)] == [
            f["properties"]["grid_code"]
        ]


def test_components_keep_clear_of_the_grid_edges(
    features: List[Dict[str, Any]], rings: Dict[str, Ring]
) -> None:
    for f in features[::20]:
        if f["geometry"]["type"] != "Point":
            continue
        lon, lat = f["geometry"]["coordinates"]
        ring = rings[f["properties"]["grid_code"]]
        for a, b in zip(ring, ring[1:]):
            ax, ay = metres(a[0], a[1], (lon, lat))
            bx, by = metres(b[0], b[1], (lon, lat))
            t = max(
                0.0,
                min(1.0, -(ax * (bx - ax) + ay * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)),
            )
            assert math.hypot(ax + t * (bx - ax), ay + t * (by - ay)) > 0.9, f["id"]


# Photos.


@pytest.mark.parametrize("kind", TASK_KINDS)
def test_photo_is_a_deterministic_jpeg_showing_a_difference(kind: str) -> None:
    image_module = pytest.importorskip("PIL.Image")
    from sync import demo_photos

    size = (640, 480)
    before = demo_photos.make_photo(kind, "before", 11, size)
    after = demo_photos.make_photo(kind, "after", 11, size)
    assert before[:2] == b"\xff\xd8" and after[:2] == b"\xff\xd8"
    for data in (before, after):
        with image_module.open(io.BytesIO(data)) as img:
            assert img.format == "JPEG" and img.size == size
    assert before != after
    assert demo_photos.make_photo(kind, "before", 11, size) == before
    assert demo_photos.make_photo(kind, "before", 12, size) != before


def test_photo_at_the_default_size_is_photo_sized() -> None:
    image_module = pytest.importorskip("PIL.Image")
    from sync import demo_photos

    data = demo_photos.make_photo("litter", "before", 3)
    with image_module.open(io.BytesIO(data)) as img:
        assert img.size == (1280, 960)
        small = img.convert("L").resize((64, 48))
    assert 100_000 <= len(data) <= 400_000
    pixels = list(small.tobytes())
    assert max(pixels) - min(pixels) > 60  # a scene, not a flat fill


def test_photo_before_and_after_share_the_scene() -> None:
    image_module = pytest.importorskip("PIL.Image")
    from sync import demo_photos

    def thumb(role: str) -> List[int]:
        data = demo_photos.make_photo("manhole_damaged", role, 5, (320, 240))
        with image_module.open(io.BytesIO(data)) as img:
            return list(img.convert("L").resize((32, 24)).tobytes())

    before, after = thumb("before"), thumb("after")
    same = sum(abs(a - b) <= 12 for a, b in zip(before, after))
    assert same > 0.8 * len(before)
    with pytest.raises(ValueError):
        demo_photos.make_photo("graffiti", "before", 1)
    assert demo_photos.TASK_KINDS == TASK_KINDS
