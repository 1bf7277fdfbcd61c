"""`tiendo chat`: the same conversations in a terminal, with no chat platform at all."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.cli.context import CommandContext
    from handlers.service import ConversationService


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "chat", help="trò chuyện với bot trong terminal / talk to the bot in the terminal"
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--member", type=int, help="act as this member (id from `tiendo agencies`)")
    who.add_argument("--invite", help="join with this invite code first")
    parser.set_defaults(func=run)


def service_for(ctx: CommandContext) -> ConversationService:
    from bot.app.services import make_service

    return make_service(ctx.config, ctx.database, ctx.clock)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    import asyncio
    import getpass

    from storage.models import Member
    from storage.people import link_identity

    service = service_for(ctx)
    if args.member is not None:
        external = f"member-{args.member}"
        with ctx.unit_of_work() as session:
            member = session.get(Member, args.member)
            if member is None or member.revoked_at is not None:
                return ctx.fail(
                    ctx.tx._("Không có thành viên số {id} đang hoạt động.", id=args.member)
                )
            link_identity(session, member, "cli", external, external, member.name, ctx.clock.now())
        first = "/trogiup"
    else:
        external = f"terminal-{getpass.getuser()}"
        first = f"/start {args.invite}"
    ctx.say(ctx.tx._("Gõ tin nhắn như trong Telegram/Zalo; gõ số để chọn; Ctrl-D để thoát."), "dim")
    return asyncio.run(_loop(ctx, service, external, first))


async def _loop(
    ctx: CommandContext, service: ConversationService, external: str, first: str
) -> int:
    import asyncio

    from bot.render import render_text
    from handlers.events import Inbound

    line: str | None = first
    while line is not None:
        if line.strip():
            event = Inbound("cli", external, external, text=line.strip())
            replies = await service.handle(event)
            with service.replying(replies):
                for reply in replies:
                    ctx.console.print(render_text(reply), markup=False, highlight=False)
                    if reply.file is not None:
                        path = ctx.config.data_dir / "exports" / reply.file.file_name
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes(reply.file.content)
                        ctx.say(ctx.tx._("[tệp] {path}", path=path))
        try:
            line = await asyncio.to_thread(input, "> ")
        except EOFError:
            line = None
    return 0
