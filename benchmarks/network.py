"""Benchmark: road graph building and travel-time matrices, against networkx's Dijkstra.

Run from the repository root::

    python benchmarks/network.py            # Rutland (real OSM) and a ~500k-node synthetic grid
    python benchmarks/network.py --small    # a ~50k-node grid instead, for a quick check

Both the scipy (csgraph) and the networkx answers are computed in the same run on the same graph;
the script asserts that they agree within 1e-9 minutes and prints the time ratio. networkx is
slow on large graphs, so on the synthetic grid it runs from a few of the sources and its time is
scaled up to all of them (the output says so).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import networkx as nx
import numpy as np
import scipy.sparse as sp

from totalcapital._osm_roads import min_csr
from totalcapital.demand import load_lsoa_demand
from totalcapital.network import RoadNetwork, compute_travel_times, shortest_minutes
from totalcapital.osm_import import import_osm_sites

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RUTLAND_PBF = SHARED_DATA / "rutland" / "rutland-2022-07-20.osm.pbf"
ENGLAND = SHARED_DATA / "england"


def best_of(repeats: int, function):
    """Run ``function`` ``repeats`` times; return (min seconds, last result)."""
    timings, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        timings.append(time.perf_counter() - started)
    return min(timings), result


def to_networkx(graph: sp.csr_array) -> nx.DiGraph:
    coo = graph.tocoo()
    digraph = nx.DiGraph()
    digraph.add_nodes_from(range(graph.shape[0]))
    digraph.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    return digraph


def networkx_minutes(digraph: nx.DiGraph, sources, targets, cutoff=None) -> np.ndarray:
    result = np.full((len(sources), len(targets)), np.inf)
    for row, source in enumerate(sources):
        lengths = nx.single_source_dijkstra_path_length(
            digraph, int(source), cutoff=cutoff, weight="weight"
        )
        result[row] = [lengths.get(int(t), np.inf) for t in targets]
    return result


def check_equal(ours: np.ndarray, theirs: np.ndarray) -> float:
    assert np.array_equal(np.isinf(ours), np.isinf(theirs)), "reachability differs"
    finite = np.isfinite(ours)
    worst = float(np.max(np.abs(ours[finite] - theirs[finite]), initial=0.0))
    assert worst <= 1e-9, f"times differ by {worst}"
    return worst


def rutland() -> None:
    print("== Rutland (real OSM extract, rutland-2022-07-20.osm.pbf) ==")
    build_seconds, network = best_of(3, lambda: RoadNetwork.from_osm(RUTLAND_PBF))
    print(
        f"graph build (parse + project + CSR + strong components), best of 3: "
        f"{build_seconds:.3f} s -> {network.n_nodes:,} nodes, {network.n_edges:,} edges"
    )
    sites = import_osm_sites(RUTLAND_PBF, None)
    demand = load_lsoa_demand(
        ENGLAND / "lsoa2011_population_weighted_centroids.csv",
        ENGLAND / "lsoa2011_population_mid2017.csv",
        ["E06000017"],
    )
    site_nodes, _ = network.snap(sites.geometry)
    demand_nodes, _ = network.snap(demand.geometry)
    sources = np.unique(site_nodes)
    ours_seconds, ours = best_of(5, lambda: shortest_minutes(network.graph, sources, demand_nodes))
    digraph = to_networkx(network.graph)
    theirs_seconds, theirs = best_of(1, lambda: networkx_minutes(digraph, sources, demand_nodes))
    worst = check_equal(ours, theirs)
    print(
        f"matrix {len(sources)} site nodes x {len(demand_nodes)} LSOAs, no cutoff: "
        f"scipy {ours_seconds:.3f} s, networkx {theirs_seconds:.3f} s, "
        f"ratio networkx/scipy {theirs_seconds / ours_seconds:.1f}x (max |diff| {worst:.1e})"
    )
    with tempfile.TemporaryDirectory() as cache_dir:
        settings = SimpleNamespace(
            method="network",
            network=RUTLAND_PBF,
            road_speeds_kmh={},
            blue_light_factor={},
            snap_warning_m=500.0,
            cache_dir=Path(cache_dir),
        )
        fresh_seconds, fresh = best_of(
            1, lambda: compute_travel_times(sites.set_index("site_id"), demand, settings, 30.0)
        )
        cached_seconds, cached = best_of(
            1, lambda: compute_travel_times(sites.set_index("site_id"), demand, settings, 30.0)
        )
        assert cached.cached and np.array_equal(fresh.minutes, cached.minutes)
    print(
        f"compute_travel_times ({len(sites)} sites x {len(demand)} LSOAs, cutoff 30 min): "
        f"fresh {fresh_seconds:.3f} s, from cache {cached_seconds:.3f} s "
        f"(ratio {fresh_seconds / cached_seconds:.1f}x)"
    )


def synthetic_grid(side: int, seed: int = 20260401):
    """A perturbed square grid, 100 m spacing, random speeds 15-100 km/h, some one-way edges."""
    rng = np.random.default_rng(seed)
    n = side * side
    x = (np.arange(n) % side) * 100.0 + rng.uniform(-30, 30, n)
    y = (np.arange(n) // side) * 100.0 + rng.uniform(-30, 30, n)
    index = np.arange(n).reshape(side, side)
    tails = np.concatenate([index[:, :-1].ravel(), index[:-1, :].ravel()])
    heads = np.concatenate([index[:, 1:].ravel(), index[1:, :].ravel()])
    speed = rng.uniform(15, 100, len(tails))
    minutes = np.hypot(x[heads] - x[tails], y[heads] - y[tails]) / (speed * 1000 / 60)
    # One edge in ten is one-way.
    two_way = rng.random(len(tails)) >= 0.1
    sources = np.concatenate([tails, heads[two_way]])
    targets = np.concatenate([heads, tails[two_way]])
    weights = np.concatenate([minutes, minutes[two_way]])
    return sources, targets, weights, n


def synthetic(side: int, n_sites: int, n_demand: int, networkx_sources: int) -> None:
    sources, targets, weights, n = synthetic_grid(side)
    build_seconds, graph = best_of(3, lambda: min_csr(sources, targets, weights, n))
    print(f"\n== Synthetic perturbed grid {side} x {side} ==")
    print(
        f"CSR build from edge arrays, best of 3: {build_seconds:.3f} s -> "
        f"{graph.shape[0]:,} nodes, {graph.nnz:,} edges"
    )
    rng = np.random.default_rng(7)
    site_nodes = rng.choice(n, n_sites, replace=False)
    demand_nodes = rng.choice(n, n_demand, replace=False)

    ours_seconds, ours = best_of(1, lambda: shortest_minutes(graph, site_nodes, demand_nodes))
    cutoff = 15.0
    cut_seconds, ours_cut = best_of(
        1, lambda: shortest_minutes(graph, site_nodes, demand_nodes, cutoff)
    )
    convert_seconds, digraph = best_of(1, lambda: to_networkx(graph))
    subset = site_nodes[:networkx_sources]
    theirs_seconds, theirs = best_of(1, lambda: networkx_minutes(digraph, subset, demand_nodes))
    theirs_cut_seconds, theirs_cut = best_of(
        1, lambda: networkx_minutes(digraph, subset, demand_nodes, cutoff)
    )
    worst = check_equal(ours[:networkx_sources], theirs)
    worst_cut = check_equal(ours_cut[:networkx_sources], theirs_cut)
    scale = n_sites / networkx_sources
    theirs_all, theirs_cut_all = theirs_seconds * scale, theirs_cut_seconds * scale
    print(
        f"matrix {n_sites} sites x {n_demand:,} demand points, no cutoff: "
        f"scipy {ours_seconds:.2f} s; networkx {theirs_seconds:.2f} s for {networkx_sources} "
        f"sources, scaled x{scale:.0f} to {theirs_all:.1f} s; "
        f"ratio networkx/scipy {theirs_all / ours_seconds:.1f}x (max |diff| {worst:.1e}; "
        f"converting the graph to networkx took {convert_seconds:.1f} s, not counted)"
    )
    print(
        f"same with cutoff {cutoff:g} min: scipy {cut_seconds:.2f} s; networkx "
        f"{theirs_cut_seconds:.2f} s for {networkx_sources} sources, scaled to "
        f"{theirs_cut_all:.1f} s; ratio {theirs_cut_all / cut_seconds:.1f}x "
        f"(max |diff| {worst_cut:.1e}); cutoff speed-up for scipy "
        f"{ours_seconds / cut_seconds:.1f}x"
    )
    reachable = np.isfinite(ours_cut).mean()
    print(
        f"pairs within the cutoff: {reachable:.1%}; median no-cutoff time "
        f"{statistics.median(ours.ravel()):.1f} min"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a ~50k-node grid instead of ~500k")
    arguments = parser.parse_args()
    rutland()
    if arguments.small:
        synthetic(side=224, n_sites=100, n_demand=5_000, networkx_sources=10)
    else:
        synthetic(side=708, n_sites=100, n_demand=5_000, networkx_sources=4)


if __name__ == "__main__":
    main()
