"""A small real-SQLite `SummaryStore` for the summarizer tests, and its own round-trip tests.

The production storage (``storage/``) replaces it; it implements the same two methods, so the
summarizer tests exercise a real database and real (de)serialisation, never a mock.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import aiosqlite
import pytest

from bot.models import Summary, SummaryKey, SummarySource
from bot.summaries.summarizer import CachedSummary, SummaryStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS summaries (
    paper_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    language TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    model TEXT NOT NULL,
    tldr TEXT NOT NULL,
    takeaways TEXT NOT NULL,
    summary_language TEXT NOT NULL,
    source TEXT NOT NULL,
    summary_model TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (paper_id, version, language, prompt_version, model)
)
"""


class SqliteSummaryStore:
    """`SummaryStore` on one aiosqlite connection; counts calls for the batching tests."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.get_calls = 0
        self.put_calls = 0

    @classmethod
    async def open(cls, path: Path) -> Self:
        conn = await aiosqlite.connect(path)
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute(_SCHEMA)
        await conn.commit()
        return cls(conn)

    async def close(self) -> None:
        await self._conn.close()

    async def get_summaries(self, keys: Sequence[SummaryKey]) -> dict[SummaryKey, CachedSummary]:
        self.get_calls += 1
        wanted = set(keys)
        ids = sorted({k.paper_id for k in wanted})
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        found: dict[SummaryKey, CachedSummary] = {}
        async with self._conn.execute(
            f"SELECT * FROM summaries WHERE paper_id IN ({marks})", ids
        ) as cursor:
            async for row in cursor:
                key = SummaryKey(row[0], row[1], row[2], row[3], row[4])
                if key in wanted:
                    summary = Summary(
                        tldr=row[5],
                        takeaways=tuple(json.loads(row[6])),
                        language=row[7],
                        source=SummarySource(row[8]),
                        model=row[9],
                    )
                    found[key] = CachedSummary(summary, datetime.fromisoformat(row[10]))
        return found

    async def put_summary(self, key: SummaryKey, cached: CachedSummary) -> None:
        self.put_calls += 1
        s = cached.summary
        await self._conn.execute(
            "INSERT OR REPLACE INTO summaries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key.paper_id,
                key.version,
                key.language,
                key.prompt_version,
                key.model,
                s.tldr,
                json.dumps(list(s.takeaways), ensure_ascii=False),
                s.language,
                s.source.value,
                s.model,
                cached.created_at.isoformat(),
            ),
        )
        await self._conn.commit()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteSummaryStore]:
    store = await SqliteSummaryStore.open(tmp_path / "summaries.db")
    try:
        yield store
    finally:
        await store.close()


def _conforms(store: SummaryStore) -> SummaryStore:
    return store  # mypy checks that the test store satisfies the Protocol


async def test_round_trip_and_replace(sqlite_store: SqliteSummaryStore) -> None:
    store = _conforms(sqlite_store)
    key = SummaryKey("2409.03605", 2, "zh", "v1", "gpt-4o-mini")
    other = SummaryKey("2409.03605", 2, "en", "v1", "gpt-4o-mini")
    first = CachedSummary(
        Summary(
            "本文提出一种方法。", ("要点一。", "要点二。"), "zh", SummarySource.LLM, "gpt-4o-mini"
        ),
        datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    await store.put_summary(key, first)
    assert await store.get_summaries([key, other]) == {key: first}
    second = CachedSummary(
        Summary("We propose a method.", (), "en", SummarySource.EXTRACTIVE, None),
        datetime(2025, 1, 3, tzinfo=UTC),
    )
    await store.put_summary(key, second)
    assert await store.get_summaries([key]) == {key: second}
    assert await store.get_summaries([]) == {}
