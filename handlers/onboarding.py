"""Joining with an invite code, greeting, help and language."""

from __future__ import annotations

from handlers import programmes
from handlers.core import (
    DIRECTIVE_ROLES,
    OVERSIGHT_ROLES,
    REPORT_ROLES,
    REVIEW_ROLES,
    FailedJoin,
    Join,
    MakeLinkCode,
    SetChannel,
    SetLanguage,
    State,
    StepContext,
    Transition,
    menu,
)
from handlers.events import Reply
from handlers.texts import LANGUAGES, Texts
from storage.chat_reader import InviteView
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
    """Check a typed or deep-linked invite code; the service links the account. On an account
    already linked, say first what the code would change, and ask."""
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
    invite = ctx.reader.invite(code) if code else None
    if invite is not None and invite.problem is None:
        if ctx.member is not None:
            return _ask_to_move(ctx, invite)
        return ctx.idle(effects=[Join(invite.code)])
    if invite is not None and invite.problem in {"not_leadership", "not_coordinating"}:
        return ctx.stay(Reply(_wrong_role(tx, invite)))  # a real code: not a guess
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
    problem = invite.problem if invite is not None else "unknown"
    return ctx.stay(Reply(messages[problem or "unknown"]), effects=[FailedJoin()])


def _wrong_role(tx: Texts, invite: InviteView) -> str:
    """An invite whose role the agency no longer holds (the programme files changed)."""
    if invite.problem == "not_leadership":
        return tx._(
            "Mã mời này dành cho Phó Chủ tịch UBND, nhưng {agency} không phải nơi Phó Chủ tịch "
            "chỉ đạo chương trình nào. Vui lòng liên hệ cơ quan đầu mối để được cấp mã phù hợp.",
            agency=invite.agency_name,
        )
    return tx._(
        "Mã mời này dành cho cơ quan đầu mối, nhưng {agency} hiện không là cơ quan đầu mối "
        "của chương trình nào. Vui lòng liên hệ cơ quan đầu mối để được cấp mã phù hợp.",
        agency=invite.agency_name,
    )


def _ask_to_move(ctx: StepContext, invite: InviteView) -> Transition:
    """A second invite on a linked account: say what it changes and ask before moving it."""
    tx = ctx.tx
    member = ctx.member
    assert member is not None
    if invite.member_id == member.id:
        return ctx.stay(
            Reply(tx._("Tài khoản này đã được liên kết với anh/chị; không cần dùng mã này."))
        )
    now = tx._(
        "Tài khoản này đang liên kết với {name} — {agency} ({role}).",
        name=member.name,
        agency=member.agency_name,
        role=tx.role(member.role),
    )
    if invite.agency_code != member.agency_code:
        change = tx._(
            "Nếu dùng mã {code}, tài khoản sẽ chuyển sang {agency} ({role}): từ đó anh/chị "
            "nhận nhắc việc, xem và báo cáo các nội dung của {agency}, không còn của {old}.",
            code=invite.code,
            agency=invite.agency_name,
            role=tx.role(invite.role),
            old=member.agency_name,
        )
    elif invite.role != member.role:
        change = tx._(
            "Nếu dùng mã {code}, tài khoản vẫn thuộc {agency} nhưng vai trò đổi từ {old} "
            "sang {role}.",
            code=invite.code,
            agency=invite.agency_name,
            old=tx.role(member.role),
            role=tx.role(invite.role),
        )
    elif invite.member_name:
        change = tx._(
            "Nếu dùng mã {code}, tài khoản sẽ gắn với thành viên {name} của {agency}; "
            "{old} không còn nhận tin qua tài khoản này.",
            code=invite.code,
            name=invite.member_name,
            agency=invite.agency_name,
            old=member.name,
        )
    else:
        change = tx._(
            "Nếu dùng mã {code}, tài khoản sẽ gắn với một thành viên mới của {agency}; "
            "{old} không còn nhận tin qua tài khoản này.",
            code=invite.code,
            agency=invite.agency_name,
            old=member.name,
        )
    rows = [[(tx._("Chuyển tài khoản"), "j:ok")], [(tx._("Giữ như cũ"), "x")]]
    text = "\n".join([now, change, tx._("Anh/chị có muốn chuyển không?")])
    return ctx.ask(State.CONFIRM_JOIN, {"code": invite.code}, text, rows)


def confirm_move(ctx: StepContext) -> Transition:
    """The person agreed to move their account: check the code again, then join."""
    code = str(ctx.conv.draft.get("code", ""))
    invite = ctx.reader.invite(code)
    if invite is None or invite.problem is not None:
        return ctx.idle(
            Reply(
                ctx.tx._("Mã mời này không còn dùng được. Vui lòng xin mã mới từ cơ quan đầu mối.")
            )
        )
    return ctx.idle(effects=[Join(invite.code)])


def unlinked(ctx: StepContext) -> Transition:
    """Anything from an account not linked to a member: only a code is understood."""
    text = (ctx.event.text or "").strip()
    if text and invite_code_of(text):
        return try_join(ctx, text)
    return not_linked(ctx)


def commands_for(tx: Texts, role: str) -> list[str]:
    """The commands this role may use, one line each (the same sets that refuse the others)."""
    lines = []
    if role in REPORT_ROLES:
        lines += [
            tx._("/baocao — báo cáo tiến độ một nội dung"),
            tx._("/cuatoi — các nội dung của cơ quan tôi"),
        ]
    lines.append(tx._("/muc 2.5 — xem một nội dung, lịch sử và minh chứng"))
    if role in REPORT_ROLES:
        lines.append(tx._("/sua 2.5 — sửa báo cáo gần nhất của một nội dung"))
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
    lines += [
        tx._("/vangmat — báo vắng và người thay"),
        tx._("/lienket — liên kết thêm tài khoản Zalo hoặc Telegram"),
        tx._("/kenh — chọn kênh nhận nhắc việc"),
        tx._("/ngonngu — đổi ngôn ngữ (Tiếng Việt / English)"),
        tx._("/huy — huỷ thao tác đang làm"),
    ]
    return lines


def welcome(tx: Texts, member: ActiveMember) -> Reply:
    """Greet a member by name and say what they can do."""
    intro = tx._(
        "Xin chào {name}! Tài khoản đã được liên kết với {agency} ({role}).",
        name=member.name,
        agency=member.agency_name,
        role=tx.role(member.role),
    )
    parts = [intro, "\n".join(commands_for(tx, member.role))]
    if member.role in REPORT_ROLES:
        parts.append(
            tx._(
                "Báo cáo nhanh bằng một tin nhắn, ví dụ: 2.5 60% đã khảo sát tuyến buýt, "
                "hoặc: 2.2.b xong"
            )
        )
    return Reply("\n\n".join(parts))


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
    parts = [tx._("Các lệnh:") + "\n" + "\n".join(commands_for(tx, ctx.member.role))]
    if ctx.member.role in REPORT_ROLES:
        parts.append(
            tx._(
                "Báo cáo nhanh: gõ mã nội dung, trạng thái hoặc phần trăm, rồi ghi chú. "
                "Ví dụ: 2.5 60% đã khảo sát tuyến buýt · 2.2.b xong · "
                "2.6.a vướng mắc: chưa có vốn. Gõ không dấu cũng được."
            )
        )
    several = programmes.mine(ctx)
    if len(several) > 1:
        parts.append(
            tx._(
                "Anh/chị theo dõi {count} chương trình ({labels}). Khi một mã có ở nhiều "
                "chương trình, gõ mã chương trình trước mã nội dung, ví dụ: {example}.",
                count=len(several),
                labels=", ".join(p.label for p in several),
                example=_example(ctx, several[-1].label),
            )
        )
    return ctx.stay(Reply("\n\n".join(parts)))


def _example(ctx: StepContext, label: str) -> str:
    """A programme-first example the member can use: one of their own items that is in
    several programmes (else any of theirs), or an item view for someone who oversees."""
    assert ctx.member is not None
    if ctx.member.role not in REPORT_ROLES:
        return f"/muc {label} 2"
    states = ctx.reader.agency_states(ctx.member.agency_id)
    shared = [
        s for s in states if len({t.programme_id for t in states if t.item_code == s.item_code}) > 1
    ]
    chosen = (shared or list(states))[-1:]
    if not chosen:
        return f"{label} 2.1 60%"
    return f"{chosen[0].programme_label} {chosen[0].item_code} 60%"


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
    if wanted not in LANGUAGES:  # only a made-up button carries another
        return language(ctx, "")
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
