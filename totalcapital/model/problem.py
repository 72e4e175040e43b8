"""One planning problem as plain arrays, a plan on it, and the plan's check.

A :class:`PlanningProblem` holds everything the optimisation needs and nothing of the solver:
sites, services and the (service, site) pairs allowed, costs, capacities, response standards
and access rules (:class:`CoverageRequirement`), the budget and partner rows
(:class:`SideConstraint`), locks and incompatible service types. A :class:`Plan` says, in each
epoch of the programme, which sites are held (or built) and where each service is housed.
:meth:`PlanningProblem.check` recomputes a plan's cost and every rule from the arrays alone,
so no figure a user sees rests on a solver's word.

Time: the problem has E epochs (runs of financial years in which nothing changes; see
:mod:`totalcapital.timeline`). The timeless model is the case E = 1. A site's **state** in an
epoch is "held" for an existing site (it starts held and, once let go, never comes back) or
"build started" for a candidate (it starts unbuilt and, once started, stays). A candidate
hosts services from the epoch its build is finished (``available_from``). A service moves at
most once, from today's site to its new home, and stays there.

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
#: Rules that ask for each of a set of points rather than a share of the weight.
POINT_RULES = ("all", "keep_today")
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
    rule : {"share", "all", "keep_today", "no_worse_than_today"}
        "all" asks every point of positive weight to be covered; "keep_today" every point
        covered today; "no_worse_than_today" at least today's covered weight.
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
    rule: Literal["share", "all", "keep_today", "no_worse_than_today"] = "share"
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
        if self.rule in POINT_RULES:
            return float(self.weights[self.must_cover].sum())
        if self.rule == "no_worse_than_today":
            return self.weight_before
        return self.share * self.total_weight

    @property
    def must_cover(self) -> np.ndarray:
        """Bool per point that a point rule ("all", "keep_today") requires covered."""
        needed = self.weights > 0
        if self.rule == "keep_today" and self.covered_before is not None:
            needed = needed & self.covered_before
        return needed

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
    group : str, optional
        Rows of one rule (a budget's running total at the end of each epoch) share a group:
        a diagnosis relaxes them together by one amount.
    """

    name: str
    label: str
    site_coef: np.ndarray
    pair_coef: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    constant: float
    sense: Literal["<=", ">="]
    rhs: float
    group: str | None = None


def side_tolerance(size: float) -> float:
    """£ by which a money row of this size may be missed (see :data:`SIDE_TOLERANCE`)."""
    return SIDE_TOLERANCE * max(1.0, size)


@dataclass
class Plan:
    """Each site's state and each service's site, per epoch (positions in the problem).

    ``state`` is sites x epochs (held, for an existing site; build started, for a candidate)
    and ``site_of`` services x epochs. One-dimensional arrays are read as a single epoch.
    """

    state: np.ndarray
    site_of: np.ndarray

    def __post_init__(self) -> None:
        self.state = np.asarray(self.state, dtype=bool)
        self.site_of = np.asarray(self.site_of, dtype=int)
        if self.state.ndim == 1:
            self.state = self.state[:, None]
        if self.site_of.ndim == 1:
            self.site_of = self.site_of[:, None]

    @property
    def opened(self) -> np.ndarray:
        """Per site, its state in the last epoch (kept or built by the end of the window)."""
        return self.state[:, -1]

    @property
    def final_site(self) -> np.ndarray:
        """Per service, its site in the last epoch."""
        return self.site_of[:, -1]

    def copy(self) -> Plan:
        return Plan(self.state.copy(), self.site_of.copy())


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


def _per_epoch(values: Any, rows: int, epochs: int) -> np.ndarray:
    """``values`` as a rows x epochs float array (a 1-D array repeats in every epoch)."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = np.repeat(array[:, None], epochs, axis=1)
    return array.reshape(rows, epochs)


@dataclass(frozen=True, eq=False)
class PlanningProblem:
    """The co-location problem on plain arrays, over E epochs (E = 1: timeless).

    Sets: sites S, services K, allowed pairs P subset of K x S (``pair_service``,
    ``pair_site``; ordered by service then site), demand points D, requirements B, side rows R,
    epochs E.

    Attributes
    ----------
    name : str
        Used in messages (the scenario name).
    site_ids, service_ids, demand_ids : list of str
    site_cost : numpy.ndarray
        S x E: cost of a site's state being 1 in each epoch (held, or build started), the
        telescoped sum of running costs, receipts forgone, builds and backlog (see
        :mod:`totalcapital.model.from_estate`).
    capacity, space : numpy.ndarray
        Per site floor space; per service space needed.
    pair_service, pair_site : numpy.ndarray
        The allowed pairs.
    pair_cost : numpy.ndarray
        P x E: cost of the service being at the site in each epoch (moves, telescoped).
    state_lower, state_upper : numpy.ndarray
        S x E bounds of each site's state (locks and rules fix them).
    may_change : numpy.ndarray of bool
        S x E: the state may differ from the epoch before (in epoch 0: from the starting
        state, held for existing sites and unbuilt for candidates).
    available_from : numpy.ndarray of int
        S x E: the epoch whose state says the site can host in this epoch (-1: it cannot).
    site_kind : numpy.ndarray of str
        "freehold", "leasehold" or "candidate": names the decisions.
    current_site : numpy.ndarray of int or None
        Per service, today's site position.
    epoch_labels : tuple of str
        The financial year each epoch starts ("2028-29"); ("",) for the timeless model.
    objective_constant : float
        Cost that no decision changes.
    coverage : tuple of CoverageRequirement
        Each holds in every epoch.
    side_constraints : tuple of SideConstraint
        ``site_coef`` is S or S x E, ``pair_coef`` returns n or n x E values.
    incompatible : tuple of (type_a, type_b, mask_a, mask_b)
        Services in ``mask_a`` never share a site with services in ``mask_b``.
    pruned_pairs : int
        (service, site) pairs removed before building.
    """

    name: str
    site_ids: list[str]
    service_ids: list[str]
    demand_ids: list[str]
    site_cost: np.ndarray
    capacity: np.ndarray
    space: np.ndarray
    pair_service: np.ndarray
    pair_site: np.ndarray
    pair_cost: np.ndarray
    state_lower: np.ndarray
    state_upper: np.ndarray
    site_kind: np.ndarray
    may_change: np.ndarray | None = None
    available_from: np.ndarray | None = None
    current_site: np.ndarray | None = None
    epoch_labels: tuple[str, ...] = ("",)
    objective_constant: float = 0.0
    coverage: tuple[CoverageRequirement, ...] = ()
    side_constraints: tuple[SideConstraint, ...] = ()
    incompatible: tuple[tuple[str, str, np.ndarray, np.ndarray], ...] = ()
    pruned_pairs: int = 0

    def __post_init__(self) -> None:
        n_sites, n_epochs = len(self.site_ids), len(self.epoch_labels)
        set_ = object.__setattr__
        set_(self, "site_cost", _per_epoch(self.site_cost, n_sites, n_epochs))
        set_(self, "pair_cost", _per_epoch(self.pair_cost, len(self.pair_site), n_epochs))
        set_(self, "state_lower", _per_epoch(self.state_lower, n_sites, n_epochs))
        set_(self, "state_upper", _per_epoch(self.state_upper, n_sites, n_epochs))
        if self.may_change is None:
            set_(self, "may_change", np.ones((n_sites, n_epochs), dtype=bool))
        if self.available_from is None:
            set_(self, "available_from", np.tile(np.arange(n_epochs), (n_sites, 1)))
        set_(self, "site_kind", np.asarray(self.site_kind, dtype=object))
        if n_epochs > 1 and self.current_site is None:
            raise ValueError("a dated problem needs each service's current site")

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
        epochs: dict[str, Any] | None = None,
    ) -> PlanningProblem:
        """Build from a dense services x sites cost matrix (``np.inf`` marks a forbidden pair).

        Pairs are kept where the cost is finite, ``allowed`` permits them, the site may open
        in some epoch and the service fits in the site. ``fixed_cost`` and ``assignment_cost``
        are per site and per pair for the timeless model; ``epochs`` (keys ``site_cost`` S x E,
        ``move_cost`` K x E, ``state_lower``, ``state_upper``, ``may_change``,
        ``available_from``, ``labels``) makes the problem dated, with ``assignment_cost``
        then only marking forbidden pairs.
        """
        cost = np.asarray(assignment_cost, dtype=float)
        n_services, n_sites = cost.shape
        space = np.asarray(space, dtype=float)
        capacity = np.asarray(capacity, dtype=float)
        mask = np.isfinite(cost)
        if allowed is not None:
            mask &= np.asarray(allowed, dtype=bool)
        epochs = dict(epochs or {})
        upper = np.ones(n_sites) if open_upper is None else np.asarray(open_upper, dtype=float)
        lower = np.zeros(n_sites) if open_lower is None else np.asarray(open_lower, dtype=float)
        upper = np.asarray(epochs.get("state_upper", upper), dtype=float)
        lower = np.asarray(epochs.get("state_lower", lower), dtype=float)
        ever_open = (upper > 0) if upper.ndim == 1 else (upper > 0).any(axis=1)
        mask &= ever_open[None, :]
        mask &= space[:, None] <= capacity[None, :] * (1 + CAPACITY_TOLERANCE)
        pair_service, pair_site = np.nonzero(mask)
        kinds = site_kind if site_kind is not None else ["freehold"] * n_sites
        if "move_cost" in epochs:
            moved = pair_site != np.asarray(current_site)[pair_service]
            pair_cost = np.where(
                moved[:, None], np.asarray(epochs["move_cost"], float)[pair_service], 0.0
            )
        else:
            pair_cost = cost[pair_service, pair_site]
        if demand_ids is None:
            demand_ids = range(len(coverage[0].weights)) if coverage else ()
        return cls(
            name=name,
            site_ids=[str(i) for i in (site_ids if site_ids is not None else range(n_sites))],
            service_ids=[
                str(i) for i in (service_ids if service_ids is not None else range(n_services))
            ],
            demand_ids=[str(i) for i in demand_ids],
            site_cost=np.asarray(epochs.get("site_cost", fixed_cost), dtype=float),
            capacity=capacity,
            space=space,
            pair_service=pair_service,
            pair_site=pair_site,
            pair_cost=pair_cost,
            state_lower=lower,
            state_upper=upper,
            site_kind=np.asarray(kinds, dtype=object),
            may_change=epochs.get("may_change"),
            available_from=epochs.get("available_from"),
            current_site=None if current_site is None else np.asarray(current_site, dtype=int),
            epoch_labels=tuple(epochs.get("labels", ("",))),
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

    @property
    def n_epochs(self) -> int:
        return len(self.epoch_labels)

    @property
    def is_candidate(self) -> np.ndarray:
        return self.site_kind == "candidate"

    @property
    def initial_state(self) -> np.ndarray:
        """The state before the plan starts: existing sites held, candidates unbuilt."""
        return ~self.is_candidate

    @cached_property
    def side_site_coefs(self) -> tuple[np.ndarray, ...]:
        """Each side row's coefficients on the site states, S x E."""
        return tuple(
            _per_epoch(side.site_coef, self.n_sites, self.n_epochs)
            for side in self.side_constraints
        )

    @cached_property
    def side_pair_coefs(self) -> tuple[np.ndarray | None, ...]:
        """Each side row's coefficients on the allowed pairs, P x E (None where it has none)."""
        return tuple(
            None
            if side.pair_coef is None or not len(self.pair_site)
            else _per_epoch(
                side.pair_coef(self.pair_service, self.pair_site),
                len(self.pair_site),
                self.n_epochs,
            )
            for side in self.side_constraints
        )

    @cached_property
    def side_sizes(self) -> tuple[float, ...]:
        """The size of each money row (its largest term), which scales its tolerance."""
        sizes = []
        for index, side in enumerate(self.side_constraints):
            terms = [abs(side.rhs), abs(side.constant)]
            site_coef = self.side_site_coefs[index]
            pair_coef = self.side_pair_coefs[index]
            if site_coef.size:
                terms.append(float(np.abs(site_coef).max()))
            if pair_coef is not None and pair_coef.size:
                terms.append(float(np.abs(pair_coef).max()))
            sizes.append(max(1.0, *terms))
        return tuple(sizes)

    @cached_property
    def _pair_keys(self) -> np.ndarray:
        return self.pair_service.astype(np.int64) * max(self.n_sites, 1) + self.pair_site

    def pair_index(self, services: np.ndarray, sites: np.ndarray) -> np.ndarray:
        """Position of each (service, site) among the allowed pairs, -1 where not allowed."""
        keys = np.asarray(services, np.int64) * max(self.n_sites, 1) + np.asarray(sites)
        found = np.searchsorted(self._pair_keys, keys)
        found = np.minimum(found, max(len(self._pair_keys) - 1, 0))
        ok = len(self._pair_keys) > 0
        hit = (self._pair_keys[found] == keys) if ok else np.zeros(keys.shape, dtype=bool)
        return np.where(hit, found, -1)

    @property
    def integral_objective(self) -> bool:
        """Every objective coefficient is an integer, so a plan within 1 of the bound is optimal."""
        return all(
            np.array_equal(values, np.round(values))
            for values in (self.site_cost, self.pair_cost, np.array([self.objective_constant]))
        )

    def available(self, state: np.ndarray) -> np.ndarray:
        """S x E: whether each site can host in each epoch, given the states."""
        index = np.maximum(self.available_from, 0)
        hosting = np.take_along_axis(np.asarray(state, bool), index, axis=1)
        return hosting & (self.available_from >= 0)

    # ------------------------------------------------------------------ plans

    def today_plan(self) -> Plan | None:
        """Today's plan (every existing site held, nothing moved, nothing built), if allowed.

        None when today is unknown or a lock or rule forbids it outright.
        """
        if self.current_site is None:
            return None
        state = np.repeat(self.initial_state[:, None], self.n_epochs, axis=1)
        if (state < self.state_lower).any() or (state > self.state_upper).any():
            return None
        if (self.pair_index(np.arange(self.n_services), self.current_site) < 0).any():
            return None
        site_of = np.repeat(self.current_site[:, None], self.n_epochs, axis=1)
        return Plan(state, site_of)

    def chosen_pairs(self, plan: Plan) -> np.ndarray:
        """Pair position of each service in each epoch (K x E; -1 where the pair is not allowed)."""
        services = np.repeat(np.arange(self.n_services)[:, None], plan.site_of.shape[1], axis=1)
        return self.pair_index(services, plan.site_of)

    def plan_cost(self, plan: Plan) -> float:
        """The plan's objective without the constant."""
        chosen = self.chosen_pairs(plan)
        epochs = np.broadcast_to(np.arange(self.n_epochs), chosen.shape)
        pair_part = float(self.pair_cost[chosen, epochs].sum()) if chosen.size else 0.0
        return float(self.site_cost[plan.state].sum()) + pair_part

    def cost(self, plan: Plan) -> float:
        """The plan's whole-life cost: the objective with its constant."""
        return self.objective_constant + self.plan_cost(plan)

    def side_value(self, index: int, plan: Plan) -> float:
        """Left-hand side of side row ``index`` (constant included) under ``plan``."""
        side = self.side_constraints[index]
        value = side.constant + float(self.side_site_coefs[index][plan.state].sum())
        pair_coef = self.side_pair_coefs[index]
        if pair_coef is not None:
            chosen = self.chosen_pairs(plan)
            epochs = np.broadcast_to(np.arange(self.n_epochs), chosen.shape)
            value += float(pair_coef[chosen, epochs].sum())
        return value

    def covered_points(
        self,
        requirement: CoverageRequirement,
        site_of: np.ndarray,
        among: np.ndarray | None = None,
    ) -> np.ndarray:
        """Bool per demand point: covered when each service ``k`` sits at ``site_of[k]``.

        ``site_of`` is one epoch's placement (per service). Sites that cannot host never
        house services, so the placement alone decides the cover. With ``among`` (bool per
        service) only those services count.
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

    def closure_impact(self) -> pd.DataFrame:
        """What closing each site alone would cost each requirement's cover, today.

        A point loses cover when the site is the only one of today's providing sites that
        reaches it (its services not moved). Sites providing nothing are left out.

        Returns
        -------
        pandas.DataFrame
            Columns ``site_id``, ``requirement``, ``weight_lost`` (people only this site
            covers today), ``share_lost`` (of the requirement's total), sorted by requirement
            then from the least loss up.
        """
        rows = []
        if self.current_site is None:
            return pd.DataFrame(columns=["site_id", "requirement", "weight_lost", "share_lost"])
        for req in self.coverage:
            providing = np.zeros(self.n_sites, dtype=bool)
            reaching = sparse.csr_array((self.n_sites, len(req.weights)), dtype=bool)
            for reach, providers in zip(req.reach, req.providers, strict=True):
                hosts = np.zeros(self.n_sites, dtype=bool)
                hosts[self.current_site[np.asarray(providers, bool)]] = True
                providing |= hosts
                reaching = reaching + sparse.diags_array(hosts.astype(float)) @ sparse.csr_array(
                    reach, dtype=float
                )
            reaching = sparse.csr_array(reaching > 0)
            only = np.asarray(reaching.sum(axis=0)).ravel() == 1
            sole = reaching @ sparse.diags_array(np.where(only, req.weights, 0.0))
            lost = np.asarray(sole.sum(axis=1)).ravel()
            total = max(req.total_weight, 1e-12)
            for s in np.flatnonzero(providing):
                rows.append((self.site_ids[s], req.name, float(lost[s]), float(lost[s]) / total))
        table = pd.DataFrame(rows, columns=["site_id", "requirement", "weight_lost", "share_lost"])
        return table.sort_values(["requirement", "weight_lost", "site_id"], ignore_index=True)

    def check(self, plan: Plan) -> PlanCheck:
        """Recompute the plan's cost and check every rule of the problem on it, in numpy.

        Rules, in every epoch: sites within their bounds, changing only where they may and one
        way (an existing site once let go stays gone, a build once started stays); each
        service housed once at an allowed pair of a site that can host, moving at most once,
        from today's site; floor space; every coverage requirement; incompatible types apart;
        and every budget and partner row (within the tolerances documented above).
        """
        violations: list[str] = []
        state = np.asarray(plan.state, dtype=bool)
        site_of = np.asarray(plan.site_of, dtype=int)
        shape_ok = state.shape == (self.n_sites, self.n_epochs) and site_of.shape == (
            self.n_services,
            self.n_epochs,
        )
        if not shape_ok:
            return PlanCheck(math.nan, ["the plan does not match the problem's sites and epochs"])
        if ((site_of < 0) | (site_of >= self.n_sites)).any():
            return PlanCheck(math.nan, ["the plan leaves services unhoused"])
        rows = 0

        def sites_named(flags: np.ndarray) -> str:
            return listed_ids([self.site_ids[s] for s in np.flatnonzero(flags)])

        rows += self.n_sites * self.n_epochs
        wrong = ((state < self.state_lower) | (state > self.state_upper)).any(axis=1)
        if wrong.any():
            violations.append(f"sites against their locks or rules: {sites_named(wrong)}")
        before = np.column_stack([self.initial_state, state[:, :-1]])
        changed = state != before
        one_way = np.where(self.is_candidate[:, None], state >= before, state <= before)
        if (~one_way).any():
            violations.append(
                f"sites that come back or are unbuilt: {sites_named(~one_way.all(1))}"
            )
        barred = (changed & ~self.may_change).any(axis=1)
        if barred.any():
            violations.append(f"sites changed when they may not: {sites_named(barred)}")

        chosen = self.chosen_pairs(plan)
        rows += self.n_services * self.n_epochs
        stray = (chosen < 0).any(axis=1)
        if stray.any():
            ids = [self.service_ids[k] for k in np.flatnonzero(stray)]
            violations.append(f"services at sites they may not use: {listed_ids(ids)}")
        hosting = self.available(state)
        epochs = np.broadcast_to(np.arange(self.n_epochs), site_of.shape)
        homeless = ~hosting[site_of, epochs]
        if homeless.any():
            ids = sorted({self.site_ids[s] for s in site_of[homeless]})
            violations.append(f"sites that cannot host still house services: {listed_ids(ids)}")
        if self.n_epochs > 1:
            origin = self.current_site if self.current_site is not None else site_of[:, 0]
            left = site_of[:, 1:] != site_of[:, :-1]
            from_today = site_of[:, :-1] == origin[:, None]
            wander = (left & ~from_today).any(axis=1) | (left.sum(axis=1) > 1)
            wander |= (site_of[:, 0] != origin) & left.any(axis=1)
            if wander.any():
                ids = [self.service_ids[k] for k in np.flatnonzero(wander)]
                violations.append(f"services moving more than once: {listed_ids(ids)}")

        for e in range(self.n_epochs):
            when = f" in {self.epoch_labels[e]}" if self.epoch_labels[e] else ""
            used = np.bincount(site_of[:, e], weights=self.space, minlength=self.n_sites)
            over = used > self.capacity * (1 + CAPACITY_TOLERANCE) + CAPACITY_TOLERANCE
            for s in np.flatnonzero(over):
                violations.append(
                    f"site {self.site_ids[s]}{when}: {used[s]:,.0f} m2 housed in "
                    f"{self.capacity[s]:,.0f} m2"
                )
            for req in self.coverage:
                rows += 1
                covered = self.covered_points(req, site_of[:, e])
                if req.rule in POINT_RULES:
                    lost = np.flatnonzero(~covered & req.must_cover)
                    if len(lost):
                        ids = [self.demand_ids[d] for d in lost]
                        violations.append(
                            f"{req.name}{when}: points not covered: {listed_ids(ids)}"
                        )
                    continue
                weight = float(req.weights[covered].sum())
                if weight < req.target_weight - 2 * req.tolerance:
                    target = req.target_weight
                    violations.append(
                        f"{req.name}{when}: {weight:,.1f} covered, {target:,.1f} required"
                    )
            for type_a, type_b, mask_a, mask_b in self.incompatible:
                rows += 1
                hosts_a = np.zeros(self.n_sites, dtype=bool)
                hosts_a[site_of[np.asarray(mask_a, bool), e]] = True
                hosts_b = np.zeros(self.n_sites, dtype=bool)
                hosts_b[site_of[np.asarray(mask_b, bool), e]] = True
                if (hosts_a & hosts_b).any():
                    violations.append(
                        f"{type_a} and {type_b} share sites{when}: {sites_named(hosts_a & hosts_b)}"
                    )
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
        """site_id -> "keep", "dispose", "exit_lease", "build" or "not_built" (by the end)."""
        decisions = [
            (OPEN_DECISION if is_open else CLOSED_DECISION)[str(kind)]
            for is_open, kind in zip(plan.opened, self.site_kind, strict=True)
        ]
        return pd.Series(decisions, index=pd.Index(self.site_ids, name="site_id"), dtype=object)

    def change_epochs(self, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
        """The epoch each site changes state (-1: never) and each service moves (-1: never)."""
        before = np.column_stack([self.initial_state, plan.state[:, :-1]])
        changed = plan.state != before
        site_epoch = np.where(changed.any(axis=1), changed.argmax(axis=1), -1)
        origin = self.current_site if self.current_site is not None else plan.site_of[:, 0]
        moved = plan.site_of != origin[:, None]
        move_epoch = np.where(moved.any(axis=1), moved.argmax(axis=1), -1)
        return site_epoch, move_epoch

    def assignment(self, plan: Plan) -> pd.Series:
        """service_id -> site_id at the end of the window."""
        return pd.Series(
            [self.site_ids[s] for s in plan.final_site],
            index=pd.Index(self.service_ids, name="service_id"),
            dtype=object,
        )

    def coverage_tables(self, plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Cover before and after per requirement, and per demand point.

        "After" is the end of the window; ``share_lowest`` is the lowest share in any epoch
        (every epoch must meet the rule).

        Returns
        -------
        coverage : pandas.DataFrame
            One row per requirement: name, kind, service_types, minutes, rule, target_share,
            weight_total, weight_covered_before, weight_covered_after, share_before,
            share_after, share_lowest, met.
        demand_cover : pandas.DataFrame
            Index demand_id; columns ``{name}_before`` and ``{name}_after`` (bool).
        """
        rows = []
        columns: dict[str, np.ndarray] = {}
        for req in self.coverage:
            after = self.covered_points(req, plan.final_site)
            if req.covered_before is not None:
                before = req.covered_before
            elif self.current_site is not None:
                before = self.covered_points(req, self.current_site)
            else:
                before = np.zeros(len(req.weights), dtype=bool)
            total = req.total_weight
            weight_before = float(req.weights[before].sum())
            weight_after = float(req.weights[after].sum())
            lowest = min(
                float(req.weights[self.covered_points(req, plan.site_of[:, e])].sum())
                for e in range(plan.site_of.shape[1])
            )
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
                    "share_lowest": share(lowest),
                    "met": bool(lowest >= target - 2 * req.tolerance),
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
    "share_lowest",
    "met",
]
