"""The `tiendo` command: one sub-command module per task, found beside this file.

Registering the commands imports only the standard library; each command imports what it
needs when it runs, so `tiendo --help` is quick and `tiendo items` loads no Excel writer.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from bot.cli.context import CommandContext
from bot.cli.values import BadValue, explain

# Each module exposes register(subparsers) and sets `func` to run(args, ctx) -> int.
COMMAND_MODULES = (
    "bot.cli.database",
    "bot.cli.notice",
    "bot.cli.programme",
    "bot.cli.summary",
    "bot.cli.report",
    "bot.cli.people",
    "bot.cli.chat",
    "bot.cli.run",
    "bot.cli.schedule",
    "bot.cli.zalo",
    "bot.cli.status",
)


def build_parser() -> argparse.ArgumentParser:
    """Assemble the parser from every command module."""
    parser = argparse.ArgumentParser(
        prog="tiendo",
        description="Tiến độ — theo dõi tiến độ chương trình hợp tác / cooperation progress bot",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config file (default: ./config.toml or $TIENDO_CONFIG)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a command not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None, ctx: CommandContext | None = None) -> int:
    """Run one command and return its exit code; config problems end in one clear line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    ctx = ctx or CommandContext(args.config)
    ctx.config_path = args.config if args.config is not None else ctx.config_path
    try:
        for dest, value in vars(args).items():
            if isinstance(value, BadValue):
                option = "--" + dest.replace("_", "-")
                return ctx.fail(explain(value, option, ctx.tx))
        return int(args.func(args, ctx))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from bot.config import ConfigError  # imported only now: pydantic is slow to load

        if not isinstance(exc, ConfigError):
            raise
        return ctx.fail(ctx.tx._("Lỗi cấu hình: {error}", error=str(exc)))
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
