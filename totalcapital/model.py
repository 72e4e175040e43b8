"""The co-location MILP: which sites to keep, dispose, exit or build, and where each service goes.

:class:`CoLocationModel` is built either from plain arrays (:meth:`CoLocationModel.from_arrays`,
the core, which with no coverage or side rows is exactly the single-source capacitated facility
location problem) or from an estate and a scenario (:meth:`CoLocationModel.from_estate`, which
computes the arrays and calls the core). :meth:`CoLocationModel.solve` runs HiGHS or CBC, reads
the solver's own status and fills :attr:`CoLocationModel.solution`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pulp
from scipy import sparse

from ._errors import InfeasibleScenario, SolverError
from ._local_search import SEARCH_TIME_SHARE, Plan, SearchReport, improve, uses_search
from ._model_types import (
    CoverageRequirement,
    SideConstraint,
    Solution,
    clean_names,
    linear_expr,
    listed_ids,
)
from ._solvers import SolverRun, run_solver

if TYPE_CHECKING:
    import geopandas as gpd

    from .estate import Estate
    from .network import TravelTimes
    from .scenario import Scenario

log = logging.getLogger(__name__)

__all__ = ["CoLocationModel", "CoverageRequirement", "SideConstraint", "Solution"]

#: Site kinds: how a site that is not kept is named in the decisions.
SITE_KINDS = ("freehold", "leasehold", "candidate")
_CLOSED_DECISION = {"freehold": "dispose", "leasehold": "exit_lease", "candidate": "not_built"}
#: Relative slack on share rows (of the total demand weight).
SHARE_TOLERANCE = 1e-6
_OPEN_DECISION = {"freehold": "keep", "leasehold": "keep", "candidate": "build"}


class CoLocationModel:
    """Single-source capacitated co-location with response standards and side constraints.

    Sets: sites S, services K, allowed pairs E subset of K x S, demand points D, requirements B
    (response standards and access rules), side rows R (capital budget, partners).

    Variables
    ---------
    ``open[s]`` in {0,1}: site kept (existing) or built (candidate); fixed by locks and rules.
    ``housed[k][s]`` in {0,1} for (k, s) in E: service k at site s.
    ``provides[b][g][s]`` in [0,1]: site s houses a service of provider group g of requirement b.
    ``covered[b][d]`` in [0,1]: demand point d is covered under b (rules share/no-worse).
    ``hosts[t][s]`` in {0,1}: site s houses a service of type t (only for incompatible types).

    Constraints (row names)
    -----------------------
    ``house[k]``: sum_s housed[k][s] = 1.
    ``only_open[k][s]``: housed[k][s] <= open[s] (disaggregated; omitted where open[s] is fixed 1).
    ``capacity[s]``: sum_k space_k housed[k][s] <= capacity_s open[s].
    ``provides[b][g][s]``: provides <= sum of housed[k][s] over k in group g.
    ``cover[b][d]``: covered[b][d] <= sum over groups g and sites s reaching d of provides[b][g][s];
    for rule "all" the row is sum(...) >= 1 and has no covered variable.
    ``share[b]``: sum_d w_d covered[b][d] >= target (share x total weight, or today's covered
    weight for "no_worse_than_today").
    ``hosts[t][k][s]``: housed[k][s] <= hosts[t][s]; ``incompatible[a][b][s]``:
    hosts[a][s] + hosts[b][s] <= 1.
    ``budget``, ``partner[p]``: the :class:`SideConstraint` rows.

    Objective ``whole_life_npv_cost``: constant + sum_s fixed_cost_s open[s] +
    sum_(k,s) assignment_cost_ks housed[k][s]. The constant enters the solver as a variable fixed
    at 1, so the solver's objective, bound and gap are in the same £ as the plan's totals.

    Solving: HiGHS (default) receives the model in bulk arrays; CBC runs as PuLP's bundled
    binary. When today's placement is known and allowed, it is offered as the starting plan, so
    a time-limited run returns a plan no worse than today. When every objective coefficient is
    an integer, a plan within 1 of the bound is proven optimal.

    Attributes
    ----------
    problem : pulp.LpProblem
    site_ids, service_ids, demand_ids : list of str
    open_vars : list of pulp.LpVariable
        One per site, in ``site_ids`` order.
    housed_vars : list of pulp.LpVariable
        One per allowed pair, in the order of ``pair_service`` / ``pair_site``.
    pair_service, pair_site : numpy.ndarray of int
        Positions of each allowed pair.
    pair_cost : numpy.ndarray
    coverage : list of CoverageRequirement
    side_constraints : list of SideConstraint
    solution : Solution or None
        Set by :meth:`solve`.
    """

    problem: pulp.LpProblem
    site_ids: list[str]
    service_ids: list[str]
    demand_ids: list[str]
    open_vars: list[pulp.LpVariable]
    housed_vars: list[pulp.LpVariable]
    pair_service: np.ndarray
    pair_site: np.ndarray
    pair_cost: np.ndarray
    coverage: list[CoverageRequirement]
    side_constraints: list[SideConstraint]
    solution: Solution | None

    def __init__(
        self,
        *,
        name: str,
        fixed_cost: np.ndarray,
        capacity: np.ndarray,
        space: np.ndarray,
        pair_service: np.ndarray,
        pair_site: np.ndarray,
        pair_cost: np.ndarray,
        site_ids: list[str],
        service_ids: list[str],
        demand_ids: list[str],
        pruned_pairs: int,
        open_lower: np.ndarray,
        open_upper: np.ndarray,
        site_kind: np.ndarray,
        current_site: np.ndarray | None,
        objective_constant: float,
        coverage: list[CoverageRequirement],
        side_constraints: list[SideConstraint],
        incompatible: list[tuple[str, str, np.ndarray, np.ndarray]],
        solver: str,
        time_limit: float | None,
        mip_gap: float | None,
        threads: int | None,
        reasons: list[str],
        local_search: str = "auto",
        log_level: int = logging.INFO,
    ) -> None:
        started = time.perf_counter()
        self.name = name
        self.fixed_cost = np.asarray(fixed_cost, dtype=float)
        self.capacity = np.asarray(capacity, dtype=float)
        self.space = np.asarray(space, dtype=float)
        self.pair_service = pair_service
        self.pair_site = pair_site
        self.pair_cost = pair_cost
        self.site_ids = site_ids
        self.service_ids = service_ids
        self.demand_ids = demand_ids
        self.pruned_pairs = pruned_pairs
        self.open_lower = open_lower
        self.open_upper = open_upper
        self.site_kind = site_kind
        self.current_site = current_site
        self.objective_constant = float(objective_constant)
        self.coverage = coverage
        self.side_constraints = side_constraints
        self.incompatible = incompatible
        self.solver_name = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.threads = threads
        self.local_search = local_search
        self.solution = None
        self._site_names = clean_names(site_ids)
        self._service_names = clean_names(service_ids)
        self._demand_names = clean_names(demand_ids)

        reasons = list(reasons) + self._presolve_reasons()
        if reasons:
            raise InfeasibleScenario(name, reasons)
        self.problem, self.open_vars, self.housed_vars, self._elastic = self._build(elastic=False)
        self.build_seconds = time.perf_counter() - started
        log.log(
            log_level,
            "Built model '%s': %d sites, %d services, %d allowed pairs (%d pruned), "
            "%d variables, %d constraints in %.2f s",
            name,
            len(site_ids),
            len(service_ids),
            len(pair_site),
            pruned_pairs,
            self.problem.numVariables(),
            self.problem.numConstraints(),
            self.build_seconds,
        )

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_arrays(
        cls,
        fixed_cost: np.ndarray,
        capacity: np.ndarray,
        space: np.ndarray,
        assignment_cost: np.ndarray,
        *,
        coverage: Sequence[CoverageRequirement] | None = None,
        site_ids: Sequence[str] | None = None,
        service_ids: Sequence[str] | None = None,
        demand_ids: Sequence[str] | None = None,
        allowed: np.ndarray | None = None,
        open_lower: np.ndarray | None = None,
        open_upper: np.ndarray | None = None,
        site_kind: Sequence[str] | None = None,
        current_site: np.ndarray | None = None,
        objective_constant: float = 0.0,
        side_constraints: Sequence[SideConstraint] | None = None,
        incompatible: Sequence[tuple[str, str, np.ndarray, np.ndarray]] | None = None,
        name: str = "model",
        solver: str = "highs",
        time_limit: float | None = None,
        mip_gap: float | None = 0.0,
        threads: int | None = None,
        pruned_before: int = 0,
        reasons: Sequence[str] = (),
        local_search: str = "auto",
    ) -> CoLocationModel:
        """Build the model from plain arrays.

        Parameters
        ----------
        fixed_cost : numpy.ndarray
            Per site: cost of opening (keeping or building) it rather than not.
        capacity : numpy.ndarray
            Per site: floor space (or any capacity).
        space : numpy.ndarray
            Per service: space it takes.
        assignment_cost : numpy.ndarray
            Services x sites, dense: cost of housing the service at the site; ``np.inf`` marks a
            forbidden pair.
        coverage : sequence of CoverageRequirement, optional
        site_ids, service_ids, demand_ids : sequence of str, optional
            Default "0".."n-1".
        allowed : numpy.ndarray of bool, optional
            Services x sites mask of permitted pairs (in addition to finite costs).
            Pairs whose service is larger than the site are pruned too.
        open_lower, open_upper : numpy.ndarray, optional
            Per site bounds of ``open`` (1/0 fix a site kept/closed); default 0 and 1.
        site_kind : sequence of str, optional
            Per site "freehold" (default), "leasehold" or "candidate": names the decisions
            (keep/dispose, keep/exit_lease, build/not_built).
        current_site : numpy.ndarray of int, optional
            Per service, today's site position (for "today" figures).
        objective_constant : float
            Added to the objective.
        side_constraints : sequence of SideConstraint, optional
        incompatible : sequence of (type_a, type_b, mask_a, mask_b), optional
            Services in ``mask_a`` never share a site with services in ``mask_b``.
        name : str
            Used in messages (the scenario name).
        solver : {"highs", "cbc"}
        time_limit : float, optional
            Seconds.
        mip_gap : float, optional
            Relative gap at which the solver may stop (0 proves optimality).
        threads : int, optional
        pruned_before : int
            Pairs already removed by the caller (added to ``pruned_pairs``).
        reasons : sequence of str
            Infeasibility reasons the caller already found; raised with the core's own.
        local_search : {"auto", "on", "off"}
            Improve today's plan neighbourhood by neighbourhood before the full solve
            (:mod:`totalcapital._local_search`); "auto" does so for models of more than
            3,000 allowed (service, site) pairs.

        Returns
        -------
        CoLocationModel

        Raises
        ------
        InfeasibleScenario
            When a cheap check shows no plan can exist, naming the places and shortfalls.
        """
        cost = np.asarray(assignment_cost, dtype=float)
        n_services, n_sites = cost.shape
        space = np.asarray(space, dtype=float)
        capacity = np.asarray(capacity, dtype=float)
        mask = np.isfinite(cost)
        if allowed is not None:
            mask &= np.asarray(allowed, dtype=bool)
        upper = np.ones(n_sites) if open_upper is None else np.asarray(open_upper, dtype=float)
        lower = np.zeros(n_sites) if open_lower is None else np.asarray(open_lower, dtype=float)
        mask &= (upper > 0)[None, :]
        mask &= space[:, None] <= capacity[None, :] * (1 + 1e-9)
        pair_service, pair_site = np.nonzero(mask)
        return cls(
            name=name,
            fixed_cost=np.asarray(fixed_cost, dtype=float),
            capacity=capacity,
            space=space,
            pair_service=pair_service,
            pair_site=pair_site,
            pair_cost=cost[pair_service, pair_site],
            site_ids=[str(i) for i in (site_ids if site_ids is not None else range(n_sites))],
            service_ids=[
                str(i) for i in (service_ids if service_ids is not None else range(n_services))
            ],
            demand_ids=[str(i) for i in demand_ids] if demand_ids is not None else [],
            pruned_pairs=pruned_before + int(mask.size - mask.sum()),
            open_lower=lower,
            open_upper=upper,
            site_kind=np.asarray(site_kind if site_kind is not None else ["freehold"] * n_sites),
            current_site=None if current_site is None else np.asarray(current_site, dtype=int),
            objective_constant=objective_constant,
            coverage=list(coverage or []),
            side_constraints=list(side_constraints or []),
            incompatible=list(incompatible or []),
            solver=solver,
            time_limit=time_limit,
            mip_gap=mip_gap,
            threads=threads,
            reasons=list(reasons),
            local_search=local_search,
        )

    @classmethod
    def from_estate(
        cls,
        estate: Estate,
        scenario: Scenario,
        travel: TravelTimes | None = None,
        demand: gpd.GeoDataFrame | None = None,
        *,
        as_of: pd.Timestamp | None = None,
    ) -> CoLocationModel:
        """Build the model of a scenario on an estate (see :mod:`totalcapital._estate_model`).

        Parameters
        ----------
        estate : Estate
        scenario : Scenario
        travel : TravelTimes, optional
            Needed when the scenario has standards or access rules.
        demand : geopandas.GeoDataFrame, optional
            Demand points (index demand_id, column ``weight``); default the estate's demand.
        as_of : pandas.Timestamp, optional
            The plan's start date, for lease breaks; default ``scenario.finance.start_date``.
        """
        from ._estate_model import estate_arrays

        return cls.from_arrays(**estate_arrays(estate, scenario, travel, demand, as_of))

    # ------------------------------------------------------------------ checks

    def _reachable(self, requirement: CoverageRequirement) -> np.ndarray:
        """Bool per demand point: some allowed provider pair's site reaches it."""
        n_sites = len(self.site_ids)
        reachable = np.zeros(len(requirement.weights), dtype=bool)
        for reach, providers in zip(requirement.reach, requirement.providers, strict=True):
            sites = np.zeros(n_sites, dtype=bool)
            sites[self.pair_site[providers[self.pair_service]]] = True
            reachable |= np.asarray(reach[sites].sum(axis=0)).ravel() > 0
        return reachable

    def _presolve_reasons(self) -> list[str]:
        reasons: list[str] = []
        n_services = len(self.service_ids)
        has_pair = np.bincount(self.pair_service, minlength=n_services) > 0
        homeless = [self.service_ids[k] for k in np.flatnonzero(~has_pair)]
        if homeless:
            reasons.append(
                f"{len(homeless)} service(s) have no site they may be housed at "
                f"(space, capability, distance, candidate list or locks): {listed_ids(homeless)}"
            )
        available = float(self.capacity[self.open_upper > 0].sum())
        needed = float(self.space.sum())
        if needed > available + 1e-6:
            reasons.append(
                f"services need {needed:,.0f} m2 of floor space but the sites that may stay open "
                f"offer only {available:,.0f} m2 (short by {needed - available:,.0f} m2)"
            )
        for req in self.coverage:
            reachable = self._reachable(req)
            lost = np.flatnonzero(~reachable & (req.weights > 0))
            achievable = float(req.weights[reachable].sum())
            target = req.target_weight
            total = float(req.weights.sum())
            ids = [self.demand_ids[d] for d in lost]
            lost_weight = float(req.weights[lost].sum())
            providers = ", ".join(req.service_types) or "a provider"
            if req.rule == "all" and len(lost):
                reasons.append(
                    f"{req.name}: {lost_weight:,.0f} people at {len(lost)} demand point(s) "
                    f"({listed_ids(ids)}) cannot be reached within {req.minutes:g} minutes "
                    f"from any site allowed to house {providers}; "
                    "the rule 'all' needs every point covered"
                )
            elif achievable + 1e-6 < target:
                reasons.append(
                    f"{req.name}: need {target / total:.3f} of demand covered "
                    f"({target:,.0f} of {total:,.0f}) but at most {achievable / total:.3f} "
                    f"({achievable:,.0f}) is achievable; {lost_weight:,.0f} people at "
                    f"{len(lost)} point(s) ({listed_ids(ids)}) are beyond {req.minutes:g} minutes "
                    "of every allowed site"
                )
        return reasons

    # ------------------------------------------------------------------ building

    def _build(
        self, elastic: bool
    ) -> tuple[pulp.LpProblem, list[pulp.LpVariable], list[pulp.LpVariable], dict[str, Any]]:
        """Create the PuLP problem; ``elastic`` adds slack to soft rows and minimises it."""
        problem = pulp.LpProblem(clean_names([self.name])[0], pulp.LpMinimize)
        n_sites = len(self.site_ids)
        opened = problem.add_variable_dicts("open", self._site_names, 0, 1, pulp.LpBinary)
        open_vars = [opened[name] for name in self._site_names]
        for var, low, high in zip(open_vars, self.open_lower, self.open_upper, strict=True):
            var.lowBound, var.upBound = float(low), float(high)
        pair_keys = [
            f"{self._service_names[k]}__{self._site_names[s]}"
            for k, s in zip(self.pair_service.tolist(), self.pair_site.tolist(), strict=True)
        ]
        housed = problem.add_variable_dicts("housed", pair_keys, 0, 1, pulp.LpBinary)
        housed_vars = [housed[key] for key in pair_keys]
        slacks: dict[str, Any] = {}
        # How each helper variable follows from a plan, so a start can give every value.
        aux: list[tuple[Any, ...]] = []
        violation: list[tuple[pulp.LpVariable, float]] = []

        def slack(name: str, scale: float) -> pulp.LpVariable:
            var = problem.add_variable(f"slack_{name}", 0, None)
            violation.append((var, 1.0 / max(scale, 1.0)))
            return var

        # house[k] and only_open[k][s]: pairs are ordered by service (np.nonzero is row-major).
        starts = np.searchsorted(self.pair_service, np.arange(len(self.service_ids) + 1))
        for k, name in enumerate(self._service_names):
            lo, hi = starts[k], starts[k + 1]
            problem.addConstraint(
                pulp.LpConstraint(
                    linear_expr(housed_vars[lo:hi], np.ones(hi - lo)), 0, f"house_{name}", 1
                )
            )
        for p in np.flatnonzero(self.open_lower[self.pair_site] < 1):
            s = self.pair_site[p]
            row = pulp.LpAffineExpression([(housed_vars[p], 1.0), (open_vars[s], -1.0)])
            problem.addConstraint(pulp.LpConstraint(row, -1, f"only_open_{pair_keys[p]}", 0))

        by_site = np.argsort(self.pair_site, kind="stable")
        site_starts = np.searchsorted(self.pair_site[by_site], np.arange(n_sites + 1))
        for s, name in enumerate(self._site_names):
            members = by_site[site_starts[s] : site_starts[s + 1]]
            if len(members) == 0:
                continue
            terms = [(housed_vars[p], float(self.space[self.pair_service[p]])) for p in members]
            terms.append((open_vars[s], -float(self.capacity[s])))
            row = pulp.LpAffineExpression(terms)
            if elastic:
                row[slack(f"capacity_{name}", self.capacity[s])] = -1.0
                slacks[f"capacity:{s}"] = row
            problem.addConstraint(pulp.LpConstraint(row, -1, f"capacity_{name}", 0))

        for r, req in enumerate(self.coverage):
            self._add_coverage(problem, r, req, housed_vars, elastic, slack, slacks, aux)
        self._add_incompatible(problem, housed_vars, aux)
        for side in self.side_constraints:
            coefs = [(open_vars[s], float(c)) for s, c in enumerate(side.site_coef) if c != 0]
            if side.pair_coef is not None and len(self.pair_site):
                pair_coefs = side.pair_coef(self.pair_service, self.pair_site)
                coefs += [
                    (housed_vars[p], float(pair_coefs[p])) for p in np.flatnonzero(pair_coefs)
                ]
            row = pulp.LpAffineExpression(coefs)
            rhs = side.rhs - side.constant
            name = clean_names([side.name])[0]
            if elastic:
                scale = max(abs(rhs), float(np.abs(side.site_coef).sum()), 1.0)
                row[slack(name, scale)] = 1.0 if side.sense == ">=" else -1.0
                slacks[f"side:{side.name}"] = row
            sense = pulp.LpConstraintGE if side.sense == ">=" else pulp.LpConstraintLE
            problem.addConstraint(pulp.LpConstraint(row, sense, name, rhs))

        if elastic:
            problem += pulp.LpAffineExpression(violation), "total_violation"
        else:
            terms = [
                (v, float(c)) for v, c in zip(open_vars, self.fixed_cost, strict=True) if c != 0
            ]
            terms += [
                (v, float(c)) for v, c in zip(housed_vars, self.pair_cost, strict=True) if c != 0
            ]
            if self.objective_constant:
                # A variable fixed at 1 carries the constant so solvers report full £ figures.
                one = problem.add_variable("objective_constant", 1, 1)
                aux.append(("one", one))
                terms.append((one, self.objective_constant))
            problem += pulp.LpAffineExpression(terms), "whole_life_npv_cost"
        if not elastic:
            self._aux = aux
        return problem, open_vars, housed_vars, slacks

    def _add_coverage(
        self,
        problem: pulp.LpProblem,
        r: int,
        req: CoverageRequirement,
        housed_vars: list[pulp.LpVariable],
        elastic: bool,
        slack: Callable[[str, float], pulp.LpVariable],
        slacks: dict[str, Any],
        aux: list[tuple[Any, ...]],
    ) -> None:
        req_name = clean_names([req.name])[0]
        provide_vars: list[pulp.LpVariable] = []
        reach_rows: list[sparse.csr_array] = []
        for g, (reach, providers) in enumerate(zip(req.reach, req.providers, strict=True)):
            in_group = np.flatnonzero(providers[self.pair_service])
            if len(in_group) == 0:
                continue
            order = in_group[np.argsort(self.pair_site[in_group], kind="stable")]
            sites = self.pair_site[order]
            useful = np.unique(sites)
            reach = sparse.csr_array(reach)
            useful = useful[np.asarray(reach[useful].sum(axis=1)).ravel() > 0]
            los = np.searchsorted(sites, useful, side="left")
            his = np.searchsorted(sites, useful, side="right")
            for s, lo, hi in zip(useful.tolist(), los.tolist(), his.tolist(), strict=True):
                name = f"provides_{req_name}_{g}_{self._site_names[s]}"
                var = problem.add_variable(name, 0, 1)
                row = linear_expr([housed_vars[p] for p in order[lo:hi]], -np.ones(hi - lo))
                row[var] = 1.0
                problem.addConstraint(pulp.LpConstraint(row, -1, name, 0))
                provide_vars.append(var)
                aux.append(("provides", var, r, g, s))
            reach_rows.append(reach[useful])
        if not provide_vars:
            return
        # Column d of this matrix lists the provides variables that reach demand point d.
        links = sparse.csc_array(sparse.vstack(reach_rows).astype(bool))
        links.sort_indices()
        weights = req.weights
        share_terms: list[tuple[pulp.LpVariable, float]] = []
        for d, demand_name in enumerate(self._demand_names):
            members = links.indices[links.indptr[d] : links.indptr[d + 1]]
            if len(members) == 0 or (req.rule != "all" and weights[d] <= 0):
                continue
            row = linear_expr([provide_vars[i] for i in members], np.ones(len(members)))
            name = f"cover_{req_name}_{demand_name}"
            if req.rule == "all":
                if elastic:
                    row[slack(name, 1.0 / max(float(weights[d]), 1e-9))] = 1.0
                    slacks[f"cover:{r}:{d}"] = row
                problem.addConstraint(pulp.LpConstraint(row, 1, name, 1))
                continue
            covered = problem.add_variable(f"covered_{req_name}_{demand_name}", 0, 1)
            aux.append(("covered", covered, r, d))
            row[covered] = -1.0
            problem.addConstraint(pulp.LpConstraint(row, 1, name, 0))
            share_terms.append((covered, float(weights[d])))
        if req.rule != "all":
            # A target equal to the best achievable cover (no worse than today) is met with
            # equality; a relative margin keeps HiGHS' presolve from rounding it infeasible.
            tolerance = SHARE_TOLERANCE * max(1.0, float(weights.sum()))
            row = pulp.LpAffineExpression(share_terms)
            if elastic:
                row[slack(f"share_{req_name}", float(weights.sum()))] = 1.0
                slacks[f"share:{r}"] = row
            problem.addConstraint(
                pulp.LpConstraint(row, 1, f"share_{req_name}", req.target_weight - tolerance)
            )

    def _add_incompatible(
        self,
        problem: pulp.LpProblem,
        housed_vars: list[pulp.LpVariable],
        aux: list[tuple[Any, ...]],
    ) -> None:
        for type_a, type_b, mask_a, mask_b in self.incompatible:
            label = "_".join(clean_names([type_a, type_b]))
            in_a = np.flatnonzero(mask_a[self.pair_service])
            in_b = np.flatnonzero(mask_b[self.pair_service])
            shared = np.intersect1d(self.pair_site[in_a], self.pair_site[in_b])
            flags: dict[tuple[int, int], pulp.LpVariable] = {}
            for side, (type_name, pairs) in enumerate(((type_a, in_a), (type_b, in_b))):
                type_label = clean_names([type_name])[0]
                for s in shared.tolist():
                    name = f"hosts_{label}_{type_label}_{self._site_names[s]}"
                    flags[side, s] = problem.add_variable(name, 0, 1, pulp.LpBinary)
                    aux.append(("hosts", flags[side, s], (mask_a, mask_b)[side], s))
                for p in pairs[np.isin(self.pair_site[pairs], shared)].tolist():
                    s = int(self.pair_site[p])
                    flag = flags[side, s]
                    row = pulp.LpAffineExpression([(housed_vars[p], 1.0), (flag, -1.0)])
                    name = f"{flag.name}_{self._service_names[self.pair_service[p]]}"
                    problem.addConstraint(pulp.LpConstraint(row, -1, name, 0))
            for s in shared.tolist():
                row = linear_expr([flags[0, s], flags[1, s]], [1.0, 1.0])
                name = f"incompatible_{label}_{self._site_names[s]}"
                problem.addConstraint(pulp.LpConstraint(row, -1, name, 1))

    # ------------------------------------------------------------------ solving

    def solve(self, progress: Callable[[str, float], None] | None = None) -> CoLocationModel:
        """Solve with the chosen solver and fill :attr:`solution`.

        Today's plan, when allowed, is the start. On large models (see ``local_search``) it is
        first improved neighbourhood by neighbourhood for up to 60% of the time limit; the full
        model then gets the rest of the time limit, starting from the improved plan, and its
        bound gives the reported gap.

        Parameters
        ----------
        progress : callable, optional
            ``progress(text, fraction_done)`` as the search goes and when the full solve starts.

        Returns
        -------
        CoLocationModel
            ``self``.

        Raises
        ------
        InfeasibleScenario
            When no plan satisfies every rule; the reasons come from an elastic re-solve that
            says which standards or constraints to relax, and by how much.
        SolverError
            When the solver stopped without any plan (e.g. the time limit hit before the first
            feasible solution).
        """
        started = time.perf_counter()
        deadline = None if self.time_limit is None else started + self.time_limit
        start = self.today_plan()
        search = None
        if start is not None and uses_search(self.local_search, len(self.pair_site)):
            search_deadline = (
                None if self.time_limit is None else started + SEARCH_TIME_SHARE * self.time_limit
            )
            share = SEARCH_TIME_SHARE if self.time_limit is not None else 0.9

            def searched(text: str, done: float) -> None:
                if progress is not None:
                    progress(f"improving the plan, {text}", share * done)

            start, search = improve(self, start, search_deadline, searched)
            if progress is not None:
                progress("whole model", share)
        if start is not None:
            self.offer_start(start)
        limit = None if deadline is None else max(deadline - time.perf_counter(), 1.0)
        run = run_solver(
            self.problem,
            self.solver_name,
            limit,
            self.mip_gap,
            self.threads,
            warm_start=start is not None,
            integral_objective=self.integral_objective,
        )
        log.info(
            "Solved '%s' with %s: %s (%s), objective %.2f, gap %.2g, %.2f s",
            self.name,
            self.solver_name,
            run.status,
            run.solver_status,
            run.objective,
            run.gap,
            run.seconds,
        )
        if run.status == "infeasible":
            raise InfeasibleScenario(self.name, self.diagnose())
        if not run.has_solution:
            raise SolverError(
                f"Scenario '{self.name}': {self.solver_name} stopped without a plan "
                f"({run.solver_status}); raise solver.time_limit_seconds "
                f"(now {self.time_limit}) or loosen solver.mip_gap"
            )
        self.solution = self._read_solution(run, time.perf_counter() - started, search)
        return self

    @property
    def integral_objective(self) -> bool:
        """Every objective coefficient is an integer, so a plan within 1 of the bound is optimal."""
        return all(
            np.array_equal(values, np.round(values))
            for values in (self.fixed_cost, self.pair_cost, np.array([self.objective_constant]))
        )

    def today_plan(self) -> Plan | None:
        """Today's plan (every existing site kept, nothing moved), if the model allows it.

        Today's plan is often feasible, so offered as the solver's start it gives a plan from
        the first second and a time-limited run returns a plan at least as good as today. None
        when today is unknown or a lock or rule forbids it outright.
        """
        if self.current_site is None:
            return None
        at_today = self.pair_site == self.current_site[self.pair_service]
        n_services = len(self.service_ids)
        housed_once = np.bincount(self.pair_service[at_today], minlength=n_services) == 1
        opened = np.where(self.site_kind == "candidate", self.open_lower > 0, True)
        opened &= self.open_upper > 0
        if not housed_once.all() or not opened[self.current_site].all():
            return None
        return Plan(opened.astype(bool), self.current_site.copy())

    def offer_start(self, plan: Plan) -> None:
        """Set ``plan`` as the solver's start, helper variables included.

        A complete start is used as it stands, while HiGHS would spend a sub-solve completing
        a partial one.
        """
        site_of = plan.site_of
        chosen = self.pair_site == site_of[self.pair_service]
        for var, value in zip(self.open_vars, plan.opened.tolist(), strict=True):
            var.setInitialValue(float(value))
        for var, value in zip(self.housed_vars, chosen.tolist(), strict=True):
            var.setInitialValue(float(value))
        n_sites = len(self.site_ids)
        # Sites housing each service group (provider groups, incompatible types), computed once.
        hosting: dict[int, np.ndarray] = {}

        def hosts(services: np.ndarray) -> np.ndarray:
            if id(services) not in hosting:
                hosting[id(services)] = np.zeros(n_sites, dtype=bool)
                hosting[id(services)][site_of[np.asarray(services, bool)]] = True
            return hosting[id(services)]

        covered: dict[int, np.ndarray] = {}
        for kind, var, *where in self._aux:
            if kind == "one":
                value = True
            elif kind == "provides":
                r, g, s = where
                value = hosts(self.coverage[r].providers[g])[s]
            elif kind == "covered":
                r, d = where
                if r not in covered:
                    covered[r] = self.covered_points(self.coverage[r], site_of)
                value = covered[r][d]
            else:
                services, s = where
                value = hosts(services)[s]
            var.setInitialValue(float(value))

    def plan_from_solver(self) -> Plan | None:
        """The plan in the variables' values after a solve (None if a service is unhoused)."""
        opened = np.array([(v.varValue or 0.0) > 0.5 for v in self.open_vars], dtype=bool)
        chosen = np.array([(v.varValue or 0.0) > 0.5 for v in self.housed_vars], dtype=bool)
        site_of = np.full(len(self.service_ids), -1)
        site_of[self.pair_service[chosen]] = self.pair_site[chosen]
        return None if (site_of < 0).any() else Plan(opened, site_of)

    def _read_solution(
        self, run: SolverRun, seconds: float, search: SearchReport | None
    ) -> Solution:
        plan = self.plan_from_solver()
        if plan is None:
            raise SolverError(f"Scenario '{self.name}': the solver's plan leaves services unhoused")
        opened, site_of = plan.opened, plan.site_of
        decisions = [
            (_OPEN_DECISION if is_open else _CLOSED_DECISION)[str(kind)]
            for is_open, kind in zip(opened, self.site_kind, strict=True)
        ]
        objective = float(pulp.value(self.problem.objective))
        # The constant is inside the model, so the solver's bound is in the same £ as the plan.
        bound = run.best_bound if math.isfinite(run.best_bound) else math.nan
        solver_gap = run.gap if math.isfinite(run.gap) else math.nan
        if run.status == "optimal" and not solver_gap > 0:
            bound, solver_gap = objective, 0.0
        coverage, demand_cover = self._coverage_tables(opened, site_of)
        return Solution(
            status=run.status,
            solver=self.solver_name,
            solver_status=run.solver_status,
            objective=objective,
            best_bound=bound,
            gap=solver_gap,
            build_seconds=self.build_seconds,
            solve_seconds=seconds,
            site_decision=pd.Series(
                decisions, index=pd.Index(self.site_ids, name="site_id"), dtype=object
            ),
            assignment=pd.Series(
                [self.site_ids[s] for s in site_of],
                index=pd.Index(self.service_ids, name="service_id"),
                dtype=object,
            ),
            coverage=coverage,
            demand_cover=demand_cover,
            pruned_pairs=self.pruned_pairs,
            allowed_pairs=len(self.pair_site),
            local_search="" if search is None else search.describe(),
        )

    def covered_points(
        self,
        requirement: CoverageRequirement,
        site_of: np.ndarray,
        among: np.ndarray | None = None,
    ) -> np.ndarray:
        """Bool per demand point: covered when each service ``k`` sits at ``site_of[k]``.

        Closed sites never house services, so the placement alone decides the cover. With
        ``among`` (bool per service) only those services count.
        """
        n_sites = len(self.site_ids)
        covered = np.zeros(len(requirement.weights), dtype=bool)
        for reach, providers in zip(requirement.reach, requirement.providers, strict=True):
            counted = np.asarray(providers, dtype=bool)
            if among is not None:
                counted = counted & among
            hosts = np.zeros(n_sites, dtype=bool)
            hosts[site_of[counted]] = True
            covered |= np.asarray(sparse.csr_array(reach)[hosts].sum(axis=0)).ravel() > 0
        return covered

    def _coverage_tables(
        self, opened: np.ndarray, site_of: np.ndarray
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        rows = []
        columns: dict[str, np.ndarray] = {}
        for req in self.coverage:
            after = self.covered_points(req, site_of)
            before = (
                req.covered_before
                if req.covered_before is not None
                else (
                    self.covered_points(req, self.current_site)
                    if self.current_site is not None
                    else np.zeros(len(req.weights), dtype=bool)
                )
            )
            total = float(req.weights.sum())
            weight_before = float(req.weights[before].sum())
            weight_after = float(req.weights[after].sum())
            target = req.target_weight
            rows.append(
                {
                    "name": req.name,
                    "kind": req.kind,
                    "service_types": ", ".join(req.service_types),
                    "minutes": req.minutes,
                    "rule": req.rule,
                    "target_share": target / total if total > 0 else 1.0,
                    "weight_total": total,
                    "weight_covered_before": weight_before,
                    "weight_covered_after": weight_after,
                    "share_before": weight_before / total if total > 0 else 1.0,
                    "share_after": weight_after / total if total > 0 else 1.0,
                    "met": bool(weight_after >= target - SHARE_TOLERANCE * max(total, 1.0)),
                }
            )
            columns[f"{req.name}_before"] = before
            columns[f"{req.name}_after"] = after
        coverage = pd.DataFrame(
            rows,
            columns=[
                "name",
                "kind",
                "service_types",
                "minutes",
                "rule",
                "target_share",
                "weight_total",
                "weight_covered_before",
                "weight_covered_after",
                "share_before",
                "share_after",
                "met",
            ],
        )
        demand_cover = pd.DataFrame(columns, index=pd.Index(self.demand_ids, name="demand_id"))
        return coverage, demand_cover

    # ------------------------------------------------------------------ diagnosis

    def diagnose(self) -> list[str]:
        """Say which rules to relax, and by how much, when the model is infeasible.

        Solves an elastic copy of the model: every coverage, capacity and side row gets a slack
        variable and the solver minimises the total (scaled) violation. Each row left violated
        becomes one reason naming the requirement, places and shortfall.

        Returns
        -------
        list of str
        """
        from ._diagnose import elastic_reasons

        return elastic_reasons(self)
