"""Read config.toml and the environment, and compose each layer's own settings from them.

Each layer owns the sections it reads (storage.settings, handlers.settings,
scheduler.settings); this module only reads the file, checks it in one clear line per mistake,
and hands every layer its part.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from handlers.settings import ConversationSettings
from scheduler.settings import DigestSettings, ReminderSettings, SchedulerSettings
from storage.settings import DatabaseSettings, Section
from storage.tomlfile import TomlFile, TomlFileError
from storage.worktime import WorkCalendar

DEFAULT_CONFIG = Path("config.toml")


class ConfigError(TomlFileError):
    """A config file that cannot be used; the message names file, key and what is expected."""


class AppSettings(Section):
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"
    programme: str = "programmes/ha-noi-hung-yen-2019.toml"
    data_dir: str = "var"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"an IANA time zone such as Asia/Ho_Chi_Minh, got {value!r}") from exc
        return value


class WebhookSettings(Section):
    listen: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    url: str = ""
    path: str = "/telegram"


class TelegramSettings(Section):
    mode: Literal["polling", "webhook"] = "polling"
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str = "tiendo_bot"
    messages_per_second: float = Field(default=29.0, gt=0)
    messages_per_chat_per_second: float = Field(default=1.0, gt=0)
    messages_per_group_per_minute: float = Field(default=20.0, gt=0)
    webhook: WebhookSettings = WebhookSettings()


class ZaloSettings(Section):
    mode: Literal["polling", "webhook"] = "polling"
    base_url: str = "https://bot-api.zaloplatforms.com"
    messages_per_second: float = Field(default=10.0, gt=0)
    messages_per_chat_per_second: float = Field(default=1.0, gt=0)
    webhook: WebhookSettings = WebhookSettings(port=8444, path="/zalo/webhook")


class Settings(Section):
    app: AppSettings = AppSettings()
    database: DatabaseSettings = DatabaseSettings()
    telegram: TelegramSettings = TelegramSettings()
    zalo: ZaloSettings = ZaloSettings()
    conversation: ConversationSettings = ConversationSettings()
    reminders: ReminderSettings = ReminderSettings()
    digests: DigestSettings = DigestSettings()


class Config:
    """Settings plus the secrets and paths that come from outside the file."""

    def __init__(self, settings: Settings, path: Path, env: dict[str, str]) -> None:
        self.settings = settings
        self.path = path
        self.base_dir = path.parent.resolve()
        self.telegram_token = env.get("TIENDO_TELEGRAM_TOKEN") or None
        self.zalo_token = env.get("TIENDO_ZALO_TOKEN") or None
        self.telegram_webhook_secret = env.get("TIENDO_TELEGRAM_WEBHOOK_SECRET") or None
        self.zalo_webhook_secret = env.get("TIENDO_ZALO_WEBHOOK_SECRET") or None
        self.database_url = env.get("TIENDO_DATABASE_URL") or self._sqlite_relative(
            settings.database.url
        )

    def resolve(self, relative: str) -> Path:
        """Resolve a path from the config file relative to the file's folder."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.settings.app.data_dir)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.app.timezone)

    def calendar(self) -> WorkCalendar:
        """The working calendar: [reminders] hours and extra days, in the deployment's zone."""
        reminders = self.settings.reminders
        return WorkCalendar(
            self.tz,
            reminders.work_start,
            reminders.work_end,
            reminders.extra_holidays,
            reminders.extra_workdays,
        )

    def scheduler_settings(self) -> SchedulerSettings:
        """The scheduler's part of the file, with the time zone and data folder it needs."""
        return SchedulerSettings(
            tz=self.tz,
            data_dir=self.data_dir,
            reminders=self.settings.reminders,
            digests=self.settings.digests,
            idle_minutes=self.settings.conversation.idle_minutes,
        )

    def secrets(self) -> list[str]:
        """Every secret this process knows, for redaction."""
        found = [
            self.telegram_token,
            self.zalo_token,
            self.telegram_webhook_secret,
            self.zalo_webhook_secret,
        ]
        return [s for s in found if s]

    def _sqlite_relative(self, url: str) -> str:
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.resolve(url[len(prefix) :]))
        return url


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Load and validate a config file; raise ConfigError with one line on any problem."""
    env = dict(os.environ) if env is None else env
    path = path or Path(env.get("TIENDO_CONFIG", str(DEFAULT_CONFIG)))
    source = TomlFile.read(path, missing="pass --config PATH or create it", error_type=ConfigError)
    return Config(source.validate(Settings), path, env)
