"""Ingestion: bring the stored announcements up to date with arXiv, whatever happened meanwhile.

One cycle fetches each watched category group's daily listing once (one request per group,
independent of how many topics or subscribers exist), stores its papers and announcements, and
repairs gaps through the query API:

- downtime: listing days between the last stored listing and the one just fetched are
  backfilled from the query API by submission window, so no announced paper is lost;
- a listing at arXiv's 2000-item cap is completed the same way;
- a first run on a day without a listing (weekend, holiday) seeds the latest listing day;
- `--since` older than what we hold backfills the missing days.

Papers from the feed lack comments and journal references, so the cycle ends by enriching new
versions through batched `id_list` lookups. Any failure is logged and retried next cycle; one
group failing never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.errors import ArxivUnreachable, SourceUnavailable
from bot.models import AnnounceType, FeedState, Listing, Paper
from bot.source import ArxivSource
from bot.source.calendar import (
    current_listing_date,
    is_listing_day,
    listing_date_for,
    listing_days_between,
    next_listing_day,
    previous_listing_day,
    submission_window,
)
from storage import PaperStore

log = logging.getLogger(__name__)

# How often a long-running process looks at a feed whose current listing it already holds, and
# how soon a person asking explicitly (`/digest`) may make it look again.
_CURRENT_LISTING_INTERVAL = timedelta(hours=6)
_FORCED_INTERVAL = timedelta(minutes=1)
# How far back unenriched papers are picked up again after a failed enrichment.
_ENRICH_LOOKBACK = timedelta(days=7)


@dataclass
class RefreshReport:
    """What one ingestion cycle did; printed by the CLI at debug level and used by tests."""

    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # fetched recently enough
    failed: dict[str, str] = field(default_factory=dict)  # group -> reason
    new_announcements: int = 0
    backfilled: int = 0
    enriched: int = 0


def group_categories(group: str) -> list[str]:
    """``cs.CV+cs.GR`` -> ``["cs.CV", "cs.GR"]``."""
    return [c for c in group.split("+") if c]


def in_group(category: str | None, group: str) -> bool:
    """Whether a category belongs to a group of categories or archives."""
    if not category:
        return False
    return any(category == c or category.startswith(c + ".") for c in group_categories(group))


class Ingestor:
    """Keeps the paper store in step with arXiv's listings for a set of category groups."""

    def __init__(
        self,
        papers: PaperStore,
        source: ArxivSource,
        *,
        clock: Callable[[], datetime],
        refresh_interval: timedelta = timedelta(minutes=30),
    ) -> None:
        self._papers = papers
        self._source = source
        self._clock = clock
        self._refresh_interval = refresh_interval
        # In memory on purpose: a new process (a CLI run, a restarted bot) always takes a fresh
        # look at the feeds; only a long-running bot spaces its looks out.
        self._fetched_at: dict[str, datetime] = {}

    async def refresh(
        self, groups: Sequence[str], *, since: date | None = None, force: bool = False
    ) -> RefreshReport:
        report = RefreshReport()
        touched: list[date] = []
        for position, group in enumerate(groups):
            try:
                touched.extend(await self._refresh_group(group, since, force, report))
            except ArxivUnreachable as exc:
                # Without any answer from arXiv the other groups would only wait out their
                # own retries; try them all again next cycle.
                log.warning("arXiv unreachable, will retry next cycle: %s", exc)
                report.failed.update({g: str(exc) for g in groups[position:]})
                return report
            except SourceUnavailable as exc:
                log.warning(
                    "arXiv listing for %s unavailable, will retry next cycle: %s", group, exc
                )
                report.failed[group] = str(exc)
        await self._enrich(min(touched, default=None), report)
        return report

    async def _refresh_group(
        self, group: str, since: date | None, force: bool, report: RefreshReport
    ) -> list[date]:
        now = self._clock()
        state = await self._papers.feed_state(group) or FeedState(group, None, None, None)
        touched: list[date] = []
        last, covered_from = state.last_listing_date, state.covered_from

        if self._fetched_recently(group, last, now, force=force):
            report.skipped.append(group)
        else:
            listing = await self._source.fetch_listing(group)
            report.fetched.append(group)
            if listing.announcements and listing.listing_date is not None:
                day = listing.listing_date
                if last is not None and day > last:
                    missed = [d for d in listing_days_between(last, day) if d != day]
                    if missed:
                        log.info("%s: backfilling %d missed listing day(s)", group, len(missed))
                        await self._backfill(group, missed[0], missed[-1], report)
                        touched.append(missed[0])
                await self._store_listing(listing, report)
                if listing.truncated:
                    log.info("%s: listing of %s hit the feed's cap; completing it", group, day)
                    await self._backfill(group, day, day, report)
                touched.append(day)
                last = max(last or day, day)
                covered_from = min(covered_from or day, day)
            elif last is None:
                # A first run on a weekend or holiday: the feed is empty, so seed with the
                # latest listing day through the query API rather than showing nothing.
                day = current_listing_date(now)
                log.info("%s: feed is empty; seeding with the listing of %s", group, day)
                await self._backfill(group, day, day, report)
                touched.append(day)
                last = covered_from = day
            now = self._clock()
            self._fetched_at[group] = now
            await self._papers.save_feed_state(FeedState(group, last, now, covered_from))

        if since is not None and (covered_from is None or since < covered_from):
            first = since if is_listing_day(since) else next_listing_day(since)
            upto = previous_listing_day(covered_from) if covered_from else current_listing_date(now)
            if first <= upto:
                log.info("%s: backfilling listings %s to %s", group, first, upto)
                await self._backfill(group, first, upto, report)
                touched.append(first)
                covered_from = first
                await self._papers.save_feed_state(
                    FeedState(group, last or upto, self._clock(), covered_from)
                )
        return touched

    def _fetched_recently(
        self, group: str, last: date | None, now: datetime, *, force: bool
    ) -> bool:
        """Whether this process looked at the group's feed recently enough to skip it.

        Once the listing that should be current is stored, the feed will not change until the
        next announcement, so it is looked at far less often. `force` (a person asking now)
        only skips a look made within the last minute.
        """
        fetched = self._fetched_at.get(group)
        if fetched is None:
            return False
        interval = self._refresh_interval
        if last is not None and last >= current_listing_date(now):
            interval = max(interval, _CURRENT_LISTING_INTERVAL)
        if force:
            interval = min(interval, _FORCED_INTERVAL)
        return now - fetched < interval

    async def _store_listing(self, listing: Listing, report: RefreshReport) -> None:
        papers = [a.paper for a in listing.announcements]
        await self._papers.upsert_papers(papers, now=self._clock())
        report.new_announcements += await self._papers.record_announcements(
            ((a.paper.id, a.paper.version, a.listing_date, a.type) for a in listing.announcements),
            group=listing.group,
            source="rss",
        )

    async def _backfill(self, group: str, first: date, last: date, report: RefreshReport) -> None:
        """Fetch, through the query API, the papers of the listing days `first`..`last`."""
        start, _ = submission_window(first)
        _, end = submission_window(last)
        papers = await self._source.search(group_categories(group), start, end)
        known = await self._papers.known_versions([p.id for p in papers])
        fresh = [p for p in papers if p.id not in known]
        await self._papers.upsert_papers(fresh, now=self._clock(), enriched=True)
        report.backfilled += await self._papers.record_announcements(
            (
                (
                    p.id,
                    p.version,
                    _clamp(listing_date_for(p.published) if p.published else last, first, last),
                    AnnounceType.NEW if in_group(p.primary_category, group) else AnnounceType.CROSS,
                )
                for p in fresh
            ),
            group=group,
            source="backfill",
        )

    async def _enrich(self, oldest_touched: date | None, report: RefreshReport) -> None:
        """Fetch comments, journal refs and DOIs for announced versions we only know from feeds."""
        today = self._clock().date()
        since = min(oldest_touched or today, today - _ENRICH_LOOKBACK)
        ids = await self._papers.unenriched_ids(since)
        if not ids:
            return
        try:
            found = await self._source.lookup(ids)
        except SourceUnavailable as exc:
            log.warning("could not fetch metadata for %d papers, will retry: %s", len(ids), exc)
            return
        papers: list[Paper] = list(found.values())
        await self._papers.upsert_papers(papers, now=self._clock(), enriched=True)
        report.enriched += len(papers)


def _clamp(day: date, low: date, high: date) -> date:
    return max(low, min(day, high))
