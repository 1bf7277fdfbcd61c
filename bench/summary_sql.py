"""The summary's totals by one hand-written query: the yardstick `bench/aggregate.py` times
`summary()` against, and the tests hold equal to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import Date, bindparam, literal_column, text
from sqlalchemy.orm import Session

from storage.aggregate.codes import field_code_sql
from storage.aggregate.summary import Summary, Tally, day_bounds, fold_tallies, period_of
from storage.types import UTCDateTime

_SUMMARY_SQL = """
SELECT field, agency_id, category, count(*), sum(percent), sum(reported), sum(past_due),
       sum(blocked)
FROM (
  SELECT {field} AS field, a.agency_id AS agency_id,
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
  WHERE a.archived_at IS NULL AND i.archived_at IS NULL {programme}
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
    period_start: date | None = None,
    period_end: date | None = None,
    programme_code: str | None = None,
) -> Figures:
    """The same totals as summary() by one hand-written query."""
    dialect = session.get_bind().dialect
    field = field_code_sql(literal_column("i.code")).compile(dialect=dialect)
    sql = _SUMMARY_SQL.format(
        field=field,
        programme=""
        if programme_code is None
        else "AND i.programme_id = (SELECT id FROM programme WHERE code = :programme)",
    )
    start, end = day_bounds(*period_of(today, period_start, period_end), tz)
    params: dict[str, Any] = {"today": today, "start": start, "end": end}
    statement = text(sql).bindparams(
        bindparam("today", type_=Date()),
        bindparam("start", type_=UTCDateTime()),
        bindparam("end", type_=UTCDateTime()),
    )
    if programme_code is not None:
        params["programme"] = programme_code
    fields, agencies = fold_tallies(session.execute(statement, params))
    return Figures(sum(fields.values(), Tally()), fields, agencies)
