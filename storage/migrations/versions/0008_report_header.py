"""report header: how each coordinating office heads the periodic reports it issues

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00

The programme file may say, per agency, which layout its reports follow (a state body's,
Decree 30/2020/NĐ-CP, or a Party body's, Hướng dẫn 36-HD/VPTW) and the names on the page;
what it does not say is derived from the agency's name and locality.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programme_agency", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("programme_agency", schema=None) as batch_op:
        batch_op.drop_column("report")
