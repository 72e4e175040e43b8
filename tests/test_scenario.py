"""Scenario files: strict schema, named unknown keys, bases, overrides, relative paths."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from totalcapital import ScenarioError, load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_scenarios_load_with_their_bases():
    baseline = load_scenario(SCENARIOS / "baseline.yaml")
    colocate = load_scenario(SCENARIOS / "colocate.yaml")
    hub = load_scenario(SCENARIOS / "blue-light-hub.yaml")
    assert (baseline.rules.allow_moves, baseline.rules.allow_disposals) == (False, False)
    assert (colocate.rules.allow_moves, colocate.rules.allow_disposals) == (True, True)
    assert hub.rules.allow_new_builds and not colocate.rules.allow_new_builds
    # Everything not restated is inherited from the base.
    assert [s.name for s in hub.standards] == [s.name for s in baseline.standards]
    assert hub.estate == (SCENARIOS.parent / "data" / "estates" / "malton.gpkg").resolve()
    assert hub.finance.start_date == date(2026, 4, 1)
    assert hub.name == "blue-light-hub"


def test_unknown_key_is_named_with_the_allowed_keys(tmp_path):
    path = write(tmp_path / "typo.yaml", "rules:\n  alow_moves: true\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "unknown key 'rules.alow_moves'" in message
    assert "allowed keys here: allow_disposals, allow_moves" in message


def test_unknown_top_level_key_and_bad_values_are_all_reported(tmp_path):
    path = write(
        tmp_path / "bad.yaml",
        "horizon: 30\nfinance:\n  discount_rate: 2\nsolver:\n  name: gurobi\n",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "3 problem(s)" in message
    assert "unknown key 'horizon'" in message and "finance" in message
    assert "'finance.discount_rate'" in message and "'solver.name'" in message


def test_overrides_apply_in_order_and_are_logged(tmp_path, caplog):
    path = write(
        tmp_path / "s.yaml",
        "finance: {capital_budget: 100}\n"
        "overrides:\n"
        "  bigger: {finance: {capital_budget: 500}}\n"
        "  cbc: {solver: {name: cbc}}\n",
    )
    with caplog.at_level(logging.INFO, logger="totalcapital.scenario"):
        scenario = load_scenario(path, overrides=["bigger", "cbc"])
    assert scenario.finance.capital_budget == 500
    assert scenario.solver.name == "cbc"
    assert scenario.applied_overrides == ["bigger", "cbc"]
    assert "Applied override 'bigger'" in caplog.text
    with pytest.raises(ScenarioError, match="no override named 'huge' .*bigger, cbc"):
        load_scenario(path, overrides=["huge"])


def test_paths_are_relative_to_the_scenario_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = write(tmp_path / "sub" / "s.yaml", "estate: ../estate.gpkg\ntravel: {network: r.pbf}\n")
    scenario = load_scenario(path)
    assert scenario.estate == tmp_path / "estate.gpkg"
    assert scenario.travel.network == tmp_path / "sub" / "r.pbf"
    assert scenario.travel.resolved_method == "network"


def test_base_loops_are_refused(tmp_path):
    write(tmp_path / "a.yaml", "base: b.yaml\n")
    write(tmp_path / "b.yaml", "base: a.yaml\n")
    with pytest.raises(ScenarioError, match="loop"):
        load_scenario(tmp_path / "a.yaml")


def test_contradictory_locks_and_repeated_names(tmp_path):
    path = write(
        tmp_path / "s.yaml",
        "locks: {keep_sites: [A, B], dispose_sites: [B]}\n"
        "standards:\n"
        "  - {name: fire, service_types: [fire_station], minutes: 10}\n"
        "  - {name: fire, service_types: [fire_station], minutes: 12}\n",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "both kept and disposed: B" in str(caught.value)
    assert "repeated: fire" in str(caught.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "missing.yaml")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(write(tmp_path / "broken.yaml", "rules: [unclosed\n"))
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load_scenario(write(tmp_path / "list.yaml", "- a\n- b\n"))


def test_scenario_is_frozen():
    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    with pytest.raises(Exception, match="frozen"):
        scenario.finance.horizon_years = 5


def test_every_bundled_scenario_loads_with_each_of_its_overrides():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "scenarios"
    scenarios = [p for p in sorted(folder.glob("*.yaml")) if p.name != "demo-sweep.yaml"]
    assert {p.stem for p in scenarios} >= {"baseline", "colocate", "blue-light-hub", "england-fire"}
    for path in scenarios:
        scenario = load_scenario(path)
        for name in scenario.overrides:
            assert load_scenario(path, [name]).applied_overrides == [name]
    england = load_scenario(folder / "england-fire.yaml")
    assert england.demand.lsoa.authorities == ["england"]
    assert [s.rule for s in england.standards] == ["keep_today", "share", "share"]
