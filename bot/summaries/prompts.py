"""The messages sent to the model. Bump `PROMPT_VERSION` whenever their wording changes.

The version is part of every cache key, so a new prompt recomputes summaries instead of mixing
old and new styles in one digest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.models import Paper
from bot.summaries.languages import base_language, language_name
from bot.summaries.sentences import clean_text
from bot.summaries.validate import MAX_TAKEAWAYS, MIN_TAKEAWAYS, limits_for

if TYPE_CHECKING:  # the SDK costs ~0.4 s to import; a run without an API key never needs it
    from openai.types.chat import ChatCompletionMessageParam

PROMPT_VERSION = "v1"

MAX_COMMENT_CHARS = 600  # comments are normally short; a pasted essay should not inflate cost
MAX_QUOTED_ANSWER_CHARS = 3000  # a runaway answer is quoted back only in part

_SYSTEM = """\
You summarise arXiv papers for busy researchers.
Answer with one JSON object only, of the form {{"tldr": "...", "takeaways": ["...", "..."]}}.
Rules:
- Write every string in {language}.{language_hint}
- "tldr": exactly one sentence (at most {tldr_max} characters) stating the main contribution.
- "takeaways": {min_items} to {max_items} distinct items, one sentence each, at most \
{takeaway_max} characters each: the method's key idea, the main results (with the numbers the \
abstract gives), and important limitations or scope.
- Use only what the title, abstract and comments say; do not speculate or add outside facts.
- Keep names of models, datasets, metrics and established technical terms (such as Transformer, \
GAN, LoRA) in their original form.
- No links, URLs or email addresses, no markdown, no greetings, no remarks about yourself or \
about this task."""

_CHINESE_HINT = " Use Chinese characters for everything except names and technical terms."
_JAPANESE_HINT = " Use natural Japanese (kanji and kana)."


def paper_source_text(paper: Paper) -> str:
    """Everything the model is shown: a link in its answer must appear in here verbatim.

    Both the raw metadata and the cleaned text the prompt carries, so a link the model copied
    from ``\\url{https://github.com/a/b\\_c}`` (shown to it as ``https://github.com/a/b_c``) counts.
    """
    raw = [paper.title, paper.abstract, paper.comment or ""]
    return "\n".join(t for t in [*raw, *(clean_text(r) for r in raw)] if t)


def build_messages(paper: Paper, language: str) -> list[ChatCompletionMessageParam]:
    """System and user messages asking for `paper`'s summary in `language`."""
    limits = limits_for(language)
    base = base_language(language)
    hint = _CHINESE_HINT if base == "zh" else _JAPANESE_HINT if base == "ja" else ""
    system = _SYSTEM.format(
        language=language_name(language),
        language_hint=hint,
        tldr_max=limits.tldr_max,
        takeaway_max=limits.takeaway_max,
        min_items=MIN_TAKEAWAYS,
        max_items=MAX_TAKEAWAYS,
    )
    parts = [
        f"Target language: {language_name(language)} ({language})",
        f"Title: {clean_text(paper.title)}",
        f"Abstract: {clean_text(paper.abstract)}",
    ]
    if paper.comment:
        parts.append(f"Comments: {clean_text(paper.comment)[:MAX_COMMENT_CHARS]}")
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def retry_messages(
    previous_answer: str, problems: Sequence[str]
) -> list[ChatCompletionMessageParam]:
    """The follow-up turn for the single retry: the rejected answer and what was wrong with it."""
    return retry_turn(
        previous_answer,
        problems,
        "Write the summary again, fixing these problems. "
        'Answer with the JSON object {"tldr": ..., "takeaways": [...]} only.',
    )


def retry_turn(
    previous_answer: str, problems: Sequence[str], instruction: str
) -> list[ChatCompletionMessageParam]:
    """The rejected answer, quoted back (shortened), then what was wrong and `instruction`;
    shared by summaries and reviews."""
    listed = "\n".join(f"- {p}" for p in problems)
    return [
        {"role": "assistant", "content": previous_answer[:MAX_QUOTED_ANSWER_CHARS]},
        {"role": "user", "content": f"That answer was rejected:\n{listed}\n{instruction}"},
    ]
