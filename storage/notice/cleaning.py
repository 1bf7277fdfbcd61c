"""Clean one line of a flawed copy: NFC, plain spaces, no markup, arrows or placeholders."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile("[\t\x0b\x0c\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]")
_STRAY = re.compile(
    "[\u2190-\u21ff\u2500-\u25ff\u2600-\u27bf\u27f0-\u27ff\u2900-\u297f\u2b00-\u2bff"
    "\ue000-\uf8ff\ufffd\U0001f000-\U0001faff]"
)
_PLACEHOLDER = re.compile(r"\[([^\[\]\n]{1,40})\]")
_PLACEHOLDER_WORDS = ("ký", "dấu", "signature", "signed", "seal", "stamp")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_EMPHASIS_INSIDE_WORD = re.compile(r"(?<=[^\W_])(?:\*+|_{2,})(?=[^\W_])")
_EMPHASIS = re.compile(r"\*+|_{2,}")
MARKDOWN_LEAD = re.compile(r"^(?:(?:#{1,6}|>)\s*)+")
RULE = re.compile(r"^[-–—_*=~]{3,}$")


def normalise(raw: str) -> str:
    """Return the line in NFC with odd spaces made plain and invisible characters gone."""
    line = unicodedata.normalize("NFC", raw)
    line = _SPACES.sub(" ", line)
    return _INVISIBLE.sub("", line).strip()


def _drop_placeholder(match: re.Match[str]) -> str:
    """Drop a ``[Chữ ký]``-like placeholder and keep any other bracketed text."""
    inner = match.group(1).casefold()
    return "" if any(word in inner for word in _PLACEHOLDER_WORDS) else match.group(0)


def clean_line(raw: str) -> str:
    """Return the line's words without markup, stray symbols, placeholders or extra spaces."""
    line = normalise(raw)
    line = _PLACEHOLDER.sub(_drop_placeholder, line)
    line = _ESCAPE.sub(r"\1", line)
    line = _STRAY.sub(" ", line)
    line = _EMPHASIS_INSIDE_WORD.sub(" ", line)
    line = _EMPHASIS.sub("", line)
    line = MARKDOWN_LEAD.sub("", line.strip())
    if RULE.match(line):
        return ""
    return unicodedata.normalize("NFC", " ".join(line.split()))
