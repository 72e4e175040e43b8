"""The dated programme in what a run writes: workbook sheets, decision record, the command."""

from __future__ import annotations

import hashlib
import json

import openpyxl
import pytest
from conftest import SCENARIOS, invoke

from totalcapital.results import load_result


@pytest.fixture(scope="module")
def hub(demo_runs):
    folder = demo_runs["blue-light-hub"][0]
    return folder, load_result(folder)


def test_workbook_has_the_programme_with_its_chart_and_the_assumptions(hub):
    folder, result = hub
    book = openpyxl.load_workbook(folder / "results.xlsx")
    assert book.sheetnames[:2] == ["summary", "Programme"]
    sheet = book["Programme"]
    assert len(sheet._charts) == 1
    total = result.programme[result.programme["partner"] == "Total"].reset_index(drop=True)
    header = [cell.value for cell in sheet[2]]
    years = [sheet.cell(row=3 + i, column=1).value for i in range(len(total))]
    assert years == total["year_label"].tolist()
    receipts = header.index("Receipts (£)") + 1
    cumulative = header.index("Cumulative net cash (£)") + 1
    for i, row in total.iterrows():
        assert sheet.cell(row=3 + i, column=receipts).value == pytest.approx(row["receipts"])
        assert sheet.cell(row=3 + i, column=cumulative).value == pytest.approx(
            row["cumulative_net_cash"]
        )
    assumptions = {
        row[0].value: row[1].value
        for row in book["Assumptions"].iter_rows(min_row=3)
        if row[0].value
    }
    assert assumptions["Discount rate"] == result.scenario["finance"]["discount_rate"]
    assert assumptions["Planning"] == "a programme over 10 financial years"
    assert assumptions["A capital budget counts"] == "builds, moves"
    assert "fire_station within 10.0 minutes, no worse than today, in every year" in (
        assumptions.values()
    )
    assert {"compensation", "fair shares"} <= set(book.sheetnames)


def test_decision_record_lists_every_dated_decision_and_hashes_the_base_chain(hub):
    folder, result = hub
    record = json.loads((folder / "decision_record.json").read_text())
    sites = {row["site_id"]: row for row in record["decisions"]["sites"]}
    assert set(sites) == set(result.sites.index)
    assert sites["MAL-HUB"]["decision"] == "build"
    assert sites["MAL-HUB"]["financial_year"] == result.sites.loc["MAL-HUB", "decision_year"]
    assert sites["MAL-FIRE"]["financial_year"] == result.sites.loc["MAL-FIRE", "decision_year"]
    moves = {row["service_id"]: row["financial_year"] for row in record["decisions"]["moves"]}
    assert moves == result.moves.set_index("service_id")["move_year"].to_dict()
    # blue-light-hub builds on colocate, which builds on baseline: all three are hashed.
    chain = [record["inputs"][key] for key in ("scenario", "scenario_base_1", "scenario_base_2")]
    names = [entry["path"].rsplit("/", 1)[-1] for entry in chain]
    assert names == ["blue-light-hub.yaml", "colocate.yaml", "baseline.yaml"]
    for entry, name in zip(chain, names, strict=True):
        digest = hashlib.sha256((SCENARIOS / name).read_bytes()).hexdigest()
        assert entry["sha256"] == digest


def test_programme_command_prints_every_year_and_partner(hub):
    folder, result = hub
    printed = invoke("programme", folder, "--by-partner")
    assert printed.exit_code == 0, printed.output
    for label in result.programme["year_label"].unique():
        assert label in printed.output
    for partner in result.ledger.index:
        assert f"Programme by financial year, {partner}" in printed.output
    total = result.programme.query("partner == 'Total'")["net_cash"].sum()
    assert f"£{total:,.0f}" in printed.output
    assert "Fair shares: both plans" in printed.output


def test_programme_command_refuses_a_folder_that_is_not_a_result(tmp_path):
    printed = invoke("programme", tmp_path)
    assert printed.exit_code == 1
    assert "Traceback" not in printed.output
