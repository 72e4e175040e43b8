"""The ``totalcapital`` command: validate, run, summary, compare, map, report, import-osm.

A thin layer over the library: it configures logging, shows progress, prints rich
tables, and turns every user error into one readable message and a non-zero exit
(1 bad input, 3 infeasible scenario, 4 no solution from the solver).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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

# Options shared by several commands.
# Maps are always self-contained (they work offline); the option is still accepted.
SelfContained = Annotated[bool, typer.Option("--self-contained", hidden=True)]
Tiles = Annotated[
    bool,
    typer.Option(
        "--tiles/--no-tiles",
        help="Add an OpenStreetMap web background to the map (needs internet; off by default).",
    ),
]
Postcodes = Annotated[
    Path | None, typer.Option(help="OS Code-Point Open CSV or folder for postcode-only rows.")
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


def _write_map_atomically(fmap, path: Path) -> Path:
    """Write the map beside its place and swap it in, so no half-written map is left."""
    from .maps import write_map

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".html", dir=path.parent)
    os.close(handle)
    try:
        write_map(fmap, Path(staging))
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
    tiles: Tiles = False,
) -> None:
    """Solve a scenario; write its tables, workbook, decision record and map; print the summary."""
    from .exports import decision_record, write_decision_record, write_xlsx
    from .maps import scenario_map
    from .pipeline import run_scenario
    from .results import write_result
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

        def workbook(res, folder: Path) -> None:
            write_xlsx(res, folder / "results.xlsx")

        def decision(res, folder: Path) -> None:
            write_decision_record(
                decision_record(res, record.inputs, record.timings),
                folder / "decision_record.json",
            )

        folder = write_result(result, output_dir / scenario.name, [workbook, decision])
        map_path = _write_map_atomically(
            scenario_map(result, tiles=tiles), maps_dir / f"{scenario.name}.html"
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
    tiles: Tiles = False,
) -> None:
    """Compare two runs side by side and write a two-pane map."""
    from .exports import comparison_rich_table
    from .maps import comparison_map
    from .results import load_result

    with _user_errors():
        a, b = load_result(first), load_result(second)
        target = map_path or Path("maps") / f"{a.name}-vs-{b.name}.html"
        _write_map_atomically(comparison_map(a, b, tiles=tiles), target)
    console.print(comparison_rich_table(a, b))
    console.print(f"Map: {target}")


@app.command("map")
def map_command(
    folder: Annotated[Path, typer.Argument(help="An output folder written by 'run'.")],
    out: Annotated[
        Path | None, typer.Option(help="HTML file (default maps/<scenario>.html).")
    ] = None,
    self_contained: SelfContained = False,
    tiles: Tiles = False,
) -> None:
    """Draw a run's map again from its written files."""
    from .maps import scenario_map
    from .results import load_result

    with _user_errors():
        result = load_result(folder)
        target = out or Path("maps") / f"{result.name}.html"
        _write_map_atomically(scenario_map(result, tiles=tiles), target)
    console.print(f"Map: {target}")


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="An output folder written by 'run'.")],
    out: Annotated[
        Path | None, typer.Option(help="HTML file (default reports/<scenario>.html).")
    ] = None,
) -> None:
    """Write the board pack: one printable, self-contained HTML page of a run."""
    from .report import check_target, write_board_pack
    from .results import load_result

    with _user_errors():
        result = load_result(folder)
        target = check_target(out or Path("reports") / f"{result.name}.html", folder, result)
        write_board_pack(result, target)
    console.print(f"Board pack: {target}")


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
