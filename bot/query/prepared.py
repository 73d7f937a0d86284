"""A paper tokenised once, so that thousands of topics can be tested against it cheaply.

Per text field the preparation keeps three views:

* `line`: the stems in order as one string (" a b c "), where runs of stems are found by
  substring search;
* `bag`: the stems plus joined forms of adjacent pairs ("lip sync" -> "lipsync"), the parts of
  CamelCase words ("TalkingHead" -> "talking", "head") and each pair of adjacent stems as
  "a b" (tokens never hold a space), for single words and two-token phrase forms;
* `raw`: sorted unstemmed tokens (and joined pairs), for wildcards by binary search.

Runs of three or more stems ("a b c") are not stored: there are as many of them as tokens, and
building and hashing them was most of the cost (and memory) of preparing a paper. Wherever a
lookup needs one, `Entries` tests it as " a b c " in `line`, which is exactly equivalent; the
`TopicIndex` turns the few runs its topics use into keys per paper (see `bot.query.index`).

`index_keys` is everything a `TopicIndex` can look up for this paper; see `bot.query.keys`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, combinations, pairwise
from operator import itemgetter

from bot.models import Paper
from bot.query.categories import paper_category_keys
from bot.query.keys import (
    AUTHOR,
    AUTHOR_PREFIX,
    CATEGORY,
    PREFIX_BUCKET,
    TEXT_PREFIX,
    TITLE,
    author_pair,
)
from bot.query.text import STOPWORDS, camel_parts, intern_all, stem_all, strip_latex, tokenize


@dataclass(frozen=True, slots=True)
class FieldText:
    line: str  # " " + " ".join(stems) + " ", for finding runs of stems by substring search
    bag: frozenset[str]
    raw: tuple[str, ...]

    @property
    def seq(self) -> tuple[str, ...]:
        """The stems in order."""
        return tuple(self.line.split())


EMPTY_FIELD = FieldText(" ", frozenset(), ())


@dataclass(frozen=True, slots=True)
class PreparedPaper:
    """Token data of one paper; build it with `prepare`."""

    id: str
    title: FieldText
    abstract: FieldText
    authors: tuple[tuple[str, ...], ...]  # tokens of each author's name, unstemmed
    author_bag: frozenset[str]
    author_raw: tuple[str, ...]
    categories: frozenset[str]  # lower-cased, plus "archive.*" for each
    # Everything a TopicIndex can look up. Its un-namespaced entries are exactly the title bag
    # plus the abstract bag, so it doubles as the bag for title-or-abstract terms (saving a
    # copy of the largest set per paper).
    index_keys: frozenset[str]


def is_run(entry: str) -> bool:
    """Whether a bag entry (or index key) is a run of three or more tokens, kept out of bags."""
    return entry.count(" ") >= 2


def has_prefix_in(sorted_tokens: tuple[str, ...], prefix: str) -> bool:
    """Whether a token of the sorted tuple starts with `prefix` (one binary search)."""
    from bisect import bisect_left

    i = bisect_left(sorted_tokens, prefix)
    return i < len(sorted_tokens) and sorted_tokens[i].startswith(prefix)


_FIRST = itemgetter(slice(0, PREFIX_BUCKET))


def _joinable(a: str, b: str) -> bool:
    # Joining two numbers invents one ("1 5" is not "15"); "gpt 4" -> "gpt4" is wanted.
    return a not in STOPWORDS and b not in STOPWORDS and not (a.isdigit() and b.isdigit())


def _field_text(text: str) -> FieldText:
    # Written with map/zip over whole lists and a single set build: this runs for every
    # paper and token.
    if not text:
        return EMPTY_FIELD
    text = strip_latex(text)
    raw_tokens = intern_all(tokenize(text))
    stems = stem_all(raw_tokens)
    joined = [a + b for a, b in pairwise(raw_tokens) if _joinable(a, b)]
    parts = camel_parts(text) if not text.islower() else []
    raw = set(raw_tokens)
    if joined or parts:
        joined = intern_all(joined)
        parts = intern_all(parts)
        raw.update(joined, parts)
    bag = frozenset(
        chain(
            stems,
            map(" ".join, zip(stems, stems[1:], strict=False)),
            # Joined words are stemmed as a whole, as a query word "lipsyncs" would be.
            stem_all(joined),
            stem_all(parts),
        )
    )
    return FieldText(f" {' '.join(stems)} ", bag, tuple(sorted(raw)))


def _prefixed(namespace: str, keys: Iterable[str]) -> map[str]:
    return map(namespace.__add__, keys)


def _assemble(
    paper_id: str,
    title: FieldText,
    abstract: FieldText,
    authors: tuple[tuple[str, ...], ...],
    categories: frozenset[str],
) -> PreparedPaper:
    author_pairs = {
        author_pair(a, b)
        for name in authors
        for a, b in combinations({t for t in name if len(t) > 1}, 2)
    }
    author_bag = frozenset(t for name in authors for t in name)
    buckets = set(map(_FIRST, title.raw))
    buckets.update(map(_FIRST, abstract.raw))
    keys = frozenset(
        chain(
            title.bag,
            abstract.bag,
            _prefixed(TITLE, title.bag),
            _prefixed(TEXT_PREFIX, buckets),
            _prefixed(AUTHOR, author_bag),
            _prefixed(AUTHOR_PREFIX, set(map(_FIRST, author_bag))),
            author_pairs,
            _prefixed(CATEGORY, categories),
        )
    )
    return PreparedPaper(
        id=paper_id,
        title=title,
        abstract=abstract,
        authors=authors,
        author_bag=author_bag,
        author_raw=tuple(sorted(author_bag)),
        categories=categories,
        index_keys=keys,
    )


def prepare(paper: Paper) -> PreparedPaper:
    """Tokenise a paper's title, abstract, authors and categories for matching."""
    return _assemble(
        paper.id,
        _field_text(paper.title),
        _field_text(paper.abstract),
        tuple(tuple(intern_all(tokenize(name))) for name in paper.authors),
        paper_category_keys(paper.categories, paper.primary_category),
    )


def title_only(prepared: PreparedPaper) -> PreparedPaper:
    """The paper as if its abstract were empty, reusing the work already done for its title.

    Equal to `prepare` of the paper with ``abstract=""``; digests list title matches first.
    """
    if prepared.abstract is EMPTY_FIELD:
        return prepared
    return _assemble(
        prepared.id, prepared.title, EMPTY_FIELD, prepared.authors, prepared.categories
    )
