"""Folium maps of a scenario result, and a side-by-side comparison of two results.

A joint asset management group reads a plan from the map: which sites are kept,
which host other partners' services, which are sold or whose lease is exited,
where services move, and which people gain or lose blue-light cover.

Every layer is drawn from data embedded as JSON and turned into Leaflet
``circleMarker``/``polyline``/``geoJSON`` layers by a few lines of JavaScript.
This keeps the page small for thousands of points and, unlike folium's
``Popup``/``Tooltip``, needs neither jQuery nor Bootstrap, so a map needs only
Leaflet itself. Every piece of text that comes from an estate register or a
scenario is HTML-escaped in Python before it reaches the page.

Each drawn feature carries stable CSS classes (``tc-site``, ``tc-decision-<decision>``,
``tc-owner-site``, ``tc-move``, ``tc-demand``, ``tc-cover-<status>``, ``tc-area``)
so that tests and users' own stylesheets can find them.
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from totalcapital._map_assets import LEAFLET_CSS_URL, LEAFLET_JS_URL, inline_leaflet, leaflet_assets

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
    "scenario_map",
    "write_map",
]


DECISION_LABELS = {
    "keep": "Kept",
    "host": "Kept, hosting other services",
    "keep_vacant": "Kept, vacant",
    "dispose": "Disposed (capital receipt)",
    "exit_lease": "Lease exited",
    "build": "New build",
    "not_built": "Candidate not built",
}
DECISION_COLOURS = {
    "keep": "#2171b5",
    "host": "#6a51a3",
    "keep_vacant": "#9ecae1",
    "dispose": "#d7301f",
    "exit_lease": "#fe9929",
    "build": "#238b45",
    "not_built": "#969696",
}
# Sites that no longer exist after the plan are drawn hollow.
_HOLLOW_DECISIONS = {"dispose", "exit_lease", "not_built"}

COVER_LABELS = {
    "covered": "Covered before and after",
    "lost": "Loses cover",
    "gained": "Gains cover",
    "never": "Not covered before or after",
}
COVER_COLOURS = {
    "covered": "#1a9850",
    "lost": "#d73027",
    "gained": "#4575b4",
    "never": "#bdbdbd",
}
_MOVE_COLOUR = "#54278f"
_AREA_COLOUR = "#41b6c4"
_OWNER_PALETTE = (
    "#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf".split()
)

_CSS = """
<style>
.tc-panel { background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.35 system-ui, sans-serif; color: #222; }
.tc-legend { max-height: 45vh; overflow-y: auto; }
.tc-legend h4, .tc-title h4 { margin: 0 0 4px; font-size: 13px; }
.tc-legend h5 { margin: 6px 0 2px; font-size: 12px; }
.tc-legend .tc-key { display: flex; align-items: center; gap: 5px; }
.tc-swatch { display: inline-block; width: 11px; height: 11px; border-radius: 50%;
  border: 2px solid #333; box-sizing: border-box; }
.tc-swatch-line { display: inline-block; width: 16px; border-top: 3px dashed #54278f; }
.tc-popup h4 { margin: 0 0 6px; font-size: 13px; }
.tc-popup table { border-collapse: collapse; }
.tc-popup th { text-align: left; padding: 1px 8px 1px 0; font-weight: 600; vertical-align: top; }
.tc-popup td { padding: 1px 0; }
</style>
"""


# --------------------------------------------------------------------------- text


def _text(value: Any) -> str:
    """Escaped display text for one value; blanks and NaN become an en dash."""
    if value is None:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "–"
    try:
        if pd.isna(value):
            return "–"
    except (TypeError, ValueError):
        pass
    text = str(value)
    return html.escape(text) if text.strip() else "–"


def _money(value: Any) -> str:
    """Pounds with thousands separators, e.g. ``£1,250,000`` or ``−£3,400``."""
    number = _number(value)
    if number is None:
        return "–"
    sign = "−" if number < 0 else ""
    return f"{sign}£{abs(number):,.0f}"


def _area(value: Any) -> str:
    number = _number(value)
    return "–" if number is None else f"{number:,.0f} m²"


def _count(value: Any) -> str:
    number = _number(value)
    return "–" if number is None else f"{number:,.0f}"


def _km(value: Any) -> str:
    number = _number(value)
    return "–" if number is None else f"{number:,.1f} km"


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _yes_no(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "yes" if bool(value) else "no"


def _css_token(value: Any) -> str:
    """A CSS class token made from free text (ids and owner codes come from users)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(value)) or "_"


def _join(values: Any) -> str:
    """Services or organisations hosted, stored as a list or a separated string."""
    if values is None or (isinstance(values, float) and math.isnan(values)):
        return "–"
    if isinstance(values, str):
        items = [v.strip() for v in re.split(r"[;,]", values) if v.strip()]
    else:
        items = [str(v) for v in values]
    return html.escape(", ".join(items)) if items else "–"


# --------------------------------------------------------------------------- Leaflet elements


class _FeatureData(MacroElement):
    """Features of one kind and style, embedded as JSON and drawn into the parent layer.

    Shared parts are sent once (``kind``, Leaflet ``style`` with its ``className``,
    popup row ``labels``, a ``tip_suffix``); each item carries only ``at`` (a point,
    a line's points or a GeoJSON geometry), an extra ``cls``, ``popup`` values
    ``[title, value, ...]`` and ``tip``. All text is HTML-escaped in Python before it
    gets here, and ``tojson`` escapes ``<``, ``>`` and ``&``, so no text can end the
    script element. Popup tables are built only when a popup is opened.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (group, data) {
            function table(values) {
                var rows = "";
                for (var i = 1; i < values.length; i++) {
                    rows += "<tr><th>" + data.labels[i - 1] + "</th><td>" + values[i]
                        + "</td></tr>";
                }
                return '<div class="tc-popup"><h4>' + values[0] + "</h4><table>" + rows
                    + "</table></div>";
            }
            data.items.forEach(function (item) {
                var style = L.Util.extend({}, data.style);
                if (item.cls) { style.className += " " + item.cls; }
                var layer;
                if (data.kind === "point") {
                    layer = L.circleMarker(item.at, style);
                } else if (data.kind === "line") {
                    layer = L.polyline(item.at, style);
                } else {
                    layer = L.geoJSON(item.at, {style: function () { return style; }});
                }
                if (item.popup) {
                    layer.bindPopup(function () { return table(item.popup); }, {maxWidth: 380});
                }
                if (item.tip !== undefined) {
                    layer.bindTooltip(item.tip + data.tip_suffix, {sticky: true});
                }
                layer.addTo(group);
            });
        })({{ this._parent.get_name() }}, {{ this.data|tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        kind: str,
        style: dict[str, Any],
        items: list[dict[str, Any]],
        labels: Iterable[str] = (),
        tip_suffix: str = "",
    ):
        super().__init__()
        self._name = "FeatureData"
        self.data = {
            "kind": kind,
            "style": style,
            "labels": [html.escape(label) for label in labels],
            "tip_suffix": tip_suffix,
            "items": items,
        }


class _Panel(MacroElement):
    """A fixed Leaflet control holding escaped HTML (legend, title)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}{{ this.css }}{% endmacro %}
        {% macro script(this, kwargs) %}
        (function (map) {
            var panel = L.control({position: {{ this.position|tojson }}});
            panel.onAdd = function () {
                var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            panel.addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, position: str, css_class: str):
        super().__init__()
        self._name = "Panel"
        self.html = html_text
        self.position = position
        self.css_class = css_class
        self.css = _CSS


class ComparisonMap(MacroElement):
    """Two maps side by side in one page whose views move together.

    Folium's ``DualMap`` copies the same children into both panes and loads
    Leaflet.Sync from a CDN; here each pane shows a different result and the
    views are kept in step by a few lines of script, so no extra asset is needed.

    Attributes
    ----------
    m1, m2 : folium.Map
        The left (first result) and right (second result) panes.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (a, b) {
            var following = false;
            function follow(source, target) {
                source.on("move", function () {
                    if (following) { return; }
                    following = true;
                    target.setView(source.getCenter(), source.getZoom(), {animate: false});
                    following = false;
                });
            }
            follow(a, b);
            follow(b, a);
        })({{ this.m1.get_name() }}, {{ this.m2.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, m1: folium.Map, m2: folium.Map):
        super().__init__()
        self._name = "ComparisonMap"
        self.m1 = m1
        self.m2 = m2
        figure = Figure()
        figure.add_child(m1)
        figure.add_child(m2)
        # Added last, so its script runs after both maps exist.
        figure.add_child(self)


# --------------------------------------------------------------------------- layers


def _base_map(tiles: bool, **size: Any) -> folium.Map:
    fmap = folium.Map(tiles=None, control_scale=True, font_size="0.8rem", **size)
    if tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(fmap)
    # Only Leaflet is needed: markers are circle markers and popups plain HTML.
    fmap.default_js = [("leaflet", LEAFLET_JS_URL)]
    fmap.default_css = [("leaflet_css", LEAFLET_CSS_URL)]
    return fmap


def _site_points(sites: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """One WGS84 point per site (polygons give a point inside themselves)."""
    if sites.empty:
        return gpd.GeoSeries([], crs="EPSG:4326")
    return sites.geometry.representative_point().to_crs("EPSG:4326")


def _layer(fmap: folium.Map, name: str, parts: list[_FeatureData], show: bool = True) -> None:
    """One entry of the layer control, drawn from one or more sets of features."""
    group = folium.FeatureGroup(name=html.escape(name), show=show)
    for part in parts:
        if part.data["items"]:
            group.add_child(part)
    group.add_to(fmap)


def _latlon(point: Any) -> list[float]:
    return [round(point.y, 6), round(point.x, 6)]


_SITE_LABELS = (
    "Decision, Owner, Tenure, Status today, Floor space (GIA), Floor space used, "
    "Floor space free, Running cost today, Running cost after, Backlog maintenance, "
    "Market value, Receipt, Lease exit cost, Capital spend, Services hosted, "
    "Partners hosted, Covenant, Listed building"
).split(", ")


def _site_popup(site_id: str, row: pd.Series) -> list[str]:
    """Title and values for :data:`_SITE_LABELS`, each escaped."""
    decision = str(row.get("decision", ""))
    return [
        f"{_text(row.get('name'))} <small>({_text(site_id)})</small>",
        html.escape(DECISION_LABELS.get(decision, decision)),
        _text(row.get("owner")),
        _text(row.get("tenure")),
        _text(row.get("status")),
        _area(row.get("gia_m2")),
        _area(row.get("space_used_m2")),
        _area(row.get("space_free_m2")),
        _money(row.get("running_cost")) + " a year",
        _money(row.get("running_cost_after")) + " a year",
        _money(row.get("backlog_cost")),
        _money(row.get("market_value")),
        _money(row.get("receipt")),
        _money(row.get("exit_cost")),
        _money(row.get("capex")),
        _join(row.get("services_hosted")),
        _join(row.get("orgs_hosted")),
        _text(row.get("covenant")),
        _yes_no(row.get("listed")),
    ]


def _site_style(colour: str, hollow: bool, classes: str) -> dict[str, Any]:
    """Kept and new sites filled; sites that go (sold, lease exited, not built) hollow rings."""
    return {
        "radius": 8,
        "color": colour if hollow else "#222",
        "weight": 3 if hollow else 2,
        "fillColor": colour,
        "fillOpacity": 0.15 if hollow else 0.9,
        "className": classes,
    }


def _owner_colours(owners: Iterable[str]) -> dict[str, str]:
    return {
        owner: _OWNER_PALETTE[i % len(_OWNER_PALETTE)]
        for i, owner in enumerate(sorted(set(owners)))
    }


def _add_site_layers(fmap: folium.Map, sites: gpd.GeoDataFrame) -> dict[str, str]:
    """Sites by decision (shown) and by owner (hidden until ticked); returns owner colours."""
    points = _site_points(sites)
    items = {}
    for site_id, row in sites.iterrows():
        decision = str(row.get("decision", ""))
        items[site_id] = {
            "at": _latlon(points[site_id]),
            "cls": f"tc-sid-{_css_token(site_id)}",
            "popup": _site_popup(site_id, row),
            "tip": (
                f"{_text(row.get('name'))} — {_text(row.get('owner'))}: "
                f"{html.escape(DECISION_LABELS.get(decision, decision))}"
            ),
        }
    decisions = sites["decision"].astype(str)
    hollow = decisions.isin(_HOLLOW_DECISIONS)
    known = [d for d in DECISION_LABELS if (decisions == d).any()]
    for decision in known + sorted(set(decisions) - set(DECISION_LABELS)):
        chosen = sites.index[decisions == decision]
        style = _site_style(
            DECISION_COLOURS.get(decision, "#000000"),
            decision in _HOLLOW_DECISIONS,
            f"tc-site tc-decision-{_css_token(decision)}",
        )
        label = DECISION_LABELS.get(decision, decision)
        part = _FeatureData("point", style, [items[s] for s in chosen], _SITE_LABELS)
        _layer(fmap, f"Sites: {label} ({len(chosen)})", [part])

    owners = sites["owner"].astype(str)
    colours = _owner_colours(owners)
    for owner, colour in colours.items():
        classes = f"tc-owner-site tc-owner-{_css_token(owner)}"
        parts = [
            _FeatureData(
                "point",
                _site_style(colour, gone, classes),
                [items[s] for s in sites.index[(owners == owner) & (hollow == gone)]],
                _SITE_LABELS,
            )
            for gone in (False, True)
        ]
        _layer(fmap, f"Partner: {owner} ({(owners == owner).sum()})", parts, show=False)
    return colours


_MOVE_LABELS = ("Service", "From", "To", "Distance", "Fit-out cost", "Moving cost", "Total cost")


def _add_move_layer(fmap: folium.Map, result: ScenarioResult) -> int:
    moves = result.moves
    if moves is None or moves.empty:
        return 0
    points = _site_points(result.sites)
    names = result.sites["name"]
    items = []
    for _, move in moves.iterrows():
        start, end = move.get("from_site"), move.get("to_site")
        if start not in points.index or end not in points.index:
            logger.warning(
                "Move of %s refers to a site not in the result; not drawn", move.get("service_id")
            )
            continue
        popup = [
            f"{_text(move.get('service_type'))} of {_text(move.get('org'))} moves",
            _text(move.get("service_id")),
            f"{_text(names.get(start, ''))} ({_text(start)})",
            f"{_text(names.get(end, ''))} ({_text(end)})",
            _km(move.get("distance_km")),
            _money(move.get("fit_out_cost")),
            _money(move.get("moving_cost")),
            _money(move.get("total_cost")),
        ]
        items.append(
            {
                "at": [_latlon(points[start]), _latlon(points[end])],
                "cls": f"tc-move-{_css_token(move.get('service_id'))}",
                "popup": popup,
                "tip": f"{_text(move.get('service_id'))}: {_text(start)} → {_text(end)}",
            }
        )
    style = {
        "color": _MOVE_COLOUR,
        "weight": 4,
        "opacity": 0.85,
        "dashArray": "8 6",
        "className": "tc-move",
    }
    _layer(
        fmap, f"Service moves ({len(items)})", [_FeatureData("line", style, items, _MOVE_LABELS)]
    )
    return len(items)


def _cover_status(before: pd.Series, after: pd.Series) -> pd.Series:
    before = before.fillna(False).astype(bool)
    after = after.fillna(False).astype(bool)
    status = pd.Series("never", index=before.index, dtype=object)
    status[before & after] = "covered"
    status[before & ~after] = "lost"
    status[~before & after] = "gained"
    return status


def _requirement_names(result: ScenarioResult) -> list[str]:
    coverage = result.coverage
    if coverage is None or coverage.empty or "name" not in coverage:
        return []
    return [str(n) for n in coverage["name"]]


def _add_area_layer(fmap: folium.Map, areas: gpd.GeoDataFrame, name: str, label: str, show: bool):
    chosen = areas[areas["requirement"].astype(str) == name]
    # About a metre of precision is plenty on screen and keeps the page small.
    shapes = shapely.set_precision(chosen.geometry.to_crs("EPSG:4326").simplify(0.0002), 1e-5)
    items = [
        {
            "at": shapely.geometry.mapping(shape),
            "tip": f"within {_text(minutes)} min of {_text(site_id)}",
        }
        for shape, minutes, site_id in zip(
            shapes, chosen["minutes"], chosen["site_id"], strict=True
        )
        if shape is not None and not shape.is_empty
    ]
    style = {
        "color": _AREA_COLOUR,
        "weight": 1,
        "fillColor": _AREA_COLOUR,
        "fillOpacity": 0.12,
        "className": f"tc-area tc-area-{_css_token(name)}",
    }
    part = _FeatureData("area", style, items, tip_suffix=f" ({html.escape(name)})")
    _layer(fmap, f"Area reached: {label}", [part], show=show)


def _add_demand_layer(
    fmap: folium.Map, demand: gpd.GeoDataFrame, name: str, label: str, show: bool
) -> None:
    status = _cover_status(demand[f"{name}_before"], demand[f"{name}_after"])
    points = demand.geometry.representative_point().to_crs("EPSG:4326")
    weights = demand["weight"] if "weight" in demand else pd.Series(math.nan, demand.index)
    parts = []
    for state, colour in COVER_COLOURS.items():
        chosen = status.index[status == state]
        items = [
            {
                "at": _latlon(points[demand_id]),
                "tip": f"{_text(demand_id)} (weight {_count(weights[demand_id])})",
            }
            for demand_id in chosen
        ]
        style = {
            "radius": 4,
            "color": colour,
            "weight": 1,
            "fillColor": colour,
            "fillOpacity": 0.8,
            "className": f"tc-demand tc-cover-{state} tc-req-{_css_token(name)}",
        }
        suffix = f": {html.escape(COVER_LABELS[state])} — {html.escape(name)}"
        parts.append(_FeatureData("point", style, items, tip_suffix=suffix))
    counts = status.value_counts()
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("lost", "gained"))
    _layer(fmap, f"Cover: {label} — {summary}", parts, show=show)


def _add_cover_layers(fmap: folium.Map, result: ScenarioResult) -> None:
    """Per requirement: the area reached (after) and demand points by change of cover.

    Only the first requirement is shown at first; stacked layers would hide each other.
    """
    demand, areas = result.demand, result.areas
    minutes = {}
    if result.coverage is not None and "minutes" in result.coverage:
        minutes = dict(
            zip(result.coverage["name"].astype(str), result.coverage["minutes"], strict=True)
        )
    for position, name in enumerate(_requirement_names(result)):
        show = position == 0
        label = f"{name} ({_number(minutes.get(name)) or 0:g} min)"
        if areas is not None and not areas.empty and "requirement" in areas:
            _add_area_layer(fmap, areas, name, label, show)
        columns = {f"{name}_before", f"{name}_after"}
        if demand is not None and not demand.empty and columns <= set(demand.columns):
            _add_demand_layer(fmap, demand, name, label, show)


def _legend_html(result: ScenarioResult, owner_colours: dict[str, str], moves: int) -> str:
    decisions = set(result.sites["decision"].astype(str)) if "decision" in result.sites else set()

    def key(colour: str, label: str, hollow: bool = False) -> str:
        fill = "transparent" if hollow else colour
        return (
            f'<div class="tc-key"><span class="tc-swatch" style="background:{fill};'
            f'border-color:{colour}"></span>{html.escape(label)}</div>'
        )

    parts = [f"<h4>{html.escape(str(result.name))}</h4>", "<h5>Site decision</h5>"]
    parts += [
        key(DECISION_COLOURS[d], DECISION_LABELS[d], d in _HOLLOW_DECISIONS)
        for d in DECISION_LABELS
        if d in decisions
    ]
    if moves:
        parts.append('<div class="tc-key"><span class="tc-swatch-line"></span>Service move</div>')
    if owner_colours:
        parts.append("<h5>Partner (layers ‘Partner: …’)</h5>")
        parts += [key(colour, owner) for owner, colour in owner_colours.items()]
    if _requirement_names(result):
        parts.append("<h5>Demand cover</h5>")
        parts += [key(COVER_COLOURS[s], COVER_LABELS[s]) for s in COVER_LABELS]
    return "".join(parts)


def _title_html(result: ScenarioResult) -> str:
    totals = result.totals or {}
    lines = [
        ("NPV saving", _money(totals.get("npv_saving"))),
        ("Receipts", _money(totals.get("receipts"))),
        ("Annual saving", _money(totals.get("annual_saving"))),
    ]
    body = " · ".join(f"{html.escape(label)} {value}" for label, value in lines)
    return f"<h4>{html.escape(str(result.name))}</h4><div>{body}</div>"


def _bounds(result: ScenarioResult) -> list[list[float]] | None:
    frames = [result.sites.geometry]
    if result.demand is not None and not result.demand.empty:
        frames.append(result.demand.geometry)
    frames = [f.to_crs("EPSG:4326") for f in frames if len(f)]
    if not frames:
        return None
    geometry = pd.concat(frames)
    west, south, east, north = geometry.total_bounds
    return [[float(south), float(west)], [float(north), float(east)]]


def _draw_result(fmap: folium.Map, result: ScenarioResult, *, collapsed: bool) -> None:
    """Every layer of one result, its legend, title and layer control."""
    _add_cover_layers(fmap, result)
    moves = _add_move_layer(fmap, result)
    owner_colours = _add_site_layers(fmap, result.sites)
    fmap.add_child(_Panel(_title_html(result), "topright", "tc-panel tc-title"))
    fmap.add_child(
        _Panel(_legend_html(result, owner_colours, moves), "bottomleft", "tc-panel tc-legend")
    )
    folium.LayerControl(collapsed=collapsed).add_to(fmap)
    logger.debug(
        "Drew scenario '%s': %d sites, %d moves, %d requirements",
        result.name,
        len(result.sites),
        moves,
        len(_requirement_names(result)),
    )


def scenario_map(result: ScenarioResult, *, tiles: bool = True) -> folium.Map:
    """Map one scenario result: sites, moves, demand cover and areas reached.

    Parameters
    ----------
    result : ScenarioResult
        A solved scenario (sites, moves, demand and areas in EPSG:27700).
    tiles : bool, default True
        Draw OpenStreetMap base tiles. Without them (or offline) the data still shows.

    Returns
    -------
    folium.Map
        Layers (each switchable in the layer control): sites by decision, sites by
        partner (off at first), service moves, and for each standard the area
        reached and demand points coloured covered / lost / gained / never covered.
    """
    fmap = _base_map(tiles)
    fmap.get_root().title = html.escape(f"totalcapital — {result.name}")
    _draw_result(fmap, result, collapsed=False)
    bounds = _bounds(result)
    if bounds is not None:
        fmap.fit_bounds(bounds, padding=(20, 20))
    return fmap


def comparison_map(a: ScenarioResult, b: ScenarioResult, *, tiles: bool = True) -> ComparisonMap:
    """Two scenario results side by side, panes moving together.

    Parameters
    ----------
    a, b : ScenarioResult
        Shown left and right, each with every layer of :func:`scenario_map`.
    tiles : bool, default True
        Draw OpenStreetMap base tiles in both panes.

    Returns
    -------
    ComparisonMap
        Write it with :func:`write_map`; ``.m1`` and ``.m2`` are the two panes.
    """
    panes = []
    for position, result in zip(("0%", "50%"), (a, b), strict=True):
        fmap = _base_map(tiles, width="50%", height="100%", left=position, position="absolute")
        # Two open layer lists would hide most of two half-width panes.
        _draw_result(fmap, result, collapsed=True)
        panes.append(fmap)
    comparison = ComparisonMap(*panes)
    comparison.get_root().title = html.escape(f"totalcapital — {a.name} vs {b.name}")
    bounds = [x for x in (_bounds(a), _bounds(b)) if x is not None]
    if bounds:
        union = [
            [min(x[0][0] for x in bounds), min(x[0][1] for x in bounds)],
            [max(x[1][0] for x in bounds), max(x[1][1] for x in bounds)],
        ]
        for fmap in panes:
            fmap.fit_bounds(union, padding=(20, 20))
    return comparison


# --------------------------------------------------------------------------- writing


def write_map(fmap: Element, path: str | Path, *, self_contained: bool = False) -> Path:
    """Write a scenario or comparison map as one HTML file.

    Parameters
    ----------
    fmap : folium.Map or ComparisonMap
        From :func:`scenario_map` or :func:`comparison_map`.
    path : str or Path
        The HTML file to write; its folder is created if missing.
    self_contained : bool, default False
        Inline Leaflet's script, stylesheet and images from the installed
        ``django-js-lib-leaflet`` package, so the page makes no request at all
        except for optional base tiles.

    Returns
    -------
    Path
        The file written.
    """
    page = fmap.get_root().render()
    if self_contained:
        page = inline_leaflet(page)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    logger.debug("Wrote %smap %s", "self-contained " if self_contained else "", path)
    return path
