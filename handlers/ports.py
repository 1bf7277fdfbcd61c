"""Ports the core and the scheduler send through; adapters implement them."""

from __future__ import annotations

import re
from typing import Any, Protocol

# What the platforms answer when a person cannot be reached on them at all (Telegram's 403s
# and "chat not found"; Zalo's equivalents): only these may mark a member unreachable.
_GONE = re.compile(r"blocked|chat not found|user not found|deactivated|kicked", re.IGNORECASE)


def says_recipient_gone(description: str) -> bool:
    """Tell whether a platform's refusal says the person cannot be reached there."""
    return _GONE.search(description) is not None


class SendError(Exception):
    """A send that failed; `transient` says whether trying again later may work (a 5xx, a
    timeout, a lost connection, a 429: the platform is having an outage); `gone` that the
    platform said the person cannot be reached there (blocked the bot, chat not found)."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        gone: bool = False,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        self.gone = gone


class Messenger(Protocol):
    """Deliver an outbox payload (text, choices, optional file) to one chat."""

    platform: str

    async def deliver(self, chat_id: str, payload: dict[str, Any]) -> None: ...
