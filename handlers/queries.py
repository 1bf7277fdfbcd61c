"""What an official can look at: the agency's items, and one item in full."""

from __future__ import annotations

from handlers import programmes
from handlers.access import refuse
from handlers.core import DIRECTIVE_ROLES, REPORT_ROLES, StepContext, Transition, global_menu
from handlers.directives import item_lines
from handlers.events import Reply
from handlers.quick import item_code_of
from handlers.report import grouped, own_states, state_line, status_text, unknown_code
from storage.aggregate.states import AssignmentState
from storage.chat_reader import ItemView
from storage.textfit import short_text


def mine(ctx: StepContext, args: str = "") -> Transition:
    """List the agency's items with status, deadline and category, by programme when they
    span several (`/cuatoi HB`: one programme's)."""
    if (no := refuse(ctx, REPORT_ROLES)) is not None:
        return no
    assert ctx.member is not None
    tx = ctx.tx
    programme, _ = programmes.token_of(ctx, args)
    everything = own_states(ctx)
    states = [s for s in everything if programme is None or s.programme_id == programme.id]
    if not states:
        return ctx.stay(Reply(tx._("Cơ quan của anh/chị chưa được giao nội dung nào.")))
    labelled = grouped(everything)
    runs = programmes.headings(ctx, [s.programme_id for s in states]) if grouped(states) else ()
    headings = dict(runs)
    lines = [
        tx._("Nội dung của {agency} ({count}):", agency=ctx.member.agency_name, count=len(states))
    ]
    for index, state in enumerate(states):
        if index in headings:
            lines.append(headings[index] + ":")
        role = tx._("chủ trì") if state.role == "lead" else tx._("phối hợp")
        lines.append(f"• {state_line(tx, state, labelled)} ({role}; {tx.category(state.category)})")
    lines.append(tx._("Gõ /baocao để báo cáo, /muc <mã> để xem chi tiết."))
    return ctx.stay(Reply("\n".join(lines)))


def visible(
    ctx: StepContext, programme_id: int, states: list[AssignmentState]
) -> list[AssignmentState]:
    """In a programme the member oversees (coordinating office, Vice-Chair, admin) every state;
    elsewhere only the items their agency works on (with every agency of both localities on
    those items), never a whole section."""
    assert ctx.member is not None
    if any(p.id == programme_id for p in programmes.overseen(ctx)):
        return states
    own = {s.item_code for s in states if s.agency_id == ctx.member.agency_id}
    return [s for s in states if s.item_code in own]


def item(ctx: StepContext, args: str, programme_id: int | None = None) -> Transition:
    """Show one item: its text, every agency's state, recent history and evidence. A code in
    several of the member's programmes asks which (`/muc HB 2.2` settles it)."""
    tx = ctx.tx
    programme, rest = programmes.token_of(ctx, args)
    if programme is not None:
        programme_id = programme.id
    if not rest:
        return ctx.stay(Reply(tx._("Gõ mã nội dung sau lệnh, ví dụ: /muc 2.5")))
    code = item_code_of(rest.split()[0])
    found = [i for i in ctx.reader.items(code) if programme_id in (None, i.programme_id)]
    if not found:
        return unknown_code(ctx, code, programme.label if programme is not None else None)
    seen: list[tuple[ItemView, list[AssignmentState]]] = []
    for candidate in found:
        states = list(ctx.reader.item_states(code, candidate.programme_id))
        if shown := visible(ctx, candidate.programme_id, states):
            seen.append((candidate, shown))
    if not seen:
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
    if len(seen) > 1:
        options = [(i.programme_id, i.code, i.title) for i, _ in seen]
        return programmes.ask(ctx, {"do": "item", "code": code}, options)
    return _show(ctx, *seen[0])


def _show(ctx: StepContext, found: ItemView, states: list[AssignmentState]) -> Transition:
    tx = ctx.tx
    label = next((p.label for p in ctx.reader.programmes() if p.id == found.programme_id), "")
    several = programmes.several(ctx)
    title = programmes.coded(label if several else None, found.code)
    lines = [f"{title} · {found.title}", short_text(found.text, 700, one_line=False), ""]
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
    directives = list(ctx.reader.directives(found.code, 3, programme_id=found.programme_id))
    if directives:
        lines += ["", tx._("Chỉ đạo:")]
        lines += item_lines(tx, directives, ctx.today)
    rows = []
    member = ctx.member
    own = next((s for s in states if member is not None and s.agency_id == member.agency_id), None)
    if own is not None and member is not None and member.role in REPORT_ROLES:
        rows.append([(tx._("Báo cáo nội dung này"), f"r:{own.assignment_id}")])
    if member is not None and member.role in DIRECTIVE_ROLES:
        # /chidao's arguments: the programme's alias first where the code may be in several
        rows.append(
            [(tx._("Gửi chỉ đạo"), f"d:{label} {found.code}" if several else f"d:{found.code}")]
        )
    return ctx.stay(Reply("\n".join(lines).strip(), global_menu(rows)))
