"""The short title of a node: the lead phrase of its text."""

from __future__ import annotations

EMPTY_TITLE = "(không có nội dung)"
TITLE_MAX = 80

_ABBREVIATIONS = frozenset(
    {"TP", "Tp", "tp", "TX", "TT", "Q", "P", "ThS", "TS", "PGS", "GS", "KS", "BS", "St", "Dr"}
)


def _clause_end(text: str) -> int:
    """Return the index of the first ":", ";" or clause-ending "." in the text."""
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch in ";!?":
            return i
        if ch == ":":
            if i > 0 and text[i - 1].isdigit() and nxt.isdigit():
                continue
            return i
        if ch == ".":
            if not nxt:
                return i
            if not nxt.isspace():
                continue
            before = text[text.rfind(" ", 0, i) + 1 : i]
            j = i + 1
            while j < len(text) and text[j].isspace():
                j += 1
            if before in _ABBREVIATIONS or (j < len(text) and text[j].islower()):
                continue
            return i
    return len(text)


def lead_phrase(text: str) -> str:
    """Return the short lead phrase of a node's text, never empty, at most 80 characters."""
    first = text.split("\n", 1)[0].strip()
    phrase = first[: _clause_end(first)].strip().rstrip(" ,;:-–—")
    if not phrase:
        phrase = first.strip(" ,;:.-–—")
    if not phrase:
        return EMPTY_TITLE
    if len(phrase) <= TITLE_MAX:
        return phrase
    cut = phrase[: TITLE_MAX - 1]
    space = cut.rfind(" ")
    if space > TITLE_MAX // 4:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"
