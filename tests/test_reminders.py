"""The reminder policy as officials live it: on working days, one message, to whoever can act."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.jobs import SchedulerService, TickResult
from scheduler.reminders import Person, PlannedMessage, period_due_on, plan_reminders
from scheduler.settings import DigestSettings, ReminderSettings, SchedulerSettings
from storage.clock import FixedClock
from storage.db import Database
from storage.models import (
    Absence,
    Agency,
    Assignment,
    Identity,
    Item,
    Locality,
    Member,
    Mute,
    Outbox,
    Programme,
    SchedulerState,
)
from storage.programme.importer import import_programme
from storage.programme.spec import ProgrammeSpec
from storage.reports import append_report
from storage.worktime import WorkCalendar
from tests.conftest import hanoi
from tests.harness import HANOI

CALENDAR = WorkCalendar(HANOI, time(8), time(17))
NO_CYCLES = {"cycle_reminder_days_before": []}


def scheduler_settings(
    folder: Path, reminders: dict[str, Any] | None = None, digests: dict[str, Any] | None = None
) -> SchedulerSettings:
    """The scheduler's settings as config.toml would give them, with data under `folder`."""
    return SchedulerSettings(
        tz=HANOI,
        data_dir=folder,
        reminders=ReminderSettings(**(reminders or {})),
        digests=DigestSettings(**(digests or {})),
    )


class World:
    """The real programme, a few officials, the scheduler and a clock to travel with."""

    def __init__(
        self,
        db: Database,
        folder: Path,
        spec: ProgrammeSpec,
        reminders: dict[str, Any] | None = None,
        digests: dict[str, Any] | None = None,
        import_at: datetime | None = None,
        also: Sequence[ProgrammeSpec] = (),
    ) -> None:
        self.db = db
        self.clock = FixedClock(import_at or hanoi(2019, 7, 1, 8, 0))
        self.settings = scheduler_settings(folder, reminders, digests)
        with db.unit_of_work() as session:
            for each in (spec, *also):
                import_programme(session, each, self.clock.now())
        self.service = SchedulerService(db, self.clock, self.settings)
        self._chat = 7000

    def member(
        self,
        agency: str,
        name: str,
        role: str = "reporter",
        *,
        head: bool = False,
        platform: str | None = "telegram",
        language: str = "vi",
    ) -> int:
        """Add a member, linked to a chat account unless platform is None."""
        with self.db.unit_of_work() as session:
            agency_id = session.scalars(select(Agency.id).where(Agency.code == agency)).one()
            member = Member(
                agency_id=agency_id,
                name=name,
                role=role,
                is_head=head,
                language=language,
                preferred_channel=platform or "telegram",
                created_at=self.clock.now(),
            )
            session.add(member)
            session.flush()
            if platform is not None:
                self._chat += 1
                session.add(
                    Identity(
                        member_id=member.id,
                        platform=platform,
                        external_id=str(self._chat),
                        chat_id=str(self._chat),
                        linked_at=self.clock.now(),
                    )
                )
            return member.id

    def assignment_id(self, item: str, agency: str, programme: str = "HY") -> int:
        """The assignment of `agency` on `item` of the programme with this alias."""
        with self.db.unit_of_work() as session:
            return session.scalars(
                select(Assignment.id)
                .join(Item)
                .join(Agency)
                .join(Programme, Programme.id == Item.programme_id)
                .where(Item.code == item, Agency.code == agency, Programme.alias == programme)
            ).one()

    def due(self, item: str, agency: str, day: date, programme: str = "HY") -> int:
        """Move an assignment's due date (as a coordinator editing the file would)."""
        assignment_id = self.assignment_id(item, agency, programme)
        with self.db.unit_of_work() as session:
            session.get(Assignment, assignment_id).due_date = day  # type: ignore[union-attr]
        return assignment_id

    def report(
        self,
        item: str,
        agency: str,
        at: datetime,
        status: str = "in_progress",
        percent: int = 40,
        note: str = "",
        member_id: int | None = None,
        programme: str = "HY",
    ) -> None:
        with self.db.unit_of_work() as session:
            append_report(
                session,
                assignment_id=self.assignment_id(item, agency, programme),
                member_id=member_id,
                status=status,
                percent=percent,
                note=note,
                channel="telegram",
                at=at,
                tz=HANOI,
            )

    def absence(self, member_id: int, stand_in_id: int, starts: date, ends: date) -> None:
        with self.db.unit_of_work() as session:
            session.add(
                Absence(
                    member_id=member_id,
                    stand_in_id=stand_in_id,
                    starts_on=starts,
                    ends_on=ends,
                    created_at=self.clock.now(),
                )
            )

    def mute(self, member_id: int, item: str, until: datetime) -> None:
        with self.db.unit_of_work() as session:
            item_id = session.scalars(
                select(Item.id).join(Programme).where(Item.code == item, Programme.alias == "HY")
            ).one()
            session.add(Mute(member_id=member_id, item_id=item_id, until=until))

    def tick(self, *moment: int) -> TickResult:
        self.clock.set(hanoi(*moment))
        return self.service.tick()

    def tick_days(self, start: date, end: date, at: time = time(9, 0)) -> None:
        """Tick once a day (weekends and holidays included) from start to end."""
        day = start
        while day <= end:
            self.tick(day.year, day.month, day.day, at.hour, at.minute)
            day += timedelta(days=1)

    def rows(self, member_id: int | None = None, reason: str | None = None) -> list[Outbox]:
        with self.db.unit_of_work() as session:
            query = select(Outbox).order_by(Outbox.id)
            if member_id is not None:
                query = query.where(Outbox.member_id == member_id)
            if reason is not None:
                query = query.where(Outbox.reason == reason)
            return list(session.scalars(query))

    def texts(self, member_id: int) -> dict[date, str]:
        """What a member was sent, by local day (one message a day at most, asserted)."""
        found: dict[date, str] = {}
        for row in self.rows(member_id):
            day = row.created_at.astimezone(HANOI).date()
            assert day not in found, f"two messages to member {member_id} on {day}"
            found[day] = row.payload["text"]
        return found

    def count(self) -> int:
        with self.db.unit_of_work() as session:
            return session.scalar(select(func.count()).select_from(Outbox)) or 0


@pytest.fixture
def world(db: Database, tmp_path: Path, spec: ProgrammeSpec) -> Iterator[World]:
    yield World(db, tmp_path, spec, reminders=NO_CYCLES)


@pytest.fixture
def cycles(db: Database, tmp_path: Path, spec: ProgrammeSpec) -> Iterator[World]:
    """A world with the monthly reporting cycle reminders on (25th; 5 and 1 days before)."""
    yield World(db, tmp_path, spec)


# working days -------------------------------------------------------------------------------


def test_reminders_skip_the_tet_holiday_week(world: World) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    world.due("2.5", "HN-GTVT", date(2020, 1, 31))  # 7 and 3 days before fall in Tết
    world.tick_days(date(2020, 1, 20), date(2020, 2, 3))
    sent = world.texts(an)
    assert sorted(sent) == [date(2020, 1, 30), date(2020, 1, 31), date(2020, 2, 3)]
    assert "2.5" in sent[date(2020, 1, 30)] and "còn 1 ngày" in sent[date(2020, 1, 30)]
    assert "hôm nay đến hạn" in sent[date(2020, 1, 31)]
    assert "quá hạn 1 ngày làm việc" in sent[date(2020, 2, 3)]
    for row in world.rows():
        assert CALENDAR.is_working_time(row.created_at), row.created_at
        assert CALENDAR.is_working_time(row.next_attempt_at), row.next_attempt_at


def test_national_day_moves_a_reminder_to_the_next_working_day(world: World) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    world.due("2.5", "HN-GTVT", date(2020, 9, 9))  # 7 days before is Wednesday 2 September
    world.tick_days(date(2020, 9, 1), date(2020, 9, 4))
    sent = world.texts(an)
    assert list(sent) == [date(2020, 9, 3)]
    assert "hạn 09/09/2020, còn 6 ngày" in sent[date(2020, 9, 3)]


def test_seven_three_one_days_before_on_the_day_and_every_two_days_overdue(world: World) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    world.due("2.5", "HN-GTVT", date(2020, 3, 20))
    world.tick_days(date(2020, 3, 9), date(2020, 3, 29))
    sent = world.texts(an)
    expected = {
        date(2020, 3, 13): "còn 7 ngày",
        date(2020, 3, 17): "còn 3 ngày",
        date(2020, 3, 19): "còn 1 ngày",
        date(2020, 3, 20): "hôm nay đến hạn",
        date(2020, 3, 23): "quá hạn 1 ngày làm việc",
        date(2020, 3, 25): "quá hạn 3 ngày làm việc",
        date(2020, 3, 27): "quá hạn 5 ngày làm việc",
    }
    assert sorted(sent) == sorted(expected)
    for day, words in expected.items():
        assert words in sent[day], (day, sent[day])


# one message per person -----------------------------------------------------------------------


def test_one_message_per_person_with_every_due_item_and_a_button_each(world: World) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    lead = world.due("2.5", "HN-GTVT", date(2020, 3, 20))
    support = world.due("2.4.c", "HN-GTVT", date(2020, 3, 20))
    world.report("2.5", "HN-GTVT", hanoi(2020, 3, 2, 10, 0), percent=60)
    world.tick(2020, 3, 13, 9, 0)
    rows = world.rows(an)
    assert len(rows) == 1
    text, buttons = rows[0].payload["text"], rows[0].payload["choices"]
    assert "Kính gửi Nguyễn Văn An" in text and "2 nội dung cần báo cáo" in text
    assert "2.5 Lĩnh vực giao thông" in text and "2.4.c" in text
    assert "hạn 20/03/2020, còn 7 ngày" in text
    assert "báo cáo gần nhất: Đang thực hiện 60% ngày 02/03/2020" in text
    assert "chưa có báo cáo" in text  # 2.4.c
    data = sorted(data for row in buttons for _, data in row)
    assert data == sorted([f"r:{lead}", f"r:{support}"])
    for row in buttons:
        for label, callback in row:
            assert len(label) <= 40 and len(callback.encode()) <= 64
    assert rows[0].channel == "telegram" and rows[0].status == "pending"


def test_colleagues_each_get_their_own_message(world: World) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    binh = world.member("HN-GTVT", "Trần Thị Bình", role="coordinator")
    world.due("2.5", "HN-GTVT", date(2020, 3, 20))
    world.tick(2020, 3, 13, 9, 0)
    assert [len(world.rows(an)), len(world.rows(binh))] == [1, 1]
    assert "Kính gửi Trần Thị Bình" in world.rows(binh)[0].payload["text"]


# who is told ----------------------------------------------------------------------------------


def test_escalation_after_five_overdue_working_days_to_head_and_office(world: World) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    head = world.member("HN-GTVT", "Lê Văn Cường", head=True)
    office = world.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    world.due("2.5", "HN-GTVT", date(2020, 3, 20))
    world.tick_days(date(2020, 3, 19), date(2020, 3, 26))
    assert not any("Đề nghị đôn đốc" in t for t in world.texts(office).values())
    world.tick(2020, 3, 27, 9, 0)  # the 5th working day overdue
    escalated = world.texts(office)[date(2020, 3, 27)]
    assert "Đề nghị đôn đốc, chỉ đạo" in escalated
    assert "2.5 Lĩnh vực giao thông — Sở Giao thông vận tải Hà Nội" in escalated
    assert "quá hạn 5 ngày làm việc" in escalated
    assert ["2.5", "o:2.5"] in [b for row in world.rows(office)[-1].payload["choices"] for b in row]
    head_text = world.texts(head)[date(2020, 3, 27)]
    assert "Đề nghị đôn đốc" in head_text and "Nhắc báo cáo tiến độ" in head_text
    assert "Đề nghị đôn đốc" not in world.texts(an)[date(2020, 3, 27)]
    world.tick_days(date(2020, 3, 30), date(2020, 4, 3))  # told once, not every day
    assert sum("Đề nghị đôn đốc" in t for t in world.texts(office).values()) == 1


def test_stand_in_gets_the_reminders_during_an_absence(world: World) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    stand_in = world.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    world.due("2.5", "HN-GTVT", date(2020, 3, 20))
    world.absence(an, stand_in, date(2020, 3, 16), date(2020, 3, 18))
    world.tick_days(date(2020, 3, 16), date(2020, 3, 19))
    assert list(world.texts(an)) == [date(2020, 3, 19)]  # back at work
    covered = {day: text for day, text in world.texts(stand_in).items() if "• 2.5" in text}
    assert list(covered) == [date(2020, 3, 17)]  # the 3-day reminder, while An is away
    assert (
        "2.5 Lĩnh vực giao thông (thay Nguyễn Văn An đang vắng mặt)" in covered[date(2020, 3, 17)]
    )
    button = ["2.5 · Lĩnh vực giao thông", f"r:{world.assignment_id('2.5', 'HN-GTVT')}"]
    assert any(
        [button] == row or button in row
        for r in world.rows(stand_in)
        for row in r.payload["choices"]
    )


def test_an_agency_nobody_can_be_reached_at_goes_to_the_office_flagged(world: World) -> None:
    office = world.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    world.member("HN-GTVT", "Chưa liên kết", platform=None)  # invited, never linked
    world.due("2.5", "HN-GTVT", date(2020, 3, 20))
    result = world.tick(2020, 3, 13, 9, 0)
    text = world.texts(office)[date(2020, 3, 13)]
    assert "chưa có ai nhận được tin nhắn" in text
    assert "Sở Giao thông vận tải Hà Nội (HN-GTVT)" in text and "còn 7 ngày" in text
    assert "HN-GTVT" not in result.unreachable  # the office was told


def test_muting_silences_reminders_until_overdue(world: World) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    world.due("2.5", "HN-GTVT", date(2020, 3, 20))
    world.mute(an, "2.5", hanoi(2020, 4, 1, 0, 0))
    world.tick_days(date(2020, 3, 12), date(2020, 3, 23))
    assert list(world.texts(an)) == [date(2020, 3, 23)]
    assert "quá hạn 1 ngày làm việc" in world.texts(an)[date(2020, 3, 23)]


# reporting cycles -----------------------------------------------------------------------------


def test_a_report_in_the_cycle_stops_that_cycles_reminders(cycles: World) -> None:
    an = cycles.member("HN-GTVT", "Nguyễn Văn An")
    cycles.tick(2020, 3, 20, 9, 0)  # 5 days before the 25th
    first = cycles.texts(an)[date(2020, 3, 20)]
    assert "2.5" in first and "2.4.c" in first
    assert "chưa báo cáo kỳ tháng 3/2020 (hạn 25/03/2020)" in first
    cycles.report("2.5", "HN-GTVT", hanoi(2020, 3, 23, 15, 0), member_id=an)
    cycles.tick(2020, 3, 24, 9, 0)  # 1 day before
    second = cycles.texts(an)[date(2020, 3, 24)]
    assert "2.4.c" in second and "• 2.5" not in second
    cycles.report("2.4.c", "HN-GTVT", hanoi(2020, 4, 17, 15, 0), member_id=an)
    cycles.report("2.5", "HN-GTVT", hanoi(2020, 4, 17, 15, 5), member_id=an)
    cycles.tick_days(date(2020, 4, 20), date(2020, 4, 24))
    assert not [d for d in cycles.texts(an) if d.month == 4]


def test_the_cycle_closes_with_its_response_rate_for_the_office(cycles: World) -> None:
    office = cycles.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    cycles.member("HY-KHDT", "Đỗ Minh Hải", role="coordinator")
    cycles.report("2.5", "HN-GTVT", hanoi(2020, 3, 2, 10, 0))
    cycles.report("2.8", "HN-LDTBXH", hanoi(2020, 3, 25, 16, 0))  # on the closing day
    cycles.report("2.6.b", "HN-XD", hanoi(2020, 2, 20, 10, 0))  # the previous cycle
    with cycles.db.unit_of_work() as session:
        total = session.scalar(
            select(func.count())
            .select_from(Assignment)
            .join(Agency)
            .join(Locality)
            .where(Locality.code == "HN")
        )
    cycles.tick_days(date(2020, 3, 25), date(2020, 3, 26))
    closed = [t for t in cycles.texts(office).values() if "đã đóng" in t]
    assert len(closed) == 1
    assert f"Kỳ báo cáo tháng 3/2020 (hạn 25/03/2020) đã đóng: 2/{total} nhiệm vụ" in closed[0]
    assert f"đạt {round(200 / total)}%" in closed[0]
    missing = closed[0].split("Chưa báo cáo:")[1]
    assert "Sở Xây dựng Hà Nội (" in missing  # reported in February only
    assert "Sở Giao thông vận tải Hà Nội (1)" in missing  # 2.5 reported, 2.4.c not
    # 2.8 reported on the closing day counts; 2.7.b was not reported
    assert "Thương binh và Xã hội Hà Nội (1)" in missing


# catch-up -------------------------------------------------------------------------------------


def test_five_days_down_come_back_as_one_message_per_person(world: World) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    office = world.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    world.due("2.5", "HN-GTVT", date(2020, 3, 13))  # 3, 1 days before and the day: all missed
    world.due("2.8", "HN-LDTBXH", date(2020, 3, 11))  # nobody there: forwarded to the office
    world.tick(2020, 3, 9, 9, 0)
    before = world.count()
    world.tick(2020, 3, 16, 9, 0)  # down Tuesday 10 to Friday 13 and Monday morning
    assert [r.created_at.astimezone(HANOI).date() for r in world.rows(an)] == [date(2020, 3, 16)]
    text = world.rows(an)[0].payload["text"]
    assert "gộp các nhắc việc từ 10/03/2020 đến 16/03/2020" in text
    assert "quá hạn 1 ngày làm việc" in text
    assert world.count() - before == 2  # one for An, one for the office
    assert "2.8" in world.rows(office)[-1].payload["text"]
    with world.db.unit_of_work() as session:
        state = session.get(SchedulerState, "reminders")
        assert state is not None and state.last_slot == date(2020, 3, 16)


def test_reminders_wait_for_the_next_slot_when_the_process_comes_back_after_hours(
    world: World,
) -> None:
    an = world.member("HN-GTVT", "Nguyễn Văn An")
    world.due("2.5", "HN-GTVT", date(2020, 3, 13))
    world.tick(2020, 3, 9, 9, 0)
    world.tick(2020, 3, 12, 19, 0)  # back in the evening: nothing goes out at night
    world.tick(2020, 3, 13, 8, 0)  # before the slot
    assert world.rows(an) == []
    world.tick(2020, 3, 13, 8, 30)
    rows = world.rows(an)
    assert len(rows) == 1 and "hôm nay đến hạn" in rows[0].payload["text"]
    assert rows[0].next_attempt_at == hanoi(2020, 3, 13, 8, 30).astimezone(UTC)


# the rule itself, without a database ----------------------------------------------------------


@dataclass(frozen=True)
class State:
    """Just the fields of an assignment state the policy reads."""

    assignment_id: int
    item_code: str
    agency_id: int
    due_date: date | None
    status: str | None = None
    item_id: int = 0
    item_title: str = "Lĩnh vực giao thông"
    agency_code: str = "HY-GTVT"
    agency_name: str = "Sở Giao thông vận tải Hưng Yên"
    locality_code: str = "HY"
    role: str = "lead"
    percent: int | None = None
    reported_at: datetime | None = None
    completed_on: date | None = None
    programme_id: int = 1
    programme_label: str = "HY"


@dataclass(frozen=True)
class Away:
    member_id: int
    stand_in_id: int
    starts_on: date
    ends_on: date


ONE = frozenset({1})
PEOPLE = [
    Person(1, "Nguyễn Văn An", 10, "HY-GTVT", "HY", "reporter", programmes=ONE),
    Person(2, "Lê Văn Cường", 10, "HY-GTVT", "HY", "reporter", is_head=True, programmes=ONE),
    Person(3, "Phạm Thu Dung", 30, "HY-KHDT", "HY", "coordinator", programmes=ONE, coordinates=ONE),
    Person(4, "Đỗ Minh Hải", 30, "HY-KHDT", "HY", "coordinator", programmes=ONE, coordinates=ONE),
    Person(5, "Vũ Thị Lan", 20, "HY-XD", "HY", "reporter", programmes=ONE, reachable=False),
    Person(6, "Phó Chủ tịch", 40, "HY-UBND", "HY", "vice_chair", programmes=ONE, leadership=ONE),
]
POLICY = ReminderSettings(cycle_reminder_days_before=[])


def plan(
    states: list[State], day: date, absences: list[Away] | None = None
) -> dict[int | None, PlannedMessage]:
    planned = plan_reminders(states, PEOPLE, absences or [], [], CALENDAR, POLICY, day)
    return {p.recipient_id: p for p in planned}


def test_the_rule_routes_each_item_to_who_can_act() -> None:
    states = [
        State(1, "2.5", 10, date(2020, 3, 20)),
        State(
            2,
            "2.6.b",
            20,
            date(2020, 3, 20),
            agency_code="HY-XD",
            agency_name="Sở Xây dựng Hưng Yên",
        ),
        State(3, "2.8", 10, date(2020, 3, 20), status="done"),
    ]
    out = plan(states, date(2020, 3, 13))
    assert sorted(out, key=str) == [1, 2, 3, 4]  # no Vice-Chair, nobody for the unreachable
    assert [i.item_code for i in out[1].items] == ["2.5"]  # done items are never chased
    assert [i.item_code for i in out[3].forwarded] == ["2.6.b"]  # Lan cannot be reached
    assert out[3].unreachable_agencies == ("HY-XD",) and out[3].items == ()
    away = plan(states, date(2020, 3, 13), [Away(1, 4, date(2020, 3, 13), date(2020, 3, 13))])
    assert 1 not in away and away[4].items[0].on_behalf_of == "Nguyễn Văn An"


def test_the_rule_escalates_once_to_head_and_offices_and_plans_nothing_on_a_holiday() -> None:
    states = [State(1, "2.5", 10, date(2020, 3, 20))]
    escalated = plan(states, date(2020, 3, 27))
    assert {k for k, p in escalated.items() if p.escalations} == {2, 3, 4}
    for day in (date(2020, 3, 30), date(2020, 3, 31)):
        assert not any(p.escalations for p in plan(states, day).values())
    assert plan(states, date(2020, 9, 2)) == {}


@pytest.mark.parametrize(
    ("day", "cadence", "rule", "key"),
    [
        # Decree 09: December's data runs 15/11–14/12, its report is due on the 25th.
        (date(2019, 12, 25), "monthly", "decree-09", "2019-12"),
        (date(2020, 3, 25), "quarterly", "decree-09", "2020-Q1"),
        (date(2020, 6, 25), "semiannual", "decree-09", "2020-H1"),
        (date(2020, 2, 25), "quarterly", "decree-09", None),
        (date(2020, 3, 24), "monthly", "decree-09", None),
        (date(2020, 3, 25), "none", "decree-09", None),
        # Calendar periods: December's report is due on 25 January.
        (date(2020, 1, 25), "monthly", "calendar", "2019-12"),
    ],
)
def test_a_period_closes_on_the_day_its_report_is_due(
    day: date, cadence: str, rule: str, key: str | None
) -> None:
    period = period_due_on(day, cadence, rule, 25)
    assert (period.key if period else None) == key
