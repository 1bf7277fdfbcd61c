"""`tiendo report`: the periodic report in Word, read back as an office would open it, in both
layouts, with the figures `tiendo summary --json` gives for the same day and period."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select

from storage.clock import FixedClock
from storage.models import Agency, Assignment, Item, Member, Review
from storage.reports import append_report, settle_current
from tests.harness import HANOI, copy_database, run_cli, write_config

DAY = FixedClock(datetime(2019, 12, 20, 9, 0, tzinfo=HANOI))
RETURNED = "Số liệu chưa đủ, sẽ bổ sung sau"


@pytest.fixture
def deployment(template: Path, tmp_path: Path) -> Path:
    """The Hưng Yên programme with a few reports in December 2019, one of them returned."""
    config = write_config(tmp_path)
    db = copy_database(template, tmp_path)
    with db.unit_of_work() as s:

        def assignment(code: str, agency: str) -> int:
            found = s.scalar(
                select(Assignment.id)
                .join(Item, Item.id == Assignment.item_id)
                .join(Agency, Agency.id == Assignment.agency_id)
                .where(Item.code == code, Agency.code == agency)
            )
            assert found is not None
            return found

        def report(code: str, agency: str, status: str, percent: int, note: str, day: int) -> int:
            return append_report(
                s,
                assignment_id=assignment(code, agency),
                member_id=None,
                status=status,
                percent=percent,
                note=note,
                channel="telegram",
                at=datetime(2019, 12, day, 10, tzinfo=HANOI),
                tz=HANOI,
            )

        report("2.5", "HY-GTVT", "in_progress", 60, "Đã khảo sát lộ trình tuyến buýt", 2)
        report("2.6.c", "HN-TNMT", "blocked", 20, "Chưa bố trí được vốn đối ứng", 3)
        report("2.8", "HN-LDTBXH", "done", 100, "Đã chuyển 3 tỷ đồng", 5)
        wrong = report("2.2.a", "HN-NN", "in_progress", 90, RETURNED, 9)
        office = Member(
            agency_id=s.scalar(select(Agency.id).where(Agency.code == "HN-KHDT")),
            name="Trần Thu Hà",
            role="coordinator",
            created_at=DAY.now() - timedelta(days=30),
        )
        s.add(office)
        s.flush()
        s.add(
            Review(
                report_id=wrong,
                member_id=office.id,
                decision="returned",
                reason="Đề nghị bổ sung số liệu",
                created_at=datetime(2019, 12, 10, 9, tzinfo=HANOI),
            )
        )
        settle_current(s, assignment("2.2.a", "HN-NN"), HANOI)
    db.dispose()
    return config


def _write(config: Path, office: str, *extra: str) -> tuple[Document, str]:  # type: ignore[valid-type]
    out = config.parent / f"{office}.docx"
    code, printed = run_cli(
        config,
        "report",
        "--programme",
        "ha-noi-hung-yen-2019",
        "--period",
        "2019-Q4",
        "--office",
        office,
        "--out",
        str(out),
        *extra,
        clock=DAY,
    )
    assert code == 0, printed
    return Document(str(out)), printed


def _all_text(document: Document) -> str:  # type: ignore[valid-type]
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("office", "masthead"),
    [
        ("HY-KHDT", ["UBND TỈNH HƯNG YÊN", "SỞ KẾ HOẠCH VÀ ĐẦU TƯ", "Số:      /BC-SKHĐT"]),
        ("HN-VPTU", ["THÀNH ỦY HÀ NỘI", "VĂN PHÒNG", "*", "Số      -BC/VPTU"]),
    ],
)
def test_each_office_issues_it_in_its_own_layout(
    deployment: Path, office: str, masthead: list[str]
) -> None:
    document, printed = _write(deployment, office)
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert round(section.left_margin.mm) == 30 and round(section.right_margin.mm) == 15
    left, right = document.tables[0].rows[0].cells
    assert [p.text for p in left.paragraphs if p.text] == masthead
    right_lines = [p.text for p in right.paragraphs if p.text]
    assert right_lines[-1].endswith("ngày 20 tháng 12 năm 2019")
    motto = (
        "ĐẢNG CỘNG SẢN VIỆT NAM" if office == "HN-VPTU" else "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    )
    assert right_lines[0] == motto
    paragraphs = [p.text for p in document.paragraphs if p.text]
    assert paragraphs[0] == "BÁO CÁO"
    assert paragraphs[1].startswith("Kết quả thực hiện Chương trình hợp tác Hà Nội – Hưng Yên")
    assert paragraphs[1].endswith("quý IV năm 2019")
    fonts = {r.font.name for p in document.paragraphs for r in p.runs if r.text.strip()}
    assert fonts == {"Times New Roman"}
    assert f"cơ quan ban hành {office}" in printed
    assert document.sections[-1].orientation == 1  # the landscape appendix


def test_its_figures_are_tiendo_summarys_for_the_same_day_and_period(deployment: Path) -> None:
    document, _ = _write(deployment, "HY-KHDT")
    code, printed = run_cli(
        deployment,
        "summary",
        "--json",
        "--programme",
        "ha-noi-hung-yen-2019",
        "--period",
        "2019-Q4",
        "--at",
        "2019-12-20",
        clock=DAY,
    )
    assert code == 0, printed
    (figures,) = json.loads(printed)
    categories = figures["overall"]["categories"]
    table = document.tables[1]  # the overall figures, right after the opening
    counted = {row.cells[1].text: int(row.cells[2].text) for row in table.rows[1:]}
    assert counted["Hoàn thành đúng hạn"] == categories["done_on_time"]
    assert counted["Hoàn thành quá hạn"] == categories["done_late"]
    assert counted["Đang thực hiện trong hạn"] == categories["in_progress_on_time"]
    assert counted["Đang thực hiện quá hạn"] == categories["in_progress_overdue"]
    assert counted["Chưa báo cáo"] == categories["not_reported"]
    assert counted["Tổng số"] == figures["overall"]["count"] == 97
    assert counted["Trong đó: vướng mắc"] == figures["overall"]["blocked"] == 1
    text = _all_text(document)
    assert f"tỷ lệ {figures['overall']['response_rate']:.0%}" in text


def test_it_says_the_whole_commitment_and_each_agencys_latest_word(deployment: Path) -> None:
    document, _ = _write(deployment, "HY-KHDT")
    text = _all_text(document)
    # The full text of 2.5, never cut, and both localities' agencies on it.
    assert "Lộ trình dự kiến: “Cầu Tràng (Quang Hưng - Phù Cừ) - QL.38B" in text
    assert "phục vụ khu Đại học Phố Hiến." in text
    assert "Sở Giao thông vận tải Hưng Yên (chủ trì): đang thực hiện, 60% — Đã khảo sát" in text
    assert "Sở Giao thông vận tải Hà Nội (chủ trì): chưa báo cáo." in text
    # The blocked item with its reason, and the proposal it carries.
    assert "Chưa bố trí được vốn đối ứng" in text
    assert "Sở Tài nguyên và Môi trường Hà Nội (2.6.c): Chưa bố trí được vốn đối ứng" in text
    # What changed: 2.8 was completed in the period.
    assert "Hoàn thành trong kỳ: 1 nhiệm vụ — 2.8 (HN-LDTBXH)." in text
    # A report the office returned never counts as where the work stands.
    assert RETURNED not in text


def test_a_wrong_period_or_office_is_refused_in_one_line(
    deployment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args, words in (
        (("--period", "2019-Q5", "--office", "HY-KHDT"), "2019-Q4"),
        (("--period", "2019-Q4", "--office", "HY-GTVT"), "HN-KHDT, HN-VPTU, HY-KHDT, HY-VPTU"),
        (("--period", "2020-Q3", "--office", "HY-KHDT"), "chưa bắt đầu"),
    ):
        code, printed = run_cli(
            deployment, "report", "--programme", "ha-noi-hung-yen-2019", *args, clock=DAY
        )
        error = capsys.readouterr().err
        assert code != 0 and words in error, (printed, error)
        assert "Traceback" not in error and len(error.strip().splitlines()) <= 2


def test_without_libreoffice_the_pdf_is_left_out_with_a_clear_line(
    deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(deployment.parent))  # no soffice here
    _, printed = _write(deployment, "HY-KHDT", "--pdf")
    assert "Không có LibreOffice nên chưa tạo bản PDF" in printed
    assert not (deployment.parent / "HY-KHDT.pdf").exists()


@pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice is not installed: apt-get install libreoffice-writer to check the PDF",
)
def test_with_libreoffice_a_pdf_lies_beside_the_document(deployment: Path) -> None:
    _, printed = _write(deployment, "HN-VPTU", "--pdf")
    pdf = deployment.parent / "HN-VPTU.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF"), printed
    assert os.path.getsize(pdf) > 10_000
