"""The no-network summary: sentences picked from the abstract itself.

Used when no API key is configured and as the fallback whenever the model fails. It is always in
the abstract's language (arXiv abstracts are English) whatever language was asked for, and is
labelled ``SummarySource.EXTRACTIVE`` with ``model=None`` so frontends can say so.

* TL;DR: the first sentence stating the contribution ("we propose / present / introduce …",
  "this paper …"), else the first sentence; trimmed to 300 characters at a word boundary with "…".
* Takeaways: up to 5 other sentences, preferring claims (numbers, "outperforms", "achieves",
  "we show" …) and skipping background and "code is available" sentences; topped up with the
  remaining sentences in order to reach 3 when the abstract has them. An abstract of fewer than
  four sentences therefore yields fewer than 3 takeaways (possibly none): unlike model output,
  an extractive summary may not invent sentences to reach the minimum.
* The chosen sentences keep their order in the abstract.
"""

from __future__ import annotations

import re

from bot.models import Paper, Summary, SummarySource
from bot.summaries.sentences import clean_text, split_sentences
from bot.summaries.validate import WIDE_LIMITS

MAX_EXTRACTIVE_TAKEAWAYS = 5
MIN_EXTRACTIVE_TAKEAWAYS = 3
EXTRACTIVE_LANGUAGE = "en"

_STRONG_CONTRIBUTION_RE = re.compile(
    r"\b(?:we|this (?:paper|work|article|letter|study|note)|here,? we|in this (?:paper|work),? we)"
    r"\s+(?:\w+\s+){0,2}?"
    r"(?:propose|present|introduce|develop|design|describe|release|offer)",
    re.IGNORECASE,
)
_WEAK_CONTRIBUTION_RE = re.compile(
    r"\b(?:we|this (?:paper|work|article|letter|study|note))\s+(?:\w+\s+){0,2}?"
    r"(?:study|investigate|prove|establish|show|demonstrate|explore|analy[sz]e|consider|report)",
    re.IGNORECASE,
)
_CLAIM_RE = re.compile(
    r"outperform|surpass|achiev|improv|reduc|exceed|boost|state[- ]of[- ]the[- ]art|\bsota\b"
    r"|\bwe (?:show|demonstrate|find|prove|observe|establish)"
    r"|results? (?:show|indicate|demonstrate|suggest)"
    r"|experiments?|significant|faster|fewer|better|higher|lower|speed-?up",
    re.IGNORECASE,
)
_METHOD_RE = re.compile(
    r"\bour (?:method|approach|model|framework|system|algorithm)|\bkey (?:idea|insight)"
    r"|\bunlike\b|\bwe (?:propose|introduce|design|develop|present)",
    re.IGNORECASE,
)
# Results carry numbers; citation years ("Zhang et al. 2023") do not count.
_NUMBER_RE = re.compile(
    r"\d(?:\.\d+)?\s*(?:%|×|x\b|dB|points?|pp\b|fps)|\b\d+\.\d+\b|\b(?!(?:19|20)\d\d\b)\d+\b"
)
_BACKGROUND_RE = re.compile(
    r"^(?:however|recently|in recent years|despite)\b|has (?:attracted|gained|received)"
    r"|remains? (?:a )?(?:challenging|difficult|an open)|is a (?:fundamental|key|central|crucial)",
    re.IGNORECASE,
)
_SKIP_RE = re.compile(
    r"https?://|www\.|\bcode (?:is|and|will)|(?:publicly |freely )?available at"
    r"|will be (?:made )?(?:released|available|public)|\bgithub\b",
    re.IGNORECASE,
)


def trim_to(text: str, limit: int) -> str:
    """Cut at the last word boundary before `limit` characters and add an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—(") + "…"


def _tldr_index(sentences: list[str]) -> int:
    for pattern in (_STRONG_CONTRIBUTION_RE, _WEAK_CONTRIBUTION_RE):
        for i, s in enumerate(sentences):
            if pattern.search(s) and not _SKIP_RE.search(s):
                return i
    return 0


def _score(sentence: str, index: int) -> int:
    score = 0
    if _CLAIM_RE.search(sentence):
        score += 2
    if _NUMBER_RE.search(sentence):
        score += 1
    if _METHOD_RE.search(sentence):
        score += 1
    if _BACKGROUND_RE.search(sentence):
        score -= 2
    elif index == 0:
        score -= 1  # the opening sentence of an abstract is usually background
    return score


def choose_takeaways(sentences: list[str], tldr_index: int) -> list[int]:
    """Indices of the takeaway sentences, in abstract order."""
    candidates = [i for i, s in enumerate(sentences) if i != tldr_index and not _SKIP_RE.search(s)]
    ranked = sorted(candidates, key=lambda i: (-_score(sentences[i], i), i))
    chosen = [i for i in ranked if _score(sentences[i], i) > 0][:MAX_EXTRACTIVE_TAKEAWAYS]
    # Too few claims: top up with the best remaining sentences (method, setting, background).
    chosen += [i for i in ranked if i not in chosen][
        : max(0, MIN_EXTRACTIVE_TAKEAWAYS - len(chosen))
    ]
    return sorted(chosen)


def extractive_summary(paper: Paper) -> Summary:
    """A summary made only of the abstract's own sentences (no network, never fails)."""
    sentences = [s for s in split_sentences(clean_text(paper.abstract)) if len(s) > 3]
    if not sentences:
        title = clean_text(paper.title) or paper.id
        return Summary(
            tldr=trim_to(title, WIDE_LIMITS.tldr_max),
            takeaways=(),
            language=EXTRACTIVE_LANGUAGE,
            source=SummarySource.EXTRACTIVE,
        )
    tldr_i = _tldr_index(sentences)
    takeaways = tuple(
        trim_to(sentences[i], WIDE_LIMITS.takeaway_max) for i in choose_takeaways(sentences, tldr_i)
    )
    return Summary(
        tldr=trim_to(sentences[tldr_i], WIDE_LIMITS.tldr_max),
        takeaways=takeaways,
        language=EXTRACTIVE_LANGUAGE,
        source=SummarySource.EXTRACTIVE,
        model=None,
    )


# The sentence judgements above, for other extractive texts (`bot.reviews.extractive`).


def contribution_index(sentences: list[str]) -> int:
    """The index of the sentence stating the contribution ("we propose…"), else 0."""
    return _tldr_index(sentences)


def claim_score(sentence: str, index: int) -> int:
    """How much a sentence reads like a result or method claim (higher is better)."""
    return _score(sentence, index)


def is_boilerplate(sentence: str) -> bool:
    """Links and "code is available" sentences: never worth quoting."""
    return _SKIP_RE.search(sentence) is not None
