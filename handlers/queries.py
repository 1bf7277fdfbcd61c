"""What an official can look at: the agency's items, and one item in full."""

from __future__ import annotations

from typing import Any

from handlers.core import DIRECTIVE_ROLES, OVERSIGHT_ROLES, StepContext, Transition, global_menu
from handlers.directives import item_lines
from handlers.events import Reply
from handlers.quick import item_code_of
from handlers.report import (
    own_states,
    state_line,
    status_text,
    unknown_code,
)
from storage.textfit import short_text


def mine(ctx: StepContext, args: str = "") -> Transition:
    """List the agency's items with status, deadline and category."""
    assert ctx.member is not None
    tx = ctx.tx
    states = own_states(ctx)
    if not states:
        return ctx.stay(Reply(tx._("Cơ quan của anh/chị chưa được giao nội dung nào.")))
    lines = [
        tx._("Nội dung của {agency} ({count}):", agency=ctx.member.agency_name, count=len(states))
    ]
    for state in states:
        role = tx._("chủ trì") if state.role == "lead" else tx._("phối hợp")
        lines.append(f"• {state_line(tx, state)} ({role}; {tx.category(state.category)})")
    lines.append(tx._("Gõ /baocao để báo cáo, /muc <mã> để xem chi tiết."))
    return ctx.stay(Reply("\n".join(lines)))


def visible(ctx: StepContext, states: list[Any]) -> list[Any]:
    """Oversight roles see everything; an official sees only the items their agency works on
    (with every agency of both localities on those items), never a whole section."""
    assert ctx.member is not None
    if ctx.member.role in OVERSIGHT_ROLES:
        return states
    own = {s.item_code for s in states if s.agency_id == ctx.member.agency_id}
    return [s for s in states if s.item_code in own]


def item(ctx: StepContext, args: str) -> Transition:
    """Show one item: its text, every agency's state, recent history and evidence."""
    tx = ctx.tx
    if not args.strip():
        return ctx.stay(Reply(tx._("Gõ mã nội dung sau lệnh, ví dụ: /muc 2.5")))
    code = item_code_of(args.split()[0])
    found = ctx.reader.item(code)
    if found is None:
        return unknown_code(ctx, code)
    states = visible(ctx, list(ctx.reader.item_states(code)))
    if not states:
        return ctx.stay(
            Reply(
                tx._(
                    "Nội dung {code} không thuộc phạm vi của {agency}. Anh/chị chỉ xem được các "
                    "nội dung cơ quan mình được giao.",
                    code=code,
                    agency=ctx.member.agency_name if ctx.member else "",
                )
            )
        )
    lines = [f"{found.code} · {found.title}", short_text(found.text, 700, one_line=False), ""]
    lines.append(tx._("Các cơ quan:"))
    for state in states:
        role = tx._("chủ trì") if state.role == "lead" else tx._("phối hợp")
        lines.append(
            f"• {state.agency_name} ({state.locality_code}, {role}): "
            f"{status_text(tx, state)} · "
            + tx._("hạn {due}", due=tx.date(state.due_date))
            + f" · {tx.category(state.category)}"
        )
    history = list(ctx.reader.history([s.assignment_id for s in states], 6))
    if history:
        lines += ["", tx._("Báo cáo gần đây:")]
        for entry in history:
            files = (
                tx._(" · {count} tệp minh chứng", count=len(entry.evidence))
                if entry.evidence
                else ""
            )
            names = "; ".join(e for e in entry.evidence)
            lines.append(
                f"– {tx.moment(entry.created_at)} {entry.agency_name}: "
                f"{tx.status(entry.status)} {entry.percent}%"
                + (f" — {short_text(entry.note, 200)}" if entry.note else "")
                + files
                + (f" ({names})" if names else "")
            )
    directives = list(ctx.reader.directives(code, 3, programme_id=found.programme_id))
    if directives:
        lines += ["", tx._("Chỉ đạo:")]
        lines += item_lines(tx, directives, ctx.today)
    rows = []
    member = ctx.member
    own = next((s for s in states if member is not None and s.agency_id == member.agency_id), None)
    if own is not None:
        rows.append([(tx._("Báo cáo nội dung này"), f"r:{own.assignment_id}")])
    if member is not None and member.role in DIRECTIVE_ROLES:
        rows.append([(tx._("Gửi chỉ đạo"), f"d:{code}")])
    return ctx.stay(Reply("\n".join(lines).strip(), global_menu(rows)))
