"""The outbox's overall pace: the limit holds in every second, and late wake-ups are made up."""

from __future__ import annotations

import random
from bisect import bisect_right

from scheduler.ratelimit import Limits, PlatformLimiter


def send_for(seconds: float, oversleep_ms: float, seed: int = 7) -> list[float]:
    """Send to distinct chats as fast as the limiter allows, waking up late by up to
    `oversleep_ms` after each wait, as an event loop does; return the send times."""
    rng = random.Random(seed)
    limiter = PlatformLimiter(Limits(per_second=29, per_chat_per_second=1))
    now, sent, chat = 1000.0, [], 0
    while now < 1000.0 + seconds:
        wait = limiter.overall_wait(now)
        if wait > 0:
            # a sleep lasts at least a microsecond (and keeps float rounding from stalling)
            now += max(wait, 1e-6) + rng.uniform(0, oversleep_ms) / 1000
            continue
        chat += 1
        limiter.take(str(chat), now)
        sent.append(now)
    return sent


def busiest_second(times: list[float]) -> int:
    return max(bisect_right(times, t + 1.0 - 1e-9) - i for i, t in enumerate(times))


def test_no_second_holds_more_than_thirty_however_late_the_wake_ups() -> None:
    for oversleep in (0.0, 2.0, 8.0, 30.0):
        assert busiest_second(send_for(60, oversleep)) <= 30, oversleep


def test_a_few_milliseconds_late_still_sends_29_a_second() -> None:
    sent = send_for(60, oversleep_ms=4.0)
    rate = (len(sent) - 1) / (sent[-1] - sent[0])
    assert rate > 28.8, rate
