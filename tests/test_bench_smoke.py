"""The benches run end to end on tiny sizes, print their figures, and lose or repeat nothing."""

from __future__ import annotations

import logging

import pytest

from bench import dispatch_lag, fanout, updates
from bench.echo import ECHO_USER_BASE, echo_ceiling
from bot.loopback.telegram_server import FakeTelegramServer


def test_updates_bench_prints_its_figures_and_keeps_every_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = updates.main(
        ["--officials", "3", "--flows", "2", "--think", "0.01", "--echo-messages", "2"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    for figure in (
        "updates/s",
        "reports/s",
        "p50",
        "p99",
        "echo bot",
        "× the echo bot",
        "same Bot API calls, no store",
        "on this bot's aiohttp backend",
    ):
        assert figure in out, out
    # 3 officials × 2 flows, in each of the two runs: one stored report per completed flow.
    assert out.count("reports 6 for completed flows 6 · lost 0 · duplicates 0") == 2, out


def test_fanout_bench_delivers_each_reminder_once_within_the_limits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = fanout.main(["--members", "30", "--rate", "100"])
    out = capsys.readouterr().out
    assert code == 0, out
    for figure in ("messages/s sustained", "429s received 0", "elapsed"):
        assert figure in out, out
    assert "received 30 · duplicates 0 · lost 0 · not marked sent 0" in out, out


async def test_fanout_under_faults_still_delivers_exactly_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.CRITICAL, logger="telegram.request")  # the injected 502 page
    plan = (
        (0.02, "500", 1, 1),
        (0.04, "502", 1, 1),
        (0.06, "timeout", 1, 1),
        (0.08, "network", 1, 1),
        (0.1, "429", 1, 1),
    )
    figures = await fanout.measure(
        40, rate=100, faults=True, plan=plan, read_timeout=0.3, backoff_base=1.1
    )
    assert figures.rate_limited == 1 and figures.server_errors == 2
    assert figures.transient_failures == 4  # 500, 502, timeout, dropped connection
    assert figures.backoffs == {1.1: 4}  # each retried after 1.1 s (the default would wait 2)
    assert (figures.received, figures.duplicates, figures.lost, figures.not_marked) == (40, 0, 0, 0)


def test_dispatch_lag_bench_drains_every_row_and_prints_the_loop_lag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert dispatch_lag.main(["--rows", "30"]) == 0
    out = capsys.readouterr().out
    assert "delivered 30 in" in out and "on sqlite" in out, out
    for figure in ("loop lag p50", "p99", "max", "wake-ups asked every 1 ms"):
        assert figure in out, out


async def test_echo_ceiling_counts_real_round_trips() -> None:
    server = FakeTelegramServer()
    await server.start()
    try:
        rate = await echo_ceiling(server, users=2, messages_per_user=3)
    finally:
        await server.stop()
    assert rate > 0
    assert [m.text for m in server.messages_to(ECHO_USER_BASE)] == ["tin 0", "tin 1", "tin 2"]
    assert server.stats.requests["sendMessage"] == 6
