"""The Excel table a coordinator sends on: sheets, headers, a known row and its colour."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli.main import main
from handlers.documents.cells import printable
from handlers.documents.workbook import HEADER_ROW, HEADERS, write_workbook
from handlers.texts import Texts
from storage.clock import FixedClock
from storage.db import Database
from storage.models import Directive, DirectiveRecipient, Evidence, Item, Review
from storage.programme.file import load_programme_file
from storage.programme.importer import import_programme
from storage.programme.spec import ProgrammeSpec
from storage.reports import append_report
from tests.conftest import hanoi
from tests.harness import HANOI, REPO, cli_context, run_cli, write_config
from tests.test_aggregate import TODAY, Store, build_store, config_with_store

SECOND = REPO / "programmes" / "ha-noi-hoa-binh-2019.toml"

EXPECTED_HEADERS = [
    "Mã nội dung",
    "Nội dung",
    "Cơ quan",
    "Địa phương",
    "Vai trò",
    "Trạng thái",
    "Tiến độ (%)",
    "Ghi chú gần nhất",
    "Ngày báo cáo gần nhất",
    "Hạn hoàn thành",
    "Phân loại",
]


def _rows(sheet: Worksheet) -> list[tuple[object, ...]]:
    return list(sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True))


def _row_of(sheet: Worksheet, code: str, agency: str) -> int:
    for number in range(HEADER_ROW + 1, sheet.max_row + 1):
        if (sheet.cell(number, 1).value, sheet.cell(number, 3).value) == (code, agency):
            return number
    raise AssertionError(f"no row for {code} / {agency}")


def test_workbook_has_the_consolidated_table_by_locality_and_the_issues(db: Database) -> None:
    buffer = io.BytesIO()
    with db.unit_of_work() as s:
        build_store(s)
        write_workbook(s, TODAY, buffer, HANOI)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == [
        "Nội dung HNHY-2019",
        "Tổng hợp",
        "Thành phố Hà Nội",
        "Tỉnh Hưng Yên",
        "Quá hạn – Vướng mắc",
        "Chỉ đạo",
        "Lịch sử báo cáo",
        "Minh chứng",
    ]
    summary = book["Tổng hợp"]
    assert "02/12/2019" in str(summary["A1"].value)
    assert [c.value for c in summary[HEADER_ROW]] == EXPECTED_HEADERS
    assert [h for h, _ in HEADERS] == EXPECTED_HEADERS
    assert summary.freeze_panes == f"A{HEADER_ROW + 1}"
    assert summary.column_dimensions["B"].width > summary.column_dimensions["A"].width
    assert [r[0] for r in _rows(summary)] == [
        "1.1",
        "1.1",
        "2.5.a",
        "2.5.a",
        "2.5.b",
        "2.5.b",
        "2.9",
    ]  # document order; archived ones left out

    row = _row_of(summary, "2.5.a", "Sở Giao thông vận tải Hà Nội")
    values = [summary.cell(row, c).value for c in range(1, 12)]
    assert values == [
        "2.5.a",
        "Mở tuyến xe buýt Hưng Yên – Hà Nội",
        "Sở Giao thông vận tải Hà Nội",
        "Thành phố Hà Nội",
        "Chủ trì",
        "Hoàn thành",
        100,
        "Tuyến xe buýt 208 đã chạy",
        datetime(2019, 11, 30),
        datetime(2019, 11, 30),
        "Hoàn thành đúng hạn",
    ]
    assert summary.cell(row, 10).is_date and summary.cell(row, 10).number_format == "DD/MM/YYYY"
    assert summary.cell(row, 11).fill.fgColor.rgb == "FF2E7D32"  # green

    silent = _row_of(summary, "1.1", "Sở Xây dựng Hà Nội")
    assert [summary.cell(silent, c).value for c in (6, 7, 9, 11)] == [
        "Chưa báo cáo",
        None,
        None,
        "Chưa báo cáo",
    ]
    assert summary.cell(silent, 11).fill.fgColor.rgb == "FF9E9E9E"  # grey

    assert {r[3] for r in _rows(book["Tỉnh Hưng Yên"])} == {"Tỉnh Hưng Yên"}
    assert len(_rows(book["Thành phố Hà Nội"])) == 3

    issues = book["Quá hạn – Vướng mắc"]
    assert issues.cell(HEADER_ROW, 12).value == "Số ngày làm việc quá hạn"
    found = {(r[0], r[2]): (r[5], r[10], r[11]) for r in _rows(issues)}
    assert found == {  # working days: due Friday 15/11 and Saturday 30/11, read on Monday 2/12
        ("1.1", "Sở Xây dựng Hà Nội"): ("Chưa báo cáo", "Chưa báo cáo", 11),
        ("2.5.a", "Sở Giao thông vận tải Hưng Yên"): (
            "Đang thực hiện",
            "Đang thực hiện quá hạn",
            1,
        ),
        ("2.5.b", "Sở Giao thông vận tải Hưng Yên"): (
            "Vướng mắc",
            "Đang thực hiện trong hạn",
            None,
        ),
    }
    late = _row_of(issues, "2.5.a", "Sở Giao thông vận tải Hưng Yên")
    assert issues.cell(late, 11).fill.fgColor.rgb == "FFE53935"  # red


def test_export_command_writes_the_file_and_says_where(tmp_path: Path) -> None:
    config = config_with_store(tmp_path)
    out = io.StringIO()
    ctx = cli_context(None, FixedClock(hanoi(2020, 1, 6, 9)), width=300, file=out)
    target = tmp_path / "bao-cao" / "tong-hop.xlsx"
    assert (
        main(["--config", str(config), "export", str(target), "--at", "2019-12-02"], ctx=ctx) == 0
    )
    assert str(target.resolve()) in out.getvalue()
    book = load_workbook(target)
    assert "02/12/2019" in str(book["Tổng hợp"]["A1"].value)  # --at wins over the clock
    assert len(_rows(book["Quá hạn – Vướng mắc"])) == 3


def test_export_refuses_a_name_that_is_not_xlsx(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    ctx = cli_context(None, FixedClock(hanoi(2019, 12, 2, 9)), file=io.StringIO())
    errors = io.StringIO()
    ctx.err = Console(file=errors, width=200)
    assert main(["--config", str(config), "export", str(tmp_path / "bang.csv")], ctx=ctx) == 2
    assert not (tmp_path / "bang.csv").exists()
    assert "phải kết thúc bằng .xlsx" in errors.getvalue()


# ------------------------------------------------------------------ what an office prints


def _book(s: Session, today: date = TODAY, **options: Any) -> Any:
    buffer = io.BytesIO()
    write_workbook(s, today, buffer, HANOI, Texts("vi"), **options)
    return load_workbook(io.BytesIO(buffer.getvalue())), buffer.getvalue()


def _header_row(sheet: Worksheet) -> int:
    """The last header row: what print_title_rows repeats on every page."""
    return int(str(sheet.print_title_rows).split(":")[-1].lstrip("$"))


def _table(sheet: Worksheet) -> list[dict[str, object]]:
    """The rows below the header, keyed by the bottom header row (group headers aside)."""
    header = _header_row(sheet)
    names = [sheet.cell(header, c).value for c in range(1, sheet.max_column + 1)]
    for c, name in enumerate(names, 1):  # a header merged over both rows sits in the upper one
        if name is None:
            names[c - 1] = sheet.cell(header - 1, c).value
    return [
        dict(zip(names, row, strict=True))
        for row in sheet.iter_rows(min_row=header + 1, values_only=True)
    ]


def test_a_commitment_row_sets_both_localities_lead_agencies_side_by_side(db: Database) -> None:
    with db.unit_of_work() as s:
        build_store(s)
        book, _ = _book(s)
    sheet = book["Nội dung HNHY-2019"]
    assert "HNHY-2019" not in str(sheet["A1"].value)  # titled by the programme's title
    assert "CHƯƠNG TRÌNH HỢP TÁC HÀ NỘI – HƯNG YÊN" in str(sheet["A1"].value)
    assert "Kỳ báo cáo tháng 12/2019 (hạn 25/12/2019)" in str(sheet["A2"].value)
    assert [sheet.cell(3, c).value for c in (1, 2, 3, 4, 9)] == [
        "Mã nội dung",
        "Nội dung",
        "Hạn hoàn thành",
        "Thành phố Hà Nội",
        "Tỉnh Hưng Yên",
    ]
    assert [sheet.cell(4, c).value for c in range(4, 9)] == [
        "Cơ quan chủ trì",
        "Tình trạng",
        "Tiến độ (%)",
        "Ghi chú gần nhất",
        "Ngày báo cáo",
    ]
    assert sheet.print_title_rows == "$3:$4" and sheet.freeze_panes == "B5"
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert [r[0] for r in rows] == ["1.1", "2.5.a", "2.5.b", "2.9"]  # one row per commitment
    bus = rows[1]
    assert bus[:3] == ("2.5.a", "Mở tuyến xe buýt Hưng Yên – Hà Nội", datetime(2019, 11, 30))
    assert bus[3:8] == (
        "Sở Giao thông vận tải Hà Nội",
        "Hoàn thành đúng hạn",
        100,
        "Tuyến xe buýt 208 đã chạy",
        datetime(2019, 11, 30),
    )
    assert bus[8] == "—"  # Hưng Yên only supports 2.5.a
    assert rows[2][9] == "Đang thực hiện trong hạn; Vướng mắc"
    assert rows[0][3] == "Sở Xây dựng Hà Nội" and rows[0][8] == (
        "Sở Lao động – Thương binh và Xã hội Hưng Yên"
    )
    assert sheet.cell(6, 5).fill.fgColor.rgb == "FF2E7D32"  # done on time: green


def test_commitment_texts_are_written_whole(db: Database, spec: ProgrammeSpec) -> None:
    with db.unit_of_work() as s:
        import_programme(s, spec, hanoi(2019, 7, 1, 8))
        texts = dict(s.execute(select(Item.code, Item.text)).all())
        book, _ = _book(s)
    long_ones = {code: text for code, text in texts.items() if len(text) > 200}
    assert long_ones
    per_commitment = {r["Mã nội dung"]: r["Nội dung"] for r in _table(book["Nội dung HY"])}
    per_agency = {r["Mã nội dung"]: r["Nội dung"] for r in _table(book["Tổng hợp"])}
    for code, text in long_ones.items():
        if code in per_commitment:
            assert per_commitment[code] == text
            assert per_agency[code] == text
    assert per_commitment["2.1"] == texts["2.1"] and len(texts["2.1"]) > 400


def test_two_programmes_get_a_sheet_each_and_a_programme_column(
    db: Database, spec: ProgrammeSpec
) -> None:
    with db.unit_of_work() as s:
        import_programme(s, spec, hanoi(2019, 7, 1, 8))
        import_programme(s, load_programme_file(SECOND), hanoi(2019, 7, 1, 8))
        both, _ = _book(s)
        one, _ = _book(s, programme_codes=["ha-noi-hoa-binh-2019"])
    assert both.sheetnames[:3] == ["Nội dung HY", "Nội dung HB", "Tổng hợp"]
    hb = both["Nội dung HB"]
    assert "HÒA BÌNH" in str(hb["A1"].value)
    assert "Kỳ báo cáo 6 tháng cuối năm 2019" in str(hb["A2"].value)
    assert "Kỳ báo cáo tháng 12/2019" in str(both["Nội dung HY"]["A2"].value)
    assert {hb.cell(3, c).value for c in range(4, hb.max_column + 1)} >= {
        "Thành phố Hà Nội",
        "Tỉnh Hòa Bình",
    }
    summary = _table(both["Tổng hợp"])
    assert {r["Chương trình"] for r in summary} == {"HY", "HB"}
    assert [r["Chương trình"] for r in summary if r["Mã nội dung"] == "III.1"][:1] == ["HY"]
    assert "HY tháng 12/2019" in str(both["Tổng hợp"]["A2"].value)
    assert "HB 6 tháng cuối năm 2019" in str(both["Tổng hợp"]["A2"].value)
    for name in ("Chỉ đạo", "Lịch sử báo cáo", "Minh chứng", "Quá hạn – Vướng mắc"):
        assert both[name].cell(_header_row(both[name]), 1).value == "Chương trình"

    assert one.sheetnames[0] == "Nội dung HB" and "Nội dung HY" not in one.sheetnames
    only = _table(one["Tổng hợp"])
    assert "Chương trình" not in only[0]  # one programme: no programme column
    assert not {r["Cơ quan"] for r in only} & {"Sở Giao thông vận tải Hưng Yên"}
    assert "Tỉnh Hưng Yên" not in one.sheetnames


def test_every_sheet_prints_on_a4_landscape_fitted_to_width(db: Database) -> None:
    with db.unit_of_work() as s:
        build_store(s)
        book, _ = _book(s)
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert (setup.orientation, setup.paperSize) == ("landscape", 9), sheet.title  # 9: A4
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.print_title_rows, sheet.title
        assert sheet.freeze_panes == f"{'B' if sheet.title.startswith('Nội dung') else 'A'}" + str(
            _header_row(sheet) + 1
        )


def _report(s: Session, store: Store, name: str, note: str, **extra: Any) -> int:
    assignment = store.a[name]
    return append_report(
        s,
        assignment_id=assignment.id,
        member_id=store.members["HY-GTVT"].id,
        status="in_progress",
        percent=55,
        note=note,
        channel="telegram",
        at=hanoi(2019, 12, 2, 8, 30),
        tz=HANOI,
        **extra,
    )


HOSTILE = '=HYPERLINK("http://x.example","y")'


def test_a_note_with_control_characters_does_not_break_the_export(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        # (PostgreSQL stores no NUL: that one is refused at the door, see test_printable_text)
        _report(s, store, "A3", "Đã\x01 họp\x1b lần 2\x0b\ttổ công tác\r\nxong\x85")
        book, _ = _book(s)
    notes = [r["Ghi chú gần nhất"] for r in _table(book["Tổng hợp"]) if r["Mã nội dung"] == "2.5.b"]
    assert "Đã họp lần 2\ttổ công tác\nxong" in notes
    history = [r["Ghi chú"] for r in _table(book["Lịch sử báo cáo"])]
    assert "Đã họp lần 2\ttổ công tác\nxong" in history


def test_printable_text_keeps_tabs_and_newlines_and_drops_other_controls() -> None:
    assert printable("a\x00b\x08c\td\re\r\nf\x7fg\x9fh\ud800i\uffff") == "abc\td\ne\nfghi"
    assert printable("Nội dung 2.2.a – “đúng hạn”") == "Nội dung 2.2.a – “đúng hạn”"
    assert len(printable("x " * 20_000)) <= 32_767


def test_user_text_that_looks_like_a_formula_is_written_as_text(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        _report(s, store, "A3", HOSTILE)
        s.add(
            Evidence(
                report_id=_report(s, store, "A2", "+1 đã xong"),
                kind="document",
                file_name='@SUM(1,2)=cmd|"/c calc"!A1.pdf',
                mime_type="application/pdf",
                size=2048,
                path="var/evidence/ab/abcd.pdf",
                sha256="ab" * 32,
            )
        )
        book, raw = _book(s)
    found = [
        (sheet.title, cell.coordinate)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value == HOSTILE
    ]
    assert {title for title, _ in found} >= {"Nội dung HNHY-2019", "Tổng hợp", "Lịch sử báo cáo"}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    evidence = _table(book["Minh chứng"])
    assert evidence[0]["Tên tệp"] == '@SUM(1,2)=cmd|"/c calc"!A1.pdf'


def test_directives_sheet_shows_who_received_and_who_answered(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        vice_chair = store.members["HN-XD"]
        vice_chair.name, vice_chair.role = "Nguyễn Văn Sửu", "vice_chair"
        item_id = store.a["A3"].item_id
        directive = Directive(
            programme_id=store.programme.id,
            item_id=item_id,
            member_id=vice_chair.id,
            text="Đề nghị hoàn thành giải phóng mặt bằng trước 15/11",
            created_at=hanoi(2019, 11, 6, 9),
            due_on=date(2019, 11, 15),
        )
        s.add(directive)
        s.flush()
        answer = _report(s, store, "A3", "Đã họp với UBND huyện")
        gtvt_hy, gtvt_hn = store.a["A3"].agency_id, store.a["A4"].agency_id
        s.add_all(
            [
                DirectiveRecipient(
                    directive_id=directive.id,
                    agency_id=gtvt_hy,
                    role="lead",
                    reached=True,
                    answer_report_id=answer,
                    answered_at=hanoi(2019, 12, 2, 8, 30),
                ),
                DirectiveRecipient(
                    directive_id=directive.id, agency_id=gtvt_hn, role="support", reached=False
                ),
            ]
        )
        book, _ = _book(s)
    [row] = _table(book["Chỉ đạo"])
    assert row["Mã nội dung"] == "2.5.b"
    assert row["Ngày chỉ đạo"] == datetime(2019, 11, 6, 9)
    assert row["Phó Chủ tịch UBND"] == "Nguyễn Văn Sửu"
    assert row["Nội dung chỉ đạo"] == "Đề nghị hoàn thành giải phóng mặt bằng trước 15/11"
    assert row["Hạn"] == datetime(2019, 11, 15)
    assert row["Cơ quan nhận"] == (
        "Sở Giao thông vận tải Hưng Yên (chủ trì)\n"
        "Sở Giao thông vận tải Hà Nội (phối hợp) — chưa liên lạc được"
    )
    assert row["Trả lời"] == (
        f"HY-GTVT: Cán bộ HY-GTVT, 02/12/2019 08:30 (báo cáo số {answer})\nHN-GTVT: chưa trả lời"
    )
    assert row["Tình trạng"] == "Đang chờ 1/2 cơ quan trả lời; quá hạn"


def test_history_marks_returned_and_superseded_reports(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        office = store.members["HN-XD"]
        first = _report(s, store, "A2", "Bản đầu")
        s.add(
            Review(
                report_id=first,
                member_id=office.id,
                decision="returned",
                reason="Thiếu số liệu",
                created_at=hanoi(2019, 12, 2, 9),
            )
        )
        fixed = _report(s, store, "A2", "Bản sửa, đủ số liệu", corrects_id=first)
        s.add(
            Review(
                report_id=fixed,
                member_id=office.id,
                decision="confirmed",
                created_at=hanoi(2019, 12, 2, 10),
            )
        )
        book, _ = _book(s)
    sheet = book["Lịch sử báo cáo"]
    rows = _table(sheet)
    assert len(rows) == 8 + 2  # every report, the one on an archived item too
    by_id = {r["Số báo cáo"]: r for r in rows}
    assert by_id[first]["Tình trạng báo cáo"] == "Đề nghị bổ sung, hoàn thiện"
    assert by_id[first]["Xét duyệt"] == (
        "Sở Xây dựng Hà Nội đề nghị bổ sung, hoàn thiện, 02/12/2019: Thiếu số liệu"
    )
    assert by_id[fixed]["Tình trạng báo cáo"] == f"Hiện hành\n(sửa báo cáo số {first})"
    assert by_id[fixed]["Xét duyệt"] == "Sở Xây dựng Hà Nội xác nhận, 02/12/2019"
    assert by_id[fixed]["Người báo cáo"] == "Cán bộ HY-GTVT"
    earlier = [
        r
        for r in rows
        if r["Mã nội dung"] == "2.5.a" and r["Cơ quan"].startswith("Sở Giao thông vận tải Hà Nội")
    ]  # type: ignore[union-attr]
    assert [r["Tình trạng báo cáo"] for r in earlier] == ["Đã có báo cáo mới hơn", "Hiện hành"]
    header = _header_row(sheet)
    number = next(
        n for n in range(header + 1, sheet.max_row + 1) if sheet.cell(n, 1).value == first
    )
    assert sheet.cell(number, 8).font.color.rgb == "FF757575"  # greyed: no longer current
    current = next(
        n for n in range(header + 1, sheet.max_row + 1) if sheet.cell(n, 1).value == fixed
    )
    assert (
        sheet.cell(current, 8).font.color is None
        or sheet.cell(current, 8).font.color.rgb != "FF757575"
    )


def test_evidence_sheet_lists_each_file(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        report = _report(s, store, "A3", "Kèm biên bản")
        s.add(
            Evidence(
                report_id=report,
                kind="document",
                file_name="bien-ban-hop.pdf",
                mime_type="application/pdf",
                size=153_600,
                path="var/evidence/9f/9f86d0.pdf",
                sha256="9f" * 32,
            )
        )
        book, _ = _book(s)
    [row] = _table(book["Minh chứng"])
    assert row == {
        "Mã nội dung": "2.5.b",
        "Cơ quan": "HY-GTVT",
        "Số báo cáo": report,
        "Ngày gửi": datetime(2019, 12, 2, 8, 30),
        "Tên tệp": "bien-ban-hop.pdf",
        "Loại tệp": "application/pdf",
        "Dung lượng (KB)": 150,
        "Đường dẫn": "var/evidence/9f/9f86d0.pdf",
    }
    [report_row] = [r for r in _table(book["Lịch sử báo cáo"]) if r["Số báo cáo"] == report]
    assert report_row["Minh chứng (tệp)"] == 1


def test_export_takes_the_programme(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert run_cli(config, "import")[0] == 0
    assert run_cli(config, "import", str(SECOND))[0] == 0
    target = tmp_path / "hb.xlsx"
    code, out = run_cli(config, "export", str(target), "--programme", "HB")
    assert code == 0, out
    book = load_workbook(target)
    assert book.sheetnames[0] == "Nội dung HB" and "Nội dung HY" not in book.sheetnames
