"""`tiendo status [--json]`: the operator's first look, with what needs attention."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.cli.context import CommandContext
    from handlers.texts import Texts
    from storage.health import Health, Problem

PLATFORMS = {"telegram": "Telegram", "zalo": "Zalo"}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("status", help="tình trạng hệ thống / operator status")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def describe(problem: Problem, tx: Texts) -> str:
    """Say one problem in the reader's language."""
    v = problem.values
    component = PLATFORMS.get(str(v.get("component")), str(v.get("component")))
    if problem.code == "component_down":
        text = tx._(
            "{component}: không kết nối được Bot API từ {since}; tiendo run đang tự thử lại.",
            component=component,
            since=tx.moment(v["since"]),
        )
        return f"{text} ({v['detail']})" if v.get("detail") else text
    if problem.code == "outbox_outage":
        return tx._(
            "{component}: Bot API không nhận tin từ {since} ({detail}); {pending} tin đang "
            "chờ trong hộp thư đi, tin lâu nhất đã chờ {minutes} phút. Hệ thống tự gửi lại "
            "khi Bot API hoạt động trở lại, không bỏ tin nào.",
            component=component,
            since=tx.moment(v["since"]),
            detail=v["detail"],
            pending=v["pending"],
            minutes=v["oldest_minutes"],
        )
    if problem.code == "replies_dropped":
        return tx._(
            "{component}: {count} tin trả lời không gửi được vì Bot API báo quá tải (429), "
            "lần gần nhất lúc {last}; người nhận cần được báo lại.",
            component=component,
            count=v["count"],
            last=tx.moment(v["last"]),
        )
    if problem.code == "no_programme":
        return tx._("Chưa nhập chương trình nào: chạy tiendo import.")
    if problem.code == "outbox_waiting":
        return tx._(
            "Hộp thư đi: có tin đã chờ {minutes} phút; tiendo run (hoặc tiendo scheduler) "
            "có đang chạy với token không?",
            minutes=v["minutes"],
        )
    if problem.code == "outbox_undelivered":
        return tx._(
            "Hộp thư đi: {failed} tin gửi lỗi, {unreachable} tin không có tài khoản nhận; "
            "xem tiendo reminders và các thành viên không liên lạc được.",
            failed=v["failed"],
            unreachable=v["unreachable"],
        )
    if problem.code == "members_unreachable":
        return tx._(
            "{count} thành viên không liên lạc được (đã chặn bot hoặc không còn cuộc trò "
            "chuyện): đề nghị mời lại.",
            count=v["count"],
        )
    return problem.code


def component_line(found: Health, tx: Texts) -> str:
    """`Telegram: đang kết nối; Zalo: mất kết nối từ …`, or that nothing has run yet."""
    from storage.health import OUTBOX

    states = []
    for name, part in sorted(found.components.items()):
        if name.startswith(OUTBOX):
            continue  # the outbox's own record: said with the backlog
        label = PLATFORMS.get(name, name)
        if part.state == "ok":
            states.append(tx._("{name} đang kết nối", name=label))
        elif part.state == "down":
            states.append(
                tx._("{name} mất kết nối từ {since}", name=label, since=tx.moment(part.since))
            )
        else:
            states.append(
                tx._("{name} đã dừng lúc {since}", name=label, since=tx.moment(part.since))
            )
    return tx._("Bot: {states}", states="; ".join(states) or tx._("chưa chạy"))


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from sqlalchemy.engine import make_url

    from storage.health import health

    tx = ctx.tx
    with ctx.unit_of_work() as session:
        found = health(session, ctx.clock.now())
    problems = found.problems()
    database = make_url(ctx.config.database_url).render_as_string(hide_password=True)
    if args.json:
        ctx.json(
            found.as_dict()
            | {
                "database": database,
                "problems": [p.as_dict() | {"text": describe(p, tx)} for p in problems],
            }
        )
        return 1 if problems else 0
    none = tx._("không có")
    ctx.say(tx._("Cơ sở dữ liệu: {url}", url=database))
    ctx.say(
        tx._(
            "Chương trình: {programmes} · nội dung: {items}",
            programmes=found.programmes,
            items=found.items,
        )
    )
    ctx.say(
        tx._(
            "Thành viên: {active} đang hoạt động, {unreachable} không liên lạc được, "
            "{revoked} đã thu hồi; tài khoản: {accounts}",
            active=found.members_active,
            unreachable=found.members_unreachable,
            revoked=found.members_revoked,
            accounts=", ".join(f"{k} {v}" for k, v in sorted(found.identities.items())) or none,
        )
    )
    ctx.say(
        tx._(
            "Hộp thư đi: {outbox}",
            outbox=", ".join(f"{k} {v}" for k, v in sorted(found.outbox.items())) or tx._("trống"),
        )
    )
    for channel, waiting in sorted(found.backlog.items()):
        ctx.say(
            tx._(
                "Tin chờ gửi qua {channel}: {pending}, tin lâu nhất đã chờ {minutes} phút",
                channel=PLATFORMS.get(channel, channel),
                pending=int(waiting["pending"]),
                minutes=round(waiting["oldest_minutes"]),
            )
        )
    ctx.say(tx._("Hội thoại đang dở: {count}", count=found.conversations_open))
    ctx.say(
        tx._(
            "Bộ lập lịch: {jobs}",
            jobs=", ".join(f"{k} → {v}" for k, v in sorted(found.scheduler.items()))
            or tx._("chưa chạy"),
        )
    )
    ctx.say(component_line(found, tx))
    for problem in problems:
        ctx.say(f"⚠ {describe(problem, tx)}", "yellow")
    return 1 if problems else 0
