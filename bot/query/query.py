"""`Query`: a parsed topic query, and `parse_query` to make one."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

from bot.errors import InvalidQuery
from bot.models import Paper
from bot.query.evaluate import Matcher, compile_node
from bot.query.nodes import Category, Node, positive_leaves
from bot.query.parser import MAX_LENGTH, parse_with_warnings
from bot.query.prepared import PreparedPaper, prepare
from bot.query.render import canonical, describe


@dataclass(frozen=True, eq=False)
class Query:
    """A parsed topic query. Immutable; equal when the parsed trees are equal.

    `text` is what the user typed; `canonical` is a normalised spelling, equal for equal
    queries and parsed back by `parse_query` to an equal Query, fit for use as a storage key.
    `warnings` says what in `text` probably does not mean what was intended (a lower-case
    ``or`` between words is searched as a word: "did you mean OR?"); they change nothing in
    the meaning and take no part in equality.
    """

    text: str
    root: Node
    canonical: str = dataclasses.field(init=False)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "canonical", canonical(self.root))

    @cached_property
    def matcher(self) -> Matcher:
        """The compiled test, built on first use: a `TopicIndex` decides most topics by key
        lookups alone, and thousands of unused closures would only burden the garbage
        collector."""
        return compile_node(self.root)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Query):
            return NotImplemented
        return self.root == other.root

    def __hash__(self) -> int:
        return hash(self.root)

    def __repr__(self) -> str:
        return f"Query({self.canonical!r})"

    def matches(self, paper: Paper) -> bool:
        """Whether `paper` matches; prepare papers once with `prepare` when testing many topics."""
        return self.matcher(prepare(paper))

    def matches_text(self, prepared: PreparedPaper) -> bool:
        return self.matcher(prepared)

    def categories(self) -> frozenset[str]:
        """Categories the query asks for, such as {"cs.CV", "cs.*"}.

        Excluded categories (`-cat:cs.RO`) are left out: this answers "which listings can hold
        a match", so only categories that can make the query match count.
        """
        return frozenset(
            leaf.value for leaf in positive_leaves(self.root) if isinstance(leaf, Category)
        )

    def describe(self) -> str:
        """How the query was understood, in plain English (at most about 300 characters)."""
        return describe(self.root)


def parse_query(text: str) -> Query:
    """Parse a topic query; raise `bot.errors.InvalidQuery` saying what is wrong and where."""
    root, warnings = parse_with_warnings(text)
    query = Query(text, root, warnings)
    if len(query.canonical) > MAX_LENGTH:
        # Rare (normalising can lengthen text, e.g. "ß" -> "ss"), but the canonical form must
        # stay within the limit for it to parse again.
        raise InvalidQuery(
            f"the query is too long once normalised (the limit is {MAX_LENGTH} characters)", text
        )
    return query


def query_warnings(text: str) -> tuple[str, ...]:
    """The `Query.warnings` of `text`, or none when it does not parse."""
    try:
        return parse_query(text).warnings
    except InvalidQuery:
        return ()
