"""The store's answers to what a conversation step asks (read only), as named views."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from storage import directives
from storage.aggregate.states import AssignmentState, assignment_states
from storage.aggregate.summary import Summary, summary
from storage.directives import (
    Candidate,
    DirectiveTarget,
    DirectiveView,
    ProgrammeRef,
    directed_programmes,
)
from storage.models import (
    Agency,
    Assignment,
    Evidence,
    Item,
    Locality,
    Member,
    Outbox,
    Programme,
    Report,
    Review,
)
from storage.people import (
    ActiveMember,
    chat_targets,
    failed_joins_since,
    find_invite,
    invite_problem,
    role_problem,
)
from storage.roles import parts_of


@dataclass(frozen=True)
class ProgrammeView:
    """A programme, with the part the reading member's agency has in it."""

    id: int
    code: str
    label: str  # the alias people type (HY), or the code
    title: str
    takes_part: bool  # the agency is listed in the programme's file
    coordinates: bool
    leadership: bool


@dataclass(frozen=True)
class ItemView:
    id: int
    programme_id: int
    code: str
    title: str
    text: str


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    created_at: datetime
    agency_name: str
    status: str
    percent: int
    note: str
    evidence: list[str]


@dataclass(frozen=True)
class ReportView:
    id: int
    created_at: datetime
    agency_code: str
    agency_name: str
    item_code: str
    item_title: str
    status: str
    percent: int
    note: str
    reporter_name: str | None
    programme_id: int
    programme_label: str
    locality_code: str  # the reporting agency's


@dataclass(frozen=True)
class MemberView:
    """A colleague, as /vangmat offers them."""

    id: int
    name: str


@dataclass(frozen=True)
class InviteView:
    """An invite code as the person typing it will use it, and why it cannot be, if so."""

    code: str
    agency_code: str
    agency_name: str
    role: str
    member_name: str
    member_id: int | None  # a link code: the member whose account it links
    problem: str | None  # used, expired, revoked, not_leadership, not_coordinating


# Lists longer than this are cut in chat (the counts stay complete); /xuat has everything.
SUMMARY_ROWS = 200


class StoreReader:
    """Read-only queries for one conversation step, in the step's transaction."""

    def __init__(
        self,
        session: Session,
        today: date,
        now: datetime,
        tz: tzinfo,
        platform: str,
        external_id: str,
        member: ActiveMember | None,
        *,
        default_due_day: int = 25,
    ) -> None:
        self.session = session
        self.default_due_day = default_due_day  # for a programme that sets no report due day
        self.today = today
        self.now = now
        self.tz = tz
        self.platform = platform
        self.external_id = external_id
        self.member = member
        self._summaries: dict[str, Summary] = {}
        self._programmes: list[ProgrammeView] | None = None
        self._directed: list[ProgrammeRef] | None = None

    def programmes(self) -> Sequence[ProgrammeView]:
        """Every programme, oldest first, with the member's agency's part in each."""
        if self._programmes is None:
            agency_id = self.member.agency_id if self.member is not None else None
            self._programmes = [
                ProgrammeView(
                    programme.id,
                    programme.code,
                    programme.label,
                    programme.title,
                    part is not None,
                    part is not None and part.coordinates,
                    part is not None and part.leadership,
                )
                for programme, part in parts_of(self.session, agency_id)
            ]
        return self._programmes

    def agency_states(self, agency_id: int) -> Sequence[AssignmentState]:
        """The agency's assignments in every programme, by programme, in document order."""
        return assignment_states(self.session, self.today, agency_ids=[agency_id])

    def agency_states_on(self, agency_id: int, code: str) -> Sequence[AssignmentState]:
        """The agency's assignments on exactly this item code, one per programme that has it."""
        return assignment_states(self.session, self.today, agency_ids=[agency_id], item_code=code)

    def item_states(self, code: str, programme_id: int) -> Sequence[AssignmentState]:
        """Every agency's state on a programme's item and on everything under it."""
        return assignment_states(
            self.session, self.today, item_codes=[code], programme_ids=[programme_id]
        )

    def assignment_state(self, assignment_id: int) -> AssignmentState | None:
        states = assignment_states(self.session, self.today, assignment_ids=[assignment_id])
        return states[0] if states else None

    def items(self, code: str) -> Sequence[ItemView]:
        """The item with this code in each programme that has it."""
        rows = self.session.execute(
            select(Item.id, Item.programme_id, Item.code, Item.title, Item.text)
            .where(Item.code == code, Item.archived_at.is_(None))
            .order_by(Item.programme_id)
        )
        return [ItemView(*row) for row in rows]

    def item(self, code: str) -> ItemView | None:
        """The item with this code in the first programme that has it: for the directive
        flow, until it takes a programme (the others ask `items`)."""
        found = self.items(code)
        return found[0] if found else None

    def history(self, assignment_ids: Sequence[int], limit: int) -> Sequence[HistoryEntry]:
        if not assignment_ids:
            return []
        reports = list(
            self.session.scalars(
                select(Report)
                .where(Report.assignment_id.in_(assignment_ids))
                .order_by(Report.created_at.desc(), Report.id.desc())
                .limit(limit)
            )
        )
        files: dict[int, list[str]] = {}
        for evidence in self.session.scalars(
            select(Evidence).where(Evidence.report_id.in_([r.id for r in reports]))
        ):
            files.setdefault(evidence.report_id, []).append(evidence.file_name)
        return [
            HistoryEntry(
                r.id, r.created_at, r.agency_name, r.status, r.percent, r.note, files.get(r.id, [])
            )
            for r in reports
        ]

    def directives(
        self, item_code: str, limit: int, programme_id: int | None = None
    ) -> Sequence[DirectiveView]:
        """The newest directives on an item, with who answered (of one programme if given)."""
        return directives.on_item(self.session, item_code, programme_id, limit)

    def directive_programmes(self) -> Sequence[ProgrammeRef]:
        """The programmes this member may direct: where their agency has leadership (an admin:
        all)."""
        if self._directed is None:
            member = self.member
            self._directed = (
                []
                if member is None
                else directed_programmes(
                    self.session, member.agency_id, every=member.role == "admin"
                )
            )
        return self._directed

    def directive_items(self, code: str) -> Sequence[DirectiveTarget]:
        ids = [p.id for p in self.directive_programmes()]
        return directives.targets(self.session, code, ids)

    def directive_target(self, item_id: int) -> DirectiveTarget | None:
        found = directives.target(self.session, item_id)
        ids = {p.id for p in self.directive_programmes()}
        return found if found is not None and found.programme_id in ids else None

    def directive_audience(self, item_id: int) -> Sequence[Candidate]:
        """Who a directive of this member on the item could reach, own locality first."""
        found = self.directive_target(item_id)
        if found is None or self.member is None:
            return []
        return directives.audience(self.session, found, self.member.locality_code)

    def open_directives(self) -> Sequence[DirectiveView]:
        return [] if self.member is None else directives.open_of(self.session, self.member.id)

    def directive(self, directive_id: int) -> DirectiveView | None:
        return directives.one(self.session, directive_id)

    def invite(self, code: str) -> InviteView | None:
        """The invite with this code (None: no such code), and why it cannot be used now."""
        invite = find_invite(self.session, code)
        if invite is None:
            return None
        problem = invite_problem(invite, self.now)
        if problem is None and invite.member_id is None:
            problem = role_problem(self.session, invite.agency_id, invite.role)
        return InviteView(
            invite.code,
            invite.agency.code,
            invite.agency.name,
            invite.role,
            invite.member_name,
            invite.member_id,
            problem,
        )

    def failed_joins_last_hour(self) -> int:
        return failed_joins_since(
            self.session, self.platform, self.external_id, self.now - timedelta(hours=1)
        )

    def told_since(self, moment: datetime) -> bool:
        """Whether the bot wrote to the member on its own (reminders, notices) after `moment`."""
        if self.member is None:
            return False
        return bool(
            self.session.scalar(
                select(
                    exists().where(Outbox.member_id == self.member.id, Outbox.created_at > moment)
                )
            )
        )

    def summary(self, programme_code: str) -> Summary:
        """One programme's consolidated picture today, in its current period."""
        if programme_code not in self._summaries:
            self._summaries[programme_code] = summary(
                self.session,
                self.today,
                tz=self.tz,
                programme_code=programme_code,
                limit=SUMMARY_ROWS,
                default_due_day=self.default_due_day,
            )
        return self._summaries[programme_code]

    def _report_views(self, where: Any, limit: int) -> list[ReportView]:
        rows = self.session.execute(
            select(
                Report,
                Agency.code,
                Item.code,
                Item.title,
                Member.name,
                Item.programme_id,
                Programme.alias,
                Programme.code,
                Locality.code,
            )
            .join(Assignment, Assignment.id == Report.assignment_id)
            .join(Item, Item.id == Assignment.item_id)
            .join(Programme, Programme.id == Item.programme_id)
            .join(Agency, Agency.id == Report.agency_id)
            .join(Locality, Locality.id == Agency.locality_id)
            .outerjoin(Member, Member.id == Report.member_id)
            .where(where)
            .order_by(Report.id.desc())
            .limit(limit)
        )
        return [
            ReportView(
                r.id,
                r.created_at,
                agency_code,
                r.agency_name,
                item_code,
                title,
                r.status,
                r.percent,
                r.note,
                name,
                programme_id,
                alias or programme_code,
                locality,
            )
            for (
                r,
                agency_code,
                item_code,
                title,
                name,
                programme_id,
                alias,
                programme_code,
                locality,
            ) in rows
        ]

    def recent_reports(
        self, limit: int, programme_ids: Collection[int], locality_code: str | None
    ) -> Sequence[ReportView]:
        """Reports of the last two weeks nobody has reviewed, of these programmes (and of this
        locality's agencies, unless None), newest first."""
        reviewed = select(Review.report_id)
        since = self.now - timedelta(days=14)
        where = and_(
            Report.created_at >= since,
            Report.id.not_in(reviewed),
            Item.programme_id.in_(list(programme_ids)),
        )
        if locality_code is not None:
            where = and_(where, Locality.code == locality_code)
        return self._report_views(where, limit)

    def report(self, report_id: int) -> ReportView | None:
        views = self._report_views(Report.id == report_id, 1)
        return views[0] if views else None

    def channels(self) -> Sequence[str]:
        """The platforms this member has linked, preferred first."""
        if self.member is None:
            return []
        return [i.platform for i in chat_targets(self.session, self.member) if i.platform != "cli"]

    def colleagues(self) -> Sequence[MemberView]:
        if self.member is None:
            return []
        rows = self.session.execute(
            select(Member.id, Member.name)
            .where(
                Member.agency_id == self.member.agency_id,
                Member.id != self.member.id,
                Member.revoked_at.is_(None),
            )
            .order_by(Member.name)
        )
        return [MemberView(member_id, name) for member_id, name in rows]
