"""Read one-line reports such as `2.5 60% đã khảo sát xong` or `2.2.b hoan thanh`."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ITEM_CODE = re.compile(
    r"^(?:[IVX]+\.)?[0-9]{1,2}(?:\.[0-9]{1,2})*(?:\.[a-z]{1,2})?$", re.IGNORECASE
)

# Folded (no diacritics, lower case) phrases, longest first so "chua hoan thanh" wins.
STATUS_WORDS: list[tuple[str, str]] = sorted(
    [
        ("chua trien khai", "not_started"),
        ("chua bat dau", "not_started"),
        ("chua thuc hien", "not_started"),
        ("not started", "not_started"),
        ("chua hoan thanh", "in_progress"),
        ("dang thuc hien", "in_progress"),
        ("dang trien khai", "in_progress"),
        ("dang lam", "in_progress"),
        ("in progress", "in_progress"),
        ("dang th", "in_progress"),
        ("hoan thanh", "done"),
        ("da xong", "done"),
        ("xong", "done"),
        ("done", "done"),
        ("completed", "done"),
        ("ht", "done"),
        ("vuong mac", "blocked"),
        ("vuong", "blocked"),
        ("kho khan", "blocked"),
        ("blocked", "blocked"),
        ("vm", "blocked"),
    ],
    key=lambda pair: -len(pair[0]),
)
# ASCII digits only: int() would take "٦٠" and choke on "²"; a sign is kept so -5% is refused.
LEADING_PERCENT = re.compile(
    r"(?P<sign>-)?(?P<number>[0-9]{1,3})\s*(?P<unit>%|phan tram|percent)?(?![0-9.,%a-z])"
)
SEPARATORS = " \t:,.;"
DASHES = "-–"


@dataclass(frozen=True)
class QuickReport:
    code: str
    status: str | None
    percent: int | None
    note: str
    problem: str | None = None  # "percent_range", "no_status" or "empty"


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics (đ → d), keeping string length equal."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char in "đĐ":
            out.append("d")
            continue
        base = unicodedata.normalize("NFD", char)[0]
        out.append(base.lower() if len(base.lower()) == 1 else char.lower())
    return "".join(out)


def looks_like_code(token: str) -> bool:
    return bool(ITEM_CODE.match(token.rstrip(".:,")))


def item_code_of(token: str) -> str:
    """Make a typed item code comparable to the stored one (`2.2.B.` → `2.2.b`)."""
    token = token.strip().rstrip(".:,")
    head, _, tail = token.rpartition(".")
    if head and tail.isalpha():
        return f"{head}.{tail.lower()}".upper().replace(f".{tail.upper()}", f".{tail.lower()}")
    return token.upper() if token[:1].isalpha() else token


def _skip(folded: str, at: int) -> int:
    """Step over the separators after a code, status or percent. A dash is a separator only
    before a space (`60% - ghi chú`); `-5` or `-giảm` is content. A line break ends the first
    line: what follows (a list of `- …` points, say) is the note, untouched."""
    while at < len(folded):
        char = folded[at]
        if char == "\n":
            while at < len(folded) and folded[at].isspace():
                at += 1
            return at
        nxt = folded[at + 1 : at + 2]
        if char in SEPARATORS or (char in DASHES and nxt in ("", " ", "\t")):
            at += 1
            continue
        break
    return at


def _status_at(folded: str, at: int) -> tuple[str, int] | None:
    for phrase, value in STATUS_WORDS:
        end = at + len(phrase)
        if folded.startswith(phrase, at) and (end == len(folded) or not folded[end].isalnum()):
            return value, end
    return None


def parse_quick(text: str) -> QuickReport | None:
    """Split a one-line report into code, status, percent and note; None if it is not one.

    The status and the percent lead (in either order); whatever follows is the note, taken
    from the original text so that diacritics (and its line breaks) survive.
    """
    text = unicodedata.normalize("NFC", text).strip()
    first, _, rest = text.replace("\n", " \n", 1).partition(" ")
    if not looks_like_code(first) or not any(ch in "0123456789" for ch in first):
        return None
    code = item_code_of(first)
    original = re.sub(r" *\n *", "\n", re.sub(r"[^\S\n]+", " ", rest)).strip()
    folded = fold(original)
    status: str | None = None
    percent: int | None = None
    at = _skip(folded, 0)
    for _ in range(2):
        found = _status_at(folded, at) if status is None else None
        if found:
            status, at = found[0], _skip(folded, found[1])
            continue
        match = LEADING_PERCENT.match(folded, at) if percent is None else None
        if match and match["sign"] and not match["unit"] and status is not None:
            match = None  # `xong -3 km …`: a note, not a percent
        if match:
            number = int(match["number"])
            percent, at = (-number if match["sign"] else number), _skip(folded, match.end())
            continue
        break
    note = original[at:].rstrip()
    problem = "percent_range" if percent is not None and not 0 <= percent <= 100 else None
    if status is None and percent is None:
        return QuickReport(code, None, None, note, "no_status" if note else "empty")
    if status is None:
        status = "done" if percent == 100 else "not_started" if percent == 0 else "in_progress"
    if status == "done" and percent is None:
        percent = 100
    return QuickReport(code, status, percent, note, problem)
