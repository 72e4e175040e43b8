"""One scenario run, stage by stage: estate -> demand -> travel times -> model -> result tables.

Each stage is a module with one job; this module only strings them together, times
them, and gathers what a decision record needs (every input file read).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import programme
from ._errors import InfeasibleScenario, ScenarioError, SolverError
from .demand import load_lsoa_demand, load_point_demand
from .estate import BNG, Estate, check_sites_against_demand, load_estate
from .model import CoLocationModel, Solution
from .network import RoadNetwork, TravelTimes, compute_travel_times, shortest_minutes
from .results import RESULT_FILES, ScenarioResult, write_result
from .scenario import Scenario

log = logging.getLogger(__name__)

__all__ = [
    "RunRecord",
    "build_result",
    "load_demand",
    "run_scenario",
    "save_run",
    "scenario_inputs",
]

# (stage name, fraction of the run done); the CLI turns it into a progress bar.
Progress = Callable[[str, float], None]

# Margin drawn round the road nodes reached within a standard, so the covered area
# reads as a patch of country rather than a web of points.
_AREA_MARGIN_M = 150.0


@dataclass
class RunRecord:
    """What a run read and how long each stage took (for the decision record)."""

    inputs: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def scenario_inputs(scenario: Scenario, postcodes: Path | None = None) -> dict[str, Path]:
    """Every file or folder a run of ``scenario`` reads, by role (outputs must differ)."""
    lsoa = scenario.demand.lsoa
    candidates = {
        "estate": scenario.estate,
        "demand": scenario.demand.points,
        "lsoa_centroids": lsoa.centroids if lsoa else None,
        "lsoa_population": lsoa.population if lsoa else None,
        "network": scenario.travel.network,
        "postcodes": postcodes,
    }
    return {role: Path(path) for role, path in candidates.items() if path is not None}


def load_demand(scenario: Scenario, estate: Estate, record: RunRecord) -> gpd.GeoDataFrame | None:
    """The scenario's demand points: ONS LSOAs, a points file, or the estate's demand layer."""
    settings = scenario.demand
    if settings.lsoa is not None:
        record.inputs["lsoa_centroids"] = settings.lsoa.centroids
        record.inputs["lsoa_population"] = settings.lsoa.population
        demand = load_lsoa_demand(
            settings.lsoa.centroids, settings.lsoa.population, settings.lsoa.authorities
        )
        check_sites_against_demand(estate, demand, settings.lsoa.centroids.name)
        return demand
    if settings.points is not None:
        record.inputs["demand"] = settings.points
        demand = load_point_demand(settings.points, settings.weight_column, settings.layer)
        check_sites_against_demand(estate, demand, settings.points.name)
        return demand
    return estate.demand


def _travel_cutoff(scenario: Scenario) -> float | None:
    """The longest normal-speed time any standard looks at.

    Blue-light minutes are normal minutes divided by the factor, so a T-minute standard
    looks at normal times up to T x factor.
    """
    largest = scenario.largest_standard_minutes
    if largest is None:
        return None
    factors = [f for f in scenario.travel.blue_light_factor.values() if f > 0]
    return largest * max([1.0, *factors])


def run_scenario(
    scenario: Scenario,
    *,
    postcodes: Path | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> tuple[ScenarioResult, RunRecord]:
    """Solve one scenario end to end.

    Parameters
    ----------
    scenario : Scenario
    postcodes : Path, optional
        OS Code-Point Open file or folder for sites located by postcode only.
    cache_dir : Path, optional
        Where travel-time matrices and road graphs are cached (when the scenario allows).
    progress : callable, optional
        ``progress(stage, fraction_done)``.

    Raises
    ------
    EstateValidationError, ScenarioError, InfeasibleScenario, SolverError
    """
    record = RunRecord()

    def stage(name: str, fraction: float) -> None:
        if progress is not None:
            progress(name, fraction)

    if scenario.estate is None:
        raise ScenarioError(
            f"scenario '{scenario.name}': 'estate' (the register to plan) is missing"
        )
    started = time.perf_counter()
    stage("Loading estate", 0.0)
    estate = load_estate(scenario.estate, postcodes=postcodes)
    record.inputs.update(estate.files)
    demand = load_demand(scenario, estate, record)
    record.timings["load_seconds"] = time.perf_counter() - started

    travel = None
    if scenario.standards or scenario.access:
        if demand is None or demand.empty:
            raise ScenarioError(
                f"scenario '{scenario.name}': standards need demand points, but the estate has no "
                "'demand' layer and the scenario names no 'demand' source"
            )
        stage("Travel times", 0.15)
        started = time.perf_counter()
        settings = scenario.travel
        if settings.cache and settings.cache_dir is None and cache_dir is not None:
            settings = settings.model_copy(update={"cache_dir": cache_dir})
        elif not settings.cache:
            settings = settings.model_copy(update={"cache_dir": None})
        if settings.network is not None:
            record.inputs["network"] = settings.network
        travel = compute_travel_times(estate.sites, demand, settings, _travel_cutoff(scenario))
        record.timings["travel_seconds"] = time.perf_counter() - started

    stage("Building model", 0.45)
    model = CoLocationModel.from_estate(estate, scenario, travel, demand)
    stage("Solving", 0.55)
    model.solve(progress=lambda text, done: stage(f"Solving: {text}", 0.55 + 0.35 * done))
    solution = model.solution
    record.timings["build_seconds"] = solution.build_seconds
    record.timings["solve_seconds"] = solution.solve_seconds

    stage("Result tables", 0.9)
    timing = programme.Timing.of_model(model, estate, scenario)
    result = build_result(estate, scenario, solution, demand, travel, timing)
    impact = model.planning.closure_impact()
    impact.insert(1, "name", estate.sites["name"].reindex(impact["site_id"]).to_numpy())
    result.closure_impact = impact
    if scenario.rules.compare_no_worse_off:
        stage("Fair shares: the other plan", 0.92)
        result.fair_shares = fair_shares(estate, scenario, result, travel, demand, timing.years)
    stage("Done", 1.0)
    return result, record


def fair_shares(
    estate: Estate,
    scenario: Scenario,
    result: ScenarioResult,
    travel: TravelTimes | None,
    demand: gpd.GeoDataFrame | None,
    years,
) -> pd.DataFrame:
    """The plan as asked beside the plan with ``partners_no_worse_off`` the other way.

    One row per plan: how its solve ended (status and gap: a plan stopped by the time limit
    is shown as such, not as that rule's best), its NPV saving, the partners it leaves worse
    off and by how much, and the yearly transfers that would leave every partner no worse
    off. The plan that lets partners lose saves at least as much, and its transfers show what
    that saving costs the winners; a board sees both. The other plan is solved with the
    scenario's own time limit. If no plan keeps the other rule, its row says so (status
    ``infeasible`` or ``no plan``, with the reason) and the run as asked stands.
    """
    twin_rules = scenario.rules.model_copy(
        update={"partners_no_worse_off": not scenario.rules.partners_no_worse_off}
    )
    twin_scenario = scenario.model_copy(update={"rules": twin_rules})
    asked = result.solve
    rows = [
        _fair_share_row(
            scenario.rules, True, asked["status"], asked["gap"], result.totals, result.ledger, years
        )
    ]
    try:
        twin = CoLocationModel.from_estate(estate, twin_scenario, travel, demand).solve()
    except (InfeasibleScenario, SolverError) as error:
        infeasible = isinstance(error, InfeasibleScenario)
        rows.append(
            {
                "plan": _fair_share_plan(twin_rules),
                "as_asked": False,
                "solve_status": "infeasible" if infeasible else "no plan",
                "solve_gap": float("nan"),
                "npv_saving": float("nan"),
                "partners_losing": "",
                "npv_lost_by_losers": float("nan"),
                "transfers_per_year": float("nan"),
                "sites_disposed": pd.NA,
                "sites_built": pd.NA,
                "note": "; ".join(error.reasons) if infeasible else str(error),
            }
        )
    else:
        solution = twin.solution
        timing = programme.Timing.of_model(twin, estate, twin_scenario)
        decision, assignment = solution.site_decision, solution.assignment
        totals = programme.totals(estate, twin_scenario, decision, assignment, timing)
        ledger = programme.partner_ledger(estate, twin_scenario, decision, assignment, timing)
        rows.append(
            _fair_share_row(twin_rules, False, solution.status, solution.gap, totals, ledger, years)
        )
    table = pd.DataFrame(rows)
    for column in ("sites_disposed", "sites_built"):
        table[column] = table[column].astype("Int64")
    return table


def _fair_share_plan(rules) -> str:
    return "every partner no worse off" if rules.partners_no_worse_off else "partners may lose"


def _fair_share_row(
    rules, as_asked: bool, status: str, gap: float, totals, ledger: pd.DataFrame, years
) -> dict:
    """One plan's row of :func:`fair_shares`: how its solve ended and what it does."""
    gains = ledger["npv_gain"]
    losers = gains[gains < -0.5]
    transfers = programme.compensation(gains, years)
    return {
        "plan": _fair_share_plan(rules),
        "as_asked": as_asked,
        "solve_status": status,
        "solve_gap": float(gap),
        "npv_saving": float(totals["npv_saving"]),
        "partners_losing": ", ".join(losers.index.astype(str)),
        "npv_lost_by_losers": float(-losers.sum()) if len(losers) else 0.0,
        "transfers_per_year": float(
            transfers.groupby("financial_year")["amount"].sum().max()
            if not transfers.empty
            else 0.0
        ),
        "sites_disposed": int(totals["sites_disposed"]),
        "sites_built": int(totals["sites_built"]),
        "note": "",
    }


#: Every file :func:`save_run` writes into a result folder (its extra writers add theirs).
RUN_FILES = (*RESULT_FILES, "results.xlsx", "decision_record.json")


def save_run(
    result: ScenarioResult,
    record: RunRecord,
    folder: Path,
    extra_writers: list[Callable[[ScenarioResult, Path], None]] | None = None,
    run_id: str | None = None,
) -> Path:
    """Write a run's result folder as ``totalcapital run`` does: tables, workbook, decision record.

    The folder is written through its manifest (see :func:`results.write_result`); ``run_id``
    marks every file of this run, and ``extra_writers`` add files inside the same write.
    """
    from .exports import decision_record, write_decision_record, write_xlsx

    def workbook(res: ScenarioResult, staging: Path) -> None:
        write_xlsx(res, staging / "results.xlsx")

    def decision(res: ScenarioResult, staging: Path) -> None:
        entry = decision_record(res, record.inputs, record.timings)
        entry["run_id"] = run_id
        write_decision_record(entry, staging / "decision_record.json")

    writers = [workbook, decision, *(extra_writers or [])]
    return write_result(result, folder, writers, run_id=run_id)


def build_result(
    estate: Estate,
    scenario: Scenario,
    solution: Solution,
    demand: gpd.GeoDataFrame | None,
    travel: TravelTimes | None,
    timing: programme.Timing | None = None,
) -> ScenarioResult:
    """Turn a solution into the tables users read (``timing``: when each change happens;
    default everything at the start, as in the timeless model)."""
    decision, assignment = solution.site_decision, solution.assignment
    if timing is None:
        timing = programme.Timing.at_start(estate, scenario, decision, assignment)
    money = programme.yearly_money(estate, scenario, decision, assignment, timing)
    codes = programme.partner_codes(estate)
    ledger = programme.partner_ledger(estate, scenario, decision, assignment, timing)
    services = estate.services[["org", "service_type", "current_site", "space_m2"]].copy()
    services["new_site"] = assignment.reindex(services.index)
    services["moved"] = services["new_site"] != services["current_site"]
    services["move_year"] = pd.array(
        [timing.fy(y) for y in timing.move_year.reindex(services.index).to_numpy(float)],
        dtype="Int64",
    )

    demand_out = None
    if demand is not None and not solution.demand_cover.empty:
        demand_out = demand.join(solution.demand_cover, how="left")
    elif demand is not None:
        demand_out = demand.copy()

    solve = {
        "status": solution.status,
        "solver": solution.solver,
        "solver_status": solution.solver_status,
        "objective": solution.objective,
        "best_bound": solution.best_bound,
        "gap": solution.gap,
        "build_seconds": solution.build_seconds,
        "solve_seconds": solution.solve_seconds,
        "allowed_pairs": solution.allowed_pairs,
        "pruned_pairs": solution.pruned_pairs,
        "verification": solution.verification,
        "travel_method": travel.method if travel is not None else "none",
        "travel_cached": bool(travel.cached) if travel is not None else False,
    }
    if solution.local_search:
        solve["local_search"] = solution.local_search
    totals = programme.totals(estate, scenario, decision, assignment, timing)
    _check_costs_agree(totals["npv_cost_after"], solution.objective)
    return ScenarioResult(
        name=scenario.name,
        scenario=scenario.resolved(),
        sites=programme.site_table(estate, scenario, decision, assignment, timing),
        services=services,
        moves=programme.moves_table(estate, scenario, assignment, timing),
        ledger=ledger,
        coverage=solution.coverage,
        demand=demand_out,
        areas=reach_areas(estate, scenario, assignment, decision, travel),
        totals=totals,
        solve=solve,
        programme=programme.programme_table(estate, money, codes),
        compensation=programme.compensation(ledger["npv_gain"], timing.years),
    )


#: How far the programme's year-by-year cost may differ from the model's verified cost (£ and
#: share of it): rounding only.
COSTS_AGREE_WITHIN = (1.0, 1e-7)


def _check_costs_agree(programme_cost: float, verified_cost: float) -> None:
    """The plan's whole-life cost counted year by year, pound by pound, must be the cost the
    model optimised and verified: two costings of one plan that disagree mean a fault here,
    and no figure of the run can be trusted."""
    pounds, share = COSTS_AGREE_WITHIN
    if abs(programme_cost - verified_cost) > max(pounds, share * abs(verified_cost)):
        raise RuntimeError(
            f"the plan's whole-life cost counted year by year, £{programme_cost:,.2f}, is not "
            f"the cost the model optimised and verified, £{verified_cost:,.2f}; nothing is "
            "reported"
        )


def _network_area(network: RoadNetwork, origin: gpd.GeoSeries, minutes: float):
    """The hull of the road nodes reached from ``origin`` (one point) within ``minutes``."""
    node, _ = network.snap(origin)
    reached = shortest_minutes(network.graph, node, np.arange(network.n_nodes), minutes)[0]
    inside = np.isfinite(reached)
    cloud = shapely.multipoints(np.column_stack([network.x[inside], network.y[inside]]))
    return shapely.concave_hull(cloud, ratio=0.3).buffer(_AREA_MARGIN_M)


def reach_areas(
    estate: Estate,
    scenario: Scenario,
    assignment: pd.Series,
    decision: pd.Series,
    travel: TravelTimes | None,
) -> gpd.GeoDataFrame | None:
    """The area reached within each requirement's minutes from each site that provides it.

    One row per requirement and site that provides it today (``today``) or after the plan
    (``plan``), so a map can show both. On a road network the area is the hull of the road
    nodes reached in time; in the straight-line fallback it is a circle of the distance
    travelled at the fallback speed.
    """
    requirements = [*scenario.standards, *scenario.access]
    if travel is None or not requirements:
        return None
    services = estate.services.assign(site=assignment.reindex(estate.services.index))
    kept = set(decision.index[~decision.isin(["dispose", "exit_lease", "not_built"])])
    existing = set(estate.sites.index[estate.sites["status"] != "candidate"])
    points = estate.sites.geometry.representative_point()
    network = None
    if travel.method == "network":
        settings = scenario.travel
        network = RoadNetwork.from_osm(
            settings.network, settings.road_speeds_kmh, cache_dir=settings.cache_dir
        )
    rows = []
    for requirement in requirements:
        providing = services[services["service_type"].isin(requirement.service_types)]
        after = set(providing["site"]) & kept
        today = set(providing["current_site"]) & existing
        site_ids = sorted(after | today)
        factor = max(travel.factor_for(t) for t in requirement.service_types)
        minutes = requirement.minutes * factor  # normal-speed minutes the blue lights cover
        origins = points.loc[site_ids]
        if network is None:
            speed_m_per_min = scenario.travel.straight_line_speed_kmh * 1000 / 60
            radius = minutes * speed_m_per_min / scenario.travel.circuity
            # All circles at once (a site at a time took 2 s for England's 1,374 stations);
            # 16 segments a quarter, as a single point's buffer has.
            areas = list(shapely.buffer(origins.to_numpy(), radius, quad_segs=16))
        else:
            areas = [
                _network_area(network, origins.iloc[[i]], minutes) for i in range(len(origins))
            ]
        rows.extend(
            {
                "requirement": requirement.name,
                "site_id": site_id,
                "minutes": float(requirement.minutes),
                "today": site_id in today,
                "plan": site_id in after,
                "geometry": area,
            }
            for site_id, area in zip(site_ids, areas, strict=True)
        )
    if not rows:
        return gpd.GeoDataFrame(
            {"requirement": [], "site_id": [], "minutes": [], "today": [], "plan": []},
            geometry=[],
            crs=BNG,
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)
