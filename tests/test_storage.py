"""Storage on a real SQLite file: migrations, version rules, digests and the summary cache."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import (
    AnnounceType,
    CachedSummary,
    DigestEntry,
    FeedState,
    Paper,
    Summary,
    SummaryKey,
    SummarySource,
    UpdateNote,
)
from storage import Storage
from storage.migrations import LATEST_VERSION, MIGRATIONS

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def make_paper(pid: str = "2411.00001", version: int = 1, **kw: object) -> Paper:
    fields: dict[str, object] = {
        "title": f"Paper {pid} v{version}",
        "abstract": "An abstract with “quotes”, <tags> & 中文.",
        "authors": ("Ada Lovelace", "Émile Borel"),
        "categories": ("cs.CV", "cs.GR"),
        "primary_category": "cs.CV",
        "published": datetime(2026, 11, 18, 15, 0, tzinfo=UTC),
        "updated": datetime(2026, 11, 18, 15, 0, tzinfo=UTC),
    }
    fields.update(kw)
    return Paper(id=pid, version=version, **fields)  # type: ignore[arg-type]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Storage]:
    s = await Storage.open(tmp_path / "db" / "paperboy.db")
    yield s
    await s.close()


async def test_open_creates_directories_wal_and_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "p.db"
    async with await Storage.open(path) as s:
        assert await s.schema_version() == LATEST_VERSION
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("start_version", range(LATEST_VERSION))
async def test_upgrade_from_every_earlier_version_keeps_data(
    tmp_path: Path, start_version: int
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        for number in range(1, start_version + 1):
            conn.executescript(MIGRATIONS[number - 1])
        conn.execute(f"PRAGMA user_version = {start_version}")
        conn.execute("CREATE TABLE keepme (x TEXT)")
        conn.execute("INSERT INTO keepme VALUES ('precious')")
    async with await Storage.open(path) as s:
        assert await s.schema_version() == LATEST_VERSION
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT x FROM keepme").fetchall() == [("precious",)]


async def test_newer_database_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    with pytest.raises(RuntimeError, match="newer than this Paperboy"):
        await Storage.open(path)


async def test_paper_round_trip_keeps_unicode_and_dates(store: Storage) -> None:
    paper = make_paper(comment="Code: https://github.com/a/b", doi="10.1/x")
    await store.upsert_papers([paper], now=NOW, enriched=True)
    assert await store.get_paper(paper.id) == paper
    assert await store.get_paper("9999.99999") is None


async def test_older_version_never_overwrites_newer(store: Storage) -> None:
    await store.upsert_papers([make_paper(version=2, title="Second")], now=NOW)
    await store.upsert_papers([make_paper(version=1, title="First")], now=NOW)
    stored = await store.get_paper("2411.00001")
    assert stored is not None and stored.version == 2 and stored.title == "Second"


async def test_feed_data_does_not_erase_enriched_comment(store: Storage) -> None:
    await store.upsert_papers([make_paper(comment="12 pages")], now=NOW, enriched=True)
    await store.upsert_papers([make_paper(comment=None)], now=NOW)
    stored = await store.get_paper("2411.00001")
    assert stored is not None and stored.comment == "12 pages"
    assert await store.unenriched_ids(date(2000, 1, 1)) == []


async def test_new_version_needs_enrichment_again(store: Storage) -> None:
    await store.upsert_papers([make_paper(version=1)], now=NOW, enriched=True)
    await store.upsert_papers([make_paper(version=2)], now=NOW)
    await store.record_announcements(
        [("2411.00001", 2, date(2026, 11, 20), AnnounceType.REPLACE)], group="cs", source="rss"
    )
    assert await store.unenriched_ids(date(2026, 11, 1)) == ["2411.00001"]
    assert await store.known_versions(["2411.00001", "nope"]) == {"2411.00001": 2}


async def test_announcements_are_idempotent_and_windowed(store: Storage) -> None:
    papers = [make_paper(f"2411.0000{i}") for i in range(1, 4)]
    await store.upsert_papers(papers, now=NOW)
    events = [
        ("2411.00001", 1, date(2026, 11, 18), AnnounceType.NEW),
        ("2411.00002", 1, date(2026, 11, 19), AnnounceType.CROSS),
        ("2411.00003", 1, date(2026, 11, 20), AnnounceType.NEW),
    ]
    assert await store.record_announcements(events, group="cs", source="rss") == 3
    assert await store.record_announcements(events, group="eess", source="rss") == 0
    window = await store.announcements_between(date(2026, 11, 18), date(2026, 11, 20))
    assert [(a.paper.id, a.type) for a in window] == [
        ("2411.00002", AnnounceType.CROSS),
        ("2411.00003", AnnounceType.NEW),
    ]
    assert await store.latest_listing_date() == date(2026, 11, 20)


async def test_feed_state_round_trip(store: Storage) -> None:
    assert await store.feed_state("cs") is None
    state = FeedState("cs", date(2026, 11, 20), NOW, date(2026, 11, 3))
    await store.save_feed_state(state)
    assert await store.feed_state("cs") == state


async def test_digest_records_delivery_per_audience_and_topic(store: Storage) -> None:
    p1, p2 = make_paper("2411.00001"), make_paper("2411.00002", version=3)
    await store.upsert_papers([p1, p2], now=NOW)
    topic = await store.topic_id("talking head", "talking head", now=NOW)
    assert await store.topic_id("talking head", "Talking  head", now=NOW) == topic
    other = await store.topic_id("lip sync", "lip sync", now=NOW)
    digest = await store.save_digest(
        audience="cli",
        topic_id=topic,
        since=date(2026, 11, 20),
        through=date(2026, 11, 20),
        entries=[
            DigestEntry(p2, UpdateNote.NEW),
            DigestEntry(p1, UpdateNote.UPDATED, previous_version=1),
        ],
        total_matched=7,
        now=NOW,
    )
    assert [e.paper.id for e in digest.entries] == ["2411.00002", "2411.00001"]
    assert digest.total_matched == 7 and digest.query == "talking head"
    again = await store.find_digest("cli", topic, date(2026, 11, 20))
    assert again == digest
    ids = ["2411.00001", "2411.00002"]
    assert await store.delivered_versions("cli", topic, ids) == {"2411.00001": 1, "2411.00002": 3}
    assert await store.delivered_versions("chat:1", topic, ids) == {}
    assert await store.delivered_versions("cli", other, ids) == {}
    assert await store.last_digest_through("cli", topic) == date(2026, 11, 20)


async def test_summary_cache_is_keyed_on_every_part(store: Storage) -> None:
    key = SummaryKey("2411.00001", 1, "zh", "p1", "gpt-x")
    cached = CachedSummary(
        Summary("一句话总结。", ("要点一", "要点二", "要点三"), "zh", SummarySource.LLM, "gpt-x"),
        NOW,
    )
    await store.put_summary(key, cached)
    variants = [
        SummaryKey("2411.00001", 2, "zh", "p1", "gpt-x"),
        SummaryKey("2411.00001", 1, "en", "p1", "gpt-x"),
        SummaryKey("2411.00001", 1, "zh", "p2", "gpt-x"),
        SummaryKey("2411.00001", 1, "zh", "p1", "other"),
    ]
    found = await store.get_summaries([key, *variants])
    assert found == {key: cached}
    newer = CachedSummary(cached.summary, NOW + timedelta(hours=1))
    await store.put_summary(key, newer)
    assert (await store.get_summaries([key]))[key].created_at == newer.created_at


async def test_two_connections_share_the_file_without_locking_errors(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    async with await Storage.open(path) as a, await Storage.open(path) as b:
        await a.upsert_papers([make_paper("2411.00001")], now=NOW)
        await b.upsert_papers([make_paper("2411.00002")], now=NOW)
        assert set(await a.get_papers(["2411.00001", "2411.00002"])) == {
            "2411.00001",
            "2411.00002",
        }
