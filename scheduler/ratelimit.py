"""Token buckets for the platforms' sending limits (overall, per chat, per group)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Bucket:
    """Allow `rate` events per second with bursts up to `burst`."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds until one event may pass (0 if now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def _refill(self, now: float) -> None:
        if self.tokens < 0 and self.stamp == 0.0:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now


@dataclass
class Limits:
    per_second: float
    per_chat_per_second: float
    per_group_per_minute: float = 20.0


@dataclass
class PlatformLimiter:
    """Decide when the next message to a chat may go out without breaking the limits."""

    limits: Limits
    overall: Bucket = field(init=False)
    chats: dict[str, Bucket] = field(default_factory=dict)
    paused_until: float = 0.0

    def __post_init__(self) -> None:
        # Telegram counts per second. A quarter token over one lets a send that a late wake-up
        # delayed be made up (with a bucket of exactly one, every millisecond the event loop
        # oversleeps is lost: 29/s became 27.9–28.3/s), while no one-second window ever holds
        # more than burst + rate sends: at the default 29/s, 1.25 + 29, i.e. 30 at most.
        self.overall = Bucket(self.limits.per_second, 1.25)

    def _chat(self, chat_id: str) -> Bucket:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            group = chat_id.startswith("-")
            rate = (
                self.limits.per_group_per_minute / 60 if group else self.limits.per_chat_per_second
            )
            bucket = self.chats[chat_id] = Bucket(rate, 1.0)
        return bucket

    def chat_wait(self, chat_id: str, now: float) -> float:
        """Seconds before this chat may receive another message."""
        return self._chat(chat_id).wait(now)

    def overall_wait(self, now: float) -> float:
        """Seconds before any message may go (overall rate, or a 429 pause)."""
        return max(self.paused_until - now, self.overall.wait(now), 0.0)

    def take(self, chat_id: str, now: float) -> None:
        self.overall.take(now)
        self._chat(chat_id).take(now)

    def pause(self, seconds: float, now: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)
