"""What coordinators and Vice-Chairs read: deadline categories, assignment states, summaries."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Date, String, literal, select
from sqlalchemy.orm import Session

from bench.summary_sql import figures_of, summary_sql
from bench.synthetic import build_synthetic, rebuild_current_state
from bot.cli.main import main
from bot.config import load_config
from handlers.documents.colours import CATEGORY_COLOURS
from handlers.texts import Texts
from storage.aggregate.categories import Category, categorize, category_sql
from storage.aggregate.states import assignment_states
from storage.aggregate.summary import summary
from storage.clock import FixedClock
from storage.db import Database
from storage.models import (
    Agency,
    Assignment,
    AssignmentRole,
    Item,
    Locality,
    Member,
    Programme,
    Report,
    Status,
)
from storage.notice.files import read_notice
from storage.periods import PeriodRule, parse_period
from storage.reports import ReportError, append_report, next_completed_on
from tests.conftest import hanoi
from tests.harness import HANOI, cli_context, write_config

PROGRAMMES = Path(__file__).resolve().parents[1] / "programmes"
TODAY = date(2019, 12, 2)  # the clock fixture's day
DUE = date(2019, 11, 30)
C = Category


# --- probes: plain queries and the reference rules the product is checked against -------


def latest_report(s: Session, assignment_id: int) -> Report | None:
    """The assignment's newest report (its current state), or None."""
    return s.scalars(
        select(Report).where(Report.assignment_id == assignment_id).order_by(Report.id.desc())
    ).first()


def report_history(s: Session, assignment_id: int) -> list[Report]:
    """Every report of the assignment, newest first (corrections included)."""
    return list(
        s.scalars(
            select(Report).where(Report.assignment_id == assignment_id).order_by(Report.id.desc())
        )
    )


def completed_on_from_history(history: list[tuple[str, datetime]]) -> date | None:
    """The completion date from (status, at) pairs, oldest first (the reference rule)."""
    completed: date | None = None
    previous: str | None = None
    for status, at in history:
        completed = next_completed_on(previous, completed, status, at, HANOI)
        previous = status
    return completed


def assignment_categories_sql(s: Session, today: date) -> dict[int, Category]:
    """Each active assignment's category as the SQL rule (`category_sql`) computes it."""
    category = category_sql(
        Assignment.current_status, Assignment.due_date, Assignment.completed_on, today
    )
    query = (
        select(Assignment.id, category)
        .join(Item, Item.id == Assignment.item_id)
        .where(Assignment.archived_at.is_(None), Item.archived_at.is_(None))
    )
    return {a: Category(c) for a, c in s.execute(query)}


# --- the rule ------------------------------------------------------------------------

CASES = [  # (status, due, completed_on, today, expected)
    (None, DUE, None, TODAY, C.NOT_REPORTED),
    (None, None, None, TODAY, C.NOT_REPORTED),
    ("done", DUE, DUE, TODAY, C.DONE_ON_TIME),  # done exactly on the due date
    ("done", DUE, date(2019, 12, 1), TODAY, C.DONE_LATE),
    ("done", DUE, date(2019, 11, 1), TODAY, C.DONE_ON_TIME),
    ("done", None, date(2025, 1, 1), TODAY, C.DONE_ON_TIME),  # no due date: never late
    ("in_progress", DUE, None, DUE, C.IN_PROGRESS_ON_TIME),  # the due day itself
    ("in_progress", DUE, None, date(2019, 12, 1), C.IN_PROGRESS_OVERDUE),
    ("not_started", DUE, None, TODAY, C.IN_PROGRESS_OVERDUE),
    ("not_started", DUE, None, date(2019, 11, 1), C.IN_PROGRESS_ON_TIME),
    ("blocked", DUE, None, date(2019, 11, 29), C.IN_PROGRESS_ON_TIME),
    ("blocked", DUE, None, TODAY, C.IN_PROGRESS_OVERDUE),
    ("in_progress", None, None, date(2030, 1, 1), C.IN_PROGRESS_ON_TIME),  # no due date
]


@pytest.mark.parametrize(("status", "due", "completed", "today", "expected"), CASES)
def test_categorize_and_its_sql_agree_on_every_branch(
    db: Database,
    status: str | None,
    due: date | None,
    completed: date | None,
    today: date,
    expected: Category,
) -> None:
    assert categorize(status, due, completed, today) is expected
    expression = category_sql(
        literal(status, String()), literal(due, Date()), literal(completed, Date()), today
    )
    with db.unit_of_work() as s:
        assert s.scalar(select(expression)) == expected.value


def test_every_category_has_a_vietnamese_label_and_a_colour() -> None:
    assert Texts("vi").category(C.DONE_ON_TIME) == "Hoàn thành đúng hạn"
    assert Texts("en").category(C.DONE_ON_TIME) == "Done on time"
    assert Texts("vi").category(C.IN_PROGRESS_OVERDUE) == "Đang thực hiện quá hạn"
    assert set(CATEGORY_COLOURS) == set(Category)
    assert len(set(CATEGORY_COLOURS.values())) == len(Category)


@pytest.mark.parametrize(
    ("notice", "code", "field", "section"),
    [
        ("ha-noi-hung-yen-2019-notice.txt", "2.5", "2.5", "2"),
        ("ha-noi-hung-yen-2019-notice.txt", "2.2.b", "2.2", "2"),
        ("ha-noi-hung-yen-2019-notice.txt", "1.3", "1.3", "1"),
        ("ha-noi-hung-yen-2019-notice.txt", "III.1", "III.1", "III.1"),
        # Lettered sub-points roll up to their point, and points to their section.
        ("ha-noi-hoa-binh-2019-notice.txt", "3.a", "3", "3"),
        ("ha-noi-hoa-binh-2019-notice.txt", "1.1.b", "1.1", "1"),
        ("ha-noi-hoa-binh-2019-notice.txt", "2.2.a", "2.2", "2"),
    ],
)
def test_items_roll_up_along_the_notice_tree(
    notice: str, code: str, field: str, section: str
) -> None:
    parsed = read_notice(PROGRAMMES / notice)
    assert parsed.roll_up(code) == (field, section)


# --- a small programme a coordinator could check by hand ---------------------------------


@dataclass
class Store:
    """The hand-built store: assignments by name (see build_store)."""

    a: dict[str, Assignment]
    members: dict[str, Member]
    programme: Programme


def build_store(s: Session) -> Store:
    """Two localities, four agencies, items 1 → 1.1 and 2 → 2.5 → 2.5.a/b, 2.9, and reports.

    On 2 December 2019 (period: December):
      A1 2.5.a HN-GTVT lead  due 30/11  done on 30/11 16:00      → done on time
      A2 2.5.a HY-GTVT supp. due 30/11  40 % on 20/11            → in progress, overdue; silent
      A3 2.5.b HY-GTVT lead  due 30/06  blocked on 02/12 08:00   → in progress, on time
      A4 2.5.b HN-GTVT supp. due 30/06  nothing                  → not reported; silent
      A5 2.9   HY-LĐTBXH lead due 31/10 done on 10/11            → done late
      A6 1.1   HN-XD lead    due 15/11  nothing                  → not reported, overdue; silent
      A7 1.1   HY-LĐTBXH lead no due    20 % on 01/12            → in progress, on time
      A8 on an archived item, A9 archived: never counted.
    """
    moment = hanoi(2019, 7, 1, 8)
    hn, hy = Locality(code="HN", name="Thành phố Hà Nội"), Locality(code="HY", name="Tỉnh Hưng Yên")
    agencies = {
        "HN-GTVT": Agency(code="HN-GTVT", name="Sở Giao thông vận tải Hà Nội", locality=hn),
        "HY-GTVT": Agency(code="HY-GTVT", name="Sở Giao thông vận tải Hưng Yên", locality=hy),
        "HN-XD": Agency(code="HN-XD", name="Sở Xây dựng Hà Nội", locality=hn),
        "HY-LDTBXH": Agency(
            code="HY-LDTBXH", name="Sở Lao động – Thương binh và Xã hội Hưng Yên", locality=hy
        ),
    }
    programme = Programme(
        code="HNHY-2019", title="Chương trình hợp tác Hà Nội – Hưng Yên", imported_at=moment
    )
    s.add_all([hn, hy, programme, *agencies.values()])
    s.flush()
    members = {
        code: Member(agency_id=a.id, name=f"Cán bộ {code}", created_at=moment)
        for code, a in agencies.items()
    }
    s.add_all(members.values())
    items: dict[str, Item] = {}
    for position, (code, parent, title, archived) in enumerate(
        [
            ("1", None, "Công tác xây dựng Đảng", False),
            ("1.1", "1", "Trao đổi kinh nghiệm công tác xây dựng Đảng", False),
            ("2", None, "Hợp tác phát triển kinh tế – xã hội", False),
            ("2.5", "2", "Giao thông", False),
            ("2.5.a", "2.5", "Mở tuyến xe buýt Hưng Yên – Hà Nội", False),
            ("2.5.b", "2.5", "Nghiên cứu cầu Mễ Sở, đường Vành đai 4", False),
            ("2.9", "2", "Hỗ trợ quỹ an sinh xã hội 3 tỷ đồng", False),
            ("2.10", "2", "Nội dung đã bãi bỏ", True),
        ]
    ):
        field = ".".join(code.split(".")[:2])
        item = Item(
            programme_id=programme.id,
            code=code,
            title=title,
            position=position,
            field_code=field,
            section_code=code.split(".")[0],
            kind="item",
            parent_id=items[parent].id if parent else None,
            archived_at=moment if archived else None,
        )
        s.add(item)
        s.flush()
        items[code] = item
    lead, support = AssignmentRole.LEAD, AssignmentRole.SUPPORT
    plan = {
        "A1": ("2.5.a", "HN-GTVT", lead, DUE),
        "A2": ("2.5.a", "HY-GTVT", support, DUE),
        "A3": ("2.5.b", "HY-GTVT", lead, date(2020, 6, 30)),
        "A4": ("2.5.b", "HN-GTVT", support, date(2020, 6, 30)),
        "A5": ("2.9", "HY-LDTBXH", lead, date(2019, 10, 31)),
        "A6": ("1.1", "HN-XD", lead, date(2019, 11, 15)),
        "A7": ("1.1", "HY-LDTBXH", lead, None),
        "A8": ("2.10", "HN-GTVT", lead, DUE),
        "A9": ("2.9", "HN-XD", support, DUE),
    }
    a = {
        name: Assignment(
            item_id=items[i].id,
            agency_id=agencies[g].id,
            role=role,
            due_date=due,
            archived_at=moment if name == "A9" else None,
        )
        for name, (i, g, role, due) in plan.items()
    }
    s.add_all(a.values())
    s.flush()
    for name, status, percent, note, at in [
        ("A1", Status.IN_PROGRESS, 50, "Đã khảo sát lộ trình", hanoi(2019, 10, 15, 9)),
        ("A3", Status.IN_PROGRESS, 30, "Đang lập báo cáo nghiên cứu", hanoi(2019, 11, 5, 10)),
        ("A5", Status.DONE, 100, "Đã chuyển 3 tỷ đồng", hanoi(2019, 11, 10, 14)),
        ("A2", Status.IN_PROGRESS, 40, "Đang bố trí điểm dừng", hanoi(2019, 11, 20, 15)),
        ("A8", Status.IN_PROGRESS, 10, "", hanoi(2019, 11, 21, 9)),
        ("A1", Status.DONE, 100, "Tuyến xe buýt 208 đã chạy", hanoi(2019, 11, 30, 16)),
        ("A7", Status.IN_PROGRESS, 20, "Đã cử đoàn công tác", hanoi(2019, 12, 1, 10)),
        ("A3", Status.BLOCKED, 30, "Vướng mặt bằng, đề nghị chỉ đạo", hanoi(2019, 12, 2, 8)),
    ]:
        assignment = a[name]
        member = members[
            next(code for code, ag in agencies.items() if ag.id == assignment.agency_id)
        ]
        append_report(
            s,
            assignment_id=assignment.id,
            member_id=member.id,
            status=status,
            percent=percent,
            note=note,
            channel="telegram",
            at=at,
            tz=HANOI,
        )
    return Store(a, members, programme)


def test_summary_gives_the_numbers_a_coordinator_counts_by_hand(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        result = summary(s, TODAY, tz=HANOI)
    o = result.overall
    # Decree 09's December: data from 15/11 to 14/12, reports counted from 26/11 to 25/12.
    assert result.period.key == "2019-12"
    assert (result.period.window_start, result.period.due) == (
        date(2019, 11, 26),
        date(2019, 12, 25),
    )
    assert o.count == 7  # the archived item and the archived assignment are left out
    assert dict(o.categories) == {
        C.DONE_ON_TIME: 1,
        C.DONE_LATE: 1,
        C.IN_PROGRESS_ON_TIME: 2,
        C.IN_PROGRESS_OVERDUE: 1,
        C.NOT_REPORTED: 2,
    }
    assert o.percent_sum == 290 and round(o.avg_percent, 2) == 41.43
    assert o.done_share == pytest.approx(2 / 7)
    assert (o.open, o.open_reported, o.overdue, o.blocked) == (5, 2, 2, 1)
    assert result.response_rate == pytest.approx(0.4)
    assert [(g.code, g.name, g.tally.count) for g in result.by_field] == [
        ("1.1", "Trao đổi kinh nghiệm công tác xây dựng Đảng", 2),
        ("2.5", "Giao thông", 4),
        ("2.9", "Hỗ trợ quỹ an sinh xã hội 3 tỷ đồng", 1),
    ]
    assert [(g.code, g.tally.count, g.tally.done) for g in result.by_locality] == [
        ("HN", 3, 1),
        ("HY", 4, 1),
    ]
    assert [(g.code, g.tally.count) for g in result.by_agency] == [
        ("HN-GTVT", 2),
        ("HN-XD", 1),
        ("HY-GTVT", 2),
        ("HY-LDTBXH", 2),
    ]
    ids = {v.id: k for k, v in store.a.items()}
    assert [ids[x.assignment_id] for x in result.overdue] == ["A6", "A2"]  # most overdue first
    assert [ids[x.assignment_id] for x in result.blocked] == ["A3"]
    assert result.blocked[0].note == "Vướng mặt bằng, đề nghị chỉ đạo"
    assert [ids[x.assignment_id] for x in result.not_reported] == ["A6", "A2", "A4"]
    assert figures_of(result) == summary_sql(s, TODAY, tz=HANOI)


def test_response_rate_and_silent_list_follow_the_period(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        period = parse_period("2019-11")
        november = summary(s, TODAY, tz=HANOI, period=period)
        ids = {v.id: k for k, v in store.a.items()}
        # November's reports count from 26/10 to 25/11: A2 and A3; A7 only on 1 December.
        assert november.overall.open_reported == 2
        assert [ids[x.assignment_id] for x in november.not_reported] == ["A6", "A7", "A4"]
        assert figures_of(november) == summary_sql(s, TODAY, tz=HANOI, period=period)
        # The fourth quarter counts from 26/09 to 25/12: A2, A3 and A7 reported.
        quarter = summary(s, TODAY, tz=HANOI, period=parse_period("2019-Q4"))
        assert quarter.overall.open_reported == 3
        assert quarter.response_rate == pytest.approx(3 / 5)
        # Calendar periods: a report on 2/12 counts for November (due 25/12).
        calendar = summary(
            s, TODAY, tz=HANOI, period=parse_period("2019-11", PeriodRule.CALENDAR, 25)
        )
        assert calendar.overall.open_reported == 2


def test_a_correction_is_a_new_row_that_becomes_the_state(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        a7 = store.a["A7"]
        first = latest_report(s, a7.id)
        assert first is not None and first.percent == 20
        fixed = append_report(
            s,
            assignment_id=a7.id,
            member_id=store.members["HY-LDTBXH"].id,
            status=Status.IN_PROGRESS,
            percent=35,
            note="Sửa: 35 %, không phải 20 %",
            channel="zalo",
            at=clock.now(),
            tz=HANOI,
            corrects_id=first.id,
        )
        history = report_history(s, a7.id)
        assert [r.percent for r in history] == [35, 20]  # newest first, both kept
        assert history[0].corrects_id == first.id and history[0].id == fixed
        assert a7.current_percent == 35  # the loaded assignment reads the new state
        state = assignment_states(s, TODAY, item_codes=["1.1"], agency_ids=[a7.agency_id])[0]
        assert (state.percent, state.note, state.report_id) == (35, history[0].note, fixed)
        assert state.reporter_name == "Cán bộ HY-LDTBXH"


def test_completion_date_is_the_start_of_the_last_run_of_done(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        a1 = store.a["A1"]  # done on 30/11 16:00, due 30/11
        member = store.members["HN-GTVT"]
        first_done = latest_report(s, a1.id)
        assert first_done is not None
        # A correction that keeps "done" does not move the completion date...
        append_report(
            s,
            assignment_id=a1.id,
            member_id=member.id,
            status="done",
            percent=100,
            note="Bổ sung ảnh",
            channel="telegram",
            at=hanoi(2019, 12, 3, 9),
            tz=HANOI,
            corrects_id=first_done.id,
        )
        assert a1.completed_on == date(2019, 11, 30)
        assert (
            assignment_states(s, date(2019, 12, 5), item_codes=["2.5.a"])[0].category
            is C.DONE_ON_TIME
        )
        # ...reopening and finishing again does, and makes it late.
        append_report(
            s,
            assignment_id=a1.id,
            member_id=member.id,
            status="in_progress",
            percent=90,
            note="Điều chỉnh lộ trình",
            channel="telegram",
            at=hanoi(2019, 12, 4, 9),
            tz=HANOI,
        )
        assert a1.completed_on is None
        append_report(
            s,
            assignment_id=a1.id,
            member_id=member.id,
            status="done",
            percent=100,
            note="Chạy lại",
            channel="telegram",
            at=hanoi(2019, 12, 6, 9),
            tz=HANOI,
        )
        state = [
            x
            for x in assignment_states(s, date(2019, 12, 9), item_codes=["2.5.a"])
            if x.assignment_id == a1.id
        ][0]
        assert (state.completed_on, state.category) == (date(2019, 12, 6), C.DONE_LATE)


def test_done_late_on_new_year_night_is_judged_on_the_hanoi_clock(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        a3, a4 = store.a["A3"], store.a["A4"]
        a3.due_date = a4.due_date = date(2019, 12, 31)
        # 23:30 in Hà Nội is still 31/12 (16:30 UTC); 00:30 is 1/1 though still 31/12 in UTC.
        append_report(
            s,
            assignment_id=a3.id,
            member_id=None,
            status="done",
            percent=100,
            note="",
            channel="cli",
            at=hanoi(2019, 12, 31, 23, 30),
            tz=HANOI,
        )
        late = hanoi(2020, 1, 1, 0, 30)
        assert late.astimezone(UTC).date() == date(2019, 12, 31)
        append_report(
            s,
            assignment_id=a4.id,
            member_id=None,
            status="done",
            percent=100,
            note="",
            channel="cli",
            at=late,
            tz=HANOI,
        )
        states = {x.assignment_id: x for x in assignment_states(s, date(2020, 1, 6))}
        assert states[a3.id].category is C.DONE_ON_TIME
        assert states[a4.id].category is C.DONE_LATE
        assert assignment_categories_sql(s, date(2020, 1, 6))[a4.id] is C.DONE_LATE


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"percent": 101}, "0 to 100"),
        ({"percent": -1}, "0 to 100"),
        ({"status": "finished"}, "status must be one of"),
        ({"at": datetime(2019, 12, 2, 9)}, "aware"),
    ],
)
def test_a_report_out_of_range_is_refused_and_nothing_is_stored(
    db: Database, change: dict[str, object], message: str
) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        a6 = store.a["A6"]
        fields: dict[str, object] = {
            "status": "in_progress",
            "percent": 10,
            "note": "",
            "channel": "telegram",
            "at": hanoi(2019, 12, 2, 9),
            "tz": HANOI,
        } | change
        with pytest.raises(ReportError, match=message):
            append_report(s, assignment_id=a6.id, member_id=None, **fields)  # type: ignore[arg-type]
        assert report_history(s, a6.id) == [] and a6.current_status is None


def test_a_correction_must_point_at_a_report_of_the_same_assignment(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        other = latest_report(s, store.a["A1"].id)
        assert other is not None
        with pytest.raises(ReportError, match="not a report of this assignment"):
            append_report(
                s,
                assignment_id=store.a["A7"].id,
                member_id=None,
                status="done",
                percent=100,
                note="",
                channel="cli",
                at=hanoi(2019, 12, 2, 9),
                tz=HANOI,
                corrects_id=other.id,
            )


def test_a_report_on_another_agencys_or_a_missing_assignment_is_refused(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        a6 = store.a["A6"]
        outsider = next(m for m in store.members.values() if m.agency_id != a6.agency_id)
        fields: dict[str, Any] = {
            "status": "in_progress",
            "percent": 10,
            "note": "",
            "channel": "telegram",
            "at": hanoi(2019, 12, 2, 9),
            "tz": HANOI,
        }
        with pytest.raises(PermissionError, match="another agency"):
            append_report(
                s,
                assignment_id=a6.id,
                member_id=outsider.id,
                agency_id=outsider.agency_id,
                **fields,
            )
        with pytest.raises(ReportError, match="no assignment"):
            append_report(s, assignment_id=999_999, member_id=None, **fields)
        assert report_history(s, a6.id) == [] and a6.current_status is None
        owner = next(m for m in store.members.values() if m.agency_id == a6.agency_id)
        append_report(
            s, assignment_id=a6.id, member_id=owner.id, agency_id=owner.agency_id, **fields
        )
        assert [r.member_id for r in report_history(s, a6.id)] == [owner.id]


def test_states_are_filtered_and_in_document_order(db: Database) -> None:
    with db.unit_of_work() as s:
        store = build_store(s)
        ids = {v.id: k for k, v in store.a.items()}

        def names(**filters: object) -> list[str]:
            return [ids[x.assignment_id] for x in assignment_states(s, TODAY, **filters)]  # type: ignore[arg-type]

        assert names() == ["A6", "A7", "A1", "A2", "A4", "A3", "A5"]
        assert names(item_codes=["2.5"]) == ["A1", "A2", "A4", "A3"]  # the bullets below too
        assert names(locality_code="HY") == ["A7", "A2", "A3", "A5"]
        assert names(leads_only=True) == ["A6", "A7", "A1", "A3", "A5"]
        assert names(agency_ids=[store.a["A1"].agency_id]) == ["A1", "A4"]
        a2 = assignment_states(s, TODAY, item_codes=["2.5.a"], locality_code="HY")[0]
    assert (a2.item_code, a2.field_code, a2.agency_code, a2.locality_code) == (
        "2.5.a",
        "2.5",
        "HY-GTVT",
        "HY",
    )
    assert a2.overdue and a2.days_left(TODAY) == -2 and a2.category is C.IN_PROGRESS_OVERDUE


def test_summary_lists_respect_the_limit_but_counts_do_not(db: Database) -> None:
    with db.unit_of_work() as s:
        build_store(s)
        capped = summary(s, TODAY, tz=HANOI, limit=1)
    assert len(capped.not_reported) == 1 and capped.overall.not_reported == 3
    assert capped.overdue[0].item_code == "1.1"  # the most overdue one


# --- the SQL rule against the Python rule on random data ---------------------------------


def _expected_categories(s: Session, today: date) -> dict[int, Category]:
    """Categories from the full report history, through the Python rule only."""
    history: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for assignment_id, status, at in s.execute(
        select(Report.assignment_id, Report.status, Report.created_at).order_by(Report.id)
    ):
        history[assignment_id].append((status, at))
    expected = {}
    for assignment_id, due in s.execute(
        select(Assignment.id, Assignment.due_date)
        .join(Item)
        .where(Assignment.archived_at.is_(None), Item.archived_at.is_(None))
    ):
        past = history.get(assignment_id, [])
        status = past[-1][0] if past else None
        expected[assignment_id] = categorize(status, due, completed_on_from_history(past), today)
    return expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_categories_match_python_on_random_histories(db: Database, seed: int) -> None:
    with db.unit_of_work() as s:
        built = build_synthetic(
            s, assignments=400, reports=3000, seed=seed, today=date(2020, 6, 26)
        )
        assert built.reports == 3000
        seen: set[Category] = set()
        for today in (
            date(2019, 8, 1),
            TODAY,
            date(2020, 3, 15),
            date(2020, 6, 26),
            date(2021, 1, 1),
        ):
            expected = _expected_categories(s, today)
            assert assignment_categories_sql(s, today) == expected
            assert {x.assignment_id: x.category for x in assignment_states(s, today)} == expected
            seen |= set(expected.values())
        assert seen == set(Category)  # every branch was exercised
        for period in (None, parse_period("2020-05"), parse_period("2020-H1")):
            result = summary(s, date(2020, 6, 26), tz=HANOI, period=period)
            assert figures_of(result) == summary_sql(s, date(2020, 6, 26), tz=HANOI, period=period)


def test_the_cached_state_matches_the_history(db: Database) -> None:
    columns = (
        Assignment.id,
        Assignment.latest_report_id,
        Assignment.current_status,
        Assignment.current_percent,
        Assignment.last_reported_at,
        Assignment.completed_on,
    )
    with db.unit_of_work() as s:
        build_synthetic(s, assignments=300, reports=2500, seed=7, today=date(2020, 6, 26))
        built = s.execute(select(*columns).order_by(Assignment.id)).all()
        assert rebuild_current_state(s) > 0
        assert s.execute(select(*columns).order_by(Assignment.id)).all() == built
        assert any(row.completed_on for row in built)
        done = next(row for row in built if row.completed_on)
        last = latest_report(s, done.id)
        assert last is not None and last.status == "done"
        assert last.created_at.astimezone(HANOI).date() >= done.completed_on


# --- the command ---------------------------------------------------------------------


def test_summary_json_through_the_cli(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    database = Database.open(load_config(config).database_url)
    with database.unit_of_work() as s:
        build_synthetic(s, assignments=250, reports=1500, seed=5, today=TODAY)
        expected = summary(s, TODAY, tz=HANOI, limit=5)
    database.dispose()
    out = io.StringIO()
    ctx = cli_context(None, FixedClock(hanoi(2019, 12, 2, 9)), file=out)
    assert main(["--config", str(config), "summary", "--json", "--limit", "5"], ctx=ctx) == 0
    [data] = json.loads(out.getvalue())  # one object per programme
    assert data["today"] == "2019-12-02" and data["period"]["key"] == "2019-12"
    assert (data["period"]["reports_from"], data["period"]["due"]) == ("2019-11-26", "2019-12-25")
    assert data["overall"]["count"] == expected.overall.count > 200
    assert sum(data["overall"]["categories"].values()) == data["overall"]["count"]
    assert (
        data["overall"]["categories"]["not_reported"] == expected.overall.categories[C.NOT_REPORTED]
    )
    assert [f["code"] for f in data["by_field"]] == [g.code for g in expected.by_field]
    assert [x["code"] for x in data["by_locality"]] == ["HN", "HY"]
    assert len(data["not_reported"]) == 5
    assert data["overdue"][0]["overdue"] is True


def config_with_store(folder: Path) -> Path:
    """A config whose SQLite file holds the hand-built store."""
    config = write_config(folder)
    database = Database.open(load_config(config).database_url)
    with database.unit_of_work() as s:
        build_store(s)
    database.dispose()
    return config


def test_summary_tables_through_the_cli(tmp_path: Path) -> None:
    config = config_with_store(tmp_path)
    out = io.StringIO()
    ctx = cli_context(None, FixedClock(hanoi(2019, 12, 2, 9)), width=240, file=out)
    assert main(["--config", str(config), "summary"], ctx=ctx) == 0
    text = out.getvalue()
    for words in (
        "Tổng quan",
        "Hoàn thành đúng hạn",
        "Theo lĩnh vực",
        "Quá hạn (2)",
        "Vướng mắc (1)",
        "Sở Giao thông vận tải Hưng Yên",
        "Tỷ lệ báo cáo trong kỳ",
        "40.0%",
    ):
        assert words in text
