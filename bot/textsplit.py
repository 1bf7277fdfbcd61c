"""Split long texts on line boundaries to fit a platform's message limit."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Cut `text` into parts of at most `limit` characters, preferring line breaks."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:cut])
            line = line[cut:].lstrip(" ")
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current.strip() or not parts:
        parts.append(current)
    return [p.rstrip("\n") or "…" for p in parts]
