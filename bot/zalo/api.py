"""A small async client for the Zalo Bot Platform API (bot-api.zaloplatforms.com).

The token sits in the URL path, so it must never reach a log line or an exception text.
Two layers keep it out:

* When this module builds the ``httpx.AsyncClient`` itself, httpx only ever sees
  ``/bot***/<method>`` URLs; a transport wrapper swaps the real token in on the wire, for
  the configured API origin only. httpx's "HTTP Request: POST ..." line, its event hooks
  and its exceptions therefore carry no token.
* The token is registered with :func:`bot.logs.protect`, the one redaction every log record
  goes through, which also covers a caller-supplied client's URLs.

Every error is raised as :class:`ZaloApiError` with a redacted description and without the
httpx exception chained, so a logged traceback cannot leak the URL either.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Final, Self, TypeVar
from urllib.parse import quote

import httpx

from bot.logs import protect, redact
from bot.proxies import LOOPBACK_HOSTS, env_proxy
from bot.zalo.events import ZaloEvent, is_empty, json_kind, parse_event
from storage.textfit import TEXT_LIMITS, utf16_len

DEFAULT_BASE_URL: Final = "https://bot-api.zaloplatforms.com"
MAX_TEXT: Final = TEXT_LIMITS["zalo"]
MIN_SECRET: Final = 8
MAX_SECRET: Final = 256
SECRET_HEADER: Final = "X-Bot-Api-Secret-Token"


_PLACEHOLDER: Final = "***"  # what httpx sees where the token goes
_POLL_GRACE: Final = 5.0
_MAX_DESCRIPTION: Final = 300

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

# Indirection so tests can observe backoff delays without sleeping.
_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


# --------------------------------------------------------------------------- errors


class ZaloApiError(Exception):
    """A failed Zalo call; the text never contains the token.

    ``transient`` says a later attempt may succeed. ``delivery_unknown`` says the request
    may have been carried out although no answer came (a read timeout after sending): a
    retry of a send may then deliver the message twice. ``retry_after`` is the server's
    requested pause in seconds, when it gave one.
    """

    def __init__(
        self,
        method: str,
        description: str,
        *,
        error_code: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
        delivery_unknown: bool = False,
    ) -> None:
        self.method = method
        self.description = description
        self.error_code = error_code
        self.transient = transient
        self.retry_after = retry_after
        self.delivery_unknown = delivery_unknown
        code = f" [{error_code}]" if error_code is not None else ""
        super().__init__(f"Zalo {method} failed{code}: {description}")


class _PollEnded(Exception):
    """A long poll ended without an event (timeout answer)."""


# --------------------------------------------------------------------------- transport


class _TokenTransport(httpx.AsyncBaseTransport):
    """Swap the /bot*** placeholder for the real token on the wire, for the API origin only."""

    def __init__(self, inner: httpx.AsyncBaseTransport, base_url: str, token: str) -> None:
        base = httpx.URL(base_url)
        self._inner = inner
        self._origin = (base.scheme, base.host, base.port)
        prefix = base.raw_path.split(b"?", 1)[0].rstrip(b"/")
        self._marker = prefix + b"/bot" + _PLACEHOLDER.encode() + b"/"
        self._real = prefix + b"/bot" + quote(token, safe=":").encode() + b"/"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Forward the request, with the token put into an API path."""
        url = request.url
        if (url.scheme, url.host, url.port) == self._origin and url.raw_path.startswith(
            self._marker
        ):
            raw_path = self._real + url.raw_path[len(self._marker) :]
            request = httpx.Request(
                request.method,
                url.copy_with(raw_path=raw_path),
                headers=request.headers,
                stream=request.stream,
                extensions=request.extensions,
            )
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()


# --------------------------------------------------------------------------- client


class ZaloBotApi:
    """Call the Zalo Bot API with retries for transient failures and no token leaks.

    Retries (at most ``max_retries`` after the first attempt, exponential backoff with
    jitter capped at ``backoff_max``) cover connect errors, HTTP 5xx and 429, and
    ``ok: false`` answers with error_code >= 500 or 429. A send (sendMessage, sendPhoto)
    whose outcome is unknown - a read timeout or a dropped connection after the request
    went out - is NOT retried, because Zalo has no idempotency key and a retry could
    deliver the message twice; the error says ``delivery_unknown=True`` and the caller
    decides. A 429 ``retry_after`` longer than ``max_retry_after`` is not waited out here:
    the error is raised at once with ``retry_after`` set.

    Without ``client``, the HTTP client is built here and honours ``proxy`` or the usual
    HTTPS_PROXY / ALL_PROXY / NO_PROXY variables; a caller-supplied client is used as is and
    left open by :meth:`aclose`.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        poll_timeout: float = 30.0,
        call_timeout: float = 10.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_after: float = 30.0,
        proxy: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not token or not token.strip():
            raise ValueError("Zalo bot token is empty")
        if max_retries < 0 or poll_timeout < 0 or call_timeout <= 0:
            raise ValueError("max_retries and poll_timeout must be >= 0, call_timeout > 0")
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._poll_timeout = poll_timeout
        self._call_timeout = call_timeout
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._max_retry_after = max_retry_after
        self._owns_client = client is None
        if client is None:
            inner = httpx.AsyncHTTPTransport(proxy=proxy or env_proxy(self._base_url))
            transport = _TokenTransport(inner, self._base_url, token)
            self._client = httpx.AsyncClient(transport=transport, timeout=call_timeout)
            self._url_token = _PLACEHOLDER
        else:
            self._client = client
            self._url_token = quote(token, safe=":")
        protect(token)
        self._closed = False

    def __repr__(self) -> str:
        return f"ZaloBotApi(base_url={self._base_url!r})"

    @property
    def fingerprint(self) -> str:
        """A short stable name for this bot that reveals nothing of its token."""
        return hashlib.sha256(self._token.encode()).hexdigest()[:12]

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ----------------------------------------------------------------- methods

    async def get_me(self) -> dict[str, Any]:
        """Return the bot's own account (id, account_name, ...); checks the token."""
        result = await self._call("getMe", {})
        if not isinstance(result, dict):
            raise ZaloApiError("getMe", f"unexpected result: {json_kind(result)}")
        return result

    async def get_updates(self, timeout: float | None = None) -> ZaloEvent | None:
        """Long-poll for the next event; None when the poll ends with nothing new."""
        wait = self._poll_timeout if timeout is None else timeout
        if wait < 0:
            raise ValueError("timeout must be >= 0")
        payload = {"timeout": int(wait) if float(wait).is_integer() else wait}
        limits = httpx.Timeout(self._call_timeout, read=wait + _POLL_GRACE)
        try:
            result = await self._call("getUpdates", payload, timeout=limits, long_poll=True)
        except _PollEnded:
            return None
        if is_empty(result):
            return None
        return parse_event({"ok": True, "result": result})

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        """Point Zalo at our webhook; https only (plain http is allowed for loopback)."""
        _check_webhook_url(url)
        _check_secret(secret_token)
        result = await self._call("setWebhook", {"url": url, "secret_token": secret_token})
        return _as_dict(result)

    async def delete_webhook(self) -> dict[str, Any]:
        """Remove the webhook so that getUpdates works again."""
        return _as_dict(await self._call("deleteWebhook", {}))

    async def get_webhook_info(self) -> dict[str, Any]:
        """Return {url, updated_at}; url is empty when no webhook is set."""
        return _as_dict(await self._call("getWebhookInfo", {}))

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        """Send one message of 1..MAX_TEXT characters; return its result.

        A longer text is refused, not split: a message sent in parts by one call could not
        be retried without repeating the parts already delivered, so whoever has a long text
        cuts it (the outbox when it enqueues, the adapter for a direct reply).
        """
        chat = _check_chat(chat_id)
        if not text.strip():
            raise ValueError("Zalo rejects empty text: nothing to send")
        if utf16_len(text) > MAX_TEXT:
            raise ValueError(f"text is longer than {MAX_TEXT} characters: split it first")
        payload = {"chat_id": chat, "text": text}
        return _as_dict(await self._call("sendMessage", payload, idempotent=False))

    async def send_photo(
        self, chat_id: str, photo_url: str, caption: str | None = None
    ) -> dict[str, Any]:
        """Send a photo by URL with an optional caption (1..MAX_TEXT characters)."""
        if not isinstance(photo_url, str) or not photo_url.strip():
            raise ValueError("photo_url is empty")
        payload: dict[str, Any] = {"chat_id": _check_chat(chat_id), "photo": photo_url}
        if caption is not None and caption.strip():
            if utf16_len(caption) > MAX_TEXT:
                raise ValueError(f"caption is longer than {MAX_TEXT} characters")
            payload["caption"] = caption
        return _as_dict(await self._call("sendPhoto", payload, idempotent=False))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """Show "typing…"; harmless to repeat, so it is retried like a read."""
        await self._call("sendChatAction", {"chat_id": _check_chat(chat_id), "action": action})

    async def download(self, url: str, max_bytes: int) -> bytes:
        """Fetch an inbound photo, refusing bodies larger than max_bytes."""
        target = httpx.URL(url)
        if target.scheme not in ("http", "https") or not target.host:
            raise ValueError("only http(s) URLs can be downloaded")
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")

        async def once() -> bytes:
            return await self._download_once(target, max_bytes)

        return await self._with_retries("download", once, idempotent=True)

    # ----------------------------------------------------------------- plumbing

    async def _call(
        self,
        method: str,
        payload: dict[str, Any],
        *,
        timeout: httpx.Timeout | None = None,
        idempotent: bool = True,
        long_poll: bool = False,
    ) -> Any:
        """POST one method with retries; return its result."""
        limits = timeout or httpx.Timeout(self._call_timeout)

        async def once() -> Any:
            return await self._post(method, payload, limits, long_poll)

        return await self._with_retries(method, once, idempotent=idempotent)

    async def _with_retries(
        self, method: str, attempt: Callable[[], Awaitable[_T]], *, idempotent: bool
    ) -> _T:
        """Run attempt, retrying transient failures with bounded backoff."""
        tries = 0
        while True:
            try:
                return await attempt()
            except ZaloApiError as exc:
                delay = self._retry_delay(exc, tries, idempotent)
                if delay is None:
                    raise
                tries += 1
                logger.warning(
                    "Zalo %s failed (%s); retry %d/%d in %.2f s",
                    method,
                    exc.description,
                    tries,
                    self._max_retries,
                    delay,
                )
                await _sleep(delay)

    def _retry_delay(self, exc: ZaloApiError, tries: int, idempotent: bool) -> float | None:
        """Return how long to wait before the next try, or None to give up."""
        if not exc.transient or tries >= self._max_retries:
            return None
        if exc.delivery_unknown and not idempotent:
            return None
        if exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= self._max_retry_after else None
        delay = min(self._backoff_max, self._backoff_base * (2.0**tries))
        return delay * random.uniform(0.5, 1.0)

    def _error(self, method: str, description: str, **kwargs: Any) -> ZaloApiError:
        """Build an error whose description is redacted and bounded."""
        text = redact(description)[:_MAX_DESCRIPTION]
        return ZaloApiError(method, text, **kwargs)

    async def _post(
        self, method: str, payload: dict[str, Any], timeout: httpx.Timeout, long_poll: bool
    ) -> Any:
        """POST once and unwrap the ok envelope."""
        url = f"{self._base_url}/bot{self._url_token}/{method}"
        try:
            response = await self._client.post(url, json=payload, timeout=timeout)
        except httpx.HTTPError as exc:
            if long_poll and isinstance(exc, httpx.ReadTimeout):
                raise _PollEnded from None
            raise self._transport_error(method, exc) from None
        except httpx.InvalidURL as exc:
            raise self._error(method, f"invalid URL: {exc}") from None
        return self._unwrap(method, response, long_poll)

    def _transport_error(self, method: str, exc: httpx.HTTPError) -> ZaloApiError:
        """Classify an httpx failure: was the request sent, may it be retried?"""
        name = type(exc).__name__
        detail = f"{name}: {exc}" if str(exc) else name
        not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        if not_sent:
            return self._error(method, detail, transient=True)
        transient = isinstance(
            exc,
            httpx.TimeoutException
            | httpx.NetworkError
            | httpx.RemoteProtocolError
            | httpx.ProxyError,
        )
        return self._error(method, detail, transient=transient, delivery_unknown=True)

    def _unwrap(self, method: str, response: httpx.Response, long_poll: bool) -> Any:
        """Check the ok envelope, not only the status code."""
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            data = None
        if long_poll and status in (408, 504):
            raise _PollEnded
        if not isinstance(data, dict) or "ok" not in data:
            busy = status >= 500 or status == 429
            return_kind = "non-JSON" if data is None else f"unexpected JSON ({json_kind(data)})"
            raise self._error(
                method,
                f"{return_kind} answer, HTTP {status}",
                error_code=status if status >= 400 else None,
                transient=busy,
                retry_after=_retry_after(None, response) if busy else None,
            )
        if data.get("ok") is True and status < 400:
            return data.get("result")
        code = data.get("error_code")
        if not isinstance(code, int) or isinstance(code, bool):
            code = status if status >= 400 else None
        description = str(data.get("description") or f"HTTP {status}")
        if long_poll and (code == 408 or re.search(r"time\s*-?out|timed out", description, re.I)):
            raise _PollEnded
        busy = (code is not None and (code >= 500 or code == 429)) or status >= 500 or status == 429
        raise self._error(
            method,
            description,
            error_code=code,
            transient=busy,
            retry_after=_retry_after(data, response) if busy else None,
        )

    async def _download_once(self, url: httpx.URL, max_bytes: int) -> bytes:
        """GET url once, streaming and counting bytes."""
        method = "download"
        limits = httpx.Timeout(self._call_timeout)
        try:
            async with self._client.stream(
                "GET", url, timeout=limits, follow_redirects=True
            ) as response:
                status = response.status_code
                if status >= 400:
                    busy = status >= 500 or status == 429
                    raise self._error(method, f"HTTP {status}", error_code=status, transient=busy)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise self._error(method, f"file is larger than {max_bytes} bytes")
                chunks: list[bytes] = []
                total = 0
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
                    if total > max_bytes:
                        raise self._error(method, f"file is larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            error = self._transport_error(method, exc)
            error.delivery_unknown = False  # a GET changes nothing
            raise error from None


def _retry_after(data: Mapping[str, Any] | None, response: httpx.Response) -> float | None:
    """Read retry_after from parameters, or a numeric Retry-After header."""
    params = data.get("parameters") if data else None
    if isinstance(params, Mapping):
        value = params.get("retry_after")
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
    header = response.headers.get("retry-after", "")
    try:
        seconds = float(header)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _as_dict(result: Any) -> dict[str, Any]:
    """Return a result object, or {} when an ok answer carried none."""
    return dict(result) if isinstance(result, Mapping) else {}


def _check_chat(chat_id: str) -> str:
    """Accept a chat id as str (or int) and refuse an empty one."""
    value = str(chat_id).strip() if isinstance(chat_id, str | int) else ""
    if not value:
        raise ValueError("chat_id is empty")
    return value


def _check_webhook_url(url: str) -> None:
    """Require an absolute https URL (http only for a loopback host)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"webhook url is not a valid URL: {exc}") from None
    if not parsed.host:
        raise ValueError("webhook url must be absolute, e.g. https://example.org/zalo/webhook")
    if parsed.scheme == "https":
        return
    if parsed.scheme == "http" and parsed.host in LOOPBACK_HOSTS:
        return
    raise ValueError("webhook url must use https (Zalo refuses plain http)")


def _check_secret(secret: str) -> None:
    """Require 8..256 printable ASCII characters, as a header value must be."""
    if not isinstance(secret, str) or not MIN_SECRET <= len(secret) <= MAX_SECRET:
        raise ValueError(f"secret_token must be {MIN_SECRET}..{MAX_SECRET} characters long")
    if not all("!" <= ch <= "~" for ch in secret):
        raise ValueError("secret_token must be printable ASCII without spaces")
