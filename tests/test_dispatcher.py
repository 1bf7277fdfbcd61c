"""The outbox dispatcher: nothing lost, nothing repeated, limits kept, whatever happens."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from telegram import Bot

from bot.loopback.telegram_server import FakeTelegramServer, RateLimits
from bot.loopback.zalo_server import FakeZaloServer
from bot.telegram.adapter import TelegramMessenger
from bot.telegram.request import AiohttpRequest
from bot.zalo.adapter import ZaloMessenger
from bot.zalo.api import MAX_TEXT as ZALO_MAX_TEXT
from bot.zalo.api import ZaloBotApi
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import Limits
from storage.clock import FixedClock
from storage.db import Database
from storage.models import Agency, Identity, Member, Outbox
from storage.outbox import Message, enqueue
from tests.conftest import hanoi
from tests.harness import REPO, copy_database


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Database:
    return copy_database(template, tmp_path)


def members(
    db: Database,
    count: int,
    agency: str = "HY-GTVT",
    role: str = "reporter",
    first_id: int = 5000,
    platform: str = "telegram",
) -> list[int]:
    """Create linked members (Telegram by default); return their chat ids."""
    now = datetime(2019, 12, 2, tzinfo=UTC)
    with db.unit_of_work() as session:
        agency_id = session.scalar(select(Agency.id).where(Agency.code == agency))
        for index in range(count):
            member = Member(agency_id=agency_id, name=f"Cán bộ {index}", role=role, created_at=now)
            session.add(member)
            session.flush()
            session.add(
                Identity(
                    member_id=member.id,
                    platform=platform,
                    external_id=str(first_id + index),
                    chat_id=str(first_id + index),
                    linked_at=now,
                )
            )
    return [first_id + index for index in range(count)]


def fill_outbox(db: Database, clock: FixedClock, text: str = "Nhắc việc") -> int:
    with db.unit_of_work() as session:
        added = 0
        for member in session.scalars(select(Member)):
            added += enqueue(
                session,
                key=f"test:{member.id}",
                member=member,
                reason="reminder",
                message=Message(f"{text} {member.name}", [[("2.5", "r:1")]]),
                due_at=clock.now(),
                now=clock.now(),
            )
    return added


def statuses(db: Database) -> Counter[str]:
    with db.unit_of_work() as session:
        return Counter(session.scalars(select(Outbox.status)))


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as running:
        yield running


def quick_bot(server: FakeTelegramServer) -> Bot:
    return Bot(
        server.token,
        base_url=server.base_url,
        request=AiohttpRequest(read_timeout=0.5, connect_timeout=0.5),
    )


async def test_every_message_is_delivered_once_through_429s_5xx_and_timeouts(
    db: Database, server: FakeTelegramServer
) -> None:
    chats = members(db, 20)
    for chat in chats:
        server.add_user(chat, "Cán bộ")
    clock = FixedClock(hanoi(2019, 12, 2, 8, 30))
    assert fill_outbox(db, clock) == 20
    assert fill_outbox(db, clock) == 0  # the idempotency key holds
    server.inject_fault("sendMessage", "429", count=3, retry_after=1)
    server.inject_fault("sendMessage", "500", count=2)
    server.inject_fault("sendMessage", "502", count=2)
    server.inject_fault("sendMessage", "timeout", count=1)
    server.inject_fault("sendMessage", "network", count=1)
    async with quick_bot(server) as bot:
        dispatcher = Dispatcher(
            db,
            clock,
            {"telegram": TelegramMessenger(bot)},
            {"telegram": Limits(200, 50)},
            backoff_base=1.0,
        )
        for _ in range(20):
            await dispatcher.drain(10)
            if statuses(db)["sent"] == 20:
                break
            clock.advance(minutes=5)
    delivered = Counter(m.chat_id for m in server.sent if m.method == "sendMessage")
    assert delivered == Counter(chats)  # each chat exactly once
    assert statuses(db) == Counter({"sent": 20})
    assert dispatcher.stats.rate_limited >= 1 and dispatcher.stats.transient_failures >= 1


async def test_limits_are_kept_so_telegram_never_answers_429(db: Database) -> None:
    limits = RateLimits(per_second_overall=30, per_chat_per_second=1, per_group_per_minute=20)
    async with FakeTelegramServer(rate_limits=limits) as server:
        chats = members(db, 40)
        for chat in chats:
            server.add_user(chat, "Cán bộ")
        clock = FixedClock(hanoi(2019, 12, 2, 8, 30))
        fill_outbox(db, clock)
        fill_outbox(db, clock, text="Nhắc lần hai")  # same keys: nothing added
        with db.unit_of_work() as session:  # and three more to one chat
            member = session.scalars(select(Member)).first()
            assert member is not None
            for index in range(3):
                enqueue(
                    session,
                    key=f"extra:{index}",
                    member=member,
                    reason="digest",
                    message=Message(f"Bản tin {index}"),
                    due_at=clock.now(),
                    now=clock.now(),
                )
        async with Bot(server.token, base_url=server.base_url) as bot:
            dispatcher = Dispatcher(
                db, clock, {"telegram": TelegramMessenger(bot)}, {"telegram": Limits(29, 1)}
            )
            await dispatcher.drain(30)
        assert statuses(db) == Counter({"sent": 43})
        assert server.stats.rate_limited == 0


async def test_blocked_member_is_marked_unreachable_and_the_office_told(
    db: Database, server: FakeTelegramServer
) -> None:
    [official] = members(db, 1)
    [office] = members(db, 1, agency="HY-KHDT", role="coordinator", first_id=9000)
    server.add_user(official, "Cán bộ")
    server.add_user(office, "Văn phòng")
    server.block(official)
    clock = FixedClock(hanoi(2019, 12, 2, 8, 30))
    with db.unit_of_work() as session:
        member = session.scalar(select(Member).where(Member.role == "reporter"))
        assert member is not None
        enqueue(
            session,
            key="one",
            member=member,
            reason="reminder",
            message=Message("Nhắc việc"),
            due_at=clock.now(),
            now=clock.now(),
        )
    async with Bot(server.token, base_url=server.base_url) as bot:
        dispatcher = Dispatcher(
            db, clock, {"telegram": TelegramMessenger(bot)}, {"telegram": Limits(100, 10)}
        )
        await dispatcher.drain(5)
    with db.unit_of_work() as session:
        blocked = session.scalar(select(Member).where(Member.role == "reporter"))
        assert blocked is not None and blocked.unreachable_at is not None
    told = server.messages_to(office)
    assert len(told) == 1 and "Không gửi được tin nhắn cho Cán bộ 0" in (told[0].text or "")
    assert statuses(db) == Counter({"failed": 1, "sent": 1})


async def test_a_killed_dispatcher_loses_nothing_and_repeats_at_most_one(
    template: Path, tmp_path: Path, server: FakeTelegramServer
) -> None:
    db = copy_database(template, tmp_path)
    chats = members(db, 60)
    for chat in chats:
        server.add_user(chat, "Cán bộ")
    clock = FixedClock(datetime.now(UTC))
    fill_outbox(db, clock)
    url = f"sqlite:///{tmp_path / 'tiendo.sqlite3'}"
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.dispatch_child",
        url,
        server.base_url,
        server.token,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    while len(server.sent) < 25:
        await asyncio.sleep(0.005)
        assert child.returncode is None, "the child finished before it could be killed"
    child.send_signal(signal.SIGKILL)
    await child.wait()
    sent_before = len(server.sent)
    assert sent_before < 60
    async with Bot(server.token, base_url=server.base_url) as bot:
        dispatcher = Dispatcher(
            db, clock, {"telegram": TelegramMessenger(bot)}, {"telegram": Limits(200, 50)}
        )
        assert dispatcher.recover() <= 1  # at most one message was in flight
        await dispatcher.drain(20)
    delivered = Counter(m.chat_id for m in server.sent)
    assert set(delivered) == set(chats)  # nothing lost
    assert sum(delivered.values()) - len(chats) <= 1  # at most the one in flight, repeated
    with db.unit_of_work() as session:
        assert (
            session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status != "sent"))
            == 0
        )


async def test_only_the_leader_sends(db: Database, server: FakeTelegramServer) -> None:
    chats = members(db, 3)
    for chat in chats:
        server.add_user(chat, "Cán bộ")
    clock = FixedClock(hanoi(2019, 12, 2, 8, 30))
    fill_outbox(db, clock)
    leader = {"now": False}
    stop = asyncio.Event()
    async with Bot(server.token, base_url=server.base_url) as bot:
        dispatcher = Dispatcher(
            db, clock, {"telegram": TelegramMessenger(bot)}, {"telegram": Limits(100, 10)}
        )
        task = asyncio.create_task(
            dispatcher.run(stop, idle_seconds=0.02, active=lambda: leader["now"])
        )
        await asyncio.sleep(0.2)
        assert server.sent == []  # a follower worker keeps its hands off the outbox
        leader["now"] = True
        for _ in range(100):
            if statuses(db)["sent"] == 3:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await task
    assert statuses(db) == Counter({"sent": 3})


# long messages on Zalo ----------------------------------------------------------------------


def long_text(lines: int) -> str:
    return "\n".join(
        f"• 2.{n} Nội dung số {n}: đang thực hiện, đề nghị báo cáo" for n in range(lines)
    )


def enqueue_one(db: Database, clock: FixedClock, message: Message) -> None:
    with db.unit_of_work() as session:
        member = session.scalars(select(Member)).one()
        assert enqueue(
            session,
            key="long",
            member=member,
            reason="reminder",
            message=message,
            due_at=clock.now(),
            now=clock.now(),
        )


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer() as running:
        yield running


def zalo_member(db: Database, zalo: FakeZaloServer) -> str:
    """One official on Zalo; return their chat id."""
    [chat] = members(db, 1, platform="zalo")
    zalo.add_user(str(chat), "Cán bộ")
    return str(chat)


def zalo_dispatcher(db: Database, clock: FixedClock, api: ZaloBotApi) -> Dispatcher:
    """A dispatcher whose own limits never hold a message back."""
    return Dispatcher(
        db, clock, {"zalo": ZaloMessenger(api)}, {"zalo": Limits(100, 100)}, backoff_base=1.0
    )


async def test_a_long_zalo_message_whose_second_part_fails_reaches_the_person_once(
    db: Database, zalo: FakeZaloServer
) -> None:
    chat = zalo_member(db, zalo)
    text = long_text(50)
    assert ZALO_MAX_TEXT < len(text) <= 2 * ZALO_MAX_TEXT - 200
    clock = FixedClock(hanoi(2019, 12, 2, 8, 30))
    enqueue_one(db, clock, Message(text, [[("2.5", "r:1")]]))
    # Zalo takes one message a second here: the second part is answered 429 at once, and
    # the client gives up at once, leaving the retry to the outbox.
    zalo.rate_limit_per_second = 1
    async with ZaloBotApi(zalo.token, base_url=zalo.base_url, max_retries=0) as api:
        dispatcher = zalo_dispatcher(db, clock, api)
        for _ in range(4):
            await dispatcher.drain(10)
            if statuses(db) == Counter({"sent": 2}):
                break
            clock.advance(minutes=1)
    assert dispatcher.stats.rate_limited >= 1
    received = [m.text or "" for m in zalo.messages_to(chat)]
    assert len(received) == 2  # each part once, in order
    assert received[0] + "\n" + received[1].split("\n\nGõ mã nội dung")[0] == text
    assert statuses(db) == Counter({"sent": 2})


async def test_a_part_that_must_be_retried_holds_back_the_parts_behind_it(
    db: Database, zalo: FakeZaloServer
) -> None:
    chat = zalo_member(db, zalo)
    text = long_text(80)
    clock = FixedClock(hanoi(2019, 12, 2, 8, 30))
    enqueue_one(db, clock, Message(text))
    parts = len(Message(text).parts("zalo"))
    assert parts == 3
    zalo.inject_fault("sendMessage", "ok_false_500")  # the first part fails once
    async with ZaloBotApi(zalo.token, base_url=zalo.base_url, max_retries=0) as api:
        dispatcher = zalo_dispatcher(db, clock, api)
        await dispatcher.drain(10)
        assert zalo.messages_to(chat) == []  # parts 2 and 3 wait for part 1
        clock.advance(minutes=1)
        await dispatcher.drain(10)
    received = [m.text or "" for m in zalo.messages_to(chat)]
    assert "\n".join(received) == text
    assert statuses(db) == Counter({"sent": 3})
