"""What goes wrong on the wire is said: in the person's language to them, at ERROR in the log,
and in `tiendo status` (another process) until it is over. Real bots, loopback Bot APIs."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.loopback.stage import Person, Stage, text_of
from tests.harness import eventually, fail_once, run_cli, staged, write_config

PLATFORMS = ("telegram", "zalo")


@pytest.fixture
async def stage(template: Path, tmp_path: Path) -> AsyncIterator[Stage]:
    async with staged(template, tmp_path) as running:
        yield running


def status(folder: Path) -> tuple[int, dict[str, dict[str, object]]]:
    """Run `tiendo status --json` on the stage's store; return its code and problems by code."""
    code, out = run_cli(write_config(folder), "status", "--json")
    return code, {p["code"]: p for p in json.loads(out)["problems"]}


async def english_speaker(stage: Stage, platform: str, role: str = "reporter") -> Person:
    agency = "HY-KHDT" if role == "coordinator" else "HY-GTVT"
    person = await stage.join("Lan", agency, role=role, platform=platform)
    assert "Switched to English." in text_of(await stage.say(person, "/ngonngu en"))
    return person


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_an_apology_after_a_failure_comes_in_the_persons_language(
    stage: Stage, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lan = await english_speaker(stage, platform)
    fail_once(monkeypatch, stage.service)
    await stage.say(lan, "/my")
    await eventually(lambda: "Sorry, the bot hit an error" in stage.received(lan)[-1].text)
    assert "Xin lỗi" not in stage.received(lan)[-1].text
    assert "2.5" in text_of(await stage.say(lan, "/my"))  # and the bot goes on


async def test_zalos_note_about_a_file_it_cannot_send_is_in_the_persons_language(
    stage: Stage,
) -> None:
    office = await english_speaker(stage, "zalo", role="coordinator")
    answer = text_of(await stage.say(office, "/export"))
    assert "Zalo cannot send the file" in answer and "Zalo chưa gửi" not in answer


async def test_a_reply_dropped_after_three_429s_is_logged_and_shown_in_status(
    stage: Stage, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = stage.telegram_server
    assert server is not None
    lan = await stage.join("Lan", "HY-GTVT")
    assert status(tmp_path)[0] == 0
    server.inject_fault("sendMessage", "429", count=3, retry_after=1)
    assert await stage.say(lan, "/cuatoi") == []
    dropped = [r for r in caplog.records if r.levelno == logging.ERROR and "dropped" in r.message]
    assert len(dropped) == 1 and "429" in dropped[0].message and server.token not in caplog.text
    code, problems = status(tmp_path)
    assert code == 1 and set(problems) == {"replies_dropped"}
    assert problems["replies_dropped"]["values"]["component"] == "telegram"  # type: ignore[index]
    assert "429" in str(problems["replies_dropped"]["text"])
    assert "2.5" in text_of(await stage.say(lan, "/cuatoi"))  # the next reply goes out


async def test_zalo_polling_that_fails_is_shown_and_comes_back_by_itself(
    stage: Stage, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, zalo = stage.zalo_server, stage.zalo
    assert server is not None and zalo is not None
    zalo.backoff = (0.05, 0.2)
    minh = await stage.join("Minh", "HY-GTVT", platform="zalo")
    server.inject_fault("getUpdates", "ok_false_400", count=10_000)  # e.g. a webhook set by hand
    await eventually(lambda: zalo.health.state == "down")
    code, problems = status(tmp_path)
    assert code == 1 and problems["component_down"]["values"]["component"] == "zalo"  # type: ignore[index]
    assert "Zalo: không kết nối được Bot API" in str(problems["component_down"]["text"])
    failed = [
        r for r in caplog.records if r.levelno == logging.ERROR and "Zalo polling" in r.message
    ]
    assert failed and server.token not in caplog.text
    server.clear_faults()
    assert "2.5" in text_of(await stage.say(minh, "/cuatoi"))  # polling came back by itself
    assert zalo.health.state == "ok" and status(tmp_path)[0] == 0
