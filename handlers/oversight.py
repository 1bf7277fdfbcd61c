"""Coordinator and Vice-Chair commands: summary, overdue, missing, export, review."""

from __future__ import annotations

from typing import Any

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
from storage.textfit import short_text

MAX_LISTED = 25


def refuse(ctx: StepContext, roles: set[str]) -> Transition | None:
    """Say no politely when the member's role may not use this command."""
    assert ctx.member is not None
    if ctx.member.role in roles:
        return None
    return ctx.stay(
        Reply(
            ctx.tx._(
                "Lệnh này dành cho cơ quan đầu mối và lãnh đạo UBND; tài khoản của anh/chị "
                "({role}) không dùng được. Gõ /trogiup để xem các lệnh của mình.",
                role=ctx.tx.role(ctx.member.role),
            )
        )
    )


def summary(ctx: StepContext, args: str = "") -> Transition:
    if (no := refuse(ctx, OVERSIGHT_ROLES)) is not None:
        return no
    return ctx.stay(Reply(summary_text(ctx.tx, ctx.reader.summary())))


def summary_text(tx: Any, data: Any) -> str:
    """The consolidated table as chat text: overall, per field, per locality, rates."""
    overall = data.overall
    lines = [
        tx._("TỔNG HỢP TIẾN ĐỘ đến {day}", day=tx.date(data.today)),
        tx._(
            "{count} nhiệm vụ · tiến độ bình quân {avg}% · hoàn thành {done}",
            count=overall.count,
            avg=f"{overall.avg_percent:.0f}",
            done=f"{overall.done_share:.0%}",
        ),
    ]
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


def _listing(tx: Any, states: list[Any]) -> list[str]:
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
    if (no := refuse(ctx, OVERSIGHT_ROLES)) is not None:
        return no
    tx = ctx.tx
    data = ctx.reader.summary()
    lines = [tx._("QUÁ HẠN ({count}):", count=len(data.overdue))] + _listing(tx, data.overdue)
    lines += ["", tx._("VƯỚNG MẮC, CẦN QUYẾT ĐỊNH ({count}):", count=len(data.blocked))]
    lines += _listing(tx, data.blocked)
    if not data.overdue and not data.blocked:
        lines = [tx._("Không có nhiệm vụ quá hạn hay vướng mắc.")]
    codes = sorted({s.item_code for s in [*data.overdue, *data.blocked]})[:8]
    rows = [[(tx._("Xem {code}", code=c), f"o:{c}")] for c in codes]
    return ctx.stay(Reply("\n".join(lines), global_menu(rows)))


def missing(ctx: StepContext, args: str = "") -> Transition:
    if (no := refuse(ctx, OVERSIGHT_ROLES)) is not None:
        return no
    tx = ctx.tx
    data = ctx.reader.summary()
    by_agency: dict[str, list[Any]] = {}
    for state in data.not_reported:
        by_agency.setdefault(f"{state.agency_code} · {state.agency_name}", []).append(state)
    if not by_agency:
        return ctx.stay(
            Reply(tx._("Tất cả cơ quan đã báo cáo kỳ {period}.", period=tx.period(data.period)))
        )
    lines = [
        tx._(
            "CHƯA BÁO CÁO kỳ {period}, hạn {due} ({count} cơ quan):",
            period=tx.period(data.period),
            due=tx.date(data.period.due),
            count=len(by_agency),
        )
    ]
    for agency, states in sorted(by_agency.items()):
        codes = ", ".join(s.item_code for s in states[:12])
        lines.append(f"• {agency}: {codes}" + (" …" if len(states) > 12 else ""))
    return ctx.stay(Reply("\n".join(lines)))


def export(ctx: StepContext, args: str = "") -> Transition:
    if (no := refuse(ctx, OVERSIGHT_ROLES)) is not None:
        return no
    return ctx.stay(effects=[SendExport()])


def review_list(ctx: StepContext, args: str = "") -> Transition:
    """Show recent reports, each with a button to confirm or return it."""
    if (no := refuse(ctx, REVIEW_ROLES)) is not None:
        return no
    tx = ctx.tx
    reports = list(ctx.reader.recent_reports(8))
    if not reports:
        return ctx.stay(Reply(tx._("Không có báo cáo mới nào chờ xem xét.")))
    lines = [tx._("Báo cáo mới chờ xem xét:")]
    rows = []
    for r in reports:
        lines.append(
            f"#{r.id} {tx.moment(r.created_at)} {r.agency_code} {r.item_code}: "
            f"{tx.status(r.status)} {r.percent}%"
            + (f" — {short_text(r.note, 80)}" if r.note else "")
        )
        rows.append([(f"#{r.id} {r.item_code} {r.agency_code}", f"v:{r.id}")])
    return ctx.stay(Reply("\n".join(lines), global_menu(rows)))


def review_one(ctx: StepContext, report_id: int) -> Transition:
    if (no := refuse(ctx, REVIEW_ROLES)) is not None:
        return no
    tx = ctx.tx
    report = ctx.reader.report(report_id)
    if report is None:
        return ctx.stay(Reply(tx._("Không tìm thấy báo cáo #{id}.", id=report_id)))
    text = "\n".join(
        [
            tx._(
                "Báo cáo #{id} của {agency} ({reporter}), {when}:",
                id=report.id,
                agency=report.agency_name,
                reporter=report.reporter_name or "—",
                when=tx.moment(report.created_at),
            ),
            f"{report.item_code} · {short_text(report.item_title, 80)}",
            f"{tx.status(report.status)} {report.percent}% — {report.note or '—'}",
        ]
    )
    rows = [
        [(tx._("✅ Xác nhận"), f"v:{report.id}:ok"), (tx._("↩️ Trả lại"), f"v:{report.id}:back")]
    ]
    return ctx.ask(ctx.conv.state, dict(ctx.conv.draft), text, rows)


def review_decide(ctx: StepContext, report_id: int, decision: str) -> Transition:
    if (no := refuse(ctx, REVIEW_ROLES)) is not None:
        return no
    tx = ctx.tx
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
