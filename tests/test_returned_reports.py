"""A report the coordinating office returns stays in the history but no longer counts as where
the work stands; the agency's next report does."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from storage.aggregate.states import assignment_states
from storage.clock import FixedClock
from storage.db import Database
from storage.models import Agency, Assignment, Item, Member, Report, Review
from storage.programme.importer import import_programme
from storage.programme.spec import ProgrammeSpec
from storage.reports import append_report, settle_current
from tests.conftest import HANOI, hanoi


def _assignment(db: Database, spec: ProgrammeSpec, clock: FixedClock) -> tuple[int, int]:
    with db.unit_of_work() as s:
        import_programme(s, spec, clock.now())
        assignment_id = s.scalar(
            select(Assignment.id)
            .join(Item, Item.id == Assignment.item_id)
            .join(Agency, Agency.id == Assignment.agency_id)
            .where(Item.code == "2.5", Agency.code == "HY-GTVT")
        )
        office = Member(
            agency_id=s.scalar(select(Agency.id).where(Agency.code == "HY-KHDT")),
            name="Vũ Minh Hà",
            role="coordinator",
            created_at=clock.now(),
        )
        s.add(office)
        s.flush()
        assert assignment_id is not None
        return assignment_id, office.id


def _report(db: Database, assignment_id: int, status: str, percent: int, at: datetime) -> int:
    with db.unit_of_work() as s:
        return append_report(
            s,
            assignment_id=assignment_id,
            member_id=None,
            status=status,
            percent=percent,
            note=f"{status} {percent}",
            channel="telegram",
            at=at,
            tz=HANOI,
        )


def _return(db: Database, report_id: int, office_id: int, at: datetime) -> None:
    with db.unit_of_work() as s:
        s.add(Review(report_id=report_id, member_id=office_id, decision="returned",
                     reason="Đề nghị bổ sung số liệu", created_at=at))  # fmt: skip
        assignment_id = s.get(Report, report_id).assignment_id  # type: ignore[union-attr]
        settle_current(s, assignment_id, HANOI)


def _state(db: Database, assignment_id: int) -> tuple[str | None, int | None, date | None, str]:
    with db.unit_of_work() as s:
        (state,) = assignment_states(s, date(2019, 12, 20), assignment_ids=[assignment_id])
        return state.status, state.percent, state.completed_on, state.note


def test_a_returned_report_gives_way_to_the_one_before(
    db: Database, spec: ProgrammeSpec, clock: FixedClock
) -> None:
    assignment_id, office = _assignment(db, spec, clock)
    _report(db, assignment_id, "in_progress", 40, hanoi(2019, 12, 2, 9))
    done = _report(db, assignment_id, "done", 100, hanoi(2019, 12, 3, 9))
    assert _state(db, assignment_id) == ("done", 100, date(2019, 12, 3), "done 100")
    _return(db, done, office, hanoi(2019, 12, 4, 9))
    assert _state(db, assignment_id) == ("in_progress", 40, None, "in_progress 40")
    with db.unit_of_work() as s:  # the history keeps it
        assert s.get(Report, done) is not None
    _report(db, assignment_id, "done", 100, hanoi(2019, 12, 5, 9))
    assert _state(db, assignment_id) == ("done", 100, date(2019, 12, 5), "done 100")


def test_returning_the_only_report_leaves_nothing_reported(
    db: Database, spec: ProgrammeSpec, clock: FixedClock
) -> None:
    assignment_id, office = _assignment(db, spec, clock)
    only = _report(db, assignment_id, "in_progress", 30, hanoi(2019, 12, 2, 9))
    _return(db, only, office, hanoi(2019, 12, 2, 10) + timedelta(minutes=1))
    assert _state(db, assignment_id)[:2] == (None, None)
