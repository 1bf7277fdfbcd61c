"""What the conversations read from config.toml: the [conversation] section."""

from __future__ import annotations

from pydantic import Field

from storage.settings import Section


class ConversationSettings(Section):
    idle_minutes: int = Field(default=30, ge=1)
    max_note_chars: int = Field(default=2000, ge=100)
    max_evidence_mb: int = Field(default=20, ge=1, le=20)
    evidence_types: list[str] = [
        "image/jpeg",
        "image/png",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/msword",
        "application/vnd.ms-excel",
    ]
    page_size: int = Field(default=8, ge=3, le=20)
    join_attempts_per_hour: int = Field(default=5, ge=1)
