"""Classify a notice's physical lines and group them into units (a line and its continuation)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.notice.cleaning import MARKDOWN_LEAD, RULE, clean_line, normalise

BULLET = re.compile(r"^(?:[-–—−•·▪◦●○■□‣⁃∙❖➢➤►▸✓✔✗❯»]\s*|[*+]\s+)(?P<rest>.*)$")
_LETTER_BULLET = re.compile(r"^(?P<letter>[a-zđ])\)\s+(?P<rest>.*)$")
_ROMAN_HEAD = re.compile(r"^(?P<roman>[IVX]{1,7})\s*[.)](?!\d)\s*(?P<rest>.*)$")
_ROMAN_VALID = re.compile(r"^(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})$")
_NUMBER = re.compile(r"^(?P<num>[1-9]\d{0,2}(?:\.[1-9]\d{0,2}){0,5})(?P<trail>[.)])?(?P<rest>.*)$")
SIGNATURE_START = re.compile(r"^(?:T/M|T/L|K/T|TM\.|TL\.|KT\.)\s*(?P<rest>.+)$")
_RECIPIENTS = re.compile(r"^nơi\s+nhận\b\s*:?\s*(?P<rest>.*)$", re.IGNORECASE)
CLOSING = "./."


@dataclass(frozen=True)
class Line:
    """One physical line, classified."""

    number: int
    kind: str  # blank, heading, number, bullet, recipients, signature, text
    marker: str
    text: str  # cleaned text after the marker
    display: str  # cleaned whole line, for warnings


def roman_value(roman: str) -> int:
    """Return the value of a valid roman numeral up to XXXIX."""
    values = {"I": 1, "V": 5, "X": 10}
    total = 0
    for i, ch in enumerate(roman):
        value = values[ch]
        if i + 1 < len(roman) and values[roman[i + 1]] > value:
            total -= value
        else:
            total += value
    return total


def to_roman(value: int) -> str:
    """Return the roman numeral for 1..39 (plain digits beyond)."""
    if not 1 <= value <= 39:
        return str(value)
    tens, units = divmod(value, 10)
    unit_names = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"]
    return "X" * tens + unit_names[units]


def _numbered(line: str) -> tuple[str, str] | None:
    """Return (number, rest) when the line opens a numbered paragraph."""
    match = _NUMBER.match(line)
    if match is None:
        return None
    num, trail, rest = match.group("num"), match.group("trail"), match.group("rest")
    if trail:
        if rest and not rest[0].isspace() and not rest[0].isalpha():
            return None
    else:
        parts = num.split(".")
        if len(parts) < 2 or any(len(p) > 2 for p in parts[1:]):
            return None
        if rest and not rest[0].isspace():
            return None
    return num, rest.strip()


def classify(number: int, raw: str) -> Line:
    """Classify one physical line of the notice."""
    pre = MARKDOWN_LEAD.sub("", normalise(raw))
    display = clean_line(raw)
    if not display:
        return Line(number, "blank", "", "", "")
    if not RULE.match(pre):
        bullet = BULLET.match(pre) or BULLET.match(display)
        if bullet is not None:
            return Line(number, "bullet", "-", clean_line(bullet.group("rest")), display)
    heading = _ROMAN_HEAD.match(display)
    if heading is not None and _ROMAN_VALID.match(heading.group("roman")):
        return Line(number, "heading", heading.group("roman"), heading.group("rest"), display)
    numbered = _numbered(display)
    if numbered is not None:
        return Line(number, "number", numbered[0], numbered[1], display)
    letter = _LETTER_BULLET.match(display)
    if letter is not None:
        return Line(number, "bullet", letter.group("letter"), letter.group("rest"), display)
    recipients = _RECIPIENTS.match(display)
    if recipients is not None:
        return Line(number, "recipients", "", recipients.group("rest"), display)
    signature = SIGNATURE_START.match(display)
    if signature is not None and is_upper(signature.group("rest")):
        return Line(number, "signature", "", display, display)
    return Line(number, "text", "", display, display)


def is_upper(text: str) -> bool:
    """Tell whether the text has letters and all of them are capitals."""
    return any(ch.isalpha() for ch in text) and text == text.upper()


def looks_like_name(text: str) -> bool:
    """Tell whether the line looks like a signer's name, e.g. "Nguyễn Văn Tứ"."""
    words = text.split()
    return 2 <= len(words) <= 6 and all(
        w.isalpha() and w[0].isupper() and w[1:] == w[1:].lower() for w in words
    )


# ---------------------------------------------------------------------------- units


@dataclass
class Unit:
    """A structural line with the continuation lines that follow it."""

    kind: str
    marker: str
    line: int
    display: str
    paragraphs: list[list[str]]
    lines: list[str]

    @property
    def text(self) -> str:
        """Return the unit's text: lines joined by spaces, paragraphs by newlines."""
        paras = (" ".join(" ".join(p).split()) for p in self.paragraphs)
        return "\n".join(p for p in paras if p)


def group_units(lines: list[str], per_line: bool) -> list[Unit]:
    """Group classified lines into units; a blank line ends a unit's paragraph."""
    units: list[Unit] = []
    current: Unit | None = None
    after_blank = True
    for number, raw in enumerate(lines, start=1):
        line = classify(number, raw)
        if line.kind == "blank":
            after_blank = True
            continue
        joins = line.kind == "text" and current is not None and not after_blank and not per_line
        if joins and current is not None:
            current.lines.append(line.text)
            if current.kind == "heading" and not is_upper(line.text):
                current.paragraphs.append([line.text])
            else:
                current.paragraphs[-1].append(line.text)
        else:
            current = Unit(line.kind, line.marker, number, line.display, [[line.text]], [line.text])
            units.append(current)
        after_blank = False
    return units
