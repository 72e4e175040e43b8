"""The board pack: one self-contained, printable HTML page of a scenario result.

Written for a finance officer and a board: the question the scenario asked, its
assumptions, the headline figures, the programme year by year (a chart and a table), the
dated decisions, what each partner gains or loses and any compensation between them,
cover before and after for every standard, a static map, and what the solver proved.

The page needs nothing from outside itself: the styles are inline, the chart and the map
are SVG drawn here, there is no script. It prints on A4 (``@page``), each part starting
where a reader would turn the page, tables never split across a row, and every mark that
carries meaning differs in shape or words as well as colour, so a black-and-white copy
reads. Every piece of text from a register or a scenario is HTML-escaped.

The sections are built in ``_report_sections.py``, the drawings in ``_report_svg.py``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from . import _report_sections as sections
from ._errors import TotalCapitalError
from ._report_html import CSS, get, text

if TYPE_CHECKING:
    from .results import ScenarioResult

log = logging.getLogger(__name__)

__all__ = ["GENERATOR", "board_pack", "check_target", "write_board_pack"]

#: The page's ``<meta name="generator">``: how an earlier board pack is recognised.
GENERATOR = "totalcapital board pack"


def board_pack(result: ScenarioResult) -> str:
    """The board pack of a result, as one self-contained HTML page.

    Parameters
    ----------
    result : ScenarioResult
        A solved scenario (e.g. read back by :func:`totalcapital.results.load_result`).

    Returns
    -------
    str
        A complete HTML document with inline CSS and SVG only: no script, no external
        style, font or image. Sections (``<section id=...>``): ``question``, ``headlines``,
        ``assumptions``, ``programme``, ``decisions``, ``partners``, ``coverage``, ``solver``,
        ``map``.
    """
    decisions, numbers = sections.decisions(result)
    title = f"Board pack: {result.name}"
    body = "".join(
        [
            '<header><p class="kicker">Board pack · shared public estate</p>',
            f"<h1>{text(result.name)}</h1></header>",
            sections.question(result),
            sections.headlines(result),
            sections.assumptions(result),
            sections.programme(result),
            decisions,
            sections.partners(result),
            sections.coverage(result),
            sections.solver(result),
            sections.map_section(result, numbers),
            f"<footer><p>Made by totalcapital {escape(__version__)} from the result of "
            f"scenario {text(result.name)}. Whole-life figures are net present values; "
            "the programme is in nominal £ of each financial year. Figures are only as good "
            "as the register and the scenario they come from.</p></footer>",
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en-GB"><head><meta charset="utf-8">'
        f'<meta name="generator" content="{GENERATOR}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text(title)}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _scenario_inputs(scenario: dict[str, Any]) -> list[Path]:
    """Files a scenario read (estate, demand, road network), as recorded in the result."""
    named = [
        get(scenario, "estate"),
        get(scenario, "demand", "points"),
        get(scenario, "demand", "lsoa", "centroids"),
        get(scenario, "demand", "lsoa", "population"),
        get(scenario, "travel", "network"),
    ]
    return [Path(str(p)) for p in named if p]


def check_target(path: str | Path, result_folder: str | Path, result: ScenarioResult) -> Path:
    """Refuse a board-pack file that would overwrite an input or anything but a board pack.

    Raises
    ------
    TotalCapitalError
        When ``path`` is not an ``.html`` file, is a folder, lies inside the result folder,
        is a file the scenario read, or is an existing file that is not an earlier board pack.
    """
    path = Path(path)
    if path.suffix.lower() not in {".html", ".htm"}:
        raise TotalCapitalError(
            f"{path}: expected a board-pack file ending in .html, "
            f"found '{path.suffix or 'no suffix'}'"
        )
    if path.is_dir():
        raise TotalCapitalError(f"{path}: expected a file to write, found a folder")
    target = path.resolve()
    folder = Path(result_folder).resolve()
    if target.is_relative_to(folder):
        raise TotalCapitalError(
            f"{path}: inside the result folder {result_folder}; the board pack never writes into "
            "a run's results (choose --out outside it)"
        )
    for source in _scenario_inputs(result.scenario or {}):
        if target == source.resolve():
            raise TotalCapitalError(f"{path}: a file the scenario reads; not overwriting it")
    if path.exists():
        with path.open("rb") as stream:
            head = stream.read(4096)
        if f'name="generator" content="{GENERATOR}"'.encode() not in head:
            raise TotalCapitalError(
                f"{path}: expected an earlier board pack or no file, found another file; "
                "not replacing it (choose another --out)"
            )
    return path


def write_board_pack(result: ScenarioResult, path: str | Path) -> Path:
    """Write the board pack to ``path`` whole or not at all; returns the path.

    The page is written beside its place and swapped in, so a failure never leaves half a
    page, and an earlier board pack is replaced only when the new one is complete.

    Raises
    ------
    TotalCapitalError
        When the file or its folder cannot be written (named, with the reason).
    """
    path = Path(path)
    page = board_pack(result)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".html", dir=path.parent)
    except OSError as exc:
        raise TotalCapitalError(f"{path}: cannot write the board pack: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(page)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(staging, 0o666 & ~mask)  # mkstemp makes the file private
        os.replace(staging, path)
    except OSError as exc:
        Path(staging).unlink(missing_ok=True)
        raise TotalCapitalError(f"{path}: cannot write the board pack: {exc.strerror}") from None
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    log.debug("Wrote the board pack of '%s' to %s", result.name, path)
    return path
