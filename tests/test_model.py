"""The co-location model on hand-solvable estates: each rule, and only it, changes the plan.

F = 10 throughout (discount rate 0, 10 years); see ``model_cases``. In ``two_sites`` the
unconstrained plan keeps A and sells B (-100,000); keeping B and selling A costs 100,000;
keeping both 300,000.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from model_cases import (
    decisions,
    demand,
    estate,
    placement,
    scenario,
    solve,
    three_partners,
    travel,
    two_sites,
)

from totalcapital import programme
from totalcapital._errors import InfeasibleScenario, ScenarioError
from totalcapital.model import CoLocationModel

KEEP_A = {"A": "keep", "B": "dispose"}
KEEP_B = {"A": "dispose", "B": "keep"}
KEEP_BOTH = {"A": "keep", "B": "keep"}


@pytest.fixture(scope="module")
def unconstrained():
    return solve(two_sites(), scenario())


def test_unconstrained_plan_keeps_the_cheaper_site(unconstrained):
    assert decisions(unconstrained) == KEEP_A
    assert placement(unconstrained) == {"SA": "A", "SB": "A"}
    # 10 x 10,000 (keep A) - 200,000 (sell B)
    assert unconstrained.solution.objective == pytest.approx(-100_000)
    assert unconstrained.solution.status == "optimal"
    assert unconstrained.solution.gap == 0.0


def test_objective_equals_finance_totals(unconstrained):
    solution = unconstrained.solution
    figures = programme.totals(two_sites(), scenario(), solution.site_decision, solution.assignment)
    assert figures["npv_cost_after"] == pytest.approx(solution.objective, rel=1e-6)
    assert figures["npv_cost_before"] == pytest.approx(300_000)


def test_constraints_are_named_after_domain_entities(unconstrained):
    names = {row.name for row in unconstrained.lp.constraints()}
    assert {"house_SA", "house_SB", "capacity_A", "capacity_B"} <= names
    assert unconstrained.lp.objective.name == "whole_life_npv_cost"


@pytest.mark.parametrize(
    ("rules", "locks", "expected", "objective"),
    [
        ({"allow_moves": False}, {}, KEEP_BOTH, 300_000),
        ({"allow_disposals": False}, {}, KEEP_BOTH, 300_000),
        ({}, {"keep_sites": ["B"]}, KEEP_B, 100_000),
        ({}, {"dispose_sites": ["A"]}, KEEP_B, 100_000),
        ({}, {"fixed_services": ["SB"]}, KEEP_B, 100_000),
        ({"candidate_sites": {"SB": ["B"]}}, {}, KEEP_B, 100_000),
    ],
    ids=["allow_moves", "allow_disposals", "keep_lock", "dispose_lock", "fixed_lock", "candidates"],
)
def test_switches_and_locks_change_the_plan(rules, locks, expected, objective):
    model = solve(two_sites(), scenario(rules=rules, locks=locks))
    assert decisions(model) == expected
    assert model.solution.objective == pytest.approx(objective)


def test_capability_keeps_fire_station_where_the_bays_are(unconstrained):
    case = estate(
        [
            {"site_id": "A", "market_value": 100_000.0, "appliance_bays": False},
            {
                "site_id": "B",
                "running_cost": 20_000.0,
                "market_value": 200_000.0,
                "appliance_bays": True,
            },
        ],
        [
            {"service_id": "SA", "current_site": "A", "service_type": "library"},
            {"service_id": "SB", "current_site": "B", "service_type": "fire_station"},
        ],
    )
    assert decisions(solve(case, scenario())) == KEEP_A
    model = solve(case, scenario(rules={"capabilities": {"fire_station": ["appliance_bays"]}}))
    assert decisions(model) == KEEP_B
    assert model.solution.objective == pytest.approx(100_000)


def test_incompatible_types_never_share_a_site():
    case = estate(
        [
            {"site_id": "A", "market_value": 100_000.0},
            {"site_id": "B", "running_cost": 20_000.0, "market_value": 200_000.0},
        ],
        [
            {"service_id": "SA", "current_site": "A", "service_type": "police_station"},
            {"service_id": "SB", "current_site": "B", "service_type": "school"},
        ],
    )
    assert decisions(solve(case, scenario())) == KEEP_A
    model = solve(case, scenario(rules={"incompatible": [["police_station", "school"]]}))
    assert decisions(model) == KEEP_BOTH
    assert model.solution.objective == pytest.approx(300_000)
    assert any(row.name.startswith("incompatible_") for row in model.lp.constraints())


def test_max_move_km_of_the_service_and_of_the_rules():
    # A and B are 10 km apart.
    limited = two_sites()
    services = limited.services.copy()
    services.loc["SB", "max_move_km"] = 5.0
    own_limit = type(limited)(limited.sites, services, None, "case", limited.capabilities)
    model = solve(own_limit, scenario())
    assert decisions(model) == KEEP_B  # SB stays, SA moves to B
    assert model.solution.objective == pytest.approx(100_000)
    model = solve(two_sites(), scenario(rules={"max_move_km": 5.0}))
    assert decisions(model) == KEEP_BOTH
    assert model.solution.objective == pytest.approx(300_000)
    assert decisions(solve(two_sites(), scenario(rules={"max_move_km": 11.0}))) == KEEP_A


def test_covenant_forbidding_disposal_keeps_the_site():
    case = two_sites(covenant="housing only", covenant_forbids_disposal=True)
    model = solve(case, scenario())
    assert decisions(model) == KEEP_B
    assert model.solution.objective == pytest.approx(100_000)
    assert decisions(solve(case, scenario(rules={"covenants": False}))) == KEEP_A


def test_covenant_receipt_cap_makes_the_other_site_the_better_sale():
    # B runs at 12,000: keep A & sell B = 100,000 - 200,000; keep B & sell A = 120,000 - 100,000.
    case = two_sites(running_cost=12_000.0, covenant="cap", covenant_receipt_cap=50_000.0)
    model = solve(case, scenario(rules={"covenants": False}))
    assert decisions(model) == KEEP_A
    assert model.solution.objective == pytest.approx(-100_000)
    # Capped at 50,000, selling B gives 100,000 - 50,000 = 50,000 > 20,000.
    model = solve(case, scenario())
    assert decisions(model) == KEEP_B
    assert model.solution.objective == pytest.approx(20_000)


def test_listed_site_is_kept_unless_listed_disposals_are_allowed():
    case = two_sites(listed=True)
    assert decisions(solve(case, scenario())) == KEEP_A
    model = solve(case, scenario(rules={"dispose_listed": False}))
    assert decisions(model) == KEEP_B
    assert model.solution.objective == pytest.approx(100_000)


@pytest.mark.parametrize(
    ("lease_break", "at_break_only", "expected", "objective"),
    [
        ("2080-01-01", False, {"A": "keep", "B": "exit_lease"}, 110_000),
        ("2028-01-01", True, {"A": "keep", "B": "exit_lease"}, 110_000),
        ("2080-01-01", True, {"A": "dispose", "B": "keep"}, 150_000),
        (None, True, {"A": "dispose", "B": "keep"}, 150_000),
    ],
)
def test_lease_exit_only_at_a_break_within_the_horizon(
    lease_break, at_break_only, expected, objective
):
    # Timeless: A worth 50,000; B leased at 20,000/yr, exit 10,000. Exit B: 100,000 + 10,000;
    # keep B and sell A: 200,000 - 50,000. (The dated programme's timing is tested apart.)
    case = estate(
        [
            {"site_id": "A", "market_value": 50_000.0},
            {
                "site_id": "B",
                "tenure": "leasehold",
                "running_cost": 20_000.0,
                "lease_exit_cost": 10_000.0,
                "lease_break": lease_break,
            },
        ],
        [{"service_id": "SA", "current_site": "A"}, {"service_id": "SB", "current_site": "B"}],
    )
    timeless = {"enabled": False}
    model = solve(
        case, scenario(rules={"lease_exit_at_break_only": at_break_only}, programme=timeless)
    )
    assert decisions(model) == expected
    assert model.solution.objective == pytest.approx(objective)


def test_new_build_only_when_allowed():
    # A 30,000/yr, B 35,000/yr, both worthless; candidate C costs 100,000 and 5,000/yr.
    case = estate(
        [
            {"site_id": "A", "running_cost": 30_000.0},
            {"site_id": "B", "running_cost": 35_000.0},
            {
                "site_id": "C",
                "status": "candidate",
                "running_cost": 5_000.0,
                "build_cost": 100_000.0,
            },
        ],
        [{"service_id": "SA", "current_site": "A"}, {"service_id": "SB", "current_site": "B"}],
    )
    model = solve(case, scenario())
    assert decisions(model) == {"A": "keep", "B": "dispose", "C": "not_built"}
    assert model.solution.objective == pytest.approx(300_000)
    timeless = scenario(rules={"allow_new_builds": True}, programme={"enabled": False})
    model = solve(case, timeless)
    assert decisions(model) == {"A": "dispose", "B": "dispose", "C": "build"}
    assert placement(model) == {"SA": "C", "SB": "C"}
    assert model.solution.objective == pytest.approx(150_000)
    # Dated: C takes two years to build, so A and B are held until it opens (65,000 x 2),
    # then C runs for eight years (40,000): 130,000 + 100,000 + 40,000.
    model = solve(case, scenario(rules={"allow_new_builds": True}))
    assert decisions(model) == {"A": "dispose", "B": "dispose", "C": "build"}
    assert model.solution.objective == pytest.approx(270_000)


@pytest.mark.parametrize(
    ("finance_settings", "expected", "objective"),
    [
        ({}, KEEP_A, -60_000),
        ({"capital_budget": 0.0}, KEEP_BOTH, 300_000),
        ({"capital_budget": 0.0, "receipts_recycled_share": 0.5}, KEEP_A, -60_000),
        ({"capital_budget": 39_999.0}, KEEP_BOTH, 300_000),
        ({"capital_budget": 40_000.0}, KEEP_A, -60_000),
    ],
)
def test_capital_budget_with_recycled_receipts(finance_settings, expected, objective):
    # Moving either service costs 1,000/m2 x 40 m2 = 40,000 of fit-out.
    # Keep A: 100,000 - 200,000 + 40,000; keep B: 200,000 - 100,000 + 40,000; both 300,000.
    case = two_sites()
    services = case.services.copy()
    services["fit_out_cost_per_m2"] = 1_000.0
    case = type(case)(case.sites, services, None, "case", case.capabilities)
    model = solve(case, scenario(finance=finance_settings))
    assert decisions(model) == expected
    assert model.solution.objective == pytest.approx(objective)


def test_partners_no_worse_off_changes_who_moves():
    rules = {"capabilities": {"fire_station": ["appliance_bays"]}}
    case = three_partners()
    model = solve(case, scenario(rules=rules))
    plan = {"A": "keep", "B": "keep", "C": "dispose"}
    assert decisions(model) == plan
    assert placement(model) == {"SA": "A", "SB": "A", "SC": "B"}
    # 200,000 (A, B kept) + 15,000 (police move)
    assert model.solution.objective == pytest.approx(215_000)
    ledger = programme.partner_ledger(
        case, scenario(rules=rules), model.solution.site_decision, model.solution.assignment
    )
    assert ledger.loc["POLICE", "npv_gain"] == pytest.approx(-15_000)

    fair = scenario(rules={**rules, "partners_no_worse_off": True})
    model = solve(case, fair)
    assert decisions(model) == plan
    assert placement(model) == {"SA": "B", "SB": "A", "SC": "B"}
    assert model.solution.objective == pytest.approx(216_500)
    ledger = programme.partner_ledger(
        case, fair, model.solution.site_decision, model.solution.assignment
    )
    assert ledger["npv_gain"].to_dict() == pytest.approx(
        {"COUNCIL": 18_500, "FIRE": 440_000, "POLICE": 25_000}
    )
    # The constrained quantity is the ledger's npv_gain: the row's value equals gain - floor.
    index = [side.name for side in model.planning.side_constraints].index("partner_POLICE")
    assert model.planning.side_value(index, model.solution.plan) == pytest.approx(25_000)


# ---------------------------------------------------------------- coverage


def fire_estate():
    """Fire stations at A (£10k/yr, worth £100k) and B (£20k/yr, worth £200k)."""
    case = two_sites()
    services = case.services.copy()
    services["service_type"] = "fire_station"
    return type(case)(case.sites, services, None, "case", case.capabilities)


# A reaches D1 in 5 minutes, B reaches D2; D3 is 30 minutes from both.
FIRE_TIMES = travel(["A", "B"], ["D1", "D2", "D3"], [[5, 20, 30], [20, 5, 30]])
FIRE_DEMAND = demand({"D1": 100.0, "D2": 300.0, "D3": 0.0})


def fire_standard(rule: str, share: float = 1.0) -> dict:
    return {
        "name": "fire_10min",
        "service_types": ["fire_station"],
        "minutes": 10,
        "rule": rule,
        "share": share,
    }


@pytest.mark.parametrize(
    ("rule", "share", "expected", "objective", "share_after"),
    [
        ("share", 0.0, KEEP_A, -100_000, 0.25),
        ("share", 0.5, KEEP_B, 100_000, 0.75),
        ("all", 1.0, KEEP_BOTH, 300_000, 1.0),
        ("no_worse_than_today", 1.0, KEEP_BOTH, 300_000, 1.0),
    ],
)
def test_response_standard_rules(rule, share, expected, objective, share_after):
    points = FIRE_DEMAND.drop(index="D3") if rule == "all" else FIRE_DEMAND
    times = FIRE_TIMES
    model = solve(fire_estate(), scenario(standards=[fire_standard(rule, share)]), times, points)
    assert decisions(model) == expected
    assert model.solution.objective == pytest.approx(objective)
    row = model.solution.coverage.set_index("name").loc["fire_10min"]
    assert row["share_before"] == pytest.approx(1.0)
    assert row["share_after"] == pytest.approx(share_after)
    assert bool(row["met"])
    cover = model.solution.demand_cover
    assert cover.loc["D1", "fire_10min_before"] and cover.loc["D2", "fire_10min_before"]
    assert bool(cover.loc["D1", "fire_10min_after"]) == (expected["A"] == "keep")


def test_no_worse_than_today_ignores_points_uncovered_today():
    # D3 (weight 50) is out of reach today and always: "all" is infeasible, "no worse" is not.
    points = demand({"D1": 100.0, "D2": 300.0, "D3": 50.0})
    model = solve(
        fire_estate(),
        scenario(standards=[fire_standard("no_worse_than_today")]),
        FIRE_TIMES,
        points,
    )
    assert decisions(model) == KEEP_BOTH
    with pytest.raises(
        InfeasibleScenario, match=r"fire_10min: 50 people at 1 demand point\(s\) \(D3\)"
    ):
        solve(fire_estate(), scenario(standards=[fire_standard("all")]), FIRE_TIMES, points)


def test_blue_light_factor_extends_reach():
    # At factor 2 the 20-minute trips take 10 minutes: A alone covers D1 and D2.
    fast = travel(["A", "B"], ["D1", "D2", "D3"], [[5, 20, 30], [20, 5, 30]], fire_station=2.0)
    model = solve(
        fire_estate(),
        scenario(standards=[fire_standard("all")]),
        fast,
        FIRE_DEMAND.drop(index="D3"),
    )
    assert decisions(model) == KEEP_A


def test_access_rule_for_public_facing_services():
    case = two_sites()
    services = case.services.copy()
    services["service_type"] = "library"
    services["public_facing"] = True
    case = type(case)(case.sites, services, None, "case", case.capabilities)
    rule = {"name": "library_20min", "service_types": ["library"], "minutes": 20, "share": 0.9}
    times = travel(["A", "B"], ["D1", "D2"], [[10, 40], [40, 10]])
    points = demand({"D1": 100.0, "D2": 300.0})
    assert decisions(solve(case, scenario(), times, points)) == KEEP_A
    model = solve(case, scenario(access=[rule]), times, points)
    assert decisions(model) == KEEP_BOTH
    row = model.solution.coverage.iloc[0]
    assert (row["kind"], row["share_after"]) == ("access", pytest.approx(1.0))


def test_cbc_and_highs_agree_and_runs_repeat():
    standard = [fire_standard("share", 0.5)]
    plans = []
    for name in ("highs", "cbc", "highs"):
        model = solve(
            fire_estate(),
            scenario(standards=standard, solver={"name": name}),
            FIRE_TIMES,
            FIRE_DEMAND,
        )
        plans.append((decisions(model), placement(model), round(model.solution.objective, 6)))
        assert model.solution.solver == name
        assert model.solution.status == "optimal"
    assert plans[0] == plans[1] == plans[2]


# ---------------------------------------------------------------- infeasibility explained


def test_presolve_names_space_shortfall():
    case = estate(
        [{"site_id": "A", "gia_m2": 50.0}, {"site_id": "B", "gia_m2": 50.0}],
        [{"service_id": f"S{i}", "current_site": "AB"[i % 2]} for i in range(3)],
    )
    with pytest.raises(
        InfeasibleScenario,
        match="need 120 m2 of floor space .* only 100 m2 "
        r"\(short by 20 m2\)",
    ):
        CoLocationModel.from_estate(case, scenario())


def test_presolve_names_missing_capability_and_homeless_services():
    case = fire_estate()
    with pytest.raises(InfeasibleScenario) as raised:
        CoLocationModel.from_estate(
            case, scenario(rules={"capabilities": {"fire_station": ["appliance_bays"]}})
        )
    message = str(raised.value)
    assert "capability appliance_bays is required for fire_station" in message
    assert "2 service(s) have no site they may be housed at" in message and "SA, SB" in message


def test_presolve_names_lock_contradictions():
    case = two_sites(covenant="no sale", covenant_forbids_disposal=True)
    with pytest.raises(InfeasibleScenario) as raised:
        CoLocationModel.from_estate(
            case, scenario(locks={"dispose_sites": ["B"], "fixed_services": ["SB"]})
        )
    message = str(raised.value)
    assert "site(s) B must be kept (a covenant forbids its disposal)" in message
    assert "service SB may not move" in message and "its site B must close" in message


@pytest.mark.parametrize("dated", [True, False])
def test_presolve_names_an_immovable_service_at_a_site_that_must_close(dated):
    """Dated, a disposal lock closes the site only by the window's end; the service must be
    housed then too, so the reason is the same as timeless: which service, which site."""
    # B's lease break in 2028 gives the dated programme more than one decision year.
    case = two_sites(tenure="leasehold", lease_break="2028-06-30", lease_exit_cost=1.0)
    programme = {"enabled": dated}
    with pytest.raises(InfeasibleScenario) as raised:
        CoLocationModel.from_estate(
            case,
            scenario(locks={"dispose_sites": ["B"], "fixed_services": ["SB"]}, programme=programme),
        )
    message = str(raised.value)
    assert "service SB may not move" in message and "its site B must close" in message
    assert "rules that cannot be relaxed" not in message


def test_presolve_names_an_immovable_service_too_big_for_its_own_site():
    case = estate(
        [{"site_id": "A", "gia_m2": 100.0}, {"site_id": "B", "gia_m2": 30.0}],
        [
            {"service_id": "SA", "current_site": "A"},
            {"service_id": "SB", "current_site": "B", "movable": False},
        ],
    )
    with pytest.raises(InfeasibleScenario) as raised:
        CoLocationModel.from_estate(case, scenario())
    assert "service SB may not move" in str(raised.value)
    assert "needs 40 m2 and its site B has 30 m2" in str(raised.value)


def test_presolve_names_uncoverable_share():
    with pytest.raises(
        InfeasibleScenario,
        match=r"fire_10min: need 1.000 of demand covered "
        r"\(400 of 400\) but at most 0.750 \(300\).*D1",
    ):
        solve(
            fire_estate(),
            scenario(standards=[fire_standard("share", 1.0)], locks={"dispose_sites": ["A"]}),
            FIRE_TIMES,
            FIRE_DEMAND,
        )


def test_elastic_diagnosis_names_budget_shortfall():
    case = two_sites(backlog_cost=310_000.0)
    with pytest.raises(InfeasibleScenario, match=r"capital budget .* short by £310,000"):
        solve(
            case,
            scenario(
                rules={"allow_disposals": False},
                finance={"capital_budget": 0.0, "budget_counts": ["builds", "moves", "backlog"]},
            ),
        )


def test_elastic_diagnosis_names_partner_shortfall():
    sc = scenario(
        rules={
            "allow_disposals": False,
            "partners_no_worse_off": True,
            "partner_npv_floor": 1_000_000.0,
        }
    )
    with pytest.raises(
        InfeasibleScenario, match=r"partner COUNCIL NPV gain .* short by £1,000,000"
    ):
        solve(two_sites(), sc)


def test_elastic_diagnosis_names_unmet_share():
    # The fire engine at B must move to A to reach D1 (weight 10), but A's fixed library leaves
    # only 40 m2 for its 60 m2: cheapest relaxation is the share (10 of 1,010 people).
    case = estate(
        [{"site_id": "A"}, {"site_id": "B", "easting": 451_000.0}],
        [
            {"service_id": "L", "current_site": "A", "service_type": "library", "space_m2": 60.0},
            {
                "service_id": "F",
                "current_site": "B",
                "service_type": "fire_station",
                "space_m2": 60.0,
            },
        ],
    )
    times = travel(["A", "B"], ["D1", "D2"], [[5, 5], [20, 5]])
    sc = scenario(standards=[fire_standard("share", 1.0)], locks={"fixed_services": ["L"]})
    with pytest.raises(InfeasibleScenario) as raised:
        solve(case, sc, times, demand({"D1": 10.0, "D2": 1000.0}))
    # Either rule alone can give: 10 people of fire cover, or 20 m2 more floor space at A.
    found = {(r.group, r.amount, r.unit, r.where) for r in raised.value.relaxations}
    assert found == {("share:0", 10.0, "people", ("D1",)), ("capacity", 20.0, "m2", ("A",))}
    assert all(r.alone and r.proven for r in raised.value.relaxations)
    assert "fire_10min (share 1.000 within 10 minutes): 10 people short of the target (at D1)" in (
        str(raised.value)
    )


def test_unknown_ids_in_locks_are_scenario_errors():
    with pytest.raises(ScenarioError, match=r"locks.keep_sites: expected site_ids .* \['Z'\]"):
        CoLocationModel.from_estate(two_sites(), scenario(locks={"keep_sites": ["Z"]}))


def test_names_spelt_almost_as_the_estates_are_scenario_errors(caplog):
    """A misspelt type or partner would make its rule silently do nothing: each is named
    with what it surely means. A name like nothing here is allowed, with a warning (a
    scenario may serve several estates), unless a standard would then measure nothing."""
    typos = scenario(
        rules={"incompatible": [["council_ofice", "library"], ["youth_club", "library"]]},
        travel={"blue_light_factor": {"Council Office": 1.2, "council_offices": 1.1}},
        finance={"partner_capital_budget_per_year": {"councl": 0.0}},
    )
    with pytest.raises(ScenarioError) as raised:
        CoLocationModel.from_estate(two_sites(), typos)
    message = str(raised.value)
    assert "rules.incompatible: 'council_ofice' is no service type" in message
    assert "did you mean 'council_office'?" in message
    assert "travel.blue_light_factor: 'Council Office'" in message
    assert "'council_offices' is no service type" in message  # a plural: still a slip here
    assert "'councl' is no partner" in message and "did you mean 'COUNCIL'?" in message
    assert "library" not in message  # a type the estate lacks but spelt as the project's
    assert "youth_club" not in message and "no service type 'youth_club'" in caplog.text
    assert "'library'" not in caplog.text  # a type the project knows: no surprise

    standard = {"name": "fire", "service_types": ["fire_station"], "minutes": 10}
    with pytest.raises(ScenarioError, match=r"fire: none of its service types .* measure"):
        CoLocationModel.from_estate(two_sites(), scenario(standards=[standard]))


# ---------------------------------------------------------------- array core


def test_array_core_is_sscflp():
    # Two facilities (open 10 and 12, capacity 5), three customers of size 2.
    # Open both: 22 + costs; open one: impossible (6 > 5). Cheapest assignment per customer:
    # c0 -> f0 (1), c1 -> f1 (1), c2 -> f0 (2) or f1 (4): 22 + 1 + 1 + 2 = 26.
    cost = np.array([[1.0, 3.0], [5.0, 1.0], [2.0, 4.0]])
    model = CoLocationModel.from_arrays([10.0, 12.0], [5.0, 5.0], [2.0, 2.0, 2.0], cost).solve()
    assert model.solution.objective == pytest.approx(26.0)
    assert model.solution.assignment.to_dict() == {"0": "0", "1": "1", "2": "0"}
    assert model.solution.site_decision.to_dict() == {"0": "keep", "1": "keep"}
    forbidden = cost.copy()
    forbidden[2, 0] = np.inf
    model = CoLocationModel.from_arrays([10.0, 12.0], [5.0, 5.0], [2.0, 2.0, 2.0], forbidden)
    assert model.solve().solution.objective == pytest.approx(28.0)
    assert model.planning.pruned_pairs == 1


def random_sscflp(n_sites: int, n_services: int, seed: int, slack: float = 1.0):
    """Random SSCFLP; ``slack`` scales capacity (about 1.2 x total space at 1.0)."""
    rng = np.random.default_rng(seed)
    space = rng.integers(5, 35, n_services).astype(float)
    capacity = rng.integers(80, 160, n_sites).astype(float) * n_services / n_sites / 4 * slack
    xy_sites = rng.uniform(0, 100, (n_sites, 2))
    xy_services = rng.uniform(0, 100, (n_services, 2))
    distance = np.hypot(*(xy_services[:, None, :] - xy_sites[None, :, :]).transpose(2, 0, 1))
    return (
        rng.integers(400, 900, n_sites).astype(float),
        capacity,
        space,
        distance * space[:, None] / 10,
    )


def test_time_limited_run_is_reported_as_time_limit_not_optimal():
    fixed, capacity, space, cost = random_sscflp(30, 150, seed=7)  # unsolved after 30 s
    model = CoLocationModel.from_arrays(fixed, capacity, space, cost, time_limit=1.0).solve()
    solution = model.solution
    assert solution.status == "time_limit"
    assert solution.solver_status == "Time limit reached"
    assert solution.gap > 0
    assert solution.best_bound < solution.objective


def test_identical_results_run_to_run():
    fixed, capacity, space, cost = random_sscflp(12, 50, seed=3, slack=2.0)
    runs = [
        CoLocationModel.from_arrays(fixed, capacity, space, cost).solve().solution for _ in range(2)
    ]
    assert runs[0].objective == runs[1].objective
    pd.testing.assert_series_equal(runs[0].assignment, runs[1].assignment)
    pd.testing.assert_series_equal(runs[0].site_decision, runs[1].site_decision)


def test_todays_plan_is_offered_as_the_start_only_when_allowed():
    model = CoLocationModel.from_estate(two_sites(), scenario())
    today = model.today_plan()
    assert today is not None
    values = model.formulation.start_values(today)
    chosen = model.formulation.housed_vars + model.formulation.open_vars
    starts = {v.name: values[v] for v in chosen}
    assert starts == {
        "housed_SA__A": 1.0,
        "housed_SA__B": 0.0,
        "housed_SB__A": 0.0,
        "housed_SB__B": 1.0,
        "open_A": 1.0,
        "open_B": 1.0,
    }
    locked = CoLocationModel.from_estate(two_sites(), scenario(locks={"dispose_sites": ["B"]}))
    assert locked.today_plan() is None


def test_keep_today_keeps_every_point_covered_today():
    # Fire at A covers D1 (100), at B covers D2 (300); D3 (weight 0) nobody. Either site
    # sold would take one point's cover away, so both stay.
    sc = scenario(standards=[fire_standard("keep_today")])
    model = solve(fire_estate(), sc, FIRE_TIMES, FIRE_DEMAND)
    assert decisions(model) == KEEP_BOTH
    req = model.planning.coverage[0]
    assert req.must_cover.tolist() == [True, True, False]
    assert req.target_weight == 400.0
    # A share of 0 only reports: the plan is free to sell B.
    reporting = solve(
        fire_estate(), scenario(standards=[fire_standard("share", 0.0)]), FIRE_TIMES, FIRE_DEMAND
    )
    assert decisions(reporting) == KEEP_A
    assert not [r for r in reporting.lp.constraints() if r.name.startswith("share_")]
    assert reporting.solution.coverage.loc[0, "share_after"] == pytest.approx(0.25)


def test_cover_rows_another_row_implies_are_left_out():
    from scipy import sparse

    from totalcapital.model.formulation import essential_points

    # Providers reaching each point: {0}, {0,1}, {1,2}, {1,2}, {2}, {3} (not asked), {0,2}.
    reach = [[0], [0, 1], [1, 2], [1, 2], [2], [3], [0, 2]]
    rows = [p for p, sites in enumerate(reach) for _ in sites]
    links = sparse.csc_array(
        (np.ones(len(rows)), (np.concatenate(reach), rows)), shape=(4, len(reach))
    )
    asked = np.array([True, True, True, True, True, False, True])
    # {0} implies {0,1} and {0,2}; {2} implies {1,2} (twice): only points 0 and 4 need a row.
    assert np.flatnonzero(essential_points(links, asked)).tolist() == [0, 4]
    # Without point 0 asked, {0,1} has no asked subset left and stays; {0,2} still holds {2}.
    asked[0] = False
    assert np.flatnonzero(essential_points(links, asked)).tolist() == [1, 4]


def test_implied_cover_rows_change_neither_plan_nor_diagnosis():
    # D4, reached by A and B, is covered whenever D1 (A only) is: its row is left out of the
    # model, yet the elastic model, whose slacks name each point, keeps it.
    times = travel(["A", "B"], ["D1", "D2", "D4"], [[5, 20, 5], [20, 5, 5]])
    points = demand({"D1": 100.0, "D2": 300.0, "D4": 600.0})
    model = solve(fire_estate(), scenario(standards=[fire_standard("keep_today")]), times, points)
    assert decisions(model) == KEEP_BOTH
    cover_rows = sorted(r.name for r in model.lp.constraints() if r.name.startswith("cover_"))
    assert cover_rows == ["cover_fire_10min_D1", "cover_fire_10min_D2"]
    from totalcapital.model.formulation import Formulation

    elastic = Formulation(model.planning, elastic=True)
    assert sum(r.name.startswith("cover_") for r in elastic.lp.constraints()) == 3


def line_of_four(site_count_bound: str, open_lower=None) -> CoLocationModel:
    """Sites A-D on a line, one service each, room for two; point d1 needs A or B, d2 B or C,
    d3 C or D. Two sites are the fewest ({A,C}, {B,C}, {B,D}); moves cost 1 a step."""
    from scipy import sparse

    from totalcapital.model.problem import CoverageRequirement

    steps = np.abs(np.subtract.outer(np.arange(4), np.arange(4))).astype(float)
    reach = sparse.csr_array(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=bool))
    rule = CoverageRequirement(
        "fire", (reach,), (np.ones(4, dtype=bool),), np.ones(3), "all", 1.0, None, "response"
    )
    return CoLocationModel.from_arrays(
        [10.0, 10.2, 10.1, 10.0],
        [2.0] * 4,
        [1.0] * 4,
        steps,
        coverage=[rule],
        site_ids=list("ABCD"),
        current_site=np.arange(4),
        open_lower=open_lower,
        site_count_bound=site_count_bound,
    ).solve()


@pytest.mark.parametrize("setting", ["on", "off"])
def test_the_fewest_sites_row_keeps_the_cheapest_plan(setting):
    # {A,C}: 20.1 + B->A + D->C = 22.1; {B,D}: 20.2 + 2 = 22.2; {B,C}: 20.3 + 2 = 22.3.
    model = line_of_four(setting)
    solution = model.solution
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(22.1)
    assert solution.plan.opened.tolist() == [True, False, True, False]
    counted = "every plan keeps at least 2 sites (proven least" in solution.verification
    assert counted == (setting == "on")


def test_the_lp_with_the_fewest_sites_row_proves_a_plan_of_its_cost():
    from totalcapital.model import Plan
    from totalcapital.model.solve import CountRowProof, SolverOptions, proven_by_relaxation

    model = line_of_four("off")
    best = model.solution.plan  # {A,C}: 22.1
    worse = Plan(np.array([[False], [True], [True], [False]]), np.array([[1], [1], [2], [2]]))
    assert model.planning.cost(worse) == pytest.approx(22.3)
    options = SolverOptions()
    # The count's bound rises from 0.4 (k = 1) to 2.5 (k = 3, not a true bound here, to see
    # the row at work): the LP of k = 1 is dropped, and k = 3's value is three sites' worth.
    rising = CountRowProof(model.formulation, model.arrays, options, None)
    rising.offer(0.4)
    rising.offer(2.5)
    rising.offer(2.2)  # no rise: nothing new started
    assert rising.run_for(1) is None and len(rising._threads) == 2
    assert rising.run_for(3).objective == pytest.approx(31.1)
    rising.stop()
    # The true bound, k = 2: the LP's value is the optimum, which proves {A,C} and not {B,C}.
    proof = CountRowProof(model.formulation, model.arrays, options, None)
    proof.offer(1.5)
    relaxed = proof.run_for(2)
    assert relaxed.objective == pytest.approx(22.1)
    proven = proven_by_relaxation(model.formulation, best, relaxed, options)
    assert proven.status == "optimal" and proven.check.objective == pytest.approx(22.1)
    assert proven.gap == 0.0 and "fewest-sites row" in proven.notes[0]
    assert proven_by_relaxation(model.formulation, worse, relaxed, options) is None
    # A bound no higher than the sites locked open (none here: k = 0) starts nothing.
    idle = CountRowProof(model.formulation, model.arrays, options, None)
    idle.offer(-0.5)
    assert idle.run_for(0) is None and not idle._threads
    proof.stop()


def test_a_mip_reports_its_bound_and_what_the_listener_raises_is_not_lost():
    from totalcapital.model.solve import run_solver

    rng = np.random.default_rng(0)
    n = 60
    model = CoLocationModel.from_arrays(
        np.full(n, 100.0), np.full(n, 3.0), np.ones(n), rng.uniform(0, 1, (n, n))
    )
    heard: list[float] = []
    run = run_solver(model.arrays, "highs", 30, 0.0, None, None, False, True, heard.append)
    finite = [b * model.arrays.objective_scale for b in heard if np.isfinite(b)]
    # The bound as it rises, in the solver's units, up to the final one.
    assert run.status == "optimal" and len(finite) > 1
    assert finite == sorted(finite) and finite[-1] <= run.best_bound * (1 + 1e-9)

    class Listener(Exception):
        pass

    def listener(bound: float) -> None:
        raise Listener(bound)

    # HiGHS would swallow it inside its callback; the run stops and it is raised after.
    with pytest.raises(Listener):
        run_solver(model.arrays, "highs", 30, 0.0, None, None, False, True, listener)


def test_a_fewest_sites_bound_no_higher_than_the_locked_sites_is_dropped():
    # B and C locked open already cover d1-d3: the count proves 2, which the locks say anyway.
    solution = line_of_four("on", open_lower=np.array([0, 1, 1, 0])).solution
    assert solution.plan.opened.tolist() == [False, True, True, False]
    assert solution.objective == pytest.approx(22.3)
    assert "every plan keeps at least" not in solution.verification


def test_the_fewest_sites_row_ignores_a_site_in_no_row():
    # Site 2 costs nothing and takes no service, so PuLP leaves its column out of the model.
    cost = np.array([[1.0, 2.0, np.inf], [2.0, 1.0, np.inf]])
    model = CoLocationModel.from_arrays(
        [10.0, 10.0, 0.0], [5.0] * 3, [1.0, 1.0], cost, site_count_bound="on"
    ).solve()
    solution = model.solution
    assert solution.status == "optimal" and solution.objective == pytest.approx(13.0)
    assert solution.plan.opened[:2].tolist() == [False, True]
    assert "every plan keeps at least 1 sites (proven least" in solution.verification


def test_no_solver_call_is_started_that_would_overrun_the_limit():
    import time

    from totalcapital.model.solve import (
        MIN_SOLVER_SECONDS,
        SOLVER_SETUP_SECONDS_PER_MILLION_NONZEROS,
        _time_for_a_call,
    )

    arrays = line_of_four("off").arrays
    now = time.perf_counter()
    assert _time_for_a_call(arrays, None) is None
    assert _time_for_a_call(arrays, now + MIN_SOLVER_SECONDS / 2) == 0.0
    assert _time_for_a_call(arrays, now + 10.0) == pytest.approx(10.0, abs=0.1)
    # Set-up grows with the nonzeros: 2 million of them need 7 s before HiGHS looks at its clock.
    from dataclasses import replace

    from scipy import sparse

    big = replace(arrays, rows=sparse.csr_array(np.ones((2000, 1000))))
    setup = SOLVER_SETUP_SECONDS_PER_MILLION_NONZEROS * 2.0
    assert _time_for_a_call(big, time.perf_counter() + setup - 1.0) == 0.0
    assert _time_for_a_call(big, time.perf_counter() + setup + 1.0) > setup


def test_a_reused_solver_gets_its_time_limit_from_now():
    """HiGHS measures its time limit against every run of the object so far; a column
    generation re-solving one master would find its limit spent after the first rounds."""
    import highspy
    from scipy import sparse

    from totalcapital.model.solve import _new_highs, set_time_left

    m, n = 400, 800
    rows = sparse.random(m, n, density=0.02, random_state=1, format="csr")
    highs = _new_highs()
    highs.setOptionValue("output_flag", False)
    highs.addVars(n, np.zeros(n), np.full(n, 10.0))
    highs.changeColsCost(n, np.arange(n, dtype=np.int32), -np.linspace(0.5, 1.0, n))
    highs.addRows(
        m, np.full(m, -highspy.kHighsInf), np.ones(m), rows.nnz,
        rows.indptr.astype(np.int32), rows.indices.astype(np.int32), rows.data,
    )  # fmt: skip
    while highs.getRunTime() < 1.0:  # run time builds up over repeated solves (ms each)
        highs.clearSolver()
        highs.run()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    highs.clearSolver()
    highs.setOptionValue("time_limit", 0.5)  # HiGHS's own reading: already spent
    highs.run()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
    highs.clearSolver()
    set_time_left(highs, 0.5, mip=False)
    highs.run()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal


def test_the_fewest_sites_row_is_used_where_sites_cost_the_same():
    from dataclasses import replace

    from totalcapital.model.solve import uses_count_bound

    rng = np.random.default_rng(0)
    n = 120
    cost = rng.uniform(0, 1, (n, n))
    model = CoLocationModel.from_arrays(np.full(n, 100.0), np.full(n, 3.0), np.ones(n), cost)
    planning = model.planning
    assert uses_count_bound("auto", planning)
    assert not uses_count_bound("off", planning)
    uneven = planning.site_cost.copy()
    uneven[0] *= 1.2  # one site 20% dearer than the rest
    assert not uses_count_bound("auto", replace(planning, site_cost=uneven))
    few = CoLocationModel.from_arrays(
        np.full(50, 100.0), np.full(50, 3.0), np.ones(50), cost[:50, :50]
    )
    assert not uses_count_bound("auto", few.planning) and uses_count_bound("on", few.planning)


def test_closure_impact_counts_the_people_only_one_site_covers():
    # D1 (100) only A reaches in 10 minutes, D2 (300) only B; a third point both reach.
    times = travel(["A", "B"], ["D1", "D2", "D4"], [[5, 20, 5], [20, 5, 5]])
    points = demand({"D1": 100.0, "D2": 300.0, "D4": 600.0})
    sc = scenario(standards=[fire_standard("share", 0.0)])
    model = CoLocationModel.from_estate(fire_estate(), sc, times, points)
    impact = model.planning.closure_impact()
    assert impact[["site_id", "weight_lost"]].values.tolist() == [["A", 100.0], ["B", 300.0]]
    assert impact["share_lost"].tolist() == pytest.approx([0.1, 0.3])


def test_presolve_is_skipped_only_on_large_dated_models():
    from totalcapital.model.solve import PRESOLVE_AUTO_MAX_NONZEROS, SolverOptions

    auto = SolverOptions()
    assert auto.presolve_on(dated=False, nonzeros=10 * PRESOLVE_AUTO_MAX_NONZEROS)
    assert auto.presolve_on(dated=True, nonzeros=PRESOLVE_AUTO_MAX_NONZEROS)
    assert not auto.presolve_on(dated=True, nonzeros=PRESOLVE_AUTO_MAX_NONZEROS + 1)
    assert SolverOptions(presolve="on").presolve_on(dated=True, nonzeros=10**9)
    assert not SolverOptions(presolve="off").presolve_on(dated=False, nonzeros=1)
