"""The deadline category of an assignment: one rule in Python (`categorize`) and the same in
SQL (`category_sql`) for the set-based totals; tests hold them equal."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Date, and_, bindparam, case, literal, or_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import String

from storage.models import Status


class Category(StrEnum):
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"
    IN_PROGRESS_ON_TIME = "in_progress_on_time"
    IN_PROGRESS_OVERDUE = "in_progress_overdue"
    NOT_REPORTED = "not_reported"


DONE = Status.DONE.value
BLOCKED = Status.BLOCKED.value
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
