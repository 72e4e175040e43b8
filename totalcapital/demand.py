"""Demand points: where the people (or the incidents) are.

Two sources:

* :func:`load_lsoa_demand` reads the ONS layouts: LSOA population-weighted centroids and the
  mid-year population estimates, selecting the LSOAs of named local authorities;
* :func:`load_point_demand` reads any points file (GeoPackage, GeoJSON, Shapefile, CSV) with a
  weight column: population, or incident counts for incident-based demand.

Both return a GeoDataFrame indexed by ``demand_id`` with columns ``name``, ``weight`` (float)
and point geometry in British National Grid (EPSG:27700).
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from totalcapital._errors import EstateValidationError, Problem
from totalcapital._validate import (
    DEMAND_WEIGHT_MAX,
    file_problem,
    numbers_from_text,
    point_problems,
)

logger = logging.getLogger(__name__)

BNG = "EPSG:27700"
# ONS codes of the authorities that head each block of LSOAs in the population file:
# unitary (E06), non-metropolitan district (E07), metropolitan district (E08),
# London borough (E09), Welsh unitary (W06).
AUTHORITY_PREFIXES = ("E06", "E07", "E08", "E09", "W06")
LSOA_PREFIXES = ("E01", "W01")
#: Names that stand for every LSOA of a nation, in place of listing its authorities.
NATIONS = {"england": "E01", "wales": "W01"}

# Column name pairs recognised as coordinates in CSV files, with their CRS.
_COORDINATE_COLUMNS = (
    (("x", "y"), BNG),
    (("easting", "northing"), BNG),
    (("eastings", "northings"), BNG),
    (("lon", "lat"), "EPSG:4326"),
    (("longitude", "latitude"), "EPSG:4326"),
    (("lng", "lat"), "EPSG:4326"),
)


def load_lsoa_demand(
    centroids_csv: str | Path, population_csv: str | Path, authorities: list[str]
) -> gpd.GeoDataFrame:
    """Population-weighted LSOA centroids of the given local authorities, weighted by population.

    Parameters
    ----------
    centroids_csv : str or Path
        ONS LSOA (2011) population-weighted centroids: columns ``LSOA11CD``, ``LSOA11NM``,
        ``x``, ``y`` (EPSG:27700); a UTF-8 byte-order mark is allowed.
    population_csv : str or Path
        ONS mid-year LSOA population estimates: columns ``Area Codes`` and ``All Ages``
        (thousands separators allowed), each local authority row followed by its LSOAs.
    authorities : list of str
        Local authority codes, e.g. ``["E06000017"]`` for Rutland, or ``"england"`` /
        ``"wales"`` for every LSOA of the nation.

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``demand_id`` (LSOA code); columns ``name``, ``weight``, ``authority``, geometry.

    Raises
    ------
    EstateValidationError
        If a file lacks a column, an authority code is unknown, or an LSOA has no centroid or
        no population.
    """
    centroids_csv, population_csv = Path(centroids_csv), Path(population_csv)
    population, problems = _read_csv(population_csv, "ONS LSOA populations (CSV)")
    centroids, more = _read_csv(centroids_csv, "ONS LSOA centroids (CSV)")
    problems += more
    if problems:
        raise EstateValidationError(problems)
    problems = _missing_columns(population_csv, population, ["Area Codes", "All Ages"])
    problems += _missing_columns(centroids_csv, centroids, ["LSOA11CD", "LSOA11NM", "x", "y"])
    if problems:
        raise EstateValidationError(problems)

    codes = population["Area Codes"].astype("string").str.strip()
    is_authority = codes.str[:3].isin(AUTHORITY_PREFIXES)
    is_lsoa = codes.str[:3].isin(LSOA_PREFIXES)
    # Each LSOA belongs to the authority row above it.
    authority_of_row = codes.where(is_authority).ffill()
    known = set(codes[is_authority])
    nations = [NATIONS[code.lower()] for code in authorities if code.lower() in NATIONS]
    for code in authorities:
        if code not in known and code.lower() not in NATIONS:
            problems.append(
                Problem(
                    str(population_csv),
                    code,
                    "Area Codes",
                    "a local authority code (E06/E07/E08/E09/W06...) listed in the file, "
                    "or 'england' or 'wales'",
                    "no such authority",
                )
            )
    if problems:
        raise EstateValidationError(problems)

    in_nation = codes.str[:3].isin(nations)
    chosen = population[is_lsoa & (authority_of_row.isin(authorities) | in_nation)]
    lsoa = pd.DataFrame(
        {
            "demand_id": codes[chosen.index],
            "authority": authority_of_row[chosen.index],
            "weight": numbers_from_text(chosen["All Ages"]),
        }
    )
    for row in lsoa[~_plausible_weight(lsoa["weight"])].itertuples():
        found = population.loc[row.Index, "All Ages"]
        problems.append(
            Problem(
                str(population_csv),
                row.demand_id,
                "All Ages",
                _weight_expected(row.weight, "a population >= 0"),
                _shown(found),
            )
        )

    centroids = centroids.assign(
        LSOA11CD=centroids["LSOA11CD"].astype("string").str.strip(),
        x=numbers_from_text(centroids["x"]),
        y=numbers_from_text(centroids["y"]),
    ).drop_duplicates("LSOA11CD")
    merged = lsoa.merge(
        centroids[["LSOA11CD", "LSOA11NM", "x", "y"]],
        left_on="demand_id",
        right_on="LSOA11CD",
        how="left",
    )
    for row in merged[merged["x"].isna() | merged["y"].isna()].itertuples():
        problems.append(
            Problem(
                str(centroids_csv),
                row.demand_id,
                "x, y",
                "a population-weighted centroid for this LSOA",
                "none",
            )
        )
    located = merged.dropna(subset=["x", "y"])
    problems += point_problems(
        str(centroids_csv), located["demand_id"], located["x"], located["y"], "x, y"
    )[0]
    problems += _zero_total(population_csv, lsoa["weight"], "All Ages")
    if problems:
        raise EstateValidationError(problems)

    demand = gpd.GeoDataFrame(
        {
            "name": merged["LSOA11NM"].astype("string").to_numpy(),
            "weight": merged["weight"].to_numpy(dtype=np.float64),
            "authority": merged["authority"].astype("string").to_numpy(),
        },
        geometry=gpd.points_from_xy(merged["x"], merged["y"]),
        index=pd.Index(merged["demand_id"].astype("string"), name="demand_id"),
        crs=BNG,
    )
    logger.info(
        "Loaded %s LSOA demand points (%s people) for %s from %s",
        f"{len(demand):,}",
        f"{demand['weight'].sum():,.0f}",
        ", ".join(authorities),
        population_csv,
    )
    return demand


def _weight_expected(weight: float, usual: str = "a number >= 0") -> str:
    """What a weight should have been: the usual words, or why a number is implausible."""
    if np.isinf(weight):
        return "a finite number"
    if weight > DEMAND_WEIGHT_MAX:
        return f"at most {DEMAND_WEIGHT_MAX:,} (a plausible ceiling)"
    return usual


def _plausible_weight(weights: pd.Series) -> pd.Series:
    return weights.notna() & np.isfinite(weights) & weights.between(0, DEMAND_WEIGHT_MAX)


def _zero_total(path: Path, weights: pd.Series, column: str) -> list[Problem]:
    if len(weights) and _plausible_weight(weights).all() and weights.sum() == 0:
        expected = "some demand point with a weight above 0"
        return [Problem(str(path), None, column, expected, "every weight is 0")]
    return []


def _read_csv(path: Path, wanted: str, **options) -> tuple[pd.DataFrame, list[Problem]]:
    """A CSV file, or the one problem that stops it being read."""
    problem = file_problem(path, str(path), wanted)
    if problem is not None:
        return pd.DataFrame(), [problem]
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **{"dtype": str, **options}), []
    except UnicodeDecodeError:
        found = "bytes that are not UTF-8 text"
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        found = f"a file that is not CSV ({exc})"
    return pd.DataFrame(), [Problem(str(path), None, None, wanted, found)]


def _missing_columns(path: Path, frame: pd.DataFrame, columns: list[str]) -> list[Problem]:
    present = ", ".join(map(str, frame.columns)) or "no columns"
    return [
        Problem(str(path), None, column, f"a column '{column}'", f"columns {present}")
        for column in columns
        if column not in frame.columns
    ]


def _read_points(
    path: Path, layer: str | None
) -> tuple[gpd.GeoDataFrame, list[Problem], list[tuple[int, str, object]]]:
    """Read a points file; CSV/XLSX coordinates come from recognised x/y-like columns.

    Also returns the coordinates that are written but are no numbers: (row position,
    column, value)."""
    suffix = path.suffix.lower()
    try:
        if suffix not in (".csv", ".txt", ".xlsx", ".xls"):
            return gpd.read_file(path, layer=layer), [], []
        if suffix in (".xlsx", ".xls"):
            table = pd.read_excel(path, sheet_name=layer or 0)
        else:
            table = pd.read_csv(path, encoding="utf-8-sig")
    except Exception as exc:  # GDAL, Excel and CSV readers each raise their own kind
        if isinstance(exc, UnicodeDecodeError):
            reason = "bytes that are not UTF-8 text"
        else:
            reason = str(exc).split(";")[0][:200]
        raise EstateValidationError(
            [Problem(str(path), None, None, "a readable points file", reason)]
        ) from None
    lower = {str(column).strip().lower(): column for column in table.columns}
    for (x_name, y_name), crs in _COORDINATE_COLUMNS:
        if x_name in lower and y_name in lower:
            x = numbers_from_text(table[lower[x_name]])
            y = numbers_from_text(table[lower[y_name]])
            unread = []
            for name, values in ((x_name, x), (y_name, y)):
                column = table[lower[name]]
                written = column.astype("string").str.strip().fillna("") != ""
                for position in np.flatnonzero((written & values.isna()).to_numpy()):
                    unread.append((int(position), str(lower[name]), column.iloc[position]))
            points = gpd.GeoDataFrame(
                table.drop(columns=[lower[x_name], lower[y_name]]),
                geometry=gpd.points_from_xy(x, y),
                crs=crs,
            )
            # Rows without both coordinates become missing geometries, reported by the caller.
            points.loc[x.isna() | y.isna(), "geometry"] = None
            return points, [], unread
    expected = "coordinate columns x/y, easting/northing or lon/lat"
    found = "columns " + ", ".join(map(str, table.columns))
    return gpd.GeoDataFrame(table), [Problem(str(path), None, None, expected, found)], []


def load_point_demand(
    path: str | Path,
    weight_column: str = "population",
    layer: str | None = None,
    id_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Demand points from any points file, weighted by one of its columns.

    Incidents are the same thing with ``weight_column="incidents"`` (or ``"count"``).

    Parameters
    ----------
    path : str or Path
        GeoPackage, GeoJSON, Shapefile, or CSV/XLSX with x/y, easting/northing or lon/lat columns
        (x/y and easting/northing are read as EPSG:27700, lon/lat as WGS84).
    weight_column : str, default "population"
        Column of non-negative weights.
    layer : str, optional
        Layer (GeoPackage) or sheet (XLSX) to read.
    id_column : str, optional
        Column of unique ids; without it the ids are the row numbers (1-based).

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``demand_id``; columns ``name`` (from a ``name`` column when present, else the id),
        ``weight``, geometry (points in EPSG:27700; polygons give their representative point).

    Raises
    ------
    EstateValidationError
        Listing every problem: missing columns, missing geometry, negative or non-numeric
        weights, duplicate ids.
    """
    path = Path(path)
    problem = file_problem(path, str(path), "a demand points file")
    if problem is not None:
        raise EstateValidationError([problem])
    points, problems, unread = _read_points(path, layer)
    if id_column is None and "demand_id" in points.columns:
        id_column = "demand_id"  # the register's own name for it
    problems += _missing_columns(path, points, [weight_column])
    if id_column is not None:
        problems += _missing_columns(path, points, [id_column])
    if problems:
        raise EstateValidationError(problems)

    if id_column is None:
        ids = pd.Series([str(i + 1) for i in range(len(points))], index=points.index)
    else:
        ids = points[id_column].astype("string").str.strip()
    for position, value in enumerate(ids):
        if pd.isna(value) or value == "":
            problems.append(Problem(str(path), f"row {position + 1}", id_column, "an id", "none"))
    duplicated = ids[ids.duplicated(keep=False) & ids.notna()]
    for value in dict.fromkeys(duplicated):
        count = int((ids == value).sum())
        problems.append(
            Problem(str(path), value, id_column, "a unique id", f"{count} rows with this id")
        )

    for position, column, value in unread:
        problems.append(
            Problem(str(path), _row_label(ids, position), column, "a number", _shown(value))
        )
    weights = numbers_from_text(points[weight_column])
    for position in np.flatnonzero((~_plausible_weight(weights)).to_numpy()):
        found = points[weight_column].iloc[position]
        problems.append(
            Problem(
                str(path),
                _row_label(ids, position),
                weight_column,
                _weight_expected(weights.iloc[position]),
                _shown(found),
            )
        )
    problems += _zero_total(path, weights, weight_column)
    if len(points) == 0:
        problems.append(Problem(str(path), None, None, "at least one demand point", "no rows"))
    missing_geometry = points.geometry.isna() | points.geometry.is_empty
    unread_rows = {position for position, _, _ in unread}
    for position in np.flatnonzero(missing_geometry.to_numpy()):
        if position in unread_rows:
            continue  # named above, with its column and value
        problems.append(
            Problem(str(path), _row_label(ids, position), "geometry", "a location", "none")
        )
    if points.crs is None and not missing_geometry.all():
        problems.append(
            Problem(str(path), None, "geometry", "a coordinate reference system", "none")
        )
    if problems:
        raise EstateValidationError(problems)

    geometry = points.geometry.to_crs(BNG)
    if not (geometry.geom_type == "Point").all():
        geometry = geometry.representative_point()
    labels = [_row_label(ids, position) for position in range(len(ids))]
    problems += point_problems(str(path), labels, geometry.x, geometry.y, "geometry")[0]
    if problems:
        raise EstateValidationError(problems)
    names = points["name"].astype("string") if "name" in points.columns else ids
    demand = gpd.GeoDataFrame(
        {"name": names.to_numpy(), "weight": weights.to_numpy()},
        geometry=geometry.to_numpy(),
        index=pd.Index(ids.to_numpy(), name="demand_id", dtype="string"),
        crs=BNG,
    )
    logger.info(
        "Loaded %s demand points (total %s %s) from %s",
        f"{len(demand):,}",
        f"{demand['weight'].sum():,.0f}",
        weight_column,
        path,
    )
    return demand


def _row_label(ids: pd.Series, position: int) -> str:
    value = ids.iloc[position]
    return f"row {position + 1}" if pd.isna(value) or value == "" else str(value)


def _shown(value: object) -> str:
    """A found value as a message shows it: text quoted, numbers plain, blanks as 'nothing'."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "nothing"
    return repr(value) if isinstance(value, str) else str(value)
