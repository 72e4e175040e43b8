"""Scenario and comparison maps, checked on the rendered page (the browser tests look at it)."""

from __future__ import annotations

import dataclasses
import re

import folium
import pandas as pd
import pytest
from result_fixture import SCRIPT_NAME, make_result

from totalcapital import maps
from totalcapital.results import load_result, write_result


def rendered(element) -> str:
    return element.get_root().render()


def feature_groups(fmap: folium.Map) -> dict[str, folium.FeatureGroup]:
    return {
        child.layer_name: child
        for child in fmap._children.values()
        if isinstance(child, folium.FeatureGroup)
    }


def items_of(group: folium.FeatureGroup) -> list[dict]:
    """Each feature as the page draws it: full class list, popup text, tooltip, position."""
    features = []
    for part in group._children.values():
        data = part.data
        for item in data["items"]:
            popup = item.get("popup")
            features.append(
                {
                    "at": item["at"],
                    "className": f"{data['style']['className']} {item.get('cls', '')}".strip(),
                    "style": data["style"],
                    "popup": None
                    if popup is None
                    else " ".join(
                        [
                            popup[0],
                            *(f"{k}: {v}" for k, v in zip(data["labels"], popup[1:], strict=True)),
                        ]
                    ),
                    "tooltip": item.get("tip", "") + data["tip_suffix"],
                }
            )
    return features


def test_layers_by_decision_partner_moves_and_cover():
    fmap = maps.scenario_map(make_result(), tiles=False)
    groups = feature_groups(fmap)
    assert set(groups) == {
        "Area reached: fire_10min (10 min)",
        "Cover: fire_10min (10 min) — 2 lost, 1 gained",
        "Area reached: ambulance_15min (15 min)",
        "Cover: ambulance_15min (15 min) — 1 lost, 1 gained",
        "Service moves (2)",
        "Sites: Kept (1)",
        "Sites: Kept, hosting other services (1)",
        "Sites: Disposed (capital receipt) (2)",
        "Sites: Lease exited (1)",
        "Sites: New build (1)",
        "Sites: Candidate not built (1)",
        "Partner: NYCC (3)",
        "Partner: NYFRS (1)",
        "Partner: NYP (1)",
        "Partner: RDC (1)",
        "Partner: YAS (1)",
    }
    shown = {name for name, group in groups.items() if group.show}
    assert {n for n in groups if n.startswith("Partner")}.isdisjoint(shown)
    assert "Cover: fire_10min (10 min) — 2 lost, 1 gained" in shown
    assert "Cover: ambulance_15min (15 min) — 1 lost, 1 gained" not in shown
    disposed = items_of(groups["Sites: Disposed (capital receipt) (2)"])
    assert sorted(re.search(r"tc-sid-(\w+)", i["className"])[1] for i in disposed) == [
        "S2",
        "S3",
    ]


def test_demand_points_coloured_by_change_of_cover():
    groups = feature_groups(maps.scenario_map(make_result(), tiles=False))
    items = items_of(groups["Cover: fire_10min (10 min) — 2 lost, 1 gained"])
    status = {
        re.search(r"^(D\d)", i["tooltip"])[1]: re.search(r"tc-cover-(\w+)", i["className"])[1]
        for i in items
    }
    assert status == {
        "D1": "covered",
        "D2": "lost",
        "D3": "gained",
        "D4": "never",
        "D5": "covered",
        "D6": "lost",
    }
    assert items[0]["style"]["fillColor"] == maps.COVER_COLOURS["covered"]


def test_move_lines_join_old_and_new_site():
    result = make_result()
    groups = feature_groups(maps.scenario_map(result, tiles=False))
    lines = items_of(groups["Service moves (2)"])
    points = result.sites.geometry.to_crs("EPSG:4326")
    first = lines[0]["at"]
    assert first[0] == pytest.approx([points["S2"].y, points["S2"].x], abs=1e-6)
    assert first[1] == pytest.approx([points["S1"].y, points["S1"].x], abs=1e-6)
    assert "£45,000" in lines[0]["popup"]


def test_popup_holds_the_figures_a_user_asks_about():
    groups = feature_groups(maps.scenario_map(make_result(), tiles=False))
    (host,) = items_of(groups["Sites: Kept, hosting other services (1)"])
    popup = host["popup"]
    for text in (
        "Malton Fire Station",
        "Decision: Kept, hosting other services",
        "Owner: NYFRS",
        "Tenure: freehold",
        "Floor space (GIA): 1,200 m²",
        "Floor space used: 900 m²",
        "Floor space free: 300 m²",
        "Running cost today: £80,000 a year",
        "Capital spend: £40,000",
        "Services hosted: FIRE1, AMB1",
        "Listed building: no",
    ):
        assert text in popup
    (sold,) = [
        i for i in items_of(groups["Sites: Disposed (capital receipt) (2)"]) if "S3" in i["popup"]
    ]
    assert "Receipt: £1,250,000" in sold["popup"]


def test_estate_text_is_escaped_everywhere():
    result = make_result()
    result.sites.loc["S5", "owner"] = "<i>NY&CC</i>"
    page = rendered(maps.scenario_map(result, tiles=False))
    assert SCRIPT_NAME not in page
    assert "<b>housing</b>" not in page
    assert "<i>NY" not in page
    groups = feature_groups(maps.scenario_map(result, tiles=False))
    assert "Partner: &lt;i&gt;NY&amp;CC&lt;/i&gt; (1)" in groups
    (sold,) = [
        i for i in items_of(groups["Sites: Disposed (capital receipt) (2)"]) if "S3" in i["popup"]
    ]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sold["popup"]
    assert "&lt;b&gt;housing&lt;/b&gt; &amp; local-government" in sold["popup"]


def test_page_loads_only_leaflet():
    page = rendered(maps.scenario_map(make_result(), tiles=False))
    assert re.findall(r'<script src="([^"]+)"', page) == [maps.LEAFLET_JS_URL]
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', page) == [maps.LEAFLET_CSS_URL]


def test_self_contained_page_refers_to_nothing_outside(tmp_path):
    path = maps.write_map(
        maps.scenario_map(make_result(), tiles=False), tmp_path / "m.html", self_contained=True
    )
    page = path.read_text(encoding="utf-8")
    # Leaflet's attribution keeps a plain link to its home page; nothing is loaded from outside.
    assert re.findall(r'<(?:script|link|img)[^>]*(?:src|href)="(https?:[^"]+)"', page) == []
    assert "Leaflet 1.9.4" in page
    assert "url(images/" not in page
    assert "url(data:image/png;base64," in page


def test_installed_leaflet_is_the_release_the_cdn_address_names():
    assets = maps.leaflet_assets()
    version = re.search(r"leaflet@([\d.]+)/", maps.LEAFLET_JS_URL)[1]
    header = assets[maps.LEAFLET_JS_URL].read_text(encoding="utf-8")[:200]
    assert f"Leaflet {version}," in header
    assert all(path.is_file() for path in assets.values())


def test_map_fits_every_site_and_demand_point():
    result = make_result()
    fmap = maps.scenario_map(result, tiles=False)
    (fit,) = [c for c in fmap._children.values() if isinstance(c, folium.map.FitBounds)]
    (south, west), (north, east) = fit.bounds
    for geometry in pd.concat(
        [result.sites.geometry.to_crs(4326), result.demand.geometry.to_crs(4326)]
    ):
        assert south <= geometry.y <= north and west <= geometry.x <= east
    assert south == pytest.approx(result.demand.geometry.to_crs(4326)["D6"].y)


def test_map_without_demand_areas_or_moves():
    result = make_result()
    result = dataclasses.replace(
        result,
        demand=None,
        areas=None,
        moves=result.moves.iloc[0:0],
        coverage=result.coverage.iloc[0:0],
    )
    groups = feature_groups(maps.scenario_map(result, tiles=False))
    assert not any(name.startswith(("Cover", "Area", "Service moves")) for name in groups)
    assert sum(len(items_of(g)) for n, g in groups.items() if n.startswith("Sites")) == 7


def test_map_of_a_result_read_back_from_its_folder(tmp_path):
    write_result(make_result(), tmp_path / "out")
    result = load_result(tmp_path / "out")
    groups = feature_groups(maps.scenario_map(result, tiles=False))
    assert sum(len(items_of(g)) for n, g in groups.items() if n.startswith("Sites")) == 7
    assert len(items_of(groups["Cover: fire_10min (10 min) — 2 lost, 1 gained"])) == 6


def test_tiles_are_optional():
    with_tiles = rendered(maps.scenario_map(make_result()))
    without = rendered(maps.scenario_map(make_result(), tiles=False))
    assert "tile.openstreetmap.org" in with_tiles
    assert "tile.openstreetmap.org" not in without


def test_comparison_map_has_a_pane_per_result(tmp_path):
    comparison = maps.comparison_map(make_result("colocate"), make_result("dispose_all"))
    left, right = feature_groups(comparison.m1), feature_groups(comparison.m2)
    assert set(left) == set(right)
    page = maps.write_map(comparison, tmp_path / "c.html").read_text(encoding="utf-8")
    assert page.count('class="folium-map"') == 2
    assert "colocate" in page and "dispose_all" in page
    assert f"{comparison.m1.get_name()}, {comparison.m2.get_name()}" in page
    assert "Leaflet.Sync" not in page


def test_result_with_no_sites_still_gives_a_page():
    result = make_result()
    empty = dataclasses.replace(
        result,
        sites=result.sites.iloc[0:0],
        moves=result.moves.iloc[0:0],
        demand=None,
        areas=None,
        coverage=result.coverage.iloc[0:0],
    )
    fmap = maps.scenario_map(empty, tiles=False)
    assert feature_groups(fmap) == {}
    assert not any(isinstance(c, folium.map.FitBounds) for c in fmap._children.values())
    assert 'class="folium-map"' in rendered(fmap)
