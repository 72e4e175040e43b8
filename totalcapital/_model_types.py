"""Plain data of the co-location model: coverage requirements, side rows, solutions, names."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pulp
from scipy import sparse

#: How many ids a message lists before "and N more".
_LIST_IDS = 8


@dataclass(frozen=True)
class CoverageRequirement:
    """A response standard or access rule on plain arrays.

    A demand point is covered when at least one open site that reaches it houses a service that
    provides the requirement. Services may fall in several provider groups (one per service
    type), each with its own reach matrix, because blue-light speeds differ by type.

    Attributes
    ----------
    name : str
    reach : tuple of scipy.sparse.csr_array
        One per provider group, sites x demand, True where the site reaches the point in time.
    providers : tuple of numpy.ndarray
        One per group, bool per service: the services of that group.
    weights : numpy.ndarray
        Demand weight (population, incidents) per point.
    rule : {"share", "all", "no_worse_than_today"}
    share : float
        Target share of the total weight for rule "share".
    covered_before : numpy.ndarray, optional
        Bool per point: covered today. Required for "no_worse_than_today".
    kind : {"response", "access"}
    service_types : tuple of str
    minutes : float
    """

    name: str
    reach: tuple[sparse.csr_array, ...]
    providers: tuple[np.ndarray, ...]
    weights: np.ndarray
    rule: Literal["share", "all", "no_worse_than_today"] = "share"
    share: float = 1.0
    covered_before: np.ndarray | None = None
    kind: Literal["response", "access"] = "response"
    service_types: tuple[str, ...] = ()
    minutes: float = math.nan

    @property
    def weight_before(self) -> float:
        """Weight covered today (NaN when today's cover is unknown)."""
        if self.covered_before is None:
            return math.nan
        return float(self.weights[self.covered_before].sum())

    @property
    def target_weight(self) -> float:
        """The covered weight the rule asks for."""
        if self.rule == "all":
            return float(self.weights.sum())
        if self.rule == "no_worse_than_today":
            return self.weight_before
        return self.share * float(self.weights.sum())


@dataclass(frozen=True)
class SideConstraint:
    """A linear row on site and assignment variables (capital budget, partner no worse off).

    ``constant + sum(site_coef * open) + sum(pair_coef(k, s) * housed[k, s])  SENSE  rhs``.

    Attributes
    ----------
    name : str
        Constraint name (``budget``, ``partner[POLICE]``).
    label : str
        Plain words for infeasibility reasons ("capital budget", "partner POLICE NPV gain").
    site_coef : numpy.ndarray
    pair_coef : callable or None
        ``pair_coef(service_index, site_index) -> coefficients``, vectorised over pairs.
    constant : float
    sense : {"<=", ">="}
    rhs : float
    """

    name: str
    label: str
    site_coef: np.ndarray
    pair_coef: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    constant: float
    sense: Literal["<=", ">="]
    rhs: float


@dataclass(frozen=True)
class Solution:
    """A solved plan. Only feasible runs produce one.

    Attributes
    ----------
    status : str
        ``"optimal"``: the solver proved no plan is better by more than the scenario's
        ``solver.mip_gap`` (``gap`` gives the exact remaining gap, 0.0 when fully proven);
        ``"time_limit"``: stopped by the time limit with a feasible plan that is not proven
        (``gap`` and ``best_bound`` say how far from proven it may be). Other solver stops
        with a plan are named after the solver's words (e.g. ``"iteration_limit"``).
    solver : str
        ``"highs"`` or ``"cbc"``.
    solver_status : str
        The solver's own words.
    objective, best_bound, gap : float
        Whole-life NPV cost (£), the solver's proven lower bound (£), relative gap
        ``(objective - best_bound) / |objective|`` as the solver computed it.
    build_seconds, solve_seconds : float
    site_decision : pandas.Series
        site_id -> "keep", "dispose", "exit_lease", "build", "not_built".
    assignment : pandas.Series
        service_id -> site_id.
    coverage : pandas.DataFrame
        One row per requirement: name, kind, service_types, minutes, rule, target_share,
        weight_total, weight_covered_before, weight_covered_after, share_before, share_after, met.
    demand_cover : pandas.DataFrame
        Index demand_id; columns ``{name}_before`` and ``{name}_after`` (bool).
    pruned_pairs, allowed_pairs : int
    local_search : str
        What the neighbourhood search did before the full solve ("" when it did not run).
    """

    status: str
    solver: str
    solver_status: str
    objective: float
    best_bound: float
    gap: float
    build_seconds: float
    solve_seconds: float
    site_decision: pd.Series
    assignment: pd.Series
    coverage: pd.DataFrame
    demand_cover: pd.DataFrame
    pruned_pairs: int
    allowed_pairs: int
    local_search: str = ""


def clean_names(ids: Sequence[Any]) -> list[str]:
    """PuLP-safe, unique names for ids (characters PuLP rewrites become "_")."""
    names: list[str] = []
    seen: set[str] = set()
    for raw in ids:
        base = re.sub(r"[^A-Za-z0-9_.]", "_", str(raw)) or "_"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        names.append(name)
    return names


def listed_ids(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_LIST_IDS])
    more = len(ids) - _LIST_IDS
    return shown + (f" and {more} more" if more > 0 else "")


def linear_expr(
    variables: Sequence[pulp.LpVariable], coefs: Sequence[float]
) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(zip(variables, (float(c) for c in coefs), strict=True))
