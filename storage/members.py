"""The members an office manages: who they are, where they write from, when they last did,
and which of them heads an agency (escalation reaches heads)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from storage.agencies import agency_by_code
from storage.audit import record
from storage.models import Agency, Conversation, Identity, Member, ProgrammeAgency, Report
from storage.programme.lookup import find_programme


class MemberError(Exception):
    """A request about a member that cannot be done; the message says what to do instead."""


@dataclass(frozen=True)
class MemberListing:
    """One active member as `tiendo members` lists it."""

    id: int
    name: str
    title: str
    agency_code: str
    agency_name: str
    role: str
    is_head: bool
    platforms: tuple[str, ...]
    last_activity: datetime | None  # the last message the bot handled from them, or report
    unreachable: bool


@dataclass(frozen=True)
class StandInCheck:
    """The two people of an absence and their agencies, to warn across agencies."""

    member_name: str
    member_agency: str
    stand_in_name: str
    stand_in_agency: str

    @property
    def same_agency(self) -> bool:
        return self.member_agency == self.stand_in_agency


def list_members(
    session: Session, agency: str | None = None, programme: str | None = None
) -> list[MemberListing]:
    """Active members by agency and name, of one agency (code; AgencyError if unknown) or of
    the agencies taking part in one programme (alias or code), with platforms and last activity."""
    query = (
        select(Member, Agency.code, Agency.name)
        .join(Agency, Agency.id == Member.agency_id)
        .where(Member.revoked_at.is_(None))
        .order_by(Agency.code, Member.name, Member.id)
    )
    if agency is not None:
        query = query.where(Agency.id == agency_by_code(session, agency).id)
    if programme is not None:
        found = find_programme(session, programme)
        query = query.where(
            Member.agency_id.in_(
                select(ProgrammeAgency.agency_id).where(ProgrammeAgency.programme_id == found.id)
            )
        )
    rows = session.execute(query).all()
    ids = [member.id for member, _, _ in rows]
    platforms: dict[int, set[str]] = defaultdict(set)
    last: dict[int, datetime] = {}
    if ids:
        for member_id, platform in session.execute(
            select(Identity.member_id, Identity.platform).where(Identity.member_id.in_(ids))
        ):
            platforms[member_id].add(platform)
        inbound = (
            select(Identity.member_id, func.max(Conversation.updated_at))
            .join(
                Conversation,
                and_(
                    Conversation.platform == Identity.platform,
                    Conversation.external_id == Identity.external_id,
                ),
            )
            .where(Identity.member_id.in_(ids))
            .group_by(Identity.member_id)
        )
        reports = (
            select(Report.member_id, func.max(Report.created_at))
            .where(Report.member_id.in_(ids))
            .group_by(Report.member_id)
        )
        for member_id, at in [*session.execute(inbound), *session.execute(reports)]:
            if at is not None and (member_id not in last or at > last[member_id]):
                last[member_id] = at
    return [
        MemberListing(
            member.id,
            member.name,
            member.title,
            code,
            name,
            member.role,
            member.is_head,
            tuple(sorted(platforms[member.id])),
            last.get(member.id),
            member.unreachable_at is not None,
        )
        for member, code, name in rows
    ]


def _active(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.revoked_at is not None:
        raise MemberError(
            f"không có thành viên số {member_id} / no active member {member_id}; "
            "see the ids with `tiendo members`"
        )
    return member


@dataclass(frozen=True)
class Heads:
    """An agency's heads after a change: (member id, name) each."""

    agency_code: str
    members: tuple[tuple[int, str], ...]


def set_head(session: Session, member_id: int, is_head: bool, at: datetime, actor: str) -> Heads:
    """Mark (or unmark) a member as a head of their agency; return the agency's heads now."""
    member = _active(session, member_id)
    if member.is_head != is_head:
        member.is_head = is_head
        session.flush()
        record(
            session,
            at,
            actor,
            "member.head",
            "member",
            member.id,
            agency=member.agency.code,
            head=is_head,
        )
    heads = session.execute(
        select(Member.id, Member.name)
        .where(
            Member.agency_id == member.agency_id,
            Member.is_head.is_(True),
            Member.revoked_at.is_(None),
        )
        .order_by(Member.name, Member.id)
    )
    return Heads(member.agency.code, tuple((i, name) for i, name in heads))


def check_stand_in(session: Session, member_id: int, stand_in_id: int) -> StandInCheck | None:
    """The two people's agencies, or None when either is not an active member (the absence
    itself then says why)."""
    member, stand_in = session.get(Member, member_id), session.get(Member, stand_in_id)
    if member is None or stand_in is None:
        return None
    return StandInCheck(member.name, member.agency.code, stand_in.name, stand_in.agency.code)
