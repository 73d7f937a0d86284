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

The result is always exactly `{key for key, query in topics if query.matches(paper)}`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from typing import Generic, TypeVar

from bot.models import Paper
from bot.query.evaluate import Matcher, has_prefix
from bot.query.keys import TEXT_PREFIX, Clause, Filing, filing, prefix_bucket
from bot.query.prepared import PreparedPaper, prepare
from bot.query.query import Query

K = TypeVar("K", bound=Hashable)


class _Posting(Generic[K]):
    """The topics filed under one index key."""

    __slots__ = ("candidates", "guarded", "prefixes", "proving")

    def __init__(self) -> None:
        self.proving: set[K] = set()  # matched whenever the key is present
        self.prefixes: dict[str, set[K]] = {}  # matched when a token starts with the prefix
        self.guarded: dict[K, tuple[Clause, ...]] = {}  # matched when the clauses hold
        self.candidates: set[K] = set()  # evaluated when the key is present

    def __bool__(self) -> bool:
        return bool(self.proving or self.prefixes or self.guarded or self.candidates)


class TopicIndex(Generic[K]):
    """Topics by caller-chosen key (a topic id, a (chat, query) pair, ...)."""

    def __init__(self) -> None:
        self._queries: dict[K, Query] = {}
        self._filing: dict[K, Filing] = {}
        self._matchers: dict[K, Matcher] = {}
        # One dict for every kind of filing, so a paper's keys are intersected with it once;
        # its keys are mirrored in a set because set & set is about twice as fast as
        # intersecting with a dict's keys view.
        self._postings: dict[str, _Posting[K]] = {}
        self._keyset: set[str] = set()
        self._always: set[K] = set()
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
        self._matchers[key] = query._matcher  # skips a method call in the hot loop
        filed = self._filing[key] = filing(query.root)
        if filed.candidates is None:
            self._always.add(key)
            return
        for k in filed.proving:
            self._posting(k).proving.add(key)
        for k in filed.guarded:
            self._posting(k).guarded[key] = filed.guards
        for k in filed.candidates:
            self._posting(k).candidates.add(key)
        for prefix in filed.prefixes:
            prefixes = self._posting(TEXT_PREFIX + prefix_bucket(prefix)).prefixes
            prefixes.setdefault(prefix, set()).add(key)

    def remove(self, key: K) -> None:
        """Forget the topic under `key`; KeyError if there is none."""
        del self._queries[key], self._matchers[key]
        filed = self._filing.pop(key)
        if filed.candidates is None:
            self._always.discard(key)
            return
        touched: set[str] = set()
        for k in filed.proving:
            self._postings[k].proving.discard(key)
            touched.add(k)
        for k in filed.guarded:
            del self._postings[k].guarded[key]
            touched.add(k)
        for k in filed.candidates:
            self._postings[k].candidates.discard(key)
            touched.add(k)
        for prefix in filed.prefixes:
            k = TEXT_PREFIX + prefix_bucket(prefix)
            prefixes = self._postings[k].prefixes
            prefixes[prefix].discard(key)
            if not prefixes[prefix]:
                del prefixes[prefix]
            touched.add(k)
        for k in touched:
            if not self._postings[k]:
                del self._postings[k]
                self._keyset.discard(k)

    def match(self, paper: Paper | PreparedPaper) -> set[K]:
        """Keys of every topic `paper` matches."""
        prepared = paper if isinstance(paper, PreparedPaper) else prepare(paper)
        postings = self._postings
        paper_keys = prepared.index_keys
        found: set[K] = set()
        check: set[K] = set(self._always)
        for k in paper_keys & self._keyset:
            posting = postings[k]
            found |= posting.proving
            check |= posting.candidates
            for prefix, keys in posting.prefixes.items():
                if has_prefix(prepared.text_raw, prefix):
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
