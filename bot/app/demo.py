"""`make demo`: the whole product on SQLite and loopback Bot APIs — no token, no internet.

Officials of both localities join and report over Telegram and Zalo, a coordinating office
asks for the summary and the Excel file, a Vice-Chair gives a directive, then the clock runs
through four months of reminders and digests. Everything lands under var/demo/.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from bot.loopback.stage import Person, Stage
from handlers.documents.workbook import write_workbook
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import Limits
from scheduler.settings import SchedulerSettings
from storage.aggregate.summary import Summary, summary
from storage.clock import FixedClock
from storage.db import Database
from storage.models import Outbox, Report
from storage.programme.file import load_programme_file
from storage.programme.importer import import_programme
from storage.programme.lookup import all_programmes

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "var" / "demo"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
console = Console(highlight=False)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HANOI)


# The real Hà Nội – Hưng Yên programme, and a composed Hà Nội – Hòa Bình one beside it.
PROGRAMMES = (
    ("ha-noi-hung-yen-2019.toml", at(2019, 7, 1, 8, 0)),
    ("ha-noi-hoa-binh-2019.toml", at(2019, 11, 1, 8, 0)),
)


async def conversations(stage: Stage) -> dict[str, Person]:
    """Officials from both sides join and report, by buttons and by one-line messages."""
    people = {
        "lan": await stage.join("Nguyễn Thị Lan", "HY-GTVT"),
        "minh": await stage.join("Trần Văn Minh", "HN-GTVT"),
        "hung": await stage.join("Lê Quang Hùng", "HN-CT", platform="zalo"),
        "tam": await stage.join("Phạm Thị Tâm", "HN-TNMT"),
        "hoa": await stage.join("Đỗ Thu Hoa", "HY-NN", platform="zalo"),
        "yen": await stage.join("Bùi Thị Yến", "HN-YT", platform="zalo"),
        "ha": await stage.join("Vũ Minh Hà", "HY-KHDT", role="coordinator"),
        "pct": await stage.join("Phó Chủ tịch UBND TP (demo)", "HN-UBND", role="vice_chair"),
    }
    lan, minh, hung, tam, hoa = (people[k] for k in ("lan", "minh", "hung", "tam", "hoa"))
    # A report with buttons, a note and a photo as evidence.
    await stage.say(lan, "/baocao")
    await stage.tap(lan, "2.5 Lĩnh vực giao thông")
    await stage.tap(lan, "Đang thực hiện")
    await stage.say(lan, "60")
    await stage.say(lan, "Đã khảo sát lộ trình Cầu Tràng – Bến xe Giáp Bát")
    await stage.send_file(lan, "khao-sat-tuyen-buyt.pdf", b"%PDF-1.4 demo", "application/pdf")
    await stage.tap(lan, "Tiếp tục")
    await stage.tap(lan, "Gửi báo cáo")
    # Quick reports, with and without diacritics, on Telegram and Zalo.
    await stage.say(minh, "2.5 30% đang lập đề án mở tuyến buýt")
    await stage.tap(minh, "Gửi báo cáo")
    # One Sở, two programmes: Minh reports on the Hòa Bình one too, naming it first;
    # Yến's 2.2.a exists in both of hers, so the bot asks which one (a number on Zalo).
    await stage.say(minh, "HB 3.b 20% đã khảo sát tuyến Hà Nội – Lương Sơn")
    await stage.tap(minh, "Gửi báo cáo")
    await stage.say(people["yen"], "2.2.a 50% đã cử 2 bác sĩ hỗ trợ Bệnh viện Đa khoa tỉnh")
    await stage.tap(people["yen"], "HB · 2.2.a")
    await stage.tap(people["yen"], "Gửi báo cáo")
    await stage.say(hung, "2.2.b hoan thanh")
    await stage.tap(hung, "Gửi báo cáo")
    await stage.say(tam, "2.6.c vuong mac 20")
    await stage.say(tam, "Chưa bố trí được vốn đối ứng cho quan trắc chung")
    await stage.tap(tam, "Tiếp tục")
    await stage.tap(tam, "Gửi báo cáo")
    await stage.say(hoa, "/baocao")
    await stage.tap(hoa, "2.2.a")
    await stage.tap(hoa, "Đang thực hiện")
    await stage.say(hoa, "45")
    await stage.tap(hoa, "Bỏ qua")
    await stage.tap(hoa, "Tiếp tục")
    await stage.tap(hoa, "Gửi báo cáo")
    # The coordinating office and the Vice-Chair.
    await stage.say(people["ha"], "/tonghop")
    await stage.say(people["ha"], "/quahan")
    exported = await stage.say(people["ha"], "/xuat")
    document = next((m.document for m in exported if m.document), None)
    if document is not None:
        (OUT / document[0]).write_bytes(document[1])
    await stage.say(
        people["pct"], "/chidao 2.6.c 15/01 Đề nghị bố trí vốn đối ứng cho quan trắc chung"
    )
    await stage.tap(people["pct"], "Gửi cơ quan chủ trì")
    return people


async def answer_reminders(stage: Stage, people: dict[str, Person], day: date) -> None:
    """Officials answer some reminders, from the reminder's own button or by item code."""
    lan, minh, tam, hoa = people["lan"], people["minh"], people["tam"], people["hoa"]
    if day == date(2020, 1, 20):
        await stage.tap(lan, "2.5")  # the button on her reminder opens the report directly
        await stage.tap(lan, "Đang thực hiện")
        await stage.say(lan, "80")
        await stage.say(lan, "Đã thống nhất lộ trình với Sở GTVT Hà Nội")
        await stage.tap(lan, "Tiếp tục")
        await stage.tap(lan, "Gửi báo cáo")
    elif day == date(2020, 2, 20):
        await stage.say(minh, "2.5 xong: tuyến buýt Hưng Yên – Hà Nội đã chạy thử")
        await stage.tap(minh, "Gửi báo cáo")
        await stage.say(hoa, "2.2.a 70 đã ký kết quy chế phối hợp an toàn thực phẩm")
        await stage.tap(hoa, "Gửi báo cáo")
    elif day == date(2020, 3, 20):
        await stage.say(tam, "2.6.c dang thuc hien 40 đã có vốn đối ứng theo chỉ đạo")
        await stage.tap(tam, "Gửi báo cáo")


async def time_travel(
    stage: Stage, db: Database, clock: FixedClock, until: date, people: dict[str, Person]
) -> list[str]:
    """Run the scheduler day by day through the outbox; return what each day sent."""
    from scheduler.jobs import SchedulerService

    settings = SchedulerSettings(tz=HANOI, data_dir=OUT)
    # The loopback servers have no limits; a real deployment keeps Telegram's (config.toml).
    dispatcher = Dispatcher(
        db, clock, stage.messengers, {"telegram": Limits(500, 100), "zalo": Limits(500, 100)}
    )
    scheduler = SchedulerService(db, clock, settings, on_enqueued=dispatcher.wake)
    log: list[str] = []
    day = clock.now().astimezone(HANOI).date() + timedelta(days=1)
    while day <= until:
        for hour, minute in ((7, 45), (8, 45), (16, 45)):
            clock.set(at(day.year, day.month, day.day, hour, minute))
            result = scheduler.tick()
            await dispatcher.drain(30)
            if result.enqueued:
                log.append(
                    f"{day:%a %d/%m/%Y} {hour:02d}:{minute:02d} "
                    + ", ".join(
                        f"{reason}: {count}" for reason, count in sorted(result.reasons.items())
                    )
                )
            if hour == 8:
                await answer_reminders(stage, people, day)
        day += timedelta(days=1)
    return log


def inboxes(stage: Stage, people: dict[str, Person]) -> str:
    """Everything each person received, reminders and digests included, in order."""
    parts = []
    for person in people.values():
        parts.append(f"===== {person.name} ({person.platform}) =====")
        parts += [said.text + "\n" for said in stage.received(person)]
    return "\n".join(parts)


def print_summary(db: Database, today: date) -> None:
    with db.unit_of_work() as session:
        for programme in all_programmes(session):
            print_programme(summary(session, today, tz=HANOI, programme_code=programme.code))


def print_programme(data: Summary) -> None:
    table = Table(title=f"{data.programme_label} — {data.programme_title} — {data.today:%d/%m/%Y}")
    table.add_column("Lĩnh vực / Field", overflow="fold")
    for column in ("Nhiệm vụ", "Tiến độ TB", "Xong", "Quá hạn"):
        table.add_column(column, justify="right")
    for group in data.by_field:
        tally = group.tally
        table.add_row(
            f"{group.code} {group.name}",
            str(tally.count),
            f"{tally.avg_percent:.0f}%",
            str(tally.done),
            str(tally.overdue),
        )
    console.print(table)
    console.print(
        f"Tỷ lệ báo cáo kỳ này / response rate: {data.response_rate:.0%}; "
        f"vướng mắc / blocked: {len(data.blocked)}"
    )


async def main() -> int:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    clock = FixedClock(at(2019, 12, 2, 9, 0))
    db = Database.open(f"sqlite:///{OUT / 'tiendo.sqlite3'}")
    console.rule("1. Hai chương trình / Two programmes")
    for name, imported in PROGRAMMES:
        with db.unit_of_work() as session:
            spec = load_programme_file(REPO / "programmes" / name)
            result = import_programme(session, spec, imported)
        console.print(
            f"{spec.alias} — {spec.title}: {result.items_created} nội dung / items, "
            f"{result.assignments_created} phân công / assignments "
            f"(từ thông báo / from the notice {spec.notice_source})"
        )
    async with Stage(db, clock, OUT) as stage:
        console.rule("2. Các cơ quan báo cáo / Officials report (Telegram + Zalo)")
        people = await conversations(stage)
        excerpt = stage.transcript().splitlines()
        start = next(i for i, line in enumerate(excerpt) if line.endswith(": /baocao"))
        console.print("\n".join(excerpt[start : start + 70]), markup=False)
        console.print(f"… ({len(excerpt)} dòng / lines in var/demo/transcript.txt)", style="dim")
        console.rule("3. Bốn tháng nhắc việc và bản tin / Four months of reminders and digests")
        days = await time_travel(stage, db, clock, date(2020, 3, 31), people)
        console.print("\n".join(days[:12] + ["…"] + days[-4:]), markup=False)
        (OUT / "transcript.txt").write_text(stage.transcript() + "\n", encoding="utf-8")
        (OUT / "inboxes.txt").write_text(inboxes(stage, people), encoding="utf-8")
    today = clock.now().astimezone(HANOI).date()
    with db.unit_of_work() as session:
        write_workbook(session, today, OUT / "tong-hop.xlsx", HANOI)
        sent = session.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(Outbox.status == "sent", Outbox.reason != "report")  # not chat confirmations
        )
        stored = session.scalar(select(func.count()).select_from(Report))
    charts = sorted((OUT / "charts").glob("*.png")) if (OUT / "charts").exists() else []
    if charts:
        shutil.copyfile(charts[-1], OUT / "digest-chart.png")
    console.rule("4. Kết quả / Result")
    print_summary(db, today)
    console.print(
        f"{stored} báo cáo / reports stored; {sent} tin nhắn nhắc việc và bản tin đã "
        f"gửi qua outbox / reminder and digest messages sent through the outbox"
    )
    console.print(f"Bản ghi hội thoại / transcript: {OUT / 'transcript.txt'}")
    console.print(
        f"Mọi tin nhắn mỗi người nhận, kể cả nhắc việc / every message each person "
        f"received, reminders included: {OUT / 'inboxes.txt'}"
    )
    console.print(f"Excel: {OUT / 'tong-hop.xlsx'}")
    if charts:
        console.print(f"Biểu đồ bản tin / digest chart: {OUT / 'digest-chart.png'}")
    console.print(f"Cơ sở dữ liệu / database: {OUT / 'tiendo.sqlite3'}")
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
