"""The composition root: `open_core(settings, clock=...)` builds the whole core once.

The command line, `paperboy run` and the tests all call this one function, so there is one
place where the parts meet: storage, the arXiv source, summaries and reviews (sharing one LLM
client and its daily token budget), digests, chats, the outbox and the cycle. Frontends add
their delivery channel with `Core.add_channel` once they are up. The clock is injected, so a
test can drive the bot process through days without sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chats import ChatService
from bot.config import Settings
from bot.cycle import DigestCycle
from bot.delivery import Channel, Deliverer
from bot.errors import ConfigError
from bot.figures import Figures
from bot.reviews.quota import ReviewQuota
from bot.reviews.reviewer import Reviewer
from bot.service import Clock, Paperboy, utc_now
from bot.source import ArxivSource
from bot.summaries.budget import TokenBudget
from bot.summaries.summarizer import LLMSummarizer, Summarizer
from storage import DatabaseUnusable, Storage
from storage.files import FigureFiles

if TYPE_CHECKING:
    from bot.fulltext.fetch import FullTextSource


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
    reviews: Reviewer
    budget: TokenBudget
    figures: Figures
    review_quota: ReviewQuota  # full reviews per chat and hour

    def add_channel(self, platform: str, channel: Channel[Any]) -> None:
        """Deliver to `platform`'s chats through `channel` from now on."""
        self.deliverer.add_channel(platform, channel)


async def open_storage(settings: Settings) -> Storage:
    """The database of `settings`, opened (and migrated). An unusable path (not SQLite, not
    writable, under a regular file) is a `ConfigError` naming the setting, in one line."""
    try:
        return await Storage.open(settings.db_path)
    except DatabaseUnusable as exc:
        raise ConfigError(f"Invalid setting PAPERBOY_DB: {exc}") from None


@asynccontextmanager
async def open_core(
    settings: Settings, *, clock: Clock = utc_now, source: ArxivSource | None = None
) -> AsyncIterator[Core]:
    """Open every resource the core needs, and close them all on exit.

    `source` lets tests and benchmarks pass an arXiv source tuned for speed (short backoff).
    """
    storage = await open_storage(settings)
    # The source reserves its arXiv request slots in the database, so the spacing holds across
    # every process that shares it (a CLI run next to the bot).
    source = source or ArxivSource.from_settings(settings, spacing=storage.request_spacing())
    try:
        async with storage:
            # Figure files live next to the database: one volume holds all state.
            figures = Figures(
                FigureFiles(settings.db_path.parent / "figures"),
                lambda: _fulltext_source(settings, source),
                clock=clock,
            )
            budget = TokenBudget(storage.usage, settings.llm_daily_tokens, clock=clock)
            llm = LLMSummarizer.from_settings(settings, budget=budget)
            try:
                summarizer = Summarizer(storage.summaries, llm, clock=clock)
                reviews = Reviewer(
                    storage.reviews,
                    llm,
                    # One fetch of a paper's full text serves its review and its figure.
                    load_fulltext=figures.fulltext,
                    clock=clock,
                )
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
                yield Core(
                    settings,
                    clock,
                    storage,
                    paperboy,
                    chats,
                    deliverer,
                    cycle,
                    reviews,
                    budget,
                    figures,
                    ReviewQuota(clock),
                )
            finally:
                await figures.aclose()
                if llm is not None:
                    await llm.close()
    finally:
        source.close()


def _fulltext_source(settings: Settings, source: ArxivSource) -> FullTextSource:
    """A full-text fetcher over the source's arXiv session (its throttle), imported on first use
    so runs that never show a figure do not load the HTML and PDF readers."""
    from bot.fulltext.fetch import FullTextSource

    return FullTextSource.from_settings(settings, session=source.session)
