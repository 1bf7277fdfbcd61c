"""The programme file (TOML): what the notice does not say, validated whole, then imported.

The notice gives the tree of commitments; the programme file adds the localities, the
agencies and who leads or supports each commitment by when. `load_programme_file` checks
everything and raises one `ProgrammeFileError` naming the file, the place and the fix;
`import_programme` writes into the caller's transaction and is idempotent.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import record
from storage.models import Agency, Assignment, AssignmentRole, Item, Locality, Programme
from storage.notice.files import NoticeReadError, read_notice
from storage.notice.model import NoticeWarning, ParsedNotice

Cadence = Literal["monthly", "quarterly", "none"]
CADENCES: tuple[str, ...] = ("monthly", "quarterly", "none")
AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")

Loc = tuple[str | int, ...]


class ProgrammeFileError(Exception):
    """A programme file that cannot be imported: '<file>: <location>: <what to fix>'."""


# ----------------------------------------------------------------------------- file schema


def _as_date(value: Any) -> Any:
    """Accept a TOML date (2020-06-30) or the same as a quoted ISO string; nothing else."""
    if isinstance(value, datetime):
        raise ValueError("a date without a time, such as 2020-06-30")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("a date such as 2020-06-30 (year-month-day)")


TomlDate = Annotated[date, BeforeValidator(_as_date)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class ProgrammeSection(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    notice: Text
    phase_start: TomlDate
    phase_end: TomlDate
    default_due: TomlDate | None = None
    cadence: Cadence = "monthly"


class LocalityEntry(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,8}$")]
    name: Text


class AgencyEntry(_Strict):
    code: Code
    locality: Code
    name: Text
    coordinates: StrictBool = False
    leadership: StrictBool = False


class AssignmentEntry(_Strict):
    item: Code
    lead: list[Code] = Field(min_length=1)
    support: list[Code] = []
    due: TomlDate | None = None
    cadence: Cadence | None = None


class ProgrammeFile(_Strict):
    programme: ProgrammeSection
    localities: list[LocalityEntry] = Field(min_length=1)
    agencies: list[AgencyEntry] = Field(min_length=1)
    assignments: list[AssignmentEntry] = []


# ----------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class LocalitySpec:
    code: str
    name: str


@dataclass(frozen=True)
class AgencySpec:
    code: str
    locality: str
    name: str
    coordinates: bool = False
    leadership: bool = False


@dataclass(frozen=True)
class AssignmentSpec:
    """One agency on one item: the file's lead/support lists flattened."""

    item: str
    agency: str
    role: str
    due: date
    cadence: str


@dataclass(frozen=True)
class ProgrammeSpec:
    """A validated programme file with its parsed notice, ready to import."""

    path: Path
    code: str
    title: str
    notice_source: str
    notice_sha256: str
    notice: ParsedNotice
    phase_start: date
    phase_end: date
    default_due: date
    cadence: str
    localities: tuple[LocalitySpec, ...]
    agencies: tuple[AgencySpec, ...]
    assignments: tuple[AssignmentSpec, ...]


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


# ----------------------------------------------------------------------------- locations


def _loc_text(loc: Loc) -> str:
    """Render ('assignments', 2, 'lead', 0) as 'assignments[3].lead[1]' (counted from 1)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + part
    return out or "(tệp / file)"


def _line_of(text: str, loc: Loc) -> int | None:
    """Find the line in the TOML text where the value at `loc` is written, if it can."""
    lines = text.splitlines()
    if not loc or not isinstance(loc[0], str):
        return None
    table = loc[0]
    start: int | None = None
    if len(loc) > 1 and isinstance(loc[1], int):
        header = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
        seen = -1
        for number, line in enumerate(lines):
            if header.match(line):
                seen += 1
                if seen == loc[1]:
                    start = number
                    break
        key = loc[2] if len(loc) > 2 and isinstance(loc[2], str) else None
    else:
        header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
        start = next((n for n, line in enumerate(lines) if header.match(line)), None)
        key = loc[1] if len(loc) > 1 and isinstance(loc[1], str) else None
    if start is None:
        return None
    if key is not None:
        assign = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start + 1, len(lines)):
            if re.match(r"^\s*\[", lines[number]):
                break
            if assign.match(lines[number]):
                return number + 1
    return start + 1


class _Reporter:
    """Build ProgrammeFileError messages that name the file, the place and the line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def error(self, loc: Loc, what: str) -> ProgrammeFileError:
        line = _line_of(self.text, loc)
        where = _loc_text(loc) + (f" (dòng / line {line})" if line else "")
        return ProgrammeFileError(f"{self.path}: {where}: {what}")


def _describe(error: Any) -> str:
    """Turn one pydantic error into 'what is wrong and what to do'."""
    kind = error["type"]
    loc = error["loc"]
    got = error.get("input")
    if kind == "extra_forbidden":
        return (
            "khóa không được hỗ trợ / unknown key; remove it or check its spelling "
            "(see docs/programme-file.md)"
        )
    if kind in ("missing", "too_short") and loc and loc[-1] == "lead":
        return (
            "cần ít nhất một cơ quan chủ trì / needs at least one lead agency; "
            'write lead = ["HN-…"]'
        )
    if kind == "too_short":
        return "không được để trống / must not be empty"
    if kind == "missing":
        return "thiếu giá trị bắt buộc / is required; add it"
    if kind == "literal_error":
        return f"phải là một trong / must be one of {', '.join(CADENCES)} (got {got!r})"
    if kind == "string_pattern_mismatch" and loc and loc[0] == "localities":
        return f"mã địa phương là 2–8 chữ in hoa ASCII / expected a code like HN (got {got!r})"
    if kind == "string_pattern_mismatch":
        return (
            f"mã chương trình gồm chữ thường, số và '-' / expected a code like "
            f"ha-noi-hung-yen-2019 (got {got!r})"
        )
    if kind.startswith("bool"):
        return f"phải là true hoặc false / expected true or false (got {got!r})"
    if kind == "list_type":
        return f'phải là danh sách / expected a list such as ["HN-KHDT"] (got {got!r})'
    msg = str(error["msg"]).removeprefix("Value error, ")
    shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
    return f"giá trị không hợp lệ / expected {msg[0].lower() + msg[1:]}{shown}"


# ----------------------------------------------------------------------------- loading

_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}")


def _line(text: str, number: int) -> str:
    """Return line `number` (from 1) of the text, or ''."""
    lines = text.splitlines()
    return lines[number - 1] if 0 < number <= len(lines) else ""


def load_programme_file(path: Path) -> ProgrammeSpec:
    """Read and check a programme file and its notice; raise ProgrammeFileError on any flaw."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ProgrammeFileError(
            f"{path}: không tìm thấy tệp / file not found; check the path or "
            "[app] programme in config.toml"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ProgrammeFileError(
            f"{path}: không phải văn bản UTF-8 / not UTF-8 text; save it as UTF-8"
        ) from exc
    except OSError as exc:
        raise ProgrammeFileError(f"{path}: không đọc được / cannot read: {exc.strerror}") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"dòng / line {found.group(1)}, column {found.group(2)}" if found else "TOML"
        what = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        hint = "fix that line"
        if found and _DATE_LIKE.search(_line(text, int(found.group(1)))):
            hint = "ngày viết dạng năm-tháng-ngày có thật / write a real date as 2020-06-30"
        raise ProgrammeFileError(
            f"{path}: {where}: lỗi cú pháp TOML / TOML syntax error: {what}; {hint}"
        ) from exc
    report = _Reporter(path, text)
    try:
        parsed = ProgrammeFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise report.error(tuple(first["loc"]), _describe(first)) from exc
    return _check(parsed, path, report)


def _check(parsed: ProgrammeFile, path: Path, report: _Reporter) -> ProgrammeSpec:
    """Check what the schema cannot: dates, codes, references and the notice."""
    prog = parsed.programme
    if prog.phase_end < prog.phase_start:
        raise report.error(
            ("programme", "phase_end"),
            f"kết thúc trước khi bắt đầu / ends before phase_start "
            f"{prog.phase_start}; fix one of the two dates",
        )
    default_due = prog.default_due or prog.phase_end
    if default_due < prog.phase_start:
        raise report.error(
            ("programme", "default_due"),
            f"trước ngày bắt đầu / is before phase_start {prog.phase_start}",
        )
    notice_path = path.parent / prog.notice
    try:
        data = notice_path.read_bytes()
        notice = read_notice(notice_path)
    except NoticeReadError as exc:
        raise report.error(("programme", "notice"), str(exc)) from exc
    except OSError as exc:
        raise report.error(
            ("programme", "notice"),
            f"không đọc được thông báo / cannot read the notice {notice_path}: "
            f"{exc.strerror}; the path is relative to this file",
        ) from exc
    if not notice.nodes:
        raise report.error(
            ("programme", "notice"),
            "không tìm thấy mục nào trong thông báo / no sections or items found "
            f"in {notice_path}; check it with `tiendo notice {notice_path}`",
        )

    localities: dict[str, LocalitySpec] = {}
    for i, loc_entry in enumerate(parsed.localities):
        if loc_entry.code in localities:
            raise report.error(
                ("localities", i, "code"),
                f'mã địa phương trùng / duplicate locality code "{loc_entry.code}"',
            )
        localities[loc_entry.code] = LocalitySpec(loc_entry.code, loc_entry.name)

    agencies: dict[str, AgencySpec] = {}
    leadership: dict[str, str] = {}
    for i, ag in enumerate(parsed.agencies):
        if not AGENCY_CODE.match(ag.code):
            raise report.error(
                ("agencies", i, "code"),
                f'mã cơ quan phải là chữ in hoa ASCII, số và "-" / expected an '
                f'uppercase ASCII code such as HN-KHDT (got "{ag.code}")',
            )
        if ag.code in agencies:
            raise report.error(
                ("agencies", i, "code"),
                f'mã cơ quan trùng / duplicate agency code "{ag.code}"; each agency once',
            )
        if ag.locality not in localities:
            raise report.error(
                ("agencies", i, "locality"),
                f'địa phương chưa khai báo / unknown locality code "{ag.locality}"; '
                "add it under [[localities]] or fix the code",
            )
        if not ag.code.startswith(ag.locality + "-"):
            raise report.error(
                ("agencies", i, "code"),
                f'mã cơ quan phải bắt đầu bằng "{ag.locality}-" / the code of an '
                f'agency of {ag.locality} must start with "{ag.locality}-"',
            )
        if ag.leadership:
            if ag.locality in leadership:
                raise report.error(
                    ("agencies", i, "leadership"),
                    f"mỗi địa phương chỉ một cơ quan lãnh đạo / {ag.locality} "
                    f"already has {leadership[ag.locality]} as leadership",
                )
            leadership[ag.locality] = ag.code
        agencies[ag.code] = AgencySpec(ag.code, ag.locality, ag.name, ag.coordinates, ag.leadership)

    rows: list[AssignmentSpec] = []
    seen_items: dict[str, int] = {}
    for i, entry in enumerate(parsed.assignments):
        node = notice.node(entry.item)
        if node is None:
            raise report.error(
                ("assignments", i, "item"),
                f'thông báo không có mục "{entry.item}" / the notice has no item '
                f'"{entry.item}"; check the codes with `tiendo notice '
                f"{notice_path.name}`",
            )
        children = notice.children(entry.item)
        if children:
            below = ", ".join(c.code for c in children)
            raise report.error(
                ("assignments", i, "item"),
                f'mục "{entry.item}" có các ý con / item "{entry.item}" has '
                f"sub-items ({below}); assign those instead",
            )
        if entry.item in seen_items:
            raise report.error(
                ("assignments", i, "item"),
                f'mục "{entry.item}" đã được giao ở assignments'
                f"[{seen_items[entry.item] + 1}] / item assigned twice; "
                "merge the two blocks",
            )
        seen_items[entry.item] = i
        due = entry.due or default_due
        if due < prog.phase_start:
            raise report.error(
                ("assignments", i, "due"),
                f"hạn trước ngày bắt đầu / due {due} is before phase_start {prog.phase_start}",
            )
        cadence = entry.cadence or prog.cadence
        taken: set[str] = set()
        for role, codes in (("lead", entry.lead), ("support", entry.support)):
            for j, code in enumerate(codes):
                if code not in agencies:
                    raise report.error(
                        ("assignments", i, role, j),
                        f'mã cơ quan chưa khai báo / unknown agency code "{code}"; '
                        "add it under [[agencies]] or fix the code",
                    )
                if code in taken:
                    raise report.error(
                        ("assignments", i, role, j),
                        f'cơ quan "{code}" bị ghi hai lần / agency listed twice '
                        "for this item; keep it once, as lead or support",
                    )
                taken.add(code)
                rows.append(AssignmentSpec(entry.item, code, role, due, cadence))

    return ProgrammeSpec(
        path=path,
        code=prog.code,
        title=prog.title,
        notice_source=prog.notice,
        notice_sha256=hashlib.sha256(data).hexdigest(),
        notice=notice,
        phase_start=prog.phase_start,
        phase_end=prog.phase_end,
        default_due=default_due,
        cadence=prog.cadence,
        localities=tuple(localities.values()),
        agencies=tuple(agencies.values()),
        assignments=tuple(rows),
    )


# ----------------------------------------------------------------------------- import


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
    }
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
        values = {
            "name": ag.name,
            "locality_id": localities[ag.locality].id,
            "coordinates": ag.coordinates,
            "leadership": ag.leadership,
        }
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
                coordinates=ag.coordinates,
                leadership=ag.leadership,
            )
        elif agency.merged_into_id is None and (diff := _set(agency, values)):
            updated += 1
            record(session, at, actor, "agency.update", "agency", ag.code, changes=diff)
    session.flush()
    return by_code, created, updated


def _import_items(
    session: Session, spec: ProgrammeSpec, programme: Programme, at: datetime, actor: str
) -> tuple[dict[str, Item], list[int]]:
    """Mirror the notice's tree into items; return them by code and the counts."""
    existing = {
        i.code: i for i in session.scalars(select(Item).where(Item.programme_id == programme.id))
    }
    new: set[str] = set()
    updated = archived = restored = 0
    for node in spec.notice.nodes:
        if node.code not in existing:
            item = Item(
                programme_id=programme.id,
                code=node.code,
                kind=node.kind,
                position=node.position,
                title=node.title,
                text=node.text,
            )
            session.add(item)
            existing[node.code] = item
            new.add(node.code)
    session.flush()
    wanted = {node.code for node in spec.notice.nodes}
    for node in spec.notice.nodes:
        item = existing[node.code]
        parent_id = existing[node.parent_code].id if node.parent_code in existing else None
        diff = _set(
            item,
            {
                "kind": node.kind,
                "position": node.position,
                "title": node.title,
                "text": node.text,
                "parent_id": parent_id,
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
        elif diff and node.code not in new:
            updated += 1
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
    for code, item in existing.items():
        if code not in wanted and item.archived_at is None:
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
                code=code,
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
    session: Session, spec: ProgrammeSpec, at: datetime, actor: str = "cli"
) -> ImportResult:
    """Write a validated spec into the store; the caller's unit of work commits."""
    programme, programme_changed = _import_programme_row(session, spec, at, actor)
    localities, localities_changed = _import_localities(session, spec, at, actor)
    agencies, agencies_created, agencies_updated = _import_agencies(
        session, spec, localities, at, actor
    )
    items, item_counts = _import_items(session, spec, programme, at, actor)
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
        programme_changed=programme_changed or localities_changed,
        unassigned_items=_unassigned(spec, session, items),
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
