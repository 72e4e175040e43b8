"""Run HiGHS or CBC on a PuLP problem and read each solver's own termination status.

PuLP folds a time-limited run that found a solution into "Optimal"; a planner must never
report that as proven. Here HiGHS is read through the ``highspy.Highs`` object PuLP leaves on
``problem.solverModel`` (model status and info: ``mip_gap``, ``mip_dual_bound``,
``objective_function_value``), and CBC through the "Result - ..." line, objective, bound and gap
of its own log.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pulp

from ._errors import SolverError

log = logging.getLogger(__name__)

#: A relative gap below this is reported as 0 (fully proven).
PROVEN_GAP_TOLERANCE = 1e-9


@dataclass(frozen=True)
class SolverRun:
    """What a solver said about one run.

    Attributes
    ----------
    status : str
        ``"optimal"`` (proven within the requested relative gap; ``gap`` says how close),
        ``"time_limit"`` (stopped by the time limit with a feasible solution), ``"infeasible"``,
        or another lower-case reason when no solution was found (``"no_solution"``).
    solver_status : str
        The solver's own words.
    has_solution : bool
    objective, best_bound, gap : float
        Primal value, dual bound and relative gap as the solver computed them (NaN if unknown).
    seconds : float
        Wall-clock seconds of the solver call.
    """

    status: str
    solver_status: str
    has_solution: bool
    objective: float
    best_bound: float
    gap: float
    seconds: float


def run_solver(
    problem: pulp.LpProblem,
    solver: str,
    time_limit: float | None,
    mip_gap: float | None,
    threads: int | None,
    warm_start: bool = False,
    integral_objective: bool = False,
) -> SolverRun:
    """Solve ``problem`` with ``"highs"`` or ``"cbc"`` and return the honest status.

    With ``integral_objective`` (every objective coefficient an integer, so every plan's cost is
    an integer) a plan within 1 of the bound is proven optimal: the solver may stop there and
    the run is reported ``"optimal"``.

    With ``warm_start`` the variables' initial values (``LpVariable.setInitialValue``) are
    offered to the solver as a starting plan; a start that breaks a rule is simply not used.

    Raises
    ------
    SolverError
        If the solver name is unknown or the solver itself fails.
    """
    if solver == "highs":
        return _run_highs(problem, time_limit, mip_gap, threads, warm_start, integral_objective)
    if solver == "cbc":
        return _run_cbc(problem, time_limit, mip_gap, threads, warm_start, integral_objective)
    raise SolverError(f"solver: expected 'highs' or 'cbc', found '{solver}'")


class BulkHiGHS(pulp.HiGHS):
    """``pulp.HiGHS`` that hands the model to highspy in bulk arrays and can start from a plan.

    PuLP's own transfer calls ``addRow`` once per constraint, which takes longer than building
    the model itself at county scale; here columns, costs, integrality and rows go across in a
    few array calls. Variable and row indices are set exactly as PuLP's transfer sets them, so
    PuLP reads the solution back unchanged.
    """

    def __init__(self, *args: object, warm_start: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.warm_start = warm_start

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:  # noqa: N802 (PuLP's name)
        import highspy

        highs = lp.solverModel
        inf = highspy.kHighsInf
        variables = lp.variables()
        n = len(variables)
        for i, var in enumerate(variables):
            var.index = i
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], float)
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables], float)
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        cost = np.array([sign * lp.objective.get(v, 0.0) for v in variables], dtype=float)
        columns = np.arange(n, dtype=np.int32)
        highs.addVars(n, lower, upper)
        highs.changeColsCost(n, columns, cost)
        if self.mip:
            integer = np.array(
                [i for i, v in enumerate(variables) if v.cat == pulp.LpInteger], dtype=np.int32
            )
            if len(integer):
                kinds = np.full(len(integer), int(highspy.HighsVarType.kInteger), dtype=np.uint8)
                highs.changeColsIntegrality(len(integer), integer, kinds)

        constraints = list(lp._constraints.values())
        m = len(constraints)
        starts = np.zeros(m, dtype=np.int32)
        row_lower = np.empty(m)
        row_upper = np.empty(m)
        indices: list[int] = []
        values: list[float] = []
        for i, row in enumerate(constraints):
            row.index = i
            starts[i] = len(indices)
            indices.extend(var.index for var in row.keys())
            values.extend(row.values())
            lb, ub = row.getLb(), row.getUb()
            row_lower[i] = -inf if lb is None else lb
            row_upper[i] = inf if ub is None else ub
        highs.addRows(
            m,
            row_lower,
            row_upper,
            len(indices),
            starts,
            np.array(indices, dtype=np.int32),
            np.array(values, dtype=float),
        )
        if self.warm_start:
            given = [(v.index, v.varValue) for v in variables if v.varValue is not None]
            if given:
                index, value = zip(*given, strict=True)
                highs.setSolution(
                    len(given), np.array(index, dtype=np.int32), np.array(value, dtype=float)
                )


#: Below 1, an integer-valued objective's gap proves optimality.
INTEGRAL_ABS_GAP = 1.0 - 1e-6


def _proven_gap(gap: float, objective: float, bound: float, integral: bool) -> float:
    """The gap of a run the solver calls optimal; 0 when nothing better can exist."""
    if not gap > PROVEN_GAP_TOLERANCE:
        return 0.0
    if integral and objective - bound < INTEGRAL_ABS_GAP:
        return 0.0
    return gap


def _run_highs(
    problem: pulp.LpProblem,
    time_limit: float | None,
    mip_gap: float | None,
    threads: int | None,
    warm_start: bool,
    integral: bool,
) -> SolverRun:
    import highspy

    # A fixed seed keeps runs identical; HiGHS' MIP search is deterministic for a fixed seed.
    solver = BulkHiGHS(
        msg=False,
        timeLimit=time_limit,
        gapRel=mip_gap,
        gapAbs=INTEGRAL_ABS_GAP if integral else None,
        threads=threads,
        random_seed=0,
        warm_start=warm_start,
    )
    started = time.perf_counter()
    try:
        problem.solve(solver)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"HiGHS failed: {exc}") from None
    seconds = time.perf_counter() - started
    highs = problem.solverModel
    model_status = highs.getModelStatus()
    words = highs.modelStatusToString(model_status)
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    objective = float(info.objective_function_value) if has_solution else math.nan
    is_mip = any(v.cat == pulp.LpInteger for v in problem.variables())
    if is_mip:
        bound = float(info.mip_dual_bound)
        gap = float(info.mip_gap) if has_solution else math.nan
    else:
        bound, gap = objective, 0.0
    status_enum = highspy.HighsModelStatus
    if model_status == status_enum.kOptimal and is_mip and not math.isfinite(bound):
        # HiGHS can return a MIP start as "Optimal" when presolve gave up on the model; without
        # a finite bound nothing is proven.
        status = "unproven"
    elif model_status == status_enum.kOptimal:
        status, gap = "optimal", _proven_gap(gap, objective, bound, integral)
    elif model_status in (status_enum.kInfeasible, status_enum.kUnboundedOrInfeasible):
        status = "infeasible"
    elif model_status == status_enum.kTimeLimit:
        status = "time_limit" if has_solution else "no_solution"
    elif has_solution:
        status = words.lower().replace(" ", "_")
    else:
        status = "no_solution"
    return SolverRun(status, words, has_solution, objective, bound, gap, seconds)


_CBC_RESULT = re.compile(r"^Result - (.+)$", re.MULTILINE)
_CBC_NUMBER = r"\s*(-?[0-9.eE+\-]+|-?inf|nan)"


def _cbc_figure(log_text: str, label: str) -> float:
    match = re.search(rf"^{label}:{_CBC_NUMBER}", log_text, re.MULTILINE)
    if match is None:
        return math.nan
    try:
        return float(match.group(1))
    except ValueError:
        return math.nan


def _run_cbc(
    problem: pulp.LpProblem,
    time_limit: float | None,
    mip_gap: float | None,
    threads: int | None,
    warm_start: bool,
    integral: bool,
) -> SolverRun:
    with tempfile.TemporaryDirectory(prefix="totalcapital-cbc-") as folder:
        log_path = Path(folder) / "cbc.log"
        # COIN_CMD on PuLP's bundled CBC binary: the non-deprecated way to run the bundled CBC.
        solver = pulp.COIN_CMD(
            path=pulp.PULP_CBC_CMD.pulp_cbc_path,
            msg=False,
            timeLimit=time_limit,
            gapRel=mip_gap,
            gapAbs=INTEGRAL_ABS_GAP if integral else None,
            threads=threads,
            logPath=str(log_path),
            warmStart=warm_start,
        )
        started = time.perf_counter()
        try:
            problem.solve(solver)
        except pulp.PulpSolverError as exc:
            raise SolverError(f"CBC failed: {exc}") from None
        seconds = time.perf_counter() - started
        log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
    result = _CBC_RESULT.search(log_text)
    words = result.group(1).strip() if result else pulp.LpStatus[problem.status]
    has_solution = problem.sol_status in (
        pulp.LpSolutionOptimal,
        pulp.LpSolutionIntegerFeasible,
    )
    objective = _cbc_figure(log_text, "Objective value")
    if math.isnan(objective) and has_solution:
        objective = float(pulp.value(problem.objective))
    bound = _cbc_figure(log_text, "Lower bound")
    gap = _cbc_figure(log_text, "Gap")
    lowered = words.lower()
    if "infeasible" in lowered:
        status = "infeasible"
    elif not has_solution:
        status = "no_solution"
    elif "optimal" in lowered:
        if math.isnan(bound):
            bound, gap = objective, 0.0
        if math.isnan(gap):
            gap = abs(objective - bound) / max(abs(objective), 1e-10)
        status, gap = "optimal", _proven_gap(gap, objective, bound, integral)
    elif "time" in lowered:
        status = "time_limit"
    else:
        status = lowered.replace(" ", "_")
    if math.isnan(gap) and not math.isnan(bound) and has_solution:
        gap = abs(objective - bound) / max(abs(objective), 1e-10)
    return SolverRun(status, words, has_solution, objective, bound, gap, seconds)
