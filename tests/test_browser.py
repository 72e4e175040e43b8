"""The maps as a person sees them: headless Chromium with the network shut off.

Chromium must be installed (CI installs it); when it is missing these tests fail.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from browser import TILE_HOST, open_map, take_screenshot
from playwright.sync_api import Page, expect
from result_fixture import IMAGE_COVENANT, RECEIPTS, SCRIPT_NAME, make_result

from totalcapital.maps import comparison_map, scenario_map, write_map

pytestmark = pytest.mark.browser

ODD_OWNER = "<i>NY&CC</i>"


@pytest.fixture(scope="session")
def maps_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("maps")
    result = make_result()
    write_map(scenario_map(result), folder / "cdn.html")
    write_map(scenario_map(result, tiles=False), folder / "inline.html", self_contained=True)
    write_map(scenario_map(result), folder / "inline_tiles.html", self_contained=True)
    result.sites.loc["S5", "owner"] = ODD_OWNER
    write_map(scenario_map(result, tiles=False), folder / "odd_owner.html", self_contained=True)
    return folder


# (file, Leaflet served from the installed files?, base tiles)
CASES = {
    "cdn_assets_served_locally": ("cdn.html", True, "blank"),
    "self_contained_every_request_refused": ("inline.html", False, "refuse"),
}


@pytest.fixture(params=list(CASES))
def opened(request, browser, maps_dir):
    file, serve_assets, tiles = CASES[request.param]
    page, log = open_map(browser, maps_dir / file, serve_assets=serve_assets, tiles=tiles)
    yield page, log
    page.close()


def count(page: Page, selector: str) -> int:
    return page.locator(selector).count()


def layer_checkbox(page: Page, label: str):
    return (
        page.locator(".leaflet-control-layers-overlays label")
        .filter(has_text=label)
        .locator("input")
    )


def test_map_draws_every_site_move_and_demand_point(opened):
    page, log = opened
    assert count(page, ".leaflet-container") == 1
    assert count(page, "path.tc-site") == 7
    assert count(page, "path.tc-decision-dispose") == 2
    assert count(page, "path.tc-decision-exit_lease") == 1
    assert count(page, "path.tc-move") == 2
    # Only the first standard's cover and area are shown at first.
    assert count(page, "path.tc-demand.tc-req-fire_10min") == 6
    assert count(page, "path.tc-demand.tc-req-ambulance_15min") == 0
    assert count(page, "path.tc-req-fire_10min.tc-cover-lost") == 2
    assert count(page, "path.tc-req-fire_10min.tc-cover-gained") == 1
    assert count(page, "path.tc-req-fire_10min.tc-cover-never") == 1
    assert count(page, "path.tc-req-fire_10min.tc-cover-covered") == 2
    assert count(page, "path.tc-area-fire_10min") == 2
    assert count(page, "path.tc-owner-site") == 0
    assert log.errors == []
    assert log.dialogs == []


def test_layers_switch_on_and_off(opened):
    page, log = opened
    layer_checkbox(page, "Sites: Disposed").click()
    assert count(page, "path.tc-decision-dispose") == 0
    assert count(page, "path.tc-site") == 5
    layer_checkbox(page, "Service moves").click()
    assert count(page, "path.tc-move") == 0
    layer_checkbox(page, "Partner: NYCC").click()
    assert count(page, "path.tc-owner-site.tc-owner-NYCC") == 3
    layer_checkbox(page, "Cover: ambulance_15min").click()
    assert count(page, "path.tc-req-ambulance_15min.tc-cover-lost") == 1
    layer_checkbox(page, "Sites: Disposed").click()
    assert count(page, "path.tc-decision-dispose") == 2
    assert log.errors == []


def test_popup_shows_the_sites_figures(opened):
    page, log = opened
    page.locator("path.tc-sid-S2").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(f"£{RECEIPTS['S2']:,.0f}")
    expect(popup).to_contain_text("Malton Ambulance Station")
    expect(popup).to_contain_text("Disposed (capital receipt)")
    expect(popup).to_contain_text("YAS")


def test_script_in_estate_text_shows_as_text(opened):
    page, log = opened
    page.locator("path.tc-sid-S3").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(SCRIPT_NAME)
    expect(popup).to_contain_text("<b>housing</b> & local-government use only")
    expect(popup).to_contain_text("£1,250,000")
    assert count(page, ".leaflet-popup-content b") == 0
    page.locator("path.tc-sid-S3").hover()
    expect(page.locator(".leaflet-tooltip")).to_contain_text(SCRIPT_NAME)
    page.locator("path.tc-sid-S5").click()
    lease_popup = page.locator(".leaflet-popup-content").filter(has_text="Norton Leased Office")
    expect(lease_popup).to_contain_text(IMAGE_COVENANT)
    assert count(page, ".leaflet-popup-content img") == 0
    assert log.dialogs == []
    assert log.errors == []


def test_partner_names_show_as_text_in_legend_and_layer_list(browser, maps_dir):
    page, log = open_map(browser, maps_dir / "odd_owner.html", serve_assets=False, tiles="refuse")
    expect(page.locator(".tc-legend")).to_contain_text(ODD_OWNER)
    expect(page.locator(".leaflet-control-layers")).to_contain_text(f"Partner: {ODD_OWNER} (1)")
    assert count(page, ".tc-legend i, .leaflet-control-layers i") == 0
    layer_checkbox(page, f"Partner: {ODD_OWNER}").click()
    assert count(page, "path.tc-owner-site") == 1
    assert log.errors == []
    page.close()


def test_legend_names_the_decisions_and_cover(opened):
    page, _ = opened
    legend = page.locator(".tc-legend")
    for text in ("Disposed (capital receipt)", "Lease exited", "Loses cover", "Gains cover"):
        expect(legend).to_contain_text(text)


def test_self_contained_map_requests_nothing(browser, maps_dir):
    page, log = open_map(browser, maps_dir / "inline.html", serve_assets=False, tiles="refuse")
    outside = [url for url in log.requests if not url.startswith(("file:", "data:"))]
    assert outside == []
    page.close()


def test_self_contained_map_with_tiles_shows_data_offline(browser, maps_dir):
    page, log = open_map(
        browser, maps_dir / "inline_tiles.html", serve_assets=False, tiles="refuse"
    )
    assert count(page, "path.tc-site") == 7
    assert count(page, "path.tc-move") == 2
    page.wait_for_load_state("load")
    # The only failures allowed are the refused base tiles.
    assert [
        e for e in log.errors if TILE_HOST not in e and "Failed to load resource" not in e
    ] == []
    outside = [
        u for u in log.requests if not u.startswith(("file:", "data:")) and TILE_HOST not in u
    ]
    assert outside == []
    page.close()


@pytest.mark.parametrize("self_contained", [False, True])
def test_comparison_map_shows_two_synchronised_panes(browser, tmp_path, self_contained):
    comparison = comparison_map(make_result("colocate"), make_result("dispose_more"), tiles=False)
    path = write_map(comparison, tmp_path / "compare.html", self_contained=self_contained)
    page, log = open_map(browser, path, serve_assets=not self_contained, tiles="refuse")
    assert count(page, ".leaflet-container") == 2
    panes = page.locator(".leaflet-container")
    assert panes.nth(0).locator("path.tc-site").count() == 7
    assert panes.nth(1).locator("path.tc-site").count() == 7
    expect(panes.nth(0).locator(".tc-title")).to_contain_text("colocate")
    expect(panes.nth(1).locator(".tc-title")).to_contain_text("dispose_more")
    left, right = comparison.m1.get_name(), comparison.m2.get_name()
    page.evaluate(f"{left}.setView([54.2, -0.75], 11, {{animate: false}})")
    centre = page.evaluate(f"[{right}.getCenter().lat, {right}.getCenter().lng, {right}.getZoom()]")
    assert centre == pytest.approx([54.2, -0.75, 11], abs=1e-6)
    assert log.errors == []
    page.close()


def test_screenshot_helper_writes_a_png(browser, tmp_path, maps_dir):
    png = take_screenshot(browser, maps_dir / "cdn.html", tmp_path / "map.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # Width and height from the IHDR chunk: the whole 1280 x 800 viewport.
    assert struct.unpack(">II", data[16:24]) == (1280, 800)
