"""The conversation step: one inbound event and the stored state in, a transition out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from handlers import absence, directives, onboarding, oversight, programmes, queries, report
from handlers.core import Conv, State, StepContext, Transition, split_choice
from handlers.events import Inbound, Reply
from handlers.quick import QuickReport, parse_quick
from handlers.texts import Texts
from storage.people import invite_code_of

Command = Callable[[StepContext, str], Transition]


def _cancel(ctx: StepContext, args: str = "") -> Transition:
    if ctx.conv.state == State.CONFIRM_JOIN:
        return ctx.idle(Reply(ctx.tx._("Tài khoản vẫn liên kết như cũ; mã mời chưa được dùng.")))
    if ctx.conv.state == State.IDLE:
        return ctx.idle(Reply(ctx.tx._("Không có thao tác nào đang làm.")))
    return ctx.idle(Reply(ctx.tx._("Đã huỷ. Chưa có gì được lưu từ thao tác vừa rồi.")))


def _correct(ctx: StepContext, args: str) -> Transition:
    if not args.strip():
        return ctx.stay(Reply(ctx.tx._("Gõ mã nội dung cần sửa, ví dụ: /sua 2.5")))
    return report.pick_code(ctx, args, correct=True)


# Telegram command names are Latin lower case (no diacritics); English aliases too.
COMMANDS: dict[str, Command] = {
    "start": onboarding.start,
    "baocao": report.start,
    "report": report.start,
    "huy": _cancel,
    "cancel": _cancel,
    "cuatoi": queries.mine,
    "my": queries.mine,
    "muc": queries.item,
    "item": queries.item,
    "sua": _correct,
    "correct": _correct,
    "tonghop": oversight.summary,
    "summary": oversight.summary,
    "quahan": oversight.overdue,
    "overdue": oversight.overdue,
    "chuabaocao": oversight.missing,
    "missing": oversight.missing,
    "xuat": oversight.export,
    "export": oversight.export,
    "duyet": oversight.review_list,
    "review": oversight.review_list,
    "chidao": directives.directive,
    "directive": directives.directive,
    "vangmat": absence.start,
    "away": absence.start,
    "lienket": onboarding.link,
    "link": onboarding.link,
    "kenh": onboarding.channel,
    "channel": onboarding.channel,
    "ngonngu": onboarding.language,
    "language": onboarding.language,
    "trogiup": onboarding.help_,
    "help": onboarding.help_,
}
OPEN_TO_ALL = {"start", "trogiup", "help", "huy", "cancel"}


def apology(tx: Texts) -> str:
    """What a person reads when handling their message failed unexpectedly."""
    return tx._(
        "Xin lỗi, bot gặp lỗi khi xử lý tin nhắn này. Chưa có gì bị mất; vui lòng thử "
        "lại sau ít phút."
    )


def expired(ctx: StepContext) -> bool:
    """A half-finished conversation idle longer than the limit has expired."""
    conv = ctx.conv
    if conv.state == State.IDLE or conv.updated_at is None:
        return False
    return ctx.now - conv.updated_at > timedelta(minutes=ctx.settings.idle_minutes)


def expiry_notice(ctx: StepContext) -> Reply:
    """Say that the half-finished conversation expired, and how to start it again."""
    tx = ctx.tx
    state = ctx.conv.state
    then = ctx.conv.draft.get("then") or {}
    if state == State.REVIEW_REASON:
        again = tx._("Gõ /duyet để xem lại các báo cáo chờ xem xét.")
    elif state in directives.STATES:
        again = tx._("Gõ /chidao để gửi lại chỉ đạo.")
    elif state == State.CONFIRM_JOIN:
        again = tx._("Gửi lại mã mời nếu vẫn muốn dùng.")
    elif state == State.PICK_PROGRAMME and then.get("do") == "item":
        again = tx._("Gõ lại /muc kèm mã nội dung để xem.")
    else:
        again = tx._("Gõ /baocao để báo cáo lại.")
    return Reply(
        tx._(
            "Thao tác trước đã hết hạn vì không hoạt động {minutes} phút; "
            "chưa có gì được lưu. {again}",
            minutes=ctx.settings.idle_minutes,
            again=again,
        )
    )


def _fresh(event: Inbound) -> bool:
    """A command, or a button that stays valid on old messages: something new, not an answer
    to the conversation that expired."""
    if (event.text or "").strip().startswith("/"):
        return True
    return event.choice is not None and split_choice(event.choice)[0] is None


def step(ctx: StepContext) -> Transition:
    """Decide what this event means in this state, and what to answer."""
    ctx.event = ctx.event.cleaned()
    if not expired(ctx):
        return _route(ctx)
    notice = expiry_notice(ctx)
    ctx.conv = Conv(State.IDLE, {}, ctx.conv.language, ctx.conv.menu_token, None)
    if not _fresh(ctx.event):  # an answer to what expired: only say so
        return ctx.idle(notice)
    transition = _route(ctx)
    transition.replies.insert(0, notice)
    return transition


def _route(ctx: StepContext) -> Transition:
    event = ctx.event
    tx = ctx.tx
    if event.edited:
        return ctx.stay(
            Reply(
                tx._("Bot không xử lý tin nhắn đã sửa. Nếu cần sửa báo cáo, gõ /sua <mã nội dung>.")
            )
        )
    if event.unsupported == "withheld":
        return ctx.stay(
            Reply(
                tx._(
                    "Zalo không cho bot xem nội dung tin nhắn này (vì quyền riêng "
                    "tư). Vui lòng gõ lại bằng chữ."
                )
            )
        )
    if event.unsupported:
        return ctx.stay(
            Reply(
                tx._(
                    "Bot chỉ đọc được chữ, ảnh và tệp tài liệu; chưa đọc được "
                    "{kind}. Vui lòng gõ nội dung.",
                    kind=_kind_label(ctx, event.unsupported),
                )
            )
        )
    text = (event.text or "").strip()
    if text.startswith("/"):
        return _command(ctx, text)
    if ctx.member is None:
        return onboarding.unlinked(ctx)
    choice = event.choice
    if (
        choice is None
        and text.isascii()
        and text.isdigit()
        and ctx.conv.state != State.REPORT_PERCENT
    ):
        options = ctx.conv.draft.get("_menu", [])
        if options and not _menu_current(ctx):
            return _stale_menu(ctx)
        if 1 <= int(text) <= len(options):
            choice = options[int(text) - 1]
        elif options:
            return ctx.stay(
                Reply(
                    tx._(
                        "Không có lựa chọn số {n}. Vui lòng gõ số từ 1 đến {max}.",
                        n=text,
                        max=len(options),
                    )
                )
            )
    if choice is not None:
        return _choice(ctx, choice)
    if event.file is not None:
        return report.add_file(ctx)
    return _text(ctx, text)


def _menu_current(ctx: StepContext) -> bool:
    """Whether a typed number may still answer the last numbered menu. A menu of a step in
    progress always may; one left after the conversation ended (the mute option after a
    report) only until the idle limit, and never once the bot has written since."""
    conv = ctx.conv
    if conv.state != State.IDLE or conv.updated_at is None:
        return True
    if ctx.now - conv.updated_at > timedelta(minutes=ctx.settings.idle_minutes):
        return False
    return not ctx.reader.told_since(conv.updated_at)


def _kind_label(ctx: StepContext, kind: str) -> str:
    labels = {
        "sticker": ctx.tx._("nhãn dán"),
        "voice": ctx.tx._("tin nhắn thoại"),
        "video": ctx.tx._("video"),
        "location": ctx.tx._("vị trí"),
    }
    return labels.get(kind, ctx.tx._("loại tin nhắn này"))


def _command(ctx: StepContext, text: str) -> Transition:
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    handler = COMMANDS.get(name)
    if handler is None:
        return ctx.stay(
            Reply(ctx.tx._("Không có lệnh /{name}. Gõ /trogiup để xem các lệnh.", name=name[:32]))
        )
    if ctx.member is None and name not in OPEN_TO_ALL:
        if name in {"ngonngu", "language"}:
            return onboarding.language(ctx, args)
        return onboarding.not_linked(ctx)
    return handler(ctx, args)


def _choose_first(ctx: StepContext, text: str) -> Transition:
    """Text where a choice is awaited: a new report or code starts over, else ask again."""
    if ctx.conv.state == State.PICK_PROGRAMME and (typed := _typed_report(ctx, text)):
        return typed
    return ctx.stay(
        Reply(
            ctx.tx._(
                "Vui lòng chọn một trong các lựa chọn ở tin nhắn trên (hoặc gõ số thứ tự). "
                "Gõ /huy để huỷ."
            )
        )
    )


def _stale_menu(ctx: StepContext) -> Transition:
    return ctx.stay(
        Reply(
            ctx.tx._(
                "Menu này đã hết hạn. Vui lòng dùng menu mới nhất hoặc gõ lệnh lại (ví dụ /baocao)."
            )
        )
    )


def _choice(ctx: StepContext, data: str) -> Transition:
    """Route a tapped (or numbered) choice; buttons from a retired menu are refused."""
    token, action = split_choice(data)
    if token is not None and token != ctx.conv.menu_token:
        return _stale_menu(ctx)
    kind, _, arg = action.partition(":")
    state = ctx.conv.state
    try:
        # Global buttons (reminders, digests, item views) work from any old message.
        if kind == "r":
            return report.pick(ctx, int(arg))
        if kind == "o":  # o:CODE (older messages) or o:PROGRAMME_ID:CODE
            programme_id, colon, code = arg.partition(":")
            if colon:
                return _leave_pick(ctx, queries.item(ctx, code, int(programme_id)))
            return queries.item(ctx, arg)
        if kind in directives.CHOICES:
            moved = directives.choose(ctx, kind, arg)
            if moved is not None:
                return moved
        if kind == "v":
            report_id, _, decision = arg.partition(":")
            if decision:
                return oversight.review_decide(ctx, int(report_id), decision)
            return oversight.review_one(ctx, int(report_id))
        if kind == "l":
            return onboarding.choose_language(ctx, arg)
        if kind == "m":
            return report.mute(ctx, int(arg))
        if kind == "ch":
            return onboarding.choose_channel(ctx, arg)
        if kind == "x":
            return _cancel(ctx)
        if kind == "a":
            return absence.choose(ctx, arg)
        if kind == "i" and state == State.REPORT_ITEM:
            return report.pick(ctx, int(arg))
        if kind == "pg" and state == State.REPORT_ITEM:
            return report.start(ctx, page=int(arg))
        if kind == "s" and state == State.REPORT_STATUS:
            return report.choose_status(ctx, arg)
        if kind == "p" and state == State.REPORT_PERCENT:
            return report.choose_percent(ctx, int(arg))
        if kind == "n" and state == State.REPORT_NOTE:
            return report.skip_note(ctx, keep=arg == "keep")
        if kind == "e" and state == State.REPORT_EVIDENCE:
            return report.evidence_done(ctx)
        if kind == "c" and state == State.REPORT_CONFIRM:
            return report.submit(ctx) if arg == "ok" else report.ask_status(ctx, ctx.conv.draft)
        if kind == "pp" and state == State.PICK_PROGRAMME:
            return _resume(ctx, int(arg))
        if kind == "j" and state == State.CONFIRM_JOIN:
            return onboarding.confirm_move(ctx)
    except ValueError:
        pass
    return _stale_menu(ctx)


def _resume(ctx: StepContext, programme_id: int) -> Transition:
    """Go on with what was typed, now that the person said which programme it is about."""
    then = dict(ctx.conv.draft.get("then") or {})
    do, code = then.pop("do", ""), str(then.get("code", ""))
    if do == "quick":
        return _leave_pick(ctx, report.quick(ctx, QuickReport(**then), programme_id))
    if do in {"report", "correct"}:
        correct = do == "correct"
        return _leave_pick(ctx, report.pick_code(ctx, code, correct, programme_id))
    if do == "item":
        return _leave_pick(ctx, queries.item(ctx, code, programme_id))
    return _stale_menu(ctx)


def _leave_pick(ctx: StepContext, transition: Transition) -> Transition:
    """An answer that stays where it is (a view, a refusal) ends the programme question when
    it comes from it: the question has been answered."""
    if transition.state == State.PICK_PROGRAMME and ctx.conv.state == State.PICK_PROGRAMME:
        return ctx.idle(*transition.replies, effects=transition.effects)
    return transition


def _typed_report(ctx: StepContext, text: str) -> Transition | None:
    """A quick report or an item code, after the programme's alias if one was typed
    (`HB 2.2.a 50% ghi chú`); None if the text is neither."""
    programme, rest = programmes.token_of(ctx, text)
    parsed = parse_quick(rest)
    if parsed is None:
        return None
    programme_id = programme.id if programme is not None else None
    if parsed.problem in {"empty", "no_status"} and not parsed.note:
        return report.pick_code(ctx, parsed.code, programme_id=programme_id)
    if parsed.problem == "no_status":
        return ctx.stay(
            Reply(
                ctx.tx._(
                    "Chưa rõ tình trạng của nội dung {code}. Ví dụ cách gõ: {code} 60% ghi chú · "
                    "{code} xong · {code} vướng mắc: lý do",
                    code=parsed.code,
                )
            )
        )
    return report.quick(ctx, parsed, programme_id)


def _text(ctx: StepContext, text: str) -> Transition:
    tx = ctx.tx
    state = ctx.conv.state
    if not text:
        return ctx.stay(Reply(tx._("Tin nhắn trống. Gõ /trogiup để xem hướng dẫn.")))
    if state == State.REPORT_ITEM:
        return _typed_report(ctx, text) or report.resend_menu(ctx)
    if state in {State.PICK_PROGRAMME, State.CONFIRM_JOIN}:
        return _choose_first(ctx, text)
    if state == State.REPORT_STATUS:
        return report.typed_status(ctx, text)
    if state == State.REPORT_PERCENT:
        return report.typed_percent(ctx, text)
    if state == State.REPORT_NOTE:
        return report.typed_note(ctx, text)
    if state == State.REPORT_EVIDENCE:
        return ctx.stay(
            Reply(
                tx._(
                    "Ở bước này, gửi ảnh hoặc tệp minh chứng, hoặc bấm “Tiếp tục”. Gõ /huy để huỷ."
                )
            )
        )
    if state == State.REPORT_CONFIRM:
        return report.resend_menu(ctx)
    if state == State.REVIEW_REASON:
        return oversight.return_reason(ctx, text)
    if state in directives.STATES:
        return directives.typed(ctx, text)
    if (typed := _typed_report(ctx, text)) is not None:
        return typed
    if invite_code_of(text):
        return onboarding.try_join(ctx, text)
    return ctx.stay(
        Reply(
            tx._(
                "Tôi chưa hiểu tin nhắn này. Gõ /baocao để báo cáo, hoặc báo cáo nhanh, ví dụ: "
                "2.5 60% đã khảo sát tuyến buýt. Gõ /trogiup để xem các lệnh."
            )
        )
    )
