"""Write the demo estate ``malton.gpkg``: Malton (Ryedale) and its neighbours.

Modelled on the Ryedale sites project of the North Yorkshire Total Place paper: six
public sites side by side on Old Malton Road, a fire station elsewhere in town on a
site with poor access, a town-centre council building that could become a joint front
office, a candidate edge-of-town blue-light hub, a district council HQ covenanted to
housing or local-government use, leasehold sites with break dates, and the market towns
and villages around. Locations are approximate; every cost and value is illustrative.

Run ``python data/estates/make_demo.py`` to rebuild the file.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

HERE = Path(__file__).resolve().parent
BNG = "EPSG:27700"


def _plot(x: float, y: float, width: float = 60, depth: float = 40):
    """A rectangular plot centred on (x, y), for the sites whose footprint matters."""
    return box(x - width / 2, y - depth / 2, x + width / 2, y + depth / 2)


# fmt: off
# site_id, name, owner, tenure, status, gia_m2, running_cost, backlog_cost, market_value,
# disposal_cost, lease_break, lease_exit_cost, build_cost, covenant, covenant_receipt_cap,
# listed, appliance_bays, ambulance_bays, public_counter, geometry, notes
SITES = [
    # The Old Malton Road cluster: six public sites side by side.
    ("OMR-SCH1", "Malton Community Primary School", "NYCC", "freehold", "operational",
     1800, 210_000, 150_000, 1_600_000, 40_000, None, 0, 0, "", None, False,
     False, False, False, _plot(479_280, 472_080, 90, 60), "Old Malton Road cluster"),
    ("OMR-SCH2", "St Mary's Primary School", "NYCC", "freehold", "operational",
     1500, 180_000, 220_000, 1_400_000, 40_000, None, 0, 0, "", None, False,
     False, False, False, _plot(479_380, 472_080, 80, 60), "Old Malton Road cluster"),
    ("OMR-AMB", "Malton Ambulance Station", "YAS", "freehold", "operational",
     420, 58_000, 180_000, 550_000, 20_000, None, 0, 0, "", None, False,
     False, True, False, _plot(479_470, 472_120, 50, 40), "Old Malton Road cluster"),
    ("OMR-CARE", "Riverside View Care Home", "NYCC", "freehold", "operational",
     1400, 190_000, 90_000, 1_200_000, 40_000, None, 0, 0, "", None, False,
     False, False, False, _plot(479_540, 472_160, 70, 50), "Old Malton Road cluster"),
    ("OMR-RDCHQ", "Ryedale House (district council HQ)", "RDC", "freehold", "operational",
     3200, 340_000, 1_600_000, 2_400_000, 60_000, None, 0, 0,
     "Housing or local government use only", 1_500_000, False,
     False, False, True, _plot(479_330, 472_000, 90, 50), "Old Malton Road cluster"),
    ("OMR-POLH", "Old Malton Road police houses", "NYP", "freehold", "surplus",
     400, 22_000, 60_000, 480_000, 15_000, None, 0, 0, "", None, False,
     False, False, False, _plot(479_430, 472_010, 50, 30), "Old Malton Road cluster; empty"),
    ("OMR-POL", "Malton Police Station", "NYP", "freehold", "operational",
     900, 125_000, 380_000, 1_050_000, 30_000, None, 0, 0, "", None, False,
     False, False, True, _plot(479_500, 472_040, 60, 40), "Old Malton Road cluster"),
    # Malton and Norton town.
    ("MAL-FIRE", "Malton Fire Station", "NYFRS", "freehold", "operational",
     650, 95_000, 1_150_000, 700_000, 25_000, None, 0, 0, "", None, False,
     True, False, False, Point(478_930, 471_560),
     "Town centre site with poor access for appliances"),
    ("MAL-TCO", "Wentworth Street Offices", "NYCC", "freehold", "operational",
     2600, 160_000, 180_000, 1_300_000, 30_000, None, 0, 0, "", None, True,
     False, False, True, Point(478_420, 471_880),
     "Town-centre building with space for a joint front office"),
    ("MAL-LIB", "Malton Library", "NYCC", "leasehold", "operational",
     320, 48_000, 0, 0, 0, "2028-03-31", 35_000, 0, "", None, False,
     False, False, True, Point(478_640, 471_690), "Leased shop unit"),
    ("MAL-CSP", "Ryedale Customer Services, Market Place", "RDC", "leasehold", "operational",
     180, 36_000, 0, 0, 0, "2027-09-30", 20_000, 0, "", None, False,
     False, False, True, Point(478_560, 471_760), "Leased office"),
    ("MAL-NHS", "Malton Community Health Offices", "NHS", "leasehold", "operational",
     600, 84_000, 0, 0, 0, "2030-03-31", 60_000, 0, "", None, False,
     False, False, False, Point(478_100, 471_980), "Leased offices"),
    ("MAL-HOSP", "Malton Community Hospital", "NHS", "freehold", "operational",
     4200, 620_000, 800_000, 3_000_000, 80_000, None, 0, 0, "", None, True,
     False, False, True, Point(478_020, 472_080), "Listed main building"),
    ("NOR-LIB", "Norton Library", "NYCC", "freehold", "operational",
     220, 30_000, 65_000, 260_000, 12_000, None, 0, 0, "", None, False,
     False, False, True, Point(479_260, 471_290), ""),
    ("NOR-DEPOT", "Norton Highways Depot", "NYCC", "freehold", "surplus",
     900, 28_000, 40_000, 650_000, 30_000, None, 0, 0, "", None, False,
     False, False, False, Point(479_820, 470_720), "Empty since the depot moved"),
    ("MAL-HUB", "Norton Grove blue-light hub (proposed)", "NYFRS", "freehold", "candidate",
     2000, 75_000, 0, 0, 0, None, 0, 2_400_000, "", None, False,
     True, True, True, _plot(480_600, 470_400, 100, 70),
     "Candidate edge-of-town fast response centre on the Norton side, by the A64 junction"),
    # Neighbouring market towns.
    ("PIC-FIRE", "Pickering Fire Station", "NYFRS", "freehold", "operational",
     480, 70_000, 120_000, 420_000, 20_000, None, 0, 0, "", None, False,
     True, False, False, Point(479_600, 483_900), ""),
    ("PIC-POL", "Pickering Police Station", "NYP", "freehold", "operational",
     520, 72_000, 260_000, 520_000, 20_000, None, 0, 0, "", None, False,
     False, False, True, Point(479_930, 484_180), ""),
    ("PIC-AMB", "Pickering Ambulance Station", "YAS", "leasehold", "operational",
     260, 34_000, 0, 0, 0, "2029-06-30", 25_000, 0, "", None, False,
     False, True, False, Point(479_700, 484_350), "Leased yard and crew room"),
    ("PIC-LIB", "Pickering Library", "NYCC", "freehold", "operational",
     380, 46_000, 90_000, 380_000, 15_000, None, 0, 0, "", None, False,
     False, False, True, Point(480_020, 483_820), ""),
    ("PIC-CSP", "Pickering Council Office", "RDC", "freehold", "operational",
     240, 30_000, 45_000, 300_000, 12_000, None, 0, 0, "", None, False,
     False, False, True, Point(479_850, 483_980), ""),
    ("KIR-FIRE", "Kirkbymoorside Fire Station", "NYFRS", "freehold", "operational",
     300, 42_000, 70_000, 240_000, 12_000, None, 0, 0, "", None, False,
     True, False, False, Point(469_720, 486_560), "Retained duty system"),
    ("HEL-FIRE", "Helmsley Fire Station", "NYFRS", "freehold", "operational",
     280, 40_000, 60_000, 260_000, 12_000, None, 0, 0, "", None, False,
     True, False, False, Point(461_300, 483_700), "Retained duty system"),
    ("HEL-POL", "Helmsley Police Office", "NYP", "leasehold", "operational",
     120, 21_000, 0, 0, 0, "2031-12-31", 15_000, 0, "", None, False,
     False, False, True, Point(461_180, 483_900), "Leased office"),
]

SITE_COLUMNS = [
    "site_id", "name", "owner", "tenure", "status", "gia_m2", "running_cost", "backlog_cost",
    "market_value", "disposal_cost", "lease_break", "lease_exit_cost", "build_cost", "covenant",
    "covenant_receipt_cap", "listed", "appliance_bays", "ambulance_bays", "public_counter",
    "geometry", "notes",
]

# service_id, org, service_type, current_site, space_m2, staff, public_facing, movable,
# fit_out_cost_per_m2, max_move_km
SERVICES = [
    ("SCH-MALTON", "NYCC", "school", "OMR-SCH1", 1700, 45, True, False, 0, None),
    ("SCH-STMARY", "NYCC", "school", "OMR-SCH2", 1400, 38, True, False, 0, None),
    ("AMB-MALTON", "YAS", "ambulance_station", "OMR-AMB", 380, 28, False, True, 900, 8),
    ("CARE-RIVERSIDE", "NYCC", "care_home", "OMR-CARE", 1350, 60, False, False, 0, None),
    ("RDC-HQ", "RDC", "council_office", "OMR-RDCHQ", 1500, 160, False, True, 450, 10),
    ("POL-MALTON", "NYP", "police_station", "OMR-POL", 700, 55, False, True, 800, 8),
    ("POL-MALTON-DESK", "NYP", "police_counter", "OMR-POL", 40, 2, True, True, 600, 5),
    ("FIRE-MALTON", "NYFRS", "fire_station", "MAL-FIRE", 560, 30, False, True, 1_100, 6),
    ("NYCC-AREA", "NYCC", "council_office", "MAL-TCO", 500, 48, False, True, 450, 10),
    ("LIB-MALTON", "NYCC", "library", "MAL-LIB", 300, 6, True, True, 700, 3),
    ("RDC-CSP", "RDC", "customer_service", "MAL-CSP", 160, 8, True, True, 600, 3),
    ("NHS-COMMUNITY", "NHS", "community_health", "MAL-NHS", 550, 40, False, True, 650, 10),
    ("NHS-HOSPITAL", "NHS", "hospital", "MAL-HOSP", 3900, 210, True, False, 0, None),
    ("LIB-NORTON", "NYCC", "library", "NOR-LIB", 200, 3, True, True, 700, 3),
    ("FIRE-PICKERING", "NYFRS", "fire_station", "PIC-FIRE", 420, 16, False, True, 1_100, 3),
    ("POL-PICKERING", "NYP", "police_station", "PIC-POL", 380, 24, False, True, 800, 3),
    ("POL-PICKERING-DESK", "NYP", "police_counter", "PIC-POL", 30, 1, True, True, 600, 3),
    ("AMB-PICKERING", "YAS", "ambulance_station", "PIC-AMB", 240, 14, False, True, 900, 3),
    ("LIB-PICKERING", "NYCC", "library", "PIC-LIB", 300, 5, True, True, 700, 3),
    ("RDC-PICKERING", "RDC", "customer_service", "PIC-CSP", 120, 4, True, True, 600, 3),
    ("FIRE-KIRKBY", "NYFRS", "fire_station", "KIR-FIRE", 260, 12, False, True, 1_100, 3),
    ("FIRE-HELMSLEY", "NYFRS", "fire_station", "HEL-FIRE", 250, 12, False, True, 1_100, 3),
    ("POL-HELMSLEY", "NYP", "police_counter", "HEL-POL", 100, 3, True, True, 600, 3),
]

SERVICE_COLUMNS = [
    "service_id", "org", "service_type", "current_site", "space_m2", "staff", "public_facing",
    "movable", "fit_out_cost_per_m2", "max_move_km",
]

# Towns and villages of Ryedale with approximate populations: where the public lives.
DEMAND = [
    ("MALTON-N", "Malton north", 478_400, 472_200, 2_400),
    ("MALTON-S", "Malton south", 478_700, 471_600, 2_500),
    ("OLD-MALTON", "Old Malton", 479_600, 472_600, 900),
    ("NORTON-W", "Norton west", 479_000, 471_000, 3_600),
    ("NORTON-E", "Norton east", 479_900, 470_900, 3_800),
    ("PICKERING-N", "Pickering north", 479_700, 484_600, 3_400),
    ("PICKERING-S", "Pickering south", 479_900, 483_500, 3_400),
    ("KIRKBYMOORSIDE", "Kirkbymoorside", 469_700, 486_700, 2_700),
    ("HELMSLEY", "Helmsley", 461_200, 483_900, 1_500),
    ("NAWTON", "Nawton and Beadlam", 465_800, 484_800, 1_200),
    ("AMPLEFORTH", "Ampleforth", 458_300, 478_600, 1_000),
    ("HOVINGHAM", "Hovingham", 466_700, 475_600, 400),
    ("SLINGSBY", "Slingsby", 469_900, 474_900, 650),
    ("AMOTHERBY", "Amotherby and Swinton", 474_900, 473_400, 1_000),
    ("RILLINGTON", "Rillington", 485_300, 474_300, 1_100),
    ("SHERBURN", "Sherburn", 495_900, 477_000, 1_100),
    ("THORNTON-DALE", "Thornton-le-Dale", 483_300, 482_900, 1_500),
    ("SHERIFF-HUTTON", "Sheriff Hutton", 465_200, 466_400, 1_000),
    ("TERRINGTON", "Terrington", 467_000, 470_700, 500),
    ("LEAVENING", "Leavening and Acklam", 478_400, 463_300, 600),
    ("SETTRINGTON", "Settrington", 483_900, 470_300, 700),
    ("KIRBY-MISPERTON", "Kirby Misperton", 477_900, 479_200, 400),
    ("HUTTONS-AMBO", "Huttons Ambo", 476_200, 467_900, 450),
    ("WHITWELL", "Whitwell and Westow", 475_200, 465_400, 500),
    ("GILLING", "Gilling East", 461_500, 476_900, 400),
    ("SINNINGTON", "Sinnington", 474_500, 486_000, 600),
    ("WINTRINGHAM", "Wintringham", 488_800, 473_200, 300),
]

# fmt: on


# Dated programme details: when leases end (they may also be given up at their break) and how
# long the hub takes to build before it can host.
LEASE_ENDS = {"MAL-LIB": "2033-03-31", "PIC-AMB": "2031-03-31", "HEL-POL": "2036-12-31"}
BUILD_YEARS = {"MAL-HUB": 2}


def build(path: Path = HERE / "malton.gpkg") -> Path:
    sites = pd.DataFrame(SITES, columns=SITE_COLUMNS)
    sites.insert(
        SITE_COLUMNS.index("lease_exit_cost"), "lease_end", sites["site_id"].map(LEASE_ENDS)
    )
    sites.insert(
        SITE_COLUMNS.index("build_cost") + 1, "build_years", sites["site_id"].map(BUILD_YEARS)
    )
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=BNG)
    services = pd.DataFrame(SERVICES, columns=SERVICE_COLUMNS)
    demand = pd.DataFrame(DEMAND, columns=["demand_id", "name", "x", "y", "population"])
    demand = gpd.GeoDataFrame(
        demand.drop(columns=["x", "y"]),
        geometry=gpd.points_from_xy(demand["x"], demand["y"]),
        crs=BNG,
    )
    if path.exists():
        path.unlink()
    sites.to_file(path, layer="sites", driver="GPKG", engine="pyogrio")
    # Services have no geometry: they sit at their site. GeoPackage stores them as a table.
    gpd.GeoDataFrame(services).to_file(path, layer="services", driver="GPKG", engine="pyogrio")
    demand.to_file(path, layer="demand", driver="GPKG", engine="pyogrio")
    return path


if __name__ == "__main__":
    print(f"Wrote {build()}")
