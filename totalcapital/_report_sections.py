"""The sections of the board pack, each from a scenario result to escaped HTML.

In reading order: the question asked, headline figures, assumptions, the programme year by
year, dated decisions, who gains and who loses (and compensation), cover before and after,
what the solver proved, and the map. Each returns a ``<section>``; the map numbers the
sites that change in the order of the table of dated decisions.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._report_html import (
    count,
    definitions,
    fy,
    get,
    html_table,
    money,
    number,
    section,
    share,
    site_name,
    text,
    words,
)
from ._report_svg import MapMove, MapSite, programme_chart, site_map
from .timeline import first_financial_year, fy_label

if TYPE_CHECKING:
    from .results import ScenarioResult

DECISION_WORDS = {
    "dispose": "Sold",
    "exit_lease": "Lease given up",
    "build": "Built",
}
_BUDGET_COUNTS = {
    "builds": "new builds",
    "moves": "moves (fit-out and moving)",
    "backlog": "the maintenance backlog of sites kept",
    "lease_exits": "lease exit costs",
}
_STATUS_WORDS = {
    "optimal": "the solver's bound proves that no plan within the rules costs less than this "
    "one by more than the gap below.",
    "time_limit": "stopped by its time limit with a checked plan; a cheaper plan may exist, "
    "but by no more than the gap below.",
    "unproven": "the solver called the plan optimal, but its bound does not prove the checked "
    "cost: treat the saving as a good plan, not the best.",
}
_SOLVER_NAMES = {"highs": "HiGHS", "cbc": "CBC"}


def question(result: ScenarioResult) -> str:
    """The scenario's name, description, overrides and what the plan was allowed to do."""
    scenario = result.scenario or {}
    rules = scenario.get("rules") or {}
    applied = scenario.get("applied_overrides") or []
    description = scenario.get("description") or ""
    estate = scenario.get("estate")

    def allowed(key: str, yes: str, no: str) -> str:
        value = rules.get(key)
        return "not recorded" if value is None else (yes if value else no)

    items = [
        ("Scenario", f"<strong>{text(result.name)}</strong>"),
        (
            "Overrides applied",
            ", ".join(text(o) for o in applied) if applied else "none (the scenario as written)",
        ),
    ]
    if estate:
        items.append(("Estate register", text(Path(str(estate)).name)))
    items += [
        ("Services may move", allowed("allow_moves", "yes", "no")),
        ("Sites may be sold or leases given up", allowed("allow_disposals", "yes", "no")),
        ("New buildings may be built", allowed("allow_new_builds", "yes", "no")),
        (
            "Every partner no worse off",
            allowed(
                "partners_no_worse_off",
                "required: no partner may lose over the horizon",
                "not required (see who gains and loses, and the compensation)",
            ),
        ),
        (
            "Leases",
            allowed(
                "lease_exit_at_break_only",
                "given up only at a break or at their end",
                "may be given up at any time, at their exit cost",
            ),
        ),
        ("Covenants", allowed("covenants", "respected", "ignored")),
        ("Listed buildings", allowed("dispose_listed", "may be sold", "kept")),
    ]
    locks = scenario.get("locks") or {}
    for key, label in (
        ("keep_sites", "Sites that must be kept"),
        ("dispose_sites", "Sites that must go"),
    ):
        if locks.get(key):
            items.append((label, ", ".join(text(site_name(result, s)) for s in locks[key])))
    if locks.get("fixed_services"):
        items.append(
            ("Services that stay put", ", ".join(text(s) for s in locks["fixed_services"]))
        )
    lead = (
        f'<p class="description">{text(description)}</p>'
        if description
        else '<p class="description muted">The scenario gives no description.</p>'
    )
    return section("question", "The question asked", lead + definitions(items))


def headlines(result: ScenarioResult) -> str:
    """The totals a board asks for first, as cards, and the plan in one sentence."""
    totals = result.totals or {}
    first, last = totals.get("first_year"), totals.get("last_year")
    cards = [
        ("npv_saving", "NPV saving", money(totals.get("npv_saving")), "whole life, discounted"),
        ("npv_cost_before", "Whole-life cost today", money(totals.get("npv_cost_before")), "NPV"),
        (
            "npv_cost_after",
            "Whole-life cost of the plan",
            money(totals.get("npv_cost_after")),
            "NPV",
        ),
        (
            "annual_saving",
            "Annual saving once done",
            money(totals.get("annual_saving")),
            "£ a year",
        ),
        ("receipts", "Capital receipts", money(totals.get("receipts")), "sales, nominal"),
        (
            "capital_spend",
            "Capital spend",
            money(totals.get("capital_spend", totals.get("capex"))),
            "builds and moves, nominal",
        ),
        (
            "lease_exit_costs",
            "Lease exit costs",
            money(totals.get("lease_exit_costs")),
            "nominal",
        ),
        (
            "years",
            "Changes happen",
            f"{fy(first)} to {fy(last)}" if first is not None else "none",
            "first and last financial year",
        ),
    ]
    html = ['<div class="cards">']
    for key, label, value, note in cards:
        html.append(
            f'<div class="card" data-total="{key}"><div class="label">{label}</div>'
            f'<div class="value">{value}</div><div class="note">{note}</div></div>'
        )
    html.append("</div>")
    counts = [
        (totals.get("sites_disposed"), "site sold", "sites sold"),
        (totals.get("leases_exited"), "lease given up", "leases given up"),
        (totals.get("sites_built"), "site built", "sites built"),
        (totals.get("services_moved"), "service moved", "services moved"),
    ]
    said = [f"{int(n)} {one if int(n) == 1 else many}" for n, one, many in counts if n is not None]
    if said:
        html.append(f'<p class="summary-line">The plan: {", ".join(said)}.')
        backlog = (totals.get("backlog_spent"), totals.get("backlog_avoided"))
        if backlog[0] is not None:
            html.append(
                f" Maintenance backlog spent on sites kept: {money(backlog[0])}; "
                f"backlog avoided by letting sites go: {money(backlog[1])}."
            )
        html.append("</p>")
    return section("headlines", "Headline figures", "".join(html))


def assumptions(result: ScenarioResult) -> str:
    """Money, time and travel settings in words, and every standard and access rule."""
    scenario = result.scenario or {}
    fin = scenario.get("finance") or {}
    prog = scenario.get("programme") or {}
    start = fin.get("start_date")
    horizon = fin.get("horizon_years")
    rate = number(fin.get("discount_rate"))
    items = []
    if start:
        stamp = pd.Timestamp(start)
        first = first_financial_year(stamp)
        items.append(
            (
                "Start",
                f"{stamp.day} {stamp:%B %Y}; the programme starts with financial year "
                f"{fy_label(first)} (April to March)",
            )
        )
    else:
        first = None
    if horizon is not None:
        tail = f", to {fy_label(first + int(horizon) - 1)}" if first is not None else ""
        items.append(("Appraisal horizon", f"{int(horizon)} years{tail}"))
    if prog:
        if prog.get("enabled", "num"):
            window = int(prog.get("years", 10))
            span = (
                f", {fy_label(first)} to {fy_label(first + window - 1)}"
                if first is not None
                else ""
            )
            rest = (
                f"; the remaining {int(horizon) - window} years are a tail in which nothing changes"
                if horizon and int(horizon) > window
                else ""
            )
            items.append(("Planning window", f"{window} financial years{span}{rest}"))
        else:
            items.append(("Planning window", "none: every change counted at the start (timeless)"))
    if rate is not None:
        items.append(("Discount rate", f"{rate:.1%} a year (HM Treasury Green Book: 3.5%)"))
    items.append(("Capital budget", _budget(result, fin)))
    counts = fin.get("budget_counts")
    if counts is not None:
        counted = ", ".join(_BUDGET_COUNTS.get(c, words(c)) for c in counts) or "nothing"
        items.append(("What the budget counts", counted))
    recycled_share = number(fin.get("receipts_recycled_share"))
    if recycled_share is not None:
        lag = int(fin.get("recycling_lag_years") or 0)
        when = (
            "in the year they are received"
            if lag == 0
            else f"{lag} year{'s' if lag != 1 else ''} after they are received"
        )
        recycled = (
            f"{recycled_share:.0%} of receipts fund capital spending, {when}"
            if recycled_share > 0
            else "none: receipts do not fund capital spending"
        )
        items.append(("Receipts recycled", recycled))
    residual = fin.get("residual_value")
    if residual is not None:
        items.append(
            (
                "Residual value",
                "on: freeholds still held at the horizon's end count at their net sale value then"
                if residual
                else "off: freeholds still held at the horizon's end count for nothing",
            )
        )
    grace = fin.get("backlog_grace_years")
    if grace is not None:
        items.append(
            (
                "Maintenance backlog",
                f"spent in the first year on every site still held {int(grace)} years in; "
                "a site let go sooner is kept going, not refurbished",
            )
        )
    if prog.get("build_years") is not None:
        items.append(("Build time", _build_years(result, int(prog["build_years"]))))
    limit = prog.get("max_disposals_per_year")
    by_partner = prog.get("partner_max_disposals_per_year") or {}
    if limit is not None or by_partner:
        parts = [f"{int(limit)} a year for every partner"] if limit is not None else []
        parts += [f"{text(p)}: {int(n)} a year" for p, n in sorted(by_partner.items())]
        items.append(("Disposals a partner can handle", "; ".join(parts)))
    if fin.get("moving_cost_per_staff") is not None:
        items.append(("Moving cost", f"{money(fin['moving_cost_per_staff'])} per member of staff"))
    host = number(fin.get("host_rent_share"))
    if host is not None:
        items.append(
            (
                "Rent between partners",
                f"guests pay hosts {host:.0%} of running costs, by floor space",
            )
        )
    travel = scenario.get("travel") or {}
    method = get(result.solve, "travel_method") or travel.get("method")
    if method:
        detail = ""
        if method == "straight_line":
            detail = (
                f" at {travel.get('straight_line_speed_kmh', 50):g} km/h, roads "
                f"{travel.get('circuity', 1.3):g} times the straight line"
            )
        items.append(("Travel times", f"{words(method)}{text(detail)}"))
    return section(
        "assumptions",
        "Assumptions",
        definitions(items) + "<h3>Response standards and access rules</h3>" + _standards(scenario),
    )


def _budget(result: ScenarioResult, fin: dict[str, Any]) -> str:
    parts = []
    if fin.get("capital_budget") is not None:
        parts.append(f"{money(fin['capital_budget'])} over the window")
    yearly = fin.get("capital_budget_per_year")
    if isinstance(yearly, dict) and yearly:
        years = "; ".join(f"{fy_label(int(y))}: {money(v)}" for y, v in sorted(yearly.items()))
        parts.append(f"by year ({years}), unspent budget carried forward")
    elif yearly is not None:
        parts.append(f"{money(yearly)} a year, unspent budget carried forward")
    for partner, amount in sorted((fin.get("partner_capital_budget_per_year") or {}).items()):
        parts.append(f"{text(partner)}: {money(amount)} a year")
    return "; ".join(parts) if parts else "no limit"


def _build_years(result: ScenarioResult, default: int) -> str:
    said = f"{default} year{'s' if default != 1 else ''} from start to opening, unless a site says"
    sites = result.sites
    if "status" in sites.columns:
        candidates = sites[sites["status"] == "candidate"]
        own = []
        for site_id, row in candidates.iterrows():
            years = number(row.get("build_years"))
            years = default if years is None else int(years)
            own.append(f"{text(site_name(result, site_id))}: {years}")
        if own:
            said += " (" + "; ".join(own) + ")"
    return said


def _rule_words(item: dict[str, Any]) -> str:
    rule = item.get("rule", "share")
    if rule == "no_worse_than_today":
        return "no worse than today"
    if rule == "all":
        return "every demand point"
    if rule == "keep_today":
        return "every demand point covered today"
    fraction = number(item.get("share", item.get("target_share")))
    return f"at least {fraction:.0%} of people" if fraction is not None else "a share of people"


def _standards(scenario: dict[str, Any]) -> str:
    rows = []
    for kind, key in (("Response standard", "standards"), ("Access rule", "access")):
        for item in scenario.get(key) or []:
            rows.append(
                [
                    text(item.get("name")),
                    kind,
                    ", ".join(words(t) for t in item.get("service_types") or []),
                    f"{number(item.get('minutes')) or 0:g}",
                    _rule_words(item),
                ]
            )
    if not rows:
        return '<p class="muted">None: the plan is judged on cost alone.</p>'
    headers = [
        ("Name", ""),
        ("Kind", ""),
        ("Services", ""),
        ("Minutes", "num"),
        ("Rule", ""),
    ]
    return html_table(headers, rows, css="")


def programme(result: ScenarioResult) -> str:
    """The chart and the tables of money by financial year (all partners, then each)."""
    table = result.programme
    if table is None or table.empty:
        return section(
            "programme",
            "The programme, year by year",
            '<p class="muted">This result holds no programme by financial year '
            "(it was written before programmes were recorded); run the scenario again.</p>",
            new_page=True,
        )
    total = table[table["partner"] == "Total"].sort_values("financial_year")
    labels = [fy_label(int(y)) for y in total["financial_year"]]
    chart = programme_chart(
        labels,
        total["receipts"].astype(float).tolist(),
        total["capital_spend"].astype(float).tolist(),
        total["cumulative_net_cash"].astype(float).tolist(),
    )
    columns = [
        ("receipts", "Receipts"),
        ("capital_spend", "Capital spend"),
        ("backlog_spent", "Backlog spent"),
        ("backlog_avoided", "Backlog avoided"),
        ("lease_exit_costs", "Lease exit costs"),
        ("running_saving", "Running-cost saving"),
        ("rent_change", "Rent between partners"),
        ("net_cash", "Net cash"),
        ("cumulative_net_cash", "Cumulative net cash"),
    ]
    # Rents between partners cancel in the total; show them only if they do not.
    columns = [
        (k, h)
        for k, h in columns
        if k in total.columns and (k != "rent_change" or total[k].abs().max() > 0.5)
    ]
    rows = [
        [fy_label(int(row["financial_year"]))] + [money(row[k]) for k, _ in columns]
        for _, row in total.iterrows()
    ]
    footer = ["Total"] + [
        money(total[k].iloc[-1]) if k == "cumulative_net_cash" else money(total[k].sum())
        for k, _ in columns
    ]
    headers = [("Financial year", "year")] + [(h, "num") for _, h in columns]
    summary = html_table(headers, rows, css="figures", footer=footer)
    partners = _net_cash_by_partner(table)
    note = (
        '<p class="note">Nominal £ in the year they happen. Net cash compares each year with '
        "carrying on as today: receipts, maintenance backlog avoided and running-cost savings, "
        "less capital spend (new builds, fit-outs, moves) and lease exit costs. Backlog spent "
        "on sites kept is shown for information.</p>"
    )
    body = (
        f'<figure class="chart-figure">{chart}<figcaption>Receipts and capital spend in each '
        "financial year (bars) and cumulative net cash of all partners (line).</figcaption>"
        f"</figure><h3>All partners</h3>{summary}{note}"
        f"<h3>Net cash by partner</h3>{partners}"
    )
    return section("programme", "The programme, year by year", body, new_page=True)


def _net_cash_by_partner(table: pd.DataFrame) -> str:
    pivot = table.pivot_table(
        index="financial_year", columns="partner", values="net_cash", aggfunc="sum"
    ).sort_index()
    partners = [p for p in pivot.columns if p != "Total"] + (
        ["Total"] if "Total" in pivot.columns else []
    )
    rows = [
        [fy_label(int(year))] + [money(pivot.at[year, p]) for p in partners] for year in pivot.index
    ]
    footer = ["Cumulative"] + [money(pivot[p].sum()) for p in partners]
    headers = [("Financial year", "year")] + [(text(p), "num") for p in partners]
    return html_table(headers, rows, css="figures", footer=footer)


def decisions(result: ScenarioResult) -> tuple[str, dict[Any, int]]:
    """The dated site decisions and moves; returns the HTML and each changed site's map number."""
    sites = result.sites
    changed = sites[sites["decision"].isin(list(DECISION_WORDS))].copy()
    changed["_year"] = [
        number(y) if number(y) is not None else math.inf
        for y in changed.get("decision_year", pd.Series(math.nan, index=changed.index))
    ]
    changed["_name"] = [site_name(result, s) for s in changed.index]
    changed = changed.sort_values(["_year", "_name"])
    numbers = {site_id: i for i, site_id in enumerate(changed.index, start=1)}
    rows = []
    for site_id, row in changed.iterrows():
        decision = str(row["decision"])
        year = fy(row.get("decision_year"))
        if decision == "build":
            started = fy(row.get("build_start_year"))
            when = f"starts {started}, opens {year}" if started != "–" else f"opens {year}"
            cost = row.get("build_cost")
            figure = money(cost if number(cost) is not None else row.get("capex"))
            kind = "build cost"
        elif decision == "exit_lease":
            when = f"no rent from {year}" if year != "–" else "–"
            figure = money(row.get("exit_cost"))
            kind = "exit cost"
        else:
            when = f"sold in {year}" if year != "–" else "–"
            figure = money(row.get("receipt"))
            kind = "receipt"
        rows.append(
            [
                str(numbers[site_id]),
                year,
                text(row["_name"]),
                text(row.get("owner")),
                DECISION_WORDS[decision],
                escape(when),
                f"{figure} {kind}",
            ]
        )
    headers = [
        ("Map", "num"),
        ("Year", "year"),
        ("Site", ""),
        ("Owner", ""),
        ("Decision", ""),
        ("When", ""),
        ("£", "num"),
    ]
    parts = ["<h3>Sites</h3>"]
    if rows:
        parts.append(html_table(headers, rows, css="decisions"))
    else:
        parts.append('<p class="muted">No site is sold, given up or built.</p>')
    hosts = sites[sites["decision"] == "host"] if "decision" in sites.columns else sites.iloc[:0]
    if not hosts.empty:
        names = ", ".join(
            f"{text(site_name(result, s))} ({text(row.get('owner'))})"
            for s, row in hosts.iterrows()
        )
        parts.append(f'<p class="note">Kept and taking in other services: {names}.</p>')
    parts.append("<h3>Services moved</h3>")
    parts.append(_moves(result))
    body = "".join(parts)
    return section("decisions", "Dated decisions", body, new_page=True), numbers


def _moves(result: ScenarioResult) -> str:
    moves = result.moves
    if moves is None or moves.empty:
        return '<p class="muted">No service moves.</p>'
    moves = moves.copy()
    if "move_year" not in moves.columns:
        moves["move_year"] = math.nan
    moves["_order"] = [number(y) if number(y) is not None else math.inf for y in moves["move_year"]]
    moves = moves.sort_values(["_order", "service_id"])
    rows = [
        [
            fy(row.get("move_year")),
            f"{words(row.get('service_type'))} "
            f"<span class=muted>({text(row.get('service_id'))})</span>",
            text(row.get("org")),
            text(site_name(result, row.get("from_site"))),
            text(site_name(result, row.get("to_site"))),
            f"{number(row.get('distance_km')) or 0:.1f}",
            money(row.get("total_cost")),
        ]
        for _, row in moves.iterrows()
    ]
    headers = [
        ("Year", "year"),
        ("Service", ""),
        ("Partner", ""),
        ("From", ""),
        ("To", ""),
        ("km", "num"),
        ("Cost", "num"),
    ]
    return html_table(headers, rows, css="moves")


def partners(result: ScenarioResult) -> str:
    """Each partner's NPV gain or loss, marked in words, and any compensation."""
    ledger = result.ledger
    if ledger is None or ledger.empty or "npv_gain" not in ledger.columns:
        return section("partners", "Who gains and who loses", "<p>No ledger.</p>")
    ordered = ledger.sort_values("npv_gain", ascending=False)
    widest = max(float(ordered["npv_gain"].abs().max()), 1.0)
    rows = []
    for partner, row in ordered.iterrows():
        gain = float(row["npv_gain"])
        if gain > 0.5:
            mark, css = "▲ gains", "gain"
        elif gain < -0.5:
            mark, css = "▼ loses", "loss"
        else:
            mark, css = "● no change", "even"
        width = abs(gain) / widest * 50
        left = 50 if gain >= 0 else 50 - width
        bar = (
            f'<div class="bar-cell"><div class="bar-axis"></div>'
            f'<div class="bar-fill {css}" style="left:{left:.1f}%;width:{width:.1f}%"></div></div>'
        )
        rows.append(
            [
                f"<strong>{text(partner)}</strong>",
                f'<span class="{css}">{mark}</span>',
                f'<span class="{css}">{money(gain)}</span>',
                bar,
                money(row.get("receipts")),
                money(row.get("capex")),
                money(row.get("lease_exit_costs")),
                money(row.get("annual_saving")),
            ]
        )
    footer = ["Total", "", money(ledger["npv_gain"].sum()), ""] + [
        money(ledger[c].sum()) if c in ledger.columns else "–"
        for c in ("receipts", "capex", "lease_exit_costs", "annual_saving")
    ]
    headers = [
        ("Partner", ""),
        ("", ""),
        ("NPV gain", "num"),
        ("", ""),
        ("Receipts", "num"),
        ("Capital spend", "num"),
        ("Lease exits", "num"),
        ("Annual saving", "num"),
    ]
    table = html_table(headers, rows, css="partners", footer=footer)
    note = (
        '<p class="note">NPV gain: each partner\'s whole-life cost today less under the plan, '
        "rents between partners included; the gains add up to the plan's NPV saving. Capital "
        "spend here includes backlog spent on the partner's kept sites.</p>"
    )
    body = table + note + "<h3>Compensation between partners</h3>" + _compensation(result)
    return section("partners", "Who gains and who loses", body)


def _compensation(result: ScenarioResult) -> str:
    gains = result.ledger["npv_gain"].astype(float)
    losers = gains[gains < -0.5]
    comp = result.compensation
    on = get(result.scenario, "rules", "partners_no_worse_off")
    lead = "<p>This run required every partner to be no worse off.</p>" if on is True else ""
    if comp is None:
        return lead + '<p class="muted">This result records no compensation.</p>'
    if comp.empty:
        if losers.empty:
            return lead + "<p>No partner is worse off, so no compensation is needed.</p>"
        names = ", ".join(f"{text(p)} ({money(v)})" for p, v in losers.items())
        return lead + (
            f"<p>Worse off: {names}. The plan's gains do not cover these losses, so no "
            "transfer between partners can leave every partner no worse off.</p>"
        )
    grouped = comp.groupby(["payer", "payee"], sort=True)

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    rows = []
    for (payer, payee), part in grouped:
        amounts = part["amount"].astype(float)
        first, last = int(part["financial_year"].min()), int(part["financial_year"].max())
        low, high = amounts.min(), amounts.max()
        yearly = money(low) if abs(high - low) < 0.5 else f"{money(low)} to {money(high)}"
        rows.append(
            [
                text(payer),
                text(payee),
                yearly,
                f"{fy_label(first)} to {fy_label(last)} ({plural(len(part), 'year')})",
                money(amounts.sum()),
            ]
        )
    headers = [
        ("Pays", ""),
        ("To", ""),
        ("A year", "num"),
        ("Years", "year"),
        ("In all (nominal)", "num"),
    ]
    names = ", ".join(f"{text(p)} loses {money(-v)}" for p, v in losers.items())
    intro = (
        f"<p>Under this plan {names} over the horizon. These yearly transfers, paid over the "
        "planning window by the partners that gain in proportion to their gains, have a "
        "present value equal to each loss: every partner ends no worse off and the plan's "
        "total saving is unchanged.</p>"
    )
    return lead + intro + html_table(headers, rows, css="compensation")


def coverage(result: ScenarioResult) -> str:
    """Share of people covered before, after and at the lowest, per standard and rule."""
    coverage = result.coverage
    if coverage is None or coverage.empty:
        return section(
            "coverage", "Cover before and after", '<p class="muted">No standards were set.</p>'
        )
    scenario = result.scenario or {}
    rules = {
        item.get("name"): (kind, item)
        for kind, key in (("Response standard", "standards"), ("Access rule", "access"))
        for item in scenario.get(key) or []
    }
    rows = []
    for _, row in coverage.iterrows():
        name = row.get("name")
        kind, item = rules.get(name, (words(row.get("kind", "")).capitalize(), dict(row)))
        before, after = number(row.get("share_before")), number(row.get("share_after"))
        change = "–"
        if before is not None and after is not None:
            points = (after - before) * 100
            if points > 0.05:
                change = f'<span class="gain">▲ +{points:.1f} pts</span>'
            elif points < -0.05:
                change = f'<span class="loss">▼ {points:.1f} pts</span>'
            else:
                change = '<span class="even">● same</span>'
        met = row.get("met")
        met_text = (
            "–" if met is None or pd.isna(met) else ("yes" if bool(met) else "<strong>NO</strong>")
        )
        rows.append(
            [
                text(name),
                kind,
                f"{number(row.get('minutes')) or 0:g}",
                _rule_words(item),
                count(row.get("weight_total")),
                share(before),
                share(after),
                share(row.get("share_lowest")),
                change,
                met_text,
            ]
        )
    headers = [
        ("Requirement", ""),
        ("Kind", ""),
        ("Minutes", "num"),
        ("Rule", ""),
        ("People", "num"),
        ("Before", "num"),
        ("After", "num"),
        ("Lowest in any year", "num"),
        ("Change", ""),
        ("Met", ""),
    ]
    note = (
        '<p class="note">Share of people (demand weight) within the minutes of a site '
        "housing the service, today and once the programme is done; the lowest share in any "
        "year of the programme shows whether cover dips while buildings change hands.</p>"
    )
    return section("coverage", "Cover before and after", html_table(headers, rows, css="") + note)


def map_section(result: ScenarioResult, numbers: dict[Any, int]) -> str:
    """The static map and its key (``numbers``: site id -> number in the decisions table)."""
    sites = result.sites
    if sites is None or sites.empty:
        return section("map", "Map", '<p class="muted">No sites.</p>', new_page=True)
    points = sites.geometry.representative_point()
    drawn = [
        MapSite(
            float(points[site_id].x),
            float(points[site_id].y),
            str(row.get("decision")),
            site_name(result, site_id),
            numbers.get(site_id),
        )
        for site_id, row in sites.iterrows()
        if points[site_id] is not None and not points[site_id].is_empty
    ]
    moves = []
    if result.moves is not None and not result.moves.empty:
        grouped = result.moves.groupby(["from_site", "to_site"], sort=True)
        for (start, end), part in grouped:
            if start not in points.index or end not in points.index:
                continue
            services = ", ".join(str(s) for s in part["service_id"])
            label = f"{site_name(result, start)} to {site_name(result, end)}: {services}"
            a, b = points[start], points[end]
            moves.append(MapMove(float(a.x), float(a.y), float(b.x), float(b.y), label))
    demand = []
    if result.demand is not None and not result.demand.empty:
        where = result.demand.geometry.representative_point()
        weights = (
            result.demand["weight"]
            if "weight" in result.demand.columns
            else pd.Series(1.0, index=where.index)
        )
        demand = [
            (float(p.x), float(p.y), float(w))
            for p, w in zip(where, weights.fillna(0.0), strict=True)
            if p is not None and not p.is_empty
        ]
    svg = site_map(drawn, moves, demand)
    key = "".join(
        f"<li><span class=num-badge>{n}</span> {text(site_name(result, s))}: "
        f"{DECISION_WORDS.get(str(sites.at[s, 'decision']), '')}</li>"
        for s, n in sorted(numbers.items(), key=lambda item: item[1])
    )
    key_html = f'<ol class="map-key">{key}</ol>' if key else ""
    caption = (
        "<figcaption>Every site by its decision; arrows run from a service's old home to its "
        "new one. Numbers are the sites in the table of dated decisions. British National "
        "Grid, grid north up; no background map.</figcaption>"
    )
    body = f'<figure class="map-figure">{svg}{caption}</figure>{key_html}'
    return section("map", "Map", body, new_page=True)


def solver(result: ScenarioResult) -> str:
    """What the solver proved: status in words, bound, gap and the verification line."""
    solve = result.solve or {}
    status = str(solve.get("status", "not recorded"))
    gap = number(solve.get("gap"))
    items = [
        ("Status", f"<strong>{text(status)}</strong>: {_STATUS_WORDS.get(status, '')}"),
        ("Solver", text(_SOLVER_NAMES.get(solve.get("solver"), solve.get("solver", "–")))),
        ("The solver's own words", text(solve.get("solver_status", "–"))),
        ("Whole-life cost of the plan (objective)", money(solve.get("objective"))),
        ("Best bound (no plan costs less than)", money(solve.get("best_bound"))),
        ("Optimality gap", "–" if gap is None else f"{gap:.3%}"),
        ("Verification", text(solve.get("verification", "not recorded"))),
    ]
    if solve.get("local_search"):
        items.append(("Neighbourhood search", text(solve["local_search"])))
    for key, label in (("build_seconds", "Model build time"), ("solve_seconds", "Solve time")):
        seconds = number(solve.get(key))
        if seconds is not None:
            items.append((label, f"{seconds:.2f} s"))
    if solve.get("travel_method"):
        items.append(("Travel times", words(solve["travel_method"])))
    note = (
        "<p class=\"note\">A solver's word is never taken for a figure: the plan's cost and "
        "every rule are recomputed from the plan itself before it is reported. The gap is "
        "(cost − bound) / cost.</p>"
    )
    return section("solver", "What the solver proved", definitions(items) + note)
