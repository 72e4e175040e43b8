"""Sweeps: one scenario run many times, over named overrides, setting values and places, on Dask.

A sweep file names a base scenario and what varies: a grid of the scenario's own named
``overrides`` and of setting values addressed by dotted paths (``finance.discount_rate``;
entries of ``standards`` and ``access`` by their name, ``standards.fire_10min.minutes``),
and a list of places (local-authority codes, estate registers, or named sets of settings).
Every combination is one *point*: an ordinary scenario run written as an ordinary result
folder under ``OUTPUT/<sweep>/points/<point>/``. Points run on a ``dask.distributed``
cluster: a local one by default (one single-threaded worker process per core), or an
existing one by its scheduler's address.

A sweep can be stopped and run again: a point whose folder is complete and whose scenario
has not changed since is kept, not run again; every other point is (re)run. A point that
fails (infeasible, bad input, no plan from the solver, its worker died) is reported with
its message and never stops the rest. ``summary.gpkg`` / ``summary.xlsx`` / ``summary.csv``
list every point.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import itertools
import json
import logging
import math
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ._cache import file_sha256
from ._errors import InfeasibleScenario, ScenarioError, SolverError, TotalCapitalError
from .pipeline import RUN_FILES
from .scenario import _PATH_KEYS, Scenario, _allowed_keys, _format_errors, load_scenario

if TYPE_CHECKING:
    from distributed import Client

    from .results import ScenarioResult

log = logging.getLogger(__name__)

__all__ = [
    "FAILED_STATUSES",
    "PointOutcome",
    "Sweep",
    "SweepFile",
    "SweepPoint",
    "dask_client",
    "load_sweep",
    "make_point",
    "run_point",
    "run_points",
    "unfinished",
]

#: The sweep's own record in each point's result folder.
POINT_FILE = "sweep_point.json"
#: Files a point's folder must hold to count as finished (as ``totalcapital run`` writes them).
POINT_FILES = (*RUN_FILES, POINT_FILE)
#: Statuses of points that produced no plan.
FAILED_STATUSES = ("infeasible", "no_solution", "bad_input", "error", "worker_died")
#: A LocalCluster retries a point whose worker died once, then reports it.
LOCAL_ALLOWED_FAILURES = 1

_NAME_PATTERN = r"^[A-Za-z0-9_\-]+$"


# --------------------------------------------------------------------------- the sweep file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class GridSettings(_Strict):
    """What varies: every combination of the override choices and the setting values."""

    #: Each entry is one choice: an override's name, a list of names applied together, or
    #: ``[]`` for none.
    overrides: list[str | list[str]] = Field(default_factory=list)
    #: Dotted path -> the values it takes (``finance.discount_rate: [0.02, 0.035]``).
    parameters: dict[str, list[Any]] = Field(default_factory=dict)

    @field_validator("parameters")
    @classmethod
    def _values_given(cls, parameters: dict[str, list[Any]]) -> dict[str, list[Any]]:
        empty = sorted(path for path, values in parameters.items() if not values)
        if empty:
            raise ValueError(f"give at least one value for: {', '.join(empty)}")
        return parameters


class PlacesSettings(_Strict):
    """Places: each one a point of its own (and crossed with the grid)."""

    #: One place per local-authority code: ``demand.lsoa.authorities`` becomes ``[code]``.
    authorities: list[str] = Field(default_factory=list)
    #: One place per estate register (paths relative to the sweep file): ``estate`` becomes it.
    estates: list[Path] = Field(default_factory=list)
    #: Place name -> its settings (dotted path -> value), for anything else.
    named: dict[str, dict[str, Any]] = Field(default_factory=dict)


class SweepFile(_Strict):
    """A sweep file. See ``scenarios/demo-sweep.yaml`` and README ("Sweeps and trade-offs")."""

    name: str | None = Field(None, pattern=_NAME_PATTERN)
    description: str = ""
    #: The base scenario (relative to the sweep file).
    scenario: Path
    #: Overrides applied to every point, before the grid's.
    overrides: list[str] = Field(default_factory=list)
    grid: GridSettings = Field(default_factory=GridSettings)
    places: PlacesSettings = Field(default_factory=PlacesSettings)


@dataclass(frozen=True)
class SweepPoint:
    """One run of a sweep.

    Attributes
    ----------
    key : str
        Its folder's name: the values made readable plus a hash of them, so it stays the
        same when the grid is reordered or grows.
    values : dict
        Swept setting (table column) -> its value at this point.
    scenario : Scenario
        The full scenario of this run.
    """

    key: str
    values: dict[str, Any]
    scenario: Scenario

    @property
    def label(self) -> str:
        """The values in words ("finance.discount_rate=0.02, place=E06000017")."""
        return ", ".join(f"{k}={_text(v)}" for k, v in self.values.items()) or "base scenario"

    @property
    def fingerprint(self) -> str:
        """A hash of the full scenario: a finished folder is kept only while it matches."""
        text = json.dumps(self.scenario.resolved(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Sweep:
    """A loaded sweep file: its points, each a validated scenario."""

    name: str
    description: str
    source: Path
    scenario_file: Path
    columns: tuple[str, ...]
    points: tuple[SweepPoint, ...]


class _SettingError(Exception):
    """A dotted path that does not lead anywhere in the scenario."""


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " + ".join(_text(v) for v in value) if value else "none"
    if isinstance(value, Path):
        return value.name
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _point_key(values: dict[str, Any]) -> str:
    """A folder name (and scenario-name suffix): readable values plus a hash of them."""
    readable = "_".join(re.sub(r"[^A-Za-z0-9]+", "_", _text(v)).strip("_") for v in values.values())
    digest = hashlib.sha256(
        json.dumps(values, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()[:8]
    return f"{readable[:60].strip('_')}-{digest}" if readable else f"base-{digest}"


def _set_setting(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` in scenario ``data``; in a list, the next part names an entry by ``name``."""
    parts = path.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the scenario"
        last = depth == len(parts) - 1
        if isinstance(node, list):
            names = [e.get("name") for e in node if isinstance(e, dict)]
            if part not in names:
                listed = ", ".join(str(n) for n in names) or "none"
                raise _SettingError(
                    f"'{path}': no entry named '{part}' in '{where}' (names there: {listed})"
                )
            index = names.index(part)
            if last:
                node[index] = value
            node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            elif node.get(part) is None:
                node[part] = {}  # an unset section (e.g. demand.lsoa), filled in by this path
            node = node[part]
        else:
            raise _SettingError(f"'{path}': '{where}' is a single value ({node!r}), not a section")


def _resolve_path_value(path: str, value: Any, folder: Path) -> Any:
    """Make file settings (``estate``, ``demand.points`` ...) relative to the sweep file."""
    if tuple(path.split(".")) in _PATH_KEYS and isinstance(value, (str, Path)):
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else (folder / candidate).resolve()
    return value


def make_point(
    base: Scenario, values: dict[str, Any], settings: dict[str, Any], folder: Path | None = None
) -> SweepPoint:
    """The point of ``base`` with ``settings`` (dotted path -> value) applied.

    Parameters
    ----------
    base : Scenario
        The scenario with its overrides already applied.
    values : dict
        What the summary table shows for this point (column -> value); names the point.
    settings : dict
        Dotted path -> value; file paths are resolved against ``folder``.
    folder : Path, optional
        The folder of the file that gave the settings (default: the current folder).

    Raises
    ------
    ScenarioError
        When a path leads nowhere or the resulting scenario is invalid.
    """
    data = copy.deepcopy(base.model_dump())
    folder = folder or Path.cwd()
    key = _point_key(values)
    source = ", ".join(f"{k}={_text(v)}" for k, v in values.items()) or "base scenario"
    problems = []
    for path, value in settings.items():
        try:
            _set_setting(data, path, _resolve_path_value(path, value, folder))
        except _SettingError as exc:
            problems.append(f"  - {exc}")
    data["name"] = f"{base.name}-{key}"
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems += _format_errors(source, exc).splitlines()[1:]
    if problems:
        raise ScenarioError("\n".join([f"{source}: {len(problems)} problem(s):", *problems]))
    return SweepPoint(key=key, values=dict(values), scenario=scenario)


def _read_sweep_file(path: Path) -> SweepFile:
    if not path.is_file():
        raise ScenarioError(f"{path}: sweep file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        found = "an empty file" if data is None else type(data).__name__
        raise ScenarioError(f"{path}: expected a mapping of sweep keys, found {found}")
    try:
        return SweepFile.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: {exc.error_count()} problem(s) in the sweep file:"]
        for error in exc.errors():
            loc = tuple(error["loc"])
            where = ".".join(str(p) for p in loc) or "(top level)"
            if error["type"] == "extra_forbidden":
                allowed = ", ".join(_allowed_keys(SweepFile, loc))
                lines.append(f"  - unknown key '{where}'; allowed keys here: {allowed}")
            elif error["type"] == "missing":
                lines.append(f"  - '{where}' is required but missing")
            else:
                lines.append(f"  - '{where}': {error['msg']} (found {error.get('input')!r})")
        raise ScenarioError("\n".join(lines)) from None


def _places(spec: PlacesSettings, folder: Path) -> list[tuple[str, dict[str, Any]]]:
    places = [(code, {"demand.lsoa.authorities": [code]}) for code in spec.authorities]
    for estate in spec.estates:
        resolved = estate if estate.is_absolute() else (folder / estate).resolve()
        places.append((estate.stem, {"estate": resolved}))
    places += list(spec.named.items())
    return places


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file and build every point's scenario.

    Every problem is found before anything runs and reported at once: unknown keys, unknown
    overrides, dotted paths that lead nowhere, and each distinct invalid value (with the
    points it spoils).

    Raises
    ------
    ScenarioError
    """
    path = Path(path)
    spec = _read_sweep_file(path)
    folder = path.resolve().parent
    scenario_file = spec.scenario if spec.scenario.is_absolute() else folder / spec.scenario
    choices = [[c] if isinstance(c, str) else list(c) for c in spec.grid.overrides] or [[]]
    places = _places(spec.places, folder)
    names = [name for name, _ in places]
    problems: dict[str, list[str]] = {}
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems[f"places named more than once: {', '.join(repeated)}"] = []
    for parameter, values in spec.grid.parameters.items():
        texts = [json.dumps(v, sort_keys=True, default=str) for v in values]
        if len(set(texts)) < len(texts):
            problems[f"'{parameter}': a value is listed more than once"] = []

    columns: list[str] = []
    if spec.grid.overrides:
        columns.append("overrides")
    columns += list(spec.grid.parameters)
    if places:
        columns.append("place")
    points: list[SweepPoint] = []
    for choice in choices:
        try:
            base = load_scenario(scenario_file, overrides=[*spec.overrides, *choice])
        except ScenarioError as exc:
            problems.setdefault(str(exc), [])
            continue
        for combination in itertools.product(*spec.grid.parameters.values()):
            settings = dict(zip(spec.grid.parameters, combination, strict=True))
            for place, place_settings in places or [(None, {})]:
                values: dict[str, Any] = {}
                if spec.grid.overrides:
                    values["overrides"] = choice
                values.update(settings)
                if place is not None:
                    values["place"] = place
                try:
                    point = make_point(base, values, {**settings, **place_settings}, folder)
                except ScenarioError as exc:
                    label = ", ".join(f"{k}={_text(v)}" for k, v in values.items())
                    lines = str(exc).splitlines()
                    for message in lines[1:] or lines:
                        problems.setdefault(message.strip().removeprefix("- "), []).append(label)
                    continue
                points.append(point)
    if problems:
        lines = [f"{path}: {len(problems)} problem(s) in the sweep:"]
        for message, labels in problems.items():
            shown = f" (in {len(labels)} point(s), e.g. {labels[0]})" if labels else ""
            lines.append(f"  - {message.strip()}{shown}")
        raise ScenarioError("\n".join(lines))
    log.info("Sweep '%s': %d points of %s", spec.name or path.stem, len(points), scenario_file)
    return Sweep(
        name=spec.name or path.stem,
        description=spec.description,
        source=path.resolve(),
        scenario_file=scenario_file.resolve(),
        columns=tuple(columns),
        points=tuple(points),
    )


# --------------------------------------------------------------------------- one point


@dataclass(frozen=True)
class PointOutcome:
    """What became of one point.

    Attributes
    ----------
    key : str
    values : dict
    status : str
        The run's status (``optimal``, ``time_limit`` ...) or one of :data:`FAILED_STATUSES`.
    message : str
        Why a point failed ("" when it did not).
    seconds : float
        Wall time of the run (of the earlier run, for a kept point).
    reused : bool
        Kept from an earlier run of the sweep rather than run now.
    record : dict
        The point's ``sweep_point.json``: totals, solver report, cover per requirement.
    """

    key: str
    values: dict[str, Any]
    status: str
    message: str = ""
    seconds: float = math.nan
    reused: bool = False
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status not in FAILED_STATUSES

    def cover(self, requirement: str) -> dict[str, Any] | None:
        """The requirement's cover after the plan (``weight_total``, ``weight_covered_after``,
        ``share_after``, ``met``), or None."""
        for row in self.record.get("coverage", []):
            if row["name"] == requirement:
                return row
        return None


def _point_record(point: SweepPoint, result: ScenarioResult, seconds: float) -> dict[str, Any]:
    import shapely

    from .exports import _jsonable

    shapes = [result.sites.geometry.representative_point().union_all()]
    if result.demand is not None and not result.demand.empty:
        shapes.append(result.demand.geometry.union_all())
    area = shapely.union_all(shapes).convex_hull
    coverage = result.coverage[
        ["name", "kind", "weight_total", "weight_covered_after", "share_after", "met"]
    ]
    return _jsonable(
        {
            "key": point.key,
            "values": point.values,
            "fingerprint": point.fingerprint,
            "seconds": seconds,
            "status": result.solve.get("status"),
            "solver_status": result.solve.get("solver_status"),
            "objective": result.solve.get("objective"),
            "gap": result.solve.get("gap"),
            "totals": result.totals,
            "coverage": coverage.to_dict(orient="records"),
            "area_wkt": area.wkt,
        }
    )


def _failed(point: SweepPoint, status: str, message: str, seconds: float) -> PointOutcome:
    return PointOutcome(point.key, point.values, status, message, seconds)


def run_point(
    point: SweepPoint,
    folder: Path,
    cache_dir: Path | None = None,
    inputs: dict[str, Path] | None = None,
) -> PointOutcome:
    """Run one point and write its result folder as ``totalcapital run`` does.

    This is what each Dask worker runs. A point's failure is returned, never raised, so one
    point cannot stop a sweep.

    Parameters
    ----------
    point : SweepPoint
    folder : Path
        The point's result folder (written whole or not at all).
    cache_dir : Path, optional
        Travel-time cache.
    inputs : dict, optional
        Further files for the decision record (the sweep file, the base scenario).
    """
    from .pipeline import run_scenario, save_run

    started = time.perf_counter()
    try:
        result, record = run_scenario(point.scenario, cache_dir=cache_dir)
        record.inputs.update(inputs or {})
        seconds = time.perf_counter() - started
        manifest = _point_record(point, result, seconds)

        def write_manifest(_: ScenarioResult, staging: Path) -> None:
            (staging / POINT_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")

        save_run(result, record, folder, [write_manifest])
    except InfeasibleScenario as exc:
        return _failed(point, "infeasible", str(exc), time.perf_counter() - started)
    except SolverError as exc:
        return _failed(point, "no_solution", str(exc), time.perf_counter() - started)
    except (TotalCapitalError, OSError) as exc:
        return _failed(point, "bad_input", str(exc), time.perf_counter() - started)
    except Exception as exc:  # a program error in one point must not stop the others
        message = f"{type(exc).__name__}: {exc}"
        return _failed(point, "error", message, time.perf_counter() - started)
    return PointOutcome(
        point.key, point.values, str(manifest["status"]), "", manifest["seconds"], False, manifest
    )


def finished_outcome(point: SweepPoint, folder: Path) -> PointOutcome | None:
    """The outcome kept in ``folder`` if it is complete and was run with the same scenario."""
    if not all((folder / name).is_file() for name in POINT_FILES):
        return None
    try:
        record = json.loads((folder / POINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("fingerprint") != point.fingerprint:
        log.info("Point %s: its scenario changed since it ran; running it again", point.label)
        return None
    changed = _changed_input(folder / "decision_record.json")
    if changed is not None:
        log.info("Point %s: %s changed since it ran; running it again", point.label, changed)
        return None
    return PointOutcome(
        point.key,
        point.values,
        str(record.get("status")),
        "",
        float(record.get("seconds", math.nan)),
        True,
        record,
    )


@functools.lru_cache(maxsize=256)
def _input_digest(path: str, size: int, modified: int) -> str:
    """An input's SHA-256, read once per version of the file (size and time stamp)."""
    return file_sha256(Path(path))


def _changed_input(record_file: Path) -> str | None:
    """The first data file (register, demand, network, ...) a finished point read that is not
    as it was then, or None. Its scenario is compared by the fingerprint."""
    from .exports import describe_input

    try:
        inputs = json.loads(record_file.read_text(encoding="utf-8"))["inputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return str(record_file)
    for key, entry in inputs.items():
        if key.startswith(("scenario", "sweep")) or not isinstance(entry, dict):
            continue
        path = Path(str(entry.get("path")))
        try:
            if path.is_dir():
                digest = describe_input(path)["sha256"]
            else:
                stat = path.stat()
                digest = _input_digest(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        except OSError:
            return str(path)
        if digest != entry.get("sha256"):
            return str(path)
    return None


def unfinished(points: Sequence[SweepPoint], folder: Path) -> list[SweepPoint]:
    """The points of a sweep in ``folder`` that still have to run."""
    points_dir = Path(folder) / "points"
    return [p for p in points if finished_outcome(p, points_dir / p.key) is None]


def _clear_leftovers(points_dir: Path, key: str) -> None:
    """Remove staging folders of a run of this point that was killed while writing."""
    if not points_dir.is_dir():
        return
    for leftover in points_dir.glob(f".{key}.*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


# --------------------------------------------------------------------------- on Dask


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def dask_client(
    scheduler: str | None = None,
    workers: int | None = None,
    memory_limit: str | float | None = "auto",
) -> Iterator[Client]:
    """A Dask client: of an existing cluster (``scheduler`` address) or of a new local one.

    The local cluster has one worker process per core (``workers``), each single-threaded
    (HiGHS and PuLP are not thread-safe within a process) with ``memory_limit`` ("auto": the
    machine's memory shared equally; a worker past 95% of it is restarted). A point whose
    worker dies is retried once, then reported.

    Raises
    ------
    TotalCapitalError
        When the scheduler cannot be reached.
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise TotalCapitalError(
                f"could not reach the Dask scheduler at {scheduler}: {exc}"
            ) from None
        with client:
            yield client
        return
    import dask

    n_workers = workers or _cores()
    # One point at a time per worker: a point is long, and a worker that dies then takes
    # only its own point with it.
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        cluster = LocalCluster(
            n_workers=n_workers,
            processes=True,
            threads_per_worker=1,
            memory_limit=memory_limit,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            scheduler_kwargs={"allowed_failures": LOCAL_ALLOWED_FAILURES},
        )
    log.info("Started a local Dask cluster: %d worker processes", n_workers)
    with cluster, Client(cluster) as client:
        yield client


Runner = Callable[..., PointOutcome]


def run_points(
    points: Sequence[SweepPoint],
    folder: Path,
    client: Client | None,
    *,
    cache_dir: Path | None = None,
    inputs: dict[str, Path] | None = None,
    on_outcome: Callable[[PointOutcome], None] | None = None,
    runner: Runner = run_point,
) -> list[PointOutcome]:
    """Run the points not yet finished on the cluster; keep the finished ones.

    Parameters
    ----------
    points : sequence of SweepPoint
    folder : Path
        The sweep's folder; each point goes to ``folder/points/<key>``.
    client : distributed.Client or None
        None only when every point is already finished.
    cache_dir, inputs
        Passed to each run (see :func:`run_point`).
    on_outcome : callable, optional
        Called with each outcome as it arrives (kept points first), e.g. for a progress bar.
    runner : callable, optional
        What each worker runs for a point (default :func:`run_point`, same arguments).

    Returns
    -------
    list of PointOutcome
        In the order of ``points``.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    points_dir = Path(folder) / "points"
    outcomes: dict[str, PointOutcome] = {}
    pending: list[SweepPoint] = []
    for point in points:
        kept = finished_outcome(point, points_dir / point.key)
        if kept is None:
            pending.append(point)
            continue
        outcomes[point.key] = kept
        if on_outcome is not None:
            on_outcome(kept)
    if len(outcomes):
        log.info("%d of %d points already finished: kept", len(outcomes), len(points))
    if not pending:
        return [outcomes[point.key] for point in points]
    if client is None:
        raise ValueError("run_points: points to run, but no Dask client")
    run_id = uuid.uuid4().hex[:8]
    waiting = list(pending)
    futures: dict[Any, SweepPoint] = {}
    arrived = as_completed()

    def submit_more() -> None:
        # No more points in flight than worker threads: a worker that dies then takes only
        # the point it was running with it, and nothing waits behind a long point.
        capacity = max(1, sum(client.nthreads().values()))
        while waiting and sum(not f.done() for f in futures) < capacity:
            point = waiting.pop(0)
            _clear_leftovers(points_dir, point.key)
            future = client.submit(
                runner,
                point,
                points_dir / point.key,
                cache_dir,
                inputs,
                key=f"totalcapital-point-{point.key}-{run_id}",
                pure=False,
            )
            futures[future] = point
            arrived.add(future)

    try:
        submit_more()
        for future in arrived:
            point = futures[future]
            try:
                outcome = future.result()
            except KilledWorker:
                outcome = _failed(
                    point,
                    "worker_died",
                    "the worker running this point died (twice for a local cluster); if it ran "
                    "out of memory, run fewer workers (--workers) or give each more "
                    "(--memory-limit)",
                    math.nan,
                )
            except Exception as exc:  # lost connection, cancelled: report, go on
                outcome = _failed(point, "error", f"{type(exc).__name__}: {exc}", math.nan)
            if not outcome.ok:
                log.info("Point %s: %s: %s", point.label, outcome.status, outcome.message)
            outcomes[point.key] = outcome
            if on_outcome is not None:
                on_outcome(outcome)
            submit_more()
    finally:
        client.cancel([f for f in futures if not f.done()])
    return [outcomes[point.key] for point in points]
