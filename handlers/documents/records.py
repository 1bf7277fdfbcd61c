"""What the office files show beside the current state: every report with its reviews, the
Vice-Chairs' directives with who answered, and the evidence files, of given programmes.

Read-only queries, a few per file written; the rows are plain values the sheets lay out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from storage.aggregate.codes import natural_key
from storage.aggregate.states import load_items
from storage.aggregate.tree import tree_order
from storage.models import (
    Agency,
    Assignment,
    Directive,
    DirectiveRecipient,
    Evidence,
    Item,
    Member,
    Programme,
    Report,
    Review,
)


@dataclass(frozen=True)
class ReviewRecord:
    decision: str  # confirmed | returned
    reason: str
    at: datetime
    office: str  # the reviewer's agency


@dataclass(frozen=True)
class ReportRecord:
    """One report as filed, and where it stands now."""

    id: int
    programme_id: int
    programme_label: str
    item_code: str
    agency_code: str
    agency_name: str  # as filed: a renamed agency's old reports keep their name
    reporter: str | None
    created_at: datetime
    status: str
    percent: int
    note: str
    evidence: int
    corrects_id: int | None
    current: bool  # the assignment's latest report
    corrected_by: int | None  # a later report that corrects this one
    reviews: tuple[ReviewRecord, ...]

    @property
    def returned(self) -> bool:
        """The office's latest word on it was to complete it (returned)."""
        return bool(self.reviews) and self.reviews[-1].decision == "returned"


@dataclass(frozen=True)
class RecipientRecord:
    agency_code: str
    agency_name: str
    role: str  # lead | support | counterpart
    reached: bool
    answer_report_id: int | None
    answered_at: datetime | None
    answered_by: str | None


@dataclass(frozen=True)
class DirectiveRecord:
    id: int
    programme_id: int
    programme_label: str
    item_code: str
    item_text: str  # the commitment's full text
    created_at: datetime
    vice_chair: str
    text: str
    due_on: date | None
    closed_at: datetime | None
    recipients: tuple[RecipientRecord, ...]


@dataclass(frozen=True)
class EvidenceRecord:
    programme_id: int
    programme_label: str
    item_code: str
    agency_code: str
    report_id: int
    created_at: datetime
    file_name: str
    mime_type: str
    size: int
    path: str


def item_texts(session: Session, item_ids: Collection[int]) -> dict[int, str]:
    """The full text of each item (its title when the notice gave no more)."""
    if not item_ids:
        return {}
    rows = session.execute(select(Item.id, Item.text, Item.title).where(Item.id.in_(item_ids)))
    return {item_id: text or title for item_id, text, title in rows}


def _document_order(session: Session) -> Any:
    """A sort key: programme, then the notice's order of the item, then its code."""
    order = tree_order(load_items(session))

    def key(programme_id: int, item_id: int, code: str) -> tuple[Any, ...]:
        return programme_id, order.get(item_id, len(order)), natural_key(code)

    return key


def report_history(session: Session, programme_ids: Collection[int]) -> list[ReportRecord]:
    """Every report on the programmes' items, archived ones too, by item, agency and time."""
    if not programme_ids:
        return []
    reporter = aliased(Member)
    rows = session.execute(
        select(
            Report,
            Item.id,
            Item.code,
            Item.programme_id,
            Programme.alias,
            Programme.code,
            Agency.code,
            reporter.name,
            Assignment.latest_report_id,
        )
        .join(Assignment, Assignment.id == Report.assignment_id)
        .join(Item, Item.id == Assignment.item_id)
        .join(Programme, Programme.id == Item.programme_id)
        .join(Agency, Agency.id == Report.agency_id)
        .outerjoin(reporter, reporter.id == Report.member_id)
        .where(Item.programme_id.in_(list(programme_ids)))
    ).all()
    ids = [row[0].id for row in rows]
    reviews: dict[int, list[ReviewRecord]] = defaultdict(list)
    evidence: dict[int, int] = defaultdict(int)
    corrected_by: dict[int, int] = {}
    for chunk in _chunks(ids):
        for review, office in session.execute(
            select(Review, Agency.name)
            .join(Member, Member.id == Review.member_id)
            .join(Agency, Agency.id == Member.agency_id)
            .where(Review.report_id.in_(chunk))
            .order_by(Review.created_at, Review.id)
        ):
            reviews[review.report_id].append(
                ReviewRecord(review.decision, review.reason, review.created_at, office)
            )
        for report_id in session.scalars(
            select(Evidence.report_id).where(Evidence.report_id.in_(chunk))
        ):
            evidence[report_id] += 1
        for later, earlier in session.execute(
            select(Report.id, Report.corrects_id).where(Report.corrects_id.in_(chunk))
        ):
            if earlier is not None:
                corrected_by.setdefault(earlier, later)
    key = _document_order(session)
    records = [
        ReportRecord(
            report.id,
            programme_id,
            alias or programme_code,
            item_code,
            agency_code,
            report.agency_name,
            name,
            report.created_at,
            report.status,
            report.percent,
            report.note,
            evidence[report.id],
            report.corrects_id,
            report.id == latest,
            corrected_by.get(report.id),
            tuple(reviews[report.id]),
        )
        for (
            report,
            item_id,
            item_code,
            programme_id,
            alias,
            programme_code,
            agency_code,
            name,
            latest,
        ) in rows
    ]
    item_of = {row[0].id: row[1] for row in rows}
    records.sort(
        key=lambda r: (
            key(r.programme_id, item_of[r.id], r.item_code),
            r.agency_code,
            r.created_at,
            r.id,
        )
    )
    return records


def directives(session: Session, programme_ids: Collection[int]) -> list[DirectiveRecord]:
    """The Vice-Chairs' directives on the programmes' items, oldest first per programme, each
    with the agencies it went to and the report that answered each."""
    if not programme_ids:
        return []
    rows = session.execute(
        select(
            Directive,
            Item.code,
            Item.text,
            Item.title,
            Item.programme_id,
            Programme.alias,
            Programme.code,
        )
        .join(Item, Item.id == Directive.item_id)
        .join(Programme, Programme.id == Item.programme_id)
        .where(Item.programme_id.in_(list(programme_ids)))
        .order_by(Item.programme_id, Directive.created_at, Directive.id)
    ).all()
    ids = [row[0].id for row in rows]
    names = dict(
        session.execute(
            select(Member.id, Member.name).where(Member.id.in_({row[0].member_id for row in rows}))
        ).all()
    )
    recipients: dict[int, list[RecipientRecord]] = defaultdict(list)
    reporter = aliased(Member)
    for chunk in _chunks(ids):
        for recipient, code, name, answered_by in session.execute(
            select(DirectiveRecipient, Agency.code, Agency.name, reporter.name)
            .join(Agency, Agency.id == DirectiveRecipient.agency_id)
            .outerjoin(Report, Report.id == DirectiveRecipient.answer_report_id)
            .outerjoin(reporter, reporter.id == Report.member_id)
            .where(DirectiveRecipient.directive_id.in_(chunk))
            .order_by(DirectiveRecipient.id)
        ):
            recipients[recipient.directive_id].append(
                RecipientRecord(
                    code,
                    name,
                    recipient.role,
                    recipient.reached,
                    recipient.answer_report_id,
                    recipient.answered_at,
                    answered_by,
                )
            )
    return [
        DirectiveRecord(
            d.id,
            programme_id,
            alias or programme_code,
            code,
            text or title,
            d.created_at,
            names.get(d.member_id, "—"),
            d.text,
            d.due_on,
            d.closed_at,
            tuple(recipients[d.id]),
        )
        for d, code, text, title, programme_id, alias, programme_code in rows
    ]


def evidence_files(session: Session, programme_ids: Collection[int]) -> list[EvidenceRecord]:
    """Every evidence file sent with a report on the programmes' items, by item and time."""
    if not programme_ids:
        return []
    rows = list(
        session.execute(
            select(
                Evidence,
                Report.created_at,
                Item.id,
                Item.code,
                Item.programme_id,
                Programme.alias,
                Programme.code,
                Agency.code,
            )
            .join(Report, Report.id == Evidence.report_id)
            .join(Assignment, Assignment.id == Report.assignment_id)
            .join(Item, Item.id == Assignment.item_id)
            .join(Programme, Programme.id == Item.programme_id)
            .join(Agency, Agency.id == Report.agency_id)
            .where(Item.programme_id.in_(list(programme_ids)))
        )
    )
    key = _document_order(session)
    rows.sort(key=lambda r: (key(r[4], r[2], r[3]), r[1], r[0].id))
    return [
        EvidenceRecord(
            programme_id,
            alias or programme_code,
            code,
            agency_code,
            evidence.report_id,
            created_at,
            evidence.file_name,
            evidence.mime_type,
            evidence.size,
            evidence.path,
        )
        for (
            evidence,
            created_at,
            _,
            code,
            programme_id,
            alias,
            programme_code,
            agency_code,
        ) in rows
    ]


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    """Split ids for IN lists: SQLite and PostgreSQL take long lists, but not unbounded."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]
