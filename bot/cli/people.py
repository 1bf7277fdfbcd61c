"""`tiendo invite` and `tiendo member revoke`: who may use the bot."""

from __future__ import annotations

import argparse
import json
import re
from datetime import timedelta
from typing import TYPE_CHECKING

from rich.table import Table

from storage.models import Role
from storage.people import PeopleError, create_invites, revoke, set_absence

if TYPE_CHECKING:
    from bot.cli.context import CommandContext

_DURATION = re.compile(r"^(\d+)\s*([dhw])$")


def duration(text: str) -> timedelta:
    """Parse `7d`, `48h` or `2w`."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration like 7d, 48h or 2w, got {text!r}")
    amount, unit = int(match.group(1)), match.group(2)
    return {
        "d": timedelta(days=amount),
        "h": timedelta(hours=amount),
        "w": timedelta(weeks=amount),
    }[unit]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    invite = subparsers.add_parser("invite", help="tạo mã mời / create one-time invite codes")
    invite.add_argument("--agency", required=True, help="agency code, e.g. HN-GTVT")
    invite.add_argument("--role", default=Role.REPORTER, choices=list(Role))
    invite.add_argument("--count", type=int, default=1)
    invite.add_argument(
        "--expires",
        type=duration,
        default=timedelta(days=7),
        help="how long the codes stay valid (7d, 48h, 2w)",
    )
    invite.add_argument("--name", default="", help="the invited person's name (optional)")
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
    away.add_argument("--days", type=int, default=7)
    away.set_defaults(func=run_absence)


def run_invite(args: argparse.Namespace, ctx: CommandContext) -> int:
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
    except PeopleError as exc:
        ctx.err.print(str(exc), style="red", markup=False)
        return 2
    if args.json:
        ctx.console.print_json(json.dumps(rows, ensure_ascii=False))
        return 0
    table = Table(title="Mã mời / Invite codes")
    for column in (
        "Mã / Code",
        "Cơ quan / Agency",
        "Vai trò / Role",
        "Hết hạn / Expires",
        "Link Telegram",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(
            f"{row['code'][:4]}-{row['code'][4:]}",
            row["agency"],
            row["role"],
            row["expires_at"][:16].replace("T", " "),
            row["telegram_link"],
        )
    ctx.console.print(table)
    ctx.console.print(
        "Mỗi mã dùng một lần. Trên Zalo, gõ mã cho bot. / "
        "Each code works once. On Zalo, type the code to the bot."
    )
    return 0


def run_revoke(args: argparse.Namespace, ctx: CommandContext) -> int:
    try:
        with ctx.unit_of_work() as session:
            what = revoke(session, args.target, ctx.clock.now(), "cli")
    except PeopleError as exc:
        ctx.err.print(str(exc), style="red", markup=False)
        return 2
    ctx.console.print(f"Đã thu hồi / revoked: {what}", markup=False)
    return 0


def run_absence(args: argparse.Namespace, ctx: CommandContext) -> int:
    now = ctx.clock.now()
    try:
        with ctx.unit_of_work() as session:
            set_absence(session, args.member, args.stand_in, args.days, now, ctx.config.tz, "cli")
    except PeopleError as exc:
        ctx.err.print(str(exc), style="red", markup=False)
        return 2
    ctx.console.print(
        f"Đã đặt vắng mặt {args.days} ngày / absence set for {args.days} days: "
        f"member {args.member} → stand-in {args.stand_in}",
        markup=False,
    )
    return 0
