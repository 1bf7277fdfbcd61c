"""Members, their chat identities and one-time invites."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, join

from storage.audit import record
from storage.models import (
    Absence,
    Agency,
    Identity,
    Invite,
    JoinAttempt,
    Locality,
    Member,
    Role,
)
from storage.roles import coordinates_any, leadership_any

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_CODE_SHAPE = re.compile(r"^[A-Za-z0-9]{4}[- ]?[A-Za-z0-9]{4}$")


class PeopleError(Exception):
    """A request about people that cannot be done; the message says why."""


@dataclass(frozen=True)
class Redeemed:
    member: Member
    identity: Identity


def invite_code_of(text: str) -> str | None:
    """Turn what someone typed into a stored invite code, or None if it cannot be one."""
    text = text.strip()
    if not _CODE_SHAPE.match(text):
        return None
    return re.sub(r"[- ]", "", text).upper()


def create_invites(
    session: Session,
    agency_code: str,
    role: str,
    count: int,
    expires: timedelta,
    at: datetime,
    actor: str,
    member_name: str = "",
) -> list[Invite]:
    """Make `count` single-use invite codes for an agency and role."""
    agency = session.scalar(select(Agency).where(Agency.code == agency_code.upper()))
    if agency is None:
        raise PeopleError(
            f"không có cơ quan mã {agency_code!r} / unknown agency code; see `tiendo agencies`"
        )
    if agency.merged_into_id is not None:
        raise PeopleError(
            f"cơ quan {agency.code} đã được hợp nhất / agency was merged; "
            "invite to the surviving agency"
        )
    if role not in set(Role):
        raise PeopleError(
            f"vai trò không hợp lệ / unknown role {role!r}; use one of {', '.join(Role)}"
        )
    if not 1 <= count <= 500:
        raise PeopleError("số lượng phải từ 1 đến 500 / --count must be 1..500")
    problem = role_problem(session, agency.id, role)
    if problem == "not_leadership":
        raise PeopleError(
            f"{agency.code} không phải nơi Phó Chủ tịch chỉ đạo chương trình nào (leadership) "
            f"nên không mời vai trò vice_chair được / {agency.code} has leadership in no "
            "programme; a vice_chair invite is only for the agency of a directing Vice-Chair"
        )
    if problem == "not_coordinating":
        raise PeopleError(
            f"{agency.code} không là cơ quan đầu mối của chương trình nào (coordinates) "
            f"nên không mời vai trò coordinator được / {agency.code} coordinates no "
            "programme; a coordinator invite is only for a coordinating office"
        )
    invites = []
    for _ in range(count):
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        invite = Invite(
            code=code,
            agency_id=agency.id,
            role=role,
            member_name=member_name,
            created_at=at,
            expires_at=at + expires,
        )
        session.add(invite)
        invites.append(invite)
    session.flush()
    record(session, at, actor, "invite.create", "agency", agency.code, role=role, count=count)
    return invites


def find_invite(session: Session, code: str) -> Invite | None:
    return session.scalar(select(Invite).where(Invite.code == code))


def invite_problem(invite: Invite | None, at: datetime) -> str | None:
    """Say why an invite cannot be used now: missing, used, revoked or expired."""
    if invite is None:
        return "unknown"
    if invite.revoked_at is not None:
        return "revoked"
    if invite.used_at is not None:
        return "used"
    if invite.expires_at <= at:
        return "expired"
    return None


def role_problem(session: Session, agency_id: int, role: str) -> str | None:
    """Say why an agency cannot hold this role now: a Vice-Chair sits in an agency with
    leadership in some programme, a coordinator in one that coordinates some programme."""
    if role == Role.VICE_CHAIR and not session.scalar(select(leadership_any(agency_id))):
        return "not_leadership"
    if role == Role.COORDINATOR and not session.scalar(select(coordinates_any(agency_id))):
        return "not_coordinating"
    return None


def failed_joins_since(session: Session, platform: str, external_id: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(JoinAttempt)
            .where(
                JoinAttempt.platform == platform,
                JoinAttempt.external_id == external_id,
                JoinAttempt.at >= since,
            )
        )
        or 0
    )


def note_failed_join(session: Session, platform: str, external_id: str, at: datetime) -> None:
    session.add(JoinAttempt(platform=platform, external_id=external_id, at=at))


def identity_of(session: Session, platform: str, external_id: str) -> Identity | None:
    return session.scalar(
        select(Identity).where(Identity.platform == platform, Identity.external_id == external_id)
    )


@dataclass(frozen=True)
class ActiveMember:
    """Who is behind a chat account, as one light row: every chat update asks."""

    id: int
    name: str
    role: str
    agency_id: int
    agency_code: str
    agency_name: str
    locality_code: str
    language: str
    preferred_channel: str
    unreachable: bool = False  # marked so by the dispatcher; a message from them clears it

    @classmethod
    def of(cls, member: Member) -> ActiveMember:
        """The light row of a member already loaded (one who has just joined, say)."""
        agency = member.agency
        return cls(
            member.id,
            member.name,
            member.role,
            agency.id,
            agency.code,
            agency.name,
            agency.locality.code,
            member.language,
            member.preferred_channel,
            member.unreachable_at is not None,
        )


# Chat accounts joined to their members, revoked ones left out; with an ActiveMember's columns,
# storage.conversations reads them in the same statement as the conversation. Built once: per
# call only the values change, so SQLAlchemy neither rebuilds nor re-keys them.
LINKED_MEMBERS = (
    join(Identity, Member, (Identity.member_id == Member.id) & Member.revoked_at.is_(None))
    .join(Agency, Agency.id == Member.agency_id)
    .join(Locality, Locality.id == Agency.locality_id)
)
ACTIVE_COLUMNS = (
    Member.id,
    Member.name,
    Member.role,
    Member.agency_id,
    Agency.code,
    Agency.name,
    Locality.code,
    Member.language,
    Member.preferred_channel,
    Member.unreachable_at.is_not(None),
)
_ACCOUNT = (
    Identity.platform == bindparam("platform"),
    Identity.external_id == bindparam("external_id"),
)
_ACTIVE_MEMBER = select(Member).select_from(LINKED_MEMBERS).where(*_ACCOUNT)
_ACTIVE_VIEW = select(*ACTIVE_COLUMNS).select_from(LINKED_MEMBERS).where(*_ACCOUNT)


def active_member(session: Session, platform: str, external_id: str) -> Member | None:
    """The member behind a chat account, unless unlinked or revoked."""
    return session.scalar(_ACTIVE_MEMBER, {"platform": platform, "external_id": external_id})


def member_behind(session: Session, platform: str, external_id: str) -> ActiveMember | None:
    """`active_member` as a light row, for reading (no ORM object to track)."""
    row = (
        session.connection()
        .execute(_ACTIVE_VIEW, {"platform": platform, "external_id": external_id})
        .first()
    )
    # tuple(): mypy types a row of more than ten columns as open-ended
    return ActiveMember(*tuple(row)) if row is not None else None


def create_link_code(
    session: Session, member: Member, at: datetime, expires: timedelta = timedelta(hours=1)
) -> Invite:
    """A one-time code that links one more chat account (e.g. Zalo) to this member."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    invite = Invite(
        code=code,
        agency_id=member.agency_id,
        role=member.role,
        member_name=member.name,
        created_at=at,
        expires_at=at + expires,
        member_id=member.id,
    )
    session.add(invite)
    session.flush()
    return invite


def redeem(
    session: Session,
    invite: Invite,
    platform: str,
    external_id: str,
    chat_id: str,
    display_name: str,
    language: str,
    at: datetime,
) -> Redeemed:
    """Use an invite: create the member (or take the one it links) and link this account."""
    existing = session.get(Member, invite.member_id) if invite.member_id else None
    if existing is not None and existing.revoked_at is None:
        identity = link_identity(
            session, existing, platform, external_id, chat_id, display_name, at
        )
        invite.used_at, invite.used_by_member_id = at, existing.id
        record(
            session,
            at,
            f"{platform}:{external_id}",
            "member.link",
            "member",
            existing.id,
            platform=platform,
        )
        return Redeemed(existing, identity)
    member = Member(
        agency_id=invite.agency_id,
        name=invite.member_name or display_name or "?",
        role=invite.role,
        language=language,
        preferred_channel=platform,
        created_at=at,
    )
    session.add(member)
    session.flush()
    identity = link_identity(session, member, platform, external_id, chat_id, display_name, at)
    invite.used_at, invite.used_by_member_id = at, member.id
    session.flush()
    record(
        session,
        at,
        f"{platform}:{external_id}",
        "member.join",
        "member",
        member.id,
        agency=invite.agency.code,
        role=invite.role,
    )
    return Redeemed(member, identity)


def link_identity(
    session: Session,
    member: Member,
    platform: str,
    external_id: str,
    chat_id: str,
    display_name: str,
    at: datetime,
) -> Identity:
    """Link a chat account to a member, moving it if it belonged to someone else."""
    identity = identity_of(session, platform, external_id)
    if identity is None:
        identity = Identity(
            member_id=member.id,
            platform=platform,
            external_id=external_id,
            chat_id=chat_id,
            display_name=display_name,
            linked_at=at,
        )
        session.add(identity)
    else:
        identity.member_id, identity.chat_id, identity.linked_at = member.id, chat_id, at
    session.flush()
    return identity


def revoke(session: Session, member_or_code: str, at: datetime, actor: str) -> str:
    """Revoke a member (by id) or an unused invite (by code); say what was revoked."""
    if member_or_code.isdigit():
        member = session.get(Member, int(member_or_code))
        if member is None:
            raise PeopleError(f"không có thành viên số {member_or_code} / no such member")
        member.revoked_at = at
        record(session, at, actor, "member.revoke", "member", member.id)
        return f"member {member.id} ({member.name})"
    code = invite_code_of(member_or_code)
    invite = find_invite(session, code) if code else None
    if invite is None:
        raise PeopleError(f"không có mã mời {member_or_code!r} / no such invite code")
    invite.revoked_at = at
    record(session, at, actor, "invite.revoke", "invite", invite.code)
    return f"invite {invite.code}"


def chat_targets(session: Session, member: Member | ActiveMember) -> list[Identity]:
    """The member's chat accounts, preferred channel first."""
    identities = list(session.scalars(select(Identity).where(Identity.member_id == member.id)))
    return sorted(identities, key=lambda i: (i.platform != member.preferred_channel, i.id))


def set_absence(
    session: Session,
    member_id: int,
    stand_in_id: int | None,
    days: int,
    at: datetime,
    tz: tzinfo,
    actor: str,
) -> None:
    """End the member's current absence and, with a stand-in, start a new one of `days`."""
    member = session.get(Member, member_id)
    if member is None or member.revoked_at is not None:
        raise PeopleError(f"không có thành viên số {member_id} / no such active member")
    if stand_in_id is not None:
        stand_in = session.get(Member, stand_in_id)
        if stand_in is None or stand_in.revoked_at is not None or stand_in.id == member.id:
            raise PeopleError(
                f"người nhận thay {stand_in_id} không hợp lệ / "
                "the stand-in must be another active member"
            )
        if not 1 <= days <= 90:
            raise PeopleError("số ngày phải từ 1 đến 90 / --days must be 1..90")
    today = at.astimezone(tz).date()
    for current in session.scalars(
        select(Absence).where(Absence.member_id == member.id, Absence.ends_on >= today)
    ):
        current.ends_on = today - timedelta(days=1)
    if stand_in_id is not None:
        session.add(
            Absence(
                member_id=member.id,
                stand_in_id=stand_in_id,
                starts_on=today,
                ends_on=today + timedelta(days=days - 1),
                created_at=at,
            )
        )
    record(session, at, actor, "absence.set", "member", member.id, stand_in=stand_in_id, days=days)
