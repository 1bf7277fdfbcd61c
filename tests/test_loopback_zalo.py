"""The loopback Zalo server and the webhook receiver, end to end over real HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from bot.loopback.zalo_server import FakeZaloServer
from bot.zalo.api import SECRET_HEADER, ZaloApiError, ZaloBotApi
from bot.zalo.events import ZaloEvent
from bot.zalo.webhook import make_webhook_app

TOKEN = "zalo-loopback-token-42"
SECRET = "webhook-secret-Zx9"
USER = "7001"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Hook:
    """A running webhook receiver and what it handed to on_event."""

    url: str
    received: list[ZaloEvent] = field(default_factory=list)
    fail: bool = False


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloServer]:
    server = FakeZaloServer(TOKEN)
    await server.start()
    server.add_user(USER, "Phạm Minh Châu")
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def api(fake: FakeZaloServer) -> AsyncIterator[ZaloBotApi]:
    async with ZaloBotApi(TOKEN, base_url=fake.base_url, backoff_base=0.001) as client:
        yield client


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    state = Hook(url="")

    async def on_event(event: ZaloEvent) -> None:
        if state.fail:
            raise RuntimeError("the core is down")
        state.received.append(event)

    runner = web.AppRunner(make_webhook_app(SECRET, on_event, max_body_bytes=1024))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}/zalo/webhook"
    try:
        yield state
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def text_event(text: str = "Báo cáo") -> dict[str, object]:
    return {
        "ok": True,
        "result": {
            "event_name": "message.text.received",
            "message": {
                "message_id": "m-1",
                "date": 1749538250568,
                "from": {"id": USER, "display_name": "Châu"},
                "chat": {"id": USER, "chat_type": "PRIVATE"},
                "text": text,
            },
        },
    }


# --------------------------------------------------------------------------- fake API


async def test_method_names_are_case_sensitive(
    fake: FakeZaloServer, http: httpx.AsyncClient
) -> None:
    answer = await http.post(f"{fake.base_url}/bot{TOKEN}/getme", json={})
    assert answer.json()["ok"] is False
    assert answer.json()["error_code"] == 404


async def test_wrong_token_gets_http_401(fake: FakeZaloServer, http: httpx.AsyncClient) -> None:
    answer = await http.post(f"{fake.base_url}/botnot-the-token/getMe", json={})
    assert answer.status_code == 401
    assert answer.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


@pytest.mark.parametrize(
    ("text", "accepted"), [("", False), ("x" * 2000, True), ("x" * 2001, False)]
)
async def test_send_message_text_is_1_to_2000_characters(
    fake: FakeZaloServer, http: httpx.AsyncClient, text: str, accepted: bool
) -> None:
    answer = await http.post(
        f"{fake.base_url}/bot{TOKEN}/sendMessage", json={"chat_id": USER, "text": text}
    )
    assert answer.json()["ok"] is accepted
    if not accepted:
        assert answer.json()["error_code"] == 400
        assert "1-2000" in answer.json()["description"]
    assert len(fake.messages_to(USER)) == int(accepted)


async def test_send_photo_caption_limit(fake: FakeZaloServer, http: httpx.AsyncClient) -> None:
    url = f"{fake.base_url}/bot{TOKEN}/sendPhoto"
    long = await http.post(
        url, json={"chat_id": USER, "photo": "https://x/p.png", "caption": "x" * 2001}
    )
    assert long.json()["ok"] is False
    fine = await http.post(
        url, json={"chat_id": USER, "photo": "https://x/p.png", "caption": "Ảnh"}
    )
    assert fine.json()["ok"] is True


async def test_server_side_webhook_validation(
    fake: FakeZaloServer, http: httpx.AsyncClient
) -> None:
    url = f"{fake.base_url}/bot{TOKEN}/setWebhook"
    short = await http.post(url, json={"url": "https://a.example/h", "secret_token": "short"})
    assert short.json()["ok"] is False
    fake.allow_http_webhook = False
    plain = await http.post(url, json={"url": "http://a.example/h", "secret_token": SECRET})
    assert plain.json()["ok"] is False
    assert fake.webhook is None


async def test_a_new_poller_terminates_the_old_one(fake: FakeZaloServer, api: ZaloBotApi) -> None:
    first = asyncio.create_task(api.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert await api.get_updates(timeout=0) is None
    with pytest.raises(ZaloApiError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 2)


async def test_group_messages_are_replied_to_in_the_group(
    fake: FakeZaloServer, api: ZaloBotApi
) -> None:
    await fake.send_text(USER, "nhóm", group_id="9900")
    got = await api.get_updates(timeout=0)
    assert got is not None and (got.chat_type, got.chat_id, got.sender_id) == (
        "GROUP",
        "9900",
        USER,
    )
    await api.send_message(got.chat_id, "Đã nhận")
    assert (await fake.next_reply("9900")).text == "Đã nhận"


async def test_wait_for_returns_only_new_messages(fake: FakeZaloServer, api: ZaloBotApi) -> None:
    await api.send_message(USER, "một")
    await api.send_message(USER, "hai")
    assert [m.text for m in await fake.wait_for(USER, 1)] == ["một"]
    assert (await fake.next_reply(USER)).text == "hai"
    await fake.send_text(USER, "còn gì nữa không?")
    with pytest.raises(AssertionError) as caught:
        await fake.next_reply(USER, timeout=0.05)
    assert "bot → 7001: hai" in str(caught.value)
    assert "còn gì nữa không?" in str(caught.value)


async def test_sticker_voice_unsupported_arrive_by_polling(
    fake: FakeZaloServer, api: ZaloBotApi
) -> None:
    await fake.send_sticker(USER)
    await fake.send_voice(USER)
    await fake.send_unsupported(USER)
    names = [(await api.get_updates(timeout=0)) for _ in range(3)]
    assert [e.event_name if e else None for e in names] == [
        "message.sticker.received",
        "message.voice.received",
        "message.unsupported.received",
    ]


# --------------------------------------------------------------------------- webhook


async def test_webhook_delivery_reaches_on_event_once(
    fake: FakeZaloServer, api: ZaloBotApi, hook: Hook
) -> None:
    await api.set_webhook(hook.url, SECRET)
    message_id = await fake.send_text(USER, "Sở GTVT báo cáo: hoàn thành")
    assert [(e.message_id, e.text) for e in hook.received] == [
        (message_id, "Sở GTVT báo cáo: hoàn thành")
    ]
    assert fake.deliveries[-1].status == 200


async def test_webhook_redelivery_reaches_on_event_again(
    fake: FakeZaloServer, api: ZaloBotApi, hook: Hook
) -> None:
    await api.set_webhook(hook.url, SECRET)
    message_id = await fake.send_text(USER, "một lần")
    await fake.redeliver(message_id)
    assert [e.message_id for e in hook.received] == [message_id, message_id]


async def test_webhook_passes_unknown_events_on(
    fake: FakeZaloServer, api: ZaloBotApi, hook: Hook
) -> None:
    await api.set_webhook(hook.url, SECRET)
    await fake.send_event(USER, "message.location.received", location={"lat": 21.0})
    assert [(e.event_name, e.is_known) for e in hook.received] == [
        ("message.location.received", False)
    ]


@pytest.mark.parametrize("secret", [None, "", "webhook-secret-Zx8", SECRET + "x"])
async def test_webhook_refuses_a_wrong_or_missing_secret(
    hook: Hook, http: httpx.AsyncClient, secret: str | None
) -> None:
    headers = {} if secret is None else {SECRET_HEADER: secret}
    answer = await http.post(hook.url, json=text_event(), headers=headers)
    assert answer.status_code == 403
    assert hook.received == []


async def test_webhook_checks_the_secret_before_the_size(
    hook: Hook, http: httpx.AsyncClient
) -> None:
    answer = await http.post(hook.url, content=b"[" * 5000, headers={SECRET_HEADER: "wrong-secret"})
    assert answer.status_code == 403


async def test_webhook_refuses_oversized_bodies(hook: Hook, http: httpx.AsyncClient) -> None:
    headers = {SECRET_HEADER: SECRET}
    big = json.dumps(text_event("x" * 2000)).encode()
    declared = await http.post(hook.url, content=big, headers=headers)
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b" " * 256

    streamed = await http.post(hook.url, content=chunks(), headers=headers)  # chunked, no length
    assert streamed.status_code == 413
    assert hook.received == []


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b"not json",
        b"\xff\xfe",
        b'"just a string"',
        json.dumps({"ok": True, "result": {"event_name": "message.text.received"}}).encode(),
    ],
)
async def test_webhook_refuses_bad_bodies(hook: Hook, http: httpx.AsyncClient, body: bytes) -> None:
    answer = await http.post(hook.url, content=body, headers={SECRET_HEADER: SECRET})
    assert answer.status_code == 400
    assert hook.received == []


async def test_webhook_acknowledges_an_empty_result(hook: Hook, http: httpx.AsyncClient) -> None:
    answer = await http.post(hook.url, json={"ok": True}, headers={SECRET_HEADER: SECRET})
    assert (answer.status_code, answer.json()) == (200, {"ok": True})
    assert hook.received == []


async def test_webhook_answers_500_when_the_handler_fails_and_logs_no_body_or_secret(
    hook: Hook, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hook.fail = True
    answer = await http.post(
        hook.url, json=text_event("nội dung riêng tư"), headers={SECRET_HEADER: SECRET}
    )
    await http.post(hook.url, json=text_event(), headers={SECRET_HEADER: SECRET[:-1]})
    assert answer.status_code == 500
    assert "handler failed" in caplog.text
    assert "nội dung riêng tư" not in caplog.text
    assert SECRET not in caplog.text and SECRET[:-1] not in caplog.text


async def test_raw_garbage_through_the_webhook_is_refused(
    fake: FakeZaloServer, api: ZaloBotApi, hook: Hook
) -> None:
    await api.set_webhook(hook.url, SECRET)
    await fake.send_raw([{"event_name": "message.text.received"}])
    await fake.send_raw(b"\x00garbage")
    assert [d.status for d in fake.deliveries] == [400, 400]
    assert hook.received == []


def test_webhook_app_needs_a_valid_secret() -> None:
    async def ignore(event: ZaloEvent) -> None:
        return None

    with pytest.raises(ValueError, match="8..256"):
        make_webhook_app("short", ignore)


# --------------------------------------------------------------------------- standalone


async def test_standalone_server_serves_the_api(http: httpx.AsyncClient) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.loopback.zalo_server",
        "--port",
        "0",
        "--token",
        TOKEN,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        base_url = banner.split()[4]
        await http.post(f"{base_url}/_fake/send_text", json={"user_id": USER, "text": "xin chào"})
        async with ZaloBotApi(TOKEN, base_url=base_url) as client:
            assert (await client.get_me())["account_name"] == "bot.tiendo"
            got = await client.get_updates(timeout=0)
            assert got is not None and got.text == "xin chào"
            await client.send_message(USER, "Chào anh/chị")
        sent = (await http.get(f"{base_url}/_fake/sent", params={"chat_id": USER})).json()
        assert [s["text"] for s in sent] == ["Chào anh/chị"]
    finally:
        process.terminate()
        await process.wait()
