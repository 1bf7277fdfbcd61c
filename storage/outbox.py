"""The outbox: every message the system sends on its own is written here first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Identity, Member, Outbox
from storage.people import chat_targets


@dataclass(frozen=True)
class Message:
    """What to send: text, rows of (label, data) choices, an optional file on disk."""

    text: str
    choices: list[list[tuple[str, str]]] | None = None
    file_path: str | None = None
    file_name: str | None = None
    photo: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "choices": self.choices or [],
            "file_path": self.file_path,
            "file_name": self.file_name,
            "photo": self.photo,
        }


def target_for(session: Session, member: Member) -> Identity | None:
    """The chat account to reach a member on: the preferred channel first."""
    targets = chat_targets(session, member)
    return targets[0] if targets else None


def enqueue(
    session: Session,
    *,
    key: str,
    member: Member,
    reason: str,
    message: Message,
    due_at: datetime,
    now: datetime,
) -> bool:
    """Add a message unless its idempotency key exists; return whether it was added."""
    target = target_for(session, member)
    values = {
        "idempotency_key": key[:300],
        "member_id": member.id,
        "channel": target.platform if target else "none",
        "chat_id": target.chat_id if target else "",
        "reason": reason,
        "payload": message.payload(),
        "status": "pending" if target else "unreachable",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": due_at,
        "last_error": "",
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Outbox)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Outbox.id)
    )
    # rowcount is -1 on PostgreSQL with RETURNING; a returned row means "inserted".
    return session.execute(statement).first() is not None


def pending(session: Session, now: datetime, limit: int) -> list[Outbox]:
    return list(
        session.scalars(
            select(Outbox)
            .where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(limit)
        )
    )
