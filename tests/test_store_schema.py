"""The schema migrates on both databases and keeps datetimes aware."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.engine import make_url

from bench.pgschema import private_schema
from storage.db import Database, is_current
from storage.models import AuditLog, Locality
from tests.conftest import NO_PG, PG_URL
from tests.start_child import start_worker


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {
        "programme",
        "agency",
        "item",
        "assignment",
        "member",
        "identity",
        "report",
        "outbox",
        "conversation",
        "audit_log",
    } <= tables
    assert is_current(engine)


def test_datetimes_come_back_aware_utc(db: Database) -> None:
    moment = datetime(2020, 1, 27, 2, 0, tzinfo=UTC)
    with db.unit_of_work() as s:
        s.add(AuditLog(at=moment, actor="test", action="check", entity="none"))
    with db.unit_of_work() as s:
        stored = s.scalars(select(AuditLog).where(AuditLog.actor == "test")).one()
    assert stored.at == moment and stored.at.tzinfo is not None


def test_naive_datetime_is_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), db.unit_of_work() as s:
        s.add(AuditLog(at=datetime(2020, 1, 1), actor="x", action="y", entity="z"))
        s.flush()


def test_a_failed_unit_of_work_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        s.add(Locality(code="XX", name="Nowhere"))
        s.flush()
        raise RuntimeError("crash mid-way")
    with db.unit_of_work() as s:
        assert s.scalar(select(Locality).where(Locality.code == "XX")) is None


def test_the_schema_check_knows_the_heads_alembic_knows(engine: Engine) -> None:
    """`is_current` reads the revision files itself so read-only commands load no Alembic."""
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, head_revisions

    script = ScriptDirectory.from_config(alembic_config(engine))
    assert head_revisions() == frozenset(script.get_heads())
    assert {"component_state", "scheduler_state"} <= set(inspect(engine).get_table_names())


WORKERS = 8


def test_workers_starting_together_on_a_fresh_database_all_start() -> None:
    """Several PostgreSQL workers opening a fresh database at the same moment each find it
    behind and migrate it; none of them fails and the schema ends at the newest revision."""
    if not PG_URL:
        pytest.skip(NO_PG)
    spawn = multiprocessing.get_context("spawn")
    with private_schema(PG_URL, "tiendo_race") as fresh:
        with fresh.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        start = spawn.Barrier(WORKERS)
        failures = spawn.Queue()
        workers = [
            spawn.Process(
                target=start_worker,
                args=(url.render_as_string(hide_password=False), start, failures),
            )
            for _ in range(WORKERS)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        reasons = [failures.get() for _ in range(failures.qsize())]
        assert reasons == [] and [w.exitcode for w in workers] == [0] * WORKERS
        assert is_current(fresh)
        with fresh.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_the_migrations_build_what_the_models_describe(engine: Engine) -> None:
    """Every model column, index and constraint exists as migrated (no change left unwritten)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.models import Base

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
