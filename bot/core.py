"""The composition root: `open_core(settings, clock=...)` builds the whole core once.

The command line, `paperboy run` and the tests all call this one function, so there is one
place where the parts meet: storage, the arXiv source, summaries, digests, chats, the outbox
and the cycle. Frontends add their delivery channel with `Core.add_channel` once they are up.
The clock is injected, so a test can drive the bot process through days without sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.chats import ChatService
from bot.config import Settings
from bot.cycle import DigestCycle
from bot.delivery import Channel, Deliverer
from bot.errors import ConfigError
from bot.service import Clock, Paperboy, utc_now
from bot.source import ArxivSource
from bot.summaries.summarizer import LLMSummarizer, Summarizer
from storage import DatabaseUnusable, Storage


@dataclass(frozen=True)
class Core:
    """Everything a frontend or the command line calls, built for one process."""

    settings: Settings
    clock: Clock
    storage: Storage
    paperboy: Paperboy
    chats: ChatService
    deliverer: Deliverer
    cycle: DigestCycle

    def add_channel(self, platform: str, channel: Channel[Any]) -> None:
        """Deliver to `platform`'s chats through `channel` from now on."""
        self.deliverer.add_channel(platform, channel)


@asynccontextmanager
async def open_core(
    settings: Settings, *, clock: Clock = utc_now, source: ArxivSource | None = None
) -> AsyncIterator[Core]:
    """Open every resource the core needs, and close them all on exit.

    `source` lets tests and benchmarks pass an arXiv source tuned for speed (short backoff).
    """
    try:
        storage = await Storage.open(settings.db_path)
    except DatabaseUnusable as exc:
        raise ConfigError(f"Invalid setting PAPERBOY_DB: {exc}") from None
    # The source reserves its arXiv request slots in the database, so the spacing holds across
    # every process that shares it (a CLI run next to the bot).
    source = source or ArxivSource.from_settings(settings, spacing=storage.request_spacing())
    try:
        async with storage:
            llm = LLMSummarizer.from_settings(settings)
            try:
                summarizer = Summarizer(storage.summaries, llm, clock=clock)
                paperboy = Paperboy(
                    settings, storage=storage, source=source, summarizer=summarizer, clock=clock
                )
                deliverer = Deliverer(storage, summarizer, clock=clock)
                cycle = DigestCycle(paperboy, deliverer, clock=clock)
                chats = ChatService(
                    storage,
                    paperboy,
                    cycle,
                    default_language=settings.language,
                    clock=clock,
                )
                yield Core(settings, clock, storage, paperboy, chats, deliverer, cycle)
            finally:
                if llm is not None:
                    await llm.close()
    finally:
        source.close()
