"""The co-location model, one floor per stage; data moves down the floors only.

=================  =====================================================================
``problem``        plain arrays of one planning problem, a plan, and the plan's check
``from_estate``    the arrays of a scenario on an estate (uses ``problem``)
``formulation``    PuLP rows and columns of a problem, named after the estate
``solve``          HiGHS or CBC; each answer read back and verified on the problem
``search``         neighbourhood search over a problem and a plan
``decompose``      decomposition by site: a Lagrangian bound and a price-and-branch plan
``diagnose``       presolve checks and proven relaxations of an infeasible problem
``colocation``     :class:`CoLocationModel`: the stages strung together
=================  =====================================================================
"""

from __future__ import annotations

from .colocation import CoLocationModel, Solution
from .problem import CoverageRequirement, Plan, PlanCheck, PlanningProblem, SideConstraint
from .solve import SolverOptions

__all__ = [
    "CoLocationModel",
    "CoverageRequirement",
    "Plan",
    "PlanCheck",
    "PlanningProblem",
    "SideConstraint",
    "Solution",
    "SolverOptions",
]
