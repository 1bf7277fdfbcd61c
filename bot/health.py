"""What a bot tells `tiendo status`, which runs as another process: it writes to the store.

Each platform's adapter keeps one `Health`: it records when the Bot API cannot be reached
and when it can again, and every reply it had to give up on. Only changes are written (a
poll that works as the last one did costs nothing), and a store that cannot be written to
never stops the bot: the log line is then the only trace.
"""

from __future__ import annotations

import logging

from storage import health
from storage.clock import Clock
from storage.db import Database

log = logging.getLogger(__name__)


class Health:
    """One component's state, mirrored into the store when it changes."""

    def __init__(self, db: Database, clock: Clock, name: str) -> None:
        self.db = db
        self.clock = clock
        self.name = name
        self.state: health.State | None = None

    def _write(self, state: health.State, detail: str = "") -> None:
        try:
            with self.db.unit_of_work() as session:
                health.mark(session, self.name, state, self.clock.now(), detail)
        except Exception:  # noqa: BLE001 - the bot goes on; the log line says it all
            log.exception("could not record that %s is %s", self.name, state)
            return
        self.state = state

    def up(self) -> None:
        """The Bot API answers (again)."""
        if self.state != "ok":
            self._write("ok")

    def down(self, detail: str) -> None:
        """The Bot API cannot be reached, or refuses: say why (never with a secret)."""
        if self.state != "down":
            self._write("down", detail)

    def stopped(self) -> None:
        """The process stops on purpose: nothing to worry about."""
        self._write("stopped")

    def dropped_reply(self) -> None:
        """A reply was given up on; it stays visible in `tiendo status` for a day."""
        try:
            with self.db.unit_of_work() as session:
                health.note_dropped(session, self.name, self.clock.now())
        except Exception:  # noqa: BLE001
            log.exception("could not record a dropped reply on %s", self.name)


class Unreachable(Exception):
    """A platform's Bot API cannot be reached now (no network, DNS, a closed port): try later."""

    def __init__(self, platform: str, detail: str) -> None:
        super().__init__(f"{platform}: {detail}")
        self.platform = platform
        self.detail = detail


class Refused(Exception):
    """A platform's Bot API refused the token: retrying will not help."""

    def __init__(self, platform: str) -> None:
        super().__init__(platform)
        self.platform = platform
