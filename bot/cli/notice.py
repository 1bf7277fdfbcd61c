"""`tiendo notice FILE [--json]`: show how a cooperation notice is read, before importing it."""

from __future__ import annotations

import argparse
import pathlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from bot.cli.context import CommandContext
    from handlers.texts import Texts
    from storage.notice.model import NoticeNode, ParsedNotice


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `notice` command with its FILE and --json arguments."""
    parser = subparsers.add_parser(
        "notice",
        help="đọc thử thông báo kết luận / parse a cooperation notice",
        description="Đọc thông báo kết luận (.txt, .md, .docx) và in cây nội dung / "
        "parse a cooperation notice and print its tree of commitments.",
    )
    parser.add_argument(
        "file",
        type=pathlib.Path,
        metavar="FILE",
        help="tệp thông báo / notice file (.txt, .md, .docx)",
    )
    parser.add_argument(
        "--json", action="store_true", help="in JSON thay cho cây / print JSON instead of the tree"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Parse the notice and print it as a tree (or JSON); 2 when the file cannot be read."""
    from storage.notice.files import NoticeReadError, read_notice

    try:
        notice = read_notice(pathlib.Path(args.file))
    except NoticeReadError as exc:
        return ctx.fail(str(exc))
    if args.json:
        ctx.json(to_json(notice))
    else:
        print_tree(ctx.console, ctx.tx, notice, pathlib.Path(args.file).name)
    return 0


def to_json(notice: ParsedNotice) -> dict[str, Any]:
    """Return the notice as plain JSON-ready data."""
    return {
        "title": notice.title,
        "date": notice.date.isoformat() if notice.date else None,
        "nodes": [
            {
                "code": n.code,
                "kind": n.kind,
                "parent": n.parent_code,
                "title": n.title,
                "text": n.text,
                "line": n.line,
            }
            for n in notice.nodes
        ],
        "recipients": list(notice.recipients),
        "warnings": [{"line": w.line, "text": w.text, "reason": w.reason} for w in notice.warnings],
    }


def _label(node: NoticeNode) -> Text:
    """Return a tree label "code  title", sections in bold."""
    from rich.text import Text

    label = Text()
    label.append(node.code, style="bold cyan" if node.kind == "section" else "cyan")
    label.append("  ")
    label.append(node.title, style="bold" if node.kind == "section" else "")
    return label


def count_line(tx: Texts, notice: ParsedNotice) -> str:
    """Return "3 phần, 17 mục, 17 ý"."""
    kinds = [n.kind for n in notice.nodes]
    sections, items, bullets = (kinds.count(k) for k in ("section", "item", "bullet"))
    return tx._(
        "{sections} phần, {items} mục, {bullets} ý", sections=sections, items=items, bullets=bullets
    )


def print_tree(console: Console, tx: Texts, notice: ParsedNotice, name: str) -> None:
    """Print the title, the tree of codes and titles, the counts and the warnings."""
    from rich.text import Text
    from rich.tree import Tree

    root = Tree(Text(notice.title or name, style="bold"))
    branches: dict[str | None, Tree] = {None: root}
    for node in notice.nodes:
        parent = branches.get(node.parent_code, root)
        branches[node.code] = parent.add(_label(node))
    console.print(root)
    if notice.date:
        console.print(
            tx._("Ngày: {date}", date=tx.date(notice.date)), markup=False, highlight=False
        )
    console.print(count_line(tx, notice), markup=False, highlight=False)
    console.print(
        tx._("Cam kết (mục lá): {count}", count=len(notice.leaves())), markup=False, highlight=False
    )
    if not notice.nodes:
        console.print(
            tx._("Không tìm thấy phần hay mục nào."), style="yellow", markup=False, highlight=False
        )
    for warning in notice.warnings:
        line = tx._(
            "Dòng {line}: {text} ({reason})",
            line=warning.line,
            text=warning.text,
            reason=warning.reason,
        )
        console.print(Text(line, style="yellow"))
