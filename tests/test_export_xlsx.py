"""The Excel table a coordinator sends on: sheets, headers, a known row and its colour."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from rich.console import Console

from bot.cli.main import main
from handlers.documents.workbook import HEADER_ROW, HEADERS, write_workbook
from storage.clock import FixedClock
from storage.db import Database
from tests.conftest import hanoi
from tests.harness import HANOI, cli_context, write_config
from tests.test_aggregate import TODAY, build_store, config_with_store

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
        "Tổng hợp",
        "Thành phố Hà Nội",
        "Tỉnh Hưng Yên",
        "Quá hạn – Vướng mắc",
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
    assert issues.cell(HEADER_ROW, 12).value == "Số ngày quá hạn"
    found = {(r[0], r[2]): (r[5], r[10], r[11]) for r in _rows(issues)}
    assert found == {
        ("1.1", "Sở Xây dựng Hà Nội"): ("Chưa báo cáo", "Chưa báo cáo", 17),
        ("2.5.a", "Sở Giao thông vận tải Hưng Yên"): (
            "Đang thực hiện",
            "Đang thực hiện quá hạn",
            2,
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
