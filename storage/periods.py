"""The reporting period (kỳ báo cáo): one definition for every view, reminder and report.

State bodies count periodic-report data by the cut-off of Decree 09/2019/NĐ-CP, Article 12:
a month runs from the 15th of the previous month to the 14th; a quarter from the 15th of the
month before it to the 14th of its last month; a half-year from 15 December (15 June) to 14
June (14 December); a year from 15 December of the previous year to 14 December. Others use
calendar periods. A programme says which rule it uses and on which day of the month its
report is due; everything that speaks of "this period" asks this module.

A report counts for the period whose *window* holds its local date: from the day after the
previous period's deadline to this period's deadline. The windows cut time into pieces, so
every report belongs to exactly one period.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol


class Cadence(StrEnum):
    """How often a programme (or one assignment) reports."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    YEARLY = "yearly"
    NONE = "none"


class PeriodRule(StrEnum):
    """Where a period's data begins and ends."""

    DECREE_09 = "decree-09"
    CALENDAR = "calendar"


MONTHS: dict[str, int] = {
    Cadence.MONTHLY: 1,
    Cadence.QUARTERLY: 3,
    Cadence.SEMIANNUAL: 6,
    Cadence.YEARLY: 12,
}
KIND_OF: dict[int, str] = {1: "month", 3: "quarter", 6: "half", 12: "year"}
DECREE_CUT_OFF = 14  # the last day of a period's data under Decree 09/2019/NĐ-CP


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period: what it covers (start..end) and when its report is due."""

    start: date
    end: date
    due: date
    months: int  # 1, 3, 6 or 12
    year: int  # the year the period is named for
    index: int  # month 1–12, quarter 1–4, half 1–2, or 1 for a year
    rule: PeriodRule
    due_day: int

    @property
    def kind(self) -> str:
        """month | quarter | half | year."""
        return KIND_OF[self.months]

    @property
    def key(self) -> str:
        """A stable name: 2019-12, 2019-Q4, 2019-H2 or 2019."""
        if self.months == 1:
            return f"{self.year}-{self.index:02d}"
        if self.months == 3:
            return f"{self.year}-Q{self.index}"
        if self.months == 6:
            return f"{self.year}-H{self.index}"
        return str(self.year)

    def previous(self) -> Period:
        return _named(self.year, self.index - 1, self.months, self.rule, self.due_day)

    def next(self) -> Period:
        return _named(self.year, self.index + 1, self.months, self.rule, self.due_day)

    @property
    def window_start(self) -> date:
        """The first local date a report counts for this period (the day after the last due)."""
        return self.previous().due + timedelta(days=1)

    def holds_report(self, day: date) -> bool:
        """Tell whether a report made on local date `day` counts for this period."""
        return self.window_start <= day <= self.due


def period_for(
    day: date,
    cadence: str,
    rule: str = PeriodRule.DECREE_09,
    due_day: int = 25,
) -> Period | None:
    """Return the period whose report window holds `day` (None for cadence "none")."""
    months = MONTHS.get(cadence)
    if months is None:
        return None
    rule = PeriodRule(rule)
    period = _named(day.year, _index_of(day, months), months, rule, due_day)
    while day > period.due:
        period = period.next()
    while day < period.window_start:
        period = period.previous()
    return period


def covering(
    day: date, cadence: str, rule: str = PeriodRule.DECREE_09, due_day: int = 25
) -> Period | None:
    """Return the period whose data (start..end) holds `day`."""
    months = MONTHS.get(cadence)
    if months is None:
        return None
    rule = PeriodRule(rule)
    period = _named(day.year, _index_of(day, months), months, rule, due_day)
    while day > period.end:
        period = period.next()
    while day < period.start:
        period = period.previous()
    return period


def parse_period(text: str, rule: str = PeriodRule.DECREE_09, due_day: int = 25) -> Period:
    """Read 2019-12, 2019-Q4, 2019-H2 or 2019; raise ValueError with the accepted forms."""
    match = _PERIOD.fullmatch(text.strip().upper())
    if match is None:
        raise ValueError(f"{text!r}: write a period as 2019-12, 2019-Q4, 2019-H2 or 2019")
    year = int(match["year"])
    rule = PeriodRule(rule)
    if match["month"]:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r}: a month is 01 to 12")
        return _named(year, month, 1, rule, due_day)
    if match["quarter"]:
        return _named(year, int(match["quarter"]), 3, rule, due_day)
    if match["half"]:
        return _named(year, int(match["half"]), 6, rule, due_day)
    return _named(year, 1, 12, rule, due_day)


_PERIOD = re.compile(
    r"(?P<year>\d{4})(?:-(?:(?P<month>\d{1,2})|Q(?P<quarter>[1-4])|H(?P<half>[12])))?"
)


def _index_of(day: date, months: int) -> int:
    return (day.month - 1) // months + 1


def _named(year: int, index: int, months: int, rule: PeriodRule, due_day: int) -> Period:
    """Build the period `index` of `year` (an index out of range rolls into the next year)."""
    per_year = 12 // months
    year += (index - 1) // per_year
    index = (index - 1) % per_year + 1
    last_month = index * months  # the calendar month the period is named to end in
    first_month = last_month - months + 1
    if rule is PeriodRule.DECREE_09:
        start = _shift(date(year, first_month, DECREE_CUT_OFF + 1), -1)
        end = date(year, last_month, DECREE_CUT_OFF)
    else:
        start = date(year, first_month, 1)
        end = date(year, last_month, calendar.monthrange(year, last_month)[1])
    return Period(start, end, _due(end, due_day), months, year, index, rule, due_day)


def _due(end: date, due_day: int) -> date:
    """The first date on or after `end` that falls on `due_day` of its month."""
    candidate = end.replace(day=min(due_day, calendar.monthrange(end.year, end.month)[1]))
    if candidate >= end:
        return candidate
    following = _shift(end.replace(day=1), 1)
    return following.replace(
        day=min(due_day, calendar.monthrange(following.year, following.month)[1])
    )


def _shift(day: date, months: int) -> date:
    """The same day `months` calendar months later (day kept; callers use days ≤ 28)."""
    total = day.year * 12 + day.month - 1 + months
    return day.replace(year=total // 12, month=total % 12 + 1)


class PeriodSettings(Protocol):
    """What a programme says about its periods (a `Programme` row has these)."""

    @property
    def cadence(self) -> str: ...
    @property
    def periods(self) -> str: ...
    @property
    def report_due_day(self) -> int | None: ...


def current_period(
    programme: PeriodSettings, day: date, default_due_day: int = 25, cadence: str | None = None
) -> Period:
    """The programme's period whose report window holds `day` ("this period").

    A programme (or assignment `cadence`) that reports on no cycle is still looked at month by
    month, so that a response rate and "not reported yet" keep a meaning.
    """
    wanted = cadence or programme.cadence
    if wanted not in MONTHS:
        wanted = Cadence.MONTHLY
    period = period_for(day, wanted, programme.periods, programme.report_due_day or default_due_day)
    assert period is not None
    return period
