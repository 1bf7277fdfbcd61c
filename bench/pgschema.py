"""A PostgreSQL schema of one's own for a test run or a benchmark, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from storage.db import make_engine


@contextmanager
def private_schema(url: str, prefix: str) -> Iterator[Engine]:
    """An engine on a PostgreSQL schema of its own, dropped afterwards (tests, benchmarks),
    so runs never touch each other's tables or a real deployment's."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
