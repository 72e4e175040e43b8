"""Results for the map tests and the map benchmark: a synthetic county and a dated plan.

``county_result`` builds a county partnership of any size in a second or two: sites
gathered round market towns (with some on the very same spot, as on shared campuses),
services of every kind, moves, demand points under two standards and areas reached.
``dated_result`` is the hand-made result of ``result_fixture`` with the columns the
programme adds: the financial year of each site's decision and of each service's move.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
from result_fixture import make_result
from shapely.geometry import Point

from totalcapital.results import ScenarioResult

STANDARDS = ("fire_10min", "ambulance_15min", "police_20min")
STANDARD_LABELS = {
    "fire_10min": "Fire engine within 10 minutes",
    "ambulance_15min": "Ambulance within 15 minutes",
    "police_20min": "Police within 20 minutes",
}
DECISIONS = np.array(["keep", "host", "dispose", "exit_lease", "keep_vacant"])
TYPES = np.array(
    [
        "fire_station",
        "police_station",
        "ambulance_station",
        "library",
        "council_office",
        "school",
        "care_home",
        "gp_surgery",
        "youth_centre",
    ]
)
TYPE_OF_STANDARD = {
    "fire_10min": "fire_station",
    "ambulance_15min": "ambulance_station",
    "police_20min": "police_station",
}
PARTNERS = ["NYCC", "RDC", "NYP", "NYFRS", "YAS", "NHS", "HDC", "SBC"]


def county_result(
    n_sites: int = 3000,
    n_demand: int = 5000,
    n_moves: int = 600,
    n_areas: int = 400,
    *,
    seed: int = 7,
    standards: tuple[str, ...] = STANDARDS,
) -> ScenarioResult:
    """A county-sized result around North Yorkshire, reproducible for a given seed.

    Sites stand round 60 towns (a few hundred metres apart in town, some on the same
    spot); each houses one service; a tenth of the sites share a spot with another.
    """
    rng = np.random.default_rng(seed)
    towns = np.column_stack([rng.uniform(430_000, 510_000, 60), rng.uniform(440_000, 500_000, 60)])
    town = rng.integers(0, len(towns), n_sites)
    spread = rng.choice([150.0, 600.0, 2500.0], n_sites, p=[0.3, 0.4, 0.3])
    xy = towns[town] + rng.normal(0, 1, (n_sites, 2)) * spread[:, None]
    same_spot = rng.random(n_sites) < 0.1
    xy[1:][same_spot[1:]] = xy[:-1][same_spot[1:]]
    decision = rng.choice(DECISIONS, n_sites, p=[0.5, 0.2, 0.2, 0.05, 0.05])
    owners = rng.choice(PARTNERS, n_sites)
    ids = [f"S{i:05d}" for i in range(n_sites)]
    gone = np.isin(decision, ["dispose", "exit_lease"])
    sites = gpd.GeoDataFrame(
        {
            "site_id": ids,
            "name": [
                f"{o} site {i} <{t}>" for i, (o, t) in enumerate(zip(owners, town, strict=True))
            ],
            "owner": owners,
            "tenure": np.where(decision == "exit_lease", "leasehold", "freehold"),
            "status": "operational",
            "gia_m2": rng.uniform(200, 5000, n_sites).round(),
            "running_cost": rng.uniform(20_000, 400_000, n_sites).round(-2),
            "backlog_cost": rng.uniform(0, 200_000, n_sites).round(-2),
            "market_value": rng.uniform(100_000, 3_000_000, n_sites).round(-3),
            "covenant": np.where(rng.random(n_sites) < 0.05, "housing use only", ""),
            "listed": rng.random(n_sites) < 0.03,
            "decision": decision,
            "space_used_m2": rng.uniform(0, 200, n_sites).round(),
            "space_free_m2": rng.uniform(0, 200, n_sites).round(),
            "receipt": np.where(decision == "dispose", rng.uniform(1e5, 3e6, n_sites), 0.0),
            "exit_cost": np.where(decision == "exit_lease", 25_000.0, 0.0),
            "capex": rng.uniform(0, 100_000, n_sites).round(-2),
            "running_cost_after": np.where(gone, 0.0, 50_000.0),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs="EPSG:27700",
    ).set_index("site_id")
    kept = np.array([s for s, g in zip(ids, gone, strict=True) if not g])
    sold = np.array([s for s, g in zip(ids, gone, strict=True) if g])
    services = pd.DataFrame(
        {
            "service_id": [f"K{i:05d}" for i in range(n_sites)],
            "org": owners,
            "service_type": rng.choice(TYPES, n_sites),
            "current_site": ids,
            "space_m2": rng.uniform(50, 800, n_sites).round(),
        }
    ).set_index("service_id")
    services["new_site"] = services["current_site"]
    movers = rng.choice(services.index[gone], min(n_moves, int(gone.sum())), replace=False)
    services.loc[movers, "new_site"] = rng.choice(kept, len(movers))
    services["moved"] = services["new_site"] != services["current_site"]
    moved = services.loc[movers]
    moves = pd.DataFrame(
        {
            "service_id": moved.index,
            "org": moved["org"].to_numpy(),
            "service_type": moved["service_type"].to_numpy(),
            "from_site": moved["current_site"].to_numpy(),
            "to_site": moved["new_site"].to_numpy(),
            "distance_km": rng.uniform(0.1, 20, len(moved)),
            "fit_out_cost": 20_000.0,
            "moving_cost": 9_000.0,
            "total_cost": 29_000.0,
        }
    )
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"E01{i:06d}" for i in range(n_demand)],
            "name": [f"Neighbourhood {i}" for i in range(n_demand)],
            "weight": rng.uniform(1000, 2500, n_demand).round(),
        },
        geometry=gpd.points_from_xy(
            rng.uniform(430_000, 510_000, n_demand), rng.uniform(440_000, 500_000, n_demand)
        ),
        crs="EPSG:27700",
    ).set_index("demand_id")
    for name in standards:
        demand[f"{name}_before"] = rng.random(n_demand) < 0.85
        demand[f"{name}_after"] = rng.random(n_demand) < 0.85
    area_sites = rng.choice(sold if len(sold) else kept, n_areas)
    areas = gpd.GeoDataFrame(
        {
            "requirement": [standards[i % len(standards)] for i in range(n_areas)],
            "site_id": area_sites,
            "minutes": [10.0 + 5 * (i % 3) for i in range(n_areas)],
            "today": True,
            "plan": rng.random(n_areas) < 0.5,
        },
        geometry=[Point(sites.geometry[s].x, sites.geometry[s].y).buffer(4000) for s in area_sites],
        crs="EPSG:27700",
    )
    coverage = pd.DataFrame(
        {
            "name": list(standards),
            "kind": "response",
            "service_types": [TYPE_OF_STANDARD[s] for s in standards],
            "minutes": [10.0, 15.0, 20.0][: len(standards)],
            "share_before": 0.85,
            "share_after": 0.85,
            "met": True,
        }
    )
    ledger = (
        sites.groupby("owner")
        .agg(receipts=("receipt", "sum"), capex=("capex", "sum"))
        .rename_axis("partner")
    )
    ledger["npv_gain"] = ledger["receipts"] - ledger["capex"] * 3
    totals = {
        "npv_saving": float(ledger["npv_gain"].sum()),
        "receipts": float(sites["receipt"].sum()),
        "capex": float(sites["capex"].sum()),
        "annual_saving": 1_000_000.0,
    }
    scenario = {
        "name": "county",
        "description": "A synthetic county partnership",
        "standards": [
            {"name": s, "label": STANDARD_LABELS[s], "service_types": [TYPE_OF_STANDARD[s]]}
            for s in standards
        ],
        "finance": {"horizon_years": 25, "discount_rate": 0.035},
    }
    return ScenarioResult(
        name="county",
        scenario=scenario,
        sites=sites,
        services=services,
        moves=moves,
        ledger=ledger,
        coverage=coverage,
        demand=demand,
        areas=areas,
        totals=totals,
        solve={"status": "time_limit", "solver": "highs", "gap": 0.384},
    )


# The financial year (its starting calendar year) of each change in the dated plan.
DECISION_YEARS = {"S2": 2028, "S3": 2029, "S5": 2027, "S7": 2027}
MOVE_YEARS = {"AMB1": 2028, "OFF1": 2029, "LIB1": 2027}


def dated_result(name: str = "programme") -> ScenarioResult:
    """The hand-made result with a decision year per changed site and a move year per move."""
    result = make_result(name)
    sites = result.sites.copy()
    # A nullable integer column for sites, a float one (NaN when unmoved) for services.
    sites["decision_year"] = pd.array([DECISION_YEARS.get(s) for s in sites.index], dtype="Int64")
    services = result.services.copy()
    services["move_year"] = [float(MOVE_YEARS.get(s, np.nan)) for s in services.index]
    return dataclasses.replace(result, sites=sites, services=services)
