"""The outbox: every message the system sends on its own is written here first.

A row is what one Bot API call sends. A message longer than its channel takes becomes one row
per part when it is enqueued (keys `key:0`, `key:1`, …; choices and file on the last part), so
a part that fails is retried alone and nobody gets an earlier part twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Identity, Member, Outbox
from storage.people import ActiveMember, chat_targets
from storage.textfit import TEXT_LIMITS, split_text, utf16_len

KEY_LENGTH: Final = 300  # outbox.idempotency_key
# Room kept on the last part of a message with choices, on a channel that draws them as text:
# the Zalo messenger adds a line saying which code to type (bot/zalo/adapter.render_outbox).
CHOICES_AS_TEXT_ROOM: Final = {"zalo": 160}
# Every inbound update runs this: built once, it costs only its value.
_MEMBERS = cast(Table, Member.__table__)
_REACHABLE_AGAIN = (
    update(_MEMBERS)
    .where(_MEMBERS.c.id == bindparam("member_id"), _MEMBERS.c.unreachable_at.is_not(None))
    .values(unreachable_at=None)
)


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

    def parts(self, channel: str) -> list[Message]:
        """Cut the text into what one message on `channel` takes; the last part keeps the
        choices and the file. A message that fits is returned whole, untouched."""
        limit = TEXT_LIMITS.get(channel)
        room = CHOICES_AS_TEXT_ROOM.get(channel, 0) if self.choices else 0
        if limit is None or utf16_len(self.text) + room <= limit:
            return [self]
        texts = split_text(self.text, limit) or [""]
        if utf16_len(texts[-1]) + room > limit:
            texts[-1:] = split_text(texts[-1], limit - room)
        return [Message(text) for text in texts[:-1]] + [replace(self, text=texts[-1])]


def part_keys(key: str, count: int) -> list[str]:
    """The idempotency keys of a message's rows: the key itself when it is one part."""
    if count == 1:
        return [key[:KEY_LENGTH]]
    suffixes = [f":{index}" for index in range(count)]
    return [key[: KEY_LENGTH - len(suffix)] + suffix for suffix in suffixes]


def target_for(session: Session, member: Member | ActiveMember) -> Identity | None:
    """The chat account to reach a member on: the preferred channel first."""
    targets = chat_targets(session, member)
    return targets[0] if targets else None


def enqueue(
    session: Session,
    *,
    key: str,
    member: Member | ActiveMember,
    reason: str,
    message: Message,
    due_at: datetime,
    now: datetime,
    chat: tuple[str, str] | None = None,
    in_flight: bool = False,
) -> bool:
    """Add a message (one row per part on the member's channel) unless its idempotency key
    exists; return whether anything was added.

    `chat` (platform, chat id) sends it to that chat rather than the member's preferred one.
    `in_flight` writes it as being sent: the caller is answering in that chat itself and marks
    it sent when it has; a restart (the dispatcher's recovery) sends what was never answered.
    """
    target = target_for(session, member) if chat is None else None
    channel, chat_id = chat or (
        target.platform if target else "none",
        target.chat_id if target else "",
    )
    parts = message.parts(channel)
    reachable = chat is not None or target is not None
    status = "sending" if in_flight else "pending" if reachable else "unreachable"
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    added = False
    for part_key, part in zip(part_keys(key, len(parts)), parts, strict=True):
        statement = (
            insert(Outbox)
            .values(
                idempotency_key=part_key,
                member_id=member.id,
                channel=channel,
                chat_id=chat_id,
                reason=reason,
                payload=part.payload(),
                status=status,
                attempts=0,
                created_at=now,
                next_attempt_at=due_at,
                last_error="",
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(Outbox.id)
        )
        # rowcount is -1 on PostgreSQL with RETURNING; a returned row means "inserted".
        added = session.execute(statement).first() is not None or added
    return added


def heard_from(session: Session, member: ActiveMember | None) -> None:
    """A person wrote to the bot, so their chat works: clear an unreachable mark (a blocked
    bot, a chat not found), and reminders and digests reach them again. Free unless marked."""
    if member is not None and member.unreachable:
        session.connection().execute(_REACHABLE_AGAIN, {"member_id": member.id})
