"""Dialogs with the conversation core, as a table: what a person does, what they get back.

Each row drives the pure `step()` over an in-memory reader (tests/memory_reader.py: no database,
no transport). The turns before the last set the scene; the last turn's answer is checked for
what the person would notice (key words, the choices offered), the state it leaves, and exactly
the effects it asks the service to write. The end-to-end suites (tests/test_conversations.py and
the loopback tests) still play the same flows through the real bot and store.

A dialog is its turns joined by " > ", each written as the person acts:
    /baocao · 2.5 60% ghi chú · 2       typed text (a number answers a numbered Zalo menu)
    [2.5]                               tap the choice whose label is, starts with or holds
                                        "2.5", on the newest menu
    old[2.5]                            tap it on the first menu that offered it (scrolled up)
    📎 khao-sat.pdf                     send a PDF
    <sticker>                           send something the bot cannot read
    ⏱31                                 let 31 minutes pass
    📨                                  a minute later, the bot writes on its own (a reminder)
    data:v:12:ok                        send a button's data that no menu offered (forged;
                                        "data:@p:500" with the current menu's token)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from handlers.conversation import step
from handlers.core import (
    Conv,
    Effect,
    FailedJoin,
    GiveDirective,
    Join,
    MuteItem,
    ReviewReport,
    SaveReport,
    SendExport,
    SetAbsence,
    SetLanguage,
    State,
    StepContext,
    Transition,
    remember_menu,
)
from handlers.events import Choice, Inbound, InboundFile, Reply
from handlers.settings import ConversationSettings
from handlers.texts import Texts
from storage.chat_reader import (
    HistoryEntry,
    InviteView,
    ItemView,
    MemberView,
    ReportView,
)
from storage.directives import DirectiveView, RecipientView
from storage.people import ActiveMember
from storage.textfit import fit_file_name
from tests.harness import HANOI
from tests.memory_reader import AgencyRecord, MemoryReader, ProgrammeRecord, Roles, Store

TODAY = date(2020, 3, 23)
NOW = datetime(2020, 3, 23, 9, 0, tzinfo=HANOI)
SETTINGS = ConversationSettings()


def _at(day: int, month: int = 3, hour: int = 9) -> datetime:
    return datetime(2020, month, day, hour, 0, tzinfo=HANOI)


# --- the world: a slice of the Hà Nội – Hưng Yên programme on 23/03/2020 -------------------

AGENCIES = {
    a.code: a
    for a in [
        AgencyRecord(1, "HN-UBND", "Ủy ban nhân dân thành phố Hà Nội", "HN"),
        AgencyRecord(2, "HN-KHDT", "Sở Kế hoạch và Đầu tư Hà Nội", "HN"),
        AgencyRecord(3, "HN-CT", "Sở Công Thương Hà Nội", "HN"),
        AgencyRecord(4, "HN-GTVT", "Sở Giao thông vận tải Hà Nội", "HN"),
        AgencyRecord(5, "HN-TNMT", "Sở Tài nguyên và Môi trường Hà Nội", "HN"),
        AgencyRecord(6, "HN-LDTBXH", "Sở Lao động - Thương binh và Xã hội Hà Nội", "HN"),
        AgencyRecord(7, "HY-CT", "Sở Công Thương Hưng Yên", "HY"),
        AgencyRecord(8, "HY-GTVT", "Sở Giao thông vận tải Hưng Yên", "HY"),
        AgencyRecord(9, "HY-TNMT", "Sở Tài nguyên và Môi trường Hưng Yên", "HY"),
        AgencyRecord(10, "HY-LDTBXH", "Sở Lao động - Thương binh và Xã hội Hưng Yên", "HY"),
        AgencyRecord(11, "HY-KHDT", "Sở Kế hoạch và Đầu tư Hưng Yên", "HY"),
        AgencyRecord(12, "HN-YT", "Sở Y tế Hà Nội", "HN"),
        AgencyRecord(13, "HB-YT", "Sở Y tế Hòa Bình", "HB"),
        AgencyRecord(14, "HB-GTVT", "Sở Giao thông vận tải Hòa Bình", "HB"),
        AgencyRecord(15, "HB-KHDT", "Sở Kế hoạch và Đầu tư Hòa Bình", "HB"),
        AgencyRecord(16, "HN-NN", "Sở Nông nghiệp và Phát triển nông thôn Hà Nội", "HN"),
    ]
}
HY = ProgrammeRecord(1, "ha-noi-hung-yen-2019", "HY", "Chương trình hợp tác Hà Nội – Hưng Yên")
HB = ProgrammeRecord(
    2, "ha-noi-hoa-binh-2019", "HB", "Chương trình hợp tác Hà Nội – Hòa Bình",
    cadence="semiannual", due_day=20,
)  # fmt: skip
ITEMS = {
    i.code: i
    for i in [
        ItemView(1, 1, "2", "Về hợp tác phát triển kinh tế - xã hội", ""),
        ItemView(2, 1, "2.2", "Về lĩnh vực nông nghiệp", ""),
        ItemView(3, 1, "2.2.b", "Kết nối cung cầu, tiêu thụ nông sản Hưng Yên tại Hà Nội", ""),
        ItemView(4, 1, "2.4", "Về lĩnh vực văn hóa, du lịch", ""),
        ItemView(5, 1, "2.4.c", "Tour du lịch kết nối Hà Nội - Hưng Yên", ""),
        ItemView(
            6,
            1,
            "2.5",
            "Lĩnh vực giao thông",
            "Dự án đường vành đai 4 và cầu Mễ Sở; mở mới tuyến buýt Hưng Yên - Hà Nội.",
        ),  # fmt: skip
        ItemView(7, 1, "2.6", "Hợp tác phát triển đô thị, bảo vệ môi trường", ""),
        ItemView(8, 1, "2.6.c", "Bảo vệ và quản lý môi trường", ""),
        ItemView(9, 1, "2.8", "Về đảm bảo an sinh xã hội", ""),
    ]
}
# The Hòa Bình programme beside it: the same codes, other commitments.
SECOND_ITEMS = [
    ItemView(20, 1, "2.2.a", "Ứng dụng tiến bộ kỹ thuật trong sản xuất nông nghiệp", ""),
    ItemView(21, 1, "2.7", "Lĩnh vực y tế, giáo dục", ""),
    ItemView(22, 1, "2.7.a", "Chia sẻ kinh nghiệm trong lĩnh vực y tế", ""),
    ItemView(30, 2, "2.2", "Y tế", ""),
    ItemView(31, 2, "2.2.a", "Chuyển giao kỹ thuật cho Bệnh viện Đa khoa tỉnh Hòa Bình", ""),
    ItemView(32, 2, "2.2.b", "Phòng, chống dịch bệnh truyền nhiễm vùng giáp ranh", ""),
    ItemView(33, 2, "3", "Hợp tác về giao thông, hạ tầng", ""),
    ItemView(34, 2, "3.a", "Đường nối đường Hồ Chí Minh với Quốc lộ 21A", ""),
]
VALID = InviteView("K7QXM3PA", "HN-GTVT", AGENCIES["HN-GTVT"].name, "reporter", "", None, None)


def programme() -> Store:
    """The Hưng Yên programme alone: ten assignments, some silent, one blocked, one overdue,
    one done."""
    p = Store(
        TODAY, {"HN": "Thành phố Hà Nội", "HY": "Tỉnh Hưng Yên"}, AGENCIES, [HY],
        list(ITEMS.values()),
        roles={
            (1, "HN-UBND"): Roles(leadership=True),
            (1, "HN-KHDT"): Roles(coordinates=True),
            (1, "HY-KHDT"): Roles(coordinates=True),
        },
    )  # fmt: skip
    p.assign(1, "2.2.b", "HN-CT", "lead", date(2020, 12, 31))
    p.assign(
        2, "2.2.b", "HY-CT", "lead", date(2020, 12, 31), status="done", percent=100,
        reported_at=_at(20, 2), reporter="Vũ Thị Hoa", report_id=10, completed_on=date(2020, 2, 20),
    )  # fmt: skip
    p.assign(3, "2.4.c", "HY-GTVT", "support", date(2020, 9, 30))
    p.assign(
        4, "2.5", "HY-GTVT", "lead", date(2020, 6, 30), status="in_progress", percent=40,
        note="Đã làm việc với Hà Nội về lộ trình", reported_at=_at(2), reporter="Nguyễn Thị Lan",
        report_id=11,
    )  # fmt: skip
    p.assign(5, "2.5", "HN-GTVT", "lead", date(2020, 6, 30))
    p.assign(
        6, "2.5", "HN-KHDT", "support", date(2020, 6, 30), status="in_progress", percent=20,
        reported_at=_at(10, 2), report_id=9,
    )  # fmt: skip
    p.assign(
        7, "2.6.c", "HN-TNMT", "lead", date(2020, 12, 31), status="in_progress", percent=10,
        reported_at=_at(5), reporter="Đỗ Minh Tâm", report_id=12,
    )  # fmt: skip
    p.assign(
        8, "2.6.c", "HY-TNMT", "lead", date(2020, 12, 31), status="blocked", percent=30,
        note="Chưa bố trí được vốn đối ứng", reported_at=_at(12), report_id=14,
    )  # fmt: skip
    p.assign(
        9, "2.8", "HN-LDTBXH", "lead", date(2019, 12, 31), status="in_progress", percent=50,
        reported_at=_at(15, 1), report_id=8,
    )  # fmt: skip
    p.assign(10, "2.8", "HY-LDTBXH", "support", date(2019, 12, 31))
    p.history[4] = [
        HistoryEntry(11, _at(2), AGENCIES["HY-GTVT"].name, "in_progress", 40, "", ["khao-sat.pdf"])
    ]
    p.directives[ITEMS["2.5"].id] = [
        DirectiveView(
            1, 1, "HY", "2.5", ITEMS["2.5"].title, 5, "Trần Quang Vinh",
            "Đề nghị hoàn thành khảo sát trước 30/6", _at(15), date(2020, 3, 20), None,
            (
                RecipientView(5, "HN-GTVT", AGENCIES["HN-GTVT"].name, "HN", "lead", True,
                              None, None, None, ""),
                RecipientView(2, "HN-KHDT", AGENCIES["HN-KHDT"].name, "HN", "support", True,
                              _at(16), "in_progress", 20, "Đã gửi phương án khảo sát"),
            ),
        )
    ]  # fmt: skip
    p.reports = [
        ReportView(
            14, _at(12), "HY-TNMT", AGENCIES["HY-TNMT"].name, "2.6.c", ITEMS["2.6.c"].title,
            "blocked", 30, "Chưa bố trí được vốn đối ứng", None, 1, "HY", "HY",
        ),
        ReportView(
            12, _at(5), "HN-TNMT", AGENCIES["HN-TNMT"].name, "2.6.c", ITEMS["2.6.c"].title,
            "in_progress", 10, "", "Đỗ Minh Tâm", 1, "HY", "HN",
        ),
        ReportView(
            11, _at(2), "HY-GTVT", AGENCIES["HY-GTVT"].name, "2.5", ITEMS["2.5"].title,
            "in_progress", 40, "Đã làm việc với Hà Nội về lộ trình", "Nguyễn Thị Lan", 1, "HY",
            "HY",
        ),
    ]  # fmt: skip
    p.invites = {
        "K7QXM3PA": VALID,
        "USED2222": replace(VALID, code="USED2222", problem="used"),
        "OLD00000": replace(VALID, code="OLD00000", problem="expired"),
        "VICE3333": replace(
            VALID, code="VICE3333", agency_code="HN-CT", agency_name=AGENCIES["HN-CT"].name,
            role="vice_chair", problem="not_leadership",
        ),
        "KHDT4444": replace(
            VALID, code="KHDT4444", agency_code="HN-KHDT", agency_name=AGENCIES["HN-KHDT"].name,
        ),
    }  # fmt: skip
    return p


def two_programmes() -> Store:
    """Hưng Yên and Hòa Bình side by side: Hà Nội's health department works in both (HY 2.2.a
    supporting, HY 2.7.a and HB 2.2.a, 2.2.b leading); its planning department coordinates
    both; its transport department reports on HY 2.5 and HB 3.a."""
    p = programme()
    p.programmes.append(HB)
    p.localities["HB"] = "Tỉnh Hòa Bình"
    p.items += SECOND_ITEMS
    p.roles |= {
        (2, "HN-UBND"): Roles(leadership=True),
        (2, "HN-KHDT"): Roles(coordinates=True),
        (2, "HB-KHDT"): Roles(coordinates=True),
    }
    p.assign(20, "2.2.a", "HN-NN", "lead", date(2020, 12, 31))
    p.assign(21, "2.2.a", "HN-YT", "support", date(2020, 12, 31))
    p.assign(22, "2.7.a", "HN-YT", "lead", date(2020, 12, 31))
    p.assign(30, "2.2.a", "HN-YT", "lead", date(2020, 6, 30), programme=2)
    p.assign(
        31, "2.2.a", "HB-YT", "lead", date(2020, 6, 30), programme=2, status="blocked",
        percent=20, note="Thiếu bác sĩ chuyên khoa", reported_at=_at(16), report_id=30,
    )  # fmt: skip
    p.assign(32, "2.2.b", "HN-YT", "lead", date(2019, 12, 31), programme=2)
    p.assign(33, "3.a", "HN-GTVT", "lead", date(2020, 12, 31), programme=2)
    p.assign(34, "3.a", "HB-GTVT", "lead", date(2020, 12, 31), programme=2)
    p.reports.insert(
        0,
        ReportView(
            31, _at(18), "HN-YT", AGENCIES["HN-YT"].name, "2.2.a", SECOND_ITEMS[4].title,
            "in_progress", 30, "", "Bùi Thị Yến", 2, "HB", "HN",
        ),
    )  # fmt: skip
    return p


def _member(member_id: int, name: str, role: str, agency: str) -> ActiveMember:
    a = AGENCIES[agency]
    return ActiveMember(member_id, name, role, a.id, a.code, a.name, a.locality_code, "vi", "")


@dataclass(frozen=True)
class Person:
    name: str  # how the table calls them
    member: ActiveMember | None  # None: an account no invite has linked yet
    team: tuple[MemberView, ...] = ()
    world: Callable[[], Store] = field(default=programme)  # what the store holds


STRANGER = Person("stranger", None)
LAN = Person(  # reporter for Hưng Yên's transport department: 2.4.c (support), 2.5 (lead)
    "Lan",
    _member(1, "Nguyễn Thị Lan", "reporter", "HY-GTVT"),
    (MemberView(6, "Trần Văn Bình"),),
)
HUNG = Person("Hùng", _member(2, "Lê Văn Hùng", "reporter", "HN-CT"))  # 2.2.b
TAM = Person("Tâm", _member(3, "Đỗ Minh Tâm", "reporter", "HN-TNMT"))  # 2.6.c
MAI = Person("Mai", _member(4, "Phạm Thu Mai", "coordinator", "HN-KHDT"))  # coordinating office
VINH = Person("Vinh", _member(5, "Trần Quang Vinh", "vice_chair", "HN-UBND"))  # Vice-Chair
HA = Person("Hà", _member(7, "Vũ Minh Hà", "coordinator", "HY-KHDT"))  # Hưng Yên's office
# In the world of two programmes:
YEN = Person("Yến", _member(8, "Bùi Thị Yến", "reporter", "HN-YT"), world=two_programmes)
MINH = Person("Minh", _member(9, "Trần Văn Minh", "reporter", "HN-GTVT"), world=two_programmes)
TAM2 = Person("Tâm (2)", TAM.member, world=two_programmes)  # still only in Hưng Yên's
MAI2 = Person("Mai (2)", MAI.member, world=two_programmes)  # coordinates both
HA2 = Person("Hà (2)", HA.member, world=two_programmes)  # coordinates Hưng Yên's only
VINH2 = Person("Vinh (2)", VINH.member, world=two_programmes)  # leadership in both


# --- the driver: what the service keeps between two steps -----------------------------------


class Chat:
    """One account talking to `step()`, keeping what the service would store between steps:
    the state, the draft (with a numbered menu's choices), the menu token and the language."""

    def __init__(self, person: Person) -> None:
        self.member = person.member
        self.reader = MemoryReader(person.world(), person.member, team=person.team)
        self.now = NOW
        self.conv = Conv(State.IDLE, {}, "vi", "0000", None)
        self.menus: list[list[Choice]] = []  # every set of choices shown, oldest first

    def act(self, turn: str) -> Transition | None:
        if turn.startswith("⏱"):
            self.now += timedelta(minutes=int(turn[1:]))
            return None
        if turn == "📨":
            self.now += timedelta(minutes=1)
            self.reader.told_at.append(self.now)
            return None
        ctx = StepContext(
            self.event(turn),
            self.conv,
            self.member,
            self.reader,
            self.now,
            self.now.date(),
            HANOI,
            Texts(self.conv.language, HANOI),
            SETTINGS,
        )
        transition = step(ctx)
        self.keep(transition)
        return transition

    def event(self, turn: str) -> Inbound:
        base = Inbound("telegram", "42", "42", "Người dùng")
        if turn.startswith("📎"):
            name = turn[1:].strip()
            file = InboundFile("document", name, "application/pdf", 52_000, f"file-{name}")
            return replace(base, file=file)
        if turn.startswith("<") and turn.endswith(">"):
            return replace(base, unsupported=turn[1:-1])
        if turn.startswith("data:"):
            data = turn.removeprefix("data:")
            return replace(base, choice=data.replace("@", f"{self.conv.menu_token}.", 1))
        if turn.endswith("]") and (turn.startswith("[") or turn.startswith("old[")):
            return replace(base, choice=self.find(turn))
        return replace(base, text=turn)

    def find(self, turn: str) -> str:
        """The data of the choice a tap names: on the newest menu, or ("old") the first."""
        wanted = turn[turn.index("[") + 1 : -1]
        menus = self.menus if turn.startswith("old") else self.menus[-1:]
        for choices in menus:
            for matches in (
                [c for c in choices if c.label == wanted],
                [c for c in choices if c.label.startswith(wanted)],
                [c for c in choices if wanted in c.label],
            ):
                if len(matches) == 1:
                    return matches[0].data
                assert not matches, f"{turn}: more than one choice fits: {matches}"
        raise AssertionError(f"{turn}: no such choice in {menus}")

    def keep(self, transition: Transition) -> None:
        """Store what the service stores (ConversationService._save and SetLanguage,
        FailedJoin from _apply): the next step must find the same conversation."""
        draft = remember_menu(transition.draft, transition.replies)
        self.menus += [r.flat_choices() for r in transition.replies if r.choices]
        language = self.conv.language
        for effect in transition.effects:
            if isinstance(effect, SetLanguage):
                language = effect.language
                if self.member is not None:
                    self.member = replace(self.member, language=language)
            elif isinstance(effect, FailedJoin):
                self.reader.failed_joins += 1
        self.conv = Conv(
            transition.state,
            draft,
            self.member.language if self.member else language,
            transition.menu_token or self.conv.menu_token,
            self.now,
        )


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sees:
    """What the person notices after the last turn, and what the step asks to be written."""

    words: tuple[str, ...]  # each appears in the replies (details included)
    offers: tuple[str, ...] | None  # the labels offered, in order ("…" ends a prefix); None: any
    state: State
    effects: tuple[Effect, ...]
    never: tuple[str, ...]  # words that must not appear


def ascii_id(text: str) -> str:
    """pytest escapes non-ASCII ids; fold the diacritics instead so ids stay readable."""
    text = text.replace("đ", "d").replace("Đ", "D").replace("📎", "file").replace("⏱", "wait")
    text = text.replace("📨", "bot writes").replace("\n", " / ")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def row(
    who: Person,
    dialog: str,
    sees: str | tuple[str, ...] = (),
    *,
    offers: tuple[str, ...] | None = None,
    state: State = State.IDLE,
    effects: tuple[Effect, ...] = (),
    never: str | tuple[str, ...] = (),
    id: str = "",
) -> Any:
    """One line of the table: `who` does the turns of `dialog` (split on " > "); the last
    turn's answer shows `sees`, offers `offers`, leaves `state` and asks for `effects`."""
    words = (sees,) if isinstance(sees, str) else sees
    absent = (never,) if isinstance(never, str) else never
    expected = Sees(words, offers, state, effects, absent)
    turns = tuple(dialog.split(" > "))
    return pytest.param(who, turns, expected, id=ascii_id(f"{who.name}: {id or dialog}"))


S = State
NOT_LINKED = "Tài khoản này chưa được liên kết"  # what an unlinked account hears
STATUSES = ("Đang thực hiện", "Hoàn thành", "Vướng mắc", "Chưa triển khai", "Huỷ")
PERCENTS = ("0%", "10%", "25%", "50%", "75%", "90%", "100%", "Huỷ")
CONFIRM = ("✅ Gửi báo cáo", "✏️ Sửa", "Huỷ")
MUTE = ("🔕 Tạm dừng nhắc việc…",)  # offered after a report that is not "done"
STEPS = ("/baocao", "[2.5]", "[Đang thực hiện]", "60", "Đã khảo sát lộ trình tuyến buýt")
REPORT = " > ".join(STEPS)  # Lan's report on 2.5, up to the evidence step
FILE = {
    "kind": "document", "file_name": "khao-sat.pdf", "mime_type": "application/pdf",
    "size": 52_000, "ref": "file-khao-sat.pdf",
}  # fmt: skip
NOTE = "Đã khảo sát lộ trình tuyến buýt"

# The rows are laid out by hand, one a line; the formatter would give each value its own line.
# fmt: off
UNLINKED = [
    row(STRANGER, "xin chào", (NOT_LINKED, "mã mời")),
    row(STRANGER, "/cuatoi", NOT_LINKED, never="2.5 ·"),
    row(STRANGER, "/tonghop", NOT_LINKED, never="TỔNG HỢP"),
    row(STRANGER, "2.5 60% xong khảo sát", NOT_LINKED),
    row(STRANGER, "/trogiup", NOT_LINKED),
    row(STRANGER, "/xyz", ("Không có lệnh /xyz", "/trogiup")),
    row(STRANGER, "AAAA-2222", "Mã mời AAAA-2222 không đúng", effects=(FailedJoin(),)),
    row(STRANGER, "USED2222", ("đã được sử dụng", "mã mới"), effects=(FailedJoin(),)),
    row(STRANGER, "old00000", "đã hết hạn", effects=(FailedJoin(),)),
    row(STRANGER, "k7qx-m3pa", offers=(), effects=(Join("K7QXM3PA"),)),
    row(STRANGER, "/start K7QX-M3PA", offers=(), effects=(Join("K7QXM3PA"),)),
    row(STRANGER, " > ".join(["AAAA2222"] * 5 + ["K7QXM3PA"]), ("quá 5 lần", "cơ quan đầu mối"),
        id="five wrong codes > K7QXM3PA"),
    row(STRANGER, "/ngonngu", offers=("Tiếng Việt", "English")),
    row(STRANGER, "/ngonngu en", "Switched to English", effects=(SetLanguage("en"),)),
    row(STRANGER, "/ngonngu en > hello", "not linked", never=NOT_LINKED),
]

REPORT_FLOW = [
    row(LAN, "/baocao", ("Chọn nội dung cần báo cáo (trang 1/1)",
                         "2.5 · Lĩnh vực giao thông — Đang thực hiện 40% · hạn 30/06/2020"),
        offers=("2.4.c Tour du lịch…", "2.5 Lĩnh vực giao thông", "Huỷ"), state=S.REPORT_ITEM),
    row(LAN, "/baocao > [2.5]", ("Nội dung 2.5: Lĩnh vực giao thông",
                                 "Hiện tại: Đang thực hiện 40%", "Tình trạng thực hiện?"),
        offers=STATUSES, state=S.REPORT_STATUS),
    row(LAN, "/baocao > [2.5] > [Đang thực hiện]", "bao nhiêu phần trăm",
        offers=PERCENTS, state=S.REPORT_PERCENT),
    row(LAN, "/baocao > [2.5] > [Đang thực hiện] > 60", "Ghi chú ngắn",
        offers=("Bỏ qua", "Huỷ"), state=S.REPORT_NOTE),
    row(LAN, REPORT, "minh chứng", offers=("Tiếp tục", "Huỷ"), state=S.REPORT_EVIDENCE),
    row(LAN, f"{REPORT} > [Tiếp tục]", ("Kiểm tra lại báo cáo", "Nội dung: 2.5",
                                        "Tình trạng: Đang thực hiện", "Tiến độ: 60%",
                                        f"Ghi chú: {NOTE}"),
        never="Minh chứng:", offers=CONFIRM, state=S.REPORT_CONFIRM),
    row(LAN, f"{REPORT} > [Tiếp tục] > [Gửi báo cáo]",
        ("Đã ghi nhận báo cáo nội dung 2.5: Đang thực hiện 60%", "Đang thực hiện trong hạn"),
        offers=MUTE, effects=(SaveReport(4, "in_progress", 60, NOTE),)),
    row(LAN, f"{REPORT} > 📎 khao-sat.pdf", ("Đã nhận tệp khao-sat.pdf", "Đã nhận 1 tệp"),
        offers=("Tiếp tục", "Huỷ"), state=S.REPORT_EVIDENCE),
    row(LAN, f"{REPORT} > 📎 khao-sat.pdf > [Tiếp tục]", "Minh chứng: 1 tệp",
        offers=CONFIRM, state=S.REPORT_CONFIRM),
    row(LAN, f"{REPORT} > 📎 khao-sat.pdf > [Tiếp tục] > [Gửi báo cáo]", "Đã ghi nhận",
        offers=MUTE, effects=(SaveReport(4, "in_progress", 60, NOTE, (FILE,)),)),
    row(LAN, "/baocao > [2.5] > [Hoàn thành] > [Bỏ qua] > [Tiếp tục] > [Gửi báo cáo]",
        ("Hoàn thành 100%", "Hoàn thành đúng hạn"), offers=(),
        effects=(SaveReport(4, "done", 100, ""),)),
    row(LAN, "/baocao > [2.5] > [Đang thực hiện] > [100%] > [Bỏ qua] > [Tiếp tục]",
        ("Tình trạng: Hoàn thành", "Tiến độ: 100%"), offers=CONFIRM, state=S.REPORT_CONFIRM),
    row(LAN, f"{REPORT} > [Tiếp tục] > [Sửa]", "Tình trạng thực hiện?",
        offers=STATUSES, state=S.REPORT_STATUS),
    row(LAN, f"{REPORT} > [Tiếp tục] > [Gửi báo cáo] > [Tạm dừng nhắc việc]",
        ("Đã tạm dừng nhắc việc", "2.5", "7 ngày"), effects=(MuteItem(4),)),
]

CANCEL_AT_EACH_STEP = [
    row(LAN, " > ".join((*STEPS[:n], "/huy")), ("Đã huỷ", "Chưa có gì được lưu"), offers=())
    for n in range(1, len(STEPS) + 1)
] + [
    row(LAN, f"{REPORT} > [Tiếp tục] > /huy", "Đã huỷ", offers=()),
    row(LAN, "/baocao > [2.5] > [Huỷ]", "Đã huỷ", offers=()),
    row(LAN, "/huy", "Không có thao tác nào"),
]

MENUS_AND_MISTAKES = [
    row(LAN, "/baocao > [2.5] > old[2.5]", ("Menu này đã hết hạn", "/baocao"),
        state=S.REPORT_STATUS),
    row(LAN, "/baocao > /huy > old[2.5]", "Menu này đã hết hạn"),
    row(LAN, "/baocao > /baocao > old[2.5]", "Menu này đã hết hạn", state=S.REPORT_ITEM),
    row(LAN, "/baocao > 2", ("Nội dung 2.5", "Tình trạng thực hiện?"), state=S.REPORT_STATUS),
    row(LAN, "/baocao > 2 > 1", "bao nhiêu phần trăm", state=S.REPORT_PERCENT),
    row(LAN, "/baocao > 2 > 1 > 60", "Ghi chú ngắn", state=S.REPORT_NOTE),
    row(LAN, "/baocao > 2 > 9", ("Không có lựa chọn số 9", "từ 1 đến 5"), state=S.REPORT_STATUS),
    row(LAN, "/baocao > [2.5] > dang thuc hien 70", "Ghi chú ngắn", state=S.REPORT_NOTE),
    row(LAN, "/baocao > [2.5] > abc", ("chọn một trong các nút", "Tình trạng thực hiện?"),
        offers=STATUSES, state=S.REPORT_STATUS),
    row(LAN, "/baocao > [2.5] > [Đang thực hiện] > 150", "không thể là 150%",
        state=S.REPORT_PERCENT),
    row(LAN, "/baocao > [2.5] > [Đang thực hiện] > sáu mươi",
        "“sáu mươi” không phải là một con số", state=S.REPORT_PERCENT),
    row(LAN, f"/baocao > [2.5] > [Đang thực hiện] > 60 > {'x' * 2001}", "vượt giới hạn 2000",
        state=S.REPORT_NOTE, id="/baocao > [2.5] > [Dang thuc hien] > 60 > 2001 characters"),
    row(LAN, f"{REPORT} > thêm chữ", "gửi ảnh hoặc tệp", state=S.REPORT_EVIDENCE),
    row(LAN, "/baocao > [2.5] > ⏱31 > 60", "hết hạn vì không hoạt động 30 phút"),
    row(LAN, "<sticker>", "chưa đọc được nhãn dán"),
    row(LAN, "📎 khao-sat.pdf", "bắt đầu báo cáo bằng /baocao"),
    row(LAN, "hôm nay trời đẹp", ("Tôi chưa hiểu", "/baocao")),
]

QUICK_REPORTS = [
    row(LAN, "2.5 60% đã khảo sát tuyến buýt",
        ("Kiểm tra lại báo cáo", "Tình trạng: Đang thực hiện", "Tiến độ: 60%",
         "Ghi chú: đã khảo sát tuyến buýt"), offers=CONFIRM, state=S.REPORT_CONFIRM),
    row(LAN, "2.5 60% đã khảo sát tuyến buýt > [Gửi báo cáo]", "Đã ghi nhận", offers=MUTE,
        effects=(SaveReport(4, "in_progress", 60, "đã khảo sát tuyến buýt"),)),
    row(HUNG, "2.2.b hoan thanh", ("Tình trạng: Hoàn thành", "Tiến độ: 100%", "Ghi chú: —"),
        offers=CONFIRM, state=S.REPORT_CONFIRM),
    row(HUNG, "2.2.B. xong > [Gửi báo cáo]", "Hoàn thành đúng hạn",
        effects=(SaveReport(1, "done", 100, ""),)),
    row(TAM, "2.6.c vuong mac 20", ("Vướng mắc là gì", "bắt buộc"), offers=("Huỷ",),
        state=S.REPORT_NOTE),
    row(TAM, "2.6.c vuong mac 20 > /huy", "Đã huỷ"),
    row(TAM, "2.6.c vuong mac", "bao nhiêu phần trăm", state=S.REPORT_PERCENT),
    row(TAM, "2.6.c vuong mac 20 > chưa có vốn đối ứng > [Tiếp tục] > [Gửi báo cáo]",
        "Vướng mắc 20%", offers=MUTE,
        effects=(SaveReport(7, "blocked", 20, "chưa có vốn đối ứng"),)),
    row(LAN, "2.8 xong", ("2.8 không được giao cho Sở Giao thông vận tải Hưng Yên", "/cuatoi")),
    row(LAN, "9.9 60%", ("Không có nội dung mã 9.9", "/cuatoi")),
    row(LAN, "2.5 150%", "không thể là 150%"),
    row(LAN, "2.5", ("Nội dung 2.5", "Tình trạng thực hiện?"), state=S.REPORT_STATUS),
    row(LAN, "2.5 khảo sát xong tuyến", "Chưa rõ tình trạng của nội dung 2.5"),
    row(LAN, "/baocao > 2.5 60% gõ thẳng", "Tiến độ: 60%", offers=CONFIRM,
        state=S.REPORT_CONFIRM),
]

LOOKING = [
    row(LAN, "/cuatoi", ("Nội dung của Sở Giao thông vận tải Hưng Yên (2)",
                         "2.4.c · Tour du lịch kết nối Hà Nội - Hưng Yên — Chưa báo cáo",
                         "2.5 · Lĩnh vực giao thông — Đang thực hiện 40% · hạn 30/06/2020",
                         "(chủ trì; Đang thực hiện trong hạn)", "(phối hợp; Chưa báo cáo)")),
    row(LAN, "/muc 2.5", ("2.5 · Lĩnh vực giao thông", "cầu Mễ Sở",
                          "Sở Giao thông vận tải Hà Nội (HN, chủ trì)", "Báo cáo gần đây",
                          "khao-sat.pdf", "Chỉ đạo", "Trần Quang Vinh"),
        offers=("Báo cáo nội dung này",)),
    row(LAN, "/muc 2.5 > [Báo cáo nội dung này]", offers=STATUSES, state=S.REPORT_STATUS),
    row(LAN, "/muc 2.8", "2.8 không thuộc phạm vi"),
    row(LAN, "/muc 9.9", "Không có nội dung mã 9.9"),
    row(LAN, "/muc", "/muc 2.5"),
    row(LAN, "/vangmat 5", ("Vắng 5 ngày", "Ai nhận nhắc việc thay"),
        offers=("Trần Văn Bình", "Huỷ")),
    row(LAN, "/vangmat 5 > [Trần Văn Bình]", ("5 ngày", "Trần Văn Bình"),
        effects=(SetAbsence(6, 5),)),
]

LANGUAGE = [
    row(LAN, "/ngonngu", "Chọn ngôn ngữ", offers=("Tiếng Việt", "English")),
    row(LAN, "/ngonngu > [English]", "Switched to English", effects=(SetLanguage("en"),)),
    row(LAN, "/ngonngu > [English] > /baocao", "Choose the item to report (page 1/1)",
        never="Chọn nội dung", offers=("2.4.c…", "2.5…", "Cancel"), state=S.REPORT_ITEM),
    row(LAN, "/ngonngu > [English] > 2.5 60% surveyed the bus route",
        ("Check your report", "Progress: 60%", "surveyed the bus route"), never="Kiểm tra",
        state=S.REPORT_CONFIRM),
    row(LAN, "/ngonngu en > /ngonngu vi > /baocao", "Chọn nội dung cần báo cáo",
        state=S.REPORT_ITEM),
]

COORDINATOR = [
    row(MAI, "/tonghop", ("TỔNG HỢP TIẾN ĐỘ đến 23/03/2020", "10 nhiệm vụ",
                          "tiến độ bình quân 25%", "hoàn thành 10%",
                          "Theo lĩnh vực", "2.5 Lĩnh vực giao thông: 20% (0/3 xong)",
                          "Theo địa phương", "HY Tỉnh Hưng Yên",
                          "Quá hạn: 2 · Vướng mắc: 1 · Chưa báo cáo kỳ này: 6",
                          "Tỷ lệ báo cáo kỳ tháng 3/2020 (hạn 25/03/2020): 33%")),
    row(MAI, "/quahan", ("QUÁ HẠN (2)", "HN-LDTBXH: 2.8", "HY-LDTBXH: 2.8",
                         "VƯỚNG MẮC, CẦN QUYẾT ĐỊNH (1)",
                         "HY-TNMT: 2.6.c", "Chưa bố trí được vốn đối ứng"),
        offers=("Xem 2.6.c", "Xem 2.8")),
    row(MAI, "/quahan > [Xem 2.8]", ("2.8 · Về đảm bảo an sinh xã hội", "Đang thực hiện quá hạn"),
        offers=()),
    row(MAI, "/chuabaocao", ("CHƯA BÁO CÁO kỳ tháng 3/2020, hạn 25/03/2020 (6 cơ quan)",
                             "HY-GTVT · Sở Giao thông vận tải Hưng Yên: 2.4.c",
                             "HN-KHDT · Sở Kế hoạch và Đầu tư Hà Nội: 2.5"), never="HY-CT"),
    # A coordinating office reviews its own locality's reports: Hà Nội's, not Hưng Yên's.
    row(MAI, "/duyet", ("Báo cáo mới chờ xem xét",
                        "#12 05/03/2020 09:00 HN-TNMT 2.6.c: Đang thực hiện 10%"),
        never=("HY-GTVT", "HY-TNMT"), offers=("#12 2.6.c HN-TNMT",)),
    row(HA, "/duyet", "#11 02/03/2020 09:00 HY-GTVT 2.5: Đang thực hiện 40%",
        offers=("#14 2.6.c HY-TNMT", "#11 2.5 HY-GTVT"), never="HN-TNMT"),
    row(HA, "/duyet > [#11]", ("Báo cáo #11 của Sở Giao thông vận tải Hưng Yên (Nguyễn Thị Lan)",
                               "Đã làm việc với Hà Nội về lộ trình"),
        offers=("✅ Xác nhận", "↩️ Trả lại")),
    row(HA, "/duyet > [#11] > [Xác nhận]", "Đã xác nhận báo cáo #11",
        effects=(ReviewReport(11, "confirmed"),)),
    row(HA, "/duyet > [#11] > [Trả lại]", "Lý do trả lại báo cáo #11", state=S.REVIEW_REASON),
    row(HA, "/duyet > [#11] > [Trả lại] > ok", "ghi rõ lý do", state=S.REVIEW_REASON),
    row(HA, "/duyet > [#11] > [Trả lại] > Thiếu ảnh hiện trường",
        ("Đã trả lại báo cáo #11", "kèm lý do"),
        effects=(ReviewReport(11, "returned", "Thiếu ảnh hiện trường"),)),
    row(MAI, "/xuat", offers=(), effects=(SendExport(("ha-noi-hung-yen-2019",)),)),
    row(MAI, "/trogiup", ("/baocao", "/tonghop", "/duyet"), never="/chidao"),
    row(LAN, "/tonghop", ("Lệnh này dành cho cơ quan đầu mối và Phó Chủ tịch UBND",
                          "(chuyên viên)", "/trogiup"), never="TỔNG HỢP"),
    row(LAN, "/duyet", "Lệnh này dành cho cơ quan đầu mối;", never="#11"),
    row(LAN, "/trogiup", ("/baocao", "/cuatoi", "Báo cáo nhanh"),
        never=("/tonghop", "/duyet", "/chidao")),
    row(VINH, "/duyet", ("Lệnh này dành cho cơ quan đầu mối;",
                         "(Phó Chủ tịch UBND) không dùng được"), never="lãnh đạo UBND"),
]

SEND_LEAD = "Gửi cơ quan chủ trì"
TO_LEAD_OR_HY = ("Gửi cơ quan chủ trì (1)", "Gửi cả cơ quan của Tỉnh Hưng Yên (2)", "Huỷ")
VICE_CHAIR = [
    row(VINH, "/chidao 2.6.c Đề nghị báo cáo phương án vốn đối ứng",
        ("Chỉ đạo về nội dung 2.6.c · Bảo vệ và quản lý môi trường:",
         "“Đề nghị báo cáo phương án vốn đối ứng”",
         "Cơ quan chủ trì: Sở Tài nguyên và Môi trường Hà Nội",
         "Cơ quan của Tỉnh Hưng Yên: Sở Tài nguyên và Môi trường Hưng Yên", "Gửi tới:"),
        never=("HY 2.6.c", "hạn"), offers=TO_LEAD_OR_HY, state=S.DIRECTIVE_SCOPE),
    row(VINH, f"/chidao 2.6.c Đề nghị báo cáo phương án vốn đối ứng > [{SEND_LEAD}]", offers=(),
        effects=(GiveDirective(8, "Đề nghị báo cáo phương án vốn đối ứng", None, "lead"),)),
    row(VINH, "/chidao 2.6.c Làm ngay > [Gửi cả cơ quan của Tỉnh Hưng Yên]",
        effects=(GiveDirective(8, "Làm ngay", None, "counterpart"),)),
    row(VINH, "/chidao 2.6.c Làm ngay > 1", effects=(GiveDirective(8, "Làm ngay", None, "lead"),),
        id="/chidao 2.6.c Lam ngay > 1 (typed on Zalo)"),
    row(VINH, "/chidao 2.5 15/04 Đề nghị hoàn thành khảo sát",
        ("Chỉ đạo về nội dung 2.5 · Lĩnh vực giao thông, hạn 15/04/2020:",
         "Cơ quan phối hợp: Sở Kế hoạch và Đầu tư Hà Nội"),
        offers=("Gửi cơ quan chủ trì (1)", "Gửi cả cơ quan phối hợp (2)",
                "Gửi cả cơ quan của Tỉnh Hưng Yên (3)", "Huỷ"), state=S.DIRECTIVE_SCOPE),
    row(VINH, "/chidao 2.5 15/04 Đề nghị hoàn thành khảo sát > [Gửi cả cơ quan phối hợp]",
        effects=(GiveDirective(6, "Đề nghị hoàn thành khảo sát", date(2020, 4, 15), "support"),)),
    row(VINH, "/chidao 2.5 15/01/2021 Đề nghị hoàn thành", "hạn 15/01/2021",
        state=S.DIRECTIVE_SCOPE),
    row(VINH, "/chidao 2.5 15/01 Làm ngay",
        ("Hạn 15/01 đã qua (hôm nay 23/03/2020)", "ghi đủ năm, ví dụ 15/01/2021")),
    row(VINH, "/chidao 2.5 01/03/2020 Làm ngay", "Hạn 01/03/2020 đã qua"),
    row(VINH, "/chidao 2.5 31/02 Làm ngay", "Ngày 31/02 không có trên lịch"),
    row(VINH, "/chidao 2.6.c", "nhập nội dung chỉ đạo về 2.6.c · Bảo vệ và quản lý môi trường",
        state=S.DIRECTIVE_TEXT),
    row(VINH, "/chidao 2.6.c > 20/04 Khẩn trương bố trí vốn", "hạn 20/04/2020",
        offers=TO_LEAD_OR_HY, state=S.DIRECTIVE_SCOPE),
    row(VINH, f"/chidao 2.6.c > 20/04 Khẩn trương bố trí vốn > [{SEND_LEAD}]",
        effects=(GiveDirective(8, "Khẩn trương bố trí vốn", date(2020, 4, 20), "lead"),)),
    row(VINH, "/chidao 2.6.c > 31/04 Khẩn trương", "Ngày 31/04 không có trên lịch",
        state=S.DIRECTIVE_TEXT),
    row(VINH, "/chidao 2.6.c Làm ngay > thêm ý", "Đề nghị chọn một trong các lựa chọn",
        state=S.DIRECTIVE_SCOPE),
    row(VINH, "/chidao 2.6.c Làm ngay > /huy", "Đã huỷ"),
    row(VINH, "/chidao 9.9 Làm ngay", "Không có nội dung mã 9.9"),
    row(VINH, "/chidao", ("CHỈ ĐẠO ĐANG CHỜ BÁO CÁO (1)",
                          "2.5 · 15/03/2020 · QUÁ HẠN 20/03/2020 — chờ Sở Giao thông vận tải Hà Nội",
                          "/chidao <mã> [hạn dd/mm] <nội dung>"), offers=("2.5 · 15/03/2020",)),
    row(VINH, "/chidao > [2.5]", ("Chỉ đạo của Trần Quang Vinh ngày 15/03/2020 09:00 về nội dung "
                                  "2.5 · Lĩnh vực giao thông (QUÁ HẠN 20/03/2020)",
                                  "• Sở Giao thông vận tải Hà Nội (chủ trì): chưa báo cáo",
                                  "• Sở Kế hoạch và Đầu tư Hà Nội (phối hợp): đã báo cáo 16/03/2020 "
                                  "09:00: Đang thực hiện 20%: Đã gửi phương án khảo sát")),
    row(VINH, "/tonghop", "TỔNG HỢP TIẾN ĐỘ"),
    row(VINH, "/muc 2.6.c", "Vướng mắc 30%", offers=("Gửi chỉ đạo",)),
    row(VINH, "/muc 2.5", ("Chỉ đạo:", "Trần Quang Vinh: Đề nghị hoàn thành khảo sát trước 30/6 "
                           "(QUÁ HẠN 20/03/2020)", "Đã báo cáo: Sở Kế hoạch và Đầu tư Hà Nội",
                           "Chờ báo cáo: Sở Giao thông vận tải Hà Nội")),
    row(VINH, f"/muc 2.6.c > [Gửi chỉ đạo] > Đề nghị Sở TNMT báo cáo > [{SEND_LEAD}]",
        effects=(GiveDirective(8, "Đề nghị Sở TNMT báo cáo", None, "lead"),)),
    row(VINH2, "/chidao 2.2.b 15/04 Đẩy nhanh tiêu thụ", "Mã 2.2.b có trong 2 chương trình",
        offers=("HY · 2.2.b Kết nối cung cầu…", "HB · 2.2.b Phòng, chống dịch…", "Huỷ"),
        state=S.DIRECTIVE_PROGRAMME),
    row(VINH2, "/chidao 2.2.b 15/04 Đẩy nhanh tiêu thụ > [HY · 2.2.b]",
        ("Chỉ đạo về nội dung HY 2.2.b", "hạn 15/04/2020", "“Đẩy nhanh tiêu thụ”"),
        offers=TO_LEAD_OR_HY, state=S.DIRECTIVE_SCOPE),
    row(VINH2, f"/chidao 2.2.b 15/04 Đẩy nhanh tiêu thụ > [HY · 2.2.b] > [{SEND_LEAD}]",
        effects=(GiveDirective(3, "Đẩy nhanh tiêu thụ", date(2020, 4, 15), "lead"),)),
    row(VINH2, "/chidao 2.2.b > [HB · 2.2.b]", "nội dung chỉ đạo về HB 2.2.b",
        state=S.DIRECTIVE_TEXT),
    row(VINH2, "/chidao hy 2.2.b Đẩy nhanh", "Chỉ đạo về nội dung HY 2.2.b",
        offers=TO_LEAD_OR_HY, state=S.DIRECTIVE_SCOPE),
    row(VINH2, f"/chidao HB 2.2.b Đẩy nhanh > [{SEND_LEAD}]",
        effects=(GiveDirective(32, "Đẩy nhanh", None, "lead"),)),
    row(VINH2, "/chidao XY 2.2.b Đẩy nhanh", ("Không có chương trình “XY”", "/chidao 2.5")),
    row(VINH2, "/chidao HB 2.6.c Đẩy nhanh", "Không có nội dung mã 2.6.c trong chương trình HB"),
    row(LAN, "/chidao 2.5 Làm ngay", ("Lệnh này dành cho Phó Chủ tịch UBND;", "(chuyên viên)"),
        never="cơ quan đầu mối"),
    row(VINH, "/trogiup", ("/muc", "/tonghop", "/chidao"),
        never=("/baocao", "/cuatoi", "/sua", "/duyet", "Báo cáo nhanh")),
    row(VINH, "/baocao", ("Lệnh này dành cho chuyên viên và cơ quan đầu mối;",
                          "(Phó Chủ tịch UBND)"), never="Chọn nội dung"),
    row(VINH, "2.6.c 50%", "Lệnh này dành cho chuyên viên và cơ quan đầu mối"),
    row(VINH, "/muc 2.8", ("2.8 · Về đảm bảo an sinh xã hội", "Sở Lao động"),
        offers=("Gửi chỉ đạo",)),  # any item of a programme where the office has leadership
    row(MAI, "/chidao", "không dùng được", never="CHỈ ĐẠO"),
]

# An official whose agency works in both programmes: lists grouped, a code in both asked about.
HY_TITLE = "HY — Chương trình hợp tác Hà Nội – Hưng Yên"
HB_TITLE = "HB — Chương trình hợp tác Hà Nội – Hòa Bình"
WHICH = ("HY · 2.2.a…", "HB · 2.2.a…", "Huỷ")
YEN_NOTE = "đã cử 2 bác sĩ"
SEVERAL_PROGRAMMES = [
    row(YEN, "/baocao", (HY_TITLE, HB_TITLE, "HB · 2.2.a · Chuyển giao kỹ thuật"),
        offers=("HY · 2.2.a…", "HY · 2.7.a…", "HB · 2.2.a…", "HB · 2.2.b…", "Huỷ"),
        state=S.REPORT_ITEM),
    row(YEN, "/baocao > [HB · 2.2.b]", "Nội dung HB · 2.2.b: Phòng, chống dịch bệnh",
        offers=STATUSES, state=S.REPORT_STATUS),
    row(YEN, "/baocao HB", "HB · 2.2.b · Phòng, chống dịch bệnh", never=("HY ·", HY_TITLE),
        offers=("HB · 2.2.a…", "HB · 2.2.b…", "Huỷ"), state=S.REPORT_ITEM),
    row(YEN, "/cuatoi", ("Nội dung của Sở Y tế Hà Nội (4)", f"{HY_TITLE}:", f"{HB_TITLE}:",
                         "• HY · 2.7.a · Chia sẻ kinh nghiệm", "• HB · 2.2.b · Phòng, chống")),
    row(YEN, f"2.2.a 50% {YEN_NOTE}", ("Mã 2.2.a có trong 2 chương trình",
                                         "báo cáo cho chương trình nào",
                                         "HB · 2.2.a · Chuyển giao kỹ thuật"),
        never="Kiểm tra lại", offers=WHICH, state=S.PICK_PROGRAMME),
    row(YEN, f"2.2.a 50% {YEN_NOTE} > [HB · 2.2.a]",
        ("Kiểm tra lại báo cáo", "Nội dung: HB · 2.2.a · Chuyển giao", "Tiến độ: 50%",
         f"Ghi chú: {YEN_NOTE}"), offers=CONFIRM, state=S.REPORT_CONFIRM),
    row(YEN, f"2.2.a 50% {YEN_NOTE} > 2", "Nội dung: HB · 2.2.a", offers=CONFIRM,
        state=S.REPORT_CONFIRM, id="2.2.a 50% > 2 (Zalo: the second programme)"),
    row(YEN, f"2.2.a 50% {YEN_NOTE} > [HB · 2.2.a] > [Gửi báo cáo]",
        "Đã ghi nhận báo cáo nội dung HB · 2.2.a: Đang thực hiện 50%", offers=MUTE,
        effects=(SaveReport(30, "in_progress", 50, YEN_NOTE),)),
    row(YEN, f"2.2.a 50% {YEN_NOTE} > [HY · 2.2.a] > [Gửi báo cáo]", "HY · 2.2.a", offers=MUTE,
        effects=(SaveReport(21, "in_progress", 50, YEN_NOTE),)),
    row(YEN, "2.2.a vuong mac > [HB · 2.2.a]", "bao nhiêu phần trăm", state=S.REPORT_PERCENT),
    row(YEN, "2.2.a 50% > /huy", "Đã huỷ"),
    row(YEN, "2.2.a 50% > hôm nay trời đẹp", "Vui lòng chọn một trong các lựa chọn",
        state=S.PICK_PROGRAMME),
    row(YEN, "2.2.a 50% > HB 2.2.b 20%", "Nội dung: HB · 2.2.b", state=S.REPORT_CONFIRM),
    row(YEN, "2.2.a 150%", "không thể là 150%"),
    row(YEN, f"HB 2.2.a 50% {YEN_NOTE}", ("Nội dung: HB · 2.2.a", f"Ghi chú: {YEN_NOTE}"),
        offers=CONFIRM, state=S.REPORT_CONFIRM),
    row(YEN, "hb 2.2.a xong > [Gửi báo cáo]", "Hoàn thành", effects=(SaveReport(30, "done", 100, ""),)),
    row(YEN, "ha-noi-hoa-binh-2019 2.2.a 30%", "Nội dung: HB · 2.2.a", state=S.REPORT_CONFIRM),
    row(YEN, "HB 2.2.a", ("Nội dung HB · 2.2.a", "Tình trạng thực hiện?"), state=S.REPORT_STATUS),
    row(YEN, "2.7.a 40%", "Nội dung: HY · 2.7.a", offers=CONFIRM, state=S.REPORT_CONFIRM),
    row(YEN, "2.2.b 40%", "Nội dung: HB · 2.2.b", offers=CONFIRM, state=S.REPORT_CONFIRM),
    row(YEN, "HB 2.7.a 40%", "Chương trình HB không có nội dung mã 2.7.a"),
    row(YEN, "HY 2.2.b 40%", "Nội dung HY · 2.2.b không được giao cho Sở Y tế Hà Nội"),
    row(YEN, "/sua 2.2.a", "Mã 2.2.a có trong 2 chương trình", offers=WHICH,
        state=S.PICK_PROGRAMME),
    row(YEN, "/sua 2.2.a > [HB · 2.2.a]", "HB · 2.2.a chưa có báo cáo nào để sửa"),
    row(YEN, "/muc 2.2.a", "muốn xem nội dung của chương trình nào", offers=WHICH,
        state=S.PICK_PROGRAMME),
    row(YEN, "/muc 2.2.a > [HB · 2.2.a]", ("HB · 2.2.a · Chuyển giao kỹ thuật",
                                           "Sở Y tế Hòa Bình (HB, chủ trì): Vướng mắc 20%"),
        never="Ứng dụng tiến bộ", offers=("Báo cáo nội dung này",)),
    row(YEN, "/muc 2.2.a > [HB · 2.2.a] > [Báo cáo nội dung này]", "Nội dung HB · 2.2.a",
        offers=STATUSES, state=S.REPORT_STATUS),
    row(YEN, "/muc HB 2.2", ("HB · 2.2 · Y tế", "Sở Y tế Hòa Bình"), never="nông nghiệp"),
    row(YEN, "/muc 2.7.a", "HY · 2.7.a · Chia sẻ kinh nghiệm", offers=("Báo cáo nội dung này",)),
    row(YEN, "/trogiup", ("theo dõi 2 chương trình (HY, HB)", "HB 2.2.a 60%")),
    row(MINH, "3.a 40%", "Nội dung: HB · 3.a", state=S.REPORT_CONFIRM),
    row(MINH, "2.5 40%", "Nội dung: HY · 2.5", state=S.REPORT_CONFIRM),
    # One programme for her agency, two in the store: nothing changes.
    row(TAM2, "/cuatoi", "• 2.6.c · Bảo vệ và quản lý môi trường", never=("HY", "HB")),
    row(TAM2, "/baocao", offers=("2.6.c Bảo vệ…", "Huỷ"), never="HY —", state=S.REPORT_ITEM),
    row(TAM2, "2.6.c 20%", "Nội dung: 2.6.c · Bảo vệ", never="HY ·", state=S.REPORT_CONFIRM),
    row(TAM2, "/trogiup", "/baocao", never="chương trình ("),
]

COORDINATOR_OF_SEVERAL = [
    row(MAI2, "/tonghop", (HY_TITLE,
                           "Tỷ lệ báo cáo kỳ tháng 3/2020 (hạn 25/03/2020)",
                           HB_TITLE,
                           "Tỷ lệ báo cáo kỳ 6 tháng đầu năm 2020 (hạn 20/06/2020)")),
    row(MAI2, "/tonghop HB", (HB_TITLE, "6 tháng đầu năm 2020"),
        never=("Hưng Yên", "tháng 3/2020")),
    row(MAI2, "/tonghop hb", HB_TITLE, never="Hưng Yên"),
    row(MAI2, "/tonghop XX", "Không có chương trình “XX”. Các chương trình: HY, HB."),
    row(HA2, "/tonghop", "TỔNG HỢP TIẾN ĐỘ", never=(HY_TITLE, "Hòa Bình")),
    row(HA2, "/tonghop HB", "Chương trình HB không thuộc phạm vi theo dõi của Sở Kế hoạch và "
                            "Đầu tư Hưng Yên; anh/chị xem được: HY.", never="TỔNG HỢP"),
    row(MAI2, "/quahan", (HY_TITLE, "HN-LDTBXH: 2.8", HB_TITLE,
                          "HB-YT: 2.2.a", "Thiếu bác sĩ chuyên khoa", "HN-YT: 2.2.b"),
        offers=("Xem HY · 2.6.c", "Xem HY · 2.8", "Xem HB · 2.2.a", "Xem HB · 2.2.b")),
    row(MAI2, "/quahan > [Xem HB · 2.2.a]", ("HB · 2.2.a · Chuyển giao kỹ thuật",
                                             "Sở Y tế Hà Nội (HN, chủ trì)")),
    row(MAI2, "/chuabaocao", (HY_TITLE, "CHƯA BÁO CÁO kỳ tháng 3/2020",
                              HB_TITLE, "CHƯA BÁO CÁO kỳ 6 tháng đầu năm 2020",
                              "HN-YT · Sở Y tế Hà Nội: 2.2.a, 2.2.b")),
    row(MAI2, "/xuat", offers=(),
        effects=(SendExport(("ha-noi-hung-yen-2019", "ha-noi-hoa-binh-2019")),)),
    row(MAI2, "/xuat HB", offers=(), effects=(SendExport(("ha-noi-hoa-binh-2019",)),)),
    row(HA2, "/xuat HB", "không thuộc phạm vi theo dõi", offers=()),
    row(MAI2, "/duyet", ("#31 18/03/2020 09:00 HN-YT HB · 2.2.a: Đang thực hiện 30%",
                         "#12 05/03/2020 09:00 HN-TNMT HY · 2.6.c"),
        offers=("#31 HB · 2.2.a HN-YT", "#12 HY · 2.6.c HN-TNMT")),
    row(MAI2, "/duyet > [#31] > [Xác nhận]", "Đã xác nhận báo cáo #31",
        effects=(ReviewReport(31, "confirmed"),)),
    row(HA2, "/duyet", "#11", never=("#31", "#12")),
    # A forged button: a report that does not exist, or another office's to review.
    row(HA, "data:v:999999:ok", "Không tìm thấy báo cáo #999999", never="Đã xác nhận"),
    row(LAN, "data:l:klingon-and-more", "Chọn ngôn ngữ", offers=("Tiếng Việt", "English")),
    row(LAN, "/baocao > [2.5] > [Đang thực hiện] > data:@p:500", "bao nhiêu phần trăm",
        never="Ghi chú", state=S.REPORT_PERCENT),
    row(HA, "data:v:12:ok", ("Báo cáo #12 của Sở Tài nguyên và Môi trường Hà Nội không thuộc "
                             "phạm vi xem xét của Sở Kế hoạch và Đầu tư Hưng Yên"),
        never="Đã xác nhận"),
    row(HA, "data:v:12", "không thuộc phạm vi xem xét", offers=()),
    row(HA, "data:v:12:back", "không thuộc phạm vi xem xét", never="Lý do trả lại"),
    row(HA2, "data:v:31:ok", "không thuộc phạm vi xem xét", never="Đã xác nhận"),
    row(VINH2, "/muc 2.2.a", "muốn xem", offers=WHICH, state=S.PICK_PROGRAMME),
    row(VINH2, "/muc 2.2.a > [HB · 2.2.a]", ("Sở Y tế Hòa Bình", "Sở Y tế Hà Nội"),
        offers=("Gửi chỉ đạo",)),
    row(VINH2, "/muc HB 3.a", ("HB · 3.a", "Sở Giao thông vận tải Hòa Bình"),
        offers=("Gửi chỉ đạo",)),
    row(VINH2, "/trogiup", ("theo dõi 2 chương trình (HY, HB)", "/muc HB 2")),
]

ROLES_AND_INVITES = [
    row(STRANGER, "VICE3333", ("Mã mời này dành cho Phó Chủ tịch UBND",
                               "Sở Công Thương Hà Nội không phải nơi Phó Chủ tịch chỉ đạo")),
    row(LAN, "K7QXM3PA", ("Tài khoản này đang liên kết với Nguyễn Thị Lan — Sở Giao thông vận "
                          "tải Hưng Yên (chuyên viên)",
                          "chuyển sang Sở Giao thông vận tải Hà Nội (chuyên viên)",
                          "không còn của Sở Giao thông vận tải Hưng Yên"),
        offers=("Chuyển tài khoản", "Giữ như cũ"), state=S.CONFIRM_JOIN),
    row(LAN, "/start K7QX-M3PA", "có muốn chuyển không", state=S.CONFIRM_JOIN),
    row(LAN, "K7QXM3PA > [Chuyển tài khoản]", offers=(), effects=(Join("K7QXM3PA"),)),
    row(LAN, "K7QXM3PA > 1", offers=(), effects=(Join("K7QXM3PA"),), id="K7QXM3PA > 1 (Zalo)"),
    row(LAN, "K7QXM3PA > [Giữ như cũ]", "Tài khoản vẫn liên kết như cũ"),
    row(LAN, "K7QXM3PA > /huy", "Tài khoản vẫn liên kết như cũ"),
    row(MAI, "KHDT4444", "vẫn thuộc Sở Kế hoạch và Đầu tư Hà Nội nhưng vai trò đổi từ cơ quan "
                         "đầu mối sang chuyên viên", state=S.CONFIRM_JOIN),
    row(LAN, "USED2222", "đã được sử dụng", effects=(FailedJoin(),)),
]

LONG_NAME = "bien-ban-khao-sat-" * 25 + ".pdf"  # 454 characters: evidence.file_name takes 300
BAD_INPUT = [
    row(LAN, "²", "Tôi chưa hiểu", id="superscript two"),
    row(LAN, "①", "Tôi chưa hiểu", id="circled one"),
    row(LAN, "/baocao > ²", "Vui lòng chọn", state=S.REPORT_ITEM, id="/baocao > superscript two"),
    row(LAN, "/baocao > [2.5] > [Đang thực hiện] > ²", "“²” không phải là một con số",
        state=S.REPORT_PERCENT, id="percent: superscript two"),
    row(LAN, "/vangmat ²", "Số ngày vắng phải từ 1 đến 90", id="/vangmat superscript two"),
    row(LAN, "/vangmat -5", "Số ngày vắng phải từ 1 đến 90"),
    row(LAN, "2.5 -5%", "không thể là -5%"),
    row(LAN, "/baocao > [2.5] > [Đang thực hiện] > -5", "không thể là -5%",
        state=S.REPORT_PERCENT),
    row(LAN, "2.5 60% -15% so với kế hoạch > [Gửi báo cáo]",
        effects=(SaveReport(4, "in_progress", 60, "-15% so với kế hoạch"),), offers=MUTE),
    row(LAN, "2.5 xong\n- Đã khảo sát\n- Đã lập đề án > [Gửi báo cáo]",
        effects=(SaveReport(4, "done", 100, "- Đã khảo sát\n- Đã lập đề án"),)),
    row(LAN, f"2.5 60% {'x' * 2001}", "vượt giới hạn 2000", id="2.5 60% and 2001 characters"),
    row(LAN, "2.5 60% ghi\x00 chú\x1b[0m > [Gửi báo cáo]", offers=MUTE,
        effects=(SaveReport(4, "in_progress", 60, "ghi chú[0m"),)),
    row(LAN, f"{REPORT} > 📎 {LONG_NAME} > [Tiếp tục] > [Gửi báo cáo]", offers=MUTE,
        effects=(SaveReport(4, "in_progress", 60, NOTE, (
            dict(FILE, file_name=fit_file_name(LONG_NAME, 300), ref=f"file-{LONG_NAME}"),
        )),), id="a file name of 454 characters is cut to 300"),
]

ONLY_THE_CURRENT_MENU = [
    row(LAN, f"{REPORT} > [Tiếp tục] > [Gửi báo cáo] > 1", "Đã tạm dừng", effects=(MuteItem(4),),
        id="report > 1 at once mutes (the menu just shown)"),
    row(LAN, f"{REPORT} > [Tiếp tục] > [Gửi báo cáo] > ⏱31 > 1", "Menu này đã hết hạn",
        id="report > 31 minutes > 1"),
    row(LAN, f"{REPORT} > [Tiếp tục] > [Gửi báo cáo] > 📨 > 1", "Menu này đã hết hạn",
        id="report > a reminder > 1"),
    row(LAN, "/baocao > [2.5] > ⏱31 > 60", ("hết hạn vì không hoạt động 30 phút",
                                            "Gõ /baocao để báo cáo lại"),
        never="Không có nội dung mã 60"),
    row(LAN, "/baocao > [2.5] > ⏱31 > 📎 khao-sat.pdf", "hết hạn", never="bắt đầu báo cáo bằng"),
    row(LAN, "/baocao > [2.5] > ⏱31 > /cuatoi", ("hết hạn", "Nội dung của Sở Giao thông")),
    row(HA, "/duyet > [#11] > [Trả lại] > ⏱31 > Thiếu ảnh", ("hết hạn", "/duyet"),
        never="Đã trả lại"),
]
# fmt: on

DIALOGS = (
    UNLINKED
    + REPORT_FLOW
    + CANCEL_AT_EACH_STEP
    + MENUS_AND_MISTAKES
    + QUICK_REPORTS
    + LOOKING
    + LANGUAGE
    + COORDINATOR
    + VICE_CHAIR
    + SEVERAL_PROGRAMMES
    + COORDINATOR_OF_SEVERAL
    + ROLES_AND_INVITES
    + BAD_INPUT
    + ONLY_THE_CURRENT_MENU
)


def _offered(replies: list[Reply]) -> list[str]:
    return [c.label for r in replies for c in r.flat_choices()]


def _fits(label: str, expected: str) -> bool:
    return label.startswith(expected[:-1]) if expected.endswith("…") else label == expected


@pytest.mark.parametrize(("who", "turns", "expected"), DIALOGS)
def test_dialog(who: Person, turns: tuple[str, ...], expected: Sees) -> None:
    chat = Chat(who)
    last: Transition | None = None
    for turn in turns:
        last = chat.act(turn) or last
    assert last is not None
    text = "\n".join(r.text_with_details() for r in last.replies)
    for words in expected.words:
        assert words in text, f"missing {words!r} in:\n{text}"
    for words in expected.never:
        assert words not in text, f"unexpected {words!r} in:\n{text}"
    if expected.offers is not None:
        offered = _offered(last.replies)
        assert len(offered) == len(expected.offers), offered
        assert all(map(_fits, offered, expected.offers)), offered
    assert last.state == expected.state
    assert last.effects == list(expected.effects)
