"""Properties of parse_notice on arbitrary and notice-like text: it never fails and stays a tree."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storage.notice.model import ParsedNotice
from storage.notice.parser import INTERNAL_ERROR, parse_notice

FRAGMENTS = [
    "I.",
    "II.",
    "III.",
    "IV.",
    "V)",
    "XL.",
    "**II. NỘI DUNG**",
    "## III. TỔ CHỨC",
    "I",
    "IV",
    "1.",
    "1.1.",
    "1.1",
    "2.9.",
    "2.10.",
    "5.3.",
    "2)",
    "0.",
    "1.000",
    "3.5 ",
    "999.999.",
    "- ",
    "-",
    "– ",
    "• ",
    "+ ",
    "* ",
    "a) ",
    "---",
    "—",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    " ",
    "\u00a0",
    "\t",
    "\ufeff",
    "\u200b",
    "./.",
    ":",
    ";",
    ".",
    "“",
    "”",
    "(",
    ")",
    "[",
    "]",
    "*",
    "**",
    "*[Chữ ký]*",
    "[Chữ ký]",
    "↓",
    "THÔNG BÁO",
    "Ngày 29/6/2019",
    "ngày 31 tháng 2 năm 2019",
    "Nơi nhận:",
    "Các Sở: KHĐT, XD,",
    "T/L BAN THƯỜNG VỤ",
    "CHÁNH VĂN PHÒNG",
    "Nguyễn Văn Tứ",
    "Hung Yên",
    "QL.38B",
    "TP. Hà Nội",
    "Lĩnh vực giao thông",
    "Về lĩnh vực nông nghiệp",
    "e\u0302\u0301",
    "\\-",
    "#",
]

notice_like = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=60).map("".join)
any_text = st.text() | notice_like


def check_tree(parsed: ParsedNotice, text: str) -> None:
    """Assert the invariants every parse keeps."""
    assert not any(INTERNAL_ERROR in w.reason for w in parsed.warnings)
    codes = [n.code for n in parsed.nodes]
    assert len(codes) == len(set(codes))
    index = {code: i for i, code in enumerate(codes)}
    positions: dict[str | None, int] = {}
    for i, node in enumerate(parsed.nodes):
        if node.parent_code is not None:
            assert index.get(node.parent_code, i) < i, node
        assert node.position == positions.get(node.parent_code, 0)
        positions[node.parent_code] = node.position + 1
        assert node.title and len(node.title) <= 80
        assert node.line >= 1
    line_count = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    for warning in parsed.warnings:
        assert 1 <= warning.line <= line_count
        assert len(warning.text) <= 120 and warning.reason
    for leaf in parsed.leaves():
        assert leaf.kind != "section" and not parsed.children(leaf.code)


@given(any_text)
def test_parse_never_raises_and_keeps_a_tree(text: str) -> None:
    check_tree(parse_notice(text), text)


@given(notice_like)
def test_parse_is_deterministic(text: str) -> None:
    assert parse_notice(text) == parse_notice(text)


@given(
    st.lists(
        st.sampled_from(["I. A", "II. B", "1. x", "1.1. y", "2. z", "- b", "text"]), max_size=30
    )
)
def test_every_structured_line_is_a_node_or_a_warning(lines: list[str]) -> None:
    parsed = parse_notice("\n".join(lines))
    placed = {n.line for n in parsed.nodes} | {w.line for w in parsed.warnings}
    for number, line in enumerate(lines, start=1):
        if line != "text":
            assert number in placed, (number, line)
