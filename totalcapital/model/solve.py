"""Hand a formulation to HiGHS or CBC, read each solver's own status, and verify the answer.

No figure is taken on a solver's word. The plan is read from the returned columns, its cost
and every rule are recomputed from the problem's arrays (:meth:`PlanningProblem.check`), and
the solver's objective is compared with the recomputed one. A solver that reports a better
objective than its own plan's (HiGHS can hand back a starting plan's values with the
objective of a better one), or a plan that breaks a rule, is re-solved without the start;
a plan that still fails is never reported. The gap has one definition for every solver:
``(objective - bound) / max(|objective|, 1)``, from the solver's proven bound and the
recomputed objective.

HiGHS is driven through ``highspy`` with the model passed in bulk arrays. CBC (PuLP's bundled
binary) reads an MPS file that HiGHS writes at full double precision; PuLP's own MPS writer
keeps 13 significant digits, enough to turn a row that sits exactly at its bound infeasible.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pulp
from scipy import sparse

from .._errors import SolverError
from .formulation import Formulation
from .problem import OBJECTIVE_TOLERANCE, Plan, PlanCheck

log = logging.getLogger(__name__)

__all__ = [
    "LpArrays",
    "SiteCountBound",
    "SolverOptions",
    "SolverRun",
    "VerifiedPlan",
    "relative_gap",
    "run_solver",
    "fewest_sites",
    "solve_verified",
    "uses_count_bound",
    "with_site_count_row",
]

#: A relative gap below this is reported as 0 (fully proven).
PROVEN_GAP_TOLERANCE = 1e-9
#: Below 1 (in £), an integer-valued objective's gap proves optimality.
INTEGRAL_ABS_GAP = 1.0 - 1e-6
#: Shortest time a solver call is given, even past the deadline: enough for a small model,
#: and never more than a blink on a large one.
MIN_SOLVER_SECONDS = 0.5
#: A re-solve after a failed check is only started with this many seconds left; with less, a
#: lawful plan already in hand is reported instead (the time limit holds).
RESOLVE_MIN_SECONDS = 2.0
#: HiGHS's MIP set-up before it first checks its clock, per million nonzeros (measured: 50 s
#: for the full county's ten-year programme, 16.3 million nonzeros, with presolve off). With
#: less time left than this, a solver call would overrun, so a checked start is reported.
SOLVER_SETUP_SECONDS_PER_MILLION_NONZEROS = 3.5
#: Under ``presolve: auto`` a dated model with more nonzeros than this is solved unpresolved.
PRESOLVE_AUTO_MAX_NONZEROS = 200_000
#: Under ``site_count_bound: auto``: at least this many sites free to close, whose costs of
#: keeping differ by at most this fraction of the largest (see :func:`uses_count_bound`).
COUNT_BOUND_AUTO_MIN_SITES = 100
COUNT_BOUND_AUTO_SPREAD = 0.1
#: The share of the time left that the fewest-sites model may take.
COUNT_BOUND_TIME_SHARE = 0.5


@dataclass(frozen=True)
class SolverOptions:
    """Which solver, how long, and how close to proven.

    Attributes
    ----------
    solver : {"highs", "cbc"}
    time_limit : float or None
        Seconds for the whole model stage (build, search, solve and any re-solve).
    mip_gap : float or None
        Relative gap at which the solver may stop (0 proves optimality).
    threads : int or None
    local_search : {"auto", "on", "off"}
    presolve : {"auto", "on", "off"}
        HiGHS's presolve (CBC always presolves).
    site_count_bound : {"auto", "on", "off"}
        First prove the fewest sites any plan keeps (see :func:`fewest_sites`).
    decomposition : {"auto", "on", "off"}
        Decompose by site (see :mod:`totalcapital.model.decompose`).
    """

    solver: str = "highs"
    time_limit: float | None = None
    mip_gap: float | None = 0.0
    threads: int | None = None
    local_search: str = "auto"
    presolve: str = "auto"
    site_count_bound: str = "auto"
    decomposition: str = "auto"

    def presolve_on(self, dated: bool, nonzeros: int) -> bool:
        """Whether HiGHS presolves: "auto" does, except on a large dated model, whose presolve
        cannot be interrupted (13.7 s past a 15 s limit on the quarter county's ten years)
        and misstates a starting plan's objective."""
        if self.presolve != "auto":
            return self.presolve == "on"
        return not (dated and nonzeros > PRESOLVE_AUTO_MAX_NONZEROS)


def relative_gap(objective: float, bound: float) -> float:
    """``(objective - bound) / max(|objective|, 1)``: the one gap definition for every solver."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.nan
    return max(0.0, objective - bound) / max(abs(objective), 1.0)


# --------------------------------------------------------------------------- arrays


@dataclass(frozen=True)
class LpArrays:
    """A PuLP problem as the arrays a solver takes: columns in ``variables`` order, CSR rows.

    ``cost`` is in the formulation's scaled units (``objective_scale`` £ each).
    """

    variables: list[pulp.LpVariable]
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    rows: sparse.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    objective_scale: float = 1.0

    @classmethod
    def from_lp(cls, lp: pulp.LpProblem, objective_scale: float = 1.0) -> LpArrays:
        variables = lp.variables()
        position = {id(v): i for i, v in enumerate(variables)}
        inf = np.inf
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], float)
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables], float)
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        cost = np.zeros(len(variables))
        for var, coef in lp.objective.items():
            cost[position[id(var)]] = sign * coef
        integer = np.array([v.cat == pulp.LpInteger for v in variables], dtype=bool)
        constraints = list(lp.constraints())
        indptr = np.zeros(len(constraints) + 1, dtype=np.int64)
        indices: list[int] = []
        values: list[float] = []
        row_lower = np.empty(len(constraints))
        row_upper = np.empty(len(constraints))
        for i, row in enumerate(constraints):
            indices.extend(position[id(var)] for var in row.keys())
            values.extend(row.values())
            indptr[i + 1] = len(indices)
            lb, ub = row.getLb(), row.getUb()
            row_lower[i] = -inf if lb is None else lb
            row_upper[i] = inf if ub is None else ub
        rows = sparse.csr_array(
            (np.array(values, float), np.array(indices, np.int64), indptr),
            shape=(len(constraints), len(variables)),
        )
        return cls(
            variables, cost, lower, upper, integer, rows, row_lower, row_upper, objective_scale
        )

    def column_of(self, variables: Sequence[pulp.LpVariable | None]) -> np.ndarray:
        """Each variable's column, -1 for None or a variable PuLP left out (one in no row and
        not in the objective: it is free, and counts for nothing)."""
        position = {id(v): i for i, v in enumerate(self.variables)}
        return np.array([position.get(id(v), -1) for v in variables], dtype=np.int64)

    def start_vector(self, start: dict[pulp.LpVariable, float] | None) -> np.ndarray | None:
        if not start:
            return None
        vector = np.zeros(len(self.variables))
        columns = self.column_of(list(start))
        known = columns >= 0
        vector[columns[known]] = np.fromiter(start.values(), float, len(start))[known]
        return vector


@dataclass(frozen=True)
class SolverRun:
    """What a solver said about one run, in £ (the formulation's scale undone).

    Attributes
    ----------
    status : str
        ``"optimal"`` (the solver proved its plan within the requested gap), ``"time_limit"``
        (stopped by the clock with a plan), ``"infeasible"``, ``"no_solution"`` or another
        lower-case reason.
    solver_status : str
        The solver's own words.
    has_solution : bool
    objective, best_bound : float
        The solver's objective of its plan and its proven lower bound (NaN if unknown).
    seconds : float
        Wall-clock seconds of the solver call, model transfer included.
    values : numpy.ndarray or None
        Column values in ``LpArrays.variables`` order.
    """

    status: str
    solver_status: str
    has_solution: bool
    objective: float
    best_bound: float
    seconds: float
    values: np.ndarray | None = None

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.best_bound)


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """Keep what native code prints to standard output (HiGHS' banner) off the user's output."""
    try:
        saved = os.dup(1)
    except OSError:  # no standard output to guard
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            try:
                yield
            finally:
                os.dup2(saved, 1)
    finally:
        os.close(saved)


_HIGHS_BANNER_SHOWN = False


def _new_highs():
    import highspy

    global _HIGHS_BANNER_SHOWN
    if _HIGHS_BANNER_SHOWN:
        return highspy.Highs()
    # HiGHS prints its banner to standard output once per process, on the first object.
    with _stdout_silenced():
        highs = highspy.Highs()
    _HIGHS_BANNER_SHOWN = True
    return highs


def set_time_left(highs, seconds: float, *, mip: bool) -> None:
    """Let the next ``run()`` of ``highs`` take at most ``seconds``.

    HiGHS measures an LP's ``time_limit`` against the object's run time summed over every
    ``run()`` (ERGO-Code/HiGHS#1477), so a re-solved LP's limit counts from the time already
    run; a MIP's is measured from the start of its own run (both measured with HiGHS 1.16).
    A MIP whose start HiGHS finds infeasible first spends up to the limit repairing it, then
    up to the limit again; every start given here is a checked plan.
    """
    highs.setOptionValue("time_limit", max(seconds, 0.0) + (0.0 if mip else highs.getRunTime()))


def _highs_with_model(arrays: LpArrays):
    import highspy

    highs = _new_highs()
    highs.setOptionValue("output_flag", False)
    n = len(arrays.variables)
    inf = highspy.kHighsInf
    highs.addVars(
        n, np.where(np.isinf(arrays.lower), -inf, arrays.lower), arrays.upper.clip(max=inf)
    )
    highs.changeColsCost(n, np.arange(n, dtype=np.int32), arrays.cost)
    integer = np.flatnonzero(arrays.integer).astype(np.int32)
    if len(integer):
        kinds = np.full(len(integer), int(highspy.HighsVarType.kInteger), dtype=np.uint8)
        highs.changeColsIntegrality(len(integer), integer, kinds)
    rows = arrays.rows
    if rows.shape[0]:
        highs.addRows(
            rows.shape[0],
            arrays.row_lower.clip(min=-inf),
            arrays.row_upper.clip(max=inf),
            rows.nnz,
            rows.indptr.astype(np.int32),
            rows.indices.astype(np.int32),
            rows.data.astype(float),
        )
    return highs


def run_solver(
    arrays: LpArrays,
    solver: str,
    time_limit: float | None,
    mip_gap: float | None,
    threads: int | None,
    start: np.ndarray | None = None,
    integral_objective: bool = False,
    presolve: bool = True,
    on_bound: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> SolverRun:
    """Solve ``arrays`` with ``"highs"`` or ``"cbc"`` and return the solver's honest status.

    With ``integral_objective`` (every plan's cost an integer number of £) a plan within £1 of
    the bound is optimal, so the solver may stop there. ``start`` (column values) is offered as
    a starting plan; a start that breaks a rule is simply not used. With HiGHS,
    ``on_bound(bound)`` hears a MIP's dual bound (in the solver's units) as it rises, and
    ``stop``, once set, interrupts an LP's simplex.

    Raises
    ------
    SolverError
        If the solver name is unknown or the solver itself fails.
    """
    abs_gap = INTEGRAL_ABS_GAP / arrays.objective_scale if integral_objective else None
    if solver == "highs":
        return _run_highs(
            arrays, time_limit, mip_gap, abs_gap, threads, start, presolve, on_bound, stop
        )
    if solver == "cbc":
        return _run_cbc(arrays, time_limit, mip_gap, abs_gap, threads, start)
    raise SolverError(f"solver: expected 'highs' or 'cbc', found '{solver}'")


def _run_highs(
    arrays: LpArrays,
    time_limit: float | None,
    mip_gap: float | None,
    abs_gap: float | None,
    threads: int | None,
    start: np.ndarray | None,
    presolve: bool = True,
    on_bound: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> SolverRun:
    import highspy

    started = time.perf_counter()
    highs = _highs_with_model(arrays)
    # HiGHS swallows what a callback raises (Ctrl-C included): keep it, stop, raise it after.
    raised: list[BaseException] = []
    if on_bound is not None:

        def hear(event) -> None:
            try:
                on_bound(event.data_out.mip_dual_bound)
            except BaseException as error:
                raised.append(error)
                event.data_in.user_interrupt = True

        highs.cbMipInterrupt.subscribe(hear)
    if stop is not None:

        def interrupt(event) -> None:
            if stop.is_set():
                event.data_in.user_interrupt = True

        highs.cbSimplexInterrupt.subscribe(interrupt)
    if not presolve:
        highs.setOptionValue("presolve", "off")
    # A fixed seed keeps runs identical; HiGHS' MIP search is deterministic for a fixed seed.
    highs.setOptionValue("random_seed", 0)
    if mip_gap is not None:
        highs.setOptionValue("mip_rel_gap", float(mip_gap))
    if abs_gap is not None:
        highs.setOptionValue("mip_abs_gap", float(abs_gap))
    if threads is not None:
        highs.setOptionValue("threads", int(threads))
    if start is not None:
        highs.setSolution(
            len(start), np.arange(len(start), dtype=np.int32), np.asarray(start, dtype=float)
        )
    if time_limit is not None:
        # The transfer above counts against the limit: the limit is the caller's, end to end.
        remaining = time_limit - (time.perf_counter() - started)
        highs.setOptionValue("time_limit", max(remaining, MIN_SOLVER_SECONDS))  # a new object
    highs.run()
    if raised:
        raise raised[0]
    seconds = time.perf_counter() - started
    model_status = highs.getModelStatus()
    words = highs.modelStatusToString(model_status)
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    scale = arrays.objective_scale
    objective = float(info.objective_function_value) * scale if has_solution else math.nan
    is_mip = bool(arrays.integer.any())
    bound = float(info.mip_dual_bound) * scale if is_mip else objective
    values = np.asarray(highs.getSolution().col_value, dtype=float) if has_solution else None
    status_enum = highspy.HighsModelStatus
    if model_status == status_enum.kOptimal and not math.isfinite(bound):
        # HiGHS can return a MIP start as "Optimal" when presolve gave up on the model; without
        # a finite bound nothing is proven.
        status = "unproven"
    elif model_status == status_enum.kOptimal:
        status = "optimal"
    elif model_status in (status_enum.kInfeasible, status_enum.kUnboundedOrInfeasible):
        status = "infeasible"
    elif model_status == status_enum.kTimeLimit:
        status = "time_limit" if has_solution else "no_solution"
    elif has_solution:
        status = words.lower().replace(" ", "_")
    else:
        status = "no_solution"
    return SolverRun(status, words, has_solution, objective, bound, seconds, values)


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
    arrays: LpArrays,
    time_limit: float | None,
    mip_gap: float | None,
    abs_gap: float | None,
    threads: int | None,
    start: np.ndarray | None,
) -> SolverRun:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="totalcapital-cbc-") as folder:
        mps = Path(folder) / "model.mps"
        solution = Path(folder) / "model.sol"
        highs = _highs_with_model(arrays)
        highs.writeModel(str(mps))
        args = [pulp.PULP_CBC_CMD.pulp_cbc_path, str(mps)]
        if start is not None:
            mst = Path(folder) / "start.sol"
            lines = ["Stopped on time - objective value 0\n"]
            lines += [f"{i:>7} c{i} {value!r:>23} 0\n" for i, value in enumerate(start.tolist())]
            mst.write_text("".join(lines))
            args += ["-mips", str(mst)]
        if time_limit is not None:
            remaining = time_limit - (time.perf_counter() - started)
            args += ["-sec", f"{max(remaining, MIN_SOLVER_SECONDS):.3f}"]
        args += ["-timeMode", "elapsed", "-randomCbcSeed", "1"]
        if mip_gap is not None:
            args += ["-ratio", repr(float(mip_gap))]
        if abs_gap is not None:
            args += ["-allow", repr(float(abs_gap))]
        if threads is not None:
            args += ["-threads", str(int(threads))]
        args += ["-solve", "-printingOptions", "all", "-solution", str(solution)]
        try:
            done = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise SolverError(f"CBC could not be started: {exc}") from None
        log_text = done.stdout
        if done.returncode != 0 or not solution.exists():
            raise SolverError(f"CBC failed (exit {done.returncode}): {log_text[-300:].strip()}")
        text = solution.read_text(errors="replace").splitlines()
    seconds = time.perf_counter() - started
    first = text[0] if text else ""
    words = first.split(" - ")[0].strip() or "no answer"
    values = np.zeros(len(arrays.variables))
    for line in text[1:]:
        parts = line.replace("**", " ").split()
        if len(parts) >= 3 and parts[1].startswith("c") and parts[1][1:].isdigit():
            values[int(parts[1][1:])] = float(parts[2])
    lowered = words.lower()
    feasible_words = ("optimal", "stopped on time", "stopped on iterations", "stopped on nodes")
    has_solution = lowered.startswith(feasible_words) and "no integer" not in first.lower()
    scale = arrays.objective_scale
    objective = float(arrays.cost @ values) * scale if has_solution else math.nan
    bound = _cbc_figure(log_text, "Lower bound") * scale
    if "infeasible" in lowered:
        status = "infeasible"
    elif not has_solution:
        status = "no_solution"
    elif lowered.startswith("optimal"):
        status = "optimal"
        if math.isnan(bound):
            bound = objective
    elif "time" in lowered:
        status = "time_limit"
    else:
        status = lowered.replace(" ", "_")
    return SolverRun(
        status, words, has_solution, objective, bound, seconds, values if has_solution else None
    )


# --------------------------------------------------------------------------- fewest sites


@dataclass(frozen=True)
class SiteCountBound:
    """The fewest sites any plan keeps, as far as the site-count model proved it.

    Attributes
    ----------
    fewest : int
        Every plan keeps at least this many sites (the count model's bound, rounded up).
    proven : bool
        The count model reached it with a plan of that many sites (so it is the least).
    plan : Plan or None
        The count model's plan, checked against every rule.
    seconds : float
    """

    fewest: int
    proven: bool
    plan: Plan | None
    seconds: float

    def describe(self) -> str:
        how = "proven least" if self.proven else "a lower bound"
        return (
            f"every plan keeps at least {self.fewest:,} sites ({how}, by the site-count model "
            f"in {self.seconds:.1f} s); the bound includes that row"
        )


def uses_count_bound(setting: str, problem) -> bool:
    """Whether the fewest-sites row is worth proving first: "on", or under "auto" a timeless
    problem with at least :data:`COUNT_BOUND_AUTO_MIN_SITES` sites free to close whose costs
    of keeping are all within :data:`COUNT_BOUND_AUTO_SPREAD` of each other. Only then is a
    plan's cost close to a multiple of its number of sites, and only then does a count bound
    lift the money bound by whole sites."""
    if setting == "off" or problem.n_epochs > 1:
        return False
    if setting == "on":
        return True
    free = problem.may_change[:, 0] & (problem.state_lower[:, 0] < problem.state_upper[:, 0])
    costs = problem.site_cost[free, 0]
    if len(costs) < COUNT_BOUND_AUTO_MIN_SITES:
        return False
    largest = float(np.abs(costs).max())
    return largest > 0 and float(np.ptp(costs)) <= COUNT_BOUND_AUTO_SPREAD * largest


def _open_columns(formulation: Formulation, arrays: LpArrays) -> np.ndarray:
    columns = arrays.column_of(formulation.open_vars)
    return np.unique(columns[columns >= 0])


def _locked_open(formulation: Formulation, arrays: LpArrays) -> int:
    """Sites no plan may close: a count bound no higher than this says nothing."""
    return int((arrays.lower[_open_columns(formulation, arrays)] >= 1).sum())


def _time_for_a_call(arrays: LpArrays, deadline: float | None) -> float | None:
    """Seconds a solver call may take before ``deadline`` (None: no limit), or 0.0 when too
    little is left for HiGHS's set-up, so the call would overrun the limit."""
    if deadline is None:
        return None
    left = deadline - time.perf_counter()
    setup = SOLVER_SETUP_SECONDS_PER_MILLION_NONZEROS * arrays.rows.nnz / 1e6
    return left if left >= max(MIN_SOLVER_SECONDS, setup) else 0.0


def fewest_sites(
    formulation: Formulation,
    arrays: LpArrays,
    options: SolverOptions,
    deadline: float | None,
    on_bound: Callable[[float], None] | None = None,
) -> SiteCountBound | None:
    """Solve the same rows for the fewest open sites; None when nothing useful was proven.

    Every plan of the problem is a plan of this model, so its bound ``k`` (rounded up: the
    count is whole) gives a valid row ``sum(open) >= k`` for the money model. A solver proves
    a count quickly, because it knows the objective is whole and rounds its bound up; the
    money model cannot see that its cost moves in steps of about one site's cost. Where sites
    cost the same, the row lifts the money model's root bound to the optimum.

    No start is offered: today's plan keeps every site, the worst count there is. A bound no
    higher than the sites locked open says nothing, and is dropped. ``on_bound(bound)``
    hears the count's bound as it rises (see :class:`CountRowProof`).
    """
    started = time.perf_counter()
    limit = _time_for_a_call(arrays, deadline)
    if limit == 0.0:
        return None
    columns = _open_columns(formulation, arrays)
    cost = np.zeros(len(arrays.variables))
    cost[columns] = 1.0
    counting = replace(arrays, cost=cost, objective_scale=1.0)
    presolve = options.presolve_on(False, arrays.rows.nnz)
    run = run_solver(
        counting, options.solver, limit, 0.0, options.threads, None, True, presolve, on_bound
    )
    if not math.isfinite(run.best_bound) or run.status == "infeasible":
        return None
    fewest = math.ceil(run.best_bound - 1e-6)
    if fewest <= _locked_open(formulation, arrays):
        return None
    plan = plan_of_run(formulation, counting, run) if run.has_solution else None
    if plan is not None and not formulation.problem.check(plan).holds:
        plan = None
    proven = plan is not None and int(plan.state[:, 0].sum()) == fewest
    if plan is not None:
        plan = _cheapest_with_sites_of(formulation, arrays, options, plan, deadline)
    return SiteCountBound(fewest, proven, plan, time.perf_counter() - started)


def _cheapest_with_sites_of(
    formulation: Formulation,
    arrays: LpArrays,
    options: SolverOptions,
    plan: Plan,
    deadline: float | None,
) -> Plan:
    """The cheapest plan keeping exactly ``plan``'s sites: the count model moves services
    freely, as moves cost it nothing; here they cost what they cost."""
    limit = _time_for_a_call(arrays, deadline)
    if limit == 0.0:
        return plan
    at = arrays.column_of(formulation.open_vars)
    known = at >= 0
    lower, upper = arrays.lower.copy(), arrays.upper.copy()
    lower[at[known]] = upper[at[known]] = plan.state[known, 0].astype(float)
    fixed = replace(arrays, lower=lower, upper=upper)
    vector = arrays.start_vector(formulation.start_values(plan))
    presolve = options.presolve_on(False, arrays.rows.nnz)
    run = run_solver(
        fixed, options.solver, limit, options.mip_gap, options.threads, vector, False, presolve
    )
    if not run.has_solution:
        return plan
    cheaper = plan_of_run(formulation, fixed, run)
    problem = formulation.problem
    if cheaper is None or not problem.check(cheaper).holds:
        return plan
    return cheaper if problem.cost(cheaper) < problem.cost(plan) else plan


def with_site_count_row(formulation: Formulation, arrays: LpArrays, fewest: int) -> LpArrays:
    """``arrays`` with the row ``sum(open) >= fewest`` added."""
    columns = _open_columns(formulation, arrays)
    row = sparse.csr_array(
        (np.ones(len(columns)), columns, [0, len(columns)]), shape=(1, len(arrays.variables))
    )
    return replace(
        arrays,
        rows=sparse.vstack([arrays.rows, row], format="csr"),
        row_lower=np.append(arrays.row_lower, float(fewest)),
        row_upper=np.append(arrays.row_upper, np.inf),
    )


class CountRowProof:
    """The money model's LP relaxation with the row ``sum(open) >= k``, solved in a second
    thread as soon as the count model's bound reaches ``k``, while the count model goes on to
    find a plan of that many sites.

    Where sites cost the same, that LP's value is the cheapest plan's cost (England's fire
    stations: the money model's root bound is its optimum), so a plan of that cost is proven
    optimal without the money model's MIP, and the LP's seconds overlap the count model's
    last ones (on England the count's bound reaches its final whole number at about half its
    time). HiGHS releases Python's lock while it solves, so the two run on two cores. Each
    rise of ``k`` interrupts the LP of the last and starts another.
    """

    def __init__(
        self,
        formulation: Formulation,
        arrays: LpArrays,
        options: SolverOptions,
        deadline: float | None,
    ):
        self.formulation = formulation
        self.arrays = arrays
        self.options = options
        self.deadline = deadline
        self.locked_open = _locked_open(formulation, arrays)
        self.k: int | None = None
        self._runs: dict[int, SolverRun] = {}  # by k: an old k's LP may end late
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def offer(self, bound: float) -> None:
        """The count model's bound now (called from HiGHS's callback, so it never waits)."""
        if not math.isfinite(bound):
            return
        k = math.ceil(bound - 1e-6)
        with self._lock:
            if k <= self.locked_open or (self.k is not None and k <= self.k):
                return
            self._stop.set()  # the last k's LP: interrupted, its result dropped
            self.k, self._stop = k, threading.Event()
            thread = threading.Thread(target=self._solve, args=(k, self._stop), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _solve(self, k: int, stop: threading.Event) -> None:
        # One thread of HiGHS's own: each Python thread gets its own HiGHS scheduler, so this
        # does not clash with the count model's (in the calling thread, a different thread
        # count than the first run's is an error).
        arrays = with_site_count_row(self.formulation, self.arrays, k)
        relaxed = replace(arrays, integer=np.zeros_like(arrays.integer))
        limit = None if self.deadline is None else max(self.deadline - time.perf_counter(), 0.0)
        presolve = self.options.presolve_on(False, arrays.rows.nnz)
        try:
            run = run_solver(relaxed, "highs", limit, None, 1, None, False, presolve, stop=stop)
        except SolverError as error:  # no proof then: the money model's MIP gives it
            log.debug("The LP with the fewest-sites row failed: %s", error)
            return
        with self._lock:
            if not stop.is_set():
                self._runs[k] = run

    def run_for(self, k: int) -> SolverRun | None:
        """The LP's run with the row for ``k`` (waiting for it, up to the deadline), or None
        when no such LP was started or it ended without a run."""
        with self._lock:
            started = self.k == k and bool(self._threads)
            thread = self._threads[-1] if started else None
        if thread is None:
            return None
        thread.join(None if self.deadline is None else max(self.deadline - time.perf_counter(), 0))
        return self._runs.get(k)

    def stop(self) -> None:
        """Interrupt any LP still running, and wait for the threads."""
        with self._lock:
            self._stop.set()
            threads = list(self._threads)
        for thread in threads:
            thread.join()


# --------------------------------------------------------------------------- verified solve


@dataclass(frozen=True)
class VerifiedPlan:
    """A plan that passed :meth:`PlanningProblem.check`, with the proof the solver gave.

    Attributes
    ----------
    plan : Plan
    check : PlanCheck
        Its recomputed cost and the rules checked.
    run : SolverRun
        The solver run that produced it.
    status : str
        ``"optimal"`` only when the bound proves the recomputed objective within the gap asked
        for; otherwise ``"time_limit"``, ``"unproven"`` or the solver's other reason.
    gap : float
        :func:`relative_gap` of the recomputed objective and the solver's bound.
    notes : list of str
        What verification found and did (a mismatch, a re-solve without the start).
    """

    plan: Plan
    check: PlanCheck
    run: SolverRun
    status: str
    gap: float
    notes: tuple[str, ...] = ()


def with_bound(
    outcome: VerifiedPlan, bound: float, options: SolverOptions, integral: bool
) -> VerifiedPlan:
    """``outcome`` measured against ``bound`` (£) too, a lower bound proven elsewhere (a
    decomposition): the higher bound counts, and a gap it closes is a proof."""
    if not math.isfinite(bound) or bound <= outcome.run.best_bound:
        return outcome
    run = replace(outcome.run, best_bound=bound)
    objective = outcome.check.objective
    gap = relative_gap(objective, bound)
    status = outcome.status
    if status in ("optimal", "time_limit", "unproven") and _proves(
        gap, objective, bound, options.mip_gap, integral
    ):
        status = "optimal"
    note = f"the bound is the decomposition's (£{bound / 1e6:,.1f}m), higher than the solver's"
    return replace(outcome, run=run, gap=gap, status=status, notes=(*outcome.notes, note))


def proven_by_relaxation(
    formulation: Formulation, plan: Plan, relaxed: SolverRun | None, options: SolverOptions
) -> VerifiedPlan | None:
    """``plan`` proven optimal by the value of ``relaxed``, an LP relaxation of the model with
    valid rows only, or None when that value does not prove it."""
    problem = formulation.problem
    if relaxed is None or relaxed.status != "optimal":
        return None
    bound, seconds = relaxed.objective, relaxed.seconds
    check = problem.check(plan)
    if not check.holds or not math.isfinite(bound):
        return None
    gap = relative_gap(check.objective, bound)
    if not _proves(gap, check.objective, bound, options.mip_gap, problem.integral_objective):
        return None
    words = "Optimal (the LP relaxation with the fewest-sites row)"
    run = SolverRun("optimal", words, True, check.objective, bound, seconds)
    note = "proven by the LP relaxation with the fewest-sites row, whose value is the plan's cost"
    gap = 0.0 if gap <= PROVEN_GAP_TOLERANCE else gap
    return VerifiedPlan(plan, check, run, "optimal", gap, (note,))


def plan_of_run(formulation: Formulation, arrays: LpArrays, run: SolverRun) -> Plan | None:
    """The plan in a run's column values (None if a service is unhoused or housed twice)."""
    return None if run.values is None else plan_of_values(formulation, arrays, run.values)


def plan_of_values(formulation: Formulation, arrays: LpArrays, values: np.ndarray) -> Plan | None:
    """The plan in column values, in ``arrays.variables`` order (None as for plan_of_run)."""
    names = [v.name for v in arrays.variables]
    return formulation.plan_from(dict(zip(names, np.asarray(values).tolist(), strict=True)))


def _disagreement(
    formulation: Formulation, arrays: LpArrays, run: SolverRun
) -> tuple[Plan | None, PlanCheck | None, str]:
    """The run's plan, its check, and what is wrong with it ("" when nothing is)."""
    plan = plan_of_run(formulation, arrays, run)
    if plan is None:
        return None, None, "the solver's plan leaves a service unhoused or housed twice"
    check = formulation.problem.check(plan)
    if not check.holds:
        return plan, check, "the solver's plan breaks rules: " + "; ".join(check.violations)
    tolerance = OBJECTIVE_TOLERANCE * max(1.0, abs(check.objective))
    if abs(check.objective - run.objective) > tolerance:
        return (
            plan,
            check,
            f"the solver reported an objective of £{run.objective:,.2f} for a plan whose cost "
            f"is £{check.objective:,.2f}",
        )
    return plan, check, ""


def _status(
    run: SolverRun, gap: float, mip_gap: float | None, integral: bool, objective: float
) -> str:
    if run.status != "optimal":
        return run.status
    return "optimal" if _proves(gap, objective, run.best_bound, mip_gap, integral) else "unproven"


def _proves(
    gap: float, objective: float, bound: float, mip_gap: float | None, integral: bool
) -> bool:
    """Whether ``bound`` proves ``objective`` within the gap asked for (or within £1 when every
    plan costs a whole number of pounds)."""
    allowed = max(mip_gap or 0.0, 0.0) + PROVEN_GAP_TOLERANCE
    return gap <= allowed or (integral and objective - bound < INTEGRAL_ABS_GAP)


def solve_verified(
    formulation: Formulation,
    options: SolverOptions,
    start: Plan | None,
    deadline: float | None,
    arrays: LpArrays | None = None,
) -> VerifiedPlan | SolverRun:
    """Solve, read the plan back, verify it; re-solve without the start when it fails.

    ``arrays`` are the formulation's solver arrays when the caller built them already (at
    county scale that takes seconds, better spent before the clock is short).

    A plan that keeps every rule but whose cost differs from the solver's figure is kept as a
    fallback: if the re-solve finds nothing better in the time left, it is reported with its
    checked cost, the best bound either run proved, and a status that is never "optimal".

    Returns
    -------
    VerifiedPlan
        When a plan passed the check.
    SolverRun
        The last run when no plan did (infeasible, no solution, or a plan still failing after
        the re-solve: its status is then ``"unverified"``).
    """
    problem = formulation.problem
    if arrays is None:
        arrays = LpArrays.from_lp(formulation.lp, formulation.objective_scale)
    if start is not None and _time_for_a_call(arrays, deadline) == 0.0:
        check = problem.check(start)
        if check.holds:
            # The solver would overrun the limit before it could stop: the starting plan
            # (checked) is the answer, with nothing proven.
            run = SolverRun(
                "time_limit", "not run: no time left", True, check.objective, math.nan, 0.0
            )
            note = "no time was left to run the solver; the starting plan is reported"
            return VerifiedPlan(start, check, run, "time_limit", math.nan, (note,))
    integral = problem.integral_objective
    notes: list[str] = []
    attempts = [start, None] if start is not None else [None]
    run: SolverRun | None = None
    fallback: tuple[Plan, PlanCheck, SolverRun] | None = None
    bounds: list[float] = []  # proved by runs whose plan passed the check, or had none
    doubtful: list[float] = []
    for attempt, start_plan in enumerate(attempts):
        limit = None
        if deadline is not None:
            limit = max(deadline - time.perf_counter(), MIN_SOLVER_SECONDS)
        vector = arrays.start_vector(formulation.start_values(start_plan)) if start_plan else None
        run = run_solver(
            arrays,
            options.solver,
            limit,
            options.mip_gap,
            options.threads,
            vector,
            integral,
            options.presolve_on(problem.n_epochs > 1, arrays.rows.nnz),
        )
        _assign(arrays, run)
        if run.status == "infeasible" and fallback is None:
            return run
        if not run.has_solution:
            if math.isfinite(run.best_bound):
                bounds.append(run.best_bound)
            if fallback is None:
                return run
            continue
        plan, check, problem_found = _disagreement(formulation, arrays, run)
        if not problem_found and math.isfinite(run.best_bound):
            bounds.append(run.best_bound)
        elif math.isfinite(run.best_bound) and check is not None and check.holds:
            # A run that misstated its plan's cost may have its bound shifted as much (a
            # presolve offset): worth something only when no run's plan passes. One whose
            # plan breaks a rule proves nothing.
            doubtful.append(run.best_bound - max(0.0, run.objective - check.objective))
        if not problem_found:
            assert plan is not None and check is not None
            if fallback is None or check.objective <= fallback[1].objective:
                # The bound shown is the one the gap and status rest on.
                run = replace(run, best_bound=max(bounds, default=math.nan))
                gap = relative_gap(check.objective, run.best_bound)
                status = _status(run, gap, options.mip_gap, integral, check.objective)
                if status == "optimal":
                    gap = 0.0 if gap <= PROVEN_GAP_TOLERANCE else gap
                return VerifiedPlan(plan, check, run, status, gap, tuple(notes))
            break
        log.warning("Scenario '%s': %s", problem.name, problem_found)
        notes.append(problem_found)
        if (
            check is not None
            and check.holds
            and (fallback is None or check.objective < fallback[1].objective)
        ):
            fallback = (plan, check, run)
        out_of_time = deadline is not None and deadline - time.perf_counter() < RESOLVE_MIN_SECONDS
        if attempt + 1 < len(attempts) and not (out_of_time and fallback is not None):
            notes.append("re-solved without the starting plan")
            log.warning("Scenario '%s': re-solving without the starting plan", problem.name)
        elif attempt + 1 < len(attempts):
            notes.append("no time was left to re-solve without the starting plan")
            break
    if fallback is not None:
        plan, check, first = fallback
        notes.append(
            "the plan keeps every rule and is reported at its recomputed cost, against the "
            "solver's bound lowered by any amount the solver overstated its objective"
        )
        bound = max(bounds + doubtful, default=math.nan)
        gap = relative_gap(check.objective, bound)
        status = "time_limit" if first.status == "time_limit" else "unproven"
        return VerifiedPlan(
            plan, check, replace(first, best_bound=bound), status, gap, tuple(notes)
        )
    assert run is not None
    if not run.has_solution:
        return run
    return replace(
        run, status="unverified", solver_status=f"{run.solver_status}; " + "; ".join(notes)
    )


def _assign(arrays: LpArrays, run: SolverRun) -> None:
    """Put the run's values on the PuLP variables (for readers of ``varValue``)."""
    if run.values is None:
        for var in arrays.variables:
            var.varValue = None
        return
    for var, value in zip(arrays.variables, run.values.tolist(), strict=True):
        var.varValue = value
