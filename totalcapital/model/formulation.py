"""The MILP of a :class:`PlanningProblem`: PuLP variables and rows, named after the estate.

Indices: sites s, services k, allowed pairs (k, s), demand points d, requirements b with
provider groups g, epochs e (one for the timeless model; names then carry no epoch suffix,
otherwise the financial year the epoch starts, e.g. ``_2028_29``).

Variables
---------
``open[s][e]`` in {0,1}: the site's state (held, for an existing site; build started, for a
candidate). Epochs in which the state may not change share the variable of the epoch before.
``housed[k][s][e]`` in {0,1} for (k, s) allowed and s able to host in e: service k at site s.
``provides[b][g][s][e]`` in [0,1]: site s houses a service of provider group g of requirement b.
``covered[b][d][e]`` in [0,1]: demand point d is covered under b (rules share/no-worse).
``hosts[t][s][e]`` in {0,1}: site s houses a service of type t (only for incompatible types).

Rows (each per epoch)
---------------------
``house[k]``: sum_s housed[k][s] = 1.
``only_open[k][s]``: housed[k][s][e] <= open[s][a(s,e)], a(s,e) the epoch whose state lets s
host in e (itself for an existing site, the build's start for a candidate); omitted where
that state is fixed at 1.
``held[s]`` / ``built[s]``: open[s][e] <= open[s][e-1] for an existing site (once let go, gone);
open[s][e-1] <= open[s][e] for a candidate (once started, built).
``stays[k][s]`` / ``moved[k][s]``: housed at today's site never rises, housed anywhere else
never falls; with ``house`` this lets a service move once, from today's site, and stay.
``capacity[s]``: sum_k space_k housed[k][s] <= capacity_s open[s][a(s,e)].
``provides[b][g][s]``: provides <= sum of housed[k][s] over k in group g; and
``provides_open[b][g][s]``: provides <= open[s][a(s,e)], which keeps the relaxation from
spreading one service's cover over many half-open sites.
``cover[b][d]``: covered[b][d] <= sum over groups g and sites s reaching d of provides[b][g][s];
for rules "all" and "keep_today" the row is sum(...) >= 1 (every point of positive weight, or
every point covered today) and has no covered variable; a point's row is left out when another
point's row implies it (its providers are a subset of this point's, see
:func:`essential_points`), except in the elastic model, where each point has its own slack.
A share rule asking for nothing (a standard kept only to report cover) adds no rows.
``share[b]``: sum_d (w_d / W) covered[b][d] >= (target - tolerance) / W.
``hosts[t][k][s]``: housed[k][s] <= hosts[t][s]; ``incompatible[a][b][s]``:
hosts[a][s] + hosts[b][s] <= 1.
``budget*``, ``partner_*``: the side rows (once, over all epochs), divided by their size and
loosened by :data:`~totalcapital.model.problem.SIDE_TOLERANCE` of it.

Objective ``whole_life_npv_cost``, in units of ``objective_scale`` £: constant + sum
site_cost[s][e] open[s][e] + sum pair_cost[k,s][e] housed[k][s][e]. The constant enters as a
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

from .problem import POINT_RULES, CoverageRequirement, Plan, PlanningProblem, side_tolerance

__all__ = ["Formulation", "Slack", "clean_names", "essential_points", "objective_scale_for"]

#: Pairs of cover rows compared at once when looking for rows another implies (memory).
_SUBSET_PAIRS_PER_BLOCK = 2e7
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


def essential_points(links: sparse.csc_array, asked: np.ndarray) -> np.ndarray:
    """Of the asked points, those whose "covered by at least one" row no other row implies.

    Column d of ``links`` lists the providers reaching point d. A point reached by every
    provider that reaches another asked point (and more) is covered whenever that point is,
    so its row adds nothing; of points with the same providers, the first is kept. On England's
    fire stations this leaves 1,386 of 32,045 LSOA rows, and the solver's LP shrinks with them.
    """
    points = np.flatnonzero(asked)
    if len(points) < 2:
        return asked
    rows = sparse.csr_array(links[:, points].T.astype(bool))
    rows.sort_indices()
    first: dict[bytes, int] = {}
    for i in range(len(points)):
        first.setdefault(rows.indices[rows.indptr[i] : rows.indptr[i + 1]].tobytes(), i)
    unique = np.fromiter(first.values(), dtype=np.int64, count=len(first))
    sets = sparse.csr_array(rows[unique].astype(np.float64))
    sizes = np.diff(sets.indptr)
    keep = np.ones(len(unique), dtype=bool)
    # |A n B| for every pair of sets, a block of rows at a time; A is inside B when it is |A|.
    widest = float(sizes.max()) * float(sets.sum(axis=0).max())
    block = max(1, int(_SUBSET_PAIRS_PER_BLOCK // max(1.0, widest)))
    for lo in range(0, len(unique), block):
        shared = (sets[lo : lo + block] @ sets.T).tocoo()
        inner = lo + shared.row
        inside = (shared.data == sizes[inner]) & (inner != shared.col)
        keep[shared.col[inside]] = False
    essential = np.zeros_like(asked)
    essential[points[unique[keep]]] = True
    return essential


def _expr(variables: Sequence[pulp.LpVariable], coefs: Sequence[float]) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(zip(variables, (float(c) for c in coefs), strict=True))


def objective_scale_for(problem: PlanningProblem) -> float:
    """A power of ten that brings the largest objective coefficient to at most 10,000 (>= 1)."""
    largest = max(
        [abs(problem.objective_constant)]
        + [float(np.abs(a).max()) for a in (problem.site_cost, problem.pair_cost) if a.size]
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
    state_vars : list of list of pulp.LpVariable
        Sites x epochs (epochs in which a state cannot change repeat the variable).
    pair_vars : list of list of pulp.LpVariable or None
        Allowed pairs x epochs (None where the site cannot host in that epoch).
    objective_scale : float
        £ per unit of the objective the solver sees.
    elastic : bool
        Soft rows carry slack variables (``slacks``) and the objective is their total.
    slacks : list of Slack
    """

    problem: PlanningProblem
    elastic: bool = False
    lp: pulp.LpProblem = field(init=False)
    state_vars: list[list[pulp.LpVariable]] = field(init=False)
    pair_vars: list[list[pulp.LpVariable | None]] = field(init=False)
    objective_scale: float = field(init=False)
    slacks: list[Slack] = field(init=False, default_factory=list)
    # How each helper variable follows from a plan, so a start can give every value.
    _aux: list[tuple[Any, ...]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        problem = self.problem
        self._site_names = clean_names(problem.site_ids)
        self._service_names = clean_names(problem.service_ids)
        self._demand_names = clean_names(problem.demand_ids)
        labels = problem.epoch_labels
        self._suffix = [
            "" if problem.n_epochs == 1 else "_" + clean_names([label])[0] for label in labels
        ]
        self.objective_scale = objective_scale_for(problem)
        self.lp = pulp.LpProblem(clean_names([problem.name])[0], pulp.LpMinimize)
        self._shared_slacks: dict[str, pulp.LpVariable] = {}
        self._add_states()
        self._add_assignment()
        for r, req in enumerate(problem.coverage):
            self._add_coverage(r, req)
        self._add_incompatible()
        self._add_sides()
        self._add_objective()

    # ------------------------------------------------------------------ accessors

    @property
    def open_vars(self) -> list[pulp.LpVariable]:
        """Each site's state variable in the first epoch (the only one when timeless)."""
        return [row[0] for row in self.state_vars]

    @property
    def housed_vars(self) -> list[pulp.LpVariable | None]:
        """Each pair's variable in the first epoch (the only one when timeless)."""
        return [row[0] for row in self.pair_vars]

    def _hosting_var(self, s: int, e: int) -> pulp.LpVariable | None:
        """The state that lets site s host in epoch e (None: it cannot host then)."""
        source = int(self.problem.available_from[s, e])
        return None if source < 0 else self.state_vars[s][source]

    def _fixed_open(self, var: pulp.LpVariable | None) -> bool:
        return var is not None and var.lowBound is not None and var.lowBound >= 1

    # ------------------------------------------------------------------ rows

    def _slack(self, name: str, group: str, unit: float, index: int | None = None, upper=None):
        """A slack variable, one per rule (and place) shared by every epoch."""
        if name in self._shared_slacks:
            return self._shared_slacks[name]
        var = self.lp.add_variable(f"slack_{name}", 0, upper)
        self.slacks.append(Slack(var, group, unit, index))
        self._shared_slacks[name] = var
        return var

    def _add_states(self) -> None:
        problem, lp = self.problem, self.lp
        self.state_vars = []
        initial = problem.initial_state
        for s, site in enumerate(self._site_names):
            row: list[pulp.LpVariable] = []
            for e in range(problem.n_epochs):
                low, high = float(problem.state_lower[s, e]), float(problem.state_upper[s, e])
                if e > 0 and not problem.may_change[s, e]:
                    var = row[-1]  # the state carries on: one variable, the tighter bounds
                    var.lowBound = max(var.lowBound, low)
                    var.upBound = min(var.upBound, high)
                    row.append(var)
                    continue
                var = lp.add_variable(f"open_{site}{self._suffix[e]}", 0, 1, pulp.LpBinary)
                if e == 0 and not problem.may_change[s, 0]:
                    low = high = float(initial[s])
                var.lowBound, var.upBound = low, high
                if e > 0:
                    newer, older = (row[-1], var) if problem.is_candidate[s] else (var, row[-1])
                    rule = "built" if problem.is_candidate[s] else "held"
                    expr = pulp.LpAffineExpression([(newer, 1.0), (older, -1.0)])
                    lp.addConstraint(
                        pulp.LpConstraint(expr, -1, f"{rule}_{site}{self._suffix[e]}", 0)
                    )
                row.append(var)
            self.state_vars.append(row)

    def _add_assignment(self) -> None:
        problem, lp = self.problem, self.lp
        self._pair_keys = [
            f"{self._service_names[k]}__{self._site_names[s]}"
            for k, s in zip(problem.pair_service.tolist(), problem.pair_site.tolist(), strict=True)
        ]
        current = problem.current_site
        self.pair_vars = []
        for p, key in enumerate(self._pair_keys):
            s = int(problem.pair_site[p])
            row: list[pulp.LpVariable | None] = []
            at_today = current is not None and current[problem.pair_service[p]] == s
            for e in range(problem.n_epochs):
                if self._hosting_var(s, e) is None or (at_today and e > 0 and row[-1] is None):
                    row.append(None)
                    continue
                var = lp.add_variable(f"housed_{key}{self._suffix[e]}", 0, 1, pulp.LpBinary)
                if e > 0 and row[-1] is not None and current is not None:
                    newer, older = (var, row[-1]) if at_today else (row[-1], var)
                    rule = "stays" if at_today else "moved"
                    expr = pulp.LpAffineExpression([(newer, 1.0), (older, -1.0)])
                    lp.addConstraint(
                        pulp.LpConstraint(expr, -1, f"{rule}_{key}{self._suffix[e]}", 0)
                    )
                row.append(var)
            self.pair_vars.append(row)

        # house[k] and only_open[k][s]: pairs are ordered by service.
        starts = np.searchsorted(problem.pair_service, np.arange(problem.n_services + 1))
        by_site = np.argsort(problem.pair_site, kind="stable")
        site_starts = np.searchsorted(problem.pair_site[by_site], np.arange(problem.n_sites + 1))
        for e in range(problem.n_epochs):
            sfx = self._suffix[e]
            for k, name in enumerate(self._service_names):
                members = [
                    self.pair_vars[p][e]
                    for p in range(starts[k], starts[k + 1])
                    if self.pair_vars[p][e] is not None
                ]
                row = _expr(members, np.ones(len(members)))
                lp.addConstraint(pulp.LpConstraint(row, 0, f"house_{name}{sfx}", 1))
            for p, key in enumerate(self._pair_keys):
                var = self.pair_vars[p][e]
                hosting = self._hosting_var(int(problem.pair_site[p]), e)
                if var is None or self._fixed_open(hosting):
                    continue
                row = pulp.LpAffineExpression([(var, 1.0), (hosting, -1.0)])
                lp.addConstraint(pulp.LpConstraint(row, -1, f"only_open_{key}{sfx}", 0))
            for s, name in enumerate(self._site_names):
                members = [
                    p
                    for p in by_site[site_starts[s] : site_starts[s + 1]]
                    if self.pair_vars[p][e] is not None
                ]
                if not members:
                    continue
                capacity = float(problem.capacity[s])
                # Rows in shares of the site's floor space: m2 figures stay of order 1.
                scale = max(capacity, 1.0)
                terms = [
                    (self.pair_vars[p][e], float(problem.space[problem.pair_service[p]]) / scale)
                    for p in members
                ]
                terms.append((self._hosting_var(s, e), -capacity / scale))
                row = pulp.LpAffineExpression(terms)
                if self.elastic:
                    row[self._slack(f"capacity_{name}", "capacity", scale, s)] = -1.0
                lp.addConstraint(pulp.LpConstraint(row, -1, f"capacity_{name}{sfx}", 0))

    def _add_coverage(self, r: int, req: CoverageRequirement) -> None:
        for e in range(self.problem.n_epochs):
            self._add_coverage_in(r, req, e)

    def _add_coverage_in(self, r: int, req: CoverageRequirement, e: int) -> None:
        problem, lp = self.problem, self.lp
        point_rule = req.rule in POINT_RULES
        if not point_rule and req.target_weight - req.tolerance <= 0:
            return  # nothing to ask: the requirement only reports cover
        req_name = clean_names([req.name])[0]
        sfx = self._suffix[e]
        provide_vars: list[pulp.LpVariable] = []
        reach_rows: list[sparse.csr_array] = []
        for g, (reach, providers) in enumerate(zip(req.reach, req.providers, strict=True)):
            in_group = np.flatnonzero(np.asarray(providers, bool)[problem.pair_service])
            in_group = np.array([p for p in in_group if self.pair_vars[p][e] is not None], int)
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
                where = f"{req_name}_{g}_{self._site_names[s]}{sfx}"
                var = lp.add_variable(f"provides_{where}", 0, 1)
                row = _expr([self.pair_vars[p][e] for p in order[lo:hi]], -np.ones(hi - lo))
                row[var] = 1.0
                lp.addConstraint(pulp.LpConstraint(row, -1, f"provides_{where}", 0))
                hosting = self._hosting_var(s, e)
                if not self._fixed_open(hosting) and hi - lo > 1:
                    row = pulp.LpAffineExpression([(var, 1.0), (hosting, -1.0)])
                    lp.addConstraint(pulp.LpConstraint(row, -1, f"provides_open_{where}", 0))
                provide_vars.append(var)
                self._aux.append(("provides", var, r, g, s, e))
            reach_rows.append(reach[useful])
        if not provide_vars:
            return
        must_cover = req.must_cover
        # Column d of this matrix lists the provides variables that reach demand point d.
        links = sparse.csc_array(sparse.vstack(reach_rows).astype(bool))
        links.sort_indices()
        weights = req.weights
        total = max(req.total_weight, 1e-12)
        share_terms: list[tuple[pulp.LpVariable, float]] = []
        asked = np.diff(links.indptr) > 0
        asked &= (weights > 0) & (must_cover if point_rule else True)
        if point_rule and not self.elastic:
            asked = essential_points(links, asked)
        for d in np.flatnonzero(asked).tolist():
            demand_name = self._demand_names[d]
            members = links.indices[links.indptr[d] : links.indptr[d + 1]]
            row = _expr([provide_vars[i] for i in members], np.ones(len(members)))
            name = f"cover_{req_name}_{demand_name}"
            if point_rule:
                if self.elastic:
                    row[self._slack(name, f"cover:{r}", float(weights[d]), d, upper=1)] = 1.0
                lp.addConstraint(pulp.LpConstraint(row, 1, f"{name}{sfx}", 1))
                continue
            covered = lp.add_variable(f"covered_{req_name}_{demand_name}{sfx}", 0, 1)
            self._aux.append(("covered", covered, r, d, e))
            row[covered] = -1.0
            lp.addConstraint(pulp.LpConstraint(row, 1, f"{name}{sfx}", 0))
            share_terms.append((covered, float(weights[d]) / total))
        if not point_rule:
            row = pulp.LpAffineExpression(share_terms)
            if self.elastic:
                row[self._slack(f"share_{req_name}", f"share:{r}", total)] = 1.0
            target = (req.target_weight - req.tolerance) / total
            lp.addConstraint(pulp.LpConstraint(row, 1, f"share_{req_name}{sfx}", target))

    def _add_incompatible(self) -> None:
        problem, lp = self.problem, self.lp
        for type_a, type_b, mask_a, mask_b in problem.incompatible:
            label = "_".join(clean_names([type_a, type_b]))
            for e in range(problem.n_epochs):
                sfx = self._suffix[e]
                live = np.array([v[e] is not None for v in self.pair_vars], dtype=bool)
                in_a = np.flatnonzero(np.asarray(mask_a, bool)[problem.pair_service] & live)
                in_b = np.flatnonzero(np.asarray(mask_b, bool)[problem.pair_service] & live)
                shared = np.intersect1d(problem.pair_site[in_a], problem.pair_site[in_b])
                flags: dict[tuple[int, int], pulp.LpVariable] = {}
                for side, (type_name, pairs) in enumerate(((type_a, in_a), (type_b, in_b))):
                    type_label = clean_names([type_name])[0]
                    for s in shared.tolist():
                        name = f"hosts_{label}_{type_label}_{self._site_names[s]}{sfx}"
                        flags[side, s] = lp.add_variable(name, 0, 1, pulp.LpBinary)
                        self._aux.append(("hosts", flags[side, s], (mask_a, mask_b)[side], s, e))
                    for p in pairs[np.isin(problem.pair_site[pairs], shared)].tolist():
                        flag = flags[side, int(problem.pair_site[p])]
                        row = pulp.LpAffineExpression([(self.pair_vars[p][e], 1.0), (flag, -1.0)])
                        name = f"{flag.name}_{self._service_names[problem.pair_service[p]]}"
                        lp.addConstraint(pulp.LpConstraint(row, -1, name, 0))
                for s in shared.tolist():
                    row = _expr([flags[0, s], flags[1, s]], [1.0, 1.0])
                    name = f"incompatible_{label}_{self._site_names[s]}{sfx}"
                    lp.addConstraint(pulp.LpConstraint(row, -1, name, 1))

    def _linear(self, site_coef: np.ndarray, pair_coef: np.ndarray | None, scale: float):
        """sum site_coef[s, e] open[s][e] + pair_coef[p, e] housed[p][e], divided by scale."""
        terms: dict[str, tuple[pulp.LpVariable, float]] = {}

        def add(var: pulp.LpVariable, value: float) -> None:
            old = terms.get(var.name)
            terms[var.name] = (var, (old[1] if old else 0.0) + value)

        for s, e in zip(*np.nonzero(site_coef), strict=True):
            add(self.state_vars[s][e], float(site_coef[s, e]) / scale)
        if pair_coef is not None:
            for p, e in zip(*np.nonzero(pair_coef), strict=True):
                var = self.pair_vars[p][e]
                if var is not None:
                    add(var, float(pair_coef[p, e]) / scale)
        return pulp.LpAffineExpression([term for term in terms.values() if term[1] != 0])

    def _add_sides(self) -> None:
        problem, lp = self.problem, self.lp
        for index, side in enumerate(problem.side_constraints):
            size = problem.side_sizes[index]
            row = self._linear(problem.side_site_coefs[index], problem.side_pair_coefs[index], size)
            name = clean_names([side.name])[0]
            # Rows that can sit exactly at their bound (a partner with nothing to gain) are
            # loosened by the tolerance the plan check allows.
            margin = side_tolerance(size)
            rhs = side.rhs - side.constant
            rhs = rhs + margin if side.sense == "<=" else rhs - margin
            if self.elastic:
                group = f"side:{side.group or index}"
                slack = self._slack(f"side_{side.group or index}", group, size)
                row[slack] = 1.0 if side.sense == ">=" else -1.0
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
        expr = self._linear(problem.site_cost, problem.pair_cost, scale)
        if problem.objective_constant:
            one = lp.add_variable("objective_constant", 1, 1)
            self._aux.append(("one", one))
            expr[one] = problem.objective_constant / scale
        lp += expr, "whole_life_npv_cost"

    def _slack_weight(self, slack: Slack) -> float:
        if slack.group.startswith("cover:"):
            req = self.problem.coverage[int(slack.group.split(":")[1])]
            return slack.unit / max(req.total_weight, 1e-12)
        return 1.0

    # ------------------------------------------------------------------ plans

    def start_values(self, plan: Plan) -> dict[pulp.LpVariable, float]:
        """A complete start from ``plan``: states, pairs and every helper variable.

        A complete start is used as it stands, while a solver would spend a sub-solve
        completing a partial one.
        """
        problem = self.problem
        values: dict[pulp.LpVariable, float] = {}
        for s, row in enumerate(self.state_vars):
            for e, var in enumerate(row):
                values[var] = float(plan.state[s, e])
        chosen = problem.chosen_pairs(plan)
        for p, row in enumerate(self.pair_vars):
            k = problem.pair_service[p]
            for e, var in enumerate(row):
                if var is not None:
                    values[var] = float(chosen[k, e] == p)
        hosting: dict[tuple[int, int], np.ndarray] = {}

        def hosts(services: np.ndarray, e: int) -> np.ndarray:
            key = (id(services), e)
            if key not in hosting:
                hosting[key] = np.zeros(problem.n_sites, dtype=bool)
                hosting[key][plan.site_of[np.asarray(services, bool), e]] = True
            return hosting[key]

        covered: dict[tuple[int, int], np.ndarray] = {}
        for kind, var, *where in self._aux:
            if kind == "one":
                value = True
            elif kind == "provides":
                r, g, s, e = where
                value = hosts(problem.coverage[r].providers[g], e)[s]
            elif kind == "covered":
                r, d, e = where
                if (r, e) not in covered:
                    covered[r, e] = problem.covered_points(problem.coverage[r], plan.site_of[:, e])
                value = covered[r, e][d]
            else:
                services, s, e = where
                value = hosts(services, e)[s]
            values[var] = float(value)
        for slack in self.slacks:
            values[slack.var] = 0.0
        return values

    def plan_from(self, values: dict[str, float]) -> Plan | None:
        """The plan in solver values keyed by variable name (None if a service is unhoused)."""
        problem = self.problem
        state = np.array(
            [[values.get(v.name, 0.0) > 0.5 for v in row] for row in self.state_vars], dtype=bool
        ).reshape(problem.n_sites, problem.n_epochs)
        site_of = np.full((problem.n_services, problem.n_epochs), -1)
        housed = np.zeros((problem.n_services, problem.n_epochs), dtype=int)
        for p, row in enumerate(self.pair_vars):
            k = problem.pair_service[p]
            for e, var in enumerate(row):
                if var is not None and values.get(var.name, 0.0) > 0.5:
                    site_of[k, e] = problem.pair_site[p]
                    housed[k, e] += 1
        if (housed != 1).any():
            return None
        return Plan(state, site_of)
