"""The digest (bản tin): where things stand, for a Vice-Chair or a coordinating office.

`build_digest` reads the store for one day and returns the text (the outbox cuts it into
what each channel takes), a chart of progress per field by deadline category, and a button
per listed item.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.texts import Texts
from storage.aggregate import (
    CATEGORY_COLOURS,
    CATEGORY_LABELS,
    AssignmentState,
    Category,
    assignment_states,
    natural_key,
)
from storage.models import Directive, Item, Locality, Member
from storage.textfit import short_text

MAX_BUTTONS = 100
BUTTONS_PER_ROW = 8
LIST_LIMIT = 15  # items per list in the text; the rest are counted
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
Role = Literal["vice_chair", "coordinator"]


@dataclass(frozen=True)
class FieldRow:
    """One field of the programme (e.g. 2.5 Giao thông) and its assignments by category."""

    code: str
    title: str
    count: int
    percent: float
    counts: dict[Category, int]
    overdue: int  # past due and not done, reported or not


@dataclass(frozen=True)
class OpenDirective:
    """A Vice-Chair's directive the lead agencies have not reported on since."""

    item_code: str
    item_title: str
    author: str
    text: str
    created_at: datetime
    waiting: tuple[str, ...]  # agency names


@dataclass
class Digest:
    """A digest ready to send: its text, chart PNG and item buttons."""

    text: str
    chart_png: bytes
    item_buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    fields: list[FieldRow] = field(default_factory=list)
    completed: list[AssignmentState] = field(default_factory=list)
    overdue: list[AssignmentState] = field(default_factory=list)
    blocked: list[AssignmentState] = field(default_factory=list)
    silent_agencies: list[tuple[str, int]] = field(default_factory=list)
    directives: list[OpenDirective] = field(default_factory=list)


def cycle_start(today: date, cycle_day: int) -> date:
    """Return the first day of the monthly reporting cycle that holds `today`."""
    if today.day > cycle_day:
        return today.replace(day=cycle_day) + timedelta(days=1)
    previous = today.replace(day=1) - timedelta(days=1)
    return previous.replace(day=min(cycle_day, previous.day)) + timedelta(days=1)


def field_rows(session: Session, states: Sequence[AssignmentState]) -> list[FieldRow]:
    """Group states by field, with mean percent (no report counts 0) and category counts."""
    groups: dict[str, list[AssignmentState]] = {}
    for state in states:
        groups.setdefault(state.field_code, []).append(state)
    titles = {
        code: title
        for code, title in session.execute(
            select(Item.code, Item.title).where(
                Item.code.in_(list(groups)), Item.archived_at.is_(None)
            )
        )
    }
    rows = []
    for code in sorted(groups, key=natural_key):
        mine = groups[code]
        counts = dict.fromkeys(Category, 0)
        for state in mine:
            counts[state.category] += 1
        rows.append(
            FieldRow(
                code,
                titles.get(code, ""),
                len(mine),
                sum(s.percent or 0 for s in mine) / len(mine),
                counts,
                sum(1 for s in mine if s.overdue),
            )
        )
    return rows


def open_directives(session: Session, states: Sequence[AssignmentState]) -> list[OpenDirective]:
    """Directives newer than the last report of a lead agency on the item (or below it)."""
    leads = [s for s in states if s.role == "lead"]
    found = []
    rows = session.execute(
        select(Directive, Item.code, Item.title, Member.name)
        .join(Item, Item.id == Directive.item_id)
        .join(Member, Member.id == Directive.member_id)
        .order_by(Directive.created_at, Directive.id)
    )
    for directive, code, title, author in rows:
        mine = [s for s in leads if s.item_code == code or s.item_code.startswith(f"{code}.")]
        waiting = tuple(
            dict.fromkeys(
                s.agency_name
                for s in mine
                if s.reported_at is None or s.reported_at < directive.created_at
            )
        )
        if waiting:
            found.append(
                OpenDirective(code, title, author, directive.text, directive.created_at, waiting)
            )
    return found


def build_digest(
    session: Session,
    today: date,
    role: Role,
    locality_code: str | None,
    lang: str = "vi",
    *,
    since: date | None = None,
    tz: ZoneInfo = HANOI,
    cycle_day: int = 25,
    chart: bool = True,
    everything: Sequence[AssignmentState] | None = None,
) -> Digest:
    """Build the digest of `today` for a Vice-Chair or a coordinating office.

    `since` is the day of the previous digest (what was completed after it is listed);
    without it, a week back for a Vice-Chair and a day back for an office. `everything`
    is `assignment_states(session, today)` if the caller already has it.
    """
    tx = Texts(lang, tz)
    since = since or today - timedelta(days=7 if role == "vice_chair" else 1)
    if everything is None:
        everything = assignment_states(session, today)
    states = [s for s in everything if locality_code is None or s.locality_code == locality_code]
    period_start = cycle_start(today, cycle_day)
    completed = [
        s
        for s in states
        if s.done and s.completed_on is not None and since < s.completed_on <= today
    ]
    overdue = sorted(
        (s for s in states if s.overdue),
        key=lambda s: (s.due_date or date.max, natural_key(s.item_code)),
    )
    blocked = [s for s in states if s.status == "blocked"]
    silent: dict[str, int] = {}
    for state in states:
        if not state.done and (
            state.reported_at is None or tx_date(state.reported_at, tz) < period_start
        ):
            silent[state.agency_name] = silent.get(state.agency_name, 0) + 1
    silent_agencies = sorted(silent.items(), key=lambda kv: (-kv[1], kv[0]))
    directives = open_directives(session, states)
    fields = field_rows(session, states)
    locality_name = _locality_name(session, locality_code)
    lines = _render(
        tx,
        role,
        today,
        since,
        locality_name,
        states,
        everything,
        fields,
        completed,
        overdue,
        blocked,
        silent_agencies,
        directives,
        period_start,
    )
    listed = [
        *(d.item_code for d in directives),
        *(s.item_code for s in blocked),
        *(s.item_code for s in overdue),
        *(s.item_code for s in completed),
    ]
    digest = Digest(
        text="\n".join(lines),
        chart_png=render_chart(fields, tx, _chart_title(tx, today, locality_name))
        if chart
        else b"",
        item_buttons=item_buttons(listed),
        fields=fields,
        completed=completed,
        overdue=overdue,
        blocked=blocked,
        silent_agencies=silent_agencies,
        directives=directives,
    )
    return digest


def tx_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def item_buttons(codes: Sequence[str]) -> list[list[tuple[str, str]]]:
    """One `o:<code>` button per listed item code, 8 a row, at most 100."""
    unique = sorted(dict.fromkeys(codes), key=natural_key)[:MAX_BUTTONS]
    return [
        [(code, f"o:{code}") for code in unique[start : start + BUTTONS_PER_ROW]]
        for start in range(0, len(unique), BUTTONS_PER_ROW)
    ]


def _locality_name(session: Session, code: str | None) -> str | None:
    if code is None:
        return None
    return session.scalar(select(Locality.name).where(Locality.code == code)) or code


def _chart_title(tx: Texts, today: date, locality_name: str | None) -> str:
    scope = locality_name or tx._("Toàn chương trình")
    return tx._("Tiến độ theo lĩnh vực — {scope} — {day}", scope=scope, day=tx.date(today))


def _percent(states: Sequence[AssignmentState]) -> float:
    return sum(s.percent or 0 for s in states) / len(states) if states else 0.0


def _render(
    tx: Texts,
    role: Role,
    today: date,
    since: date,
    locality_name: str | None,
    states: Sequence[AssignmentState],
    everything: Sequence[AssignmentState],
    fields: Sequence[FieldRow],
    completed: Sequence[AssignmentState],
    overdue: Sequence[AssignmentState],
    blocked: Sequence[AssignmentState],
    silent: Sequence[tuple[str, int]],
    directives: Sequence[OpenDirective],
    period_start: date,
) -> list[str]:
    """Write the digest's lines (sections separated by blank lines)."""
    scope = locality_name or tx._("toàn chương trình")
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
    ]
    if locality_name is not None and len(everything) != len(states):
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
    sections: list[tuple[str, list[str]]] = [
        (
            tx._("Chỉ đạo chưa được báo cáo lại ({count}):", count=len(directives)),
            [
                tx._(
                    "• {code} ({day}, {author}): {text} — chờ {agencies}",
                    code=d.item_code,
                    day=tx.date(tx_date(d.created_at, tx.tz)),
                    author=d.author,
                    text=short_text(d.text, 160),
                    agencies=", ".join(d.waiting),
                )
                for d in directives
            ],
        ),
        (
            tx._("Vướng mắc, cần cho ý kiến chỉ đạo ({count}):", count=len(blocked)),
            [_state_line(tx, s, today, note=True) for s in blocked],
        ),
        (
            tx._("Quá hạn ({count}):", count=len(overdue)),
            [_state_line(tx, s, today) for s in overdue],
        ),
        (
            tx._(
                "Hoàn thành từ {since} ({count}):",
                since=tx.date(since + timedelta(days=1)),
                count=len(completed),
            ),
            [_state_line(tx, s, today) for s in completed],
        ),
        (
            tx._(
                "Cơ quan chưa báo cáo trong kỳ từ {start} ({count}):",
                start=tx.date(period_start),
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


def _state_line(tx: Texts, state: AssignmentState, today: date, note: bool = False) -> str:
    status = tx.status(state.status)
    if state.status is not None:
        status += f" {state.percent or 0}%"
    when = tx._("hạn {due}", due=tx.date(state.due_date))
    if state.overdue and state.due_date is not None:
        when += " " + tx._("(quá {days} ngày)", days=(today - state.due_date).days)
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
        vi, en = CATEGORY_LABELS[category]
        axes.barh(
            labels,
            values,
            left=left,
            color=f"#{CATEGORY_COLOURS[category]}",
            label=en if tx.language == "en" else vi,
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
