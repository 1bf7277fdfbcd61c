"""What a reminder says: the text of a planned message, in its reader's language, and its buttons.

`scheduler/reminders.py` decides who is told what on which working day; this module only
writes it down: the greeting, the items with their deadlines and last reports, what was
forwarded or escalated, the closed periods, and one button per item. A reader with several
programmes finds each programme's items under its name, each code after its alias ("HY 2.5"),
as they would type it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from handlers.programmes import heading
from handlers.texts import Texts
from scheduler.reminders import DueItem, PlannedMessage, ProgrammeRef
from storage.outbox import Message
from storage.textfit import short_text

MAX_TEXT = 4000
MAX_BUTTONS = 100
LABEL_CHARS = 40


def render_reminder(planned: PlannedMessage, tz: ZoneInfo) -> Message:
    """Write the message: its text (within one Telegram message) and its buttons."""
    tx = Texts(planned.language, tz)
    named = planned.by_programme

    def grouped(items: Sequence[DueItem], line: Callable[[DueItem], str]) -> list[str]:
        """The items' lines, under a heading per programme when the reader has several."""
        if not named:
            return [line(i) for i in items]
        lines: list[str] = []
        for programme in planned.programmes:
            mine = [i for i in items if i.programme_id == programme.id]
            if mine:
                lines.append(_heading(programme))
                lines += [line(i) for i in mine]
        return lines

    sections: list[list[str]] = []
    if planned.recipient_id is not None:
        head = [tx._("Kính gửi {name},", name=planned.recipient_name)]
        if planned.caught_up:
            head.append(
                tx._(
                    "Hệ thống gộp các nhắc việc từ {start} đến {end} vào tin nhắn này.",
                    start=tx.date(planned.since + timedelta(days=1)),
                    end=tx.date(planned.slot_day),
                )
            )
        sections.append(head)
    if planned.items:
        lines = [
            tx._(
                "Nhắc báo cáo tiến độ ngày {day}: {count} nội dung cần báo cáo.",
                day=tx.date(planned.slot_day),
                count=len(planned.items),
            )
        ]
        lines += grouped(planned.items, lambda i: _item_lines(tx, i, named))
        lines.append(tx._("Bấm nút bên dưới để báo cáo ngay từng nội dung."))
        sections.append(lines)
    if planned.forwarded:
        sections.append(_forwarded(tx, planned))
    if planned.escalations:
        lines = [tx._("Đề nghị đôn đốc, chỉ đạo: các nội dung quá hạn nhiều ngày làm việc:")]
        lines += grouped(planned.escalations, lambda i: _overdue_line(tx, i, named))
        sections.append(lines)
    if planned.to_vice_chair:
        lines = [
            tx._(
                "Kính đề nghị đồng chí xem xét, chỉ đạo: các nội dung sau đã quá hạn, cơ quan "
                "đầu mối đã đôn đốc nhưng chưa hoàn thành:"
            )
        ]
        lines += grouped(planned.to_vice_chair, lambda i: _overdue_line(tx, i, named))
        sections.append(lines)
    for close in planned.closes:
        lines = [
            tx._(
                "Kỳ báo cáo {label} (hạn {end}) đã đóng: {reported}/{total} nhiệm vụ "
                "đã báo cáo, đạt {rate}%.",
                label=tx.period(close.period),
                end=tx.date(close.period.due),
                reported=close.reported,
                total=close.total,
                rate=round(close.rate * 100),
            )
        ]
        if named:
            lines[0] = f"{close.programme_label}: {lines[0]}"
        if close.missing:
            lines.append(
                tx._(
                    "Chưa báo cáo: {agencies}.",
                    agencies="; ".join(f"{name} ({count})" for name, count in close.missing),
                )
            )
        sections.append(lines)
    text = _fit("\n\n".join("\n".join(s) for s in sections), tx)
    choices = _buttons(
        planned.items,
        [*planned.forwarded, *planned.escalations, *planned.to_vice_chair],
        named,
    )
    return Message(text, choices or None)


def _heading(programme: ProgrammeRef) -> str:
    """`HY — Chương trình hợp tác Hà Nội – Hưng Yên giai đoạn 2019–2020`, as in chat."""
    return heading(programme.label, programme.title) if programme.title else programme.label


def _code(item: DueItem, named: bool) -> str:
    """The code as the reader types it: `2.5`, or `HY 2.5` beside other programmes."""
    return f"{item.programme_label} {item.item_code}" if named else item.item_code


def _overdue_line(tx: Texts, item: DueItem, named: bool) -> str:
    return tx._(
        "• {code} {title} — {agency}: hạn {due}, quá hạn {days} ngày làm việc; {status}",
        code=_code(item, named),
        title=short_text(item.item_title, 50),
        agency=item.agency_name,
        due=tx.date(item.due_date),
        days=item.overdue_days,
        status=_status(tx, item),
    )


def _forwarded(tx: Texts, planned: PlannedMessage) -> list[str]:
    """The items of agencies nobody can be reached at, by programme and agency."""
    if planned.recipient_id is None:
        lines = [
            tx._(
                "Không ai nhận được nhắc việc của các cơ quan sau (chưa liên kết "
                "tài khoản hoặc không liên lạc được), và cơ quan đầu mối cũng "
                "chưa liên lạc được:"
            )
        ]
    else:
        lines = [
            tx._(
                "Các cơ quan sau chưa có ai nhận được tin nhắn (chưa liên kết "
                "tài khoản hoặc không liên lạc được); nhắc việc được chuyển đến "
                "cơ quan đầu mối:"
            )
        ]
    named = planned.by_programme
    groups = planned.programmes if named else (None,)
    for programme in groups:
        forwarded = [
            i for i in planned.forwarded if programme is None or i.programme_id == programme.id
        ]
        if not forwarded:
            continue
        if programme is not None:
            lines.append(_heading(programme))
        for code in dict.fromkeys(i.agency_code for i in forwarded):
            mine = [i for i in forwarded if i.agency_code == code]
            lines.append(f"{mine[0].agency_name} ({code}):")
            lines += [_item_lines(tx, i, named) for i in mine]
    return lines


def _status(tx: Texts, item: DueItem) -> str:
    if item.status is None or item.reported_at is None:
        return tx._("chưa có báo cáo")
    return tx._(
        "báo cáo gần nhất: {status} {percent}% ngày {day}",
        status=tx.status(item.status),
        percent=item.percent or 0,
        day=tx.date(item.reported_at.astimezone(tx.tz).date()),
    )


def _item_lines(tx: Texts, item: DueItem, named: bool = False) -> str:
    """`• 2.5 Lĩnh vực giao thông` and a line with the deadline and the last report."""
    title = f"• {_code(item, named)} {short_text(item.item_title, 60)}"
    if item.on_behalf_of:
        title += " " + tx._("(thay {name} đang vắng mặt)", name=item.on_behalf_of)
    parts: list[str] = []
    if item.due_date is not None and item.days_left is not None:
        if item.days_left > 0:
            when = tx._("còn {days} ngày", days=item.days_left)
        elif item.days_left == 0:
            when = tx._("hôm nay đến hạn")
        else:
            when = tx._("quá hạn {days} ngày làm việc", days=max(item.overdue_days, 1))
        parts.append(tx._("hạn {due}, {when}", due=tx.date(item.due_date), when=when))
    if item.cycle is not None:
        parts.append(
            tx._(
                "chưa báo cáo kỳ {label} (hạn {end})",
                label=tx.period(item.cycle),
                end=tx.date(item.cycle.due),
            )
        )
    parts.append(_status(tx, item))
    return title + "\n  " + " · ".join(parts)


def _fit(text: str, tx: Texts) -> str:
    """Keep a message within one Telegram message, saying what was left out."""
    if len(text) <= MAX_TEXT:
        return text
    lines = text.split("\n")
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > MAX_TEXT - 120:
            break
        kept.append(line)
        size += len(line) + 1
    hidden = sum(1 for line in lines[len(kept) :] if line.startswith("•"))
    kept.append(tx._("… và {count} nội dung khác; gõ /cuatoi để xem đủ.", count=hidden))
    return "\n".join(kept)


def _label(item: DueItem, named: bool) -> str:
    """`2.5 · Lĩnh vực giao thông`, or `HY 2.5 · …` (the code first: Zalo readers type it)."""
    code = _code(item, named)
    room = LABEL_CHARS - len(code) - 3
    return f"{code} · {short_text(item.item_title, room)}" if room >= 8 else code[:LABEL_CHARS]


def _buttons(
    items: Sequence[DueItem], others: Sequence[DueItem], named: bool
) -> list[list[tuple[str, str]]]:
    """One report button per own item; an open button per other item code (≤ 100)."""
    rows: list[list[tuple[str, str]]] = [
        [(_label(i, named), f"r:{i.assignment_id}")] for i in items[:MAX_BUTTONS]
    ]
    left = MAX_BUTTONS - len(rows)
    own = {_code(i, named) for i in items}
    codes = [c for c in dict.fromkeys(_code(i, named) for i in others) if c not in own][:left]
    for start in range(0, len(codes), 4):
        rows.append([(code, f"o:{code}") for code in codes[start : start + 4]])
    return rows
