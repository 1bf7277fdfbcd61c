"""The programme file: it imports whole, re-imports change nothing, errors say where."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.cli.context import CommandContext
from bot.cli.main import main
from storage.agencies import item_tree
from storage.clock import FixedClock
from storage.db import Database
from storage.models import (
    Agency,
    Assignment,
    AuditLog,
    Item,
    Locality,
    Programme,
    ProgrammeAgency,
    Report,
)
from storage.notice.model import NoticeNode
from storage.programme.file import ProgrammeFileError, load_programme_file
from storage.programme.identity import StoredItem, match_items
from storage.programme.importer import ImportNeedsConfirmation, import_programme
from storage.programme.spec import ProgrammeSpec
from tests.harness import PROGRAMME, REPO, cli_context, write_config

NOTICE = REPO / "programmes" / "ha-noi-hung-yen-2019-notice.txt"
SEED = REPO.parent / "shared" / "seed" / "ha-noi-hung-yen-2019-notice.txt"
SEED_SHA256 = "8a6b81c06f38663832632eace7caaf6fcb66e97aedd22a5f7f48886395d38883"
AT = datetime(2019, 7, 5, 2, 0, tzinfo=UTC)
LATER = AT + timedelta(days=30)
# Commitments that concern one side only: the other side supports.
ONE_SIDED = {"2.6.e": "HN", "2.7.b": "HN", "2.8": "HN"}
TABLES = (Programme, Locality, Agency, Item, Assignment, Report, AuditLog)

# The 2.9.c bullet as it stands in the notice, and its block in the programme file.
BULLET_29C = (
    "- Tăng cường phối hợp tuần tra, kiểm soát, giữ vững an ninh trật tự, an toàn giao "
    "thông, nhất là khu vực giáp ranh; phòng chống khai thác tài nguyên cát trái phép; "
    "quản lý lao động và dân cư.\n\n"
)
BLOCK_29C = re.compile(r'\[\[assignments\]\]\nitem = "2\.9\.c"\n(?:[^\n]+\n)*')


def copy_programme(folder: Path) -> Path:
    """Copy the programme file and its notice into `folder`; return the file's path."""
    shutil.copy(NOTICE, folder / NOTICE.name)
    return Path(shutil.copy(PROGRAMME, folder / PROGRAMME.name))


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact, unique passage of a file."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def counts(session: Session) -> dict[str, int]:
    """Count the rows of every table an import may touch."""
    return {
        m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0 for m in TABLES
    }


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every column of every row an import may touch, in a comparable form."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for model in (Programme, Locality, Agency, Item, Assignment):
        columns = [c.key for c in model.__table__.columns]
        out[model.__tablename__] = sorted(
            tuple(getattr(row, c) for c in columns) for row in session.scalars(select(model))
        )
    return out


def active_assignments(session: Session) -> set[tuple[str, str, str, date | None, str]]:
    """(item, agency, role, due, cadence) of every assignment not archived."""
    rows = session.execute(
        select(Item.code, Agency.code, Assignment.role, Assignment.due_date, Assignment.cadence)
        .join(Item, Item.id == Assignment.item_id)
        .join(Agency, Agency.id == Assignment.agency_id)
        .where(Assignment.archived_at.is_(None))
    )
    return {tuple(r) for r in rows}  # type: ignore[misc]


def expected_assignments(spec: ProgrammeSpec) -> set[tuple[str, str, str, date | None, str]]:
    return {(a.item, a.agency, a.role, a.due, a.cadence) for a in spec.assignments}


# --------------------------------------------------------------------------- the real programme


def test_the_notice_copy_is_the_seed_byte_for_byte() -> None:
    """The programme imports the real notice as it is: the copy in the repository hashes to
    the seed's digest, and to the seed itself wherever ../shared is checked out beside it."""
    assert hashlib.sha256(NOTICE.read_bytes()).hexdigest() == SEED_SHA256
    if SEED.exists():
        assert NOTICE.read_bytes() == SEED.read_bytes()


def test_the_default_programme_imports_with_a_lead_on_every_commitment(
    db: Database, spec: ProgrammeSpec
) -> None:
    with db.unit_of_work() as s:
        result = import_programme(s, spec, AT)
    assert (result.items_created, result.agencies_created, result.assignments_created) == (
        len(spec.notice.nodes),
        len(spec.agencies),
        len(spec.assignments),
    )
    assert result.items_created == 37 and result.agencies_created == 36
    assert result.notice_warnings == spec.notice.warnings
    assert result.unassigned_items == ("III.2", "III.3")

    with db.unit_of_work() as s:
        rows = {r.code: r for r in item_tree(s, "ha-noi-hung-yen-2019")}
        agencies = {a.code: a for a in s.scalars(select(Agency))}
        agencies_by_id = {a.id: a.code for a in agencies.values()}
        programme = s.scalars(select(Programme)).one()
        roles = {
            agencies_by_id[r.agency_id]: r
            for r in s.scalars(
                select(ProgrammeAgency).where(ProgrammeAgency.programme_id == programme.id)
            )
        }
    leaves = [
        r
        for r in rows.values()
        if r.depth > 0 and not any(c.parent_code == r.code for c in rows.values())
    ]
    section_two = [r for r in leaves if _under(rows, r.code, "II")]
    assert len(section_two) == 24
    for row in section_two:
        localities = {code.split("-")[0] for code in row.lead}
        assert row.lead, f"{row.code} has no lead agency"
        if row.code in ONE_SIDED:
            assert localities == {ONE_SIDED[row.code]}, row.code
            assert any(not c.startswith(ONE_SIDED[row.code]) for c in row.support), row.code
        else:
            assert localities == {"HN", "HY"}, f"{row.code} lacks a lead on one side"
        assert date(2019, 7, 1) <= row.due <= date(2020, 12, 31)  # type: ignore[operator]
    assert rows["2.8"].due == date(2019, 12, 31) and rows["2.5"].due == date(2020, 6, 30)
    assert rows["2.5"].lead == ("HY-GTVT", "HN-GTVT")
    assert rows["2.2.b"].parent_code == "2.2" and rows["2.2"].parent_code == "2"
    assert {c for c, r in roles.items() if r.coordinates} == {
        "HN-KHDT",
        "HY-KHDT",
        "HN-VPTU",
        "HY-VPTU",
    }
    assert {c for c, r in roles.items() if r.leadership} == {"HN-UBND", "HY-UBND"}
    assert agencies["HY-VHTTDL"].name == "Sở Văn hóa, Thể thao và Du lịch Hưng Yên"
    assert all(re.fullmatch(r"H[NY]-[A-Z]{2,8}", c) for c in agencies)
    assert programme.notice_date == date(2019, 6, 29)
    assert (programme.phase_start, programme.phase_end) == (date(2019, 7, 1), date(2020, 12, 31))


def _under(rows: dict[str, Any], code: str, ancestor: str) -> bool:
    """Tell whether the item sits somewhere below `ancestor`."""
    parent = rows[code].parent_code
    while parent is not None:
        if parent == ancestor:
            return True
        parent = rows[parent].parent_code
    return False


def test_a_second_identical_import_changes_nothing(db: Database, spec: ProgrammeSpec) -> None:
    with db.unit_of_work() as s:
        import_programme(s, spec, AT)
    with db.unit_of_work() as s:
        before, audit = snapshot(s), counts(s)["audit_log"]
    with db.unit_of_work() as s:
        again = import_programme(s, spec, LATER)
    assert not again.changed
    assert (
        again.items_created,
        again.items_updated,
        again.items_archived,
        again.items_restored,
        again.agencies_created,
        again.agencies_updated,
        again.assignments_created,
        again.assignments_updated,
        again.assignments_archived,
    ) == (0,) * 9
    with db.unit_of_work() as s:
        assert snapshot(s) == before
        assert counts(s)["audit_log"] == audit


def test_the_import_is_audited(db: Database, spec: ProgrammeSpec) -> None:
    with db.unit_of_work() as s:
        import_programme(s, spec, AT, actor="coordinator:HN-KHDT")
    with db.unit_of_work() as s:
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "programme.import")).one()
    assert entry.actor == "coordinator:HN-KHDT" and entry.entity_id == "ha-noi-hung-yen-2019"
    assert entry.detail["assignments_created"] == len(spec.assignments)


# ------------------------------------------------------------------- a notice that changes


def _report_on(s: Session, item: str, agency: str) -> int:
    """File one report directly on an assignment; return its id."""
    assignment = s.scalars(
        select(Assignment).join(Item).join(Agency).where(Item.code == item, Agency.code == agency)
    ).one()
    report = Report(
        assignment_id=assignment.id,
        agency_id=assignment.agency_id,
        agency_name=assignment.agency.name,
        status="in_progress",
        percent=40,
        note="Đã tuần tra chung 3 đợt",
        created_at=AT + timedelta(days=10),
    )
    s.add(report)
    s.flush()
    return report.id


def test_a_bullet_gone_from_the_notice_is_archived_with_its_reports_and_comes_back(
    db: Database, tmp_path: Path
) -> None:
    path = copy_programme(tmp_path)
    original = load_programme_file(path)
    with db.unit_of_work() as s:
        import_programme(s, original, AT)
        report_id = _report_on(s, "2.9.c", "HN-CA")

    edit(tmp_path / NOTICE.name, BULLET_29C, "")
    with pytest.raises(ProgrammeFileError, match=r'assignments\[\d+\]\.item .*no item "2\.9\.c"'):
        load_programme_file(path)  # the file still assigns 2.9.c: the office must drop it too
    text = path.read_text(encoding="utf-8")
    path.write_text(BLOCK_29C.sub("", text, count=1), encoding="utf-8")
    shorter = load_programme_file(path)

    with db.unit_of_work() as s:
        result = import_programme(s, shorter, LATER)
    assert (result.items_archived, result.assignments_archived) == (1, 4)
    assert result.items_created == result.items_updated == 0
    with db.unit_of_work() as s:
        item = s.scalars(select(Item).where(Item.code == "2.9.c")).one()
        report = s.get(Report, report_id)
        assert item.archived_at == LATER
        assert report is not None and report.note == "Đã tuần tra chung 3 đợt"
        assert s.get(Assignment, report.assignment_id).archived_at == LATER  # type: ignore[union-attr]
        assert next(r for r in item_tree(s) if r.code == "2.9.c").archived

    with db.unit_of_work() as s:
        back = import_programme(s, original, LATER + timedelta(days=1))
    assert (back.items_restored, back.assignments_updated, back.assignments_created) == (1, 4, 0)
    with db.unit_of_work() as s:
        item = s.scalars(select(Item).where(Item.code == "2.9.c")).one()
        report = s.get(Report, report_id)
        assert item.archived_at is None and report is not None
        assert s.get(Assignment, report.assignment_id).archived_at is None  # type: ignore[union-attr]
        assert active_assignments(s) == expected_assignments(original)


def test_a_changed_due_date_and_a_dropped_supporter_are_updated_and_archived(
    db: Database, tmp_path: Path
) -> None:
    path = copy_programme(tmp_path)
    with db.unit_of_work() as s:
        import_programme(s, load_programme_file(path), AT)
    edit(
        path,
        'lead = ["HN-LDTBXH"]\nsupport = ["HY-LDTBXH"]\ndue = 2019-12-31',
        'lead = ["HN-LDTBXH"]\ndue = 2020-03-31\ncadence = "quarterly"',
    )
    with db.unit_of_work() as s:
        result = import_programme(s, load_programme_file(path), LATER)
        row = next(r for r in item_tree(s) if r.code == "2.8")
    assert (result.assignments_updated, result.assignments_archived) == (1, 1)
    assert row.lead == ("HN-LDTBXH",) and row.support == () and row.due == date(2020, 3, 31)


# ------------------------------------------------------------------------ file errors


# (what the office got wrong, old text, new text, expected location, expected message)
FILE_ERRORS = [
    (
        "unknown agency",
        'lead = ["HY-GTVT", "HN-GTVT"]',
        'lead = ["HY-GTVT", "HN-XYZ"]',
        r"assignments\[\d+\]\.lead\[2\]",
        'unknown agency code "HN-XYZ"; add it under [[agencies]]',
    ),
    (
        "unknown item",
        'item = "2.5"',
        'item = "2.10"',
        r"assignments\[\d+\]\.item",
        'the notice has no item "2.10"',
    ),
    (
        "bad date",
        "due = 2020-06-30\n\n# ===== 2.",
        'due = "30/06/2020"\n\n# ===== 2.',
        r"assignments\[\d+\]\.due",
        "a date such as 2020-06-30",
    ),
    (
        "impossible date",
        "due = 2019-12-31",
        "due = 2019-02-30",
        r"dòng / line \d+, column \d+",
        "Invalid date or datetime",
    ),
    (
        "missing lead",
        'lead = ["HY-GTVT", "HN-GTVT"]',
        "lead = []",
        r"assignments\[\d+\]\.lead",
        "needs at least one lead agency",
    ),
    (
        "no lead key",
        'lead = ["HY-GTVT", "HN-GTVT"]\n',
        "",
        r"assignments\[\d+\]\.lead",
        "needs at least one lead agency",
    ),
    (
        "TOML syntax",
        'lead = ["HY-GTVT", "HN-GTVT"]',
        'lead = ["HY-GTVT", "HN-GTVT"',
        r"dòng / line \d+, column \d+",
        "TOML syntax error",
    ),
    (
        "unknown key",
        'item = "2.5"',
        'item = "2.5"\ndeadline = 2020-06-30',
        r"assignments\[\d+\]\.deadline",
        "unknown key",
    ),
    (
        "unknown locality",
        'code = "HY-CA"\nlocality = "HY"',
        'code = "HY-CA"\nlocality = "HD"',
        r"agencies\[\d+\]\.locality",
        'unknown locality code "HD"',
    ),
    (
        "duplicate agency",
        'code = "HY-CA"',
        'code = "HY-YT"',
        r"agencies\[\d+\]\.code",
        'duplicate agency code "HY-YT"',
    ),
    (
        "item assigned twice",
        'item = "2.9.b"',
        'item = "2.9.a"',
        r"assignments\[\d+\]\.item",
        "item assigned twice",
    ),
    (
        "parent item",
        'item = "2.8"',
        'item = "2.9"',
        r"assignments\[\d+\]\.item",
        "has sub-items (2.9.a, 2.9.b, 2.9.c); assign those",
    ),
    (
        "not a boolean",
        'name = "Ủy ban nhân dân tỉnh Hưng Yên"\nleadership = true',
        'name = "Ủy ban nhân dân tỉnh Hưng Yên"\nleadership = "yes"',
        r"agencies\[\d+\]\.leadership",
        "expected true or false",
    ),
    (
        "two leaderships",
        'code = "HY-KHDT"\nlocality = "HY"',
        'code = "HY-KHDT"\nlocality = "HY"\nleadership = true',
        r"agencies\[\d+\]\.leadership",
        "already has HY-UBND as leadership",
    ),
    (
        "bad cadence",
        'cadence = "monthly"',
        'cadence = "weekly"',
        r"programme\.cadence",
        "must be one of monthly, quarterly, semiannual, yearly, none",
    ),
    (
        "missing notice",
        'notice = "ha-noi-hung-yen-2019-notice.txt"',
        'notice = "nowhere.txt"',
        r"programme\.notice",
        "nowhere.txt",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "where", "what"),
    [case[1:] for case in FILE_ERRORS],
    ids=[c[0] for c in FILE_ERRORS],
)
def test_a_file_error_names_the_place_and_writes_nothing(
    db: Database, tmp_path: Path, spec: ProgrammeSpec, old: str, new: str, where: str, what: str
) -> None:
    with db.unit_of_work() as s:
        import_programme(s, spec, AT)
    path = copy_programme(tmp_path)
    edit(path, old, new)
    with db.unit_of_work() as s:
        before = snapshot(s), counts(s)

    with pytest.raises(ProgrammeFileError) as caught, db.unit_of_work() as s:
        import_programme(s, load_programme_file(path), LATER)

    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert re.search(rf"{path.name}: {where}", message), message
    assert what in message
    assert "\n" not in message
    with db.unit_of_work() as s:
        assert (snapshot(s), counts(s)) == before


def test_the_error_line_points_at_the_mistake(tmp_path: Path) -> None:
    path = copy_programme(tmp_path)
    edit(path, 'lead = ["HY-GTVT", "HN-GTVT"]', 'lead = ["HY-GTVT", "HN-XYZ"]')
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = next(n for n, line in enumerate(lines, 1) if "HN-XYZ" in line)
    block = sum(1 for line in lines[:expected] if line.strip() == "[[assignments]]")
    with pytest.raises(ProgrammeFileError) as caught:
        load_programme_file(path)
    assert f"assignments[{block}].lead[2] (dòng / line {expected}): " in str(caught.value)


def test_an_unreadable_programme_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ProgrammeFileError, match="file not found"):
        load_programme_file(tmp_path / "absent.toml")


# ------------------------------------------------------------------- convergence (property)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_engine(request: pytest.FixtureRequest) -> Engine:
    """The migrated store, shared by every example of a property test."""
    return request.getfixturevalue(f"{request.param}_engine")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def rolled_back(shared_engine: Engine) -> Any:
    """Make a session factory whose work is rolled back when the example ends."""

    class Scope:
        def __enter__(self) -> Session:
            self.conn = shared_engine.connect()
            self.outer = self.conn.begin()
            self.session = Session(
                bind=self.conn, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
            return self.session

        def __exit__(self, *exc: object) -> None:
            self.session.close()
            self.outer.rollback()
            self.conn.close()

    return Scope


def _variant(spec: ProgrammeSpec, chosen: frozenset[int], shift: int) -> ProgrammeSpec:
    """The spec with a subset of its assignments, due dates moved by `shift` days."""
    rows = tuple(
        dataclasses.replace(a, due=a.due + timedelta(days=shift))
        for i, a in enumerate(spec.assignments)
        if i in chosen
    )
    return dataclasses.replace(spec, assignments=rows)


@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_any_sequence_of_imports_converges_on_the_last_file(
    rolled_back: Any, spec: ProgrammeSpec, data: st.DataObject
) -> None:
    indexes = st.frozensets(st.integers(0, len(spec.assignments) - 1), max_size=40)
    steps = data.draw(
        st.lists(st.tuples(indexes, st.sampled_from([0, 0, 14])), min_size=1, max_size=4)
    )
    with rolled_back() as s:
        for n, (chosen, shift) in enumerate(steps):
            import_programme(s, _variant(spec, chosen, shift), AT + timedelta(days=n))
        last = _variant(spec, *steps[-1])
        state = snapshot(s)
        assert active_assignments(s) == expected_assignments(last)
        again = import_programme(s, last, LATER)
        assert not again.changed
        assert snapshot(s) == state


# ----------------------------------------------------------------------------- the command


def _config(tmp_path: Path, programme: Path) -> Path:
    return write_config(tmp_path, programme=programme)


def _ctx(config: Path) -> CommandContext:
    return cli_context(config, FixedClock(AT))


def test_tiendo_import_prints_the_counts_then_nothing_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, PROGRAMME)
    assert main(["import"], ctx=_ctx(config)) == 0
    first = capsys.readouterr().out
    assert re.search(r"Nội dung\s+│\s+37\b", first)
    assert re.search(r"Phân công\s+│\s+97\b", first)
    assert "Chưa có cơ quan chủ trì: III.2, III.3" in first

    assert main(["import", str(PROGRAMME)], ctx=_ctx(config)) == 0
    assert "Không có thay đổi." in capsys.readouterr().out

    assert main(["items", "--json"], ctx=_ctx(config)) == 0
    items = {row["code"]: row for row in json.loads(capsys.readouterr().out)}
    assert items["2.5"]["lead"] == ["HY-GTVT", "HN-GTVT"] and items["2.5"]["due"] == "2020-06-30"
    assert items["2.2.a"]["depth"] == 3 and not items["2.2.a"]["archived"]

    assert main(["items"], ctx=_ctx(config)) == 0
    tree = capsys.readouterr().out
    assert "2.8  Về đảm bảo an sinh xã hội  [HN-LDTBXH + HY-LDTBXH]  hạn 31/12/2019" in tree


def test_tiendo_import_of_a_broken_file_prints_one_red_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy_programme(tmp_path)
    edit(
        path, 'support = ["HY-LDTBXH"]\ndue = 2019-12-31', 'support = ["HY-LDTB"]\ndue = 2019-12-31'
    )
    config = _config(tmp_path, path)
    assert main(["import"], ctx=_ctx(config)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("Lỗi tệp chương trình: ")
    assert "support[1]" in captured.err and 'unknown agency code "HY-LDTB"' in captured.err
    assert main(["items", "--json"], ctx=_ctx(config)) == 0
    assert json.loads(capsys.readouterr().out) == []


# ------------------------------------------------------- items keep their identity (issue 11)

BULLET_22B_END = "chú trọng mở rộng thị trường tiêu thụ sản phẩm nông sản tiêu biểu của tỉnh Hưng Yên tại thủ đô Hà Nội.\n\n"
INSERTED = (
    "- Hỗ trợ xây dựng vùng sản xuất rau an toàn tập trung, cấp mã số vùng trồng cho "
    "vải, nhãn, chuối của Hưng Yên."
)
TEXT_22C = "Tăng cường tuyên truyền, giới thiệu về phát triển nông nghiệp"
TEXT_22D = "Phối hợp tổ chức các đoàn cán bộ nông nghiệp và nông dân tiêu biểu"


def insert_bullet_in_22(folder: Path) -> Path:
    """Copy the programme, insert a bullet after 2.2.b in the notice, and renumber the file:
    2.2.c → 2.2.d, 2.2.d → 2.2.e, and a block for the new 2.2.c."""
    path = copy_programme(folder)
    edit(folder / NOTICE.name, BULLET_22B_END, BULLET_22B_END + INSERTED + "\n\n")
    edit(path, 'item = "2.2.d"', 'item = "2.2.e"')
    edit(path, 'item = "2.2.c"', 'item = "2.2.d"')
    edit(
        path,
        '[[assignments]]\nitem = "2.2.d"',
        '[[assignments]]\nitem = "2.2.c"\nlead = ["HY-NN"]\nsupport = ["HN-NN"]\n\n'
        '[[assignments]]\nitem = "2.2.d"',
    )
    return path


def _report_item(s: Session, report_id: int) -> Item:
    report = s.get(Report, report_id)
    assert report is not None
    return s.get(Assignment, report.assignment_id).item  # type: ignore[union-attr]


def test_a_bullet_inserted_in_the_middle_keeps_reports_with_their_commitments(
    db: Database, tmp_path: Path
) -> None:
    with db.unit_of_work() as s:
        import_programme(s, load_programme_file(copy_programme(tmp_path)), AT)
        on_c = _report_on(s, "2.2.c", "HN-NN")
        on_d = _report_on(s, "2.2.d", "HY-NN")
        before = snapshot(s), counts(s)
    folder = tmp_path / "v2"
    folder.mkdir()
    changed = load_programme_file(insert_bullet_in_22(folder))
    assert changed.notice.node("2.2.e") is not None

    with pytest.raises(ImportNeedsConfirmation) as caught, db.unit_of_work() as s:
        import_programme(s, changed, LATER)
    moves = [(c.old_code, c.new_code, c.reports) for c in caught.value.changes]
    assert moves == [("2.2.c", "2.2.d", 1), ("2.2.d", "2.2.e", 1)]
    assert caught.value.changes[0].old_text.startswith(TEXT_22C)
    assert caught.value.changes[0].new_text.startswith(TEXT_22C)
    with db.unit_of_work() as s:
        assert (snapshot(s), counts(s)) == before  # nothing written without confirmation

    with db.unit_of_work() as s:
        result = import_programme(s, changed, LATER, confirm=True)
    assert (result.items_created, result.items_archived) == (1, 0)
    assert {(c.old_code, c.new_code) for c in result.item_changes if c.recoded} == {
        ("2.2.c", "2.2.d"),
        ("2.2.d", "2.2.e"),
    }
    with db.unit_of_work() as s:
        c_item, d_item = _report_item(s, on_c), _report_item(s, on_d)
        assert (c_item.code, d_item.code) == ("2.2.d", "2.2.e")
        assert c_item.text.startswith(TEXT_22C) and d_item.text.startswith(TEXT_22D)
        assert c_item.archived_at is None and d_item.archived_at is None
        new = s.scalars(select(Item).where(Item.code == "2.2.c")).one()
        assert new.text == INSERTED[2:] and new.id not in (c_item.id, d_item.id)
        assert active_assignments(s) == expected_assignments(changed)
        rows = [r.code for r in item_tree(s) if r.parent_code == "2.2"]
        assert rows == ["2.2.a", "2.2.b", "2.2.c", "2.2.d", "2.2.e"]
        recodes = s.scalars(select(AuditLog).where(AuditLog.action == "item.recode")).all()
        assert {(e.detail["old"], e.detail["new"]) for e in recodes} == {
            ("2.2.c", "2.2.d"),
            ("2.2.d", "2.2.e"),
        }

    with db.unit_of_work() as s:
        assert not import_programme(s, changed, LATER + timedelta(days=1)).changed


def test_renumbering_items_without_reports_needs_no_confirmation(
    db: Database, tmp_path: Path
) -> None:
    with db.unit_of_work() as s:
        import_programme(s, load_programme_file(copy_programme(tmp_path)), AT)
        c_id = s.scalars(select(Item.id).where(Item.code == "2.2.c")).one()
    folder = tmp_path / "v2"
    folder.mkdir()
    with db.unit_of_work() as s:
        result = import_programme(s, load_programme_file(insert_bullet_in_22(folder)), LATER)
        assert s.get(Item, c_id).code == "2.2.d"  # type: ignore[union-attr]
    assert [c.new_code for c in result.item_changes] == ["2.2.d", "2.2.e"]
    assert not any(c.moves_reports for c in result.item_changes)


def test_a_bullet_removed_in_the_middle_archives_it_and_keeps_the_next_ones_reports(
    db: Database, tmp_path: Path
) -> None:
    path = copy_programme(tmp_path)
    with db.unit_of_work() as s:
        import_programme(s, load_programme_file(path), AT)
        on_d = _report_on(s, "2.2.d", "HY-NN")
        c_id = s.scalars(select(Item.id).where(Item.code == "2.2.c")).one()
    notice = tmp_path / NOTICE.name
    bullet_c = next(
        p for p in notice.read_text(encoding="utf-8").split("\n\n") if p.startswith("- " + TEXT_22C)
    )
    edit(notice, bullet_c + "\n\n", "")
    text = path.read_text(encoding="utf-8")
    block_c = re.compile(r'\[\[assignments\]\]\nitem = "2\.2\.c"\n(?:[^\n]+\n)*')
    path.write_text(block_c.sub("", text, count=1).replace('"2.2.d"', '"2.2.c"'), "utf-8")
    shorter = load_programme_file(path)
    with pytest.raises(ImportNeedsConfirmation), db.unit_of_work() as s:
        import_programme(s, shorter, LATER)
    with db.unit_of_work() as s:
        result = import_programme(s, shorter, LATER, confirm=True)
        assert _report_item(s, on_d).code == "2.2.c"
        gone = s.get(Item, c_id)
        assert gone is not None and gone.archived_at == LATER
        assert gone.code.startswith("2.2.c~") and gone.text.startswith(TEXT_22C)
    assert result.items_archived == 1 and result.items_created == 0


# (what happened, stored (code, text), notice (code, text), expected {new code: old code})
MATCHES = [
    ("unchanged", [("a", "one two")], [("a", "one two")], {"a": "a"}),
    (
        "swapped",
        [("a", "alpha x"), ("b", "beta y")],
        [("a", "beta y"), ("b", "alpha x")],
        {"a": "b", "b": "a"},
    ),
    (
        "reworded in place",
        [("a", "Phối hợp tổ chức đoàn tham quan học tập kinh nghiệm")],
        [("a", "Phối hợp tổ chức các đoàn tham quan, học tập kinh nghiệm")],
        {"a": "a"},
    ),
    (
        "moved and reworded",
        [("a", "Mở tuyến xe buýt Hưng Yên – Hà Nội"), ("b", "Nghiên cứu cầu Mễ Sở")],
        [
            ("a", "Xây dựng khu công nghiệp"),
            ("b", "Mở tuyến xe buýt Hưng Yên – Hà Nội mới"),
            ("c", "Nghiên cứu cầu Mễ Sở"),
        ],
        {"b": "a", "c": "b"},
    ),
    ("replaced under its code", [("a", "old words")], [("a", "entirely new")], {"a": "a"}),
    (
        "same text twice",
        [("a", "same"), ("b", "same")],
        [("b", "same"), ("a", "same")],
        {"a": "a", "b": "b"},
    ),
]


@pytest.mark.parametrize(
    ("stored", "nodes", "expected"), [m[1:] for m in MATCHES], ids=[m[0] for m in MATCHES]
)
def test_items_are_matched_by_what_they_say_before_their_code(
    stored: list[tuple[str, str]], nodes: list[tuple[str, str]], expected: dict[str, str]
) -> None:
    items = [StoredItem(n, code, text) for n, (code, text) in enumerate(stored)]
    notice = [
        NoticeNode(code, "bullet", None, text, text, 1, n) for n, (code, text) in enumerate(nodes)
    ]
    found = match_items(items, notice)
    assert {code: items[i].code for code, i in found.items()} == expected


def test_tiendo_import_shows_what_moves_and_waits_for_confirm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, PROGRAMME)
    assert main(["import"], ctx=_ctx(config)) == 0
    db = Database.open(f"sqlite:///{tmp_path / 'tiendo.sqlite3'}")
    with db.unit_of_work() as s:
        report_id = _report_on(s, "2.2.c", "HN-NN")
    folder = tmp_path / "v2"
    folder.mkdir()
    changed = insert_bullet_in_22(folder)
    capsys.readouterr()

    assert main(["import", str(changed)], ctx=_ctx(config)) == 1
    captured = capsys.readouterr()
    assert re.search(r"2\.2\.c → 2\.2\.d", captured.out)
    assert TEXT_22C[:30] in captured.out
    assert "--confirm" in captured.err and captured.err.count("\n") == 1
    with db.unit_of_work() as s:
        assert _report_item(s, report_id).code == "2.2.c"

    assert main(["import", str(changed), "--confirm"], ctx=_ctx(config)) == 0
    out = capsys.readouterr().out
    assert re.search(r"2\.2\.c → 2\.2\.d", out) and re.search(r"2\.2\.d → 2\.2\.e", out)
    with db.unit_of_work() as s:
        assert _report_item(s, report_id).code == "2.2.d"
    db.dispose()
