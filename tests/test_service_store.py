"""The conversation service on both databases: redeliveries, idempotent outbox, choices."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers.core import split_choice
from handlers.events import Inbound
from handlers.service import ConversationService
from handlers.settings import ConversationSettings
from storage.clock import FixedClock
from storage.db import Database
from storage.models import Member, Outbox, Report
from storage.outbox import Message, enqueue
from storage.people import create_invites
from storage.programme.importer import import_programme
from storage.programme.spec import ProgrammeSpec
from tests.conftest import HANOI


@pytest.fixture
def service(
    db: Database, clock: FixedClock, tmp_path: Path, spec: ProgrammeSpec
) -> ConversationService:
    with db.unit_of_work() as session:
        import_programme(session, spec, clock.now())
    return ConversationService(db, clock, ConversationSettings(), tz=HANOI, evidence_dir=tmp_path)


async def test_a_redelivered_update_is_answered_once(
    service: ConversationService, db: Database, clock: FixedClock
) -> None:
    with db.unit_of_work() as session:
        code = create_invites(
            session, "HY-GTVT", "reporter", 1, timedelta(days=1), clock.now(), "test"
        )[0].code
    join = Inbound("zalo", "u1", "u1", "Lan", text=code, update_key="m1")
    assert "Xin chào" in (await service.handle(join))[-1].text
    assert await service.handle(join) == []  # the same message id again: nothing
    quick = Inbound("zalo", "u1", "u1", "Lan", text="2.5 60% khảo sát", update_key="m2")
    confirm = await service.handle(quick)
    assert "Kiểm tra lại báo cáo" in confirm[-1].text
    send = Inbound("zalo", "u1", "u1", "Lan", text="1", update_key="m3")
    assert "Đã ghi nhận" in (await service.handle(send))[-1].text
    assert await service.handle(send) == []
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 1


def test_enqueue_tells_whether_it_added(
    db: Database, clock: FixedClock, service: ConversationService
) -> None:
    with db.unit_of_work() as session:
        create_invites(session, "HY-GTVT", "reporter", 1, timedelta(days=1), clock.now(), "t")
        from storage.models import Agency

        agency = session.scalars(select(Agency).where(Agency.code == "HY-GTVT")).one()
        member = Member(agency_id=agency.id, name="X", created_at=clock.now())
        session.add(member)
        session.flush()
        args = {
            "key": "k1",
            "member": member,
            "reason": "reminder",
            "message": Message("hi"),
            "due_at": clock.now(),
            "now": clock.now(),
        }
        assert enqueue(session, **args) is True
        assert enqueue(session, **args) is False
        assert session.scalar(select(func.count()).select_from(Outbox)) == 1


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("a1b2.s:done", ("a1b2", "s:done")),
        ("o:10.1", (None, "o:10.1")),
        ("r:12", (None, "r:12")),
        ("zz.x", (None, "zz.x")),
    ],
)
def test_menu_tokens_are_told_apart_from_item_codes(
    data: str, expected: tuple[str | None, str]
) -> None:
    assert split_choice(data) == expected


def test_old_update_ids_and_join_attempts_are_forgotten(db: Database, clock: FixedClock) -> None:
    from scheduler.jobs import prune_seen
    from storage.models import InboundSeen, JoinAttempt

    now = clock.now()
    with db.unit_of_work() as session:
        session.add_all(
            [
                InboundSeen(platform="zalo", key="old", seen_at=now - timedelta(days=31)),
                InboundSeen(platform="zalo", key="new", seen_at=now - timedelta(days=1)),
                JoinAttempt(platform="zalo", external_id="x", at=now - timedelta(days=40)),
            ]
        )
    with db.unit_of_work() as session:
        prune_seen(session, now)
    with db.unit_of_work() as session:
        assert list(session.scalars(select(InboundSeen.key))) == ["new"]
        assert session.scalar(select(func.count()).select_from(JoinAttempt)) == 0
