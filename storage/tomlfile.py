"""Read a TOML file and check it with a pydantic model, each mistake said in one line.

Both files people edit by hand (config.toml and a programme file) go through here, so a
mistake reads the same in either: '<file>: <place> (dòng / line N): <what is expected>',
where the place is the key's path as TOML spells it (`reminders.days_before`,
`assignments[13].lead[2]`, counted from 1) and the line is given whenever it can be found.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

Loc = tuple[str | int, ...]
# A model's own words for one of its errors, or None to use the general ones.
Hint = Callable[[ErrorDetails], str | None]
Model = TypeVar("Model", bound=BaseModel)

_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_KEY_PART = re.compile(r"""[A-Za-z0-9_-]+|"([^"]*)"|'([^']*)'""")


class TomlFileError(Exception):
    """A TOML file that cannot be used; the message is one line naming file, place and fix."""


@dataclass(frozen=True)
class TomlFile:
    """A TOML file's text and data, kept together so that a mistake can be pointed at."""

    path: Path
    text: str
    data: dict[str, Any]
    error_type: type[TomlFileError] = TomlFileError

    @classmethod
    def read(
        cls,
        path: Path,
        *,
        missing: str = "check the path",
        error_type: type[TomlFileError] = TomlFileError,
    ) -> TomlFile:
        """Read and parse the file; `missing` says what to do when it does not exist."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise error_type(f"{path}: không tìm thấy tệp / file not found; {missing}") from exc
        except UnicodeDecodeError as exc:
            raise error_type(
                f"{path}: không phải văn bản UTF-8 / not UTF-8 text; save it as UTF-8"
            ) from exc
        except OSError as exc:
            raise error_type(f"{path}: không đọc được / cannot read: {exc.strerror}") from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise error_type(f"{path}: {_syntax_error(text, str(exc))}") from exc
        return cls(path, text, data, error_type)

    def validate(self, model: type[Model], *, hint: Hint | None = None, docs: str = "") -> Model:
        """Check the data with the model; raise one line for the first mistake.

        `docs` names the page that lists the keys, quoted when a key is unknown.
        """
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            first = exc.errors()[0]
            what = (hint(first) if hint is not None else None) or describe(first, docs)
            raise self.error(tuple(first["loc"]), what) from exc

    def error(self, loc: Loc, what: str) -> TomlFileError:
        """The error for a mistake at `loc` (a key path, list indices from 0)."""
        return self.error_type(f"{self.path}: {self.place(loc)}: {what}")

    def place(self, loc: Loc) -> str:
        """Render the key path with the line it is written on, when that can be found."""
        line = line_of(self.text, loc)
        return place_text(loc) + (f" (dòng / line {line})" if line else "")


def place_text(loc: Loc) -> str:
    """Render ('assignments', 2, 'lead', 0) as 'assignments[3].lead[1]' (counted from 1)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + part
    return out or "(tệp / file)"


def describe(error: ErrorDetails, docs: str = "") -> str:
    """Turn one pydantic error into what is wrong and what to do, Vietnamese first."""
    kind = error["type"]
    got = error.get("input")
    if kind == "extra_forbidden":
        vi, en = ("mục", "section") if isinstance(got, dict) else ("khóa", "key")
        see = f" (see {docs})" if docs else ""
        return f"{vi} không được hỗ trợ / unknown {en}; remove it or check its spelling{see}"
    if kind == "too_short":
        return "không được để trống / must not be empty"
    if kind == "missing":
        return "thiếu giá trị bắt buộc / is required; add it"
    if kind == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", ""))
        allowed = expected.replace("'", "").replace(" or ", ", ")
        return f"phải là một trong / must be one of {allowed} (got {got!r})"
    if kind.startswith("bool"):
        return f"phải là true hoặc false / expected true or false (got {got!r})"
    if kind == "list_type":
        return f"phải là danh sách / expected a list (got {got!r})"
    msg = str(error["msg"]).removeprefix("Value error, ")
    said = isinstance(got, dict | list) or repr(got) in msg  # a validator may quote it already
    shown = "" if said else f" (got {got!r})"
    expected = msg[0].lower() + msg[1:] if msg else "a valid value"
    return f"giá trị không hợp lệ / expected {expected}{shown}"


def _syntax_error(text: str, message: str) -> str:
    """Say where the TOML breaks and, for a date-like line, how a date is written."""
    found = _AT.search(message)
    where = f"dòng / line {found.group(1)}, column {found.group(2)}" if found else "TOML"
    what = _AT.sub("", message)
    hint = "fix that line"
    if found:
        lines = text.splitlines()
        number = int(found.group(1))
        if 0 < number <= len(lines) and _DATE_LIKE.search(lines[number - 1]):
            hint = "ngày viết dạng năm-tháng-ngày có thật / write a real date as 2020-06-30"
    return f"{where}: lỗi cú pháp TOML / TOML syntax error: {what}; {hint}"


def line_of(text: str, loc: Loc) -> int | None:
    """Find the line (from 1) where the value at `loc` is written, or its table's header.

    The longest part of `loc` that the file spells out wins: a list item points at its key's
    line, a missing key at its table's header.
    """
    best: tuple[int, int] | None = None  # (matched length, line)
    for number, path in _paths(text):
        if path == loc[: len(path)] and (best is None or len(path) > best[0]):
            best = (len(path), number)
    return best[1] if best is not None else None


def _paths(text: str) -> Iterator[tuple[int, Loc]]:
    """Yield (line, key path) for each table header and key of the text."""
    arrays: dict[Loc, int] = {}  # array-of-tables path → index of its latest table
    table: Loc = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header is not None:
            table = _table_path(_key_parts(header.group(2)), header.group(1) == "[[", arrays)
            yield number, table
            continue
        key = _KEY.match(line)
        if key is not None:
            yield number, table + tuple(_key_parts(key.group(1)))


def _table_path(parts: list[str], is_array: bool, arrays: dict[Loc, int]) -> Loc:
    """Turn a header's keys into a path with list indices, counting `[[…]]` tables."""
    path: Loc = ()
    for i, part in enumerate(parts):
        path += (part,)
        if is_array and i == len(parts) - 1:
            arrays[path] = arrays.get(path, -1) + 1
            path += (arrays[path],)
        elif path in arrays:
            path += (arrays[path],)
    return path


def _key_parts(dotted: str) -> list[str]:
    """Split a dotted TOML key into its parts, quotes removed."""
    return [
        next((g for g in m.groups() if g is not None), m.group(0))
        for m in _KEY_PART.finditer(dotted)
    ]
