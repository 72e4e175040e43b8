"""Tables of many runs: a sweep's summary and a trade-off front, with their charts.

- :func:`write_summary`: one row per sweep point (its values, status and message, gap,
  money, cover per requirement, time) as ``summary.csv``, ``summary.gpkg`` (each point's
  area, for maps of places) and ``summary.xlsx`` (the table and a chart of NPV saving);
- :func:`write_frontier`: the Pareto front as ``frontier.csv`` and ``frontier.xlsx`` (the
  table and a chart of NPV saving against cover).

Each file is written beside its place and swapped in, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference, ScatterChart, Series

from ._cache import file_sha256
from ._errors import OutputError
from ._output_files import MANIFEST_FILE, aside_name
from .estate import BNG
from .exports import _fit_widths, _write_frame

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .sweep import PointOutcome

__all__ = ["claim_folder", "replace_file", "summary_frame", "write_frontier", "write_summary"]

_MONEY = ("npv_saving", "npv_cost_after", "receipts", "capex", "annual_saving")


def summary_frame(columns: Sequence[str], outcomes: Sequence[PointOutcome]):
    """One row per point: its values, status, message, gap, money, cover per requirement, time.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:27700; each finished point's geometry is the hull of its sites and demand.
    """
    from .sweep import _text

    requirements: list[str] = []
    for outcome in outcomes:
        for row in outcome.record.get("coverage", []):
            if row["name"] not in requirements:
                requirements.append(row["name"])
    rows = []
    for number, outcome in enumerate(outcomes, start=1):
        totals = outcome.record.get("totals", {})
        row: dict[str, Any] = {"point": number}
        row.update({c: _text(outcome.values.get(c)) for c in columns})
        row.update(
            {
                "status": outcome.status,
                "message": outcome.message,
                "gap": outcome.record.get("gap"),
                **{name: totals.get(name) for name in _MONEY},
            }
        )
        for name in requirements:
            cover = outcome.cover(name)
            row[f"cover_{name}"] = None if cover is None else cover["share_after"]
        row["seconds"] = outcome.seconds
        row["kept_from_earlier_run"] = outcome.reused
        row["folder"] = f"points/{outcome.key}"
        row["geometry"] = (
            shapely.from_wkt(outcome.record["area_wkt"]) if "area_wkt" in outcome.record else None
        )
        rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ["gap", *_MONEY, *(f"cover_{n}" for n in requirements), "seconds"]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=BNG)


_FORMATS = {
    **dict.fromkeys(_MONEY, '"£"#,##0;[Red]-"£"#,##0'),
    "gap": "0.00%",
    "seconds": "0.0",
}


def _write_workbook(frame, path: Path, chart_title: str) -> None:
    table = frame.drop(columns=frame.geometry.name)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "points"
    _write_frame(sheet, table)
    columns = list(table.columns)
    for position, column in enumerate(columns, start=1):
        number_format = _FORMATS.get(column, "0.0%" if column.startswith("cover_") else None)
        if number_format:
            for row in range(2, len(table) + 2):
                sheet.cell(row=row, column=position).number_format = number_format
    _fit_widths(sheet)
    sheet.freeze_panes = "B2"

    chart = BarChart()
    chart.type = "col"
    chart.title = chart_title
    chart.y_axis.title = "NPV saving (£)"
    chart.x_axis.title = "point"
    saving = columns.index("npv_saving") + 1
    chart.add_data(
        Reference(sheet, min_col=saving, min_row=1, max_row=len(table) + 1), titles_from_data=True
    )
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=len(table) + 1))
    chart.legend = None
    chart.width, chart.height = 24, 12
    workbook.create_sheet("chart").add_chart(chart, "A1")
    workbook.save(path)


#: The tables a sweep or a front writes into its folder (beside ``points/``).
SWEEP_TABLES = ("summary.csv", "summary.gpkg", "summary.xlsx", "frontier.csv", "frontier.xlsx")
#: In a sweep's or front's folder: the SHA-256 of each table it wrote there, so a re-run
#: knows its own files from a user's (an edited summary is kept aside, never lost).
OWN_FILES = ".totalcapital-files.json"


def claim_folder(folder: Path, what: str) -> None:
    """Refuse a folder a sweep or front may not write into: a run's result folder, or a
    folder of other files. A folder it wrote before (or an empty one) is fine."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: expected a folder for the {what}, found a file")
    if not folder.is_dir() or (folder / OWN_FILES).is_file():
        return
    entries = {p.name for p in folder.iterdir()}
    if MANIFEST_FILE in entries:
        raise OutputError(
            f"{folder}: expected a {what}'s folder, found a scenario run's result folder; not "
            "writing into it (rename the sweep, or choose another --output-dir)"
        )
    # One written before this file was kept holds only these; any table there is kept
    # aside when replaced (see replace_file).
    if entries - {"points", *SWEEP_TABLES}:
        raise OutputError(
            f"{folder}: expected a {what}'s folder or none, found a folder of other files; "
            "not writing into it (choose another --output-dir)"
        )


def replace_file(path: Path, write: Callable[[Path], None]) -> None:
    """Write beside ``path`` and swap it in, so a reader never sees half a file. A file
    there that this folder's earlier writes do not account for (edited by hand, or someone
    else's) is kept aside as ``<name>.edited-<time>``, as a run keeps its edited tables."""
    own_file = path.parent / OWN_FILES
    try:
        own = json.loads(own_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        own = {}
    staging = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        write(staging)
        if path.is_file() and file_sha256(path) != own.get(path.name):
            aside = aside_name(path)
            os.replace(path, aside)
            log.warning("%s was not as written; kept it as %s", path, aside)
        own[path.name] = file_sha256(staging)
        os.replace(staging, path)
        own_file.write_text(json.dumps(own, indent=2), encoding="utf-8")
    finally:
        staging.unlink(missing_ok=True)


def write_summary(
    columns: Sequence[str], outcomes: Sequence[PointOutcome], folder: Path, title: str
) -> dict[str, Path]:
    """Write ``summary.csv``, ``summary.gpkg`` (layer ``points``) and ``summary.xlsx``.

    The workbook's ``points`` sheet is the table; its ``chart`` sheet plots the NPV saving of
    each point.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = summary_frame(columns, outcomes)
    paths = {
        "csv": folder / "summary.csv",
        "gpkg": folder / "summary.gpkg",
        "xlsx": folder / "summary.xlsx",
    }
    plain = frame.drop(columns=frame.geometry.name)
    replace_file(paths["csv"], lambda p: plain.to_csv(p, index=False))
    replace_file(
        paths["gpkg"],
        lambda p: frame.to_file(p, layer="points", driver="GPKG", engine="pyogrio"),
    )
    replace_file(paths["xlsx"], lambda p: _write_workbook(frame, p, title))
    return paths


def write_frontier(table: pd.DataFrame, folder: Path, requirement: str) -> dict[str, Path]:
    """Write ``frontier.csv`` and ``frontier.xlsx`` (sheet ``front`` and a ``chart`` sheet
    plotting NPV saving against the share covered, along the front)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"csv": folder / "frontier.csv", "xlsx": folder / "frontier.xlsx"}
    replace_file(paths["csv"], lambda p: table.to_csv(p, index=False))

    def workbook(path: Path) -> None:
        book = Workbook()
        sheet = book.active
        sheet.title = "front"
        _write_frame(sheet, table)
        formats = {
            "cover_share": "0.00%",
            "gap": "0.00%",
            **dict.fromkeys(
                ("npv_saving", "npv_cost_after", "receipts", "capex", "annual_saving"),
                '"£"#,##0;[Red]-"£"#,##0',
            ),
        }
        columns = list(table.columns)
        for column, number_format in formats.items():
            for row in range(2, len(table) + 2):
                sheet.cell(row=row, column=columns.index(column) + 1).number_format = number_format
        _fit_widths(sheet)
        sheet.freeze_panes = "B2"
        front = int(table["on_front"].sum())
        chart = ScatterChart()
        chart.title = f"NPV saving against {requirement} cover (Pareto front)"
        chart.style = 13
        chart.x_axis.title = f"share of demand covered ({requirement})"
        chart.y_axis.title = "NPV saving (£)"
        chart.x_axis.number_format = "0%"
        share = columns.index("cover_share") + 1
        saving = columns.index("npv_saving") + 1
        series = Series(
            Reference(sheet, min_col=saving, min_row=2, max_row=front + 1),
            Reference(sheet, min_col=share, min_row=2, max_row=front + 1),
            title="front",
        )
        series.marker.symbol = "circle"
        chart.series.append(series)
        chart.legend = None
        chart.width, chart.height = 24, 12
        book.create_sheet("chart").add_chart(chart, "A1")
        book.save(path)

    replace_file(paths["xlsx"], workbook)
    return paths
