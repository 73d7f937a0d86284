"""The daily LLM token budget: counted from reported usage, crossed by at most one call."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from bot.config import load_settings
from bot.models import SummarySource
from bot.reviews.model import ReviewOrigin
from bot.reviews.reviewer import Reviewer
from bot.summaries.budget import BudgetSpent, TokenBudget, budget_reason, upper_bound_tokens
from bot.summaries.llm import LLMSummarizer
from bot.summaries.summarizer import Summarizer
from storage import Storage
from tests.fakes.llm_server import FakeLLMServer, raw
from tests.test_reviews_llm import FULLTEXT, PAPER, answer
from tests.test_summaries_cache import paper


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with await Storage.open(tmp_path / "budget.db") as opened:
        yield opened


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.02) as fake:
        yield fake


def client_for(server: FakeLLMServer) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="test-key", base_url=server.base_url, timeout=5, max_retries=0)


@pytest.mark.parametrize("seed", range(5))
async def test_concurrent_calls_cross_the_budget_by_at_most_one_call(
    storage: Storage, seed: int
) -> None:
    rng = random.Random(seed)
    limit = 10_000
    budget = TokenBudget(storage.usage, limit, clock=FakeClock())
    started_after_spent = 0
    costs: list[int] = []
    refused = 0

    async def call() -> None:
        nonlocal started_after_spent, refused
        estimate = rng.randint(500, 3000)
        actual = rng.randint(estimate // 3, estimate)  # never above the upper bound
        try:
            async with budget.charge(estimate) as slot:
                if (await budget.usage_today()).total_tokens >= limit:
                    started_after_spent += 1
                await asyncio.sleep(rng.random() / 200)
                slot.record(actual // 2, actual - actual // 2)
                costs.append(actual)
        except BudgetSpent:
            refused += 1

    await asyncio.gather(*(call() for _ in range(60)))
    used = (await budget.usage_today()).total_tokens
    assert used == sum(costs)
    assert started_after_spent == 0 and refused > 0
    # Only the last call may have crossed: without it, the total was within the budget.
    assert used - costs[-1] < limit
    assert (await storage.usage.usage_on(budget.today())).calls == len(costs)


async def test_usage_comes_from_the_server_and_resets_at_midnight_utc(
    storage: Storage, server: FakeLLMServer
) -> None:
    clock = FakeClock()
    budget = TokenBudget(storage.usage, 250, clock=clock)
    async with LLMSummarizer(client_for(server), "fake-model", budget=budget) as llm:
        summarizer = Summarizer(storage.summaries, llm, clock=clock)
        first = await summarizer.summarize(paper(1), "en")
        assert first.source is SummarySource.LLM
        usage = await budget.usage_today()
        # The fake reports prompt tokens as characters / 4 of what was sent.
        sent = server.recorded[0].text()
        assert usage.prompt_tokens == len(sent) // 4 == llm.prompt_tokens
        assert usage.completion_tokens == llm.completion_tokens > 0
        assert usage.total_tokens >= 250  # this one call crossed the small budget

        spent = await summarizer.summarize(paper(2), "en")
        assert spent.source is SummarySource.EXTRACTIVE
        assert spent.fallback_reason == budget_reason(250)
        assert "the day's LLM token budget (250 tokens) is spent" in spent.fallback_reason
        assert server.calls == 1
        # Cached for the rest of the day, asked again once the budget has reset.
        clock.now += timedelta(minutes=59)
        assert await summarizer.summarize(paper(2), "en") == spent and server.calls == 1
        clock.now += timedelta(minutes=1)  # 00:00 UTC
        assert (await summarizer.summarize(paper(2), "en")).source is SummarySource.LLM
        assert server.calls == 2


async def test_reviews_share_the_budget_and_say_it_is_spent(
    storage: Storage, server: FakeLLMServer
) -> None:
    server.default = raw(answer())
    clock = FakeClock()
    budget = TokenBudget(storage.usage, 2_000, clock=clock)
    await storage.usage.add_usage(budget.today(), prompt_tokens=1_500, completion_tokens=600)
    async with LLMSummarizer(client_for(server), "fake-model", budget=budget) as llm:
        review = await Reviewer(storage.reviews, llm, clock=clock).review(PAPER, FULLTEXT, "zh")
        assert review.origin is ReviewOrigin.EXTRACTIVE and server.calls == 0
        assert review.fallback_reason is not None
        assert review.fallback_reason.startswith(budget_reason(2_000))
        clock.now += timedelta(hours=1)
        fresh = await Reviewer(storage.reviews, llm, clock=clock).review(PAPER, FULLTEXT, "en")
        assert fresh.origin is ReviewOrigin.LLM and server.calls == 1


async def test_near_the_limit_calls_run_one_at_a_time(storage: Storage) -> None:
    budget = TokenBudget(storage.usage, 10_000, clock=FakeClock())
    running = 0
    most = 0

    async def call() -> None:
        nonlocal running, most
        try:
            async with budget.charge(6_000) as slot:
                running += 1
                most = max(most, running)
                await asyncio.sleep(0.005)
                running -= 1
                slot.record(1_000, 500)
        except BudgetSpent:
            pass

    await asyncio.gather(*(call() for _ in range(10)))
    assert most == 1  # two upper bounds of 6,000 never fit in 10,000 together
    assert (await budget.usage_today()).total_tokens == 10_500  # the 7th call crossed
    assert budget.crossings == 4  # from 4,500 used on, each call had to run alone


async def test_without_a_limit_usage_is_recorded_and_nothing_waits(storage: Storage) -> None:
    budget = TokenBudget(storage.usage, None, clock=FakeClock())

    async def call() -> None:
        async with budget.charge(10**9) as slot:
            await asyncio.sleep(0.001)
            slot.record(10, 5)

    await asyncio.gather(*(call() for _ in range(20)))
    assert (await budget.usage_today()).total_tokens == 300
    assert not await budget.is_spent()


async def test_unreported_usage_charges_the_upper_bound(storage: Storage) -> None:
    budget = TokenBudget(storage.usage, 10_000, clock=FakeClock())
    async with budget.charge(1_234) as slot:
        slot.record(None, None)
    assert (await budget.usage_today()).total_tokens == 1_234
    assert upper_bound_tokens(["ab", "中"], 100) == 2 + 3 + 2 * 8 + 100


def test_the_setting() -> None:
    assert load_settings().llm_daily_tokens is None
    assert load_settings(PAPERBOY_LLM_DAILY_TOKENS="200000").llm_daily_tokens == 200_000
