"""Append progress reports, the one way that keeps each assignment's current state right."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, aliased

from storage.models import Assignment, Member, Report, Status

# Dates of completion are Hà Nội dates, whatever the reader's time zone.
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CHANNELS_MAX = 16


class ReportError(ValueError):
    """A report that cannot be stored; the message says what is wrong."""


def local_date(moment: datetime) -> date:
    """Return the Hà Nội calendar date of an aware moment."""
    return moment.astimezone(LOCAL_TZ).date()


def append_report(session: Session, *, assignment: Assignment, member: Member | None,
                  status: Status | str, percent: int, note: str, channel: str, at: datetime,
                  corrects_id: int | None = None) -> Report:
    """Store a new report and move the assignment's current state to it."""
    status = _valid_status(status)
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ReportError(f"percent must be a whole number from 0 to 100, got {percent!r}")
    if at.tzinfo is None:
        raise ReportError("the report time must be an aware datetime")
    if not channel or len(channel) > CHANNELS_MAX:
        raise ReportError(f"channel must be 1–{CHANNELS_MAX} characters, got {channel!r}")
    if corrects_id is not None:
        target = session.get(Report, corrects_id)
        if target is None or target.assignment_id != assignment.id:
            raise ReportError(f"report {corrects_id} is not a report of this assignment")
    # Lock the assignment row so two workers appending at once keep the run of "done" right.
    current = session.execute(
        select(Assignment.current_status, Assignment.completed_on, Assignment.last_reported_at)
        .where(Assignment.id == assignment.id)
        .with_for_update()
    ).one()
    report = Report(
        assignment_id=assignment.id,
        member_id=member.id if member is not None else None,
        agency_id=assignment.agency_id,
        agency_name=assignment.agency.name,
        status=status,
        percent=percent,
        note=note,
        channel=channel,
        corrects_id=corrects_id,
        created_at=at,
    )
    session.add(report)
    session.flush()
    assignment.latest_report_id = report.id
    assignment.current_status = status
    assignment.current_percent = percent
    previous_at = current.last_reported_at
    assignment.last_reported_at = at if previous_at is None or at > previous_at else previous_at
    assignment.completed_on = next_completed_on(current.current_status, current.completed_on,
                                                status, at)
    session.flush()
    return report


def next_completed_on(previous_status: str | None, previous_completed_on: date | None,
                      status: str, at: datetime) -> date | None:
    """Return the completion date after a report: kept through a run of "done", else reset."""
    if status != Status.DONE:
        return None
    if previous_status == Status.DONE and previous_completed_on is not None:
        return previous_completed_on
    return local_date(at)


def completed_on_from_history(history: Sequence[tuple[str, datetime]]) -> date | None:
    """Return the completion date from (status, at) pairs, oldest first (the reference rule)."""
    completed: date | None = None
    previous: str | None = None
    for status, at in history:
        completed = next_completed_on(previous, completed, status, at)
        previous = status
    return completed


def latest_report(session: Session, assignment_id: int) -> Report | None:
    """Return the assignment's newest report (its current state), or None."""
    return session.scalars(
        select(Report).where(Report.assignment_id == assignment_id)
        .order_by(Report.id.desc()).limit(1)
    ).first()


def report_history(session: Session, assignment_id: int) -> list[Report]:
    """Return every report of the assignment, newest first (corrections included)."""
    return list(session.scalars(
        select(Report).where(Report.assignment_id == assignment_id).order_by(Report.id.desc())
    ))


def rebuild_current_state(session: Session,
                          assignment_ids: Collection[int] | None = None) -> int:
    """Recompute the cached current state from the reports, for loads that bypassed
    append_report; return how many assignments have reports."""
    done = Status.DONE.value
    wanted = list(assignment_ids) if assignment_ids is not None else None
    per = select(
        Report.assignment_id,
        func.max(Report.id).label("latest"),
        func.max(Report.created_at).label("last_at"),
        func.coalesce(func.max(case((Report.status != done, Report.id))), 0).label("last_open"),
    ).group_by(Report.assignment_id)
    if wanted is not None:
        per = per.where(Report.assignment_id.in_(wanted))
    agg = per.subquery()
    # The first "done" after the last report that was not "done" starts the final run.
    run_report = aliased(Report)
    run = (select(run_report.assignment_id, func.min(run_report.id).label("start"))
           .join(agg, agg.c.assignment_id == run_report.assignment_id)
           .where(run_report.status == done, run_report.id > agg.c.last_open)
           .group_by(run_report.assignment_id).subquery())
    latest, first = aliased(Report), aliased(Report)
    rows = session.execute(
        select(agg.c.assignment_id, agg.c.latest, latest.status, latest.percent,
               agg.c.last_at, first.created_at)
        .join(latest, latest.id == agg.c.latest)
        .outerjoin(run, run.c.assignment_id == agg.c.assignment_id)
        .outerjoin(first, first.id == run.c.start)
    ).all()
    reset = update(Assignment).values(
        latest_report_id=None, current_status=None, current_percent=None,
        last_reported_at=None, completed_on=None)
    if wanted is not None:
        reset = reset.where(Assignment.id.in_(wanted))
    session.execute(reset.execution_options(synchronize_session=False))
    if rows:
        session.execute(update(Assignment), [
            {"id": a, "latest_report_id": r, "current_status": status, "current_percent": pct,
             "last_reported_at": last_at,
             "completed_on": local_date(done_at) if status == done and done_at else None}
            for a, r, status, pct, last_at, done_at in rows
        ])
    session.expire_all()
    return len(rows)


def _valid_status(status: Status | str) -> Status:
    try:
        return Status(status)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise ReportError(f"status must be one of {allowed}, got {status!r}") from None
