"""Writing cells and sheets an office can print, safely, whatever people typed.

Every text reaches a cell through `put`: control characters are dropped (tab and newline
kept: openpyxl refuses the others, and one bad note used to break every export), and text is
stored as text, never as a formula (a note "=HYPERLINK(…)" stays those characters). Every sheet
goes through `write_table`: a title, a subtitle, a header repeated on each printed page,
frozen panes, A4 landscape fitted to the page width.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from storage.textfit import short_text

CELL_LIMIT = 32_767  # the most characters an Excel cell holds
# C0 and C1 controls but tab and newline, lone surrogates, and the two non-characters XML refuses.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@")
DATE_FORMAT = "DD/MM/YYYY"
MOMENT_FORMAT = "DD/MM/YYYY HH:MM"
TITLE_ROW, SUBTITLE_ROW = 1, 2
_THIN = Side(style="thin", color="FFBDBDBD")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_FILL = PatternFill("solid", fgColor="FF1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFFFF")
MUTED = Font(italic=True, color="FF757575")
LINE_HEIGHT = 15  # points per line of 11-point text
MAX_HEIGHT = 409  # the tallest row a spreadsheet allows, in points
CHARS_PER_WIDTH = 1.1  # letters of Vietnamese text per unit of column width, about


def printable(text: str) -> str:
    """The text a cell can hold: line ends as newlines, no control characters, at most the
    cell's limit (cut at a word, which no real note or commitment reaches)."""
    text = _UNPRINTABLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text if len(text) <= CELL_LIMIT else short_text(text, CELL_LIMIT, one_line=False)


def put(sheet: Worksheet, row: int, column: int, value: object, *, wrap: bool = False) -> Cell:
    """Write one value: text as text (cleaned, never a formula), dates with the day format."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        text = printable(value)
        cell.value = text
        cell.data_type = "s"  # openpyxl makes "=…" a formula; keep it the characters typed
        if text.startswith(_FORMULA_START):
            cell.quotePrefix = True  # and so does Excel when someone edits the cell
    else:
        cell.value = value
        if isinstance(value, datetime):
            cell.number_format = MOMENT_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
    cell.border = BORDER
    cell.alignment = Alignment(vertical="top", wrap_text=wrap)
    return cell


def local(moment: datetime | None, tz: tzinfo) -> datetime | None:
    """A stored moment on the office's clock, as Excel keeps it (without a zone)."""
    return None if moment is None else moment.astimezone(tz).replace(tzinfo=None)


@dataclass(frozen=True)
class Column:
    """One column of a table: its (translated) header, width in characters, and wrapping."""

    header: str
    width: float
    wrap: bool = False


@dataclass(frozen=True)
class Group:
    """A header over several columns (a locality over its agencies' columns)."""

    label: str
    first: int  # 1-based column
    last: int


def write_table(
    sheet: Worksheet,
    title: str,
    subtitle: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[object]],
    *,
    groups: Sequence[Group] = (),
    freeze_column: int = 0,
) -> int:
    """Write a titled table with its print setup; return the header row (rows follow it)."""
    width = len(columns)
    for row, text, font in (
        (TITLE_ROW, title, Font(bold=True, size=14)),
        (SUBTITLE_ROW, subtitle, Font(italic=True)),
    ):
        put(sheet, row, 1, text, wrap=True).font = font
        sheet.cell(row=row, column=1).border = Border()
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    sheet.row_dimensions[TITLE_ROW].height = 36
    header = SUBTITLE_ROW + (2 if groups else 1)
    if groups:
        grouped = {c for g in groups for c in range(g.first, g.last + 1)}
        for group in groups:
            _head(sheet, header - 1, group.first, group.label)
            sheet.merge_cells(
                start_row=header - 1,
                start_column=group.first,
                end_row=header - 1,
                end_column=group.last,
            )
        for column in set(range(1, width + 1)) - grouped:  # one header over both rows
            _head(sheet, header - 1, column, columns[column - 1].header)
            sheet.merge_cells(
                start_row=header - 1, start_column=column, end_row=header, end_column=column
            )
    for column, spec in enumerate(columns, 1):
        if not groups or any(g.first <= column <= g.last for g in groups):
            _head(sheet, header, column, spec.header)
        sheet.column_dimensions[get_column_letter(column)].width = spec.width
    tallest = max(_lines(c.header, c.width * 0.85) for c in columns)  # bold letters are wider
    sheet.row_dimensions[header].height = max(2, tallest) * LINE_HEIGHT + 3
    count = 0
    for count, values in enumerate(rows, 1):
        lines = 1
        for column, (value, spec) in enumerate(zip(values, columns, strict=True), 1):
            cell = put(sheet, header + count, column, value, wrap=spec.wrap)
            if spec.wrap and isinstance(cell.value, str):
                lines = max(lines, _lines(cell.value, spec.width))
        if lines > 1:
            sheet.row_dimensions[header + count].height = min(MAX_HEIGHT, lines * LINE_HEIGHT + 3)
    first_header = header - 1 if groups else header
    sheet.freeze_panes = sheet.cell(row=header + 1, column=freeze_column + 1)
    sheet.print_title_rows = f"{first_header}:{header}"
    sheet.auto_filter.ref = f"A{header}:{get_column_letter(width)}{header + max(count, 1)}"
    _print_setup(sheet)
    return header


def _lines(text: str, width: float) -> int:
    """About how many lines a wrapped text takes in a column `width` characters wide.

    Spreadsheets keep the height a file gives a row and LibreOffice does not refit rows on
    opening one, so a long commitment would print over the rows below it; the estimate errs
    towards a line too many.
    """
    per_line = max(1, int(width * CHARS_PER_WIDTH))
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def _head(sheet: Worksheet, row: int, column: int, text: str) -> None:
    cell = put(sheet, row, column, text, wrap=True)
    cell.font = HEADER_FONT
    cell.fill = HEADER_FILL
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _print_setup(sheet: Worksheet) -> None:
    """A4 landscape, as wide as the page, page numbers at the foot."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = "&P/&N"
