"""Splitting query text into tokens (words, phrases, parentheses, operators, field prefixes).

Queries arrive from chat apps, so the lexer is forgiving about what those apps do to text:
smart quotes count as quotes, fullwidth punctuation as its ASCII twin, HTML tags and entities
are dropped, control characters separate words. Every token keeps the 0-based offset of its
first character in the text as the user sent it, for error messages.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import InvalidQuery
from bot.query.nodes import Field

QUOTES = frozenset('"＂“”„‟«»〝〞〟')
LPARENS = frozenset("(（")
RPARENS = frozenset(")）")
DASHES = frozenset("-−－")  # hyphen-minus, minus sign, fullwidth
COLONS = frozenset(":：")
STARS = frozenset("*＊")

FIELD_NAMES: dict[str, Field] = {
    "ti": Field.TITLE,
    "title": Field.TITLE,
    "abs": Field.ABSTRACT,
    "abstract": Field.ABSTRACT,
    "au": Field.AUTHOR,
    "author": Field.AUTHOR,
    "cat": Field.CATEGORY,
    "category": Field.CATEGORY,
}
KNOWN_FIELDS_HINT = "ti: (title), abs: (abstract), au: (author), cat: (category)"

# Things before a colon that are not meant as fields: URL schemes and identifier prefixes.
# "arXiv:2409.03605" or "doi:10.1145/..." then become ordinary words.
_NOT_FIELDS = frozenset({"http", "https", "ftp", "mailto", "doi", "arxiv", "urn", "isbn", "www"})

_FIELD_PREFIX_RE = re.compile(r"([^\W\d_]+)[:：]", re.UNICODE)
_HAS_ALNUM_RE = re.compile(r"[^\W_]")
_SEPARATOR_RE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")  # whitespace and control characters
_HTML_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});")
_ENTITY_TEXT = {"&quot;": '"', "&apos;": "'", "&#39;": "'", "&#34;": '"'}


class Kind(enum.Enum):
    LPAREN = "("
    RPAREN = ")"
    WORD = "word"
    PHRASE = "phrase"
    FIELD = "field"
    OR = "OR"
    AND = "AND"
    NOT = "NOT"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # the word or phrase content; for operators the lexeme as typed
    pos: int  # offset in the original query text
    field: Field | None = None  # for FIELD tokens


@dataclass(frozen=True, slots=True)
class Source:
    """The text the lexer reads, and for each of its characters the original offset."""

    text: str
    origin: Sequence[int]

    def position(self, index: int) -> int:
        if index < len(self.origin):
            return self.origin[index]
        return self.origin[-1] + 1 if self.origin else 0


def _clean(original: str) -> Source:
    """Drop HTML tags and entities a chat client may have left, remembering offsets."""
    if "<" not in original and "&" not in original:
        # Nothing changes length: offsets stay as they are.
        return Source(_SEPARATOR_RE.sub(" ", original), range(len(original)))
    chars: list[str] = []
    origin: list[int] = []
    i = 0
    n = len(original)
    while i < n:
        ch = original[i]
        m = None
        if ch == "<":
            m = _HTML_TAG_RE.match(original, i)
        elif ch == "&":
            m = _ENTITY_RE.match(original, i)
        if m:
            # A tag or entity separates words, except the few entities that stand for a
            # character people type on purpose.
            chars.append(_ENTITY_TEXT.get(m.group(), " "))
            origin.append(i)
            i = m.end()
            continue
        chars.append(" " if _is_separator(ch) else ch)
        origin.append(i)
        i += 1
    return Source("".join(chars), origin)


def _is_separator(ch: str) -> bool:
    return _SEPARATOR_RE.match(ch) is not None


def has_alnum(text: str) -> bool:
    return _HAS_ALNUM_RE.search(unicodedata.normalize("NFKC", text)) is not None


def tokenize_query(query: str) -> list[Token]:
    """Split `query` into tokens; raise InvalidQuery for an unterminated quote or a bad field."""
    src = _clean(query)
    text = src.text
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            i += 1
        elif ch in LPARENS:
            tokens.append(Token(Kind.LPAREN, ch, src.position(i)))
            i += 1
        elif ch in RPARENS:
            tokens.append(Token(Kind.RPAREN, ch, src.position(i)))
            i += 1
        elif ch in QUOTES:
            end = next((j for j in range(i + 1, n) if text[j] in QUOTES), -1)
            if end < 0:
                raise InvalidQuery(
                    "unterminated quote: add the closing quote mark", query, src.position(i)
                )
            tokens.append(Token(Kind.PHRASE, text[i + 1 : end], src.position(i)))
            i = end + 1
        else:
            end = i
            while end < n and not _ends_word(text[end]):
                end += 1
            _word(query, src, i, end, tokens)
            i = end
    return tokens


def _ends_word(ch: str) -> bool:
    return ch == " " or ch in LPARENS or ch in RPARENS or ch in QUOTES


def _word(query: str, src: Source, start: int, end: int, out: list[Token]) -> None:
    """Lex one whitespace-delimited run: operator, or [-][field:]word, in that order."""
    text = src.text
    word = text[start:end]
    op = _operator(word)
    if op is not None:
        out.append(Token(op, word, src.position(start)))
        return
    # Which token follows the run directly (a quote or parenthesis with no space between).
    attached = end < len(text) and text[end] != " "
    emitted: list[Token] = []
    i = start
    if word[0] in DASHES:
        # "-word", "-(group)", '-"phrase"'; a dash standing alone is punctuation ("a - b").
        while i < end and text[i] in DASHES:
            i += 1
        if i < end or attached:
            emitted.append(Token(Kind.NOT, text[start:i], src.position(start)))
    m = _FIELD_PREFIX_RE.match(text, i, end)
    if m:
        name = m.group(1)
        field = FIELD_NAMES.get(unicodedata.normalize("NFKC", name).lower())
        rest_start = m.end()
        rest = text[rest_start:end]
        if field is not None:
            emitted.append(Token(Kind.FIELD, name, src.position(i), field))
            if rest[:1] in DASHES:
                raise InvalidQuery(
                    f"put the minus before the field: -{name}:{rest[1:]}",
                    query,
                    src.position(rest_start),
                )
            inner = _FIELD_PREFIX_RE.match(rest)
            if inner and unicodedata.normalize("NFKC", inner.group(1)).lower() in FIELD_NAMES:
                raise InvalidQuery(
                    "fields cannot be combined on one word", query, src.position(rest_start)
                )
            i = rest_start
        elif (rest or attached) and name.lower() not in _NOT_FIELDS and rest[:1] != "/":
            raise InvalidQuery(
                f"unknown field {name}: — the known fields are {KNOWN_FIELDS_HINT}",
                query,
                src.position(i),
            )
    body = text[i:end]
    if body:
        emitted.append(Token(Kind.WORD, body, src.position(i)))
    elif not (emitted and emitted[-1].kind is Kind.FIELD) and not attached:
        return
    if emitted and emitted[-1].kind is Kind.WORD and not _searchable(body, emitted):
        # Punctuation, emoji or markup standing alone ("&", "🙂", "---"): not a term.
        return
    out.extend(emitted)


def _searchable(body: str, emitted: list[Token]) -> bool:
    # After a field prefix, let the parser complain (or read a category such as "cs.*").
    return has_alnum(body) or any(t.kind is Kind.FIELD for t in emitted)


def _operator(word: str) -> Kind | None:
    word = unicodedata.normalize("NFKC", word)
    if word in ("OR", "|", "||"):
        return Kind.OR
    if word in ("AND", "&", "&&"):
        return Kind.AND
    if word == "NOT":
        return Kind.NOT
    return None
