"""Workbook, comparison table, decision record and terminal tables of a result."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime, timedelta, timezone

import openpyxl
import pandas as pd
import pytest
from result_fixture import RECEIPTS, SCRIPT_NAME, make_result
from rich.console import Console

from totalcapital import exports


def sheet_rows(sheet) -> list[tuple]:
    return [row for row in sheet.iter_rows(values_only=True)]


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    path = exports.write_xlsx(make_result(), tmp_path_factory.mktemp("xlsx") / "run.xlsx")
    return openpyxl.load_workbook(path)


def test_workbook_has_the_sheets_a_finance_officer_reads(workbook):
    assert workbook.sheetnames == [
        "summary",
        "disposals",
        "moves",
        "ledger",
        "coverage",
        "sites",
        "Assumptions",
    ]


def test_summary_totals_equal_the_results_totals(workbook):
    result = make_result()
    rows = sheet_rows(workbook["summary"])
    totals = {field: value for _, value, field in rows if field in result.totals}
    assert totals == result.totals
    assert rows[0][0] == "Scenario: colocate"
    solver = {field: value for _, value, field in rows if field in result.solve}
    assert solver["status"] == "optimal"
    assert solver["gap"] == pytest.approx(result.solve["gap"])


def test_money_is_formatted_as_pounds(workbook):
    summary = workbook["summary"]
    (receipts,) = [row for row in summary.iter_rows() if row[2].value == "receipts"]
    assert receipts[1].number_format == exports.MONEY_FORMAT
    assert "£" in receipts[1].number_format
    (moved,) = [row for row in summary.iter_rows() if row[2].value == "services_moved"]
    assert "£" not in moved[1].number_format
    moves = workbook["moves"]
    headers = [cell.value for cell in moves[1]]
    assert headers == [
        "Service",
        "Organisation",
        "Service type",
        "From site",
        "To site",
        "Distance (km)",
        "Fit-out cost (£)",
        "Moving cost (£)",
        "Total cost (£)",
    ]
    assert moves.cell(row=2, column=9).value == 45_000
    assert "£" in moves.cell(row=2, column=9).number_format
    assert moves.column_dimensions["C"].width >= len("ambulance_station")


def test_disposals_sheet_lists_sales_and_receipts_by_partner(workbook):
    rows = sheet_rows(workbook["disposals"])
    header = rows[1]
    site_rows = rows[2:5]
    assert [r[0] for r in site_rows] == ["S2", "S3", "S5"]
    receipt_col = header.index("Receipt (£)")
    assert {r[0]: r[receipt_col] for r in site_rows} == {s: RECEIPTS[s] for s in ("S2", "S3", "S5")}
    assert [r[header.index("Decision")] for r in site_rows] == ["Dispose", "Dispose", "Exit lease"]
    (partner_header_at,) = [i for i, r in enumerate(rows) if r[0] == "Partner"]
    partner_header = rows[partner_header_at]
    by_partner = {r[0]: r for r in rows[partner_header_at + 1 :] if r[0]}
    receipts = partner_header.index("Receipts (£)")
    assert by_partner["RDC"][receipts] == 1_250_000
    assert by_partner["YAS"][receipts] == 450_000
    assert by_partner["Total"][receipts] == make_result().totals["receipts"]


def test_sites_sheet_keeps_estate_text_as_it_is(workbook):
    rows = sheet_rows(workbook["sites"])
    header = rows[0]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["S3"][header.index("Name")] == SCRIPT_NAME
    assert by_id["S3"][header.index("Decision")] == "dispose"
    assert by_id["S1"][header.index("Easting")] == 478900
    assert "geometry" not in header


def test_ledger_and_coverage_sheets(workbook):
    ledger = sheet_rows(workbook["ledger"])
    assert ledger[0][0] == "Partner" and "NPV gain (£)" in ledger[0]
    assert [r[0] for r in ledger[1:]] == ["NYCC", "NYFRS", "NYP", "RDC", "YAS"]
    coverage = workbook["coverage"]
    header = [c.value for c in coverage[1]]
    after = header.index("Share covered after") + 1
    assert coverage.cell(row=2, column=after).value == pytest.approx(3900 / 5750)
    assert coverage.cell(row=2, column=after).number_format == "0.0%"


def other_result():
    """A second plan: RDC sells nothing, a new partner sells, fire cover is kept."""
    result = make_result("keep_fire")
    ledger = result.ledger.copy()
    ledger.loc["RDC", "receipts"] = 0.0
    ledger.loc["NHS", :] = 0.0
    ledger.loc["NHS", "receipts"] = 200_000.0
    coverage = result.coverage.copy()
    coverage.loc[0, "share_after"] = 1.0
    coverage = pd.concat(
        [coverage, pd.DataFrame({"name": ["library_20min"], "share_after": [0.95]})],
        ignore_index=True,
    )
    totals = dict(result.totals, receipts=650_000.0, npv_saving=3_000_000.0, sites_disposed=1)
    return dataclasses.replace(result, ledger=ledger, coverage=coverage, totals=totals)


def test_comparison_table_sets_two_plans_side_by_side():
    table = exports.comparison_table(make_result(), other_result())
    assert list(table.columns) == ["colocate", "keep_fire", "difference"]
    assert table.loc["NPV saving (£)"].tolist() == [4_730_000.0, 3_000_000.0, -1_730_000.0]
    assert table.loc["Capital receipts (£)"].tolist() == [1_700_000.0, 650_000.0, -1_050_000.0]
    assert table.loc["Receipts: RDC (£)"].tolist() == [1_250_000.0, 0.0, -1_250_000.0]
    assert table.loc["Receipts: NHS (£)"].tolist() == [0.0, 200_000.0, 200_000.0]
    assert table.loc["Sites disposed"].tolist() == [2.0, 1.0, -1.0]
    assert table.loc["Annual running-cost saving (£/yr)", "difference"] == 0.0
    assert table.loc["Cover after: fire_10min (share)"].tolist() == pytest.approx(
        [3900 / 5750, 1.0, 1 - 3900 / 5750]
    )
    library = table.loc["Cover after: library_20min (share)"]
    assert pd.isna(library["colocate"]) and library["keep_fire"] == 0.95
    assert "Whole-life cost of the plan (NPV, £)" in table.index
    assert "Capital spend, backlog included (£)" in table.index


def test_comparison_of_two_runs_with_one_name_keeps_both_columns():
    table = exports.comparison_table(make_result(), make_result())
    assert list(table.columns) == ["colocate (A)", "colocate (B)", "difference"]
    assert (table["difference"].dropna() == 0).all()


def test_decision_record_states_inputs_scenario_solver_and_versions(tmp_path):
    estate = tmp_path / "estate.gpkg"
    estate.write_bytes(b"estate bytes")
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("name: colocate\n", encoding="utf-8")
    result = make_result()
    record = exports.decision_record(
        result, {"estate": estate, "scenario": scenario}, {"load": 0.5, "travel": 1.25}
    )
    assert record["inputs"]["estate"] == {
        "path": str(estate),
        "bytes": 12,
        "sha256": hashlib.sha256(b"estate bytes").hexdigest(),
    }
    assert record["inputs"]["scenario"]["sha256"] == hashlib.sha256(b"name: colocate\n").hexdigest()
    assert record["scenario"] == result.scenario
    assert record["solver"] == "highs"
    assert record["status"] == "optimal"
    assert record["solver_status"] == "Optimal"
    assert record["gap"] == result.solve["gap"]
    assert record["best_bound"] == result.solve["best_bound"]
    assert record["times_seconds"] == {
        "build_seconds": 0.12,
        "solve_seconds": 0.48,
        "load": 0.5,
        "travel": 1.25,
    }
    assert set(record["packages"]) == {"python", *exports.RECORDED_PACKAGES}
    assert record["packages"]["pandas"] == pd.__version__
    created = datetime.fromisoformat(record["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=5)
    assert record["platform"]["system"]

    path = exports.write_decision_record(record, tmp_path / "record" / "decision.json")
    assert json.loads(path.read_text(encoding="utf-8")) == record


def test_decision_record_refuses_a_missing_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.gpkg"):
        exports.decision_record(make_result(), {"estate": tmp_path / "missing.gpkg"}, {})


def render(*tables) -> str:
    console = Console(record=True, width=200, color_system=None)
    for table in tables:
        console.print(table)
    return console.export_text()


def test_summary_tables_show_receipts_cover_and_solver():
    result = make_result()
    result.sites.loc["S2", "name"] = "[bold red]Ambulance[/]"
    text = render(*exports.summary_tables(result))
    assert "Disposals and receipts by partner" in text
    assert "£1,250,000" in text and "£1,700,000" in text
    assert SCRIPT_NAME in text
    assert "[bold red]Ambulance[/]" in text
    assert "67.8%" in text and "88.7%" in text
    assert "0.005%" in text
    assert "optimal" in text


def test_comparison_rich_table_formats_each_measure():
    text = render(exports.comparison_rich_table(make_result(), other_result()))
    row = next(line for line in text.splitlines() if "Capital receipts" in line)
    assert "£1,700,000" in row and "£650,000" in row and "-£1,050,000" in row
    row = next(line for line in text.splitlines() if "fire_10min" in line)
    assert "67.8%" in row and "100.0%" in row
    row = next(line for line in text.splitlines() if "Sites disposed" in line)
    assert "£" not in row


def test_a_comparison_says_how_each_plan_was_solved():
    """A difference between a proven plan and one stopped by the clock may be the clock's:
    each plan's status and gap are shown beside the figures."""
    stopped = other_result()
    stopped = dataclasses.replace(
        stopped, solve={**stopped.solve, "status": "time_limit", "gap": 0.0325}
    )
    table = exports.comparison_table(make_result(), stopped)
    gap = table.loc["Optimality gap (share)"]
    assert gap["colocate"] == make_result().solve["gap"] and gap["keep_fire"] == 0.0325
    text = render(exports.comparison_rich_table(make_result(), stopped))
    row = next(line for line in text.splitlines() if "Solve" in line)
    assert make_result().solve["status"] in row and "time_limit" in row
    row = next(line for line in text.splitlines() if "Optimality gap" in line)
    assert "3.2%" in row


def test_a_figure_that_does_not_exist_is_null_in_strict_json(tmp_path):
    """No bound (the solver never ran) is written as null, which every JSON reader takes,
    and read back as a missing figure."""
    import math

    from totalcapital.results import load_result, write_result

    result = make_result()
    result.solve = {**result.solve, "best_bound": math.nan, "gap": math.nan}
    write_result(result, tmp_path / "run")

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    summary = json.loads((tmp_path / "run" / "summary.json").read_text(), parse_constant=refuse)
    assert summary["solve"]["best_bound"] is None and summary["solve"]["gap"] is None
    loaded = load_result(tmp_path / "run")
    assert math.isnan(loaded.solve["best_bound"]) and math.isnan(loaded.solve["gap"])
    assert loaded.solve["objective"] == result.solve["objective"]
