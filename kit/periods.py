"""Reporting periods: a calendar month named YYYY-MM, and ranges of them (`2025-11..2026-10`)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from kit.errors import ParametersError

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str | None) -> "Period":
        """`YYYY-MM`, or None for the last complete month."""
        if text is None or text == "":
            return cls.last_complete()
        m = _PERIOD.match(str(text).strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ParametersError(
                f"period {text!r} is not a month", where="--period", fix="write it as YYYY-MM, e.g. 2026-10", code="bad_period"
            )
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def last_complete(cls, today: date | None = None) -> "Period":
        today = today or date.today()
        first = today.replace(day=1)
        prev = first - timedelta(days=1)
        return cls(prev.year, prev.month)

    @classmethod
    def containing(cls, day: date) -> "Period":
        return cls(day.year, day.month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """Last day of the month (inclusive)."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def closes_quarter(self) -> bool:
        return self.month % 3 == 0

    def previous(self, n: int = 1) -> "Period":
        idx = self.year * 12 + (self.month - 1) - n
        return Period(idx // 12, idx % 12 + 1)

    def next(self, n: int = 1) -> "Period":
        return self.previous(-n)

    def until(self, last: "Period") -> list["Period"]:
        """This month, the months after it, and `last` (empty if `last` is earlier)."""
        out, p = [], self
        while p <= last:
            out.append(p)
            p = p.next()
        return out

    @property
    def next_quarter_close(self) -> "Period":
        """The first month after this one that closes a quarter."""
        return next(p for p in (self.next(i) for i in range(1, 4)) if p.closes_quarter)

    def __str__(self) -> str:
        return self.label


RANGE_SEPARATOR = ".."
MAX_MONTHS = 120  # a range longer than ten years is a typo


def months(period: str | None = None, since: int | None = None, *, today: date | None = None) -> list[Period]:
    """The months a run covers, in order: `period` is YYYY-MM or a range FIRST..LAST (both included);
    `since` N is the last N complete months; neither: the last complete month."""
    if period and since is not None:
        raise ParametersError("give --period or --since, not both", where="--since", code="bad_period",
                              fix="e.g. --period 2025-11..2026-10, or --since 12 for the last twelve complete months")
    if since is not None:
        if not 1 <= since <= MAX_MONTHS:
            raise ParametersError(f"--since {since} is not a number of months from 1 to {MAX_MONTHS}", where="--since",
                                  fix="e.g. --since 12 for the last twelve complete months", code="bad_period")
        last = Period.last_complete(today)
        return last.previous(since - 1).until(last)
    if period and RANGE_SEPARATOR in period:
        first_text, _, last_text = str(period).partition(RANGE_SEPARATOR)
        if not first_text.strip() or not last_text.strip():
            raise ParametersError(f"the range {period!r} needs a first and a last month", where="--period",
                                  fix="write it as FIRST..LAST, e.g. 2025-11..2026-10", code="bad_period")
        first, last = Period.parse(first_text), Period.parse(last_text)
        if last < first:
            raise ParametersError(f"the range {period} ends before it starts", where="--period",
                                  fix=f"write the earlier month first: --period {last.label}..{first.label}", code="bad_period")
        covered = first.until(last)
        if len(covered) > MAX_MONTHS:
            raise ParametersError(f"the range {period} covers {len(covered)} months (at most {MAX_MONTHS})", where="--period",
                                  fix="check the years of the range", code="bad_period")
        return covered
    return [Period.parse(period)]
