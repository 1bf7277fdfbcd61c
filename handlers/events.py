"""Neutral inbound events and outbound replies shared by every chat platform."""

from __future__ import annotations

from dataclasses import dataclass, replace

from storage.textfit import clean_text


@dataclass(frozen=True)
class InboundFile:
    """A photo or document an official sent; `ref` lets the adapter fetch its bytes."""

    kind: str  # "photo" | "document"
    file_name: str
    mime_type: str
    size: int | None
    ref: str


@dataclass(frozen=True)
class Inbound:
    """One thing a person did in a chat: typed text, tapped a choice, or sent a file."""

    platform: str
    user_id: str
    chat_id: str
    display_name: str = ""
    text: str | None = None
    choice: str | None = None
    file: InboundFile | None = None
    unsupported: str | None = None  # sticker, voice, … : something we cannot read
    edited: bool = False
    update_key: str | None = None  # platform's id of the update, for deduplication
    group: bool = False

    def cleaned(self) -> Inbound:
        """The event with the characters no store can hold (NUL, other control characters)
        taken out of what the person typed and named: done once, where a text comes in."""
        texts = (self.text, self.choice, self.display_name)
        kept = [clean_text(t) if t else t for t in texts]
        file = self.file
        if file is not None and clean_text(file.file_name) != file.file_name:
            file = replace(file, file_name=clean_text(file.file_name) or "tep")
        if kept == list(texts) and file is self.file:
            return self
        return replace(self, text=kept[0], choice=kept[1], display_name=kept[2] or "", file=file)

    @property
    def for_the_bot(self) -> bool:
        """In a group only commands are for the bot; in a private chat everything is."""
        return not self.group or (self.text or "").startswith("/")


@dataclass(frozen=True)
class Choice:
    """One option: `label` is shown, `data` comes back when it is chosen."""

    label: str
    data: str


@dataclass(frozen=True)
class OutFile:
    """A file to send (an export, a chart)."""

    file_name: str
    content: bytes
    mime_type: str
    photo: bool = False


@dataclass(frozen=True)
class Reply:
    """A message to show: text, rows of choices, and an optional file."""

    text: str
    choices: tuple[tuple[Choice, ...], ...] = ()
    file: OutFile | None = None
    typed_choices: bool = False  # the labels are what to type (e.g. percentages), not numbered
    details: tuple[str, ...] = ()  # one line per leading choice, describing it in full
    headings: tuple[tuple[int, str], ...] = ()  # (choice index, a line shown before it): groups
    receipt: str | None = None  # also kept in the outbox under this key until it is delivered

    def flat_choices(self) -> list[Choice]:
        return [choice for row in self.choices for choice in row]

    def listing(self, numbered: bool = False) -> list[str]:
        """The lines listed under the text: the choices' details, each group's heading before
        its first choice; numbered (no buttons), every choice has a line and its number."""
        lines = list(self.details)
        if numbered:
            lines += [c.label for c in self.flat_choices()[len(lines) :]]
        headings = dict(self.headings)
        listed: list[str] = []
        for index, line in enumerate(lines):
            if index in headings:
                listed.append(headings[index])
            listed.append(f"{index + 1}. {line}" if numbered else line)
        return listed

    def text_with_details(self) -> str:
        """The text with the choices' details listed under it (for platforms with buttons)."""
        return "\n".join([self.text, *self.listing()]) if self.details else self.text
