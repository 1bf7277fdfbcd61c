"""Read and check a programme file (TOML) and its notice, whole, before anything is written.

The notice gives the tree of commitments; the programme file adds the localities, the
agencies and who leads or supports each commitment by when. `load_programme_file` checks
everything and raises one `ProgrammeFileError` naming the file, the place and the fix.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from storage.notice.files import NoticeReadError, read_notice
from storage.programme.schema import CADENCES, ProgrammeFile
from storage.programme.spec import AgencySpec, AssignmentSpec, LocalitySpec, ProgrammeSpec

AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")

Loc = tuple[str | int, ...]


class ProgrammeFileError(Exception):
    """A programme file that cannot be imported: '<file>: <location>: <what to fix>'."""


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
