"""The commands a coordinating office types: invite, revoke, chat; and `tiendo run` itself."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.runner import start, stop
from bot.config import ConfigError, load_config
from bot.loopback.telegram_server import FakeTelegramServer
from bot.loopback.zalo_server import FakeZaloServer
from storage.clock import FixedClock, SystemClock
from storage.db import Database
from storage.models import Absence, Agency, Member, Report
from storage.outbox import Message, enqueue
from tests.conftest import hanoi
from tests.harness import REPO, run_cli, write_config


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
    _, out = run_cli(
        config, "invite", "--agency", "HY-GTVT", "--name", "Lan", "--json", clock=SystemClock()
    )
    invite = json.loads(out)[0]["code"]
    typed = "/cuatoi\n2.5 60% đã khảo sát\n1\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "chat", "--invite", invite],
        input=typed,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "Xin chào Lan" in done.stdout and "Kiểm tra lại báo cáo" in done.stdout
    assert "1. ✅ Gửi báo cáo" in done.stdout and "Đã ghi nhận" in done.stdout
    db = Database.open(load_config(config).database_url)
    with db.unit_of_work() as session:
        assert [(r.percent, r.channel) for r in session.scalars(select(Report))] == [(60, "cli")]
    db.dispose()


def test_run_without_any_token_says_what_to_set(tmp_path: Path, clock: FixedClock) -> None:
    config = load_config(write_config(tmp_path), env={})
    with pytest.raises(ConfigError, match="TIENDO_TELEGRAM_TOKEN"):
        asyncio.run(start(config, clock))


async def test_run_serves_telegram_and_zalo_together(tmp_path: Path, clock: FixedClock) -> None:
    async with FakeTelegramServer() as telegram, FakeZaloServer() as zalo:
        config_path = write_config(
            tmp_path,
            f"""
[telegram]
base_url = "{telegram.base_url}"
base_file_url = "{telegram.base_file_url}"
[zalo]
base_url = "{zalo.base_url}"
""",
        )
        assert run_cli(config_path, "import")[0] == 0
        _, out = run_cli(config_path, "invite", "--agency", "HY-GTVT", "--count", "2", "--json")
        first, second = (row["code"] for row in json.loads(out))
        config = load_config(
            config_path,
            env={"TIENDO_TELEGRAM_TOKEN": telegram.token, "TIENDO_ZALO_TOKEN": zalo.token},
        )
        running = await start(config, clock)
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


def test_coordinator_sets_an_absence_for_someone(tmp_path: Path, clock: FixedClock) -> None:
    config = write_config(tmp_path)
    assert run_cli(config, "import")[0] == 0
    db = Database.open(load_config(config).database_url)
    with db.unit_of_work() as session:
        agency = session.scalars(select(Agency).where(Agency.code == "HY-GTVT")).one()
        away, stand_in = (
            Member(agency_id=agency.id, name=name, created_at=clock.now())
            for name in ("Lan", "Bình")
        )
        session.add_all([away, stand_in])
        session.flush()
        ids = (away.id, stand_in.id)
    code, out = run_cli(
        config, "member", "absence", str(ids[0]), "--stand-in", str(ids[1]), "--days", "3"
    )
    assert code == 0 and "Đã đặt vắng mặt 3 ngày cho thành viên số" in out
    assert run_cli(config, "member", "absence", str(ids[0]), "--stand-in", str(ids[0]))[0] == 2
    with db.unit_of_work() as session:
        absence = session.scalars(select(Absence)).one()
        assert (absence.member_id, absence.stand_in_id) == ids
        assert absence.ends_on.isoformat() == "2019-12-04"
    db.dispose()


async def test_zalo_webhook_commands_set_show_and_delete(tmp_path: Path) -> None:
    async with FakeZaloServer() as zalo:
        config = write_config(
            tmp_path,
            f"""
[zalo]
base_url = "{zalo.base_url}"
[zalo.webhook]
url = "https://bot.example.vn/zalo/webhook"
""",
        )
        env = {"TIENDO_ZALO_TOKEN": zalo.token, "TIENDO_ZALO_WEBHOOK_SECRET": "secret-12345"}

        def cli(*args: str) -> tuple[int, str]:
            old = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                return run_cli(config, "zalo", "webhook", *args)
            finally:
                for key, value in old.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value

        code, _ = await asyncio.to_thread(cli, "set")
        assert code == 0
        assert zalo.webhook is not None and zalo.webhook["secret_token"] == "secret-12345"
        code, out = await asyncio.to_thread(cli, "info")
        assert code == 0 and "https://bot.example.vn/zalo/webhook" in out
        assert (await asyncio.to_thread(cli, "delete"))[0] == 0
        assert zalo.webhook is None


def test_status_says_what_needs_attention(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    code, out = run_cli(config, "status")
    assert code == 1 and "⚠ Chưa nhập chương trình nào: chạy tiendo import." in out
    assert run_cli(config, "import")[0] == 0
    code, out = run_cli(config, "status")
    assert code == 0 and "Chương trình: 1" in out and "Bot: chưa chạy" in out
    db = Database.open(load_config(config).database_url)
    an_hour_ago = hanoi(2019, 12, 2, 8, 0)
    with db.unit_of_work() as session:
        agency = session.scalars(select(Agency).where(Agency.code == "HY-GTVT")).one()
        member = Member(
            agency_id=agency.id, name="Lan", created_at=an_hour_ago, unreachable_at=an_hour_ago
        )
        session.add(member)
        session.flush()
        enqueue(
            session,
            key="k",
            member=member,
            reason="reminder",
            message=Message("x"),
            due_at=an_hour_ago - timedelta(minutes=5),
            now=an_hour_ago,
        )
    db.dispose()
    code, out = run_cli(config, "status", "--json")
    report = json.loads(out)
    assert code == 1 and report["members_unreachable"] == 1
    problems = {p["code"]: p for p in report["problems"]}
    assert problems["outbox_undelivered"]["values"] == {"failed": 0, "unreachable": 1}
    assert problems["members_unreachable"]["values"] == {"count": 1}
    assert "1 thành viên không liên lạc được" in problems["members_unreachable"]["text"]


def test_the_command_line_speaks_the_configured_language(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra="")
    english = tmp_path / "en.toml"
    english.write_text(config.read_text().replace("[app]", '[app]\nlanguage = "en"'))
    code, out = run_cli(english, "status")
    assert code == 1 and "⚠ No programme imported: run tiendo import." in out
    assert "Database:" in out and "Cơ sở dữ liệu" not in out
    assert run_cli(english, "import")[0] == 0
    code, out = run_cli(english, "invite", "--agency", "HY-GTVT")
    assert code == 0 and "Invite codes" in out and "departmental official" in out
    code, out = run_cli(config, "invite", "--agency", "HY-GTVT")
    assert code == 0 and "Mã mời" in out and "chuyên viên" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("summary", "--at", "2019-13-01"), "--at: không đọc được ngày “2019-13-01”"),
        (("reminders", "--at", "27-01-2020 9h"), "--at: không đọc được thời điểm"),
        (("invite", "--agency", "HY-GTVT", "--expires", "7 ngày"), "--expires: không đọc được"),
        (("invite", "--agency", "HY-GTVT", "--count", "0"), "--count: “0” không phải số nguyên"),
        (("run", "--clock", "2019-12-30", "--speed", "nhanh"), "--speed: “nhanh” không phải số"),
    ],
)
def test_a_bad_value_gets_one_line_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    config = write_config(tmp_path)
    code, out = run_cli(config, *args)
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert expected in err and len(err.strip().splitlines()) == 1, err
    assert "usage:" not in err and "Traceback" not in err
