"""The digest (bản tin): where things stand, for a Vice-Chair or a coordinating office.

`build_digest` reads the store for one programme and one day and returns what the digest
holds, its text (the outbox cuts it into what each channel takes), a chart of progress per
field by deadline category, and a button per listed item. `scheduler/digest_texts.py` writes
the text and draws the chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.texts import Texts
from scheduler.digest_texts import chart_title, digest_lines, render_chart
from storage.aggregate.categories import Category
from storage.aggregate.codes import natural_key
from storage.aggregate.states import AssignmentState, assignment_states
from storage.aggregate.summary import the_programme
from storage.directives import DirectiveView, RecipientView, for_digest
from storage.models import Item, Locality, Programme
from storage.periods import Period, current_period
from storage.worktime import WorkCalendar

MAX_BUTTONS = 100
BUTTONS_PER_ROW = 8
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
WORK_START, WORK_END = time(8, 0), time(17, 0)  # [reminders] defaults, when no calendar is given
Role = Literal["vice_chair", "coordinator"]


@dataclass(frozen=True)
class FieldRow:
    """One field of the programme (e.g. 2.5 Giao thông) and its assignments by category."""

    code: str
    title: str
    count: int
    percent: float
    counts: dict[Category, int]
    overdue: int  # past due and not done, reported or not


@dataclass(frozen=True)
class OpenDirective:
    """A directive to the digest's agencies: still waiting (for whom), or answered by some of
    them since the previous digest."""

    directive: DirectiveView
    answered_since: tuple[RecipientView, ...]  # answers from the digest's agencies since then

    @property
    def item_code(self) -> str:
        return self.directive.item_code

    @property
    def waiting(self) -> tuple[str, ...]:
        """The agencies it still waits for (names)."""
        return tuple(r.agency_name for r in self.directive.waiting)


@dataclass
class Digest:
    """A digest ready to send: its text, chart PNG and item buttons."""

    text: str
    chart_png: bytes
    item_buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    fields: list[FieldRow] = field(default_factory=list)
    completed: list[AssignmentState] = field(default_factory=list)
    overdue: list[AssignmentState] = field(default_factory=list)
    blocked: list[AssignmentState] = field(default_factory=list)
    silent_agencies: list[tuple[str, int]] = field(default_factory=list)
    directives: list[OpenDirective] = field(default_factory=list)
    period: Period | None = None  # the reporting period "not reported" is judged on
    programme_code: str = ""


def field_rows(
    session: Session, states: Sequence[AssignmentState], programme_id: int | None = None
) -> list[FieldRow]:
    """Group states by field (of one programme), with mean percent (no report counts 0) and
    category counts."""
    groups: dict[str, list[AssignmentState]] = {}
    for state in states:
        groups.setdefault(state.field_code, []).append(state)
    query = select(Item.code, Item.title).where(
        Item.code.in_(list(groups)), Item.archived_at.is_(None)
    )
    if programme_id is not None:
        query = query.where(Item.programme_id == programme_id)
    titles: dict[str, str] = {}
    for code, title in session.execute(query.order_by(Item.id)):
        titles.setdefault(code, title)
    rows = []
    for code in sorted(groups, key=natural_key):
        mine = groups[code]
        counts = dict.fromkeys(Category, 0)
        for state in mine:
            counts[state.category] += 1
        rows.append(
            FieldRow(
                code,
                titles.get(code, ""),
                len(mine),
                sum(s.percent or 0 for s in mine) / len(mine),
                counts,
                sum(1 for s in mine if s.overdue),
            )
        )
    return rows


def open_directives(
    session: Session, states: Sequence[AssignmentState], since: date, tz: ZoneInfo = HANOI
) -> list[OpenDirective]:
    """Directives that went to the agencies of `states`, in their programmes: those still
    open, and those one of these agencies answered after the day `since`; oldest first."""
    agencies = {s.agency_id for s in states}
    after = datetime.combine(since + timedelta(days=1), time(), tzinfo=tz)
    still_open, answered = for_digest(session, {s.programme_id for s in states}, agencies, after)
    found = {d.id: OpenDirective(d, ()) for d in still_open}
    for d in answered:
        recent = tuple(
            r
            for r in d.answered
            if r.answered_at is not None and r.answered_at >= after and r.agency_id in agencies
        )
        found[d.id] = OpenDirective(d, recent)
    return sorted(found.values(), key=lambda o: (o.directive.created_at, o.directive.id))


def build_digest(
    session: Session,
    today: date,
    role: Role,
    locality_code: str | None,
    lang: str = "vi",
    *,
    programme: Programme | None = None,
    named: bool = False,
    since: date | None = None,
    tz: ZoneInfo = HANOI,
    calendar: WorkCalendar | None = None,
    default_due_day: int = 25,
    chart: bool = True,
    everything: Sequence[AssignmentState] | None = None,
) -> Digest:
    """Build one programme's digest of `today` for a Vice-Chair or a coordinating office.

    `programme` defaults to the store's only one; `named` puts its alias in the title and
    before each code, for a reader with several programmes. `since` is the day of the
    previous digest (what was completed after it is listed); without it, a week back for a
    Vice-Chair and a day back for an office. Who has not reported, and the response rate,
    are judged on the programme's current period (storage.periods), overdue in working days
    of `calendar`. `everything` is `assignment_states(session, today)` if the caller has it.
    """
    tx = Texts(lang, tz)
    programme = programme or the_programme(session, None)
    calendar = calendar or WorkCalendar(tz, WORK_START, WORK_END)
    since = since or today - timedelta(days=7 if role == "vice_chair" else 1)
    if everything is None:
        everything = assignment_states(session, today, programme_ids=[programme.id])
    whole = [s for s in everything if s.programme_id == programme.id]
    states = [s for s in whole if locality_code is None or s.locality_code == locality_code]
    period = current_period(programme, today, default_due_day)
    completed = [
        s
        for s in states
        if s.done and s.completed_on is not None and since < s.completed_on <= today
    ]
    overdue = sorted(
        (s for s in states if s.overdue),
        key=lambda s: (s.due_date or date.max, natural_key(s.item_code)),
    )
    blocked = [s for s in states if s.status == "blocked"]
    open_ = [s for s in states if not s.done]
    silent: dict[str, int] = {}
    reported = 0
    for state in open_:
        if state.reported_at is not None and period.holds_report(
            state.reported_at.astimezone(tz).date()
        ):
            reported += 1
        else:
            silent[state.agency_name] = silent.get(state.agency_name, 0) + 1
    silent_agencies = sorted(silent.items(), key=lambda kv: (-kv[1], kv[0]))
    directives = open_directives(session, states, since, tz)
    fields = field_rows(session, states, programme.id)
    place = _locality_name(session, locality_code)
    scope = f"{programme.label} · {place or tx._('toàn chương trình')}" if named else place
    lines = digest_lines(
        tx,
        role,
        today,
        since,
        scope,
        states,
        whole,
        fields,
        completed,
        overdue,
        blocked,
        silent_agencies,
        directives,
        period,
        reported / len(open_) if open_ else 1.0,
        calendar,
    )
    prefix = f"{programme.label} " if named else ""
    listed = [
        *(d.item_code for d in directives),
        *(s.item_code for s in blocked),
        *(s.item_code for s in overdue),
        *(s.item_code for s in completed),
    ]
    digest = Digest(
        text="\n".join(lines),
        chart_png=render_chart(fields, tx, chart_title(tx, today, scope)) if chart else b"",
        item_buttons=item_buttons(listed, prefix),
        fields=fields,
        completed=completed,
        overdue=overdue,
        blocked=blocked,
        silent_agencies=silent_agencies,
        directives=directives,
        period=period,
        programme_code=programme.code,
    )
    return digest


def item_buttons(codes: Sequence[str], prefix: str = "") -> list[list[tuple[str, str]]]:
    """One `o:<code>` button per listed item code, 8 a row, at most 100; `prefix` is the
    programme's alias and a space for a reader with several programmes (`o:HY 2.5`)."""
    unique = sorted(dict.fromkeys(codes), key=natural_key)[:MAX_BUTTONS]
    return [
        [(prefix + code, f"o:{prefix}{code}") for code in unique[start : start + BUTTONS_PER_ROW]]
        for start in range(0, len(unique), BUTTONS_PER_ROW)
    ]


def _locality_name(session: Session, code: str | None) -> str | None:
    if code is None:
        return None
    return session.scalar(select(Locality.name).where(Locality.code == code)) or code
