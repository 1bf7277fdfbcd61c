"""What only Zalo has: numbered menus, withheld content, webhooks with a secret, 2000 chars."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.loopback.stage import Stage, text_of
from bot.zalo.adapter import ZaloBot
from bot.zalo.api import SECRET_HEADER, ZaloBotApi
from storage.models import Report
from tests.harness import staged, stored_reports


@pytest.fixture
async def stage(template: Path, tmp_path: Path) -> AsyncIterator[Stage]:
    async with staged(template, tmp_path, telegram=False) as running:
        yield running


def reports(stage: Stage) -> list[Report]:
    return stored_reports(stage.db)


async def test_choices_are_numbered_and_answered_by_number_or_code(stage: Stage) -> None:
    lan = await stage.join("Lan", "HY-GTVT", platform="zalo")
    menu = await stage.say(lan, "/baocao")
    assert "\n2. 2.5 · Lĩnh vực giao thông — Chưa báo cáo · hạn 30/06/2020" in text_of(menu)
    assert text_of(menu).count("Lĩnh vực giao thông") == 1  # listed once, with its number
    status = await stage.say(lan, "2")
    assert "Tình trạng thực hiện?" in text_of(status) and "\n1. Đang thực hiện" in text_of(status)
    assert "Không có lựa chọn số 9" in text_of(await stage.say(lan, "9"))
    await stage.say(lan, "/huy")
    by_code = await stage.say(lan, "/baocao")
    assert by_code
    status = await stage.say(lan, "2.5")
    assert "Tình trạng thực hiện?" in text_of(status)


async def test_withheld_and_unknown_events(stage: Stage) -> None:
    server = stage.zalo_server
    assert server is not None
    lan = await stage.join("Lan", "HY-GTVT", platform="zalo")
    withheld = await stage._act(lan, server.send_unsupported(lan.id), "unsupported")
    assert "quyền riêng tư" in text_of(withheld)
    voice = await stage._act(lan, server.send_voice(lan.id), "voice")
    assert "tin nhắn thoại" in text_of(voice)
    before = len(server.messages_to(lan.id))
    await server.send_event(lan.id, "message.reaction.received", reaction="like")
    answered = await stage.say(lan, "/cuatoi")  # the bot kept going after the unknown event
    assert "2.5" in text_of(answered)
    assert len(server.messages_to(lan.id)) == before + len(answered)


async def test_duplicate_message_id_is_handled_once(stage: Stage) -> None:
    server = stage.zalo_server
    assert server is not None
    lan = await stage.join("Lan", "HY-GTVT", platform="zalo")
    await stage.say(lan, "2.5 60% khảo sát")
    key = f"zalo:{lan.id}"
    message_id = await server.send_text(lan.id, "1")  # "1. ✅ Gửi báo cáo"
    await stage.until_handled(lan, stage.handled[key] + 1)
    await server.redeliver(message_id)
    await stage.until_handled(lan, stage.handled[key] + 1)
    assert len(reports(stage)) == 1


async def test_long_answers_are_split_at_2000(stage: Stage) -> None:
    server = stage.zalo_server
    assert server is not None
    office = await stage.join("Hà", "HY-KHDT", role="coordinator", platform="zalo")
    answer = await stage.say(office, "/chuabaocao")
    assert len(answer) >= 2
    assert all(len(m.text) <= 2000 for m in server.messages_to(office.id))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_checks_the_secret_and_keeps_the_token_out_of_logs(
    stage: Stage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = stage.zalo_server
    assert server is not None and stage.zalo is not None
    await stage.zalo.stop()
    secret = "zalo-webhook-secret-123"
    port = free_port()
    api = ZaloBotApi(server.token, base_url=server.base_url)
    stage.zalo = ZaloBot(stage.service, api, on_handled=stage._count)
    await stage.zalo.start_webhook("127.0.0.1", port, "/zalo/webhook", secret)
    await api.set_webhook(f"http://127.0.0.1:{port}/zalo/webhook", secret)
    url = f"http://127.0.0.1:{port}/zalo/webhook"
    event = {
        "ok": True,
        "result": {
            "event_name": "message.text.received",
            "message": {
                "message_id": "m-1",
                "date": 0,
                "from": {"id": "77", "display_name": "Giả"},
                "chat": {"id": "77", "chat_type": "PRIVATE"},
                "text": "/baocao",
            },
        },
    }
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "wrong-secret-value"}):
            async with http.post(url, json=event, headers=headers) as response:
                assert response.status == 403
        async with http.post(url, data=b"[1, 2]", headers={SECRET_HEADER: secret}) as response:
            assert response.status == 400
        async with http.post(url, data=b"x" * 70_000, headers={SECRET_HEADER: secret}) as response:
            assert response.status == 413
    assert server.messages_to("77") == []
    lan = await stage.join("Lan", "HY-GTVT", platform="zalo")  # pushed with the right header
    assert "2.5" in text_of(await stage.say(lan, "/cuatoi"))
    assert server.token not in caplog.text and secret not in caplog.text


async def test_ok_false_on_send_is_logged_not_fatal(stage: Stage) -> None:
    server = stage.zalo_server
    assert server is not None
    lan = await stage.join("Lan", "HY-GTVT", platform="zalo")
    server.inject_fault("sendMessage", "ok_false_400")
    key = f"zalo:{lan.id}"
    await server.send_text(lan.id, "/cuatoi")
    await stage.until_handled(lan, stage.handled[key] + 1)
    answer = await stage.say(lan, "/cuatoi")  # the bot is still there
    assert "2.5" in text_of(answer)
