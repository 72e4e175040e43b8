"""The files a map page needs, shipped inside the package and written into every page.

Leaflet 1.9.4 (BSD 2-Clause, its licence in ``_static/leaflet/LICENSE``) is vendored
unchanged from the ``leaflet`` npm release; the map's own script and stylesheet sit
beside it. :func:`inline_assets` puts all of them into the page, so a map opens with no
network at all: emailed, on a laptop in a meeting room, or printed.

A page rendered by folium alone (``fmap.save``, a notebook) still names Leaflet's CDN
address, which the pinned version below matches, so it shows the same where there is
a network.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

#: Leaflet's release, vendored in ``_static/leaflet`` and named by the CDN addresses.
LEAFLET_VERSION = "1.9.4"
LEAFLET_JS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"
LEAFLET_CSS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"

STATIC = Path(__file__).resolve().parent / "_static"
_LEAFLET = STATIC / "leaflet"


def leaflet_assets() -> dict[str, Path]:
    """The vendored files that stand in for Leaflet's CDN addresses.

    Returns
    -------
    dict of str to Path
        ``{LEAFLET_JS_URL: leaflet.js, LEAFLET_CSS_URL: leaflet.css}``, plus the images
        the stylesheet refers to, keyed by their CDN address.
    """
    base = LEAFLET_JS_URL.rsplit("/", 1)[0]
    assets = {LEAFLET_JS_URL: _LEAFLET / "leaflet.js", LEAFLET_CSS_URL: _LEAFLET / "leaflet.css"}
    for image in sorted((_LEAFLET / "images").glob("*.png")):
        assets[f"{base}/images/{image.name}"] = image
    return assets


@cache
def map_script() -> str:
    """The script that draws a totalcapital map from its embedded data."""
    return _script_text(STATIC / "totalcapital-map.js")


@cache
def map_stylesheet() -> str:
    """The stylesheet of a totalcapital map: panels, symbols, print layout."""
    return (STATIC / "totalcapital-map.css").read_text(encoding="utf-8")


def _script_text(path: Path) -> str:
    # "</script" inside inlined code would end the script element early.
    return path.read_text(encoding="utf-8").replace("</script", "<\\/script")


@cache
def _leaflet_inline() -> tuple[str, str]:
    script = _script_text(_LEAFLET / "leaflet.js")
    css = (_LEAFLET / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        data = base64.b64encode((_LEAFLET / "images" / match.group(1)).read_bytes())
        return f"url(data:image/png;base64,{data.decode('ascii')})"

    return script, re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", data_uri, css)


def inline_assets(page: str) -> str:
    """Replace a rendered page's links to Leaflet by Leaflet itself.

    The stylesheet's images become ``data:`` addresses, so the page requests nothing.

    Raises
    ------
    RuntimeError
        When the page does not load Leaflet from the expected address (a folium
        upgrade that changed how pages are rendered).
    """
    script, css = _leaflet_inline()
    script_tag = f'<script src="{LEAFLET_JS_URL}"></script>'
    css_tag = f'<link rel="stylesheet" href="{LEAFLET_CSS_URL}"/>'
    if script_tag not in page or css_tag not in page:
        raise RuntimeError("the rendered map does not load Leaflet from the expected address")
    page = page.replace(script_tag, f"<script>{script}</script>", 1)
    return page.replace(css_tag, f"<style>{css}</style>", 1)
