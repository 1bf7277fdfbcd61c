"""The aiohttp networking backend under PTB's Bot, over real HTTP to the loopback Bot API."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.loopback.telegram_server import FakeTelegramServer
from bot.telegram.request import AiohttpRequest

USER = 4242


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as running:
        running.add_user(USER, "Cán bộ")
        yield running


def bot_on(server: FakeTelegramServer, **timeouts: float) -> Bot:
    return Bot(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        request=AiohttpRequest(**timeouts),
    )


async def test_text_and_keyboard_arrive_as_sent(server: FakeTelegramServer) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Gửi báo cáo", callback_data="s:1")]])
    async with bot_on(server) as bot:
        sent = await bot.send_message(USER, "Kiểm tra lại báo cáo: 2.5 · 60%", reply_markup=markup)
    [message] = server.messages_to(USER)
    assert message.text == "Kiểm tra lại báo cáo: 2.5 · 60%"
    assert message.buttons() == [("Gửi báo cáo", "s:1")]
    assert sent.message_id == message.message_id


async def test_a_document_goes_up_as_multipart_and_a_file_comes_back(
    server: FakeTelegramServer,
) -> None:
    content = bytes(range(256)) * 40
    async with bot_on(server) as bot:
        await bot.send_document(USER, content, filename="tong-hop.xlsx", caption="Tổng hợp")
        await server.send_document(USER, "bien-ban.pdf", b"%PDF-1.4 bien ban", "application/pdf")
        update = (await bot.get_updates())[-1]
        assert update.message is not None and update.message.document is not None
        remote = await bot.get_file(update.message.document.file_id)
        downloaded = bytes(await remote.download_as_bytearray())
    [message] = server.messages_to(USER)
    assert message.document == ("tong-hop.xlsx", content)
    assert message.text == "Tổng hợp"
    assert downloaded == b"%PDF-1.4 bien ban"


async def test_errors_become_ptb_errors_the_callers_already_handle(
    server: FakeTelegramServer,
) -> None:
    server.inject_fault("sendMessage", "429", retry_after=3)
    server.inject_fault("sendMessage", "network")
    async with bot_on(server) as bot:
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(USER, "một")
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "hai")
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(USER, "x" * 5000)
        await bot.send_message(USER, "ba")
    assert limited.value.retry_after in (3, timedelta(seconds=3))
    assert [m.text for m in server.messages_to(USER)] == ["ba"]


async def test_a_server_that_never_answers_times_out(server: FakeTelegramServer) -> None:
    server.inject_fault("sendMessage", "timeout")
    async with bot_on(server, read_timeout=0.3) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "chờ mãi")
        await bot.send_message(USER, "lần sau")
    assert [m.text for m in server.messages_to(USER)] == ["lần sau"]


async def test_a_closed_port_is_a_network_error_without_the_token(
    server: FakeTelegramServer,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = server.token
    bot = Bot(token, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest())
    request = bot.request
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as failed:
            await bot.send_message(USER, "không tới")
    finally:
        await request.shutdown()
    assert token not in str(failed.value)


async def test_an_environment_proxy_carries_the_calls_except_for_no_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Offices reach the internet through a proxy: HTTP(S)_PROXY is honoured, NO_PROXY too."""
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "id": 77,
                    "is_bot": True,
                    "first_name": "Tiến độ",
                    "username": "tiendo_bot",
                },
            }
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    try:
        bot = Bot(
            "123:ABC",
            base_url="http://api.telegram.invalid/bot",
            request=AiohttpRequest(connect_timeout=2),
        )
        async with bot:
            me = await bot.get_me()
        assert me.username == "tiendo_bot"
        assert seen and all(url.startswith("http://api.telegram.invalid/bot") for url in seen)
        monkeypatch.setenv("NO_PROXY", "api.telegram.invalid")
        direct = Bot(
            "123:ABC",
            base_url="http://api.telegram.invalid/bot",
            request=AiohttpRequest(connect_timeout=2),
        )
        calls = len(seen)
        with pytest.raises(NetworkError):
            async with direct:  # initialize() calls getMe: straight to a host that is not there
                pass
        assert len(seen) == calls
    finally:
        await runner.cleanup()
