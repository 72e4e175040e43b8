"""The dated programme on hand-solvable estates: each timing rule, with exact years and £.

Money is simple on purpose (see ``model_cases``): discount rate 0 and a 10-year horizon, so
the window is the horizon and every sum is plain arithmetic. The plan starts on 1 April
2025, the first day of financial year 2025-26 (numbered 2025). Every case also checks that
the model's objective equals the whole-life cost recomputed year by year from the dated
decisions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from model_cases import demand, estate, scenario, travel

from totalcapital import programme
from totalcapital._errors import InfeasibleScenario, ScenarioError
from totalcapital.model import CoLocationModel
from totalcapital.pipeline import build_result

FIRST = 2025  # the plan starts on 1 April 2025, financial year 2025-26


def solved(case, sc, times=None, points=None):
    """Solve and build the result; the objective must equal the year-by-year figures."""
    model = CoLocationModel.from_estate(case, sc, times, points).solve()
    timing = programme.Timing.of_model(model, case, sc)
    result = build_result(case, sc, model.solution, points, None, timing)
    assert result.totals["npv_cost_after"] == pytest.approx(model.solution.objective, abs=1e-6)
    return model, result


def years_of(result) -> dict[str, int | None]:
    """site_id -> decision year of every site that changes."""
    years = result.sites["decision_year"]
    return {site: int(year) for site, year in years.items() if not pd.isna(year)}


def leased(**lease) -> object:
    """A (free to keep, worthless) and leasehold B (20,000/yr); B's service fits at A."""
    b = {"site_id": "B", "tenure": "leasehold", "running_cost": 20_000.0, **lease}
    return estate(
        [{"site_id": "A", "running_cost": 0.0}, b],
        [{"service_id": "SA", "current_site": "A"}, {"service_id": "SB", "current_site": "B"}],
    )


def test_a_lease_is_given_up_at_its_break_and_saves_rent_only_from_then():
    # Break on 30 June 2028 (in FY 2028-29): rent is paid for 2025-26 .. 2028-29 (4 years,
    # 80,000), the lease ends from FY 2029-30 at its exit cost (10,000).
    case = leased(lease_break="2028-06-30", lease_exit_cost=10_000.0)
    model, result = solved(case, scenario())
    assert model.solution.site_decision.to_dict() == {"A": "keep", "B": "exit_lease"}
    assert years_of(result) == {"B": 2029}
    assert result.moves.set_index("service_id")["move_year"].to_dict() == {"SB": 2029}
    assert model.solution.objective == pytest.approx(80_000 + 10_000)
    table = result.programme.set_index(["financial_year", "partner"])
    assert table.loc[(2029, "COUNCIL"), "lease_exit_costs"] == 10_000
    assert table.loc[(2028, "COUNCIL"), "running_saving"] == 0
    assert table.loc[(2029, "COUNCIL"), "running_saving"] == 20_000
    # Timeless, the same lease saved rent from the first day: 10,000 in all.
    timeless = solved(case, scenario(programme={"enabled": False}))[0]
    assert timeless.solution.objective == pytest.approx(10_000)


def test_a_lease_may_instead_run_to_its_end_and_leave_for_nothing():
    # Break in FY 2028-29 at 30,000, end on 31 March 2030 (FY 2030-31 starts free):
    # leave at the break 80,000 + 30,000; run to the end 100,000 of rent, no exit cost.
    case = leased(lease_break="2028-06-30", lease_exit_cost=30_000.0, lease_end="2030-03-31")
    model, result = solved(case, scenario())
    assert years_of(result) == {"B": 2030}
    assert result.sites.loc["B", "exit_cost"] == 0
    assert model.solution.objective == pytest.approx(100_000)


def test_with_exits_in_any_year_the_lease_end_is_still_free():
    # No break; leaving costs 150,000 in any year but the lease's last (it ends 31 March
    # 2030, so FY 2030-31 starts free): leave now 150,000, in year k 20,000 k + 150,000, at
    # the end 5 years of rent, 100,000. The model must cost the end as the programme does.
    case = leased(lease_exit_cost=150_000.0, lease_end="2030-03-31")
    model, result = solved(case, scenario(rules={"lease_exit_at_break_only": False}))
    assert years_of(result) == {"B": 2030}
    assert result.sites.loc["B", "exit_cost"] == 0
    assert model.solution.objective == pytest.approx(100_000)
    # With a cheaper exit, leaving at once is best, at its cost.
    case = leased(lease_exit_cost=90_000.0, lease_end="2030-03-31")
    model, result = solved(case, scenario(rules={"lease_exit_at_break_only": False}))
    assert years_of(result) == {"B": FIRST}
    assert model.solution.objective == pytest.approx(90_000)


def test_a_break_before_the_plan_starts_has_passed():
    # The break (15 March 2025) comes before the start (1 April 2025): the lease can only
    # run to its end, 5 years of rent. Were the break still open, leaving at once would cost
    # only its 10,000.
    case = leased(lease_break="2025-03-15", lease_exit_cost=10_000.0, lease_end="2030-03-31")
    model, result = solved(case, scenario())
    assert years_of(result) == {"B": 2030}
    assert result.sites.loc["B", "exit_cost"] == 0
    assert model.solution.objective == pytest.approx(100_000)
    # A break on the start day itself is still open.
    case = leased(lease_break="2025-04-01", lease_exit_cost=10_000.0, lease_end="2030-03-31")
    model, result = solved(case, scenario())
    assert years_of(result) == {"B": FIRST}
    assert model.solution.objective == pytest.approx(10_000)


def test_a_lease_that_ended_before_the_first_year_may_go_at_once_for_nothing():
    # Ended 28 February 2025; the plan starts on 15 July 2025, so its first year is 2026-27.
    case = leased(lease_end="2025-02-28", lease_exit_cost=50_000.0)
    model, result = solved(case, scenario(finance={"start_date": "2025-07-15"}))
    assert years_of(result) == {"B": FIRST + 1}
    assert result.sites.loc["B", "exit_cost"] == 0
    assert model.solution.objective == pytest.approx(0)


def test_a_yearly_budget_for_a_year_before_the_first_is_refused():
    sc = scenario(finance={"start_date": "2025-07-15", "capital_budget_per_year": {2025: 1.0}})
    with pytest.raises(ScenarioError, match=r"from 2026-27, the programme's first .* 2025-26"):
        CoLocationModel.from_estate(leased(), sc)


def test_a_plan_starting_part_way_through_a_year_starts_with_the_next():
    """Started on 15 March, the programme's first year is the one starting on 1 April: no
    saving, sale or exit is booked in a year that is almost gone before the plan begins."""
    case = leased(lease_break="2025-06-30", lease_exit_cost=10_000.0)
    model, result = solved(case, scenario(finance={"start_date": "2025-03-15"}))
    assert result.programme["financial_year"].min() == FIRST
    assert years_of(result) == {"B": FIRST + 1}
    assert model.solution.objective == pytest.approx(20_000 + 10_000)


def fire_and_hub(build_years: float | None = 2.0):
    """Fire station F (50,000/yr, worth 100,000) and candidate hub H (build 80,000, 10,000/yr)."""
    hub = {
        "site_id": "H",
        "status": "candidate",
        "running_cost": 10_000.0,
        "build_cost": 80_000.0,
        "appliance_bays": True,
    }
    if build_years is not None:
        hub["build_years"] = build_years
    return estate(
        [
            {"site_id": "F", "running_cost": 50_000.0, "market_value": 100_000.0},
            hub,
        ],
        [{"service_id": "FS", "current_site": "F", "service_type": "fire_station"}],
    )


FIRE_COVER = {
    "name": "fire_10min",
    "service_types": ["fire_station"],
    "minutes": 10,
    "rule": "no_worse_than_today",
}
# Both F and H reach D1 in time.
HUB_TIMES = travel(["F", "H"], ["D1"], [[5.0], [6.0]])
HUB_DEMAND = demand({"D1": 1_000.0})


def test_a_new_build_hosts_only_once_built_and_cover_holds_every_year():
    # F stays until the hub opens in FY 2027-28; then the engine moves and F is sold.
    # F 2 years 100,000 - 100,000 receipt + build 80,000 + hub 8 years 80,000 = 160,000.
    sc = scenario(rules={"allow_new_builds": True}, standards=[FIRE_COVER])
    model, result = solved(fire_and_hub(), sc, HUB_TIMES, HUB_DEMAND)
    assert model.solution.site_decision.to_dict() == {"F": "dispose", "H": "build"}
    assert years_of(result) == {"F": FIRST + 2, "H": FIRST + 2}
    assert result.sites.loc["H", "build_start_year"] == FIRST
    assert result.moves.set_index("service_id")["move_year"].to_dict() == {"FS": FIRST + 2}
    assert model.solution.objective == pytest.approx(160_000)
    assert result.coverage.loc[0, "share_lowest"] == pytest.approx(1.0)
    # Every year the plan's engine reaches D1: never a year without cover.
    for e in range(model.planning.n_epochs):
        covered = model.planning.covered_points(
            model.planning.coverage[0], model.solution.plan.site_of[:, e]
        )
        assert covered.all()


def test_a_build_that_cannot_finish_in_the_window_is_not_started():
    sc = scenario(rules={"allow_new_builds": True}, standards=[FIRE_COVER])
    model, result = solved(fire_and_hub(build_years=12.0), sc, HUB_TIMES, HUB_DEMAND)
    assert model.solution.site_decision.to_dict() == {"F": "keep", "H": "not_built"}
    assert model.solution.objective == pytest.approx(500_000)


def three_sites_two_moves():
    """A keeps (free); B and C (30,000/yr, worth 50,000) can each send their service to A at
    30,000 of fit-out (30 m2 x 1,000)."""
    return estate(
        [
            {"site_id": "A", "running_cost": 0.0},
            {"site_id": "B", "running_cost": 30_000.0, "market_value": 50_000.0},
            {"site_id": "C", "running_cost": 30_000.0, "market_value": 50_000.0},
        ],
        [
            {"service_id": "SA", "current_site": "A", "space_m2": 30.0},
            {
                "service_id": "SB",
                "current_site": "B",
                "space_m2": 30.0,
                "fit_out_cost_per_m2": 1_000.0,
            },
            {
                "service_id": "SC",
                "current_site": "C",
                "space_m2": 30.0,
                "fit_out_cost_per_m2": 1_000.0,
            },
        ],
    )


def test_a_yearly_budget_spreads_the_moves_over_the_years():
    # 30,000 a year buys one move a year: B and C are cleared one year apart. Either order
    # costs the same: one site runs a year longer (30,000) than with no budget.
    sc = scenario(finance={"capital_budget_per_year": 30_000.0})
    model, result = solved(three_sites_two_moves(), sc)
    assert sorted(years_of(result).values()) == [FIRST, FIRST + 1]
    # Unlimited: both go at once, -2 x 50,000 + 2 x 30,000 = -40,000.
    free = solved(three_sites_two_moves(), scenario())[0]
    assert free.solution.objective == pytest.approx(-40_000)
    assert model.solution.objective == pytest.approx(-40_000 + 30_000)
    spend = result.programme.query("partner == 'Total'")["capital_spend"].to_numpy()
    assert spend[:2].tolist() == [30_000, 30_000] and not spend[2:].any()


def test_receipts_fund_spending_only_after_the_recycling_lag():
    # No budget, all receipts recycled a year after they come in: the empty depot D sells at
    # once (50,000), which funds one move the year after; the second move waits for B's
    # receipt, a year later again.
    case = estate(
        [
            {"site_id": "A", "running_cost": 0.0},
            {"site_id": "B", "running_cost": 30_000.0, "market_value": 50_000.0},
            {"site_id": "C", "running_cost": 30_000.0, "market_value": 50_000.0},
            {"site_id": "D", "status": "surplus", "running_cost": 0.0, "market_value": 50_000.0},
        ],
        three_sites_two_moves().services.reset_index().to_dict("records"),
    )
    sc = scenario(
        finance={
            "capital_budget_per_year": 0.0,
            "receipts_recycled_share": 1.0,
            "recycling_lag_years": 1,
        }
    )
    model, result = solved(case, sc)
    assert years_of(result) == {"D": FIRST, "B": FIRST + 1, "C": FIRST + 2} or years_of(result) == {
        "D": FIRST,
        "C": FIRST + 1,
        "B": FIRST + 2,
    }
    # B and C run 1 and 2 extra years: 90,000 more than -90,000 (D, B, C all at once).
    assert model.solution.objective == pytest.approx(-90_000 + 90_000)
    # With no lag the depot's receipt funds a move at once and B's the other: all in year one.
    quick = scenario(finance={"capital_budget_per_year": 0.0, "receipts_recycled_share": 1.0})
    assert set(years_of(solved(case, quick)[1]).values()) == {FIRST}


def test_at_most_one_disposal_a_year():
    case = estate(
        [
            {"site_id": "A", "running_cost": 0.0},
            {
                "site_id": "P",
                "status": "surplus",
                "running_cost": 5_000.0,
                "market_value": 10_000.0,
            },
            {
                "site_id": "Q",
                "status": "surplus",
                "running_cost": 8_000.0,
                "market_value": 10_000.0,
            },
        ],
        [{"service_id": "SA", "current_site": "A"}],
    )
    model, result = solved(case, scenario(programme={"max_disposals_per_year": 1}))
    # The dearer Q goes first: P runs one more year (5,000).
    assert years_of(result) == {"Q": FIRST, "P": FIRST + 1}
    assert model.solution.objective == pytest.approx(-20_000 + 5_000)


def test_residual_value_keeps_a_freehold_a_short_sighted_plan_would_sell():
    # B is worth 100,000 and costs 5,000/yr; its service could move to A for 60,000.
    # Sell B: -100,000 + 60,000 = -40,000. Keep B: 50,000 of running, and B is still worth
    # 100,000 at the horizon's end: -50,000.
    case = estate(
        [
            {"site_id": "A", "running_cost": 0.0},
            {"site_id": "B", "running_cost": 5_000.0, "market_value": 100_000.0},
        ],
        [
            {"service_id": "SA", "current_site": "A"},
            {"service_id": "SB", "current_site": "B", "fit_out_cost_per_m2": 1_500.0},
        ],
    )
    kept = solved(case, scenario(finance={"residual_value": True}))[0]
    assert kept.solution.site_decision["B"] == "keep"
    assert kept.solution.objective == pytest.approx(50_000 - 100_000)
    sold = solved(case, scenario())[0]  # residual value off in these cases by default
    assert sold.solution.site_decision["B"] == "dispose"
    assert sold.solution.objective == pytest.approx(-40_000)


def test_with_nothing_to_wait_for_the_dated_plan_is_the_timeless_plan():
    """Every year a decision point, and the same answer as deciding once at the start."""
    rng = np.random.default_rng(4)
    sites = [
        {
            "site_id": f"S{i}",
            "running_cost": float(rng.integers(5, 40) * 1_000),
            "market_value": float(rng.integers(0, 300) * 1_000),
            "gia_m2": 100.0,
            "backlog_cost": float(rng.integers(0, 50) * 1_000),
        }
        for i in range(5)
    ]
    services = [
        {
            "service_id": f"K{k}",
            "current_site": f"S{k % 5}",
            "space_m2": float(rng.integers(20, 50)),
            "staff": float(rng.integers(0, 10)),
        }
        for k in range(7)
    ]
    case = estate(sites, services)
    yearly = solved(case, scenario(programme={"every_year": True}))
    once = solved(case, scenario(programme={"enabled": False}))
    assert yearly[0].planning.n_epochs == 10
    assert yearly[0].solution.objective == pytest.approx(once[0].solution.objective)
    assert yearly[0].solution.site_decision.equals(once[0].solution.site_decision)
    assert set(years_of(yearly[1]).values()) == {FIRST}


def test_compensation_leaves_every_partner_no_worse_off():
    gains = pd.Series({"FIRE": -30_000.0, "POLICE": 60_000.0, "COUNCIL": 30_000.0})
    years = programme.FinancialYears(2026, 10, 25, 0.0)
    paid = programme.compensation(gains, years)
    assert set(paid["payer"]) == {"POLICE", "COUNCIL"} and set(paid["payee"]) == {"FIRE"}
    assert len(paid) == 20  # two payers x ten years
    by_payer = paid.groupby("payer")["amount"].sum()
    # Rate 0: the yearly sums add up to the loss, split 2:1 as the gains are.
    assert by_payer["POLICE"] == pytest.approx(20_000)
    assert by_payer["COUNCIL"] == pytest.approx(10_000)
    discounted = programme.FinancialYears(2026, 10, 25, 0.035)
    present = programme.compensation(gains, discounted)
    factors = discounted.end_factor(present["financial_year"].to_numpy() - 2026)
    assert float((present["amount"] * factors).sum()) == pytest.approx(30_000)
    # No loser, or not enough saved to pay the losers: nothing is paid.
    assert programme.compensation(gains.abs(), years).empty
    assert programme.compensation(pd.Series({"A": -50.0, "B": 10.0}), years).empty


def test_locked_disposal_waits_for_cover():
    """A site locked for disposal goes once its service can leave without a gap in cover."""
    sc = scenario(
        rules={"allow_new_builds": True},
        standards=[FIRE_COVER],
        locks={"dispose_sites": ["F"]},
    )
    model, result = solved(fire_and_hub(), sc, HUB_TIMES, HUB_DEMAND)
    assert years_of(result)["F"] == FIRST + 2
    with pytest.raises(InfeasibleScenario):
        solved(fire_and_hub(build_years=12.0), sc, HUB_TIMES, HUB_DEMAND)


def test_a_large_dated_model_starts_from_its_phased_timeless_plan():
    """Where the timeless twin ends up, phased by a restricted solve: the same optimum."""
    sc = scenario(
        rules={"allow_new_builds": True},
        standards=[FIRE_COVER],
        solver={"local_search": "on"},
    )
    model = CoLocationModel.from_estate(fire_and_hub(), sc, HUB_TIMES, HUB_DEMAND)
    assert model.twin is not None and model.twin.n_epochs == 1
    model.solve()
    assert model.solution.objective == pytest.approx(160_000)
    # The phased plan was the start: today's 500,000 down to the optimum.
    assert model.solution.local_search.endswith("£0.5m -> £0.2m")
    assert model.solution.status == "optimal"


def test_a_run_whose_two_costings_differ_reports_nothing(monkeypatch):
    """The programme's year-by-year cost of a plan must be the model's verified cost; a
    costing that drifts by more than £1 stops the run before any figure is built."""
    case = leased(lease_break="2028-06-30", lease_exit_cost=10_000.0)
    sc = scenario()
    model = CoLocationModel.from_estate(case, sc, None, None).solve()
    timing = programme.Timing.of_model(model, case, sc)
    assert build_result(case, sc, model.solution, None, None, timing).totals[
        "npv_cost_after"
    ] == pytest.approx(90_000)
    counted = programme.totals

    def drifted(*args, **kwargs):
        totals = counted(*args, **kwargs)
        return {**totals, "npv_cost_after": totals["npv_cost_after"] + 1.5}

    monkeypatch.setattr(programme, "totals", drifted)
    with pytest.raises(RuntimeError, match=r"£90,001.50, is not .* £90,000.00"):
        build_result(case, sc, model.solution, None, None, timing)
