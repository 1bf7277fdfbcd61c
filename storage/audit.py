"""The audit log: who changed what, kept beside the data it explains."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from storage.models import AuditLog

# A plain insert: every report an official sends writes one entry (bench/updates.py).
_INSERT = insert(cast(Table, AuditLog.__table__))


def record(
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: object = "",
    **detail: Any,
) -> None:
    """Add one audit entry in the caller's transaction."""
    session.connection().execute(
        _INSERT,
        {
            "at": at,
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "detail": detail,
        },
    )
