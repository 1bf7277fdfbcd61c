"""Write a checked programme into the store: idempotent, audited, in the caller's transaction.

Items mirror the notice's tree (archived when they leave it, restored when they come back),
each node kept on the row that says the same (storage.programme.identity), so reports stay
with their commitment when bullets are renumbered; a re-import that would show reports under
another code or text waits for the office's confirmation. Agencies and assignments follow the
file; every change is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.audit import record
from storage.models import (
    Agency,
    Assignment,
    AssignmentRole,
    Item,
    Locality,
    Programme,
    ProgrammeAgency,
    Report,
)
from storage.notice.model import NoticeWarning
from storage.programme.identity import ItemChange, StoredItem, match_items
from storage.programme.spec import AssignmentSpec, ProgrammeSpec


class ImportRefused(Exception):
    """A programme file that cannot go into this store as it is; the message says why."""


class ImportNeedsConfirmation(ImportRefused):
    """A re-import that would show reports under another code or text; nothing was written."""

    def __init__(self, programme_code: str, changes: tuple[ItemChange, ...]) -> None:
        self.programme_code = programme_code
        self.changes = changes
        listed = "; ".join(f"{c.old_code} → {c.new_code}" for c in changes)
        super().__init__(
            f"{programme_code}: {len(changes)} nội dung đã có báo cáo sẽ đổi mã hoặc sửa "
            f"lời văn / items with reports would change code or text ({listed}); "
            "confirm to import"
        )


@dataclass(frozen=True)
class ImportResult:
    programme_code: str
    items_created: int
    items_updated: int
    items_archived: int
    items_restored: int
    agencies_created: int
    agencies_updated: int
    assignments_created: int
    assignments_updated: int
    assignments_archived: int
    notice_warnings: tuple[NoticeWarning, ...]
    programme_changed: bool = False
    unassigned_items: tuple[str, ...] = field(default=())
    item_changes: tuple[ItemChange, ...] = field(default=())  # codes or texts that changed

    @property
    def changed(self) -> bool:
        """Tell whether the import wrote anything."""
        return self.programme_changed or any(
            (
                self.items_created,
                self.items_updated,
                self.items_archived,
                self.items_restored,
                self.agencies_created,
                self.agencies_updated,
                self.assignments_created,
                self.assignments_updated,
                self.assignments_archived,
            )
        )


def resolve_agency(by_code: dict[str, Agency], by_id: dict[int, Agency], code: str) -> Agency:
    """Follow merges from a code to the surviving agency."""
    agency = by_code[code]
    seen = {agency.id}
    while agency.merged_into_id is not None and agency.merged_into_id in by_id:
        agency = by_id[agency.merged_into_id]
        if agency.id in seen:  # a cycle cannot be made by merge_agencies; stop anyway
            break
        seen.add(agency.id)
    return agency


def _set(obj: object, values: dict[str, Any]) -> dict[str, Any]:
    """Set the attributes that differ; return {name: [old, new]} for those changed."""
    changed: dict[str, Any] = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changed[name] = [_plain(old), _plain(value)]
            setattr(obj, name, value)
    return changed


def _plain(value: Any) -> Any:
    """Make a value JSON-friendly for the audit log."""
    return value.isoformat() if isinstance(value, date) else value


def _import_programme_row(
    session: Session, spec: ProgrammeSpec, at: datetime, actor: str
) -> tuple[Programme, bool]:
    """Create or update the programme row; tell whether it changed."""
    values = {
        "title": spec.title,
        "notice_date": spec.notice.date,
        "source_file": spec.notice_source,
        "source_sha256": spec.notice_sha256,
        "phase_start": spec.phase_start,
        "phase_end": spec.phase_end,
        "alias": spec.alias,
        "cadence": spec.cadence,
        "periods": spec.periods,
        "report_due_day": spec.report_due_day,
    }
    _check_alias(session, spec)
    programme = session.scalar(select(Programme).where(Programme.code == spec.code))
    if programme is None:
        programme = Programme(code=spec.code, imported_at=at, **values)
        session.add(programme)
        session.flush()
        record(session, at, actor, "programme.create", "programme", spec.code)
        return programme, True
    changed = _set(programme, values)
    if changed:
        programme.imported_at = at
        record(session, at, actor, "programme.update", "programme", spec.code, changes=changed)
    return programme, bool(changed)


def _check_alias(session: Session, spec: ProgrammeSpec) -> None:
    """Refuse an alias another programme already answers to (people type it in chat)."""
    if spec.alias is None:
        return
    for other in session.scalars(select(Programme).where(Programme.code != spec.code)):
        if spec.alias in (other.alias, other.code.upper()):
            raise ImportRefused(
                f'{spec.path}: alias "{spec.alias}" đã dùng cho chương trình {other.code} / '
                f"is already taken by programme {other.code}; choose another alias"
            )


def _import_localities(
    session: Session, spec: ProgrammeSpec, at: datetime, actor: str
) -> tuple[dict[str, Locality], bool]:
    """Create or rename the localities; return them by code and whether any changed."""
    existing = {loc.code: loc for loc in session.scalars(select(Locality))}
    changed = False
    for loc_spec in spec.localities:
        locality = existing.get(loc_spec.code)
        if locality is None:
            locality = Locality(code=loc_spec.code, name=loc_spec.name)
            session.add(locality)
            existing[loc_spec.code] = locality
            record(
                session, at, actor, "locality.create", "locality", loc_spec.code, name=loc_spec.name
            )
            changed = True
        elif diff := _set(locality, {"name": loc_spec.name}):
            record(session, at, actor, "locality.update", "locality", loc_spec.code, changes=diff)
            changed = True
    session.flush()
    return existing, changed


def _import_agencies(
    session: Session, spec: ProgrammeSpec, localities: dict[str, Locality], at: datetime, actor: str
) -> tuple[dict[str, Agency], int, int]:
    """Create or update the file's agencies (merged ones are left as they are)."""
    by_code = {a.code: a for a in session.scalars(select(Agency))}
    created = updated = 0
    for ag in spec.agencies:
        values = {"name": ag.name, "locality_id": localities[ag.locality].id}
        agency = by_code.get(ag.code)
        if agency is None:
            agency = Agency(code=ag.code, **values)
            session.add(agency)
            by_code[ag.code] = agency
            created += 1
            record(
                session,
                at,
                actor,
                "agency.create",
                "agency",
                ag.code,
                name=ag.name,
                locality=ag.locality,
            )
        elif agency.merged_into_id is None and (diff := _set(agency, values)):
            updated += 1
            record(session, at, actor, "agency.update", "agency", ag.code, changes=diff)
    session.flush()
    return by_code, created, updated


def _import_roles(
    session: Session,
    spec: ProgrammeSpec,
    programme: Programme,
    agencies: dict[str, Agency],
    at: datetime,
    actor: str,
) -> int:
    """Give each agency of the file its part in this programme, and only in this one.

    An agency the file no longer lists keeps its row (history) without any role in it.
    """
    by_id = {a.id: a for a in agencies.values()}
    existing = {
        r.agency_id: r
        for r in session.scalars(
            select(ProgrammeAgency).where(ProgrammeAgency.programme_id == programme.id)
        )
    }
    wanted: dict[int, tuple[bool, bool]] = {}
    for ag in spec.agencies:
        agency = resolve_agency(agencies, by_id, ag.code)
        coordinates, leadership = wanted.get(agency.id, (False, False))
        wanted[agency.id] = (coordinates or ag.coordinates, leadership or ag.leadership)
    changed = 0
    for agency_id in wanted.keys() | existing.keys():
        coordinates, leadership = wanted.get(agency_id, (False, False))
        row = existing.get(agency_id)
        if row is None:
            row = ProgrammeAgency(programme_id=programme.id, agency_id=agency_id)
            session.add(row)
            diff = {"coordinates": [None, coordinates], "leadership": [None, leadership]}
            row.coordinates, row.leadership = coordinates, leadership
        else:
            diff = _set(row, {"coordinates": coordinates, "leadership": leadership})
        if diff:
            changed += 1
            record(
                session,
                at,
                actor,
                "programme.role",
                "agency",
                by_id[agency_id].code if agency_id in by_id else str(agency_id),
                programme=spec.code,
                changes=diff,
            )
    session.flush()
    return changed


def _stored_items(session: Session, programme: Programme | None) -> dict[int, Item]:
    """The programme's items already in the store (archived ones too), by id."""
    if programme is None or programme.id is None:
        return {}
    query = select(Item).where(Item.programme_id == programme.id).order_by(Item.id)
    return {item.id: item for item in session.scalars(query)}


def _reports_per_item(session: Session, item_ids: list[int]) -> dict[int, int]:
    """How many reports were filed on each item's assignments."""
    if not item_ids:
        return {}
    query = (
        select(Assignment.item_id, func.count(Report.id))
        .join(Report, Report.assignment_id == Assignment.id)
        .where(Assignment.item_id.in_(item_ids))
        .group_by(Assignment.item_id)
    )
    return {item_id: int(n) for item_id, n in session.execute(query)}


@dataclass(frozen=True)
class ItemPlan:
    """Which stored item each node of the notice is, and what that changes."""

    matches: dict[str, int]  # node code -> stored item id
    changes: tuple[ItemChange, ...]  # stored items given another code or text, notice order

    @property
    def moving(self) -> tuple[ItemChange, ...]:
        """The changes that would show reports under another code or text."""
        return tuple(c for c in self.changes if c.moves_reports)


def plan_items(session: Session, spec: ProgrammeSpec) -> ItemPlan:
    """Match the notice's nodes to the programme's stored items; write nothing."""
    programme = session.scalar(select(Programme).where(Programme.code == spec.code))
    stored = _stored_items(session, programme)
    matches = match_items(
        [StoredItem(i.id, i.code, i.text) for i in stored.values()], spec.notice.nodes
    )
    changed = [
        (node, stored[matches[node.code]])
        for node in spec.notice.nodes
        if node.code in matches
        and (
            stored[matches[node.code]].code != node.code
            or " ".join(stored[matches[node.code]].text.split()) != " ".join(node.text.split())
        )
    ]
    reports = _reports_per_item(session, [item.id for _, item in changed])
    return ItemPlan(
        matches,
        tuple(
            ItemChange(item.code, node.code, item.text, node.text, reports.get(item.id, 0))
            for node, item in changed
        ),
    )


def _recode(session: Session, moves: list[tuple[Item, str]]) -> None:
    """Give items new codes, through a free placeholder: codes are unique per programme,
    and a bullet moving down one place takes the code the next one still holds."""
    for item, _ in moves:
        item.code = f"~{item.id}"
    session.flush()
    for item, code in moves:
        item.code = code
    session.flush()


def _import_items(
    session: Session,
    spec: ProgrammeSpec,
    programme: Programme,
    plan: ItemPlan,
    at: datetime,
    actor: str,
) -> tuple[dict[str, Item], list[int]]:
    """Mirror the notice's tree into items, each node kept on the row the plan matched it to;
    return the items by their (new) code and the counts."""
    stored = _stored_items(session, programme)
    wanted = {node.code for node in spec.notice.nodes}
    matched_ids = set(plan.matches.values())
    moves: list[tuple[Item, str]] = [
        (stored[item_id], code)
        for code, item_id in plan.matches.items()
        if stored[item_id].code != code
    ]
    # An item that leaves the notice gives up its code when another item takes it.
    moves += [
        (item, f"{item.code}~{item.id}")
        for item in stored.values()
        if item.id not in matched_ids and item.code in wanted
    ]
    old_codes = {item.id: item.code for item, _ in moves}
    _recode(session, moves)
    for item, code in moves:
        record(
            session,
            at,
            actor,
            "item.recode",
            "item",
            item.id,
            programme=spec.code,
            old=old_codes[item.id],
            new=code,
        )
    existing = {stored[item_id].code: stored[item_id] for item_id in matched_ids}
    new: set[str] = set()
    updated = archived = restored = 0
    for node in spec.notice.nodes:
        if node.code not in existing:
            field, section = spec.notice.roll_up(node.code)
            item = Item(
                programme_id=programme.id,
                code=node.code,
                kind=node.kind,
                position=node.position,
                title=node.title,
                text=node.text,
                field_code=field,
                section_code=section,
            )
            session.add(item)
            existing[node.code] = item
            new.add(node.code)
    session.flush()
    recoded = {item.id for item, _ in moves}
    for node in spec.notice.nodes:
        item = existing[node.code]
        parent_id = existing[node.parent_code].id if node.parent_code in existing else None
        field, section = spec.notice.roll_up(node.code)
        diff = _set(
            item,
            {
                "kind": node.kind,
                "position": node.position,
                "title": node.title,
                "text": node.text,
                "parent_id": parent_id,
                "field_code": field,
                "section_code": section,
            },
        )
        if item.archived_at is not None:
            item.archived_at = None
            restored += 1
            record(
                session,
                at,
                actor,
                "item.restore",
                "item",
                item.id,
                programme=spec.code,
                code=item.code,
            )
        elif (diff or item.id in recoded) and node.code not in new:
            updated += 1
            if diff:
                record(
                    session,
                    at,
                    actor,
                    "item.update",
                    "item",
                    item.id,
                    programme=spec.code,
                    code=item.code,
                    changes={k: v for k, v in diff.items() if k != "text"},
                    text_changed="text" in diff,
                )
    for item in stored.values():
        if item.id not in matched_ids:
            existing[item.code] = item
            if item.archived_at is None:
                item.archived_at = at
                archived += 1
                record(
                    session,
                    at,
                    actor,
                    "item.archive",
                    "item",
                    item.id,
                    programme=spec.code,
                    code=item.code,
                    reason="no longer in the notice",
                )
    session.flush()
    return existing, [len(new), updated, archived, restored]


def _import_assignments(
    session: Session,
    spec: ProgrammeSpec,
    items: dict[str, Item],
    agencies: dict[str, Agency],
    at: datetime,
    actor: str,
) -> list[int]:
    """Create, update, restore and archive assignments to match the file."""
    by_id = {a.id: a for a in agencies.values()}
    wanted: dict[tuple[int, int], AssignmentSpec] = {}
    for row in spec.assignments:
        agency = resolve_agency(agencies, by_id, row.agency)
        key = (items[row.item].id, agency.id)
        # After a merge two codes may meet on one agency: the lead role wins.
        if key not in wanted or (
            row.role == AssignmentRole.LEAD and wanted[key].role != AssignmentRole.LEAD
        ):
            wanted[key] = row
    item_ids = [i.id for i in items.values()]
    existing = (
        {
            (a.item_id, a.agency_id): a
            for a in session.scalars(select(Assignment).where(Assignment.item_id.in_(item_ids)))
        }
        if item_ids
        else {}
    )
    created = updated = archived = 0
    for key, row in wanted.items():
        values = {"role": row.role, "due_date": row.due, "cadence": row.cadence}
        assignment = existing.get(key)
        if assignment is None:
            assignment = Assignment(item_id=key[0], agency_id=key[1], **values)
            session.add(assignment)
            created += 1
            continue
        diff = _set(assignment, values)
        if assignment.archived_at is not None:
            assignment.archived_at = None
            diff["archived_at"] = "restored"
        if diff:
            updated += 1
            record(
                session,
                at,
                actor,
                "assignment.update",
                "assignment",
                assignment.id,
                item=row.item,
                agency=by_id[key[1]].code,
                changes=diff,
            )
    codes = {i.id: i.code for i in items.values()}
    for key, assignment in existing.items():
        if key not in wanted and assignment.archived_at is None:
            assignment.archived_at = at
            archived += 1
            record(
                session,
                at,
                actor,
                "assignment.archive",
                "assignment",
                assignment.id,
                item=codes.get(key[0], ""),
                agency=by_id[key[1]].code if key[1] in by_id else str(key[1]),
                reason="no longer in the file",
            )
    session.flush()
    return [created, updated, archived]


def _unassigned(spec: ProgrammeSpec, session: Session, items: dict[str, Item]) -> tuple[str, ...]:
    """List the notice's commitments that have no active lead agency."""
    leaf_ids = {items[n.code].id: n.code for n in spec.notice.leaves()}
    if not leaf_ids:
        return ()
    led = set(
        session.scalars(
            select(Assignment.item_id).where(
                Assignment.item_id.in_(leaf_ids),
                Assignment.archived_at.is_(None),
                Assignment.role == AssignmentRole.LEAD,
            )
        )
    )
    return tuple(code for item_id, code in leaf_ids.items() if item_id not in led)


def import_programme(
    session: Session,
    spec: ProgrammeSpec,
    at: datetime,
    actor: str = "cli",
    *,
    confirm: bool = False,
) -> ImportResult:
    """Write a validated spec into the store; the caller's unit of work commits.

    Raise ImportNeedsConfirmation, before writing anything, when items that have reports
    would change code or text, unless `confirm`.
    """
    plan = plan_items(session, spec)
    if plan.moving and not confirm:
        raise ImportNeedsConfirmation(spec.code, plan.moving)
    programme, programme_changed = _import_programme_row(session, spec, at, actor)
    localities, localities_changed = _import_localities(session, spec, at, actor)
    agencies, agencies_created, agencies_updated = _import_agencies(
        session, spec, localities, at, actor
    )
    roles_changed = _import_roles(session, spec, programme, agencies, at, actor)
    items, item_counts = _import_items(session, spec, programme, plan, at, actor)
    assignment_counts = _import_assignments(session, spec, items, agencies, at, actor)
    result = ImportResult(
        programme_code=spec.code,
        items_created=item_counts[0],
        items_updated=item_counts[1],
        items_archived=item_counts[2],
        items_restored=item_counts[3],
        agencies_created=agencies_created,
        agencies_updated=agencies_updated,
        assignments_created=assignment_counts[0],
        assignments_updated=assignment_counts[1],
        assignments_archived=assignment_counts[2],
        notice_warnings=spec.notice.warnings,
        programme_changed=programme_changed or localities_changed or bool(roles_changed),
        unassigned_items=_unassigned(spec, session, items),
        item_changes=plan.changes,
    )
    if result.changed:
        if not programme_changed:
            programme.imported_at = at
        record(
            session,
            at,
            actor,
            "programme.import",
            "programme",
            spec.code,
            file=str(spec.path),
            notice=spec.notice_source,
            sha256=spec.notice_sha256,
            items_created=result.items_created,
            items_updated=result.items_updated,
            items_archived=result.items_archived,
            items_restored=result.items_restored,
            agencies_created=result.agencies_created,
            agencies_updated=result.agencies_updated,
            assignments_created=result.assignments_created,
            assignments_updated=result.assignments_updated,
            assignments_archived=result.assignments_archived,
        )
    return result
