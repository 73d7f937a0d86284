"""The `paperboy stats` report: what the database holds, counted from its rows.

Platform-free: `read_stats` opens the database (and nothing else: no arXiv request, no LLM
client, no refresh) and asks `StatsStore.counts` for the figures; `stats_dict` gives them the
stable keys of the `--json` output. Frontends lay them out (`handlers.terminal.stats`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from bot.config import Settings
from storage.interfaces import (
    OriginCounts,
    OutboxCounts,
    PlatformCounts,
    Stats,
    StatsStore,
    UsageTotals,
)

# Always reported, with zeros when they have no chat, so the figures keep their shape; any other
# platform prefix found in the chat keys follows them, by name.
PLATFORMS = ("telegram", "discord")

STATS_FORMAT = 1  # the `--json` output's "format": raised if a key changes meaning or goes


async def collect_stats(store: StatsStore, today: date) -> Stats:
    """The store's figures, with every platform of `PLATFORMS` present, those first."""
    stats = await store.counts(today)
    found = {p.platform: p for p in stats.platforms}
    platforms = [found.pop(name, PlatformCounts(name)) for name in PLATFORMS]
    platforms.extend(found[name] for name in sorted(found))
    return replace(stats, platforms=tuple(platforms))


async def read_stats(settings: Settings, *, today: date) -> Stats:
    """Open the database of `settings` and count; `today` is the UTC day for LLM usage.

    An unusable database path is a `ConfigError` worded like the other commands' one."""
    from bot.core import open_storage  # not at import: the core pulls in every service

    async with await open_storage(settings) as storage:
        return await collect_stats(storage.stats, today)


def _origins(counts: OriginCounts) -> dict[str, int]:
    return {"llm": counts.llm, "extractive": counts.extractive, "total": counts.total}


def _usage(usage: UsageTotals) -> dict[str, Any]:
    return {
        "since": usage.since.isoformat(),
        "through": usage.through.isoformat(),
        "calls": usage.calls,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _platform(p: PlatformCounts) -> dict[str, int]:
    return {
        "chats": p.chats,
        "paused": p.paused,
        "suspended": p.suspended,
        "subscriptions": p.subscriptions,
        "topics": p.topics,
    }


def _deliveries(d: OutboxCounts) -> dict[str, int]:
    return {
        "sent": d.sent,
        "queued": d.queued,
        "paused": d.paused,
        "suspended": d.suspended,
        "skipped": d.skipped,
        "failed": d.failed,
    }


def _day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def stats_dict(stats: Stats) -> dict[str, Any]:
    """The figures as JSON-ready data with stable keys (dates as ISO strings)."""
    return {
        "format": STATS_FORMAT,
        "today": stats.today.isoformat(),
        "papers": {"stored": stats.papers, "announced": stats.papers_announced},
        "announcement_days": {
            "count": stats.announcement_days,
            "first": _day(stats.first_listing),
            "last": _day(stats.last_listing),
        },
        "topics": {"stored": stats.topics, "followed": stats.topics_followed},
        "platforms": {p.platform: _platform(p) for p in stats.platforms},
        "summaries": _origins(stats.summaries),
        "reviews": _origins(stats.reviews),
        "llm": {"today": _usage(stats.llm_today), "last_7_days": _usage(stats.llm_last_7_days)},
        "deliveries": _deliveries(stats.deliveries),
    }
