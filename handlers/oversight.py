"""Coordinator and Vice-Chair commands: summary, overdue, missing, export, review.

Each view covers the programmes the member oversees (those their agency coordinates, or has
leadership in), one section each, or the one typed after the command (`/tonghop HB`).
"""

from __future__ import annotations

from collections.abc import Callable

from handlers import programmes
from handlers.access import refuse
from handlers.core import (
    OVERSIGHT_ROLES,
    REVIEW_ROLES,
    ReviewReport,
    SendExport,
    State,
    StepContext,
    Transition,
    global_menu,
)
from handlers.events import Reply
from handlers.report import state_line
from handlers.texts import Texts
from storage.aggregate.states import AssignmentState
from storage.aggregate.summary import Summary
from storage.chat_reader import ProgrammeView, ReportView
from storage.textfit import short_text

MAX_LISTED = 25


def chosen(ctx: StepContext, args: str) -> list[ProgrammeView] | Transition:
    """The programmes a view covers: the one typed (`HB`), else every one the member
    oversees; or the answer saying why there is none to show."""
    assert ctx.member is not None
    tx = ctx.tx
    overseen = programmes.overseen(ctx)
    words = args.split()
    if words:
        wanted = programmes.named(ctx, words[0])
        if wanted is None:
            return ctx.stay(
                Reply(
                    tx._(
                        "Không có chương trình “{typed}”. Các chương trình: {labels}.",
                        typed=short_text(words[0], 20),
                        labels=", ".join(p.label for p in ctx.reader.programmes()),
                    )
                )
            )
        if all(p.id != wanted.id for p in overseen):
            return ctx.stay(Reply(_outside(tx, ctx.member.agency_name, wanted, overseen)))
        return [wanted]
    if not overseen:
        return ctx.stay(Reply(_oversees_none(tx, ctx.member.role, ctx.member.agency_name)))
    return overseen


def _outside(tx: Texts, agency: str, wanted: ProgrammeView, overseen: list[ProgrammeView]) -> str:
    if not overseen:
        return tx._(
            "Chương trình {programme} không thuộc phạm vi theo dõi của {agency}.",
            programme=wanted.label,
            agency=agency,
        )
    return tx._(
        "Chương trình {programme} không thuộc phạm vi theo dõi của {agency}; anh/chị xem "
        "được: {labels}.",
        programme=wanted.label,
        agency=agency,
        labels=", ".join(p.label for p in overseen),
    )


def _oversees_none(tx: Texts, role: str, agency: str) -> str:
    if role == "vice_chair":
        return tx._(
            "{agency} hiện không được giao chỉ đạo chương trình nào, nên chưa có số liệu để "
            "xem. Vui lòng liên hệ cơ quan đầu mối.",
            agency=agency,
        )
    return tx._(
        "{agency} hiện không là cơ quan đầu mối của chương trình nào, nên chưa có số liệu để "
        "xem. Vui lòng liên hệ quản trị hệ thống.",
        agency=agency,
    )


def _per_programme(
    ctx: StepContext, args: str, write: Callable[[Summary, bool], Reply]
) -> Transition:
    """One reply per programme the view covers, each from that programme's summary."""
    if (no := refuse(ctx, OVERSIGHT_ROLES)) is not None:
        return no
    covered = chosen(ctx, args)
    if isinstance(covered, Transition):
        return covered
    titled = programmes.several(ctx)
    return ctx.stay(*(write(ctx.reader.summary(p.code), titled) for p in covered))


def _title(tx: Texts, data: Summary) -> str:
    return programmes.heading(data.programme_label, data.programme_title)


def summary(ctx: StepContext, args: str = "") -> Transition:
    return _per_programme(ctx, args, lambda data, titled: Reply(summary_text(ctx.tx, data, titled)))


def summary_text(tx: Texts, data: Summary, titled: bool = False) -> str:
    """The consolidated table as chat text: overall, per field, per locality, rates
    (`titled`: naming its programme, for someone who follows several)."""
    overall = data.overall
    lines = [tx._("TỔNG HỢP TIẾN ĐỘ đến {day}", day=tx.date(data.today))]
    if titled:
        lines.append(_title(tx, data))
    lines.append(
        tx._(
            "{count} nhiệm vụ · tiến độ bình quân {avg}% · hoàn thành {done}",
            count=overall.count,
            avg=f"{overall.avg_percent:.0f}",
            done=f"{overall.done_share:.0%}",
        )
    )
    for category, count in overall.categories.items():
        if count:
            lines.append(f"  {tx.category(category)}: {count}")
    for title, groups in (
        (tx._("Theo lĩnh vực:"), data.by_field),
        (tx._("Theo địa phương:"), data.by_locality),
    ):
        lines += ["", title]
        for group in groups:
            tally = group.tally
            lines.append(
                f"  {group.code} {short_text(group.name, 40)}: {tally.avg_percent:.0f}% "
                + tx._("({done}/{count} xong)", done=tally.done, count=tally.count)
            )
    lines += [
        "",
        tx._(
            "Quá hạn: {overdue} · Vướng mắc: {blocked} · Chưa báo cáo kỳ này: {missing}",
            overdue=len(data.overdue),
            blocked=len(data.blocked),
            missing=len(data.not_reported),
        ),
        tx._(
            "Tỷ lệ báo cáo kỳ {period} (hạn {due}): {rate}",
            period=tx.period(data.period),
            due=tx.date(data.period.due),
            rate=f"{data.response_rate:.0%}",
        ),
    ]
    return "\n".join(lines)


def _listing(tx: Texts, states: list[AssignmentState]) -> list[str]:
    lines = [
        f"• {s.agency_code}: {state_line(tx, s)}"
        + (f" — {short_text(s.note, 120)}" if s.status == "blocked" and s.note else "")
        for s in states[:MAX_LISTED]
    ]
    if len(states) > MAX_LISTED:
        lines.append(
            tx._("… và {more} nhiệm vụ khác (xem tệp /xuat).", more=len(states) - MAX_LISTED)
        )
    return lines


def overdue(ctx: StepContext, args: str = "") -> Transition:
    return _per_programme(ctx, args, lambda data, titled: _overdue(ctx.tx, data, titled))


def _overdue(tx: Texts, data: Summary, titled: bool) -> Reply:
    lines = [_title(tx, data)] if titled else []
    if not data.overdue and not data.blocked:
        lines.append(tx._("Không có nhiệm vụ quá hạn hay vướng mắc."))
        return Reply("\n".join(lines))
    lines += [tx._("QUÁ HẠN ({count}):", count=len(data.overdue))] + _listing(tx, data.overdue)
    lines += ["", tx._("VƯỚNG MẮC, CẦN QUYẾT ĐỊNH ({count}):", count=len(data.blocked))]
    lines += _listing(tx, data.blocked)
    shown = {s.item_code: s.programme_id for s in [*data.overdue, *data.blocked]}
    label = data.programme_label if titled else None
    rows = [
        [(tx._("Xem {code}", code=programmes.coded(label, code)), f"o:{shown[code]}:{code}")]
        for code in sorted(shown)[:8]
    ]
    return Reply("\n".join(lines), global_menu(rows))


def missing(ctx: StepContext, args: str = "") -> Transition:
    return _per_programme(ctx, args, lambda data, titled: _missing(ctx.tx, data, titled))


def _missing(tx: Texts, data: Summary, titled: bool) -> Reply:
    lines = [_title(tx, data)] if titled else []
    by_agency: dict[str, list[AssignmentState]] = {}
    for state in data.not_reported:
        by_agency.setdefault(f"{state.agency_code} · {state.agency_name}", []).append(state)
    if not by_agency:
        lines.append(tx._("Tất cả cơ quan đã báo cáo kỳ {period}.", period=tx.period(data.period)))
        return Reply("\n".join(lines))
    lines.append(
        tx._(
            "CHƯA BÁO CÁO kỳ {period}, hạn {due} ({count} cơ quan):",
            period=tx.period(data.period),
            due=tx.date(data.period.due),
            count=len(by_agency),
        )
    )
    for agency, states in sorted(by_agency.items()):
        codes = ", ".join(s.item_code for s in states[:12])
        lines.append(f"• {agency}: {codes}" + (" …" if len(states) > 12 else ""))
    return Reply("\n".join(lines))


def export(ctx: StepContext, args: str = "") -> Transition:
    """Send the Excel workbook of each programme the view covers."""
    if (no := refuse(ctx, OVERSIGHT_ROLES)) is not None:
        return no
    covered = chosen(ctx, args)
    if isinstance(covered, Transition):
        return covered
    return ctx.stay(effects=[SendExport(tuple(p.code for p in covered))])


# Reviews: a coordinating office confirms or returns the reports of its own locality's
# agencies, in the programmes it coordinates (a Hà Nội office never a Hưng Yên report).


def _review_scope(ctx: StepContext) -> tuple[list[int], str | None]:
    """The programmes and the locality (None: every one) whose reports the member reviews."""
    assert ctx.member is not None
    ids = [p.id for p in programmes.overseen(ctx)]
    return ids, None if ctx.member.role == "admin" else ctx.member.locality_code


def review_list(ctx: StepContext, args: str = "") -> Transition:
    """Show recent reports the member may review, each with a button to confirm or return it."""
    if (no := refuse(ctx, REVIEW_ROLES)) is not None:
        return no
    assert ctx.member is not None
    tx = ctx.tx
    ids, locality = _review_scope(ctx)
    if not ids:
        return ctx.stay(Reply(_oversees_none(tx, ctx.member.role, ctx.member.agency_name)))
    reports = list(ctx.reader.recent_reports(8, ids, locality))
    if not reports:
        return ctx.stay(Reply(tx._("Không có báo cáo mới nào chờ xem xét.")))
    titled = programmes.several(ctx)
    lines = [tx._("Báo cáo mới chờ xem xét:")]
    rows = []
    for r in reports:
        code = programmes.coded(r.programme_label if titled else None, r.item_code)
        lines.append(
            f"#{r.id} {tx.moment(r.created_at)} {r.agency_code} {code}: "
            f"{tx.status(r.status)} {r.percent}%"
            + (f" — {short_text(r.note, 80)}" if r.note else "")
        )
        rows.append([(f"#{r.id} {code} {r.agency_code}", f"v:{r.id}")])
    return ctx.stay(Reply("\n".join(lines), global_menu(rows)))


def _reviewable(ctx: StepContext, report_id: int) -> ReportView | Transition:
    """The report, if it exists and the member may review it; else the answer saying why."""
    if (no := refuse(ctx, REVIEW_ROLES)) is not None:
        return no
    assert ctx.member is not None
    tx = ctx.tx
    report = ctx.reader.report(report_id)
    if report is None:
        return ctx.stay(Reply(tx._("Không tìm thấy báo cáo #{id}.", id=report_id)))
    ids, locality = _review_scope(ctx)
    if report.programme_id not in ids or locality not in (None, report.locality_code):
        return ctx.stay(
            Reply(
                tx._(
                    "Báo cáo #{id} của {agency} không thuộc phạm vi xem xét của {office}: "
                    "mỗi cơ quan đầu mối xác nhận báo cáo của các cơ quan cùng địa phương, "
                    "trong chương trình mình làm đầu mối.",
                    id=report.id,
                    agency=report.agency_name,
                    office=ctx.member.agency_name,
                )
            )
        )
    return report


def review_one(ctx: StepContext, report_id: int) -> Transition:
    tx = ctx.tx
    report = _reviewable(ctx, report_id)
    if isinstance(report, Transition):
        return report
    code = programmes.coded(
        report.programme_label if programmes.several(ctx) else None, report.item_code
    )
    text = "\n".join(
        [
            tx._(
                "Báo cáo #{id} của {agency} ({reporter}), {when}:",
                id=report.id,
                agency=report.agency_name,
                reporter=report.reporter_name or "—",
                when=tx.moment(report.created_at),
            ),
            f"{code} · {short_text(report.item_title, 80)}",
            f"{tx.status(report.status)} {report.percent}% — {report.note or '—'}",
        ]
    )
    rows = [
        [(tx._("✅ Xác nhận"), f"v:{report.id}:ok"), (tx._("↩️ Trả lại"), f"v:{report.id}:back")]
    ]
    return ctx.ask(ctx.conv.state, dict(ctx.conv.draft), text, rows)


def review_decide(ctx: StepContext, report_id: int, decision: str) -> Transition:
    tx = ctx.tx
    report = _reviewable(ctx, report_id)
    if isinstance(report, Transition):
        return report
    if decision == "ok":
        return ctx.idle(
            Reply(tx._("Đã xác nhận báo cáo #{id}; người báo cáo sẽ được báo.", id=report_id)),
            effects=[ReviewReport(report_id, "confirmed")],
        )
    transition = ctx.go(State.REVIEW_REASON, {"report_id": report_id})
    transition.replies.append(
        Reply(
            tx._(
                "Lý do trả lại báo cáo #{id}? (người báo cáo sẽ nhận được lý do này)", id=report_id
            )
        )
    )
    return transition


def return_reason(ctx: StepContext, text: str) -> Transition:
    tx = ctx.tx
    report_id = int(ctx.conv.draft["report_id"])
    reason = text.strip()
    if len(reason) < 3:
        return ctx.stay(Reply(tx._("Vui lòng ghi rõ lý do trả lại (ít nhất vài chữ).")))
    return ctx.idle(
        Reply(tx._("Đã trả lại báo cáo #{id}; người báo cáo sẽ được báo kèm lý do.", id=report_id)),
        effects=[ReviewReport(report_id, "returned", short_text(reason, 1000, one_line=False))],
    )
