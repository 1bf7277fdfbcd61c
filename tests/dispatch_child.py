"""A dispatcher in its own process, for the crash test (killed while it sends)."""

from __future__ import annotations

import asyncio
import sys

from telegram import Bot

from bot.telegram.adapter import TelegramMessenger
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import Limits
from storage.clock import SystemClock
from storage.db import Database


async def main(database: str, base_url: str, token: str) -> None:
    db = Database.open(database)
    async with Bot(token, base_url=base_url) as bot:
        dispatcher = Dispatcher(
            db, SystemClock(), {"telegram": TelegramMessenger(bot)}, {"telegram": Limits(200, 50)}
        )
        dispatcher.recover()
        await dispatcher.drain(60)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
