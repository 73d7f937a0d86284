"""A paper tokenised once, so that thousands of topics can be tested against it cheaply.

Per text field the preparation keeps three views:

* `seq`: stems in order, and `line`, the same as one string, for long phrases;
* `bag`: the stems plus joined forms of adjacent pairs ("lip sync" -> "lipsync") and the parts
  of CamelCase words ("TalkingHead" -> "talking", "head"), for single words; and every run
  of two to `NGRAM` consecutive stems as "a b", "a b c", ... (tokens never hold a space), for
  phrases;
* `raw`: sorted unstemmed tokens (and joined pairs), for wildcards by binary search.

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
    NGRAM,
    PREFIX_BUCKET,
    TEXT_PREFIX,
    TITLE,
    author_pair,
)
from bot.query.text import STOPWORDS, camel_parts, stem_all, strip_latex, tokenize


@dataclass(frozen=True, slots=True)
class FieldText:
    seq: tuple[str, ...]
    line: str  # " " + " ".join(seq) + " ", for finding long phrases by substring search
    bag: frozenset[str]
    raw: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PreparedPaper:
    """Token data of one paper; build it with `prepare`."""

    id: str
    title: FieldText
    abstract: FieldText
    text_raw: tuple[str, ...]  # sorted union of both raws
    authors: tuple[tuple[str, ...], ...]  # tokens of each author's name, unstemmed
    author_bag: frozenset[str]
    author_raw: tuple[str, ...]
    categories: frozenset[str]  # lower-cased, plus "archive.*" for each
    # Everything a TopicIndex can look up. Its un-namespaced entries are exactly the title bag
    # plus the abstract bag, so it doubles as the bag for title-or-abstract terms (saving a
    # copy of the largest set per paper).
    index_keys: frozenset[str]


_FIRST = itemgetter(slice(0, PREFIX_BUCKET))
_NGRAMS = range(2, NGRAM + 1)


def _field_text(text: str) -> tuple[FieldText, set[str]]:
    # Written with map/zip over whole lists and a single set build: this runs for every
    # paper and token.
    text = strip_latex(text)
    raw_tokens = tokenize(text)
    stems = stem_all(raw_tokens)
    # Joining two numbers invents one ("1 5" is not "15"); "gpt 4" -> "gpt4" is wanted.
    joined = [
        a + b
        for a, b in pairwise(raw_tokens)
        if a not in STOPWORDS and b not in STOPWORDS and not (a.isdigit() and b.isdigit())
    ]
    parts = camel_parts(text)
    bag = frozenset(
        chain(
            stems,
            *(map(" ".join, zip(*(stems[i:] for i in range(n)), strict=False)) for n in _NGRAMS),
            # Joined words are stemmed as a whole, as a query word "lipsyncs" would be.
            stem_all(joined),
            stem_all(parts),
        )
    )
    raw = set(raw_tokens)
    raw.update(joined, parts)
    line = f" {' '.join(stems)} "
    return FieldText(tuple(stems), line, bag, tuple(sorted(raw))), raw


def _prefixed(namespace: str, keys: Iterable[str]) -> map[str]:
    return map(namespace.__add__, keys)


def prepare(paper: Paper) -> PreparedPaper:
    """Tokenise a paper's title, abstract, authors and categories for matching."""
    title, title_raw = _field_text(paper.title)
    abstract, abstract_raw = _field_text(paper.abstract)
    text_raw = title_raw | abstract_raw
    authors = tuple(tuple(tokenize(name)) for name in paper.authors)
    author_pairs = {
        author_pair(a, b)
        for name in authors
        for a, b in combinations({t for t in name if len(t) > 1}, 2)
    }
    author_bag = frozenset(t for name in authors for t in name)
    categories = paper_category_keys(paper.categories, paper.primary_category)
    keys = frozenset(
        chain(
            title.bag,
            abstract.bag,
            _prefixed(TITLE, title.bag),
            _prefixed(TEXT_PREFIX, set(map(_FIRST, text_raw))),
            _prefixed(AUTHOR, author_bag),
            _prefixed(AUTHOR_PREFIX, set(map(_FIRST, author_bag))),
            author_pairs,
            _prefixed(CATEGORY, categories),
        )
    )
    return PreparedPaper(
        id=paper.id,
        title=title,
        abstract=abstract,
        text_raw=tuple(sorted(text_raw)),
        authors=authors,
        author_bag=author_bag,
        author_raw=tuple(sorted(author_bag)),
        categories=categories,
        index_keys=keys,
    )
