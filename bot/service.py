"""`Paperboy`: digests and paper cards for any audience, which the command line and every
chat frontend call. It is built, with everything else, by `bot.core.open_core`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bot.config import Settings
from bot.digest import DigestBuilder
from bot.errors import InvalidLanguage, SourceUnavailable
from bot.ingest import Ingestor, RefreshReport, in_group
from bot.models import Digest, Paper, Summary
from bot.query import Query, parse_query
from bot.source import ArxivSource
from bot.source.calendar import EASTERN
from bot.source.ids import parse_arxiv_id
from bot.summaries import languages
from bot.summaries.summarizer import Summarizer
from storage import Storage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def normalize_language(value: str) -> str:
    try:
        return languages.normalize_language(value)
    except ValueError as exc:
        raise InvalidLanguage(f"Unknown summary language: {exc}") from None


class Paperboy:
    """Digests and paper cards for any audience, on top of the wired parts."""

    def __init__(
        self,
        settings: Settings,
        *,
        storage: Storage,
        source: ArxivSource,
        summarizer: Summarizer,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.source = source
        self.summarizer = summarizer
        self._clock = clock
        self.ingestor = Ingestor(
            storage.papers,
            source,
            clock=clock,
            refresh_interval=timedelta(minutes=settings.refresh_minutes),
        )
        self.digests = DigestBuilder(storage, clock=clock)

    def now(self) -> datetime:
        """The current time, from the clock everything else uses (tests pass their own)."""
        return self._clock()

    def unwatched_categories(self, query: Query) -> list[str]:
        """Categories the query asks for that no watched group covers (they would never match)."""
        groups = self.settings.categories
        missing = []
        for cat in sorted(query.categories()):
            base = cat.removesuffix(".*")
            if not any(in_group(base, g) or in_group(g, base) for g in groups):
                missing.append(cat)
        return missing

    async def refresh(self, *, since: date | None = None, force: bool = False) -> RefreshReport:
        return await self.ingestor.refresh(self.settings.categories, since=since, force=force)

    async def quiet_day(self) -> date | None:
        """Today (US Eastern) when arXiv announces nothing today (a weekend, a holiday): every
        watched feed was read today and was empty, so digests show an earlier listing."""
        today = self._clock().astimezone(EASTERN).date()
        for group in self.settings.categories:
            state = await self.storage.papers.feed_state(group)
            if state is None or state.feed_date != today:
                return None
            if state.last_listing_date is not None and state.last_listing_date >= today:
                return None
        return today

    async def digest(
        self,
        query_text: str,
        *,
        audience: str = "cli",
        language: str | None = None,
        since: date | None = None,
        max_papers: int | None = None,
        progress: Callable[[int], None] | None = None,
        on_summarize_start: Callable[[int], None] | None = None,
    ) -> Digest:
        """Bring listings up to date, then build (or re-read) the topic's digest, summarised.

        Raises `InvalidQuery` for a query that does not parse. arXiv being unreachable is an
        error only when nothing is stored yet; otherwise the digest is built from what is
        stored and the failure is logged.
        """
        query = parse_query(query_text)
        lang = normalize_language(language or self.settings.language)
        cap = max_papers or self.settings.digest_max_papers
        report = await self.refresh(since=since)
        if report.failed and await self.storage.papers.latest_listing_date() is None:
            reason = next(iter(report.failed.values()))
            raise SourceUnavailable(
                f"no listing is stored yet and none could be fetched ({reason})"
            )
        if since is not None:
            digest = await self.digests.preview(query, since=since, max_papers=cap)
        else:
            digest = await self.digests.latest(query, audience=audience, max_papers=cap)
        papers = [e.paper for e in digest.new_entries]
        if on_summarize_start is not None:
            on_summarize_start(len(papers))
        summaries = await self.summarizer.summarize_many(papers, lang, progress=progress)
        return replace(digest, summaries=summaries)

    async def paper(self, id_text: str, *, language: str | None = None) -> tuple[Paper, Summary]:
        """One paper's metadata and summary. Raises `InvalidArxivId` or `PaperNotFound`."""
        lang = normalize_language(language or self.settings.language)
        paper = await self.lookup(id_text)
        summary = await self.summarizer.summarize(paper, lang)
        return paper, summary

    async def lookup(self, id_text: str) -> Paper:
        """One paper's metadata, as people paste its id. Raises `InvalidArxivId` or
        `PaperNotFound`; when arXiv is unreachable, the stored copy if there is one."""
        arxiv_id = parse_arxiv_id(id_text)
        try:
            paper = await self.source.get_paper(str(arxiv_id))
        except SourceUnavailable:
            stored = await self.storage.papers.get_paper(arxiv_id.id)
            if stored is None or (arxiv_id.version and arxiv_id.version != stored.version):
                raise
            log.warning("arXiv unreachable; showing the stored copy of %s", arxiv_id.id)
            paper = stored
        else:
            # Storage keeps the newest version only; an older one asked for explicitly is
            # ignored there, which is what we want.
            await self.storage.papers.upsert_papers([paper], now=self._clock(), enriched=True)
        return paper
