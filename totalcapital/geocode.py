"""Postcode geocoding against OS Code-Point Open.

Code-Point Open gives one row per postcode unit with its easting and northing in British National
Grid (EPSG:27700). It ships as one headerless CSV per postcode area (``le.csv``, ``pe.csv``, ...);
:class:`PostcodeIndex` reads only the areas a lookup needs, so a national folder costs no more
than the areas used.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from totalcapital._errors import TotalCapitalError
from totalcapital._validate import file_problem

logger = logging.getLogger(__name__)

BNG = "EPSG:27700"
# The postcode area is the letters before the first digit: "LE15 6QA" -> "LE", "L1 8JQ" -> "L".
_AREA_PATTERN = re.compile(r"^([A-Z]{1,2})\d")
_AREA_FILE_PATTERN = re.compile(r"^[A-Za-z]{1,2}$")
# Code-Point Open marks postcodes without coordinates with positional quality 90 and 0, 0.
_NO_COORDINATES_QUALITY = 90


class GeocodeError(TotalCapitalError):
    """A postcode file or folder is missing or not in the Code-Point Open layout."""


def normalise_postcode(value: object) -> str:
    """Tidy a postcode: upper case, one space before the inward code ("le15 6qa " -> "LE15 6QA").

    Parameters
    ----------
    value : object
        A postcode as typed; None or NaN gives ``""``.

    Returns
    -------
    str
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    compact = re.sub(r"\s+", "", str(value)).upper()
    if len(compact) < 5:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def _normalise_series(postcodes: pd.Series) -> pd.Series:
    compact = postcodes.astype("string").str.replace(r"\s+", "", regex=True).str.upper()
    compact = compact.fillna("")
    spaced = compact.str[:-3] + " " + compact.str[-3:]
    return spaced.where(compact.str.len() >= 5, compact)


class PostcodeIndex:
    """Coordinates of postcode units from Code-Point Open CSV files.

    Use :meth:`from_codepoint_open`; files are read on first use of their postcode area.
    """

    def __init__(self, files_by_area: dict[str, Path], other_files: list[Path]):
        self._files_by_area = files_by_area
        self._other_files = other_files
        self._loaded_areas: set[str] = set()
        self._table = pd.DataFrame(
            {"easting": pd.Series(dtype="float64"), "northing": pd.Series(dtype="float64")},
            index=pd.Index([], dtype="string", name="postcode"),
        )

    @classmethod
    def from_codepoint_open(cls, path: str | Path) -> PostcodeIndex:
        """Index a Code-Point Open folder (searched recursively) or one CSV file.

        Parameters
        ----------
        path : str or Path
            A folder of per-area CSVs named by area (``le.csv``) or a single headerless CSV with
            postcode, quality, easting, northing as its first four columns.

        Returns
        -------
        PostcodeIndex

        Raises
        ------
        GeocodeError
            If the path does not exist or holds no CSV files.
        """
        path = Path(path)
        if not path.is_dir():
            problem = file_problem(path, str(path), "")
            if problem is not None:
                found = "no such path" if problem.found == "no such file" else problem.found
                raise GeocodeError(
                    f"{path}: expected a Code-Point Open folder or CSV file, found {found}"
                )
            return cls({}, [path])
        if not path.is_dir():
            raise GeocodeError(
                f"{path}: expected a Code-Point Open folder or CSV file, found no such path"
            )
        files_by_area: dict[str, Path] = {}
        other_files: list[Path] = []
        for csv in sorted(path.rglob("*")):
            if csv.suffix.lower() != ".csv" or "header" in csv.name.lower():
                continue
            if _AREA_FILE_PATTERN.match(csv.stem):
                files_by_area[csv.stem.upper()] = csv
            else:
                other_files.append(csv)
        if not files_by_area and not other_files:
            raise GeocodeError(
                f"{path}: expected Code-Point Open CSV files (le.csv, pe.csv, ...), found none"
            )
        return cls(files_by_area, other_files)

    def _read(self, csv: Path) -> None:
        try:
            table = pd.read_csv(
                csv,
                header=None,
                usecols=[0, 1, 2, 3],
                names=["postcode", "quality", "easting", "northing"],
                dtype={"postcode": "string"},
            )
        except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
            # EmptyDataError is a ValueError; so are too few columns for usecols.
            found = "bytes that are not UTF-8" if isinstance(exc, UnicodeDecodeError) else exc
            raise GeocodeError(
                f"{csv}: expected a Code-Point Open CSV (postcode, quality, easting, northing), "
                f"found {found}"
            ) from None
        table = table[pd.to_numeric(table["quality"], errors="coerce") != _NO_COORDINATES_QUALITY]
        table = pd.DataFrame(
            {
                "easting": pd.to_numeric(table["easting"], errors="coerce").to_numpy(),
                "northing": pd.to_numeric(table["northing"], errors="coerce").to_numpy(),
            },
            index=pd.Index(_normalise_series(table["postcode"]).to_numpy(), name="postcode"),
        ).dropna()
        frames = [frame for frame in (self._table, table) if len(frame)]
        combined = pd.concat(frames) if len(frames) > 1 else table
        self._table = combined[~combined.index.duplicated(keep="first")]
        logger.info("Read %s postcodes from %s", f"{len(table):,}", csv)

    def _ensure_loaded(self, postcodes: pd.Series) -> None:
        for csv in self._other_files:
            self._read(csv)
        self._other_files = []
        areas = set(postcodes.str.extract(_AREA_PATTERN, expand=False).dropna())
        for area in sorted(areas - self._loaded_areas):
            csv = self._files_by_area.get(area)
            if csv is not None:
                self._read(csv)
            self._loaded_areas.add(area)

    def __len__(self) -> int:
        return len(self._table)

    def lookup(self, postcodes: pd.Series) -> tuple[gpd.GeoSeries, list[str]]:
        """Locate postcodes.

        Parameters
        ----------
        postcodes : pandas.Series
            Postcodes as typed (any case, any spacing).

        Returns
        -------
        points : geopandas.GeoSeries
            Same index as ``postcodes``; points in EPSG:27700, None where not found.
        not_found : list of str
            The normalised postcodes that were not found (each once, in order of appearance;
            an empty postcode appears as ``""``). Rows not found are ``points.isna()``.
        """
        normalised = _normalise_series(pd.Series(postcodes))
        self._ensure_loaded(normalised)
        found = normalised.isin(self._table.index)
        coordinates = self._table.reindex(normalised.where(found).to_numpy())
        points = gpd.GeoSeries(
            gpd.points_from_xy(coordinates["easting"], coordinates["northing"]),
            index=postcodes.index,
            crs=BNG,
        )
        points[~found.to_numpy()] = None
        not_found = list(dict.fromkeys(normalised[~found]))
        if not_found:
            logger.info("%s of %s postcodes not found", len(not_found), len(postcodes))
        return points, not_found
