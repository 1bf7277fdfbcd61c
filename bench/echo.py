"""The yardstick of bench/updates.py: a bare python-telegram-bot echo bot on the loopback server.

It belongs to the benchmarks, not to the server the demo and the tests run on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from bot.loopback.telegram_server import FakeTelegramServer

ECHO_USER_BASE = 9_000_000_000


@contextlib.asynccontextmanager
async def polling(app: Any) -> AsyncIterator[None]:
    """Keep a yardstick PTB application polling this server for the duration of the block."""
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def echo_ceiling(
    server: FakeTelegramServer,
    users: int,
    messages_per_user: int,
    requests: tuple[Any, Any] | None = None,
) -> float:
    """Measure a bare PTB echo bot's updates per second through this server.

    `requests` (a BaseRequest for calls, one for getUpdates) replaces PTB's default httpx.
    """
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text is not None:
            await message.reply_text(message.text)

    builder = (
        Application.builder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
    )
    if requests is not None:
        builder = builder.request(requests[0]).get_updates_request(requests[1])
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    ids = [ECHO_USER_BASE + n for n in range(users)]
    for n, user_id in enumerate(ids):
        if not server.has_user(user_id):
            server.add_user(user_id, f"Người thử {n + 1}")
        server.skip_sent(user_id)
    async with polling(app):
        started = time.perf_counter()
        for round_no in range(messages_per_user):
            for user_id in ids:
                await server.send_text(user_id, f"tin {round_no}")
        for user_id in ids:
            replies = await server.wait_for(
                user_id, messages_per_user, timeout=30 + messages_per_user
            )
            expected = [f"tin {n}" for n in range(messages_per_user)]
            if [r.text for r in replies] != expected:
                raise AssertionError(f"echo mismatch for {user_id}: {server.transcript(user_id)}")
        elapsed = time.perf_counter() - started
    return users * messages_per_user / max(elapsed, 1e-9)
