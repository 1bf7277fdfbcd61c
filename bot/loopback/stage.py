"""The real bots on loopback Bot API servers, with people to play: tests, demo, benchmarks.

A `Person` talks to the Telegram or the Zalo bot; `say`, `tap` and `send_file` return what
the bot answered, the same way on both platforms (on Zalo a tap types the option's number).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.app.runner import messengers_of
from bot.loopback.telegram_server import FakeTelegramServer
from bot.loopback.zalo_server import FakeZaloServer
from bot.telegram.adapter import TelegramBot
from bot.zalo.adapter import ZaloBot
from bot.zalo.api import ZaloBotApi
from handlers.events import Inbound
from handlers.ports import Messenger
from handlers.service import ConversationService
from handlers.settings import ConversationSettings
from storage.clock import Clock
from storage.db import Database
from storage.models import Role
from storage.people import create_invites

NUMBERED = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Person:
    platform: str  # "telegram" | "zalo"
    id: str
    name: str


@dataclass(frozen=True)
class Said:
    """One message from the bot: its text and the choices it offered."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    document: tuple[str, bytes] | None = None


def text_of(messages: list[Said]) -> str:
    return "\n".join(m.text for m in messages)


class Stage:
    """Both bots, their loopback servers and a transcript of everything said."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        data_dir: Path,
        *,
        settings: ConversationSettings | None = None,
        tz: object = None,
        telegram: bool = True,
        zalo: bool = True,
    ) -> None:
        from zoneinfo import ZoneInfo

        self.db = db
        self.clock = clock
        self.settings = settings or ConversationSettings()
        self.service = ConversationService(
            db,
            clock,
            self.settings,
            tz=tz or ZoneInfo("Asia/Ho_Chi_Minh"),  # type: ignore[arg-type]
            evidence_dir=data_dir / "evidence",
            bot_username="tiendo_demo_bot",
        )
        self.telegram_server = (
            FakeTelegramServer(bot_username="tiendo_demo_bot") if telegram else None
        )
        self.zalo_server = FakeZaloServer() if zalo else None
        self.telegram: TelegramBot | None = None
        self.zalo: ZaloBot | None = None
        self.handled: Counter[str] = Counter()
        self._changed = asyncio.Event()
        self._next_id = 1000
        self.people: dict[str, Person] = {}
        self.lines: list[str] = []

    async def __aenter__(self) -> Stage:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        if self.telegram_server is not None:
            server = self.telegram_server
            await server.start()
            self.telegram = TelegramBot(
                self.service,
                server.token,
                base_url=server.base_url,
                base_file_url=server.base_file_url,
                on_handled=self._count,
            )
            await self.telegram.start_polling()
        if self.zalo_server is not None:
            await self.zalo_server.start()
            api = ZaloBotApi(
                self.zalo_server.token, base_url=self.zalo_server.base_url, poll_timeout=1.0
            )
            self.zalo = ZaloBot(self.service, api, on_handled=self._count)
            await self.zalo.start_polling()

    async def stop(self) -> None:
        if self.telegram is not None:
            await self.telegram.stop()
        if self.zalo is not None:
            await self.zalo.stop()
        for server in (self.telegram_server, self.zalo_server):
            if server is not None:
                await server.stop()

    @property
    def messengers(self) -> dict[str, Messenger]:
        return messengers_of(self.telegram, self.zalo)

    def _count(self, event: Inbound) -> None:
        self.handled[f"{event.platform}:{event.user_id}"] += 1
        self._changed.set()

    async def until_handled(self, person: Person, count: int, timeout: float = 10.0) -> None:
        key = f"{person.platform}:{person.id}"

        async def wait() -> None:
            while self.handled[key] < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)

    # people --------------------------------------------------------------------------------

    def person(self, name: str, platform: str = "telegram") -> Person:
        self._next_id += 1
        person = Person(platform, str(self._next_id), name)
        if platform == "telegram":
            assert self.telegram_server is not None
            self.telegram_server.add_user(self._next_id, name)
        else:
            assert self.zalo_server is not None
            self.zalo_server.add_user(person.id, name)
        self.people[person.id] = person
        return person

    def invite(
        self,
        agency: str,
        role: str = Role.REPORTER,
        name: str = "",
        expires: timedelta = timedelta(days=7),
    ) -> str:
        with self.db.unit_of_work() as session:
            return create_invites(
                session, agency, role, 1, expires, self.clock.now(), "stage", member_name=name
            )[0].code

    async def join(
        self, name: str, agency: str, role: str = Role.REPORTER, platform: str = "telegram"
    ) -> Person:
        person = self.person(name, platform)
        code = self.invite(agency, role, name)
        text = f"/start {code}" if platform == "telegram" else code
        replies = await self.say(person, text)
        assert "Xin chào" in text_of(replies), replies
        return person

    # talking -------------------------------------------------------------------------------

    def received(self, person: Person) -> list[Said]:
        """Everything the bot sent this person so far, normalised across platforms."""
        if person.platform == "telegram":
            assert self.telegram_server is not None
            return [
                Said(m.text or "", m.buttons(), m.document)
                for m in self.telegram_server.messages_to(int(person.id))
            ]
        assert self.zalo_server is not None
        said = []
        for sent in self.zalo_server.messages_to(person.id):
            text = sent.text or sent.caption or ""
            said.append(Said(text, [(label, number) for number, label in NUMBERED.findall(text)]))
        return said

    async def _act(self, person: Person, action: object, shown: str) -> list[Said]:
        before = len(self.received(person))
        expected = self.handled[f"{person.platform}:{person.id}"] + 1
        self.lines.append(f"{person.name} ({person.platform}): {shown}")
        await action  # type: ignore[misc]
        await self.until_handled(person, expected)
        answers = self.received(person)[before:]
        for said in answers:
            buttons = (
                "".join(f" [{label}]" for label, _ in said.buttons)
                if person.platform == "telegram"
                else ""
            )
            document = f" <{said.document[0]}>" if said.document else ""
            self.lines.append("  bot: " + said.text.replace("\n", "\n       ") + buttons + document)
        return answers

    async def say(self, person: Person, text: str) -> list[Said]:
        """Type a message; return what the bot answered."""
        if person.platform == "telegram":
            assert self.telegram_server is not None
            return await self._act(
                person, self.telegram_server.send_text(int(person.id), text), text
            )
        assert self.zalo_server is not None
        return await self._act(person, self.zalo_server.send_text(person.id, text), text)

    async def tap(self, person: Person, label: str) -> list[Said]:
        """Choose the newest option whose label contains `label` (Zalo: type its number)."""
        if person.platform == "telegram":
            assert self.telegram_server is not None
            return await self._act(
                person, self.telegram_server.click_button(int(person.id), label), f"[{label}]"
            )
        for said in reversed(self.received(person)):
            for shown, number in said.buttons:
                if label in shown:
                    return await self.say(person, number)
        raise AssertionError(f"no option {label!r} offered to {person.name}")

    async def send_file(self, person: Person, name: str, content: bytes, mime: str) -> list[Said]:
        if person.platform == "telegram":
            assert self.telegram_server is not None
            return await self._act(
                person,
                self.telegram_server.send_document(int(person.id), name, content, mime),
                f"<{name}>",
            )
        assert self.zalo_server is not None
        return await self._act(
            person, self.zalo_server.send_image(person.id, content), f"<ảnh {name}>"
        )

    def transcript(self) -> str:
        return "\n".join(self.lines)
