"""The Excel workbook a coordinating office prints and sends on.

One sheet per programme with a row per commitment and both localities' lead agencies side by
side; the consolidated table of every item × agency, by locality, and what is overdue or
blocked; the Vice-Chairs' directives and who answered; every report with its reviews; and the
evidence files. Commitment texts are written whole; every sheet prints on A4 landscape.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, time, tzinfo
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.documents.cells import Column, Group, write_table
from handlers.documents.colours import CATEGORY_COLOURS, DARK
from handlers.documents.history import (
    DIRECTIVES_SHEET,
    EVIDENCE_SHEET,
    HISTORY_SHEET,
    write_directives,
    write_evidence,
    write_history,
)
from handlers.documents.records import item_texts
from handlers.texts import N_, Texts
from storage.aggregate.states import AssignmentState, assignment_states
from storage.models import AssignmentRole, Locality, Programme
from storage.periods import Period, current_period
from storage.worktime import WorkCalendar

SUMMARY_SHEET = N_("Tổng hợp")
ISSUES_SHEET = N_("Quá hạn – Vướng mắc")
COMMITMENTS_SHEET = N_("Nội dung {programme}")
PROGRAMME_HEADER: tuple[str, int] = (N_("Chương trình"), 12)
HEADERS: tuple[tuple[str, int], ...] = (  # (Vietnamese header, column width)
    (N_("Mã nội dung"), 11),
    (N_("Nội dung"), 60),
    (N_("Cơ quan"), 32),
    (N_("Địa phương"), 16),
    (N_("Vai trò"), 10),
    (N_("Trạng thái"), 16),
    (N_("Tiến độ (%)"), 11),
    (N_("Ghi chú gần nhất"), 48),
    (N_("Ngày báo cáo gần nhất"), 14),
    (N_("Hạn hoàn thành"), 14),
    (N_("Phân loại"), 26),
)
ISSUE_HEADERS: tuple[tuple[str, int], ...] = ((N_("Số ngày làm việc quá hạn"), 14),)
LOCALITY_HEADERS: tuple[tuple[str, int], ...] = (  # per locality, on a commitment sheet
    (N_("Cơ quan chủ trì"), 24),
    (N_("Tình trạng"), 17),
    (N_("Tiến độ (%)"), 9),
    (N_("Ghi chú gần nhất"), 40),
    (N_("Ngày báo cáo"), 12),
)
HEADER_ROW = 3  # title, subtitle, then the header (a commitment sheet has two header rows)
_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def write_workbook(
    session: Session,
    today: date,
    target: Path | BinaryIO,
    tz: tzinfo,
    tx: Texts | None = None,
    programme_codes: Collection[str] | None = None,
    *,
    default_due_day: int = 25,
    calendar: WorkCalendar | None = None,
) -> None:
    """Write the workbook for `today` to a path or a binary file: every programme, or those of
    `programme_codes`. Report dates are calendar days in `tz`, the deployment's time zone;
    each programme's period is its own (`default_due_day`: [reminders] cycle_day); overdue is
    counted in working days of `calendar` (default: Viet Nam's); labels in `tx`'s language."""
    tx = tx or Texts("vi")
    query = select(Programme).order_by(Programme.id)
    if programme_codes is not None:
        query = query.where(Programme.code.in_(list(programme_codes)))
    programmes = list(session.scalars(query))
    ids = [p.id for p in programmes]
    states = assignment_states(session, today, programme_ids=ids) if ids else []
    on = _Day(
        today,
        tz,
        {
            code: name
            for code, name in session.execute(
                select(Locality.code, Locality.name).order_by(Locality.id)
            )
        },
        tx,
        item_texts(session, {s.item_id for s in states}),
        {p.id: current_period(p, today, default_due_day) for p in programmes},
        {p.id: p.label for p in programmes},
        calendar or WorkCalendar(_zone(tz), time(8), time(17)),
    )
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    used: set[str] = set()
    for programme in programmes:
        mine = [s for s in states if s.programme_id == programme.id]
        title = _sheet_title(tx._(COMMITMENTS_SHEET, programme=programme.label), used)
        _commitments(book.create_sheet(title), programme, mine, on)
    summary_sheet, issues_sheet = tx._(SUMMARY_SHEET), tx._(ISSUES_SHEET)
    used |= {summary_sheet, issues_sheet}
    heading = tx._("BẢNG TỔNG HỢP TIẾN ĐỘ THỰC HIỆN CHƯƠNG TRÌNH HỢP TÁC")
    if len(programmes) == 1:
        heading = tx._("TỔNG HỢP TIẾN ĐỘ — {title}", title=programmes[0].title.upper())
    _fill_sheet(book.create_sheet(summary_sheet), heading, states, on)
    for code, name in on.localities.items():
        in_locality = [s for s in states if s.locality_code == code]
        if in_locality:
            heading = tx._("TIẾN ĐỘ THỰC HIỆN — {name}", name=name.upper())
            _fill_sheet(book.create_sheet(_sheet_title(name, used)), heading, in_locality, on)
    issues = [s for s in states if s.overdue or s.status == "blocked"]
    issues.sort(key=lambda s: (s.due_date or date.max, s.programme_id, s.item_code, s.agency_code))
    _fill_sheet(
        book.create_sheet(issues_sheet),
        tx._("NHIỆM VỤ QUÁ HẠN VÀ VƯỚNG MẮC"),
        issues,
        on,
        overdue_days=True,
    )
    subtitle = on.periods_line(ids)
    mixed = len(programmes) > 1
    write_directives(
        book.create_sheet(tx._(DIRECTIVES_SHEET)), session, ids, today, tz, tx, subtitle, mixed
    )
    write_history(book.create_sheet(tx._(HISTORY_SHEET)), session, ids, tz, tx, subtitle, mixed)
    write_evidence(book.create_sheet(tx._(EVIDENCE_SHEET)), session, ids, tz, tx, subtitle, mixed)
    book.active = 0
    book.save(target)


def _zone(tz: tzinfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class _Day:
    """What every sheet is written for: the day, the clock, names, texts and periods."""

    today: date
    tz: tzinfo
    localities: dict[str, str]  # code → name, in the order localities were first imported
    tx: Texts
    texts: dict[int, str]  # item id → its full text
    periods: dict[int, Period]  # programme id → its current period
    labels: dict[int, str]  # programme id → alias or code
    calendar: WorkCalendar

    @property
    def mixed(self) -> bool:
        """Several programmes share the consolidated sheets: each row says which."""
        return len(self.labels) > 1

    def period_line(self, programme_id: int) -> str:
        period = self.periods[programme_id]
        return self.tx._(
            "Kỳ báo cáo {period} (hạn {due})",
            period=self.tx.period(period),
            due=self.tx.date(period.due),
        )

    def periods_line(self, programme_ids: Sequence[int]) -> str:
        """The period of each programme: 'Kỳ báo cáo: HY tháng 12/2019 (hạn 25/12/2019); …'."""
        if len(programme_ids) == 1:
            return self.period_line(programme_ids[0])
        return self.tx._(
            "Kỳ báo cáo: {periods}",
            periods="; ".join(
                f"{self.labels[p]} {self.tx.period(self.periods[p])} "
                f"({self.tx._('hạn {due}', due=self.tx.date(self.periods[p].due))})"
                for p in programme_ids
            ),
        )


def _sheet_title(name: str, used: set[str]) -> str:
    """A unique sheet title Excel accepts (31 characters, no []:*?/\\ nor control characters)."""
    base = "".join(c for c in name if c.isprintable()).translate(_FORBIDDEN).strip()[:31] or "—"
    title, n = base, 2
    while title in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def _category_fill(sheet: Worksheet, row: int, column: int, state: AssignmentState) -> None:
    colour = CATEGORY_COLOURS[state.category]
    cell = sheet.cell(row=row, column=column)
    cell.fill = PatternFill("solid", fgColor="FF" + colour)
    cell.font = Font(bold=True, color="FFFFFFFF" if colour in DARK else "FF000000")


def _counts(on: _Day, states: Sequence[AssignmentState]) -> str:
    return on.tx._(
        "Tổng số: {count} nhiệm vụ; hoàn thành: {done}; quá hạn: {late}",
        count=len(states),
        done=sum(1 for s in states if s.done),
        late=sum(1 for s in states if s.overdue),
    )


# --------------------------------------------------------------- one row per commitment


def _commitments(
    sheet: Worksheet, programme: Programme, states: Sequence[AssignmentState], on: _Day
) -> None:
    """A row per commitment: its full text, and per locality its lead agencies' state."""
    tx = on.tx
    localities = [c for c in on.localities if any(s.locality_code == c for s in states)]
    items: dict[int, list[AssignmentState]] = {}
    for state in states:  # document order
        items.setdefault(state.item_id, []).append(state)
    columns = [
        Column(tx._("Mã nội dung"), 9),
        Column(tx._("Nội dung"), 60, wrap=True),
        Column(tx._("Hạn hoàn thành"), 12),
    ]
    groups = []
    for code in localities:
        first = len(columns) + 1
        columns += [
            Column(tx._(header), width, wrap=header != N_("Tiến độ (%)"))
            for header, width in LOCALITY_HEADERS
        ]
        groups.append(Group(on.localities[code], first, len(columns)))
    rows = []
    for item_states in items.values():
        leads = [s for s in item_states if s.role == AssignmentRole.LEAD]
        dues = [s.due_date for s in leads or item_states if s.due_date is not None]
        row: list[object] = [
            item_states[0].item_code,
            on.texts.get(item_states[0].item_id, item_states[0].item_title),
            min(dues) if dues else None,
        ]
        for code in localities:
            row += _side(on, [s for s in leads if s.locality_code == code])
        rows.append((row, leads))
    header = write_table(
        sheet,
        tx._(
            "TIẾN ĐỘ THỰC HIỆN {title} — NGÀY {day}",
            title=programme.title.upper(),
            day=tx.date(on.today),
        ),
        on.period_line(programme.id) + ". " + _counts(on, states),
        columns,
        (row for row, _ in rows),
        groups=groups,
        freeze_column=1,
    )
    for offset, (_, leads) in enumerate(rows, 1):
        for group, code in zip(groups, localities, strict=True):
            mine = [s for s in leads if s.locality_code == code]
            if len(mine) == 1:
                _category_fill(sheet, header + offset, group.first + 1, mine[0])


def _side(on: _Day, leads: Sequence[AssignmentState]) -> list[object]:
    """One locality's lead agencies on a commitment: name, state, %, latest note, date."""
    tx = on.tx
    if not leads:
        return ["—", None, None, None, None]

    def state(s: AssignmentState) -> str:
        text = tx.category(s.category)
        return text + ("; " + tx.status(s.status) if s.status == "blocked" else "")

    def day(s: AssignmentState) -> date | None:
        return s.reported_at.astimezone(on.tz).date() if s.reported_at else None

    if len(leads) == 1:
        s = leads[0]
        return [s.agency_name, state(s), s.percent, s.note or None, day(s)]
    return [
        "\n".join(s.agency_name for s in leads),
        "\n".join(state(s) for s in leads),
        "\n".join("—" if s.percent is None else f"{s.percent}%" for s in leads),
        "\n".join(f"{s.agency_code}: {s.note}" for s in leads if s.note) or None,
        "\n".join(tx.date(d) if (d := day(s)) else "—" for s in leads),
    ]


# --------------------------------------------------------------- one row per assignment


def _fill_sheet(
    sheet: Worksheet,
    heading: str,
    states: Sequence[AssignmentState],
    on: _Day,
    overdue_days: bool = False,
) -> None:
    tx = on.tx
    headers = (PROGRAMME_HEADER,) * on.mixed + HEADERS + (ISSUE_HEADERS if overdue_days else ())
    wrapped = {N_("Nội dung"), N_("Cơ quan"), N_("Ghi chú gần nhất")}
    columns = [Column(tx._(h), width, wrap=h in wrapped) for h, width in headers]
    programme_ids = sorted({s.programme_id for s in states}) or sorted(on.labels)
    header = write_table(
        sheet,
        tx._("{heading} — NGÀY {day}", heading=heading, day=tx.date(on.today)),
        _counts(on, states) + (". " + on.periods_line(programme_ids) if programme_ids else ""),
        columns,
        (_values(s, on, overdue_days) for s in states),
    )
    category = len(headers) - len(ISSUE_HEADERS) * overdue_days
    for offset, state in enumerate(states, 1):
        _category_fill(sheet, header + offset, category, state)


def _values(state: AssignmentState, on: _Day, overdue_days: bool) -> list[object]:
    tx = on.tx
    values: list[object] = [state.programme_label] if on.mixed else []
    values += [
        state.item_code,
        on.texts.get(state.item_id, state.item_title),
        state.agency_name,
        on.localities.get(state.locality_code, state.locality_code),
        tx.assignment_role(state.role),
        tx.status(state.status),
        state.percent,
        state.note or None,
        state.reported_at.astimezone(on.tz).date() if state.reported_at else None,
        state.due_date,
        tx.category(state.category),
    ]
    if overdue_days:
        late = None
        if state.overdue and state.due_date is not None:
            late = on.calendar.working_days_between(state.due_date, on.today)
        values.append(late)
    return values
