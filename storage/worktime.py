"""Working days and hours in Viet Nam: when the scheduler may speak to people, and how late
work is (overdue is counted in working days everywhere)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

WEEKEND = frozenset({5, 6})  # Saturday, Sunday
SLOT_GRACE = timedelta(hours=2)  # a slot set near closing time may still go out this long
_MAX_SCAN_DAYS = 400  # no real calendar has a longer run of days off


class WorkCalendar:
    """Monday–Friday working days minus Vietnamese public holidays, Tết included."""

    def __init__(
        self,
        tz: ZoneInfo | str,
        work_start: time,
        work_end: time,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
    ) -> None:
        if work_start >= work_end:
            raise ValueError(f"work_start {work_start} must be before work_end {work_end}")
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.work_start = work_start
        self.work_end = work_end
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        self._official = holidays.country_holidays("VN", language="vi")
        self._cache: dict[date, bool] = {}
        self._span: tuple[date, date] | None = None
        self._ranks: list[int] = []

    def holiday_name(self, day: date) -> str | None:
        """Name the public holiday on `day` in Vietnamese ("Mùng ba Tết Nguyên Đán"), if any."""
        if day in self.extra_holidays:
            return "ngày nghỉ"
        name = self._official.get(day)
        return str(name) if name else None

    def is_working_day(self, day: date) -> bool:
        """Tell whether offices work on `day` (weekday, not a holiday, or a swapped workday)."""
        cached = self._cache.get(day)
        if cached is None:
            if day in self.extra_workdays:
                cached = True
            elif day in self.extra_holidays:
                cached = False
            else:
                cached = bool(self._official.is_working_day(day))
            self._cache[day] = cached
        return cached

    def local(self, moment: datetime) -> datetime:
        """Return an aware moment on the local (Hà Nội) clock."""
        if moment.tzinfo is None:
            raise ValueError("an aware datetime is needed")
        return moment.astimezone(self.tz)

    def today(self, moment: datetime) -> date:
        """Return the local calendar date of an aware moment."""
        return self.local(moment).date()

    def at(self, day: date, clock_time: time) -> datetime:
        """Return `day` at `clock_time` on the local clock, as aware UTC."""
        return datetime.combine(day, clock_time, self.tz).astimezone(UTC)

    def is_working_time(self, moment: datetime) -> bool:
        """Tell whether `moment` falls inside working hours on a working day."""
        local = self.local(moment)
        return (
            self.is_working_day(local.date())
            and self.work_start <= local.time().replace(tzinfo=None) < self.work_end
        )

    def next_working_day(self, day: date) -> date:
        """Return the first working day strictly after `day`."""
        return self.add_working_days(day, 1)

    def previous_working_day(self, day: date) -> date:
        """Return the last working day strictly before `day`."""
        return self.add_working_days(day, -1)

    def working_day_on_or_after(self, day: date) -> date:
        """Return `day` if it is a working day, else the next one."""
        return day if self.is_working_day(day) else self.next_working_day(day)

    def next_working_slot(self, moment: datetime, at: time) -> datetime:
        """Return the next `at` on a working day: today's if still ahead, else a later day's."""
        today = self.today(moment)
        if self.is_working_day(today) and self.at(today, at) >= moment:
            return self.at(today, at)
        return self.at(self.next_working_day(today), at)

    def slot_window(self, day: date, at: time) -> tuple[datetime, datetime]:
        """Return when a slot's messages may go: from `at` to the end of the working day
        (or SLOT_GRACE after `at` when that is later, for a slot set near closing time)."""
        start = self.at(day, at)
        return start, max(self.at(day, self.work_end), start + SLOT_GRACE)

    def add_working_days(self, day: date, n: int) -> date:
        """Move `n` working days forward (or back if negative) from `day`."""
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        current = day
        scanned = 0
        while remaining:
            current += timedelta(days=step)
            scanned += 1
            if scanned > _MAX_SCAN_DAYS * max(1, abs(n)):
                raise ValueError(f"no working day found near {day}")
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days after `start` up to and including `end` (negative if reversed)."""
        return self._rank(end) - self._rank(start)

    def _rank(self, day: date) -> int:
        """Number working days from an anchor, so counting between two days is a subtraction."""
        if self._span is None or not self._span[0] <= day <= self._span[1]:
            low = min(day, self._span[0]) if self._span else day
            high = max(day, self._span[1]) if self._span else day
            low, high = low - timedelta(days=366), high + timedelta(days=366)
            ranks, total = [], 0
            for offset in range((high - low).days + 1):
                total += self.is_working_day(low + timedelta(days=offset))
                ranks.append(total)
            self._span, self._ranks = (low, high), ranks
        return self._ranks[(day - self._span[0]).days]

    def working_days(self, after: date, until: date) -> list[date]:
        """List the working days after `after` up to and including `until`."""
        return [
            after + timedelta(days=offset)
            for offset in range(1, (until - after).days + 1)
            if self.is_working_day(after + timedelta(days=offset))
        ]
