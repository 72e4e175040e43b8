"""England's fire stations: the fewest that keep today's 10-minute cover, three ways, one run.

Every fire station of the Home Office list and every English LSOA (``../shared/data``), on
straight-line times (50 km/h, circuity 1.3, blue lights 1.2x faster: 10 minutes is 7.69 km).

* **totalcapital**, end to end: the register written by ``import-fire-stations
  --fill-defaults`` into a temporary folder, then ``pipeline.run_scenario`` on
  ``scenarios/england-fire.yaml`` (load, travel times, model, solve, verification, result
  tables), with the scenario's time limit.
* **Textbook, crews moved**: the same question as a PuLP model written the textbook way
  (``lpSum``; one binary per station and one per crew and station within 30 km, every crew in
  one open station with room for it, every LSOA covered today kept covered), read from the
  same register and solved by HiGHS through PuLP with the same time limit.
* **Textbook set cover**: the 20-line model that ignores the crews (one binary per station,
  a cover row per LSOA), from the CSV files. It answers an easier question: its stations may
  be too few to take in every closed station's crew within 30 km, so its count is a lower
  bound on the others', not the same answer.

Printed: stations kept, status, gap, seconds and peak memory of each, and the time ratios.

Usage::

    python benchmarks/national_fire.py [--time-limit 60]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from totalcapital.demand import load_lsoa_demand  # noqa: E402
from totalcapital.osm_import import import_fire_stations  # noqa: E402
from totalcapital.pipeline import run_scenario  # noqa: E402
from totalcapital.scenario import load_scenario  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "england"
STATIONS = DATA / "fire_stations_home_office.csv"
CENTROIDS = DATA / "lsoa2011_population_weighted_centroids.csv"
POPULATION = DATA / "lsoa2011_population_mid2017.csv"
RADIUS_KM = 10 * 1.2 * 50 / 60 / 1.3
MOVE_KM = 30  # the scenario's rules.max_move_km


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def textbook() -> tuple[int, str, float]:
    """The set-cover model the textbook way; returns stations kept, status, seconds."""
    started = time.perf_counter()
    stations = pd.read_csv(STATIONS, dtype=str)
    xy = stations[["STATION_EASTING", "STATION_NORTHING"]].apply(pd.to_numeric, errors="coerce")
    xy = xy.to_numpy(dtype=float)
    xy = xy[(xy > 0).all(axis=1)]  # rows without usable coordinates, as the import skips
    demand = load_lsoa_demand(CENTROIDS, POPULATION, ["england"])
    points = np.column_stack([demand.geometry.x, demand.geometry.y])
    near = cKDTree(points).query_ball_tree(cKDTree(xy), RADIUS_KM * 1000)
    problem = pulp.LpProblem("fewest_stations", pulp.LpMinimize)
    y = problem.add_variable_dicts("y", range(len(xy)), cat=pulp.LpBinary)
    problem += pulp.lpSum(y.values())
    for d, reaching in enumerate(near):
        if reaching:  # covered today: keep it covered
            problem += pulp.lpSum(y[s] for s in reaching) >= 1, f"cover_{d}"
    problem.solve(pulp.HiGHS(msg=False))
    kept = int(round(sum(v.varValue for v in y.values())))
    return kept, pulp.LpStatus[problem.status], time.perf_counter() - started


def textbook_with_crews(register: Path, time_limit: float) -> tuple[int, str, float, float]:
    """The question totalcapital answers, the textbook way: each closed station's crew moves.

    As :func:`textbook`, plus one binary per (crew, station within ``MOVE_KM``): every crew in
    one open station, and no station holding more crews than its floor space takes. Read from
    the same register as totalcapital; returns stations kept, status, gap, seconds.
    """
    started = time.perf_counter()
    sites = gpd.read_file(register, layer="sites")
    crews = gpd.read_file(register, layer="services")
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    room = (sites["gia_m2"].to_numpy() // crews["space_m2"].max()).astype(int)
    home = sites.reset_index().set_index("site_id")["index"].reindex(crews["current_site"])
    near = cKDTree(xy).query_ball_point(xy[home.to_numpy()], MOVE_KM * 1000)
    demand = load_lsoa_demand(CENTROIDS, POPULATION, ["england"])
    points = np.column_stack([demand.geometry.x, demand.geometry.y])
    reach = cKDTree(points).query_ball_tree(cKDTree(xy), RADIUS_KM * 1000)
    problem = pulp.LpProblem("fewest_stations_crews_moved", pulp.LpMinimize)
    y = problem.add_variable_dicts("y", range(len(xy)), cat=pulp.LpBinary)
    x = {
        (k, s): problem.add_variable(f"x_{k}_{s}", cat=pulp.LpBinary)
        for k, stations in enumerate(near)
        for s in stations
    }
    problem += pulp.lpSum(y.values())
    into: dict[int, list] = {}
    for (_, s), var in x.items():
        problem += var <= y[s]
        into.setdefault(s, []).append(var)
    for k, stations in enumerate(near):
        problem += pulp.lpSum(x[k, s] for s in stations) == 1
    for s, moved in into.items():
        problem += pulp.lpSum(moved) <= int(room[s]) * y[s]
    for d, reaching in enumerate(reach):
        if reaching:
            problem += pulp.lpSum(y[s] for s in reaching) >= 1, f"cover_{d}"
    problem.solve(pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=0))
    kept = int(round(sum(v.varValue for v in y.values())))
    solver = problem.solverModel
    bound = solver.getInfo().mip_dual_bound
    gap = (kept - bound) / kept
    status = solver.modelStatusToString(solver.getModelStatus())
    return kept, status, gap, time.perf_counter() - started


def ours(register: Path, time_limit: float) -> tuple[int, str, float, float]:
    """totalcapital end to end; returns stations kept, status, gap, seconds."""
    scenario = load_scenario(ROOT / "scenarios" / "england-fire.yaml")
    solver = scenario.solver.model_copy(update={"time_limit_seconds": time_limit})
    travel = scenario.travel.model_copy(update={"cache": False})
    scenario = scenario.model_copy(update={"estate": register, "solver": solver, "travel": travel})
    started = time.perf_counter()
    result, _ = run_scenario(scenario)
    seconds = time.perf_counter() - started
    kept = int(result.sites["decision"].isin(["keep", "host", "keep_vacant"]).sum())
    return kept, result.solve["status"], float(result.solve["gap"]), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        register = Path(folder) / "england-fire.gpkg"
        import_fire_stations(STATIONS, register, fill_defaults=True)
        kept, status, gap, seconds = ours(register, args.time_limit)
        print(
            f"totalcapital end to end: {kept} stations kept, status={status}, gap={gap:.3%}, "
            f"{seconds:.1f} s, peak memory {peak_mib():,.0f} MiB"
        )
        crews = textbook_with_crews(register, args.time_limit)
    print(
        f"textbook, crews moved (PuLP lpSum + HiGHS): {crews[0]} stations, status={crews[1]}, "
        f"gap={crews[2]:.3%}, {crews[3]:.1f} s, peak memory {peak_mib():,.0f} MiB (so far)"
    )
    kept_cover, status, seconds_textbook = textbook()
    print(
        f"textbook set cover, crews ignored (PuLP lpSum + HiGHS): {kept_cover} stations, "
        f"status={status}, {seconds_textbook:.1f} s, peak memory {peak_mib():,.0f} MiB (after all)"
    )
    print(f"time ratio, totalcapital / textbook with crews = {seconds / crews[3]:.2f}x")
    print(f"time ratio, totalcapital / set cover = {seconds / seconds_textbook:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
