"""What only Telegram has: stale buttons, redelivered updates, edits, webhooks, commands."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from telegram import Update

from bot.loopback.stage import Stage, text_of
from bot.loopback.telegram_server import FakeTelegramServer
from bot.telegram.adapter import TelegramBot, to_event
from handlers.events import Inbound
from handlers.service import ConversationService
from storage.clock import FixedClock
from storage.models import Report
from tests.harness import copy_database, staged, stored_reports


@pytest.fixture
async def stage(template: Path, tmp_path: Path) -> AsyncIterator[Stage]:
    async with staged(template, tmp_path, zalo=False) as running:
        yield running


def reports(stage: Stage) -> list[Report]:
    return stored_reports(stage.db)


async def test_double_tap_on_confirm_makes_one_report(stage: Stage) -> None:
    server = stage.telegram_server
    assert server is not None
    lan = await stage.join("Lan", "HY-GTVT")
    await stage.say(lan, "2.5 60% khảo sát")
    confirm = server.messages_to(int(lan.id))[-1]
    data = next(d for label, d in confirm.buttons() if "Gửi báo cáo" in label)
    await stage._act(lan, server.click(int(lan.id), confirm.message_id, data), "tap")
    again = await stage._act(lan, server.click(int(lan.id), confirm.message_id, data), "tap")
    assert "Menu này đã hết hạn" in text_of(again)
    assert len(reports(stage)) == 1


async def test_forged_callback_data_is_refused_politely(stage: Stage) -> None:
    server = stage.telegram_server
    assert server is not None
    lan = await stage.join("Lan", "HY-GTVT")
    menu = (await stage.say(lan, "/baocao"))[-1]
    message_id = server.messages_to(int(lan.id))[-1].message_id
    for forged in ("zzzz.i:1", "r:999999", "v:abc", "c:ok", "????"):
        answer = await stage._act(lan, server.click(int(lan.id), message_id, forged), forged)
        assert answer and all("Xin lỗi" not in m.text for m in answer), forged
    assert menu.buttons and reports(stage) == []


async def test_redelivered_update_is_handled_once(stage: Stage) -> None:
    server = stage.telegram_server
    assert server is not None
    lan = await stage.join("Lan", "HY-GTVT")
    await stage.say(lan, "2.5 60% khảo sát")
    key = f"telegram:{lan.id}"
    update_id = await server.click_button(int(lan.id), "Gửi báo cáo")
    await stage.until_handled(lan, stage.handled[key] + 1)
    before = len(server.messages_to(int(lan.id)))
    await server.redeliver(update_id)
    await stage.until_handled(lan, stage.handled[key] + 1)
    assert len(reports(stage)) == 1
    assert len(server.messages_to(int(lan.id))) == before  # answered once, not twice


async def test_edited_message_and_sticker_get_polite_answers(stage: Stage) -> None:
    server = stage.telegram_server
    assert server is not None
    lan = await stage.join("Lan", "HY-GTVT")
    answer = await stage.say(lan, "xin chào")
    own_message = server.messages_to(int(lan.id))[-len(answer)].message_id - 1
    edited = await stage._act(lan, server.edit_text(int(lan.id), own_message, "2.5 xong"), "edit")
    assert "tin nhắn đã sửa" in text_of(edited)
    sticker = await stage._act(lan, server.send_sticker(int(lan.id)), "sticker")
    assert "nhãn dán" in text_of(sticker)
    assert reports(stage) == []


async def test_commands_registered_in_both_languages(stage: Stage) -> None:
    server = stage.telegram_server
    assert server is not None
    vi = {c["command"] for c in server.commands["vi"]}
    en = {c["command"] for c in server.commands["en"]}
    assert {"baocao", "tonghop", "huy"} <= vi and {"report", "summary", "cancel"} <= en


async def test_long_summary_is_split_and_a_retried_part_is_not_repeated(
    stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real programme's lists fit in 4096 characters, so a smaller limit makes them split;
    a 429 on the second part has that part alone sent again."""
    server = stage.telegram_server
    assert server is not None
    monkeypatch.setattr("bot.telegram.adapter.MAX_TEXT", 600)
    office = await stage.join("Hà", "HY-KHDT", role="coordinator")
    missing = await stage.say(office, "/chuabaocao")
    await stage.say(office, "/tonghop")
    assert len(missing) >= 3 and "HN-GTVT" in text_of(missing)
    assert all(0 < len(m.text or "") <= 600 for m in server.messages_to(int(office.id)))
    assert not server.rejected
    server.inject_fault("sendMessage", "429", retry_after=1, after=1)  # the second part, once
    again = await stage.say(office, "/chuabaocao")
    assert [m.text for m in again] == [m.text for m in missing]  # no part sent twice
    assert server.stats.rate_limited == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_checks_the_secret_header(
    stage: Stage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = stage.telegram_server
    assert server is not None
    webhook_bot = TelegramBot(
        stage.service,
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        on_handled=stage._count,
    )
    port = free_port()
    secret = "s3cret_header-value"
    assert stage.telegram is not None
    await stage.telegram.stop()
    stage.telegram = webhook_bot  # the stage stops it at the end
    await webhook_bot.start_webhook(
        "127.0.0.1", port, "/telegram", f"http://127.0.0.1:{port}/telegram", secret
    )
    update = {
        "update_id": 99,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "X"},
            "text": "/baocao",
        },
    }
    url = f"http://127.0.0.1:{port}/telegram"
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 403
    assert server.messages_to(5) == []
    lan = await stage.join("Lan", "HY-GTVT")  # real deliveries carry the secret
    assert text_of(stage.received(lan))
    assert server.webhook is not None and server.webhook["secret_token"] == secret
    assert secret not in caplog.text and server.token not in caplog.text


async def test_malformed_updates_are_skipped_and_the_bot_keeps_answering(stage: Stage) -> None:
    server = stage.telegram_server
    assert server is not None
    lan = await stage.join("Lan", "HY-GTVT")
    await server.send_raw_update({"message": "garbage"})
    await server.send_raw_update({"message": {"message_id": "x", "chat": 5}})
    await server.send_raw_update(
        {"channel_post": {"message_id": 1, "date": 0, "chat": {"id": -100, "type": "channel"}}}
    )
    answer = await stage.say(lan, "/cuatoi")
    assert "2.5" in text_of(answer)
    assert reports(stage) == []


async def test_a_restart_mid_report_loses_nothing(
    template: Path, tmp_path: Path, clock: FixedClock
) -> None:
    """Stop the bot half-way through a report and start a new one on the same database:
    the official goes on where they were (state lives in the store, not in the process)."""
    db = copy_database(template, tmp_path)
    async with Stage(db, clock, tmp_path, zalo=False) as first:
        lan = await first.join("Lan", "HY-GTVT")
        await first.say(lan, "/baocao")
        await first.tap(lan, "2.5")
        await first.tap(lan, "Đang thực hiện")
        server = first.telegram_server
        assert server is not None and first.telegram is not None
        await first.telegram.stop()  # the process dies here
        fresh = ConversationService(
            db, clock, first.settings, tz=first.service.tz, evidence_dir=tmp_path / "evidence"
        )
        second = TelegramBot(
            fresh,
            server.token,
            base_url=server.base_url,
            base_file_url=server.base_file_url,
            on_handled=first._count,
        )
        first.telegram = second
        await second.start_polling()
        note = await first.say(lan, "70")
        assert "Ghi chú" in text_of(note)
        await first.tap(lan, "Bỏ qua")
        await first.tap(lan, "Tiếp tục")
        await first.tap(lan, "Gửi báo cáo")
    with db.unit_of_work() as session:
        assert [(r.status, r.percent) for r in session.scalars(select(Report))] == [
            ("in_progress", 70)
        ]
    db.dispose()


async def test_a_new_bot_token_is_not_mistaken_for_redeliveries(
    template: Path, tmp_path: Path, clock: FixedClock
) -> None:
    """A new bot's update ids start over; its first messages must still be answered."""
    db = copy_database(template, tmp_path)
    for token in (
        "111111:old-bot-token_aaaaaaaaaaaaaaaaaaaaaaaa",
        "222222:new-bot-token_bbbbbbbbbbbbbbbbbbbbbbbb",
    ):
        stage = Stage(db, clock, tmp_path, zalo=False)
        stage.telegram_server = FakeTelegramServer(token)
        async with stage:
            person = stage.person("Lan")
            answer = await stage.say(person, "/trogiup")
            assert "chưa được liên kết" in text_of(answer)
    db.dispose()


async def test_a_tap_and_a_typed_answer_in_one_batch_keep_their_order(stage: Stage) -> None:
    """After a restart, updates wait in one batch; each official's must be read in order."""
    server = stage.telegram_server
    assert server is not None
    lan = await stage.join("Lan", "HY-GTVT")
    await stage.say(lan, "/baocao")
    await stage.tap(lan, "2.5")
    key = f"telegram:{lan.id}"
    handled = stage.handled[key]
    before = len(server.messages_to(int(lan.id)))
    await server.click_button(int(lan.id), "Đang thực hiện")  # both queued before the next poll
    await server.send_text(int(lan.id), "60")
    await stage.until_handled(lan, handled + 2)
    said = "\n".join(m.text or "" for m in server.messages_to(int(lan.id))[before:])
    assert "Ghi chú" in said, said  # "60" was read as the percent, after the tap
    assert "Không có lựa chọn" not in said, said


def test_in_a_group_only_commands_are_for_the_bot() -> None:
    def said(text: str, chat: dict[str, object]) -> Inbound:
        event = to_event(
            Update.de_json(
                {
                    "update_id": 1,
                    "message": {
                        "message_id": 1,
                        "date": 0,
                        "text": text,
                        "chat": chat,
                        "from": {"id": 7, "is_bot": False, "first_name": "Lan"},
                    },
                },
                None,
            )
        )
        assert event is not None
        return event

    group = {"id": -100, "type": "group", "title": "Tổ công tác Hà Nội – Hưng Yên"}
    assert not said("chào cả nhà", group).for_the_bot
    assert said("/tonghop", group).for_the_bot
    assert said("chào bot", {"id": 7, "type": "private"}).for_the_bot
