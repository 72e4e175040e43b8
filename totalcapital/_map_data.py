"""What a map shows, as escaped text and plain numbers: the JSON a map page embeds.

:func:`map_data` turns a scenario result into one map's data (titles, the summary panel,
sites with their popups, services, moves, standards with cover and areas, demand points,
the years of a dated plan); :func:`differences` lists what two results decide
differently. Every piece of text from an estate or a scenario is HTML-escaped here, and
no internal id is put where a name exists: the page's script only arranges what it gets.
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _map_symbols as symbols
from .scenario import plain_label

if TYPE_CHECKING:
    from totalcapital.results import ScenarioResult

logger = logging.getLogger(__name__)

__all__ = ["bounds", "differences", "map_data", "share_partner_colours"]

DECISION_LABELS = {key: style["label"] for key, style in symbols.DECISIONS.items()}
_STATUSES = tuple(symbols.TODAY)
_GONE = {"dispose", "exit_lease", "not_built"}

# --------------------------------------------------------------------------- text


def _blank(value: Any) -> bool:
    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and not value.strip()


def _text(value: Any) -> str:
    """Escaped display text; blanks and NaN give "" (the page leaves such rows out)."""
    return "" if _blank(value) else html.escape(str(value))


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _money(value: Any, *, blank_zero: bool = False) -> str:
    """Pounds with thousands separators, e.g. ``£1,250,000`` or ``−£3,400``."""
    number = _number(value)
    if number is None or (blank_zero and abs(number) < 0.5):
        return ""
    sign = "−" if number < 0 else ""
    return f"{sign}£{abs(number):,.0f}"


def _money_short(value: Any) -> str:
    """Pounds for a headline: ``£14.6m``, ``£763k``, ``−£158k``, ``£0``."""
    number = _number(value)
    if number is None:
        return "–"
    sign = "−" if number < 0 else ""
    size = abs(number)
    if size >= 999_500:
        return f"{sign}£{size / 1e6:,.1f}m"
    if size >= 1_000:
        return f"{sign}£{size / 1e3:,.0f}k"
    return f"{sign}£{size:,.0f}"


def _area(value: Any) -> str:
    number = _number(value)
    return "" if number is None else f"{number:,.0f} m²"


def _financial_year(year: Any) -> str:
    """2028 -> "2028-29", the financial year starting in April 2028."""
    number = _number(year)
    if number is None:
        return ""
    start = int(number)
    return f"{start}-{(start + 1) % 100:02d}"


# --------------------------------------------------------------------------- labels


def _requirements(result: ScenarioResult) -> list[dict[str, Any]]:
    """Each standard and access rule in the coverage table, with its plain label."""
    scenario = result.scenario or {}
    declared = {
        str(item.get("name")): item
        for key in ("standards", "access")
        for item in scenario.get(key) or []
        if isinstance(item, dict)
    }
    coverage = result.coverage
    if coverage is None or coverage.empty or "name" not in coverage:
        return []
    requirements = []
    for _, row in coverage.iterrows():
        name = str(row["name"])
        item = declared.get(name, {})
        label = str(item.get("label") or "").strip() or plain_label(name)
        types = item.get("service_types")
        if not isinstance(types, list):
            types = [t.strip() for t in str(row.get("service_types", "")).split(",") if t.strip()]
        requirements.append(
            {
                "name": name,
                "label": label,
                "service_types": [str(t) for t in types],
                "minutes": _number(row.get("minutes")) or _number(item.get("minutes")),
                "kind": str(row.get("kind", "")),
            }
        )
    return requirements


def _service_labeller(result: ScenarioResult):
    labels = (result.scenario or {}).get("service_labels") or {}
    return lambda service_type: symbols.service_label(str(service_type), labels)


def _weight_unit(result: ScenarioResult) -> str:
    column = ((result.scenario or {}).get("demand") or {}).get("weight_column") or "population"
    return "people" if column == "population" else plain_label(column).lower()


# --------------------------------------------------------------------------- geometry


def _points(frame: gpd.GeoDataFrame) -> list[list[float]]:
    """[lat, lon] of one point per row (polygons give a point inside themselves)."""
    if frame.empty:
        return []
    points = frame.geometry.representative_point().to_crs("EPSG:4326")
    return np.round(np.column_stack([points.y, points.x]), 6).tolist()


def bounds(results: Iterable[ScenarioResult]) -> list[list[float]] | None:
    frames = []
    for result in results:
        frames.append(result.sites.geometry)
        if result.demand is not None and not result.demand.empty:
            frames.append(result.demand.geometry)
    frames = [f.to_crs("EPSG:4326") for f in frames if len(f)]
    if not frames:
        return None
    west, south, east, north = pd.concat(frames).total_bounds
    return [[float(south), float(west)], [float(north), float(east)]]


def _geojson(shape: Any) -> dict[str, Any]:
    return shapely.geometry.mapping(shape)


# --------------------------------------------------------------------------- payload


def _years(result: ScenarioResult) -> list[int] | None:
    """Financial years of a dated plan (its decisions and moves), or None when timeless."""
    found = []
    if "decision_year" in result.sites:
        found.append(pd.to_numeric(result.sites["decision_year"], errors="coerce"))
    services = result.services
    if services is not None and "move_year" in services:
        found.append(pd.to_numeric(services["move_year"], errors="coerce"))
    years = pd.concat(found).dropna() if found else pd.Series(dtype=float)
    if years.empty:
        return None
    return list(range(int(years.min()), int(years.max()) + 1))


def _year_or_none(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _service_types(result: ScenarioResult) -> list[str]:
    services = result.services
    if services is None or services.empty or "service_type" not in services:
        return []
    return sorted(services["service_type"].astype(str).unique())


def _services(result: ScenarioResult, index: dict[str, int], label_of) -> dict[str, Any]:
    """Each service's type, partner, site today and after, floor space and move year."""
    services = result.services
    empty = {"type": [], "org": [], "from": [], "to": [], "space": [], "year": []}
    if services is None or services.empty or "current_site" not in services:
        return {"types": [], "orgs": [], **empty}
    services = services[services["current_site"].astype(str).isin(index)]
    types = _service_types(result)
    orgs = sorted(services["org"].astype(str).unique()) if "org" in services else [""]
    new_site = services["new_site"] if "new_site" in services else services["current_site"]
    new_site = new_site.where(new_site.astype(str).isin(index), services["current_site"])
    years = services["move_year"] if "move_year" in services else pd.Series(np.nan, services.index)
    type_labels = [label_of(t) for t in types]
    return {
        "types": [
            {
                "label": html.escape(label),
                "glyph": symbols.GLYPHS.get(key),
                "initials": html.escape(symbols.initials(label)),
            }
            for key, label in zip(types, type_labels, strict=True)
        ],
        "orgs": [html.escape(o) for o in orgs],
        "type": [types.index(t) for t in services["service_type"].astype(str)],
        "org": [orgs.index(o) for o in services["org"].astype(str)] if "org" in services else [],
        "from": [index[s] for s in services["current_site"].astype(str)],
        "to": [index[s] for s in new_site.astype(str)],
        "space": [
            _number(v) or 0.0 for v in services.get("space_m2", pd.Series(0.0, services.index))
        ],
        "year": [
            _year_or_none(y) if str(a) != str(b) else None
            for y, a, b in zip(years, services["current_site"], new_site, strict=True)
        ],
    }


def _service_lines(result: ScenarioResult, names: pd.Series, label_of) -> tuple[dict, dict]:
    """Per site, the escaped lines "Library (NYCC), moves to …" for today and after the plan."""
    today: dict[str, list[str]] = {}
    after: dict[str, list[str]] = {}
    services = result.services
    if services is None or services.empty or "current_site" not in services:
        return today, after
    for _, row in services.iterrows():
        here, there = str(row["current_site"]), str(row.get("new_site", row["current_site"]))
        what = f"{html.escape(label_of(row['service_type']))} ({_text(row.get('org'))})"
        year = _financial_year(row.get("move_year"))
        when = f" in {year}" if year else ""
        if there != here and there in names.index and here in names.index:
            today.setdefault(here, []).append(f"{what}, moves to {_site_name(names, there)}{when}")
            after.setdefault(there, []).append(
                f"{what}, moves in from {_site_name(names, here)}{when}"
            )
        else:
            today.setdefault(here, []).append(what)
            after.setdefault(here, []).append(what)
    return today, after


def _site_name(names: pd.Series, site_id: str) -> str:
    name = names.get(site_id)
    return _text(name) or html.escape(str(site_id))


_SITE_ROWS = (
    "Plan",
    "Partner",
    "Today",
    "Tenure",
    "Services today",
    "Services after the plan",
    "Floor space",
    "Running cost",
    "Backlog maintenance",
    "Market value",
    "Capital receipt",
    "Lease exit cost",
    "Capital spend",
    "Covenant",
    "Listed building",
)


def _site_popups(result: ScenarioResult, label_of) -> list[list[str]]:
    """Per site, its name and the values of :data:`_SITE_ROWS` ("" leaves a row out)."""
    sites = result.sites
    names = sites["name"] if "name" in sites else pd.Series("", sites.index)
    today_lines, after_lines = _service_lines(result, names, label_of)
    years = sites["decision_year"] if "decision_year" in sites else pd.Series(np.nan, sites.index)
    popups = []
    for site_id, row in sites.iterrows():
        site_id = str(site_id)
        decision = str(row.get("decision", ""))
        plan = html.escape(symbols.DECISIONS.get(decision, {}).get("label", plain_label(decision)))
        year = _financial_year(years.get(site_id))
        if year:
            plan += f", {year}"
        status = str(row.get("status", ""))
        tenure = _text(row.get("tenure"))
        lease_break = row.get("lease_break")
        if tenure and not _blank(lease_break):
            try:
                tenure += f", break {pd.Timestamp(lease_break):%-d %b %Y}"
            except (TypeError, ValueError):
                tenure += f", break {_text(lease_break)}"
        space = _area(row.get("gia_m2"))
        used, free = _area(row.get("space_used_m2")), _area(row.get("space_free_m2"))
        if space and decision not in _GONE and used:
            space += f" ({used} used after the plan, {free or '0 m²'} free)"
        running = _money(row.get("running_cost"))
        if running:
            running += " a year today"
            after = _money(row.get("running_cost_after"))
            if after and after != _money(row.get("running_cost")):
                running += f", {after} after"
        listed = row.get("listed")
        popups.append(
            [
                _site_name(names, site_id),
                plan,
                _text(row.get("owner")),
                html.escape(symbols.TODAY.get(status, {}).get("label", plain_label(status))),
                tenure,
                "<br>".join(today_lines.get(site_id, [])),
                "<br>".join(after_lines.get(site_id, [])) if decision not in _GONE else "",
                space,
                running,
                _money(row.get("backlog_cost"), blank_zero=True),
                _money(row.get("market_value"), blank_zero=True) if status != "candidate" else "",
                _money(row.get("receipt"), blank_zero=True),
                _money(row.get("exit_cost"), blank_zero=True),
                _money(row.get("capex"), blank_zero=True),
                _text(row.get("covenant")),
                "yes" if not _blank(listed) and bool(listed) else "",
            ]
        )
    return popups


def _sites(result: ScenarioResult, label_of) -> dict[str, Any]:
    sites = result.sites
    owners = sites["owner"].astype(str) if "owner" in sites else pd.Series("", sites.index)
    owner_keys = sorted(owners.unique())
    colours, others = symbols.partner_colours(owners.value_counts().to_dict())
    decisions = (
        sites["decision"].astype(str) if "decision" in sites else pd.Series("keep", sites.index)
    )
    statuses = (
        sites["status"].astype(str) if "status" in sites else pd.Series("operational", sites.index)
    )
    years = sites["decision_year"] if "decision_year" in sites else pd.Series(np.nan, sites.index)
    extra = sorted(set(decisions) - set(symbols.DECISIONS))
    decision_keys = [*symbols.DECISIONS, *extra]
    return {
        "at": _points(sites),
        "popup": _site_popups(result, label_of),
        "owner": [owner_keys.index(o) for o in owners],
        "status": [_STATUSES.index(s) if s in _STATUSES else 0 for s in statuses],
        "decision": [decision_keys.index(d) for d in decisions],
        "year": [_year_or_none(y) for y in years],
        "decisionKeys": decision_keys,
        "extraDecisions": {d: html.escape(plain_label(d)) for d in extra},
        "owners": [html.escape(o) for o in owner_keys],
        "ownerColours": [colours[o] for o in owner_keys],
        "otherOwners": others,
        "rows": list(_SITE_ROWS),
    }


_MOVE_ROWS = ("Service", "From", "To", "When", "Distance", "Fit-out", "Moving", "Total cost")


def _moves(result: ScenarioResult, index: dict[str, int], label_of) -> list[dict[str, Any]]:
    moves = result.moves
    if moves is None or moves.empty:
        return []
    names = result.sites["name"] if "name" in result.sites else pd.Series("", result.sites.index)
    years: dict[str, Any] = {}
    if result.services is not None and "move_year" in result.services:
        years = result.services["move_year"].to_dict()
    items = []
    for _, move in moves.iterrows():
        start, end = str(move.get("from_site")), str(move.get("to_site"))
        if start not in index or end not in index:
            logger.warning(
                "Move of %s refers to a site not in the result; not drawn", move.get("service_id")
            )
            continue
        what = html.escape(label_of(move.get("service_type", "")))
        org = _text(move.get("org"))
        year = _year_or_none(years.get(move.get("service_id")))
        distance = _number(move.get("distance_km"))
        items.append(
            {
                "from": index[start],
                "to": index[end],
                "year": year,
                "title": f"{what} moves",
                "popup": [
                    f"{what} ({org})" if org else what,
                    _site_name(names, start),
                    _site_name(names, end),
                    _financial_year(year),
                    "" if distance is None else f"{distance:,.1f} km",
                    _money(move.get("fit_out_cost"), blank_zero=True),
                    _money(move.get("moving_cost"), blank_zero=True),
                    _money(move.get("total_cost")),
                ],
            }
        )
    return items


def _cover_flags(demand: gpd.GeoDataFrame, column: str) -> str:
    """One character per demand point: "1" reached, "0" not (compact in the page)."""
    if column not in demand:
        return ""
    flags = demand[column].astype("boolean").fillna(False).astype(bool)
    return "".join("1" if flag else "0" for flag in flags)


def _requirement_layers(
    result: ScenarioResult, index: dict[str, int], types: list[str]
) -> list[dict[str, Any]]:
    """Per standard: cover flags before and after, its service types, areas reached."""
    demand, areas = result.demand, result.areas
    layers = []
    for requirement in _requirements(result):
        name = requirement["name"]
        layer = {
            "label": html.escape(requirement["label"]),
            "minutes": requirement["minutes"],
            "types": [types.index(t) for t in requirement["service_types"] if t in types],
            "before": "",
            "after": "",
            "areas": [],
            "todayAreas": False,
        }
        if demand is not None and not demand.empty:
            layer["before"] = _cover_flags(demand, f"{name}_before")
            layer["after"] = _cover_flags(demand, f"{name}_after")
        if areas is not None and not areas.empty and "requirement" in areas:
            chosen = areas[areas["requirement"].astype(str) == name]
            chosen = chosen[chosen["site_id"].astype(str).isin(index)]
            # About a metre of precision is plenty on screen and keeps the page small.
            shapes = shapely.set_precision(
                chosen.geometry.to_crs("EPSG:4326").simplify(0.0002), 1e-5
            )
            today = chosen["today"] if "today" in chosen else pd.Series(False, chosen.index)
            plan = chosen["plan"] if "plan" in chosen else pd.Series(True, chosen.index)
            layer["todayAreas"] = "today" in chosen
            layer["areas"] = [
                {
                    "site": index[str(site_id)],
                    "today": bool(t),
                    "plan": bool(p),
                    "shape": _geojson(shape),
                }
                for site_id, t, p, shape in zip(chosen["site_id"], today, plan, shapes, strict=True)
                if shape is not None and not shape.is_empty
            ]
        layers.append(layer)
    return layers


def _demand(result: ScenarioResult) -> dict[str, Any]:
    demand = result.demand
    if demand is None or demand.empty:
        return {"at": [], "name": [], "weight": []}
    if "name" in demand:
        names = [
            _text(n) or html.escape(str(i))
            for i, n in zip(demand.index, demand["name"], strict=True)
        ]
    else:
        names = [html.escape(str(i)) for i in demand.index]
    weights = demand["weight"] if "weight" in demand else pd.Series(np.nan, demand.index)
    return {
        "at": _points(demand),
        "name": names,
        "weight": [None if _number(w) is None else round(float(w)) for w in weights],
        "unit": html.escape(_weight_unit(result)),
    }


def _partners(result: ScenarioResult) -> tuple[list[str], list[str]]:
    """Partners better and worse off over the horizon (NPV), largest first, as text."""
    ledger = result.ledger
    if ledger is None or ledger.empty or "npv_gain" not in ledger:
        return [], []
    gains = pd.to_numeric(ledger["npv_gain"], errors="coerce").dropna()
    gains = gains[gains.abs() >= 0.5]
    better = [
        f"{_text(p)} {_money_short(v)}"
        for p, v in gains[gains > 0].sort_values(ascending=False).items()
    ]
    worse = [f"{_text(p)} {_money_short(v)}" for p, v in gains[gains < 0].sort_values().items()]
    return better, worse


def _solver_text(solve: dict[str, Any]) -> str:
    status = str(solve.get("status", ""))
    gap = _number(solve.get("gap"))
    gap_text = "" if gap is None else f"gap {gap * 100:.2f}%"
    if status == "optimal":
        return f"Best plan, proven ({gap_text})" if gap_text else "Best plan, proven"
    if status == "time_limit":
        return (
            f"Stopped at the time limit; at most {gap * 100:.1f}% from the best"
            if gap is not None
            else "Stopped at the time limit"
        )
    if status == "unproven":
        return "A plan, not proven best (no bound)"
    return html.escape(plain_label(status)) if status else "–"


def _summary(result: ScenarioResult) -> list[list[str]]:
    """The rows of the panel a board member reads first."""
    totals = result.totals or {}
    finance = (result.scenario or {}).get("finance") or {}
    horizon, rate = finance.get("horizon_years"), _number(finance.get("discount_rate"))
    npv_label = "NPV saving"
    if horizon and rate is not None:
        npv_label += f" ({horizon} years at {rate * 100:g}%)"
    better, worse = _partners(result)
    rows = [
        [npv_label, _money_short(totals.get("npv_saving")), "tc-npv"],
        ["Capital receipts", _money_short(totals.get("receipts")), "tc-receipts"],
        ["Capital spend", _money_short(totals.get("capex")), "tc-capex"],
        [
            "Annual running-cost saving",
            _money_short(totals.get("annual_saving")) + " a year",
            "tc-annual",
        ],
        ["Partners better off", ", ".join(better) or "none", "tc-gain"],
        ["Partners worse off", ", ".join(worse) or "none", "tc-loss"],
        ["Solver", _solver_text(result.solve or {}), "tc-solver"],
    ]
    return [[html.escape(label), value, cls] for label, value, cls in rows]


def map_data(result: ScenarioResult) -> dict[str, Any]:
    """Everything one map shows, as escaped text and plain numbers (the page's JSON).

    Parameters
    ----------
    result : ScenarioResult

    Returns
    -------
    dict
        ``title``, ``subtitle``, ``summary`` rows, ``sites`` (positions, popups, owner,
        status today, decision, decision year), ``services`` (type, partner, site today
        and after, move year), ``moves``, ``requirements`` (cover flags before and after,
        areas reached today and after), ``demand``, ``years`` (None when timeless) and
        ``bounds``. Site, service and demand ids are not in it: the page shows names.
    """
    label_of = _service_labeller(result)
    index = {str(site_id): i for i, site_id in enumerate(result.sites.index)}
    description = str((result.scenario or {}).get("description") or "").strip()
    travel = str((result.solve or {}).get("travel_method", ""))
    subtitle = f"Scenario “{html.escape(str(result.name))}”"
    if travel in ("network", "straight_line"):
        subtitle += " · travel times " + (
            "on the road network" if travel == "network" else "in straight lines"
        )
    return {
        "name": html.escape(str(result.name)),
        "title": html.escape(description or str(result.name)),
        "subtitle": subtitle,
        "summary": _summary(result),
        "sites": _sites(result, label_of),
        "services": _services(result, index, label_of),
        "moves": _moves(result, index, label_of),
        "moveRows": list(_MOVE_ROWS),
        "requirements": _requirement_layers(result, index, _service_types(result)),
        "demand": _demand(result),
        "years": _years(result),
        "bounds": bounds([result]),
    }


def differences(a: ScenarioResult, b: ScenarioResult) -> dict[str, Any]:
    """Sites decided differently (positions in each result) and the totals side by side."""
    index_a = {str(s): i for i, s in enumerate(a.sites.index)}
    index_b = {str(s): i for i, s in enumerate(b.sites.index)}
    decision_a = a.sites["decision"].astype(str) if "decision" in a.sites else pd.Series(dtype=str)
    decision_b = b.sites["decision"].astype(str) if "decision" in b.sites else pd.Series(dtype=str)
    names = a.sites["name"] if "name" in a.sites else pd.Series("", a.sites.index)
    owners = a.sites["owner"] if "owner" in a.sites else pd.Series("", a.sites.index)
    year_a = a.sites["decision_year"] if "decision_year" in a.sites else None
    year_b = b.sites["decision_year"] if "decision_year" in b.sites else None

    def described(decision: str, year: Any) -> str:
        text = html.escape(DECISION_LABELS.get(decision, plain_label(decision)))
        when = _financial_year(year)
        return f"{text}, {when}" if when else text

    sites = []
    for site_id in index_a:
        if site_id not in index_b:
            continue
        da, db = decision_a.get(site_id, ""), decision_b.get(site_id, "")
        ya = None if year_a is None else year_a.get(site_id)
        yb = None if year_b is None else year_b.get(site_id)
        if da == db and _year_or_none(ya) == _year_or_none(yb):
            continue
        sites.append(
            {
                "a": index_a[site_id],
                "b": index_b[site_id],
                "name": _site_name(names, site_id),
                "owner": _text(owners.get(site_id)),
                "was": described(da, ya),
                "now": described(db, yb),
            }
        )
    only_a = [_site_name(names, s) for s in index_a if s not in index_b]
    names_b = b.sites["name"] if "name" in b.sites else pd.Series("", b.sites.index)
    only_b = [_site_name(names_b, s) for s in index_b if s not in index_a]
    return {"sites": sites, "onlyA": only_a, "onlyB": only_b, "totals": _total_rows(a, b)}


_TOTAL_ROWS = (
    ("npv_saving", "NPV saving", "money"),
    ("receipts", "Capital receipts", "money"),
    ("capex", "Capital spend", "money"),
    ("annual_saving", "Annual running-cost saving", "money"),
    ("lease_exit_costs", "Lease exit costs", "money"),
    ("sites_disposed", "Sites sold", "count"),
    ("leases_exited", "Leases given up", "count"),
    ("sites_built", "Sites built", "count"),
    ("services_moved", "Services moved", "count"),
)


def _total_rows(a: ScenarioResult, b: ScenarioResult) -> list[list[str]]:
    def shown(value: float | None, kind: str, signed: bool = False) -> str:
        if value is None:
            return "–"
        if kind == "money":
            text = _money_short(value)
            return f"+{text}" if signed and value > 0 else text
        if kind == "share":
            text = f"{value * 100:.1f}%"
            return f"+{text}" if signed and value > 0 else text.replace("-", "−")
        text = f"{value:,.0f}"
        return f"+{text}" if signed and value > 0 else text.replace("-", "−")

    rows = []
    ta, tb = a.totals or {}, b.totals or {}
    for key, label, kind in _TOTAL_ROWS:
        va, vb = _number(ta.get(key)), _number(tb.get(key))
        diff = None if va is None or vb is None else vb - va
        rows.append([html.escape(label), shown(va, kind), shown(vb, kind), shown(diff, kind, True)])
    for position, label in ((0, "Partners better off"), (1, "Partners worse off")):
        lists = [", ".join(_partners(result)[position]) or "none" for result in (a, b)]
        rows.append([html.escape(label), lists[0], lists[1], ""])
    cover_a, cover_b = _shares(a), _shares(b)
    labels = {r["name"]: r["label"] for r in [*_requirements(b), *_requirements(a)]}
    for name in dict.fromkeys([*cover_a, *cover_b]):
        va, vb = cover_a.get(name), cover_b.get(name)
        diff = None if va is None or vb is None else vb - va
        label = f"Reached after the plan: {labels.get(name, plain_label(name))}"
        rows.append(
            [html.escape(label), shown(va, "share"), shown(vb, "share"), shown(diff, "share", True)]
        )
    return rows


def _shares(result: ScenarioResult) -> dict[str, float]:
    coverage = result.coverage
    if coverage is None or coverage.empty or "share_after" not in coverage:
        return {}
    return {
        str(n): float(s)
        for n, s in zip(coverage["name"], coverage["share_after"], strict=True)
        if _number(s) is not None
    }


def share_partner_colours(data: list[dict[str, Any]]) -> None:
    counts: dict[str, int] = {}
    for pane in data:
        sites = pane["sites"]
        for owner_index in sites["owner"]:
            owner = sites["owners"][owner_index]
            counts[owner] = counts.get(owner, 0) + 1
    colours, others = symbols.partner_colours(counts)
    for pane in data:
        pane["sites"]["ownerColours"] = [colours[o] for o in pane["sites"]["owners"]]
        pane["sites"]["otherOwners"] = others
