"""The members an office manages: listed with their ids, heads marked, stand-ins checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import load_config
from storage.db import Database
from storage.models import Absence, Agency, AuditLog, Conversation, Identity, Member, Report
from tests.conftest import hanoi
from tests.harness import REPO, run_cli, write_config

SECOND = REPO / "programmes" / "ha-noi-hoa-binh-2019.toml"
JOINED = hanoi(2019, 7, 2, 8)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    assert run_cli(path, "import")[0] == 0
    assert run_cli(path, "import", str(SECOND))[0] == 0
    return path


@pytest.fixture
def db(config: Path) -> Iterator[Database]:
    database = Database.open(load_config(config).database_url)
    yield database
    database.dispose()


def _member(db: Database, agency: str, name: str, **extra: object) -> int:
    with db.unit_of_work() as s:
        agency_id = s.scalars(select(Agency.id).where(Agency.code == agency)).one()
        member = Member(agency_id=agency_id, name=name, created_at=JOINED, **extra)
        s.add(member)
        s.flush()
        return member.id


def _wrote(db: Database, member_id: int, platform: str, user: str, at: datetime) -> None:
    """Link a chat account whose last message the bot handled at `at`."""
    with db.unit_of_work() as s:
        s.add(
            Identity(
                member_id=member_id,
                platform=platform,
                external_id=user,
                chat_id=user,
                linked_at=JOINED,
            )
        )
        s.add(
            Conversation(
                platform=platform,
                external_id=user,
                state="idle",
                draft={},
                menu_token="t",
                updated_at=at,
            )
        )


def _reported(db: Database, member_id: int, at: datetime) -> None:
    with db.unit_of_work() as s:
        member = s.get(Member, member_id)
        assert member is not None
        s.add(
            Report(
                assignment_id=1,
                member_id=member_id,
                agency_id=member.agency_id,
                agency_name="x",
                status="in_progress",
                percent=10,
                created_at=at,
            )
        )


def _members(config: Path, *args: str) -> dict[str, dict[str, object]]:
    code, out = run_cli(config, "members", *args, "--json")
    assert code == 0, out
    return {row["name"]: row for row in json.loads(out)}


def test_members_are_listed_with_ids_platforms_and_last_activity(
    config: Path, db: Database
) -> None:
    lan = _member(db, "HY-GTVT", "Nguyễn Thị Lan")
    binh = _member(db, "HY-GTVT", "Trần Văn Bình")
    minh = _member(db, "HN-YT", "Lê Minh", role="reporter")
    gone = _member(db, "HN-YT", "Đã nghỉ", revoked_at=JOINED)
    _wrote(db, lan, "telegram", "7", hanoi(2019, 11, 30, 16, 5))
    _reported(db, lan, hanoi(2019, 11, 28, 9))
    _wrote(db, minh, "zalo", "8", hanoi(2019, 11, 1, 9))
    _reported(db, minh, hanoi(2019, 11, 20, 10, 30))  # a report after the last message

    everyone = _members(config)
    assert "Đã nghỉ" not in everyone and gone not in [r["id"] for r in everyone.values()]
    row = everyone["Nguyễn Thị Lan"]
    assert (row["id"], row["agency"], row["role"], row["head"]) == (
        lan,
        "HY-GTVT",
        "reporter",
        False,
    )
    assert row["platforms"] == ["telegram"]
    assert row["last_activity"] == "2019-11-30T16:05:00+07:00"
    assert everyone["Lê Minh"]["last_activity"] == "2019-11-20T10:30:00+07:00"
    assert everyone["Trần Văn Bình"]["last_activity"] is None
    assert everyone["Trần Văn Bình"]["id"] == binh

    assert set(_members(config, "--agency", "hy-gtvt")) == {"Nguyễn Thị Lan", "Trần Văn Bình"}
    assert set(_members(config, "--programme", "HB")) == {"Lê Minh"}  # HY-GTVT is not in HB

    code, out = run_cli(config, "members")
    assert code == 0
    line = next(x for x in out.splitlines() if "Nguyễn Thị Lan" in x)
    assert str(lan) in line and "telegram" in line and "30/11/2019 16:05" in line


def test_an_unknown_agency_or_member_gets_one_line(
    config: Path, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(config, "members", "--agency", "HY-XYZ")[0] == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'unknown agency code "HY-XYZ"' in err
    assert run_cli(config, "member", "head", "999")[0] == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no active member 999" in err


def test_the_head_of_an_agency_is_marked_and_unmarked(config: Path, db: Database) -> None:
    director = _member(db, "HY-GTVT", "Phạm Văn Hùng")
    _member(db, "HY-GTVT", "Nguyễn Thị Lan")
    code, out = run_cli(config, "member", "head", str(director))
    assert code == 0
    assert f"Đã đánh dấu thành viên số {director} là lãnh đạo HY-GTVT" in out
    assert f"Lãnh đạo HY-GTVT: Phạm Văn Hùng (số {director})" in out
    rows = _members(config, "--agency", "HY-GTVT")
    assert rows["Phạm Văn Hùng"]["head"] and not rows["Nguyễn Thị Lan"]["head"]
    _, table = run_cli(config, "members", "--agency", "HY-GTVT")
    assert "✓" in next(x for x in table.splitlines() if "Phạm Văn Hùng" in x)

    code, out = run_cli(config, "member", "head", str(director), "--off")
    assert code == 0 and "Lãnh đạo HY-GTVT: –" in out
    assert not _members(config, "--agency", "HY-GTVT")["Phạm Văn Hùng"]["head"]
    with db.unit_of_work() as s:
        marks = [
            e.detail["head"]
            for e in s.scalars(select(AuditLog).where(AuditLog.action == "member.head"))
        ]
    assert marks == [True, False]


def test_a_stand_in_of_another_agency_is_asked_about(
    config: Path, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    lan = _member(db, "HY-GTVT", "Nguyễn Thị Lan")
    colleague = _member(db, "HY-GTVT", "Trần Văn Bình")
    outsider = _member(db, "HN-YT", "Lê Minh")

    code, out = run_cli(config, "member", "absence", str(lan), "--stand-in", str(outsider))
    err = capsys.readouterr().err
    assert code == 1
    assert "Lê Minh (HN-YT) không cùng cơ quan với Nguyễn Thị Lan (HY-GTVT)" in out
    assert "--yes" in err and err.count("\n") == 1
    with db.unit_of_work() as s:
        assert s.scalars(select(Absence)).all() == []

    code, out = run_cli(config, "member", "absence", str(lan), "--stand-in", str(outsider), "--yes")
    assert code == 0 and "không cùng cơ quan" in out and "Đã đặt vắng mặt" in out
    with db.unit_of_work() as s:
        assert [a.stand_in_id for a in s.scalars(select(Absence))] == [outsider]

    code, out = run_cli(config, "member", "absence", str(lan), "--stand-in", str(colleague))
    assert code == 0 and "không cùng cơ quan" not in out
