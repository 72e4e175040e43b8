"""Loading and validating estate registers: each bad input is named by file, id and column."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from totalcapital import EstateValidationError, load_estate
from totalcapital.estate import Estate

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEMO = Path(__file__).resolve().parents[1] / "data" / "estates" / "malton.gpkg"


def site_rows() -> list[dict]:
    return [
        {
            "site_id": "A",
            "name": "Alpha House",
            "owner": "COUNCIL",
            "tenure": "freehold",
            "status": "operational",
            "gia_m2": "500",
            "running_cost": "50000",
            "market_value": "400000",
            "easting": "478500",
            "northing": "471700",
        },
        {
            "site_id": "B",
            "name": "Beta Station",
            "owner": "FIRE",
            "tenure": "leasehold",
            "status": "operational",
            "gia_m2": "300",
            "running_cost": "30000",
            "market_value": "0",
            "lease_break": "2030-03-31",
            "easting": "479500",
            "northing": "472000",
        },
        {
            "site_id": "C",
            "name": "Hub plot",
            "owner": "FIRE",
            "tenure": "freehold",
            "status": "candidate",
            "gia_m2": "800",
            "running_cost": "60000",
            "market_value": "",
            "build_cost": "2000000",
            "easting": "480200",
            "northing": "472900",
        },
    ]


def service_rows() -> list[dict]:
    return [
        {
            "service_id": "S1",
            "org": "COUNCIL",
            "service_type": "library",
            "current_site": "A",
            "space_m2": "200",
        },
        {
            "service_id": "S2",
            "org": "FIRE",
            "service_type": "fire_station",
            "current_site": "B",
            "space_m2": "250",
        },
    ]


def write_csvs(folder: Path, sites: list[dict], services: list[dict]) -> Path:
    pd.DataFrame(sites).to_csv(folder / "sites.csv", index=False)
    pd.DataFrame(services).to_csv(folder / "services.csv", index=False)
    return folder / "sites.csv"


def problems_of(path: Path, **kwargs) -> list:
    with pytest.raises(EstateValidationError) as caught:
        load_estate(path, **kwargs)
    return caught.value.problems


def only(problems: list, column: str) -> list:
    return [p for p in problems if p.column == column]


def test_clean_csv_register_loads_and_reprojects(tmp_path):
    estate = load_estate(write_csvs(tmp_path, site_rows(), service_rows()))
    assert list(estate.sites.index) == ["A", "B", "C"]
    assert estate.sites.crs.to_epsg() == 27700
    assert estate.sites.loc["A"].geometry.equals(Point(478500, 471700))
    assert estate.sites.loc["B", "lease_break"] == pd.Timestamp("2030-03-31")
    assert estate.sites.loc["A", "backlog_cost"] == 0.0  # optional money defaults to nothing
    assert estate.services.loc["S2", "movable"]  # services may move unless told otherwise
    assert estate.partners == ["COUNCIL", "FIRE"]


def test_lon_lat_columns_are_reprojected_to_british_national_grid(tmp_path):
    sites = site_rows()
    for row in sites:
        del row["easting"], row["northing"]
    sites[0].update(lon="-0.124625", lat="51.500729")  # Big Ben, a published OS grid reference
    sites[1].update(lon="-0.7830", lat="54.1410")
    sites[2].update(lon="-0.7720", lat="54.1480")
    estate = load_estate(write_csvs(tmp_path, sites, service_rows()))
    big_ben = estate.sites.loc["A"].geometry
    assert big_ben.x == pytest.approx(530_268, abs=30)
    assert big_ben.y == pytest.approx(179_640, abs=30)


def test_missing_column_is_named(tmp_path):
    sites = site_rows()
    for row in sites:
        del row["running_cost"]
    problems = problems_of(write_csvs(tmp_path, sites, service_rows()))
    [problem] = only(problems, "running_cost")
    assert problem.file == "sites.csv" and problem.row_id is None
    assert "column 'running_cost'" in problem.expected


def test_mistyped_number_names_id_column_and_value(tmp_path):
    sites = site_rows()
    sites[1]["gia_m2"] = "about 300"
    problems = problems_of(write_csvs(tmp_path, sites, service_rows()))
    [problem] = problems
    assert (problem.row_id, problem.column, problem.expected) == ("B", "gia_m2", "a number")
    assert problem.found == "'about 300'"
    assert "sites.csv, id B, column 'gia_m2': expected a number, found 'about 300'" in str(problem)


def test_duplicate_ids_are_reported(tmp_path):
    sites = site_rows()
    sites[2]["site_id"] = "A"
    problems = problems_of(write_csvs(tmp_path, sites, service_rows()))
    [problem] = only(problems, "site_id")
    assert problem.row_id == "A" and problem.expected == "a unique id"
    assert problem.found == "2 rows"


def test_service_at_unknown_site(tmp_path):
    services = service_rows()
    services[0]["current_site"] = "Z"
    [problem] = problems_of(write_csvs(tmp_path, site_rows(), services))
    assert (problem.file, problem.row_id, problem.column) == ("services.csv", "S1", "current_site")
    assert problem.found == "'Z'"


def test_negative_area_and_cost(tmp_path):
    sites = site_rows()
    sites[0]["gia_m2"] = "-5"
    sites[1]["running_cost"] = "-100"
    problems = problems_of(write_csvs(tmp_path, sites, service_rows()))
    found = {(p.row_id, p.column, p.expected) for p in problems}
    assert ("A", "gia_m2", "a number greater than 0") in found
    assert ("B", "running_cost", "a number of 0 or more") in found


def test_missing_geometry(tmp_path):
    sites = site_rows()
    sites[1]["easting"] = ""
    sites[1]["northing"] = ""
    [problem] = problems_of(write_csvs(tmp_path, sites, service_rows()))
    assert (problem.row_id, problem.column) == ("B", "geometry")


def test_invalid_geometry_in_a_geopackage(tmp_path):
    bowtie = Polygon([(478000, 471000), (478100, 471100), (478100, 471000), (478000, 471100)])
    frame = pd.DataFrame(site_rows()).drop(columns=["easting", "northing"])
    sites = gpd.GeoDataFrame(
        frame, geometry=[bowtie, Point(479500, 472000), Point(480200, 472900)], crs=27700
    )
    path = tmp_path / "estate.gpkg"
    sites.to_file(path, layer="sites")
    gpd.GeoDataFrame(pd.DataFrame(service_rows())).to_file(path, layer="services")
    [problem] = problems_of(path)
    assert (problem.file, problem.row_id, problem.column) == ("estate.gpkg:sites", "A", "geometry")
    assert problem.expected == "a valid geometry"


def test_unknown_tenure_and_status(tmp_path):
    sites = site_rows()
    sites[0]["tenure"] = "rented"
    sites[1]["status"] = "closed"
    problems = problems_of(write_csvs(tmp_path, sites, service_rows()))
    tenure, status = only(problems, "tenure"), only(problems, "status")
    assert tenure[0].row_id == "A" and tenure[0].found == "'rented'"
    assert "freehold, leasehold" in tenure[0].expected
    assert status[0].row_id == "B" and "operational, surplus, candidate" in status[0].expected


def test_service_larger_than_any_site(tmp_path):
    services = service_rows()
    services[0]["space_m2"] = "5000"
    [problem] = problems_of(write_csvs(tmp_path, site_rows(), services))
    assert (problem.row_id, problem.column) == ("S1", "space_m2")
    assert "800 m2" in problem.expected


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_missing_crs(tmp_path):
    frame = pd.DataFrame(site_rows()).drop(columns=["easting", "northing"])
    sites = gpd.GeoDataFrame(
        frame, geometry=[Point(478500, 471700), Point(479500, 472000), Point(480200, 472900)]
    )
    path = tmp_path / "nocrs.gpkg"
    sites.to_file(path, layer="sites")
    gpd.GeoDataFrame(pd.DataFrame(service_rows())).to_file(path, layer="services")
    problems = problems_of(path)
    [problem] = only(problems, "geometry")
    assert problem.row_id is None and "coordinate reference system" in problem.expected


def test_candidate_needs_a_build_cost(tmp_path):
    sites = site_rows()
    sites[2]["build_cost"] = ""
    [problem] = problems_of(write_csvs(tmp_path, sites, service_rows()))
    assert (problem.row_id, problem.column) == ("C", "build_cost")


def test_bad_yes_no_and_bad_date(tmp_path):
    sites = site_rows()
    sites[0]["listed"] = "perhaps"
    sites[1]["lease_break"] = "next spring"
    problems = problems_of(write_csvs(tmp_path, sites, service_rows()))
    assert {(p.row_id, p.column) for p in problems} == {("A", "listed"), ("B", "lease_break")}


def test_commas_are_read_only_between_thousands(tmp_path):
    """£250,000 is a quarter of a million; 1,5 is one and a half to some, never 15."""
    sites = site_rows()
    sites[0]["market_value"] = "£ 250,000"
    sites[1]["gia_m2"] = "1,5"
    problems = problems_of(write_csvs(tmp_path, sites, service_rows()))
    assert [(p.row_id, p.column, p.found) for p in problems] == [("B", "gia_m2", "'1,5'")]
    sites[1]["gia_m2"] = "1,300"
    estate = load_estate(write_csvs(tmp_path, sites, service_rows()))
    assert estate.sites.loc["A", "market_value"] == 250_000
    assert estate.sites.loc["B", "gia_m2"] == 1_300


def test_service_types_spelt_almost_as_the_projects_are_named(tmp_path):
    services = service_rows()
    services[0]["service_type"] = "Fire Station"
    services[1]["service_type"] = "youth_centre"  # a type of the estate's own: fine
    problems = problems_of(write_csvs(tmp_path, site_rows(), services))
    assert [(p.row_id, p.column, p.expected) for p in problems] == [
        (services[0]["service_id"], "service_type", "the service type 'fire_station'")
    ]


def test_a_lease_that_ends_before_its_break_is_refused(tmp_path):
    sites = site_rows()
    sites[1]["lease_break"], sites[1]["lease_end"] = "2030-03-31", "2029-03-31"
    [problem] = problems_of(write_csvs(tmp_path, sites, service_rows()))
    assert (problem.row_id, problem.column, problem.found) == ("B", "lease_end", "2029-03-31")
    assert problem.expected == "a lease end on or after its break (2030-03-31)"


def test_windows_text_is_named_with_its_line_and_blank_rows_are_no_rows(tmp_path):
    sites = site_rows()
    sites[2]["name"] = "Café"
    path = write_csvs(tmp_path, sites, service_rows())
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    [problem] = problems_of(path)
    assert problem.file == "sites.csv" and "not UTF-8 at line 4" in problem.found
    assert "CSV UTF-8" in problem.found
    path.write_text(path.read_bytes().decode("cp1252") + ",,,,,,,,,\n ,,,,,,,,,\n")
    assert list(load_estate(path).sites.index) == ["A", "B", "C"]
    # Far down a long file (the reader decodes in chunks), the line is still the file's.
    lines = path.read_text().splitlines()
    filler = [lines[1].replace("A,", f"A{i},", 1) for i in range(20_000)]
    path.write_bytes("\n".join([*lines[:2], *filler, lines[3], ""]).encode("cp1252"))
    [problem] = problems_of(path)
    assert f"not UTF-8 at line {20_003}" in problem.found


def test_a_file_separated_by_semicolons_is_named_as_such(tmp_path):
    path = write_csvs(tmp_path, site_rows(), service_rows())
    path.write_text(path.read_text().replace(",", ";"))
    [problem] = problems_of(path)
    assert problem.file == "sites.csv" and "separated by semicolons" in problem.found


def test_a_geopackage_date_field_is_a_date(tmp_path):
    """A GeoPackage stores its date-times with a time zone (Z): still just a date."""
    sites = pd.DataFrame(site_rows())
    # Written as midnight in Britain: in summer (BST) that is 23:00 UTC the day before.
    sites["lease_break"] = pd.to_datetime(sites["lease_break"]).dt.tz_localize("Europe/London")
    frame = gpd.GeoDataFrame(
        sites.drop(columns=["easting", "northing"]),
        geometry=gpd.points_from_xy(
            sites["easting"].astype(float), sites["northing"].astype(float)
        ),
        crs="EPSG:27700",
    )
    path = tmp_path / "estate.gpkg"
    frame.to_file(path, layer="sites", driver="GPKG")
    pd.DataFrame(service_rows()).to_csv(tmp_path / "services.csv", index=False)
    estate = load_estate(path, services=tmp_path / "services.csv")
    assert estate.sites.loc["B", "lease_break"] == pd.Timestamp("2030-03-31")


def test_partner_codes_spelt_two_ways_are_named(tmp_path):
    """'FIRE' and 'fire' would be two partners with two ledgers: the rarer spelling is named."""
    sites, services = site_rows(), service_rows()
    services[-1]["org"] = "Fire"
    problems = problems_of(write_csvs(tmp_path, sites, services))
    assert [(p.file, p.row_id, p.column, p.found) for p in problems] == [
        ("services.csv", services[-1]["service_id"], "org", "'Fire'")
    ]
    assert problems[0].expected == "the partner code 'FIRE' as elsewhere"


def test_dates_are_read_only_year_month_day(tmp_path):
    """01/05/2029 is 1 May to a British officer and 5 January to a parser: never guessed."""
    sites = site_rows()
    sites[1]["lease_break"] = "01/05/2029"
    sites[1]["lease_end"] = "2031-03-31 00:00:00"  # a spreadsheet's date cell, read as text
    problems = problems_of(write_csvs(tmp_path, sites, service_rows()))
    [problem] = problems
    assert (problem.row_id, problem.column, problem.found) == ("B", "lease_break", "'01/05/2029'")
    assert "YYYY-MM-DD" in problem.expected
    sites[1]["lease_break"] = "2029-05-01"
    estate = load_estate(write_csvs(tmp_path, sites, service_rows()))
    assert estate.sites.loc["B", "lease_break"] == pd.Timestamp("2029-05-01")
    assert estate.sites.loc["B", "lease_end"] == pd.Timestamp("2031-03-31")


def test_columns_named_almost_as_one_that_is_read_are_named(tmp_path):
    """A misspelt column would be ignored and its default used (services free to move, no
    lease break): each is named with the column it surely means, and a repeated header too.
    Columns that mean nothing to totalcapital are kept as they are."""
    sites, services = site_rows(), service_rows()
    for row in sites:
        row["lease_brake"] = row.pop("lease_break", "")
        row["Market_Value"] = row.pop("market_value")
        # Columns of the user's own that only look like ours, and coordinates in capitals
        # (found in any capitals): all fine.
        row.update(notes="kept", build_year="1968", name2="x", market="town")
        row["Easting"], row["Northing"] = row.pop("easting"), row.pop("northing")
    for row in services:
        row.update(moveable="no", service="library")
    path = write_csvs(tmp_path, sites, services)
    text = path.read_text().splitlines()
    path.write_text("\n".join([text[0] + ",name", *(line + ",again" for line in text[1:])]))
    problems = problems_of(path)
    named = {(p.file, p.column, p.expected.split("'")[1]) for p in problems if p.row_id is None}
    assert named == {
        ("sites.csv", "lease_brake", "lease_break"),
        ("sites.csv", "Market_Value", "market_value"),
        ("sites.csv", "name", "name"),  # the header written twice
        ("services.csv", "moveable", "movable"),
        ("sites.csv", "market_value", "market_value"),  # so the required column is missing
    }
    assert not [p for p in problems if p.row_id is not None]


def test_a_shapefiles_cut_short_names_are_named_with_the_whole_name():
    from totalcapital._text import meant_name

    read = ("lease_break", "build_years", "backlog_cost")
    assert meant_name("lease_brea", read, cut_short=True) == "lease_break"
    assert meant_name("build_year", read, cut_short=True) == "build_years"
    assert meant_name("build_year", read, plurals=True) is None  # elsewhere: year built
    assert meant_name("backlog", read, cut_short=True) is None  # not cut at 10
    assert meant_name("NHSE", ["NHS"]) is None and meant_name("nycc", ["NYCC"]) == "NYCC"


def test_one_slip_of_the_keyboard_is_a_near_miss():
    from totalcapital._text import meant_name

    read = ("movable", "lease_end", "custody", "covenant", "staff", "build_years", "name")
    assert meant_name("movabel", read) == "movable"  # two letters swapped
    assert meant_name("lease_edn", read) == "lease_end"
    assert meant_name("custdoy", read) == "custody"
    assert meant_name("covenat", read) == "covenant"  # one letter missing
    assert meant_name("moveable", read) == "movable"  # one letter too many
    assert meant_name("name2", read) is None and meant_name("staf", read) is None  # short
    assert meant_name("build_year", read, plurals=True) is None
    assert meant_name("fire_stations", ["fire_station"]) == "fire_station"  # a scenario's


def test_a_coordinate_column_written_twice_in_other_capitals_is_named(tmp_path):
    sites = site_rows()
    for row in sites:
        row["Easting"] = str(float(row["easting"]) + 50_000)
    [problem] = problems_of(write_csvs(tmp_path, sites, service_rows()))
    assert problem.column == "Easting" and "in any capitals" in problem.expected


def test_coordinates_outside_great_britain_are_caught(tmp_path):
    sites = site_rows()
    sites[0]["easting"], sites[0]["northing"] = "471700", "4785000"  # a slip of the keyboard
    [problem] = problems_of(write_csvs(tmp_path, sites, service_rows()))
    assert problem.row_id == "A" and "Great Britain" in problem.expected


def test_every_problem_is_reported_at_once(tmp_path):
    sites = site_rows()
    sites[0]["tenure"] = "rented"
    sites[1]["gia_m2"] = "lots"
    sites[2]["site_id"] = "B"
    services = service_rows()
    services[1]["current_site"] = "Q"
    problems = problems_of(write_csvs(tmp_path, sites, services))
    assert {(p.row_id, p.column) for p in problems} >= {
        ("A", "tenure"),
        ("B", "gia_m2"),
        ("B", "site_id"),
        ("S2", "current_site"),
    }
    message = str(EstateValidationError(problems))
    assert message.count("\n  - ") == len(problems)


def test_missing_file_is_a_validation_error(tmp_path):
    [problem] = problems_of(tmp_path / "nowhere.gpkg")
    assert problem.found == "no such file"


def test_workbook_with_sheets(tmp_path):
    path = tmp_path / "estate.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame(site_rows()).to_excel(writer, sheet_name="sites", index=False)
        pd.DataFrame(service_rows()).to_excel(writer, sheet_name="services", index=False)
    estate = load_estate(path)
    assert len(estate.sites) == 3 and estate.services.loc["S1", "current_site"] == "A"
    bad = site_rows()
    bad[0]["owner"] = ""
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame(bad).to_excel(writer, sheet_name="sites", index=False)
        pd.DataFrame(service_rows()).to_excel(writer, sheet_name="services", index=False)
    [problem] = problems_of(path)
    assert (problem.file, problem.row_id, problem.column) == ("estate.xlsx:sites", "A", "owner")


def test_a_spreadsheet_error_cell_is_named_not_read_as_nothing(tmp_path):
    """#DIV/0! in an optional £ column would otherwise be a blank, that is £0."""
    from openpyxl import load_workbook

    path = tmp_path / "estate.xlsx"
    sites = site_rows()
    for row in sites:
        row["backlog_cost"] = "0"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame(sites).to_excel(writer, sheet_name="sites", index=False)
        pd.DataFrame(service_rows()).to_excel(writer, sheet_name="services", index=False)
    book = load_workbook(path)
    header = [cell.value for cell in book["sites"][1]]
    cell = book["sites"].cell(row=3, column=header.index("backlog_cost") + 1)
    cell.value = "#DIV/0!"
    assert cell.data_type == "e"
    book.save(path)
    [problem] = problems_of(path)
    assert (problem.row_id, problem.column, problem.found) == ("B", "backlog_cost", "'#DIV/0!'")


def test_from_frames_validates_in_memory_registers():
    sites = pd.DataFrame(site_rows())
    sites.loc[0, "status"] = "derelict"
    with pytest.raises(EstateValidationError, match="id A, column 'status'"):
        Estate.from_frames(sites, pd.DataFrame(service_rows()))


def test_demo_estate_is_clean_and_complete():
    estate = load_estate(DEMO)
    assert len(set(estate.sites["owner"])) >= 5
    assert 15 <= len(estate.sites) <= 40
    assert (estate.sites["status"] == "candidate").sum() == 1
    assert (estate.sites["tenure"] == "leasehold").sum() >= 2
    assert estate.sites["lease_break"].notna().sum() >= 2
    assert (estate.sites["covenant"] != "").any()
    assert estate.demand is not None and estate.demand["weight"].sum() > 30_000


@pytest.mark.shared_data
def test_postcode_only_rows_are_geocoded_and_typos_named(tmp_path):
    sites = site_rows()
    for row in sites:
        del row["easting"], row["northing"]
    sites[0]["postcode"] = "le15 6qa "  # Oakham, Rutland; messy spacing and case
    sites[1]["postcode"] = "LE15 9AA"
    sites[2]["postcode"] = "LD65 2GW"  # the Home Office list's typo for LE65
    path = write_csvs(tmp_path, sites, service_rows())
    problems = problems_of(path, postcodes=SHARED / "england" / "codepoint_open")
    [problem] = problems
    assert (problem.row_id, problem.column, problem.found) == ("C", "postcode", "'LD65 2GW'")
    sites[2]["postcode"] = "LE15 6RH"
    estate = load_estate(
        write_csvs(tmp_path, sites, service_rows()),
        postcodes=SHARED / "england" / "codepoint_open",
    )
    oakham = estate.sites.loc["A"].geometry
    assert 480_000 < oakham.x < 490_000 and 300_000 < oakham.y < 312_000
