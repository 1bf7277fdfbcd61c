"""A store made by the release before programmes were kept apart upgrades with nothing lost.

`fixtures/demo-store-0006.sqlite3.gz` is the store `make demo` left at schema 0006 (one
programme, nine reports, a directive, 275 messages sent). It is upgraded on SQLite as it is,
and on PostgreSQL after its rows are copied into a schema at revision 0006.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, func, select, text

from bench.pgschema import private_schema
from storage.aggregate.summary import summary
from storage.db import Database, make_engine, upgrade
from storage.models import (
    Agency,
    Directive,
    DirectiveRecipient,
    Identity,
    Item,
    Member,
    Outbox,
    Programme,
    ProgrammeAgency,
    Report,
)
from tests.conftest import NO_PG, PG_URL
from tests.harness import HANOI

FIXTURE = Path(__file__).parent / "fixtures" / "demo-store-0006.sqlite3.gz"
TABLES = ("report", "member", "identity", "outbox", "assignment", "item", "audit_log", "invite")


def release_store(folder: Path) -> Path:
    """The release's store, unpacked."""
    path = folder / "release.sqlite3"
    with gzip.open(FIXTURE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return path


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def old_flags(engine: Engine) -> dict[str, tuple[bool, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT code, coordinates, leadership FROM agency")).all()
    return {code: (bool(c), bool(lead)) for code, c, lead in rows}


def copy_rows(source: Engine, target: Engine) -> None:
    """Copy every table's rows from the release's SQLite store into a schema at 0006."""
    metadata = MetaData()
    metadata.reflect(source)
    with source.connect() as read, target.begin() as write:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [dict(row._mapping) for row in read.execute(table.select())]
            if rows:
                write.execute(table.insert(), rows)
            if "id" in table.c and write.dialect.name == "postgresql":
                write.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table.name}))"
                    )
                )


@pytest.fixture(params=["sqlite", "postgresql"])
def upgraded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Any]]:
    """(the upgraded engine, what the release's store held before the upgrade)."""
    source_path = release_store(tmp_path)
    source = make_engine(f"sqlite:///{source_path}")
    before = {"counts": counts(source), "flags": old_flags(source)}
    if request.param == "sqlite":
        source.dispose()
        engine = make_engine(f"sqlite:///{source_path}")
        upgrade(engine)
        yield engine, before
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip(NO_PG)
    with private_schema(PG_URL, "tiendo_upgrade") as engine:
        upgrade(engine, "0006")
        copy_rows(source, engine)
        source.dispose()
        upgrade(engine)
        yield engine, before


def test_nothing_is_lost(upgraded: tuple[Engine, Any]) -> None:
    engine, before = upgraded
    assert counts(engine) == before["counts"]
    with Database(engine).unit_of_work() as s:
        notes = set(s.scalars(select(Report.note)))
        assert "Chưa bố trí được vốn đối ứng cho quan trắc chung" in notes
        assert s.scalar(select(func.count()).select_from(Identity)) > 0
        assert s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "sent"))


def test_each_agency_keeps_its_role_in_the_one_programme(upgraded: tuple[Engine, Any]) -> None:
    engine, before = upgraded
    with Database(engine).unit_of_work() as s:
        programme = s.scalars(select(Programme)).one()
        roles = {
            code: (r.coordinates, r.leadership)
            for r, code in s.execute(
                select(ProgrammeAgency, Agency.code).join(
                    Agency, Agency.id == ProgrammeAgency.agency_id
                )
            )
        }
        assert {r.programme_id for r in s.scalars(select(ProgrammeAgency))} == {programme.id}
    flagged = {code: flags for code, flags in before["flags"].items() if any(flags)}
    assert {code: flags for code, flags in roles.items() if any(flags)} == flagged
    assert roles["HN-KHDT"] == (True, False) and roles["HY-UBND"] == (False, True)
    assert roles["HN-GTVT"] == (False, False)  # takes part: it has assignments


def test_items_roll_up_and_the_directive_knows_who_answered(upgraded: tuple[Engine, Any]) -> None:
    engine, _ = upgraded
    with Database(engine).unit_of_work() as s:
        fields = dict(s.execute(select(Item.code, Item.field_code)).all())
        assert (fields["2.6.c"], fields["2.5"], fields["III.1"]) == ("2.6", "2.5", "III.1")
        directive = s.scalars(select(Directive)).one()
        assert directive.programme_id == s.scalars(select(Programme.id)).one()
        recipients = {
            code: r
            for r, code in s.execute(
                select(DirectiveRecipient, Agency.code).join(
                    Agency, Agency.id == DirectiveRecipient.agency_id
                )
            )
        }
        # /chidao 2.6.c went to the lead agencies of both sides; HN-TNMT answered on 20/03.
        assert set(recipients) == {"HN-TNMT", "HY-TNMT"}
        answer = s.get(Report, recipients["HN-TNMT"].answer_report_id)
        assert answer is not None and "vốn đối ứng" in answer.note
        assert recipients["HY-TNMT"].answer_report_id is None


def test_the_upgraded_store_answers_as_before(upgraded: tuple[Engine, Any]) -> None:
    engine, _ = upgraded
    with Database(engine).unit_of_work() as s:
        result = summary(s, date(2020, 3, 31), tz=HANOI)
        active = s.scalar(
            text(
                "SELECT count(*) FROM assignment a JOIN item i ON i.id = a.item_id "
                "WHERE a.archived_at IS NULL AND i.archived_at IS NULL"
            )
        )
        members = s.scalar(select(func.count()).select_from(Member))
    assert result.overall.count == active == 97
    assert result.overall.done >= 2 and members == 7
    assert [g.code for g in result.by_field][:3] == ["1.1", "1.2", "1.3"]
