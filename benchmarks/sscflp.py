"""Single-source capacitated facility location instances solved through the co-location core.

Reads instances in the Holmberg et al. (1999) layout: the first line holds I (facilities) and
J (customers); then I capacities, I opening costs, J demands, and J rows of I assignment costs
(the cost of serving customer j wholly from facility i). Tokens may wrap lines. Facilities
become sites, customers services, demand floor space, assignment cost move cost.

Usage::

    python benchmarks/sscflp.py ../shared/data/benchmarks/sscflp_holmberg/p{1..24}
    python benchmarks/sscflp.py --compare-textbook --solver cbc FILE...

Prints one line per instance, ``NAME objective=VALUE status=STATUS seconds=S`` and, when an
``optima.txt`` sits beside the files (line N holds the optimum of pN), ``optimum=... match``.
With ``--compare-textbook`` it also solves each instance with a textbook PuLP model (``lpSum``
over every facility-customer pair, ``x <= y`` rows, CBC) and prints the end-to-end time ratio.
"""

from __future__ import annotations

import argparse
import math
import sys
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


def solve_textbook(instance: Instance) -> float:
    """The textbook PuLP model: lpSum of products over every pair, x <= y rows, CBC."""
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
    solver = pulp.COIN_CMD(path=pulp.PULP_CBC_CMD.pulp_cbc_path, msg=False, gapRel=0.0)
    problem.solve(solver)
    return float(pulp.value(problem.objective))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--solver", choices=["highs", "cbc"], default="highs")
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--compare-textbook", action="store_true")
    args = parser.parse_args(argv)

    core_total = textbook_total = 0.0
    mismatches = 0
    for path in args.files:
        instance = read_instance(path)
        started = time.perf_counter()
        model = solve_core(instance, args.solver, args.time_limit)
        seconds = time.perf_counter() - started
        core_total += seconds
        solution = model.solution
        line = (
            f"{instance.name} objective={solution.objective:.2f} status={solution.status} "
            f"seconds={seconds:.2f} build={solution.build_seconds:.3f}"
        )
        optimum = published_optimum(path)
        if optimum is not None:
            match = math.isclose(solution.objective, optimum, rel_tol=1e-9, abs_tol=1e-6)
            mismatches += not match
            line += f" optimum={optimum:.0f} {'match' if match else 'MISMATCH'}"
        if args.compare_textbook:
            started = time.perf_counter()
            textbook = solve_textbook(instance)
            textbook_seconds = time.perf_counter() - started
            textbook_total += textbook_seconds
            line += (
                f" textbook_objective={textbook:.2f} textbook_seconds={textbook_seconds:.2f}"
                f" ratio={textbook_seconds / seconds:.2f}"
            )
        print(line, flush=True)
    summary = f"TOTAL instances={len(args.files)} seconds={core_total:.2f} mismatches={mismatches}"
    if args.compare_textbook:
        summary += (
            f" textbook_seconds={textbook_total:.2f}"
            f" speedup={textbook_total / core_total:.2f}x (textbook / core, end to end)"
        )
    print(summary)
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
