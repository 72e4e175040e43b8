"""Financial years, discounting, and the epochs in which a dated plan can change.

Public bodies account by financial year, 1 April to 31 March; FY 2028-29 is written "2028-29"
and numbered 2028 here. The plan's first year is the first financial year to start on or
after ``finance.start_date`` (see :func:`first_financial_year`); the planning window runs
``programme.years`` years from it, and the rest of the appraisal horizon
(``finance.horizon_years``) is a tail in which nothing changes.

Discounting follows the HM Treasury Green Book convention the timeless model already used:
running costs are paid at the end of each year (the annuity factor F is the sum of those
factors), one-off sums (receipts, builds, moves, exit costs) at the start of the year they
happen, so anything in the first year is undiscounted.

An **epoch** is a run of years in which the plan cannot change: a year in which a lease can
break or expire, a new build can open, or (when a budget or disposal limit applies per year)
every year, starts a new one. Sites, services, cover and money are then modelled per epoch,
not per year, which keeps a ten-year programme close to the size of the timeless model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

__all__ = ["Epochs", "FinancialYears", "financial_year_of"]


def financial_year_of(day: date | pd.Timestamp) -> int:
    """The financial year holding ``day``, by its starting calendar year (1 April - 31 March)."""
    day = pd.Timestamp(day)
    return int(day.year if day.month >= 4 else day.year - 1)


def first_financial_year(start: date | pd.Timestamp) -> int:
    """The programme's first financial year: the first to start on or after ``start``. A
    plan cannot act, nor save, in a year that is partly gone before it starts."""
    day = pd.Timestamp(start)
    year = financial_year_of(day)
    return year if (day.month, day.day) == (4, 1) else year + 1


def fy_label(year: int) -> str:
    """2028 -> "2028-29"."""
    return f"{year}-{(year + 1) % 100:02d}"


@dataclass(frozen=True)
class FinancialYears:
    """The appraisal's years: the first financial year, the window, the horizon, the rate.

    Attributes
    ----------
    first : int
        The first financial year (its starting calendar year).
    window : int
        Years in which the plan may change (T).
    horizon : int
        Years appraised in all (H >= T); years T..H-1 are the tail.
    rate : float
        Annual discount rate.
    """

    first: int
    window: int
    horizon: int
    rate: float

    @property
    def years(self) -> np.ndarray:
        """Offsets 0..T-1 of the window's years."""
        return np.arange(self.window)

    def label(self, offset: int) -> str:
        return fy_label(self.first + int(offset))

    def start_factor(self, offset: np.ndarray | int) -> np.ndarray:
        """Discount factor of a one-off sum paid at the start of year ``offset``."""
        return (1.0 + self.rate) ** -np.asarray(offset, dtype=float)

    def end_factor(self, offset: np.ndarray | int) -> np.ndarray:
        """Discount factor of a running cost of year ``offset`` (paid at its end)."""
        return (1.0 + self.rate) ** -(np.asarray(offset, dtype=float) + 1.0)

    def running_factor(self, start: int, stop: int) -> float:
        """Present value of £1 a year paid for years ``start`` .. ``stop - 1``."""
        if stop <= start:
            return 0.0
        return float(self.end_factor(np.arange(start, stop)).sum())

    @property
    def horizon_factor(self) -> float:
        """Discount factor at the end of the horizon (for residual values)."""
        return float((1.0 + self.rate) ** -float(self.horizon))

    def offset_of(self, day: date | pd.Timestamp) -> int:
        """Offset of the first financial year starting on or after ``day``.

        A lease whose break falls in June 2030 is paid for until 31 March 2031: the plan counts
        whole years, and never saves rent before the lease has ended.
        """
        day = pd.Timestamp(day)
        year = financial_year_of(day)
        starts_on = pd.Timestamp(year=year, month=4, day=1)
        return year - self.first + (0 if day == starts_on else 1)


@dataclass(frozen=True)
class Epochs:
    """Runs of years in which nothing can change; epoch ``e`` covers years ``start[e]`` to
    ``start[e+1] - 1`` (the last to the window's end, with the horizon's tail after it).

    Attributes
    ----------
    years : FinancialYears
    start : numpy.ndarray of int
        First year offset of each epoch; ``start[0] == 0``.
    timeless : bool
        The timeless model (build times ignored), as opposed to a dated programme that
        happens to need a single epoch.
    """

    years: FinancialYears
    start: np.ndarray
    timeless: bool = False

    @classmethod
    def single(cls, years: FinancialYears) -> Epochs:
        """The timeless model: one decision at the start, new builds host at once."""
        return cls(years, np.array([0]), timeless=True)

    @classmethod
    def around(cls, years: FinancialYears, events: list[int], build_years: list[int]) -> Epochs:
        """Epochs starting at year 0, at each event year and where a new build can open.

        ``events`` are year offsets at which something can change (lease breaks and expiries);
        a build started at an epoch's start opens ``build_years`` later, which must start an
        epoch too (repeated until nothing new falls in the window).
        """
        starts = {0} | {int(e) for e in events if 0 < e < years.window}
        lags = sorted({int(b) for b in build_years if b > 0})
        frontier = set(starts)
        while frontier and lags:
            found = {s + lag for s in frontier for lag in lags if s + lag < years.window}
            frontier = found - starts
            starts |= found
        return cls(years, np.array(sorted(starts)))

    @classmethod
    def every_year(cls, years: FinancialYears) -> Epochs:
        return cls(years, np.arange(years.window))

    @property
    def count(self) -> int:
        return len(self.start)

    @property
    def stop(self) -> np.ndarray:
        """One past the last year of each epoch (the window's end for the last)."""
        return np.append(self.start[1:], self.years.window)

    @property
    def labels(self) -> list[str]:
        """Financial year of each epoch's start ("2028-29")."""
        return [self.years.label(s) for s in self.start]

    @property
    def start_factor(self) -> np.ndarray:
        """Discount factor of one-off sums at each epoch's start."""
        return self.years.start_factor(self.start)

    @property
    def running_factor(self) -> np.ndarray:
        """PV of £1 a year over each epoch; the last epoch carries the horizon's tail."""
        factors = np.array(
            [self.years.running_factor(a, b) for a, b in zip(self.start, self.stop, strict=True)]
        )
        factors[-1] += self.years.running_factor(self.years.window, self.years.horizon)
        return factors

    def epoch_of(self, offset: int) -> int:
        """The epoch holding year ``offset`` (the last epoch for years past the window)."""
        return int(np.searchsorted(self.start, offset, side="right") - 1)

    def available_from(self, build_years: np.ndarray) -> np.ndarray:
        """Per site and epoch, the epoch whose build start lets the site host: -1 if none.

        A build started at epoch ``e'`` opens ``build_years`` later: it hosts in epoch ``e``
        when ``start[e'] + build_years <= start[e]``.
        """
        build_years = np.asarray(build_years, dtype=int)
        latest = self.start[None, :] - build_years[:, None]
        # The last epoch starting no later than ``latest``.
        index = np.searchsorted(self.start, latest, side="right") - 1
        return np.where(latest >= 0, index, -1)
