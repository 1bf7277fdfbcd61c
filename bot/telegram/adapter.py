"""The Telegram adapter: updates → neutral events, neutral replies → messages and keyboards."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, ExtBot, TypeHandler

from bot.health import Health, Refused, Unreachable
from bot.logs import protect, redact
from bot.telegram.request import AiohttpRequest
from handlers.conversation import apology
from handlers.events import Choice, Inbound, InboundFile, OutFile, Reply
from handlers.ports import SendError, says_recipient_gone
from handlers.service import ConversationService
from handlers.texts import Texts
from storage.textfit import TEXT_LIMITS, split_text

log = logging.getLogger(__name__)
MAX_TEXT = TEXT_LIMITS["telegram"]
SEND_ATTEMPTS = 3  # per message of a reply; then it is dropped, loudly
UNSUPPORTED = (
    ("sticker", "sticker"),
    ("voice", "voice"),
    ("audio", "voice"),
    ("video", "video"),
    ("video_note", "video"),
    ("location", "location"),
    ("contact", "contact"),
    ("animation", "video"),
    ("poll", "poll"),
)

# (command, Vietnamese description, English description); names are Telegram-legal.
COMMANDS = (
    ("baocao", "Báo cáo tiến độ", "Report progress"),
    ("cuatoi", "Nội dung của cơ quan tôi", "My agency's items"),
    ("muc", "Xem một nội dung, ví dụ /muc 2.5", "Open an item, e.g. /item 2.5"),
    ("sua", "Sửa báo cáo gần nhất", "Correct the last report"),
    ("tonghop", "Bảng tổng hợp (đầu mối)", "Summary (coordinators)"),
    ("quahan", "Quá hạn, vướng mắc (đầu mối)", "Overdue and blocked (coordinators)"),
    ("chuabaocao", "Chưa báo cáo kỳ này (đầu mối)", "Not yet reported (coordinators)"),
    ("xuat", "Xuất Excel (đầu mối)", "Excel export (coordinators)"),
    ("duyet", "Xác nhận hoặc trả lại báo cáo", "Confirm or return reports"),
    ("chidao", "Gửi chỉ đạo (Phó Chủ tịch)", "Send a directive (Vice-Chair)"),
    ("vangmat", "Báo vắng, người nhận thay", "Set an absence and stand-in"),
    ("lienket", "Liên kết thêm Zalo/Telegram", "Link your Zalo/Telegram account"),
    ("kenh", "Chọn kênh nhận nhắc việc", "Choose where reminders go"),
    ("ngonngu", "Đổi ngôn ngữ", "Change language"),
    ("huy", "Huỷ thao tác", "Cancel"),
    ("trogiup", "Hướng dẫn", "Help"),
)
ENGLISH_NAMES = {
    "baocao": "report",
    "cuatoi": "my",
    "muc": "item",
    "sua": "correct",
    "tonghop": "summary",
    "quahan": "overdue",
    "chuabaocao": "missing",
    "xuat": "export",
    "duyet": "review",
    "chidao": "directive",
    "vangmat": "away",
    "lienket": "link",
    "kenh": "channel",
    "ngonngu": "language",
    "huy": "cancel",
    "trogiup": "help",
}


def to_event(update: Update) -> Inbound | None:
    """Translate an update; None for kinds the bot does not handle (channel posts, …)."""
    key = str(update.update_id)
    query = update.callback_query
    if query is not None:
        if query.message is None or query.data is None:
            return None
        return Inbound(
            "telegram",
            str(query.from_user.id),
            str(query.message.chat.id),
            query.from_user.full_name,
            choice=query.data,
            update_key=key,
        )
    edited = update.edited_message is not None
    message: Message | None = update.message or update.edited_message
    if message is None or message.from_user is None:
        return None
    user = message.from_user
    common: dict[str, Any] = {
        "platform": "telegram",
        "user_id": str(user.id),
        "chat_id": str(message.chat.id),
        "display_name": user.full_name,
        "update_key": key,
        "edited": edited,
        "group": message.chat.type != "private",
    }
    if message.document is not None:
        doc = message.document
        return Inbound(
            **common,
            file=InboundFile(
                "document",
                doc.file_name or "tep",
                doc.mime_type or "application/octet-stream",
                doc.file_size,
                doc.file_id,
            ),
            text=message.caption,
        )
    if message.photo:
        photo = message.photo[-1]
        return Inbound(
            **common,
            file=InboundFile(
                "photo",
                f"anh-{photo.file_unique_id}.jpg",
                "image/jpeg",
                photo.file_size,
                photo.file_id,
            ),
            text=message.caption,
        )
    if message.text is not None:
        return Inbound(**common, text=message.text)
    for attribute, kind in UNSUPPORTED:
        if getattr(message, attribute, None):
            return Inbound(**common, unsupported=kind)
    return Inbound(**common, unsupported="other")


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.choices:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(c.label, callback_data=c.data) for c in row]
            for row in reply.choices
        ]
    )


Call = Callable[[], Awaitable[object]]


def reply_messages(bot: Any, chat_id: int | str, reply: Reply) -> list[Call]:
    """The Bot API calls one neutral reply takes: long text split, the keyboard on the last
    part, then a file. Each can be retried alone, so a retry never repeats an earlier part."""
    text = reply.text_with_details()
    parts = split_text(text, MAX_TEXT) if text else []
    calls: list[Call] = []
    for index, part in enumerate(parts):
        markup = keyboard(reply) if index == len(parts) - 1 and not reply.file else None
        calls.append(_message(bot, chat_id, part, markup))
    if reply.file is not None:
        calls.append(_file(bot, chat_id, reply.file, keyboard(reply)))
    return calls


def _message(bot: Any, chat_id: int | str, text: str, markup: InlineKeyboardMarkup | None) -> Call:
    return lambda: bot.send_message(chat_id, text, reply_markup=markup)


def _file(bot: Any, chat_id: int | str, file: OutFile, markup: InlineKeyboardMarkup | None) -> Call:
    send = bot.send_photo if file.photo else bot.send_document
    return lambda: send(
        chat_id, InputFile(file.content, filename=file.file_name), reply_markup=markup
    )


async def send_reply(bot: Any, chat_id: int | str, reply: Reply) -> None:
    """Send one neutral reply, its messages in order."""
    for call in reply_messages(bot, chat_id, reply):
        await call()


def _retry_seconds(exc: RetryAfter) -> float:
    """The pause Telegram asked for, in seconds (PTB gives a timedelta or a number)."""
    delay = exc.retry_after
    return delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)


class TelegramMessenger:
    """Deliver outbox payloads through a PTB bot, classifying failures."""

    platform = "telegram"

    def __init__(self, bot: Any) -> None:
        self.bot = bot

    async def deliver(self, chat_id: str, payload: dict[str, Any]) -> None:
        choices = tuple(
            tuple(Choice(label, data) for label, data in row)
            for row in payload.get("choices") or []
        )
        file = None
        if payload.get("file_path"):
            with open(payload["file_path"], "rb") as handle:
                file = OutFile(
                    payload.get("file_name") or "tep",
                    handle.read(),
                    "application/octet-stream",
                    photo=bool(payload.get("photo")),
                )
        reply = Reply(payload.get("text", ""), choices, file)
        try:
            await send_reply(self.bot, chat_id, reply)
        except RetryAfter as exc:
            raise SendError(
                "429 too many requests", transient=True, retry_after=_retry_seconds(exc)
            ) from None
        except Forbidden as exc:
            raise SendError(f"forbidden: {exc.message}", transient=False, gone=True) from None
        except BadRequest as exc:
            gone = says_recipient_gone(exc.message)
            raise SendError(f"bad request: {exc.message}", transient=False, gone=gone) from None
        except (NetworkError, TelegramError) as exc:
            raise SendError(f"network: {type(exc).__name__}", transient=True) from None


class TolerantBot(ExtBot):  # type: ignore[type-arg]
    """An ExtBot whose polling survives an update it cannot parse, and says when a poll works.

    python-telegram-bot parses a getUpdates batch as a whole: one malformed update makes
    every later poll fail on the same batch, and the bot stops answering anyone. Here the
    batch is parsed one update at a time; a malformed one becomes an empty update (so the
    offset moves past it) and is logged.
    """

    def __init__(
        self, *args: Any, on_polled: Callable[[], None] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self.on_polled = on_polled

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await self._get_updates(*args, **kwargs)
        if self.on_polled is not None:
            self.on_polled()
        return updates

    async def _get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        try:
            return await super().get_updates(*args, **kwargs)
        except (TypeError, ValueError, KeyError, AttributeError):
            wanted = {
                k: kwargs[k]
                for k in ("offset", "limit", "allowed_updates")
                if kwargs.get(k) is not None
            }
            raw = await self.do_api_request("getUpdates", api_kwargs={**wanted, "timeout": 0})
            return tuple(self._parse_one(item) for item in raw or [])

    def _parse_one(self, item: Any) -> Update:
        try:
            update = Update.de_json(item, self)
            if update is not None:
                return update
        except (TypeError, ValueError, KeyError, AttributeError):
            pass
        update_id = item.get("update_id", 0) if isinstance(item, dict) else 0
        log.warning("skipped a malformed update %s", update_id)
        return Update(update_id=int(update_id))


class TelegramBot:
    """The PTB Application wired to the conversation service."""

    def __init__(
        self,
        service: ConversationService,
        token: str,
        *,
        base_url: str,
        base_file_url: str,
        concurrent: int = 32,
        on_handled: Callable[[Inbound], None] | None = None,
    ) -> None:
        protect(token)
        # update_id counts per bot: keying deduplication by bot keeps a new token's first
        # updates from colliding with the old bot's, kept for a month.
        self.bot_id = token.split(":", 1)[0]
        self.service = service
        self.on_handled = on_handled  # tests and benchmarks count finished updates
        self.health = Health(service.db, service.clock, "telegram")
        self._requests = (AiohttpRequest(concurrent + 4), AiohttpRequest(2))
        bot = TolerantBot(
            token,
            base_url=base_url,
            base_file_url=base_file_url,
            request=self._requests[0],
            get_updates_request=self._requests[1],
            on_polled=self._polled,
        )
        builder: ApplicationBuilder = ApplicationBuilder().bot(bot)  # type: ignore[type-arg]
        builder = builder.concurrent_updates(concurrent)
        self.app: Application = builder.build()  # type: ignore[type-arg]
        # The database step runs on the loop, so more updates in flight only overlap their
        # Bot API calls; 32 did ~10% better than 8 in bench/updates.py, and the steps still
        # start in arrival order (PTB's semaphore is first come, first served).
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        self.messenger = TelegramMessenger(self.app.bot)

    async def _fetch(self, file: InboundFile) -> bytes:
        remote = await self.app.bot.get_file(file.ref)
        return bytes(await remote.download_as_bytearray())

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = to_event(update)
        if event is None or not event.for_the_bot:
            await self._answer_tap(update)
            return
        event = dataclasses.replace(event, update_key=f"{self.bot_id}:{event.update_key}")
        try:
            # The step runs before this task first waits, so updates start in the order they
            # came: a tap and a typed answer queued together (say, after a restart) stay in order.
            try:
                replies = await self.service.handle(event, self._fetch)
            finally:
                await self._answer_tap(update)
            with self.service.replying(replies):
                for reply in replies:
                    await self._send(event.chat_id, reply)
        finally:
            if self.on_handled is not None:
                self.on_handled(event)

    @staticmethod
    async def _answer_tap(update: Update) -> None:
        """Stop the tapped button's spinner (Telegram expects an answer to every tap)."""
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()
            except TelegramError:
                log.info("callback answer failed (probably too old)")

    async def _send(self, chat_id: str, reply: Reply) -> None:
        """Send a reply, each message retried on its own; one that Telegram keeps refusing
        with 429 is dropped with an ERROR line and a mark that `tiendo status` shows."""
        for call in reply_messages(self.app.bot, chat_id, reply):
            for attempt in range(1, SEND_ATTEMPTS + 1):
                try:
                    await call()
                    break
                except RetryAfter as exc:
                    if attempt == SEND_ATTEMPTS:
                        log.error(
                            "reply to chat %s dropped: Telegram answered 429 (too many "
                            "requests, retry after %.0f s) %d times",
                            chat_id,
                            _retry_seconds(exc),
                            SEND_ATTEMPTS,
                        )
                        self.health.dropped_reply()
                        return
                    await asyncio.sleep(min(_retry_seconds(exc), 30))
                except Forbidden:
                    log.info("reply not delivered: the user blocked the bot")
                    return
                except NetworkError:
                    if attempt == SEND_ATTEMPTS:
                        raise
                    await asyncio.sleep(0.5 * attempt)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error(
            "error while handling an update: %s",
            type(context.error).__name__,
            exc_info=context.error,
        )
        if isinstance(update, Update) and update.effective_chat is not None:
            user = update.effective_user
            language = (
                self.service.language_of("telegram", str(user.id))
                if user is not None
                else self.service.default_language
            )
            with contextlib.suppress(TelegramError):
                await self.app.bot.send_message(update.effective_chat.id, apology(Texts(language)))

    def _polled(self) -> None:
        """A poll came back: if polling had failed, it works again."""
        if self.health.state != "ok":
            if self.health.state == "down":
                log.info("Telegram polling works again")
            self.health.up()

    def _polling_failed(self, error: TelegramError) -> None:
        """One line instead of PTB's traceback per failed poll; PTB retries by itself."""
        detail = redact(f"{type(error).__name__}: {error}")
        if self.health.state != "down":
            log.error("Telegram polling failed (%s); retrying until it works", detail)
        self.health.down(detail)

    async def _initialize(self) -> None:
        """Check the token and publish the commands; say plainly why that could not be done."""
        try:
            await self.app.initialize()
            await self.register_commands()
        except InvalidToken:  # its text quotes the token
            raise Refused("Telegram") from None
        except NetworkError as exc:  # TimedOut included
            raise Unreachable("Telegram", redact(f"{type(exc).__name__}: {exc}")) from None

    async def register_commands(self) -> None:
        """Publish the command menu in Vietnamese (default) and English."""
        vi = [BotCommand(name, vi) for name, vi, _ in COMMANDS]
        en = [BotCommand(ENGLISH_NAMES[name], en) for name, _, en in COMMANDS]
        await self.app.bot.set_my_commands(vi)
        await self.app.bot.set_my_commands(vi, language_code="vi")
        await self.app.bot.set_my_commands(en, language_code="en")

    async def start_polling(self) -> None:
        """Start polling; raise Unreachable while the Bot API cannot be reached."""
        await self._initialize()
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(
            poll_interval=0.0,
            timeout=10,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
            error_callback=self._polling_failed,
        )

    async def start_webhook(self, listen: str, port: int, path: str, url: str, secret: str) -> None:
        protect(secret)
        await self._initialize()
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_webhook(
            listen=listen,
            port=port,
            url_path=path.lstrip("/"),
            webhook_url=url or None,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )

    async def stop(self) -> None:
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        for request in self._requests:  # opened even when the token check never got through
            await request.shutdown()
        if self.health.state is not None:
            self.health.stopped()
