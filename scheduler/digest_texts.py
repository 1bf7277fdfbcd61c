"""What a digest says: its lines in the reader's language, and its chart.

`scheduler/digest.py` finds what the digest holds; this module only writes it down.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from handlers.directives import digest_answered_lines, digest_open_line
from handlers.documents.colours import CATEGORY_COLOURS
from handlers.texts import Texts
from storage.aggregate.categories import Category
from storage.aggregate.states import AssignmentState
from storage.periods import Period
from storage.textfit import short_text
from storage.worktime import WorkCalendar

if TYPE_CHECKING:
    from scheduler.digest import FieldRow, OpenDirective, Role

LIST_LIMIT = 15  # items per list in the text; the rest are counted


def chart_title(tx: Texts, today: date, scope_name: str | None) -> str:
    """`Tiến độ theo lĩnh vực — Tỉnh Hưng Yên — 16/03/2020` (`HY · Tỉnh Hưng Yên` for a
    reader with several programmes)."""
    scope = scope_name or tx._("Toàn chương trình")
    return tx._("Tiến độ theo lĩnh vực — {scope} — {day}", scope=scope, day=tx.date(today))


def _percent(states: Sequence[AssignmentState]) -> float:
    return sum(s.percent or 0 for s in states) / len(states) if states else 0.0


def digest_lines(
    tx: Texts,
    role: Role,
    today: date,
    since: date,
    scope_name: str | None,
    states: Sequence[AssignmentState],
    everything: Sequence[AssignmentState],
    fields: Sequence[FieldRow],
    completed: Sequence[AssignmentState],
    overdue: Sequence[AssignmentState],
    blocked: Sequence[AssignmentState],
    silent: Sequence[tuple[str, int]],
    directives: Sequence[OpenDirective],
    period: Period,
    response_rate: float,
    calendar: WorkCalendar,
) -> list[str]:
    """Write the digest's lines (sections separated by blank lines); `everything` is the
    whole programme's states, `period` the one "not reported" and the rate are judged on."""
    scope = scope_name or tx._("toàn chương trình")
    if role == "vice_chair":
        title = tx._("BẢN TIN TIẾN ĐỘ TUẦN — {scope} — {day}", scope=scope, day=tx.date(today))
    else:
        title = tx._("BẢN TIN TIẾN ĐỘ — {scope} — {day}", scope=scope, day=tx.date(today))
    done = sum(1 for s in states if s.done)
    lines = [
        title,
        tx._(
            "Tổng quan: {count} nhiệm vụ, hoàn thành {done} ({share}%), tiến độ "
            "bình quân {percent}%; quá hạn {overdue}, vướng mắc {blocked}.",
            count=len(states),
            done=done,
            share=round(100 * done / len(states)) if states else 0,
            percent=round(_percent(states)),
            overdue=len(overdue),
            blocked=len(blocked),
        ),
        tx._(
            "Tỷ lệ báo cáo kỳ {period} (hạn {due}): {rate}",
            period=tx.period(period),
            due=tx.date(period.due),
            rate=f"{response_rate:.0%}",
        ),
    ]
    if len(everything) != len(states):
        lines.append(
            tx._(
                "Toàn chương trình (hai địa phương): tiến độ bình quân {percent}%.",
                percent=round(_percent(everything)),
            )
        )
    lines += [
        "",
        tx._("Theo lĩnh vực (mã · số nhiệm vụ · bình quân · hoàn thành/quá hạn/chưa báo cáo):"),
    ]
    for row in fields:
        finished = row.counts[Category.DONE_ON_TIME] + row.counts[Category.DONE_LATE]
        lines.append(
            f"• {row.code} {short_text(row.title, 40)} · {row.count} · "
            f"{round(row.percent)}% · {finished}/{row.overdue}/"
            f"{row.counts[Category.NOT_REPORTED]}"
        )
    several = len({d.directive.programme_id for d in directives}) > 1
    waiting = [d for d in directives if d.directive.waiting]
    answers = [
        line
        for d in directives
        for line in digest_answered_lines(tx, d.directive, d.answered_since, several)
    ]
    after = tx.date(since + timedelta(days=1))
    sections: list[tuple[str, list[str]]] = [
        (
            tx._("Chỉ đạo chưa được báo cáo lại ({count}):", count=len(waiting)),
            [digest_open_line(tx, d.directive, today, several) for d in waiting],
        ),
        (
            tx._("Báo cáo theo chỉ đạo từ {since} ({count}):", since=after, count=len(answers)),
            answers,
        ),
        (
            tx._("Vướng mắc, cần cho ý kiến chỉ đạo ({count}):", count=len(blocked)),
            [_state_line(tx, s, calendar, note=True) for s in blocked],
        ),
        (
            tx._("Quá hạn ({count}):", count=len(overdue)),
            [_state_line(tx, s, calendar) for s in overdue],
        ),
        (
            tx._(
                "Hoàn thành từ {since} ({count}):",
                since=tx.date(since + timedelta(days=1)),
                count=len(completed),
            ),
            [_state_line(tx, s, calendar) for s in completed],
        ),
        (
            tx._(
                "Cơ quan chưa báo cáo kỳ {period} (hạn {due}) ({count}):",
                period=tx.period(period),
                due=tx.date(period.due),
                count=len(silent),
            ),
            [
                tx._("• {agency}: {count} nhiệm vụ", agency=name, count=count)
                for name, count in silent
            ],
        ),
    ]
    for heading, entries in sections:
        if not entries:
            continue
        lines += ["", heading, *entries[:LIST_LIMIT]]
        if len(entries) > LIST_LIMIT:
            lines.append(tx._("… và {count} mục khác.", count=len(entries) - LIST_LIMIT))
    lines += [
        "",
        tx._("Bấm mã nội dung bên dưới để xem chi tiết hoặc gửi chỉ đạo.")
        if role == "vice_chair"
        else tx._("Bấm mã nội dung bên dưới để xem chi tiết."),
    ]
    return lines


def _state_line(
    tx: Texts, state: AssignmentState, calendar: WorkCalendar, note: bool = False
) -> str:
    status = tx.status(state.status)
    if state.status is not None:
        status += f" {state.percent or 0}%"
    when = tx._("hạn {due}", due=tx.date(state.due_date))
    if state.overdue and state.due_date is not None:
        late = max(calendar.working_days_between(state.due_date, state.as_of), 1)
        when += " " + tx._("(quá hạn {days} ngày làm việc)", days=late)
    line = (
        f"• {state.item_code} {short_text(state.item_title, 50)} — {state.agency_name}: "
        f"{status} · {when}"
    )
    if note and state.note:
        line += f" — {short_text(state.note, 200)}"
    return line


def render_chart(fields: Sequence[FieldRow], tx: Texts, title: str) -> bytes:
    """Draw progress per field as stacked bars by deadline category; return PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = list(reversed(fields))  # first field on top
    height = 1.6 + 0.42 * max(len(rows), 1)
    figure = Figure(figsize=(9.0, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [f"{r.code} {short_text(r.title, 34)}" for r in rows]
    left = [0] * len(rows)
    for category in Category:
        values = [r.counts[category] for r in rows]
        axes.barh(
            labels,
            values,
            left=left,
            color=f"#{CATEGORY_COLOURS[category]}",
            label=tx.category(category),
            edgecolor="white",
            linewidth=0.5,
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    for index, row in enumerate(rows):
        axes.text(left[index] + 0.1, index, f"{round(row.percent)}%", va="center", fontsize=8)
    axes.set_title(title, fontsize=11)
    axes.set_xlabel(tx._("Số nhiệm vụ (nhãn: tiến độ bình quân)"))
    axes.set_xlim(0, max(left, default=1) * 1.15 + 0.5)
    axes.tick_params(axis="y", labelsize=8)
    figure.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
