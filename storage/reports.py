"""Append progress reports, the one way that keeps each assignment's current state right."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.models import Agency, Assignment, Report, Review, Status

CHANNELS_MAX = 16


class ReportError(ValueError):
    """A report that cannot be stored; the message says what is wrong."""


def append_report(
    session: Session,
    *,
    assignment_id: int,
    member_id: int | None,
    status: Status | str,
    percent: int,
    note: str,
    channel: str,
    at: datetime,
    tz: tzinfo,
    corrects_id: int | None = None,
    agency_id: int | None = None,
) -> int:
    """Store a new report, move the assignment's current state to it; return its id.

    `tz` is the deployment's time zone (`[app] timezone`): the day `at` falls on there is
    the completion date. `agency_id`, when given, is the reporter's agency: a report on
    another agency's assignment is refused. Plain statements, not ORM objects: every report an official
    sends runs this (bench/updates.py); an assignment already loaded in the session is
    given the new state too.
    """
    status = _valid_status(status)
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ReportError(f"percent must be a whole number from 0 to 100, got {percent!r}")
    if at.tzinfo is None:
        raise ReportError("the report time must be an aware datetime")
    if not channel or len(channel) > CHANNELS_MAX:
        raise ReportError(f"channel must be 1–{CHANNELS_MAX} characters, got {channel!r}")
    session.flush()  # pending changes (a due date, say) first, as a query would
    connection = session.connection()
    if corrects_id is not None:
        target = connection.execute(_REPORT_OF, {"report_id": corrects_id}).scalar()
        if target != assignment_id:
            raise ReportError(f"report {corrects_id} is not a report of this assignment")
    # Lock the assignment row so two workers appending at once keep the run of "done" right.
    current = connection.execute(_LOCK, {"assignment_id": assignment_id}).first()
    if current is None:
        raise ReportError(f"there is no assignment {assignment_id}")
    if agency_id is not None and current.agency_id != agency_id:
        raise PermissionError("a report on another agency's assignment")
    report_id: int = connection.execute(
        _INSERT,
        {
            "assignment_id": assignment_id,
            "member_id": member_id,
            "agency_id": current.agency_id,
            "agency_name": current.agency_name,
            "status": status.value,
            "percent": percent,
            "note": note,
            "channel": channel,
            "corrects_id": corrects_id,
            "created_at": at,
        },
    ).scalar_one()
    previous_at = current.last_reported_at
    state = {
        "latest_report_id": report_id,
        "current_status": status.value,
        "current_percent": percent,
        "last_reported_at": at if previous_at is None or at > previous_at else previous_at,
        "completed_on": next_completed_on(
            current.current_status, current.completed_on, status, at, tz
        ),
    }
    connection.execute(
        _MOVE,
        {"assignment_id": assignment_id, **{f"new_{name}": value for name, value in state.items()}},
    )
    loaded = session.identity_map.get(identity_key(Assignment, assignment_id))
    for name, value in state.items() if loaded is not None else ():
        set_committed_value(loaded, name, value)
    return report_id


_ASSIGNMENT = cast(Table, Assignment.__table__)
_AGENCY = cast(Table, Agency.__table__)
_REPORT = cast(Table, Report.__table__)
_REPORT_OF = select(_REPORT.c.assignment_id).where(_REPORT.c.id == bindparam("report_id"))
_LOCK = (
    select(
        _ASSIGNMENT.c.agency_id,
        _AGENCY.c.name.label("agency_name"),
        _ASSIGNMENT.c.current_status,
        _ASSIGNMENT.c.completed_on,
        _ASSIGNMENT.c.last_reported_at,
    )
    .join(_AGENCY, _AGENCY.c.id == _ASSIGNMENT.c.agency_id)
    .where(_ASSIGNMENT.c.id == bindparam("assignment_id"))
    .with_for_update(of=_ASSIGNMENT)
)
_INSERT = insert(_REPORT).returning(_REPORT.c.id)
_MOVE = (
    update(_ASSIGNMENT)
    .where(_ASSIGNMENT.c.id == bindparam("assignment_id"))
    .values(
        {
            name: bindparam(f"new_{name}", type_=_ASSIGNMENT.c[name].type)
            for name in (
                "latest_report_id",
                "current_status",
                "current_percent",
                "last_reported_at",
                "completed_on",
            )
        }
    )
)


def next_completed_on(
    previous_status: str | None,
    previous_completed_on: date | None,
    status: str,
    at: datetime,
    tz: tzinfo,
) -> date | None:
    """Return the completion date after a report: kept through a run of "done", else reset.

    A new run starts on the day `at` falls on in the time zone `tz`.
    """
    if status != Status.DONE:
        return None
    if previous_status == Status.DONE and previous_completed_on is not None:
        return previous_completed_on
    return at.astimezone(tz).date()


def _valid_status(status: Status | str) -> Status:
    try:
        return Status(status)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise ReportError(f"status must be one of {allowed}, got {status!r}") from None


def settle_current(session: Session, assignment_id: int, tz: tzinfo) -> None:
    """Recompute an assignment's current state from its history, leaving out the reports its
    coordinating office returned (their latest review says "returned").

    A returned report stays in the history, where everyone can read it, but never counts as
    where the work stands: views, digests, the Excel file and the periodic report then show the
    report before it, until the agency sends a completed one.
    """
    session.flush()
    latest_review = (
        select(Review.decision)
        .where(Review.report_id == Report.id)
        .order_by(Review.created_at.desc(), Review.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Report.id, Report.status, Report.percent, Report.created_at, latest_review)
        .where(Report.assignment_id == assignment_id)
        .order_by(Report.created_at, Report.id)
    ).all()
    latest: int | None = None
    status: str | None = None
    percent: int | None = None
    completed: date | None = None
    for report_id, report_status, report_percent, created_at, decision in rows:
        if decision == "returned":
            continue
        completed = next_completed_on(status, completed, report_status, created_at, tz)
        latest, status, percent = report_id, report_status, report_percent
    state = {
        "latest_report_id": latest,
        "current_status": status,
        "current_percent": percent,
        "completed_on": completed,
    }
    session.execute(update(Assignment).where(Assignment.id == assignment_id).values(**state))
    loaded = session.identity_map.get(identity_key(Assignment, assignment_id))
    for name, value in state.items() if loaded is not None else ():
        set_committed_value(loaded, name, value)
