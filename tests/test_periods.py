"""The one definition of a reporting period: Decree 09/2019/NĐ-CP cut-offs and calendar ones."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.periods import Cadence, PeriodRule, covering, parse_period, period_for

DECREE = PeriodRule.DECREE_09
CALENDAR = PeriodRule.CALENDAR


@pytest.mark.parametrize(
    ("key", "rule", "start", "end", "due"),
    [
        # Decree 09, Article 12: the 15th of the previous month to the 14th.
        ("2019-12", DECREE, date(2019, 11, 15), date(2019, 12, 14), date(2019, 12, 25)),
        ("2020-01", DECREE, date(2019, 12, 15), date(2020, 1, 14), date(2020, 1, 25)),
        # A quarter: the 15th of the month before it to the 14th of its last month.
        ("2019-Q4", DECREE, date(2019, 9, 15), date(2019, 12, 14), date(2019, 12, 25)),
        ("2020-Q1", DECREE, date(2019, 12, 15), date(2020, 3, 14), date(2020, 3, 25)),
        # Half-years: 15 December to 14 June, 15 June to 14 December.
        ("2020-H1", DECREE, date(2019, 12, 15), date(2020, 6, 14), date(2020, 6, 25)),
        ("2019-H2", DECREE, date(2019, 6, 15), date(2019, 12, 14), date(2019, 12, 25)),
        # A year: 15 December of the previous year to 14 December.
        ("2019", DECREE, date(2018, 12, 15), date(2019, 12, 14), date(2019, 12, 25)),
        # Calendar periods, due the month after they end.
        ("2019-12", CALENDAR, date(2019, 12, 1), date(2019, 12, 31), date(2020, 1, 25)),
        ("2020-Q1", CALENDAR, date(2020, 1, 1), date(2020, 3, 31), date(2020, 4, 25)),
        ("2019-H2", CALENDAR, date(2019, 7, 1), date(2019, 12, 31), date(2020, 1, 25)),
        ("2020-02", CALENDAR, date(2020, 2, 1), date(2020, 2, 29), date(2020, 3, 25)),
    ],
)
def test_periods_follow_the_rule(
    key: str, rule: PeriodRule, start: date, end: date, due: date
) -> None:
    period = parse_period(key, rule, due_day=25)
    assert (period.start, period.end, period.due) == (start, end, due)
    assert period.key == key


def test_a_due_day_before_the_cut_off_falls_in_the_next_month() -> None:
    december = parse_period("2019-12", DECREE, due_day=5)
    assert december.due == date(2020, 1, 5)


@pytest.mark.parametrize(
    ("day", "cadence", "key"),
    [
        # The report made on 20/12 is December's; one on 26/12 is already January's.
        (date(2019, 12, 20), Cadence.MONTHLY, "2019-12"),
        (date(2019, 12, 25), Cadence.MONTHLY, "2019-12"),
        (date(2019, 12, 26), Cadence.MONTHLY, "2020-01"),
        (date(2019, 11, 26), Cadence.MONTHLY, "2019-12"),
        (date(2019, 12, 30), Cadence.SEMIANNUAL, "2020-H1"),
        (date(2019, 10, 1), Cadence.QUARTERLY, "2019-Q4"),
        (date(2019, 12, 26), Cadence.YEARLY, "2020"),
    ],
)
def test_a_report_counts_for_the_period_whose_window_holds_it(
    day: date, cadence: Cadence, key: str
) -> None:
    period = period_for(day, cadence, DECREE, 25)
    assert period is not None and period.key == key
    assert period.holds_report(day)


def test_data_of_a_day_belongs_to_the_period_covering_it() -> None:
    period = covering(date(2019, 12, 15), Cadence.MONTHLY, DECREE, 25)
    assert period is not None and period.key == "2020-01"


def test_no_cadence_has_no_period() -> None:
    assert period_for(date(2019, 12, 1), Cadence.NONE) is None


@pytest.mark.parametrize("text", ["2019-13", "19-Q4", "2019-Q5", "2019-H3", "quý 4"])
def test_a_bad_period_is_refused_with_the_forms_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="2019-Q4|01 to 12"):
        parse_period(text)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.sampled_from([c for c in Cadence if c is not Cadence.NONE]),
    st.sampled_from(list(PeriodRule)),
    st.integers(min_value=1, max_value=28),
)
def test_windows_cut_time_into_consecutive_pieces(
    day: date, cadence: Cadence, rule: PeriodRule, due_day: int
) -> None:
    period = period_for(day, cadence, rule, due_day)
    assert period is not None
    assert period.holds_report(day)
    assert not period.previous().holds_report(day) and not period.next().holds_report(day)
    assert period.next().window_start == period.due + timedelta(days=1)
    assert period.start <= period.end <= period.due
    data = covering(day, cadence, rule, due_day)
    assert data is not None and data.start <= day <= data.end
    assert data.next().start == data.end + timedelta(days=1)
