"""Two programmes side by side (Hà Nội – Hưng Yên and Hà Nội – Hòa Bình): reminders, closed
periods, escalations and digests each stay in their own programme and name the same period."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.zalo.adapter import render_outbox
from handlers.oversight import summary_text
from handlers.texts import Texts
from scheduler.digest import build_digest
from storage.aggregate.summary import summary
from storage.clock import FixedClock
from storage.db import Database
from storage.models import Agency, Programme, ProgrammeAgency
from storage.programme.file import load_programme_file
from storage.programme.spec import ProgrammeSpec
from tests.conftest import hanoi
from tests.harness import HANOI, REPO, cli_context, write_config
from tests.test_reminders import NO_CYCLES, World

HOA_BINH = REPO / "programmes" / "ha-noi-hoa-binh-2019.toml"
HY_TITLE = "HY — Chương trình hợp tác Hà Nội – Hưng Yên giai đoạn 2019–2020\n"
HB_TITLE = "HB — Chương trình hợp tác Hà Nội – Hòa Bình giai đoạn 2019–2021\n"


@pytest.fixture(scope="session")
def hoa_binh() -> ProgrammeSpec:
    return load_programme_file(HOA_BINH)


def two_programmes(
    db: Database, folder: Path, spec: ProgrammeSpec, hoa_binh: ProgrammeSpec, cycles: bool
) -> World:
    """Both programmes; Văn phòng Thành ủy Hà Nội coordinates only the Hưng Yên one here,
    Sở KHĐT Hà Nội both."""
    world = World(db, folder, spec, reminders=None if cycles else NO_CYCLES, also=[hoa_binh])
    with db.unit_of_work() as session:
        role = session.scalars(
            select(ProgrammeAgency)
            .join(Agency, Agency.id == ProgrammeAgency.agency_id)
            .join(Programme, Programme.id == ProgrammeAgency.programme_id)
            .where(Agency.code == "HN-VPTU", Programme.alias == "HB")
        ).one()
        role.coordinates = False
    return world


@pytest.fixture
def two(db: Database, tmp_path: Path, spec: ProgrammeSpec, hoa_binh: ProgrammeSpec) -> World:
    return two_programmes(db, tmp_path, spec, hoa_binh, cycles=False)


@pytest.fixture
def two_cycles(db: Database, tmp_path: Path, spec: ProgrammeSpec, hoa_binh: ProgrammeSpec) -> World:
    return two_programmes(db, tmp_path, spec, hoa_binh, cycles=True)


def programme_id(world: World, alias: str) -> int:
    with world.db.unit_of_work() as session:
        return session.scalars(select(Programme.id).where(Programme.alias == alias)).one()


# reminders -------------------------------------------------------------------------------------


def test_an_official_on_two_programmes_reads_each_ones_items_under_its_alias(two: World) -> None:
    hoa = two.member("HN-YT", "Nguyễn Thị Hoa")  # HY 2.2.a (support), HB 2.2.a (lead)
    lan = two.member("HY-GTVT", "Nguyễn Thị Lan")  # Hưng Yên's only programme
    in_hy = two.due("2.2.a", "HN-YT", date(2020, 3, 20), "HY")
    in_hb = two.due("2.2.a", "HN-YT", date(2020, 3, 20), "HB")
    two.due("2.5", "HY-GTVT", date(2020, 3, 20))
    two.tick(2020, 3, 13, 9, 0)
    [row] = two.rows(hoa)  # one message, both programmes in it
    text = row.payload["text"]
    assert "2 nội dung cần báo cáo" in text
    assert (
        text.index(HY_TITLE)
        < text.index("• HY 2.2.a ")
        < text.index(HB_TITLE)
        < text.index("• HB 2.2.a ")
    )
    buttons = [button for line in row.payload["choices"] for button in line]
    assert [data for _, data in buttons] == [f"r:{in_hy}", f"r:{in_hb}"]
    assert buttons[0][0].startswith("HY 2.2.a · ") and buttons[1][0].startswith("HB 2.2.a · ")
    assert all(len(label) <= 40 for label, _ in buttons)
    assert "Gõ mã nội dung (ví dụ HY 2.2.a)" in render_outbox(row.payload)  # on Zalo
    # an official with one programme sees what they always saw
    [only] = two.rows(lan)
    assert "• 2.5 Lĩnh vực giao thông" in only.payload["text"]
    assert "HY" not in only.payload["text"].replace("Hưng Yên", "")
    assert only.payload["choices"][0][0][0].startswith("2.5 · ")


def test_a_silent_agencys_items_go_to_the_office_of_their_own_programme(two: World) -> None:
    khdt = two.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")  # coordinates both
    vptu = two.member("HN-VPTU", "Trần Văn Hùng", role="coordinator")  # the Hưng Yên one only
    two.due("2.5", "HN-GTVT", date(2020, 3, 20), "HY")  # nobody at HN-GTVT is linked
    two.due("3.b", "HN-GTVT", date(2020, 3, 20), "HB")
    two.tick(2020, 3, 13, 9, 0)
    [to_vptu] = two.rows(vptu)
    assert "• HY 2.5 " in to_vptu.payload["text"] and "3.b" not in to_vptu.payload["text"]
    [to_khdt] = two.rows(khdt)
    text = to_khdt.payload["text"]
    assert "chưa có ai nhận được tin nhắn" in text
    assert text.index(HY_TITLE) < text.index("• HY 2.5 ") < text.index(HB_TITLE)
    assert text.index(HB_TITLE) < text.index("• HB 3.b ")
    opened = [data for line in to_khdt.payload["choices"] for _, data in line]
    assert "o:HY 2.5" in opened and "o:HB 3.b" in opened
    programmes = f"p{programme_id(two, 'HY')}+{programme_id(two, 'HB')}"
    assert to_khdt.idempotency_key.endswith(programmes)


def test_each_programme_closes_its_own_period_for_its_own_office(two_cycles: World) -> None:
    world = two_cycles
    khdt = world.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    vptu = world.member("HN-VPTU", "Trần Văn Hùng", role="coordinator")
    world.report("3.b", "HN-GTVT", hanoi(2019, 12, 2, 10, 0), programme="HB")
    world.tick(2019, 12, 20, 9, 0)
    world.tick(2019, 12, 23, 9, 0)  # Hòa Bình's half-year report was due Friday 20/12
    world.tick(2019, 12, 26, 9, 0)  # Hưng Yên's December report was due 25/12
    closes = [t for t in world.texts(khdt).values() if "đã đóng" in t]
    assert len(closes) == 2
    assert "HB: Kỳ báo cáo 6 tháng cuối năm 2019 (hạn 20/12/2019) đã đóng: 1/" in closes[0]
    assert "HY: Kỳ báo cáo tháng 12/2019 (hạn 25/12/2019) đã đóng: 0/" in closes[1]
    assert "Hòa Bình" not in closes[1] and "HB" not in closes[1]
    vptu_closes = [t for t in world.texts(vptu).values() if "đã đóng" in t]
    assert len(vptu_closes) == 1 and "tháng 12/2019" in vptu_closes[0]


def test_an_item_long_overdue_reaches_the_vice_chair_of_its_programme(two: World) -> None:
    world = two
    world.member("HN-GTVT", "Nguyễn Văn An")
    head = world.member("HN-GTVT", "Lê Văn Cường", head=True)
    khdt = world.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    vptu = world.member("HN-VPTU", "Trần Văn Hùng", role="coordinator")
    vice_chair = world.member("HN-UBND", "Nguyễn Văn Sửu", role="vice_chair")
    hung_yen = world.member("HY-UBND", "Phó Chủ tịch Hưng Yên", role="vice_chair")
    world.due("3.b", "HN-GTVT", date(2020, 3, 2), "HB")
    world.tick_days(date(2020, 3, 2), date(2020, 4, 3))
    told_office = {d: t for d, t in world.texts(khdt).items() if "Đề nghị đôn đốc" in t}
    assert list(told_office) == [date(2020, 3, 9)]  # 5 working days overdue
    assert "• HB 3.b " in told_office[date(2020, 3, 9)]
    assert any("Đề nghị đôn đốc" in t for t in world.texts(head).values())
    assert not [t for t in world.texts(vptu).values() if "3.b" in t]  # not its programme
    raised = world.rows(vice_chair, reason="escalation")
    assert [r.created_at.astimezone(HANOI).date() for r in raised] == [date(2020, 3, 23)]
    text = raised[0].payload["text"]  # 15 working days overdue, told once
    assert "Kính gửi Nguyễn Văn Sửu," in text
    assert "• HB 3.b " in text and "quá hạn 15 ngày làm việc" in text
    assert "Sở Giao thông vận tải Hà Nội" in text
    assert "Kính đề nghị đồng chí xem xét, chỉ đạo" in text
    assert [["HB 3.b", "o:HB 3.b"]] in raised[0].payload["choices"]
    assert not world.rows(hung_yen, reason="escalation")  # another locality's Vice-Chair


# digests ---------------------------------------------------------------------------------------


def test_a_vice_chair_gets_a_digest_for_each_programme_they_direct(two: World) -> None:
    vice_chair = two.member("HN-UBND", "Nguyễn Văn Sửu", role="vice_chair")
    vptu = two.member("HN-VPTU", "Trần Văn Hùng", role="coordinator")
    two.report(
        "2.2.a", "HN-YT", hanoi(2020, 3, 10, 10, 0), status="done", percent=100, programme="HB"
    )
    two.tick(2020, 3, 16, 7, 40)
    texts = [r.payload["text"] for r in two.rows(vice_chair, reason="digest") if r.payload["text"]]
    titles = [t.split("\n")[0] for t in texts if t.startswith("BẢN TIN")]
    assert titles == [
        "BẢN TIN TIẾN ĐỘ TUẦN — HY · Thành phố Hà Nội — 16/03/2020",
        "BẢN TIN TIẾN ĐỘ TUẦN — HB · Thành phố Hà Nội — 16/03/2020",
    ]
    hb = next(t for t in texts if t.startswith(titles[1]))
    assert "Hoàn thành từ 10/03/2020 (1):\n• 2.2.a Các bệnh viện tuyến Thành phố" in hb
    assert "2.5 Lĩnh vực giao thông" not in hb  # a Hưng Yên item
    keys = {r.idempotency_key.split(":")[2] for r in two.rows(vice_chair, reason="digest")}
    assert keys == {f"p{programme_id(two, 'HY')}", f"p{programme_id(two, 'HB')}"}
    photos = [r.payload["file_path"] for r in two.rows(vice_chair) if r.payload["photo"]]
    assert len(photos) == 2 and "ha-noi-hoa-binh-2019" in photos[1]
    two.tick(2020, 3, 16, 16, 40)
    office = [r.payload["text"] for r in two.rows(vptu, reason="digest") if r.payload["text"]]
    assert len([t for t in office if t.startswith("BẢN TIN")]) == 1  # Hưng Yên's only
    assert office[0].startswith("BẢN TIN TIẾN ĐỘ — HY · Thành phố Hà Nội — 16/03/2020")


# one period, one unit ---------------------------------------------------------------------------


def office_digest(world: World, day: date, alias: str) -> str:
    """The text of Hà Nội's coordinating office's digest of one programme on `day`."""
    with world.db.unit_of_work() as session:
        programme = session.scalars(select(Programme).where(Programme.alias == alias)).one()
        digest = build_digest(session, day, "coordinator", "HN", programme=programme, chart=False)
        return digest.text


def test_reminder_digest_and_summary_name_the_same_period_and_deadline(
    two_cycles: World,
) -> None:
    world = two_cycles
    hoa = world.member("HN-YT", "Nguyễn Thị Hoa")
    world.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    world.report("2.2.a", "HN-YT", hanoi(2019, 11, 20, 10, 0), programme="HY")  # November's
    world.tick(2019, 12, 20, 9, 0)  # 5 days before the 25th
    reminder = world.texts(hoa)[date(2019, 12, 20)]
    assert "chưa báo cáo kỳ tháng 12/2019 (hạn 25/12/2019)" in reminder
    tx = Texts("vi", HANOI)
    digest = office_digest(world, date(2019, 12, 20), "HY")
    with world.db.unit_of_work() as session:
        hy = summary(session, date(2019, 12, 20), tz=HANOI, programme_code="ha-noi-hung-yen-2019")
    rate = next(g for g in hy.by_locality if g.code == "HN").tally.response_rate
    assert f"Tỷ lệ báo cáo kỳ tháng 12/2019 (hạn 25/12/2019): {rate:.0%}" in digest
    assert "Cơ quan chưa báo cáo kỳ tháng 12/2019 (hạn 25/12/2019)" in digest
    assert "Tỷ lệ báo cáo kỳ tháng 12/2019 (hạn 25/12/2019)" in summary_text(tx, hy)
    # Hòa Bình reports every six months, due on the 20th
    world.tick(2020, 6, 15, 9, 0)
    reminder = world.texts(hoa)[date(2020, 6, 15)]
    assert "• HB 2.2.a " in reminder
    assert "chưa báo cáo kỳ 6 tháng đầu năm 2020 (hạn 20/06/2020)" in reminder
    hb_digest = office_digest(world, date(2020, 6, 15), "HB")
    assert "Tỷ lệ báo cáo kỳ 6 tháng đầu năm 2020 (hạn 20/06/2020)" in hb_digest


def test_overdue_is_counted_in_working_days_in_reminders_and_digests_alike(world: World) -> None:
    official = world.member("HN-LDTBXH", "Vũ Thị Mai")
    world.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    world.due("2.8", "HN-LDTBXH", date(2020, 2, 28))
    world.tick_days(date(2020, 3, 13), date(2020, 3, 16))
    world.tick(2020, 3, 16, 16, 40)  # the coordinating office's digest
    reminder = world.texts(official)[date(2020, 3, 16)]
    assert "quá hạn 11 ngày làm việc" in reminder  # 17 calendar days, 11 working days
    digest = "\n".join(r.payload["text"] for r in world.rows(reason="digest"))
    line = next(x for x in digest.split("\n") if x.startswith("• 2.8 ") and " — " in x)
    assert "(quá hạn 11 ngày làm việc)" in line


@pytest.fixture
def world(db: Database, tmp_path: Path, spec: ProgrammeSpec) -> World:
    return World(db, tmp_path, spec, reminders=NO_CYCLES)


# the commands ------------------------------------------------------------------------------------


def test_reminders_and_digest_previews_take_a_programme(tmp_path: Path) -> None:
    config = write_config(tmp_path)

    def run(*args: str) -> tuple[int, str]:
        ctx = cli_context(config, FixedClock(hanoi(2019, 7, 1, 9, 0)), file=io.StringIO())
        code = main(list(args), ctx=ctx)
        return code, ctx.console.export_text()

    assert run("import")[0] == 0
    assert run("import", str(HOA_BINH))[0] == 0
    code, out = run("reminders", "--at", "2020-06-15 09:00")
    assert code == 0
    hy, hb = out.index("■ HY — Chương trình hợp tác"), out.index("■ HB — Chương trình hợp tác")
    assert hy < hb and "6 tháng đầu năm 2020 (hạn 20/06/2020)" in out[hb:]
    assert "6 tháng đầu năm 2020" not in out[hy:hb]
    code, out = run("reminders", "--at", "2020-06-15 09:00", "--programme", "hb", "--json")
    shown = json.loads(out)
    assert code == 0 and [p["alias"] for p in shown["programmes"]] == ["HB"]
    assert {p for m in shown["messages"] for p in m["programmes"]} == {"HB"}
    items = [i for m in shown["messages"] for i in m["forwarded"] + m["items"]]
    assert items and {i["period"] for i in items} <= {"2020-H1", "2020-Q2"}
    assert run("reminders", "--programme", "NB")[0] == 2  # "Không có chương trình NB" on stderr
    code, out = run("digest", "--preview", "vice_chair", "--at", "2020-03-16", "--programme", "HB")
    assert code == 0 and "BẢN TIN TIẾN ĐỘ TUẦN — HB · toàn chương trình — 16/03/2020" in out
    assert "HY ·" not in out
    code, out = run("digest", "--preview", "coordinator", "--locality", "HN", "--at", "2020-03-16")
    titles = re.findall(r"BẢN TIN TIẾN ĐỘ — (\w+) · Thành phố Hà Nội", out)
    assert code == 0 and titles == ["HY", "HB"]
    charts = sorted(p.name for p in (tmp_path / "data" / "charts").glob("*.png"))
    assert "digest-preview-ha-noi-hoa-binh-2019-coordinator-HN-2020-03-16.png" in charts
