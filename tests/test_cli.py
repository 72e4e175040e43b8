"""The command line on the demo estate: exit codes, output folders, summaries, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from totalcapital.cli import EXIT_BAD_INPUT, EXIT_INFEASIBLE, app
from totalcapital.estate import load_estate
from totalcapital.results import load_result

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DEMO = ROOT / "data" / "estates" / "malton.gpkg"

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_demo_scenarios_solve_to_optimal_with_standards_met(demo_runs):
    for name, (folder, map_path, _) in demo_runs.items():
        result = load_result(folder)
        assert result.solve["status"] == "optimal", name
        assert result.solve["gap"] <= 1e-4
        assert result.coverage["met"].all(), name
        assert (result.coverage["share_after"] >= result.coverage["share_before"] - 1e-9).all()
        assert map_path.is_file() and map_path.stat().st_size > 10_000
        for written in (
            "sites.csv",
            "moves.csv",
            "disposals.csv",
            "ledger.csv",
            "coverage.csv",
            "summary.json",
            "results.gpkg",
            "results.xlsx",
            "decision_record.json",
        ):
            assert (folder / written).is_file(), (name, written)


def test_demo_answers_make_sense(demo_runs):
    baseline = load_result(demo_runs["baseline"][0])
    colocate = load_result(demo_runs["colocate"][0])
    hub = load_result(demo_runs["blue-light-hub"][0])
    # Today: nothing moves, nothing is sold, the plan costs what today costs.
    assert baseline.moves.empty and baseline.totals["sites_disposed"] == 0
    assert baseline.totals["npv_saving"] == pytest.approx(0.0, abs=1.0)
    # Sharing saves money and sells the empty police houses and depot.
    assert colocate.totals["npv_saving"] > 0
    disposed = set(colocate.sites.index[colocate.sites["decision"] == "dispose"])
    assert {"OMR-POLH", "NOR-DEPOT"} <= disposed
    # The town-centre building becomes the joint front office.
    assert colocate.sites.loc["MAL-TCO", "decision"] == "host"
    # The hub is worth building: it replaces the poorly placed fire station and saves more.
    assert hub.sites.loc["MAL-HUB", "decision"] == "build"
    assert hub.sites.loc["MAL-FIRE", "decision"] == "dispose"
    assert hub.totals["npv_saving"] > colocate.totals["npv_saving"]
    # The covenanted HQ is sold at no more than its covenant allows.
    rdc_hq = colocate.sites.loc["OMR-RDCHQ"]
    if rdc_hq["decision"] == "dispose":
        assert rdc_hq["receipt"] <= rdc_hq["covenant_receipt_cap"]


def test_summary_of_the_written_folder_matches_the_run(demo_runs):
    folder, _, run_output = demo_runs["colocate"]
    result = invoke("summary", folder)
    assert result.exit_code == 0
    saving = load_result(folder).totals["npv_saving"]
    assert f"£{saving:,.0f}" in result.output
    assert f"£{saving:,.0f}" in run_output
    for partner in ("NYCC", "NYFRS", "NYP", "RDC", "YAS", "NHS"):
        assert partner in result.output


def test_geopackage_results_read_back_with_the_same_rows(demo_runs):
    folder = demo_runs["blue-light-hub"][0]
    result = load_result(folder)
    gpkg = folder / "results.gpkg"
    sites = gpd.read_file(gpkg, layer="sites")
    moves = gpd.read_file(gpkg, layer="moves")
    demand = gpd.read_file(gpkg, layer="demand")
    assert len(sites) == len(load_estate(DEMO).sites)
    assert len(moves) == len(result.moves) == result.totals["services_moved"]
    assert len(demand) == len(load_estate(DEMO).demand)
    assert sites.crs.to_epsg() == 27700
    assert set(moves.geom_type) == {"LineString"}


def test_validate_clean_and_broken_registers(tmp_path):
    ok = invoke("validate", DEMO)
    assert ok.exit_code == 0 and "24 sites" in ok.output
    sites = load_estate(DEMO).sites.reset_index()
    sites.loc[sites["site_id"] == "MAL-FIRE", "tenure"] = "borrowed"
    sites.loc[sites["site_id"] == "PIC-LIB", "gia_m2"] = -10
    broken = tmp_path / "broken.gpkg"
    sites.to_file(broken, layer="sites")
    services = pd.DataFrame(load_estate(DEMO).services.reset_index())
    gpd.GeoDataFrame(services).to_file(broken, layer="services")
    bad = invoke("validate", broken)
    assert bad.exit_code == EXIT_BAD_INPUT
    assert "MAL-FIRE" in bad.output and "tenure" in bad.output and "borrowed" in bad.output
    assert "PIC-LIB" in bad.output and "gia_m2" in bad.output
    assert "Traceback" not in bad.output


def test_bad_scenario_writes_nothing(tmp_path):
    scenario = tmp_path / "typo.yaml"
    scenario.write_text(f"estate: {DEMO}\nrules: {{allow_mvoes: true}}\n", encoding="utf-8")
    result = invoke("run", scenario, "--output-dir", tmp_path / "out", "--maps-dir", tmp_path / "m")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "unknown key 'rules.allow_mvoes'" in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "m").exists()


def test_bad_estate_keeps_the_previous_results(tmp_path, demo_runs):
    out = tmp_path / "output"
    shutil.copytree(demo_runs["baseline"][0], out / "baseline")
    before = (out / "baseline" / "summary.json").read_bytes()
    register = tmp_path / "estate.gpkg"
    shutil.copy(DEMO, register)
    sites = gpd.read_file(register, layer="sites")
    sites.loc[0, "status"] = "mothballed"
    sites.to_file(register, layer="sites")
    scenario = tmp_path / "baseline.yaml"
    scenario.write_text(
        (SCENARIOS / "baseline.yaml")
        .read_text()
        .replace("../data/estates/malton.gpkg", str(register)),
        encoding="utf-8",
    )
    result = invoke("run", scenario, "--output-dir", out, "--maps-dir", tmp_path / "maps")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "status" in result.output and "mothballed" in result.output
    assert (out / "baseline" / "summary.json").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["baseline"]


def test_infeasible_scenario_says_why_and_exits_non_zero(tmp_path):
    scenario = tmp_path / "impossible.yaml"
    scenario.write_text(
        f"base: {SCENARIOS / 'colocate.yaml'}\n"
        "name: impossible\n"
        "standards:\n"
        "  - {name: fire_5min_everyone, service_types: [fire_station], minutes: 5, rule: all}\n",
        encoding="utf-8",
    )
    result = invoke("run", scenario, "--output-dir", tmp_path / "out", "--maps-dir", tmp_path / "m")
    assert result.exit_code == EXIT_INFEASIBLE
    assert "fire_5min_everyone" in result.output
    assert "AMPLEFORTH" in result.output  # a village no fire station reaches in 5 minutes
    assert not (tmp_path / "out").exists()


def run_with_override(scenario: str, override: str, out: Path, *options: str):
    """Run a demo scenario with a named override into ``out``."""
    return invoke(
        *options,
        "run",
        SCENARIOS / f"{scenario}.yaml",
        "--override",
        override,
        "--output-dir",
        out,
        "--maps-dir",
        out / "maps",
        "--no-tiles",
    )


def test_partners_no_worse_off_plans_alike_on_cbc_and_highs(tmp_path):
    """Partners with nothing to gain sit exactly on their row; CBC must not call it infeasible."""
    results = {}
    for solver in ("highs", "cbc"):
        out = tmp_path / solver
        chosen = ["--override", "cbc"] if solver == "cbc" else []
        result = invoke(
            "-q",
            "run",
            SCENARIOS / "colocate.yaml",
            "--override",
            "partners_no_worse_off",
            *chosen,
            "--output-dir",
            out,
            "--maps-dir",
            out / "maps",
            "--no-tiles",
        )
        assert result.exit_code == 0, result.output
        results[solver] = load_result(out / "colocate")
    highs, cbc = results["highs"], results["cbc"]
    assert highs.solve["status"] == cbc.solve["status"] == "optimal"
    assert cbc.solve["solver"] == "cbc"
    assert cbc.solve["objective"] == pytest.approx(highs.solve["objective"], rel=1e-9)
    assert (cbc.ledger["npv_gain"] >= -1.0).all()
    assert (highs.ledger["npv_gain"] >= -1.0).all()


def test_solver_banner_stays_off_standard_output(tmp_path):
    """Native code's banner (HiGHS prints one per process) never mixes with the summary."""
    import subprocess
    import sys

    code = "import sys; from totalcapital.cli import app; app(sys.argv[1:], standalone_mode=False)"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "-q",
            "run",
            str(SCENARIOS / "baseline.yaml"),
            "--output-dir",
            str(tmp_path / "out"),
            "--maps-dir",
            str(tmp_path / "maps"),
            "--no-tiles",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Disposals and receipts" in done.stdout
    assert "HiGHS" not in done.stdout + done.stderr


def test_override_changes_the_solver(tmp_path):
    result = run_with_override("colocate", "cbc", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "colocate" / "summary.json").read_text())
    assert record["solve"]["solver"] == "cbc"
    assert record["scenario"]["applied_overrides"] == ["cbc"]


def test_neighbourhood_search_override_reports_the_search_and_keeps_the_optimum(
    tmp_path, demo_runs
):
    result = run_with_override("blue-light-hub", "neighbourhood_search", tmp_path / "s")
    assert result.exit_code == 0, result.output
    assert "Neighbourhood search" in result.output
    searched = json.loads((tmp_path / "s" / "blue-light-hub" / "summary.json").read_text())
    # The search works on the timeless model: compare with the timeless run without it.
    plain = run_with_override("blue-light-hub", "timeless", tmp_path / "t", "-q")
    assert plain.exit_code == 0, plain.output
    default = json.loads((tmp_path / "t" / "blue-light-hub" / "summary.json").read_text())
    assert " improved, " in searched["solve"]["local_search"]
    assert searched["solve"]["local_search"].endswith(
        f"-> £{default['solve']['objective'] / 1e6:,.1f}m"
    )
    assert "local_search" not in default["solve"]
    assert searched["solve"]["status"] == default["solve"]["status"] == "optimal"
    assert searched["solve"]["objective"] == pytest.approx(default["solve"]["objective"])


def test_run_never_replaces_a_folder_that_is_not_a_result(tmp_path):
    precious = tmp_path / "output" / "colocate"
    precious.mkdir(parents=True)
    (precious / "estate.gpkg").write_bytes(b"the user's own file")
    result = invoke(
        "-q",
        "run",
        SCENARIOS / "colocate.yaml",
        "--output-dir",
        tmp_path / "output",
        "--maps-dir",
        tmp_path / "maps",
        "--no-tiles",
    )
    assert result.exit_code == EXIT_BAD_INPUT
    assert "not replacing it" in result.output
    assert (precious / "estate.gpkg").read_bytes() == b"the user's own file"
    assert sorted(p.name for p in precious.parent.iterdir()) == ["colocate"]


def test_ctrl_c_says_what_it_left_and_exits_130(monkeypatch, tmp_path):
    """Stopped mid-solve: one line saying nothing half-written is left, no traceback, and
    no result folder."""
    from totalcapital import pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.CoLocationModel, "solve", interrupted)
    result = runner.invoke(
        app,
        ["run", str(SCENARIOS / "baseline.yaml"), "--output-dir", str(tmp_path / "out"),
         "--maps-dir", str(tmp_path / "maps")],
    )  # fmt: skip
    assert result.exit_code == 130, result.output
    assert "Interrupted:" in result.output and "nothing half-written is left" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "baseline").exists()


def test_a_bad_scenario_and_a_bad_register_are_reported_together(tmp_path):
    """Both files' problems at once, not one file's now and the other's after the fix."""
    from test_estate import service_rows, site_rows, write_csvs

    sites = site_rows()
    sites[1]["gia_m2"] = "about 300"
    register = tmp_path / "register"
    register.mkdir()
    write_csvs(register, sites, service_rows())
    scenario = tmp_path / "both.yaml"
    scenario.write_text(f"name: both\nestate: {register}\nrules: {{alow_moves: true}}\n")
    result = runner.invoke(app, ["run", str(scenario), "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "unknown key 'rules.alow_moves'" in result.output
    assert "sites.csv, id B, column 'gia_m2': expected a number, found 'about 300'" in (
        result.output
    )
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()
