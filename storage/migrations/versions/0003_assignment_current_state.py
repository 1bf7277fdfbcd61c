"""assignment current state: a cache of each assignment's newest report, for fast summaries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Viet Nam keeps UTC+7 all year, so SQLite can shift by a fixed offset.
LOCAL_DATE = {
    "sqlite": "date(r.created_at, '+7 hours')",
    "postgresql": "CAST((r.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS DATE)",
}


def upgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latest_report_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("current_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("current_percent", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("last_reported_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("completed_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_assignment_due_date"), ["due_date"], unique=False)
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_created_assignment", ["created_at", "assignment_id"], unique=False
        )
    _backfill()


def _backfill() -> None:
    """Fill the cache from the reports already stored (same rule as storage.reports)."""
    local_date = LOCAL_DATE.get(op.get_bind().dialect.name, LOCAL_DATE["sqlite"])
    op.execute(
        "UPDATE assignment SET"
        " latest_report_id = (SELECT max(r.id) FROM report r"
        "                     WHERE r.assignment_id = assignment.id),"
        " last_reported_at = (SELECT max(r.created_at) FROM report r"
        "                     WHERE r.assignment_id = assignment.id)"
    )
    op.execute(
        "UPDATE assignment SET"
        " current_status = (SELECT r.status FROM report r"
        "                   WHERE r.id = assignment.latest_report_id),"
        " current_percent = (SELECT r.percent FROM report r"
        "                    WHERE r.id = assignment.latest_report_id)"
        " WHERE latest_report_id IS NOT NULL"
    )
    op.execute(
        f"UPDATE assignment SET completed_on = (SELECT {local_date} FROM report r WHERE r.id = ("
        "  SELECT min(d.id) FROM report d WHERE d.assignment_id = assignment.id"
        "  AND d.status = 'done' AND d.id > coalesce((SELECT max(o.id) FROM report o"
        "  WHERE o.assignment_id = assignment.id AND o.status <> 'done'), 0)))"
        " WHERE current_status = 'done'"
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of "assignment" would trip over the
    # foreign keys of its reports.
    op.drop_index("ix_report_created_assignment", table_name="report")
    op.drop_index(op.f("ix_assignment_due_date"), table_name="assignment")
    for column in (
        "completed_on",
        "last_reported_at",
        "current_percent",
        "current_status",
        "latest_report_id",
    ):
        op.execute(f"ALTER TABLE assignment DROP COLUMN {column}")
