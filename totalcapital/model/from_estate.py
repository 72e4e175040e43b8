"""From an estate and a scenario to the plain arrays of :meth:`CoLocationModel.from_arrays`.

Where each scenario rule enters the model:

* ``rules.allow_moves``, ``locks.fixed_services``, a service's ``movable``: the service keeps
  only the pair with its current site.
* ``rules.capabilities``, ``rules.candidate_sites``, ``max_move_km`` (the service's own, else
  ``rules.max_move_km``; straight line between site points): prune (service, site) pairs. The
  capability rule applies at every site, today's included; the candidate list and the distance
  limit never remove today's site. No service moves into a ``surplus`` site (it has been
  declared unneeded; make it ``operational`` to offer it).
* ``rules.allow_disposals`` (False keeps every existing site), ``locks.keep_sites``,
  ``rules.covenants`` with ``covenant_forbids_disposal``, ``rules.dispose_listed`` with
  ``listed``: hold the site in every epoch.
* ``lease_break`` and ``lease_end`` (with ``rules.lease_exit_at_break_only``): a lease may be
  given up only in the financial year starting on or after its break (at its exit cost) or
  its end (free); in the timeless model, at the start if its break falls in the horizon.
* ``locks.dispose_sites``: gone by the end of the window; ``rules.allow_new_builds`` (False for
  candidates): never built. A candidate hosts ``build_years`` (the site's, else
  ``programme.build_years``) after its build starts.
* ``rules.incompatible``: pairs of service types that never share a site.
* ``standards`` and ``access``: coverage requirements, one provider group per service type
  (blue-light factors differ by type), holding in every epoch.
* ``finance.capital_budget`` (the window), ``capital_budget_per_year`` and
  ``partner_capital_budget_per_year`` (running totals, unspent budget carried forward), with
  ``budget_counts`` and receipts recycled at ``receipts_recycled_share`` after
  ``recycling_lag_years``: the ``budget*`` rows. ``programme.max_disposals_per_year``: the
  ``disposals*`` rows. ``rules.partners_no_worse_off`` with ``partner_npv_floor``: one
  ``partner_*`` row per partner.

Money in time (see :mod:`totalcapital.timeline`): a site's state in epoch e costs its running
cost over the epoch's years (the last epoch carries the horizon's tail), backlog (paid in the
first year) in the epoch holding year ``finance.backlog_grace_years``, less its residual value
at the horizon's end in the last; letting it go at the start of epoch e earns its net receipt
(or costs its lease exit) discounted to that year. These are written as coefficients on the
state variables by telescoping: the sum over epochs of (state[e-1] - state[e]) x close[e] is
close[0] + sum of state[e] x (close[e+1] - close[e]).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

from .. import finance
from .._errors import ScenarioError
from .._text import meant_name
from ..timeline import Epochs, FinancialYears, first_financial_year, fy_label
from .problem import CAPACITY_TOLERANCE, CoverageRequirement, SideConstraint

if TYPE_CHECKING:
    import geopandas as gpd

    from ..estate import Estate
    from ..network import TravelTimes
    from ..scenario import Scenario

log = logging.getLogger(__name__)


def _unknown_ids(scenario: Scenario, estate: Estate) -> list[str]:
    sites = set(estate.sites.index)
    services = set(estate.services.index)
    problems = []
    for key, ids, known, what in (
        ("locks.keep_sites", scenario.locks.keep_sites, sites, "site_id"),
        ("locks.dispose_sites", scenario.locks.dispose_sites, sites, "site_id"),
        ("locks.fixed_services", scenario.locks.fixed_services, services, "service_id"),
        ("rules.candidate_sites", list(scenario.rules.candidate_sites), services, "service_id"),
    ):
        missing = sorted(set(ids) - known)
        if missing:
            problems.append(f"{key}: expected {what}s of {estate.source}, found {missing}")
    for service, allowed in scenario.rules.candidate_sites.items():
        missing = sorted(set(allowed) - sites)
        if missing:
            problems.append(
                f"rules.candidate_sites[{service}]: expected site_ids of {estate.source}, "
                f"found {missing}"
            )
    return problems + _unknown_names(scenario, estate)


def _unknown_names(scenario: Scenario, estate: Estate) -> list[str]:
    """Service types and partner codes the scenario names that the estate lacks. A name
    spelt almost like one the estate (or the project) knows is a problem, as is a standard
    none of whose types the estate has (it would measure nothing and always be "met"); any
    other unknown name is allowed with a warning (a scenario may serve several estates)."""
    from .._map_symbols import SERVICE_LABELS

    types = set(estate.services["service_type"])
    partners = set(estate.partners)
    rules = scenario.rules
    requirements = [
        *(("standards", r) for r in scenario.standards),
        *(("access", r) for r in scenario.access),
    ]
    type_names = [
        *(
            (f"{kind}[{r.name}].service_types", t)
            for kind, r in requirements
            for t in r.service_types
        ),
        *(("rules.incompatible", t) for pair in rules.incompatible for t in pair),
        *(("rules.capabilities", t) for t in rules.capabilities),
        *(("travel.blue_light_factor", t) for t in scenario.travel.blue_light_factor),
    ]
    partner_names = [
        *(("finance.partner_capital_budget_per_year", p) for p in
          scenario.finance.partner_capital_budget_per_year),
        *(("programme.partner_max_disposals_per_year", p) for p in
          scenario.programme.partner_max_disposals_per_year),
    ]  # fmt: skip
    problems = []
    for what, known, also, names in (
        ("service type", types, SERVICE_LABELS, type_names),
        ("partner", partners, (), partner_names),
    ):
        for key, name in names:
            if name in known:
                continue
            meant = meant_name(name, sorted(known)) or meant_name(name, also)
            if meant is not None and meant != name:
                problems.append(
                    f"{key}: '{name}' is no {what} of {estate.source} (did you mean '{meant}'?)"
                )
            elif name not in also:  # a type the project knows is no surprise (the defaults)
                log.warning("%s: no %s '%s' in %s", key, what, name, estate.source)
    for _, requirement in requirements:
        if not types.intersection(requirement.service_types):
            problems.append(
                f"{requirement.name}: none of its service types "
                f"({', '.join(requirement.service_types)}) is in {estate.source}, so it would "
                "measure nothing"
            )
    return problems


def calendar(scenario: Scenario, sites: pd.DataFrame, as_of: pd.Timestamp | None) -> Epochs:
    """The programme's epochs: one for the timeless model, else the years things can change."""
    fin, programme = scenario.finance, scenario.programme
    start = pd.Timestamp(fin.start_date if as_of is None else as_of)
    if not programme.enabled:
        return Epochs.single(
            FinancialYears(first_financial_year(start), 1, fin.horizon_years, fin.discount_rate)
        )
    years = FinancialYears(
        first_financial_year(start),
        min(programme.years, fin.horizon_years),
        fin.horizon_years,
        fin.discount_rate,
    )
    yearly = (
        programme.every_year
        or fin.capital_budget_per_year is not None
        or bool(fin.partner_capital_budget_per_year)
        or programme.max_disposals_per_year is not None
        or bool(programme.partner_max_disposals_per_year)
        or (not scenario.rules.lease_exit_at_break_only)
    )
    if yearly:
        return Epochs.every_year(years)
    events = [
        years.offset_of(day)
        for column in ("lease_break", "lease_end")
        for day in sites[column].dropna()
    ]
    build = []
    if scenario.rules.allow_new_builds:
        build = build_years(sites, scenario)[(sites["status"] == "candidate").to_numpy()].tolist()
    return Epochs.around(years, events, build)


def build_years(sites: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Years each site's build takes (the site's own, else the programme's)."""
    own = sites["build_years"].to_numpy(dtype=float)
    return np.where(np.isnan(own), scenario.programme.build_years, own).astype(int)


def _lease_epochs(
    sites: pd.DataFrame, scenario: Scenario, epochs: Epochs
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per leasehold and epoch: may it be given up then, and at its exit cost (a break)?

    Returns ``may_go`` and ``at_break`` (S x E) and ``ever`` (S): the lease can go at all.
    """
    n, n_epochs = len(sites), epochs.count
    leasehold = (sites["tenure"] == "leasehold").to_numpy() & (
        sites["status"] != "candidate"
    ).to_numpy()
    may_go = np.zeros((n, n_epochs), dtype=bool)
    at_break = np.zeros((n, n_epochs), dtype=bool)
    start = pd.Timestamp(scenario.finance.start_date)
    if not scenario.rules.lease_exit_at_break_only:
        may_go[leasehold] = True
        at_break[leasehold] = True
        if not epochs.timeless:
            # Any year at the exit cost, except the year the lease ends anyway: free then,
            # as the programme's money has it (unless a break falls in that year too).
            years = epochs.years
            ends, breaks = sites["lease_end"], sites["lease_break"]
            for i, (end, brk) in enumerate(zip(ends, breaks, strict=True)):
                if not leasehold[i] or pd.isna(end):
                    continue
                offset = max(years.offset_of(end), 0)  # ended already: free from the start
                free = pd.isna(brk) or pd.Timestamp(brk) < start or years.offset_of(brk) != offset
                if offset < years.window and free:
                    at_break[i, epochs.epoch_of(offset)] = False
    elif epochs.timeless:
        # Timeless: a lease may go at the start, at its exit cost, if it breaks in the horizon.
        allowed = finance.lease_exit_allowed(
            sites, scenario.finance.horizon_years, True, pd.Timestamp(scenario.finance.start_date)
        )
        may_go[:, 0] = leasehold & allowed
        at_break[:, 0] = may_go[:, 0]
    else:
        years = epochs.years
        for column, costly in (("lease_break", True), ("lease_end", False)):
            for i, day in enumerate(sites[column]):
                # A break before the start has passed: the lease cannot be broken then.
                if not leasehold[i] or pd.isna(day) or (costly and pd.Timestamp(day) < start):
                    continue
                offset = years.offset_of(day)
                if not costly:
                    offset = max(offset, 0)  # a lease that has ended may go from the start
                if 0 <= offset < years.window:
                    e = epochs.epoch_of(offset)
                    may_go[i, e] = True
                    at_break[i, e] |= costly
    return may_go, at_break, may_go.any(axis=1) | ~leasehold


def _site_states(
    sites: pd.DataFrame, scenario: Scenario, costs: pd.DataFrame, epochs: Epochs
) -> tuple[dict[str, np.ndarray], np.ndarray, list[str]]:
    """Bounds, change points and hosting epochs of each site's state; lock contradictions.

    Returns the ``epochs`` arrays of :meth:`PlanningProblem.from_dense` (``state_lower``,
    ``state_upper``, ``may_change``, ``available_from``), the per-site "may ever be open"
    flags, and the reasons no plan can exist.
    """
    rules, locks = scenario.rules, scenario.locks
    candidate = costs["candidate"].to_numpy()
    ids = sites.index.to_numpy(dtype=object)
    n, n_epochs = len(ids), epochs.count
    may_go, _, lease_can_go = _lease_epochs(sites, scenario, epochs)
    leasehold = costs["leasehold"].to_numpy()
    must_keep: dict[str, np.ndarray] = {
        "locks.keep_sites": np.isin(ids, locks.keep_sites),
        "rules.allow_disposals is false": ~candidate & (not rules.allow_disposals),
        "a covenant forbids its disposal": ~candidate
        & rules.covenants
        & sites["covenant_forbids_disposal"].to_numpy(dtype=bool),
        "it is listed and rules.dispose_listed is false": ~candidate
        & (not rules.dispose_listed)
        & sites["listed"].to_numpy(dtype=bool),
        "its lease has no break or end within the plan": ~candidate & ~lease_can_go,
    }
    must_close: dict[str, np.ndarray] = {
        "locks.dispose_sites": np.isin(ids, locks.dispose_sites),
        "rules.allow_new_builds is false": candidate & (not rules.allow_new_builds),
    }
    lower = np.zeros((n, n_epochs))
    upper = np.ones((n, n_epochs))
    for flags in must_keep.values():
        lower[flags] = 1.0
    upper[must_close["rules.allow_new_builds is false"]] = 0.0
    # A locked disposal happens within the window: gone by its last epoch.
    upper[must_close["locks.dispose_sites"], -1] = 0.0
    may_change = np.ones((n, n_epochs), dtype=bool)
    may_change[leasehold] = may_go[leasehold]
    available_from = np.tile(np.arange(n_epochs), (n, 1))
    if not epochs.timeless:
        lag = build_years(sites, scenario)
        available_from[candidate] = epochs.available_from(lag[candidate])
    reasons = []
    for keep_reason, keep_flags in must_keep.items():
        for close_reason, close_flags in must_close.items():
            clash = ids[keep_flags & close_flags]
            if len(clash):
                reasons.append(
                    f"site(s) {', '.join(map(str, clash))} must be kept ({keep_reason}) "
                    f"but must also close ({close_reason})"
                )
    arrays = {
        "state_lower": lower,
        "state_upper": upper,
        "may_change": may_change,
        "available_from": available_from,
    }
    ever_open = (upper > 0).any(axis=1) & (available_from >= 0).any(axis=1)
    return arrays, ever_open, reasons


def backlog_epoch(scenario: Scenario, epochs: Epochs) -> int:
    """The epoch whose state decides whether a site's backlog is spent (see the scenario's
    ``finance.backlog_grace_years``); the first when timeless."""
    grace = scenario.finance.backlog_grace_years
    return 0 if epochs.timeless else epochs.epoch_of(min(grace, epochs.years.window - 1))


def _site_money(
    sites: pd.DataFrame, scenario: Scenario, costs: pd.DataFrame, epochs: Epochs
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Objective coefficients on each site's state per epoch, and each site's constant.

    Also returns the per-site money the side rows need: ``residual`` (net value at the
    horizon's end of a site held or built then).
    """
    n, n_epochs = len(sites), epochs.count
    candidate = costs["candidate"].to_numpy()
    leasehold = costs["leasehold"].to_numpy()
    running = sites["running_cost"].to_numpy(dtype=float)
    backlog = sites["backlog_cost"].to_numpy(dtype=float)
    build = sites["build_cost"].to_numpy(dtype=float)
    net_receipt = costs["net_receipt"].to_numpy()
    exit_cost = costs["exit_cost"].to_numpy()
    run_factor = epochs.running_factor
    start_factor = np.append(epochs.start_factor, 0.0)  # nothing happens after the window
    residual = np.zeros(n)
    if scenario.finance.residual_value:
        value = np.where(candidate, sites["market_value"].to_numpy(dtype=float), net_receipt)
        residual = np.where(leasehold, 0.0, np.nan_to_num(value)) * epochs.years.horizon_factor
    _, at_break, _ = _lease_epochs(sites, scenario, epochs)

    cost = np.zeros((n, n_epochs))
    constant = np.zeros(n)
    existing = ~candidate
    # Held in epoch e: running cost; backlog if held at the grace year; residual in the last.
    cost[existing] = running[existing, None] * run_factor[None, :]
    cost[existing, backlog_epoch(scenario, epochs)] += backlog[existing]
    cost[existing, -1] -= residual[existing]
    # Let go at the start of epoch e: a receipt, or a lease's exit cost at a break.
    close = np.where(leasehold[:, None], exit_cost[:, None] * at_break, -net_receipt[:, None])
    close = close * start_factor[None, :-1]
    close = np.column_stack([close, np.zeros(n)])
    cost[existing] += -close[existing, :-1] + close[existing, 1:]
    constant[existing] = close[existing, 0]
    # A candidate: build cost when its build starts; running cost (less residual) once it hosts.
    starts = build[:, None] * start_factor[None, :]
    cost[candidate] += starts[candidate, :-1] - starts[candidate, 1:]
    hosts_from = np.tile(np.arange(n_epochs), (n, 1))
    if not epochs.timeless:
        hosts_from[candidate] = epochs.available_from(build_years(sites, scenario)[candidate])
    for s in np.flatnonzero(candidate):
        for e in range(n_epochs):
            source = hosts_from[s, e]
            if source >= 0:
                cost[s, source] += running[s] * run_factor[e]
        if hosts_from[s, -1] >= 0:
            cost[s, hosts_from[s, -1]] -= residual[s]
    return cost, constant, {"residual": residual, "close": close, "starts": starts}


def _allowed_pairs(
    estate: Estate,
    sites: gpd.GeoDataFrame,
    services: pd.DataFrame,
    scenario: Scenario,
    current: np.ndarray,
    upper: np.ndarray,
) -> tuple[np.ndarray, list[str]]:
    """Services x sites mask of permitted pairs, and reasons a service has no site at all."""
    rules, locks = scenario.rules, scenario.locks
    n_services, n_sites = len(services), len(sites)
    is_current = np.zeros((n_services, n_sites), dtype=bool)
    is_current[np.arange(n_services), current] = True
    stays = (
        ~services["movable"].to_numpy(dtype=bool)
        | (not rules.allow_moves)
        | services.index.isin(locks.fixed_services)
    )
    types = services["service_type"].to_numpy(dtype=object)
    capable = np.ones((n_services, n_sites), dtype=bool)
    reasons = []
    for service_type, columns in rules.capabilities.items():
        of_type = types == service_type
        if not of_type.any():
            continue
        has_all = np.ones(n_sites, dtype=bool)
        for column in columns:
            if column in sites.columns:
                has_all &= sites[column].fillna(False).to_numpy(dtype=bool)
            else:
                has_all[:] = False
        capable[of_type] = has_all[None, :]
        if not (has_all & (upper > 0)).any():
            reasons.append(
                f"capability {' + '.join(columns)} is required for {service_type} "
                f"(rules.capabilities) but no site that may stay open has it"
            )

    listed = np.ones((n_services, n_sites), dtype=bool)
    site_pos = pd.Series(np.arange(n_sites), index=sites.index)
    for service_id, allowed_sites in rules.candidate_sites.items():
        k = services.index.get_loc(service_id)
        listed[k] = False
        listed[k, site_pos.reindex(allowed_sites).to_numpy(dtype=int)] = True

    limit = services["max_move_km"].to_numpy(dtype=float)
    if rules.max_move_km is not None:
        limit = np.where(np.isnan(limit), rules.max_move_km, limit)
    near = np.ones((n_services, n_sites), dtype=bool)
    limited = np.flatnonzero(~np.isnan(limit))
    if len(limited):
        points = sites.geometry.representative_point()
        xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
        origin = xy[current[limited]]
        km = np.hypot(origin[:, 0:1] - xy[None, :, 0], origin[:, 1:2] - xy[None, :, 1]) / 1000.0
        near[limited] = km <= limit[limited, None] + 1e-9

    # A surplus site has been declared unneeded: services may leave it but not move in.
    receivable = (sites["status"] != "surplus").to_numpy(dtype=bool)
    movers = (listed & near & receivable[None, :]) | is_current
    allowed = capable & np.where(stays[:, None], is_current, movers)
    stuck_at_closed = stays & (upper[current] == 0)
    for k in np.flatnonzero(stuck_at_closed):
        reasons.append(
            f"service {services.index[k]} may not move (movable false, locks.fixed_services or "
            f"rules.allow_moves false) but its site {sites.index[current[k]]} must close"
        )
    space = services["space_m2"].to_numpy(dtype=float)
    room = sites["gia_m2"].to_numpy(dtype=float)[current]
    for k in np.flatnonzero(stays & ~stuck_at_closed & (space > room * (1 + CAPACITY_TOLERANCE))):
        reasons.append(
            f"service {services.index[k]} may not move (movable false, locks.fixed_services or "
            f"rules.allow_moves false) but needs {space[k]:,.0f} m2 and its site "
            f"{sites.index[current[k]]} has {room[k]:,.0f} m2"
        )
    return allowed, reasons


def _coverage(
    scenario: Scenario,
    sites: pd.DataFrame,
    services: pd.DataFrame,
    current: np.ndarray,
    travel: TravelTimes | None,
    demand: pd.DataFrame | None,
) -> list[CoverageRequirement]:
    requirements = [(s, "response") for s in scenario.standards] + [
        (a, "access") for a in scenario.access
    ]
    if not requirements:
        return []
    if travel is None or demand is None:
        raise ScenarioError(
            f"Scenario '{scenario.name}' has standards or access rules but no travel times or "
            "demand points were given; add demand to the estate or the scenario"
        )
    row = pd.Series(np.arange(len(travel.site_ids)), index=pd.Index(travel.site_ids))
    col = pd.Series(np.arange(len(travel.demand_ids)), index=pd.Index(travel.demand_ids))
    missing_sites = sorted(set(sites.index) - set(row.index))
    missing_demand = sorted(set(demand.index) - set(col.index))
    if missing_sites or missing_demand:
        raise ScenarioError(
            "travel times do not cover the estate: missing sites "
            f"{missing_sites[:5]}, missing demand points {missing_demand[:5]}"
        )
    rows = row.reindex(sites.index).to_numpy(dtype=int)
    cols = col.reindex(demand.index).to_numpy(dtype=int)
    weights = demand["weight"].to_numpy(dtype=float)
    types = services["service_type"].to_numpy(dtype=object)
    reach_within = _reach_finder(travel, rows, cols, [s for s, _ in requirements])
    out = []
    for settings, kind in requirements:
        reach_list, providers, before = [], [], np.zeros(len(demand), dtype=bool)
        for service_type in settings.service_types:
            of_type = types == service_type
            if not of_type.any():
                log.warning(
                    "%s: no service of type '%s' in the estate", settings.name, service_type
                )
                continue
            reach = reach_within(service_type, float(settings.minutes))
            today = np.zeros(len(sites), dtype=bool)
            today[current[of_type]] = True
            before |= np.asarray(reach[today].sum(axis=0)).ravel() > 0
            reach_list.append(reach)
            providers.append(of_type)
        out.append(
            CoverageRequirement(
                name=settings.name,
                reach=tuple(reach_list),
                providers=tuple(providers),
                weights=weights,
                rule=settings.rule,
                share=settings.share,
                covered_before=before,
                kind=kind,
                service_types=tuple(settings.service_types),
                minutes=float(settings.minutes),
            )
        )
    return out


def _reach_finder(
    travel: TravelTimes, rows: np.ndarray, cols: np.ndarray, requirements: list
) -> Callable[[str, float], sparse.csr_array]:
    """``reach(service_type, minutes)``: sites x demand, True where a service of that type
    gets there within the minutes (its blue-light factor applied).

    The full matrix (1,374 x 32,844 for England's fire stations) is scanned once per service
    type, for the longest standard that type serves; each standard then filters that list.
    """
    longest: dict[str, float] = {}
    for settings in requirements:
        for service_type in settings.service_types:
            longest[service_type] = max(longest.get(service_type, 0.0), float(settings.minutes))
    whole = np.array_equal(rows, np.arange(len(travel.site_ids))) and np.array_equal(
        cols, np.arange(len(travel.demand_ids))
    )
    near: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def reach(service_type: str, minutes: float) -> sparse.csr_array:
        if service_type not in near:
            factor = travel.factor_for(service_type)
            full = travel.minutes if whole else travel.minutes[np.ix_(rows, cols)]
            # A little beyond the longest standard; the exact test is on the divided times.
            r, c = np.nonzero(full <= longest[service_type] * factor * (1 + 1e-9))
            near[service_type] = (r, c, full[r, c] / factor)
        r, c, times = near[service_type]
        keep = times <= minutes
        return sparse.csr_array(
            (np.ones(int(keep.sum()), dtype=bool), (r[keep], c[keep])),
            shape=(len(rows), len(cols)),
        )

    return reach


def _budget_terms(
    counts: list[str],
    costs: pd.DataFrame,
    money: dict[str, np.ndarray],
    move_cost: np.ndarray,
    current: np.ndarray,
    epochs: Epochs,
    through: int,
    share: float,
    recycled_through: int,
    sites_in: np.ndarray,
    services_in: np.ndarray,
    backlog_at: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Capital spent by the end of epoch ``through``, less receipts recycled by then.

    Everything is a running total, so it is linear in the states of one epoch: a build
    started by then (its cost), a service moved by then (fit-out and moving), a lease let go
    at its break by then (its exit cost), backlog of a site still held at the grace year, and the
    net receipt of a freehold gone by epoch ``recycled_through`` (-1: none yet).

    Returns site coefficients (S x E), a per-service coefficient (K x E, on "moved and
    staying"), and a constant.
    """
    n_sites, n_epochs = len(costs), epochs.count
    candidate = costs["candidate"].to_numpy()
    leasehold = costs["leasehold"].to_numpy()
    site_coef = np.zeros((n_sites, n_epochs))
    service_coef = np.zeros((len(move_cost), n_epochs))
    constant = 0.0
    build = np.where(candidate & sites_in, costs["open_capex"].to_numpy(), 0.0)
    if "builds" in counts:
        site_coef[:, through] += build
    if "moves" in counts:
        service_coef[services_in, through] = move_cost[services_in]
    if "backlog" in counts:
        backlog = np.where(~candidate & sites_in, costs["open_capex"].to_numpy(), 0.0)
        site_coef[:, backlog_at] += backlog
    if "lease_exits" in counts:
        # Exit cost paid when the state drops at a break epoch e <= through.
        close = money["close"]
        for e in range(through + 1):
            paid = np.where(leasehold & sites_in, close[:, e], 0.0) / epochs.start_factor[e]
            paid = np.where(paid > 0, paid, 0.0)
            if e == 0:
                constant += float(paid.sum())
            else:
                site_coef[:, e - 1] += paid
            site_coef[:, e] -= paid
    if share > 0 and recycled_through >= 0:
        receipt = np.where(~candidate & ~leasehold & sites_in, costs["net_receipt"].to_numpy(), 0.0)
        constant -= share * float(receipt.sum())
        site_coef[:, recycled_through] += share * receipt
    return site_coef, service_coef, constant


def _moved_coef(service_coef: np.ndarray, current: np.ndarray):
    """Pair coefficients from per-service ones: only where the service has left today's site."""

    def coef(k: np.ndarray, s: np.ndarray) -> np.ndarray:
        return np.where((s != current[k])[:, None], service_coef[k], 0.0)

    return coef


def _side_constraints(
    estate: Estate,
    scenario: Scenario,
    site_order: np.ndarray,
    service_order: np.ndarray,
    costs: pd.DataFrame,
    money: dict[str, np.ndarray],
    site_cost: np.ndarray,
    site_constant: np.ndarray,
    move_coef: np.ndarray,
    move_cost: np.ndarray,
    current: np.ndarray,
    epochs: Epochs,
) -> list[SideConstraint]:
    """Capital budgets, disposal limits and partner rows, linear in the states and placements."""
    fin, rules, programme = scenario.finance, scenario.rules, scenario.programme
    rows: list[SideConstraint] = []
    n_sites, n_services, n_epochs = len(site_order), len(service_order), epochs.count
    owner = estate.sites["owner"].astype(str).to_numpy(dtype=object)[site_order]
    org = estate.services["org"].astype(str).to_numpy(dtype=object)[service_order]
    share, lag = fin.receipts_recycled_share, fin.recycling_lag_years
    counted = ", ".join(fin.budget_counts) or "nothing"

    def recycled_through(e: int) -> int:
        """The last epoch whose receipts fund spending by the end of epoch ``e``."""
        latest = epochs.start[e] - lag
        return -1 if latest < 0 else epochs.epoch_of(int(latest))

    def budget_rows(name, label, budget_by_epoch, sites_in, services_in, group):
        dated = len(budget_by_epoch) > 1
        for e, budget in budget_by_epoch:
            coef, service_coef, constant = _budget_terms(
                fin.budget_counts,
                costs,
                money,
                move_cost,
                current,
                epochs,
                e,
                share,
                recycled_through(e),
                sites_in,
                services_in,
                backlog_epoch(scenario, epochs),
            )
            when = f"_{epochs.labels[e].replace('-', '_')}" if dated else ""
            rows.append(
                SideConstraint(
                    name=f"{name}{when}",
                    label=label + (f" by {epochs.labels[e]}" if dated else ""),
                    site_coef=coef,
                    pair_coef=_moved_coef(service_coef, current),
                    constant=constant,
                    sense="<=",
                    rhs=float(budget),
                    group=group,
                )
            )

    everyone_sites = np.ones(n_sites, dtype=bool)
    everyone_services = np.ones(n_services, dtype=bool)
    if fin.capital_budget is not None:
        label = (
            f"capital budget (£{fin.capital_budget:,.0f} for {counted}, "
            f"plus {share:.0%} of receipts)"
        )
        budget_rows(
            "budget",
            label,
            [(n_epochs - 1, fin.capital_budget)],
            everyone_sites,
            everyone_services,
            "budget",
        )
    yearly = fin.capital_budget_per_year
    if isinstance(yearly, dict):
        first, last = epochs.years.first, epochs.years.first + epochs.years.window - 1
        early = sorted(int(y) for y in yearly if int(y) < first)
        if early:
            raise ScenarioError(
                f"finance.capital_budget_per_year: expected financial years from "
                f"{fy_label(first)}, the programme's first (the first to start on or after "
                f"start_date), found {', '.join(fy_label(y) for y in early)}"
            )
        late = sorted(int(y) for y in yearly if int(y) > last)
        if late:
            log.warning(
                "finance.capital_budget_per_year: %s fall after the planning window (to %s)",
                ", ".join(fy_label(y) for y in late), fy_label(last),
            )  # fmt: skip
    if yearly is not None:
        per_year = np.array(
            [
                yearly.get(epochs.years.first + y, 0.0) if isinstance(yearly, dict) else yearly
                for y in range(epochs.years.window)
            ],
            dtype=float,
        )
        cumulative = [(e, float(per_year[: epochs.start[e] + 1].sum())) for e in range(n_epochs)]
        budget_rows(
            "budget_yearly",
            f"yearly capital budget (for {counted}, plus {share:.0%} of receipts)",
            cumulative,
            everyone_sites,
            everyone_services,
            "budget_yearly",
        )
    for partner, amount in fin.partner_capital_budget_per_year.items():
        cumulative = [(e, float(amount) * (epochs.start[e] + 1)) for e in range(n_epochs)]
        budget_rows(
            f"budget_{partner}",
            f"{partner} yearly capital budget (£{amount:,.0f} a year for {counted})",
            cumulative,
            owner == partner,
            org == partner,
            f"budget_{partner}",
        )

    limits = {p: programme.max_disposals_per_year for p in estate.partners}
    limits.update(programme.partner_max_disposals_per_year)
    existing = ~costs["candidate"].to_numpy()
    for partner, limit in limits.items():
        if limit is None:
            continue
        mine = existing & (owner == partner)
        if not mine.any():
            continue
        for e in range(n_epochs):
            # Sites let go at the start of epoch e: state e-1 minus state e.
            coef = np.zeros((n_sites, n_epochs))
            coef[mine, e] = -1.0
            constant = 0.0
            if e == 0:
                constant = float(mine.sum())
            else:
                coef[mine, e - 1] = 1.0
            rows.append(
                SideConstraint(
                    name=f"disposals_{partner}_{epochs.labels[e].replace('-', '_')}",
                    label=f"{partner} disposals in {epochs.labels[e]} (at most {limit})",
                    site_coef=coef,
                    pair_coef=None,
                    constant=constant,
                    sense="<=",
                    rhs=float(limit),
                    group=f"disposals_{partner}",
                )
            )

    if rules.partners_no_worse_off:
        run_factor = epochs.running_factor

        def rent(k: np.ndarray, s: np.ndarray) -> np.ndarray:
            return finance.rent_per_year(estate, scenario, service_order[k], site_order[s])

        def pair_money(k: np.ndarray, s: np.ndarray) -> np.ndarray:
            """Per pair and epoch: the move (telescoped) and a year's rent over the epoch."""
            moved = (s != current[k])[:, None]
            return np.where(moved, move_coef[k], 0.0), rent(k, s)[:, None] * run_factor[None, :]

        today = np.arange(n_services)
        today_rent = rent(today, current)[:, None] * run_factor[None, :]
        held_today = np.repeat(existing[:, None], n_epochs, axis=1)
        for partner in estate.partners:
            owns = owner == partner
            runs = org == partner
            hosts_today = owner[current] == partner
            # Today's plan at the same coefficients: its own sites held, rents as today.
            before = float(site_constant[owns].sum() + site_cost[owns][held_today[owns]].sum())
            before += float(today_rent[runs].sum() - today_rent[hosts_today].sum())

            def gain_coef(k: np.ndarray, s: np.ndarray, partner: str = partner) -> np.ndarray:
                moves, rents = pair_money(k, s)
                paid = np.where((org[k] == partner)[:, None], rents, 0.0)
                received = np.where((owner[s] == partner)[:, None], rents, 0.0)
                mine = np.where((org[k] == partner)[:, None], moves, 0.0)
                return -(mine + paid - received)

            # gain = before - [own constants + own site costs + own moves + net rent]
            rows.append(
                SideConstraint(
                    name=f"partner_{partner}",
                    label=f"partner {partner} NPV gain (floor £{rules.partner_npv_floor:,.0f})",
                    site_coef=np.where(owns[:, None], -site_cost, 0.0),
                    pair_coef=gain_coef,
                    constant=before - float(site_constant[owns].sum()),
                    sense=">=",
                    rhs=float(rules.partner_npv_floor),
                )
            )
    return rows


def estate_arrays(
    estate: Estate,
    scenario: Scenario,
    travel: TravelTimes | None,
    demand: gpd.GeoDataFrame | None,
    as_of: pd.Timestamp | None = None,
) -> dict[str, Any]:
    """Keyword arguments of :meth:`CoLocationModel.from_arrays` for a scenario on an estate.

    Sites, services and demand points are taken in sorted id order so that runs are identical.
    The ``epochs`` entry carries the dated arrays and ``calendar`` the :class:`Epochs`.

    Raises
    ------
    ScenarioError
        If the scenario names sites or services the estate lacks.
    """
    problems = _unknown_ids(scenario, estate)
    if problems:
        raise ScenarioError(f"Scenario '{scenario.name}': " + "; ".join(problems))
    site_order = np.argsort(estate.sites.index.to_numpy(dtype=str), kind="stable")
    service_order = np.argsort(estate.services.index.to_numpy(dtype=str), kind="stable")
    sites = estate.sites.iloc[site_order]
    services = estate.services.iloc[service_order]
    if demand is None:
        demand = estate.demand
    if demand is not None:
        demand = demand.sort_index()

    costs = finance.site_costs(estate, scenario).iloc[site_order]
    moves = finance.service_move_costs(estate, scenario).iloc[service_order]
    site_pos = pd.Series(np.arange(len(sites)), index=sites.index)
    current = site_pos.reindex(services["current_site"].to_numpy()).to_numpy(dtype=int)

    epochs = calendar(scenario, sites, as_of)
    states, ever_open, reasons = _site_states(sites, scenario, costs, epochs)
    # A service is housed in every year, the last too: a site closed by then cannot keep an
    # immovable service, nor be the only home of a capability (dated: a disposal lock closes
    # a site by the window's end, though it may stay open before).
    open_at_end = (states["state_upper"][:, -1] > 0) & ever_open
    allowed, pair_reasons = _allowed_pairs(
        estate, sites, services, scenario, current, open_at_end.astype(float)
    )
    reasons += pair_reasons
    pruned = int(allowed.size - allowed.sum())
    log.info(
        "Pruned %d of %d (service, site) pairs by mobility, capability, candidate lists and "
        "max_move_km",
        pruned,
        allowed.size,
    )
    move_cost = moves["move_cost"].to_numpy()
    start_factor = np.append(epochs.start_factor, 0.0)
    # A move at the start of epoch e, telescoped onto "moved by epoch e".
    move_coef = move_cost[:, None] * (start_factor[None, :-1] - start_factor[None, 1:])
    site_cost, site_constant, money = _site_money(sites, scenario, costs, epochs)
    candidate = costs["candidate"].to_numpy()
    kind = np.where(candidate, "candidate", np.where(costs["leasehold"], "leasehold", "freehold"))
    types = services["service_type"].to_numpy(dtype=object)
    incompatible = [
        (a, b, types == a, types == b)
        for a, b in scenario.rules.incompatible
        if a != b and (types == a).any() and (types == b).any()
    ]
    coverage = _coverage(scenario, sites, services, current, travel, demand)
    side = _side_constraints(
        estate,
        scenario,
        site_order,
        service_order,
        costs,
        money,
        site_cost,
        site_constant,
        move_coef,
        move_cost,
        current,
        epochs,
    )
    solver = scenario.solver
    return {
        "fixed_cost": site_cost[:, 0],
        "capacity": sites["gia_m2"].to_numpy(dtype=float),
        "space": services["space_m2"].to_numpy(dtype=float),
        "assignment_cost": np.zeros((len(services), len(sites))),
        "allowed": allowed,
        "coverage": coverage,
        "site_ids": sites.index.astype(str).tolist(),
        "service_ids": services.index.astype(str).tolist(),
        "demand_ids": [] if demand is None else demand.index.astype(str).tolist(),
        "site_kind": kind.tolist(),
        "current_site": current,
        "objective_constant": float(site_constant.sum()),
        "side_constraints": side,
        "incompatible": incompatible,
        "name": scenario.name,
        "solver": solver.name,
        "time_limit": solver.time_limit_seconds,
        "mip_gap": solver.mip_gap,
        "threads": solver.threads,
        "local_search": solver.local_search,
        "presolve": solver.presolve,
        "site_count_bound": solver.site_count_bound,
        "decomposition": solver.decomposition,
        "reasons": reasons,
        "epochs": {
            **states,
            "site_cost": site_cost,
            "move_cost": move_coef,
            "labels": [""] if epochs.timeless else epochs.labels,
        },
        "calendar": epochs,
    }
