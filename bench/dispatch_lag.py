"""Measure how long the outbox dispatcher holds the event loop that answers officials.

    python bench/dispatch_lag.py                 # drain 1,000 rows as fast as the store allows
    python bench/dispatch_lag.py --rate 29       # at Telegram's pace (about 35 s)
    python bench/dispatch_lag.py --database-url postgresql://…   # on PostgreSQL (own schema)

The bot answers officials on one asyncio event loop, and the dispatcher drains the outbox on
the same loop. Every database call it makes there (pick the due rows, mark a row `sending`,
mark it `sent`) stops the loop for as long as it takes. This bench fills a fresh store (SQLite, or a
schema of its own on PostgreSQL) with one due reminder per member (as `bench/fanout.py` does), drains it with the real
`Dispatcher` through a messenger that answers at once (so what is measured is the
dispatcher's own work, not a Bot API's), and meanwhile a probe asks the loop to wake it every
millisecond. How late it wakes is the loop lag: how long an official's update would have
waited for the loop at that moment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine  # noqa: E402

from bench.fanout import fill_store  # noqa: E402
from bench.pgschema import private_schema  # noqa: E402
from scheduler.dispatcher import Dispatcher  # noqa: E402
from scheduler.ratelimit import Limits  # noqa: E402
from storage.clock import SystemClock  # noqa: E402
from storage.db import make_engine  # noqa: E402

PROBE_SECONDS = 0.001


class InstantMessenger:
    """A messenger whose Bot API answers at once: only the dispatcher's own work remains."""

    platform = "telegram"

    def __init__(self) -> None:
        self.delivered = 0

    async def deliver(self, chat_id: str, payload: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        self.delivered += 1


@dataclass
class LagFigures:
    """What one drain measured."""

    rows: int
    rate: float
    database: str
    elapsed: float = 0.0
    delivered: int = 0
    lags: list[float] = field(default_factory=list)  # seconds late, one per probe wake-up

    def lag_ms(self, quantile: float) -> float:
        ordered = sorted(self.lags)
        return 1000 * ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


async def _probe(stop: asyncio.Event, lags: list[float]) -> None:
    """Ask to be woken every millisecond; record how late each wake-up came."""
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(PROBE_SECONDS)
        lags.append(max(0.0, time.perf_counter() - asked - PROBE_SECONDS))


@contextmanager
def empty_database(url: str | None) -> Iterator[Engine]:
    """A fresh SQLite file, or a PostgreSQL schema of its own dropped afterwards."""
    if url is not None:
        with private_schema(url, "bench_lag") as engine:
            yield engine
        return
    with tempfile.TemporaryDirectory(prefix="tiendo-lag-") as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'lag.sqlite3'}")
        try:
            yield engine
        finally:
            engine.dispose()


async def measure(rows: int = 1000, rate: float = 100_000.0, url: str | None = None) -> LagFigures:
    """Drain `rows` due outbox rows while probing the loop; return the figures."""
    with empty_database(url) as engine:
        figures = LagFigures(rows, rate, engine.dialect.name)
        db = fill_store(engine, rows, datetime.now(UTC))
        messenger = InstantMessenger()
        dispatcher = Dispatcher(
            db, SystemClock(), {"telegram": messenger}, {"telegram": Limits(rate, rate)}
        )
        stop = asyncio.Event()
        probe = asyncio.create_task(_probe(stop, figures.lags))
        await asyncio.sleep(0.05)  # the probe's own baseline first
        started = time.perf_counter()
        try:
            await dispatcher.drain(max_seconds=rows / min(rate, 1000.0) * 3 + 60)
        finally:
            figures.elapsed = time.perf_counter() - started
            stop.set()
            await probe
        figures.delivered = messenger.delivered
    return figures


def render(figures: LagFigures) -> str:
    """The report, one figure per line."""
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    pace = "as fast as the store allows" if figures.rate >= 10_000 else f"{figures.rate:g}/s"
    return "\n".join(
        [
            f"Event loop lag while the dispatcher drains the outbox on {figures.database} "
            f"({datetime.now():%Y-%m-%d %H:%M}, load {load})",
            f"rows {figures.rows} · pace {pace} · delivered {figures.delivered} in "
            f"{figures.elapsed:.1f} s ({figures.delivered / figures.elapsed:.0f} messages/s)",
            f"loop lag p50 {figures.lag_ms(0.5):.2f} ms · p99 {figures.lag_ms(0.99):.2f} ms · "
            f"max {1000 * max(figures.lags, default=0.0):.1f} ms · "
            f"mean {1000 * statistics.fmean(figures.lags or [0.0]):.2f} ms "
            f"({len(figures.lags)} wake-ups asked every {1000 * PROBE_SECONDS:g} ms)",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Run the drain, print its figures; exit 1 if a row was not delivered."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument(
        "--rate", type=float, default=100_000.0, help="dispatcher messages/s (default: no limit)"
    )
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (default: a fresh SQLite file)"
    )
    args = parser.parse_args(argv)
    figures = asyncio.run(measure(args.rows, args.rate, args.database_url))
    print(render(figures), flush=True)
    return 0 if figures.delivered == figures.rows else 1


if __name__ == "__main__":
    sys.exit(main())
