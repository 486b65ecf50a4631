"""Reporting periods: a calendar month named YYYY-MM."""

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

    def __str__(self) -> str:
        return self.label
