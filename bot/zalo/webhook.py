"""The aiohttp endpoint that receives Zalo webhook deliveries.

Checks run cheapest and safest first: the secret header (constant-time, before the body
is touched), the size, the JSON, the event shape. Every well-formed event, known or not,
goes to ``on_event``, which decides what to ignore. Neither the secret nor the body is
ever logged.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web

from bot.zalo.api import MAX_SECRET, MIN_SECRET, SECRET_HEADER
from bot.zalo.events import MalformedEvent, ZaloEvent, parse_event

DEFAULT_PATH: Final = "/zalo/webhook"
DEFAULT_MAX_BODY: Final = 65536
_CHUNK: Final = 8192

logger = logging.getLogger(__name__)


def make_webhook_app(
    secret_token: str,
    on_event: Callable[[ZaloEvent], Awaitable[None]],
    *,
    path: str = DEFAULT_PATH,
    max_body_bytes: int = DEFAULT_MAX_BODY,
) -> web.Application:
    """Build an app that verifies, parses and hands Zalo events to on_event."""
    if not MIN_SECRET <= len(secret_token) <= MAX_SECRET:
        raise ValueError(f"secret_token must be {MIN_SECRET}..{MAX_SECRET} characters long")
    if max_body_bytes <= 0:
        raise ValueError("max_body_bytes must be positive")
    expected = secret_token.encode("utf-8")

    async def handle(request: web.Request) -> web.Response:
        if not _secret_matches(request.headers.get(SECRET_HEADER), expected):
            logger.warning("Zalo webhook: wrong or missing secret from %s", request.remote)
            return _answer(403, "forbidden")
        declared = request.content_length
        if declared is not None and declared > max_body_bytes:
            return _answer(413, "body too large")
        body = await _read_at_most(request, max_body_bytes)
        if body is None:
            return _answer(413, "body too large")
        try:
            obj = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _answer(400, "body is not JSON")
        if not isinstance(obj, dict):
            return _answer(400, "body must be a JSON object")
        try:
            event = parse_event(obj)
        except MalformedEvent as exc:
            logger.warning("Zalo webhook: malformed event: %s", exc)
            return _answer(400, "malformed event")
        if event is None:
            return _answer(200)
        try:
            await on_event(event)
        except Exception:
            logger.exception(
                "Zalo webhook: handler failed for %s message_id=%s",
                event.event_name,
                event.message_id,
            )
            return _answer(500, "handler failed")
        return _answer(200)

    app = web.Application(client_max_size=max_body_bytes)
    app.router.add_post(path, handle)
    return app


def _secret_matches(given: str | None, expected: bytes) -> bool:
    """Compare the header with the secret in constant time."""
    if given is None:
        return False
    try:
        candidate = given.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(candidate, expected)


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """Read the body, or return None as soon as it exceeds limit bytes."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await request.content.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)


def _answer(status: int, description: str | None = None) -> web.Response:
    """Reply with the same ok envelope the Bot API uses."""
    body: dict[str, Any] = {"ok": status == 200}
    if description is not None:
        body["description"] = description
    return web.json_response(body, status=status)
