"""The store's answers to what a conversation step asks (read only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.aggregate.states import assignment_states
from storage.aggregate.summary import summary
from storage.models import Agency, Assignment, Directive, Evidence, Item, Member, Report, Review
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
class DirectiveView:
    created_at: datetime
    author: str
    text: str


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

    def directives(self, item_code: str, limit: int) -> Sequence[DirectiveView]:
        rows = self.session.execute(
            select(Directive, Member.name)
            .join(Item, Item.id == Directive.item_id)
            .join(Member, Member.id == Directive.member_id)
            .where(Item.code == item_code)
            .order_by(Directive.created_at.desc())
            .limit(limit)
        )
        return [DirectiveView(d.created_at, name, d.text) for d, name in rows]

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
