"""Why a scenario is infeasible: an elastic re-solve that says what to relax, and by how much."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._model_types import listed_ids
from ._solvers import run_solver

if TYPE_CHECKING:
    from .model import CoLocationModel


def elastic_reasons(model: CoLocationModel) -> list[str]:
    """Solve an elastic copy of ``model`` and name every rule it had to relax.

    Every coverage, capacity and side row gets a slack variable and the solver minimises the
    total violation, each slack scaled by its row's size (total demand weight, site floor space,
    budget or partner figures) so that no unit dominates. Each row left violated becomes one
    reason naming the requirement, places and shortfall.

    Returns
    -------
    list of str
    """
    problem, _, _, slacks = model._build(elastic=True)
    limit = None if model.time_limit is None else max(model.time_limit, 1.0)
    run = run_solver(problem, model.solver_name, limit, 1e-6, model.threads)
    if not run.has_solution:
        return [
            "no plan satisfies the rules that cannot be relaxed (each service housed once, "
            "locks, incompatible service types, lease and covenant rules); check the locks "
            "and the candidate site lists"
        ]
    reasons: list[str] = []
    uncovered: dict[int, list[int]] = {}
    for key, row in slacks.items():
        slack_var = next(v for v in row if v.name.startswith("slack_"))
        amount = slack_var.varValue or 0.0
        if amount <= 1e-6:
            continue
        kind, *rest = key.split(":")
        if kind == "capacity":
            site = int(rest[0])
            reasons.append(
                f"site {model.site_ids[site]}: {amount:,.0f} m2 more floor space needed than "
                f"its {model.capacity[site]:,.0f} m2"
            )
        elif kind == "cover":
            uncovered.setdefault(int(rest[0]), []).append(int(rest[1]))
        elif kind == "share":
            req = model.coverage[int(rest[0])]
            total = float(req.weights.sum())
            target = req.target_weight
            reasons.append(
                f"{req.name}: need share {target / total:.3f} of demand within "
                f"{req.minutes:g} minutes but only {(target - amount) / total:.3f} is "
                f"achievable together with the other rules ({amount:,.0f} people short)"
            )
        else:
            side = next(c for c in model.side_constraints if c.name == rest[0])
            reasons.append(f"{side.label} short by £{amount:,.0f}")
    for r, points in uncovered.items():
        req = model.coverage[r]
        ids = [model.demand_ids[d] for d in points]
        weight = float(req.weights[points].sum())
        reasons.append(
            f"{req.name}: {weight:,.0f} people at {len(ids)} demand point(s) "
            f"({listed_ids(ids)}) cannot all be covered within {req.minutes:g} minutes "
            "together with the other rules; relax the rule 'all' to a share or add a site"
        )
    if not reasons:
        reasons.append(
            "the solver reported the model infeasible but an elastic re-solve found no "
            "violated standard; check locks, lease and covenant rules"
        )
    return reasons
