"""Agencies over time: merge, rename, and the listings coordinators read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.audit import record
from storage.models import (
    Agency,
    Assignment,
    AssignmentRole,
    Identity,
    Invite,
    Item,
    Locality,
    Member,
    Programme,
    ProgrammeAgency,
)
from storage.programme.lookup import programmes_named


class AgencyError(Exception):
    """A merge or rename that cannot be done; the message says what to do instead."""


@dataclass(frozen=True)
class MergeResult:
    old_code: str
    new_code: str
    assignments_moved: int
    assignments_archived: int
    members_moved: int
    invites_moved: int


@dataclass(frozen=True)
class MemberRow:
    name: str
    role: str
    platforms: tuple[str, ...]


@dataclass(frozen=True)
class ProgrammeRole:
    """An agency's part in one programme: its flags and how many items it leads, supports."""

    programme: str  # the code
    label: str  # the alias people type, or the code
    coordinates: bool
    leadership: bool
    lead: int
    support: int


@dataclass(frozen=True)
class AgencyRow:
    code: str
    name: str
    locality_code: str
    locality_name: str
    coordinates: tuple[str, ...]  # the programmes it coordinates (alias or code)
    leadership: tuple[str, ...]  # the programmes whose directing Vice-Chair sits there
    merged_into: str | None
    archived: bool
    members: tuple[MemberRow, ...]
    programmes: tuple[ProgrammeRole, ...] = ()  # its part in each programme it takes part in


@dataclass(frozen=True)
class ItemRow:
    programme: str
    code: str
    kind: str
    title: str
    parent_code: str | None
    depth: int
    archived: bool
    lead: tuple[str, ...]
    support: tuple[str, ...]
    due: date | None
    programme_label: str = ""  # the alias people type, or the code


def agency_by_code(session: Session, code: str) -> Agency:
    """Return the agency with this code or raise AgencyError."""
    agency = session.scalar(select(Agency).where(Agency.code == code.strip().upper()))
    if agency is None:
        raise AgencyError(
            f'không có cơ quan mã "{code}" / unknown agency code "{code}"; '
            "see the codes with `tiendo agencies`"
        )
    return agency


def _code_of(session: Session, agency_id: int | None) -> str | None:
    """Return an agency's code by id."""
    if agency_id is None:
        return None
    return session.scalar(select(Agency.code).where(Agency.id == agency_id))


def merge_agencies(
    session: Session, old_code: str, new_code: str, at: datetime, actor: str
) -> MergeResult:
    """Fold OLD into NEW: its assignments, members and open invites move; OLD is archived."""
    old, new = agency_by_code(session, old_code), agency_by_code(session, new_code)
    if old.id == new.id:
        raise AgencyError(
            f"không thể hợp nhất {old.code} vào chính nó / cannot merge "
            f"{old.code} into itself; give the surviving agency's code second"
        )
    if old.merged_into_id is not None:
        raise AgencyError(
            f"{old.code} đã được hợp nhất vào {_code_of(session, old.merged_into_id)}"
            f" / {old.code} was already merged; nothing to do"
        )
    if new.merged_into_id is not None:
        survivor = _code_of(session, new.merged_into_id)
        raise AgencyError(
            f"{new.code} đã được hợp nhất vào {survivor} / {new.code} was merged "
            f"into {survivor}; merge into {survivor} instead"
        )
    if old.locality_id != new.locality_id:
        raise AgencyError(
            f"{old.code} ({old.locality.name}) và {new.code} ({new.locality.name}) "
            "khác địa phương / the two agencies belong to different localities; "
            "merge only agencies of one locality"
        )

    new_by_item = {
        a.item_id: a
        for a in session.scalars(select(Assignment).where(Assignment.agency_id == new.id))
    }
    moved = archived = 0
    for assignment in session.scalars(select(Assignment).where(Assignment.agency_id == old.id)):
        kept = new_by_item.get(assignment.item_id)
        if kept is None:
            assignment.agency_id = new.id
            moved += 1
            continue
        # NEW already has this item: OLD's stays with its reports, archived.
        if assignment.archived_at is None:
            if kept.archived_at is not None:
                kept.archived_at = None
                kept.role, kept.due_date, kept.cadence = (
                    assignment.role,
                    assignment.due_date,
                    assignment.cadence,
                )
            elif assignment.role == AssignmentRole.LEAD:
                kept.role = AssignmentRole.LEAD
            assignment.archived_at = at
            archived += 1
            record(
                session,
                at,
                actor,
                "assignment.archive",
                "assignment",
                assignment.id,
                item=assignment.item.code,
                agency=old.code,
                reason=f"merged into {new.code}, which already has this item",
            )

    _merge_roles(session, old.id, new.id)
    members = list(session.scalars(select(Member).where(Member.agency_id == old.id)))
    for member in members:
        member.agency_id = new.id
    invites = list(
        session.scalars(
            select(Invite).where(
                Invite.agency_id == old.id, Invite.used_at.is_(None), Invite.revoked_at.is_(None)
            )
        )
    )
    for invite in invites:
        invite.agency_id = new.id
    for earlier in session.scalars(select(Agency).where(Agency.merged_into_id == old.id)):
        earlier.merged_into_id = new.id  # keep merges one step deep
    old.merged_into_id = new.id
    old.archived_at = at
    session.flush()
    result = MergeResult(old.code, new.code, moved, archived, len(members), len(invites))
    record(
        session,
        at,
        actor,
        "agency.merge",
        "agency",
        old.code,
        into=new.code,
        old_name=old.name,
        new_name=new.name,
        assignments_moved=moved,
        assignments_archived=archived,
        members_moved=len(members),
        invites_moved=len(invites),
    )
    return result


def _merge_roles(session: Session, old_id: int, new_id: int) -> None:
    """NEW takes part in OLD's programmes, with OLD's roles there added to its own."""
    kept = {
        r.programme_id: r
        for r in session.scalars(select(ProgrammeAgency).where(ProgrammeAgency.agency_id == new_id))
    }
    for role in session.scalars(select(ProgrammeAgency).where(ProgrammeAgency.agency_id == old_id)):
        survivor = kept.get(role.programme_id)
        if survivor is None:
            session.add(
                ProgrammeAgency(
                    programme_id=role.programme_id,
                    agency_id=new_id,
                    coordinates=role.coordinates,
                    leadership=role.leadership,
                )
            )
        else:
            survivor.coordinates = survivor.coordinates or role.coordinates
            survivor.leadership = survivor.leadership or role.leadership


def rename_agency(session: Session, code: str, new_name: str, at: datetime, actor: str) -> None:
    """Give an agency a new name; reports keep the name they were filed under."""
    agency = agency_by_code(session, code)
    name = " ".join(new_name.split())
    if not name:
        raise AgencyError("tên mới không được để trống / the new name must not be empty")
    if len(name) > 300:
        raise AgencyError(
            "tên mới quá dài (tối đa 300 ký tự) / the new name is over 300 characters; shorten it"
        )
    if agency.merged_into_id is not None:
        survivor = _code_of(session, agency.merged_into_id)
        raise AgencyError(
            f"{agency.code} đã được hợp nhất vào {survivor} / {agency.code} was "
            f"merged into {survivor}; rename {survivor} instead"
        )
    if agency.name == name:
        return
    old_name, agency.name = agency.name, name
    session.flush()
    record(
        session, at, actor, "agency.rename", "agency", agency.code, old_name=old_name, new_name=name
    )


def _programme_roles(
    session: Session, programmes: list[Programme]
) -> dict[int, list[ProgrammeRole]]:
    """Each agency's part in each of these programmes, in programme order."""
    ids = [p.id for p in programmes]
    counts: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    active = (
        select(Item.programme_id, Assignment.agency_id, Assignment.role, func.count())
        .join(Item, Item.id == Assignment.item_id)
        .where(
            Item.programme_id.in_(ids),
            Assignment.archived_at.is_(None),
            Item.archived_at.is_(None),
        )
        .group_by(Item.programme_id, Assignment.agency_id, Assignment.role)
    )
    for programme_id, agency_id, role, n in session.execute(active):
        counts[(programme_id, agency_id)][role] += int(n)
    by_id = {p.id: p for p in programmes}
    found: dict[int, list[ProgrammeRole]] = defaultdict(list)
    rows = session.scalars(
        select(ProgrammeAgency)
        .where(ProgrammeAgency.programme_id.in_(ids))
        .order_by(ProgrammeAgency.programme_id)
    )
    for row in rows:
        programme = by_id[row.programme_id]
        tally = counts.get((row.programme_id, row.agency_id), {})
        found[row.agency_id].append(
            ProgrammeRole(
                programme.code,
                programme.label,
                row.coordinates,
                row.leadership,
                tally.get(AssignmentRole.LEAD, 0),
                tally.get(AssignmentRole.SUPPORT, 0),
            )
        )
    return found


def list_agencies(session: Session, programme: str | None = None) -> list[AgencyRow]:
    """Every agency (or those taking part in the programme typed, alias or code) with its
    locality, its part in each programme, merge target and active members."""
    programmes = programmes_named(session, programme)
    roles = _programme_roles(session, programmes)
    query = (
        select(Agency)
        .join(Locality)
        .order_by(Locality.code, Agency.merged_into_id.is_not(None), Agency.code)
    )
    if programme is not None:
        query = query.where(Agency.id.in_(list(roles)))
    agencies = list(session.scalars(query))
    codes = {a.id: a.code for a in agencies}
    members: dict[int, list[Member]] = defaultdict(list)
    for member in session.scalars(
        select(Member).where(Member.revoked_at.is_(None)).order_by(Member.name, Member.id)
    ):
        members[member.agency_id].append(member)
    platforms: dict[int, set[str]] = defaultdict(set)
    for member_id, platform in session.execute(select(Identity.member_id, Identity.platform)):
        platforms[member_id].add(platform)
    return [
        AgencyRow(
            code=a.code,
            name=a.name,
            locality_code=a.locality.code,
            locality_name=a.locality.name,
            coordinates=tuple(r.label for r in roles.get(a.id, []) if r.coordinates),
            leadership=tuple(r.label for r in roles.get(a.id, []) if r.leadership),
            merged_into=codes.get(a.merged_into_id) if a.merged_into_id else None,
            archived=a.archived_at is not None,
            members=tuple(
                MemberRow(m.name, m.role, tuple(sorted(platforms[m.id]))) for m in members[a.id]
            ),
            programmes=tuple(roles.get(a.id, [])),
        )
        for a in agencies
    ]


def item_tree(session: Session, programme: str | None = None) -> list[ItemRow]:
    """The items in notice order with depth, lead and supporting agencies and due date, of
    the programme typed (alias or code; UnknownProgramme if none) or of every programme."""
    return [row for p in programmes_named(session, programme) for row in _tree_rows(session, p)]


def _tree_rows(session: Session, programme: Programme) -> list[ItemRow]:
    """One programme's items depth-first in notice order."""
    items = list(
        session.scalars(
            select(Item).where(Item.programme_id == programme.id).order_by(Item.position, Item.id)
        )
    )
    by_id = {i.id: i for i in items}
    children: dict[int | None, list[Item]] = defaultdict(list)
    for item in items:
        children[item.parent_id if item.parent_id in by_id else None].append(item)
    lead: dict[int, list[str]] = defaultdict(list)
    support: dict[int, list[str]] = defaultdict(list)
    due: dict[int, date] = {}
    if by_id:
        active = (
            select(Assignment.item_id, Assignment.role, Assignment.due_date, Agency.code)
            .join(Agency, Agency.id == Assignment.agency_id)
            .where(Assignment.item_id.in_(list(by_id)), Assignment.archived_at.is_(None))
            .order_by(Assignment.id)
        )
        for item_id, role, due_date, code in session.execute(active):
            (lead if role == AssignmentRole.LEAD else support)[item_id].append(code)
            if due_date is not None and (item_id not in due or due_date < due[item_id]):
                due[item_id] = due_date
    rows: list[ItemRow] = []
    stack: list[tuple[Item, int]] = [(item, 0) for item in reversed(children[None])]
    while stack:
        item, depth = stack.pop()
        parent = by_id.get(item.parent_id) if item.parent_id is not None else None
        rows.append(
            ItemRow(
                programme=programme.code,
                code=item.code,
                kind=item.kind,
                title=item.title,
                parent_code=parent.code if parent else None,
                depth=depth,
                archived=item.archived_at is not None,
                lead=tuple(lead[item.id]),
                support=tuple(support[item.id]),
                due=due.get(item.id),
                programme_label=programme.label,
            )
        )
        stack.extend((child, depth + 1) for child in reversed(children[item.id]))
    return rows
