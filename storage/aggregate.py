"""What coordinators and Vice-Chairs read: each assignment's state, roll-ups and summaries.

Pure query functions: the day is passed in, nothing here reads the clock. The deadline
category is one Python rule (`categorize`) and the same rule in SQL (`category_sql`) for the
set-based totals; tests hold them equal.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Date,
    Result,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

from storage.models import (
    Agency,
    Assignment,
    AssignmentRole,
    Item,
    Locality,
    Member,
    Programme,
    Report,
    Status,
)
from storage.reports import LOCAL_TZ


class Category(StrEnum):
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"
    IN_PROGRESS_ON_TIME = "in_progress_on_time"
    IN_PROGRESS_OVERDUE = "in_progress_overdue"
    NOT_REPORTED = "not_reported"


CATEGORY_LABELS: dict[Category, tuple[str, str]] = {
    Category.DONE_ON_TIME: ("Hoàn thành đúng hạn", "Done on time"),
    Category.DONE_LATE: ("Hoàn thành quá hạn", "Done late"),
    Category.IN_PROGRESS_ON_TIME: ("Đang thực hiện trong hạn", "In progress, on time"),
    Category.IN_PROGRESS_OVERDUE: ("Đang thực hiện quá hạn", "In progress, overdue"),
    Category.NOT_REPORTED: ("Chưa báo cáo", "Not reported"),
}
CATEGORY_COLOURS: dict[Category, str] = {  # hex RGB, for Excel fills and charts
    Category.DONE_ON_TIME: "2E7D32",  # green
    Category.DONE_LATE: "9E9D24",  # amber-green
    Category.IN_PROGRESS_ON_TIME: "1E88E5",  # blue
    Category.IN_PROGRESS_OVERDUE: "E53935",  # red
    Category.NOT_REPORTED: "9E9E9E",  # grey
}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    Status.NOT_STARTED: ("Chưa triển khai", "Not started"),
    Status.IN_PROGRESS: ("Đang thực hiện", "In progress"),
    Status.DONE: ("Hoàn thành", "Done"),
    Status.BLOCKED: ("Vướng mắc", "Blocked"),
}
ROLE_LABELS: dict[str, tuple[str, str]] = {
    AssignmentRole.LEAD: ("Chủ trì", "Lead"),
    AssignmentRole.SUPPORT: ("Phối hợp", "Support"),
}
DONE = Status.DONE.value
BLOCKED = Status.BLOCKED.value
AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"
Column: TypeAlias = "ColumnElement[Any] | InstrumentedAttribute[Any]"


def categorize(
    status: str | None, due: date | None, completed_on: date | None, today: date
) -> Category:
    """Classify an assignment against its deadline (status None: nothing reported yet)."""
    if status is None:
        return Category.NOT_REPORTED
    if status == DONE:
        if due is None or completed_on is None or completed_on <= due:
            return Category.DONE_ON_TIME
        return Category.DONE_LATE
    if due is not None and today > due:
        return Category.IN_PROGRESS_OVERDUE
    return Category.IN_PROGRESS_ON_TIME


def category_sql(
    status: Column, due: Column, completed_on: Column, today: date
) -> ColumnElement[str]:
    """The same rule as `categorize`, as a SQL expression."""
    day = bindparam(None, today, type_=Date())
    return case(
        (status.is_(None), literal(Category.NOT_REPORTED.value, String())),
        (
            status == DONE,
            case(
                (
                    or_(due.is_(None), completed_on.is_(None), completed_on <= due),
                    literal(Category.DONE_ON_TIME.value, String()),
                ),
                else_=literal(Category.DONE_LATE.value, String()),
            ),
        ),
        (and_(due.is_not(None), due < day), literal(Category.IN_PROGRESS_OVERDUE.value, String())),
        else_=literal(Category.IN_PROGRESS_ON_TIME.value, String()),
    )


def field_code(code: str) -> str:
    """Return the field of an item code, its first two levels: "2.5.a" → "2.5", "2" → "2".

    In a cooperation notice the fields are the numbered items of the content section
    (2.1 state management … 2.9 defence and security); bullets belong to their field.
    """
    return ".".join(code.split(".", 2)[:2])


class field_code_sql(FunctionElement[str]):  # noqa: N801 (a SQL function, named like one)
    """The same as `field_code`, in SQL."""

    type = String()
    inherit_cache = True
    name = "field_code"


def _field_sqlite(code: str) -> str:
    first = f"instr({code}, '.')"
    second = f"instr(substr({code}, {first} + 1), '.')"
    return (
        f"CASE WHEN {first} > 0 AND {second} > 0 "
        f"THEN substr({code}, 1, {first} + {second} - 1) ELSE {code} END"
    )


def _field_postgresql(code: str) -> str:
    return (
        f"CASE WHEN split_part({code}, '.', 2) = '' THEN {code} "
        f"ELSE split_part({code}, '.', 1) || '.' || split_part({code}, '.', 2) END"
    )


@compiles(field_code_sql)
def _field_code_default(element: field_code_sql, compiler: Any, **kw: Any) -> str:
    return _field_sqlite(compiler.process(element.clauses, **kw))


@compiles(field_code_sql, "postgresql")
def _field_code_postgresql(element: field_code_sql, compiler: Any, **kw: Any) -> str:
    return _field_postgresql(compiler.process(element.clauses, **kw))


def month_of(day: date) -> tuple[date, date]:
    """Return the first and last day of the calendar month containing `day`."""
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Return the aware moments [start 00:00, day after end 00:00) on the Hà Nội clock."""
    return (
        datetime.combine(start, time(0), LOCAL_TZ),
        datetime.combine(end + timedelta(days=1), time(0), LOCAL_TZ),
    )


@dataclass(frozen=True)
class AssignmentState:
    """One assignment as its newest report leaves it, judged on day `as_of`."""

    assignment_id: int
    item_id: int
    item_code: str
    item_title: str
    field_code: str
    agency_id: int
    agency_code: str
    agency_name: str
    locality_code: str
    role: str
    due_date: date | None
    status: str | None
    percent: int | None
    note: str
    reported_at: datetime | None
    reporter_name: str | None
    report_id: int | None
    completed_on: date | None
    category: Category
    as_of: date

    @property
    def done(self) -> bool:
        return self.status == DONE

    @property
    def overdue(self) -> bool:
        """Past its due date and not done (reported or not)."""
        return not self.done and self.due_date is not None and self.due_date < self.as_of

    def days_left(self, today: date) -> int | None:
        """Days until the due date (negative once past it); None without a due date."""
        return None if self.due_date is None else (self.due_date - today).days


class ItemLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def parent_id(self) -> int | None: ...
    @property
    def code(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def position(self) -> int: ...


def tree_order(items: Iterable[ItemLike]) -> dict[int, int]:
    """Number items in document order: depth first, siblings by position."""
    items = list(items)
    known = {i.id for i in items}
    children: dict[int | None, list[ItemLike]] = {}
    for item in items:
        parent = item.parent_id if item.parent_id in known else None
        children.setdefault(parent, []).append(item)
    order: dict[int, int] = {}
    stack = sorted(children.get(None, []), key=lambda i: (i.position, i.id), reverse=True)
    while stack:
        item = stack.pop()
        order[item.id] = len(order)
        stack.extend(
            sorted(children.get(item.id, []), key=lambda i: (i.position, i.id), reverse=True)
        )
    return order


def load_items(session: Session, programme_code: str | None = None) -> list[Any]:
    """Return the non-archived items (of one programme, or all) as light rows."""
    query = _items_query(programme_code is not None)
    return list(rows(session, query, {"programme_code": programme_code}))


def rows(session: Session, query: AnySelect, params: dict[str, Any]) -> Result[Any]:
    """Run a select of plain columns on the session's connection.

    The ORM layer adds nothing to plain rows but its cost (~50 µs a query, paid on every chat
    step); pending changes are flushed first, as the ORM would.
    """
    session.flush()
    return session.connection().execute(query, params)


# The statements a chat step runs are built once per shape and take their values as bound
# parameters: building and keying a five-join select per call cost more than running it.


@functools.cache
def _items_query(of_programme: bool) -> AnySelect:
    query = select(Item.id, Item.parent_id, Item.code, Item.title, Item.position).where(
        Item.archived_at.is_(None)
    )
    if of_programme:
        query = query.join(Programme, Programme.id == Item.programme_id).where(
            Programme.code == bindparam("programme_code")
        )
    return query


def _active(query: AnySelect, of_programme: bool) -> AnySelect:
    """Keep active assignments of active items (of one programme)."""
    query = query.where(Assignment.archived_at.is_(None), Item.archived_at.is_(None))
    if of_programme:
        query = query.where(
            Item.programme_id
            == select(Programme.id)
            .where(Programme.code == bindparam("programme_code"))
            .scalar_subquery()
        )
    return query


@functools.cache
def _state_query(
    of_programme: bool,
    by_assignment: bool = False,
    by_agency: bool = False,
    by_locality: bool = False,
    leads_only: bool = False,
    by_code: bool = False,
) -> AnySelect:
    """Select every column an AssignmentState needs (category computed in Python)."""
    query: AnySelect = (
        select(
            Assignment.id,
            Item.id,
            Item.code,
            Item.title,
            Agency.id,
            Agency.code,
            Agency.name,
            Locality.code,
            Assignment.role,
            Assignment.due_date,
            Assignment.current_status,
            Assignment.current_percent,
            Report.note,
            Report.created_at,
            Member.name,
            Assignment.latest_report_id,
            Assignment.completed_on,
        )
        .join(Item, Item.id == Assignment.item_id)
        .join(Agency, Agency.id == Assignment.agency_id)
        .join(Locality, Locality.id == Agency.locality_id)
        .outerjoin(Report, Report.id == Assignment.latest_report_id)
        .outerjoin(Member, Member.id == Report.member_id)
    )
    query = _active(query, of_programme)
    if by_assignment:
        query = query.where(Assignment.id.in_(bindparam("assignment_ids", expanding=True)))
    if by_agency:
        query = query.where(Assignment.agency_id.in_(bindparam("agency_ids", expanding=True)))
    if by_locality:
        query = query.where(Locality.code == bindparam("locality_code"))
    if leads_only:
        query = query.where(Assignment.role == AssignmentRole.LEAD.value)
    if by_code:
        query = query.where(Item.code == bindparam("item_code"))
    return query


def _state(row: Sequence[Any], today: date) -> AssignmentState:
    (
        assignment_id,
        item_id,
        item_code,
        item_title,
        agency_id,
        agency_code,
        agency_name,
        locality,
        role,
        due,
        status,
        percent,
        note,
        reported_at,
        reporter,
        report_id,
        completed_on,
    ) = row
    return AssignmentState(
        assignment_id,
        item_id,
        item_code,
        item_title,
        field_code(item_code),
        agency_id,
        agency_code,
        agency_name,
        locality,
        role,
        due,
        status,
        percent,
        note or "",
        reported_at,
        reporter,
        report_id,
        completed_on,
        categorize(status, due, completed_on, today),
        today,
    )


def assignment_states(
    session: Session,
    today: date,
    *,
    agency_ids: Collection[int] | None = None,
    item_codes: Collection[str] | None = None,
    locality_code: str | None = None,
    leads_only: bool = False,
    programme_code: str | None = None,
    assignment_ids: Collection[int] | None = None,
    item_code: str | None = None,
) -> list[AssignmentState]:
    """Return the active assignments' states, in document order then by agency code.

    `item_codes` keeps those items and everything under them ("2" keeps "2.5.a");
    `item_code` keeps exactly that item.
    """
    query = _state_query(
        programme_code is not None,
        assignment_ids is not None,
        agency_ids is not None,
        locality_code is not None,
        leads_only,
        item_code is not None,
    )
    if item_codes is not None:
        codes = list(item_codes)
        query = query.where(
            or_(
                Item.code.in_(codes),
                *(Item.code.startswith(f"{c}.", autoescape=True) for c in codes),
            )
        )
    params = {
        "programme_code": programme_code,
        "locality_code": locality_code,
        "item_code": item_code,
        "assignment_ids": list(assignment_ids or ()),
        "agency_ids": list(agency_ids or ()),
    }
    states = [_state(row, today) for row in rows(session, query, params)]
    return _in_tree_order(session, states, programme_code)


def _in_tree_order(
    session: Session, states: list[AssignmentState], programme_code: str | None
) -> list[AssignmentState]:
    if len(states) > 1:
        order = tree_order(load_items(session, programme_code))
        states.sort(key=lambda s: (order.get(s.item_id, len(order)), s.item_code, s.agency_code))
    return states


# --- summary ---------------------------------------------------------------------------


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
    """The consolidated picture on `today`; the period decides who counts as silent."""

    today: date
    period: tuple[date, date]
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
            "today": self.today.isoformat(),
            "period": [self.period[0].isoformat(), self.period[1].isoformat()],
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


def _reported_inperiod_of(start: datetime, end: datetime) -> ColumnElement[bool]:
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


def period_of(today: date, period_start: date | None, period_end: date | None) -> tuple[date, date]:
    """The reporting period asked for; by default the calendar month containing `today`."""
    default_start, default_end = month_of(today)
    return period_start or default_start, period_end or default_end


def summary(
    session: Session,
    today: date,
    *,
    period_start: date | None = None,
    period_end: date | None = None,
    programme_code: str | None = None,
    limit: int | None = None,
) -> Summary:
    """Add up every active assignment on `today`: overall, per field, locality and agency,
    and list the overdue, blocked and silent ones (`limit` each, None for all).

    The period (default: the calendar month containing `today`) decides who is silent.
    """
    period = period_of(today, period_start, period_end)
    reported = _reported_inperiod_of(*day_bounds(*period))
    status, due = Assignment.current_status, Assignment.due_date
    per = _active(
        select(
            field_code_sql(Item.code).label("field"),
            Assignment.agency_id.label("agency_id"),
            category_sql(status, due, Assignment.completed_on, today).label("category"),
            func.coalesce(Assignment.current_percent, 0).label("percent"),
            case((reported, 1), else_=0).label("reported"),
            case((due < today, 1), else_=0).label("past_due"),
            case((status == BLOCKED, 1), else_=0).label("blocked"),
        ).join(Item, Item.id == Assignment.item_id),
        programme_code is not None,
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
    programme = {"programme_code": programme_code}
    fields, agencies = fold_tallies(session.execute(grouped, programme))
    overall = sum(fields.values(), Tally())
    by_agency, by_locality = _agency_groups(session, agencies)
    open_ = or_(status.is_(None), status != DONE)

    def listed(condition: ColumnElement[bool], *order: Any) -> list[AssignmentState]:
        # Ordered by assignment columns only, so a LIMIT stops the scan early.
        query = (
            _state_query(programme_code is not None)
            .where(condition)
            .order_by(*order, Assignment.id)
        )
        if limit is not None:
            query = query.limit(limit)
        return [_state(row, today) for row in session.execute(query, programme)]

    def place(s: AssignmentState) -> tuple[Any, ...]:
        return natural_key(s.item_code), s.agency_code

    overdue = sorted(listed(and_(open_, due < today), due), key=lambda s: (s.due_date, *place(s)))
    blocked = sorted(listed(status == BLOCKED), key=place)
    silent = sorted(listed(and_(open_, ~reported)), key=place)
    return Summary(
        today,
        period,
        overall,
        _field_groups(session, fields, programme_code),
        by_agency,
        by_locality,
        overdue,
        blocked,
        silent,
        overall.response_rate,
    )


def natural_key(code: str) -> tuple[Any, ...]:
    """Sort "2" before "10" and "2.5.a" after "2.5"."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.split("."))


def _field_groups(
    session: Session, fields: Mapping[str, Tally], programme_code: str | None
) -> list[GroupTally]:
    query = select(Item.code, Item.title).where(Item.code.in_(list(fields)))
    if programme_code is not None:
        query = query.join(Programme, Programme.id == Item.programme_id).where(
            Programme.code == programme_code
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
