"""Build and solve a synthetic county: about 2,000 sites, 3,000 services, 5,000 demand points.

Seeded random estate over a 60 x 60 km county: six partners, sites holding one or two
services each, three response standards (fire 10, ambulance 15, police 15 minutes, "no worse
than today") on straight-line travel times, moves limited to ``--max-move-km`` (realistic
sparsity), fire stations needing appliance bays. The model is built with
:meth:`CoLocationModel.from_estate` and solved with a time limit; in the same run the same model
is built the textbook way (a Python loop over every service x site pair, ``lpSum`` of products)
for the build-time ratio. With ``--compare-highs`` the same model is also solved by HiGHS alone
(no neighbourhood search, no decomposition) with the same limit; each run prints its gap and
where its bound comes from.

Usage::

    python benchmarks/county_model.py [--sites 2000 --services 3000 --demand 5000]
        [--time-limit 60] [--no-textbook] [--compare-highs]
        [--local-search auto|on|off] [--decomposition auto|on|off]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import points

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pulp  # noqa: E402

from totalcapital.estate import Estate  # noqa: E402
from totalcapital.model import CoLocationModel  # noqa: E402
from totalcapital.network import TravelTimes  # noqa: E402
from totalcapital.scenario import Scenario  # noqa: E402

PARTNERS = ["COUNCIL", "DISTRICT", "POLICE", "FIRE", "AMBULANCE", "NHS"]
TYPES = {
    "FIRE": ["fire_station"],
    "AMBULANCE": ["ambulance_station"],
    "POLICE": ["police_station"],
    "COUNCIL": ["library", "council_office", "care_home"],
    "DISTRICT": ["council_office", "customer_service"],
    "NHS": ["gp_surgery", "clinic"],
}
STANDARDS = [
    ("fire_10min", "fire_station", 10.0),
    ("ambulance_15min", "ambulance_station", 15.0),
    ("police_15min", "police_station", 15.0),
]


def synthetic_county(n_sites: int, n_services: int, n_demand: int, seed: int = 1):
    """A seeded random estate, demand points and straight-line travel times."""
    rng = np.random.default_rng(seed)
    origin = np.array([430_000.0, 450_000.0])
    site_xy = origin + rng.uniform(0, 60_000, (n_sites, 2))
    owner = rng.choice(PARTNERS, n_sites, p=[0.3, 0.15, 0.12, 0.05, 0.04, 0.34])
    site_ids = [f"SITE-{i:05d}" for i in range(n_sites)]
    # Every site holds one service; the rest go to random sites of the same owner.
    holder = np.concatenate([np.arange(n_sites), rng.integers(0, n_sites, n_services - n_sites)])
    org = owner[holder]
    service_type = np.array([rng.choice(TYPES[o]) for o in org])
    space = rng.uniform(80, 600, n_services).round()
    used = np.bincount(holder, weights=space, minlength=n_sites)
    gia = (used * rng.uniform(1.05, 1.9, n_sites)).round()
    running = (gia * rng.uniform(60, 140, n_sites)).round(-2)
    fire_site = np.zeros(n_sites, dtype=bool)
    fire_site[holder[service_type == "fire_station"]] = True
    sites = pd.DataFrame(
        {
            "site_id": site_ids,
            "name": site_ids,
            "owner": owner,
            "tenure": np.where(rng.random(n_sites) < 0.2, "leasehold", "freehold"),
            "status": "operational",
            "gia_m2": gia,
            "running_cost": running,
            "backlog_cost": (gia * rng.uniform(0, 200, n_sites)).round(-2),
            "market_value": (gia * rng.uniform(500, 2500, n_sites)).round(-3),
            "disposal_cost": 15_000.0,
            "lease_exit_cost": (running * rng.uniform(0.5, 2, n_sites)).round(-2),
            "appliance_bays": fire_site | (rng.random(n_sites) < 0.03),
            "easting": site_xy[:, 0],
            "northing": site_xy[:, 1],
        }
    )
    leasehold = sites["tenure"] == "leasehold"
    sites.loc[~leasehold, "lease_exit_cost"] = 0.0
    sites["lease_break"] = np.where(leasehold, "2030-03-31", "")
    services = pd.DataFrame(
        {
            "service_id": [f"SVC-{k:05d}" for k in range(n_services)],
            "org": org,
            "service_type": service_type,
            "current_site": np.array(site_ids)[holder],
            "space_m2": space,
            "staff": rng.integers(2, 40, n_services).astype(float),
            "movable": rng.random(n_services) < 0.9,
            "fit_out_cost_per_m2": rng.uniform(200, 900, n_services).round(),
        }
    )
    estate = Estate.from_frames(sites, services, source="synthetic county")
    demand_xy = origin + rng.uniform(0, 60_000, (n_demand, 2))
    demand = gpd.GeoDataFrame(
        {"weight": rng.integers(1_000, 3_000, n_demand).astype(float)},
        geometry=points(demand_xy),
        index=pd.Index([f"D{d:05d}" for d in range(n_demand)], name="demand_id"),
        crs="EPSG:27700",
    )
    distance_km = (
        np.hypot(site_xy[:, 0:1] - demand_xy[None, :, 0], site_xy[:, 1:2] - demand_xy[None, :, 1])
        / 1000.0
    )
    minutes = distance_km * 1.3 / 50.0 * 60.0
    travel = TravelTimes(
        site_ids,
        list(demand.index),
        minutes,
        np.zeros((1, 1)),
        "straight_line",
        blue_light_factor={"fire_station": 1.2, "ambulance_station": 1.2, "police_station": 1.2},
    )
    return estate, demand, travel


def county_scenario(
    time_limit: float,
    max_move_km: float,
    budget: float,
    local_search: str = "auto",
    decomposition: str = "auto",
) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "synthetic_county",
            "standards": [
                {
                    "name": name,
                    "service_types": [kind],
                    "minutes": minutes,
                    "rule": "no_worse_than_today",
                }
                for name, kind, minutes in STANDARDS
            ],
            "rules": {
                "max_move_km": max_move_km,
                "capabilities": {"fire_station": ["appliance_bays"]},
                "incompatible": [["police_station", "care_home"]],
                "lease_exit_at_break_only": True,
            },
            "finance": {
                "capital_budget": budget,
                "receipts_recycled_share": 0.5,
                "budget_counts": ["builds", "moves", "backlog"],
            },
            "solver": {
                "name": "highs",
                "time_limit_seconds": time_limit,
                "mip_gap": 0.001,
                "local_search": local_search,
                "decomposition": decomposition,
            },
            # The timeless model; benchmarks/programme_model.py measures the dated one.
            "programme": {"enabled": False},
        }
    )


def textbook_build(model: CoLocationModel, allowed: np.ndarray) -> float:
    """Build the same core the textbook way; returns seconds.

    A Python loop over every (service, site) pair of the full matrix keeps the allowed ones;
    objective, assignment, capacity, x <= y and coverage rows are ``lpSum`` of products.
    """
    started = time.perf_counter()
    model = model.planning
    n_services, n_sites = allowed.shape
    problem = pulp.LpProblem("textbook", pulp.LpMinimize)
    y = problem.add_variable_dicts("y", range(n_sites), cat=pulp.LpBinary)
    pairs = [(k, s) for k in range(n_services) for s in range(n_sites) if allowed[k, s]]
    x = problem.add_variable_dicts("x", pairs, cat=pulp.LpBinary)
    cost = dict(zip(pairs, model.pair_cost[:, 0].tolist(), strict=True))
    problem += pulp.lpSum(model.site_cost[s, 0] * y[s] for s in range(n_sites)) + pulp.lpSum(
        cost[k, s] * x[k, s] for k, s in pairs
    )
    for k in range(n_services):
        problem += pulp.lpSum(x[k, s] for s in range(n_sites) if allowed[k, s]) == 1
    for s in range(n_sites):
        problem += (
            pulp.lpSum(model.space[k] * x[k, s] for k in range(n_services) if allowed[k, s])
            <= model.capacity[s] * y[s]
        )
    for k, s in pairs:
        problem += x[k, s] <= y[s]
    for r, req in enumerate(model.coverage):
        reach = req.reach[0].toarray()
        providers = req.providers[0]
        covered = problem.add_variable_dicts(f"u{r}", range(reach.shape[1]), 0, 1)
        providers_at = [
            [k for k in range(n_services) if providers[k] and allowed[k, s]] for s in range(n_sites)
        ]
        for d in range(reach.shape[1]):
            problem += covered[d] <= pulp.lpSum(
                x[k, s] for s in np.flatnonzero(reach[:, d]) for k in providers_at[s]
            )
        problem += pulp.lpSum(req.weights[d] * covered[d] for d in range(reach.shape[1])) >= (
            req.target_weight - 1e-6
        )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--services", type=int, default=3000)
    parser.add_argument("--demand", type=int, default=5000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--max-move-km", type=float, default=4.0)
    parser.add_argument("--no-textbook", action="store_true")
    parser.add_argument("--local-search", choices=["auto", "on", "off"], default="auto")
    parser.add_argument("--decomposition", choices=["auto", "on", "off"], default="auto")
    parser.add_argument(
        "--compare-highs", action="store_true", help="also solve with HiGHS alone, same limit"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    estate, demand, travel = synthetic_county(args.sites, args.services, args.demand)
    print(
        f"synthetic county: {len(estate.sites)} sites, {len(estate.services)} services, "
        f"{len(demand)} demand points ({time.perf_counter() - started:.1f} s to generate)"
    )
    # Backlog of kept sites counts as capex: today's plan needs the whole backlog funded.
    budget = 1.1 * float(estate.sites["backlog_cost"].sum())
    scenario = county_scenario(
        args.time_limit, args.max_move_km, budget, args.local_search, args.decomposition
    )
    started = time.perf_counter()
    model = CoLocationModel.from_estate(estate, scenario, travel, demand)
    build = time.perf_counter() - started
    print(
        f"build (from_estate, arrays + PuLP) seconds={build:.2f} "
        f"variables={model.lp.numVariables()} constraints={model.lp.numConstraints()} "
        f"allowed_pairs={len(model.planning.pair_site)} pruned_pairs={model.planning.pruned_pairs}"
    )
    report("totalcapital", model.solve())
    if args.compare_highs:
        # HiGHS alone on the same model, same limit: no search, no decomposition.
        alone = county_scenario(args.time_limit, args.max_move_km, budget, "off", "off")
        report("HiGHS alone", CoLocationModel.from_estate(estate, alone, travel, demand).solve())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS) = {peak:,.0f} MiB")
    if not args.no_textbook:
        seconds = textbook_build(model, _allowed_mask(model))
        print(
            f"textbook build seconds={seconds:.2f} "
            f"build ratio (textbook / ours) = {seconds / build:.1f}x"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory after textbook build (max RSS) = {peak:,.0f} MiB")
    return 0


def report(label: str, model: CoLocationModel) -> None:
    solution = model.solution
    source = (
        "decomposition by site"
        if "the bound is the decomposition's" in solution.verification
        else f"{solution.solver} branch and bound"
    )
    print(
        f"{label}: model stage seconds={solution.build_seconds + solution.solve_seconds:.2f} "
        f"status={solution.status} solver_status='{solution.solver_status}' "
        f"objective={solution.objective:,.0f} bound={solution.best_bound:,.0f} "
        f"gap={solution.gap:.4%} (bound from {source})"
    )
    if solution.local_search:
        print(f"  neighbourhood search: {solution.local_search}")
    print(f"  verification: {solution.verification}")
    print(
        f"  sites kept={int((solution.site_decision == 'keep').sum())} "
        f"disposed={int((solution.site_decision == 'dispose').sum())} "
        f"leases_exited={int((solution.site_decision == 'exit_lease').sum())} "
        f"coverage_met={solution.coverage['met'].all()}"
    )


def _allowed_mask(model: CoLocationModel) -> np.ndarray:
    planning = model.planning
    mask = np.zeros((planning.n_services, planning.n_sites), dtype=bool)
    mask[planning.pair_service, planning.pair_site] = True
    return mask


if __name__ == "__main__":
    raise SystemExit(main())
