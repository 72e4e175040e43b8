"""Every solver answer is checked: cross-checks against enumeration, lying solvers, proven
diagnoses."""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
import pytest
from enumeration import enumerate_best, random_estate
from model_cases import demand, estate, scenario, travel, two_sites

from totalcapital._errors import InfeasibleScenario, SolverError
from totalcapital.model import CoLocationModel
from totalcapital.model import solve as solve_module
from totalcapital.model.diagnose import diagnose, relax
from totalcapital.model.solve import LpArrays, SolverOptions, relative_gap, run_solver

# --------------------------------------------------------------------------- cross-check


def solved_or_none(arrays: dict, solver: str, count: str = "auto") -> CoLocationModel | None:
    try:
        return CoLocationModel.from_arrays(**arrays, solver=solver, site_count_bound=count).solve()
    except InfeasibleScenario:
        return None


@pytest.mark.parametrize(
    ("solver", "seeds", "count"),
    [
        ("highs", range(0, 150), "auto"),
        ("highs", range(150, 300), "auto"),
        ("cbc", range(0, 150), "auto"),
        ("highs", range(300, 400), "on"),
    ],
    ids=["highs-0-149", "highs-150-299", "cbc-0-149", "highs-fewest-sites-300-399"],
)
def test_solvers_agree_with_enumeration_on_random_estates(solver, seeds, count):
    """Each solver's verified optimum equals the brute-force optimum; infeasible agrees too.
    With the fewest-sites row ("on"), the row never cuts off the optimum."""
    feasible = 0
    for seed in seeds:
        arrays = random_estate(seed)
        best = enumerate_best(arrays)
        model = solved_or_none(arrays, solver, count)
        assert (best is None) == (model is None), f"seed {seed}"
        if best is None:
            continue
        feasible += 1
        solution = model.solution
        assert solution.status == "optimal", f"seed {seed}"
        assert solution.gap == 0.0
        assert solution.objective == pytest.approx(best[0], rel=1e-9, abs=1e-6), f"seed {seed}"
        # The reported plan costs what it says, by the enumerator's own arithmetic.
        cost = arrays["assignment_cost"]
        site_of = solution.plan.final_site
        own = (
            arrays["objective_constant"]
            + float(arrays["fixed_cost"][solution.plan.opened].sum())
            + float(cost[np.arange(len(site_of)), site_of].sum())
        )
        assert own == pytest.approx(best[0], rel=1e-9, abs=1e-6), f"seed {seed}"
        if count == "on":
            # The count is reported unless the sites locked open already say as much.
            counted = "sites (proven least, by the site-count model" in solution.verification
            locked = int(np.asarray(arrays["open_lower"]).sum())
            assert counted or 0 < locked, f"seed {seed}"
            if counted:
                fewest = int(solution.verification.split("keeps at least ")[1].split()[0])
                assert locked < fewest <= int(solution.plan.opened.sum()), f"seed {seed}"
    assert feasible >= len(seeds) * 0.6  # the generator keeps most estates feasible


# --------------------------------------------------------------------------- false optimal


def test_a_solver_that_reports_a_better_objective_than_its_plan_is_caught(monkeypatch, caplog):
    """The first call returns the start's columns with a better objective, as HiGHS 1.16 can."""
    model = CoLocationModel.from_estate(two_sites(), scenario())
    real = solve_module.run_solver
    calls: list[bool] = []

    def lying(arrays, solver, limit, gap, threads, start=None, integral=False, presolve=True):
        calls.append(start is not None)
        run = real(arrays, solver, limit, gap, threads, start, integral, presolve)
        if start is None:
            return run
        return dataclasses.replace(run, values=start, objective=run.objective - 50_000)

    monkeypatch.setattr(solve_module, "run_solver", lying)
    with caplog.at_level(logging.WARNING):
        model.solve()
    assert calls == [True, False]  # re-solved without the start
    solution = model.solution
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(-100_000)  # keep A, sell B: the true optimum
    assert "re-solved without the starting plan" in solution.verification
    assert "reported an objective of £-150,000.00 for a plan whose cost is £300,000.00" in (
        solution.verification
    )
    assert "re-solving without the starting plan" in caplog.text


def test_a_run_whose_plan_failed_the_check_lends_no_bound_to_the_next(monkeypatch):
    """The first run lies about its plan and claims a bound (-50,000) above the true optimum
    (-100,000); the re-solve finds the optimum but proves only -400,000. Its plan must be
    judged on its own bound: unproven, with the bound shown the one the gap rests on."""
    model = CoLocationModel.from_estate(two_sites(), scenario())
    real = solve_module.run_solver

    def lying_then_weak(
        arrays, solver, limit, gap, threads, start=None, integral=False, presolve=True
    ):
        run = real(arrays, solver, limit, gap, threads, start, integral, presolve)
        if start is None:
            return dataclasses.replace(run, best_bound=run.objective - 300_000)
        claimed = run.objective + 50_000
        return dataclasses.replace(run, values=start, objective=claimed, best_bound=claimed)

    monkeypatch.setattr(solve_module, "run_solver", lying_then_weak)
    solution = model.solve().solution
    assert solution.objective == pytest.approx(-100_000)
    assert solution.status == "unproven"
    assert solution.best_bound == pytest.approx(-400_000)
    assert solution.gap == pytest.approx(3.0)


def test_a_checked_plan_is_kept_when_the_re_solve_runs_out_of_time(monkeypatch):
    """The start's plan, reported with a wrong objective, is still a lawful plan: when the
    re-solve finds nothing, it is reported at its checked cost and never called optimal."""
    model = CoLocationModel.from_estate(two_sites(), scenario())
    real = solve_module.run_solver

    def lying_then_empty(
        arrays, solver, limit, gap, threads, start=None, integral=False, presolve=True
    ):
        run = real(arrays, solver, limit, gap, threads, start, integral, presolve)
        if start is None:
            return dataclasses.replace(run, has_solution=False, values=None, status="time_limit")
        return dataclasses.replace(run, values=start, objective=run.objective - 50_000)

    monkeypatch.setattr(solve_module, "run_solver", lying_then_empty)
    solution = model.solve().solution
    assert solution.status == "unproven"
    assert solution.objective == pytest.approx(300_000)  # today's plan, recomputed
    assert solution.gap == pytest.approx((300_000 + 100_000) / 300_000)
    assert "against the solver's bound" in solution.verification


def test_a_plan_that_breaks_a_rule_is_never_reported(monkeypatch):
    """A solver that always answers with a plan over a site's floor space is refused."""
    model = CoLocationModel.from_estate(two_sites(gia_m2=50.0), scenario())
    formulation = model.formulation
    real = solve_module.run_solver

    def crowding(arrays, solver, limit, gap, threads, start=None, integral=False, presolve=True):
        run = real(arrays, solver, limit, gap, threads, None, integral, presolve)
        values = run.values.copy()
        position = {id(v): i for i, v in enumerate(arrays.variables)}
        # Both services at B (50 m2 for 80 m2 of services), A sold.
        for var, value in zip(
            formulation.open_vars + formulation.housed_vars,
            [1.0, 1.0, 0.0, 1.0, 0.0, 1.0],
            strict=True,
        ):
            values[position[id(var)]] = value
        objective = float(arrays.cost @ values) * arrays.objective_scale
        return dataclasses.replace(run, values=values, objective=objective)

    monkeypatch.setattr(solve_module, "run_solver", crowding)
    with pytest.raises(
        SolverError, match=r"failed the check .* site B in 2025-26: 80 m2 housed in 50"
    ):
        model.solve()
    assert model.solution is None


def mishandled_starts(seeds: range) -> list[int]:
    """Seeds whose start HiGHS answers with a plan costing other than the objective it reports."""
    found = []
    for seed in seeds:
        arrays = random_estate(seed)
        try:
            model = CoLocationModel.from_arrays(**arrays)
        except InfeasibleScenario:
            continue
        start = model.planning.today_plan()
        if start is None:
            continue
        formulation = model.formulation
        lp = LpArrays.from_lp(formulation.lp, formulation.objective_scale)
        run = run_solver(
            lp, "highs", 10.0, 0.0, None, lp.start_vector(formulation.start_values(start))
        )
        if run.values is None:
            continue
        returned = float(lp.cost @ run.values) * lp.objective_scale
        if abs(returned - run.objective) > 1e-6 * max(1.0, abs(returned)):
            found.append(seed)
    return found


def test_starts_this_highs_mishandles_are_caught_and_re_solved():
    """On the random estates, HiGHS 1.16 mishandles a few starts; each is caught and fixed."""
    seeds = mishandled_starts(range(300))
    if not seeds:
        pytest.skip("this HiGHS no longer mishandles any start of the 300 random estates")
    for seed in seeds:
        arrays = random_estate(seed)
        model = CoLocationModel.from_arrays(**arrays).solve()
        assert "re-solved without the starting plan" in model.solution.verification
        assert model.solution.status == "optimal"
        assert model.solution.objective == pytest.approx(enumerate_best(arrays)[0], rel=1e-9)


# --------------------------------------------------------------------------- gap and status


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_gap_has_one_definition_for_every_solver(solver):
    """A run stopped by the clock reports (objective - bound) / |objective| of the verified plan."""
    rng = np.random.default_rng(7)
    n_sites, n_services = 30, 150
    space = rng.integers(5, 35, n_services).astype(float)
    capacity = rng.integers(80, 160, n_sites).astype(float) * n_services / n_sites / 4
    xy_sites = rng.uniform(0, 100, (n_sites, 2))
    xy_services = rng.uniform(0, 100, (n_services, 2))
    distance = np.hypot(*(xy_services[:, None, :] - xy_sites[None, :, :]).transpose(2, 0, 1))
    # Today: services packed site by site, so each solver has a plan from the first second.
    today = np.minimum(np.cumsum(space) // (capacity.min() * 0.9), n_sites - 1).astype(int)
    capacity = np.maximum(capacity, np.bincount(today, weights=space, minlength=n_sites))
    model = CoLocationModel.from_arrays(
        rng.integers(400, 900, n_sites).astype(float),
        capacity,
        space,
        distance * space[:, None] / 10,
        current_site=today,
        solver=solver,
        time_limit=2.0,
    ).solve()
    solution = model.solution
    assert solution.status == "time_limit"
    assert model.planning.check(solution.plan).objective == solution.objective
    if np.isnan(solution.best_bound):  # a busy machine may stop before the first bound
        assert np.isnan(solution.gap)
        return
    assert solution.best_bound < solution.objective
    assert solution.gap == pytest.approx(relative_gap(solution.objective, solution.best_bound))
    assert solution.gap == pytest.approx(
        (solution.objective - solution.best_bound) / abs(solution.objective)
    )


def test_gap_comes_from_the_bound_and_the_checked_cost(monkeypatch):
    """Whatever gap a solver computes, the reported one is (checked cost - bound) / cost."""
    model = CoLocationModel.from_estate(two_sites(), scenario())
    real = solve_module.run_solver

    def stopped(arrays, solver, limit, gap, threads, start=None, integral=False, presolve=True):
        run = real(arrays, solver, limit, gap, threads, start, integral, presolve)
        return dataclasses.replace(run, status="time_limit", best_bound=-125_000.0)

    monkeypatch.setattr(solve_module, "run_solver", stopped)
    solution = model.solve().solution
    assert solution.status == "time_limit"
    assert solution.objective == pytest.approx(-100_000)
    assert solution.gap == pytest.approx(25_000 / 100_000)


def test_solution_says_what_was_verified():
    model = CoLocationModel.from_estate(two_sites(), scenario()).solve()
    # 2 services housed once, 2 sites within their locks.
    assert model.solution.verification == "cost and 4 rules recomputed from the plan: all hold"


# --------------------------------------------------------------------------- diagnosis


def bisect_confirms(problem, relaxation, options: SolverOptions) -> None:
    """Relaxed by the amount a plan exists; relaxed by one unit less, none does."""
    unit = {"£": 1_000.0, "people": 1.0}[relaxation.unit]
    for amount, feasible in ((relaxation.amount, True), (relaxation.amount - unit, False)):
        relaxed = relax(problem, relaxation.group, amount)
        try:
            model = CoLocationModel(relaxed, options)
            model.solve()
            found = True
        except InfeasibleScenario:
            found = False
        assert found is feasible, (relaxation.describe(), amount)


def test_budget_diagnosis_on_the_hub_is_confirmed_by_bisection():
    """The demo hub with a £1m budget: the named shortfall is exactly what a re-solve needs."""
    from pathlib import Path

    from totalcapital.estate import load_estate
    from totalcapital.network import compute_travel_times
    from totalcapital.scenario import load_scenario

    root = Path(__file__).resolve().parents[1]
    sc = load_scenario(root / "scenarios" / "blue-light-hub.yaml")
    tight = {"capital_budget": 1e6, "budget_counts": ["builds", "moves", "backlog"]}
    sc = sc.model_copy(update={"finance": sc.finance.model_copy(update=tight)})
    case = load_estate(sc.estate)
    points = case.demand
    times = compute_travel_times(case.sites, points, sc.travel.model_copy(update={"cache": False}))
    model = CoLocationModel.from_estate(case, sc, times, points)
    with pytest.raises(InfeasibleScenario) as raised:
        model.solve()
    budget = [r for r in raised.value.relaxations if r.group.startswith("side")]
    assert len(budget) == 1 and budget[0].alone and budget[0].proven
    assert budget[0].amount == 2_377_000
    bisect_confirms(model.planning, budget[0], model.options)


def infeasible_variants(seeds: range):
    """Random estates made infeasible by tightening one money row or cover target."""
    for seed in seeds:
        arrays = random_estate(seed)
        if enumerate_best(arrays) is None:
            continue
        rng = np.random.default_rng(seed)
        sides = list(arrays["side_constraints"])
        if sides:
            i = int(rng.integers(0, len(sides)))
            shift = 150_000.0 if sides[i].sense == ">=" else -150_000.0
            sides[i] = dataclasses.replace(sides[i], rhs=sides[i].rhs + shift)
        coverage = list(arrays["coverage"])
        if coverage and rng.random() < 0.5:
            coverage[0] = dataclasses.replace(coverage[0], rule="share", share=1.0)
        tight = {**arrays, "side_constraints": sides, "coverage": coverage}
        if enumerate_best(tight) is None:
            yield seed, tight


def test_every_named_shortfall_is_confirmed_by_bisection():
    """On random infeasible estates each single-rule shortfall is exact to its unit."""
    checked = 0
    for _seed, arrays in infeasible_variants(range(60)):
        try:
            model = CoLocationModel.from_arrays(**arrays)
        except InfeasibleScenario:
            continue  # found before solving: no relaxed solve to confirm
        reasons, relaxations = diagnose(model.planning, model.options, None)
        assert reasons
        for relaxation in relaxations:
            if relaxation.alone and relaxation.group != "capacity":
                bisect_confirms(model.planning, relaxation, model.options)
                checked += 1
    assert checked >= 10


def test_diagnosis_names_the_uncovered_points_of_a_rule_all():
    """Fire must reach D1 and D2; the only engine can stand at A (reaches D1) or B (D2)."""
    case = estate(
        [{"site_id": "A"}, {"site_id": "B", "easting": 451_000.0}],
        [{"service_id": "F", "current_site": "A", "service_type": "fire_station"}],
    )
    times = travel(["A", "B"], ["D1", "D2"], [[5, 20], [20, 5]])
    standard = {"name": "fire_10min", "service_types": ["fire_station"], "minutes": 10}
    sc = scenario(standards=[{**standard, "rule": "all"}])
    with pytest.raises(InfeasibleScenario) as raised:
        CoLocationModel.from_estate(case, sc, times, demand({"D1": 30.0, "D2": 70.0})).solve()
    (found,) = raised.value.relaxations
    assert (found.group, found.amount, found.unit, found.where) == (
        "cover:0",
        30.0,
        "people",
        ("D1",),
    )
    assert "fire_10min (everyone within 10 minutes): 30 people short of the target (at D1)" in (
        str(raised.value)
    )


def test_with_no_time_left_the_checked_start_is_reported_without_a_solver():
    model = CoLocationModel.from_estate(two_sites(), scenario())
    start = model.planning.today_plan()
    outcome = solve_module.solve_verified(
        model.formulation, model.options, start, deadline=time.perf_counter() - 1.0
    )
    assert outcome.status == "time_limit" and np.isnan(outcome.gap)
    assert outcome.check.objective == pytest.approx(300_000)
    assert outcome.run.solver_status == "not run: no time left"
