"""What a parsed notice is: a tree of sections, numbered paragraphs and bullets."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal

NodeKind = Literal["section", "item", "bullet"]


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

    def roll_up(self, code: str) -> tuple[str, str]:
        """Return the field and the section a node rolls up to in the tree.

        The field is its nearest numbered point (a lettered sub-point or bullet belongs to the
        point above it: 2.2.a → 2.2, 3.a → 3); the section is that point's top numbered group
        (2.2 → 2, 1.1 → 1; a point right under a roman part is its own: 3 → 3, III.1 → III.1).
        """
        by_code = {n.code: n for n in self.nodes}
        chain: list[NoticeNode] = []
        node = by_code.get(code)
        while node is not None and len(chain) < 64:
            chain.append(node)
            node = by_code.get(node.parent_code) if node.parent_code else None
        numbered = [n.code for n in chain if n.kind == "item"]
        if not numbered:
            return code, code
        return numbered[0], numbered[-1]

    def leaves(self) -> list[NoticeNode]:
        """Return the commitments: items and bullets that have no children."""
        parents = {n.parent_code for n in self.nodes}
        return [n for n in self.nodes if n.kind != "section" and n.code not in parents]
