"""Ports the core and the scheduler send through; adapters implement them."""

from __future__ import annotations

from typing import Any, Protocol


class SendError(Exception):
    """A send that failed; `transient` says whether trying again later may work."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


class Messenger(Protocol):
    """Deliver an outbox payload (text, choices, optional file) to one chat."""

    platform: str

    async def deliver(self, chat_id: str, payload: dict[str, Any]) -> None: ...
