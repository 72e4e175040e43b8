"""Open generated maps in headless Chromium with the network shut off, as a person would.

Used by ``tests/test_browser.py`` and ``benchmarks/maps.py``, and, as a script, to take a
screenshot of a map for the documentation::

    python tests/browser.py maps/demo.html docs/demo-map.png          # offline
    python tests/browser.py maps/demo.html docs/demo-map.png --online # with web tiles

A map carries Leaflet inside it, so every request except to the page's own file is
refused; web tiles (in a map made with ``--tiles``) are answered with a blank tile, refused,
or, with ``--online``, fetched. Pages open with reduced motion asked for, which the maps
honour by zooming without animation, so that tests need not wait for animations.
"""

from __future__ import annotations

import argparse
import math
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, Request, Route, sync_playwright

CHROMIUM = os.environ.get("TOTALCAPITAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TILE_HOST = "tile.openstreetmap.org"
INK = (34, 34, 34)


def launch(playwright: Playwright) -> Browser:
    """Launch the system Chromium; a missing browser is an error, never a skip."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(
            f"Chromium not found at {CHROMIUM}; install it (Debian: apt-get install chromium) "
            "or point TOTALCAPITAL_CHROMIUM at a Chromium binary"
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def blank_tile() -> bytes:
    """A 256 x 256 light-grey PNG, built here so that no image file is needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xee" * 256 for _ in range(256))
    header = struct.pack(">IIBBBBB", 256, 256, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@dataclass
class PageLog:
    """What a person (or a test) would notice: errors, alerts, and every request made."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def open_map(
    browser: Browser,
    path: Path,
    *,
    tiles: str = "blank",
    size: tuple[int, int] = (1280, 800),
) -> tuple[Page, PageLog]:
    """Open a map file with the network shut off, and wait for its sites to be drawn.

    Parameters
    ----------
    tiles : {"blank", "refuse", "online"}
        Answer web-tile requests with a blank tile, refuse them, or let them through.
    size : (width, height)
        The window, in CSS pixels.
    """
    page = browser.new_page(viewport={"width": size[0], "height": size[1]}, reduced_motion="reduce")
    log = PageLog()
    page.on(
        "console",
        lambda message: (
            log.errors.append(f"{message.text} at {message.location.get('url', '')}")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: log.errors.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: (log.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: log.requests.append(request.url))
    tile = blank_tile()

    def handle(route: Route, request: Request) -> None:
        url = request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        elif TILE_HOST in url and tiles == "blank":
            route.fulfill(body=tile, content_type="image/png")
        elif TILE_HOST in url and tiles == "online":
            route.continue_()
        else:
            route.abort()

    page.route("**/*", handle)
    page.goto(path.resolve().as_uri())
    page.wait_for_selector(".leaflet-container")
    page.wait_for_selector(".tc-marker", state="attached")
    return page, log


# --------------------------------------------------------------------------- what is on screen


def marker_boxes(page: Page, pane: int = 0) -> list[dict]:
    """Every site symbol and cluster drawn inside a map, with its box on screen.

    Returns
    -------
    list of dict
        ``x``, ``y``, ``w``, ``h`` (CSS pixels), ``site`` (the site's position in the
        result, or None for a cluster) and ``count`` (sites it stands for).
    """
    return page.evaluate(
        """(pane) => {
            const map = document.querySelectorAll('.leaflet-container')[pane];
            const frame = map.getBoundingClientRect();
            return Array.from(map.querySelectorAll('.tc-marker')).map((node) => {
                const r = node.getBoundingClientRect();
                return {x: r.left, y: r.top, w: r.width, h: r.height,
                        site: node.hasAttribute('data-site') ? Number(node.dataset.site) : null,
                        count: node.hasAttribute('data-count') ? Number(node.dataset.count) : 1,
                        inside: r.left >= frame.left && r.right <= frame.right
                            && r.top >= frame.top && r.bottom <= frame.bottom};
            });
        }""",
        pane,
    )


def overlapping_pairs(boxes: list[dict]) -> list[tuple[dict, dict]]:
    """Pairs of boxes that share any area (touching edges do not count)."""
    pairs = []
    ordered = sorted(boxes, key=lambda b: b["x"])
    for k, a in enumerate(ordered):
        for b in ordered[k + 1 :]:
            if b["x"] >= a["x"] + a["w"]:
                break
            if a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]:
                pairs.append((a, b))
    return pairs


def hover_path(page: Page, selector: str) -> None:
    """Move the mouse onto a visible part of an SVG path matching ``selector``.

    Points along the path and across its box (within the map) are tried in turn; the
    first where the path itself is the topmost thing on screen is hovered.
    """
    point = page.evaluate(
        """(selector) => {
          for (const path of document.querySelectorAll(selector)) {
            const frame = path.closest('.leaflet-container').getBoundingClientRect();
            const matrix = path.getScreenCTM();
            const onScreen = (x, y) => new DOMPoint(x, y).matrixTransform(matrix);
            const tries = [];
            const length = path.getTotalLength();
            for (let k = 1; k < 20; k++) { tries.push(path.getPointAtLength(length * k / 20)); }
            const box = path.getBBox();
            for (let i = 1; i < 12; i++) {
                for (let j = 1; j < 12; j++) {
                    tries.push({x: box.x + box.width * i / 12, y: box.y + box.height * j / 12});
                }
            }
            for (const at of tries) {
                const p = onScreen(at.x, at.y);
                const off = p.x < frame.left || p.x > frame.right;
                if (off || p.y < frame.top || p.y > frame.bottom) { continue; }
                if (document.elementFromPoint(p.x, p.y) === path) { return {x: p.x, y: p.y}; }
            }
          }
          return null;
        }""",
        selector,
    )
    if point is None:
        raise AssertionError(f"no part of {selector} can be pointed at")
    page.mouse.move(point["x"], point["y"])


def click_visible(page: Page, selector: str) -> None:
    """Click the middle of the first element matching ``selector`` that is on top there."""
    point = page.evaluate(
        """(selector) => {
            for (const node of document.querySelectorAll(selector)) {
                const r = node.getBoundingClientRect();
                const x = r.left + r.width / 2, y = r.top + r.height / 2;
                const top = document.elementFromPoint(x, y);
                if (top && node.contains(top)) { return {x, y}; }
            }
            return null;
        }""",
        selector,
    )
    if point is None:
        raise AssertionError(f"no {selector} can be clicked")
    page.mouse.click(point["x"], point["y"])


def popup_title(page: Page) -> str:
    return page.locator(".leaflet-popup-content h4").first.inner_text()


def click_site(page: Page, site: int, pane: int = 0, tries: int = 8) -> str:
    """Click a site as a person would, opening clusters on the way; returns the popup's title.

    Each click is a mouse click at the centre of what is drawn on screen, so a symbol
    hidden under another would open the other one's popup. When the site is neither on
    screen nor in a cluster on screen, the map goes back to its opening view first.
    """
    for attempt in range(tries):
        # As a person would, close the last popup before clicking what it may cover.
        page.evaluate(f"void totalcapital.pages[0].panes[{pane}].map.closePopup()")
        boxes = marker_boxes(page, pane)
        mine = [b for b in boxes if b["site"] == site and b["inside"]]
        if mine:
            box = mine[0]
            page.mouse.click(box["x"] + box["w"] / 2, box["y"] + box["h"] / 2)
            page.wait_for_selector(".leaflet-popup-content h4")
            return popup_title(page)
        holder = page.evaluate(
            """([pane, site]) => {
                const p = totalcapital.pages[0].panes[pane];
                const item = (p.visible || []).find((it) => it.members.length > 1
                    && it.members.indexOf(site) >= 0);
                if (!item || !item.marker || !item.marker.getElement()) { return null; }
                const r = item.marker.getElement().getBoundingClientRect();
                const frame = p.map.getContainer().getBoundingClientRect();
                const inside = r.left >= frame.left && r.right <= frame.right
                    && r.top >= frame.top && r.bottom <= frame.bottom;
                return inside ? {x: r.left + r.width / 2, y: r.top + r.height / 2} : null;
            }""",
            [pane, site],
        )
        if holder is None and attempt == 0:
            reset_view(page, pane)
            continue
        if holder is None:
            raise AssertionError(f"site {site} is neither drawn nor in a drawn cluster")
        page.mouse.click(holder["x"], holder["y"])
    raise AssertionError(f"site {site} still not shown after {tries} clicks")


def reset_view(page: Page, pane: int = 0) -> None:
    page.evaluate(
        f"""(() => {{ const p = totalcapital.pages[0].panes[{pane}];
            p.map.closePopup(); p.closeSpider(); p.reset(); }})()"""
    )


# --------------------------------------------------------------------------- colours


def _rgb(text: str) -> tuple[int, ...] | None:
    """(r, g, b) of a computed CSS colour; None for "none" or fully transparent."""
    text = text.strip()
    if not text.startswith("rgb"):
        return None
    parts = [float(v) for v in text[text.index("(") + 1 : -1].replace("/", ",").split(",")]
    if len(parts) == 4 and parts[3] == 0:
        return None
    return tuple(int(round(v)) for v in parts[:3])


def legend_keys(page: Page) -> list[tuple[str, set[tuple[int, ...]]]]:
    """Each legend row's text and the colours its swatch uses, less black ink and white."""
    rows = page.evaluate(
        """() => Array.from(document.querySelectorAll('.tc-legend .tc-key')).map((row) => {
            const colours = [];
            row.querySelectorAll('.tc-swatch svg *').forEach((shape) => {
                const style = getComputedStyle(shape);
                colours.push(style.fill, style.stroke);
            });
            return [row.innerText.trim(), colours];
        })"""
    )
    keys = []
    for text, colours in rows:
        found = {_rgb(c) for c in colours} - {None, (255, 255, 255), INK, (0, 0, 0)}
        keys.append((text, found))
    return keys


def _lab(rgb: tuple[int, ...]) -> tuple[float, float, float]:
    linear = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in linear]
    x = (0.4124 * linear[0] + 0.3576 * linear[1] + 0.1805 * linear[2]) / 0.95047
    y = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    z = (0.0193 * linear[0] + 0.1192 * linear[1] + 0.9505 * linear[2]) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def colour_distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """CIEDE2000 colour difference of two sRGB colours (about 2.3 is just noticeable)."""
    l1, a1, b1 = _lab(a)
    l2, a2, b2 = _lab(b)
    c1, c2 = math.hypot(a1, b1), math.hypot(a2, b2)
    c_mean = (c1 + c2) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360
    h2p = math.degrees(math.atan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = h2p - h1p
    if c1p * c2p == 0:
        dh = 0
    elif dh > 180:
        dh -= 360
    elif dh < -180:
        dh += 360
    dhh = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_mean = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_mean = (h1p + h2p) / 2
    else:
        h_mean = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_mean - 30))
        + 0.24 * math.cos(math.radians(2 * h_mean))
        + 0.32 * math.cos(math.radians(3 * h_mean + 6))
        - 0.20 * math.cos(math.radians(4 * h_mean - 63))
    )
    d_theta = 30 * math.exp(-(((h_mean - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(cp_mean**7 / (cp_mean**7 + 25**7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    return math.sqrt(
        (dl / s_l) ** 2 + (dc / s_c) ** 2 + (dhh / s_h) ** 2 + r_t * (dc / s_c) * (dhh / s_h)
    )


# --------------------------------------------------------------------------- screenshots


def take_screenshot(
    browser: Browser,
    html: Path,
    png: Path,
    *,
    online: bool = False,
    size: tuple[int, int] = (1280, 800),
    view: tuple[float, float, int] | None = None,
) -> Path:
    """Save a PNG of a map as a person sees it, using an open browser.

    ``view`` (latitude, longitude, zoom) looks at one place instead of the whole plan.
    """
    page, log = open_map(browser, html, tiles="online" if online else "blank", size=size)
    try:
        if view is not None:
            page.evaluate(
                "([lat, lon, zoom]) => { for (const p of totalcapital.pages[0].panes) {"
                " p.map.setView([lat, lon], zoom, {animate: false}); } }",
                list(view),
            )
        if online:
            page.wait_for_load_state("networkidle")
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png))
    finally:
        page.close()
    if log.errors:
        raise RuntimeError("the map logged errors:\n" + "\n".join(log.errors))
    return png


def screenshot(html: Path, png: Path, **options) -> Path:
    """Launch Chromium, save a PNG of a map (see :func:`take_screenshot`), close Chromium."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            return take_screenshot(browser, html, png, **options)
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot a totalcapital map.")
    parser.add_argument("html", type=Path, help="map HTML file")
    parser.add_argument("png", type=Path, help="PNG file to write")
    parser.add_argument("--online", action="store_true", help="fetch web tiles")
    parser.add_argument("--size", default="1280x800", help="window WIDTHxHEIGHT in pixels")
    parser.add_argument("--view", help="LAT,LON,ZOOM to look at (default: the whole plan)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    view = None
    if args.view:
        lat, lon, zoom = args.view.split(",")
        view = (float(lat), float(lon), int(zoom))
    screenshot(args.html, args.png, online=args.online, size=(width, height), view=view)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
