"""`tiendo run [--clock … --speed N]`: serve the bots (real or simulated clock)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli import values

if TYPE_CHECKING:
    from bot.cli.context import CommandContext


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("run", help="chạy bot / run the bots, dispatcher, scheduler")
    parser.add_argument(
        "--clock",
        type=values.moment,
        default=None,
        help="đồng hồ mô phỏng từ thời điểm này / start a simulated clock at this local time "
        "('30/12/2019 08:00'; a bare date means 09:00)",
    )
    parser.add_argument(
        "--speed",
        type=values.speed,
        default=1.0,
        help="with --clock: simulated seconds per real second (e.g. 3600)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    import asyncio

    from bot.app.runner import serve
    from bot.logs import configure_logging
    from storage.clock import SimulatedClock

    config = ctx.config
    configure_logging(config.settings.app.log_level, config.secrets())
    if args.clock is not None:
        start = args.clock if args.clock.tzinfo else args.clock.replace(tzinfo=config.tz)
        ctx.clock = SimulatedClock(start, args.speed)
    asyncio.run(serve(config, ctx.clock))
    return 0
