"""Alembic environment: migrate the engine handed over by storage.db."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from storage.models import Base

config = context.config
engine: Engine | None = config.attributes.get("engine")


def run_migrations_online() -> None:
    """Run the migrations in one transaction on the given engine."""
    if engine is None:
        raise RuntimeError("use `tiendo db upgrade`; it hands Alembic the configured database")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
