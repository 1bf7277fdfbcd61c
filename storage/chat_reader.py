"""The store's answers to what a conversation step asks (read only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import directives
from storage.aggregate.states import assignment_states
from storage.aggregate.summary import summary
from storage.directives import (
    Candidate,
    DirectiveTarget,
    DirectiveView,
    ProgrammeRef,
    directed_programmes,
)
from storage.models import Agency, Assignment, Evidence, Item, Member, Report, Review
from storage.people import (
    ActiveMember,
    chat_targets,
    failed_joins_since,
    find_invite,
    invite_problem,
)


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
    ) -> None:
        self.session = session
        self.today = today
        self.now = now
        self.tz = tz
        self.platform = platform
        self.external_id = external_id
        self.member = member
        self._summary: Any = None
        self._directed: list[ProgrammeRef] | None = None

    def agency_states(self, agency_id: int) -> Sequence[Any]:
        return assignment_states(self.session, self.today, agency_ids=[agency_id])

    def agency_state(self, agency_id: int, code: str) -> Any | None:
        """The agency's assignment on exactly this item, if it has one."""
        states = assignment_states(self.session, self.today, agency_ids=[agency_id], item_code=code)
        return states[0] if states else None

    def item_states(self, code: str) -> Sequence[Any]:
        """Every agency's state on an item and on everything under it."""
        return assignment_states(self.session, self.today, item_codes=[code])

    def assignment_state(self, assignment_id: int) -> Any | None:
        states = assignment_states(self.session, self.today, assignment_ids=[assignment_id])
        return states[0] if states else None

    def item(self, code: str) -> Item | None:
        return self.session.scalar(
            select(Item).where(Item.code == code, Item.archived_at.is_(None)).limit(1)
        )

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

    def invite_problem(self, code: str) -> str | None:
        return invite_problem(find_invite(self.session, code), self.now)

    def failed_joins_last_hour(self) -> int:
        return failed_joins_since(
            self.session, self.platform, self.external_id, self.now - timedelta(hours=1)
        )

    def summary(self) -> Any:
        if self._summary is None:
            self._summary = summary(self.session, self.today, tz=self.tz, limit=SUMMARY_ROWS)
        return self._summary

    def _report_views(self, where: Any, limit: int) -> list[ReportView]:
        rows = self.session.execute(
            select(Report, Agency.code, Item.code, Item.title, Member.name)
            .join(Assignment, Assignment.id == Report.assignment_id)
            .join(Item, Item.id == Assignment.item_id)
            .join(Agency, Agency.id == Report.agency_id)
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
            )
            for r, agency_code, item_code, title, name in rows
        ]

    def recent_reports(self, limit: int) -> Sequence[ReportView]:
        reviewed = select(Review.report_id)
        since = self.now - timedelta(days=14)
        return self._report_views((Report.created_at >= since) & Report.id.not_in(reviewed), limit)

    def report(self, report_id: int) -> ReportView | None:
        views = self._report_views(Report.id == report_id, 1)
        return views[0] if views else None

    def channels(self) -> Sequence[str]:
        """The platforms this member has linked, preferred first."""
        if self.member is None:
            return []
        return [i.platform for i in chat_targets(self.session, self.member) if i.platform != "cli"]

    def colleagues(self) -> Sequence[Member]:
        if self.member is None:
            return []
        return list(
            self.session.scalars(
                select(Member)
                .where(
                    Member.agency_id == self.member.agency_id,
                    Member.id != self.member.id,
                    Member.revoked_at.is_(None),
                )
                .order_by(Member.name)
            )
        )
