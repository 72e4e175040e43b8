"""Every demo figure the README quotes comes from the runs: re-run and compare."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from totalcapital.results import load_result

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def money_m(value: float) -> str:
    return f"£{value / 1e6:,.2f}m"


def share(value: float) -> str:
    return f"{value:.1%}"


def test_demo_figures_in_the_readme_are_the_runs(demo_runs):
    baseline = load_result(demo_runs["baseline"][0])
    colocate = load_result(demo_runs["colocate"][0])
    hub = load_result(demo_runs["blue-light-hub"][0])
    fire = hub.coverage.set_index("name").loc["fire_10min"]
    gains = hub.ledger["npv_gain"]
    fair = hub.fair_shares.set_index("plan")
    yearly = hub.compensation.groupby("financial_year")["amount"].sum()
    hub_site = hub.sites.loc["MAL-HUB"]
    quoted = {
        "today's whole-life cost": money_m(baseline.totals["npv_cost_before"]),
        "fire cover today": share(fire["share_before"]),
        "colocate saving": money_m(colocate.totals["npv_saving"]),
        "hub opens": f"{hub_site['decision_year']}-{(hub_site['decision_year'] + 1) % 100:02d}",
        "fire cover once the hub opens": share(fire["share_after"]),
        "hub saving": money_m(hub.totals["npv_saving"]),
        "fire and rescue's loss": money_m(-gains["NYFRS"]),
        "transfers a year": f"£{yearly.max():,.0f} a year",
        "no-partner-loses saving": money_m(fair.loc["every partner no worse off", "npv_saving"]),
    }
    for what, figure in quoted.items():
        assert f"**{figure}**" in README, f"README should quote {what} as {figure}"
    verification = hub.solve["verification"]
    assert f'"{verification}" (the `blue-light-hub` demo)' in README
    # And what the words say about the hub holds in the run.
    assert hub_site["decision"] == "build" and hub_site["build_start_year"] == 2026
    assert hub.sites.loc["MAL-FIRE", "decision_year"] == hub_site["decision_year"]
    assert fire["share_lowest"] == fire["share_before"]
    assert gains.drop("NYFRS").min() >= -0.5
    assert not fair.loc["every partner no worse off", "sites_built"]
    years = colocate.sites["decision_year"].dropna().astype(int)
    assert dict(pd.Series(years).value_counts()) == {2026: 5, 2028: 1, 2030: 1}


@pytest.mark.shared_data
def test_englands_fire_cover_today_is_what_the_readme_says(tmp_path):
    from totalcapital.osm_import import import_fire_stations
    from totalcapital.pipeline import run_scenario
    from totalcapital.scenario import load_scenario

    root = Path(__file__).resolve().parents[1]
    stations = root.parent / "shared" / "data" / "england" / "fire_stations_home_office.csv"
    register = tmp_path / "england-fire.gpkg"
    sites = import_fire_stations(stations, register, fill_defaults=True)
    scenario = load_scenario(root / "scenarios" / "england-fire.yaml", ["today"])
    travel = scenario.travel.model_copy(update={"cache": False})
    scenario = scenario.model_copy(update={"estate": register, "travel": travel})
    result, _ = run_scenario(scenario)
    cover = result.coverage.set_index("name")["share_before"]
    assert "leaving 1,374" in README and len(sites) == 1_374
    for name in ("fire_8min", "fire_10min", "fire_15min"):
        assert f"**{share(cover[name])}**" in README, name
    assert f"{len(result.demand):,} population-weighted" in README
    impact = result.closure_impact.query("requirement == 'fire_10min'")
    lose_no_one = int((impact["weight_lost"] == 0).sum())
    assert f"({lose_no_one} of 1,374)" in README


@pytest.mark.shared_data
def test_the_fewest_fire_stations_are_proven_as_the_readme_says(tmp_path):
    """The national question proven optimal: the count, the sales and the proof's own line.
    (Its time is measured by benchmarks/national_fire.py; here the limit is generous.)"""
    from totalcapital.osm_import import import_fire_stations
    from totalcapital.pipeline import run_scenario
    from totalcapital.scenario import load_scenario

    root = Path(__file__).resolve().parents[1]
    stations = root.parent / "shared" / "data" / "england" / "fire_stations_home_office.csv"
    register = tmp_path / "england-fire.gpkg"
    import_fire_stations(stations, register, fill_defaults=True)
    scenario = load_scenario(root / "scenarios" / "england-fire.yaml")
    update = {
        "estate": register,
        "travel": scenario.travel.model_copy(update={"cache": False}),
        "solver": scenario.solver.model_copy(update={"time_limit_seconds": 600}),
    }
    result, _ = run_scenario(scenario.model_copy(update=update))
    sold = int((result.sites["decision"] == "dispose").sum())
    kept = len(result.sites) - sold
    assert (result.solve["status"], result.solve["gap"]) == ("optimal", 0.0)
    assert f"every plan keeps at least {kept} sites (proven least" in result.solve["verification"]
    # The money model's LP with that row, run beside the count, proved the plan (no MIP).
    assert "proven by the LP relaxation with the fewest-sites row" in result.solve["verification"]
    assert f"proves it: **{kept}** stations" in README
    assert f"({sold} sold, each crew merged" in README
    # Everyone covered within 10 minutes today still is.
    fire = result.coverage.set_index("name").loc["fire_10min"]
    assert fire["met"] and fire["weight_covered_after"] == fire["weight_covered_before"]
