"""A Vice-Chair's directives in chat: give one, choose who receives it, follow it up.

`/chidao [HY] 2.6.c [15/01] Đề nghị …` names the item (the programme first when the code is in
several of those the Vice-Chair directs), an optional deadline and the text; the Vice-Chair then
chooses who receives it (the lead agencies of their own locality, with the supporting ones, or
with the other side's too), seeing each group named. `/chidao` alone lists the directives still
waiting for an answer. The texts the service sends on the step's behalf (to the recipients, the
answer to the Vice-Chair, what a digest says) are written here too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any, Final

from handlers.access import refuse
from handlers.core import (
    DIRECTIVE_ROLES,
    OVERSIGHT_ROLES,
    GiveDirective,
    State,
    StepContext,
    Transition,
    global_menu,
)
from handlers.events import Reply
from handlers.quick import item_code_of, looks_like_code
from handlers.texts import Texts
from storage.directives import (
    SCOPES,
    Answered,
    Candidate,
    DirectiveTarget,
    DirectiveView,
    Given,
    RecipientView,
    Sent,
    in_scope,
)
from storage.models import Member
from storage.textfit import short_text

STATES: Final = {State.DIRECTIVE_PROGRAMME, State.DIRECTIVE_TEXT, State.DIRECTIVE_SCOPE}
CHOICES: Final = {"d", "dp", "ds", "dv"}  # give on an item, programme, scope, view one
DAY = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?$")
# A deadline typed without its year that has passed this year is next year's only this close.
NEXT_YEAR_WITHIN_DAYS: Final = 183
LISTED: Final = 8  # directives with a button in /chidao; agencies named in a short reply


# --- the steps ----------------------------------------------------------------------------------


def directive(ctx: StepContext, args: str = "") -> Transition:
    """`/chidao [P] CODE [dd/mm[/yyyy]] text`, or `/chidao` alone for the open directives."""
    if (no := refuse(ctx, DIRECTIVE_ROLES)) is not None:
        return no
    tx = ctx.tx
    head, rest = _token(args)
    if not head:
        return overview(ctx)
    programmes = list(ctx.reader.directive_programmes())
    if not programmes:
        return ctx.stay(
            Reply(
                tx._(
                    "{agency} chưa được giao chỉ đạo chương trình nào (trong tệp chương trình), "
                    "nên chưa gửi được chỉ đạo. Đề nghị liên hệ cơ quan đầu mối.",
                    agency=_agency(ctx),
                )
            )
        )
    chosen = None
    if not looks_like_code(head):
        folded = head.casefold()
        chosen = next(
            (p for p in programmes if folded in {p.label.casefold(), p.code.casefold()}), None
        )
        if chosen is None:
            return _usage(ctx, tx._("Không có chương trình “{name}”.", name=head[:20]))
        head, rest = _token(rest)
        if not head:
            return _usage(ctx)
    code = item_code_of(head)
    due, text = _due_in(ctx, rest)
    if isinstance(due, Reply):
        return ctx.stay(due)
    found = [
        t for t in ctx.reader.directive_items(code) if chosen is None or t.programme_id == chosen.id
    ]
    if not found:
        return ctx.stay(
            Reply(
                tx._(
                    "Không có nội dung mã {code} trong chương trình {programmes}. Gõ /tonghop để "
                    "xem các lĩnh vực, /muc <mã> để xem một nội dung.",
                    code=code,
                    programmes=chosen.label if chosen else ", ".join(p.label for p in programmes),
                )
            )
        )
    draft: dict[str, Any] = {
        "due": due.isoformat() if due else None,
        "text": text,
        "several": len(programmes) > 1,
    }
    if len(found) > 1:
        return ctx.ask(
            State.DIRECTIVE_PROGRAMME,
            draft,
            tx._(
                "Mã {code} có trong {count} chương trình. Chỉ đạo về nội dung của chương trình nào?",
                code=code,
                count=len(found),
            ),
            [[(short_text(f"{t.programme_label} · {t.code} {t.title}", 48), f"dp:{t.item_id}")]
             for t in found] + [[(tx._("Huỷ"), "x")]],
        )  # fmt: skip
    return _compose(ctx, found[0], draft)


def choose(ctx: StepContext, kind: str, arg: str) -> Transition | None:
    """Route a directive choice; None when it does not belong to the current step."""
    if kind == "d":
        return directive(ctx, arg)
    if kind == "dv":
        return view(ctx, int(arg))
    if kind == "dp" and ctx.conv.state == State.DIRECTIVE_PROGRAMME:
        target = ctx.reader.directive_target(int(arg))
        if target is None:
            return ctx.idle(Reply(ctx.tx._("Nội dung này không còn trong chương trình.")))
        return _compose(ctx, target, dict(ctx.conv.draft))
    if kind == "ds" and ctx.conv.state == State.DIRECTIVE_SCOPE and arg in SCOPES:
        draft = ctx.conv.draft
        due = date.fromisoformat(draft["due"]) if draft.get("due") else None
        return ctx.idle(effects=[GiveDirective(int(draft["item_id"]), draft["text"], due, arg)])
    return None


def typed(ctx: StepContext, text: str) -> Transition:
    """Text typed while a directive is being composed."""
    tx = ctx.tx
    draft = dict(ctx.conv.draft)
    if ctx.conv.state == State.DIRECTIVE_TEXT and "item_id" in draft:
        if not draft.get("due"):
            due, text = _due_in(ctx, text)
            if isinstance(due, Reply):
                return ctx.stay(due)
            draft["due"] = due.isoformat() if due else None
        draft["text"] = text
        target = ctx.reader.directive_target(int(draft["item_id"]))
        if target is None:
            return ctx.idle(Reply(tx._("Nội dung này không còn trong chương trình.")))
        return _compose(ctx, target, draft)
    if ctx.conv.state == State.DIRECTIVE_TEXT:  # a draft from before this version: start again
        return directive(ctx, f"{draft.get('code', '')} {text}")
    return ctx.stay(Reply(tx._("Đề nghị chọn một trong các lựa chọn ở trên, hoặc gõ /huy để huỷ.")))


def _compose(ctx: StepContext, target: DirectiveTarget, draft: dict[str, Any]) -> Transition:
    """Ask for the text if it is missing, then who receives it."""
    tx = ctx.tx
    draft.update(
        item_id=target.item_id,
        code=target.code,
        title=target.title,
        label=target.programme_label if draft.get("several") else "",
    )
    named = _code(draft["label"], target.code)
    text = (draft.get("text") or "").strip()
    if not text:
        transition = ctx.go(State.DIRECTIVE_TEXT, draft)
        transition.replies.append(
            Reply(
                tx._(
                    "Đề nghị nhập nội dung chỉ đạo về {code} · {title} (có thể ghi hạn ở đầu, "
                    "ví dụ: 15/01 Đề nghị …; gõ /huy để huỷ).",
                    code=named,
                    title=short_text(target.title, 80),
                )
            )
        )
        return transition
    if len(text) > ctx.settings.max_note_chars:
        return ctx.stay(
            Reply(
                tx._(
                    "Nội dung chỉ đạo quá dài ({length} ký tự, tối đa {limit}).",
                    length=len(text),
                    limit=ctx.settings.max_note_chars,
                )
            )
        )
    draft["text"] = text
    candidates = list(ctx.reader.directive_audience(target.item_id))
    if not candidates:
        return ctx.idle(
            Reply(
                tx._(
                    "Nội dung {code} chưa được giao cho cơ quan nào, nên chưa có nơi nhận chỉ đạo.",
                    code=named,
                )
            )
        )
    due = tx.date(date.fromisoformat(draft["due"])) if draft.get("due") else None
    lines = [
        tx._("Chỉ đạo về nội dung {code} · {title}", code=named, title=short_text(target.title, 80))
        + (tx._(", hạn {due}", due=due) if due else "")
        + ":",
        f"“{short_text(text, 300, one_line=False)}”",
        "",
    ]
    for role in SCOPES:
        group = [c for c in candidates if c.role == role]
        if group:
            names = [_named(c) for c in group]
            lines.append(f"{_group(tx, role, group)}: " + _names(tx, names, LISTED))
    if any(not c.reachable for c in candidates):
        lines.append(tx._("(*) cơ quan chưa có ai nhận tin qua bot"))
    lines += ["", tx._("Gửi tới:")]
    return ctx.ask(State.DIRECTIVE_SCOPE, draft, "\n".join(lines), _scope_rows(tx, candidates))


def _scope_rows(tx: Texts, candidates: Sequence[Candidate]) -> list[list[tuple[str, str]]]:
    """One choice per scope that reaches someone new, labelled with how many agencies."""
    rows = []
    reached = 0
    for scope in SCOPES:
        count = len(in_scope(candidates, scope))
        if count == reached:
            continue
        if scope == "lead":
            label = tx._("Gửi cơ quan chủ trì ({count})", count=count)
        elif scope == "support":
            label = (
                tx._("Gửi cả cơ quan phối hợp ({count})", count=count)
                if reached
                else tx._("Gửi cơ quan phối hợp ({count})", count=count)
            )
        else:
            where = ", ".join(
                dict.fromkeys(c.locality_name for c in candidates if c.role == "counterpart")
            )
            label = (
                tx._("Gửi cả cơ quan của {where} ({count})", where=where, count=count)
                if reached
                else tx._("Gửi cơ quan của {where} ({count})", where=where, count=count)
            )
        rows.append([(label, f"ds:{scope}")])
        reached = count
    return [*rows, [(tx._("Huỷ"), "x")]]


def overview(ctx: StepContext) -> Transition:
    """The member's directives still waiting for an answer: one line each, a button to open."""
    tx = ctx.tx
    shown = list(ctx.reader.open_directives())
    example = tx._(
        "Gửi chỉ đạo mới: /chidao <mã> [hạn dd/mm] <nội dung>, ví dụ /chidao 2.5 15/01 Đề nghị "
        "hoàn thành khảo sát."
    )
    if not shown:
        return ctx.stay(Reply(tx._("Không có chỉ đạo nào đang chờ báo cáo.") + "\n" + example))
    several = len({d.programme_id for d in shown}) > 1 or len(ctx.reader.directive_programmes()) > 1
    lines = [tx._("CHỈ ĐẠO ĐANG CHỜ BÁO CÁO ({count}):", count=len(shown))]
    for d in shown:
        lines.append("• " + _summary_line(tx, d, ctx.today, several))
    lines += ["", example]
    rows = [
        [(short_text(f"{_code(d.programme_label if several else '', d.item_code)} · "
                     f"{tx.date(d.created_at.astimezone(tx.tz).date())}", 40), f"dv:{d.id}")]
        for d in shown[:LISTED]
    ]  # fmt: skip
    return ctx.stay(Reply("\n".join(lines), global_menu(rows)))


def view(ctx: StepContext, directive_id: int) -> Transition:
    """One directive in full: its text and each recipient agency's answer."""
    tx = ctx.tx
    found = ctx.reader.directive(directive_id)
    assert ctx.member is not None
    if found is None or (
        ctx.member.role not in OVERSIGHT_ROLES and found.author_id != ctx.member.id
    ):
        return ctx.stay(Reply(tx._("Không tìm thấy chỉ đạo này.")))
    several = len(ctx.reader.directive_programmes()) > 1
    return ctx.stay(Reply("\n".join(detail_lines(tx, found, ctx.today, several))))


def _usage(ctx: StepContext, problem: str = "") -> Transition:
    usage = ctx.tx._(
        "Gõ mã nội dung, hạn (nếu có) và nội dung chỉ đạo, ví dụ: "
        "/chidao 2.5 15/01 Đề nghị hoàn thành khảo sát."
    )
    return ctx.stay(Reply(f"{problem} {usage}".strip()))


def _token(text: str) -> tuple[str, str]:
    """The first word and the rest, the rest verbatim (line breaks kept)."""
    parts = text.strip().split(maxsplit=1)
    return (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")


def _due_in(ctx: StepContext, text: str) -> tuple[date | Reply | None, str]:
    """A deadline at the head of `text` (and the rest), a refusal, or None and `text`."""
    head, rest = _token(text)
    match = DAY.match(head)
    if match is None:
        return None, text.strip()
    return due_date(ctx.tx, match, ctx.today), rest


def due_date(tx: Texts, match: re.Match[str], today: date) -> date | Reply:
    """Read `dd/mm[/yyyy]`: without a year, this year's date, or next year's if this year's
    has passed and next year's is near; a past or impossible date is refused."""
    day, month, year = int(match[1]), int(match[2]), match[3]
    typed = match[0]
    try:
        if year is not None:
            found = date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        else:
            found = date(today.year, month, day)
            if found < today:
                following = date(today.year + 1, month, day)
                if (following - today).days <= NEXT_YEAR_WITHIN_DAYS:
                    found = following
    except ValueError:
        return Reply(
            tx._(
                "Ngày {typed} không có trên lịch. Đề nghị ghi hạn dạng ngày/tháng, ví dụ 15/01 "
                "hoặc 15/01/2021.",
                typed=typed,
            )
        )
    if found < today:
        return Reply(
            tx._(
                "Hạn {typed} đã qua (hôm nay {today}). Đề nghị ghi hạn từ hôm nay trở đi; hạn "
                "của năm sau ghi đủ năm, ví dụ {example}.",
                typed=typed,
                today=tx.date(today),
                example=f"{day:02d}/{month:02d}/{today.year + 1}",
            )
        )
    return found


# --- how things are named -----------------------------------------------------------------------


def _code(label: str, code: str) -> str:
    """`HY 2.6.c` when the programme must be said, else `2.6.c`."""
    return f"{label} {code}" if label else code


def _agency(ctx: StepContext) -> str:
    return ctx.member.agency_name if ctx.member else ""


def _named(candidate: Candidate) -> str:
    return candidate.agency_name + ("" if candidate.reachable else " (*)")


def _group(tx: Texts, role: str, group: Sequence[Candidate]) -> str:
    if role == "lead":
        return tx._("Cơ quan chủ trì")
    if role == "support":
        return tx._("Cơ quan phối hợp")
    where = ", ".join(dict.fromkeys(c.locality_name for c in group))
    return tx._("Cơ quan của {where}", where=where)


def _role(tx: Texts, role: str) -> str:
    labels = {
        "lead": tx._("chủ trì"),
        "support": tx._("phối hợp"),
        "counterpart": tx._("tỉnh bạn"),
    }
    return labels.get(role, role)


def _names(tx: Texts, names: Sequence[str], limit: int = 3) -> str:
    """Agency names joined, the list cut after `limit` with how many more there are."""
    if len(names) <= limit + 1:
        return ", ".join(names)
    return tx._(
        "{names} và {count} cơ quan khác", names=", ".join(names[:limit]), count=len(names) - limit
    )


def _agencies(tx: Texts, recipients: Sequence[RecipientView], limit: int = 3) -> str:
    return _names(tx, [r.agency_name for r in recipients], limit)


def _day(tx: Texts, d: DirectiveView) -> str:
    return tx.date(d.created_at.astimezone(tx.tz).date())


def _summary_line(tx: Texts, d: DirectiveView, today: date, several: bool) -> str:
    """`2.6.c · 12/12/2019 · hạn 15/01/2020 — chờ Sở Tài nguyên và Môi trường Hà Nội`."""
    parts = [_code(d.programme_label if several else "", d.item_code), _day(tx, d)]
    if d.due_on is not None:
        parts.append(
            tx._("QUÁ HẠN {due}", due=tx.date(d.due_on))
            if d.overdue(today)
            else tx._("hạn {due}", due=tx.date(d.due_on))
        )
    return " · ".join(parts) + tx._(" — chờ {agencies}", agencies=_agencies(tx, d.waiting))


def _answer(tx: Texts, r: RecipientView) -> str:
    status = f"{tx.status(r.answer_status)} {r.answer_percent}%"
    note = f": {short_text(r.answer_note, 160)}" if r.answer_note else ""
    return status + note


def detail_lines(tx: Texts, d: DirectiveView, today: date, several: bool) -> list[str]:
    """A directive in full, with one line per recipient agency."""
    head = tx._(
        "Chỉ đạo của {author} ngày {when} về nội dung {code} · {title}",
        author=d.author,
        when=tx.moment(d.created_at),
        code=_code(d.programme_label if several else "", d.item_code),
        title=short_text(d.item_title, 80),
    )
    if d.due_on is not None:
        head += (
            tx._(" (QUÁ HẠN {due})", due=tx.date(d.due_on))
            if d.overdue(today)
            else tx._(" (hạn {due})", due=tx.date(d.due_on))
        )
    lines = [head + ":", f"“{short_text(d.text, 700, one_line=False)}”", ""]
    for r in d.recipients:
        if r.answered_at is not None:
            state = tx._("đã báo cáo {when}: {answer}", when=tx.moment(r.answered_at),
                         answer=_answer(tx, r))  # fmt: skip
        elif r.reached:
            state = tx._("chưa báo cáo")
        else:
            state = tx._("chưa báo cáo; chưa có ai nhận tin qua bot")
        lines.append(f"• {r.agency_name} ({_role(tx, r.role)}): {state}")
    if d.closed_at is not None:
        lines += ["", tx._("Các cơ quan đã báo cáo đủ ({when}).", when=tx.moment(d.closed_at))]
    return lines


def item_lines(tx: Texts, directives: Sequence[DirectiveView], today: date) -> list[str]:
    """The directives on an item, for `/muc`: each with who answered and who is awaited."""
    lines = []
    for d in directives:
        line = f"– {tx.moment(d.created_at)} {d.author}: {short_text(d.text, 300)}"
        if d.due_on is not None:
            line += (
                tx._(" (QUÁ HẠN {due})", due=tx.date(d.due_on))
                if d.overdue(today)
                else tx._(" (hạn {due})", due=tx.date(d.due_on))
            )
        if d.answered:
            line += "\n  " + tx._(
                "Đã báo cáo: {agencies}", agencies=_agencies(tx, d.answered, LISTED)
            )
        if d.waiting:
            line += "\n  " + tx._("Chờ báo cáo: {agencies}", agencies=_agencies(tx, d.waiting))
        lines.append(line)
    return lines


# --- what the service sends ---------------------------------------------------------------------


def _author_line(tx: Texts, author: Member) -> str:
    """`đồng chí Trần Quang Vinh, Phó Chủ tịch UBND (Ủy ban nhân dân thành phố Hà Nội)`."""
    office = author.title or (tx.role(author.role) if author.role == "vice_chair" else "")
    if office:
        return tx._(
            "đồng chí {name}, {office} ({agency})",
            name=author.name,
            office=office,
            agency=author.agency.name,
        )
    return tx._("đồng chí {name} ({agency})", name=author.name, agency=author.agency.name)


def notice(tx: Texts, given: Given, sent: Sent, recipient: Member, author: Member) -> str:
    """The directive as a recipient reads it, and how to answer."""
    item = given.target
    label = item.programme_label if sent.several_programmes else ""
    codes = sent.candidate.codes or (item.code,)
    how = (
        tx._("gõ /baocao {code}", code=_code(label, codes[0]))
        if len(codes) == 1
        else tx._(
            "gõ /baocao kèm mã nội dung ({codes})",
            codes=", ".join(_code(label, c) for c in codes[:6]) + (" …" if len(codes) > 6 else ""),
        )
    )
    lines = [
        tx._("Kính gửi đồng chí {name},", name=recipient.name),
        tx._(
            "Thực hiện chỉ đạo của {author} về nội dung {code} · {title}:",
            author=_author_line(tx, author),
            code=_code(item.programme_label if sent.several_programmes else "", item.code),
            title=short_text(item.title, 120),
        ),
        f"“{given.text}”",
    ]
    if given.due_on is not None:
        lines.append(tx._("Thời hạn báo cáo: {due}.", due=tx.date(given.due_on)))
    lines.append(
        tx._(
            "Đề nghị {agency} báo cáo kết quả thực hiện: {how}.",
            agency=sent.candidate.agency_name,
            how=how,
        )
    )
    return "\n".join(lines)


def given_reply(tx: Texts, given: Given) -> Reply:
    """What the Vice-Chair reads once the directive is sent: who got it, who could not."""
    reached = [s for s in given.recipients if s.members]
    missed = [s for s in given.recipients if not s.members]
    item = given.target
    lines = [
        tx._(
            "Đã gửi chỉ đạo về nội dung {code} tới {count} cơ quan:",
            code=_code(item.programme_label if given.several_programmes else "", item.code),
            count=len(given.recipients),
        )
    ]
    for sent in reached[:LISTED]:
        lines.append(
            tx._(
                "• {agency} ({role}): {people} người nhận",
                agency=sent.candidate.agency_name,
                role=_role(tx, sent.candidate.role),
                people=len(sent.members),
            )
        )
    if len(reached) > LISTED:
        lines.append(tx._("… và {count} cơ quan khác.", count=len(reached) - LISTED))
    if missed:
        lines.append(
            tx._(
                "Chưa gửi được tới (chưa có ai nhận tin qua bot): {agencies}. Chỉ đạo vẫn được "
                "ghi nhận; đề nghị cơ quan đầu mối mời cán bộ của các cơ quan này tham gia.",
                agencies=_names(tx, [s.candidate.agency_name for s in missed], LISTED),
            )
        )
    lines.append(tx._("Khi các cơ quan báo cáo, đồng chí sẽ được báo; gõ /chidao để theo dõi."))
    return Reply("\n".join(lines))


def not_given(tx: Texts) -> Reply:
    return Reply(
        tx._(
            "Chưa gửi được chỉ đạo: nội dung này không còn cơ quan nào trong phạm vi đã chọn. "
            "Vui lòng gõ lại /chidao."
        )
    )


def answered_text(tx: Texts, answered: Answered) -> str:
    """What the Vice-Chair is told when a recipient agency answers a directive."""
    d = answered.directive
    lines = [
        tx._(
            "{agency} đã báo cáo về chỉ đạo ngày {day} (nội dung {code}): {status} {percent}%",
            agency=answered.agency_name,
            day=_day(tx, d),
            code=_code(d.programme_label if answered.several_programmes else "", d.item_code),
            status=tx.status(answered.status),
            percent=answered.percent,
        )
        + (f" — {short_text(answered.note, 300)}" if answered.note else "")
        + "."
    ]
    if d.waiting:
        lines.append(tx._("Còn chờ: {agencies}.", agencies=_agencies(tx, d.waiting)))
    else:
        lines.append(
            tx._("Đã đủ báo cáo của {count}/{count} cơ quan nhận chỉ đạo.", count=len(d.recipients))
        )
    lines.append(tx._("Gõ /chidao để xem các chỉ đạo đang chờ báo cáo."))
    return "\n".join(lines)


def digest_open_line(tx: Texts, d: DirectiveView, today: date, several: bool) -> str:
    """A directive still waiting, as a digest lists it."""
    line = tx._(
        "• {code} ({day}, {author}): {text} — chờ {agencies}",
        code=_code(d.programme_label if several else "", d.item_code),
        day=_day(tx, d),
        author=d.author,
        text=short_text(d.text, 160),
        agencies=_agencies(tx, d.waiting),
    )
    if d.overdue(today):
        assert d.due_on is not None
        line += tx._(" (QUÁ HẠN {due})", due=tx.date(d.due_on))
    return line


def digest_answered_lines(
    tx: Texts, d: DirectiveView, recipients: Sequence[RecipientView], several: bool
) -> list[str]:
    """The answers a directive got since the previous digest, one line each."""
    code = _code(d.programme_label if several else "", d.item_code)
    return [
        tx._(
            "• {code} ({day}): {agency} — {answer}",
            code=code,
            day=_day(tx, d),
            agency=r.agency_name,
            answer=_answer(tx, r),
        )
        for r in recipients
    ]
