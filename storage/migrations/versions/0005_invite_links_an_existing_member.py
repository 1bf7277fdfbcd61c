"""Let an invite link one more chat account to an existing member (/lienket)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 21:38:34.061521
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_invite_member_id_member"), "member", ["member_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invite_member_id_member"), type_="foreignkey")
        batch_op.drop_column("member_id")
