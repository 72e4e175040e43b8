"""Fair shares: the other plan's row says how its solve ended, and never sinks the run."""

from __future__ import annotations

import dataclasses
import io

from conftest import SCENARIOS, invoke
from rich.console import Console

from totalcapital import pipeline
from totalcapital.exports import programme_tables
from totalcapital.results import load_result
from totalcapital.scenario import load_scenario


def rendered(tables) -> str:
    console = Console(file=io.StringIO(), width=200)
    for table in tables:
        console.print(table)
    return console.file.getvalue()


def test_an_other_plan_stopped_by_the_clock_is_shown_as_stopped(monkeypatch):
    """The other plan (every partner no worse off) gets no time at all: its row must say
    time_limit, not pass today's plan off as that rule's best."""
    build = pipeline.CoLocationModel.from_estate

    def starved(estate, scenario, *args, **kwargs):
        model = build(estate, scenario, *args, **kwargs)
        if scenario.rules.partners_no_worse_off:  # the other plan of blue-light-hub
            model.options = dataclasses.replace(model.options, time_limit=1e-9)
        return model

    monkeypatch.setattr(pipeline.CoLocationModel, "from_estate", starved)
    result, _ = pipeline.run_scenario(load_scenario(SCENARIOS / "blue-light-hub.yaml"))
    fair = result.fair_shares.set_index("plan")
    asked, other = fair.loc["partners may lose"], fair.loc["every partner no worse off"]
    assert asked["as_asked"] and asked["solve_status"] == result.solve["status"] == "optimal"
    assert asked["npv_saving"] == result.totals["npv_saving"] > 0
    assert not other["as_asked"] and other["solve_status"] == "time_limit"
    assert other["npv_saving"] == 0  # today's plan: nothing proven about the rule's best
    text = rendered(programme_tables(result))
    assert "time_limit, no bound" in text and "optimal" in text


def test_an_other_plan_that_cannot_be_met_is_reported_and_the_run_stands(tmp_path):
    """With a partner floor no plan keeping every partner no worse off can meet, the plan as
    asked (partners may lose, so the floor does not bind) is still written and printed."""
    scenario = tmp_path / "floor.yaml"
    scenario.write_text(
        f"base: {SCENARIOS / 'blue-light-hub.yaml'}\n"
        "name: floor\n"
        "rules: {partner_npv_floor: 3000000}\n"
    )
    out = tmp_path / "output"
    run = invoke("run", scenario, "--output-dir", out, "--maps-dir", tmp_path / "maps")
    assert run.exit_code == 0, run.output
    assert "Traceback" not in run.output
    result = load_result(out / "floor")
    fair = result.fair_shares.set_index("plan")
    other = fair.loc["every partner no worse off"]
    assert other["solve_status"] == "infeasible"
    assert "partner NHS NPV gain (floor £3,000,000)" in other["note"]
    assert fair.loc["partners may lose", "solve_status"] == result.solve["status"] == "optimal"
    assert fair.loc["partners may lose", "npv_saving"] == result.totals["npv_saving"]
    assert "infeasible: " in rendered(programme_tables(result))
