"""The report flow: item → status → percent → note → evidence → confirm, and quick reports."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from handlers import programmes
from handlers.access import refuse
from handlers.core import (
    REPORT_ROLES,
    MuteItem,
    SaveReport,
    State,
    StepContext,
    Transition,
    global_menu,
)
from handlers.events import Reply
from handlers.quick import QuickReport, item_code_of, parse_quick
from handlers.texts import Texts
from storage.aggregate.categories import categorize
from storage.aggregate.states import AssignmentState
from storage.textfit import fit_file_name, short_text

MAX_FILES = 5
FILE_NAME_CHARS = 300  # evidence.file_name
STATUSES = ("in_progress", "done", "blocked", "not_started")
PERCENT_BUTTONS = (0, 10, 25, 50, 75, 90, 100)


def status_text(tx: Texts, state: AssignmentState) -> str:
    """`Đang thực hiện 60%`, or `Chưa báo cáo`."""
    status = tx.status(state.status)
    if state.percent is not None and state.status is not None:
        status += f" {state.percent}%"
    return status


def state_line(tx: Texts, state: AssignmentState, labelled: bool = False) -> str:
    """`2.5 · Lĩnh vực giao thông — Đang thực hiện 60% · hạn 30/06/2020` (`labelled`: the
    programme's alias first, `HY · 2.5 · …`)."""
    return tx._(
        "{code} · {title} — {status} · hạn {due}",
        code=programmes.coded(state.programme_label if labelled else None, state.item_code),
        title=short_text(state.item_title, 60),
        status=status_text(tx, state),
        due=tx.date(state.due_date),
    )


def own_states(ctx: StepContext, programme_id: int | None = None) -> list[AssignmentState]:
    """The agency's assignments (in one programme, or all), by programme, in document order."""
    assert ctx.member is not None
    states = ctx.reader.agency_states(ctx.member.agency_id)
    return [s for s in states if programme_id is None or s.programme_id == programme_id]


def grouped(states: list[AssignmentState]) -> bool:
    """Whether a list spans programmes (then it is grouped, and its items carry the alias)."""
    return len({s.programme_id for s in states}) > 1


def start(ctx: StepContext, args: str = "", page: int = 0) -> Transition:
    """Show the agency's items as a paged menu, grouped by programme when they span several
    (`/baocao HB`: one programme's; `/baocao 2.5`: straight to that item)."""
    if (no := refuse(ctx, REPORT_ROLES)) is not None:
        return no
    tx = ctx.tx
    programme, rest = programmes.token_of(ctx, args)
    if rest:
        return pick_code(ctx, args.strip())
    if programme is None and ctx.conv.state == State.REPORT_ITEM:
        programme_id = ctx.conv.draft.get("programme")  # turning a page of one programme's list
    else:
        programme_id = programme.id if programme is not None else None
    everything = own_states(ctx)
    states = [s for s in everything if programme_id in (None, s.programme_id)]
    if not states:
        return ctx.idle(
            Reply(
                tx._(
                    "Cơ quan của anh/chị chưa được giao nội dung nào để báo cáo. "
                    "Vui lòng liên hệ cơ quan đầu mối."
                )
            )
        )
    size = ctx.settings.page_size
    pages = (len(states) + size - 1) // size
    page = max(0, min(page, pages - 1))
    shown = states[page * size : (page + 1) * size]
    head = tx._("Chọn nội dung cần báo cáo (trang {page}/{pages}):", page=page + 1, pages=pages)
    labelled = grouped(everything)
    rows = [
        [
            (
                short_text(f"{_code(s, labelled)} {s.item_title}", 48),
                f"i:{s.assignment_id}",
            )
        ]
        for s in shown
    ]
    nav = []
    if page > 0:
        nav.append((tx._("« Trang trước"), f"pg:{page - 1}"))
    if page + 1 < pages:
        nav.append((tx._("Trang sau »"), f"pg:{page + 1}"))
    if nav:
        rows.append(nav)
    rows.append([(tx._("Huỷ"), "x")])
    return ctx.ask(
        State.REPORT_ITEM,
        {"page": page, "programme": programme_id},
        head,
        rows,
        details=tuple(state_line(tx, s, labelled) for s in shown),
        headings=programmes.headings(ctx, [s.programme_id for s in shown])
        if grouped(states)
        else (),
    )


def _code(state: AssignmentState, labelled: bool) -> str:
    return programmes.coded(state.programme_label if labelled else None, state.item_code)


def unknown_code(ctx: StepContext, code: str, programme_label: str | None = None) -> Transition:
    if programme_label:
        text = ctx.tx._(
            "Chương trình {programme} không có nội dung mã {code}. Gõ /cuatoi để xem mã các "
            "nội dung.",
            programme=programme_label,
            code=code,
        )
    else:
        text = ctx.tx._(
            "Không có nội dung mã {code}. Gõ /cuatoi để xem mã các nội dung.", code=code
        )
    return ctx.stay(Reply(text))


def not_own(ctx: StepContext, code: str, programme_id: int | None = None) -> Transition:
    """Why `code` is not one of the agency's items: no such item, or someone else's."""
    label = _label(ctx, programme_id)
    items = [i for i in ctx.reader.items(code) if programme_id in (None, i.programme_id)]
    if not items:
        return unknown_code(ctx, code, label)
    return _not_yours(ctx, programmes.coded(label, code))


def _label(ctx: StepContext, programme_id: int | None) -> str | None:
    """The alias to name a programme by, when the person works in several (else None)."""
    if programme_id is None or not programmes.several(ctx):
        return None
    return next((p.label for p in ctx.reader.programmes() if p.id == programme_id), None)


def _not_yours(ctx: StepContext, code: str) -> Transition:
    return ctx.stay(
        Reply(
            ctx.tx._(
                "Nội dung {code} không được giao cho {agency}, nên anh/chị không báo cáo được. "
                "Gõ /cuatoi để xem các nội dung của cơ quan mình.",
                code=code,
                agency=ctx.member.agency_name if ctx.member else "",
            )
        )
    )


def candidates(ctx: StepContext, code: str, programme_id: int | None) -> list[AssignmentState]:
    """The agency's assignments on an item code (as item_code_of wrote it): one per programme
    that has it, or only in `programme_id`."""
    assert ctx.member is not None
    states = ctx.reader.agency_states_on(ctx.member.agency_id, code)
    return [s for s in states if programme_id in (None, s.programme_id)]


def _options(states: list[AssignmentState]) -> list[tuple[int, str, str]]:
    return [(s.programme_id, s.item_code, s.item_title) for s in states]


def pick_code(
    ctx: StepContext, typed: str, correct: bool = False, programme_id: int | None = None
) -> Transition:
    """Open the report (or its correction) for an item code the official typed, after the
    programme's alias if they typed one (`HB 2.2.a`); asked when the code is in several."""
    if (no := refuse(ctx, REPORT_ROLES)) is not None:
        return no
    programme, rest = programmes.token_of(ctx, typed)
    if not rest and correct:
        return ctx.stay(Reply(ctx.tx._("Gõ mã nội dung cần sửa, ví dụ: /sua 2.5")))
    if not rest:
        return start(ctx, typed)
    if programme is not None:
        programme_id = programme.id
    code = item_code_of(rest.split()[0])
    found = candidates(ctx, code, programme_id)
    if not found:
        return not_own(ctx, code, programme_id)
    if len(found) > 1:
        return programmes.ask(
            ctx, {"do": "correct" if correct else "report", "code": code}, _options(found)
        )
    return pick(ctx, found[0].assignment_id, correct=correct)


def pick(ctx: StepContext, assignment_id: int, correct: bool = False) -> Transition:
    """Start reporting on one assignment of the member's agency."""
    if (no := refuse(ctx, REPORT_ROLES)) is not None:
        return no
    tx = ctx.tx
    state = ctx.reader.assignment_state(assignment_id)
    if state is None:
        return ctx.idle(Reply(tx._("Nội dung này không còn trong chương trình.")))
    assert ctx.member is not None
    if state.agency_id != ctx.member.agency_id:
        return _not_yours(ctx, state.item_code)
    draft = _draft(ctx, state)
    head = tx._(
        "Nội dung {code}: {title}", code=_shown(draft), title=short_text(state.item_title, 200)
    )
    current = tx._(
        "Hiện tại: {status} · hạn {due}", status=status_text(tx, state), due=tx.date(state.due_date)
    )
    if correct:
        if state.report_id is None:
            return ctx.stay(
                Reply(
                    tx._(
                        "Nội dung {code} chưa có báo cáo nào để sửa. Gõ /baocao để báo cáo.",
                        code=_shown(draft),
                    )
                )
            )
        draft.update(corrects_id=state.report_id, note=state.note)
        head = tx._(
            "Sửa báo cáo ngày {when} của nội dung {code}.",
            when=tx.moment(state.reported_at),
            code=_shown(draft),
        )
    return ask_status(ctx, draft, "\n".join([head, current]))


def _draft(ctx: StepContext, state: AssignmentState) -> dict[str, Any]:
    """A report's first answers: the assignment, and how to name its item (with the
    programme's alias for someone who works in several)."""
    draft: dict[str, Any] = {
        "aid": state.assignment_id,
        "code": state.item_code,
        "title": state.item_title,
        "evidence": [],
    }
    if programmes.several(ctx):
        draft["programme_label"] = state.programme_label
    return draft


def _shown(draft: dict[str, Any]) -> str:
    """The item as the person reads it: `2.5`, or `HB · 2.2.a` among several programmes."""
    return programmes.coded(draft.get("programme_label"), str(draft["code"]))


def ask_status(ctx: StepContext, draft: dict[str, Any], intro: str = "") -> Transition:
    tx = ctx.tx
    rows = [[(tx.status(s), f"s:{s}")] for s in STATUSES] + [[(tx._("Huỷ"), "x")]]
    text = (intro + "\n\n" if intro else "") + tx._("Tình trạng thực hiện?")
    return ctx.ask(State.REPORT_STATUS, draft, text, rows)


def choose_status(ctx: StepContext, status: str) -> Transition:
    if status not in STATUSES:
        return ctx.stay(Reply(ctx.tx._("Vui lòng chọn một trong các nút.")))
    draft = dict(ctx.conv.draft, status=status)
    if status == "done":
        draft["percent"] = 100
        return ask_note(ctx, draft)
    if status == "not_started":
        draft["percent"] = 0
        return ask_note(ctx, draft)
    return ask_percent(ctx, draft)


def typed_status(ctx: StepContext, text: str) -> Transition:
    """Accept a typed status word (with or without diacritics) where buttons are shown."""
    quick = parse_quick(f"0 {text}")
    if quick and quick.status and not quick.note:
        transition = choose_status(ctx, quick.status)
        if (
            quick.percent is not None
            and quick.status in {"in_progress", "blocked"}
            and quick.percent <= 100
        ):
            return choose_percent(ctx, quick.percent, transition.draft)
        return transition
    return resend_menu(ctx)


def resend_menu(ctx: StepContext) -> Transition:
    """Text where a choice was expected: say so, and show the choices again."""
    tx = ctx.tx
    hint = tx._("Vui lòng chọn một trong các nút bên dưới (hoặc gõ số thứ tự). Gõ /huy để huỷ.")
    state = ctx.conv.state
    draft = ctx.conv.draft
    if state == State.REPORT_STATUS:
        return ask_status(ctx, draft, hint)
    if state == State.REPORT_ITEM:
        transition = start(ctx, page=int(draft.get("page", 0)))
        transition.replies.insert(0, Reply(hint))
        return transition
    if state == State.REPORT_CONFIRM:
        return confirm(ctx, draft, hint)
    return ctx.stay(Reply(hint))


def ask_percent(ctx: StepContext, draft: dict[str, Any], intro: str = "") -> Transition:
    tx = ctx.tx
    buttons = [(f"{p}%", f"p:{p}") for p in PERCENT_BUTTONS]
    rows = [buttons[:4], buttons[4:], [(tx._("Huỷ"), "x")]]
    text = (intro + "\n" if intro else "") + tx._(
        "Đã hoàn thành bao nhiêu phần trăm? Chọn hoặc gõ một số từ 0 đến 100."
    )
    return ctx.ask(State.REPORT_PERCENT, draft, text, rows, typed_choices=True)


def typed_percent(ctx: StepContext, text: str) -> Transition:
    cleaned = text.strip().rstrip("%").strip().replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return ctx.stay(
            Reply(
                ctx.tx._(
                    "“{text}” không phải là một con số. Vui lòng gõ phần trăm từ 0 đến 100, "
                    "ví dụ 60.",
                    text=short_text(text, 40),
                )
            )
        )
    if not 0 <= value <= 100:
        return ctx.stay(
            Reply(
                ctx.tx._(
                    "Tiến độ phải từ 0 đến 100%, không thể là {value}%. Vui lòng gõ lại.",
                    value=f"{value:g}",
                )
            )
        )
    return choose_percent(ctx, round(value))


def choose_percent(ctx: StepContext, value: int, draft: dict[str, Any] | None = None) -> Transition:
    if not 0 <= value <= 100:  # only a made-up button carries one
        return ask_percent(ctx, dict(ctx.conv.draft if draft is None else draft))
    draft = dict(ctx.conv.draft if draft is None else draft, percent=value)
    if value == 100 and draft.get("status") == "in_progress":
        draft["status"] = "done"
    return ask_note(ctx, draft)


def ask_note(ctx: StepContext, draft: dict[str, Any]) -> Transition:
    tx = ctx.tx
    if draft.get("status") == "blocked":
        text = tx._("Vướng mắc là gì, cần cấp nào quyết định? (bắt buộc)")
        rows = [[(tx._("Huỷ"), "x")]]
    else:
        text = tx._("Ghi chú ngắn về kết quả (không bắt buộc):")
        rows = [[(tx._("Bỏ qua"), "n:skip")], [(tx._("Huỷ"), "x")]]
    if draft.get("note"):
        text += "\n" + tx._(
            "Ghi chú trước: {note}", note=short_text(draft["note"], 300, one_line=False)
        )
        rows.insert(0, [(tx._("Giữ ghi chú trước"), "n:keep")])
    return ctx.ask(State.REPORT_NOTE, draft, text, rows)


def too_long(ctx: StepContext, note: str) -> Transition | None:
    """Refuse a note over the configured length, saying by how much."""
    limit = ctx.settings.max_note_chars
    if len(note) <= limit:
        return None
    return ctx.stay(
        Reply(
            ctx.tx._(
                "Ghi chú dài {length} ký tự, vượt giới hạn {limit}. Vui lòng rút gọn và gửi lại "
                "(có thể đính kèm tệp chi tiết ở bước sau).",
                length=len(note),
                limit=limit,
            )
        )
    )


def typed_note(ctx: StepContext, text: str) -> Transition:
    if (no := too_long(ctx, text.strip())) is not None:
        return no
    return ask_evidence(ctx, dict(ctx.conv.draft, note=text.strip()))


def skip_note(ctx: StepContext, keep: bool) -> Transition:
    draft = dict(ctx.conv.draft)
    if draft.get("status") == "blocked" and not (keep and draft.get("note")):
        return ctx.stay(
            Reply(
                ctx.tx._(
                    "Khi vướng mắc, cần ghi rõ vướng mắc để lãnh đạo xử lý. Vui lòng gõ nội dung."
                )
            )
        )
    if not keep:
        draft["note"] = ""
    return ask_evidence(ctx, draft)


def ask_evidence(ctx: StepContext, draft: dict[str, Any], intro: str = "") -> Transition:
    tx = ctx.tx
    count = len(draft.get("evidence", []))
    text = (intro + "\n" if intro else "") + tx._(
        "Gửi ảnh hoặc tệp minh chứng nếu có (tối đa {max} tệp), rồi bấm “Tiếp tục”.", max=MAX_FILES
    )
    if count:
        text += "\n" + tx._("Đã nhận {count} tệp.", count=count)
    rows = [[(tx._("Tiếp tục"), "e:done")], [(tx._("Huỷ"), "x")]]
    return ctx.ask(State.REPORT_EVIDENCE, draft, text, rows)


def add_file(ctx: StepContext) -> Transition:
    """Keep a file as evidence; the service downloads it after this step (its `ref` only)."""
    tx = ctx.tx
    file = ctx.event.file
    assert file is not None
    draft = dict(ctx.conv.draft)
    if ctx.conv.state == State.REPORT_NOTE:
        draft.setdefault("note", "")  # a file instead of a note: go on to the evidence step
    elif ctx.conv.state != State.REPORT_EVIDENCE:
        return ctx.stay(
            Reply(
                tx._(
                    "Để gửi minh chứng, hãy bắt đầu báo cáo bằng /baocao; đến bước minh chứng "
                    "thì gửi tệp."
                )
            )
        )
    evidence = list(draft.get("evidence", []))
    if len(evidence) >= MAX_FILES:
        return ctx.stay(
            Reply(tx._("Đã đủ {max} tệp cho một báo cáo. Bấm “Tiếp tục”.", max=MAX_FILES))
        )
    max_bytes = ctx.settings.max_evidence_mb * 1024 * 1024
    if file.size is not None and file.size > max_bytes:
        return ctx.stay(
            Reply(
                tx._(
                    "Tệp {name} quá lớn ({size} MB); giới hạn là {max} MB. Vui lòng gửi tệp nhỏ hơn.",
                    name=file.file_name,
                    size=f"{file.size / 1048576:.1f}",
                    max=ctx.settings.max_evidence_mb,
                )
            )
        )
    if file.mime_type not in ctx.settings.evidence_types:
        return ctx.stay(
            Reply(
                tx._(
                    "Không nhận loại tệp {kind}. Chỉ nhận ảnh (JPG, PNG), PDF, Word hoặc Excel.",
                    kind=file.mime_type or "?",
                )
            )
        )
    name = fit_file_name(file.file_name, FILE_NAME_CHARS)
    evidence.append(
        {
            "kind": file.kind,
            "file_name": name,
            "mime_type": file.mime_type,
            "size": file.size or 0,
            "ref": file.ref,
        }
    )
    draft["evidence"] = evidence
    return ask_evidence(ctx, draft, tx._("Đã nhận tệp {name}.", name=short_text(name, 80)))


def confirm(ctx: StepContext, draft: dict[str, Any], intro: str = "") -> Transition:
    tx = ctx.tx
    lines = [intro] if intro else []
    lines += [
        tx._("Kiểm tra lại báo cáo:"),
        tx._(
            "Nội dung: {code} · {title}", code=_shown(draft), title=short_text(draft["title"], 80)
        ),
        tx._("Tình trạng: {status}", status=tx.status(draft["status"])),
        tx._("Tiến độ: {percent}%", percent=draft["percent"]),
        tx._("Ghi chú: {note}", note=draft.get("note") or "—"),
    ]
    if draft.get("evidence"):
        lines.append(tx._("Minh chứng: {count} tệp", count=len(draft["evidence"])))
    if draft.get("corrects_id"):
        lines.append(tx._("(Báo cáo này thay thế báo cáo trước; lịch sử vẫn được giữ.)"))
    rows = [[(tx._("✅ Gửi báo cáo"), "c:ok"), (tx._("✏️ Sửa"), "c:edit")], [(tx._("Huỷ"), "x")]]
    return ctx.ask(State.REPORT_CONFIRM, draft, "\n".join(lines), rows)


def evidence_done(ctx: StepContext) -> Transition:
    return confirm(ctx, dict(ctx.conv.draft))


def submit(ctx: StepContext) -> Transition:
    """Save the report and thank the official with the item's new state."""
    tx = ctx.tx
    draft = ctx.conv.draft
    state = ctx.reader.assignment_state(int(draft["aid"]))
    if state is None:
        return ctx.idle(Reply(tx._("Nội dung này không còn trong chương trình.")))
    if draft["status"] == "blocked" and not draft.get("note"):
        return ask_note(ctx, dict(draft))
    completed = state.completed_on if state.status == "done" else ctx.today
    category = categorize(
        draft["status"], state.due_date, completed if draft["status"] == "done" else None, ctx.today
    )
    effect = SaveReport(
        int(draft["aid"]),
        draft["status"],
        int(draft["percent"]),
        draft.get("note", ""),
        tuple(draft.get("evidence", [])),
        draft.get("corrects_id"),
    )
    text = tx._(
        "Cảm ơn anh/chị! Đã ghi nhận báo cáo nội dung {code}: {status} {percent}% — "
        "{category} (hạn {due}).",
        code=_shown(draft),
        status=tx.status(draft["status"]),
        percent=draft["percent"],
        category=tx.category(category),
        due=tx.date(state.due_date),
    )
    buttons = (
        global_menu([[(tx._("🔕 Tạm dừng nhắc việc mục này 7 ngày"), f"m:{draft['aid']}")]])
        if draft["status"] != "done"
        else ()
    )
    return ctx.idle(Reply(text, buttons), effects=[effect])


def mute(ctx: StepContext, assignment_id: int) -> Transition:
    """Silence non-urgent reminders on an item the official has just reported on."""
    state = ctx.reader.assignment_state(assignment_id)
    if state is None or ctx.member is None or state.agency_id != ctx.member.agency_id:
        return ctx.stay(Reply(ctx.tx._("Nội dung này không còn trong chương trình.")))
    return ctx.stay(
        Reply(
            ctx.tx._(
                "Đã tạm dừng nhắc việc thường kỳ cho nội dung {code} trong 7 ngày. Nhắc việc quá hạn "
                "vẫn được gửi.",
                code=state.item_code,
            )
        ),
        effects=[MuteItem(assignment_id)],
    )


def quick(ctx: StepContext, parsed: QuickReport, programme_id: int | None = None) -> Transition:
    """Turn a one-line report into a draft and ask for one tap to confirm; when its code is
    in several of the agency's programmes, ask which first, keeping what was typed."""
    if (no := refuse(ctx, REPORT_ROLES)) is not None:
        return no
    tx = ctx.tx
    found = candidates(ctx, parsed.code, programme_id)
    if not found:
        return not_own(ctx, parsed.code, programme_id)
    if parsed.problem == "percent_range":
        return ctx.stay(
            Reply(
                tx._(
                    "Tiến độ phải từ 0 đến 100%, không thể là {value}%. Vui lòng gõ lại.",
                    value=parsed.percent,
                )
            )
        )
    if (no := too_long(ctx, parsed.note)) is not None:
        return no
    if len(found) > 1:
        return programmes.ask(ctx, {"do": "quick", **asdict(parsed)}, _options(found))
    state = found[0]
    draft = _draft(ctx, state)
    if parsed.status is None:
        return ask_status(
            ctx,
            draft,
            tx._("Nội dung {code}: chưa rõ tình trạng. Vui lòng chọn:", code=_shown(draft)),
        )
    draft.update(status=parsed.status, percent=parsed.percent, note=parsed.note)
    if parsed.percent is None:
        return ask_percent(ctx, draft)
    if parsed.status == "blocked" and not parsed.note:
        return ask_note(ctx, draft)
    return confirm(ctx, draft)
