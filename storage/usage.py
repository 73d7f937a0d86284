"""`SqliteUsageStore`: LLM tokens spent per UTC day, table `llm_usage`.

One row per day, incremented in one statement (an upsert), so every process sharing the
database adds to the same totals without lost updates.
"""

from __future__ import annotations

from datetime import date

import aiosqlite

from storage.interfaces import DailyUsage


class SqliteUsageStore:
    """`UsageStore` on an open aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def add_usage(
        self, day: date, *, prompt_tokens: int, completion_tokens: int
    ) -> DailyUsage:
        async with self._conn.execute(
            """
            INSERT INTO llm_usage (day, prompt_tokens, completion_tokens, calls)
            VALUES (?, ?, ?, 1)
            ON CONFLICT (day) DO UPDATE SET
                prompt_tokens = prompt_tokens + excluded.prompt_tokens,
                completion_tokens = completion_tokens + excluded.completion_tokens,
                calls = calls + 1
            RETURNING prompt_tokens, completion_tokens, calls
            """,
            (day.isoformat(), max(0, prompt_tokens), max(0, completion_tokens)),
        ) as cur:
            row = await cur.fetchone()
        await self._conn.commit()
        assert row is not None
        return DailyUsage(day, row[0], row[1], row[2])

    async def usage_on(self, day: date) -> DailyUsage:
        async with self._conn.execute(
            "SELECT prompt_tokens, completion_tokens, calls FROM llm_usage WHERE day = ?",
            (day.isoformat(),),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return DailyUsage(day)
        return DailyUsage(day, row[0], row[1], row[2])
