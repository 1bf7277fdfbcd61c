"""Each assignment's state as its newest report leaves it, judged on a given day.

Pure query functions: the day is passed in, nothing here reads the clock.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias

from sqlalchemy import Result, Select, bindparam, or_, select
from sqlalchemy.orm import Session

from storage.aggregate.categories import DONE, Category, categorize
from storage.aggregate.tree import tree_order
from storage.models import (
    Agency,
    Assignment,
    AssignmentRole,
    Item,
    Locality,
    Member,
    Programme,
    Report,
)

AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"


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
    programme_id: int
    programme_code: str
    programme_label: str  # the alias people type (HY), or the code
    section_code: str

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


def keep_active(query: AnySelect, of_programme: bool) -> AnySelect:
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
def state_query(
    of_programme: bool,
    by_assignment: bool = False,
    by_agency: bool = False,
    by_locality: bool = False,
    leads_only: bool = False,
    by_code: bool = False,
    by_programmes: bool = False,
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
            Item.programme_id,
            Programme.code,
            Programme.alias,
            Item.field_code,
            Item.section_code,
        )
        .join(Item, Item.id == Assignment.item_id)
        .join(Programme, Programme.id == Item.programme_id)
        .join(Agency, Agency.id == Assignment.agency_id)
        .join(Locality, Locality.id == Agency.locality_id)
        .outerjoin(Report, Report.id == Assignment.latest_report_id)
        .outerjoin(Member, Member.id == Report.member_id)
    )
    query = keep_active(query, of_programme)
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
    if by_programmes:
        query = query.where(Item.programme_id.in_(bindparam("programme_ids", expanding=True)))
    return query


def state_from_row(row: Sequence[Any], today: date) -> AssignmentState:
    """Build the state from a row of `state_query`, judged on `today`."""
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
        programme_id,
        programme_code,
        programme_alias,
        field,
        section,
    ) = row
    return AssignmentState(
        assignment_id,
        item_id,
        item_code,
        item_title,
        field or item_code,
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
        programme_id,
        programme_code,
        programme_alias or programme_code,
        section or field or item_code,
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
    programme_ids: Collection[int] | None = None,
) -> list[AssignmentState]:
    """Return the active assignments' states, by programme, in document order, by agency.

    `item_codes` keeps those items and everything under them ("2" keeps "2.5.a");
    `item_code` keeps exactly that item (in every programme that has it, unless one is given).
    """
    query = state_query(
        programme_code is not None,
        assignment_ids is not None,
        agency_ids is not None,
        locality_code is not None,
        leads_only,
        item_code is not None,
        programme_ids is not None,
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
        "programme_ids": list(programme_ids or ()),
    }
    states = [state_from_row(row, today) for row in rows(session, query, params)]
    return _in_tree_order(session, states, programme_code)


def _in_tree_order(
    session: Session, states: list[AssignmentState], programme_code: str | None
) -> list[AssignmentState]:
    if len(states) > 1:
        order = tree_order(load_items(session, programme_code))
        states.sort(
            key=lambda s: (
                s.programme_id,
                order.get(s.item_id, len(order)),
                s.item_code,
                s.agency_code,
            )
        )
    return states
