"""Checks a model's review before anything is stored or shown.

The prose fields go through the same checks as summaries (`bot.summaries.validate`): length
caps, language and script, loops, chatter and links absent from the source; plus the
faithfulness check (`bot.reviews.numbers`): a number the source does not contain is a problem,
named in the retry so the model removes it. Problems are sentences a model can act on.

Limits (`ReviewLimits`, characters; Chinese and Japanese in brackets): each summary or
conclusion field 20-700 (8-300); 2-8 method steps of 8-300 (4-120); 3-8 keywords of at most 60
(20); the translated title at most 300 (150), required unless the language is English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.reviews.numbers import unsupported_numbers
from bot.summaries.languages import base_language, is_compact_script
from bot.summaries.script import language_problems
from bot.summaries.sentences import split_sentences
from bot.summaries.validate import chatter_problems, link_problems, repetition_problems

MIN_STEPS, MAX_STEPS = 2, 8
MIN_KEYWORDS, MAX_KEYWORDS = 3, 8
NUMBERS_PROBLEM = "these numbers do not appear in the paper's text"

_MARKDOWN_RE = re.compile(r"\*\*|__|^#{1,6}\s|\[[^\]]+\]\([^)]+\)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ReviewLimits:
    prose_min: int
    prose_max: int
    step_min: int
    step_max: int
    keyword_max: int
    title_max: int


WIDE = ReviewLimits(
    prose_min=20, prose_max=700, step_min=8, step_max=300, keyword_max=60, title_max=300
)
COMPACT = ReviewLimits(
    prose_min=8, prose_max=300, step_min=4, step_max=120, keyword_max=20, title_max=150
)


def review_limits(language: str) -> ReviewLimits:
    return COMPACT if is_compact_script(language) else WIDE


@dataclass(frozen=True, slots=True)
class ReviewText:
    """The model's prose, normalised (`bot.summaries.validate.normalize_field`)."""

    title_translation: str
    keywords: tuple[str, ...]
    prose: Mapping[str, str]  # field name -> text, in `PROSE_FIELDS` order
    method_steps: tuple[str, ...]

    def fields(self) -> list[str]:
        """Every prose string, title first (the order repetition checks compare in)."""
        title = [self.title_translation] if self.title_translation else []
        return [*title, *self.prose.values(), *self.method_steps]


def numbers_problem(missing: Sequence[str]) -> str:
    shown = ", ".join(missing[:8])
    return f"{NUMBERS_PROBLEM}: {shown}; remove them, use only numbers stated in the text"


def validate_review(review: ReviewText, *, language: str, source_text: str) -> list[str]:
    """Every problem found; empty when the review may be stored and shown."""
    limits = review_limits(language)
    problems = _shape_problems(review, language, limits)
    fields = [f for f in review.fields() if f.strip()]
    if not fields:
        return problems
    text = "\n".join(fields)
    problems += language_problems(text, language)
    problems += repetition_problems(fields)
    problems += chatter_problems([*fields, *review.keywords])
    problems += link_problems("\n".join([text, *review.keywords]), source_text)
    missing = unsupported_numbers(text, source_text)
    if missing:
        problems.append(numbers_problem(missing))
    return problems


def _shape_problems(review: ReviewText, language: str, limits: ReviewLimits) -> list[str]:
    problems: list[str] = []
    english = base_language(language) == "en"
    if not english and not review.title_translation.strip():
        problems.append("the title_translation is empty; translate the title")
    if len(review.title_translation) > limits.title_max:
        problems.append(f"the title_translation is over {limits.title_max} characters")
    for name, value in review.prose.items():
        if not value.strip():
            problems.append(f'"{name}" is empty')
        elif len(value) > limits.prose_max:
            problems.append(
                f'"{name}" is {len(value)} characters long; keep it under {limits.prose_max}'
            )
        elif len(value) < limits.prose_min:
            problems.append(f'"{name}" is too short to say anything')
        elif len(split_sentences(value)) > 4:
            problems.append(f'"{name}" has more than 4 sentences')
    if not MIN_STEPS <= len(review.method_steps) <= MAX_STEPS:
        problems.append(
            f"there are {len(review.method_steps)} method_steps; give {MIN_STEPS} to {MAX_STEPS}"
        )
    for i, step in enumerate(review.method_steps, 1):
        if len(step) > limits.step_max:
            problems.append(f"method step {i} is over {limits.step_max} characters")
        elif len(step) < limits.step_min:
            problems.append(f"method step {i} is too short to be informative")
    if not MIN_KEYWORDS <= len(review.keywords) <= MAX_KEYWORDS:
        problems.append(
            f"there are {len(review.keywords)} keywords; give {MIN_KEYWORDS} to {MAX_KEYWORDS}"
        )
    if any(not k.strip() or len(k) > limits.keyword_max for k in review.keywords):
        problems.append(f"each keyword must be 1 to {limits.keyword_max} characters")
    for value in review.fields():
        if _MARKDOWN_RE.search(value):
            problems.append("the review contains markdown; use plain text")
            break
    return problems


def drop_unsupported(review: ReviewText, source_text: str) -> ReviewText:
    """The review without the sentences (and steps) stating numbers absent from the source.

    Used after the retry, when numbers are the only problem left: the rest of a validated
    review is worth keeping. The caller validates the result again (a field may be empty now).
    """

    def keep(sentence: str) -> bool:
        return not unsupported_numbers(sentence, source_text)

    prose = {
        name: " ".join(s for s in split_sentences(value) if keep(s))
        for name, value in review.prose.items()
    }
    steps = tuple(s for s in review.method_steps if keep(s))
    title = review.title_translation if keep(review.title_translation) else ""
    keywords = tuple(k for k in review.keywords if keep(k))
    return ReviewText(title, keywords, prose, steps)
