"""programmes apart: roles per programme, aliases and periods, fields from the tree, directives
that know their recipients

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00

An agency's coordinating and leadership flags move from `agency` (shared by every programme,
overwritten by each import) to `programme_agency`, one row per programme the agency takes
part in. Items get the field and section they roll up to, read from the notice's tree.
Directives get their programme, an optional deadline, and one row per recipient agency with
the report that answered it. Existing data is carried over: nothing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alias", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("cadence", sa.String(length=16), nullable=False, server_default="monthly")
        )
        batch_op.add_column(
            sa.Column("periods", sa.String(length=16), nullable=False, server_default="decree-09")
        )
        batch_op.add_column(sa.Column("report_due_day", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_programme_alias"), ["alias"])

    op.create_table(
        "programme_agency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("coordinates", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("leadership", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_programme_agency_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_agency_programme_id_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_agency")),
        sa.UniqueConstraint(
            "programme_id", "agency_id", name=op.f("uq_programme_agency_programme_id")
        ),
    )
    op.create_index(
        op.f("ix_programme_agency_agency_id"), "programme_agency", ["agency_id"], unique=False
    )
    _carry_roles_over()
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_column("coordinates")
        batch_op.drop_column("leadership")

    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("field_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("section_code", sa.String(length=32), nullable=True))
    _fill_fields()

    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.add_column(sa.Column("programme_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_directive_programme_id_programme"), "programme", ["programme_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_directive_programme_id"), ["programme_id"])
    op.create_table(
        "directive_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("answer_report_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_directive_recipient_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["answer_report_id"],
            ["report.id"],
            name=op.f("fk_directive_recipient_answer_report_id_report"),
        ),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directive.id"],
            name=op.f("fk_directive_recipient_directive_id_directive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive_recipient")),
        sa.UniqueConstraint(
            "directive_id", "agency_id", name=op.f("uq_directive_recipient_directive_id")
        ),
    )
    op.create_index(
        op.f("ix_directive_recipient_agency_id"), "directive_recipient", ["agency_id"], unique=False
    )
    _carry_directives_over()


def _carry_roles_over() -> None:
    """Give every agency a role row in each programme it takes part in, with its old flags."""
    conn = op.get_bind()
    programmes = [row.id for row in conn.execute(sa.text("SELECT id FROM programme"))]
    agencies = conn.execute(sa.text("SELECT id, coordinates, leadership FROM agency")).all()
    taking_part = {
        (row.programme_id, row.agency_id)
        for row in conn.execute(
            sa.text(
                "SELECT DISTINCT i.programme_id, a.agency_id FROM assignment a "
                "JOIN item i ON i.id = a.item_id"
            )
        )
    }
    rows = [
        {
            "programme_id": programme,
            "agency_id": agency.id,
            "coordinates": bool(agency.coordinates),
            "leadership": bool(agency.leadership),
        }
        for programme in programmes
        for agency in agencies
        if (programme, agency.id) in taking_part or agency.coordinates or agency.leadership
    ]
    if rows:
        conn.execute(
            sa.text(
                "INSERT INTO programme_agency (programme_id, agency_id, coordinates, leadership) "
                "VALUES (:programme_id, :agency_id, :coordinates, :leadership)"
            ),
            rows,
        )


def _fill_fields() -> None:
    """Set each item's field (its nearest numbered point) and section (that point's top group)."""
    conn = op.get_bind()
    items = {
        row.id: row for row in conn.execute(sa.text("SELECT id, parent_id, code, kind FROM item"))
    }

    def chain(item_id: int) -> list[Any]:  # the item, then its parent, up to the top
        found: list[Any] = []
        current = items.get(item_id)
        while current is not None and len(found) < 64:
            found.append(current)
            current = items.get(current.parent_id) if current.parent_id else None
        return found

    updates = []
    for item_id, item in items.items():
        numbered = [i for i in chain(item_id) if i.kind == "item"]
        field = numbered[0].code if numbered else item.code
        section = numbered[-1].code if numbered else item.code
        updates.append({"id": item_id, "field": field, "section": section})
    if updates:
        conn.execute(
            sa.text("UPDATE item SET field_code = :field, section_code = :section WHERE id = :id"),
            updates,
        )


def _carry_directives_over() -> None:
    """Recipients of the directives already given: the lead agencies they went to, each
    answered by its first report on the item (or under it) since the directive."""
    conn = op.get_bind()
    directives = conn.execute(
        sa.text(
            "SELECT d.id, d.created_at, i.programme_id, i.code FROM directive d "
            "JOIN item i ON i.id = d.item_id"
        )
    ).all()
    for directive in directives:
        conn.execute(
            sa.text("UPDATE directive SET programme_id = :programme WHERE id = :id"),
            {"programme": directive.programme_id, "id": directive.id},
        )
        leads = conn.execute(
            sa.text(
                "SELECT DISTINCT a.agency_id FROM assignment a JOIN item i ON i.id = a.item_id "
                "WHERE i.programme_id = :programme AND a.role = 'lead' "
                "AND (i.code = :code OR i.code LIKE :under)"
            ),
            {
                "programme": directive.programme_id,
                "code": directive.code,
                "under": directive.code + ".%",
            },
        ).all()
        for (agency_id,) in leads:
            answer = conn.execute(
                sa.text(
                    "SELECT r.id, r.created_at FROM report r JOIN assignment a "
                    "ON a.id = r.assignment_id JOIN item i ON i.id = a.item_id "
                    "WHERE r.agency_id = :agency AND r.created_at >= :since "
                    "AND i.programme_id = :programme AND (i.code = :code OR i.code LIKE :under) "
                    "ORDER BY r.id LIMIT 1"
                ),
                {
                    "agency": agency_id,
                    "since": directive.created_at,
                    "programme": directive.programme_id,
                    "code": directive.code,
                    "under": directive.code + ".%",
                },
            ).first()
            conn.execute(
                sa.text(
                    "INSERT INTO directive_recipient (directive_id, agency_id, role, reached, "
                    "answer_report_id, answered_at) VALUES (:directive, :agency, 'lead', :reached, "
                    ":answer, :answered_at)"
                ),
                {
                    "directive": directive.id,
                    "agency": agency_id,
                    "reached": True,
                    "answer": answer.id if answer else None,
                    "answered_at": answer.created_at if answer else None,
                },
            )


def downgrade() -> None:
    op.drop_index(op.f("ix_directive_recipient_agency_id"), table_name="directive_recipient")
    op.drop_table("directive_recipient")
    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directive_programme_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_directive_programme_id_programme"), type_="foreignkey"
        )
        batch_op.drop_column("closed_at")
        batch_op.drop_column("due_on")
        batch_op.drop_column("programme_id")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("section_code")
        batch_op.drop_column("field_code")
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("coordinates", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("leadership", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE agency SET coordinates = EXISTS (SELECT 1 FROM programme_agency p "
            "WHERE p.agency_id = agency.id AND p.coordinates), leadership = EXISTS "
            "(SELECT 1 FROM programme_agency p WHERE p.agency_id = agency.id AND p.leadership)"
        )
    )
    op.drop_index(op.f("ix_programme_agency_agency_id"), table_name="programme_agency")
    op.drop_table("programme_agency")
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_programme_alias"), type_="unique")
        batch_op.drop_column("report_due_day")
        batch_op.drop_column("periods")
        batch_op.drop_column("cadence")
        batch_op.drop_column("alias")
