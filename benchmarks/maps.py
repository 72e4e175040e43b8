"""Map and workbook output at county scale, against the textbook folium / pandas way.

A synthetic county partnership: 3,000 sites (a fifth disposed), 600 service moves,
5,000 demand points under 3 standards, 400 covered areas. Measured in the same run:

- ``scenario_map`` + ``write_map`` (features embedded as JSON, drawn by one loop) against
  the same layers built the textbook way: one ``folium.CircleMarker`` with
  ``folium.Popup`` and ``folium.Tooltip`` per site and demand point, one
  ``folium.PolyLine`` per move, one ``folium.GeoJson`` per area;
- the page in headless Chromium (network off): seconds until every marker is drawn;
- ``write_xlsx`` (formats, widths, summary) against ``DataFrame.to_excel`` of the same
  six tables with no formatting.

Usage::

    python benchmarks/maps.py            # county scale
    python benchmarks/maps.py --small    # a tenth of it
"""

from __future__ import annotations

import argparse
import html
import sys
import tempfile
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from totalcapital.exports import write_xlsx  # noqa: E402
from totalcapital.maps import scenario_map, write_map  # noqa: E402
from totalcapital.results import ScenarioResult  # noqa: E402

STANDARDS = ("fire_10min", "ambulance_15min", "police_20min")
DECISIONS = np.array(["keep", "host", "dispose", "exit_lease", "keep_vacant"])


def synthetic_result(n_sites: int, n_demand: int, n_moves: int, n_areas: int) -> ScenarioResult:
    """A county-sized result around North Yorkshire, reproducible (seed 7)."""
    rng = np.random.default_rng(7)
    east = rng.uniform(430_000, 510_000, n_sites)
    north = rng.uniform(440_000, 500_000, n_sites)
    decision = rng.choice(DECISIONS, n_sites, p=[0.5, 0.2, 0.2, 0.05, 0.05])
    owners = rng.choice(["NYCC", "RDC", "NYP", "NYFRS", "YAS", "NHS", "HDC", "SBC"], n_sites)
    ids = [f"S{i:05d}" for i in range(n_sites)]
    gone = np.isin(decision, ["dispose", "exit_lease"])
    sites = gpd.GeoDataFrame(
        {
            "site_id": ids,
            "name": [f"Site {i} <{o}>" for i, o in zip(range(n_sites), owners, strict=True)],
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
            "services_hosted": "A;B",
            "orgs_hosted": "NYCC;NYP",
            "receipt": np.where(decision == "dispose", rng.uniform(1e5, 3e6, n_sites), 0.0),
            "exit_cost": np.where(decision == "exit_lease", 25_000.0, 0.0),
            "capex": rng.uniform(0, 100_000, n_sites).round(-2),
            "running_cost_after": np.where(gone, 0.0, 50_000.0),
        },
        geometry=gpd.points_from_xy(east, north),
        crs="EPSG:27700",
    ).set_index("site_id")
    kept = [s for s, g in zip(ids, gone, strict=True) if not g]
    sold = [s for s, g in zip(ids, gone, strict=True) if g]
    moves = pd.DataFrame(
        {
            "service_id": [f"K{i:05d}" for i in range(n_moves)],
            "org": rng.choice(["NYCC", "NYP"], n_moves),
            "service_type": "council_office",
            "from_site": rng.choice(sold, n_moves),
            "to_site": rng.choice(kept, n_moves),
            "distance_km": rng.uniform(0.1, 20, n_moves),
            "fit_out_cost": 20_000.0,
            "moving_cost": 9_000.0,
            "total_cost": 29_000.0,
        }
    )
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"E01{i:06d}" for i in range(n_demand)],
            "weight": rng.uniform(1000, 2500, n_demand).round(),
        },
        geometry=gpd.points_from_xy(
            rng.uniform(430_000, 510_000, n_demand), rng.uniform(440_000, 500_000, n_demand)
        ),
        crs="EPSG:27700",
    ).set_index("demand_id")
    for name in STANDARDS:
        demand[f"{name}_before"] = rng.random(n_demand) < 0.85
        demand[f"{name}_after"] = rng.random(n_demand) < 0.85
    area_sites = rng.choice(kept, n_areas)
    areas = gpd.GeoDataFrame(
        {
            "requirement": [STANDARDS[i % 3] for i in range(n_areas)],
            "site_id": area_sites,
            "minutes": [10.0 + 5 * (i % 3) for i in range(n_areas)],
        },
        geometry=[Point(sites.geometry[s].x, sites.geometry[s].y).buffer(4000) for s in area_sites],
        crs="EPSG:27700",
    )
    coverage = pd.DataFrame(
        {
            "name": list(STANDARDS),
            "kind": "standard",
            "minutes": [10.0, 15.0, 20.0],
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
    totals = {"receipts": float(sites["receipt"].sum()), "capex": float(sites["capex"].sum())}
    return ScenarioResult(
        name="county",
        scenario={"name": "county"},
        sites=sites,
        services=pd.DataFrame(),
        moves=moves,
        ledger=ledger,
        coverage=coverage,
        demand=demand,
        areas=areas,
        totals=totals,
        solve={"status": "optimal", "solver": "highs"},
    )


def textbook_map(result: ScenarioResult) -> folium.Map:
    """The same layers, one folium object per feature (as most folium examples do)."""
    fmap = folium.Map(tiles=None)
    sites = result.sites.to_crs(4326)
    for decision, chosen in sites.groupby("decision"):
        group = folium.FeatureGroup(name=f"Sites: {decision}")
        for site_id, row in chosen.iterrows():
            popup = (
                f"<b>{html.escape(row['name'])}</b> ({site_id})<br>Owner {row['owner']}<br>"
                f"Receipt £{row['receipt']:,.0f}<br>Running cost £{row['running_cost']:,.0f}"
            )
            folium.CircleMarker(
                [row.geometry.y, row.geometry.x],
                radius=8,
                fill=True,
                popup=folium.Popup(popup),
                tooltip=folium.Tooltip(html.escape(row["name"])),
            ).add_to(group)
        group.add_to(fmap)
    moves = folium.FeatureGroup(name="Moves")
    for _, move in result.moves.iterrows():
        a, b = sites.geometry[move["from_site"]], sites.geometry[move["to_site"]]
        folium.PolyLine([[a.y, a.x], [b.y, b.x]], tooltip=move["service_id"]).add_to(moves)
    moves.add_to(fmap)
    demand = result.demand.to_crs(4326)
    for name in STANDARDS:
        group = folium.FeatureGroup(name=f"Cover: {name}", show=name == STANDARDS[0])
        for demand_id, row in demand.iterrows():
            folium.CircleMarker(
                [row.geometry.y, row.geometry.x],
                radius=4,
                tooltip=folium.Tooltip(f"{demand_id}: {row[f'{name}_after']}"),
            ).add_to(group)
        group.add_to(fmap)
    areas = result.areas.to_crs(4326)
    for name in STANDARDS:
        group = folium.FeatureGroup(name=f"Area: {name}", show=False)
        for _, area in areas[areas["requirement"] == name].iterrows():
            folium.GeoJson(area.geometry.simplify(0.0002).__geo_interface__).add_to(group)
        group.add_to(fmap)
    folium.LayerControl().add_to(fmap)
    fmap.fit_bounds([[54.0, -1.6], [54.5, -0.4]])
    return fmap


def best_of(repeats: int, action) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        value = action()
        best = min(best, time.perf_counter() - started)
    return best, value


def browser_seconds(path: Path, expected_paths: int) -> float:
    """Seconds from navigation until every shown marker and line is in the page."""
    from browser import launch, open_map
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            started = time.perf_counter()
            page, log = open_map(chromium, path, serve_assets=False, tiles="refuse")
            page.wait_for_function(
                f"document.querySelectorAll('path.leaflet-interactive').length >= {expected_paths}"
            )
            seconds = time.perf_counter() - started
            if log.errors:
                raise RuntimeError(f"map logged errors: {log.errors}")
        finally:
            chromium.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the county size")
    args = parser.parse_args()
    scale = 10 if args.small else 1
    sizes = (3000 // scale, 5000 // scale, 600 // scale, 400 // scale)
    result = synthetic_result(*sizes)
    print(
        f"synthetic result: {sizes[0]:,} sites, {sizes[1]:,} demand points x {len(STANDARDS)} "
        f"standards, {sizes[2]:,} moves, {sizes[3]:,} areas"
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)

        def ours(self_contained: bool):
            name = "inline.html" if self_contained else "ours.html"
            return write_map(
                scenario_map(result, tiles=False), out / name, self_contained=self_contained
            )

        ours_s, ours_path = best_of(3, lambda: ours(False))
        inline_s, inline_path = best_of(3, lambda: ours(True))
        inline_size = inline_path.stat().st_size
        ours_size = ours_path.stat().st_size

        def textbook():
            path = out / "textbook.html"
            textbook_map(result).save(str(path))
            return path

        book_s, book_path = best_of(1, textbook)
        book_size = book_path.stat().st_size
        print(f"map build+write, ours:           {ours_s:7.2f} s  {ours_size / 1e6:6.1f} MB")
        print(f"map build+write, self-contained: {inline_s:7.2f} s  {inline_size / 1e6:6.1f} MB")
        print(f"map build+write, textbook folium:{book_s:7.2f} s  {book_size / 1e6:6.1f} MB")
        print(
            f"  ratio textbook/ours: time {book_s / ours_s:.1f}x, size {book_size / ours_size:.1f}x"
        )

        gone = result.sites["decision"].isin(["dispose", "exit_lease"]).sum()
        shown = (
            len(result.sites)
            + len(result.moves)
            + len(result.demand)
            + (result.areas["requirement"] == STANDARDS[0]).sum()
        )
        seconds = browser_seconds(inline_path, int(shown))
        print(
            f"Chromium, self-contained page until all {shown:,} shown paths are drawn: "
            f"{seconds:.2f} s ({gone:,} of them hollow disposed sites)"
        )

        xlsx_s, _ = best_of(3, lambda: write_xlsx(result, out / "ours.xlsx"))

        def plain_excel():
            with pd.ExcelWriter(out / "plain.xlsx", engine="openpyxl") as writer:
                pd.DataFrame([result.totals]).to_excel(writer, sheet_name="summary")
                result.disposals.to_excel(writer, sheet_name="disposals")
                result.moves.to_excel(writer, sheet_name="moves")
                result.ledger.to_excel(writer, sheet_name="ledger")
                result.coverage.to_excel(writer, sheet_name="coverage")
                pd.DataFrame(result.sites.drop(columns="geometry")).to_excel(
                    writer, sheet_name="sites"
                )

        plain_s, _ = best_of(3, plain_excel)
        print(f"xlsx, write_xlsx:                {xlsx_s:7.2f} s")
        print(f"xlsx, DataFrame.to_excel:        {plain_s:7.2f} s")
        print(f"  ratio write_xlsx/to_excel: {xlsx_s / plain_s:.2f}x")


if __name__ == "__main__":
    main()
