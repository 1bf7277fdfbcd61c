"""`tiendo run`: Telegram and/or Zalo, the outbox dispatcher and the scheduler in one process."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.app.services import make_service
from bot.config import Config, ConfigError
from bot.health import Health, Refused, Unreachable
from bot.telegram.adapter import TelegramBot
from bot.zalo.adapter import ZaloBot
from bot.zalo.api import ZaloBotApi
from handlers.ports import Messenger
from handlers.service import ConversationService
from handlers.texts import Texts
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import Limits
from storage.clock import Clock
from storage.db import Database

if TYPE_CHECKING:
    from scheduler.jobs import SchedulerService

log = logging.getLogger(__name__)
RECONNECT_DELAYS = (1.0, 60.0)  # first and longest pause between tries to reach a Bot API
TOKEN_VARIABLES = {"Telegram": "TIENDO_TELEGRAM_TOKEN", "Zalo": "TIENDO_ZALO_TOKEN"}


def limits_for(config: Config) -> dict[str, Limits]:
    telegram, zalo = config.settings.telegram, config.settings.zalo
    return {
        "telegram": Limits(
            telegram.messages_per_second,
            telegram.messages_per_chat_per_second,
            telegram.messages_per_group_per_minute,
        ),
        "zalo": Limits(zalo.messages_per_second, zalo.messages_per_chat_per_second),
    }


@dataclass
class Running:
    """What one `tiendo run` process holds, so it can be stopped in order."""

    db: Database
    service: ConversationService
    dispatcher: Dispatcher
    telegram: TelegramBot | None = None
    zalo: ZaloBot | None = None
    scheduler: SchedulerService | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def messengers(self) -> dict[str, Messenger]:
        return messengers_of(self.telegram, self.zalo)


def messengers_of(telegram: TelegramBot | None, zalo: ZaloBot | None) -> dict[str, Messenger]:
    """The outbox messengers of the bots that run."""
    found: dict[str, Messenger] = {}
    if telegram is not None:
        found["telegram"] = telegram.messenger
    if zalo is not None:
        found["zalo"] = zalo.messenger
    return found


def build_messengers(config: Config) -> dict[str, Messenger]:
    """Messengers for the scheduler running alone (`tiendo scheduler`)."""
    found: dict[str, Messenger] = {}
    if config.telegram_token:
        from telegram import Bot

        from bot.telegram.adapter import TelegramMessenger

        telegram = config.settings.telegram
        found["telegram"] = TelegramMessenger(
            Bot(
                config.telegram_token,
                base_url=telegram.base_url,
                base_file_url=telegram.base_file_url,
            )
        )
    if config.zalo_token:
        from bot.zalo.adapter import ZaloMessenger

        found["zalo"] = ZaloMessenger(
            ZaloBotApi(config.zalo_token, base_url=config.settings.zalo.base_url)
        )
    return found


async def until_reachable(
    connect: Callable[[], Awaitable[None]],
    health: Health,
    tx: Texts,
    delays: tuple[float, float] = RECONNECT_DELAYS,
) -> None:
    """Connect, retrying with a doubling pause while the Bot API cannot be reached.

    No network at start-up is an ordinary morning in a provincial office: it gets one clear
    line (no traceback, no token) and the bot serves as soon as the API answers. A refused
    token is a configuration mistake and ends the command with one line.
    """
    delay, failures = delays[0], 0
    while True:
        try:
            await connect()
        except Unreachable as exc:
            health.down(exc.detail)
            line = tx._(
                "Không kết nối được Bot API {platform} ({detail}); bot sẽ tự thử lại cho đến "
                "khi kết nối được.",
                platform=exc.platform,
                detail=exc.detail,
            )
            log.log(logging.WARNING if failures == 0 else logging.DEBUG, "%s", line)
            failures += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, delays[1])
            continue
        except Refused as exc:
            raise ConfigError(
                tx._(
                    "Bot API {platform} từ chối token; đề nghị kiểm tra {variable}.",
                    platform=exc.platform,
                    variable=TOKEN_VARIABLES.get(exc.platform, "token"),
                )
            ) from None
        health.up()  # a webhook has no poll to say so later
        if failures:
            log.warning("%s", tx._("Đã kết nối được Bot API; bot bắt đầu phục vụ."))
        return


async def start(
    config: Config,
    clock: Clock,
    *,
    with_scheduler: bool = True,
    reconnect: tuple[float, float] = RECONNECT_DELAYS,
) -> Running:
    """Start every part whose token is set; raise ConfigError when none is.

    While a Bot API cannot be reached this waits and retries; cancelled meanwhile (Ctrl-C),
    it stops what it had started.
    """
    if not config.telegram_token and not config.zalo_token:
        tx = Texts(config.settings.app.language, config.tz)
        raise ConfigError(
            tx._(
                "chưa có token bot: đặt TIENDO_TELEGRAM_TOKEN và/hoặc TIENDO_ZALO_TOKEN trong "
                "biến môi trường (hoặc thử make demo, không cần token)."
            )
        )
    db = Database.open(config.database_url)
    service = make_service(config, db, clock)
    running = Running(db, service, Dispatcher(db, clock, {}, limits_for(config)))
    try:
        await _start_parts(running, config, clock, with_scheduler, reconnect)
    except BaseException:
        await stop(running)
        raise
    return running


async def _start_parts(
    running: Running,
    config: Config,
    clock: Clock,
    with_scheduler: bool,
    reconnect: tuple[float, float],
) -> None:
    db, service, settings = running.db, running.service, config.settings
    tx = Texts(settings.app.language, config.tz)
    if config.telegram_token:
        running.telegram = TelegramBot(
            service,
            config.telegram_token,
            base_url=settings.telegram.base_url,
            base_file_url=settings.telegram.base_file_url,
        )
        if settings.telegram.mode == "webhook":
            hook = settings.telegram.webhook
            if not config.telegram_webhook_secret:
                raise ConfigError(
                    tx._(
                        "[telegram] mode = webhook cần biến môi trường "
                        "TIENDO_TELEGRAM_WEBHOOK_SECRET (1–256 ký tự A–Z a–z 0–9 _ -)."
                    )
                )
            secret = config.telegram_webhook_secret
            bot = running.telegram
            await until_reachable(
                lambda: bot.start_webhook(hook.listen, hook.port, hook.path, hook.url, secret),
                bot.health,
                tx,
                reconnect,
            )
        else:
            await until_reachable(
                running.telegram.start_polling, running.telegram.health, tx, reconnect
            )
    if config.zalo_token:
        api = ZaloBotApi(config.zalo_token, base_url=settings.zalo.base_url)
        running.zalo = ZaloBot(service, api, max_download_mb=settings.conversation.max_evidence_mb)
        if settings.zalo.mode == "webhook":
            if not config.zalo_webhook_secret:
                raise ConfigError(
                    tx._(
                        "[zalo] mode = webhook cần biến môi trường TIENDO_ZALO_WEBHOOK_SECRET "
                        "(8–256 ký tự)."
                    )
                )
            hook = settings.zalo.webhook
            await running.zalo.start_webhook(
                hook.listen, hook.port, hook.path, config.zalo_webhook_secret
            )
        else:
            await until_reachable(running.zalo.start_polling, running.zalo.health, tx, reconnect)
    running.dispatcher.messengers = running.messengers
    if with_scheduler:
        running.scheduler = _scheduler(config, db, clock, running.dispatcher)
        await running.scheduler.start()

    def leading() -> bool:  # with several workers, only the scheduler's leader sends
        return running.scheduler is None or running.scheduler.is_leader

    running.tasks.append(
        asyncio.create_task(
            running.dispatcher.run(running.stop_event, active=leading), name="outbox-dispatcher"
        )
    )


def _scheduler(
    config: Config, db: Database, clock: Clock, dispatcher: Dispatcher
) -> SchedulerService:
    from scheduler.jobs import SchedulerService

    return SchedulerService(db, clock, config.scheduler_settings(), on_enqueued=dispatcher.wake)


async def stop(running: Running) -> None:
    running.stop_event.set()
    if running.scheduler is not None:
        await running.scheduler.stop()
    for task in running.tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if running.telegram is not None:
        await running.telegram.stop()
    if running.zalo is not None:
        await running.zalo.stop()
    running.db.dispose()


def freeze_startup_objects() -> None:
    """Keep what start-up built (modules, the application, settings) out of later collections.

    About 200,000 objects are alive once the bot has started. Python's full collection walked
    them all, holding the event loop for over 100 ms several times a minute under load, which
    bench/updates.py saw as its p99. They live as long as the process, so after one last
    collection they are frozen and only what the bot makes afterwards is ever scanned.
    """
    gc.collect()
    gc.freeze()


async def serve(config: Config, clock: Clock) -> None:
    """Run until SIGINT or SIGTERM, which also end the wait for an unreachable Bot API."""
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    starting = asyncio.create_task(start(config, clock), name="start")
    stopping = asyncio.create_task(done.wait(), name="stop-signal")
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():  # stopped before every Bot API could be reached
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        return
    running = starting.result()
    freeze_startup_objects()
    parts = [
        name
        for name, part in (("Telegram", running.telegram), ("Zalo", running.zalo))
        if part is not None
    ]
    log.info("Tiến độ is running: %s; outbox dispatcher and scheduler on", ", ".join(parts))
    try:
        await stopping
    finally:
        await stop(running)
