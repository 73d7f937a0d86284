"""The review's prompt and answer schema. Bump `REVIEW_PROMPT_VERSION` when either changes.

The model is shown the title, the metadata comment and the paper's text as chosen by
`bot.fulltext.budget.select_for_budget` within `PROMPT_TOKENS_PER_PAPER`, and writes the prose
fields only (`ReviewPayload`). Authors, affiliations and links never come from the model: they
are in the paper's metadata and text, and the review takes them from there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from bot.fulltext.budget import select_for_budget
from bot.fulltext.model import FullText
from bot.models import Paper
from bot.reviews.validate import ReviewLimits, review_limits
from bot.summaries.languages import base_language, language_name
from bot.summaries.prompts import MAX_COMMENT_CHARS, retry_turn
from bot.summaries.sentences import clean_text

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam
    from openai.types.shared_params import ResponseFormatJSONSchema

REVIEW_PROMPT_VERSION = "r1"
# The paper's text sent per review, in estimated tokens (characters / 4). With the system
# prompt and the answer a review costs about 7,000-8,000 tokens.
PROMPT_TOKENS_PER_PAPER = 6000
# A full review in a CJK language is ~1,500 tokens; this bounds a model that loops.
REVIEW_MAX_COMPLETION_TOKENS = 3000

SCHEMA_NAME = "paper_review"
PROSE_FIELDS = (
    "background",
    "prior_work",
    "method",
    "results",
    "significance",
    "strengths",
    "weaknesses",
)

_FIELD_HELP = {
    "title_translation": "The paper's title translated into the target language ('' if English).",
    "keywords": "3 to 8 keywords or key phrases.",
    "background": "Summary part 1: the background and the problem addressed.",
    "prior_work": "Summary part 2: earlier approaches and their problem.",
    "method": "Summary part 3: the proposed method.",
    "results": "Summary part 4: tasks, main results, and whether they support the goals.",
    "method_steps": "The method as 2 to 8 steps, one sentence each, without numbering.",
    "significance": "Conclusion: the work's significance.",
    "strengths": "Conclusion: strengths in innovation, performance and workload.",
    "weaknesses": "Conclusion: weaknesses in innovation, performance and workload.",
}
_LIST_FIELDS = {"keywords", "method_steps"}

REVIEW_JSON_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        name: (
            {"type": "array", "description": help_, "items": {"type": "string"}}
            if name in _LIST_FIELDS
            else {"type": "string", "description": help_}
        )
        for name, help_ in _FIELD_HELP.items()
    },
    "required": list(_FIELD_HELP),
    "additionalProperties": False,
}


class ReviewPayload(BaseModel):
    """What we accept back. Unknown extra keys are ignored; a missing title translation is ''."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    title_translation: StrictStr = ""
    keywords: list[StrictStr]
    background: StrictStr
    prior_work: StrictStr
    method: StrictStr
    results: StrictStr
    method_steps: list[StrictStr]
    significance: StrictStr
    strengths: StrictStr
    weaknesses: StrictStr


def review_schema_format() -> ResponseFormatJSONSchema:
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": REVIEW_JSON_SCHEMA, "strict": True},
    }


_FENCE_RE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)


def parse_review(content: str) -> tuple[ReviewPayload | None, list[str]]:
    """Parse a model answer; the payload or the problems (written for the model)."""
    text = content.strip()
    fenced = _FENCE_RE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"the answer is not valid JSON ({exc.msg}); reply with one JSON object only"]
    try:
        return ReviewPayload.model_validate(data), []
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        return None, [f"the JSON does not have the required keys and types: {details}"]


_SYSTEM = """\
You review arXiv papers for busy researchers, from the paper's own text.
Answer with one JSON object only, with exactly these keys:
{fields}
Rules:
- Write every string in {language}.{language_hint}
- Each summary and conclusion field: 1 to 4 sentences, at most {prose_max} characters.
- "method_steps": 2 to 8 steps, each at most {step_max} characters.
- "keywords": 3 to 8 items, each at most {keyword_max} characters.
- Use only what the paper's text below says. Every number you write must appear in that text; \
if you are unsure of a number, leave it out. Do not speculate or add outside facts.
- Keep names of models, datasets, metrics and established technical terms in their original form.
- No links, URLs or email addresses, no markdown, no greetings, no remarks about yourself or \
about this task."""

_CHINESE_HINT = " Use Chinese characters for everything except names and technical terms."
_JAPANESE_HINT = " Use natural Japanese (kanji and kana)."


def prompt_sections(fulltext: FullText) -> list[tuple[str, str]]:
    """The (section title, text) pairs sent to the model, within the per-paper token budget."""
    return [(e.title, e.text) for e in select_for_budget(fulltext, PROMPT_TOKENS_PER_PAPER)]


def source_text(paper: Paper, sections: Sequence[tuple[str, str]]) -> str:
    """Everything the model is shown about the paper: numbers and links must come from here."""
    raw = [paper.title, paper.comment or "", paper.abstract]
    parts = [*raw, *(clean_text(r) for r in raw)]
    parts += [f"{title}\n{text}" for title, text in sections]
    return "\n".join(p for p in parts if p)


def build_review_messages(
    paper: Paper, sections: Sequence[tuple[str, str]], language: str
) -> list[ChatCompletionMessageParam]:
    """System and user messages asking for `paper`'s review in `language`."""
    limits: ReviewLimits = review_limits(language)
    base = base_language(language)
    hint = _CHINESE_HINT if base == "zh" else _JAPANESE_HINT if base == "ja" else ""
    system = _SYSTEM.format(
        fields="\n".join(f'- "{name}": {help_}' for name, help_ in _FIELD_HELP.items()),
        language=language_name(language),
        language_hint=hint,
        prose_max=limits.prose_max,
        step_max=limits.step_max,
        keyword_max=limits.keyword_max,
    )
    parts = [
        f"Target language: {language_name(language)} ({language})",
        f"Title: {clean_text(paper.title)}",
    ]
    if paper.comment:
        parts.append(f"Comments: {clean_text(paper.comment)[:MAX_COMMENT_CHARS]}")
    if not sections:  # no full text at all: the abstract is what there is
        parts.append(f"Abstract: {clean_text(paper.abstract)}")
    parts += [f"## {title}\n{text}" for title, text in sections]
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def review_retry_messages(
    previous_answer: str, problems: Sequence[str]
) -> list[ChatCompletionMessageParam]:
    """The follow-up turn for the single retry: the rejected answer and what was wrong."""
    return retry_turn(
        previous_answer,
        problems,
        "Write the review again, fixing these problems. "
        "Answer with the JSON object with the same keys only.",
    )
