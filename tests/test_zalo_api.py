"""The Zalo Bot API client: event parsing, text splitting, retries and token hygiene.

Client tests run over real HTTP against the loopback fake Zalo server.
"""

from __future__ import annotations

import asyncio
import logging
import re
import traceback
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.logs import protect, redact
from bot.loopback.zalo_server import FakeZaloServer
from bot.proxies import env_proxy
from bot.zalo import api as zalo_api
from bot.zalo.api import MAX_TEXT, ZaloApiError, ZaloBotApi
from bot.zalo.events import MalformedEvent, ZaloEvent, parse_event
from storage.textfit import split_text

TOKEN = "1234567890:zalo-secret-token-AbCdEf"
USER = "6101"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloServer]:
    server = FakeZaloServer(TOKEN, timeout_fault_delay=3.0)
    await server.start()
    server.add_user(USER, "Nguyễn Thị Hoa")
    try:
        yield server
    finally:
        await server.stop()


def make_api(fake: FakeZaloServer, **kwargs: Any) -> ZaloBotApi:
    options: dict[str, Any] = {"backoff_base": 0.001, "backoff_max": 0.01, "call_timeout": 2.0}
    options.update(kwargs)
    return ZaloBotApi(options.pop("token", TOKEN), base_url=fake.base_url, **options)


@pytest.fixture
async def api(fake: FakeZaloServer) -> AsyncIterator[ZaloBotApi]:
    async with make_api(fake) as client:
        yield client


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Record the client's backoff delays (tests keep them tiny)."""
    recorded: list[float] = []

    async def recording_sleep(seconds: float) -> None:
        recorded.append(seconds)
        await asyncio.sleep(seconds)

    monkeypatch.setattr(zalo_api, "_sleep", recording_sleep)
    yield recorded


def event(message: dict[str, Any], name: str = "message.text.received") -> dict[str, Any]:
    return {"ok": True, "result": {"event_name": name, "message": message}}


def text_message(**overrides: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": "m-1",
        "date": 1749538250568,
        "from": {"id": "u-1", "display_name": "Trần Văn Nam"},
        "chat": {"id": "c-1", "chat_type": "PRIVATE"},
        "text": "Báo cáo tiến độ",
    }
    message.update(overrides)
    return message


# --------------------------------------------------------------------------- parse_event


def test_parse_documented_text_event() -> None:
    parsed = parse_event(event(text_message()))
    assert parsed == ZaloEvent(
        event_name="message.text.received",
        message_id="m-1",
        chat_id="c-1",
        chat_type="PRIVATE",
        sender_id="u-1",
        sender_name="Trần Văn Nam",
        text="Báo cáo tiến độ",
        photo_url=None,
        caption=None,
        date=datetime(2025, 6, 10, 6, 50, 50, 568000, tzinfo=UTC),
        raw={},
    )
    assert parsed is not None and parsed.is_known


def test_parse_bare_event_without_envelope() -> None:
    parsed = parse_event({"event_name": "message.text.received", "message": text_message()})
    assert parsed is not None and parsed.text == "Báo cáo tiến độ"


def test_parse_numeric_ids_become_strings() -> None:
    message = text_message(message_id=77, **{"from": {"id": 42, "display_name": "A"}})
    message["chat"] = {"id": 4242, "chat_type": "PRIVATE"}
    parsed = parse_event(event(message))
    assert parsed is not None
    assert (parsed.message_id, parsed.sender_id, parsed.chat_id) == ("77", "42", "4242")


def test_parse_alternative_field_names() -> None:
    message = text_message(**{"from": {"id": "u-1", "name": "Lê Hùng"}})
    del message["text"]
    message["photo_url"] = "https://cdn.example/p.jpg"
    message["caption"] = "Ảnh công trường"
    parsed = parse_event(event(message, "message.image.received"))
    assert parsed is not None
    assert parsed.sender_name == "Lê Hùng"
    assert parsed.photo_url == "https://cdn.example/p.jpg"
    assert parsed.caption == "Ảnh công trường"


def test_parse_image_with_documented_photo_field() -> None:
    message = text_message(photo="https://cdn.example/a.jpg")
    del message["text"]
    parsed = parse_event(event(message, "message.image.received"))
    assert parsed is not None and parsed.photo_url == "https://cdn.example/a.jpg"
    assert parsed.text is None and parsed.caption is None


@pytest.mark.parametrize(
    "name", ["message.sticker.received", "message.voice.received", "message.unsupported.received"]
)
def test_parse_contentless_events_are_legitimate(name: str) -> None:
    message = text_message()
    del message["text"]
    parsed = parse_event(event(message, name))
    assert parsed is not None
    assert (parsed.event_name, parsed.text, parsed.chat_id) == (name, None, "c-1")


def test_parse_group_chat_and_missing_optional_fields() -> None:
    message = text_message(chat={"id": "g-9", "chat_type": "GROUP"}, **{"from": {"id": "u-2"}})
    del message["date"]
    parsed = parse_event(event(message))
    assert parsed is not None
    assert (parsed.chat_type, parsed.sender_name, parsed.date) == ("GROUP", "", None)


def test_parse_unknown_event_is_passed_on_even_without_message() -> None:
    parsed = parse_event({"ok": True, "result": {"event_name": "bot.added.to.group"}})
    assert parsed is not None
    assert parsed.event_name == "bot.added.to.group"
    assert not parsed.is_known
    assert (parsed.message_id, parsed.chat_id, parsed.sender_id) == ("", "", "")


@pytest.mark.parametrize(
    "body", [{"ok": True}, {"ok": True, "result": None}, {"ok": True, "result": {}}, {"result": []}]
)
def test_parse_empty_result_means_nothing_new(body: dict[str, Any]) -> None:
    assert parse_event(body) is None


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ([event(text_message())], "array"),
        ("text", "string"),
        (None, "null"),
        ({"ok": False, "error_code": 500}, "ok: false"),
        ({"ok": True, "result": [{"event_name": "x"}]}, "result"),
        ({"ok": True, "result": {"message": text_message()}}, "event_name"),
        ({}, "event_name"),
        (event({}) | {"result": {"event_name": "message.text.received"}}, "message"),
        (event(text_message(chat={"chat_type": "PRIVATE"})), "chat.id"),
        (event(text_message(chat={"id": True})), "chat.id"),
        (event(text_message(chat="c-1")), "message.chat"),
        (event(text_message(**{"from": None})), "message.from"),
        (event(text_message(message_id="")), "message_id"),
        (event(text_message(text=12)), "text"),
    ],
)
def test_parse_malformed_shapes_say_what_is_wrong(body: Any, complaint: str) -> None:
    with pytest.raises(MalformedEvent, match=re.escape(complaint)):
        parse_event(body)


# --------------------------------------------------------------------------- split_text


def test_split_short_text_is_one_part() -> None:
    assert split_text("Xin chào", MAX_TEXT) == ["Xin chào"]


def test_split_on_line_boundaries_at_2000() -> None:
    line = "x" * 999
    text = "\n".join([line] * 5)  # 999 + 1 + 999 = 1999 fits, a third line does not
    parts = split_text(text, MAX_TEXT)
    assert parts == [f"{line}\n{line}", f"{line}\n{line}", line]


def test_split_long_line_at_a_space_then_hard() -> None:
    words = " ".join(["từ"] * 1500)  # 4499 characters, spaces every 3
    parts = split_text(words, MAX_TEXT)
    assert all(len(p) <= MAX_TEXT for p in parts)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert " ".join(parts) == words
    assert split_text("a" * 4500, MAX_TEXT) == ["a" * 2000, "a" * 2000, "a" * 500]


def test_split_never_returns_empty_parts() -> None:
    assert split_text("", MAX_TEXT) == []
    assert split_text("\n\n  \n", MAX_TEXT) == []
    assert split_text("a\n\n\n" + "b" * 2000, MAX_TEXT) == ["a", "b" * 2000]


def test_split_counts_emoji_as_two_units() -> None:
    parts = split_text("😀" * 1500, MAX_TEXT)
    assert [len(p) for p in parts] == [1000, 500]


@given(
    st.text(alphabet=st.sampled_from("ab đ😀\n"), max_size=400),
    st.integers(min_value=2, max_value=40),
)
def test_split_property_parts_fit_and_content_is_kept(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    position = 0
    for part in parts:
        assert part.strip()
        assert len(part.encode("utf-16-le")) // 2 <= limit
        found = text.find(part, position)
        assert found >= 0, "every part is a verbatim slice, in order"
        assert not text[position:found].strip(), "only whitespace is dropped between parts"
        position = found + len(part)
    assert not text[position:].strip()


@given(st.lists(st.text(alphabet="abc ", min_size=1, max_size=30), min_size=1, max_size=30))
def test_split_property_short_lines_rejoin_exactly(lines: list[str]) -> None:
    lines = [line for line in lines if line.strip()]
    text = "\n".join(lines)
    assert "\n".join(split_text(text, 40)) == text


def test_redact_hides_raw_and_encoded_token() -> None:
    protect(TOKEN)
    text = f"POST /bot{TOKEN}/getMe and /bot{TOKEN.replace(':', '%3A')}/x"
    assert redact(text) == "POST /bot***/getMe and /bot***/x"


# --------------------------------------------------------------------------- calls


async def test_get_me_returns_the_bot_account(api: ZaloBotApi) -> None:
    me = await api.get_me()
    assert me["account_name"] == "bot.tiendo"
    assert set(me) >= {"id", "account_name", "account_type", "can_join_groups"}


@pytest.mark.parametrize("mode", ["empty", "timeout_error"])
async def test_polling_hands_over_events_one_by_one_then_none(
    fake: FakeZaloServer, api: ZaloBotApi, mode: str
) -> None:
    fake.poll_empty_mode = mode  # type: ignore[assignment]
    first = await fake.send_text(USER, "1")
    second = await fake.send_text(USER, "2")
    got = [await api.get_updates(timeout=0) for _ in range(3)]
    assert [e.message_id if e else None for e in got] == [first, second, None]
    assert got[0] is not None
    assert (got[0].text, got[0].sender_name, got[0].chat_id) == ("1", "Nguyễn Thị Hoa", USER)


async def test_long_poll_waits_for_an_event(fake: FakeZaloServer, api: ZaloBotApi) -> None:
    poll = asyncio.create_task(api.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    await fake.send_text(USER, "đến rồi")
    got = await asyncio.wait_for(poll, 2)
    assert got is not None and got.text == "đến rồi"


async def test_polled_numeric_ids_and_alternative_names(
    fake: FakeZaloServer, api: ZaloBotApi
) -> None:
    fake.alt_field_names = True
    await fake.send_text(USER, "số", numeric_ids=True)
    got = await api.get_updates(timeout=0)
    assert got is not None
    assert (got.sender_id, got.chat_id, got.sender_name) == (USER, USER, "Nguyễn Thị Hoa")
    assert isinstance(got.raw["message"]["from"]["id"], int)


async def test_polled_malformed_result_raises(fake: FakeZaloServer, api: ZaloBotApi) -> None:
    await fake.send_raw({"ok": True, "result": {"event_name": "message.text.received"}})
    with pytest.raises(MalformedEvent):
        await api.get_updates(timeout=0)


async def test_send_message_delivers_text(fake: FakeZaloServer, api: ZaloBotApi) -> None:
    result = await api.send_message(USER, "Đã ghi nhận báo cáo.")
    assert (await fake.next_reply(USER)).text == "Đã ghi nhận báo cáo."
    assert result["message_id"]


async def test_send_message_refuses_a_text_over_the_limit_instead_of_splitting(
    fake: FakeZaloServer, api: ZaloBotApi
) -> None:
    await api.send_message(USER, "a" * MAX_TEXT)
    with pytest.raises(ValueError, match="longer than 2000"):
        await api.send_message(USER, "a" * (MAX_TEXT + 1))
    assert fake.stats.requests["sendMessage"] == 1


async def test_send_empty_text_is_refused_locally(fake: FakeZaloServer, api: ZaloBotApi) -> None:
    with pytest.raises(ValueError, match="empty"):
        await api.send_message(USER, " \n ")
    assert fake.stats.requests["sendMessage"] == 0


async def test_ok_false_400_raises_at_once(fake: FakeZaloServer, api: ZaloBotApi) -> None:
    fake.inject_fault("sendMessage", "ok_false_400")
    with pytest.raises(ZaloApiError) as caught:
        await api.send_message(USER, "xin chào")
    assert (caught.value.error_code, caught.value.transient) == (400, False)
    assert fake.stats.requests["sendMessage"] == 1
    assert fake.messages_to(USER) == []


async def test_unknown_chat_is_a_permanent_error(api: ZaloBotApi) -> None:
    with pytest.raises(ZaloApiError, match="chat not found") as caught:
        await api.send_message("999999", "xin chào")
    assert not caught.value.transient


async def test_wrong_token_is_unauthorized(fake: FakeZaloServer) -> None:
    async with make_api(fake, token="wrong-token-abcdef") as bad:
        with pytest.raises(ZaloApiError) as caught:
            await bad.get_me()
    assert (caught.value.error_code, caught.value.transient) == (401, False)
    assert "wrong-token-abcdef" not in str(caught.value)


@pytest.mark.parametrize("kind", ["http500", "ok_false_500", "429"])
async def test_transient_failures_are_retried_then_succeed(
    fake: FakeZaloServer, api: ZaloBotApi, delays: list[float], kind: str
) -> None:
    fake.inject_fault("sendMessage", kind, count=2)  # type: ignore[arg-type]
    await api.send_message(USER, "lần ba mới được")
    assert fake.stats.requests["sendMessage"] == 3
    assert [m.text for m in fake.messages_to(USER)] == ["lần ba mới được"]
    assert len(delays) == 2


async def test_retry_after_is_honoured(fake: FakeZaloServer, delays: list[float]) -> None:
    fake.rate_limit_per_second = 20.0  # a burst of 20, then 429 with retry_after ≈ 0.05 s
    async with make_api(fake, backoff_max=0.001) as client:  # backoff alone would wait ≤ 1 ms
        for _ in range(22):
            await client.send_chat_action(USER)
    assert len(fake.chat_actions) == 22
    assert fake.stats.rate_limited >= 1
    assert delays and all(0.01 <= d <= 0.11 for d in delays)


async def test_exhausted_retries_raise_a_transient_error(
    fake: FakeZaloServer, delays: list[float]
) -> None:
    fake.inject_fault("getMe", "http500", count=5)
    async with make_api(fake, max_retries=2) as client:
        with pytest.raises(ZaloApiError) as caught:
            await client.get_me()
    assert caught.value.transient and caught.value.error_code == 500
    assert fake.stats.requests["getMe"] == 3
    assert delays[1] >= delays[0]  # exponential backoff


async def test_read_timeout_on_send_is_not_retried(fake: FakeZaloServer) -> None:
    fake.inject_fault("sendMessage", "timeout")
    async with make_api(fake, call_timeout=0.2) as client:
        with pytest.raises(ZaloApiError) as caught:
            await client.send_message(USER, "chỉ một lần")
    assert caught.value.transient and caught.value.delivery_unknown
    assert fake.stats.requests["sendMessage"] == 1
    assert [m.text for m in fake.messages_to(USER)] == ["chỉ một lần"]


async def test_read_timeout_on_chat_action_is_retried(
    fake: FakeZaloServer, delays: list[float]
) -> None:
    fake.inject_fault("sendChatAction", "timeout")
    async with make_api(fake, call_timeout=0.2) as client:
        await client.send_chat_action(USER)
    assert fake.stats.requests["sendChatAction"] == 2


async def test_long_poll_read_timeout_means_nothing_new(
    fake: FakeZaloServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zalo_api, "_POLL_GRACE", 0.2)
    fake.inject_fault("getUpdates", "timeout")
    async with make_api(fake) as client:
        assert await client.get_updates(timeout=0) is None
    assert fake.stats.requests["getUpdates"] == 1


async def test_connect_errors_are_retried_even_for_sends(delays: list[float]) -> None:
    closed = FakeZaloServer(TOKEN)
    await closed.start()
    base_url = closed.base_url
    await closed.stop()
    async with ZaloBotApi(TOKEN, base_url=base_url, max_retries=2, backoff_base=0.001) as client:
        with pytest.raises(ZaloApiError) as caught:
            await client.send_message(USER, "x")
    assert caught.value.transient and not caught.value.delivery_unknown
    assert len(delays) == 2


async def test_webhook_round_trip(fake: FakeZaloServer, api: ZaloBotApi) -> None:
    url = "https://tiendo.example.gov.vn/zalo/webhook"
    set_result = await api.set_webhook(url, "s3cret-value")
    assert set_result["url"] == url
    assert (await api.get_webhook_info())["url"] == url
    with pytest.raises(ZaloApiError, match="webhook") as caught:
        await api.get_updates(timeout=0)
    assert not caught.value.transient
    assert (await api.delete_webhook())["url"] == ""
    assert (await api.get_webhook_info())["url"] == ""
    assert await api.get_updates(timeout=0) is None


@pytest.mark.parametrize(
    ("url", "secret", "complaint"),
    [
        ("http://tiendo.example.gov.vn/hook", "s3cret-value", "https"),
        ("/zalo/webhook", "s3cret-value", "absolute"),
        ("https://tiendo.example.gov.vn/hook", "short", "8..256"),
        ("https://tiendo.example.gov.vn/hook", "x" * 257, "8..256"),
        ("https://tiendo.example.gov.vn/hook", "has a space", "printable"),
    ],
)
async def test_set_webhook_validates_locally(
    fake: FakeZaloServer, api: ZaloBotApi, url: str, secret: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        await api.set_webhook(url, secret)
    assert fake.stats.requests["setWebhook"] == 0


async def test_send_photo_and_chat_action(fake: FakeZaloServer, api: ZaloBotApi) -> None:
    await api.send_photo(USER, "https://cdn.example/chart.png", "Biểu đồ tiến độ")
    await api.send_chat_action(USER)
    sent = await fake.next_reply(USER)
    assert (sent.method, sent.photo, sent.caption) == (
        "sendPhoto",
        "https://cdn.example/chart.png",
        "Biểu đồ tiến độ",
    )
    assert fake.chat_actions == [(USER, "typing")]
    with pytest.raises(ValueError, match="caption"):
        await api.send_photo(USER, "https://cdn.example/c.png", "x" * (MAX_TEXT + 1))


# --------------------------------------------------------------------------- download


async def test_download_fetches_an_inbound_photo(fake: FakeZaloServer, api: ZaloBotApi) -> None:
    await fake.send_image(USER, PNG, "Ảnh hiện trường")
    got = await api.get_updates(timeout=0)
    assert got is not None and got.photo_url and got.caption == "Ảnh hiện trường"
    assert await api.download(got.photo_url, max_bytes=len(PNG)) == PNG


async def test_download_refuses_a_declared_oversized_body(
    fake: FakeZaloServer, api: ZaloBotApi
) -> None:
    await fake.send_image(USER, PNG)
    got = await api.get_updates(timeout=0)
    assert got is not None and got.photo_url
    with pytest.raises(ZaloApiError, match="larger than 10 bytes") as caught:
        await api.download(got.photo_url, max_bytes=10)
    assert not caught.value.transient


async def test_download_refuses_a_streamed_oversized_body() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 100

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())  # no Content-Length

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = ZaloBotApi(TOKEN, client=http)
        with pytest.raises(ZaloApiError, match="larger than 500 bytes"):
            await client.download("https://cdn.example/big.jpg", max_bytes=500)
        await client.aclose()


async def test_download_rejects_other_schemes_and_missing_files(
    fake: FakeZaloServer, api: ZaloBotApi
) -> None:
    with pytest.raises(ValueError, match="http"):
        await api.download("file:///etc/passwd", max_bytes=100)
    with pytest.raises(ZaloApiError) as caught:
        await api.download(f"{fake.base_url}/files/none.jpg", max_bytes=100)
    assert (caught.value.error_code, caught.value.transient) == (404, False)


async def test_token_is_only_sent_to_the_api_origin(fake: FakeZaloServer, api: ZaloBotApi) -> None:
    other = FakeZaloServer(TOKEN)  # same token: an injected token would be accepted there
    await other.start()
    try:
        with pytest.raises(ZaloApiError) as caught:
            await api.download(f"{other.base_url}/bot***/getMe", max_bytes=1000)
        assert caught.value.error_code == 401
    finally:
        await other.stop()


# --------------------------------------------------------------------------- token hygiene


def _assert_no_token(
    token: str, caplog: pytest.LogCaptureFixture, errors: list[BaseException]
) -> None:
    assert caplog.records, "nothing was logged: the test would not see a leak"
    for record in caplog.records:
        assert token not in record.getMessage(), record.name
    assert token not in caplog.text
    for error in errors:
        assert token not in str(error) and token not in repr(error)
        assert token not in "".join(traceback.format_exception(error))


async def _calls_that_succeed_and_fail(
    client: ZaloBotApi, fake: FakeZaloServer
) -> list[BaseException]:
    """Run successful and failing calls; return the errors raised."""
    errors: list[BaseException] = []
    await client.get_me()
    await client.send_message(USER, "ok")
    await client.get_updates(timeout=0)
    fake.inject_fault("sendMessage", "http500")
    await client.send_message(USER, "sau một lần lỗi")
    with pytest.raises(ZaloApiError) as unknown_chat:
        await client.send_message("unknown-chat", "x")
    fake.inject_fault("sendMessage", "timeout")
    with pytest.raises(ZaloApiError) as timed_out:
        await client.send_message(USER, "chậm")
    errors.extend([unknown_chat.value, timed_out.value])
    return errors


async def test_token_never_reaches_logs_or_errors(
    fake: FakeZaloServer, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("httpx", "httpcore", "bot.zalo.api"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with make_api(fake, call_timeout=0.3) as client:
        errors = await _calls_that_succeed_and_fail(client, fake)
    async with make_api(fake, max_retries=1) as closed:
        await fake.stop()  # now every call is a connect error
        try:
            await closed.get_me()
        except ZaloApiError as exc:
            errors.append(exc)
    assert len(errors) == 3
    assert any(
        "HTTP Request: POST" in r.getMessage() and "/bot***/" in r.getMessage()
        for r in caplog.records
    )
    _assert_no_token(TOKEN, caplog, errors)


async def test_token_is_redacted_with_a_caller_supplied_client(
    fake: FakeZaloServer, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with httpx.AsyncClient() as http:
        client = ZaloBotApi(
            TOKEN, base_url=fake.base_url, client=http, backoff_base=0.001, call_timeout=0.3
        )
        errors = await _calls_that_succeed_and_fail(client, fake)
        await client.aclose()
        assert not http.is_closed, "a caller's client stays open"
    assert any("/bot***/getMe" in r.getMessage() for r in caplog.records)
    _assert_no_token(TOKEN, caplog, errors)


async def test_a_client_registers_its_token_with_the_one_redaction(
    fake: FakeZaloServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Any logger, a message argument or a traceback: once a client exists, no line has it."""
    token = "555:token-of-a-second-bot-XyZ"
    elsewhere = logging.getLogger("tests.elsewhere")
    caplog.set_level(logging.DEBUG, logger="tests.elsewhere")
    elsewhere.warning("before the client: %s", token)
    assert token in caplog.text  # not registered yet: the check below can fail
    caplog.clear()
    async with ZaloBotApi(token, base_url=fake.base_url):
        elsewhere.warning("calling %s/bot%s/getMe", fake.base_url, token)
        try:
            raise RuntimeError(f"failed on /bot{token.replace(':', '%3A')}/sendMessage")
        except RuntimeError:
            elsewhere.exception("a library quoted the URL")
    assert caplog.records and "/bot***/getMe" in caplog.text
    assert token not in caplog.text and token.replace(":", "%3A") not in caplog.text


async def test_the_log_check_would_catch_a_leak(
    fake: FakeZaloServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="httpx")
    canary = "canary-token-not-registered"
    async with httpx.AsyncClient() as http:
        await http.post(f"{fake.base_url}/bot{canary}/getMe", json={})
    assert canary in caplog.text


def test_an_environment_proxy_is_honoured_except_for_no_proxy_and_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.so-khdt.local:3128")
    assert env_proxy(zalo_api.DEFAULT_BASE_URL) == "http://proxy.so-khdt.local:3128"
    assert env_proxy("http://127.0.0.1:8082") is None
    monkeypatch.setenv("NO_PROXY", "zaloplatforms.com")
    assert env_proxy(zalo_api.DEFAULT_BASE_URL) is None
