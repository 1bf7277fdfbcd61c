"""The summary's totals by one hand-written query: the yardstick `bench/aggregate.py` times
`summary()` against, and the tests hold equal to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from storage.aggregate.summary import Summary, Tally, day_bounds, fold_tallies, the_programme
from storage.periods import Period, current_period
from storage.types import UTCDateTime

_SUMMARY_SQL = """
SELECT field, agency_id, category, count(*), sum(percent), sum(reported), sum(past_due),
       sum(blocked)
FROM (
  SELECT i.field_code AS field, a.agency_id AS agency_id,
    CASE
      WHEN a.current_status IS NULL THEN 'not_reported'
      WHEN a.current_status = 'done' THEN
        CASE WHEN a.due_date IS NULL OR a.completed_on IS NULL OR a.completed_on <= a.due_date
             THEN 'done_on_time' ELSE 'done_late' END
      WHEN a.due_date IS NOT NULL AND a.due_date < :today THEN 'in_progress_overdue'
      ELSE 'in_progress_on_time'
    END AS category,
    coalesce(a.current_percent, 0) AS percent,
    CASE WHEN a.last_reported_at >= :start AND (a.last_reported_at < :end OR a.id IN (
           SELECT r.assignment_id FROM report r
           WHERE r.created_at >= :start AND r.created_at < :end))
         THEN 1 ELSE 0 END AS reported,
    CASE WHEN a.due_date < :today THEN 1 ELSE 0 END AS past_due,
    CASE WHEN a.current_status = 'blocked' THEN 1 ELSE 0 END AS blocked
  FROM assignment a JOIN item i ON i.id = a.item_id
  WHERE a.archived_at IS NULL AND i.archived_at IS NULL AND i.programme_id = :programme
) per
GROUP BY field, agency_id, category
"""


@dataclass(frozen=True)
class Figures:
    """The totals summary() and summary_sql() both compute: overall, per field (by code)
    and per agency (by id)."""

    overall: Tally
    by_field: dict[str, Tally]
    by_agency: dict[int, Tally]


def figures_of(summary: Summary) -> Figures:
    """The totals of a summary, comparable with `summary_sql`."""
    return Figures(
        summary.overall,
        {g.code: g.tally for g in summary.by_field},
        {g.agency_id: g.tally for g in summary.by_agency if g.agency_id is not None},
    )


def summary_sql(
    session: Session,
    today: date,
    *,
    tz: tzinfo,
    programme_code: str | None = None,
    period: Period | None = None,
) -> Figures:
    """The same totals as summary() by one hand-written query."""
    programme = the_programme(session, programme_code)
    period = period or current_period(programme, today)
    start, end = day_bounds(period.window_start, period.due, tz)
    params: dict[str, Any] = {
        "today": today,
        "start": start,
        "end": end,
        "programme": programme.id,
    }
    statement = text(_SUMMARY_SQL).bindparams(
        bindparam("today", type_=Date()),
        bindparam("start", type_=UTCDateTime()),
        bindparam("end", type_=UTCDateTime()),
    )
    fields, agencies = fold_tallies(session.execute(statement, params))
    return Figures(sum(fields.values(), Tally()), fields, agencies)
