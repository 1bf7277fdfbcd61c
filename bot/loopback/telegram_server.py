"""A loopback Telegram Bot API server, so the real python-telegram-bot can run end to end offline.

Point PTB at it with ``ApplicationBuilder().token(server.token).base_url(server.base_url)
.base_file_url(server.base_file_url)``. Simulated users talk to the bot through ``send_text``,
``click_button`` and friends; everything the bot sends is recorded in ``sent``. The server checks
what Telegram checks (lengths, HTML entities, inline keyboards, command names, blocked users,
flood limits) and answers with Telegram's wording, so a bug that real Telegram would reject
fails here too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import re
import sys
import time
import unicodedata
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

DEFAULT_TOKEN = "123456:TEST-token-loopback_aaaaaaaaaaaaaaaaaaaaa"

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS_PER_ROW = 8
MAX_BUTTONS = 100
MAX_COMMANDS = 100
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
TEXT_BUTTONS = (
    "Bad Request: can't parse inline keyboard button: "
    "Text buttons are unallowed in the inline keyboard"
)
BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

# Methods that put a message in a chat; flood limits apply to these.
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendSticker",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Update types Telegram leaves out unless a bot asks for them in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "web_app",
    "login_url",
    "callback_game",
    "pay",
    "copy_text",
)
HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "blockquote",
    }
)
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "allowed_updates",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "media",
    }
)

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LANG_RE = re.compile(r"[a-z]{2}")
_URL_RE = re.compile(r"(?:https?|tg)://\S+")
_HTML_SPECIAL = re.compile(r"[<&]")
_HTML_TAG_REST = re.compile(r"""(?:[^>"']|"[^"]*"|'[^']*')*>""")
_HTML_CLASS = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_HTML_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]+);")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

FaultKind = Literal["429", "500", "502", "timeout", "network"]


def _dumps(value: Any) -> bytes:
    """Encode JSON compactly; Vietnamese stays readable in captured payloads."""
    return _ENCODER.encode(value).encode()


# --------------------------------------------------------------------------- public records


@dataclass
class SentMessage:
    """One message the bot sent or edited, as a user would see it."""

    method: str
    chat_id: int
    message_id: int
    text: str | None
    reply_markup: dict[str, Any] | None
    document: tuple[str, bytes] | None
    at: float
    parse_mode: str | None = None
    source_text: str | None = None  # text or caption exactly as sent, before entity parsing

    def buttons(self) -> list[tuple[str, str]]:
        """List the callback buttons in reading order, so tests can pick one."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            (button["text"], button["callback_data"])
            for row in rows
            for button in row
            if isinstance(button, dict) and button.get("callback_data")
        ]


@dataclass
class RateLimits:
    """Flood limits; sends past them get HTTP 429 like Telegram's (token buckets)."""

    per_second_overall: float = 30
    per_chat_per_second: float = 1
    per_group_per_minute: float = 20
    burst: int = 3  # messages one private chat may take at once before the per-second rate bites


@dataclass
class ServerStats:
    """Count what the server answered, for benchmarks and flood-control tests."""

    requests: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0  # 429s sent, injected or from RateLimits
    client_errors: int = 0  # every 4xx, 429s included
    server_errors: int = 0  # every 5xx

    @property
    def total(self) -> int:
        """Sum the requests over all methods."""
        return sum(self.requests.values())


@dataclass
class FaultPlan:
    """A fault to answer `remaining` calls of one method with, after `skip` calls pass."""

    kind: FaultKind
    remaining: int = 1
    retry_after: int = 1
    skip: int = 0


@dataclass
class RejectedCall:
    """A call the server refused, kept so a failing test can show why the bot went quiet."""

    method: str
    chat_id: int | None
    status: int
    description: str
    at: float


# --------------------------------------------------------------------------- internals


class _ClockLike(Protocol):
    def now(self) -> datetime: ...


class _ApiError(Exception):
    """Abort a method with Telegram's error answer."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _bad(description: str) -> _ApiError:
    """Make a 400 answer."""
    return _ApiError(400, f"Bad Request: {description}")


@dataclass(slots=True)
class _User:
    id: int
    first_name: str
    username: str | None
    language_code: str

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        data["language_code"] = self.language_code
        return data


@dataclass(slots=True)
class _Inbound:
    kind: str
    text: str
    update_id: int


@dataclass(slots=True, eq=False)
class _Chat:
    id: int
    json: dict[str, Any]
    user: _User | None = None
    blocked: bool = False
    next_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    sent: list[SentMessage] = field(default_factory=list)
    cursor: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    log: list[SentMessage | _Inbound | RejectedCall] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return self.id < 0


@dataclass(slots=True)
class _File:
    file_id: str
    unique_id: str
    filename: str
    mime_type: str
    content: bytes
    path: str

    def to_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.unique_id,
            "file_size": len(self.content),
        }


@dataclass(slots=True, eq=False)
class _Queued:
    update_id: int
    kind: str
    payload: bytes
    redelivery: bool = False
    delivered: bool = False


@dataclass(slots=True)
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float

    def wait(self, now: float) -> float:
        """Refill, then tell how long until one token is there (0 = now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


_Upload = tuple[str, bytes, str]  # filename, content, mime type
_Params = dict[str, Any]
_Files = dict[str, _Upload]


def _as_int(value: Any) -> int | None:
    """Read an integer the way the Bot API does: a JSON number or its decimal string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def _as_bool(value: Any) -> bool:
    """Read a boolean sent as JSON or as a form field."""
    return value is True or value in ("true", "True", "1", 1)


def _json_param(params: _Params, name: str, error: str) -> Any:
    """Decode a parameter that PTB sends JSON-encoded in form bodies."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(error) from None
    return value


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def html_to_text(source: str) -> str:
    """Parse Telegram HTML into the text users see; raise Telegram's error on bad markup."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while True:
        match = _HTML_SPECIAL.search(source, pos)
        if match is None:
            out.append(source[pos:])
            break
        at = match.start()
        out.append(source[pos:at])
        if source[at] == "&":
            entity = _HTML_ENTITY.match(source, at)
            decoded = _decode_entity(entity.group(1)) if entity else None
            if entity and decoded is not None:
                out.append(decoded)
                pos = entity.end()
            else:  # Telegram keeps an unknown "&" as plain text
                out.append("&")
                pos = at + 1
            continue
        if source.startswith("</", at):
            name, name_end = _tag_name(source, at + 2)
            close = source.find(">", name_end)
            if close < 0 or source[name_end:close].strip():
                raise _bad(
                    f"can't parse entities: Unclosed end tag at byte offset "
                    f"{_byte_offset(source, at)}"
                )
            if not stack:
                raise _bad(
                    f"can't parse entities: Unexpected end tag at byte offset "
                    f"{_byte_offset(source, at)}"
                )
            if stack[-1] != name:
                raise _bad(
                    f"can't parse entities: Unmatched end tag at byte offset "
                    f'{_byte_offset(source, at)}, expected "</{stack[-1]}>", '
                    f'found "</{name}>"'
                )
            stack.pop()
            pos = close + 1
            continue
        name, name_end = _tag_name(source, at + 1)
        if name not in HTML_TAGS:
            raise _bad(
                f'can\'t parse entities: Unsupported start tag "{name}" at byte offset '
                f"{_byte_offset(source, at)}"
            )
        rest = _HTML_TAG_REST.match(source, name_end)
        if rest is None:
            raise _bad(
                f"can't parse entities: Unclosed start tag at byte offset "
                f"{_byte_offset(source, at)}"
            )
        if name == "span":
            klass = _HTML_CLASS.search(source, name_end, rest.end())
            if klass is None or "tg-spoiler" not in [g for g in klass.groups() if g]:
                raise _bad(
                    f'can\'t parse entities: Tag "span" must have class "tg-spoiler" '
                    f"at byte offset {_byte_offset(source, at)}"
                )
        stack.append(name)
        pos = rest.end()
    if stack:
        raise _bad(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)


def _tag_name(source: str, start: int) -> tuple[str, int]:
    """Read a tag name (Telegram lowercases it) and where it ends."""
    end = start
    while end < len(source) and (
        source[end].isascii() and source[end].isalnum() or source[end] == "-"
    ):
        end += 1
    return source[start:end].lower(), end


def _decode_entity(body: str) -> str | None:
    if body[0] != "#":
        return _NAMED_ENTITIES.get(body)
    code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
    return chr(code) if 0 < code <= 0x10FFFF else None


def _visible_text(text: str, parse_mode: Any) -> str:
    """Turn text as sent into text as shown, checking the parse mode."""
    if parse_mode is None or parse_mode == "":
        return text
    if not isinstance(parse_mode, str):
        raise _bad("unsupported parse_mode")
    mode = parse_mode.lower()
    if mode == "html":
        return html_to_text(text)
    if mode in ("markdown", "markdownv2"):
        return text  # not parsed here: the project formats with HTML
    raise _bad("unsupported parse_mode")


def _message_text(params: _Params) -> tuple[str, str]:
    """Check a message text as Telegram does; return it as sent and as shown."""
    text = params.get("text")
    if text is None or text == "":
        raise _bad("message text is empty")
    text = str(text)
    visible = _visible_text(text, params.get("parse_mode"))
    if not visible.strip():
        raise _bad("message must be non-empty")
    if len(visible) > MAX_TEXT:
        raise _bad("message is too long")
    return text, visible


def _check_button(button: Any) -> None:
    """Validate one inline button as Telegram does."""
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise _bad(prefix + "InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise _bad(prefix + 'Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise _bad(prefix + 'Field "text" must be of type String')
    if not button["text"].strip():
        raise _bad("BUTTON_TEXT_INVALID")
    actions = [key for key in BUTTON_ACTIONS if button.get(key) not in (None, "")]
    if not actions:
        raise _ApiError(400, TEXT_BUTTONS)
    if len(actions) > 1:
        raise _bad(prefix + "exactly one of the optional fields must be used")
    data = button.get("callback_data")
    if data is not None and (
        not isinstance(data, str) or len(data.encode()) > MAX_CALLBACK_DATA_BYTES
    ):
        raise _bad("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and (not isinstance(url, str) or not _URL_RE.fullmatch(url)):
        raise _bad("BUTTON_URL_INVALID")


def check_reply_markup(raw: Any) -> dict[str, Any] | None:
    """Validate reply_markup (JSON string or dict); return it parsed, or None when absent."""
    if raw is None or raw == "":
        return None
    markup = raw
    if isinstance(raw, str):
        try:
            markup = json.loads(raw)
        except ValueError:
            raise _bad("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array')
        total = 0
        for row in rows:
            if not isinstance(row, list):
                raise _bad(
                    'field "inline_keyboard" of the InlineKeyboardMarkup should be an '
                    "Array of Arrays"
                )
            if not row:
                raise _bad("REPLY_MARKUP_INVALID")
            if len(row) > MAX_BUTTONS_PER_ROW:
                raise _bad("BUTTONS_TOO_MUCH")
            total += len(row)
            for button in row:
                _check_button(button)
        if total > MAX_BUTTONS:
            raise _bad("reply markup is too long")
        return markup
    if "keyboard" in markup:
        if not isinstance(markup["keyboard"], list) or not all(
            isinstance(row, list) for row in markup["keyboard"]
        ):
            raise _bad('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
        return markup
    if "remove_keyboard" in markup or "force_reply" in markup:
        return markup
    raise _bad("can't parse reply keyboard markup JSON object")


def _image_size(content: bytes) -> tuple[int, int] | None:
    """Tell an image's size (PNG) or a default (other formats); None when it is no image."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    if content.startswith((b"\xff\xd8\xff", b"GIF8", b"BM")) or (
        content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    ):
        return 1280, 960
    return None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- the server


class FakeTelegramServer:
    """A Bot API server on loopback with simulated users, recording all the bot does."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "tiendo_test_bot",
        rate_limits: RateLimits | None = None,
        clock: _ClockLike | None = None,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.rate_limits = rate_limits
        self.clock = clock
        self.base_url = ""
        self.base_file_url = ""
        self.sent: list[SentMessage] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.scoped_commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.webhook_retry_delays: tuple[float, ...] = (0.05, 0.2, 1.0)
        self.chat_actions: list[tuple[int, str]] = []
        self.deleted: list[tuple[int, int]] = []
        self.rejected: list[RejectedCall] = []
        self.stats = ServerStats()
        bot_id = _as_int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": bot_id if bot_id is not None else 1,
            "is_bot": True,
            "first_name": "Tiến độ (thử nghiệm)",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        # Messages carry the bare User; the capability flags belong to getMe only.
        self._bot_from = {
            key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")
        }
        self._users: dict[int, _User] = {}
        self._chats: dict[int, _Chat] = {}
        self._files: dict[str, _File] = {}
        self._files_by_path: dict[str, _File] = {}
        self._file_seq = itertools.count(1)
        self._query_seq = itertools.count(4_400_000_000_000_001)
        self._open_queries: dict[str, bool] = {}  # query id -> answered
        self._update_seq = itertools.count(700_000_001)
        self._queue: deque[_Queued] = deque()
        self._history: dict[int, _Queued] = {}
        self._queue_event = asyncio.Event()
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._faults: dict[str, deque[FaultPlan]] = {}
        self._buckets: dict[int, _Bucket] = {}
        self._overall: _Bucket | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        handlers: dict[str, Callable[[_Params, _Files], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getFile": self._get_file,
        }
        # Telegram matches method names case-insensitively.
        self._methods = {name.lower(): (name, fn) for name, fn in handlers.items()}

    # ----------------------------------------------------------------- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on loopback; port 0 picks a free one."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_post("/_loopback/{action}", self._handle_control)
        app.router.add_get("/_loopback/transcript/{chat_id}", self._handle_transcript)
        self._closing.clear()
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        root = f"http://{host}:{bound}"
        self.base_url = f"{root}/bot"
        self.base_file_url = f"{root}/file/bot"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        if self.webhook is not None:
            self._restart_webhook_delivery()

    async def stop(self) -> None:
        """Release long polls and hung calls, stop webhook delivery, close the port."""
        self._closing.set()
        self._wake()
        await self._stop_webhook_delivery()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- simulated people

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        language_code: str = "vi",
    ) -> None:
        """Create a Telegram user and the private chat with the bot (chat id = user id)."""
        if user_id <= 0:
            raise ValueError("user ids are positive; groups use add_group")
        user = _User(user_id, first_name, username, language_code)
        self._users[user_id] = user
        chat_json: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            chat_json["username"] = username
        chat = self._chats.get(user_id)
        if chat is None:
            self._chats[user_id] = _Chat(user_id, chat_json, user)
        else:
            chat.json, chat.user = chat_json, user

    def add_group(self, chat_id: int, title: str) -> None:
        """Create a group the bot is a member of (negative id), for per-group flood limits."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        self._chats[chat_id] = _Chat(chat_id, {"id": chat_id, "type": "group", "title": title})

    async def send_text(self, user_id: int, text: str) -> int:
        """Have a user send a text; a leading "/command" gets its bot_command entity."""
        user, chat = self._user_chat(user_id)
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            fields["entities"] = [
                {"offset": 0, "length": _utf16_len(command), "type": "bot_command"}
            ]
        message = self._user_message(user, chat, fields)
        return self._enqueue({"message": message}, chat, _Inbound("text", text, 0))

    async def send_document(
        self,
        user_id: int,
        filename: str,
        content: bytes,
        mime_type: str,
        caption: str | None = None,
    ) -> int:
        """Have a user send a file (downloadable by the bot through getFile)."""
        user, chat = self._user_chat(user_id)
        stored = self._store_file("documents", filename, content, mime_type)
        document = stored.to_json() | {"file_name": filename, "mime_type": mime_type}
        fields: dict[str, Any] = {"document": document}
        if caption:
            fields["caption"] = caption
        message = self._user_message(user, chat, fields)
        note = f"[{filename}, {len(content)} B]" + (f" {caption}" if caption else "")
        return self._enqueue({"message": message}, chat, _Inbound("document", note, 0))

    async def send_photo(self, user_id: int, content: bytes, caption: str | None = None) -> int:
        """Have a user send a photo, delivered in two sizes like Telegram does."""
        user, chat = self._user_chat(user_id)
        fields: dict[str, Any] = {"photo": self._photo_sizes(content)}
        if caption:
            fields["caption"] = caption
        message = self._user_message(user, chat, fields)
        note = f"[photo, {len(content)} B]" + (f" {caption}" if caption else "")
        return self._enqueue({"message": message}, chat, _Inbound("photo", note, 0))

    async def send_sticker(self, user_id: int) -> int:
        """Have a user send a sticker, which a bot should handle without crashing."""
        user, chat = self._user_chat(user_id)
        stored = self._store_file(
            "stickers", "sticker.webp", b"RIFF\x00\x00\x00\x00WEBP", "image/webp"
        )
        sticker = stored.to_json() | {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        message = self._user_message(user, chat, {"sticker": sticker})
        return self._enqueue({"message": message}, chat, _Inbound("sticker", "👍", 0))

    async def edit_text(self, user_id: int, message_id: int, new_text: str) -> int:
        """Have a user edit a text they sent earlier (edited_message update)."""
        user, chat = self._user_chat(user_id)
        message = chat.messages.get(message_id)
        if message is None or message["from"]["id"] != user_id:
            raise AssertionError(f"user {user_id} sent no message #{message_id}")
        message["text"] = new_text
        message["edit_date"] = self._now()
        return self._enqueue(
            {"edited_message": dict(message)},
            chat,
            _Inbound("edit", f"#{message_id} → {new_text}", 0),
        )

    async def click(self, user_id: int, message_id: int, callback_data: str) -> int:
        """Have a user press a button on a bot message (callback_query update)."""
        user, chat = self._user_chat(user_id)
        message = chat.messages.get(message_id)
        if message is None or message["from"]["id"] != self.bot_user["id"]:
            raise AssertionError(f"no bot message #{message_id} in chat {chat.id}")
        query_id = str(next(self._query_seq))
        self._open_queries[query_id] = False
        query = {
            "id": query_id,
            "from": user.to_json(),
            "message": self._public(message),
            "chat_instance": str(-abs(hash((chat.id, self.bot_user["id"])))),
            "data": callback_data,
        }
        return self._enqueue(
            {"callback_query": query},
            chat,
            _Inbound("click", f"#{message_id} [{callback_data}]", 0),
        )

    async def click_button(self, user_id: int, label_substring: str) -> int:
        """Press the newest button whose label contains the words a user would look for."""
        _, chat = self._user_chat(user_id)
        wanted = _nfc(label_substring)
        seen: list[str] = []
        for message_id in reversed(chat.messages):
            message = chat.messages[message_id]
            rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
            labels = [b for row in rows for b in row if b.get("callback_data")]
            for button in labels:
                if wanted in _nfc(button["text"]):
                    return await self.click(user_id, message_id, button["callback_data"])
            if labels:
                seen.append(f"  #{message_id}: " + " | ".join(b["text"] for b in labels))
        listing = "\n".join(seen) or "  (no message with buttons)"
        raise AssertionError(
            f"no button containing {label_substring!r} for user {user_id}; buttons:\n{listing}"
        )

    async def send_raw_update(self, update: dict[str, Any]) -> int:
        """Queue any update as is, malformed ones included; assign an update_id if missing.

        PTB parses a whole getUpdates batch at once: an update it cannot parse stops polling
        from moving past it, exactly as it would against Telegram.
        """
        update = dict(update)
        update_id = _as_int(update.get("update_id"))
        if update_id is None:
            update_id = next(self._update_seq)
            update["update_id"] = update_id
        kind = next((key for key in update if key != "update_id"), "")
        entry = _Queued(update_id, kind, _dumps(update))
        self._push(entry)
        return update_id

    async def redeliver(self, update_id: int) -> None:
        """Deliver an update again, as Telegram's at-least-once delivery sometimes does."""
        original = self._history.get(update_id)
        if original is None:
            raise AssertionError(f"no update {update_id} was ever queued")
        self._queue.appendleft(_Queued(update_id, original.kind, original.payload, True))
        self._wake()

    def block(self, user_id: int) -> None:
        """Have a user block the bot: later sends answer 403, the bot gets my_chat_member."""
        _, chat = self._user_chat(user_id, unblock=False)
        if not chat.blocked:
            chat.blocked = True
            self._member_update(chat, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        """Have a user unblock the bot (sending it anything does this implicitly)."""
        _, chat = self._user_chat(user_id, unblock=False)
        if chat.blocked:
            chat.blocked = False
            self._member_update(chat, "kicked", "member")

    # ----------------------------------------------------------------- what the bot did

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """List what the bot sent or edited in one chat, oldest first."""
        chat = self._chats.get(chat_id)
        return list(chat.sent) if chat else []

    def skip_sent(self, chat_id: int) -> None:
        """Make `wait_for` count only the bot messages sent to this chat from now on."""
        chat = self._chats[chat_id]
        chat.cursor = len(chat.sent)

    def has_user(self, user_id: int) -> bool:
        return user_id in self._users

    async def wait_for(
        self, chat_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait for `count` new bot messages in a chat; fail with the transcript if they lag."""
        chat = self._chats.get(chat_id)
        if chat is None:
            raise AssertionError(f"unknown chat {chat_id}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(chat.sent) - chat.cursor < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                got = len(chat.sent) - chat.cursor
                raise AssertionError(
                    f"chat {chat_id}: waited {timeout:g}s for {count} new bot message(s), "
                    f"got {got}\n{self.transcript(chat_id)}"
                )
            chat.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(chat.arrived.wait(), remaining)
        batch = chat.sent[chat.cursor : chat.cursor + count]
        chat.cursor += count
        return batch

    async def next_reply(self, chat_id: int, timeout: float = 5.0) -> SentMessage:
        """Wait for the next bot message in a chat."""
        return (await self.wait_for(chat_id, 1, timeout))[0]

    def transcript(self, chat_id: int) -> str:
        """Render a chat's conversation, refused calls included, for failure messages."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return f"(unknown chat {chat_id})"
        lines: list[str] = []
        for item in chat.log:
            if isinstance(item, _Inbound):
                lines.append(f"  user {item.kind} (update {item.update_id}): {item.text}")
            elif isinstance(item, RejectedCall):
                lines.append(f"  ✗ {item.method} → {item.status} {item.description}")
            else:
                buttons = "".join(f" [{label}]" for label, _ in item.buttons())
                extra = f" <{item.document[0]}>" if item.document else ""
                lines.append(
                    f"  bot  {item.method} #{item.message_id}:{extra} {item.text!r}{buttons}"
                )
        return "\n".join(lines) or "  (nothing yet)"

    def inject_fault(
        self,
        method: str,
        kind: FaultKind,
        count: int = 1,
        retry_after: int = 1,
        *,
        after: int = 0,
    ) -> None:
        """Answer `count` calls of `method` with a fault instead of doing them, once `after`
        calls have gone through (say, the second part of a long reply)."""
        if kind not in ("429", "500", "502", "timeout", "network"):
            raise ValueError(f"unknown fault kind {kind!r}")
        plans = self._faults.setdefault(method.lower(), deque())
        plans.append(FaultPlan(kind, count, retry_after, after))

    # ----------------------------------------------------------------- HTTP layer

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """Route one Bot API call: token, method, fault plan, parameters, answer."""
        if request.match_info["token"] != self.token:
            return self._error_response(401, "Unauthorized")
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return self._error_response(404, "Not Found")
        name, handler = entry
        self.stats.requests[name] += 1
        try:
            params, files = await self._read_params(request)
        except _ApiError as exc:
            return self._error_response(exc.status, exc.description)
        if self._faults:
            faulted = await self._apply_fault(name, request)
            if faulted is not None:
                return faulted
        try:
            result = handler(params, files)
            if name == "getUpdates":
                result = await result
        except _ApiError as exc:
            self._note_rejection(name, params, exc)
            return self._error_response(exc.status, exc.description, exc.retry_after)
        if isinstance(result, bytes):
            return web.Response(body=result, content_type="application/json")
        return web.Response(
            body=b'{"ok":true,"result":' + _dumps(result) + b"}", content_type="application/json"
        )

    async def _read_params(self, request: web.Request) -> tuple[_Params, _Files]:
        """Accept a query string, a JSON body, a form or a multipart upload, as Telegram does."""
        params: _Params = dict(request.query) if request.query_string else {}
        files: _Files = {}
        if not request.can_read_body:
            return params, files
        content_type = request.content_type
        if content_type == "multipart/form-data":
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = (
                        value.filename,
                        value.file.read(),
                        value.content_type or "application/octet-stream",
                    )
                else:
                    params[key] = value
            return params, files
        body = await request.read()
        if not body:
            return params, files
        if content_type == "application/json":
            try:
                data = json.loads(body)
            except ValueError:
                raise _bad("can't parse JSON encoded request") from None
            if not isinstance(data, dict):
                raise _bad("JSON object expected in request")
            params.update(data)
        else:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return params, files

    def _error_response(
        self, status: int, description: str, retry_after: int | None = None
    ) -> web.Response:
        """Answer an error in Telegram's shape and count it."""
        if status >= 500:
            self.stats.server_errors += 1
        elif status >= 400:
            self.stats.client_errors += 1
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            self.stats.rate_limited += 1
            body["parameters"] = {"retry_after": retry_after}
        return web.Response(status=status, body=_dumps(body), content_type="application/json")

    def _note_rejection(self, method: str, params: _Params, exc: _ApiError) -> None:
        """Keep refused calls so transcripts show why an expected message never came."""
        chat_id = _as_int(params.get("chat_id"))
        rejected = RejectedCall(method, chat_id, exc.status, exc.description, time.monotonic())
        self.rejected.append(rejected)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is not None:
            chat.log.append(rejected)

    async def _apply_fault(self, method: str, request: web.Request) -> web.StreamResponse | None:
        """Answer with the next planned fault for this method, if any."""
        plans = self._faults.get(method.lower())
        if not plans:
            return None
        plan = plans[0]
        if plan.skip > 0:
            plan.skip -= 1
            return None
        plan.remaining -= 1
        if plan.remaining <= 0:
            plans.popleft()
        if plan.kind == "429":
            return self._error_response(
                429, f"Too Many Requests: retry after {plan.retry_after}", plan.retry_after
            )
        if plan.kind == "500":
            return self._error_response(500, "Internal Server Error")
        if plan.kind == "502":
            self.stats.server_errors += 1
            return web.Response(status=502, body=BAD_GATEWAY_HTML, content_type="text/html")
        if plan.kind == "timeout":
            # Hold the call until the client gives up (the handler is then cancelled).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), 120)
            return self._error_response(504, "Gateway Timeout")
        # "network": drop the connection without an answer.
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """Serve a file download, as api.telegram.org/file/bot<token>/<path> does."""
        if request.match_info["token"] != self.token:
            return self._error_response(401, "Unauthorized")
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return self._error_response(404, "Not Found")
        self.stats.requests["file"] += 1
        return web.Response(body=stored.content, content_type="application/octet-stream")

    # ----------------------------------------------------------------- bot API methods

    def _get_me(self, params: _Params, files: _Files) -> dict[str, Any]:
        return self.bot_user

    async def _get_updates(self, params: _Params, files: _Files) -> bytes:
        """Long-poll: answer at once when updates wait, else hold up to `timeout` seconds."""
        if self.webhook is not None:
            raise _ApiError(409, CONFLICT_WEBHOOK)
        offset = _as_int(params.get("offset"))
        limit = _as_int(params.get("limit")) or 100
        limit = min(max(limit, 1), 100)
        timeout = max(_as_int(params.get("timeout")) or 0, 0)
        self._set_allowed(
            _json_param(params, "allowed_updates", "can't parse allowed updates JSON object")
        )
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older long poll is now terminated
        self._confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._queue_event
            batch = self._take(limit)
            if batch or self._closing.is_set():
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
            if generation != self._poll_generation:
                raise _ApiError(409, CONFLICT_POLLING)
            if self.webhook is not None:
                raise _ApiError(409, CONFLICT_WEBHOOK)
        return b'{"ok":true,"result":[' + b",".join(e.payload for e in batch) + b"]}"

    def _set_webhook(self, params: _Params, files: _Files) -> bool:
        url = params.get("url") or ""
        if not url:
            return self._delete_webhook(params, files)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token") or None
        if secret is not None:
            if not isinstance(secret, str):
                raise _bad("secret token contains unallowed characters")
            if len(secret) > 256:
                raise _bad("secret token is too long")
            if not _SECRET_RE.fullmatch(secret):
                raise _bad("secret token contains unallowed characters")
        max_connections = _as_int(params.get("max_connections")) or 40
        if not 1 <= max_connections <= 100:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        self._set_allowed(
            _json_param(params, "allowed_updates", "can't parse allowed updates JSON object")
        )
        if _as_bool(params.get("drop_pending_updates")):
            self._queue.clear()
        self.webhook = {"url": url, "secret_token": secret, "max_connections": max_connections}
        self._webhook_error = None
        self._restart_webhook_delivery()
        self._wake()  # pollers must now see the conflict
        return True

    def _delete_webhook(self, params: _Params, files: _Files) -> bool:
        if _as_bool(params.get("drop_pending_updates")):
            self._queue.clear()
        self.webhook = None
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None
        return True

    def _get_webhook_info(self, params: _Params, files: _Files) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook is not None:
            info |= {
                "url": self.webhook["url"],
                "max_connections": self.webhook["max_connections"],
                "ip_address": "127.0.0.1",
            }
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
            if self._webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    def _send_message(self, params: _Params, files: _Files) -> dict[str, Any]:
        text, visible = _message_text(params)
        markup = check_reply_markup(params.get("reply_markup"))
        chat = self._target_chat(params)
        self._check_reply_to(chat, params)
        self._deliverable(chat, "sendMessage")
        fields: dict[str, Any] = {"text": visible}
        return self._bot_message(chat, "sendMessage", fields, markup, params, text, None)

    def _send_document(self, params: _Params, files: _Files) -> dict[str, Any]:
        caption, source = self._caption(params)
        markup = check_reply_markup(params.get("reply_markup"))
        chat = self._target_chat(params)
        stored = self._input_file(params, files, "document", "documents")
        self._deliverable(chat, "sendDocument")
        fields: dict[str, Any] = {
            "document": stored.to_json()
            | {"file_name": stored.filename, "mime_type": stored.mime_type}
        }
        if caption is not None:
            fields["caption"] = caption
        return self._bot_message(
            chat, "sendDocument", fields, markup, params, source, (stored.filename, stored.content)
        )

    def _send_photo(self, params: _Params, files: _Files) -> dict[str, Any]:
        caption, source = self._caption(params)
        markup = check_reply_markup(params.get("reply_markup"))
        chat = self._target_chat(params)
        stored = self._input_file(params, files, "photo", "photos")
        if _image_size(stored.content) is None:
            raise _bad("IMAGE_PROCESS_FAILED")
        self._deliverable(chat, "sendPhoto")
        fields: dict[str, Any] = {"photo": self._photo_sizes(stored.content, stored)}
        if caption is not None:
            fields["caption"] = caption
        return self._bot_message(
            chat, "sendPhoto", fields, markup, params, source, (stored.filename, stored.content)
        )

    def _send_sticker(self, params: _Params, files: _Files) -> dict[str, Any]:
        markup = check_reply_markup(params.get("reply_markup"))
        chat = self._target_chat(params)
        stored = self._input_file(params, files, "sticker", "stickers")
        self._deliverable(chat, "sendSticker")
        fields = {
            "sticker": stored.to_json()
            | {
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        }
        return self._bot_message(chat, "sendSticker", fields, markup, params, None, None)

    def _edit_message_text(self, params: _Params, files: _Files) -> dict[str, Any]:
        text, visible = _message_text(params)
        markup = check_reply_markup(params.get("reply_markup"))
        chat, message = self._message_to_edit(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        # Like Telegram, an edit without reply_markup drops the inline keyboard.
        return self._edit(chat, message, "editMessageText", "text", visible, text, params, markup)

    def _edit_message_caption(self, params: _Params, files: _Files) -> dict[str, Any]:
        caption, source = self._caption(params)
        markup = check_reply_markup(params.get("reply_markup"))
        chat, message = self._message_to_edit(params)
        if "text" in message:
            raise _bad("there is no caption in the message to edit")
        return self._edit(
            chat, message, "editMessageCaption", "caption", caption, source, params, markup
        )

    def _edit_message_reply_markup(self, params: _Params, files: _Files) -> dict[str, Any]:
        markup = check_reply_markup(params.get("reply_markup"))
        chat, message = self._message_to_edit(params)
        if markup == message.get("reply_markup"):
            raise _ApiError(400, NOT_MODIFIED)
        self._deliverable(chat, "editMessageReplyMarkup")
        self._set_markup(message, markup)
        message["edit_date"] = self._now()
        self._record(
            chat,
            "editMessageReplyMarkup",
            message,
            markup,
            message.get("text", message.get("caption")),
            None,
            None,
        )
        return self._public(message)

    def _delete_message(self, params: _Params, files: _Files) -> bool:
        chat = self._target_chat(params)
        message_id = _as_int(params.get("message_id"))
        if message_id is None or chat.messages.pop(message_id, None) is None:
            raise _bad("message to delete not found")
        self.deleted.append((chat.id, message_id))
        return True

    def _answer_callback_query(self, params: _Params, files: _Files) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if self._open_queries.get(query_id, True):  # unknown or already answered
            raise _ApiError(400, QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._open_queries[query_id] = True
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": text,
                "show_alert": _as_bool(params.get("show_alert")),
                "url": params.get("url"),
            }
        )
        return True

    def _send_chat_action(self, params: _Params, files: _Files) -> bool:
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        chat = self._target_chat(params)
        if chat.blocked:
            raise _ApiError(403, BLOCKED)
        self.chat_actions.append((chat.id, str(action)))
        return True

    def _set_my_commands(self, params: _Params, files: _Files) -> bool:
        commands = _json_param(params, "commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[dict[str, Any]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand: Object expected")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not description.strip():
                raise _bad("command description must be non-empty")
            if len(description) > 256:
                raise _bad("command description is too long")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(params)
        if key[0]:
            self.scoped_commands[key] = cleaned
        else:
            self.commands[key[1]] = cleaned
        return True

    def _get_my_commands(self, params: _Params, files: _Files) -> list[dict[str, Any]]:
        scope, language = self._commands_key(params)
        if scope:
            return self.scoped_commands.get((scope, language), [])
        return self.commands.get(language, [])

    def _delete_my_commands(self, params: _Params, files: _Files) -> bool:
        scope, language = self._commands_key(params)
        if scope:
            self.scoped_commands.pop((scope, language), None)
        else:
            self.commands.pop(language, None)
        return True

    def _get_file(self, params: _Params, files: _Files) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        return stored.to_json() | {"file_path": stored.path}

    # ----------------------------------------------------------------- method helpers

    def _target_chat(self, params: _Params) -> _Chat:
        """Resolve chat_id; unknown chats answer like Telegram's."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        chat_id = _as_int(raw)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise _bad("chat not found")
        return chat

    def _check_reply_to(self, chat: _Chat, params: _Params) -> None:
        reply = _json_param(params, "reply_parameters", "can't parse reply parameters JSON")
        target = _as_int(params.get("reply_to_message_id"))
        if isinstance(reply, dict):
            target = _as_int(reply.get("message_id"))
            if reply.get("allow_sending_without_reply"):
                return
        if target is not None and target not in chat.messages:
            raise _bad("message to be replied not found")

    def _deliverable(self, chat: _Chat, method: str) -> None:
        """Refuse sends to a blocked chat or past the flood limits."""
        if chat.blocked:
            raise _ApiError(403, BLOCKED)
        if self.rate_limits is not None and method in SEND_METHODS:
            self._throttle(chat)

    def _throttle(self, chat: _Chat) -> None:
        """Take one token overall and one for the chat, or answer 429 with retry_after."""
        limits = self.rate_limits
        assert limits is not None
        now = time.monotonic()
        if self._overall is None:
            self._overall = _Bucket(
                limits.per_second_overall, limits.per_second_overall, limits.per_second_overall, now
            )
        bucket = self._buckets.get(chat.id)
        if bucket is None:
            if chat.is_group:
                rate, capacity = limits.per_group_per_minute / 60, limits.per_group_per_minute
            else:
                rate, capacity = limits.per_chat_per_second, max(limits.burst, 1)
            bucket = self._buckets[chat.id] = _Bucket(rate, capacity, capacity, now)
        wait = max(self._overall.wait(now), bucket.wait(now))
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise _ApiError(429, f"Too Many Requests: retry after {retry}", retry)
        self._overall.tokens -= 1
        bucket.tokens -= 1

    def _caption(self, params: _Params) -> tuple[str | None, str | None]:
        """Check a caption; return it as shown and as sent."""
        caption = params.get("caption")
        if caption is None or caption == "":
            return None, None
        source = str(caption)
        visible = _visible_text(source, params.get("parse_mode"))
        if len(visible) > MAX_CAPTION:
            raise _bad("message caption is too long")
        return visible, source

    def _input_file(self, params: _Params, files: _Files, name: str, folder: str) -> _File:
        """Resolve an uploaded file, an attach:// reference or a known file_id."""
        upload = files.get(name)
        if upload is None:
            ref = params.get(name)
            if isinstance(ref, str) and ref.startswith("attach://"):
                upload = files.get(ref[len("attach://") :])
                if upload is None:
                    raise _bad(f"there is no {name} in the request")
            elif ref is None or ref == "":
                raise _bad(f"there is no {name} in the request")
            elif isinstance(ref, str) and ref.startswith(("http://", "https://")):
                raise _bad("failed to get HTTP URL content")
            else:
                known = self._files.get(str(ref))
                if known is None:
                    raise _bad("wrong file identifier/HTTP URL specified")
                return known
        filename, content, mime_type = upload
        if not content:
            raise _bad("file must be non-empty")
        return self._store_file(folder, filename or name, content, mime_type)

    def _message_to_edit(self, params: _Params) -> tuple[_Chat, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._target_chat(params)
        message_id = _as_int(params.get("message_id"))
        message = chat.messages.get(message_id) if message_id is not None else None
        if message is None:
            raise _bad("message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise _bad("message can't be edited")
        return chat, message

    def _edit(
        self,
        chat: _Chat,
        message: dict[str, Any],
        method: str,
        key: str,
        visible: str | None,
        source: str | None,
        params: _Params,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Apply a text or caption edit unless it changes nothing, as Telegram refuses."""
        mode = params.get("parse_mode") or None
        same_text = message.get(key) == visible and message.get("_source") == (source, mode)
        if same_text and markup == message.get("reply_markup"):
            raise _ApiError(400, NOT_MODIFIED)
        self._deliverable(chat, method)
        if visible is None:
            message.pop(key, None)
        else:
            message[key] = visible
        message["_source"] = (source, mode)
        self._set_markup(message, markup)
        message["edit_date"] = self._now()
        self._record(chat, method, message, markup, visible, source, mode)
        return self._public(message)

    @staticmethod
    def _set_markup(message: dict[str, Any], markup: dict[str, Any] | None) -> None:
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)

    def _bot_message(
        self,
        chat: _Chat,
        method: str,
        fields: dict[str, Any],
        markup: dict[str, Any] | None,
        params: _Params,
        source: str | None,
        document: tuple[str, bytes] | None,
    ) -> dict[str, Any]:
        """Create the bot's message, store it, record it for tests and answer it."""
        message_id = chat.next_id
        chat.next_id += 1
        mode = params.get("parse_mode") or None
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self._bot_from,
            "chat": chat.json,
            "date": self._now(),
            **fields,
        }
        message["_source"] = (source, mode)
        self._set_markup(message, markup)
        chat.messages[message_id] = message
        text = fields.get("text", fields.get("caption"))
        self._record(chat, method, message, markup, text, source, mode, document)
        return self._public(message)

    @staticmethod
    def _public(message: dict[str, Any]) -> dict[str, Any]:
        """Drop the bookkeeping keys before a message leaves the server."""
        return {k: v for k, v in message.items() if k != "_source"}

    def _record(
        self,
        chat: _Chat,
        method: str,
        message: dict[str, Any],
        markup: dict[str, Any] | None,
        text: str | None,
        source: str | None,
        mode: str | None,
        document: tuple[str, bytes] | None = None,
    ) -> None:
        sent = SentMessage(
            method,
            chat.id,
            message["message_id"],
            text,
            markup,
            document,
            time.monotonic(),
            mode,
            source,
        )
        self.sent.append(sent)
        chat.sent.append(sent)
        chat.log.append(sent)
        chat.arrived.set()

    def _commands_key(self, params: _Params) -> tuple[str, str]:
        scope = _json_param(params, "scope", "can't parse BotCommandScope JSON object")
        if scope is not None and not isinstance(scope, dict):
            raise _bad("can't parse BotCommandScope JSON object")
        language = params.get("language_code") or ""
        if language and (not isinstance(language, str) or not _LANG_RE.fullmatch(language)):
            raise _bad("invalid language code specified")
        if not scope or scope.get("type") == "default":
            return "", language
        return json.dumps(scope, sort_keys=True), language

    def _store_file(self, folder: str, filename: str, content: bytes, mime_type: str) -> _File:
        number = next(self._file_seq)
        suffix = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        stored = _File(
            f"BQACAgUAAxkBAAI{number:08d}",
            f"AgAD{number:06d}",
            filename,
            mime_type,
            content,
            f"{folder}/file_{number}.{suffix}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.path] = stored
        return stored

    def _photo_sizes(self, content: bytes, stored: _File | None = None) -> list[dict[str, Any]]:
        width, height = _image_size(content) or (1280, 960)
        big = stored or self._store_file("photos", "photo.jpg", content, "image/jpeg")
        small = self._store_file("photos", "thumb.jpg", content, "image/jpeg")
        scale = 90 / max(width, height, 1)
        return [
            small.to_json()
            | {"width": max(1, round(width * scale)), "height": max(1, round(height * scale))},
            big.to_json() | {"width": width, "height": height},
        ]

    # ----------------------------------------------------------------- updates

    def _now(self) -> int:
        return int(self.clock.now().timestamp() if self.clock else time.time())

    def _user_chat(self, user_id: int, *, unblock: bool = True) -> tuple[_User, _Chat]:
        user = self._users.get(user_id)
        if user is None:
            raise AssertionError(f"unknown user {user_id}: call add_user first")
        chat = self._chats[user_id]
        if unblock and chat.blocked:
            self.unblock(user_id)  # a user who writes to the bot has unblocked it
        return user, chat

    def _user_message(self, user: _User, chat: _Chat, fields: dict[str, Any]) -> dict[str, Any]:
        message_id = chat.next_id
        chat.next_id += 1
        message = {
            "message_id": message_id,
            "from": user.to_json(),
            "chat": chat.json,
            "date": self._now(),
            **fields,
        }
        chat.messages[message_id] = message
        return message

    def _member_update(self, chat: _Chat, old: str, new: str) -> None:
        assert chat.user is not None
        member = {
            "chat": chat.json,
            "from": chat.user.to_json(),
            "date": self._now(),
            "old_chat_member": {"status": old, "user": self._bot_from},
            "new_chat_member": {"status": new, "user": self._bot_from}
            | ({"until_date": 0} if new == "kicked" else {}),
        }
        self._enqueue({"my_chat_member": member}, chat, _Inbound(new, "my_chat_member", 0))

    def _enqueue(self, body: dict[str, Any], chat: _Chat, note: _Inbound) -> int:
        update_id = next(self._update_seq)
        kind = next(iter(body))
        note.update_id = update_id
        chat.log.append(note)
        self._push(_Queued(update_id, kind, _dumps({"update_id": update_id, **body})))
        return update_id

    def _push(self, entry: _Queued) -> None:
        self._history[entry.update_id] = entry
        if self._allows(entry.kind):
            self._queue.append(entry)
            self._wake()

    def _allows(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _set_allowed(self, allowed: Any) -> None:
        """Remember allowed_updates (an empty list means the default set) and apply it."""
        if allowed is None:
            return
        if not isinstance(allowed, list):
            raise _bad("can't parse allowed updates JSON object")
        self._allowed_updates = frozenset(str(a) for a in allowed) or None
        if any(not self._allows(e.kind) for e in self._queue):
            self._queue = deque(e for e in self._queue if self._allows(e.kind))

    def _wake(self) -> None:
        """Wake whoever waits for updates (long polls, webhook delivery)."""
        self._queue_event.set()
        self._queue_event = asyncio.Event()

    def _confirm(self, offset: int | None) -> None:
        """Forget updates below `offset`; a redelivered one only after it went out."""
        if offset is None:
            return
        queue = self._queue
        if offset < 0:
            while len(queue) > -offset:
                queue.popleft()
            return

        def done(e: _Queued) -> bool:
            return e.update_id < offset and (e.delivered or not e.redelivery)

        while queue and done(queue[0]):
            queue.popleft()
        if queue and queue[0].redelivery and any(done(e) for e in queue):
            self._queue = deque(e for e in queue if not done(e))

    def _take(self, limit: int) -> list[_Queued]:
        batch = list(itertools.islice(self._queue, limit))
        for entry in batch:
            entry.delivered = True
        return batch

    # ----------------------------------------------------------------- webhook delivery

    def _restart_webhook_delivery(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None
        if self._session is not None:
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_updates())

    async def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_updates(self) -> None:
        """POST queued updates to the webhook one by one, in order, like Telegram."""
        while self.webhook is not None and not self._closing.is_set():
            event = self._queue_event
            if not self._queue:
                await event.wait()
                continue
            entry = self._queue[0]
            await self._post_update(entry)
            if self._queue and self._queue[0] is entry:
                self._queue.popleft()

    async def _post_update(self, entry: _Queued) -> None:
        """Try an update a few times; on the last failure drop it and note the error."""
        webhook = self.webhook
        assert webhook is not None and self._session is not None
        headers = {"Content-Type": "application/json"}
        if webhook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
        for delay in (0.0, *self.webhook_retry_delays):
            if delay:
                await asyncio.sleep(delay)
            try:
                async with self._session.post(
                    webhook["url"], data=entry.payload, headers=headers
                ) as response:
                    body = await response.read()
                    if 200 <= response.status < 300:
                        self._run_webhook_reply(body)
                        return
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"Connection failed: {type(exc).__name__}"
            self._webhook_error = (self._now(), error)

    def _run_webhook_reply(self, body: bytes) -> None:
        """Execute a method given in the webhook's answer, as Telegram allows."""
        if not body:
            return
        try:
            data = json.loads(body)
        except ValueError:
            return
        if not isinstance(data, dict) or not isinstance(data.get("method"), str):
            return
        entry = self._methods.get(data["method"].lower())
        if entry is None or entry[0] == "getUpdates":
            return
        self.stats.requests[entry[0]] += 1
        with contextlib.suppress(_ApiError):
            entry[1](data, {})

    # ----------------------------------------------------------------- manual trials

    async def _handle_control(self, request: web.Request) -> web.Response:
        """Let a person play a user over HTTP: add_user, send_text, click_button."""
        action = request.match_info["action"]
        try:
            data = await request.json()
            if action == "add_user":
                self.add_user(
                    int(data["user_id"]), str(data["first_name"]), username=data.get("username")
                )
                return web.json_response({"ok": True})
            if action == "send_text":
                update_id = await self.send_text(int(data["user_id"]), str(data["text"]))
            elif action == "click_button":
                update_id = await self.click_button(int(data["user_id"]), str(data["label"]))
            else:
                return web.json_response({"ok": False, "error": "unknown action"}, status=404)
        except (AssertionError, KeyError, ValueError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True, "update_id": update_id})

    async def _handle_transcript(self, request: web.Request) -> web.Response:
        """Show a chat's transcript as plain text."""
        chat_id = _as_int(request.match_info["chat_id"])
        return web.Response(text=self.transcript(chat_id or 0) + "\n")


# --------------------------------------------------------------------------- standalone


async def _serve(port: int, users: list[tuple[int, str]]) -> None:
    server = FakeTelegramServer()
    await server.start(port=port)
    for user_id, name in users:
        server.add_user(user_id, name)
    root = server.base_url.removesuffix("/bot")
    print(server.base_url, flush=True)
    print(
        f"base_file_url: {server.base_file_url}\ntoken: {server.token}\n"
        f"users: {', '.join(f'{uid} ({name})' for uid, name in users)}\n"
        f'play a user:  curl -d \'{{"user_id": {users[0][0]}, "text": "/start"}}\' '
        f"{root}/_loopback/send_text\n"
        f"transcript:   curl {root}/_loopback/transcript/{users[0][0]}",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    """Run the server standalone for manual trials and print its base_url."""
    parser = argparse.ArgumentParser(description="Loopback Telegram Bot API server")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="ID:NAME",
        help="simulated user, e.g. 1001:Lan (repeatable)",
    )
    args = parser.parse_args(argv)
    users = [(int(spec.split(":", 1)[0]), spec.split(":", 1)[1]) for spec in args.user]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, users or [(1001, "Nguyễn Thị Lan")]))


if __name__ == "__main__":
    main(sys.argv[1:])
