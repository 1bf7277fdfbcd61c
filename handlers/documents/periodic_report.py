"""The periodic report (báo cáo định kỳ) a coordinating office sends to the Standing Boards.

One programme, one period (storage.periods), one issuing office; written from the store in the
shape such reports take, ready to sign after light edits: the overall figures in the
government's categories, results commitment by commitment with both localities' agencies and
their latest notes (full texts), what changed in the period, overdue and blocked work with its
reasons, the directives of the period and what followed, the follow-up log, the proposals the
blocked reports carry, and an appendix table of every assignment.

The document is Vietnamese whatever the reader's chat language: an administrative document
of a Vietnamese body is written in Vietnamese (Decree 30/2020/NĐ-CP, Article 8).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.documents.docx_layout import (
    Block,
    Bullet,
    DocumentSpec,
    Heading,
    Paragraph,
    TableBlock,
    write_docx,
)
from handlers.documents.records import DirectiveRecord, directives, report_history
from handlers.documents.report_header import issuer_for, place_of
from storage.aggregate.categories import Category
from storage.aggregate.codes import natural_key
from storage.aggregate.states import AssignmentState, assignment_states
from storage.aggregate.summary import Summary, summary
from storage.models import Agency, Item, Locality, Member, Outbox, Programme, ProgrammeAgency
from storage.periods import Period, current_period, parse_period
from storage.programme.lookup import find_programme
from storage.worktime import WorkCalendar

STATUS = {
    None: "chưa báo cáo",
    "not_started": "chưa triển khai",
    "in_progress": "đang thực hiện",
    "done": "hoàn thành",
    "blocked": "vướng mắc",
}
CATEGORY = {
    Category.DONE_ON_TIME: "Hoàn thành đúng hạn",
    Category.DONE_LATE: "Hoàn thành quá hạn",
    Category.IN_PROGRESS_ON_TIME: "Đang thực hiện trong hạn",
    Category.IN_PROGRESS_OVERDUE: "Đang thực hiện quá hạn",
    Category.NOT_REPORTED: "Chưa báo cáo",
}
ROLE = {"lead": "chủ trì", "support": "phối hợp"}
FOLLOW_UP = {
    "reminder": "tin nhắc việc",
    "escalation": "tin đôn đốc gửi lãnh đạo cơ quan và cơ quan thường trực",
    "cycle_close": "thông báo kết thúc kỳ báo cáo",
    "forwarded": "tin chuyển cơ quan thường trực (cơ quan chưa liên lạc được)",
}


class ReportRefused(Exception):
    """A report that cannot be written as asked; the message says what to change."""


@dataclass(frozen=True)
class ReportRequest:
    programme: str  # code or alias
    period: str  # 2019-12, 2019-Q4, 2019-H2, 2019
    today: date
    tz: ZoneInfo
    office: str | None = None  # the issuing agency's code; default: the programme's first
    default_due_day: int = 25
    calendar: WorkCalendar | None = None


@dataclass(frozen=True)
class Written:
    """What `write_report` wrote: the document's bytes and the figures it states."""

    content: bytes
    file_name: str
    summary: Summary
    office_code: str


def write_report(
    session: Session, request: ReportRequest, target: Path | BinaryIO | None = None
) -> Written:
    """Write the periodic report as a .docx (to `target` when given) and return it."""
    programme = _programme(session, request.programme)
    due_day = programme.report_due_day or request.default_due_day
    try:
        period = parse_period(request.period, programme.periods, due_day)
    except ValueError as exc:
        raise ReportRefused(str(exc)) from None
    if period.start > request.today:
        raise ReportRefused(
            f"kỳ {request.period} chưa bắt đầu (số liệu từ {period.start:%d/%m/%Y}) / "
            f"the period has not begun yet"
        )
    office = _office(session, programme, request.office)
    calendar = request.calendar or WorkCalendar(request.tz, time(8), time(17))
    data = _Data.load(session, programme, period, request, calendar)
    spec = _document(data, office)
    content = write_docx(spec, target)
    name = f"bao-cao-{programme.alias or programme.code}-{period.key}.docx".lower()
    return Written(content, name, data.summary, office.agency_code)


# --- what the report is about ------------------------------------------------------------


@dataclass(frozen=True)
class _Office:
    agency_code: str
    agency_name: str
    locality_name: str
    header: dict[str, Any]


def _programme(session: Session, typed: str) -> Programme:
    try:
        return find_programme(session, typed)
    except LookupError as exc:
        raise ReportRefused(str(exc)) from None


def _office(session: Session, programme: Programme, code: str | None) -> _Office:
    """The issuing office: one that coordinates the programme (the one asked for, if any)."""
    rows = session.execute(
        select(Agency.code, Agency.name, Locality.name, ProgrammeAgency.report)
        .join(ProgrammeAgency, ProgrammeAgency.agency_id == Agency.id)
        .join(Locality, Locality.id == Agency.locality_id)
        .where(ProgrammeAgency.programme_id == programme.id, ProgrammeAgency.coordinates)
        .order_by(Agency.code)
    ).all()
    offices = [_Office(c, n, loc, dict(header or {})) for c, n, loc, header in rows]
    if code is None and offices:
        return offices[0]
    for office in offices:
        if code is not None and office.agency_code == code.upper():
            return office
    names = ", ".join(o.agency_code for o in offices) or "—"
    raise ReportRefused(
        f"{code or '—'} không phải cơ quan thường trực của chương trình {programme.label} / "
        f"not a coordinating office of the programme; choose one of: {names}"
    )


@dataclass(frozen=True)
class _Data:
    programme: Programme
    period: Period
    today: date
    tz: tzinfo
    calendar: WorkCalendar
    summary: Summary
    states: list[AssignmentState]
    titles: dict[str, str]  # item code → title
    texts: dict[str, str]  # item code → full commitment text
    directives: list[DirectiveRecord]
    reported: dict[int, list[date]]  # assignment → local dates of its current-worthy reports
    follow_up: Counter[str]

    @classmethod
    def load(
        cls,
        session: Session,
        programme: Programme,
        period: Period,
        request: ReportRequest,
        calendar: WorkCalendar,
    ) -> _Data:
        result = summary(
            session,
            request.today,
            tz=request.tz,
            programme_code=programme.code,
            period=period,
            default_due_day=request.default_due_day,
        )
        states = assignment_states(session, request.today, programme_ids=[programme.id])
        items = session.execute(
            select(Item.code, Item.title, Item.text).where(
                Item.programme_id == programme.id, Item.archived_at.is_(None)
            )
        ).all()
        reported: dict[int, list[date]] = defaultdict(list)
        assignment_of = {(s.item_code, s.agency_code): s.assignment_id for s in states}
        for record in report_history(session, [programme.id]):
            if record.returned:
                continue
            key = (record.item_code, record.agency_code)
            if key in assignment_of:
                reported[assignment_of[key]].append(record.created_at.astimezone(request.tz).date())
        start = datetime.combine(period.window_start, time(0), request.tz)
        end = datetime.combine(period.due + timedelta(days=1), time(0), request.tz)
        agencies = {s.agency_id for s in states}
        follow_up = Counter(
            dict(
                session.execute(
                    select(Outbox.reason, func.count())
                    .join(Member, Member.id == Outbox.member_id)
                    .where(
                        Outbox.reason.in_(list(FOLLOW_UP)),
                        Outbox.status == "sent",
                        Outbox.created_at >= start,
                        Outbox.created_at < end,
                        Member.agency_id.in_(list(agencies) or [0]),
                    )
                    .group_by(Outbox.reason)
                ).all()
            )
        )
        given = [
            d
            for d in directives(session, [programme.id])
            if period.window_start <= d.created_at.astimezone(request.tz).date() <= period.due
        ]
        return cls(
            programme,
            period,
            request.today,
            request.tz,
            calendar,
            result,
            states,
            {code: title for code, title, _ in items},
            {code: text or title for code, title, text in items},
            given,
            dict(reported),
            follow_up,
        )


# --- the document ------------------------------------------------------------------------


def _document(data: _Data, office: _Office) -> DocumentSpec:
    issuer = issuer_for(office.agency_name, office.locality_name, office.header)
    programme, period = data.programme, data.period
    label = period_label(period)
    blocks: list[Block] = [
        Paragraph(
            f"Thực hiện {_source(programme)}, {office.agency_name} báo cáo kết quả thực hiện "
            f"{label} (số liệu từ ngày {period.start:%d/%m/%Y} đến ngày {period.end:%d/%m/%Y}, "
            f"báo cáo cập nhật đến ngày {data.today:%d/%m/%Y}) như sau:"
        ),
        Heading("I. KẾT QUẢ THỰC HIỆN"),
        Heading("1. Đánh giá chung", 2),
        *_overall(data),
        Heading("2. Kết quả theo từng lĩnh vực", 2),
        *_by_field(data),
        Heading("3. Những thay đổi trong kỳ", 2),
        *_changes(data),
        Heading("II. NHIỆM VỤ QUÁ HẠN, VƯỚNG MẮC"),
        *_late_and_blocked(data),
        Heading("III. CHỈ ĐẠO CỦA LÃNH ĐẠO VÀ KẾT QUẢ THỰC HIỆN"),
        *_directives(data),
        Heading("IV. CÔNG TÁC THEO DÕI, ĐÔN ĐỐC"),
        *_follow_up(data),
        Heading("V. ĐỀ XUẤT, KIẾN NGHỊ"),
        *_proposals(data),
        Paragraph(
            f"Trên đây là báo cáo kết quả thực hiện {label} của "
            f"{office.agency_name}, kính báo cáo./."
        ),
    ]
    recipients = tuple(str(r) for r in office.header.get("recipients", ()) or ()) or (
        f"Thường trực {'Thành ủy' if 'Thành phố' in office.locality_name else 'Tỉnh ủy'} "
        f"{place_of(office.locality_name)} (để b/c)",
        f"UBND {office.locality_name[:1].lower()}{office.locality_name[1:]} (để b/c)",
        "Các cơ quan thường trực của chương trình",
        "Các sở, ngành liên quan",
    )
    return DocumentSpec(
        issuer,
        data.today,
        "Báo cáo",
        f"Kết quả thực hiện {programme.title}, {label}",
        tuple(blocks),
        (*recipients, f"Lưu: VT, {issuer.abbreviation or 'TH'}"),
        "PHỤ LỤC: TIẾN ĐỘ THỰC HIỆN TỪNG NỘI DUNG",
        (_appendix(data),),
    )


def period_label(period: Period, programme_title: str = "") -> str:
    """ "Chương trình … quý IV năm 2019" as the report's title names its subject."""
    if period.months == 1:
        when = f"tháng {period.index:02d} năm {period.year}"
    elif period.months == 3:
        when = f"quý {('I', 'II', 'III', 'IV')[period.index - 1]} năm {period.year}"
    elif period.months == 6:
        when = f"6 tháng {'đầu' if period.index == 1 else 'cuối'} năm {period.year}"
    else:
        when = f"năm {period.year}"
    return f"{programme_title} {when}".strip()


def _source(programme: Programme) -> str:
    title = programme.title[:1].lower() + programme.title[1:]
    if programme.notice_date is not None:
        return f"Thông báo kết luận ngày {programme.notice_date:%d/%m/%Y} về {title}"
    return title


def _overall(data: _Data) -> list[Block]:
    overall = data.summary.overall
    count = overall.count or 1
    categories = overall.categories
    blocked = sum(1 for s in data.states if s.status == "blocked")
    not_started = sum(1 for s in data.states if s.status == "not_started")
    agencies = len({s.agency_id for s in data.states})
    done = categories[Category.DONE_ON_TIME] + categories[Category.DONE_LATE]
    going = categories[Category.IN_PROGRESS_ON_TIME] + categories[Category.IN_PROGRESS_OVERDUE]
    text = (
        f"Chương trình có {overall.count} nhiệm vụ giao cho {agencies} cơ quan của hai địa "
        f"phương. Đến ngày {data.today:%d/%m/%Y}: hoàn thành {done} nhiệm vụ "
        f"({categories[Category.DONE_ON_TIME]} đúng hạn, {categories[Category.DONE_LATE]} quá "
        f"hạn); đang thực hiện {going} nhiệm vụ ({categories[Category.IN_PROGRESS_ON_TIME]} "
        f"trong hạn, {categories[Category.IN_PROGRESS_OVERDUE]} quá hạn), trong đó {not_started}"
        f" nhiệm vụ chưa triển khai và {blocked} nhiệm vụ vướng mắc; "
        f"{categories[Category.NOT_REPORTED]} nhiệm vụ chưa có báo cáo. Tiến độ bình quân "
        f"{overall.avg_percent:.0f}%; {overall.open_reported}/{overall.open} nhiệm vụ chưa hoàn "
        f"thành đã báo cáo trong kỳ (tỷ lệ {overall.response_rate:.0%})."
    )
    rows = [
        (str(n), CATEGORY[c], str(categories[c]), f"{categories[c] / count:.0%}")
        for n, c in enumerate(Category, 1)
    ]
    rows += [
        ("", "Trong đó: chưa triển khai", str(not_started), f"{not_started / count:.0%}"),
        ("", "Trong đó: vướng mắc", str(blocked), f"{blocked / count:.0%}"),
        ("", "Tổng số", str(overall.count), "100%"),
    ]
    return [
        Paragraph(text),
        TableBlock(("TT", "Phân loại", "Số nhiệm vụ", "Tỷ lệ"), tuple(rows), (12, 95, 30, 28)),
    ]


def _by_field(data: _Data) -> list[Block]:
    blocks: list[Block] = []
    by_field: dict[str, list[AssignmentState]] = defaultdict(list)
    for state in data.states:
        by_field[state.field_code].append(state)
    for field in sorted(by_field, key=natural_key):
        by_item: dict[str, list[AssignmentState]] = defaultdict(list)
        for state in by_field[field]:
            by_item[state.item_code].append(state)
        if set(by_item) != {field}:  # a point with sub-points: its name heads them
            blocks.append(Heading(f"{field}. {data.titles.get(field, '').rstrip('…')}", 3))
        for code, states in by_item.items():
            blocks.append(Paragraph(data.texts.get(code, ""), bold_lead=f"{code}. "))
            for state in sorted(states, key=lambda s: (s.role != "lead", s.locality_code)):
                blocks.append(Bullet(_state_line(state, data.tz)))
    return blocks


def _state_line(state: AssignmentState, tz: tzinfo) -> str:
    role = ROLE.get(state.role, state.role)
    if state.status is None:
        return f"{state.agency_name} ({role}): chưa báo cáo."
    line = f"{state.agency_name} ({role}): {STATUS[state.status]}, {state.percent or 0}%"
    if state.note:
        line += f" — {state.note.strip().rstrip('.')}"
    if state.reported_at is not None:
        line += f" (báo cáo ngày {state.reported_at.astimezone(tz):%d/%m/%Y})"
    return line + "."


def _changes(data: _Data) -> list[Block]:
    period = data.period
    completed = [
        s
        for s in data.states
        if s.done and s.completed_on is not None and period.start <= s.completed_on <= period.due
    ]
    late = [
        s
        for s in data.states
        if not s.done and s.due_date is not None and period.start <= s.due_date < data.today
    ]
    blocked = [
        s
        for s in data.states
        if s.status == "blocked"
        and s.reported_at is not None
        and s.reported_at.astimezone(data.tz).date() >= period.window_start
    ]
    blocks: list[Block] = []
    for title, states in (
        ("Hoàn thành trong kỳ", completed),
        ("Trở thành quá hạn trong kỳ", late),
        ("Phát sinh vướng mắc trong kỳ", blocked),
    ):
        names = "; ".join(f"{s.item_code} ({s.agency_code})" for s in states)
        blocks.append(
            Bullet(f"{title}: {len(states)} nhiệm vụ" + (f" — {names}." if names else "."))
        )
    return blocks


def _late_and_blocked(data: _Data) -> list[Block]:
    states = [s for s in data.states if s.overdue or s.status == "blocked"]
    if not states:
        return [Paragraph("Không có nhiệm vụ quá hạn hoặc vướng mắc.")]
    rows = []
    for state in sorted(states, key=lambda s: (s.due_date or date.max, natural_key(s.item_code))):
        late = (
            str(data.calendar.working_days_between(state.due_date, data.today))
            if state.overdue and state.due_date is not None
            else ""
        )
        due = f"{state.due_date:%d/%m/%Y}" if state.due_date else ""
        rows.append(
            (
                state.item_code,
                state.agency_name,
                due,
                late,
                STATUS[state.status],
                state.note or "—",
            )
        )
    return [
        Paragraph(
            f"Có {sum(1 for s in states if s.overdue)} nhiệm vụ quá hạn và "
            f"{sum(1 for s in states if s.status == 'blocked')} nhiệm vụ vướng mắc; số ngày quá "
            "hạn tính theo ngày làm việc:"
        ),
        TableBlock(
            ("Mã", "Cơ quan", "Hạn", "Quá hạn (ngày làm việc)", "Tình trạng", "Lý do, ghi chú"),
            tuple(rows),
            (12, 36, 24, 18, 22, 53),
            11,
        ),
    ]


def _directives(data: _Data) -> list[Block]:
    if not data.directives:
        return [Paragraph("Trong kỳ không có chỉ đạo mới.")]
    blocks: list[Block] = []
    for d in sorted(data.directives, key=lambda d: d.created_at):
        due = f" (hạn {d.due_on:%d/%m/%Y})" if d.due_on else ""
        blocks.append(
            Paragraph(
                f"Ngày {d.created_at.astimezone(data.tz):%d/%m/%Y}, đồng chí {d.vice_chair} chỉ "
                f"đạo về nội dung {d.item_code}: “{d.text}”{due}."
            )
        )
        for r in d.recipients:
            if r.answered_at is not None:
                when = r.answered_at.astimezone(data.tz)
                blocks.append(Bullet(f"{r.agency_name}: đã báo cáo ngày {when:%d/%m/%Y}."))
            elif not r.reached:
                blocks.append(Bullet(f"{r.agency_name}: chưa nhận được chỉ đạo (chưa liên kết)."))
            else:
                blocks.append(Bullet(f"{r.agency_name}: chưa báo cáo."))
    return blocks


def _cycles(data: _Data) -> list[Period]:
    """The programme's reporting cycles that end inside the report's period."""
    first = current_period(data.programme, data.period.start, data.period.due_day)
    cycles: list[Period] = []
    cycle = first
    while cycle.due <= data.period.due and len(cycles) < 12:
        if cycle.due >= data.period.start:
            cycles.append(cycle)
        cycle = cycle.next()
    return cycles or [data.period]


def _follow_up(data: _Data) -> list[Block]:
    counts = ", ".join(f"{n} {FOLLOW_UP[k]}" for k, n in sorted(data.follow_up.items()) if n)
    blocks: list[Block] = [
        Paragraph(
            "Trong kỳ, hệ thống đã gửi "
            + (counts or "không có tin nhắc việc nào")
            + " qua Telegram và Zalo; tin nhắc chỉ gửi trong ngày làm việc."
        )
    ]
    cycles = _cycles(data)
    agencies: dict[str, list[AssignmentState]] = defaultdict(list)
    for state in data.states:
        agencies[state.agency_name].append(state)
    rows = []
    for name in sorted(agencies):
        cells = [name]
        for cycle in cycles:
            open_ = [
                s
                for s in agencies[name]
                if not (s.done and s.completed_on and s.completed_on < cycle.window_start)
            ]
            answered = [
                s
                for s in open_
                if any(
                    cycle.window_start <= d <= cycle.due
                    for d in data.reported.get(s.assignment_id, ())
                )
            ]
            cells.append(f"{len(answered)}/{len(open_)}" if open_ else "—")
        rows.append(tuple(cells))
    heads = tuple(_short_name(c) for c in cycles)
    width = max(15.0, 95.0 / max(1, len(cycles)))
    blocks.append(
        Paragraph("Số nhiệm vụ đã báo cáo / phải báo cáo của từng cơ quan theo từng kỳ báo cáo:")
    )
    blocks.append(TableBlock(("Cơ quan", *heads), tuple(rows), (70, *([width] * len(cycles))), 11))
    return blocks


def _short_name(period: Period) -> str:
    """A period in a table's heading: T12/2019, Q4/2019, 6T1/2020, 2019."""
    if period.months == 1:
        return f"T{period.index}/{period.year}"
    if period.months == 3:
        return f"Q{period.index}/{period.year}"
    if period.months == 6:
        return f"6T{period.index}/{period.year}"
    return str(period.year)


def _proposals(data: _Data) -> list[Block]:
    blocked = [s for s in data.states if s.status == "blocked" and s.note]
    blocks: list[Block] = [
        Paragraph("Tổng hợp kiến nghị của các cơ quan tại các nhiệm vụ vướng mắc:")
        if blocked
        else Paragraph("Các cơ quan không có kiến nghị trong kỳ.")
    ]
    for state in blocked:
        blocks.append(Bullet(f"{state.agency_name} ({state.item_code}): {state.note.strip()}"))
    blocks.append(
        Paragraph(
            "Đề nghị các sở, ngành được giao chủ trì tập trung triển khai các nhiệm vụ quá hạn, "
            "báo cáo đầy đủ, đúng hạn theo kỳ; cơ quan thường trực tiếp tục theo dõi, đôn đốc và "
            "báo cáo lãnh đạo UBND cho ý kiến đối với các vướng mắc vượt thẩm quyền."
        )
    )
    return blocks


def _appendix(data: _Data) -> TableBlock:
    rows = []
    for state in data.states:
        rows.append(
            (
                state.item_code,
                data.titles.get(state.item_code, state.item_title),
                state.agency_name,
                ROLE.get(state.role, state.role),
                f"{state.due_date:%d/%m/%Y}" if state.due_date else "",
                STATUS[state.status],
                f"{state.percent}%" if state.percent is not None else "",
                CATEGORY[state.category],
            )
        )
    return TableBlock(
        ("Mã", "Nội dung", "Cơ quan", "Vai trò", "Hạn", "Tình trạng", "Tiến độ", "Phân loại"),
        tuple(rows),
        (14, 70, 62, 18, 22, 24, 16, 26),
        10,
    )


def summary_figures(result: Summary) -> dict[str, object]:
    """The figures the report states, in `tiendo summary --json`'s words (for checks)."""
    return result.overall.as_dict()


__all__: Sequence[str] = (
    "ReportRefused",
    "ReportRequest",
    "Written",
    "period_label",
    "summary_figures",
    "write_report",
)
