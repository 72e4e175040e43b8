"""A site-register skeleton from OpenStreetMap, plus authoritative fire stations and boundaries.

:func:`import_osm_sites` finds public buildings in an OSM extract and writes them as the
``sites`` and ``services`` layers of a GeoPackage in the estate-register layout. OSM knows
where a building is and what it is for; it does not know tenure, floor space, running costs or
values, so those columns are left empty for the estates officer to fill in (the estate loader
then lists exactly which are missing). ``fill_defaults=True`` fills them with the illustrative
typical values of :data:`ILLUSTRATIVE_DEFAULTS` instead, marked ``values_source =
"illustrative default"``, so that a demonstration runs end to end; they are not estimates of
any real building.

Recognised tags (first match wins):

====================================================  =================  ==========
OSM tag                                               service_type       owner
====================================================  =================  ==========
amenity=fire_station                                  fire_station       FIRE
amenity=police                                        police_station     POLICE
amenity=ambulance_station, emergency=ambulance_station  ambulance_station  AMBULANCE
amenity=library                                       library            COUNCIL
amenity=townhall, office=government, office=council   council_office     COUNCIL
amenity=hospital, healthcare=hospital                 hospital           NHS
amenity=doctors, healthcare=doctor                    gp_surgery         NHS
amenity=clinic, healthcare=clinic                     clinic             NHS
amenity=school                                        school             COUNTY
social_facility=nursing_home/assisted_living/group_home,
amenity=nursing_home                                  care_home          COUNTY
====================================================  =================  ==========

The owner is a partner code guessed from the type; the OSM ``operator`` tag, when present, is
kept in an ``operator`` column for the officer to check. Nodes become point sites
(``OSM-n<id>``); closed ways and multipolygon relations (``OSM-w<id>``, ``OSM-r<id>``) become a
point site at a representative point inside the outline, with the outline's area in
``footprint_m2``. Unclosed ways are ignored.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from totalcapital._errors import EstateValidationError, Problem, TotalCapitalError
from totalcapital._validate import BNG_LAND, file_problem
from totalcapital.geocode import normalise_postcode

logger = logging.getLogger(__name__)

BNG = "EPSG:27700"
ILLUSTRATIVE = "illustrative default"

# (key, value) -> (service_type, owner); checked in this order.
TAG_RULES: list[tuple[str, str, str, str]] = [
    ("amenity", "fire_station", "fire_station", "FIRE"),
    ("amenity", "police", "police_station", "POLICE"),
    ("amenity", "ambulance_station", "ambulance_station", "AMBULANCE"),
    ("emergency", "ambulance_station", "ambulance_station", "AMBULANCE"),
    ("amenity", "library", "library", "COUNCIL"),
    ("amenity", "townhall", "council_office", "COUNCIL"),
    ("office", "government", "council_office", "COUNCIL"),
    ("office", "council", "council_office", "COUNCIL"),
    ("amenity", "hospital", "hospital", "NHS"),
    ("healthcare", "hospital", "hospital", "NHS"),
    ("amenity", "doctors", "gp_surgery", "NHS"),
    ("healthcare", "doctor", "gp_surgery", "NHS"),
    ("amenity", "clinic", "clinic", "NHS"),
    ("healthcare", "clinic", "clinic", "NHS"),
    ("amenity", "school", "school", "COUNTY"),
    ("amenity", "nursing_home", "care_home", "COUNTY"),
    ("social_facility", "nursing_home", "care_home", "COUNTY"),
    ("social_facility", "assisted_living", "care_home", "COUNTY"),
    ("social_facility", "group_home", "care_home", "COUNTY"),
]
_TAG_KEYS = sorted({rule[0] for rule in TAG_RULES})

SITE_COLUMNS = [
    "site_id",
    "name",
    "owner",
    "tenure",
    "status",
    "gia_m2",
    "running_cost",
    "backlog_cost",
    "market_value",
    "disposal_cost",
    "lease_break",
    "lease_exit_cost",
    "build_cost",
    "covenant",
    "listed",
    "site_type",
    "operator",
    "postcode",
    "footprint_m2",
    "source",
    "values_source",
]
SERVICE_COLUMNS = [
    "service_id",
    "org",
    "service_type",
    "current_site",
    "space_m2",
    "staff",
    "public_facing",
    "movable",
    "fit_out_cost_per_m2",
    "max_move_km",
    "values_source",
]
_NUMERIC_SITE_COLUMNS = [
    "gia_m2",
    "running_cost",
    "backlog_cost",
    "market_value",
    "disposal_cost",
    "lease_exit_cost",
    "build_cost",
    "footprint_m2",
]
_NUMERIC_SERVICE_COLUMNS = ["space_m2", "staff", "fit_out_cost_per_m2", "max_move_km"]

# Illustrative typical values per service type, only for demonstrations (fill_defaults=True):
# gia_m2, running_cost (GBP/yr), backlog_cost (GBP), market_value (GBP), space_m2, staff,
# public_facing, movable, fit_out_cost_per_m2 (GBP). GP practices, schools, hospitals and care
# homes are not movable by default: partners rarely control where they operate.
_DEFAULT_FIELDS = (
    "gia_m2",
    "running_cost",
    "backlog_cost",
    "market_value",
    "space_m2",
    "staff",
    "public_facing",
    "movable",
    "fit_out_cost_per_m2",
)
# fmt: off
_DEFAULT_ROWS = [
    # service_type      gia   running    backlog    value       space  staff public movable fit-out
    ("fire_station",      900,   150_000,    50_000,    900_000,   800,  30, False, True,  1_500),
    ("police_station",  1_200,   200_000,    60_000,  1_200_000, 1_000,  60, True,  True,  1_200),
    ("ambulance_station", 500,    80_000,    25_000,    500_000,   450,  20, False, True,  1_200),
    ("library",           600,    90_000,    30_000,    600_000,   500,   8, True,  True,    900),
    ("council_office",  2_500,   400_000,   120_000,  2_500_000, 2_000, 150, True,  True,    800),
    ("hospital",       10_000, 2_000_000, 1_000_000, 15_000_000, 9_000, 400, True,  False, 3_000),
    ("gp_surgery",        700,   120_000,    40_000,    900_000,   600,  25, True,  False, 1_500),
    ("clinic",            500,    90_000,    30_000,    600_000,   400,  15, True,  True,  1_500),
    ("school",          3_000,   250_000,   150_000,  3_000_000, 2_800,  60, False, False, 1_000),
    ("care_home",       2_000,   300_000,   100_000,  2_000_000, 1_800,  50, False, False, 1_200),
]
# fmt: on
ILLUSTRATIVE_DEFAULTS: dict[str, dict[str, Any]] = {
    row[0]: dict(zip(_DEFAULT_FIELDS, row[1:], strict=True)) for row in _DEFAULT_ROWS
}
"""Illustrative typical values per service type (see :func:`import_osm_sites`)."""
ILLUSTRATIVE_DISPOSAL_COST_SHARE = 0.02
"""Illustrative disposal cost (agents, legal) as a share of market value."""

# Authoritative stations replace OSM fire stations this close to them.
FIRE_STATION_MATCH_M = 500.0


class OsmImportError(TotalCapitalError):
    """An OSM extract or a boundary file cannot be read."""


def classify_tags(tags: Any) -> tuple[str, str] | None:
    """Return ``(service_type, owner)`` for OSM tags, or None if they are not a public site.

    Parameters
    ----------
    tags : mapping
        OSM tags (a dict or an osmium TagList).

    Returns
    -------
    tuple of str or None
    """
    for key, value, service_type, owner in TAG_RULES:
        tag = tags.get(key)
        if tag is not None and value in (part.strip() for part in tag.split(";")):
            return service_type, owner
    return None


def _read_osm_sites(pbf_path: Path) -> list[dict[str, Any]]:
    import osmium

    to_bng = pyproj.Transformer.from_crs(4326, 27700, always_xy=True).transform

    def project(coordinates: np.ndarray) -> np.ndarray:
        return np.column_stack(to_bng(coordinates[:, 0], coordinates[:, 1]))

    wkb = osmium.geom.WKBFactory()
    tag_filter = osmium.filter.KeyFilter(*_TAG_KEYS)
    processor = (
        osmium.FileProcessor(str(pbf_path))
        .with_locations()
        .with_areas(tag_filter)
        .with_filter(tag_filter)
    )
    records: list[dict[str, Any]] = []
    for entity in processor:
        if entity.is_node():
            site_id = f"OSM-n{entity.id}"
            location = entity.location
            if not location.valid():
                continue
            x, y = to_bng(location.lon, location.lat)
            point, footprint = shapely.Point(x, y), np.nan
        elif entity.is_area():
            site_id = f"OSM-{'w' if entity.from_way() else 'r'}{entity.orig_id()}"
            try:
                outline = shapely.transform(
                    shapely.from_wkb(wkb.create_multipolygon(entity)), project
                )
            except RuntimeError:
                continue
            point, footprint = outline.representative_point(), float(outline.area)
        else:
            continue
        classified = classify_tags(entity.tags)
        if classified is None:
            continue
        service_type, owner = classified
        tags = entity.tags
        records.append(
            {
                "site_id": site_id,
                "name": tags.get("name") or f"{service_type.replace('_', ' ')} {site_id}",
                "owner": owner,
                "site_type": service_type,
                "operator": tags.get("operator"),
                "postcode": normalise_postcode(tags.get("addr:postcode")) or None,
                "footprint_m2": footprint,
                "source": "OpenStreetMap",
                "geometry": point,
            }
        )
    return records


def _site_frame(records: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(records, columns=[*SITE_COLUMNS, "geometry"])
    for column in _NUMERIC_SITE_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in SITE_COLUMNS:
        if column not in _NUMERIC_SITE_COLUMNS:
            frame[column] = frame[column].astype("string")
    frame["listed"] = pd.array([pd.NA] * len(frame), dtype="boolean")
    frame["status"] = "operational"
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=BNG)


def _services_for(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    services = pd.DataFrame(
        {
            "service_id": ("SVC-" + sites["site_id"]).to_numpy(),
            "org": sites["owner"].to_numpy(),
            "service_type": sites["site_type"].to_numpy(),
            "current_site": sites["site_id"].to_numpy(),
        }
    )
    for column in _NUMERIC_SERVICE_COLUMNS:
        services[column] = np.nan
    for column in ("public_facing", "movable"):
        services[column] = pd.array([pd.NA] * len(services), dtype="boolean")
    services["values_source"] = pd.array([pd.NA] * len(services), dtype="string")
    return services[SERVICE_COLUMNS].astype({c: "string" for c in SERVICE_COLUMNS[:4]})


def _fill_illustrative(sites: gpd.GeoDataFrame, services: pd.DataFrame) -> None:
    for position, service_type in enumerate(sites["site_type"]):
        typical = ILLUSTRATIVE_DEFAULTS.get(service_type)
        if typical is None:
            continue
        site_row = sites.index[position]
        for column in ("gia_m2", "running_cost", "backlog_cost", "market_value"):
            if pd.isna(sites.at[site_row, column]):
                sites.at[site_row, column] = float(typical[column])
        if pd.isna(sites.at[site_row, "disposal_cost"]):
            sites.at[site_row, "disposal_cost"] = (
                ILLUSTRATIVE_DISPOSAL_COST_SHARE * sites.at[site_row, "market_value"]
            )
        if pd.isna(sites.at[site_row, "tenure"]):
            sites.at[site_row, "tenure"] = "freehold"
        if pd.isna(sites.at[site_row, "listed"]):
            sites.at[site_row, "listed"] = False
        sites.at[site_row, "values_source"] = ILLUSTRATIVE
        service_row = services.index[services["current_site"] == sites.at[site_row, "site_id"]]
        for column in ("space_m2", "staff", "fit_out_cost_per_m2"):
            services.loc[service_row, column] = float(typical[column])
        for column in ("public_facing", "movable"):
            services.loc[service_row, column] = bool(typical[column])
        services.loc[service_row, "values_source"] = ILLUSTRATIVE


def import_osm_sites(
    pbf_path: str | Path,
    out_path: str | Path | None,
    boundary: shapely.Geometry | None = None,
    *,
    fill_defaults: bool = False,
    fire_stations: gpd.GeoDataFrame | None = None,
    overwrite: bool = False,
) -> gpd.GeoDataFrame:
    """Extract public sites from an OSM extract into a site-register skeleton.

    Parameters
    ----------
    pbf_path : str or Path
        An ``.osm.pbf`` (or ``.osm`` XML) extract.
    out_path : str or Path or None
        GeoPackage to write with layers ``sites`` (points, EPSG:27700) and ``services`` (one
        service per site, a table without geometry); None writes nothing. It may not be the
        extract itself, nor an existing file unless ``overwrite``.
    boundary : shapely geometry, optional
        Keep only sites inside this area (EPSG:27700), e.g. from :func:`authority_boundary`.
    fill_defaults : bool, default False
        Fill the blanks with :data:`ILLUSTRATIVE_DEFAULTS` (for demonstrations only).
    fire_stations : geopandas.GeoDataFrame, optional
        Authoritative fire stations (from :func:`fire_stations_from_home_office`); they replace
        OSM fire stations within 500 m of them and are added where OSM has none.
    overwrite : bool, default False
        Replace ``out_path`` if it exists (a skeleton may hold the officer's own entries).

    Returns
    -------
    geopandas.GeoDataFrame
        The ``sites`` layer, with the services table in ``.attrs["services"]``.

    Raises
    ------
    OsmImportError
        If the extract is missing or unreadable, or ``out_path`` may not be written.
    """
    pbf_path = Path(pbf_path)
    problem = file_problem(pbf_path, str(pbf_path), "an OpenStreetMap extract")
    if problem is not None:
        raise OsmImportError(
            f"{pbf_path}: expected an OpenStreetMap extract, found {problem.found}"
        )
    if out_path is not None:
        _check_out(Path(out_path), pbf_path, overwrite)
    try:
        records = _read_osm_sites(pbf_path)
    except RuntimeError as error:
        raise OsmImportError(
            f"{pbf_path}: expected a readable OpenStreetMap extract, found an error: {error}"
        ) from None
    sites = _site_frame(records)
    if boundary is not None:
        sites = sites[sites.within(boundary)].copy()
    if fire_stations is not None and len(fire_stations):
        sites = _merge_fire_stations(sites, fire_stations, boundary)
    sites = sites.sort_values("site_id").reset_index(drop=True)
    services = _services_for(sites)
    if fill_defaults:
        _fill_illustrative(sites, services)
    counts = sites["site_type"].value_counts().sort_index()
    logger.info(
        "Found %s public sites in %s (%s)",
        f"{len(sites):,}",
        pbf_path,
        ", ".join(f"{count} {kind}" for kind, count in counts.items()),
    )
    if out_path is not None:
        _write_register(Path(out_path), sites, services)
    sites.attrs["services"] = services
    return sites


#: A fire crew's share of an illustrative station (space_m2 of the station's gia_m2) in a
#: register made from the station list alone: a station can take in two more crews, so
#: closing one means merging its crew into a neighbour.
STATION_CREW_SPACE_M2 = 300.0


def import_fire_stations(
    csv_path: str | Path,
    out_path: str | Path | None,
    boundary: shapely.Geometry | None = None,
    *,
    fill_defaults: bool = False,
    overwrite: bool = False,
) -> gpd.GeoDataFrame:
    """A site register of fire stations from the Home Office list alone (no OSM extract).

    One site per station (owner ``FIRE``, operator its fire and rescue service) and one
    ``fire_station`` service in each. With ``fill_defaults`` the blanks take the illustrative
    fire-station values of :data:`ILLUSTRATIVE_DEFAULTS`, except that a crew takes
    :data:`STATION_CREW_SPACE_M2`, so a station can take in neighbours' crews.

    Parameters
    ----------
    csv_path : str or Path
        The Home Office fire station list (see :func:`fire_stations_from_home_office`).
    out_path : str or Path or None
        GeoPackage to write (layers ``sites`` and ``services``); None writes nothing.
    boundary : shapely geometry, optional
        Keep only stations inside this area (EPSG:27700).
    fill_defaults, overwrite : bool
        As for :func:`import_osm_sites`.

    Returns
    -------
    geopandas.GeoDataFrame
        The ``sites`` layer, with the services table in ``.attrs["services"]``.
    """
    csv_path = Path(csv_path)
    if out_path is not None:
        _check_out(Path(out_path), csv_path, overwrite)
    stations = fire_stations_from_home_office(csv_path, within=boundary)
    sites = _merge_fire_stations(_site_frame([]), stations, None)
    sites = sites.sort_values("site_id").reset_index(drop=True)
    services = _services_for(sites)
    if fill_defaults:
        _fill_illustrative(sites, services)
        services["space_m2"] = STATION_CREW_SPACE_M2
    logger.info("Found %s fire stations in %s", f"{len(sites):,}", csv_path)
    if out_path is not None:
        _write_register(Path(out_path), sites, services)
    sites.attrs["services"] = services
    return sites


def _merge_fire_stations(
    sites: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, boundary: shapely.Geometry | None
) -> gpd.GeoDataFrame:
    stations = stations.to_crs(BNG)
    if boundary is not None:
        stations = stations[stations.within(boundary)]
    osm_fire = sites[sites["site_type"] == "fire_station"]
    if len(osm_fire) and len(stations):
        nearest = stations.sindex.nearest(osm_fire.geometry, max_distance=FIRE_STATION_MATCH_M)
        replaced = osm_fire.index[np.unique(nearest[0])]
        sites = sites.drop(index=replaced)
        logger.info("Replaced %s OSM fire stations by the authoritative list", len(replaced))
    added = _site_frame(
        [
            {
                "site_id": row.site_id,
                "name": row.name,
                "owner": "FIRE",
                "site_type": "fire_station",
                "operator": row.frs,
                "postcode": row.postcode,
                "source": "Home Office fire station list",
                "geometry": row.geometry,
            }
            for row in stations.itertuples()
        ]
    )
    return pd.concat([sites, added], ignore_index=True)


def _check_out(out_path: Path, pbf_path: Path, overwrite: bool) -> None:
    if out_path.is_dir():
        raise OsmImportError(f"{out_path}: expected a GeoPackage file to write, found a folder")
    if out_path.exists() and pbf_path.exists() and out_path.samefile(pbf_path):
        raise OsmImportError(
            f"{out_path}: expected a new GeoPackage, found the input extract itself; choose "
            "another --out"
        )
    if out_path.exists() and not overwrite:
        raise OsmImportError(
            f"{out_path}: expected a new file, found an existing one (it may hold your "
            "entries); give --overwrite to replace it, or choose another --out"
        )


def _write_register(out_path: Path, sites: gpd.GeoDataFrame, services: pd.DataFrame) -> None:
    import tempfile

    import pyogrio

    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{out_path.stem}.tc-partial-", suffix=".gpkg", dir=out_path.parent
    )
    os.close(handle)
    temporary = Path(name)
    temporary.unlink()  # GDAL creates the GeoPackage itself
    try:
        sites.to_file(temporary, layer="sites", driver="GPKG")
        pyogrio.write_dataframe(services, temporary, layer="services", driver="GPKG")
        # Replace only once both layers are written, so a failure never leaves half a register.
        temporary.replace(out_path)
    finally:
        temporary.unlink(missing_ok=True)
    logger.info("Wrote %s sites and %s services to %s", len(sites), len(services), out_path)


def fire_stations_from_home_office(
    csv_path: str | Path, within: shapely.Geometry | None = None
) -> gpd.GeoDataFrame:
    """Fire stations from the Home Office station list (eastings and northings in EPSG:27700).

    Rows without usable coordinates are left out with a warning naming them.

    Parameters
    ----------
    csv_path : str or Path
        CSV with columns FRS_FULLNAME, STATION_NAME, STATION_POSTCODE, STATION_EASTING,
        STATION_NORTHING.
    within : shapely geometry, optional
        Keep only stations inside this area (EPSG:27700).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns site_id (``HO-<row>``, the 1-based data row in the file), name, frs, postcode,
        geometry (EPSG:27700).

    Raises
    ------
    EstateValidationError
        If a column is missing.
    """
    csv_path = Path(csv_path)
    table = _read_csv(csv_path, "the Home Office fire-station list (CSV)")
    needed = [
        "FRS_FULLNAME",
        "STATION_NAME",
        "STATION_POSTCODE",
        "STATION_EASTING",
        "STATION_NORTHING",
    ]
    found = ", ".join(table.columns)
    problems = [
        Problem(str(csv_path), None, column, f"a column '{column}'", f"columns {found}")
        for column in needed
        if column not in table.columns
    ]
    if problems:
        raise EstateValidationError(problems)
    easting = pd.to_numeric(table["STATION_EASTING"], errors="coerce")
    northing = pd.to_numeric(table["STATION_NORTHING"], errors="coerce")
    x0, y0, x1, y1 = BNG_LAND
    usable = easting.between(x0, x1) & northing.between(y0, y1)

    if not usable.all():
        left_out = ", ".join(table.loc[~usable, "STATION_NAME"].astype(str))
        if within is None:
            logger.warning(
                "%s: %s fire stations have no usable easting/northing and were left out: %s",
                csv_path,
                int((~usable).sum()),
                left_out,
            )
        else:
            # Their location is unknown, so they most likely belong to some other area.
            logger.info(
                "%s: skipped %s fire stations without usable coordinates",
                csv_path,
                int((~usable).sum()),
            )
            logger.debug("Skipped fire stations: %s", left_out)
    stations = gpd.GeoDataFrame(
        {
            "site_id": [f"HO-{i + 1}" for i in np.flatnonzero(usable.to_numpy())],
            "name": table.loc[usable, "STATION_NAME"].str.strip().to_numpy(),
            "frs": table.loc[usable, "FRS_FULLNAME"].str.strip().to_numpy(),
            "postcode": [normalise_postcode(p) for p in table.loc[usable, "STATION_POSTCODE"]],
        },
        geometry=gpd.points_from_xy(easting[usable], northing[usable]),
        crs=BNG,
    ).astype({"site_id": "string", "name": "string", "frs": "string", "postcode": "string"})
    if within is not None:
        stations = stations[stations.within(within)].reset_index(drop=True)
    unnamed = stations["name"].fillna("").str.strip().eq("")
    if unnamed.any():  # only those kept: a blank elsewhere in England is not this area's
        raise EstateValidationError(
            [
                Problem(str(csv_path), site_id, "STATION_NAME", "a station name", "a blank")
                for site_id in stations.loc[unnamed, "site_id"]
            ]
        )
    if stations.empty:
        where = " inside the area asked for" if within is not None else ""
        raise EstateValidationError(
            [
                Problem(
                    str(csv_path),
                    None,
                    "STATION_EASTING",
                    f"at least one station with a usable easting and northing{where}",
                    f"none of {len(table):,} rows",
                )
            ]
        )
    logger.info("Read %s fire stations from %s", len(stations), csv_path)
    return stations


def _read_csv(path: Path, wanted: str) -> pd.DataFrame:
    """A CSV as text, or one clear problem: missing, empty, not UTF-8, not CSV."""
    problem = file_problem(path, str(path), wanted)
    if problem is not None:
        raise EstateValidationError([problem])
    try:
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except UnicodeDecodeError:
        found = "bytes that are not UTF-8 text"
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        found = f"a file that is not CSV ({exc})"
    raise EstateValidationError([Problem(str(path), None, None, wanted, found)])


def authority_boundary(geojson_path: str | Path, code: str) -> shapely.Geometry:
    """The boundary of one local authority district, in EPSG:27700.

    Parameters
    ----------
    geojson_path : str or Path
        ONS local authority district boundaries (a code property named like ``lad17cd``).
    code : str
        The district code, e.g. ``"E06000017"`` (Rutland).

    Returns
    -------
    shapely geometry

    Raises
    ------
    EstateValidationError
        If the file has no code column or no district with that code.
    """
    geojson_path = Path(geojson_path)
    problem = file_problem(geojson_path, str(geojson_path), "district boundaries (GeoJSON)")
    if problem is not None:
        raise EstateValidationError([problem])
    try:
        districts = gpd.read_file(geojson_path)
    except Exception as exc:  # GDAL's error for a file that is not GeoJSON
        reason = str(exc).split(";")[0][:200]
        raise EstateValidationError(
            [Problem(str(geojson_path), None, None, "district boundaries (GeoJSON)", reason)]
        ) from None
    code_columns = [c for c in districts.columns if str(c).lower().endswith("cd")]
    if not code_columns:
        raise EstateValidationError(
            [
                Problem(
                    str(geojson_path),
                    None,
                    None,
                    "a district code property such as lad17cd",
                    "properties " + json.dumps([str(c) for c in districts.columns]),
                )
            ]
        )
    column = code_columns[0]
    chosen = districts[districts[column].astype("string").str.strip() == code.strip()]
    if chosen.empty:
        raise EstateValidationError(
            [Problem(str(geojson_path), code, column, "a district with this code", "none")]
        )
    return chosen.to_crs(BNG).geometry.union_all()
