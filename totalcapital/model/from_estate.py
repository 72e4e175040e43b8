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
  ``listed``, ``rules.lease_exit_at_break_only`` with ``lease_break``: fix ``open = 1``.
* ``locks.dispose_sites`` and ``rules.allow_new_builds`` (False for candidates): fix ``open = 0``.
* ``rules.incompatible``: pairs of service types that never share a site.
* ``standards`` and ``access``: coverage requirements, one provider group per service type
  (blue-light factors differ by type).
* ``finance.capital_budget`` with ``receipts_recycled_share``: the ``budget`` row;
  ``rules.partners_no_worse_off`` with ``partner_npv_floor``: one ``partner_*`` row per partner.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

from .. import finance
from .._errors import ScenarioError
from .problem import CoverageRequirement, SideConstraint

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
    return problems


def _site_bounds(
    sites: pd.DataFrame, scenario: Scenario, costs: pd.DataFrame, as_of: pd.Timestamp | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """open lower/upper bounds per site, and every contradiction between locks and rules."""
    rules, locks = scenario.rules, scenario.locks
    candidate = costs["candidate"].to_numpy()
    ids = sites.index.to_numpy(dtype=object)
    must_keep: dict[str, np.ndarray] = {
        "locks.keep_sites": np.isin(ids, locks.keep_sites),
        "rules.allow_disposals is false": ~candidate & (not rules.allow_disposals),
        "a covenant forbids its disposal": ~candidate
        & rules.covenants
        & sites["covenant_forbids_disposal"].to_numpy(dtype=bool),
        "it is listed and rules.dispose_listed is false": ~candidate
        & (not rules.dispose_listed)
        & sites["listed"].to_numpy(dtype=bool),
        "its lease has no break within the horizon": ~candidate
        & ~finance.lease_exit_allowed(
            sites, scenario.finance.horizon_years, rules.lease_exit_at_break_only, as_of
        ),
    }
    must_close: dict[str, np.ndarray] = {
        "locks.dispose_sites": np.isin(ids, locks.dispose_sites),
        "rules.allow_new_builds is false": candidate & (not rules.allow_new_builds),
    }
    lower = np.zeros(len(ids))
    upper = np.ones(len(ids))
    for flags in must_keep.values():
        lower[flags] = 1.0
    for flags in must_close.values():
        upper[flags] = 0.0
    reasons = []
    for keep_reason, keep_flags in must_keep.items():
        for close_reason, close_flags in must_close.items():
            clash = ids[keep_flags & close_flags]
            if len(clash):
                reasons.append(
                    f"site(s) {', '.join(map(str, clash))} must be kept ({keep_reason}) "
                    f"but must also close ({close_reason})"
                )
    return lower, upper, reasons


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
            minutes = travel.for_service_type(service_type)[np.ix_(rows, cols)]
            reach = sparse.csr_array(minutes <= settings.minutes)
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


def _side_constraints(
    estate: Estate,
    scenario: Scenario,
    site_order: np.ndarray,
    service_order: np.ndarray,
    costs: pd.DataFrame,
    move_cost: np.ndarray,
    current: np.ndarray,
) -> list[SideConstraint]:
    """The capital budget and partner rows, as linear functions of open and housed."""
    fin, rules = scenario.finance, scenario.rules
    rows = []
    net_receipt = costs["net_receipt"].to_numpy()
    open_capex = costs["open_capex"].to_numpy()

    def moved_cost(k: np.ndarray, s: np.ndarray) -> np.ndarray:
        return np.where(s != current[k], move_cost[k], 0.0)

    if fin.capital_budget is not None:
        share = fin.receipts_recycled_share
        # capex - share x receipts <= budget, receipts = sum over closed sites of net_receipt.
        rows.append(
            SideConstraint(
                name="budget",
                label=(f"capital budget (£{fin.capital_budget:,.0f} plus {share:.0%} of receipts)"),
                site_coef=open_capex + share * net_receipt,
                pair_coef=moved_cost,
                constant=-share * float(net_receipt.sum()),
                sense="<=",
                rhs=float(fin.capital_budget),
            )
        )
    if rules.partners_no_worse_off:
        factor = finance.annuity_factor(fin.horizon_years, fin.discount_rate)
        owner = estate.sites["owner"].astype(str).to_numpy(dtype=object)[site_order]
        org = estate.services["org"].astype(str).to_numpy(dtype=object)[service_order]
        open_npv = costs["open_npv"].to_numpy()
        closed_npv = costs["closed_npv"].to_numpy()

        def rent(k: np.ndarray, s: np.ndarray) -> np.ndarray:
            return finance.rent_per_year(estate, scenario, service_order[k], site_order[s])

        rent_today = rent(np.arange(len(current)), current)
        for partner in estate.partners:
            owns = owner == partner
            runs = org == partner
            net_rent_before = rent_today[runs].sum() - rent_today[owner[current] == partner].sum()
            before = costs["before_npv"].to_numpy()[owns].sum() + factor * net_rent_before

            def gain_coef(k: np.ndarray, s: np.ndarray, partner: str = partner) -> np.ndarray:
                paid = np.where(org[k] == partner, rent(k, s), 0.0)
                received = np.where(owner[s] == partner, rent(k, s), 0.0)
                mine = org[k] == partner
                return -(np.where(mine, moved_cost(k, s), 0.0) + factor * (paid - received))

            # gain = before - [sum closed + sum open x (open - closed) + moves + F x net rent]
            rows.append(
                SideConstraint(
                    name=f"partner_{partner}",
                    label=f"partner {partner} NPV gain (floor £{rules.partner_npv_floor:,.0f})",
                    site_coef=np.where(owns, -(open_npv - closed_npv), 0.0),
                    pair_coef=gain_coef,
                    constant=float(before - closed_npv[owns].sum()),
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

    if as_of is None:
        as_of = pd.Timestamp(scenario.finance.start_date)
    lower, upper, reasons = _site_bounds(sites, scenario, costs, as_of)
    allowed, pair_reasons = _allowed_pairs(estate, sites, services, scenario, current, upper)
    reasons += pair_reasons
    pruned = int(allowed.size - allowed.sum())
    log.info(
        "Pruned %d of %d (service, site) pairs by mobility, capability, candidate lists and "
        "max_move_km",
        pruned,
        allowed.size,
    )
    move_cost = moves["move_cost"].to_numpy()
    assignment_cost = np.where(
        np.arange(len(sites))[None, :] == current[:, None], 0.0, move_cost[:, None]
    )
    candidate = costs["candidate"].to_numpy()
    kind = np.where(candidate, "candidate", np.where(costs["leasehold"], "leasehold", "freehold"))
    types = services["service_type"].to_numpy(dtype=object)
    incompatible = [
        (a, b, types == a, types == b)
        for a, b in scenario.rules.incompatible
        if a != b and (types == a).any() and (types == b).any()
    ]
    coverage = _coverage(scenario, sites, services, current, travel, demand)
    side = _side_constraints(estate, scenario, site_order, service_order, costs, move_cost, current)
    solver = scenario.solver
    return {
        "fixed_cost": (costs["open_npv"] - costs["closed_npv"]).to_numpy(),
        "capacity": sites["gia_m2"].to_numpy(dtype=float),
        "space": services["space_m2"].to_numpy(dtype=float),
        "assignment_cost": assignment_cost,
        "allowed": allowed,
        "coverage": coverage,
        "site_ids": sites.index.astype(str).tolist(),
        "service_ids": services.index.astype(str).tolist(),
        "demand_ids": [] if demand is None else demand.index.astype(str).tolist(),
        "open_lower": lower,
        "open_upper": upper,
        "site_kind": kind.tolist(),
        "current_site": current,
        "objective_constant": float(costs["closed_npv"].sum()),
        "side_constraints": side,
        "incompatible": incompatible,
        "name": scenario.name,
        "solver": solver.name,
        "time_limit": solver.time_limit_seconds,
        "mip_gap": solver.mip_gap,
        "threads": solver.threads,
        "local_search": solver.local_search,
        "reasons": reasons,
    }
