"""A Vice-Chair's directives: who one goes to, which report answers it, what is still open.

A directive is given on one item of one programme. Its recipients are the agencies assigned to
that item or to an item under it: those of the Vice-Chair's own locality (leads, and supporting
ones when asked) and, only when chosen, the other side's. Each recipient agency is one
`DirectiveRecipient` row, answered by the agency's next report on the item (or under it): the
report is linked in its own transaction (`answer_with`), so the order of events decides, never
two timestamps. The directive closes when every recipient agency has answered.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, or_, select
from sqlalchemy.orm import Session

from storage.aggregate.codes import natural_key
from storage.audit import record
from storage.models import (
    Agency,
    Assignment,
    Directive,
    DirectiveRecipient,
    Identity,
    Item,
    Locality,
    Member,
    Programme,
    ProgrammeAgency,
    Report,
)
from storage.roles import programmes_of

# Where a message can be pushed; a terminal-only account (`tiendo chat`) cannot be told.
PUSH_PLATFORMS: Final = ("telegram", "zalo")
# Who a directive goes to, each scope adding to the one before it.
SCOPES: Final = ("lead", "support", "counterpart")


@dataclass(frozen=True)
class ProgrammeRef:
    """A programme as chat names it: its alias (or code) and title."""

    id: int
    label: str
    code: str
    title: str


@dataclass(frozen=True)
class DirectiveTarget:
    """An item a directive can be given on, with the programme it belongs to."""

    item_id: int
    code: str
    title: str
    programme_id: int
    programme_label: str


@dataclass(frozen=True)
class Candidate:
    """An agency a directive on an item could go to, as seen from the Vice-Chair's locality."""

    agency_id: int
    agency_code: str
    agency_name: str
    locality_code: str
    locality_name: str
    role: str  # lead | support (of the Vice-Chair's locality) | counterpart (the other side)
    codes: tuple[str, ...]  # the items at or under the directive's item it is assigned to
    reachable: int  # members who can be told (linked, reachable, not revoked)


@dataclass(frozen=True)
class Sent:
    """A recipient agency of a directive just given, and the members to tell."""

    candidate: Candidate
    members: tuple[Member, ...]
    several_programmes: bool  # the agency takes part in more than one programme


@dataclass(frozen=True)
class Given:
    """A directive just recorded, with its recipients."""

    directive_id: int
    target: DirectiveTarget
    text: str
    due_on: date | None
    recipients: tuple[Sent, ...]
    several_programmes: bool  # the author directs more than one programme


@dataclass(frozen=True)
class RecipientView:
    """A recipient agency of a directive and its answer, if any."""

    agency_id: int
    agency_code: str
    agency_name: str
    locality_code: str
    role: str
    reached: bool
    answered_at: datetime | None
    answer_status: str | None
    answer_percent: int | None
    answer_note: str


@dataclass(frozen=True)
class DirectiveView:
    """A directive as chat and digests show it."""

    id: int
    programme_id: int | None
    programme_label: str
    item_code: str
    item_title: str
    author_id: int
    author: str
    text: str
    created_at: datetime
    due_on: date | None
    closed_at: datetime | None
    recipients: tuple[RecipientView, ...] = ()

    @property
    def waiting(self) -> tuple[RecipientView, ...]:
        """Recipient agencies that have not answered yet."""
        return tuple(r for r in self.recipients if r.answered_at is None)

    @property
    def answered(self) -> tuple[RecipientView, ...]:
        return tuple(r for r in self.recipients if r.answered_at is not None)

    def overdue(self, today: date) -> bool:
        """Still open after its deadline."""
        return self.closed_at is None and self.due_on is not None and self.due_on < today


@dataclass(frozen=True)
class Answered:
    """A recipient agency's report that answered a directive, for telling its author."""

    directive: DirectiveView
    agency_name: str
    status: str
    percent: int
    note: str
    several_programmes: bool  # the author directs more than one programme


# --- what a Vice-Chair may direct ---------------------------------------------------------------


def directed_programmes(session: Session, agency_id: int, *, every: bool) -> list[ProgrammeRef]:
    """The programmes where the agency has leadership (`every`: all of them, for an admin)."""
    programmes = (
        list(session.scalars(select(Programme).order_by(Programme.id)))
        if every
        else programmes_of(session, agency_id, leadership=True)
    )
    return [ProgrammeRef(p.id, p.label, p.code, p.title) for p in programmes]


def directs_several(session: Session, member: Member) -> bool:
    """Whether the member directs more than one programme (then chat names the programme)."""
    every = member.role == "admin"
    return len(directed_programmes(session, member.agency_id, every=every)) > 1


def targets(session: Session, code: str, programme_ids: Collection[int]) -> list[DirectiveTarget]:
    """The live items with this code in these programmes, in programme order."""
    if not programme_ids:
        return []
    rows = session.execute(
        select(Item.id, Item.code, Item.title, Programme.id, Programme.alias, Programme.code)
        .join(Programme, Programme.id == Item.programme_id)
        .where(
            Item.code == code,
            Item.archived_at.is_(None),
            Item.programme_id.in_(list(programme_ids)),
        )
        .order_by(Programme.id)
    )
    return [
        DirectiveTarget(item_id, item_code, title, programme_id, alias or programme_code)
        for item_id, item_code, title, programme_id, alias, programme_code in rows
    ]


def target(session: Session, item_id: int) -> DirectiveTarget | None:
    """The live item with this id, as a directive target."""
    row = session.execute(
        select(Item.id, Item.code, Item.title, Programme.id, Programme.alias, Programme.code)
        .join(Programme, Programme.id == Item.programme_id)
        .where(Item.id == item_id, Item.archived_at.is_(None))
    ).first()
    return (
        None if row is None else DirectiveTarget(row[0], row[1], row[2], row[3], row[4] or row[5])
    )


def _at_or_under(item: DirectiveTarget) -> ColumnElement[bool]:
    """SQL: an item of the same programme that is `item` or lies under it in the tree."""
    return (Item.programme_id == item.programme_id) & or_(
        Item.id == item.item_id, Item.code.like(f"{item.code}.%")
    )


def audience(session: Session, item: DirectiveTarget, locality_code: str) -> list[Candidate]:
    """Every agency assigned to the item or under it, as the Vice-Chair of `locality_code`
    would reach it: own leads first, then own supporting agencies, then the other side's."""
    rows = session.execute(
        select(
            Agency.id,
            Agency.code,
            Agency.name,
            Locality.code,
            Locality.name,
            Assignment.role,
            Item.code,
        )
        .join(Assignment, Assignment.agency_id == Agency.id)
        .join(Item, Item.id == Assignment.item_id)
        .join(Locality, Locality.id == Agency.locality_id)
        .where(
            _at_or_under(item),
            Item.archived_at.is_(None),
            Assignment.archived_at.is_(None),
            Agency.archived_at.is_(None),
        )
    )
    found: dict[int, dict[str, Any]] = {}
    for agency_id, code, name, locality, locality_name, role, item_code in rows:
        entry = found.setdefault(
            agency_id,
            {"code": code, "name": name, "locality": locality, "locality_name": locality_name,
             "lead": False, "codes": set()},
        )  # fmt: skip
        entry["lead"] = entry["lead"] or role == "lead"
        entry["codes"].add(item_code)
    reachable = reachable_members(session, found)
    candidates = [
        Candidate(
            agency_id,
            entry["code"],
            entry["name"],
            entry["locality"],
            entry["locality_name"],
            "counterpart"
            if entry["locality"] != locality_code
            else "lead"
            if entry["lead"]
            else "support",
            tuple(sorted(entry["codes"], key=natural_key)),
            len(reachable.get(agency_id, ())),
        )
        for agency_id, entry in found.items()
    ]
    return sorted(candidates, key=lambda c: (SCOPES.index(c.role), c.agency_name))


def in_scope(candidates: Sequence[Candidate], scope: str) -> list[Candidate]:
    """The candidates a scope reaches: leads; leads and supporting; everyone."""
    reach = SCOPES.index(scope)
    return [c for c in candidates if SCOPES.index(c.role) <= reach]


def reachable_members(session: Session, agency_ids: Collection[int]) -> dict[int, list[Member]]:
    """Per agency, the members who can be told: linked on a chat platform, not revoked, not
    marked unreachable."""
    if not agency_ids:
        return {}
    linked = select(Identity.member_id).where(Identity.platform.in_(PUSH_PLATFORMS))
    members = session.scalars(
        select(Member)
        .where(
            Member.agency_id.in_(list(agency_ids)),
            Member.revoked_at.is_(None),
            Member.unreachable_at.is_(None),
            Member.id.in_(linked),
        )
        .order_by(Member.id)
    )
    found: dict[int, list[Member]] = {}
    for member in members:
        found.setdefault(member.agency_id, []).append(member)
    return found


# --- giving and answering -----------------------------------------------------------------------


def give(
    session: Session,
    *,
    item_id: int,
    author: Member,
    text: str,
    due_on: date | None,
    scope: str,
    at: datetime,
) -> Given | None:
    """Record a directive and one recipient row per agency in `scope`; return who to tell.

    None when the item is gone or nobody is in scope (the step offers only scopes that reach
    someone, but assignments may change in between).
    """
    item = target(session, item_id)
    if item is None:
        return None
    chosen = in_scope(audience(session, item, author.agency.locality.code), scope)
    if not chosen:
        return None
    directive = Directive(
        programme_id=item.programme_id,
        item_id=item.item_id,
        member_id=author.id,
        text=text,
        due_on=due_on,
        created_at=at,
    )
    session.add(directive)
    session.flush()
    members = reachable_members(session, [c.agency_id for c in chosen])
    programmes = dict(
        session.execute(
            select(ProgrammeAgency.agency_id, func.count())
            .where(ProgrammeAgency.agency_id.in_([c.agency_id for c in chosen]))
            .group_by(ProgrammeAgency.agency_id)
        ).all()
    )
    sent = []
    for candidate in chosen:
        told = tuple(members.get(candidate.agency_id, ()))
        session.add(
            DirectiveRecipient(
                directive_id=directive.id,
                agency_id=candidate.agency_id,
                role=candidate.role,
                reached=bool(told),
            )
        )
        sent.append(Sent(candidate, told, programmes.get(candidate.agency_id, 0) > 1))
    record(
        session,
        at,
        f"member:{author.id}",
        "directive.add",
        "directive",
        directive.id,
        item=item.code,
        programme=item.programme_label,
        scope=scope,
        agencies=[c.agency_code for c in chosen],
    )
    return Given(directive.id, item, text, due_on, tuple(sent), directs_several(session, author))


def answer_with(
    session: Session,
    *,
    report_id: int,
    assignment_id: int,
    agency_id: int,
    status: str,
    percent: int,
    note: str,
    at: datetime,
) -> list[Answered]:
    """Link a report just stored as the answer of every open directive its agency received on
    its item or above it; close the directives every recipient has now answered.

    Called in the report's own transaction, so whatever directive exists now came first.
    Every report runs the first statement (built once, as those of `append_report`); most
    agencies have no open directive and stop there.
    """
    if session.connection().execute(_ANY_OPEN, {"agency_id": agency_id}).first() is None:
        return []
    open_rows = list(
        session.execute(
            select(DirectiveRecipient, Directive.item_id)
            .join(Directive, Directive.id == DirectiveRecipient.directive_id)
            .where(
                DirectiveRecipient.agency_id == agency_id,
                DirectiveRecipient.answer_report_id.is_(None),
                Directive.closed_at.is_(None),
            )
        )
    )
    if not open_rows:
        return []
    item_id = session.scalar(select(Assignment.item_id).where(Assignment.id == assignment_id))
    above = _self_and_ancestors(session, item_id) if item_id is not None else set()
    answering = [row for row, directive_item in open_rows if directive_item in above]
    for row in answering:
        row.answer_report_id = report_id
        row.answered_at = at
    session.flush()
    answers = []
    agency_name = session.scalar(select(Agency.name).where(Agency.id == agency_id)) or ""
    for directive_id in sorted({row.directive_id for row in answering}):
        directive = session.get(Directive, directive_id)
        assert directive is not None
        left = session.scalar(
            select(func.count())
            .select_from(DirectiveRecipient)
            .where(
                DirectiveRecipient.directive_id == directive_id,
                DirectiveRecipient.answer_report_id.is_(None),
            )
        )
        if not left:
            directive.closed_at = at
            session.flush()
        view = views(session, Directive.id == directive_id)[0]
        author = session.get(Member, directive.member_id)
        several = author is not None and directs_several(session, author)
        answers.append(Answered(view, agency_name, status, percent, note, several))
    return answers


_RECIPIENT = cast(Table, DirectiveRecipient.__table__)
_DIRECTIVE = cast(Table, Directive.__table__)
_ANY_OPEN = (
    select(_RECIPIENT.c.id)
    .join(_DIRECTIVE, _DIRECTIVE.c.id == _RECIPIENT.c.directive_id)
    .where(
        _RECIPIENT.c.agency_id == bindparam("agency_id"),
        _RECIPIENT.c.answer_report_id.is_(None),
        _DIRECTIVE.c.closed_at.is_(None),
    )
    .limit(1)
)


def _self_and_ancestors(session: Session, item_id: int) -> set[int]:
    """The item and every item above it in its programme's tree."""
    found: set[int] = set()
    current: int | None = item_id
    while current is not None and current not in found:
        found.add(current)
        current = session.scalar(select(Item.parent_id).where(Item.id == current))
    return found


# --- reading ------------------------------------------------------------------------------------


def views(
    session: Session, *where: ColumnElement[bool], limit: int | None = None
) -> list[DirectiveView]:
    """Directives matching `where`, newest first, each with its recipients and their answers."""
    query = (
        select(Directive, Item.code, Item.title, Member.name, Programme.alias, Programme.code)
        .join(Item, Item.id == Directive.item_id)
        .join(Member, Member.id == Directive.member_id)
        .outerjoin(Programme, Programme.id == Directive.programme_id)
        .where(*where)
        .order_by(Directive.created_at.desc(), Directive.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    directives = list(session.execute(query))
    recipients: dict[int, list[RecipientView]] = {}
    ids = [row[0].id for row in directives]
    if ids:
        rows = session.execute(
            select(
                DirectiveRecipient,
                Agency.code,
                Agency.name,
                Locality.code,
                Report.status,
                Report.percent,
                Report.note,
            )
            .join(Agency, Agency.id == DirectiveRecipient.agency_id)
            .join(Locality, Locality.id == Agency.locality_id)
            .outerjoin(Report, Report.id == DirectiveRecipient.answer_report_id)
            .where(DirectiveRecipient.directive_id.in_(ids))
        )
        for r, code, name, locality, status, percent, note in rows:
            recipients.setdefault(r.directive_id, []).append(
                RecipientView(
                    r.agency_id,
                    code,
                    name,
                    locality,
                    r.role,
                    r.reached,
                    r.answered_at,
                    status,
                    percent,
                    note or "",
                )
            )
    return [
        DirectiveView(
            d.id,
            d.programme_id,
            alias or programme_code or "",
            code,
            title,
            d.member_id,
            author,
            d.text,
            d.created_at,
            d.due_on,
            d.closed_at,
            tuple(
                sorted(
                    recipients.get(d.id, []), key=lambda r: (SCOPES.index(r.role), r.agency_name)
                )
            ),
        )
        for d, code, title, author, alias, programme_code in directives
    ]


def open_of(session: Session, member_id: int) -> list[DirectiveView]:
    """The member's directives still waiting for an answer, newest first."""
    return views(session, Directive.member_id == member_id, Directive.closed_at.is_(None))


def one(session: Session, directive_id: int) -> DirectiveView | None:
    found = views(session, Directive.id == directive_id)
    return found[0] if found else None


def on_item(
    session: Session, item_code: str, programme_id: int | None, limit: int
) -> list[DirectiveView]:
    """The newest directives given on an item (of one programme, when it is known)."""
    where = [Item.code == item_code]
    if programme_id is not None:
        where.append(Directive.programme_id == programme_id)
    return views(session, *where, limit=limit)


def for_digest(
    session: Session,
    programme_ids: Collection[int],
    agency_ids: Collection[int],
    answered_since: datetime,
) -> tuple[list[DirectiveView], list[DirectiveView]]:
    """Directives to the digest's agencies in its programmes: those still open, and those
    answered (by any of the digest's agencies) since the previous digest; oldest first."""
    if not programme_ids or not agency_ids:
        return [], []
    to_them = select(DirectiveRecipient.directive_id).where(
        DirectiveRecipient.agency_id.in_(list(agency_ids))
    )
    found = views(
        session,
        Directive.programme_id.in_(list(programme_ids)),
        Directive.id.in_(to_them),
        or_(Directive.closed_at.is_(None), Directive.closed_at >= answered_since),
    )
    found.reverse()
    still_open = [d for d in found if d.closed_at is None]
    answered = [
        d
        for d in found
        if any(
            r.answered_at is not None
            and r.answered_at >= answered_since
            and r.agency_id in agency_ids
            for r in d.recipients
        )
    ]
    return still_open, answered
