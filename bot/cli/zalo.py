"""`tiendo zalo webhook set|delete|info`: manage the Zalo webhook explicitly."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.cli.context import CommandContext


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("zalo", help="Zalo Bot API")
    groups = parser.add_subparsers(dest="zalo_group", required=True, metavar="GROUP")
    webhook = groups.add_parser("webhook", help="webhook Zalo")
    actions = webhook.add_subparsers(dest="zalo_action", required=True, metavar="ACTION")
    setter = actions.add_parser("set", help="đặt webhook / set the webhook ([zalo.webhook] url)")
    setter.add_argument("--url", default=None, help="override [zalo.webhook] url")
    setter.set_defaults(func=run)
    actions.add_parser("delete", help="xoá webhook / delete it").set_defaults(func=run)
    actions.add_parser("info", help="xem webhook / show it").set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    import asyncio

    from bot.config import ConfigError

    config = ctx.config
    if not config.zalo_token:
        raise ConfigError(ctx.tx._("Chưa đặt biến môi trường TIENDO_ZALO_TOKEN."))
    return asyncio.run(_run(args, ctx))


async def _run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from bot.config import ConfigError
    from bot.logs import protect
    from bot.zalo.api import ZaloApiError, ZaloBotApi

    config = ctx.config
    protect(*config.secrets())
    assert config.zalo_token is not None
    async with ZaloBotApi(config.zalo_token, base_url=config.settings.zalo.base_url) as api:
        try:
            result: dict[str, Any]
            if args.zalo_action == "set":
                url = args.url or config.settings.zalo.webhook.url
                if not url:
                    raise ConfigError(
                        ctx.tx._("[zalo.webhook] url đang trống; đề nghị điền hoặc dùng --url.")
                    )
                if not config.zalo_webhook_secret:
                    raise ConfigError(
                        ctx.tx._(
                            "Chưa đặt biến môi trường TIENDO_ZALO_WEBHOOK_SECRET (8–256 ký tự)."
                        )
                    )
                result = await api.set_webhook(url, config.zalo_webhook_secret)
            elif args.zalo_action == "delete":
                result = await api.delete_webhook()
            else:
                result = await api.get_webhook_info()
        except (ZaloApiError, ValueError) as exc:
            return ctx.fail(str(exc))
    ctx.json(result)
    return 0
