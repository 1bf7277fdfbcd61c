"""The page of an administrative document (văn bản hành chính), laid out with python-docx.

Two layouts, chosen by the issuing office:

* state bodies (Sở, UBND) follow Decree 30/2020/NĐ-CP: A4; margins top and bottom 20 mm, left
  30 mm, right 15 mm; Times New Roman, black, 14 pt body; page numbers centred in the top
  margin from page 2; a borderless two-column header (the issuing body in capitals on the left,
  the national motto on the right), "Số: …/BC-…", place and date, the document type and its
  summary line (trích yếu), the recipients ("Nơi nhận") and the signature block;
* Party bodies (Văn phòng Thành ủy / Tỉnh ủy) follow Hướng dẫn 36-HD/VPTW: "ĐẢNG CỘNG SẢN
  VIỆT NAM" at the top right, the issuing body with a star beneath it on the left,
  "Số …-BC/…".

This module knows the page, not the content: the periodic report hands it a `DocumentSpec`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, Literal

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

Layout = Literal["state", "party"]
FONT = "Times New Roman"
BODY_PT = 14
BLACK = RGBColor(0, 0, 0)
A4 = (Mm(210), Mm(297))
MARGINS = {"top": Mm(20), "bottom": Mm(20), "left": Mm(30), "right": Mm(15)}


@dataclass(frozen=True)
class Issuer:
    """Who issues the document and who signs it."""

    layout: Layout
    superior: str  # the governing body above the issuer: "UBND THÀNH PHỐ HÀ NỘI", "THÀNH ỦY HÀ NỘI"
    name: str  # the issuer: "SỞ KẾ HOẠCH VÀ ĐẦU TƯ", "VĂN PHÒNG"
    abbreviation: str  # in the number: Số: …/BC-SKHĐT, Số …-BC/VPTU
    place: str  # where it is signed: "Hà Nội", "Hưng Yên"
    signer_authority: str = ""  # KT. GIÁM ĐỐC, T/L BAN THƯỜNG VỤ
    signer_title: str = ""  # PHÓ GIÁM ĐỐC, CHÁNH VĂN PHÒNG
    signer_name: str = ""


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1: I., II. in bold capitals; 2: 1., 2. in bold; 3: italic


@dataclass(frozen=True)
class Paragraph:
    """A body paragraph: justified, first line indented."""

    text: str
    bold_lead: str = ""  # a bold opening phrase, e.g. "2.5. Lĩnh vực giao thông: "
    italic: bool = False


@dataclass(frozen=True)
class Bullet:
    text: str


@dataclass(frozen=True)
class TableBlock:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths_mm: tuple[float, ...] = ()
    font_pt: int = 12


Block = Heading | Paragraph | Bullet | TableBlock


@dataclass(frozen=True)
class DocumentSpec:
    """Everything on the pages: issuer, date, type and summary, body, recipients, appendix."""

    issuer: Issuer
    day: date
    kind: str  # "BÁO CÁO"
    subject: str  # the trích yếu
    blocks: tuple[Block, ...]
    recipients: tuple[str, ...] = ()
    appendix_title: str = ""
    appendix: tuple[Block, ...] = field(default=())


def write_docx(spec: DocumentSpec, target: Path | BinaryIO | None = None) -> bytes:
    """Lay the document out and return its bytes (also written to `target` when given)."""
    document = Document()
    _base_style(document)
    section = document.sections[0]
    _page(section, landscape=False)
    section.different_first_page_header_footer = True
    _page_number(section.header.paragraphs[0])
    _masthead(document, spec)
    _title(document, spec)
    for block in spec.blocks:
        _block(document, block)
    _closing(document, spec)
    if spec.appendix:
        appendix = document.add_section(WD_SECTION.NEW_PAGE)
        _page(appendix, landscape=True)
        appendix.different_first_page_header_footer = False
        _centred(document, spec.appendix_title, bold=True, size=BODY_PT)
        for block in spec.appendix:
            _block(document, block)
    buffer = io.BytesIO()
    document.save(buffer)
    data = buffer.getvalue()
    if isinstance(target, Path):
        target.write_bytes(data)
    elif target is not None:
        target.write(data)
    return data


def vietnamese_date(place: str, day: date) -> str:
    """ "Hà Nội, ngày 25 tháng 12 năm 2019", as administrative documents write it."""
    return f"{place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


# --- the page ----------------------------------------------------------------------------


def _base_style(document: Any) -> None:
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(BODY_PT)
    style.font.color.rgb = BLACK
    fonts = style.element.rPr.get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    style.paragraph_format.space_before = Pt(0)
    style.paragraph_format.space_after = Pt(6)
    style.paragraph_format.line_spacing = 1.15


def _page(section: Any, *, landscape: bool) -> None:
    width, height = A4
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    for side, size in MARGINS.items():
        setattr(section, f"{side}_margin", size)
    section.header_distance = Mm(10)


def _page_number(paragraph: Any) -> None:
    """A PAGE field centred in the top margin (the first page's header stays empty)."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    begin, text, end = (
        OxmlElement("w:fldChar"),
        OxmlElement("w:instrText"),
        OxmlElement("w:fldChar"),
    )
    begin.set(qn("w:fldCharType"), "begin")
    text.set(qn("xml:space"), "preserve")
    text.text = "PAGE"
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, text, end):
        run._r.append(element)
    _font(run, BODY_PT)


def _masthead(document: Any, spec: DocumentSpec) -> None:
    """The two-column header: issuer and number on the left, motto or Party and date on the right."""
    issuer = spec.issuer
    table = document.add_table(rows=1, cols=2)
    _borderless(table)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, (68, 97))
    left, right = table.rows[0].cells
    place_date = vietnamese_date(issuer.place, spec.day)
    if issuer.layout == "party":
        _cell_line(left, issuer.superior.upper(), size=14)
        _cell_line(left, issuer.name.upper(), size=14, bold=True)
        _cell_line(left, "*", size=14)
        _cell_line(left, f"Số      -BC/{issuer.abbreviation}", size=14)
        _cell_line(right, "ĐẢNG CỘNG SẢN VIỆT NAM", size=15, bold=True, underline=True)
        _cell_line(right, "", size=8)
        _cell_line(right, place_date, size=14, italic=True)
    else:
        if issuer.superior:
            _cell_line(left, issuer.superior.upper(), size=13)
        _cell_line(left, issuer.name.upper(), size=13, bold=True, rule=True)
        _cell_line(left, f"Số:      /BC-{issuer.abbreviation}", size=13)
        _cell_line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True)
        _cell_line(right, "Độc lập - Tự do - Hạnh phúc", size=14, bold=True, rule=True)
        _cell_line(right, place_date, size=14, italic=True)
    for cell in (left, right):
        first = cell.paragraphs[0]
        if not first.text and len(cell.paragraphs) > 1:
            first._p.getparent().remove(first._p)  # the cell's own empty first line


def _title(document: Any, spec: DocumentSpec) -> None:
    document.add_paragraph()
    size = 16 if spec.issuer.layout == "party" else 14
    _centred(document, spec.kind.upper(), bold=True, size=size, after=0)
    _centred(document, spec.subject, bold=True, size=14, rule=spec.issuer.layout == "state")


def _widths(table: Any, widths_mm: tuple[float, ...]) -> None:
    """Fix the columns' widths (the grid Word and LibreOffice read, and every cell)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_mm, strict=False):
        column.width = Mm(width)
        for cell in column.cells:
            cell.width = Mm(width)


def _closing(document: Any, spec: DocumentSpec) -> None:
    """Recipients on the left, the signature block on the right, in a borderless table."""
    issuer = spec.issuer
    document.add_paragraph()
    table = document.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, (80, 85))
    left, right = table.rows[0].cells
    if spec.recipients:
        _cell_line(left, "Nơi nhận:", size=12, bold=True, italic=True, align="left")
        for recipient in spec.recipients:
            _cell_line(left, f"- {recipient};", size=11, align="left")
    for line in (issuer.signer_authority, issuer.signer_title):
        if line:
            _cell_line(right, line.upper(), size=14, bold=True)
    for _ in range(4):
        _cell_line(right, "", size=14)
    _cell_line(right, issuer.signer_name, size=14, bold=True)
    for cell in (left, right):
        first = cell.paragraphs[0]
        if not first.text and len(cell.paragraphs) > 1:
            first._p.getparent().remove(first._p)


# --- blocks ------------------------------------------------------------------------------


def _block(document: Any, block: Block) -> None:
    if isinstance(block, Heading):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.first_line_indent = Mm(10)
        paragraph.paragraph_format.space_before = Pt(6)
        paragraph.paragraph_format.keep_with_next = True
        run = paragraph.add_run(block.text)
        _font(run, BODY_PT, bold=block.level <= 2, italic=block.level >= 3)
    elif isinstance(block, Paragraph):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        paragraph.paragraph_format.first_line_indent = Mm(10)
        if block.bold_lead:
            _font(paragraph.add_run(block.bold_lead), BODY_PT, bold=True)
        _font(paragraph.add_run(block.text), BODY_PT, italic=block.italic)
    elif isinstance(block, Bullet):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        paragraph.paragraph_format.first_line_indent = Mm(10)
        _font(paragraph.add_run(f"- {block.text}"), BODY_PT)
    else:
        _table(document, block)


def _table(document: Any, block: TableBlock) -> Any:
    table = document.add_table(rows=1, cols=len(block.headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = table.rows[0]
    _repeat_as_header(header)
    for cell, text in zip(header.cells, block.headers, strict=True):
        _cell_line(cell, text, size=block.font_pt, bold=True)
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    for row in block.rows:
        cells = table.add_row().cells
        for index, (cell, text) in enumerate(zip(cells, row, strict=True)):
            align = "center" if index == 0 or len(text) <= 6 else "left"
            cell.paragraphs[0].text = ""
            _cell_line(cell, text, size=block.font_pt, align=align)
            cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    if block.widths_mm:
        _widths(table, block.widths_mm)
    document.add_paragraph()
    return table


# --- small pieces ------------------------------------------------------------------------


def _font(
    run: Any,
    size: float,
    *,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
) -> None:
    font = run.font
    font.name = FONT
    font.size = Pt(size)
    font.bold, font.italic, font.underline = bold, italic, underline
    font.color.rgb = BLACK
    fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)


def _cell_line(
    cell: Any,
    text: str,
    *,
    size: float,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    rule: bool = False,
    align: str = "center",
) -> Any:
    paragraph = cell.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT if align == "left" else WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.first_line_indent = Mm(0)
    _font(paragraph.add_run(text), size, bold=bold, italic=italic, underline=underline)
    if rule:
        _short_rule(cell.add_paragraph())
    return paragraph


def _centred(
    document: Any,
    text: str,
    *,
    bold: bool = False,
    size: float = BODY_PT,
    after: int = 6,
    rule: bool = False,
) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(after)
    _font(paragraph.add_run(text), size, bold=bold)
    if rule:
        _short_rule(document.add_paragraph(), 60)


def _short_rule(paragraph: Any, indent_mm: float = 20) -> None:
    """The short horizontal line under the issuer's name, the motto and the summary line."""
    paragraph.paragraph_format.left_indent = Mm(indent_mm)
    paragraph.paragraph_format.right_indent = Mm(indent_mm)
    paragraph.paragraph_format.space_after = Pt(6)
    p_pr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    p_pr.append(border)
    _font(paragraph.add_run(""), 2)


def _borderless(table: Any) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _repeat_as_header(row: Any) -> None:
    """Repeat the table's first row at the top of every page it runs over."""
    tr_pr = row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
