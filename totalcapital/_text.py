"""Text from users, made safe wherever it goes: terminals, spreadsheets, CSV files.

Estate registers, scenario files and result folders are written by people and programs we do
not control. Their text is checked at validation (control characters refused), and escaped
again on every output, so that a value that slips through can neither change a terminal,
start a spreadsheet formula nor break a workbook.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = [
    "CELL_TEXT_MAX",
    "FORMULA_TRIGGERS",
    "control_characters",
    "csv_field",
    "from_csv_field",
    "needs_formula_guard",
    "printable",
    "spreadsheet_text",
    "tidy_whitespace",
]

# C0 controls (but tab, newline and carriage return, which are whitespace), DEL and C1
# controls: never meaningful in a name, an id or a code, and some move a terminal's cursor.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Whitespace controls that break a cell or a line but mean a space (Excel's Alt+Enter).
_WHITESPACE_CONTROL = re.compile(r"[\t\n\r\x0b\x0c]+")
# Everything a terminal should show as an escape: all controls but newline, plus Unicode's
# bidirectional overrides and isolates, which can make text read in a different order.
_UNPRINTABLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

#: Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Excel holds at most this many characters in a cell.
CELL_TEXT_MAX = 32_767


def control_characters(text: str) -> list[str]:
    """The control characters in ``text`` (other than tab, newline, carriage return)."""
    return _CONTROL.findall(text)


def tidy_whitespace(text: str) -> str:
    """Tabs and line breaks inside a value become one space each run."""
    return _WHITESPACE_CONTROL.sub(" ", text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` for a terminal: control and bidirectional characters shown as escapes."""
    return _UNPRINTABLE.sub(_escape, str(text))


def needs_formula_guard(text: str) -> bool:
    """True when a spreadsheet would read ``text`` as a formula, or when it is an escaped one.

    The second case keeps the escape reversible: text that already begins with an apostrophe
    followed by a formula gets one more apostrophe.
    """
    if text.startswith(FORMULA_TRIGGERS):
        return True
    return text.startswith("'") and needs_formula_guard(text[1:])


def spreadsheet_text(text: str) -> str:
    """Text a workbook cell can hold: controls escaped, cut to Excel's cell limit."""
    text = _CONTROL.sub(_escape, text)
    if len(text) > CELL_TEXT_MAX:
        text = text[: CELL_TEXT_MAX - 1] + "…"
    return text


def csv_field(text: str) -> str:
    """A CSV text field no spreadsheet runs: a leading apostrophe before a formula trigger."""
    text = _CONTROL.sub(_escape, text)
    return "'" + text if needs_formula_guard(text) else text


def from_csv_field(text: str) -> str:
    """Undo :func:`csv_field`'s apostrophe when reading a CSV file back."""
    if text.startswith("'") and needs_formula_guard(text[1:]):
        return text[1:]
    return text


def _one_slip(a: str, b: str) -> bool:
    """``a`` is ``b`` with one slip of the keyboard: two letters swapped or one mistyped
    (any length from 4), or one letter missing or doubled (names of 6 or more, so "NHSE" is
    not "NHS" nor "name2" "name")."""
    if len(a) == len(b) and len(a) >= 4:
        differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(differ) == 1:
            return True
        return (
            len(differ) == 2
            and differ[1] == differ[0] + 1
            and (a[differ[0]], a[differ[1]]) == (b[differ[1]], b[differ[0]])
        )
    short, long = sorted((a, b), key=len)
    if len(long) - len(short) != 1 or len(short) < 6:
        return False
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def meant_name(
    name: str, known: Iterable[str], *, cut_short: bool = False, plurals: bool = False
) -> str | None:
    """The name of ``known`` that ``name`` (not itself one of them) was surely meant to be:
    the same in other capitals, spaces or hyphens ("Fire Station"), one slip of the keyboard
    away ("movabel", "moveable"), or 90% alike ("fire_staion"); with ``cut_short``, also one
    a 10-character name begins (a Shapefile cuts names to 10). With ``plurals``, a plural is
    a word of its own (a column "build_year", the year built, beside "build_years"). None
    if none."""
    known = [str(k) for k in known]
    plain = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    lowered = {}
    for candidate in known:
        lower = candidate.lower()
        if plain == lower:
            return candidate
        if cut_short and len(plain) == 10 and lower.startswith(plain):
            return candidate
        if plurals and plain in (lower + "s", lower[:-1] if lower.endswith("s") else None):
            continue
        lowered[lower] = candidate
    for lower, candidate in lowered.items():
        if _one_slip(plain, lower):
            return candidate
    close = difflib.get_close_matches(plain, list(lowered), n=1, cutoff=0.9)
    return lowered[close[0]] if close else None
