"""`tiendo status [--json]`: the operator's first look, with what needs attention."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from storage.health import health

if TYPE_CHECKING:
    from bot.cli.context import CommandContext


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("status", help="tình trạng hệ thống / operator status")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    with ctx.unit_of_work() as session:
        found = health(session, ctx.clock.now())
    problems = found.problems()
    database = make_url(ctx.config.database_url).render_as_string(hide_password=True)
    if args.json:
        ctx.console.print_json(
            json.dumps(
                found.as_dict() | {"database": database, "problems": problems}, ensure_ascii=False
            )
        )
        return 1 if problems else 0
    print_ = ctx.console.print
    print_(f"Cơ sở dữ liệu / database: {database}", markup=False)
    print_(f"Chương trình / programmes: {found.programmes} · nội dung / items: {found.items}")
    print_(
        f"Thành viên / members: {found.members_active} hoạt động / active, "
        f"{found.members_unreachable} không liên lạc được / unreachable, "
        f"{found.members_revoked} đã thu hồi / revoked; tài khoản / accounts: "
        + (", ".join(f"{k} {v}" for k, v in sorted(found.identities.items())) or "—")
    )
    print_(
        "Hộp thư đi / outbox: "
        + (", ".join(f"{k} {v}" for k, v in sorted(found.outbox.items())) or "trống / empty")
    )
    print_(f"Hội thoại đang dở / conversations in progress: {found.conversations_open}")
    print_(
        "Bộ lập lịch / scheduler: "
        + (
            ", ".join(f"{k} → {v}" for k, v in sorted(found.scheduler.items()))
            or "chưa chạy / not run yet"
        ),
        markup=False,
    )
    for problem in problems:
        print_(f"⚠ {problem}", style="yellow", markup=False)
    return 1 if problems else 0
