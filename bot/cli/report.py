"""`tiendo report`: the periodic report (báo cáo định kỳ) of a programme, in Word (and PDF)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli import values

if TYPE_CHECKING:
    from bot.cli.context import CommandContext

PDF_SECONDS = 180


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "report", help="báo cáo định kỳ (Word) / the periodic report in Word"
    )
    parser.add_argument(
        "--programme", required=True, metavar="CODE_OR_ALIAS", help="chương trình / programme"
    )
    parser.add_argument(
        "--period",
        required=True,
        metavar="PERIOD",
        help="kỳ báo cáo / period: 2019-12, 2019-Q4, 2019-H2 or 2019",
    )
    parser.add_argument(
        "--office",
        metavar="CODE",
        help="cơ quan ban hành (cơ quan thường trực) / the issuing coordinating office",
    )
    parser.add_argument("--out", type=Path, metavar="FILE.docx", help="tệp ra / output file")
    parser.add_argument(
        "--pdf", action="store_true", help="thêm bản PDF (cần LibreOffice) / also a PDF"
    )
    parser.add_argument(
        "--at", type=values.day, metavar="DATE", help="ngày lập báo cáo / the report's date"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Write the report, say where it is and what it states."""
    from handlers.documents.periodic_report import ReportRefused, ReportRequest, write_report

    tx = ctx.tx
    today = args.at or ctx.clock.now().astimezone(ctx.config.tz).date()
    request = ReportRequest(
        args.programme,
        args.period,
        today,
        ctx.config.tz,
        args.office,
        ctx.config.settings.reminders.cycle_day,
        ctx.config.calendar(),
    )
    try:
        with ctx.unit_of_work() as session:
            written = write_report(session, request)
    except ReportRefused as exc:
        return ctx.fail(tx._("Không lập được báo cáo: {error}", error=str(exc)))
    target: Path = args.out or Path(written.file_name)
    if target.suffix.lower() != ".docx":
        return ctx.fail(tx._("Tên tệp phải kết thúc bằng .docx."))
    if target.is_dir():
        return ctx.fail(tx._("{path} là một thư mục; hãy ghi tên tệp .docx.", path=target))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(written.content)
    overall = written.summary.overall
    ctx.say(tx._("Đã ghi báo cáo {path}", path=target.resolve()))
    ctx.say(
        tx._(
            "{count} nhiệm vụ; hoàn thành {done}; quá hạn {overdue}; vướng mắc {blocked}; "
            "cơ quan ban hành {office}.",
            count=overall.count,
            done=overall.done,
            overdue=overall.overdue,
            blocked=overall.blocked,
            office=written.office_code,
        )
    )
    if args.pdf:
        return _pdf(ctx, target)
    return 0


def _pdf(ctx: CommandContext, document: Path) -> int:
    """Convert the document with LibreOffice, when it is installed; say clearly when it is not."""
    tx = ctx.tx
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        ctx.say(
            tx._(
                "Không có LibreOffice nên chưa tạo bản PDF; cài gói libreoffice-writer "
                "(Debian: apt-get install libreoffice-writer) rồi chạy lại với --pdf."
            ),
            style="yellow",
        )
        return 0
    try:
        subprocess.run(
            [
                office,
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(document.parent),
                str(document),
            ],  # fmt: skip
            check=True,
            capture_output=True,
            timeout=PDF_SECONDS,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return ctx.fail(tx._("LibreOffice không chuyển được {path} sang PDF.", path=document))
    ctx.say(tx._("Đã ghi bản PDF {path}", path=document.with_suffix(".pdf").resolve()))
    return 0
