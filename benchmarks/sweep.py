"""A sweep on a 2-worker local Dask cluster against the same points run one after another.

Four synthetic counties (``county_model.synthetic_county``, seeds 1-4, 200 sites, 300
services, 500 demand points each, written as GeoPackages) are the places; each is planned
under four discount rates and two move limits: 32 points, each a few seconds of HiGHS
(proven within 0.1%). The same points are run one after another in this process with
``sweep.run_point`` (the same work, result folders included), then as a sweep on a fresh
``LocalCluster`` of 2 single-threaded worker processes (cluster start and stop counted).
HiGHS gets one thread in both. The two runs must agree point by point. As a control, the
same points also run on a bare ``multiprocessing`` pool of 2 processes: on a machine whose
cores are busy with other work, neither parallel run can beat one-after-another, and the
control shows it.

Usage::

    python benchmarks/sweep.py [--sites 200] [--workers 2] [--rounds 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from county_model import STANDARDS, synthetic_county  # noqa: E402

from totalcapital.results import _for_file  # noqa: E402
from totalcapital.sweep import dask_client, load_sweep, run_point, run_points  # noqa: E402

SEEDS = (1, 2, 3, 4)
RATES = (0.02, 0.03, 0.04, 0.05)
MOVES_KM = (3, 4)


def write_inputs(folder: Path, n_sites: int) -> Path:
    """Four county registers, a base scenario and a sweep file over them; returns the sweep."""
    budgets = {}
    for seed in SEEDS:
        estate, demand, _ = synthetic_county(n_sites, n_sites * 3 // 2, n_sites * 5 // 2, seed)
        path = folder / f"county-{seed}.gpkg"
        sites = _for_file(estate.sites).reset_index()
        sites.to_file(path, layer="sites", driver="GPKG", engine="pyogrio")
        services = gpd.GeoDataFrame(estate.services.reset_index())
        services.to_file(path, layer="services", driver="GPKG", engine="pyogrio")
        points = demand.reset_index().rename(columns={"weight": "population"})
        points.to_file(path, layer="demand", driver="GPKG", engine="pyogrio")
        # Backlog of kept sites counts as capex: today's plan needs the whole backlog funded.
        budgets[seed] = round(1.1 * float(estate.sites["backlog_cost"].sum()))
    scenario = {
        "name": "county",
        "estate": "county-1.gpkg",
        "travel": {"method": "straight_line", "cache": False},
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
            "capabilities": {"fire_station": ["appliance_bays"]},
            "incompatible": [["police_station", "care_home"]],
        },
        "finance": {"receipts_recycled_share": 0.5},
        "solver": {"time_limit_seconds": 60, "mip_gap": 0.001, "threads": 1},
    }
    (folder / "county.yaml").write_text(yaml.safe_dump(scenario), encoding="utf-8")
    sweep = {
        "name": "county-sweep",
        "scenario": "county.yaml",
        "grid": {
            "parameters": {
                "finance.discount_rate": list(RATES),
                "rules.max_move_km": list(MOVES_KM),
            }
        },
        "places": {
            "named": {
                f"county-{seed}": {
                    "estate": f"county-{seed}.gpkg",
                    "finance.capital_budget": budgets[seed],
                }
                for seed in SEEDS
            }
        },
    }
    path = folder / "county-sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


def one_after_another(spec, folder: Path) -> tuple[float, list]:
    started = time.perf_counter()
    outcomes = [run_point(p, folder / "points" / p.key) for p in spec.points]
    return time.perf_counter() - started, outcomes


def as_a_sweep(spec, folder: Path, workers: int) -> tuple[float, list]:
    started = time.perf_counter()
    with dask_client(workers=workers) as client:
        outcomes = run_points(spec.points, folder, client)
    return time.perf_counter() - started, outcomes


def _run_one(args) -> object:
    point, folder = args
    return run_point(point, folder)


def in_a_pool(spec, folder: Path, workers: int) -> tuple[float, list]:
    """The control: the same points on a bare multiprocessing pool (no Dask, no resuming)."""
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        outcomes = pool.map(_run_one, [(p, folder / "points" / p.key) for p in spec.points], 1)
    return time.perf_counter() - started, outcomes


def mean_point(outcomes) -> float:
    return sum(o.seconds for o in outcomes) / len(outcomes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="Rounds of both runs; even rounds run the sweep first (the machine's load may drift).",
    )
    parser.add_argument(
        "--no-pool", action="store_true", help="Skip the bare multiprocessing control."
    )
    parser.add_argument("--keep", type=Path, help="Keep inputs and results in this folder.")
    args = parser.parse_args(argv)

    folder = args.keep or Path(tempfile.mkdtemp(prefix="totalcapital-sweep-"))
    folder.mkdir(parents=True, exist_ok=True)
    spec = load_sweep(write_inputs(folder, args.sites))
    print(
        f"{len(spec.points)} points: {len(SEEDS)} counties of {args.sites} sites x "
        f"{len(RATES)} discount rates x {len(MOVES_KM)} move limits"
    )
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs = {
        "one": ("one after another", lambda base: one_after_another(spec, base / "one")),
        "sweep": (
            f"sweep, {args.workers}-worker LocalCluster (start and stop included)",
            lambda base: as_a_sweep(spec, base / "sweep", args.workers),
        ),
        "pool": (
            f"control: bare multiprocessing pool of {args.workers}",
            lambda base: in_a_pool(spec, base / "pool", args.workers),
        ),
    }
    order = ["one", "sweep"] + ([] if args.no_pool else ["pool"])
    totals = dict.fromkeys(order, 0.0)
    for round_ in range(1, args.rounds + 1):
        phases = order if round_ % 2 else order[::-1]
        results = {}
        for phase in phases:
            results[phase] = runs[phase][1](folder / f"round-{round_}")
            totals[phase] += results[phase][0]
            seconds, outcomes = results[phase]
            print(
                f"round {round_}: {runs[phase][0]}: {seconds:.1f} s "
                f"(mean point {mean_point(outcomes):.1f} s)"
            )
        check(results["one"][1], results["sweep"][1])
        print(
            f"round {round_}: ratio one-after-another / sweep = "
            f"{results['one'][0] / results['sweep'][0]:.2f}x"
        )
    print(f"statuses {sorted({o.status for o in results['one'][1]})}")
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    line = ", ".join(f"{runs[p][0]} {totals[p]:.1f} s" for p in order)
    print(f"total over {args.rounds} round(s): {line}")
    print(f"ratio one-after-another / sweep = {totals['one'] / totals['sweep']:.2f}x")
    if "pool" in totals:
        print(f"ratio one-after-another / bare pool = {totals['one'] / totals['pool']:.2f}x")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def check(one_by_one, swept) -> None:
    """The sweep plans what the one-by-one run plans."""
    for a, b in zip(one_by_one, swept, strict=True):
        assert a.ok and b.ok and not b.reused, (a, b)
        if not a.status == b.status == "optimal":
            continue  # a plan stopped by the clock may stop anywhere
        saving_a, saving_b = a.record["totals"]["npv_saving"], b.record["totals"]["npv_saving"]
        # Both proven within 0.1% of whole-life cost: the savings may differ by that much.
        tolerance = 0.001 * abs(a.record["totals"]["npv_cost_after"]) + 1.0
        assert abs(saving_a - saving_b) <= tolerance, (a.values, saving_a, saving_b)


if __name__ == "__main__":
    raise SystemExit(main())
