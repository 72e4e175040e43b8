"""Money per site and service: annuity factors, whole-life costs, receipts, moves, host rent.

These are the primitives both the model (:mod:`totalcapital.model.from_estate`) and the plan's
figures (:mod:`totalcapital.programme`) are built from, so that the result tables and the
model's objective agree to the penny.

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
from typing import TYPE_CHECKING

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
    "rent_per_year",
    "service_move_costs",
    "site_costs",
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
