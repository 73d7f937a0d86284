"""Matching many topics against one batch of papers at once, with bitsets.

A digest cycle asks which of thousands of topics each of a window's papers matches. The
`TopicIndex` answers one paper at a time and needs every paper fully prepared (`prepare`);
`BatchMatcher` instead turns the batch into an inverted index over the papers, holding only
the entries the topics can ask for, with each posting a Python ``int`` used as a bitset
(bit ``i`` is the batch's paper ``i``). Each distinct node of the topics' trees is then
evaluated once for the whole batch: AND is ``&``, OR is ``|``, NOT is ``all & ~x``. Phrases
that need the text (runs of three or more stems, long phrases, author phrases) are narrowed
by bitsets first and verified only on the remaining papers, by the same tests as
`Query.matches_text`.

The result is always exactly what `Query.matches_text(prepare(paper))` says for every topic
and paper (and, with ``title_only=True``, what it says of `prepared.title_only(...)`).

Usage::

    from bot.query.batch import BatchMatcher, match_batch

    topics = {topic_id: parse_query(text) for topic_id, text in stored_topics}
    matcher = BatchMatcher(topics)      # once per set of topics ("build")
    batch = matcher.prepare(papers)     # once per batch of papers (any Sequence[Paper])
    found = matcher.match(batch)        # {topic_id: {0, 5, ...}}: positions in `papers`
    in_title = matcher.match(batch, title_only=True)  # as if the abstracts were empty
    for topic_id, positions in found.items():
        ids = [papers[i].id for i in sorted(positions)]

    found = match_batch(topics, papers)  # the same in one call

In a digest cycle this replaces, per group of topics and its window of papers, the
`TopicIndex` and the loop over `PreparedPapers`: ``found`` gives each topic's papers and
``in_title`` (a subset of ``found`` per topic) those matched by their title alone. Matching
pauses the cyclic garbage collector while it runs (see `_collector_paused`) and restores it.

Only topics matching at least one paper are keys of the result. A `PaperBatch` holds just
what its matcher's topics need, so it serves that matcher only; build a new `BatchMatcher`
(cheap: no per-paper work) when the topics change.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import chain, compress, pairwise
from operator import attrgetter, itemgetter
from typing import Generic, TypeVar

from bot.models import Paper
from bot.query.categories import paper_category_keys
from bot.query.evaluate import MAX_JOINABLE_PARTS, _name_has
from bot.query.keys import NGRAM, PREFIX_BUCKET, phrase_forms, segmentations
from bot.query.nodes import And, Category, Field, Node, Not, Or, Prefix, Terms
from bot.query.prepared import _joined, is_run, split_runs, windows
from bot.query.query import Query
from bot.query.text import camel_parts, name_tokens, stem_all, strip_latex, tokenize

K = TypeVar("K", bound=Hashable)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, restoring its state after.

    Compiling topics and indexing a batch allocate many small containers (tuples, closures,
    lists) that live until the batch is matched; each allocation burst would otherwise start
    collections that walk the whole heap of a busy bot (a third of the build time, measured).
    Nothing here creates reference cycles, so pausing loses nothing: whatever cyclic garbage
    other code made meanwhile is collected at the next collection after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_TITLE, _ABSTRACT = 0, 1
_TEXT_FIELDS: dict[Field, tuple[int, ...]] = {
    Field.ANY: (_TITLE, _ABSTRACT),
    Field.TITLE: (_TITLE,),
    Field.ABSTRACT: (_ABSTRACT,),
}
_TITLE_ONLY_FIELDS = {
    field: fields[:1] if fields[0] == _TITLE else () for field, fields in _TEXT_FIELDS.items()
}
_AUTHOR = 2  # a field number for wildcards, next to the two text fields
_bucket = itemgetter(slice(0, PREFIX_BUCKET))


def iter_bits(bits: int) -> Iterator[int]:
    """Positions of the set bits of `bits`, lowest first."""
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


_BINARY_DIGITS = bytes.maketrans(b"01", b"\x00\x01")


def positions(bits: int) -> list[int]:
    """`iter_bits` as a list, by the faster of two ways for the bitset's density."""
    count = bits.bit_count()
    if count * 5 > bits.bit_length() > 512:
        # Dense: the binary digits as 0/1 bytes select positions at C speed.
        digits = bin(bits)[2:].encode().translate(_BINARY_DIGITS)
        found = list(compress(range(len(digits) - 1, -1, -1), digits))
        found.reverse()
        return found
    # Sparse: only the nonzero 64-bit words are looked at, bit by bit, as small ints.
    raw = bits.to_bytes((bits.bit_length() + 63) // 64 * 8, "little")
    words = memoryview(raw).cast("Q")
    out: list[int] = []
    for k in compress(range(len(words)), words):
        word = words[k]
        base = k * 64
        while word:
            low = word & -word
            out.append(base + low.bit_length() - 1)
            word ^= low
    return out


class PaperBatch:
    """Papers as postings of the entries a `BatchMatcher`'s topics use; make with `prepare`."""

    __slots__ = (
        "_names",
        "authors",
        "categories",
        "count",
        "entries",
        "lines",
        "names",
        "prefixes",
    )

    def __init__(self, count: int) -> None:
        self.count = count
        # Per text field (title, abstract): bag entry -> bitset, and each paper's `line`.
        self.entries: tuple[dict[str, int], dict[str, int]] = ({}, {})
        self.lines: tuple[list[str], list[str]] = ([], [])
        # (field, wildcard prefix) -> bitset; field is _TITLE, _ABSTRACT or _AUTHOR.
        self.prefixes: dict[tuple[int, str], int] = {}
        self.authors: dict[str, int] = {}  # author-name token -> bitset
        self.categories: dict[str, int] = {}
        # Each paper's author names as tokens, when the topics look at authors.
        self.names: list[tuple[tuple[str, ...], ...]] = []

    @property
    def all(self) -> int:
        return (1 << self.count) - 1

    def __len__(self) -> int:
        return self.count


class _Vocabulary:
    """What the topics can ask a paper for."""

    def __init__(self) -> None:
        self.words: set[str] = set()  # bag entries without a space, text fields
        self.pairs: set[str] = set()  # "a b" bag entries (and the pairs inside runs)
        self.authors: set[str] = set()
        self.categories: set[str] = set()
        # bucket -> prefixes in it, per field (_TITLE, _ABSTRACT, _AUTHOR)
        self.prefixes: tuple[dict[str, set[str]], ...] = ({}, {}, {})

    def add_entries(self, entries: frozenset[str]) -> None:
        for entry in entries:
            if " " not in entry:
                self.words.add(entry)
            elif not is_run(entry):
                self.pairs.add(entry)
            else:
                self.pairs.update(windows(entry.split(" "), 2))

    def add_prefix(self, field: int, prefix: str) -> None:
        self.prefixes[field].setdefault(_bucket(prefix), set()).add(prefix)


Plan = Callable[[PaperBatch, bool], int]  # (batch, title_only) -> bitset


def _text_bits(batch: PaperBatch, fields: tuple[int, ...], words: Sequence[str]) -> int:
    bits = 0
    for f in fields:
        get = batch.entries[f].get
        for word in words:
            bits |= get(word, 0)
    return bits


def _fields(field: Field, title_only: bool) -> tuple[int, ...]:
    """The text fields to look in; with `title_only`, abstracts are empty."""
    return _TITLE_ONLY_FIELDS[field] if title_only else _TEXT_FIELDS[field]


def _run_bits(
    batch: PaperBatch, fields: tuple[int, ...], runs: Sequence[tuple[tuple[str, ...], str]]
) -> int:
    """Papers where one of `runs` ((pairs, needle)) is in the line of one of `fields`."""
    bits = 0
    for f in fields:
        entries, lines = batch.entries[f], batch.lines[f]
        for pairs, needle in runs:
            candidates = batch.all
            for pair in pairs:
                candidates &= entries.get(pair, 0)
                if not candidates:
                    break
            candidates &= ~bits
            for i in iter_bits(candidates):
                if needle in lines[i]:
                    bits |= 1 << i
    return bits


def _split(
    entries: frozenset[str],
) -> tuple[tuple[str, ...], tuple[tuple[tuple[str, ...], str], ...]]:
    words, runs = split_runs(entries)
    return tuple(sorted(words)), tuple((tuple(sorted(p)), needle) for p, needle in runs)


def _entries_plan(field: Field, entries: frozenset[str], vocab: _Vocabulary) -> Plan:
    """Any of `entries` (bag entries, runs included) in the field."""
    vocab.add_entries(entries)
    words, runs = _split(entries)

    def plan(batch: PaperBatch, title_only: bool) -> int:
        fields = _fields(field, title_only)
        bits = _text_bits(batch, fields, words)
        return bits | _run_bits(batch, fields, runs) if runs else bits

    return plan


@lru_cache(maxsize=4096)
def _needles(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Ways of writing a long phrase that bags cannot hold, as `line` needles (see `_Phrase`)."""
    ways = segmentations(tokens) if len(tokens) <= MAX_JOINABLE_PARTS else [tokens]
    return tuple(f" {' '.join(way)} " for way in ways if len(way) > NGRAM)


def _phrase_plan(node: Terms, vocab: _Vocabulary) -> Plan:
    """A text phrase of more than `keys.NGRAM` parts (see `evaluate._Phrase`)."""
    tokens = node.tokens
    forms = phrase_forms(tokens)
    vocab.add_entries(forms.exact)
    vocab.add_entries(forms.keys)
    exact_words, exact_runs = _split(forms.exact)
    key_words, key_runs = _split(forms.keys)
    needles = _needles(tokens)
    field = node.field

    def plan(batch: PaperBatch, title_only: bool) -> int:
        fields = _fields(field, title_only)
        if not fields:
            return 0
        bits = _text_bits(batch, fields, exact_words) | _run_bits(batch, fields, exact_runs)
        # As `_Phrase.found_in`: the keys (over all the fields' bags together) rule papers
        # out, then a way of writing the phrase is searched for in each line.
        candidates = _text_bits(batch, fields, key_words) | _run_bits(batch, fields, key_runs)
        candidates &= ~bits
        lines = [batch.lines[f] for f in fields]
        for i in iter_bits(candidates):
            if any(needle in ls[i] for ls in lines for needle in needles):
                bits |= 1 << i
        return bits

    return plan


def _author_plan(node: Terms, vocab: _Vocabulary) -> Plan:
    tokens = node.tokens
    if not node.is_phrase:
        (token,) = tokens
        vocab.authors.add(token)
        return lambda batch, _: batch.authors.get(token, 0)
    full = tuple(sorted({t for t in tokens if len(t) > 1}))
    vocab.authors.update(full)

    def plan(batch: PaperBatch, _: bool) -> int:
        candidates = batch.all
        for t in full:
            candidates &= batch.authors.get(t, 0)
        bits = 0
        for i in iter_bits(candidates):
            if any(_name_has(name, tokens) for name in batch.names[i]):
                bits |= 1 << i
        return bits

    return plan


def _prefix_plan(node: Prefix, vocab: _Vocabulary) -> Plan:
    prefix = node.prefix
    if node.field is Field.AUTHOR:
        vocab.add_prefix(_AUTHOR, prefix)
        key = (_AUTHOR, prefix)
        return lambda batch, _: batch.prefixes.get(key, 0)
    field = node.field
    for f in _TEXT_FIELDS[field]:
        vocab.add_prefix(f, prefix)

    def plan(batch: PaperBatch, title_only: bool) -> int:
        bits = 0
        for f in _fields(field, title_only):
            bits |= batch.prefixes.get((f, prefix), 0)
        return bits

    return plan


def _leaf_plan(node: Terms | Prefix | Category, vocab: _Vocabulary) -> Plan:
    if isinstance(node, Category):
        key = node.key
        vocab.categories.add(key)
        return lambda batch, _: batch.categories.get(key, 0)
    if isinstance(node, Prefix):
        return _prefix_plan(node, vocab)
    if node.field is Field.AUTHOR:
        return _author_plan(node, vocab)
    if not node.is_phrase:
        return _entries_plan(node.field, frozenset(node.tokens), vocab)
    forms = phrase_forms(node.tokens)
    if forms.complete:
        return _entries_plan(node.field, forms.exact, vocab)
    return _phrase_plan(node, vocab)


# One step of evaluation: (slot, operation, leaf plan or child slots).
_LEAF, _AND, _OR, _NOT = range(4)
_Step = tuple[int, int, Plan | None, tuple[int, ...]]


class BatchMatcher(Generic[K]):
    """Topics by caller-chosen key, compiled for matching batches of papers."""

    def __init__(self, topics: Mapping[K, Query]) -> None:
        self._vocab = _Vocabulary()
        self._uses_authors = False
        self._slots: dict[Node, int] = {}
        self._steps: list[_Step] = []
        self._roots: dict[K, int] = {}
        by_canonical: dict[str, int] = {}  # equal queries share a canonical form
        with _collector_paused():
            for key, query in topics.items():
                slot = by_canonical.get(query.canonical)
                if slot is None:
                    slot = by_canonical[query.canonical] = self._compile(query.root)
                self._roots[key] = slot
        v = self._vocab
        # Sets, not frozensets: `set.intersection` gives a set, which `prepare` extends.
        self._words = v.words
        self._pairs = v.pairs
        self._authors = v.authors
        self._categories = v.categories
        self._prefixes = v.prefixes
        self._buckets = tuple(frozenset(p) for p in v.prefixes)

    def __len__(self) -> int:
        return len(self._roots)

    def _compile(self, node: Node) -> int:
        slot = self._slots.get(node)
        if slot is not None:
            return slot
        if isinstance(node, Terms | Prefix) and node.field is Field.AUTHOR:
            self._uses_authors = True
        if isinstance(node, Not):
            step: _Step = (0, _NOT, None, (self._compile(node.child),))
        elif isinstance(node, And | Or):
            children = tuple(self._compile(c) for c in node.children)
            step = (0, _AND if isinstance(node, And) else _OR, None, children)
        else:
            step = (0, _LEAF, _leaf_plan(node, self._vocab), ())
        slot = self._slots[node] = len(self._steps)
        self._steps.append((slot, *step[1:]))
        return slot

    # --- papers ------------------------------------------------------------------------------

    def prepare(self, papers: Sequence[Paper]) -> PaperBatch:
        """Tokenise `papers` into postings of the entries this matcher's topics use."""
        with _collector_paused():
            return self._prepare(papers)

    def _prepare(self, papers: Sequence[Paper]) -> PaperBatch:
        batch = PaperBatch(len(papers))
        fields = ((_TITLE, attrgetter("title")), (_ABSTRACT, attrgetter("abstract")))
        au_buckets = self._buckets[_AUTHOR]
        authors, categories = self._authors, self._categories
        au_postings, cat_postings = batch.authors, batch.categories
        names = batch.names
        uses_authors = self._uses_authors
        for i, paper in enumerate(papers):
            bit = 1 << i
            for f, attr in fields:
                self._add_text(batch, f, attr(paper), bit)
            if uses_authors:
                names.append(name_tokens(paper.authors))
            if paper.authors and (authors or au_buckets):
                tokens = [t for name in names[i] for t in name]
                for t in authors.intersection(tokens):
                    au_postings[t] = au_postings.get(t, 0) | bit
                if au_buckets:
                    self._add_prefixes(batch, _AUTHOR, tokens, bit)
            if categories:
                cats = paper_category_keys(paper.categories, paper.primary_category)
                for c in categories.intersection(cats):
                    cat_postings[c] = cat_postings.get(c, 0) | bit
        return batch

    def _add_text(self, batch: PaperBatch, f: int, text: str, bit: int) -> None:
        lines = batch.lines[f]
        if not text:
            lines.append("  ")
            return
        # As `prepared._field_text`, keeping only what the topics can ask for.
        text = strip_latex(text)
        tokens = tokenize(text)
        stems = stem_all(tokens)
        lines.append(f" {' '.join(stems)} ")
        joined = _joined(tokens)
        parts = camel_parts(text) if not text.islower() else []
        postings = batch.entries[f]
        words = self._words
        hits = words.intersection(stems)
        if joined:
            hits.update(words.intersection(stem_all(joined)))
        if parts:
            hits.update(words.intersection(stem_all(parts)))
        if self._pairs and len(stems) > 1:
            hits.update(self._pairs.intersection(map(" ".join, pairwise(stems))))
        get = postings.get
        for entry in hits:
            postings[entry] = get(entry, 0) | bit
        if self._buckets[f]:
            self._add_prefixes(batch, f, chain(tokens, joined, parts), bit)

    def _add_prefixes(
        self, batch: PaperBatch, f: int, raw: Iterator[str] | list[str], bit: int
    ) -> None:
        raw = list(raw)
        buckets = self._buckets[f]
        found = set(compress(raw, map(buckets.__contains__, map(_bucket, raw))))
        if not found:
            return
        by_bucket = self._prefixes[f]
        postings = batch.prefixes
        done: set[str] = set()
        for token in found:
            for prefix in by_bucket[_bucket(token)]:
                if prefix not in done and token.startswith(prefix):
                    done.add(prefix)
                    key = (f, prefix)
                    postings[key] = postings.get(key, 0) | bit

    # --- matching ----------------------------------------------------------------------------

    def match_bits(self, batch: PaperBatch, *, title_only: bool = False) -> dict[K, int]:
        """Each topic's matching papers as a bitset (bit i: `papers[i]`), zeros included."""
        everything = batch.all
        values = [0] * len(self._steps)
        for slot, op, plan, children in self._steps:
            if op == _LEAF:
                assert plan is not None
                values[slot] = plan(batch, title_only)
            elif op == _AND:
                bits = values[children[0]]
                for c in children[1:]:
                    if not bits:
                        break
                    bits &= values[c]
                values[slot] = bits
            elif op == _OR:
                bits = 0
                for c in children:
                    bits |= values[c]
                values[slot] = bits
            else:
                values[slot] = everything & ~values[children[0]]
        return {key: values[slot] for key, slot in self._roots.items()}

    def match(self, batch: PaperBatch, *, title_only: bool = False) -> dict[K, set[int]]:
        """Positions in the batch of the papers each topic matches, for topics matching any.

        With `title_only`, as if every paper's abstract were empty (`prepared.title_only`).
        """
        with _collector_paused():
            return self._match(batch, title_only)

    def _match(self, batch: PaperBatch, title_only: bool) -> dict[K, set[int]]:
        found: dict[K, set[int]] = {}
        done: dict[int, set[int]] = {}
        for key, bits in self.match_bits(batch, title_only=title_only).items():
            if bits:
                known = done.get(bits)
                if known is None:
                    known = done[bits] = set(positions(bits))
                    found[key] = known
                else:
                    found[key] = set(known)
        return found


def match_batch(topics: Mapping[K, Query], papers: Sequence[Paper]) -> dict[K, set[int]]:
    """`BatchMatcher(topics).match(...)` of `papers`: positions in `papers` per topic."""
    matcher = BatchMatcher(topics)
    return matcher.match(matcher.prepare(papers))
