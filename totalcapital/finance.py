"""Money: annuity factors, whole-life site costs, receipts, move costs, the partner ledger.

Every figure the model optimises is computed here, once, so that the result tables and the
model's objective agree to the penny: :func:`totals` ``npv_cost_after`` equals the model's
objective value, and :func:`partner_ledger` ``npv_gain`` is exactly the quantity that the
"partners no worse off" rule constrains.

Conventions
-----------
F is the annuity factor of the horizon H years at discount rate rho (:func:`annuity_factor`):
the present value of £1 a year paid at the end of each of H years.

* An existing site that is **kept** costs ``running_cost * F + backlog_cost``.
* A freehold site that is **disposed** earns its net receipt, ``min(market_value, cap) -
  disposal_cost`` where ``cap`` is the covenant's receipt cap (when covenants apply).
* A leasehold site whose lease is **exited** costs ``lease_exit_cost`` and earns no receipt.
* A candidate site that is **built** costs ``build_cost + running_cost * F``; not built, nothing.
* A service that **moves** costs ``fit_out_cost_per_m2 * space_m2 + moving_cost_per_staff * staff``
  once, whichever site it moves to.
* Capital spending (**capex**) is the backlog of kept existing sites, the build cost of built
  sites and the one-off cost of moves (fit-out and moving).
* **Host rent**: a service of one partner housed at a site owned by another pays the owner
  ``host_rent_share * running_cost * space_m2 / gia_m2`` a year (its share of the site's running
  cost, pro rata to the floor space it takes). Rent moves money between partners; it cancels in
  the totals.

The baseline ("before") is today: every existing site kept, every service where it is.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .estate import Estate
    from .scenario import Scenario

log = logging.getLogger(__name__)

__all__ = [
    "OPEN_DECISIONS",
    "annuity_factor",
    "lease_exit_allowed",
    "moves_table",
    "partner_ledger",
    "rent_per_year",
    "service_move_costs",
    "site_costs",
    "site_table",
    "totals",
]

#: Site decisions under which a site is in use after the plan (its running cost is paid).
OPEN_DECISIONS = frozenset({"keep", "build"})


def annuity_factor(horizon_years: float, discount_rate: float) -> float:
    """Present value of £1 a year, paid at the end of each year, for ``horizon_years`` years.

    Parameters
    ----------
    horizon_years : float
        H, the appraisal horizon.
    discount_rate : float
        rho, the annual discount rate (0.035 in the HM Treasury Green Book).

    Returns
    -------
    float
        ``(1 - (1 + rho) ** -H) / rho``, or ``H`` when ``rho`` is 0.
    """
    if discount_rate == 0:
        return float(horizon_years)
    return float((1.0 - (1.0 + discount_rate) ** -horizon_years) / discount_rate)


def lease_exit_allowed(
    sites: pd.DataFrame,
    horizon_years: float,
    at_break_only: bool = True,
    as_of: pd.Timestamp | None = None,
) -> np.ndarray:
    """Which leasehold sites may be exited within the plan.

    Parameters
    ----------
    sites : pandas.DataFrame
        Normalised estate sites (``tenure``, ``lease_break``).
    horizon_years : float
        A lease can be exited at a break that falls between ``as_of`` and ``as_of + horizon``.
    at_break_only : bool
        When False every leasehold site may be exited at any time (at its exit cost).
    as_of : pandas.Timestamp, optional
        The date the plan starts; today when omitted.

    Returns
    -------
    numpy.ndarray of bool
        One entry per site; True for freehold and candidate sites (the rule does not apply).
    """
    leasehold = sites["tenure"].to_numpy(dtype=object) == "leasehold"
    if not at_break_only:
        return np.ones(len(sites), dtype=bool)
    start = (pd.Timestamp.today() if as_of is None else pd.Timestamp(as_of)).normalize()
    end = start + pd.DateOffset(years=int(horizon_years))
    breaks = pd.to_datetime(sites["lease_break"])
    within = ((breaks >= start) & (breaks <= end)).fillna(False).to_numpy(dtype=bool)
    return ~leasehold | within


def site_costs(estate: Estate, scenario: Scenario) -> pd.DataFrame:
    """Whole-life cost of each site under each decision, as the model's objective counts it.

    Parameters
    ----------
    estate : Estate
    scenario : Scenario
        Uses ``finance.horizon_years``, ``finance.discount_rate`` and ``rules.covenants``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``site_id``, columns:

        ``candidate``, ``leasehold`` (bool);
        ``open_npv``: cost over the horizon when the site is kept or built (running cost x F plus
        backlog, or build cost plus running cost x F);
        ``closed_npv``: cost when it is not kept (lease exit cost, or minus the net receipt;
        0 for a candidate left unbuilt);
        ``net_receipt``: the receipt a disposal earns (freehold existing sites, else 0);
        ``exit_cost``: the lease exit cost (leasehold existing sites, else 0);
        ``open_capex``: capital spent when the site is open (backlog, or build cost);
        ``before_npv``: cost today (existing sites kept), 0 for candidates.
    """
    sites = estate.sites
    factor = annuity_factor(scenario.finance.horizon_years, scenario.finance.discount_rate)
    status = sites["status"].to_numpy(dtype=object)
    candidate = status == "candidate"
    leasehold = (sites["tenure"].to_numpy(dtype=object) == "leasehold") & ~candidate

    running = sites["running_cost"].to_numpy(dtype=float)
    backlog = sites["backlog_cost"].to_numpy(dtype=float)
    build = sites["build_cost"].to_numpy(dtype=float)
    value = sites["market_value"].to_numpy(dtype=float)
    if scenario.rules.covenants:
        cap = sites["covenant_receipt_cap"].to_numpy(dtype=float)
        value = np.where(np.isnan(cap), value, np.minimum(value, cap))
    freehold_existing = ~candidate & ~leasehold
    net_receipt = np.where(
        freehold_existing, value - sites["disposal_cost"].to_numpy(dtype=float), 0.0
    )
    exit_cost = np.where(leasehold, sites["lease_exit_cost"].to_numpy(dtype=float), 0.0)
    open_capex = np.where(candidate, build, backlog)
    open_npv = running * factor + open_capex
    closed_npv = exit_cost - net_receipt
    return pd.DataFrame(
        {
            "candidate": candidate,
            "leasehold": leasehold,
            "open_npv": open_npv,
            "closed_npv": closed_npv,
            "net_receipt": net_receipt,
            "exit_cost": exit_cost,
            "open_capex": open_capex,
            "before_npv": np.where(candidate, 0.0, open_npv),
        },
        index=sites.index,
    )


def service_move_costs(estate: Estate, scenario: Scenario) -> pd.DataFrame:
    """One-off cost of moving each service, wherever it goes.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``service_id``: ``fit_out_cost`` (fit_out_cost_per_m2 x space_m2),
        ``moving_cost`` (moving_cost_per_staff x staff) and ``move_cost`` (their sum).
    """
    services = estate.services
    fit_out = services["fit_out_cost_per_m2"].to_numpy(dtype=float) * services["space_m2"].to_numpy(
        dtype=float
    )
    moving = scenario.finance.moving_cost_per_staff * services["staff"].to_numpy(dtype=float)
    return pd.DataFrame(
        {"fit_out_cost": fit_out, "moving_cost": moving, "move_cost": fit_out + moving},
        index=services.index,
    )


def rent_per_year(
    estate: Estate, scenario: Scenario, service_index: np.ndarray, site_index: np.ndarray
) -> np.ndarray:
    """Yearly host rent a service pays when housed at a site, for many (service, site) pairs.

    Parameters
    ----------
    estate : Estate
    scenario : Scenario
    service_index, site_index : numpy.ndarray of int
        Positions in ``estate.services`` and ``estate.sites``, one entry per pair.

    Returns
    -------
    numpy.ndarray
        ``host_rent_share * running_cost * space_m2 / gia_m2`` when the site's owner is not the
        service's organisation, else 0.
    """
    sites = estate.sites
    services = estate.services
    owner = sites["owner"].to_numpy(dtype=object)[site_index]
    org = services["org"].to_numpy(dtype=object)[service_index]
    gia = sites["gia_m2"].to_numpy(dtype=float)[site_index]
    running = sites["running_cost"].to_numpy(dtype=float)[site_index]
    space = services["space_m2"].to_numpy(dtype=float)[service_index]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(gia > 0, running * space / gia, 0.0)
    return np.where(owner != org, scenario.finance.host_rent_share * rate, 0.0)


def _positions(
    estate: Estate, site_decision: pd.Series, assignment: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open flag per site, today's and the plan's site position per service."""
    sites = estate.sites
    decision = site_decision.reindex(sites.index)
    missing = decision[decision.isna()].index.tolist()
    if missing:
        raise ValueError(f"site_decision has no entry for sites {missing[:5]}")
    is_open = decision.isin(OPEN_DECISIONS).to_numpy(dtype=bool)
    site_pos = pd.Series(np.arange(len(sites)), index=sites.index)
    before = site_pos.reindex(estate.services["current_site"].to_numpy()).to_numpy()
    after_sites = assignment.reindex(estate.services.index)
    if after_sites.isna().any():
        raise ValueError("assignment has no site for some services")
    after = site_pos.reindex(after_sites.to_numpy()).to_numpy()
    return is_open, before.astype(int), after.astype(int)


def _straight_km(estate: Estate, from_sites: np.ndarray, to_sites: np.ndarray) -> np.ndarray:
    points = estate.sites.geometry.representative_point()
    xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
    return np.hypot(*(xy[from_sites] - xy[to_sites]).T) / 1000.0


def moves_table(estate: Estate, scenario: Scenario, assignment: pd.Series) -> pd.DataFrame:
    """One row per service the plan moves.

    Returns
    -------
    pandas.DataFrame
        Columns ``service_id``, ``org``, ``service_type``, ``from_site``, ``to_site``,
        ``distance_km`` (straight line between the sites), ``fit_out_cost``, ``moving_cost``,
        ``total_cost``; sorted by service_id.
    """
    services = estate.services
    site_pos = pd.Series(np.arange(len(estate.sites)), index=estate.sites.index)
    to_site = assignment.reindex(services.index).astype(object).to_numpy()
    from_site = services["current_site"].to_numpy(dtype=object)
    moved = to_site != from_site
    costs = service_move_costs(estate, scenario)
    from_pos = site_pos.reindex(from_site[moved]).to_numpy(dtype=int)
    to_pos = site_pos.reindex(to_site[moved]).to_numpy(dtype=int)
    table = pd.DataFrame(
        {
            "service_id": services.index[moved].astype(str),
            "org": services["org"].to_numpy(dtype=object)[moved],
            "service_type": services["service_type"].to_numpy(dtype=object)[moved],
            "from_site": from_site[moved],
            "to_site": to_site[moved],
            "distance_km": _straight_km(estate, from_pos, to_pos),
            "fit_out_cost": costs["fit_out_cost"].to_numpy()[moved],
            "moving_cost": costs["moving_cost"].to_numpy()[moved],
            "total_cost": costs["move_cost"].to_numpy()[moved],
        }
    )
    return table.sort_values("service_id", ignore_index=True)


def site_table(
    estate: Estate, scenario: Scenario, site_decision: pd.Series, assignment: pd.Series
) -> gpd.GeoDataFrame:
    """The estate's sites with the plan's decision and figures for each.

    Decision vocabulary (column ``decision``):

    ``keep``
        kept, housing only its own organisation's services that were already there;
    ``host``
        kept and housing at least one service of another organisation or a service moved in;
    ``keep_vacant``
        kept with no services at all (e.g. a covenant forbids its disposal);
    ``dispose``
        a freehold site sold (``receipt`` is its net receipt);
    ``exit_lease``
        a leasehold site handed back (``exit_cost`` is the lease exit cost);
    ``build``
        a candidate site built;
    ``not_built``
        a candidate site left unbuilt.

    Returns
    -------
    geopandas.GeoDataFrame
        ``estate.sites`` plus ``decision``, ``space_used_m2``, ``space_free_m2``,
        ``services_hosted``, ``orgs_hosted`` (comma-joined, sorted), ``receipt``, ``exit_cost``,
        ``capex`` (backlog or build cost plus the one-off cost of services moved in),
        ``running_cost_after`` (£/yr).
    """
    sites = estate.sites
    services = estate.services
    is_open, before, after = _positions(estate, site_decision, assignment)
    costs = site_costs(estate, scenario)
    moved = before != after
    move_cost = service_move_costs(estate, scenario)["move_cost"].to_numpy()
    n = len(sites)
    space_used = np.bincount(after, weights=services["space_m2"].to_numpy(dtype=float), minlength=n)
    moved_in_cost = np.bincount(after, weights=np.where(moved, move_cost, 0.0), minlength=n)
    moved_in = np.bincount(after, weights=moved.astype(float), minlength=n) > 0
    owner = sites["owner"].to_numpy(dtype=object)
    org = services["org"].to_numpy(dtype=object)
    guests = np.bincount(after, weights=(org != owner[after]).astype(float), minlength=n) > 0
    hosted = (
        pd.Series(services.index.to_numpy(dtype=object))
        .groupby(after)
        .agg(lambda ids: ", ".join(sorted(ids)))
    )
    orgs = pd.Series(org).groupby(after).agg(lambda names: ", ".join(sorted(set(names))))

    raw = site_decision.reindex(sites.index).to_numpy(dtype=object)
    count = np.bincount(after, minlength=n)
    decision = raw.copy()
    kept = raw == "keep"
    decision[kept & (count == 0)] = "keep_vacant"
    decision[kept & (count > 0) & (guests | moved_in)] = "host"

    table = sites.copy()
    table["decision"] = decision
    table["space_used_m2"] = space_used
    table["space_free_m2"] = np.where(
        is_open, sites["gia_m2"].to_numpy(dtype=float) - space_used, 0.0
    )
    table["services_hosted"] = hosted.reindex(np.arange(n), fill_value="").to_numpy(dtype=object)
    table["orgs_hosted"] = orgs.reindex(np.arange(n), fill_value="").to_numpy(dtype=object)
    table["receipt"] = np.where(raw == "dispose", costs["net_receipt"].to_numpy(), 0.0)
    table["exit_cost"] = np.where(raw == "exit_lease", costs["exit_cost"].to_numpy(), 0.0)
    table["capex"] = np.where(is_open, costs["open_capex"].to_numpy(), 0.0) + moved_in_cost
    table["running_cost_after"] = np.where(
        is_open, sites["running_cost"].to_numpy(dtype=float), 0.0
    )
    return table


def _partner_codes(estate: Estate) -> list[str]:
    owners = estate.sites["owner"].astype(str).tolist()
    orgs = estate.services["org"].astype(str).tolist()
    return sorted(set(owners) | set(orgs))


def partner_ledger(
    estate: Estate, scenario: Scenario, site_decision: pd.Series, assignment: pd.Series
) -> pd.DataFrame:
    """What each partner gains and loses under the plan, against today.

    Parameters
    ----------
    estate, scenario : Estate, Scenario
    site_decision : pandas.Series
        site_id -> "keep", "dispose", "exit_lease", "build" or "not_built".
    assignment : pandas.Series
        service_id -> site_id after the plan.

    Returns
    -------
    pandas.DataFrame
        Index ``partner`` (every site owner and service organisation), columns
        ``sites_disposed``, ``leases_exited``, ``receipts``, ``running_cost_before``,
        ``running_cost_after`` (£/yr of the sites it owns), ``rent_paid_before``,
        ``rent_received_before``, ``rent_paid``, ``rent_received`` (£/yr after the plan),
        ``annual_saving`` (running cost plus net rent, before minus after), ``capex``
        (backlog or build cost of its open sites plus moving its services), ``lease_exit_costs``
        and ``npv_gain``: its whole-life cost today minus its whole-life cost under the plan,
        ``sum(before_npv) + F * net_rent_before - [sum(open_npv or closed_npv) + move costs +
        F * net_rent_after]``. This is the quantity the "partners no worse off" rule keeps
        at or above ``partner_npv_floor``; across partners the rents cancel and the gains sum
        to the plan's total NPV saving.
    """
    sites = estate.sites
    services = estate.services
    factor = annuity_factor(scenario.finance.horizon_years, scenario.finance.discount_rate)
    is_open, before, after = _positions(estate, site_decision, assignment)
    raw = site_decision.reindex(sites.index).to_numpy(dtype=object)
    costs = site_costs(estate, scenario)
    owner = sites["owner"].astype(str).to_numpy(dtype=object)
    org = services["org"].astype(str).to_numpy(dtype=object)
    moved = before != after
    move_cost = np.where(moved, service_move_costs(estate, scenario)["move_cost"].to_numpy(), 0.0)
    service_pos = np.arange(len(services))
    rent_before = rent_per_year(estate, scenario, service_pos, before)
    rent_after = rent_per_year(estate, scenario, service_pos, after)
    running = sites["running_cost"].to_numpy(dtype=float)
    existing = ~costs["candidate"].to_numpy()

    def by_owner(values: np.ndarray) -> pd.Series:
        return pd.Series(values).groupby(owner).sum()

    def by_org(values: np.ndarray) -> pd.Series:
        return pd.Series(values).groupby(org).sum()

    def by_host(values: np.ndarray, positions: np.ndarray) -> pd.Series:
        return pd.Series(values).groupby(owner[positions]).sum()

    columns: dict[str, pd.Series] = {
        "sites_disposed": by_owner((raw == "dispose").astype(int)),
        "leases_exited": by_owner((raw == "exit_lease").astype(int)),
        "receipts": by_owner(np.where(raw == "dispose", costs["net_receipt"].to_numpy(), 0.0)),
        "running_cost_before": by_owner(np.where(existing, running, 0.0)),
        "running_cost_after": by_owner(np.where(is_open, running, 0.0)),
        "rent_paid_before": by_org(rent_before),
        "rent_received_before": by_host(rent_before, before),
        "rent_paid": by_org(rent_after),
        "rent_received": by_host(rent_after, after),
        "site_capex": by_owner(np.where(is_open, costs["open_capex"].to_numpy(), 0.0)),
        "move_capex": by_org(move_cost),
        "lease_exit_costs": by_owner(
            np.where(raw == "exit_lease", costs["exit_cost"].to_numpy(), 0.0)
        ),
        "npv_before": by_owner(costs["before_npv"].to_numpy()),
        "npv_sites_after": by_owner(
            np.where(is_open, costs["open_npv"].to_numpy(), costs["closed_npv"].to_numpy())
        ),
    }
    ledger = pd.DataFrame(columns).reindex(_partner_codes(estate)).fillna(0.0)
    ledger.index.name = "partner"
    net_rent_before = ledger["rent_paid_before"] - ledger["rent_received_before"]
    net_rent_after = ledger["rent_paid"] - ledger["rent_received"]
    ledger["annual_saving"] = (
        ledger["running_cost_before"]
        + net_rent_before
        - ledger["running_cost_after"]
        - net_rent_after
    )
    ledger["capex"] = ledger["site_capex"] + ledger["move_capex"]
    ledger["npv_gain"] = (ledger["npv_before"] + factor * net_rent_before) - (
        ledger["npv_sites_after"] + ledger["move_capex"] + factor * net_rent_after
    )
    for name in ("sites_disposed", "leases_exited"):
        ledger[name] = ledger[name].astype(int)
    order = [
        "sites_disposed",
        "leases_exited",
        "receipts",
        "running_cost_before",
        "running_cost_after",
        "annual_saving",
        "rent_paid_before",
        "rent_received_before",
        "rent_paid",
        "rent_received",
        "capex",
        "lease_exit_costs",
        "npv_gain",
    ]
    return ledger[order]


def totals(
    estate: Estate, scenario: Scenario, site_decision: pd.Series, assignment: pd.Series
) -> dict[str, Any]:
    """Headline figures of a plan against today.

    Returns
    -------
    dict
        ``npv_cost_before`` (today's whole-life cost), ``npv_cost_after`` (the plan's; equal to the
        model's objective), ``npv_saving``, ``annual_saving`` (running cost £/yr),
        ``receipts``, ``capex``, ``lease_exit_costs``, ``sites_disposed``, ``leases_exited``,
        ``sites_built``, ``services_moved``.
    """
    is_open, before, after = _positions(estate, site_decision, assignment)
    raw = site_decision.reindex(estate.sites.index).to_numpy(dtype=object)
    costs = site_costs(estate, scenario)
    moved = before != after
    move_cost = float(service_move_costs(estate, scenario)["move_cost"].to_numpy()[moved].sum())
    running = estate.sites["running_cost"].to_numpy(dtype=float)
    existing = ~costs["candidate"].to_numpy()
    npv_before = float(costs["before_npv"].sum())
    npv_after = (
        float(np.where(is_open, costs["open_npv"].to_numpy(), costs["closed_npv"].to_numpy()).sum())
        + move_cost
    )
    return {
        "npv_cost_before": npv_before,
        "npv_cost_after": npv_after,
        "npv_saving": npv_before - npv_after,
        "annual_saving": float(running[existing].sum() - running[is_open].sum()),
        "receipts": float(costs["net_receipt"].to_numpy()[raw == "dispose"].sum()),
        "capex": float(costs["open_capex"].to_numpy()[is_open].sum()) + move_cost,
        "lease_exit_costs": float(costs["exit_cost"].to_numpy()[raw == "exit_lease"].sum()),
        "sites_disposed": int((raw == "dispose").sum()),
        "leases_exited": int((raw == "exit_lease").sum()),
        "sites_built": int((raw == "build").sum()),
        "services_moved": int(moved.sum()),
    }
