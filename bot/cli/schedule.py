"""`tiendo reminders`, `tiendo digest --preview` and `tiendo scheduler`: time made visible."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli import values
from bot.cli.programme import add_programme_option, unknown_programme

if TYPE_CHECKING:
    from bot.cli.context import CommandContext
    from handlers.texts import Texts
    from scheduler.jobs import SchedulerService
    from scheduler.reminders import PlannedMessage, ProgrammeRef
    from storage.clock import Clock


def reason_label(tx: Texts, reason: str) -> str:
    """Why the scheduler writes to someone, as the office would say it."""
    labels = {
        "reminder": tx._("nhắc việc"),
        "forwarded": tx._("chuyển cơ quan đầu mối"),
        "escalation": tx._("báo cáo vượt cấp"),
        "cycle_close": tx._("đóng kỳ báo cáo"),
        "unreachable": tx._("KHÔNG AI NHẬN ĐƯỢC"),
    }
    return labels.get(reason, reason)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    reminders = subparsers.add_parser(
        "reminders", help="xem trước nhắc việc / preview what the scheduler would send"
    )
    reminders.add_argument(
        "--at",
        type=values.moment,
        default=None,
        help="giờ địa phương / local time, e.g. '27/01/2020 09:00' (default: now)",
    )
    add_programme_option(reminders)
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
    add_programme_option(digest)
    digest.add_argument(
        "--at", type=values.moment, default=None, help="the digest's day (default: today)"
    )
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
        "--clock",
        type=values.moment,
        default=None,
        help="start a simulated clock at this local time ('30/12/2019 08:00')",
    )
    scheduler.add_argument(
        "--speed",
        type=values.speed,
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


def _programmes(ctx: CommandContext, wanted: str | None) -> tuple[list[ProgrammeRef], bool]:
    """The programmes asked for (all by default) and whether the store holds several;
    UnknownProgramme when none answers to the name (or none was imported)."""
    from scheduler.audience import programme_refs
    from storage.programme.lookup import UnknownProgramme, programmes_named

    with ctx.unit_of_work() as session:
        known = programme_refs(session)
        if not known:
            raise UnknownProgramme(wanted or "", [])
        ids = {p.id for p in programmes_named(session, wanted)}
    return [r for r in known if r.id in ids], len(known) > 1


def _heading(ctx: CommandContext, programme: ProgrammeRef) -> None:
    ctx.say(f"\n■ {programme.label} — {programme.title}", "bold")


# reminders -----------------------------------------------------------------------------------


def run_reminders(args: argparse.Namespace, ctx: CommandContext) -> int:
    from storage.programme.lookup import UnknownProgramme

    tx = ctx.tx
    at = _local(ctx, args.at)
    try:
        chosen, several = _programmes(ctx, args.programme)
    except UnknownProgramme as exc:
        return unknown_programme(ctx, exc)
    service = _service(ctx)
    everything = service.preview(at)
    sections = [
        (programme, [part for p in everything if (part := p.of_programme(programme.id))])
        for programme in chosen
    ]
    planned = everything if args.programme is None else [p for _, parts in sections for p in parts]
    calendar = service.calendar
    today = at.date()
    slot = service.preview_slot(at)
    holiday = (
        None
        if calendar.is_working_day(today)
        else (calendar.holiday_name(today) or tx._("cuối tuần"))
    )
    unreachable = sorted({code for p in planned for code in p.unreachable_agencies})
    nobody = sorted(
        {code for p in planned if p.recipient_id is None for code in p.unreachable_agencies}
    )
    if args.json:
        ctx.json(
            {
                "at": at.isoformat(),
                "non_working_day": holiday,
                "send_at": slot.astimezone(ctx.config.tz).isoformat(),
                "programmes": [
                    {"code": programme.code, "alias": programme.label, "messages": len(parts)}
                    for programme, parts in sections
                ],
                "messages": [_described(p, ctx) for p in planned],
                "unreachable_agencies": unreachable,
                "nobody_reachable": nobody,
            }
        )
        return 0
    when = tx.moment(slot)
    if holiday:
        ctx.say(
            tx._(
                "{day} là ngày nghỉ ({holiday}): không gửi gì; nhắc việc dời sang {when}.",
                day=tx.date(today),
                holiday=holiday,
                when=when,
            )
        )
    ctx.say(
        tx._(
            "Nhắc việc gửi lúc {when}: {count} tin nhắn (xem trước, chưa gửi gì).",
            when=when,
            count=len(planned),
        ),
        "bold",
    )
    for programme, parts in sections:
        if several:
            _heading(ctx, programme)
        for message in parts:
            _print_planned(ctx, message)
    if unreachable:
        ctx.say(
            tx._("Cơ quan không ai nhận được nhắc việc: {codes}", codes=", ".join(unreachable)),
            "yellow",
        )
    if nobody:
        ctx.say(
            tx._("… và cơ quan đầu mối cũng không nhận được: {codes}", codes=", ".join(nobody)),
            "red",
        )
    return 0


def _described(planned: PlannedMessage, ctx: CommandContext) -> dict[str, object]:
    """The planned message with the text and buttons it would be sent with."""
    from scheduler.reminder_texts import render_reminder

    message = render_reminder(planned, ctx.config.tz)
    buttons = [list(map(list, row)) for row in message.choices or []]
    return {**planned.as_dict(), "text": message.text, "buttons": buttons}


def _print_planned(ctx: CommandContext, message: PlannedMessage) -> None:
    tx = ctx.tx
    who = (
        f"{message.recipient_name} (#{message.recipient_id}, {message.agency_code})"
        if message.recipient_id is not None
        else "—"
    )
    ctx.say(f"\n▶ {who} · {reason_label(tx, message.reason)}", "bold")
    for label, items in (
        (tx._("nhắc"), message.items),
        (tx._("chuyển"), message.forwarded),
        (tx._("vượt cấp"), message.escalations),
        (tx._("trình Phó Chủ tịch"), message.to_vice_chair),
    ):
        if items:
            ctx.say(
                f"  {label}: "
                + ", ".join(f"{i.item_code} {i.agency_code} [{i.trigger}]" for i in items)
            )
    for close in message.closes:
        ctx.say(
            "  "
            + tx._(
                "kỳ {locality} → {end}: {reported}/{total}",
                locality=close.locality_code,
                end=tx.date(close.period.due),
                reported=close.reported,
                total=close.total,
            )
        )
    from scheduler.reminder_texts import render_reminder

    text = render_reminder(message, ctx.config.tz).text
    ctx.say("  " + text.replace("\n", "\n  "), "dim")


# digest --------------------------------------------------------------------------------------


def run_digest(args: argparse.Namespace, ctx: CommandContext) -> int:
    from sqlalchemy import select

    from scheduler.digest import build_digest
    from storage.models import Locality, Programme
    from storage.programme.lookup import UnknownProgramme

    config, tx = ctx.config, ctx.tx
    day: date = _local(ctx, args.at).date()
    locality = args.locality.upper() if args.locality else None
    language = args.lang or config.settings.app.language
    try:
        chosen, several = _programmes(ctx, args.programme)
    except UnknownProgramme as exc:
        return unknown_programme(ctx, exc)
    settings = config.scheduler_settings()
    calendar = settings.work_calendar()
    with ctx.unit_of_work() as session:
        known = set(session.scalars(select(Locality.code)))
        if locality is not None and locality not in known:
            return ctx.fail(
                tx._(
                    "Không có địa phương {code}; đề nghị chọn một trong: {known}",
                    code=locality,
                    known=", ".join(sorted(known)),
                )
            )
        for programme in chosen:
            row = session.get(Programme, programme.id)
            assert row is not None
            digest = build_digest(
                session,
                day,
                args.preview,
                locality,
                language,
                programme=row,
                named=several,
                tz=config.tz,
                calendar=calendar,
                default_due_day=settings.reminders.cycle_day,
            )
            name = f"digest-preview-{programme.code}-{args.preview}-{locality or 'all'}-{day}.png"
            out: Path = args.out or config.data_dir / "charts" / name
            if args.out is not None and len(chosen) > 1:
                out = out.with_name(f"{out.stem}-{programme.code}{out.suffix}")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(digest.chart_png)
            if several:
                _heading(ctx, programme)
            ctx.say(digest.text)
            buttons = [label for line in digest.item_buttons for label, _ in line]
            if buttons:
                ctx.say("\n" + tx._("Nút: {buttons}", buttons=" ".join(buttons)), "dim")
            ctx.say("\n" + tx._("Biểu đồ: {path}", path=out), "bold")
    return 0


# scheduler -----------------------------------------------------------------------------------


def run_scheduler(args: argparse.Namespace, ctx: CommandContext) -> int:
    import asyncio

    from bot.logs import configure_logging
    from storage.clock import FixedClock, SimulatedClock

    config, tx = ctx.config, ctx.tx
    configure_logging(config.settings.app.log_level, config.secrets())
    if args.clock is not None:
        start = _local(ctx, args.clock)
        ctx.clock = FixedClock(start) if args.once else SimulatedClock(start, args.speed)
    if args.once:
        result = _service(ctx).tick()
        ctx.say(
            tx._(
                "{at}: {enqueued} tin mới vào hàng đợi ({planned} dự kiến); lượt nhắc {slots}; "
                "{digests} bản tin; {expired} hội thoại hết hạn",
                at=tx.moment(result.at),
                enqueued=result.enqueued,
                planned=result.planned,
                slots=", ".join(tx.date(d) for d in result.reminder_slots) or "—",
                digests=result.digests,
                expired=result.expired,
            )
        )
        if result.unreachable:
            ctx.say(
                tx._(
                    "Không ai nhận được: {codes}", codes=", ".join(sorted(set(result.unreachable)))
                ),
                "yellow",
            )
        return 0
    return asyncio.run(_serve(ctx))


async def _serve(ctx: CommandContext) -> int:
    """Tick on the clock and drain the outbox until SIGINT or SIGTERM."""
    import asyncio
    import contextlib
    import signal

    from bot.app.runner import build_messengers, limits_for
    from scheduler.dispatcher import Dispatcher

    config, tx = ctx.config, ctx.tx
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
        ctx.say(
            tx._(
                "Bộ lập lịch và bộ gửi tin đang chạy ({platforms}); Ctrl-C để dừng.",
                platforms=", ".join(messengers),
            )
        )
    else:
        service = _service(ctx)
        ctx.say(
            tx._(
                "Không có token bot nào: bộ lập lịch chỉ xếp tin vào hàng đợi, chưa gửi gì. "
                "Ctrl-C để dừng."
            ),
            "yellow",
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
