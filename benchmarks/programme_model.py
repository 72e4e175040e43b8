"""The dated programme against the timeless model on the synthetic county, in the same run.

The county of ``benchmarks/county_model.py`` (seeded), with lease breaks spread over the
coming years, is planned twice with the same time limit: once timeless (every decision at the
start) and once as a ten-year programme (decisions by financial year, every standard in every
year, the budget as a running total). Printed for each: epochs, model size, build and solve
seconds, status, verified whole-life cost, bound and gap, and how the plan's changes spread
over the years.

Usage::

    python benchmarks/programme_model.py [--sites 500 --services 750 --demand 1250]
        [--time-limit 60] [--years 10]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from county_model import county_scenario, synthetic_county  # noqa: E402

from totalcapital.estate import Estate  # noqa: E402
from totalcapital.model import CoLocationModel  # noqa: E402


def spread_lease_breaks(estate: Estate, seed: int = 2) -> Estate:
    """Lease breaks on 31 March of 2027 .. 2034, so leases can go in different years."""
    rng = np.random.default_rng(seed)
    sites = estate.sites.copy()
    leasehold = (sites["tenure"] == "leasehold").to_numpy()
    years = rng.integers(2027, 2035, leasehold.sum())
    sites.loc[leasehold, "lease_break"] = [np.datetime64(f"{y}-03-31") for y in years]
    return Estate(
        sites, estate.services, estate.demand, estate.source, estate.capabilities, estate.files
    )


def run(label: str, estate, scenario, travel, demand) -> float:
    started = time.perf_counter()
    model = CoLocationModel.from_estate(estate, scenario, travel, demand)
    build = time.perf_counter() - started
    model.solve()
    stage = time.perf_counter() - started
    solution = model.solution
    changed = solution.site_epoch[solution.site_epoch >= 0]
    epochs = model.planning.epoch_labels
    spread = changed.map(lambda e: epochs[e] or "start").value_counts().sort_index()
    print(
        f"{label}: epochs={model.planning.n_epochs} variables={model.lp.numVariables():,} "
        f"constraints={model.lp.numConstraints():,} build_seconds={build:.1f} "
        f"model_stage_seconds={stage:.1f} (limit {scenario.solver.time_limit_seconds:g}) "
        f"status={solution.status} objective=£{solution.objective / 1e6:,.2f}m "
        f"bound=£{solution.best_bound / 1e6:,.2f}m gap={solution.gap:.2%}"
    )
    print(f"  changes by year: {dict(spread)}")
    print(f"  {solution.verification}")
    return solution.objective


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=500)
    parser.add_argument("--services", type=int, default=750)
    parser.add_argument("--demand", type=int, default=1250)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--max-move-km", type=float, default=4.0)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--local-search", choices=["auto", "on", "off"], default="auto")
    args = parser.parse_args(argv)

    estate, demand, travel = synthetic_county(args.sites, args.services, args.demand)
    estate = spread_lease_breaks(estate)
    print(
        f"synthetic county: {len(estate.sites)} sites, {len(estate.services)} services, "
        f"{len(demand)} demand points"
    )
    budget = 1.1 * float(estate.sites["backlog_cost"].sum())
    base = county_scenario(args.time_limit, args.max_move_km, budget, args.local_search)
    timeless = base.model_copy(
        update={"programme": base.programme.model_copy(update={"enabled": False})}
    )
    dated = base.model_copy(
        update={
            "programme": base.programme.model_copy(update={"enabled": True, "years": args.years})
        }
    )
    once = run("timeless", estate, timeless, travel, demand)
    phased = run(f"dated ({args.years} years)", estate, dated, travel, demand)
    print(
        f"whole-life cost, dated / timeless = {phased / once:.4f} "
        "(the dated plan pays rent until each break and cannot sell before services leave)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS) = {peak:,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
