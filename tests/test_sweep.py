"""Sweeps and trade-off fronts on a real dask.distributed LocalCluster.

One cluster (2 worker processes, 1 thread and 1 GiB each) serves the module. The sweep tests
run the demo estate; the frontier tests a tiny estate built here, whose Pareto front can be
worked out by hand.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook
from shapely.geometry import Point
from typer.testing import CliRunner

import totalcapital
from totalcapital.cli import EXIT_BAD_INPUT, EXIT_POINTS_FAILED, app
from totalcapital.frontier import weight_step
from totalcapital.scenario import ScenarioError, load_scenario
from totalcapital.sweep import (
    POINT_FILES,
    load_sweep,
    make_point,
    run_point,
    run_points,
    unfinished,
)

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DEMO = ROOT / "data" / "estates" / "malton.gpkg"

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes; a point whose worker dies is reported at once."""
    import dask
    from distributed import Client, LocalCluster

    # Workers import the same totalcapital as this test process.
    package_root = str(Path(totalcapital.__file__).resolve().parents[1])
    paths = [package_root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        local = LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            memory_limit="1GiB",
            dashboard_address=None,
            scheduler_kwargs={"allowed_failures": 0},
            env={"PYTHONPATH": os.pathsep.join(paths)},
        )
    with local, Client(local) as client:
        yield client


def write_yaml(path: Path, data: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- sweep files


def test_sweep_file_problems_are_all_reported_at_once(tmp_path):
    sweep = write_yaml(
        tmp_path / "bad.yaml",
        {
            "scenario": str(SCENARIOS / "colocate.yaml"),
            "grid": {
                "overrides": [[], "no_such_override"],
                "parameters": {
                    "finance.discount_rate": [0.035, 2.0],
                    "standards.fire_8min.minutes": [8],
                },
            },
        },
    )
    with pytest.raises(ScenarioError) as caught:
        load_sweep(sweep)
    message = str(caught.value)
    assert "no override named 'no_such_override'" in message
    assert "no entry named 'fire_8min' in 'standards'" in message
    assert "fire_10min" in message  # the names that exist
    # The bad value is named once, with where it was.
    assert "finance.discount_rate" in message and "less than or equal to 0.25" in message
    assert message.count("less than or equal to 0.25") == 1

    typo = write_yaml(
        tmp_path / "typo.yaml", {"scenario": "colocate.yaml", "grids": {"parameters": {}}}
    )
    result = invoke("sweep", typo)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "unknown key 'grids'" in result.output and "grid" in result.output


def test_points_address_settings_lists_by_name_and_places(tmp_path):
    (tmp_path / "estates").mkdir()
    sweep = write_yaml(
        tmp_path / "places.yaml",
        {
            "name": "places",
            "scenario": str(SCENARIOS / "colocate.yaml"),
            "grid": {
                "parameters": {
                    "standards.ambulance_15min.minutes": [12, 18],
                    "travel.blue_light_factor.fire_station": [1.5],
                }
            },
            "places": {
                "estates": ["estates/north.gpkg"],
                "named": {"malton": {"estate": str(DEMO), "rules.max_move_km": 5}},
            },
        },
    )
    spec = load_sweep(sweep)
    assert spec.columns == (
        "standards.ambulance_15min.minutes",
        "travel.blue_light_factor.fire_station",
        "place",
    )
    assert len(spec.points) == 4
    by_values = {
        (p.values["standards.ambulance_15min.minutes"], p.values["place"]): p for p in spec.points
    }
    north = by_values[(12, "north")].scenario
    malton = by_values[(18, "malton")].scenario
    standards = {s.name: s.minutes for s in north.standards}
    assert standards == {"fire_10min": 10, "ambulance_15min": 12, "police_20min": 20}
    assert {s.name: s.minutes for s in malton.standards}["ambulance_15min"] == 18
    assert north.travel.blue_light_factor["fire_station"] == 1.5
    assert north.travel.blue_light_factor["police_station"] == 1.2  # untouched
    # Estate paths are relative to the sweep file; named places set anything.
    assert north.estate == (tmp_path / "estates" / "north.gpkg").resolve()
    assert malton.estate == DEMO and malton.rules.max_move_km == 5
    assert north.rules.max_move_km is None
    # Folder names: readable, distinct, and stable when the grid is read again.
    keys = [p.key for p in spec.points]
    assert len(set(keys)) == 4 and keys == [p.key for p in load_sweep(sweep).points]
    assert by_values[(12, "north")].key.startswith("12_1_5_north-")


def test_places_by_authority_replace_the_lsoa_selection(tmp_path):
    sweep = write_yaml(
        tmp_path / "authorities.yaml",
        {
            "scenario": str(SCENARIOS / "rutland.yaml"),
            "places": {"authorities": ["E06000017", "E07000167"]},
        },
    )
    spec = load_sweep(sweep)
    assert spec.name == "authorities" and spec.columns == ("place",)
    lsoa = {p.values["place"]: p.scenario.demand.lsoa for p in spec.points}
    assert {code: s.authorities for code, s in lsoa.items()} == {
        "E06000017": ["E06000017"],
        "E07000167": ["E07000167"],
    }
    # The rest of the LSOA settings stay the base scenario's.
    base = load_scenario(SCENARIOS / "rutland.yaml").demand.lsoa
    assert all(s.centroids == base.centroids for s in lsoa.values())


# --------------------------------------------------------------------------- sweeps on Dask


def _killing_runner(marker: Path, target: str):
    """Run points normally, but hold the target point until the test kills its worker."""

    def run(point, folder, cache_dir, inputs):
        if point.key == target:
            marker.write_text(str(os.getpid()))
            time.sleep(120)
        return run_point(point, folder, cache_dir, inputs)

    return run


def _counting_runner(log: Path):
    """Run points normally and note each point that really runs."""

    def run(point, folder, cache_dir, inputs):
        with log.open("a") as handle:
            handle.write(point.key + "\n")
        return run_point(point, folder, cache_dir, inputs)

    return run


def _stamps(folder: Path) -> dict[str, int]:
    return {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}


def test_sweep_survives_a_killed_point_and_resumes(cluster, tmp_path):
    sweep = write_yaml(
        tmp_path / "resume.yaml",
        {
            "name": "resume",
            "scenario": str(SCENARIOS / "colocate.yaml"),
            "grid": {
                "overrides": [[], "no_capital"],
                "parameters": {"finance.discount_rate": [0.02, 0.035]},
            },
        },
    )
    spec = load_sweep(sweep)
    key = {
        (tuple(p.values["overrides"]), p.values["finance.discount_rate"]): p.key
        for p in spec.points
    }
    done, killed = key[((), 0.02)], key[((), 0.035)]
    no_budget = {key[(("no_capital",), 0.02)], key[(("no_capital",), 0.035)]}
    out = tmp_path / "out"
    points_dir = out / "points"

    # First run: the worker running one point is killed mid-run.
    marker = tmp_path / "running.pid"

    def kill_when_running() -> None:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(int(marker.read_text()), signal.SIGKILL)

    killer = threading.Thread(target=kill_when_running)
    killer.start()
    first = run_points(spec.points, out, cluster, runner=_killing_runner(marker, killed))
    killer.join()
    status = {o.key: o for o in first}
    assert status[done].status == "optimal" and not status[done].reused
    assert status[killed].status == "worker_died" and "died" in status[killed].message
    for k in no_budget:  # failures are reported with their reason, and the rest go on
        assert status[k].status == "infeasible"
        assert "capital budget" in status[k].message
    assert not (points_dir / killed).exists()
    assert all((points_dir / done / name).is_file() for name in POINT_FILES)

    # A run killed while writing leaves a staging folder behind; a re-run clears it.
    leftover = points_dir / f".{killed}.abc123"
    leftover.mkdir()
    (leftover / "sites.csv").write_text("half a file")
    stamps = _stamps(points_dir / done)
    record = (points_dir / done / "sweep_point.json").read_text()

    # Resume: the finished point is kept untouched; the killed and failed points run again.
    ran = tmp_path / "ran.txt"
    second = run_points(spec.points, out, cluster, runner=_counting_runner(ran))
    assert sorted(ran.read_text().split()) == sorted({killed, *no_budget})
    status = {o.key: o for o in second}
    assert status[done].reused and status[done].status == "optimal"
    assert status[killed].status == "optimal" and not status[killed].reused
    assert _stamps(points_dir / done) == stamps
    assert (points_dir / done / "sweep_point.json").read_text() == record
    assert not leftover.exists()
    assert all((points_dir / killed / name).is_file() for name in POINT_FILES)
    # The redone point is an ordinary result, the same as the point run straight through.
    redone = json.loads((points_dir / killed / "sweep_point.json").read_text())
    assert redone["values"] == {"overrides": [], "finance.discount_rate": 0.035}
    assert redone["totals"]["npv_saving"] > 0
    assert redone["totals"]["npv_saving"] != status[done].record["totals"]["npv_saving"]

    # A folder missing a file is not finished: it runs again.
    (points_dir / done / "decision_record.json").unlink()
    ran.unlink()
    third = run_points(spec.points, out, cluster, runner=_counting_runner(ran))
    assert sorted(ran.read_text().split()) == sorted({done, *no_budget})
    assert {o.key for o in third if o.reused} == {killed}


def test_sweep_command_writes_the_summary_and_exits_6_on_failures(cluster, tmp_path):
    sweep = write_yaml(
        tmp_path / "cli.yaml",
        {
            "name": "cli",
            "scenario": str(SCENARIOS / "colocate.yaml"),
            "grid": {"overrides": [[], "no_capital"]},
            "places": {"estates": [str(DEMO), "missing.gpkg"]},
        },
    )
    address = cluster.scheduler.address
    result = invoke("-q", "sweep", sweep, "--output-dir", tmp_path / "out", "--scheduler", address)
    assert result.exit_code == EXIT_POINTS_FAILED, result.output
    folder = tmp_path / "out" / "cli"
    table = pd.read_csv(folder / "summary.csv")
    assert list(table["point"]) == [1, 2, 3, 4]
    assert list(zip(table["overrides"], table["place"], table["status"], strict=True)) == [
        ("none", "malton", "optimal"),
        ("none", "missing", "bad_input"),
        ("no_capital", "malton", "infeasible"),
        ("no_capital", "missing", "bad_input"),
    ]
    assert "missing.gpkg" in table.loc[1, "message"]
    ok = table.loc[0]
    saved = json.loads((folder / ok["folder"] / "summary.json").read_text())
    assert ok["npv_saving"] == pytest.approx(saved["totals"]["npv_saving"])
    assert ok["cover_fire_10min"] == pytest.approx(0.8790, abs=1e-4)
    assert ok["gap"] == 0 and ok["seconds"] > 0
    layer = gpd.read_file(folder / "summary.gpkg", layer="points")
    assert layer.crs.to_epsg() == 27700
    assert list(layer.geometry.isna()) == [False, True, True, True]
    # The hull of the demo's sites and demand: about 25 x 20 km around Malton.
    assert 1e8 < layer.geometry.iloc[0].area < 1e9
    workbook = load_workbook(folder / "summary.xlsx")
    assert workbook.sheetnames == ["points", "chart"]
    assert workbook["points"].max_row == 5
    assert len(workbook["chart"]._charts) == 1
    assert "4 points: 1 with a plan" in result.output

    # Run again: the finished point is kept, and no cluster is needed when nothing is left.
    again = invoke("-q", "sweep", sweep, "--output-dir", tmp_path / "out", "--scheduler", address)
    assert again.exit_code == EXIT_POINTS_FAILED
    assert "(1 kept from an earlier run)" in again.output


# --------------------------------------------------------------------------- trade-off fronts

#: F = 10 (rate 0, 10 years). H, the hub, is always kept and covers D0 (100 people); each of
#: A, B, C (and D) houses a fire station that may move to H, and alone covers its own town.
#: Keeping A costs 500k, B 300k, C 400k, D nothing; H 100k. Today all are kept: 1,300k.
TOWNS = {"H": 100, "A": 300, "B": 200, "C": 100, "D": 50}
RUNNING = {"H": 10_000, "A": 50_000, "B": 30_000, "C": 40_000, "D": 0}


def tiny_estate(folder: Path, with_d: bool, scale: float = 1.0) -> Path:
    """Sites 50 km apart in a row, each with its town 1 km north (1.2 minutes at 50 km/h)."""
    names = [n for n in TOWNS if with_d or n != "D"]
    x = {name: 450_000.0 + 50_000.0 * i for i, name in enumerate(names)}
    sites = gpd.GeoDataFrame(
        {
            "site_id": names,
            "name": names,
            "owner": "FIRE",
            "tenure": "freehold",
            "status": "operational",
            "gia_m2": [1000.0 if n == "H" else 100.0 for n in names],
            "running_cost": [float(RUNNING[n]) for n in names],
            "market_value": 0.0,
        },
        geometry=[Point(x[n], 480_000.0) for n in names],
        crs="EPSG:27700",
    )
    services = pd.DataFrame(
        {
            "service_id": [f"S{n}" for n in names],
            "org": "FIRE",
            "service_type": "fire_station",
            "current_site": names,
            "space_m2": 100.0,
            "staff": 0.0,
            "movable": [n != "H" for n in names],
            "fit_out_cost_per_m2": 0.0,
        }
    )
    demand = gpd.GeoDataFrame(
        {"demand_id": [f"T{n}" for n in names], "population": [TOWNS[n] * scale for n in names]},
        geometry=[Point(x[n], 481_000.0) for n in names],
        crs="EPSG:27700",
    )
    path = folder / "tiny.gpkg"
    sites.to_file(path, layer="sites", driver="GPKG", engine="pyogrio")
    gpd.GeoDataFrame(services).to_file(path, layer="services", driver="GPKG", engine="pyogrio")
    demand.to_file(path, layer="demand", driver="GPKG", engine="pyogrio")
    return write_yaml(
        folder / "tiny.yaml",
        {
            "name": "tiny",
            "estate": "tiny.gpkg",
            "travel": {
                "method": "straight_line",
                "straight_line_speed_kmh": 50,
                "circuity": 1.0,
                "blue_light_factor": {"fire_station": 1.0},
            },
            "finance": {"start_date": "2026-01-01", "horizon_years": 10, "discount_rate": 0.0},
            "standards": [
                {
                    "name": "fire_10min",
                    "service_types": ["fire_station"],
                    "minutes": 10,
                    "rule": "no_worse_than_today",
                }
            ],
            "locks": {"keep_sites": ["H"]},
        },
    )


def front(folder: Path) -> list[tuple[float, float]]:
    table = pd.read_csv(folder / "frontier.csv")
    on = table[table["on_front"]].sort_values("front_point")
    return list(zip(on["cover_weight"], on["npv_saving"].round(2), strict=True))


# Keep nothing / B / A / A+B / A+B+C (C alone, B+C and A+C are dominated): cover and saving.
FRONT = [(100, 1_200_000), (300, 900_000), (400, 700_000), (600, 400_000), (700, 0)]


def test_exact_frontier_finds_every_pareto_point(cluster, tmp_path):
    # D costs nothing to keep or close, so the solver may return either at a given epsilon;
    # the walk then finds the same cost with D's 50 people more and drops the first.
    scenario = tiny_estate(tmp_path, with_d=True)
    address = cluster.scheduler.address
    result = invoke(
        "-q", "frontier", scenario, "--standard", "fire_10min", "--output-dir", tmp_path / "out",
        "--scheduler", address, "--map-point", "3", "--maps-dir", tmp_path / "maps", "--no-tiles",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "tiny-frontier-fire_10min"
    assert front(folder) == [(cover + 50, saving) for cover, saving in FRONT]
    table = pd.read_csv(folder / "frontier.csv")
    assert table["verified"][table["on_front"]].all()
    assert (table["status"] == "optimal").all()
    dropped = table[~table["on_front"]]
    assert all(note.startswith("dominated by") for note in dropped["note"])
    for row in dropped.itertuples():  # a dropped point has no more cover at no less cost
        better = table[(table["on_front"]) & (table["cover_weight"] > row.cover_weight)]
        assert (better["npv_saving"] >= row.npv_saving - 0.5).any()
    # Each point is an ordinary result folder; the map shows front point 3 (A kept).
    third = json.loads((folder / table.loc[2, "folder"] / "summary.json").read_text())
    assert third["totals"]["sites_disposed"] == 2  # B and C sold, D and A kept
    map_html = (tmp_path / "maps" / "tiny-frontier-fire_10min-3.html").read_text()
    assert "Sites" in map_html
    chart = load_workbook(folder / "frontier.xlsx")["chart"]._charts[0]
    assert len(chart.series) == 1


def test_grid_frontier_drops_repeated_points(cluster, tmp_path):
    scenario = tiny_estate(tmp_path, with_d=False)
    result = invoke(
        "-q", "frontier", scenario, "--standard", "fire_10min", "--points", "6",
        "--output-dir", tmp_path / "out", "--scheduler", cluster.scheduler.address,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "tiny-frontier-fire_10min"
    assert front(folder) == FRONT
    table = pd.read_csv(folder / "frontier.csv")
    # Covers 200..700 in steps of 100 after the cheapest plan (100): 300 and 600 repeat.
    assert sorted(table["min_cover"]) == [0, 200, 300, 400, 500, 600, 700]
    repeated = table[~table["on_front"]]
    assert sorted(repeated["min_cover"]) == [300, 600]
    assert all(note.startswith("same cover and cost") for note in repeated["note"])


def test_exact_frontier_with_fractional_weights(cluster, tmp_path):
    scenario = tiny_estate(tmp_path, with_d=False, scale=0.005)  # 0.5, 1.5, 1.0, 0.5 people
    base = load_scenario(scenario)

    from totalcapital.frontier import exact_front, front_table, mark_front

    out = tmp_path / "out"
    outcomes, step = exact_front(
        base, "fire_10min", out / "points", lambda pts: run_points(pts, out, cluster)
    )
    assert step == 0.5
    table = front_table(mark_front(outcomes, "fire_10min"), "fire_10min")
    on = table[table["on_front"]]
    assert list(on["cover_weight"]) == pytest.approx([c * 0.005 for c, _ in FRONT])
    assert list(on["npv_saving"]) == pytest.approx([s for _, s in FRONT])
    assert len(table) == len(FRONT)


def test_weight_step_is_the_common_divisor_of_the_weights():
    assert weight_step([2400, 2500, 900]) == (100.0, True)
    assert weight_step([1.5, 2.25, 0.75]) == (0.75, True)
    assert weight_step([3, 0, 5]) == (1.0, True)  # zero weights never change cover
    step, exact = weight_step([1 / 3, 2 / 3])
    assert not exact and step == pytest.approx(1e-6)


def test_make_point_refuses_a_path_into_a_single_value():
    base = load_scenario(SCENARIOS / "colocate.yaml")
    with pytest.raises(ScenarioError, match="'finance.discount_rate' is a single value"):
        make_point(base, {"x": 1}, {"finance.discount_rate.low": 0.01})


def test_a_finished_point_runs_again_once_its_register_changes(tmp_path):
    """Resuming keeps a finished point only while the files it read are as they were: a
    corrected register must not leave the old answer in the summary. Touching a file
    without changing it keeps the point."""
    register = tmp_path / "estate.gpkg"
    register.write_bytes(DEMO.read_bytes())
    sweep = write_yaml(
        tmp_path / "stale.yaml",
        {
            "name": "stale",
            "scenario": str(SCENARIOS / "colocate.yaml"),
            "places": {"estates": [str(register)]},
        },
    )
    [point] = load_sweep(sweep).points
    out = tmp_path / "out"
    outcome = run_point(point, out / "points" / point.key)
    assert outcome.status == "optimal", outcome.message
    assert unfinished([point], out) == []
    os.utime(register, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert unfinished([point], out) == []  # the same bytes: still finished

    sites = gpd.read_file(register, layer="sites")
    sites.loc[sites["site_id"] == "OMR-RDCHQ", "running_cost"] = 9_900_000.0
    sites.to_file(register, layer="sites", driver="GPKG")
    assert unfinished([point], out) == [point]


@pytest.mark.parametrize("command", ["sweep", "frontier"])
def test_a_memory_limit_that_is_no_size_is_a_usage_error(tmp_path, command):
    sweep = write_yaml(
        tmp_path / "s.yaml", {"name": "s", "scenario": str(SCENARIOS / "colocate.yaml")}
    )
    args = [command, sweep, "--memory-limit", "4 gigs"]
    if command == "frontier":
        args = [command, SCENARIOS / "colocate.yaml", "--standard", "x", "--memory-limit", "4 gigs"]
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert "expected 'auto' or a size such as 4GiB" in result.output and "'4 gigs'" in result.output
    assert not (tmp_path / "output").exists()


def test_a_sweep_keeps_edited_tables_and_never_writes_into_others_folders(tmp_path):
    """A re-run keeps an edited summary aside rather than replace it; a sweep named like a
    run's result folder, or one holding other files, is refused before anything runs."""
    from totalcapital.sweep_report import claim_folder, replace_file

    folder = tmp_path / "out" / "sweep"
    claim_folder(folder, "sweep")  # none yet: fine
    folder.mkdir(parents=True)
    replace_file(folder / "summary.csv", lambda p: p.write_text("first\n"))
    claim_folder(folder, "sweep")  # its own
    replace_file(folder / "summary.csv", lambda p: p.write_text("second\n"))
    assert (folder / "summary.csv").read_text() == "second\n"
    assert not list(folder.glob("summary.edited-*"))
    (folder / "summary.csv").write_text("second\nmy notes\n")
    replace_file(folder / "summary.csv", lambda p: p.write_text("third\n"))
    [kept] = folder.glob("summary.edited-*.csv")
    assert kept.read_text() == "second\nmy notes\n"
    assert (folder / "summary.csv").read_text() == "third\n"

    run = tmp_path / "out" / "colocate"
    run.mkdir()
    (run / "manifest.json").write_text("{}")
    sweep = write_yaml(
        tmp_path / "colocate.yaml",
        {"name": "colocate", "scenario": str(SCENARIOS / "colocate.yaml")},
    )
    result = runner.invoke(app, ["sweep", str(sweep), "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == EXIT_BAD_INPUT and "a scenario run's result folder" in result.output
    assert sorted(p.name for p in run.iterdir()) == ["manifest.json"]
    others = tmp_path / "mine"
    others.mkdir()
    (others / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="a folder of other files"):
        claim_folder(others, "front")
