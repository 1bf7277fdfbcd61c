"""Item codes in their natural order (the field an item rolls up to is stored on it)."""

from __future__ import annotations

from typing import Any


def natural_key(code: str) -> tuple[Any, ...]:
    """Sort "2" before "10" and "2.5.a" after "2.5"."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.split("."))
