"""Hostile inputs for every command: one clean message, the documented exit code, no traceback.

Each case builds its inputs in a fresh folder (the working directory), runs one command
through the CLI, and checks: the exit code is the documented one, the output names the
file, row and column where that applies, there is no traceback, nothing in the folder
changed (bad input writes nothing), and the last-resort guard was not needed (no crash log).
Outputs, result folders and concurrent runs are in ``test_hostile_outputs.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from hostile_fixtures import (
    DEMAND,
    RUN,
    SERVICES,
    SITES,
    Case,
    assert_clean,
    crash_logs,
    csv_register,
    edited,
    gpkg_register,
    invoke,
    isolated_workspace,
    scenario,
    snapshot,
    steps,
    unreadable,
    write_csv,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from totalcapital import __version__
from totalcapital.cli import EXIT_BAD_INPUT, EXIT_INTERNAL

workspace = pytest.fixture(autouse=True)(isolated_workspace)


# --------------------------------------------------------------------------- cases


def _register(**parts) -> Callable[[Path], list]:
    def build(here: Path) -> list:
        csv_register(here / "register", **parts)
        return ["validate", "register"]

    return build


def _site(row: str, **changes: str) -> Callable[[Path], list]:
    return _register(sites=edited(SITES, row, **changes))


def _gpkg(**options) -> Callable[[Path], list]:
    def build(here: Path) -> list:
        gpkg_register(here / "estate.gpkg", **options)
        return ["validate", "estate.gpkg"]

    return build


def _bytes(name: str, data: bytes) -> Callable[[Path], list]:
    def build(here: Path) -> list:
        (here / name).write_bytes(data)
        return ["validate", name]

    return build


def _truncated(here: Path) -> list:
    gpkg_register(here / "whole.gpkg")
    data = (here / "whole.gpkg").read_bytes()
    (here / "whole.gpkg").unlink()
    (here / "estate.gpkg").write_bytes(data[: len(data) // 3])
    return ["validate", "estate.gpkg"]


def _degrees_as_metres(here: Path) -> list:
    # Norwich in longitude and latitude, labelled as British National Grid metres.
    def degrees(rows):
        return [dict(r, easting=str(1.29 + i / 100), northing="52.63") for i, r in enumerate(rows)]

    gpkg_register(here / "estate.gpkg", sites=degrees(SITES), demand=degrees(DEMAND))
    return ["validate", "estate.gpkg"]


def _metres_as_degrees(here: Path) -> list:
    gpkg_register(here / "estate.gpkg", crs="EPSG:4326")
    return ["validate", "estate.gpkg"]


def _swapped_layer(here: Path) -> list:
    swapped = [dict(r, easting=r["northing"], northing=r["easting"]) for r in SITES]
    csv_register(here / "register", sites=swapped)
    return ["validate", "register"]


def _fifo(here: Path) -> list:
    csv_register(here / "register")
    (here / "register" / "services.csv").unlink()
    os.mkfifo(here / "register" / "services.csv")
    return ["validate", "register"]


def _links(kind: str) -> Callable[[Path], list]:
    def build(here: Path) -> list:
        if kind == "dangling":
            (here / "estate.gpkg").symlink_to(here / "gone.gpkg")
        else:
            (here / "estate.gpkg").symlink_to(here / "loop.gpkg")
            (here / "loop.gpkg").symlink_to(here / "estate.gpkg")
        return ["validate", "estate.gpkg"]

    return build


def _only_layer(layer: str) -> Callable[[Path], list]:
    def build(here: Path) -> list:
        if layer == "sites":
            gpkg_register(here / "estate.gpkg", services=None, demand=None)
        else:
            pyogrio.write_dataframe(pd.DataFrame(SERVICES), here / "estate.gpkg", layer=layer)
        return ["validate", "estate.gpkg"]

    return build


def _postcode_register(here: Path, codes: bytes) -> list:
    """A register whose first site is located by postcode alone."""
    sites = edited(SITES, "S1", easting="", northing="", postcode="NR1 1AA")
    csv_register(here / "register", sites=sites)
    (here / "codes.csv").write_bytes(codes)
    return ["validate", "register"]


def _markup_file_name(here: Path) -> list:
    gpkg_register(here / "estate[red].gpkg", sites=edited(SITES, "S1", gia_m2="-5"))
    return ["validate", "estate[red].gpkg"]


def _bad_column_name(here: Path) -> list:
    sites = [dict(r, **{"notes\x1b[2J": "x"}) for r in SITES]
    csv_register(here / "register", sites=sites)
    return ["validate", "register"]


REGISTER_CASES = [
    Case("inf-floor-space", _site("S1", gia_m2="inf"), ("sites.csv", "S1", "gia_m2", "inf")),
    Case("nan-text-cost", _site("S2", running_cost="nan"), ("S2", "running_cost", "nan")),
    Case("1e308-value", _site("S2", market_value="1e308"), ("S2", "market_value", "1e+308")),
    Case("1e400-overflow", _site("S1", backlog_cost="1e400"), ("S1", "backlog_cost")),
    Case("minus-inf", _site("S1", disposal_cost="-inf"), ("S1", "disposal_cost")),
    Case("absurd-staff", _register(services=edited(SERVICES, "F1", staff="1e12")), ("staff",)),
    Case("absurd-km", _register(services=edited(SERVICES, "F1", max_move_km="1e9")), ("km",)),
    Case("inf-space", _register(services=edited(SERVICES, "C1", space_m2="inf")), ("C1",)),
    Case("inf-population", _register(demand=edited(DEMAND, "D2", population="inf")), ("D2",)),
    Case("huge-population", _register(demand=edited(DEMAND, "D1", population="1e300")), ("D1",)),
    Case("all-zero-demand", _register(demand=edited(DEMAND, population="0")), ("population",)),
    Case("no-sites", _register(sites=[]), ("sites.csv", "at least one")),
    Case("no-services", _register(services=[]), ("services.csv", "at least one")),
    Case("no-demand", _register(demand=[]), ("demand.csv", "at least one")),
    Case("degrees-as-bng", _degrees_as_metres, ("estate.gpkg:sites", "degrees")),
    Case("metres-as-degrees", _metres_as_degrees, ("estate.gpkg:sites", "EPSG:4326")),
    Case("no-crs", _gpkg(crs=None), ("estate.gpkg:sites", "coordinate reference system")),
    Case(
        "swapped-one-site",
        _site("S3", easting="307800", northing="624000"),
        ("S3", "swapped"),
    ),
    Case("swapped-layer", _swapped_layer, ("S1", "S2", "S3", "swapped")),
    Case("lonlat-swapped", _site("S1", easting="", northing="", lon="52.63", lat="1.29")),
    Case("bell-in-name", _site("S1", name="Fire\x07station"), ("S1", "name", "\\x07")),
    Case("escape-in-owner", _site("S2", owner="CO\x1b[31mUNCIL"), ("S2", "owner", "\\x1b")),
    Case("nul-in-id", _site("S1", site_id="S\x001"), ("sites.csv", "site_id")),
    Case("control-in-column-name", _bad_column_name, ("sites.csv", "\\x1b")),
    Case("markup-in-id", _site("S1", site_id="[bold]S1[/bold]", gia_m2="-5"), ("[bold]S1[/bold]",)),
    Case("unbalanced-markup", _site("S1", site_id="S1[/]", gia_m2="-5"), ("S1[/]",)),
    Case("markup-in-file-name", _markup_file_name, ("estate[red].gpkg",)),
    Case("megabyte-name", _site("S2", name="x" * 1_000_000), ("S2", "name", "1,000")),
    Case("invalid-date", _site("S3", lease_break="2026-02-30"), ("S3", "lease_break")),
    Case("year-99999", _site("S3", lease_break="99999-01-01"), ("S3", "lease_break")),
    Case("unknown-tenure", _site("S1", tenure="borrowed"), ("S1", "tenure", "borrowed")),
    Case("boolean-maybe", _site("S1", appliance_bays="maybe"), ("S1", "appliance_bays")),
    Case("zero-byte-gpkg", _bytes("estate.gpkg", b""), ("estate.gpkg", "empty")),
    Case("truncated-gpkg", _truncated, ("estate.gpkg",)),
    Case("random-bytes-gpkg", _bytes("estate.gpkg", os.urandom(4096)), ("estate.gpkg",)),
    Case("text-as-xlsx", _bytes("estate.xlsx", b"site_id,name\nS1,x\n"), ("estate.xlsx",)),
    Case("not-json-geojson", _bytes("sites.geojson", b"{not json"), ("sites.geojson",)),
    Case("binary-csv", _bytes("sites.csv", b"\xff\xfe\x00\x81" * 500), ("sites.csv",)),
    Case("dangling-link", _links("dangling"), ("estate.gpkg", "broken link")),
    Case("link-loop", _links("loop"), ("estate.gpkg",)),
    Case("pipe-not-file", _fifo, ("services.csv", "pipe")),
    Case("only-services-layer", _only_layer("services"), ("estate.gpkg", "sites")),
    Case("only-sites-layer", _only_layer("sites"), ("estate.gpkg", "services")),
    Case("missing-file", lambda here: ["validate", "nowhere.gpkg"], ("nowhere.gpkg",)),
    Case(
        "services-option-folder",
        lambda here: [*_register()(here), "--services", "register/.."],
        ("--services", "folder"),
    ),
    Case(
        "zero-byte-postcodes",
        lambda here: [*_postcode_register(here, b""), "--postcodes", "codes.csv"],
        ("codes.csv",),
    ),
    Case(
        "binary-postcodes",
        lambda here: [*_postcode_register(here, b"\xff\xfe\x00" * 50), "--postcodes", "codes.csv"],
        ("codes.csv",),
    ),
    Case(
        "absurd-postcode-coordinates",
        lambda here: [
            *_postcode_register(here, b"NR1 1AA,10,1e308,5e307\n"),
            "--postcodes",
            "codes.csv",
        ],
        ("S1",),
    ),
]


@pytest.mark.parametrize("case", REGISTER_CASES, ids=lambda c: c.id)
def test_hostile_register_is_refused_cleanly(case: Case, tmp_path, workspace):
    args = case.build(tmp_path)
    before = snapshot(tmp_path)
    result = invoke(*args)
    assert_clean(result, case.code, case.mentions, workspace)
    assert snapshot(tmp_path) == before


def test_unreadable_register_is_refused_cleanly(workspace):
    # Outside pytest's private temporary folder, so that an unprivileged id can reach it.
    folder = Path(tempfile.mkdtemp(prefix="tc-unreadable-"))
    try:
        folder.chmod(0o755)
        csv_register(folder / "register")
        with unreadable(folder / "register" / "sites.csv"):
            result = invoke("validate", folder / "register")
        assert_clean(result, EXIT_BAD_INPUT, ("sites.csv", "cannot be read"), workspace)
    finally:
        shutil.rmtree(folder)


# --------------------------------------------------------------------------- scenarios


def _scenario_case(*extra_yaml: str, text: str | None = None, estate="register"):
    def build(here: Path) -> list:
        csv_register(here / "register")
        path = scenario(here, estate=estate, text=text)
        if extra_yaml:
            path.write_text(path.read_text() + "".join(extra_yaml), encoding="utf-8")
        return ["run", path.name, *RUN]

    return build


def _scenario_bytes(data: bytes) -> Callable[[Path], list]:
    def build(here: Path) -> list:
        (here / "tiny.yaml").write_bytes(data)
        return ["run", "tiny.yaml", *RUN]

    return build


# A billion "x" from ten lines: each alias list repeats the one before ten times.
_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def _with_lines(*replace: tuple[str, str]) -> Callable[[Path], list]:
    def build(here: Path) -> list:
        csv_register(here / "register")
        path = scenario(here)
        text = path.read_text()
        for old, new in replace:
            assert old in text
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
        return ["run", path.name, *RUN]

    return build


def _network(here: Path) -> list:
    return _with_lines(("method: straight_line,", "method: network, network: roads.osm.pbf,"))(here)


SCENARIO_CASES = [
    Case("duplicate-top-key", _scenario_case("name: other\n"), ("tiny.yaml", "name", "twice")),
    Case(
        "duplicate-nested-key",
        _with_lines(("horizon_years: 25}", "horizon_years: 25, horizon_years: 5}")),
        ("horizon_years", "twice"),
    ),
    Case("inf-speed", _with_lines(("speed_kmh: 50", "speed_kmh: .inf")), ("speed_kmh",)),
    Case("absurd-speed", _with_lines(("speed_kmh: 50", "speed_kmh: 5000")), ("speed_kmh",)),
    Case("huge-circuity", _with_lines(("circuity: 1.3", "circuity: 1e308")), ("circuity",)),
    Case(
        "absurd-blue-light",
        _with_lines(("circuity: 1.3}", "circuity: 1.3, blue_light_factor: {fire_station: 1e9}}")),
        ("blue_light_factor",),
    ),
    Case("nan-minutes", _with_lines(("minutes: 10", "minutes: .nan")), ("minutes",)),
    Case("day-long-minutes", _with_lines(("minutes: 10", "minutes: 100000")), ("minutes",)),
    Case("huge-horizon", _with_lines(("horizon_years: 25", "horizon_years: 1e9")), ("horizon",)),
    Case(
        "nan-rate",
        _with_lines(("horizon_years: 25", "horizon_years: 25, discount_rate: .nan")),
        ("discount_rate",),
    ),
    Case(
        "inf-budget",
        _with_lines(("horizon_years: 25", "horizon_years: 25, capital_budget: .inf")),
        ("capital_budget",),
    ),
    Case(
        "huge-moving-cost",
        _with_lines(("horizon_years: 25", "horizon_years: 25, moving_cost_per_staff: 1e308")),
        ("moving_cost_per_staff",),
    ),
    Case(
        "inf-npv-floor",
        _with_lines(("allow_moves: true", "allow_moves: true\n  partner_npv_floor: -.inf")),
        ("partner_npv_floor",),
    ),
    Case(
        "huge-time-limit",
        _with_lines(("time_limit_seconds: 20", "time_limit_seconds: 1e308")),
        ("time_limit_seconds",),
    ),
    Case(
        "absurd-road-speed",
        _with_lines(("circuity: 1.3}", "circuity: 1.3, road_speeds_kmh: {motorway: 1e9}}")),
        ("road_speeds_kmh",),
    ),
    Case("feb-30", _with_lines(("2026-04-01", "2026-02-30")), ("start_date", "2026-02-30")),
    Case("year-9999", _with_lines(("2026-04-01", "9999-12-31")), ("start_date",)),
    Case("not-a-date", _with_lines(("2026-04-01", "tomorrow")), ("start_date",)),
    Case("yaml-bomb", _scenario_bytes(_BOMB.encode()), ("tiny.yaml",)),
    Case(
        "python-tag",
        _scenario_bytes(b"name: !!python/object/apply:os.system ['echo pwned']\n"),
        ("tiny.yaml",),
    ),
    Case("not-utf8", _scenario_bytes(b"name: \xff\xfe caf\xe9\n"), ("tiny.yaml", "UTF-8")),
    Case("a-list", _scenario_bytes(b"- a\n- b\n"), ("tiny.yaml", "mapping")),
    Case("huge-scenario", _scenario_bytes(b"description: '" + b"x" * 11_000_000 + b"'\n")),
    Case(
        "control-in-description",
        _scenario_case('description: "bell \\x07 here"\n'),
        ("description", "\\x07"),
    ),
    Case("markup-in-name", _with_lines(("name: tiny", "name: '[red]x[/red]'")), ("[red]x[/red]",)),
    Case("path-in-name", _with_lines(("name: tiny", "name: ../../evil")), ("../../evil",)),
    Case("estate-folder-empty", _scenario_case(estate="nothing_here/"), ()),
    Case("unknown-override", lambda here: [*_scenario_case()(here), "-o", "[nope]"], ("[nope]",)),
    Case(
        "missing-base",
        _with_lines(("name: tiny", "base: gone.yaml\nname: tiny")),
        ("gone.yaml",),
    ),
    Case(
        "scenario-is-folder",
        lambda here: steps((here / "tiny.yaml").mkdir(), ["run", "tiny.yaml", *RUN]),
        ("tiny.yaml",),
    ),
    Case(
        "zero-byte-demand-points",
        lambda here: steps(
            (here / "points.csv").write_bytes(b""),
            _scenario_case("demand: {points: points.csv}\n")(here),
        ),
        ("points.csv",),
    ),
    Case(
        "inf-demand-weights",
        lambda here: steps(
            write_csv(here / "points.csv", edited(DEMAND, "D3", population="inf")),
            _scenario_case("demand: {points: points.csv}\n")(here),
        ),
        ("points.csv", "population"),
    ),
    Case(
        "degrees-demand-points",
        lambda here: steps(
            write_csv(
                here / "points.csv", [dict(r, easting="1.29", northing="52.63") for r in DEMAND]
            ),
            _scenario_case("demand: {points: points.csv}\n")(here),
        ),
        ("points.csv",),
    ),
    Case(
        "swapped-demand-points",
        lambda here: steps(
            write_csv(
                here / "points.csv",
                [dict(r, easting=r["northing"], northing=r["easting"]) for r in DEMAND],
            ),
            _scenario_case("demand: {points: points.csv}\n")(here),
        ),
        ("S1", "swapped", "points.csv"),
    ),
    Case(
        "zero-byte-lsoa",
        lambda here: steps(
            (here / "c.csv").write_bytes(b""),
            (here / "p.csv").write_bytes(b""),
            _scenario_case(
                "demand: {lsoa: {centroids: c.csv, population: p.csv, authorities: [E07000148]}}\n"
            )(here),
        ),
        ("c.csv",),
    ),
    Case(
        "zero-byte-network",
        lambda here: steps((here / "roads.osm.pbf").write_bytes(b""), _network(here)),
        ("roads.osm.pbf",),
    ),
    Case(
        "text-as-network",
        lambda here: steps((here / "roads.osm.pbf").write_text("hello"), _network(here)),
        ("roads.osm.pbf",),
    ),
    Case("deep-nesting", _scenario_bytes(b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n"), ("deep",)),
    Case("bomb-in-a-value", _scenario_bytes((_BOMB + "description: *i\n").encode()), ("aliases",)),
    Case("alias-loop", _scenario_bytes(b"description: &a [*a]\n"), ("tiny.yaml",)),
    Case("unknown-home", _with_lines(("estate: register", "estate: ~nosuchuser/x.gpkg"))),
    Case("nul-in-path", _with_lines(("estate: register", 'estate: "reg\\0ister"')), ("estate",)),
]


@pytest.mark.parametrize("case", SCENARIO_CASES, ids=lambda c: c.id)
def test_hostile_scenario_is_refused_before_anything_is_written(case: Case, tmp_path, workspace):
    args = case.build(tmp_path)
    before = snapshot(tmp_path)
    started = time.perf_counter()
    result = invoke(*args)
    assert_clean(result, case.code, case.mentions, workspace)
    assert snapshot(tmp_path) == before
    assert time.perf_counter() - started < 10, "a hostile scenario must be refused quickly"


# --------------------------------------------------------------------------- import-osm

TOY_OSM = (
    '<?xml version="1.0"?>\n<osm version="0.6">\n'
    '<node id="1" version="1" lat="52.63" lon="1.29">'
    '<tag k="amenity" v="fire_station"/><tag k="name" v="=cmd|calc"/></node>\n'
    "</osm>\n"
)


def _osm(here: Path) -> Path:
    (here / "area.osm").write_text(TOY_OSM)
    return here / "area.osm"


def _import(*options: str, out: str = "o.gpkg", pbf: str = "area.osm") -> list:
    return ["import-osm", pbf, "--out", out, *options]


IMPORT_CASES = [
    Case(
        "zero-byte-pbf",
        lambda h: steps((h / "a.osm.pbf").write_bytes(b""), _import(pbf="a.osm.pbf")),
        ("a.osm.pbf",),
    ),
    Case(
        "text-pbf",
        lambda h: steps((h / "a.osm.pbf").write_text("hi"), _import(pbf="a.osm.pbf")),
        ("a.osm.pbf",),
    ),
    Case(
        "folder-pbf",
        lambda h: steps((h / "a.osm.pbf").mkdir(), _import(pbf="a.osm.pbf")),
        ("a.osm.pbf",),
    ),
    Case("missing-pbf", lambda h: _import(pbf="none.osm.pbf"), ("none.osm.pbf",)),
    Case(
        "out-is-input",
        lambda h: steps(_osm(h), _import(out="area.osm")),
        ("area.osm", "input"),
    ),
    Case(
        "out-is-input-by-link",
        lambda h: steps(
            _osm(h), (h / "link.gpkg").symlink_to(h / "area.osm"), _import(out="link.gpkg")
        ),
        ("link.gpkg", "input"),
    ),
    Case(
        "out-is-folder",
        lambda h: steps(_osm(h), (h / "o.gpkg").mkdir(), _import()),
        ("o.gpkg", "folder"),
    ),
    Case(
        "out-exists",
        lambda h: steps(_osm(h), (h / "o.gpkg").write_bytes(b"my completed register"), _import()),
        ("o.gpkg", "--overwrite"),
    ),
    Case(
        "out-is-fire-stations",
        lambda h: steps(
            _osm(h),
            write_csv(h / "fs.csv", [{"FRS_FULLNAME": "x"}]),
            _import("--fire-stations", "fs.csv", out="fs.csv"),
        ),
        ("fs.csv", "input"),
    ),
    Case(
        "zero-byte-fire-stations",
        lambda h: steps(
            _osm(h), (h / "fs.csv").write_bytes(b""), _import("--fire-stations", "fs.csv")
        ),
        ("fs.csv",),
    ),
    Case(
        "binary-fire-stations",
        lambda h: steps(
            _osm(h),
            (h / "fs.csv").write_bytes(b"\xff\x00" * 100),
            _import("--fire-stations", "fs.csv"),
        ),
        ("fs.csv",),
    ),
    Case(
        "not-json-boundaries",
        lambda h: steps(
            _osm(h),
            (h / "b.geojson").write_text("{nope"),
            _import("--boundaries", "b.geojson", "--authority", "E07000148"),
        ),
        ("b.geojson",),
    ),
    Case(
        "authority-without-boundaries",
        lambda h: steps(_osm(h), _import("--authority", "X")),
        ("--boundaries",),
    ),
]


@pytest.mark.parametrize("case", IMPORT_CASES, ids=lambda c: c.id)
def test_hostile_import_osm_is_refused_cleanly(case: Case, tmp_path, workspace):
    args = case.build(tmp_path)
    before = snapshot(tmp_path)
    result = invoke(*args)
    assert_clean(result, case.code, case.mentions, workspace)
    assert snapshot(tmp_path) == before


def test_import_osm_overwrites_only_when_asked(tmp_path, workspace):
    _osm(tmp_path)
    (tmp_path / "o.gpkg").write_bytes(b"old skeleton")
    result = invoke("import-osm", "area.osm", "--out", "o.gpkg", "--overwrite")
    assert_clean(result, 0, ("Wrote 1 sites",), workspace)
    sites = gpd.read_file(tmp_path / "o.gpkg", layer="sites")
    assert list(sites["name"]) == ["=cmd|calc"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["area.osm", "o.gpkg"]


# --------------------------------------------------------------------------- the command itself


def test_version_works_alone_and_with_options(workspace):
    for args in (["--version"], ["-q", "--version"], ["--version", "validate"]):
        result = invoke(*args)
        assert_clean(result, 0, (f"totalcapital {__version__}",), workspace)


def test_usage_errors_exit_2(workspace):
    for args in (["frobnicate"], ["[red]x[/]"], ["validate"], ["run", "x.yaml", "--output-dir"]):
        assert_clean(invoke(*args), 2, (), workspace)
    assert "[red]x[/]" in invoke("[red]x[/]").output


def test_internal_errors_are_one_line_with_the_traceback_in_a_log(monkeypatch, workspace):
    from totalcapital import estate

    def broken(*args, **kwargs):
        raise ZeroDivisionError("[bold]boom[/] \x1b[2J")

    monkeypatch.setattr(estate, "load_estate", broken)
    result = invoke("validate", "anything.gpkg")
    assert result.exit_code == EXIT_INTERNAL
    assert "Traceback" not in result.output and "\x1b" not in result.output
    assert "[bold]boom[/]" in result.output
    logs = crash_logs(workspace)
    assert len(logs) == 1 and str(logs[0]) in result.output.replace("\n", "")
    assert "ZeroDivisionError" in logs[0].read_text() and "Traceback" in logs[0].read_text()


# --------------------------------------------------------------------------- generated


_HOSTILE_TEXT = st.text(
    alphabet=st.sampled_from(
        list("aZ09 _-.,'\"[]/\\=+@|&<>;:%$")
        + [
            "\x00",
            "\x07",
            "\x1b",
            "\t",
            "\n",
            "\r",
            "\u202e",
            "\u200b",
            "é",
            "中",
            "🔥",
            "\x85",
            "\ufeff",
        ]
    ),
    max_size=40,
)
_HOSTILE_NUMBER = st.one_of(
    st.sampled_from(
        [
            "inf",
            "-inf",
            "nan",
            "NaN",
            "1e308",
            "1e309",
            "-0",
            "0x10",
            "1,000",
            "£5",
            "1_000",
            "١٢٣",
            "",
            " ",
            "1e-320",
            "99999999999999999999999",
            "+5",
            "5-",
            "Infinity",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
_FUZZ = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_FUZZ
@given(column=st.sampled_from(["site_id", "name", "owner", "tenure", "status"]), text=_HOSTILE_TEXT)
def test_generated_text_in_any_site_column(column, text, tmp_path, workspace):
    here = Path(tempfile.mkdtemp(dir=tmp_path))
    csv_register(here / "register", sites=edited(SITES, "S2", **{column: text}))
    result = invoke("validate", here / "register")
    assert_clean(result, result.exit_code, (), workspace)
    assert result.exit_code in (0, EXIT_BAD_INPUT), result.output
    if result.exit_code == 0:
        from totalcapital.estate import load_estate

        estate = load_estate(here / "register")
        values = [*estate.sites.index, *estate.sites["name"], *estate.sites["owner"]]
        assert not any(ch in str(v) for v in values for ch in "\x00\x07\x1b\x85")


@_FUZZ
@given(
    column=st.sampled_from(
        ["gia_m2", "running_cost", "market_value", "backlog_cost", "easting", "northing"]
    ),
    text=_HOSTILE_NUMBER,
)
def test_generated_numbers_in_any_site_column(column, text, tmp_path, workspace):
    here = Path(tempfile.mkdtemp(dir=tmp_path))
    csv_register(here / "register", sites=edited(SITES, "S1", **{column: text}))
    result = invoke("validate", here / "register")
    assert_clean(result, result.exit_code, (), workspace)
    assert result.exit_code in (0, EXIT_BAD_INPUT), result.output
    if result.exit_code == 0:
        from totalcapital.estate import load_estate

        sites = load_estate(here / "register").sites
        money = sites[["gia_m2", "running_cost", "market_value", "backlog_cost"]].to_numpy()
        assert (money >= 0).all() and (money <= 1e10).all()


@_FUZZ
@given(
    key=st.sampled_from(
        [
            "travel.straight_line_speed_kmh",
            "travel.circuity",
            "finance.discount_rate",
            "finance.horizon_years",
            "finance.capital_budget",
            "solver.time_limit_seconds",
            "solver.mip_gap",
            "rules.max_move_km",
            "finance.host_rent_share",
        ]
    ),
    value=_HOSTILE_NUMBER,
)
def test_generated_scenario_values(key, value, tmp_path, workspace):
    from totalcapital import ScenarioError, load_scenario

    here = Path(tempfile.mkdtemp(dir=tmp_path))
    section, name = key.split(".")
    (here / "s.yaml").write_text(f"{section}:\n  {name}: {json.dumps(value)}\n", encoding="utf-8")
    try:
        loaded = load_scenario(here / "s.yaml")
    except ScenarioError as exc:
        assert name in str(exc)
        return
    number = getattr(getattr(loaded, section), name)
    assert number is None or (0 <= float(number) <= 1e11)
