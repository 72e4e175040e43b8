"""Scenario files: a strict, frozen pydantic schema and YAML loading with named overrides.

A scenario says which estate to plan, where demand comes from, how travel times are
measured, the money settings, the response and access standards, the rules the
partners live by, and the solver. Unknown keys are rejected by name, with the keys
that are allowed, so a typo never silently changes a plan.

A scenario file may start from another (``base: baseline.yaml``) and may carry named
``overrides`` (partial scenarios) that the user applies with ``--override NAME``;
each applied override is logged.

YAML is read strictly: a key repeated in one mapping is refused (YAML would silently keep
the last), dates stay text until the schema checks them, and every number must be finite
and within the plausible range its field documents (README lists them).
"""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ._errors import ScenarioError
from ._text import control_characters, printable
from ._validate import file_problem

log = logging.getLogger(__name__)

__all__ = [
    "AccessSettings",
    "DemandSettings",
    "FinanceSettings",
    "LocksSettings",
    "LsoaDemand",
    "ProgrammeSettings",
    "RulesSettings",
    "Scenario",
    "SolverSettings",
    "StandardSettings",
    "TravelSettings",
    "load_scenario",
    "plain_label",
]


# Plausible ranges: far beyond any real scenario, so they only catch typos, unit mix-ups and
# values that would overflow the model (README, "What totalcapital guarantees").
SPEED_KMH = (1.0, 200.0)
CIRCUITY = (1.0, 5.0)
BLUE_LIGHT_FACTOR = (0.5, 3.0)
MINUTES_MAX = 1_440.0  # a day
MONEY_MAX = 100_000_000_000.0  # £100bn
DISTANCE_KM_MAX = 1_500.0
TIME_LIMIT_SECONDS_MAX = 7 * 24 * 3600.0  # a week
DISCOUNT_RATE_MAX = 0.25
START_DATES = (date(1950, 1, 1), date(2200, 12, 31))
SCENARIO_BYTES_MAX = 10_000_000
TEXT_MAX = 10_000
# Values in a scenario after YAML aliases are expanded: far more than any real scenario holds,
# far fewer than an "alias bomb" that expands ten lines into a billion values.
VALUES_MAX = 100_000


def plain_label(name: str) -> str:
    """A name such as ``fire_10min`` or ``police_counter`` in plain words: "Fire 10 min".

    The default label of a standard, access rule or service type that has none.
    """
    words = re.sub(r"[_\-]+", " ", str(name)).strip()
    words = re.sub(r"(\d)\s*(min|mins|minutes)\b", r"\1 min", words)
    return words[:1].upper() + words[1:]


def _default_label(data: Any) -> Any:
    """Fill a missing or blank ``label`` from the ``name`` (before validation)."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return data
    label = data.get("label")
    if label is None or (isinstance(label, str) and not label.strip()):
        return {**data, "label": plain_label(data["name"])}
    return data


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


def _in_range(values: dict[str, float], low: float, high: float, zero_allowed=False) -> dict:
    wrong = {
        key: value
        for key, value in values.items()
        if not (low <= value <= high or (zero_allowed and value == 0))
    }
    if wrong:
        allowed = f"from {low:g} to {high:g}" + (" (or 0)" if zero_allowed else "")
        listed = ", ".join(f"{key}: {value:g}" for key, value in wrong.items())
        raise ValueError(f"expected values {allowed}, found {listed}")
    return values


class LsoaDemand(_Strict):
    """Population-weighted LSOA centroids and populations in the published ONS layouts."""

    centroids: Path
    population: Path
    authorities: list[str] = Field(min_length=1)


class DemandSettings(_Strict):
    """Where demand comes from: the estate's ``demand`` layer (default), a points file, or LSOAs."""

    points: Path | None = None
    layer: str | None = None
    weight_column: str = "population"
    lsoa: LsoaDemand | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DemandSettings:
        if self.points is not None and self.lsoa is not None:
            raise ValueError("give either 'points' or 'lsoa', not both")
        return self


class TravelSettings(_Strict):
    """How travel times are measured: a road network from an OSM extract, or straight lines."""

    method: Literal["auto", "network", "straight_line"] = "auto"
    network: Path | None = None
    straight_line_speed_kmh: float = Field(50.0, ge=SPEED_KMH[0], le=SPEED_KMH[1])
    circuity: float = Field(1.3, ge=CIRCUITY[0], le=CIRCUITY[1])
    road_speeds_kmh: dict[str, float] = Field(default_factory=dict)
    blue_light_factor: dict[str, float] = Field(
        default_factory=lambda: {
            "fire_station": 1.2,
            "ambulance_station": 1.2,
            "police_station": 1.2,
        }
    )
    snap_warning_m: float = Field(500.0, gt=0, le=100_000)
    cache: bool = True
    cache_dir: Path | None = None

    @field_validator("road_speeds_kmh")
    @classmethod
    def _plausible_speeds(cls, speeds: dict[str, float]) -> dict[str, float]:
        return _in_range(speeds, *SPEED_KMH, zero_allowed=True)  # 0 drops a road class

    @field_validator("blue_light_factor")
    @classmethod
    def _plausible_factors(cls, factors: dict[str, float]) -> dict[str, float]:
        return _in_range(factors, *BLUE_LIGHT_FACTOR)

    @model_validator(mode="after")
    def _network_given(self) -> TravelSettings:
        if self.method == "network" and self.network is None:
            raise ValueError("method 'network' needs 'network: PATH.osm.pbf'")
        return self

    @property
    def resolved_method(self) -> str:
        """``network`` when a network file is given (or asked for), else ``straight_line``."""
        if self.method == "auto":
            return "network" if self.network is not None else "straight_line"
        return self.method


class FinanceSettings(_Strict):
    """Money: appraisal horizon and discount rate (HM Treasury Green Book 3.5%), budget, rent."""

    # Appraisal start: the horizon runs from here, and lease breaks are judged against it.
    start_date: date = date(2026, 4, 1)
    horizon_years: int = Field(25, ge=1, le=100)
    discount_rate: float = Field(0.035, ge=0.0, le=DISCOUNT_RATE_MAX)
    # Capital budget over the whole window (£; null: no limit).
    capital_budget: float | None = Field(None, ge=0, le=MONEY_MAX)
    # A budget a year (£ each year, or {2027: ..., 2028: ...} by financial year), carried
    # forward when unspent; per partner as {PARTNER: £ a year}.
    capital_budget_per_year: float | dict[int, float] | None = None
    partner_capital_budget_per_year: dict[str, float] = Field(default_factory=dict)
    # What a capital budget counts: new builds, moves (fit-out and moving), the maintenance
    # backlog of sites kept, lease exit costs.
    budget_counts: list[Literal["builds", "moves", "backlog", "lease_exits"]] = Field(
        default_factory=lambda: ["builds", "moves"]
    )
    receipts_recycled_share: float = Field(0.0, ge=0.0, le=1.0)
    # Receipts fund capital spending this many years after they are received.
    recycling_lag_years: int = Field(0, ge=0, le=50)
    moving_cost_per_staff: float = Field(1500.0, ge=0, le=1_000_000)
    host_rent_share: float = Field(1.0, ge=0.0, le=1.0)
    # Freeholds still held at the horizon's end are worth their net sale value then.
    residual_value: bool = True
    # Backlog is spent in the first year on every site still held this many years in; a site
    # let go sooner is kept going until then, not refurbished.
    backlog_grace_years: int = Field(3, ge=0, le=50)

    @field_validator("capital_budget_per_year")
    @classmethod
    def _budget_per_year(cls, value):
        amounts = value.values() if isinstance(value, dict) else [value]
        if any(a is not None and not 0 <= a <= MONEY_MAX for a in amounts):
            raise ValueError(f"budgets must be from 0 to £{MONEY_MAX:,.0f}")
        return value

    @field_validator("start_date")
    @classmethod
    def _plausible_start(cls, start: date) -> date:
        first, last = START_DATES
        if not first <= start <= last:
            raise ValueError(f"expected a date from {first} to {last}, found {start}")
        return start

    @property
    def horizon_end(self) -> date:
        """The last day of the appraisal horizon."""
        try:
            return self.start_date.replace(year=self.start_date.year + self.horizon_years)
        except ValueError:  # 29 February
            return self.start_date.replace(year=self.start_date.year + self.horizon_years, day=28)


class StandardSettings(_Strict):
    """A response standard: demand within ``minutes`` of a site housing one of ``service_types``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    #: Shown on maps and in reports; by default the name in plain words.
    label: str = Field("", max_length=120)
    service_types: list[str] = Field(min_length=1)
    minutes: float = Field(gt=0, le=MINUTES_MAX)
    rule: Literal["share", "all", "keep_today", "no_worse_than_today"] = "share"
    share: float = Field(1.0, ge=0.0, le=1.0)

    @model_validator(mode="before")
    @classmethod
    def _label_from_name(cls, data: Any) -> Any:
        return _default_label(data)


class AccessSettings(_Strict):
    """Access to public-facing services: a share of population within ``minutes`` of one site."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    #: Shown on maps and in reports; by default the name in plain words.
    label: str = Field("", max_length=120)
    service_types: list[str] = Field(min_length=1)
    minutes: float = Field(gt=0, le=MINUTES_MAX)
    rule: Literal["share", "keep_today", "no_worse_than_today"] = "share"
    share: float = Field(0.9, ge=0.0, le=1.0)

    @model_validator(mode="before")
    @classmethod
    def _label_from_name(cls, data: Any) -> Any:
        return _default_label(data)


class RulesSettings(_Strict):
    """The rules partners live by; every one can be switched off."""

    allow_moves: bool = True
    allow_disposals: bool = True
    allow_new_builds: bool = False
    max_move_km: float | None = Field(None, gt=0, le=DISTANCE_KM_MAX)
    capabilities: dict[str, list[str]] = Field(default_factory=dict)
    incompatible: list[tuple[str, str]] = Field(default_factory=list)
    candidate_sites: dict[str, list[str]] = Field(default_factory=dict)
    partners_no_worse_off: bool = False
    partner_npv_floor: float = Field(0.0, ge=-MONEY_MAX, le=MONEY_MAX)
    # Also solve with partners_no_worse_off the other way, and report both plans side by side.
    compare_no_worse_off: bool = False
    lease_exit_at_break_only: bool = True
    covenants: bool = True
    dispose_listed: bool = True


class LocksSettings(_Strict):
    """Decisions taken out of the model's hands."""

    keep_sites: list[str] = Field(default_factory=list)
    dispose_sites: list[str] = Field(default_factory=list)
    fixed_services: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_contradiction(self) -> LocksSettings:
        both = sorted(set(self.keep_sites) & set(self.dispose_sites))
        if both:
            raise ValueError(f"sites locked both kept and disposed: {', '.join(both)}")
        return self


class SolverSettings(_Strict):
    """Which MILP solver, and when it may stop."""

    name: Literal["highs", "cbc"] = "highs"
    time_limit_seconds: float = Field(60.0, gt=0, le=TIME_LIMIT_SECONDS_MAX)
    mip_gap: float = Field(1e-4, ge=0.0, lt=1.0)
    threads: int | None = Field(None, ge=1, le=1024)
    #: Improve today's plan (or the decomposition's) neighbourhood by neighbourhood before
    #: the full solve; "auto" does so for models of more than 3,000 allowed (service, site)
    #: pairs, where the full model alone can stall at its root; "off" never.
    local_search: Literal["auto", "on", "off"] = "auto"
    #: HiGHS's presolve: "auto" presolves except on a large dated model (over 200,000
    #: nonzeros), whose presolve cannot be stopped by the time limit.
    presolve: Literal["auto", "on", "off"] = "auto"
    #: First prove the fewest sites any plan keeps, and give the money model that row (and
    #: that plan as its start); "auto" does so for a timeless model of 100 or more sites free
    #: to close that all cost about the same to keep (within 10%), such as a fire-cover screen.
    site_count_bound: Literal["auto", "on", "off"] = "auto"
    #: Decompose a large timeless model by site (column generation, then the master over
    #: whole-site patterns): a plan and a lower bound of its own. "auto" for timeless models
    #: of more than 3,000 allowed pairs given 10 ms a pair; the neighbourhood search then
    #: starts from its plan.
    decomposition: Literal["auto", "on", "off"] = "auto"


class ProgrammeSettings(_Strict):
    """A dated programme: every decision carries a financial year (April to March)."""

    # false: the timeless model (everything happens at the start, as one decision).
    enabled: bool = True
    # Years in which the plan may change; the rest of the horizon is a tail.
    years: int = Field(10, ge=2, le=50)
    # Years a new build takes before it can host, for candidates without a build_years value.
    build_years: int = Field(2, ge=0, le=20)
    # Decide in every year even where fewer decision points would give the same plan.
    every_year: bool = False
    # At most this many disposals and lease exits a year, for every partner or by partner.
    max_disposals_per_year: int | None = Field(None, ge=0)
    partner_max_disposals_per_year: dict[str, int] = Field(default_factory=dict)


class Scenario(_Strict):
    """One planning scenario. See ``scenarios/*.yaml`` and README for every key."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$", max_length=100)
    description: str = ""
    estate: Path | None = None
    demand: DemandSettings = Field(default_factory=DemandSettings)
    travel: TravelSettings = Field(default_factory=TravelSettings)
    finance: FinanceSettings = Field(default_factory=FinanceSettings)
    standards: list[StandardSettings] = Field(default_factory=list)
    access: list[AccessSettings] = Field(default_factory=list)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    locks: LocksSettings = Field(default_factory=LocksSettings)
    solver: SolverSettings = Field(default_factory=SolverSettings)
    programme: ProgrammeSettings = Field(default_factory=ProgrammeSettings)
    #: Plain-English names of service types for maps, e.g. ``police_counter: Police front desk``;
    #: types not named here get a built-in name or their own in plain words.
    service_labels: dict[str, str] = Field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    applied_overrides: list[str] = Field(default_factory=list)

    @field_validator("standards", "access")
    @classmethod
    def _unique_names(cls, items: list) -> list:
        names = [item.name for item in items]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"names must be unique, repeated: {', '.join(repeated)}")
        return items

    @model_validator(mode="after")
    def _requirement_names_distinct(self) -> Scenario:
        clash = {s.name for s in self.standards} & {a.name for a in self.access}
        if clash:
            raise ValueError(f"a standard and an access rule share the name(s) {sorted(clash)}")
        return self

    @property
    def largest_standard_minutes(self) -> float | None:
        """The longest time any standard or access rule looks at (the travel-time cutoff)."""
        minutes = [s.minutes for s in self.standards] + [a.minutes for a in self.access]
        return max(minutes) if minutes else None

    def resolved(self) -> dict[str, Any]:
        """The full scenario as plain JSON-able data (for records and result folders)."""
        return self.model_dump(mode="json", exclude={"overrides"})


_PATH_KEYS: dict[tuple[str, ...], None] = {
    ("estate",): None,
    ("demand", "points"): None,
    ("demand", "lsoa", "centroids"): None,
    ("demand", "lsoa", "population"): None,
    ("travel", "network"): None,
    ("travel", "cache_dir"): None,
}


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve_paths(data: dict[str, Any], folder: Path) -> None:
    """Make every path relative to the file that named it, so scenarios can be run from anywhere."""
    for keys in _PATH_KEYS:
        node: Any = data
        for key in keys[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(keys[-1]), str):
            path = Path(node[keys[-1]])
            try:
                path = path.expanduser()
            except RuntimeError:  # "~someone" with no such user: the schema reports the path
                pass
            node[keys[-1]] = str(path if path.is_absolute() else (folder / path).resolve())


class _RepeatedKey(yaml.YAMLError):
    """A mapping names one key twice; YAML itself would keep the last silently."""


class _ScenarioLoader(yaml.SafeLoader):
    """Safe YAML that refuses repeated keys and leaves dates as text for the schema to check."""


# Without the timestamp resolver "2026-02-30" stays text, so the schema reports it by key
# (PyYAML would raise a bare ValueError while reading).
_ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mapping_without_repeats(loader: _ScenarioLoader, node: yaml.MappingNode):
    first_line: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys brought in by "<<" may be overridden: that is their purpose
        key = loader.construct_object(key_node, deep=True)
        try:
            seen = key in first_line
        except TypeError:  # an unhashable key: construct_yaml_map reports it
            continue
        line = key_node.start_mark.line + 1
        if seen:
            raise _RepeatedKey(
                f"line {line}: the key '{key}' appears twice in one mapping (first on line "
                f"{first_line[key]}); YAML would keep only the last, so remove one of them"
            )
        first_line[key] = line
    yield from loader.construct_yaml_map(node)


_ScenarioLoader.add_constructor("tag:yaml.org,2002:map", _mapping_without_repeats)


def _check_values(path: Path, data: Any) -> None:
    """Refuse alias bombs, loops, control characters and overlong text, naming the key."""
    counted: dict[int, int] = {}
    open_nodes: set[int] = set()

    def visit(value: Any, where: str) -> int:
        if isinstance(value, str):
            if control_characters(value):
                raise ScenarioError(
                    f"{path}: '{where}': expected text without control characters, "
                    f"found {printable(repr(value[:80]))}"
                )
            if len(value) > TEXT_MAX:
                raise ScenarioError(
                    f"{path}: '{where}': expected at most {TEXT_MAX:,} characters, "
                    f"found {len(value):,}"
                )
            return 1
        if not isinstance(value, (dict, list)):
            return 1
        if id(value) in counted:
            return counted[id(value)]
        if id(value) in open_nodes:
            raise ScenarioError(
                f"{path}: '{where}': expected plain values, found a loop of aliases"
            )
        open_nodes.add(id(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        size = 1
        for key, item in items:
            size += visit(key, where) + visit(item, f"{where}.{key}" if where else str(key))
            if size > VALUES_MAX:
                raise ScenarioError(
                    f"{path}: expected at most {VALUES_MAX:,} values, found more (under "
                    f"'{where or '(top level)'}'): YAML aliases repeated within each other?"
                )
        open_nodes.discard(id(value))
        counted[id(value)] = size
        return size

    visit(data, "")


def _read_yaml(path: Path) -> dict[str, Any]:
    problem = file_problem(path, str(path), "a scenario file")
    if problem is not None:
        found = "not found" if problem.found == "no such file" else problem.found
        raise ScenarioError(f"{path}: scenario file {found}")
    size = path.stat().st_size
    if size > SCENARIO_BYTES_MAX:
        raise ScenarioError(
            f"{path}: expected a scenario file of at most {SCENARIO_BYTES_MAX:,} bytes, "
            f"found {size:,} bytes"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{path}: expected UTF-8 text, found byte 0x{exc.object[exc.start]:02x} at "
            f"position {exc.start}"
        ) from None
    try:
        data = yaml.load(text, Loader=_ScenarioLoader)
    except _RepeatedKey as exc:
        raise ScenarioError(f"{path}, {exc}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ScenarioError(
            f"{path}: expected YAML nested a few levels deep, found far more"
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{path}: expected a mapping of scenario keys, found {type(data).__name__}"
        )
    try:
        _check_values(path, data)
    except RecursionError:
        raise ScenarioError(
            f"{path}: expected YAML nested a few levels deep, found far more"
        ) from None
    _resolve_paths(data, path.parent)
    for override in (data.get("overrides") or {}).values():
        if isinstance(override, dict):
            _resolve_paths(override, path.parent)
    return data


def _load_with_bases(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        chain = " -> ".join(str(p.name) for p in (*seen, path))
        raise ScenarioError(f"{path}: 'base' scenarios form a loop: {chain}")
    data = _read_yaml(path)
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ScenarioError(f"{path}: 'base' must be a file name, found {base!r}")
    base_data = _load_with_bases((path.parent / base), (*seen, path))
    base_data.pop("name", None)
    base_data.pop("description", None)
    return _deep_merge(base_data, data)


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc`` of the scenario schema (for unknown-key messages)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None:
            return []
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        nested = [
            c
            for arg in candidates
            for c in (arg, *getattr(arg, "__args__", ()))
            if isinstance(c, type) and issubclass(c, BaseModel)
        ]
        if not nested:
            return []
        current = nested[0]
    return sorted(k for k in current.model_fields if k != "applied_overrides")


def _format_errors(path: Path | str, exc: ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s) in the scenario:"]
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(Scenario, loc)
            lines.append(f"  - unknown key '{where}'; allowed keys here: {', '.join(allowed)}")
        elif error["type"] == "missing":
            lines.append(f"  - '{where}' is required but missing")
        else:
            found = error.get("input")
            found_text = repr(found) if not isinstance(found, dict) else "a mapping"
            if len(found_text) > 80:
                found_text = found_text[:77] + "..."
            lines.append(f"  - '{where}': {error['msg']} (found {found_text})")
    return "\n".join(lines)


def build_scenario(
    data: dict[str, Any], source: Path | str = "<scenario>", overrides: list[str] | None = None
) -> Scenario:
    """Validate scenario ``data`` after applying the named ``overrides`` in order.

    Raises
    ------
    ScenarioError
        Naming every unknown key (with the allowed keys), missing key and bad value.
    """
    data = dict(data)
    available = data.get("overrides") or {}
    applied: list[str] = []
    for name in overrides or []:
        if name not in available:
            known = ", ".join(sorted(available)) or "none defined"
            raise ScenarioError(f"{source}: no override named '{name}' (overrides: {known})")
        if not isinstance(available[name], dict):
            raise ScenarioError(f"{source}: override '{name}' must be a mapping of scenario keys")
        data = _deep_merge(data, available[name])
        applied.append(name)
        log.info("Applied override '%s' to scenario %s", name, source)
    data["applied_overrides"] = applied
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(source, exc)) from None


def scenario_files(path: str | Path) -> list[Path]:
    """The scenario file and every ``base:`` file it builds on, nearest first."""
    files: list[Path] = []
    path = Path(path).resolve()
    while True:
        files.append(path)
        base = _read_yaml(path).get("base")
        if not isinstance(base, str):
            return files
        path = (path.parent / base).resolve()
        if path in files:
            return files


def named_estate(path: str | Path) -> Path | None:
    """The register a scenario file names (following ``base`` files), read even when the
    scenario itself is not valid; None when it names none, or cannot be read at all."""
    try:
        estate = _load_with_bases(Path(path)).get("estate")
    except Exception:  # the scenario's own error says why
        return None
    return Path(estate) if isinstance(estate, str) else None


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Read a scenario YAML file (following ``base`` files) and apply named overrides.

    Paths in the file are relative to the file itself. The scenario's ``name`` defaults to the
    file's stem.
    """
    path = Path(path)
    data = _load_with_bases(path)
    data.setdefault("name", path.stem)
    return build_scenario(data, source=path, overrides=overrides)
