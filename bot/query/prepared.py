"""A paper tokenised once, so that thousands of topics can be tested against it cheaply.

Per text field the preparation keeps three views:

* `line`: the stems in order as one string (" a b c "), where runs of stems are found by
  substring search;
* `bag`: the stems plus joined forms of adjacent pairs ("lip sync" -> "lipsync"), the parts of
  CamelCase words ("TalkingHead" -> "talking", "head") and each pair of adjacent stems as
  "a b" (tokens never hold a space), for single words and two-token phrase forms;
* `raw`: sorted unstemmed tokens (and joined pairs), for wildcards by binary search.

Runs of three or more stems ("a b c") are not stored: there are as many of each length as
tokens, and building and hashing them was most of the cost (and memory) of preparing a paper.
Wherever a lookup needs one, `has_run` looks for " a b c " in `line`, which is exactly
equivalent (after checking that the bag holds its pairs, which rules out most papers); the
`TopicIndex` turns the few runs its topics use into keys per paper (see `bot.query.index`).

`index_keys` is everything a `TopicIndex` can look up for this paper (see `bot.query.keys`);
it holds the title's and the abstract's bags, so the abstract's own bag is only built when an
`abs:` term needs it. Token strings are shared between papers (`text.intern_all`, and the stem
memo), so a paper mostly holds references. About 52 KiB per paper of a 200-word abstract,
against 133 KiB when every run of up to four stems was a bag entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, combinations, pairwise
from operator import itemgetter

from bot.models import Paper
from bot.query import text
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
from bot.query.text import (
    STOPWORDS,
    camel_parts,
    intern_all,
    name_tokens,
    stem_all,
    strip_latex,
    tokenize,
)


@dataclass(frozen=True, slots=True)
class FieldText:
    line: str  # " " + " ".join(stems) + " ", for finding runs of stems by substring search
    raw: tuple[str, ...]
    # The bag, built when first asked for. `prepare` builds the title's; the abstract's rarely
    # serves on its own (`index_keys` holds it, for title-or-abstract terms), so only `abs:`
    # terms build it, saving most papers a large set.
    _bag: frozenset[str] | None = field(default=None, compare=False, repr=False)

    @property
    def bag(self) -> frozenset[str]:
        bag = self._bag
        if bag is None:
            stems = self.line.split()
            # `raw` holds the tokens, joined pairs and CamelCase parts whose stems are the
            # bag's words (stemming the tokens gives `stems` again).
            bag = frozenset(chain(stem_all(self.raw), _runs_in_bag(stems)))
            object.__setattr__(self, "_bag", bag)
        return bag

    @property
    def seq(self) -> tuple[str, ...]:
        """The stems in order."""
        return tuple(self.line.split())


EMPTY_FIELD = FieldText("  ", (), frozenset())


@dataclass(frozen=True, slots=True)
class PreparedPaper:
    """Token data of one paper; build it with `prepare`."""

    id: str
    title: FieldText
    abstract: FieldText
    title_bag: frozenset[str]  # `title.bag`, one attribute lookup away for hot loops
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
    return entry.count(" ") >= BAG_RUN


# A run of stems as the pairs of adjacent stems it holds and the needle " a b c " for a line.
Run = tuple[frozenset[str], str]


def split_runs(entries: Iterable[str]) -> tuple[frozenset[str], tuple[Run, ...]]:
    """Bag entries as (those a bag holds, the runs to look for in a `line` instead)."""
    words: set[str] = set()
    runs: list[Run] = []
    for entry in entries:
        if is_run(entry):
            stems = entry.split(" ")
            pairs = frozenset(windows(stems, BAG_RUN))
            runs.append((pairs, f" {entry} "))
        else:
            words.add(entry)
    return frozenset(words), tuple(sorted(runs, key=itemgetter(1)))


def has_run(runs: tuple[Run, ...], keys: frozenset[str], lines: tuple[str, ...]) -> bool:
    """Whether a run is in one of `lines`; `keys` must hold every pair of adjacent stems of
    the lines (a bag, or `index_keys`), so that most absent runs cost no search."""
    for pairs, needle in runs:
        if pairs <= keys:
            for line in lines:
                if needle in line:
                    return True
    return False


def _joined(tokens: list[str]) -> list[str]:
    # Joining two numbers invents one ("1 5" is not "15"); "gpt 4" -> "gpt4" is wanted.
    stop = STOPWORDS
    return [
        a + b
        for a, b in pairwise(tokens)
        if a not in stop and b not in stop and not (a.isdigit() and b.isdigit())
    ]


def _field_text(text: str) -> tuple[FieldText, Iterable[str]]:
    """The field's views, with its bag unbuilt, and the bag's entries (with repeats)."""
    if not text:
        return EMPTY_FIELD, ()
    text = strip_latex(text)
    tokens = tokenize(text)
    stems = stem_all(tokens)
    joined = _joined(tokens)
    parts = camel_parts(text) if not text.islower() else []  # CamelCase needs upper case
    raw = set(tokens)
    raw.update(joined, parts)
    # Joined words and CamelCase parts are stemmed as a whole, as a query word "lipsyncs"
    # would be.
    entries = chain(stems, _runs_in_bag(stems), stem_all(joined), stem_all(parts))
    return FieldText(f" {' '.join(stems)} ", tuple(sorted(intern_all(raw)))), entries


# Runs of up to this many stems are bag entries; longer ones are looked for in `line`.
BAG_RUN = 2
_IN_BAG = range(2, BAG_RUN + 1)


def _runs_in_bag(stems: Sequence[str]) -> chain[str]:
    return chain.from_iterable(windows(stems, n) for n in _IN_BAG)


def windows(stems: Sequence[str], n: int) -> map[str]:
    """Every run of `n` consecutive stems, as "a b c"."""
    return map(" ".join, zip(*(stems[i:] for i in range(n)), strict=False))


class _Keys(dict[str, str]):
    """Memo of `namespace + token[:PREFIX_BUCKET]`: shared strings, hashed once."""

    def __init__(self, namespace: str) -> None:
        super().__init__()
        self.namespace = namespace

    def __missing__(self, token: str) -> str:
        if len(self) >= 200_000:
            self.clear()
        key = self[token] = self.namespace + token[:PREFIX_BUCKET]
        return key


_TEXT_BUCKETS = _Keys(TEXT_PREFIX)
_AUTHOR_BUCKETS = _Keys(AUTHOR_PREFIX)


def clear_caches() -> None:
    """Forget every memo that preparing papers fills (benchmarks use it to time a cold start)."""
    text.clear_caches()
    _TEXT_BUCKETS.clear()
    _AUTHOR_BUCKETS.clear()


def _prefixed(namespace: str, keys: Iterable[str]) -> map[str]:
    return map(namespace.__add__, keys)


def _assemble(
    paper_id: str,
    title: FieldText,
    abstract: FieldText,
    abstract_entries: Iterable[str],
    authors: tuple[tuple[str, ...], ...],
    categories: frozenset[str],
) -> PreparedPaper:
    author_pairs = {
        author_pair(a, b)
        for name in authors
        for a, b in combinations({t for t in name if len(t) > 1}, 2)
    }
    author_bag = frozenset(t for name in authors for t in name)
    keys = frozenset(
        chain(
            title.bag,
            abstract_entries,
            _prefixed(TITLE, title.bag),
            map(_TEXT_BUCKETS.__getitem__, title.raw),
            map(_TEXT_BUCKETS.__getitem__, abstract.raw),
            _prefixed(AUTHOR, author_bag),
            map(_AUTHOR_BUCKETS.__getitem__, author_bag),
            author_pairs,
            _prefixed(CATEGORY, categories),
        )
    )
    return PreparedPaper(
        id=paper_id,
        title=title,
        abstract=abstract,
        title_bag=title.bag,
        authors=authors,
        author_bag=author_bag,
        author_raw=tuple(sorted(author_bag)),
        categories=categories,
        index_keys=keys,
    )


def prepare(paper: Paper) -> PreparedPaper:
    """Tokenise a paper's title, abstract, authors and categories for matching."""
    title, title_entries = _field_text(paper.title)
    title = FieldText(title.line, title.raw, frozenset(title_entries))
    abstract, abstract_entries = _field_text(paper.abstract)
    return _assemble(
        paper.id,
        title,
        abstract,
        abstract_entries,
        name_tokens(paper.authors),
        paper_category_keys(paper.categories, paper.primary_category),
    )


def title_only(prepared: PreparedPaper) -> PreparedPaper:
    """The paper as if its abstract were empty, reusing the work already done for its title.

    Equal to `prepare` of the paper with ``abstract=""``; digests list title matches first.
    """
    if prepared.abstract is EMPTY_FIELD:
        return prepared
    return _assemble(
        prepared.id,
        prepared.title,
        EMPTY_FIELD,
        (),
        prepared.authors,
        prepared.categories,
    )
