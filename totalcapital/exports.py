"""Reports of a scenario result for finance officers and boards.

- :func:`write_xlsx`: one workbook per run (summary, disposals, moves, ledger,
  coverage, sites) with readable headers, £ formats and sensible widths;
- :func:`comparison_table`: two results side by side, for ``totalcapital compare``;
- :func:`decision_record` / :func:`write_decision_record`: a JSON record of how a
  plan was reached (inputs with hashes, the scenario, solver report, versions);
- :func:`summary_tables` / :func:`comparison_rich_table`: the same figures as
  Rich tables for the terminal.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import math
import platform
from collections.abc import Iterable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from rich.table import Table
from rich.text import Text

from ._cache import file_sha256
from ._text import FORMULA_TRIGGERS, printable, spreadsheet_text

if TYPE_CHECKING:
    from totalcapital.results import ScenarioResult

logger = logging.getLogger(__name__)

__all__ = [
    "RECORDED_PACKAGES",
    "TOTAL_LABELS",
    "comparison_rich_table",
    "comparison_table",
    "decision_record",
    "programme_tables",
    "summary_tables",
    "write_decision_record",
    "write_xlsx",
]

#: Readable label of each entry of ``ScenarioResult.totals``, in reading order.
TOTAL_LABELS = {
    "npv_cost_before": "Whole-life cost today (NPV, £)",
    "npv_cost_after": "Whole-life cost of the plan (NPV, £)",
    "npv_saving": "NPV saving (£)",
    "annual_saving": "Annual running-cost saving (£/yr)",
    "receipts": "Capital receipts (£)",
    "capital_spend": "Capital spend on builds and moves (£)",
    "backlog_spent": "Backlog spent on sites kept (£)",
    "backlog_avoided": "Backlog avoided by disposal (£)",
    "capex": "Capital spend, backlog included (£)",
    "lease_exit_costs": "Lease exit costs (£)",
    "sites_disposed": "Sites disposed",
    "leases_exited": "Leases exited",
    "sites_built": "Sites built",
    "services_moved": "Services moved",
    "first_year": "First financial year of change",
    "last_year": "Last financial year of change",
}
_COUNT_TOTALS = {"sites_disposed", "leases_exited", "sites_built", "services_moved"}
_YEAR_TOTALS = {"first_year", "last_year"}
#: Columns of the programme as the workbook and the terminal show them.
PROGRAMME_LABELS = {
    "receipts": "Receipts",
    "capital_spend": "Builds and moves",
    "backlog_spent": "Backlog spent",
    "backlog_avoided": "Backlog avoided",
    "lease_exit_costs": "Lease exits",
    "running_saving": "Running saving",
    "rent_change": "Rent change",
    "net_cash": "Net cash",
    "cumulative_net_cash": "Cumulative",
}

SOLVE_LABELS = {
    "solver": "Solver",
    "status": "Status",
    "solver_status": "Solver's own status",
    "objective": "Objective (NPV cost, £)",
    "best_bound": "Best bound (£)",
    "gap": "Optimality gap",
    "build_seconds": "Model build time (s)",
    "solve_seconds": "Solve time (s)",
    "travel_method": "Travel times",
    "local_search": "Neighbourhood search",
    "verification": "Verification",
}

#: Packages whose versions a decision record states.
RECORDED_PACKAGES = (
    "totalcapital",
    "pulp",
    "highspy",
    "geopandas",
    "shapely",
    "pyogrio",
    "pandas",
    "numpy",
    "scipy",
    "folium",
    "pydantic",
)

MONEY_FORMAT = '"£"#,##0;[Red]-"£"#,##0'
COUNT_FORMAT = "#,##0"
SHARE_FORMAT = "0.0%"

# Column name -> (header, number format); unknown columns get a tidied name.
_COLUMNS: dict[str, tuple[str, str | None]] = {
    "site_id": ("Site", None),
    "service_id": ("Service", None),
    "partner": ("Partner", None),
    "name": ("Name", None),
    "owner": ("Owner", None),
    "org": ("Organisation", None),
    "tenure": ("Tenure", None),
    "status": ("Status today", None),
    "solve_status": ("Solve", None),
    "solve_gap": ("Optimality gap", SHARE_FORMAT),
    "decision": ("Decision", None),
    "service_type": ("Service type", None),
    "current_site": ("Site today", None),
    "new_site": ("Site after", None),
    "from_site": ("From site", None),
    "to_site": ("To site", None),
    "moved": ("Moved", None),
    "gia_m2": ("Floor space GIA (m²)", COUNT_FORMAT),
    "space_m2": ("Floor space (m²)", COUNT_FORMAT),
    "space_used_m2": ("Floor space used (m²)", COUNT_FORMAT),
    "space_free_m2": ("Floor space free (m²)", COUNT_FORMAT),
    "running_cost": ("Running cost today (£/yr)", MONEY_FORMAT),
    "running_cost_after": ("Running cost after (£/yr)", MONEY_FORMAT),
    "running_cost_before": ("Running cost before (£/yr)", MONEY_FORMAT),
    "backlog_cost": ("Backlog maintenance (£)", MONEY_FORMAT),
    "market_value": ("Market value (£)", MONEY_FORMAT),
    "disposal_cost": ("Disposal cost (£)", MONEY_FORMAT),
    "lease_exit_cost": ("Lease exit cost (£)", MONEY_FORMAT),
    "build_cost": ("Build cost (£)", MONEY_FORMAT),
    "lease_break": ("Lease break", "yyyy-mm-dd"),
    "covenant": ("Covenant", None),
    "covenant_forbids_disposal": ("Covenant forbids disposal", None),
    "covenant_receipt_cap": ("Covenant receipt cap (£)", MONEY_FORMAT),
    "listed": ("Listed", None),
    "services_hosted": ("Services hosted", None),
    "orgs_hosted": ("Partners hosted", None),
    "receipt": ("Receipt (£)", MONEY_FORMAT),
    "receipts": ("Receipts (£)", MONEY_FORMAT),
    "exit_cost": ("Lease exit cost (£)", MONEY_FORMAT),
    "lease_exit_costs": ("Lease exit costs (£)", MONEY_FORMAT),
    "capex": ("Capital spend, backlog included (£)", MONEY_FORMAT),
    "distance_km": ("Distance (km)", "0.0"),
    "fit_out_cost": ("Fit-out cost (£)", MONEY_FORMAT),
    "moving_cost": ("Moving cost (£)", MONEY_FORMAT),
    "total_cost": ("Total cost (£)", MONEY_FORMAT),
    "sites_disposed": ("Sites disposed", COUNT_FORMAT),
    "leases_exited": ("Leases exited", COUNT_FORMAT),
    "annual_saving": ("Annual saving (£/yr)", MONEY_FORMAT),
    "rent_paid": ("Rent paid (£/yr)", MONEY_FORMAT),
    "rent_received": ("Rent received (£/yr)", MONEY_FORMAT),
    "npv_gain": ("NPV gain (£)", MONEY_FORMAT),
    "kind": ("Kind", None),
    "service_types": ("Service types", None),
    "minutes": ("Minutes", "0"),
    "rule": ("Rule", None),
    "target_share": ("Target share", SHARE_FORMAT),
    "weight_total": ("Demand weight", COUNT_FORMAT),
    "weight_covered_before": ("Weight covered before", COUNT_FORMAT),
    "weight_covered_after": ("Weight covered after", COUNT_FORMAT),
    "share_before": ("Share covered before", SHARE_FORMAT),
    "share_after": ("Share covered after", SHARE_FORMAT),
    "share_lowest": ("Lowest share in any year", SHARE_FORMAT),
    "met": ("Standard met", None),
    "decision_year": ("Financial year of decision", "0"),
    "build_start_year": ("Build starts (financial year)", "0"),
    "move_year": ("Financial year of move", "0"),
    "financial_year": ("Financial year (starting)", "0"),
    "year_label": ("Financial year", None),
    "capital_spend": ("Capital spend: builds and moves (£)", MONEY_FORMAT),
    "backlog_spent": ("Backlog spent (£)", MONEY_FORMAT),
    "backlog_avoided": ("Backlog avoided (£)", MONEY_FORMAT),
    "running_saving": ("Running-cost saving (£)", MONEY_FORMAT),
    "rent_change": ("Rent change (£)", MONEY_FORMAT),
    "net_cash": ("Net cash against today (£)", MONEY_FORMAT),
    "cumulative_net_cash": ("Cumulative net cash (£)", MONEY_FORMAT),
    "payer": ("Pays", None),
    "payee": ("Receives", None),
    "amount": ("Amount a year (£)", MONEY_FORMAT),
    "plan": ("Plan", None),
    "as_asked": ("As asked", None),
    "npv_saving": ("NPV saving (£)", MONEY_FORMAT),
    "partners_losing": ("Partners worse off", None),
    "npv_lost_by_losers": ("NPV lost by them (£)", MONEY_FORMAT),
    "transfers_per_year": ("Transfers to make them whole (£/yr)", MONEY_FORMAT),
    "sites_built": ("Sites built", COUNT_FORMAT),
    "easting": ("Easting", "0"),
    "northing": ("Northing", "0"),
}

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_BOLD = Font(bold=True)


# --------------------------------------------------------------------------- cell values


def _plain(value: Any) -> Any:
    """A value openpyxl and JSON can hold: Python scalars, None for blanks."""
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _put(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Set one cell: text is always text (never a formula, controls escaped), numbers numbers."""
    value = _plain(value)
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        value = spreadsheet_text(value)
        cell.value = value
        if value.startswith(FORMULA_TRIGGERS):
            # Stored as a string and marked so that editing the cell keeps it text (OWASP).
            cell.data_type = "s"
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def _header(column: str) -> str:
    if column in _COLUMNS:
        return _COLUMNS[column][0]
    return str(column).replace("_", " ").capitalize()


def _format(column: str) -> str | None:
    return _COLUMNS.get(column, ("", None))[1]


# --------------------------------------------------------------------------- XLSX


def _write_frame(sheet: Worksheet, frame: pd.DataFrame, start_row: int = 1) -> int:
    """Write a table with a styled header row; returns the next free row."""
    columns = [str(c) for c in frame.columns]
    for col, column in enumerate(columns, start=1):
        cell = _put(sheet, start_row, col, _header(column))
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    row = start_row
    for row, values in enumerate(frame.itertuples(index=False, name=None), start=start_row + 1):
        for col, (column, value) in enumerate(zip(columns, values, strict=True), start=1):
            cell = _put(sheet, row, col, _plain(value))
            if _format(column):
                cell.number_format = _format(column)
    return row + 1


def _fit_widths(sheet: Worksheet) -> None:
    """Columns as wide as their longest entry (money counted as formatted), within limits."""
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is None:
                continue
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                text = f"£{cell.value:,.0f}" if "£" in cell.number_format else f"{cell.value:,.2f}"
            else:
                text = str(cell.value)
            widths[cell.column] = max(widths.get(cell.column, 0), len(text))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), 60)


def _summary_sheet(sheet: Worksheet, result: ScenarioResult) -> None:
    _put(sheet, 1, 1, f"Scenario: {result.name}").font = Font(bold=True, size=14)
    description = (result.scenario or {}).get("description")
    if description:
        _put(sheet, 2, 1, str(description))
    row = 4
    for col, title in enumerate(("Item", "Value", "Field"), start=1):
        cell = _put(sheet, row, col, title)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    totals = result.totals or {}
    keys = list(TOTAL_LABELS) + [k for k in totals if k not in TOTAL_LABELS]
    for key in keys:
        if key not in totals:
            continue
        row += 1
        _put(sheet, row, 1, TOTAL_LABELS.get(key, _header(key)))
        cell = _put(sheet, row, 2, _plain(totals[key]))
        cell.number_format = (
            "0" if key in _YEAR_TOTALS else COUNT_FORMAT if key in _COUNT_TOTALS else MONEY_FORMAT
        )
        _put(sheet, row, 3, key)

    row += 2
    _put(sheet, row, 1, "Solver").font = _BOLD
    solve = result.solve or {}
    for key in list(SOLVE_LABELS) + [k for k in solve if k not in SOLVE_LABELS]:
        if key not in solve:
            continue
        row += 1
        _put(sheet, row, 1, SOLVE_LABELS.get(key, _header(key)))
        cell = _put(sheet, row, 2, _plain(solve[key]))
        if key in {"objective", "best_bound"}:
            cell.number_format = MONEY_FORMAT
        elif key == "gap":
            cell.number_format = "0.000%"
        elif key.endswith("_seconds"):
            cell.number_format = "0.00"
        _put(sheet, row, 3, key)


def _disposals_sheet(sheet: Worksheet, result: ScenarioResult) -> None:
    disposals = result.disposals.reset_index()
    if "decision" in disposals:
        labels = {"dispose": "Dispose", "exit_lease": "Exit lease"}
        disposals["decision"] = disposals["decision"].map(lambda d: labels.get(d, d))
    _put(sheet, 1, 1, "Sites disposed and leases exited").font = _BOLD
    row = _write_frame(sheet, disposals, start_row=2)

    row += 1
    _put(sheet, row, 1, "Disposals and receipts by partner").font = _BOLD
    wanted = ["sites_disposed", "leases_exited", "receipts", "lease_exit_costs"]
    ledger = result.ledger
    by_partner = ledger[[c for c in wanted if c in ledger.columns]].reset_index()
    next_row = _write_frame(sheet, by_partner, start_row=row + 1)
    _put(sheet, next_row, 1, "Total").font = _BOLD
    for col, column in enumerate(by_partner.columns, start=1):
        if column in wanted:
            cell = _put(sheet, next_row, col, _plain(by_partner[column].sum()))
            cell.number_format, cell.font = _format(column) or COUNT_FORMAT, _BOLD


def _sites_frame(result: ScenarioResult) -> pd.DataFrame:
    sites = result.sites
    points = sites.geometry.representative_point()
    frame = pd.DataFrame(sites.drop(columns=sites.geometry.name))
    frame["easting"] = points.x.round(0)
    frame["northing"] = points.y.round(0)
    return frame.reset_index()


def _programme_sheet(sheet: Worksheet, programme: pd.DataFrame) -> None:
    """The programme for all partners by year, a chart of it, then each partner's years."""
    _put(sheet, 1, 1, "The programme by financial year, all partners (nominal £)").font = _BOLD
    total = programme[programme["partner"] == "Total"].drop(columns=["partner"])
    columns = ["year_label", *PROGRAMME_LABELS]
    end = _write_frame(sheet, total[columns], start_row=2)
    if len(total):
        # Receipts and capital spend as bars, the cumulative net cash as a line, by year.
        bars = BarChart()
        bars.title = "Receipts, capital spend and cumulative net cash"
        bars.y_axis.title = "£"
        bars.x_axis.title = "Financial year"
        years = Reference(sheet, min_col=1, min_row=3, max_row=end - 1)
        for name in ("receipts", "capital_spend"):
            col = columns.index(name) + 1
            bars.add_data(
                Reference(sheet, min_col=col, min_row=2, max_row=end - 1), titles_from_data=True
            )
        bars.set_categories(years)
        line = LineChart()
        col = columns.index("cumulative_net_cash") + 1
        line.add_data(
            Reference(sheet, min_col=col, min_row=2, max_row=end - 1), titles_from_data=True
        )
        bars += line
        bars.width, bars.height = 24, 11
        sheet.add_chart(bars, f"A{end + 2}")
    row = end + 26
    _put(sheet, row, 1, "By partner").font = _BOLD
    partners = programme[programme["partner"] != "Total"]
    _write_frame(sheet, partners[["partner", *columns]], start_row=row + 1)


def _assumptions(result: ScenarioResult) -> list[tuple[str, Any]]:
    """What the plan assumed, in plain words, from the resolved scenario."""
    scenario = result.scenario or {}
    fin = scenario.get("finance") or {}
    prog = scenario.get("programme") or {}
    rules = scenario.get("rules") or {}
    travel = scenario.get("travel") or {}
    solver = scenario.get("solver") or {}
    dated = prog.get("enabled", True)
    rows: list[tuple[str, Any]] = [
        ("Scenario", scenario.get("name")),
        ("Question asked", scenario.get("description")),
        ("Overrides applied", ", ".join(scenario.get("applied_overrides") or []) or "none"),
        ("Plan starts", fin.get("start_date")),
        ("Appraisal horizon (years)", fin.get("horizon_years")),
        ("Discount rate", fin.get("discount_rate")),
        (
            "Planning",
            f"a programme over {prog.get('years')} financial years"
            if dated
            else "timeless: one decision at the start",
        ),
        ("Residual value of freeholds at the horizon's end", fin.get("residual_value")),
        ("Backlog spared on sites let go within (years)", fin.get("backlog_grace_years")),
        ("Years a new build takes (unless the site says)", prog.get("build_years")),
        ("Capital budget over the window (£)", fin.get("capital_budget")),
        ("Capital budget a year (£)", fin.get("capital_budget_per_year")),
        ("Capital budget a year, per partner (£)", fin.get("partner_capital_budget_per_year")),
        ("A capital budget counts", ", ".join(fin.get("budget_counts") or [])),
        ("Share of receipts recycled", fin.get("receipts_recycled_share")),
        ("Receipts recycled after (years)", fin.get("recycling_lag_years")),
        ("Disposals a year, at most", prog.get("max_disposals_per_year")),
        ("Disposals a year, per partner", prog.get("partner_max_disposals_per_year")),
        ("Moving cost per member of staff (£)", fin.get("moving_cost_per_staff")),
        ("Guests pay hosts this share of running cost", fin.get("host_rent_share")),
        ("Partners no worse off", rules.get("partners_no_worse_off")),
        ("Leases given up only at a break or their end", rules.get("lease_exit_at_break_only")),
        ("New builds allowed", rules.get("allow_new_builds")),
        ("Travel times", travel.get("method")),
        ("Solver", solver.get("name")),
        ("Time limit (s)", solver.get("time_limit_seconds")),
        ("Relative gap at which the solver may stop", solver.get("mip_gap")),
    ]
    for kind in ("standards", "access"):
        for item in scenario.get(kind) or []:
            rule = str(item.get("rule", "")).replace("_", " ")
            if item.get("rule") == "share":
                rule += f" {float(item.get('share', 0)):.0%}"
            types = ", ".join(item.get("service_types") or [])
            rows.append(
                (
                    f"{'Standard' if kind == 'standards' else 'Access rule'}: "
                    f"{item.get('label') or item.get('name')}",
                    f"{types} within {item.get('minutes')} minutes, {rule}, in every year",
                )
            )
    return rows


def _assumptions_sheet(sheet: Worksheet, result: ScenarioResult) -> None:
    _put(sheet, 1, 1, "Assumptions").font = Font(bold=True, size=14)
    for row, (label, value) in enumerate(_assumptions(result), start=3):
        _put(sheet, row, 1, label).font = _BOLD
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
        _put(sheet, row, 2, "none" if value is None else value)


def write_xlsx(result: ScenarioResult, path: str | Path) -> Path:
    """Write the run's workbook: summary, Programme (with a chart), disposals, moves, ledger,
    coverage, sites, compensation and fair shares (when there are any), Assumptions.

    Parameters
    ----------
    result : ScenarioResult
        A solved scenario.
    path : str or Path
        The ``.xlsx`` file to write; its folder is created if missing.

    Returns
    -------
    Path
        The file written. The summary sheet lists every entry of ``result.totals``
        (label, value, field name) and the solver report.
    """
    workbook = Workbook()
    summary = workbook.active
    summary.title = "summary"
    _summary_sheet(summary, result)
    _disposals_sheet(workbook.create_sheet("disposals"), result)
    _write_frame(workbook.create_sheet("moves"), result.moves)
    _write_frame(workbook.create_sheet("ledger"), result.ledger.reset_index())
    _write_frame(workbook.create_sheet("coverage"), result.coverage)
    _write_frame(workbook.create_sheet("sites"), _sites_frame(result))
    if result.programme is not None:
        _programme_sheet(workbook.create_sheet("Programme", 1), result.programme)
    if result.compensation is not None and not result.compensation.empty:
        _write_frame(workbook.create_sheet("compensation"), result.compensation)
    if result.fair_shares is not None:
        _write_frame(workbook.create_sheet("fair shares"), result.fair_shares)
    _assumptions_sheet(workbook.create_sheet("Assumptions"), result)
    for sheet in workbook.worksheets:
        _fit_widths(sheet)
        if sheet.title not in {"summary", "disposals", "Programme", "Assumptions"}:
            sheet.freeze_panes = "B2"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    logger.debug(
        "Wrote workbook %s (%d sites, %d moves)", path, len(result.sites), len(result.moves)
    )
    return path


# --------------------------------------------------------------------------- comparison


def _column_names(a: ScenarioResult, b: ScenarioResult) -> tuple[str, str]:
    if str(a.name) != str(b.name):
        return str(a.name), str(b.name)
    return f"{a.name} (A)", f"{b.name} (B)"


def _partner_receipts(result: ScenarioResult) -> dict[str, float]:
    if result.ledger is None or "receipts" not in result.ledger:
        return {}
    return {str(k): _number(v) for k, v in result.ledger["receipts"].items()}


def _cover_after(result: ScenarioResult) -> dict[str, float]:
    coverage = result.coverage
    if coverage is None or coverage.empty or not {"name", "share_after"} <= set(coverage):
        return {}
    return {
        str(n): _number(s) for n, s in zip(coverage["name"], coverage["share_after"], strict=True)
    }


def _ordered_union(*groups: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item, None)
    return list(seen)


def comparison_table(a: ScenarioResult, b: ScenarioResult) -> pd.DataFrame:
    """Two results side by side, with the difference (second minus first).

    Parameters
    ----------
    a, b : ScenarioResult
        The results to compare (e.g. two output folders read by ``load_result``).

    Returns
    -------
    pandas.DataFrame
        Index ``measure`` (readable, with its unit), columns ``a.name``, ``b.name``
        and ``difference``. Rows: NPV saving, NPV cost, receipts (total and per
        partner), annual running-cost saving, capital spend, lease exit costs, site
        and move counts, and the share of demand covered after the plan per standard.
        A partner or standard missing from one result shows 0 receipts or a blank share.
    """
    ta, tb = a.totals or {}, b.totals or {}
    rows: list[tuple[str, float, float]] = []

    def total(key: str) -> None:
        rows.append((TOTAL_LABELS[key], _number(ta.get(key)), _number(tb.get(key))))

    total("npv_saving")
    total("npv_cost_after")
    total("receipts")
    ra, rb = _partner_receipts(a), _partner_receipts(b)
    for partner in sorted(_ordered_union(ra, rb)):
        rows.append((f"Receipts: {partner} (£)", ra.get(partner, 0.0), rb.get(partner, 0.0)))
    for key in ("annual_saving", "capex", "capital_spend", "lease_exit_costs"):
        if key in ta or key in tb:
            total(key)
    for key in ("sites_disposed", "leases_exited"):
        total(key)
    total("sites_built")
    total("services_moved")
    # How far from proven each plan may be: a difference is only as good as both plans.
    gaps = [_number((r.solve or {}).get("gap")) for r in (a, b)]
    rows.append(("Optimality gap (share)", gaps[0], gaps[1]))
    ca, cb = _cover_after(a), _cover_after(b)
    for name in _ordered_union(ca, cb):
        rows.append(
            (f"Cover after: {name} (share)", ca.get(name, math.nan), cb.get(name, math.nan))
        )
    first, second = _column_names(a, b)
    table = pd.DataFrame(rows, columns=["measure", first, second]).set_index("measure")
    table[first] = table[first].astype(float)
    table[second] = table[second].astype(float)
    table["difference"] = table[second] - table[first]
    return table


def _number(value: Any) -> float:
    """A figure as a float; NaN for a blank or for text that is not a number."""
    value = _plain(value)
    try:
        return math.nan if value is None else float(value)
    except (TypeError, ValueError):
        return math.nan


# --------------------------------------------------------------------------- decision record


def describe_input(path: Path) -> dict[str, Any]:
    """Name, size and SHA-256 of an input file (a folder: of its files, in name order)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        digest = hashlib.sha256()
        for file in files:
            digest.update(f"{file.relative_to(path).as_posix()}\0{file_sha256(file)}\n".encode())
        size = sum(f.stat().st_size for f in files)
        return {"path": str(path), "bytes": size, "sha256": digest.hexdigest(), "files": len(files)}
    if not path.is_file():
        raise FileNotFoundError(f"{path}: input named in the decision record does not exist")
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": file_sha256(path)}


def _package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    if versions["totalcapital"] is None:
        # Running from a source tree that was never installed.
        from totalcapital import __version__

        versions["totalcapital"] = __version__
    return versions


def decision_record(
    result: ScenarioResult, inputs: dict[str, Path], timings: dict[str, float]
) -> dict[str, Any]:
    """How a plan was reached, for a board to show and anyone to check.

    Parameters
    ----------
    result : ScenarioResult
        The solved scenario.
    inputs : dict of str to Path
        Role (e.g. ``"scenario"``, ``"estate"``, ``"network"``) -> file read.
    timings : dict of str to float
        Stage -> seconds taken (e.g. ``"load"``, ``"travel"``, ``"solve"``).

    Returns
    -------
    dict
        JSON-able: ``created_at`` (UTC ISO 8601), ``scenario_name``, ``inputs``
        (path, bytes, sha256 for each), ``scenario`` (the full resolved scenario),
        ``solver``, ``status``, ``solver_status``, ``objective``, ``gap``,
        ``best_bound``, ``verification``, ``travel_method``, ``times_seconds`` (the solver's
        build and solve times plus ``timings``), ``totals``, ``decisions`` (every site's
        decision and financial year, every move and its year), ``packages`` (versions) and
        ``platform``. Give the scenario's ``base:`` files in ``inputs`` too, so each is hashed.
    """
    solve = result.solve or {}
    times = {k: _plain(solve[k]) for k in ("build_seconds", "solve_seconds") if k in solve}
    times.update({str(k): float(v) for k, v in timings.items()})
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scenario_name": str(result.name),
        "inputs": {str(role): describe_input(Path(p)) for role, p in inputs.items()},
        "scenario": _jsonable(result.scenario),
        "solver": _plain(solve.get("solver")),
        "status": _plain(solve.get("status")),
        "solver_status": _plain(solve.get("solver_status")),
        "objective": _plain(solve.get("objective")),
        "gap": _plain(solve.get("gap")),
        "best_bound": _plain(solve.get("best_bound")),
        "verification": _plain(solve.get("verification")),
        "travel_method": _plain(solve.get("travel_method")),
        "times_seconds": times,
        "totals": _jsonable(result.totals),
        "decisions": _decisions(result),
        "packages": _package_versions(),
        "platform": {
            "system": platform.platform(),
            "machine": platform.machine(),
            "python_implementation": platform.python_implementation(),
        },
    }


def _decisions(result: ScenarioResult) -> dict[str, list[dict[str, Any]]]:
    """Every site's decision and year, and every service's move and year."""
    sites = result.sites
    site_rows = [
        {
            "site_id": str(site_id),
            "name": _plain(row.get("name")),
            "owner": _plain(row.get("owner")),
            "decision": _plain(row.get("decision")),
            "financial_year": _plain(row.get("decision_year")),
            "build_starts": _plain(row.get("build_start_year")),
        }
        for site_id, row in sites.iterrows()
    ]
    move_rows = [
        {
            "service_id": _plain(row.get("service_id")),
            "from_site": _plain(row.get("from_site")),
            "to_site": _plain(row.get("to_site")),
            "financial_year": _plain(row.get("move_year")),
        }
        for _, row in result.moves.iterrows()
    ]
    return {"sites": site_rows, "moves": move_rows}


def _jsonable(value: Any) -> Any:
    """Plain JSON types all the way down (paths and dates as text)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    plain = _plain(value)
    if isinstance(plain, datetime):
        return plain.isoformat()
    return plain


def write_decision_record(record: dict[str, Any], path: str | Path) -> Path:
    """Write a decision record as indented JSON (UTF-8); returns the file written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(record), indent=2, ensure_ascii=False) + "\n", "utf-8")
    logger.debug("Wrote decision record %s", path)
    return path


# --------------------------------------------------------------------------- Rich tables


def _money(value: Any) -> str:
    number = _number(value)
    if math.isnan(number):
        return "–"
    return f"-£{abs(number):,.0f}" if number < 0 else f"£{number:,.0f}"


def _year(value: Any) -> str:
    number = _number(value)
    return "–" if math.isnan(number) else f"{int(number)}-{(int(number) + 1) % 100:02d}"


def _share(value: Any) -> str:
    number = _number(value)
    return "–" if math.isnan(number) else f"{number:.1%}"


def _count(value: Any) -> str:
    number = _number(value)
    return "–" if math.isnan(number) else f"{number:,.0f}"


#: A "figure" cell longer than this is text, and wraps.
_WIDEST_FIGURE = 40


def _table(title: str, headers: list[tuple[str, bool]], rows: list[list[Any]], **options) -> Table:
    """A Rich table whose figures are never cut short: text columns wrap instead.

    ``headers`` are ``(header, is_figure)``; figures are right-aligned, kept on one
    line and given the width of their longest entry.
    """
    table = Table(title=Text(printable(title)), title_justify="left", **options)
    headers = [(printable(header), is_figure) for header, is_figure in headers]
    for position, (header, is_figure) in enumerate(headers):
        widest = max((len(str(row[position])) for row in rows if row is not _SECTION), default=1)
        if is_figure and widest > _WIDEST_FIGURE:
            # Sentences among the figures (the solver's verification line) wrap, so the
            # labels beside them keep their room.
            table.add_column(header, justify="right", overflow="fold", min_width=_WIDEST_FIGURE)
        elif is_figure:
            table.add_column(
                header, justify="right", no_wrap=True, min_width=max(widest, len(header))
            )
        else:
            table.add_column(header, overflow="fold", min_width=min(widest, 12))
    for row in rows:
        if row is _SECTION:
            table.add_section()
        else:
            table.add_row(*(_cell_text(c) for c in row))
    return table


def _cell_text(value: Any) -> Text:
    """A table cell shown as plain text: never markup, control characters escaped."""
    if isinstance(value, Text):
        return Text(printable(value.plain), style=value.style)
    return Text(printable(value))


# Placed among the rows of :func:`_table` to draw a rule (above a total row).
_SECTION: Any = object()


def _ledger_table(result: ScenarioResult, title: str, columns: list[tuple]) -> Table:
    """Partner rows of the ledger, with a total row."""
    ledger = result.ledger
    present = [c for c in columns if c[0] in ledger.columns]
    rows: list[list[Any]] = [
        [Text(str(partner))] + [fmt(row[key]) for key, _, fmt in present]
        for partner, row in ledger.iterrows()
    ]
    rows.append(_SECTION)
    rows.append([Text("Total", style="bold")] + [fmt(ledger[key].sum()) for key, _, fmt in present])
    headers = [("Partner", False)] + [(header, True) for _, header, _ in present]
    return _table(f"{title} — {result.name}", headers, rows)


def _partner_tables(result: ScenarioResult) -> list[Table]:
    # Two narrow tables rather than one that an 80-column terminal would cut short.
    disposals = [
        ("sites_disposed", "Sites disposed", _count),
        ("leases_exited", "Leases exited", _count),
        ("receipts", "Receipts", _money),
        ("lease_exit_costs", "Lease exit costs", _money),
    ]
    savings = [
        ("annual_saving", "Annual saving", _money),
        ("capex", "Capital spend, backlog included", _money),
        ("npv_gain", "NPV gain", _money),
    ]
    return [
        _ledger_table(result, "Disposals and receipts by partner", disposals),
        _ledger_table(result, "Savings and costs by partner", savings),
    ]


def _disposal_table(result: ScenarioResult) -> Table:
    labels = {"dispose": "dispose", "exit_lease": "exit lease"}
    rows = [
        [
            site_id,
            row.get("name", ""),
            row.get("owner", ""),
            labels.get(str(row.get("decision")), str(row.get("decision"))),
            _money(row.get("receipt")),
            _money(row.get("exit_cost")),
        ]
        for site_id, row in result.disposals.iterrows()
    ]
    headers = [
        ("Site", False),
        ("Name", False),
        ("Owner", False),
        ("Decision", False),
        ("Receipt", True),
        ("Exit cost", True),
    ]
    return _table("Sites disposed and leases exited", headers, rows)


def _totals_table(result: ScenarioResult) -> Table:
    totals = result.totals or {}
    rows = [
        [
            label,
            _year(totals[key])
            if key in _YEAR_TOTALS
            else _count(totals[key])
            if key in _COUNT_TOTALS
            else _money(totals[key]),
        ]
        for key, label in TOTAL_LABELS.items()
        if key in totals
    ]
    return _table(
        f"Totals — {result.name}", [("Item", False), ("Value", True)], rows, show_header=False
    )


def _coverage_table(result: ScenarioResult) -> Table:
    rows = []
    for _, row in result.coverage.iterrows():
        met = row.get("met")
        met = bool(met) if _plain(met) is not None else False
        rows.append(
            [
                row.get("name"),
                _count(row.get("minutes")),
                str(row.get("rule", "")).replace("_", " "),
                _share(row.get("target_share")),
                _share(row.get("share_before")),
                _share(row.get("share_after")),
                _share(row.get("share_lowest", row.get("share_after"))),
                Text("yes", style="green") if met else Text("NO", style="bold red"),
            ]
        )
    headers = [
        ("Requirement", False),
        ("Minutes", True),
        ("Rule", False),
        ("Target", True),
        ("Before", True),
        ("After", True),
        ("Lowest", True),
        ("Met", False),
    ]
    return _table("Response standards and access, before and after", headers, rows)


def _solver_table(result: ScenarioResult) -> Table:
    solve = result.solve or {}
    rows = []
    for key, label in SOLVE_LABELS.items():
        if key not in solve:
            continue
        value = _plain(solve[key])
        if key in {"objective", "best_bound"}:
            text = _money(value)
        elif key == "gap":
            text = "–" if value is None else f"{float(value):.3%}"
        elif key.endswith("_seconds"):
            text = "–" if value is None else f"{float(value):.2f}"
        else:
            text = "–" if value is None else str(value)
        rows.append([label, text])
    return _table("Solver", [("Item", False), ("Value", True)], rows, show_header=False)


def programme_tables(result: ScenarioResult, by_partner: bool = False) -> list[Table]:
    """The programme by financial year (all partners; with ``by_partner``, each too), and
    any compensation and fair-shares comparison."""
    tables: list[Table] = []
    programme = result.programme
    if programme is None or programme.empty:
        return tables
    partners = ["Total"]
    if by_partner:
        partners += sorted(p for p in programme["partner"].unique() if p != "Total")
    shown = ["receipts", "capital_spend", "lease_exit_costs", "running_saving", "net_cash"]
    shown.append("cumulative_net_cash")
    headers = [("Year", True)] + [(PROGRAMME_LABELS[c], True) for c in shown]
    for partner in partners:
        rows_of = programme[programme["partner"] == partner]
        rows: list[Any] = [
            [row["year_label"]] + [_money(row[c]) for c in shown] for _, row in rows_of.iterrows()
        ]
        rows.append(_SECTION)
        rows.append(
            [Text("Window", style="bold")]
            + [_money(rows_of[c].sum()) if c != "cumulative_net_cash" else "" for c in shown]
        )
        who = "all partners" if partner == "Total" else partner
        tables.append(
            _table(
                f"Programme by financial year, {who} — {result.name}",
                headers,
                rows,
                caption="Net cash against today also counts backlog avoided and rent "
                "between partners (programme.csv has every column).",
            )
        )
    compensation = result.compensation
    if compensation is not None and not compensation.empty:
        paid = compensation.groupby(["payer", "payee"], sort=True)
        rows = [
            [
                payer,
                payee,
                _money(group["amount"].iloc[0]),
                f"{group['year_label'].iloc[0]} to {group['year_label'].iloc[-1]}",
            ]
            for (payer, payee), group in paid
        ]
        headers = [("Pays", False), ("Receives", False), ("A year", True), ("Years", False)]
        tables.append(_table("Compensation that leaves every partner no worse off", headers, rows))
    fair = result.fair_shares
    if fair is not None and not fair.empty:
        rows = [
            [
                row["plan"] + (" (as asked)" if str(row["as_asked"]) == "True" else ""),
                _fair_share_status(row),
                _money(row["npv_saving"]),
                "–" if math.isnan(_number(row["npv_saving"])) else row["partners_losing"] or "none",
                _money(row["transfers_per_year"]),
            ]
            for _, row in fair.iterrows()
        ]
        headers = [
            ("Plan", False),
            ("Solve", False),
            ("NPV saving", True),
            ("Worse off", False),
            ("Transfers a year", True),
        ]
        tables.append(_table("Fair shares: both plans", headers, rows))
    return tables


def _fair_share_status(row: pd.Series) -> str:
    """How a fair-shares plan's solve ended: its status, the gap left, or why there is none."""
    status = _plain(row.get("solve_status"))
    if not status:
        return "–"  # a result folder from before statuses were kept
    gap = _number(row.get("solve_gap"))
    if status in ("optimal", "infeasible", "no plan"):
        text = str(status)
    elif math.isnan(gap):
        text = f"{status}, no bound"
    else:
        text = f"{status}, gap {gap:.2%}"
    note = _plain(row.get("note"))
    return f"{text}: {note}" if note else text


#: Sites listed per response standard in the summary's closure table.
CLOSURE_ROWS = 5


def _closure_table(result: ScenarioResult) -> list[Table]:
    """Per response standard, the sites whose closure alone would lose the fewest people."""
    impact = result.closure_impact
    coverage = result.coverage
    if impact is None or impact.empty or coverage is None or coverage.empty:
        return []
    response = set(coverage.loc[coverage["kind"] == "response", "name"])
    rows: list[Any] = []
    for requirement, group in impact.groupby("requirement", sort=True):
        if requirement not in response:
            continue
        if rows:
            rows.append(_SECTION)
        for _, row in group.head(CLOSURE_ROWS).iterrows():
            rows.append(
                [
                    requirement,
                    row.get("name") or row["site_id"],
                    _count(row["weight_lost"]),
                    _share(row["share_lost"]),
                ]
            )
    if not rows:
        return []
    headers = [("Standard", False), ("Site", False), ("People lost", True), ("Share", True)]
    title = "Closing one site alone: the least cover lost (closure_impact.csv has every site)"
    return [_table(title, headers, rows)]


def summary_tables(result: ScenarioResult) -> list[Table]:
    """Rich tables for ``totalcapital run`` and ``summary``.

    Returns
    -------
    list of rich.table.Table
        Disposals and receipts by partner; savings and costs by partner (annual
        saving, capex, NPV gain); sites disposed and leases exited;
        totals (NPV, annual saving, receipts, capex, counts); coverage per
        standard before and after; solver status, gap and times. Estate text is
        shown as plain text, never read as Rich markup.
    """
    return [
        *_partner_tables(result),
        _disposal_table(result),
        _totals_table(result),
        *programme_tables(result),
        _coverage_table(result),
        *_closure_table(result),
        _solver_table(result),
    ]


def comparison_rich_table(a: ScenarioResult, b: ScenarioResult) -> Table:
    """:func:`comparison_table` as a Rich table, money as £ and cover as %."""
    frame = comparison_table(a, b)
    first, second = str(frame.columns[0]), str(frame.columns[1])
    statuses = [str((r.solve or {}).get("status") or "–") for r in (a, b)]
    rows: list[Any] = [["Solve", *statuses, ""], _SECTION]
    for measure, row in frame.iterrows():
        if str(measure).endswith("(share)"):
            fmt = _share
        elif "£" in str(measure):
            fmt = _money
        else:
            fmt = _count
        rows.append([measure, fmt(row.iloc[0]), fmt(row.iloc[1]), fmt(row["difference"])])
    headers = [("Measure", False), (first, True), (second, True), ("Difference", True)]
    return _table(f"{first} compared with {second}", headers, rows)
