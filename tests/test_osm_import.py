"""Site-register skeletons from OSM, the Home Office fire-station list and district boundaries."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely

from totalcapital._errors import EstateValidationError
from totalcapital.osm_import import (
    ILLUSTRATIVE_DEFAULTS,
    SITE_COLUMNS,
    OsmImportError,
    authority_boundary,
    classify_tags,
    fire_stations_from_home_office,
    import_osm_sites,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RUTLAND_PBF = SHARED_DATA / "rutland" / "rutland-2022-07-20.osm.pbf"
ENGLAND = SHARED_DATA / "england"
ORIGIN = (500_000.0, 300_000.0)


def _osm_xml(path: Path) -> Path:
    """A fire station node, a police building (a 20 m x 30 m closed way), a surgery node with
    an operator, a care home, a cafe (not public estate) and a school far to the east."""
    to_wgs84 = pyproj.Transformer.from_crs(27700, 4326, always_xy=True)

    def node(node_id: int, dx: float, dy: float, tags: dict | None = None) -> str:
        lon, lat = to_wgs84.transform(ORIGIN[0] + dx, ORIGIN[1] + dy)
        inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {}).items())
        return f'<node id="{node_id}" version="1" lat="{lat:.9f}" lon="{lon:.9f}">{inner}</node>'

    nodes = [
        node(1, 0, 0, {"amenity": "fire_station", "name": "Toytown Fire Station"}),
        node(2, 100, 0),
        node(3, 120, 0),
        node(4, 120, 30),
        node(5, 100, 30),
        node(
            6,
            300,
            0,
            {
                "amenity": "doctors",
                "name": "Toy Surgery",
                "operator": "Toy PCN",
                "addr:postcode": "ab1 2cd",
            },
        ),
        node(
            7,
            400,
            0,
            {"amenity": "social_facility", "social_facility": "assisted_living;group_home"},
        ),
        node(8, 500, 0, {"amenity": "cafe", "name": "Not public"}),
        node(9, 50_000, 0, {"amenity": "school", "name": "Far School"}),
    ]
    police = (
        '<way id="20" version="1"><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="5"/>'
        '<nd ref="2"/><tag k="amenity" v="police"/><tag k="building" v="yes"/></way>'
    )
    xml = (
        '<?xml version="1.0"?>\n<osm version="0.6">\n' + "\n".join([*nodes, police]) + "\n</osm>\n"
    )
    path.write_text(xml)
    return path


@pytest.fixture
def toy_osm(tmp_path: Path) -> Path:
    return _osm_xml(tmp_path / "toy.osm")


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"amenity": "fire_station"}, ("fire_station", "FIRE")),
        ({"emergency": "ambulance_station"}, ("ambulance_station", "AMBULANCE")),
        ({"amenity": "townhall"}, ("council_office", "COUNCIL")),
        ({"healthcare": "doctor"}, ("gp_surgery", "NHS")),
        ({"social_facility": "group_home;assisted_living"}, ("care_home", "COUNTY")),
        ({"amenity": "cafe"}, None),
        ({"office": "estate_agent"}, None),
    ],
)
def test_classify_tags(tags, expected):
    assert classify_tags(tags) == expected


def test_import_finds_public_sites_and_leaves_unknowns_blank(toy_osm: Path, tmp_path: Path):
    out = tmp_path / "estate" / "estate.gpkg"
    sites = import_osm_sites(toy_osm, out)
    assert sites["site_id"].tolist() == ["OSM-n1", "OSM-n6", "OSM-n7", "OSM-n9", "OSM-w20"]
    by_id = sites.set_index("site_id")
    assert by_id["site_type"].to_dict() == {
        "OSM-n1": "fire_station",
        "OSM-n6": "gp_surgery",
        "OSM-n7": "care_home",
        "OSM-n9": "school",
        "OSM-w20": "police_station",
    }
    assert by_id["owner"].to_dict() == {
        "OSM-n1": "FIRE",
        "OSM-n6": "NHS",
        "OSM-n7": "COUNTY",
        "OSM-n9": "COUNTY",
        "OSM-w20": "POLICE",
    }
    assert by_id.loc["OSM-n6", "operator"] == "Toy PCN"
    assert by_id.loc["OSM-n6", "postcode"] == "AB1 2CD"
    # The police building becomes a point inside its 20 m x 30 m outline.
    outline = shapely.box(ORIGIN[0] + 100, ORIGIN[1], ORIGIN[0] + 120, ORIGIN[1] + 30)
    assert by_id.loc["OSM-w20", "geometry"].within(outline)
    assert by_id.loc["OSM-w20", "footprint_m2"] == pytest.approx(600.0, rel=1e-3)
    assert np.isnan(by_id.loc["OSM-n1", "footprint_m2"])
    # What OSM cannot know stays blank.
    for column in ("gia_m2", "running_cost", "market_value", "backlog_cost"):
        assert sites[column].isna().all()
    assert sites["tenure"].isna().all() and sites["values_source"].isna().all()
    assert sites.crs.to_epsg() == 27700

    layers = dict(pyogrio.list_layers(out))
    assert layers == {"sites": "Point", "services": None}
    written = gpd.read_file(out, layer="sites")
    assert list(written.columns) == [*SITE_COLUMNS, "geometry"]
    assert written["site_id"].tolist() == sites["site_id"].tolist()
    services = gpd.read_file(out, layer="services")
    assert services["current_site"].tolist() == sites["site_id"].tolist()
    assert services["service_type"].tolist() == sites["site_type"].tolist()
    assert services["space_m2"].isna().all()


def test_fill_defaults_uses_the_illustrative_table(toy_osm: Path):
    sites = import_osm_sites(toy_osm, None, fill_defaults=True)
    services = sites.attrs["services"].set_index("current_site")
    fire = sites.set_index("site_id").loc["OSM-n1"]
    typical = ILLUSTRATIVE_DEFAULTS["fire_station"]
    assert fire["gia_m2"] == typical["gia_m2"]
    assert fire["running_cost"] == typical["running_cost"]
    assert fire["disposal_cost"] == pytest.approx(0.02 * typical["market_value"])
    assert fire["tenure"] == "freehold" and fire["values_source"] == "illustrative default"
    assert services.loc["OSM-n1", "space_m2"] == typical["space_m2"]
    assert bool(services.loc["OSM-w20", "public_facing"]) is True
    assert bool(services.loc["OSM-n9", "movable"]) is False
    assert (services["values_source"] == "illustrative default").all()


def test_boundary_keeps_sites_inside(toy_osm: Path):
    around = shapely.box(ORIGIN[0] - 1_000, ORIGIN[1] - 1_000, ORIGIN[0] + 1_000, ORIGIN[1] + 1_000)
    sites = import_osm_sites(toy_osm, None, boundary=around)
    assert "OSM-n9" not in set(sites["site_id"]) and len(sites) == 4


def test_authoritative_fire_stations_replace_nearby_osm_ones(toy_osm: Path):
    stations = gpd.GeoDataFrame(
        {
            "site_id": ["HO-1", "HO-2"],
            "name": ["Toytown", "Elsewhere"],
            "frs": ["Toy FRS", "Toy FRS"],
            "postcode": ["AB1 2CD", "AB1 2CE"],
        },
        geometry=[
            shapely.Point(ORIGIN[0] + 50, ORIGIN[1]),
            shapely.Point(ORIGIN[0], ORIGIN[1] + 9e3),
        ],
        crs=27700,
    )
    sites = import_osm_sites(toy_osm, None, fire_stations=stations)
    fire = sites[sites["site_type"] == "fire_station"]
    assert sorted(fire["site_id"]) == ["HO-1", "HO-2"]
    assert set(fire["source"]) == {"Home Office fire station list"}


def test_missing_extract(tmp_path: Path):
    with pytest.raises(OsmImportError, match="no such file"):
        import_osm_sites(tmp_path / "none.osm.pbf", None)


def test_home_office_rows_without_coordinates_are_left_out(tmp_path: Path):
    csv = tmp_path / "stations.csv"
    csv.write_text(
        "FRS_FULLNAME,E_CODE,STATION_NAME,STATION_ADDRESS,STATION_POSTCODE,STATION_EASTING,"
        "STATION_NORTHING\n"
        "Toy,E1,Alpha,a,ab1 2cd ,500000,300000\n"
        "Toy,E1,Beta,b,AB1 2CE,http://example.org/beta,\n"
        "Toy,E1,Gamma,c,AB1 2CF,510000,310000\n"
    )
    stations = fire_stations_from_home_office(csv)
    assert stations["site_id"].tolist() == ["HO-1", "HO-3"]
    assert stations["postcode"].tolist() == ["AB1 2CD", "AB1 2CF"]
    inside = fire_stations_from_home_office(csv, within=shapely.box(505000, 305000, 515000, 315000))
    assert inside["name"].tolist() == ["Gamma"]


def test_a_register_from_the_station_list_alone(tmp_path: Path):
    """No OSM extract: one site and one crew per station, crews small enough to merge."""
    from typer.testing import CliRunner

    from totalcapital.cli import app
    from totalcapital.estate import load_estate
    from totalcapital.osm_import import STATION_CREW_SPACE_M2, import_fire_stations

    csv = tmp_path / "stations.csv"
    csv.write_text(
        "FRS_FULLNAME,E_CODE,STATION_NAME,STATION_ADDRESS,STATION_POSTCODE,STATION_EASTING,"
        "STATION_NORTHING\n"
        "Toy,E1,Alpha,a,AB1 2CD,500000,300000\n"
        "Toy,E1,Beta,b,AB1 2CE,,\n"
        "Toy,E1,Gamma,c,AB1 2CF,510000,310000\n"
    )
    out = tmp_path / "fire.gpkg"
    sites = import_fire_stations(csv, out, fill_defaults=True)
    assert sites["name"].tolist() == ["Alpha", "Gamma"]
    estate = load_estate(out)
    assert estate.services["service_type"].tolist() == ["fire_station", "fire_station"]
    assert (estate.services["space_m2"] == STATION_CREW_SPACE_M2).all()
    assert (estate.sites["gia_m2"] >= 3 * STATION_CREW_SPACE_M2).all()
    runner = CliRunner()
    again = runner.invoke(app, ["import-fire-stations", str(csv), "--out", str(out)])
    assert again.exit_code == 1 and "--overwrite" in again.output
    over_input = runner.invoke(app, ["import-fire-stations", str(csv), "--out", str(csv)])
    assert over_input.exit_code == 1
    assert "Traceback" not in over_input.output and csv.read_text().startswith("FRS_FULLNAME")


def test_a_station_list_with_no_usable_station_writes_nothing(tmp_path: Path):
    """Nothing usable, or a station without a name: refused, and a good register kept."""
    from typer.testing import CliRunner

    from totalcapital.cli import app

    header = (
        "FRS_FULLNAME,E_CODE,STATION_NAME,STATION_ADDRESS,STATION_POSTCODE,STATION_EASTING,"
        "STATION_NORTHING\n"
    )
    csv = tmp_path / "stations.csv"
    csv.write_text(header + "Toy,E1,Alpha,a,AB1 2CD,,\nToy,E1,Beta,b,AB1 2CE,x,y\n")
    with pytest.raises(EstateValidationError) as info:
        fire_stations_from_home_office(csv)
    [problem] = info.value.problems
    assert "at least one station with a usable easting and northing" in problem.expected
    assert problem.found == "none of 2 rows"
    out = tmp_path / "fire.gpkg"
    out.write_bytes(b"a good register")
    result = CliRunner().invoke(
        app, ["import-fire-stations", str(csv), "--out", str(out), "--overwrite"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert out.read_bytes() == b"a good register"

    csv.write_text(
        header + "Toy,E1, ,a,AB1 2CD,500000,300000\nToy,E1,Gamma,c,AB1 2CF,510000,310000\n"
    )
    with pytest.raises(EstateValidationError) as info:
        fire_stations_from_home_office(csv)
    [problem] = info.value.problems
    assert (problem.row_id, problem.column, problem.expected) == (
        "HO-1",
        "STATION_NAME",
        "a station name",
    )
    # Outside the area asked for, a blank name is some other area's to mend.
    inside = fire_stations_from_home_office(csv, within=shapely.box(505000, 305000, 515000, 315000))
    assert inside["name"].tolist() == ["Gamma"]


def test_home_office_missing_column(tmp_path: Path):
    csv = tmp_path / "stations.csv"
    csv.write_text("STATION_NAME,STATION_EASTING\nA,1\n")
    with pytest.raises(EstateValidationError) as info:
        fire_stations_from_home_office(csv)
    assert {p.column for p in info.value.problems} == {
        "FRS_FULLNAME",
        "STATION_POSTCODE",
        "STATION_NORTHING",
    }


def test_unknown_authority_code(tmp_path: Path):
    path = tmp_path / "lad.geojson"
    gpd.GeoDataFrame(
        {"lad17cd": ["E06000001"], "lad17nm": ["Toy"]},
        geometry=[shapely.box(-1, 52, -0.9, 52.1)],
        crs=4326,
    ).to_file(path)
    assert authority_boundary(path, "E06000001").area > 0
    with pytest.raises(EstateValidationError, match="id E06000099, column 'lad17cd'"):
        authority_boundary(path, "E06000099")


@pytest.mark.shared_data
def test_rutland_register_skeleton(tmp_path: Path):
    boundary = authority_boundary(ENGLAND / "local_authority_districts_2017.geojson", "E06000017")
    stations = fire_stations_from_home_office(ENGLAND / "fire_stations_home_office.csv", boundary)
    assert sorted(stations["name"]) == ["Oakham Fire Station", "Uppingham Fire Station"]
    sites = import_osm_sites(
        RUTLAND_PBF,
        tmp_path / "estate.gpkg",
        boundary=boundary,
        fill_defaults=True,
        fire_stations=stations,
    )
    counts = sites["site_type"].value_counts()
    assert counts["fire_station"] == 2 and counts["ambulance_station"] == 1
    assert counts["police_station"] >= 1 and counts["library"] >= 3 and counts["school"] >= 20
    names = set(sites["name"])
    assert {"Oakham Ambulance Station", "Rutland County Library", "Uppingham School"} <= names
    assert sites["site_id"].is_unique
    assert sites.within(boundary).all()
    assert sites["gia_m2"].notna().all()
