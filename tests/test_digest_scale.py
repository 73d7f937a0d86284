"""Digests at scale: the batched `latest_many` and `plan` against a per-request reference, and
their cost in SQLite statements (a few per batch, not a few per request)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.digest import MAX_UPDATED_ENTRIES, DigestBuilder, DigestRequest, select_entries
from bot.models import AnnounceType, ChatKind, Digest, Paper
from bot.query import Query, parse_query
from bot.query.cache import PreparedPapers
from storage import Storage

DAY1 = date(2026, 11, 16)
WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")
TOPICS = (
    "alpha",
    "beta gamma",
    "alpha OR delta",
    "ti:beta",
    "gamma -zeta",
    '"alpha beta"',
    "epsilon",
    "ti:(zeta OR delta)",
)


def _paper(number: int, version: int, rng: random.Random) -> Paper:
    return Paper(
        id=f"2611.{number:05d}",
        version=version,
        title=" ".join(rng.choices(WORDS, k=2)).title(),
        abstract=" ".join(rng.choices(WORDS, k=6)) + ".",
        authors=("Ada Lovelace",),
        categories=("cs.CV",),
        primary_category="cs.CV",
    )


async def _list_day(
    stores: list[Storage], day: date, rng: random.Random, known: dict[str, int], first: int
) -> None:
    """One listing in every store: new papers and cross-lists, and replacements and repeated
    announcements of papers listed before (the cases digests deduplicate)."""
    papers: list[Paper] = []
    events: list[tuple[str, int, date, AnnounceType]] = []
    for number in range(first, first + rng.randint(4, 9)):
        paper = _paper(number, 1, rng)
        kind = rng.choice([AnnounceType.NEW, AnnounceType.NEW, AnnounceType.CROSS])
        papers.append(paper)
        events.append((paper.id, 1, day, kind))
        known[paper.id] = 1
    for paper_id in rng.sample(sorted(known), k=min(len(known), rng.randint(0, 4))):
        if rng.random() < 0.6:  # a new version
            known[paper_id] += 1
            papers.append(_paper(int(paper_id.split(".")[1]), known[paper_id], rng))
            kind = rng.choice([AnnounceType.REPLACE, AnnounceType.REPLACE_CROSS])
        else:  # the same version announced again, as a cross-list
            kind = AnnounceType.CROSS
        events.append((paper_id, known[paper_id], day, kind))
    for storage in stores:
        await storage.papers.upsert_papers(papers, now=_noon(day), enriched=True)
        await storage.papers.record_announcements(events, group="cs", source="rss")


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


async def _reference(
    storage: Storage, requests: list[DigestRequest], max_papers: int, now: datetime
) -> list[Digest]:
    """The straightforward definition, one request at a time: the window is the listings
    after that audience's previous digest of the topic; a paper comes once, a new version
    as an update note."""
    latest = await storage.papers.latest_listing_date()
    assert latest is not None
    prepared = PreparedPapers()
    out = []
    for r in requests:
        topic = r.topic_id or await storage.digests.topic_id(
            r.query.canonical, r.query.text, now=now
        )
        existing = await storage.digests.find_digest(r.audience, topic, latest)
        if existing is not None:
            out.append(existing)
            continue
        previous = await storage.digests.last_digest_through(r.audience, topic)
        after = previous if previous is not None else latest - timedelta(days=1)
        window = await storage.papers.announcements_between(after, latest)
        ids = {a.paper.id for a in window if r.query.matches(a.paper)}
        delivered = await storage.digests.delivered_versions(r.audience, topic, sorted(ids))
        new, updated = select_entries(r.query, window, ids, delivered, prepared)
        out.append(
            await storage.digests.save_digest(
                audience=r.audience,
                topic_id=topic,
                since=after + timedelta(days=1),
                through=latest,
                entries=[*new[: r.max_papers or max_papers], *updated[:MAX_UPDATED_ENTRIES]],
                total_matched=len(new),
                now=now,
            )
        )
    return out


def _facts(digest: Digest) -> tuple[object, ...]:
    return (
        digest.query,
        digest.audience,
        digest.since,
        digest.through,
        digest.created_at,
        digest.total_matched,
        tuple((e.paper, e.kind, e.previous_version) for e in digest.entries),
    )


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[Storage, Storage]]:
    async with (
        await Storage.open(tmp_path / "batched.db") as batched,
        await Storage.open(tmp_path / "reference.db") as reference,
    ):
        yield batched, reference


@pytest.mark.parametrize("seed", range(6))
async def test_batched_digests_equal_the_per_request_reference(
    two: tuple[Storage, Storage], seed: int
) -> None:
    batched, reference = two
    rng = random.Random(seed)
    queries: list[Query] = [parse_query(t) for t in TOPICS]
    topic_ids: list[int] = []
    for query in queries:
        ids = {await s.digests.topic_id(query.canonical, query.text, now=_noon(DAY1)) for s in two}
        assert len(ids) == 1
        topic_ids.extend(ids)
    audiences = [f"chat:{i}" for i in range(6)]
    known: dict[str, int] = {}
    now = _noon(DAY1)
    builder = DigestBuilder(batched, clock=lambda: now)
    compared = 0
    for day_number in range(6):
        day = DAY1 + timedelta(days=day_number)
        now = _noon(day)
        await _list_day(list(two), day, rng, known, first=100 * day_number + 1)
        for _ in range(2):  # the second round also asks again before the next listing
            requests = []
            for audience in audiences:
                # Audiences skip days, so windows of several listings are common.
                for i in rng.sample(range(len(queries)), k=rng.randint(0, 4)):
                    requests.append(
                        DigestRequest(
                            audience,
                            queries[i],
                            topic_ids[i] if rng.random() < 0.8 else None,
                            rng.choice([None, 1, 2, 3]),
                        )
                    )
            rng.shuffle(requests)
            got = await builder.latest_many(requests, max_papers=4)
            want = await _reference(reference, requests, 4, now)
            assert [_facts(d) for d in got] == [_facts(d) for d in want]
            # What delivery reads back later is what the batch returned.
            for digest in got:
                assert (stored := await batched.digests.get_digest(digest.id)) is not None
                assert _facts(stored) == _facts(digest)
            compared += sum(1 for d in got if d.entries)
    assert compared > 20  # the data exercised the cases, not only empty digests


async def test_a_batch_costs_a_few_statements_whatever_its_size(tmp_path: Path) -> None:
    async with await Storage.open(tmp_path / "count.db") as storage:
        rng = random.Random(7)
        await _list_day([storage], DAY1, rng, {}, first=1)
        now = _noon(DAY1)
        queries = [parse_query(t) for t in TOPICS]
        topics = [await storage.digests.topic_id(q.canonical, q.text, now=now) for q in queries]
        builder = DigestBuilder(storage, clock=lambda: now)
        statements: list[str] = []
        await storage._conn.set_trace_callback(statements.append)

        async def count(audiences: int, tag: str) -> int:
            statements.clear()
            requests = [
                DigestRequest(f"chat:{tag}{a}", q, t)
                for a in range(audiences)
                for q, t in zip(queries, topics, strict=True)
            ]
            digests = await builder.latest_many(requests, max_papers=3)
            assert len({d.id for d in digests}) == len(requests)
            return len(statements)

        small = await count(2, "small")
        large = await count(60, "large")  # 480 requests
        assert large == small <= 12
        # A second listing: every audience has history now, so delivered versions are read too.
        await _list_day([storage], DAY1 + timedelta(days=1), rng, {"2611.00001": 1}, first=500)
        assert await count(60, "large") <= small + 2


async def test_papers_and_entries_are_shared_between_digests(tmp_path: Path) -> None:
    async with await Storage.open(tmp_path / "share.db") as storage:
        await _list_day([storage], DAY1, random.Random(3), {}, first=1)
        builder = DigestBuilder(storage, clock=lambda: _noon(DAY1))
        query = parse_query("alpha OR beta OR gamma")
        digests = await builder.latest_many(
            [DigestRequest(f"chat:{i}", query) for i in range(3)], max_papers=10
        )
        assert digests[0].entries
        for other in digests[1:]:
            assert all(a is b for a, b in zip(digests[0].entries, other.entries, strict=True))


async def test_plan_costs_a_few_statements_per_page_of_chats(tmp_path: Path) -> None:
    from bot.config import load_settings
    from bot.core import open_core

    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    day = date(2026, 11, 20)
    counts = []
    for chats in (3, 40):
        settings = load_settings(
            PAPERBOY_DB=str(tmp_path / f"plan{chats}.db"), PAPERBOY_CATEGORIES="cs"
        )
        async with open_core(settings, clock=lambda: now) as core:
            storage = core.storage
            await _list_day([storage], day, random.Random(5), {}, first=1)
            queries = [parse_query(t) for t in TOPICS[:4]]
            for c in range(chats):
                key = f"telegram:{c}"
                await storage.chats.ensure_chat(key, ChatKind.PRIVATE, None, now=now, language="en")
                for q in queries:
                    topic = await storage.digests.topic_id(q.canonical, q.text, now=now)
                    await storage.chats.add_subscription(
                        key, topic, q.text, created_by=None, now=now
                    )
            statements: list[str] = []

            def trace(sql: str, statements: list[str] = statements) -> None:
                if "summaries" not in sql:  # per paper and language, whatever the chats
                    statements.append(sql)

            await storage._conn.set_trace_callback(trace)
            report = await core.cycle.plan()
            assert report.planned + report.skipped == chats * len(queries)
            counts.append(len(statements))
            statements.clear()
            again = await core.cycle.plan()
            assert again.planned + again.skipped == 0 and len(statements) <= 2
    assert counts[0] == counts[1]


@pytest.mark.parametrize("seed", range(4))
async def test_preview_and_recent_count_equal_the_per_paper_reference(
    tmp_path: Path, seed: int
) -> None:
    """`/subscribe`'s preview and count, batched, against each paper prepared and tested."""
    rng = random.Random(seed)
    async with await Storage.open(tmp_path / "preview.db") as storage:
        known: dict[str, int] = {}
        for day_number in range(5):
            day = DAY1 + timedelta(days=day_number)
            await _list_day([storage], day, rng, known, first=100 * day_number + 1)
        latest = DAY1 + timedelta(days=4)
        builder = DigestBuilder(storage, clock=lambda: _noon(latest))
        prepared = PreparedPapers()
        titled = 0
        for text in (*TOPICS, "ti:alpha OR abs:beta", "alpha -ti:alpha", "zeta*"):
            query = parse_query(text)
            for since in (DAY1, DAY1 + timedelta(days=2), latest):
                window = await storage.papers.announcements_between(
                    since - timedelta(days=1), latest
                )
                ids = {a.paper.id for a in window if query.matches(a.paper)}
                want, _ = select_entries(query, window, ids, {}, prepared)
                got = await builder.preview(query, since=since, max_papers=100)
                assert [(e.paper, e.kind) for e in got.entries] == [(e.paper, e.kind) for e in want]
                assert got.total_matched == len(want)
                titled += sum(
                    1 for e in want if query.matches_text(prepared.get(e.paper)[1])
                ) not in (0, len(want))  # the order of title matches was exercised
            for days in (1, 3, 7):
                window = await storage.papers.announcements_between(
                    latest - timedelta(days=days), latest
                )
                count = len(
                    {a.paper.id for a in window if a.type.is_candidate and query.matches(a.paper)}
                )
                dates = [a.listing_date for a in window]
                assert await builder.count_recent(query, days=days) == (
                    count,
                    min(dates, default=None),
                    max(dates, default=None),
                )
        assert titled > 3
