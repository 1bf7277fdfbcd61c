"""What an operator checks first: backlog, reachability, how far the scheduler has run,
and how the bots' connections stand.

`tiendo run` writes how each platform stands (`mark`, `note_dropped`; the dispatcher, under
`outbox:<platform>`, whether the Bot API takes the outbox's messages) and `tiendo status`,
another process, reads it here, with the backlog and how long its oldest message has waited. Problems are data (a code and its values), so the command
line says them in the reader's language and `--json` gives monitoring a stable code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import (
    ComponentState,
    Conversation,
    Identity,
    Item,
    Member,
    Outbox,
    Programme,
    SchedulerState,
)

State = Literal["ok", "down", "stopped"]
WAIT_LIMIT_MINUTES = 30  # a due message older than this means nothing is sending
DROPPED_WINDOW = timedelta(hours=24)  # a dropped reply stays a problem this long
OUTBOX = "outbox:"  # the dispatcher's own record of each platform: "outbox:telegram"


def outbox_component(platform: str) -> str:
    """The component that says whether the outbox can send on a platform (an outage: the Bot
    API answers 5xx, times out or cannot be reached, and the messages wait)."""
    return OUTBOX + platform


@dataclass(frozen=True)
class Problem:
    """Something that needs someone's attention: a stable code and what its sentence needs."""

    code: str
    values: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "values": _plain(self.values)}


@dataclass(frozen=True)
class Component:
    """How one platform's connection stood when `tiendo run` last said."""

    state: str
    detail: str
    since: datetime
    dropped: int
    last_dropped_at: datetime | None


@dataclass(frozen=True)
class Health:
    checked_at: datetime
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
    components: dict[str, Component]
    # Per channel, the messages still to send and how long the oldest has waited since it was
    # written (retries included): {"telegram": {"pending": 12, "oldest_minutes": 35.0}}.
    backlog: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))  # type: ignore[no-any-return]

    def problems(self) -> list[Problem]:
        """What needs someone's attention, most urgent first."""
        found = []
        for name, part in sorted(self.components.items()):
            if part.state == "down" and name.startswith(OUTBOX):
                platform = name.removeprefix(OUTBOX)
                waiting = self.backlog.get(platform, {})
                values = {
                    "component": platform,
                    "since": part.since,
                    "detail": part.detail,
                    "pending": int(waiting.get("pending", 0)),
                    "oldest_minutes": round(waiting.get("oldest_minutes", 0.0)),
                }
                found.append(Problem("outbox_outage", values))
            elif part.state == "down":
                values = {"component": name, "since": part.since, "detail": part.detail}
                found.append(Problem("component_down", values))
        for name, part in sorted(self.components.items()):
            last = part.last_dropped_at
            if part.dropped and last is not None and self.checked_at - last < DROPPED_WINDOW:
                found.append(
                    Problem(
                        "replies_dropped", {"component": name, "count": part.dropped, "last": last}
                    )
                )
        if self.programmes == 0:
            found.append(Problem("no_programme"))
        waited = self.oldest_pending_minutes
        if waited is not None and waited > WAIT_LIMIT_MINUTES:
            found.append(Problem("outbox_waiting", {"minutes": round(waited)}))
        failed, unreachable = self.outbox.get("failed", 0), self.outbox.get("unreachable", 0)
        if failed or unreachable:
            found.append(
                Problem("outbox_undelivered", {"failed": failed, "unreachable": unreachable})
            )
        if self.members_unreachable:
            found.append(Problem("members_unreachable", {"count": self.members_unreachable}))
        return found


def _plain(value: Any) -> Any:
    """The same data with datetimes as ISO text, ready for JSON."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def health(session: Session, now: datetime) -> Health:
    """Gather the operator's figures in one read."""
    oldest = session.scalar(
        select(func.min(Outbox.next_attempt_at)).where(
            Outbox.status == "pending", Outbox.next_attempt_at <= now
        )
    )
    backlog = {
        channel: {"pending": count, "oldest_minutes": (now - first).total_seconds() / 60}
        for channel, count, first in session.execute(
            select(Outbox.channel, func.count(), func.min(Outbox.created_at))
            .where(Outbox.status.in_(["pending", "sending"]))
            .group_by(Outbox.channel)
        )
    }
    return Health(
        checked_at=now,
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
        components={
            c.name: Component(c.state, c.detail, c.since, c.dropped, c.last_dropped_at)
            for c in session.scalars(select(ComponentState))
        },
        backlog=backlog,
    )


def _row(session: Session, name: str, now: datetime) -> ComponentState:
    """The component's row, locked, created as "ok" on first use."""
    row = session.get(ComponentState, name, with_for_update=True)
    if row is None:
        row = ComponentState(name=name, state="ok", detail="", since=now, dropped=0)
        row.updated_at = now
        session.add(row)
    return row


def mark(session: Session, name: str, state: State, now: datetime, detail: str = "") -> None:
    """Record that a component is ok, down (with why, no secret in it) or stopped."""
    row = _row(session, name, now)
    if row.state != state:
        row.state, row.since = state, now
    row.detail = detail[:300]
    row.updated_at = now


def note_dropped(session: Session, name: str, now: datetime) -> None:
    """Count a reply given up on; a burst counts from its first drop within the window."""
    row = _row(session, name, now)
    last = row.last_dropped_at
    row.dropped = 1 if last is None or now - last >= DROPPED_WINDOW else row.dropped + 1
    row.last_dropped_at = now
    row.updated_at = now
