"""The time split every fitted piece honours: the latest renewals are kept out of every fit.

Past renewals are sorted by date and the latest `scorecard.test_share` of them (default: a third)
are kept out. The cut is the first renewal date of that share: the signal search, the scorecard's
tiers, weights and bands are fitted on renewals dated before the cut and judged *out of time* on
renewals dated on or after it. Signals are measured `lead_time_days` before each renewal from
records dated before that moment, and outcomes of renewals before the cut are known before it, so
nothing dated on or after the cut reaches a fit. The cut is computed from every renewal with an
outcome up to the period end, so the churn correlation notebook and the back-test cut at the same
day.

Inside the fit renewals, `folds` cuts time again, for choices that must themselves be judged on
renewals they were not made on (the number of tiers, whether the composite beats its best measure,
the bands): fold f is validated on after being fitted on folds before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from kit.errors import KitError


@dataclass(frozen=True)
class Split:
    cut: date
    fit: pl.DataFrame  # renewals dated before the cut
    test: pl.DataFrame  # renewals dated on or after it

    def describe(self) -> dict[str, Any]:
        def part(f: pl.DataFrame) -> dict[str, Any]:
            return {"from": f["renewal_date"].min(), "to": f["renewal_date"].max(), "renewals": f.height,
                    "churned": int((f["churned"].cast(pl.Float64) >= 0.5).sum())}
        return {"cut": self.cut, "fitted_on": part(self.fit), "evaluated_on": part(self.test)}


def cut_date(renewal_dates: pl.Series, test_share: float) -> date:
    """The first renewal date of the latest `test_share` of renewals (renewals of one date stay together)."""
    if renewal_dates.len() == 0:
        raise KitError("no renewal to split", where="split", fix="the fit needs past renewals with a known outcome")
    dates = renewal_dates.sort()
    return dates[min(dates.len() - 1, int(math.floor(dates.len() * (1 - test_share))))]


def split(frame: pl.DataFrame, cut: date) -> Split:
    """Renewals dated before the cut (fit) and on or after it (test)."""
    return Split(cut, frame.filter(pl.col("renewal_date") < cut), frame.filter(pl.col("renewal_date") >= cut))


def folds(renewal_dates: np.ndarray | pl.Series, k: int) -> np.ndarray:
    """Fold number (0 = earliest) of each renewal: k blocks of about equal size in date order, renewals of
    one date in one block."""
    d = np.asarray(renewal_dates.to_numpy() if isinstance(renewal_dates, pl.Series) else renewal_dates)
    # a renewal's place in date order; renewals sharing a date take the place of the first of them
    first = np.searchsorted(np.sort(d, kind="stable"), d, side="left")
    return np.minimum(first * k // max(len(d), 1), k - 1)
