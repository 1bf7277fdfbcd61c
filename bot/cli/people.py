"""`tiendo invite`, `tiendo members` and `tiendo member revoke|head|absence`: who may use the
bot, who heads an agency, who stands in for whom."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.cli import values
from bot.cli.programme import add_programme_option, unknown_programme

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

    members = subparsers.add_parser(
        "members", help="danh sách thành viên và mã số / list members with their ids"
    )
    members.add_argument("--agency", metavar="CODE", help="chỉ một cơ quan / one agency")
    add_programme_option(members)
    members.add_argument("--json", action="store_true", help="in JSON / print JSON")
    members.set_defaults(func=run_members)

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
    away.add_argument(
        "--yes",
        action="store_true",
        help="không hỏi lại khi người nhận thay thuộc cơ quan khác / do not ask when the "
        "stand-in belongs to another agency",
    )
    away.set_defaults(func=run_absence)
    head = actions.add_parser(
        "head",
        help="đánh dấu lãnh đạo cơ quan (nhận báo cáo vượt cấp) / mark the head of an agency",
    )
    head.add_argument("member", type=int, help="member id (see `tiendo members`)")
    head.add_argument("--off", action="store_true", help="bỏ đánh dấu / unmark")
    head.set_defaults(func=run_head)


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


def run_members(args: argparse.Namespace, ctx: CommandContext) -> int:
    """List active members with the ids other commands need."""
    from rich.table import Table

    from storage.agencies import AgencyError
    from storage.members import list_members
    from storage.programme.lookup import UnknownProgramme

    tx = ctx.tx
    try:
        with ctx.unit_of_work() as session:
            rows = list_members(session, args.agency, args.programme)
    except UnknownProgramme as exc:
        return unknown_programme(ctx, exc)
    except AgencyError as exc:
        return ctx.fail(str(exc))
    if args.json:
        ctx.json(
            [
                {
                    "id": m.id,
                    "name": m.name,
                    "title": m.title,
                    "agency": m.agency_code,
                    "agency_name": m.agency_name,
                    "role": m.role,
                    "head": m.is_head,
                    "platforms": list(m.platforms),
                    "last_activity": (
                        m.last_activity.astimezone(ctx.config.tz).isoformat()
                        if m.last_activity
                        else None
                    ),
                    "unreachable": m.unreachable,
                }
                for m in rows
            ]
        )
        return 0
    if not rows:
        ctx.say(tx._("Chưa có thành viên nào; tạo mã mời bằng tiendo invite."))
        return 0
    table = Table(title=tx._("Thành viên"), title_justify="left")
    for head, justify in (
        (tx._("Số"), "right"),
        (tx._("Họ tên"), "left"),
        (tx._("Cơ quan"), "left"),
        (tx._("Vai trò"), "left"),
        (tx._("Lãnh đạo"), "center"),
        (tx._("Nền tảng"), "left"),
        (tx._("Hoạt động gần nhất"), "left"),
    ):
        table.add_column(head, justify=justify)  # type: ignore[arg-type]
    for m in rows:
        platforms = ", ".join(m.platforms) or "–"
        if m.unreachable:
            platforms += " " + tx._("(không liên lạc được)")
        table.add_row(
            str(m.id),
            m.name,
            m.agency_code,
            tx.role(m.role),
            "✓" if m.is_head else "",
            platforms,
            tx.moment(m.last_activity),
        )
    ctx.console.print(table)
    return 0


def run_head(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Mark or unmark a head of an agency and say who its heads are now."""
    from storage.members import MemberError, set_head

    tx = ctx.tx
    try:
        with ctx.unit_of_work() as session:
            heads = set_head(session, args.member, not args.off, ctx.clock.now(), "cli")
    except MemberError as exc:
        return ctx.fail(str(exc))
    agency = heads.agency_code
    names = ", ".join(tx._("{name} (số {id})", name=name, id=i) for i, name in heads.members)
    if args.off:
        ctx.say(tx._("Đã bỏ đánh dấu lãnh đạo của thành viên số {id}.", id=args.member))
    else:
        ctx.say(
            tx._(
                "Đã đánh dấu thành viên số {id} là lãnh đạo {agency}.",
                id=args.member,
                agency=agency,
            )
        )
    ctx.say(tx._("Lãnh đạo {agency}: {names}", agency=agency, names=names or "–"))
    return 0


def _stand_in_allowed(args: argparse.Namespace, ctx: CommandContext) -> bool:
    """Ask before a stand-in of another agency (reminders about one agency's items would go
    to someone of another); --yes answers for the office."""
    from storage.members import check_stand_in

    tx = ctx.tx
    with ctx.unit_of_work() as session:
        check = check_stand_in(session, args.member, args.stand_in)
    if check is None or check.same_agency:
        return True
    warning = tx._(
        "Lưu ý: người nhận thay {stand_in} ({stand_in_agency}) không cùng cơ quan với "
        "{member} ({member_agency}); nhắc việc của {member_agency} sẽ gửi cho người ngoài "
        "cơ quan.",
        stand_in=check.stand_in_name,
        stand_in_agency=check.stand_in_agency,
        member=check.member_name,
        member_agency=check.member_agency,
    )
    ctx.say(warning, "yellow")
    if args.yes:
        return True
    if sys.stdin.isatty():
        from rich.prompt import Confirm

        return Confirm.ask(tx._("Vẫn đặt người nhận thay này?"), console=ctx.console)
    ctx.fail(tx._("Chưa đặt vắng mặt. Nếu đúng, chạy lại lệnh với --yes."), code=1)
    return False


def run_absence(args: argparse.Namespace, ctx: CommandContext) -> int:
    from storage.people import PeopleError, set_absence

    now = ctx.clock.now()
    if not _stand_in_allowed(args, ctx):
        return 1
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
