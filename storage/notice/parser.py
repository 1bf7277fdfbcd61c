"""Parse a cooperation notice (thông báo kết luận) into a tree of commitments.

The notice arrives as a flawed plain-text copy (or a .docx): a title glued to its first line,
markdown emphasis, stray arrows, signature placeholders, non-breaking spaces, NFD text.
``parse_notice`` reads it as it is, never raises, and reports every line it cannot place as a
``NoticeWarning`` instead of dropping it.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from storage.notice.lines import (
    CLOSING,
    SIGNATURE_START,
    Unit,
    group_units,
    is_upper,
    looks_like_name,
    roman_value,
    to_roman,
)
from storage.notice.model import NodeKind, NoticeNode, NoticeWarning, ParsedNotice
from storage.notice.titles import lead_phrase

INTERNAL_ERROR = "internal parser error"
WARNING_TEXT_MAX = 120


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
    front: list[Unit] = field(default_factory=list)
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

    def warn(self, unit: Unit, reason: str) -> None:
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

    def add(self, code: str, kind: NodeKind, parent: str | None, unit: Unit) -> _Draft:
        """Create a node for the unit under its parent."""
        position = self.child_count.get(parent, 0)
        self.child_count[parent] = position + 1
        text = unit.text
        if text.endswith(CLOSING):
            text = text[: -len(CLOSING) + 1].rstrip()
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

    def feed(self, unit: Unit) -> None:
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

    def on_front(self, unit: Unit) -> None:
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

    def on_heading(self, unit: Unit, tail: str | None) -> None:
        """Open a new section."""
        roman = unit.marker
        value = roman_value(roman)
        reasons: list[str] = []
        if roman in self.by_code:
            reasons.append(
                f"duplicate section heading {roman} (first on line {self.by_code[roman].line})"
            )
        elif value != self.last_roman + 1:
            reasons.append(
                f"section {roman} is out of order: expected {to_roman(self.last_roman + 1)}"
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

    def on_number(self, unit: Unit, tail: str | None) -> None:
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

    def on_bullet(self, unit: Unit) -> None:
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

    def on_body(self, unit: Unit) -> None:
        """Place a bullet, a paragraph of text or the closing formula inside the body."""
        if unit.kind == "bullet":
            self.on_bullet(unit)
            return
        text = unit.text
        if text.endswith(CLOSING):
            self.closing = text
            self.state = "closing"
        elif self.current is not None:
            self.current.paragraphs.append(text)
        else:
            self.preamble.append(text)

    # -- back matter

    def on_closing(self, unit: Unit) -> None:
        """After "./.": accept a signature; anything else is kept with a warning."""
        if unit.kind == "text" and (is_upper(unit.lines[0]) or looks_like_name(unit.lines[0])):
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

    def on_recipients(self, unit: Unit) -> None:
        """Collect recipients until the signature block starts."""
        first = unit.lines[0]
        if unit.kind == "text" and (is_upper(first) or looks_like_name(first)):
            self.state = "signature"
            self.on_signature(unit, unit.lines)
        elif unit.kind == "bullet":
            self.add_recipient(unit.text.replace("\n", " "))
        else:
            for line in unit.lines:
                self.add_recipient(line)

    def on_signature(self, unit: Unit, lines: list[str]) -> None:
        """Collect signature lines; a long line or one after the signer's name is a warning."""
        for offset, line in enumerate(lines):
            starts = SIGNATURE_START.match(line) is not None
            if unit.kind == "bullet" or (self.signature_closed and not starts) or len(line) > 80:
                where = unit.line + offset if unit.kind != "bullet" else unit.line
                self.warnings.append(
                    NoticeWarning(where, _truncate(line), "text after the signature")
                )
                if unit.kind == "bullet":
                    return
                continue
            self.signature.append(line)
            self.signature_closed = looks_like_name(line)

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


def parse_lines(lines: list[str], *, per_line: bool) -> ParsedNotice:
    """Parse physical lines; with per_line every line is its own paragraph (.docx).

    Never raises: an unexpected bug becomes a warning rather than a crash.
    """
    try:
        parser = _Parser()
        for unit in group_units(lines, per_line):
            parser.feed(unit)
        return parser.result()
    except Exception as exc:  # a bug must not take the bot down; tests assert it never happens
        warning = NoticeWarning(1, "", f"{INTERNAL_ERROR}: {type(exc).__name__}: {exc}")
        return ParsedNotice("", None, "", (), (), (), (), (warning,))


def _split_lines(text: str) -> list[str]:
    """Split text on LF, CRLF or CR, dropping a leading BOM."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_notice(text: str) -> ParsedNotice:
    """Parse the text of a notice; never raises, problems become warnings."""
    return parse_lines(_split_lines(text), per_line=False)
