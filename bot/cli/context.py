"""What every `tiendo` command gets: the config, a console, the database and the clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from rich.console import Console
from sqlalchemy.orm import Session

from bot.config import Config, load_config
from storage.clock import Clock, SystemClock
from storage.db import Database


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
