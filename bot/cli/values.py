"""The values people type on the command line: days, moments, durations, counts.

Every command parses them here, so `30/12/2019` works wherever a day is asked for. A value
that cannot be read does not stop argparse with its usage text: the parser returns a
`BadValue`, and `main` answers with one line in the configured language naming the option
and what it expects. Nothing here imports more than the standard library, so registering
the commands stays cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.texts import Texts

WORKDAY_START = time(9, 0)  # a bare date given for a moment means the start of office hours
_DAY_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
_TIME_FORMATS = ("%H:%M", "%H:%M:%S")
_DURATION = re.compile(r"^(\d+)\s*([dhw])$")
_UNITS = {"d": "days", "h": "hours", "w": "weeks"}


@dataclass(frozen=True)
class BadValue:
    """A value a parser could not read: which kind was expected, and what was typed."""

    kind: str  # "day" | "moment" | "duration" | "count" | "speed"
    text: str


def _read_day(text: str) -> date | None:
    for pattern in _DAY_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def day(text: str) -> date | BadValue:
    """Read `30/12/2019` or `2019-12-30`."""
    found = _read_day(text.strip())
    return found if found is not None else BadValue("day", text)


def moment(text: str) -> datetime | BadValue:
    """Read `30/12/2019 08:00` or `2019-12-30 08:00` (a bare day means 09:00), local time.

    The result is naive unless the text gave an offset; the command applies the configured
    time zone.
    """
    cleaned = " ".join(text.strip().replace("T", " ").split())
    head, _, rest = cleaned.partition(" ")
    found = _read_day(head)
    if found is not None:
        if not rest:
            return datetime.combine(found, WORKDAY_START)
        for pattern in _TIME_FORMATS:
            try:
                return datetime.combine(found, datetime.strptime(rest, pattern).time())
            except ValueError:
                continue
    try:  # an ISO moment with seconds or an offset, e.g. 2019-12-30T08:00:00+07:00
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return BadValue("moment", text)


def duration(text: str) -> timedelta | BadValue:
    """Read `7d`, `48h` or `2w`."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        return BadValue("duration", text)
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def count(text: str) -> int | BadValue:
    """Read a whole number of at least 1."""
    value = text.strip()
    return int(value) if value.isdigit() and int(value) >= 1 else BadValue("count", text)


def speed(text: str) -> float | BadValue:
    """Read a positive number (simulated seconds per real second)."""
    try:
        value = float(text.strip())
    except ValueError:
        return BadValue("speed", text)
    return value if value > 0 else BadValue("speed", text)


def explain(bad: BadValue, option: str, tx: Texts) -> str:
    """One line saying which option could not be read and what it expects."""
    value = bad.text
    if bad.kind == "day":
        return tx._(
            "{option}: không đọc được ngày “{value}”; đề nghị nhập dạng 30/12/2019 "
            "(hoặc 2019-12-30).",
            option=option,
            value=value,
        )
    if bad.kind == "moment":
        return tx._(
            "{option}: không đọc được thời điểm “{value}”; đề nghị nhập dạng "
            "“30/12/2019 08:00” (hoặc “2019-12-30 08:00”; chỉ có ngày thì tính 09:00).",
            option=option,
            value=value,
        )
    if bad.kind == "duration":
        return tx._(
            "{option}: không đọc được thời hạn “{value}”; đề nghị nhập dạng 7d (ngày), "
            "48h (giờ) hoặc 2w (tuần).",
            option=option,
            value=value,
        )
    if bad.kind == "count":
        return tx._(
            "{option}: “{value}” không phải số nguyên dương; đề nghị nhập 1, 2, 3…",
            option=option,
            value=value,
        )
    return tx._(
        "{option}: “{value}” không phải số dương; ví dụ 3600 (một giờ mô phỏng mỗi giây).",
        option=option,
        value=value,
    )
