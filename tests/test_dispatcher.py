"""The outbox dispatcher: nothing lost, nothing repeated, limits kept, whatever happens."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from telegram import Bot

from bot.loopback.stage import Stage
from bot.loopback.telegram_server import FakeTelegramServer, RateLimits
from bot.loopback.zalo_server import FakeZaloServer
from bot.telegram.adapter import TelegramMessenger
from bot.telegram.request import AiohttpRequest
from bot.zalo.adapter import ZaloMessenger
from bot.zalo.api import MAX_TEXT as ZALO_MAX_TEXT
from bot.zalo.api import ZaloBotApi
from scheduler.dispatcher import Dispatcher
from scheduler.jobs import SchedulerService
from scheduler.ratelimit import Limits
from storage.clock import FixedClock
from storage.db import Database
from storage.models import (
    Agency,
    Assignment,
    Identity,
    Item,
    Member,
    Outbox,
    Programme,
    ProgrammeAgency,
)
from storage.outbox import Message, enqueue
from storage.programme.file import load_programme_file
from storage.programme.importer import import_programme
from tests.conftest import hanoi
from tests.harness import REPO, copy_database, run_cli, write_config
from tests.test_reminders import scheduler_settings

HOA_BINH = REPO / "programmes" / "ha-noi-hoa-binh-2019.toml"


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


def enqueue_to(db: Database, clock: FixedClock, chat: int, key: str, message: Message) -> None:
    """Write one message to the member behind a chat."""
    with db.unit_of_work() as session:
        member = session.scalars(
            select(Member).join(Identity).where(Identity.chat_id == str(chat))
        ).one()
        enqueue(
            session,
            key=key,
            member=member,
            reason="reminder",
            message=message,
            due_at=clock.now(),
            now=clock.now(),
        )


def official_and_office(db: Database, server: FakeTelegramServer) -> tuple[int, int]:
    """A Hưng Yên official and a coordinator of Hưng Yên's office, both on Telegram."""
    [official] = members(db, 1)
    [office] = members(db, 1, agency="HY-KHDT", role="coordinator", first_id=9000)
    server.add_user(official, "Cán bộ")
    server.add_user(office, "Văn phòng")
    return official, office


def unreachable(db: Database) -> list[str]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(Member.name).where(Member.unreachable_at.is_not(None))))


async def test_an_outage_of_hours_delays_the_message_and_silences_nobody(
    db: Database, server: FakeTelegramServer, tmp_path: Path
) -> None:
    official, _ = official_and_office(db, server)
    clock = FixedClock(hanoi(2019, 12, 2, 8, 30))
    start = clock.now()
    enqueue_to(db, clock, official, "one", Message("Nhắc việc"))
    # The Bot API answers 502 and times out for well over the old 8 tries, then recovers.
    server.inject_fault("sendMessage", "502", count=6)
    server.inject_fault("sendMessage", "timeout", count=2)
    server.inject_fault("sendMessage", "502", count=6)
    config = write_config(tmp_path)  # the same store, for `tiendo status`
    during: list[tuple[int, str]] = []
    async with quick_bot(server) as bot:
        dispatcher = Dispatcher(
            db, clock, {"telegram": TelegramMessenger(bot)}, {"telegram": Limits(200, 50)}
        )
        for _ in range(40):
            await dispatcher.drain(10)
            if statuses(db)["sent"] == 1:
                break
            during.append(run_cli(config, "status", clock=clock))
            clock.advance(minutes=10)
    delivered = [m.chat_id for m in server.sent if m.method == "sendMessage"]
    assert delivered == [official]  # once, and no "unreachable" notice to the office
    assert clock.now() - start > timedelta(hours=2)
    assert unreachable(db) == []
    with db.unit_of_work() as session:
        row = session.scalars(select(Outbox)).one()
        assert (row.status, row.attempts) == ("sent", 15)
    code, said = during[-1]
    said = " ".join(said.split())
    assert code == 1
    assert "Telegram: Bot API không nhận tin từ 02/12/2019 08:30" in said
    assert "1 tin đang chờ trong hộp thư đi" in said and "không bỏ tin nào" in said
    assert "Tin chờ gửi qua Telegram: 1, tin lâu nhất đã chờ 130 phút" in said
    code, said = run_cli(config, "status", clock=clock)
    assert code == 0 and "Bot API không nhận tin" not in said


async def test_a_blocked_member_is_marked_once_and_only_their_programmes_offices_told(
    db: Database, server: FakeTelegramServer
) -> None:
    with db.unit_of_work() as session:
        import_programme(session, load_programme_file(HOA_BINH), datetime(2019, 11, 1, tzinfo=UTC))
        # Văn phòng Thành ủy Hà Nội coordinates only the Hòa Bình programme here.
        for role in session.scalars(
            select(ProgrammeAgency)
            .join(Agency, Agency.id == ProgrammeAgency.agency_id)
            .join(Programme, Programme.id == ProgrammeAgency.programme_id)
            .where(Agency.code == "HN-VPTU", Programme.alias == "HY")
        ):
            role.coordinates = False
    [official] = members(db, 1, agency="HN-XD")  # Sở Xây dựng: the Hưng Yên programme only
    [khdt] = members(db, 1, agency="HN-KHDT", role="coordinator", first_id=9000)
    [vptu] = members(db, 1, agency="HN-VPTU", role="coordinator", first_id=9100)
    for chat in (official, khdt, vptu):
        server.add_user(chat, "Cán bộ")
    server.block(official)
    clock = FixedClock(hanoi(2019, 12, 2, 8, 30))
    enqueue_to(db, clock, official, "one", Message("Nhắc việc"))
    enqueue_to(db, clock, official, "two", Message("Nhắc việc"))
    async with Bot(server.token, base_url=server.base_url) as bot:
        dispatcher = Dispatcher(
            db, clock, {"telegram": TelegramMessenger(bot)}, {"telegram": Limits(100, 10)}
        )
        await dispatcher.drain(5)
    assert unreachable(db) == ["Cán bộ 0"]
    told = server.messages_to(khdt)
    assert len(told) == 1  # once, though two messages failed
    assert "Cán bộ 0 (Sở Xây dựng Hà Nội) qua telegram" in (told[0].text or "")
    assert server.messages_to(vptu) == []  # not an office of the member's programme
    assert "gửi một tin nhắn bất kỳ cho bot (ví dụ /start)" in (told[0].text or "")
    assert statuses(db) == Counter({"failed": 2, "sent": 1})


async def test_a_message_telegram_refuses_fails_without_silencing_its_reader(
    db: Database, server: FakeTelegramServer
) -> None:
    official, office = official_and_office(db, server)
    clock = FixedClock(hanoi(2019, 12, 2, 8, 30))
    refused = Message("Nhắc việc", [[("2.5", "o:" + "2.5" * 30)]])  # its data is too long
    enqueue_to(db, clock, official, "bad-button", refused)
    async with Bot(server.token, base_url=server.base_url) as bot:
        dispatcher = Dispatcher(
            db, clock, {"telegram": TelegramMessenger(bot)}, {"telegram": Limits(100, 10)}
        )
        await dispatcher.drain(5)
    assert statuses(db) == Counter({"failed": 1})
    assert unreachable(db) == [] and server.messages_to(office) == []


async def test_a_chart_gone_from_disk_is_given_up_without_silencing_its_reader(
    db: Database, server: FakeTelegramServer, tmp_path: Path
) -> None:
    [official] = members(db, 1)
    server.add_user(official, "Cán bộ")
    clock = FixedClock(hanoi(2019, 12, 2, 8, 30))
    with db.unit_of_work() as session:
        member = session.scalars(select(Member)).one()
        missing = str(tmp_path / "charts" / "gone.png")
        enqueue(
            session,
            key="chart",
            member=member,
            reason="digest",
            message=Message("", None, missing, "gone.png", photo=True),
            due_at=clock.now(),
            now=clock.now(),
        )
    async with Bot(server.token, base_url=server.base_url) as bot:
        dispatcher = Dispatcher(
            db, clock, {"telegram": TelegramMessenger(bot)}, {"telegram": Limits(100, 10)}
        )
        for _ in range(12):  # a local fault: retried a few times, then given up
            await dispatcher.drain(5)
            clock.advance(minutes=10)
    assert statuses(db) == Counter({"failed": 1})
    assert unreachable(db) == []


async def test_an_official_who_writes_again_is_reachable_and_gets_the_next_reminder(
    template: Path, tmp_path: Path
) -> None:
    db = copy_database(template, tmp_path)
    clock = FixedClock(hanoi(2020, 3, 12, 9, 0))
    settings = scheduler_settings(tmp_path, reminders={"cycle_reminder_days_before": []})
    async with Stage(db, clock, tmp_path, zalo=False) as stage:
        lan = await stage.join("Nguyễn Thị Lan", "HY-GTVT")
        dung = await stage.join("Phạm Thu Dung", "HY-KHDT", role="coordinator")
        with db.unit_of_work() as session:
            assignment = session.scalars(
                select(Assignment)
                .join(Item)
                .join(Agency)
                .where(Item.code == "2.5", Agency.code == "HY-GTVT")
            ).one()
            assignment.due_date = date(2020, 3, 20)
        scheduler = SchedulerService(db, clock, settings)
        dispatcher = Dispatcher(db, clock, stage.messengers, {"telegram": Limits(100, 10)})

        async def day(*moment: int) -> None:
            clock.set(hanoi(*moment))
            scheduler.tick()
            await dispatcher.drain(10)

        assert stage.telegram_server is not None
        stage.telegram_server.block(int(lan.id))
        await day(2020, 3, 13, 9, 0)  # 7 days before: 403, blocked
        assert unreachable(db) == ["Nguyễn Thị Lan"]
        await day(2020, 3, 17, 9, 0)  # 3 days before: to the office instead
        office = [s.text for s in stage.received(dung)]
        assert sum("Nguyễn Thị Lan (Sở Giao thông vận tải Hưng Yên) qua" in t for t in office) == 1
        assert "Sở Giao thông vận tải Hưng Yên (HY-GTVT):" in office[-1]
        before = len(stage.received(lan))
        await stage.say(lan, "/start")  # writing to the bot unblocks it, and clears the mark
        assert unreachable(db) == []
        await day(2020, 3, 19, 9, 0)  # 1 day before
        reminders = [s.text for s in stage.received(lan)[before:] if "Kính gửi" in s.text]
        assert len(reminders) == 1 and "2.5 Lĩnh vực giao thông" in reminders[0]
        assert "hạn 20/03/2020, còn 1 ngày" in reminders[0]
    db.dispose()


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


async def test_a_zalo_chat_that_no_longer_exists_marks_its_member_unreachable(
    db: Database, zalo: FakeZaloServer
) -> None:
    members(db, 1, platform="zalo")  # never added to the Zalo server: "chat not found"
    clock = FixedClock(hanoi(2019, 12, 2, 8, 30))
    enqueue_one(db, clock, Message("Nhắc việc"))
    async with ZaloBotApi(zalo.token, base_url=zalo.base_url, max_retries=0) as api:
        await zalo_dispatcher(db, clock, api).drain(10)
    assert statuses(db) == Counter({"failed": 1})
    assert unreachable(db) == ["Cán bộ 0"]
