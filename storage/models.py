"""The store's tables: programme, agencies, items, assignments, people, reports, outbox."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Role(StrEnum):
    REPORTER = "reporter"
    COORDINATOR = "coordinator"
    VICE_CHAIR = "vice_chair"
    ADMIN = "admin"


class Status(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


class AssignmentRole(StrEnum):
    LEAD = "lead"
    SUPPORT = "support"


class Programme(Base):
    __tablename__ = "programme"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    notice_date: Mapped[date | None] = mapped_column(Date)
    source_file: Mapped[str] = mapped_column(Text, default="")
    source_sha256: Mapped[str] = mapped_column(String(64), default="")
    phase_start: Mapped[date | None] = mapped_column(Date)
    phase_end: Mapped[date | None] = mapped_column(Date)
    imported_at: Mapped[datetime]
    # What people type for it in chat ("HY 2.2 50%"); the code works too.
    alias: Mapped[str | None] = mapped_column(String(16), unique=True)
    cadence: Mapped[str] = mapped_column(String(16), default="monthly")
    periods: Mapped[str] = mapped_column(String(16), default="decree-09")  # storage.periods
    report_due_day: Mapped[int | None] = mapped_column(Integer)  # None: [reminders] cycle_day

    @property
    def label(self) -> str:
        """How the programme is named in a list: its alias, or its code."""
        return self.alias or self.code


class Locality(Base):
    __tablename__ = "locality"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Agency(Base):
    __tablename__ = "agency"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    locality_id: Mapped[int] = mapped_column(ForeignKey("locality.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    archived_at: Mapped[datetime | None]
    locality: Mapped[Locality] = relationship(lazy="joined")


class ProgrammeAgency(Base):
    """An agency's part in one programme: it takes part, and may coordinate it (the standing
    office of notice section III) or be where a directing Vice-Chair sits (leadership).

    Written only by that programme's import, so another programme's file never changes it.
    """

    __tablename__ = "programme_agency"
    __table_args__ = (UniqueConstraint("programme_id", "agency_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    coordinates: Mapped[bool] = mapped_column(Boolean, default=False)
    leadership: Mapped[bool] = mapped_column(Boolean, default=False)
    # How its periodic reports are headed (layout, names, signer); empty: derived from its name.
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Item(Base):
    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None]
    # What it rolls up to in the notice's tree: its nearest numbered point (2.2.a → 2.2, 3.a →
    # 3) and that point's top group (2.2 → 2). Written by the import.
    field_code: Mapped[str | None] = mapped_column(String(32))
    section_code: Mapped[str | None] = mapped_column(String(32))


class Assignment(Base):
    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("item_id", "agency_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=AssignmentRole.LEAD)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    cadence: Mapped[str] = mapped_column(String(16), default="monthly")
    archived_at: Mapped[datetime | None]
    # The current state: a cache of the report history kept by storage.reports.append_report.
    latest_report_id: Mapped[int | None] = mapped_column(Integer)
    current_status: Mapped[str | None] = mapped_column(String(16))
    current_percent: Mapped[int | None] = mapped_column(Integer)
    last_reported_at: Mapped[datetime | None]
    completed_on: Mapped[date | None] = mapped_column(Date)
    item: Mapped[Item] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship(lazy="joined")


class Member(Base):
    __tablename__ = "member"
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.REPORTER)
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="vi")
    preferred_channel: Mapped[str] = mapped_column(String(16), default="telegram")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    unreachable_at: Mapped[datetime | None]
    agency: Mapped[Agency] = relationship(lazy="joined")


class Identity(Base):
    """A chat account (Telegram, Zalo, terminal) linked to a member."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    linked_at: Mapped[datetime]


class Invite(Base):
    __tablename__ = "invite"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    role: Mapped[str] = mapped_column(String(16))
    member_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    revoked_at: Mapped[datetime | None]
    # Set for a code that links one more chat account to an existing member (/lienket).
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    agency: Mapped[Agency] = relationship(lazy="joined")


class Report(Base):
    """One progress report; never updated, a correction is a new row."""

    __tablename__ = "report"
    __table_args__ = (
        Index("ix_report_assignment_latest", "assignment_id", "id"),
        Index("ix_report_created_assignment", "created_at", "assignment_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    agency_name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    percent: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(16), default="cli")
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    created_at: Mapped[datetime] = mapped_column(index=True)


class Evidence(Base):
    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))


class Review(Base):
    """A coordinator's confirmation of a report, or its return with a reason."""

    __tablename__ = "review"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class Directive(Base):
    """A Vice-Chair's instruction on an item, for agencies of the Vice-Chair's locality."""

    __tablename__ = "directive"
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    due_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None]  # when the last recipient agency answered


class DirectiveRecipient(Base):
    """An agency a directive went to, and the report that answered it."""

    __tablename__ = "directive_recipient"
    __table_args__ = (UniqueConstraint("directive_id", "agency_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directive.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # lead | support | counterpart
    reached: Mapped[bool] = mapped_column(Boolean, default=False)  # someone could be told
    answer_report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    answered_at: Mapped[datetime | None]


class Conversation(Base):
    """Where a chat account stands in a conversation, so restarts lose nothing."""

    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    draft: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(8), default="vi")
    menu_token: Mapped[str] = mapped_column(String(16), default="")
    updated_at: Mapped[datetime]


class InboundSeen(Base):
    """Inbound updates already handled, so a redelivery is handled once."""

    __tablename__ = "inbound_seen"
    __table_args__ = (UniqueConstraint("platform", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    seen_at: Mapped[datetime] = mapped_column(index=True)


class JoinAttempt(Base):
    """A wrong invite code typed by a chat account (to slow guessing down)."""

    __tablename__ = "join_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime]


class Outbox(Base):
    """A message to send, written before sending so that nothing is lost or repeated."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")


class Absence(Base):
    __tablename__ = "absence"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    stand_in_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]


class Mute(Base):
    __tablename__ = "mute"
    __table_args__ = (UniqueConstraint("member_id", "item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    until: Mapped[datetime]


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SchedulerState(Base):
    """How far each scheduler job has run, so a restart catches up once and repeats nothing."""

    __tablename__ = "scheduler_state"
    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_slot: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime]


class ComponentState(Base):
    """How a long-running part of `tiendo run` stands, for `tiendo status` in another process.

    One row per part ("telegram", "zalo"): whether it can reach its Bot API ("ok", "down",
    "stopped"), since when and why, and the replies it had to give up on lately.
    """

    __tablename__ = "component_state"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(300), default="")
    since: Mapped[datetime]
    dropped: Mapped[int] = mapped_column(Integer, default=0)
    last_dropped_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
