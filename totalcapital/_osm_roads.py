"""Reading drivable ways from an OpenStreetMap extract (the rules are documented in network.py)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from totalcapital._errors import ScenarioError

_MPH_TO_KMH = 1.609344
_NO_MOTOR = {"no", "private"}
_MOTOR_ALLOWED = {"yes", "permissive", "designated", "destination", "customers", "delivery"}
_ONEWAY_FORWARD = {"yes", "true", "1"}
_ONEWAY_BACKWARD = {"-1", "reverse"}
_ONEWAY_NONE = {"no", "false", "0", "reversible", "alternating"}
_MAXSPEED_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)


def parse_maxspeed(value: str | None) -> float | None:
    """Return a ``maxspeed`` tag in km/h, or None when it is absent or not a number.

    Parameters
    ----------
    value : str or None
        The tag value, e.g. ``"30 mph"``, ``"50"`` (km/h by OSM convention) or ``"national"``.

    Returns
    -------
    float or None
    """
    if not value:
        return None
    match = _MAXSPEED_PATTERN.match(value)
    if match is None:
        return None
    speed = float(match.group(1))
    if match.group(2) and match.group(2).lower() == "mph":
        speed *= _MPH_TO_KMH
    return speed if speed > 0 else None


def _motor_vehicles_allowed(tags: Any) -> bool:
    # The most specific key wins: motorcar over motor_vehicle over vehicle over access.
    for key in ("motorcar", "motor_vehicle", "vehicle", "access"):
        value = tags.get(key)
        if value is None:
            continue
        if value in _MOTOR_ALLOWED:
            return True
        if value in _NO_MOTOR:
            return False
    return True


def _oneway_direction(tags: Any, highway: str) -> int:
    """Return 1 (along the way only), -1 (against it only) or 0 (both ways)."""
    oneway = tags.get("oneway")
    if oneway in _ONEWAY_FORWARD:
        return 1
    if oneway in _ONEWAY_BACKWARD:
        return -1
    if oneway in _ONEWAY_NONE:
        return 0
    if tags.get("junction") in ("roundabout", "circular"):
        return 1
    if highway in ("motorway", "motorway_link"):
        return 1
    return 0


def read_osm_ways(
    pbf_path: Path, speeds: Mapping[str, float], use_maxspeed: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Read drivable ways as flat node-reference arrays plus per-way speed and direction."""
    import osmium

    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    way_lengths: list[int] = []
    way_speeds: list[float] = []
    way_directions: list[int] = []
    clipped = 0
    processor = (
        osmium.FileProcessor(str(pbf_path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )

    def add_run(run: list[tuple[int, float, float]], speed: float, direction: int) -> None:
        if len(run) < 2:
            return
        for ref, lon, lat in run:
            refs.append(ref)
            lons.append(lon)
            lats.append(lat)
        way_lengths.append(len(run))
        way_speeds.append(speed)
        way_directions.append(direction)

    for way in processor:
        tags = way.tags
        highway = tags.get("highway")
        speed = speeds.get(highway)
        if speed is None or tags.get("area") == "yes" or not _motor_vehicles_allowed(tags):
            continue
        if use_maxspeed:
            limit = parse_maxspeed(tags.get("maxspeed"))
            if limit is not None:
                speed = min(speed, limit)
        direction = _oneway_direction(tags, highway)
        run: list[tuple[int, float, float]] = []
        for node in way.nodes:
            location = node.location
            if location.valid():
                run.append((node.ref, location.lon, location.lat))
            else:
                # A node outside a clipped extract has no location: split the way there.
                add_run(run, speed, direction)
                run = []
                clipped += 1
        add_run(run, speed, direction)
    return (
        np.asarray(refs, dtype=np.int64),
        np.asarray(lons, dtype=np.float64),
        np.asarray(lats, dtype=np.float64),
        np.asarray(way_lengths, dtype=np.int64),
        np.asarray(way_speeds, dtype=np.float64),
        np.asarray(way_directions, dtype=np.int8),
        clipped,
    )


def merge_speeds(
    defaults: Mapping[str, float], road_speeds_kmh: Mapping[str, float] | None
) -> dict[str, float]:
    """Default speeds with overrides applied; classes at 0 km/h are dropped."""
    speeds = dict(defaults)
    for highway, speed in (road_speeds_kmh or {}).items():
        if not isinstance(speed, (int, float)) or speed < 0 or math.isnan(speed):
            raise ScenarioError(
                f"road_speeds_kmh['{highway}']: expected a speed >= 0 km/h, found {speed!r}"
            )
        speeds[str(highway)] = float(speed)
    return {highway: speed for highway, speed in speeds.items() if speed > 0}


def min_csr(sources: np.ndarray, targets: np.ndarray, weights: np.ndarray, n: int) -> sp.csr_array:
    """Directed CSR graph keeping the cheapest of parallel edges (CSR would sum them)."""
    order = np.lexsort((weights, targets, sources))
    sources, targets, weights = sources[order], targets[order], weights[order]
    first = np.ones(len(sources), dtype=bool)
    first[1:] = (sources[1:] != sources[:-1]) | (targets[1:] != targets[:-1])
    graph = sp.csr_array((weights[first], (sources[first], targets[first])), shape=(n, n))
    graph.sort_indices()
    return graph
