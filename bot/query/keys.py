"""Index keys: strings a paper is guaranteed to carry whenever a query can match it.

A paper's keys (see `PreparedPaper.index_keys`) live in namespaces told apart by a leading
control character, which no token can contain:

* a title/abstract bag entry as it is: a stem ("diffusion"), a joined form ("lipsync"), or
  adjacent stems ("talking head", "neural radiance field");
* `TITLE` + an entry of the title's bag alone;
* `TEXT_PREFIX` + the first 3 characters of a title/abstract token, for wildcards;
* `AUTHOR` + an author-name token, `AUTHOR_PREFIX` + its first 3 characters, and
  `AUTHOR_PAIR` + two tokens (of two or more letters) of the same author's name, sorted;
* `CATEGORY` + a lower-cased category or "archive.*".

`query_keys` derives, for a query, a set of keys such that every matching paper contains at
least one of them; the index files the query under each. Soundness is what matters (a key set
that some matching paper lacks loses matches); selectivity only saves work. `filing` also
finds the alternatives of a query that a key proves outright, so the index can skip
evaluating them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, pairwise, product

from bot.query.nodes import MIN_PREFIX, And, Category, Field, Node, Not, Or, Prefix, Terms
from bot.query.text import STOPWORDS, stem

TEXT_PREFIX = "\x01"
AUTHOR = "\x02"
AUTHOR_PREFIX = "\x03"
AUTHOR_PAIR = "\x06"
CATEGORY = "\x04"
TITLE = "\x05"

PREFIX_BUCKET = MIN_PREFIX  # so every wildcard prefix fills a whole bucket


def prefix_bucket(token: str) -> str:
    return token[:PREFIX_BUCKET]


# Words so frequent in arXiv abstracts that filing a topic under them would make it a candidate
# for most papers. Used only to rank keys: a topic made of nothing else still gets indexed.
# fmt: off
_COMMON = frozenset(stem(w) for w in (
    "model", "method", "approach", "learning", "deep", "neural", "network", "data", "result",
    "based", "using", "propose", "proposed", "paper", "performance", "task", "framework",
    "training", "large", "new", "novel", "show", "state", "art", "existing", "dataset",
    "benchmark", "experiment", "evaluation", "analysis", "system", "problem", "information",
    "time", "high", "quality", "work", "study", "use", "different", "also", "two", "first", "one",
    "however", "multi", "efficient", "effective", "demonstrate", "significantly", "generation",
    "image", "language", "video", "text", "learn", "generate", "trained", "algorithm",
    "representation", "feature", "accuracy", "improve", "further", "provide", "present", "recent",
    "various", "both", "well", "specific", "across", "between", "structure", "process", "real",
    "world",
))
# fmt: on

Keys = frozenset[str]


def _word_rank(word: str) -> int:
    """Higher means rarer-looking: longer words, and never stop words or common words."""
    if word in STOPWORDS:
        return 0
    if word in _COMMON:
        return 10 + min(len(word), 9)
    return 30 + min(len(word), 20)


@lru_cache(maxsize=1 << 16)  # the same keys come up again and again while filing topics
def _rank(key: str) -> int:
    head = key[:1]
    if head == TITLE:
        return _rank(key[1:]) + 10  # a title holds far fewer words than an abstract
    if head in (AUTHOR, AUTHOR_PAIR):
        return 60 + len(key)  # surnames are far rarer than any topic word
    if head in (TEXT_PREFIX, AUTHOR_PREFIX):
        return 8  # a 3-letter bucket holds many different words
    if " " in key:  # adjacent words are rarer than any one of them
        words = key.split(" ")
        return max(map(_word_rank, words)) + 15 * (len(words) - 1)
    if head == CATEGORY:
        # Whole archives are huge; a subject class like cs.CV is still a fifth of cs.
        return 5 if key.endswith(".*") else 20
    return _word_rank(key)


def key_rank(key: str) -> int:
    """How selective one key is: higher is rarer-looking."""
    return _rank(key)


def key_set_rank(keys: Keys) -> tuple[int, int]:
    """How selective filing under `keys` is: its weakest key first, then fewer keys."""
    return (min(map(_rank, keys)), -len(keys))


def query_keys(node: Node) -> Keys | None:
    """Keys such that any paper matching `node` has at least one; None if none can be found."""
    if isinstance(node, Not):
        return None  # an absence is never in a paper's keys
    if isinstance(node, Or):
        union: set[str] = set()
        for child in node.children:
            keys = query_keys(child)
            if keys is None:
                return None
            union |= keys
        return frozenset(union)
    if isinstance(node, And):
        # Any one required child suffices; prefer the most selective.
        options = [k for k in map(query_keys, node.children) if k]
        return max(options, key=key_set_rank) if options else None
    if isinstance(node, Category):
        return frozenset({CATEGORY + node.key})
    if isinstance(node, Prefix):
        ns = AUTHOR_PREFIX if node.field is Field.AUTHOR else TEXT_PREFIX
        return frozenset({ns + prefix_bucket(node.prefix)})
    return _terms_keys(node)


def proving_keys(node: Node) -> Keys | None:
    """Keys whose presence proves `node` matches, when a bag lookup decides it; else None.

    True of words and phrases of up to three words in title-or-abstract or in the title,
    single author words, and categories.
    """
    if isinstance(node, Category):
        return frozenset({CATEGORY + node.key})
    if not isinstance(node, Terms) or node.field is Field.ABSTRACT:
        return None
    if node.field is Field.AUTHOR:
        return frozenset({AUTHOR + node.tokens[0]}) if not node.is_phrase else None
    if node.is_phrase:
        forms = phrase_forms(node.tokens)
        if not forms.complete:
            return None
        entries = forms.exact
    else:
        entries = frozenset(node.tokens)
    return _in_field(node.field, entries)


def _in_field(field: Field, entries: Keys) -> Keys:
    if field is Field.TITLE:
        return frozenset(TITLE + e for e in entries)
    return entries


Clause = tuple[Keys, bool]  # (entries, positive): any of them present / none present


@dataclass(frozen=True, slots=True)
class Filing:
    """Where the index files one query, and how much of it a lookup decides.

    The query matches a paper if:

    * a `proving` key is present; or
    * a token starts with one of `prefixes` (title-or-abstract wildcards); or
    * a `guarded` key is present and every clause of `guards` holds (the query is an AND of
      clauses that set tests decide, such as `"talking head" cat:cs.CV -survey`); or
    * a `candidates` key is present and a full evaluation says so. None means: evaluate
      against every paper.
    """

    proving: Keys = frozenset()
    prefixes: Keys = frozenset()
    guarded: Keys = frozenset()
    guards: tuple[Clause, ...] = ()
    candidates: Keys | None = frozenset()


def filing(node: Node) -> Filing:
    """Work out which parts of a query a lookup proves and which need evaluating."""
    if isinstance(node, And):
        clauses = [_clause(child) for child in node.children]
        if all(c is not None for c in clauses):
            decided = [c for c in clauses if c is not None]
            positive = [c for c in decided if c[1]]
            if positive:  # always true of parsed queries, which need a positive term
                best = max(positive, key=lambda c: key_set_rank(c[0]))
                guards = tuple(c for c in decided if c is not best)
                return Filing(guarded=best[0], guards=guards)
        return Filing(candidates=query_keys(node))
    proving: set[str] = set()
    prefixes: set[str] = set()
    candidates: set[str] = set()
    for branch in node.children if isinstance(node, Or) else (node,):
        keys = proving_keys(branch)
        if keys is not None:
            proving |= keys
        elif isinstance(branch, Prefix) and branch.field is Field.ANY:
            prefixes.add(branch.prefix)
        else:
            keys = query_keys(branch)
            if keys is None:
                return Filing(candidates=None)
            candidates |= keys
    return Filing(frozenset(proving), frozenset(prefixes), candidates=frozenset(candidates))


def _clause(node: Node) -> Clause | None:
    """`node` as "any of these keys present" (or, under NOT, "none"), if lookups decide it."""
    positive = not isinstance(node, Not)
    if isinstance(node, Not):
        node = node.child
    keys: set[str] = set()
    for alternative in node.children if isinstance(node, Or) else (node,):
        found = proving_keys(alternative)
        if found is None:
            return None
        keys |= found
    return frozenset(keys), positive


def _terms_keys(node: Terms) -> Keys | None:
    tokens = node.tokens
    if node.field is Field.AUTHOR:
        if len(tokens) == 1:
            return frozenset({AUTHOR + tokens[0]})
        # In author phrases a single letter matches any name starting with it ("g hinton"),
        # so only longer tokens are certain to appear as they are; two of them must appear in
        # the same author's name, which is far more selective than either alone.
        full = sorted({t for t in tokens if len(t) > 1}, key=len, reverse=True)
        if len(full) >= 2:
            return frozenset({author_pair(full[0], full[1])})
        return frozenset({AUTHOR + full[0]}) if full else None
    entries = frozenset(tokens) if len(tokens) == 1 else phrase_forms(tokens).keys
    return _in_field(node.field, entries)


# Bags hold runs of up to this many consecutive stems ("a b", "a b c", "a b c d"). Four
# covers the hyphen-heavy phrases people type ("zero-shot image generation") with a bag
# lookup, at the cost of one more set entry per token.
NGRAM = 4


@dataclass(frozen=True, slots=True)
class PhraseForms:
    """How a phrase of several stems can show up in a paper's bag.

    A phrase matches as consecutive paper tokens, each standing for one part or for two
    adjacent parts written as one word ("lip sync" as "lipsync", "talking head generation" as
    "talkinghead generation"), or as the whole phrase written as one word. Bags hold runs of up
    to `NGRAM` tokens, so every way of writing the phrase in at most that many tokens is a bag
    entry: `exact` lists those, and `complete` says whether that is every way (true up to
    `NGRAM` parts), making a bag lookup the whole test. `keys` are bag entries of which every
    match holds at least one. (Phrases of more than `evaluate.MAX_JOINABLE_PARTS` parts are
    only matched as written or wholly joined.)
    """

    exact: frozenset[str]
    keys: frozenset[str]
    complete: bool


@lru_cache(maxsize=4096)
def phrase_forms(tokens: tuple[str, ...]) -> PhraseForms:
    n = len(tokens)
    exact = {joined_run(tokens, 0, n)}
    exact.update(" ".join(way) for way in segmentations(tokens, max_tokens=NGRAM))
    if n <= NGRAM:
        return PhraseForms(frozenset(exact), frozenset(exact), complete=True)
    return PhraseForms(frozenset(exact), _anchor_keys(tokens) | exact, complete=False)


def segmentations(
    tokens: tuple[str, ...], max_tokens: int | None = None, start: int = 0
) -> list[tuple[str, ...]]:
    """Ways to write tokens[start:] as paper tokens of one or two joined parts each."""
    if start == len(tokens):
        return [()]
    if max_tokens == 0:
        return []
    ways: list[tuple[str, ...]] = []
    left = None if max_tokens is None else max_tokens - 1
    for length in (1, 2):
        if start + length <= len(tokens):
            head = joined_run(tokens, start, start + length)
            ways.extend((head, *rest) for rest in segmentations(tokens, left, start + length))
    return ways


def _anchor_keys(tokens: tuple[str, ...]) -> Keys:
    """Keys for a phrase of more than `NGRAM` parts: n-grams around its rarest-looking part.

    Ways of writing the phrase in at most `NGRAM` tokens are in `exact`. Any other way has
    `NGRAM` consecutive tokens covering part `anchor`, whatever part that is; they span at
    most 2 * NGRAM parts, so windows starting up to 2 * NGRAM - 1 parts before the anchor
    cover every such way.
    """
    n = len(tokens)
    anchor = max(range(n), key=lambda i: _word_rank(tokens[i]))
    keys: set[str] = set()
    for start in range(max(0, anchor - 2 * NGRAM + 1), anchor + 1):
        for lengths in _SHAPES:
            if not anchor < start + sum(lengths) <= n:
                continue
            bounds = list(accumulate(lengths, initial=start))
            keys.add(" ".join(joined_run(tokens, a, b) for a, b in pairwise(bounds)))
    return frozenset(keys)


_SHAPES = list(product((1, 2), repeat=NGRAM))


def author_pair(one: str, other: str) -> str:
    """The key for two tokens of the same author's name, in either order."""
    return AUTHOR_PAIR + " ".join(sorted((one, other)))


def joined_run(tokens: tuple[str, ...], start: int, stop: int) -> str:
    """The paper token that stands for `tokens[start:stop]` written as one word."""
    if stop - start == 1:
        return tokens[start]
    return stem("".join(tokens[start:stop]))
