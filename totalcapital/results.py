"""Tidy result tables of one scenario run, and their store on disk.

A run's output folder holds the tables as CSV (for spreadsheets), a GeoPackage
``results.gpkg`` (sites with decisions, move lines, demand with coverage, covered
areas; opens in QGIS), ``summary.json`` (totals, solver report, the resolved
scenario) and ``manifest.json`` (the files the run wrote, with their SHA-256). A folder is
assembled beside its final place and moved in under a lock, so a failed run never leaves
half a result behind, two runs never mix, and a re-run replaces only the files listed in the
manifest (see ``_output_files``). CSV text that a spreadsheet would run as a formula is
written with a leading apostrophe, and read back without it.

A result folder may come from anyone, so reading one checks everything used later: the
summary's shape, a scenario name that is safe in a file name, readable tables.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely import linestrings

from ._errors import ResultFolderError
from ._output_files import (
    MANIFEST_FILE,
    install_result_folder,
    new_run_id,
    read_manifest,
    sha256,
)
from ._output_files import _umask as _umask  # where callers found it before
from ._text import csv_field, from_csv_field, printable
from ._validate import file_problem
from .estate import BNG

log = logging.getLogger(__name__)

__all__ = ["ScenarioResult", "load_result", "write_result"]

SUMMARY_FILE = "summary.json"
GEOPACKAGE_FILE = "results.gpkg"
#: Every file ``write_result`` itself writes (extra writers add theirs).
RESULT_FILES = (
    "sites.csv",
    "services.csv",
    "moves.csv",
    "disposals.csv",
    "ledger.csv",
    "coverage.csv",
    GEOPACKAGE_FILE,
    SUMMARY_FILE,
    MANIFEST_FILE,
)
# A scenario name as the schema allows it: safe as a file name, never a path.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,100}$")
_SUMMARY_BYTES_MAX = 100_000_000
# Columns read back as figures (None: every column of the table).
_FIGURES: dict[str, tuple[str, ...] | None] = {
    "ledger.csv": None,
    "coverage.csv": (
        "minutes",
        "target_share",
        "weight_total",
        "weight_covered_before",
        "weight_covered_after",
        "share_before",
        "share_after",
    ),
    "moves.csv": ("distance_km", "fit_out_cost", "moving_cost", "total_cost"),
    "services.csv": ("space_m2",),
    "fair_shares.csv": (
        "solve_gap",
        "npv_saving",
        "npv_lost_by_losers",
        "transfers_per_year",
        "sites_disposed",
        "sites_built",
    ),
}
# Entries of the summary's solver report that are figures.
_SOLVE_FIGURES = ("objective", "best_bound", "gap", "build_seconds", "solve_seconds")


@dataclass
class ScenarioResult:
    """Everything one solved scenario says, as tables.

    Attributes
    ----------
    name : str
        Scenario name.
    scenario : dict
        The full resolved scenario.
    sites : geopandas.GeoDataFrame
        EPSG:27700, index ``site_id``: the estate's columns plus ``decision``,
        ``space_used_m2``, ``space_free_m2``, ``services_hosted``, ``orgs_hosted``,
        ``receipt``, ``exit_cost``, ``capex``, ``running_cost_after``.
    services : pandas.DataFrame
        Index ``service_id``: ``org``, ``service_type``, ``current_site``, ``new_site``,
        ``moved``, ``space_m2``.
    moves : pandas.DataFrame
        One row per moved service with distance and costs.
    ledger : pandas.DataFrame
        One row per partner (index ``partner``).
    coverage : pandas.DataFrame
        One row per response standard and access rule, before and after.
    demand : geopandas.GeoDataFrame or None
        Demand points with ``weight`` and ``<requirement>_before/_after`` cover flags.
    areas : geopandas.GeoDataFrame or None
        Area reached within each requirement's minutes from each kept providing site.
    totals : dict
        NPV before/after/saving, annual saving, receipts, capex, counts.
    solve : dict
        Solver, status (ours and the solver's own words), objective, bound, gap, times,
        travel-time method.
    programme : pandas.DataFrame or None
        Financial year x partner: receipts, capital spend, savings, net cash, cumulative
        (see :func:`totalcapital.programme.programme_table`).
    compensation : pandas.DataFrame or None
        Transfers between partners, per financial year, that leave every partner no worse off.
    closure_impact : pandas.DataFrame or None
        Per site providing a standard or access rule today: the people only it covers, whom
        closing it alone would leave without cover (least first).
    fair_shares : pandas.DataFrame or None
        With ``rules.compare_no_worse_off``: this plan beside the plan with partners-no-worse-
        off the other way (see :func:`totalcapital.pipeline.fair_shares`).
    """

    name: str
    scenario: dict[str, Any]
    sites: gpd.GeoDataFrame
    services: pd.DataFrame
    moves: pd.DataFrame
    ledger: pd.DataFrame
    coverage: pd.DataFrame
    demand: gpd.GeoDataFrame | None
    areas: gpd.GeoDataFrame | None
    totals: dict[str, Any]
    solve: dict[str, Any]
    programme: pd.DataFrame | None = None
    compensation: pd.DataFrame | None = None
    fair_shares: pd.DataFrame | None = None
    closure_impact: pd.DataFrame | None = None

    @property
    def disposals(self) -> pd.DataFrame:
        """Sites sold or leases given up, with owner, receipt and exit cost."""
        gone = self.sites[self.sites["decision"].isin(["dispose", "exit_lease"])]
        columns = ["name", "owner", "tenure", "decision", "market_value", "receipt", "exit_cost"]
        return pd.DataFrame(gone[[c for c in columns if c in gone.columns]])

    def move_lines(self) -> gpd.GeoDataFrame:
        """Each move as a line from the old site to the new one (EPSG:27700)."""
        points = self.sites.geometry.representative_point()
        if self.moves.empty:
            return gpd.GeoDataFrame(self.moves.copy(), geometry=[], crs=BNG)
        start = points.loc[self.moves["from_site"]].get_coordinates().to_numpy()
        end = points.loc[self.moves["to_site"]].get_coordinates().to_numpy()
        lines = linestrings(np.stack([start, end], axis=1))
        return gpd.GeoDataFrame(self.moves.reset_index(drop=True), geometry=lines, crs=BNG)


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _for_file(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns a GeoPackage can hold: dates as ISO text, lists joined."""
    out = frame.copy()
    geometry = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for column in out.columns:
        if column == geometry:
            continue
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d").astype(object)
            out[column] = out[column].where(out[column].notna(), None)
    return out


def write_result(
    result: ScenarioResult,
    folder: str | Path,
    extra_writers: list[Callable[[ScenarioResult, Path], None]] | None = None,
    *,
    run_id: str | None = None,
) -> Path:
    """Write ``result`` to ``folder``: all files or none, replacing only what runs wrote.

    ``extra_writers`` are called with the result and the staging folder before anything is
    moved into place (e.g. the XLSX workbook and the decision record), so their failure
    also leaves nothing behind. ``run_id`` (new when not given) is stored in the summary and
    the manifest, so every file of one run can be told apart from another run's.

    Raises
    ------
    OutputError
        When ``folder`` holds files totalcapital did not write (it is never replaced).
    """
    folder = Path(folder)
    run_id = run_id or new_run_id()

    def fill(staging: Path) -> None:
        _write_tables(result, staging, run_id)
        for writer in extra_writers or []:
            writer(result, staging)

    install_result_folder(folder, fill, run_id)
    log.info("Wrote results of '%s' to %s", result.name, folder)
    return folder


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text no spreadsheet runs as a formula (cells, index and headers); numbers untouched."""

    def safe(value: Any) -> Any:
        return csv_field(value) if isinstance(value, str) else value

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(safe)
    out.index = out.index.map(safe)
    out.columns = [safe(str(c)) for c in out.columns]
    return out


def _to_csv(frame: pd.DataFrame, path: Path, index: bool = True) -> None:
    _csv_safe(frame).to_csv(path, index=index)


def _write_tables(result: ScenarioResult, folder: Path, run_id: str) -> None:
    sites = _for_file(result.sites)
    _to_csv(pd.DataFrame(sites.drop(columns=sites.geometry.name)), folder / "sites.csv")
    _to_csv(result.services, folder / "services.csv")
    _to_csv(result.moves, folder / "moves.csv", index=False)
    _to_csv(_for_file(result.disposals), folder / "disposals.csv")
    _to_csv(result.ledger, folder / "ledger.csv")
    _to_csv(result.coverage, folder / "coverage.csv", index=False)
    for name, table in (
        ("programme", result.programme),
        ("compensation", result.compensation),
        ("fair_shares", result.fair_shares),
        ("closure_impact", result.closure_impact),
    ):
        if table is not None:
            _to_csv(table, folder / f"{name}.csv", index=False)

    gpkg = folder / GEOPACKAGE_FILE
    sites.reset_index().to_file(gpkg, layer="sites", driver="GPKG", engine="pyogrio")
    _for_file(result.move_lines()).to_file(gpkg, layer="moves", driver="GPKG", engine="pyogrio")
    if result.demand is not None:
        result.demand.reset_index().to_file(gpkg, layer="demand", driver="GPKG", engine="pyogrio")
    if result.areas is not None:
        result.areas.to_file(gpkg, layer="areas", driver="GPKG", engine="pyogrio")
    if result.programme is not None:
        # A table without geometry: the programme by financial year and partner, for QGIS.
        gpd.GeoDataFrame(result.programme).to_file(
            gpkg, layer="programme", driver="GPKG", engine="pyogrio"
        )

    summary = {
        "name": result.name,
        "run_id": run_id,
        "totals": result.totals,
        "solve": result.solve,
        "scenario": result.scenario,
    }
    # Strict JSON: a figure that does not exist (no bound when the solver never ran) is null.
    (folder / SUMMARY_FILE).write_text(
        json.dumps(_nan_to_null(summary), indent=2, default=_json_default, allow_nan=False),
        encoding="utf-8",
    )


def _nan_to_null(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _nan_to_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_null(v) for v in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return value


def _fail(path: Path, expected: str, found: str) -> ResultFolderError:
    return ResultFolderError(f"{path}: expected {expected}, found {printable(found)}")


def _read_summary(path: Path) -> dict[str, Any]:
    problem = file_problem(path, str(path), "")
    if problem is not None:
        raise _fail(path, "a result summary (JSON) written by 'totalcapital run'", problem.found)
    if path.stat().st_size > _SUMMARY_BYTES_MAX:
        raise _fail(path, "a result summary", f"a file of {path.stat().st_size:,} bytes")
    try:
        summary = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise _fail(path, "a result summary (UTF-8 JSON)", "bytes that are not UTF-8") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise _fail(path, "a result summary (JSON)", f"invalid JSON ({exc})") from None
    if not isinstance(summary, dict):
        raise _fail(path, "a JSON object", type(summary).__name__)
    name = summary.get("name")
    if not isinstance(name, str) or not SAFE_NAME.match(name):
        raise _fail(
            path,
            "'name' to be a scenario name (letters, digits, '_' and '-', at most 100)",
            repr(name)[:120],
        )
    for key in ("totals", "solve", "scenario"):
        if not isinstance(summary.get(key), dict):
            raise _fail(path, f"'{key}' to be a JSON object", repr(summary.get(key))[:120])
    figures = [("totals", k, v) for k, v in summary["totals"].items()]
    figures += [("solve", k, summary["solve"][k]) for k in _SOLVE_FIGURES if k in summary["solve"]]
    for part, key, value in figures:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise _fail(path, f"'{part}.{key}' to be a number", repr(value)[:120])
    for key, value in summary["solve"].items():
        if isinstance(value, (dict, list)):
            raise _fail(path, f"'solve.{key}' to be a single value", repr(value)[:120])
    # Maps and reports read the scenario's settings: it must still be a scenario.
    from pydantic import ValidationError

    from .scenario import Scenario

    try:
        Scenario.model_validate(summary["scenario"])
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise _fail(
            path, f"'scenario.{where}' as a scenario has it", f"{error['msg']}"[:200]
        ) from None
    return summary


def _check_manifest(folder: Path) -> None:
    """Refuse a folder whose writing was interrupted; warn of files changed since written."""
    manifest = read_manifest(folder)
    if manifest is None:
        return  # written before manifests existed, or by hand: read what is there
    if not manifest["complete"]:
        raise ResultFolderError(
            f"{folder}: expected a complete result folder, found one whose writing was "
            "interrupted; run the scenario again"
        )
    # Gone altogether (one that is there but no file is named by the reader of it).
    missing = [
        name
        for name in manifest["files"]
        if name in RESULT_FILES and not ((folder / name).exists() or (folder / name).is_symlink())
    ]
    if missing:
        raise ResultFolderError(
            f"{folder}: expected every file the run wrote, found {', '.join(missing)} missing; "
            "run the scenario again"
        )
    for name, digests in manifest["files"].items():
        path = folder / name
        if path.is_file() and name in RESULT_FILES and sha256(path) not in digests:
            log.warning("%s was changed since the run wrote it", path)


def _read_table(path: Path, reader: Callable[[], Any]) -> Any:
    problem = file_problem(path, str(path), "")
    if problem is not None:
        raise _fail(path, "a table written by 'totalcapital run'", problem.found)
    try:
        return reader()
    except (
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        OSError,
        pyogrio.errors.DataSourceError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
    ) as exc:
        raise _fail(path, "a table written by 'totalcapital run'", f"an error: {exc}") from None


def _csv(path: Path, **options: Any) -> pd.DataFrame:
    """A CSV table written by :func:`write_result`, with its formula escapes undone."""
    frame = _read_table(path, lambda: pd.read_csv(path, encoding="utf-8", **options))

    def plain(value: Any) -> Any:
        return from_csv_field(value) if isinstance(value, str) else value

    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(plain)
    frame.index = frame.index.map(plain)
    frame.columns = [plain(c) for c in frame.columns]
    figures = _FIGURES.get(path.name, ())
    for column in frame.columns if figures is None else figures:
        if column not in frame.columns:
            continue
        raw = frame[column].mask(frame[column].eq(""))  # a blank figure is a missing one
        values = pd.to_numeric(raw, errors="coerce")
        wrong = raw.notna() & values.isna()
        if wrong.any():
            row = frame.index[wrong.to_numpy()][0]
            found = f"{frame[column][wrong].iloc[0]!r} (row {row})"
            raise _fail(path, f"numbers in column '{column}'", found[:160])
        frame[column] = values
    return frame


def load_result(folder: str | Path) -> ScenarioResult:
    """Read a result folder written by :func:`write_result`.

    Raises
    ------
    ResultFolderError
        When ``folder`` is not a result folder, its writing was interrupted, or a file is
        missing, damaged or holds unsafe values (e.g. a scenario name that is a path).
    """
    folder = Path(folder)
    summary_path = folder / SUMMARY_FILE
    if not folder.is_dir() or not (summary_path.exists() or summary_path.is_symlink()):
        found = (
            f"no {SUMMARY_FILE}"
            if folder.is_dir()
            else "a file"
            if folder.exists()
            else ("no such folder")
        )
        raise ResultFolderError(
            f"{folder}: expected a result folder written by 'totalcapital run', found {found}"
        )
    _check_manifest(folder)
    summary = _read_summary(summary_path)
    gpkg = folder / GEOPACKAGE_FILE

    def read_layer(layer: str) -> gpd.GeoDataFrame:
        frame = gpd.read_file(gpkg, layer=layer, engine="pyogrio")
        if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
            raise ValueError(f"layer '{layer}' has no geometry with a coordinate reference system")
        return frame.to_crs(BNG)

    layers = _read_table(gpkg, lambda: {str(name) for name, _ in pyogrio.list_layers(gpkg)})
    sites = _read_table(gpkg, lambda: read_layer("sites").set_index("site_id"))
    missing = [c for c in ("name", "owner", "decision") if c not in sites.columns]
    if missing:
        raise _fail(gpkg, "a sites layer with name, owner and decision", f"no {missing[0]}")
    for column in ("lease_break",):
        if column in sites.columns:
            sites[column] = pd.to_datetime(sites[column], errors="coerce")
    moves = _csv(folder / "moves.csv", dtype={"service_id": str, "from_site": str, "to_site": str})
    demand = None
    if "demand" in layers:
        demand = _read_table(gpkg, lambda: read_layer("demand").set_index("demand_id"))
    areas = _read_table(gpkg, lambda: read_layer("areas")) if "areas" in layers else None
    services = _csv(folder / "services.csv", index_col="service_id")
    ledger = _csv(folder / "ledger.csv", index_col="partner")
    coverage = _csv(folder / "coverage.csv")
    # Financial years are whole years; files read them back as floats where some are empty.
    for table, columns in (
        (sites, ("decision_year", "build_start_year")),
        (services, ("move_year",)),
        (moves, ("move_year",)),
    ):
        for column in columns:
            if column in table.columns:
                table[column] = table[column].astype("Int64")
    optional = {}
    for name, text_columns in (
        ("programme", ("partner",)),
        ("compensation", ("payer", "payee")),
        ("fair_shares", ("plan", "solve_status", "partners_losing", "note")),
        ("closure_impact", ("site_id", "name", "requirement")),
    ):
        path = folder / f"{name}.csv"
        optional[name] = (
            _csv(path, dtype=dict.fromkeys(text_columns, str), keep_default_na=False)
            if path.is_file()
            else None
        )
    programme, compensation, fair_shares = (
        optional["programme"],
        optional["compensation"],
        optional["fair_shares"],
    )
    closure_impact = optional["closure_impact"]
    return ScenarioResult(
        name=summary["name"],
        scenario=summary["scenario"],
        sites=sites,
        services=services,
        moves=moves,
        ledger=ledger,
        coverage=coverage,
        demand=demand,
        areas=areas,
        totals=summary["totals"],
        solve={
            k: math.nan if v is None and k in _SOLVE_FIGURES else v
            for k, v in summary["solve"].items()
        },
        programme=programme,
        compensation=compensation,
        fair_shares=fair_shares,
        closure_impact=closure_impact,
    )
