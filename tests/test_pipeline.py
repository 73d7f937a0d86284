"""End to end through the core: fake arXiv feeds and API → ingestion → digest, on a real SQLite
file, driving the real `arxiv` and `requests` libraries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.core import open_core
from bot.digest import DigestRequest
from bot.errors import InvalidArxivId, InvalidQuery, PaperNotFound
from bot.models import SummarySource, UpdateNote
from bot.query import parse_query
from bot.service import Paperboy
from bot.source import ArxivSource
from tests.fakes.arxiv_data import make_paper, next_version
from tests.fakes.arxiv_server import FakeArxiv, Fault
from tests.pipeline_data import (
    TOPIC,
    FakeClock,
    distractor_papers,
    paper,
    submitted_for,
    talking_head_papers,
)

MON, TUE, WED, THU, FRI = (date(2026, 11, d) for d in (16, 17, 18, 19, 20))
SAT = date(2026, 11, 21)


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    c = FakeClock(now=submitted_for(MON))
    c.set_listing_evening(MON)
    return c


def make_settings(fake: FakeArxiv, tmp_path: Path, **extra: str) -> Settings:
    env = {
        "ARXIV_API_URL": fake.api_url,
        "ARXIV_RSS_URL": fake.rss_url,
        "PAPERBOY_DB": str(tmp_path / "paperboy.db"),
        "PAPERBOY_ARXIV_DELAY": "0",
        "PAPERBOY_ARXIV_RETRIES": "2",
        "PAPERBOY_CATEGORIES": "cs,eess",
        **extra,
    }
    return load_settings(**env)


@pytest.fixture
async def app(fake: FakeArxiv, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Paperboy]:
    settings = make_settings(fake, tmp_path)
    source = ArxivSource(
        api_url=fake.api_url, rss_url=fake.rss_url, delay_seconds=0, retries=2,
        backoff_seconds=0.01, timeout_seconds=2,
    )  # fmt: skip
    async with open_core(settings, clock=clock, source=source) as core:
        paperboy = core.paperboy
        yield paperboy


def titles(entries: object) -> list[str]:
    return [e.paper.title for e in entries]  # type: ignore[attr-defined]


async def test_digest_keeps_topic_papers_and_keeps_out_distractors(
    app: Paperboy, fake: FakeArxiv
) -> None:
    heads, noise = talking_head_papers(MON), distractor_papers(MON)
    fake.announce(MON, new=[*heads, *noise])
    digest = await app.digest(TOPIC)
    assert sorted(titles(digest.new_entries)) == sorted(p.title for p in heads)
    assert digest.through == MON and digest.total_matched == 3
    # Without an API key every summary is extractive and labelled as such.
    assert {s.source for s in digest.summaries.values()} == {SummarySource.EXTRACTIVE}
    assert set(digest.summaries) == {p.id for p in heads}


async def test_same_day_twice_gives_the_same_digest(app: Paperboy, fake: FakeArxiv) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    first = await app.digest(TOPIC)
    second = await app.digest(TOPIC)
    assert second.id == first.id
    assert titles(second.new_entries) == titles(first.new_entries)


async def test_next_day_brings_only_new_papers_and_an_update_line_for_v2(
    app: Paperboy, fake: FakeArxiv, clock: FakeClock
) -> None:
    heads = talking_head_papers(MON)
    fake.announce(MON, new=heads)
    await app.digest(TOPIC)

    later = paper(7, "Talking Face Generation with Audio Priors", "A talking face model.",
                  listing=TUE)  # fmt: skip
    fake.announce(TUE, new=[later], replaced=[next_version(heads[0])])
    clock.set_listing_evening(TUE)
    digest = await app.digest(TOPIC)
    assert titles(digest.new_entries) == [later.title]
    assert [(e.paper.id, e.paper.version, e.previous_version) for e in digest.updated_entries] == [
        (heads[0].id, 2, 1)
    ]
    assert all(e.kind is UpdateNote.UPDATED for e in digest.updated_entries)


async def test_replacement_of_a_never_delivered_paper_is_not_news(
    app: Paperboy, fake: FakeArxiv, clock: FakeClock
) -> None:
    old = make_paper(50, title="A talking head survey", abstract="About talking head models.")
    fake.announce(TUE, replaced=[next_version(old)])
    clock.set_listing_evening(TUE)
    digest = await app.digest(TOPIC)
    assert digest.entries == ()


async def test_other_audiences_and_topics_are_independent(app: Paperboy, fake: FakeArxiv) -> None:
    heads = talking_head_papers(MON)
    fake.announce(MON, new=heads)
    cli = await app.digest(TOPIC)
    chat = await app.digest(TOPIC, audience="chat:42")
    narrow = await app.digest('"lip sync"')
    assert titles(chat.new_entries) == titles(cli.new_entries)
    assert titles(narrow.new_entries) == [heads[2].title]


async def test_downtime_is_backfilled_through_the_query_api(
    app: Paperboy, fake: FakeArxiv, clock: FakeClock
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    await app.digest(TOPIC)
    # Paperboy is off Tuesday to Thursday; those listings are gone from the feed by Friday.
    missed_tue = paper(20, "Talking-Head Avatars for Telepresence", "Talking heads.", listing=TUE)
    missed_thu = paper(21, "Lip Sync Everywhere", "Lip-sync for any face.", listing=THU)
    fake.add_papers([missed_tue, missed_thu])
    today = paper(22, "Talking Face Benchmarks", "A talking face benchmark.", listing=FRI)
    fake.announce(FRI, new=[today])
    clock.set_listing_evening(FRI)
    fake.clear_requests()

    digest = await app.digest(TOPIC)
    assert sorted(titles(digest.new_entries)) == sorted(
        [missed_tue.title, missed_thu.title, today.title]
    )
    searches = [r for r in fake.requests_to("/api/query") if r.query.get("search_query")]
    assert searches and all("submittedDate" in r.query["search_query"] for r in searches)


async def test_first_run_on_a_weekend_seeds_the_last_listing(
    app: Paperboy, fake: FakeArxiv, clock: FakeClock
) -> None:
    friday = talking_head_papers(FRI)
    fake.add_papers([*friday, *distractor_papers(FRI)])
    fake.announce(None)  # weekend: the feeds are empty
    clock.set_listing_evening(SAT)
    digest = await app.digest(TOPIC)
    assert digest.through == FRI
    assert sorted(titles(digest.new_entries)) == sorted(p.title for p in friday)


async def test_since_backfills_older_listings_without_marking_delivery(
    app: Paperboy, fake: FakeArxiv, clock: FakeClock
) -> None:
    older = paper(30, "Talking Head Editing", "Edit talking head videos.", listing=TUE)
    fake.add_papers([older])
    fake.announce(THU, new=talking_head_papers(THU))
    clock.set_listing_evening(THU)
    preview = await app.digest(TOPIC, since=MON)
    assert older.title in titles(preview.new_entries)
    assert len(preview.new_entries) == 4
    regular = await app.digest(TOPIC)
    assert older.title not in titles(regular.new_entries)  # first digest: latest listing only
    assert len(regular.new_entries) == 3


async def test_malformed_feed_is_survived_and_retried_next_cycle(
    app: Paperboy, fake: FakeArxiv, clock: FakeClock
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    fake.inject(*[Fault.malformed(path="/rss/cs")] * 3)
    report = await app.refresh()
    assert "cs" in report.failed and "eess" in report.fetched
    clock.advance(hours=1)
    report = await app.refresh()
    assert report.failed == {} and "cs" in report.fetched
    digest = await app.digest(TOPIC)
    assert len(digest.new_entries) == 3


async def test_refresh_within_the_interval_reuses_the_listing(
    app: Paperboy, fake: FakeArxiv, clock: FakeClock
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    await app.refresh()
    before = len(fake.requests_to("/rss/"))
    await app.digest(TOPIC)
    await app.digest('"lip sync"')
    assert len(fake.requests_to("/rss/")) == before


async def test_arxiv_requests_per_cycle_do_not_depend_on_topics(
    fake: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    fake.announce(MON, new=[*talking_head_papers(MON), *distractor_papers(MON)])
    counts = []
    for n_topics in (1, 40):
        fake.clear_requests()
        settings = make_settings(fake, tmp_path / str(n_topics))
        async with open_core(settings, clock=clock) as core:
            app = core.paperboy
            for i in range(n_topics):
                await app.digest(f'"talking head" OR topic{i}')
        counts.append(len(fake.requests))
    assert counts[0] == counts[1]


async def test_feed_papers_are_enriched_with_comments(app: Paperboy, fake: FakeArxiv) -> None:
    heads = talking_head_papers(MON)
    fake.announce(MON, new=heads)
    digest = await app.digest(TOPIC)
    by_id = {e.paper.id: e.paper for e in digest.new_entries}
    assert by_id[heads[0].id].comment == heads[0].comment
    assert by_id[heads[0].id].published == heads[0].published


async def test_paper_lookup_accepts_pasted_forms(app: Paperboy, fake: FakeArxiv) -> None:
    p = talking_head_papers(MON)[0]
    fake.add_papers([p, next_version(p)])
    for text in (p.id, f"arXiv:{p.id}", f"https://arxiv.org/abs/{p.id}v1", f" {p.id}v2 "):
        found, summary = await app.paper(text)
        assert found.id == p.id and summary.tldr
    latest, _ = await app.paper(p.id)
    assert latest.version == 2
    first, _ = await app.paper(f"{p.id}v1")
    assert first.version == 1


@pytest.mark.parametrize("text", ["9912.99999", "hep-th/9901999"])
async def test_unknown_paper_is_a_clear_error(app: Paperboy, text: str) -> None:
    with pytest.raises(PaperNotFound, match=text.split("/")[-1]):
        await app.paper(text)


@pytest.mark.parametrize("text", ["", "hello", "2409.99999999", "<b>1234</b>", "٢٤٠٩.٠٣"])
async def test_malformed_paper_id_is_a_clear_error(app: Paperboy, text: str) -> None:
    with pytest.raises(InvalidArxivId):
        await app.paper(text)


@pytest.mark.parametrize("query", ["", "   ", '"unclosed', "(a OR b", "NOT survey", "x" * 600])
async def test_bad_queries_are_user_errors(app: Paperboy, query: str) -> None:
    with pytest.raises(InvalidQuery):
        await app.digest(query)


async def test_batch_digests_equal_one_at_a_time(
    fake: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    fake.announce(MON, new=[*talking_head_papers(MON), *distractor_papers(MON)])
    queries = [TOPIC, '"lip sync"', "multi-talker", 'talk* -"talking head"', "cat:eess.AS"]
    results = []
    for batch in (False, True):
        settings = make_settings(fake, tmp_path / f"batch-{batch}")
        async with open_core(settings, clock=clock) as core:
            app = core.paperboy
            await app.refresh()
            requests = [DigestRequest(f"chat:{i}", parse_query(q)) for i, q in enumerate(queries)]
            if batch:
                await app.digests.latest(requests[0].query, audience="chat:0", max_papers=25)
                digests = await app.digests.latest_many(requests, max_papers=25)
            else:
                digests = [
                    await app.digests.latest(r.query, audience=r.audience, max_papers=25)
                    for r in requests
                ]
        results.append([[e.paper.id for e in d.entries] for d in digests])
    assert results[0] == results[1]
    assert results[0][0] and results[0][2] and results[0][4]  # the queries did match something


async def test_unreachable_arxiv_does_not_wait_out_every_group(
    app: Paperboy, fake: FakeArxiv
) -> None:
    fake.inject(*[Fault.reset(path="/rss/")] * 20)
    report = await app.refresh()
    assert set(report.failed) == {"cs", "eess"}
    assert len(fake.requests_to("/rss/eess")) == 0  # gave up after the first group


async def test_a_new_process_reuses_the_current_listing_and_looks_after_the_rebuild(
    fake: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    settings = make_settings(fake, tmp_path)
    async with open_core(settings, clock=clock) as core:
        await core.paperboy.digest(TOPIC)
    # Another process before the next nightly rebuild: what is stored is current.
    fake.clear_requests()
    clock.advance(hours=12)
    async with open_core(settings, clock=clock) as core:
        report = await core.paperboy.refresh()
    assert fake.requests == [] and sorted(report.skipped) == ["cs", "eess"]
    # After the rebuild it looks again, conditionally, and gets the new listing.
    later = paper(40, "Lip Sync in the Wild", "Lip sync for any video.", listing=TUE)
    fake.announce(TUE, new=[later])
    clock.set_listing_evening(TUE)
    async with open_core(settings, clock=clock) as core:
        digest = await core.paperboy.digest(TOPIC)
    assert titles(digest.new_entries) == [later.title]
    feeds = fake.requests_to("/rss/")
    assert len(feeds) == 2 and all("If-None-Match" in r.headers for r in feeds)
