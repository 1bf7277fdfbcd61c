"""The conversation service on both databases: redeliveries, idempotent outbox, choices."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers.core import split_choice
from handlers.events import Inbound, InboundFile
from handlers.service import ConversationService
from handlers.settings import ConversationSettings
from storage.clock import FixedClock
from storage.db import Database
from storage.models import Evidence, Member, Outbox, Report
from storage.outbox import Message, enqueue
from storage.people import PeopleError, create_invites
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


def invite(db: Database, clock: FixedClock, agency: str = "HY-GTVT", role: str = "reporter") -> str:
    """A fresh invite code for one person of `agency`."""
    with db.unit_of_work() as session:
        (made,) = create_invites(session, agency, role, 1, timedelta(days=1), clock.now(), "test")
        return made.code


async def test_a_redelivered_update_is_answered_once(
    service: ConversationService, db: Database, clock: FixedClock
) -> None:
    code = invite(db, clock)
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


async def test_what_no_store_can_hold_is_cleaned_where_it_is_typed(
    service: ConversationService, db: Database, clock: FixedClock
) -> None:
    """A NUL in a note and a file name over 300 characters failed every "Gửi báo cáo" on
    PostgreSQL; they are cleaned when they come in, and the report is stored."""
    code = invite(db, clock)
    seen = iter(range(100))

    async def say(text: str | None = None, file: InboundFile | None = None) -> str:
        event = Inbound("zalo", "u1", "u1", "Lan", text=text, file=file, update_key=str(next(seen)))
        return "\n".join(r.text for r in await service.handle(event, fetch))

    async def fetch(file: InboundFile) -> bytes:
        return b"%PDF-1.4 survey"

    await say(code)
    assert "Kiểm tra lại báo cáo" in await say("2.5 60% khảo\x00 sát")
    assert "Đã ghi nhận" in await say("1")
    for typed in ("/baocao", "2.5", "1", "60", "ghi\x00 chú\x1b"):
        await say(typed)
    name = "bien-ban-" * 50 + ".pdf"
    assert "Đã nhận tệp" in await say(
        file=InboundFile("document", name, "application/pdf", 15, "f1")
    )
    await say("1")
    assert "Đã ghi nhận" in await say("1")
    with db.unit_of_work() as session:
        notes = list(session.scalars(select(Report.note).order_by(Report.id)))
        (stored,) = session.scalars(select(Evidence.file_name))
    assert notes == ["khảo sát", "ghi chú"]
    assert len(stored) == 300 and stored.endswith(".pdf")


@pytest.mark.parametrize(
    ("agency", "role", "refused"),
    [
        ("HN-GTVT", "vice_chair", "HN-GTVT không phải nơi Phó Chủ tịch chỉ đạo chương trình nào"),
        ("HN-GTVT", "coordinator", "HN-GTVT không là cơ quan đầu mối của chương trình nào"),
        ("HN-KHDT", "vice_chair", "HN-KHDT không phải nơi Phó Chủ tịch chỉ đạo"),
        ("HN-UBND", "coordinator", "HN-UBND không là cơ quan đầu mối"),
        ("HN-UBND", "vice_chair", None),
        ("HY-KHDT", "coordinator", None),
        ("HN-GTVT", "reporter", None),
    ],
)
def test_a_role_is_invited_only_where_the_programmes_give_it(
    service: ConversationService,
    db: Database,
    clock: FixedClock,
    agency: str,
    role: str,
    refused: str | None,
) -> None:
    with db.unit_of_work() as session:
        if refused is None:
            assert create_invites(session, agency, role, 1, timedelta(days=1), clock.now(), "t")
            return
        with pytest.raises(PeopleError, match=refused):
            create_invites(session, agency, role, 1, timedelta(days=1), clock.now(), "t")


async def test_an_invite_whose_role_the_agency_lost_is_refused_when_used(
    service: ConversationService, db: Database, clock: FixedClock
) -> None:
    from sqlalchemy import update

    from storage.models import Agency, ProgrammeAgency

    code = invite(db, clock, "HN-KHDT", "coordinator")
    with db.unit_of_work() as session:
        khdt = session.scalars(select(Agency.id).where(Agency.code == "HN-KHDT")).one()
        session.execute(  # a new programme file no longer names it a coordinating office
            update(ProgrammeAgency)
            .where(ProgrammeAgency.agency_id == khdt)
            .values(coordinates=False)
        )
    replies = await service.handle(Inbound("zalo", "u9", "u9", "Mai", text=code))
    assert "dành cho cơ quan đầu mối, nhưng Sở Kế hoạch và Đầu tư Hà Nội hiện không là" in (
        replies[-1].text
    )
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 0
