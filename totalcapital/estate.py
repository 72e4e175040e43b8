"""The estate register: load sites, services and demand, validate them in one pass, reproject.

Sites are buildings or plots; services are organisations' uses of space. Registers
arrive as a GeoPackage (layers ``sites``, ``services``, optional ``demand``), an Excel
workbook (sheets of the same names), or single files (GeoJSON, Shapefile, CSV) with
the services in a sibling file. CSV and Excel rows are located by ``lon``/``lat``,
``easting``/``northing`` or a ``postcode`` looked up in an OS Code-Point Open file.

Every problem is collected with its file, row id and column, and all are raised at
once as one :class:`EstateValidationError`, so a register is fixed in one round. Beyond
types and required values, a register is checked for what would make a plan meaningless:
non-finite or absurd numbers (``_validate.CEILINGS``), empty layers, demand that weighs
nothing, control characters in text, coordinates that do not fit their declared CRS
(degrees labelled as metres), and points whose easting and northing look exchanged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely import points as make_points

from ._errors import EstateValidationError, Problem
from ._text import control_characters, meant_name, tidy_whitespace
from ._validate import (
    BNG_LAND,
    CEILINGS,
    DEMAND_WEIGHT_MAX,
    TEXT_MAX,
    declared_crs_problems,
    file_problem,
    numbers_from_text,
    point_problems,
    sites_near_demand,
    swap_problems,
)

log = logging.getLogger(__name__)

__all__ = [
    "BNG",
    "CAPABILITY_COLUMNS",
    "Estate",
    "load_estate",
    "read_layer",
]

BNG = "EPSG:27700"

TENURES = ("freehold", "leasehold")
STATUSES = ("operational", "surplus", "candidate")

# Site capability flags the scenario's rules.capabilities may ask for; other yes/no columns
# in a register are picked up as flags too.
CAPABILITY_COLUMNS = ("appliance_bays", "ambulance_bays", "custody", "public_counter")

# Great Britain in British National Grid and in WGS84: a point outside is almost always
# swapped or mistyped coordinates.
_BNG_BOUNDS = BNG_LAND
_WGS84_BOUNDS = (-9.0, 49.0, 2.5, 61.0)
# Lease breaks outside these years are typing mistakes.
_DATES = (pd.Timestamp("1900-01-01"), pd.Timestamp("2300-12-31"))

_SITE_TEXT = {"name": True, "owner": True, "tenure": True, "status": True, "covenant": False}
_SITE_MONEY = {
    "gia_m2": True,
    "running_cost": True,
    "market_value": True,
    "backlog_cost": False,
    "disposal_cost": False,
    "lease_exit_cost": False,
    "build_cost": False,
    "covenant_receipt_cap": False,
}
_SITE_BOOL = {"listed": False, "covenant_forbids_disposal": False}

_SERVICE_TEXT = {"org": True, "service_type": True, "current_site": True}
_SERVICE_NUMBERS = {
    "space_m2": True,
    "staff": False,
    "fit_out_cost_per_m2": False,
    "max_move_km": False,
}
_SERVICE_BOOL = {"public_facing": False, "movable": True}

_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}

_LON = ("lon", "longitude", "lng")
_LAT = ("lat", "latitude")
_EAST = ("easting", "x")
_NORTH = ("northing", "y")
_PLACE = (*_LON, *_LAT, *_EAST, *_NORTH, "postcode")

#: Every column each layer reads: a column named almost like one of these is a typing mistake
#: that would otherwise be ignored (or, on a site, taken for a capability).
_READ_COLUMNS = {
    "site": (
        "site_id",
        *_SITE_TEXT,
        *_SITE_MONEY,
        *_SITE_BOOL,
        *CAPABILITY_COLUMNS,
        "lease_break",
        "lease_end",
        "build_years",
        *_PLACE,
    ),
    "service": ("service_id", *_SERVICE_TEXT, *_SERVICE_NUMBERS, *_SERVICE_BOOL),
    "demand point": ("demand_id", "weight", "population", *_PLACE),
}


@dataclass(frozen=True)
class Estate:
    """A validated estate register in British National Grid (EPSG:27700).

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        Indexed by ``site_id``; normalised columns as described in README.
    services : pandas.DataFrame
        Indexed by ``service_id``.
    demand : geopandas.GeoDataFrame or None
        Indexed by ``demand_id`` with a float ``weight`` column.
    source : str
        Where the register came from, for messages and records.
    capabilities : tuple of str
        The boolean capability columns present on ``sites``.
    files : dict
        Every file read, by role (``sites``, ``services``, ``demand``, ``postcodes``).
    """

    sites: gpd.GeoDataFrame
    services: pd.DataFrame
    demand: gpd.GeoDataFrame | None
    source: str
    capabilities: tuple[str, ...] = ()
    files: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def from_frames(
        cls,
        sites: pd.DataFrame,
        services: pd.DataFrame,
        demand: pd.DataFrame | None = None,
        source: str = "<memory>",
    ) -> Estate:
        """Validate and normalise registers built in code (ids may be columns or the index)."""
        checker = _Checker()
        estate = _normalise(checker, sites, services, demand, source, source, source, None)
        checker.raise_if_any()
        return estate

    @property
    def partners(self) -> list[str]:
        """Every partner that owns a site or runs a service, sorted."""
        return sorted(set(self.sites["owner"]) | set(self.services["org"]))


class _Checker:
    """Collects problems; raises them together."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, row_id, column: str | None, expected: str, found) -> None:
        row = None if row_id is None else str(row_id)
        self.problems.append(Problem(file, row, column, expected, _describe(found)))

    def raise_if_any(self) -> None:
        if self.problems:
            raise EstateValidationError(self.problems)


def _describe(value) -> str:
    if isinstance(value, str) and value.startswith("\0"):
        return value[1:]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "a blank"
    if isinstance(value, str):
        shown = repr(value)  # quotes it and escapes control characters
        return shown if len(shown) <= 80 else shown[:76] + "…' (" + f"{len(value):,} characters)"
    return str(value)


def _found(text: str) -> str:
    """Mark ``text`` as a description rather than a value to be quoted."""
    return "\0" + text


def _is_blank(series: pd.Series) -> pd.Series:
    as_text = series.astype("string").str.strip()
    return series.isna() | as_text.isna() | (as_text == "")


# --------------------------------------------------------------------------- reading


def read_layer(path: Path, layer: str | None = None) -> pd.DataFrame:
    """Read one table from a GeoPackage/GeoJSON/Shapefile (as a GeoDataFrame) or CSV/XLSX.

    CSV and Excel cells are read as text so validation can say exactly what was found.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if len(table.columns) == 1 and ";" in str(table.columns[0]):
            raise ValueError(_SEMICOLONS)
    elif suffix in (".xlsx", ".xlsm"):
        table = pd.read_excel(path, sheet_name=layer or 0, dtype=str, keep_default_na=False)
        _restore_excel_errors(path, layer, table)
    else:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    # Rows with nothing in them (a spreadsheet's trailing blank lines) are no rows.
    blank = table.apply(lambda column: column.astype(str).str.strip().eq("")).all(axis=1)
    return table[~blank].reset_index(drop=True)


def _restore_excel_errors(path: Path, layer: str | None, table: pd.DataFrame) -> None:
    """Put back the error cells (#DIV/0!, #REF!) the Excel reader turns into blanks, so they
    are reported as what they are, not read as nothing (and an optional £ as 0)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book[layer] if layer else book.worksheets[0]
        for r, row in enumerate(sheet.iter_rows(min_row=2), start=0):
            for c, cell in enumerate(row):
                if cell.data_type == "e" and r < len(table) and c < len(table.columns):
                    table.iat[r, c] = str(cell.value)
    finally:
        book.close()


_SEMICOLONS = "rows separated by semicolons, not commas: save it as CSV with commas"


def _unread(exc: Exception, path: Path) -> str:
    """Why a table could not be read, in words a person can act on."""
    if isinstance(exc, UnicodeDecodeError):
        # The reader decodes in chunks: find the place in the whole file.
        data = path.read_bytes()
        try:
            data.decode("utf-8")
            start = 0
        except UnicodeDecodeError as whole:
            start = whole.start
        line = data[:start].count(b"\n") + 1
        return (
            f"text that is not UTF-8 at line {line} (in Excel, save it as 'CSV UTF-8'; it was "
            "probably saved as Windows text)"
        )
    if isinstance(exc, pd.errors.ParserError) and "Expected 1 fields" in str(exc):
        return _SEMICOLONS
    return str(exc).split(";")[0].strip()[:200]


def _layers(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        with pd.ExcelFile(path) as workbook:
            return [str(name) for name in workbook.sheet_names]
    if suffix == ".gpkg":
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    return []


def _sibling(folder: Path, stem: str) -> Path | None:
    for suffix in (".gpkg", ".geojson", ".json", ".shp", ".csv", ".xlsx"):
        candidate = folder / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    return None


def _list_layers(path: Path) -> list[str]:
    """The layers or sheets of ``path``; a damaged or mislabelled file is one clear problem."""
    try:
        return _layers(path)
    except Exception as exc:  # GDAL, SQLite, zip and Excel readers each raise their own kind
        kind = "Excel workbook" if path.suffix.lower() in (".xlsx", ".xlsm") else "GeoPackage"
        reason = str(exc).split(";")[0].strip()[:200]
        raise EstateValidationError(
            [Problem(path.name, None, None, f"a readable {kind}", f"a damaged file ({reason})")]
        ) from None


def _locate_inputs(path: Path, services: Path | None, demand: Path | None):
    """Work out which file and layer holds sites, services and demand."""
    if path.is_dir():
        sites_file = _sibling(path, "sites")
        if sites_file is None:
            raise EstateValidationError(
                [Problem(str(path), None, None, "a sites.gpkg/.geojson/.csv file", "none")]
            )
        path = sites_file
        problem = file_problem(path, path.name, "a sites table")
        if problem is not None:
            raise EstateValidationError([problem])
    layers = _list_layers(path)
    if layers:
        if "sites" not in layers:
            raise EstateValidationError(
                [Problem(path.name, None, None, "a layer named 'sites'", f"layers {layers}")]
            )
        sites_src = (path, "sites")
        services_src = (services, None) if services else None
        if services_src is None and "services" in layers:
            services_src = (path, "services")
        demand_src = (demand, None) if demand else None
        if demand_src is None and "demand" in layers:
            demand_src = (path, "demand")
    else:
        sites_src = (path, None)
        services_src = (services, None) if services else None
        if services_src is None:
            sibling = _sibling(path.parent, "services")
            services_src = (sibling, None) if sibling else None
        demand_src = (demand, None) if demand else None
        if demand_src is None:
            sibling = _sibling(path.parent, "demand")
            demand_src = (sibling, None) if sibling else None
    if services_src is None:
        raise EstateValidationError(
            [
                Problem(
                    path.name,
                    None,
                    None,
                    "a 'services' layer or sheet, or a services file beside the sites",
                    "none",
                )
            ]
        )
    return sites_src, services_src, demand_src


def _label(src: tuple[Path, str | None]) -> str:
    path, layer = src
    return (
        f"{path.name}:{layer}" if layer and path.suffix.lower() in (".gpkg", ".xlsx") else path.name
    )


def load_estate(
    path: str | Path,
    *,
    services: str | Path | None = None,
    demand: str | Path | None = None,
    postcodes: str | Path | None = None,
) -> Estate:
    """Load, validate and reproject an estate register.

    Parameters
    ----------
    path : path
        A GeoPackage or Excel workbook with ``sites`` and ``services`` (and optional
        ``demand``) layers/sheets, a folder holding ``sites.*`` and ``services.*``, or a
        single sites file (services then come from ``services`` or a sibling file).
    services, demand : path, optional
        Separate files for services and demand.
    postcodes : path, optional
        An OS Code-Point Open CSV or folder, to locate rows that give only a postcode.

    Raises
    ------
    EstateValidationError
        Listing every problem found, each with file, row id and column.
    """
    path = Path(path)
    checker = _Checker()
    if not path.is_dir():
        problem = file_problem(path, str(path), "an estate register file")
        if problem is not None:
            raise EstateValidationError([problem])
    for option, given in (("--services", services), ("--demand", demand)):
        if given is not None:
            problem = file_problem(Path(given), str(given), f"a {option[2:]} file ({option})")
            if problem is not None:
                checker.problems.append(problem)
    checker.raise_if_any()
    sites_src, services_src, demand_src = _locate_inputs(
        path, Path(services) if services else None, Path(demand) if demand else None
    )
    frames = {}
    for role, src in (("sites", sites_src), ("services", services_src), ("demand", demand_src)):
        frames[role] = None
        if src is None:
            continue
        problem = file_problem(src[0], _label(src), f"a readable {role} table")
        if problem is not None:
            checker.problems.append(problem)
            continue
        try:
            frames[role] = read_layer(*src)
        except Exception as exc:  # a file the readers cannot open at all
            reason = _unread(exc, src[0])
            checker.add(_label(src), None, None, f"a readable {role} table", _found(reason))
    checker.raise_if_any()

    postcode_index = None
    if postcodes is not None:
        from .geocode import PostcodeIndex

        postcode_index = PostcodeIndex.from_codepoint_open(Path(postcodes))

    estate = _normalise(
        checker,
        frames["sites"],
        frames["services"],
        frames["demand"],
        _label(sites_src),
        _label(services_src),
        _label(demand_src) if demand_src else "",
        postcode_index,
    )
    checker.raise_if_any()
    files = {"sites": sites_src[0], "services": services_src[0]}
    if demand_src:
        files["demand"] = demand_src[0]
    if postcodes is not None:
        files["postcodes"] = Path(postcodes)
    estate = Estate(
        estate.sites, estate.services, estate.demand, str(path), estate.capabilities, files
    )
    log.info(
        "Loaded %s sites, %s services%s from %s",
        f"{len(estate.sites):,}",
        f"{len(estate.services):,}",
        f", {len(estate.demand):,} demand points" if estate.demand is not None else "",
        path.name,
    )
    return estate


# ------------------------------------------------------------------------- validation


def _clean_text(checker, label, ids, column, text: pd.Series) -> pd.Series:
    """Line breaks and tabs inside a value become spaces; other control characters, and text
    longer than a cell should hold, are problems (they would break messages and workbooks)."""
    text = text.map(lambda v: tidy_whitespace(v).strip() if isinstance(v, str) else v)
    limit = TEXT_MAX.get(column, TEXT_MAX[None])
    for row, value in zip(ids, text, strict=True):
        if not isinstance(value, str):
            continue
        if control_characters(value):
            checker.add(label, row, column, "text without control characters", value)
        elif len(value) > limit:
            checker.add(label, row, column, f"at most {limit:,} characters", value)
    return text


def _ids(checker: _Checker, frame: pd.DataFrame, id_col: str, label: str) -> pd.Series | None:
    """Return the row ids as strings, reporting missing, blank and duplicate ids."""
    if id_col not in frame.columns:
        if frame.index.name == id_col:
            frame.reset_index(inplace=True)
        else:
            checker.add(label, None, id_col, f"a column '{id_col}'", _found("no such column"))
            return None
    raw = frame[id_col]
    blank = _is_blank(raw)
    ids = raw.astype("string").str.strip()
    row_numbers = pd.Series([f"row {i + 1}" for i in range(len(ids))], index=ids.index)
    ids = _clean_text(checker, label, row_numbers, id_col, ids.astype(object)).astype("string")
    for position in np.flatnonzero(blank.to_numpy()):
        checker.add(label, f"row {position + 1}", id_col, "an id", None)
    counts = ids[~blank].value_counts()
    for duplicate in sorted(counts[counts > 1].index):
        checker.add(label, duplicate, id_col, "a unique id", _found(f"{counts[duplicate]} rows"))
    row_labels = pd.Series([f"row {i + 1}" for i in range(len(ids))], index=ids.index)
    return ids.where(~blank, row_labels).astype(object)


def _text(checker, frame, ids, column, required, label, default="") -> pd.Series:
    if column not in frame.columns:
        if required:
            checker.add(label, None, column, f"a column '{column}'", _found("no such column"))
        return pd.Series(default, index=frame.index, dtype=object)
    raw = frame[column]
    blank = _is_blank(raw)
    if required:
        for row in ids[blank]:
            checker.add(label, row, column, "a value", None)
    text = raw.astype("string").str.strip().where(~blank, default).astype(object)
    return _clean_text(checker, label, ids, column, text)


def _numbers(
    checker, frame, ids, column, required, label, *, default=0.0, positive=False, ceiling=None
):
    """A numeric column: finite, not negative (or positive), and no more than its ceiling."""
    ceiling = ceiling or CEILINGS.get(column)
    if column not in frame.columns:
        if required:
            checker.add(label, None, column, f"a column '{column}'", _found("no such column"))
        return pd.Series(default, index=frame.index, dtype=float)
    raw = frame[column]
    blank = _is_blank(raw)
    values = numbers_from_text(raw)
    bad = ~blank & values.isna()
    for row, value in zip(ids[bad], raw[bad], strict=True):
        checker.add(label, row, column, "a number", value)
    if required:
        for row in ids[blank]:
            checker.add(label, row, column, "a number", None)
    infinite = values.notna() & ~np.isfinite(values)
    for row, value in zip(ids[infinite], raw[infinite], strict=True):
        checker.add(label, row, column, "a finite number", value)
    finite = values.notna() & ~infinite
    if positive:
        wrong = finite & (values <= 0)
        expectation = "a number greater than 0"
    else:
        wrong = finite & (values < 0)
        expectation = "a number of 0 or more"
    for row, value in zip(ids[wrong], values[wrong], strict=True):
        checker.add(label, row, column, expectation, value)
    if ceiling is not None:
        limit, shown = ceiling
        too_big = finite & (values > limit)
        for row, value in zip(ids[too_big], values[too_big], strict=True):
            checker.add(label, row, column, f"at most {shown} (a plausible ceiling)", value)
    return values.where(~blank, default)


def _booleans(checker, frame, ids, column, label, default: bool) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(default, index=frame.index, dtype=bool)
    raw = frame[column]
    blank = _is_blank(raw)
    text = raw.astype("string").str.strip().str.lower()
    truthy = text.isin(_TRUE)
    falsy = text.isin(_FALSE)
    bad = ~blank & ~truthy & ~falsy
    for row, value in zip(ids[bad], raw[bad], strict=True):
        checker.add(label, row, column, "yes/no (true/false)", value)
    return pd.Series(np.where(blank, default, truthy.fillna(False)), index=frame.index, dtype=bool)


def _choice(checker, frame, ids, column, allowed, label) -> pd.Series:
    values = _text(checker, frame, ids, column, True, label).str.lower()
    bad = (values != "") & ~values.isin(allowed)
    for row, value in zip(ids[bad], values[bad], strict=True):
        checker.add(label, row, column, f"one of {', '.join(allowed)}", value)
    return values


def _pick(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def _geometry(checker, frame, ids, label, postcode_index) -> gpd.GeoSeries:
    """Point or polygon geometry in EPSG:27700, from a geometry column, coordinates or postcodes."""
    index = frame.index
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        geometry = frame.geometry
        if geometry.crs is None:
            checker.add(
                label,
                None,
                "geometry",
                "a coordinate reference system (e.g. EPSG:27700)",
                _found("none"),
            )
            return gpd.GeoSeries([None] * len(index), index=index, crs=BNG)
        missing = geometry.isna() | geometry.is_empty
        for row in ids[missing.to_numpy()]:
            checker.add(label, row, "geometry", "a point or polygon", _found("no geometry"))
        problems, declared = declared_crs_problems(label, ids, geometry, missing)
        checker.problems.extend(problems)
        geometry = geometry.to_crs(BNG)
    else:
        # Rows without coordinates are reported there, naming the coordinate columns.
        geometry = _geometry_from_columns(checker, frame, ids, label, postcode_index)
        missing = geometry.isna() | geometry.is_empty
        declared = pd.Series(False, index=index)
    present = ~missing
    kinds = geometry.geom_type
    wrong_kind = present & ~kinds.isin(["Point", "Polygon", "MultiPolygon"])
    for row, kind in zip(ids[wrong_kind.to_numpy()], kinds[wrong_kind], strict=True):
        checker.add(label, row, "geometry", "a point or polygon", kind)
    invalid = present & ~wrong_kind & ~geometry.is_valid
    for row in ids[invalid.to_numpy()]:
        checker.add(label, row, "geometry", "a valid geometry", _found("an invalid shape"))
    inside = present & ~wrong_kind & ~invalid & ~declared.to_numpy()
    if inside.any():
        point = geometry[inside].representative_point()
        problems, _ = point_problems(label, ids[inside.to_numpy()], point.x, point.y, "geometry")
        checker.problems.extend(problems)
    return gpd.GeoSeries(geometry.to_numpy(), index=index, crs=BNG)


def _geometry_from_columns(checker, frame, ids, label, postcode_index) -> gpd.GeoSeries:
    index = frame.index
    lon, lat = _pick(frame, _LON), _pick(frame, _LAT)
    east, north = _pick(frame, _EAST), _pick(frame, _NORTH)
    postcode_col = _pick(frame, ("postcode",))
    xs = pd.Series(np.nan, index=index)
    ys = pd.Series(np.nan, index=index)
    if lon and lat:
        pair, crs, bounds = (lon, lat), "EPSG:4326", _WGS84_BOUNDS
    elif east and north:
        pair, crs, bounds = (east, north), BNG, _BNG_BOUNDS
    else:
        pair = None
    if pair is not None:
        x_raw, y_raw = frame[pair[0]], frame[pair[1]]
        x_blank, y_blank = _is_blank(x_raw), _is_blank(y_raw)
        xs = pd.to_numeric(x_raw.astype("string").str.strip(), errors="coerce").astype(float)
        ys = pd.to_numeric(y_raw.astype("string").str.strip(), errors="coerce").astype(float)
        for column, raw, blank, values in (
            (pair[0], x_raw, x_blank, xs),
            (pair[1], y_raw, y_blank, ys),
        ):
            bad = ~blank & values.isna()
            for row, value in zip(ids[bad], raw[bad], strict=True):
                checker.add(label, row, column, "a number", value)
        columns = f"{pair[0]}/{pair[1]}"
        if crs == BNG:
            problems, out = point_problems(label, ids, xs, ys, columns)
            checker.problems.extend(problems)
            out = pd.Series(out, index=index)
        else:
            x0, y0, x1, y1 = bounds
            inside = xs.between(x0, x1) & ys.between(y0, y1)
            out = xs.notna() & ys.notna() & ~inside
            swapped = ys.between(x0, x1) & xs.between(y0, y1)
            for row, x, y, swap in zip(ids[out], xs[out], ys[out], swapped[out], strict=True):
                hint = " (longitude and latitude swapped?)" if swap else ""
                checker.add(
                    label,
                    row,
                    columns,
                    f"coordinates in Great Britain ({crs})",
                    _found(f"({x:g}, {y:g}){hint}"),
                )
        xs, ys = xs.where(~out), ys.where(~out)
        if crs != BNG:
            projected = gpd.GeoSeries(make_points(xs.fillna(0), ys.fillna(0)), crs=crs).to_crs(BNG)
            ok = xs.notna() & ys.notna()
            xs = pd.Series(projected.x.to_numpy(), index=index).where(ok)
            ys = pd.Series(projected.y.to_numpy(), index=index).where(ok)
    located = xs.notna() & ys.notna()
    if postcode_col is not None and (~located).any():
        wanted = ~located & ~_is_blank(frame[postcode_col])
        if wanted.any() and postcode_index is None:
            for row in ids[wanted]:
                checker.add(
                    label,
                    row,
                    postcode_col,
                    "coordinates, or a postcode with a Code-Point Open file (--postcodes)",
                    _found("a postcode and no Code-Point Open file"),
                )
        elif wanted.any():
            found, _ = postcode_index.lookup(frame.loc[wanted, postcode_col])
            found = gpd.GeoSeries(found, crs=BNG)
            hit = ~(found.isna() | found.is_empty).to_numpy()
            wanted_ids = ids[wanted]
            for row, code in zip(
                wanted_ids[~hit], frame.loc[wanted, postcode_col][~hit], strict=True
            ):
                checker.add(
                    label, row, postcode_col, "a postcode in the Code-Point Open file", code
                )
            hit_index = frame.index[wanted][hit]
            xs.loc[hit_index] = found[hit].x.to_numpy()
            ys.loc[hit_index] = found[hit].y.to_numpy()
            located = xs.notna() & ys.notna()
    if pair is None and postcode_col is None:
        checker.add(
            label,
            None,
            "geometry",
            "lon/lat, easting/northing or postcode columns",
            _found(f"columns {list(frame.columns)}"),
        )
    else:
        coordinate_columns = {postcode_col, *(pair or ()), "/".join(pair or ())}
        reported = {
            p.row_id for p in checker.problems if p.file == label and p.column in coordinate_columns
        }
        for row in ids[~located]:
            if str(row) not in reported:
                checker.add(label, row, "geometry", "coordinates or a postcode", None)
    geoms = [
        make_points(x, y) if ok else None
        for x, y, ok in zip(xs.fillna(0), ys.fillna(0), located, strict=True)
    ]
    return gpd.GeoSeries(geoms, index=index, crs=BNG)


def _capability_columns(frame: pd.DataFrame, known: set[str]) -> list[str]:
    """Capability flags: the documented names, and any other column holding only yes/no values."""
    flags = []
    for column in frame.columns:
        name = str(column)
        if name in CAPABILITY_COLUMNS:
            flags.append(name)
            continue
        if name in known or name == "geometry" or name.startswith("_"):
            continue
        values = frame[column]
        present = values[~_is_blank(values)].astype("string").str.strip().str.lower()
        if (
            len(present)
            and present.isin(_TRUE | _FALSE).all()
            and present.isin({"true", "false", "yes", "no"}).any()
        ):
            flags.append(name)
    return flags


def _normalise_sites(checker, frame, label, postcode_index) -> tuple[gpd.GeoDataFrame, tuple]:
    frame = frame.copy()
    ids = _ids(checker, frame, "site_id", label)
    if ids is None:
        ids = pd.Series(
            [f"row {i + 1}" for i in range(len(frame))], index=frame.index, dtype=object
        )
    out = pd.DataFrame(index=frame.index)
    out["site_id"] = ids
    for column, required in _SITE_TEXT.items():
        if column in ("tenure", "status"):
            allowed = TENURES if column == "tenure" else STATUSES
            out[column] = _choice(checker, frame, ids, column, allowed, label)
        else:
            out[column] = _text(checker, frame, ids, column, required, label)
    status = out["status"]
    for column, required in _SITE_MONEY.items():
        default = np.nan if column == "covenant_receipt_cap" else 0.0
        if column == "market_value":
            # Candidate sites are not owned yet, so they have no market value.
            needed = required and bool((status != "candidate").any())
            values = _numbers(checker, frame, ids, column, False, label, default=default)
            if needed and column in frame.columns:
                blank = _is_blank(frame[column]) & (status != "candidate")
                for row in ids[blank]:
                    checker.add(label, row, column, "a number", None)
            elif needed:
                checker.add(label, None, column, f"a column '{column}'", _found("no such column"))
            out[column] = values
        else:
            out[column] = _numbers(
                checker,
                frame,
                ids,
                column,
                required,
                label,
                default=default,
                positive=(column == "gia_m2"),
            )
    for column, default in _SITE_BOOL.items():
        out[column] = _booleans(checker, frame, ids, column, label, default)

    candidates = status == "candidate"
    if "build_cost" in frame.columns:
        no_cost = candidates & _is_blank(frame["build_cost"])
    else:
        no_cost = candidates
    for row in ids[no_cost]:
        checker.add(label, row, "build_cost", "a build cost for a candidate site", None)

    for column in ("lease_break", "lease_end"):
        if column not in frame.columns:
            out[column] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
            continue
        raw = frame[column]
        blank = _is_blank(raw)
        # Only year-month-day: 01/05/2029 is 1 May to some and 5 January to others, and a
        # guess would move a lease break by months without a word.
        if pd.api.types.is_datetime64_any_dtype(raw):  # a GeoPackage's own date field
            # As written in Britain: a UTC reading of 00:00 BST is the day before.
            if raw.dt.tz is not None:
                raw = raw.dt.tz_convert("Europe/London").dt.tz_localize(None)
            raw = raw.dt.strftime("%Y-%m-%d")
            blank = _is_blank(raw)
        text = raw.astype("string").str.strip()
        iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
        dates = pd.to_datetime(text.where(iso.fillna(False)), errors="coerce", format="ISO8601")
        for row, value in zip(ids[~blank & dates.isna()], raw[~blank & dates.isna()], strict=True):
            checker.add(label, row, column, "a date written year-month-day (YYYY-MM-DD)", value)
        implausible = dates.notna() & ((dates < _DATES[0]) | (dates > _DATES[1]))
        for row, value in zip(ids[implausible], raw[implausible], strict=True):
            checker.add(label, row, column, "a date between 1900 and 2300", value)
        freehold_date = ~blank & (out["tenure"] == "freehold")
        for row, value in zip(ids[freehold_date], raw[freehold_date], strict=True):
            checker.add(
                label, row, column, f"no {column.replace('_', ' ')} on a freehold site", value
            )
        out[column] = dates.where(~blank & ~implausible)
    ends_first = out["lease_end"] < out["lease_break"]
    for row, end, brk in zip(
        ids[ends_first], out["lease_end"][ends_first], out["lease_break"][ends_first], strict=True
    ):
        checker.add(
            label,
            row,
            "lease_end",
            f"a lease end on or after its break ({brk:%Y-%m-%d})",
            _found(f"{end:%Y-%m-%d}"),
        )
    if "build_years" in frame.columns:
        out["build_years"] = _numbers(
            checker, frame, ids, "build_years", False, label, default=np.nan
        )
        late = out["build_years"].notna() & (status != "candidate")
        for row, value in zip(ids[late], out["build_years"][late], strict=True):
            checker.add(label, row, "build_years", "no build years on an existing site", value)
    else:
        out["build_years"] = np.nan

    known = set(out.columns) | {
        "site_id",
        "lon",
        "lat",
        "longitude",
        "latitude",
        "lng",
        "easting",
        "northing",
        "x",
        "y",
        "postcode",
    }
    capabilities = _capability_columns(frame, known)
    for column in capabilities:
        out[column] = _booleans(checker, frame, ids, column, label, False)
    for column in frame.columns:
        if column not in out.columns and column != getattr(frame, "_geometry_column_name", None):
            if column != "geometry":
                out[column] = frame[column]

    geometry = _geometry(checker, frame, ids, label, postcode_index)
    sites = gpd.GeoDataFrame(out, geometry=geometry.to_numpy(), crs=BNG)
    sites = sites.set_index("site_id")
    sites.index.name = "site_id"
    return sites, tuple(capabilities)


def _normalise_services(checker, frame, label, sites: gpd.GeoDataFrame, sites_label):
    frame = frame.copy()
    ids = _ids(checker, frame, "service_id", label)
    if ids is None:
        ids = pd.Series(
            [f"row {i + 1}" for i in range(len(frame))], index=frame.index, dtype=object
        )
    out = pd.DataFrame(index=frame.index)
    out["service_id"] = ids
    for column, required in _SERVICE_TEXT.items():
        out[column] = _text(checker, frame, ids, column, required, label)
    for column, required in _SERVICE_NUMBERS.items():
        out[column] = _numbers(
            checker,
            frame,
            ids,
            column,
            required,
            label,
            default=np.nan if column == "max_move_km" else 0.0,
            positive=column in ("space_m2", "max_move_km"),
        )
    for column, default in _SERVICE_BOOL.items():
        out[column] = _booleans(checker, frame, ids, column, label, default)
    for column in frame.columns:
        if column not in out.columns and column != "geometry":
            out[column] = frame[column]

    from ._map_symbols import SERVICE_LABELS

    # "Fire Station" or "fire_staion" would match no standard: name the type meant.
    kinds = out["service_type"]
    for kind in sorted(set(kinds) - set(SERVICE_LABELS) - {""}):
        meant = meant_name(kind, SERVICE_LABELS)
        if meant is not None and meant != kind:
            for row in ids[kinds == kind]:
                checker.add(label, row, "service_type", f"the service type '{meant}'", kind)

    current = out["current_site"]
    named = current != ""
    unknown = named & ~current.isin(sites.index)
    for row, site in zip(ids[unknown], current[unknown], strict=True):
        checker.add(label, row, "current_site", f"a site_id in {sites_label}", site)
    site_status = sites["status"][~sites.index.duplicated()]
    at_candidate = named & ~unknown & (current.map(site_status) == "candidate")
    for row, site in zip(ids[at_candidate], current[at_candidate], strict=True):
        checker.add(label, row, "current_site", "an existing (not candidate) site", site)
    gia = sites["gia_m2"].astype(float)
    # With no floor space read (no such column, or none valid: already reported) there is
    # nothing to compare with.
    largest = float(gia[gia > 0].max()) if (gia > 0).any() else np.inf
    too_big = out["space_m2"] > largest
    for row, value in zip(ids[too_big], out["space_m2"][too_big], strict=True):
        checker.add(
            label,
            row,
            "space_m2",
            f"no more than the largest site's floor space ({largest:,.0f} m2)",
            value,
        )
    services = pd.DataFrame(out).set_index("service_id")
    services.index.name = "service_id"
    return services


def _normalise_demand(checker, frame, label) -> gpd.GeoDataFrame:
    frame = frame.copy()
    id_col = (
        "demand_id" if "demand_id" in frame.columns or frame.index.name == "demand_id" else None
    )
    if id_col is None:
        checker.add(label, None, "demand_id", "a column 'demand_id'", _found("no such column"))
        return gpd.GeoDataFrame({"weight": []}, geometry=[], crs=BNG)
    ids = _ids(checker, frame, "demand_id", label)
    weight_col = "weight" if "weight" in frame.columns else "population"
    out = pd.DataFrame(index=frame.index)
    out["demand_id"] = ids
    ceiling = (DEMAND_WEIGHT_MAX, f"{DEMAND_WEIGHT_MAX:,}")
    out["weight"] = _numbers(checker, frame, ids, weight_col, True, label, ceiling=ceiling)
    weights = out["weight"]
    if len(weights) and np.isfinite(weights).all() and weights.sum() == 0:
        checker.add(
            label,
            None,
            weight_col,
            "some demand point with a weight above 0",
            _found("every weight is 0"),
        )
    for column in frame.columns:
        if column not in out.columns and column not in ("geometry", weight_col):
            out[column] = frame[column]
    geometry = _geometry(checker, frame, ids, label, None)
    demand = gpd.GeoDataFrame(out, geometry=geometry.to_numpy(), crs=BNG).set_index("demand_id")
    demand.index.name = "demand_id"
    return demand


def _check_column_names(checker: _Checker, frame: pd.DataFrame, label: str, read) -> None:
    """Columns named twice, and columns named almost as one that is read."""
    names = [str(c) for c in frame.columns]
    shapefile = label.lower().endswith((".shp", ".dbf"))
    for name in names:
        # CSV and Excel readers rename a repeated header "name.1", "name.2", ...
        base, dot, number = name.rpartition(".")
        if dot and number.isdigit() and base in names:
            checker.add(label, None, base, f"one column named '{base}'", _found("more than one"))
            continue
        if name.lower() in _PLACE:  # found in any capitals: once only
            if any(other.lower() == name.lower() for other in names[: names.index(name)]):
                checker.add(
                    label, None, name, f"one column named '{name.lower()}' in any capitals",
                    _found("more than one"),
                )  # fmt: skip
            continue
        if name in read:
            continue
        meant = meant_name(name, read, cut_short=shapefile, plurals=True)
        if meant is not None:
            checker.add(
                label,
                None,
                name,
                f"the column name '{meant}' (a column named '{name}' is not read)",
                _found(f"'{name}'" + (" as well" if meant in names else "")),
            )


def _normalise(
    checker: _Checker,
    sites: pd.DataFrame,
    services: pd.DataFrame,
    demand: pd.DataFrame | None,
    sites_label: str,
    services_label: str,
    demand_label: str,
    postcode_index,
) -> Estate:
    layers = [
        ("sites", sites, sites_label, "site"),
        ("services", services, services_label, "service"),
    ]
    if demand is not None:
        layers.append(("demand", demand, demand_label, "demand point"))
    for _, frame, label, noun in layers:
        if len(frame) == 0:
            checker.add(label, None, None, f"at least one {noun}", _found("an empty layer"))
        for column in frame.columns:
            if control_characters(str(column)):
                checker.add(label, None, None, "column names without control characters", column)
        _check_column_names(checker, frame, label, _READ_COLUMNS[noun])
    sites_gdf, capabilities = _normalise_sites(checker, sites, sites_label, postcode_index)
    services_df = _normalise_services(checker, services, services_label, sites_gdf, sites_label)
    demand_gdf = _normalise_demand(checker, demand, demand_label) if demand is not None else None
    checker.problems.extend(swap_problems(sites_gdf, sites_label, demand_gdf, demand_label))
    _check_partner_codes(checker, sites_gdf, services_df, sites_label, services_label)
    return Estate(sites_gdf, services_df, demand_gdf, sites_label, capabilities)


def _check_partner_codes(checker, sites, services, sites_label, services_label) -> None:
    """Partner codes that differ only in capitals, dots or spaces ("NYCC", "N.Y.C.C.") would
    be counted as two partners, each with its own budget, ledger and fair share: each less
    common spelling is named (its first row) with the most common one."""
    first: dict[str, tuple[str, str, str]] = {}
    count: dict[str, int] = {}
    for label, frame, column in (
        (sites_label, sites, "owner"),
        (services_label, services, "org"),
    ):
        for row, code in frame[column].items():
            if code:
                first.setdefault(str(code), (label, str(row), column))
                count[str(code)] = count.get(str(code), 0) + 1
    spellings: dict[str, list[str]] = {}
    for code in first:
        spellings.setdefault(re.sub(r"[\s.]+", "", code).lower(), []).append(code)
    for codes in spellings.values():
        if len(codes) > 1:
            usual, *others = sorted(codes, key=lambda c: (-count[c], c))
            for code in others:
                label, row, column = first[code]
                checker.add(label, row, column, f"the partner code '{usual}' as elsewhere", code)


def check_sites_against_demand(estate: Estate, demand: gpd.GeoDataFrame, label: str) -> None:
    """Raise when the estate's sites and a separately loaded demand layer look swapped."""
    problems = sites_near_demand(estate.sites, estate.source, demand, label)
    if problems:
        raise EstateValidationError(problems)
