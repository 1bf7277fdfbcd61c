"""A Vice-Chair's directives: who receives one, which report answers it, who is told.

Played through the real conversation service on SQLite and PostgreSQL (the store's rows, the
outbox's messages), and end to end through the real bots on the loopback Telegram and Zalo Bot
APIs. The pure step's dialogs are in tests/test_step_dialogs.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.loopback.stage import Stage, text_of
from handlers.events import Inbound, Reply
from handlers.service import ConversationService
from handlers.settings import ConversationSettings
from scheduler.digest import build_digest
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import Limits
from storage.clock import FixedClock
from storage.db import Database
from storage.directives import answer_with
from storage.models import (
    Agency,
    Assignment,
    Directive,
    DirectiveRecipient,
    Item,
    Member,
    Outbox,
    Programme,
    Report,
)
from storage.people import create_invites
from storage.programme.file import load_programme_file
from storage.programme.importer import import_programme
from storage.programme.spec import ProgrammeSpec
from storage.reports import append_report
from tests.conftest import HANOI, hanoi
from tests.harness import REPO, staged

HOA_BINH = REPO / "programmes" / "ha-noi-hoa-binh-2019.toml"
TEXT = "Đề nghị bố trí vốn đối ứng cho quan trắc chung trong tháng 12"


class Office:
    """People talking to the conversation service over one store, on a fixed clock."""

    def __init__(self, db: Database, clock: FixedClock, folder: Path) -> None:
        self.db, self.clock = db, clock
        self.service = ConversationService(
            db, clock, ConversationSettings(), tz=HANOI, evidence_dir=folder
        )
        self.last: dict[str, list[Reply]] = {}
        self.updates = 0

    async def join(self, name: str, agency: str, role: str = "reporter") -> str:
        with self.db.unit_of_work() as session:
            code = create_invites(
                session, agency, role, 1, timedelta(days=1), self.clock.now(), "t", name
            )[0].code
        replies = await self.say(name, code)
        assert "Xin chào" in replies[-1].text, replies
        return name

    async def say(self, who: str, text: str) -> list[Reply]:
        return await self._handle(Inbound("telegram", who, who, who, text=text))

    async def tap(self, who: str, label: str) -> list[Reply]:
        """Choose the option whose label holds `label` on the last menu shown to `who`."""
        choices = [c for r in self.last[who] for c in r.flat_choices() if label in c.label]
        assert len(choices) == 1, (label, self.last[who])
        return await self._handle(Inbound("telegram", who, who, who, choice=choices[0].data))

    async def _handle(self, event: Inbound) -> list[Reply]:
        self.updates += 1
        replies = await self.service.handle(replace(event, update_key=str(self.updates)))
        if any(r.choices for r in replies):
            self.last[event.user_id] = replies
        return replies

    async def report(self, who: str, typed: str) -> None:
        """A quick report, confirmed."""
        await self.say(who, typed)
        thanks = await self.tap(who, "Gửi báo cáo")
        assert "Đã ghi nhận" in text(thanks), thanks

    def told(self, name: str) -> list[str]:
        """The texts waiting in the outbox for the member called `name`."""
        with self.db.unit_of_work() as session:
            return list(
                session.scalars(
                    select(Outbox.payload["text"].as_string())
                    .join(Member, Member.id == Outbox.member_id)
                    .where(Member.name == name)
                    .order_by(Outbox.id)
                )
            )

    def recipients(self) -> dict[str, DirectiveRecipient]:
        """The newest directive's recipients by agency code."""
        with self.db.unit_of_work() as session:
            newest = session.scalar(select(Directive.id).order_by(Directive.id.desc()).limit(1))
            return {
                code: r
                for r, code in session.execute(
                    select(DirectiveRecipient, Agency.code)
                    .join(Agency, Agency.id == DirectiveRecipient.agency_id)
                    .where(DirectiveRecipient.directive_id == newest)
                )
            }


def text(replies: list[Reply]) -> str:
    return "\n".join(r.text_with_details() for r in replies)


def labels(replies: list[Reply]) -> list[str]:
    return [c.label for r in replies for c in r.flat_choices()]


@pytest.fixture
async def office(
    db: Database, clock: FixedClock, tmp_path: Path, spec: ProgrammeSpec
) -> AsyncIterator[Office]:
    with db.unit_of_work() as session:
        import_programme(session, spec, clock.now())
    place = Office(db, clock, tmp_path)
    await place.join("Trần Quang Vinh", "HN-UBND", "vice_chair")
    await place.join("Đỗ Minh Tâm", "HN-TNMT")
    await place.join("Vũ Thị Hà", "HY-TNMT")
    yield place


VINH, TAM, HA = "Trần Quang Vinh", "Đỗ Minh Tâm", "Vũ Thị Hà"


async def test_a_directive_reaches_the_own_lead_agency_and_says_who_received_it(
    office: Office,
) -> None:
    preview = await office.say(VINH, f"/chidao 2.6.c 15/01 {TEXT}")
    shown = text(preview)
    assert "Chỉ đạo về nội dung 2.6.c · " in shown and "hạn 15/01/2020" in shown
    assert "Cơ quan chủ trì: Sở Tài nguyên và Môi trường Hà Nội" in shown
    assert "Cơ quan phối hợp: Sở Xây dựng Hà Nội (*)" in shown  # nobody there to tell
    assert "Cơ quan của Tỉnh Hưng Yên: Sở Tài nguyên và Môi trường Hưng Yên, " in shown
    assert labels(preview) == [
        "Gửi cơ quan chủ trì (1)",
        "Gửi cả cơ quan phối hợp (2)",
        "Gửi cả cơ quan của Tỉnh Hưng Yên (4)",
        "Huỷ",
    ]
    assert office.recipients() == {}  # nothing is sent before the choice
    sent = text(await office.tap(VINH, "Gửi cơ quan chủ trì"))
    assert "Đã gửi chỉ đạo về nội dung 2.6.c tới 1 cơ quan:" in sent
    assert "• Sở Tài nguyên và Môi trường Hà Nội (chủ trì): 1 người nhận" in sent
    assert "Chưa gửi được" not in sent
    with office.db.unit_of_work() as session:
        directive = session.scalars(select(Directive)).one()
        assert (directive.text, directive.due_on) == (TEXT, date(2020, 1, 15))
        assert directive.programme_id == session.scalars(select(Programme.id)).one()
    recipients = office.recipients()
    assert list(recipients) == ["HN-TNMT"]
    assert (recipients["HN-TNMT"].role, recipients["HN-TNMT"].reached) == ("lead", True)
    (notice,) = office.told(TAM)
    assert notice.startswith("Kính gửi đồng chí Đỗ Minh Tâm,\n")
    assert (
        "Thực hiện chỉ đạo của đồng chí Trần Quang Vinh, Phó Chủ tịch UBND (Ủy ban nhân dân "
        "thành phố Hà Nội) về nội dung 2.6.c · " in notice
    )
    assert f"“{TEXT}”" in notice and "Thời hạn báo cáo: 15/01/2020." in notice
    assert (
        "Đề nghị Sở Tài nguyên và Môi trường Hà Nội báo cáo kết quả thực hiện: gõ /baocao 2.6.c."
        in notice
    )
    assert office.told(HA) == []  # the other province's agency is not told


async def test_supporting_and_counterpart_agencies_only_when_chosen(office: Office) -> None:
    await office.say(VINH, f"/chidao 2.6.c {TEXT}")
    sent = text(await office.tap(VINH, "Gửi cả cơ quan phối hợp"))
    assert "tới 2 cơ quan" in sent
    assert "Chưa gửi được tới (chưa có ai nhận tin qua bot): Sở Xây dựng Hà Nội." in sent
    recipients = office.recipients()
    assert {code: (r.role, r.reached) for code, r in recipients.items()} == {
        "HN-TNMT": ("lead", True),
        "HN-XD": ("support", False),
    }
    assert office.told(HA) == []
    await office.say(VINH, "/chidao 2.6.c Đề nghị hai Sở Tài nguyên và Môi trường phối hợp")
    sent = text(await office.tap(VINH, "Gửi cả cơ quan của Tỉnh Hưng Yên"))
    assert "tới 4 cơ quan" in sent and "Sở Tài nguyên và Môi trường Hưng Yên (tỉnh bạn)" in sent
    assert {code: r.role for code, r in office.recipients().items()} == {
        "HN-TNMT": "lead",
        "HN-XD": "support",
        "HY-TNMT": "counterpart",
        "HY-XD": "counterpart",
    }
    assert "Đề nghị hai Sở" in office.told(HA)[-1]


async def test_the_next_report_answers_even_at_the_same_clock_time(office: Office) -> None:
    await office.report(TAM, "2.6.c 20 đang chuẩn bị")  # before the directive, same minute
    await office.say(VINH, f"/chidao 2.6.c {TEXT}")
    await office.tap(VINH, "Gửi cơ quan chủ trì")
    assert office.recipients()["HN-TNMT"].answer_report_id is None
    assert "2.6.c · 02/12/2019 — chờ Sở Tài nguyên và Môi trường Hà Nội" in text(
        await office.say(VINH, "/chidao")
    )
    await office.report(TAM, "2.6.c 40% đã bố trí vốn đối ứng")  # the same clock time again
    answered = office.recipients()["HN-TNMT"]
    with office.db.unit_of_work() as session:
        newest = session.scalar(select(Report.id).order_by(Report.id.desc()).limit(1))
        directive = session.scalars(select(Directive)).one()
    assert answered.answer_report_id == newest
    assert answered.answered_at == office.clock.now()
    assert directive.closed_at == office.clock.now()  # its only recipient has answered
    (told,) = office.told(VINH)
    assert told.startswith(
        "Sở Tài nguyên và Môi trường Hà Nội đã báo cáo về chỉ đạo ngày 02/12/2019 (nội dung "
        "2.6.c): Đang thực hiện 40% — đã bố trí vốn đối ứng."
    )
    assert "Đã đủ báo cáo của 1/1 cơ quan nhận chỉ đạo." in told
    assert "Không có chỉ đạo nào đang chờ báo cáo." in text(await office.say(VINH, "/chidao"))
    await office.report(TAM, "2.6.c 50% đã ký hợp đồng quan trắc")
    assert office.recipients()["HN-TNMT"].answer_report_id == newest  # the first answer stays
    assert len(office.told(VINH)) == 1


async def test_a_report_under_the_item_answers_and_it_stays_open_until_everyone_has(
    office: Office,
) -> None:
    await office.join("Lê Văn Sơn", "HN-XD")
    await office.say(VINH, "/chidao 2.6 Đề nghị đẩy nhanh các nội dung đô thị, môi trường")
    shown = text(await office.tap(VINH, "Gửi cơ quan chủ trì"))
    # the lead agencies of Hà Nội on 2.6.a … 2.6.e: HN-QHKT, HN-XD and HN-TNMT
    assert "tới 3 cơ quan" in shown and "Sở Quy hoạch - Kiến trúc Hà Nội" in shown
    await office.report(HA, "2.6.d 30% khảo sát")  # not a recipient: answers nothing
    await office.report(TAM, "2.6.d 30% đã xây dựng dữ liệu cảnh báo")
    recipients = office.recipients()
    assert recipients["HN-TNMT"].answer_report_id is not None
    assert recipients["HN-XD"].answer_report_id is None
    told = office.told(VINH)[-1]
    assert "(nội dung 2.6): Đang thực hiện 30%" in told
    assert "Còn chờ: Sở Quy hoạch - Kiến trúc Hà Nội, Sở Xây dựng Hà Nội." in told
    await office.report("Lê Văn Sơn", "2.6.b xong")
    with office.db.unit_of_work() as session:
        assert session.scalars(select(Directive.closed_at)).one() is None  # HN-QHKT is awaited
    listed = await office.say(VINH, "/chidao")
    assert "2.6 · 02/12/2019 — chờ Sở Quy hoạch - Kiến trúc Hà Nội" in text(listed)
    detail = text(await office.tap(VINH, "2.6 · 02/12/2019"))
    assert "• Sở Xây dựng Hà Nội (chủ trì): đã báo cáo 02/12/2019 09:00: Hoàn thành 100%" in detail
    assert "• Sở Quy hoạch - Kiến trúc Hà Nội (chủ trì): chưa báo cáo; chưa có ai" in detail


async def test_a_directive_on_a_whole_section_is_listed_short(office: Office) -> None:
    await office.say(VINH, "/chidao 2 Đề nghị các Sở đẩy nhanh tiến độ")
    sent = text(await office.tap(VINH, "Gửi cả cơ quan phối hợp"))
    assert "tới 15 cơ quan:" in sent and "… và" not in sent  # one agency reached, listed
    assert (
        "Sở Công Thương Hà Nội, Sở Du lịch Hà Nội" in sent
        and "Nội vụ Hà Nội và 6 cơ quan khác." in sent
    )
    listed = text(await office.say(VINH, "/chidao"))
    assert (
        "2 · 02/12/2019 — chờ Công an thành phố Hà Nội, Sở Công Thương Hà Nội, Sở Du lịch Hà "
        "Nội và 12 cơ quan khác\n" in listed
    )
    assert len(listed) < 400


async def test_open_directives_past_their_deadline_are_marked(office: Office) -> None:
    await office.say(VINH, f"/chidao 2.6.c 05/12 {TEXT}")
    await office.tap(VINH, "Gửi cơ quan chủ trì")
    assert "hạn 05/12/2019 — chờ" in text(await office.say(VINH, "/chidao"))
    office.clock.set(hanoi(2019, 12, 9, 9, 0))
    listed = await office.say(VINH, "/chidao")
    assert "2.6.c · 02/12/2019 · QUÁ HẠN 05/12/2019 — chờ Sở Tài nguyên và Môi trường Hà Nội" in (
        text(listed)
    )
    item = text(await office.say(TAM, "/muc 2.6.c"))
    assert f"Trần Quang Vinh: {TEXT} (QUÁ HẠN 05/12/2019)" in item
    assert "Chờ báo cáo: Sở Tài nguyên và Môi trường Hà Nội" in item
    refused = text(await office.say(VINH, "/chidao 2.6.c 01/12/2019 Làm ngay"))
    assert "Hạn 01/12/2019 đã qua (hôm nay 09/12/2019)" in refused


async def test_the_digest_shows_open_directives_and_the_answers_since_the_last_one(
    office: Office,
) -> None:
    await office.join("Lê Văn Sơn", "HN-XD")
    await office.say(VINH, f"/chidao 2.6.c {TEXT}")
    await office.tap(VINH, "Gửi cả cơ quan phối hợp")
    office.clock.set(hanoi(2019, 12, 4, 10, 0))
    await office.report(TAM, "2.6.c 40% đã bố trí vốn đối ứng")
    with office.db.unit_of_work() as session:
        hanoi_digest = build_digest(
            session, date(2019, 12, 9), "vice_chair", "HN", since=date(2019, 12, 2), chart=False
        ).text
        hung_yen = build_digest(session, date(2019, 12, 9), "vice_chair", "HY", chart=False).text
        next_week = build_digest(
            session, date(2019, 12, 16), "vice_chair", "HN", since=date(2019, 12, 9), chart=False
        ).text
    waiting = hanoi_digest.split("Chỉ đạo chưa được báo cáo lại (1):\n")[1].split("\n")[0]
    assert waiting == f"• 2.6.c (02/12/2019, Trần Quang Vinh): {TEXT} — chờ Sở Xây dựng Hà Nội"
    answers = hanoi_digest.split("Báo cáo theo chỉ đạo từ 03/12/2019 (1):\n")[1].split("\n")[0]
    assert answers == (
        "• 2.6.c (02/12/2019): Sở Tài nguyên và Môi trường Hà Nội — Đang thực hiện 40%: "
        "đã bố trí vốn đối ứng"
    )
    assert TEXT not in hung_yen  # it went to Hà Nội's agencies only
    assert "Báo cáo theo chỉ đạo" not in next_week and "chờ Sở Xây dựng Hà Nội" in next_week


@pytest.fixture
async def two_programmes(office: Office) -> Office:
    with office.db.unit_of_work() as session:
        import_programme(session, load_programme_file(HOA_BINH), office.clock.now())
    await office.join("Phạm Văn Y", "HN-YT")
    return office


async def test_a_code_in_two_programmes_asks_which_unless_the_programme_is_typed(
    two_programmes: Office,
) -> None:
    office = two_programmes
    asked = await office.say(VINH, "/chidao 2.2.a Đề nghị đẩy nhanh chuyển giao kỹ thuật")
    assert "Mã 2.2.a có trong 2 chương trình" in text(asked)
    assert [label.split(" ")[0] for label in labels(asked)] == ["HY", "HB", "Huỷ"]
    preview = text(await office.tap(VINH, "HB · 2.2.a"))
    assert "Chỉ đạo về nội dung HB 2.2.a · " in preview
    assert "Cơ quan chủ trì: Sở Y tế Hà Nội" in preview  # it leads 2.2.a of Hòa Bình …
    await office.say(VINH, "/chidao hy 2.2.a Đề nghị phối hợp")
    assert "Cơ quan phối hợp: Sở Y tế Hà Nội" in text(office.last[VINH])  # … supports Hưng Yên's
    await office.say(VINH, "/chidao HB 2.2.a 20/12 Đề nghị đẩy nhanh chuyển giao kỹ thuật")
    sent = text(await office.tap(VINH, "Gửi cơ quan chủ trì"))
    assert "Đã gửi chỉ đạo về nội dung HB 2.2.a tới 1 cơ quan" in sent
    notice = office.told("Phạm Văn Y")[-1]
    assert "về nội dung HB 2.2.a · " in notice and "gõ /baocao HB 2.2.a." in notice
    # A report on Hưng Yên's 2.2.a is not an answer to a directive on Hòa Bình's.
    with office.db.unit_of_work() as session:
        hy_2_2_a = session.scalar(
            select(Assignment.id)
            .join(Item, Item.id == Assignment.item_id)
            .join(Programme, Programme.id == Item.programme_id)
            .join(Agency, Agency.id == Assignment.agency_id)
            .where(Programme.alias == "HY", Item.code == "2.2.a", Agency.code == "HN-YT")
        )
        hn_yt = session.scalar(select(Agency.id).where(Agency.code == "HN-YT"))
        assert hy_2_2_a is not None and hn_yt is not None
        at = office.clock.now()
        fields = {"status": "in_progress", "percent": 30, "note": "", "at": at}
        report_id = append_report(
            session, assignment_id=hy_2_2_a, member_id=None, channel="cli", tz=HANOI, **fields
        )
        answers = answer_with(
            session, report_id=report_id, assignment_id=hy_2_2_a, agency_id=hn_yt, **fields
        )
        assert answers == []
    assert office.recipients()["HN-YT"].answer_report_id is None


async def test_only_a_vice_chair_or_an_admin_gives_directives(office: Office) -> None:
    refused = text(await office.say(TAM, f"/chidao 2.6.c {TEXT}"))
    assert "không dùng được" in refused
    assert office.recipients() == {}


# --- end to end over the loopback Bot APIs ------------------------------------------------------


@pytest.fixture(params=["telegram", "zalo"])
async def stage(
    request: pytest.FixtureRequest, template: Path, tmp_path: Path
) -> AsyncIterator[Stage]:
    async with staged(template, tmp_path) as on_stage:
        on_stage.platform = request.param  # type: ignore[attr-defined]
        yield on_stage


async def deliver(stage: Stage) -> None:
    """Send what is waiting in the outbox, as the scheduler's dispatcher would."""
    limits = {"telegram": Limits(30, 1), "zalo": Limits(10, 1)}
    await Dispatcher(stage.db, stage.clock, stage.messengers, limits).drain(5)


async def test_a_directive_and_its_answer_end_to_end(stage: Stage) -> None:
    platform: str = stage.platform  # type: ignore[attr-defined]
    vinh = await stage.join("Trần Quang Vinh", "HN-UBND", "vice_chair", platform)
    tam = await stage.join("Đỗ Minh Tâm", "HN-TNMT", platform=platform)
    preview = await stage.say(vinh, f"/chidao 2.6.c 15/01 {TEXT}")
    assert "Cơ quan chủ trì: Sở Tài nguyên và Môi trường Hà Nội" in text_of(preview)
    if platform == "zalo":
        assert "1. Gửi cơ quan chủ trì (1)" in text_of(preview)
    sent = await stage.tap(vinh, "Gửi cơ quan chủ trì")
    assert "Đã gửi chỉ đạo về nội dung 2.6.c tới 1 cơ quan" in text_of(sent)
    await deliver(stage)
    notice = stage.received(tam)[-1].text
    assert notice.startswith("Kính gửi đồng chí Đỗ Minh Tâm,")
    assert "Thời hạn báo cáo: 15/01/2020." in notice and "gõ /baocao 2.6.c" in notice
    opened = await stage.say(tam, "/baocao 2.6.c")  # what the notice says to type
    assert "Tình trạng thực hiện?" in text_of(opened)
    await stage.tap(tam, "Đang thực hiện")
    await stage.say(tam, "40")
    await stage.say(tam, "Đã bố trí vốn đối ứng")
    await stage.tap(tam, "Tiếp tục")
    await stage.tap(tam, "Gửi báo cáo")
    await deliver(stage)
    told = stage.received(vinh)[-1].text
    assert told.startswith("Sở Tài nguyên và Môi trường Hà Nội đã báo cáo về chỉ đạo ngày")
    assert "Đang thực hiện 40% — Đã bố trí vốn đối ứng." in told
    assert "Không có chỉ đạo nào đang chờ báo cáo" in text_of(await stage.say(vinh, "/chidao"))


async def test_which_programme_is_asked_by_number_on_zalo(template: Path, tmp_path: Path) -> None:
    async with staged(template, tmp_path, telegram=False) as on_stage:
        with on_stage.db.unit_of_work() as session:
            import_programme(session, load_programme_file(HOA_BINH), on_stage.clock.now())
        vinh = await on_stage.join("Trần Quang Vinh", "HN-UBND", "vice_chair", "zalo")
        yte = await on_stage.join("Phạm Văn Y", "HN-YT", platform="zalo")
        asked = text_of(await on_stage.say(vinh, "/chidao 2.2.a Đề nghị chuyển giao kỹ thuật"))
        assert "Mã 2.2.a có trong 2 chương trình" in asked
        assert "1. HY · 2.2.a" in asked and "2. HB · 2.2.a" in asked
        preview = text_of(await on_stage.say(vinh, "2"))
        assert "Chỉ đạo về nội dung HB 2.2.a" in preview and "1. Gửi cơ quan chủ trì (1)" in preview
        sent = text_of(await on_stage.say(vinh, "1"))
        assert "Đã gửi chỉ đạo về nội dung HB 2.2.a tới 1 cơ quan" in sent
        await deliver(on_stage)
        assert "gõ /baocao HB 2.2.a" in on_stage.received(yte)[-1].text
