"""A whole Paperboy bot in the test process: fake arXiv + fake Bot API, the real
python-telegram-bot Application polling the fake, the real core on a SQLite file, and a clock
the test moves. The scheduler is not started: tests call `cycle.tick()` when the time has come.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.chats import ChatService
from bot.config import load_settings
from bot.core import Core, open_core
from bot.cycle import DigestCycle
from bot.delivery import Channel, Deliverer
from bot.ratelimit import FloodLimits
from bot.service import Paperboy
from handlers.telegram.app import TelegramFrontend
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.telegram_server import FakeTelegram, FakeUser, SentMessage
from tests.pipeline_data import FakeClock, distractor_papers, talking_head_papers

LISTING = date(2026, 11, 20)


@dataclass
class Running:
    core: Core
    frontend: TelegramFrontend

    @property
    def app(self) -> Paperboy:
        return self.core.paperboy

    @property
    def chats(self) -> ChatService:
        return self.core.chats

    @property
    def cycle(self) -> DigestCycle:
        return self.core.cycle

    @property
    def deliverer(self) -> Deliverer:
        return self.core.deliverer


class BotHarness:
    """`async with BotHarness(...) as bot:` starts everything; leaving stops it cleanly."""

    def __init__(
        self,
        arxiv: FakeArxiv,
        tg: FakeTelegram,
        db: Path,
        clock: FakeClock,
        *,
        flood: FloodLimits | None = None,
        wrap_sender: Any = None,
    ) -> None:
        self.arxiv, self.tg, self.clock = arxiv, tg, clock
        self.settings = load_settings(
            ARXIV_API_URL=arxiv.api_url,
            ARXIV_RSS_URL=arxiv.rss_url,
            ARXIV_SITE_URL=arxiv.site_url,
            PAPERBOY_DB=str(db),
            PAPERBOY_ARXIV_DELAY="0",
            PAPERBOY_CATEGORIES="cs,eess",
            TELEGRAM_BOT_TOKEN=tg.token,
            TELEGRAM_API_URL=tg.base_url,
        )
        self._flood = flood
        self._wrap_sender = wrap_sender
        self._cm = open_core(self.settings, clock=clock)
        self.running: Running | None = None

    async def __aenter__(self) -> Running:
        core = await self._cm.__aenter__()
        frontend = TelegramFrontend(self.settings, core)
        channel: Channel[Any] = frontend.channel
        if self._wrap_sender is not None:
            channel = Channel(channel.renderer, self._wrap_sender(channel.sender), channel.limits)
        if self._flood is not None:
            channel = Channel(channel.renderer, channel.sender, self._flood)
        await frontend.start()
        core.add_channel("telegram", channel)  # as `paperboy run` does once a frontend is up
        await self.tg.wait_for_poll_async()
        self.running = Running(core, frontend)
        return self.running

    async def __aexit__(self, *exc: object) -> None:
        assert self.running is not None
        await self.running.frontend.stop()
        await self._cm.__aexit__(None, None, None)


async def say(tg: FakeTelegram, chat: Any, user: FakeUser | int | None, text: str,
              *, replies: int = 1) -> list[SentMessage]:  # fmt: skip
    """`user` writes `text` in `chat`; returns the bot's new messages there."""
    before = len(tg.sent_messages(chat))
    tg.send_text(chat, user, text)
    sent = await tg.wait_for_messages_async(chat, before + replies, timeout=10)
    return sent[before:]


def announce_talking_heads(arxiv: FakeArxiv) -> list[Any]:
    heads = talking_head_papers(LISTING)
    arxiv.announce(LISTING, new=[*heads, *distractor_papers(LISTING)])
    return heads


def listing_clock() -> FakeClock:
    clock = FakeClock(now=talking_head_papers(LISTING)[0].published)  # type: ignore[arg-type]
    clock.set_listing_evening(LISTING)
    return clock


def texts(messages: Sequence[SentMessage]) -> str:
    return "\n".join(m.text for m in messages)
