"""Exceptions raised by totalcapital.

Every error a user can cause is a :class:`TotalCapitalError`; the CLI prints its
message as readable text and exits non-zero, never with a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class TotalCapitalError(Exception):
    """Base class of every error that is the input's fault, not the program's."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file: where it is, what was expected, what was found."""

    file: str
    row_id: str | None
    column: str | None
    expected: str
    found: str

    def __str__(self) -> str:
        where = self.file
        if self.row_id is not None:
            where += f", id {self.row_id}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: expected {self.expected}, found {self.found}"


class EstateValidationError(TotalCapitalError, ValueError):
    """An estate register (sites, services, demand) has one or more problems.

    ``problems`` lists every problem found in one pass, so a user fixes them all at once.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in the estate register:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ScenarioError(TotalCapitalError, ValueError):
    """A scenario file is missing, malformed or refers to something that does not exist."""


class InfeasibleScenario(TotalCapitalError):
    """No plan satisfies the scenario's standards and constraints.

    ``reasons`` are plain-language statements naming the standard or constraint,
    the places involved and the size of the shortfall; ``relaxations`` the same as data
    (:class:`totalcapital.model.diagnose.Relaxation`) when a relaxed solve found them.
    """

    def __init__(self, scenario: str, reasons: list[str], relaxations: list | tuple = ()):
        self.scenario = scenario
        self.reasons = list(reasons)
        self.relaxations = list(relaxations)
        lines = [f"Scenario '{scenario}' is infeasible:"]
        lines += [f"  - {r}" for r in self.reasons]
        super().__init__("\n".join(lines))


class SolverError(TotalCapitalError):
    """The solver stopped without a usable solution (other than infeasibility)."""


class OutputError(TotalCapitalError):
    """An output cannot be written without losing a file: it is an input, or someone else's."""


class ResultFolderError(TotalCapitalError):
    """A result folder is missing, damaged, interrupted, or holds values that are not safe."""
