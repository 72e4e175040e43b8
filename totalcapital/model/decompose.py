"""Dantzig-Wolfe decomposition by site: a lower bound and a plan for a large timeless model.

Each site, with the services it may house, is a block: whether it is kept, which services it
houses (a knapsack of floor space), which standards it then provides, which incompatible groups
it hosts. Every other row (each service housed once, cover, shares of people, budgets) links the
blocks and stays in a master LP whose columns are whole-site patterns. Column generation prices
every block by dynamic programming over floor space: exactly, or as a relaxation where floor
space has to be rounded down. For any row prices ``y``::

    L(y) = sum_i min(y_i l_i, y_i u_i) + sum_blocks min_pattern (c - A'y) x
           + sum_other min_box (c - A'y) z

is a lower bound on every plan's cost, so every round gives a valid bound, and once no pattern
prices out it is the Dantzig-Wolfe bound (the master LP's value). Regions of sites, each
solved as a MIP with the rows it holds whole, then raise that bound where they can (see
:func:`regional_bound`). The blocks are priced at
smoothed prices, between the master's and those of the best bound so far (Wentges): the
master's own prices swing from round to round while the bound lags behind them (the first
round, with no bound yet, prices at the master's prices; a round in which no pattern found
prices out at the master's prices is priced at those as well, before convergence is
declared). Subset-row cuts then tighten the master where it mixes patterns, their prices
penalties in the blocks' pricing (see :data:`CUTS_PER_ROUND`). The master
over the patterns found, solved with whole patterns only, gives a plan ("price and branch"),
improved neighbourhood by neighbourhood over those patterns (see
:func:`improve_over_patterns`); like every plan it is checked rule by rule before it is used.

Why it pays on a county: the solver's root bound on the whole model at county scale comes late
(minutes), while the master's patterns already respect every site's floor space; and whole-site
patterns are good building blocks for plans.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from .formulation import Formulation
from .problem import CAPACITY_TOLERANCE, Plan, PlanningProblem
from .search import neighbourhoods, site_graph
from .solve import (
    MIN_SOLVER_SECONDS,
    LpArrays,
    SolverOptions,
    _highs_with_model,
    _new_highs,
    plan_of_values,
    set_time_left,
)

log = logging.getLogger(__name__)

#: Floor space is priced in whole units; a site larger than this many units (or with space
#: that is not whole m2) is priced in this many units of its own size, rounding each service's
#: space down: a relaxation, so the bound stays valid (the plan is checked anyway).
KNAPSACK_UNITS = 4_000
#: Under ``decomposition="auto"``: timeless models with more allowed pairs than this (below
#: it the whole model solves quickly) and a time limit of at least AUTO_SECONDS_PER_PAIR per
#: pair. Column generation's time grows faster than the pairs (synthetic counties, measured:
#: 2 s to converge at 4,006 pairs, 35 s at 15,289, about 330 s at 56,436, before smoothing;
#: smoothed, 3 s and 244 s); with less time
#: than this the neighbourhood search gave the better plan (15,289 pairs in 60 s: 17.6%
#: against 21.7%), with more the decomposition did (56,436 pairs in 600 s: 1.7% against 19.4%).
AUTO_MIN_PAIRS = 3_000
AUTO_SECONDS_PER_PAIR = 0.01
#: Column generation stops when its bound is within this share of the master LP's value.
CONVERGED_GAP = 1e-6
#: Smoothed prices (Wentges): each round prices the blocks at this share of the way from the
#: master LP's prices back to those of the best bound so far. On the county (2,000 sites) the
#: columns then converged in 244 s against 328 s, two runs side by side (34 rounds against
#: 29, but fewer columns early, so a smaller master LP: late rounds took 11 s against 16 s);
#: on the quarter county, 3.1 s against 2.1 s.
SMOOTHING = 0.5
#: Share of the decomposition's time kept for the master over whole patterns (the columns and
#: their cuts may take the rest; converged, they leave it all to the master). On the county,
#: 360 s of it: columns 180 s gave a bound of £760.2m and a plan of £785.0m; columns 252 s,
#: £768.6m and £784.6m (the master over more patterns found its plan sooner). With cuts, whose
#: rounds there take 11 s: at 0.3 (columns until 252 s, converged at about 215 s) one run fitted
#: three rounds with cuts (+£0.4m, master £780.1m, 1.12% after the search), another two
#: (+£0.0m, £782.2m, 1.40%); at 0.2, six (+£0.7m, £781.5m, 1.15%). Since the master's
#: neighbourhoods (see :data:`MASTER_MIP_FIRST_SHARE`) and with 80% of the time for the
#: decomposition: at 0.3, the columns until 336 s, +£0.8m from the cuts, and the plan £774.5m.
MASTER_MIP_SHARE = 0.3
#: Linking rows from which the master LP is solved by the interior-point method without
#: crossover. On the synthetic county (17,630 linking rows) primal simplex solves grew to
#: 20-33 s a round; the interior point took 13-15 s and reached the same bound sooner. Its
#: prices are not a vertex's, which does not matter: L(y) is a bound for any prices.
INTERIOR_MASTER_ROWS = 10_000
#: Incompatible pairs in one site beyond which the model is not decomposed (2^k variants).
MAX_INCOMPATIBLE_PER_SITE = 4
#: Standards whose worth a block's knapsack tracks (2^k states); any more that earn something
#: in a round are counted as earned for free in its bound (a relaxation).
MAX_STANDARDS_PRICED = 6
#: Sites in a region of the regional bound (see :func:`regional_bound`; 0: none), grown along
#: the "shares a candidate service" graph. Quarter county (500 sites), one pass over every
#: region from the converged prices, each proven: 25 sites raised the bound by £2.8m in 8 s,
#: 40 by £3.3m in 20 s, 50 by £2.9m in 29 s (its 60 s leave the regions about 16 s).
REGION_SITES = 25
#: Share of the time left after the columns that the regions may take, and the most any one
#: region's MIP may take.
REGION_TIME_SHARE = 0.5
REGION_SECONDS = 20.0
#: The regions are given up when the first few (those where the master LP mixes patterns
#: most) together raise the bound by less than this share of it. On the county (2,000 sites,
#: four times as dense: a service may go to about 19 sites) a pass over all 80 regions took
#: 100 s and raised the bound by £60k, 0.008%.
REGION_PROBE = 5
REGION_MIN_GAIN = 1e-4
#: Subset-row cuts (Jepsen, Petersen, Spoorendonk and Pisinger, 2008): of any three "housed
#: once" rows, at most one site's pattern in a plan houses two or more of their services (two
#: such patterns would share a service). Once the columns converge (and the regions are done),
#: cuts the master LP breaks are added (the most broken first, at most CUTS_PER_ROUND a round,
#: each broken by more than CUT_VIOLATION) and the columns go on with them priced; a round of
#: cuts that finds none ends it. From the converged columns (scratch runs, simplex master):
#: quarter county, 293 cuts in 6 rounds raised the bound from £236.3m to £238.4m in 28 s (the
#: regions reach £239.1m); county, 412 cuts in 5 rounds, £769.3m to £770.2m in 200 s, £770.1m
#: after the first round's 75 s. As shipped, the county's 600 s: 185 cuts, +£0.7m.
CUTS_PER_ROUND = 500
CUT_VIOLATION = 1e-3
#: New cuts are separated only within this share of the columns' time left when they first
#: converge; the columns then go on with the cuts found, to convergence or the columns' end.
CUT_TIME_SHARE = 0.5
#: Branch-and-bound nodes a block's pricing may take with cuts (see
#: :func:`cheapest_pattern_with_cuts`); beyond it the block's bound stays valid but weaker.
CUT_PRICING_NODES = 64
#: Memory the knapsack of one site may take (its back-tracking tables); a model with a larger
#: site is not decomposed.
MAX_KNAPSACK_BYTES = 256 * 2**20
#: The master MIP's plan is then improved neighbourhood by neighbourhood over the patterns
#: found (see :func:`improve_over_patterns`); the MIP keeps this share of the master's time
#: for its first plan. Whole patterns, priced against the whole county, recombine where the
#: whole model's small neighbourhoods stall: on the county, from the search's £778.9m (which
#: it could not improve), £775.4m in 107 s; as shipped, the master's £782.1m became £774.5m.
MASTER_MIP_FIRST_SHARE = 1 / 3
#: Sites per neighbourhood of the master, and seconds each may take. On the county from
#: £778.9m, 120 s: 200 sites, £775.4m (each proven in 0.6-3.5 s).
MASTER_NEIGHBOURHOOD_SITES = 200
MASTER_NEIGHBOURHOOD_SECONDS = 5.0
#: Their relative gap: of the whole county's cost, so it must be small.
MASTER_NEIGHBOURHOOD_GAP = 1e-6


def uses_decomposition(setting: str, problem, time_limit: float | None) -> bool:
    """Whether a problem is decomposed under ``setting``: "on" for any timeless problem, or
    "auto" for timeless problems of more than :data:`AUTO_MIN_PAIRS` allowed pairs given
    :data:`AUTO_SECONDS_PER_PAIR` a pair (or no time limit)."""
    if setting == "off" or problem.n_epochs > 1:
        return False
    pairs = len(problem.pair_site)
    if setting == "on":
        return True
    enough_time = time_limit is None or time_limit >= AUTO_SECONDS_PER_PAIR * pairs
    return pairs > AUTO_MIN_PAIRS and enough_time


@dataclass(frozen=True)
class DecompositionReport:
    """What the decomposition found; costs in £ (the objective's constant in).

    ``bound`` is a valid lower bound on every plan's cost (-inf when no round finished);
    ``converged`` says the columns reached the Dantzig-Wolfe bound (no new pattern priced out,
    or the bound met the master's value); ``region_gain`` is what the regions added to it, from
    ``regions_solved`` of ``regions`` regions (those whose MIP gave a bound) in
    ``region_seconds`` (see :func:`regional_bound`); ``cut_gain`` what ``cuts`` subset-row
    cuts then added (see :data:`CUTS_PER_ROUND`). ``master_cost`` is the master MIP's plan,
    before ``improved`` of ``neighbourhoods`` neighbourhoods of patterns lowered it (see
    :func:`improve_over_patterns`).
    """

    start_cost: float
    plan_cost: float
    bound: float
    rounds: int
    converged: bool
    patterns: int
    seconds: float
    region_gain: float = 0.0
    regions_solved: int = 0
    regions: int = 0
    region_seconds: float = 0.0
    cuts: int = 0
    cut_gain: float = 0.0
    master_cost: float = math.nan
    neighbourhoods: int = 0
    improved: int = 0

    def describe(self) -> str:
        source = "Dantzig-Wolfe" if self.converged else "Lagrangian"
        if self.regions:
            source += (
                f", +£{self.region_gain / 1e6:,.1f}m from {self.regions_solved} of "
                f"{self.regions} regions in {self.region_seconds:.1f} s"
            )
        if self.cuts:
            source += f", +£{self.cut_gain / 1e6:,.1f}m from {self.cuts:,} subset-row cuts"
        bound = (
            f"bound £{self.bound / 1e6:,.1f}m ({source})"
            if math.isfinite(self.bound)
            else "no bound"
        )
        steps = ""
        if self.neighbourhoods:
            steps = (
                f" (the master's £{self.master_cost / 1e6:,.1f}m, then {self.improved} of "
                f"{self.neighbourhoods} neighbourhoods of patterns improved)"
            )
        return (
            f"decomposition by site, {self.rounds} rounds, {self.patterns:,} site patterns in "
            f"{self.seconds:.1f} s: plan £{self.start_cost / 1e6:,.1f}m -> "
            f"£{self.plan_cost / 1e6:,.1f}m{steps}, {bound}"
        )


@dataclass
class _Block:
    site: int
    open_col: int
    may_open: bool
    may_close: bool
    items: np.ndarray  # housed columns
    weight: np.ndarray  # space, in whole knapsack units
    capacity: int
    space: np.ndarray  # space in m2, and the site's floor space: a pattern fits exactly?
    floor_space: float
    forced: np.ndarray  # items whose service can go nowhere else
    provides: np.ndarray
    provides_members: list[np.ndarray]  # positions in items
    hosts: np.ndarray
    hosts_members: list[np.ndarray]
    incompatible: list[tuple[int, int]]  # positions in hosts

    @property
    def columns(self) -> np.ndarray:
        return np.concatenate([[self.open_col], self.items, self.provides, self.hosts])


def _knapsack_units(space: np.ndarray, capacity: float) -> tuple[np.ndarray, int]:
    whole = np.array_equal(space, np.round(space)) and float(capacity).is_integer()
    if whole and capacity <= KNAPSACK_UNITS:
        return space.astype(np.int64), int(capacity)
    if capacity <= 0:
        return np.full(len(space), KNAPSACK_UNITS + 1, dtype=np.int64), 0
    return np.floor(space * KNAPSACK_UNITS / capacity).astype(np.int64), KNAPSACK_UNITS


def _block_row(kinds: np.ndarray, coefs: np.ndarray, lower: float, upper: float) -> str:
    """What a row within one site means to its block ("" if nothing it knows: it then links).

    Columns: 1 open, 2 housed, 3 provides, 4 hosts. Shapes, as the formulation writes them:
    housed - open <= 0 ("only_open"); provides - open <= 0 (implied by the pricing);
    provides - sum housed <= 0 ("provides"); housed - hosts <= 0 ("hosts"); hosts + hosts <= 1
    ("incompatible"); sum space housed - room open <= 0 ("capacity"); housed = 1 ("forced").
    """
    at_most = math.isinf(lower) and lower < 0
    ones = np.abs(coefs) == 1.0
    if len(kinds) == 1 and kinds[0] == 2 and coefs[0] == 1.0 and lower == upper == 1.0:
        return "forced"
    if not at_most:
        return ""
    if len(kinds) == 2 and ones.all() and upper == 0.0:
        pair = {(int(k), float(c)) for k, c in zip(kinds, coefs, strict=True)}
        if pair == {(2, 1.0), (1, -1.0)}:
            return "only_open"
        if pair == {(3, 1.0), (1, -1.0)}:
            return "implied"
        if pair == {(2, 1.0), (4, -1.0)}:
            return "hosts"
    if len(kinds) == 2 and (kinds == 4).all() and (coefs == 1.0).all() and upper == 1.0:
        return "incompatible"
    if upper == 0.0 and (kinds == 3).sum() == 1 and ((kinds == 3) | (kinds == 2)).all():
        if (coefs[kinds == 3] == 1.0).all() and (coefs[kinds == 2] == -1.0).all():
            return "provides"
    if upper == 0.0 and (kinds == 1).sum() == 1 and ((kinds == 1) | (kinds == 2)).all():
        if (coefs[kinds == 1] < 0).all() and (coefs[kinds == 2] >= 0).all():
            return "capacity"
    return ""


@dataclass
class SiteBlocks:
    """The model cut into site blocks: the blocks, the linking rows, the columns in no block."""

    blocks: list[_Block]
    link: np.ndarray
    loose: np.ndarray
    rows: sparse.csr_array

    @classmethod
    def of(cls, formulation: Formulation, arrays: LpArrays) -> SiteBlocks | None:
        """None when the model has a row or column the site blocks cannot price."""
        problem = formulation.problem
        if problem.n_epochs != 1 or formulation.elastic:
            return None
        n_cols = len(arrays.variables)
        block = np.full(n_cols, -1)
        kind = np.zeros(n_cols, dtype=int)  # 1 open, 2 housed, 3 provides, 4 hosts
        pair_of = np.full(n_cols, -1)
        opens = arrays.column_of(formulation.open_vars)
        known = opens >= 0
        block[opens[known]], kind[opens[known]] = np.flatnonzero(known), 1
        pairs = arrays.column_of([row[0] for row in formulation.pair_vars])
        known = pairs >= 0
        block[pairs[known]] = problem.pair_site[known]
        kind[pairs[known]], pair_of[pairs[known]] = 2, np.flatnonzero(known)
        aux = [a for a in formulation._aux if a[0] in ("provides", "hosts")]
        flags = arrays.column_of([a[1] for a in aux])
        for i, a in zip(flags.tolist(), aux, strict=True):
            if i >= 0:
                block[i] = a[4] if a[0] == "provides" else a[3]
                kind[i] = 3 if a[0] == "provides" else 4
        rows = arrays.rows.tocsr()
        n_rows = rows.shape[0]
        row_of = np.repeat(np.arange(n_rows), np.diff(rows.indptr))
        col_block = block[rows.indices]
        low = np.full(n_rows, np.iinfo(np.int64).max)
        np.minimum.at(low, row_of, np.where(col_block < 0, -1, col_block))
        high = np.full(n_rows, -1)
        np.maximum.at(high, row_of, col_block)
        # A row inside one site is priced by its block only if its shape is one the block
        # knows; any other row (a budget, a cover row) links blocks, in the master.
        meaning = np.full(n_rows, "", dtype=object)
        for r in np.flatnonzero((low == high) & (low >= 0)).tolist():
            span = slice(rows.indptr[r], rows.indptr[r + 1])
            meaning[r] = _block_row(
                kind[rows.indices[span]],
                rows.data[span],
                arrays.row_lower[r],
                arrays.row_upper[r],
            )
        # A capacity-shaped row counts as the site's floor space only if its figures are the
        # problem's own (rescaled); the knapsack prices that, so any other such row links.
        for r in np.flatnonzero(meaning == "capacity").tolist():
            span = slice(rows.indptr[r], rows.indptr[r + 1])
            cols, coefs = rows.indices[span], rows.data[span]
            room = -float(coefs[kind[cols] == 1][0])
            housed = kind[cols] == 2
            space = problem.space[problem.pair_service[pair_of[cols[housed]]]]
            site_room = float(problem.capacity[int(low[r])])
            if not np.allclose(coefs[housed] * site_room, space * room, rtol=1e-9, atol=1e-12):
                meaning[r] = ""
        internal = meaning != ""
        # Hosts flags are priced as free: they must cost nothing and link nothing.
        linked = np.zeros(n_cols, dtype=bool)
        linked[rows[np.flatnonzero(~internal)].indices] = True
        hosts = kind == 4
        if (arrays.cost[hosts] != 0).any() or linked[hosts].any():
            return None
        by_site: dict[int, list[int]] = {}
        for r in np.flatnonzero(internal).tolist():
            by_site.setdefault(int(low[r]), []).append(r)
        blocks = []
        # Each site's columns, from one sort rather than a scan per site.
        order = np.argsort(block, kind="stable")
        edges = np.searchsorted(block[order], np.arange(problem.n_sites + 1))
        for s in range(problem.n_sites):
            columns = order[edges[s] : edges[s + 1]]
            site_open = columns[kind[columns] == 1]
            if len(site_open) == 0:
                continue
            o = int(site_open[0])
            items = columns[kind[columns] == 2]
            provides = columns[kind[columns] == 3]
            flags = columns[kind[columns] == 4]
            at_item = {int(c): k for k, c in enumerate(items)}
            at_flag = {int(c): k for k, c in enumerate(flags)}
            members: dict[int, set[int]] = {int(c): set() for c in (*provides, *flags)}
            forced = np.zeros(len(items), dtype=bool)
            needs_open = np.zeros(len(items), dtype=bool)
            incompatible: list[tuple[int, int]] = []
            has_room_row = False
            space = problem.space[problem.pair_service[pair_of[items]]]
            for r in by_site.get(s, []):
                cols = rows.indices[rows.indptr[r] : rows.indptr[r + 1]]
                coefs = rows.data[rows.indptr[r] : rows.indptr[r + 1]]
                what = meaning[r]
                if what == "forced":
                    forced[at_item[int(cols[0])]] = True
                elif what == "only_open":
                    needs_open[[at_item[int(c)] for c in cols if kind[c] == 2]] = True
                elif what == "incompatible":
                    a, b = (at_flag[int(c)] for c in cols)
                    incompatible.append((a, b))
                elif what in ("provides", "hosts"):
                    flag = int(cols[kind[cols] == (3 if what == "provides" else 4)][0])
                    members[flag] |= {at_item[int(c)] for c in cols if kind[c] == 2}
                elif what == "capacity":
                    if has_room_row:
                        return None  # two floor-space rows for one site: not a shape we price
                    has_room_row = True
                    needs_open[
                        [
                            at_item[int(c)]
                            for c, v in zip(cols, coefs, strict=True)
                            if kind[c] == 2 and v > 0
                        ]
                    ] = True
            fixed_open = arrays.lower[o] >= 0.5
            # The knapsack must hold the site to no rule the model does not: a floor-space row
            # (a one-service row reads as housed <= open), services only where it is kept.
            fits_anyway = space.sum() <= float(problem.capacity[s])
            if len(items) and (
                (not has_room_row and not fits_anyway) or not (needs_open | fixed_open).all()
            ):
                return None
            if len(incompatible) > MAX_INCOMPATIBLE_PER_SITE:
                return None
            tables = len(items) * 2 ** min(len(provides), MAX_STANDARDS_PRICED)
            if (
                tables * (min(float(problem.capacity[s]), KNAPSACK_UNITS) + 1) * 2
                > MAX_KNAPSACK_BYTES
            ):
                return None
            if any(not members[int(c)] for c in provides):
                return None
            weight, capacity = _knapsack_units(space, float(problem.capacity[s]))
            blocks.append(
                _Block(
                    s,
                    o,
                    arrays.upper[o] > 0.5,
                    arrays.lower[o] < 0.5 and not forced.any(),
                    items,
                    weight,
                    capacity,
                    space,
                    float(problem.capacity[s]),
                    forced,
                    provides,
                    [np.array(sorted(members[int(c)]), dtype=int) for c in provides],
                    flags,
                    [np.array(sorted(members[int(c)]), dtype=int) for c in flags],
                    incompatible,
                )
            )
        if not blocks:
            return None
        # Every column of a site must be priced with its block, or the bound would miss it.
        if not np.isin(block[block >= 0], [b.site for b in blocks]).all():
            return None
        return cls(blocks, np.flatnonzero(~internal), np.flatnonzero(block < 0), rows)


def cheapest_pattern(
    b: _Block, reduced: np.ndarray, until: float = math.inf, banned: np.ndarray | None = None
) -> tuple[float, dict[int, float]]:
    """A lower bound on the block's cheapest pattern under ``reduced`` costs, and a pattern.

    A knapsack by dynamic programming over floor space, with a state per set of standards
    provided (providing earns the provides column's reduced cost once, whichever services do
    it); each incompatible pair is honoured by pricing once without each side's services. The
    bound is exact unless more than :data:`MAX_STANDARDS_PRICED` standards earn something;
    the least valuable of those are then counted as earned for free (a relaxation), and the
    pattern gets them only where it provides them. Items marked in ``banned`` are left out.
    (inf, {}) if the block has no pattern; (nan, {}) if ``until`` (a ``time.perf_counter()``
    value) passed first.
    """
    best_value, best = (0.0, {}) if b.may_close else (math.inf, {})
    if not b.may_open:
        return best_value, best
    n = len(b.items)
    profit = -reduced[b.items]
    earning = sorted(
        (g for g, c in enumerate(b.provides) if reduced[c] < 0),
        key=lambda g: reduced[b.provides[g]],
    )
    priced, free = earning[:MAX_STANDARDS_PRICED], earning[MAX_STANDARDS_PRICED:]
    free_bonus = float(sum(-reduced[b.provides[g]] for g in free))
    group = np.zeros(n, dtype=np.int64)
    for bit, g in enumerate(priced):
        group[b.provides_members[g]] |= 1 << bit
    masks = 1 << len(priced)
    bonus = np.array(
        [
            sum(-reduced[b.provides[g]] for bit, g in enumerate(priced) if m >> bit & 1)
            for m in range(masks)
        ]
    )
    variants = [np.ones(n, dtype=bool) if banned is None else ~banned]
    for a, c in b.incompatible:
        variants = [
            v & ~np.isin(np.arange(n), b.hosts_members[side]) for v in variants for side in (a, c)
        ]
    cap = b.capacity
    for allowed in variants:
        if (b.forced & ~allowed).any():
            continue
        base = int(b.weight[b.forced].sum())
        if base > cap:
            continue
        start_mask = int(np.bitwise_or.reduce(group[b.forced])) if b.forced.any() else 0
        value = np.full((masks, cap + 1), -np.inf)
        value[start_mask, base] = float(profit[b.forced].sum())
        trail = []
        useful = allowed & ~b.forced & ((profit > 0) | (group > 0)) & (b.weight <= cap)
        for i in np.flatnonzero(useful).tolist():
            if time.perf_counter() > until:
                return math.nan, {}
            w, gain, g = int(b.weight[i]), float(profit[i]), int(group[i])
            new = value.copy()
            came = np.full((masks, cap + 1), -1, dtype=np.int16)
            for m in range(masks):
                candidate = value[m, : cap + 1 - w] + gain
                better = candidate > new[m | g, w:]
                new[m | g, w:][better] = candidate[better]
                came[m | g, w:][better] = m
            value = new
            trail.append((i, w, came))
        total = value + bonus[:, None]
        m, c = np.unravel_index(int(np.argmax(total)), total.shape)
        cost = float(reduced[b.open_col] - total[m, c]) - free_bonus
        if not cost < best_value:
            continue
        chosen = np.flatnonzero(b.forced).tolist()
        for i, w, came in reversed(trail):
            if came[m, c] >= 0:
                chosen.append(i)
                m, c = int(came[m, c]), c - w
        taken = set(chosen)
        x = {b.open_col: 1.0} | {int(b.items[i]): 1.0 for i in chosen}
        for g in earning:
            if taken.intersection(b.provides_members[g].tolist()):
                x[int(b.provides[g])] = 1.0
        for h, col in enumerate(b.hosts):
            if taken.intersection(b.hosts_members[h].tolist()):
                x[int(col)] = 1.0
        best_value, best = cost, x
    return best_value, best


def cheapest_pattern_with_cuts(
    b: _Block,
    reduced: np.ndarray,
    penalties: list[tuple[float, np.ndarray]],
    until: float = math.inf,
) -> tuple[float, dict[int, float]]:
    """:func:`cheapest_pattern` when a pattern housing two or more of a subset-row cut's
    services pays that cut's penalty: ``penalties`` holds, per cut, the penalty (its price,
    negated) and the positions in ``b.items`` of its services this site may house.

    Branch and bound over the cuts: price without the penalties not yet settled (a lower
    bound), and if the pattern found houses two of a cut's services, either pay that cut's
    penalty or house at most one of them (one branch each). A lower bound on the cheapest
    pattern and a pattern, as :func:`cheapest_pattern`: exact unless a branch was cut short
    at :data:`CUT_PRICING_NODES` nodes (its unsettled penalties then count as nothing).
    """
    best_value, best = math.inf, {}
    floor = math.inf  # the least lower bound of a branch not searched further
    nodes = 0
    stack = [(np.zeros(len(b.items), dtype=bool), 0.0, penalties)]
    while stack:
        banned, paid, unsettled = stack.pop()
        value, x = cheapest_pattern(b, reduced, until, banned)
        if math.isnan(value):
            return math.nan, {}
        value += paid
        nodes += 1
        if not value < best_value:
            continue  # nothing cheaper below this branch
        taken = np.isin(b.items, list(x))
        hits = [(p, where) for p, where in unsettled if taken[where].sum() >= 2]
        own = float(sum(reduced[c] * v for c, v in x.items())) + paid
        own += sum(p for p, _ in hits)
        if own < best_value:
            best_value, best = own, x
        if not hits or nodes >= CUT_PRICING_NODES:
            floor = min(floor, value)
            continue
        penalty, where = max(hits, key=lambda hit: hit[0])
        rest = [(p, w) for p, w in unsettled if w is not where]
        stack.append((banned, paid + penalty, rest))
        for keep in range(len(where)):
            narrower = banned.copy()
            narrower[np.delete(where, keep)] = True
            stack.append((narrower, paid, rest))
    return min(best_value, floor), best


def _price_blocks(
    blocks: list[_Block],
    reduced: np.ndarray,
    until: float,
    penalties: dict[int, list[tuple[float, np.ndarray]]] | None = None,
) -> list[tuple[float, dict[int, float]]]:
    """Each block's :func:`cheapest_pattern` (with its subset-row cuts' ``penalties``, by
    block position, if any), in order, stopping at the first one ``until`` cut short (so a
    list shorter than ``blocks`` is an unfinished round)."""
    priced = []
    for k, b in enumerate(blocks):
        if penalties and k in penalties:
            value, x = cheapest_pattern_with_cuts(b, reduced, penalties[k], until)
        else:
            value, x = cheapest_pattern(b, reduced, until)
        if math.isnan(value):
            break
        priced.append((value, x))
    return priced


def _lagrangian(
    y: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    reduced: np.ndarray,
    arrays: LpArrays,
    loose: np.ndarray,
) -> float:
    """The row and loose-column terms of L(y): sum_i min(y_i l_i, y_i u_i) and each loose
    column at its cheaper bound under ``reduced`` (-inf when either is unbounded)."""
    r = reduced[loose]
    with np.errstate(invalid="ignore"):
        boxes = np.minimum(r * arrays.lower[loose], r * arrays.upper[loose])
    boxes[r == 0] = 0.0
    return float(_row_terms(y, row_lower, row_upper).sum() + boxes.sum())


def _row_terms(y: np.ndarray, row_lower: np.ndarray, row_upper: np.ndarray) -> np.ndarray:
    """Each row's term of L(y), min(y_i l_i, y_i u_i) (0 where y_i is 0, whatever its sides)."""
    with np.errstate(invalid="ignore"):
        terms = np.minimum(y * row_lower, y * row_upper)
    terms[y == 0] = 0.0
    return terms


def _once_rows(split: SiteBlocks, arrays: LpArrays) -> np.ndarray:
    """For each column, the position in ``split.link`` of the one "housed once" row it is in
    (-1 if none): the rows subset-row cuts are made of. Such a row has every entry 1, on
    columns that are housing decisions of some site (each in no other such row), and is at
    most 1, so every pattern has 0 or 1 in it."""
    n_cols = len(arrays.variables)
    housed = np.zeros(n_cols, dtype=bool)
    for b in split.blocks:
        housed[b.items] = True
    part = sparse.csr_array(split.rows[split.link])
    lengths = np.diff(part.indptr)
    row_of = np.repeat(np.arange(len(split.link)), lengths)
    fits = (part.data == 1.0) & housed[part.indices]
    whole = np.bincount(row_of, fits, minlength=len(split.link)) == lengths
    candidate = whole & (lengths > 0) & (arrays.row_upper[split.link] == 1.0)
    entries = candidate[row_of]
    once = np.bincount(part.indices[entries], minlength=n_cols) == 1
    # A row with a column in two candidate rows is not one.
    shared = np.bincount(row_of[entries & ~once[part.indices]], minlength=len(split.link)) > 0
    item_row = np.full(n_cols, -1)
    keep = entries & ~shared[row_of]
    item_row[part.indices[keep]] = row_of[keep]
    # Nor is a row with two columns of one site (a pattern would then count 2 in it).
    for b in split.blocks:
        here, counts = np.unique(item_row[b.items], return_counts=True)
        twice = here[(counts > 1) & (here >= 0)]
        if len(twice):
            item_row[np.isin(item_row, twice)] = -1
    return item_row


def _broken_subset_rows(
    weights: np.ndarray,
    rows_of: list[frozenset],
    known: set[tuple[int, int, int]],
    until: float,
) -> list[tuple[int, int, int]]:
    """Triples of "housed once" rows whose subset-row cut the master LP's pattern ``weights``
    break by more than :data:`CUT_VIOLATION`, the most broken first (at most
    :data:`CUTS_PER_ROUND`). Each pattern's rows are ``rows_of``; only triples of rows that
    share a mixed pattern with one of them are tried (a pattern at weight 1 breaks none)."""
    mixed = np.flatnonzero((weights > 1e-6) & (weights < 1 - 1e-6)).tolist()
    near: dict[int, set[int]] = {}
    holding: dict[int, list[int]] = {}
    for p in mixed:
        for r in rows_of[p]:
            near.setdefault(r, set()).update(rows_of[p])
            holding.setdefault(r, []).append(p)
    broken, seen = [], set()
    for r, others in near.items():
        if time.perf_counter() > until:
            break
        for tried, (a, c) in enumerate(itertools.combinations(sorted(others - {r}), 2)):
            if tried % 1000 == 999 and time.perf_counter() > until:
                break
            triple = tuple(sorted((r, a, c)))
            if triple in seen or triple in known:
                continue
            seen.add(triple)
            members = set(triple)
            patterns = set(holding[r]) | set(holding[a]) | set(holding[c])
            lhs = sum(weights[p] for p in patterns if len(rows_of[p] & members) >= 2)
            if lhs > 1 + CUT_VIOLATION:
                broken.append((lhs, triple))
    broken.sort(key=lambda found: -found[0])
    return [triple for _, triple in broken[:CUTS_PER_ROUND]]


def regional_bound(
    problem: PlanningProblem,
    arrays: LpArrays,
    split: SiteBlocks,
    y_link: np.ndarray,
    value: float,
    mixing: np.ndarray,
    until: float,
) -> tuple[float, int, int]:
    """What regions of sites add to the Lagrangian bound L(y) = ``value`` at ``y_link``
    (prices of valid signs): the gain, in the model's units, and how many regions were solved
    of how many.

    With the sites cut into regions, each row is kept whole at its home, the region holding
    most of its entries: there its entries in other regions (and in no region) are one
    stand-in column, w_i = a_out x_out, bounded by those columns' bounds and whole where they
    are. The equation w_i - a_out x_out = 0 is priced at y_i (any price will do for an
    equation): w_i costs y_i at home and every entry away from home is priced as in L(y).
    A row with an unbounded outside part has no home and is priced at y_i as in L(y). So for
    every plan x (with l_i <= a_i x <= u_i, so y_i a_i x >= min(y_i l_i, y_i u_i), on the
    rows without a home)::

        cost(x) >= sum_no_home min(y_i l_i, y_i u_i) + loose terms
                   + sum_regions min over the region's whole-number plans (x_r, w) of
                     (c - A_away' y) x_r + y'w

    and each region's minimum is at least its MIP's dual bound. Pricing its home rows at
    ``y`` as well would only lower a region's minimum, to its part of L(y) (its blocks'
    cheapest patterns and its home rows' terms; each w then costs nothing); so each region
    solved adds its dual bound less that part when positive, a region not solved adds
    nothing, and the sum is a bound however few regions are solved. Each region's MIP also
    holds, for each of its sites, the row "the site's columns at reduced costs c - A'y cost
    at least its cheapest pattern", which every plan keeps. Regions are solved in order of
    ``mixing`` (per block: how far the master LP is from one whole pattern there), until
    ``until`` or until the first :data:`REGION_PROBE` gain too little.
    """
    rows, link = split.rows, split.link
    n_rows, n_cols = rows.shape
    groups = neighbourhoods(problem, REGION_SITES)
    n_regions = len(groups)
    region_of_site = np.full(problem.n_sites, -1)
    for r, group in enumerate(groups):
        region_of_site[group] = r
    region = np.full(n_cols, -1)  # loose columns: in no region
    for b in split.blocks:
        region[b.columns] = region_of_site[b.site]
    row_of = np.repeat(np.arange(n_rows), np.diff(rows.indptr))
    col_region = region[rows.indices]
    # Each row's home: the region holding most of its entries (none if all are loose).
    placed = col_region >= 0
    counts = sparse.csr_array(
        (np.ones(int(placed.sum())), (row_of[placed], col_region[placed])),
        shape=(n_rows, max(n_regions, 1)),
    )
    home = np.asarray(counts.argmax(axis=1)).ravel()
    home[np.asarray(counts.sum(axis=1)).ravel() == 0] = -1
    y = np.zeros(n_rows)
    y[link] = y_link
    outside = col_region != home[row_of]
    # The outside part's range, from the columns' bounds: its stand-in's bounds.
    lower, upper = arrays.lower[rows.indices], arrays.upper[rows.indices]
    a = rows.data
    with np.errstate(invalid="ignore"):
        low_part = np.where(outside, np.minimum(a * lower, a * upper), 0.0)
        high_part = np.where(outside, np.maximum(a * lower, a * upper), 0.0)
    out_low = np.bincount(row_of, low_part, minlength=n_rows)
    out_high = np.bincount(row_of, high_part, minlength=n_rows)
    whole_part = outside & (arrays.integer[rows.indices] & (a == np.round(a)) | (a == 0))
    out_whole = np.bincount(row_of, outside & ~whole_part, minlength=n_rows) == 0
    homed = (home >= 0) & np.isfinite(out_low) & np.isfinite(out_high)
    home[~homed] = -1
    # A column's reduced cost in its region: every row priced except those at home there.
    priced = ~(homed[row_of] & ~outside)
    region_reduced = arrays.cost - np.bincount(
        rows.indices, np.where(priced, a * y[row_of], 0.0), minlength=n_cols
    )
    reduced = arrays.cost - rows.T @ y
    row_terms = _row_terms(y, arrays.row_lower, arrays.row_upper)
    blocks_of: dict[int, list[_Block]] = {}
    worth = np.zeros(n_regions)
    for k, b in enumerate(split.blocks):
        blocks_of.setdefault(int(region_of_site[b.site]), []).append(b)
        worth[region_of_site[b.site]] += mixing[k]
    gain, solved, tried = 0.0, 0, 0
    for r in np.argsort(-worth, kind="stable").tolist():
        left = until - time.perf_counter()
        if left <= 0:
            break
        if tried == REGION_PROBE and gain < REGION_MIN_GAIN * max(1.0, abs(value)):
            break
        tried += 1
        cols = np.flatnonzero(region == r)
        at_home = np.flatnonzero(home == r)
        n_local = len(cols) + len(at_home)
        at = np.full(n_cols, -1)
        at[cols] = np.arange(len(cols))
        # Rows at home here: their entries in the region, and one column for the rest.
        part = rows[at_home]
        part_rows = np.repeat(np.arange(len(at_home)), np.diff(part.indptr))
        mine = at[part.indices] >= 0
        stand_ins = np.arange(len(at_home))
        part = sparse.csr_array(
            (
                np.concatenate([part.data[mine], np.ones(len(at_home))]),
                (
                    np.concatenate([part_rows[mine], stand_ins]),
                    np.concatenate([at[part.indices[mine]], len(cols) + stand_ins]),
                ),
            ),
            shape=(len(at_home), n_local),
        )
        row_lower, row_upper = arrays.row_lower[at_home], arrays.row_upper[at_home]
        blocks = blocks_of.get(r, [])
        cheapest = [cheapest_pattern(b, reduced)[0] for b in blocks]
        # Each site's cheapest pattern at y is a row its columns must keep, (c - A'y) x_b >=
        # v_b: the region's LP then starts at its part of L(y), not at the model's weak LP
        # (the quarter county's regions: 8 s rather than 13 s, to the same bound).
        cuts = [(b.columns, v) for b, v in zip(blocks, cheapest, strict=True) if math.isfinite(v)]
        if cuts:
            cut_cols = np.concatenate([c for c, _ in cuts])
            cut_of = np.repeat(np.arange(len(cuts)), [len(c) for c, _ in cuts])
            cut_part = sparse.csr_array(
                (reduced[cut_cols], (cut_of, at[cut_cols])), shape=(len(cuts), n_local)
            )
            part = sparse.csr_array(sparse.vstack([part, cut_part]))
            floors = np.array([v - 1e-9 * max(1.0, abs(v)) for _, v in cuts])
            row_lower = np.concatenate([row_lower, floors])
            row_upper = np.concatenate([row_upper, np.full(len(cuts), np.inf)])
        local = LpArrays(
            [*(arrays.variables[c] for c in cols.tolist()), *([None] * len(at_home))],
            np.concatenate([region_reduced[cols], y[at_home]]),
            np.concatenate([arrays.lower[cols], out_low[at_home]]),
            np.concatenate([arrays.upper[cols], out_high[at_home]]),
            np.concatenate([arrays.integer[cols], out_whole[at_home]]),
            part,
            row_lower,
            row_upper,
        )
        if not local.integer.any():
            continue  # HiGHS reports no MIP bound for an LP (its mip_dual_bound reads 0)
        highs = _highs_with_model(local)
        highs.setOptionValue("random_seed", 0)
        highs.setOptionValue("mip_rel_gap", 1e-6)
        set_time_left(highs, min(left, REGION_SECONDS), mip=True)
        highs.run()
        dual_bound = float(highs.getInfo().mip_dual_bound)
        if not math.isfinite(dual_bound):
            continue  # infeasible cannot be (every plan is a region plan); no bound: no gain
        share = sum(cheapest) + float(row_terms[at_home].sum())
        # A margin for the MIP's tolerances: the bound must never exceed the truth.
        gain += max(0.0, dual_bound - 1e-7 * max(1.0, abs(dual_bound)) - share)
        solved += 1
        log.debug(
            "Region %d (%d sites, %d rows, worth %.3g): %s in %.1f s, gain %.6g",
            r, len(groups[r]), len(at_home), worth[r],
            highs.modelStatusToString(highs.getModelStatus()), highs.getRunTime(),
            dual_bound - share,
        )  # fmt: skip
    return gain, solved, n_regions


def _master_highs(options: SolverOptions):
    """A silent HiGHS for the master, seeded so runs repeat, on the scenario's threads."""
    highs = _new_highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("random_seed", 0)
    if options.threads is not None:
        highs.setOptionValue("threads", int(options.threads))
    return highs


def improve_over_patterns(
    problem: PlanningProblem,
    model,
    n_loose: int,
    sites: np.ndarray,
    pattern_block: np.ndarray,
    column_costs: np.ndarray,
    values: np.ndarray,
    options: SolverOptions,
    deadline: float,
) -> tuple[np.ndarray, int, int]:
    """The master's plan ``values`` (whole patterns) improved neighbourhood by neighbourhood:
    the values, the neighbourhoods solved and those that improved it.

    ``model`` is the master MIP (a ``highspy.HighsModel``: ``n_loose`` columns outside any
    block, then the patterns, of blocks ``pattern_block`` at sites ``sites``). Each
    neighbourhood (:data:`MASTER_NEIGHBOURHOOD_SITES` sites grown breadth-first over the sites
    that share a service) may take any of its patterns; every other site keeps its pattern.
    Passes over the estate, each from new seeds, end when one improves nothing or at
    ``deadline``. Each neighbourhood's MIP starts from nothing: given the plan as a start,
    HiGHS 1.16 reported objectives far below what its answers cost and mostly declared the
    start optimal at once (county from £778.9m, 120 s: £777.4m with starts, £775.4m without).
    """
    graph = site_graph(problem)
    block_of_site = np.full(problem.n_sites, -1)
    block_of_site[sites] = np.arange(len(sites))
    upper = np.array(model.lp_.col_upper_)
    patterns_upper = upper[n_loose:].copy()
    cost = float(column_costs @ values)
    rng = np.random.default_rng(0)
    solved = improved = 0
    gained = True
    while gained:
        gained = False
        seeded = np.zeros(problem.n_sites, dtype=bool)
        for seed in rng.permutation(problem.n_sites).tolist():
            if seeded[seed] or block_of_site[seed] < 0:
                continue
            left = deadline - time.perf_counter()
            if left < MIN_SOLVER_SECONDS:
                return values, solved, improved
            reached = csgraph.breadth_first_order(
                graph, seed, directed=False, return_predecessors=False
            )[:MASTER_NEIGHBOURHOOD_SITES]
            seeded[reached] = True
            free = np.zeros(len(sites), dtype=bool)
            free[block_of_site[reached][block_of_site[reached] >= 0]] = True
            # The free sites may take any pattern; every other site only the one it has.
            free_pattern = free[pattern_block]
            upper[n_loose:] = np.where(free_pattern, patterns_upper, 0.0)
            upper[n_loose:][~free_pattern & (values[n_loose:] > 0.5)] = 1.0
            model.lp_.col_upper_ = upper
            highs = _master_highs(options)  # a fresh one: no start, nothing kept from the last
            highs.passModel(model)
            set_time_left(highs, min(MASTER_NEIGHBOURHOOD_SECONDS, left), mip=True)
            highs.setOptionValue("mip_rel_gap", MASTER_NEIGHBOURHOOD_GAP)
            highs.run()
            solved += 1
            if highs.getInfo().primal_solution_status != 2:
                continue
            found = np.asarray(highs.getSolution().col_value)
            found_cost = float(column_costs @ found)
            if found_cost < cost - 1e-9 * max(1.0, abs(cost)):
                values, cost = found, found_cost
                improved += 1
                gained = True
    upper[n_loose:] = patterns_upper
    model.lp_.col_upper_ = upper
    return values, solved, improved


def price_and_branch(
    formulation: Formulation,
    arrays: LpArrays,
    split: SiteBlocks,
    start: Plan,
    options: SolverOptions,
    deadline: float | None,
) -> tuple[Plan | None, DecompositionReport]:
    """Column generation, then the master over whole patterns: a checked plan (or None) and
    the report.

    ``start`` (a plan keeping every rule) gives each block its first pattern, so the master is
    feasible from the first round, and is the master MIP's starting plan.
    """
    import highspy

    started = time.perf_counter()
    problem, scale = formulation.problem, arrays.objective_scale
    rows, link, loose = split.rows, split.link, split.loose
    linking = sparse.csc_array(rows[link])
    n_link = len(link)
    inf = highspy.kHighsInf
    master = _master_highs(options)
    interior = n_link >= INTERIOR_MASTER_ROWS
    if interior:
        master.setOptionValue("solver", "ipm")
        master.setOptionValue("run_crossover", "off")
        # Without crossover HiGHS's aggregator (a presolve rule) can run for seconds without
        # looking at the clock, and with no basis to start from every round presolves; the
        # rest of presolve is kept (without any, the county's rounds took several times longer).
        master.setOptionValue("presolve_rule_off", 4096)
    else:
        # Primal simplex: new columns leave the last basis primal feasible.
        master.setOptionValue("simplex_strategy", 4)
    no_rows = np.zeros(1, np.int32), np.zeros(0, np.int32), np.zeros(0)
    master.addRows(
        n_link,
        np.nan_to_num(arrays.row_lower[link], neginf=-inf),
        np.nan_to_num(arrays.row_upper[link], posinf=inf),
        0,
        *no_rows,
    )
    n_blocks = len(split.blocks)
    master.addRows(n_blocks, np.ones(n_blocks), np.ones(n_blocks), 0, *no_rows)
    part = sparse.csc_array(linking[:, loose])
    master.addCols(
        len(loose),
        arrays.cost[loose],
        np.nan_to_num(arrays.lower[loose], neginf=-inf),
        np.nan_to_num(arrays.upper[loose], posinf=inf),
        part.nnz,
        part.indptr.astype(np.int32),
        part.indices.astype(np.int32),
        part.data,
    )
    patterns: list[dict[int, float]] = []
    pattern_block: list[int] = []
    known: set[tuple[int, frozenset]] = set()  # prices from the interior point can re-offer one
    fits: list[bool] = []  # floor space rounded down can let a pattern overfill its site
    column_costs = arrays.cost[loose].tolist()  # the master's, in column order
    # Subset-row cuts: each pattern's "housed once" rows, the cuts (triples of such rows, at
    # master rows after the convexity rows) and, per cut, the sites that may house two or
    # more of its services, with those services' positions there.
    item_row = _once_rows(split, arrays)
    rows_of: list[frozenset] = []
    patterns_of_row: dict[int, list[int]] = {}
    cuts: list[tuple[int, int, int]] = []
    cuts_of_row: dict[int, list[int]] = {}
    cut_places: list[list[tuple[int, np.ndarray]]] = []
    places_of_row: dict[int, list[tuple[int, int]]] = {}
    for k, b in enumerate(split.blocks):
        for position, r in enumerate(item_row[b.items].tolist()):
            if r >= 0:
                places_of_row.setdefault(r, []).append((k, position))

    def covered(x: dict[int, float]) -> frozenset:
        return frozenset(int(item_row[c]) for c in x if item_row[c] >= 0)

    def cuts_hit(rows_x: frozenset) -> list[int]:
        """The cuts a pattern with these "housed once" rows counts in (two of its three)."""
        seen: dict[int, int] = {}
        for r in rows_x:
            for j in cuts_of_row.get(r, ()):
                seen[j] = seen.get(j, 0) + 1
        return [j for j, n in seen.items() if n >= 2]

    def add_cut(triple: tuple[int, int, int]) -> None:
        j = len(cuts)
        cuts.append(triple)
        count: dict[int, int] = {}
        for r in triple:
            for q in patterns_of_row.get(r, ()):
                count[q] = count.get(q, 0) + 1
            cuts_of_row.setdefault(r, []).append(j)
        index = np.array([len(loose) + q for q, n in count.items() if n >= 2], dtype=np.int32)
        master.addRow(-inf, 1.0, len(index), index, np.ones(len(index)))
        by_block: dict[int, list[int]] = {}
        for r in triple:
            for k, position in places_of_row.get(r, ()):
                by_block.setdefault(k, []).append(position)
        cut_places.append(
            [(k, np.array(where)) for k, where in by_block.items() if len(where) >= 2]
        )

    def add(k: int, x: dict[int, float]) -> bool:
        key = (k, frozenset(x.items()))
        if key in known:
            return False
        known.add(key)
        b = split.blocks[k]
        housed = np.isin(b.items, list(x))
        used = float(b.space[housed].sum())
        fits.append(used <= b.floor_space * (1 + CAPACITY_TOLERANCE) + CAPACITY_TOLERANCE)
        cols = np.array(sorted(x), dtype=np.int64)
        values = np.array([x[c] for c in cols.tolist()])
        column = linking[:, cols] @ values if len(cols) else np.zeros(n_link)
        nz = np.flatnonzero(np.abs(column) > 1e-12)
        rows_x = covered(x)
        in_cuts = [n_link + n_blocks + j for j in cuts_hit(rows_x)]
        index = np.concatenate([nz, [n_link + k], in_cuts]).astype(np.int32)
        entries = np.concatenate([column[nz], np.ones(1 + len(in_cuts))])
        cost = float(arrays.cost[cols] @ values) if len(cols) else 0.0
        master.addCols(
            1, np.array([cost]), np.zeros(1), np.array([inf]), len(index),
            np.zeros(1, np.int32), index, entries,
        )  # fmt: skip
        for r in rows_x:
            patterns_of_row.setdefault(r, []).append(len(patterns))
        rows_of.append(rows_x)
        patterns.append(x)
        pattern_block.append(k)
        column_costs.append(cost)
        return True

    first = arrays.start_vector(formulation.start_values(start))
    for k, b in enumerate(split.blocks):
        add(k, {int(c): float(first[c]) for c in b.columns if first[c] > 1e-9})
    for k, b in enumerate(split.blocks):
        if b.may_close:
            add(k, {})
    end = math.inf if deadline is None else deadline
    columns_end = started + (1 - MASTER_MIP_SHARE) * (end - started)
    bound, rounds, converged = -math.inf, 0, False
    row_lower, row_upper = arrays.row_lower[link], arrays.row_upper[link]

    def solve_master_lp() -> None:
        if math.isfinite(columns_end):
            set_time_left(master, columns_end - time.perf_counter(), mip=False)
        master.run()

    def reduced_at(y_link: np.ndarray) -> np.ndarray:
        """Every column's reduced cost under these prices on the linking rows."""
        y = np.zeros(rows.shape[0])
        y[link] = y_link
        return arrays.cost - rows.T @ y

    def priced_at(prices: np.ndarray) -> tuple[list, float, np.ndarray] | None:
        """Each block's cheapest pattern and L(y) at these prices (the linking rows', then
        the cuts'), made valid first (a price of the wrong sign for a one-sided row, the LP
        solver's tolerance, is set to 0), and the prices so made. A cut's price is a penalty
        on the patterns it counts; its side, 1, adds the price itself. None when the round ran
        out of time (an unfinished round proves nothing; the patterns it found are offered)."""
        y_link, sigma = prices[:n_link], np.minimum(prices[n_link:], 0.0)
        y_link = np.where(np.isneginf(row_lower), np.minimum(y_link, 0), y_link)
        y_link = np.where(np.isposinf(row_upper), np.maximum(y_link, 0), y_link)
        reduced = reduced_at(y_link)
        penalties: dict[int, list[tuple[float, np.ndarray]]] = {}
        for j in np.flatnonzero(sigma < 0).tolist():
            for k, where in cut_places[j]:
                penalties.setdefault(k, []).append((-float(sigma[j]), where))
        priced = _price_blocks(split.blocks, reduced, columns_end, penalties)
        if len(priced) < len(split.blocks):
            for k, (_, x) in enumerate(priced):
                offer(k, x)
            return None
        value = _lagrangian(y_link, row_lower, row_upper, reduced, arrays, loose)
        value += float(sigma.sum())
        return priced, value + float(sum(v for v, _ in priced)), np.concatenate([y_link, sigma])

    def offer(k: int, x: dict[int, float]) -> bool:
        """Add a pattern if it prices out at the master's own prices."""
        own = float(sum(master_reduced[c] * v for c, v in x.items()))
        own -= float(sum(master_sigma[j] for j in cuts_hit(covered(x))))
        if own - convexity[k] < -1e-9 * max(1.0, abs(convexity[k])):
            return add(k, x)
        return False

    def round_at(y_link: np.ndarray) -> int | None:
        """Price every block at these prices, offer the master what it finds, and keep the
        prices if their bound is the best yet: the patterns added (None if out of time)."""
        nonlocal center, center_value
        result = priced_at(y_link)
        if result is None:
            return None
        priced, value, valid = result
        if math.isfinite(value) and value > center_value:
            center, center_value = valid, value
        return sum(offer(k, x) for k, (_, x) in enumerate(priced))

    def run_regions(weights: np.ndarray) -> tuple[float, int, int, float]:
        """The regions' gain on the best bound so far, at its prices (on the linking rows
        only: they run before any cut), added to the bound; the gain, regions solved,
        regions, seconds."""
        nonlocal bound
        if REGION_SITES <= 0 or not math.isfinite(center_value):
            return 0.0, 0, 0, 0.0
        # How far the master LP is from one whole pattern at each site: regions where it
        # mixes patterns are where a whole-number answer can cost more.
        mixing = np.zeros(n_blocks)
        np.add.at(mixing, pattern_block[: len(weights)], weights * (1 - weights))
        now = time.perf_counter()
        until = end if math.isinf(end) else now + REGION_TIME_SHARE * (end - now)
        gain, solved_regions, n_regions = regional_bound(
            problem, arrays, split, center, center_value, mixing, until
        )
        if gain > 0:
            value = center_value + gain
            bound = max(bound, (value - 1e-9 * max(1.0, abs(value))) * scale)
        return gain, solved_regions, n_regions, time.perf_counter() - now

    regions: tuple[float, int, int, float] | None = None
    center, center_value = None, -math.inf
    cuts_end = None  # set when the columns first converge
    uncut = -math.inf  # the bound when the first cuts came
    while time.perf_counter() < columns_end:
        solve_master_lp()
        if interior and master.getModelStatus() not in (
            highspy.HighsModelStatus.kOptimal,
            highspy.HighsModelStatus.kTimeLimit,
        ):
            # The interior point without crossover can stop short of its tolerances
            # ("Unknown"); the simplex then solves that round.
            log.debug("Decomposition: interior point ended %s; simplex", master.getModelStatus())
            master.setOptionValue("solver", "simplex")
            solve_master_lp()
            master.setOptionValue("solver", "ipm")
        if master.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            log.debug(
                "Decomposition: master LP %s at %.1f s",
                master.modelStatusToString(master.getModelStatus()),
                time.perf_counter() - started,
            )
            break
        solved = master.getSolution()
        # Read now: adding columns below clears the solver's solution.
        master_value = float(np.dot(column_costs, solved.col_value)) * scale
        duals = np.asarray(solved.row_dual)
        out = np.concatenate([duals[:n_link], duals[n_link + n_blocks :]])
        convexity, master_sigma = duals[n_link : n_link + n_blocks], out[n_link:]
        master_reduced = reduced_at(out[:n_link])
        # Smoothing: price part of the way back towards the prices of the best bound so far.
        # Patterns found there still join the master on their own reduced cost at its prices;
        # a round where none does ("mis-pricing") prices at the master's prices as well.
        smoothed = center is not None and SMOOTHING > 0
        added = round_at(SMOOTHING * center + (1 - SMOOTHING) * out if smoothed else out)
        mispriced = added == 0 and smoothed
        if mispriced:
            added = round_at(out)
        if math.isfinite(center_value):
            # A margin for floating-point sums: the bound must never exceed the truth.
            bound = max(bound, (center_value - 1e-9 * max(1.0, abs(center_value))) * scale)
        if added is None:
            break
        rounds += 1
        log.debug(
            "Decomposition round %d at %.1f s: master %.6g, bound %.6g, %d patterns added%s",
            rounds, time.perf_counter() - started, master_value, bound, added,
            " (mis-priced: priced again at the master's prices)" if mispriced else "",
        )  # fmt: skip
        # Done when nothing new prices out, or when the bound meets the master's value: the last
        # rounds then add a column each for nothing (the LP's tolerances).
        if added == 0 or master_value - bound <= CONVERGED_GAP * max(1.0, abs(master_value)):
            converged = True
            weights = np.asarray(solved.col_value)[len(loose) :]
            if regions is None:
                regions = run_regions(weights)
            # Then cuts the master LP breaks, and the columns go on with them; not once the
            # master LP with cuts (which new columns only lower) is no higher than the bound
            # (the regions' may be).
            now = time.perf_counter()
            if cuts_end is None:
                cuts_end = now + CUT_TIME_SHARE * max(columns_end - now, 0.0)
            room = not cuts or master_value > bound + CONVERGED_GAP * max(1.0, abs(master_value))
            broken = []
            if CUTS_PER_ROUND > 0 and center is not None and room and now < cuts_end:
                broken = _broken_subset_rows(weights, rows_of, set(cuts), cuts_end)
            if not broken:
                break
            if not cuts:
                uncut = bound
            for triple in broken:
                add_cut(triple)
            center = np.concatenate([center, np.zeros(len(broken))])
            converged = False
            log.debug(
                "Decomposition: %d subset-row cuts added at %.1f s (%d in all)",
                len(broken), time.perf_counter() - started, len(cuts),
            )  # fmt: skip
    if regions is None and math.isfinite(center_value):
        regions = run_regions(np.asarray(solved.col_value)[len(loose) :])
    # Price and branch: the master over the patterns found, whole patterns only. Without the
    # cuts: they hold for whole patterns, but HiGHS found worse plans with them (county, the
    # same patterns, 120 s each: £785.8m with 221 cuts, £780.1m without).
    if cuts:
        first_cut = n_link + n_blocks
        gone = np.arange(first_cut, first_cut + len(cuts), dtype=np.int32)
        master.deleteRows(len(gone), gone)
    if interior:  # the MIP's own LPs: HiGHS's choice (the interior point is slow there)
        master.setOptionValue("solver", "choose")
        master.setOptionValue("run_crossover", "on")
        master.setOptionValue("presolve_rule_off", 0)
    n_loose, n_cols = len(loose), master.getNumCol()
    whole = np.arange(n_loose, n_cols, dtype=np.int32)
    master.changeColsIntegrality(len(whole), whole, np.ones(len(whole), dtype=np.uint8))
    overfull = whole[~np.array(fits)]
    if len(overfull):
        master.changeColsBounds(
            len(overfull), overfull, np.zeros(len(overfull)), np.zeros(len(overfull))
        )
    begin = np.zeros(n_cols)
    begin[:n_loose] = first[loose]
    begin[n_loose : n_loose + n_blocks] = 1.0  # the start's own patterns
    master.setSolution(n_cols, np.arange(n_cols, dtype=np.int32), begin)
    if deadline is not None:  # a first plan; the neighbourhoods of patterns get the rest
        seconds = MASTER_MIP_FIRST_SHARE * max(deadline - time.perf_counter(), 0.0)
        set_time_left(master, max(seconds, 0.1), mip=True)
    master.setOptionValue("mip_rel_gap", max(options.mip_gap or 0.0, 1e-4))
    master.run()
    plan, master_cost, neighbourhoods_solved, improved = None, math.nan, 0, 0
    if master.getInfo().primal_solution_status == 2:
        values = np.asarray(master.getSolution().col_value)
        master_cost = float(np.dot(column_costs, values)) * scale
        if deadline is not None and master.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            values, neighbourhoods_solved, improved = improve_over_patterns(
                problem,
                master.getModel(),
                n_loose,
                np.array([b.site for b in split.blocks]),
                np.asarray(pattern_block),
                np.asarray(column_costs),
                values,
                options,
                deadline,
            )
        full = np.zeros(len(arrays.variables))
        full[loose] = values[:n_loose]
        for k, x in enumerate(patterns):
            if values[n_loose + k] > 0.5:
                for c, v in x.items():
                    full[c] += v
        plan = plan_of_values(formulation, arrays, full)
    if plan is not None and not problem.check(plan).holds:
        log.warning("Decomposition: the master's plan failed the check and is not used")
        plan = None
    start_cost = problem.cost(start)
    plan_cost = problem.cost(plan) if plan is not None else start_cost
    region_gain, regions_solved, n_regions, region_seconds = regions or (0.0, 0, 0, 0.0)
    report = DecompositionReport(
        start_cost,
        plan_cost,
        bound,
        rounds,
        converged,
        len(patterns),
        time.perf_counter() - started,
        region_gain * scale,
        regions_solved,
        n_regions,
        region_seconds,
        len(cuts),
        max(bound - uncut, 0.0) if cuts and math.isfinite(uncut) else 0.0,
        master_cost,
        neighbourhoods_solved,
        improved,
    )
    log.info("Decomposition: %s", report.describe())
    return plan, report
