"""Fit texts to a place: shorten one to a line or a label, split one into a platform's parts,
and clean what a store or a file cannot hold.

The one text cutter of the app, in the lowest layer that needs it: the outbox splits a message
per channel when it is enqueued, the conversations and digests shorten titles and notes.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# The longest text one message may carry, per chat platform (Telegram counts UTF-16 units
# after entities are parsed; Zalo's Bot API refuses more than 2,000 characters).
TEXT_LIMITS: Final = {"telegram": 4096, "zalo": 2000}


def short_text(text: str, limit: int, *, one_line: bool = True) -> str:
    """Cut `text` at a word to at most `limit` characters, ending with "…" when cut.

    `one_line` first collapses its whitespace, for list lines, labels and titles; a note or a
    reason shown or kept whole keeps its lines.
    """
    if one_line:
        text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" \n,;:-–…") + "…"


# Control characters (Unicode category Cc) but tab and line feed, and lone surrogates: PostgreSQL
# refuses NUL in text, openpyxl refuses the C0 controls, and no encoder takes a lone surrogate.
_UNHOLDABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Drop the characters a store or a file cannot hold, keeping tabs and line breaks (a
    carriage return becomes a line break): every text a person sends is cleaned once, when
    it is accepted."""
    return _UNHOLDABLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def fit_file_name(name: str, limit: int) -> str:
    """Shorten a file name to at most `limit` characters, keeping its extension."""
    if len(name) <= limit:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) > 16:
        return name[: limit - 1] + "…"
    return stem[: limit - len(suffix) - 2] + "…." + suffix


def utf16_len(text: str) -> int:
    """Count UTF-16 code units: never fewer than code points, so a part fits either way."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _prefix_end(text: str, limit: int) -> int:
    """Return the largest index whose prefix fits in limit units."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def _cut_line(line: str, limit: int) -> list[str]:
    """Cut one over-long line at the last space that fits, else hard, into fitting pieces."""
    pieces: list[str] = []
    rest = line
    while utf16_len(rest) > limit:
        end = _prefix_end(rest, limit)
        space = rest.rfind(" ", 0, end + 1)
        if space > 0 and rest[:space].strip():
            pieces.append(rest[:space])
            rest = rest[space + 1 :]
            continue
        cut = end
        while cut > 1 and unicodedata.combining(rest[cut]):
            cut -= 1  # keep a base letter with its combining marks (NFD Vietnamese)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


def split_text(text: str, limit: int) -> list[str]:
    """Split text into parts of at most limit characters, preferring line boundaries.

    A line longer than limit is cut at its last fitting space, or hard-cut. The newline or
    space at a cut is dropped; blank edges of parts are trimmed and whitespace-only parts
    are dropped, so every part is non-empty and each part is a verbatim slice of text.
    Length is measured in UTF-16 code units, as Telegram counts (Zalo does not say).
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    parts: list[str] = []
    current: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal current, size
        part = "\n".join(current).strip("\r\n")
        if part.strip():
            parts.append(part)
        current, size = [], 0

    for line in text.split("\n"):
        pieces = _cut_line(line, limit)
        for piece in pieces[:-1]:
            flush()
            current, size = [piece], utf16_len(piece)
        last = pieces[-1]
        extra = utf16_len(last) + (1 if current else 0)
        if len(pieces) > 1 or size + extra > limit:
            flush()
            current, size = [last], utf16_len(last)
        else:
            current.append(last)
            size += extra
    flush()
    return parts
