"""Who the scheduler writes to, programme by programme.

An agency's part (takes part, coordinating office, Vice-Chair's office) is set per programme
(`programme_agency`), so the office told about a silent agency, a closed period or an
overdue item is the one that coordinates THAT programme in that locality, and a Vice-Chair
gets a digest for each programme they direct.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.reminders import OFFICE_ROLES, VICE_CHAIR, Person, ProgrammeRef
from storage.models import Agency, Identity, Locality, Member, Programme, ProgrammeAgency

PUSH_PLATFORMS = ("telegram", "zalo")  # a terminal-only account (`tiendo chat`) gets no pushes


@dataclass(frozen=True)
class Roles:
    """An agency's part in each programme."""

    programmes: frozenset[int] = frozenset()
    coordinates: frozenset[int] = frozenset()
    leadership: frozenset[int] = frozenset()

    @property
    def several(self) -> bool:
        """The agency takes part in more than one programme: name which one is meant."""
        return len(self.programmes) > 1


def agency_roles(session: Session, agency_ids: Collection[int] | None = None) -> dict[int, Roles]:
    """Each agency's programmes, and those it coordinates or directs."""
    query = select(
        ProgrammeAgency.agency_id,
        ProgrammeAgency.programme_id,
        ProgrammeAgency.coordinates,
        ProgrammeAgency.leadership,
    )
    if agency_ids is not None:
        query = query.where(ProgrammeAgency.agency_id.in_(list(agency_ids)))
    found: dict[int, tuple[set[int], set[int], set[int]]] = {}
    for agency_id, programme_id, coordinates, leadership in session.execute(query):
        takes, runs, leads = found.setdefault(agency_id, (set(), set(), set()))
        takes.add(programme_id)
        if coordinates:
            runs.add(programme_id)
        if leadership:
            leads.add(programme_id)
    return {
        agency_id: Roles(frozenset(takes), frozenset(runs), frozenset(leads))
        for agency_id, (takes, runs, leads) in found.items()
    }


def programme_refs(session: Session) -> list[ProgrammeRef]:
    """Every programme, in the order they were imported."""
    return [
        ProgrammeRef(p.id, p.label, p.title, p.periods, p.report_due_day, p.code)
        for p in session.scalars(select(Programme).order_by(Programme.id))
    ]


def load_people(session: Session) -> list[Person]:
    """Every active member as the reminder policy sees them."""
    linked = select(Identity.member_id).where(Identity.platform.in_(PUSH_PLATFORMS))
    roles = agency_roles(session)
    rows = session.execute(
        select(
            Member.id,
            Member.name,
            Member.agency_id,
            Agency.code.label("agency_code"),
            Locality.code.label("locality_code"),
            Member.role,
            Member.is_head,
            Member.language,
            (
                Member.id.in_(linked)
                & Member.unreachable_at.is_(None)
                & Agency.archived_at.is_(None)
            ).label("reachable"),
        )
        .join(Agency, Agency.id == Member.agency_id)
        .join(Locality, Locality.id == Agency.locality_id)
        .where(Member.revoked_at.is_(None))
        .order_by(Member.id)
    )
    people = []
    for row in rows:
        part = roles.get(row.agency_id, Roles())
        people.append(
            Person(
                row.id,
                row.name,
                row.agency_id,
                row.agency_code,
                row.locality_code,
                row.role,
                row.is_head,
                part.programmes,
                part.coordinates,
                part.leadership,
                row.language,
                bool(row.reachable),
            )
        )
    return people


def digest_recipients(session: Session, role: str) -> list[tuple[int, Member]]:
    """(programme id, member) for every digest to write: a Vice-Chair for each programme
    their agency directs, a coordinating office's coordinator for each programme their agency
    coordinates; only members who can be reached."""
    linked = select(Identity.member_id).where(Identity.platform.in_(PUSH_PLATFORMS))
    flag = ProgrammeAgency.leadership if role == VICE_CHAIR else ProgrammeAgency.coordinates
    roles = [VICE_CHAIR] if role == VICE_CHAIR else sorted(OFFICE_ROLES)
    query = (
        select(ProgrammeAgency.programme_id, Member)
        .join(Agency, Agency.id == Member.agency_id)
        .join(ProgrammeAgency, ProgrammeAgency.agency_id == Agency.id)
        .where(
            Member.revoked_at.is_(None),
            Member.unreachable_at.is_(None),
            Member.id.in_(linked),
            Member.role.in_(roles),
            flag.is_(True),
        )
        .order_by(ProgrammeAgency.programme_id, Member.id)
    )
    return [(programme_id, member) for programme_id, member in session.execute(query)]


def coordinating_offices(session: Session, member: Member) -> list[Member]:
    """The coordinators who answer for a member: those of the offices that coordinate, in
    the member's locality, a programme the member's agency takes part in."""
    programmes = select(ProgrammeAgency.programme_id).where(
        ProgrammeAgency.agency_id == member.agency_id
    )
    offices = select(ProgrammeAgency.agency_id).where(
        ProgrammeAgency.programme_id.in_(programmes), ProgrammeAgency.coordinates.is_(True)
    )
    return list(
        session.scalars(
            select(Member)
            .join(Agency, Agency.id == Member.agency_id)
            .where(
                Agency.id.in_(offices),
                Agency.locality_id == member.agency.locality_id,
                Member.role.in_(sorted(OFFICE_ROLES)),
                Member.revoked_at.is_(None),
                Member.unreachable_at.is_(None),
                Member.id != member.id,
            )
            .order_by(Member.id)
        )
    )
