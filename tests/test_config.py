"""A broken config file stops with one line naming the file, the key and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import ConfigError, load_config

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_shipped_config_loads_with_defaults() -> None:
    config = load_config(REPO / "config.toml", env={})
    assert config.settings.app.timezone == "Asia/Ho_Chi_Minh"
    assert config.database_url == f"sqlite:///{REPO / 'var' / 'tiendo.sqlite3'}"
    assert config.telegram_token is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "[app]\ntimezone = 'Mars/Olympus'\n",
            "app.timezone (dòng / line 2): giá trị không hợp lệ / expected an IANA time zone",
        ),
        (
            "[reminders]\ndays_before = 'seven'\n",
            "reminders.days_before (dòng / line 2): phải là danh sách / expected a list",
        ),
        (
            "[reminders]\nescalate_after_days = 0\n",
            "reminders.escalate_after_days (dòng / line 2): giá trị không hợp lệ / expected",
        ),
        (
            "[telegram]\nmode = 'push'\n",
            "telegram.mode (dòng / line 2): phải là một trong / must be one of polling, webhook",
        ),
        (
            "[telegram]\ntokn = 'x'\n",
            "telegram.tokn (dòng / line 2): khóa không được hỗ trợ / unknown key",
        ),
        (
            "[telegrm]\nmode = 'polling'\n",
            "telegrm (dòng / line 1): mục không được hỗ trợ / unknown section",
        ),
        ("[app\n", "dòng / line 1, column 5: lỗi cú pháp TOML / TOML syntax error"),
        (
            "[telegram.webhook]\nport = 70000\n",
            "telegram.webhook.port (dòng / line 2): giá trị không hợp lệ / expected",
        ),
    ],
)
def test_config_errors_name_file_key_and_expectation(
    tmp_path: Path, body: str, expected: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert message.startswith(str(path)) and expected in message
    assert "\n" not in message


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found; pass --config PATH"):
        load_config(tmp_path / "nope.toml", env={})


def test_environment_overrides_database_and_carries_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, "[database]\nurl = 'sqlite:///db/x.sqlite3'\n")
    config = load_config(
        path, env={"TIENDO_DATABASE_URL": "postgresql://h/db", "TIENDO_TELEGRAM_TOKEN": "123:abc"}
    )
    assert config.database_url == "postgresql://h/db"
    assert config.secrets() == ["123:abc"]
    relative = load_config(path, env={})
    assert relative.database_url == f"sqlite:///{tmp_path / 'db' / 'x.sqlite3'}"


def test_cli_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[reminders]\nwork_start = 'eight'\n")
    code = main(["--config", str(path), "db", "upgrade"])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        f"{path}: reminders.work_start (dòng / line 2): giá trị không hợp lệ / expected"
        in " ".join(err.split())
    )
