"""What a map page carries: its data (names, labels, figures) and its assets.

How the page looks and behaves is tested in a browser (``test_browser.py``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from map_cases import MOVE_YEARS, county_result, dated_result
from result_fixture import SCRIPT_NAME, make_result

from totalcapital import _map_symbols as symbols
from totalcapital import maps
from totalcapital._map_assets import LEAFLET_VERSION, STATIC
from totalcapital._map_data import differences as map_differences
from totalcapital.pipeline import run_scenario
from totalcapital.results import load_result, write_result
from totalcapital.scenario import build_scenario, load_scenario, plain_label

ROOT = Path(__file__).resolve().parents[1]

SITE_IDS = [f"S{i}" for i in range(1, 8)]


def strings(value, skip=("glyph", "at", "shape", "bounds")) -> list[str]:
    """Every piece of text in a payload, less geometry and glyph paths."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in skip for s in strings(v, skip)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings(v, skip)]
    return []


def shown(text: str, ids) -> set[str]:
    return {i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)}


# --------------------------------------------------------------------------- plain English


def test_title_is_the_scenarios_description():
    result = make_result()
    result.scenario["description"] = "Share <buildings> & sell the rest"
    data = maps.map_data(result)
    assert data["title"] == "Share &lt;buildings&gt; &amp; sell the rest"
    assert "colocate" in data["subtitle"]
    page = maps.scenario_map(result).get_root().render()
    assert "<title>totalcapital — Share &lt;buildings&gt; &amp; sell the rest</title>" in page
    result.scenario["description"] = ""
    assert maps.map_data(result)["title"] == "colocate"


def test_standards_take_their_label_or_their_name_in_plain_words():
    result = make_result()
    result.scenario["standards"] = [
        {"name": "fire_10min", "label": "Fire engine within 10 minutes"},
    ]
    labels = [r["label"] for r in maps.map_data(result)["requirements"]]
    assert labels == ["Fire engine within 10 minutes", "Ambulance 15 min"]


def test_scenario_labels_default_to_the_name_in_plain_words():
    scenario = build_scenario(
        {
            "name": "x",
            "standards": [
                {"name": "fire_10min", "service_types": ["fire_station"], "minutes": 10},
                {"name": "police_20min", "label": " ", "service_types": ["p"], "minutes": 20},
            ],
            "access": [
                {
                    "name": "gp",
                    "label": "GP within 15 minutes",
                    "service_types": ["g"],
                    "minutes": 5,
                }
            ],
        }
    )
    assert [s.label for s in scenario.standards] == ["Fire 10 min", "Police 20 min"]
    assert scenario.access[0].label == "GP within 15 minutes"
    assert scenario.resolved()["standards"][0]["label"] == "Fire 10 min"
    assert plain_label("front_office-15minutes") == "Front office 15 min"


def test_service_types_by_plain_name_scenario_names_first():
    result = make_result()
    result.scenario["service_labels"] = {"council_office": "Town hall <offices>"}
    types = [t["label"] for t in maps.map_data(result)["services"]["types"]]
    assert types == [
        "Ambulance station",
        "Town hall &lt;offices&gt;",
        "Fire station",
        "Library",
        "Police station",
    ]
    assert symbols.service_label("youth_centre") == "Youth centre"
    assert symbols.initials("Youth centre") == "YC"


def test_no_internal_id_in_anything_the_page_shows():
    result = make_result()
    text = "\n".join(strings(maps.map_data(result)))
    ids = {*SITE_IDS, *result.services.index, "fire_10min", "ambulance_15min"}
    ids |= {str(t) for t in result.services["service_type"]}
    assert shown(text, ids) == set()
    # The names are there instead.
    assert "Malton Ambulance Station" in text and "Ambulance station (YAS)" in text


def test_county_page_names_demand_points_not_their_codes():
    result = county_result(200, 300, 40, 10)
    data = maps.map_data(result)
    assert data["demand"]["name"][:2] == ["Neighbourhood 0", "Neighbourhood 1"]
    text = "\n".join(strings(data))
    assert shown(text, set(result.demand.index[:50]) | set(result.sites.index[:50])) == set()


def test_unnamed_demand_points_fall_back_to_their_ids():
    result = make_result()
    assert maps.map_data(result)["demand"]["name"] == ["D1", "D2", "D3", "D4", "D5", "D6"]


def test_estate_text_is_escaped():
    result = make_result()
    result.sites.loc["S5", "owner"] = "<i>NY&CC</i>"
    page = maps.scenario_map(result).get_root().render()
    assert SCRIPT_NAME not in page
    assert "<b>housing</b>" not in page
    assert "<i>NY" not in page
    data = maps.map_data(result)
    assert "&lt;i&gt;NY&amp;CC&lt;/i&gt;" in data["sites"]["owners"]
    assert data["sites"]["popup"][2][0] == "&lt;script&gt;alert(1)&lt;/script&gt;"


# --------------------------------------------------------------------------- figures


def popup_of(data: dict, site: int) -> dict[str, str]:
    values = data["sites"]["popup"][site]
    rows = dict(zip(data["sites"]["rows"], values[1:], strict=True))
    return {"title": values[0], **{k: v for k, v in rows.items() if v}}


def test_site_popup_holds_the_figures_a_user_asks_about():
    data = maps.map_data(make_result())
    host = popup_of(data, 0)
    assert host == {
        "title": "Malton Fire Station",
        "Plan": "Kept, hosting other services",
        "Partner": "NYFRS",
        "Today": "In use today",
        "Tenure": "freehold",
        "Services today": "Fire station (NYFRS)",
        "Services after the plan": (
            "Fire station (NYFRS)<br>"
            "Ambulance station (YAS), moves in from Malton Ambulance Station"
        ),
        "Floor space": "1,200 m² (900 m² used after the plan, 300 m² free)",
        "Running cost": "£80,000 a year today",
        "Backlog maintenance": "£10,000",
        "Market value": "£300,000",
        "Capital spend": "£40,000",
    }
    sold = popup_of(data, 2)
    assert sold["Capital receipt"] == "£1,250,000"
    assert sold["Running cost"] == "£80,000 a year today, £0 after"
    assert "Services after the plan" not in sold
    assert popup_of(data, 3)["Listed building"] == "yes"


def test_summary_panel_names_capital_spend_and_partners_who_lose():
    result = make_result()
    result.ledger.loc["NYFRS", "npv_gain"] = -158_521.0
    rows = {label: value for label, value, _ in maps.map_data(result)["summary"]}
    assert rows["NPV saving (25 years at 3.5%)"] == "£4.7m"
    assert rows["Capital receipts"] == "£1.7m"
    assert rows["Capital spend"] == "£965k"
    assert rows["Annual running-cost saving"] == "£240k a year"
    assert rows["Partners better off"] == "RDC £1.9m, YAS £1.1m, NYP £680k, NYCC £350k"
    assert rows["Partners worse off"] == "NYFRS −£159k"
    assert rows["Solver"] == "Best plan, proven (gap 0.01%)"


@pytest.mark.parametrize(
    ("solve", "text"),
    [
        ({"status": "time_limit", "gap": 0.384}, "Stopped at the time limit; at most 38.4% from"),
        ({"status": "unproven"}, "A plan, not proven best (no bound)"),
    ],
)
def test_solver_status_read_honestly(solve, text):
    result = dataclasses.replace(make_result(), solve=solve)
    rows = {label: value for label, value, _ in maps.map_data(result)["summary"]}
    assert rows["Solver"].startswith(text)


def test_moves_join_old_and_new_site_by_position_and_name():
    data = maps.map_data(make_result())
    (ambulance, office) = data["moves"]
    assert (ambulance["from"], ambulance["to"]) == (1, 0)
    assert (office["from"], office["to"]) == (2, 3)
    assert ambulance["popup"][:3] == [
        "Ambulance station (YAS)",
        "Malton Ambulance Station",
        "Malton Fire Station",
    ]
    assert ambulance["popup"][-1] == "£45,000"


def test_cover_flags_and_areas_today_and_after():
    result = make_result()
    areas = result.areas.assign(today=[True, False, True], plan=[True, True, False])
    data = maps.map_data(dataclasses.replace(result, areas=areas))
    fire, ambulance = data["requirements"]
    assert (fire["before"], fire["after"]) == ("110011", "101010")
    assert [(a["site"], a["today"], a["plan"]) for a in fire["areas"]] == [
        (0, True, True),
        (6, False, True),
    ]
    assert ambulance["areas"][0]["plan"] is False
    types = [t["label"] for t in data["services"]["types"]]
    assert [types[t] for t in fire["types"]] == ["Fire station"]


def test_a_run_gives_the_areas_reached_today_and_after_the_plan():
    result, _ = run_scenario(load_scenario(ROOT / "scenarios" / "blue-light-hub.yaml"))
    fire = result.areas[result.areas["requirement"] == "fire_10min"].set_index("site_id")
    # The old fire station reaches its area today only, the new hub after the plan only.
    assert (bool(fire.loc["MAL-FIRE", "today"]), bool(fire.loc["MAL-FIRE", "plan"])) == (
        True,
        False,
    )
    assert (bool(fire.loc["MAL-HUB", "today"]), bool(fire.loc["MAL-HUB", "plan"])) == (False, True)
    assert bool(fire.loc["PIC-FIRE", "today"]) and bool(fire.loc["PIC-FIRE", "plan"])
    data = maps.map_data(result)
    assert data["requirements"][0]["todayAreas"] is True


def test_areas_written_before_today_flags_count_as_after_the_plan():
    fire = maps.map_data(make_result())["requirements"][0]
    assert fire["todayAreas"] is False
    assert all(a["plan"] and not a["today"] for a in fire["areas"])


def test_partner_colours_never_repeat():
    counts = {f"P{i}": 20 - i for i in range(11)}
    colours, others = symbols.partner_colours(counts)
    named = [colours[f"P{i}"] for i in range(len(symbols.PARTNER_PALETTE))]
    assert named == list(symbols.PARTNER_PALETTE)
    assert {colours[p] for p in ("P8", "P9", "P10")} == {symbols.OTHER_PARTNER_COLOUR}
    assert others is True
    assert symbols.OTHER_PARTNER_COLOUR not in symbols.PARTNER_PALETTE


# --------------------------------------------------------------------------- dated plans


def test_timeless_result_has_no_years():
    assert maps.map_data(make_result())["years"] is None
    result = make_result()
    result.sites["decision_year"] = np.nan
    assert maps.map_data(result)["years"] is None


def test_dated_result_carries_years_of_decisions_and_moves():
    data = maps.map_data(dated_result())
    assert data["years"] == [2027, 2028, 2029]
    assert data["sites"]["year"] == [None, 2028, 2029, None, 2027, None, 2027]
    services = data["services"]
    moved = {k: y for k, y in enumerate(services["year"]) if y is not None}
    assert sorted(moved.values()) == sorted(MOVE_YEARS.values())
    assert popup_of(data, 1)["Plan"] == "Sold (capital receipt), 2028-29"
    assert data["moves"][0]["year"] == 2028
    assert data["moves"][0]["popup"][3] == "2028-29"


# --------------------------------------------------------------------------- the page


def test_page_needs_no_network(tmp_path):
    path = maps.write_map(maps.scenario_map(make_result()), tmp_path / "m.html")
    page = path.read_text(encoding="utf-8")
    assert re.findall(r'<(?:script|link|img)[^>]*(?:src|href)="(https?:[^"]+)"', page) == []
    assert f"Leaflet {LEAFLET_VERSION}" in page
    assert "url(images/" not in page
    assert page.count("url(data:image/png;base64,") == 3


def test_web_tiles_only_when_asked():
    payload = re.compile(r"totalcapital\.scenario\(\s*\[[^\]]*\],\s*(\{.*\})\s*\);", re.S)

    def tiles_of(fmap) -> bool:
        return json.loads(payload.search(fmap.get_root().render())[1])["tiles"]

    assert tiles_of(maps.scenario_map(make_result())) is False
    assert tiles_of(maps.scenario_map(make_result(), tiles=True)) is True


def test_vendored_leaflet_is_pinned_and_licensed():
    header = (STATIC / "leaflet" / "leaflet.js").read_text(encoding="utf-8")[:200]
    assert f"Leaflet {LEAFLET_VERSION}," in header
    licence = (STATIC / "leaflet" / "LICENSE").read_text(encoding="utf-8")
    assert "BSD 2-Clause" in licence
    assert all(path.is_file() for path in maps.leaflet_assets().values())


def test_map_fits_every_site_and_demand_point():
    result = make_result()
    (south, west), (north, east) = maps.map_data(result)["bounds"]
    for geometry in pd.concat([result.sites.geometry, result.demand.geometry]).to_crs(4326):
        assert south <= geometry.y <= north and west <= geometry.x <= east
    assert south == pytest.approx(result.demand.geometry.to_crs(4326)["D6"].y)


def test_map_without_demand_areas_moves_or_services():
    result = dataclasses.replace(
        make_result(),
        demand=None,
        areas=None,
        moves=make_result().moves.iloc[0:0],
        coverage=make_result().coverage.iloc[0:0],
        services=pd.DataFrame(),
    )
    data = maps.map_data(result)
    assert data["requirements"] == [] and data["moves"] == []
    assert data["services"]["type"] == []
    assert len(data["sites"]["at"]) == 7
    assert 'class="folium-map"' in maps.scenario_map(result).get_root().render()


def test_map_of_a_result_read_back_from_its_folder(tmp_path):
    write_result(dated_result(), tmp_path / "out")
    data = maps.map_data(load_result(tmp_path / "out"))
    assert len(data["sites"]["at"]) == 7
    assert data["years"] == [2027, 2028, 2029]
    assert data["requirements"][0]["after"] == "101010"


def test_result_with_no_sites_still_gives_a_page():
    result = make_result()
    empty = dataclasses.replace(
        result,
        sites=result.sites.iloc[0:0],
        services=result.services.iloc[0:0],
        moves=result.moves.iloc[0:0],
        demand=None,
        areas=None,
        coverage=result.coverage.iloc[0:0],
    )
    data = maps.map_data(empty)
    assert data["sites"]["at"] == [] and data["bounds"] is None
    assert 'class="folium-map"' in maps.scenario_map(empty).get_root().render()


# --------------------------------------------------------------------------- comparison


def test_comparison_lists_sites_decided_differently():
    a = make_result("colocate")
    b = make_result("dispose_more")
    sites = b.sites.copy()
    sites.loc["S4", "decision"] = "dispose"
    b = dataclasses.replace(b, sites=sites, totals={**b.totals, "receipts": 2_500_000.0})
    comparison = maps.comparison_map(a, b)
    page = comparison.get_root().render()
    assert page.count('class="folium-map"') == 2
    differences = map_differences(a, b)
    assert differences["sites"] == [
        {
            "a": 3,
            "b": 3,
            "name": "Malton Police Station",
            "owner": "NYP",
            "was": "Kept",
            "now": "Sold (capital receipt)",
        }
    ]
    receipts = [row for row in differences["totals"] if row[0] == "Capital receipts"]
    assert receipts == [["Capital receipts", "£1.7m", "£2.5m", "+£800k"]]
    cover = [row for row in differences["totals"] if row[0].startswith("Reached after")]
    assert cover[0] == ["Reached after the plan: Fire 10 min", "67.8%", "67.8%", "0.0%"]
