"""Tidy result tables of one scenario run, and their store on disk.

A run's output folder holds the tables as CSV (for spreadsheets), a GeoPackage
``results.gpkg`` (sites with decisions, move lines, demand with coverage, covered
areas; opens in QGIS), and ``summary.json`` (totals, solver report, the resolved
scenario). A folder is written whole or not at all: it is assembled beside its final
place and swapped in, so a failed run never leaves half a result behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely import linestrings

from ._errors import TotalCapitalError
from .estate import BNG

log = logging.getLogger(__name__)

__all__ = ["ScenarioResult", "load_result", "write_result"]

SUMMARY_FILE = "summary.json"
GEOPACKAGE_FILE = "results.gpkg"


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_result(
    result: ScenarioResult,
    folder: str | Path,
    extra_writers: list[Callable[[ScenarioResult, Path], None]] | None = None,
) -> Path:
    """Write ``result`` to ``folder`` atomically (all files or none).

    ``extra_writers`` are called with the result and the temporary folder before it is
    swapped in (e.g. the XLSX workbook and the decision record), so their failure also
    leaves nothing behind.
    """
    folder = Path(folder)
    if folder.is_dir() and any(folder.iterdir()) and not (folder / SUMMARY_FILE).is_file():
        raise TotalCapitalError(
            f"{folder}: expected an earlier result folder or none, found a folder of other files; "
            "not replacing it (choose another --output-dir)"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        _write_tables(result, staging)
        for writer in extra_writers or []:
            writer(result, staging)
        # mkdtemp makes the folder private; give it the permissions a plain mkdir would.
        os.chmod(staging, 0o777 & ~_umask())
        if folder.exists():
            retired = folder.with_name(f".{folder.name}.old")
            if retired.exists():
                shutil.rmtree(retired)
            os.replace(folder, retired)
            os.replace(staging, folder)
            shutil.rmtree(retired)
        else:
            os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("Wrote results of '%s' to %s", result.name, folder)
    return folder


def _write_tables(result: ScenarioResult, folder: Path) -> None:
    sites = _for_file(result.sites)
    pd.DataFrame(sites.drop(columns=sites.geometry.name)).to_csv(folder / "sites.csv")
    result.services.to_csv(folder / "services.csv")
    result.moves.to_csv(folder / "moves.csv", index=False)
    _for_file(result.disposals).to_csv(folder / "disposals.csv")
    result.ledger.to_csv(folder / "ledger.csv")
    result.coverage.to_csv(folder / "coverage.csv", index=False)
    if result.programme is not None:
        result.programme.to_csv(folder / "programme.csv", index=False)
    if result.compensation is not None:
        result.compensation.to_csv(folder / "compensation.csv", index=False)
    if result.fair_shares is not None:
        result.fair_shares.to_csv(folder / "fair_shares.csv", index=False)

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
        "totals": result.totals,
        "solve": result.solve,
        "scenario": result.scenario,
    }
    (folder / SUMMARY_FILE).write_text(
        json.dumps(summary, indent=2, default=_json_default), encoding="utf-8"
    )


def load_result(folder: str | Path) -> ScenarioResult:
    """Read a result folder written by :func:`write_result`.

    Raises
    ------
    FileNotFoundError
        When ``folder`` is not a result folder (no ``summary.json``).
    """
    folder = Path(folder)
    summary_path = folder / SUMMARY_FILE
    if not summary_path.is_file():
        raise FileNotFoundError(
            f"{folder}: expected a result folder written by 'totalcapital run', "
            f"found no {SUMMARY_FILE}"
        )
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    gpkg = folder / GEOPACKAGE_FILE
    layers = {str(name) for name, _ in pyogrio.list_layers(gpkg)}
    sites = gpd.read_file(gpkg, layer="sites", engine="pyogrio").set_index("site_id")
    for column in ("lease_break",):
        if column in sites.columns:
            sites[column] = pd.to_datetime(sites[column])
    moves = pd.read_csv(
        folder / "moves.csv", dtype={"service_id": str, "from_site": str, "to_site": str}
    )
    demand = None
    if "demand" in layers:
        demand = gpd.read_file(gpkg, layer="demand", engine="pyogrio").set_index("demand_id")
    areas = gpd.read_file(gpkg, layer="areas", engine="pyogrio") if "areas" in layers else None
    services = pd.read_csv(folder / "services.csv", index_col="service_id")
    # Financial years are whole years; files read them back as floats where some are empty.
    for table, columns in (
        (sites, ("decision_year", "build_start_year")),
        (services, ("move_year",)),
        (moves, ("move_year",)),
    ):
        for column in columns:
            if column in table.columns:
                table[column] = table[column].astype("Int64")
    ledger = pd.read_csv(folder / "ledger.csv", index_col="partner")
    coverage = pd.read_csv(folder / "coverage.csv")
    programme = None
    if (folder / "programme.csv").is_file():
        programme = pd.read_csv(folder / "programme.csv", dtype={"partner": str})
    fair_shares = None
    if (folder / "fair_shares.csv").is_file():
        fair_shares = pd.read_csv(folder / "fair_shares.csv", keep_default_na=False)
    compensation = None
    if (folder / "compensation.csv").is_file():
        compensation = pd.read_csv(folder / "compensation.csv", dtype={"payer": str, "payee": str})
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
        solve=summary["solve"],
        programme=programme,
        compensation=compensation,
        fair_shares=fair_shares,
    )
