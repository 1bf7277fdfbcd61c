"""The workbook's record sheets: directives and their follow-up, every report with its
reviews (returned and superseded ones marked), and the evidence files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from handlers.documents.cells import MUTED, Column, local, write_table
from handlers.documents.records import (
    DirectiveRecord,
    ReportRecord,
    directives,
    evidence_files,
    report_history,
)
from handlers.texts import N_, Texts

DIRECTIVES_SHEET = N_("Chỉ đạo")
HISTORY_SHEET = N_("Lịch sử báo cáo")
EVIDENCE_SHEET = N_("Minh chứng")
PROGRAMME = (N_("Chương trình"), 12)
DIRECTIVE_HEADERS: tuple[tuple[str, int], ...] = (
    (N_("Mã nội dung"), 10),
    (N_("Nội dung"), 40),
    (N_("Ngày chỉ đạo"), 15),
    (N_("Phó Chủ tịch UBND"), 20),
    (N_("Nội dung chỉ đạo"), 50),
    (N_("Hạn"), 11),
    (N_("Cơ quan nhận"), 34),
    (N_("Trả lời"), 42),
    (N_("Tình trạng"), 22),
)
HISTORY_HEADERS: tuple[tuple[str, int], ...] = (
    (N_("Số báo cáo"), 9),
    (N_("Mã nội dung"), 10),
    (N_("Cơ quan"), 30),
    (N_("Người báo cáo"), 20),
    (N_("Thời gian"), 16),
    (N_("Trạng thái"), 15),
    (N_("Tiến độ (%)"), 9),
    (N_("Ghi chú"), 48),
    (N_("Minh chứng (tệp)"), 11),
    (N_("Xét duyệt"), 40),
    (N_("Tình trạng báo cáo"), 24),
)
EVIDENCE_HEADERS: tuple[tuple[str, int], ...] = (
    (N_("Mã nội dung"), 10),
    (N_("Cơ quan"), 14),
    (N_("Số báo cáo"), 9),
    (N_("Ngày gửi"), 16),
    (N_("Tên tệp"), 40),
    (N_("Loại tệp"), 18),
    (N_("Dung lượng (KB)"), 11),
    (N_("Đường dẫn"), 60),
)
WRAPPED = {
    N_("Nội dung"),
    N_("Nội dung chỉ đạo"),
    N_("Cơ quan nhận"),
    N_("Trả lời"),
    N_("Cơ quan"),
    N_("Ghi chú"),
    N_("Xét duyệt"),
    N_("Tình trạng"),
    N_("Tình trạng báo cáo"),
    N_("Tên tệp"),
    N_("Phó Chủ tịch UBND"),
    N_("Người báo cáo"),
    N_("Đường dẫn"),
}


def _columns(tx: Texts, headers: Sequence[tuple[str, int]], mixed: bool) -> list[Column]:
    chosen = ([PROGRAMME] if mixed else []) + list(headers)
    return [Column(tx._(h), width, wrap=h in WRAPPED) for h, width in chosen]


# ---------------------------------------------------------------------------- directives


def write_directives(
    sheet: Worksheet,
    session: Session,
    programme_ids: Sequence[int],
    today: date,
    tz: tzinfo,
    tx: Texts,
    subtitle: str,
    mixed: bool,
) -> None:
    """One row per directive: what, when, by whom, to whom, and who answered when."""
    records = directives(session, programme_ids)
    answered = sum(1 for d in records if d.closed_at is not None)
    write_table(
        sheet,
        tx._("CHỈ ĐẠO CỦA LÃNH ĐẠO UBND VÀ KẾT QUẢ THỰC HIỆN — NGÀY {day}", day=tx.date(today)),
        tx._(
            "Tổng số: {count} chỉ đạo; đã trả lời đủ: {answered}; còn chờ: {open}",
            count=len(records),
            answered=answered,
            open=len(records) - answered,
        )
        + ". "
        + subtitle,
        _columns(tx, DIRECTIVE_HEADERS, mixed),
        (
            ([d.programme_label] if mixed else []) + _directive_row(d, today, tz, tx)
            for d in records
        ),
    )


def _directive_row(d: DirectiveRecord, today: date, tz: tzinfo, tx: Texts) -> list[object]:
    roles = {
        "lead": tx._("chủ trì"),
        "support": tx._("phối hợp"),
        "counterpart": tx._("địa phương bạn"),
    }
    sent = "\n".join(
        f"{r.agency_name} ({roles.get(r.role, r.role)})"
        + ("" if r.reached else " — " + tx._("chưa liên lạc được"))
        for r in d.recipients
    )
    answers = "\n".join(
        f"{r.agency_code}: "
        + (
            tx._(
                "{who}, {when} (báo cáo số {report})",
                who=r.answered_by or "—",
                when=tx.moment(r.answered_at),
                report=r.answer_report_id or "—",
            )
            if r.answered_at is not None
            else tx._("chưa trả lời")
        )
        for r in d.recipients
    )
    if not d.recipients:  # given before directives recorded where they went
        standing = tx._("Không rõ cơ quan nhận")
    elif d.closed_at is not None:
        standing = tx._("Đã trả lời đủ ngày {day}", day=tx.date(d.closed_at.astimezone(tz).date()))
    else:
        waiting = sum(1 for r in d.recipients if r.answered_at is None)
        standing = tx._(
            "Đang chờ {waiting}/{count} cơ quan trả lời", waiting=waiting, count=len(d.recipients)
        )
        if d.due_on is not None and d.due_on < today:
            standing += "; " + tx._("quá hạn")
    return [
        d.item_code,
        d.item_text,
        local(d.created_at, tz),
        d.vice_chair,
        d.text,
        d.due_on,
        sent or "—",
        answers or "—",
        standing,
    ]


# ---------------------------------------------------------------------- report history


def write_history(
    sheet: Worksheet,
    session: Session,
    programme_ids: Sequence[int],
    tz: tzinfo,
    tx: Texts,
    subtitle: str,
    mixed: bool,
) -> None:
    """Every report as filed, with the office's reviews; those no longer current in grey."""
    records = report_history(session, programme_ids)
    header = write_table(
        sheet,
        tx._("LỊCH SỬ BÁO CÁO TIẾN ĐỘ"),
        tx._("Tổng số: {count} báo cáo", count=len(records)) + ". " + subtitle,
        _columns(tx, HISTORY_HEADERS, mixed),
        (([r.programme_label] if mixed else []) + _report_row(r, tz, tx) for r in records),
    )
    width = len(HISTORY_HEADERS) + mixed
    for offset, record in enumerate(records, 1):
        if record.returned or not record.current:
            for column in range(1, width + 1):
                sheet.cell(row=header + offset, column=column).font = MUTED


def _report_row(r: ReportRecord, tz: tzinfo, tx: Texts) -> list[object]:
    reviews = "\n".join(
        (
            tx._("{office} xác nhận, {day}", office=v.office, day=tx.date(local_day(v.at, tz)))
            if v.decision == "confirmed"
            else tx._(
                "{office} đề nghị bổ sung, hoàn thiện, {day}: {reason}",
                office=v.office,
                day=tx.date(local_day(v.at, tz)),
                reason=v.reason,
            )
        )
        for v in r.reviews
    )
    if r.returned:
        standing = tx._("Đề nghị bổ sung, hoàn thiện")
    elif r.corrected_by is not None:
        standing = tx._("Đã sửa bằng báo cáo số {report}", report=r.corrected_by)
    elif not r.current:
        standing = tx._("Đã có báo cáo mới hơn")
    else:
        standing = tx._("Hiện hành")
    if r.corrects_id is not None:
        standing += "\n" + tx._("(sửa báo cáo số {report})", report=r.corrects_id)
    return [
        r.id,
        r.item_code,
        r.agency_name,
        r.reporter or "—",
        local(r.created_at, tz),
        tx.status(r.status),
        r.percent,
        r.note or None,
        r.evidence or None,
        reviews or None,
        standing,
    ]


def local_day(moment: datetime, tz: tzinfo) -> date:
    """The day a stored moment falls on, on the office's clock."""
    return moment.astimezone(tz).date()


# ----------------------------------------------------------------------------- evidence


def write_evidence(
    sheet: Worksheet,
    session: Session,
    programme_ids: Sequence[int],
    tz: tzinfo,
    tx: Texts,
    subtitle: str,
    mixed: bool,
) -> None:
    """Every evidence file: which report of which agency sent it, its size and where it lies."""
    records = evidence_files(session, programme_ids)
    write_table(
        sheet,
        tx._("DANH MỤC TỆP MINH CHỨNG"),
        tx._("Tổng số: {count} tệp", count=len(records)) + ". " + subtitle,
        _columns(tx, EVIDENCE_HEADERS, mixed),
        (
            ([e.programme_label] if mixed else [])
            + [
                e.item_code,
                e.agency_code,
                e.report_id,
                local(e.created_at, tz),
                e.file_name,
                e.mime_type,
                round(e.size / 1024, 1),
                e.path,
            ]
            for e in records
        ),
    )
