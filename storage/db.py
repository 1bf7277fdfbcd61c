"""Engines, migrations and the unit of work: one transaction per message or job."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
# How every revision file here names itself and its parent (see script.py.mako).
_REVISION = re.compile(r'^(down_revision|revision)\b[^=]*=\s*["\']?(\w+|None)', re.MULTILINE)
# pg_advisory_lock key: "migrate" in ASCII (the scheduler leader's is "tiendo").
MIGRATION_LOCK_KEY = 0x6D696772617465


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, open transactions (savepoints then work).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Take the write lock up front: two writers never deadlock on a lock upgrade.
            # Straight to the driver: every chat update begins one (bench/updates.py).
            conn.connection.driver_connection.execute("BEGIN IMMEDIATE")

        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def alembic_config(engine: Engine) -> AlembicConfig:
    """An Alembic config that migrates this engine (Alembic is loaded only to migrate)."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (head by default), one process at a time."""
    with migration_lock(engine):
        _migrate(engine, revision)


def _migrate(engine: Engine, revision: str) -> None:
    """Run Alembic's upgrade (the caller holds the migration lock)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


@cache
def head_revisions() -> frozenset[str]:
    """The newest revisions, read from the revision files without loading Alembic.

    Every command checks the schema first, and importing Alembic for that cost a read-only
    command like `tiendo items` a fifth of its time; tests hold this to Alembic's answer.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = {m.group(1): m.group(2) for m in _REVISION.finditer(text)}
        revisions.add(found["revision"])
        parents.add(found.get("down_revision", "None"))
    return frozenset(revisions - parents)


def is_current(engine: Engine) -> bool:
    """Tell whether the schema is at the newest revision."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        stored = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return stored == head_revisions()


def ensure_schema(engine: Engine) -> None:
    """Upgrade the database if it is behind (every command does this first).

    Workers started together all find a fresh database behind: under the lock, the first
    migrates it and the others find it current and go on.
    """
    if is_current(engine):
        return
    with migration_lock(engine):
        if not is_current(engine):
            _migrate(engine, "head")


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the PostgreSQL advisory lock that serialises migrations across processes
    (SQLite: none; a SQLite store serves one process)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()


class Database:
    """An engine and its session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, migrate: bool = True) -> Database:
        engine = make_engine(url)
        if migrate:
            ensure_schema(engine)
        return cls(engine)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Yield a session; commit when the block ends, roll back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
