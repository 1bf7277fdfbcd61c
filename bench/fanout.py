"""Measure how fast the outbox reaches 10,000 people within Telegram's limits, exactly once.

    python bench/fanout.py                   # 10,000 members, ~6 minutes at 29 messages/s
    python bench/fanout.py --members 1000    # a quicker run
    python bench/fanout.py --faults          # 429 storms, 5xx, timeouts, dropped connections

Every member gets one due reminder in the outbox of a fresh SQLite store. The real
`Dispatcher` sends them through a real `TelegramMessenger` over python-telegram-bot's `Bot`,
pointed at a loopback Bot API that enforces Telegram's limits (30 messages/s overall, 1/s
per chat, 20/min per group) by answering 429 with `retry_after`. The dispatcher keeps to
the configured limits (29/s by default). Afterwards every outbox row must have reached its
chat exactly once: duplicates and losses are counted from what the server recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, func, insert, select  # noqa: E402
from telegram import Bot  # noqa: E402

from bot.config import TelegramSettings  # noqa: E402
from bot.loopback.telegram_server import FakeTelegramServer, RateLimits  # noqa: E402
from bot.telegram.adapter import TelegramMessenger  # noqa: E402
from bot.telegram.request import AiohttpRequest  # noqa: E402
from scheduler.dispatcher import BACKOFF_BASE, Dispatcher  # noqa: E402
from scheduler.ratelimit import Limits  # noqa: E402
from storage.clock import SystemClock  # noqa: E402
from storage.db import Database, make_engine, upgrade  # noqa: E402
from storage.models import Agency, Identity, Locality, Member, Outbox  # noqa: E402
from storage.outbox import Message, enqueue  # noqa: E402

USER_BASE = 7_000_000_000
TELEGRAM_CEILING = 30.0  # Telegram's overall limit, messages per second
TARGET_RATE = 28.0
SAMPLE_ENQUEUED = 200  # members whose reminder goes through enqueue(); the rest in bulk
Fault = tuple[float, str, int, int]  # seconds after the start, kind, count, retry_after
# Storms spread over the run.
FAULTS: tuple[Fault, ...] = (
    (1.0, "429", 5, 1),
    (2.5, "500", 3, 1),
    (4.0, "502", 3, 1),
    (5.5, "timeout", 1, 1),
    (7.0, "network", 2, 1),
    (8.5, "429", 3, 2),
)


@dataclass
class FanoutFigures:
    """What one fan-out measured."""

    members: int
    rows: int
    per_second_limit: float
    server_limit: float
    elapsed: float = 0.0
    sustained: float = 0.0
    received: int = 0
    rate_limited: int = 0  # 429s the server answered (injected ones included)
    server_errors: int = 0
    duplicates: int = 0
    lost: int = 0  # rows not received by their chat
    not_marked: int = 0  # rows whose status is not `sent`
    statuses: Counter[str] = field(default_factory=Counter)
    transient_failures: int = 0
    backoffs: Counter[float] = field(default_factory=Counter)  # retry delays chosen, seconds
    faults: bool = False
    injected: list[str] = field(default_factory=list)
    build_seconds: float = 0.0


def reminder(n: int) -> Message:
    """One person's reminder: their due items, each with a button opening the report."""
    first, second = 2 + n % 7, 1 + n % 5
    text = (
        f"Nhắc việc: anh/chị có 2 nội dung sắp đến hạn báo cáo.\n"
        f"• {first}.{second} Lĩnh vực giao thông — Đang thực hiện 40% · hạn 30/06/2020 "
        f"(còn 3 ngày)\n"
        f"• {first}.{second + 1} Lĩnh vực đô thị — Chưa báo cáo · hạn 30/06/2020 "
        f"(còn 3 ngày)"
    )
    return Message(
        text,
        [
            [(f"Báo cáo {first}.{second}", f"r:{n * 2 + 1}")],
            [(f"Báo cáo {first}.{second + 1}", f"r:{n * 2 + 2}")],
        ],
    )


def build_store(path: Path, members: int, now: datetime) -> Database:
    """A fresh SQLite store with `members` linked Telegram members, each with one due
    reminder."""
    return fill_store(make_engine(f"sqlite:///{path}"), members, now)


def fill_store(engine: Engine, members: int, now: datetime) -> Database:
    """Migrate an empty database and give it `members` members, each with a due reminder."""
    upgrade(engine)
    db = Database(engine)
    with db.unit_of_work() as session:
        locality = Locality(code="HY", name="Hưng Yên")
        agency = Agency(code="HY-SXD", name="Sở Xây dựng Hưng Yên", locality=locality)
        session.add(agency)
        session.flush()
        session.execute(
            insert(Member),
            [
                {
                    "agency_id": agency.id,
                    "name": f"Cán bộ {n + 1:05d}",
                    "role": "reporter",
                    "language": "vi",
                    "preferred_channel": "telegram",
                    "created_at": now,
                }
                for n in range(members)
            ],
        )
        ids = list(session.scalars(select(Member.id).order_by(Member.id)))
        session.execute(
            insert(Identity),
            [
                {
                    "member_id": member_id,
                    "platform": "telegram",
                    "external_id": str(USER_BASE + n),
                    "chat_id": str(USER_BASE + n),
                    "display_name": f"Cán bộ {n + 1:05d}",
                    "linked_at": now,
                }
                for n, member_id in enumerate(ids)
            ],
        )
        due = now - timedelta(minutes=1)
        sample = session.scalars(select(Member).order_by(Member.id).limit(SAMPLE_ENQUEUED))
        for n, member in enumerate(sample):  # the store's own path for a sample…
            enqueue(
                session,
                key=f"reminder:{member.id}:bench",
                member=member,
                reason="reminder",
                message=reminder(n),
                due_at=due,
                now=now,
            )
        bulk = [  # …and rows of the same shape, in bulk, for the rest
            {
                "idempotency_key": f"reminder:{member_id}:bench",
                "member_id": member_id,
                "channel": "telegram",
                "chat_id": str(USER_BASE + n),
                "reason": "reminder",
                "payload": reminder(n).payload(),
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": due,
                "last_error": "",
            }
            for n, member_id in enumerate(ids)
            if n >= SAMPLE_ENQUEUED
        ]
        if bulk:
            session.execute(insert(Outbox), bulk)
    return db


async def _inject(
    server: FakeTelegramServer, started: float, figures: FanoutFigures, plan: Sequence[Fault]
) -> None:
    """Inject the planned faults at their moments during the run."""
    for at, kind, count, retry_after in plan:
        await asyncio.sleep(max(0.0, started + at - time.monotonic()))
        server.inject_fault("sendMessage", kind, count, retry_after)  # type: ignore[arg-type]
        figures.injected.append(f"{kind}×{count}")


async def _until_done(dispatcher: Dispatcher, rows: int, deadline: float) -> None:
    """Wait until every row is sent or failed for good (or the deadline passes)."""
    while time.monotonic() < deadline:
        stats = dispatcher.stats
        if stats.sent + stats.permanent_failures >= rows:
            return
        await asyncio.sleep(0.05)


async def measure(
    members: int = 10_000,
    *,
    rate: float | None = None,
    faults: bool = False,
    plan: Sequence[Fault] = FAULTS,
    read_timeout: float = 5.0,
    backoff_base: float = BACKOFF_BASE,
    folder: Path | None = None,
) -> FanoutFigures:
    """Fill the outbox, drain it through the limited loopback Bot API, count the outcome."""
    defaults = TelegramSettings()
    per_second = rate if rate is not None else defaults.messages_per_second
    server_limit = per_second * TELEGRAM_CEILING / defaults.messages_per_second
    limits = Limits(
        per_second, defaults.messages_per_chat_per_second, defaults.messages_per_group_per_minute
    )
    server = FakeTelegramServer(
        rate_limits=RateLimits(
            per_second_overall=server_limit,
            per_chat_per_second=defaults.messages_per_chat_per_second,
            per_group_per_minute=defaults.messages_per_group_per_minute,
        )
    )
    with tempfile.TemporaryDirectory(prefix="tiendo-fanout-") as scratch:
        base = folder or Path(scratch)
        now = datetime.now(UTC)
        built = time.perf_counter()
        db = build_store(base / "fanout.sqlite3", members, now)
        with db.unit_of_work() as session:
            rows = session.scalar(select(func.count()).select_from(Outbox)) or 0
        figures = FanoutFigures(
            members,
            rows,
            per_second,
            server_limit,
            faults=faults,
            build_seconds=time.perf_counter() - built,
        )
        try:
            await server.start()
            for n in range(members):
                server.add_user(USER_BASE + n, f"Cán bộ {n + 1:05d}")
            request = AiohttpRequest(read_timeout=read_timeout)
            async with Bot(
                server.token,
                base_url=server.base_url,
                base_file_url=server.base_file_url,
                request=request,
            ) as bot:
                dispatcher = Dispatcher(
                    db,
                    SystemClock(),
                    {"telegram": TelegramMessenger(bot)},
                    {"telegram": limits},
                    backoff_base=backoff_base,
                )
                await _drain(server, dispatcher, figures, rows, plan)
            _count(server, db, figures)
        finally:
            await server.stop()
            db.dispose()
    return figures


async def _drain(
    server: FakeTelegramServer,
    dispatcher: Dispatcher,
    figures: FanoutFigures,
    rows: int,
    plan: Sequence[Fault],
) -> None:
    """Run the dispatcher (and the fault plan) until every row is settled; time the sends."""
    stop = asyncio.Event()
    started = time.monotonic()
    runner = asyncio.create_task(dispatcher.run(stop, idle_seconds=0.2))
    chaos = asyncio.create_task(_inject(server, started, figures, plan)) if figures.faults else None
    allowance = rows / figures.per_second_limit * 1.5 + 60 + (60 if figures.faults else 0)
    try:
        await _until_done(dispatcher, rows, started + allowance)
    finally:
        stop.set()
        dispatcher.wake()
        if chaos is not None:
            chaos.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chaos
        await runner
    sent = [m for m in server.sent if m.method == "sendMessage"]
    if sent:
        figures.elapsed = sent[-1].at - started
        span = sent[-1].at - sent[0].at
        figures.sustained = (len(sent) - 1) / span if span > 0 else 0.0
    figures.transient_failures = dispatcher.stats.transient_failures
    figures.backoffs = dispatcher.stats.backoffs


def _count(server: FakeTelegramServer, db: Database, figures: FanoutFigures) -> None:
    """Compare what each chat received with its outbox rows."""
    received = Counter(m.chat_id for m in server.sent if m.method == "sendMessage")
    with db.unit_of_work() as session:
        expected = Counter(int(chat) for chat in session.scalars(select(Outbox.chat_id)))
        figures.statuses = Counter(
            dict(session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
        )
    figures.received = sum(received.values())
    figures.duplicates = sum(max(0, received[c] - n) for c, n in expected.items()) + sum(
        n for c, n in received.items() if c not in expected
    )
    figures.lost = sum(max(0, n - received[c]) for c, n in expected.items())
    figures.not_marked = figures.rows - figures.statuses.get("sent", 0)
    figures.rate_limited = server.stats.rate_limited
    figures.server_errors = server.stats.server_errors


def render(figures: FanoutFigures) -> str:
    """The report, one figure per line, with each target's verdict."""
    target = TARGET_RATE * figures.server_limit / TELEGRAM_CEILING
    ok_rate = figures.sustained >= target
    mode = "with faults " + ", ".join(figures.injected) if figures.faults else "no faults"
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"Outbox fan-out through the loopback Bot API ({datetime.now():%Y-%m-%d %H:%M}, "
        f"load {load})",
        f"members {figures.members} · outbox rows {figures.rows} · dispatcher limit "
        f"{figures.per_second_limit:g}/s · server limit {figures.server_limit:g}/s · {mode}",
        f"messages/s sustained {figures.sustained:.1f} (target ≥ {target:g}"
        + (" without faults)" if figures.faults else f": {'met' if ok_rate else 'MISSED'})")
        + f" · elapsed {figures.elapsed:.1f} s"
        f" · store built in {figures.build_seconds:.1f} s",
        f"429s received {figures.rate_limited} · 5xx {figures.server_errors} · "
        f"transient failures retried {figures.transient_failures}"
        + (
            " (after "
            + ", ".join(f"{delay:g} s ×{n}" for delay, n in sorted(figures.backoffs.items()))
            + ")"
            if figures.backoffs
            else ""
        ),
        f"received {figures.received} · duplicates {figures.duplicates} · lost {figures.lost} · "
        f"not marked sent {figures.not_marked} · statuses "
        + ", ".join(f"{k} {v}" for k, v in sorted(figures.statuses.items())),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the fan-out and print its figures; exit 1 if anything was lost or duplicated."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="dispatcher messages/s (default: config, 29); the server allows rate × 30/29",
    )
    parser.add_argument(
        "--faults",
        action="store_true",
        help="inject 429 storms, 5xx, timeouts and dropped connections",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=5.0,
        help="the Bot's read timeout, seconds (PTB's default: 5)",
    )
    args = parser.parse_args(argv)
    if args.faults:  # PTB logs each injected 502 page with a traceback: expected here
        logging.getLogger("telegram.request").setLevel(logging.CRITICAL)
    figures = asyncio.run(
        measure(args.members, rate=args.rate, faults=args.faults, read_timeout=args.read_timeout)
    )
    print(render(figures), flush=True)
    clean = not (figures.duplicates or figures.lost or figures.not_marked)
    if not args.faults:
        clean = clean and figures.rate_limited == 0
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
