"""The review's facts (from metadata and full text), and the extractive review.

`make_review` adds to the prose what never comes from a model: title, authors, the affiliations the
paper states, links (arXiv's and the DOI from metadata, then code, project and data links found
in the abstract, comments and full text), the source and the notes.

`extractive_review` is the no-model review (no API key, a failed answer, a spent budget): every
prose field is made of the paper's own sentences, from the matching sections, in English:

* background: the introduction's opening sentences (else the abstract's first);
* earlier approaches: the related-work section's first sentences, else introduction sentences
  about existing methods and their shortcomings;
* method: the abstract's contribution sentence and the method section's first sentence;
* results: the experiments' strongest claim sentences (numbers, "outperforms" …), else the
  abstract's;
* method steps: the first sentence of each paragraph of the method sections (up to 5);
* significance: the conclusion's first sentence; strengths: its strongest claim; weaknesses:
  sentences about limitations, if the paper states any (else empty);
* keywords: distinctive terms of the title and abstract (acronyms, names with capitals).

A field with nothing to quote stays empty. Sentences are whole unless over the field's cap.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.fulltext.model import FullText, SectionKind
from bot.links import paper_links
from bot.models import Link, Paper
from bot.reviews.model import Review, ReviewOrigin
from bot.reviews.validate import WIDE
from bot.summaries.extractive import (
    EXTRACTIVE_LANGUAGE,
    claim_score,
    contribution_index,
    is_boilerplate,
    trim_to,
)
from bot.summaries.sentences import clean_text, split_sentences

__all__ = [
    "ReviewProse",
    "extractive_review",
    "make_review",
    "review_links",
    "section_sentences",
]

MAX_STEPS = 5
MAX_KEYWORDS = 6
_MIN_SENTENCE = 25
_PRIOR_RE = re.compile(
    r"\b(?:existing|previous|prior|conventional|traditional|current|earlier|recent)\b"
    r".*\b(?:methods?|approaches|works?|models?|techniques|systems)\b"
    r"|\b(?:however|suffer|struggle|fail|limited|limitation|drawback|cannot|lack)",
    re.IGNORECASE,
)
_LIMIT_RE = re.compile(
    r"\b(?:limitations?|limited|drawbacks?|fails?|failure|cannot|does not|do not|future work"
    r"|remains? (?:an )?(?:open|challenging)|restricted to|only (?:works|applies))\b",
    re.IGNORECASE,
)
_TERM_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*\b")


def review_links(paper: Paper, fulltext: FullText) -> tuple[Link, ...]:
    """Metadata links first, then the paper's own, each URL once."""
    seen: set[str] = set()
    links: list[Link] = []
    for link in [*paper_links(paper), *fulltext.links]:
        key = link.url.lower().rstrip("/").removeprefix("http://").removeprefix("https://")
        if key not in seen:
            seen.add(key)
            links.append(link)
    return tuple(links)


@dataclass(frozen=True, slots=True)
class ReviewProse:
    """The fields of a `Review` written by the model (or quoted, for an extractive review)."""

    keywords: tuple[str, ...]
    background: str
    prior_work: str
    method: str
    results: str
    method_steps: tuple[str, ...]
    significance: str
    strengths: str
    weaknesses: str
    translated_title: str | None = None


def make_review(
    paper: Paper,
    fulltext: FullText,
    prose: ReviewProse,
    *,
    origin: ReviewOrigin,
    language: str,
    model: str | None = None,
    reason: str | None = None,
) -> Review:
    """A `Review`: `prose`, plus the facts that come from the paper and its metadata only."""
    return Review(
        paper_id=paper.id,
        version=paper.version,
        title=clean_text(paper.title),
        authors=paper.authors,
        affiliations=fulltext.affiliations,
        links=review_links(paper, fulltext),
        source=fulltext.source,
        origin=origin,
        language=language,
        keywords=prose.keywords,
        background=prose.background,
        prior_work=prose.prior_work,
        method=prose.method,
        results=prose.results,
        method_steps=prose.method_steps,
        significance=prose.significance,
        strengths=prose.strengths,
        weaknesses=prose.weaknesses,
        translated_title=prose.translated_title,
        model=model,
        notes=fulltext.notes,
        fallback_reason=reason,
    )


def section_sentences(fulltext: FullText, *kinds: SectionKind) -> list[str]:
    """The sentences of the sections of `kinds`, in order; subsection titles left out."""
    return [s for para in _paragraphs(fulltext, *kinds) for s in para]


def _paragraphs(fulltext: FullText, *kinds: SectionKind) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    for section in fulltext.sections:
        if section.kind not in kinds:
            continue
        for block in section.text.split("\n\n"):
            sentences: list[str] = []
            for line in block.split("\n"):
                line = line.strip()
                if not line or (len(line) < 80 and not line.endswith((".", "!", "?", ":"))):
                    continue  # a subsection title, a caption fragment
                sentences += [s for s in split_sentences(line) if len(s) >= _MIN_SENTENCE]
            sentences = [s for s in sentences if not is_boilerplate(s)]
            if sentences:
                paragraphs.append(sentences)
    return paragraphs


def _abstract_sentences(paper: Paper, fulltext: FullText) -> list[str]:
    found = section_sentences(fulltext, SectionKind.ABSTRACT)
    if found:
        return found
    return [
        s
        for s in split_sentences(clean_text(paper.abstract))
        if len(s) >= _MIN_SENTENCE and not is_boilerplate(s)
    ]


class _Picker:
    """Joins sentences into a field under the cap, never using one sentence twice."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used: set[str] = set()

    def take(self, candidates: Iterable[str], count: int) -> str:
        chosen: list[str] = []
        length = 0
        for sentence in candidates:
            if len(chosen) >= count:
                break
            if sentence in self.used:
                continue
            if chosen and length + len(sentence) + 1 > self.limit:
                break
            self.used.add(sentence)
            chosen.append(sentence)
            length += len(sentence) + 1
        return trim_to(" ".join(chosen), self.limit)


def _best_claims(sentences: list[str]) -> list[str]:
    ranked = sorted(range(len(sentences)), key=lambda i: (-claim_score(sentences[i], i), i))
    return [sentences[i] for i in ranked if claim_score(sentences[i], i) > 0]


def _keywords(paper: Paper) -> tuple[str, ...]:
    text = f"{clean_text(paper.title)} {clean_text(paper.abstract)}"
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    spelled: dict[str, str] = {}
    for i, m in enumerate(_TERM_RE.finditer(text)):
        term = m.group(0)
        # Acronyms and names with inner capitals or digits (HDTF, LipSync-XL, GPT-4), not
        # words capitalised for a title ("Audio-Driven").
        distinctive = any(
            any(c.isupper() for c in part[1:])
            or (any(c.isdigit() for c in part) and part[0].isupper())
            for part in term.split("-")
        )
        key = term.casefold()
        if distinctive and len(term) <= 40:
            counts[key] += 1
            first.setdefault(key, i)
            spelled.setdefault(key, term)
    ranked = sorted(counts, key=lambda t: (-counts[t], first[t]))
    return tuple(spelled[k] for k in ranked[:MAX_KEYWORDS])


def extractive_review(paper: Paper, fulltext: FullText, reason: str) -> Review:
    """The review made of the paper's own sentences, labelled extractive with `reason`."""
    pick = _Picker(WIDE.prose_max)
    abstract = _abstract_sentences(paper, fulltext)
    intro = section_sentences(fulltext, SectionKind.INTRO)
    related = section_sentences(fulltext, SectionKind.RELATED)
    method_paragraphs = _paragraphs(fulltext, SectionKind.METHOD)
    method = [s for para in method_paragraphs for s in para]
    experiments = section_sentences(fulltext, SectionKind.EXPERIMENTS)
    conclusion = section_sentences(fulltext, SectionKind.CONCLUSION)
    contribution = [abstract[contribution_index(abstract)]] if abstract else []

    # The contribution sentence belongs to the method; keep it out of the background.
    pick.used.update(contribution)
    background = pick.take(intro or abstract, 2)
    pick.used.difference_update(contribution)
    prior = pick.take(related or [s for s in intro + abstract if _PRIOR_RE.search(s)], 2)
    method_text = pick.take([*contribution, *method[:1]], 2)
    results = pick.take(_best_claims(experiments) or _best_claims(abstract), 3)
    # The steps are another view of the method: they may repeat its opening sentence.
    steps = tuple(trim_to(para[0], WIDE.step_max) for para in method_paragraphs[:MAX_STEPS])
    significance = pick.take(conclusion[:1] or contribution, 1)
    everywhere = conclusion + experiments + method + intro + abstract
    weaknesses = pick.take([s for s in everywhere if _LIMIT_RE.search(s)], 2)
    claims = _best_claims(conclusion) + _best_claims(experiments) + _best_claims(abstract)
    strengths = pick.take([s for s in claims if not _LIMIT_RE.search(s)], 1)
    prose = ReviewProse(
        keywords=_keywords(paper),
        background=background,
        prior_work=prior,
        method=method_text,
        results=results,
        method_steps=steps,
        significance=significance,
        strengths=strengths,
        weaknesses=weaknesses,
    )
    return make_review(
        paper,
        fulltext,
        prose,
        origin=ReviewOrigin.EXTRACTIVE,
        language=EXTRACTIVE_LANGUAGE,
        reason=reason,
    )
