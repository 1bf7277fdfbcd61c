"""An in-memory `handlers.core.Reader`: what the store would answer, held in plain records.

A conversation step asks the store only through `Reader`. The records here have the shapes
`storage.chat_reader.StoreReader` returns (`AssignmentState`, `ProgrammeView`, `ItemView`,
`HistoryEntry`, `ReportView`, `InviteView`, `Summary`, and `storage.directives`'
`DirectiveView`, `DirectiveTarget`, `Candidate`, `ProgrammeRef`), so a dialog table can
drive `step()` without a database; the store's own answers stay covered by the end-to-end and
store tests. `make typecheck` checks `MemoryReader` against `Reader` (see `_a_reader`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby

from handlers.core import Reader
from storage.aggregate.categories import BLOCKED, Category, categorize
from storage.aggregate.states import AssignmentState
from storage.aggregate.summary import GroupTally, Summary, Tally, day_bounds
from storage.chat_reader import (
    HistoryEntry,
    InviteView,
    ItemView,
    MemberView,
    ProgrammeView,
    ReportView,
)
from storage.directives import SCOPES, Candidate, DirectiveTarget, DirectiveView, ProgrammeRef
from storage.people import ActiveMember
from storage.periods import period_for
from tests.harness import HANOI


@dataclass(frozen=True)
class ProgrammeRecord:
    """What a step reads of a `Programme` row, and how its periods are cut."""

    id: int
    code: str
    label: str
    title: str
    cadence: str = "monthly"
    periods: str = "decree-09"
    due_day: int = 25


@dataclass(frozen=True)
class AgencyRecord:
    id: int
    code: str
    name: str
    locality_code: str


@dataclass(frozen=True)
class Roles:
    """An agency's part in one programme beyond its assignments."""

    coordinates: bool = False
    leadership: bool = False


@dataclass
class Store:
    """The store's contents a dialog may ask about, judged on `today`."""

    today: date
    localities: dict[str, str]  # code → name
    agencies: dict[str, AgencyRecord]
    programmes: list[ProgrammeRecord]
    items: list[ItemView]
    roles: dict[tuple[int, str], Roles] = field(default_factory=dict)  # (programme, agency)
    states: list[AssignmentState] = field(default_factory=list)  # by programme, document order
    history: dict[int, list[HistoryEntry]] = field(default_factory=dict)  # per assignment
    directives: dict[int, list[DirectiveView]] = field(default_factory=dict)  # per item id
    reports: list[ReportView] = field(default_factory=list)  # unreviewed, newest first
    invites: dict[str, InviteView] = field(default_factory=dict)
    unreached: set[str] = field(default_factory=set)  # agencies nobody can be told at (codes)

    def item(self, programme_id: int, code: str) -> ItemView:
        return next(i for i in self.items if i.programme_id == programme_id and i.code == code)

    def programme(self, programme_id: int) -> ProgrammeRecord:
        return next(p for p in self.programmes if p.id == programme_id)

    def assign(
        self,
        assignment_id: int,
        code: str,
        agency: str,
        role: str,
        due: date | None,
        *,
        programme: int = 1,
        status: str | None = None,
        percent: int | None = None,
        note: str = "",
        reported_at: datetime | None = None,
        reporter: str | None = None,
        report_id: int | None = None,
        completed_on: date | None = None,
    ) -> AssignmentState:
        """Add one assignment as its newest report leaves it (no report: status None)."""
        item, who, of = self.item(programme, code), self.agencies[agency], self.programme(programme)
        state = AssignmentState(
            assignment_id=assignment_id,
            item_id=item.id,
            item_code=code,
            item_title=item.title,
            field_code=".".join(code.split(".")[:2]),  # the Hưng Yên notice's fields
            agency_id=who.id,
            agency_code=who.code,
            agency_name=who.name,
            locality_code=who.locality_code,
            role=role,
            due_date=due,
            status=status,
            percent=percent,
            note=note,
            reported_at=reported_at,
            reporter_name=reporter,
            report_id=report_id,
            completed_on=completed_on,
            category=categorize(status, due, completed_on, self.today),
            as_of=self.today,
            programme_id=programme,
            programme_code=of.code,
            programme_label=of.label,
            section_code=code.split(".")[0],
        )
        self.states.append(state)
        self.states.sort(key=lambda s: s.programme_id)  # stable: document order kept within
        return state

    def takes_part(self, programme_id: int, agency_id: int) -> bool:
        """Listed in the programme's file: assigned there, or with a role there."""
        code = next(a.code for a in self.agencies.values() if a.id == agency_id)
        return (programme_id, code) in self.roles or any(
            s.programme_id == programme_id and s.agency_id == agency_id for s in self.states
        )

    def summary(self, programme_code: str) -> Summary:
        """The consolidated picture of one programme's `states` in its period, as the store
        adds it up."""
        of = next(p for p in self.programmes if p.code == programme_code)
        states = [s for s in self.states if s.programme_id == of.id]
        period = period_for(self.today, of.cadence, of.periods, of.due_day)
        assert period is not None
        since, until = day_bounds(period.window_start, period.due, HANOI)

        def reported(s: AssignmentState) -> bool:
            return s.reported_at is not None and since <= s.reported_at < until

        def one(s: AssignmentState) -> Tally:
            return Tally(
                count=1,
                percent_sum=s.percent or 0,
                categories={c: int(c == s.category) for c in Category},
                open=int(not s.done),
                open_reported=int(not s.done and reported(s)),
                overdue=int(s.overdue),
                blocked=int(s.status == BLOCKED),
            )

        def tally(group: Iterable[AssignmentState]) -> Tally:
            return sum((one(s) for s in group), Tally())

        def groups(key: str, name: dict[str, str]) -> list[GroupTally]:
            ordered = sorted(states, key=lambda s: str(getattr(s, key)))
            return [
                GroupTally(code, name[code], tally(members))
                for code, members in groupby(ordered, key=lambda s: str(getattr(s, key)))
            ]

        overall = tally(states)
        titles = {i.code: i.title for i in self.items if i.programme_id == of.id}
        return Summary(
            programme_code=of.code,
            programme_label=of.label,
            programme_title=of.title,
            today=self.today,
            period=period,
            overall=overall,
            by_field=groups("field_code", titles),
            by_agency=[
                GroupTally(g.code, g.name, g.tally, agency_id=self.agencies[g.code].id)
                for g in groups("agency_code", {a.code: a.name for a in self.agencies.values()})
            ],
            by_locality=groups("locality_code", self.localities),
            overdue=sorted((s for s in states if s.overdue), key=lambda s: s.due_date or date.max),
            blocked=[s for s in states if s.status == BLOCKED],
            not_reported=[s for s in states if not s.done and not reported(s)],
            response_rate=overall.response_rate,
        )


@dataclass
class MemoryReader:
    """`handlers.core.Reader` over a `Store`, for one account (`member` None: unlinked)."""

    store: Store
    member: ActiveMember | None
    linked_channels: Sequence[str] = ("telegram",)
    team: Sequence[MemberView] = ()
    failed_joins: int = 0  # this account's wrong invite codes in the last hour
    told_at: list[datetime] = field(default_factory=list)  # when the bot wrote on its own

    def programmes(self) -> Sequence[ProgrammeView]:
        views = []
        for p in self.store.programmes:
            agency = self.member.agency_code if self.member is not None else ""
            roles = self.store.roles.get((p.id, agency), Roles())
            takes_part = self.member is not None and self.store.takes_part(
                p.id, self.member.agency_id
            )
            views.append(
                ProgrammeView(
                    p.id, p.code, p.label, p.title, takes_part, roles.coordinates, roles.leadership
                )
            )
        return views

    def agency_states(self, agency_id: int) -> Sequence[AssignmentState]:
        return [s for s in self.store.states if s.agency_id == agency_id]

    def agency_states_on(self, agency_id: int, code: str) -> Sequence[AssignmentState]:
        return [s for s in self.agency_states(agency_id) if s.item_code == code]

    def item_states(self, code: str, programme_id: int) -> Sequence[AssignmentState]:
        return [
            s
            for s in self.store.states
            if s.programme_id == programme_id
            and (s.item_code == code or s.item_code.startswith(f"{code}."))
        ]

    def assignment_state(self, assignment_id: int) -> AssignmentState | None:
        return next((s for s in self.store.states if s.assignment_id == assignment_id), None)

    def items(self, code: str) -> Sequence[ItemView]:
        return sorted((i for i in self.store.items if i.code == code), key=lambda i: i.programme_id)

    def item(self, code: str) -> ItemView | None:
        found = self.items(code)
        return found[0] if found else None

    def history(self, assignment_ids: Sequence[int], limit: int) -> Sequence[HistoryEntry]:
        entries = [e for a in assignment_ids for e in self.store.history.get(a, [])]
        return sorted(entries, key=lambda e: (e.created_at, e.id), reverse=True)[:limit]

    def directives(
        self, item_code: str, limit: int, programme_id: int | None = None
    ) -> Sequence[DirectiveView]:
        found = [
            d
            for i in self.store.items
            if i.code == item_code and programme_id in (None, i.programme_id)
            for d in self.store.directives.get(i.id, [])
        ]
        return sorted(found, key=lambda d: (d.created_at, d.id), reverse=True)[:limit]

    def directive_programmes(self) -> Sequence[ProgrammeRef]:
        """Where the member's agency has leadership; every programme for an admin."""
        member = self.member
        if member is None:
            return []
        return [
            ProgrammeRef(p.id, p.label, p.code, p.title)
            for p in self.store.programmes
            if member.role == "admin"
            or self.store.roles.get((p.id, member.agency_code), Roles()).leadership
        ]

    def directive_items(self, code: str) -> Sequence[DirectiveTarget]:
        labels = {p.id: p.label for p in self.directive_programmes()}
        return [
            DirectiveTarget(i.id, i.code, i.title, i.programme_id, labels[i.programme_id])
            for i in self.items(code)
            if i.programme_id in labels
        ]

    def directive_target(self, item_id: int) -> DirectiveTarget | None:
        item = next((i for i in self.store.items if i.id == item_id), None)
        found = self.directive_items(item.code) if item is not None else []
        return next((t for t in found if t.item_id == item_id), None)

    def directive_audience(self, item_id: int) -> Sequence[Candidate]:
        target = self.directive_target(item_id)
        if target is None or self.member is None:
            return []
        found: dict[str, Candidate] = {}
        for s in self.item_states(target.code, target.programme_id):
            role = (
                "counterpart"
                if s.locality_code != self.member.locality_code
                else "lead"
                if s.role == "lead" or found.get(s.agency_code, s).role == "lead"
                else "support"
            )
            codes = found[s.agency_code].codes if s.agency_code in found else ()
            found[s.agency_code] = Candidate(
                s.agency_id,
                s.agency_code,
                s.agency_name,
                s.locality_code,
                self.store.localities[s.locality_code],
                role,
                (*codes, s.item_code),
                0 if s.agency_code in self.store.unreached else 1,
            )
        return sorted(found.values(), key=lambda c: (SCOPES.index(c.role), c.agency_name))

    def open_directives(self) -> Sequence[DirectiveView]:
        mine = [
            d
            for views in self.store.directives.values()
            for d in views
            if self.member is not None and d.author_id == self.member.id and d.closed_at is None
        ]
        return sorted(mine, key=lambda d: (d.created_at, d.id), reverse=True)

    def directive(self, directive_id: int) -> DirectiveView | None:
        views = [d for found in self.store.directives.values() for d in found]
        return next((d for d in views if d.id == directive_id), None)

    def invite(self, code: str) -> InviteView | None:
        return self.store.invites.get(code)

    def failed_joins_last_hour(self) -> int:
        return self.failed_joins

    def told_since(self, moment: datetime) -> bool:
        return any(at > moment for at in self.told_at)

    def summary(self, programme_code: str) -> Summary:
        return self.store.summary(programme_code)

    def recent_reports(
        self, limit: int, programme_ids: Collection[int], locality_code: str | None
    ) -> Sequence[ReportView]:
        return [
            r
            for r in self.store.reports
            if r.programme_id in programme_ids and locality_code in (None, r.locality_code)
        ][:limit]

    def report(self, report_id: int) -> ReportView | None:
        return next((r for r in self.store.reports if r.id == report_id), None)

    def colleagues(self) -> Sequence[MemberView]:
        return list(self.team) if self.member is not None else []

    def channels(self) -> Sequence[str]:
        return list(self.linked_channels) if self.member is not None else []


def _a_reader(reader: MemoryReader) -> Reader:
    """Never called: mypy checks here that MemoryReader answers every question of Reader."""
    return reader
