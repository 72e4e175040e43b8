"""Map and workbook output at county scale, against the textbook folium / pandas way.

A synthetic county partnership: 3,000 sites (a fifth disposed), 600 service moves,
5,000 demand points under 3 standards, 400 covered areas. Measured in the same run:

- ``scenario_map`` + ``write_map`` (one JSON object drawn by the page's script, Leaflet
  inside the page) against the same layers built the textbook way: one
  ``folium.CircleMarker`` with ``folium.Popup`` and ``folium.Tooltip`` per site and demand
  point, one ``folium.PolyLine`` per move, one ``folium.GeoJson`` per area;
- the page in headless Chromium (network off): seconds until it is drawn, symbols on
  screen (no two overlapping), and the slowest redraw of the sites zooming in to street level;
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
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from map_cases import STANDARDS, county_result  # noqa: E402

from totalcapital.exports import write_xlsx  # noqa: E402
from totalcapital.maps import scenario_map, write_map  # noqa: E402
from totalcapital.results import ScenarioResult  # noqa: E402


def synthetic_result(n_sites: int, n_demand: int, n_moves: int, n_areas: int) -> ScenarioResult:
    """A county-sized result around North Yorkshire, reproducible (seed 7)."""
    return county_result(n_sites, n_demand, n_moves, n_areas, seed=7)


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


def browser_figures(path: Path) -> dict[str, float]:
    """Chromium (network off): seconds until the map is drawn, symbols on screen, and the
    slowest redraw of the sites on zooming in step by step from the opening view."""
    from browser import launch, marker_boxes, open_map, overlapping_pairs
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            started = time.perf_counter()
            page, log = open_map(chromium, path, tiles="refuse", size=(1400, 900))
            page.wait_for_function("window.totalcapital && totalcapital.pages.length === 1")
            seconds = time.perf_counter() - started
            boxes = marker_boxes(page)
            if overlapping_pairs(boxes):
                raise RuntimeError("symbols overlap at the opening zoom")
            redraws = page.evaluate(
                """() => {
                    const pane = totalcapital.pages[0].panes[0];
                    const map = pane.map;
                    const times = [];
                    for (let zoom = map.getZoom() + 1; zoom <= 18; zoom++) {
                        const started = performance.now();
                        map.setZoom(zoom, {animate: false});
                        times.push(performance.now() - started);
                    }
                    return times;
                }"""
            )
            if log.errors:
                raise RuntimeError(f"map logged errors: {log.errors}")
        finally:
            chromium.close()
    return {
        "seconds": seconds,
        "symbols": len(boxes),
        "slowest_redraw_ms": max(redraws),
        "sites": sum(b["count"] for b in boxes),
    }


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

        def ours():
            return write_map(scenario_map(result), out / "ours.html")

        ours_s, ours_path = best_of(3, ours)
        ours_size = ours_path.stat().st_size

        def textbook():
            path = out / "textbook.html"
            textbook_map(result).save(str(path))
            return path

        book_s, book_path = best_of(1, textbook)
        book_size = book_path.stat().st_size
        print(f"map build+write, ours (offline): {ours_s:7.2f} s  {ours_size / 1e6:6.1f} MB")
        print(f"map build+write, textbook folium:{book_s:7.2f} s  {book_size / 1e6:6.1f} MB")
        print(
            f"  ratio textbook/ours: time {book_s / ours_s:.1f}x, size {book_size / ours_size:.1f}x"
        )
        seen = browser_figures(ours_path)
        print(
            f"Chromium, offline page drawn (1400 x 900): {seen['seconds']:.2f} s; "
            f"{seen['symbols']} symbols for {seen['sites']:,} sites, none overlapping; "
            f"slowest redraw zooming in: {seen['slowest_redraw_ms']:.0f} ms"
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
