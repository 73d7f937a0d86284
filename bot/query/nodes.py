"""Node types of a parsed topic query.

Nodes are immutable and compare by meaning only: the words as typed (`display`) and source
positions (`pos`) are carried for messages and descriptions but ignored by `==` and `hash`, so
two spellings of the same query give equal trees.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from dataclasses import dataclass


class Field(enum.Enum):
    """Where a term is looked for. The value is the prefix a user types (ANY has none)."""

    ANY = ""  # title or abstract
    TITLE = "ti"
    ABSTRACT = "abs"
    AUTHOR = "au"
    CATEGORY = "cat"


@dataclass(frozen=True, slots=True)
class Terms:
    """Consecutive tokens in one field: a single word, or a phrase when there are several.

    For text fields the tokens are stems; for authors they are unstemmed normalised tokens,
    because names are not plurals ("Jones" must not match "Jone").
    """

    field: Field
    tokens: tuple[str, ...]
    display: str = dataclasses.field(default="", compare=False)
    pos: int = dataclasses.field(default=0, compare=False)

    @property
    def is_phrase(self) -> bool:
        return len(self.tokens) > 1


MIN_PREFIX = 3  # letters before a wildcard's "*": shorter prefixes would match half of arXiv


@dataclass(frozen=True, slots=True)
class Prefix:
    """A suffix wildcard (`talk*`): some token in the field starts with `prefix` (unstemmed)."""

    field: Field
    prefix: str
    pos: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Category:
    """`cat:cs.CV` (exact) or `cat:cs.*` / `cat:cs` (any category of the archive).

    `value` is the canonical spelling ("cs.CV", "cs.*"); matching is case-insensitive.
    """

    value: str
    pos: int = dataclasses.field(default=0, compare=False)

    @property
    def field(self) -> Field:
        return Field.CATEGORY

    @property
    def key(self) -> str:
        return self.value.lower()


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    pos: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    pos: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    pos: int = dataclasses.field(default=0, compare=False)


Leaf = Terms | Prefix | Category
Node = Terms | Prefix | Category | Not | And | Or


def leaves(node: Node) -> Iterator[Leaf]:
    """Every leaf under `node`, left to right."""
    if isinstance(node, Not):
        yield from leaves(node.child)
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from leaves(child)
    else:
        yield node


def positive_leaves(node: Node, negated: bool = False) -> Iterator[Leaf]:
    """Leaves that are not under an odd number of NOTs (the ones that can make a match)."""
    if isinstance(node, Not):
        yield from positive_leaves(node.child, not negated)
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from positive_leaves(child, negated)
    elif not negated:
        yield node


def is_positive(node: Node) -> bool:
    """Whether every match needs some term to be present, not merely others to be absent.

    A query failing this (`NOT survey`, `diffusion OR -survey`) would match most of arXiv.
    """
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(is_positive(c) for c in node.children)
    if isinstance(node, Or):
        return all(is_positive(c) for c in node.children)
    return True


def uniform_field(node: Node) -> Field | None:
    """The field shared by every leaf under `node`, or None when they differ."""
    fields = {leaf.field for leaf in leaves(node)}
    return fields.pop() if len(fields) == 1 else None
