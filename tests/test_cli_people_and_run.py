"""The commands a coordinating office types: invite, revoke, chat; and `tiendo run` itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from bot.cli import CommandContext, main
from bot.config import ConfigError, load_config
from bot.loopback.telegram_server import FakeTelegramServer
from bot.loopback.zalo_server import FakeZaloServer
from bot.runner import start, stop
from storage.clock import Clock, FixedClock, SystemClock
from storage.models import Report
from tests.conftest import hanoi
from tests.harness import PROGRAMME, REPO


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[app]
programme = "{PROGRAMME}"
data_dir = "{tmp_path / 'var'}"
[database]
url = "sqlite:///{tmp_path / 'tiendo.sqlite3'}"
{extra}
""", encoding="utf-8")
    return path


def run_cli(config: Path, *args: str, clock: Clock | None = None) -> tuple[int, str]:
    console = Console(record=True, width=200)
    ctx = CommandContext(config, console=console,
                         clock=clock or FixedClock(hanoi(2019, 12, 2, 9, 0)))
    code = main(["--config", str(config), *args], ctx=ctx)
    return code, console.export_text()


def test_invite_prints_codes_and_links_and_revoke_stops_a_code(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[telegram]\nbot_username = "hn_hy_bot"\n')
    assert run_cli(config, "import")[0] == 0
    code, out = run_cli(config, "invite", "--agency", "HY-GTVT", "--count", "2", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 2 and rows[0]["agency"] == "HY-GTVT"
    assert rows[0]["telegram_link"] == f"https://t.me/hn_hy_bot?start={rows[0]['code']}"
    assert run_cli(config, "member", "revoke", rows[0]["code"])[0] == 0
    code, out = run_cli(config, "invite", "--agency", "XX-NONE")
    assert code == 2


def test_chat_in_the_terminal_reports_like_any_platform(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert run_cli(config, "import")[0] == 0
    # The terminal runs on the real clock, so the invite must be valid now.
    _, out = run_cli(config, "invite", "--agency", "HY-GTVT", "--name", "Lan", "--json",
                     clock=SystemClock())
    invite = json.loads(out)[0]["code"]
    typed = "/cuatoi\n2.5 60% đã khảo sát\n1\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "chat", "--invite", invite],
        input=typed, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "Xin chào Lan" in done.stdout and "Kiểm tra lại báo cáo" in done.stdout
    assert "1. ✅ Gửi báo cáo" in done.stdout and "Đã ghi nhận" in done.stdout
    from storage.db import Database

    db = Database.open(load_config(config).database_url)
    with db.unit_of_work() as session:
        assert [(r.percent, r.channel) for r in session.scalars(select(Report))] == [(60, "cli")]
    db.dispose()


def test_run_without_any_token_says_what_to_set(tmp_path: Path) -> None:
    import asyncio

    config = load_config(write_config(tmp_path), env={})
    with pytest.raises(ConfigError, match="TIENDO_TELEGRAM_TOKEN"):
        asyncio.run(start(config, FixedClock(hanoi(2019, 12, 2, 9, 0))))


async def test_run_serves_telegram_and_zalo_together(tmp_path: Path) -> None:
    async with FakeTelegramServer() as telegram, FakeZaloServer() as zalo:
        config_path = write_config(tmp_path, f"""
[telegram]
base_url = "{telegram.base_url}"
base_file_url = "{telegram.base_file_url}"
[zalo]
base_url = "{zalo.base_url}"
""")
        assert run_cli(config_path, "import")[0] == 0
        _, out = run_cli(config_path, "invite", "--agency", "HY-GTVT", "--count", "2", "--json")
        first, second = (row["code"] for row in json.loads(out))
        config = load_config(config_path, env={"TIENDO_TELEGRAM_TOKEN": telegram.token,
                                               "TIENDO_ZALO_TOKEN": zalo.token})
        running = await start(config, FixedClock(hanoi(2019, 12, 2, 9, 0)))
        try:
            telegram.add_user(7, "Lan")
            zalo.add_user("8", "Minh")
            await telegram.send_text(7, f"/start {first}")
            await zalo.send_text("8", second)
            assert "Xin chào" in ((await telegram.next_reply(7)).text or "")
            assert "Xin chào" in ((await zalo.next_reply("8")).text or "")
            assert running.scheduler is not None and running.telegram and running.zalo
        finally:
            await stop(running)
