"""Decomposition by site: every bound it gives is a lower bound, its plans keep every rule."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import numpy as np
import pytest
from enumeration import enumerate_best, random_estate

from totalcapital.model import CoLocationModel, decompose
from totalcapital.model.decompose import (
    SiteBlocks,
    _Block,
    cheapest_pattern,
    cheapest_pattern_with_cuts,
    price_and_branch,
    uses_decomposition,
)
from totalcapital.model.solve import SolverOptions, with_bound


def decomposed(seeds):
    """For each random estate with a plan and a lawful plan today: the seed, its optimum, the
    model, today's plan, and what ``price_and_branch`` gives without a time limit."""
    for seed in seeds:
        arrays = random_estate(seed)
        best = enumerate_best(arrays)
        if best is None:
            continue
        model = CoLocationModel.from_arrays(**arrays)
        start = model.planning.today_plan()
        if start is None or not model.planning.check(start).holds:
            continue
        split = SiteBlocks.of(model.formulation, model.arrays)
        assert split is not None, f"seed {seed}"
        plan, report = price_and_branch(
            model.formulation, model.arrays, split, start, SolverOptions(), None
        )
        assert report.converged, f"seed {seed}: no time limit, so the columns run out"
        yield seed, best[0], model, start, plan, report


@pytest.mark.parametrize("master", ["simplex", "interior point"])
def test_the_bound_never_exceeds_the_optimum_and_the_plan_keeps_every_rule(master, monkeypatch):
    """On 150 random estates with every kind of rule, against brute-force enumeration, with
    the master LP solved by the simplex method (small models) and by the interior-point method
    without crossover (large ones): its prices are not a vertex's, and the bound must hold."""
    if master == "interior point":
        monkeypatch.setattr(decompose, "INTERIOR_MASTER_ROWS", 0)
    monkeypatch.setattr(decompose, "REGION_SITES", 0)  # the columns' own bound
    runs = tight = 0
    for seed, best, model, start, plan, report in decomposed(range(150)):
        runs += 1
        assert report.bound <= best + 1e-6 * max(1.0, abs(best)), f"seed {seed}"
        tight += math.isclose(report.bound, best, rel_tol=1e-6, abs_tol=1e-3)
        assert plan is not None, f"seed {seed}: the start's own patterns are a plan"
        check = model.planning.check(plan)
        assert check.holds, f"seed {seed}"
        assert best - 1e-6 <= check.objective <= model.planning.cost(start) + 1e-6
    # Most seeds have a plan today; on some the bound is the optimum itself.
    assert runs >= 60 and tight >= 10


def test_smoothed_prices_change_the_path_not_the_bound(monkeypatch):
    """The Dantzig-Wolfe bound is one LP's value: priced at the master's own prices or part of
    the way back to the best bound's, the columns must end at the same bound (without cuts,
    which depend on the path)."""
    monkeypatch.setattr(decompose, "REGION_SITES", 0)
    monkeypatch.setattr(decompose, "CUTS_PER_ROUND", 0)
    ends = {}
    for smoothing in (0.0, 0.5):
        monkeypatch.setattr(decompose, "SMOOTHING", smoothing)
        ends[smoothing] = []
        for seed, best, *_, report in decomposed(range(60)):
            assert report.bound <= best + 1e-6 * max(1.0, abs(best)), f"seed {seed}"
            ends[smoothing].append((report.bound, report.rounds))
    plain, smoothed = ends[0.0], ends[0.5]
    assert len(plain) >= 25
    for (a, _), (b, _) in zip(plain, smoothed, strict=True):
        assert a == pytest.approx(b, rel=1e-6, abs=1e-3)
    # The smoothing did act: some estates took a different number of rounds.
    assert any(ra != rb for (_, ra), (_, rb) in zip(plain, smoothed, strict=True))


def test_regions_raise_the_bound_but_never_past_the_optimum(monkeypatch):
    """Regions of three sites, and one region holding every site, against the columns' own
    bound and brute-force enumeration: never above the optimum, never below the columns'
    bound, and above it on some estates. One region holding every site keeps every row whole
    (columns in no site stand in as one bounded column), so it proves most optima the
    columns alone do not. Without cuts: they stop once the regions' bound is above the master
    LP, so they could leave the bound below the columns' own with cuts."""
    monkeypatch.setattr(decompose, "CUTS_PER_ROUND", 0)
    bounds: dict[int, dict[int, float]] = {}
    optimum = {}
    for sites in (0, 3, 100):
        monkeypatch.setattr(decompose, "REGION_SITES", sites)
        bounds[sites] = {}
        for seed, best, *_, report in decomposed(range(100)):
            # Strictly: the regions' margins must cover their MIPs' tolerances.
            assert report.bound <= best, (seed, sites)
            assert report.regions_solved == report.regions, (seed, sites)
            bounds[sites][seed], optimum[seed] = report.bound, best
    columns = bounds[0]
    assert bounds[3].keys() == bounds[100].keys() == columns.keys() and len(columns) >= 50

    def above(a: float, b: float) -> bool:
        return a > b + 1e-6 * max(1.0, abs(b))

    raised = {sites: 0 for sites in (3, 100)}
    for seed, bound in columns.items():
        for sites in raised:
            assert not above(bound, bounds[sites][seed]), (seed, sites)
            raised[sites] += above(bounds[sites][seed], bound)
    below = [seed for seed, bound in columns.items() if above(optimum[seed], bound)]
    proven = [s for s in below if not above(optimum[s], bounds[100][s])]
    assert raised[3] >= 5 and raised[100] >= 25
    assert len(below) >= 25 and len(proven) >= 0.6 * len(below)


def test_the_whole_run_with_decomposition_on_agrees_with_enumeration():
    agreed = 0
    for seed in range(150, 200):
        arrays = random_estate(seed)
        best = enumerate_best(arrays)
        if best is None:
            continue
        model = CoLocationModel.from_arrays(**arrays, decomposition="on").solve()
        solution = model.solution
        assert solution.status == "optimal", f"seed {seed}"
        assert solution.objective == pytest.approx(best[0], rel=1e-9, abs=1e-6), f"seed {seed}"
        agreed += "decomposition by site" in solution.verification
    assert agreed >= 20


def block(**changes) -> _Block:
    """Site with room 10: items a (space 6), b (5), c (4), d (4); d is forced (no other
    site); b and c provide a standard; a and c are incompatible kinds."""
    fields = {
        "site": 0,
        "open_col": 0,
        "may_open": True,
        "may_close": False,
        "items": np.array([1, 2, 3, 4]),
        "weight": np.array([6, 5, 4, 4]),
        "capacity": 10,
        "space": np.array([6.0, 5.0, 4.0, 4.0]),
        "floor_space": 10.0,
        "forced": np.array([False, False, False, True]),
        "provides": np.array([5]),
        "provides_members": [np.array([1, 2])],
        "hosts": np.array([6, 7]),
        "hosts_members": [np.array([0]), np.array([2])],
        "incompatible": [(0, 1)],
    }
    fields.update(changes)
    return _Block(**fields)


def test_cheapest_pattern_is_exact_on_a_hand_case():
    # Open costs 10; housing a saves 9, b 3, c 2, d costs 1; providing earns 5.
    reduced = np.array([10.0, -9.0, -3.0, -2.0, 1.0, -5.0, 0.0, 0.0])
    # d is forced (4 of 10 m2). a (6) fits beside it: 10 - 9 + 1 = 2. b (5) and c (4) do
    # not both fit; b + provides: 10 - 3 - 5 + 1 = 3; a + c is banned and does not fit.
    value, x = cheapest_pattern(block(), reduced)
    assert value == pytest.approx(2.0)
    assert x == {0: 1.0, 1: 1.0, 4: 1.0, 6: 1.0}
    # Providing worth 10: b with it beats a: 10 - 3 - 10 + 1 = -2.
    reduced[5] = -10.0
    value, x = cheapest_pattern(block(), reduced)
    assert value == pytest.approx(-2.0)
    assert x == {0: 1.0, 2: 1.0, 4: 1.0, 5: 1.0}
    # Without the forced service the site may close, and closing (0) beats -2 + 1 - 1 ...
    free = block(forced=np.array([False, False, False, False]), may_close=True)
    reduced = np.array([10.0, -9.0, -3.0, -2.0, 1.0, -5.0, 0.0, 0.0])
    value, x = cheapest_pattern(free, reduced)
    assert (value, x) == (0.0, {})
    # ... and a site that cannot open has only the closed pattern.
    value, x = cheapest_pattern(block(may_open=False, may_close=True), reduced)
    assert (value, x) == (0.0, {})


def test_a_decomposition_bound_that_closes_the_gap_proves_the_plan():
    model = CoLocationModel.from_arrays(
        [10.0, 10.0], [5.0, 5.0], [1.0], np.array([[0.0, 1.0]]), decomposition="off"
    ).solve()
    outcome_like = model.solution
    assert outcome_like.status == "optimal" and outcome_like.objective == pytest.approx(10.0)

    from dataclasses import replace

    from totalcapital.model.solve import SolverRun, VerifiedPlan

    run = SolverRun("time_limit", "Time limit reached", True, 10.0, 8.0, 1.0)
    check = model.planning.check(outcome_like.plan)
    outcome = VerifiedPlan(outcome_like.plan, check, run, "time_limit", 0.2)
    lifted = with_bound(outcome, 10.0, SolverOptions(mip_gap=0.0), integral=False)
    assert lifted.status == "optimal" and lifted.gap == 0.0 and lifted.run.best_bound == 10.0
    assert "the bound is the decomposition's" in lifted.notes[-1]
    partly = with_bound(outcome, 9.0, SolverOptions(mip_gap=0.0), integral=False)
    assert partly.status == "time_limit" and partly.gap == pytest.approx(0.1)
    assert with_bound(outcome, 7.0, SolverOptions(), integral=False) is outcome
    assert with_bound(replace(outcome), math.nan, SolverOptions(), integral=False).gap == 0.2


def test_auto_decomposes_timeless_models_given_time_for_their_size():
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    n = 80
    model = CoLocationModel.from_arrays(
        np.full(n, 100.0), np.full(n, 3.0), np.ones(n), rng.uniform(0, 1, (n, n))
    )
    planning = model.planning  # 6,400 allowed pairs: 64 s at 10 ms a pair
    assert uses_decomposition("auto", planning, None)
    assert uses_decomposition("auto", planning, 64.0)
    assert not uses_decomposition("auto", planning, 63.0)  # the search then
    assert uses_decomposition("on", planning, 1.0)
    assert not uses_decomposition("off", planning, None)
    small = CoLocationModel.from_arrays([1.0, 1.0], [2.0, 2.0], [1.0], np.zeros((1, 2)))
    assert not uses_decomposition("auto", small.planning, None)
    assert uses_decomposition("on", small.planning, 60.0)
    dated = SimpleNamespace(n_epochs=2, pair_site=planning.pair_site)
    assert not uses_decomposition("on", dated, None)


def test_decomposition_under_auto_gives_way_to_an_explicit_search(monkeypatch):
    monkeypatch.setattr(decompose, "AUTO_MIN_PAIRS", 0)  # a small model counts as mid-sized
    for seed in range(20):  # the first estate whose plan today keeps every rule
        arrays = random_estate(seed)
        planning = CoLocationModel.from_arrays(**arrays).planning
        today = planning.today_plan()
        if today is not None and planning.check(today).holds:
            break
    arrays.pop("local_search")
    searched = CoLocationModel.from_arrays(**arrays, local_search="on").solve().solution
    assert "decomposition by site" not in searched.verification and searched.local_search
    split = CoLocationModel.from_arrays(**arrays).solve().solution
    assert "decomposition by site" in split.verification
    # The search then starts from the decomposition's plan (£1.0m), not from today's.
    decomposed = split.verification.split("plan £")[1].split(" -> ")[1].split(",")[0]
    assert split.local_search.split(": ")[1].startswith(decomposed + " -> ")
    # "off" means no search, after a decomposition too.
    unsearched = CoLocationModel.from_arrays(**arrays, local_search="off", decomposition="on")
    solution = unsearched.solve().solution
    assert "decomposition by site" in solution.verification and solution.local_search == ""
    assert split.objective == pytest.approx(searched.objective)


def test_rows_are_read_by_shape_not_name():
    """A partner's row named like a block row, on one site's columns, goes to the master."""
    from totalcapital.model import SideConstraint

    for seed in range(40):
        arrays = random_estate(seed)
        n_sites = len(arrays["fixed_cost"])
        if enumerate_best(arrays) is None:
            continue
        today = arrays["current_site"]
        kept = int(today[0])  # today's plan keeps this site
        coef = np.zeros(n_sites)
        coef[kept] = 1.0
        for name in ("house_trap", "capacity_trap", "only_open_trap"):
            trap = SideConstraint(name, "a trap", coef, None, 0.0, ">=", 1.0)
            trapped = dict(arrays, side_constraints=[*arrays["side_constraints"], trap])
            best = enumerate_best(trapped)
            model = CoLocationModel.from_arrays(**trapped)
            start = model.planning.today_plan()
            if best is None or start is None or not model.planning.check(start).holds:
                continue
            split = SiteBlocks.of(model.formulation, model.arrays)
            names = [c.name for c in model.formulation.lp.constraints()]
            assert names.index(name) in split.link.tolist(), f"seed {seed}"
            _, report = price_and_branch(
                model.formulation, model.arrays, split, start, SolverOptions(), None
            )
            assert report.bound <= best[0] + 1e-6 * max(1.0, abs(best[0])), f"seed {seed}"
        return
    pytest.fail("no estate to try")


def knapsack_block(weight, provides_of, standards, capacity, may_close) -> _Block:
    """A site of the given floor space whose services (items 1..n, open column 0) have these
    spaces and each provides one of ``standards`` standards (columns n+1..)."""
    n = len(weight)
    return block(
        items=np.arange(1, n + 1),
        weight=weight,
        capacity=capacity,
        space=weight.astype(float),
        floor_space=float(capacity),
        forced=np.zeros(n, dtype=bool),
        provides=np.arange(n + 1, n + 1 + standards),
        provides_members=[np.flatnonzero(provides_of == g) for g in range(standards)],
        hosts=np.array([], dtype=int),
        hosts_members=[],
        incompatible=[],
        may_close=may_close,
    )


def cheapest_by_enumeration(b: _Block, provides_of, reduced, penalties=()) -> float:
    """The cheapest pattern of a :func:`knapsack_block`, from every subset of its services."""
    import itertools

    n = len(b.items)
    best = 0.0 if b.may_close else math.inf
    for chosen in itertools.product([0, 1], repeat=n):
        take = np.array(chosen, dtype=bool)
        if b.weight[take].sum() > b.capacity:
            continue
        provided = np.unique(provides_of[take])
        cost = reduced[0] + reduced[1 : n + 1][take].sum() + reduced[n + 1 + provided].sum()
        cost += sum(p for p, where in penalties if take[where].sum() >= 2)
        best = min(best, cost)
    return best


@pytest.mark.parametrize("standards", [3, 8])
def test_cheapest_pattern_against_every_subset(standards):
    """Exact with up to 6 standards; beyond, a lower bound whose pattern costs what it says."""
    rng = np.random.default_rng(standards)
    for _ in range(30):
        n = 8
        provides_of = rng.integers(0, standards, n)  # each service provides one standard
        b = knapsack_block(rng.integers(1, 6, n), provides_of, standards, 12, True)
        reduced = np.concatenate(
            [[rng.uniform(0, 5)], rng.uniform(-3, 2, n), rng.uniform(-4, 0, standards)]
        )
        best = cheapest_by_enumeration(b, provides_of, reduced)
        value, x = cheapest_pattern(b, reduced)
        own = sum(reduced[c] * v for c, v in x.items())
        if standards <= 6:
            assert value == pytest.approx(best) and own == pytest.approx(best)
        else:
            assert value <= best + 1e-9 <= own + 2e-9


def cost_with_penalties(b: _Block, reduced, x, penalties) -> float:
    """What pattern ``x`` costs, each cut it houses two or more services of paying its penalty."""
    taken = np.isin(b.items, list(x))
    own = sum(reduced[c] * v for c, v in x.items())
    return own + sum(p for p, where in penalties if taken[where].sum() >= 2)


def test_pricing_with_subset_row_cuts_against_every_subset(monkeypatch):
    """A pattern housing two or more of a cut's services pays its penalty: the branch and
    bound over cuts finds what every subset does, and its pattern costs what it says."""
    rng = np.random.default_rng(7)
    branched = short = 0
    for trial in range(40):
        n = 8
        provides_of = rng.integers(0, 2, n)
        b = knapsack_block(rng.integers(1, 6, n), provides_of, 2, 13, trial % 2 == 0)
        reduced = np.concatenate([[rng.uniform(0, 3)], rng.uniform(-4, 1, n), [-1.0, -0.5]])
        penalties = [
            (float(rng.uniform(0.5, 4)), np.sort(rng.choice(n, rng.integers(2, 4), replace=False)))
            for _ in range(rng.integers(1, 5))
        ]
        best = cheapest_by_enumeration(b, provides_of, reduced, penalties)
        value, x = cheapest_pattern_with_cuts(b, reduced, penalties)
        own = cost_with_penalties(b, reduced, x, penalties)
        assert value == pytest.approx(best) and own == pytest.approx(best), trial
        plain, _ = cheapest_pattern(b, reduced)
        branched += plain < best - 1e-9  # the penalties changed the answer
        # Cut short, the search still gives a lower bound, and a pattern costing what it says.
        for nodes in (1, 2, 3):
            monkeypatch.setattr(decompose, "CUT_PRICING_NODES", nodes)
            value, x = cheapest_pattern_with_cuts(b, reduced, penalties)
            own = cost_with_penalties(b, reduced, x, penalties)
            assert value <= best + 1e-9 <= own + 2e-9, (trial, nodes)
            short += value < best - 1e-9
        monkeypatch.undo()
    assert branched >= 10 and short >= 10


def test_subset_row_cuts_raise_the_bound_but_never_past_the_optimum(monkeypatch):
    """Against brute-force enumeration and the columns' own bound (no regions): with cuts
    the bound is never above the optimum nor below the columns' bound, and is above it on
    some estates; every plan keeps every rule."""
    monkeypatch.setattr(decompose, "REGION_SITES", 0)
    bounds: dict[int, dict[int, float]] = {}
    cut_counts = []
    for per_round in (0, decompose.CUTS_PER_ROUND):
        monkeypatch.setattr(decompose, "CUTS_PER_ROUND", per_round)
        bounds[per_round] = {}
        for seed, best, model, _, plan, report in decomposed(range(150)):
            assert report.bound <= best + 1e-6 * max(1.0, abs(best)), (seed, per_round)
            assert plan is not None and model.planning.check(plan).holds, seed
            bounds[per_round][seed] = report.bound
            if per_round:
                cut_counts.append(report.cuts)
    plain, cut = bounds[0], bounds[decompose.CUTS_PER_ROUND]
    assert plain.keys() == cut.keys() and len(plain) >= 60
    raised = 0
    for seed, bound in plain.items():
        assert cut[seed] >= bound - 1e-6 * max(1.0, abs(bound)), seed
        raised += cut[seed] > bound + 1e-6 * max(1.0, abs(bound))
    assert sum(cut_counts) > 0 and raised >= 3


def _chain_master():
    """Three sites in a row; service 0 may sit at site 0 or 1, service 1 at site 1 or 2. The
    master over hand-made patterns (block, services, cost): today's plan has each service
    alone at an outer site (cost 10); site 1 housing both costs 4."""
    import highspy

    patterns = [
        (0, (), 0.0), (0, (0,), 5.0),
        (1, (), 0.0), (1, (0,), 3.0), (1, (1,), 3.0), (1, (0, 1), 4.0),
        (2, (), 0.0), (2, (1,), 5.0),
    ]  # fmt: skip
    model = highspy.Highs()
    model.setOptionValue("output_flag", False)
    model.addRows(5, np.ones(5), np.ones(5), 0, np.zeros(1, np.int32), np.zeros(0, np.int32), [])
    for block, services, cost in patterns:
        rows = np.array([*services, 2 + block], dtype=np.int32)
        model.addCol(cost, 0.0, 1.0, len(rows), rows, np.ones(len(rows)))
    n = len(patterns)
    model.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.ones(n, dtype=np.uint8))
    problem = SimpleNamespace(
        n_sites=3,
        n_services=2,
        pair_service=np.array([0, 0, 1, 1]),
        pair_site=np.array([0, 1, 1, 2]),
    )
    today = np.zeros(n)
    today[[1, 2, 7]] = 1.0
    return (
        problem,
        model.getModel(),
        [b for b, _, _ in patterns],
        [c for _, _, c in patterns],
        today,
    )


@pytest.mark.parametrize(
    ("sites", "cost", "chosen"), [(1, 10.0, [1, 2, 7]), (2, 4.0, [0, 5, 6]), (3, 4.0, [0, 5, 6])]
)
def test_neighbourhoods_of_patterns_free_only_their_sites(monkeypatch, sites, cost, chosen):
    """One site at a time cannot move a service (the other site holding it keeps its pattern);
    two neighbouring sites can, and passes go on until site 1 houses both."""
    monkeypatch.setattr(decompose, "MASTER_NEIGHBOURHOOD_SITES", sites)
    problem, model, blocks, costs, today = _chain_master()
    values, solved, improved = decompose.improve_over_patterns(
        problem, model, 0, np.arange(3), np.array(blocks), np.array(costs), today,
        SolverOptions(), time.perf_counter() + 60,
    )  # fmt: skip
    assert float(np.dot(costs, values)) == pytest.approx(cost)
    assert np.flatnonzero(values > 0.5).tolist() == chosen
    if sites == 1:
        assert (solved, improved) == (3, 0)  # one pass, nothing gained
    elif sites == 3:
        assert (solved, improved) == (2, 1)  # the whole estate, then a pass that gains nothing
    else:
        assert improved >= 1 and solved > improved
    # The model is left as it came: every pattern may be chosen again.
    assert np.array(model.lp_.col_upper_).tolist() == [1.0] * len(costs)
