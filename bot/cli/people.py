"""`tiendo invite` and `tiendo member revoke|absence`: who may use the bot."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.cli import values

if TYPE_CHECKING:
    from bot.cli.context import CommandContext

# storage.models.Role, spelled out so that registering the command loads no SQLAlchemy;
# create_invites refuses any other value.
ROLES = ("reporter", "coordinator", "vice_chair", "admin")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    invite = subparsers.add_parser("invite", help="tạo mã mời / create one-time invite codes")
    invite.add_argument("--agency", required=True, help="mã cơ quan / agency code, e.g. HN-GTVT")
    invite.add_argument("--role", default="reporter", choices=ROLES)
    invite.add_argument("--count", type=values.count, default=1)
    invite.add_argument(
        "--expires",
        type=values.duration,
        default=timedelta(days=7),
        help="thời hạn của mã / how long the codes stay valid (7d, 48h, 2w)",
    )
    invite.add_argument("--name", default="", help="tên người được mời / the invited person")
    invite.add_argument("--json", action="store_true")
    invite.set_defaults(func=run_invite)

    member = subparsers.add_parser("member", help="thành viên / members")
    actions = member.add_subparsers(dest="member_action", required=True, metavar="ACTION")
    revoke_parser = actions.add_parser(
        "revoke", help="thu hồi thành viên hoặc mã mời / revoke a member (id) or an invite (code)"
    )
    revoke_parser.add_argument("target", help="member id or invite code")
    revoke_parser.set_defaults(func=run_revoke)
    away = actions.add_parser(
        "absence",
        help="đặt vắng mặt và người nhận thay / set an absence; reminders go to the stand-in",
    )
    away.add_argument("member", type=int, help="member id of the person away")
    away.add_argument("--stand-in", type=int, required=True, help="member id of the stand-in")
    away.add_argument("--days", type=values.count, default=7)
    away.set_defaults(func=run_absence)


def run_invite(args: argparse.Namespace, ctx: CommandContext) -> int:
    from rich.table import Table

    from storage.people import PeopleError, create_invites

    tx = ctx.tx
    username = ctx.config.settings.telegram.bot_username
    now = ctx.clock.now()
    try:
        with ctx.unit_of_work() as session:
            invites = create_invites(
                session,
                args.agency,
                args.role,
                args.count,
                args.expires,
                now,
                "cli",
                member_name=args.name,
            )
            rows = [
                {
                    "code": i.code,
                    "agency": i.agency.code,
                    "role": i.role,
                    "expires_at": i.expires_at.astimezone(ctx.config.tz).isoformat(),
                    "telegram_link": f"https://t.me/{username}?start={i.code}",
                }
                for i in invites
            ]
            expiries = [i.expires_at for i in invites]
    except PeopleError as exc:
        return ctx.fail(str(exc))
    if args.json:
        ctx.json(rows)
        return 0
    table = Table(title=tx._("Mã mời"))
    for column in (tx._("Mã"), tx._("Cơ quan"), tx._("Vai trò"), tx._("Hết hạn"), "Telegram"):
        table.add_column(column)
    for row, expires in zip(rows, expiries, strict=True):
        table.add_row(
            f"{row['code'][:4]}-{row['code'][4:]}",
            row["agency"],
            tx.role(row["role"]),
            tx.moment(expires),
            row["telegram_link"],
        )
    ctx.console.print(table)
    ctx.say(tx._("Mỗi mã dùng một lần. Trên Zalo, người được mời gõ mã cho bot."))
    return 0


def run_revoke(args: argparse.Namespace, ctx: CommandContext) -> int:
    from storage.people import PeopleError, revoke

    try:
        with ctx.unit_of_work() as session:
            what = revoke(session, args.target, ctx.clock.now(), "cli")
    except PeopleError as exc:
        return ctx.fail(str(exc))
    ctx.say(ctx.tx._("Đã thu hồi: {what}", what=what))
    return 0


def run_absence(args: argparse.Namespace, ctx: CommandContext) -> int:
    from storage.people import PeopleError, set_absence

    now = ctx.clock.now()
    try:
        with ctx.unit_of_work() as session:
            set_absence(session, args.member, args.stand_in, args.days, now, ctx.config.tz, "cli")
    except PeopleError as exc:
        return ctx.fail(str(exc))
    ctx.say(
        ctx.tx._(
            "Đã đặt vắng mặt {days} ngày cho thành viên số {member}; người nhận thay: "
            "thành viên số {stand_in}.",
            days=args.days,
            member=args.member,
            stand_in=args.stand_in,
        )
    )
    return 0
