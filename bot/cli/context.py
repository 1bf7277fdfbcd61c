"""What every `tiendo` command gets: the config, its texts, a console, the database, the clock.

Everything is made on first use, and the libraries behind it (rich, pydantic, SQLAlchemy,
Babel) are imported then too: `tiendo --help` needs none of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.orm import Session

    from bot.config import Config
    from handlers.texts import Texts
    from storage.clock import Clock
    from storage.db import Database


class CommandContext:
    """What a command needs: the config, texts, consoles, the database and the clock."""

    def __init__(
        self, config_path: Path | None, console: Console | None = None, clock: Clock | None = None
    ) -> None:
        self.config_path = config_path
        if console is not None:
            self.console = console
        if clock is not None:
            self.clock = clock
        self._database: Database | None = None

    @cached_property
    def console(self) -> Console:
        from rich.console import Console

        return Console(highlight=False)

    @cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False)

    @cached_property
    def clock(self) -> Clock:
        from storage.clock import SystemClock

        return SystemClock()

    @cached_property
    def config(self) -> Config:
        from bot.config import load_config

        return load_config(self.config_path)

    @cached_property
    def tx(self) -> Texts:
        """The configured language ([app] language), or Vietnamese when the config is broken."""
        from bot.config import ConfigError
        from handlers.texts import Texts

        try:
            return Texts(self.config.settings.app.language, self.config.tz)
        except ConfigError:
            return Texts("vi")

    @property
    def database(self) -> Database:
        if self._database is None:
            from storage.db import Database

            self._database = Database.open(self.config.database_url)
        return self._database

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with self.database.unit_of_work() as session:
            yield session

    def say(self, text: str, style: str | None = None) -> None:
        """Print a line as it is: catalog texts may hold brackets, which are not markup."""
        self.console.print(text, style=style, markup=False, highlight=False)

    def fail(self, text: str, code: int = 2) -> int:
        """Print one red line on stderr and return the exit code (2: the input was wrong)."""
        self.err.print(text, style="red", markup=False, highlight=False, soft_wrap=True)
        return code

    def json(self, data: object) -> None:
        """Print JSON as it is: no markup, no wrapping, diacritics kept."""
        import json

        self.console.out(json.dumps(data, ensure_ascii=False, indent=2), highlight=False)

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
