"""`/vangmat`: an official away names a stand-in who gets their reminders meanwhile."""

from __future__ import annotations

from handlers.core import SetAbsence, StepContext, Transition
from handlers.events import Reply


def start(ctx: StepContext, args: str) -> Transition:
    tx = ctx.tx
    words = args.split()
    if words and words[0] in {"0", "het", "hết", "off", "end"}:
        return ctx.idle(
            Reply(tx._("Đã ghi nhận anh/chị đã trở lại; nhắc việc sẽ gửi cho anh/chị như thường.")),
            effects=[SetAbsence(None, 0)],
        )
    typed = words[0] if words else "7"
    days = int(typed) if typed.isascii() and typed.isdigit() else 0
    if not 1 <= days <= 90:
        return ctx.stay(Reply(tx._("Số ngày vắng phải từ 1 đến 90. Ví dụ: /vangmat 5")))
    colleagues = list(ctx.reader.colleagues())
    if not colleagues:
        return ctx.stay(
            Reply(
                tx._(
                    "Cơ quan chưa có thành viên nào khác để nhận thay. Vui lòng "
                    "nhờ cơ quan đầu mối mời thêm người."
                )
            )
        )
    rows = [[(c.name, f"a:{c.id}:{days}")] for c in colleagues[:10]]
    rows.append([(tx._("Huỷ"), "x")])
    return ctx.ask(
        ctx.conv.state,
        dict(ctx.conv.draft),
        tx._("Vắng {days} ngày. Ai nhận nhắc việc thay anh/chị?", days=days),
        rows,
    )


def choose(ctx: StepContext, arg: str) -> Transition:
    member_id, _, days = arg.partition(":")
    colleague = next((c for c in ctx.reader.colleagues() if str(c.id) == member_id), None)
    if colleague is None or not days.isdigit():
        return ctx.stay(Reply(ctx.tx._("Người này không còn trong cơ quan. Gõ /vangmat lại.")))
    return ctx.idle(
        Reply(
            ctx.tx._(
                "Đã ghi nhận: trong {days} ngày tới, nhắc việc của anh/chị sẽ gửi cho {name}.",
                days=days,
                name=colleague.name,
            )
        ),
        effects=[SetAbsence(colleague.id, int(days))],
    )
