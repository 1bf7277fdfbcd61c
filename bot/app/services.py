"""The conversation service as the configuration wires it: one place for `tiendo run`,
`tiendo chat` and the web desk."""

from __future__ import annotations

from bot.config import Config
from handlers.service import ConversationService
from storage.clock import Clock
from storage.db import Database


def make_service(config: Config, db: Database, clock: Clock) -> ConversationService:
    """The service with the deployment's settings, time zone, calendar and data folder."""
    return ConversationService(
        db,
        clock,
        config.settings.conversation,
        tz=config.tz,
        evidence_dir=config.data_dir / "evidence",
        bot_username=config.settings.telegram.bot_username,
        default_language=config.settings.app.language,
        calendar=config.calendar(),
        default_due_day=config.settings.reminders.cycle_day,
    )
