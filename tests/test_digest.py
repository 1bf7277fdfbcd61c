"""The digest a Vice-Chair or a coordinating office reads: short, complete, with its chart."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.context import CommandContext
from bot.cli.main import main
from handlers.texts import Texts
from scheduler.digest import build_digest
from scheduler.digest_texts import render_chart
from storage.clock import FixedClock
from storage.db import Database
from storage.directives import answer_with, give
from storage.models import Assignment, Item, Member, Report
from storage.programme.spec import ProgrammeSpec
from tests.conftest import hanoi
from tests.harness import cli_context, write_config
from tests.test_reminders import World

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def world(db: Database, tmp_path: Path, spec: ProgrammeSpec) -> World:
    return World(db, tmp_path, spec)


def directive(
    world: World, vice_chair: int, code: str, text: str, at: tuple[int, ...], scope: str = "lead"
) -> None:
    """A directive as /chidao gives it: to the agencies of the Vice-Chair's locality."""
    with world.db.unit_of_work() as session:
        item_id = session.scalars(select(Item.id).where(Item.code == code)).one()
        author = session.get(Member, vice_chair)
        assert author is not None
        give(
            session, item_id=item_id, author=author, text=text, due_on=None, scope=scope,
            at=hanoi(*at),
        )  # fmt: skip


def answer(world: World, code: str, agency: str, at: datetime) -> None:
    """A report as the chat stores it: linked as the answer to the agency's open directives."""
    world.report(code, agency, at)
    with world.db.unit_of_work() as session:
        report = session.scalars(select(Report).order_by(Report.id.desc()).limit(1)).one()
        answer_with(
            session, report_id=report.id, assignment_id=report.assignment_id,
            agency_id=report.agency_id, status=report.status, percent=report.percent,
            note=report.note, at=at,
        )  # fmt: skip


def digest_text(
    world: World, day: date, role: str = "vice_chair", locality: str | None = "HN"
) -> str:
    with world.db.unit_of_work() as session:
        return build_digest(session, day, role, locality, chart=False).text  # type: ignore[arg-type]


def test_the_digest_names_what_is_overdue_blocked_completed_and_directed(world: World) -> None:
    vc = world.member("HN-UBND", "Phó Chủ tịch Hà Nội", role="vice_chair")
    world.report(
        "2.5",
        "HN-GTVT",
        hanoi(2020, 3, 2, 10, 0),
        status="blocked",
        percent=30,
        note="Vướng giải phóng mặt bằng cầu Mễ Sở",
    )
    world.report("2.3", "HN-KHDT", hanoi(2020, 3, 10, 10, 0), status="done", percent=100)
    world.report("2.3", "HY-KHDT", hanoi(2020, 3, 3, 10, 0), status="done", percent=100)
    world.due("2.8", "HN-LDTBXH", date(2020, 2, 28))
    directive(
        world, vc, "2.5", "Sở GTVT báo cáo phương án tháo gỡ trước 20/3.", (2020, 3, 5, 15, 0)
    )
    with world.db.unit_of_work() as session:
        digest = build_digest(
            session, date(2020, 3, 16), "vice_chair", "HN", since=date(2020, 3, 9)
        )
    text = digest.text
    assert text.startswith("BẢN TIN TIẾN ĐỘ TUẦN — Thành phố Hà Nội — 16/03/2020")
    blocked = text.split("Vướng mắc, cần cho ý kiến chỉ đạo (1):")[1]
    assert "2.5 Lĩnh vực giao thông — Sở Giao thông vận tải Hà Nội: Vướng mắc 30%" in blocked
    assert "Vướng giải phóng mặt bằng cầu Mễ Sở" in blocked
    overdue = text.split("Quá hạn (")[1]
    assert "2.8 Về đảm bảo an sinh xã hội — Sở Lao động - Thương binh và Xã hội Hà Nội" in overdue
    assert "(quá hạn 11 ngày làm việc)" in overdue  # due Friday 28/02: 11 working days
    completed = text.split("Hoàn thành từ 10/03/2020 (1):")[1]
    assert "2.3" in completed.split("\n")[1] and "Hưng Yên" not in completed.split("\n\n")[0]
    directives = text.split("Chỉ đạo chưa được báo cáo lại (1):")[1]
    assert (
        "2.5 (05/03/2020, Phó Chủ tịch Hà Nội): Sở GTVT báo cáo phương án tháo gỡ" in directives
        and "chờ Sở Giao thông vận tải Hà Nội" in directives
    )
    silent = text.split("Cơ quan chưa báo cáo kỳ tháng 3/2020 (hạn 25/03/2020)")[1]
    assert "• Sở Giao thông vận tải Hà Nội: 1 nhiệm vụ" in silent  # 2.4.c; 2.5 was reported
    codes = [label for row in digest.item_buttons for label, _ in row]
    assert {"2.5", "2.8", "2.3"} <= set(codes)
    assert all(data == f"o:{label}" for row in digest.item_buttons for label, data in row)
    assert digest.chart_png.startswith(PNG) and len(digest.chart_png) > 5_000


def test_a_directive_leaves_the_digest_once_the_agency_reports_again(world: World) -> None:
    vc = world.member("HN-UBND", "Phó Chủ tịch Hà Nội", role="vice_chair")
    directive(world, vc, "2.2", "Đẩy nhanh kết nối tiêu thụ nông sản.", (2020, 3, 5, 15, 0))
    first = digest_text(world, date(2020, 3, 16))
    assert "Đẩy nhanh kết nối tiêu thụ nông sản" in first  # on 2.2, led below it by HN-NN
    assert "chờ Sở Công Thương Hà Nội, Sở Nông nghiệp và Phát triển nông thôn Hà Nội" in first
    answer(world, "2.2.a", "HN-NN", hanoi(2020, 3, 18, 9, 0))
    mid = digest_text(world, date(2020, 3, 23))
    assert "tiêu thụ nông sản. — chờ Sở Công Thương Hà Nội\n" in mid  # HN-CT leads 2.2.b
    assert "• 2.2 (05/03/2020): Sở Nông nghiệp và Phát triển nông thôn Hà Nội — Đang " in mid
    answer(world, "2.2.b", "HN-CT", hanoi(2020, 3, 19, 9, 0))
    after = digest_text(world, date(2020, 3, 23))
    assert "Chỉ đạo chưa được báo cáo lại" not in after
    assert "Báo cáo theo chỉ đạo từ 17/03/2020 (2):" in after  # answered since the last digest
    # it went to Hà Nội's agencies only: Hưng Yên's digest does not wait on it
    assert "Đẩy nhanh kết nối" not in digest_text(world, date(2020, 3, 16), locality="HY")


def test_a_long_digest_reaches_each_channel_in_parts_it_takes(
    db: Database, tmp_path: Path, spec: ProgrammeSpec
) -> None:
    world = World(db, tmp_path, spec, digests={"chart": False})
    on_telegram = world.member("HN-KHDT", "Phạm Thu Dung", role="coordinator")
    on_zalo = world.member("HN-KHDT", "Đỗ Minh Hải", role="coordinator", platform="zalo")
    with world.db.unit_of_work() as session:
        pairs = [(a.item.code, a.agency.code) for a in session.scalars(select(Assignment))]
    for code, agency in pairs:
        world.report(
            code,
            agency,
            hanoi(2020, 3, 2, 10, 0),
            status="blocked",
            percent=10,
            note="Khó khăn về kinh phí, mặt bằng và thủ tục; đề nghị cho ý kiến " * 3,
        )
    with world.db.unit_of_work() as session:
        digest = build_digest(session, date(2020, 3, 16), "coordinator", "HN", chart=False)
    assert "… và" in digest.text  # long lists are cut and counted
    buttons = [b for row in digest.item_buttons for b in row]
    assert 0 < len(buttons) <= 100 and all(len(row) <= 8 for row in digest.item_buttons)
    assert digest.chart_png == b""
    world.tick(2020, 3, 16, 16, 40)
    # Zalo draws the buttons as a line of text under the last part: room is left for it
    for member, limit, last in ((on_telegram, 4096, 4096), (on_zalo, 2000, 2000 - 160)):
        rows = world.rows(member, reason="digest")
        texts = [r.payload["text"] for r in rows]
        assert len(rows) >= 2 and all(0 < len(t) <= limit for t in texts)
        assert len(texts[-1]) <= last
        assert "\n".join(texts) == digest.text  # every line once, in order
        assert [bool(r.payload["choices"]) for r in rows] == [False] * (len(rows) - 1) + [True]
    assert len(world.rows(on_zalo)) > len(world.rows(on_telegram))


def test_the_chart_is_a_png_with_vietnamese_labels(world: World) -> None:
    with world.db.unit_of_work() as session:
        digest = build_digest(session, date(2020, 3, 16), "coordinator", "HY", lang="en")
    assert digest.chart_png.startswith(PNG)
    assert [r.code for r in digest.fields][:3] == ["1.1", "1.2", "1.3"]
    assert "2.5" in [r.code for r in digest.fields]
    chart = render_chart(digest.fields[:2], Texts("vi"), "Tiến độ theo lĩnh vực — Tỉnh Hưng Yên")
    assert chart.startswith(PNG)


def test_the_scheduler_sends_the_chart_then_the_text_to_each_vice_chair(
    world: World, tmp_path: Path
) -> None:
    on_telegram = world.member("HN-UBND", "Phó Chủ tịch Hà Nội", role="vice_chair")
    on_zalo = world.member("HY-UBND", "Phó Chủ tịch Hưng Yên", role="vice_chair", platform="zalo")
    world.tick(2020, 3, 15, 9, 0)  # a Sunday: nothing
    assert world.rows(on_telegram) == []
    world.tick(2020, 3, 16, 7, 40)  # Monday, after 07:30
    rows = world.rows(on_telegram)
    assert [r.reason for r in rows] == ["digest"] * len(rows) and len(rows) >= 2
    photo, *texts = rows
    assert photo.payload["photo"] is True
    chart = Path(photo.payload["file_path"])
    assert chart.parent == tmp_path / "charts" and chart.read_bytes().startswith(PNG)
    assert texts[0].payload["text"].startswith("BẢN TIN TIẾN ĐỘ TUẦN — Thành phố Hà Nội")
    assert texts[-1].payload["choices"]  # item buttons on the last part
    zalo_rows = world.rows(on_zalo)
    assert zalo_rows and not any(r.payload["file_path"] for r in zalo_rows)
    assert zalo_rows[0].payload["text"].startswith("BẢN TIN TIẾN ĐỘ TUẦN — Tỉnh Hưng Yên")
    world.tick(2020, 3, 17, 7, 40)  # weekly: not again on Tuesday
    assert len(world.rows(on_telegram)) == len(rows)


def test_digest_preview_command_prints_the_text_and_writes_the_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)

    def ctx() -> CommandContext:
        return cli_context(config, FixedClock(hanoi(2020, 3, 16, 9, 0)))

    assert main(["import"], ctx=ctx()) == 0
    capsys.readouterr()
    out_file = tmp_path / "bieu-do.png"
    assert (
        main(
            [
                "digest",
                "--preview",
                "vice_chair",
                "--locality",
                "hy",
                "--at",
                "2020-03-16",
                "--out",
                str(out_file),
            ],
            ctx=ctx(),
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "BẢN TIN TIẾN ĐỘ TUẦN — Tỉnh Hưng Yên — 16/03/2020" in printed
    assert "Quá hạn (" in printed and "III.1" in printed
    assert f"Biểu đồ: {out_file}" in printed.replace("\n", "")
    assert out_file.read_bytes().startswith(PNG)
    assert main(["digest", "--preview", "coordinator"], ctx=ctx()) == 0
    printed = capsys.readouterr().out
    assert "BẢN TIN TIẾN ĐỘ — toàn chương trình — 16/03/2020" in printed
    charts = tmp_path / "data" / "charts"
    default = charts / "digest-preview-ha-noi-hung-yen-2019-coordinator-all-2020-03-16.png"
    assert default.read_bytes().startswith(PNG)
    assert main(["digest", "--preview", "coordinator", "--locality", "XX"], ctx=ctx()) == 2
    assert "Không có địa phương XX" in capsys.readouterr().err
