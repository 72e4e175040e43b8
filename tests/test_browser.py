"""The maps as a person sees them: headless Chromium with the network shut off.

Every demo scenario and a synthetic county of 3,000 sites are opened at two screen
sizes; symbols are measured on screen, clicked with the mouse, printed to PDF.
Chromium must be installed (CI installs it); when it is missing these tests fail.
"""

from __future__ import annotations

import dataclasses
import io
import re
import struct
from pathlib import Path

import pytest
from browser import (
    TILE_HOST,
    click_site,
    click_visible,
    colour_distance,
    hover_path,
    legend_keys,
    marker_boxes,
    open_map,
    overlapping_pairs,
    reset_view,
    take_screenshot,
)
from map_cases import county_result, dated_result
from playwright.sync_api import Page, expect
from result_fixture import IMAGE_COVENANT, RECEIPTS, SCRIPT_NAME, make_result

from totalcapital.maps import comparison_map, scenario_map, write_map
from totalcapital.pipeline import run_scenario
from totalcapital.scenario import load_scenario

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
DEMOS = ("baseline", "colocate", "blue-light-hub")
SIZES = {"1400x900": (1400, 900), "1024x768": (1024, 768)}
ODD_OWNER = "<i>NY&CC</i>"
# Least CIEDE2000 difference between colours that mean different things in one legend.
DISTINCT = 10.0


@pytest.fixture(scope="session")
def demos(tmp_path_factory) -> dict[str, tuple]:
    """Each demo scenario solved on the bundled estate: (result, map file)."""
    folder = tmp_path_factory.mktemp("demos")
    found = {}
    for name in DEMOS:
        result, _ = run_scenario(load_scenario(ROOT / "scenarios" / f"{name}.yaml"))
        found[name] = (result, write_map(scenario_map(result), folder / f"{name}.html"))
    return found


@pytest.fixture(scope="session")
def county(tmp_path_factory):
    result = county_result(3000, 2000, 300, 60)
    path = write_map(scenario_map(result), tmp_path_factory.mktemp("county") / "county.html")
    return result, path


@pytest.fixture(scope="session")
def maps_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("maps")
    result = make_result()
    write_map(scenario_map(result), folder / "plain.html")
    write_map(scenario_map(result, tiles=True), folder / "tiles.html")
    write_map(scenario_map(dated_result()), folder / "dated.html")
    result.sites.loc["S5", "owner"] = ODD_OWNER
    write_map(scenario_map(result), folder / "odd_owner.html")
    return folder


def count(page: Page, selector: str) -> int:
    return page.locator(selector).count()


def outside_requests(log) -> list[str]:
    return [url for url in log.requests if not url.startswith(("file:", "data:"))]


def check_no_overlap(page: Page, sites: int) -> list[dict]:
    boxes = marker_boxes(page)
    assert overlapping_pairs(boxes) == []
    assert all(b["inside"] for b in boxes), "a symbol sticks out of the map at the opening zoom"
    # Every site is on screen, alone or counted in a cluster that opens on a click.
    assert sum(b["count"] for b in boxes) == sites
    return boxes


# --------------------------------------------------------------------------- readable


@pytest.mark.parametrize("demo", DEMOS)
def test_demo_symbols_never_overlap_at_the_opening_zoom(browser, demos, demo):
    result, path = demos[demo]
    page, log = open_map(browser, path, size=SIZES["1400x900"])
    for size in SIZES.values():
        # The opening view of a window of this size.
        page.set_viewport_size({"width": size[0], "height": size[1]})
        reset_view(page)
        boxes = check_no_overlap(page, len(result.sites))
        # The Old Malton Road sites stand within 150 m of each other: one cluster, not a knot.
        assert any(b["count"] > 1 for b in boxes)
    assert log.errors == []
    page.close()


def test_county_symbols_never_overlap_at_the_opening_zoom(browser, county):
    result, path = county
    page, log = open_map(browser, path, size=SIZES["1400x900"])
    for size in SIZES.values():
        page.set_viewport_size({"width": size[0], "height": size[1]})
        reset_view(page)
        boxes = check_no_overlap(page, len(result.sites))
        assert len(boxes) > 20
    assert log.errors == []
    page.close()


def internal_ids(result) -> set[str]:
    """Ids and keys that must not show where a name exists."""
    ids = {str(s) for s in result.sites.index}
    ids |= {str(s) for s in result.services.index}
    ids |= {str(t) for t in result.services["service_type"]}
    ids |= {str(n) for n in result.coverage["name"]}
    if result.demand is not None and "name" in result.demand:
        ids |= {str(d) for d in result.demand.index}
    return ids


def shown_ids(text: str, ids: set[str]) -> set[str]:
    return {i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)}


@pytest.mark.parametrize("demo", DEMOS)
def test_every_demo_site_opens_its_own_popup_and_names_not_ids(browser, demos, demo):
    result, path = demos[demo]
    page, log = open_map(browser, path, size=(1024, 768))
    ids = internal_ids(result)
    texts = [page.locator("body").inner_text()]
    for position, name in enumerate(result.sites["name"]):
        assert click_site(page, position) == name
        texts.append(page.locator(".leaflet-popup-content").inner_text())
    assert shown_ids("\n".join(texts), ids) == set()
    assert log.errors == []
    page.close()


def test_county_sites_open_their_own_popups(browser, county):
    result, path = county
    page, log = open_map(browser, path, size=(1400, 900))
    xy = result.sites.geometry.get_coordinates()
    shared = xy.duplicated(keep=False)
    sample = [
        *range(0, len(result.sites), 599),
        *(int(i) for i in shared.to_numpy().nonzero()[0][:3]),
    ]
    for position in sample:
        assert click_site(page, position) == result.sites["name"].iloc[position]
    assert log.errors == []
    page.close()


def test_sites_on_one_spot_spread_round_their_cluster(browser, tmp_path):
    result = make_result()
    result.sites.loc["S4", "geometry"] = result.sites.loc["S1", "geometry"]
    path = write_map(scenario_map(result), tmp_path / "same_spot.html")
    page, log = open_map(browser, path)
    page.evaluate(
        "(() => { const p = totalcapital.pages[0].panes[0];"
        " p.map.setView(p.data.sites.at[0], 18, {animate: false}); })()"
    )
    boxes = marker_boxes(page)
    (together,) = [b for b in boxes if b["count"] == 2]
    page.mouse.click(together["x"] + together["w"] / 2, together["y"] + together["h"] / 2)
    spread = [b for b in marker_boxes(page) if b["site"] in (0, 3)]
    assert len(spread) == 2
    assert overlapping_pairs(spread) == []
    assert count(page, "path.tc-leg") == 2
    assert click_site(page, 3) == "Malton Police Station"
    assert log.errors == []
    page.close()


# --------------------------------------------------------------------------- symbols and legend


def assert_distinct_colours(keys) -> None:
    clashes = []
    for k, (text_a, colours_a) in enumerate(keys):
        for text_b, colours_b in keys[k + 1 :]:
            if text_a == text_b:
                continue
            for a in colours_a:
                for b in colours_b:
                    if colour_distance(a, b) < DISTINCT:
                        clashes.append((text_a, text_b, a, b))
    assert clashes == []


def test_legend_never_gives_one_colour_two_meanings(browser, demos, county):
    result, path = demos["blue-light-hub"]
    page, _ = open_map(browser, path)
    plan = legend_keys(page)
    assert_distinct_colours(plan)
    texts = [t for t, _ in plan]
    for meaning in ("Sold (capital receipt)", "New build", "Loses cover", "Gains cover"):
        assert meaning in texts
    # Decisions and cover carry colour; building types are drawn in black and white.
    assert all(colours for t, colours in plan if t in ("Sold (capital receipt)", "Loses cover"))
    assert not any(colours for t, colours in plan if t == "Fire station")
    page.locator(".tc-view-today").click()
    assert_distinct_colours(legend_keys(page))
    assert "In use today" in [t for t, _ in legend_keys(page)]
    page.locator(".tc-toggle-partners input").check()
    partners = legend_keys(page)
    assert_distinct_colours(partners)
    assert {t for t, c in partners if c} >= {"NYFRS", "YAS", "NHS"}
    page.close()
    page, _ = open_map(browser, county[1])
    page.locator(".tc-toggle-partners input").check()
    assert_distinct_colours(legend_keys(page))
    page.close()


def test_building_types_have_their_own_symbols(browser, demos):
    result, path = demos["blue-light-hub"]
    page, _ = open_map(browser, path)
    legend = page.locator(".tc-legend")
    for label in ("Fire station", "Police station", "Ambulance station", "Library", "School"):
        expect(legend).to_contain_text(label)
    # Each type's glyph is its own shape.
    glyphs = page.evaluate(
        """() => Array.from(document.querySelectorAll('.tc-key-type')).map(
            (row) => (row.querySelector('path') || row.querySelector('text') || {}).outerHTML)"""
    )
    assert len(set(glyphs)) == len(glyphs)
    page.close()


# --------------------------------------------------------------------------- plain English


def test_title_summary_and_tooltips_speak_plain_english(browser, demos):
    result, path = demos["blue-light-hub"]
    page, _ = open_map(browser, path)
    expect(page.locator(".tc-title h1")).to_have_text(result.scenario["description"])
    summary = page.locator(".tc-summary")
    for text in ("NPV saving", "Capital receipts", "Capital spend", "Annual running-cost saving"):
        expect(summary).to_contain_text(text)
    # NYFRS pays for the hub and loses over the horizon; the panel says so.
    expect(page.locator(".tc-summary .tc-loss")).to_contain_text("NYFRS")
    expect(page.locator(".tc-summary .tc-solver")).to_contain_text("Best plan, proven")
    expect(page.locator(".tc-requirements")).to_contain_text("Fire engine within 10 minutes")
    ids = internal_ids(result)
    page.evaluate(
        "void totalcapital.pages[0].panes[0].map.setView([54.137, -0.79], 14, {animate: false})"
    )
    texts = []
    for selector in ("path.tc-move", "path.tc-demand", "path.tc-area"):
        hover_path(page, selector)
        tip = page.locator(".leaflet-tooltip").last
        expect(tip).to_be_visible()
        texts.append(tip.inner_text())
        page.mouse.move(5, 5)
    click_visible(page, ".tc-arrow")
    texts.append(page.locator(".leaflet-popup-content").inner_text())
    assert "moves" in texts[-1]
    assert shown_ids("\n".join(texts), ids) == set()
    page.close()


def test_script_in_estate_text_shows_as_text(browser, maps_dir):
    page, log = open_map(browser, maps_dir / "plain.html")
    assert click_site(page, 2) == SCRIPT_NAME
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("<b>housing</b> & local-government use only")
    expect(popup).to_contain_text("£1,250,000")
    assert count(page, ".leaflet-popup-content b") == 0
    reset_view(page)
    assert click_site(page, 4) == "Norton Leased Office"
    expect(page.locator(".leaflet-popup-content")).to_contain_text(IMAGE_COVENANT)
    assert count(page, ".leaflet-popup-content img") == 0
    assert log.dialogs == []
    assert log.errors == []
    page.close()


def test_partner_names_show_as_text(browser, maps_dir):
    page, log = open_map(browser, maps_dir / "odd_owner.html")
    page.locator(".tc-toggle-partners input").check()
    expect(page.locator(".tc-legend")).to_contain_text(ODD_OWNER)
    assert count(page, ".tc-legend i") == 0
    assert log.errors == []
    page.close()


def test_popup_shows_the_sites_figures(browser, maps_dir):
    page, _ = open_map(browser, maps_dir / "plain.html")
    assert click_site(page, 1) == "Malton Ambulance Station"
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(f"£{RECEIPTS['S2']:,.0f}")
    expect(popup).to_contain_text("Sold (capital receipt)")
    expect(popup).to_contain_text("Ambulance station (YAS), moves to Malton Fire Station")
    # The click leaves no black focus rectangle round the symbol (keyboard focus still shows).
    assert page.evaluate("document.activeElement.classList.contains('tc-marker')")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "none"
    # A plan without years has no year slider.
    assert count(page, ".tc-years") == 0
    page.close()


# --------------------------------------------------------------------------- before and after


def state_of(page: Page, site: int) -> str:
    classes = page.locator(f".tc-marker[data-site='{site}']").get_attribute("class")
    return re.search(r"tc-state-(\S+)", classes)[1]


def test_today_and_plan_switch_sites_cover_and_areas(browser, maps_dir):
    page, log = open_map(browser, maps_dir / "plain.html")
    page.evaluate("void totalcapital.pages[0].panes[0].map.setZoom(15, {animate: false})")
    assert state_of(page, 1) == "dispose"
    assert count(page, "path.tc-move") == 2
    assert count(page, "path.tc-demand.tc-cover-lost") == 2
    page.locator(".tc-view-today").click()
    assert state_of(page, 1) == "today-operational"
    assert state_of(page, 6) == "today-candidate"
    assert count(page, "path.tc-move") == 0
    assert count(page, "path.tc-demand.tc-cover-lost") == 0
    assert count(page, "path.tc-demand.tc-cover-covered") == 4
    expect(page.locator(".tc-legend")).to_contain_text("Reached today")
    page.locator(".tc-view-plan").click()
    assert state_of(page, 5) == "not_built"
    assert state_of(page, 6) == "build"
    page.locator(".tc-requirements input[value='1']").check()
    assert count(page, "path.tc-demand.tc-cover-lost") == 1
    page.locator(".tc-toggle-people input").uncheck()
    assert count(page, "path.tc-demand") == 0
    page.locator(".tc-toggle-moves input").uncheck()
    assert count(page, "path.tc-move") == 0
    assert log.errors == []
    page.close()


def test_year_slider_unfolds_the_programme(browser, maps_dir):
    page, log = open_map(browser, maps_dir / "dated.html")
    page.evaluate("void totalcapital.pages[0].panes[0].map.setZoom(15, {animate: false})")
    slider = page.locator(".tc-years input")
    assert slider.get_attribute("max") == "3"  # today, 2027-28, 2028-29, 2029-30
    sites = {"S2": 1, "S3": 2, "S5": 4, "S7": 6}

    def at(step: int) -> dict[str, str]:
        slider.fill(str(step))
        return {sid: state_of(page, position) for sid, position in sites.items()}

    assert at(1) == {
        "S2": "today-operational",
        "S3": "today-operational",
        "S5": "exit_lease",
        "S7": "build",
    }
    expect(page.locator(".tc-year-label")).to_contain_text("2027-28")
    assert count(page, "path.tc-move") == 0
    assert at(2)["S2"] == "dispose" and at(2)["S3"] == "today-operational"
    assert count(page, "path.tc-move") == 1  # the ambulance moves in 2028-29
    # The fire station takes in the ambulance service from 2028-29: a second service.
    assert "+1" in page.locator(".tc-marker[data-site='0']").inner_html()
    assert at(3) == {"S2": "dispose", "S3": "dispose", "S5": "exit_lease", "S7": "build"}
    assert count(page, "path.tc-move") == 2
    slider.fill("0")
    assert "+1" not in page.locator(".tc-marker[data-site='0']").inner_html()
    expect(page.locator(".tc-view-today")).to_have_attribute("aria-pressed", "true")
    assert log.errors == []
    page.close()


# --------------------------------------------------------------------------- comparison


def test_comparison_shows_what_is_decided_differently(browser, tmp_path):
    a = make_result("colocate")
    b = make_result("dispose_more")
    sites = b.sites.copy()
    sites.loc["S4", "decision"] = "dispose"
    sites.loc["S7", "decision"] = "not_built"
    b = dataclasses.replace(b, sites=sites, totals={**b.totals, "receipts": 2_500_000.0})
    comparison = comparison_map(a, b)
    path = write_map(comparison, tmp_path / "compare.html")
    page, log = open_map(browser, path)
    assert count(page, ".leaflet-container") == 2
    assert count(page, ".tc-legend") == 1
    rows = page.locator(".tc-diff-sites tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Malton Police Station")
    expect(rows.nth(0)).to_contain_text("Kept")
    expect(rows.nth(0)).to_contain_text("Sold (capital receipt)")
    expect(page.locator(".tc-diff-totals")).to_contain_text("+£800k")
    left, right = comparison.m1.get_name(), comparison.m2.get_name()
    page.evaluate(f"void {left}.setView([54.137, -0.79], 15, {{animate: false}})")
    centre = page.evaluate(f"[{right}.getCenter().lat, {right}.getCenter().lng, {right}.getZoom()]")
    assert centre == pytest.approx([54.137, -0.79, 15], abs=1e-6)
    page.evaluate(
        "(() => { const p = totalcapital.pages[0].panes[0];"
        " p.map.fitBounds(p.data.sites.at, {animate: false}); })()"
    )
    for pane in (0, 1):
        for site, name in ((3, "Malton Police Station"), (6, "Pickering Road Depot")):
            reset_view(page, pane)
            assert click_site(page, site, pane) == name
            marker = page.locator(".leaflet-container").nth(pane).locator(f"[data-site='{site}']")
            expect(marker).to_have_class(re.compile(r"\btc-differs\b"))
        marker = page.locator(".leaflet-container").nth(pane).locator("[data-site='0']")
        if marker.count():
            expect(marker).not_to_have_class(re.compile(r"\btc-differs\b"))
    rows.nth(0).click()
    expect(page.locator(".leaflet-popup-content h4")).to_have_text("Malton Police Station")
    assert outside_requests(log) == []
    assert log.errors == []
    page.close()


# --------------------------------------------------------------------------- offline and tiles


def test_maps_work_with_every_request_refused(browser, demos, maps_dir):
    for path in (demos["colocate"][1], maps_dir / "plain.html"):
        page, log = open_map(browser, path, tiles="refuse")
        assert count(page, ".tc-marker") > 0
        assert outside_requests(log) == []
        assert log.errors == []
        page.close()


def test_web_tiles_are_opt_in_and_say_when_they_cannot_load(browser, maps_dir):
    page, log = open_map(browser, maps_dir / "tiles.html", tiles="refuse")
    expect(page.locator(".tc-tile-note")).to_contain_text("could not be loaded")
    assert count(page, ".tc-marker") > 0
    assert [u for u in outside_requests(log) if TILE_HOST not in u] == []
    page.close()
    page, log = open_map(browser, maps_dir / "tiles.html", tiles="blank")
    page.wait_for_load_state("load")
    assert any(TILE_HOST in u for u in log.requests)
    assert count(page, ".tc-tile-note") == 0
    page.close()


# --------------------------------------------------------------------------- print


def pdf_text(data: bytes) -> tuple[str, list[tuple[float, float]]]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    text = " ".join(p.extract_text() for p in reader.pages)
    return re.sub(r"\s+", " ", text), sizes


def test_print_to_pdf_keeps_title_legend_and_map_without_controls(browser, demos):
    result, path = demos["blue-light-hub"]
    page, log = open_map(browser, path)
    # The browser's own print (Ctrl+P) lays the page out on A4 landscape.
    text, sizes = pdf_text(page.pdf(prefer_css_page_size=True))
    assert sizes == [pytest.approx((841.9, 595.3), abs=1)]
    for kept in (
        result.scenario["description"],
        "What the plan does",
        "Fire station",
        "NPV saving",
    ):
        assert kept in text
    for dropped in ("Colour sites by partner", "Print or save as PDF", "After the plan"):
        assert dropped not in text
    # The print buttons choose the paper; the map is redrawn at its size.
    page.evaluate("window.print = () => {}")
    page.locator(".tc-print-A3").click()
    map_width = page.evaluate("document.querySelector('.tc-map').getBoundingClientRect().width")
    text, sizes = pdf_text(page.pdf(prefer_css_page_size=True))
    assert sizes == [pytest.approx((1190.6, 841.9), abs=1)]
    assert "What the plan does" in text and "Colour sites by partner" not in text
    assert map_width == pytest.approx((420 - 16 - 72) / 25.4 * 96, abs=2)
    boxes = marker_boxes(page)
    assert overlapping_pairs(boxes) == [] and sum(b["count"] for b in boxes) == len(result.sites)
    assert log.errors == []
    page.close()


def test_screenshot_helper_writes_a_png(browser, tmp_path, maps_dir):
    png = take_screenshot(browser, maps_dir / "plain.html", tmp_path / "map.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # Width and height from the IHDR chunk: the whole 1280 x 800 viewport.
    assert struct.unpack(">II", data[16:24]) == (1280, 800)
