"""`tiendo reminders`, `tiendo digest --preview` and `tiendo scheduler`: time made visible."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from storage.clock import Clock, FixedClock, SimulatedClock

if TYPE_CHECKING:
    from bot.cli.context import CommandContext
    from scheduler.jobs import SchedulerService
    from scheduler.reminders import PlannedMessage

REASONS = {
    "reminder": "nhắc việc / reminder",
    "forwarded": "chuyển cơ quan đầu mối / forwarded to the office",
    "escalation": "báo cáo vượt cấp / escalation",
    "cycle_close": "đóng kỳ báo cáo / cycle closed",
    "unreachable": "KHÔNG AI NHẬN ĐƯỢC / NOBODY REACHABLE",
}


def moment(text: str) -> datetime:
    """Parse "2020-01-27 09:00" (or a bare date, read as 09:00) on the local clock."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date and time like '2020-01-27 09:00', got {text!r}"
        ) from None
    if len(text.strip()) <= 10:
        parsed = datetime.combine(parsed.date(), time(9, 0))
    return parsed


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    reminders = subparsers.add_parser(
        "reminders", help="xem trước nhắc việc / preview what the scheduler would send"
    )
    reminders.add_argument(
        "--at", type=moment, default=None, help="local time, e.g. '2020-01-27 09:00' (default: now)"
    )
    reminders.add_argument("--json", action="store_true")
    reminders.set_defaults(func=run_reminders)

    digest = subparsers.add_parser("digest", help="bản tin / print a digest and write its chart")
    digest.add_argument(
        "--preview",
        required=True,
        choices=["vice_chair", "coordinator"],
        metavar="ROLE",
        help="vice_chair | coordinator",
    )
    digest.add_argument("--locality", default=None, help="HN, HY … (default: both)")
    digest.add_argument("--at", type=moment, default=None, help="the digest's day (default: today)")
    digest.add_argument(
        "--out", type=Path, default=None, help="chart PNG path (default: <data_dir>/charts/…)"
    )
    digest.add_argument("--lang", choices=["vi", "en"], default=None)
    digest.set_defaults(func=run_digest)

    scheduler = subparsers.add_parser(
        "scheduler", help="chạy bộ lập lịch / run the scheduler (and the outbox dispatcher)"
    )
    scheduler.add_argument("--once", action="store_true", help="one tick, then exit")
    scheduler.add_argument(
        "--clock", type=moment, default=None, help="start a simulated clock at this local time"
    )
    scheduler.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="with --clock: simulated seconds per real second (e.g. 3600)",
    )
    scheduler.set_defaults(func=run_scheduler)


def _local(ctx: CommandContext, value: datetime | None) -> datetime:
    if value is None:
        return ctx.clock.now().astimezone(ctx.config.tz)
    return value if value.tzinfo else value.replace(tzinfo=ctx.config.tz)


def _service(
    ctx: CommandContext, clock: Clock | None = None, on_enqueued: Callable[[], None] | None = None
) -> SchedulerService:
    from scheduler.jobs import SchedulerService

    return SchedulerService(
        ctx.database,
        clock or ctx.clock,
        ctx.config.scheduler_settings(),
        on_enqueued or (lambda: None),
    )


# reminders -----------------------------------------------------------------------------------


def run_reminders(args: argparse.Namespace, ctx: CommandContext) -> int:
    at = _local(ctx, args.at)
    service = _service(ctx)
    planned = service.preview(at)
    calendar = service.calendar
    today = at.date()
    slot = service.preview_slot(at)
    holiday = (
        None
        if calendar.is_working_day(today)
        else (calendar.holiday_name(today) or "cuối tuần / weekend")
    )
    unreachable = sorted({code for p in planned for code in p.unreachable_agencies})
    nobody = sorted(
        {code for p in planned if p.recipient_id is None for code in p.unreachable_agencies}
    )
    if args.json:
        ctx.console.print_json(
            json.dumps(
                {
                    "at": at.isoformat(),
                    "non_working_day": holiday,
                    "send_at": slot.astimezone(ctx.config.tz).isoformat(),
                    "messages": [_described(p, ctx) for p in planned],
                    "unreachable_agencies": unreachable,
                    "nobody_reachable": nobody,
                },
                ensure_ascii=False,
            )
        )
        return 0
    console = ctx.console
    when = slot.astimezone(ctx.config.tz).strftime("%d/%m/%Y %H:%M")
    if holiday:
        console.print(
            f"{today:%d/%m/%Y} là ngày nghỉ ({holiday}): không gửi gì; nhắc việc dời "
            f"sang {when}. / a day off: nothing is sent; reminders move to {when}.",
            markup=False,
        )
    console.print(
        f"Nhắc việc gửi lúc {when}: {len(planned)} tin nhắn (xem trước, chưa gửi gì) "
        f"/ reminders at {when}: {len(planned)} messages (preview, nothing sent)",
        style="bold",
        markup=False,
    )
    for message in planned:
        _print_planned(ctx, message)
    if unreachable:
        console.print(
            f"Cơ quan không ai nhận được nhắc việc / agencies nobody can be reached "
            f"at: {', '.join(unreachable)}",
            style="yellow",
            markup=False,
        )
    if nobody:
        console.print(
            f"… và cơ quan đầu mối cũng không nhận được / and no coordinating office "
            f"either: {', '.join(nobody)}",
            style="red",
            markup=False,
        )
    return 0


def _described(planned: PlannedMessage, ctx: CommandContext) -> dict[str, object]:
    """The planned message with the text and buttons it would be sent with."""
    from scheduler.reminder_texts import render_reminder

    message = render_reminder(planned, ctx.config.tz)
    buttons = [list(map(list, row)) for row in message.choices or []]
    return {**planned.as_dict(), "text": message.text, "buttons": buttons}


def _print_planned(ctx: CommandContext, message: PlannedMessage) -> None:
    console = ctx.console
    who = (
        f"{message.recipient_name} (#{message.recipient_id}, {message.agency_code})"
        if message.recipient_id is not None
        else "—"
    )
    console.print(
        f"\n▶ {who} · {REASONS.get(message.reason, message.reason)}", style="bold", markup=False
    )
    for label, items in (
        ("nhắc / due", message.items),
        ("chuyển / forwarded", message.forwarded),
        ("vượt cấp / escalated", message.escalations),
    ):
        if items:
            console.print(
                f"  {label}: "
                + ", ".join(f"{i.item_code} {i.agency_code} [{i.trigger}]" for i in items),
                markup=False,
            )
    for close in message.closes:
        console.print(
            f"  kỳ / cycle {close.locality_code} → {close.cycle.end:%d/%m/%Y}: "
            f"{close.reported}/{close.total}",
            markup=False,
        )
    from scheduler.reminder_texts import render_reminder

    text = render_reminder(message, ctx.config.tz).text
    console.print("  " + text.replace("\n", "\n  "), style="dim", markup=False)


# digest --------------------------------------------------------------------------------------


def run_digest(args: argparse.Namespace, ctx: CommandContext) -> int:
    from scheduler.digest import build_digest

    config = ctx.config
    day: date = _local(ctx, args.at).date()
    locality = args.locality.upper() if args.locality else None
    language = args.lang or config.settings.app.language
    with ctx.unit_of_work() as session:
        from sqlalchemy import select

        from storage.models import Locality

        known = set(session.scalars(select(Locality.code)))
        if locality is not None and locality not in known:
            ctx.err.print(
                f"Không có địa phương {locality} / unknown locality; use one of "
                f"{', '.join(sorted(known))}",
                style="red",
                markup=False,
            )
            return 2
        digest = build_digest(
            session,
            day,
            args.preview,
            locality,
            language,
            tz=config.tz,
            cycle_day=config.settings.reminders.cycle_day,
        )
    out = (
        args.out
        or config.data_dir
        / "charts"
        / f"digest-preview-{args.preview}-{locality or 'all'}-{day.isoformat()}.png"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(digest.chart_png)
    ctx.console.print(digest.text, markup=False, highlight=False)
    buttons = [label for row in digest.item_buttons for label, _ in row]
    if buttons:
        ctx.console.print(f"\nNút / buttons: {' '.join(buttons)}", style="dim", markup=False)
    ctx.console.print(f"\nBiểu đồ / chart: {out}", style="bold", markup=False)
    return 0


# scheduler -----------------------------------------------------------------------------------


def run_scheduler(args: argparse.Namespace, ctx: CommandContext) -> int:
    from bot.logs import configure_logging

    config = ctx.config
    configure_logging(config.settings.app.log_level, config.secrets())
    if args.clock is not None:
        start = _local(ctx, args.clock)
        ctx.clock = FixedClock(start) if args.once else SimulatedClock(start, args.speed)
    if args.once:
        result = _service(ctx).tick()
        ctx.console.print(
            f"{result.at.astimezone(config.tz):%d/%m/%Y %H:%M}: {result.enqueued} tin mới vào "
            f"hàng đợi / new outbox rows ({result.planned} planned); "
            f"slot {', '.join(d.isoformat() for d in result.reminder_slots) or '—'}; "
            f"{result.digests} digests; {result.expired} conversations expired",
            markup=False,
        )
        if result.unreachable:
            ctx.console.print(
                f"Không ai nhận được / nobody reachable: "
                f"{', '.join(sorted(set(result.unreachable)))}",
                style="yellow",
                markup=False,
            )
        return 0
    return asyncio.run(_serve(ctx))


async def _serve(ctx: CommandContext) -> int:
    """Tick on the clock and drain the outbox until SIGINT or SIGTERM."""
    from bot.app.runner import build_messengers, limits_for
    from scheduler.dispatcher import Dispatcher

    config = ctx.config
    messengers = build_messengers(config)
    limits = limits_for(config)
    dispatcher = None
    if messengers:
        dispatcher = Dispatcher(
            ctx.database,
            ctx.clock,
            messengers,
            {name: limit for name, limit in limits.items() if name in messengers},
        )
        service = _service(ctx, on_enqueued=dispatcher.wake)
        ctx.console.print(
            f"Bộ lập lịch và bộ gửi tin đang chạy ({', '.join(messengers)}) / "
            "scheduler and outbox dispatcher running; Ctrl-C stops.",
            markup=False,
        )
    else:
        service = _service(ctx)
        ctx.console.print(
            "Không có token bot nào: chỉ lập lịch, tin nhắn nằm chờ trong hàng "
            "đợi / no bot token: the scheduler only fills the outbox; nothing is "
            "sent. Ctrl-C stops.",
            style="yellow",
            markup=False,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await service.start()
    task = (
        asyncio.create_task(dispatcher.run(stop, active=lambda: service.is_leader))
        if dispatcher is not None
        else None
    )
    try:
        await stop.wait()
    finally:
        await service.stop()
        if task is not None:
            await task
    return 0
