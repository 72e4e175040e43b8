"""The ``totalcapital`` command: validate, run, summary, programme, compare, map, report,
sweep, frontier, import-osm.

A thin layer over the library: it configures logging, shows progress, prints rich
tables, and turns every user error into one readable message and a documented exit code:

    0 done; 1 bad input (or an output it will not overwrite); 2 usage error (an unknown
    option, a missing argument); 3 infeasible scenario; 4 no solution from the solver;
    5 internal error (a fault in totalcapital: the traceback goes to a log file);
    6 some points of a sweep or frontier failed (the others are kept); 130 interrupted.

User text is always printed as text: never read as Rich markup, control characters escaped.
"""

from __future__ import annotations

import errno
import logging
import os
import platform
import sys
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from . import __version__
from ._errors import (
    EstateValidationError,
    InfeasibleScenario,
    ScenarioError,
    SolverError,
    TotalCapitalError,
)
from ._text import printable

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
EXIT_INFEASIBLE = 3
EXIT_NO_SOLUTION = 4
EXIT_INTERNAL = 5
EXIT_POINTS_FAILED = 6
EXIT_INTERRUPTED = 130

# Options of the import commands.
FillDefaults = Annotated[
    bool,
    typer.Option(
        "--fill-defaults",
        help="Fill what the source cannot know with illustrative typical values (flagged per row).",
    ),
]
Boundaries = Annotated[Path | None, typer.Option(help="Local authority boundaries GeoJSON (ONS).")]
Authority = Annotated[
    str | None, typer.Option(help="Keep sites within this authority (code, e.g. E06000017).")
]
Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Replace OUT if it exists (it may hold your edits).")
]

# Options of the sweep and frontier commands.
Scheduler = Annotated[
    str | None,
    typer.Option(help="Address of a running Dask scheduler (default: start a local cluster)."),
]
Workers = Annotated[
    int | None,
    typer.Option(min=1, help="Worker processes of the local cluster (default: one per core)."),
]


def _memory_limit(value: str) -> str:
    """'auto' or a size Dask reads ("4GiB", "500MB"): a bad one is a usage error, not a fault."""
    from dask.utils import parse_bytes

    if value == "auto":
        return value
    try:
        if parse_bytes(value) > 0:
            return value
    except ValueError:
        pass
    raise typer.BadParameter(f"expected 'auto' or a size such as 4GiB or 500MB, found {value!r}")


MemoryLimit = Annotated[
    str,
    typer.Option(
        help="Memory per local worker, e.g. 4GiB ('auto': the machine's, shared).",
        callback=_memory_limit,
    ),
]

console = Console(soft_wrap=True)
error_console = Console(stderr=True, soft_wrap=True)
_state = {"quiet": False}


def _say(label: str, style: str, message: object, target: Console | None = None) -> None:
    """One message: a styled label, then the text exactly as it is (escaped, never markup)."""
    text = Text.assemble((label, style), " ", printable(message))
    (target or error_console).print(text, highlight=False)


def _crash_log(exc: BaseException) -> Path | None:
    """Write the traceback of an internal error where the user's state files go (XDG)."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    lines = [
        f"totalcapital {__version__}, Python {platform.python_version()}, {platform.platform()}",
        f"command: {' '.join(sys.argv)}",
        "",
        *traceback.format_exception(type(exc), exc, exc.__traceback__),
    ]
    for folder in (Path(base) / "totalcapital" / "crashes", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"totalcapital-crash-{stamp}-{os.getpid()}.log"
            path.write_text("\n".join(lines), encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def _exit_code(exc: BaseException) -> int | None:
    """Show ``exc`` as one message and return its exit code; None for typer's own signals."""
    if isinstance(exc, KeyboardInterrupt):
        _say(
            "Interrupted:",
            "bold yellow",
            "stopped; nothing half-written is left, and earlier results are as they were",
        )
        return EXIT_INTERRUPTED
    if isinstance(exc, (typer.Exit, typer.Abort, SystemExit)):
        return None
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        return None  # output piped into `head`: typer ends quietly
    if hasattr(exc, "exit_code") and hasattr(exc, "format_message"):  # click usage errors
        return None
    if isinstance(exc, InfeasibleScenario):
        _say("Infeasible:", "bold red", exc)
        return EXIT_INFEASIBLE
    if isinstance(exc, SolverError):
        _say("No solution:", "bold red", exc)
        return EXIT_NO_SOLUTION
    if isinstance(exc, TotalCapitalError):
        _say("Error:", "bold red", exc)
        return EXIT_BAD_INPUT
    if isinstance(exc, OSError):
        # The file system refused (permissions, a full disk, a name too long): not a bug.
        where = f"{exc.filename}: " if exc.filename else ""
        _say("Error:", "bold red", f"{where}{exc.strerror or exc}")
        return EXIT_BAD_INPUT
    if isinstance(exc, Exception):
        log_path = _crash_log(exc)
        where = f"the details are in {log_path}" if log_path else "no log could be written"
        _say(
            "Internal error:",
            "bold red",
            f"{type(exc).__name__}: {exc} — a fault in totalcapital, not in your input; "
            f"{where} (please attach it to a bug report)",
        )
        return EXIT_INTERNAL
    return None


class _GuardedGroup(TyperGroup):
    """Every command's errors become one message and an exit code, whatever they are.

    User errors are named and mapped to their codes; anything else is a fault of ours: it
    is shown in one line, with its traceback written to a log file (the last line of
    defence, not the way any expected error is handled).
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BaseException as exc:
            code = _exit_code(exc)
            if code is None:
                raise
            raise typer.Exit(code) from None


app = typer.Typer(
    name="totalcapital",
    help="Plan co-location, rationalisation and disposals across a place's public estate.",
    epilog=(
        "Exit codes: 0 done, 1 bad input (or an output it will not overwrite), 2 usage error, "
        "3 infeasible scenario, 4 no solution from the solver, 5 internal error (traceback in "
        "a log file), 130 interrupted."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_GuardedGroup,
)

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


def _with_register_problems(error: ScenarioError, scenario_file: Path) -> Exception:
    """A scenario's problems and, when it names a register that can be read, the register's
    too: all at once, rather than one file's now and the other's after the fix."""
    from .estate import load_estate
    from .scenario import named_estate

    estate = named_estate(scenario_file)
    if estate is None or not estate.exists():
        return error
    try:
        load_estate(estate)
    except EstateValidationError as register:
        return ScenarioError(f"{error}\n{register}")
    except Exception:  # the register's own run will say what it is; the scenario comes first
        pass
    return error


def _cache_dir() -> Path:
    """Travel-time and road-graph cache: the user's cache folder, as XDG asks."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "totalcapital"


@contextmanager
def _user_errors() -> Iterator[None]:
    """Show a user's mistake as a message and an exit code, never as a traceback."""
    try:
        yield
    except Exception as exc:
        code = _exit_code(exc)
        if code is None:
            raise
        raise typer.Exit(code) from None


def _escape_log_record(record: logging.LogRecord) -> bool:
    """Log lines quote file and site names: show their control characters as escapes."""
    record.msg, record.args = printable(record.getMessage()), None
    return True


def _show_version(value: bool) -> None:
    if value:
        console.print(f"totalcapital {__version__}", markup=False, highlight=False)
        raise typer.Exit(0)


@app.callback()
def main(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug detail.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Plan co-location, rationalisation and disposals across a place's public estate."""
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    _state["quiet"] = quiet
    handler = RichHandler(console=error_console, show_path=False, show_time=False, markup=False)
    handler.addFilter(_escape_log_record)
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
        title = Text(printable(f"{len(exc.problems)} problem(s) in {path}"))
        table = Table(title=title, show_lines=False)
        for column in ("file", "id", "column", "expected", "found"):
            table.add_column(column, overflow="fold")
        for problem in exc.problems:
            cells = (problem.file, problem.row_id, problem.column, problem.expected, problem.found)
            table.add_row(*(Text(printable(cell or "")) for cell in cells))
        console.print(table)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    demand_count = len(estate.demand) if estate.demand is not None else 0
    _say(
        "OK",
        "green",
        f"{path}: {len(estate.sites)} sites, {len(estate.services)} services, "
        f"{demand_count} demand points, partners {', '.join(estate.partners)}",
        console,
    )


def _add_text_row(table: Table, *cells: object) -> None:
    """A table row of plain text: cells are never read as markup (they may hold user text)."""
    table.add_row(*(Text(printable("" if cell is None else str(cell))) for cell in cells))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
        disable=_state["quiet"],
    )


def _write_map_atomically(fmap, path: Path, run_id=None) -> Path:
    """Write the map beside its place and swap it in, so no half-written map is left.

    Only a map totalcapital wrote is ever replaced (see ``_output_files``).
    """
    from ._output_files import write_map_file
    from .maps import write_map

    def render(staging: Path) -> None:
        write_map(fmap, staging)

    return write_map_file(path, render, run_id)


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
    from ._output_files import (
        check_map_target,
        check_result_folder,
        new_run_id,
        output_lock,
        refuse_outputs_over_inputs,
    )
    from .maps import scenario_map
    from .pipeline import RUN_FILES, run_scenario, save_run, scenario_inputs
    from .scenario import load_scenario, scenario_files

    with _user_errors():
        try:
            scenario = load_scenario(scenario_file, overrides=override or [])
        except ScenarioError as exc:
            raise _with_register_problems(exc, scenario_file) from None
        # Every output place is checked before solving, so a refusal costs nothing.
        folder = output_dir / scenario.name
        map_path = maps_dir / f"{scenario.name}.html"
        written = [folder, map_path, *(folder / name for name in RUN_FILES)]
        inputs = {"scenario": scenario_file, **scenario_inputs(scenario, postcodes)}
        refuse_outputs_over_inputs(written, inputs)
        check_result_folder(folder)
        check_map_target(map_path)
        with _progress() as progress:
            task = progress.add_task("Starting", total=1.0)

            def advance(stage: str, fraction: float) -> None:
                progress.update(task, description=stage, completed=fraction)

            result, record = run_scenario(
                scenario, postcodes=postcodes, cache_dir=_cache_dir(), progress=advance
            )
        record.inputs["scenario"] = scenario_file
        # The decision record hashes every file the scenario builds on.
        for depth, base in enumerate(scenario_files(scenario_file)[1:], start=1):
            record.inputs[f"scenario_base_{depth}"] = base
        run_id = new_run_id()
        # One lock over the tables and the map: runs to one output never mix their files.
        with output_lock(folder):
            save_run(result, record, folder, run_id=run_id)
            _write_map_atomically(scenario_map(result, tiles=tiles), map_path, run_id)
    _print_summary(result)
    _say("Results:", "", f"{folder}    Map: {map_path}", console)


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
def programme(
    folder: Annotated[Path, typer.Argument(help="An output folder written by 'run'.")],
    by_partner: Annotated[
        bool, typer.Option("--by-partner", help="One table per partner, not just the totals.")
    ] = False,
) -> None:
    """Print a run's programme: what is sold, spent and saved in each financial year."""
    from .exports import programme_tables
    from .results import load_result

    with _user_errors():
        result = load_result(folder)
        for table in programme_tables(result, by_partner=by_partner):
            console.print(table)


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
        _refuse_map_over_result(target, first, second)
        _write_map_atomically(comparison_map(a, b, tiles=tiles), target)
    console.print(comparison_rich_table(a, b))
    _say("Map:", "", target, console)


def _refuse_map_over_result(target: Path, *folders: Path) -> None:
    """A map may not replace a result folder or any file in one it reads."""
    from ._output_files import refuse_outputs_over_inputs

    inputs = {f"result folder {folder}": folder for folder in folders}
    for folder in folders:
        inputs.update({f"result file {p.name}": p for p in folder.iterdir() if p.is_file()})
    refuse_outputs_over_inputs([target], inputs)


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
        _refuse_map_over_result(target, folder)
        _write_map_atomically(scenario_map(result, tiles=tiles), target)
    _say("Map:", "", target, console)


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
    _say("Board pack:", "", target, console)


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

    Finished points are kept on a re-run. Exit 6 when any point failed (see the table).
    """
    from .sweep import FAILED_STATUSES, dask_client, load_sweep, run_points, unfinished
    from .sweep_report import claim_folder, summary_frame, write_summary

    _quiet_dask()
    with _user_errors():
        spec = load_sweep(sweep_file)
        folder = output_dir / spec.name
        claim_folder(folder, "sweep")
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
        _add_text_row(
            table,
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
        Text(
            f"{len(outcomes)} points: {len(outcomes) - n_failed} with a plan ({kept} kept from "
            f"an earlier run), {n_failed} failed. Summary: {paths['xlsx']}, {paths['gpkg']}"
        )
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

    Exact mode walks the front point by point; --points N solves N covers at once. Exit 6
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
    from .sweep_report import claim_folder, write_frontier

    exits = {"infeasible": EXIT_INFEASIBLE, "no_solution": EXIT_NO_SOLUTION}
    _quiet_dask()
    with _user_errors():
        scenario = load_scenario(scenario_file, overrides=override or [])
        requirement_path(scenario, standard)
        folder = output_dir / f"{scenario.name}-frontier-{standard}"
        claim_folder(folder, "front")
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
        _add_text_row(
            rich_table,
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
        Text(
            f"{on_front} points on the front, {dropped} dominated or repeated point(s) "
            f"dropped. Table: {paths['xlsx']}"
        )
    )
    if map_point is not None:
        with _user_errors():
            chosen = load_result(point_folder(folder, table, map_point))
            map_path = _write_map_atomically(
                scenario_map(chosen, tiles=tiles),
                maps_dir / f"{scenario.name}-frontier-{standard}-{map_point}.html",
            )
        _say(f"Map of front point {map_point}:", "", map_path, console)
    beyond = table["note"].str.startswith("beyond reach")
    if ((table["cover_weight"].isna()) & ~beyond).any():
        raise typer.Exit(EXIT_POINTS_FAILED)


@app.command("import-osm")
def import_osm(
    pbf: Annotated[Path, typer.Argument(help="OpenStreetMap extract (.osm.pbf).")],
    out: Annotated[Path, typer.Option("--out", help="GeoPackage to write (sites, services).")],
    fill_defaults: FillDefaults = False,
    fire_stations: Annotated[
        Path | None,
        typer.Option(help="Home Office fire-station CSV: authoritative fire stations."),
    ] = None,
    boundaries: Boundaries = None,
    authority: Authority = None,
    overwrite: Overwrite = False,
) -> None:
    """Extract public sites from OSM into a site-register skeleton for the user to complete."""
    from ._output_files import refuse_outputs_over_inputs
    from .osm_import import fire_stations_from_home_office, import_osm_sites

    with _user_errors():
        inputs = {"extract": pbf, "--fire-stations": fire_stations, "--boundaries": boundaries}
        refuse_outputs_over_inputs([out], inputs)
        boundary = _authority_area(boundaries, authority)
        authoritative = None
        if fire_stations is not None:
            authoritative = fire_stations_from_home_office(fire_stations, within=boundary)
        sites = import_osm_sites(
            pbf,
            out,
            boundary=boundary,
            fill_defaults=fill_defaults,
            fire_stations=authoritative,
            overwrite=overwrite,
        )
    _said_written(sites, out, fill_defaults)


def _said_written(sites, out: Path, fill_defaults: bool) -> None:
    _say("Wrote", "", f"{len(sites)} sites to {out}", console)
    if not fill_defaults:
        _say(
            "Fill in",
            "",
            "tenure, floor space, costs and values, then check with "
            f"'totalcapital validate {out}'.",
            console,
        )


def _authority_area(boundaries: Path | None, authority: str | None):
    from .osm_import import authority_boundary

    if authority is None:
        return None
    if boundaries is None:
        raise TotalCapitalError("--authority needs --boundaries (an ONS boundaries GeoJSON)")
    return authority_boundary(boundaries, authority)


@app.command("import-fire-stations")
def import_fire_stations_command(
    stations: Annotated[Path, typer.Argument(help="Home Office fire-station list (CSV).")],
    out: Annotated[Path, typer.Option("--out", help="GeoPackage to write (sites, services).")],
    fill_defaults: FillDefaults = False,
    boundaries: Boundaries = None,
    authority: Authority = None,
    overwrite: Overwrite = False,
) -> None:
    """A register of fire stations from the Home Office list alone, for fire-cover questions."""
    from ._output_files import refuse_outputs_over_inputs
    from .osm_import import import_fire_stations

    with _user_errors():
        refuse_outputs_over_inputs([out], {"station list": stations, "--boundaries": boundaries})
        sites = import_fire_stations(
            stations,
            out,
            _authority_area(boundaries, authority),
            fill_defaults=fill_defaults,
            overwrite=overwrite,
        )
    _said_written(sites, out, fill_defaults)


if __name__ == "__main__":  # pragma: no cover
    app()
