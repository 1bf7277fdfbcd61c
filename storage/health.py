"""What an operator checks first: backlog, reachability, how far the scheduler has run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Conversation, Identity, Item, Member, Outbox, Programme, SchedulerState


@dataclass(frozen=True)
class Health:
    programmes: int
    items: int
    members_active: int
    members_unreachable: int
    members_revoked: int
    identities: dict[str, int]
    outbox: dict[str, int]
    oldest_pending_minutes: float | None
    conversations_open: int
    scheduler: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def problems(self) -> list[str]:
        """Plain statements of what needs someone's attention."""
        found = []
        if self.programmes == 0:
            found.append("no programme imported: run `tiendo import`")
        if self.oldest_pending_minutes is not None and self.oldest_pending_minutes > 30:
            found.append(
                f"outbox: a message has waited {self.oldest_pending_minutes:.0f} min; "
                "is `tiendo run` (or `tiendo scheduler`) running with a token?"
            )
        if self.outbox.get("failed", 0) or self.outbox.get("unreachable", 0):
            found.append(
                "outbox: some messages could not be delivered (failed or no linked "
                "account); see `tiendo reminders` and the members marked unreachable"
            )
        if self.members_unreachable:
            found.append(
                f"{self.members_unreachable} member(s) unreachable (blocked the bot or "
                "chat gone): invite them again"
            )
        return found


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def health(session: Session, now: datetime) -> Health:
    """Gather the operator's figures in one read."""
    oldest = session.scalar(
        select(func.min(Outbox.next_attempt_at)).where(
            Outbox.status == "pending", Outbox.next_attempt_at <= now
        )
    )
    return Health(
        programmes=_count(session, Programme),
        items=_count(session, Item, Item.archived_at.is_(None)),
        members_active=_count(session, Member, Member.revoked_at.is_(None)),
        members_unreachable=_count(
            session, Member, Member.revoked_at.is_(None), Member.unreachable_at.is_not(None)
        ),
        members_revoked=_count(session, Member, Member.revoked_at.is_not(None)),
        identities={
            platform: n
            for platform, n in session.execute(
                select(Identity.platform, func.count()).group_by(Identity.platform)
            )
        },
        outbox={
            status: n
            for status, n in session.execute(
                select(Outbox.status, func.count()).group_by(Outbox.status)
            )
        },
        oldest_pending_minutes=(now - oldest).total_seconds() / 60 if oldest else None,
        conversations_open=_count(session, Conversation, Conversation.state != "idle"),
        scheduler={
            s.job: (s.last_slot.isoformat() if s.last_slot else "—")
            for s in session.scalars(select(SchedulerState))
        },
    )
