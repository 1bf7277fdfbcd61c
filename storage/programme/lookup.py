"""Find programmes by what people type: the alias (HY) or the code, in any case."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import Programme


class UnknownProgramme(LookupError):
    """No programme answers to what was typed; `known` lists those that do exist."""

    def __init__(self, typed: str, known: list[Programme]) -> None:
        self.typed = typed
        self.known = [(p.alias, p.code) for p in known]
        names = ", ".join(known_names(self.known)) or "—"
        super().__init__(
            f'không có chương trình "{typed}" / unknown programme "{typed}"; '
            f"các chương trình / known: {names}"
        )


def known_names(known: list[tuple[str | None, str]]) -> list[str]:
    """Name programmes as people type them: 'HY (ha-noi-hung-yen-2019)', or the code alone."""
    return [f"{alias} ({code})" if alias else code for alias, code in known]


def all_programmes(session: Session) -> list[Programme]:
    """Every programme, oldest import first (the order every list and sheet follows)."""
    return list(session.scalars(select(Programme).order_by(Programme.id)))


def find_programme(session: Session, typed: str) -> Programme:
    """The programme whose alias or code is `typed` (any case); UnknownProgramme if none."""
    word = typed.strip()
    found = session.scalar(
        select(Programme).where(
            or_(Programme.alias == word.upper(), Programme.code == word.lower())
        )
    )
    if found is None:
        raise UnknownProgramme(word, all_programmes(session))
    return found


def programmes_named(session: Session, typed: str | None) -> list[Programme]:
    """The one programme typed, or every programme when nothing was typed."""
    if typed is None:
        return all_programmes(session)
    return [find_programme(session, typed)]
