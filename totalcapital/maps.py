"""Maps of a scenario result, and a comparison of two, that a partnership can read in a meeting.

A page has a side panel (the scenario's description as its title, the figures a board
asks for, what to show, the legend, printing) and the map. Sites are drawn as symbols:
a glyph for what the building is used for, a fill and outline for what the plan does to
it, and colour repeating the decision or, when asked, the partner (see
:mod:`totalcapital._map_symbols`). Sites that would overlap on screen merge into a
numbered cluster that opens on a click, so every site can be clicked at any zoom. A
switch shows the estate today or after the plan; a dated plan adds a year slider.

Python prepares everything the page shows as escaped text and plain numbers in one JSON
object per map; the package's own script (``_static/totalcapital-map.js``) draws it with
Leaflet, which is written into every page, so a map needs no network. Web tiles are
opt-in (``tiles=True``); when they cannot load the page says so and still shows the data.
No internal id reaches the page where a name exists: sites, services, demand points and
standards appear by their names and labels.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from . import _map_symbols as symbols
from ._map_assets import (
    LEAFLET_CSS_URL,
    LEAFLET_JS_URL,
    inline_assets,
    leaflet_assets,
    map_script,
    map_stylesheet,
)
from ._map_data import bounds, differences, map_data, share_partner_colours

if TYPE_CHECKING:
    from totalcapital.results import ScenarioResult

logger = logging.getLogger(__name__)

__all__ = [
    "COVER_COLOURS",
    "COVER_LABELS",
    "DECISION_COLOURS",
    "DECISION_LABELS",
    "LEAFLET_CSS_URL",
    "LEAFLET_JS_URL",
    "ComparisonMap",
    "comparison_map",
    "leaflet_assets",
    "map_data",
    "scenario_map",
    "write_map",
]

#: Plain names and colours of site decisions and of changes of cover (see ``_map_symbols``).
DECISION_LABELS = {key: style["label"] for key, style in symbols.DECISIONS.items()}
DECISION_COLOURS = {key: style["colour"] for key, style in symbols.DECISIONS.items()}
COVER_LABELS = {key: style["label"] for key, style in symbols.COVER.items()}
COVER_COLOURS = {key: style["colour"] for key, style in symbols.COVER.items()}

# --------------------------------------------------------------------------- page elements


class _PageAssets(MacroElement):
    """The map's own stylesheet and script, once in the page's head (after Leaflet)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        <script>{{ this.js }}</script>
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "PageAssets"
        self.css = map_stylesheet()
        self.js = map_script()


class _Draw(MacroElement):
    """Calls the page's script with the maps, their data and the shared symbols."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        totalcapital.{{ this.kind }}(
            [{{ this.map_names }}],
            {{ this.payload|tojson }}
        );
        {% endmacro %}
        """
    )

    def __init__(self, kind: str, maps: list[folium.Map], payload: dict[str, Any]):
        super().__init__()
        self._name = "Draw"
        self.kind = kind
        self.map_names = ", ".join(m.get_name() for m in maps)
        self.payload = payload


def _base_map(**size: Any) -> folium.Map:
    fmap = folium.Map(
        tiles=None,
        control_scale=True,
        zoom_control=False,
        prefer_canvas=False,
        max_zoom=18,
        **size,
    )
    # Only Leaflet is needed; write_map puts it into the page.
    fmap.default_js = [("leaflet", LEAFLET_JS_URL)]
    fmap.default_css = [("leaflet_css", LEAFLET_CSS_URL)]
    return fmap


def _page(figure: Figure, title: str, layout: str) -> None:
    figure.title = title
    figure.html.add_child(
        Element(f'<div class="tc-side" id="tc-side" data-layout="{layout}"></div>'), index=0
    )
    figure.add_child(_PageAssets(), name="totalcapital_assets")


def scenario_map(result: ScenarioResult, *, tiles: bool = False) -> folium.Map:
    """Map one scenario result: sites, moves, people reached and areas, today and planned.

    Parameters
    ----------
    result : ScenarioResult
        A solved scenario (sites, services, moves, demand and areas in EPSG:27700).
    tiles : bool, default False
        Add OpenStreetMap web tiles as a background (needs a network; the page says so
        when they cannot load). Without them the map draws the data on a plain ground.

    Returns
    -------
    folium.Map
        Write it with :func:`write_map`.
    """
    fmap = _base_map()
    figure = fmap.get_root()
    data = map_data(result)
    _page(figure, f"totalcapital — {data['title']}", "single")
    payload = {"panes": [data], "symbols": symbols.symbol_table(), "tiles": tiles}
    fmap.add_child(_Draw("scenario", [fmap], payload))
    logger.debug(
        "Drew scenario '%s': %d sites, %d moves, %d requirements",
        result.name,
        len(result.sites),
        len(data["moves"]),
        len(data["requirements"]),
    )
    return fmap


class ComparisonMap(MacroElement):
    """Two maps of two results side by side, with one panel and a table of differences.

    Attributes
    ----------
    m1, m2 : folium.Map
        The first (left) and second (right) result's maps.
    """

    _template = Template("")

    def __init__(self, m1: folium.Map, m2: folium.Map):
        super().__init__()
        self._name = "ComparisonMap"
        self.m1 = m1
        self.m2 = m2
        figure = Figure()
        figure.add_child(m1)
        figure.add_child(m2)
        figure.add_child(self)


def comparison_map(a: ScenarioResult, b: ScenarioResult, *, tiles: bool = False) -> ComparisonMap:
    """Two scenario results side by side, with the sites decided differently marked.

    The two maps pan and zoom together and share one panel (what to show, one legend);
    below them a table lists the totals of both with the difference, and every site the
    second result decides differently from the first.

    Parameters
    ----------
    a, b : ScenarioResult
        Shown left and right.
    tiles : bool, default False
        OpenStreetMap web tiles as a background in both maps.

    Returns
    -------
    ComparisonMap
        Write it with :func:`write_map`; ``.m1`` and ``.m2`` are the two maps.
    """
    panes = [_base_map(), _base_map()]
    comparison = ComparisonMap(*panes)
    figure = comparison.get_root()
    data = [map_data(a), map_data(b)]
    both = bounds([a, b])
    for pane in data:
        pane["bounds"] = both
    # One set of partner colours for both maps, so a partner looks the same in each.
    share_partner_colours(data)
    title = f"{data[0]['title']} — compared with — {data[1]['title']}"
    _page(figure, f"totalcapital — {a.name} vs {b.name}", "comparison")
    figure.html.add_child(Element('<div class="tc-diff" id="tc-diff"></div>'))
    payload = {
        "panes": data,
        "symbols": symbols.symbol_table(),
        "tiles": tiles,
        "title": title,
        "differences": differences(a, b),
    }
    comparison.add_child(_Draw("comparison", panes, payload))
    return comparison


# --------------------------------------------------------------------------- writing


def write_map(fmap: Element, path: str | Path) -> Path:
    """Write a scenario or comparison map as one HTML file that needs no network.

    Parameters
    ----------
    fmap : folium.Map or ComparisonMap
        From :func:`scenario_map` or :func:`comparison_map`.
    path : str or Path
        The HTML file to write; its folder is created if missing.

    Returns
    -------
    Path
        The file written. Leaflet, its images and the map's script are inside it; only
        optional web tiles come from outside.
    """
    page = inline_assets(fmap.get_root().render())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    logger.debug("Wrote map %s", path)
    return path
