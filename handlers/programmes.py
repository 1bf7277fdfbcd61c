"""Which programme a person means: typed before the item (`HB 2.2.a 50%`, `/tonghop HB`), the
only one that fits, or asked; never guessed. With one programme nobody sees any of this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.core import State, StepContext, Transition
from handlers.quick import looks_like_code
from storage.chat_reader import ProgrammeView
from storage.textfit import short_text


def named(ctx: StepContext, word: str) -> ProgrammeView | None:
    """The programme whose alias or code is `word` (any case)."""
    wanted = word.strip().casefold()
    return next(
        (p for p in ctx.reader.programmes() if wanted in (p.label.casefold(), p.code.casefold())),
        None,
    )


def token_of(ctx: StepContext, text: str) -> tuple[ProgrammeView | None, str]:
    """Split a leading programme alias or code off `text`: (programme, the rest)."""
    text = text.strip()
    first, _, rest = text.partition(" ")
    if not first or looks_like_code(first) or first.startswith("/"):
        return None, text
    found = named(ctx, first)
    return (found, rest.strip()) if found is not None else (None, text)


def mine(ctx: StepContext) -> list[ProgrammeView]:
    """The programmes the member works in: their agency's (every one, for an admin)."""
    everything = ctx.reader.programmes()
    if ctx.member is not None and ctx.member.role == "admin":
        return list(everything)
    return [p for p in everything if p.takes_part]


def several(ctx: StepContext) -> bool:
    """Whether the member works in more than one programme (then items carry its alias)."""
    return len(mine(ctx)) > 1


def overseen(ctx: StepContext) -> list[ProgrammeView]:
    """The programmes whose whole picture the member sees: those their agency coordinates (a
    coordinating office), or has leadership in (a Vice-Chair); all of them for an admin."""
    role = ctx.member.role if ctx.member is not None else ""
    everything = ctx.reader.programmes()
    if role == "admin":
        return list(everything)
    if role == "coordinator":
        return [p for p in everything if p.coordinates]
    if role == "vice_chair":
        return [p for p in everything if p.leadership]
    return []


def coded(label: str | None, code: str) -> str:
    """`HB · 2.2.a` where the programme must be said, else `2.2.a`."""
    return f"{label} · {code}" if label else code


def heading(label: str, title: str) -> str:
    """The line that opens a programme's part of a list or a view: `HB — Chương trình …`."""
    return f"{label} — {short_text(title, 80)}"


def headings(ctx: StepContext, programme_ids: Sequence[int]) -> tuple[tuple[int, str], ...]:
    """A heading before the first line of each programme's run in a list."""
    titles = {p.id: heading(p.label, p.title) for p in ctx.reader.programmes()}
    return tuple(
        (index, titles.get(pid, ""))
        for index, pid in enumerate(programme_ids)
        if index == 0 or programme_ids[index - 1] != pid
    )


def ask(
    ctx: StepContext,
    then: dict[str, Any],
    options: Sequence[tuple[int, str, str]],  # (programme id, item code, item title)
) -> Transition:
    """Ask which programme an item code means, one choice per programme ("HY · 2.2.a …");
    `then` keeps what was typed (status, percent, note) for when the answer comes."""
    tx = ctx.tx
    programmes = {p.id: p for p in ctx.reader.programmes()}
    code = options[0][1]
    rows = [
        [(short_text(f"{programmes[pid].label} · {code} {title}", 48), f"pp:{pid}")]
        for pid, code, title in options
    ]
    rows.append([(tx._("Huỷ"), "x")])
    details = tuple(
        f"{programmes[pid].label} · {code} · {short_text(title, 60)} "
        f"({short_text(programmes[pid].title, 60)})"
        for pid, code, title in options
    )
    typed = f"{programmes[options[-1][0]].label} {code}"
    example = {"item": f"/muc {typed}", "correct": f"/sua {typed}"}.get(
        str(then.get("do")), f"{typed} 50%"
    )
    if then.get("do") == "item":
        question = tx._("Anh/chị muốn xem nội dung của chương trình nào?")
    else:
        question = tx._("Anh/chị báo cáo cho chương trình nào?")
    text = "\n".join(
        [
            tx._(
                "Mã {code} có trong {count} chương trình của anh/chị. {question}",
                code=code,
                count=len(options),
                question=question,
            ),
            tx._("(Lần sau có thể gõ mã chương trình trước, ví dụ: {example})", example=example),
        ]
    )
    return ctx.ask(State.PICK_PROGRAMME, {"then": then}, text, rows, details=details)
