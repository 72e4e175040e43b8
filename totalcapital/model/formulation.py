"""The MILP of a :class:`PlanningProblem`: PuLP variables and rows, named after the estate.

Variables
---------
``open[s]`` in {0,1}: site kept (existing) or built (candidate); bounds from locks and rules.
``housed[k][s]`` in {0,1} for (k, s) allowed: service k at site s.
``provides[b][g][s]`` in [0,1]: site s houses a service of provider group g of requirement b.
``covered[b][d]`` in [0,1]: demand point d is covered under b (rules share/no-worse).
``hosts[t][s]`` in {0,1}: site s houses a service of type t (only for incompatible types).

Rows
----
``house[k]``: sum_s housed[k][s] = 1.
``only_open[k][s]``: housed[k][s] <= open[s] (disaggregated; omitted where open[s] is fixed 1).
``capacity[s]``: sum_k space_k housed[k][s] <= capacity_s open[s].
``provides[b][g][s]``: provides <= sum of housed[k][s] over k in group g; and
``provides_open[b][g][s]``: provides <= open[s], which keeps the relaxation from spreading one
service's cover over many half-open sites.
``cover[b][d]``: covered[b][d] <= sum over groups g and sites s reaching d of provides[b][g][s];
for rule "all" the row is sum(...) >= 1 (points of positive weight) and has no covered variable.
``share[b]``: sum_d (w_d / W) covered[b][d] >= (target - tolerance) / W.
``hosts[t][k][s]``: housed[k][s] <= hosts[t][s]; ``incompatible[a][b][s]``:
hosts[a][s] + hosts[b][s] <= 1.
``budget``, ``partner_*``: the side rows, divided by their size and loosened by
:data:`~totalcapital.model.problem.SIDE_TOLERANCE` of it.

Objective ``whole_life_npv_cost``, in units of ``objective_scale`` £: constant + sum_s
fixed_cost_s open[s] + sum_(k,s) assignment_cost_ks housed[k][s]. The constant enters as a
variable fixed at 1, so a solver's objective, bound and gap are in the same money as the plan.

Money is scaled so that every coefficient the solver sees is of order 1 to 10,000, whatever the
size of the estate: solvers' tolerances are absolute, and £ figures of tens of millions next to
0/1 variables leave them working at the edge of double precision.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp
from scipy import sparse

from .problem import CoverageRequirement, Plan, PlanningProblem, side_tolerance

__all__ = ["Formulation", "Slack", "clean_names", "objective_scale_for"]

#: The largest objective coefficient the solver sees, as a power of ten.
_LARGEST_COEFFICIENT = 1e4


def clean_names(ids: Sequence[Any]) -> list[str]:
    """PuLP-safe, unique names for ids (characters PuLP rewrites become "_")."""
    names: list[str] = []
    seen: set[str] = set()
    for raw in ids:
        base = re.sub(r"[^A-Za-z0-9_.]", "_", str(raw)) or "_"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        names.append(name)
    return names


def _expr(variables: Sequence[pulp.LpVariable], coefs: Sequence[float]) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(zip(variables, (float(c) for c in coefs), strict=True))


def objective_scale_for(problem: PlanningProblem) -> float:
    """A power of ten that brings the largest objective coefficient to at most 10,000 (>= 1)."""
    largest = max(
        [abs(problem.objective_constant)]
        + [float(np.abs(a).max()) for a in (problem.fixed_cost, problem.pair_cost) if len(a)]
    )
    if not largest > _LARGEST_COEFFICIENT:
        return 1.0
    return float(10 ** math.ceil(math.log10(largest / _LARGEST_COEFFICIENT)))


@dataclass(frozen=True)
class Slack:
    """One elastic slack: which rule it relaxes and what one unit of it is in that rule's units.

    ``group`` names the rule ("share:0", "cover:1", "capacity", "side:budget"); ``unit`` turns
    the slack's value into people, m2 or £; ``index`` is the demand point or site, if any.
    """

    var: pulp.LpVariable
    group: str
    unit: float
    index: int | None = None


@dataclass
class Formulation:
    """The PuLP model of a problem, and how to map plans to and from its variables.

    Attributes
    ----------
    problem : PlanningProblem
    lp : pulp.LpProblem
    open_vars : list of pulp.LpVariable
        One per site, in ``site_ids`` order.
    housed_vars : list of pulp.LpVariable
        One per allowed pair, in pair order.
    objective_scale : float
        £ per unit of the objective the solver sees.
    elastic : bool
        Soft rows carry slack variables (``slacks``) and the objective is their total.
    slacks : list of Slack
    """

    problem: PlanningProblem
    elastic: bool = False
    lp: pulp.LpProblem = field(init=False)
    open_vars: list[pulp.LpVariable] = field(init=False)
    housed_vars: list[pulp.LpVariable] = field(init=False)
    objective_scale: float = field(init=False)
    slacks: list[Slack] = field(init=False, default_factory=list)
    # How each helper variable follows from a plan, so a start can give every value.
    _aux: list[tuple[Any, ...]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        problem = self.problem
        self._site_names = clean_names(problem.site_ids)
        self._service_names = clean_names(problem.service_ids)
        self._demand_names = clean_names(problem.demand_ids)
        self.objective_scale = objective_scale_for(problem)
        self.lp = pulp.LpProblem(clean_names([problem.name])[0], pulp.LpMinimize)
        self._add_assignment()
        for r, req in enumerate(problem.coverage):
            self._add_coverage(r, req)
        self._add_incompatible()
        self._add_sides()
        self._add_objective()

    # ------------------------------------------------------------------ rows

    def _slack(self, name: str, group: str, unit: float, index: int | None = None, upper=None):
        var = self.lp.add_variable(f"slack_{name}", 0, upper)
        self.slacks.append(Slack(var, group, unit, index))
        return var

    def _add_assignment(self) -> None:
        problem, lp = self.problem, self.lp
        opened = lp.add_variable_dicts("open", self._site_names, 0, 1, pulp.LpBinary)
        self.open_vars = [opened[name] for name in self._site_names]
        for var, low, high in zip(
            self.open_vars, problem.open_lower, problem.open_upper, strict=True
        ):
            var.lowBound, var.upBound = float(low), float(high)
        self._pair_keys = [
            f"{self._service_names[k]}__{self._site_names[s]}"
            for k, s in zip(problem.pair_service.tolist(), problem.pair_site.tolist(), strict=True)
        ]
        housed = lp.add_variable_dicts("housed", self._pair_keys, 0, 1, pulp.LpBinary)
        self.housed_vars = [housed[key] for key in self._pair_keys]

        # house[k] and only_open[k][s]: pairs are ordered by service.
        starts = np.searchsorted(problem.pair_service, np.arange(problem.n_services + 1))
        for k, name in enumerate(self._service_names):
            lo, hi = starts[k], starts[k + 1]
            row = _expr(self.housed_vars[lo:hi], np.ones(hi - lo))
            lp.addConstraint(pulp.LpConstraint(row, 0, f"house_{name}", 1))
        for p in np.flatnonzero(problem.open_lower[problem.pair_site] < 1):
            s = problem.pair_site[p]
            row = pulp.LpAffineExpression([(self.housed_vars[p], 1.0), (self.open_vars[s], -1.0)])
            lp.addConstraint(pulp.LpConstraint(row, -1, f"only_open_{self._pair_keys[p]}", 0))

        by_site = np.argsort(problem.pair_site, kind="stable")
        site_starts = np.searchsorted(problem.pair_site[by_site], np.arange(problem.n_sites + 1))
        for s, name in enumerate(self._site_names):
            members = by_site[site_starts[s] : site_starts[s + 1]]
            if len(members) == 0:
                continue
            capacity = float(problem.capacity[s])
            # Rows in shares of the site's floor space: m2 figures stay of order 1.
            scale = max(capacity, 1.0)
            terms = [
                (self.housed_vars[p], float(problem.space[problem.pair_service[p]]) / scale)
                for p in members
            ]
            terms.append((self.open_vars[s], -capacity / scale))
            row = pulp.LpAffineExpression(terms)
            if self.elastic:
                row[self._slack(f"capacity_{name}", "capacity", scale, s)] = -1.0
            lp.addConstraint(pulp.LpConstraint(row, -1, f"capacity_{name}", 0))

    def _add_coverage(self, r: int, req: CoverageRequirement) -> None:
        problem, lp = self.problem, self.lp
        req_name = clean_names([req.name])[0]
        provide_vars: list[pulp.LpVariable] = []
        reach_rows: list[sparse.csr_array] = []
        for g, (reach, providers) in enumerate(zip(req.reach, req.providers, strict=True)):
            in_group = np.flatnonzero(np.asarray(providers, bool)[problem.pair_service])
            if len(in_group) == 0:
                continue
            order = in_group[np.argsort(problem.pair_site[in_group], kind="stable")]
            sites = problem.pair_site[order]
            useful = np.unique(sites)
            reach = sparse.csr_array(reach)
            useful = useful[np.asarray(reach[useful].sum(axis=1)).ravel() > 0]
            los = np.searchsorted(sites, useful, side="left")
            his = np.searchsorted(sites, useful, side="right")
            for s, lo, hi in zip(useful.tolist(), los.tolist(), his.tolist(), strict=True):
                name = f"provides_{req_name}_{g}_{self._site_names[s]}"
                var = lp.add_variable(name, 0, 1)
                row = _expr([self.housed_vars[p] for p in order[lo:hi]], -np.ones(hi - lo))
                row[var] = 1.0
                lp.addConstraint(pulp.LpConstraint(row, -1, name, 0))
                if problem.open_lower[s] < 1 and hi - lo > 1:
                    row = pulp.LpAffineExpression([(var, 1.0), (self.open_vars[s], -1.0)])
                    lp.addConstraint(
                        pulp.LpConstraint(
                            row, -1, f"provides_open_{req_name}_{g}_{self._site_names[s]}", 0
                        )
                    )
                provide_vars.append(var)
                self._aux.append(("provides", var, r, g, s))
            reach_rows.append(reach[useful])
        if not provide_vars:
            return
        # Column d of this matrix lists the provides variables that reach demand point d.
        links = sparse.csc_array(sparse.vstack(reach_rows).astype(bool))
        links.sort_indices()
        weights = req.weights
        total = max(req.total_weight, 1e-12)
        share_terms: list[tuple[pulp.LpVariable, float]] = []
        for d, demand_name in enumerate(self._demand_names):
            members = links.indices[links.indptr[d] : links.indptr[d + 1]]
            if len(members) == 0 or weights[d] <= 0:
                continue
            row = _expr([provide_vars[i] for i in members], np.ones(len(members)))
            name = f"cover_{req_name}_{demand_name}"
            if req.rule == "all":
                if self.elastic:
                    row[self._slack(name, f"cover:{r}", float(weights[d]), d, upper=1)] = 1.0
                lp.addConstraint(pulp.LpConstraint(row, 1, name, 1))
                continue
            covered = lp.add_variable(f"covered_{req_name}_{demand_name}", 0, 1)
            self._aux.append(("covered", covered, r, d))
            row[covered] = -1.0
            lp.addConstraint(pulp.LpConstraint(row, 1, name, 0))
            share_terms.append((covered, float(weights[d]) / total))
        if req.rule != "all":
            row = pulp.LpAffineExpression(share_terms)
            if self.elastic:
                row[self._slack(f"share_{req_name}", f"share:{r}", total)] = 1.0
            target = (req.target_weight - req.tolerance) / total
            lp.addConstraint(pulp.LpConstraint(row, 1, f"share_{req_name}", target))

    def _add_incompatible(self) -> None:
        problem, lp = self.problem, self.lp
        for type_a, type_b, mask_a, mask_b in problem.incompatible:
            label = "_".join(clean_names([type_a, type_b]))
            in_a = np.flatnonzero(np.asarray(mask_a, bool)[problem.pair_service])
            in_b = np.flatnonzero(np.asarray(mask_b, bool)[problem.pair_service])
            shared = np.intersect1d(problem.pair_site[in_a], problem.pair_site[in_b])
            flags: dict[tuple[int, int], pulp.LpVariable] = {}
            for side, (type_name, pairs) in enumerate(((type_a, in_a), (type_b, in_b))):
                type_label = clean_names([type_name])[0]
                for s in shared.tolist():
                    name = f"hosts_{label}_{type_label}_{self._site_names[s]}"
                    flags[side, s] = lp.add_variable(name, 0, 1, pulp.LpBinary)
                    self._aux.append(("hosts", flags[side, s], (mask_a, mask_b)[side], s))
                for p in pairs[np.isin(problem.pair_site[pairs], shared)].tolist():
                    flag = flags[side, int(problem.pair_site[p])]
                    row = pulp.LpAffineExpression([(self.housed_vars[p], 1.0), (flag, -1.0)])
                    name = f"{flag.name}_{self._service_names[problem.pair_service[p]]}"
                    lp.addConstraint(pulp.LpConstraint(row, -1, name, 0))
            for s in shared.tolist():
                row = _expr([flags[0, s], flags[1, s]], [1.0, 1.0])
                name = f"incompatible_{label}_{self._site_names[s]}"
                lp.addConstraint(pulp.LpConstraint(row, -1, name, 1))

    def _add_sides(self) -> None:
        problem, lp = self.problem, self.lp
        for index, side in enumerate(problem.side_constraints):
            size = problem.side_sizes[index]
            coefs = [
                (self.open_vars[s], float(c) / size) for s, c in enumerate(side.site_coef) if c != 0
            ]
            pair_coef = problem.side_pair_coefs[index]
            if pair_coef is not None:
                coefs += [
                    (self.housed_vars[p], float(pair_coef[p]) / size)
                    for p in np.flatnonzero(pair_coef)
                ]
            row = pulp.LpAffineExpression(coefs)
            name = clean_names([side.name])[0]
            # Rows that can sit exactly at their bound (a partner with nothing to gain) are
            # loosened by the tolerance the plan check allows.
            margin = side_tolerance(size)
            rhs = side.rhs - side.constant
            rhs = rhs + margin if side.sense == "<=" else rhs - margin
            if self.elastic:
                row[self._slack(name, f"side:{index}", size)] = 1.0 if side.sense == ">=" else -1.0
            sense = pulp.LpConstraintGE if side.sense == ">=" else pulp.LpConstraintLE
            lp.addConstraint(pulp.LpConstraint(row, sense, name, rhs / size))

    def _add_objective(self) -> None:
        problem, lp = self.problem, self.lp
        if self.elastic:
            # Each slack in its rule's own relative units: a share of the people, of a site's
            # floor space, of a money row's size; so no rule's units swamp another's.
            terms = [(slack.var, self._slack_weight(slack)) for slack in self.slacks]
            lp += pulp.LpAffineExpression(terms), "total_violation"
            return
        scale = self.objective_scale
        terms = [
            (v, float(c) / scale)
            for v, c in zip(self.open_vars, problem.fixed_cost, strict=True)
            if c != 0
        ]
        terms += [
            (v, float(c) / scale)
            for v, c in zip(self.housed_vars, problem.pair_cost, strict=True)
            if c != 0
        ]
        if problem.objective_constant:
            one = lp.add_variable("objective_constant", 1, 1)
            self._aux.append(("one", one))
            terms.append((one, problem.objective_constant / scale))
        lp += pulp.LpAffineExpression(terms), "whole_life_npv_cost"

    def _slack_weight(self, slack: Slack) -> float:
        if slack.group.startswith("cover:"):
            req = self.problem.coverage[int(slack.group.split(":")[1])]
            return slack.unit / max(req.total_weight, 1e-12)
        return 1.0

    # ------------------------------------------------------------------ plans

    def start_values(self, plan: Plan) -> dict[pulp.LpVariable, float]:
        """A complete start from ``plan``: site, pair and every helper variable.

        A complete start is used as it stands, while a solver would spend a sub-solve
        completing a partial one.
        """
        problem = self.problem
        site_of = plan.site_of
        values: dict[pulp.LpVariable, float] = {}
        for var, value in zip(self.open_vars, plan.opened.tolist(), strict=True):
            values[var] = float(value)
        for var, value in zip(self.housed_vars, problem.chosen_pairs(plan).tolist(), strict=True):
            values[var] = float(value)
        hosting: dict[int, np.ndarray] = {}

        def hosts(services: np.ndarray) -> np.ndarray:
            if id(services) not in hosting:
                hosting[id(services)] = np.zeros(problem.n_sites, dtype=bool)
                hosting[id(services)][site_of[np.asarray(services, bool)]] = True
            return hosting[id(services)]

        covered: dict[int, np.ndarray] = {}
        for kind, var, *where in self._aux:
            if kind == "one":
                value = True
            elif kind == "provides":
                r, g, s = where
                value = hosts(problem.coverage[r].providers[g])[s]
            elif kind == "covered":
                r, d = where
                if r not in covered:
                    covered[r] = problem.covered_points(problem.coverage[r], site_of)
                value = covered[r][d]
            else:
                services, s = where
                value = hosts(services)[s]
            values[var] = float(value)
        for slack in self.slacks:
            values[slack.var] = 0.0
        return values

    def plan_from(self, values: dict[str, float]) -> Plan | None:
        """The plan in solver values keyed by variable name (None if a service is unhoused)."""
        opened = np.array([values.get(v.name, 0.0) > 0.5 for v in self.open_vars], dtype=bool)
        chosen = np.array([values.get(v.name, 0.0) > 0.5 for v in self.housed_vars], dtype=bool)
        problem = self.problem
        site_of = np.full(problem.n_services, -1)
        site_of[problem.pair_service[chosen]] = problem.pair_site[chosen]
        housed = np.bincount(problem.pair_service[chosen], minlength=problem.n_services)
        if (housed != 1).any():
            return None
        return Plan(opened, site_of)
