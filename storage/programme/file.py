"""Read and check a programme file (TOML) and its notice, whole, before anything is written.

The notice gives the tree of commitments; the programme file adds the localities, the
agencies and who leads or supports each commitment by when. `load_programme_file` checks
everything and raises one `ProgrammeFileError` naming the file, the place and the fix.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pydantic_core import ErrorDetails

from storage.notice.files import NoticeReadError, read_notice
from storage.programme.schema import ProgrammeFile
from storage.programme.spec import AgencySpec, AssignmentSpec, LocalitySpec, ProgrammeSpec
from storage.tomlfile import TomlFile, TomlFileError

AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")


class ProgrammeFileError(TomlFileError):
    """A programme file that cannot be imported: '<file>: <location>: <what to fix>'."""


def _hint(error: ErrorDetails) -> str | None:
    """The programme file's own words for a few mistakes; the rest are said generally."""
    kind = error["type"]
    loc = error["loc"]
    got = error.get("input")
    if kind in ("missing", "too_short") and loc and loc[-1] == "lead":
        return (
            "cần ít nhất một cơ quan chủ trì / needs at least one lead agency; "
            'write lead = ["HN-…"]'
        )
    if kind == "string_pattern_mismatch" and loc and loc[0] == "localities":
        return f"mã địa phương là 2–8 chữ in hoa ASCII / expected a code like HN (got {got!r})"
    if kind == "string_pattern_mismatch":
        return (
            f"mã chương trình gồm chữ thường, số và '-' / expected a code like "
            f"ha-noi-hung-yen-2019 (got {got!r})"
        )
    if kind == "list_type":
        return f'phải là danh sách / expected a list such as ["HN-KHDT"] (got {got!r})'
    return None


def load_programme_file(path: Path) -> ProgrammeSpec:
    """Read and check a programme file and its notice; raise ProgrammeFileError on any flaw."""
    source = TomlFile.read(
        Path(path),
        missing="check the path or [app] programme in config.toml",
        error_type=ProgrammeFileError,
    )
    parsed = source.validate(ProgrammeFile, hint=_hint, docs="docs/programme-file.md")
    return _check(parsed, source)


def _check(parsed: ProgrammeFile, report: TomlFile) -> ProgrammeSpec:
    """Check what the schema cannot: dates, codes, references and the notice."""
    path = report.path
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
        header = ag.report.model_dump(exclude_none=True, exclude_defaults=True) if ag.report else {}
        agencies[ag.code] = AgencySpec(
            ag.code, ag.locality, ag.name, ag.coordinates, ag.leadership, header
        )

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
        alias=prog.alias,
        periods=prog.periods,
        report_due_day=prog.report_due_day,
    )
