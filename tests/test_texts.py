"""English readers get every text translated and well-formed; Vietnamese keeps its diacritics."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from string import Formatter

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from handlers.texts import LOCALE_DIR, Texts
from storage.textfit import short_text

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("handlers", "scheduler", "bot", "storage")
PO_PATH = LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po"
HOW_TO_FIX = f"run `make messages`, then translate the empty or fuzzy entries in {PO_PATH}"

# Texts that are bilingual by design, so their English form keeps some Vietnamese.
BILINGUAL = {
    "/ngonngu — đổi ngôn ngữ (Tiếng Việt / English)",
    "Chọn ngôn ngữ / Choose a language:",
}

# Common Vietnamese words and phrases as they look when typed without diacritics.
UNACCENTED = (
    "khong",
    "duoc",
    "nguoi",
    "nhung",
    "hoac",
    "viec",
    "tien do",
    "bao cao",
    "cac",
    "mot",
    "nhiem vu",
    "noi dung",
    "co quan",
    "hoan thanh",
    "vuong mac",
    "chua",
    "dang thuc hien",
    "trien khai",
    "qua han",
    "vui long",
    "xac nhan",
    "chi dao",
    "nhac viec",
    "dau moi",
    "minh chung",
    "ghi chu",
    "tep",
    "gui",
    "lien he",
    "thuc hien",
    "tinh trang",
    "de nghi",
    "lanh dao",
    "phan tram",
    "tai khoan",
    "sua",
    "muc",
    "het han",
    "vang mat",
)
UNACCENTED_RE = re.compile(r"\b(" + "|".join(map(re.escape, UNACCENTED)) + r")\b", re.IGNORECASE)
COMMAND_RE = re.compile(r"/\w+")
PLACEHOLDER_RE = re.compile(r"\{[^{}]*\}")


@cache
def source_msgids() -> dict[str, str]:
    """Map every `_("…")` msgid in the source tree to one place it is used."""
    found: dict[str, str] = {}
    for package in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, keywords={"_": None}
        ):
            if isinstance(message, str) and message:
                found.setdefault(message, f"{package}/{filename}:{lineno}")
    return found


@cache
def english() -> dict[str, tuple[str, bool]]:
    """Map each msgid in the English catalog to (translation, is_fuzzy)."""
    with PO_PATH.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    return {m.id: (m.string or "", m.fuzzy) for m in catalog if isinstance(m.id, str) and m.id}


def placeholders(text: str) -> set[str]:
    """Return the `{name!conversion:spec}` fields that str.format fills in `text`."""
    fields = set()
    for _literal, name, spec, conversion in Formatter().parse(text):
        if name is not None:
            conversion = f"!{conversion}" if conversion else ""
            fields.add(f"{{{name}{conversion}{':' + spec if spec else ''}}}")
    return fields


def dummy_values(text: str) -> dict[str, object]:
    """Invent a value for each placeholder that suits its format spec."""
    values: dict[str, object] = {}
    for _literal, name, spec, _conversion in Formatter().parse(text):
        if name:
            root = re.split(r"[.\[]", name, maxsplit=1)[0]
            kind = (spec or "s")[-1]
            values[root] = 7 if kind in "bcdoxXn" else 7.5 if kind in "eEfFgG%" else "X"
    return values


def unaccented_words(msgid: str) -> list[str]:
    """Return the Vietnamese words in `msgid` that lack their diacritics (commands excepted)."""
    prose = PLACEHOLDER_RE.sub(" ", COMMAND_RE.sub(" ", msgid))
    return UNACCENTED_RE.findall(prose)


def has_vietnamese_letters(text: str) -> bool:
    return any(
        ch in "đĐ" or (ch.isalpha() and unicodedata.normalize("NFD", ch) != ch) for ch in text
    )


def test_the_source_tree_yields_the_known_texts() -> None:
    msgids = source_msgids()
    assert "Đã chuyển sang tiếng Việt." in msgids
    assert "Chọn nội dung cần báo cáo (trang {page}/{pages}):" in msgids
    # Implicitly concatenated literals arrive as one msgid.
    assert (
        "Tài khoản này chưa được liên kết với cơ quan nào nên chưa xem hay báo cáo được.\n"
        "Hãy gửi mã mời (8 ký tự, ví dụ K7QX-M3PA) do cơ quan đầu mối cấp, "
        "hoặc mở đường link mời."
    ) in msgids


def test_every_text_has_an_english_translation() -> None:
    catalog = english()
    missing = [
        f"{where}: {msgid!r}"
        for msgid, where in sorted(source_msgids().items())
        if not catalog.get(msgid, ("", False))[0].strip()
    ]
    fuzzy = [
        f"{where}: {msgid!r}"
        for msgid, where in sorted(source_msgids().items())
        if catalog.get(msgid, ("", False))[1]
    ]
    assert not missing, (
        f"{len(missing)} text(s) have no English translation; {HOW_TO_FIX}:\n" + "\n".join(missing)
    )
    assert not fuzzy, (
        f"{len(fuzzy)} English translation(s) are fuzzy (unreviewed); check them "
        f"and remove the fuzzy flag in {PO_PATH}:\n" + "\n".join(fuzzy)
    )


def test_translations_keep_the_placeholders() -> None:
    wrong = []
    for msgid, (string, _fuzzy) in english().items():
        if not string:
            continue
        try:
            ours, theirs = placeholders(msgid), placeholders(string)
        except ValueError as error:
            wrong.append(f"{msgid!r} → {string!r}: {error}")
            continue
        if ours != theirs:
            wrong.append(f"{msgid!r} → {string!r}: expected {sorted(ours)}, got {sorted(theirs)}")
    assert not wrong, "Translations whose {fields} differ from the msgid:\n" + "\n".join(wrong)


def test_every_text_formats_in_both_languages() -> None:
    broken = []
    for msgid, where in sorted(source_msgids().items()):
        values = dummy_values(msgid)
        for language in ("vi", "en"):
            try:
                text = Texts(language)._(msgid, **values)
            except (KeyError, IndexError, ValueError, TypeError, AttributeError) as error:
                broken.append(f"{where} [{language}] {msgid!r}: {error!r}")
                continue
            if "{" in text or "}" in text:
                broken.append(f"{where} [{language}] {msgid!r}: braces left in {text!r}")
    assert not broken, "Texts that fail to format:\n" + "\n".join(broken)


def test_english_readers_see_no_untranslated_vietnamese() -> None:
    leaked = [
        f"{msgid!r} → {string!r}"
        for msgid, (string, _f) in english().items()
        if string and msgid not in BILINGUAL and has_vietnamese_letters(string)
    ]
    assert not leaked, "English translations that still contain Vietnamese:\n" + "\n".join(leaked)


def test_switching_to_english_confirms_in_english() -> None:
    assert Texts("en")._("Đã chuyển sang tiếng Việt.") == "Switched to English."
    assert Texts("vi")._("Đã chuyển sang tiếng Việt.") == "Đã chuyển sang tiếng Việt."
    assert (
        Texts("en")._("Chọn nội dung cần báo cáo (trang {page}/{pages}):", page=2, pages=5)
        == "Choose the item to report (page 2/5):"
    )


def test_status_labels_in_english() -> None:
    tx = Texts("en")
    assert [tx.status(s) for s in ("not_started", "in_progress", "done", "blocked", None)] == [
        "Not started",
        "In progress",
        "Done",
        "Blocked",
        "Not reported",
    ]


def test_unknown_language_falls_back_to_vietnamese() -> None:
    tx = Texts("fr")
    assert tx.language == "vi"
    assert tx._("Đã chuyển sang tiếng Việt.") == "Đã chuyển sang tiếng Việt."
    assert tx.status("blocked") == "Vướng mắc"


def test_the_diacritics_check_catches_unaccented_vietnamese() -> None:
    assert unaccented_words("Vui long bao cao tien do nhiem vu {code}") == [
        "Vui long",
        "bao cao",
        "tien do",
        "nhiem vu",
    ]
    assert unaccented_words("Vui lòng báo cáo tiến độ; gõ /baocao, /huy hoặc /sua {code}") == []


def test_vietnamese_texts_are_written_with_diacritics() -> None:
    offending = [
        f"{where}: {msgid!r} ({', '.join(words)})"
        for msgid, where in sorted(source_msgids().items())
        if (words := unaccented_words(msgid))
    ]
    assert not offending, (
        "Vietnamese texts typed without diacritics (readers see broken "
        "Vietnamese):\n" + "\n".join(offending)
    )


def test_long_titles_and_notes_are_cut_at_a_word_with_an_ellipsis() -> None:
    title = "Hỗ trợ quỹ an sinh xã hội, 3 tỷ đồng cho các hộ nghèo"
    assert short_text(title, 80) == title
    assert short_text(title, 30) == "Hỗ trợ quỹ an sinh xã hội, 3…"
    assert short_text(title, 28) == "Hỗ trợ quỹ an sinh xã hội…"  # no comma before the "…"
    assert short_text("Đã họp\n  với các sở", 40) == "Đã họp với các sở"  # one line in a list
    note = "Đã họp với các sở.\nChờ vốn từ quý III để triển khai"
    assert short_text(note, 40, one_line=False) == "Đã họp với các sở.\nChờ vốn từ quý III…"


def test_deadline_categories_are_named_as_government_tracking_names_them() -> None:
    from storage.aggregate.categories import Category

    vi, en = Texts("vi"), Texts("en")
    assert [vi.category(c) for c in Category] == [
        "Hoàn thành đúng hạn",
        "Hoàn thành quá hạn",
        "Đang thực hiện trong hạn",
        "Đang thực hiện quá hạn",
        "Chưa báo cáo",
    ]
    assert [en.category(c) for c in Category] == [
        "Done on time",
        "Done late",
        "In progress, on time",
        "In progress, overdue",
        "Not reported",
    ]
    assert vi.category("in_progress_overdue", short=True) == "Đang TH quá hạn"
    assert en.category("not_reported", short=True) == "Not rep."
    assert (vi.category("not_started"), vi.category("blocked")) == ("Chưa triển khai", "Vướng mắc")


def test_an_official_of_a_department_is_a_chuyen_vien_everywhere() -> None:
    assert Texts("vi").role("reporter") == "chuyên viên"
    assert Texts("en").role("reporter") == "departmental official"
    assert "cán bộ báo cáo" not in source_msgids()
