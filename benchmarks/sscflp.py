"""Single-source capacitated facility location instances solved through the co-location core.

Reads instances in the Holmberg et al. (1999) layout: the first line holds I (facilities) and
J (customers); then I capacities, I opening costs, J demands, and J rows of I assignment costs
(the cost of serving customer j wholly from facility i). Tokens may wrap lines. Facilities
become sites, customers services, demand floor space, assignment cost move cost.

Usage::

    python benchmarks/sscflp.py ../shared/data/benchmarks/sscflp_holmberg/p{1..24}
    python benchmarks/sscflp.py --compare-textbook --solver cbc FILE...

    python benchmarks/sscflp.py --generate 4 --facilities 60 --customers 300 \
        --tightness 1.1 --time-limit 60 --compare-textbook

Prints one line per instance, ``NAME objective=VALUE status=STATUS gap=G seconds=S`` and, when
an ``optima.txt`` sits beside the files (line N holds the optimum of pN), ``optimum=... match``
(or ``not proven`` for a run the time limit stopped). With ``--compare-textbook`` it also
solves each instance with a textbook PuLP model (``lpSum`` over every facility-customer pair,
``x <= y`` rows, CBC) and prints its objective, its status as CBC reports it (``optimal`` or
``stopped``, from PuLP's solution status, since PuLP's own status says "Optimal" for a run
stopped with a plan) and the end-to-end time ratio. ``--time-limit`` applies to each instance
and to both models.

``--generate N`` makes N seeded instances harder than Holmberg's (10-30 facilities x 50-200
customers): facilities and customers at random in a square, assignment cost = distance x
demand, opening costs that grow with capacity, and total capacity ``--tightness`` times total
demand (1.1: tight). They are written in the Holmberg layout to ``--out`` (default a temporary
folder) so any other solver can read them.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pulp  # noqa: E402

from totalcapital.model import CoLocationModel  # noqa: E402


@dataclass(frozen=True)
class Instance:
    """An SSCFLP instance: ``cost`` is customers x facilities."""

    name: str
    capacity: np.ndarray
    opening_cost: np.ndarray
    demand: np.ndarray
    cost: np.ndarray


def read_instance(path: Path) -> Instance:
    """Read one instance in the Holmberg layout (whitespace-separated tokens, any wrapping)."""
    tokens = np.array(Path(path).read_text().split(), dtype=float)
    n_facilities, n_customers = int(tokens[0]), int(tokens[1])
    expected = 2 + 2 * n_facilities + n_customers + n_customers * n_facilities
    if len(tokens) != expected:
        raise ValueError(
            f"{path}: expected {expected} numbers for I={n_facilities}, "
            f"J={n_customers}, found {len(tokens)}"
        )
    at = 2
    capacity = tokens[at : at + n_facilities]
    at += n_facilities
    opening = tokens[at : at + n_facilities]
    at += n_facilities
    demand = tokens[at : at + n_customers]
    at += n_customers
    cost = tokens[at:].reshape(n_customers, n_facilities)
    return Instance(Path(path).name, capacity, opening, demand, cost)


def published_optimum(path: Path) -> float | None:
    """The optimum of ``pN`` from line N of ``optima.txt`` beside it, if present."""
    optima = Path(path).parent / "optima.txt"
    name = Path(path).name
    if not optima.exists() or not name[1:].isdigit():
        return None
    lines = optima.read_text().split()
    number = int(name[1:])
    return float(lines[number - 1]) if number <= len(lines) else None


def solve_core(instance: Instance, solver: str = "highs", time_limit: float | None = None):
    """Solve through :meth:`CoLocationModel.from_arrays`; returns the solved model."""
    model = CoLocationModel.from_arrays(
        instance.opening_cost,
        instance.capacity,
        instance.demand,
        instance.cost,
        name=instance.name,
        solver=solver,
        time_limit=time_limit,
        mip_gap=0.0,
    )
    return model.solve()


def generate(
    n_facilities: int, n_customers: int, tightness: float, seed: int, name: str
) -> Instance:
    """A seeded instance: random points in a 100 x 100 square, cost = distance x demand,
    capacities summing to ``tightness`` x total demand, opening cost growing with capacity."""
    rng = np.random.default_rng(seed)
    facilities = rng.uniform(0, 100, (n_facilities, 2))
    customers = rng.uniform(0, 100, (n_customers, 2))
    demand = rng.integers(5, 36, n_customers).astype(float)
    share = rng.uniform(0.5, 1.5, n_facilities)
    capacity = np.ceil(share / share.sum() * tightness * demand.sum())
    capacity = np.maximum(capacity, demand.max())  # every customer fits somewhere
    opening = np.round(capacity * rng.uniform(8, 12, n_facilities) + rng.uniform(0, 200))
    distance = np.hypot(*(customers[:, None, :] - facilities[None, :, :]).transpose(2, 0, 1))
    cost = np.round(distance * demand[:, None] / 10)
    return Instance(name, capacity, opening, demand, cost)


def write_instance(instance: Instance, path: Path) -> None:
    """Write in the Holmberg layout (read back by :func:`read_instance`)."""
    lines = [f"{len(instance.capacity)} {len(instance.demand)}"]
    for values in (instance.capacity, instance.opening_cost, instance.demand, *instance.cost):
        lines.append(" ".join(f"{v:g}" for v in values))
    path.write_text("\n".join(lines) + "\n")


def solve_textbook(instance: Instance, time_limit: float | None = None) -> tuple[float, str]:
    """The textbook PuLP model: lpSum of products over every pair, x <= y rows, CBC.

    Returns the objective and "optimal", "stopped" (a plan, not proven) or "no plan"."""
    n_customers, n_facilities = instance.cost.shape
    problem = pulp.LpProblem("textbook", pulp.LpMinimize)
    y = problem.add_variable_dicts("y", range(n_facilities), cat=pulp.LpBinary)
    x = problem.add_variable_dicts(
        "x", (range(n_customers), range(n_facilities)), cat=pulp.LpBinary
    )
    problem += pulp.lpSum(
        instance.opening_cost[i] * y[i] for i in range(n_facilities)
    ) + pulp.lpSum(
        instance.cost[j, i] * x[j][i] for j in range(n_customers) for i in range(n_facilities)
    )
    for j in range(n_customers):
        problem += pulp.lpSum(x[j][i] for i in range(n_facilities)) == 1
    for i in range(n_facilities):
        problem += (
            pulp.lpSum(instance.demand[j] * x[j][i] for j in range(n_customers))
            <= instance.capacity[i] * y[i]
        )
        for j in range(n_customers):
            problem += x[j][i] <= y[i]
    solver = pulp.COIN_CMD(
        path=pulp.PULP_CBC_CMD.pulp_cbc_path, msg=False, gapRel=0.0, timeLimit=time_limit
    )
    problem.solve(solver)
    status = {
        pulp.LpSolutionOptimal: "optimal",
        pulp.LpSolutionIntegerFeasible: "stopped",
    }.get(problem.sol_status, "no plan")
    value = pulp.value(problem.objective) if status != "no plan" else None
    return (math.nan if value is None else float(value)), status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--solver", choices=["highs", "cbc"], default="highs")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per instance")
    parser.add_argument("--compare-textbook", action="store_true")
    parser.add_argument("--generate", type=int, default=0, metavar="N")
    parser.add_argument("--facilities", type=int, default=60)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--tightness", type=float, default=1.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.files and not args.generate:
        parser.error("give instance files or --generate N")

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.out or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        files = list(args.files)
        for k in range(args.generate):
            name = f"g{args.facilities}x{args.customers}t{args.tightness:g}s{args.seed + k}"
            instance = generate(
                args.facilities, args.customers, args.tightness, args.seed + k, name
            )
            write_instance(instance, folder / name)
            files.append(folder / name)
        return run(files, args.solver, args.time_limit, args.compare_textbook)


def run(files: list[Path], solver: str, time_limit: float | None, textbook: bool) -> int:
    core_total = textbook_total = 0.0
    mismatches = 0
    for path in files:
        instance = read_instance(path)
        started = time.perf_counter()
        model = solve_core(instance, solver, time_limit)
        seconds = time.perf_counter() - started
        core_total += seconds
        solution = model.solution
        line = (
            f"{instance.name} objective={solution.objective:.2f} status={solution.status} "
            f"gap={solution.gap:.4%} seconds={seconds:.2f} build={solution.build_seconds:.3f}"
        )
        optimum = published_optimum(path)
        if optimum is not None:
            match = math.isclose(solution.objective, optimum, rel_tol=1e-9, abs_tol=1e-6)
            if solution.status == "optimal":
                mismatches += not match
                verdict = "match" if match else "MISMATCH"
            else:
                verdict = "match, not proven" if match else "not proven"
            line += f" optimum={optimum:.0f} {verdict}"
        if textbook:
            started = time.perf_counter()
            value, status = solve_textbook(instance, time_limit)
            textbook_seconds = time.perf_counter() - started
            textbook_total += textbook_seconds
            line += (
                f" textbook_objective={value:.2f} textbook_status={status}"
                f" textbook_seconds={textbook_seconds:.2f}"
                f" ratio={textbook_seconds / seconds:.2f}"
            )
        print(line, flush=True)
    summary = f"TOTAL instances={len(files)} seconds={core_total:.2f} mismatches={mismatches}"
    if textbook:
        summary += (
            f" textbook_seconds={textbook_total:.2f}"
            f" speedup={textbook_total / core_total:.2f}x (textbook / core, end to end)"
        )
    print(summary)
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
