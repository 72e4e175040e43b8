"""Tiny estates for the model and finance tests, small enough to solve by hand.

Money is simple on purpose: discount rate 0 and a 10-year horizon make the annuity factor
F = 10, so a site with running cost £10,000/yr costs £100,000 over the horizon.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from totalcapital.estate import Estate
from totalcapital.model import CoLocationModel
from totalcapital.network import TravelTimes
from totalcapital.scenario import Scenario

AS_OF = pd.Timestamp("2025-04-01")

_SITE_DEFAULTS: dict[str, Any] = {
    "owner": "COUNCIL",
    "tenure": "freehold",
    "status": "operational",
    "gia_m2": 100.0,
    "running_cost": 10_000.0,
    "market_value": 0.0,
    "easting": 450_000.0,
    "northing": 480_000.0,
}
_SERVICE_DEFAULTS: dict[str, Any] = {
    "org": "COUNCIL",
    "service_type": "council_office",
    "space_m2": 40.0,
    "staff": 0.0,
    "movable": True,
    "fit_out_cost_per_m2": 0.0,
}


def estate(sites: list[dict[str, Any]], services: list[dict[str, Any]]) -> Estate:
    """An estate from partial rows: each row needs only what differs from the defaults."""
    site_rows = [{"name": row["site_id"], **_SITE_DEFAULTS, **row} for row in sites]
    service_rows = [{**_SERVICE_DEFAULTS, **row} for row in services]
    return Estate.from_frames(pd.DataFrame(site_rows), pd.DataFrame(service_rows))


def scenario(**sections: Any) -> Scenario:
    """A scenario with F = 10 (rate 0, 10 years from 1 April 2025)."""
    finance = {
        "discount_rate": 0.0,
        "horizon_years": 10,
        "moving_cost_per_staff": 1500.0,
        "start_date": AS_OF.date(),
        "residual_value": False,
    }
    finance.update(sections.pop("finance", {}))
    return Scenario.model_validate({"name": "case", "finance": finance, **sections})


def two_sites(**site_b: Any) -> Estate:
    """Council sites A (£10k/yr, worth £100k) and B (£20k/yr, worth £200k), one service each.

    Either site can hold both services (40 + 40 <= 100 m2). Unconstrained, the best plan keeps
    A and sells B: 10 x 10,000 - 200,000 = -100,000; keeping B instead costs
    10 x 20,000 - 100,000 = 100,000; keeping both 300,000.
    """
    b = {"site_id": "B", "running_cost": 20_000.0, "market_value": 200_000.0, "easting": 460_000.0}
    b.update(site_b)
    return estate(
        [{"site_id": "A", "market_value": 100_000.0}, b],
        [
            {"service_id": "SA", "current_site": "A"},
            {"service_id": "SB", "current_site": "B"},
        ],
    )


def three_partners():
    """Fire's expensive site C can close only if police make room at B by moving to A.

    A (COUNCIL), B (POLICE, bays), C (FIRE, bays, 50,000/yr); 100 m2 each. SA 40 m2 (1 staff),
    SB 60 m2 (10 staff), SC 60 m2 fire. Selling C: SC -> B, SB -> A. Police pay 15,000 to move and
    60 m2/100 m2 x 10,000 x 10 = 60,000 rent at A, and receive 60,000 from fire: net -15,000.
    If the council's SA also moves into B (1,500), police receive 40,000 more: +25,000.
    """
    return estate(
        [
            {"site_id": "A", "owner": "COUNCIL"},
            {"site_id": "B", "owner": "POLICE", "appliance_bays": True},
            {"site_id": "C", "owner": "FIRE", "running_cost": 50_000.0, "appliance_bays": True},
        ],
        [
            {"service_id": "SA", "org": "COUNCIL", "current_site": "A", "staff": 1.0},
            {
                "service_id": "SB",
                "org": "POLICE",
                "current_site": "B",
                "space_m2": 60.0,
                "staff": 10.0,
                "service_type": "police_station",
            },
            {
                "service_id": "SC",
                "org": "FIRE",
                "current_site": "C",
                "space_m2": 60.0,
                "service_type": "fire_station",
            },
        ],
    )


def travel(
    site_ids: list[str], demand_ids: list[str], minutes: list[list[float]], **factors: float
) -> TravelTimes:
    """Hand-written travel times (sites x demand)."""
    matrix = np.asarray(minutes, dtype=float)
    return TravelTimes(
        site_ids,
        demand_ids,
        matrix,
        np.zeros((len(site_ids), len(site_ids))),
        "straight_line",
        blue_light_factor=dict(factors),
    )


def demand(weights: dict[str, float]):
    """Demand points (geometry is irrelevant: travel times are given by hand)."""
    import geopandas as gpd
    from shapely.geometry import Point

    return gpd.GeoDataFrame(
        {"weight": list(weights.values())},
        geometry=[Point(450_000, 480_000)] * len(weights),
        index=pd.Index(list(weights), name="demand_id"),
        crs="EPSG:27700",
    )


def solve(estate_: Estate, scenario_: Scenario, travel_=None, demand_=None) -> CoLocationModel:
    """Build and solve (lease breaks are judged from the scenario's start date)."""
    return CoLocationModel.from_estate(estate_, scenario_, travel_, demand_).solve()


def decisions(model: CoLocationModel) -> dict[str, str]:
    """site_id -> decision of a solved model."""
    return model.solution.site_decision.to_dict()


def placement(model: CoLocationModel) -> dict[str, str]:
    """service_id -> site_id of a solved model."""
    return model.solution.assignment.to_dict()
