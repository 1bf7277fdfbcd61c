"""Two programmes side by side (Hà Nội – Hưng Yên and Hà Nội – Hòa Bình), played over the real
bots on Telegram and Zalo: an official of both, the coordinating offices, a Vice-Chair."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.loopback.stage import Person, Said, Stage, text_of
from storage.db import Database, make_engine, upgrade
from storage.models import Assignment, Item, Programme, Report
from storage.programme.file import load_programme_file
from storage.programme.importer import import_programme
from tests.harness import HANOI, PROGRAMME, staged

SECOND = PROGRAMME.parent / "ha-noi-hoa-binh-2019.toml"


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with both programmes, copied by each test."""
    path = tmp_path_factory.mktemp("two") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    db = Database(engine)
    with db.unit_of_work() as session:
        for file in (PROGRAMME, SECOND):
            import_programme(
                session, load_programme_file(file), datetime(2019, 11, 1, 8, tzinfo=HANOI)
            )
    db.dispose()
    return path


@pytest.fixture(params=["telegram", "zalo"])
async def world(request: pytest.FixtureRequest, both: Path, tmp_path: Path) -> AsyncIterator[World]:
    async with staged(both, tmp_path) as stage:
        yield World(stage, request.param)


class World:
    def __init__(self, stage: Stage, platform: str) -> None:
        self.stage, self.platform, self.db = stage, platform, stage.db

    async def join(self, name: str, agency: str, role: str = "reporter") -> Person:
        return await self.stage.join(name, agency, role, self.platform)

    async def say(self, person: Person, text: str) -> str:
        return text_of(await self.stage.say(person, text))

    async def tap(self, person: Person, label: str) -> str:
        return text_of(await self.stage.tap(person, label))

    def reports(self) -> list[tuple[str, str, int, str]]:
        """(programme alias, item code, percent, note) of every stored report."""
        with self.db.unit_of_work() as session:
            rows = session.execute(
                select(Programme.alias, Item.code, Report.percent, Report.note)
                .join(Assignment, Assignment.id == Report.assignment_id)
                .join(Item, Item.id == Assignment.item_id)
                .join(Programme, Programme.id == Item.programme_id)
                .order_by(Report.id)
            )
            return [(alias, code, percent, note) for alias, code, percent, note in rows]


async def test_an_official_of_both_programmes_is_asked_which_one(world: World) -> None:
    yen = await world.join("Yến", "HN-YT")
    menu = await world.say(yen, "/baocao")
    assert "HY — Chương trình hợp tác Hà Nội – Hưng Yên" in menu
    assert "HB — Chương trình hợp tác Hà Nội – Hòa Bình" in menu
    asked = await world.say(yen, "2.2.a 50% đã cử 2 bác sĩ hỗ trợ")
    assert "Mã 2.2.a có trong 2 chương trình" in asked
    assert world.reports() == []
    confirm = await world.tap(yen, "HB · 2.2.a")
    assert "Nội dung: HB · 2.2.a" in confirm and "đã cử 2 bác sĩ hỗ trợ" in confirm
    thanks = await world.tap(yen, "Gửi báo cáo")
    assert "Đã ghi nhận báo cáo nội dung HB · 2.2.a" in thanks
    assert "Nội dung: HY · 2.7.a" in await world.say(yen, "2.7.a 30%")  # only in one: no question
    await world.tap(yen, "Gửi báo cáo")
    assert "Nội dung: HB · 2.2.b" in await world.say(yen, "HB 2.2.b xong")
    await world.tap(yen, "Gửi báo cáo")
    assert world.reports() == [
        ("HB", "2.2.a", 50, "đã cử 2 bác sĩ hỗ trợ"),
        ("HY", "2.7.a", 30, ""),
        ("HB", "2.2.b", 100, ""),
    ]
    mine = await world.say(yen, "/cuatoi")
    assert "• HB · 2.2.a · " in mine and "• HY · 2.2.a · " in mine


async def test_an_official_of_one_programme_sees_nothing_new(world: World) -> None:
    tam = await world.join("Tâm", "HN-TNMT")  # in the Hưng Yên programme only
    listing = await world.say(tam, "/cuatoi")
    assert "2.6.c ·" in listing and "HY" not in listing and "HB" not in listing
    confirm = await world.say(tam, "2.6.c 20% đã khảo sát")
    assert "Nội dung: 2.6.c ·" in confirm and "HY ·" not in confirm


async def test_each_coordinating_office_sees_its_programmes_in_their_periods(
    world: World,
) -> None:
    hanoi = await world.join("Mai", "HN-KHDT", "coordinator")  # coordinates both
    both = await world.say(hanoi, "/tonghop")
    assert (
        "HY — Chương trình hợp tác Hà Nội – Hưng Yên" in both
        and "kỳ tháng 12/2019 (hạn 25/12/2019)" in both
    )
    assert (
        "HB — Chương trình hợp tác Hà Nội – Hòa Bình" in both
        and "kỳ 6 tháng cuối năm 2019 (hạn 20/12/2019)" in both
    )
    one = await world.say(hanoi, "/tonghop HB")
    assert "HB — Chương trình" in one and "Hưng Yên" not in one
    hung_yen = await world.join("Hà", "HY-KHDT", "coordinator")  # coordinates Hưng Yên's only
    assert "Hòa Bình" not in await world.say(hung_yen, "/chuabaocao")
    assert "không thuộc phạm vi theo dõi" in await world.say(hung_yen, "/tonghop HB")
    exported = await world.stage.say(hanoi, "/xuat HB")
    if world.platform == "telegram":
        document = next(m for m in exported if m.document)
        assert document.document is not None and document.document[0].startswith("tien-do-HB-")
        sheets = load_workbook(io.BytesIO(document.document[1]), read_only=True).sheetnames
        assert "Nội dung HB" in sheets and "Nội dung HY" not in sheets  # that programme only
    else:
        assert "Zalo chưa gửi được tệp tien-do-HB-" in text_of(exported)


async def test_an_office_reviews_only_its_own_localitys_reports(world: World) -> None:
    yen = await world.join("Yến", "HN-YT")
    await world.say(yen, "HB 2.2.a 40% đã khảo sát")
    await world.tap(yen, "Gửi báo cáo")
    hung_yen = await world.join("Hà", "HY-KHDT", "coordinator")
    assert "Không có báo cáo mới" in await world.say(hung_yen, "/duyet")
    hanoi = await world.join("Mai", "HN-KHDT", "coordinator")
    listing = await world.say(hanoi, "/duyet")
    assert "HN-YT HB · 2.2.a" in listing
    await world.tap(hanoi, "HB · 2.2.a")
    assert "Đã xác nhận báo cáo" in await world.tap(hanoi, "Xác nhận")


async def test_a_forged_review_button_is_refused(both: Path, tmp_path: Path) -> None:
    async with staged(both, tmp_path, zalo=False) as stage:
        world = World(stage, "telegram")
        yen = await world.join("Yến", "HN-YT")
        await world.say(yen, "HB 2.2.a 40% đã khảo sát")
        await world.tap(yen, "Gửi báo cáo")
        (report_id,) = [r.id for r in _all_reports(stage.db)]
        hung_yen = await world.join("Hà", "HY-KHDT", "coordinator")
        for data, expected in [
            ("v:999999:ok", "Không tìm thấy báo cáo #999999"),
            (f"v:{report_id}:ok", "không thuộc phạm vi xem xét của Sở Kế hoạch và Đầu tư Hưng Yên"),
        ]:
            answer = text_of(await _forge(stage, hung_yen, data))
            assert expected in answer and "Đã xác nhận" not in answer


async def test_a_vice_chair_opens_any_item_of_the_programmes_they_direct(world: World) -> None:
    vinh = await world.join("Vinh", "HN-UBND", "vice_chair")
    asked = await world.say(vinh, "/muc 2.2.a")
    assert "muốn xem nội dung của chương trình nào" in asked
    shown = await world.tap(vinh, "HB · 2.2.a")
    assert "HB · 2.2.a · " in shown and "Sở Y tế Hòa Bình" in shown
    assert "Sở Giao thông vận tải Hòa Bình" in await world.say(vinh, "/muc HB 3.a")


def _all_reports(db: Database) -> list[Report]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(Report)))


async def _forge(stage: Stage, person: Person, data: str) -> list[Said]:
    """Press a button no menu offered, with `data` made up (Telegram sends what it is told)."""
    server = stage.telegram_server
    assert server is not None
    last = server.messages_to(int(person.id))[-1].message_id
    return await stage._act(person, server.click(int(person.id), last, data), f"[{data}]")
