"""Asks the model for a review, validates it, and retries once naming the problems.

Requests go through the summaries' client (`LLMSummarizer.complete`): same concurrency limit,
json_schema/json_object handling, error mapping and daily token budget.

After the retry, if the only problems left are numbers absent from the source, the sentences
stating them are dropped and the rest is validated again (a review with one invented figure is
otherwise worth keeping); any other problem, or a field left empty by the removal, raises
`InvalidAnswer` and the caller falls back to the extractive review.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.fulltext.model import FullText
from bot.models import Paper
from bot.reviews.extractive import ReviewProse, make_review
from bot.reviews.model import Review, ReviewOrigin
from bot.reviews.prompts import (
    PROSE_FIELDS,
    REVIEW_MAX_COMPLETION_TOKENS,
    build_review_messages,
    parse_review,
    prompt_sections,
    review_retry_messages,
    review_schema_format,
    source_text,
)
from bot.reviews.validate import (
    NUMBERS_PROBLEM,
    ReviewText,
    drop_unsupported,
    validate_review,
)
from bot.summaries.languages import base_language
from bot.summaries.llm import VALIDATION_ATTEMPTS, InvalidAnswer, LLMFailure, LLMSummarizer
from bot.summaries.validate import normalize_field

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

log = logging.getLogger(__name__)


class ReviewWriter:
    """Writes validated reviews with the model behind `llm`."""

    def __init__(self, llm: LLMSummarizer) -> None:
        self.llm = llm

    @property
    def model(self) -> str:
        return self.llm.model

    async def review(self, paper: Paper, fulltext: FullText, language: str) -> Review:
        """A validated review, or `LLMFailure`/`InvalidAnswer`/`BudgetSpent`."""
        sections = prompt_sections(fulltext)
        messages = build_review_messages(paper, sections, language)
        source = source_text(paper, sections)
        problems: list[str] = []
        text: ReviewText | None = None
        for _attempt in range(VALIDATION_ATTEMPTS):
            completion = await self.llm.complete(
                messages,
                review_schema_format(),
                max_completion_tokens=REVIEW_MAX_COMPLETION_TOKENS,
            )
            content, text, problems = self._check(completion, language, source)
            if not problems and text is not None:
                return self._build(paper, fulltext, text, language)
            messages = [*messages, *review_retry_messages(content, problems)]
        if text is not None and all(p.startswith(NUMBERS_PROBLEM) for p in problems):
            repaired = drop_unsupported(text, source)
            if not validate_review(repaired, language=language, source_text=source):
                log.info(
                    "Review of %s (%s): dropped sentences with numbers absent from the text",
                    paper.versioned_id,
                    language,
                )
                return self._build(paper, fulltext, repaired, language)
        raise InvalidAnswer("invalid answer twice: " + "; ".join(problems)[:500])

    def _check(
        self, completion: ChatCompletion, language: str, source: str
    ) -> tuple[str, ReviewText | None, list[str]]:
        """The raw answer, the parsed review (if it parsed) and its problems."""
        if not completion.choices:
            raise LLMFailure("the server answered without choices")
        choice = completion.choices[0]
        if choice.message.refusal:
            raise LLMFailure("the model refused")
        if choice.finish_reason == "content_filter":
            raise LLMFailure("the answer was blocked by the server's content filter")
        content = choice.message.content or ""
        if choice.finish_reason == "length":
            return content, None, ["the answer was cut off (too long); keep it much shorter"]
        if not content.strip():
            return content, None, ["the answer was empty"]
        payload, problems = parse_review(content)
        if payload is None:
            return content, None, problems
        text = ReviewText(
            title_translation=normalize_field(payload.title_translation)
            if base_language(language) != "en"
            else "",
            keywords=tuple(normalize_field(k) for k in payload.keywords),
            prose={name: normalize_field(getattr(payload, name)) for name in PROSE_FIELDS},
            method_steps=tuple(normalize_field(s) for s in payload.method_steps),
        )
        return content, text, validate_review(text, language=language, source_text=source)

    def _build(self, paper: Paper, fulltext: FullText, text: ReviewText, language: str) -> Review:
        prose = ReviewProse(
            keywords=text.keywords,
            background=text.prose["background"],
            prior_work=text.prose["prior_work"],
            method=text.prose["method"],
            results=text.prose["results"],
            method_steps=text.method_steps,
            significance=text.prose["significance"],
            strengths=text.prose["strengths"],
            weaknesses=text.prose["weaknesses"],
            translated_title=text.title_translation or None,
        )
        return make_review(
            paper,
            fulltext,
            prose,
            origin=ReviewOrigin.LLM,
            language=language,
            model=self.model,
        )
