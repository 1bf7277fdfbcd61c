"""Run one conversation step in one transaction: load state, step, apply effects, save."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handlers import directives, onboarding
from handlers.conversation import step
from handlers.core import (
    Conv,
    FailedJoin,
    GiveDirective,
    Join,
    MakeLinkCode,
    MuteItem,
    ReviewReport,
    SaveReport,
    SendExport,
    SetAbsence,
    SetChannel,
    SetLanguage,
    State,
    StepContext,
    Transition,
    new_token,
    remember_menu,
)
from handlers.documents.workbook import write_workbook
from handlers.events import Inbound, InboundFile, OutFile, Reply
from handlers.settings import ConversationSettings
from handlers.texts import Texts
from storage import conversations
from storage.audit import record
from storage.chat_reader import StoreReader
from storage.clock import Clock
from storage.conversations import ConversationRow
from storage.db import Database
from storage.directives import answer_with, give
from storage.models import (
    Assignment,
    Conversation,
    Evidence,
    InboundSeen,
    Member,
    Mute,
    Outbox,
    Programme,
    Report,
    Review,
)
from storage.outbox import Message, enqueue, heard_from
from storage.people import (
    ActiveMember,
    create_link_code,
    find_invite,
    member_behind,
    note_failed_join,
    redeem,
    set_absence,
)
from storage.reports import append_report, settle_current
from storage.textfit import short_text
from storage.worktime import WorkCalendar

log = logging.getLogger(__name__)
Fetch = Callable[[InboundFile], Awaitable[bytes]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# Every update runs this first; built once, it costs only its values (and compiles once).
_SEEN = cast(Table, InboundSeen.__table__)  # the table: a plain insert skips the ORM
_SEEN_INSERT = {
    dialect: insert(_SEEN)
    .values(
        platform=bindparam("platform"),
        key=bindparam("key"),
        seen_at=bindparam("seen_at", type_=_SEEN.c.seen_at.type),
    )
    .on_conflict_do_nothing(index_elements=["platform", "key"])
    .returning(_SEEN.c.id)
    for dialect, insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


class ConversationService:
    """The one entry point every chat platform (and the terminal) calls per inbound event."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: ConversationSettings,
        *,
        tz: ZoneInfo,
        evidence_dir: Path,
        bot_username: str = "",
        default_language: str = "vi",
        calendar: WorkCalendar | None = None,
        default_due_day: int = 25,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.tz = tz
        self.evidence_dir = evidence_dir
        self.bot_username = bot_username
        self.default_language = default_language
        # Overdue counts working days; a programme without its own report due day uses this.
        self.calendar = calendar or WorkCalendar(tz, time(8), time(17))
        self.default_due_day = default_due_day

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    async def handle(self, event: Inbound, fetch: Fetch | None = None) -> list[Reply]:
        """Answer one event; a redelivered event (same update key) is answered once only."""
        try:
            replies, stored = self._step_in_transaction(event)
        except IntegrityError:
            log.info("concurrent first message or duplicate on %s; treated once", event.platform)
            return []
        if stored is not None and fetch is not None:
            return await self._fetch_evidence(event, stored, fetch, replies)
        return replies

    @contextmanager
    def replying(self, replies: Sequence[Reply]) -> Iterator[None]:
        """Send `replies` inside this block: the ones also kept in the outbox (a report's
        confirmation) are marked sent when it ends, or left to the dispatcher to send if it
        fails. A process killed inside it leaves them in flight; the dispatcher's recovery
        sends them after the restart, so the person gets the confirmation exactly once."""
        keys = [r.receipt for r in replies if r.receipt]
        try:
            yield
        except BaseException:
            self._settle(keys, delivered=False)
            raise
        self._settle(keys, delivered=True)

    def _settle(self, keys: list[str], *, delivered: bool) -> None:
        if not keys:
            return
        now = self.clock.now()
        values = {"status": "sent", "sent_at": now} if delivered else {"status": "pending"}
        parts = [Outbox.idempotency_key.startswith(f"{key}:", autoescape=True) for key in keys]
        with self.db.unit_of_work() as session:
            session.execute(
                update(Outbox)
                .where(or_(Outbox.idempotency_key.in_(keys), *parts), Outbox.status == "sending")
                .values(next_attempt_at=now, **values)
            )

    def language_of(self, platform: str, user_id: str) -> str:
        """The language this person reads, for what an adapter says outside a step (an
        apology after a failure, a platform's own note); the default when the store cannot
        tell, since it may be the very thing that failed."""
        try:
            with self.db.unit_of_work() as session:
                member = member_behind(session, platform, user_id)
                if member is not None:
                    return member.language
                stored = session.scalar(
                    select(Conversation.language).where(
                        Conversation.platform == platform, Conversation.external_id == user_id
                    )
                )
        except Exception:  # noqa: BLE001 - the answer is a courtesy; the default will do
            log.warning("could not read the language of a %s account", platform)
            return self.default_language
        return stored or self.default_language

    def _step_in_transaction(self, event: Inbound) -> tuple[list[Reply], str | None]:
        now = self.clock.now()
        today = self.today(now)
        with self.db.unit_of_work() as session:
            if event.update_key and not self._first_time(session, event, now):
                return [], None
            conv_row = conversations.load(
                session,
                event.platform,
                event.user_id,
                language=self.default_language,
                state=State.IDLE,
                menu_token=new_token(),
                now=now,
            )
            who = conv_row.member
            heard_from(session, who)
            language = who.language if who else conv_row.language
            conv = Conv(
                State(conv_row.state),
                dict(conv_row.draft or {}),
                language,
                conv_row.menu_token,
                conv_row.updated_at,
            )
            reader = StoreReader(
                session,
                today,
                now,
                self.tz,
                event.platform,
                event.user_id,
                who,
                default_due_day=self.default_due_day,
            )
            ctx = StepContext(
                event,
                conv,
                who,
                reader,
                now,
                today,
                self.tz,
                Texts(language, self.tz),
                self.settings,
                self.bot_username,
            )
            transition = step(ctx)
            replies = self._apply(session, ctx, transition, conv_row, now)
            stored = None
            if event.file is not None and any(
                e.get("ref") == event.file.ref and not e.get("path")
                for e in transition.draft.get("evidence", [])
            ):
                stored = event.file.ref
            self._save(conv_row, transition, replies, now)
            conversations.save(session, conv_row)
            return replies, stored

    def _first_time(self, session: Session, event: Inbound, now: datetime) -> bool:
        assert event.update_key is not None
        statement = _SEEN_INSERT[session.get_bind().dialect.name]
        params = {"platform": event.platform, "key": event.update_key[:128], "seen_at": now}
        return session.connection().execute(statement, params).first() is not None

    def _save(
        self, row: ConversationRow, transition: Transition, replies: list[Reply], now: datetime
    ) -> None:
        row.state = transition.state
        row.draft = remember_menu(transition.draft, replies)
        row.updated_at = now
        if transition.menu_token:
            row.menu_token = transition.menu_token

    # effects -----------------------------------------------------------------------------

    def _apply(
        self,
        session: Session,
        ctx: StepContext,
        transition: Transition,
        conv_row: ConversationRow,
        now: datetime,
    ) -> list[Reply]:
        replies = list(transition.replies)
        event = ctx.event
        actor = f"{event.platform}:{event.user_id}"

        def linked() -> ActiveMember:
            if ctx.member is None:
                raise RuntimeError(f"{type(effect).__name__} needs a linked member")
            return ctx.member

        def member() -> Member:
            """The linked member as an ORM object: loaded only for effects that change it."""
            found = session.get(Member, linked().id)
            assert found is not None
            return found

        for effect in transition.effects:
            if isinstance(effect, Join):
                invite = find_invite(session, effect.code)
                assert invite is not None
                linking = invite.member_id is not None
                joined = redeem(
                    session,
                    invite,
                    event.platform,
                    event.user_id,
                    event.chat_id,
                    short_text(event.display_name, 200),  # member.name, identity.display_name
                    conv_row.language,
                    now,
                )
                tx = Texts(joined.member.language if linking else conv_row.language, self.tz)
                view = ActiveMember.of(joined.member)
                replies.append(
                    onboarding.linked(tx, view, event.platform)
                    if linking
                    else onboarding.welcome(tx, view)
                )
            elif isinstance(effect, FailedJoin):
                note_failed_join(session, event.platform, event.user_id, now)
            elif isinstance(effect, SetLanguage):
                conv_row.language = effect.language
                if ctx.member is not None:
                    member().language = effect.language
            elif isinstance(effect, SaveReport):
                report_id = self._save_report(session, effect, linked(), event.platform, now)
                replies = self._confirmations(session, replies, report_id, linked(), event, now)
            elif isinstance(effect, ReviewReport):
                self._review(session, effect, member(), now)
            elif isinstance(effect, GiveDirective):
                replies.append(self._directive(session, ctx, effect, member(), now))
            elif isinstance(effect, SendExport):
                linked()  # an export is for a linked coordinator only
                replies += self._exports(session, ctx, effect.programme_codes)
            elif isinstance(effect, SetAbsence):
                set_absence(
                    session, linked().id, effect.stand_in_id, effect.days, now, self.tz, actor
                )
            elif isinstance(effect, MakeLinkCode):
                invite = create_link_code(session, member(), now)
                replies.append(onboarding.link_code_reply(ctx.tx, invite.code))
            elif isinstance(effect, SetChannel):
                member().preferred_channel = effect.platform
            elif isinstance(effect, MuteItem):
                self._mute(session, effect, linked().id, now)
        return replies

    def _confirmations(
        self,
        session: Session,
        replies: list[Reply],
        report_id: int,
        who: ActiveMember,
        event: Inbound,
        now: datetime,
    ) -> list[Reply]:
        """Keep a report's confirmation in the outbox, in the report's transaction, marked in
        flight to this chat: the adapter answers and marks it sent (`replying`); if the
        process dies first, the dispatcher sends it after the restart. Only its text goes
        there: its buttons belong to a conversation that will have moved on by then."""
        kept = []
        for index, reply in enumerate(replies):
            key = f"report:{report_id}:confirmation:{index}"
            enqueue(
                session,
                key=key,
                member=who,
                reason="report",
                message=Message(reply.text_with_details()),
                due_at=now,
                now=now,
                chat=(event.platform, event.chat_id),
                in_flight=True,
            )
            kept.append(replace(reply, receipt=key))
        return kept

    def _save_report(
        self, session: Session, effect: SaveReport, who: ActiveMember, channel: str, now: datetime
    ) -> int:
        report_id = append_report(
            session,
            assignment_id=effect.assignment_id,
            member_id=who.id,
            agency_id=who.agency_id,
            status=effect.status,
            percent=effect.percent,
            note=effect.note,
            channel=channel,
            at=now,
            tz=self.tz,
            corrects_id=effect.corrects_id,
        )
        for file in effect.evidence:
            if file.get("path"):
                session.add(
                    Evidence(
                        report_id=report_id,
                        kind=file["kind"],
                        file_name=file["file_name"],
                        mime_type=file["mime_type"],
                        size=file["size"],
                        path=file["path"],
                        sha256=file["sha256"],
                    )
                )
        record(
            session,
            now,
            f"member:{who.id}",
            "report.add",
            "assignment",
            effect.assignment_id,
            report=report_id,
            status=effect.status,
            percent=effect.percent,
        )
        self._tell_answered(session, effect, who, report_id, now)
        return report_id

    def _review(
        self, session: Session, effect: ReviewReport, member: Member, now: datetime
    ) -> None:
        report = session.get(Report, effect.report_id)
        if report is None:
            return
        review = Review(
            report_id=report.id,
            member_id=member.id,
            decision=effect.decision,
            reason=effect.reason,
            created_at=now,
        )
        session.add(review)
        session.flush()
        if effect.decision == "returned":
            settle_current(session, report.assignment_id, self.tz)
        reporter = session.get(Member, report.member_id) if report.member_id else None
        if reporter is None:
            return
        item = session.get(Assignment, report.assignment_id).item  # type: ignore[union-attr]
        tx = Texts(reporter.language, self.tz)
        if effect.decision == "confirmed":
            text = tx._(
                "Báo cáo nội dung {code} ngày {when} đã được {office} xác nhận.",
                code=item.code,
                when=tx.moment(report.created_at),
                office=member.agency.name,
            )
        else:
            text = tx._(
                "Báo cáo nội dung {code} ngày {when} đã bị {office} trả lại. Lý do: "
                "{reason}\nGõ /sua {code} để sửa báo cáo.",
                code=item.code,
                when=tx.moment(report.created_at),
                office=member.agency.name,
                reason=effect.reason,
            )
        enqueue(
            session,
            key=f"review:{review.id}",
            member=reporter,
            reason="review",
            message=Message(text),
            due_at=now,
            now=now,
        )

    def _directive(
        self,
        session: Session,
        ctx: StepContext,
        effect: GiveDirective,
        member: Member,
        now: datetime,
    ) -> Reply:
        """Record the directive and its recipients; tell every reachable member of each."""
        given = give(
            session,
            item_id=effect.item_id,
            author=member,
            text=effect.text,
            due_on=effect.due_on,
            scope=effect.scope,
            at=now,
        )
        if given is None:
            return directives.not_given(ctx.tx)
        for sent in given.recipients:
            for recipient in sent.members:
                text = directives.notice(
                    Texts(recipient.language, self.tz), given, sent, recipient, member
                )
                enqueue(
                    session,
                    key=f"directive:{given.directive_id}:{recipient.id}",
                    member=recipient,
                    reason="directive",
                    message=Message(text),
                    due_at=now,
                    now=now,
                )
        return directives.given_reply(ctx.tx, given)

    def _tell_answered(
        self, session: Session, effect: SaveReport, who: ActiveMember, report_id: int, now: datetime
    ) -> None:
        """Link the report as the answer to open directives its agency received on the item
        (or above it), and tell each directive's author."""
        for answered in answer_with(
            session,
            report_id=report_id,
            assignment_id=effect.assignment_id,
            agency_id=who.agency_id,
            status=effect.status,
            percent=effect.percent,
            note=effect.note,
            at=now,
        ):
            author = session.get(Member, answered.directive.author_id)
            if author is None or author.revoked_at is not None:
                continue
            enqueue(
                session,
                key=f"directive-answer:{answered.directive.id}:{who.agency_id}",
                member=author,
                reason="directive",
                message=Message(
                    directives.answered_text(Texts(author.language, self.tz), answered)
                ),
                due_at=now,
                now=now,
            )

    def _mute(self, session: Session, effect: MuteItem, member_id: int, now: datetime) -> None:
        assignment = session.get(Assignment, effect.assignment_id)
        if assignment is None:
            return
        until = now + timedelta(days=7)
        mute = session.scalar(
            select(Mute).where(Mute.member_id == member_id, Mute.item_id == assignment.item_id)
        )
        if mute is None:
            session.add(Mute(member_id=member_id, item_id=assignment.item_id, until=until))
        else:
            mute.until = until

    def _exports(self, session: Session, ctx: StepContext, codes: Sequence[str]) -> list[Reply]:
        """One workbook per programme asked for (the store's only one when none is named)."""
        labels = {
            code: alias
            for code, alias in session.execute(
                select(Programme.code, Programme.alias).where(Programme.code.in_(codes))
            )
        }
        named = len(codes) > 1 or (session.scalar(select(func.count(Programme.id))) or 0) > 1
        replies = []
        for code in codes or [""]:
            label = (labels.get(code) or code) if named else ""
            buffer = io.BytesIO()
            write_workbook(
                session,
                ctx.today,
                buffer,
                self.tz,
                ctx.tx,
                programme_codes=[code] if code else None,
                default_due_day=self.default_due_day,
                calendar=self.calendar,
            )
            name = "-".join(["tien-do", *([label] if label else []), ctx.today.isoformat()])
            text = (
                ctx.tx._(
                    "Bảng tổng hợp chương trình {programme} đến ngày {day}.",
                    programme=label,
                    day=ctx.tx.date(ctx.today),
                )
                if label
                else ctx.tx._("Bảng tổng hợp đến ngày {day}.", day=ctx.tx.date(ctx.today))
            )
            replies.append(Reply(text, file=OutFile(f"{name}.xlsx", buffer.getvalue(), XLSX)))
        return replies

    # evidence ----------------------------------------------------------------------------

    async def _fetch_evidence(
        self, event: Inbound, ref: str, fetch: Fetch, replies: list[Reply]
    ) -> list[Reply]:
        """Download an accepted file outside the transaction, then record where it lies."""
        assert event.file is not None
        try:
            content = await fetch(event.file)
            limit = self.settings.max_evidence_mb * 1024 * 1024
            if len(content) > limit:
                raise ValueError("file larger than the limit")
        except Exception:  # noqa: BLE001 - any failure: tell the official, keep the rest
            log.warning("could not download evidence on %s", event.platform, exc_info=True)
            self._update_evidence(event, ref, None)
            tx = Texts(self._language(event), self.tz)
            return [
                Reply(
                    tx._("Không tải được tệp {name}. Vui lòng gửi lại.", name=event.file.file_name)
                )
            ]
        digest = hashlib.sha256(content).hexdigest()
        suffix = Path(event.file.file_name).suffix.lower()[:8]
        path = self.evidence_dir / digest[:2] / f"{digest}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(content)
        self._update_evidence(
            event, ref, {"path": str(path), "sha256": digest, "size": len(content)}
        )
        return replies

    def _update_evidence(self, event: Inbound, ref: str, stored: dict[str, Any] | None) -> None:
        with self.db.unit_of_work() as session:
            row = conversations.load(
                session,
                event.platform,
                event.user_id,
                language=self.default_language,
                state=State.IDLE,
                menu_token=new_token(),
                now=self.clock.now(),
            )
            draft = dict(row.draft)
            kept = []
            for entry in draft.get("evidence", []):
                if entry.get("ref") == ref and not entry.get("path"):
                    if stored is None:
                        continue
                    entry = dict(entry, **stored)
                kept.append(entry)
            draft["evidence"] = kept
            row.draft = draft
            conversations.save(session, row)

    def _language(self, event: Inbound) -> str:
        with self.db.unit_of_work() as session:
            who = member_behind(session, event.platform, event.user_id)
            return who.language if who else self.default_language
