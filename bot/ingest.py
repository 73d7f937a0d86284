"""Ingestion: bring the stored announcements up to date with arXiv, whatever happened meanwhile.

One cycle fetches each watched category group's daily listing once (one request per group,
independent of how many topics or subscribers exist), stores its papers and announcements, and
repairs gaps through the query API:

- downtime: listing days between the last stored listing and the one just fetched are
  backfilled from the query API by submission window, so no announced paper is lost;
- a listing at arXiv's 2000-item cap is completed the same way;
- a day without a listing (weekend, holiday: an empty feed) seeds, on a first run, the latest
  announced listing, and backfills any listing missed before it;
- `--since` older than what we hold backfills the missing days.

What is stored is reused while it is current: the feed state (in the database, shared by every
process) says when each feed was last read, and a feed only changes in arXiv's nightly rebuild,
so a run after a successful read and before the next rebuild sends no request at all. When a
look is due, it is conditional (``If-None-Match`` / ``If-Modified-Since`` from the last answer).

Papers from the feed lack comments and journal references, so the cycle ends by enriching new
versions through batched `id_list` lookups. Any failure is logged and retried next cycle; one
group failing never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from bot.errors import ArxivUnreachable, SourceUnavailable
from bot.models import AnnounceType, FeedState, Listing, Paper
from bot.source import ArxivSource
from bot.source.calendar import (
    EASTERN,
    current_listing_date,
    feed_may_have_changed,
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
# How many listing days a first run on a quiet day goes back to find the latest announced one
# (holidays can follow a weekend).
_SEED_ATTEMPTS = 2


@dataclass
class RefreshReport:
    """What one ingestion cycle did; printed by the CLI at debug level and used by tests."""

    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # what is stored is current
    unchanged: list[str] = field(default_factory=list)  # looked again: 304 Not Modified
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

        if self._fetched_recently(state, now, force=force):
            report.skipped.append(group)
        else:
            state, touched = await self._look(group, state, report)

        last, covered_from = state.last_listing_date, state.covered_from
        if since is not None and (covered_from is None or since < covered_from):
            first = since if is_listing_day(since) else next_listing_day(since)
            upto = previous_listing_day(covered_from) if covered_from else current_listing_date(now)
            if first <= upto:
                log.info("%s: backfilling listings %s to %s", group, first, upto)
                await self._backfill(group, first, upto, report)
                touched.append(first)
                await self._papers.save_feed_state(
                    replace(state, last_listing_date=last or upto, covered_from=first)
                )
        return touched

    async def _look(
        self, group: str, state: FeedState, report: RefreshReport
    ) -> tuple[FeedState, list[date]]:
        """Read the group's feed (conditionally when something is stored) and store what is new."""
        touched: list[date] = []
        last, covered_from = state.last_listing_date, state.covered_from
        known = last is not None and state.last_fetch_at is not None
        fetched = await self._source.fetch_listing_if_changed(
            group,
            etag=state.etag if known else None,
            last_modified=state.last_modified if known else None,
        )
        report.fetched.append(group)
        feed_date = state.feed_date
        listing = fetched.listing
        if listing is None:
            report.unchanged.append(group)
        elif listing.announcements and listing.listing_date is not None:
            day = feed_date = listing.listing_date
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
        else:
            # A day without announcement (weekend, holiday): the feed is empty. The latest
            # announced listing is an earlier day; fetch it through the query API if we lack it.
            feed_date = listing.listing_date or self._clock().astimezone(EASTERN).date()
            latest = previous_listing_day(feed_date)
            if last is None:
                day = await self._seed(group, latest, report)
                touched.append(day)
                last = covered_from = day
            elif last < latest:
                log.info("%s: feed is empty; backfilling listings %s to %s", group, last, latest)
                missed = listing_days_between(last, latest)
                await self._backfill(group, missed[0], missed[-1], report)
                touched.append(missed[0])
                last = latest
        state = FeedState(
            group,
            last,
            self._clock(),
            covered_from,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            feed_date=feed_date,
        )
        await self._papers.save_feed_state(state)
        return state, touched

    async def _seed(self, group: str, latest: date, report: RefreshReport) -> date:
        """A first run on a quiet day: backfill the latest listing day that announced papers,
        going back over holidays; returns the day seeded."""
        day = latest
        for _ in range(_SEED_ATTEMPTS):
            log.info("%s: feed is empty; seeding with the listing of %s", group, day)
            if await self._backfill(group, day, day, report):
                return day
            day = previous_listing_day(day)
        return latest

    def _fetched_recently(self, state: FeedState, now: datetime, *, force: bool) -> bool:
        """Whether what is stored for the group's feed can be used without looking again.

        A feed only changes in arXiv's nightly rebuild, so after a successful read nothing can
        be new until the next one, in this process or any other sharing the database. Past it,
        a long-running bot looks every `refresh_interval` (every few hours once the listing that
        should be current is stored). `force` (a person asking now) looks again unless a look
        was made within the last minute.
        """
        fetched = state.last_fetch_at
        if fetched is None:
            return False
        if fetched.tzinfo is None:
            fetched = fetched.replace(tzinfo=UTC)
        age = now - fetched
        last = state.last_listing_date
        interval = self._refresh_interval
        if last is not None and last >= current_listing_date(now):
            interval = max(interval, _CURRENT_LISTING_INTERVAL)
        if force:
            return age < min(interval, _FORCED_INTERVAL)
        if last is not None and not feed_may_have_changed(fetched, now):
            return True
        return age < interval

    async def _store_listing(self, listing: Listing, report: RefreshReport) -> None:
        papers = [a.paper for a in listing.announcements]
        await self._papers.upsert_papers(papers, now=self._clock())
        report.new_announcements += await self._papers.record_announcements(
            ((a.paper.id, a.paper.version, a.listing_date, a.type) for a in listing.announcements),
            group=listing.group,
            source="rss",
        )

    async def _backfill(self, group: str, first: date, last: date, report: RefreshReport) -> int:
        """Fetch, through the query API, the papers of the listing days `first`..`last`;
        returns how many papers arXiv has for them (stored before or not)."""
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
        return len(papers)

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
