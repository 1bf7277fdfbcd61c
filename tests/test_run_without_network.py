"""`tiendo run` with a token but no Bot API to reach: one clear line, then it waits and serves.

The command runs as a real process against a closed port; a loopback Bot API later appears
on that port.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app.runner import start
from bot.config import ConfigError, load_config
from bot.loopback.telegram_server import FakeTelegramServer
from storage.clock import FixedClock
from tests.harness import REPO, write_config

UNREACHABLE = "Không kết nối được Bot API Telegram"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Running:
    """A `tiendo run` process and everything it has written to stderr so far."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stderr: list[str] = []

    async def line_with(self, words: str, timeout: float = 60.0) -> str:
        """Read stderr until a line holds `words`."""
        assert self.process.stderr is not None
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.process.stderr.readline()
                if not raw:
                    raise AssertionError("stderr closed:\n" + "".join(self.stderr))
                self.stderr.append(raw.decode())
                if words in self.stderr[-1]:
                    return self.stderr[-1]

    async def stop(self) -> int:
        """SIGTERM, as systemd stops it; return the exit code and keep the rest of stderr."""
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            _, rest = await self.process.communicate()
        self.stderr.append(rest.decode())
        assert self.process.returncode is not None
        return self.process.returncode


@asynccontextmanager
async def tiendo_run(tmp_path: Path, port: int, token: str) -> AsyncIterator[Running]:
    config = write_config(
        tmp_path,
        f'[telegram]\nbase_url = "http://127.0.0.1:{port}/bot"\n'
        f'base_file_url = "http://127.0.0.1:{port}/file/bot"\n',
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIENDO_")}
    env["TIENDO_TELEGRAM_TOKEN"] = token
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "--config",
        str(config),
        "run",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    running = Running(process)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_no_network_says_one_line_and_serves_once_the_api_answers(tmp_path: Path) -> None:
    port = closed_port()
    server = FakeTelegramServer()
    async with tiendo_run(tmp_path, port, server.token) as run:
        line = await run.line_with(UNREACHABLE)
        assert "WARNING" in line and server.token not in line
        await asyncio.sleep(1.5)  # it keeps trying, quietly
        assert run.process.returncode is None
        await server.start(port=port)
        try:
            server.add_user(1001, "Nguyễn Thị Lan")
            await server.send_text(1001, "/trogiup")
            reply = await server.next_reply(1001, timeout=60)
            assert "mã mời" in (reply.text or "")
        finally:
            code = await run.stop()
            await server.stop()
    stderr = "".join(run.stderr)
    assert code == 0, stderr
    assert stderr.count(UNREACHABLE) == 1 and "Đã kết nối được Bot API" in stderr
    assert "Traceback" not in stderr and server.token not in stderr


async def test_sigterm_while_waiting_for_the_api_stops_at_once(tmp_path: Path) -> None:
    server = FakeTelegramServer()
    async with tiendo_run(tmp_path, closed_port(), server.token) as run:
        await run.line_with(UNREACHABLE)
        code = await run.stop()
    stderr = "".join(run.stderr)
    assert code == 0 and "Traceback" not in stderr and server.token not in stderr


async def test_a_refused_token_ends_with_one_line_naming_the_variable(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with FakeTelegramServer() as server:
        settings = f'[telegram]\nbase_url = "{server.base_url}"\n'
        config = load_config(
            write_config(tmp_path, settings), env={"TIENDO_TELEGRAM_TOKEN": "123:not-this-one"}
        )
        with pytest.raises(
            ConfigError, match="từ chối token; đề nghị kiểm tra TIENDO_TELEGRAM_TOKEN"
        ) as caught:
            await start(config, clock)
    assert "not-this-one" not in str(caught.value)
