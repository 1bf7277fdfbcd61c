"""The consolidated Excel table a coordinator sends on: every item × agency, by locality,
and what is overdue or blocked."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.documents.colours import CATEGORY_COLOURS, DARK
from handlers.texts import N_, Texts
from storage.aggregate.states import AssignmentState, assignment_states
from storage.models import Locality, Programme

SUMMARY_SHEET = N_("Tổng hợp")
ISSUES_SHEET = N_("Quá hạn – Vướng mắc")
HEADERS: tuple[tuple[str, int], ...] = (  # (Vietnamese header, column width)
    (N_("Mã nội dung"), 11),
    (N_("Nội dung"), 48),
    (N_("Cơ quan"), 36),
    (N_("Địa phương"), 16),
    (N_("Vai trò"), 10),
    (N_("Trạng thái"), 16),
    (N_("Tiến độ (%)"), 11),
    (N_("Ghi chú gần nhất"), 48),
    (N_("Ngày báo cáo gần nhất"), 14),
    (N_("Hạn hoàn thành"), 14),
    (N_("Phân loại"), 26),
)
ISSUE_HEADERS: tuple[tuple[str, int], ...] = ((N_("Số ngày quá hạn"), 12),)
DATE_FORMAT = "DD/MM/YYYY"
HEADER_ROW = 3  # title, subtitle, then the header
_THIN = Side(style="thin", color="FFBDBDBD")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def write_workbook(
    session: Session,
    today: date,
    target: Path | BinaryIO,
    tz: tzinfo,
    tx: Texts | None = None,
    programme_codes: Collection[str] | None = None,
    default_due_day: int = 25,
) -> None:
    """Write the consolidated workbook for `today` to a path or a binary file; report dates
    are calendar days in `tz`, the deployment's time zone; labels in `tx`'s language."""
    tx = tx or Texts("vi")
    query = select(Programme.id).order_by(Programme.id)
    if programme_codes is not None:
        query = query.where(Programme.code.in_(list(programme_codes)))
    states = assignment_states(session, today, programme_ids=list(session.scalars(query)))
    localities = {
        code: name
        for code, name in session.execute(
            select(Locality.code, Locality.name).order_by(Locality.code)
        )
    }
    on = _Day(today, tz, localities, tx)
    book = Workbook()
    first = book.active
    assert first is not None
    summary_sheet, issues_sheet = tx._(SUMMARY_SHEET), tx._(ISSUES_SHEET)
    first.title = summary_sheet
    _fill_sheet(first, tx._("BẢNG TỔNG HỢP TIẾN ĐỘ THỰC HIỆN CHƯƠNG TRÌNH HỢP TÁC"), states, on)
    used = {summary_sheet, issues_sheet}
    for code, name in localities.items():
        mine = [s for s in states if s.locality_code == code]
        if not mine:
            continue
        title = _sheet_title(name, used)
        heading = tx._("TIẾN ĐỘ THỰC HIỆN — {name}", name=name.upper())
        _fill_sheet(book.create_sheet(title), heading, mine, on)
    issues = [s for s in states if s.overdue or s.status == "blocked"]
    issues.sort(key=lambda s: (s.due_date or date.max, s.item_code, s.agency_code))
    _fill_sheet(
        book.create_sheet(issues_sheet),
        tx._("NHIỆM VỤ QUÁ HẠN VÀ VƯỚNG MẮC"),
        issues,
        on,
        overdue_days=True,
    )
    book.save(target)


@dataclass(frozen=True)
class _Day:
    """What every sheet is written for: the day, the time zone and the localities' names."""

    today: date
    tz: tzinfo
    localities: dict[str, str]
    tx: Texts


def _sheet_title(name: str, used: set[str]) -> str:
    """A unique sheet title Excel accepts (31 characters, no []:*?/\\)."""
    base = name.translate(_FORBIDDEN).strip()[:31] or "—"
    title, n = base, 2
    while title in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def _fill_sheet(
    sheet: Worksheet,
    heading: str,
    states: Sequence[AssignmentState],
    on: _Day,
    overdue_days: bool = False,
) -> None:
    headers = HEADERS + (ISSUE_HEADERS if overdue_days else ())
    width = len(headers)
    title = on.tx._("{heading} — NGÀY {day}", heading=heading, day=on.tx.date(on.today))
    sheet.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    done = sum(1 for s in states if s.done)
    late = sum(1 for s in states if s.overdue)
    sheet.cell(
        row=2,
        column=1,
        value=on.tx._(
            "Tổng số: {count} nhiệm vụ; hoàn thành: {done}; quá hạn: {late}",
            count=len(states),
            done=done,
            late=late,
        ),
    ).font = Font(italic=True)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    header_fill = PatternFill("solid", fgColor="FF1F3864")
    for column, (header, column_width) in enumerate(headers, 1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=on.tx._(header))
        cell.font = Font(bold=True, color="FFFFFFFF")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
        sheet.column_dimensions[get_column_letter(column)].width = column_width
    sheet.row_dimensions[HEADER_ROW].height = 32
    for offset, state in enumerate(states, 1):
        _write_row(sheet, HEADER_ROW + offset, state, on, overdue_days)
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
    last = HEADER_ROW + max(len(states), 1)
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(width)}{last}"


def _write_row(
    sheet: Worksheet,
    row: int,
    state: AssignmentState,
    on: _Day,
    overdue_days: bool,
) -> None:
    tx = on.tx
    reported = state.reported_at.astimezone(on.tz).date() if state.reported_at else None
    values: list[object] = [
        state.item_code,
        state.item_title,
        state.agency_name,
        on.localities.get(state.locality_code, state.locality_code),
        tx.assignment_role(state.role),
        tx.status(state.status),
        state.percent,
        state.note,
        reported,
        state.due_date,
        tx.category(state.category),
    ]
    if overdue_days:
        left = state.days_left(on.today)
        values.append(-left if state.overdue and left is not None else None)
    for column, value in enumerate(values, 1):
        cell = sheet.cell(row=row, column=column, value=value)
        cell.border = _BORDER
        cell.alignment = Alignment(vertical="top", wrap_text=column in (2, 3, 8))
        if isinstance(value, date):
            cell.number_format = DATE_FORMAT
    colour = CATEGORY_COLOURS[state.category]
    category = sheet.cell(row=row, column=11)
    category.fill = PatternFill("solid", fgColor="FF" + colour)
    category.font = Font(bold=True, color="FFFFFFFF" if colour in DARK else "FF000000")
