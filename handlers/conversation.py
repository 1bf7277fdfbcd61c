"""The conversation step: one inbound event and the stored state in, a transition out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from handlers import absence, directives, onboarding, oversight, queries, report
from handlers.core import Conv, State, StepContext, Transition, split_choice
from handlers.events import Reply
from handlers.quick import parse_quick
from handlers.texts import Texts
from storage.people import invite_code_of

Command = Callable[[StepContext, str], Transition]


def _cancel(ctx: StepContext, args: str = "") -> Transition:
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
    return Reply(
        ctx.tx._(
            "Thao tác trước đã hết hạn vì không hoạt động {minutes} phút; "
            "chưa có gì được lưu. Vui lòng bắt đầu lại.",
            minutes=ctx.settings.idle_minutes,
        )
    )


def step(ctx: StepContext) -> Transition:
    """Decide what this event means in this state, and what to answer."""
    prefix: list[Reply] = []
    if expired(ctx):
        prefix.append(expiry_notice(ctx))
        ctx.conv = Conv(State.IDLE, {}, ctx.conv.language, ctx.conv.menu_token, None)
    transition = _route(ctx)
    transition.replies[:0] = prefix
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
    if choice is None and text.isdigit() and ctx.conv.state != State.REPORT_PERCENT:
        options = ctx.conv.draft.get("_menu", [])
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
        if kind == "o":
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
    except ValueError:
        pass
    return _stale_menu(ctx)


def _text(ctx: StepContext, text: str) -> Transition:
    tx = ctx.tx
    state = ctx.conv.state
    if not text:
        return ctx.stay(Reply(tx._("Tin nhắn trống. Gõ /trogiup để xem hướng dẫn.")))
    if state == State.REPORT_ITEM:
        parsed = parse_quick(text)
        if parsed is not None and parsed.status is not None:
            return report.quick(ctx, parsed)
        return report.pick_code(ctx, text) if parsed is not None else report.resend_menu(ctx)
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
    parsed = parse_quick(text)
    if parsed is not None:
        if parsed.problem in {"empty", "no_status"} and not parsed.note:
            return report.pick_code(ctx, parsed.code)
        if parsed.problem == "no_status":
            return ctx.stay(
                Reply(
                    tx._(
                        "Chưa rõ tình trạng của nội dung {code}. Ví dụ cách gõ: {code} 60% ghi chú · "
                        "{code} xong · {code} vướng mắc: lý do",
                        code=parsed.code,
                    )
                )
            )
        return report.quick(ctx, parsed)
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
