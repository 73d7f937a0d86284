"""Cache policy: one model call per (paper version, language, prompt, model), whoever asks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from bot.models import Paper, SummaryKey, SummarySource
from bot.summaries.extractive import extractive_summary
from bot.summaries.llm import LLMSummarizer
from bot.summaries.prompts import PROMPT_VERSION
from bot.summaries.summarizer import EXTRACTIVE_MODEL, Summarizer
from tests.fakes.llm_server import INVALID_JSON, VALID, FakeLLMServer
from tests.test_summaries_store import SqliteSummaryStore

MODEL = "fake-model"
PAPER = Paper(
    id="2409.03605",
    version=1,
    title="LipSync-XL: Diffusion Transformers for Talking Heads",
    abstract=(
        "Talking-head generation remains challenging. We propose LipSync-XL, a diffusion "
        "transformer for audio-driven portraits. It reduces FID by 31.2% on HDTF. "
        "It runs at 25 fps on one A100 GPU."
    ),
)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def paper(n: int, version: int = 1) -> Paper:
    return Paper(
        id=f"2410.{n:05d}",
        version=version,
        title=f"Paper{n}: A Study",
        abstract=f"We propose method number {n} for a hard task. It improves accuracy by {n}%.",
    )


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.01) as fake:
        yield fake


@pytest.fixture
async def llm(server: FakeLLMServer) -> AsyncIterator[LLMSummarizer]:
    client = AsyncOpenAI(api_key="test-key", base_url=server.base_url, timeout=5, max_retries=0)
    async with LLMSummarizer(client, MODEL, concurrency=4) as summarizer:
        yield summarizer


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteSummaryStore]:
    sqlite = await SqliteSummaryStore.open(tmp_path / "summaries.db")
    try:
        yield sqlite
    finally:
        await sqlite.close()


async def test_a_thousand_subscribers_cost_one_call(
    server: FakeLLMServer, llm: LLMSummarizer, store: SqliteSummaryStore
) -> None:
    summarizer = Summarizer(store, llm)
    results = await asyncio.gather(*(summarizer.summarize(PAPER, "en") for _ in range(1000)))
    assert server.calls == 1 and llm.calls == 1
    assert all(r == results[0] for r in results)
    assert results[0].source is SummarySource.LLM

    # Later requests, and a restarted process sharing the database, hit the cache.
    await summarizer.summarize(PAPER, "en")
    await Summarizer(store, llm).summarize(PAPER, "en")
    assert server.calls == 1


async def test_cache_key_parts(
    server: FakeLLMServer, llm: LLMSummarizer, store: SqliteSummaryStore
) -> None:
    summarizer = Summarizer(store, llm)
    await summarizer.summarize(PAPER, "en")
    await summarizer.summarize(replace(PAPER, version=2), "en")  # a new version: a new call
    assert server.calls == 2
    await summarizer.summarize(PAPER, "zh")
    await summarizer.summarize(PAPER, "zh-CN")  # the same language, normalised
    assert server.calls == 3
    key = SummaryKey(PAPER.id, 2, "en", PROMPT_VERSION, MODEL)
    assert summarizer.key_for(replace(PAPER, version=2), "en") == key
    assert (await store.get_summaries([key]))[key].summary.source is SummarySource.LLM


async def test_summarize_many_batches_the_lookup_and_reports_progress(
    server: FakeLLMServer, llm: LLMSummarizer, store: SqliteSummaryStore
) -> None:
    summarizer = Summarizer(store, llm)
    await summarizer.summarize(paper(1), "en")
    store.get_calls = 0
    ticks: list[int] = []
    papers = [paper(i) for i in range(1, 6)] + [paper(3)]  # a duplicate id
    results = await summarizer.summarize_many(papers, "en", progress=ticks.append)
    assert list(results) == [p.id for p in papers[:5]]
    assert store.get_calls == 1
    assert ticks == [1] * 5
    assert server.calls == 5  # paper 1 came from the cache


async def test_highest_version_wins_within_a_batch(
    server: FakeLLMServer, llm: LLMSummarizer, store: SqliteSummaryStore
) -> None:
    summarizer = Summarizer(store, llm)
    await summarizer.summarize_many([paper(1, 1), paper(1, 3), paper(1, 2)], "en")
    key = summarizer.key_for(paper(1, 3), "en")
    assert key in await store.get_summaries([key])
    assert server.calls == 1


async def test_overlapping_batches_share_work(
    server: FakeLLMServer, llm: LLMSummarizer, store: SqliteSummaryStore
) -> None:
    summarizer = Summarizer(store, llm)
    a, b = await asyncio.gather(
        summarizer.summarize_many([paper(1), paper(2)], "en"),
        summarizer.summarize_many([paper(2), paper(3)], "en"),
    )
    assert a[paper(2).id] == b[paper(2).id]
    assert server.calls == 3


async def test_failed_summary_is_cached_then_retried_after_the_window(
    server: FakeLLMServer, llm: LLMSummarizer, store: SqliteSummaryStore
) -> None:
    clock = FakeClock()
    summarizer = Summarizer(store, llm, clock=clock, retry_failed_after=timedelta(hours=6))
    server.when("LipSync-XL", INVALID_JSON, INVALID_JSON, then=VALID)

    first = await summarizer.summarize(PAPER, "en")
    assert first == extractive_summary(PAPER)
    assert server.calls == 2  # the answer and its one retry
    key = summarizer.key_for(PAPER, "en")
    stored = (await store.get_summaries([key]))[key]
    assert key.model == MODEL and stored.summary.source is SummarySource.EXTRACTIVE
    assert stored.created_at == clock.now

    # Within the window, every subscriber gets the cached fallback, with no new calls.
    clock.advance(timedelta(hours=5, minutes=59))
    await asyncio.gather(*(summarizer.summarize(PAPER, "en") for _ in range(100)))
    assert server.calls == 2

    # After it, one new attempt; it succeeds and replaces the fallback for good.
    clock.advance(timedelta(minutes=2))
    again = await asyncio.gather(*(summarizer.summarize(PAPER, "en") for _ in range(100)))
    assert server.calls == 3
    assert all(s.source is SummarySource.LLM for s in again)
    clock.advance(timedelta(days=30))
    assert (await summarizer.summarize(PAPER, "en")).source is SummarySource.LLM
    assert server.calls == 3


async def test_without_a_model_summaries_are_extractive_and_cached(
    store: SqliteSummaryStore,
) -> None:
    clock = FakeClock()
    summarizer = Summarizer(store, None, clock=clock)
    summary = await summarizer.summarize(PAPER, "zh")
    assert summary == extractive_summary(PAPER)
    key = SummaryKey(PAPER.id, PAPER.version, "zh", PROMPT_VERSION, EXTRACTIVE_MODEL)
    assert summarizer.key_for(PAPER, "zh") == key
    assert key in await store.get_summaries([key])
    clock.advance(timedelta(days=1))  # an extractive-only setup never "retries"
    store.put_calls = 0
    await summarizer.summarize(PAPER, "zh")
    assert store.put_calls == 0


async def test_a_broken_cache_does_not_break_summaries(
    tmp_path: Path, server: FakeLLMServer, llm: LLMSummarizer, caplog: pytest.LogCaptureFixture
) -> None:
    broken = await SqliteSummaryStore.open(tmp_path / "broken.db")
    await broken.close()  # every read and write now fails
    with caplog.at_level(logging.ERROR):
        summary = await Summarizer(broken, llm).summarize(PAPER, "en")
    assert summary.source is SummarySource.LLM
    assert "Reading cached summaries failed" in caplog.text
    assert "Caching the summary" in caplog.text


async def test_a_cancelled_caller_does_not_cancel_the_shared_work(
    server: FakeLLMServer, llm: LLMSummarizer, store: SqliteSummaryStore
) -> None:
    summarizer = Summarizer(store, llm)
    first = asyncio.create_task(summarizer.summarize(PAPER, "en"))
    second = asyncio.create_task(summarizer.summarize(PAPER, "en"))
    await asyncio.sleep(0)
    first.cancel()
    summary = await second
    assert summary.source is SummarySource.LLM
    assert server.calls == 1
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_the_real_storage_gives_back_what_was_computed(
    tmp_path: Path, server: FakeLLMServer, llm: LLMSummarizer
) -> None:
    # The production store (storage/) satisfies the same Protocol; a fallback cached under a
    # Chinese key must come back exactly as it was first returned (English, extractive).
    from storage import Storage

    server.when("LipSync-XL", INVALID_JSON, INVALID_JSON, then=VALID)
    async with await Storage.open(tmp_path / "paperboy.db") as storage:
        fresh = await Summarizer(storage.summaries, llm).summarize(PAPER, "zh")
        cached = await Summarizer(storage.summaries, llm).summarize(PAPER, "zh")
        ok = await Summarizer(storage.summaries, llm).summarize(PAPER, "en")
        again = await Summarizer(storage.summaries, llm).summarize(PAPER, "en")
    assert fresh == cached == extractive_summary(PAPER)
    assert ok == again and ok.source is SummarySource.LLM
    assert server.calls == 3
