"""A small, hand-made scenario result for the map and export tests.

Seven sites in and around a market town (British National Grid): a fire station
that hosts the ambulance service after the plan, a police station kept, an
ambulance station and a council office sold (the office is named like a script
injection, to prove that every view shows estate text as text), a leased office
whose lease is exited, a candidate blue-light centre not built and a new depot
that is built. Two services move. Six demand points show every change of cover
under the fire standard: covered, lost (two), gained and never covered.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from totalcapital.results import ScenarioResult

SCRIPT_NAME = "<script>alert(1)</script>"
# Markup that would run (an alert) if a page put it in as HTML rather than text.
IMAGE_COVENANT = "Break clause <img src=x onerror=alert(2)>"
COVENANTS = {"S3": "<b>housing</b> & local-government use only", "S5": IMAGE_COVENANT}

# site_id, name, owner, tenure, status, decision, easting, northing, receipt, exit_cost, capex
_SITES = [
    (
        "S1",
        "Malton Fire Station",
        "NYFRS",
        "freehold",
        "operational",
        "host",
        478900,
        471600,
        0.0,
        0.0,
        40_000.0,
    ),
    (
        "S2",
        "Malton Ambulance Station",
        "YAS",
        "freehold",
        "operational",
        "dispose",
        478300,
        471900,
        450_000.0,
        0.0,
        0.0,
    ),
    (
        "S3",
        SCRIPT_NAME,
        "RDC",
        "freehold",
        "operational",
        "dispose",
        478600,
        471300,
        1_250_000.0,
        0.0,
        0.0,
    ),
    (
        "S4",
        "Malton Police Station",
        "NYP",
        "freehold",
        "operational",
        "keep",
        478100,
        471400,
        0.0,
        0.0,
        25_000.0,
    ),
    (
        "S5",
        "Norton Leased Office",
        "NYCC",
        "leasehold",
        "operational",
        "exit_lease",
        479200,
        471100,
        0.0,
        30_000.0,
        0.0,
    ),
    (
        "S6",
        "Edge-of-town Blue Light Centre",
        "NYCC",
        "freehold",
        "candidate",
        "not_built",
        480500,
        472500,
        0.0,
        0.0,
        0.0,
    ),
    (
        "S7",
        "Pickering Road Depot",
        "NYCC",
        "freehold",
        "candidate",
        "build",
        477600,
        472800,
        0.0,
        0.0,
        900_000.0,
    ),
]

RECEIPTS = {site[0]: site[8] for site in _SITES}
DECISIONS = {site[0]: site[5] for site in _SITES}


def _sites() -> gpd.GeoDataFrame:
    rows = []
    for (
        sid,
        name,
        owner,
        tenure,
        status,
        decision,
        east,
        north,
        receipt,
        exit_cost,
        capex,
    ) in _SITES:
        kept = decision in {"host", "keep", "build"}
        rows.append(
            {
                "site_id": sid,
                "name": name,
                "owner": owner,
                "tenure": tenure,
                "status": status,
                "gia_m2": 1200.0,
                "running_cost": 0.0 if status == "candidate" else 80_000.0,
                "backlog_cost": 10_000.0,
                "market_value": receipt + 50_000.0 if receipt else 300_000.0,
                "covenant": COVENANTS.get(sid, ""),
                "listed": sid == "S4",
                "decision": decision,
                "space_used_m2": 900.0 if kept else 0.0,
                "space_free_m2": 300.0 if kept else 0.0,
                "services_hosted": "FIRE1;AMB1"
                if sid == "S1"
                else ("POL1;OFF1" if sid == "S4" else ""),
                "orgs_hosted": "NYFRS;YAS" if sid == "S1" else ("NYP;RDC" if sid == "S4" else ""),
                "receipt": receipt,
                "exit_cost": exit_cost,
                "capex": capex,
                "running_cost_after": 80_000.0 if kept else 0.0,
                "geometry": Point(east, north),
            }
        )
    return gpd.GeoDataFrame(rows, crs="EPSG:27700").set_index("site_id")


def _demand() -> gpd.GeoDataFrame:
    # demand_id, easting, northing, weight, fire before, fire after, ambulance before, after
    rows = [
        ("D1", 478800, 471500, 1500.0, True, True, True, True),
        ("D2", 478200, 472000, 900.0, True, False, True, True),
        ("D3", 477500, 472900, 400.0, False, True, False, True),
        ("D4", 481500, 473500, 250.0, False, False, False, False),
        ("D5", 478500, 471200, 2000.0, True, True, True, True),
        ("D6", 479400, 470900, 700.0, True, False, True, False),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "demand_id",
            "x",
            "y",
            "weight",
            "fire_10min_before",
            "fire_10min_after",
            "ambulance_15min_before",
            "ambulance_15min_after",
        ],
    )
    geometry = gpd.points_from_xy(frame.pop("x"), frame.pop("y"))
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:27700").set_index("demand_id")


def _areas(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = [
        ("fire_10min", "S1", 10.0, 1500.0),
        ("fire_10min", "S7", 10.0, 900.0),
        ("ambulance_15min", "S1", 15.0, 2500.0),
    ]
    return gpd.GeoDataFrame(
        {
            "requirement": [r[0] for r in rows],
            "site_id": [r[1] for r in rows],
            "minutes": [r[2] for r in rows],
        },
        geometry=[sites.geometry[r[1]].buffer(r[3]) for r in rows],
        crs="EPSG:27700",
    )


def _coverage() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["fire_10min", "ambulance_15min"],
            "kind": ["standard", "standard"],
            "service_types": ["fire_station", "ambulance_station"],
            "minutes": [10.0, 15.0],
            "rule": ["no_worse_than_today", "share"],
            "target_share": [float("nan"), 0.9],
            "weight_total": [5750.0, 5750.0],
            "weight_covered_before": [5100.0, 5100.0],
            "weight_covered_after": [3900.0, 4400.0],
            "share_before": [5100.0 / 5750.0, 5100.0 / 5750.0],
            "share_after": [3900.0 / 5750.0, 4400.0 / 5750.0],
            "met": [False, False],
        }
    )


def _ledger() -> pd.DataFrame:
    partners = ["NYCC", "NYFRS", "NYP", "RDC", "YAS"]
    frame = pd.DataFrame(
        {
            "partner": partners,
            "sites_disposed": [0, 0, 0, 1, 1],
            "leases_exited": [1, 0, 0, 0, 0],
            "receipts": [0.0, 0.0, 0.0, 1_250_000.0, 450_000.0],
            "running_cost_before": [80_000.0, 80_000.0, 80_000.0, 80_000.0, 80_000.0],
            "running_cost_after": [0.0, 40_000.0, 40_000.0, 40_000.0, 40_000.0],
            "annual_saving": [80_000.0, 40_000.0, 40_000.0, 40_000.0, 40_000.0],
            "rent_paid": [0.0, 0.0, 0.0, 40_000.0, 40_000.0],
            "rent_received": [0.0, 40_000.0, 40_000.0, 0.0, 0.0],
            "capex": [900_000.0, 40_000.0, 25_000.0, 0.0, 0.0],
            "lease_exit_costs": [30_000.0, 0.0, 0.0, 0.0, 0.0],
            "npv_gain": [350_000.0, 700_000.0, 680_000.0, 1_900_000.0, 1_100_000.0],
        }
    )
    return frame.set_index("partner")


def _moves() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "service_id": ["AMB1", "OFF1"],
            "org": ["YAS", "RDC"],
            "service_type": ["ambulance_station", "council_office"],
            "from_site": ["S2", "S3"],
            "to_site": ["S1", "S4"],
            "distance_km": [0.67, 0.51],
            "fit_out_cost": [30_000.0, 20_000.0],
            "moving_cost": [15_000.0, 12_000.0],
            "total_cost": [45_000.0, 32_000.0],
        }
    )


def _services() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "service_id": ["FIRE1", "AMB1", "POL1", "OFF1", "LIB1"],
            "org": ["NYFRS", "YAS", "NYP", "RDC", "NYCC"],
            "service_type": [
                "fire_station",
                "ambulance_station",
                "police_station",
                "council_office",
                "library",
            ],
            "current_site": ["S1", "S2", "S4", "S3", "S5"],
            "new_site": ["S1", "S1", "S4", "S4", "S7"],
            "moved": [False, True, False, True, True],
            "space_m2": [500.0, 300.0, 600.0, 300.0, 200.0],
        }
    )
    return frame.set_index("service_id")


def make_result(name: str = "colocate") -> ScenarioResult:
    """The hand-made result; ``name`` lets a comparison hold two of them."""
    sites = _sites()
    ledger = _ledger()
    totals = {
        "npv_cost_before": 9_000_000.0,
        "npv_cost_after": 4_270_000.0,
        "npv_saving": 4_730_000.0,
        "annual_saving": float(ledger["annual_saving"].sum()),
        "receipts": float(ledger["receipts"].sum()),
        "capex": float(ledger["capex"].sum()),
        "lease_exit_costs": float(ledger["lease_exit_costs"].sum()),
        "sites_disposed": 2,
        "leases_exited": 1,
        "sites_built": 1,
        "services_moved": 2,
    }
    return ScenarioResult(
        name=name,
        scenario={"name": name, "finance": {"horizon_years": 25, "discount_rate": 0.035}},
        sites=sites,
        services=_services(),
        moves=_moves(),
        ledger=ledger,
        coverage=_coverage(),
        demand=_demand(),
        areas=_areas(sites),
        totals=totals,
        solve={
            "status": "optimal",
            "solver": "highs",
            "solver_status": "Optimal",
            "objective": 4_270_000.0,
            "best_bound": 4_269_800.0,
            "gap": 0.00005,
            "build_seconds": 0.12,
            "solve_seconds": 0.48,
            "travel_method": "network",
        },
    )
