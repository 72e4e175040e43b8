"""totalcapital: plan co-location, rationalisation and disposals across a place's public estate."""

from __future__ import annotations

from ._errors import (
    EstateValidationError,
    InfeasibleScenario,
    Problem,
    ScenarioError,
    SolverError,
    TotalCapitalError,
)
from .estate import Estate, load_estate
from .scenario import Scenario, load_scenario

__version__ = "0.1.0"

__all__ = [
    "Estate",
    "EstateValidationError",
    "InfeasibleScenario",
    "Problem",
    "Scenario",
    "ScenarioError",
    "SolverError",
    "TotalCapitalError",
    "__version__",
    "load_estate",
    "load_scenario",
]
