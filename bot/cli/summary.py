"""`tiendo summary` and `tiendo export`: the consolidated picture, on screen or in Excel."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli import values
from bot.cli.programme import add_programme_option, unknown_programme

if TYPE_CHECKING:
    from rich.table import Table

    from bot.cli.context import CommandContext
    from handlers.texts import Texts
    from storage.aggregate.states import AssignmentState
    from storage.aggregate.summary import GroupTally, Summary

CATEGORY_STYLES = {  # by Category value
    "done_on_time": "green",
    "done_late": "yellow",
    "in_progress_on_time": "blue",
    "in_progress_overdue": "red",
    "not_reported": "bright_black",
}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("summary", help="bảng tổng hợp tiến độ / progress summary")
    parser.add_argument("--json", action="store_true", help="in JSON / print JSON")
    parser.add_argument(
        "--at",
        type=values.day,
        metavar="DATE",
        help="tính hạn theo ngày này / judge deadlines on this day (30/12/2019, 2019-12-30)",
    )
    add_programme_option(parser)
    parser.add_argument(
        "--limit",
        type=int,
        default=20,
        metavar="N",
        help="số dòng mỗi danh sách / rows per list (default 20, 0 = all)",
    )
    parser.set_defaults(func=run_summary)
    export = subparsers.add_parser("export", help="xuất Excel / write the Excel workbook")
    export.add_argument("file", type=Path, metavar="FILE.xlsx")
    add_programme_option(export)
    export.add_argument(
        "--at",
        type=values.day,
        metavar="DATE",
        help="tính hạn theo ngày này / judge deadlines on this day (30/12/2019, 2019-12-30)",
    )
    export.set_defaults(func=run_export)


def _today(args: argparse.Namespace, ctx: CommandContext) -> date:
    if args.at is not None:
        return args.at  # type: ignore[no-any-return]
    return ctx.clock.now().astimezone(ctx.config.tz).date()


def run_summary(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print each programme's summary as tables, or as JSON with --json: always a list with one
    object per programme (in import order), even when one programme was asked for."""
    from storage.aggregate.summary import summary
    from storage.programme.lookup import UnknownProgramme, programmes_named

    today = _today(args, ctx)
    try:
        with ctx.unit_of_work() as session:
            results = [
                summary(
                    session,
                    today,
                    tz=ctx.config.tz,
                    programme_code=programme.code,
                    limit=args.limit or None,
                    default_due_day=ctx.config.settings.reminders.cycle_day,
                )
                for programme in programmes_named(session, args.programme)
            ]
    except UnknownProgramme as exc:
        return unknown_programme(ctx, exc)
    if args.json:
        ctx.json([_summary_json(s) for s in results])
        return 0
    if not results:
        ctx.say(ctx.tx._("Chưa nhập chương trình nào: chạy tiendo import."))
    for result in results:
        _print_summary(ctx, result)
    return 0


def _summary_json(s: Summary) -> dict[str, object]:
    """One programme's summary, named as people type it (label) and as the notice titles it."""
    data = s.as_dict()
    return {
        "programme": data.pop("programme"),
        "programme_label": s.programme_label,
        "programme_title": s.programme_title,
        **data,
    }


def run_export(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Write the workbook and print where it went."""
    from handlers.documents.workbook import write_workbook

    today = _today(args, ctx)
    target: Path = args.file
    if target.suffix.lower() != ".xlsx":
        return ctx.fail(ctx.tx._("Tên tệp phải kết thúc bằng .xlsx."))
    from storage.programme.lookup import UnknownProgramme, programmes_named
    from storage.worktime import WorkCalendar

    reminders = ctx.config.settings.reminders
    try:
        with ctx.unit_of_work() as session:
            codes = [p.code for p in programmes_named(session, args.programme)]
    except UnknownProgramme as exc:
        return unknown_programme(ctx, exc)
    target.parent.mkdir(parents=True, exist_ok=True)
    with ctx.unit_of_work() as session:
        write_workbook(
            session,
            today,
            target,
            ctx.config.tz,
            ctx.tx,
            programme_codes=codes,
            default_due_day=reminders.cycle_day,
            calendar=WorkCalendar(
                ctx.config.tz,
                reminders.work_start,
                reminders.work_end,
                reminders.extra_holidays,
                reminders.extra_workdays,
            ),
        )
    ctx.say(ctx.tx._("Đã ghi tệp {path}", path=target.resolve()))
    return 0


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def _print_summary(ctx: CommandContext, s: Summary) -> None:
    from rich.table import Table
    from rich.text import Text

    from storage.aggregate.categories import Category

    console, tx = ctx.console, ctx.tx
    console.rule(
        Text(
            tx._("Chương trình {label}: {title}", label=s.programme_label, title=s.programme_title),
            style="bold",
        ),
        align="left",
    )
    console.print(
        Text(tx._("Tổng hợp tiến độ ngày {day}", day=tx.date(s.today)), style="bold")
        + Text(
            "; "
            + tx._(
                "kỳ báo cáo {period}, hạn {due}",
                period=tx.period(s.period),
                due=tx.date(s.period.due),
            )
        )
    )
    overall = Table(title=tx._("Tổng quan"), show_header=False)
    overall.add_column("")
    overall.add_column("", justify="right")
    o = s.overall
    overall.add_row(tx._("Số nhiệm vụ"), str(o.count))
    overall.add_row(tx._("Tiến độ bình quân"), f"{o.avg_percent:.1f}%")
    for category in Category:
        label = Text(tx.category(category), style=CATEGORY_STYLES.get(category, ""))
        overall.add_row(label, str(o.categories[category]))
    overall.add_row(tx._("Tỷ lệ hoàn thành"), _percent(o.done_share))
    overall.add_row(tx._("Quá hạn"), str(o.overdue))
    overall.add_row(tx._("Vướng mắc"), str(o.blocked))
    overall.add_row(tx._("Tỷ lệ báo cáo trong kỳ"), _percent(s.response_rate))
    console.print(overall)
    console.print(_group_table(tx, tx._("Theo lĩnh vực"), tx._("Lĩnh vực"), s.by_field))
    console.print(_group_table(tx, tx._("Theo địa phương"), tx._("Địa phương"), s.by_locality))
    console.print(_group_table(tx, tx._("Theo cơ quan"), tx._("Cơ quan"), s.by_agency))
    tz = ctx.config.tz
    console.print(_state_table(tx, tx._("Quá hạn"), s.overdue, o.overdue, s.today, tz))
    console.print(_state_table(tx, tx._("Vướng mắc"), s.blocked, o.blocked, s.today, tz))
    console.print(
        _state_table(tx, tx._("Chưa báo cáo trong kỳ"), s.not_reported, o.not_reported, s.today, tz)
    )


def _group_table(tx: Texts, title: str, label: str, groups: Sequence[GroupTally]) -> Table:
    from rich.table import Table
    from rich.text import Text

    from storage.aggregate.categories import Category

    table = Table(
        title=title,
        caption=tx._("HT: hoàn thành; TH: thực hiện; BC: báo cáo"),
    )
    table.add_column(tx._("Mã"), no_wrap=True)
    table.add_column(label, ratio=1, min_width=12)
    table.add_column(tx._("Số NV"), justify="right")
    table.add_column(tx._("TB %"), justify="right")
    for category in Category:
        head = Text(tx.category(category, short=True), style=CATEGORY_STYLES.get(category, ""))
        table.add_column(head, justify="right")
    table.add_column(tx._("BC trong kỳ"), justify="right")
    for g in groups:
        t = g.tally
        table.add_row(
            g.code,
            g.name,
            str(t.count),
            f"{t.avg_percent:.1f}",
            *(str(t.categories[c]) for c in Category),
            _percent(t.response_rate),
        )
    return table


def _state_table(
    tx: Texts,
    title: str,
    states: Sequence[AssignmentState],
    total: int,
    today: date,
    tz: tzinfo,
) -> Table:
    from rich.table import Table

    table = Table(title=f"{title} ({total})")
    for column in (
        tx._("Mã"),
        tx._("Nội dung"),
        tx._("Cơ quan"),
        tx._("Hạn"),
        tx._("Trạng thái"),
        "%",
        tx._("Báo cáo gần nhất"),
    ):
        table.add_column(column)
    for st in states:
        left = st.days_left(today)
        due = "—" if st.due_date is None else tx.date(st.due_date)
        if st.due_date is not None and left is not None and left < 0:
            due += " " + tx._("(trễ {days} ngày)", days=-left)
        table.add_row(
            st.item_code,
            st.item_title,
            st.agency_name,
            due,
            tx.status(st.status),
            "" if st.percent is None else str(st.percent),
            "—" if st.reported_at is None else tx.date(st.reported_at.astimezone(tz).date()),
        )
    if total > len(states):
        table.caption = tx._("… và {count} mục khác", count=total - len(states))
    return table
