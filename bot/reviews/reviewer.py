"""`Reviewer`: cached, deduplicated reviews; the model when configured, else extractive.

The cache policy is the summaries' (`bot.summaries.summarizer`):

* one review per ``ReviewKey(paper id, version, language, REVIEW_PROMPT_VERSION, model)``,
  stored in a `ReviewStore`; model is ``"extractive"`` when no LLM is configured;
* a fallback made because the model failed is stored under the model's key, and replaced by a
  fresh attempt once older than ``retry_failed_after``; one made because the day's token
  budget was spent is replaced after the budget resets (00:00 UTC);
* a review of the abstract alone because arXiv did not deliver the full text (an
  ``UNAVAILABLE`` note) is likewise retried after ``retry_failed_after``;
* concurrent requests for one key share one computation, including the full-text fetch: the
  text is loaded (`load_fulltext`) only on a cache miss.

`review` never raises because the model failed: it logs and returns the extractive review,
whose `fallback_reason` says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from bot.fulltext.model import FullText, Note, NoteKind, TextSource
from bot.models import Paper
from bot.reviews.extractive import extractive_review
from bot.reviews.llm import ReviewWriter
from bot.reviews.model import CachedReview, Review, ReviewKey, ReviewOrigin
from bot.reviews.prompts import REVIEW_PROMPT_VERSION
from bot.summaries.budget import BudgetSpent, is_budget_reason, next_reset
from bot.summaries.extractive import EXTRACTIVE_LANGUAGE
from bot.summaries.languages import normalize_language
from bot.summaries.llm import InvalidAnswer, LLMFailure, LLMSummarizer
from bot.summaries.summarizer import DEFAULT_RETRY_FAILED_AFTER, EXTRACTIVE_MODEL
from storage.interfaces import ReviewStore

__all__ = ["FullTextLoader", "Reviewer"]

log = logging.getLogger(__name__)

FullTextLoader = Callable[[Paper], Awaitable[FullText]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Reviewer:
    """Reviews of papers in any language (see the module docstring)."""

    def __init__(
        self,
        store: ReviewStore,
        llm: LLMSummarizer | None,
        *,
        load_fulltext: FullTextLoader | None = None,
        clock: Callable[[], datetime] = _utcnow,
        retry_failed_after: timedelta = DEFAULT_RETRY_FAILED_AFTER,
    ) -> None:
        self._store = store
        self._writer = ReviewWriter(llm) if llm is not None else None
        self._load_fulltext = load_fulltext
        self._clock = clock
        self._retry_failed_after = retry_failed_after
        self._inflight: dict[ReviewKey, asyncio.Future[Review]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def model(self) -> str:
        """The model part of every cache key."""
        return self._writer.model if self._writer is not None else EXTRACTIVE_MODEL

    def key_for(self, paper: Paper, language: str) -> ReviewKey:
        return ReviewKey(
            paper.id, paper.version, normalize_language(language), REVIEW_PROMPT_VERSION,
            self.model,
        )  # fmt: skip

    async def cached(self, paper: Paper, language: str) -> Review | None:
        """The stored review, if there is a current one (no model call, no fetch)."""
        key = self.key_for(paper, language)
        hit = await self._lookup(key)
        return hit.review if hit is not None and self._is_fresh(key, hit) else None

    async def review(
        self, paper: Paper, fulltext: FullText | None = None, language: str = "en"
    ) -> Review:
        """`paper`'s review in `language`: cached, else written from `fulltext` (or the text
        `load_fulltext` fetches when `fulltext` is None). Raises ValueError for a malformed
        language only."""
        key = self.key_for(paper, language)
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._inflight[key] = future  # before any await: later callers join this one
            future.add_done_callback(partial(self._forget, key))
            task = asyncio.create_task(self._resolve(paper, fulltext, key, future))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # shield: a caller giving up must not cancel the computation other callers share.
        return await asyncio.shield(future)

    def _forget(self, key: ReviewKey, future: asyncio.Future[Review]) -> None:
        if self._inflight.get(key) is future:
            del self._inflight[key]

    async def _resolve(
        self,
        paper: Paper,
        fulltext: FullText | None,
        key: ReviewKey,
        future: asyncio.Future[Review],
    ) -> None:
        try:
            hit = await self._lookup(key)
            if hit is not None and self._is_fresh(key, hit):
                future.set_result(hit.review)
                return
            review = await self._compute(paper, fulltext, key.language)
            try:
                await self._store.put_review(key, CachedReview(review, self._clock()))
            except Exception:
                log.exception("Caching the review of %s failed", paper.versioned_id)
            future.set_result(review)
        except Exception as exc:  # a bug in the extractive path: let the callers see it
            if not future.done():
                future.set_exception(exc)
        finally:
            if not future.done():  # only when this task itself was cancelled
                future.cancel()

    async def _lookup(self, key: ReviewKey) -> CachedReview | None:
        try:
            return await self._store.get_review(key)
        except Exception:
            log.exception("Reading the cached review failed; computing it again")
            return None

    def _is_fresh(self, key: ReviewKey, cached: CachedReview) -> bool:
        review = cached.review
        created = cached.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        now = self._clock()
        stale_after = now - created >= self._retry_failed_after
        if any(n.kind is NoteKind.UNAVAILABLE for n in review.notes) and stale_after:
            return False  # arXiv did not deliver the full text then; it may now
        if review.origin is ReviewOrigin.LLM or key.model == EXTRACTIVE_MODEL:
            return True
        if is_budget_reason(review.fallback_reason):
            return now < next_reset(created)
        return not stale_after

    async def _text(self, paper: Paper, fulltext: FullText | None) -> FullText:
        if fulltext is not None:
            return fulltext
        if self._load_fulltext is None:
            raise ValueError("no full text given and no loader configured")
        try:
            return await self._load_fulltext(paper)
        except Exception as exc:
            log.warning("Fetching the full text of %s failed: %s", paper.versioned_id, exc)
            from bot.fulltext.fetch import abstract_only

            note = Note(NoteKind.UNAVAILABLE, detail=type(exc).__name__)
            return abstract_only(paper, (note,))

    async def _compute(self, paper: Paper, fulltext: FullText | None, language: str) -> Review:
        text = await self._text(paper, fulltext)
        if self._writer is None:
            return _extractive(paper, text, language, "OPENAI_API_KEY is not set")
        try:
            return await self._writer.review(paper, text, language)
        except BudgetSpent as exc:
            log.info("LLM review of %s (%s) skipped: %s", paper.versioned_id, language, exc)
            reason = str(exc)
        except InvalidAnswer as exc:
            log.warning(
                "LLM review of %s (%s) failed: %s; using the extractive review",
                paper.versioned_id, language, exc,
            )  # fmt: skip
            detail = str(exc).removeprefix("invalid answer twice: ")
            reason = f"the model's answer failed validation ({_short(detail)})"
        except LLMFailure as exc:
            log.warning(
                "LLM review of %s (%s) failed: %s; using the extractive review",
                paper.versioned_id, language, exc,
            )  # fmt: skip
            reason = f"the model gave no answer ({_short(str(exc))})"
        except Exception as exc:
            log.warning(
                "LLM review of %s (%s) failed unexpectedly (%s); using the extractive review",
                paper.versioned_id, language, type(exc).__name__, exc_info=True,
            )  # fmt: skip
            reason = f"the model call failed ({type(exc).__name__})"
        return _extractive(paper, text, language, reason)


def _short(text: str, limit: int = 120) -> str:
    text = text.strip().rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _extractive(paper: Paper, fulltext: FullText, language: str, reason: str) -> Review:
    if language.split("-")[0] != EXTRACTIVE_LANGUAGE:
        reason += f"; they are the paper's own sentences in English, not {language}"
    if fulltext.source is TextSource.ABSTRACT and not fulltext.sections:
        log.info("Review of %s: no text beyond the title", paper.versioned_id)
    return extractive_review(paper, fulltext, reason)
