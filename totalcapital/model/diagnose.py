"""Why a problem has no plan: cheap checks before solving, and relaxations that are proven.

:func:`presolve_reasons` finds the plain impossibilities (a point no allowed site reaches, more
floor space needed than there is) before any solver runs.

:func:`diagnose` explains an infeasible model with relaxations a user can act on. Every soft
rule (a response standard or access rule, floor space, the capital budget, each partner's
"no worse off" row) gets a slack. For each rule in turn, the solver finds the least that rule
alone must give while every other rule holds exactly: "capital budget short by £951,000"
means raising the budget by £951,000 makes a plan possible and raising it by £950,000 does not
(amounts are rounded up to the unit shown). When no single rule can be relaxed enough, the
cheapest combination (each slack weighed in its rule's own relative units) is reported.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from .formulation import Formulation
from .problem import POINT_RULES, PlanningProblem, listed_ids
from .solve import LpArrays, SolverOptions, run_solver

__all__ = ["Relaxation", "diagnose", "presolve_reasons", "relax"]

#: A slack below this (in its rule's relative units) is numerical noise, not a shortfall.
_NOISE = 1e-7
#: Shortfalls are rounded up to these units before they are shown.
MONEY_UNIT = 1_000.0
PEOPLE_UNIT = 1.0
FLOOR_UNIT = 1.0


def relax(problem: PlanningProblem, group: str, amount: float) -> PlanningProblem:
    """``problem`` with one rule relaxed by ``amount`` (£ for a money row, people for cover).

    A budget limit rises, a partner's floor falls, a cover target falls by ``amount`` people
    (a rule "all" or "no worse than today" becomes the equivalent share). This is what a
    :class:`Relaxation` names, so a re-solve of the relaxed problem confirms it.
    """
    kind, _, rest = group.partition(":")
    if kind == "side":
        sides = list(problem.side_constraints)
        for index in _side_rows(problem, rest):
            side = sides[index]
            sides[index] = replace(
                side, rhs=side.rhs + amount if side.sense == "<=" else side.rhs - amount
            )
        return replace(problem, side_constraints=tuple(sides))
    if kind in ("share", "cover"):
        index = int(rest)
        req = problem.coverage[index]
        total = max(req.total_weight, 1e-12)
        target = max(req.target_weight - amount, 0.0)
        coverage = list(problem.coverage)
        coverage[index] = replace(req, rule="share", share=min(target / total, 1.0))
        return replace(problem, coverage=tuple(coverage))
    raise ValueError(f"expected a side, share or cover rule, found '{group}'")


def _side_rows(problem: PlanningProblem, key: str) -> list[int]:
    """The side rows of one rule: its group's rows, or the row at that index."""
    rows = [i for i, side in enumerate(problem.side_constraints) if side.group == key]
    return rows or [int(key)]


def presolve_reasons(problem: PlanningProblem) -> list[str]:
    """Impossibilities found without a solver, each naming the places and the shortfall."""
    reasons: list[str] = []
    has_pair = np.bincount(problem.pair_service, minlength=problem.n_services) > 0
    homeless = [problem.service_ids[k] for k in np.flatnonzero(~has_pair)]
    if homeless:
        reasons.append(
            f"{len(homeless)} service(s) have no site they may be housed at "
            f"(space, capability, distance, candidate list or locks): {listed_ids(homeless)}"
        )
    needed = float(problem.space.sum())
    could_host = problem.available(problem.state_upper > 0)
    for e, label in enumerate(problem.epoch_labels):
        available = float(problem.capacity[could_host[:, e]].sum())
        if needed > available + 1e-6:
            when = f" in {label}" if label else ""
            reasons.append(
                f"services need {needed:,.0f} m2 of floor space but the sites that may be open"
                f"{when} offer only {available:,.0f} m2 (short by {needed - available:,.0f} m2)"
            )
            break
    for req in problem.coverage:
        reachable = problem.reachable(req)
        lost = np.flatnonzero(~reachable & req.must_cover)
        achievable = float(req.weights[reachable].sum())
        target = req.target_weight
        total = req.total_weight
        ids = [problem.demand_ids[d] for d in lost]
        lost_weight = float(req.weights[lost].sum())
        providers = ", ".join(req.service_types) or "a provider"
        if req.rule in POINT_RULES and len(lost):
            reasons.append(
                f"{req.name}: {lost_weight:,.0f} people at {len(lost)} demand point(s) "
                f"({listed_ids(ids)}) cannot be reached within {req.minutes:g} minutes "
                f"from any site allowed to house {providers}; "
                f"the rule '{req.rule}' needs every such point covered"
            )
        elif achievable + req.tolerance < target:
            reasons.append(
                f"{req.name}: need {target / total:.3f} of demand covered "
                f"({target:,.0f} of {total:,.0f}) but at most {achievable / total:.3f} "
                f"({achievable:,.0f}) is achievable; {lost_weight:,.0f} people at "
                f"{len(lost)} point(s) ({listed_ids(ids)}) are beyond {req.minutes:g} minutes "
                "of every allowed site"
            )
    return reasons


@dataclass(frozen=True)
class Relaxation:
    """How much one rule must give for a plan to exist.

    Attributes
    ----------
    group : str
        The rule: ``"side:i"`` (budget or partner row i), ``"share:r"`` or ``"cover:r"``
        (requirement r), ``"capacity"``.
    label : str
        The rule in plain words.
    amount : float
        The shortfall in ``unit``, rounded up to the unit shown.
    unit : {"£", "people", "m2"}
    alone : bool
        Relaxing this rule alone by ``amount`` makes a plan possible (and, when ``proven``,
        by less does not).
    proven : bool
        The solver proved ``amount`` is the least.
    where : tuple of str
        The places involved (demand points left uncovered, sites over capacity).
    """

    group: str
    label: str
    amount: float
    unit: str
    alone: bool
    proven: bool = True
    where: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line a board can act on, e.g. "capital budget (...) short by £951,000; ..."."""
        amount = f"£{self.amount:,.0f}" if self.unit == "£" else f"{self.amount:,.0f} {self.unit}"
        places = f" (at {listed_ids(list(self.where))})" if self.where else ""
        if self.unit == "£":
            what = f"{self.label} short by {amount}"
        elif self.unit == "people":
            what = f"{self.label}: {amount} short of the target{places}"
        else:
            what = f"{self.label}: {amount} more needed{places}"
        if not self.alone:
            return f"{what} (together with the others listed)"
        least = "" if self.proven else " (the least was not proven in the time)"
        return f"{what}; relaxing only this rule by that much makes a plan possible{least}"


def _round_up(amount: float, unit: str) -> float:
    step = {"£": MONEY_UNIT, "people": PEOPLE_UNIT, "m2": FLOOR_UNIT, "disposals": 1.0}[unit]
    return max(step, math.ceil(amount / step - 1e-9) * step)


def _group_label(problem: PlanningProblem, group: str) -> tuple[str, str]:
    kind, _, rest = group.partition(":")
    if kind == "side":
        rows = _side_rows(problem, rest)
        side = problem.side_constraints[rows[0]]
        label = side.label
        if len(rows) > 1:
            label = label.rsplit(" by ", 1)[0] + " (more in the first year, carried forward)"
        unit = "disposals" if rest.startswith("disposals") else "£"
        return label, unit
    if kind in ("share", "cover"):
        req = problem.coverage[int(rest)]
        rule = {"all": "everyone", "keep_today": "everyone covered today"}.get(
            req.rule, f"share {req.target_weight / max(req.total_weight, 1e-12):.3f}"
        )
        return f"{req.name} ({rule} within {req.minutes:g} minutes)", "people"
    return "floor space", "m2"


def diagnose(
    problem: PlanningProblem, options: SolverOptions, deadline: float | None
) -> tuple[list[str], list[Relaxation]]:
    """Say which rules to relax, and by how much, when ``problem`` has no plan.

    Returns
    -------
    reasons : list of str
        Plain-language reasons, one per relaxation (or one saying the hard rules clash).
    relaxations : list of Relaxation
        Each rule that can be relaxed alone, with its least shortfall; or, when none can, the
        cheapest combination.
    """
    formulation = Formulation(problem, elastic=True)
    arrays = LpArrays.from_lp(formulation.lp, 1.0)
    position = {id(v): i for i, v in enumerate(arrays.variables)}
    groups: dict[str, list[tuple[int, float, int | None]]] = {}
    for slack in formulation.slacks:
        groups.setdefault(slack.group, []).append(
            (position[id(slack.var)], slack.unit, slack.index)
        )
    slack_columns = np.array([c for members in groups.values() for c, _, _ in members], int)

    def remaining(share_of_rest: float) -> float | None:
        if deadline is None:
            return None
        return max((deadline - time.perf_counter()) * share_of_rest, 0.5)

    # Every rule relaxed at once: is anything possible without touching the hard rules?
    run = run_solver(
        arrays, options.solver, remaining(1 / (len(groups) + 1)), 1e-9, options.threads
    )
    if not run.has_solution:
        return [
            "no plan satisfies the rules that cannot be relaxed (each service housed once, "
            "locks, incompatible service types, lease and covenant rules); check the locks "
            "and the candidate site lists"
        ], []
    combined = _relaxations(
        formulation, arrays, groups, run.values, alone=False, proven=run.status == "optimal"
    )

    alone: list[Relaxation] = []
    for i, (group, members) in enumerate(groups.items()):
        columns = np.array([c for c, _, _ in members], int)
        units = np.array([u for _, u, _ in members], float)
        upper = arrays.upper.copy()
        others = np.setdiff1d(slack_columns, columns)
        upper[others] = 0.0
        reference = float(units.max())
        cost = np.zeros(len(arrays.variables))
        cost[columns] = units / reference
        single = replace(arrays, cost=cost, upper=upper)
        share = 1 / (len(groups) - i)
        result = run_solver(single, options.solver, remaining(share), 0.0, options.threads)
        if not result.has_solution:
            continue
        found = _relaxations(
            formulation,
            arrays,
            {group: members},
            result.values,
            alone=True,
            proven=result.status == "optimal",
        )
        alone.extend(found)
    chosen = alone or combined
    if not chosen:
        return [
            "the solver reported the model infeasible but an elastic re-solve found no "
            "violated standard; check locks, lease and covenant rules"
        ], []
    return [r.describe() for r in chosen], chosen


def _relaxations(
    formulation: Formulation,
    arrays: LpArrays,
    groups: dict[str, list[tuple[int, float, int | None]]],
    values: np.ndarray | None,
    alone: bool,
    proven: bool,
) -> list[Relaxation]:
    """The rules a relaxed solve's ``values`` relax, with amounts and places."""
    problem = formulation.problem
    found: list[Relaxation] = []
    if values is None:
        return found
    plan = formulation.plan_from(
        dict(zip((v.name for v in arrays.variables), values.tolist(), strict=True))
    )
    for group, members in groups.items():
        amount = sum(float(values[c]) * unit for c, unit, _ in members)
        if max((float(values[c]) for c, _, _ in members), default=0.0) <= _NOISE:
            continue
        label, unit = _group_label(problem, group)
        found.append(
            Relaxation(
                group,
                label,
                _round_up(amount, unit),
                unit,
                alone,
                proven,
                tuple(_places(problem, group, members, values, plan)),
            )
        )
    return found


def _places(problem, group, members, values, plan) -> list[str]:
    """Where a relaxed rule gives: uncovered points (heaviest first) or crowded sites."""
    kind, _, rest = group.partition(":")
    if kind == "side":
        return []
    if kind == "share" and plan is not None:
        req = problem.coverage[int(rest)]
        covered = problem.covered_points(req, plan.site_of)
        lost = ~covered & (req.weights > 0)
        if req.rule == "no_worse_than_today" and req.covered_before is not None:
            lost &= req.covered_before
        order = np.argsort(-req.weights[lost], kind="stable")
        return [problem.demand_ids[d] for d in np.flatnonzero(lost)[order]]
    ids = problem.demand_ids if kind == "cover" else problem.site_ids
    return [ids[index] for c, _, index in members if index is not None and values[c] > _NOISE]
