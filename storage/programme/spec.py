"""A programme file once checked whole: plain values the import writes into the store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from storage.notice.model import ParsedNotice


@dataclass(frozen=True)
class LocalitySpec:
    code: str
    name: str


@dataclass(frozen=True)
class AgencySpec:
    code: str
    locality: str
    name: str
    coordinates: bool = False
    leadership: bool = False
    report: Mapping[str, Any] = field(default_factory=dict)  # the report header's keys given


@dataclass(frozen=True)
class AssignmentSpec:
    """One agency on one item: the file's lead/support lists flattened."""

    item: str
    agency: str
    role: str
    due: date
    cadence: str


@dataclass(frozen=True)
class ProgrammeSpec:
    """A validated programme file with its parsed notice, ready to import."""

    path: Path
    code: str
    title: str
    notice_source: str
    notice_sha256: str
    notice: ParsedNotice
    phase_start: date
    phase_end: date
    default_due: date
    cadence: str
    localities: tuple[LocalitySpec, ...]
    agencies: tuple[AgencySpec, ...]
    assignments: tuple[AssignmentSpec, ...]
    alias: str | None = None
    periods: str = "decree-09"
    report_due_day: int | None = None
