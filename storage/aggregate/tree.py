"""The items of a programme in document order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class ItemLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def parent_id(self) -> int | None: ...
    @property
    def code(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def position(self) -> int: ...


def tree_order(items: Iterable[ItemLike]) -> dict[int, int]:
    """Number items in document order: depth first, siblings by position."""
    items = list(items)
    known = {i.id for i in items}
    children: dict[int | None, list[ItemLike]] = {}
    for item in items:
        parent = item.parent_id if item.parent_id in known else None
        children.setdefault(parent, []).append(item)
    order: dict[int, int] = {}
    stack = sorted(children.get(None, []), key=lambda i: (i.position, i.id), reverse=True)
    while stack:
        item = stack.pop()
        order[item.id] = len(order)
        stack.extend(
            sorted(children.get(item.id, []), key=lambda i: (i.position, i.id), reverse=True)
        )
    return order
