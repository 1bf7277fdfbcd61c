"""The Zalo adapter: events → neutral events; replies → text with numbered choices."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.health import Health, Refused, Unreachable
from bot.logs import protect
from bot.render import render_text
from bot.zalo.api import MAX_TEXT, ZaloApiError, ZaloBotApi
from bot.zalo.events import (
    EVENT_IMAGE,
    EVENT_STICKER,
    EVENT_TEXT,
    EVENT_UNSUPPORTED,
    EVENT_VOICE,
    MalformedEvent,
    ZaloEvent,
)
from bot.zalo.webhook import make_webhook_app
from handlers.conversation import apology
from handlers.events import Inbound, InboundFile, Reply
from handlers.ports import SendError, says_recipient_gone
from handlers.service import ConversationService
from handlers.texts import Texts
from storage.textfit import split_text

log = logging.getLogger(__name__)


def to_event(event: ZaloEvent) -> Inbound | None:
    """Translate a Zalo event; None for event kinds this bot does not know (ignored)."""
    common: dict[str, Any] = {
        "platform": "zalo",
        "user_id": event.sender_id or event.chat_id,
        "chat_id": event.chat_id,
        "display_name": event.sender_name,
        "update_key": event.message_id or None,
        "group": event.chat_type == "GROUP",
    }
    if event.event_name == EVENT_TEXT:
        return Inbound(**common, text=event.text or "")
    if event.event_name == EVENT_IMAGE and event.photo_url:
        name = f"anh-{event.message_id or 'zalo'}.jpg"
        return Inbound(
            **common,
            text=event.caption,
            file=InboundFile("photo", name, "image/jpeg", None, event.photo_url),
        )
    if event.event_name == EVENT_STICKER:
        return Inbound(**common, unsupported="sticker")
    if event.event_name == EVENT_VOICE:
        return Inbound(**common, unsupported="voice")
    if event.event_name == EVENT_UNSUPPORTED:
        return Inbound(**common, unsupported="withheld")
    return None


def render_outbox(payload: dict[str, Any], language: str = "vi") -> str:
    """Reminders and digests on Zalo: buttons become item codes to type."""
    text = payload.get("text", "")
    choices = [label for row in payload.get("choices") or [] for label, _ in row]
    if not choices:
        return str(text)
    tx = Texts(language)
    code = choices[0].split(" · ")[0]  # "2.5 · Lĩnh vực giao thông", or "HY 2.5 · …"
    hint = tx._("Gõ mã nội dung (ví dụ {code}) để báo cáo hoặc xem chi tiết.", code=code)
    return f"{text}\n\n{hint}"


class ZaloMessenger:
    """Deliver outbox payloads through the Zalo Bot API."""

    platform = "zalo"

    def __init__(self, api: ZaloBotApi) -> None:
        self.api = api

    async def deliver(self, chat_id: str, payload: dict[str, Any]) -> None:
        try:
            await self.api.send_message(chat_id, render_outbox(payload))
        except ZaloApiError as exc:
            gone = not exc.transient and says_recipient_gone(exc.description)
            raise SendError(
                str(exc), transient=exc.transient, retry_after=exc.retry_after, gone=gone
            ) from None


class ZaloBot:
    """Polling or webhook intake for one Zalo bot token, answering through the service."""

    def __init__(
        self,
        service: ConversationService,
        api: ZaloBotApi,
        *,
        max_download_mb: int = 20,
        on_handled: Callable[[Inbound], None] | None = None,
        backoff: tuple[float, float] = (1.0, 60.0),
    ) -> None:
        self.service = service
        self.api = api
        self.messenger = ZaloMessenger(api)
        self.max_bytes = max_download_mb * 1024 * 1024
        self.on_handled = on_handled
        self.backoff = backoff  # first and longest pause before polling again after a failure
        self.health = Health(service.db, service.clock, "zalo")
        self._stop = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None

    async def _fetch(self, file: InboundFile) -> bytes:
        return await self.api.download(file.ref, self.max_bytes)

    async def handle(self, event: ZaloEvent) -> None:
        """Answer one event (polling and webhook share this)."""
        inbound = to_event(event)
        if inbound is None:
            log.info("ignored Zalo event %s", event.event_name[:40])
            return
        if inbound.update_key:  # message ids are only known unique per bot
            inbound = dataclasses.replace(
                inbound, update_key=f"{self.api.fingerprint}:{inbound.update_key}"
            )
        try:
            if not inbound.for_the_bot:
                return
            replies = await self.service.handle(inbound, self._fetch)
            with self.service.replying(replies):
                for reply in replies:
                    await self.send(inbound.chat_id, reply, inbound.user_id)
        finally:
            if self.on_handled is not None:
                self.on_handled(inbound)

    async def send(self, chat_id: str, reply: Reply, user_id: str | None = None) -> None:
        """Send a reply as text; a file it carries is named in the reader's language."""
        text = render_text(reply)
        if reply.file is not None:
            tx = Texts(self._language(user_id or chat_id))
            text += "\n\n" + tx._(
                "(Zalo chưa gửi được tệp {name}; vui lòng dùng Telegram hoặc "
                "nhờ cơ quan đầu mối gửi.)",
                name=reply.file.file_name,
            )
        for part in split_text(text, MAX_TEXT):  # one call per part: the client sends one
            await self.api.send_message(chat_id, part)

    def _language(self, user_id: str) -> str:
        return self.service.language_of("zalo", user_id)

    async def _poll(self) -> None:
        """Long-poll until stopped. A failure of any kind never ends polling: it is logged,
        shown in `tiendo status`, and polling tries again after a pause that doubles up to
        `backoff[1]` (a webhook set by mistake, a revoked token, a network outage)."""
        delay = self.backoff[0]
        while not self._stop.is_set():
            try:
                event = await self.api.get_updates()
            except MalformedEvent as exc:
                log.warning("malformed Zalo event skipped: %s", exc)
                continue
            except Exception as exc:  # noqa: BLE001 - polling must outlive any failure
                self._poll_failed(exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                delay = min(delay * 2, self.backoff[1])
                continue
            if self.health.state != "ok":
                if self.health.state == "down":
                    log.info("Zalo polling works again")
                self.health.up()
            delay = self.backoff[0]
            if event is not None:
                await self.handle_safely(event)

    def _poll_failed(self, exc: Exception, delay: float) -> None:
        """Log a failed poll (ERROR when retrying cannot be enough) and mark Zalo down."""
        if isinstance(exc, ZaloApiError):
            detail = str(exc)
            lasting = exc.error_code == 409 or not exc.transient
        else:
            detail = f"{type(exc).__name__}: {exc}"
            lasting = True
        if lasting:
            log.error("Zalo polling failed: %s; polling again in %.0f s", detail, delay)
        else:
            log.warning("Zalo polling failed: %s; polling again in %.0f s", detail, delay)
        self.health.down(detail)

    async def handle_safely(self, event: ZaloEvent) -> None:
        """Handle an event; on an unexpected error, log it and ask the person to resend.

        Zalo hands each polled event over once, and a failed webhook would only be retried
        into the same error: either way the person is told, and the bot keeps going.
        """
        try:
            await self.handle(event)
        except ZaloApiError as exc:
            log.warning("could not answer on Zalo: %s", exc)
        except Exception:  # noqa: BLE001 - one bad event must not stop the bot
            log.exception("error while handling a Zalo event")
            if event.chat_id:
                tx = Texts(self._language(event.sender_id or event.chat_id))
                with contextlib.suppress(ZaloApiError):
                    await self.api.send_message(event.chat_id, apology(tx))

    async def start_polling(self) -> None:
        """Check the token, then poll; raise Unreachable while the Bot API cannot be reached."""
        try:
            await self.api.get_me()
        except ZaloApiError as exc:
            if exc.transient:
                raise Unreachable("Zalo", str(exc)) from None
            if exc.error_code in (401, 403, 404):
                raise Refused("Zalo") from None
            raise
        self._poller = asyncio.create_task(self._poll(), name="zalo-poll")

    async def start_webhook(self, listen: str, port: int, path: str, secret: str) -> None:
        protect(secret)
        app = make_webhook_app(secret, self.handle_safely, path=path)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, listen, port).start()

    async def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
        if self.health.state is not None:
            self.health.stopped()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.api.aclose()
