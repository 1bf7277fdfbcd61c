"""`tiendo db upgrade|current`: manage the schema explicitly."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from storage.db import is_current, make_engine, upgrade

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
    engine = make_engine(ctx.config.database_url)
    try:
        if args.db_action == "upgrade":
            upgrade(engine)
            ctx.console.print("Cơ sở dữ liệu đã ở phiên bản mới nhất / database is up to date")
            return 0
        current = is_current(engine)
        ctx.console.print("mới nhất / current" if current else "cần nâng cấp / needs upgrade")
        return 0 if current else 1
    finally:
        engine.dispose()
