"""Compiling a node tree into a matcher function over a `PreparedPaper`.

A topic is compiled once and then run against thousands of papers, so the tree is turned into
nested closures with the field lookups resolved up front, and plain words under one AND/OR are
folded into a single set operation (`required <= bag`, `not wanted.isdisjoint(bag)`). Runs of
three or more stems are not in bags (see `bot.query.prepared`); they are looked for in the
field's `line` instead.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from operator import attrgetter

from bot.query.keys import NGRAM, phrase_forms, segmentations
from bot.query.nodes import And, Category, Field, Node, Not, Or, Prefix, Terms
from bot.query.prepared import PreparedPaper, Run, has_run, split_runs

Matcher = Callable[[PreparedPaper], bool]
BagOf = Callable[[PreparedPaper], frozenset[str]]

# attrgetter is implemented in C: cheaper than a lambda in code that runs millions of times.
_BAGS: dict[Field, BagOf] = {
    Field.ANY: attrgetter("index_keys"),  # holds the title and abstract bags (see prepare)
    Field.TITLE: attrgetter("title_bag"),
    Field.ABSTRACT: attrgetter("abstract.bag"),
    Field.AUTHOR: attrgetter("author_bag"),
    Field.CATEGORY: attrgetter("categories"),
}


# Where runs of stems are searched for: the keys holding every pair of adjacent stems of the
# fields' texts (to rule out most papers without a search), and the fields' lines. Author and
# category entries are never runs.
_RUN_PLACES: dict[Field, Callable[[PreparedPaper], tuple[frozenset[str], tuple[str, ...]]]] = {
    Field.ANY: lambda p: (p.index_keys, (p.title.line, p.abstract.line)),
    Field.TITLE: lambda p: (p.title_bag, (p.title.line,)),
    Field.ABSTRACT: lambda p: (p.index_keys, (p.abstract.line,)),  # holds the abstract's pairs
}


def compile_node(node: Node) -> Matcher:
    if isinstance(node, Not):
        inner = compile_node(node.child)
        return lambda p: not inner(p)
    if isinstance(node, And | Or):
        return _compile_group(node)
    if isinstance(node, Category):
        return _set_check(Field.CATEGORY, frozenset({node.key}), is_and=True)
    if isinstance(node, Prefix):
        return _compile_prefix(node)
    forms = _bag_forms(node)
    if forms is not None:
        return _set_check(node.field, forms, is_and=False)
    return _compile_terms(node)


def _bag_forms(node: Node) -> frozenset[str] | None:
    """Bag entries of which a paper needs just one, when a bag lookup decides the node.

    That is a word, a category, or a text phrase of up to `keys.NGRAM` parts (see
    `keys.PhraseForms`); author phrases have rules of their own.
    """
    if isinstance(node, Category):
        return frozenset({node.key})
    if not isinstance(node, Terms):
        return None
    if not node.is_phrase:
        return frozenset(node.tokens)
    if node.field is not Field.AUTHOR:
        forms = phrase_forms(node.tokens)
        return forms.exact if forms.complete else None
    return None


def _compile_group(node: And | Or) -> Matcher:
    is_and = isinstance(node, And)
    required: dict[Field, set[str]] = {}  # AND: all of these words
    wanted: dict[Field, set[str]] = {}  # OR: any of these entries
    checks: list[Matcher] = []
    rest: list[Matcher] = []
    for child in node.children:
        forms = _bag_forms(child)
        field = child.field if isinstance(child, Terms | Category) else Field.ANY
        if forms is None:
            rest.append(compile_node(child))
        elif not is_and:
            wanted.setdefault(field, set()).update(forms)
        elif len(forms) == 1:
            required.setdefault(field, set()).update(forms)
        else:
            checks.append(_set_check(field, forms, is_and=False))
    # Set tests are cheapest and most often decisive, so they run first.
    sets = [_set_check(f, frozenset(ws), is_and=True) for f, ws in required.items()]
    sets += [_set_check(f, frozenset(ws), is_and=False) for f, ws in wanted.items()]
    ordered = sets + checks + rest
    return _all(ordered) if is_and else _any(ordered)


def _in_abstract(p: PreparedPaper, entry: str, needle: str) -> bool:
    # Called when `index_keys` (the title's and the abstract's bags) holds the entry: unless
    # the title holds it too, the abstract does. Otherwise the abstract's `line` settles its
    # stems and pairs, and only joined words and CamelCase parts need the abstract's own bag.
    return entry not in p.title_bag or needle in p.abstract.line or entry in p.abstract.bag


def _abstract_check(words: frozenset[str], runs: tuple[Run, ...], is_and: bool) -> Matcher:
    """`_set_check` for `abs:`, without building the abstract's bag in the common cases."""
    checks = tuple((w, f" {w} ") for w in sorted(words))
    if is_and:
        return lambda p: (
            words <= p.index_keys
            and all(_in_abstract(p, w, n) for w, n in checks)
            and all(has_run((r,), p.index_keys, (p.abstract.line,)) for r in runs)
        )
    return lambda p: (
        (
            not words.isdisjoint(p.index_keys)
            and any(w in p.index_keys and _in_abstract(p, w, n) for w, n in checks)
        )
        or has_run(runs, p.index_keys, (p.abstract.line,))
    )


def _set_check(field: Field, entries: frozenset[str], is_and: bool) -> Matcher:
    """All (`is_and`) or any of `entries` are in the paper's bag for `field`."""
    bag = _BAGS[field]
    words, runs = split_runs(entries)
    if field is Field.ABSTRACT:
        return _abstract_check(words, runs, is_and)
    if runs:
        places = _RUN_PLACES[field]
        if is_and:
            return lambda p: words <= bag(p) and all(has_run((r,), *places(p)) for r in runs)
        return lambda p: not words.isdisjoint(bag(p)) or has_run(runs, *places(p))
    if len(entries) == 1:
        (entry,) = entries
        return lambda p: entry in bag(p)
    if is_and:
        return lambda p: entries <= bag(p)
    return lambda p: not entries.isdisjoint(bag(p))


def _all(ms: Sequence[Matcher]) -> Matcher:
    if len(ms) == 1:
        return ms[0]
    if len(ms) == 2:
        a, b = ms
        return lambda p: a(p) and b(p)

    def all_of(p: PreparedPaper) -> bool:
        return all(m(p) for m in ms)

    return all_of


def _any(ms: Sequence[Matcher]) -> Matcher:
    if len(ms) == 1:
        return ms[0]
    if len(ms) == 2:
        a, b = ms
        return lambda p: a(p) or b(p)

    def any_of(p: PreparedPaper) -> bool:
        return any(m(p) for m in ms)

    return any_of


def _compile_prefix(node: Prefix) -> Matcher:
    prefix = node.prefix
    if node.field is Field.AUTHOR:
        return lambda p: has_prefix(p.author_raw, prefix)
    if node.field is Field.TITLE:
        return lambda p: has_prefix(p.title.raw, prefix)
    if node.field is Field.ABSTRACT:
        return lambda p: has_prefix(p.abstract.raw, prefix)
    return lambda p: has_prefix(p.abstract.raw, prefix) or has_prefix(p.title.raw, prefix)


def has_prefix(sorted_tokens: tuple[str, ...], prefix: str) -> bool:
    i = bisect_left(sorted_tokens, prefix)
    return i < len(sorted_tokens) and sorted_tokens[i].startswith(prefix)


def _compile_terms(node: Terms) -> Matcher:
    """Phrases a bag lookup cannot decide: author phrases and long text phrases."""
    tokens = node.tokens
    if node.field is Field.AUTHOR:
        # Parts longer than an initial must appear as they are: a cheap test that rejects
        # most papers before the per-author scan.
        full = frozenset(t for t in tokens if len(t) > 1)
        return lambda p: full <= p.author_bag and any(_name_has(n, tokens) for n in p.authors)
    phrase = _Phrase(tokens)
    if node.field is Field.TITLE:
        return lambda p: phrase.found_in(p.title_bag, (p.title.line,))
    if node.field is Field.ABSTRACT:
        return lambda p: phrase.found_in(p.abstract.bag, (p.abstract.line,))
    # Found in the title or in the abstract: `index_keys` holds both bags, and a way of
    # writing the phrase is searched for in each line.
    return lambda p: phrase.found_in(p.index_keys, (p.title.line, p.abstract.line))


# Up to this many parts, a phrase matches with any adjacent parts joined; longer phrases (a
# pasted title, say) only as written or fully joined, since the ways to join grow like
# Fibonacci numbers.
MAX_JOINABLE_PARTS = 10


class _Phrase:
    """A text phrase that a bag lookup alone cannot decide (more than `keys.NGRAM` parts).

    See `keys.PhraseForms` for what counts as a match. Ways of writing the phrase in more
    tokens than the bag's n-grams hold are searched for as substrings (" a b c d e ") of the
    field's `line`, which is one C-level scan each.
    """

    __slots__ = ("complete", "exact", "exact_runs", "key_runs", "keys", "needles")

    def __init__(self, tokens: tuple[str, ...]) -> None:
        forms = phrase_forms(tokens)
        self.complete = forms.complete
        self.exact, self.exact_runs = split_runs(forms.exact)
        self.keys, self.key_runs = split_runs(forms.keys)
        ways = segmentations(tokens) if len(tokens) <= MAX_JOINABLE_PARTS else [tokens]
        self.needles = tuple(f" {' '.join(way)} " for way in ways if len(way) > NGRAM)

    def found_in(self, bag: frozenset[str], lines: tuple[str, ...]) -> bool:
        """Whether the phrase is in a field with this bag and line (or in any of several)."""
        if not self.exact.isdisjoint(bag) or has_run(self.exact_runs, bag, lines):
            return True
        if self.complete or (self.keys.isdisjoint(bag) and not has_run(self.key_runs, bag, lines)):
            return False
        return any(needle in line for line in lines for needle in self.needles)


def _name_has(name: tuple[str, ...], query: tuple[str, ...]) -> bool:
    """`query` appears in order within one author's name.

    Middle initials in the name may be skipped ("geoffrey hinton" finds "Geoffrey E. Hinton"),
    and a single letter in the query stands for any name part with that initial ("g hinton").
    """
    for start, part in enumerate(name):
        if not _same_name_part(query[0], part):
            continue
        i = start + 1
        for wanted in query[1:]:
            while i < len(name) and len(name[i]) == 1 and not _same_name_part(wanted, name[i]):
                i += 1
            if i < len(name) and _same_name_part(wanted, name[i]):
                i += 1
            else:
                break
        else:
            return True
    return False


def _same_name_part(wanted: str, part: str) -> bool:
    return wanted == part or (len(wanted) == 1 and part.startswith(wanted))
