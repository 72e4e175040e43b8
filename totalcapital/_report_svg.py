"""Inline SVG drawings for the board pack: the programme chart and a static map.

Both are drawn here from plain numbers, with no script, font or image from outside the
page, so they print as they show and open with no network. Every shape that carries
meaning differs in form as well as colour (hatched against solid bars, a line with
markers, one symbol per site decision), so a black-and-white print still reads.
Text that reaches the drawings is escaped here; callers pass plain strings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["MapMove", "MapSite", "money_short", "nice_step", "programme_chart", "site_map"]


def nice_step(span: float, count: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``count`` intervals."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power:
            return factor * power
    return 10.0 * power


def money_short(value: float) -> str:
    """£ in a few characters for axis ticks: £1.5m, £250k, -£2m, £0."""
    sign = "-" if value < 0 else ""
    size = abs(value)
    if size >= 1e6:
        text = f"{size / 1e6:.2f}".rstrip("0").rstrip(".") + "m"
    elif size >= 1e3:
        text = f"{size / 1e3:.1f}".rstrip("0").rstrip(".") + "k"
    else:
        text = f"{size:.0f}"
    return f"{sign}£{text}" if text != "0" else "£0"


def _money_full(value: float) -> str:
    return f"-£{abs(value):,.0f}" if value < 0 else f"£{value:,.0f}"


def _f(value: float) -> str:
    """A coordinate with two decimals, no trailing zeros (small, stable SVG)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- chart

_CHART_WIDTH, _CHART_HEIGHT = 720.0, 330.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 78.0, 16.0, 16.0, 78.0


def programme_chart(
    years: Sequence[str],
    receipts: Sequence[float],
    spend: Sequence[float],
    cumulative: Sequence[float],
) -> str:
    """Receipts and capital spend as bars, cumulative net cash as a line, per financial year.

    Parameters
    ----------
    years : list of str
        Financial-year labels ("2028-29"), one bar group each.
    receipts, spend, cumulative : list of float
        £ of each year (nominal).

    Returns
    -------
    str
        An ``<svg>`` element; each year is a ``<g class="bar-group">``.
    """
    n = len(years)
    values = [0.0, *receipts, *spend, *cumulative]
    low, high = min(values), max(values)
    if high - low < 1.0:
        high = low + 1.0
    step = nice_step(high - low)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step
    plot_w = _CHART_WIDTH - _LEFT - _RIGHT
    plot_h = _CHART_HEIGHT - _TOP - _BOTTOM

    def y(value: float) -> float:
        return _TOP + (high - value) / (high - low) * plot_h

    group = plot_w / max(n, 1)
    bar = group * 0.3
    parts = [
        f'<svg class="chart programme-chart" viewBox="0 0 {_f(_CHART_WIDTH)} {_f(_CHART_HEIGHT)}"'
        ' role="img" aria-labelledby="chart-title">',
        '<title id="chart-title">Receipts, capital spend and cumulative net cash by '
        "financial year</title>",
        "<defs>"
        '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)">'
        '<rect width="6" height="6" class="hatch-ground"/>'
        '<line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/></pattern>'
        "</defs>",
    ]
    # Grid lines and £ ticks.
    ticks = round((high - low) / step)
    for i in range(ticks + 1):
        value = low + i * step
        ty = y(value)
        zero = abs(value) < step * 1e-9
        parts.append(
            f'<line class="{"axis-zero" if zero else "grid"}" x1="{_f(_LEFT)}" y1="{_f(ty)}"'
            f' x2="{_f(_LEFT + plot_w)}" y2="{_f(ty)}"/>'
            f'<text class="tick" x="{_f(_LEFT - 6)}" y="{_f(ty + 4)}" text-anchor="end">'
            f"{escape(money_short(value))}</text>"
        )
    parts.append(
        f'<text class="axis-title" transform="translate(16 {_f(_TOP + plot_h / 2)}) rotate(-90)"'
        ' text-anchor="middle">£ in the year (nominal)</text>'
    )
    rotate = group < 60
    for i, label in enumerate(years):
        x0 = _LEFT + i * group
        centre = x0 + group / 2
        bars = []
        for kind, value, offset in (
            ("receipts", receipts[i], group / 2 - bar - 1),
            ("spend", spend[i], group / 2 + 1),
        ):
            top, bottom = sorted((y(value), y(0.0)))
            name = "Receipts" if kind == "receipts" else "Capital spend"
            bars.append(
                f'<rect class="bar {kind}" x="{_f(x0 + offset)}" y="{_f(top)}"'
                f' width="{_f(bar)}" height="{_f(max(bottom - top, 0.0))}">'
                f"<title>{escape(label)}: {name} {escape(_money_full(value))}</title></rect>"
            )
        ly = _TOP + plot_h + 16
        if rotate:
            text = (
                f'<text class="year" transform="translate({_f(centre)} {_f(ly)}) rotate(-45)"'
                f' text-anchor="end">{escape(label)}</text>'
            )
        else:
            text = (
                f'<text class="year" x="{_f(centre)}" y="{_f(ly)}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
        parts.append(f'<g class="bar-group" data-year="{escape(label)}">{"".join(bars)}{text}</g>')
    points = [(_LEFT + (i + 0.5) * group, y(v)) for i, v in enumerate(cumulative)]
    if points:
        path = " ".join(f"{_f(px)},{_f(py)}" for px, py in points)
        parts.append(f'<polyline class="cumulative" points="{path}"/>')
        for (px, py), label, value in zip(points, years, cumulative, strict=True):
            parts.append(
                f'<circle class="cumulative-point" cx="{_f(px)}" cy="{_f(py)}" r="3.5">'
                f"<title>{escape(label)}: cumulative net cash {escape(_money_full(value))}"
                "</title></circle>"
            )
    parts.append(
        f'<line class="axis" x1="{_f(_LEFT)}" y1="{_f(_TOP)}" x2="{_f(_LEFT)}"'
        f' y2="{_f(_TOP + plot_h)}"/>'
    )
    # Legend, below the year labels.
    ly = _CHART_HEIGHT - 12
    parts.append(
        '<g class="legend">'
        f'<rect class="bar receipts" x="{_f(_LEFT)}" y="{_f(ly - 10)}" width="14" height="10"/>'
        f'<text x="{_f(_LEFT + 20)}" y="{_f(ly)}">Capital receipts</text>'
        f'<rect class="bar spend" x="{_f(_LEFT + 140)}" y="{_f(ly - 10)}" width="14"'
        ' height="10"/>'
        f'<text x="{_f(_LEFT + 160)}" y="{_f(ly)}">Capital spend (builds, moves)</text>'
        f'<line class="cumulative" x1="{_f(_LEFT + 360)}" y1="{_f(ly - 5)}"'
        f' x2="{_f(_LEFT + 384)}" y2="{_f(ly - 5)}"/>'
        f'<circle class="cumulative-point" cx="{_f(_LEFT + 372)}" cy="{_f(ly - 5)}" r="3.5"/>'
        f'<text x="{_f(_LEFT + 392)}" y="{_f(ly)}">Cumulative net cash</text>'
        "</g>"
    )
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- map


@dataclass(frozen=True)
class MapSite:
    """A site on the static map (British National Grid metres)."""

    x: float
    y: float
    decision: str
    name: str
    number: int | None = None


@dataclass(frozen=True)
class MapMove:
    """Services moving from one site to another."""

    x0: float
    y0: float
    x1: float
    y1: float
    label: str


#: Legend text of each site decision; the symbols differ in shape so that grey print reads.
MAP_SYMBOLS = {
    "keep": "Kept",
    "host": "Kept, hosting other services",
    "keep_vacant": "Kept, vacant",
    "dispose": "Sold (capital receipt)",
    "exit_lease": "Lease given up",
    "build": "New build",
    "not_built": "Candidate not built",
}

_MAP_WIDTH = 720.0
_OVERVIEW_HEIGHT = 420.0
_DETAIL_HEIGHT = 300.0
_GAP = 10.0
_R = 5.5
# Sites closer than this on the overview (px) crowd each other: their group gets a detail.
_CROWDED_PX = 26.0
_MAX_DETAILS = 2

Box = tuple[float, float, float, float]  # left, top, right, bottom (px)


@dataclass(frozen=True)
class _Frame:
    """A panel of the map: where it sits on the page and the ground it shows (equal scale)."""

    left: float
    top: float
    width: float
    height: float
    centre_x: float
    centre_y: float
    scale: float  # px per metre

    @classmethod
    def fit(cls, box: Box, extent: Box, margin: float = 24.0) -> _Frame:
        """A panel ``box`` showing ``extent`` (min x, min y, max x, max y in metres)."""
        left, top, right, bottom = box
        span_x = max(extent[2] - extent[0], 500.0)
        span_y = max(extent[3] - extent[1], 500.0)
        scale = min((right - left - 2 * margin) / span_x, (bottom - top - 2 * margin - 24) / span_y)
        return cls(
            left,
            top,
            right - left,
            bottom - top,
            (extent[0] + extent[2]) / 2,
            (extent[1] + extent[3]) / 2,
            scale,
        )

    def px(self, x: float, y: float) -> tuple[float, float]:
        return (
            self.left + self.width / 2 + (x - self.centre_x) * self.scale,
            self.top + (self.height - 24) / 2 - (y - self.centre_y) * self.scale,
        )

    @property
    def ground(self) -> Box:
        """The ground shown, in metres."""
        half_w, half_h = self.width / 2 / self.scale, (self.height - 24) / 2 / self.scale
        low = self.centre_y - half_h - 24 / self.scale
        return (self.centre_x - half_w, low, self.centre_x + half_w, self.centre_y + half_h)


def _symbol(decision: str, x: float, y: float) -> str:
    cls = f'class="site site-{escape(decision)}"'
    if decision == "dispose":
        d = _R * 0.9
        return (
            f'<path {cls} d="M{_f(x - d)},{_f(y - d)}L{_f(x + d)},{_f(y + d)}'
            f'M{_f(x - d)},{_f(y + d)}L{_f(x + d)},{_f(y - d)}"/>'
        )
    if decision == "exit_lease":
        d = _R * 0.85
        return (
            f'<rect {cls} x="{_f(x - d)}" y="{_f(y - d)}"'
            f' width="{_f(2 * d)}" height="{_f(2 * d)}"/>'
        )
    if decision in {"build", "not_built"}:
        d = _R * 1.25
        return (
            f'<path {cls} d="M{_f(x)},{_f(y - d)}L{_f(x + d * 0.95)},{_f(y + d * 0.7)}'
            f'L{_f(x - d * 0.95)},{_f(y + d * 0.7)}Z"/>'
        )
    return f'<circle {cls} cx="{_f(x)}" cy="{_f(y)}" r="{_f(_R)}"/>'


def _overlap(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(width, 0.0) * max(height, 0.0)


def _place_labels(
    labels: list[tuple[float, float, str]], obstacles: list[tuple[float, float]], bounds: Box
) -> list[tuple[float, float, str]]:
    """Put each short label beside its point where it covers the fewest others (greedy)."""
    placed: list[Box] = []
    fixed = [(x - _R, y - _R, x + _R, y + _R) for x, y in obstacles]
    out = []
    for x, y, label in labels:
        w, h = 6.5 * len(label) + 2, 11.0
        best, best_cost = (x, y, x + w, y + h), math.inf
        for dx, dy in ((1, -1), (1, 1), (-1, -1), (-1, 1), (1, 0), (-1, 0), (0, -1), (0, 1)):
            left = x + dx * (_R + 2) - (w if dx < 0 else 0 if dx > 0 else w / 2)
            top = y + dy * (_R + 2) - (h if dy < 0 else 0 if dy > 0 else h / 2)
            box = (left, top, left + w, top + h)
            inside = (
                bounds[0] <= left
                and left + w <= bounds[2]
                and bounds[1] <= top
                and top + h <= bounds[3]
            )
            cost = 2 * sum(_overlap(box, o) for o in placed) + sum(_overlap(box, o) for o in fixed)
            cost += 0 if inside else 1e6
            if cost < best_cost:
                best, best_cost = box, cost
            if cost == 0:
                break
        placed.append(best)
        out.append((best[0] + 1, best[3] - 2, label))
    return out


def _scale_bar(frame: _Frame) -> str:
    metres_per_px = 1.0 / frame.scale
    target = frame.width * 0.25 * metres_per_px
    length = nice_step(target, 1)
    if length > target * 1.2:
        length = nice_step(target / 2, 1)
    px = length / metres_per_px
    x0, y0 = frame.left + 14, frame.top + frame.height - 20
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    return (
        f'<g class="scale-bar" data-metres="{_f(length)}" data-px="{_f(px)}">'
        f'<rect class="scale-dark" x="{_f(x0)}" y="{_f(y0)}" width="{_f(px / 2)}" height="5"/>'
        f'<rect class="scale-light" x="{_f(x0 + px / 2)}" y="{_f(y0)}" width="{_f(px / 2)}"'
        ' height="5"/>'
        f'<text x="{_f(x0)}" y="{_f(y0 + 16)}" text-anchor="middle">0</text>'
        f'<text x="{_f(x0 + px)}" y="{_f(y0 + 16)}" text-anchor="middle">{escape(label)}</text>'
        "</g>"
    )


def _north_arrow(frame: _Frame) -> str:
    x, y = frame.left + frame.width - 24, frame.top + 12
    return (
        '<g class="north-arrow">'
        f'<path d="M{_f(x)},{_f(y)}L{_f(x + 8)},{_f(y + 24)}L{_f(x)},{_f(y + 18)}Z"'
        ' class="north-dark"/>'
        f'<path d="M{_f(x)},{_f(y)}L{_f(x - 8)},{_f(y + 24)}L{_f(x)},{_f(y + 18)}Z"'
        ' class="north-light"/>'
        f'<text x="{_f(x)}" y="{_f(y + 37)}" text-anchor="middle">N</text>'
        "</g>"
    )


def _panel(
    frame: _Frame,
    key: str,
    title: str,
    sites: Sequence[MapSite],
    moves: Sequence[MapMove],
    demand: Sequence[tuple[float, float, float]],
    numbered: set[int],
) -> str:
    """One framed panel: demand dots, move arrows, site symbols, numbers, scale bar."""
    box = (frame.left, frame.top, frame.left + frame.width, frame.top + frame.height)
    parts = [
        f'<clipPath id="clip-{key}"><rect x="{_f(box[0])}" y="{_f(box[1])}"'
        f' width="{_f(frame.width)}" height="{_f(frame.height)}"/></clipPath>',
        f'<g class="map-panel" data-panel="{escape(key)}">',
        f'<rect class="map-frame" x="{_f(box[0] + 0.5)}" y="{_f(box[1] + 0.5)}"'
        f' width="{_f(frame.width - 1)}" height="{_f(frame.height - 1)}"/>',
        f'<g clip-path="url(#clip-{key})">',
    ]
    heaviest = max((d[2] for d in demand), default=0.0)
    for x, y, weight in demand:
        qx, qy = frame.px(x, y)
        radius = 1.5 + 4.0 * math.sqrt(max(weight, 0.0) / heaviest) if heaviest > 0 else 2.0
        parts.append(f'<circle class="demand" cx="{_f(qx)}" cy="{_f(qy)}" r="{_f(radius)}"/>')
    for move in moves:
        ax, ay = frame.px(move.x0, move.y0)
        bx, by = frame.px(move.x1, move.y1)
        length = math.hypot(bx - ax, by - ay)
        if length < 2 * _R + 4:
            continue
        ux, uy = (bx - ax) / length, (by - ay) / length
        gap = _R + 2
        parts.append(
            f'<line class="move" x1="{_f(ax + ux * gap)}" y1="{_f(ay + uy * gap)}"'
            f' x2="{_f(bx - ux * gap)}" y2="{_f(by - uy * gap)}" marker-end="url(#arrow)">'
            f"<title>{escape(move.label)}</title></line>"
        )
    # Sites that change are drawn last, so none hides under a kept neighbour.
    order = sorted(range(len(sites)), key=lambda i: sites[i].number is not None)
    screen = []
    for i in order:
        site = sites[i]
        qx, qy = frame.px(site.x, site.y)
        screen.append((qx, qy))
        title_text = f"{site.name}: {MAP_SYMBOLS.get(site.decision, site.decision)}"
        parts.append(
            f'<g class="map-site" data-x="{_f(qx)}" data-y="{_f(qy)}">'
            f"<title>{escape(title_text)}</title>{_symbol(site.decision, qx, qy)}</g>"
        )
    parts.append("</g>")
    inside = [
        (*frame.px(sites[i].x, sites[i].y), str(sites[i].number))
        for i in order
        if i in numbered and sites[i].number is not None
    ]
    inside = [
        label for label in inside if box[0] <= label[0] <= box[2] and box[1] <= label[1] <= box[3]
    ]
    for lx, ly, label in _place_labels(inside, screen, box):
        parts.append(f'<text class="site-number" x="{_f(lx)}" y="{_f(ly)}">{escape(label)}</text>')
    parts.append(_scale_bar(frame))
    if title:
        parts.append(
            f'<text class="panel-title" x="{_f(box[0] + 8)}" y="{_f(box[1] + 16)}">'
            f"{escape(title)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _crowded_groups(frame: _Frame, sites: Sequence[MapSite]) -> list[list[int]]:
    """Groups of sites that crowd each other on the overview, holding a site that changes;
    most changed sites first, at most ``_MAX_DETAILS``."""
    screen = [frame.px(s.x, s.y) for s in sites]
    parent = list(range(len(sites)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Sort by x so that only near neighbours are compared (a sweep, not every pair).
    by_x = sorted(range(len(sites)), key=lambda i: screen[i][0])
    for a, i in enumerate(by_x):
        for j in by_x[a + 1 :]:
            if screen[j][0] - screen[i][0] > _CROWDED_PX:
                break
            if math.hypot(screen[j][0] - screen[i][0], screen[j][1] - screen[i][1]) < _CROWDED_PX:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(sites)):
        groups.setdefault(root(i), []).append(i)
    crowded = [g for g in groups.values() if len(g) >= 3 and any(sites[i].number for i in g)]
    crowded.sort(key=lambda g: (-sum(sites[i].number is not None for i in g), min(g)))
    return crowded[:_MAX_DETAILS]


def site_map(
    sites: Sequence[MapSite],
    moves: Sequence[MapMove],
    demand: Sequence[tuple[float, float, float]] = (),
) -> str:
    """A static map: sites by decision, moves as arrows, demand as dots, scale and north.

    Coordinates are British National Grid metres (EPSG:27700), so the projection is a plain
    scale with grid north up. ``demand`` holds ``(x, y, weight)``; dots grow with weight.
    Sites with a ``number`` are labelled with it. Where sites crowd each other on the
    overview, up to two detail panels (A, B) below show them larger, and the overview marks
    their ground with a lettered box.
    """
    xs = [s.x for s in sites] + [d[0] for d in demand] or [0.0]
    ys = [s.y for s in sites] + [d[1] for d in demand] or [0.0]
    overview = _Frame.fit(
        (0, 0, _MAP_WIDTH, _OVERVIEW_HEIGHT), (min(xs), min(ys), max(xs), max(ys))
    )
    groups = _crowded_groups(overview, sites)
    details: list[tuple[_Frame, str, list[int]]] = []
    top = _OVERVIEW_HEIGHT + _GAP
    width = (_MAP_WIDTH - _GAP * (len(groups) - 1)) / max(len(groups), 1)
    for k, group in enumerate(groups):
        gx = [sites[i].x for i in group]
        gy = [sites[i].y for i in group]
        pad = max(max(gx) - min(gx), max(gy) - min(gy)) * 0.12 + 100.0
        extent = (min(gx) - pad, min(gy) - pad, max(gx) + pad, max(gy) + pad)
        left = k * (width + _GAP)
        frame = _Frame.fit((left, top, left + width, top + _DETAIL_HEIGHT), extent)
        details.append((frame, "AB"[k], group))
    in_detail = {i for _, _, group in details for i in group}
    legend, legend_h = _map_legend(
        {s.decision for s in sites},
        bool(moves),
        bool(demand),
        top + (_DETAIL_HEIGHT if details else -_GAP),
    )
    height = top + (_DETAIL_HEIGHT if details else -_GAP) + legend_h
    parts = [
        f'<svg class="site-map" viewBox="0 0 {_f(_MAP_WIDTH)} {_f(height)}" role="img"'
        ' aria-labelledby="map-title">',
        '<title id="map-title">Sites by decision and services moved</title>',
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
        ' markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0L10,5L0,10Z" class="arrow-head"/></marker>'
        "</defs>",
        _panel(
            overview,
            "overview",
            "",
            sites,
            moves,
            demand,
            {i for i in range(len(sites)) if i not in in_detail},
        ),
    ]
    for frame, letter, group in details:
        ground = frame.ground
        a = overview.px(ground[0], ground[3])
        b = overview.px(ground[2], ground[1])
        parts.append(
            f'<g class="detail-mark"><rect x="{_f(a[0])}" y="{_f(a[1])}"'
            f' width="{_f(b[0] - a[0])}" height="{_f(b[1] - a[1])}"/>'
            f'<text x="{_f(b[0] + 3)}" y="{_f(a[1] + 10)}">{letter}</text></g>'
        )
        parts.append(
            _panel(frame, f"detail-{letter}", f"{letter}: detail", sites, moves, demand, set(group))
        )
    parts.append(_north_arrow(overview))
    parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


def _map_legend(decisions: set[str], moves: bool, demand: bool, top: float) -> tuple[str, float]:
    """The key below the panels, three entries a row; returns the SVG and its height."""
    entries = [d for d in MAP_SYMBOLS if d in decisions]
    entries += sorted(decisions - set(MAP_SYMBOLS))
    items = [(_symbol(d, 0, 0), MAP_SYMBOLS.get(d, d)) for d in entries]
    if moves:
        line = '<line class="move" x1="-9" y1="0" x2="7" y2="0" marker-end="url(#arrow)"/>'
        items.append((line, "Services moved"))
    if demand:
        items.append(('<circle class="demand" cx="0" cy="0" r="3.5"/>', "People (dot size)"))
    columns, row_h = 3, 20.0
    rows = math.ceil(len(items) / columns)
    parts = ['<g class="map-legend">']
    for i, (shape, label) in enumerate(items):
        x = 14 + (i % columns) * (_MAP_WIDTH / columns)
        y = top + 18 + (i // columns) * row_h
        parts.append(
            f'<g transform="translate({_f(x)} {_f(y)})">{shape}</g>'
            f'<text x="{_f(x + 16)}" y="{_f(y + 4)}">{escape(label)}</text>'
        )
    parts.append("</g>")
    return "".join(parts), rows * row_h + 14
