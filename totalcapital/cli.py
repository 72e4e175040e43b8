"""The ``totalcapital`` command: validate, run, summary, compare, map, sweep, frontier, import-osm.

A thin layer over the library: it configures logging, shows progress, prints rich
tables, and turns every user error into one readable message and a non-zero exit
(1 bad input, 3 infeasible scenario, 4 no solution from the solver, 5 some points of a
sweep or frontier failed).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from ._errors import (
    EstateValidationError,
    InfeasibleScenario,
    SolverError,
    TotalCapitalError,
)
from .results import _umask

app = typer.Typer(
    name="totalcapital",
    help="Plan co-location, rationalisation and disposals across a place's public estate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_BAD_INPUT = 1
EXIT_INFEASIBLE = 3
EXIT_NO_SOLUTION = 4
EXIT_POINTS_FAILED = 5

# Options shared by several commands.
SelfContained = Annotated[
    bool, typer.Option("--self-contained", help="Inline every map asset (works offline).")
]
Tiles = Annotated[bool, typer.Option(help="Add OpenStreetMap base tiles to the map.")]
Postcodes = Annotated[
    Path | None, typer.Option(help="OS Code-Point Open CSV or folder for postcode-only rows.")
]
Scheduler = Annotated[
    str | None,
    typer.Option(help="Address of a running Dask scheduler (default: start a local cluster)."),
]
Workers = Annotated[
    int | None,
    typer.Option(min=1, help="Worker processes of the local cluster (default: one per core)."),
]
MemoryLimit = Annotated[
    str,
    typer.Option(help="Memory per local worker, e.g. 4GiB ('auto': the machine's, shared)."),
]

console = Console(soft_wrap=True)
error_console = Console(stderr=True, soft_wrap=True)
_state = {"quiet": False}


def _cache_dir() -> Path:
    """Travel-time and road-graph cache: the user's cache folder, as XDG asks."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "totalcapital"


@contextmanager
def _user_errors() -> Iterator[None]:
    """Show a user's mistake as a message and an exit code, never as a traceback."""
    try:
        yield
    except InfeasibleScenario as exc:
        error_console.print(f"[bold red]Infeasible:[/] {exc}", highlight=False, markup=True)
        raise typer.Exit(EXIT_INFEASIBLE) from None
    except SolverError as exc:
        error_console.print(f"[bold red]No solution:[/] {exc}", highlight=False)
        raise typer.Exit(EXIT_NO_SOLUTION) from None
    except (TotalCapitalError, FileNotFoundError) as exc:
        error_console.print(f"[bold red]Error:[/] {exc}", highlight=False, markup=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


@app.callback()
def main(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug detail.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Show the version.")] = False,
) -> None:
    """Plan co-location, rationalisation and disposals across a place's public estate."""
    if version:
        console.print(f"totalcapital {__version__}")
        raise typer.Exit(0)
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    _state["quiet"] = quiet
    handler = RichHandler(console=error_console, show_path=False, show_time=False, markup=False)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    for noisy in ("pyogrio", "fiona", "distributed", "asyncio"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="GeoPackage, workbook, folder or sites file.")],
    services: Annotated[Path | None, typer.Option(help="Services file, if separate.")] = None,
    demand: Annotated[Path | None, typer.Option(help="Demand file, if separate.")] = None,
    postcodes: Postcodes = None,
) -> None:
    """Check an estate register and list every problem (exit 1 if there are any)."""
    from .estate import load_estate

    try:
        estate = load_estate(path, services=services, demand=demand, postcodes=postcodes)
    except EstateValidationError as exc:
        table = Table(title=f"{len(exc.problems)} problem(s) in {path}", show_lines=False)
        for column in ("file", "id", "column", "expected", "found"):
            table.add_column(column, overflow="fold")
        for problem in exc.problems:
            table.add_row(
                problem.file,
                problem.row_id or "",
                problem.column or "",
                problem.expected,
                problem.found,
            )
        console.print(table)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (TotalCapitalError, FileNotFoundError) as exc:
        error_console.print(f"[bold red]Error:[/] {exc}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    demand_count = len(estate.demand) if estate.demand is not None else 0
    console.print(
        f"[green]OK[/] {path}: {len(estate.sites)} sites, {len(estate.services)} services, "
        f"{demand_count} demand points, partners {', '.join(estate.partners)}"
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
        disable=_state["quiet"],
    )


def _write_map_atomically(fmap, path: Path, self_contained: bool) -> Path:
    """Write the map beside its place and swap it in, so no half-written map is left."""
    from .maps import write_map

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".html", dir=path.parent)
    os.close(handle)
    try:
        write_map(fmap, Path(staging), self_contained=self_contained)
        os.chmod(staging, 0o666 & ~_umask())  # mkstemp makes the file private
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return path


def _print_summary(result) -> None:
    from .exports import summary_tables

    for table in summary_tables(result):
        console.print(table)


@app.command()
def run(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    override: Annotated[
        list[str] | None, typer.Option("--override", "-o", help="Apply a named override.")
    ] = None,
    output_dir: Annotated[
        Path, typer.Option(help="Results go to OUTPUT_DIR/<scenario name>/.")
    ] = Path("output"),
    maps_dir: Annotated[Path, typer.Option(help="Maps go to MAPS_DIR/<scenario>.html.")] = Path(
        "maps"
    ),
    postcodes: Postcodes = None,
    self_contained: SelfContained = False,
    tiles: Tiles = True,
) -> None:
    """Solve a scenario; write its tables, workbook, decision record and map; print the summary."""
    from .maps import scenario_map
    from .pipeline import run_scenario, save_run
    from .scenario import load_scenario

    with _user_errors():
        scenario = load_scenario(scenario_file, overrides=override or [])
        with _progress() as progress:
            task = progress.add_task("Starting", total=1.0)

            def advance(stage: str, fraction: float) -> None:
                progress.update(task, description=stage, completed=fraction)

            result, record = run_scenario(
                scenario, postcodes=postcodes, cache_dir=_cache_dir(), progress=advance
            )
        record.inputs["scenario"] = scenario_file
        folder = save_run(result, record, output_dir / scenario.name)
        map_path = _write_map_atomically(
            scenario_map(result, tiles=tiles), maps_dir / f"{scenario.name}.html", self_contained
        )
    _print_summary(result)
    console.print(f"Results: {folder}    Map: {map_path}")


@app.command()
def summary(
    folder: Annotated[Path, typer.Argument(help="An output folder written by 'run'.")],
) -> None:
    """Print a run's summary again from its written files."""
    from .results import load_result

    with _user_errors():
        result = load_result(folder)
    _print_summary(result)


@app.command()
def compare(
    first: Annotated[Path, typer.Argument(help="Output folder of scenario A.")],
    second: Annotated[Path, typer.Argument(help="Output folder of scenario B.")],
    map_path: Annotated[
        Path | None, typer.Option("--map", help="Two-pane map (default maps/A-vs-B.html).")
    ] = None,
    self_contained: SelfContained = False,
    tiles: Tiles = True,
) -> None:
    """Compare two runs side by side and write a two-pane map."""
    from .exports import comparison_rich_table
    from .maps import comparison_map
    from .results import load_result

    with _user_errors():
        a, b = load_result(first), load_result(second)
        target = map_path or Path("maps") / f"{a.name}-vs-{b.name}.html"
        _write_map_atomically(comparison_map(a, b, tiles=tiles), target, self_contained)
    console.print(comparison_rich_table(a, b))
    console.print(f"Map: {target}")


@app.command("map")
def map_command(
    folder: Annotated[Path, typer.Argument(help="An output folder written by 'run'.")],
    out: Annotated[
        Path | None, typer.Option(help="HTML file (default maps/<scenario>.html).")
    ] = None,
    self_contained: SelfContained = False,
    tiles: Tiles = True,
) -> None:
    """Draw a run's map again from its written files."""
    from .maps import scenario_map
    from .results import load_result

    with _user_errors():
        result = load_result(folder)
        target = out or Path("maps") / f"{result.name}.html"
        _write_map_atomically(scenario_map(result, tiles=tiles), target, self_contained)
    console.print(f"Map: {target}")


def _points_progress(total: int | None, label: str):
    """A progress bar over sweep points, and the callback that advances it."""
    from rich.progress import MofNCompleteColumn

    progress = Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
        disable=_state["quiet"],
    )
    task = progress.add_task(label, total=total)
    failed = [0]

    def advance(outcome) -> None:
        failed[0] += not outcome.ok
        note = f" ({failed[0]} failed)" if failed[0] else ""
        progress.update(task, advance=1, description=f"{label}{note}")

    return progress, advance


def _quiet_dask() -> None:
    """Importing distributed sets its loggers to INFO; a planner needs only its warnings."""
    import distributed  # noqa: F401

    logging.getLogger("distributed").setLevel(max(logging.getLogger().level, logging.WARNING))


def _money_text(value) -> str:
    return "" if value is None or value != value else f"£{value:,.0f}"


def _share_text(value) -> str:
    return "" if value is None or value != value else f"{value:.1%}"


@app.command("sweep")
def sweep_command(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep YAML file.")],
    output_dir: Annotated[
        Path, typer.Option(help="Results go to OUTPUT_DIR/<sweep name>/.")
    ] = Path("output"),
    scheduler: Scheduler = None,
    workers: Workers = None,
    memory_limit: MemoryLimit = "auto",
) -> None:
    """Run a scenario over a grid of overrides, settings and places on Dask; one summary table.

    Finished points are kept on a re-run. Exit 5 when any point failed (see the table).
    """
    from .sweep import FAILED_STATUSES, dask_client, load_sweep, run_points, unfinished
    from .sweep_report import summary_frame, write_summary

    _quiet_dask()
    with _user_errors():
        spec = load_sweep(sweep_file)
        folder = output_dir / spec.name
        inputs = {"sweep": spec.source, "scenario": spec.scenario_file}
        progress, advance = _points_progress(len(spec.points), f"Sweep {spec.name}")
        cluster = dask_client(scheduler, workers, memory_limit)
        if not unfinished(spec.points, folder):
            cluster = nullcontext()  # every point finished earlier: no cluster needed
        with cluster as client, progress:
            outcomes = run_points(
                spec.points,
                folder,
                client,
                cache_dir=_cache_dir(),
                inputs=inputs,
                on_outcome=advance,
            )
        paths = write_summary(spec.columns, outcomes, folder, f"NPV saving by point: {spec.name}")
    frame = summary_frame(spec.columns, outcomes)
    failed = frame[frame["status"].isin(FAILED_STATUSES)]
    shown = frame if len(frame) <= 40 else failed
    covers = [c for c in frame.columns if c.startswith("cover_")]
    table = Table(title=f"Sweep {spec.name}: {len(frame)} points", show_lines=False)
    headers = ["point", *(c.rsplit(".", 1)[-1] for c in spec.columns), "status"]
    for column in (*headers, "NPV saving", *(c.removeprefix("cover_") for c in covers), "s"):
        table.add_column(column, overflow="fold")
    for values in shown.to_dict(orient="records"):
        saving = values["npv_saving"]
        table.add_row(
            str(values["point"]),
            *(str(values[c]) for c in spec.columns),
            values["status"]
            if values["status"] not in FAILED_STATUSES
            else f"{values['status']}: {values['message']}",
            "" if saving != saving else f"£{saving / 1e6:,.2f}m",
            *(_share_text(values[c]) for c in covers),
            f"{values['seconds']:.1f}",
        )
    console.print(table)
    kept = sum(o.reused for o in outcomes)
    n_failed = sum(not o.ok for o in outcomes)
    console.print(
        f"{len(outcomes)} points: {len(outcomes) - n_failed} with a plan ({kept} kept from an "
        f"earlier run), {n_failed} failed. Summary: {paths['xlsx']}, {paths['gpkg']}"
    )
    if n_failed:
        raise typer.Exit(EXIT_POINTS_FAILED)


@app.command("frontier")
def frontier_command(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    standard: Annotated[
        str, typer.Option("--standard", help="The standard (or access rule) whose cover to trade.")
    ],
    override: Annotated[
        list[str] | None, typer.Option("--override", "-o", help="Apply a named override.")
    ] = None,
    points: Annotated[
        int | None,
        typer.Option(
            "--points", min=1, help="Grid mode: this many evenly spaced covers (default: exact)."
        ),
    ] = None,
    map_point: Annotated[
        int | None, typer.Option("--map-point", min=1, help="Draw the map of front point N.")
    ] = None,
    output_dir: Annotated[
        Path, typer.Option(help="Results go to OUTPUT_DIR/<scenario>-frontier-<standard>/.")
    ] = Path("output"),
    maps_dir: Annotated[Path, typer.Option(help="The chosen point's map goes here.")] = Path(
        "maps"
    ),
    scheduler: Scheduler = None,
    workers: Workers = None,
    memory_limit: MemoryLimit = "auto",
    self_contained: SelfContained = False,
    tiles: Tiles = True,
) -> None:
    """The Pareto front of NPV saving against a standard's cover (epsilon-constraint).

    Exact mode walks the front point by point; --points N solves N covers at once. Exit 5
    when a point failed for a reason other than asking more cover than any plan reaches.
    """
    import pandas as pd

    from .frontier import (
        exact_front,
        front_table,
        grid_front,
        mark_front,
        point_folder,
        requirement_path,
    )
    from .maps import scenario_map
    from .results import load_result
    from .scenario import load_scenario
    from .sweep import dask_client, run_points
    from .sweep_report import write_frontier

    exits = {"infeasible": EXIT_INFEASIBLE, "no_solution": EXIT_NO_SOLUTION}
    _quiet_dask()
    with _user_errors():
        scenario = load_scenario(scenario_file, overrides=override or [])
        requirement_path(scenario, standard)
        folder = output_dir / f"{scenario.name}-frontier-{standard}"
        inputs = {"scenario": scenario_file.resolve()}
        total = None if points is None else points + 1
        progress, advance = _points_progress(total, f"Frontier {standard}")
        with dask_client(scheduler, workers, memory_limit) as client, progress:

            def run(chosen):
                return run_points(
                    chosen,
                    folder,
                    client,
                    cache_dir=_cache_dir(),
                    inputs=inputs,
                    on_outcome=advance,
                )

            if points is None:
                outcomes, step = exact_front(scenario, standard, folder / "points", run)
            else:
                outcomes, step = grid_front(scenario, standard, folder / "points", run, points)
        if not outcomes[0].ok:
            error_console.print(
                f"[bold red]The cheapest plan failed ({outcomes[0].status}):[/] "
                f"{outcomes[0].message}",
                highlight=False,
            )
            raise typer.Exit(exits.get(outcomes[0].status, EXIT_BAD_INPUT))
        table = front_table(mark_front(outcomes, standard), standard)
        paths = write_frontier(table, folder, standard)
    rich_table = Table(title=f"Pareto front: NPV saving against {standard} cover (step {step:g})")
    for column in (
        "front point",
        "cover at least",
        "covered",
        "share",
        "NPV saving",
        "status",
        "note",
    ):
        rich_table.add_column(column, overflow="fold")
    for row in table.to_dict(orient="records"):
        number, covered = row["front_point"], row["cover_weight"]
        rich_table.add_row(
            "" if number is None or number is pd.NA else str(number),
            f"{row['min_cover']:,.6g}",
            "" if covered != covered else f"{covered:,.6g}",
            _share_text(row["cover_share"]),
            _money_text(row["npv_saving"]),
            row["status"],
            row["note"],
        )
    console.print(rich_table)
    on_front = int(table["on_front"].sum())
    dropped = int((table["cover_weight"].notna() & ~table["on_front"]).sum())
    console.print(
        f"{on_front} points on the front, {dropped} dominated or repeated point(s) dropped. "
        f"Table: {paths['xlsx']}"
    )
    if map_point is not None:
        with _user_errors():
            chosen = load_result(point_folder(folder, table, map_point))
            map_path = _write_map_atomically(
                scenario_map(chosen, tiles=tiles),
                maps_dir / f"{scenario.name}-frontier-{standard}-{map_point}.html",
                self_contained,
            )
        console.print(f"Map of front point {map_point}: {map_path}")
    beyond = table["note"].str.startswith("beyond reach")
    if ((table["cover_weight"].isna()) & ~beyond).any():
        raise typer.Exit(EXIT_POINTS_FAILED)


@app.command("import-osm")
def import_osm(
    pbf: Annotated[Path, typer.Argument(help="OpenStreetMap extract (.osm.pbf).")],
    out: Annotated[Path, typer.Option("--out", help="GeoPackage to write (sites, services).")],
    fill_defaults: Annotated[
        bool,
        typer.Option(
            "--fill-defaults",
            help="Fill what OSM cannot know with illustrative typical values (flagged per row).",
        ),
    ] = False,
    fire_stations: Annotated[
        Path | None,
        typer.Option(help="Home Office fire-station CSV: authoritative fire stations."),
    ] = None,
    boundaries: Annotated[
        Path | None, typer.Option(help="Local authority boundaries GeoJSON (ONS).")
    ] = None,
    authority: Annotated[
        str | None, typer.Option(help="Keep sites within this authority (code, e.g. E06000017).")
    ] = None,
) -> None:
    """Extract public sites from OSM into a site-register skeleton for the user to complete."""
    from .osm_import import authority_boundary, fire_stations_from_home_office, import_osm_sites

    with _user_errors():
        boundary = None
        if authority is not None:
            if boundaries is None:
                raise TotalCapitalError(
                    "--authority needs --boundaries (an ONS boundaries GeoJSON)"
                )
            boundary = authority_boundary(boundaries, authority)
        authoritative = None
        if fire_stations is not None:
            authoritative = fire_stations_from_home_office(fire_stations, within=boundary)
        sites = import_osm_sites(
            pbf, out, boundary=boundary, fill_defaults=fill_defaults, fire_stations=authoritative
        )
    console.print(f"Wrote {len(sites)} sites to {out}")
    if not fill_defaults:
        console.print(
            "Fill in tenure, floor space, costs and values, then check with "
            f"'totalcapital validate {out}'."
        )


if __name__ == "__main__":  # pragma: no cover
    app()
