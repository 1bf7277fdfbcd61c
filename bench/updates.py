"""Measure how many Telegram updates the real bot handles, and how fast it answers.

    python bench/updates.py              # 100 officials × 5 report flows, then a paced run
    python bench/updates.py --small      # 10 officials × 2 flows, for a quick look
    python bench/updates.py --profile    # also print where the flat-out run spends its time

Simulated officials join with an invite, then report through the loopback Bot API against
the real TelegramBot + ConversationService on SQLite, mixing button flows (/baocao → item →
status → typed percent → typed note → “Tiếp tục” → “Gửi báo cáo”) and quick reports
(“2.5 60% ghi chú” → “Gửi báo cáo”). Two runs:

- flat out: every official sends the next update as soon as the previous one is answered,
  which gives the capacity (updates/s, reports/s) and the latency under saturation;
- paced: every official pauses a random 0–2×`--think` seconds before each step, as people
  on phones do, which gives the latency 100 concurrent officials actually see.

Then a bare python-telegram-bot echo bot runs on a fresh server of the same kind, for the
ceiling. After each run the store must hold exactly one report per completed flow.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench.echo import ECHO_USER_BASE, echo_ceiling, polling  # noqa: E402
from bot.app.runner import freeze_startup_objects  # noqa: E402
from bot.loopback.stage import Stage  # noqa: E402
from bot.loopback.telegram_server import FakeTelegramServer, SentMessage  # noqa: E402
from handlers.events import Inbound  # noqa: E402
from storage.aggregate.states import assignment_states  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Identity, Report  # noqa: E402
from tests.harness import build_template, copy_database  # noqa: E402

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2019, 12, 2, 9, 0, tzinfo=HANOI)  # a Monday, mid-phase
TARGET_RATIO = 0.5
TARGET_P99_MS = 100.0
STEP_TIMEOUT = 60.0
THANKS = "Đã ghi nhận báo cáo"


def per(amount: float, base: float) -> float:
    """amount ÷ base, with an empty base counting as a tiny one (a run too short to time)."""
    return amount / max(base, 1e-9)


class FlowError(Exception):
    """A step did not get the answer a person would expect."""


@dataclass
class Official:
    """One simulated person: their Telegram id, agency and the item codes they report on."""

    uid: int
    name: str
    agency: str
    codes: list[str]


@dataclass
class RunFigures:
    """What one run measured."""

    label: str
    officials: int
    updates: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, one per update
    completed: Counter[int] = field(default_factory=Counter)  # uid → completed flows
    button_flows: int = 0
    quick_flows: int = 0
    errors: list[str] = field(default_factory=list)
    stored: int = 0
    lost: int = 0
    duplicates: int = 0

    @property
    def flows(self) -> int:
        return sum(self.completed.values())

    @property
    def updates_per_second(self) -> float:
        return per(self.updates, self.elapsed)

    @property
    def reports_per_second(self) -> float:
        return per(self.flows, self.elapsed)

    def percentile_ms(self, share: float) -> float:
        """Latency below which `share` of the updates were answered, in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
        return ordered[index] * 1000


@dataclass
class Figures:
    """Everything the bench prints."""

    flat: RunFigures
    paced: RunFigures | None
    echo_per_second: float
    think: float
    profile: str = ""
    echo_runs: tuple[float, float] = (0.0, 0.0)  # before and after the bot's runs
    same_calls_per_second: float = 0.0  # the bot's Bot API calls with no store
    echo_on_aiohttp: float = 0.0  # the echo bot on the bot's own networking backend

    @property
    def ratio(self) -> float:
        return per(self.flat.updates_per_second, self.echo_per_second)

    @property
    def same_calls_ratio(self) -> float:
        return per(self.same_calls_per_second, self.echo_per_second)

    @property
    def lost(self) -> int:
        return self.flat.lost + (self.paced.lost if self.paced else 0)

    @property
    def duplicates(self) -> int:
        return self.flat.duplicates + (self.paced.duplicates if self.paced else 0)

    @property
    def latency_run(self) -> RunFigures:
        return self.paced or self.flat


class Driver:
    """Play officials against the stage's bot, timing each update to its last reply."""

    def __init__(self, stage: Stage) -> None:
        assert stage.telegram is not None and stage.telegram_server is not None
        self.stage = stage
        self.server: FakeTelegramServer = stage.telegram_server
        self._waiting: dict[str, asyncio.Future[float]] = {}
        stage.telegram.on_handled = self._handled  # one future per person, no broadcast

    def _handled(self, event: Inbound) -> None:
        waiter = self._waiting.pop(event.user_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(time.monotonic())

    async def _act(
        self, official: Official, send: Callable[[], Awaitable[int]], run: RunFigures
    ) -> list[SentMessage]:
        """Send one update, wait until the bot has handled it; return its replies."""
        before = len(self.server.messages_to(official.uid))
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[str(official.uid)] = waiter
        started = time.monotonic()
        await send()
        try:
            handled_at = await asyncio.wait_for(waiter, STEP_TIMEOUT)
        except TimeoutError:
            self._waiting.pop(str(official.uid), None)
            raise FlowError(f"{official.name}: no answer in {STEP_TIMEOUT:g}s") from None
        replies = self.server.messages_to(official.uid)[before:]
        last = max((m.at for m in replies), default=handled_at)
        run.updates += 1
        run.latencies.append(last - started)
        return replies

    async def say(self, official: Official, text: str, run: RunFigures) -> list[SentMessage]:
        return await self._act(official, lambda: self.server.send_text(official.uid, text), run)

    async def press(
        self, official: Official, message: SentMessage, data: str, run: RunFigures
    ) -> list[SentMessage]:
        return await self._act(
            official, lambda: self.server.click(official.uid, message.message_id, data), run
        )

    async def tap(
        self, official: Official, replies: list[SentMessage], label: str, run: RunFigures
    ) -> list[SentMessage]:
        """Press the button whose label contains `label` on the newest message offering it."""
        for message in reversed(replies):
            for shown, data in message.buttons():
                if label in shown:
                    return await self.press(official, message, data, run)
        raise FlowError(f"{official.name}: no button {label!r} in {_texts(replies)!r}")


def _texts(replies: list[SentMessage]) -> str:
    return "\n".join(m.text or "" for m in replies)


def _expect(official: Official, replies: list[SentMessage], words: str) -> list[SentMessage]:
    if words not in _texts(replies):
        raise FlowError(f"{official.name}: expected {words!r}, got {_texts(replies)!r}")
    return replies


class Player:
    """One official's report flows, with optional pauses between steps."""

    def __init__(
        self, driver: Driver, official: Official, run: RunFigures, think: float, rng: random.Random
    ) -> None:
        self.driver, self.official, self.run = driver, official, run
        self.think, self.rng = think, rng

    async def _pause(self) -> None:
        if self.think > 0:
            await asyncio.sleep(self.rng.uniform(0, 2 * self.think))

    async def say(self, text: str) -> list[SentMessage]:
        await self._pause()
        return await self.driver.say(self.official, text, self.run)

    async def tap(self, replies: list[SentMessage], label: str) -> list[SentMessage]:
        await self._pause()
        return await self.driver.tap(self.official, replies, label, self.run)

    async def button_flow(self) -> None:
        """/baocao → item → status → percent → note → “Tiếp tục” → “Gửi báo cáo”."""
        me = self.official
        listing = _expect(me, await self.say("/baocao"), "Chọn nội dung cần báo cáo")
        menu = listing[-1]
        items = [(label, data) for label, data in menu.buttons() if ".i:" in data]
        if not items:
            raise FlowError(f"{me.name}: no item in the menu {_texts(listing)!r}")
        _, data = self.rng.choice(items)
        await self._pause()
        asked = _expect(
            me, await self.driver.press(me, menu, data, self.run), "Tình trạng thực hiện?"
        )
        asked = _expect(me, await self.tap(asked, "Đang thực hiện"), "bao nhiêu phần trăm")
        _expect(me, await self.say(str(self.rng.randrange(10, 95, 5))), "Ghi chú")
        evidence = _expect(
            me, await self.say("Đã họp triển khai với các phòng chuyên môn"), "minh chứng"
        )
        summary = _expect(me, await self.tap(evidence, "Tiếp tục"), "Kiểm tra lại báo cáo")
        _expect(me, await self.tap(summary, "Gửi báo cáo"), THANKS)
        self.run.button_flows += 1

    async def quick_flow(self) -> None:
        """“2.5 60% ghi chú” → “Gửi báo cáo”."""
        me = self.official
        code = self.rng.choice(me.codes)
        percent = self.rng.randrange(10, 95, 5)
        summary = _expect(
            me,
            await self.say(f"{code} {percent}% đã khảo sát xong một phần"),
            "Kiểm tra lại báo cáo",
        )
        _expect(me, await self.tap(summary, "Gửi báo cáo"), THANKS)
        self.run.quick_flows += 1

    async def play(self, flows: int, first: int) -> None:
        """Do `flows` report flows, alternating kinds; a failed flow is cancelled and noted."""
        for number in range(flows):
            quick = (first + number) % 2 == 1
            try:
                await (self.quick_flow() if quick else self.button_flow())
            except FlowError as error:
                self.run.errors.append(str(error))
                await self.driver.say(self.official, "/huy", self.run)
                continue
            self.run.completed[self.official.uid] += 1


def agency_codes(db: Database, today: date) -> dict[str, list[str]]:
    """Each agency with assignments, and the item codes it reports on."""
    with db.unit_of_work() as session:
        states = assignment_states(session, today)
    codes: dict[str, list[str]] = {}
    for state in states:
        codes.setdefault(state.agency_code, []).append(state.item_code)
    return dict(sorted(codes.items()))


async def enrol(
    stage: Stage, driver: Driver, count: int, agencies: dict[str, list[str]], prefix: str
) -> list[Official]:
    """Invite and join `count` officials, spread over the agencies with assignments."""
    names = list(agencies)
    officials = []
    for n in range(count):
        agency = names[n % len(names)]
        name = f"{prefix} {n + 1:03d}"
        person = stage.person(name)
        officials.append(Official(int(person.id), name, agency, agencies[agency]))
    scratch = RunFigures("join", count)

    async def join(official: Official) -> None:
        code = stage.invite(official.agency, name=official.name)
        _expect(official, await driver.say(official, f"/start {code}", scratch), "Xin chào")

    await asyncio.gather(*(join(o) for o in officials))
    return officials


def reports_by_person(db: Database) -> Counter[int]:
    """Telegram user id → reports stored for the member linked to it."""
    with db.unit_of_work() as session:
        rows = session.execute(
            select(Identity.external_id, func.count(Report.id))
            .join(Report, Report.member_id == Identity.member_id)
            .where(Identity.platform == "telegram")
            .group_by(Identity.external_id)
        )
        return Counter({int(uid): count for uid, count in rows})


async def play_run(
    stage: Stage,
    driver: Driver,
    run: RunFigures,
    officials: list[Official],
    flows: int,
    think: float,
    seed: int,
) -> None:
    """Play every official's flows at once; then check the store against what completed."""
    before = reports_by_person(stage.db)
    players = [
        Player(driver, o, run, think, random.Random(seed * 100_003 + o.uid)) for o in officials
    ]
    started = time.perf_counter()
    await asyncio.gather(*(p.play(flows, n) for n, p in enumerate(players)))
    run.elapsed = time.perf_counter() - started
    after = reports_by_person(stage.db)
    for official in officials:
        stored = after[official.uid] - before[official.uid]
        expected = run.completed[official.uid]
        run.stored += stored
        run.lost += max(0, expected - stored)
        run.duplicates += max(0, stored - expected)


async def measure(
    officials: int = 100,
    flows: int = 5,
    think: float = 1.0,
    echo_messages: int = 20,
    seed: int = 1,
    profile: bool = False,
    folder: Path | None = None,
) -> Figures:
    """Run the echo ceiling and the same-calls bot, the flat-out run, the paced run (unless
    think is 0), then echo again, and once more on aiohttp."""
    before = await _echo(officials, echo_messages)
    same_calls = await same_calls_ceiling(officials, max(2, echo_messages // 2))
    with tempfile.TemporaryDirectory(prefix="tiendo-bench-") as scratch:
        base = folder or Path(scratch)
        clock = FixedClock(START)
        template = build_template(base, clock)
        db = copy_database(template, base)
        agencies = agency_codes(db, START.date())
        flat = RunFigures("flat out", officials)
        paced = RunFigures("paced", officials) if think > 0 else None
        profiler = cProfile.Profile() if profile else None
        try:
            async with Stage(db, clock, base, telegram=True, zalo=False) as stage:
                freeze_startup_objects()  # as `tiendo run` does once started
                driver = Driver(stage)
                people = await enrol(stage, driver, officials, agencies, "Cán bộ")
                if profiler is not None:
                    profiler.enable()
                await play_run(stage, driver, flat, people, flows, 0.0, seed)
                if profiler is not None:
                    profiler.disable()
                if paced is not None:
                    await play_run(stage, driver, paced, people, flows, think, seed + 1)
        finally:
            db.dispose()
    after = await _echo(officials, echo_messages)
    on_aiohttp = await _echo(officials, echo_messages, on_aiohttp=True)
    return Figures(
        flat,
        paced,
        max(before, after),
        think,
        _profile_text(profiler) if profiler else "",
        (before, after),
        same_calls,
        on_aiohttp,
    )


async def _echo(users: int, messages: int, on_aiohttp: bool = False) -> float:
    """The bare echo bot's updates per second, on a fresh server of the same kind.

    By default PTB's own networking (httpx), as the target defines it; `on_aiohttp` puts it on
    the bot's backend instead, to show how much of the bot's margin that backend gives.
    """
    from bot.telegram.request import AiohttpRequest

    requests = (AiohttpRequest(8), AiohttpRequest(2)) if on_aiohttp else None
    async with FakeTelegramServer() as server:
        return await echo_ceiling(server, users, messages, requests)


async def same_calls_ceiling(users: int, rounds: int) -> float:
    """Updates/s of a PTB bot with no store that makes the bot's Bot API calls.

    Like the real bot it runs 32 updates at once on the aiohttp backend; per update it answers
    a tap, then sends a report-sized text with a percent keyboard. Officials alternate typing
    and tapping, each waiting for the answer, as in the flat-out run. The gap between this
    and the echo bot is what the calls cost; the gap to the real bot is what storing costs.
    """
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler

    from bot.telegram.request import AiohttpRequest

    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(f"{n}%", callback_data=f"ab12.p:{n}") for n in row]
            for row in ((0, 25, 50), (75, 100))
        ]
    )
    text = (
        "Kiểm tra lại báo cáo\n2.5 · Khảo sát, điều chỉnh mạng lưới xe buýt kết nối "
        "Hà Nội – Hưng Yên\nTình trạng: Đang thực hiện · 60%\nGhi chú: đã khảo sát"
    )

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer()
        if update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)

    async with FakeTelegramServer() as server:
        app = (
            ApplicationBuilder()
            .token(server.token)
            .base_url(server.base_url)
            .request(AiohttpRequest(36))
            .get_updates_request(AiohttpRequest(2))
            .concurrent_updates(32)
            .build()
        )
        app.add_handler(TypeHandler(Update, answer))
        ids = [ECHO_USER_BASE + n for n in range(users)]
        for user_id in ids:
            server.add_user(user_id, "Cán bộ")

        async def play(user_id: int) -> None:
            shown = None
            for round_no in range(rounds):
                if shown is None or round_no % 2 == 0:
                    await server.send_text(user_id, "2.5 60% đã khảo sát xong")
                else:
                    await server.click(user_id, shown.message_id, shown.buttons()[2][1])
                shown = await server.next_reply(user_id, timeout=STEP_TIMEOUT)

        async with polling(app):
            started = time.perf_counter()
            await asyncio.gather(*(play(user_id) for user_id in ids))
            elapsed = time.perf_counter() - started
    return per(users * rounds, elapsed)


def _profile_text(profiler: cProfile.Profile, lines: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


def _run_line(run: RunFigures) -> str:
    return (
        f"{run.label:<9} {run.updates} updates in {run.elapsed:.1f} s · "
        f"updates/s {run.updates_per_second:.0f} · reports/s {run.reports_per_second:.1f} · "
        f"latency p50 {run.percentile_ms(0.5):.0f} ms, p99 {run.percentile_ms(0.99):.0f} ms"
    )


def render(figures: Figures) -> str:
    """The report, one figure per line, with each target's verdict."""
    flat, latency = figures.flat, figures.latency_run
    ratio_ok = figures.ratio >= TARGET_RATIO
    p99 = latency.percentile_ms(0.99)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "Telegram updates through the loopback Bot API, real bot on SQLite "
        f"({datetime.now():%Y-%m-%d %H:%M}, load {load})",
        f"officials {flat.officials} · report flows {flat.flows} "
        f"(buttons {flat.button_flows}, quick {flat.quick_flows}) per run",
        _run_line(flat),
    ]
    if flat.updates:
        lines.append(
            f"          (flat out, the latency is mostly queueing: {flat.officials} "
            f"updates in flight ÷ {flat.updates_per_second:.0f} updates/s = "
            f"{1000 * flat.officials / flat.updates_per_second:.0f} ms on average)"
        )
    if figures.paced is not None:
        lines.append(
            _run_line(figures.paced) + f" (pauses 0–{2 * figures.think:g} s between steps)"
        )
    lines += [
        f"echo bot (bare python-telegram-bot, same server kind): updates/s "
        f"{figures.echo_per_second:.0f} (best of {figures.echo_runs[0]:.0f} before, "
        f"{figures.echo_runs[1]:.0f} after)",
        f"same Bot API calls, no store (answer each tap, reply with a keyboard; PTB on aiohttp, "
        f"32 in flight): updates/s {figures.same_calls_per_second:.0f} = "
        f"{figures.same_calls_ratio:.2f}× the echo bot",
        "          (the ceiling for any bot with these conversations, before it stores anything)",
        f"ratio {figures.ratio:.2f}× the echo bot (target ≥ {TARGET_RATIO}×): "
        f"{'met' if ratio_ok else 'MISSED'}; "
        f"{per(figures.flat.updates_per_second, figures.same_calls_per_second):.2f}× "
        f"the same calls with no store",
        f"          (the echo bot on this bot's aiohttp backend instead of PTB's httpx: "
        f"{figures.echo_on_aiohttp:.0f} updates/s; the bot is "
        f"{per(figures.flat.updates_per_second, figures.echo_on_aiohttp):.2f}× that)",
        f"p99 {p99:.0f} ms at {latency.officials} concurrent officials, {latency.label} "
        f"(target ≤ {TARGET_P99_MS:.0f} ms): {'met' if p99 <= TARGET_P99_MS else 'MISSED'}",
    ]
    for run in (flat, figures.paced):
        if run is not None:
            lines.append(
                f"store after {run.label}: reports {run.stored} for completed flows "
                f"{run.flows} · lost {run.lost} · duplicates {run.duplicates}"
                + (f" · failed flows {len(run.errors)}" if run.errors else "")
            )
            lines += [f"  ✗ {error}" for error in run.errors[:5]]
    if figures.profile:
        lines += ["", "where the flat-out run spends its time (cProfile):", figures.profile]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print its figures; exit 1 if a report was lost or duplicated."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officials", type=int, default=100)
    parser.add_argument("--flows", type=int, default=5, help="report flows per official")
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean pause in the paced run, seconds (0: no paced run)",
    )
    parser.add_argument(
        "--echo-messages", type=int, default=20, help="messages per user for the echo bot"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--small", action="store_true", help="10 officials × 2 flows")
    parser.add_argument("--profile", action="store_true", help="cProfile the flat-out run")
    args = parser.parse_args(argv)
    if args.small:
        args.officials, args.flows, args.think, args.echo_messages = 10, 2, 0.2, 10
    figures = asyncio.run(
        measure(args.officials, args.flows, args.think, args.echo_messages, args.seed, args.profile)
    )
    print(render(figures), flush=True)
    failed = any(run.errors for run in (figures.flat, figures.paced) if run is not None)
    return 1 if figures.lost or figures.duplicates or failed else 0


if __name__ == "__main__":
    sys.exit(main())
