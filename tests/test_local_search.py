"""The neighbourhood search that improves large plans before the full solve."""

from __future__ import annotations

import numpy as np
import pytest
from model_cases import decisions, placement, scenario, two_sites
from scipy import sparse

from totalcapital.model import CoLocationModel, CoverageRequirement, Plan, SideConstraint
from totalcapital.model import search as local_search
from totalcapital.model.search import improve, neighbourhoods
from totalcapital.model.solve import LpArrays, run_solver


def random_partnership(
    seed: int = 5, n_sites: int = 36, n_services: int = 54, n_points: int = 80, reach: float = 30
):
    """A random estate with every kind of row: two cover rules, budget, partner row, clash.

    Services may move up to ``reach`` units; half the sites are over-provided, so today's plan is
    feasible (each rule is set from today) and far from the best.
    """
    rng = np.random.default_rng(seed)
    site_xy = rng.uniform(0, 100, (n_sites, 2))
    holder = np.concatenate([np.arange(n_sites), rng.integers(0, n_sites, n_services - n_sites)])
    service_xy = site_xy[holder]
    space = rng.uniform(10, 40, n_services).round()
    capacity = np.bincount(holder, weights=space, minlength=n_sites) * rng.uniform(
        1.2, 2.5, n_sites
    )
    distance = np.hypot(*(service_xy[:, None, :] - site_xy[None, :, :]).transpose(2, 0, 1))
    cost = np.where(distance <= reach, distance * 100, np.inf)
    fixed = rng.uniform(2_000, 9_000, n_sites).round()
    kind = rng.choice(["fire", "police", "library", "care"], n_services)
    # Today police sit only at odd sites and care only at even ones, so they never share.
    kind[(kind == "police") & (holder % 2 == 0)] = "library"
    kind[(kind == "care") & (holder % 2 == 1)] = "library"
    points = rng.uniform(0, 100, (n_points, 2))
    to_points = np.hypot(*(site_xy[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    weights = rng.integers(100, 1_000, n_points).astype(float)

    def requirement(name: str, types: list[str], radius: float, rule: str, share: float = 1.0):
        reach = sparse.csr_array(to_points <= radius)
        providers = np.isin(kind, types)
        hosts = np.zeros(n_sites, dtype=bool)
        hosts[holder[providers]] = True
        before = np.asarray(reach[hosts].sum(axis=0)).ravel() > 0
        if rule == "share":
            share = share * float(weights[before].sum()) / float(weights.sum())
        return CoverageRequirement(
            name,
            (reach,),
            (providers,),
            weights,
            rule,
            share,
            before,
            "response",
            tuple(types),
            radius,
        )

    capex = rng.uniform(0, 5_000, n_sites).round()
    budget = SideConstraint("budget", "capital budget", capex, None, 0.0, "<=", float(capex.sum()))
    police = kind == "police"

    def police_gain(k: np.ndarray, s: np.ndarray) -> np.ndarray:
        # Police gain when their services sit at low-numbered sites; today sets the floor.
        return np.where(police[k], (n_sites - s) * 10.0, 0.0)

    floor = float(police_gain(np.arange(n_services), holder).sum())
    partner = SideConstraint(
        "partner_POLICE",
        "partner POLICE NPV gain",
        np.zeros(n_sites),
        police_gain,
        0.0,
        ">=",
        floor,
    )
    model = CoLocationModel.from_arrays(
        fixed,
        capacity,
        space,
        cost,
        coverage=[
            requirement("fire", ["fire"], 25.0, "no_worse_than_today"),
            requirement("library", ["library"], 30.0, "share", share=0.97),
        ],
        demand_ids=[f"D{d}" for d in range(n_points)],
        current_site=holder,
        side_constraints=[budget, partner],
        incompatible=[("police", "care", police, kind == "care")],
        local_search="off",
    )
    return model


def is_feasible(model: CoLocationModel, plan: Plan) -> bool:
    """Fix the full model at ``plan`` and ask the solver whether every row holds.

    Independent of the plan check the search itself relies on.
    """
    formulation = model.formulation
    chosen = np.zeros(len(model.planning.pair_site), dtype=bool)
    chosen[model.planning.chosen_pairs(plan)[:, 0]] = True
    arrays = LpArrays.from_lp(formulation.lp, formulation.objective_scale)
    lower, upper = arrays.lower.copy(), arrays.upper.copy()
    position = {id(v): i for i, v in enumerate(arrays.variables)}
    fixed = zip(
        formulation.open_vars + formulation.housed_vars,
        np.concatenate([plan.opened, chosen]).astype(float),
        strict=True,
    )
    for var, value in fixed:
        lower[position[id(var)]] = upper[position[id(var)]] = value
    pinned = LpArrays(
        arrays.variables,
        arrays.cost,
        lower,
        upper,
        arrays.integer,
        arrays.rows,
        arrays.row_lower,
        arrays.row_upper,
        arrays.objective_scale,
    )
    return run_solver(pinned, "highs", 30.0, 0.0, None).status == "optimal"


def plan_cost(model: CoLocationModel, plan: Plan) -> float:
    return model.planning.plan_cost(plan)


def search(model: CoLocationModel, plan: Plan):
    return improve(model.planning, plan, model.options, None)


def test_search_keeps_every_rule_and_lowers_the_cost(monkeypatch):
    monkeypatch.setattr(local_search, "NEIGHBOURHOOD_STEPS", ((6, 1.0),))
    model = random_partnership()
    today = model.today_plan()
    assert is_feasible(model, today)
    plan, report = search(model, today)
    assert is_feasible(model, plan)
    assert report.improved > 0
    assert report.final_cost == pytest.approx(plan_cost(model, plan))
    assert plan_cost(model, plan) < plan_cost(model, today)
    # The full model proves the optimum, which no heuristic plan can beat.
    model.solve()
    assert model.solution.status == "optimal"
    best = model.solution.objective - model.planning.objective_constant
    assert plan_cost(model, plan) >= best - 1e-6


def test_one_neighbourhood_of_every_site_finds_the_optimum(monkeypatch):
    # A larger size after it is never tried: one neighbourhood already holds every site.
    monkeypatch.setattr(local_search, "NEIGHBOURHOOD_STEPS", ((1_000, 30.0), (2_000, 30.0)))
    monkeypatch.setattr(local_search, "NEIGHBOURHOOD_GAP", 0.0)
    model = random_partnership(seed=11, n_sites=16, n_services=24, n_points=40, reach=200)
    plan, report = search(model, model.today_plan())
    assert report.passes == 2  # the second pass finds nothing left to gain
    assert report.largest == 1_000
    model.solve()
    best = model.solution.objective - model.planning.objective_constant
    assert plan_cost(model, plan) == pytest.approx(best, rel=1e-9)


def test_a_search_stuck_in_small_neighbourhoods_goes_on_in_larger_ones(monkeypatch):
    monkeypatch.setattr(local_search, "NEIGHBOURHOOD_GAP", 0.0)
    model = random_partnership(seed=11, n_sites=16, n_services=24, n_points=40, reach=200)
    today = model.today_plan()
    monkeypatch.setattr(local_search, "NEIGHBOURHOOD_STEPS", ((3, 1.0),))
    small, small_report = search(model, today)
    monkeypatch.setattr(local_search, "NEIGHBOURHOOD_STEPS", ((3, 1.0), (1_000, 30.0)))
    grown, grown_report = search(model, today)
    model.solve()
    best = model.solution.objective - model.planning.objective_constant
    # Three sites at a time get stuck well above the optimum; the same passes, then one
    # neighbourhood of every site, reach it.
    assert plan_cost(model, small) > best * 1.1
    assert plan_cost(model, grown) == pytest.approx(best, rel=1e-9)
    assert is_feasible(model, grown)
    assert (small_report.largest, grown_report.largest) == (3, 1_000)
    # The larger size starts only after a pass of the smaller one gained nothing, and its
    # second pass finds nothing left.
    assert grown_report.passes == small_report.passes + 2
    assert "up to 1000 sites each" in grown_report.describe()


class FakeClock:
    """The search's clock: each neighbourhood solved takes one 'second'."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


def scripted_search(monkeypatch, gains: bool, deadline: float | None):
    """Run the search on 36 sites with a stub neighbourhood solve; returns what each solve
    was given (sites, seconds), the report and the progress fractions."""
    clock = FakeClock()
    given: list[tuple[int, float]] = []

    def solve(problem, plan, group, options, seconds, deadline):
        given.append((len(group), seconds))
        clock.now += 1.0
        return gains

    monkeypatch.setattr(local_search, "time", clock)
    monkeypatch.setattr(local_search, "_improve_neighbourhood", solve)
    monkeypatch.setattr(local_search, "NEIGHBOURHOOD_STEPS", ((6, 0.5), (12, 2.0)))
    monkeypatch.setattr(local_search, "MAX_PASSES", 3)
    model = random_partnership()  # 36 sites: 6 neighbourhoods of 6, or 3 of 12
    fractions: list[float] = []
    _, report = improve(
        model.planning,
        model.today_plan(),
        model.options,
        deadline,
        lambda text, done: fractions.append(done),
    )
    return given, report, fractions


def test_each_size_gets_its_seconds_and_at_most_max_passes(monkeypatch):
    given, report, fractions = scripted_search(monkeypatch, gains=True, deadline=None)
    # Every pass gains: MAX_PASSES passes of 6 sites (0.5 s each), then of 12 (2 s each).
    sizes = [size for size, _ in given]
    assert given[:18] == [(6, 0.5)] * 18
    assert sizes[18:] == [12] * 9 and {seconds for _, seconds in given[18:]} == {2.0}
    assert (report.passes, report.largest, report.neighbourhoods) == (6, 12, 27)
    assert fractions == sorted(fractions) and 0 < fractions[0] and fractions[-1] == 1.0


def test_a_pass_that_gains_nothing_moves_to_the_next_size_at_once(monkeypatch):
    given, report, _ = scripted_search(monkeypatch, gains=False, deadline=None)
    assert given == [(6, 0.5)] * 6 + [(12, 2.0)] * 3
    assert (report.passes, report.largest) == (2, 12)


def test_the_deadline_stops_the_search_between_neighbourhoods(monkeypatch):
    # Out of time as the first pass ends: no pass of the next size is started or reported.
    given, report, fractions = scripted_search(monkeypatch, gains=False, deadline=6.0)
    assert given == [(6, 0.5)] * 6
    assert (report.passes, report.largest) == (1, 6)
    assert "up to 6 sites each" in report.describe()
    # Out of time two neighbourhoods into the second size.
    given, report, fractions = scripted_search(monkeypatch, gains=False, deadline=8.0)
    assert given == [(6, 0.5)] * 6 + [(12, 2.0)] * 2
    assert (report.passes, report.neighbourhoods, report.largest) == (2, 8, 12)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_neighbourhoods_cover_every_site_once_and_follow_the_moves():
    # Two clusters of three sites; services may only move inside their cluster.
    cost = np.full((6, 6), np.inf)
    for cluster in ([0, 1, 2], [3, 4, 5]):
        for k in cluster:
            cost[k, cluster] = 1.0
    model = CoLocationModel.from_arrays(
        np.ones(6), np.full(6, 10.0), np.ones(6), cost, current_site=np.arange(6)
    )
    groups = neighbourhoods(model.planning, size=3)
    assert sorted(map(tuple, groups)) == [(0, 1, 2), (3, 4, 5)]
    assert sorted(np.concatenate(neighbourhoods(model.planning, size=2, seed=4)).tolist()) == list(
        range(6)
    )


def test_separate_places_are_each_solved_exactly(monkeypatch):
    """Two places far apart; in each, the cheap site takes the other's service."""
    monkeypatch.setattr(local_search, "NEIGHBOURHOOD_STEPS", ((2, 1.0),))
    cost = np.full((4, 4), np.inf)
    cost[np.ix_([0, 1], [0, 1])] = [[0.0, 50.0], [30.0, 0.0]]
    cost[np.ix_([2, 3], [2, 3])] = [[0.0, 20.0], [70.0, 0.0]]
    model = CoLocationModel.from_arrays(
        np.array([100.0, 400.0, 500.0, 200.0]),
        np.full(4, 10.0),
        np.full(4, 5.0),
        cost,
        site_ids=["A1", "A2", "B1", "B2"],
        service_ids=["a1", "a2", "b1", "b2"],
        current_site=np.arange(4),
    )
    plan, report = search(model, model.today_plan())
    assert plan.opened.tolist() == [True, False, False, True]
    assert plan.final_site.tolist() == [0, 0, 3, 3]
    assert report.improved == 2
    assert report.final_cost == 100 + 30 + 200 + 20


def test_scenario_switch_runs_the_search_and_the_full_solve_still_proves():
    said: list[tuple[str, float]] = []
    on = CoLocationModel.from_estate(two_sites(), scenario(solver={"local_search": "on"}))
    on.solve(progress=lambda text, done: said.append((text, done)))
    assert said[0][0].startswith("improving the plan, neighbourhood 1/1, pass 1")
    assert said[-1] == ("whole model", 0.6)
    assert all(0 <= done <= 0.6 for _, done in said)
    off = CoLocationModel.from_estate(two_sites(), scenario(solver={"local_search": "off"})).solve()
    assert on.solution.local_search.startswith("1 of ")
    assert on.solution.local_search.endswith("-> £-0.1m")
    assert off.solution.local_search == ""
    assert on.solution.status == off.solution.status == "optimal"
    assert decisions(on) == decisions(off) == {"A": "keep", "B": "dispose"}
    assert placement(on) == {"SA": "A", "SB": "A"}
    assert on.solution.objective == off.solution.objective == -100_000
