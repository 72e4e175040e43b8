"""Random small estates and a brute-force solver that shares no code with the model.

:func:`random_estate` draws a small co-location problem with every kind of rule: locks, a
candidate site, two coverage rules (one "all" or "no worse than today", one share), an
incompatible pair of service types, a capital budget and a partner "no worse off" row with
pair coefficients. Rules are set from today's plan so that many sit exactly at their bound,
which is where solvers slip.

:func:`enumerate_best` tries every combination of open sites and placements, in numpy, and
returns the cheapest one that keeps every rule (or None). It reads only the arrays given to
``from_arrays``, never the model's formulation or its plan check.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from scipy import sparse

from totalcapital.model import CoverageRequirement, SideConstraint


def random_estate(seed: int) -> dict[str, Any]:
    """Keyword arguments of ``CoLocationModel.from_arrays`` for a random small estate."""
    rng = np.random.default_rng(seed)
    n_sites = int(rng.integers(3, 6))
    n_services = int(rng.integers(2, 6))
    n_points = int(rng.integers(3, 8))
    kind = np.array(["freehold"] * n_sites, dtype=object)
    kind[rng.random(n_sites) < 0.25] = "leasehold"
    candidate = int(rng.integers(0, n_sites)) if rng.random() < 0.4 else None
    if candidate is not None:
        kind[candidate] = "candidate"
    existing = np.flatnonzero(kind != "candidate")
    current = rng.choice(existing, n_services)
    space = rng.integers(20, 60, n_services).astype(float)
    capacity = rng.integers(40, 140, n_sites).astype(float)
    np.maximum.at(capacity, current, 0)
    for s in range(n_sites):  # today's placement fits
        capacity[s] = max(capacity[s], space[current == s].sum())
    fixed = rng.integers(-200, 600, n_sites).astype(float) * 1_000
    move = rng.integers(0, 80, n_services).astype(float) * 1_000
    cost = np.where(np.arange(n_sites)[None, :] == current[:, None], 0.0, move[:, None])
    allowed = rng.random((n_services, n_sites)) < 0.75
    allowed[np.arange(n_services), current] = True
    lower = np.zeros(n_sites)
    upper = np.ones(n_sites)
    lower[rng.random(n_sites) < 0.15] = 1.0
    if candidate is not None:
        lower[candidate] = 0.0
    upper[(rng.random(n_sites) < 0.1) & (lower == 0)] = 0.0
    upper[current] = np.where(lower[current] > 0, 1.0, upper[current])

    types = rng.choice(["fire", "police", "library", "school"], n_services)
    weights = rng.integers(0, 500, n_points).astype(float)
    coverage = []
    for name, provided_by, rule in (
        ("fire_10min", "fire", rng.choice(["no_worse_than_today", "all"])),
        ("library_15min", "library", "share"),
    ):
        providers = types == provided_by
        if not providers.any():
            continue
        reach = sparse.csr_array(rng.random((n_sites, n_points)) < 0.45)
        before = np.asarray(reach[np.unique(current[providers])].sum(axis=0)).ravel() > 0
        if rule == "all":
            # Only ask for everyone where today's plan manages it, so the rule bites but can hold.
            rule = "all" if before[weights > 0].all() else "no_worse_than_today"
        share = float(weights[before].sum() / max(weights.sum(), 1.0)) * rng.uniform(0.8, 1.0)
        coverage.append(
            CoverageRequirement(
                name,
                (reach,),
                (providers,),
                weights,
                rule,
                share,
                before,
                "response",
                (provided_by,),
                10.0,
            )
        )

    side = []
    if rng.random() < 0.6:
        capex = rng.integers(0, 90, n_sites).astype(float) * 1_000
        today_open = np.ones(n_sites, dtype=bool)
        if candidate is not None:
            today_open[candidate] = False
        budget = float(capex[today_open].sum()) * float(rng.choice([1.0, rng.uniform(0.7, 1.2)]))
        side.append(
            SideConstraint(
                "budget", "capital budget", capex, moved_cost(move, current), 0.0, "<=", budget
            )
        )
    if rng.random() < 0.6:
        partner = rng.random(n_services) < 0.5
        gain_site = rng.integers(-50, 50, n_sites).astype(float) * 1_000

        def gain_pair(k: np.ndarray, s: np.ndarray, partner=partner, n=n_sites) -> np.ndarray:
            return np.where(partner[k], (n - s) * 7_000.0, 0.0)

        today = float(gain_site[existing].sum() + gain_pair(np.arange(n_services), current).sum())
        # The floor is today's figure: a partner with nothing to gain sits exactly on it.
        side.append(
            SideConstraint(
                "partner_P", "partner P NPV gain", gain_site, gain_pair, 0.0, ">=", today
            )
        )

    incompatible = []
    police, school = types == "police", types == "school"
    # Only where today's plan keeps them apart, so today stays lawful.
    if police.any() and school.any() and not np.intersect1d(current[police], current[school]).size:
        incompatible.append(("police", "school", police, school))
    return {
        "fixed_cost": fixed,
        "capacity": capacity,
        "space": space,
        "assignment_cost": cost,
        "allowed": allowed,
        "open_lower": lower,
        "open_upper": upper,
        "site_kind": list(kind),
        "current_site": current,
        "objective_constant": float(rng.integers(0, 900) * 1_000),
        "coverage": coverage,
        "side_constraints": side,
        "incompatible": incompatible,
        "demand_ids": [f"D{d}" for d in range(n_points)],
        "local_search": "off",
    }


def moved_cost(move: np.ndarray, current: np.ndarray):
    def cost(k: np.ndarray, s: np.ndarray) -> np.ndarray:
        return np.where(s != current[k], move[k], 0.0)

    return cost


def enumerate_best(arrays: dict[str, Any]) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The cheapest (cost, opened, site_of) keeping every rule, by trying every plan."""
    fixed = np.asarray(arrays["fixed_cost"], float)
    capacity = np.asarray(arrays["capacity"], float)
    space = np.asarray(arrays["space"], float)
    cost = np.asarray(arrays["assignment_cost"], float)
    n_services, n_sites = cost.shape
    allowed = np.isfinite(cost) & np.asarray(arrays.get("allowed", np.ones_like(cost, bool)), bool)
    lower = np.asarray(arrays.get("open_lower", np.zeros(n_sites)), float)
    upper = np.asarray(arrays.get("open_upper", np.ones(n_sites)), float)
    allowed &= (upper > 0)[None, :] & (space[:, None] <= capacity[None, :])
    options = [np.flatnonzero(allowed[k]) for k in range(n_services)]
    if any(len(o) == 0 for o in options):
        return None
    placements = np.array(list(itertools.product(*options)), dtype=int).reshape(-1, n_services)
    openings = np.array(list(itertools.product([False, True], repeat=n_sites)), dtype=bool)
    openings = openings[((openings >= (lower > 0)) & (openings <= (upper > 0))).all(axis=1)]
    # Every (opening, placement) pair, as rows of two aligned arrays.
    o_index, p_index = np.meshgrid(np.arange(len(openings)), np.arange(len(placements)))
    opened = openings[o_index.ravel()]
    site_of = placements[p_index.ravel()]
    rows = np.arange(len(site_of))
    ok = opened[rows[:, None], site_of].all(axis=1)
    used = np.zeros((len(site_of), n_sites))
    for k in range(n_services):
        np.add.at(used, (rows, site_of[:, k]), space[k])
    ok &= (used <= capacity[None, :] + 1e-9).all(axis=1)
    for req in arrays.get("coverage", []):
        hosts = np.zeros((len(site_of), n_sites), dtype=bool)
        for providers, reach in zip(req.providers, req.reach, strict=True):
            for k in np.flatnonzero(providers):
                hosts[rows, site_of[:, k]] = True
            covered = (hosts.astype(float) @ sparse.csr_array(reach).toarray()) > 0
        weights = req.weights
        if req.rule == "all":
            ok &= covered[:, weights > 0].all(axis=1)
        else:
            target = req.target_weight - 1e-6 * max(1.0, weights.sum())
            ok &= covered.astype(float) @ weights >= target - 1e-9
    for _, _, mask_a, mask_b in arrays.get("incompatible", []):
        hosts_a = np.zeros((len(site_of), n_sites), dtype=bool)
        hosts_b = np.zeros((len(site_of), n_sites), dtype=bool)
        for k in np.flatnonzero(mask_a):
            hosts_a[rows, site_of[:, k]] = True
        for k in np.flatnonzero(mask_b):
            hosts_b[rows, site_of[:, k]] = True
        ok &= ~(hosts_a & hosts_b).any(axis=1)
    for side in arrays.get("side_constraints", []):
        value = side.constant + opened.astype(float) @ side.site_coef
        if side.pair_coef is not None:
            for k in range(n_services):
                value += side.pair_coef(np.full(len(site_of), k), site_of[:, k])
        if side.sense == "<=":
            ok &= value <= side.rhs + 1e-6
        else:
            ok &= value >= side.rhs - 1e-6
    if not ok.any():
        return None
    total = arrays.get("objective_constant", 0.0) + opened.astype(float) @ fixed
    total = total + cost[np.arange(n_services)[None, :], site_of].sum(axis=1)
    total = np.where(ok, total, np.inf)
    best = int(np.argmin(total))
    return float(total[best]), opened[best], site_of[best]
