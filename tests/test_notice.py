"""The notice parser against the real 2019 Hà Nội – Hưng Yên notice, its variants and bad files."""

from __future__ import annotations

import argparse
import datetime
import io
import json
import re
import unicodedata
from pathlib import Path

import pytest
from docx import Document
from rich.console import Console

from bot.cli import notice as notice_command
from bot.cli.context import CommandContext
from handlers.texts import Texts
from storage.notice.files import NoticeReadError, read_notice
from storage.notice.model import ParsedNotice
from storage.notice.parser import parse_notice
from storage.notice.titles import lead_phrase

SEED_NAME = "ha-noi-hung-yen-2019-notice.txt"
SEED = Path(__file__).resolve().parents[1] / "programmes" / SEED_NAME  # the repo copy, if any
if not SEED.exists():
    SEED = Path("/work/shared/seed") / SEED_NAME

TITLE = (
    "THÔNG BÁO Kết luận Hội nghị giữa Ban Thường vụ Thành ủy Hà Nội "
    "và Ban Thường vụ Tỉnh ủy Hưng Yên"
)
SECTIONS = {"I": None, "II": None, "III": None}
ITEMS = {
    "1": "II",
    "1.1": "1",
    "1.2": "1",
    "1.3": "1",
    "2": "II",
    **{f"2.{i}": "2" for i in range(1, 10)},
    "III.1": "III",
    "III.2": "III",
    "III.3": "III",
}
BULLETS = {
    f"{parent}.{letter}": parent
    for parent, count in (("2.2", 4), ("2.4", 3), ("2.6", 5), ("2.7", 2), ("2.9", 3))
    for letter in "abcde"[:count]
}
EXPECTED = {
    **{c: ("section", p) for c, p in SECTIONS.items()},
    **{c: ("item", p) for c, p in ITEMS.items()},
    **{c: ("bullet", p) for c, p in BULLETS.items()},
}
DEPARTMENTS = ("KHĐT", "VHHT", "GTVT", "XD", "NN&PTNT", "TNMT", "LĐT&XH", "DL", "Y tế", "GD&ĐT")


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def notice(seed_text: str) -> ParsedNotice:
    return parse_notice(seed_text)


def shape(parsed: ParsedNotice) -> list[tuple[str, str, str | None, int]]:
    """The tree as (code, kind, parent, position) in document order."""
    return [(n.code, n.kind, n.parent_code, n.position) for n in parsed.nodes]


def every_string(parsed: ParsedNotice) -> str:
    """All the text a user could ever see from the parse, joined."""
    parts = [parsed.title, parsed.preamble, *parsed.recipients, *parsed.signature]
    for node in parsed.nodes:
        parts += [node.title, node.text]
    return "\n".join(parts)


# --------------------------------------------------------------------------- the real notice


def test_real_notice_has_exactly_the_expected_codes_kinds_and_parents(notice: ParsedNotice) -> None:
    codes = [n.code for n in notice.nodes]
    assert len(codes) == len(set(codes))
    assert {n.code: (n.kind, n.parent_code) for n in notice.nodes} == EXPECTED
    assert notice.warnings == ()


def test_real_notice_nodes_come_parents_first_and_in_document_order(notice: ParsedNotice) -> None:
    seen: set[str | None] = {None}
    lines = [n.line for n in notice.nodes]
    assert lines == sorted(lines)
    for node in notice.nodes:
        assert node.parent_code in seen
        seen.add(node.code)
    assert [n.code for n in notice.children("2.6")] == [f"2.6.{x}" for x in "abcde"]
    assert [n.position for n in notice.children("2")] == list(range(9))
    assert notice.node("2.2.b") is not None and notice.node("2.2.b").line == 36
    assert notice.node("III.3") is not None and notice.node("III.3").line == 89


def test_real_notice_titles_are_short_lead_phrases(notice: ParsedNotice) -> None:
    titles = {n.code: n.title for n in notice.nodes}
    assert titles["I"] == "PHƯƠNG HƯỚNG HỢP TÁC"
    assert titles["1"] == "Công tác xây dựng Đảng, hệ thống chính trị"
    assert titles["2.1"] == "Về quản lý nhà nước"
    assert titles["2.2"] == "Về lĩnh vực nông nghiệp"
    assert titles["2.5"] == "Lĩnh vực giao thông"
    assert titles["2.4.c"] == (
        "Hợp tác, hỗ trợ Hưng Yên xây dựng các tour du lịch kết nối Hà Nội - Hưng Yên"
    )
    assert titles["III.3"].endswith("…") and len(titles["III.3"]) <= 80
    assert all(0 < len(t) <= 80 for t in titles.values())


def test_real_notice_text_is_clean_and_complete(notice: ParsedNotice) -> None:
    everything = every_string(notice)
    for junk in ("↓", "Chữ ký", "**", "\u00a0", "  "):
        assert junk not in everything
    bus = notice.node("2.5")
    assert bus is not None
    assert bus.text.startswith("Lĩnh vực giao thông: Chỉ đạo các cơ quan chuyên môn")
    assert "QL.38B - Ngã tư Chợ Gạo - QL.39 - Dân Tiến - ĐT.379" in bus.text
    assert "Bến xe Giáp Bát”" in bus.text
    assert bus.text.endswith("phục vụ khu Đại học Phố Hiến.")
    wastewater = notice.node("2.6.a")
    assert wastewater is not None and wastewater.text.endswith("của từng địa phương.")
    section_one = notice.node("I")
    assert section_one is not None and "Hai địa phương tăng cường" in section_one.text


def test_real_notice_front_and_back_matter(notice: ParsedNotice) -> None:
    assert notice.title == TITLE
    assert notice.date == datetime.date(2019, 6, 29)
    assert notice.preamble.startswith("Ngày 29/6/2019, Ban Thường vụ Thành ủy Hà Nội")
    assert "Hung Yên, Hà Nội đều nằm" in notice.preamble  # the source's typo is kept
    assert notice.preamble.endswith("cụ thể như sau:")
    assert notice.department_abbreviations == DEPARTMENTS
    assert notice.recipients[0] == "Ban Bí thư TW Đảng (để b/c)"
    assert notice.recipients[-1] == "Lưu VPTU"
    assert len(notice.recipients) == 9
    assert notice.signature == ("T/L BAN THƯỜNG VỤ", "CHÁNH VĂN PHÒNG", "Nguyễn Văn Tứ")
    assert notice.closing.endswith("tổ chức thực hiện./.")


def test_real_notice_leaves_are_the_commitments(notice: ParsedNotice) -> None:
    leaves = {n.code for n in notice.leaves()}
    assert leaves == (
        {"1.1", "1.2", "1.3", "2.1", "2.3", "2.5", "2.8", "III.1", "III.2", "III.3"} | set(BULLETS)
    )


def test_nfd_crlf_and_bom_input_give_the_same_tree(seed_text: str, notice: ParsedNotice) -> None:
    variants = [
        unicodedata.normalize("NFD", seed_text),
        seed_text.replace("\n", "\r\n"),
        "\ufeff" + unicodedata.normalize("NFD", seed_text).replace("\n", "\r\n"),
    ]
    for text in variants:
        assert text != seed_text
        assert parse_notice(text) == notice


def test_markdown_copy_gives_the_same_codes(seed_text: str, notice: ParsedNotice) -> None:
    lines = []
    for line in seed_text.splitlines():
        if re.match(r"^[IVX]+\. ", line):
            line = f"## **{line}**"
        elif re.match(r"^\d+(\.\d+)*\. ", line):
            number, rest = line.split(" ", 1)
            line = f"**{number}** {rest}"
        lines.append(line)
    parsed = parse_notice("\n".join(lines))
    assert shape(parsed) == shape(notice)
    assert parsed.node("II") is not None and parsed.node("II").title == "NỘI DUNG HỢP TÁC"
    assert parsed.warnings == ()


# ----------------------------------------------------------------------------------- files


def write_docx(seed_text: str, path: Path) -> None:
    """Write the seed as Word would: headings, plain numbered paragraphs, list bullets, a table."""
    document = Document()
    bullet_num_id = document.styles["List Bullet"].element.pPr.numPr.numId.val
    document.add_heading("THÔNG BÁO", level=0)
    document.add_paragraph(TITLE.removeprefix("THÔNG BÁO "))
    for line in seed_text.splitlines()[5:]:
        line = line.strip()
        if line.startswith("- ") and line.startswith("- Tăng cường phối hợp tuần tra"):
            paragraph = document.add_paragraph(line[2:], style="List Paragraph")
            num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
            num_pr.get_or_add_ilvl().val = 0
            num_pr.get_or_add_numId().val = bullet_num_id
        elif line.startswith("- "):
            document.add_paragraph(line[2:], style="List Bullet")
        elif re.match(r"^[IVX]+\. ", line):
            document.add_heading(line, level=1)
        elif line.startswith("2.8. "):
            document.add_table(rows=1, cols=1).cell(0, 0).text = line
        else:
            document.add_paragraph(line)
    document.save(str(path))


def test_docx_gives_the_same_codes(tmp_path: Path, seed_text: str, notice: ParsedNotice) -> None:
    path = tmp_path / "thong-bao.docx"
    write_docx(seed_text, path)
    parsed = read_notice(path)
    assert shape(parsed) == shape(notice)
    assert parsed.title == TITLE
    assert parsed.date == datetime.date(2019, 6, 29)
    in_table = parsed.node("2.8")
    assert in_table is not None and in_table.title == "Về đảm bảo an sinh xã hội"
    assert parsed.node("2.9.c") is not None
    assert parsed.node("2.9.c").text.startswith("Tăng cường phối hợp tuần tra")
    assert parsed.department_abbreviations == DEPARTMENTS
    assert parsed.warnings == ()


def test_text_and_markdown_files_are_read_with_bom_and_crlf(
    tmp_path: Path, seed_text: str, notice: ParsedNotice
) -> None:
    for name in ("notice.txt", "notice.md"):
        path = tmp_path / name
        path.write_bytes(b"\xef\xbb\xbf" + seed_text.replace("\n", "\r\n").encode())
        assert read_notice(path) == notice


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.txt", None, "Không tìm thấy"),
        ("garbage.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xc3\x28\x80\x81", "UTF-8"),
        ("nuls.txt", b"abc\x00\x00def", "nhị phân"),
        ("broken.docx", b"PK\x03\x04 this is not a zip archive", "Word"),
        ("notice.pdf", b"%PDF-1.4\n", ".pdf"),
        ("notice.doc", b"\xd0\xcf\x11\xe0", ".docx"),
    ],
)
def test_unreadable_files_raise_a_message_naming_the_file(
    tmp_path: Path, name: str, content: bytes | None, words: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(NoticeReadError) as caught:
        read_notice(path)
    assert str(path) in str(caught.value)
    assert words in str(caught.value)


# -------------------------------------------------------------------------- flawed notices

CRAFTED = """THÔNG BÁO thử nghiệm

- Ý lạc trước phần nào
I. NỘI DUNG
1. Mục một
1.1. Ý một
5.3. Mục không có mục cha
2. Mục hai
- gạch đầu dòng của mục hai
2. Mục hai lặp lại
3. Mục ba./.
Nơi nhận:
- Sở KHĐT,
T/M BAN THƯỜNG VỤ
Nguyễn Văn A
Một đoạn văn lạc sau chữ ký.
"""


def test_flawed_notice_warns_with_line_numbers_and_keeps_everything() -> None:
    parsed = parse_notice(CRAFTED)
    warnings = {w.line: w for w in parsed.warnings}
    assert sorted(warnings) == [3, 7, 10, 16]
    assert "bullet before any section" in warnings[3].reason
    assert warnings[7].reason == "numbered paragraph 5.3 has no parent 5"
    assert warnings[7].text == "5.3. Mục không có mục cha"
    assert "duplicate numbered paragraph 2" in warnings[10].reason
    assert warnings[16].reason == "text after the signature"
    assert "Ý lạc trước phần nào" in parsed.preamble
    assert parsed.node("5.3") is not None and parsed.node("5.3").parent_code == "I"
    assert parsed.node("2-2") is not None and parsed.node("2-2").text == "Mục hai lặp lại"
    assert parsed.node("2.a") is not None and parsed.node("2.a").parent_code == "2"
    assert parsed.node("3") is not None and parsed.node("3").text == "Mục ba."
    assert parsed.recipients == ("Sở KHĐT",)
    assert parsed.signature == ("T/M BAN THƯỜNG VỤ", "Nguyễn Văn A")


def test_out_of_order_and_orphan_numbers_are_warned() -> None:
    parsed = parse_notice("I. A\n1. một\n1.1 con\n3. ba\n1.2. cháu lạc\nII. B\nIV. D\n")
    reasons = {w.line: w.reason for w in parsed.warnings}
    assert reasons == {
        4: "numbered paragraph 3 is out of order: expected 2",
        5: "numbered paragraph 1.2 comes after 3, outside its parent 1",
        7: "section IV is out of order: expected III",
    }
    assert parsed.node("1.2") is not None and parsed.node("1.2").parent_code == "1"
    assert parsed.node("II.a") is None and parsed.node("IV") is not None


def test_later_sections_prefix_codes_and_bullets_get_letters() -> None:
    bullets = "\n".join(f"- việc {i}" for i in range(28))
    parsed = parse_notice(
        f"I. MỞ ĐẦU\n{bullets}\nII. NỘI DUNG\n1. Một\n2) Hai\nIII. THỰC HIỆN\n1. Ba"
    )
    codes = [n.code for n in parsed.nodes]
    assert codes[:3] == ["I", "I.a", "I.b"]
    assert "I.z" in codes and "I.aa" in codes and "I.ab" in codes
    assert codes[-5:] == ["II", "1", "2", "III", "III.1"]
    assert parsed.warnings == ()


def test_lead_phrase_rules() -> None:
    assert lead_phrase("Về lĩnh vực nông nghiệp:") == "Về lĩnh vực nông nghiệp"
    assert lead_phrase("Nâng cấp QL.38B và ĐT.379. Sau đó") == "Nâng cấp QL.38B và ĐT.379"
    assert lead_phrase("Họp lúc 8:30 tại TP. Hà Nội; rồi") == "Họp lúc 8:30 tại TP. Hà Nội"
    long = lead_phrase("một " * 40)
    assert long.endswith("…") and len(long) <= 80 and not long.endswith(" …")
    assert lead_phrase("") == "(không có nội dung)"


# ----------------------------------------------------------------------------- the command


def run_command(argv: list[str], console: Console) -> int:
    parser = argparse.ArgumentParser()
    notice_command.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    ctx = CommandContext(None, console=console)
    ctx.err, ctx.tx = console, Texts("vi")
    return int(args.func(args, ctx))


def test_command_prints_the_tree_counts_and_no_warnings(tmp_path: Path) -> None:
    console = Console(record=True, width=200, file=io.StringIO())
    assert run_command(["notice", str(SEED)], console) == 0
    out = console.export_text()
    assert out.splitlines()[0] == TITLE
    assert "3 phần, 17 mục, 17 ý" in out
    assert "2.5  Lĩnh vực giao thông" in out
    assert "III.3" in out and "Ngày: 29/06/2019" in out
    assert "Dòng" not in out


def test_command_prints_warnings_in_yellow(tmp_path: Path) -> None:
    path = tmp_path / "flawed.txt"
    path.write_text(CRAFTED, encoding="utf-8")
    console = Console(
        record=True, width=200, file=io.StringIO(), force_terminal=True, color_system="standard"
    )
    assert run_command(["notice", str(path)], console) == 0
    plain = console.export_text(clear=False)
    assert "Dòng 7: 5.3. Mục không có mục cha (numbered paragraph 5.3 has no parent 5)" in plain
    yellow = [ln for ln in console.export_text(styles=True).splitlines() if "\x1b[33m" in ln]
    assert len(yellow) == 4


def test_command_json_output(tmp_path: Path) -> None:
    console = Console(record=True, width=80, file=io.StringIO())
    assert run_command(["notice", str(SEED), "--json"], console) == 0
    out = console.export_text()
    data = json.loads(out)
    assert data["title"] == TITLE and data["date"] == "2019-06-29"
    assert "Bến xe Giáp Bát" in out  # ensure_ascii=False
    node = next(n for n in data["nodes"] if n["code"] == "2.2.b")
    assert node["kind"] == "bullet" and node["parent"] == "2.2" and node["line"] == 36
    assert data["recipients"][-1] == "Lưu VPTU" and data["warnings"] == []
    assert set(node) == {"code", "kind", "parent", "title", "text", "line"}


def test_command_reports_an_unreadable_file_and_exits_2(tmp_path: Path) -> None:
    console = Console(record=True, width=300, file=io.StringIO())
    path = tmp_path / "notice.pdf"
    path.write_bytes(b"%PDF-1.4")
    assert run_command(["notice", str(path)], console) == 2
    assert str(path) in console.export_text()
