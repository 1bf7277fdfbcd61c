"""python-telegram-bot's networking backend on aiohttp instead of httpx.

PTB lets an application bring its own `BaseRequest`. Per Bot API call, httpx with its
httpcore/anyio/h11 stack cost this bot about as much Python time as its whole database step
(bench/updates.py); aiohttp, already a dependency, parses HTTP in C. The wire is the one PTB
writes by default: form fields, or multipart when files go up. Errors map to PTB's own
(`TimedOut`, `NetworkError`), so callers cannot tell the backends apart.
"""

from __future__ import annotations

import ssl

import aiohttp
import certifi
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.proxies import env_proxy

Timeout = ODVInput[float]  # a number, None (no limit) or PTB's "use the default" marker


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded connection pool; proxies come from the environment.

    The proxy is looked up here, once per host: aiohttp's own `trust_env` sends each request
    through a worker thread to read the environment and ~/.netrc, and that hop, contending
    for the interpreter lock with the database step, cost more than the request itself.
    """

    def __init__(
        self,
        connection_pool_size: int = 8,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._defaults = {
            "read": read_timeout,
            "write": write_timeout,
            "connect": connect_timeout,
            "pool": pool_timeout,
        }
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}  # scheme://host → proxy or None

    @property
    def read_timeout(self) -> float | None:
        return self._defaults["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            trusted = ssl.create_default_context(cafile=certifi.where())
            connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=trusted)
            self._session = aiohttp.ClientSession(
                connector=connector,
                skip_auto_headers=("User-Agent",),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(
        self, uploading: bool, read: Timeout, write: Timeout, connect: Timeout, pool: Timeout
    ) -> aiohttp.ClientTimeout:
        """aiohttp has no write timeout: writing counts towards the whole call's limit."""

        def pick(value: Timeout, name: str) -> float | None:
            return self._defaults[name] if isinstance(value, DefaultValue) else value

        read_s, connect_s, pool_s = pick(read, "read"), pick(connect, "connect"), pick(pool, "pool")
        write_s = (
            (self._media_write_timeout if uploading else self._defaults["write"])
            if isinstance(write, DefaultValue)
            else write
        )
        parts = (read_s, write_s, connect_s, pool_s)
        total = None if None in parts else sum(p for p in parts if p is not None)
        acquire = None if pool_s is None or connect_s is None else pool_s + connect_s
        return aiohttp.ClientTimeout(
            total=total, connect=acquire, sock_connect=connect_s, sock_read=read_s
        )

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else {}
        fields = request_data.json_parameters if request_data else {}
        body: aiohttp.FormData | dict[str, str] | None = fields or None
        if files:
            form = aiohttp.FormData()
            for name, value in fields.items():
                form.add_field(name, value)
            for name, (file_name, content, mime_type) in files.items():
                form.add_field(name, content, filename=file_name, content_type=mime_type)
            body = form
        timeout = self._timeout(
            bool(files), read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        origin = "/".join(url.split("/", 3)[:3])  # scheme://host[:port]
        if origin not in self._proxies:
            self._proxies[origin] = env_proxy(url)
        try:
            async with self._session.request(
                method, url, data=body, timeout=timeout, proxy=self._proxies[origin]
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
