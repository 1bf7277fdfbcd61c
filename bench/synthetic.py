"""Build a synthetic programme store (benchmarks, and the tests that check SQL against Python).

Localities HN/HY, their departments and districts, a 3-level item tree ("2" → "2.5" →
"2.5.a"), lead/support assignments with due dates, and reports over time with the
current-state cache filled as `storage.reports.append_report` would fill it.
"""

from __future__ import annotations

import gc
import math
import random
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, insert, select, text, update
from sqlalchemy.orm import Session, aliased

from storage.models import (
    Agency,
    Assignment,
    AssignmentRole,
    Locality,
    Member,
    Programme,
    ProgrammeAgency,
    Report,
    Status,
)

Progress = Callable[[str, int, int], None]
Row = tuple[Any, ...]

LOCALITIES = (("HN", "Thành phố Hà Nội"), ("HY", "Tỉnh Hưng Yên"))
DEPARTMENTS = (  # code, Hà Nội name, Hưng Yên name, coordinates
    ("KHDT", "Sở Kế hoạch và Đầu tư Hà Nội", "Sở Kế hoạch và Đầu tư Hưng Yên", True),
    ("VP", "Văn phòng Thành ủy Hà Nội", "Văn phòng Tỉnh ủy Hưng Yên", True),
    ("GTVT", "Sở Giao thông vận tải Hà Nội", "Sở Giao thông vận tải Hưng Yên", False),
    ("XD", "Sở Xây dựng Hà Nội", "Sở Xây dựng Hưng Yên", False),
    ("VHTT", "Sở Văn hóa và Thể thao Hà Nội", "Sở Văn hóa, Thể thao và Du lịch Hưng Yên", False),
    (
        "NNPTNT",
        "Sở Nông nghiệp và Phát triển nông thôn Hà Nội",
        "Sở Nông nghiệp và Phát triển nông thôn Hưng Yên",
        False,
    ),
    ("TNMT", "Sở Tài nguyên và Môi trường Hà Nội", "Sở Tài nguyên và Môi trường Hưng Yên", False),
    (
        "LDTBXH",
        "Sở Lao động – Thương binh và Xã hội Hà Nội",
        "Sở Lao động – Thương binh và Xã hội Hưng Yên",
        False,
    ),
    ("DL", "Sở Du lịch Hà Nội", "Sở Công Thương Hưng Yên", False),
    ("YT", "Sở Y tế Hà Nội", "Sở Y tế Hưng Yên", False),
    ("GDDT", "Sở Giáo dục và Đào tạo Hà Nội", "Sở Giáo dục và Đào tạo Hưng Yên", False),
    ("TC", "Sở Tài chính Hà Nội", "Sở Tài chính Hưng Yên", False),
)
DISTRICTS = {
    "HN": (
        "Ba Đình",
        "Hoàn Kiếm",
        "Tây Hồ",
        "Long Biên",
        "Cầu Giấy",
        "Đống Đa",
        "Hai Bà Trưng",
        "Hoàng Mai",
        "Thanh Xuân",
        "Sóc Sơn",
        "Đông Anh",
        "Gia Lâm",
        "Nam Từ Liêm",
        "Thanh Trì",
        "Bắc Từ Liêm",
        "Mê Linh",
        "Hà Đông",
        "Sơn Tây",
        "Ba Vì",
        "Phúc Thọ",
        "Đan Phượng",
        "Hoài Đức",
        "Quốc Oai",
        "Thạch Thất",
        "Chương Mỹ",
        "Thanh Oai",
        "Thường Tín",
        "Phú Xuyên",
        "Ứng Hòa",
        "Mỹ Đức",
    ),
    "HY": (
        "Hưng Yên",
        "Mỹ Hào",
        "Văn Lâm",
        "Văn Giang",
        "Yên Mỹ",
        "Khoái Châu",
        "Ân Thi",
        "Kim Động",
        "Phù Cừ",
        "Tiên Lữ",
    ),
}
FIELDS = (
    "Công tác xây dựng Đảng",
    "Hợp tác phát triển kinh tế – xã hội",
    "Giao thông vận tải",
    "Văn hóa, thể thao và du lịch",
    "Nông nghiệp và phát triển nông thôn",
    "Tài nguyên và môi trường",
    "Y tế",
    "Giáo dục và đào tạo",
    "An sinh xã hội",
)
TOPICS = (
    "tuyến xe buýt Hưng Yên – Hà Nội",
    "cầu Mễ Sở và Vành đai 4",
    "nhà máy xử lý nước thải Long Biên",
    "quỹ an sinh xã hội",
    "gian hàng phố đi bộ Hoàn Kiếm",
    "liên kết tiêu thụ nông sản",
    "quy hoạch vùng",
    "đào tạo nghề",
    "khám chữa bệnh tuyến cuối",
    "trao đổi cán bộ",
    "xúc tiến đầu tư",
    "bảo vệ môi trường sông Hồng",
)
NOTES = (
    "Đã họp triển khai với các đơn vị liên quan",
    "Đang khảo sát hiện trạng",
    "Đang hoàn thiện hồ sơ trình UBND",
    "Chờ ý kiến của bộ, ngành Trung ương",
    "Đã ký kết văn bản phối hợp",
    "Vướng mắc về mặt bằng, đề nghị chỉ đạo",
    "Đã hoàn thành, gửi báo cáo kết quả",
    "Đang tổ chức thực hiện theo kế hoạch",
    "",
)
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
MIDDLE = ("Văn", "Thị", "Minh", "Thu", "Quang", "Đức", "Thanh", "Hồng")
GIVEN = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hải",
    "Hằng",
    "Hương",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phương",
    "Quân",
    "Sơn",
    "Trang",
    "Tuấn",
    "Vân",
)
CHANNELS = ("telegram",) * 14 + ("zalo",) * 5 + ("cli",)
REPORT_COLUMNS = (
    "id",
    "assignment_id",
    "member_id",
    "agency_id",
    "agency_name",
    "status",
    "percent",
    "note",
    "channel",
    "corrects_id",
    "created_at",
)
ASSIGNMENT_COLUMNS = (
    "id",
    "item_id",
    "agency_id",
    "role",
    "due_date",
    "cadence",
    "archived_at",
    "latest_report_id",
    "current_status",
    "current_percent",
    "last_reported_at",
    "completed_on",
)
ITEM_COLUMNS = (
    "id",
    "programme_id",
    "parent_id",
    "code",
    "kind",
    "position",
    "title",
    "text",
    "archived_at",
    "field_code",
    "section_code",
)
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")  # the synthetic programme is a Hà Nội one
UTC_OFFSET_S = 7 * 3600  # Viet Nam keeps UTC+7 all year


@dataclass(frozen=True)
class SyntheticStore:
    """What was built: ids and counts a test or benchmark needs."""

    programme_id: int
    programme_code: str
    agency_ids: tuple[int, ...]
    items: int
    leaves: int
    assignments: int
    reports: int
    start: date
    today: date


@dataclass
class _Leaf:
    item_id: int
    due: date | None


@dataclass
class _Assignment:
    id: int
    item_id: int
    agency_id: int
    role: str
    due: date | None
    archived: bool


def build_synthetic(
    session: Session,
    *,
    assignments: int = 120,
    reports: int = 600,
    seed: int = 0,
    start: date = date(2019, 7, 1),
    today: date = date(2019, 12, 2),
    programme_code: str = "TN-SYN",
    progress: Progress | None = None,
) -> SyntheticStore:
    """Fill the store with a reproducible programme of `assignments` and `reports` rows."""
    if today <= start:
        raise ValueError("today must come after start")
    rng = random.Random(seed)
    tick = progress or (lambda _stage, _done, _total: None)
    collecting = gc.isenabled()
    gc.disable()  # millions of small tuples: the cyclic collector would only slow us down
    try:
        return _build(session, rng, assignments, reports, start, today, programme_code, tick)
    finally:
        if collecting:
            gc.enable()


def _build(
    session: Session,
    rng: random.Random,
    assignments: int,
    reports: int,
    start: date,
    today: date,
    programme_code: str,
    tick: Progress,
) -> SyntheticStore:
    """Build the store (see build_synthetic)."""
    writer = _BulkWriter(session)
    programme = Programme(
        code=programme_code,
        title=f"Chương trình giả lập {programme_code}",
        notice_date=start,
        phase_start=start,
        phase_end=start + timedelta(days=540),
        imported_at=datetime.combine(start, time(8), HANOI),
    )
    session.add(programme)
    session.flush()
    n_agencies = max(6, min(64, assignments // 150))
    agencies = _agencies(session, n_agencies, start, programme.id)
    members = _members(session, rng, agencies, start)
    tick("items", 0, 1)
    avg = max(2, min(n_agencies // 2, round(math.sqrt(assignments) / 20)))
    leaves = _items(writer, rng, programme.id, math.ceil(assignments / avg), start)
    tick("items", 1, 1)
    plan = _assignments(writer, rng, leaves, agencies, assignments)
    rows, cache = _reports(
        rng, plan, agencies, members, reports, start, today, writer.next_id("report"), tick
    )
    writer.insert(
        "assignment",
        ASSIGNMENT_COLUMNS,
        (
            (
                a.id,
                a.item_id,
                a.agency_id,
                a.role,
                writer.day(a.due),
                "monthly",
                writer.moment(_epoch(start) + 86400) if a.archived else None,
                *cache.get(a.id, (None, None, None, None, None))[:3],
                writer.moment(cache[a.id][3]) if a.id in cache else None,
                writer.day(cache[a.id][4]) if a.id in cache else None,
            )
            for a in plan
        ),
        count=len(plan),
        progress=tick,
        stage="assignments",
    )
    writer.insert(
        "report",
        REPORT_COLUMNS,
        ((*row[:10], writer.moment(row[10])) for row in rows),
        count=len(rows),
        progress=tick,
        stage="reports",
    )
    writer.sync_sequences("item", "assignment", "report")
    writer.close()
    return SyntheticStore(
        programme.id,
        programme_code,
        tuple(a.id for a in agencies),
        writer.items,
        len(leaves),
        len(plan),
        len(rows),
        start,
        today,
    )


def _agencies(session: Session, count: int, start: date, programme_id: int) -> list[Agency]:
    """Get or create `count` agencies, alternating Hà Nội and Hưng Yên."""
    localities = {}
    for code, name in LOCALITIES:
        found = session.scalar(select(Locality).where(Locality.code == code))
        if found is None:
            found = Locality(code=code, name=name)
            session.add(found)
        localities[code] = found
    session.flush()
    wanted: list[tuple[str, str, str, bool]] = []
    for code, hn, hy, coordinates in DEPARTMENTS:
        wanted += [("HN", f"HN-{code}", hn, coordinates), ("HY", f"HY-{code}", hy, coordinates)]
    for side, prefix in (("HN", "UBND quận/huyện"), ("HY", "UBND huyện/thị xã")):
        wanted += [
            (side, f"{side}-D{n:02d}", f"{prefix} {name}", False)
            for n, name in enumerate(DISTRICTS[side], 1)
        ]
    existing = {a.code: a for a in session.scalars(select(Agency))}
    chosen = []
    for side, code, name, coordinates in wanted[:count]:
        agency = existing.get(code)
        if agency is None:
            agency = Agency(code=code, name=name, locality=localities[side])
            session.add(agency)
        chosen.append((agency, coordinates))
    session.flush()
    session.add_all(
        ProgrammeAgency(programme_id=programme_id, agency_id=agency.id, coordinates=coordinates)
        for agency, coordinates in chosen
    )
    session.flush()
    return [agency for agency, _ in chosen]


def _members(
    session: Session, rng: random.Random, agencies: Sequence[Agency], start: date
) -> dict[int, list[int]]:
    """Create one or two reporting officials per agency."""
    rows = [
        {
            "agency_id": a.id,
            "name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            "title": "Chuyên viên",
            "role": "reporter",
            "is_head": False,
            "language": "vi",
            "preferred_channel": "telegram",
            "created_at": datetime.combine(start, time(8), HANOI),
        }
        for a in agencies
        for _ in range(rng.randint(1, 2))
    ]
    created = session.execute(insert(Member).returning(Member.id, Member.agency_id), rows).all()
    members: dict[int, list[int]] = {}
    for member_id, agency_id in created:
        members.setdefault(agency_id, []).append(member_id)
    return members


def _letters(n: int) -> str:
    """Return a, b, …, z, aa, ab, … for n = 0, 1, …"""
    out = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def _items(
    writer: _BulkWriter, rng: random.Random, programme_id: int, n_leaves: int, start: date
) -> list[_Leaf]:
    """Create fields → items → bullets with `n_leaves` leaves, in document order."""
    fields = max(2, min(len(FIELDS), n_leaves // 6))
    per_field = math.ceil(n_leaves / fields)
    bullet_max = max(3, round(math.sqrt(per_field)))
    rows: list[tuple[Any, ...]] = []
    leaves: list[_Leaf] = []
    next_id = writer.next_id("item")
    position = 0

    def add(parent: int | None, code: str, kind: str, title: str) -> int:
        nonlocal next_id, position
        item_id, next_id, position = next_id, next_id + 1, position + 1
        field = ".".join(code.split(".")[:2])  # 2.3.4.b rolls up to its field 2.3, section 2
        section = code.split(".")[0]
        rows.append(
            (item_id, programme_id, parent, code, kind, position, title, "", None, field, section)
        )
        return item_id

    def leaf(item_id: int) -> None:
        due = None if rng.random() < 0.1 else start + timedelta(days=rng.randint(45, 540))
        leaves.append(_Leaf(item_id, due))

    # Like a real notice: one content section "2" whose numbered items 2.1 … 2.N are the
    # fields, each with items and bullets below.
    root = add(None, "2", "item", "Nội dung hợp tác")
    for f in range(1, fields + 1):
        field_id = add(root, f"2.{f}", "item", FIELDS[f - 1])
        made, k = 0, 0
        while made < per_field and len(leaves) < n_leaves:
            k += 1
            topic = rng.choice(TOPICS)
            item_id = add(field_id, f"2.{f}.{k}", "item", f"Phối hợp {topic}")
            if rng.random() < 0.25:
                leaf(item_id)
                made += 1
                continue
            for b in range(min(rng.randint(2, bullet_max), n_leaves - len(leaves))):
                leaf(
                    add(
                        item_id,
                        f"2.{f}.{k}.{_letters(b)}",
                        "bullet",
                        f"Triển khai {topic}, phần {_letters(b)}",
                    )
                )
                made += 1
    writer.insert("item", ITEM_COLUMNS, rows, count=len(rows))
    writer.items = len(rows)
    return leaves


def _assignments(
    writer: _BulkWriter,
    rng: random.Random,
    leaves: Sequence[_Leaf],
    agencies: Sequence[Agency],
    total: int,
) -> list[_Assignment]:
    """Give each leaf a lead (sometimes one per locality) and supporting agencies."""
    counts = _spread(rng, total, len(leaves), 1, len(agencies))
    next_id = writer.next_id("assignment")
    plan = []
    for leaf, count in zip(leaves, counts, strict=True):
        chosen = rng.sample(agencies, count)
        for n, agency in enumerate(chosen):
            lead = n == 0 or (
                n == 1 and agency.locality_id != chosen[0].locality_id and rng.random() < 0.5
            )
            plan.append(
                _Assignment(
                    next_id,
                    leaf.item_id,
                    agency.id,
                    AssignmentRole.LEAD if lead else AssignmentRole.SUPPORT,
                    leaf.due,
                    rng.random() < 0.01,
                )
            )
            next_id += 1
    return plan


def _spread(rng: random.Random, total: int, slots: int, low: int, high: int) -> list[int]:
    """Split `total` into `slots` random whole parts within [low, high]."""
    if slots == 0:
        return []
    base, extra = divmod(total, slots)
    parts = [base + (1 if n < extra else 0) for n in range(slots)]
    for _ in range(slots):
        i, j = rng.randrange(slots), rng.randrange(slots)
        move = rng.randint(0, max(0, parts[i] - low))
        move = min(move, high - parts[j])
        if i != j and move > 0:
            parts[i] -= move
            parts[j] += move
    return parts


def _reports(
    rng: random.Random,
    plan: Sequence[_Assignment],
    agencies: Sequence[Agency],
    members: dict[int, list[int]],
    total: int,
    start: date,
    today: date,
    first_id: int,
    tick: Progress,
) -> tuple[list[Row], dict[int, Row]]:
    """Make each assignment's report history; return rows by time and each current state."""
    names = {a.id: a.name for a in agencies}
    silent = {a.id for a in plan if rng.random() < 0.08}
    speaking = [a for a in plan if a.id not in silent]
    counts = _spread(rng, total, len(speaking), 0, 10 * max(1, total // max(1, len(speaking))))
    first_day, end_day = start.toordinal() - _EPOCH_ORDINAL, today.toordinal() - _EPOCH_ORDINAL
    pending: list[tuple[int, int, int, Row]] = []  # (ts, assignment, seq, fields)
    today_ord = today.toordinal()
    rand = rng.random
    for n, (a, k) in enumerate(zip(speaking, counts, strict=True)):
        if n % 20000 == 0:
            tick("histories", n, len(speaking))
        if k == 0:
            continue
        crew: list[int | None] = [*members.get(a.agency_id, [])] or [None]
        name = names[a.agency_id]
        for seq, (ts, status, percent, corrects) in enumerate(
            _history(rng, a, k, first_day, end_day, today_ord)
        ):
            member = crew[int(rand() * len(crew))] if rand() > 0.03 else None
            pending.append(
                (
                    ts,
                    a.id,
                    seq,
                    (
                        member,
                        a.agency_id,
                        name,
                        status,
                        percent,
                        NOTES[int(rand() * len(NOTES))],
                        CHANNELS[int(rand() * len(CHANNELS))],
                        corrects,
                    ),
                )
            )
    tick("histories", len(speaking), len(speaking))
    pending.sort()  # (ts, assignment, seq) is unique: ids follow time, as in a live store
    rows = []
    cache: dict[int, Row] = {}  # assignment → (report id, status, percent, ts, completed_on)
    report_id = first_id
    for ts, assignment_id, _seq, f in pending:
        status = f[3]
        previous = cache.get(assignment_id)
        if status != DONE:
            completed = None
        elif previous is not None and previous[1] == DONE:
            completed = previous[4]
        else:
            completed = date.fromordinal((ts + UTC_OFFSET_S) // 86400 + _EPOCH_ORDINAL)
        # A correction always corrects the assignment's previous report.
        corrects = previous[0] if f[7] is not None and previous is not None else None
        rows.append(
            (report_id, assignment_id, f[0], f[1], f[2], status, f[4], f[5], f[6], corrects, ts)
        )
        cache[assignment_id] = (report_id, status, f[4], ts, completed)
        report_id += 1
    return rows, cache


DONE, IN_PROGRESS = Status.DONE.value, Status.IN_PROGRESS.value
NOT_STARTED, BLOCKED = Status.NOT_STARTED.value, Status.BLOCKED.value


def _history(
    rng: random.Random, a: _Assignment, k: int, first_day: int, end_day: int, today_ord: int
) -> list[tuple[int, str, int, int | None]]:
    """Return k (epoch seconds, status, percent, corrected seq) reports in time order."""
    rand = rng.random
    span = end_day - first_day
    days = sorted(first_day + int(rand() * span) for _ in range(k))
    stamps: list[int] = []
    for day in days:
        ts = day * 86400 - UTC_OFFSET_S + 27000 + int(rand() * 36000)  # 07:30–17:30
        stamps.append(ts if not stamps or ts > stamps[-1] + 60 else stamps[-1] + 60)
    past_due = a.due is not None and a.due.toordinal() < today_ord
    finish = rand() < (0.55 if past_due else 0.3)
    out: list[tuple[int, str, int, int | None]] = []
    percent = 0
    for j, ts in enumerate(stamps):
        roll = rand()
        if j and roll < 0.04 and ts - stamps[j - 1] > 600:
            _, status, percent, _ = out[j - 1]  # a correction of the previous report
            stamps[j] = stamps[j - 1] + 300
            if status != DONE:
                percent = min(95, percent + int(rand() * 6))
            out.append((stamps[j], status, percent, j - 1))
            continue
        if j == k - 1 and finish:
            status, percent = DONE, 100
        elif j == 0 and roll < 0.3:
            status, percent = NOT_STARTED, 0
        elif roll < 0.11:
            status = BLOCKED
        elif roll < 0.13 and j < k - 1:
            status, percent = DONE, 100  # done, then reopened by a later report
        else:
            status = IN_PROGRESS
            percent = min(95, max(5, (80 if percent == 100 else percent) + 5 + int(rand() * 21)))
        out.append((ts, status, percent, None))
    return out


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _epoch(day: date) -> int:
    """Epoch seconds of Hà Nội midnight starting `day`."""
    return (day.toordinal() - _EPOCH_ORDINAL) * 86400 - UTC_OFFSET_S


@cache
def _clock_text() -> list[str]:
    """Return "HH:MM:SS.000000" for every second of a day (formatting 1M times is slow)."""
    return [
        f"{h:02d}:{m:02d}:{s:02d}.000000" for h in range(24) for m in range(60) for s in range(60)
    ]


class _BulkWriter:
    """Insert many rows fast: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, session: Session) -> None:
        session.flush()
        self.session = session
        self.connection = session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.items = 0
        self._days: dict[int, str] = {}
        self._cache_size: int | None = None
        if not self.postgres:
            # A bigger page cache keeps the (assignment_id, id) index in memory while it grows.
            size = self.connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
            self._cache_size = int(size)
            self.connection.exec_driver_sql("PRAGMA cache_size = -262144")

    def close(self) -> None:
        """Give the connection its usual page cache back."""
        if self._cache_size is not None:
            self.connection.exec_driver_sql(f"PRAGMA cache_size = {self._cache_size}")

    def next_id(self, table: str) -> int:
        return int(
            self.connection.execute(
                text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
            ).scalar_one()
        )

    def moment(self, epoch_s: int | None) -> Any:
        """Return a UTC moment in the form the driver stores (SQLite: SQLAlchemy's text)."""
        if epoch_s is None:
            return None
        if self.postgres:
            return datetime.fromtimestamp(epoch_s, UTC)
        day, second = divmod(epoch_s, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = date.fromordinal(day + _EPOCH_ORDINAL).isoformat() + " "
        return prefix + _clock_text()[second]

    def day(self, value: date | None) -> Any:
        if value is None or self.postgres:
            return value
        return value.isoformat()

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[tuple[Any, ...]],
        *,
        count: int,
        progress: Progress | None = None,
        stage: str = "",
        batch: int = 50_000,
    ) -> None:
        """Insert rows (tuples in `columns` order) in batches."""
        tick = progress or (lambda _s, _d, _t: None)
        names = ", ".join(columns)
        raw = self.connection.connection.driver_connection
        done = 0
        chunk: list[tuple[Any, ...]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                self._write(raw, table, names, len(columns), chunk)
                done += len(chunk)
                tick(stage, done, count)
                chunk = []
        if chunk:
            self._write(raw, table, names, len(columns), chunk)
            done += len(chunk)
        tick(stage, done, count)

    def _write(
        self, raw: Any, table: str, names: str, width: int, rows: list[tuple[Any, ...]]
    ) -> None:
        if self.postgres:
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * width)
        cursor = raw.cursor()
        try:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        finally:
            cursor.close()

    def sync_sequences(self, *tables: str) -> None:
        """Move PostgreSQL id sequences past the ids written explicitly."""
        if not self.postgres:
            return
        for table in tables:
            self.connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )


def rebuild_current_state(session: Session, assignment_ids: Collection[int] | None = None) -> int:
    """Recompute the cached current state from the reports, the yardstick for a load that
    bypassed append_report (as build_synthetic does); return how many assignments have reports."""
    done = Status.DONE.value
    wanted = list(assignment_ids) if assignment_ids is not None else None
    per = select(
        Report.assignment_id,
        func.max(Report.id).label("latest"),
        func.max(Report.created_at).label("last_at"),
        func.coalesce(func.max(case((Report.status != done, Report.id))), 0).label("last_open"),
    ).group_by(Report.assignment_id)
    if wanted is not None:
        per = per.where(Report.assignment_id.in_(wanted))
    agg = per.subquery()
    # The first "done" after the last report that was not "done" starts the final run.
    run_report = aliased(Report)
    run = (
        select(run_report.assignment_id, func.min(run_report.id).label("start"))
        .join(agg, agg.c.assignment_id == run_report.assignment_id)
        .where(run_report.status == done, run_report.id > agg.c.last_open)
        .group_by(run_report.assignment_id)
        .subquery()
    )
    latest, first = aliased(Report), aliased(Report)
    rows = session.execute(
        select(
            agg.c.assignment_id,
            agg.c.latest,
            latest.status,
            latest.percent,
            agg.c.last_at,
            first.created_at,
        )
        .join(latest, latest.id == agg.c.latest)
        .outerjoin(run, run.c.assignment_id == agg.c.assignment_id)
        .outerjoin(first, first.id == run.c.start)
    ).all()
    reset = update(Assignment).values(
        latest_report_id=None,
        current_status=None,
        current_percent=None,
        last_reported_at=None,
        completed_on=None,
    )
    if wanted is not None:
        reset = reset.where(Assignment.id.in_(wanted))
    session.execute(reset.execution_options(synchronize_session=False))
    if rows:
        session.execute(
            update(Assignment),
            [
                {
                    "id": a,
                    "latest_report_id": r,
                    "current_status": status,
                    "current_percent": pct,
                    "last_reported_at": last_at,
                    "completed_on": done_at.astimezone(HANOI).date()
                    if status == done and done_at
                    else None,
                }
                for a, r, status, pct, last_at, done_at in rows
            ],
        )
    session.expire_all()
    return len(rows)
