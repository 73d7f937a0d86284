"""Choose what of a paper reaches the LLM within a token budget, cutting only between sentences.

Priority: the abstract, then the introduction, method, experiments and conclusion (every
section of each kind, in document order). The budget is shared by water-filling: each of those
five kinds is offered an equal share; a kind that needs less gives the rest back to the others,
so a short conclusion is never squeezed out by a long method section, and nothing is wasted.
Only when all of them fit whole does what is left go to the other sections (related work,
appendices...), in document order. The result keeps document order.

A section that does not fit is cut at a sentence boundary (`bot.summaries.sentences`) and ends
with the marker `SHORTENED` (" […]"), so a reader, or a model, knows text was left out; a section
of which not even the first sentence fits is left out entirely. Nothing is ever cut inside a
sentence.

Token counts are estimates: ``ceil(characters / 4)``, the usual rule of thumb for English with
GPT-style tokenizers (within about 10-20% for prose; math and non-Latin scripts use more tokens per
character, so keep a margin in `max_tokens`). It needs no tokenizer download and costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from bot.fulltext.model import FullText, Section, SectionKind
from bot.summaries.sentences import split_sentences

__all__ = ["PRIORITY", "SHORTENED", "Excerpt", "estimate_tokens", "select_for_budget"]

SHORTENED = " […]"
PRIORITY = (
    SectionKind.ABSTRACT,
    SectionKind.INTRO,
    SectionKind.METHOD,
    SectionKind.EXPERIMENTS,
    SectionKind.CONCLUSION,
)
_TITLE_OVERHEAD = 4  # a heading line and separators around each excerpt


class Excerpt(NamedTuple):
    """One section as it reaches the model: its title, its (maybe shortened) text."""

    title: str
    text: str
    shortened: bool = False


def estimate_tokens(text: str) -> int:
    """Approximate tokens of `text`: characters / 4, rounded up (see the module docstring)."""
    return math.ceil(len(text) / 4)


def _cost(section: Section) -> int:
    return estimate_tokens(section.title) + _TITLE_OVERHEAD + estimate_tokens(section.text)


def _fit(section: Section, budget: int) -> Excerpt | None:
    """The section within `budget` tokens, whole or cut after a sentence; None if nothing fits."""
    if _cost(section) <= budget:
        return Excerpt(section.title, section.text)
    room = budget - estimate_tokens(section.title) - _TITLE_OVERHEAD - estimate_tokens(SHORTENED)
    paragraphs: list[str] = []
    used = 0
    for paragraph in section.text.split("\n\n"):
        kept: list[str] = []
        for sentence in split_sentences(paragraph):
            extra = len(sentence) + 1
            if math.ceil((used + extra) / 4) > room:
                break
            kept.append(sentence)
            used += extra
        else:
            if kept:
                paragraphs.append(" ".join(kept))
                used += 1  # the blank line
            continue
        if kept:
            paragraphs.append(" ".join(kept))
        break
    if not paragraphs:
        return None
    return Excerpt(section.title, "\n\n".join(paragraphs) + SHORTENED, shortened=True)


def _shares(needs: Sequence[int], budget: int) -> list[int]:
    """Water-filling: equal shares, what a small need leaves over going to the larger ones."""
    shares = [0] * len(needs)
    open_ = [i for i, need in enumerate(needs) if need > 0]
    left = budget
    while open_ and left > 0:
        share = left // len(open_)
        if share == 0:
            break
        satisfied = [i for i in open_ if needs[i] - shares[i] <= share]
        if not satisfied:
            for i in open_:
                shares[i] += share
            left -= share * len(open_)
            break
        for i in satisfied:
            left -= needs[i] - shares[i]
            shares[i] = needs[i]
        open_ = [i for i in open_ if i not in satisfied]
    return shares


def select_for_budget(fulltext: FullText, max_tokens: int) -> list[Excerpt]:
    """The excerpts of `fulltext` to send, together at most `max_tokens` (estimated)."""
    if max_tokens <= 0:
        return []
    groups = [[s for s in fulltext.sections if s.kind is kind] for kind in PRIORITY]
    needs = [sum(_cost(s) for s in group) for group in groups]
    shares = _shares(needs, max_tokens)
    chosen: dict[int, Excerpt] = {}  # by position in fulltext.sections
    positions = {id(s): i for i, s in enumerate(fulltext.sections)}
    spent = 0
    for group, share in zip(groups, shares, strict=True):
        left = share
        for section in group:
            excerpt = _fit(section, left)
            if excerpt is None:
                break
            cost = _cost(Section(excerpt.title, section.kind, excerpt.text))
            chosen[positions[id(section)]] = excerpt
            left -= cost
            spent += cost
            if excerpt.shortened:
                break
    if any(e.shortened for e in chosen.values()) or len(chosen) < sum(map(len, groups)):
        return [chosen[i] for i in sorted(chosen)]  # the priorities did not all fit
    for i, section in enumerate(fulltext.sections):
        if section.kind in PRIORITY:
            continue
        excerpt = _fit(section, max_tokens - spent)
        if excerpt is None:
            break
        chosen[i] = excerpt
        spent += _cost(Section(excerpt.title, section.kind, excerpt.text))
    return [chosen[i] for i in sorted(chosen)]
