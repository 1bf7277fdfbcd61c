"""The programme file's shape (TOML), as pydantic models: what each key may hold."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

Cadence = Literal["monthly", "quarterly", "semiannual", "yearly", "none"]
Periods = Literal["decree-09", "calendar"]


def _as_date(value: Any) -> Any:
    """Accept a TOML date (2020-06-30) or the same as a quoted ISO string; nothing else."""
    if isinstance(value, datetime):
        raise ValueError("a date without a time, such as 2020-06-30")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("a date such as 2020-06-30 (year-month-day)")


TomlDate = Annotated[date, BeforeValidator(_as_date)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class ProgrammeSection(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    notice: Text
    phase_start: TomlDate
    phase_end: TomlDate
    default_due: TomlDate | None = None
    cadence: Cadence = "monthly"
    # Typed in chat before an item code ("HY 2.2 50%"); uppercase letters and digits.
    alias: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{0,15}$")] | None = None
    periods: Periods = "decree-09"
    report_due_day: Annotated[int, Field(ge=1, le=28)] | None = None


class LocalityEntry(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,8}$")]
    name: Text


class ReportHeader(_Strict):
    """How an office heads the periodic reports it issues; what is left out is derived from
    the agency's name and locality (handlers/documents/report_header.py)."""

    layout: Literal["state", "party"] | None = None  # Decree 30/2020 | Hướng dẫn 36-HD/VPTW
    superior: Text | None = None  # UBND tỉnh Hưng Yên · Thành ủy Hà Nội
    issuer: Text | None = None  # Sở Kế hoạch và Đầu tư · Văn phòng
    abbreviation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = (
        None  # the number's suffix: Số: …/BC-SKHĐT
    )
    place: Text | None = None  # Hưng Yên, ngày …
    signer_authority: Text | None = None  # KT. GIÁM ĐỐC · T/L BAN THƯỜNG VỤ
    signer_title: Text | None = None  # PHÓ GIÁM ĐỐC · CHÁNH VĂN PHÒNG
    signer_name: Text | None = None
    recipients: list[Text] = []  # Nơi nhận, before "Lưu: VT"


class AgencyEntry(_Strict):
    code: Code
    locality: Code
    name: Text
    coordinates: StrictBool = False
    leadership: StrictBool = False
    report: ReportHeader | None = None


class AssignmentEntry(_Strict):
    item: Code
    lead: list[Code] = Field(min_length=1)
    support: list[Code] = []
    due: TomlDate | None = None
    cadence: Cadence | None = None


class ProgrammeFile(_Strict):
    programme: ProgrammeSection
    localities: list[LocalityEntry] = Field(min_length=1)
    agencies: list[AgencyEntry] = Field(min_length=1)
    assignments: list[AssignmentEntry] = []
