"""Open generated maps in headless Chromium with the network shut off.

Used by ``tests/test_browser.py`` and, as a script, to take a screenshot of a map
for the documentation::

    python tests/browser.py maps/demo.html docs/demo-map.png          # offline, no tiles
    python tests/browser.py maps/demo.html docs/demo-map.png --online # with base tiles

Requests to the CDN addresses of Leaflet are answered from the installed package
(see :func:`totalcapital.maps.leaflet_assets`); base tiles are answered with a
blank tile (or, with ``--online``, fetched); every other request is refused.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, Request, Route, sync_playwright

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from totalcapital.maps import leaflet_assets  # noqa: E402

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
    serve_assets: bool = True,
    tiles: str = "blank",
    size: tuple[int, int] = (1280, 800),
) -> tuple[Page, PageLog]:
    """Open a map file with the network shut off, and wait for its sites to be drawn.

    Parameters
    ----------
    serve_assets : bool
        Answer Leaflet's CDN addresses from the installed files; False refuses them
        too (the test of a self-contained map).
    tiles : {"blank", "refuse", "online"}
        Answer base-tile requests with a blank tile, refuse them, or let them through.
    """
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
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

    assets = leaflet_assets() if serve_assets else {}
    tile = blank_tile()

    def handle(route: Route, request: Request) -> None:
        url = request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        elif url in assets:
            route.fulfill(path=str(assets[url]))
        elif TILE_HOST in url and tiles == "blank":
            route.fulfill(body=tile, content_type="image/png")
        elif TILE_HOST in url and tiles == "online":
            route.continue_()
        else:
            route.abort()

    page.route("**/*", handle)
    page.goto(path.resolve().as_uri())
    page.wait_for_selector(".leaflet-container")
    page.wait_for_selector("path.tc-site", state="attached")
    return page, log


def take_screenshot(browser: Browser, html: Path, png: Path, *, online: bool = False) -> Path:
    """Save a PNG of a map as a person sees it (1280 x 800), using an open browser."""
    page, log = open_map(browser, html, tiles="online" if online else "blank")
    try:
        if online:
            page.wait_for_load_state("networkidle")
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png))
    finally:
        page.close()
    if log.errors:
        raise RuntimeError("the map logged errors:\n" + "\n".join(log.errors))
    return png


def screenshot(html: Path, png: Path, *, online: bool = False) -> Path:
    """Launch Chromium, save a PNG of a map, close Chromium."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            return take_screenshot(browser, html, png, online=online)
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot a totalcapital map.")
    parser.add_argument("html", type=Path, help="map HTML file")
    parser.add_argument("png", type=Path, help="PNG file to write")
    parser.add_argument("--online", action="store_true", help="fetch base tiles")
    args = parser.parse_args(argv)
    screenshot(args.html, args.png, online=args.online)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
