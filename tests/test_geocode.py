"""Postcode lookups against Code-Point Open files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely

from totalcapital.geocode import GeocodeError, PostcodeIndex, normalise_postcode

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ENGLAND = SHARED_DATA / "england"


@pytest.mark.parametrize(
    ("typed", "tidy"),
    [
        ("le15 6qa ", "LE15 6QA"),
        ("LE156QA", "LE15 6QA"),
        ("  l1   8jq", "L1 8JQ"),
        ("EC1A1BB", "EC1A 1BB"),
        (None, ""),
        (float("nan"), ""),
    ],
)
def test_normalise_postcode(typed, tidy):
    assert normalise_postcode(typed) == tidy


@pytest.fixture
def codepoint_folder(tmp_path: Path) -> Path:
    """A Code-Point Open folder: headerless per-area CSVs plus the column-headers file."""
    folder = tmp_path / "codepoint"
    (folder / "Doc").mkdir(parents=True)
    (folder / "Doc" / "Code-Point_Open_Column_Headers.csv").write_text(
        "PC,PQ,EA,NO\nPostcode,Positional_quality_indicator,Eastings,Northings\n"
    )
    (folder / "Data").mkdir()
    (folder / "Data" / "ab.csv").write_text(
        '"AB1 2CD",10,400100,800200,"S92000003"\n'
        '"AB1 2CE",90,0,0,"S92000003"\n'  # quality 90: no coordinates
    )
    (folder / "Data" / "b.csv").write_text('"B1  1AA",10,406000,286000,"E92000001"\n')
    return folder


def test_lookup_finds_tidied_postcodes_and_lists_the_rest(codepoint_folder: Path):
    index = PostcodeIndex.from_codepoint_open(codepoint_folder)
    postcodes = pd.Series(
        ["ab1 2cd ", "B11AA", "AB1 2CE", "ZZ9 9ZZ", None, "AB1 2CD"], index=[10, 11, 12, 13, 14, 15]
    )
    points, not_found = index.lookup(postcodes)
    assert points.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert points.crs.to_epsg() == 27700
    assert points[10].equals(shapely.Point(400100, 800200))
    assert points[11].equals(shapely.Point(406000, 286000))
    assert points[15].equals(points[10])
    assert points.isna().tolist() == [False, False, True, True, True, False]
    assert not_found == ["AB1 2CE", "ZZ9 9ZZ", ""]


def test_only_needed_areas_are_read(codepoint_folder: Path):
    index = PostcodeIndex.from_codepoint_open(codepoint_folder)
    index.lookup(pd.Series(["B1 1AA"]))
    assert len(index) == 1  # ab.csv untouched


def test_single_csv_file(codepoint_folder: Path):
    index = PostcodeIndex.from_codepoint_open(codepoint_folder / "Data" / "ab.csv")
    points, not_found = index.lookup(pd.Series(["AB12CD"]))
    assert points[0].equals(shapely.Point(400100, 800200)) and not_found == []


def test_missing_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(GeocodeError, match="expected a Code-Point Open folder"):
        PostcodeIndex.from_codepoint_open(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GeocodeError, match="found none"):
        PostcodeIndex.from_codepoint_open(tmp_path / "empty")


@pytest.mark.shared_data
def test_home_office_fire_station_postcodes():
    stations = pd.read_csv(ENGLAND / "fire_stations_home_office.csv", dtype=str)
    leicestershire = stations[stations["FRS_FULLNAME"] == "Leicestershire"]
    index = PostcodeIndex.from_codepoint_open(ENGLAND / "codepoint_open")
    points, not_found = index.lookup(leicestershire["STATION_POSTCODE"])
    # Ashby's postcode is mistyped LD65 (for LE65) in the published list; CV and DE are postcode
    # areas outside the LE/PE/YO files.
    assert not_found == ["LD65 2GW", "CV13 0LT", "DE74 2SA"]
    by_name = dict(zip(leicestershire["STATION_NAME"], points, strict=True))
    assert by_name["Ashby Fire Station"] is None
    # Postcode centroids lie within a few hundred metres of the listed station coordinates.
    assert by_name["Oakham Fire Station"].distance(shapely.Point(486162, 308552)) < 300
    assert by_name["Uppingham Fire Station"].distance(shapely.Point(486649, 299930)) < 300
    assert int(points.notna().sum()) == len(leicestershire) - 3


@pytest.mark.shared_data
def test_trailing_spaces_in_real_postcodes_are_found():
    stations = pd.read_csv(ENGLAND / "fire_stations_home_office.csv", dtype=str)
    spaced = stations["STATION_POSTCODE"].fillna("")
    spaced = spaced[spaced.str.endswith(" ") & spaced.str[:2].isin(["LE", "PE", "YO"])]
    assert len(spaced) > 0
    index = PostcodeIndex.from_codepoint_open(ENGLAND / "codepoint_open")
    points, _ = index.lookup(spaced)
    assert points.notna().all()
