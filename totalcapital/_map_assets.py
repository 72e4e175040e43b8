"""Leaflet's script, stylesheet and images, taken from an installed package.

A normal map loads Leaflet from a CDN; a self-contained map carries the same
release inline, read at run time from the ``django-js-lib-leaflet`` package
(BSD-licensed, no dependencies), so nothing of Leaflet lives in this repository.
The same files answer the CDN addresses when tests open a map with the network off.
"""

from __future__ import annotations

import base64
import importlib.resources
import re
from pathlib import Path

#: Leaflet is loaded from these CDN addresses in a normal map; the release matches the
#: installed package's, so a self-contained map shows exactly the same.
LEAFLET_JS_URL = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"
LEAFLET_CSS_URL = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css"
_PACKAGE = "js_lib_leaflet"
_PIP_NAME = "django-js-lib-leaflet"


def leaflet_assets() -> dict[str, Path]:
    """Installed files that stand in for the CDN addresses a map loads.

    Returns
    -------
    dict of str to Path
        ``{LEAFLET_JS_URL: leaflet.js, LEAFLET_CSS_URL: leaflet.css}``, plus the
        images the stylesheet refers to, keyed by their CDN address.

    Raises
    ------
    ImportError
        When the package bundling Leaflet is not installed.
    """
    try:
        root = importlib.resources.files(_PACKAGE) / "static" / _PACKAGE
    except ModuleNotFoundError as error:
        raise ImportError(
            f"Self-contained maps take Leaflet from the '{_PIP_NAME}' package; "
            f"install it with: pip install {_PIP_NAME}"
        ) from error
    folder = Path(str(root))
    base = LEAFLET_JS_URL.rsplit("/", 1)[0]
    assets = {LEAFLET_JS_URL: folder / "leaflet.js", LEAFLET_CSS_URL: folder / "leaflet.css"}
    for image in sorted((folder / "images").glob("*.png")):
        assets[f"{base}/images/{image.name}"] = image
    return assets


def inline_leaflet(page: str) -> str:
    """Replace a rendered page's Leaflet script and stylesheet links by their contents.

    The stylesheet's images become ``data:`` addresses, so the page requests nothing.
    """
    assets = leaflet_assets()
    # "</script" inside the inlined code would end the script element early.
    script = assets[LEAFLET_JS_URL].read_text(encoding="utf-8").replace("</script", "<\\/script")
    css = assets[LEAFLET_CSS_URL].read_text(encoding="utf-8")
    images = assets[LEAFLET_CSS_URL].parent / "images"

    def data_uri(match: re.Match[str]) -> str:
        data = base64.b64encode((images / match.group(1)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    css = re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", data_uri, css)
    script_tag = f'<script src="{LEAFLET_JS_URL}"></script>'
    css_tag = f'<link rel="stylesheet" href="{LEAFLET_CSS_URL}"/>'
    if script_tag not in page or css_tag not in page:
        raise RuntimeError("the rendered map does not load Leaflet from the expected address")
    page = page.replace(script_tag, f"<script>{script}</script>", 1)
    return page.replace(css_tag, f"<style>{css}</style>", 1)
