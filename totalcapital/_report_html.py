"""HTML building blocks of the board pack: formatting, tables, and the page's style.

Every helper that takes text from a register or a scenario escapes it; table cells are
passed in already escaped, so a cell may hold markup made here (a marker, a bar).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING, Any

from .timeline import fy_label

if TYPE_CHECKING:
    from .results import ScenarioResult

#: Tables of up to this many rows never break across printed pages.
SHORT_TABLE = 24


def number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(amount) else amount


def money(value: Any) -> str:
    """£ to the pound, "-£" for negatives, "–" when missing (as the terminal summary)."""
    amount = number(value)
    if amount is None:
        return "–"
    rounded = round(amount)
    return f"-£{abs(rounded):,.0f}" if rounded < 0 else f"£{rounded:,.0f}"


def share(value: Any) -> str:
    fraction = number(value)
    return "–" if fraction is None else f"{fraction:.1%}"


def count(value: Any) -> str:
    amount = number(value)
    return "–" if amount is None else f"{amount:,.0f}"


def fy(value: Any) -> str:
    year = number(value)
    return "–" if year is None else fy_label(int(year))


def text(value: Any) -> str:
    """Escaped text of any value; blanks as an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return escape(str(value))


def words(value: Any) -> str:
    """An identifier as words: "fire_station" -> "fire station"."""
    return text(str(value).replace("_", " "))


def get(data: Any, *keys: str, default: Any = None) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return default if data is None else data


def html_table(
    headers: Iterable[tuple[str, str]],
    rows: Iterable[Iterable[str]],
    *,
    css: str = "",
    footer: Iterable[str] | None = None,
) -> str:
    """An HTML table of already-escaped cells.

    ``headers`` are (text, column class): ``"num"`` for figures (right-aligned), ``"year"``
    for financial years (never wrapped), ``""`` for text. A table of up to
    :data:`SHORT_TABLE` rows is kept whole on one printed page.
    """
    headers = list(headers)
    kinds = [kind for _, kind in headers]
    rows = [list(row) for row in rows]
    if len(rows) <= SHORT_TABLE:
        css = f"{css} keep".strip()

    def cells(values: Iterable[str], tag: str) -> str:
        return "".join(
            f"<{tag}{f' class={kind}' if kind else ''}>{value}</{tag}>"
            for value, kind in zip(values, kinds, strict=True)
        )

    head = cells((label for label, _ in headers), "th")
    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows)
    foot = f"<tfoot><tr>{cells(footer, 'td')}</tr></tfoot>" if footer is not None else ""
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>{foot}</table>'


def definitions(items: Iterable[tuple[str, str]]) -> str:
    """A definition list of (label, escaped value) pairs."""
    return "<dl>" + "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in items) + "</dl>"


def section(key: str, title: str, body: str, *, new_page: bool = False) -> str:
    css = ' class="new-page"' if new_page else ""
    return f'<section id="{key}"{css}><h2>{title}</h2>{body}</section>'


def site_name(result: ScenarioResult, site_id: Any) -> str:
    """A site's name (its id only when it has none)."""
    sites = result.sites
    if site_id in sites.index and "name" in sites.columns:
        name = sites.at[site_id, "name"]
        if isinstance(name, str) and name.strip():
            return name
    return str(site_id)


CSS = """
:root { --ink:#1a1a1a; --muted:#555; --rule:#c8c8c8; --head:#1f4e78; --gain:#1b6e35;
  --loss:#b2182b; --receipts:#1f4e78; --spend:#c55a11; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 10.5pt/1.45 "Helvetica Neue", Helvetica, Arial, "Liberation Sans", sans-serif;
  color: var(--ink); max-width: 200mm; margin: 0 auto; padding: 10mm 8mm; background: #fff; }
header { border-bottom: 3px solid var(--head); margin-bottom: 6mm; }
header .kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 8.5pt;
  color: var(--muted); margin: 0; }
h1 { font-size: 20pt; margin: 1mm 0 3mm; color: var(--head); }
h2 { font-size: 14pt; color: var(--head); border-bottom: 1px solid var(--rule);
  padding-bottom: 1mm; margin: 8mm 0 3mm; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 11pt; margin: 5mm 0 2mm; break-after: avoid; page-break-after: avoid; }
p { margin: 2mm 0; }
.description { font-size: 12pt; }
.muted { color: var(--muted); }
.note { color: var(--muted); font-size: 9pt; }
dl { display: grid; grid-template-columns: 58mm 1fr; gap: 1.2mm 4mm; margin: 2mm 0; }
dt { font-weight: bold; }
dd { margin: 0; }
dt, dd { break-inside: avoid; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 3mm; margin: 3mm 0; }
.card { border: 1px solid var(--rule); border-top: 3px solid var(--head); padding: 2mm 3mm;
  break-inside: avoid; }
.card .label { font-size: 8.5pt; color: var(--muted); }
.card .value { font-size: 14pt; font-weight: bold; font-variant-numeric: tabular-nums; }
.card .note { font-size: 8pt; }
.card[data-total="npv_saving"] { border-top-width: 6px; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 3mm; font-size: 9pt; }
caption { text-align: left; font-weight: bold; }
th, td { border-bottom: 1px solid var(--rule); padding: 1.2mm 1.6mm; text-align: left;
  vertical-align: top; }
th { border-bottom: 2px solid var(--ink); font-size: 8.5pt; }
.year { white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { font-weight: bold; border-top: 2px solid var(--ink); border-bottom: none; }
thead { display: table-header-group; }
tfoot { display: table-row-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
table.keep { break-inside: avoid; page-break-inside: avoid; }
.gain { color: var(--gain); font-weight: bold; }
.loss { color: var(--loss); font-weight: bold; }
.even { color: var(--muted); }
.bar-cell { position: relative; width: 30mm; height: 4mm; }
.bar-axis { position: absolute; left: 50%; top: -1mm; bottom: -1mm;
  border-left: 1px solid var(--ink); }
.bar-fill { position: absolute; top: 0; height: 100%; border: 1px solid var(--ink); }
.bar-fill.gain { background: var(--gain); }
.bar-fill.loss { background: repeating-linear-gradient(45deg, #fff 0 2px, var(--loss) 2px 4px); }
figure { margin: 2mm 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 9pt; color: var(--muted); }
svg { display: block; width: 100%; height: auto; font-family: inherit; }
.chart .grid { stroke: #ddd; stroke-width: 1; }
.chart .axis, .chart .axis-zero { stroke: var(--ink); stroke-width: 1.2; }
.chart .tick, .chart .year { font-size: 11px; fill: var(--ink); }
.chart .axis-title { font-size: 11px; fill: var(--muted); }
.chart .bar.receipts { fill: var(--receipts); stroke: var(--ink); stroke-width: .6; }
.chart .bar.spend { fill: url(#hatch); stroke: var(--spend); stroke-width: 1.2; }
.chart .hatch-ground { fill: #fff; }
.chart .hatch-line { stroke: var(--spend); stroke-width: 2.5; }
.chart .cumulative { fill: none; stroke: var(--ink); stroke-width: 2; }
.chart .cumulative-point { fill: #fff; stroke: var(--ink); stroke-width: 1.8; }
.chart .legend text { font-size: 11px; fill: var(--ink); }
.site-map .map-frame { fill: #fbfbf8; stroke: var(--ink); }
.site-map .demand { fill: #d9d9d9; stroke: #aaa; stroke-width: .5; }
.site-map .move { stroke: #08519c; stroke-width: 1.6; stroke-dasharray: 5 3; }
.site-map .arrow-head { fill: #08519c; }
.site-map .site { stroke: var(--ink); stroke-width: 1.3; }
.site-map .site-keep, .site-map .site-keep_vacant { fill: #fff; }
.site-map .site-keep_vacant { stroke-dasharray: 2 2; }
.site-map .site-host { fill: #6a51a3; }
.site-map .site-dispose { stroke: var(--loss); stroke-width: 2.6; fill: none; }
.site-map .site-exit_lease { fill: #fff; stroke: #d95f0e; stroke-width: 2.2; }
.site-map .site-build { fill: var(--gain); }
.site-map .site-not_built { fill: #fff; stroke: #888; stroke-dasharray: 2 2; }
.site-map .site-number { font-size: 11px; font-weight: bold; fill: var(--ink);
  paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.site-map .scale-dark { fill: var(--ink); stroke: var(--ink); }
.site-map .scale-light { fill: #fff; stroke: var(--ink); }
.site-map .north-dark { fill: var(--ink); }
.site-map .north-light { fill: #fff; stroke: var(--ink); }
.site-map text { font-size: 11px; fill: var(--ink); }
.site-map .detail-mark rect { fill: none; stroke: var(--ink); stroke-width: 1.2;
  stroke-dasharray: 4 2; }
.site-map .detail-mark text, .site-map .panel-title { font-weight: bold; }
.map-key { columns: 2; font-size: 9pt; padding-left: 0; list-style: none; }
.map-key li { break-inside: avoid; }
.num-badge { display: inline-block; min-width: 5mm; font-weight: bold; }
footer { margin-top: 8mm; border-top: 1px solid var(--rule); font-size: 8.5pt;
  color: var(--muted); }
@page { size: A4; margin: 14mm 12mm 16mm 12mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages);
    font: 8pt "Helvetica Neue", Helvetica, Arial, "Liberation Sans", sans-serif; } }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; }
  .new-page { break-before: page; page-break-before: always; }
  h2 { margin-top: 0; }
  #headlines h2 { margin-top: 6mm; }
  .cards { grid-template-columns: repeat(4, 1fr); }
}
"""
