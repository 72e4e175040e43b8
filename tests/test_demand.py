"""Demand points from ONS LSOA files and from any points file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from totalcapital._errors import EstateValidationError
from totalcapital.demand import load_lsoa_demand, load_point_demand

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ENGLAND = SHARED_DATA / "england"


@pytest.fixture
def ons_files(tmp_path: Path) -> tuple[Path, Path]:
    """Small files in the ONS layouts: a BOM, thousands separators, authority header rows."""
    centroids = tmp_path / "centroids.csv"
    centroids.write_text(
        "\ufeffOBJECTID,LSOA11CD,LSOA11NM,GlobalID,x,y\n"
        "1,E01000001,Alpha 001A,g1,500000.5,300000.25\n"
        "2,E01000002,Alpha 001B,g2,501000,301000\n"
        "3,E01000003,Beta 001A,g3,510000,310000\n"
        "4,E01000004,Beta 001B,g4,511000,311000\n",
        encoding="utf-8",
    )
    population = tmp_path / "population.csv"
    population.write_text(
        "Area Codes,All Ages\n"
        'E06000001,"3,100"\n'
        'E01000001,"1,632"\n'
        "E01000002,1468\n"
        'E07000002,"4,000"\n'
        'E01000003,"2,000"\n'
        'E01000004,"2,000"\n',
        encoding="utf-8",
    )
    return centroids, population


def test_lsoas_are_selected_by_their_authority_block(ons_files):
    centroids, population = ons_files
    demand = load_lsoa_demand(centroids, population, ["E06000001"])
    assert demand.index.name == "demand_id"
    assert demand.index.tolist() == ["E01000001", "E01000002"]
    assert demand["name"].tolist() == ["Alpha 001A", "Alpha 001B"]
    assert demand["weight"].tolist() == [1632.0, 1468.0]
    assert demand["weight"].dtype == np.float64
    assert demand.crs.to_epsg() == 27700
    assert demand.geometry.iloc[0].equals(shapely.Point(500000.5, 300000.25))


def test_several_authorities(ons_files):
    centroids, population = ons_files
    demand = load_lsoa_demand(centroids, population, ["E07000002", "E06000001"])
    assert sorted(demand.index) == ["E01000001", "E01000002", "E01000003", "E01000004"]
    assert demand["weight"].sum() == 7100.0


def test_a_nation_stands_for_all_its_lsoas(ons_files, tmp_path: Path):
    centroids, population = ons_files
    welsh = population.read_text(encoding="utf-8") + 'W06000001,"500"\nW01000001,500\n'
    population.write_text(welsh, encoding="utf-8")
    centroids.write_text(
        centroids.read_text(encoding="utf-8") + "5,W01000001,Gamma 001A,g5,320000,260000\n",
        encoding="utf-8",
    )
    england = load_lsoa_demand(centroids, population, ["england"])
    assert sorted(england.index) == ["E01000001", "E01000002", "E01000003", "E01000004"]
    wales = load_lsoa_demand(centroids, population, ["Wales"])
    assert wales.index.tolist() == ["W01000001"]


@pytest.mark.shared_data
def test_all_of_england_from_the_real_files():
    demand = load_lsoa_demand(
        ENGLAND / "lsoa2011_population_weighted_centroids.csv",
        ENGLAND / "lsoa2011_population_mid2017.csv",
        ["england"],
    )
    assert len(demand) == 32_844
    assert demand.index.str.startswith("E01").all()


def test_unknown_authority_is_named(ons_files):
    centroids, population = ons_files
    with pytest.raises(EstateValidationError, match="id E09999999, column 'Area Codes'") as info:
        load_lsoa_demand(centroids, population, ["E06000001", "E09999999", "E01000001"])
    # An LSOA code is not an authority either: both reported at once.
    assert [p.row_id for p in info.value.problems] == ["E09999999", "E01000001"]


def test_lsoa_without_centroid_is_reported(ons_files):
    centroids, population = ons_files
    centroids.write_text(
        "LSOA11CD,LSOA11NM,x,y\nE01000001,Alpha 001A,500000,300000\n", encoding="utf-8"
    )
    with pytest.raises(EstateValidationError, match="id E01000002, column 'x, y'"):
        load_lsoa_demand(centroids, population, ["E06000001"])


def test_missing_columns_are_all_reported(tmp_path: Path):
    centroids = tmp_path / "c.csv"
    centroids.write_text("code,name\n", encoding="utf-8")
    population = tmp_path / "p.csv"
    population.write_text("code,people\n", encoding="utf-8")
    with pytest.raises(EstateValidationError) as info:
        load_lsoa_demand(centroids, population, ["E06000001"])
    assert {p.column for p in info.value.problems} == {
        "Area Codes",
        "All Ages",
        "LSOA11CD",
        "LSOA11NM",
        "x",
        "y",
    }


@pytest.mark.shared_data
def test_rutland_and_ryedale_from_the_real_files():
    centroids = ENGLAND / "lsoa2011_population_weighted_centroids.csv"
    population = ENGLAND / "lsoa2011_population_mid2017.csv"
    rutland = load_lsoa_demand(centroids, population, ["E06000017"])
    assert len(rutland) == 23 and rutland["weight"].sum() == 39_474
    assert rutland["name"].str.startswith("Rutland ").all()
    ryedale = load_lsoa_demand(centroids, population, ["E07000167"])
    assert len(ryedale) == 30 and ryedale["weight"].sum() == 54_311


def test_point_demand_from_csv_with_eastings(tmp_path: Path):
    path = tmp_path / "incidents.csv"
    path.write_text(
        "id,name,Easting,Northing,incidents\nI1,Farm fire,500000,300000,3\nI2,RTC,501000,300500,1\n"
    )
    demand = load_point_demand(path, weight_column="incidents", id_column="id")
    assert demand.index.tolist() == ["I1", "I2"]
    assert demand["weight"].tolist() == [3.0, 1.0]
    assert demand["name"].tolist() == ["Farm fire", "RTC"]
    assert demand.geometry.iloc[1].equals(shapely.Point(501000, 300500))


def test_point_demand_from_lon_lat_is_projected(tmp_path: Path):
    path = tmp_path / "people.csv"
    path.write_text("lon,lat,population\n-0.7266,52.6697,100\n")
    demand = load_point_demand(path)
    assert demand.index.tolist() == ["1"]
    # Oakham market place, roughly.
    assert demand.geometry.iloc[0].distance(shapely.Point(486_200, 308_800)) < 500


def test_point_demand_from_geopackage_polygons(tmp_path: Path):
    path = tmp_path / "zones.gpkg"
    zones = gpd.GeoDataFrame(
        {"zone": ["Z1", "Z2"], "population": [10, 20]},
        geometry=[
            shapely.box(500_000, 300_000, 500_010, 300_010),
            shapely.box(500_100, 300_100, 500_110, 300_110),
        ],
        crs=27700,
    )
    zones.to_file(path, layer="zones")
    demand = load_point_demand(path, layer="zones", id_column="zone")
    assert demand.index.tolist() == ["Z1", "Z2"]
    assert (demand.geom_type == "Point").all()
    assert demand.geometry.iloc[1].within(shapely.box(500_100, 300_100, 500_110, 300_110))


def test_every_bad_row_is_reported_at_once(tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,x,y,population\n"
        "A,500000,300000,10\n"
        "B,500000,300000,-4\n"
        "C,,300000,5\n"
        "A,500100,300000,7\n"
        "D,500200,300000,lots\n"
    )
    with pytest.raises(EstateValidationError) as info:
        load_point_demand(path, id_column="id")
    found = [(p.row_id, p.column) for p in info.value.problems]
    assert found == [
        ("A", "id"),
        ("B", "population"),
        ("D", "population"),
        ("C", "geometry"),
    ]
    message = str(info.value)
    assert "bad.csv, id B, column 'population': expected a number >= 0, found '-4'" in message
    assert "2 rows with this id" in message


def test_missing_weight_column_and_coordinates(tmp_path: Path):
    path = tmp_path / "nothing.csv"
    path.write_text("id,place\n1,here\n")
    with pytest.raises(EstateValidationError) as info:
        load_point_demand(path)
    expected = {p.expected for p in info.value.problems}
    assert expected == {
        "coordinate columns x/y, easting/northing or lon/lat",
        "a column 'population'",
    }


def test_missing_file(tmp_path: Path):
    with pytest.raises(EstateValidationError, match="no such file"):
        load_point_demand(tmp_path / "absent.gpkg")


def test_weights_are_floats_even_when_integers(tmp_path: Path):
    path = tmp_path / "int.csv"
    pd.DataFrame({"x": [500_001.0], "y": [300_002.0], "count": [4]}).to_csv(path, index=False)
    demand = load_point_demand(path, weight_column="count")
    assert demand["weight"].dtype == np.float64 and demand["weight"].iloc[0] == 4.0


def test_a_demand_id_column_is_the_points_ids_and_coordinates_are_named(tmp_path: Path):
    """Without an id column named, a `demand_id` column gives the ids (so duplicates are
    caught); a coordinate that is no number is named with its column and value."""
    path = tmp_path / "points.csv"
    path.write_text(
        "demand_id,easting,northing,population\n"
        "N1,478400,472200,2400\n"
        "N2,abc,471600,2500\n"
        "N1,479600,472600,900\n"
    )
    with pytest.raises(EstateValidationError) as info:
        load_point_demand(path)
    found = [(p.row_id, p.column, p.found) for p in info.value.problems]
    assert found == [("N1", "demand_id", "2 rows with this id"), ("N2", "easting", "'abc'")]
    path.write_text(
        'demand_id,easting,northing,population\nN1,478400,472200,"2,400"\nN2,478700,471600,9\n'
    )
    demand = load_point_demand(path)
    assert demand.index.tolist() == ["N1", "N2"] and demand.loc["N1", "weight"] == 2_400


def test_demand_for_another_place_is_refused():
    from model_cases import estate

    from totalcapital.estate import check_sites_against_demand

    here = estate([{"site_id": "A"}], [{"service_id": "S", "current_site": "A"}])
    far = gpd.GeoDataFrame(
        {"weight": [1.0, 2.0]},
        geometry=gpd.points_from_xy([180_000, 181_000], [50_000, 50_000]),
        crs="EPSG:27700",
    )
    with pytest.raises(EstateValidationError) as info:
        check_sites_against_demand(here, far, "far.csv")
    [problem] = info.value.problems
    assert problem.file == "far.csv" and "within 50 km of a site" in problem.expected
    near = far.set_geometry(gpd.points_from_xy([450_000, 181_000], [480_000, 50_000]))
    check_sites_against_demand(here, near, "near.csv")  # one point where the estate is
