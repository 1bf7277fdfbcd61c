"""What people read: Vietnamese in the code (gettext msgids), English from a Babel catalog."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from storage.periods import Period

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("vi", "en")
DOMAIN = "messages"


@cache
def catalog(language: str) -> dict[str, str]:
    """Load a language's translations from its .po file (Vietnamese needs none)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == "vi" or not path.exists():
        return {}
    from babel.messages.pofile import read_po  # only English readers need Babel

    with path.open("rb") as handle:
        parsed = read_po(handle, locale=language)
    return {
        m.id: m.string
        for m in parsed
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def N_(message: str) -> str:
    """Mark a text for the catalog where it is defined, to be translated where it is shown."""
    return message


class Texts:
    """Translate and format texts for one reader's language."""

    def __init__(self, language: str, tz: ZoneInfo | None = None) -> None:
        self.language = language if language in LANGUAGES else "vi"
        self.tz = tz or ZoneInfo("Asia/Ho_Chi_Minh")
        self._catalog = catalog(self.language)

    def _(self, message: str, **values: Any) -> str:
        """Return `message` in the reader's language, with {placeholders} filled."""
        text = self._catalog.get(message, message)
        return text.format(**values) if values else text

    def date(self, value: date | None) -> str:
        if value is None:
            return self._("không có hạn")
        return value.strftime("%d/%m/%Y")

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return value.astimezone(self.tz).strftime("%d/%m/%Y %H:%M")

    def period(self, period: Period) -> str:
        """Name a reporting period as offices do: tháng 12/2019, quý IV/2019, 6 tháng …"""
        if period.months == 1:
            return self._("tháng {month}/{year}", month=period.index, year=period.year)
        if period.months == 3:
            roman = ("I", "II", "III", "IV")[period.index - 1]
            return self._("quý {quarter}/{year}", quarter=roman, year=period.year)
        if period.months == 6:
            if period.index == 1:
                return self._("6 tháng đầu năm {year}", year=period.year)
            return self._("6 tháng cuối năm {year}", year=period.year)
        return self._("năm {year}", year=period.year)

    def status(self, status: str | None) -> str:
        labels = {
            "not_started": self._("Chưa triển khai"),
            "in_progress": self._("Đang thực hiện"),
            "done": self._("Hoàn thành"),
            "blocked": self._("Vướng mắc"),
        }
        return labels.get(status or "", self._("Chưa báo cáo"))

    def category(self, category: str, *, short: bool = False) -> str:
        """Name a deadline category as government task tracking does (short: a column head)."""
        if short:
            labels = {
                "done_on_time": self._("HT đúng hạn"),
                "done_late": self._("HT quá hạn"),
                "in_progress_on_time": self._("Đang TH trong hạn"),
                "in_progress_overdue": self._("Đang TH quá hạn"),
                "not_started": self._("Chưa TK"),
                "blocked": self._("Vướng mắc"),
                "not_reported": self._("Chưa BC"),
            }
        else:
            labels = {
                "done_on_time": self._("Hoàn thành đúng hạn"),
                "done_late": self._("Hoàn thành quá hạn"),
                "in_progress_on_time": self._("Đang thực hiện trong hạn"),
                "in_progress_overdue": self._("Đang thực hiện quá hạn"),
                "not_started": self._("Chưa triển khai"),
                "blocked": self._("Vướng mắc"),
                "not_reported": self._("Chưa báo cáo"),
            }
        return labels.get(str(category), str(category))

    def assignment_role(self, role: str) -> str:
        """Name an agency's part in an assignment: it leads (chủ trì) or supports (phối hợp)."""
        labels = {"lead": self._("Chủ trì"), "support": self._("Phối hợp")}
        return labels.get(role, role)

    def role(self, role: str) -> str:
        """Name a member's role; an official of a department is a chuyên viên everywhere."""
        labels = {
            "reporter": self._("chuyên viên"),
            "coordinator": self._("cơ quan đầu mối"),
            "vice_chair": self._("Phó Chủ tịch UBND"),
            "admin": self._("quản trị"),
        }
        return labels.get(role, role)
