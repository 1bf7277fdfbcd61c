"""Time the coordinators' summary on a big synthetic store, on SQLite and PostgreSQL.

    python bench/aggregate.py            # 100,000 assignments, 1,000,000 reports
    python bench/aggregate.py --small    # 10,000 / 100,000, for a quick look

Prints the build time, the median of `summary()` (lists capped at --limit, as the CLI and
digests ask) and of `summary_sql()` (one hand-written query computing the same totals),
their ratio, and for comparison the same totals read through a "latest report" subquery
instead of the cached current state.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.pgschema import private_schema  # noqa: E402
from bench.summary_sql import figures_of, summary_sql  # noqa: E402
from bench.synthetic import HANOI, build_synthetic  # noqa: E402
from storage.aggregate.summary import summary  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402

TODAY = date(2020, 6, 26)
TARGET_MS = 200.0
TARGET_RATIO = 1.5
NO_CACHE_SQL = """
SELECT r.status, count(*), sum(coalesce(r.percent, 0))
FROM assignment a
JOIN item i ON i.id = a.item_id
LEFT JOIN (SELECT assignment_id, max(id) AS id FROM report GROUP BY assignment_id) l
  ON l.assignment_id = a.id
LEFT JOIN report r ON r.id = l.id
WHERE a.archived_at IS NULL AND i.archived_at IS NULL
GROUP BY r.status
"""


@dataclass
class Figures:
    backend: str
    build_s: float
    summary_ms: float
    summary_all_ms: float
    sql_ms: float
    no_cache_ms: float
    equal: bool


def median_ms(run: Callable[[], object], runs: int) -> float:
    """Run once to warm up, then return the median wall time of `runs` runs in ms."""
    run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


@contextmanager
def sqlite_engine(path: Path) -> Iterator[Engine]:
    """A fresh SQLite file (deleted before; kept after, for a look)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


def reachable(url: str) -> str | None:
    """Return why PostgreSQL cannot be used, or None when it can."""
    try:
        engine = make_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 (any failure means: skip PostgreSQL)
        return str(exc).splitlines()[0]
    return None


def measure(name: str, engine: Engine, args: argparse.Namespace, console: Console) -> Figures:
    """Build the store on `engine` and time the queries."""
    upgrade(engine)
    with Progress(
        TextColumn(f"[bold]{name}[/bold] {{task.description}}"),
        BarColumn(),
        TextColumn("{task.completed:>9,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        started = time.perf_counter()
        with Session(engine) as session, session.begin():
            build_synthetic(
                session,
                assignments=args.assignments,
                reports=args.reports,
                seed=args.seed,
                today=TODAY,
                progress=tick,
            )
        build_s = time.perf_counter() - started
    with engine.begin() as conn:  # fresh statistics, as autovacuum / a DBA would give
        conn.execute(text("ANALYZE"))
    with Session(engine) as session:
        summary_ms = median_ms(
            lambda: summary(session, TODAY, tz=HANOI, limit=args.limit), args.runs
        )
        sql_ms = median_ms(lambda: summary_sql(session, TODAY, tz=HANOI), args.runs)
        summary_all_ms = median_ms(
            lambda: summary(session, TODAY, tz=HANOI), max(1, args.runs // 3)
        )
        no_cache_ms = median_ms(
            lambda: session.execute(text(NO_CACHE_SQL)).all(), max(1, args.runs // 3)
        )
        equal = figures_of(summary(session, TODAY, tz=HANOI, limit=args.limit)) == summary_sql(
            session, TODAY, tz=HANOI
        )
    return Figures(name, build_s, summary_ms, summary_all_ms, sql_ms, no_cache_ms, equal)


def report(rows: list[Figures], args: argparse.Namespace, console: Console) -> None:
    table = Table(
        title=f"Tổng hợp / summary: {args.assignments:,} assignments, "
        f"{args.reports:,} reports, median of {args.runs}"
    )
    for column in (
        "backend",
        "build s",
        "summary ms",
        "sql ms",
        "ratio",
        "all lists ms",
        "no-cache ms",
        "equal",
    ):
        table.add_column(column, justify="right", no_wrap=True)
    for r in rows:
        table.add_row(
            r.backend,
            f"{r.build_s:.1f}",
            f"{r.summary_ms:.1f}",
            f"{r.sql_ms:.1f}",
            f"{r.summary_ms / r.sql_ms:.2f}",
            f"{r.summary_all_ms:.0f}",
            f"{r.no_cache_ms:.0f}",
            "yes" if r.equal else "NO",
        )
    table.caption = (
        f"summary = summary(limit={args.limit}); sql = summary_sql(), one "
        "hand-written query; all lists = summary() with uncapped lists; no-cache = "
        "latest report found by GROUP BY max(id) instead of the cached state"
    )
    console.print(table)
    for r in rows:
        if r.backend == "sqlite":
            ok_ms, ok_ratio = r.summary_ms <= TARGET_MS, r.summary_ms <= TARGET_RATIO * r.sql_ms
            console.print(
                f"sqlite: summary {r.summary_ms:.0f} ms "
                f"({'≤' if ok_ms else '>'} {TARGET_MS:.0f} ms), "
                f"{r.summary_ms / r.sql_ms:.2f}× the hand-written query "
                f"({'≤' if ok_ratio else '>'} {TARGET_RATIO}×)"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10,000 assignments, 100,000 reports")
    parser.add_argument("--assignments", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=9, help="timed runs after one warm-up")
    parser.add_argument("--limit", type=int, default=50, help="rows per list in summary()")
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--sqlite", type=Path, default=Path("/tmp/tiendo-bench/aggregate.sqlite3"))
    parser.add_argument(
        "--pg",
        default=os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    if args.small:
        args.assignments, args.reports = 10_000, 100_000
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    rows = []
    args.sqlite.parent.mkdir(parents=True, exist_ok=True)
    with sqlite_engine(args.sqlite) as engine:
        rows.append(measure("sqlite", engine, args, console))
    if args.no_pg:
        console.print("PostgreSQL: bỏ qua / skipped (--no-pg)")
    elif (why := reachable(args.pg)) is not None:
        console.print(f"PostgreSQL: bỏ qua / skipped, cannot connect: {why}")
    else:
        with private_schema(args.pg, "tiendo_bench") as engine:
            rows.append(measure("postgresql", engine, args, console))
    report(rows, args, console)
    return 0 if all(r.equal for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
