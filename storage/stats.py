"""`SqliteStatsStore`: counts over every table, for `paperboy stats`.

Two statements. The first is one row of aggregate subqueries, so its figures are one consistent
snapshot; every big table is read once, in index order, so no count needs a temporary B-tree:
`papers` through its primary-key index, the outbox through its status index (then only the
pending rows joined to their chats), `summaries` and `reviews` in one pass each, `llm_usage` by
its day key. `announcements` is the exception, read twice: by primary key (paper ids in order)
and through its date index (dates in order), which is five times faster than one pass counting
both with temporary B-trees (1 M rows: 0.17 s against 0.6 s). The second statement groups chats
and subscriptions by platform, the prefix of the chat key.
"""

from __future__ import annotations

from datetime import date, timedelta

import aiosqlite

from storage.interfaces import OriginCounts, OutboxCounts, PlatformCounts, Stats, UsageTotals
from storage.sql import to_date

WEEK = 7  # days in "the last 7 days", today included

_TOTALS = """
SELECT * FROM
    (SELECT COUNT(*) AS papers FROM papers),
    (SELECT COUNT(*) AS papers_announced FROM (SELECT DISTINCT paper_id FROM announcements)),
    (SELECT COUNT(*) AS days, MIN(listing_date) AS first_listing, MAX(listing_date) AS last_listing
     FROM (SELECT DISTINCT listing_date FROM announcements)),
    (SELECT COUNT(*) AS topics FROM topics),
    (SELECT COUNT(DISTINCT topic_id) AS topics_followed FROM subscriptions),
    (SELECT SUM(source = 'llm') AS summaries_llm,
            SUM(source <> 'llm') AS summaries_extractive
     FROM summaries),
    (SELECT SUM(origin = 'llm') AS reviews_llm,
            SUM(origin <> 'llm') AS reviews_extractive
     FROM reviews),
    (SELECT SUM(CASE WHEN day = :today THEN prompt_tokens END) AS today_prompt,
            SUM(CASE WHEN day = :today THEN completion_tokens END) AS today_completion,
            SUM(CASE WHEN day = :today THEN calls END) AS today_calls,
            SUM(prompt_tokens) AS week_prompt,
            SUM(completion_tokens) AS week_completion,
            SUM(calls) AS week_calls
     FROM llm_usage WHERE day BETWEEN :since AND :today),
    (SELECT SUM(CASE status WHEN 'sent' THEN n END) AS sent,
            SUM(CASE status WHEN 'skipped' THEN n END) AS skipped,
            SUM(CASE status WHEN 'failed' THEN n END) AS failed
     FROM (SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status)),
    (SELECT SUM(c.paused = 0) AS queued,
            SUM(c.paused <> 0 AND c.paused_reason IS NULL) AS paused,
            SUM(c.paused <> 0 AND c.paused_reason IS NOT NULL) AS suspended
     FROM deliveries d JOIN chats c ON c.key = d.chat_key
     WHERE d.status = 'pending')
"""

_PLATFORMS = """
WITH by_chat AS (
    SELECT substr(key, 1, instr(key, ':') - 1) AS platform,
           COUNT(*) AS chats,
           SUM(paused <> 0 AND paused_reason IS NULL) AS paused,
           SUM(paused <> 0 AND paused_reason IS NOT NULL) AS suspended
    FROM chats GROUP BY platform
), by_subscription AS (
    SELECT substr(chat_key, 1, instr(chat_key, ':') - 1) AS platform,
           COUNT(*) AS subscriptions,
           COUNT(DISTINCT topic_id) AS topics
    FROM subscriptions GROUP BY platform
)
SELECT c.platform, c.chats, c.paused, c.suspended,
       COALESCE(s.subscriptions, 0) AS subscriptions, COALESCE(s.topics, 0) AS topics
FROM by_chat c LEFT JOIN by_subscription s USING (platform)
ORDER BY c.platform
"""


class SqliteStatsStore:
    """`StatsStore` on an open aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def counts(self, today: date) -> Stats:
        since = today - timedelta(days=WEEK - 1)
        async with self._conn.execute(
            _TOTALS, {"today": today.isoformat(), "since": since.isoformat()}
        ) as cur:
            row = await cur.fetchone()
        assert row is not None  # aggregates without GROUP BY always give one row
        async with self._conn.execute(_PLATFORMS) as cur:
            platforms = tuple(
                PlatformCounts(
                    platform=r["platform"],
                    chats=int(r["chats"]),
                    paused=int(r["paused"]),
                    suspended=int(r["suspended"]),
                    subscriptions=int(r["subscriptions"]),
                    topics=int(r["topics"]),
                )
                for r in await cur.fetchall()
            )

        def n(column: str) -> int:
            return int(row[column] or 0)  # SUM() of no rows is NULL

        return Stats(
            today=today,
            papers=n("papers"),
            papers_announced=n("papers_announced"),
            announcement_days=n("days"),
            first_listing=to_date(row["first_listing"]),
            last_listing=to_date(row["last_listing"]),
            topics=n("topics"),
            topics_followed=n("topics_followed"),
            platforms=platforms,
            summaries=OriginCounts(n("summaries_llm"), n("summaries_extractive")),
            reviews=OriginCounts(n("reviews_llm"), n("reviews_extractive")),
            llm_today=UsageTotals(
                today, today, n("today_prompt"), n("today_completion"), n("today_calls")
            ),
            llm_last_7_days=UsageTotals(
                since, today, n("week_prompt"), n("week_completion"), n("week_calls")
            ),
            deliveries=OutboxCounts(
                sent=n("sent"),
                queued=n("queued"),
                paused=n("paused"),
                suspended=n("suspended"),
                skipped=n("skipped"),
                failed=n("failed"),
            ),
        )
