"""Where each chat account stands in a conversation: read and written once per update.

Plain statements built once, not ORM objects: every update of every official runs these, and
the ORM's unit of work cost more than the rest of a step's writes together (bench/updates.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, select, update
from sqlalchemy.orm import Session

from storage.models import Conversation, Identity
from storage.people import ACTIVE_COLUMNS, LINKED_MEMBERS, ActiveMember, member_behind

_TABLE = cast(Table, Conversation.__table__)
_COLUMNS = ("state", "draft", "language", "menu_token", "updated_at")
# The conversation and who is behind the account, in one statement; only the conversation
# row is locked (PostgreSQL refuses to lock the outer side of a join).
_LOAD = (
    select(_TABLE.c.id, *(_TABLE.c[name] for name in _COLUMNS), *ACTIVE_COLUMNS)
    .select_from(
        _TABLE.outerjoin(
            LINKED_MEMBERS,
            and_(
                Identity.platform == _TABLE.c.platform, Identity.external_id == _TABLE.c.external_id
            ),
        )
    )
    .where(
        _TABLE.c.platform == bindparam("platform"), _TABLE.c.external_id == bindparam("external_id")
    )
    .with_for_update(of=_TABLE)
)
_WIDTH = 1 + len(_COLUMNS)
_INSERT = insert(_TABLE).returning(_TABLE.c.id)
_UPDATE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values({name: bindparam(f"new_{name}", type_=_TABLE.c[name].type) for name in _COLUMNS})
)


@dataclass
class ConversationRow:
    """One account's conversation; change the fields, then `save` it in the same transaction."""

    id: int
    state: str
    draft: dict[str, Any]
    language: str
    menu_token: str
    updated_at: datetime
    member: ActiveMember | None = field(default=None, compare=False)  # who is behind it


def load(
    session: Session,
    platform: str,
    external_id: str,
    *,
    language: str,
    state: str,
    menu_token: str,
    now: datetime,
) -> ConversationRow:
    """Lock and return the account's row, creating it (with these values) on first contact,
    with the active member behind the account."""
    found = (
        session.connection()
        .execute(_LOAD, {"platform": platform, "external_id": external_id})
        .first()
    )
    if found is not None:
        loaded = ConversationRow(*found[:_WIDTH])
        loaded.member = ActiveMember(*found[_WIDTH:]) if found[_WIDTH] is not None else None
        return loaded
    row = ConversationRow(
        0, state, {}, language, menu_token, now, member_behind(session, platform, external_id)
    )
    row.id = (
        session.connection()
        .execute(_INSERT, {"platform": platform, "external_id": external_id, **_values(row)})
        .scalar_one()
    )
    return row


def save(session: Session, row: ConversationRow) -> None:
    new = {f"new_{name}": value for name, value in _values(row).items()}
    session.connection().execute(_UPDATE, {"row_id": row.id, **new})


def _values(row: ConversationRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _COLUMNS}
