"""Render neutral replies as plain text, with choices as a numbered list (terminal, Zalo)."""

from __future__ import annotations

from handlers.events import Reply


def render_text(reply: Reply) -> str:
    """Text followed by the choices: numbered (with their details, when given, and the
    headings of their groups), or inline when the labels are what to type."""
    choices = reply.flat_choices()
    if not choices:
        return reply.text_with_details()
    if reply.typed_choices:
        typed = [c.label for c in choices if c.label[:1].isdigit()]
        rest = [c.label for c in choices if not c.label[:1].isdigit()]
        lines = [reply.text, " · ".join(typed)]
        if rest:
            lines.append(" · ".join(f"/huy = {label}" for label in rest[:1]))
        return "\n".join(lines)
    return "\n".join([reply.text, *reply.listing(numbered=True)])
