"""Travel times between sites and demand points: over the OSM road network or in a straight line.

Road network
------------
:meth:`RoadNetwork.from_osm` reads an OpenStreetMap extract (``.osm.pbf`` or ``.osm`` XML) with
pyosmium and builds a directed graph whose edge weights are travel minutes at normal road speeds.

*Which ways are roads.* A way is drivable when its ``highway`` class has a speed in the speed table
below (so ``footway``, ``cycleway``, ``path``, ``bridleway``, ``steps``, ``pedestrian``,
``construction``, ``proposed`` and ``track`` are left out; add ``track`` to ``road_speeds_kmh`` to
include farm tracks). A way is also left out when it is an area (``area=yes``), when motor vehicles
are barred (``access``, ``vehicle``, ``motor_vehicle`` or ``motorcar`` = ``no``) or when it is
private (``access=private``) unless a more specific key re-allows motor vehicles; private
driveways rarely lie on a response route, and the nearest public road is a fair stand-in.

*Speeds.* Each class has a typical average speed, not its legal limit, because junctions,
bends and traffic keep real speeds below limits. A ``maxspeed`` tag (``"30 mph"``, ``"50"``)
lowers the class speed when it is lower (villages on A roads, 20 mph zones) and never raises it.
Override any class with ``road_speeds_kmh`` (a speed of 0 removes the class).

=================  =======  =================  =======
highway            km/h     highway            km/h
=================  =======  =================  =======
motorway           100      motorway_link      60
trunk              80       trunk_link         50
primary            65       primary_link       45
secondary          55       secondary_link     40
tertiary           45       tertiary_link      35
unclassified       35       road               30
residential        25       service            15
living_street      10
=================  =======  =================  =======

*One-way streets.* ``oneway=yes/true/1`` allows travel along the way, ``oneway=-1/reverse`` against
it, and roundabouts (``junction=roundabout/circular``) and motorways (and their links) are one-way
unless tagged ``oneway=no``. ``oneway=reversible/alternating`` counts as two-way.

*Connectivity.* Only the largest strongly connected component is kept, so every node a point
snaps to can reach, and be reached from, every other node. Pieces cut off by the extract's
edge or by one-way tagging errors would otherwise give spurious "unreachable" answers.

*Geometry.* Node coordinates are projected to British National Grid (EPSG:27700) and edge lengths
are straight segments between consecutive OSM nodes (OSM draws bends with many nodes).

Snapping and access legs
------------------------
A point is snapped to its nearest graph node (``scipy.spatial.cKDTree``). The snap distance is
covered at :data:`ACCESS_SPEED_KMH` (20 km/h: a car park, a drive, a field path for a centroid)
and added at both ends of a route, except that two points snapping to the same node go straight
from one to the other at that speed (so a point is 0 minutes from itself). Points
further than the scenario's ``snap_warning_m`` from any road node are logged as warnings and
flagged ``far`` in :attr:`TravelTimes.snapping`.

Straight-line fallback
----------------------
Without a road network, minutes = distance_m x circuity / speed, with
:data:`STRAIGHT_LINE_SPEED_KMH` (50 km/h) and :data:`DEFAULT_CIRCUITY` (1.3). Roads are on
average 1.2 to 1.4 times longer than the straight line between two points in Britain, and
50 km/h is a mixed urban and rural average road speed; the fallback is a planning screen, not a
substitute for the network.

Blue lights
-----------
Matrices hold minutes at normal road speeds. :meth:`TravelTimes.for_service_type` divides them
by the scenario's blue-light factor for that service type (fire 1.2 means 20% faster than
normal speeds); the default factor is 1.0.

Caching
-------
Parsed graphs and travel-time matrices are cached as ``.npz`` files in ``settings.cache_dir``,
keyed by a SHA-256 of every input (the extract's content, speeds, coordinates, ids, cutoff,
method, fallback parameters). A cached matrix is bit-for-bit the matrix that was computed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from totalcapital._cache import CacheDamaged, file_sha256, hash_key, load_arrays, save_arrays
from totalcapital._errors import ScenarioError, TotalCapitalError
from totalcapital._osm_roads import merge_speeds, min_csr, read_osm_ways
from totalcapital._validate import file_problem

logger = logging.getLogger(__name__)

DEFAULT_ROAD_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 65.0,
    "primary_link": 45.0,
    "secondary": 55.0,
    "secondary_link": 40.0,
    "tertiary": 45.0,
    "tertiary_link": 35.0,
    "unclassified": 35.0,
    "road": 30.0,
    "residential": 25.0,
    "service": 15.0,
    "living_street": 10.0,
}
"""Typical average speed (km/h) per OSM ``highway`` class; classes absent here are not roads."""

STRAIGHT_LINE_SPEED_KMH = 50.0
"""Average road speed of the straight-line fallback (mixed urban and rural driving)."""

DEFAULT_CIRCUITY = 1.3
"""Road distance over straight-line distance in the fallback (British roads: about 1.2 to 1.4)."""

ACCESS_SPEED_KMH = 20.0
"""Speed of the leg between a point and the road node it snaps to."""

# Bump when the graph or matrix layout changes so stale cache files are never read.
_CACHE_VERSION = 1
# Zero-length edges (two OSM nodes at one spot) must keep a positive weight to stay edges.
_MIN_EDGE_MINUTES = 1e-9
# Dijkstra keeps a dense sources x nodes array; this bounds it to about 400 MB of float64.
_MAX_DIJKSTRA_CELLS = 50_000_000


ProgressCallback = Callable[[str, float], None]


class NetworkError(TotalCapitalError):
    """A road network file is missing, unreadable or holds no usable roads."""


@dataclass
class RoadNetwork:
    """A directed road graph weighted by travel minutes at normal road speeds.

    Attributes
    ----------
    x, y : numpy.ndarray
        Node coordinates in British National Grid (EPSG:27700), metres.
    graph : scipy.sparse.csr_array
        ``graph[i, j]`` is the minutes to drive from node i to node j along one road segment.
    osm_node_ids : numpy.ndarray
        The OSM id of each node.
    road_speeds_kmh : dict
        The speed per highway class used to build the graph.
    fastest_speed_kmh : float
        The highest speed of any edge, a bound for sanity checks (no route beats the straight
        line at this speed).
    source : str
        Where the graph came from, for log lines and decision records.
    """

    x: np.ndarray
    y: np.ndarray
    graph: sp.csr_array
    osm_node_ids: np.ndarray
    road_speeds_kmh: dict[str, float]
    fastest_speed_kmh: float
    source: str = ""
    _tree: cKDTree | None = field(default=None, init=False, repr=False, compare=False)
    _reverse: sp.csr_array | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.graph.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.graph.nnz)

    @classmethod
    def from_osm(
        cls,
        pbf_path: str | Path,
        road_speeds_kmh: Mapping[str, float] | None = None,
        *,
        use_maxspeed: bool = True,
        cache_dir: str | Path | None = None,
    ) -> RoadNetwork:
        """Build the road graph of an OSM extract.

        Parameters
        ----------
        pbf_path : str or Path
            An ``.osm.pbf`` (or ``.osm`` XML) file.
        road_speeds_kmh : mapping, optional
            Speeds per highway class overriding :data:`DEFAULT_ROAD_SPEEDS_KMH`; 0 drops a class.
        use_maxspeed : bool, default True
            Lower a way's class speed to its ``maxspeed`` tag when that is lower.
        cache_dir : str or Path, optional
            Folder for a cached copy of the parsed graph, keyed by the file's content and the
            speeds; None disables caching.

        Returns
        -------
        RoadNetwork

        Raises
        ------
        NetworkError
            If the file is missing, unreadable or holds no drivable roads.
        """
        pbf_path = Path(pbf_path)
        problem = file_problem(pbf_path, str(pbf_path), "")
        if problem is not None:
            raise NetworkError(
                f"{pbf_path}: expected an OpenStreetMap extract (.osm.pbf), found {problem.found}"
            )
        speeds = merge_speeds(DEFAULT_ROAD_SPEEDS_KMH, road_speeds_kmh)
        cache_file = None
        if cache_dir is not None:
            key = hash_key("graph", _CACHE_VERSION, file_sha256(pbf_path), speeds, use_maxspeed)
            cache_file = Path(cache_dir) / f"roadgraph-{key}.npz"
            try:
                network = cls._load(cache_file, speeds, str(pbf_path))
            except CacheDamaged as damage:
                _report_damaged_cache(cache_file, damage)
            else:
                logger.info(
                    "Loaded cached road graph: %s nodes, %s edges from %s",
                    f"{network.n_nodes:,}",
                    f"{network.n_edges:,}",
                    cache_file,
                )
                return network
        network = cls._build(pbf_path, speeds, use_maxspeed)
        if cache_file is not None:
            network._save(cache_file)
        return network

    @classmethod
    def _build(cls, pbf_path: Path, speeds: dict[str, float], use_maxspeed: bool) -> RoadNetwork:
        try:
            refs, lons, lats, way_lengths, way_speeds, way_directions, clipped = read_osm_ways(
                pbf_path, speeds, use_maxspeed
            )
        except RuntimeError as error:
            raise NetworkError(
                f"{pbf_path}: expected a readable OpenStreetMap extract, found an error: {error}"
            ) from None
        if len(way_lengths) == 0:
            raise NetworkError(
                f"{pbf_path}: expected drivable roads (highway = {', '.join(sorted(speeds))}), "
                "found none"
            )
        osm_ids, first_seen, node_of_ref = np.unique(refs, return_index=True, return_inverse=True)
        transformer = pyproj.Transformer.from_crs(4326, 27700, always_xy=True)
        x_all, y_all = transformer.transform(lons[first_seen], lats[first_seen])

        # Consecutive references inside one way are segments; the last ref of a way starts none.
        way_ends = np.cumsum(way_lengths)
        is_segment_start = np.ones(len(refs), dtype=bool)
        is_segment_start[way_ends - 1] = False
        starts = np.flatnonzero(is_segment_start)
        tail, head = node_of_ref[starts], node_of_ref[starts + 1]
        way_of_segment = np.repeat(np.arange(len(way_lengths)), way_lengths)[starts]
        segment_speed = way_speeds[way_of_segment]
        segment_direction = way_directions[way_of_segment]
        length_m = np.hypot(x_all[head] - x_all[tail], y_all[head] - y_all[tail])
        minutes = np.maximum(length_m / (segment_speed * 1000.0 / 60.0), _MIN_EDGE_MINUTES)

        forward = segment_direction >= 0
        backward = segment_direction <= 0
        sources = np.concatenate([tail[forward], head[backward]])
        targets = np.concatenate([head[forward], tail[backward]])
        weights = np.concatenate([minutes[forward], minutes[backward]])
        edge_speeds = np.concatenate([segment_speed[forward], segment_speed[backward]])
        not_loop = sources != targets
        sources, targets = sources[not_loop], targets[not_loop]
        weights, edge_speeds = weights[not_loop], edge_speeds[not_loop]
        full = min_csr(sources, targets, weights, len(osm_ids))

        n_components, labels = connected_components(full, directed=True, connection="strong")
        largest = np.argmax(np.bincount(labels))
        keep = labels == largest
        new_index = np.full(len(osm_ids), -1, dtype=np.int64)
        new_index[keep] = np.arange(int(keep.sum()))
        kept_edge = keep[sources] & keep[targets]
        graph = min_csr(
            new_index[sources[kept_edge]],
            new_index[targets[kept_edge]],
            weights[kept_edge],
            int(keep.sum()),
        )
        network = cls(
            x=np.asarray(x_all)[keep],
            y=np.asarray(y_all)[keep],
            graph=graph,
            osm_node_ids=osm_ids[keep],
            road_speeds_kmh=speeds,
            fastest_speed_kmh=float(edge_speeds[kept_edge].max()),
            source=str(pbf_path),
        )
        logger.info(
            "Built road graph: %s nodes, %s edges from %s (%s drivable ways; kept the largest "
            "strongly connected component, dropping %s nodes in %s smaller pieces)",
            f"{network.n_nodes:,}",
            f"{network.n_edges:,}",
            pbf_path,
            f"{len(way_lengths):,}",
            f"{len(osm_ids) - network.n_nodes:,}",
            f"{n_components - 1:,}",
        )
        if clipped:
            logger.info("Split %s ways at nodes outside the extract", f"{clipped:,}")
        return network

    def _save(self, path: Path) -> None:
        graph = self.graph
        save_arrays(
            path,
            dict(
                x=self.x,
                y=self.y,
                osm_node_ids=self.osm_node_ids,
                indptr=graph.indptr,
                indices=graph.indices,
                data=graph.data,
                fastest_speed_kmh=np.float64(self.fastest_speed_kmh),
            ),
        )

    @classmethod
    def _load(cls, path: Path, speeds: dict[str, float], source: str) -> RoadNetwork:
        if not path.is_file():
            raise CacheDamaged(f"{path}: not cached")
        names = ("x", "y", "data", "indices", "indptr", "osm_node_ids", "fastest_speed_kmh")
        stored = load_arrays(path, names)
        n = len(stored["x"])
        try:
            graph = sp.csr_array(
                (stored["data"], stored["indices"], stored["indptr"]), shape=(n, n)
            )
        except (ValueError, TypeError) as exc:
            raise CacheDamaged(f"{path}: {exc}") from None
        return cls(
            x=stored["x"],
            y=stored["y"],
            graph=graph,
            osm_node_ids=stored["osm_node_ids"],
            road_speeds_kmh=speeds,
            fastest_speed_kmh=float(stored["fastest_speed_kmh"]),
            source=source,
        )

    @property
    def reverse_graph(self) -> sp.csr_array:
        """The graph with every edge reversed, for routing many origins to few destinations."""
        if self._reverse is None:
            self._reverse = sp.csr_array(self.graph.T)
        return self._reverse

    def snap(self, points: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
        """Return the nearest graph node of each point and the distance to it.

        Parameters
        ----------
        points : geopandas.GeoSeries
            Points in EPSG:27700 (other geometries are reduced to a representative point).

        Returns
        -------
        node_index : numpy.ndarray of int
        distance_m : numpy.ndarray of float
        """
        return self._snap_xy(_point_coordinates(points))

    def _snap_xy(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._tree is None:
            self._tree = cKDTree(np.column_stack([self.x, self.y]))
        if len(xy) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        distance, node = self._tree.query(xy)
        return node.astype(np.int64), distance.astype(np.float64)


def _point_coordinates(points: gpd.GeoSeries | np.ndarray) -> np.ndarray:
    """An (n, 2) array of x, y; polygons and lines give their representative point."""
    if isinstance(points, np.ndarray):
        return points.reshape(-1, 2).astype(np.float64)
    geometry = gpd.GeoSeries(points)
    if len(geometry) and not (geometry.geom_type == "Point").all():
        geometry = geometry.representative_point()
    return np.column_stack([geometry.x.to_numpy(), geometry.y.to_numpy()]).astype(np.float64)


def shortest_minutes(
    graph: sp.csr_array | sp.csr_matrix,
    sources: np.ndarray,
    targets: np.ndarray,
    cutoff_minutes: float | None = None,
) -> np.ndarray:
    """Minutes from each source node to each target node (inf when unreachable or past cutoff).

    Runs :func:`scipy.sparse.csgraph.dijkstra` from many sources at once, in batches small
    enough that the dense sources x nodes work array stays within a few hundred megabytes.

    Parameters
    ----------
    graph : scipy sparse matrix
        Directed graph, weights in minutes.
    sources, targets : numpy.ndarray of int
        Node indices.
    cutoff_minutes : float, optional
        Stop searching past this many minutes.

    Returns
    -------
    numpy.ndarray
        ``len(sources) x len(targets)`` minutes.
    """
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    result = np.full((len(sources), len(targets)), np.inf)
    if len(sources) == 0 or len(targets) == 0:
        return result
    limit = np.inf if cutoff_minutes is None else float(cutoff_minutes)
    batch = max(1, _MAX_DIJKSTRA_CELLS // max(1, graph.shape[0]))
    for start in range(0, len(sources), batch):
        chunk = sources[start : start + batch]
        distances = dijkstra(graph, directed=True, indices=chunk, limit=limit)
        result[start : start + len(chunk)] = np.atleast_2d(distances)[:, targets]
    return result


def travel_minutes(
    network: RoadNetwork,
    origins: gpd.GeoSeries,
    destinations: gpd.GeoSeries,
    cutoff_minutes: float | None = None,
    *,
    access_speed_kmh: float = ACCESS_SPEED_KMH,
) -> np.ndarray:
    """Road travel minutes from every origin to every destination.

    Each point is snapped to its nearest road node; the snap distance is covered at
    ``access_speed_kmh`` at both ends. Dijkstra runs once per distinct snapped node, from the
    origins, or backwards from the destinations when there are fewer of those.

    Parameters
    ----------
    network : RoadNetwork
    origins, destinations : geopandas.GeoSeries
        Points in EPSG:27700.
    cutoff_minutes : float, optional
        Times above this are returned as inf, and the search stops there (much faster on
        large networks).
    access_speed_kmh : float, default :data:`ACCESS_SPEED_KMH`

    Returns
    -------
    numpy.ndarray
        ``len(origins) x len(destinations)`` minutes; inf when unreachable or beyond the cutoff,
        never NaN.
    """
    return _routed_minutes(
        network,
        _point_coordinates(origins),
        _point_coordinates(destinations),
        cutoff_minutes,
        access_speed_kmh,
    )


def _routed_minutes(
    network: RoadNetwork,
    origin_xy: np.ndarray,
    destination_xy: np.ndarray,
    cutoff_minutes: float | None,
    access_speed_kmh: float,
) -> np.ndarray:
    origin_nodes, origin_snap = network._snap_xy(origin_xy)
    destination_nodes, destination_snap = network._snap_xy(destination_xy)
    unique_origins, origin_column = np.unique(origin_nodes, return_inverse=True)
    unique_destinations, destination_column = np.unique(destination_nodes, return_inverse=True)
    if len(unique_destinations) < len(unique_origins):
        node_minutes = shortest_minutes(
            network.reverse_graph, unique_destinations, unique_origins, cutoff_minutes
        ).T
    else:
        node_minutes = shortest_minutes(
            network.graph, unique_origins, unique_destinations, cutoff_minutes
        )
    minutes = node_minutes[np.ix_(origin_column.ravel(), destination_column.ravel())]
    metres_per_minute = access_speed_kmh * 1000.0 / 60.0
    minutes += (origin_snap / metres_per_minute)[:, None]
    minutes += (destination_snap / metres_per_minute)[None, :]
    # Two points that snap to the same node go straight across at access speed rather than
    # out to the road and back (a point to itself costs nothing); row blocks bound the memory.
    rows_per_block = max(1, _MAX_DIJKSTRA_CELLS // 4 // max(1, len(destination_xy)))
    for start in range(0, len(origin_xy), rows_per_block):
        rows = slice(start, start + rows_per_block)
        same_node = origin_nodes[rows, None] == destination_nodes[None, :]
        if not same_node.any():
            continue
        block = origin_xy[rows]
        direct_m = np.hypot(
            block[:, 0:1] - destination_xy[None, :, 0], block[:, 1:2] - destination_xy[None, :, 1]
        )
        direct = np.where(same_node, direct_m / metres_per_minute, np.inf)
        np.minimum(minutes[rows], direct, out=minutes[rows])
    if cutoff_minutes is not None:
        minutes[minutes > cutoff_minutes] = np.inf
    return minutes


def straight_line_minutes(
    origins: gpd.GeoSeries,
    destinations: gpd.GeoSeries,
    speed_kmh: float = STRAIGHT_LINE_SPEED_KMH,
    circuity: float = DEFAULT_CIRCUITY,
    cutoff_minutes: float | None = None,
) -> np.ndarray:
    """Minutes = straight-line distance x circuity / speed, origins x destinations.

    Parameters
    ----------
    origins, destinations : geopandas.GeoSeries
        Points in EPSG:27700 (metres).
    speed_kmh : float, default 50
    circuity : float, default 1.3
    cutoff_minutes : float, optional
        Times above this are returned as inf.

    Returns
    -------
    numpy.ndarray
    """
    if speed_kmh <= 0 or circuity < 1:
        raise ScenarioError(
            f"straight-line travel: expected speed_kmh > 0 and circuity >= 1, found "
            f"speed_kmh={speed_kmh}, circuity={circuity}"
        )
    a = _point_coordinates(origins)
    b = _point_coordinates(destinations)
    # cdist in place: numpy's broadcast hypot makes three full-size temporaries (3 s, not
    # 0.2 s, for England's 1,374 stations x 32,844 LSOAs).
    minutes = cdist(a, b)
    minutes *= circuity / (speed_kmh * 1000.0 / 60.0)
    if cutoff_minutes is not None:
        np.putmask(minutes, minutes > cutoff_minutes, np.inf)
    return minutes


@dataclass
class TravelTimes:
    """Travel-time matrices between sites and demand points.

    Attributes
    ----------
    site_ids, demand_ids : list of str
    minutes : numpy.ndarray
        Sites x demand, minutes at normal road speeds (inf: unreachable or beyond the cutoff).
    site_to_site_minutes : numpy.ndarray
        Sites x sites, same units and cutoff.
    method : str
        ``"network"`` or ``"straight_line"``.
    snapping : pandas.DataFrame or None
        For the network method: point_id, kind ("site" or "demand"), snap_distance_m, far.
    blue_light_factor : dict
        Speed-up of blue-light travel per service type.
    cached : bool
        True when the matrices were read from the disk cache.
    cutoff_minutes : float or None
        The cutoff used.
    """

    site_ids: list[str]
    demand_ids: list[str]
    minutes: np.ndarray
    site_to_site_minutes: np.ndarray
    method: str
    snapping: pd.DataFrame | None = None
    blue_light_factor: dict[str, float] = field(default_factory=dict)
    cached: bool = False
    cutoff_minutes: float | None = None

    def factor_for(self, service_type: str) -> float:
        """The blue-light factor of a service type (1.0 when none is set)."""
        factor = float(self.blue_light_factor.get(service_type, 1.0))
        if not factor > 0:
            raise ScenarioError(
                f"blue_light_factor['{service_type}']: expected a number > 0, found {factor}"
            )
        return factor

    def for_service_type(self, service_type: str) -> np.ndarray:
        """Sites x demand minutes under that service type's blue-light factor.

        Parameters
        ----------
        service_type : str

        Returns
        -------
        numpy.ndarray
            ``minutes / factor`` (a new array).
        """
        return self.minutes / self.factor_for(service_type)


def _setting(settings: Any, name: str, default: Any) -> Any:
    value = getattr(settings, name, default)
    return default if value is None and default is not None else value


def compute_travel_times(
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    settings: Any,
    cutoff_minutes: float | None = None,
    progress: ProgressCallback | None = None,
) -> TravelTimes:
    """Travel times from every site to every demand point and between sites.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Indexed by ``site_id``, EPSG:27700; polygons are reduced to a representative point.
    demand : geopandas.GeoDataFrame
        Indexed by ``demand_id``, EPSG:27700 points.
    settings : TravelSettings
        The scenario's travel section (method, network, straight_line_speed_kmh, circuity,
        road_speeds_kmh, blue_light_factor, snap_warning_m, cache_dir and optionally cache;
        ``cache=False`` or ``cache_dir=None`` disables the disk cache).
    cutoff_minutes : float, optional
        Normal-speed minutes above this become inf. A standard of T blue-light minutes reaches
        T x factor normal minutes, so pass the largest standard times the largest blue-light
        factor (at least 1).
    progress : callable, optional
        Called as ``progress(step, fraction)`` after each stage.

    Returns
    -------
    TravelTimes

    Raises
    ------
    ScenarioError
        If the method is unknown or "network" is asked for without a network file.
    NetworkError
        If the network file cannot be read.
    """

    def report(step: str, fraction: float) -> None:
        if progress is not None:
            progress(step, fraction)

    method = _setting(settings, "method", "auto")
    network_path = _setting(settings, "network", None)
    if method == "auto":
        method = "network" if network_path is not None else "straight_line"
    if method not in ("network", "straight_line"):
        raise ScenarioError(
            f"travel.method: expected 'auto', 'network' or 'straight_line', found {method!r}"
        )
    if method == "network" and network_path is None:
        raise ScenarioError(
            "travel.method is 'network': expected travel.network to name an .osm.pbf file, "
            "found none"
        )
    for frame, name in ((sites, "sites"), (demand, "demand")):
        if frame.crs is not None and not frame.crs.equals(pyproj.CRS.from_epsg(27700)):
            raise ScenarioError(f"{name}: expected EPSG:27700 coordinates, found {frame.crs}")

    speed = float(_setting(settings, "straight_line_speed_kmh", STRAIGHT_LINE_SPEED_KMH))
    circuity = float(_setting(settings, "circuity", DEFAULT_CIRCUITY))
    road_speeds = dict(_setting(settings, "road_speeds_kmh", {}) or {})
    blue_light = {
        str(k): float(v) for k, v in (_setting(settings, "blue_light_factor", {}) or {}).items()
    }
    snap_warning_m = float(_setting(settings, "snap_warning_m", 500.0))
    cache_dir = _setting(settings, "cache_dir", None)
    if not getattr(settings, "cache", True):
        cache_dir = None

    site_ids = [str(i) for i in sites.index]
    demand_ids = [str(i) for i in demand.index]
    site_xy = _point_coordinates(sites.geometry)
    demand_xy = _point_coordinates(demand.geometry)

    cache_file = None
    source_hash = None
    if cache_dir is not None:
        if method == "network":
            source_hash = file_sha256(Path(network_path))
        key = hash_key(
            "travel",
            _CACHE_VERSION,
            method,
            source_hash,
            merge_speeds(DEFAULT_ROAD_SPEEDS_KMH, road_speeds) if method == "network" else None,
            ACCESS_SPEED_KMH if method == "network" else None,
            (speed, circuity) if method == "straight_line" else None,
            cutoff_minutes,
            site_ids,
            demand_ids,
            site_xy,
            demand_xy,
        )
        cache_file = Path(cache_dir) / f"travel-{key}.npz"
        try:
            times = _load_travel_times(
                cache_file, site_ids, demand_ids, method, blue_light, snap_warning_m
            )
        except CacheDamaged as damage:
            _report_damaged_cache(cache_file, damage)
            times = None
        if times is not None:
            times.cutoff_minutes = cutoff_minutes
            logger.info(
                "Loaded cached %s travel times: %s sites x %s demand points from %s",
                method.replace("_", "-"),
                f"{len(site_ids):,}",
                f"{len(demand_ids):,}",
                cache_file,
            )
            report("travel times (cached)", 1.0)
            return times

    snapping = None
    if method == "straight_line":
        minutes = straight_line_minutes(site_xy, demand_xy, speed, circuity, cutoff_minutes)
        site_to_site = straight_line_minutes(site_xy, site_xy, speed, circuity, cutoff_minutes)
        logger.info(
            "Computed straight-line travel times: %s sites x %s demand points at %g km/h, "
            "circuity %g",
            f"{len(site_ids):,}",
            f"{len(demand_ids):,}",
            speed,
            circuity,
        )
    else:
        network = RoadNetwork.from_osm(network_path, road_speeds, cache_dir=cache_dir)
        report("road graph", 0.5)
        _, site_snap = network._snap_xy(site_xy)
        _, demand_snap = network._snap_xy(demand_xy)
        snapping = _snapping_table(site_ids, site_snap, demand_ids, demand_snap, snap_warning_m)
        # One search from the sites serves both matrices.
        both = _routed_minutes(
            network,
            site_xy,
            np.concatenate([demand_xy, site_xy]),
            cutoff_minutes,
            ACCESS_SPEED_KMH,
        )
        minutes = np.ascontiguousarray(both[:, : len(demand_ids)])
        site_to_site = np.ascontiguousarray(both[:, len(demand_ids) :])
        logger.info(
            "Computed road travel times: %s sites x %s demand points (%s pairs beyond %s)",
            f"{len(site_ids):,}",
            f"{len(demand_ids):,}",
            f"{int(np.isinf(minutes).sum()):,}",
            "reach" if cutoff_minutes is None else f"{cutoff_minutes:g} minutes",
        )
    report("travel times", 1.0)
    times = TravelTimes(
        site_ids=site_ids,
        demand_ids=demand_ids,
        minutes=minutes,
        site_to_site_minutes=site_to_site,
        method=method,
        snapping=snapping,
        blue_light_factor=blue_light,
        cached=False,
        cutoff_minutes=cutoff_minutes,
    )
    if cache_file is not None:
        _save_travel_times(cache_file, times)
    return times


def _snapping_table(
    site_ids: list[str],
    site_snap: np.ndarray,
    demand_ids: list[str],
    demand_snap: np.ndarray,
    snap_warning_m: float,
) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "point_id": site_ids + demand_ids,
            "kind": ["site"] * len(site_ids) + ["demand"] * len(demand_ids),
            "snap_distance_m": np.concatenate([site_snap, demand_snap]),
        }
    )
    table["far"] = table["snap_distance_m"] > snap_warning_m
    for row in table[table["far"]].itertuples():
        logger.warning(
            "%s %s is %.0f m from the nearest road (more than %g m); its travel times assume "
            "the gap is covered at %g km/h",
            row.kind.capitalize(),
            row.point_id,
            row.snap_distance_m,
            snap_warning_m,
            ACCESS_SPEED_KMH,
        )
    return table


def _save_travel_times(path: Path, times: TravelTimes) -> None:
    arrays = {"minutes": times.minutes, "site_to_site_minutes": times.site_to_site_minutes}
    if times.snapping is not None:
        arrays["snap_distance_m"] = times.snapping["snap_distance_m"].to_numpy(dtype=np.float64)
    save_arrays(path, arrays)


def _report_damaged_cache(path: Path, damage: CacheDamaged) -> None:
    if "not cached" not in str(damage):
        logger.warning("Ignored a damaged cache file, computing afresh: %s", damage)


def _load_travel_times(
    path: Path,
    site_ids: list[str],
    demand_ids: list[str],
    method: str,
    blue_light: dict[str, float],
    snap_warning_m: float,
) -> TravelTimes:
    if not path.is_file():
        raise CacheDamaged(f"{path}: not cached")
    stored = load_arrays(path, ("minutes", "site_to_site_minutes"))
    shapes = (len(site_ids), len(demand_ids)), (len(site_ids), len(site_ids))
    if (stored["minutes"].shape, stored["site_to_site_minutes"].shape) != shapes:
        raise CacheDamaged(f"{path}: matrices of another shape")
    snapping = None
    if "snap_distance_m" in stored:
        distance = stored["snap_distance_m"]
        n_sites = len(site_ids)
        snapping = _snapping_table(
            site_ids, distance[:n_sites], demand_ids, distance[n_sites:], snap_warning_m
        )
    return TravelTimes(
        site_ids=site_ids,
        demand_ids=demand_ids,
        minutes=stored["minutes"],
        site_to_site_minutes=stored["site_to_site_minutes"],
        method=method,
        snapping=snapping,
        blue_light_factor=blue_light,
        cached=True,
    )
