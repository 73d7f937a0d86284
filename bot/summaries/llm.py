"""Summaries from any OpenAI-compatible Chat Completions server, validated before use.

One `LLMSummarizer` wraps one `AsyncOpenAI` client. Transport problems (429, 5xx, timeouts) are
retried by the SDK itself (`max_retries`, backoff honouring ``retry-after``); this module adds:

* a concurrency limit (`asyncio.Semaphore`) around every request;
* structured output with a strict JSON schema, falling back to ``{"type": "json_object"}`` for the
  rest of the process when the server rejects json_schema with HTTP 400 and accepts json_object
  (DeepSeek does this). The switch sticks only if the json_object request is accepted, so an
  unrelated 400 (a bad model name) does not downgrade the client;
* parsing and validation of every answer whatever the server claims, with ONE follow-up
  request listing the problems, after which `LLMFailure` is raised;
* the daily token budget (`bot.summaries.budget`): every request, summaries' and reviews'
  (`complete`), passes the `TokenBudget` when one is set, which raises `BudgetSpent` before
  sending once the day's tokens are used up; the tokens each answer reports are added to the
  day's usage and to this client's counters (`prompt_tokens`, `completion_tokens`).

`LLMFailure` messages are safe to log: the API key is redacted from them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from types import TracebackType
from typing import TYPE_CHECKING, Self

# The SDK takes ~0.4 s to import; a run without an API key never needs it, so it is imported
# only when a client is built or an answer is read.
if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
    from openai.types.shared_params import ResponseFormatJSONSchema

    from bot.config import Settings
    from bot.summaries.budget import TokenBudget

from bot.errors import PaperboyError
from bot.models import Paper, Summary, SummarySource
from bot.summaries.budget import upper_bound_tokens
from bot.summaries.prompts import build_messages, paper_source_text, retry_messages
from bot.summaries.schema import json_object_format, json_schema_format, parse_payload
from bot.summaries.validate import normalize_field, validate_summary

log = logging.getLogger(__name__)

# Bounds the cost of a model that loops; a valid answer needs a few hundred tokens. Sent as
# max_completion_tokens, which OpenAI requires for reasoning models and other servers accept or
# ignore.
MAX_COMPLETION_TOKENS = 2048
VALIDATION_ATTEMPTS = 2  # the first answer and ONE retry with the problems listed

_SECRET_RE = re.compile(r"\b(sk-[A-Za-z0-9_-]{2})[A-Za-z0-9_-]{6,}")


class LLMFailure(PaperboyError):
    """The model gave no usable summary (outage, refusal, or invalid output twice)."""


class InvalidAnswer(LLMFailure):
    """The model answered, twice, but its answers failed validation (the message lists why)."""


class LLMSummarizer:
    """Asks the model for one paper's summary in one language. Close it (`close`) when done."""

    def __init__(
        self,
        client: AsyncOpenAI,
        model: str,
        *,
        concurrency: int = 4,
        max_completion_tokens: int = MAX_COMPLETION_TOKENS,
        budget: TokenBudget | None = None,
    ) -> None:
        self.model = model
        self.budget = budget
        self.calls = 0  # requests sent, including validation retries (not the SDK's resends)
        self.prompt_tokens = 0  # as the server reported them, over this client's life
        self.completion_tokens = 0
        self._client = client
        self._semaphore = asyncio.Semaphore(concurrency)
        self._max_completion_tokens = max_completion_tokens
        self._use_json_schema = True

    @classmethod
    def from_settings(
        cls, settings: Settings, *, budget: TokenBudget | None = None
    ) -> LLMSummarizer | None:
        """The configured summarizer, or None when no API key is set (extractive only)."""
        if settings.openai_api_key is None:
            return None
        from openai import AsyncOpenAI

        client = AsyncOpenAI(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,  # None: the SDK's default endpoint
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_retries,
        )
        return cls(client, settings.llm_model, concurrency=settings.llm_concurrency, budget=budget)

    @property
    def response_format_type(self) -> str:
        """``json_schema`` until the server turned it down, then ``json_object``."""
        return "json_schema" if self._use_json_schema else "json_object"

    async def close(self) -> None:
        """Close the HTTP client (and its connections)."""
        await self._client.close()

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def summarize(self, paper: Paper, language: str) -> Summary:
        """A validated summary, or `LLMFailure` (never another OpenAI or parsing error)."""
        messages = build_messages(paper, language)
        source = paper_source_text(paper)
        problems: list[str] = []
        for _attempt in range(VALIDATION_ATTEMPTS):
            completion = await self._complete(messages)
            content, problems = self._check(completion, language, source)
            if isinstance(content, Summary):
                return content
            messages = [*messages, *retry_messages(content, problems)]
        raise InvalidAnswer("invalid answer twice: " + "; ".join(problems)[:500])

    def _check(
        self, completion: ChatCompletion, language: str, source: str
    ) -> tuple[Summary | str, list[str]]:
        """The summary, or the raw answer and its problems (to quote back in the retry)."""
        if not completion.choices:
            raise LLMFailure("the server answered without choices")
        choice = completion.choices[0]
        if choice.message.refusal:
            raise LLMFailure(f"the model refused: {self._redact(choice.message.refusal)[:200]}")
        if choice.finish_reason == "content_filter":
            raise LLMFailure("the answer was blocked by the server's content filter")
        content = choice.message.content or ""
        if choice.finish_reason == "length":
            return content, ["the answer was cut off (too long); keep it much shorter"]
        if not content.strip():
            return content, ["the answer was empty"]
        payload, problems = parse_payload(content)
        if payload is None:
            return content, problems
        tldr = normalize_field(payload.tldr)
        takeaways = [normalize_field(t) for t in payload.takeaways]
        problems = validate_summary(tldr, takeaways, language=language, source_text=source)
        if problems:
            return content, problems
        summary = Summary(
            tldr=tldr,
            takeaways=tuple(takeaways),
            language=language,
            source=SummarySource.LLM,
            model=self.model,
        )
        return summary, []

    async def _complete(self, messages: list[ChatCompletionMessageParam]) -> ChatCompletion:
        return await self.complete(messages, json_schema_format())

    async def complete(
        self,
        messages: list[ChatCompletionMessageParam],
        schema: ResponseFormatJSONSchema,
        *,
        max_completion_tokens: int | None = None,
    ) -> ChatCompletion:
        """One request for a JSON answer (`schema`, or json_object mode once the server turned
        json_schema down), within the concurrency limit and the token budget.

        Raises `LLMFailure` for transport and API errors, `BudgetSpent` (before sending) once
        the day's budget is spent.
        """
        limit = max_completion_tokens or self._max_completion_tokens
        async with self._semaphore:
            if self.budget is None:
                return await self._send(messages, schema, limit)
            texts = [str(m.get("content") or "") for m in messages]
            async with self.budget.charge(upper_bound_tokens(texts, limit)) as slot:
                completion = await self._send(messages, schema, limit)
                usage = completion.usage
                slot.record(
                    usage.prompt_tokens if usage is not None else None,
                    usage.completion_tokens if usage is not None else None,
                )
                return completion

    async def _send(
        self,
        messages: list[ChatCompletionMessageParam],
        schema: ResponseFormatJSONSchema,
        limit: int,
    ) -> ChatCompletion:
        from openai import (
            APIConnectionError,
            APIStatusError,
            APITimeoutError,
            BadRequestError,
            OpenAIError,
        )

        try:
            if not self._use_json_schema:
                return await self._create(messages, None, limit)
            try:
                return await self._create(messages, schema, limit)
            except BadRequestError:
                completion = await self._create(messages, None, limit)
                if self._use_json_schema:
                    self._use_json_schema = False
                    log.warning(
                        "The LLM server rejected json_schema output; using json_object"
                        " mode for the rest of this process"
                    )
                return completion
        except APITimeoutError:
            raise LLMFailure("the request timed out") from None
        except APIStatusError as exc:
            raise LLMFailure(f"HTTP {exc.status_code}: {self._redact(exc.message)}") from None
        except APIConnectionError:
            raise LLMFailure("could not connect to the LLM server") from None
        except OpenAIError as exc:
            raise LLMFailure(f"{type(exc).__name__}: {self._redact(str(exc))}") from None

    async def _create(
        self,
        messages: list[ChatCompletionMessageParam],
        schema: ResponseFormatJSONSchema | None,
        limit: int,
    ) -> ChatCompletion:
        self.calls += 1
        completion = await self._client.chat.completions.create(
            model=self.model,
            messages=messages,
            response_format=schema if schema is not None else json_object_format(),
            max_completion_tokens=limit,
        )
        if completion.usage is not None:
            self.prompt_tokens += completion.usage.prompt_tokens
            self.completion_tokens += completion.usage.completion_tokens
        return completion

    def _redact(self, text: str) -> str:
        key = self._client.api_key
        if key and len(key) >= 6:
            text = text.replace(key, "***")
        return _SECRET_RE.sub(r"\1***", text)[:300]
