"""Which scheduled slots are due: the daily and weekly moments, on working days only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from storage.worktime import WorkCalendar


def due_slots(
    calendar: WorkCalendar,
    last_processed: date | None,
    now: datetime,
    at: time,
    *,
    weekday: int | None = None,
) -> list[date]:
    """List the slot days to handle now, oldest first; empty until a slot may send.

    A slot is `at` on a working day (with `weekday`, only the week's first working day on
    or after that weekday). Nothing is due until `now` is inside the sending window of
    today's slot; then every slot missed since `last_processed` comes too, to be gathered
    into one message per person. With no record of a last run only today's slot is due,
    so a first start never floods people with the past.
    """
    today = calendar.today(now)
    if not calendar.is_working_day(today) or not _is_weekly_slot(calendar, today, weekday):
        return []
    opens, closes = calendar.slot_window(today, at)
    if not opens <= now < closes or (last_processed is not None and last_processed >= today):
        return []
    if last_processed is None:
        return [today]
    return [
        day
        for day in calendar.working_days(last_processed, today)
        if _is_weekly_slot(calendar, day, weekday)
    ]


def _is_weekly_slot(calendar: WorkCalendar, day: date, weekday: int | None) -> bool:
    """Tell whether `day` is its week's slot: the first working day on or after `weekday`."""
    if weekday is None:
        return True
    if day.weekday() < weekday:
        return False
    target = day - timedelta(days=day.weekday() - weekday)
    return calendar.working_day_on_or_after(target) == day
