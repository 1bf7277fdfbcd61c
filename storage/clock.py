"""One clock for the whole app, so tests and the demo can travel in time."""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tell the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


class SimulatedClock:
    """Start at a chosen moment and run `speed` times faster than real time (trials, demo)."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self._start = start.astimezone(UTC)
        self._speed = speed
        self._origin = _time.monotonic()

    def now(self) -> datetime:
        elapsed = (_time.monotonic() - self._origin) * self._speed
        return self._start + timedelta(seconds=elapsed)
