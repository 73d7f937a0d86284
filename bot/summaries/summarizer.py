"""Cache policy: each summary is computed once per paper version, language, prompt and model.

`Summarizer` is what the rest of the bot calls. It never raises because the model failed: it
logs a warning and returns the extractive summary instead. The number of model calls does not
grow with the number of subscribers:

* results are cached in a `SummaryStore` (SQLite in production) under
  ``SummaryKey(paper id, version, language, PROMPT_VERSION, model)``, where model is the LLM's
  model name, or ``"extractive"`` when no LLM is configured;
* a fallback produced because the model failed is cached under the *model's* key too, so a
  thousand subscribers do not cause a thousand retries; it is replaced by a fresh attempt once
  it is older than ``retry_failed_after``;
* concurrent requests for the same key share one computation (in-process);
* once the day's LLM token budget is spent (`bot.summaries.budget`), new summaries are
  extractive with that reason; such a fallback is cached only until the budget resets
  (00:00 UTC), then the model is asked again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

from bot.models import CachedSummary, Paper, Summary, SummaryKey, SummarySource
from bot.summaries.budget import BudgetSpent, is_budget_reason, next_reset
from bot.summaries.extractive import EXTRACTIVE_LANGUAGE, extractive_summary
from bot.summaries.languages import normalize_language
from bot.summaries.llm import InvalidAnswer, LLMFailure, LLMSummarizer
from bot.summaries.prompts import PROMPT_VERSION
from storage.interfaces import SummaryStore

__all__ = [
    "DEFAULT_RETRY_FAILED_AFTER",
    "EXTRACTIVE_MODEL",
    "CachedSummary",
    "LLMSummarizer",
    "Summarizer",
    "SummaryStore",
]

log = logging.getLogger(__name__)

EXTRACTIVE_MODEL = "extractive"
DEFAULT_RETRY_FAILED_AFTER = timedelta(hours=6)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Summarizer:
    """Cached, deduplicated summaries; the LLM when configured, else (and on failure) extractive."""

    def __init__(
        self,
        store: SummaryStore,
        llm: LLMSummarizer | None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        retry_failed_after: timedelta = DEFAULT_RETRY_FAILED_AFTER,
    ) -> None:
        self._store = store
        self._llm = llm
        self._clock = clock
        self._retry_failed_after = retry_failed_after
        self._inflight: dict[SummaryKey, asyncio.Future[Summary]] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # strong references to running batches

    @property
    def model(self) -> str:
        """The model part of every cache key."""
        return self._llm.model if self._llm is not None else EXTRACTIVE_MODEL

    def key_for(self, paper: Paper, language: str) -> SummaryKey:
        return SummaryKey(paper.id, paper.version, language, PROMPT_VERSION, self.model)

    async def summarize(self, paper: Paper, language: str) -> Summary:
        """One paper's summary in `language` (cached; never raises because the model failed)."""
        return (await self.summarize_many([paper], language))[paper.id]

    async def summarize_many(
        self,
        papers: Sequence[Paper],
        language: str,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, Summary]:
        """Summaries by paper id: one cache lookup, misses computed concurrently.

        A paper id given twice is summarised once, at its highest version. `progress(1)` is
        called as each paper finishes.
        """
        language = normalize_language(language)
        latest: dict[str, Paper] = {}
        for paper in papers:
            if paper.id not in latest or paper.version > latest[paper.id].version:
                latest[paper.id] = paper
        waiting: dict[str, asyncio.Future[Summary]] = {}
        batch: list[tuple[Paper, SummaryKey, asyncio.Future[Summary]]] = []
        loop = asyncio.get_running_loop()
        for paper in latest.values():
            key = self.key_for(paper, language)
            future = self._inflight.get(key)
            if future is None:
                # Registered before the first await, so a request arriving while this batch is
                # still reading the cache joins it instead of calling the model a second time.
                future = loop.create_future()
                self._inflight[key] = future
                future.add_done_callback(partial(self._forget, key))
                batch.append((paper, key, future))
            waiting[paper.id] = future
        if batch:
            task = asyncio.create_task(self._resolve(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        results: dict[str, Summary] = {}

        async def wait(paper_id: str, future: asyncio.Future[Summary]) -> None:
            # shield: a caller giving up must not cancel the computation other callers share.
            results[paper_id] = await asyncio.shield(future)
            if progress is not None:
                progress(1)

        await asyncio.gather(*(wait(pid, fut) for pid, fut in waiting.items()))
        return {pid: results[pid] for pid in waiting}

    def _forget(self, key: SummaryKey, future: asyncio.Future[Summary]) -> None:
        if self._inflight.get(key) is future:
            del self._inflight[key]

    async def _resolve(
        self, batch: list[tuple[Paper, SummaryKey, asyncio.Future[Summary]]]
    ) -> None:
        try:
            cached = await self._lookup([key for _, key, _ in batch])
            misses = []
            for paper, key, future in batch:
                hit = cached.get(key)
                if hit is not None and self._is_fresh(key, hit):
                    future.set_result(hit.summary)
                else:
                    misses.append(self._compute_into(paper, key, future))
            await asyncio.gather(*misses)
        finally:
            for _, _, future in batch:
                if not future.done():  # only when this task itself was cancelled
                    future.cancel()

    async def _lookup(self, keys: list[SummaryKey]) -> dict[SummaryKey, CachedSummary]:
        try:
            return await self._store.get_summaries(keys)
        except Exception:
            # A broken cache should cost model calls, not the digest.
            log.exception("Reading cached summaries failed; computing them again")
            return {}

    def _is_fresh(self, key: SummaryKey, cached: CachedSummary) -> bool:
        if cached.summary.source is SummarySource.LLM or key.model == EXTRACTIVE_MODEL:
            return True
        # A fallback stored under the model's key: the model failed; try again after a while.
        created = cached.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        now = self._clock()
        if is_budget_reason(cached.summary.fallback_reason) and now >= next_reset(created):
            return False  # the budget that was spent has reset
        return now - created < self._retry_failed_after

    async def _compute_into(
        self, paper: Paper, key: SummaryKey, future: asyncio.Future[Summary]
    ) -> None:
        try:
            summary = await self._compute(paper, key.language)
        except Exception as exc:  # a bug in the extractive path: let the callers see it
            future.set_exception(exc)
            return
        try:
            await self._store.put_summary(key, CachedSummary(summary, self._clock()))
        except Exception:
            log.exception("Caching the summary of %s failed", paper.versioned_id)
        future.set_result(summary)

    async def _compute(self, paper: Paper, language: str) -> Summary:
        if self._llm is None:
            return _extractive(paper, language, "OPENAI_API_KEY is not set")
        try:
            return await self._llm.summarize(paper, language)
        except BudgetSpent as exc:
            log.info("LLM summary of %s (%s) skipped: %s", paper.versioned_id, language, exc)
            reason = str(exc)
        except InvalidAnswer as exc:
            log.warning(
                "LLM summary of %s (%s) failed: %s; using the extractive summary",
                paper.versioned_id,
                language,
                exc,
            )
            detail = str(exc).removeprefix("invalid answer twice: ")
            reason = f"the model's answer failed validation ({_short(detail)})"
        except LLMFailure as exc:
            log.warning(
                "LLM summary of %s (%s) failed: %s; using the extractive summary",
                paper.versioned_id,
                language,
                exc,
            )
            reason = f"the model gave no answer ({_short(str(exc))})"
        except Exception as exc:
            log.warning(
                "LLM summary of %s (%s) failed unexpectedly (%s); using the extractive summary",
                paper.versioned_id,
                language,
                type(exc).__name__,
                exc_info=True,
            )
            reason = f"the model call failed ({type(exc).__name__})"
        return _extractive(paper, language, reason)


def _short(text: str, limit: int = 120) -> str:
    text = text.strip().rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _extractive(paper: Paper, language: str, reason: str) -> Summary:
    """The extractive summary, saying why it is not the model's, and that it is in the
    abstract's language when another was asked for."""
    summary = extractive_summary(paper)
    if language.split("-")[0] != EXTRACTIVE_LANGUAGE:
        reason += f"; they are the English abstract's own sentences, not {language}"
    return replace(summary, fallback_reason=reason)
