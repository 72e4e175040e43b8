"""Trade-offs: the Pareto front of NPV saving against the cover of one standard.

By the epsilon-constraint method: each point is the plan of least whole-life cost (so of
most NPV saving) whose cover of the standard is at least epsilon people, found by an
ordinary run of the scenario with that standard's rule set to ``share: epsilon / total``.
Every other rule of the scenario holds at every point. Two ways to choose the epsilons:

- **exact** (the default): start from the cheapest plan with no demand on the standard;
  each next epsilon is the cover the last plan reached plus the smallest step by which
  cover can change (the greatest common divisor of the demand weights: 1 for whole
  people, 0.25 for quarters). Every nondominated point is found, one solve after another,
  until no plan reaches more cover.
- **grid**: ``N`` epsilons evenly spaced between the cheapest plan's cover and full cover,
  solved at once as a sweep.

A point is dropped from the front, and said so, when another has at least as much cover
for no more cost (with one of them strictly better), or is the same plan again. Each point
is checked: proven optimal, cover at least epsilon, and the plan's whole-life cost equal to
the solver's objective.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import ScenarioError
from .model.problem import SHARE_TOLERANCE
from .scenario import Scenario
from .sweep import PointOutcome, SweepPoint, make_point

log = logging.getLogger(__name__)

__all__ = [
    "FrontRow",
    "exact_front",
    "front_table",
    "grid_front",
    "mark_front",
    "point_folder",
    "requirement_path",
    "weight_step",
]

#: Runs points (on the sweep machinery) and returns their outcomes in the same order.
RunPoints = Callable[[Sequence[SweepPoint]], list[PointOutcome]]

#: Most decimal places a weight may have for the exact step.
_STEP_DECIMALS = 6


def weight_step(weights: Sequence[float] | np.ndarray) -> tuple[float, bool]:
    """The smallest amount by which covered weight can change, and whether it is exact.

    Covered weight is a sum of demand weights, so it moves in multiples of their greatest
    common divisor: 1 for whole people, 50 when every population is rounded to 50, 0.25 for
    quarters. Weights with more than six decimal places get a step of a millionth of the
    total (not exact: front points closer than that may be missed).
    """
    values = np.asarray(weights, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if len(values) == 0:
        return 1.0, True
    for decimals in range(_STEP_DECIMALS + 1):
        scaled = values * 10**decimals
        whole = np.round(scaled)
        if np.all(np.abs(scaled - whole) <= 1e-6):
            return float(np.gcd.reduce(whole.astype(np.int64))) / 10**decimals, True
    return float(values.sum()) * 1e-6, False


def requirement_path(scenario: Scenario, name: str) -> str:
    for section, items in (("standards", scenario.standards), ("access", scenario.access)):
        if any(item.name == name for item in items):
            return f"{section}.{name}"
    names = [s.name for s in scenario.standards] + [a.name for a in scenario.access]
    raise ScenarioError(
        f"scenario '{scenario.name}' has no standard or access rule named '{name}' "
        f"(it has: {', '.join(names) or 'none'})"
    )


def _epsilon_point(base: Scenario, requirement: str, min_cover: float, total: float) -> SweepPoint:
    """The run that asks for at least ``min_cover`` of the requirement's ``total`` weight."""
    path = requirement_path(base, requirement)
    # The model relaxes a share row by SHARE_TOLERANCE x total; asking that much more makes
    # the row demand exactly min_cover.
    share = 0.0 if min_cover <= 0 else min(1.0, min_cover / total + SHARE_TOLERANCE)
    return make_point(
        base,
        {"min_cover": float(min_cover)},
        {f"{path}.rule": "share", f"{path}.share": share},
    )


def _demand_weights(points_dir: Path, outcome: PointOutcome) -> np.ndarray:
    import pyogrio

    frame = pyogrio.read_dataframe(
        points_dir / outcome.key / "results.gpkg",
        layer="demand",
        columns=["weight"],
        read_geometry=False,
    )
    return frame["weight"].to_numpy(dtype=float)


def _covered(outcome: PointOutcome, requirement: str) -> float:
    cover = outcome.cover(requirement)
    return math.nan if cover is None else float(cover["weight_covered_after"])


def _anchor(
    base: Scenario, requirement: str, points_dir: Path, run: RunPoints
) -> tuple[PointOutcome, float, float, bool]:
    """The cheapest plan with no demand on the requirement; its total weight and the step."""
    anchor = run([_epsilon_point(base, requirement, 0.0, 1.0)])[0]
    if not anchor.ok:
        return anchor, math.nan, math.nan, True
    total = float(anchor.cover(requirement)["weight_total"])
    if not total > 0:
        raise ScenarioError(f"'{requirement}': no demand weight to cover, so no trade-off to draw")
    step, exact = weight_step(_demand_weights(points_dir, anchor))
    if not exact:
        log.warning(
            "Demand weights are not decimals of up to %d places: stepping by %.6g, so front "
            "points closer than that in cover may be missed",
            _STEP_DECIMALS,
            step,
        )
    return anchor, total, step, exact


def exact_front(
    base: Scenario, requirement: str, points_dir: Path, run: RunPoints
) -> tuple[list[PointOutcome], float]:
    """Walk the front point by point, from the cheapest plan to the most cover any plan reaches.

    Returns
    -------
    outcomes : list of PointOutcome
        In the order solved; the last is the first epsilon no plan reaches (infeasible), unless
        full cover was reached or a point failed.
    step : float
        The cover step used.
    """
    anchor, total, step, _ = _anchor(base, requirement, points_dir, run)
    outcomes = [anchor]
    if not anchor.ok:
        return outcomes, step
    covered = _covered(anchor, requirement)
    while covered < total - 1e-9 * total:
        # Snap to the step grid, so rounding never drifts between two achievable covers.
        epsilon = (round(covered / step) + 1) * step
        outcome = run([_epsilon_point(base, requirement, epsilon, total)])[0]
        outcomes.append(outcome)
        if not outcome.ok:
            break
        reached = _covered(outcome, requirement)
        if not reached > covered:
            log.warning("Cover did not grow past %.6g at epsilon %.6g; stopping", covered, epsilon)
            break
        covered = reached
    return outcomes, step


def grid_front(
    base: Scenario, requirement: str, points_dir: Path, run: RunPoints, n_points: int
) -> tuple[list[PointOutcome], float]:
    """The cheapest plan, then ``n_points`` epsilons from its cover to full cover, as a sweep."""
    anchor, total, step, _ = _anchor(base, requirement, points_dir, run)
    if not anchor.ok:
        return [anchor], step
    low = _covered(anchor, requirement)
    epsilons = []
    for j in range(1, n_points + 1):
        target = low + j * (total - low) / n_points
        snapped = math.ceil(target / step - 1e-9) * step
        if snapped > low and snapped not in epsilons:
            epsilons.append(min(snapped, total))
    points = [_epsilon_point(base, requirement, e, total) for e in epsilons]
    return [anchor, *run(points)], step


@dataclass(frozen=True)
class FrontRow:
    """One solved point of a frontier run, with its place on the front."""

    outcome: PointOutcome
    min_cover: float
    on_front: bool
    note: str
    verified: bool


def _check(outcome: PointOutcome, requirement: str, min_cover: float, total: float) -> str:
    """Why a point cannot be trusted as an exact front point ("" when it can)."""
    problems = []
    if outcome.status != "optimal":
        problems.append(f"not proven optimal ({outcome.status}, gap {outcome.record.get('gap')})")
    covered = _covered(outcome, requirement)
    if covered < min_cover - SHARE_TOLERANCE * max(total, 1.0):
        problems.append(f"cover {covered:,.6g} is below the {min_cover:,.6g} asked for")
    objective = outcome.record.get("objective")
    cost = outcome.record.get("totals", {}).get("npv_cost_after")
    if (
        objective is not None
        and cost is not None
        and abs(objective - cost) > 0.5 + 1e-9 * abs(cost)
    ):
        problems.append(f"plan's cost £{cost:,.0f} differs from the solver's £{objective:,.0f}")
    return "; ".join(problems)


def mark_front(outcomes: Sequence[PointOutcome], requirement: str) -> list[FrontRow]:
    """Mark each point on the front or dominated (and by which), and check each one."""
    rows: list[FrontRow] = []
    solved = [o for o in outcomes if o.ok]
    total = max((float(o.cover(requirement)["weight_total"]) for o in solved), default=1.0)
    tolerance = 1e-9 * total
    # Most cover first, cheapest first within equal cover: a point is on the front exactly
    # when it is strictly cheaper than every point with at least as much cover.
    order = sorted(
        solved,
        key=lambda o: (
            -round(_covered(o, requirement) / tolerance),
            o.record["totals"]["npv_cost_after"],
        ),
    )
    best: PointOutcome | None = None
    verdict: dict[str, tuple[bool, str]] = {}
    for outcome in order:
        cost = outcome.record["totals"]["npv_cost_after"]
        if best is None or cost < best.record["totals"]["npv_cost_after"] - 0.5:
            verdict[outcome.key] = (True, "")
            best = outcome
            continue
        best_cover = _covered(best, requirement)
        best_cost = best.record["totals"]["npv_cost_after"]
        if (
            abs(best_cover - _covered(outcome, requirement)) <= tolerance
            and cost <= best_cost + 0.5
        ):
            verdict[outcome.key] = (False, f"same cover and cost as min_cover {_epsilon(best)}")
        else:
            verdict[outcome.key] = (
                False,
                f"dominated by min_cover {_epsilon(best)}: {best_cover:,.6g} covered "
                f"for £{best_cost:,.0f}",
            )
    for outcome in outcomes:
        epsilon = float(outcome.values.get("min_cover", math.nan))
        if not outcome.ok:
            note = (
                "beyond reach: no plan covers this much"
                if outcome.status == "infeasible" and epsilon > 0
                else outcome.message
            )
            rows.append(FrontRow(outcome, epsilon, False, note, False))
            continue
        on_front, note = verdict[outcome.key]
        problem = _check(outcome, requirement, epsilon, total)
        rows.append(
            FrontRow(
                outcome, epsilon, on_front, "; ".join(n for n in (note, problem) if n), not problem
            )
        )
    dropped = sum(1 for r in rows if r.outcome.ok and not r.on_front)
    if dropped:
        log.info("Dropped %d dominated or repeated point(s) from the front", dropped)
    return rows


def _epsilon(outcome: PointOutcome) -> str:
    return f"{float(outcome.values.get('min_cover', math.nan)):,.6g}"


def front_table(rows: Sequence[FrontRow], requirement: str) -> pd.DataFrame:
    """The frontier table: front points first (numbered along the front, least cover first),
    then dropped and failed points."""
    records = []
    for row in rows:
        outcome = row.outcome
        cover = outcome.cover(requirement) or {}
        totals = outcome.record.get("totals", {})
        records.append(
            {
                "front_point": None,
                "min_cover": row.min_cover,
                "cover_weight": cover.get("weight_covered_after"),
                "cover_share": cover.get("share_after"),
                "npv_saving": totals.get("npv_saving"),
                "npv_cost_after": totals.get("npv_cost_after"),
                "receipts": totals.get("receipts"),
                "capex": totals.get("capex"),
                "annual_saving": totals.get("annual_saving"),
                "status": outcome.status,
                "gap": outcome.record.get("gap"),
                "verified": row.verified,
                "on_front": row.on_front,
                "note": row.note,
                "seconds": outcome.seconds,
                "folder": f"points/{outcome.key}",
            }
        )
    table = pd.DataFrame(records)
    if table.empty:
        return table
    for column in ("cover_weight", "cover_share", "npv_saving", "npv_cost_after", "gap"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    table["_rank"] = np.where(table["on_front"], 0, np.where(table["cover_weight"].notna(), 1, 2))
    table = table.sort_values(["_rank", "cover_weight", "min_cover"], kind="stable")
    table = table.drop(columns="_rank").reset_index(drop=True)
    front = int(table["on_front"].sum())
    table["front_point"] = pd.array(
        list(range(1, front + 1)) + [None] * (len(table) - front), dtype="Int64"
    )
    return table


def point_folder(folder: Path, table: pd.DataFrame, number: int) -> Path:
    """The result folder of front point ``number`` (1-based, as in the table)."""
    front = table[table["on_front"]]
    if not 1 <= number <= len(front):
        raise ScenarioError(f"--map-point {number}: the front has points 1 to {len(front)}")
    return Path(folder) / front.iloc[number - 1]["folder"]
