"""A tiny estate near Norwich, and tools to break it and run it, for the hostile-input tests.

Three sites (a fire station, a council office, a leased library), three services and four
demand points, in British National Grid. Norwich lies where easting and northing differ by
300 km, so exchanged coordinates land far away; the plan solves in a fraction of a second.
"""

from __future__ import annotations

import csv
import hashlib
import os
import stat
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely import points
from typer.testing import CliRunner

from totalcapital.cli import EXIT_BAD_INPUT, app

runner = CliRunner()
#: Where the tests' runs write: folders inside the working directory.
RUN = ("--output-dir", "out", "--maps-dir", "maps")


def invoke(*args):
    """Run the command line in-process; an uncaught exception fails the test."""
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def isolated_workspace(tmp_path, tmp_path_factory, monkeypatch) -> Path:
    """Work in ``tmp_path``; caches and crash logs go elsewhere, where they are checked.

    Test modules make it an autouse fixture named ``workspace``.
    """
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_CACHE_HOME", str(state / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(state / "state"))
    monkeypatch.chdir(tmp_path)
    return state


def crash_logs(state: Path) -> list[Path]:
    return sorted((state / "state").rglob("*.log")) if (state / "state").exists() else []


def assert_clean(result, code: int, mentions=(), state: Path | None = None) -> None:
    """The documented exit code, each mention in the output, no traceback, no crash log."""
    output = result.output
    assert result.exit_code == code, output
    assert "Traceback" not in output, output
    for mention in mentions:
        assert mention in output, (mention, output)
    if state is not None:
        assert crash_logs(state) == [], "the last-resort guard was needed: " + output


@dataclass(frozen=True)
class Case:
    """One hostile input: ``build`` writes the files in the working folder, returns the args."""

    id: str
    build: Callable[[Path], list]
    mentions: tuple[str, ...] = ()
    code: int = EXIT_BAD_INPUT


def steps(*effects):
    """Side effects already run (in order, as arguments); returns the last: the args."""
    return effects[-1]


SITES = [
    {
        "site_id": "S1",
        "name": "Fire station",
        "owner": "FIRE",
        "tenure": "freehold",
        "status": "operational",
        "gia_m2": "900",
        "running_cost": "150000",
        "market_value": "900000",
        "appliance_bays": "yes",
        "easting": "623000",
        "northing": "308500",
    },
    {
        "site_id": "S2",
        "name": "Council office",
        "owner": "COUNCIL",
        "tenure": "freehold",
        "status": "operational",
        "gia_m2": "1500",
        "running_cost": "200000",
        "market_value": "1500000",
        "appliance_bays": "no",
        "easting": "622500",
        "northing": "309000",
    },
    {
        "site_id": "S3",
        "name": "Library",
        "owner": "COUNCIL",
        "tenure": "leasehold",
        "status": "operational",
        "gia_m2": "500",
        "running_cost": "60000",
        "market_value": "0",
        "lease_break": "2028-03-31",
        "lease_exit_cost": "20000",
        "appliance_bays": "no",
        "easting": "624000",
        "northing": "307800",
    },
]
SERVICES = [
    {
        "service_id": "F1",
        "org": "FIRE",
        "service_type": "fire_station",
        "current_site": "S1",
        "space_m2": "600",
        "staff": "20",
    },
    {
        "service_id": "C1",
        "org": "COUNCIL",
        "service_type": "council_office",
        "current_site": "S2",
        "space_m2": "700",
        "staff": "40",
    },
    {
        "service_id": "L1",
        "org": "COUNCIL",
        "service_type": "library",
        "current_site": "S3",
        "space_m2": "300",
        "staff": "5",
    },
]
DEMAND = [
    {"demand_id": "D1", "population": "5000", "easting": "622800", "northing": "308700"},
    {"demand_id": "D2", "population": "3000", "easting": "625000", "northing": "306500"},
    {"demand_id": "D3", "population": "2000", "easting": "620500", "northing": "310500"},
    {"demand_id": "D4", "population": "1000", "easting": "623500", "northing": "311000"},
]

SCENARIO = """\
name: tiny
estate: {estate}
travel: {{method: straight_line, straight_line_speed_kmh: 50, circuity: 1.3}}
finance: {{start_date: 2026-04-01, horizon_years: 25}}
standards:
  - {{name: fire_10min, service_types: [fire_station], minutes: 10, rule: no_worse_than_today}}
rules:
  allow_moves: true
  allow_disposals: true
  capabilities: {{fire_station: [appliance_bays]}}
solver: {{time_limit_seconds: 20}}
overrides:
  keep_all: {{rules: {{allow_disposals: false, allow_moves: false}}}}
"""


def edited(rows: list[dict], row_id: str | None = None, **changes: str) -> list[dict]:
    """A copy of ``rows`` with ``changes`` made to the row of that id (every row if None)."""
    out = []
    for row in rows:
        row = dict(row)
        if row_id is None or row_id in row.values():
            row.update(changes)
        out.append(row)
    return out


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def csv_register(
    folder: Path, sites=SITES, services=SERVICES, demand=DEMAND, **columns: list[str]
) -> Path:
    """A folder register (sites.csv, services.csv, demand.csv); returns the folder."""
    for name, rows, default in (
        ("sites", sites, SITES),
        ("services", services, SERVICES),
        ("demand", demand, DEMAND),
    ):
        if rows is not None:
            # An empty layer keeps its header row.
            header = columns.get(name) or (None if rows else list(default[0]))
            write_csv(folder / f"{name}.csv", rows, header)
    return folder


def _geo(rows: list[dict], crs: str | None, xy=("easting", "northing")) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows)
    geometry = points(frame[xy[0]].astype(float), frame[xy[1]].astype(float))
    return gpd.GeoDataFrame(frame.drop(columns=list(xy)), geometry=geometry, crs=crs)


def gpkg_register(
    path: Path, sites=SITES, services=SERVICES, demand=DEMAND, crs: str | None = "EPSG:27700"
) -> Path:
    """A GeoPackage register with sites, services and demand layers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        _geo(sites, crs).to_file(path, layer="sites", driver="GPKG")
        if services is not None:
            pyogrio.write_dataframe(pd.DataFrame(services), path, layer="services", driver="GPKG")
        if demand is not None:
            _geo(demand, crs).to_file(path, layer="demand", driver="GPKG")
    return path


def scenario(folder: Path, estate: str = "register", text: str | None = None, **extra) -> Path:
    """A scenario file in ``folder`` planning ``estate`` (relative to the folder)."""
    body = (text or SCENARIO).format(estate=estate)
    for key, value in extra.items():
        body += f"{key}: {value}\n"
    path = folder / "tiny.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (hidden ones too): file hashes, folders, links, pipes."""
    entries: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                entries[key] = "link -> " + os.readlink(path)
            elif stat.S_ISDIR(info.st_mode):
                entries[key] = "folder"
            elif stat.S_ISREG(info.st_mode):
                try:
                    entries[key] = hashlib.sha256(path.read_bytes()).hexdigest()
                except PermissionError:
                    entries[key] = f"unreadable, {info.st_size} bytes"
            else:
                entries[key] = "special"
    return entries


@contextmanager
def unreadable(path: Path) -> Iterator[None]:
    """Make ``path`` unreadable, even to root (by dropping to an unprivileged user id)."""
    path.chmod(0)
    dropped = False
    if os.geteuid() == 0:
        os.setegid(65534)
        os.seteuid(65534)
        dropped = True
    try:
        yield
    finally:
        if dropped:
            os.seteuid(0)
            os.setegid(0)
        path.chmod(0o644)
