"""Read a notice from a file: .txt/.md as UTF-8 (or BOM-marked UTF-16), .docx by its paragraphs."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

from storage.notice.lines import BULLET
from storage.notice.model import ParsedNotice
from storage.notice.parser import parse_lines, parse_notice

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
DOCX_SUFFIX = ".docx"


class NoticeReadError(Exception):
    """A file that cannot be read as a notice; message says what to do."""


def _decode(path: pathlib.Path, data: bytes) -> str:
    """Decode a text file as UTF-8 (BOM ok) or BOM-marked UTF-16."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NoticeReadError(
            f"Tệp {path} không phải văn bản UTF-8 (byte lạ ở vị trí {exc.start}): hãy mở tệp "
            f"và lưu lại với mã hóa UTF-8, hoặc dùng bản .docx / {path} is not UTF-8 text "
            f"(bad byte at offset {exc.start}): save it as UTF-8 or use the .docx."
        ) from exc
    if "\x00" in text:
        raise NoticeReadError(
            f"Tệp {path} chứa dữ liệu nhị phân, không phải văn bản: hãy chọn đúng tệp thông báo "
            f"(.txt, .md hoặc .docx) / {path} holds binary data, not text: pick the notice file."
        )
    return text


def _bullet_numbering(paragraph: Any, numbering: Any) -> bool:
    """Tell whether a Word paragraph is drawn with bullet numbering."""
    style = paragraph.style
    if style is not None and str(style.name or "").casefold().startswith("list bullet"):
        return True
    num_pr = None
    ppr = paragraph._p.pPr
    if ppr is not None:
        num_pr = ppr.numPr
    while num_pr is None and style is not None:
        style_ppr = style.element.pPr
        num_pr = style_ppr.numPr if style_ppr is not None else None
        style = style.base_style
    if num_pr is None or num_pr.numId is None or numbering is None:
        return False
    num_id = num_pr.numId.val
    level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
    abstract = numbering.xpath(f'./w:num[@w:numId="{num_id}"]/w:abstractNumId/@w:val')
    if not abstract:
        return False
    formats = numbering.xpath(
        f'./w:abstractNum[@w:abstractNumId="{abstract[0]}"]/w:lvl[@w:ilvl="{level}"]'
        "/w:numFmt/@w:val"
    )
    return bool(formats) and formats[0] == "bullet"


def _docx_paragraphs(container: Any, numbering: Any, seen: set[int]) -> Iterator[str]:
    """Yield the lines of a document or table cell in order, bullets marked with "- "."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    yield from _docx_paragraphs(cell, numbering, seen)
            continue
        text = " ".join(block.text.split())
        if text and _bullet_numbering(block, numbering) and not BULLET.match(text):
            text = f"- {text}"
        yield text


def _docx_lines(path: pathlib.Path) -> list[str]:
    """Return the paragraphs of a .docx (tables included) as lines."""
    try:
        import docx

        document = docx.Document(str(path))
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            numbering = None
        return list(_docx_paragraphs(document, numbering, set()))
    except Exception as exc:  # python-docx raises many kinds for a broken file
        raise NoticeReadError(
            f"Không mở được tệp Word {path}: tệp hỏng hoặc không phải .docx "
            f"({type(exc).__name__}). Hãy mở bằng Word và lưu lại dưới dạng .docx / "
            f"cannot open {path} as a .docx: open it in Word and save it again as .docx."
        ) from exc


def read_notice(path: pathlib.Path) -> ParsedNotice:
    """Read a notice from .txt/.md (UTF-8) or .docx; raise NoticeReadError when unreadable."""
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise NoticeReadError(
            f"Không tìm thấy tệp {path}: hãy kiểm tra lại đường dẫn / "
            f"file not found: {path}; check the path."
        )
    if path.is_dir():
        raise NoticeReadError(
            f"{path} là thư mục, không phải tệp: hãy chỉ ra tệp thông báo / "
            f"{path} is a directory; give the notice file."
        )
    if suffix not in (*TEXT_SUFFIXES, DOCX_SUFFIX):
        hint = {
            ".pdf": "hãy sao chép nội dung ra .txt hoặc lưu thành .docx / "
            "copy the text into a .txt or save it as .docx",
            ".doc": "hãy mở bằng Word và lưu lại dưới dạng .docx / "
            "open it in Word and save it as .docx",
        }.get(suffix, "hãy lưu thành .docx, .txt hoặc .md / save it as .docx, .txt or .md")
        raise NoticeReadError(
            f"Không đọc được loại tệp '{suffix or '(không có đuôi)'}' của {path}: {hint}."
        )
    if suffix == DOCX_SUFFIX:
        lines = _docx_lines(path)
        return parse_lines(lines, per_line=True)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NoticeReadError(
            f"Không đọc được tệp {path} ({exc.strerror}): hãy kiểm tra quyền truy cập / "
            f"cannot read {path}: check permissions."
        ) from exc
    return parse_notice(_decode(path, data))
