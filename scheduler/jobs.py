"""The scheduler service: one job per kind of work, each writing what is due to the outbox.

The jobs: the daily reminder slot (reminders, escalations and closed reporting cycles, all
in one message per person), the Vice-Chairs' digest, the coordinating offices' digest, the
expiry of idle conversations and the pruning of old update ids. Every job is idempotent: it
keeps the last slot it processed in `scheduler_state`, updated in the same transaction as
the outbox rows it wrote, and every row carries an idempotency key; a re-run, a restart or a
second worker adds nothing, and slots missed while the process was down are caught up.

Two drivers call the same jobs. On the real clock APScheduler fires each one on its own
trigger (cron at the configured time of day in the configured zone; intervals for expiry,
pruning and the leader check) in one worker thread, off the event loop that answers
officials; a new leader first runs every job once, to catch up. A simulated or fixed clock
(`--clock … --speed 3600`, the demo, tests) cannot be followed by real-time triggers, so
then a loop runs every job on the clock's time every few real seconds (`tick`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from handlers.texts import Texts
from scheduler.audience import agency_roles, digest_recipients, load_people, programme_refs
from scheduler.digest import Digest, Role, build_digest
from scheduler.reminder_texts import render_reminder
from scheduler.reminders import PlannedMessage, plan_reminders
from scheduler.settings import SchedulerSettings
from scheduler.slots import due_slots
from storage.aggregate.states import assignment_states
from storage.clock import Clock, SystemClock
from storage.db import Database
from storage.models import (
    Absence,
    Assignment,
    Conversation,
    InboundSeen,
    JoinAttempt,
    Member,
    Mute,
    Programme,
    Report,
    SchedulerState,
)
from storage.outbox import Message, enqueue, target_for
from storage.people import active_member
from storage.periods import MONTHS

log = logging.getLogger(__name__)

# pg_try_advisory_lock key: "tiendo" in ASCII; one scheduler leader per database.
LEADER_LOCK_KEY = 0x7469656E646F
MAX_CATCH_UP_DAYS = 62
REMINDERS_JOB = "reminders"
DIGEST_ROLES: tuple[Role, ...] = ("vice_chair", "coordinator")
EXPIRY_EVERY = timedelta(minutes=1)
LEADER_CHECK_SECONDS = 10.0
SEEN_KEPT = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)


@dataclass
class TickResult:
    """What one tick did."""

    at: datetime
    reminder_slots: list[date] = field(default_factory=list)
    planned: int = 0
    enqueued: int = 0
    unreachable: list[str] = field(default_factory=list)
    digests: int = 0
    expired: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def count(self, reason: str, added: bool) -> None:
        self.planned += 1
        if added:
            self.enqueued += 1
            self.reasons[reason] = self.reasons.get(reason, 0) + 1


class SchedulerService:
    """Plan reminders, escalations, cycle closes and digests; expire idle conversations."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: SchedulerSettings,
        on_enqueued: Callable[[], None] = lambda: None,
        *,
        interval_seconds: float = 1.0,
        leader_check_seconds: float = LEADER_CHECK_SECONDS,
        lock_key: int = LEADER_LOCK_KEY,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.on_enqueued = on_enqueued
        self.interval_seconds = interval_seconds  # the clock-driven loop's pace, real seconds
        self.leader_check_seconds = leader_check_seconds
        self.lock_key = lock_key
        self.reminders = settings.reminders
        self.digests = settings.digests
        self.calendar = settings.work_calendar()
        self._lock_conn: Connection | None = None
        self._pruned_at: datetime | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduler: Any = None  # APScheduler's BackgroundScheduler, on the real clock
        self._leading = False  # what the last leader check found (real clock)
        self._follower: asyncio.Task[None] | None = None  # the clock-driven loop otherwise
        self._stopping = asyncio.Event()

    # the jobs --------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> TickResult:
        """Run every job for `now` (the clock's time by default); safe to repeat.

        Tests, the demo and `tiendo scheduler --once` call it; the clock-driven loop, and a
        new leader on the real clock catching up, run the same jobs in a worker thread.
        """
        result = self._run_all(now or self.clock.now())
        if result.enqueued:
            self.on_enqueued()
        return result

    def _run_all(self, now: datetime) -> TickResult:
        result = TickResult(at=now)
        self.expire_conversations(now, result)
        # The month-old rows need clearing only now and then, not on every tick.
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self.prune(now, result)
        done = self._last_slots()
        self.send_reminders(now, result, done)
        for role in DIGEST_ROLES:
            self.send_digest(role, now, result, done)
        return result

    def expire_conversations(self, now: datetime, result: TickResult) -> None:
        """Reset conversations left half-way, telling the person nothing was saved."""
        with self.db.unit_of_work() as session:
            self._expire_conversations(session, now, result)

    def prune(self, now: datetime, result: TickResult) -> None:
        """Forget month-old update ids and failed join attempts."""
        with self.db.unit_of_work() as session:
            prune_seen(session, now)
        self._pruned_at = now

    def send_reminders(
        self, now: datetime, result: TickResult, done: Mapping[str, date | None] | None = None
    ) -> None:
        """The daily slot: reminders, escalations and closed cycles, one message a person."""
        last = (self._last_slots() if done is None else done).get(REMINDERS_JOB)
        if due_slots(self.calendar, last, now, self.reminders.send_at):
            # Checked again under the job's row lock, in the transaction that writes the rows.
            with self.db.unit_of_work() as session:
                self._reminders(session, now, result)

    def send_digest(
        self,
        role: Role,
        now: datetime,
        result: TickResult,
        done: Mapping[str, date | None] | None = None,
    ) -> None:
        """The digest of the Vice-Chairs or of the coordinating offices."""
        at, weekday = self._digest_at(role)
        last = (self._last_slots() if done is None else done).get(f"digest:{role}")
        if due_slots(self.calendar, last, now, at, weekday=weekday):
            with self.db.unit_of_work() as session:
                self._digest(session, now, role, result)

    def _last_slots(self) -> dict[str, date | None]:
        """Each job's last processed slot, read without a lock (a cheap look before one)."""
        with self.db.sessions() as session:
            rows = session.execute(select(SchedulerState.job, SchedulerState.last_slot))
            return {job: last for job, last in rows}

    def preview(self, at: datetime) -> list[PlannedMessage]:
        """Return the reminders the slot at (or next after) `at` would send; write nothing.

        The preview assumes the scheduler ran on time before that slot.
        """
        slot_day = self.calendar.today(self.preview_slot(at))
        with self.db.sessions() as session:
            try:
                return self._plan(session, slot_day, None)
            finally:
                session.rollback()

    def preview_slot(self, at: datetime) -> datetime:
        """Return the reminder slot a preview at `at` shows: today's if passed, else the next."""
        today = self.calendar.today(at)
        slot = self.calendar.at(today, self.reminders.send_at)
        if self.calendar.is_working_day(today) and slot <= at:
            return slot
        return self.calendar.next_working_slot(at, self.reminders.send_at)

    # reminders -------------------------------------------------------------------------------

    def _reminders(self, session: Session, now: datetime, result: TickResult) -> None:
        state = _job_state(session, REMINDERS_JOB, now)
        slots = due_slots(self.calendar, state.last_slot, now, self.reminders.send_at)
        if not slots:
            return
        slot_day = slots[-1]
        since = state.last_slot
        if since is not None:
            since = max(since, slot_day - timedelta(days=MAX_CATCH_UP_DAYS))
        result.reminder_slots = slots
        for planned in self._plan(session, slot_day, since):
            if planned.recipient_id is None:
                result.unreachable.extend(planned.unreachable_agencies)
                log.info(
                    "nobody can receive reminders of %s, coordinating office included",
                    ", ".join(planned.unreachable_agencies),
                )
                continue
            member = session.get(Member, planned.recipient_id)
            assert member is not None
            added = enqueue(
                session,
                key=planned.key,
                member=member,
                reason=planned.reason,
                message=render_reminder(planned, self.settings.tz),
                due_at=now,
                now=now,
            )
            result.count(planned.reason, added)
        state.last_slot, state.updated_at = slot_day, now

    def _plan(self, session: Session, slot_day: date, since: date | None) -> list[PlannedMessage]:
        """Load what the policy needs for a slot and apply it."""
        window_start = since or self.calendar.previous_working_day(slot_day)
        states = assignment_states(session, slot_day)
        cadences = {
            assignment_id: cadence
            for assignment_id, cadence in session.execute(select(Assignment.id, Assignment.cadence))
        }
        absences = list(
            session.scalars(
                select(Absence).where(
                    Absence.ends_on >= window_start, Absence.starts_on <= slot_day
                )
            )
        )
        moment = self.calendar.at(slot_day, self.reminders.send_at)
        mutes = list(session.scalars(select(Mute).where(Mute.until > moment)))
        longest = max((MONTHS.get(c, 1) for c in cadences.values()), default=1)
        report_days = self._report_days(session, window_start, slot_day, longest)
        return plan_reminders(
            states,
            load_people(session),
            absences,
            mutes,
            self.calendar,
            self.reminders,
            slot_day,
            since=since,
            report_days=report_days,
            cadences=cadences,
            programmes={p.id: p for p in programme_refs(session)},
        )

    def _report_days(
        self, session: Session, start: date, end: date, months: int
    ) -> dict[int, list[date]]:
        """Local dates of the reports that can fall in a period touched by the window (the
        longest period in use is `months` long)."""
        lookback = timedelta(days=31 * (months + 1))
        begin = self.calendar.at(start - lookback, time(0))
        finish = self.calendar.at(end + timedelta(days=1), time(0))
        days: dict[int, list[date]] = {}
        for assignment_id, created_at in session.execute(
            select(Report.assignment_id, Report.created_at).where(
                Report.created_at >= begin, Report.created_at < finish
            )
        ):
            days.setdefault(assignment_id, []).append(self.calendar.today(created_at))
        return days

    # digests ---------------------------------------------------------------------------------

    def _digest_at(self, role: Role) -> tuple[time, int | None]:
        if role == "vice_chair":
            return self.digests.vice_chair_at, self.digests.vice_chair_weekday
        weekday = None if self.digests.coordinator_daily else self.digests.vice_chair_weekday
        return self.digests.coordinator_at, weekday

    def _digest(self, session: Session, now: datetime, role: Role, result: TickResult) -> None:
        state = _job_state(session, f"digest:{role}", now)
        at, weekday = self._digest_at(role)
        slots = due_slots(self.calendar, state.last_slot, now, at, weekday=weekday)
        if not slots:
            return
        slot_day = slots[-1]
        since = state.last_slot
        audience = digest_recipients(session, role)
        several = {a: r.several for a, r in agency_roles(session).items()}
        groups: dict[tuple[int, str, str, bool], list[Member]] = {}
        for programme_id, member in audience:
            named = several.get(member.agency_id, False)
            group = (programme_id, member.agency.locality.code, member.language, named)
            groups.setdefault(group, []).append(member)
        everything = assignment_states(session, slot_day) if groups else []
        for (programme_id, locality, language, named), members in sorted(groups.items()):
            programme = session.get(Programme, programme_id)
            assert programme is not None
            digest = build_digest(
                session,
                slot_day,
                role,
                locality,
                language,
                programme=programme,
                named=named,
                since=since,
                tz=self.settings.tz,
                calendar=self.calendar,
                default_due_day=self.reminders.cycle_day,
                chart=self.digests.chart,
                everything=everything,
            )
            chart = self._write_chart(digest, f"{role}-{locality}-{language}", named, slot_day)
            for member in members:
                target = target_for(session, member)
                photo = chart if target is not None and target.platform == "telegram" else None
                key = f"digest:{role}:p{programme_id}:{member.id}:{slot_day.isoformat()}"
                for suffix, message in digest_messages(digest, photo):
                    added = enqueue(
                        session,
                        key=key + suffix,
                        member=member,
                        reason="digest",
                        message=message,
                        due_at=now,
                        now=now,
                    )
                    result.count("digest", added)
                result.digests += 1
        state.last_slot, state.updated_at = slot_day, now

    def _write_chart(self, digest: Digest, audience: str, named: bool, day: date) -> Path | None:
        """Write the chart PNG under <data_dir>/charts/ (same content, same name)."""
        if not digest.chart_png:
            return None
        folder = self.settings.data_dir / "charts"
        folder.mkdir(parents=True, exist_ok=True)
        tag = "-named" if named else ""
        path = folder / f"digest-{digest.programme_code}-{audience}{tag}-{day.isoformat()}.png"
        path.write_bytes(digest.chart_png)
        return path

    # idle conversations ----------------------------------------------------------------------

    def _expire_conversations(self, session: Session, now: datetime, result: TickResult) -> None:
        minutes = self.settings.idle_minutes
        cutoff = now - timedelta(minutes=minutes)
        rows = list(
            session.scalars(
                select(Conversation)
                .where(Conversation.state != "idle", Conversation.updated_at < cutoff)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            stamp = row.updated_at.isoformat()
            row.state, row.draft, row.updated_at = "idle", {}, now
            result.expired += 1
            member = active_member(session, row.platform, row.external_id)
            if member is None:
                continue
            tx = Texts(member.language, self.settings.tz)
            message = Message(
                tx._(
                    "Thao tác trước đã hết hạn vì không hoạt động {minutes} phút; "
                    "chưa có gì được lưu. Vui lòng bắt đầu lại.",
                    minutes=minutes,
                )
            )
            added = enqueue(
                session,
                key=f"expire:{row.id}:{stamp}",
                member=member,
                reason="expired",
                message=message,
                due_at=now,
                now=now,
            )
            result.count("expired", added)

    # leadership ------------------------------------------------------------------------------

    def acquire_leadership(self) -> bool:
        """Become the one scheduler that fires (PostgreSQL advisory lock); SQLite always is."""
        if self.db.engine.dialect.name != "postgresql":
            return True
        if self._lock_conn is not None:
            try:
                self._lock_conn.execute(text("SELECT 1"))
                return True
            except Exception:  # noqa: BLE001 - the connection died: the lock went with it
                log.warning("lost the scheduler leader connection; trying again")
                self._drop_lock_connection()
        conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = bool(
            conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.lock_key}).scalar()
        )
        if got:
            self._lock_conn = conn
        else:
            conn.close()
        return got

    @property
    def is_leader(self) -> bool:
        return self.db.engine.dialect.name != "postgresql" or self._lock_conn is not None

    def release_leadership(self) -> None:
        """Let another worker's scheduler take over."""
        if self._lock_conn is None:
            return
        try:
            self._lock_conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.lock_key})
        finally:
            self._drop_lock_connection()

    def _drop_lock_connection(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail
                log.debug("closing the leader connection failed", exc_info=True)

    # running ---------------------------------------------------------------------------------

    @property
    def follows_real_time(self) -> bool:
        """Whether real-time triggers can drive the jobs (not with a simulated clock)."""
        return isinstance(self.clock, SystemClock)

    def triggers(self) -> dict[str, Any]:
        """Each job's APScheduler trigger: a time of day in the configured zone, or a pace.

        Cron triggers fire every day; the working calendar (weekends, holidays, swapped
        working Saturdays, the Vice-Chairs' weekly day) is applied by the job itself.
        """
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        tz = self.settings.tz

        def daily(at: time) -> CronTrigger:
            return CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=tz)

        return {
            "leader": IntervalTrigger(seconds=self.leader_check_seconds, timezone=tz),
            "conversations": IntervalTrigger(seconds=EXPIRY_EVERY.total_seconds(), timezone=tz),
            "prune": IntervalTrigger(seconds=PRUNE_EVERY.total_seconds(), timezone=tz),
            REMINDERS_JOB: daily(self.reminders.send_at),
            **{f"digest:{role}": daily(self._digest_at(role)[0]) for role in DIGEST_ROLES},
        }

    def _work(self, job: str) -> Callable[[datetime, TickResult], None]:
        if job == "conversations":
            return self.expire_conversations
        if job == "prune":
            return self.prune
        if job == REMINDERS_JOB:
            return self.send_reminders
        role = next(r for r in DIGEST_ROLES if job == f"digest:{r}")
        return lambda now, result: self.send_digest(role, now, result)

    def _run_job(self, job: str) -> None:
        """Run one job if this process leads (in the scheduler's worker thread)."""
        if not self.is_leader:
            return
        result = TickResult(at=self.clock.now())
        try:
            self._work(job)(result.at, result)
        except Exception:  # noqa: BLE001 - logged; the job's next run or a catch-up retries
            log.exception("scheduler job %s failed", job)
        self._notify(result)

    def _lead(self) -> None:
        """Take or keep the leader lock; a process that becomes the leader first runs every
        job once, to catch up on what is due (a start, or a leader that went away)."""
        was_leading = self._leading
        try:
            self._leading = self.acquire_leadership()
        except Exception:  # noqa: BLE001 - the database is unreachable: the next check retries
            log.exception("scheduler leader check failed")
            self._leading = False
            return
        if self._leading and not was_leading:
            try:
                self._notify(self._run_all(self.clock.now()))
            except Exception:  # noqa: BLE001 - logged; the next check catches up again
                log.exception("scheduler catch-up failed")
                self._leading = False

    def _notify(self, result: TickResult) -> None:
        """Wake the dispatcher on the event loop (jobs run in another thread)."""
        if result.enqueued and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.on_enqueued)

    async def start(self) -> None:
        """Start the jobs: on APScheduler's triggers, or on the injected clock's time."""
        if self._scheduler is not None or self._follower is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        if not self.follows_real_time:
            self._follower = asyncio.create_task(self._follow_clock(), name="scheduler-clock")
            return
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        # A line per run of the leader check would drown the log, and the jobs are listed
        # below; late runs and failures are warnings and errors, and still show.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        scheduler = BackgroundScheduler(
            timezone=self.settings.tz,
            # One worker thread: jobs run one after another, never two on the store at once.
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={
                "coalesce": True,  # runs missed while the process was stalled: once
                "max_instances": 1,
                # Never dropped for being late: the job knows whether its slot's window is
                # still open, and the next slot gathers what a missed one would have sent.
                "misfire_grace_time": None,
            },
        )
        for job, trigger in self.triggers().items():
            if job == "leader":
                scheduler.add_job(
                    self._lead, trigger, id=job, name=job, next_run_time=self.clock.now()
                )
            else:
                scheduler.add_job(self._run_job, trigger, args=[job], id=job, name=job)
        scheduler.start()
        self._scheduler = scheduler
        slots = (REMINDERS_JOB, *(f"digest:{role}" for role in DIGEST_ROLES))
        log.info(
            "scheduler jobs next run: %s",
            ", ".join(
                f"{job} {when.astimezone(self.settings.tz):%d/%m %H:%M}"
                for job, when in self.next_runs().items()
                if job in slots
            ),
        )

    async def _follow_clock(self) -> None:
        """Run every job on the injected clock's time every few real seconds."""
        while not self._stopping.is_set():
            try:
                if await asyncio.to_thread(self.acquire_leadership):
                    self._notify(await asyncio.to_thread(self._run_all, self.clock.now()))
            except Exception:  # noqa: BLE001 - logged; the next round tries again
                log.exception("scheduler tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval_seconds)

    def next_runs(self) -> dict[str, datetime]:
        """When each job fires next (real clock only; empty otherwise)."""
        if self._scheduler is None:
            return {}
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    async def stop(self) -> None:
        """Stop the jobs (waiting for the one running) and give up the leader lock."""
        self._stopping.set()
        if self._follower is not None:
            await self._follower
            self._follower = None
        if self._scheduler is not None:
            scheduler, self._scheduler = self._scheduler, None
            await asyncio.to_thread(scheduler.shutdown, True)
        await asyncio.to_thread(self.release_leadership)
        self._leading = False


# loading -------------------------------------------------------------------------------------


def _job_state(session: Session, job: str, now: datetime) -> SchedulerState:
    """Return the job's row, locked for this transaction (created on first use)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(SchedulerState)
        .values(job=job, last_slot=None, updated_at=now)
        .on_conflict_do_nothing(index_elements=["job"])
    )
    return session.scalars(
        select(SchedulerState).where(SchedulerState.job == job).with_for_update()
    ).one()


def digest_messages(digest: Digest, chart: Path | None) -> list[tuple[str, Message]]:
    """A digest's messages with their key suffixes: the chart photo first, then the text with
    the item buttons (enqueue cuts it into the parts the channel takes)."""
    messages: list[tuple[str, Message]] = []
    if chart is not None:
        messages.append((":chart", Message("", None, str(chart), chart.name, photo=True)))
    messages.append(("", Message(digest.text, digest.item_buttons or None)))
    return messages


def prune_seen(session: Session, now: datetime) -> None:
    """Forget update ids and failed join attempts older than a month (platforms redeliver
    within hours), so these tables stay small."""
    session.execute(delete(InboundSeen).where(InboundSeen.seen_at < now - SEEN_KEPT))
    session.execute(delete(JoinAttempt).where(JoinAttempt.at < now - SEEN_KEPT))
