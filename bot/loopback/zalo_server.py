"""A fake Zalo Bot API on 127.0.0.1, faithful to docs/reference, for tests, demo and benchmarks.

It serves ``/bot<token>/<method>`` like the real platform (one event per getUpdates, webhook
pushes with the secret header, the 1..2000 character text limit, ok:false envelopes) and
adds what tests need: simulated users, a record of everything the bot sent, fault
injection, an optional rate limit and, for a standalone run, a tiny control API under
``/_fake/``.

Where the reference is silent the fake picks one plausible answer and says so: private
chats use the user id as chat id; HTTP status equals error_code except for injected
``ok_false_*`` faults and the ``timeout_error`` empty poll, which answer HTTP 200.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

import aiohttp
from aiohttp import web

from bot.zalo.api import MAX_SECRET, MAX_TEXT, MIN_SECRET, SECRET_HEADER
from bot.zalo.events import EVENT_IMAGE, EVENT_STICKER, EVENT_TEXT, EVENT_UNSUPPORTED, EVENT_VOICE

DEFAULT_TOKEN: Final = "zalo-test-token-0123456789"
MAX_POLL_SECONDS: Final = 60.0
FaultKind = Literal["http500", "ok_false_500", "ok_false_400", "timeout", "429"]
PollEmptyMode = Literal["empty", "timeout_error"]
_FAULT_KINDS: Final = frozenset(get_args(FaultKind))
_UNRATED: Final = frozenset({"getUpdates"})

logger = logging.getLogger(__name__)

_Handler = Callable[[web.Request, dict[str, Any]], Awaitable[web.Response]]


@dataclass(frozen=True)
class ZaloSent:
    """One message the bot sent, as the fake recorded it."""

    method: str
    chat_id: str
    text: str | None
    photo: str | None
    caption: str | None
    at: datetime
    message_id: str = ""


@dataclass(frozen=True)
class WebhookDelivery:
    """One webhook push and what the receiver answered (status None: unreachable)."""

    message_id: str | None
    status: int | None
    error: str = ""


@dataclass
class FakeZaloStats:
    """Counters for benchmarks and tests."""

    requests: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    faults_served: int = 0
    webhook_deliveries: int = 0


class _ApiError(Exception):
    """An ok:false answer to send."""

    def __init__(self, code: int, description: str, *, http_status: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.http_status = http_status if http_status is not None else code


class FakeZaloServer:
    """Serve a fake Zalo Bot API and play users against the bot under test."""

    allow_http_webhook: bool = True

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        rate_limit_per_second: float | None = None,
        poll_empty_mode: PollEmptyMode = "empty",
        alt_field_names: bool = False,
        timeout_fault_delay: float = 3.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if poll_empty_mode not in get_args(PollEmptyMode):
            raise ValueError(f"unknown poll_empty_mode {poll_empty_mode!r}")
        self.token = token
        self.rate_limit_per_second = rate_limit_per_second  # a full bucket: burst of max(1, rate)
        self.poll_empty_mode: PollEmptyMode = poll_empty_mode
        self.alt_field_names = (
            alt_field_names  # from.name and photo_url instead of the documented names
        )
        self.timeout_fault_delay = timeout_fault_delay
        self.bot_id = "100000000000000001"
        self.sent: list[ZaloSent] = []
        self.chat_actions: list[tuple[str, str]] = []
        self.deliveries: list[WebhookDelivery] = []
        self.webhook: dict[str, Any] | None = None
        self.stats = FakeZaloStats()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._users: dict[str, str] = {}
        self._chats: set[str] = set()
        self._events: dict[str, dict[str, Any]] = {}
        self._files: dict[str, tuple[bytes, str]] = {}
        self._queue: deque[Any] = deque()
        self._changed = asyncio.Condition()
        self._cursors: dict[str, int] = {}
        self._log: list[tuple[str, str]] = []
        self._faults: defaultdict[str, deque[FaultKind]] = defaultdict(deque)
        self._poll_generation = 0
        self._numeric_counter = 1_000_000
        self._webhook_updated_at = 0
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._base_url: str | None = None
        self._methods: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
        }

    # ----------------------------------------------------------------- life cycle

    @property
    def rate_limit_per_second(self) -> float | None:
        """Return the request rate above which calls get 429 (None: unlimited)."""
        return self._rate

    @rate_limit_per_second.setter
    def rate_limit_per_second(self, rate: float | None) -> None:
        """Change the rate limit and refill the bucket (burst of max(1, rate) requests)."""
        if rate is not None and rate <= 0:
            raise ValueError("rate_limit_per_second must be positive")
        self._rate = rate
        self._bucket = float(max(1.0, rate or 1.0))
        self._bucket_at = time.monotonic()

    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:PORT; the client appends /bot<token>/<method>."""
        if self._base_url is None:
            raise RuntimeError("FakeZaloServer is not started")
        return self._base_url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on loopback (an ephemeral port by default)."""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fake Zalo server binds to loopback only")
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_post("/_fake/send_text", self._control_send_text)
        app.router.add_get("/_fake/sent", self._control_sent)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        netloc = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{netloc}:{bound[1]}"
        self._session = aiohttp.ClientSession()
        self._stopping.clear()

    async def stop(self) -> None:
        """Wake every waiting handler and shut down."""
        self._stopping.set()
        async with self._changed:
            self._changed.notify_all()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeZaloServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- users

    def add_user(self, user_id: str, display_name: str) -> None:
        """Register a Zalo user; their private chat id is their user id."""
        self._users[str(user_id)] = display_name
        self._chats.add(str(user_id))

    async def send_text(
        self,
        user_id: str,
        text: str,
        *,
        message_id: str | None = None,
        numeric_ids: bool = False,
        group_id: str | None = None,
    ) -> str:
        """Have a user send text; return the message id."""
        message = self._message(user_id, message_id, numeric_ids, group_id)
        message["text"] = text
        return await self._deliver(EVENT_TEXT, message, f"{text}")

    async def send_image(
        self,
        user_id: str,
        content: bytes,
        caption: str | None = None,
        *,
        numeric_ids: bool = False,
        group_id: str | None = None,
    ) -> str:
        """Have a user send a photo, served by this server at the URL in message.photo."""
        kind = "png" if content.startswith(b"\x89PNG") else "jpg"
        name = f"{uuid.uuid4().hex}.{kind}"
        self._files[name] = (content, "image/png" if kind == "png" else "image/jpeg")
        message = self._message(user_id, None, numeric_ids, group_id)
        message["photo_url" if self.alt_field_names else "photo"] = f"{self.base_url}/files/{name}"
        if caption is not None:
            message["caption"] = caption
        return await self._deliver(EVENT_IMAGE, message, f"[ảnh] {caption or ''}".strip())

    async def send_sticker(self, user_id: str) -> str:
        """Have a user send a sticker."""
        return await self._deliver(EVENT_STICKER, self._message(user_id), "[sticker]")

    async def send_voice(self, user_id: str) -> str:
        """Have a user send a voice message."""
        return await self._deliver(EVENT_VOICE, self._message(user_id), "[voice]")

    async def send_unsupported(self, user_id: str) -> str:
        """Have a user send content that Zalo withholds for privacy."""
        return await self._deliver(EVENT_UNSUPPORTED, self._message(user_id), "[unsupported]")

    async def send_event(self, user_id: str, event_name: str, **fields: Any) -> str:
        """Have a user trigger any event, e.g. a future event name."""
        message = self._message(user_id)
        message.update(fields)
        return await self._deliver(event_name, message, f"[{event_name}]")

    async def send_raw(self, body: Any) -> None:
        """Deliver body exactly as given: the webhook POST body, or the whole getUpdates answer."""
        self._log.append(("*", f"raw → bot: {body!r:.200}"))
        if self.webhook is not None:
            await self._push(_encode(body), None)
        else:
            await self._enqueue(body)

    async def redeliver(self, message_id: str) -> None:
        """Deliver an earlier event again, as a retrying platform would."""
        event = self._events[str(message_id)]
        if self.webhook is not None:
            await self._push(_encode({"ok": True, "result": event}), str(message_id))
        else:
            await self._enqueue({"ok": True, "result": event})

    # ----------------------------------------------------------------- assertions

    def messages_to(self, chat_id: str) -> list[ZaloSent]:
        """Return everything the bot sent to one chat, oldest first."""
        chat = str(chat_id)
        return [sent for sent in self.sent if sent.chat_id == chat]

    async def wait_for(self, chat_id: str, count: int = 1, timeout: float = 5.0) -> list[ZaloSent]:
        """Wait for count messages to chat_id that no earlier wait has returned."""
        chat = str(chat_id)
        start = self._cursors.get(chat, 0)
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(
                    lambda: len(self.messages_to(chat)) >= start + count or self._stopping.is_set()
                )
        except TimeoutError:
            pass
        new = self.messages_to(chat)[start : start + count]
        if len(new) < count:
            raise AssertionError(
                f"expected {count} new message(s) to chat {chat} within {timeout} s, "
                f"got {len(new)}\n{self.transcript(chat)}"
            )
        self._cursors[chat] = start + count
        return new

    async def next_reply(self, chat_id: str, timeout: float = 5.0) -> ZaloSent:
        """Wait for the next new message to chat_id."""
        return (await self.wait_for(chat_id, 1, timeout))[0]

    def transcript(self, chat_id: str | None = None) -> str:
        """Render the conversation (inbound and outbound) for an assertion message."""
        lines = [text for chat, text in self._log if chat_id is None or chat in (chat_id, "*")]
        return "\n".join(lines) if lines else "(no messages)"

    def inject_fault(self, method: str, kind: FaultKind, count: int = 1) -> None:
        """Make the next count calls of method fail the given way."""
        if kind not in _FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if method not in self._methods:
            raise ValueError(f"unknown method {method!r}")
        self._faults[method].extend([kind] * count)

    def clear_faults(self) -> None:
        """Forget every fault not served yet: the platform works again."""
        self._faults.clear()

    # ----------------------------------------------------------------- events

    def _message(
        self,
        user_id: str,
        message_id: str | None = None,
        numeric_ids: bool = False,
        group_id: str | None = None,
    ) -> dict[str, Any]:
        """Build the documented message object for a user."""
        user = str(user_id)
        if user not in self._users:
            self.add_user(user, f"Người dùng {user}")
        chat = str(group_id) if group_id is not None else user
        self._chats.add(chat)
        if message_id is None:
            self._numeric_counter += 1
            message_id = str(self._numeric_counter) if numeric_ids else uuid.uuid4().hex

        def ident(value: str) -> str | int:
            if not numeric_ids:
                return value
            if not value.isdigit():
                raise ValueError(f"numeric_ids needs digit-only ids, got {value!r}")
            return int(value)

        name_key = "name" if self.alt_field_names else "display_name"
        return {
            "message_id": ident(str(message_id)),
            "date": int(self._clock().timestamp() * 1000),
            "from": {"id": ident(user), name_key: self._users[user], "is_bot": False},
            "chat": {"id": ident(chat), "chat_type": "GROUP" if group_id else "PRIVATE"},
        }

    async def _deliver(self, event_name: str, message: dict[str, Any], summary: str) -> str:
        """Push the event to the webhook, or queue it for getUpdates."""
        event = {"event_name": event_name, "message": message}
        message_id = str(message["message_id"])
        chat = str(message["chat"]["id"])
        self._events[message_id] = event
        self._log.append((chat, f"{message['from'].get('id')} → bot: {summary}"))
        if self.webhook is not None:
            await self._push(_encode({"ok": True, "result": event}), message_id)
        else:
            await self._enqueue({"ok": True, "result": event})
        return message_id

    async def _enqueue(self, body: Any) -> None:
        """Queue a getUpdates answer and wake the poller."""
        self._queue.append(body)
        async with self._changed:
            self._changed.notify_all()

    async def _push(self, body: bytes, message_id: str | None) -> None:
        """POST one webhook delivery and record the receiver's answer."""
        assert self.webhook is not None
        if self._session is None:
            raise RuntimeError("FakeZaloServer is not started")
        headers = {"Content-Type": "application/json", SECRET_HEADER: self.webhook["secret_token"]}
        self.stats.webhook_deliveries += 1
        try:
            async with self._session.post(
                self.webhook["url"],
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                await response.read()
                self.deliveries.append(WebhookDelivery(message_id, response.status))
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.deliveries.append(WebhookDelivery(message_id, None, type(exc).__name__))

    # ----------------------------------------------------------------- HTTP API

    async def _api(self, request: web.Request) -> web.Response:
        """Route /bot<token>/<method>: auth, parse, limits, faults, then the method."""
        method = request.match_info["method"]
        self.stats.requests[method] += 1
        try:
            if not hmac.compare_digest(request.match_info["token"].encode(), self.token.encode()):
                raise _ApiError(401, "Unauthorized")
            handler = self._methods.get(method)
            if handler is None:
                raise _ApiError(404, f"Not Found: method {method} does not exist")
            body = await _json_body(request)
            if method not in _UNRATED and (wait := self._rate_wait()) is not None:
                self.stats.rate_limited += 1
                return _fail(
                    429, f"Too Many Requests: retry after {wait}", parameters={"retry_after": wait}
                )
            if self._faults[method]:
                return await self._fault(self._faults[method].popleft(), handler, request, body)
            return await handler(request, body)
        except _ApiError as exc:
            return _fail(exc.code, exc.description, http_status=exc.http_status)

    def _rate_wait(self) -> float | None:
        """Take a token from the bucket; return seconds to wait when it is empty."""
        rate = self._rate
        if rate is None:
            return None
        now = time.monotonic()
        self._bucket = min(max(1.0, rate), self._bucket + (now - self._bucket_at) * rate)
        self._bucket_at = now
        if self._bucket >= 1.0:
            self._bucket -= 1.0
            return None
        return max(0.01, round((1.0 - self._bucket) / rate + 0.005, 2))

    async def _fault(
        self, kind: FaultKind, handler: _Handler, request: web.Request, body: dict[str, Any]
    ) -> web.Response:
        """Serve one injected fault."""
        self.stats.faults_served += 1
        if kind == "http500":
            return web.Response(status=500, text="Internal Server Error")
        if kind == "ok_false_500":
            return _fail(500, "Internal Server Error (injected)", http_status=200)
        if kind == "ok_false_400":
            return _fail(400, "Bad Request: injected fault", http_status=200)
        if kind == "429":
            self.stats.rate_limited += 1
            return _fail(429, "Too Many Requests: retry after 0", parameters={"retry_after": 0})
        response = await handler(request, body)  # "timeout": carried out, answered too late
        await self._pause(self.timeout_fault_delay)
        return response

    async def _pause(self, seconds: float) -> None:
        """Sleep, but return at once when the server stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _get_me(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        return _ok(
            {
                "id": self.bot_id,
                "account_name": "bot.tiendo",
                "account_type": "BASIC",
                "can_join_groups": False,
            }
        )

    async def _get_updates(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        """Answer with the next queued event, or nothing when the long poll ends."""
        if self.webhook is not None:
            raise _ApiError(
                409, "Conflict: can't use getUpdates while a webhook is active; deleteWebhook first"
            )
        timeout = body.get("timeout", 30)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout < 0:
            raise _ApiError(400, "Bad Request: timeout must be a non-negative number")
        self._poll_generation += 1
        generation = self._poll_generation
        async with self._changed:
            self._changed.notify_all()  # an older poll for this token ends with a conflict
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(float(timeout), MAX_POLL_SECONDS)
        while True:
            if generation != self._poll_generation:
                raise _ApiError(409, "Conflict: terminated by other getUpdates request")
            gone = request.transport is None or request.transport.is_closing()
            if self._stopping.is_set() or gone:
                return _ok(None)
            if self._queue:
                return _raw_answer(self._queue.popleft())
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining), self._changed:
                    await self._changed.wait()
            except TimeoutError:
                pass
        if self.poll_empty_mode == "timeout_error":
            return _fail(408, "Request timeout", http_status=200)
        return web.json_response({"ok": True})

    async def _set_webhook(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        url = body.get("url")
        secret = body.get("secret_token")
        if not isinstance(url, str) or not url:
            raise _ApiError(400, "Bad Request: url is required")
        if not (
            url.startswith("https://") or (self.allow_http_webhook and url.startswith("http://"))
        ):
            raise _ApiError(400, "Bad Request: url must be https")
        if not isinstance(secret, str) or not MIN_SECRET <= len(secret) <= MAX_SECRET:
            raise _ApiError(
                400, f"Bad Request: secret_token must be {MIN_SECRET}-{MAX_SECRET} characters"
            )
        self._webhook_updated_at = self._now_ms()
        self.webhook = {"url": url, "secret_token": secret, "updated_at": self._webhook_updated_at}
        return _ok({"url": url, "updated_at": self._webhook_updated_at})

    async def _delete_webhook(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        self.webhook = None
        self._webhook_updated_at = self._now_ms()
        return _ok({"url": "", "updated_at": self._webhook_updated_at})

    async def _get_webhook_info(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        url = self.webhook["url"] if self.webhook else ""
        return _ok({"url": url, "updated_at": self._webhook_updated_at})

    async def _send_message(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        chat = self._known_chat(body)
        text = _text_field(body, "text", required=True)
        parse_mode = body.get("parse_mode")
        if parse_mode is not None and parse_mode not in ("markdown", "html"):
            raise _ApiError(400, "Bad Request: parse_mode must be markdown or html")
        return _ok(await self._record("sendMessage", chat, text=text))

    async def _send_photo(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        chat = self._known_chat(body)
        photo = body.get("photo")
        if not isinstance(photo, str) or not photo.strip():
            raise _ApiError(400, "Bad Request: photo is required")
        caption = _text_field(body, "caption", required=False)
        return _ok(await self._record("sendPhoto", chat, photo=photo, caption=caption))

    async def _send_chat_action(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        chat = self._known_chat(body)
        action = body.get("action")
        if not isinstance(action, str) or not action:
            raise _ApiError(400, "Bad Request: action is required")
        self.chat_actions.append((chat, action))
        return web.json_response({"ok": True})

    def _known_chat(self, body: dict[str, Any]) -> str:
        """Return body.chat_id as a string if the chat exists."""
        value = body.get("chat_id")
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            raise _ApiError(400, "Bad Request: chat_id is required")
        chat = str(value).strip()
        if chat not in self._chats:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat

    async def _record(
        self,
        method: str,
        chat: str,
        *,
        text: str | None = None,
        photo: str | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Remember a sent message, wake waiters and return the API result."""
        message_id = uuid.uuid4().hex
        at = self._clock()
        self.sent.append(ZaloSent(method, chat, text, photo, caption, at, message_id))
        shown = text if text is not None else f"[ảnh {photo}] {caption or ''}".rstrip()
        self._log.append((chat, f"bot → {chat}: {shown}"))
        await self._notify()
        return {"message_id": message_id, "date": int(at.timestamp() * 1000)}

    async def _notify(self) -> None:
        """Wake wait_for callers."""
        async with self._changed:
            self._changed.notify_all()

    def _now_ms(self) -> int:
        return int(self._clock().timestamp() * 1000)

    async def _file(self, request: web.Request) -> web.Response:
        """Serve an image a simulated user sent."""
        stored = self._files.get(request.match_info["name"])
        if stored is None:
            raise web.HTTPNotFound()
        content, content_type = stored
        return web.Response(body=content, content_type=content_type)

    # ----------------------------------------------------------------- control API

    async def _control_send_text(self, request: web.Request) -> web.Response:
        """POST /_fake/send_text {"user_id", "text", "display_name"?}: play a user."""
        body = await request.json()
        user = str(body["user_id"])
        if "display_name" in body:
            self.add_user(user, str(body["display_name"]))
        message_id = await self.send_text(user, str(body["text"]))
        return web.json_response({"message_id": message_id})

    async def _control_sent(self, request: web.Request) -> web.Response:
        """GET /_fake/sent?chat_id=…: what the bot sent."""
        chat = request.query.get("chat_id")
        items = self.sent if chat is None else self.messages_to(chat)
        return web.json_response([{**asdict(s), "at": s.at.isoformat()} for s in items])


# --------------------------------------------------------------------------- helpers


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _fail(
    code: int,
    description: str,
    *,
    http_status: int | None = None,
    parameters: dict[str, Any] | None = None,
) -> web.Response:
    """Answer with an ok:false envelope."""
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=http_status if http_status is not None else code)


def _raw_answer(body: Any) -> web.Response:
    """Answer a poll with a queued body, as is."""
    return web.Response(body=_encode(body), content_type="application/json")


def _encode(body: Any) -> bytes:
    """Encode bytes and str as given, anything else as JSON."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


async def _json_body(request: web.Request) -> dict[str, Any]:
    """Parse a JSON object body; an empty body is {}."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _ApiError(400, "Bad Request: body is not JSON") from None
    if not isinstance(body, dict):
        raise _ApiError(400, "Bad Request: body must be a JSON object")
    return body


def _text_field(body: dict[str, Any], key: str, *, required: bool) -> str | None:
    """Validate a 1..MAX_TEXT character text field."""
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TEXT:
        raise _ApiError(400, f"Bad Request: {key} must be 1-{MAX_TEXT} characters")
    return value


# --------------------------------------------------------------------------- standalone


async def _serve(args: argparse.Namespace) -> None:
    """Run the fake until interrupted."""
    server = FakeZaloServer(
        args.token,
        rate_limit_per_second=args.rate_limit,
        poll_empty_mode=args.poll_empty_mode,
    )
    await server.start(args.host, args.port)
    print(f"Fake Zalo Bot API: {server.base_url}  token: {server.token}", flush=True)
    print(
        f"Play a user: curl -X POST {server.base_url}/_fake/send_text "
        '-d \'{"user_id": "1001", "text": "xin chào"}\'',
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(description="Fake Zalo Bot API on loopback")
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "localhost", "::1"])
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second")
    parser.add_argument("--poll-empty-mode", choices=get_args(PollEmptyMode), default="empty")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
