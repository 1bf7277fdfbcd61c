"""`tiendo import | items | agencies | agency merge|rename`: load the programme, look, fix."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from bot.cli.context import CommandContext
    from storage.agencies import AgencyRow, ItemRow, ProgrammeRole
    from storage.programme.identity import ItemChange
    from storage.programme.importer import ImportResult
    from storage.programme.lookup import UnknownProgramme


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the import, items, agencies and agency commands."""
    imp = subparsers.add_parser(
        "import",
        help="nhập tệp chương trình / import the programme file",
        description="Kiểm tra rồi nhập tệp chương trình (TOML) và thông báo kèm theo / "
        "check and import a programme file and its notice.",
    )
    imp.add_argument(
        "file",
        type=Path,
        nargs="?",
        metavar="PROGRAMME.toml",
        help="tệp chương trình / programme file (default: [app] programme)",
    )
    imp.add_argument(
        "--confirm",
        action="store_true",
        help="nhập cả khi nội dung đã có báo cáo đổi mã hoặc sửa lời văn / import even when items "
        "with reports change code or text",
    )
    imp.set_defaults(func=run_import)

    items = subparsers.add_parser("items", help="cây nội dung và phân công / items and owners")
    add_programme_option(items)
    items.add_argument("--json", action="store_true", help="in JSON / print JSON")
    items.set_defaults(func=run_items)

    agencies = subparsers.add_parser("agencies", help="danh sách cơ quan / list agencies")
    add_programme_option(agencies)
    agencies.add_argument("--json", action="store_true", help="in JSON / print JSON")
    agencies.set_defaults(func=run_agencies)

    agency = subparsers.add_parser("agency", help="hợp nhất, đổi tên cơ quan / merge, rename")
    actions = agency.add_subparsers(dest="agency_action", required=True, metavar="ACTION")
    merge = actions.add_parser("merge", help="hợp nhất CŨ vào MỚI / merge OLD into NEW")
    merge.add_argument("old", metavar="OLD", help="mã cơ quan bị hợp nhất / merged agency code")
    merge.add_argument("new", metavar="NEW", help="mã cơ quan còn lại / surviving agency code")
    merge.set_defaults(func=run_merge)
    rename = actions.add_parser("rename", help="đổi tên cơ quan / rename an agency")
    rename.add_argument("code", metavar="CODE", help="mã cơ quan / agency code")
    rename.add_argument("name", metavar="NAME", help="tên mới / new name")
    rename.set_defaults(func=run_rename)


def add_programme_option(parser: argparse.ArgumentParser) -> None:
    """The --programme option every reading command takes: an alias or a code."""
    parser.add_argument(
        "--programme",
        metavar="CODE_OR_ALIAS",
        help="chỉ một chương trình (HY, ha-noi-hung-yen-2019); mặc định: tất cả / one "
        "programme by alias or code; default: every programme, each in its own section",
    )


def unknown_programme(ctx: CommandContext, exc: UnknownProgramme) -> int:
    """One red line: the programme typed is unknown, and the ones that exist."""
    from storage.programme.lookup import known_names

    tx = ctx.tx
    if not exc.known:
        return ctx.fail(tx._("Chưa nhập chương trình nào: chạy tiendo import."))
    return ctx.fail(
        tx._(
            "Không có chương trình “{typed}”. Các chương trình đã nhập: {known}.",
            typed=exc.typed,
            known=", ".join(known_names(exc.known)),
        )
    )


def run_import(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Validate the file, import it in one transaction and print what changed."""
    from storage.programme.file import ProgrammeFileError, load_programme_file
    from storage.programme.importer import (
        ImportNeedsConfirmation,
        ImportRefused,
        import_programme,
    )

    tx = ctx.tx
    path = args.file or ctx.config.resolve(ctx.config.settings.app.programme)
    try:
        spec = load_programme_file(path)
        with ctx.unit_of_work() as session:
            result = import_programme(session, spec, ctx.clock.now(), confirm=args.confirm)
    except ImportNeedsConfirmation as exc:
        ctx.console.print(
            _changes_table(
                ctx,
                tx._(
                    "Nội dung đã có báo cáo sẽ đổi mã hoặc sửa lời văn ({programme})",
                    programme=exc.programme_code,
                ),
                exc.changes,
            )
        )
        return ctx.fail(
            tx._(
                "Chưa nhập: báo cáo của {count} nội dung sẽ gắn với mã hoặc lời văn mới như trên. "
                "Đề nghị kiểm tra lại; nếu đúng, chạy lại lệnh với --confirm.",
                count=len(exc.changes),
            ),
            code=1,
        )
    except (ProgrammeFileError, ImportRefused) as exc:
        return ctx.fail(tx._("Lỗi tệp chương trình: {error}", error=str(exc)))
    print_result(ctx, result)
    return 0


def _changes_table(ctx: CommandContext, title: str, changes: Sequence[ItemChange]) -> Table:
    """Old code → new code, the old and new texts (short), and the reports that follow."""
    from rich.table import Table

    from storage.textfit import short_text

    tx = ctx.tx
    table = Table(title=title, title_justify="left")
    table.add_column(tx._("Mã cũ → mã mới"), no_wrap=True)
    table.add_column(tx._("Nội dung cũ"), ratio=1)
    table.add_column(tx._("Nội dung mới"), ratio=1)
    table.add_column(tx._("Báo cáo"), justify="right")
    for change in changes:
        table.add_row(
            f"{change.old_code} → {change.new_code}",
            short_text(change.old_text, 70),
            tx._("(không đổi)") if not change.reworded else short_text(change.new_text, 70),
            str(change.reports),
        )
    return table


def print_result(ctx: CommandContext, result: ImportResult) -> None:
    """Print the counts table, unassigned commitments and the notice's warnings."""
    from rich.table import Table

    tx = ctx.tx
    table = Table(
        title=tx._("Nhập chương trình {code}", code=result.programme_code), title_justify="left"
    )
    table.add_column("")
    for head in (tx._("mới"), tx._("cập nhật"), tx._("lưu trữ"), tx._("khôi phục")):
        table.add_column(head, justify="right")
    table.add_row(
        tx._("Nội dung"),
        str(result.items_created),
        str(result.items_updated),
        str(result.items_archived),
        str(result.items_restored),
    )
    table.add_row(
        tx._("Cơ quan"), str(result.agencies_created), str(result.agencies_updated), "–", "–"
    )
    table.add_row(
        tx._("Phân công"),
        str(result.assignments_created),
        str(result.assignments_updated),
        str(result.assignments_archived),
        "–",
    )
    ctx.console.print(table)
    if result.item_changes:
        ctx.console.print(
            _changes_table(ctx, tx._("Nội dung đổi mã hoặc sửa lời văn"), result.item_changes)
        )
    if not result.changed:
        ctx.say(tx._("Không có thay đổi."))
    if result.unassigned_items:
        ctx.say(
            tx._("Chưa có cơ quan chủ trì: {codes}", codes=", ".join(result.unassigned_items)),
            "yellow",
        )
    for warning in result.notice_warnings:
        ctx.say(
            tx._(
                "Thông báo, dòng {line}: {text} ({reason})",
                line=warning.line,
                text=warning.text,
                reason=warning.reason,
            ),
            "yellow",
        )


def _item_json(row: ItemRow) -> dict[str, Any]:
    return {
        "programme": row.programme,
        "programme_label": row.programme_label,
        "code": row.code,
        "kind": row.kind,
        "title": row.title,
        "parent": row.parent_code,
        "depth": row.depth,
        "archived": row.archived,
        "lead": list(row.lead),
        "support": list(row.support),
        "due": row.due.isoformat() if row.due else None,
    }


def _item_label(ctx: CommandContext, row: ItemRow) -> Text:
    """Return 'code  title  [lead + support]  due', archived items dimmed and marked."""
    from rich.text import Text

    tx = ctx.tx
    style = "dim" if row.archived else ""
    label = Text()
    label.append(row.code, style="bold cyan" if row.kind == "section" else "cyan")
    label.append("  " + row.title, style=style + (" bold" if row.kind == "section" else ""))
    if row.lead or row.support:
        owners = " ".join(row.lead)
        if row.support:
            owners += " + " + " ".join(row.support)
        label.append(f"  [{owners}]", style="green")
    if row.due:
        label.append("  " + tx._("hạn {due}", due=tx.date(row.due)), style="magenta")
    if row.archived:
        label.append("  " + tx._("(đã lưu trữ)"), style="yellow")
    return label


def run_items(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print the item tree with owners and due dates."""
    from rich.text import Text
    from rich.tree import Tree

    from storage.agencies import item_tree
    from storage.programme.lookup import UnknownProgramme

    tx = ctx.tx
    try:
        with ctx.unit_of_work() as session:
            rows = item_tree(session, args.programme)
    except UnknownProgramme as exc:
        return unknown_programme(ctx, exc)
    if args.json:
        ctx.json([_item_json(r) for r in rows])
        return 0
    if not rows:
        ctx.say(tx._("Chưa có nội dung; hãy chạy tiendo import."))
        return 0
    roots: dict[str, Tree] = {}
    branches: dict[tuple[str, str], Tree] = {}
    for row in rows:
        name = row.programme
        if row.programme_label != row.programme:
            name = f"{row.programme_label} ({row.programme})"
        root = roots.setdefault(row.programme, Tree(Text(name, style="bold")))
        parent = branches.get((row.programme, row.parent_code or ""), root)
        branches[(row.programme, row.code)] = parent.add(_item_label(ctx, row))
    for root in roots.values():
        ctx.console.print(root)
    ctx.say(tx._("Chú thích: [chủ trì + phối hợp]"))
    return 0


def _agency_json(row: AgencyRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "locality": row.locality_code,
        "locality_name": row.locality_name,
        "coordinates": list(row.coordinates),
        "leadership": list(row.leadership),
        "programmes": [
            {
                "programme": r.programme,
                "label": r.label,
                "coordinates": r.coordinates,
                "leadership": r.leadership,
                "lead": r.lead,
                "support": r.support,
            }
            for r in row.programmes
        ],
        "merged_into": row.merged_into,
        "archived": row.archived,
        "members": [
            {"name": m.name, "role": m.role, "platforms": list(m.platforms)} for m in row.members
        ],
    }


def run_agencies(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print the agencies with locality, their part in each programme, and members."""
    from rich.table import Table

    from storage.agencies import list_agencies
    from storage.programme.lookup import UnknownProgramme

    tx = ctx.tx
    try:
        with ctx.unit_of_work() as session:
            rows = list_agencies(session, args.programme)
    except UnknownProgramme as exc:
        return unknown_programme(ctx, exc)
    if args.json:
        ctx.json([_agency_json(r) for r in rows])
        return 0
    table = Table(title=tx._("Cơ quan"), title_justify="left")
    for head in (
        tx._("Mã"),
        tx._("Tên"),
        tx._("Địa phương"),
        tx._("Vai trò theo chương trình"),
        tx._("Thành viên"),
    ):
        table.add_column(head)
    for row in rows:
        roles = [_programme_role(ctx, r) for r in row.programmes]
        if row.merged_into:
            roles.append(tx._("đã hợp nhất vào {code}", code=row.merged_into))
        members = (
            "\n".join(
                f"{m.name} ({tx.role(m.role)}"
                + (f"; {', '.join(m.platforms)}" if m.platforms else "")
                + ")"
                for m in row.members
            )
            or "–"
        )
        table.add_row(
            row.code,
            row.name,
            row.locality_name,
            "\n".join(roles) or "–",
            members,
            style="dim" if row.archived else None,
        )
    ctx.console.print(table)
    return 0


def _programme_role(ctx: CommandContext, role: ProgrammeRole) -> str:
    """'HY: chủ trì 3, phối hợp 2; thường trực' — an agency's part in one programme."""
    tx = ctx.tx
    parts = []
    if role.lead or role.support:
        parts.append(
            tx._("chủ trì {lead}, phối hợp {support}", lead=role.lead, support=role.support)
        )
    if role.coordinates:
        parts.append(tx._("thường trực"))
    if role.leadership:
        parts.append(tx._("lãnh đạo"))
    return f"{role.label}: " + ("; ".join(parts) or tx._("tham gia"))


def run_merge(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Merge OLD into NEW and print what moved."""
    from storage.agencies import AgencyError, merge_agencies

    tx = ctx.tx
    try:
        with ctx.unit_of_work() as session:
            result = merge_agencies(session, args.old, args.new, ctx.clock.now(), "cli")
    except AgencyError as exc:
        return ctx.fail(str(exc))
    ctx.say(
        tx._(
            "Đã hợp nhất {old} vào {new}: chuyển {moved} phân công, lưu trữ {archived} phân "
            "công trùng nội dung, chuyển {members} thành viên và {invites} mã mời.",
            old=result.old_code,
            new=result.new_code,
            moved=result.assignments_moved,
            archived=result.assignments_archived,
            members=result.members_moved,
            invites=result.invites_moved,
        )
    )
    ctx.say(
        tx._(
            "Tệp chương trình vẫn nhập được; khi thuận tiện, đề nghị thay {old} bằng {new} "
            "trong tệp.",
            old=result.old_code,
            new=result.new_code,
        )
    )
    return 0


def run_rename(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Rename an agency and remind that the programme file must say the same."""
    from storage.agencies import AgencyError, rename_agency

    tx = ctx.tx
    try:
        with ctx.unit_of_work() as session:
            rename_agency(session, args.code, args.name, ctx.clock.now(), "cli")
    except AgencyError as exc:
        return ctx.fail(str(exc))
    code = args.code.strip().upper()
    ctx.say(tx._("Đã đổi tên {code}: {name}", code=code, name=" ".join(args.name.split())))
    ctx.say(
        tx._(
            "Đề nghị sửa cả tên của {code} trong tệp chương trình; nếu không, lần nhập sau "
            "sẽ đặt lại tên cũ.",
            code=code,
        ),
        "yellow",
    )
    return 0
