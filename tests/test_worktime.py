"""Working days in Viet Nam: weekends, Tết, Giỗ Tổ, 2 September, swapped workdays."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduler.slots import due_slots
from storage.worktime import WorkCalendar
from tests.conftest import hanoi
from tests.harness import HANOI


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar(HANOI, time(8, 0), time(17, 0))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2020, 1, 22), True),  # Wednesday before Tết
        (date(2020, 1, 23), False),  # 29 Tết
        (date(2020, 1, 24), False),  # New Year's Eve
        (date(2020, 1, 27), False),  # a Monday inside Tết
        (date(2020, 1, 29), False),  # 5th day of Tết
        (date(2020, 1, 30), True),  # back to work
        (date(2020, 4, 2), False),  # Giỗ Tổ Hùng Vương (10/3 lunar)
        (date(2020, 9, 2), False),  # National Day, a Wednesday
        (date(2020, 9, 3), True),
        (date(2019, 9, 2), False),  # National Day 2019, a Monday
        (date(2019, 12, 28), False),  # Saturday
        (date(2019, 12, 29), False),  # Sunday
        (date(2019, 5, 4), True),  # a Saturday worked in exchange for 29 April 2019
        (date(2019, 4, 29), False),
        (date(2021, 2, 12), False),  # Tết 2021
        (date(2021, 9, 3), False),  # the second National Day holiday from 2021
    ],
)
def test_working_days_follow_the_vietnamese_calendar(
    calendar: WorkCalendar, day: date, working: bool
) -> None:
    assert calendar.is_working_day(day) is working


def test_holidays_are_named_in_vietnamese(calendar: WorkCalendar) -> None:
    assert calendar.holiday_name(date(2020, 1, 27)) == "Mùng ba Tết Nguyên Đán"
    assert calendar.holiday_name(date(2020, 9, 2)) == "Quốc khánh"
    assert calendar.holiday_name(date(2020, 9, 3)) is None


def test_extra_holidays_and_workdays_override_the_official_calendar() -> None:
    calendar = WorkCalendar(
        "Asia/Ho_Chi_Minh",
        time(8),
        time(17),
        extra_holidays=[date(2020, 1, 22)],
        extra_workdays=[date(2020, 1, 25)],
    )
    assert not calendar.is_working_day(date(2020, 1, 22))
    assert calendar.is_working_day(date(2020, 1, 25))


def test_working_time_is_inside_hours_on_working_days(calendar: WorkCalendar) -> None:
    assert calendar.is_working_time(hanoi(2020, 1, 22, 8, 0))
    assert not calendar.is_working_time(hanoi(2020, 1, 22, 7, 59))
    assert not calendar.is_working_time(hanoi(2020, 1, 22, 17, 0))
    assert not calendar.is_working_time(hanoi(2020, 1, 27, 10, 0))  # Tết
    # 02:00 UTC is 09:00 in Hà Nội
    assert calendar.is_working_time(datetime(2020, 1, 22, 2, 0, tzinfo=ZoneInfo("UTC")))


def test_the_next_slot_skips_tet(calendar: WorkCalendar) -> None:
    assert calendar.next_working_slot(hanoi(2020, 1, 22, 9, 0), time(8, 30)) == hanoi(
        2020, 1, 30, 8, 30
    )
    assert calendar.next_working_slot(hanoi(2020, 1, 22, 8, 0), time(8, 30)) == hanoi(
        2020, 1, 22, 8, 30
    )
    assert calendar.next_working_slot(hanoi(2020, 1, 24, 8, 0), time(8, 30)) == hanoi(
        2020, 1, 30, 8, 30
    )
    assert calendar.next_working_slot(hanoi(2020, 9, 1, 18, 0), time(8, 30)) == hanoi(
        2020, 9, 3, 8, 30
    )


def test_counting_working_days(calendar: WorkCalendar) -> None:
    assert calendar.add_working_days(date(2020, 1, 22), 1) == date(2020, 1, 30)
    assert calendar.add_working_days(date(2020, 1, 30), -1) == date(2020, 1, 22)
    assert calendar.add_working_days(date(2020, 8, 31), 2) == date(2020, 9, 3)
    # 21, 22, 30 and 31 January: Tết takes the rest
    assert calendar.working_days_between(date(2020, 1, 20), date(2020, 1, 31)) == 4
    assert calendar.working_days_between(date(2020, 1, 31), date(2020, 1, 20)) == -4
    assert calendar.working_days_between(date(2020, 1, 22), date(2020, 1, 22)) == 0


def test_due_slots_gather_missed_working_days(calendar: WorkCalendar) -> None:
    at = time(8, 30)
    # down from Friday 17 Jan to Friday 31 Jan 2020 at 09:00: Tết days are no slots
    slots = due_slots(calendar, date(2020, 1, 17), hanoi(2020, 1, 31, 9, 0), at)
    assert slots == [
        date(2020, 1, 20),
        date(2020, 1, 21),
        date(2020, 1, 22),
        date(2020, 1, 30),
        date(2020, 1, 31),
    ]
    # a first start only does today's slot
    assert due_slots(calendar, None, hanoi(2020, 1, 31, 9, 0), at) == [date(2020, 1, 31)]
    # once done, the slot is not due again
    assert due_slots(calendar, date(2020, 1, 31), hanoi(2020, 1, 31, 9, 5), at) == []


@pytest.mark.parametrize(
    "moment",
    [
        hanoi(2020, 1, 31, 8, 0),  # before today's slot: wait for it, it gathers everything
        hanoi(2020, 1, 31, 17, 0),  # after hours: wait for the next working slot
        hanoi(2020, 2, 1, 9, 0),  # a Saturday
        hanoi(2020, 1, 27, 9, 0),  # a Monday in Tết
    ],
)
def test_nothing_is_due_outside_a_slot_window(calendar: WorkCalendar, moment: datetime) -> None:
    assert due_slots(calendar, date(2020, 1, 17), moment, time(8, 30)) == []


def test_a_late_afternoon_slot_may_send_a_little_after_closing_time(calendar: WorkCalendar) -> None:
    at = time(16, 30)
    assert due_slots(calendar, date(2020, 1, 30), hanoi(2020, 1, 31, 17, 45), at) == [
        date(2020, 1, 31)
    ]
    assert due_slots(calendar, date(2020, 1, 30), hanoi(2020, 1, 31, 18, 30), at) == []


def test_weekly_slots_move_past_a_holiday_monday(calendar: WorkCalendar) -> None:
    at = time(7, 30)
    # Monday 27 January is Tết: that week's slot is Thursday 30 January
    assert due_slots(calendar, date(2020, 1, 20), hanoi(2020, 1, 30, 8, 0), at, weekday=0) == [
        date(2020, 1, 30)
    ]
    assert due_slots(calendar, date(2020, 1, 20), hanoi(2020, 1, 31, 8, 0), at, weekday=0) == []
    # missed weeks come as one: the newest slot, listing the ones skipped
    assert due_slots(calendar, date(2020, 1, 6), hanoi(2020, 2, 3, 8, 0), at, weekday=0) == [
        date(2020, 1, 13),
        date(2020, 1, 20),
        date(2020, 1, 30),
        date(2020, 2, 3),
    ]
