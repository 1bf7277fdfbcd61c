"""Parse a cooperation notice (thông báo kết luận) into a tree of commitments.

The notice arrives as a flawed plain-text copy (or a .docx): a title glued to its first line,
markdown emphasis, stray arrows, signature placeholders, non-breaking spaces, NFD text.
``parse_notice`` reads it as it is, never raises, and reports every line it cannot place as a
``NoticeWarning`` instead of dropping it.
"""

from __future__ import annotations

import datetime
import pathlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "NodeKind",
    "NoticeNode",
    "NoticeReadError",
    "NoticeWarning",
    "ParsedNotice",
    "parse_notice",
    "read_notice",
]

NodeKind = Literal["section", "item", "bullet"]

EMPTY_TITLE = "(không có nội dung)"
INTERNAL_ERROR = "internal parser error"
WARNING_TEXT_MAX = 120
TITLE_MAX = 80
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
DOCX_SUFFIX = ".docx"


@dataclass(frozen=True)
class NoticeNode:
    """One section, numbered paragraph or bullet of the notice."""

    code: str
    kind: NodeKind
    parent_code: str | None
    title: str
    text: str
    line: int
    position: int


@dataclass(frozen=True)
class NoticeWarning:
    """A line the parser could not place where the notice's structure says it belongs."""

    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class ParsedNotice:
    """The notice as a tree of nodes plus its front and back matter."""

    title: str
    date: datetime.date | None
    preamble: str
    nodes: tuple[NoticeNode, ...]
    recipients: tuple[str, ...]
    department_abbreviations: tuple[str, ...]
    signature: tuple[str, ...]
    warnings: tuple[NoticeWarning, ...]
    closing: str = ""

    def node(self, code: str) -> NoticeNode | None:
        """Return the node with this code, if any."""
        return next((n for n in self.nodes if n.code == code), None)

    def children(self, code: str | None) -> list[NoticeNode]:
        """Return the direct children of a node (``None``: the top level) in order."""
        return [n for n in self.nodes if n.parent_code == code]

    def leaves(self) -> list[NoticeNode]:
        """Return the commitments: items and bullets that have no children."""
        parents = {n.parent_code for n in self.nodes}
        return [n for n in self.nodes if n.kind != "section" and n.code not in parents]


class NoticeReadError(Exception):
    """A file that cannot be read as a notice; message says what to do."""


# --------------------------------------------------------------------------- cleaning

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
_MARKDOWN_LEAD = re.compile(r"^(?:(?:#{1,6}|>)\s*)+")
_RULE = re.compile(r"^[-–—_*=~]{3,}$")


def _normalise(raw: str) -> str:
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
    line = _normalise(raw)
    line = _PLACEHOLDER.sub(_drop_placeholder, line)
    line = _ESCAPE.sub(r"\1", line)
    line = _STRAY.sub(" ", line)
    line = _EMPHASIS_INSIDE_WORD.sub(" ", line)
    line = _EMPHASIS.sub("", line)
    line = _MARKDOWN_LEAD.sub("", line.strip())
    if _RULE.match(line):
        return ""
    return unicodedata.normalize("NFC", " ".join(line.split()))


# ----------------------------------------------------------------------- classification

_BULLET = re.compile(r"^(?:[-–—−•·▪◦●○■□‣⁃∙❖➢➤►▸✓✔✗❯»]\s*|[*+]\s+)(?P<rest>.*)$")
_LETTER_BULLET = re.compile(r"^(?P<letter>[a-zđ])\)\s+(?P<rest>.*)$")
_ROMAN_HEAD = re.compile(r"^(?P<roman>[IVX]{1,7})\s*[.)](?!\d)\s*(?P<rest>.*)$")
_ROMAN_VALID = re.compile(r"^(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})$")
_NUMBER = re.compile(r"^(?P<num>[1-9]\d{0,2}(?:\.[1-9]\d{0,2}){0,5})(?P<trail>[.)])?(?P<rest>.*)$")
_SIGNATURE_START = re.compile(r"^(?:T/M|T/L|K/T|TM\.|TL\.|KT\.)\s*(?P<rest>.+)$")
_RECIPIENTS = re.compile(r"^nơi\s+nhận\b\s*:?\s*(?P<rest>.*)$", re.IGNORECASE)
_CLOSING = "./."


@dataclass(frozen=True)
class _Line:
    """One physical line, classified."""

    number: int
    kind: str  # blank, heading, number, bullet, recipients, signature, text
    marker: str
    text: str  # cleaned text after the marker
    display: str  # cleaned whole line, for warnings


def _roman_value(roman: str) -> int:
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


def _to_roman(value: int) -> str:
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


def _classify(number: int, raw: str) -> _Line:
    """Classify one physical line of the notice."""
    pre = _MARKDOWN_LEAD.sub("", _normalise(raw))
    display = clean_line(raw)
    if not display:
        return _Line(number, "blank", "", "", "")
    if not _RULE.match(pre):
        bullet = _BULLET.match(pre) or _BULLET.match(display)
        if bullet is not None:
            return _Line(number, "bullet", "-", clean_line(bullet.group("rest")), display)
    heading = _ROMAN_HEAD.match(display)
    if heading is not None and _ROMAN_VALID.match(heading.group("roman")):
        return _Line(number, "heading", heading.group("roman"), heading.group("rest"), display)
    numbered = _numbered(display)
    if numbered is not None:
        return _Line(number, "number", numbered[0], numbered[1], display)
    letter = _LETTER_BULLET.match(display)
    if letter is not None:
        return _Line(number, "bullet", letter.group("letter"), letter.group("rest"), display)
    recipients = _RECIPIENTS.match(display)
    if recipients is not None:
        return _Line(number, "recipients", "", recipients.group("rest"), display)
    signature = _SIGNATURE_START.match(display)
    if signature is not None and _is_upper(signature.group("rest")):
        return _Line(number, "signature", "", display, display)
    return _Line(number, "text", "", display, display)


def _is_upper(text: str) -> bool:
    """Tell whether the text has letters and all of them are capitals."""
    return any(ch.isalpha() for ch in text) and text == text.upper()


def _looks_like_name(text: str) -> bool:
    """Tell whether the line looks like a signer's name, e.g. "Nguyễn Văn Tứ"."""
    words = text.split()
    return 2 <= len(words) <= 6 and all(
        w.isalpha() and w[0].isupper() and w[1:] == w[1:].lower() for w in words
    )


# ---------------------------------------------------------------------------- units


@dataclass
class _Unit:
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


def _units(lines: list[str], per_line: bool) -> list[_Unit]:
    """Group classified lines into units; a blank line ends a unit's paragraph."""
    units: list[_Unit] = []
    current: _Unit | None = None
    after_blank = True
    for number, raw in enumerate(lines, start=1):
        line = _classify(number, raw)
        if line.kind == "blank":
            after_blank = True
            continue
        joins = line.kind == "text" and current is not None and not after_blank and not per_line
        if joins and current is not None:
            current.lines.append(line.text)
            if current.kind == "heading" and not _is_upper(line.text):
                current.paragraphs.append([line.text])
            else:
                current.paragraphs[-1].append(line.text)
        else:
            current = _Unit(
                line.kind, line.marker, number, line.display, [[line.text]], [line.text]
            )
            units.append(current)
        after_blank = False
    return units


# --------------------------------------------------------------------------- helpers


def _letters(index: int) -> str:
    """Return the bullet letter for a 0-based index: a … z, aa, ab …."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _truncate(text: str, limit: int = WARNING_TEXT_MAX) -> str:
    """Return the text cut to the limit with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


_DATE = re.compile(
    r"ngày\s+(\d{1,2})\s*(?:[/.-]|\s+tháng\s+)\s*(\d{1,2})\s*(?:[/.-]|\s+năm\s+)\s*(\d{4})",
    re.IGNORECASE,
)
_DATE_LEAD = re.compile(r"^(?:ngày\s+\d|căn\s+cứ\b)", re.IGNORECASE)


def _find_date(*texts: str) -> datetime.date | None:
    """Return the first valid "Ngày 29/6/2019"-style date in the texts."""
    for text in texts:
        for match in _DATE.finditer(text):
            day, month, year = (int(g) for g in match.groups())
            try:
                return datetime.date(year, month, day)
            except ValueError:
                continue
    return None


_DEPARTMENTS = re.compile(r"^các\s+sở(?:\s*,\s*ngành)?\s*:\s*(?P<rest>.+)$", re.IGNORECASE)


def _department_abbreviations(recipients: list[str]) -> tuple[str, ...]:
    """Return the abbreviations listed in a "Các Sở: KHĐT, VHHT, ..." recipient line."""
    found: list[str] = []
    for recipient in recipients:
        match = _DEPARTMENTS.match(recipient)
        if match is not None:
            found += [a.strip() for a in re.split(r"[,;]", match.group("rest")) if a.strip()]
    return tuple(found)


# ---------------------------------------------------------------------------- parser


@dataclass
class _Draft:
    """A node being built."""

    code: str
    kind: NodeKind
    parent: str | None
    line: int
    position: int
    paragraphs: list[str]


@dataclass
class _Parser:
    """The state machine that turns units into nodes, front matter and back matter."""

    nodes: list[_Draft] = field(default_factory=list)
    by_code: dict[str, _Draft] = field(default_factory=dict)
    child_count: dict[str | None, int] = field(default_factory=dict)
    warnings: list[NoticeWarning] = field(default_factory=list)
    front: list[_Unit] = field(default_factory=list)
    title: str = ""
    preamble: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)
    closing: str = ""
    state: str = "front"  # front, body, closing, recipients, signature
    section: _Draft | None = None
    last_roman: int = 0
    numbered_context: tuple[str | None] | None = None
    latest: dict[tuple[int, ...], str] = field(default_factory=dict)
    last_number: dict[str | None, int] = field(default_factory=dict)
    cursor: tuple[int, ...] = ()
    host: _Draft | None = None
    current: _Draft | None = None
    bullet_count: dict[str, int] = field(default_factory=dict)
    signature_closed: bool = False
    next_suffix: dict[str, int] = field(default_factory=dict)

    # -- bookkeeping

    def warn(self, unit: _Unit, reason: str) -> None:
        """Record that this unit could not be placed cleanly."""
        self.warnings.append(NoticeWarning(unit.line, _truncate(unit.display), reason))

    def unique(self, code: str) -> str:
        """Return the code, suffixed "-2", "-3" … when it is taken."""
        if code not in self.by_code:
            return code
        n = self.next_suffix.get(code, 2)
        while f"{code}-{n}" in self.by_code:
            n += 1
        self.next_suffix[code] = n + 1
        return f"{code}-{n}"

    def add(self, code: str, kind: NodeKind, parent: str | None, unit: _Unit) -> _Draft:
        """Create a node for the unit under its parent."""
        position = self.child_count.get(parent, 0)
        self.child_count[parent] = position + 1
        text = unit.text
        if text.endswith(_CLOSING):
            text = text[: -len(_CLOSING) + 1].rstrip()
            self.state = "closing"
        draft = _Draft(code, kind, parent, unit.line, position, [text] if text else [])
        self.nodes.append(draft)
        self.by_code[code] = draft
        self.current = draft
        return draft

    def tail_reason(self) -> str | None:
        """Say what the body has already ended with, if it has."""
        return {
            "closing": "the closing formula ./.",
            "recipients": "the 'Nơi nhận' list",
            "signature": "the signature",
        }.get(self.state)

    # -- dispatch

    def feed(self, unit: _Unit) -> None:
        """Place one unit according to the current state."""
        if unit.kind in ("heading", "number"):
            tail = self.tail_reason()
            if self.state == "front":
                self.finish_front()
            self.state = "body"
            if unit.kind == "heading":
                self.on_heading(unit, tail)
            else:
                self.on_number(unit, tail)
        elif unit.kind == "recipients":
            self.finish_front()
            self.state = "recipients"
            self.add_recipient(unit.paragraphs[0][0])
            for line in unit.lines[1:]:
                self.add_recipient(line)
        elif self.state == "front":
            self.on_front(unit)
        elif unit.kind == "signature":
            self.state = "signature"
            self.on_signature(unit, unit.lines)
        elif self.state == "body":
            self.on_body(unit)
        elif self.state == "closing":
            self.on_closing(unit)
        elif self.state == "recipients":
            self.on_recipients(unit)
        else:
            self.on_signature(unit, unit.lines)

    # -- front matter

    def on_front(self, unit: _Unit) -> None:
        """Keep front matter; a bullet there has no section to belong to."""
        if unit.kind == "bullet":
            if not unit.text:
                self.warn(unit, "empty bullet before any section")
                return
            self.warn(unit, "bullet before any section; kept in the preamble")
        self.front.append(unit)

    def finish_front(self) -> None:
        """Split the front matter into the title and the preamble."""
        if self.state != "front":
            return
        self.state = "body"
        units = self.front
        texts = [i for i, u in enumerate(units) if u.kind != "bullet" and u.text]
        title_at = next(
            (i for i in texts if units[i].text.casefold().startswith("thông báo")), None
        )
        if title_at is None and texts:
            first = units[texts[0]]
            if len(first.text) <= 200 and not _DATE_LEAD.match(first.text):
                title_at = texts[0]
        consumed: set[int] = set()
        rest: list[str] = []
        if title_at is not None:
            consumed.add(title_at)
            title_lines: list[str] = []
            for line in units[title_at].lines:
                if rest or len(title_lines) >= 4 or (title_lines and _DATE_LEAD.match(line)):
                    rest.append(line)
                else:
                    title_lines.append(line)
            self.title = " ".join(" ".join(title_lines).split())
            nxt = title_at + 1
            if (
                self.title.casefold().strip(" :.") == "thông báo"
                and nxt < len(units)
                and units[nxt].kind != "bullet"
                and len(units[nxt].text) <= 300
                and not _DATE_LEAD.match(units[nxt].text)
            ):
                self.title = " ".join(f"{self.title} {units[nxt].text}".split())
                consumed.add(nxt)
        paragraphs: list[str] = []
        for i, unit in enumerate(units):
            if i == title_at and rest:
                paragraphs.append(" ".join(rest))
            elif i not in consumed and unit.text:
                paragraphs.append(unit.text)
        self.preamble = paragraphs + self.preamble

    # -- body

    def on_heading(self, unit: _Unit, tail: str | None) -> None:
        """Open a new section."""
        roman = unit.marker
        value = _roman_value(roman)
        reasons: list[str] = []
        if roman in self.by_code:
            reasons.append(
                f"duplicate section heading {roman} (first on line {self.by_code[roman].line})"
            )
        elif value != self.last_roman + 1:
            reasons.append(
                f"section {roman} is out of order: expected {_to_roman(self.last_roman + 1)}"
            )
        if tail:
            reasons.append(f"section {roman} comes after {tail}")
        self.last_roman = value
        node = self.add(self.unique(roman), "section", None, unit)
        self.section = node
        self.latest = {}
        self.cursor = ()
        self.host = None
        if reasons:
            self.warn(unit, "; ".join(reasons))

    def on_number(self, unit: _Unit, tail: str | None) -> None:
        """Add a numbered paragraph under its parent number or its section."""
        label = unit.marker
        parts = tuple(int(p) for p in label.split("."))
        section = self.section.code if self.section else None
        if self.numbered_context is None:
            self.numbered_context = (section,)
        prefix = "" if self.numbered_context == (section,) or section is None else f"{section}."
        up = parts[:-1]
        up_label = ".".join(str(p) for p in up)
        reasons: list[str] = []
        key: str | None
        if up and up not in self.latest:
            parent, code, key = section, prefix + label, None
            reasons.append(f"numbered paragraph {label} has no parent {up_label}")
        else:
            parent = self.latest[up] if up else section
            code = f"{parent}.{parts[-1]}" if up else f"{prefix}{parts[-1]}"
            key = parent
            if up and self.cursor[: len(up)] != up:
                where = ".".join(str(p) for p in self.cursor)
                reasons.append(
                    f"numbered paragraph {label} comes after {where}, outside its parent {up_label}"
                )
            elif code not in self.by_code:
                expected = self.last_number.get(key, 0) + 1
                if parts[-1] != expected:
                    wanted = ".".join(str(p) for p in (*up, expected))
                    reasons.append(f"numbered paragraph {label} is out of order: expected {wanted}")
        if code in self.by_code:
            first = self.by_code[code].line
            reasons = [f"duplicate numbered paragraph {label} (first on line {first})"]
        if tail:
            reasons.append(f"numbered paragraph {label} comes after {tail}")
        node = self.add(self.unique(code), "item", parent, unit)
        if key is not None or not up:
            self.last_number[key] = parts[-1]
        self.latest[parts] = node.code
        self.cursor = parts
        self.host = node
        if reasons:
            self.warn(unit, "; ".join(reasons))

    def on_bullet(self, unit: _Unit) -> None:
        """Add a bullet as its own commitment under the current numbered paragraph."""
        host = self.host or self.section
        if not unit.text:
            self.warn(unit, "empty bullet ignored")
            return
        if host is None:
            self.warn(unit, "bullet before any section; kept in the preamble")
            self.preamble.append(unit.text)
            return
        index = self.bullet_count.get(host.code, 0)
        self.bullet_count[host.code] = index + 1
        self.add(self.unique(f"{host.code}.{_letters(index)}"), "bullet", host.code, unit)

    def on_body(self, unit: _Unit) -> None:
        """Place a bullet, a paragraph of text or the closing formula inside the body."""
        if unit.kind == "bullet":
            self.on_bullet(unit)
            return
        text = unit.text
        if text.endswith(_CLOSING):
            self.closing = text
            self.state = "closing"
        elif self.current is not None:
            self.current.paragraphs.append(text)
        else:
            self.preamble.append(text)

    # -- back matter

    def on_closing(self, unit: _Unit) -> None:
        """After "./.": accept a signature; anything else is kept with a warning."""
        if unit.kind == "text" and (_is_upper(unit.lines[0]) or _looks_like_name(unit.lines[0])):
            self.state = "signature"
            self.on_signature(unit, unit.lines)
            return
        if unit.kind == "bullet" and not unit.text:
            self.warn(unit, "empty bullet ignored")
            return
        self.warn(unit, "text after the closing formula ./.; attached to the last paragraph")
        if self.current is not None:
            self.current.paragraphs.append(unit.text)
        else:
            self.preamble.append(unit.text)

    def add_recipient(self, text: str) -> None:
        """Keep one "Nơi nhận" line without its bullet and trailing punctuation."""
        recipient = text.strip().rstrip(",;. ").strip()
        if recipient:
            self.recipients.append(recipient)

    def on_recipients(self, unit: _Unit) -> None:
        """Collect recipients until the signature block starts."""
        first = unit.lines[0]
        if unit.kind == "text" and (_is_upper(first) or _looks_like_name(first)):
            self.state = "signature"
            self.on_signature(unit, unit.lines)
        elif unit.kind == "bullet":
            self.add_recipient(unit.text.replace("\n", " "))
        else:
            for line in unit.lines:
                self.add_recipient(line)

    def on_signature(self, unit: _Unit, lines: list[str]) -> None:
        """Collect signature lines; a long line or one after the signer's name is a warning."""
        for offset, line in enumerate(lines):
            starts = _SIGNATURE_START.match(line) is not None
            if unit.kind == "bullet" or (self.signature_closed and not starts) or len(line) > 80:
                where = unit.line + offset if unit.kind != "bullet" else unit.line
                self.warnings.append(
                    NoticeWarning(where, _truncate(line), "text after the signature")
                )
                if unit.kind == "bullet":
                    return
                continue
            self.signature.append(line)
            self.signature_closed = _looks_like_name(line)

    # -- result

    def result(self) -> ParsedNotice:
        """Freeze the drafts into a ParsedNotice."""
        self.finish_front()
        first_section = next((n.line for n in self.nodes if n.kind == "section"), None)
        nodes: list[NoticeNode] = []
        for draft in self.nodes:
            text = "\n".join(p for p in draft.paragraphs if p)
            if not text:
                what = "section heading" if draft.kind == "section" else f"{draft.kind}"
                self.warnings.append(
                    NoticeWarning(draft.line, draft.code, f"{what} {draft.code} has no text")
                )
            if (
                draft.kind == "item"
                and draft.parent is None
                and first_section is not None
                and draft.line < first_section
            ):
                self.warnings.append(
                    NoticeWarning(
                        draft.line,
                        _truncate(text),
                        f"numbered paragraph {draft.code} comes before the first section",
                    )
                )
            nodes.append(
                NoticeNode(
                    code=draft.code,
                    kind=draft.kind,
                    parent_code=draft.parent,
                    title=lead_phrase(text),
                    text=text,
                    line=draft.line,
                    position=draft.position,
                )
            )
        preamble = "\n".join(p for p in self.preamble if p)
        return ParsedNotice(
            title=self.title,
            date=_find_date(preamble, self.title),
            preamble=preamble,
            nodes=tuple(nodes),
            recipients=tuple(self.recipients),
            department_abbreviations=_department_abbreviations(self.recipients),
            signature=tuple(self.signature),
            warnings=tuple(sorted(self.warnings, key=lambda w: w.line)),
            closing=self.closing,
        )


def _parse_lines(lines: list[str], per_line: bool) -> ParsedNotice:
    """Parse physical lines; with per_line every line is its own paragraph (.docx)."""
    parser = _Parser()
    for unit in _units(lines, per_line):
        parser.feed(unit)
    return parser.result()


def _split_lines(text: str) -> list[str]:
    """Split text on LF, CRLF or CR, dropping a leading BOM."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_notice(text: str) -> ParsedNotice:
    """Parse the text of a notice; never raises, problems become warnings."""
    return _safely(lambda: _parse_lines(_split_lines(text), per_line=False))


def _safely(parse: Callable[[], ParsedNotice]) -> ParsedNotice:
    """Run a parse and turn an unexpected bug into a warning rather than a crash."""
    try:
        result = parse()
    except Exception as exc:  # a bug must not take the bot down; tests assert it never happens
        warning = NoticeWarning(1, "", f"{INTERNAL_ERROR}: {type(exc).__name__}: {exc}")
        return ParsedNotice("", None, "", (), (), (), (), (warning,))
    return result


# ------------------------------------------------------------------------------ files


def _decode(path: pathlib.Path, data: bytes) -> str:
    """Decode a text file as UTF-8 (BOM ok) or BOM-marked UTF-16."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NoticeReadError(
            f"Tệp {path} không phải văn bản UTF-8 (byte lạ ở vị trí {exc.start}): hãy mở tệp "
            f"và lưu lại với mã hóa UTF-8, hoặc dùng bản .docx / {path} is not UTF-8 text "
            f"(bad byte at offset {exc.start}): save it as UTF-8 or use the .docx."
        ) from exc
    if "\x00" in text:
        raise NoticeReadError(
            f"Tệp {path} chứa dữ liệu nhị phân, không phải văn bản: hãy chọn đúng tệp thông báo "
            f"(.txt, .md hoặc .docx) / {path} holds binary data, not text: pick the notice file."
        )
    return text


def _bullet_numbering(paragraph: Any, numbering: Any) -> bool:
    """Tell whether a Word paragraph is drawn with bullet numbering."""
    style = paragraph.style
    if style is not None and str(style.name or "").casefold().startswith("list bullet"):
        return True
    num_pr = None
    ppr = paragraph._p.pPr
    if ppr is not None:
        num_pr = ppr.numPr
    while num_pr is None and style is not None:
        style_ppr = style.element.pPr
        num_pr = style_ppr.numPr if style_ppr is not None else None
        style = style.base_style
    if num_pr is None or num_pr.numId is None or numbering is None:
        return False
    num_id = num_pr.numId.val
    level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
    abstract = numbering.xpath(f'./w:num[@w:numId="{num_id}"]/w:abstractNumId/@w:val')
    if not abstract:
        return False
    formats = numbering.xpath(
        f'./w:abstractNum[@w:abstractNumId="{abstract[0]}"]/w:lvl[@w:ilvl="{level}"]'
        "/w:numFmt/@w:val"
    )
    return bool(formats) and formats[0] == "bullet"


def _docx_paragraphs(container: Any, numbering: Any, seen: set[int]) -> Iterator[str]:
    """Yield the lines of a document or table cell in order, bullets marked with "- "."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    yield from _docx_paragraphs(cell, numbering, seen)
            continue
        text = " ".join(block.text.split())
        if text and _bullet_numbering(block, numbering) and not _BULLET.match(text):
            text = f"- {text}"
        yield text


def _docx_lines(path: pathlib.Path) -> list[str]:
    """Return the paragraphs of a .docx (tables included) as lines."""
    try:
        import docx

        document = docx.Document(str(path))
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            numbering = None
        return list(_docx_paragraphs(document, numbering, set()))
    except Exception as exc:  # python-docx raises many kinds for a broken file
        raise NoticeReadError(
            f"Không mở được tệp Word {path}: tệp hỏng hoặc không phải .docx "
            f"({type(exc).__name__}). Hãy mở bằng Word và lưu lại dưới dạng .docx / "
            f"cannot open {path} as a .docx: open it in Word and save it again as .docx."
        ) from exc


def read_notice(path: pathlib.Path) -> ParsedNotice:
    """Read a notice from .txt/.md (UTF-8) or .docx; raise NoticeReadError when unreadable."""
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise NoticeReadError(
            f"Không tìm thấy tệp {path}: hãy kiểm tra lại đường dẫn / "
            f"file not found: {path}; check the path."
        )
    if path.is_dir():
        raise NoticeReadError(
            f"{path} là thư mục, không phải tệp: hãy chỉ ra tệp thông báo / "
            f"{path} is a directory; give the notice file."
        )
    if suffix not in (*TEXT_SUFFIXES, DOCX_SUFFIX):
        hint = {
            ".pdf": "hãy sao chép nội dung ra .txt hoặc lưu thành .docx / "
            "copy the text into a .txt or save it as .docx",
            ".doc": "hãy mở bằng Word và lưu lại dưới dạng .docx / "
            "open it in Word and save it as .docx",
        }.get(suffix, "hãy lưu thành .docx, .txt hoặc .md / save it as .docx, .txt or .md")
        raise NoticeReadError(
            f"Không đọc được loại tệp '{suffix or '(không có đuôi)'}' của {path}: {hint}."
        )
    if suffix == DOCX_SUFFIX:
        lines = _docx_lines(path)
        return _safely(lambda: _parse_lines(lines, per_line=True))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NoticeReadError(
            f"Không đọc được tệp {path} ({exc.strerror}): hãy kiểm tra quyền truy cập / "
            f"cannot read {path}: check permissions."
        ) from exc
    return parse_notice(_decode(path, data))
