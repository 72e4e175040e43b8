"""Improve a large plan one neighbourhood at a time before the whole model is solved.

At county scale the solver spends its whole time limit on the root of the full model and can
hand back the starting plan unimproved. Fix-and-optimise does better: the sites of one
neighbourhood and the services they house are freed, everything else stays as the plan has it,
and the small model that is left is solved exactly. A neighbourhood's choices only change the
plan if they lower its cost, and they keep every rule: the fixed rest of the plan enters each
small model as constants (cover already given by sites outside, budget and partner figures of
the fixed sites and services). The improved plan then starts the full solve, whose bound gives
the honest gap.

Neighbourhoods come from the allowed pairs, not from coordinates: two sites are neighbours when
some service may be housed at either, so a neighbourhood is the set of sites among which
services can actually move.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from .formulation import Formulation
from .problem import POINT_RULES, CoverageRequirement, Plan, PlanningProblem, SideConstraint
from .solve import LpArrays, SolverOptions, plan_of_run, run_solver

log = logging.getLogger(__name__)

#: Under ``local_search="auto"``, models with more allowed pairs than this are searched first;
#: smaller ones (the demo, Rutland) solve whole to optimality in a second, and a search
#: would only add time.
AUTO_MIN_PAIRS = 3_000
#: (sites per neighbourhood, seconds each may take), smallest first. Once a pass of one size
#: gains nothing, the next passes use the next size: a plan no 15 sites can improve often
#: still gives way to 40 (measured on a synthetic county of 1,000 sites: £426.3m to £420.6m
#: in 150 s, against a Dantzig-Wolfe bound of £412.3m). Larger neighbourhoods get longer, as
#: their good plans come later.
NEIGHBOURHOOD_STEPS: tuple[tuple[int, float], ...] = ((15, 1.0), (40, 4.0), (100, 10.0))
#: Share of the time limit the search may use; the full solve keeps the rest for its bound.
SEARCH_TIME_SHARE = 0.6
#: The relative gap at which a neighbourhood may stop: its good plans come fast, proving them
#: exactly is what takes long.
NEIGHBOURHOOD_GAP = 0.005
#: Passes over the whole estate at most, for each size (each draws new borders).
MAX_PASSES = 10


@dataclass(frozen=True)
class SearchReport:
    """What the search did, for the run's report; costs in the objective's £ (constant in)."""

    start_cost: float
    final_cost: float
    neighbourhoods: int
    improved: int
    passes: int
    seconds: float
    largest: int = 0

    def describe(self) -> str:
        """Short enough for a summary table: "3 of 6 improved, 2 passes, up to 15 sites each:
        £47.3m -> £33.5m" (``largest`` 0: no neighbourhood sizes to tell)."""
        sizes = f", up to {self.largest} sites each" if self.largest else ""
        return (
            f"{self.improved} of {self.neighbourhoods} improved, {self.passes} passes{sizes}: "
            f"£{self.start_cost / 1e6:,.1f}m -> £{self.final_cost / 1e6:,.1f}m"
        )


def neighbourhoods(
    problem: PlanningProblem, size: int | None = None, seed: int = 0
) -> list[np.ndarray]:
    """Groups of about ``size`` site positions (default: the first of
    :data:`NEIGHBOURHOOD_STEPS`) that together cover every site.

    Each group grows breadth-first from a seed site over the "shares a candidate service"
    graph; seed sites are taken in a pseudo-random order fixed by ``seed`` so runs repeat and
    each pass can draw its borders elsewhere. Groups left small (isolated sites) are merged so
    no solve is spent on a single site.
    """
    size = NEIGHBOURHOOD_STEPS[0][0] if size is None else size
    n_sites = problem.n_sites
    graph = site_graph(problem)
    in_group = np.zeros(n_sites, dtype=bool)
    groups: list[np.ndarray] = []
    for start in np.random.default_rng(seed).permutation(n_sites):
        if in_group[start]:
            continue
        reached = csgraph.breadth_first_order(
            graph, int(start), directed=False, return_predecessors=False
        )
        group = reached[~in_group[reached]][:size]
        in_group[group] = True
        groups.append(group)
    merged: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    for group in groups:
        if len(group) >= size // 2:
            merged.append(np.sort(group))
            continue
        pending.append(group)
        if sum(len(g) for g in pending) >= size // 2:
            merged.append(np.sort(np.concatenate(pending)))
            pending = []
    if pending:
        merged.append(np.sort(np.concatenate(pending)))
    return merged


def site_graph(problem: PlanningProblem) -> sparse.csr_array:
    """Sites linked when some service may be housed at both."""
    pairs = sparse.csr_array(
        (np.ones(len(problem.pair_site)), (problem.pair_service, problem.pair_site)),
        shape=(problem.n_services, problem.n_sites),
    )
    return sparse.csr_array((pairs.T @ pairs) > 0)


def improve(
    problem: PlanningProblem,
    plan: Plan,
    options: SolverOptions,
    deadline: float | None,
    progress: Callable[[str, float], None] | None = None,
) -> tuple[Plan, SearchReport]:
    """Improve ``plan`` neighbourhood by neighbourhood, in larger neighbourhoods each time a
    pass gains nothing, until a pass of the largest size gains nothing or time is up.

    Parameters
    ----------
    problem : PlanningProblem
    plan : Plan
        A feasible plan (today's plan as a rule).
    options : SolverOptions
        The solver, threads and gap; each neighbourhood gets the seconds its size has in
        :data:`NEIGHBOURHOOD_STEPS` and stops within :data:`NEIGHBOURHOOD_GAP`.
    deadline : float, optional
        ``time.perf_counter()`` value after which no new neighbourhood is started. Without
        one the search ends only when the largest size gains nothing, which on thousands of
        sites can take an hour (up to :data:`MAX_PASSES` passes of each size).
    progress : callable, optional
        ``progress(text, fraction_done)`` after each neighbourhood; the fraction never falls.

    Returns
    -------
    Plan, SearchReport
    """
    started = time.perf_counter()
    plan = plan.copy()
    start_cost = problem.cost(plan)
    solves = improved = passes = largest = 0
    step = passes_of_size = 0
    reported = 0.0  # the fraction done never goes back, though each pass restarts the count

    def out_of_time() -> bool:
        return deadline is not None and time.perf_counter() >= deadline

    while not out_of_time():
        size, seconds = NEIGHBOURHOOD_STEPS[step]
        groups = neighbourhoods(problem, size, seed=passes)
        passes += 1
        passes_of_size += 1
        largest = max(largest, size)
        gained = False
        for i, group in enumerate(groups):
            if out_of_time():
                break
            solves += 1
            if _improve_neighbourhood(problem, plan, group, options, seconds, deadline):
                improved += 1
                gained = True
            if progress is not None:
                done = (i + 1) / len(groups)
                if deadline is not None:
                    done = max(done, (time.perf_counter() - started) / (deadline - started))
                reported = max(reported, min(done, 1.0))
                text = f"neighbourhood {i + 1}/{len(groups)}, pass {passes}, {size} sites each"
                progress(text, reported)
        else:
            if gained and passes_of_size < MAX_PASSES:
                continue
            # One neighbourhood of every site leaves nothing for a larger one.
            if len(groups) > 1 and step + 1 < len(NEIGHBOURHOOD_STEPS):
                step += 1
                passes_of_size = 0
                continue
        break
    report = SearchReport(
        start_cost,
        problem.cost(plan),
        solves,
        improved,
        passes,
        time.perf_counter() - started,
        largest,
    )
    log.info(
        "Neighbourhood search on '%s': %s in %.1f s",
        problem.name,
        report.describe(),
        report.seconds,
    )
    return plan, report


def local_problem(
    problem: PlanningProblem, plan: Plan, group: np.ndarray
) -> tuple[PlanningProblem, np.ndarray, Plan]:
    """The neighbourhood ``group`` as a problem of its own, with the rest of ``plan`` fixed.

    Returns the small problem, the positions of its services in ``problem``, and ``plan``
    restricted to it (a feasible start: it keeps every folded-in rule).
    """
    n_sites = problem.n_sites
    free_site = np.zeros(n_sites, dtype=bool)
    free_site[group] = True
    free_service = free_site[plan.final_site]
    services = np.flatnonzero(free_service)
    site_pos = np.full(n_sites, -1)
    site_pos[group] = np.arange(len(group))
    service_pos = np.full(problem.n_services, -1)
    service_pos[services] = np.arange(len(services))
    keep = free_service[problem.pair_service] & free_site[problem.pair_site]
    local = PlanningProblem(
        name=f"{problem.name}_neighbourhood",
        site_ids=[problem.site_ids[s] for s in group],
        service_ids=[problem.service_ids[k] for k in services],
        demand_ids=problem.demand_ids,
        site_cost=problem.site_cost[group],
        capacity=problem.capacity[group],
        space=problem.space[services],
        pair_service=service_pos[problem.pair_service[keep]],
        pair_site=site_pos[problem.pair_site[keep]],
        pair_cost=problem.pair_cost[keep],
        state_lower=problem.state_lower[group],
        state_upper=problem.state_upper[group],
        site_kind=problem.site_kind[group],
        may_change=problem.may_change[group],
        available_from=problem.available_from[group],
        coverage=_local_coverage(problem, plan, free_service, group),
        side_constraints=_local_sides(problem, plan, free_site, free_service, group, services),
        incompatible=tuple(
            (a, b, np.asarray(ma, bool)[services], np.asarray(mb, bool)[services])
            for a, b, ma, mb in problem.incompatible
        ),
    )
    return local, services, Plan(plan.state[group], site_pos[plan.site_of[services]])


def _improve_neighbourhood(
    problem: PlanningProblem,
    plan: Plan,
    group: np.ndarray,
    options: SolverOptions,
    seconds: float,
    deadline: float | None,
) -> bool:
    """Solve the neighbourhood ``group`` with the rest fixed, for at most ``seconds``; update
    ``plan`` if it gains."""
    limit = seconds
    if deadline is not None:
        limit = min(limit, deadline - time.perf_counter())
        if limit <= 0.05:
            return False
    local, services, before = local_problem(problem, plan, group)
    if not local.check(before).holds:
        # Only rounding can make the plan's own neighbourhood look infeasible; leave it be.
        return False
    formulation = Formulation(local)
    arrays = LpArrays.from_lp(formulation.lp, formulation.objective_scale)
    run = run_solver(
        arrays,
        options.solver,
        limit,
        max(options.mip_gap or 0.0, NEIGHBOURHOOD_GAP),
        options.threads,
        arrays.start_vector(formulation.start_values(before)),
        local.integral_objective,
    )
    after = plan_of_run(formulation, arrays, run)
    # The neighbourhood's plan is checked like any other: a solver's word is not enough.
    if after is None or not local.check(after).holds:
        return False
    old, new = local.plan_cost(before), local.plan_cost(after)
    if not new < old - 1e-9 * max(1.0, abs(old)):
        return False
    candidate = plan.copy()
    candidate.state[group] = after.state
    candidate.site_of[services] = group[after.site_of]
    # Each neighbourhood may use the rows' tolerance; the whole plan must still keep them.
    if not problem.check(candidate).holds:
        return False
    plan.state[:] = candidate.state
    plan.site_of[:] = candidate.site_of
    return True


def _local_coverage(
    problem: PlanningProblem, plan: Plan, free_service: np.ndarray, group: np.ndarray
) -> tuple[CoverageRequirement, ...]:
    """Each requirement on the points the fixed rest of the plan does not already cover."""
    local: list[CoverageRequirement] = []
    for req in problem.coverage:
        outside = problem.covered_points(req, plan.final_site, among=~free_service)
        # Points the fixed rest already covers keep their columns (ids stay aligned) but lose
        # their weight and reach, so they add no rows.
        inside = sparse.diags_array((~outside).astype(float))
        weights = np.where(outside, 0.0, req.weights)
        reach = tuple(sparse.csr_array(sparse.csr_array(r)[group] @ inside) for r in req.reach)
        providers = tuple(np.asarray(p, bool)[free_service] for p in req.providers)
        localised = replace(req, reach=reach, providers=providers, weights=weights)
        if req.rule in POINT_RULES:
            local.append(localised)
            continue
        # Never ask a neighbourhood for more than the plan gives it: the plan met the global
        # target within the tolerance, which a smaller total would make tighter.
        covered_now = problem.covered_points(req, plan.final_site) & ~outside
        target = min(
            req.target_weight - float(req.weights[outside].sum()),
            float(weights[covered_now].sum()),
        )
        total = float(weights.sum())
        if target <= 0 or total <= 0:
            continue
        local.append(replace(localised, rule="share", share=target / total, covered_before=None))
    return tuple(local)


def _local_sides(
    problem: PlanningProblem,
    plan: Plan,
    free_site: np.ndarray,
    free_service: np.ndarray,
    group: np.ndarray,
    services: np.ndarray,
) -> tuple[SideConstraint, ...]:
    """Budget and partner rows with the fixed sites and services folded into the constant."""
    local: list[SideConstraint] = []
    chosen = problem.chosen_pairs(plan)[:, 0]
    for index, side in enumerate(problem.side_constraints):
        site_coef = problem.side_site_coefs[index][:, 0]
        fixed = float(site_coef[~free_site & plan.opened].sum())
        free_part = float(site_coef[group][plan.opened[group]].sum())
        pair_coef = None
        values = problem.side_pair_coefs[index]
        if values is not None:
            at_plan = (chosen >= 0) & free_service
            fixed += float(values[chosen[~free_service], 0].sum())
            free_part += float(values[chosen[at_plan], 0].sum())
            pair_coef = _mapped_pair_coef(side.pair_coef, services, group)
        constant = side.constant + fixed
        rhs = side.rhs
        # As with cover, never ask more of the neighbourhood than the plan gives.
        if side.sense == ">=":
            rhs = min(rhs, constant + free_part)
        else:
            rhs = max(rhs, constant + free_part)
        local.append(
            replace(
                side,
                site_coef=site_coef[group],
                pair_coef=pair_coef,
                constant=constant,
                rhs=rhs,
            )
        )
    return tuple(local)


def _mapped_pair_coef(pair_coef, services: np.ndarray, group: np.ndarray):
    def local_coef(k: np.ndarray, s: np.ndarray) -> np.ndarray:
        return pair_coef(services[k], group[s])

    return local_coef


def restricted_to(problem: PlanningProblem, plan: Plan) -> PlanningProblem:
    """``problem`` with each service allowed only today's site and its site in ``plan``.

    A timeless plan says where everything should end up; the dated problem restricted to
    those two choices per service only has to find when, which is quick. Every plan of the
    restricted problem is a plan of the whole one (same sites, services and rules).
    """
    keep = problem.pair_site == plan.final_site[problem.pair_service]
    if problem.current_site is not None:
        keep |= problem.pair_site == problem.current_site[problem.pair_service]
    return replace(
        problem,
        name=f"{problem.name}_phasing",
        pair_service=problem.pair_service[keep],
        pair_site=problem.pair_site[keep],
        pair_cost=problem.pair_cost[keep],
    )


def uses_search(setting: str, problem: PlanningProblem) -> bool:
    """Whether ``problem`` is searched under ``setting``: "on", or "auto" above
    :data:`AUTO_MIN_PAIRS` allowed pairs. A dated problem is searched through its timeless
    twin (a neighbourhood's fixed rest cannot fold in cover that differs by epoch)."""
    n_pairs = len(problem.pair_site)
    return setting == "on" or (setting == "auto" and n_pairs > AUTO_MIN_PAIRS)
