"""Agencies merge and rename without losing history; the unedited file still imports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli.context import CommandContext
from bot.cli.main import main
from storage.agencies import (
    AgencyError,
    item_tree,
    list_agencies,
    merge_agencies,
    rename_agency,
)
from storage.clock import FixedClock
from storage.db import Database
from storage.models import (
    Agency,
    Assignment,
    AuditLog,
    Identity,
    Invite,
    Item,
    Member,
    Report,
)
from storage.programme.importer import import_programme
from storage.programme.spec import ProgrammeSpec
from tests.harness import cli_context, write_config

AT = datetime(2019, 7, 5, 2, 0, tzinfo=UTC)
MERGED_AT = datetime(2020, 1, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def imported(db: Database, spec: ProgrammeSpec) -> Database:
    """The store with the real programme imported."""
    with db.unit_of_work() as s:
        import_programme(s, spec, AT)
    return db


def _assignment(s: Session, item: str, agency: str) -> Assignment:
    return s.scalars(
        select(Assignment).join(Item).join(Agency).where(Item.code == item, Agency.code == agency)
    ).one()


def _report(s: Session, item: str, agency: str, note: str) -> int:
    """File a report directly, as the report conversation would; return its id."""
    a = _assignment(s, item, agency)
    report = Report(
        assignment_id=a.id,
        agency_id=a.agency_id,
        agency_name=a.agency.name,
        status="in_progress",
        percent=30,
        note=note,
        created_at=AT + timedelta(days=20),
    )
    s.add(report)
    s.flush()
    return report.id


def _member(s: Session, agency: str, name: str, platform: str | None = None) -> int:
    agency_id = s.scalars(select(Agency.id).where(Agency.code == agency)).one()
    member = Member(agency_id=agency_id, name=name, created_at=AT)
    s.add(member)
    s.flush()
    if platform:
        s.add(
            Identity(
                member_id=member.id,
                platform=platform,
                external_id=f"{member.id}01",
                chat_id=f"{member.id}01",
                linked_at=AT,
            )
        )
    return member.id


def _lead_support(s: Session, code: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    row = next(r for r in item_tree(s) if r.code == code)
    return row.lead, row.support


# ------------------------------------------------------------------------------- merge


def test_merge_moves_assignments_and_members_and_keeps_reports_under_the_old_name(
    imported: Database,
) -> None:
    with imported.unit_of_work() as s:
        report_id = _report(s, "2.4.a", "HN-DL", "Đã đăng 12 tin quảng bá")
        member_id = _member(s, "HN-DL", "Chuyên viên Sở Du lịch", platform="telegram")
        s.add(
            Invite(
                code="ABCD2345",
                agency_id=_assignment(s, "2.4.a", "HN-DL").agency_id,
                role="reporter",
                created_at=AT,
                expires_at=AT + timedelta(days=30),
            )
        )

    with imported.unit_of_work() as s:
        result = merge_agencies(s, "HN-DL", "HN-VHTT", MERGED_AT, "admin")
    # HN-DL led 2.4.a and 2.4.c (moved) and supported 2.4.b, which HN-VHTT already leads.
    assert (result.assignments_moved, result.assignments_archived) == (2, 1)
    assert (result.members_moved, result.invites_moved) == (1, 1)

    with imported.unit_of_work() as s:
        old = s.scalars(select(Agency).where(Agency.code == "HN-DL")).one()
        new = s.scalars(select(Agency).where(Agency.code == "HN-VHTT")).one()
        assert old.merged_into_id == new.id and old.archived_at == MERGED_AT
        assert s.get(Member, member_id).agency_id == new.id  # type: ignore[union-attr]
        assert s.scalars(select(Invite)).one().agency_id == new.id
        assert _lead_support(s, "2.4.a") == (("HN-VHTT", "HY-VHTTDL"), ("HN-KHDT", "HY-KHDT"))
        assert _lead_support(s, "2.4.b") == (("HN-VHTT", "HY-VHTTDL"), ())
        report = s.get(Report, report_id)
        assert report is not None
        assert report.agency_name == "Sở Du lịch Hà Nội"
        assert s.get(Assignment, report.assignment_id).agency_id == new.id  # type: ignore[union-attr]
        rows = {r.code: r for r in list_agencies(s)}
        assert rows["HN-DL"].merged_into == "HN-VHTT" and rows["HN-DL"].archived
        assert [(m.name, m.platforms) for m in rows["HN-VHTT"].members] == [
            ("Chuyên viên Sở Du lịch", ("telegram",))
        ]
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "agency.merge")).one()
        assert audit.detail["into"] == "HN-VHTT" and audit.detail["old_name"] == "Sở Du lịch Hà Nội"


def test_merging_into_an_agency_that_has_the_item_keeps_the_old_reports_readable(
    imported: Database,
) -> None:
    # 2.4.b: HN-VHTT leads, HN-DL supports. Fold the leader into the supporter.
    with imported.unit_of_work() as s:
        report_id = _report(s, "2.4.b", "HN-VHTT", "Gian hàng Hưng Yên ở phố đi bộ tháng 9")
    with imported.unit_of_work() as s:
        result = merge_agencies(s, "HN-VHTT", "HN-DL", MERGED_AT, "admin")
    assert (result.assignments_moved, result.assignments_archived) == (0, 1)
    with imported.unit_of_work() as s:
        assert _lead_support(s, "2.4.b") == (("HY-VHTTDL", "HN-DL"), ())  # the survivor now leads
        report = s.get(Report, report_id)
        assert report is not None and report.note == "Gian hàng Hưng Yên ở phố đi bộ tháng 9"
        kept = s.get(Assignment, report.assignment_id)
        assert kept is not None and kept.archived_at == MERGED_AT and kept.agency.code == "HN-VHTT"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("HN-DL", "HN-DL", "cannot merge HN-DL into itself"),
        ("HN-XYZ", "HN-DL", 'unknown agency code "HN-XYZ"'),
        ("HN-DL", "HY-VHTTDL", "different localities"),
    ],
)
def test_impossible_merges_are_refused_with_what_to_do(
    imported: Database, old: str, new: str, message: str
) -> None:
    with pytest.raises(AgencyError, match=message), imported.unit_of_work() as s:
        merge_agencies(s, old, new, MERGED_AT, "admin")
    with imported.unit_of_work() as s:
        assert all(a.merged_into_id is None for a in s.scalars(select(Agency)))


def test_a_merged_agency_can_be_neither_merged_again_nor_merged_into(imported: Database) -> None:
    with imported.unit_of_work() as s:
        merge_agencies(s, "HN-DL", "HN-VHTT", MERGED_AT, "admin")
    with pytest.raises(AgencyError, match="already merged"), imported.unit_of_work() as s:
        merge_agencies(s, "HN-DL", "HN-XD", MERGED_AT, "admin")
    with (
        pytest.raises(AgencyError, match="merge into HN-VHTT instead"),
        imported.unit_of_work() as s,
    ):
        merge_agencies(s, "HN-XD", "HN-DL", MERGED_AT, "admin")
    with pytest.raises(AgencyError, match="rename HN-VHTT instead"), imported.unit_of_work() as s:
        rename_agency(s, "HN-DL", "Sở Du lịch", MERGED_AT, "admin")


def test_after_a_merge_the_unedited_file_still_imports_and_changes_nothing(
    imported: Database, spec: ProgrammeSpec
) -> None:
    with imported.unit_of_work() as s:
        merge_agencies(s, "HN-DL", "HN-VHTT", MERGED_AT, "admin")
        before = {(r.code, r.lead, r.support, r.due) for r in item_tree(s)}
    with imported.unit_of_work() as s:
        result = import_programme(s, spec, MERGED_AT + timedelta(days=1))
    assert not result.changed
    with imported.unit_of_work() as s:
        assert {(r.code, r.lead, r.support, r.due) for r in item_tree(s)} == before
        assert s.scalars(select(Agency).where(Agency.code == "HN-DL")).one().archived_at


def test_after_merging_a_leader_into_a_supporter_the_file_keeps_the_survivor_leading(
    imported: Database, spec: ProgrammeSpec
) -> None:
    with imported.unit_of_work() as s:
        merge_agencies(s, "HN-VHTT", "HN-DL", MERGED_AT, "admin")
        before = _lead_support(s, "2.4.b")
    with imported.unit_of_work() as s:
        result = import_programme(s, spec, MERGED_AT + timedelta(days=1))
        assert _lead_support(s, "2.4.b") == before == (("HY-VHTTDL", "HN-DL"), ())
    assert result.assignments_created == result.assignments_archived == 0


# ------------------------------------------------------------------------------ rename


def test_rename_keeps_the_old_name_in_the_audit_and_on_reports(
    imported: Database, spec: ProgrammeSpec
) -> None:
    with imported.unit_of_work() as s:
        report_id = _report(s, "2.5", "HN-GTVT", "Đã khảo sát lộ trình buýt")
    with imported.unit_of_work() as s:
        rename_agency(s, "hn-gtvt", "  Sở Giao thông   vận tải Hà Nội (mới) ", MERGED_AT, "admin")
    with imported.unit_of_work() as s:
        agency = s.scalars(select(Agency).where(Agency.code == "HN-GTVT")).one()
        assert agency.name == "Sở Giao thông vận tải Hà Nội (mới)"
        assert s.get(Report, report_id).agency_name == "Sở Giao thông vận tải Hà Nội"  # type: ignore[union-attr]
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "agency.rename")).one()
        assert audit.detail["old_name"] == "Sở Giao thông vận tải Hà Nội"
    # The file is the source of truth: an unedited file puts its name back.
    with imported.unit_of_work() as s:
        assert import_programme(s, spec, MERGED_AT).agencies_updated == 1


def test_rename_refuses_an_empty_name_and_an_unknown_code(imported: Database) -> None:
    with pytest.raises(AgencyError, match="must not be empty"), imported.unit_of_work() as s:
        rename_agency(s, "HN-GTVT", "   ", MERGED_AT, "admin")
    with pytest.raises(AgencyError, match="unknown agency code"), imported.unit_of_work() as s:
        rename_agency(s, "HN-NOPE", "Sở Mới", MERGED_AT, "admin")


# ---------------------------------------------------------------------------- commands


def _ctx(tmp_path: Path) -> CommandContext:
    return cli_context(write_config(tmp_path), FixedClock(MERGED_AT))


def test_agency_commands_merge_rename_and_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import"], ctx=_ctx(tmp_path)) == 0
    capsys.readouterr()

    assert main(["agency", "merge", "HN-DL", "HN-VHTT"], ctx=_ctx(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "Đã hợp nhất HN-DL vào HN-VHTT: chuyển 2 phân công" in out

    assert main(["agency", "merge", "HN-DL", "HN-VHTT"], ctx=_ctx(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already merged" in err

    assert (
        main(
            ["agency", "rename", "HN-VHTT", "Sở Văn hóa và Thể thao thành phố Hà Nội"],
            ctx=_ctx(tmp_path),
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Đã đổi tên HN-VHTT" in out and "Đề nghị sửa cả tên của HN-VHTT trong tệp" in out

    assert main(["agencies", "--json"], ctx=_ctx(tmp_path)) == 0
    rows = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["HN-VHTT"]["name"] == "Sở Văn hóa và Thể thao thành phố Hà Nội"
    assert rows["HN-DL"]["merged_into"] == "HN-VHTT"
    assert rows["HY-KHDT"]["coordinates"] and rows["HY-UBND"]["leadership"]
    assert rows["HY-KHDT"]["locality_name"] == "Tỉnh Hưng Yên"

    assert main(["agencies"], ctx=_ctx(tmp_path)) == 0
    table = capsys.readouterr().out
    assert "đã hợp nhất vào HN-VHTT" in table
    assert "thường trực" in table and "lãnh đạo" in table
