"""The scheduler service: idempotent ticks, a preview that writes nothing, a 2019–2020 replay,
idle conversations, one leader among workers, and the commands that show time moving."""

from __future__ import annotations

import asyncio
import json
import secrets
import time as clock_time
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bench.pgschema import private_schema
from bot.cli.context import CommandContext
from bot.cli.main import main
from scheduler.jobs import SchedulerService
from scheduler.reminder_texts import render_reminder
from storage.clock import FixedClock, SystemClock
from storage.db import Database, make_engine, upgrade
from storage.models import (
    Agency,
    Assignment,
    Conversation,
    Identity,
    InboundSeen,
    Locality,
    Member,
    Outbox,
    ProgrammeAgency,
    SchedulerState,
)
from storage.programme.spec import ProgrammeSpec
from storage.reports import append_report
from tests.conftest import NO_PG, PG_URL, hanoi
from tests.harness import HANOI, cli_context, copy_database, write_config
from tests.test_reminders import CALENDAR, World, scheduler_settings

REMINDER_REASONS = {"reminder", "forwarded", "escalation", "cycle_close"}
# Public holidays of the phase, written out by hand (Tết 2020 is 23–29 January).
DAYS_OFF = {
    date(2019, 9, 2),
    date(2020, 1, 1),
    *(date(2020, 1, d) for d in range(23, 30)),
    date(2020, 4, 2),
    date(2020, 4, 30),
    date(2020, 5, 1),
    date(2020, 9, 2),
}


def count(db: Database, model: type) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def world(db: Database, tmp_path: Path, spec: ProgrammeSpec) -> World:
    return World(db, tmp_path, spec)


# idempotency and preview ---------------------------------------------------------------------


def test_ticking_again_adds_nothing(world: World, db: Database) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    world.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    world.member("HN-UBND", "Phó Chủ tịch Hà Nội", role="vice_chair")
    world.due("2.5", "HN-GTVT", date(2020, 3, 23))
    first = world.tick(2020, 3, 16, 9, 0)  # a Monday: reminders and the Vice-Chair digest
    assert first.enqueued > 0 and first.reasons.get("digest")
    rows = count(db, Outbox)
    for again in (world.tick(2020, 3, 16, 9, 0), world.tick(2020, 3, 16, 11, 0)):
        assert again.enqueued == 0
    # a second worker with its own service, same database: nothing new either
    other = SchedulerService(db, FixedClock(hanoi(2020, 3, 16, 9, 1)), world.settings)
    assert other.tick().enqueued == 0
    assert count(db, Outbox) == rows
    # even with the record of processed slots lost, the idempotency keys hold
    with db.unit_of_work() as session:
        for state in session.scalars(select(SchedulerState)):
            state.last_slot = date(2020, 3, 13)
    world.tick(2020, 3, 16, 9, 30)
    assert count(db, Outbox) == rows
    assert len(world.rows(an)) == 1


def test_preview_writes_nothing_and_names_the_unreachable(world: World, db: Database) -> None:
    office = world.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    world.due("2.5", "HN-GTVT", date(2020, 3, 23))  # nobody at HN-GTVT
    world.due("2.5", "HY-GTVT", date(2020, 3, 23))  # nobody at HY-GTVT, nor at its offices
    before = (count(db, Outbox), count(db, SchedulerState))
    planned = world.service.preview(hanoi(2020, 3, 16, 9, 0))
    assert (count(db, Outbox), count(db, SchedulerState)) == before
    to_office = next(p for p in planned if p.recipient_id == office)
    assert "HN-GTVT" in to_office.unreachable_agencies
    shown = render_reminder(to_office, HANOI).text
    assert "chưa có ai nhận được tin nhắn" in shown
    nobody = next(p for p in planned if p.recipient_id is None)
    assert "HY-GTVT" in nobody.unreachable_agencies and nobody.reason == "unreachable"
    # what tick then enqueues is what the preview showed
    world.tick(2020, 3, 16, 9, 0)
    assert world.rows(office)[0].payload["text"] == shown


def test_preview_on_a_tet_day_shows_the_next_working_slot(world: World) -> None:
    world.member("HN-GTVT", "Nguyễn Văn An")
    world.due("2.5", "HN-GTVT", date(2020, 1, 31))
    planned = world.service.preview(hanoi(2020, 1, 27, 9, 0))
    mine = [p for p in planned if p.agency_code == "HN-GTVT"]
    assert [p.send_at for p in mine] == [hanoi(2020, 1, 30, 8, 30).astimezone(UTC)]
    assert "còn 1 ngày" in render_reminder(mine[0], HANOI).text


# conversations left half-way -------------------------------------------------------------------


def test_an_idle_conversation_expires_with_a_notice(world: World, db: Database) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    with db.unit_of_work() as session:
        identity = session.scalars(select(Identity).where(Identity.member_id == an)).one()
        session.add(
            Conversation(
                platform="telegram",
                external_id=identity.external_id,
                state="report_percent",
                draft={"assignment_id": 5},
                updated_at=hanoi(2020, 3, 14, 10, 0),
            )
        )
        session.add(
            Conversation(
                platform="telegram",
                external_id="999",
                state="report_note",
                draft={"x": 1},
                updated_at=hanoi(2020, 3, 14, 10, 25),
            )
        )
    result = world.tick(2020, 3, 14, 10, 31)  # a Saturday: no reminders, but expiry runs
    assert result.expired == 1
    rows = world.rows(an, reason="expired")
    assert len(rows) == 1
    assert rows[0].payload["text"] == (
        "Thao tác trước đã hết hạn vì không hoạt động 30 phút; "
        "chưa có gì được lưu. Vui lòng bắt đầu lại."
    )
    with db.unit_of_work() as session:
        states = {
            external: state
            for external, state in session.execute(
                select(Conversation.external_id, Conversation.state)
            )
        }
        assert states == {identity.external_id: "idle", "999": "report_note"}
        assert (
            session.scalars(
                select(Conversation.draft).where(Conversation.external_id == identity.external_id)
            ).one()
            == {}
        )
    assert world.tick(2020, 3, 14, 11, 30).expired == 1  # the other one, nobody to tell
    assert len(world.rows(an, reason="expired")) == 1


# leadership ---------------------------------------------------------------------------------


@pytest.mark.skipif(not PG_URL, reason=NO_PG)
def test_only_one_worker_leads_on_postgresql(tmp_path: Path) -> None:
    key = secrets.randbits(48)
    config = scheduler_settings(tmp_path)
    clock = FixedClock(hanoi(2020, 3, 16, 9, 0))
    first = Database(make_engine(PG_URL))
    second = Database(make_engine(PG_URL))
    one = SchedulerService(first, clock, config, lock_key=key)
    two = SchedulerService(second, clock, config, lock_key=key)
    try:
        assert one.acquire_leadership() is True
        assert two.acquire_leadership() is False
        assert one.acquire_leadership() is True  # still holding it
        assert (one.is_leader, two.is_leader) == (True, False)
        one.release_leadership()
        assert two.acquire_leadership() is True
        assert one.acquire_leadership() is False
    finally:
        one.release_leadership()
        two.release_leadership()
        first.dispose()
        second.dispose()


def test_sqlite_always_leads(tmp_path: Path) -> None:
    db = Database(make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    service = SchedulerService(
        db, FixedClock(hanoi(2020, 3, 16, 9, 0)), scheduler_settings(tmp_path)
    )
    assert service.acquire_leadership() and service.is_leader
    db.dispose()


def _linked_official(db: Database, at: datetime, chat: str = "42", agency: str = "HN-GTVT") -> None:
    """An official of the agency (made up in an empty store), linked on Telegram since `at`."""
    with db.unit_of_work() as session:
        found = session.scalars(select(Agency).where(Agency.code == agency)).first()
        if found is None:
            locality = Locality(code="HN", name="Thành phố Hà Nội")
            found = Agency(code=agency, name="Sở Giao thông vận tải Hà Nội", locality=locality)
            session.add(found)
            session.flush()
        member = Member(agency_id=found.id, name="Nguyễn Văn An", created_at=at)
        session.add(member)
        session.flush()
        session.add(
            Identity(
                member_id=member.id,
                platform="telegram",
                external_id=chat,
                chat_id=chat,
                linked_at=at,
            )
        )


def _official_left_halfway(db: Database, at: datetime, chat: str = "42") -> None:
    """A linked official whose conversation has stood half-way since `at`."""
    _linked_official(db, at, chat)
    with db.unit_of_work() as session:
        session.add(
            Conversation(
                platform="telegram",
                external_id=chat,
                state="report_percent",
                draft={"assignment_id": 1},
                updated_at=at,
            )
        )


async def test_start_ticks_on_the_injected_clock_and_stop_ends_it(
    template: Path, tmp_path: Path
) -> None:
    db = copy_database(template, tmp_path)
    _linked_official(db, hanoi(2019, 7, 1, 8, 0))
    woken = asyncio.Event()
    service = SchedulerService(
        db,
        FixedClock(hanoi(2020, 6, 23, 9, 0)),
        scheduler_settings(tmp_path),
        woken.set,
        interval_seconds=0.05,
    )
    await service.start()
    try:
        await asyncio.wait_for(woken.wait(), timeout=5)
    finally:
        await service.stop()
    assert count(db, Outbox) > 0
    db.dispose()


# on the real clock: APScheduler's triggers -----------------------------------------------------


def _expired(db: Database) -> int:
    with db.unit_of_work() as session:
        return len(list(session.scalars(select(Outbox).where(Outbox.reason == "expired"))))


def test_each_job_fires_at_its_time_of_day_in_the_configured_zone(tmp_path: Path) -> None:
    db = Database(make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    settings = scheduler_settings(tmp_path, reminders={"send_at": time(8, 15)})
    triggers = SchedulerService(db, SystemClock(), settings).triggers()
    monday_nine = hanoi(2020, 3, 16, 9, 0)

    def next_fire(job: str) -> datetime:
        fire: datetime = triggers[job].get_next_fire_time(None, monday_nine)
        return fire

    assert next_fire("reminders") == hanoi(2020, 3, 17, 8, 15)  # Hà Nội time, not UTC
    assert next_fire("digest:vice_chair") == hanoi(2020, 3, 17, 7, 30)
    assert next_fire("digest:coordinator") == hanoi(2020, 3, 16, 16, 30)
    assert triggers["conversations"].interval == timedelta(minutes=1)
    assert set(triggers) == {
        "leader",
        "conversations",
        "prune",
        "reminders",
        "digest:vice_chair",
        "digest:coordinator",
    }
    db.dispose()


async def test_on_the_real_clock_the_leader_catches_up_at_start_then_waits_for_each_time(
    template: Path, tmp_path: Path
) -> None:
    db = copy_database(template, tmp_path)
    _official_left_halfway(db, datetime.now(UTC) - timedelta(hours=2))
    woken = asyncio.Event()
    service = SchedulerService(db, SystemClock(), scheduler_settings(tmp_path), woken.set)
    await service.start()
    try:
        await asyncio.wait_for(woken.wait(), timeout=10)  # the catch-up expired it
        runs = service.next_runs()
    finally:
        await service.stop()
    assert _expired(db) == 1
    assert set(runs) == set(service.triggers())
    at_hanoi = runs["reminders"].astimezone(HANOI)
    assert (at_hanoi.hour, at_hanoi.minute) == (8, 30)
    assert service.next_runs() == {}  # stopped
    db.dispose()


@pytest.mark.skipif(not PG_URL, reason=NO_PG)
async def test_a_follower_takes_over_when_the_leader_goes_and_catches_up(tmp_path: Path) -> None:
    key = secrets.randbits(48)
    with private_schema(PG_URL, "tiendo_lead") as engine:
        upgrade(engine)
        db = Database(engine)
        _official_left_halfway(db, datetime.now(UTC) - timedelta(hours=2))
        settings = scheduler_settings(tmp_path)
        leader = SchedulerService(db, SystemClock(), settings, lock_key=key)
        woken = asyncio.Event()
        follower = SchedulerService(
            db, SystemClock(), settings, woken.set, lock_key=key, leader_check_seconds=0.05
        )
        assert leader.acquire_leadership()
        await follower.start()
        try:
            await asyncio.sleep(0.3)  # several leader checks: the lock is taken
            assert not follower.is_leader and _expired(db) == 0  # a follower does nothing
            leader.release_leadership()  # the leader goes away
            await asyncio.wait_for(woken.wait(), timeout=10)
            assert follower.is_leader and _expired(db) == 1
        finally:
            await follower.stop()
            leader.release_leadership()


@pytest.mark.skipif(not PG_URL, reason=NO_PG)
def test_a_leader_whose_connection_dies_takes_the_lock_again(tmp_path: Path) -> None:
    key = secrets.randbits(48)
    db = Database(make_engine(PG_URL))
    service = SchedulerService(db, SystemClock(), scheduler_settings(tmp_path), lock_key=key)
    try:
        assert service.acquire_leadership()
        with db.engine.connect() as other:
            held_by = other.execute(
                text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = :low"),
                {"low": key & 0xFFFFFFFF},
            ).scalar_one()
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": held_by})
        assert service.acquire_leadership()  # noticed, reconnected, locked again
        with db.engine.connect() as other:
            now_held_by = other.execute(
                text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = :low"),
                {"low": key & 0xFFFFFFFF},
            ).scalar_one()
        assert now_held_by != held_by
    finally:
        service.release_leadership()
        db.dispose()


# a whole phase, replayed ---------------------------------------------------------------------


def _staff(db: Database, at: datetime) -> None:
    """A reporter per agency (three agencies never link), office coordinators, Vice-Chairs."""
    never = {"HN-CA", "HY-CA", "HN-DL"}
    with db.unit_of_work() as session:
        roles = {r.agency_id: r for r in session.scalars(select(ProgrammeAgency))}
        for agency in session.scalars(select(Agency).order_by(Agency.id)):
            if agency.code in never:
                continue
            role = (
                "vice_chair"
                if roles[agency.id].leadership
                else "coordinator"
                if roles[agency.id].coordinates
                else "reporter"
            )
            people = [
                Member(
                    agency_id=agency.id,
                    name=f"Cán bộ {agency.code}",
                    role=role,
                    created_at=at,
                    is_head=agency.code.endswith("GTVT"),
                )
            ]
            if role == "reporter" and agency.id % 3 == 0:
                people.append(
                    Member(
                        agency_id=agency.id,
                        name=f"Phó phòng {agency.code}",
                        role="reporter",
                        created_at=at,
                    )
                )
            for member in people:
                session.add(member)
                session.flush()
                session.add(
                    Identity(
                        member_id=member.id,
                        platform="telegram",
                        external_id=str(10_000 + member.id),
                        chat_id=str(10_000 + member.id),
                        linked_at=at,
                    )
                )


def _monthly_reports(db: Database, day: date) -> None:
    """On the 18th, agencies with an even id report on everything they carry."""
    at = datetime.combine(day, time(10, 0), HANOI)
    with db.unit_of_work() as session:
        for assignment in session.scalars(
            select(Assignment).where(
                Assignment.agency_id % 2 == 0, Assignment.archived_at.is_(None)
            )
        ):
            done = assignment.item.code == "2.8" and day >= date(2019, 12, 18)
            append_report(
                session,
                assignment_id=assignment.id,
                member_id=None,
                status="done" if done else "in_progress",
                percent=100 if done else 50,
                note="",
                channel="telegram",
                at=at,
                tz=HANOI,
            )


def test_replay_of_the_2019_2020_phase(template: Path, tmp_path: Path) -> None:
    db = copy_database(template, tmp_path)
    _staff(db, hanoi(2019, 7, 1, 8, 0))
    clock = FixedClock(hanoi(2019, 7, 1, 9, 0))
    config = scheduler_settings(
        tmp_path,
        digests={"coordinator_at": time(8, 45), "coordinator_daily": False, "chart": False},
    )
    service = SchedulerService(db, clock, config)
    started = clock_time.perf_counter()
    day = date(2019, 7, 1)
    while day <= date(2020, 12, 31):
        if day.day == 18:
            _monthly_reports(db, day)
        for at in (time(9, 0), time(18, 0)):  # weekends and holidays included
            clock.set(datetime.combine(day, at, HANOI))
            service.tick()
        day += timedelta(days=1)
    elapsed = clock_time.perf_counter() - started
    with db.unit_of_work() as session:
        rows = list(session.scalars(select(Outbox).order_by(Outbox.id)))
    assert rows, "a whole phase without a single message"
    per_slot: Counter[tuple[int | None, date]] = Counter()
    for row in rows:
        sent_on = row.created_at.astimezone(HANOI).date()
        assert sent_on.weekday() < 5 and sent_on not in DAYS_OFF, sent_on
        assert CALENDAR.is_working_day(row.created_at.astimezone(HANOI).date()), row.created_at
        assert CALENDAR.is_working_day(row.next_attempt_at.astimezone(HANOI).date())
        if row.reason in REMINDER_REASONS:
            assert CALENDAR.is_working_time(row.next_attempt_at), row.next_attempt_at
            per_slot[(row.member_id, row.created_at.astimezone(HANOI).date())] += 1
    assert max(per_slot.values()) == 1  # never two reminders to one person in one slot
    reasons = Counter(row.reason for row in rows)
    assert reasons["reminder"] > 100 and reasons["digest"] > 0
    texts = [row.payload["text"] for row in rows]
    assert any("Đề nghị đôn đốc" in t for t in texts)
    assert any("(HN-DL)" in t and "chưa có ai nhận được tin nhắn" in t for t in texts)
    # 18 monthly cycles (July 2019 to December 2020), each closed once per coordinator
    with db.unit_of_work() as session:
        office = session.scalars(
            select(Member.id).join(Agency).where(Agency.code == "HN-KHDT")
        ).one()
    closes = [
        t
        for row, t in zip(rows, texts, strict=True)
        if row.member_id == office
        for t in [t]
        if "đã đóng" in t
    ]
    assert sum(t.count("Kỳ báo cáo tháng") for t in closes) == 18
    assert elapsed < 60  # a generous bound; the replay takes a few seconds
    db.dispose()


# commands ------------------------------------------------------------------------------------


def _ctx(tmp_path: Path, at: datetime) -> CommandContext:
    return cli_context(write_config(tmp_path), FixedClock(at))


def test_reminders_command_previews_in_json_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import"], ctx=_ctx(tmp_path, hanoi(2019, 7, 1, 9, 0))) == 0
    capsys.readouterr()
    ctx = _ctx(tmp_path, hanoi(2019, 7, 1, 9, 0))
    assert main(["reminders", "--at", "2020-01-27 09:00", "--json"], ctx=ctx) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["non_working_day"] == "Mùng ba Tết Nguyên Đán"
    assert shown["send_at"].startswith("2020-01-30T08:30")
    assert (
        main(
            ["reminders", "--at", "2020-01-22 09:00", "--json"],
            ctx=_ctx(tmp_path, hanoi(2019, 7, 1, 9, 0)),
        )
        == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert "HN-LDTBXH" in shown["nobody_reachable"]
    assert shown["messages"][0]["recipient_id"] is None
    assert (
        main(["reminders", "--at", "2020-01-22 09:00"], ctx=_ctx(tmp_path, hanoi(2019, 7, 1, 9, 0)))
        == 0
    )
    assert "KHÔNG AI NHẬN ĐƯỢC" in capsys.readouterr().out
    db = Database.open(f"sqlite:///{tmp_path / 'tiendo.sqlite3'}")
    assert count(db, Outbox) == 0 and count(db, SchedulerState) == 0
    db.dispose()


def test_scheduler_once_ticks_at_the_given_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import"], ctx=_ctx(tmp_path, hanoi(2019, 7, 1, 9, 0))) == 0
    capsys.readouterr()
    assert (
        main(
            ["scheduler", "--once", "--clock", "2020-01-22 09:00"],
            ctx=_ctx(tmp_path, hanoi(2019, 7, 1, 9, 0)),
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "lượt nhắc 22/01/2020" in out and "Không ai nhận được: HN-KHDT" in out
    db = Database.open(f"sqlite:///{tmp_path / 'tiendo.sqlite3'}")
    with db.unit_of_work() as session:
        state = session.get(SchedulerState, "reminders")
        assert state is not None and state.last_slot == date(2020, 1, 22)
    db.dispose()


def test_old_update_ids_are_cleared_on_the_first_tick_then_hourly(tmp_path: Path) -> None:
    db = Database(make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    upgrade(db.engine)
    start = hanoi(2020, 3, 14, 11, 0)  # a Saturday: nothing else is due
    service = SchedulerService(db, FixedClock(start), scheduler_settings(tmp_path))

    def seen_long_ago(key: str) -> None:
        with db.unit_of_work() as session:
            session.add(
                InboundSeen(platform="telegram", key=key, seen_at=start - timedelta(days=40))
            )

    def kept() -> list[str]:
        with db.unit_of_work() as session:
            return sorted(session.scalars(select(InboundSeen.key)))

    seen_long_ago("a")
    service.tick(start)
    assert kept() == []
    seen_long_ago("b")
    service.tick(start + timedelta(minutes=30))
    assert kept() == ["b"]  # not every tick
    service.tick(start + timedelta(hours=1))
    assert kept() == []
    db.dispose()
