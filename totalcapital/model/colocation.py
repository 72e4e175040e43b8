"""The co-location model, end to end: problem -> formulation -> search -> verified solve.

:class:`CoLocationModel` is built either from plain arrays (:meth:`CoLocationModel.from_arrays`,
the core, which with no coverage or side rows is exactly the single-source capacitated facility
location problem) or from an estate and a scenario (:meth:`CoLocationModel.from_estate`, which
computes the arrays and calls the core). :meth:`CoLocationModel.solve` fills
:attr:`CoLocationModel.solution` only with a plan whose cost and rules were recomputed and
checked from the plan itself.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._errors import InfeasibleScenario, SolverError
from .decompose import DecompositionReport, SiteBlocks, price_and_branch, uses_decomposition
from .diagnose import Relaxation, diagnose, presolve_reasons
from .formulation import Formulation
from .problem import CoverageRequirement, Plan, PlanningProblem, SideConstraint
from .search import SEARCH_TIME_SHARE, SearchReport, improve, restricted_to, uses_search
from .solve import (
    COUNT_BOUND_TIME_SHARE,
    CountRowProof,
    LpArrays,
    SiteCountBound,
    SolverOptions,
    SolverRun,
    VerifiedPlan,
    fewest_sites,
    proven_by_relaxation,
    solve_verified,
    uses_count_bound,
    with_bound,
    with_site_count_row,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import pulp

    from ..estate import Estate
    from ..network import TravelTimes
    from ..scenario import Scenario
    from ..timeline import Epochs

log = logging.getLogger(__name__)

__all__ = ["CoLocationModel", "Solution"]

#: After a decomposition, the neighbourhood search improves its plan with this share of the
#: time then left; the whole model gets the rest. The plan over whole-site patterns can
#: often be improved by moving services among several sites at once (synthetic counties in
#: ten minutes: £782.8m to £779.4m on 2,000 sites; in 60 s, £244.8m to £242.4m on 500).
POLISH_TIME_SHARE = 0.5
#: Share of the time a decomposition by site may take (its columns, cuts, master MIP and the
#: master's neighbourhoods); the search and the whole model share the rest. Its bound beats the
#: whole model's at county scale, and its plan comes from the master's neighbourhoods.
DECOMPOSITION_TIME_SHARE = 0.8
#: A large dated model first plans its timeless twin with this share of the time, then the
#: timing of that plan with the next share; the whole model gets the rest.
TWIN_TIME_SHARE = 0.35
#: Keyword arguments of :meth:`CoLocationModel.from_arrays` that make the problem itself.
_PROBLEM_KEYS = frozenset(
    {
        "fixed_cost",
        "capacity",
        "space",
        "assignment_cost",
        "coverage",
        "site_ids",
        "service_ids",
        "demand_ids",
        "allowed",
        "open_lower",
        "open_upper",
        "site_kind",
        "current_site",
        "objective_constant",
        "side_constraints",
        "incompatible",
        "name",
        "epochs",
    }
)
PHASING_TIME_SHARE = 0.2


@dataclass(frozen=True)
class Solution:
    """A verified plan. Only feasible runs whose plan passed the check produce one.

    Attributes
    ----------
    status : str
        ``"optimal"``: the solver's bound proves the verified cost within the scenario's
        ``solver.mip_gap`` (``gap`` gives the exact remaining gap, 0.0 when fully proven);
        ``"time_limit"``: stopped by the time limit with a verified plan that is not proven
        (``gap`` and ``best_bound`` say how far from proven it may be); ``"unproven"``: the
        solver called it optimal but its bound does not prove the verified cost. Other solver
        stops with a plan are named after the solver's words (e.g. ``"iteration_limit"``).
    solver : str
        ``"highs"`` or ``"cbc"``.
    solver_status : str
        The solver's own words.
    objective, best_bound, gap : float
        Whole-life NPV cost (£) recomputed from the plan; the solver's proven lower bound (£);
        ``(objective - best_bound) / max(|objective|, 1)``.
    build_seconds, solve_seconds : float
    site_decision : pandas.Series
        site_id -> "keep", "dispose", "exit_lease", "build", "not_built".
    assignment : pandas.Series
        service_id -> site_id.
    coverage : pandas.DataFrame
        One row per requirement (see :meth:`PlanningProblem.coverage_tables`).
    demand_cover : pandas.DataFrame
        Index demand_id; columns ``{name}_before`` and ``{name}_after`` (bool).
    pruned_pairs, allowed_pairs : int
    local_search : str
        What the neighbourhood search did before the full solve ("" when it did not run).
    verification : str
        What was recomputed from the plan and what verification did.
    plan : Plan or None
        The same plan as positions in the model's problem.
    site_epoch, move_epoch : pandas.Series
        site_id -> the epoch its state changes, service_id -> the epoch it moves (-1: never).
    epoch_labels : tuple of str
        The financial year each epoch starts (("",) when timeless).
    """

    status: str
    solver: str
    solver_status: str
    objective: float
    best_bound: float
    gap: float
    build_seconds: float
    solve_seconds: float
    site_decision: pd.Series
    assignment: pd.Series
    coverage: pd.DataFrame
    demand_cover: pd.DataFrame
    pruned_pairs: int
    allowed_pairs: int
    local_search: str = ""
    verification: str = ""
    plan: Plan | None = None
    site_epoch: pd.Series | None = None
    move_epoch: pd.Series | None = None
    epoch_labels: tuple[str, ...] = ("",)


def _share_of_time_left(deadline: float | None, share: float = SEARCH_TIME_SHARE) -> float | None:
    """When a stage must end that may take ``share`` of what is left now (by default a first
    stage, search or decomposition, since a fewest-sites model that proved nothing may have
    used some)."""
    if deadline is None:
        return None
    now = time.perf_counter()
    return now + share * max(deadline - now, 0.0)


def _search_progress(
    progress: Callable[[str, float], None] | None, begin: float, share: float
) -> Callable[[str, float], None]:
    """The search's ``progress(text, done)`` as the model's: from ``begin``, ``share`` wide."""

    def searched(text: str, done: float) -> None:
        if progress is not None:
            progress(f"improving the plan, {text}", begin + share * done)

    return searched


class CoLocationModel:
    """Single-source capacitated co-location with response standards and side constraints.

    The problem's arrays are :attr:`planning` (:class:`PlanningProblem`), its MILP
    :attr:`formulation` (rows and variables named after sites, services and demand points; see
    :mod:`totalcapital.model.formulation` for the formulation). Solving runs HiGHS (default) or
    CBC (:mod:`totalcapital.model.solve`); today's plan, when allowed, is the start, so a
    time-limited run returns a plan no worse than today. On large models the neighbourhood
    search (:mod:`totalcapital.model.search`) first improves it.

    ``solver.time_limit`` covers the whole model stage: building, searching, solving and any
    re-solve, measured from the moment the model's arrays start being built.

    Attributes
    ----------
    planning : PlanningProblem
    options : SolverOptions
    formulation : Formulation
    lp : pulp.LpProblem
        The formulation's PuLP problem.
    solution : Solution or None
        Set by :meth:`solve`.
    """

    def __init__(
        self,
        planning: PlanningProblem,
        options: SolverOptions,
        *,
        reasons: Sequence[str] = (),
        started: float | None = None,
    ) -> None:
        self._started = time.perf_counter() if started is None else started
        self.planning = planning
        self.options = options
        self.solution: Solution | None = None
        self.relaxations: list[Relaxation] = []
        self.calendar: Epochs | None = None
        self.twin: PlanningProblem | None = None
        reasons = list(reasons) + presolve_reasons(planning)
        if reasons:
            raise InfeasibleScenario(planning.name, reasons)
        self.formulation = Formulation(planning)
        # The solver's arrays are part of building: made now, not when the clock is short.
        self.arrays = LpArrays.from_lp(self.formulation.lp, self.formulation.objective_scale)
        self.build_seconds = time.perf_counter() - self._started
        log.info(
            "Built model '%s': %d sites, %d services, %d allowed pairs (%d pruned), "
            "%d variables, %d constraints in %.2f s",
            planning.name,
            planning.n_sites,
            planning.n_services,
            len(planning.pair_site),
            planning.pruned_pairs,
            self.lp.numVariables(),
            self.lp.numConstraints(),
            self.build_seconds,
        )

    @property
    def lp(self) -> pulp.LpProblem:
        return self.formulation.lp

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_arrays(
        cls,
        fixed_cost: np.ndarray,
        capacity: np.ndarray,
        space: np.ndarray,
        assignment_cost: np.ndarray,
        *,
        coverage: Sequence[CoverageRequirement] | None = None,
        site_ids: Sequence[str] | None = None,
        service_ids: Sequence[str] | None = None,
        demand_ids: Sequence[str] | None = None,
        allowed: np.ndarray | None = None,
        open_lower: np.ndarray | None = None,
        open_upper: np.ndarray | None = None,
        site_kind: Sequence[str] | None = None,
        current_site: np.ndarray | None = None,
        objective_constant: float = 0.0,
        side_constraints: Sequence[SideConstraint] | None = None,
        incompatible: Sequence[tuple[str, str, np.ndarray, np.ndarray]] | None = None,
        name: str = "model",
        solver: str = "highs",
        time_limit: float | None = None,
        mip_gap: float | None = 0.0,
        threads: int | None = None,
        pruned_before: int = 0,
        reasons: Sequence[str] = (),
        local_search: str = "auto",
        presolve: str = "auto",
        site_count_bound: str = "auto",
        decomposition: str = "auto",
        started: float | None = None,
        epochs: dict | None = None,
        calendar: Epochs | None = None,
    ) -> CoLocationModel:
        """Build the model from plain arrays.

        Parameters
        ----------
        fixed_cost : numpy.ndarray
            Per site: cost of opening (keeping or building) it rather than not.
        capacity : numpy.ndarray
            Per site: floor space (or any capacity).
        space : numpy.ndarray
            Per service: space it takes.
        assignment_cost : numpy.ndarray
            Services x sites, dense: cost of housing the service at the site; ``np.inf`` marks a
            forbidden pair.
        coverage : sequence of CoverageRequirement, optional
        site_ids, service_ids, demand_ids : sequence of str, optional
            Default "0".."n-1".
        allowed : numpy.ndarray of bool, optional
            Services x sites mask of permitted pairs (in addition to finite costs).
            Pairs whose service is larger than the site are pruned too.
        open_lower, open_upper : numpy.ndarray, optional
            Per site bounds of ``open`` (1/0 fix a site kept/closed); default 0 and 1.
        site_kind : sequence of str, optional
            Per site "freehold" (default), "leasehold" or "candidate": names the decisions
            (keep/dispose, keep/exit_lease, build/not_built).
        current_site : numpy.ndarray of int, optional
            Per service, today's site position (for "today" figures and the start).
        objective_constant : float
            Added to the objective.
        side_constraints : sequence of SideConstraint, optional
        incompatible : sequence of (type_a, type_b, mask_a, mask_b), optional
            Services in ``mask_a`` never share a site with services in ``mask_b``.
        name : str
            Used in messages (the scenario name).
        solver : {"highs", "cbc"}
        time_limit : float, optional
            Seconds for the whole model stage (build, search, solve).
        mip_gap : float, optional
            Relative gap at which the solver may stop (0 proves optimality).
        threads : int, optional
        pruned_before : int
            Pairs already removed by the caller (added to ``pruned_pairs``).
        reasons : sequence of str
            Infeasibility reasons the caller already found; raised with the core's own.
        local_search : {"auto", "on", "off"}
            Improve today's plan (or the decomposition's) neighbourhood by neighbourhood
            before the full solve (:mod:`totalcapital.model.search`); "auto" does so for
            models of more than 3,000 allowed (service, site) pairs; "off" never.
        presolve : {"auto", "on", "off"}
            HiGHS's presolve; "auto" skips it on large dated models (see ``SolverOptions``).
        site_count_bound : {"auto", "on", "off"}
            First prove the fewest sites any plan keeps and add that row to the model (see
            :func:`~totalcapital.model.solve.fewest_sites`); "auto" does so for timeless
            models whose sites cost about the same to keep.
        decomposition : {"auto", "on", "off"}
            Decompose a timeless model by site (:mod:`totalcapital.model.decompose`) for a
            plan and a bound of its own; "auto" does so above 3,000 allowed pairs when the
            time limit gives 10 ms a pair. The neighbourhood search then starts from the
            decomposition's plan, not today's.
        started : float, optional
            ``time.perf_counter()`` when the model stage began (default now).
        epochs : dict, optional
            The dated problem's arrays (see :meth:`PlanningProblem.from_dense`).
        calendar : Epochs, optional
            The financial years of those epochs (kept on the model for its results).

        Raises
        ------
        InfeasibleScenario
            When a cheap check shows no plan can exist, naming the places and shortfalls.
        """
        started = time.perf_counter() if started is None else started
        planning = PlanningProblem.from_dense(
            fixed_cost,
            capacity,
            space,
            assignment_cost,
            coverage=coverage,
            site_ids=site_ids,
            service_ids=service_ids,
            demand_ids=demand_ids,
            allowed=allowed,
            open_lower=open_lower,
            open_upper=open_upper,
            site_kind=site_kind,
            current_site=current_site,
            objective_constant=objective_constant,
            side_constraints=side_constraints,
            incompatible=incompatible,
            name=name,
            pruned_before=pruned_before,
            epochs=epochs,
        )
        options = SolverOptions(
            solver,
            time_limit,
            mip_gap,
            threads,
            local_search,
            presolve,
            site_count_bound,
            decomposition,
        )
        model = cls(planning, options, reasons=reasons, started=started)
        model.calendar = calendar
        return model

    @classmethod
    def from_estate(
        cls,
        estate: Estate,
        scenario: Scenario,
        travel: TravelTimes | None = None,
        demand: gpd.GeoDataFrame | None = None,
        *,
        as_of: pd.Timestamp | None = None,
    ) -> CoLocationModel:
        """Build the model of a scenario on an estate (see :mod:`totalcapital.model.from_estate`).

        Parameters
        ----------
        estate : Estate
        scenario : Scenario
        travel : TravelTimes, optional
            Needed when the scenario has standards or access rules.
        demand : geopandas.GeoDataFrame, optional
            Demand points (index demand_id, column ``weight``); default the estate's demand.
        as_of : pandas.Timestamp, optional
            The plan's start date, for lease breaks; default ``scenario.finance.start_date``.
        """
        from .from_estate import estate_arrays

        started = time.perf_counter()
        arrays = estate_arrays(estate, scenario, travel, demand, as_of)
        model = cls.from_arrays(**arrays, started=started)
        if model.planning.n_epochs > 1 and uses_search(
            scenario.solver.local_search, model.planning
        ):
            # The same question without time: where the programme should end up.
            timeless = scenario.model_copy(
                update={"programme": scenario.programme.model_copy(update={"enabled": False})}
            )
            twin = estate_arrays(estate, timeless, travel, demand, as_of)
            model.twin = PlanningProblem.from_dense(
                **{k: v for k, v in twin.items() if k in _PROBLEM_KEYS}
            )
        return model

    # ------------------------------------------------------------------ solving

    @property
    def deadline(self) -> float | None:
        """``time.perf_counter()`` by which the model stage must end (None: no limit)."""
        limit = self.options.time_limit
        return None if limit is None else self._started + limit

    def today_plan(self) -> Plan | None:
        return self.planning.today_plan()

    def solve(self, progress: Callable[[str, float], None] | None = None) -> CoLocationModel:
        """Solve, verify the plan, and fill :attr:`solution`.

        Today's plan, when allowed, is the start. On large models (see ``local_search``) it is
        first improved neighbourhood by neighbourhood for up to 60% of the time left; the full
        model then gets the rest, starting from the improved plan, and its bound gives the gap.
        A model decomposed by site (see ``decomposition``) takes its plan from the
        decomposition in those 60%, then (unless ``local_search`` is "off") improves it
        neighbourhood by neighbourhood for :data:`POLISH_TIME_SHARE` of the time left.
        Where sites cost about the same (see ``site_count_bound``), the fewest sites any plan
        keeps is proven first, in up to half the time left; the full model then has that row
        and starts from that plan, and the neighbourhood search is skipped. With HiGHS the full
        model's LP relaxation with that row is solved meanwhile in a second thread (see
        :class:`~totalcapital.model.solve.CountRowProof`); a plan costing what it says is
        proven without the full model's MIP.

        Parameters
        ----------
        progress : callable, optional
            ``progress(text, fraction_done)`` as the search goes and when the full solve starts.

        Raises
        ------
        InfeasibleScenario
            When no plan satisfies every rule; the reasons come from relaxed re-solves that say
            which standards or constraints to relax, and by how much.
        SolverError
            When the solver stopped without a plan (e.g. the time limit hit before the first
            feasible solution), or its plan failed the check even after a re-solve.
        """
        started = time.perf_counter()
        deadline = self.deadline
        planning, options = self.planning, self.options
        start = planning.today_plan()
        if start is not None and not planning.check(start).holds:
            start = None
        search = None
        dated = planning.n_epochs > 1
        arrays, counted, proven = self.arrays, None, None
        if uses_count_bound(options.site_count_bound, planning):
            if progress is not None:
                progress("the fewest sites any plan keeps", 0.0)
            count_deadline = None
            if deadline is not None:
                count_deadline = started + COUNT_BOUND_TIME_SHARE * max(deadline - started, 0.0)
            relaxation = None
            if options.solver == "highs":
                relaxation = CountRowProof(self.formulation, arrays, options, deadline)
            try:
                counted = fewest_sites(
                    self.formulation,
                    arrays,
                    options,
                    count_deadline,
                    None if relaxation is None else relaxation.offer,
                )
                if counted is not None:
                    arrays = with_site_count_row(self.formulation, arrays, counted.fewest)
                    plan = counted.plan
                    if plan is not None and (
                        start is None or planning.cost(plan) < planning.cost(start)
                    ):
                        start = plan
                        # Only a plan of exactly k sites can cost what the LP says.
                        if relaxation is not None and counted.proven:
                            relaxed = relaxation.run_for(counted.fewest)
                            proven = proven_by_relaxation(self.formulation, plan, relaxed, options)
            finally:
                if relaxation is not None:
                    relaxation.stop()
        # A fewest-sites plan is start enough: the search's time goes to the proof instead.
        searching = start is not None and (counted is None or counted.plan is None)
        split = None
        # An explicit "local_search: on" wins over "decomposition: auto".
        wanted = options.decomposition == "on" or options.local_search != "on"
        if (
            searching
            and wanted
            and uses_decomposition(options.decomposition, planning, options.time_limit)
        ):
            split = SiteBlocks.of(self.formulation, arrays)
        decomposed = None
        if split is not None:
            if progress is not None:
                progress("decomposing by site", 0.0)
            plan, decomposed = price_and_branch(
                self.formulation,
                arrays,
                split,
                start,
                options,
                _share_of_time_left(deadline, DECOMPOSITION_TIME_SHARE),
            )
            if plan is not None and planning.cost(plan) < planning.cost(start):
                start = plan  # checked rule by rule in price_and_branch
            # Even when the decomposition found nothing better than today's plan, the search
            # does more with the time than the whole model (half county, 60 s: a 31.7% gap
            # against 59.3%).
            polishing = 0.0
            if options.local_search != "off":
                polishing = (1 - DECOMPOSITION_TIME_SHARE) * POLISH_TIME_SHARE
                polish_deadline = _share_of_time_left(deadline, POLISH_TIME_SHARE)
                polished = _search_progress(progress, DECOMPOSITION_TIME_SHARE, polishing)
                start, search = improve(planning, start, options, polish_deadline, polished)
            if progress is not None:
                progress("whole model", DECOMPOSITION_TIME_SHARE + polishing)
        elif searching and dated and uses_search(options.local_search, planning):
            if self.twin is not None:
                start, search = self._phased_start(start, progress)
        elif searching and uses_search(options.local_search, planning):
            search_deadline = _share_of_time_left(deadline)
            share = SEARCH_TIME_SHARE if deadline is not None else 0.9
            searched = _search_progress(progress, 0.0, share)
            start, search = improve(planning, start, options, search_deadline, searched)
            if progress is not None:
                progress("whole model", share)
        if proven is not None:
            outcome = proven  # the money model's MIP would only repeat its root LP
        else:
            outcome = solve_verified(self.formulation, options, start, deadline, arrays)
        seconds = time.perf_counter() - started
        if isinstance(outcome, SolverRun):
            self._raise_for(outcome)
        if decomposed is not None:
            outcome = with_bound(outcome, decomposed.bound, options, planning.integral_objective)
        log.info(
            "Solved '%s' with %s: %s (%s), objective %.2f verified, gap %.2g, %.2f s",
            planning.name,
            options.solver,
            outcome.status,
            outcome.run.solver_status,
            outcome.check.objective,
            outcome.gap,
            seconds,
        )
        self.solution = self._solution(outcome, seconds, search, counted, decomposed)
        return self

    def _phased_start(
        self, today: Plan, progress: Callable[[str, float], None] | None
    ) -> tuple[Plan, SearchReport | None]:
        """A start for a large dated model: where the timeless twin ends up, then when.

        The timeless twin (neighbourhood search and all) gets :data:`TWIN_TIME_SHARE` of the
        time left, the dated problem restricted to its destinations a further
        :data:`PHASING_TIME_SHARE`; the whole dated model then starts from that plan. Any
        step that finds nothing leaves today's plan as the start.
        """
        remaining = None if self.deadline is None else max(self.deadline - time.perf_counter(), 0)
        twin_options = replace(
            self.options,
            time_limit=None if remaining is None else TWIN_TIME_SHARE * remaining,
        )
        if progress is not None:
            progress("timeless plan", 0.0)
        try:
            twin = CoLocationModel(self.twin, twin_options)
            twin.solve()
        except (InfeasibleScenario, SolverError):
            return today, None
        destination = Plan(
            np.repeat(twin.solution.plan.state[:, :1], self.planning.n_epochs, axis=1),
            np.repeat(twin.solution.plan.site_of[:, :1], self.planning.n_epochs, axis=1),
        )
        if progress is not None:
            progress("phasing the timeless plan", TWIN_TIME_SHARE)
        restricted = restricted_to(self.planning, destination)
        phasing_options = replace(
            self.options,
            time_limit=None if remaining is None else PHASING_TIME_SHARE * remaining,
        )
        try:
            phased = CoLocationModel(restricted, phasing_options)
            phased.solve()
        except (InfeasibleScenario, SolverError):
            return today, None
        if progress is not None:
            progress("whole model", TWIN_TIME_SHARE + PHASING_TIME_SHARE)
        plan = phased.solution.plan
        if not self.planning.check(plan).holds:
            return today, None
        report = SearchReport(
            self.planning.cost(today),
            self.planning.cost(plan),
            neighbourhoods=0,
            improved=int(self.planning.cost(plan) < self.planning.cost(today)),
            passes=1,
            seconds=0.0,
        )
        return plan, report

    def _raise_for(self, run: SolverRun) -> None:
        name, options = self.planning.name, self.options
        if run.status == "infeasible":
            reasons, self.relaxations = diagnose(self.planning, options, self._diagnosis_deadline())
            raise InfeasibleScenario(name, reasons, self.relaxations)
        if run.status == "unverified":
            raise SolverError(
                f"Scenario '{name}': {options.solver} returned a plan that failed the check "
                f"even after a re-solve without the start ({run.solver_status}); no plan is "
                "reported. Try the other solver (solver.name)"
            )
        raise SolverError(
            f"Scenario '{name}': {options.solver} stopped without a plan "
            f"({run.solver_status}); raise solver.time_limit_seconds "
            f"(now {options.time_limit}) or loosen solver.mip_gap"
        )

    def _diagnosis_deadline(self) -> float | None:
        # The diagnosis gets what is left of the limit, and at least a tenth of it.
        if self.options.time_limit is None:
            return None
        floor = time.perf_counter() + 0.1 * self.options.time_limit
        return max(self.deadline or floor, floor)

    def _solution(
        self,
        outcome: VerifiedPlan,
        seconds: float,
        search: SearchReport | None,
        counted: SiteCountBound | None = None,
        decomposed: DecompositionReport | None = None,
    ) -> Solution:
        planning = self.planning
        coverage, demand_cover = planning.coverage_tables(outcome.plan)
        site_epoch, move_epoch = planning.change_epochs(outcome.plan)
        bound = outcome.run.best_bound if math.isfinite(outcome.run.best_bound) else math.nan
        verification = f"cost and {outcome.check.rows:,} rules recomputed from the plan: all hold"
        if outcome.notes:
            verification += "; " + "; ".join(outcome.notes)
        if counted is not None:
            verification += "; " + counted.describe()
        if decomposed is not None:
            verification += "; " + decomposed.describe()
        return Solution(
            status=outcome.status,
            solver=self.options.solver,
            solver_status=outcome.run.solver_status,
            objective=outcome.check.objective,
            best_bound=bound,
            gap=outcome.gap,
            build_seconds=self.build_seconds,
            solve_seconds=seconds,
            site_decision=planning.site_decisions(outcome.plan),
            assignment=planning.assignment(outcome.plan),
            coverage=coverage,
            demand_cover=demand_cover,
            pruned_pairs=planning.pruned_pairs,
            allowed_pairs=len(planning.pair_site),
            local_search="" if search is None else search.describe(),
            verification=verification,
            plan=outcome.plan,
            site_epoch=pd.Series(site_epoch, index=pd.Index(planning.site_ids, name="site_id")),
            move_epoch=pd.Series(
                move_epoch, index=pd.Index(planning.service_ids, name="service_id")
            ),
            epoch_labels=planning.epoch_labels,
        )

    def diagnose(self) -> list[str]:
        """Say which rules to relax, and by how much, when the model is infeasible."""
        reasons, self.relaxations = diagnose(
            self.planning, self.options, self._diagnosis_deadline()
        )
        return reasons
