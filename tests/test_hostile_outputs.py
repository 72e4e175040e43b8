"""Outputs under attack: re-runs, foreign folders, inputs as outputs, injections, received
result folders, and two runs at once. Nothing the user owns is ever lost or changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hostile_fixtures import (
    RUN,
    SERVICES,
    SITES,
    Case,
    assert_clean,
    csv_register,
    edited,
    invoke,
    isolated_workspace,
    scenario,
    snapshot,
    steps,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from result_fixture import make_result

from totalcapital._output_files import output_lock
from totalcapital.cli import EXIT_BAD_INPUT
from totalcapital.exports import write_xlsx
from totalcapital.results import load_result, write_result

ROOT = Path(__file__).resolve().parents[1]
workspace = pytest.fixture(autouse=True)(isolated_workspace)


# --------------------------------------------------------------------------- runs and outputs


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """One clean run of the tiny estate; cases copy its result folder."""
    here = tmp_path_factory.mktemp("tiny")
    csv_register(here / "register")
    path = scenario(here)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(here / "cache"))
        patch.chdir(here)
        result = invoke("-q", "run", path, *RUN)
    assert result.exit_code == 0, result.output
    return here / "out" / "tiny"


def _run_tiny(here: Path, *options: str, estate: str = "register"):
    if not (here / "register").exists():
        csv_register(here / "register")
    path = scenario(here, estate=estate)
    return invoke("-q", "run", path, *RUN, *options)


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_rerun_over_a_lived_in_result_folder(tmp_path, workspace):
    """A second run replaces only what the first wrote: the user's files in and beside the
    folder stay, an edited output is kept aside, only our own stale staging is cleaned, and
    forged manifest entries reach nothing outside the folder."""
    assert _run_tiny(tmp_path).exit_code == 0
    out = tmp_path / "out"
    folder = out / "tiny"
    first = _manifest(folder)["run_id"]
    (folder / "notes.txt").write_text("my notes")
    (folder / "drafts").mkdir()
    (folder / "drafts" / "board-paper.docx").write_bytes(b"draft")
    (out / ".tiny.old").mkdir()
    (out / ".tiny.old" / "keep.txt").write_text("an old copy of the user's")
    (folder / "ledger.csv").write_text("my own edits")
    # Staging folders: a killed run's (process gone), an old one, and a look-alike of the user's.
    marker = {"pid": 2**22 + 12345, "host": os.uname().nodename, "created": time.time()}
    dead = out / ".tiny.tc-staging-deadbeef"
    dead.mkdir()
    (dead / ".totalcapital-staging").write_text(json.dumps(marker))
    (dead / "sites.csv").write_text("half written")
    old = out / ".tiny.tc-staging-0ld"
    old.mkdir()
    two_days_ago = time.time() - 2 * 86400
    (old / ".totalcapital-staging").write_text(
        json.dumps(dict(marker, pid=os.getpid(), created=two_days_ago))
    )
    lookalike = out / ".tiny.tc-staging-mine"
    lookalike.mkdir()
    (lookalike / "thesis.tex").write_text("not a staging folder: no marker")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    manifest = _manifest(folder)
    manifest["files"]["../../victim.txt"] = "0" * 64
    manifest["files"]["/etc/hostname"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest))
    users = (
        "out/tiny/notes",
        "out/tiny/drafts",
        "out/.tiny.old",
        "victim",
        "out/.tiny.tc-staging-mine",
    )
    mine = {k: v for k, v in snapshot(tmp_path).items() if k.startswith(users)}

    result = _run_tiny(tmp_path)
    assert_clean(result, 0, (), workspace)
    after = snapshot(tmp_path)
    assert {k: after.get(k) for k in mine} == mine
    manifest = _manifest(folder)
    assert manifest["run_id"] != first and manifest["complete"] is True
    assert not {"notes.txt", "drafts", "../../victim.txt", "/etc/hostname"} & set(manifest["files"])
    kept = [p for p in folder.iterdir() if p.name.startswith("ledger.edited-")]
    assert len(kept) == 1 and kept[0].read_text() == "my own edits"
    assert (folder / "ledger.csv").read_text() != "my own edits"
    assert not dead.exists() and not old.exists()


def test_run_refuses_a_folder_it_did_not_write(tmp_path, workspace):
    (tmp_path / "out" / "tiny").mkdir(parents=True)
    (tmp_path / "out" / "tiny" / "summary.json").write_text('{"name": "tiny"}')
    before = snapshot(tmp_path)
    csv_register(tmp_path / "register")
    scenario(tmp_path)
    before = snapshot(tmp_path)
    result = invoke("run", "tiny.yaml", *RUN)
    assert_clean(result, EXIT_BAD_INPUT, ("out/tiny", "not replacing it"), workspace)
    assert snapshot(tmp_path) == before


OUTPUT_CASES = [
    Case(
        "output-dir-is-a-file",
        lambda here: steps((here / "out").write_text("mine"), _run_args(here)),
        ("out",),
    ),
    Case(
        "users-own-map",
        lambda here: steps(
            (here / "maps").mkdir(),
            (here / "maps" / "tiny.html").write_text("<html>my own page</html>"),
            _run_args(here),
        ),
        ("maps/tiny.html",),
    ),
    Case(
        "maps-dir-is-a-file",
        lambda here: steps((here / "maps").write_text("mine"), _run_args(here)),
        ("maps",),
    ),
    Case(
        "map-path-is-a-folder",
        lambda here: steps((here / "maps" / "tiny.html").mkdir(parents=True), _run_args(here)),
        ("maps/tiny.html",),
    ),
]


def _run_args(here: Path) -> list:
    csv_register(here / "register")
    return ["run", scenario(here).name, *RUN]


@pytest.mark.parametrize("case", OUTPUT_CASES, ids=lambda c: c.id)
def test_run_refuses_unusable_output_places_before_solving(case: Case, tmp_path, workspace):
    args = case.build(tmp_path)
    before = snapshot(tmp_path)
    result = invoke(*args)
    assert_clean(result, case.code, case.mentions, workspace)
    assert snapshot(tmp_path) == before


def test_run_refuses_to_write_over_its_own_input(tmp_path, tiny_run, workspace):
    shutil.copytree(tiny_run, tmp_path / "out" / "tiny")
    # The previous run's GeoPackage named as the register to plan: writing would destroy it.
    csv_register(tmp_path / "register")
    path = scenario(tmp_path, estate="out/tiny/results.gpkg")
    before = snapshot(tmp_path)
    result = invoke("run", path.name, *RUN)
    assert_clean(result, EXIT_BAD_INPUT, ("results.gpkg", "input"), workspace)
    assert snapshot(tmp_path) == before


def test_control_characters_outside_the_checked_columns_never_break_the_workbook(
    tmp_path, workspace
):
    sites = [dict(r, notes=f"line\x07{r['site_id']}\x1b[0m") for r in SITES]
    csv_register(tmp_path / "register", sites=sites)
    result = invoke("-q", "run", scenario(tmp_path).name, *RUN)
    assert_clean(result, 0, (), workspace)
    sheet = load_workbook(tmp_path / "out" / "tiny" / "results.xlsx")["sites"]
    texts = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any("line\\x07S1\\x1b[0m" in t for t in texts)


FORMULAE = {
    "S1": '=HYPERLINK("http://evil.example","click")',
    "S2": "+1+cmd|' /C calc'!A0",
    "S3": "@SUM(1,2)",
}


def test_formulae_in_names_are_written_as_text_and_numbers_stay_numbers(tmp_path, workspace):
    sites = [dict(r, name=FORMULAE[r["site_id"]]) for r in SITES]
    services = edited(SERVICES, "C1", org="-COUNCIL")
    sites = edited(sites, "S2", owner="-COUNCIL")
    csv_register(tmp_path / "register", sites=sites, services=services)
    result = invoke("-q", "run", scenario(tmp_path).name, *RUN)
    assert_clean(result, 0, (), workspace)
    folder = tmp_path / "out" / "tiny"
    workbook = load_workbook(folder / "results.xlsx")
    seen = set()
    numbers = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    assert cell.data_type == "s" and cell.quotePrefix, (sheet.title, cell.value)
                    seen.add(cell.value)
                elif isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    assert cell.data_type == "n"
                    numbers += 1
    assert set(FORMULAE.values()) | {"-COUNCIL"} <= seen
    assert numbers > 20
    sites_csv = (folder / "sites.csv").read_text(encoding="utf-8")
    for text in FORMULAE.values():
        assert "'" + text.replace('"', '""') in sites_csv
    ledger = pd.read_csv(folder / "ledger.csv")
    assert "'-COUNCIL" in set(ledger["partner"])
    # The escape is undone when the folder is read back.
    summary = invoke("summary", folder)
    assert_clean(summary, 0, ("-COUNCIL",), workspace)
    assert "'-COUNCIL" not in summary.output


def test_negative_money_stays_numeric_in_the_workbook(tmp_path):
    result = make_result()
    result.ledger["npv_gain"] = -abs(result.ledger["npv_gain"]) - 1
    write_xlsx(result, tmp_path / "r.xlsx")
    sheet = load_workbook(tmp_path / "r.xlsx")["ledger"]
    header = [c.value for c in sheet[1]]
    column = header.index("NPV gain (£)") + 1
    values = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
    assert values and all(c.data_type == "n" and c.value < 0 for c in values)


# --------------------------------------------------------------------------- result folders


def _received(here: Path, source: Path, damage: Callable[[Path], None]) -> Path:
    folder = here / "received"
    shutil.copytree(source, folder)
    shutil.copytree(source, here / "good")
    damage(folder)
    return folder


def _summary_edit(**changes) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        summary = json.loads((folder / "summary.json").read_text())
        summary.update(changes)
        (folder / "summary.json").write_text(json.dumps(summary))

    return damage


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


def _fifo_summary(folder: Path) -> None:
    (folder / "summary.json").unlink()
    os.mkfifo(folder / "summary.json")


def _incomplete(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["complete"] = False
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _damage_csv(path: Path, mutation: str, column: int, value) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    name = frame.columns[column % len(frame.columns)]
    if mutation == "drop-column":
        frame = frame.drop(columns=[name])
    elif mutation == "odd-values":
        for other in frame.columns:
            frame[other] = json.dumps(value) if not isinstance(value, str) else value
    elif mutation == "header-only":
        frame = frame.iloc[0:0]
    elif mutation == "extra-row":
        frame.loc[len(frame)] = [json.dumps(value)] * len(frame.columns)
    frame.to_csv(path, index=False)


def _rewrite_sites_layer(change: Callable) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        sites = gpd.read_file(folder / "results.gpkg", layer="sites")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
            change(sites).to_file(folder / "results.gpkg", layer="sites", driver="GPKG")

    return damage


RESULT_DAMAGE = {
    "invalid-json": (_write("summary.json", b"{not json"), ("summary.json",)),
    "zero-byte-summary": (_write("summary.json", b""), ("summary.json",)),
    "summary-a-list": (_write("summary.json", b"[1, 2]"), ("summary.json",)),
    "missing-totals": (_summary_edit(totals=None), ("summary.json", "totals")),
    "name-traversal": (_summary_edit(name="../../evil"), ("summary.json", "name")),
    "name-absolute": (_summary_edit(name="/tmp/tc-evil"), ("summary.json", "name")),
    "name-markup": (_summary_edit(name="[red]x[/]"), ("[red]x[/]",)),
    "name-control": (_summary_edit(name="x\x1b[2Jy"), ("\\x1b",)),
    "name-a-number": (_summary_edit(name=12), ("summary.json", "name")),
    "zero-byte-gpkg": (_write("results.gpkg", b""), ("results.gpkg",)),
    "random-gpkg": (_write("results.gpkg", os.urandom(2048)), ("results.gpkg",)),
    "binary-services": (_write("services.csv", b"\x00\xff" * 300), ("services.csv",)),
    "moves-missing": (lambda folder: (folder / "moves.csv").unlink(), ("moves.csv",)),
    # Not read by every command, but written by the run: the folder is not whole.
    "sites-csv-missing": (lambda folder: (folder / "sites.csv").unlink(), ("sites.csv",)),
    "summary-a-pipe": (_fifo_summary, ("summary.json", "pipe")),
    "interrupted-write": (_incomplete, ("interrupted",)),
    "totals-text": (_summary_edit(totals={"npv_saving": "abc"}), ("totals.npv_saving",)),
    "solve-text": (_summary_edit(solve={"gap": "x"}), ("solve.gap",)),
    "ledger-text": (lambda f: _damage_csv(f / "ledger.csv", "odd-values", 0, "abc"), ("ledger",)),
    "sites-without-crs": (
        _rewrite_sites_layer(lambda sites: sites.set_crs(None, allow_override=True)),
        ("results.gpkg", "coordinate reference system"),
    ),
    "sites-without-decision": (
        _rewrite_sites_layer(lambda sites: sites.drop(columns=["decision"])),
        ("results.gpkg", "decision"),
    ),
    "coverage-text": (
        lambda f: _damage_csv(f / "coverage.csv", "odd-values", 0, "abc"),
        ("coverage.csv",),
    ),
}


def _result_args(command: str, folder: Path) -> list:
    if command == "compare":
        return ["compare", "good", folder.name]
    return [command, folder.name]


@pytest.mark.parametrize("command", ["summary", "map", "compare"])
@pytest.mark.parametrize("damage", sorted(RESULT_DAMAGE))
def test_damaged_or_forged_result_folders_are_refused(
    command, damage, tmp_path, tiny_run, workspace
):
    harm, mentions = RESULT_DAMAGE[damage]
    folder = _received(tmp_path, tiny_run, harm)
    before = snapshot(tmp_path)
    result = invoke(*_result_args(command, folder))
    assert_clean(result, EXIT_BAD_INPUT, mentions, workspace)
    assert snapshot(tmp_path) == before
    assert not list(tmp_path.parent.glob("evil*")) and not Path("/tmp/tc-evil.html").exists()


def test_result_folder_that_is_a_file_or_missing(tmp_path, workspace):
    (tmp_path / "afile").write_text("x")
    for command in ("summary", "map"):
        for target in ("afile", "missing"):
            assert_clean(invoke(command, target), EXIT_BAD_INPUT, (target,), workspace)


MAP_TARGETS = {
    "map-over-summary": lambda: ["map", "good", "--out", "good/summary.json"],
    "map-over-folder": lambda: ["map", "good", "--out", "good"],
    "compare-over-csv": lambda: ["compare", "good", "good", "--map", "good/sites.csv"],
    "map-over-users-page": lambda: ["map", "good", "--out", "page.html"],
}


@pytest.mark.parametrize("target", sorted(MAP_TARGETS))
def test_maps_never_replace_inputs_or_other_files(target, tmp_path, tiny_run, workspace):
    shutil.copytree(tiny_run, tmp_path / "good")
    (tmp_path / "page.html").write_text("<html>the user's own page</html>")
    before = snapshot(tmp_path)
    result = invoke(*MAP_TARGETS[target]())
    assert_clean(result, EXIT_BAD_INPUT, (), workspace)
    assert snapshot(tmp_path) == before


def test_map_replaces_its_own_earlier_map(tmp_path, tiny_run, workspace):
    shutil.copytree(tiny_run, tmp_path / "good")
    assert_clean(invoke("map", "good"), 0, ("maps/tiny.html",), workspace)
    first = (tmp_path / "maps" / "tiny.html").stat().st_mtime_ns
    time.sleep(0.01)
    assert_clean(invoke("map", "good"), 0, (), workspace)
    assert (tmp_path / "maps" / "tiny.html").stat().st_mtime_ns != first


# --------------------------------------------------------------------------- concurrency


def test_concurrent_runs_to_one_output_never_mix(tmp_path):
    """Two real processes solve different plans under one name at the same time."""
    csv_register(tmp_path / "register")
    path = scenario(tmp_path)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "totalcapital.cli", "-q", "run", path.name, *RUN]
    processes = [
        subprocess.Popen(
            command + extra, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for extra in ([], ["-o", "keep_all"])
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    folder = tmp_path / "out" / "tiny"
    manifest = _manifest(folder)
    assert manifest["complete"] is True
    run_id = manifest["run_id"]
    summary = json.loads((folder / "summary.json").read_text())
    record = json.loads((folder / "decision_record.json").read_text())
    page = (tmp_path / "maps" / "tiny.html").read_text(encoding="utf-8")
    assert summary["run_id"] == record["run_id"] == run_id
    assert f"run {run_id}" in page
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_a_writer_waits_for_the_lock(tmp_path):
    folder = tmp_path / "out" / "colocate"
    done = threading.Event()

    def write() -> None:
        write_result(make_result(), folder)
        done.set()

    with output_lock(folder):
        writer = threading.Thread(target=write)
        writer.start()
        assert not done.wait(0.5), "wrote while another run held the lock"
        assert not folder.exists()
    writer.join(30)
    assert done.is_set() and load_result(folder).name == "colocate"


def test_a_damaged_cache_is_recomputed_not_fatal(tmp_path, workspace):
    assert _run_tiny(tmp_path).exit_code == 0
    cached = sorted((workspace / "cache").rglob("*.npz"))
    assert cached, "the first run cached its travel times"
    for path in cached:
        path.write_bytes(b"PK\x03\x04 not a zip any more")
    result = invoke("run", "tiny.yaml", *RUN)
    assert_clean(result, 0, ("damaged cache",), workspace)


UNICODE_NAMES = {
    "S1": "Gorsaf Dân Caerdydd 🔥",
    "S2": "市政厅 – Hôtel de Ville",
    "S3": "مكتبة \u202eevil",
}


def test_unicode_names_survive_a_run_and_print_safely(tmp_path, workspace):
    sites = [dict(r, name=UNICODE_NAMES[r["site_id"]]) for r in SITES]
    csv_register(tmp_path / "register", sites=sites)
    result = invoke("run", scenario(tmp_path).name, *RUN)
    assert_clean(result, 0, (), workspace)
    assert "\u202e" not in result.output  # shown as an escape, never reordering the terminal
    names = set(load_result(tmp_path / "out" / "tiny").sites["name"])
    assert names == set(UNICODE_NAMES.values())
    workbook = load_workbook(tmp_path / "out" / "tiny" / "results.xlsx")["sites"]
    cells = {c.value for row in workbook.iter_rows() for c in row}
    assert set(UNICODE_NAMES.values()) <= cells


_ODD_VALUES = st.sampled_from(
    ["abc", "", "=1+1", "[red]x[/]", "\x1b[2J", None, True, [], {}, [1, 2], 1e308, -1, "nan"]
)


@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(
        [
            "summary.totals",
            "summary.solve",
            "summary.scenario",
            "moves.csv",
            "services.csv",
            "ledger.csv",
            "coverage.csv",
        ]
    ),
    mutation=st.sampled_from(["drop-column", "odd-values", "header-only", "extra-row"]),
    column=st.integers(min_value=0, max_value=40),
    value=_ODD_VALUES,
    command=st.sampled_from(["summary", "map", "compare"]),
)
def test_generated_damage_to_a_received_result_folder(
    target, mutation, column, value, command, tmp_path, tiny_run, workspace
):
    here = Path(tempfile.mkdtemp(dir=tmp_path))
    folder = here / "received"
    shutil.copytree(tiny_run, folder)
    if target.startswith("summary."):
        part = target.split(".")[1]
        summary = json.loads((folder / "summary.json").read_text())
        keys = sorted(summary[part]) if isinstance(summary[part], dict) else []
        if mutation == "drop-column" and keys:
            summary[part].pop(keys[column % len(keys)])
        elif mutation == "odd-values" and keys:
            summary[part] = dict.fromkeys(keys, value)
        else:
            summary[part] = value
        (folder / "summary.json").write_text(json.dumps(summary))
    else:
        _damage_csv(folder / target, mutation, column, value)
    before = snapshot(here)
    os.chdir(here)
    args = ["compare", folder, folder] if command == "compare" else [command, folder]
    result = invoke(*args)
    assert result.exit_code in (0, EXIT_BAD_INPUT), result.output
    assert_clean(result, result.exit_code, (), workspace)
    after = snapshot(here)
    assert {k: v for k, v in after.items() if not k.startswith("maps")} == before
