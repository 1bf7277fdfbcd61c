"""What the scheduler reads from config.toml: [reminders] and [digests], and what it is given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field

from storage.settings import Section
from storage.worktime import WorkCalendar


class ReminderSettings(Section):
    days_before: list[int] = [7, 3, 1]
    on_due_day: bool = True
    overdue_every_working_days: int = Field(default=2, ge=1)
    # Overdue this many working days: the agency's head and the programme's coordinating
    # office of the locality are told.
    escalate_after_days: int = Field(default=5, ge=1)
    # Still overdue this many working days: the locality's Vice-Chair of the programme is
    # told (0: never).
    escalate_to_vice_chair_after_days: int = Field(default=15, ge=0)
    work_start: time = time(8, 0)
    work_end: time = time(17, 0)
    send_at: time = time(8, 30)
    # A programme's periodic report is due on this day of the month unless its file says
    # `report_due_day`; which days a period covers is the programme's (storage/periods.py).
    cycle_day: int = Field(default=25, ge=1, le=28)
    cycle_reminder_days_before: list[int] = [5, 1]  # before a period's report is due
    extra_holidays: list[date] = []
    extra_workdays: list[date] = []


class DigestSettings(Section):
    vice_chair_weekday: int = Field(default=0, ge=0, le=6)
    vice_chair_at: time = time(7, 30)
    coordinator_at: time = time(16, 30)
    coordinator_daily: bool = True
    chart: bool = True


@dataclass(frozen=True)
class SchedulerSettings:
    """Everything the scheduler service reads, composed by bot.config from the file."""

    tz: ZoneInfo
    data_dir: Path
    reminders: ReminderSettings = ReminderSettings()
    digests: DigestSettings = DigestSettings()
    idle_minutes: int = 30  # a half-finished conversation expires after this ([conversation])

    def work_calendar(self) -> WorkCalendar:
        """The working calendar of [reminders]: its hours, extra days off and swapped days."""
        return WorkCalendar(
            self.tz,
            self.reminders.work_start,
            self.reminders.work_end,
            self.reminders.extra_holidays,
            self.reminders.extra_workdays,
        )
