"""One conversation suite, played over the real bot on Telegram and on Zalo."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.loopback.stage import Person, Stage, text_of
from handlers.events import Inbound
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import Limits
from storage.models import Evidence, Identity, Member, Report, Review
from storage.outbox import Message, enqueue
from storage.people import revoke
from tests.harness import eventually, fail_once, staged, stored_reports


@pytest.fixture(params=["telegram", "zalo"])
async def world(
    request: pytest.FixtureRequest, template: Path, tmp_path: Path
) -> AsyncIterator[World]:
    async with staged(template, tmp_path) as stage:
        yield World(stage, request.param)


class World:
    """The stage, with every person on one platform (the parameter)."""

    def __init__(self, stage: Stage, platform: str) -> None:
        self.stage, self.platform = stage, platform
        self.db, self.clock = stage.db, stage.clock

    def user(self, name: str) -> Person:
        return self.stage.person(name, self.platform)

    async def join(self, name: str, agency: str, role: str = "reporter") -> Person:
        return await self.stage.join(name, agency, role, self.platform)

    def invite(self, agency: str, role: str = "reporter", name: str = "") -> str:
        return self.stage.invite(agency, role, name)

    async def start(self, person: Person, code: str) -> list:  # type: ignore[type-arg]
        text = f"/start {code}" if self.platform == "telegram" else code
        return await self.stage.say(person, text)

    def __getattr__(self, name: str) -> object:
        return getattr(self.stage, name)


def reports(world: World) -> list[Report]:
    return stored_reports(world.db)


async def test_join_greets_by_name_and_lists_commands(world: World) -> None:
    user = world.user("Lan")
    code = world.invite("HY-GTVT", name="Nguyễn Thị Lan")
    replies = await world.start(user, code)
    text = text_of(replies)
    assert "Xin chào Nguyễn Thị Lan" in text
    assert "Sở Giao thông vận tải" in text and "/baocao" in text
    again = await world.start(world.user("Minh"), code)
    assert "đã được sử dụng" in text_of(again)


async def test_unlinked_account_sees_nothing(world: World) -> None:
    stranger = world.user("Lạ")
    for text in ("/cuatoi", "/muc 2.5", "2.5 60% xong khảo sát", "/tonghop", "xin chào"):
        replies = await world.say(stranger, text)
        assert "chưa được liên kết" in text_of(replies), text
        assert "2.5 ·" not in text_of(replies)
    assert reports(world) == []


async def test_wrong_codes_are_slowed_down(world: World) -> None:
    guesser = world.user("Đoán")
    for _ in range(5):
        assert "không đúng" in text_of(await world.start(guesser, "AAAA2222"))
    good = world.invite("HN-GTVT")
    replies = await world.start(guesser, good)
    assert "quá 5 lần" in text_of(replies)


async def test_report_with_buttons_end_to_end(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    menu = await world.say(lan, "/baocao")
    assert "2.5" in text_of(menu)
    assert any("2.5" in label for label, _ in menu[-1].buttons)
    status = await world.tap(lan, "2.5")
    assert "Tình trạng thực hiện?" in text_of(status)
    percent = await world.tap(lan, "Đang thực hiện")
    assert "bao nhiêu phần trăm" in text_of(percent)
    note = await world.say(lan, "60")
    assert "Ghi chú" in text_of(note)
    evidence = await world.say(lan, "Đã khảo sát xong lộ trình tuyến buýt")
    assert "minh chứng" in text_of(evidence)
    content, name, mime = (
        (b"%PDF-1.4 survey", "khao-sat.pdf", "application/pdf")
        if world.platform == "telegram"
        else (PNG, "anh.png", "image/jpeg")
    )
    got = await world.send_file(lan, name, content, mime)
    assert "Đã nhận tệp" in text_of(got)
    summary = await world.tap(lan, "Tiếp tục")
    assert "Tiến độ: 60%" in text_of(summary) and "Minh chứng: 1 tệp" in text_of(summary)
    thanks = await world.tap(lan, "Gửi báo cáo")
    assert "Đã ghi nhận" in text_of(thanks) and "60%" in text_of(thanks)
    assert "Đang thực hiện trong hạn" in text_of(thanks)
    stored = reports(world)
    assert [(r.status, r.percent, r.note) for r in stored] == [
        ("in_progress", 60, "Đã khảo sát xong lộ trình tuyến buýt")
    ]
    with world.db.unit_of_work() as session:
        files = list(session.scalars(select(Evidence)))
    assert len(files) == 1
    assert Path(files[0].path).read_bytes() == content


async def test_quick_report_without_diacritics_needs_one_tap(world: World) -> None:
    official = await world.join("Hùng", "HN-CT")
    for typed, status, percent in [
        ("2.2.b hoan thanh", "done", 100),
        ("2.2.b dang thuc hien 60", "in_progress", 60),
        ("2.2.b 70% đã kết nối cung cầu", "in_progress", 70),
    ]:
        confirm = await world.say(official, typed)
        assert "Kiểm tra lại báo cáo" in text_of(confirm), typed
        await world.tap(official, "Gửi báo cáo")
        latest = reports(world)[-1]
        assert (latest.status, latest.percent) == (status, percent), typed
    assert reports(world)[-1].note == "đã kết nối cung cầu"


async def test_blocked_needs_a_note(world: World) -> None:
    official = await world.join("Tâm", "HN-TNMT")
    asked = await world.say(official, "2.6.c vuong mac")
    assert "bao nhiêu phần trăm" in text_of(asked)
    note = await world.say(official, "20")
    assert "bắt buộc" in text_of(note)
    assert not any("Bỏ qua" in label for label, _ in note[-1].buttons)
    await world.say(official, "chưa có vốn đối ứng")
    await world.tap(official, "Tiếp tục")
    await world.tap(official, "Gửi báo cáo")
    assert [(r.status, r.note) for r in reports(world)] == [("blocked", "chưa có vốn đối ứng")]


async def test_bad_input_gets_clear_answers_and_loses_nothing(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    assert "Không có lệnh /xyz" in text_of(await world.say(lan, "/xyz"))
    await world.say(lan, "/baocao")
    await world.tap(lan, "2.5")
    assert "chọn một trong các nút" in text_of(await world.say(lan, "abc"))
    await world.tap(lan, "Đang thực hiện")
    assert "không thể là 150%" in text_of(await world.say(lan, "150"))
    assert "không phải là một con số" in text_of(await world.say(lan, "abc"))
    await world.say(lan, "45")
    too_long = await world.say(lan, "x" * 10_000)
    assert "vượt giới hạn 2000" in text_of(too_long)
    await world.say(lan, "Ghi chú ngắn")
    if world.platform == "telegram":
        odd = await world.send_file(lan, "virus.exe", b"MZ", "application/x-msdownload")
        assert "Không nhận loại tệp" in text_of(odd)
    await world.tap(lan, "Tiếp tục")
    await world.tap(lan, "Gửi báo cáo")
    assert [(r.percent, r.note) for r in reports(world)] == [(45, "Ghi chú ngắn")]


async def test_other_agencys_item_is_refused(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    assert "không được giao" in text_of(await world.say(lan, "2.8 xong"))
    assert "không thuộc phạm vi" in text_of(await world.say(lan, "/muc 2.8"))
    section = text_of(await world.say(lan, "/muc 2"))  # a whole section: only her items
    assert "Sở Giao thông vận tải Hà Nội" in section  # the other side of her own 2.5
    assert "Lao động" not in section and "Tài nguyên" not in section
    assert reports(world) == []


async def test_cancel_and_idle_expiry(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    await world.say(lan, "/baocao")
    assert "Đã huỷ" in text_of(await world.say(lan, "/huy"))
    await world.say(lan, "/baocao")
    await world.tap(lan, "2.5")
    world.clock.advance(minutes=31)  # type: ignore[attr-defined]
    replies = await world.say(lan, "60")
    assert "hết hạn vì không hoạt động 30 phút" in text_of(replies)
    assert reports(world) == []


async def test_correction_is_a_new_row(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    await world.say(lan, "2.5 60% khảo sát")
    await world.tap(lan, "Gửi báo cáo")
    opened = await world.say(lan, "/sua 2.5")
    assert "Sửa báo cáo" in text_of(opened)
    await world.tap(lan, "Đang thực hiện")
    await world.say(lan, "65")
    await world.tap(lan, "Giữ ghi chú trước")
    await world.tap(lan, "Tiếp tục")
    await world.tap(lan, "Gửi báo cáo")
    first, second = reports(world)
    assert (first.percent, second.percent) == (60, 65)
    assert second.corrects_id == first.id and second.note == "khảo sát"


async def test_my_items_and_item_view(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    mine = text_of(await world.say(lan, "/cuatoi"))
    assert "2.5" in mine and "Chưa báo cáo" in mine
    await world.say(lan, "2.5 60% khảo sát")
    await world.tap(lan, "Gửi báo cáo")
    view = text_of(await world.say(lan, "/muc 2.5"))
    assert "Sở Giao thông vận tải Hà Nội" in view and "(HN" in view and "(HY" in view
    assert "khảo sát" in view


async def test_coordinator_commands_check_the_role(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    assert "dành cho cơ quan đầu mối" in text_of(await world.say(lan, "/tonghop"))
    assert "dành cho cơ quan đầu mối" in text_of(await world.say(lan, "/xuat"))
    office = await world.join("Hà", "HY-KHDT", role="coordinator")
    await world.say(lan, "2.5 60% khảo sát")
    await world.tap(lan, "Gửi báo cáo")
    summary = text_of(await world.say(office, "/tonghop"))
    assert "TỔNG HỢP TIẾN ĐỘ" in summary and "Theo lĩnh vực" in summary
    missing = text_of(await world.say(office, "/chuabaocao"))
    assert "HN-GTVT" in missing
    exported = await world.say(office, "/xuat")
    if world.platform == "telegram":
        document = next(m for m in exported if m.document)
        assert document.document is not None and document.document[0].endswith(".xlsx")
        assert document.document[1][:2] == b"PK"
    else:
        assert "Zalo chưa gửi được tệp" in text_of(exported)


async def test_coordinator_returns_a_report_and_reporter_is_told(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    office = await world.join("Hà", "HY-KHDT", role="coordinator")
    await world.say(lan, "2.5 60% khảo sát")
    await world.tap(lan, "Gửi báo cáo")
    listing = await world.say(office, "/duyet")
    assert "2.5" in text_of(listing)
    await world.tap(office, "2.5")
    await world.tap(office, "Trả lại")
    done = await world.say(office, "Thiếu số liệu khảo sát")
    assert "Đã trả lại" in text_of(done)
    dispatcher = Dispatcher(
        world.db,
        world.clock,
        world.stage.messengers,
        {"telegram": Limits(30, 1), "zalo": Limits(10, 1)},
    )
    await dispatcher.drain(5)
    told = world.stage.received(lan)[-1].text
    assert "bị Sở Kế hoạch và Đầu tư Hưng Yên trả lại" in told
    assert "Thiếu số liệu khảo sát" in told
    with world.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 1


async def test_two_officials_at_once(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    minh = await world.join("Minh", "HN-GTVT")
    await asyncio.gather(world.say(lan, "2.5 60% khảo sát"), world.say(minh, "2.5 30% lập đề án"))
    await asyncio.gather(world.tap(lan, "Gửi báo cáo"), world.tap(minh, "Gửi báo cáo"))
    assert sorted((r.agency_name, r.percent) for r in reports(world)) == [
        ("Sở Giao thông vận tải Hà Nội", 30),
        ("Sở Giao thông vận tải Hưng Yên", 60),
    ]


async def test_language_switch(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    await world.say(lan, "/ngonngu")
    switched = await world.tap(lan, "English")
    assert "Switched to English" in text_of(switched)
    assert "Choose the item" in text_of(await world.say(lan, "/baocao"))


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00"
    b"\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def test_revoked_member_and_expired_code_see_nothing(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    with world.db.unit_of_work() as session:
        member = session.scalars(select(Member).where(Member.name == "Lan")).one()
        revoke(session, str(member.id), world.clock.now(), "test")
    replies = await world.say(lan, "/cuatoi")
    assert "chưa được liên kết" in text_of(replies) and "2.5" not in text_of(replies)
    assert "chưa được liên kết" in text_of(await world.say(lan, "2.5 60% khảo sát"))
    old = world.stage.invite("HY-GTVT", expires=timedelta(days=1))
    world.clock.advance(days=2)  # type: ignore[attr-defined]
    assert "đã hết hạn" in text_of(await world.start(world.user("Muộn"), old))
    assert reports(world) == []


async def test_one_member_on_both_platforms_chooses_where_reminders_go(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    given = text_of(await world.say(lan, "/lienket"))
    code = given.split("Mã liên kết: ")[1].split(" ")[0]
    other = "zalo" if world.platform == "telegram" else "telegram"
    twin = world.stage.person("Lan", other)
    text = code if other == "zalo" else f"/start {code}"
    linked = text_of(await world.stage.say(twin, text))
    assert "Đã liên kết thêm tài khoản" in linked
    assert "2.5" in text_of(await world.stage.say(twin, "/cuatoi"))  # same member, same items
    await world.stage.say(twin, "/kenh")
    await world.stage.tap(twin, "Zalo" if other == "zalo" else "Telegram")
    with world.db.unit_of_work() as session:
        member = session.scalars(select(Member).where(Member.name == "Lan")).one()
        assert member.preferred_channel == other
        assert (
            len(list(session.scalars(select(Identity).where(Identity.member_id == member.id)))) == 2
        )
        enqueue(
            session,
            key="remind-lan",
            member=member,
            reason="reminder",
            message=Message("Nhắc việc thử"),
            due_at=world.clock.now(),
            now=world.clock.now(),
        )
    dispatcher = Dispatcher(
        world.db,
        world.clock,
        world.stage.messengers,
        {"telegram": Limits(30, 1), "zalo": Limits(10, 1)},
    )
    await dispatcher.drain(5)
    assert "Nhắc việc thử" in world.stage.received(twin)[-1].text
    assert all("Nhắc việc thử" not in m.text for m in world.stage.received(lan))


async def test_mute_after_reporting_and_absence_with_a_stand_in(world: World) -> None:
    from storage.models import Absence, Mute

    lan = await world.join("Lan", "HY-GTVT")
    await world.join("Bình", "HY-GTVT")
    await world.say(lan, "2.5 60% khảo sát")
    thanks = await world.tap(lan, "Gửi báo cáo")
    assert any("Tạm dừng nhắc việc" in label for label, _ in thanks[-1].buttons)
    muted = await world.tap(lan, "Tạm dừng nhắc việc")
    assert "trong 7 ngày" in text_of(muted)
    await world.say(lan, "/vangmat 5")
    chosen = await world.tap(lan, "Bình")
    assert "sẽ gửi cho Bình" in text_of(chosen)
    with world.db.unit_of_work() as session:
        mute = session.scalars(select(Mute)).one()
        assert mute.until == world.clock.now() + timedelta(days=7)
        absence = session.scalars(select(Absence)).one()
        assert (absence.ends_on - absence.starts_on).days == 4
    back = await world.say(lan, "/vangmat het")
    assert "đã trở lại" in text_of(back)


async def test_an_unexpected_error_is_apologised_for_and_the_bot_goes_on(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    fail_once(monkeypatch, world.stage.service)
    await world.say(lan, "/cuatoi")  # the apology follows the failed update; wait for it
    await eventually(lambda: "Xin lỗi, bot gặp lỗi" in world.stage.received(lan)[-1].text)
    assert "2.5" in text_of(await world.say(lan, "/cuatoi"))


def restarted_dispatcher(world: World) -> Dispatcher:
    """The outbox dispatcher of a process that has just started: it first takes back what a
    killed process left in flight."""
    dispatcher = Dispatcher(
        world.db,
        world.clock,
        world.stage.messengers,
        {"telegram": Limits(30, 1), "zalo": Limits(10, 1)},
    )
    dispatcher.recover()
    return dispatcher


def confirmations(world: World, person: Person) -> list[str]:
    return [m.text for m in world.stage.received(person) if "Đã ghi nhận báo cáo" in m.text]


async def test_a_confirmation_lost_to_a_kill_goes_out_once_after_the_restart(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    confirm = await world.say(lan, "2.5 60% khảo sát")
    send = next(data for label, data in confirm[-1].buttons if "Gửi báo cáo" in label)
    # The tap is handled and committed, and the process dies before it answers.
    tap = (
        Inbound("telegram", lan.id, lan.id, choice=send)
        if world.platform == "telegram"
        else Inbound("zalo", lan.id, lan.id, text=send)  # Zalo: the option's number
    )
    await world.stage.service.handle(tap)
    assert [r.percent for r in reports(world)] == [60]
    assert confirmations(world, lan) == []
    await restarted_dispatcher(world).drain(5)
    [told] = confirmations(world, lan)
    assert "nội dung 2.5: Đang thực hiện 60%" in told
    await restarted_dispatcher(world).drain(5)  # and another restart sends nothing more
    assert len(confirmations(world, lan)) == 1


async def test_a_confirmation_answered_at_once_is_not_sent_again(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    await world.say(lan, "2.5 60% khảo sát")
    await world.tap(lan, "Gửi báo cáo")
    assert len(confirmations(world, lan)) == 1
    await restarted_dispatcher(world).drain(5)
    assert len(confirmations(world, lan)) == 1


async def test_a_second_invite_on_a_linked_account_asks_before_moving_it(world: World) -> None:
    lan = await world.join("Lan", "HY-GTVT")
    code = world.invite("HN-GTVT", name="Lan (Hà Nội)")
    asked = text_of(await world.start(lan, code))
    assert "đang liên kết với Lan — Sở Giao thông vận tải Hưng Yên (chuyên viên)" in asked
    assert "chuyển sang Sở Giao thông vận tải Hà Nội" in asked
    assert "vẫn liên kết như cũ" in text_of(await world.tap(lan, "Giữ như cũ"))
    assert "2.5" in text_of(await world.say(lan, "/cuatoi"))  # still Hưng Yên's official
    await world.start(lan, code)
    moved = text_of(await world.tap(lan, "Chuyển tài khoản"))
    assert "Xin chào Lan (Hà Nội)" in moved and "Sở Giao thông vận tải Hà Nội" in moved
    with world.db.unit_of_work() as session:
        owner = session.scalars(
            select(Member.name).join(Identity, Identity.member_id == Member.id)
        ).all()
    assert owner == ["Lan (Hà Nội)"]
