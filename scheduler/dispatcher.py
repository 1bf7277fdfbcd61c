"""Drain the outbox within each platform's limits; nothing lost, nothing sent twice.

Each message is marked `sending` (committed) before the Bot API call and `sent` (committed)
right after it. A crash between the two can repeat only that one message on restart: the
dispatcher sends one message at a time, so at most one is ever in flight. A row is one Bot
API call (the outbox writes a long message as one row per part), and a row that must be
retried holds back the rows queued behind it for the same chat, so parts arrive in order.

A platform that answers 5xx or 429, times out or cannot be reached is having an outage: the
message is kept and retried with a capped backoff for as long as it takes, and the outage is
recorded for `tiendo status`. Only a definite answer that the person cannot be reached there
(blocked, chat not found, deactivated) marks them unreachable; a message from them clears it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handlers.ports import Messenger, SendError
from handlers.texts import Texts
from scheduler.audience import coordinating_offices
from scheduler.ratelimit import Limits, PlatformLimiter
from storage import health
from storage.clock import Clock
from storage.db import Database
from storage.models import Member, Outbox
from storage.outbox import Message, enqueue

log = logging.getLogger(__name__)
MAX_UNEXPECTED_ATTEMPTS = 8  # a failure no platform answered (a local fault) is retried so often
BACKOFF_BASE = 2.0
BACKOFF_MAX = 600.0  # an outage is retried every 10 minutes at most, however long it lasts


@dataclass
class DispatchStats:
    sent: int = 0
    transient_failures: int = 0
    rate_limited: int = 0
    permanent_failures: int = 0
    by_platform: dict[str, int] = field(default_factory=dict)
    backoffs: Counter[float] = field(default_factory=Counter)  # seconds waited: how often


class Dispatcher:
    """Send pending outbox rows through the platforms' messengers."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        messengers: Mapping[str, Messenger],
        limits: Mapping[str, Limits],
        batch: int = 200,
        backoff_base: float = BACKOFF_BASE,
    ) -> None:
        self.db = db
        self.backoff_base = backoff_base
        self.clock = clock
        self.messengers = dict(messengers)
        self.limiters = {name: PlatformLimiter(limit) for name, limit in limits.items()}
        self.batch = batch
        self.stats = DispatchStats()
        self._wake = asyncio.Event()
        self._outage: dict[str, bool] = {}  # per platform, as last recorded in the store

    def wake(self) -> None:
        """Tell the loop that new rows may be waiting."""
        self._wake.set()

    def recover(self) -> int:
        """After a restart, rows left `sending` go back to `pending` (at most one per worker)."""
        with self.db.unit_of_work() as session:
            result = session.execute(
                update(Outbox).where(Outbox.status == "sending").values(status="pending")
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def run(
        self,
        stop: asyncio.Event,
        idle_seconds: float = 1.0,
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        """Loop until `stop` is set, sleeping when nothing is due.

        `active` says whether this process may send now: with several workers on PostgreSQL
        only the scheduler leader does, so the platforms' rate limits hold for the whole
        deployment.
        """
        recovered = False
        while not stop.is_set():
            if not active():
                await asyncio.sleep(idle_seconds)
                continue
            if not recovered:
                await asyncio.to_thread(self.recover)
                recovered = True
            delay = await self.drain_once()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(delay, idle_seconds))

    async def drain(self, max_seconds: float = 60.0) -> None:
        """Send everything due now (tests, the demo, `tiendo scheduler --once`)."""
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            delay = await self.drain_once()
            if delay >= 1e9:
                return
            await asyncio.sleep(min(delay, 0.05))

    async def drain_once(self) -> float:
        """Send what the limits allow now; return seconds until something may be sendable.

        The store is read and written in a worker thread, one call at a time: the event loop
        that answers officials never waits for the database here (bench/dispatch_lag.py).
        """
        due = await asyncio.to_thread(self._due)
        if not due:
            return 1e9
        soonest = 1e9
        for row_id, channel, chat_id in due:
            limiter = self.limiters[channel]
            chat_wait = limiter.chat_wait(chat_id, time.monotonic())
            if chat_wait > 0:  # this chat had a message just now: others go first
                soonest = min(soonest, chat_wait)
                continue
            overall_wait = limiter.overall_wait(time.monotonic())
            if overall_wait > 0:
                await asyncio.sleep(overall_wait)
            limiter.take(chat_id, time.monotonic())
            await self._send_one(row_id, channel)
        return 0.0 if soonest == 1e9 else soonest

    async def _send_one(self, row_id: int, channel: str) -> None:
        """Claim the row, call the Bot API, record the outcome: one message in flight."""
        claimed = await asyncio.to_thread(self._claim, row_id)
        if claimed is None:
            return
        chat_id, payload, attempts = claimed
        try:
            await self.messengers[channel].deliver(chat_id, payload)
        except SendError as error:
            await self._retry_or_fail(row_id, channel, error, attempts)
            return
        except Exception as error:  # noqa: BLE001 - a local fault: retried a few times
            log.exception("unexpected error sending outbox %s", row_id)
            failure = SendError(type(error).__name__, transient=False)
            await self._retry_or_fail(row_id, channel, failure, attempts, unexpected=True)
            return
        await asyncio.to_thread(self._mark_sent, row_id, channel)
        self.stats.sent += 1
        self.stats.by_platform[channel] = self.stats.by_platform.get(channel, 0) + 1

    async def _retry_or_fail(
        self,
        row_id: int,
        channel: str,
        error: SendError,
        attempts: int,
        *,
        unexpected: bool = False,
    ) -> None:
        """Keep a message through an outage (pausing the platform on a 429), retry a local
        fault a few times, give up on a refusal; only a person gone is marked unreachable."""
        if error.transient or (unexpected and attempts < MAX_UNEXPECTED_ATTEMPTS):
            outage = None
            if error.retry_after is not None:
                self.stats.rate_limited += 1
                self.limiters[channel].pause(error.retry_after, time.monotonic())
                delay = error.retry_after
            else:
                self.stats.transient_failures += 1
                delay = self.backoff(attempts)
                self.stats.backoffs[delay] += 1
                outage = channel if error.transient else None
            await asyncio.to_thread(self._retry_later, row_id, str(error), delay, outage)
            return
        self.stats.permanent_failures += 1
        log.warning("outbox %s not delivered on %s: %s", row_id, channel, error)
        await asyncio.to_thread(self._give_up, row_id, str(error), error.gone)

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try: doubling, capped, never giving up."""
        return min(BACKOFF_MAX, self.backoff_base ** min(attempts, 32))

    # the store (each in a worker thread) ------------------------------------------------------

    def _due(self) -> list[tuple[int, str, str]]:
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            rows = session.execute(
                select(Outbox.id, Outbox.channel, Outbox.chat_id)
                .where(
                    Outbox.status == "pending",
                    Outbox.next_attempt_at <= now,
                    Outbox.channel.in_(list(self.messengers)),
                )
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(self.batch)
            )
            return [(r.id, r.channel, r.chat_id) for r in rows]

    def _claim(self, row_id: int) -> tuple[str, dict[str, Any], int] | None:
        """Mark the row `sending` and count the attempt; None if it is no longer due."""
        with self.db.unit_of_work() as session:
            row = session.scalar(
                select(Outbox)
                .where(
                    Outbox.id == row_id,
                    Outbox.status == "pending",
                    Outbox.next_attempt_at <= self.clock.now(),  # not held back meanwhile
                )
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return None
            row.status, row.attempts = "sending", row.attempts + 1
            return row.chat_id, dict(row.payload), row.attempts

    def _mark_sent(self, row_id: int, channel: str) -> None:
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            session.execute(
                update(Outbox)
                .where(Outbox.id == row_id)
                .values(status="sent", sent_at=now, last_error="")
            )
            if self._outage.get(channel, True):  # an outage, or nothing known yet: say it is over
                health.mark(session, health.outbox_component(channel), "ok", now)
        self._outage[channel] = False

    def _retry_later(self, row_id: int, why: str, delay: float, outage: str | None) -> None:
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            row = session.get(Outbox, row_id)
            assert row is not None
            row.last_error = why[:500]
            row.status = "pending"
            row.next_attempt_at = now + timedelta(seconds=delay)
            _hold_back_behind(session, row)
            if outage is not None and not self._outage.get(outage, False):
                health.mark(session, health.outbox_component(outage), "down", now, why)
        if outage is not None:
            if not self._outage.get(outage, False):
                log.error("%s Bot API outage: %s; messages wait in the outbox", outage, why)
            self._outage[outage] = True

    def _give_up(self, row_id: int, why: str, gone: bool) -> None:
        """Mark the row failed; mark its member unreachable if the platform said they are
        gone (a blocked bot, a chat not found)."""
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            row = session.get(Outbox, row_id)
            assert row is not None
            row.last_error = why[:500]
            row.status = "failed"
            if gone and row.member_id is not None:
                self._unreachable(session, row.member_id, row.channel, row.last_error, now)

    def _unreachable(
        self, session: Session, member_id: int, channel: str, why: str, now: datetime
    ) -> None:
        """Mark the member unreachable and tell, once, the coordinating offices of their
        programmes in their locality."""
        member = session.get(Member, member_id)
        if member is None or member.unreachable_at is not None:
            return
        member.unreachable_at = now
        for office in coordinating_offices(session, member):
            tx = Texts(office.language)
            text = tx._(
                "Không gửi được tin nhắn cho đồng chí {name} ({agency}) qua {channel}: {why}. "
                "Đề nghị liên hệ trực tiếp để đồng chí gửi một tin nhắn bất kỳ cho bot (ví dụ "
                "/start); sau đó hệ thống gửi nhắc việc bình thường trở lại.",
                name=member.name,
                agency=member.agency.name,
                channel=channel,
                why=why,
            )
            enqueue(
                session,
                key=f"unreachable:{member.id}:{office.id}:{now.date()}",
                member=office,
                reason="unreachable",
                message=Message(text),
                due_at=now,
                now=now,
            )


def _hold_back_behind(session: Session, row: Outbox) -> None:
    """Make the rows already queued for the row's chat wait for its retry, so a person gets
    their messages (the parts of a long one above all) in the order they were written."""
    session.execute(
        update(Outbox)
        .where(
            Outbox.channel == row.channel,
            Outbox.chat_id == row.chat_id,
            Outbox.status == "pending",
            Outbox.id > row.id,
            Outbox.next_attempt_at < row.next_attempt_at,
        )
        .values(next_attempt_at=row.next_attempt_at)
    )
