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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery import Deliverer, DeliveryReport
from bot.digest import DigestRequest
from bot.errors import InvalidQuery
from bot.models import Chat, Paper, Subscription
from bot.query import parse_query
from bot.schedule import due_at
from bot.service import Paperboy

log = logging.getLogger(__name__)


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
        self.stop = asyncio.Event()  # set on shutdown: the message in flight finishes

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
            return report

    async def plan(self, report: TickReport | None = None) -> TickReport:
        """Build and queue the digests that are due now (idempotent)."""
        report = report or TickReport()
        storage = self._app.storage
        latest = await storage.latest_listing_date()
        if latest is None:
            return report
        now = self._clock()
        due: list[tuple[Chat, Subscription, int]] = [
            row for row in await storage.undelivered_subscriptions(latest)
            if due_at(row[0], latest) <= now
        ]  # fmt: skip
        if not due:
            return report
        requests: list[DigestRequest] = []
        kept: list[tuple[Chat, Subscription]] = []
        for chat, sub, topic_id in due:
            try:
                query = parse_query(sub.query)
            except InvalidQuery:
                # Stored queries parsed when subscribed; a later, stricter parser must not
                # stop everybody else's digests.
                log.warning("stored query of subscription %d no longer parses", sub.id)
                continue
            requests.append(DigestRequest(chat.key, query, topic_id, chat.max_papers))
            kept.append((chat, sub))
        digests = await self._app.digests.latest_many(
            requests, max_papers=self._app.settings.digest_max_papers
        )
        # Summaries are computed here, once per paper and language, so that sending only
        # reads the cache and a slow model never holds up the fan-out.
        by_language: dict[str, dict[str, Paper]] = defaultdict(dict)
        for (chat, _), digest in zip(kept, digests, strict=True):
            for entry in digest.new_entries:
                by_language[chat.language][entry.paper.id] = entry.paper
        for language, papers in by_language.items():
            await self._app.summarizer.summarize_many(list(papers.values()), language)
        for (chat, sub), digest in zip(kept, digests, strict=True):
            skipped = not digest.entries and not chat.send_empty
            added = await storage.enqueue_delivery(
                chat.key, sub.id, digest.id, now=now, status="skipped" if skipped else "pending"
            )
            if added:
                report.skipped += skipped
                report.planned += not skipped
        return report


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
