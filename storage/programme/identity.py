"""Which stored item each node of a re-imported notice is, so reports stay with their text.

Bullets are lettered by position: a bullet inserted in the middle of 2.2 renames every later
one (2.2.c becomes 2.2.d). Matching by code alone would then hand 2.2.c's reports to a
different commitment. Items are matched by what they say first, and by code only after:

1. the same text (whitespace aside), when that text names one node and one stored item;
2. the same code with a similar text (a commitment edited in place);
3. a similar text under another code (moved and edited), the closest pairs first;
4. the same code, whatever the text (the notice's wording of that point changed).

What is left is new (a node) or gone (an item, archived by the import).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from storage.notice.model import NoticeNode

EDITED = 0.6  # same code, this similar: the same commitment reworded
MOVED = 0.75  # another code, this similar: the same commitment moved and reworded


@dataclass(frozen=True)
class StoredItem:
    """What matching needs of an item already in the store."""

    id: int
    code: str
    text: str


@dataclass(frozen=True)
class ItemChange:
    """A stored item that a re-import gives another code or another text."""

    old_code: str
    new_code: str
    old_text: str
    new_text: str
    reports: int  # reports filed on the item's assignments, which stay with it

    @property
    def recoded(self) -> bool:
        return self.old_code != self.new_code

    @property
    def reworded(self) -> bool:
        return _plain(self.old_text) != _plain(self.new_text)

    @property
    def moves_reports(self) -> bool:
        """Reports filed under one code or text would be read under another."""
        return self.reports > 0 and (self.recoded or self.reworded)


def _plain(text: str) -> str:
    return " ".join(text.split())


def _similarity(a: str, b: str) -> float:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < EDITED or matcher.quick_ratio() < EDITED:
        return 0.0
    return matcher.ratio()


def match_items(stored: Sequence[StoredItem], nodes: Sequence[NoticeNode]) -> dict[str, int]:
    """Return {node code: stored item id} for every node that is a stored item."""
    matched: dict[str, int] = {}
    free = {item.id: item for item in stored}
    texts = {item.id: _plain(item.text) for item in stored}
    node_texts = {node.code: _plain(node.text) for node in nodes}

    def take(code: str, item_id: int) -> None:
        matched[code] = item_id
        del free[item_id]

    # 1. The same text, where it is unambiguous on both sides.
    stored_count = Counter(texts.values())
    node_count = Counter(node_texts.values())
    by_text = {texts[i]: i for i in free if stored_count[texts[i]] == 1}
    for node in nodes:
        text = node_texts[node.code]
        if text and node_count[text] == 1 and text in by_text:
            take(node.code, by_text[text])

    def left() -> list[NoticeNode]:
        return [n for n in nodes if n.code not in matched]

    # 2. The same code, reworded a little.
    by_code = _by_code(free)
    for node in left():
        item_id = by_code.get(node.code)
        if item_id in free and _similarity(texts[item_id], node_texts[node.code]) >= EDITED:
            take(node.code, item_id)

    # 3. Moved and reworded: the closest remaining pairs first.
    pairs = sorted(
        (
            (score, node.code, item_id)
            for node in left()
            for item_id in free
            if (score := _similarity(texts[item_id], node_texts[node.code])) >= MOVED
        ),
        reverse=True,
    )
    for _, code, item_id in pairs:
        if code not in matched and item_id in free:
            take(code, item_id)

    # 4. The same code, whatever it says now.
    by_code = _by_code(free)
    for node in left():
        item_id = by_code.get(node.code)
        if item_id in free:
            take(node.code, item_id)
    return matched


def _by_code(free: Mapping[int, StoredItem]) -> dict[str, int]:
    """The free items by code; where an archived copy shares a code, the newest row wins."""
    found: dict[str, int] = {}
    for item_id in sorted(free):
        found[free[item_id].code] = item_id
    return found
