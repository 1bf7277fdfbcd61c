"""Who may use a command, said the same way in /trogiup and in every refusal."""

from __future__ import annotations

from collections.abc import Collection

from handlers.core import StepContext, Transition
from handlers.events import Reply
from handlers.texts import Texts

# The order roles are named in ("dành cho chuyên viên, cơ quan đầu mối và …"); an admin may do
# everything and is never named.
NAMED_ROLES = ("reporter", "coordinator", "vice_chair")


def who_may(tx: Texts, roles: Collection[str]) -> str:
    """`cơ quan đầu mối và Phó Chủ tịch UBND`: the roles that may, in the reader's words."""
    names = [tx.role(role) for role in NAMED_ROLES if role in roles]
    if len(names) < 2:
        return "".join(names) or tx.role("admin")
    return tx._("{some} và {last}", some=", ".join(names[:-1]), last=names[-1])


def refuse(ctx: StepContext, roles: Collection[str]) -> Transition | None:
    """Say no politely, naming who may, when the member's role is not among `roles`."""
    assert ctx.member is not None
    if ctx.member.role in roles:
        return None
    return ctx.stay(
        Reply(
            ctx.tx._(
                "Lệnh này dành cho {who}; tài khoản của anh/chị ({role}) không dùng được. "
                "Gõ /trogiup để xem các lệnh của mình.",
                who=who_may(ctx.tx, roles),
                role=ctx.tx.role(ctx.member.role),
            )
        )
    )
