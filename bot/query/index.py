"""`TopicIndex`: which of many topics does a paper match, without testing every topic.

Each topic is filed under keys from `bot.query.keys.filing`, chosen so that any paper it
matches carries at least one of them. Matching a paper intersects the paper's keys with the
index's and looks only at the topics filed under the common keys:

* alternatives that a key proves outright (a word, a short phrase, a category) match with no
  further work, and a wildcard alternative costs one binary search per distinct prefix;
* an AND of such parts, some possibly negated (`"lip sync" cat:cs.CV -survey`), costs a few
  set tests against the paper's keys;
* everything else is a candidate and is fully evaluated;
* a topic without usable keys sits in a short list evaluated against every paper.

Papers carry no keys for runs of three or more stems ("neural radiance field"; see
`bot.query.prepared`). The index remembers the runs its topics use, by their first two stems,
and adds to a paper's keys those of them that its text holds, so the rest works as if papers
carried every run.

The result is always exactly `{key for key, query in topics if query.matches(paper)}`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Generic, TypeVar, cast

from bot.models import Paper
from bot.query.evaluate import Matcher, has_prefix
from bot.query.keys import (
    TEXT_PREFIX,
    TITLE,
    Clause,
    Filing,
    filing,
    key_rank,
    prefix_bucket,
)
from bot.query.prepared import BAG_RUN, PreparedPaper, is_run, prepare, windows
from bot.query.query import Query

K = TypeVar("K", bound=Hashable)


# Shared by every posting until it needs a container of its own: most postings use one or two
# of their four, and fewer live containers also means less work for the garbage collector.
_NO_TOPICS: frozenset[Any] = frozenset()
_NO_ENTRIES: Mapping[Any, Any] = {}  # never changed: the `add_` methods replace it


class _Posting(Generic[K]):
    """The topics filed under one index key."""

    __slots__ = ("candidates", "guarded", "prefixes", "proving")

    def __init__(self) -> None:
        self.proving: AbstractSet[K] = _NO_TOPICS  # matched whenever the key is present
        # matched when a token starts with the prefix
        self.prefixes: Mapping[str, set[K]] = _NO_ENTRIES
        self.guarded: Mapping[K, tuple[Clause, ...]] = _NO_ENTRIES  # matched when clauses hold
        self.candidates: AbstractSet[K] = _NO_TOPICS  # evaluated when the key is present

    def add_proving(self, key: K) -> None:
        if self.proving is _NO_TOPICS:
            self.proving = set()
        cast(set[K], self.proving).add(key)

    def add_candidate(self, key: K) -> None:
        if self.candidates is _NO_TOPICS:
            self.candidates = set()
        cast(set[K], self.candidates).add(key)

    def add_guarded(self, key: K, guards: tuple[Clause, ...]) -> None:
        if self.guarded is _NO_ENTRIES:
            self.guarded = {}
        cast(dict[K, tuple[Clause, ...]], self.guarded)[key] = guards

    def add_prefix(self, prefix: str, key: K) -> None:
        if self.prefixes is _NO_ENTRIES:
            self.prefixes = {}
        cast(dict[str, set[K]], self.prefixes).setdefault(prefix, set()).add(key)

    def discard(self, key: K) -> None:
        """Forget `key` in every part of the posting."""
        if key in self.proving:
            cast(set[K], self.proving).discard(key)
        if key in self.candidates:
            cast(set[K], self.candidates).discard(key)
        if key in self.guarded:
            del cast(dict[K, tuple[Clause, ...]], self.guarded)[key]
        for prefix, keys in list(self.prefixes.items()):
            keys.discard(key)
            if not keys:
                del cast(dict[str, set[K]], self.prefixes)[prefix]

    def __bool__(self) -> bool:
        return bool(self.proving or self.prefixes or self.guarded or self.candidates)


# A run key as the hot loop wants it: (key, the other pairs of adjacent stems it holds,
# needle, title only). Only strings, so the garbage collector soon stops tracking it.
_RunEntry = tuple[str, tuple[str, ...], str, bool]


def _run_entry(key: str) -> tuple[str, _RunEntry]:
    """A run key's head, the pair of adjacent stems that files it, and its entry.

    Every paper holding the run holds each of its pairs as a key: the rarest-looking one
    files the run, and the others rule out most papers before the text search.
    """
    title_only = key.startswith(TITLE)
    namespace = TITLE if title_only else ""
    words = key.removeprefix(TITLE).split(" ")
    pairs = {namespace + w for w in windows(words, BAG_RUN)}
    head = max(sorted(pairs), key=key_rank)
    others = tuple(sorted(pairs - {head}))
    return head, (key, others, f" {' '.join(words)} ", title_only)


def _filed_runs(filed: Filing) -> list[str]:
    """Every run the index may look up for a topic: its keys and its guards' entries."""
    keys = [*filed.proving, *filed.guarded, *(filed.candidates or ())]
    keys += [entry for entries, _ in filed.guards for entry in entries]
    return [k for k in keys if is_run(k)]


class _Matchers(dict[K, Matcher]):
    """Each topic's compiled test, fetched from its query on first use."""

    def __init__(self, queries: dict[K, Query]) -> None:
        super().__init__()
        self._queries = queries

    def __missing__(self, key: K) -> Matcher:
        matcher = self[key] = self._queries[key].matcher
        return matcher


class TopicIndex(Generic[K]):
    """Topics by caller-chosen key (a topic id, a (chat, query) pair, ...)."""

    def __init__(self) -> None:
        self._queries: dict[K, Query] = {}
        # Compiled on first need: most topics never need a full evaluation.
        self._matchers: _Matchers[K] = _Matchers(self._queries)
        # One dict for every kind of filing, so a paper's keys are intersected with it once;
        # its keys are mirrored in a set because set & set is about twice as fast as
        # intersecting with a dict's keys view.
        self._postings: dict[str, _Posting[K]] = {}
        self._keyset: set[str] = set()
        self._always: set[K] = set()
        # Run keys by a two-stem key (the head) that every paper holding them has, as
        # `_RunEntry`s for the hot loop, with how many topics use each run.
        self._runs: dict[str, tuple[_RunEntry, ...]] = {}
        self._run_uses: dict[str, int] = {}
        self._run_heads: set[str] = set()
        self.evaluations = 0  # full query evaluations so far, to measure how well keys prune

    def __len__(self) -> int:
        return len(self._queries)

    def __contains__(self, key: object) -> bool:
        return key in self._queries

    def __iter__(self) -> Iterator[K]:
        return iter(self._queries)

    def query(self, key: K) -> Query:
        return self._queries[key]

    def _posting(self, index_key: str) -> _Posting[K]:
        posting = self._postings.get(index_key)
        if posting is None:
            posting = self._postings[index_key] = _Posting()
            self._keyset.add(index_key)
        return posting

    def add(self, key: K, query: Query) -> None:
        """File `query` under `key`, replacing any query already there."""
        if key in self._queries:
            self.remove(key)
        self._queries[key] = query
        # Not kept: `remove` files the query again, which gives the same filing, and fewer
        # long-lived objects make less work for the garbage collector.
        filed = filing(query.root)
        if filed.candidates is None:
            self._always.add(key)
            return
        for k in _filed_runs(filed):
            self._add_run(k)
        for k in filed.proving:
            self._posting(k).add_proving(key)
        for k in filed.guarded:
            self._posting(k).add_guarded(key, filed.guards)
        for k in filed.candidates:
            self._posting(k).add_candidate(key)
        for prefix in filed.prefixes:
            self._posting(TEXT_PREFIX + prefix_bucket(prefix)).add_prefix(prefix, key)

    def remove(self, key: K) -> None:
        """Forget the topic under `key`; KeyError if there is none."""
        filed = filing(self._queries.pop(key).root)
        self._matchers.pop(key, None)
        if filed.candidates is None:
            self._always.discard(key)
            return
        for k in _filed_runs(filed):
            self._remove_run(k)
        touched = {*filed.proving, *filed.guarded, *filed.candidates}
        touched.update(TEXT_PREFIX + prefix_bucket(prefix) for prefix in filed.prefixes)
        for k in touched:
            self._postings[k].discard(key)
        for k in touched:
            if not self._postings[k]:
                del self._postings[k]
                self._keyset.discard(k)

    def _add_run(self, key: str) -> None:
        uses = self._run_uses.get(key, 0)
        self._run_uses[key] = uses + 1
        if not uses:
            head, entry = _run_entry(key)
            self._runs[head] = (*self._runs.get(head, ()), entry)
            self._run_heads.add(head)

    def _remove_run(self, key: str) -> None:
        uses = self._run_uses.pop(key) - 1
        if uses:
            self._run_uses[key] = uses
            return
        head, entry = _run_entry(key)
        runs = tuple(e for e in self._runs[head] if e != entry)
        if runs:
            self._runs[head] = runs
        else:
            del self._runs[head]
            self._run_heads.discard(head)

    def match(self, paper: Paper | PreparedPaper) -> set[K]:
        """Keys of every topic `paper` matches."""
        prepared = paper if isinstance(paper, PreparedPaper) else prepare(paper)
        postings = self._postings
        paper_keys = prepared.index_keys
        heads = paper_keys & self._run_heads
        if heads:
            runs = self._runs
            title, abstract = prepared.title.line, prepared.abstract.line
            present = [
                key
                for head in heads
                for key, pairs, needle, title_only in runs[head]
                if paper_keys.issuperset(pairs)
                and (needle in title or (not title_only and needle in abstract))
            ]
            if present:
                paper_keys = paper_keys.union(present)
        found: set[K] = set()
        check: set[K] = set(self._always)
        for k in paper_keys & self._keyset:
            posting = postings[k]
            found |= posting.proving
            check |= posting.candidates
            for prefix, keys in posting.prefixes.items():
                # The abstract first: it holds most words, so one search usually settles it.
                if has_prefix(prepared.abstract.raw, prefix) or has_prefix(
                    prepared.title.raw, prefix
                ):
                    found |= keys
            # Inlined rather than a call per topic: this is the hottest loop.
            for key, clauses in posting.guarded.items():
                for entries, positive in clauses:
                    if entries.isdisjoint(paper_keys) is positive:
                        break  # a wanted term is missing, or an excluded one is present
                else:
                    found.add(key)
        check -= found
        self.evaluations += len(check)
        matchers = self._matchers
        found.update([key for key in check if matchers[key](prepared)])
        return found

    def match_many(self, papers: Iterable[Paper | PreparedPaper]) -> dict[str, set[K]]:
        """Matches by paper id, for the papers that match at least one topic."""
        result: dict[str, set[K]] = {}
        for paper in papers:
            matched = self.match(paper)
            if matched:
                result[paper.id] = matched
        return result
