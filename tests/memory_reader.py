"""An in-memory `handlers.core.Reader`: what the store would answer, held in plain records.

A conversation step asks the store only through `Reader`. The records here have the shapes
`storage.chat_reader.StoreReader` returns (`AssignmentState`, `HistoryEntry`, `DirectiveView`,
`ReportView`, `Summary`), so a dialog table can drive `step()` without a database; the store's
own answers stay covered by the end-to-end and store tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby

from storage.aggregate.categories import BLOCKED, Category, categorize
from storage.aggregate.states import AssignmentState
from storage.aggregate.summary import GroupTally, Summary, Tally, day_bounds
from storage.chat_reader import DirectiveView, HistoryEntry, ReportView
from storage.directives import SCOPES, Candidate, DirectiveTarget, ProgrammeRef
from storage.people import ActiveMember
from storage.periods import parse_period
from tests.harness import HANOI


@dataclass(frozen=True)
class ItemRecord:
    """What a step reads of an `Item` row."""

    id: int
    code: str
    title: str
    text: str = ""
    programme_id: int = 1


@dataclass(frozen=True)
class AgencyRecord:
    id: int
    code: str
    name: str
    locality_code: str


@dataclass(frozen=True)
class Colleague:
    """What a step reads of a `Member` row (a stand-in offered by /vangmat)."""

    id: int
    name: str


@dataclass
class Programme:
    """The store's contents a dialog may ask about, judged on `today`."""

    today: date
    localities: dict[str, str]  # code → name
    agencies: dict[str, AgencyRecord]
    items: dict[str, ItemRecord]
    states: list[AssignmentState] = field(default_factory=list)  # document order
    history: dict[int, list[HistoryEntry]] = field(default_factory=dict)  # per assignment
    directives: dict[str, list[DirectiveView]] = field(default_factory=dict)  # per item code
    reports: list[ReportView] = field(default_factory=list)  # unreviewed, newest first
    invites: dict[str, str | None] = field(default_factory=dict)  # code → problem (None: valid)
    # Directives: the programmes a Vice-Chair directs, items of other programmes than this one,
    # and the agencies nobody can be told at.
    directed: list[ProgrammeRef] = field(
        default_factory=lambda: [ProgrammeRef(1, "HY", "ha-noi-hung-yen-2019", "Hà Nội – Hưng Yên")]
    )
    elsewhere: list[DirectiveTarget] = field(default_factory=list)
    unreached: set[str] = field(default_factory=set)  # agency codes

    def assign(
        self,
        assignment_id: int,
        code: str,
        agency: str,
        role: str,
        due: date | None,
        *,
        status: str | None = None,
        percent: int | None = None,
        note: str = "",
        reported_at: datetime | None = None,
        reporter: str | None = None,
        report_id: int | None = None,
        completed_on: date | None = None,
    ) -> AssignmentState:
        """Add one assignment as its newest report leaves it (no report: status None)."""
        item, who = self.items[code], self.agencies[agency]
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
            programme_id=1,
            programme_code="ha-noi-hung-yen-2019",
            programme_label="HY",
            section_code=code.split(".")[0],
        )
        self.states.append(state)
        return state

    def summary(self) -> Summary:
        """The consolidated picture of `states` in this period, as the store adds it up."""
        period = parse_period(f"{self.today:%Y-%m}")
        if period.due < self.today:
            period = period.next()
        since, until = day_bounds(period.window_start, period.due, HANOI)

        def one(s: AssignmentState) -> Tally:
            reported = s.reported_at is not None and since <= s.reported_at < until
            return Tally(
                count=1,
                percent_sum=s.percent or 0,
                categories={c: int(c == s.category) for c in Category},
                open=int(not s.done),
                open_reported=int(not s.done and reported),
                overdue=int(s.overdue),
                blocked=int(s.status == BLOCKED),
            )

        def tally(states: Iterable[AssignmentState]) -> Tally:
            return sum((one(s) for s in states), Tally())

        def groups(key: str, name: dict[str, str]) -> list[GroupTally]:
            ordered = sorted(self.states, key=lambda s: str(getattr(s, key)))
            return [
                GroupTally(code, name[code], tally(members))
                for code, members in groupby(ordered, key=lambda s: str(getattr(s, key)))
            ]

        overall = tally(self.states)
        silent = [
            s
            for s in self.states
            if not s.done and not (s.reported_at is not None and since <= s.reported_at < until)
        ]
        return Summary(
            programme_code="ha-noi-hung-yen-2019",
            programme_label="HY",
            programme_title="Chương trình hợp tác Hà Nội – Hưng Yên",
            today=self.today,
            period=period,
            overall=overall,
            by_field=groups("field_code", {c: i.title for c, i in self.items.items()}),
            by_agency=[
                GroupTally(g.code, g.name, g.tally, agency_id=self.agencies[g.code].id)
                for g in groups("agency_code", {a.code: a.name for a in self.agencies.values()})
            ],
            by_locality=groups("locality_code", self.localities),
            overdue=sorted(
                (s for s in self.states if s.overdue), key=lambda s: s.due_date or date.max
            ),
            blocked=[s for s in self.states if s.status == BLOCKED],
            not_reported=silent,
            response_rate=overall.response_rate,
        )


@dataclass
class MemoryReader:
    """`handlers.core.Reader` over a `Programme`, for one account (`member` None: unlinked)."""

    programme: Programme
    member: ActiveMember | None
    linked_channels: Sequence[str] = ("telegram",)
    team: Sequence[Colleague] = ()
    failed_joins: int = 0  # this account's wrong invite codes in the last hour

    def agency_states(self, agency_id: int) -> Sequence[AssignmentState]:
        return [s for s in self.programme.states if s.agency_id == agency_id]

    def agency_state(self, agency_id: int, code: str) -> AssignmentState | None:
        return next((s for s in self.agency_states(agency_id) if s.item_code == code), None)

    def item_states(self, code: str) -> Sequence[AssignmentState]:
        return [
            s
            for s in self.programme.states
            if s.item_code == code or s.item_code.startswith(f"{code}.")
        ]

    def assignment_state(self, assignment_id: int) -> AssignmentState | None:
        return next((s for s in self.programme.states if s.assignment_id == assignment_id), None)

    def item(self, code: str) -> ItemRecord | None:
        return self.programme.items.get(code)

    def history(self, assignment_ids: Sequence[int], limit: int) -> Sequence[HistoryEntry]:
        entries = [e for a in assignment_ids for e in self.programme.history.get(a, [])]
        return sorted(entries, key=lambda e: (e.created_at, e.id), reverse=True)[:limit]

    def directives(
        self, item_code: str, limit: int, programme_id: int | None = None
    ) -> Sequence[DirectiveView]:
        return self.programme.directives.get(item_code, [])[:limit]

    def directive_programmes(self) -> Sequence[ProgrammeRef]:
        return self.programme.directed if self.member is not None else []

    def directive_items(self, code: str) -> Sequence[DirectiveTarget]:
        item = self.programme.items.get(code)
        here = [DirectiveTarget(item.id, code, item.title, 1, "HY")] if item else []
        there = [t for t in self.programme.elsewhere if t.code == code]
        directed = {p.id for p in self.directive_programmes()}
        return [t for t in here + there if t.programme_id in directed]

    def directive_target(self, item_id: int) -> DirectiveTarget | None:
        targets = [self.directive_items(i.code) for i in self.programme.items.values()]
        targets.append(self.programme.elsewhere)
        return next((t for found in targets for t in found if t.item_id == item_id), None)

    def directive_audience(self, item_id: int) -> Sequence[Candidate]:
        target = self.directive_target(item_id)
        if target is None or target.programme_id != 1 or self.member is None:
            return []
        found: dict[str, Candidate] = {}
        for s in self.item_states(target.code):
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
                self.programme.localities[s.locality_code],
                role,
                (*codes, s.item_code),
                0 if s.agency_code in self.programme.unreached else 1,
            )
        return sorted(found.values(), key=lambda c: (SCOPES.index(c.role), c.agency_name))

    def open_directives(self) -> Sequence[DirectiveView]:
        mine = [
            d
            for views in self.programme.directives.values()
            for d in views
            if self.member is not None and d.author_id == self.member.id and d.closed_at is None
        ]
        return sorted(mine, key=lambda d: (d.created_at, d.id), reverse=True)

    def directive(self, directive_id: int) -> DirectiveView | None:
        views = [d for found in self.programme.directives.values() for d in found]
        return next((d for d in views if d.id == directive_id), None)

    def invite_problem(self, code: str) -> str | None:
        return self.programme.invites.get(code, "unknown")

    def failed_joins_last_hour(self) -> int:
        return self.failed_joins

    def summary(self) -> Summary:
        return self.programme.summary()

    def recent_reports(self, limit: int) -> Sequence[ReportView]:
        return self.programme.reports[:limit]

    def report(self, report_id: int) -> ReportView | None:
        return next((r for r in self.programme.reports if r.id == report_id), None)

    def colleagues(self) -> Sequence[Colleague]:
        return list(self.team) if self.member is not None else []

    def channels(self) -> Sequence[str]:
        return list(self.linked_channels) if self.member is not None else []
