"""The values typed on the command line: one reader for days, moments, durations, counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.cli import values
from bot.cli.people import ROLES
from bot.cli.values import BadValue
from storage.models import Role


@pytest.mark.parametrize("text", ["30/12/2019", "2019-12-30", " 30/12/2019 "])
def test_a_day_reads_as_offices_and_iso_write_it(text: str) -> None:
    assert values.day(text) == date(2019, 12, 30)


@pytest.mark.parametrize("text", ["2019-13-01", "31/02/2020", "30.12.2019", "hôm nay", ""])
def test_a_day_that_is_no_day_is_a_bad_value(text: str) -> None:
    assert values.day(text) == BadValue("day", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30/12/2019 08:00", datetime(2019, 12, 30, 8, 0)),
        ("2019-12-30 08:00", datetime(2019, 12, 30, 8, 0)),
        ("2019-12-30T08:00", datetime(2019, 12, 30, 8, 0)),
        ("27/01/2020", datetime(2020, 1, 27, 9, 0)),  # a bare day: office hours start
        ("2020-01-27", datetime(2020, 1, 27, 9, 0)),
        ("2019-12-30 08:00:30", datetime(2019, 12, 30, 8, 0, 30)),
    ],
)
def test_a_moment_is_local_and_a_bare_day_means_nine(text: str, expected: datetime) -> None:
    assert values.moment(text) == expected


def test_a_moment_keeps_an_offset_it_was_given() -> None:
    parsed = values.moment("2019-12-30T08:00:00+07:00")
    assert isinstance(parsed, datetime) and parsed.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize("text", ["30/12/2019 8h", "2019-12-30 25:00", "mai", "12/30/2019"])
def test_a_moment_that_cannot_be_read_is_a_bad_value(text: str) -> None:
    assert values.moment(text) == BadValue("moment", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7d", timedelta(days=7)), ("48h", timedelta(hours=48)), ("2W", timedelta(weeks=2))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert values.duration(text) == expected


@pytest.mark.parametrize("text", ["7", "0d", "7 ngày", "-1d", "1.5d"])
def test_bad_durations(text: str) -> None:
    assert values.duration(text) == BadValue("duration", text)


def test_counts_and_speeds_must_be_positive() -> None:
    assert values.count("3") == 3
    assert [values.count(t) for t in ("0", "-2", "ba")] == [
        BadValue("count", t) for t in ("0", "-2", "ba")
    ]
    assert values.speed("3600") == 3600.0 and values.speed("0.5") == 0.5
    assert values.speed("0") == BadValue("speed", "0")


def test_the_invite_roles_are_the_stores_roles() -> None:
    """Spelled out so `tiendo --help` loads no SQLAlchemy; they must not drift apart."""
    assert tuple(Role) == ROLES
