"""A plan's money year by year: the disposal programme, whole-life costs and fair shares.

Everything here is computed from the plan's dated decisions (which site goes or is built in
which financial year, which service moves when) and the estate register, never from the
model's coefficients: that the two agree to the penny is a test, not an assumption.

Money of year ``y`` (an offset from the first financial year) is **nominal** in the programme
table and discounted in the whole-life figures: one-off sums (receipts, builds, moves, lease
exits, backlog) at the start of their year, running costs and rents at its end, the residual
value of freeholds still held at the end of the horizon (when ``finance.residual_value``).

**Fair shares.** When a plan leaves a partner worse off than today, the partners who gain can
compensate it. The compensation each loser needs is its NPV loss, paid as a level yearly sum
over the planning window (whose present value equals the loss); each gaining partner pays a
share in proportion to its gain. Across partners the transfers cancel, so the plan's total
saving is unchanged and every partner ends no worse off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .finance import (
    OPEN_DECISIONS,
    rent_per_year,
    service_move_costs,
    site_costs,
)
from .finance import (
    moves_table as _moves,
)
from .timeline import FinancialYears, first_financial_year

if TYPE_CHECKING:
    from .estate import Estate
    from .model import CoLocationModel
    from .scenario import Scenario
    from .timeline import Epochs

__all__ = [
    "PROGRAMME_COLUMNS",
    "Timing",
    "YearlyMoney",
    "compensation",
    "moves_table",
    "partner_codes",
    "partner_ledger",
    "programme_table",
    "site_table",
    "totals",
    "yearly_money",
]

#: Columns of the programme table, per financial year and partner (nominal £).
PROGRAMME_COLUMNS = [
    "receipts",
    "capital_spend",
    "backlog_spent",
    "backlog_avoided",
    "lease_exit_costs",
    "running_saving",
    "rent_change",
    "net_cash",
    "cumulative_net_cash",
]


@dataclass(frozen=True)
class Timing:
    """When a plan's decisions happen, as year offsets from the first financial year.

    Attributes
    ----------
    years : FinancialYears
    site_year : pandas.Series
        site_id -> the year its state changes: a site let go (sold or lease given up), or a
        build started; NaN where nothing changes.
    move_year : pandas.Series
        service_id -> the year it moves; NaN where it stays.
    build_years : pandas.Series
        site_id -> years a build takes before the site can host (0 when timeless).
    """

    years: FinancialYears
    site_year: pd.Series
    move_year: pd.Series
    build_years: pd.Series

    @classmethod
    def at_start(
        cls, estate: Estate, scenario: Scenario, decision: pd.Series, assignment: pd.Series
    ) -> Timing:
        """The timeless reading: every change in the first year, builds open at once."""
        fin = scenario.finance
        years = FinancialYears(
            first_financial_year(fin.start_date), 1, fin.horizon_years, fin.discount_rate
        )
        sites, services = estate.sites, estate.services
        decision = decision.reindex(sites.index)
        candidate = (sites["status"] == "candidate").to_numpy()
        changed = np.where(candidate, decision == "build", ~decision.isin(OPEN_DECISIONS))
        moved = assignment.reindex(services.index) != services["current_site"]
        return cls(
            years,
            pd.Series(np.where(changed, 0.0, np.nan), index=sites.index),
            pd.Series(np.where(moved, 0.0, np.nan), index=services.index),
            pd.Series(0, index=sites.index),
        )

    @classmethod
    def from_epochs(
        cls,
        epochs: Epochs,
        site_epoch: pd.Series,
        move_epoch: pd.Series,
        build_years: pd.Series,
    ) -> Timing:
        """From the epochs a solution says each site changes and each service moves in."""

        def offsets(epoch: pd.Series) -> pd.Series:
            index = epoch.to_numpy(dtype=int)
            start = epochs.start[np.maximum(index, 0)].astype(float)
            return pd.Series(np.where(index >= 0, start, np.nan), index=epoch.index)

        lag = build_years * 0 if epochs.timeless else build_years
        return cls(epochs.years, offsets(site_epoch), offsets(move_epoch), lag)

    @classmethod
    def of_model(cls, model: CoLocationModel, estate: Estate, scenario: Scenario) -> Timing:
        """The timing of a solved model's plan on ``estate``."""
        from .model.from_estate import build_years

        solution = model.solution
        lag = pd.Series(build_years(estate.sites, scenario), index=estate.sites.index)
        return cls.from_epochs(model.calendar, solution.site_epoch, solution.move_epoch, lag)

    def fy(self, offset: float) -> int | None:
        """Calendar year starting the financial year at ``offset`` (None for NaN)."""
        return None if np.isnan(offset) else self.years.first + int(offset)


@dataclass(frozen=True)
class YearlyMoney:
    """Nominal £ per site or service and year of the horizon, for the plan and for today.

    Arrays are sites x years (``site_*``) or services x years (``service_*``) over the whole
    horizon H; ``host`` and ``host_today`` give each service's site in each year.
    """

    years: FinancialYears
    running: np.ndarray
    running_today: np.ndarray
    receipts: np.ndarray
    exits: np.ndarray
    builds: np.ndarray
    backlog: np.ndarray
    backlog_today: np.ndarray
    moves: np.ndarray
    rent: np.ndarray
    rent_today: np.ndarray
    host: np.ndarray
    host_today: np.ndarray
    residual: np.ndarray
    residual_today: np.ndarray

    def _discount(self) -> tuple[np.ndarray, np.ndarray, float]:
        offsets = np.arange(self.years.horizon)
        return (
            self.years.start_factor(offsets),
            self.years.end_factor(offsets),
            self.years.horizon_factor,
        )

    def site_npv(self, today: bool = False) -> np.ndarray:
        """Whole-life cost of each site (running, backlog, builds, exits less receipts)."""
        start, end, horizon = self._discount()
        if today:
            return (
                self.running_today @ end
                + self.backlog_today @ start
                - self.residual_today * horizon
            )
        one_off = self.backlog + self.builds + self.exits - self.receipts
        return self.running @ end + one_off @ start - self.residual * horizon

    def move_npv(self) -> np.ndarray:
        start, _, _ = self._discount()
        return self.moves @ start

    def rent_npv(self, today: bool = False) -> np.ndarray:
        _, end, _ = self._discount()
        return (self.rent_today if today else self.rent) @ end


def _held_years(
    estate: Estate, timing: Timing, decision: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Sites x years: held (or open, for a build) under the plan; and under today's plan."""
    sites = estate.sites
    horizon = timing.years.horizon
    offsets = np.arange(horizon)[None, :]
    candidate = (sites["status"] == "candidate").to_numpy()
    change = timing.site_year.reindex(sites.index).to_numpy(dtype=float)
    decision = decision.reindex(sites.index)
    gone = ~np.isnan(change) & ~candidate
    held = np.where(gone[:, None], offsets < np.nan_to_num(change)[:, None], True)
    built = ~np.isnan(change) & candidate & decision.isin(OPEN_DECISIONS).to_numpy()
    opens = np.nan_to_num(change) + timing.build_years.reindex(sites.index).fillna(0).to_numpy()
    held = np.where(candidate[:, None], built[:, None] & (offsets >= opens[:, None]), held)
    return held, np.repeat(~candidate[:, None], horizon, axis=1)


def _lease_exit_is_free(estate: Estate, timing: Timing, start: pd.Timestamp) -> np.ndarray:
    """Per site: a lease given up at its end (not at a break) costs nothing to leave. A break
    before ``start`` has passed and counts for nothing."""
    sites = estate.sites
    if timing.years.window == 1:
        return np.zeros(len(sites), dtype=bool)
    change = timing.site_year.reindex(sites.index).to_numpy(dtype=float)

    def offset(column: str) -> np.ndarray:
        return np.array(
            [
                np.nan
                if pd.isna(day) or (column == "lease_break" and pd.Timestamp(day) < start)
                else timing.years.offset_of(day)
                for day in sites[column]
            ]
        )

    at_end = np.fmax(offset("lease_end"), 0) == change  # ended before the plan: from its start
    at_break = offset("lease_break") == change
    return at_end & ~at_break


def yearly_money(
    estate: Estate,
    scenario: Scenario,
    decision: pd.Series,
    assignment: pd.Series,
    timing: Timing,
) -> YearlyMoney:
    """Every £ of the plan and of today, by site or service and year.

    Parameters
    ----------
    estate, scenario : Estate, Scenario
    decision : pandas.Series
        site_id -> final decision ("keep", "dispose", "exit_lease", "build", "not_built").
    assignment : pandas.Series
        service_id -> site_id at the end of the window.
    timing : Timing
        When each change happens.
    """
    sites, services = estate.sites, estate.services
    years = timing.years
    horizon = years.horizon
    n_sites = len(sites)
    costs = site_costs(estate, scenario)
    held, held_today = _held_years(estate, timing, decision)
    running = sites["running_cost"].to_numpy(dtype=float)
    change = timing.site_year.reindex(sites.index).to_numpy(dtype=float)
    candidate = costs["candidate"].to_numpy()
    leasehold = costs["leasehold"].to_numpy()
    decision = decision.reindex(sites.index).to_numpy(dtype=object)

    def at_year(amount: np.ndarray, when: np.ndarray, applies: np.ndarray) -> np.ndarray:
        table = np.zeros((n_sites, horizon))
        rows = np.flatnonzero(applies & ~np.isnan(when))
        table[rows, when[rows].astype(int)] = amount[rows]
        return table

    receipts = at_year(costs["net_receipt"].to_numpy(), change, decision == "dispose")
    start = pd.Timestamp(scenario.finance.start_date)
    exit_cost = np.where(
        _lease_exit_is_free(estate, timing, start), 0.0, costs["exit_cost"].to_numpy()
    )
    exits = at_year(exit_cost, change, decision == "exit_lease")
    builds = at_year(costs["open_capex"].to_numpy(), change, decision == "build")
    backlog_amount = np.where(candidate, 0.0, sites["backlog_cost"].to_numpy(dtype=float))
    backlog = np.zeros((n_sites, horizon))
    # Spent at the start on every site still held at the grace year (timeless: if kept).
    grace = 0 if years.window == 1 else min(scenario.finance.backlog_grace_years, years.window - 1)
    backlog[:, 0] = backlog_amount * held[:, grace]
    backlog_today = np.zeros((n_sites, horizon))
    backlog_today[:, 0] = backlog_amount

    residual = np.zeros(n_sites)
    residual_today = np.zeros(n_sites)
    if scenario.finance.residual_value:
        value = np.where(candidate, np.nan_to_num(sites["market_value"].to_numpy(dtype=float)), 0.0)
        value = np.where(~candidate & ~leasehold, costs["net_receipt"].to_numpy(), value)
        residual = value * held[:, -1]
        residual_today = np.where(candidate, 0.0, value)

    site_pos = pd.Series(np.arange(n_sites), index=sites.index)
    today_site = site_pos.reindex(services["current_site"].to_numpy()).to_numpy(dtype=int)
    new_site = site_pos.reindex(assignment.reindex(services.index).to_numpy()).to_numpy(dtype=int)
    move_year = timing.move_year.reindex(services.index).to_numpy(dtype=float)
    offsets = np.arange(horizon)[None, :]
    moved = ~np.isnan(move_year)
    host = np.where(
        moved[:, None] & (offsets >= np.nan_to_num(move_year)[:, None]),
        new_site[:, None],
        today_site[:, None],
    )
    host_today = np.repeat(today_site[:, None], horizon, axis=1)
    move_cost = service_move_costs(estate, scenario)["move_cost"].to_numpy()
    moves = np.zeros((len(services), horizon))
    rows = np.flatnonzero(moved)
    moves[rows, move_year[rows].astype(int)] = move_cost[rows]
    service_index = np.repeat(np.arange(len(services))[:, None], horizon, axis=1)

    def rent(hosts: np.ndarray) -> np.ndarray:
        return rent_per_year(estate, scenario, service_index.ravel(), hosts.ravel()).reshape(
            hosts.shape
        )

    return YearlyMoney(
        years=years,
        running=running[:, None] * held,
        running_today=running[:, None] * held_today,
        receipts=receipts,
        exits=exits,
        builds=builds,
        backlog=backlog,
        backlog_today=backlog_today,
        moves=moves,
        rent=rent(host),
        rent_today=rent(host_today),
        host=host,
        host_today=host_today,
        residual=residual,
        residual_today=residual_today,
    )


def _by_partner(values: np.ndarray, partners: np.ndarray, codes: list[str]) -> pd.DataFrame:
    """Rows of a (rows x years) array summed by each row's partner: partners x years."""
    frame = pd.DataFrame(values).groupby(partners).sum()
    return frame.reindex(codes).fillna(0.0)


def programme_table(estate: Estate, money: YearlyMoney, codes: list[str]) -> pd.DataFrame:
    """Financial year x partner: what each partner receives, spends and saves, against today.

    Returns
    -------
    pandas.DataFrame
        One row per (financial_year, partner) of the window and a "Total" row per year,
        columns ``financial_year`` (e.g. 2028), ``year_label`` ("2028-29"), ``partner`` and
        :data:`PROGRAMME_COLUMNS` (nominal £). ``net_cash`` is what the partner is better off
        that year than carrying on as today: receipts, backlog avoided, running costs saved
        and rent gained, less capital spend, backlog spent on kept sites and lease exit costs.
    """
    sites, services = estate.sites, estate.services
    owner = sites["owner"].astype(str).to_numpy(dtype=object)
    org = services["org"].astype(str).to_numpy(dtype=object)
    window = money.years.window

    def own(values: np.ndarray) -> pd.DataFrame:
        return _by_partner(values[:, :window], owner, codes)

    def runs(values: np.ndarray) -> pd.DataFrame:
        return _by_partner(values[:, :window], org, codes)

    def received(rent: np.ndarray, host: np.ndarray) -> pd.DataFrame:
        hosts = owner[host[:, :window]]
        table = [np.where(hosts == code, rent[:, :window], 0.0).sum(axis=0) for code in codes]
        return pd.DataFrame(np.array(table).reshape(len(codes), window), index=codes)

    net_rent = (received(money.rent, money.host) - runs(money.rent)) - (
        received(money.rent_today, money.host_today) - runs(money.rent_today)
    )
    parts = {
        "receipts": own(money.receipts),
        "capital_spend": own(money.builds) + runs(money.moves),
        "backlog_spent": own(money.backlog),
        "backlog_avoided": own(money.backlog_today - money.backlog),
        "lease_exit_costs": own(money.exits),
        "running_saving": own(money.running_today - money.running),
        "rent_change": net_rent,
    }
    frames = []
    for offset in range(window):
        frame = pd.DataFrame({name: part[offset] for name, part in parts.items()})
        frame.index.name = "partner"
        frame.loc["Total"] = frame.sum()
        frame["financial_year"] = money.years.first + offset
        frame["year_label"] = money.years.label(offset)
        frames.append(frame.reset_index())
    table = pd.concat(frames, ignore_index=True)
    table["net_cash"] = (
        table["receipts"]
        + table["backlog_avoided"]
        + table["running_saving"]
        + table["rent_change"]
        - table["capital_spend"]
        - table["lease_exit_costs"]
    )
    # backlog_avoided already nets the backlog spent against today's.
    table["cumulative_net_cash"] = table.groupby("partner")["net_cash"].cumsum()
    return table[["financial_year", "year_label", "partner", *PROGRAMME_COLUMNS]]


def partner_npv(estate: Estate, money: YearlyMoney, codes: list[str]) -> pd.DataFrame:
    """Per partner: whole-life cost today and under the plan, rent included (NPV £)."""
    owner = estate.sites["owner"].astype(str).to_numpy(dtype=object)
    org = estate.services["org"].astype(str).to_numpy(dtype=object)

    def net_rent(today: bool) -> pd.Series:
        rent = money.rent_today if today else money.rent
        host = money.host_today if today else money.host
        _, end, _ = money._discount()
        paid = pd.Series(rent @ end).groupby(org).sum()
        hosts = owner[host]
        received = pd.Series(
            {code: float((np.where(hosts == code, rent, 0.0) @ end).sum()) for code in codes}
        )
        return paid.reindex(codes).fillna(0.0) - received.reindex(codes).fillna(0.0)

    sites_today = pd.Series(money.site_npv(today=True)).groupby(owner).sum()
    sites_plan = pd.Series(money.site_npv()).groupby(owner).sum()
    moves = pd.Series(money.move_npv()).groupby(org).sum()
    table = pd.DataFrame(
        {
            "npv_before": sites_today.reindex(codes).fillna(0.0) + net_rent(True),
            "npv_after": sites_plan.reindex(codes).fillna(0.0)
            + moves.reindex(codes).fillna(0.0)
            + net_rent(False),
        }
    )
    table["npv_gain"] = table["npv_before"] - table["npv_after"]
    table.index.name = "partner"
    return table


def compensation(gains: pd.Series, years: FinancialYears) -> pd.DataFrame:
    """Transfers that leave every partner no worse off, per financial year of the window.

    Each partner with a negative NPV gain receives its loss as a level yearly sum over the
    window (paid at each year's end, present value equal to the loss); partners that gain pay
    it in proportion to their gains. Nothing is paid when no partner loses, or when the plan
    as a whole does not save enough to cover the losses.

    Returns
    -------
    pandas.DataFrame
        Columns ``financial_year``, ``year_label``, ``payer``, ``payee``, ``amount`` (nominal
        £ a year); empty when no transfer is needed or possible.
    """
    columns = ["financial_year", "year_label", "payer", "payee", "amount"]
    losers = gains[gains < -0.5]
    winners = gains[gains > 0.5]
    if losers.empty or winners.sum() + losers.sum() < -0.5:
        return pd.DataFrame(columns=columns)
    annuity = years.running_factor(0, years.window)
    rows = []
    for payee, loss in losers.items():
        yearly = -float(loss) / annuity
        for payer, gain in winners.items():
            amount = yearly * float(gain) / float(winners.sum())
            for offset in range(years.window):
                rows.append((years.first + offset, years.label(offset), payer, payee, amount))
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- plan tables


def partner_codes(estate: Estate) -> list[str]:
    """Every partner that owns a site or runs a service, sorted."""
    owners = estate.sites["owner"].astype(str).tolist()
    orgs = estate.services["org"].astype(str).tolist()
    return sorted(set(owners) | set(orgs))


def _timing(estate, scenario, decision, assignment, timing: Timing | None) -> Timing:
    return timing if timing is not None else Timing.at_start(estate, scenario, decision, assignment)


def totals(
    estate: Estate,
    scenario: Scenario,
    decision: pd.Series,
    assignment: pd.Series,
    timing: Timing | None = None,
) -> dict[str, float | int | str]:
    """Headline figures of a plan against today.

    Parameters
    ----------
    timing : Timing, optional
        When each change happens; default every change in the first year (timeless).

    Returns
    -------
    dict
        ``npv_cost_before`` (today's whole-life cost), ``npv_cost_after`` (the plan's; equal
        to the model's objective), ``npv_saving``, ``annual_saving`` (running cost £/yr once
        the programme is done), ``receipts``, ``capital_spend`` (builds and moves),
        ``backlog_spent`` (on sites kept), ``backlog_avoided`` (on sites let go at once),
        ``capex`` (capital spend plus backlog spent), ``lease_exit_costs``,
        ``sites_disposed``, ``leases_exited``, ``sites_built``, ``services_moved``,
        ``first_year`` and ``last_year`` of the programme's changes (financial years).
    """
    timing = _timing(estate, scenario, decision, assignment, timing)
    money = yearly_money(estate, scenario, decision, assignment, timing)
    raw = decision.reindex(estate.sites.index).to_numpy(dtype=object)
    npv_before = float(money.site_npv(today=True).sum())
    npv_after = float(money.site_npv().sum() + money.move_npv().sum())
    capital = float(money.builds.sum() + money.moves.sum())
    backlog_spent = float(money.backlog.sum())
    changes = np.concatenate(
        [timing.site_year.dropna().to_numpy(), timing.move_year.dropna().to_numpy()]
    )
    first = timing.fy(float(changes.min())) if len(changes) else None
    last = timing.fy(float(changes.max())) if len(changes) else None
    return {
        "npv_cost_before": npv_before,
        "npv_cost_after": npv_after,
        "npv_saving": npv_before - npv_after,
        "annual_saving": float(money.running_today[:, -1].sum() - money.running[:, -1].sum()),
        "receipts": float(money.receipts.sum()),
        "capital_spend": capital,
        "backlog_spent": backlog_spent,
        "backlog_avoided": float(money.backlog_today.sum()) - backlog_spent,
        "capex": capital + backlog_spent,
        "lease_exit_costs": float(money.exits.sum()),
        "sites_disposed": int((raw == "dispose").sum()),
        "leases_exited": int((raw == "exit_lease").sum()),
        "sites_built": int((raw == "build").sum()),
        "services_moved": int(timing.move_year.notna().sum()),
        "first_year": first,
        "last_year": last,
    }


def partner_ledger(
    estate: Estate,
    scenario: Scenario,
    decision: pd.Series,
    assignment: pd.Series,
    timing: Timing | None = None,
) -> pd.DataFrame:
    """What each partner gains and loses under the plan, against today.

    Returns
    -------
    pandas.DataFrame
        Index ``partner`` (every site owner and service organisation), columns
        ``sites_disposed``, ``leases_exited``, ``receipts``, ``running_cost_before``,
        ``running_cost_after`` (£/yr of the sites it owns, once the programme is done),
        ``annual_saving`` (running cost plus net rent), ``rent_paid_before``,
        ``rent_received_before``, ``rent_paid``, ``rent_received`` (£/yr), ``capex``
        (builds, moves and backlog spent), ``lease_exit_costs`` and ``npv_gain``: its
        whole-life cost today minus under the plan, rents included. This is the quantity the
        "partners no worse off" rule keeps at or above ``partner_npv_floor``; across partners
        the rents cancel and the gains sum to the plan's NPV saving.
    """
    timing = _timing(estate, scenario, decision, assignment, timing)
    money = yearly_money(estate, scenario, decision, assignment, timing)
    codes = partner_codes(estate)
    owner = estate.sites["owner"].astype(str).to_numpy(dtype=object)
    org = estate.services["org"].astype(str).to_numpy(dtype=object)
    raw = decision.reindex(estate.sites.index).to_numpy(dtype=object)

    def by(values: np.ndarray, keys: np.ndarray) -> pd.Series:
        return pd.Series(values).groupby(keys).sum().reindex(codes).fillna(0.0)

    def received(rent: np.ndarray, host: np.ndarray) -> pd.Series:
        hosts = owner[host[:, -1]]
        return pd.Series({code: float(rent[:, -1][hosts == code].sum()) for code in codes})

    ledger = pd.DataFrame(
        {
            "sites_disposed": by((raw == "dispose").astype(float), owner).astype(int),
            "leases_exited": by((raw == "exit_lease").astype(float), owner).astype(int),
            "receipts": by(money.receipts.sum(axis=1), owner),
            "running_cost_before": by(money.running_today[:, -1], owner),
            "running_cost_after": by(money.running[:, -1], owner),
            "rent_paid_before": by(money.rent_today[:, -1], org),
            "rent_received_before": received(money.rent_today, money.host_today),
            "rent_paid": by(money.rent[:, -1], org),
            "rent_received": received(money.rent, money.host),
            "capex": by(money.builds.sum(axis=1) + money.backlog.sum(axis=1), owner)
            + by(money.moves.sum(axis=1), org),
            "lease_exit_costs": by(money.exits.sum(axis=1), owner),
        },
        index=pd.Index(codes, name="partner"),
    )
    net_before = ledger["rent_paid_before"] - ledger["rent_received_before"]
    net_after = ledger["rent_paid"] - ledger["rent_received"]
    ledger["annual_saving"] = (
        ledger["running_cost_before"] + net_before - ledger["running_cost_after"] - net_after
    )
    ledger["npv_gain"] = partner_npv(estate, money, codes)["npv_gain"]
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


def site_table(
    estate: Estate,
    scenario: Scenario,
    decision: pd.Series,
    assignment: pd.Series,
    timing: Timing | None = None,
):
    """The estate's sites with the plan's decision, its year and the figures for each.

    Decision vocabulary (column ``decision``): ``keep`` (kept, housing only its own
    organisation's services that were already there), ``host`` (kept and housing another
    organisation's service or one moved in), ``keep_vacant`` (kept with no services),
    ``dispose`` (a freehold sold), ``exit_lease`` (a lease given up), ``build`` (a candidate
    built), ``not_built``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``estate.sites`` plus ``decision``, ``decision_year`` (the financial year a site is
        sold or its lease ends, or a new build opens; empty where nothing changes),
        ``build_start_year``, ``space_used_m2``, ``space_free_m2``, ``services_hosted``,
        ``orgs_hosted``, ``receipt``, ``exit_cost``, ``capex`` (backlog or build cost plus
        the one-off cost of services moved in), ``running_cost_after`` (£/yr).
    """
    timing = _timing(estate, scenario, decision, assignment, timing)
    money = yearly_money(estate, scenario, decision, assignment, timing)
    sites, services = estate.sites, estate.services
    n = len(sites)
    final_host = money.host[:, -1]
    today_host = money.host_today[:, 0]
    moved = final_host != today_host
    space_used = np.bincount(
        final_host, weights=services["space_m2"].to_numpy(dtype=float), minlength=n
    )
    moved_in_cost = np.bincount(final_host, weights=money.moves.sum(axis=1), minlength=n)
    moved_in = np.bincount(final_host, weights=moved.astype(float), minlength=n) > 0
    owner = sites["owner"].to_numpy(dtype=object)
    org = services["org"].to_numpy(dtype=object)
    guests = np.bincount(final_host, weights=(org != owner[final_host]).astype(float), minlength=n)
    hosted = (
        pd.Series(services.index.to_numpy(dtype=object))
        .groupby(final_host)
        .agg(lambda ids: ", ".join(sorted(ids)))
    )
    orgs = pd.Series(org).groupby(final_host).agg(lambda names: ", ".join(sorted(set(names))))
    raw = decision.reindex(sites.index).to_numpy(dtype=object)
    count = np.bincount(final_host, minlength=n)
    label = raw.copy()
    kept = raw == "keep"
    label[kept & (count == 0)] = "keep_vacant"
    label[kept & (count > 0) & ((guests > 0) | moved_in)] = "host"
    is_open = pd.Series(raw).isin(OPEN_DECISIONS).to_numpy()
    change = timing.site_year.reindex(sites.index).to_numpy(dtype=float)
    lag = timing.build_years.reindex(sites.index).fillna(0).to_numpy(dtype=float)
    opens = np.where(raw == "build", change + lag, change)
    first = timing.years.first

    table = sites.copy()
    table["decision"] = label
    table["decision_year"] = pd.array(
        [None if np.isnan(y) else first + int(y) for y in opens], dtype="Int64"
    )
    table["build_start_year"] = pd.array(
        [first + int(y) if r == "build" else None for y, r in zip(change, raw, strict=True)],
        dtype="Int64",
    )
    table["space_used_m2"] = space_used
    table["space_free_m2"] = np.where(
        is_open, sites["gia_m2"].to_numpy(dtype=float) - space_used, 0.0
    )
    table["services_hosted"] = hosted.reindex(np.arange(n), fill_value="").to_numpy(dtype=object)
    table["orgs_hosted"] = orgs.reindex(np.arange(n), fill_value="").to_numpy(dtype=object)
    table["receipt"] = money.receipts.sum(axis=1)
    table["exit_cost"] = money.exits.sum(axis=1)
    table["capex"] = money.builds.sum(axis=1) + money.backlog.sum(axis=1) + moved_in_cost
    table["running_cost_after"] = money.running[:, -1]
    return table


def moves_table(
    estate: Estate,
    scenario: Scenario,
    assignment: pd.Series,
    timing: Timing | None = None,
) -> pd.DataFrame:
    """One row per service the plan moves, with the financial year it moves
    (``move_year``; see :func:`totalcapital.finance.moves_table` for the other columns)."""
    table = _moves(estate, scenario, assignment)
    if timing is None:
        years = [None] * len(table)
    else:
        offsets = timing.move_year.reindex(table["service_id"]).to_numpy(dtype=float)
        years = [timing.fy(y) for y in offsets]
    table["move_year"] = pd.array(years, dtype="Int64")
    return table
