"""The reminder policy (đôn đốc): who is told what, on which working day, in one message.

`plan_reminders` is the rule, one pure function with the day passed in. It gathers every
trigger between the last processed slot and this one (so days missed while the process was
down come as one message per person) and routes each item to the people who can act on it in
its own programme: the agency (stand-ins during an absence), the programme's coordinating
office of the locality when nobody at the agency can be reached, the agency's head and that
office when an item stays overdue, then the programme's Vice-Chair of the locality. Reporting
periods are those of `storage/periods.py`, as in every other view. What the message says,
and its buttons, are written by `scheduler/reminder_texts.py`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from scheduler.settings import ReminderSettings
from storage.aggregate.codes import natural_key
from storage.periods import Period, PeriodRule, period_for
from storage.worktime import WorkCalendar

OFFICE_ROLES = frozenset({"coordinator", "admin"})
REPORTING_ROLES = frozenset({"reporter", "coordinator"})
VICE_CHAIR = "vice_chair"


class Trigger(StrEnum):
    """Why an item is in a reminder, least urgent first."""

    CYCLE = "cycle"
    BEFORE_DUE = "before_due"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"


RANK = {Trigger.CYCLE: 0, Trigger.BEFORE_DUE: 1, Trigger.DUE_TODAY: 2, Trigger.OVERDUE: 3}


class StateLike(Protocol):
    """The fields of storage.aggregate.states.AssignmentState the policy reads."""

    @property
    def assignment_id(self) -> int: ...
    @property
    def item_id(self) -> int: ...
    @property
    def item_code(self) -> str: ...
    @property
    def item_title(self) -> str: ...
    @property
    def agency_id(self) -> int: ...
    @property
    def agency_code(self) -> str: ...
    @property
    def agency_name(self) -> str: ...
    @property
    def locality_code(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def due_date(self) -> date | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def percent(self) -> int | None: ...
    @property
    def reported_at(self) -> datetime | None: ...
    @property
    def completed_on(self) -> date | None: ...
    @property
    def programme_id(self) -> int: ...
    @property
    def programme_label(self) -> str: ...


class AbsenceLike(Protocol):
    @property
    def member_id(self) -> int: ...
    @property
    def stand_in_id(self) -> int: ...
    @property
    def starts_on(self) -> date: ...
    @property
    def ends_on(self) -> date: ...


class MuteLike(Protocol):
    @property
    def member_id(self) -> int: ...
    @property
    def item_id(self) -> int: ...
    @property
    def until(self) -> datetime: ...


@dataclass(frozen=True)
class ProgrammeRef:
    """A programme as the policy sees it: what people call it and how its periods run."""

    id: int
    label: str  # the alias people type (HY), or the code
    title: str = ""
    periods: str = PeriodRule.DECREE_09
    report_due_day: int | None = None  # None: [reminders] cycle_day
    code: str = ""


@dataclass(frozen=True)
class Person:
    """A member as the policy sees them: where they sit, their agency's part in each
    programme, and whether a message reaches them."""

    member_id: int
    name: str
    agency_id: int
    agency_code: str
    locality_code: str
    role: str
    is_head: bool = False
    programmes: frozenset[int] = frozenset()  # the programmes the agency takes part in
    coordinates: frozenset[int] = frozenset()  # … whose coordinating office it is
    leadership: frozenset[int] = frozenset()  # … where its Vice-Chair directs the work
    language: str = "vi"
    reachable: bool = True


@dataclass(frozen=True)
class DueItem:
    """One assignment in a message, with what makes it due and how things stand."""

    assignment_id: int
    item_id: int
    item_code: str
    item_title: str
    agency_id: int
    agency_code: str
    agency_name: str
    locality_code: str
    due_date: date | None
    status: str | None
    percent: int | None
    reported_at: datetime | None
    trigger: Trigger
    days_left: int | None  # calendar days to the due date (negative when past)
    overdue_days: int  # working days past the due date
    programme_id: int = 0
    programme_label: str = ""
    cycle: Period | None = None  # the period whose report is missing
    on_behalf_of: str | None = None

    @property
    def urgent(self) -> bool:
        """Overdue items are urgent: a mute does not silence them."""
        return self.trigger == Trigger.OVERDUE


@dataclass(frozen=True)
class CycleClose:
    """A programme's reporting period, closed in one locality, and how many answered."""

    programme_id: int
    programme_label: str
    locality_code: str
    period: Period
    reported: int
    total: int
    missing: tuple[tuple[str, int], ...]  # (agency name, assignments without a report)

    @property
    def rate(self) -> float:
        return self.reported / self.total if self.total else 1.0


@dataclass(frozen=True)
class PlannedMessage:
    """One message the scheduler would send: to whom, why, about what (recipient None:
    nobody to send to). `scheduler/reminder_texts.py` writes its text and buttons."""

    recipient_id: int | None
    recipient_name: str
    agency_code: str
    language: str
    reason: str
    slot_day: date
    send_at: datetime
    since: date  # triggers of the days after it, up to slot_day, are in the message
    caught_up: bool  # more than one working day gathered (the process was down)
    key: str
    items: tuple[DueItem, ...] = ()
    forwarded: tuple[DueItem, ...] = ()
    escalations: tuple[DueItem, ...] = ()
    closes: tuple[CycleClose, ...] = ()
    unreachable_agencies: tuple[str, ...] = ()
    to_vice_chair: tuple[DueItem, ...] = ()  # overdue past the office: for the Vice-Chair
    programmes: tuple[ProgrammeRef, ...] = ()  # those the message speaks of, in order
    by_programme: bool = False  # the reader has several programmes: say which is which

    def of_programme(self, programme_id: int) -> PlannedMessage | None:
        """The part of the message about one programme (None if it says nothing of it)."""

        def mine(items: tuple[DueItem, ...]) -> tuple[DueItem, ...]:
            return tuple(i for i in items if i.programme_id == programme_id)

        part = replace(
            self,
            items=mine(self.items),
            forwarded=mine(self.forwarded),
            escalations=mine(self.escalations),
            to_vice_chair=mine(self.to_vice_chair),
            closes=tuple(c for c in self.closes if c.programme_id == programme_id),
            programmes=tuple(p for p in self.programmes if p.id == programme_id),
        )
        part = replace(
            part, unreachable_agencies=tuple(dict.fromkeys(i.agency_code for i in part.forwarded))
        )
        empty = not (
            part.items or part.forwarded or part.escalations or part.to_vice_chair or part.closes
        )
        return None if empty else part

    def as_dict(self) -> dict[str, Any]:
        """Describe the message for `tiendo reminders --json` (its text is added there)."""
        return {
            "recipient_id": self.recipient_id,
            "recipient": self.recipient_name,
            "agency": self.agency_code,
            "reason": self.reason,
            "slot_day": self.slot_day.isoformat(),
            "send_at": self.send_at.isoformat(),
            "key": self.key,
            "programmes": [p.label for p in self.programmes],
            "items": [_item_dict(i) for i in self.items],
            "forwarded": [_item_dict(i) for i in self.forwarded],
            "escalations": [_item_dict(i) for i in self.escalations],
            "to_vice_chair": [_item_dict(i) for i in self.to_vice_chair],
            "cycle_closes": [
                {
                    "programme": c.programme_label,
                    "locality": c.locality_code,
                    "period": c.period.key,
                    "due": c.period.due.isoformat(),
                    "reported": c.reported,
                    "total": c.total,
                }
                for c in self.closes
            ],
            "unreachable_agencies": list(self.unreachable_agencies),
        }


def _item_dict(item: DueItem) -> dict[str, Any]:
    return {
        "assignment_id": item.assignment_id,
        "programme": item.programme_label,
        "code": item.item_code,
        "agency": item.agency_code,
        "trigger": str(item.trigger),
        "due_date": item.due_date.isoformat() if item.due_date else None,
        "days_left": item.days_left,
        "overdue_working_days": item.overdue_days,
        "period": item.cycle.key if item.cycle else None,
        "period_due": item.cycle.due.isoformat() if item.cycle else None,
        "status": item.status,
        "on_behalf_of": item.on_behalf_of,
    }


# periods -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def period_due_on(day: date, cadence: str, rule: str, due_day: int) -> Period | None:
    """Return the reporting period whose report is due on `day`, if one is."""
    period = period_for(day, cadence, rule, due_day)
    return period if period is not None and period.due == day else None


class _Periods:
    """Each assignment's reporting periods: its cadence, its programme's rule and due day."""

    def __init__(
        self,
        programmes: Mapping[int, ProgrammeRef],
        cadences: Mapping[int, str],
        default_due_day: int,
    ) -> None:
        self.programmes = programmes
        self.cadences = cadences
        self.default_due_day = default_due_day

    def due_on(self, state: StateLike, day: date) -> Period | None:
        """The assignment's period whose report is due on `day`, if any."""
        programme = self.programmes.get(state.programme_id)
        rule = programme.periods if programme else PeriodRule.DECREE_09
        due_day = (programme.report_due_day if programme else None) or self.default_due_day
        cadence = self.cadences.get(state.assignment_id, "monthly")
        return period_due_on(day, cadence, rule, due_day)


def _reported_between(
    state: StateLike,
    start: date,
    end: date,
    calendar: WorkCalendar,
    report_days: Mapping[int, Collection[date]] | None,
) -> bool:
    """Tell whether the assignment has a report dated start..end (local dates)."""
    if report_days is not None:
        return any(start <= day <= end for day in report_days.get(state.assignment_id, ()))
    if state.reported_at is None:
        return False
    return start <= calendar.today(state.reported_at) <= end


def _needs_cycle_report(state: StateLike, period: Period) -> bool:
    """Every assignment not done before the period's reports began owes one in it."""
    done_before = state.completed_on is not None and state.completed_on < period.window_start
    return not (state.status == "done" and done_before)


# the rule ----------------------------------------------------------------------------------


def plan_reminders(
    states: Iterable[StateLike],
    members: Iterable[Person],
    absences: Iterable[AbsenceLike],
    mutes: Iterable[MuteLike],
    calendar: WorkCalendar,
    policy: ReminderSettings,
    slot_day: date,
    *,
    since: date | None = None,
    report_days: Mapping[int, Collection[date]] | None = None,
    cadences: Mapping[int, str] | None = None,
    programmes: Mapping[int, ProgrammeRef] | None = None,
) -> list[PlannedMessage]:
    """Plan one message per person for the slot on `slot_day`.

    Triggers of every day after `since` (default: the previous working day) up to
    `slot_day` are gathered, so a catch-up after downtime is one message, not a flood.
    `report_days` gives the local dates of recent reports per assignment (else the latest
    report date of each state is used); `cadences` the reporting cadence per assignment
    (default monthly); `programmes` each programme's name and period rule.
    """
    if not calendar.is_working_day(slot_day):
        return []
    since = since if since is not None else calendar.previous_working_day(slot_day)
    send_at = calendar.at(slot_day, policy.send_at)
    people = {p.member_id: p for p in members}
    router = _Router(people, list(absences), slot_day)
    muted = {(m.member_id, m.item_id) for m in mutes if m.until > send_at}
    days = [since + timedelta(days=n) for n in range(1, (slot_day - since).days + 1)]
    work_days = calendar.working_days(since, slot_day)
    all_states = list(states)
    refs = dict(programmes or {})
    for state in all_states:
        refs.setdefault(state.programme_id, ProgrammeRef(state.programme_id, state.programme_label))
    periods = _Periods(refs, cadences or {}, policy.cycle_day)
    open_states = [s for s in all_states if s.status != "done"]
    boxes: dict[int | None, _Box] = {}

    def box(person: Person | None) -> _Box:
        key = person.member_id if person else None
        if key not in boxes:
            boxes[key] = _Box(person)
        return boxes[key]

    for state in open_states:
        found = _triggers(state, days, work_days, calendar, policy, slot_day, periods, report_days)
        if found is None:
            continue
        item, escalate, raise_ = found
        if item is not None:
            targets = router.reporters(state.agency_id)
            if targets:
                for person, absent in targets:
                    if not item.urgent and (
                        (person.member_id, state.item_id) in muted
                        or (absent is not None and (absent.member_id, state.item_id) in muted)
                    ):
                        continue
                    routed = item if absent is None else _replace(item, absent.name)
                    box(person).add_item(routed)
            else:
                offices = router.offices(state.locality_code, state.programme_id)
                receivers: list[Person | None] = list(offices) or [None]
                for receiver in receivers:
                    box(receiver).add_forwarded(item)
        if escalate is not None:
            for person in router.escalation(
                state.agency_id, state.locality_code, state.programme_id
            ):
                box(person).escalations[state.assignment_id] = escalate
        if raise_ is not None:
            for person in router.vice_chairs(state.locality_code, state.programme_id):
                box(person).to_vice_chair[state.assignment_id] = raise_

    for close in _cycle_closes(all_states, days, calendar, periods, report_days):
        for person in router.offices(close.locality_code, close.programme_id):
            box(person).closes.append(close)

    caught_up = len(work_days) > 1
    return [
        b.planned(slot_day, send_at, since, caught_up, refs)
        for b in sorted(boxes.values(), key=_box_order)
        if not b.empty()
    ]


def _box_order(b: _Box) -> tuple[int, int]:
    return (b.person is None, b.person.member_id if b.person else 0)


def _replace(item: DueItem, absent_name: str) -> DueItem:
    return replace(item, on_behalf_of=absent_name)


def _triggers(
    state: StateLike,
    days: Sequence[date],
    work_days: Sequence[date],
    calendar: WorkCalendar,
    policy: ReminderSettings,
    slot_day: date,
    periods: _Periods,
    report_days: Mapping[int, Collection[date]] | None,
) -> tuple[DueItem | None, DueItem | None, DueItem | None] | None:
    """Find what makes `state` due in the window; return its reminder, its escalation to
    the head and office, and its escalation to the Vice-Chair (each None if not due)."""
    due = state.due_date
    best: Trigger | None = None
    cycle: Period | None = None
    escalated = raised = False

    def better(trigger: Trigger) -> None:
        nonlocal best
        if best is None or RANK[trigger] > RANK[best]:
            best = trigger

    if due is not None:
        window = set(days)
        if any(due - timedelta(days=k) in window for k in policy.days_before if k > 0):
            better(Trigger.BEFORE_DUE)
        if policy.on_due_day and due in window:
            better(Trigger.DUE_TODAY)
        for day in work_days:
            late = calendar.working_days_between(due, day)
            if late >= 1 and (late - 1) % policy.overdue_every_working_days == 0:
                better(Trigger.OVERDUE)
            if late == policy.escalate_after_days:
                escalated = True
            if late == policy.escalate_to_vice_chair_after_days > 0:
                raised = True
    for day in days:
        for k in policy.cycle_reminder_days_before:
            period = periods.due_on(state, day + timedelta(days=k))
            if period is None or period.due < slot_day or not _needs_cycle_report(state, period):
                continue  # a period already closed is reported on, not reminded of
            if not _reported_between(state, period.window_start, slot_day, calendar, report_days):
                cycle = period
                better(Trigger.CYCLE)
    if best is None and not escalated and not raised:
        return None
    days_left = (due - slot_day).days if due is not None else None
    late = calendar.working_days_between(due, slot_day) if due is not None and due < slot_day else 0

    def make(trigger: Trigger, in_cycle: Period | None) -> DueItem:
        return DueItem(
            state.assignment_id,
            state.item_id,
            state.item_code,
            state.item_title,
            state.agency_id,
            state.agency_code,
            state.agency_name,
            state.locality_code,
            due,
            state.status,
            state.percent,
            state.reported_at,
            trigger,
            days_left,
            late,
            state.programme_id,
            state.programme_label,
            in_cycle,
        )

    item = make(best, cycle) if best is not None else None
    escalation = make(Trigger.OVERDUE, None) if escalated else None
    to_vice_chair = make(Trigger.OVERDUE, None) if raised else None
    return item, escalation, to_vice_chair


def _cycle_closes(
    states: Sequence[StateLike],
    days: Sequence[date],
    calendar: WorkCalendar,
    periods: _Periods,
    report_days: Mapping[int, Collection[date]] | None,
) -> list[CycleClose]:
    """Close the periods whose report was due the day before a day of the window, per
    programme and locality."""
    closes: list[CycleClose] = []
    for day in days:
        end = day - timedelta(days=1)
        tallies: dict[tuple[int, str, str], dict[str, Any]] = {}
        for state in states:
            period = periods.due_on(state, end)
            if period is None or not _needs_cycle_report(state, period):
                continue
            tally = tallies.setdefault(
                (state.programme_id, state.locality_code, period.key),
                {
                    "label": state.programme_label,
                    "period": period,
                    "reported": 0,
                    "total": 0,
                    "missing": {},
                },
            )
            tally["total"] += 1
            if _reported_between(state, period.window_start, period.due, calendar, report_days):
                tally["reported"] += 1
            else:
                tally["missing"][state.agency_name] = tally["missing"].get(state.agency_name, 0) + 1
        for (programme_id, locality, _), tally in sorted(tallies.items()):
            missing = tuple(sorted(tally["missing"].items(), key=lambda kv: (-kv[1], kv[0])))
            closes.append(
                CycleClose(
                    programme_id,
                    tally["label"],
                    locality,
                    tally["period"],
                    tally["reported"],
                    tally["total"],
                    missing,
                )
            )
    return closes


# routing -----------------------------------------------------------------------------------


class _Router:
    """Decide who receives an agency's reminders on a given day, programme by programme."""

    def __init__(
        self, people: Mapping[int, Person], absences: Sequence[AbsenceLike], day: date
    ) -> None:
        self.people = people
        self.stand_ins = {
            a.member_id: a.stand_in_id for a in absences if a.starts_on <= day <= a.ends_on
        }
        self.by_agency: dict[int, list[Person]] = {}
        for person in people.values():
            self.by_agency.setdefault(person.agency_id, []).append(person)

    def _route(self, person: Person) -> tuple[Person, Person | None]:
        """Send to the stand-in while the member is away (if the stand-in can be reached)."""
        stand_in = self.people.get(self.stand_ins.get(person.member_id, -1))
        if stand_in is not None and stand_in.reachable and stand_in.member_id != person.member_id:
            return stand_in, person
        return person, None

    def reporters(self, agency_id: int) -> list[tuple[Person, Person | None]]:
        """The agency's reachable reporters and coordinators (or their stand-ins)."""
        found = [
            p
            for p in self.by_agency.get(agency_id, [])
            if p.role in REPORTING_ROLES and p.reachable
        ]
        return [self._route(p) for p in found]

    def offices(self, locality_code: str, programme_id: int) -> list[Person]:
        """The reachable coordinators of the programme's coordinating offices in a locality."""
        found = [
            p
            for p in self.people.values()
            if programme_id in p.coordinates
            and p.reachable
            and p.locality_code == locality_code
            and p.role in OFFICE_ROLES
        ]
        return _unique(self._route(p)[0] for p in found)

    def escalation(self, agency_id: int, locality_code: str, programme_id: int) -> list[Person]:
        """The agency's head and the programme's coordinating office of the locality."""
        heads = [
            self._route(p)[0]
            for p in self.by_agency.get(agency_id, [])
            if p.is_head and p.reachable
        ]
        return _unique([*heads, *self.offices(locality_code, programme_id)])

    def vice_chairs(self, locality_code: str, programme_id: int) -> list[Person]:
        """The locality's reachable Vice-Chairs who direct the programme."""
        found = [
            p
            for p in self.people.values()
            if p.role == VICE_CHAIR
            and programme_id in p.leadership
            and p.reachable
            and p.locality_code == locality_code
        ]
        return _unique(self._route(p)[0] for p in found)


def _unique(people: Iterable[Person]) -> list[Person]:
    seen: dict[int, Person] = {}
    for person in people:
        seen.setdefault(person.member_id, person)
    return list(seen.values())


# one message per person ---------------------------------------------------------------------


class _Box:
    """Everything one person gets in one slot."""

    def __init__(self, person: Person | None) -> None:
        self.person = person
        self.items: dict[int, DueItem] = {}
        self.forwarded: dict[int, DueItem] = {}
        self.escalations: dict[int, DueItem] = {}
        self.to_vice_chair: dict[int, DueItem] = {}
        self.closes: list[CycleClose] = []

    def add_item(self, item: DueItem) -> None:
        current = self.items.get(item.assignment_id)
        if current is None or (current.on_behalf_of is not None and item.on_behalf_of is None):
            self.items[item.assignment_id] = item

    def add_forwarded(self, item: DueItem) -> None:
        self.forwarded.setdefault(item.assignment_id, item)

    def empty(self) -> bool:
        return not (
            self.items or self.forwarded or self.escalations or self.to_vice_chair or self.closes
        )

    def reason(self) -> str:
        if self.person is None:
            return "unreachable"
        if self.items:
            return "reminder"
        if self.forwarded:
            return "forwarded"
        if self.escalations or self.to_vice_chair:
            return "escalation"
        return "cycle_close"

    def planned(
        self,
        slot_day: date,
        send_at: datetime,
        since: date,
        caught_up: bool,
        refs: Mapping[int, ProgrammeRef],
    ) -> PlannedMessage:
        """The message: a programme's things together (programmes in order), its own items
        most urgent first, others by agency and code."""
        person = self.person
        items = sorted(self.items.values(), key=_item_order)
        forwarded, escalations, to_vice_chair = (
            sorted(
                found.values(),
                key=lambda i: (i.programme_id, i.agency_code, natural_key(i.item_code)),
            )
            for found in (self.forwarded, self.escalations, self.to_vice_chair)
        )
        closes = sorted(self.closes, key=lambda c: (c.programme_id, c.period.due, c.period.key))
        spoken = sorted(
            {i.programme_id for i in [*items, *forwarded, *escalations, *to_vice_chair]}
            | {c.programme_id for c in closes}
        )
        several = person is not None and len(person.programmes) > 1
        reason = self.reason()
        return PlannedMessage(
            recipient_id=person.member_id if person else None,
            recipient_name=person.name if person else "",
            agency_code=person.agency_code if person else "",
            language=person.language if person else "vi",
            reason=reason,
            slot_day=slot_day,
            send_at=send_at,
            since=since,
            caught_up=caught_up,
            key=_key(
                reason,
                person,
                slot_day,
                spoken,
                items,
                forwarded,
                escalations,
                to_vice_chair,
                closes,
            ),
            items=tuple(items),
            forwarded=tuple(forwarded),
            escalations=tuple(escalations),
            closes=tuple(closes),
            unreachable_agencies=tuple(dict.fromkeys(i.agency_code for i in forwarded)),
            to_vice_chair=tuple(to_vice_chair),
            programmes=tuple(refs[p] for p in spoken),
            by_programme=several or len(spoken) > 1,
        )


def _item_order(item: DueItem) -> tuple[Any, ...]:
    return (
        item.programme_id,
        -RANK[item.trigger],
        item.due_date or date.max,
        natural_key(item.item_code),
        item.agency_code,
    )


def _key(
    reason: str,
    person: Person | None,
    slot_day: date,
    programmes: Sequence[int],
    items: Sequence[DueItem],
    forwarded: Sequence[DueItem],
    escalations: Sequence[DueItem],
    to_vice_chair: Sequence[DueItem],
    closes: Sequence[CycleClose],
) -> str:
    """Idempotency key: recipient, reason, slot day, programmes and what the message holds."""
    parts = sorted(
        [f"r{i.assignment_id}" for i in items]
        + [f"f{i.assignment_id}" for i in forwarded]
        + [f"e{i.assignment_id}" for i in escalations]
        + [f"v{i.assignment_id}" for i in to_vice_chair]
        + [f"c{c.programme_id}:{c.locality_code}:{c.period.key}" for c in closes]
    )
    digest = hashlib.sha1(",".join(parts).encode()).hexdigest()[:12]
    who = person.member_id if person else "none"
    spoken = "+".join(str(p) for p in programmes)
    return f"{reason}:{who}:{slot_day.isoformat()}:{digest}:p{spoken}"
