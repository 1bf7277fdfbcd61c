"""Dates follow `[app] timezone`: the day a report counts as done, the period it falls in and
the report date in the Excel table are the deployment's calendar dates, not Hà Nội's."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from handlers.documents.workbook import HEADER_ROW, HEADERS
from handlers.events import Inbound
from handlers.service import ConversationService
from handlers.settings import ConversationSettings
from storage.aggregate.categories import Category
from storage.aggregate.states import assignment_states
from storage.clock import FixedClock
from storage.db import Database
from storage.models import Agency, Assignment, Item
from storage.people import create_invites
from tests.harness import copy_database, run_cli, write_config

PARIS = ZoneInfo("Europe/Paris")
# 21:00 on Wednesday 25 December in Paris, the day December's reports are due, is already
# 03:00 on 26 December in Hà Nội, the first day of January's reporting window.
EVENING = datetime(2019, 12, 25, 20, 0, tzinfo=UTC)
FRIDAY = FixedClock(datetime(2019, 12, 27, 9, 0, tzinfo=PARIS))


@pytest.fixture
async def paris(template: Path, tmp_path: Path) -> Path:
    """A deployment on the Paris clock where an official of HY-GTVT reported on the evening
    of 25/12: 2.5 done (due that very day) and 2.4.c at 60 %. Returns its config file."""
    config = write_config(tmp_path)
    text = config.read_text(encoding="utf-8").replace(
        "[app]\n", '[app]\ntimezone = "Europe/Paris"\n'
    )
    config.write_text(text, encoding="utf-8")
    db = copy_database(template, tmp_path)
    with db.unit_of_work() as session:
        of_2_5 = (
            select(Assignment.id)
            .join(Item, Item.id == Assignment.item_id)
            .join(Agency, Agency.id == Assignment.agency_id)
            .where(Item.code == "2.5", Agency.code == "HY-GTVT")
        )
        session.execute(
            update(Assignment)
            .where(Assignment.id == of_2_5.scalar_subquery())
            .values(due_date=date(2019, 12, 25))
        )
        code = create_invites(session, "HY-GTVT", "reporter", 1, timedelta(days=1), EVENING, "t")
    service = ConversationService(
        db, FixedClock(EVENING), ConversationSettings(), tz=PARIS, evidence_dir=tmp_path
    )

    async def say(text: str, key: str) -> str:
        event = Inbound("zalo", "u1", "u1", "Lan", text=text, update_key=key)
        return (await service.handle(event))[-1].text

    assert "Xin chào" in await say(code[0].code, "join")
    for n, line in enumerate(("2.5 hoàn thành", "2.4.c 60% đang làm")):
        assert "Kiểm tra lại báo cáo" in await say(line, f"report {n}")
        assert "Đã ghi nhận" in await say("1", f"send {n}")
    db.dispose()
    return config


def test_done_on_the_due_day_by_the_local_clock_is_done_on_time(paris: Path) -> None:
    db = Database.open(f"sqlite:///{paris.parent / 'tiendo.sqlite3'}")
    with db.unit_of_work() as session:
        states = assignment_states(session, date(2019, 12, 27), item_codes=["2.5"])
    db.dispose()
    done = next(s for s in states if s.agency_code == "HY-GTVT")
    assert done.completed_on == date(2019, 12, 25)
    assert done.category is Category.DONE_ON_TIME


def test_a_report_on_the_evening_it_is_due_counts_for_that_period(paris: Path) -> None:
    code, out = run_cli(paris, "summary", "--json", "--limit", "0", clock=FRIDAY)
    assert code == 0, out
    [data] = json.loads(out)  # one object per programme
    assert data["period"]["key"] == "2020-01" and data["period"]["reports_from"] == "2019-12-26"
    silent = {(s["item_code"], s["agency_code"]) for s in data["not_reported"]}
    assert ("2.4.c", "HY-GTVT") in silent  # December's report, nothing for January yet


def test_the_excel_table_shows_the_local_report_date(paris: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    code, out = run_cli(paris, "export", str(target), clock=FRIDAY)
    assert code == 0, out
    sheet = load_workbook(target)["Tổng hợp"]
    columns = [name for name, _ in HEADERS]
    rows = sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)
    row = next(r for r in rows if r[0] == "2.5" and r[2] == "Sở Giao thông vận tải Hưng Yên")
    reported = row[columns.index("Ngày báo cáo gần nhất")]
    assert reported is not None and reported.date() == date(2019, 12, 25)
