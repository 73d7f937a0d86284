"""`SqliteSummaryStore`: the summary cache, table `summaries`.

Keyed on paper id and version, requested language, prompt version and model, so a change to
any of them asks for a fresh summary while the old ones stay readable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiosqlite

from bot.models import CachedSummary, Summary, SummaryKey, SummarySource
from storage.sql import chunks, iso, to_dt


class SqliteSummaryStore:
    """`SummaryStore` on an open aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def get_summaries(self, keys: Sequence[SummaryKey]) -> dict[SummaryKey, CachedSummary]:
        wanted = set(keys)
        found: dict[SummaryKey, CachedSummary] = {}
        by_paper = list(dict.fromkeys(k.paper_id for k in keys))
        for chunk in chunks(by_paper):
            marks = ",".join("?" * len(chunk))
            async with self._conn.execute(
                f"SELECT * FROM summaries WHERE paper_id IN ({marks})", chunk
            ) as cur:
                rows = await cur.fetchall()
            for row in rows:
                key = SummaryKey(
                    paper_id=row["paper_id"],
                    version=row["version"],
                    language=row["language"],
                    prompt_version=row["prompt_version"],
                    model=row["model"],
                )
                if key not in wanted:
                    continue
                created = to_dt(row["created_at"])
                assert created is not None
                found[key] = CachedSummary(
                    summary=Summary(
                        tldr=row["tldr"],
                        takeaways=tuple(json.loads(row["takeaways"])),
                        language=row["summary_language"],
                        source=SummarySource(row["source"]),
                        model=row["summary_model"],
                        fallback_reason=row["fallback_reason"],
                    ),
                    created_at=created,
                )
        return found

    async def put_summary(self, key: SummaryKey, cached: CachedSummary) -> None:
        s = cached.summary
        await self._conn.execute(
            """
            INSERT OR REPLACE INTO summaries
                (paper_id, version, language, prompt_version, model, tldr, takeaways, source,
                 summary_language, summary_model, created_at, fallback_reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                key.paper_id,
                key.version,
                key.language,
                key.prompt_version,
                key.model,
                s.tldr,
                json.dumps(list(s.takeaways), ensure_ascii=False),
                s.source.value,
                s.language,
                s.model,
                iso(cached.created_at),
                s.fallback_reason,
            ),
        )
        await self._conn.commit()
