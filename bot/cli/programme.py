"""`tiendo import | items | agencies | agency merge|rename`: load the programme, look, fix."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from storage.agencies import (
    AgencyError,
    AgencyRow,
    ItemRow,
    item_tree,
    list_agencies,
    merge_agencies,
    rename_agency,
)
from storage.programme.file import ProgrammeFileError, load_programme_file
from storage.programme.importer import ImportResult, import_programme

if TYPE_CHECKING:
    from bot.cli.context import CommandContext

ROLE_LABELS = {
    "reporter": "chuyên viên",
    "coordinator": "đầu mối",
    "vice_chair": "Phó Chủ tịch",
    "admin": "quản trị",
}


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
    imp.set_defaults(func=run_import)

    items = subparsers.add_parser("items", help="cây nội dung và phân công / items and owners")
    items.add_argument("--programme", metavar="CODE", help="chỉ một chương trình / one programme")
    items.add_argument("--json", action="store_true", help="in JSON / print JSON")
    items.set_defaults(func=run_items)

    agencies = subparsers.add_parser("agencies", help="danh sách cơ quan / list agencies")
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


def _fail(ctx: CommandContext, message: str) -> int:
    """Print one red line on stderr and return the usage-error code."""
    ctx.err.print(Text(message, style="red"), soft_wrap=True)
    return 2


def _json(ctx: CommandContext, data: Any) -> None:
    """Print JSON as it is: no markup, no wrapping."""
    ctx.console.out(json.dumps(data, ensure_ascii=False, indent=2), highlight=False)


def run_import(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Validate the file, import it in one transaction and print what changed."""
    path = args.file or ctx.config.resolve(ctx.config.settings.app.programme)
    try:
        spec = load_programme_file(path)
    except ProgrammeFileError as exc:
        return _fail(ctx, f"Lỗi tệp chương trình / programme file error: {exc}")
    with ctx.unit_of_work() as session:
        result = import_programme(session, spec, ctx.clock.now())
    print_result(ctx, result)
    return 0


def print_result(ctx: CommandContext, result: ImportResult) -> None:
    """Print the counts table, unassigned commitments and the notice's warnings."""
    table = Table(
        title=f"Nhập chương trình / import: {result.programme_code}", title_justify="left"
    )
    table.add_column("")
    for head in (
        "mới / created",
        "cập nhật / updated",
        "lưu trữ / archived",
        "khôi phục / restored",
    ):
        table.add_column(head, justify="right")
    table.add_row(
        "Nội dung / items",
        str(result.items_created),
        str(result.items_updated),
        str(result.items_archived),
        str(result.items_restored),
    )
    table.add_row(
        "Cơ quan / agencies", str(result.agencies_created), str(result.agencies_updated), "–", "–"
    )
    table.add_row(
        "Phân công / assignments",
        str(result.assignments_created),
        str(result.assignments_updated),
        str(result.assignments_archived),
        "–",
    )
    ctx.console.print(table)
    if not result.changed:
        ctx.console.print("Không có thay đổi / nothing changed")
    if result.unassigned_items:
        ctx.console.print(
            Text(
                "Chưa có cơ quan chủ trì / no lead agency: " + ", ".join(result.unassigned_items),
                style="yellow",
            )
        )
    for warning in result.notice_warnings:
        ctx.console.print(
            Text(
                f"Thông báo, dòng {warning.line} / notice, line {warning.line}: "
                f"{warning.text} ({warning.reason})",
                style="yellow",
            )
        )


def _item_json(row: ItemRow) -> dict[str, Any]:
    return {
        "programme": row.programme,
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


def _item_label(row: ItemRow) -> Text:
    """Return 'code  title  [lead; support]  due', archived items dimmed and marked."""
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
        label.append(f"  hạn / due {row.due:%d/%m/%Y}", style="magenta")
    if row.archived:
        label.append("  (đã lưu trữ / archived)", style="yellow")
    return label


def run_items(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print the item tree with owners and due dates."""
    try:
        with ctx.unit_of_work() as session:
            rows = item_tree(session, args.programme)
    except AgencyError as exc:
        return _fail(ctx, str(exc))
    if args.json:
        _json(ctx, [_item_json(r) for r in rows])
        return 0
    if not rows:
        ctx.console.print(
            "Chưa có nội dung; hãy chạy `tiendo import` / no items yet; run `tiendo import`"
        )
        return 0
    roots: dict[str, Tree] = {}
    branches: dict[tuple[str, str], Tree] = {}
    for row in rows:
        root = roots.setdefault(row.programme, Tree(Text(row.programme, style="bold")))
        parent = branches.get((row.programme, row.parent_code or ""), root)
        branches[(row.programme, row.code)] = parent.add(_item_label(row))
    for root in roots.values():
        ctx.console.print(root)
    ctx.console.print("Chú thích / legend: [chủ trì + phối hợp / lead + support]", markup=False)
    return 0


def _agency_json(row: AgencyRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "locality": row.locality_code,
        "locality_name": row.locality_name,
        "coordinates": row.coordinates,
        "leadership": row.leadership,
        "merged_into": row.merged_into,
        "archived": row.archived,
        "members": [
            {"name": m.name, "role": m.role, "platforms": list(m.platforms)} for m in row.members
        ],
    }


def run_agencies(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print the agencies with locality, roles and members."""
    with ctx.unit_of_work() as session:
        rows = list_agencies(session)
    if args.json:
        _json(ctx, [_agency_json(r) for r in rows])
        return 0
    table = Table(title="Cơ quan / agencies", title_justify="left")
    for head in (
        "Mã / code",
        "Tên / name",
        "Địa phương / locality",
        "Vai trò / role",
        "Thành viên / members",
    ):
        table.add_column(head)
    for row in rows:
        roles = []
        if row.coordinates:
            roles.append("thường trực / coordinating")
        if row.leadership:
            roles.append("lãnh đạo / leadership")
        if row.merged_into:
            roles.append(f"đã hợp nhất vào / merged into {row.merged_into}")
        members = (
            "\n".join(
                f"{m.name} ({ROLE_LABELS.get(m.role, m.role)}"
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


def run_merge(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Merge OLD into NEW and print what moved."""
    try:
        with ctx.unit_of_work() as session:
            result = merge_agencies(session, args.old, args.new, ctx.clock.now(), "cli")
    except AgencyError as exc:
        return _fail(ctx, str(exc))
    ctx.console.print(
        f"Đã hợp nhất {result.old_code} vào {result.new_code} / merged {result.old_code} into "
        f"{result.new_code}: {result.assignments_moved} phân công chuyển / assignments moved, "
        f"{result.assignments_archived} lưu trữ / archived (trùng mục / same item), "
        f"{result.members_moved} thành viên / members, {result.invites_moved} mã mời / invites.",
        markup=False,
    )
    ctx.console.print(
        f"Tệp chương trình vẫn nhập được; nên thay {result.old_code} bằng "
        f"{result.new_code} trong tệp / the programme file still imports; replace "
        f"{result.old_code} with {result.new_code} in it when convenient.",
        markup=False,
    )
    return 0


def run_rename(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Rename an agency and remind that the programme file must say the same."""
    try:
        with ctx.unit_of_work() as session:
            rename_agency(session, args.code, args.name, ctx.clock.now(), "cli")
    except AgencyError as exc:
        return _fail(ctx, str(exc))
    code = args.code.strip().upper()
    ctx.console.print(
        f"Đã đổi tên {code} / renamed {code}: {' '.join(args.name.split())}", markup=False
    )
    ctx.console.print(
        Text(
            f"Hãy sửa cả name của {code} trong tệp chương trình, nếu không lần nhập sau sẽ đặt lại "
            f"tên cũ / also change the name of {code} in the programme file, or the next import "
            "puts the old name back.",
            style="yellow",
        )
    )
    return 0
