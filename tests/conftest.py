"""Shared fixtures: the store on SQLite and PostgreSQL, each test rolled back; a clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from bench.pgschema import private_schema
from storage.clock import FixedClock
from storage.db import Database, make_engine, upgrade
from storage.programme.file import load_programme_file
from storage.programme.spec import ProgrammeSpec
from tests.harness import HANOI, PROGRAMME, build_template

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
NO_PG = "TEST_DATABASE_URL is not set: PostgreSQL runs of the store tests need a database URL"


def hanoi(*args: int) -> datetime:
    """An aware datetime on the Hà Nội clock."""
    return datetime(*args, tzinfo=HANOI)  # type: ignore[misc]


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_engine() -> Iterator[Engine]:
    if not PG_URL:
        pytest.skip(NO_PG)
    with private_schema(PG_URL, "tiendo_test") as engine:
        upgrade(engine)
        yield engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The migrated store, once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")  # type: ignore[no-any-return]


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    """A Database whose commits stay inside one transaction rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    database = Database(engine)
    database.sessions = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    try:
        yield database
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the default programme, copied by each flow test."""
    return build_template(tmp_path_factory.mktemp("template"), FixedClock(hanoi(2019, 7, 1, 8, 0)))


@pytest.fixture(scope="session")
def spec() -> ProgrammeSpec:
    """The default programme file, read and checked once."""
    return load_programme_file(PROGRAMME)


@pytest.fixture
def clock() -> FixedClock:
    """Monday 2 December 2019, 09:00 in Hà Nội: mid-phase of the 2019–2020 programme."""
    return FixedClock(hanoi(2019, 12, 2, 9, 0))
