"""Recursive-descent parser from query text to a simplified node tree.

Grammar (precedence NOT > AND > OR; adjacent terms mean AND)::

    query   := or EOF
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := ("NOT" | "-") unary | primary
    primary := [field ":"] (word | "phrase" | word* | "(" or ")")

Every syntax error raises `InvalidQuery` with the offset of the offending character.
"""

from __future__ import annotations

import re
import unicodedata

from bot.errors import InvalidQuery
from bot.query.categories import CategoryError, canonical_category
from bot.query.lexer import STARS, Kind, Token, tokenize_query
from bot.query.nodes import (
    MIN_PREFIX,
    And,
    Category,
    Field,
    Node,
    Not,
    Or,
    Prefix,
    Terms,
    is_positive,
    leaves,
)
from bot.query.text import stem, tokenize

MAX_LENGTH = 500
MAX_TERMS = 64

_EXAMPLE = "e.g. diffusion -survey"
# Markup or punctuation around a word ("_diffusion_", "note:") is not worth repeating back.
_EDGE_PUNCTUATION_RE = re.compile(r"^[\W_]+|[\W_]+$")


def parse(query: str) -> Node:
    """Parse and simplify `query`, or raise InvalidQuery."""
    return parse_with_warnings(query)[0]


def parse_with_warnings(query: str) -> tuple[Node, tuple[str, ...]]:
    """`parse`, and what in the query probably does not say what was meant (`warnings`)."""
    if len(query) > MAX_LENGTH:
        raise InvalidQuery(
            f"the query is too long: {len(query)} characters (the limit is {MAX_LENGTH})",
            query,
            MAX_LENGTH,
        )
    if not query.strip():
        raise InvalidQuery("the query is empty: type a word or phrase to look for", query)
    tokens = tokenize_query(query)
    if not tokens:
        raise InvalidQuery(
            "the query has nothing to search for (only punctuation or symbols)", query
        )
    node = _Parser(query, tokens).parse()
    terms = list(leaves(node))
    if len(terms) > MAX_TERMS:
        raise InvalidQuery(
            f"too many terms: {len(terms)} (the limit is {MAX_TERMS})",
            query,
            terms[MAX_TERMS].pos,
        )
    node = simplify(node)
    if not is_positive(node):
        raise InvalidQuery(_negative_problem(node), query, _negative_spot(node).pos)
    return node, warnings(tokens)


# Operators people type in lower case out of habit; only the capitals are operators.
_OPERATOR_WORDS = {"or": "OR", "and": "AND", "not": "NOT"}
# Tokens that can end a term (before the word) and start one (after it).
_ENDS_TERM = frozenset({Kind.WORD, Kind.PHRASE, Kind.RPAREN})
_STARTS_TERM = frozenset({Kind.WORD, Kind.PHRASE, Kind.LPAREN, Kind.FIELD, Kind.NOT})


def warnings(tokens: list[Token]) -> tuple[str, ...]:
    """Warnings for a query's tokens that change nothing in its meaning: a bare ``or`` /
    ``and`` / ``not`` in any case but capitals, between two terms and outside quotes, is
    searched as a word, which is rarely what was meant ("did you mean OR?"). Each spelling
    warns once, in the order first met. A word after a field prefix or a minus ("ti:or",
    "-or") or at either end of the query or a group is plainly meant and does not warn."""
    found: dict[str, None] = {}
    for before, tok, after in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if tok.kind is not Kind.WORD or before.kind not in _ENDS_TERM:
            continue
        operator = _OPERATOR_WORDS.get(unicodedata.normalize("NFKC", tok.text).lower())
        if operator is not None and after.kind in _STARTS_TERM:
            found.setdefault(f'"{tok.text}" is searched as a word; did you mean {operator}?')
    return tuple(found)


class _Parser:
    def __init__(self, query: str, tokens: list[Token]) -> None:
        self.query = query
        self.tokens = tokens
        self.i = 0

    def error(self, problem: str, pos: int | None) -> InvalidQuery:
        return InvalidQuery(problem, self.query, pos)

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.parse_or(Field.ANY)
        tok = self.peek()
        if tok is not None:  # only a ")" can stop parse_or early
            raise self.error("unmatched closing parenthesis", tok.pos)
        return node

    def expect_operand(self, op: Token) -> None:
        nxt = self.peek()
        if nxt is None or nxt.kind in (Kind.RPAREN, Kind.OR, Kind.AND):
            if op.kind is Kind.NOT:
                raise self.error(f'"{op.text}" must be followed by a term to exclude', op.pos)
            raise self.error(f'"{op.text}" needs a term on both sides', op.pos)

    def parse_or(self, field: Field) -> Node:
        first = self.parse_and(field)
        children = [first]
        while (tok := self.peek()) is not None and tok.kind is Kind.OR:
            op = self.take()
            self.expect_operand(op)
            children.append(self.parse_and(field))
        return first if len(children) == 1 else Or(tuple(children), first.pos)

    def parse_and(self, field: Field) -> Node:
        first = self.parse_unary(field)
        children = [first]
        while (tok := self.peek()) is not None and tok.kind not in (Kind.RPAREN, Kind.OR):
            if tok.kind is Kind.AND:
                op = self.take()
                self.expect_operand(op)
            children.append(self.parse_unary(field))
        return first if len(children) == 1 else And(tuple(children), first.pos)

    def parse_unary(self, field: Field) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind is Kind.NOT:
            op = self.take()
            self.expect_operand(op)
            return Not(self.parse_unary(field), op.pos)
        return self.parse_primary(field)

    def parse_primary(self, field: Field) -> Node:
        tok = self.peek()
        if tok is None:  # unreachable after expect_operand, kept as a guard
            raise self.error("the query ends where a term was expected", len(self.query))
        if tok.kind in (Kind.OR, Kind.AND):
            raise self.error(f'"{tok.text}" needs a term on both sides', tok.pos)
        if tok.kind is Kind.RPAREN:
            raise self.error("unmatched closing parenthesis", tok.pos)
        self.take()
        if tok.kind is Kind.FIELD:
            assert tok.field is not None
            if field is not Field.ANY and tok.field is not field:
                raise self.error(
                    f"{tok.text}: cannot be used inside {field.value}:( ... )", tok.pos
                )
            nxt = self.peek()
            if nxt is None or nxt.kind not in (Kind.WORD, Kind.PHRASE, Kind.LPAREN):
                raise self.error(
                    f"{tok.text}: must be followed by a word, a phrase or a (group)", tok.pos
                )
            return self.parse_primary(tok.field)
        if tok.kind is Kind.LPAREN:
            nxt = self.peek()
            if nxt is None:
                raise self.error("unclosed parenthesis", tok.pos)
            if nxt.kind is Kind.RPAREN:
                raise self.error("empty parentheses: put a term inside or remove them", tok.pos)
            node = self.parse_or(field)
            close = self.peek()
            if close is None or close.kind is not Kind.RPAREN:
                raise self.error("unclosed parenthesis", tok.pos)
            self.take()
            return node
        return self.leaf(field, tok)

    def leaf(self, field: Field, tok: Token) -> Node:
        if field is Field.CATEGORY:
            try:
                return Category(canonical_category(tok.text), tok.pos)
            except CategoryError as exc:
                raise self.error(str(exc), tok.pos) from None
        if tok.kind is Kind.PHRASE:
            if not tok.text.strip():
                raise self.error("empty quotes: put a phrase inside them", tok.pos)
            return self.terms(field, tok.text, tok.pos, what="inside the quotes")
        star = next((k for k, ch in enumerate(tok.text) if ch in STARS), -1)
        if star < 0:
            return self.terms(field, tok.text, tok.pos, what=f"after {field.value}:")
        if any(ch not in STARS for ch in tok.text[star:]):
            raise self.error(
                "* is a suffix wildcard and can only end a word (e.g. talk*)", tok.pos + star
            )
        prefix = "".join(tokenize(tok.text[:star]))
        if len(prefix) < MIN_PREFIX:
            raise self.error(
                f"a wildcard needs at least {MIN_PREFIX} letters or digits before * (e.g. talk*)",
                tok.pos + star,
            )
        return Prefix(field, prefix, tok.pos)

    def terms(self, field: Field, text: str, pos: int, what: str) -> Terms:
        tokens = tokenize(text)
        if not tokens:
            raise self.error(f"there is nothing to search for {what}", pos)
        if field is not Field.AUTHOR:
            tokens = [stem(t) for t in tokens]
        return Terms(field, tuple(tokens), _EDGE_PUNCTUATION_RE.sub("", text), pos)


def simplify(node: Node) -> Node:
    """Flatten nested AND/OR, drop duplicate children and double negation."""
    if isinstance(node, Not):
        child = simplify(node.child)
        return child.child if isinstance(child, Not) else Not(child, node.pos)
    if isinstance(node, And | Or):
        flat: list[Node] = []
        for child in map(simplify, node.children):
            same_kind = type(child) is type(node)
            for part in child.children if isinstance(child, And | Or) and same_kind else (child,):
                if part not in flat:  # nodes compare by meaning, so "a a" is just "a"
                    flat.append(part)
        if len(flat) == 1:
            return flat[0]
        if isinstance(node, And):
            return And(tuple(flat), node.pos)
        return Or(tuple(flat), node.pos)
    return node


def _negative_spot(node: Node) -> Node:
    if isinstance(node, Or):
        for child in node.children:
            if not is_positive(child):
                return _negative_spot(child)
    return node


def _negative_problem(node: Node) -> str:
    if isinstance(node, Or):
        return (
            "each alternative of OR needs a term to look for, not only terms to exclude "
            f"({_EXAMPLE} OR flow)"
        )
    return f"the query only excludes things: add a word or phrase to look for ({_EXAMPLE})"
