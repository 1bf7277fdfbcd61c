"""The store's own settings, and the base every layer's settings section is built on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A section of config.toml: unknown keys refused, values frozen once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(Section):
    url: str = "sqlite:///var/tiendo.sqlite3"
