"""The page of a report: Decree 30/2020/NĐ-CP for state bodies, Hướng dẫn 36-HD/VPTW for Party
bodies, read back with python-docx as an office's Word would open it."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT

from handlers.documents.docx_layout import (
    Bullet,
    DocumentSpec,
    Heading,
    Issuer,
    Paragraph,
    TableBlock,
    vietnamese_date,
    write_docx,
)

STATE = Issuer(
    "state",
    "UBND tỉnh Hưng Yên",
    "Sở Kế hoạch và Đầu tư",
    "SKHĐT",
    "Hưng Yên",
    "KT. Giám đốc",
    "Phó Giám đốc",
    "Nguyễn Văn A",
)
PARTY = Issuer(
    "party",
    "Thành ủy Hà Nội",
    "Văn phòng",
    "VPTU",
    "Hà Nội",
    "T/L Ban Thường vụ",
    "Chánh Văn phòng",
)
LONG = "Mở mới tuyến buýt Hưng Yên - Hà Nội, lộ trình dự kiến: Cầu Tràng - QL.38B - " * 6


def spec(issuer: Issuer) -> DocumentSpec:
    return DocumentSpec(
        issuer,
        date(2019, 12, 16),
        "Báo cáo",
        "Kết quả thực hiện Chương trình hợp tác quý IV năm 2019",
        (
            Heading("I. TÌNH HÌNH CHUNG"),
            Paragraph(LONG, bold_lead="2.5. Lĩnh vực giao thông: "),
            Bullet("Sở Giao thông vận tải Hưng Yên: đang thực hiện (80%)."),
            TableBlock(("TT", "Chỉ tiêu", "Số lượng"), (("1", "Hoàn thành đúng hạn", "12"),)),
        ),
        ("Thường trực Tỉnh ủy (để b/c)", "Lưu: VT, TH"),
        "PHỤ LỤC",
        (TableBlock(("Mã", "Nội dung"), (("2.5", "Giao thông"),)),),
    )


def read(issuer: Issuer) -> Document:  # type: ignore[valid-type]
    return Document(io.BytesIO(write_docx(spec(issuer))))


def mm(*lengths: object) -> tuple[int, ...]:
    """Lengths in whole millimetres (Word keeps them in twentieths of a point)."""
    return tuple(round(length.mm) for length in lengths)  # type: ignore[attr-defined]


def texts(cell: object) -> list[str]:
    return [p.text for p in cell.paragraphs if p.text]  # type: ignore[attr-defined]


@pytest.mark.parametrize("issuer", [STATE, PARTY], ids=["state", "party"])
def test_the_page_is_a4_with_the_decree_margins_and_black_times_new_roman(issuer: Issuer) -> None:
    document = read(issuer)
    body = document.sections[0]
    assert mm(body.page_width, body.page_height) == (210, 297)
    assert mm(body.top_margin, body.bottom_margin) == (20, 20)
    assert mm(body.left_margin, body.right_margin) == (30, 15)
    runs = [r for p in document.paragraphs for r in p.runs if r.text.strip()]
    assert runs and all(r.font.name == "Times New Roman" for r in runs)
    assert {str(r.font.color.rgb) for r in runs} == {"000000"}
    body_sizes = {r.font.size.pt for p in document.paragraphs if LONG in p.text for r in p.runs}
    assert body_sizes == {14.0}


@pytest.mark.parametrize("issuer", [STATE, PARTY], ids=["state", "party"])
def test_page_numbers_are_centred_at_the_top_from_page_two(issuer: Issuer) -> None:
    document = read(issuer)
    body = document.sections[0]
    assert body.different_first_page_header_footer
    assert not body.first_page_header.paragraphs[0].text
    header = body.header.paragraphs[0]
    assert header.alignment == 1  # centred
    assert "PAGE" in header._p.xml
    appendix = document.sections[1]
    assert appendix.orientation == WD_ORIENT.LANDSCAPE
    assert mm(appendix.page_width, appendix.page_height) == (297, 210)


def test_a_state_body_writes_the_national_motto_and_its_number() -> None:
    document = read(STATE)
    left, right = document.tables[0].rows[0].cells
    assert texts(left) == ["UBND TỈNH HƯNG YÊN", "SỞ KẾ HOẠCH VÀ ĐẦU TƯ", "Số:      /BC-SKHĐT"]
    assert texts(right) == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Hưng Yên, ngày 16 tháng 12 năm 2019",
    ]
    assert '<w:top w:val="nil"/>' in document.tables[0]._tbl.xml  # borderless
    title = [p.text for p in document.paragraphs if p.text][:2]
    assert title == ["BÁO CÁO", "Kết quả thực hiện Chương trình hợp tác quý IV năm 2019"]
    recipients, signature = document.tables[-2].rows[0].cells
    assert texts(recipients)[0] == "Nơi nhận:"
    assert texts(signature) == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn A"]


def test_a_party_body_writes_the_party_and_a_star_under_its_name() -> None:
    document = read(PARTY)
    left, right = document.tables[0].rows[0].cells
    assert texts(left) == ["THÀNH ỦY HÀ NỘI", "VĂN PHÒNG", "*", "Số      -BC/VPTU"]
    assert texts(right)[0] == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert right.paragraphs[0].runs[0].font.underline


def test_tables_repeat_their_header_row_and_the_date_reads_as_offices_write_it() -> None:
    document = read(STATE)
    body_table = document.tables[1]
    assert "w:tblHeader" in body_table.rows[0]._tr.xml
    assert vietnamese_date("Hà Nội", date(2020, 1, 5)) == "Hà Nội, ngày 05 tháng 01 năm 2020"
