"""The pieces every conversation step shares: states, effects, context and menus."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from handlers.events import Choice, Inbound, Reply
from handlers.settings import ConversationSettings
from handlers.texts import Texts
from storage.aggregate.states import AssignmentState
from storage.aggregate.summary import Summary
from storage.chat_reader import (
    HistoryEntry,
    InviteView,
    ItemView,
    MemberView,
    ProgrammeView,
    ReportView,
)
from storage.directives import Candidate, DirectiveTarget, DirectiveView, ProgrammeRef
from storage.people import ActiveMember


class State(StrEnum):
    IDLE = "idle"
    REPORT_ITEM = "report_item"
    REPORT_STATUS = "report_status"
    REPORT_PERCENT = "report_percent"
    REPORT_NOTE = "report_note"
    REPORT_EVIDENCE = "report_evidence"
    REPORT_CONFIRM = "report_confirm"
    REVIEW_REASON = "review_reason"
    DIRECTIVE_PROGRAMME = "directive_programme"
    DIRECTIVE_TEXT = "directive_text"
    DIRECTIVE_SCOPE = "directive_scope"
    PICK_PROGRAMME = "pick_programme"  # a code in several of the person's programmes: which?
    CONFIRM_JOIN = "confirm_join"  # a second invite on a linked account: move it?


# Who may do what (handlers.access says it to whoever may not).
REPORT_ROLES = {"reporter", "coordinator", "admin"}  # report on their agency's items
OVERSIGHT_ROLES = {"coordinator", "vice_chair", "admin"}
REVIEW_ROLES = {"coordinator", "admin"}
DIRECTIVE_ROLES = {"vice_chair", "admin"}


# Effects: what the service writes, in the same transaction as the new state.
@dataclass(frozen=True)
class SaveReport:
    assignment_id: int
    status: str
    percent: int
    note: str
    evidence: tuple[dict[str, Any], ...] = ()
    corrects_id: int | None = None


@dataclass(frozen=True)
class Join:
    code: str


@dataclass(frozen=True)
class FailedJoin:
    pass


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class ReviewReport:
    report_id: int
    decision: str  # "confirmed" | "returned"
    reason: str = ""


@dataclass(frozen=True)
class GiveDirective:
    item_id: int
    text: str
    due_on: date | None = None
    scope: str = "lead"  # lead | support | counterpart (storage.directives.SCOPES)


@dataclass(frozen=True)
class SendExport:
    programme_codes: tuple[str, ...] = ()  # one workbook each


@dataclass(frozen=True)
class SetAbsence:
    stand_in_id: int | None
    days: int


@dataclass(frozen=True)
class MuteItem:
    assignment_id: int


@dataclass(frozen=True)
class MakeLinkCode:
    pass


@dataclass(frozen=True)
class SetChannel:
    platform: str


Effect = (
    SaveReport
    | Join
    | FailedJoin
    | SetLanguage
    | ReviewReport
    | GiveDirective
    | SendExport
    | SetAbsence
    | MuteItem
    | MakeLinkCode
    | SetChannel
)


@dataclass
class Conv:
    """A chat account's conversation: state, draft answers, language, current menu token."""

    state: State
    draft: dict[str, Any]
    language: str
    menu_token: str
    updated_at: datetime | None


@dataclass
class Transition:
    state: State
    draft: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    menu_token: str | None = None  # a new token retires every button shown before


class Reader(Protocol):
    """The read-only questions a step may ask of the store (storage.chat_reader answers)."""

    def programmes(self) -> Sequence[ProgrammeView]: ...
    def agency_states(self, agency_id: int) -> Sequence[AssignmentState]: ...
    def agency_states_on(self, agency_id: int, code: str) -> Sequence[AssignmentState]: ...
    def item_states(self, code: str, programme_id: int) -> Sequence[AssignmentState]: ...
    def assignment_state(self, assignment_id: int) -> AssignmentState | None: ...
    def items(self, code: str) -> Sequence[ItemView]: ...
    def item(self, code: str) -> ItemView | None: ...
    def history(self, assignment_ids: Sequence[int], limit: int) -> Sequence[HistoryEntry]: ...
    def directives(
        self, item_code: str, limit: int, programme_id: int | None = None
    ) -> Sequence[DirectiveView]: ...
    def directive_programmes(self) -> Sequence[ProgrammeRef]: ...
    def directive_items(self, code: str) -> Sequence[DirectiveTarget]: ...
    def directive_target(self, item_id: int) -> DirectiveTarget | None: ...
    def directive_audience(self, item_id: int) -> Sequence[Candidate]: ...
    def open_directives(self) -> Sequence[DirectiveView]: ...
    def directive(self, directive_id: int) -> DirectiveView | None: ...
    def invite(self, code: str) -> InviteView | None: ...
    def failed_joins_last_hour(self) -> int: ...
    def told_since(self, moment: datetime) -> bool: ...
    def summary(self, programme_code: str) -> Summary: ...
    def recent_reports(
        self, limit: int, programme_ids: Collection[int], locality_code: str | None
    ) -> Sequence[ReportView]: ...
    def report(self, report_id: int) -> ReportView | None: ...
    def colleagues(self) -> Sequence[MemberView]: ...
    def channels(self) -> Sequence[str]: ...


@dataclass
class StepContext:
    event: Inbound
    conv: Conv
    member: ActiveMember | None  # who is behind the account, unless unlinked or revoked
    reader: Reader
    now: datetime
    today: date
    tz: ZoneInfo
    tx: Texts
    settings: ConversationSettings
    bot_username: str = ""

    def stay(self, *replies: Reply, effects: Sequence[Effect] = ()) -> Transition:
        """Keep the state and draft; just answer."""
        return Transition(self.conv.state, self.conv.draft, list(replies), list(effects))

    def go(
        self,
        state: State,
        draft: dict[str, Any] | None = None,
        *replies: Reply,
        effects: Sequence[Effect] = (),
    ) -> Transition:
        """Move to `state` with a fresh menu token."""
        return Transition(
            state,
            {} if draft is None else draft,
            list(replies),
            list(effects),
            menu_token=new_token(self.conv.menu_token),
        )

    def idle(self, *replies: Reply, effects: Sequence[Effect] = ()) -> Transition:
        return self.go(State.IDLE, {}, *replies, effects=effects)

    def ask(
        self,
        state: State,
        draft: dict[str, Any],
        text: str,
        rows: Sequence[Sequence[tuple[str, str]]],
        *,
        typed_choices: bool = False,
        details: tuple[str, ...] = (),
        headings: tuple[tuple[int, str], ...] = (),
    ) -> Transition:
        """Move to `state` and show `rows` as a menu bound to the new token."""
        transition = self.go(state, draft)
        assert transition.menu_token is not None
        transition.replies.append(
            Reply(
                text,
                menu(transition.menu_token, rows),
                typed_choices=typed_choices,
                details=details,
                headings=headings,
            )
        )
        return transition


def new_token(retired: str = "") -> str:
    """A short menu token, never the one it replaces (an old button must stay retired)."""
    while (token := secrets.token_hex(2)) == retired:
        pass
    return token


def remember_menu(draft: dict[str, Any], replies: Sequence[Reply]) -> dict[str, Any]:
    """Keep the last numbered menu's choices in the draft, so a typed number picks one (Zalo,
    the terminal); a reply without one forgets it."""
    draft = dict(draft)
    numbered = [r for r in replies if r.choices and not r.typed_choices]
    if numbered:
        draft["_menu"] = [c.data for c in numbered[-1].flat_choices()]
    else:
        draft.pop("_menu", None)
    return draft


def menu(token: str, rows: Sequence[Sequence[tuple[str, str]]]) -> tuple[tuple[Choice, ...], ...]:
    """Build choice rows whose data carries the menu token (stale menus are detected)."""
    return tuple(tuple(Choice(label, f"{token}.{data}") for label, data in row) for row in rows)


def split_choice(data: str) -> tuple[str | None, str]:
    """Split `token.action` into its parts; global actions carry no token."""
    token, dot, action = data.partition(".")
    if dot and len(token) == 4 and all(c in "0123456789abcdef" for c in token):
        return token, action
    return None, data


def global_menu(rows: Sequence[Sequence[tuple[str, str]]]) -> tuple[tuple[Choice, ...], ...]:
    """Token-free buttons that stay valid on old messages (reminders, digests, item views)."""
    return tuple(tuple(Choice(label, data) for label, data in row) for row in rows)
