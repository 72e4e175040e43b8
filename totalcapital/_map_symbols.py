"""What the map's symbols mean: service-type glyphs, decision styles and one palette.

Three channels, so that no meaning rests on colour alone:

- the **glyph** inside a marker says what the building is used for (flame: fire station,
  shield: police, van: ambulance, book: library ...); types without a glyph show their
  initials;
- the **fill and outline** say what the plan does to it (a filled disc is kept, a ring
  round it hosts others, a struck-through ring is sold, a dashed ring's lease is given up,
  a star is new, a dotted ring is a plot not built), so the decision reads in a black and
  white print and to colour-blind readers;
- **colour** repeats the decision, or, when asked, shows the partner who owns the site.

The colours were chosen so that any two with different meanings that can be on screen
together differ by a CIEDE2000 distance of at least 12 (the browser tests check at least
10 on the rendered legend). Glyphs are paths on a 24 x 24 grid, filled with the even-odd
rule so that inner shapes cut holes.
"""

from __future__ import annotations

from typing import Any

from .scenario import plain_label

#: Built-in plain names of the service types the project knows; others get
#: :func:`totalcapital.scenario.plain_label` of their key, or the scenario's ``service_labels``.
SERVICE_LABELS = {
    "fire_station": "Fire station",
    "police_station": "Police station",
    "police_counter": "Police front desk",
    "ambulance_station": "Ambulance station",
    "library": "Library",
    "council_office": "Council office",
    "customer_service": "Council customer services",
    "gp_surgery": "GP surgery",
    "clinic": "Clinic",
    "community_health": "Community health team",
    "hospital": "Hospital",
    "care_home": "Care home",
    "school": "School",
    "depot": "Depot",
    "housing": "Housing",
    "office": "Offices",
}

_FLAME = (
    "M12 2C13 6 18 8.5 18 14a6 6 0 0 1-12 0c0-3 1.6-4.6 3-6 .2 2 1 3 2.2 3.4C11.4 8.6 10.6 "
    "5.4 12 2z"
)
_SHIELD = "M12 2 20 5v6c0 5.2-3.4 9.3-8 11-4.6-1.7-8-5.8-8-11V5z"
_CROSS = "M9 3h6v6h6v6h-6v6H9v-6H3V9h6z"
GLYPHS = {
    "fire_station": _FLAME,
    "police_station": _SHIELD,
    "police_counter": _SHIELD + "M12 5.2 7 7.1v3.9c0 3.6 2.1 6.6 5 8 2.9-1.4 5-4.4 5-8V7.1z",
    "ambulance_station": (
        "M1 5h13v11H1z M6.5 7.5h2V10H11v2H8.5v2.5h-2V12H4v-2h2.5z M14 8.5h4.5l3.5 4V16h-8z "
        "M3 18a2 2 0 1 0 4 0 2 2 0 1 0-4 0z M15 18a2 2 0 1 0 4 0 2 2 0 1 0-4 0z"
    ),
    "library": (
        "M2 5c3.5-1 7-.6 9.2 1.4V20C9 18.3 5.5 18 2 19z "
        "M22 5c-3.5-1-7-.6-9.2 1.4V20c2.2-1.7 5.7-2 9.2-1z"
    ),
    "council_office": (
        "M12 2 22 7H2z M3.5 8.5h17V10h-17z M5 11h2.5v7H5z M10.75 11h2.5v7h-2.5z "
        "M16.5 11H19v7h-2.5z M2.5 19h19v2.5h-19z"
    ),
    "customer_service": "M3 4h18v12h-9l-5 4.5V16H3z M11 6.5h2v2h-2z M11 9.5h2v5h-2z",
    "gp_surgery": _CROSS,
    "clinic": (
        "M12 2a10 10 0 1 0 .01 0z M12 4a8 8 0 1 1-.01 0z "
        "M10.5 7h3v3.5H17v3h-3.5V17h-3v-3.5H7v-3h3.5z"
    ),
    "community_health": (
        "M12 2.5a3.5 3.5 0 1 0 .01 0z M4.5 21c0-4.6 3.2-7.8 7.5-7.8s7.5 3.2 7.5 7.8z"
    ),
    "hospital": "M3 3h18v18H3z M7 6h3v4.5h4V6h3v12h-3v-4.5h-4V18H7z",
    "care_home": "M12 21 3.5 12.5A5 5 0 0 1 12 5.6a5 5 0 0 1 8.5 6.9z",
    "school": (
        "M12 3 23 8.5 12 14 1 8.5z M5.5 12v4.5C8.5 19 15.5 19 18.5 16.5V12L12 15.3z "
        "M20.5 9.5h1.2v6h-1.2z"
    ),
    "depot": "M10 3h4l4.5 15h-13z M8.8 8h6.4l.6 2H8.2z M7.6 12h8.8l.6 2H7z M3 19h18v2H3z",
    "housing": "M12 3 22 11.5h-3V21h-5v-6h-4v6H5v-9.5H2z",
    "office": "M5 21V3h14v18h-5v-4h-4v4z M8 6h3v3H8z M13 6h3v3h-3z M8 11h3v3H8z M13 11h3v3h-3z",
}
#: A site that houses no service (vacant, surplus, an unbuilt plot): an empty frame.
EMPTY_GLYPH = "M5 5h14v14H5z M7.5 7.5v9h9v-9z"
EMPTY_LABEL = "No service (empty)"

# Marker styles, drawn by the page's script (see _static/totalcapital-map.js, `siteSvg`):
# solid: filled disc, white glyph; ring: solid with a ring round it; light: pale disc, dark
# glyph; struck: white disc, coloured ring struck through; dashed: white disc, dashed ring;
# new: solid with a star; faint: dotted ring, faded.
DECISIONS = {
    "keep": {"label": "Kept", "colour": "#1f5fa8", "style": "solid"},
    "host": {"label": "Kept, hosting other services", "colour": "#7b3294", "style": "ring"},
    "keep_vacant": {"label": "Kept, empty", "colour": "#8fb3d9", "style": "light"},
    "dispose": {"label": "Sold (capital receipt)", "colour": "#c8102e", "style": "struck"},
    "exit_lease": {"label": "Lease given up", "colour": "#e08214", "style": "dashed"},
    "build": {"label": "New build", "colour": "#1a9850", "style": "new"},
    "not_built": {"label": "Candidate plot, not built", "colour": "#a0a0a0", "style": "faint"},
}
#: How each site looks as it is today (the "Today" view and years before its decision).
TODAY = {
    "operational": {"label": "In use today", "colour": "#1f5fa8", "style": "solid"},
    "surplus": {"label": "Surplus today (empty)", "colour": "#8fb3d9", "style": "light"},
    "candidate": {"label": "Candidate plot", "colour": "#a0a0a0", "style": "faint"},
}
#: A decision the page does not know (a newer result): drawn plainly, named as it is.
UNKNOWN_DECISION = {"colour": "#5c5c5c", "style": "solid"}

#: Demand points by what the plan does to their cover (shape repeats the meaning).
COVER = {
    "covered": {"label": "Reached before and after", "colour": "#4d4d4d", "shape": "dot"},
    "lost": {"label": "Loses cover", "colour": "#e7298a", "shape": "down"},
    "gained": {"label": "Gains cover", "colour": "#00a9e0", "shape": "up"},
    "never": {"label": "Not reached before or after", "colour": "#d4d4d4", "shape": "ring"},
}
COVER_TODAY = {
    "covered": {"label": "Reached today", "colour": "#4d4d4d", "shape": "dot"},
    "never": {"label": "Not reached today", "colour": "#d4d4d4", "shape": "ring"},
}
MOVE_COLOUR = "#8c510a"
AREA_COLOUR = "#80cdc1"

#: Partner colours, given in order of the partners' number of sites; partners past the
#: palette share "Other partners" rather than repeat a colour.
PARTNER_PALETTE = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e6ab02",
    "#66a61e",
    "#a6761d",
    "#1f78b4",
    "#b2182b",
)
OTHER_PARTNER_COLOUR = "#737373"
OTHER_PARTNERS_LABEL = "Other partners"


def service_label(service_type: str, labels: dict[str, str] | None = None) -> str:
    """The plain name of a service type: the scenario's, the built-in one, or its key in words."""
    if labels and labels.get(service_type):
        return str(labels[service_type])
    return SERVICE_LABELS.get(service_type) or plain_label(service_type)


def initials(label: str) -> str:
    """One or two letters standing for a type that has no glyph ("Youth centre" -> "YC")."""
    words = [w for w in label.replace("-", " ").split() if w[:1].isalnum()]
    letters = "".join(w[0] for w in words[:2]).upper()
    return letters or "?"


def partner_colours(site_counts: dict[str, int]) -> tuple[dict[str, str], bool]:
    """A colour per partner, the partners with most sites first; and whether any share
    the "Other partners" colour."""
    ordered = sorted(site_counts, key=lambda owner: (-site_counts[owner], owner))
    colours = {
        owner: PARTNER_PALETTE[i] if i < len(PARTNER_PALETTE) else OTHER_PARTNER_COLOUR
        for i, owner in enumerate(ordered)
    }
    return colours, len(ordered) > len(PARTNER_PALETTE)


def symbol_table() -> dict[str, Any]:
    """Every style the page's script draws with, sent once per page."""
    return {
        "decisions": DECISIONS,
        "today": TODAY,
        "unknown": UNKNOWN_DECISION,
        "cover": COVER,
        "coverToday": COVER_TODAY,
        "move": MOVE_COLOUR,
        "area": AREA_COLOUR,
        "other": {"label": OTHER_PARTNERS_LABEL, "colour": OTHER_PARTNER_COLOUR},
        "empty": {"label": EMPTY_LABEL, "glyph": EMPTY_GLYPH},
    }
