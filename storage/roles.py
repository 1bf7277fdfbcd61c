"""An agency's part in each programme (takes part, coordinates, leadership), as one place asks it.

The flags live per programme (`programme_agency`), so one Sở can coordinate one programme and
only report on another, and each programme's import changes only its own.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session

from storage.models import Agency, Programme, ProgrammeAgency


def coordinates_any(agency_id: Any = Agency.id) -> ColumnElement[bool]:
    """SQL: the agency coordinates at least one programme."""
    return exists().where(
        ProgrammeAgency.agency_id == agency_id, ProgrammeAgency.coordinates.is_(True)
    )


def leadership_any(agency_id: Any = Agency.id) -> ColumnElement[bool]:
    """SQL: the agency is where a directing Vice-Chair sits, in at least one programme."""
    return exists().where(
        ProgrammeAgency.agency_id == agency_id, ProgrammeAgency.leadership.is_(True)
    )


def programmes_of(
    session: Session, agency_id: int, *, coordinates: bool = False, leadership: bool = False
) -> list[Programme]:
    """The programmes an agency takes part in (or coordinates, or leads), oldest first."""
    query = (
        select(Programme)
        .join(ProgrammeAgency, ProgrammeAgency.programme_id == Programme.id)
        .where(ProgrammeAgency.agency_id == agency_id)
        .order_by(Programme.id)
    )
    if coordinates:
        query = query.where(ProgrammeAgency.coordinates.is_(True))
    if leadership:
        query = query.where(ProgrammeAgency.leadership.is_(True))
    return list(session.scalars(query))


def parts_of(
    session: Session, agency_id: int | None
) -> list[tuple[Programme, ProgrammeAgency | None]]:
    """Every programme, oldest first, with the agency's part in it (None: not in its file)."""
    part = and_(
        ProgrammeAgency.programme_id == Programme.id, ProgrammeAgency.agency_id == agency_id
    )
    query = select(Programme, ProgrammeAgency).outerjoin(ProgrammeAgency, part)
    return [(programme, row) for programme, row in session.execute(query.order_by(Programme.id))]


def roles_by_agency(
    session: Session, agency_ids: Collection[int] | None = None
) -> dict[int, list[tuple[str, bool, bool]]]:
    """Each agency's (programme label, coordinates, leadership), in programme order."""
    query = (
        select(
            ProgrammeAgency.agency_id,
            Programme.alias,
            Programme.code,
            ProgrammeAgency.coordinates,
            ProgrammeAgency.leadership,
        )
        .join(Programme, Programme.id == ProgrammeAgency.programme_id)
        .order_by(Programme.id)
    )
    if agency_ids is not None:
        query = query.where(ProgrammeAgency.agency_id.in_(list(agency_ids)))
    found: dict[int, list[tuple[str, bool, bool]]] = {}
    for agency_id, alias, code, coordinates, leadership in session.execute(query):
        found.setdefault(agency_id, []).append((alias or code, coordinates, leadership))
    return found
