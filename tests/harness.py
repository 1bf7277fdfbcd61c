"""Shared set-up for flow tests: a migrated SQLite template with the real programme."""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from sqlalchemy import select

from bot.cli.context import CommandContext
from bot.cli.main import main
from bot.loopback.stage import Stage
from handlers.events import Reply
from handlers.service import ConversationService
from storage.clock import Clock, FixedClock
from storage.db import Database, make_engine, upgrade
from storage.models import Report
from storage.programme.file import load_programme_file
from storage.programme.importer import import_programme

REPO = Path(__file__).resolve().parent.parent
PROGRAMME = REPO / "programmes" / "ha-noi-hung-yen-2019.toml"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def build_template(folder: Path, clock: Clock) -> Path:
    """Migrate a SQLite file and import the default programme into it, once per session."""
    path = folder / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    db = Database(engine)
    with db.unit_of_work() as session:
        import_programme(session, load_programme_file(PROGRAMME), clock.now())
    db.dispose()
    return path


def copy_database(template: Path, folder: Path) -> Database:
    """A private copy of the template for one test."""
    target = folder / "tiendo.sqlite3"
    shutil.copyfile(template, target)
    return Database.open(f"sqlite:///{target}")


def write_config(folder: Path, extra: str = "", programme: Path = PROGRAMME) -> Path:
    """Write a config.toml for one test: SQLite and data files in `folder`."""
    path = folder / "config.toml"
    path.write_text(
        f"""
[app]
programme = "{programme}"
data_dir = "{folder / "data"}"
[database]
url = "sqlite:///{folder / "tiendo.sqlite3"}"
{extra}
""",
        encoding="utf-8",
    )
    return path


def cli_context(
    config: Path | None, clock: Clock, *, width: int = 200, file: TextIO | None = None
) -> CommandContext:
    """A command context on a fixed clock whose console prints to stdout or `file`."""
    console = Console(file=file, width=width, highlight=False, record=True)
    return CommandContext(config, console=console, clock=clock)


def run_cli(config: Path, *args: str, clock: Clock | None = None) -> tuple[int, str]:
    """Run `tiendo --config CONFIG ARGS…`; return the exit code and what it printed."""
    ctx = cli_context(
        config, clock or FixedClock(datetime(2019, 12, 2, 9, tzinfo=HANOI)), file=io.StringIO()
    )
    code = main(["--config", str(config), *args], ctx=ctx)
    return code, ctx.console.export_text()


@asynccontextmanager
async def staged(
    template: Path, folder: Path, *, telegram: bool = True, zalo: bool = True
) -> AsyncIterator[Stage]:
    """The bots on loopback over a private copy of the template, on Monday 2 December 2019."""
    db = copy_database(template, folder)
    try:
        async with Stage(
            db,
            FixedClock(datetime(2019, 12, 2, 9, tzinfo=HANOI)),
            folder,
            telegram=telegram,
            zalo=zalo,
        ) as stage:
            yield stage
    finally:
        db.dispose()


def fail_once(monkeypatch: pytest.MonkeyPatch, service: ConversationService) -> None:
    """Make the service's next event fail unexpectedly, as a lost database would."""
    real = service.handle
    calls = {"n": 0}

    async def broken_once(*args: Any, **kwargs: Any) -> list[Reply]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return await real(*args, **kwargs)

    monkeypatch.setattr(service, "handle", broken_once)


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until check() holds: the bots answer on their own schedule."""
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


def stored_reports(db: Database) -> list[Report]:
    """Every report in the store, oldest first."""
    with db.unit_of_work() as session:
        return list(session.scalars(select(Report).order_by(Report.id)))
