"""`tiendo summary` and `tiendo export`: the consolidated picture, on screen or in Excel."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import date, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from storage.aggregate.categories import Category
from storage.aggregate.labels import CATEGORY_LABELS, STATUS_LABELS
from storage.aggregate.states import AssignmentState
from storage.aggregate.summary import GroupTally, Summary, summary
from storage.export_xlsx import write_workbook

if TYPE_CHECKING:
    from bot.cli.context import CommandContext

SHORT_LABELS = {  # column headers; the overall table spells them out
    Category.DONE_ON_TIME: "HT đúng hạn",
    Category.DONE_LATE: "HT quá hạn",
    Category.IN_PROGRESS_ON_TIME: "Đang TH trong hạn",
    Category.IN_PROGRESS_OVERDUE: "Đang TH quá hạn",
    Category.NOT_REPORTED: "Chưa BC",
}
CATEGORY_STYLES = {
    Category.DONE_ON_TIME: "green",
    Category.DONE_LATE: "yellow",
    Category.IN_PROGRESS_ON_TIME: "blue",
    Category.IN_PROGRESS_OVERDUE: "red",
    Category.NOT_REPORTED: "bright_black",
}


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"ngày dạng YYYY-MM-DD / a date as YYYY-MM-DD, got {value!r}"
        ) from None


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("summary", help="bảng tổng hợp tiến độ / progress summary")
    parser.add_argument("--json", action="store_true", help="in JSON / print JSON")
    parser.add_argument(
        "--at",
        type=_day,
        metavar="YYYY-MM-DD",
        help="tính hạn theo ngày này / judge deadlines on this day",
    )
    parser.add_argument("--programme", metavar="CODE", help="chỉ một chương trình / one programme")
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
    export.add_argument(
        "--at",
        type=_day,
        metavar="YYYY-MM-DD",
        help="tính hạn theo ngày này / judge deadlines on this day",
    )
    export.set_defaults(func=run_export)


def _today(args: argparse.Namespace, ctx: CommandContext) -> date:
    if args.at is not None:
        return args.at  # type: ignore[no-any-return]
    return ctx.clock.now().astimezone(ctx.config.tz).date()


def run_summary(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print the summary as tables, or as JSON with --json."""
    today = _today(args, ctx)
    with ctx.unit_of_work() as session:
        result = summary(
            session,
            today,
            tz=ctx.config.tz,
            programme_code=args.programme,
            limit=args.limit or None,
        )
    if args.json:
        ctx.console.print(
            json.dumps(result.as_dict(), ensure_ascii=False, indent=2),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return 0
    _print_summary(ctx, result)
    return 0


def run_export(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Write the workbook and print where it went."""
    today = _today(args, ctx)
    target: Path = args.file
    if target.suffix.lower() != ".xlsx":
        ctx.err.print("Tên tệp phải kết thúc bằng .xlsx / the file name must end in .xlsx")
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    with ctx.unit_of_work() as session:
        write_workbook(session, today, target, ctx.config.tz)
    ctx.console.print(f"Đã ghi / written: {target.resolve()}", markup=False, highlight=False)
    return 0


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def _print_summary(ctx: CommandContext, s: Summary) -> None:
    console = ctx.console
    console.print(
        f"[bold]Tổng hợp tiến độ ngày {s.today:%d/%m/%Y}[/bold] / progress summary; "
        f"kỳ báo cáo / period {s.period[0]:%d/%m/%Y}–{s.period[1]:%d/%m/%Y}"
    )
    overall = Table(title="Tổng quan / Overall", show_header=False)
    overall.add_column("")
    overall.add_column("", justify="right")
    o = s.overall
    overall.add_row("Số nhiệm vụ / assignments", str(o.count))
    overall.add_row("Tiến độ bình quân / average progress", f"{o.avg_percent:.1f}%")
    for category in Category:
        vi, en = CATEGORY_LABELS[category]
        overall.add_row(f"[{CATEGORY_STYLES[category]}]{vi} / {en}[/]", str(o.categories[category]))
    overall.add_row("Tỷ lệ hoàn thành / done share", _percent(o.done_share))
    overall.add_row("Quá hạn / overdue", str(o.overdue))
    overall.add_row("Vướng mắc / blocked", str(o.blocked))
    overall.add_row("Tỷ lệ báo cáo trong kỳ / response rate", _percent(s.response_rate))
    console.print(overall)
    console.print(_group_table("Theo lĩnh vực / By field", "Lĩnh vực / field", s.by_field))
    console.print(
        _group_table("Theo địa phương / By locality", "Địa phương / locality", s.by_locality)
    )
    console.print(_group_table("Theo cơ quan / By agency", "Cơ quan / agency", s.by_agency))
    tz = ctx.config.tz
    console.print(_state_table("Quá hạn / Overdue", s.overdue, o.overdue, s.today, tz))
    console.print(_state_table("Vướng mắc / Blocked", s.blocked, o.blocked, s.today, tz))
    console.print(
        _state_table(
            "Chưa báo cáo trong kỳ / Not reported in the period",
            s.not_reported,
            o.not_reported,
            s.today,
            tz,
        )
    )


def _group_table(title: str, label: str, groups: Sequence[GroupTally]) -> Table:
    table = Table(
        title=title,
        caption="HT: hoàn thành / done; TH: thực hiện / in progress; BC: báo cáo / reported",
    )
    table.add_column("Mã / code", no_wrap=True)
    table.add_column(label, ratio=1, min_width=12)
    table.add_column("Số NV / n", justify="right")
    table.add_column("TB % / avg", justify="right")
    for category in Category:
        table.add_column(
            f"[{CATEGORY_STYLES[category]}]{SHORT_LABELS[category]}[/]", justify="right"
        )
    table.add_column("BC trong kỳ / response", justify="right")
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
    title: str, states: Sequence[AssignmentState], total: int, today: date, tz: tzinfo
) -> Table:
    table = Table(title=f"{title} ({total})")
    for column in (
        "Mã / code",
        "Nội dung / item",
        "Cơ quan / agency",
        "Hạn / due",
        "Trạng thái / status",
        "% ",
        "Báo cáo gần nhất / last report",
    ):
        table.add_column(column)
    for st in states:
        status = (
            STATUS_LABELS[st.status][0] if st.status else CATEGORY_LABELS[Category.NOT_REPORTED][0]
        )
        left = st.days_left(today)
        due = (
            "—"
            if st.due_date is None
            else f"{st.due_date:%d/%m/%Y}"
            + (f" ({-left} ngày / days late)" if left is not None and left < 0 else "")
        )
        table.add_row(
            st.item_code,
            st.item_title,
            st.agency_name,
            due,
            status,
            "" if st.percent is None else str(st.percent),
            "—" if st.reported_at is None else f"{st.reported_at.astimezone(tz):%d/%m/%Y}",
        )
    if total > len(states):
        table.caption = f"… và {total - len(states)} mục khác / and {total - len(states)} more"
    return table
