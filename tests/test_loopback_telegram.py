"""The loopback Bot API server, driven by the real python-telegram-bot over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.loopback.telegram_server import FakeTelegramServer, RateLimits, html_to_text

LAN = 1001  # Nguyễn Thị Lan, an official at Sở KH&ĐT
MINH = 1002


def keyboard(*labels_and_data: tuple[str, str]) -> InlineKeyboardMarkup:
    """One row of callback buttons."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in labels_and_data]]
    )


def seconds(value: int | timedelta) -> float:
    """Read RetryAfter.retry_after whichever type PTB_TIMEDELTA makes it."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    fake = FakeTelegramServer()
    await fake.start()
    fake.add_user(LAN, "Nguyễn Thị Lan", username="lan_khdt")
    fake.add_user(MINH, "Trần Văn Minh", language_code="en")
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    async with Bot(
        server.token, base_url=server.base_url, base_file_url=server.base_file_url
    ) as client:
        yield client


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(
        f"Bạn viết: {update.message.text}",
        reply_markup=keyboard(("Đồng ý", "ok"), ("Hủy", "cancel")),
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(f"Chào mừng! Mã mời: {' '.join(context.args or [])}")


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Đã nhận")
    await query.edit_message_text(f"Đã chọn: {query.data}")


@pytest.fixture
async def app(
    server: FakeTelegramServer,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    application = (
        Application.builder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(CallbackQueryHandler(choose))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


# ----------------------------------------------------------------- through a polling Application


@pytest.mark.usefixtures("app")
async def test_echo_round_trip(server: FakeTelegramServer) -> None:
    await server.send_text(LAN, "Đã hoàn thành 80%")
    reply = await server.next_reply(LAN)
    assert reply.method == "sendMessage"
    assert reply.text == "Bạn viết: Đã hoàn thành 80%"
    assert reply.buttons() == [("Đồng ý", "ok"), ("Hủy", "cancel")]
    assert server.messages_to(MINH) == []


@pytest.mark.usefixtures("app")
async def test_command_arrives_with_its_arguments(server: FakeTelegramServer) -> None:
    await server.send_text(MINH, "/start KHDT-42")
    assert (await server.next_reply(MINH)).text == "Chào mừng! Mã mời: KHDT-42"


@pytest.mark.usefixtures("app")
async def test_button_click_arrives_as_callback_query(server: FakeTelegramServer) -> None:
    await server.send_text(LAN, "báo cáo")
    question = await server.next_reply(LAN)
    await server.click_button(LAN, "Đồng ý")
    edited = await server.next_reply(LAN)
    assert (edited.method, edited.message_id, edited.text) == (
        "editMessageText",
        question.message_id,
        "Đã chọn: ok",
    )
    assert server.callback_answers[-1]["text"] == "Đã nhận"
    # Editing the text without a keyboard removed the buttons, as on a phone.
    with pytest.raises(AssertionError, match="no button containing 'Đồng ý'"):
        await server.click_button(LAN, "Đồng ý")


async def test_wait_for_timeout_shows_the_transcript(server: FakeTelegramServer) -> None:
    await server.send_text(LAN, "có ai không?")
    with pytest.raises(AssertionError, match="có ai không") as failure:
        await server.wait_for(LAN, timeout=0.05)
    assert "got 0" in str(failure.value)


# ----------------------------------------------------------------- validation, Telegram's words


async def test_too_long_text_is_refused(server: FakeTelegramServer, bot: Bot) -> None:
    with pytest.raises(BadRequest) as refused:
        await bot.send_message(LAN, "a" * 4097)
    # PTB strips "Bad Request: " and capitalises what is left.
    assert refused.value.message == "Message is too long"
    assert server.rejected[-1].description == "Bad Request: message is too long"
    assert server.messages_to(LAN) == []
    await bot.send_message(LAN, "a" * 4096)


async def test_html_length_counts_text_without_tags(server: FakeTelegramServer, bot: Bot) -> None:
    await bot.send_message(LAN, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    assert server.messages_to(LAN)[-1].text == "x" * 4096


async def test_unbalanced_html_is_refused(server: FakeTelegramServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)can't find end tag corresponding to start tag"):
        await bot.send_message(LAN, "<b>Quá hạn: 3 nhiệm vụ", parse_mode="HTML")


async def test_callback_data_limit_counts_utf8_bytes(server: FakeTelegramServer, bot: Bot) -> None:
    data = "chỉ đạo:" + "đường vành đai bốn cầu Mễ Sở" + "x" * 10
    assert len(data) < 64 and len(data.encode()) == 65
    with pytest.raises(BadRequest) as refused:
        await bot.send_message(LAN, "Chọn", reply_markup=keyboard(("Xem", data)))
    assert server.rejected[-1].description == "Bad Request: BUTTON_DATA_INVALID"
    assert refused.value.message == "Button_data_invalid"
    await bot.send_message(LAN, "Chọn", reply_markup=keyboard(("Xem", data[:-1])))


async def test_nine_buttons_in_a_row_are_refused(server: FakeTelegramServer, bot: Bot) -> None:
    nine = keyboard(*[(str(n), f"n:{n}") for n in range(9)])
    with pytest.raises(BadRequest):
        await bot.send_message(LAN, "Chọn ngày", reply_markup=nine)
    assert server.rejected[-1].description == "Bad Request: BUTTONS_TOO_MUCH"
    await bot.send_message(
        LAN, "Chọn ngày", reply_markup=keyboard(*[(str(n), f"n:{n}") for n in range(8)])
    )


@pytest.mark.parametrize(
    ("text", "wording"),
    [("", "Message text is empty"), ("   ", "Message must be non-empty")],
)
async def test_empty_text_is_refused(bot: Bot, text: str, wording: str) -> None:
    with pytest.raises(BadRequest) as refused:
        await bot.send_message(LAN, text)
    assert refused.value.message == wording


async def test_unknown_chat_is_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest) as refused:
        await bot.send_message(4242, "Xin chào")
    assert refused.value.message == "Chat not found"


async def test_edits_need_an_existing_message_and_a_change(
    server: FakeTelegramServer, bot: Bot
) -> None:
    sent = await bot.send_message(LAN, "Tiến độ: 50%")
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Tiến độ: 50%", chat_id=LAN, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("Tiến độ: 60%", chat_id=MINH, message_id=sent.message_id)
    await bot.edit_message_reply_markup(LAN, sent.message_id, reply_markup=keyboard(("OK", "k")))
    assert server.messages_to(LAN)[-1].buttons() == [("OK", "k")]


async def test_blocked_user_answers_forbidden(server: FakeTelegramServer, bot: Bot) -> None:
    server.block(LAN)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(LAN, "Nhắc hạn báo cáo")
    await bot.send_message(MINH, "Nhắc hạn báo cáo")
    assert [m.chat_id for m in server.sent] == [MINH]


async def test_injected_429_raises_retry_after(server: FakeTelegramServer, bot: Bot) -> None:
    server.inject_fault("sendMessage", "429", retry_after=7)
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(LAN, "Nhắc hạn")
    assert seconds(limited.value.retry_after) == 7
    await bot.send_message(LAN, "Nhắc hạn")
    assert server.stats.rate_limited == 1
    assert len(server.messages_to(LAN)) == 1


async def test_rate_limits_refuse_a_burst_to_one_chat() -> None:
    async with FakeTelegramServer(rate_limits=RateLimits(per_chat_per_second=1, burst=2)) as fake:
        fake.add_user(LAN, "Lan")
        fake.add_user(MINH, "Minh")
        async with Bot(fake.token, base_url=fake.base_url) as client:
            await client.send_message(LAN, "1")
            await client.send_message(LAN, "2")
            with pytest.raises(RetryAfter) as limited:
                await client.send_message(LAN, "3")
            await client.send_message(MINH, "1")  # another chat has its own allowance
        assert seconds(limited.value.retry_after) >= 1
        assert fake.stats.rate_limited == 1
        assert [m.text for m in fake.messages_to(LAN)] == ["1", "2"]


# ----------------------------------------------------------------- files


async def test_document_upload_is_recorded_with_its_bytes(
    server: FakeTelegramServer, bot: Bot
) -> None:
    content = "STT;Nội dung;Tiến độ\n1;Tuyến buýt Hưng Yên – Hà Nội;80%\n".encode()
    message = await bot.send_document(
        LAN,
        document=content,
        filename="bao-cao.csv",
        caption="<b>Báo cáo</b> tháng 12",
        parse_mode="HTML",
    )
    recorded = server.messages_to(LAN)[-1]
    assert (recorded.method, recorded.text) == ("sendDocument", "Báo cáo tháng 12")
    assert recorded.document == ("bao-cao.csv", content)
    assert message.document is not None and message.document.file_name == "bao-cao.csv"
    # Sending it again by file_id records the same file.
    await bot.send_document(MINH, document=message.document.file_id)
    assert server.messages_to(MINH)[-1].document == ("bao-cao.csv", content)


async def test_user_document_downloads_through_get_file(
    server: FakeTelegramServer, bot: Bot
) -> None:
    content = b"%PDF-1.4 bien ban hop"
    await server.send_document(
        LAN, "biên bản.pdf", content, "application/pdf", caption="Biên bản họp"
    )
    [update] = await bot.get_updates(timeout=1)
    assert update.message is not None and update.message.document is not None
    assert update.message.caption == "Biên bản họp"
    file = await bot.get_file(update.message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content


async def test_files_over_20_mb_cannot_be_fetched(server: FakeTelegramServer, bot: Bot) -> None:
    await server.send_document(
        LAN, "ảnh-chụp.zip", b"\0" * (20 * 1024 * 1024 + 1), "application/zip"
    )
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    with pytest.raises(BadRequest) as refused:
        await bot.get_file(update.message.document.file_id)
    assert refused.value.message == "File is too big"


# ----------------------------------------------------------------- commands, updates, webhook


async def test_set_my_commands_checks_names_and_keeps_languages(
    server: FakeTelegramServer, bot: Bot
) -> None:
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("BaoCao", "Báo cáo tiến độ")])
    assert server.rejected[-1].description == "Bad Request: BOT_COMMAND_INVALID"
    await bot.set_my_commands([BotCommand("baocao", "Báo cáo tiến độ")], language_code="vi")
    await bot.set_my_commands([BotCommand("report", "Report progress")])
    assert server.commands == {
        "vi": [{"command": "baocao", "description": "Báo cáo tiến độ"}],
        "": [{"command": "report", "description": "Report progress"}],
    }
    assert [c.command for c in await bot.get_my_commands(language_code="vi")] == ["baocao"]


async def test_get_updates_confirms_by_offset_and_redelivers(
    server: FakeTelegramServer, bot: Bot
) -> None:
    update_id = await server.send_text(LAN, "Xin chào")
    [first] = await bot.get_updates(timeout=1)
    assert first.update_id == update_id
    assert await bot.get_updates(offset=update_id + 1) == ()
    await server.redeliver(update_id)
    [again] = await bot.get_updates(offset=update_id + 1)
    assert again.update_id == update_id
    assert again.message is not None and again.message.text == "Xin chào"


async def test_callback_query_can_be_answered_once(server: FakeTelegramServer, bot: Bot) -> None:
    sent = await bot.send_message(LAN, "Chọn", reply_markup=keyboard(("Xong", "done")))
    await server.click(LAN, sent.message_id, "done")
    [update] = await bot.get_updates()
    assert update.callback_query is not None and update.callback_query.data == "done"
    await update.callback_query.answer("Đã ghi nhận", show_alert=True)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await update.callback_query.answer()
    assert server.callback_answers == [
        {
            "callback_query_id": update.callback_query.id,
            "text": "Đã ghi nhận",
            "show_alert": True,
            "url": None,
        }
    ]


async def test_wrong_token_and_unknown_method(server: FakeTelegramServer) -> None:
    stranger = Bot("123456:wrong-token", base_url=server.base_url)
    with pytest.raises(InvalidToken):
        await stranger.initialize()  # PTB checks the token with getMe
    await stranger.shutdown()
    root = server.base_url
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{root}{server.token}/sendNothing") as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found"
        async with http.post(
            f"{root}{server.token}/sendmessage", json={"chat_id": LAN, "text": "JSON cũng được"}
        ) as response:
            assert response.status == 200
    assert server.messages_to(LAN)[-1].text == "JSON cũng được"


class Receiver:
    """A tiny webhook endpoint that fails the first `failures` deliveries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.seen: list[tuple[str | None, dict[str, Any]]] = []
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(
            (
                request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                json.loads(await request.read()),
            )
        )
        if self.failures:
            self.failures -= 1
            return web.Response(status=500)
        self.arrived.set()
        return web.Response()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver(failures=1)
    webapp = web.Application()
    webapp.router.add_post("/hook", target.handle)
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield target, f"http://127.0.0.1:{port}/hook"
    finally:
        await runner.cleanup()


async def test_webhook_delivery_carries_the_secret(
    server: FakeTelegramServer, bot: Bot, receiver: tuple[Receiver, str]
) -> None:
    target, url = receiver
    server.webhook_retry_delays = (0.01,)
    with pytest.raises(BadRequest, match="(?i)secret token contains unallowed characters"):
        await bot.set_webhook(url, secret_token="bí mật")
    await bot.set_webhook(url, secret_token="bi-mat_2019")
    assert server.webhook is not None and server.webhook["secret_token"] == "bi-mat_2019"
    with pytest.raises(Conflict):
        await bot.get_updates()
    update_id = await server.send_text(LAN, "Báo cáo qua webhook")
    await asyncio.wait_for(target.arrived.wait(), 2)
    # The first attempt got a 500, so Telegram tried again with the same update.
    assert [(secret, body["update_id"]) for secret, body in target.seen] == [
        ("bi-mat_2019", update_id),
        ("bi-mat_2019", update_id),
    ]
    assert target.seen[-1][1]["message"]["text"] == "Báo cáo qua webhook"
    info = await bot.get_webhook_info()
    assert info.url == url and info.last_error_message is not None
    await bot.delete_webhook()
    assert server.webhook is None


# ----------------------------------------------------------------- HTML parsing


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("<b>Đúng hạn</b> &amp; <i>quá hạn</i>", "Đúng hạn & quá hạn"),
        ("A & B &lt;3 &#273;", "A & B <3 đ"),
        ('<a href="https://t.me/x">liên kết</a> <span class="tg-spoiler">ẩn</span>', "liên kết ẩn"),
        ('<pre><code class="language-python">x &gt; 1</code></pre>', "x > 1"),
    ],
)
def test_html_shows_text_without_markup(source: str, shown: str) -> None:
    assert html_to_text(source) == shown


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("dòng 1<br>dòng 2", 'Unsupported start tag "br" at byte offset 7'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>đậm<i>nghiêng</b></i>", 'expected "</i>", found "</b>"'),
        ("xong</b>", "Unexpected end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_bad_html_is_refused_with_telegram_wording(source: str, error: str) -> None:
    with pytest.raises(Exception, match="can't parse entities") as refused:
        html_to_text(source)
    assert error in str(refused.value)
