"""Road graphs, travel-time matrices, snapping, the straight-line fallback and the disk cache."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import scipy.sparse as sp
import shapely

import totalcapital.network as network_module
from totalcapital._errors import ScenarioError
from totalcapital._osm_roads import parse_maxspeed
from totalcapital.network import (
    ACCESS_SPEED_KMH,
    DEFAULT_ROAD_SPEEDS_KMH,
    NetworkError,
    RoadNetwork,
    TravelTimes,
    compute_travel_times,
    shortest_minutes,
    straight_line_minutes,
    travel_minutes,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RUTLAND_PBF = SHARED_DATA / "rutland" / "rutland-2022-07-20.osm.pbf"
ENGLAND = SHARED_DATA / "england"

# A toy town in British National Grid metres, offset from (500000, 300000):
#
#        D (2000, 1000)
#       /  ^
#  res /   | primary, drawn D->C, oneway=-1 (so C->D only), maxspeed 30 km/h
#     /    |
#  A ---- B ---> C ..footway.. E ---- F   (E-F: residential, cut off from the rest)
#    res    primary oneway=yes
#
# With residential at 30 km/h and primary at 60 km/h: A-B 2 min each way, B->C 1 min,
# C->D 2 min (1000 m at the 30 km/h maxspeed), D-B 1414.2 m at 30 km/h = 2.8284 min.
ORIGIN = (500_000.0, 300_000.0)
NODES = {
    1: (0, 0),  # A
    2: (1000, 0),  # B
    3: (2000, 0),  # C
    4: (2000, 1000),  # D
    5: (3000, 0),  # E
    6: (4000, 0),  # F
    7: (0, 1000),  # G, only on a private drive from A
}
WAYS = [
    (10, [1, 2], {"highway": "residential"}),
    (11, [2, 3], {"highway": "primary", "oneway": "yes"}),
    (12, [4, 3], {"highway": "primary", "oneway": "-1", "maxspeed": "30"}),
    (13, [4, 2], {"highway": "residential"}),
    (14, [3, 5], {"highway": "footway"}),
    (15, [5, 6], {"highway": "residential"}),
    (16, [1, 7], {"highway": "service", "access": "private"}),
]
TOY_SPEEDS = {"residential": 30.0, "primary": 60.0}
DIAGONAL_MINUTES = math.hypot(1000, 1000) / 500.0


def _write_osm_xml(path: Path, nodes: dict, ways: list) -> Path:
    to_wgs84 = pyproj.Transformer.from_crs(27700, 4326, always_xy=True)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for node_id, (dx, dy) in nodes.items():
        lon, lat = to_wgs84.transform(ORIGIN[0] + dx, ORIGIN[1] + dy)
        lines.append(f'  <node id="{node_id}" version="1" lat="{lat:.9f}" lon="{lon:.9f}"/>')
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{way_id}" version="1">')
        lines += [f'    <nd ref="{ref}"/>' for ref in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n")
    return path


def _points(*offsets: tuple[float, float]) -> gpd.GeoSeries:
    return gpd.GeoSeries(
        [shapely.Point(ORIGIN[0] + dx, ORIGIN[1] + dy) for dx, dy in offsets], crs=27700
    )


@pytest.fixture
def toy_osm(tmp_path: Path) -> Path:
    return _write_osm_xml(tmp_path / "toy.osm", NODES, WAYS)


@pytest.fixture
def toy_network(toy_osm: Path) -> RoadNetwork:
    return RoadNetwork.from_osm(toy_osm, TOY_SPEEDS)


A, B, C, D = (0, 0), (1000, 0), (2000, 0), (2000, 1000)


def test_graph_keeps_drivable_connected_roads_only(toy_network: RoadNetwork):
    # E-F is cut off (footway), G only by a private drive: neither is in the graph.
    assert sorted(toy_network.osm_node_ids.tolist()) == [1, 2, 3, 4]
    # A<->B, B->C, C->D, D<->B
    assert toy_network.n_edges == 6
    assert toy_network.fastest_speed_kmh == pytest.approx(60.0)
    assert isinstance(toy_network.graph, sp.csr_array | sp.csr_matrix)


def test_hand_computed_times_respect_one_way_streets(toy_network: RoadNetwork):
    minutes = travel_minutes(toy_network, _points(A, B, C, D), _points(A, B, C, D))
    expected = np.array(
        [
            [0.0, 2.0, 3.0, 2.0 + DIAGONAL_MINUTES],
            [2.0, 0.0, 1.0, DIAGONAL_MINUTES],
            [4.0 + DIAGONAL_MINUTES, 2.0 + DIAGONAL_MINUTES, 0.0, 2.0],
            [2.0 + DIAGONAL_MINUTES, DIAGONAL_MINUTES, 1.0 + DIAGONAL_MINUTES, 0.0],
        ]
    )
    np.testing.assert_allclose(minutes, expected, atol=1e-3)


def test_snap_distance_is_covered_at_access_speed(toy_network: RoadNetwork):
    # 300 m north of A and 150 m south of C: both legs are added to the 3 road minutes.
    nodes, distance = toy_network.snap(_points((0, 300), (2000, -150)))
    assert toy_network.osm_node_ids[nodes].tolist() == [1, 3]
    np.testing.assert_allclose(distance, [300.0, 150.0], atol=0.01)
    minutes = travel_minutes(toy_network, _points((0, 300)), _points((2000, -150)))
    access = (300.0 + 150.0) / (ACCESS_SPEED_KMH * 1000 / 60)
    assert minutes[0, 0] == pytest.approx(3.0 + access, abs=1e-3)


def test_cutoff_gives_inf_never_nan(toy_network: RoadNetwork):
    minutes = travel_minutes(toy_network, _points(C, A), _points(A, C), cutoff_minutes=3.5)
    assert np.isinf(minutes[0, 0])  # C->A takes 6.83 min
    assert minutes[1, 1] == pytest.approx(3.0, abs=1e-3)
    assert not np.isnan(minutes).any()


def test_many_origins_to_few_destinations_route_backwards_identically(toy_network):
    # Four origins, one destination: routed on the reversed graph; must match forward routing.
    backwards = travel_minutes(toy_network, _points(A, B, C, D), _points(B))
    forwards = np.array(
        [[travel_minutes(toy_network, _points(o), _points(B))[0, 0]] for o in (A, B, C, D)]
    )
    np.testing.assert_allclose(backwards, forwards, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        backwards[:, 0], [2.0, 0.0, 2.0 + DIAGONAL_MINUTES, DIAGONAL_MINUTES], atol=1e-3
    )


def test_unreachable_nodes_are_inf_and_batches_match(monkeypatch):
    # 0 -> 1 -> 2 and an isolated node 3.
    graph = sp.csr_array((np.array([1.5, 2.0]), (np.array([0, 1]), np.array([1, 2]))), shape=(4, 4))
    whole = shortest_minutes(graph, np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]))
    expected = np.array(
        [
            [0.0, 1.5, 3.5, np.inf],
            [np.inf, 0.0, 2.0, np.inf],
            [np.inf, np.inf, 0.0, np.inf],
            [np.inf, np.inf, np.inf, 0.0],
        ]
    )
    np.testing.assert_array_equal(whole, expected)
    # Force one source per Dijkstra batch: same answer.
    monkeypatch.setattr(network_module, "_MAX_DIJKSTRA_CELLS", 1)
    np.testing.assert_array_equal(
        shortest_minutes(graph, np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3])), expected
    )


def test_parallel_ways_keep_the_faster_road(tmp_path: Path):
    ways = [
        (10, [1, 2], {"highway": "residential"}),
        (11, [1, 2], {"highway": "primary"}),
        (12, [2, 3], {"highway": "residential"}),
        (13, [3, 1], {"highway": "residential"}),
    ]
    network = RoadNetwork.from_osm(_write_osm_xml(tmp_path / "p.osm", NODES, ways), TOY_SPEEDS)
    assert travel_minutes(network, _points(A), _points(B))[0, 0] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    ("tags", "forward", "backward"),
    [
        ({"highway": "residential", "junction": "roundabout"}, True, False),
        ({"highway": "residential", "junction": "roundabout", "oneway": "no"}, True, True),
        ({"highway": "motorway"}, True, False),
        ({"highway": "residential", "oneway": "reversible"}, True, True),
        ({"highway": "residential", "oneway": "-1"}, False, True),
        ({"highway": "residential", "oneway": "true"}, True, False),
    ],
)
def test_one_way_rules(tmp_path: Path, tags, forward, backward):
    # A->B tagged as given, plus a plain two-way detour A-D-B so both stay connected.
    ways = [
        (10, [1, 2], tags),
        (11, [1, 4], {"highway": "residential"}),
        (12, [4, 2], {"highway": "residential"}),
    ]
    speeds = {"residential": 30.0, "motorway": 30.0}
    network = RoadNetwork.from_osm(_write_osm_xml(tmp_path / "o.osm", NODES, ways), speeds)
    direct = 2.0
    there = travel_minutes(network, _points(A), _points(B))[0, 0]
    back = travel_minutes(network, _points(B), _points(A))[0, 0]
    assert bool(there == pytest.approx(direct, abs=1e-3)) is forward
    assert bool(back == pytest.approx(direct, abs=1e-3)) is backward


def test_speed_override_zero_drops_a_class(toy_osm: Path):
    with pytest.raises(NetworkError, match="found none"):
        RoadNetwork.from_osm(toy_osm, {"residential": 0, "primary": 0})


def test_missing_network_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(NetworkError, match=r"missing\.osm\.pbf: expected an OpenStreetMap"):
        RoadNetwork.from_osm(tmp_path / "missing.osm.pbf")


def test_negative_speed_is_rejected(toy_osm: Path):
    with pytest.raises(ScenarioError, match=r"road_speeds_kmh\['primary'\]"):
        RoadNetwork.from_osm(toy_osm, {"primary": -5})


@pytest.mark.parametrize(
    ("value", "kmh"),
    [("30 mph", 48.28032), ("50", 50.0), ("20mph", 32.18688), ("national", None), (None, None)],
)
def test_parse_maxspeed(value, kmh):
    result = parse_maxspeed(value)
    assert result == (None if kmh is None else pytest.approx(kmh))


def test_straight_line_minutes_hand_computed():
    # 3-4-5 triangle: 5000 m x 1.3 at 50 km/h (833.3 m/min) = 7.8 min.
    minutes = straight_line_minutes(_points((0, 0)), _points((3000, 4000), (0, 0)))
    np.testing.assert_allclose(minutes, [[7.8, 0.0]])
    capped = straight_line_minutes(_points((0, 0)), _points((3000, 4000)), cutoff_minutes=7.0)
    assert np.isinf(capped[0, 0])


def _frames(site_offsets: dict, demand_offsets: dict) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    sites = gpd.GeoDataFrame(
        geometry=_points(*site_offsets.values()).to_numpy(),
        index=gpd.pd.Index(list(site_offsets), name="site_id"),
        crs=27700,
    )
    demand = gpd.GeoDataFrame(
        {"weight": np.ones(len(demand_offsets))},
        geometry=_points(*demand_offsets.values()).to_numpy(),
        index=gpd.pd.Index(list(demand_offsets), name="demand_id"),
        crs=27700,
    )
    return sites, demand


def _settings(**overrides) -> SimpleNamespace:
    values = dict(
        method="auto",
        network=None,
        straight_line_speed_kmh=50.0,
        circuity=1.3,
        road_speeds_kmh={},
        blue_light_factor={},
        snap_warning_m=500.0,
        cache_dir=None,
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def test_compute_travel_times_on_the_network(toy_osm: Path):
    sites, demand = _frames({"S1": A, "S2": C}, {"D1": B, "D2": D, "D3": (2000, 900)})
    settings = _settings(network=toy_osm, road_speeds_kmh=TOY_SPEEDS, snap_warning_m=50.0)
    times = compute_travel_times(sites, demand, settings)
    assert times.method == "network"
    assert times.site_ids == ["S1", "S2"] and times.demand_ids == ["D1", "D2", "D3"]
    d3_access = 100.0 / (ACCESS_SPEED_KMH * 1000 / 60)
    np.testing.assert_allclose(
        times.minutes,
        [
            [2.0, 2.0 + DIAGONAL_MINUTES, 2.0 + DIAGONAL_MINUTES + d3_access],
            [2.0 + DIAGONAL_MINUTES, 2.0, 2.0 + d3_access],
        ],
        atol=1e-3,
    )
    np.testing.assert_allclose(
        times.site_to_site_minutes, [[0.0, 3.0], [4.0 + DIAGONAL_MINUTES, 0.0]], atol=1e-3
    )
    snapping = times.snapping.set_index("point_id")
    assert snapping["kind"].to_dict() == {
        "S1": "site",
        "S2": "site",
        "D1": "demand",
        "D2": "demand",
        "D3": "demand",
    }
    assert snapping.loc["D3", "snap_distance_m"] == pytest.approx(100.0, abs=0.01)
    assert snapping["far"].tolist() == [False, False, False, False, True]


def test_polygon_sites_use_a_representative_point(toy_osm: Path):
    sites, demand = _frames({"S1": A}, {"D1": B})
    sites.geometry = [shapely.box(ORIGIN[0] - 1, ORIGIN[1] - 1, ORIGIN[0] + 1, ORIGIN[1] + 1)]
    times = compute_travel_times(
        sites, demand, _settings(network=toy_osm, road_speeds_kmh=TOY_SPEEDS)
    )
    assert times.minutes[0, 0] == pytest.approx(2.0, abs=0.01)


def test_blue_light_factor_divides_minutes(toy_osm: Path):
    sites, demand = _frames({"S1": A}, {"D1": C})
    settings = _settings(
        straight_line_speed_kmh=60.0, circuity=1.0, blue_light_factor={"fire_station": 1.25}
    )
    times = compute_travel_times(sites, demand, settings)
    assert times.method == "straight_line" and times.snapping is None
    assert times.minutes[0, 0] == pytest.approx(2.0)
    assert times.for_service_type("fire_station")[0, 0] == pytest.approx(1.6)
    assert times.for_service_type("library")[0, 0] == pytest.approx(2.0)


def test_non_positive_blue_light_factor_is_rejected():
    times = TravelTimes(
        ["S"],
        ["D"],
        np.ones((1, 1)),
        np.zeros((1, 1)),
        "straight_line",
        blue_light_factor={"fire_station": 0.0},
    )
    with pytest.raises(ScenarioError, match="fire_station"):
        times.for_service_type("fire_station")


def test_network_method_needs_a_file():
    sites, demand = _frames({"S1": A}, {"D1": C})
    with pytest.raises(ScenarioError, match="travel.network"):
        compute_travel_times(sites, demand, _settings(method="network"))


def test_progress_is_reported(toy_osm: Path):
    sites, demand = _frames({"S1": A}, {"D1": C})
    steps = []
    compute_travel_times(
        sites,
        demand,
        _settings(network=toy_osm, road_speeds_kmh=TOY_SPEEDS),
        progress=lambda step, fraction: steps.append((step, fraction)),
    )
    assert steps == [("road graph", 0.5), ("travel times", 1.0)]


def test_cache_returns_identical_matrices(toy_osm: Path, tmp_path: Path):
    sites, demand = _frames({"S1": A, "S2": C}, {"D1": B, "D2": D})
    settings = _settings(network=toy_osm, road_speeds_kmh=TOY_SPEEDS, cache_dir=tmp_path / "cache")
    fresh = compute_travel_times(sites, demand, settings, cutoff_minutes=4.0)
    again = compute_travel_times(sites, demand, settings, cutoff_minutes=4.0)
    assert (fresh.cached, again.cached) == (False, True)
    np.testing.assert_array_equal(fresh.minutes, again.minutes)
    np.testing.assert_array_equal(fresh.site_to_site_minutes, again.site_to_site_minutes)
    assert fresh.snapping.equals(again.snapping)
    # A different cutoff is a different key.
    other = compute_travel_times(sites, demand, settings, cutoff_minutes=10.0)
    assert other.cached is False
    # The parsed graph is cached too.
    assert len(list((tmp_path / "cache").glob("roadgraph-*.npz"))) == 1


def test_cache_off_when_settings_say_so(toy_osm: Path, tmp_path: Path):
    sites, demand = _frames({"S1": A}, {"D1": B})
    settings = _settings(network=toy_osm, cache_dir=tmp_path / "cache", cache=False)
    compute_travel_times(sites, demand, settings)
    assert not (tmp_path / "cache").exists()


def test_default_speeds_cover_the_main_classes():
    for highway in (
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "service",
        "living_street",
        "primary_link",
    ):
        assert DEFAULT_ROAD_SPEEDS_KMH[highway] > 0
    assert "footway" not in DEFAULT_ROAD_SPEEDS_KMH and "track" not in DEFAULT_ROAD_SPEEDS_KMH


# ---- the real Rutland extract ----------------------------------------------------------------


@pytest.fixture(scope="session")
def rutland_network() -> RoadNetwork:
    return RoadNetwork.from_osm(RUTLAND_PBF)


@pytest.fixture(scope="session")
def rutland_demand() -> gpd.GeoDataFrame:
    from totalcapital.demand import load_lsoa_demand

    return load_lsoa_demand(
        ENGLAND / "lsoa2011_population_weighted_centroids.csv",
        ENGLAND / "lsoa2011_population_mid2017.csv",
        ["E06000017"],
    )


@pytest.fixture(scope="session")
def rutland_fire_stations() -> gpd.GeoDataFrame:
    from totalcapital.osm_import import authority_boundary, fire_stations_from_home_office

    boundary = authority_boundary(ENGLAND / "local_authority_districts_2017.geojson", "E06000017")
    stations = fire_stations_from_home_office(ENGLAND / "fire_stations_home_office.csv", boundary)
    return stations.set_index("site_id")


@pytest.mark.shared_data
def test_rutland_graph_is_one_strong_component(rutland_network: RoadNetwork):
    from scipy.sparse.csgraph import connected_components

    assert rutland_network.n_nodes > 20_000
    count, _ = connected_components(rutland_network.graph, directed=True, connection="strong")
    assert count == 1


@pytest.mark.shared_data
def test_every_rutland_lsoa_reaches_a_fire_station(
    rutland_network, rutland_demand, rutland_fire_stations
):
    assert len(rutland_demand) == 23 and rutland_demand["weight"].sum() == 39_474
    assert sorted(rutland_fire_stations["name"]) == [
        "Oakham Fire Station",
        "Uppingham Fire Station",
    ]
    minutes = travel_minutes(
        rutland_network, rutland_fire_stations.geometry, rutland_demand.geometry
    )
    assert minutes.shape == (2, 23)
    assert np.isfinite(minutes).all()
    # Rutland is about 25 km across: nowhere is more than 40 minutes from both stations.
    assert minutes.min(axis=0).max() < 40


@pytest.mark.shared_data
def test_rutland_network_never_beats_the_straight_line(
    rutland_network, rutland_demand, rutland_fire_stations
):
    # Every fire station and LSOA to every LSOA, both directions.
    points = gpd.GeoSeries(
        [*rutland_fire_stations.geometry, *rutland_demand.geometry], crs=27700
    ).reset_index(drop=True)
    minutes = travel_minutes(rutland_network, points, points)
    fastest = straight_line_minutes(
        points, points, speed_kmh=rutland_network.fastest_speed_kmh, circuity=1.0
    )
    assert np.isfinite(minutes).all()
    assert (minutes >= fastest - 1e-9).all()
    # and roads are not absurdly indirect: under 3x the straight line at 30 km/h, plus 5 min.
    slow = straight_line_minutes(points, points, speed_kmh=30.0, circuity=1.0)
    assert (minutes <= 3 * slow + 5).all()


@pytest.mark.shared_data
def test_rutland_travel_times_snapping_and_cache(rutland_demand, rutland_fire_stations, tmp_path):
    settings = _settings(network=RUTLAND_PBF, cache_dir=tmp_path)
    fresh = compute_travel_times(
        rutland_fire_stations, rutland_demand, settings, cutoff_minutes=30.0
    )
    again = compute_travel_times(
        rutland_fire_stations, rutland_demand, settings, cutoff_minutes=30.0
    )
    assert fresh.method == "network" and not fresh.cached and again.cached
    np.testing.assert_array_equal(fresh.minutes, again.minutes)
    np.testing.assert_array_equal(fresh.site_to_site_minutes, again.site_to_site_minutes)
    snapping = fresh.snapping
    assert sorted(snapping["point_id"]) == sorted(
        list(rutland_fire_stations.index) + list(rutland_demand.index)
    )
    assert snapping["snap_distance_m"].notna().all() and (snapping["snap_distance_m"] >= 0).all()
    assert snapping["far"].equals(snapping["snap_distance_m"] > 500.0)
    # Population-weighted centroids mostly sit in villages, close to a road; Rutland 005A's lies
    # in fields 915 m from the nearest road and must be reported.
    assert snapping["snap_distance_m"].median() < 100
    assert snapping.loc[snapping["far"], "point_id"].tolist() == ["E01013787"]
    # Oakham to Uppingham is about 9 km by the A6003.
    assert 8 < fresh.site_to_site_minutes[0, 1] < 20


def test_accepts_the_scenario_travel_settings(toy_osm: Path, tmp_path: Path):
    from totalcapital.scenario import TravelSettings

    settings = TravelSettings(network=toy_osm, road_speeds_kmh=TOY_SPEEDS, cache_dir=tmp_path)
    sites, demand = _frames({"S1": A}, {"D1": C})
    times = compute_travel_times(sites, demand, settings)
    assert times.method == "network"
    assert times.minutes[0, 0] == pytest.approx(3.0, abs=1e-3)
    factor = settings.blue_light_factor.get("fire_station", 1.0)
    assert times.for_service_type("fire_station")[0, 0] == pytest.approx(3.0 / factor, abs=1e-3)


def test_points_snapping_to_one_node_go_straight_across(toy_network: RoadNetwork):
    # Both 300 m north of the road near A: 50 m apart, not 300 m + 304 m via the road.
    points = _points((0, 300), (50, 300))
    minutes = travel_minutes(toy_network, points, points)
    metres_per_minute = ACCESS_SPEED_KMH * 1000 / 60
    np.testing.assert_allclose(
        minutes, [[0.0, 50 / metres_per_minute], [50 / metres_per_minute, 0.0]], atol=1e-9
    )
