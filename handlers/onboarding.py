"""Joining with an invite code, greeting, help and language."""

from __future__ import annotations

from handlers.core import (
    DIRECTIVE_ROLES,
    OVERSIGHT_ROLES,
    REVIEW_ROLES,
    FailedJoin,
    Join,
    MakeLinkCode,
    SetChannel,
    SetLanguage,
    StepContext,
    Transition,
    menu,
)
from handlers.events import Reply
from handlers.texts import Texts
from storage.people import ActiveMember, invite_code_of


def not_linked(ctx: StepContext) -> Transition:
    """Tell an unknown account how to join, and nothing else."""
    tx = ctx.tx
    return ctx.stay(
        Reply(
            tx._(
                "Tài khoản này chưa được liên kết với cơ quan nào nên chưa xem hay báo cáo được.\n"
                "Hãy gửi mã mời (8 ký tự, ví dụ K7QX-M3PA) do cơ quan đầu mối cấp, "
                "hoặc mở đường link mời."
            )
        )
    )


def try_join(ctx: StepContext, typed: str) -> Transition:
    """Check a typed or deep-linked invite code; the service links the account."""
    tx = ctx.tx
    limit = ctx.settings.join_attempts_per_hour
    if ctx.reader.failed_joins_last_hour() >= limit:
        return ctx.stay(
            Reply(
                tx._(
                    "Anh/chị đã nhập sai mã mời quá {limit} lần trong một giờ. "
                    "Vui lòng thử lại sau, hoặc liên hệ cơ quan đầu mối để được cấp mã mới.",
                    limit=limit,
                )
            )
        )
    code = invite_code_of(typed)
    problem = ctx.reader.invite_problem(code) if code else "unknown"
    if problem is None and code:
        return ctx.idle(effects=[Join(code)])
    messages = {
        "unknown": tx._(
            "Mã mời {code} không đúng. Vui lòng kiểm tra lại (8 ký tự, "
            "không phân biệt hoa thường).",
            code=typed.strip()[:20],
        ),
        "used": tx._(
            "Mã mời này đã được sử dụng. Mỗi mã chỉ dùng một lần; "
            "vui lòng xin mã mới từ cơ quan đầu mối."
        ),
        "expired": tx._("Mã mời này đã hết hạn. Vui lòng xin mã mới từ cơ quan đầu mối."),
        "revoked": tx._("Mã mời này đã bị thu hồi. Vui lòng liên hệ cơ quan đầu mối."),
    }
    return ctx.stay(Reply(messages[problem or "unknown"]), effects=[FailedJoin()])


def unlinked(ctx: StepContext) -> Transition:
    """Anything from an account not linked to a member: only a code is understood."""
    text = (ctx.event.text or "").strip()
    if text and invite_code_of(text):
        return try_join(ctx, text)
    return not_linked(ctx)


def commands_for(tx: Texts, role: str) -> list[str]:
    lines = [
        tx._("/baocao — báo cáo tiến độ một nội dung"),
        tx._("/cuatoi — các nội dung của cơ quan tôi"),
        tx._("/muc 2.5 — xem một nội dung, lịch sử và minh chứng"),
        tx._("/sua 2.5 — sửa báo cáo gần nhất của một nội dung"),
        tx._("/vangmat — báo vắng và người thay"),
        tx._("/lienket — liên kết thêm tài khoản Zalo hoặc Telegram"),
        tx._("/kenh — chọn kênh nhận nhắc việc"),
        tx._("/ngonngu — đổi ngôn ngữ (Tiếng Việt / English)"),
        tx._("/huy — huỷ thao tác đang làm"),
    ]
    if role in OVERSIGHT_ROLES:
        lines += [
            tx._("/tonghop — bảng tổng hợp"),
            tx._("/quahan — nội dung quá hạn và vướng mắc"),
            tx._("/chuabaocao — cơ quan chưa báo cáo kỳ này"),
            tx._("/xuat — xuất tệp Excel tổng hợp"),
        ]
    if role in REVIEW_ROLES:
        lines.append(tx._("/duyet — xác nhận hoặc trả lại báo cáo"))
    if role in DIRECTIVE_ROLES:
        lines.append(tx._("/chidao 2.5 [hạn dd/mm] nội dung — gửi chỉ đạo; /chidao — theo dõi"))
    return lines


def welcome(tx: Texts, member: ActiveMember) -> Reply:
    """Greet a member by name and say what they can do."""
    intro = tx._(
        "Xin chào {name}! Tài khoản đã được liên kết với {agency} ({role}).",
        name=member.name,
        agency=member.agency_name,
        role=tx.role(member.role),
    )
    quick = tx._(
        "Báo cáo nhanh bằng một tin nhắn, ví dụ: 2.5 60% đã khảo sát tuyến buýt, hoặc: 2.2.b xong"
    )
    return Reply("\n\n".join([intro, "\n".join(commands_for(tx, member.role)), quick]))


def start(ctx: StepContext, args: str) -> Transition:
    if args.strip():
        return try_join(ctx, args.strip())
    if ctx.member is None:
        return not_linked(ctx)
    return ctx.idle(welcome(ctx.tx, ctx.member))


def help_(ctx: StepContext, args: str) -> Transition:
    if ctx.member is None:
        return not_linked(ctx)
    tx = ctx.tx
    text = (
        tx._("Các lệnh:")
        + "\n"
        + "\n".join(commands_for(tx, ctx.member.role))
        + "\n\n"
        + tx._(
            "Báo cáo nhanh: gõ mã nội dung, trạng thái hoặc phần trăm, rồi ghi chú. "
            "Ví dụ: 2.5 60% đã khảo sát tuyến buýt · 2.2.b xong · "
            "2.6.a vướng mắc: chưa có vốn. Gõ không dấu cũng được."
        )
    )
    return ctx.stay(Reply(text))


def language(ctx: StepContext, args: str) -> Transition:
    wanted = args.strip().lower()
    if wanted in {"vi", "en"}:
        return choose_language(ctx, wanted)
    token = ctx.conv.menu_token
    return ctx.stay(
        Reply(
            ctx.tx._("Chọn ngôn ngữ / Choose a language:"),
            menu(token, [[("Tiếng Việt", "l:vi"), ("English", "l:en")]]),
        )
    )


def choose_language(ctx: StepContext, wanted: str) -> Transition:
    tx = Texts(wanted, ctx.tz)
    return ctx.stay(Reply(tx._("Đã chuyển sang tiếng Việt.")), effects=[SetLanguage(wanted)])


PLATFORM_NAMES = {"telegram": "Telegram", "zalo": "Zalo"}


def link(ctx: StepContext, args: str) -> Transition:
    """Give a one-time code that links this member's account on the other platform."""
    return ctx.stay(effects=[MakeLinkCode()])


def link_code_reply(tx: Texts, code: str) -> Reply:
    return Reply(
        tx._(
            "Mã liên kết: {code} (dùng một lần, trong 1 giờ).\nGõ mã này cho bot "
            "trên nền tảng kia (Zalo hoặc Telegram) để nhận tin ở cả hai nơi.",
            code=f"{code[:4]}-{code[4:]}",
        )
    )


def linked(tx: Texts, member: ActiveMember, platform: str) -> Reply:
    return Reply(
        tx._(
            "Đã liên kết thêm tài khoản {platform} cho {name} ({agency}). "
            "Gõ /kenh để chọn kênh nhận nhắc việc.",
            platform=PLATFORM_NAMES.get(platform, platform),
            name=member.name,
            agency=member.agency_name,
        )
    )


def channel(ctx: StepContext, args: str) -> Transition:
    """Choose which linked platform reminders and digests go to."""
    tx = ctx.tx
    channels = list(ctx.reader.channels())
    wanted = args.strip().lower()
    if wanted in channels:
        return choose_channel(ctx, wanted)
    if len(channels) < 2:
        return ctx.stay(
            Reply(
                tx._(
                    "Anh/chị mới liên kết một kênh nên nhắc việc gửi qua kênh "
                    "này. Gõ /lienket để liên kết thêm Zalo hoặc Telegram."
                )
            )
        )
    rows = [[(PLATFORM_NAMES.get(c, c), f"ch:{c}")] for c in channels]
    return ctx.stay(
        Reply(
            tx._(
                "Nhắc việc và bản tin đang gửi qua {current}. Chọn kênh:",
                current=PLATFORM_NAMES.get(channels[0], channels[0]),
            ),
            menu(ctx.conv.menu_token, rows),
        )
    )


def choose_channel(ctx: StepContext, platform: str) -> Transition:
    if platform not in ctx.reader.channels():
        return ctx.stay(Reply(ctx.tx._("Kênh này chưa được liên kết. Gõ /lienket trước.")))
    return ctx.stay(
        Reply(
            ctx.tx._(
                "Từ nay nhắc việc và bản tin sẽ gửi qua {platform}.",
                platform=PLATFORM_NAMES.get(platform, platform),
            )
        ),
        effects=[SetChannel(platform)],
    )
