"""The real `AsyncOpenAI` client against the fake server: valid answers, faults, fallbacks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from openai import AsyncOpenAI, AuthenticationError, BadRequestError

from bot.config import load_settings
from bot.models import Paper, Summary, SummarySource
from bot.summaries.extractive import extractive_summary
from bot.summaries.llm import LLMFailure, LLMSummarizer
from bot.summaries.prompts import PROMPT_VERSION
from bot.summaries.summarizer import Summarizer
from tests.fakes.llm_server import (
    CHATTER,
    INVALID_JSON,
    INVENTED_URL,
    LENGTH,
    RATE_LIMITED,
    REFUSAL,
    REPETITION,
    SERVER_ERROR,
    TOO_FEW,
    WRONG_LANGUAGE,
    FakeLLMServer,
    Reply,
    raw,
    slow,
)
from tests.test_summaries_store import SqliteSummaryStore

MODEL = "fake-model"
PAPER = Paper(
    id="2409.03605",
    version=2,
    title="LipSync-XL: Diffusion Transformers for Expressive Audio-Driven Talking Heads",
    abstract=(
        "Audio-driven talking-head generation has attracted growing attention, yet existing "
        "methods struggle to keep accurate lip synchronization. We propose LipSync-XL, a "
        "diffusion transformer that animates a single portrait from an audio clip. On HDTF, "
        "LipSync-XL reduces FID by 31.2% and improves LSE-C from 7.1 to 8.3 compared with "
        "SadTalker. A user study with 40 participants preferred our videos in 78.5% of pairwise "
        "comparisons. After distillation to 4 steps, the model runs at 25 fps on one A100 GPU."
    ),
    comment="CVPR 2025. Project page: https://lipsync-xl.github.io/",
)


def paper(n: int) -> Paper:
    return Paper(
        id=f"2410.{n:05d}",
        version=1,
        title=f"Paper{n}: A Study",
        abstract=f"We propose method number {n} for a hard task. It improves accuracy by {n}%.",
    )


def make_llm(
    server: FakeLLMServer,
    *,
    model: str = MODEL,
    timeout: float = 5.0,
    max_retries: int = 2,
    concurrency: int = 4,
    api_key: str = "test-key",
) -> LLMSummarizer:
    client = AsyncOpenAI(
        api_key=api_key, base_url=server.base_url, timeout=timeout, max_retries=max_retries
    )
    return LLMSummarizer(client, model, concurrency=concurrency)


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture
async def llm(server: FakeLLMServer) -> AsyncIterator[LLMSummarizer]:
    async with make_llm(server) as summarizer:
        yield summarizer


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteSummaryStore]:
    sqlite = await SqliteSummaryStore.open(tmp_path / "summaries.db")
    try:
        yield sqlite
    finally:
        await sqlite.close()


# --- valid answers ------------------------------------------------------------------------------


async def test_valid_english_summary(server: FakeLLMServer, llm: LLMSummarizer) -> None:
    summary = await llm.summarize(PAPER, "en")
    assert summary.source is SummarySource.LLM and summary.model == MODEL
    assert summary.language == "en"
    assert summary.tldr.startswith("We propose LipSync-XL")
    assert 3 <= len(summary.takeaways) <= 7
    assert server.calls == 1 and llm.calls == 1

    body = server.requests[0]
    assert body["model"] == MODEL
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["max_completion_tokens"] > 0
    system, user = body["messages"]
    assert system["role"] == "system" and "JSON" in system["content"]
    assert "No links" in system["content"]
    assert "Target language: English (en)" in user["content"]
    assert "Title: LipSync-XL" in user["content"] and "Abstract: Audio-driven" in user["content"]
    assert "Comments: CVPR 2025" in user["content"]


async def test_valid_chinese_summary(server: FakeLLMServer, llm: LLMSummarizer) -> None:
    summary = await llm.summarize(PAPER, "zh")
    assert summary.language == "zh" and summary.source is SummarySource.LLM
    assert "LipSync-XL" in summary.tldr and "本文提出" in summary.tldr
    assert "Simplified Chinese" in server.requests[0]["messages"][0]["content"]
    assert server.calls == 1


async def test_prompt_version_is_a_string() -> None:
    assert isinstance(PROMPT_VERSION, str) and PROMPT_VERSION


# --- transport faults (the SDK retries; no validation retry) -----------------------------------


async def test_rate_limit_is_retried_by_the_sdk(server: FakeLLMServer, llm: LLMSummarizer) -> None:
    server.enqueue(RATE_LIMITED)
    summary = await llm.summarize(PAPER, "en")
    assert summary.source is SummarySource.LLM
    assert [r.status for r in server.recorded] == [429, 200]
    assert llm.calls == 1  # one request from our side; the resend was the SDK's


async def test_persistent_server_error_falls_back(
    server: FakeLLMServer, llm: LLMSummarizer, store: SqliteSummaryStore
) -> None:
    server.when("LipSync-XL", then=SERVER_ERROR)
    summary = await Summarizer(store, llm).summarize(PAPER, "en")
    assert summary == extractive_summary(PAPER)
    assert [r.status for r in server.recorded] == [500, 500, 500]  # 1 + max_retries=2


async def test_timeout_falls_back(server: FakeLLMServer, store: SqliteSummaryStore) -> None:
    server.enqueue(slow(3.0))
    async with make_llm(server, timeout=0.3, max_retries=0) as llm:
        summary = await Summarizer(store, llm).summarize(PAPER, "en")
    assert summary.source is SummarySource.EXTRACTIVE
    assert server.calls == 1


async def test_refusal_falls_back_without_retry(
    server: FakeLLMServer, llm: LLMSummarizer, store: SqliteSummaryStore
) -> None:
    server.enqueue(REFUSAL)
    summary = await Summarizer(store, llm).summarize(PAPER, "en")
    assert summary.source is SummarySource.EXTRACTIVE
    assert server.calls == 1


# --- invalid content: one retry with the problems, then the fallback ---------------------------

CONTENT_FAULTS = [
    (INVALID_JSON, "not valid JSON"),
    (REPETITION, "repeat"),
    (WRONG_LANGUAGE, "not written in"),
    (CHATTER, "conversational"),
    (INVENTED_URL, "link.to.paper"),
    (TOO_FEW, "there are 2 takeaways"),
    (LENGTH, "cut off"),
]


@pytest.mark.parametrize(("fault", "problem"), CONTENT_FAULTS, ids=lambda v: str(v)[:20])
@pytest.mark.parametrize("language", ["en", "zh"])
async def test_invalid_answer_once_is_fixed_by_one_retry(
    server: FakeLLMServer, llm: LLMSummarizer, fault: Reply, problem: str, language: str
) -> None:
    server.enqueue(fault)
    summary = await llm.summarize(PAPER, language)
    assert summary.source is SummarySource.LLM and summary.language == language
    assert server.calls == 2 and llm.calls == 2
    retry = server.requests[1]["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert "That answer was rejected" in retry[-1]["content"]
    assert problem in retry[-1]["content"]


@pytest.mark.parametrize(("fault", "problem"), CONTENT_FAULTS, ids=lambda v: str(v)[:20])
async def test_invalid_answer_twice_falls_back(
    server: FakeLLMServer,
    llm: LLMSummarizer,
    store: SqliteSummaryStore,
    fault: Reply,
    problem: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.enqueue(fault, fault)
    with pytest.raises(LLMFailure):
        await llm.summarize(PAPER, "zh")
    assert server.calls == 2

    server.enqueue(fault, fault)
    with caplog.at_level(logging.WARNING):
        summary = await Summarizer(store, llm).summarize(PAPER, "zh")
    assert summary == extractive_summary(PAPER)  # English sentences from the abstract
    assert summary.model is None
    assert server.calls == 4
    assert "using the extractive summary" in caplog.text


async def test_schema_violations_are_caught_whatever_the_server_claims(
    server: FakeLLMServer, llm: LLMSummarizer
) -> None:
    server.enqueue(raw('{"summary": "LipSync-XL is good."}'), raw("[]"))
    with pytest.raises(LLMFailure, match="does not match"):
        await llm.summarize(PAPER, "en")


# --- json_object fallback -----------------------------------------------------------------------


async def test_json_schema_rejection_switches_to_json_object_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with FakeLLMServer(reject_json_schema=True) as server:
        async with make_llm(server) as llm:
            with caplog.at_level(logging.WARNING):
                first = await llm.summarize(PAPER, "en")
                second = await llm.summarize(paper(1), "en")
    assert first.source is SummarySource.LLM and second.source is SummarySource.LLM
    statuses = [(r.status, r.body["response_format"]["type"]) for r in server.recorded]
    assert statuses == [(400, "json_schema"), (200, "json_object"), (200, "json_object")]
    assert llm.response_format_type == "json_object"
    assert caplog.text.count("json_object mode for the rest of this process") == 1


async def test_unrelated_bad_request_does_not_downgrade(
    server: FakeLLMServer, store: SqliteSummaryStore
) -> None:
    async with make_llm(server, model="") as llm:  # the server rejects an empty model name
        summary = await Summarizer(store, llm).summarize(PAPER, "en")
        assert llm.response_format_type == "json_schema"
    assert summary.source is SummarySource.EXTRACTIVE
    assert [r.status for r in server.recorded] == [400, 400]


# --- concurrency, secrets, settings -------------------------------------------------------------


async def test_concurrency_limit_is_respected(store: SqliteSummaryStore) -> None:
    # Each answer takes 0.15 s, so with 7 papers and room for 3 the limit is reached and held.
    with FakeLLMServer(latency=0.15) as server:
        async with make_llm(server, concurrency=3) as llm:
            results = await Summarizer(store, llm).summarize_many(
                [paper(i) for i in range(7)], "en"
            )
    assert len(results) == 7
    assert all(s.source is SummarySource.LLM for s in results.values())
    assert server.max_in_flight == 3
    assert server.calls == 7


async def test_api_key_never_reaches_the_logs(
    store: SqliteSummaryStore, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-wrong-secret-1234567890"
    with FakeLLMServer(api_key="sk-the-right-one") as server:
        # The fake echoes a wrong key in its 401 message, as some servers do.
        async with make_llm(server, api_key=secret) as llm:
            with caplog.at_level(logging.DEBUG):
                summary = await Summarizer(store, llm).summarize(PAPER, "en")
    assert summary.source is SummarySource.EXTRACTIVE
    assert "HTTP 401" in caplog.text
    assert secret not in caplog.text
    assert "1234567890" not in caplog.text


async def test_from_settings(server: FakeLLMServer) -> None:
    assert LLMSummarizer.from_settings(load_settings()) is None
    settings = load_settings(
        openai_api_key="test-key",
        openai_base_url=server.base_url,
        llm_model="settings-model",
        llm_timeout_seconds=5,
        llm_retries=1,
        llm_concurrency=2,
    )
    llm = LLMSummarizer.from_settings(settings)
    assert llm is not None
    async with llm:
        summary: Summary = await llm.summarize(PAPER, "en")
    assert summary.model == "settings-model"
    assert server.requests[0]["model"] == "settings-model"


async def test_concurrent_summaries_in_two_languages(
    server: FakeLLMServer, llm: LLMSummarizer
) -> None:
    en, zh = await asyncio.gather(llm.summarize(PAPER, "en"), llm.summarize(PAPER, "zh"))
    assert en.language == "en" and zh.language == "zh"
    assert server.calls == 2


# --- the fake itself answers like OpenAI -------------------------------------------------------


async def test_fake_rejects_invalid_requests_like_openai(server: FakeLLMServer) -> None:
    async with AsyncOpenAI(api_key="test-key", base_url=server.base_url, max_retries=0) as client:
        with pytest.raises(BadRequestError, match="must contain the word 'json'"):
            await client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "Summarise this."}],
                response_format={"type": "json_object"},
            )
        loose_schema: dict[str, object] = {
            "type": "object",
            "properties": {"a": {"type": "string"}},
        }
        with pytest.raises(BadRequestError, match="additionalProperties"):
            await client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "Summarise this."}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "x", "schema": loose_schema, "strict": True},
                },
            )
        with pytest.raises(BadRequestError, match="messages"):
            await client.chat.completions.create(model=MODEL, messages=[])
        with pytest.raises(AuthenticationError):
            await client.with_options(api_key="nope").chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hi"}]
            )
    assert [r.status for r in server.recorded] == [400, 400, 400, 401]


async def test_fake_answers_a_proper_chat_completion(server: FakeLLMServer) -> None:
    async with AsyncOpenAI(api_key="test-key", base_url=server.base_url, max_retries=0) as client:
        completion = await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Title: X\n\nAbstract: We propose X."}],
        )
    assert completion.object == "chat.completion" and completion.model == MODEL
    assert completion.id.startswith("chatcmpl-")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.content is not None
    assert completion.usage is not None and completion.usage.total_tokens > 0
