"""Checks shared by every loader: plausible ceilings, readable files, plausible coordinates.

A value can be a valid number and still be nonsense for a register: ``1e308`` pounds,
``inf`` square metres, a site in the sea off Africa because its degrees were labelled as
metres. The ceilings below are far above any real public building (they catch typos, unit
mix-ups and overflow, not judgements), and are listed in README.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import Problem

__all__ = [
    "BNG_LAND",
    "CEILINGS",
    "DEMAND_WEIGHT_MAX",
    "TEXT_MAX",
    "declared_crs_problems",
    "file_problem",
    "looks_like_degrees",
    "outside_great_britain",
    "point_problems",
    "sites_near_demand",
    "swap_problems",
    "swapped_axes",
]

# Largest plausible value per register column (all must also be finite).
CEILINGS: dict[str, tuple[float, str]] = {
    "gia_m2": (1_000_000, "1,000,000 m²"),
    "space_m2": (1_000_000, "1,000,000 m²"),
    "running_cost": (1_000_000_000, "£1,000,000,000 a year"),
    "market_value": (10_000_000_000, "£10,000,000,000"),
    "backlog_cost": (10_000_000_000, "£10,000,000,000"),
    "disposal_cost": (10_000_000_000, "£10,000,000,000"),
    "lease_exit_cost": (10_000_000_000, "£10,000,000,000"),
    "build_cost": (10_000_000_000, "£10,000,000,000"),
    "covenant_receipt_cap": (10_000_000_000, "£10,000,000,000"),
    "fit_out_cost_per_m2": (100_000, "£100,000 per m²"),
    "staff": (100_000, "100,000 people"),
    "max_move_km": (1_500, "1,500 km"),
    "build_years": (50, "50 years"),
}
DEMAND_WEIGHT_MAX = 100_000_000  # more people than live in the United Kingdom
#: Longest text in a register cell (ids, names, codes); a covenant may be longer.
TEXT_MAX = {"covenant": 10_000, None: 1_000}

# Where land is in British National Grid metres: St Kilda to Lowestoft, Scilly to Shetland.
# (The grid's origin lies in the sea south-west of Scilly.)
BNG_LAND = (5_000.0, 5_000.0, 660_000.0, 1_225_000.0)
# Great Britain in degrees: a "British National Grid" point inside this box is almost
# certainly longitude and latitude labelled as metres.
_GB_DEGREES = (-9.0, 49.0, 2.5, 61.0)
#: Demand none of whose points is this close to a site is for some other place.
DEMAND_APART_M = 50_000.0
# A point this far from the rest of its register, which would lie among them with its two
# coordinates exchanged, has had its easting and northing swapped.
_SWAP_FAR_M = 25_000.0
_SWAP_NEAR_M = 5_000.0


def numbers_from_text(series: pd.Series) -> pd.Series:
    """Numbers as written in a register ("1,632", "£250,000") as floats; NaN when not a
    number. A comma counts only between groups of three digits: "1,5" (a decimal comma to
    some) is not read as 15."""
    text = series.astype("string").str.replace("£", "", regex=False).str.strip()
    grouped = text.str.fullmatch(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?").fillna(False)
    text = text.where(~text.str.contains(",", regex=False).fillna(False) | grouped)
    return pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce").astype(float)


def file_problem(path: Path, label: str, wanted: str) -> Problem | None:
    """Why ``path`` cannot be read as ``wanted``, or None when it can be opened.

    Catches what the readers would report as a traceback or hang on: a missing file or a
    broken link, a folder, a pipe or device, an empty file, a file the user may not read.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        found = "a broken link" if path.is_symlink() else "no such file"
        return Problem(label, None, None, wanted, found)
    except OSError as exc:  # a link loop, a name too long, a folder we may not enter
        return Problem(label, None, None, wanted, f"a path that cannot be opened ({exc.strerror})")
    if stat.S_ISDIR(info.st_mode):
        return Problem(label, None, None, wanted, "a folder")
    if not stat.S_ISREG(info.st_mode):
        return Problem(label, None, None, wanted, "a pipe or device, not a file")
    if info.st_size == 0:
        return Problem(label, None, None, wanted, "an empty file (0 bytes)")
    try:
        with path.open("rb") as stream:
            stream.read(1)
    except OSError as exc:
        return Problem(label, None, None, wanted, f"a file that cannot be read ({exc.strerror})")
    return None


def readable_folder(path: Path) -> bool:
    """True when ``path`` is a folder whose entries can be listed."""
    return path.is_dir() and os.access(path, os.R_OK | os.X_OK)


def looks_like_degrees(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Points whose "metres" are longitude and latitude of Great Britain."""
    x0, y0, x1, y1 = _GB_DEGREES
    return (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)


def outside_great_britain(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Points (British National Grid) off the land of Great Britain's bounding box."""
    x0, y0, x1, y1 = BNG_LAND
    inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
    return ~(inside & np.isfinite(xs) & np.isfinite(ys))


def _nearest_other(tree, points: np.ndarray, own: np.ndarray | None) -> np.ndarray:
    """Distance from each point to the nearest tree point that is not ``own[i]``."""
    k = 1 if own is None else 2
    distance, index = tree.query(points, k=k)
    if own is None:
        return np.asarray(distance, dtype=float)
    first_is_own = index[:, 0] == own
    return np.where(first_is_own, distance[:, 1], distance[:, 0])


def swapped_axes(xy: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Points whose easting and northing were exchanged.

    A point is flagged when it lies far from every reference point (by default the other
    points of its own layer) and would lie close to one with its coordinates exchanged. A
    layer swapped as a whole is caught against another layer (sites against demand).
    """
    from scipy.spatial import cKDTree

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    usable = np.isfinite(xy).all(axis=1)
    flagged = np.zeros(len(xy), dtype=bool)
    own_layer = reference is None
    reference = xy[usable] if own_layer else np.asarray(reference, dtype=float).reshape(-1, 2)
    reference = reference[np.isfinite(reference).all(axis=1)]
    if usable.sum() == 0 or len(reference) < (3 if own_layer else 1):
        return flagged
    tree = cKDTree(reference)
    points = xy[usable]
    own = np.arange(len(points)) if own_layer else None
    far = _nearest_other(tree, points, own) > _SWAP_FAR_M
    near_swapped = _nearest_other(tree, points[:, ::-1], own) < _SWAP_NEAR_M
    flagged[usable] = far & near_swapped
    return flagged


def point_problems(
    label: str, ids, xs: np.ndarray, ys: np.ndarray, column: str
) -> tuple[list[Problem], np.ndarray]:
    """Problems of points given in British National Grid metres, and which points are bad.

    Names non-finite coordinates, longitude and latitude labelled as metres, and points off
    Great Britain (with a hint when the two coordinates look exchanged). Missing points
    (NaN) are left to the caller.
    """
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    ids = [str(i) for i in ids]
    present = ~(np.isnan(xs) | np.isnan(ys))
    infinite = present & ~(np.isfinite(xs) & np.isfinite(ys))
    finite = present & ~infinite
    degrees = finite & looks_like_degrees(xs, ys)
    outside = finite & ~degrees & outside_great_britain(xs, ys)
    swapped = outside & ~outside_great_britain(ys, xs)
    problems: list[Problem] = []
    for i in np.flatnonzero(infinite | degrees | outside):
        where = f"({xs[i]:g}, {ys[i]:g})"
        if infinite[i]:
            expected, found = "finite coordinates", where
        elif degrees[i]:
            expected = "British National Grid metres (EPSG:27700)"
            found = f"{where}: longitude and latitude in degrees, labelled as metres?"
        else:
            expected = "a location in Great Britain (EPSG:27700)"
            found = where + (" (easting and northing swapped?)" if swapped[i] else "")
        problems.append(Problem(label, ids[i], column, expected, found))
    return problems, infinite | degrees | outside


def declared_crs_problems(
    label: str, ids: pd.Series, geometry: gpd.GeoSeries, missing: pd.Series
) -> tuple[list[Problem], pd.Series]:
    """Rows whose coordinates cannot be in the CRS the layer declares: metres labelled as
    degrees, or longitude and latitude labelled as British National Grid metres."""
    flagged = pd.Series(False, index=geometry.index)
    usable = ~missing.to_numpy()
    if not usable.any():
        return [], flagged
    bounds = geometry[usable].bounds
    xs = ((bounds["minx"] + bounds["maxx"]) / 2).to_numpy()
    ys = ((bounds["miny"] + bounds["maxy"]) / 2).to_numpy()
    crs = geometry.crs
    name = crs.to_string()
    if crs.is_geographic:
        wrong = ~((np.abs(xs) <= 180) & (np.abs(ys) <= 90))
        expected = f"longitude and latitude in degrees (the layer's CRS is {name})"
        hint = "metres labelled as degrees?"
    elif crs.equals("EPSG:27700"):
        wrong = looks_like_degrees(xs, ys)
        expected = f"British National Grid metres (the layer's CRS is {name})"
        hint = "longitude and latitude in degrees, labelled as metres?"
    else:
        return [], flagged
    problems = [
        Problem(label, str(row), "geometry", expected, f"({x:g}, {y:g}): {hint}")
        for row, x, y in zip(ids[usable][wrong], xs[wrong], ys[wrong], strict=True)
    ]
    flagged[np.flatnonzero(usable)[wrong]] = True
    return problems, flagged


def _located(frame: gpd.GeoDataFrame) -> tuple[pd.Index, np.ndarray]:
    """Ids and representative points (x, y) of the rows that have a usable geometry."""
    geometry = frame.geometry
    usable = ~(geometry.isna() | geometry.is_empty).to_numpy()
    usable &= geometry.geom_type.isin(["Point", "Polygon", "MultiPolygon"]).to_numpy()
    usable[usable] &= geometry[usable].is_valid.to_numpy()
    points = geometry[usable].representative_point()
    return frame.index[usable], np.column_stack([points.x.to_numpy(), points.y.to_numpy()])


def _swapped(label: str, ids, xy: np.ndarray, flagged: np.ndarray, expected: str, why: str):
    return [
        Problem(label, str(row), "geometry", expected, f"({x:.0f}, {y:.0f}), {why}")
        for row, (x, y) in zip(ids[flagged], xy[flagged], strict=True)
    ]


def swap_problems(
    sites: gpd.GeoDataFrame, sites_label: str, demand: gpd.GeoDataFrame | None, demand_label: str
) -> list[Problem]:
    """Sites and demand points whose easting and northing look exchanged: far from the rest of
    their layer (or sites far from every demand point), but among them once swapped."""
    why = "far from them: easting and northing swapped?"
    site_ids, site_xy = _located(sites)
    flagged = swapped_axes(site_xy)
    problems = _swapped(
        sites_label, site_ids, site_xy, flagged, "a location near the other sites", why
    )
    if demand is None or demand.empty:
        return problems
    demand_ids, demand_xy = _located(demand)
    flagged_demand = swapped_axes(demand_xy)
    expected = "a location near the other demand points"
    problems += _swapped(demand_label, demand_ids, demand_xy, flagged_demand, expected, why)
    remaining = sites.loc[site_ids[~flagged]]
    keep = demand.loc[demand_ids[~flagged_demand]]
    return problems + sites_near_demand(remaining, sites_label, keep, demand_label)


def sites_near_demand(
    sites: gpd.GeoDataFrame, sites_label: str, demand: gpd.GeoDataFrame, demand_label: str
) -> list[Problem]:
    """Sites far from every demand point that would sit among them with easting and northing
    exchanged: the sites, or the demand points, have their coordinates swapped."""
    site_ids, site_xy = _located(sites)
    _, demand_xy = _located(demand)
    flagged = swapped_axes(site_xy, demand_xy)
    why = (
        "far from all of them but beside one with easting and northing swapped: this site's "
        "or the demand's coordinates are swapped?"
    )
    expected = f"a location near the demand points ({demand_label})"
    problems = _swapped(sites_label, site_ids, site_xy, flagged, expected, why)
    if not problems and len(site_xy) and len(demand_xy):
        from scipy.spatial import cKDTree

        nearest = float(cKDTree(site_xy).query(demand_xy)[0].min())
        if nearest > DEMAND_APART_M:
            problems.append(
                Problem(
                    demand_label,
                    None,
                    "geometry",
                    f"demand points where the estate is (within {DEMAND_APART_M / 1000:,.0f} "
                    f"km of a site of {sites_label})",
                    f"every point at least {nearest / 1000:,.0f} km from every site",
                )
            )
    return problems
