"""One planning problem as plain arrays, a plan on it, and the plan's check.

A :class:`PlanningProblem` holds everything the optimisation needs and nothing of the solver:
sites, services and the (service, site) pairs allowed, costs, capacities, response standards
and access rules (:class:`CoverageRequirement`), the budget and partner rows
(:class:`SideConstraint`), locks and incompatible service types. A :class:`Plan` says which
sites are open and where each service is housed. :meth:`PlanningProblem.check` recomputes a
plan's cost and every rule from the arrays alone, so no figure a user sees rests on a solver's
word.

This module is the floor of the model: the formulation, solving, search and diagnosis build on
it and it imports none of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = [
    "CoverageRequirement",
    "Plan",
    "PlanCheck",
    "PlanningProblem",
    "SideConstraint",
    "listed_ids",
    "side_tolerance",
    "share_tolerance",
]

#: How many ids a message lists before "and N more".
_LIST_IDS = 8
#: Site kinds, and how a site that is open or not is named in the decisions.
SITE_KINDS = ("freehold", "leasehold", "candidate")
OPEN_DECISION = {"freehold": "keep", "leasehold": "keep", "candidate": "build"}
CLOSED_DECISION = {"freehold": "dispose", "leasehold": "exit_lease", "candidate": "not_built"}
#: A share target may be missed by this fraction of the requirement's total weight: a target
#: equal to the best achievable cover (no worse than today) sits exactly at its bound.
SHARE_TOLERANCE = 1e-6
#: A money row (budget, partner) may be missed by this fraction of its size: partners with
#: nothing to gain sit exactly on their "no worse off" row, and the solver's own feasibility
#: tolerance is of the same order. The check allows twice this (model margin plus solver).
SIDE_TOLERANCE = 1e-7
#: Floor space may be exceeded by this fraction (rounding of the data only: plans are integral).
CAPACITY_TOLERANCE = 1e-9
#: The recomputed objective and the solver's may differ by this fraction before they disagree.
OBJECTIVE_TOLERANCE = 1e-7


def listed_ids(ids: Sequence[str]) -> str:
    """ "a, b, c and 4 more": ids for a message, at most a handful."""
    ids = list(ids)
    shown = ", ".join(ids[:_LIST_IDS])
    more = len(ids) - _LIST_IDS
    return shown + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class CoverageRequirement:
    """A response standard or access rule on plain arrays.

    A demand point is covered when at least one open site that reaches it houses a service that
    provides the requirement. Services may fall in several provider groups (one per service
    type), each with its own reach matrix, because blue-light speeds differ by type.

    Attributes
    ----------
    name : str
    reach : tuple of scipy.sparse.csr_array
        One per provider group, sites x demand, True where the site reaches the point in time.
    providers : tuple of numpy.ndarray
        One per group, bool per service: the services of that group.
    weights : numpy.ndarray
        Demand weight (population, incidents) per point.
    rule : {"share", "all", "no_worse_than_today"}
        "all" asks every point of positive weight to be covered.
    share : float
        Target share of the total weight for rule "share".
    covered_before : numpy.ndarray, optional
        Bool per point: covered today. Required for "no_worse_than_today".
    kind : {"response", "access"}
    service_types : tuple of str
    minutes : float
    """

    name: str
    reach: tuple[sparse.csr_array, ...]
    providers: tuple[np.ndarray, ...]
    weights: np.ndarray
    rule: Literal["share", "all", "no_worse_than_today"] = "share"
    share: float = 1.0
    covered_before: np.ndarray | None = None
    kind: Literal["response", "access"] = "response"
    service_types: tuple[str, ...] = ()
    minutes: float = math.nan

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())

    @property
    def weight_before(self) -> float:
        """Weight covered today (NaN when today's cover is unknown)."""
        if self.covered_before is None:
            return math.nan
        return float(self.weights[self.covered_before].sum())

    @property
    def target_weight(self) -> float:
        """The covered weight the rule asks for."""
        if self.rule == "all":
            return float(self.weights[self.weights > 0].sum())
        if self.rule == "no_worse_than_today":
            return self.weight_before
        return self.share * self.total_weight

    @property
    def tolerance(self) -> float:
        """Weight by which a share target may be missed (see :data:`SHARE_TOLERANCE`)."""
        return share_tolerance(self.total_weight)


def share_tolerance(total_weight: float) -> float:
    return SHARE_TOLERANCE * max(1.0, total_weight)


@dataclass(frozen=True)
class SideConstraint:
    """A linear row on site and assignment variables (capital budget, partner no worse off).

    ``constant + sum(site_coef * open) + sum(pair_coef(k, s) * housed[k, s])  SENSE  rhs``.

    Attributes
    ----------
    name : str
        Row name (``budget``, ``partner_POLICE``).
    label : str
        Plain words for messages ("capital budget", "partner POLICE NPV gain").
    site_coef : numpy.ndarray
    pair_coef : callable or None
        ``pair_coef(service_index, site_index) -> coefficients``, vectorised over pairs.
    constant : float
    sense : {"<=", ">="}
    rhs : float
    """

    name: str
    label: str
    site_coef: np.ndarray
    pair_coef: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    constant: float
    sense: Literal["<=", ">="]
    rhs: float


def side_tolerance(size: float) -> float:
    """£ by which a money row of this size may be missed (see :data:`SIDE_TOLERANCE`)."""
    return SIDE_TOLERANCE * max(1.0, size)


@dataclass
class Plan:
    """Which sites are open and where each service is housed (positions in the problem)."""

    opened: np.ndarray
    site_of: np.ndarray

    def copy(self) -> Plan:
        return Plan(self.opened.copy(), self.site_of.copy())


@dataclass(frozen=True)
class PlanCheck:
    """What :meth:`PlanningProblem.check` found: the plan's cost and every rule it breaks.

    Attributes
    ----------
    objective : float
        Whole-life cost recomputed from the plan (constant included).
    violations : list of str
        One plain-words line per broken rule (empty when the plan keeps every rule).
    rows : int
        How many rules were checked.
    """

    objective: float
    violations: list[str] = field(default_factory=list)
    rows: int = 0

    @property
    def holds(self) -> bool:
        return not self.violations


@dataclass(frozen=True, eq=False)
class PlanningProblem:
    """The co-location problem on plain arrays.

    Sets: sites S, services K, allowed pairs E subset of K x S (``pair_service``,
    ``pair_site``; ordered by service), demand points D, requirements B, side rows R.

    Attributes
    ----------
    name : str
        Used in messages (the scenario name).
    site_ids, service_ids, demand_ids : list of str
    fixed_cost : numpy.ndarray
        Per site: cost of opening (keeping or building) it rather than not.
    capacity, space : numpy.ndarray
        Per site floor space; per service space needed.
    pair_service, pair_site, pair_cost : numpy.ndarray
        The allowed pairs and the cost of housing the service there.
    open_lower, open_upper : numpy.ndarray
        Bounds of each site's open decision (locks and rules fix them to 1 or 0).
    site_kind : numpy.ndarray of str
        "freehold", "leasehold" or "candidate": names the decisions.
    current_site : numpy.ndarray of int or None
        Per service, today's site position.
    objective_constant : float
        Cost that no decision changes (every site closed, nothing moved).
    coverage : tuple of CoverageRequirement
    side_constraints : tuple of SideConstraint
    incompatible : tuple of (type_a, type_b, mask_a, mask_b)
        Services in ``mask_a`` never share a site with services in ``mask_b``.
    pruned_pairs : int
        (service, site) pairs removed before building.
    """

    name: str
    site_ids: list[str]
    service_ids: list[str]
    demand_ids: list[str]
    fixed_cost: np.ndarray
    capacity: np.ndarray
    space: np.ndarray
    pair_service: np.ndarray
    pair_site: np.ndarray
    pair_cost: np.ndarray
    open_lower: np.ndarray
    open_upper: np.ndarray
    site_kind: np.ndarray
    current_site: np.ndarray | None = None
    objective_constant: float = 0.0
    coverage: tuple[CoverageRequirement, ...] = ()
    side_constraints: tuple[SideConstraint, ...] = ()
    incompatible: tuple[tuple[str, str, np.ndarray, np.ndarray], ...] = ()
    pruned_pairs: int = 0

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_dense(
        cls,
        fixed_cost: Any,
        capacity: Any,
        space: Any,
        assignment_cost: Any,
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
        pruned_before: int = 0,
    ) -> PlanningProblem:
        """Build from a dense services x sites cost matrix (``np.inf`` marks a forbidden pair).

        Pairs are kept where the cost is finite, ``allowed`` permits them, the site may open
        and the service fits in the site.
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
        mask &= space[:, None] <= capacity[None, :] * (1 + CAPACITY_TOLERANCE)
        pair_service, pair_site = np.nonzero(mask)
        kinds = site_kind if site_kind is not None else ["freehold"] * n_sites
        return cls(
            name=name,
            site_ids=[str(i) for i in (site_ids if site_ids is not None else range(n_sites))],
            service_ids=[
                str(i) for i in (service_ids if service_ids is not None else range(n_services))
            ],
            demand_ids=[str(i) for i in demand_ids] if demand_ids is not None else [],
            fixed_cost=np.asarray(fixed_cost, dtype=float),
            capacity=capacity,
            space=space,
            pair_service=pair_service,
            pair_site=pair_site,
            pair_cost=cost[pair_service, pair_site],
            open_lower=lower,
            open_upper=upper,
            site_kind=np.asarray(kinds, dtype=object),
            current_site=None if current_site is None else np.asarray(current_site, dtype=int),
            objective_constant=float(objective_constant),
            coverage=tuple(coverage or ()),
            side_constraints=tuple(side_constraints or ()),
            incompatible=tuple(incompatible or ()),
            pruned_pairs=pruned_before + int(mask.size - mask.sum()),
        )

    # ------------------------------------------------------------------ derived arrays

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    @property
    def n_services(self) -> int:
        return len(self.service_ids)

    @cached_property
    def side_pair_coefs(self) -> tuple[np.ndarray | None, ...]:
        """Each side row's coefficient on each allowed pair (None where the row has none)."""
        return tuple(
            None
            if side.pair_coef is None or not len(self.pair_site)
            else np.asarray(side.pair_coef(self.pair_service, self.pair_site), dtype=float)
            for side in self.side_constraints
        )

    @cached_property
    def side_sizes(self) -> tuple[float, ...]:
        """The size of each money row (its largest term), which scales its tolerance."""
        sizes = []
        for side, pair_coef in zip(self.side_constraints, self.side_pair_coefs, strict=True):
            terms = [abs(side.rhs), abs(side.constant)]
            if len(side.site_coef):
                terms.append(float(np.abs(side.site_coef).max()))
            if pair_coef is not None and len(pair_coef):
                terms.append(float(np.abs(pair_coef).max()))
            sizes.append(max(1.0, *terms))
        return tuple(sizes)

    @property
    def integral_objective(self) -> bool:
        """Every objective coefficient is an integer, so a plan within 1 of the bound is optimal."""
        return all(
            np.array_equal(values, np.round(values))
            for values in (self.fixed_cost, self.pair_cost, np.array([self.objective_constant]))
        )

    # ------------------------------------------------------------------ plans

    def today_plan(self) -> Plan | None:
        """Today's plan (every existing site kept, nothing moved), if the problem allows it.

        None when today is unknown or a lock or rule forbids it outright.
        """
        if self.current_site is None:
            return None
        at_today = self.pair_site == self.current_site[self.pair_service]
        housed_once = np.bincount(self.pair_service[at_today], minlength=self.n_services) == 1
        opened = np.where(self.site_kind == "candidate", self.open_lower > 0, True)
        opened &= self.open_upper > 0
        if not housed_once.all() or not opened[self.current_site].all():
            return None
        return Plan(opened.astype(bool), self.current_site.copy())

    def chosen_pairs(self, plan: Plan) -> np.ndarray:
        """Bool per allowed pair: the plan houses that service at that site."""
        return self.pair_site == plan.site_of[self.pair_service]

    def plan_cost(self, plan: Plan) -> float:
        """The plan's objective without the constant."""
        chosen = self.chosen_pairs(plan)
        return float(self.fixed_cost[plan.opened].sum() + self.pair_cost[chosen].sum())

    def cost(self, plan: Plan) -> float:
        """The plan's whole-life cost: the objective with its constant."""
        return self.objective_constant + self.plan_cost(plan)

    def side_value(self, index: int, plan: Plan) -> float:
        """Left-hand side of side row ``index`` (constant included) under ``plan``."""
        side = self.side_constraints[index]
        value = side.constant + float(side.site_coef[plan.opened].sum())
        pair_coef = self.side_pair_coefs[index]
        if pair_coef is not None:
            value += float(pair_coef[self.chosen_pairs(plan)].sum())
        return value

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
        covered = np.zeros(len(requirement.weights), dtype=bool)
        for reach, providers in zip(requirement.reach, requirement.providers, strict=True):
            counted = np.asarray(providers, dtype=bool)
            if among is not None:
                counted = counted & among
            hosts = np.zeros(self.n_sites, dtype=bool)
            hosts[site_of[counted]] = True
            covered |= np.asarray(sparse.csr_array(reach)[hosts].sum(axis=0)).ravel() > 0
        return covered

    def reachable(self, requirement: CoverageRequirement) -> np.ndarray:
        """Bool per demand point: some allowed provider pair's site reaches it."""
        reachable = np.zeros(len(requirement.weights), dtype=bool)
        for reach, providers in zip(requirement.reach, requirement.providers, strict=True):
            sites = np.zeros(self.n_sites, dtype=bool)
            sites[self.pair_site[np.asarray(providers, bool)[self.pair_service]]] = True
            reachable |= np.asarray(sparse.csr_array(reach)[sites].sum(axis=0)).ravel() > 0
        return reachable

    def check(self, plan: Plan) -> PlanCheck:
        """Recompute the plan's cost and check every rule of the problem on it, in numpy.

        Rules: each service housed once at an allowed pair; sites within their lock bounds;
        services only at open sites; floor space; every coverage requirement; incompatible
        types apart; every budget and partner row (within the tolerances documented above).
        """
        violations: list[str] = []
        rows = 0
        opened = np.asarray(plan.opened, dtype=bool)
        site_of = np.asarray(plan.site_of, dtype=int)
        if opened.shape != (self.n_sites,) or site_of.shape != (self.n_services,):
            return PlanCheck(math.nan, ["the plan does not match the problem's sites and services"])
        if ((site_of < 0) | (site_of >= self.n_sites)).any():
            return PlanCheck(math.nan, ["the plan leaves services unhoused"])
        chosen = self.chosen_pairs(plan)
        rows += self.n_services
        housed = np.bincount(self.pair_service[chosen], minlength=self.n_services)
        stray = [self.service_ids[k] for k in np.flatnonzero(housed != 1)]
        if stray:
            violations.append(f"services at sites they may not use: {listed_ids(stray)}")
        rows += self.n_sites
        wrong = (opened & (self.open_upper <= 0)) | (~opened & (self.open_lower >= 1))
        if wrong.any():
            ids = [self.site_ids[s] for s in np.flatnonzero(wrong)]
            violations.append(f"sites against their locks or rules: {listed_ids(ids)}")
        closed_hosts = sorted({self.site_ids[s] for s in site_of[~opened[site_of]]})
        if closed_hosts:
            violations.append(f"closed sites still house services: {listed_ids(closed_hosts)}")
        used = np.bincount(site_of, weights=self.space, minlength=self.n_sites)
        over = used > self.capacity * (1 + CAPACITY_TOLERANCE) + CAPACITY_TOLERANCE
        for s in np.flatnonzero(over):
            violations.append(
                f"site {self.site_ids[s]}: {used[s]:,.0f} m2 housed in {self.capacity[s]:,.0f} m2"
            )
        for req in self.coverage:
            rows += 1
            covered = self.covered_points(req, site_of)
            if req.rule == "all":
                lost = np.flatnonzero(~covered & (req.weights > 0))
                if len(lost):
                    ids = [self.demand_ids[d] for d in lost]
                    violations.append(f"{req.name}: points not covered: {listed_ids(ids)}")
                continue
            weight = float(req.weights[covered].sum())
            if weight < req.target_weight - 2 * req.tolerance:
                violations.append(
                    f"{req.name}: {weight:,.1f} covered, {req.target_weight:,.1f} required"
                )
        for type_a, type_b, mask_a, mask_b in self.incompatible:
            rows += 1
            hosts_a = np.zeros(self.n_sites, dtype=bool)
            hosts_a[site_of[np.asarray(mask_a, bool)]] = True
            hosts_b = np.zeros(self.n_sites, dtype=bool)
            hosts_b[site_of[np.asarray(mask_b, bool)]] = True
            both = np.flatnonzero(hosts_a & hosts_b)
            if len(both):
                ids = [self.site_ids[s] for s in both]
                violations.append(f"{type_a} and {type_b} share sites {listed_ids(ids)}")
        for index, side in enumerate(self.side_constraints):
            rows += 1
            value = self.side_value(index, plan)
            slack = 2 * side_tolerance(self.side_sizes[index])
            broken = value > side.rhs + slack if side.sense == "<=" else value < side.rhs - slack
            if broken:
                violations.append(
                    f"{side.label}: £{value:,.2f} against a limit of {side.sense} £{side.rhs:,.2f}"
                )
        return PlanCheck(self.cost(plan), violations, rows)

    # ------------------------------------------------------------------ reporting

    def site_decisions(self, plan: Plan) -> pd.Series:
        """site_id -> "keep", "dispose", "exit_lease", "build" or "not_built"."""
        decisions = [
            (OPEN_DECISION if is_open else CLOSED_DECISION)[str(kind)]
            for is_open, kind in zip(plan.opened, self.site_kind, strict=True)
        ]
        return pd.Series(decisions, index=pd.Index(self.site_ids, name="site_id"), dtype=object)

    def assignment(self, plan: Plan) -> pd.Series:
        """service_id -> site_id."""
        return pd.Series(
            [self.site_ids[s] for s in plan.site_of],
            index=pd.Index(self.service_ids, name="service_id"),
            dtype=object,
        )

    def coverage_tables(self, plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Cover before and after per requirement, and per demand point.

        Returns
        -------
        coverage : pandas.DataFrame
            One row per requirement: name, kind, service_types, minutes, rule, target_share,
            weight_total, weight_covered_before, weight_covered_after, share_before,
            share_after, met.
        demand_cover : pandas.DataFrame
            Index demand_id; columns ``{name}_before`` and ``{name}_after`` (bool).
        """
        rows = []
        columns: dict[str, np.ndarray] = {}
        for req in self.coverage:
            after = self.covered_points(req, plan.site_of)
            if req.covered_before is not None:
                before = req.covered_before
            elif self.current_site is not None:
                before = self.covered_points(req, self.current_site)
            else:
                before = np.zeros(len(req.weights), dtype=bool)
            total = req.total_weight
            weight_before = float(req.weights[before].sum())
            weight_after = float(req.weights[after].sum())
            target = req.target_weight

            def share(weight: float, total: float = total) -> float:
                return weight / total if total > 0 else 1.0

            rows.append(
                {
                    "name": req.name,
                    "kind": req.kind,
                    "service_types": ", ".join(req.service_types),
                    "minutes": req.minutes,
                    "rule": req.rule,
                    "target_share": share(target),
                    "weight_total": total,
                    "weight_covered_before": weight_before,
                    "weight_covered_after": weight_after,
                    "share_before": share(weight_before),
                    "share_after": share(weight_after),
                    "met": bool(weight_after >= target - 2 * req.tolerance),
                }
            )
            columns[f"{req.name}_before"] = before
            columns[f"{req.name}_after"] = after
        coverage = pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
        demand_cover = pd.DataFrame(columns, index=pd.Index(self.demand_ids, name="demand_id"))
        return coverage, demand_cover


COVERAGE_COLUMNS = [
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
]
