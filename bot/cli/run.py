"""`tiendo run [--clock … --speed N]`: serve the bots (real or simulated clock)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

from bot.logs import configure_logging
from storage.clock import SimulatedClock

if TYPE_CHECKING:
    from bot.cli.context import CommandContext


def local_moment(text: str) -> datetime:
    """Parse "2019-12-30 08:00" as a time in Hà Nội (the app's zone is applied later)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date and time like '2019-12-30 08:00', got {text!r}"
        ) from None


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("run", help="chạy bot / run the bots, dispatcher, scheduler")
    parser.add_argument(
        "--clock",
        type=local_moment,
        default=None,
        help="start a simulated clock at this local time (trials, training)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="with --clock: simulated seconds per real second (e.g. 3600)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from bot.app.runner import serve

    config = ctx.config
    configure_logging(config.settings.app.log_level, config.secrets())
    if args.clock is not None:
        start = args.clock if args.clock.tzinfo else args.clock.replace(tzinfo=config.tz)
        ctx.clock = SimulatedClock(start, args.speed)
    asyncio.run(serve(config, ctx.clock))
    return 0
