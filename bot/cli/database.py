"""`tiendo db upgrade|status`: manage the schema explicitly."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.cli.context import CommandContext


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("db", help="cơ sở dữ liệu / database schema")
    actions = parser.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="nâng cấp lược đồ / apply migrations").set_defaults(func=run)
    actions.add_parser("status", help="lược đồ đã mới chưa / is the schema current").set_defaults(
        func=run
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from storage.db import is_current, make_engine, upgrade

    tx = ctx.tx
    engine = make_engine(ctx.config.database_url)
    try:
        if args.db_action == "upgrade":
            upgrade(engine)
            ctx.say(tx._("Cơ sở dữ liệu đã ở phiên bản mới nhất."))
            return 0
        if is_current(engine):
            ctx.say(tx._("Lược đồ cơ sở dữ liệu đã mới nhất."))
            return 0
        ctx.say(tx._("Lược đồ cơ sở dữ liệu cần nâng cấp: chạy tiendo db upgrade."), "yellow")
        return 1
    finally:
        engine.dispose()
