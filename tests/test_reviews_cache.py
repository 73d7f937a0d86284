"""Review cache policy: one model call per (paper version, language, prompt, model)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from bot.fulltext.model import FullText, NoteKind, TextSource
from bot.models import Paper
from bot.reviews.model import ReviewOrigin
from bot.reviews.prompts import REVIEW_PROMPT_VERSION
from bot.reviews.reviewer import Reviewer
from bot.summaries.llm import LLMSummarizer
from storage import Storage
from tests.fakes.llm_server import INVALID_JSON, FakeLLMServer, raw
from tests.test_reviews_llm import FULLTEXT, MODEL, PAPER, answer


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(default=raw(answer()), latency=0.05) as fake:
        yield fake


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with await Storage.open(tmp_path / "reviews.db") as opened:
        yield opened


@pytest.fixture
async def llm(server: FakeLLMServer) -> AsyncIterator[LLMSummarizer]:
    client = AsyncOpenAI(api_key="test-key", base_url=server.base_url, timeout=5, max_retries=0)
    async with LLMSummarizer(client, MODEL) as summarizer:
        yield summarizer


async def test_a_thousand_concurrent_requests_cost_one_call_and_one_fetch(
    storage: Storage, llm: LLMSummarizer, server: FakeLLMServer
) -> None:
    fetched: list[str] = []

    async def load(paper: Paper) -> FullText:
        fetched.append(paper.versioned_id)
        await asyncio.sleep(0.01)
        return FULLTEXT

    reviewer = Reviewer(storage.reviews, llm, load_fulltext=load)
    reviews = await asyncio.gather(*(reviewer.review(PAPER, None, "en") for _ in range(1000)))
    assert server.calls == 1 and fetched == ["2409.03605v2"]
    assert all(r == reviews[0] for r in reviews)
    assert reviews[0].origin is ReviewOrigin.LLM
    # Later requests, and another process's reviewer, read the cache: no call, no fetch.
    again = Reviewer(storage.reviews, llm, load_fulltext=load)
    assert await again.review(PAPER, None, "en") == reviews[0]
    assert await again.cached(PAPER, "en") == reviews[0]
    assert server.calls == 1 and len(fetched) == 1


async def test_the_key_has_every_part(
    storage: Storage, llm: LLMSummarizer, server: FakeLLMServer
) -> None:
    reviewer = Reviewer(storage.reviews, llm)
    key = reviewer.key_for(PAPER, "EN")
    assert (key.paper_id, key.version, key.language) == ("2409.03605", 2, "en")
    assert (key.prompt_version, key.model) == (REVIEW_PROMPT_VERSION, MODEL)
    await reviewer.review(PAPER, FULLTEXT, "en")
    v3 = Paper(**{**{f: getattr(PAPER, f) for f in PAPER.__slots__}, "version": 3})
    await reviewer.review(v3, FULLTEXT, "en")
    assert server.calls == 2
    assert await reviewer.cached(PAPER, "de") is None


async def test_a_failed_answer_is_cached_then_retried_after_a_while(
    storage: Storage, llm: LLMSummarizer, server: FakeLLMServer
) -> None:
    clock = FakeClock()
    reviewer = Reviewer(storage.reviews, llm, clock=clock)
    server.enqueue(INVALID_JSON, INVALID_JSON)
    first = await reviewer.review(PAPER, FULLTEXT, "en")
    assert first.origin is ReviewOrigin.EXTRACTIVE and server.calls == 2
    clock.now += timedelta(hours=1)
    assert await reviewer.review(PAPER, FULLTEXT, "en") == first
    assert server.calls == 2
    clock.now += timedelta(hours=6)
    assert (await reviewer.review(PAPER, FULLTEXT, "en")).origin is ReviewOrigin.LLM
    assert server.calls == 3


async def test_without_a_model_reviews_are_extractive_and_say_why(storage: Storage) -> None:
    review = await Reviewer(storage.reviews, None).review(PAPER, FULLTEXT, "de")
    assert review.origin is ReviewOrigin.EXTRACTIVE and review.language == "en"
    assert review.fallback_reason == (
        "OPENAI_API_KEY is not set; they are the paper's own sentences in English, not de"
    )
    assert review.source is TextSource.HTML


async def test_a_failed_fetch_reviews_the_abstract_and_retries_later(
    storage: Storage, llm: LLMSummarizer, server: FakeLLMServer
) -> None:
    clock = FakeClock()
    calls = 0

    async def load(paper: Paper) -> FullText:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("arXiv is down")
        return FULLTEXT

    reviewer = Reviewer(storage.reviews, llm, load_fulltext=load, clock=clock)
    first = await reviewer.review(PAPER, None, "en")
    assert first.source is TextSource.ABSTRACT
    assert [n.kind for n in first.notes] == [NoteKind.UNAVAILABLE]
    assert await reviewer.review(PAPER, None, "en") == first
    clock.now += timedelta(hours=7)
    assert (await reviewer.review(PAPER, None, "en")).source is TextSource.HTML


async def test_the_review_bench_runs_and_calls_once_per_paper() -> None:
    from bench import bench_reviews

    result = await bench_reviews.run(requests=50, papers=2)
    assert result["llm_calls"] == 2 and result["calls_per_paper"] == 1
    assert 0 < result["prompt_tokens"] < 8_000
