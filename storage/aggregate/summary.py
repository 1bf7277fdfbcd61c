"""The consolidated picture of one programme for coordinators and Vice-Chairs: totals per
field, agency and locality, and the overdue, blocked and silent assignments, on a given day
and in the programme's reporting period (storage.periods)."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from storage.aggregate.categories import BLOCKED, DONE, Category, category_sql
from storage.aggregate.codes import natural_key
from storage.aggregate.states import AssignmentState, keep_active, state_from_row, state_query
from storage.models import Agency, Assignment, Item, Locality, Programme, Report
from storage.periods import Period, current_period


def month_of(day: date) -> tuple[date, date]:
    """Return the first and last day of the calendar month containing `day`."""
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def day_bounds(start: date, end: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """Return the aware moments [start 00:00, day after end 00:00) on the clock of `tz`."""
    return (
        datetime.combine(start, time(0), tz),
        datetime.combine(end + timedelta(days=1), time(0), tz),
    )


@dataclass(frozen=True)
class Tally:
    """Counts over a group of assignments."""

    count: int = 0
    percent_sum: int = 0
    categories: Mapping[Category, int] = field(default_factory=lambda: dict.fromkeys(Category, 0))
    open: int = 0  # not done
    open_reported: int = 0  # not done, with a report in the period
    overdue: int = 0  # past due and not done, reported or not
    blocked: int = 0

    @property
    def avg_percent(self) -> float:
        """Mean percent, an assignment without a report counting 0."""
        return self.percent_sum / self.count if self.count else 0.0

    @property
    def done(self) -> int:
        return self.categories[Category.DONE_ON_TIME] + self.categories[Category.DONE_LATE]

    @property
    def done_share(self) -> float:
        return self.done / self.count if self.count else 0.0

    @property
    def not_reported(self) -> int:
        """Not done and silent in the period."""
        return self.open - self.open_reported

    @property
    def response_rate(self) -> float:
        """Share of not-done assignments with a report in the period (1 when none is open)."""
        return self.open_reported / self.open if self.open else 1.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.count + other.count,
            self.percent_sum + other.percent_sum,
            {c: self.categories[c] + other.categories[c] for c in Category},
            self.open + other.open,
            self.open_reported + other.open_reported,
            self.overdue + other.overdue,
            self.blocked + other.blocked,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "avg_percent": round(self.avg_percent, 2),
            "categories": {c.value: self.categories[c] for c in Category},
            "done": self.done,
            "done_share": round(self.done_share, 4),
            "open": self.open,
            "open_reported": self.open_reported,
            "not_reported": self.not_reported,
            "overdue": self.overdue,
            "blocked": self.blocked,
            "response_rate": round(self.response_rate, 4),
        }


@dataclass(frozen=True)
class GroupTally:
    """A tally for one field, agency or locality."""

    code: str
    name: str
    tally: Tally
    locality_code: str = ""
    agency_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "name": self.name}
        if self.locality_code:
            out["locality"] = self.locality_code
        return out | self.tally.as_dict()


@dataclass(frozen=True)
class Summary:
    """One programme's consolidated picture on `today`; its period decides who is silent."""

    programme_code: str
    programme_label: str
    programme_title: str
    today: date
    period: Period
    overall: Tally
    by_field: list[GroupTally]
    by_agency: list[GroupTally]
    by_locality: list[GroupTally]
    overdue: list[AssignmentState]  # most overdue first
    blocked: list[AssignmentState]  # document order
    not_reported: list[AssignmentState]  # not done and silent in the period; document order
    response_rate: float

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (dates as ISO text)."""
        return {
            "programme": self.programme_code,
            "today": self.today.isoformat(),
            "period": {
                "key": self.period.key,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
                "due": self.period.due.isoformat(),
                "reports_from": self.period.window_start.isoformat(),
            },
            "overall": self.overall.as_dict(),
            "response_rate": round(self.response_rate, 4),
            "by_field": [g.as_dict() for g in self.by_field],
            "by_locality": [g.as_dict() for g in self.by_locality],
            "by_agency": [g.as_dict() for g in self.by_agency],
            "overdue": [_state_dict(s) for s in self.overdue],
            "blocked": [_state_dict(s) for s in self.blocked],
            "not_reported": [_state_dict(s) for s in self.not_reported],
        }


def _state_dict(state: AssignmentState) -> dict[str, Any]:
    out = asdict(state)
    for key, value in out.items():
        if isinstance(value, date | datetime):
            out[key] = value.isoformat()
    out["category"] = state.category.value
    out["overdue"] = state.overdue
    return out


def _reported_in_period(start: datetime, end: datetime) -> ColumnElement[bool]:
    """A condition, never NULL: the assignment has a report in [start, end)."""
    last = Assignment.last_reported_at
    in_period = select(Report.assignment_id).where(
        Report.created_at >= start, Report.created_at < end
    )
    # The newest report decides, unless it came after the period: then look the period up.
    return and_(last.is_not(None), last >= start, or_(last < end, Assignment.id.in_(in_period)))


_DONE_CATEGORIES = frozenset({Category.DONE_ON_TIME, Category.DONE_LATE})


def fold_tallies(rows: Iterable[Sequence[Any]]) -> tuple[dict[str, Tally], dict[int, Tally]]:
    """Fold (field, agency, category, count, percent, reported, past due, blocked) groups
    into tallies per field and per agency."""
    zero = dict.fromkeys(Category, 0)
    fields: dict[str, list[Any]] = {}
    agencies: dict[int, list[Any]] = {}
    for code, agency_id, category, count, pct, reported, past_due, blocked in rows:
        cat = Category(category)
        n = int(count)
        open_ = cat not in _DONE_CATEGORIES  # reported/past due/blocked matter only if open
        values = (
            n,
            int(pct),
            n if open_ else 0,
            int(reported) if open_ else 0,
            int(past_due) if open_ else 0,
            int(blocked),
        )
        for acc in (
            fields.get(code) or fields.setdefault(code, [0] * 6 + [dict(zero)]),
            agencies.get(agency_id) or agencies.setdefault(agency_id, [0] * 6 + [dict(zero)]),
        ):
            for i, value in enumerate(values):
                acc[i] += value
            acc[6][cat] += n

    def tally(acc: list[Any]) -> Tally:
        return Tally(acc[0], acc[1], acc[6], acc[2], acc[3], acc[4], acc[5])

    return ({k: tally(v) for k, v in fields.items()}, {k: tally(v) for k, v in agencies.items()})


class NoSuchProgramme(LookupError):
    """The programme asked for is not in the store (or several are and none was named)."""


def the_programme(session: Session, code: str | None) -> Programme:
    """The programme with this code; with no code, the store's only programme."""
    if code is not None:
        found = session.scalar(select(Programme).where(Programme.code == code))
        if found is None:
            raise NoSuchProgramme(code)
        return found
    programmes = list(session.scalars(select(Programme).order_by(Programme.id).limit(2)))
    if len(programmes) != 1:
        raise NoSuchProgramme("" if not programmes else "several")
    return programmes[0]


def summary(
    session: Session,
    today: date,
    *,
    tz: tzinfo,
    programme_code: str | None = None,
    period: Period | None = None,
    default_due_day: int = 25,
    limit: int | None = None,
) -> Summary:
    """Add up one programme's active assignments on `today`: overall, per field, locality and
    agency, and list the overdue, blocked and silent ones (`limit` each, None for all).

    The period (default: the programme's period whose report window holds `today`) decides
    who is silent: a report counts when its local date, in `tz`, is in the period's window.
    """
    programme = the_programme(session, programme_code)
    period = period or current_period(programme, today, default_due_day)
    reported = _reported_in_period(*day_bounds(period.window_start, period.due, tz))
    status, due = Assignment.current_status, Assignment.due_date
    per = keep_active(
        select(
            Item.field_code.label("field"),
            Assignment.agency_id.label("agency_id"),
            category_sql(status, due, Assignment.completed_on, today).label("category"),
            func.coalesce(Assignment.current_percent, 0).label("percent"),
            case((reported, 1), else_=0).label("reported"),
            case((due < today, 1), else_=0).label("past_due"),
            case((status == BLOCKED, 1), else_=0).label("blocked"),
        ).join(Item, Item.id == Assignment.item_id),
        True,
    ).subquery()
    grouped = select(
        per.c.field,
        per.c.agency_id,
        per.c.category,
        func.count(),
        func.sum(per.c.percent),
        func.sum(per.c.reported),
        func.sum(per.c.past_due),
        func.sum(per.c.blocked),
    ).group_by(per.c.field, per.c.agency_id, per.c.category)
    params = {"programme_code": programme.code}
    fields, agencies = fold_tallies(session.execute(grouped, params))
    overall = sum(fields.values(), Tally())
    by_agency, by_locality = _agency_groups(session, agencies)
    open_ = or_(status.is_(None), status != DONE)

    def listed(condition: ColumnElement[bool], *order: Any) -> list[AssignmentState]:
        # Ordered by assignment columns only, so a LIMIT stops the scan early.
        query = state_query(True).where(condition).order_by(*order, Assignment.id)
        if limit is not None:
            query = query.limit(limit)
        return [state_from_row(row, today) for row in session.execute(query, params)]

    def place(s: AssignmentState) -> tuple[Any, ...]:
        return natural_key(s.item_code), s.agency_code

    overdue = sorted(listed(and_(open_, due < today), due), key=lambda s: (s.due_date, *place(s)))
    blocked = sorted(listed(status == BLOCKED), key=place)
    silent = sorted(listed(and_(open_, ~reported)), key=place)
    return Summary(
        programme.code,
        programme.label,
        programme.title,
        today,
        period,
        overall,
        _field_groups(session, fields, programme.id),
        by_agency,
        by_locality,
        overdue,
        blocked,
        silent,
        overall.response_rate,
    )


def _field_groups(
    session: Session, fields: Mapping[str, Tally], programme_id: int
) -> list[GroupTally]:
    query = select(Item.code, Item.title).where(
        Item.code.in_(list(fields)), Item.programme_id == programme_id
    )
    titles: dict[str, str] = {}
    for code, title in session.execute(query.order_by(Item.id)):
        titles.setdefault(code, title)
    return [
        GroupTally(code, titles.get(code, ""), fields[code])
        for code in sorted(fields, key=natural_key)
    ]


def _agency_groups(
    session: Session, agencies: Mapping[int, Tally]
) -> tuple[list[GroupTally], list[GroupTally]]:
    rows = session.execute(
        select(Agency.id, Agency.code, Agency.name, Locality.code, Locality.name)
        .join(Locality, Locality.id == Agency.locality_id)
        .where(Agency.id.in_(list(agencies)))
    ).all()
    by_agency = []
    localities: dict[str, tuple[str, Tally]] = {}
    for agency_id, code, name, loc_code, loc_name in sorted(rows, key=lambda r: (r[3], r[1])):
        tally = agencies[agency_id]
        by_agency.append(GroupTally(code, name, tally, loc_code, agency_id))
        previous = localities.get(loc_code, (loc_name, Tally()))[1]
        localities[loc_code] = (loc_name, previous + tally)
    by_locality = [
        GroupTally(code, name, tally, code) for code, (name, tally) in sorted(localities.items())
    ]
    return by_agency, by_locality
