"""The `tiendo` command: one sub-command module per task, found in bot/commands/."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from rich.console import Console
from sqlalchemy.orm import Session

from bot.config import Config, ConfigError, load_config
from storage.clock import Clock, SystemClock
from storage.db import Database

# Each module exposes register(subparsers) and sets `func` to run(args, ctx) -> int.
COMMAND_MODULES = (
    "bot.commands.database",
    "bot.commands.notice",
    "bot.commands.programme",
    "bot.commands.summary",
    "bot.commands.people",
    "bot.commands.chat",
    "bot.commands.run",
    "bot.commands.schedule",
    "bot.commands.zalo",
    "bot.commands.status",
)


class CommandContext:
    """What a command needs: the config, a console, the database and the clock, made lazily."""

    def __init__(
        self, config_path: Path | None, console: Console | None = None, clock: Clock | None = None
    ) -> None:
        self.config_path = config_path
        self.console = console or Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)
        self.clock: Clock = clock or SystemClock()
        self._database: Database | None = None

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path)

    @property
    def database(self) -> Database:
        if self._database is None:
            self._database = Database.open(self.config.database_url)
        return self._database

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with self.database.unit_of_work() as session:
            yield session

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()


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
        return int(args.func(args, ctx))
    except ConfigError as exc:
        ctx.err.print(
            f"Lỗi cấu hình / config error: {exc}", style="red", markup=False, soft_wrap=True
        )
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
