"""The bot's cycle: bring listings up to date, queue the digests that fell due, deliver them.

`DigestCycle.tick()` is safe to run at any moment and as often as wanted; APScheduler runs it
every minute (`start_scheduler`) and once at start-up, which is how digests that fell due while
the process was down go out on start. Schedules live in our own tables (each chat's time and
zone), so no job store is needed: every tick asks storage what is due now.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery import Deliverer, DeliveryReport
from bot.digest import DigestAsk, DigestRequest
from bot.models import Chat, Paper, Subscription
from bot.query import parse_query
from bot.schedule import due_at
from bot.service import Paperboy

log = logging.getLogger(__name__)

# Chats planned per page: bounds what one batch of digests holds (their subscriptions, rows
# and entries), while each page costs a handful of SQLite statements whatever its size.
PLAN_PAGE_CHATS = 500


@dataclass(frozen=True)
class DigestNow:
    """What a /digest did: topics asked for, messages sent, deliveries still waiting (a flood
    limit or an outage), or that there is no listing to build from."""

    topics: int
    messages_sent: int = 0
    queued_for_later: int = 0
    no_listing: bool = False


@dataclass
class TickReport:
    planned: int = 0  # digests queued for delivery
    skipped: int = 0  # empty digests of chats that did not ask for them
    delivery: DeliveryReport | None = None


class DigestCycle:
    """Plans and delivers every subscription's digest; one instance per process."""

    def __init__(
        self, paperboy: Paperboy, deliverer: Deliverer, *, clock: Callable[[], datetime]
    ) -> None:
        self._app = paperboy
        self._deliverer = deliverer
        self._clock = clock
        self._lock = asyncio.Lock()
        # Set on shutdown: the message in flight finishes. Shared with the deliverer, so a
        # /digest being sent stops at the same point as a scheduled fan-out.
        self.stop = deliverer.stop
        self.last_finished: datetime | None = None  # for the health check

    async def idle(self) -> None:
        """Return once no tick is running (used on shutdown)."""
        async with self._lock:
            return

    async def tick(self) -> TickReport:
        async with self._lock:
            report = TickReport()
            if self.stop.is_set():
                return report
            try:
                await self._app.refresh()
            except Exception:
                # Refresh failures are already logged per group; never skip delivery for them.
                log.exception("refreshing listings failed")
            if self.stop.is_set():
                return report
            await self.plan(report)
            report.delivery = await self._deliverer.deliver_due(self.stop)
            self.last_finished = self._clock()
            return report

    async def deliver_now(self, chat: Chat, subscriptions: Sequence[Subscription]) -> DigestNow:
        """A chat's latest digest of each topic, sent now through the outbox (a /digest).

        Each digest is queued due now (or, when already delivered, queued again as a copy), so
        it goes out with flood control and exactly once, and the scheduled delivery of the same
        digest does not repeat it.
        """
        outbox = self._app.storage.outbox
        try:
            await self._app.refresh(force=True)  # someone asked now: look unless just done
        except Exception:
            log.exception("refreshing listings failed")  # answer from what is stored
        requests = []
        for sub in subscriptions:
            topic_id = await self._app.storage.chats.subscription_topic(sub.id)
            requests.append(
                DigestRequest(chat.key, parse_query(sub.query), topic_id, chat.max_papers)
            )
        digests = await self._app.digests.latest_many(
            requests, max_papers=self._app.settings.digest_max_papers
        )
        if not digests or digests[0].through is None:
            return DigestNow(topics=len(subscriptions), no_listing=True)
        by_language = {e.paper.id: e.paper for d in digests for e in d.new_entries}
        await self._app.summarizer.summarize_many(list(by_language.values()), chat.language)
        now = self._clock()
        for sub, digest in zip(subscriptions, digests, strict=True):
            await outbox.request_delivery(chat.key, sub.id, digest.id, now=now)
        report = await self._deliverer.deliver_chat(chat.key)
        return DigestNow(
            topics=len(subscriptions),
            messages_sent=report.messages_sent,
            queued_for_later=max(0, len(digests) - report.deliveries_finished),
        )

    async def plan(self, report: TickReport | None = None) -> TickReport:
        """Build and queue the digests that are due now (idempotent).

        Subscriptions are read a page of chats at a time, twice: the first pass only notes
        which topics are due and from which listing on, so that they are matched together
        (each distinct topic once, however many chats share it); the second builds, records
        and queues each page's digests in a few statements. Memory holds one page of chats
        and digests, and the run's matches (paper ids per topic), not every subscription.
        """
        report = report or TickReport()
        storage = self._app.storage
        latest = await storage.papers.latest_listing_date()
        if latest is None:
            return report
        now = self._clock()
        run = self._app.digests.run(latest)
        due = 0
        async for page in self._due_pages(latest, now):
            due += len(page)
            await run.expect([_ask(chat, sub, topic_id) for chat, sub, topic_id in page])
        if not due:
            return report  # the usual tick: everything due went out already
        await run.match_expected()
        summarised: set[tuple[str, str]] = set()  # (paper id, language)
        async for page in self._due_pages(latest, now):
            digests = await run.build(
                [_ask(chat, sub, topic_id) for chat, sub, topic_id in page],
                max_papers=self._app.settings.digest_max_papers,
            )
            # Summaries are computed here, once per paper and language, so that sending only
            # reads the cache and a slow model never holds up the fan-out.
            by_language: dict[str, dict[str, Paper]] = defaultdict(dict)
            for (chat, _, _), digest in zip(page, digests, strict=True):
                for entry in digest.new_entries if digest is not None else ():
                    if (entry.paper.id, chat.language) not in summarised:
                        by_language[chat.language][entry.paper.id] = entry.paper
            for language, papers in by_language.items():
                await self._app.summarizer.summarize_many(list(papers.values()), language)
                summarised.update((paper_id, language) for paper_id in papers)
            rows: list[tuple[str, int | None, int, str]] = []
            for (chat, sub, _), digest in zip(page, digests, strict=True):
                if digest is None:
                    # Stored queries parsed when subscribed; a later, stricter parser must not
                    # stop everybody else's digests.
                    log.warning("stored query of subscription %d no longer parses", sub.id)
                    continue
                skipped = not digest.entries and not chat.send_empty
                rows.append((chat.key, sub.id, digest.id, "skipped" if skipped else "pending"))
            added = await storage.outbox.enqueue_deliveries(rows, now=now)
            for (_, _, _, status), was_added in zip(rows, added, strict=True):
                if was_added:
                    report.skipped += status == "skipped"
                    report.planned += status == "pending"
        return report

    async def _due_pages(
        self, latest: date, now: datetime
    ) -> AsyncIterator[list[tuple[Chat, Subscription, int]]]:
        """The undelivered subscriptions due by `now`, a page of chats at a time."""
        after: str | None = None
        while page := await self._app.storage.chats.undelivered_subscriptions(
            latest, after=after, limit=PLAN_PAGE_CHATS
        ):
            after = page[-1][0].key
            due: dict[str, bool] = {}
            rows = [
                row for row in page if due.setdefault(row[0].key, due_at(row[0], latest) <= now)
            ]
            if rows:
                yield rows


def _ask(chat: Chat, sub: Subscription, topic_id: int) -> DigestAsk:
    return DigestAsk(chat.key, topic_id, sub.query, chat.max_papers)


def start_scheduler(cycle: DigestCycle, *, every_seconds: float = 60) -> AsyncIOScheduler:
    """Run `cycle.tick` now and then every `every_seconds` on the running event loop."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        cycle.tick,
        IntervalTrigger(seconds=every_seconds),
        id="digest-cycle",
        next_run_time=datetime.now().astimezone(),
        max_instances=1,  # a long fan-out is never run twice at once
        coalesce=True,  # ticks missed while busy collapse into one
        misfire_grace_time=None,
    )
    scheduler.start()
    return scheduler
