"""The storage contract: one suite for the five interfaces of `storage.interfaces`.

Every test is written against the Protocols (`PaperStore`, `DigestStore`, `ChatStore`,
`Outbox`, `SummaryStore`) and runs once per backend: the `stores` fixture opens a real
database for each name in `BACKENDS` (SQLite on a file in `tmp_path` today; a PostgreSQL
backend joins by adding its name and opening it there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.models import (
    AnnounceType,
    CachedSummary,
    ChatKind,
    DetailLevel,
    DigestEntry,
    FeedState,
    Paper,
    Summary,
    SummaryKey,
    SummarySource,
    UpdateNote,
)
from storage import (
    ChatStore,
    DeliveryCounts,
    DigestStore,
    Outbox,
    PaperStore,
    ReviewStore,
    StatsStore,
    Storage,
    SummaryStore,
    UsageStore,
)
from storage.interfaces import NewDigest

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = date(2026, 11, 20)
BACKENDS = ["sqlite"]


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


@dataclass(frozen=True)
class Stores:
    """One backend's five stores, typed by their interfaces only."""

    papers: PaperStore
    digests: DigestStore
    chats: ChatStore
    outbox: Outbox
    summaries: SummaryStore
    reviews: ReviewStore
    usage: UsageStore
    stats: StatsStore


@pytest.fixture(params=BACKENDS)
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    if request.param == "sqlite":
        async with await Storage.open(tmp_path / "contract.db") as storage:
            yield Stores(
                storage.papers, storage.digests, storage.chats, storage.outbox, storage.summaries,
                storage.reviews, storage.usage, storage.stats,
            )  # fmt: skip
    else:  # pragma: no cover - a new backend must be opened here
        raise AssertionError(f"unknown backend {request.param}")


@pytest.fixture
def papers(stores: Stores) -> PaperStore:
    return stores.papers


@pytest.fixture
def digests(stores: Stores) -> DigestStore:
    return stores.digests


@pytest.fixture
def chats(stores: Stores) -> ChatStore:
    return stores.chats


@pytest.fixture
def outbox(stores: Stores) -> Outbox:
    return stores.outbox


@pytest.fixture
def summaries(stores: Stores) -> SummaryStore:
    return stores.summaries


async def empty_digest(
    stores: Stores, audience: str, query: str = "diffusion", through: date = DAY
) -> int:
    """A stored digest without entries (what outbox rows point at); returns its id."""
    topic = await stores.digests.topic_id(query, query, now=NOW)
    digest = await stores.digests.save_digest(
        audience=audience, topic_id=topic, since=through, through=through, entries=[],
        total_matched=0, now=NOW,
    )  # fmt: skip
    assert digest.id is not None
    return digest.id


async def new_chat(stores: Stores, key: str) -> None:
    await stores.chats.ensure_chat(key, ChatKind.PRIVATE, None, now=NOW, language="en")


async def subscribe(stores: Stores, key: str, query: str = "diffusion") -> int:
    """A subscription of chat `key` to `query`; returns its id."""
    topic = await stores.digests.topic_id(query, query, now=NOW)
    sub, _ = await stores.chats.add_subscription(key, topic, query, created_by=None, now=NOW)
    return sub.id


# -- papers ---------------------------------------------------------------------------------


async def test_paper_round_trip_keeps_unicode_and_dates(papers: PaperStore) -> None:
    paper = make_paper(comment="Code: https://github.com/a/b", doi="10.1/x")
    await papers.upsert_papers([paper], now=NOW, enriched=True)
    assert await papers.get_paper(paper.id) == paper
    assert await papers.get_paper("9999.99999") is None


async def test_upsert_keeps_the_newest_version(papers: PaperStore) -> None:
    await papers.upsert_papers([make_paper(version=2, title="Second")], now=NOW)
    await papers.upsert_papers([make_paper(version=1, title="First")], now=NOW)
    stored = await papers.get_paper("2411.00001")
    assert stored is not None and (stored.version, stored.title) == (2, "Second")
    await papers.upsert_papers([make_paper(version=3, title="Third")], now=NOW)
    stored = await papers.get_paper("2411.00001")
    assert stored is not None and (stored.version, stored.title) == (3, "Third")


async def test_feed_data_does_not_erase_enriched_comment(papers: PaperStore) -> None:
    await papers.upsert_papers([make_paper(comment="12 pages")], now=NOW, enriched=True)
    await papers.upsert_papers([make_paper(comment=None)], now=NOW)
    stored = await papers.get_paper("2411.00001")
    assert stored is not None and stored.comment == "12 pages"
    assert await papers.unenriched_ids(date(2000, 1, 1)) == []


async def test_versions_seen_and_enrichment_of_a_new_version(papers: PaperStore) -> None:
    await papers.upsert_papers([make_paper(version=1)], now=NOW, enriched=True)
    await papers.upsert_papers([make_paper(version=2)], now=NOW)
    await papers.record_announcements(
        [("2411.00001", 2, DAY, AnnounceType.REPLACE)], group="cs", source="rss"
    )
    assert await papers.unenriched_ids(date(2026, 11, 1)) == ["2411.00001"]
    assert await papers.unenriched_ids(DAY + timedelta(days=1)) == []
    assert await papers.known_versions(["2411.00001", "nope"]) == {"2411.00001": 2}
    await papers.upsert_papers([make_paper(version=2)], now=NOW, enriched=True)
    assert await papers.unenriched_ids(date(2026, 11, 1)) == []


async def test_get_papers_beyond_one_chunk_of_ids(papers: PaperStore) -> None:
    many = [make_paper(f"2411.{i:05d}") for i in range(1, 1202)]
    await papers.upsert_papers(many, now=NOW)
    found = await papers.get_papers([p.id for p in many] + ["0000.00000"])
    assert set(found) == {p.id for p in many}
    assert len(await papers.known_versions([p.id for p in many])) == len(many)


async def test_announcements_between_dates(papers: PaperStore) -> None:
    assert await papers.latest_listing_date() is None
    await papers.upsert_papers([make_paper(f"2411.0000{i}") for i in range(1, 4)], now=NOW)
    events = [
        ("2411.00001", 1, date(2026, 11, 18), AnnounceType.NEW),
        ("2411.00002", 1, date(2026, 11, 19), AnnounceType.CROSS),
        ("2411.00003", 1, date(2026, 11, 20), AnnounceType.NEW),
        ("2411.00003", 1, date(2026, 11, 21), AnnounceType.NEW),  # listed again: one version
    ]
    assert await papers.record_announcements(events, group="cs", source="rss") == 4
    assert await papers.record_announcements(events, group="eess", source="rss") == 0
    window = await papers.announcements_between(date(2026, 11, 18), date(2026, 11, 20))
    assert [(a.paper.id, a.type, a.listing_date) for a in window] == [
        ("2411.00002", AnnounceType.CROSS, date(2026, 11, 19)),
        ("2411.00003", AnnounceType.NEW, date(2026, 11, 20)),
    ]
    everything = await papers.announcements_between(None, date(2026, 11, 30))
    assert [a.paper.id for a in everything] == ["2411.00001", "2411.00002", "2411.00003"]
    assert everything[2].listing_date == date(2026, 11, 20)  # the earliest listing
    assert await papers.latest_listing_date() == date(2026, 11, 21)


async def test_feed_state_round_trip(papers: PaperStore) -> None:
    assert await papers.feed_state("cs") is None
    state = FeedState("cs", DAY, NOW, date(2026, 11, 3))
    await papers.save_feed_state(state)
    assert await papers.feed_state("cs") == state
    later = FeedState("cs", DAY + timedelta(days=1), NOW + timedelta(days=1), None)
    await papers.save_feed_state(later)
    assert await papers.feed_state("cs") == later
    assert await papers.feed_state("eess") is None


# -- digests --------------------------------------------------------------------------------


async def test_topic_ids_are_stable_per_canonical_query(digests: DigestStore) -> None:
    topic = await digests.topic_id("talking head", "talking head", now=NOW)
    assert await digests.topic_id("talking head", "Talking  head", now=NOW) == topic
    assert await digests.topic_id("lip sync", "lip sync", now=NOW) != topic


async def test_digest_save_find_get_round_trip(papers: PaperStore, digests: DigestStore) -> None:
    p1, p2 = make_paper("2411.00001"), make_paper("2411.00002", version=3)
    await papers.upsert_papers([p1, p2], now=NOW)
    topic = await digests.topic_id("talking head", "talking head", now=NOW)
    digest = await digests.save_digest(
        audience="cli",
        topic_id=topic,
        since=date(2026, 11, 19),
        through=DAY,
        entries=[
            DigestEntry(p2, UpdateNote.NEW),
            DigestEntry(p1, UpdateNote.UPDATED, previous_version=1),
        ],
        total_matched=7,
        now=NOW,
    )
    assert [e.paper.id for e in digest.entries] == ["2411.00002", "2411.00001"]
    assert digest.entries[1].previous_version == 1
    assert (digest.total_matched, digest.query, digest.audience) == (7, "talking head", "cli")
    assert (digest.since, digest.through, digest.created_at) == (date(2026, 11, 19), DAY, NOW)
    assert await digests.find_digest("cli", topic, DAY) == digest
    assert digest.id is not None and await digests.get_digest(digest.id) == digest
    assert await digests.find_digest("cli", topic, DAY - timedelta(days=1)) is None
    assert await digests.find_digest("chat:1", topic, DAY) is None
    assert await digests.get_digest(digest.id + 1000) is None


async def test_delivered_versions_and_last_digest_through(
    papers: PaperStore, digests: DigestStore
) -> None:
    p1, p2 = make_paper("2411.00001"), make_paper("2411.00002", version=3)
    await papers.upsert_papers([p1, p2], now=NOW)
    topic = await digests.topic_id("a", "a", now=NOW)
    other = await digests.topic_id("b", "b", now=NOW)
    assert await digests.last_digest_through("cli", topic) is None
    for through, entries in [
        (DAY - timedelta(days=1), [DigestEntry(p1, UpdateNote.NEW)]),
        (DAY, [DigestEntry(p2, UpdateNote.NEW)]),
    ]:
        await digests.save_digest(
            audience="cli", topic_id=topic, since=through, through=through, entries=entries,
            total_matched=1, now=NOW,
        )  # fmt: skip
    await papers.upsert_papers([make_paper("2411.00001", version=2)], now=NOW)
    p1v2 = await papers.get_paper("2411.00001")
    assert p1v2 is not None
    await digests.save_digest(
        audience="cli", topic_id=topic, since=None, through=DAY + timedelta(days=1),
        entries=[DigestEntry(p1v2, UpdateNote.UPDATED, previous_version=1)], total_matched=1,
        now=NOW,
    )  # fmt: skip
    ids = ["2411.00001", "2411.00002", "2411.09999"]
    assert await digests.delivered_versions("cli", topic, ids) == {"2411.00001": 2, "2411.00002": 3}
    assert await digests.delivered_versions("chat:1", topic, ids) == {}
    assert await digests.delivered_versions("cli", other, ids) == {}
    assert await digests.last_digest_through("cli", topic) == DAY + timedelta(days=1)
    assert await digests.last_digest_through("cli", other) is None


async def test_digest_batches_agree_with_the_one_key_methods(
    papers: PaperStore, digests: DigestStore
) -> None:
    p1, p2 = make_paper("2411.00001"), make_paper("2411.00002", version=3)
    await papers.upsert_papers([p1, p2], now=NOW)
    a = await digests.topic_id("a", "A typed", now=NOW)
    b = await digests.topic_id("b", "b", now=NOW)
    yesterday = DAY - timedelta(days=1)
    ids = await digests.save_digests(
        [
            NewDigest("cli", a, yesterday, yesterday, [DigestEntry(p1, UpdateNote.NEW)], 1),
            NewDigest(
                "cli",
                a,
                DAY,
                DAY,
                [DigestEntry(p2, UpdateNote.NEW), DigestEntry(p1, UpdateNote.UPDATED, 1)],
                5,
            ),
            NewDigest("chat:1", b, DAY, DAY, [], 0),
        ],
        now=NOW,
    )
    assert len(ids) == 3 and all(i is not None for i in ids) and len(set(ids)) == 3
    # Nothing is read back, so what the caller built must be what a read finds.
    stored = await digests.find_digest("cli", a, DAY)
    assert stored is not None and stored.id == ids[1]
    assert [(e.paper.id, e.kind, e.previous_version) for e in stored.entries] == [
        ("2411.00002", UpdateNote.NEW, None),
        ("2411.00001", UpdateNote.UPDATED, 1),
    ]
    assert (stored.query, stored.since, stored.total_matched, stored.created_at) == (
        "A typed", DAY, 5, NOW
    )  # fmt: skip
    # An existing (audience, topic, through) is left alone and reads as not written.
    again = NewDigest("cli", a, DAY, DAY, [], 0)
    fresh = NewDigest("cli", b, DAY, DAY, [], 0)
    assert (await digests.save_digests([again, fresh], now=NOW))[0] is None
    keys = [("cli", a), ("chat:1", b), ("chat:9", a), ("cli", b)]
    assert await digests.last_throughs(keys) == {
        k: through for k in keys if (through := await digests.last_digest_through(*k)) is not None
    }
    found = await digests.find_digests(keys, DAY)
    assert set(found) == {("cli", a), ("chat:1", b), ("cli", b)}
    for key, digest in found.items():
        assert digest == await digests.find_digest(*key, DAY)
    assert await digests.find_digests(keys, yesterday - timedelta(days=1)) == {}
    assert await digests.topic_texts([b, a, 999]) == {a: "A typed", b: "b"}
    wanted = [("2411.00001", "2411.00002", "2411.09999"), ("2411.00001",)]
    many = await digests.delivered_versions_many(
        [(("cli", a), wanted[0]), (("chat:1", b), wanted[0]), (("cli", b), wanted[1])]
    )
    assert many == {("cli", a): await digests.delivered_versions("cli", a, wanted[0])}
    assert many[("cli", a)] == {"2411.00001": 1, "2411.00002": 3}
    assert await digests.save_digests([], now=NOW) == []
    assert await digests.last_throughs([]) == {} and await digests.find_digests([], DAY) == {}


# -- chats ----------------------------------------------------------------------------------


async def test_ensure_chat_is_idempotent_and_keeps_settings(chats: ChatStore) -> None:
    assert await chats.get_chat("t:1") is None
    first = await chats.ensure_chat("t:1", ChatKind.GROUP, "Lab", now=NOW, language="zh")
    assert (first.key, first.kind, first.title, first.language) == (
        "t:1",
        ChatKind.GROUP,
        "Lab",
        "zh",
    )
    assert not first.paused and first.delivery_time is None
    await chats.save_settings(replace(first, timezone="Asia/Tokyo", max_papers=3), now=NOW)
    again = await chats.ensure_chat("t:1", ChatKind.GROUP, None, now=NOW, language="en")
    assert (again.language, again.timezone, again.max_papers, again.title) == (
        "zh", "Asia/Tokyo", 3, "Lab",
    )  # fmt: skip
    renamed = await chats.ensure_chat("t:1", ChatKind.CHANNEL, "Lab 2", now=NOW, language="en")
    assert (renamed.kind, renamed.title, renamed.language) == (ChatKind.CHANNEL, "Lab 2", "zh")
    assert await chats.get_chat("t:1") == renamed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("language", "ja"),
        ("timezone", "Europe/Berlin"),
        ("delivery_time", time(7, 30)),
        ("delivery_time", None),
        ("detail", DetailLevel.TITLES),
        ("max_papers", 25),
        ("send_empty", True),
    ],
)
async def test_save_settings_round_trip(chats: ChatStore, field: str, value: object) -> None:
    chat = await chats.ensure_chat("t:1", ChatKind.PRIVATE, "Ada", now=NOW, language="en")
    # Start away from the value, so that writing it is a change.
    start = replace(chat, delivery_time=time(9, 0)) if value is None else chat
    start = await chats.save_settings(start, now=NOW)
    assert getattr(start, field) != value
    changes: dict[str, Any] = {field: value}
    saved = await chats.save_settings(replace(start, **changes), now=NOW)
    assert getattr(saved, field) == value
    assert await chats.get_chat("t:1") == saved
    assert saved == replace(start, **changes)  # nothing else changed


async def test_save_settings_writes_settings_only(chats: ChatStore) -> None:
    chat = await chats.ensure_chat("t:1", ChatKind.PRIVATE, "Ada", now=NOW, language="en")
    saved = await chats.save_settings(
        replace(chat, title="Other", paused=True, paused_reason="x", language="de"), now=NOW
    )
    assert (saved.title, saved.paused, saved.paused_reason, saved.language) == (
        "Ada", False, None, "de",
    )  # fmt: skip
    with pytest.raises(KeyError):
        await chats.save_settings(replace(chat, key="t:404"), now=NOW)
    assert await chats.get_chat("t:404") is None


async def test_set_paused_by_a_person_and_by_delivery(chats: ChatStore) -> None:
    await chats.ensure_chat("t:1", ChatKind.PRIVATE, None, now=NOW, language="en")
    by_person = await chats.set_paused("t:1", True, reason=None, now=NOW)
    assert by_person.paused and by_person.paused_reason is None
    suspended = await chats.set_paused("t:1", True, reason="blocked by the user", now=NOW)
    assert suspended.paused and suspended.paused_reason == "blocked by the user"
    resumed = await chats.set_paused("t:1", False, reason=None, now=NOW)
    assert not resumed.paused and resumed.paused_reason is None
    await chats.set_paused("t:1", True, reason="kicked", now=NOW)
    unpaused = await chats.set_paused("t:1", False, reason="ignored", now=NOW)
    assert (unpaused.paused, unpaused.paused_reason) == (False, None)  # unpausing clears it
    assert await chats.get_chat("t:1") == unpaused
    with pytest.raises(KeyError):
        await chats.set_paused("t:404", True, reason=None, now=NOW)


async def test_resume_suspended_only_resumes_chats_delivery_suspended(chats: ChatStore) -> None:
    for key in ("d:suspended", "d:person", "d:active", "d:other"):
        await chats.ensure_chat(key, ChatKind.PRIVATE, None, now=NOW, language="en")
    await chats.set_paused("d:suspended", True, reason="blocked", now=NOW)
    await chats.set_paused("d:person", True, reason=None, now=NOW)
    await chats.set_paused("d:other", True, reason="blocked", now=NOW)
    resumed = await chats.resume_suspended(
        ["d:suspended", "d:person", "d:active", "d:missing"], now=NOW
    )
    assert resumed == ["d:suspended"]
    states = {
        k: await chats.get_chat(k) for k in ("d:suspended", "d:person", "d:active", "d:other")
    }
    assert {k: (c.paused, c.paused_reason) for k, c in states.items() if c} == {
        "d:suspended": (False, None),
        "d:person": (True, None),
        "d:active": (False, None),
        "d:other": (True, "blocked"),  # not asked for
    }
    assert await chats.resume_suspended(["d:suspended"], now=NOW) == []
    assert await chats.resume_suspended([], now=NOW) == []


async def test_resume_suspended_takes_many_keys(chats: ChatStore) -> None:
    keys = [f"d:{i}" for i in range(1200)]
    for key in keys:
        await chats.ensure_chat(key, ChatKind.PRIVATE, None, now=NOW, language="en")
        await chats.set_paused(key, True, reason="blocked", now=NOW)
    assert sorted(await chats.resume_suspended(keys, now=NOW)) == sorted(keys)
    assert await chats.suspended_chats("d:") == []


async def test_suspended_chats_by_prefix(chats: ChatStore) -> None:
    for key in (
        "discord:2",
        "discord:1",
        "discord:3",
        "telegram:1",
        "discordx:1",
        "a_b:1",
        "axb:1",
    ):
        await chats.ensure_chat(key, ChatKind.GROUP, None, now=NOW, language="en")
    for key in ("discord:2", "discord:1", "telegram:1", "discordx:1", "axb:1"):
        await chats.set_paused(key, True, reason="no access", now=NOW)
    await chats.set_paused("discord:3", True, reason=None, now=NOW)  # paused by a person
    assert await chats.suspended_chats("discord:") == ["discord:1", "discord:2"]
    assert await chats.suspended_chats("telegram:") == ["telegram:1"]
    assert await chats.suspended_chats("a_b:") == []  # no wildcards: "_" is just "_"
    assert await chats.suspended_chats("slack:") == []


async def test_subscriptions_are_numbered_in_order_after_deletes(
    stores: Stores, chats: ChatStore
) -> None:
    await new_chat(stores, "t:1")
    topics = [await stores.digests.topic_id(q, q, now=NOW) for q in ("a", "b", "c")]
    subs = []
    for topic, query in zip(topics, ("a", "b", "c"), strict=True):
        sub, created = await chats.add_subscription("t:1", topic, query, created_by="7", now=NOW)
        assert created
        subs.append(sub)
    assert [s.number for s in subs] == [1, 2, 3]
    same, created = await chats.add_subscription("t:1", topics[0], "A", created_by=None, now=NOW)
    assert not created and same.id == subs[0].id and same.query == "a"
    await chats.delete_subscription(subs[1].id)
    listed = await chats.list_subscriptions("t:1")
    assert [(s.number, s.query) for s in listed] == [(1, "a"), (2, "c")]
    assert await chats.subscription_topic(subs[2].id) == topics[2]
    assert await chats.subscription_topic(subs[1].id) is None
    await chats.set_subscription_paused(subs[2].id, True)
    assert [s.paused for s in await chats.list_subscriptions("t:1")] == [False, True]
    assert await chats.list_subscriptions("t:2") == []


async def test_move_chat_keeps_subscriptions_and_digests(stores: Stores, chats: ChatStore) -> None:
    await chats.ensure_chat("t:-1", ChatKind.GROUP, "Lab", now=NOW, language="de")
    topic = await stores.digests.topic_id("a", "a", now=NOW)
    await chats.add_subscription("t:-1", topic, "a", created_by=None, now=NOW)
    digest_id = await empty_digest(stores, "t:-1", "a")
    await stores.outbox.enqueue_delivery("t:-1", None, digest_id, now=NOW)
    await chats.move_chat("t:-1", "t:-100")
    assert await chats.get_chat("t:-1") is None
    moved = await chats.get_chat("t:-100")
    assert moved is not None and (moved.title, moved.language) == ("Lab", "de")
    assert [s.query for s in await chats.list_subscriptions("t:-100")] == ["a"]
    assert await stores.digests.find_digest("t:-100", topic, DAY) is not None
    assert [t.chat_key for t in await stores.outbox.due_deliveries(NOW)] == ["t:-100"]


async def test_move_chat_merges_into_an_existing_chat(stores: Stores, chats: ChatStore) -> None:
    await chats.ensure_chat("t:-1", ChatKind.GROUP, "Old", now=NOW, language="de")
    await chats.ensure_chat("t:-100", ChatKind.GROUP, "New", now=NOW, language="en")
    a, b, c = [await stores.digests.topic_id(q, q, now=NOW) for q in ("a", "b", "c")]
    await chats.add_subscription("t:-1", a, "a", created_by=None, now=NOW)
    await chats.add_subscription("t:-1", b, "b old", created_by=None, now=NOW)
    await chats.add_subscription("t:-100", b, "b new", created_by=None, now=NOW)
    await chats.add_subscription("t:-100", c, "c", created_by=None, now=NOW)
    await chats.move_chat("t:-1", "t:-100")
    assert await chats.get_chat("t:-1") is None
    assert await chats.list_subscriptions("t:-1") == []
    merged = await chats.list_subscriptions("t:-100")
    assert sorted(s.query for s in merged) == ["a", "b new", "c"]
    assert [s.number for s in merged] == [1, 2, 3]
    kept = await chats.get_chat("t:-100")
    assert kept is not None and (kept.title, kept.language) == ("New", "en")


async def test_undelivered_subscriptions(stores: Stores, chats: ChatStore) -> None:
    for key in ("t:1", "t:2", "t:3"):
        await new_chat(stores, key)
    a = await stores.digests.topic_id("a", "a", now=NOW)
    b = await stores.digests.topic_id("b", "b", now=NOW)
    s1a, _ = await chats.add_subscription("t:1", a, "a", created_by=None, now=NOW)
    s1b, _ = await chats.add_subscription("t:1", b, "b", created_by=None, now=NOW)
    await chats.add_subscription("t:2", a, "a", created_by=None, now=NOW)
    s3a, _ = await chats.add_subscription("t:3", a, "a", created_by=None, now=NOW)
    await chats.set_paused("t:2", True, reason=None, now=NOW)  # paused chat: never due
    await chats.set_subscription_paused(s1b.id, True)  # paused topic: never due
    rows = await chats.undelivered_subscriptions(DAY)
    assert [(c.key, s.id, topic) for c, s, topic in rows] == [
        ("t:1", s1a.id, a),
        ("t:3", s3a.id, a),
    ]
    assert rows[0][1].query == "a" and rows[0][0].language == "en"
    # A delivery of the topic's digest through that day (any status) settles it.
    await stores.outbox.enqueue_delivery(
        "t:1", s1a.id, await empty_digest(stores, "t:1", "a"), now=NOW, status="skipped"
    )
    # One through an earlier day does not.
    yesterday = DAY - timedelta(days=1)
    await stores.outbox.enqueue_delivery(
        "t:3", s3a.id, await empty_digest(stores, "t:3", "a", through=yesterday), now=NOW
    )
    assert [c.key for c, _, _ in await chats.undelivered_subscriptions(DAY)] == ["t:3"]
    assert [c.key for c, _, _ in await chats.undelivered_subscriptions(yesterday)] == ["t:1"]


async def test_undelivered_subscriptions_by_pages(stores: Stores, chats: ChatStore) -> None:
    keys = [f"t:{i}" for i in range(7)]
    topics = [await stores.digests.topic_id(q, q, now=NOW) for q in ("a", "b", "c")]
    for key in keys:
        await new_chat(stores, key)
        for topic, query in zip(topics, ("a", "b", "c"), strict=True):
            await chats.add_subscription(key, topic, query, created_by=None, now=NOW)
    # A chat whose every subscription was delivered takes no place in a page.
    for query in ("a", "b", "c"):
        await stores.outbox.enqueue_delivery(
            "t:2", None, await empty_digest(stores, "t:2", query), now=NOW
        )
    whole = await chats.undelivered_subscriptions(DAY)
    pages, after = [], None
    while page := await chats.undelivered_subscriptions(DAY, after=after, limit=2):
        assert len({c.key for c, _, _ in page}) <= 2
        pages.append(page)
        after = page[-1][0].key
    assert [len({c.key for c, _, _ in p}) for p in pages] == [2, 2, 2]
    flat = [(c.key, s.id, t) for p in pages for c, s, t in p]
    assert flat == [(c.key, s.id, t) for c, s, t in whole]
    assert len(flat) == 18 and "t:2" not in {k for k, _, _ in flat}


# -- the outbox -----------------------------------------------------------------------------


async def test_enqueue_once_per_chat_and_digest(stores: Stores, outbox: Outbox) -> None:
    await new_chat(stores, "t:1")
    await new_chat(stores, "t:2")
    digest = await empty_digest(stores, "cli")
    assert await outbox.enqueue_delivery("t:1", None, digest, now=NOW)
    assert not await outbox.enqueue_delivery("t:1", None, digest, now=NOW)
    assert not await outbox.enqueue_delivery("t:1", None, digest, now=NOW, status="skipped")
    assert await outbox.enqueue_delivery("t:2", None, digest, now=NOW)
    assert await outbox.delivery_counts() == DeliveryCounts(pending=2, sent=0, skipped=0, failed=0)
    with pytest.raises(ValueError, match="not an outbox status"):
        await outbox.enqueue_delivery("t:1", None, digest, now=NOW, status="failed")


async def test_enqueue_deliveries_is_enqueue_delivery_for_many(
    stores: Stores, outbox: Outbox
) -> None:
    for key in ("t:1", "t:2", "t:3"):
        await new_chat(stores, key)
    one, two = await empty_digest(stores, "cli", "a"), await empty_digest(stores, "cli", "b")
    assert await outbox.enqueue_delivery("t:1", None, one, now=NOW)
    added = await outbox.enqueue_deliveries(
        [
            ("t:1", None, one, "pending"),  # queued already
            ("t:2", None, one, "pending"),
            ("t:2", None, one, "skipped"),  # the same row twice: added once
            ("t:3", None, two, "skipped"),
        ],
        now=NOW,
    )
    assert added == [False, True, False, True]
    assert await outbox.delivery_counts() == DeliveryCounts(pending=2, sent=0, skipped=1, failed=0)
    assert [t.chat_key for t in await outbox.due_deliveries(NOW)] == ["t:1", "t:2"]
    assert await outbox.enqueue_deliveries([], now=NOW) == []
    with pytest.raises(ValueError, match="not an outbox status"):
        await outbox.enqueue_deliveries([("t:1", None, two, "sent")], now=NOW)


async def test_skipped_and_sent_rows_are_never_due(stores: Stores, outbox: Outbox) -> None:
    await new_chat(stores, "t:1")
    one, two = await empty_digest(stores, "cli", "a"), await empty_digest(stores, "cli", "b")
    assert await outbox.enqueue_delivery("t:1", None, one, now=NOW, status="skipped")
    assert await outbox.enqueue_delivery("t:1", None, two, now=NOW)
    [task] = await outbox.due_deliveries(NOW)
    await outbox.mark_part_sent(task.id, 1, finished=True, now=NOW)
    assert await outbox.due_deliveries(NOW + timedelta(days=1)) == []
    assert await outbox.delivery_counts() == DeliveryCounts(pending=0, sent=1, skipped=1, failed=0)


async def test_due_in_queue_order_and_per_chat(stores: Stores, outbox: Outbox) -> None:
    for key in ("t:1", "t:2"):
        await new_chat(stores, key)
    d1, d2, d3 = [await empty_digest(stores, "cli", q) for q in ("a", "b", "c")]
    await outbox.enqueue_delivery("t:2", None, d1, now=NOW)
    await outbox.enqueue_delivery("t:1", None, d2, now=NOW)
    await outbox.enqueue_delivery("t:2", None, d3, now=NOW + timedelta(minutes=5))
    due = await outbox.due_deliveries(NOW)
    assert [(t.chat_key, t.digest_id) for t in due] == [("t:2", d1), ("t:1", d2)]
    assert (due[0].subscription_id, due[0].parts_sent, due[0].attempts) == (None, 0, 0)
    later = await outbox.due_deliveries(NOW + timedelta(minutes=5))
    assert [(t.chat_key, t.digest_id) for t in later] == [("t:2", d1), ("t:1", d2), ("t:2", d3)]
    assert [t.digest_id for t in await outbox.due_deliveries(NOW, "t:2")] == [d1]
    assert [t.digest_id for t in await outbox.due_deliveries(NOW, "t:1")] == [d2]
    assert await outbox.due_deliveries(NOW, "t:9") == []


async def test_paused_chats_are_not_due(stores: Stores, outbox: Outbox) -> None:
    await new_chat(stores, "t:1")
    await outbox.enqueue_delivery("t:1", None, await empty_digest(stores, "cli"), now=NOW)
    await stores.chats.set_paused("t:1", True, reason="blocked", now=NOW)
    assert await outbox.due_deliveries(NOW) == []
    await stores.chats.resume_suspended(["t:1"], now=NOW)
    assert len(await outbox.due_deliveries(NOW)) == 1  # kept: it gets what it missed
    await stores.chats.set_paused("t:1", True, reason=None, now=NOW)
    assert await outbox.due_deliveries(NOW, "t:1") == []


async def test_mark_part_sent_is_the_restart_point(stores: Stores, outbox: Outbox) -> None:
    await new_chat(stores, "t:1")
    await outbox.enqueue_delivery("t:1", None, await empty_digest(stores, "cli"), now=NOW)
    (task,) = await outbox.due_deliveries(NOW)
    await outbox.mark_part_sent(task.id, 2, finished=False, now=NOW)
    (resumed,) = await outbox.due_deliveries(NOW)
    assert (resumed.id, resumed.parts_sent) == (task.id, 2)
    await outbox.mark_part_sent(task.id, 3, finished=True, now=NOW)
    assert await outbox.due_deliveries(NOW + timedelta(days=1)) == []
    assert await outbox.delivery_counts() == DeliveryCounts(pending=0, sent=1, skipped=0, failed=0)


async def test_retry_later_and_fail(stores: Stores, outbox: Outbox) -> None:
    await new_chat(stores, "t:1")
    await outbox.enqueue_delivery("t:1", None, await empty_digest(stores, "cli", "a"), now=NOW)
    await outbox.enqueue_delivery("t:1", None, await empty_digest(stores, "cli", "b"), now=NOW)
    first, second = await outbox.due_deliveries(NOW)
    at = NOW + timedelta(minutes=30)
    await outbox.retry_delivery_later(first.id, attempts=1, at=at, error="timeout " * 200)
    assert [t.id for t in await outbox.due_deliveries(NOW)] == [second.id]
    retried = await outbox.due_deliveries(at)
    assert [(t.id, t.attempts) for t in retried] == [(first.id, 1), (second.id, 0)]
    await outbox.fail_delivery(second.id, error="message too long", now=NOW)
    assert [t.id for t in await outbox.due_deliveries(at)] == [first.id]
    assert await outbox.delivery_counts() == DeliveryCounts(pending=1, sent=0, skipped=0, failed=1)


async def test_request_delivery_hurries_a_pending_delivery(stores: Stores, outbox: Outbox) -> None:
    await new_chat(stores, "t:1")
    digest = await empty_digest(stores, "t:1")
    sub = await subscribe(stores, "t:1")
    await outbox.enqueue_delivery("t:1", sub, digest, now=NOW)
    (task,) = await outbox.due_deliveries(NOW)
    await outbox.mark_part_sent(task.id, 1, finished=False, now=NOW)
    await outbox.retry_delivery_later(task.id, attempts=2, at=NOW + timedelta(hours=1), error="x")
    later = NOW + timedelta(minutes=1)
    assert await outbox.due_deliveries(later) == []
    assert await outbox.request_delivery("t:1", sub, digest, now=later) == task.id
    (hurried,) = await outbox.due_deliveries(later)
    assert (hurried.id, hurried.parts_sent, hurried.attempts) == (task.id, 1, 2)
    assert await outbox.delivery_counts() == DeliveryCounts(pending=1, sent=0, skipped=0, failed=0)


async def test_request_delivery_queues_a_new_copy(stores: Stores, outbox: Outbox) -> None:
    await new_chat(stores, "t:1")
    await new_chat(stores, "t:2")
    digest = await empty_digest(stores, "t:1")
    sub = await subscribe(stores, "t:1")
    # Nothing queued yet: the request is the delivery, and a later schedule adds nothing.
    first = await outbox.request_delivery("t:1", sub, digest, now=NOW)
    assert not await outbox.enqueue_delivery("t:1", sub, digest, now=NOW)
    (task,) = await outbox.due_deliveries(NOW)
    assert (task.id, task.subscription_id, task.digest_id, task.parts_sent) == (
        first,
        sub,
        digest,
        0,
    )
    await outbox.mark_part_sent(first, 2, finished=True, now=NOW)
    # Sent already: asking again queues another copy, due now, from the first message.
    second = await outbox.request_delivery("t:1", sub, digest, now=NOW)
    assert second != first
    assert await outbox.request_delivery("t:1", sub, digest, now=NOW) == second  # still pending
    (again,) = await outbox.due_deliveries(NOW)
    assert (again.id, again.parts_sent) == (second, 0)
    await outbox.fail_delivery(second, error="x", now=NOW)
    third = await outbox.request_delivery("t:1", None, digest, now=NOW)
    assert third not in {first, second}
    other = await outbox.request_delivery("t:2", None, digest, now=NOW)
    assert [t.id for t in await outbox.due_deliveries(NOW)] == [third, other]
    assert [t.id for t in await outbox.due_deliveries(NOW, "t:1")] == [third]
    assert await outbox.delivery_counts() == DeliveryCounts(pending=2, sent=1, skipped=0, failed=1)


# -- summaries ------------------------------------------------------------------------------


async def test_summary_cache_is_keyed_on_every_part(summaries: SummaryStore) -> None:
    key = SummaryKey("2411.00001", 1, "zh", "p1", "gpt-x")
    cached = CachedSummary(
        Summary("一句话总结。", ("要点一", "要点二", "要点三"), "zh", SummarySource.LLM, "gpt-x"),
        NOW,
    )
    assert await summaries.get_summaries([key]) == {}
    await summaries.put_summary(key, cached)
    variants = [
        SummaryKey("2411.00001", 2, "zh", "p1", "gpt-x"),
        SummaryKey("2411.00001", 1, "en", "p1", "gpt-x"),
        SummaryKey("2411.00001", 1, "zh", "p2", "gpt-x"),
        SummaryKey("2411.00001", 1, "zh", "p1", "other"),
        SummaryKey("2411.00002", 1, "zh", "p1", "gpt-x"),
    ]
    assert await summaries.get_summaries([key, *variants]) == {key: cached}
    fallback = CachedSummary(
        Summary("An extract.", ("One.",), "en", SummarySource.EXTRACTIVE, None),
        NOW + timedelta(hours=1),
    )
    await summaries.put_summary(key, fallback)  # replaces, under the same key
    assert await summaries.get_summaries([key]) == {key: fallback}
    assert await summaries.get_summaries([]) == {}


# -- reviews and LLM usage ------------------------------------------------------------------


async def test_review_cache_is_keyed_on_every_part(stores: Stores) -> None:
    from bot.fulltext.model import Note, NoteKind, TextSource
    from bot.models import Link, LinkKind
    from bot.reviews.model import CachedReview, Review, ReviewKey, ReviewOrigin

    review = Review(
        paper_id="2411.00001", version=1, title="A “title” & 中文", authors=("Émile Borel",),
        affiliations=("Université Paris",), source=TextSource.PDF, origin=ReviewOrigin.LLM,
        links=(Link(LinkKind.CODE, "https://github.com/a/b", "GitHub"),), language="zh",
        keywords=("扩散",), background="背景。", prior_work="以往。", method="方法。",
        results="结果。", method_steps=("一。", "二。"), significance="意义。", strengths="优点。",
        weaknesses="", translated_title="标题", model="gpt-x",
        notes=(Note(NoteKind.PAGES_CAPPED, pages_read=60, pages_total=112),),
    )  # fmt: skip
    key = ReviewKey("2411.00001", 1, "zh", "r1", "gpt-x")
    assert await stores.reviews.get_review(key) is None
    await stores.reviews.put_review(key, CachedReview(review, NOW))
    assert await stores.reviews.get_review(key) == CachedReview(review, NOW)
    for variant in (
        ReviewKey("2411.00001", 2, "zh", "r1", "gpt-x"),
        ReviewKey("2411.00001", 1, "en", "r1", "gpt-x"),
        ReviewKey("2411.00001", 1, "zh", "r2", "gpt-x"),
        ReviewKey("2411.00001", 1, "zh", "r1", "other"),
    ):
        assert await stores.reviews.get_review(variant) is None
    fallback = replace(
        review, origin=ReviewOrigin.EXTRACTIVE, model=None, fallback_reason="the model failed"
    )
    await stores.reviews.put_review(key, CachedReview(fallback, NOW + timedelta(hours=1)))
    got = await stores.reviews.get_review(key)
    assert got is not None and got.review == fallback
    assert got.review.fallback_reason == "the model failed"
    assert got.created_at == NOW + timedelta(hours=1)


async def test_usage_adds_up_per_day(stores: Stores) -> None:
    from storage import DailyUsage

    assert await stores.usage.usage_on(DAY) == DailyUsage(DAY)
    first = await stores.usage.add_usage(DAY, prompt_tokens=100, completion_tokens=20)
    assert first == DailyUsage(DAY, 100, 20, 1)
    second = await stores.usage.add_usage(DAY, prompt_tokens=5, completion_tokens=1)
    assert second == DailyUsage(DAY, 105, 21, 2) and second.total_tokens == 126
    assert await stores.usage.usage_on(DAY) == second
    assert await stores.usage.usage_on(DAY + timedelta(days=1)) == DailyUsage(
        DAY + timedelta(days=1)
    )


# -- counts ---------------------------------------------------------------------------------


async def test_stats_count_every_table(stores: Stores) -> None:
    from storage.interfaces import OriginCounts, OutboxCounts, PlatformCounts, UsageTotals

    empty = await stores.stats.counts(DAY)
    assert (empty.papers, empty.announcement_days, empty.first_listing, empty.platforms) == (
        0, 0, None, (),
    )  # fmt: skip
    assert empty.deliveries == OutboxCounts() and empty.summaries == OriginCounts()
    assert empty.llm_last_7_days == UsageTotals(DAY - timedelta(days=6), DAY)

    await stores.papers.upsert_papers([make_paper("a"), make_paper("b"), make_paper("c")], now=NOW)
    await stores.papers.record_announcements(
        [("a", 1, DAY - timedelta(days=1), AnnounceType.NEW), ("b", 1, DAY, AnnounceType.NEW)],
        group="cs", source="rss",
    )  # fmt: skip
    for key in ("t:1", "t:2", "d:1"):
        await new_chat(stores, key)
    await subscribe(stores, "t:1", "x")
    await subscribe(stores, "t:2", "x")
    await subscribe(stores, "d:1", "y")
    one, two = await empty_digest(stores, "cli", "a"), await empty_digest(stores, "cli", "b")
    for key in ("t:1", "t:2", "d:1"):
        await stores.outbox.enqueue_delivery(key, None, one, now=NOW)
    await stores.outbox.enqueue_delivery("t:1", None, two, now=NOW, status="skipped")
    await stores.chats.set_paused("t:2", True, reason=None, now=NOW)
    await stores.chats.set_paused("d:1", True, reason="forbidden", now=NOW)
    summary = CachedSummary(Summary("T.", ("K.",), "en", SummarySource.EXTRACTIVE), NOW)
    await stores.summaries.put_summary(SummaryKey("a", 1, "en", "p", "extractive"), summary)
    await stores.usage.add_usage(DAY, prompt_tokens=10, completion_tokens=2)
    await stores.usage.add_usage(DAY - timedelta(days=6), prompt_tokens=5, completion_tokens=1)
    await stores.usage.add_usage(DAY - timedelta(days=7), prompt_tokens=99, completion_tokens=9)

    stats = await stores.stats.counts(DAY)
    assert (stats.papers, stats.papers_announced, stats.announcement_days) == (3, 2, 2)
    assert (stats.first_listing, stats.last_listing) == (DAY - timedelta(days=1), DAY)
    assert (stats.topics, stats.topics_followed) == (4, 2)  # x, y, and the digests' a, b
    assert stats.platforms == (  # only platforms with chats, by name
        PlatformCounts("d", chats=1, suspended=1, subscriptions=1, topics=1),
        PlatformCounts("t", chats=2, paused=1, subscriptions=2, topics=1),
    )
    assert stats.summaries == OriginCounts(extractive=1) and stats.reviews == OriginCounts()
    assert stats.llm_today == UsageTotals(DAY, DAY, 10, 2, 1)
    assert stats.llm_last_7_days == UsageTotals(DAY - timedelta(days=6), DAY, 15, 3, 2)
    assert stats.deliveries == OutboxCounts(queued=1, paused=1, suspended=1, skipped=1)
