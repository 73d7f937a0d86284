"""The topic query language: syntax, errors, canonical form, description."""

from __future__ import annotations

import dataclasses
import random

import pytest

from bot.errors import InvalidQuery
from bot.query import Query, parse_query
from bot.query.categories import ARCHIVES


def _error(text: str) -> InvalidQuery:
    with pytest.raises(InvalidQuery) as info:
        parse_query(text)
    return info.value


# --- what parses, and into what --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("talking head", "talking head"),
        ("Talking   HEADS", "talking head"),  # case, spacing and plurals fold away
        ('"talking head"', '"talking head"'),
        ("“talking head”", '"talking head"'),  # smart quotes from phone keyboards
        ("talking-head", '"talking head"'),  # a hyphenated word is a phrase
        ("a OR b", "a OR b"),
        ("a or b", "a or b"),  # lowercase operators are ordinary words
        ("a AND b", "a b"),
        ("a NOT b", "a -b"),
        ("NOT NOT a", "a"),
        ("a b OR c", "a b OR c"),  # AND binds tighter than OR
        ("a (b OR c)", "a (b OR c)"),
        ("(a OR b) (c OR d)", "(a OR b) (c OR d)"),
        ("a -(b OR c)", "a -(b OR c)"),
        ("a a a", "a"),
        ("ti:(diffusion OR flow)", "ti:(diffusion OR flow)"),
        ("ti:diffusion ti:video", "ti:(diffusion video)"),
        ("title:diffusion", "ti:diffusion"),
        ("ti: diffusion", "ti:diffusion"),
        ("abs:talk*", "abs:talk*"),
        ('au:"Geoffrey Hinton"', 'au:"geoffrey hinton"'),
        ("au:Müller", "au:muller"),
        ("cat:cs.cv", "cat:cs.CV"),
        ("cat:cs", "cat:cs.*"),
        ("cat:CS.*", "cat:cs.*"),
        ("cat:physics.OPTICS", "cat:physics.optics"),
        ("cat:(cs.CV OR cs.LG) -cat:cs.RO", "cat:((cs.CV OR cs.LG) -cs.RO)"),
        ("-ti:survey diffusion", "-ti:survey diffusion"),
        ("ｃａｔ：cs.CV （diffusion ＯＲ flow）", "cat:cs.CV (diffusion OR flow)"),
        ("diffusion || flow", "diffusion OR flow"),
        ("<b>diffusion</b> &amp; flow", "diffusion flow"),
        ("diffusion\x00model\n", "diffusion model"),
        ("diffusion 🙂 ✨", "diffusion"),
        ("https://github.com/foo/bar", '"http github com foo bar"'),  # a URL is not a field
        ("arXiv:2409.03605", '"arxiv 2409 03605"'),
        ("note: diffusion", "note diffusion"),
        ("扩散模型", '"扩 散 模 型"'),  # CJK characters are tokens of their own
    ],
)
def test_parses_to_canonical(text: str, canonical: str) -> None:
    query = parse_query(text)
    assert query.canonical == canonical
    assert query.text == text
    again = parse_query(query.canonical)
    assert again == query
    assert again.canonical == canonical


def test_equal_queries_compare_and_hash_equal_whatever_the_spelling() -> None:
    spellings = [
        '"Talking Head" OR lip-sync cat:cs.CV',
        '  “talking heads”   OR   "LIP SYNC"  cat:CS.cv ',
        '("talking head" OR "lip sync") AND cat:cs.CV',
    ]
    queries = [parse_query(s) for s in spellings[:2]]
    assert queries[0] == queries[1]
    assert hash(queries[0]) == hash(queries[1])
    assert {q.canonical for q in queries} == {queries[0].canonical}
    # Precedence differs here: AND binds tighter, so this one is another query.
    assert parse_query(spellings[2]) != queries[0]


def test_query_is_immutable() -> None:
    query = parse_query("diffusion")
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.text = "other"  # type: ignore[misc]


def test_categories_lists_positive_constraints_only() -> None:
    query = parse_query("(cat:cs.cv OR cat:cs) diffusion -cat:cs.RO")
    assert query.categories() == frozenset({"cs.CV", "cs.*"})
    assert parse_query("diffusion").categories() == frozenset()


def test_describe_matches_the_spec_example() -> None:
    query = parse_query('("talking head" OR "lip sync") cat:cs.CV -survey')
    assert query.describe() == (
        'title or abstract contains the phrase "talking head", or the phrase "lip sync"; '
        'category cs.CV; excluding "survey"'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("talking head", 'title or abstract contains "talking" and "head"'),
        (
            "ti:talk* au:hinton",
            'title contains a word starting with "talk"; an author\'s name contains "hinton"',
        ),
        ("a OR ti:b", 'title or abstract contains "a", or title contains "b"'),
        ("cat:(cs.CV OR cs.LG) x", 'title or abstract contains "x"; category cs.CV or cs.LG'),
        (
            "x -ti:(a OR b)",
            'title or abstract contains "x"; excluding either "a" or "b" in the title',
        ),
    ],
)
def test_describe_in_plain_english(text: str, expected: str) -> None:
    assert parse_query(text).describe() == expected


def test_describe_shows_precedence() -> None:
    # AND binds tighter than OR, so the exclusion and category apply to "lip sync" only;
    # the description makes that visible to the user.
    query = parse_query('"talking head" OR "lip sync" -survey cat:cs.CV')
    assert query.describe() == (
        'title or abstract contains the phrase "talking head", or (title or abstract contains '
        'the phrase "lip sync" and category cs.CV, excluding "survey")'
    )


def test_describe_is_truncated() -> None:
    text = " OR ".join(f'"long phrase number {i}"' for i in range(14))
    assert len(text) <= 500
    description = parse_query(text).describe()
    assert len(description) <= 300
    assert description.endswith("…")


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("(talking head", 0, "unclosed parenthesis"),
        ("talking (head", 8, "unclosed parenthesis"),
        ("talking head)", 12, "unmatched closing parenthesis"),
        ('talking "head', 8, "unterminated quote"),
        ("a “b", 2, "unterminated quote"),
        ("a ()", 2, "empty parentheses"),
        ('a ""', 2, "empty quotes"),
        ('a "!!"', 2, "nothing to search for"),
        ("foo OR", 4, '"OR" needs a term on both sides'),
        ("OR foo", 0, '"OR" needs a term on both sides'),
        ("foo AND AND bar", 4, '"AND" needs a term on both sides'),
        ("(foo OR) bar", 5, '"OR" needs a term on both sides'),
        ("foo NOT", 4, '"NOT" must be followed by a term'),
        ("foo:bar", 0, "unknown field foo:"),
        ("diffusion year:2024", 10, "unknown field year:"),
        ("ta*", 2, "at least 3 letters"),
        ("*talk", 0, "can only end a word"),
        ("ta*lk", 2, "can only end a word"),
        ("NOT survey", 0, "only excludes"),
        ("-survey", 0, "only excludes"),
        ("-survey -review", 0, "only excludes"),
        ("diffusion OR -survey", 13, "each alternative of OR"),
        ("cat:cs.C-V.x", 4, "not an arXiv category"),
        ("cat:sc.CV", 4, "not an arXiv archive"),
        ("cat:cs*", 4, "not an arXiv category"),
        ("ti:", 0, "must be followed by"),
        ("ti:au:hinton", 3, "cannot be combined"),
        ("ti:(abs:x)", 4, "cannot be used inside ti:"),
        ("ti:-survey", 3, "minus before the field"),
    ],
)
def test_syntax_errors_say_what_and_where(text: str, position: int, fragment: str) -> None:
    error = _error(text)
    assert fragment in error.problem
    assert error.position == position
    assert error.query == text
    assert fragment in str(error)  # the rendered message carries the problem, for chat replies


def test_unknown_field_lists_known_fields() -> None:
    problem = _error("foo:bar").problem
    for name in ("ti:", "abs:", "au:", "cat:"):
        assert name in problem


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_query(text: str) -> None:
    assert "empty" in _error(text).problem


@pytest.mark.parametrize("text", ["🙂", "%", "---", "\x00\x01", "<b></b>", "-", "&amp;"])
def test_nothing_searchable(text: str) -> None:
    assert "nothing to search for" in _error(text).problem


def test_too_long_says_the_limit() -> None:
    error = _error("a" * 501)
    assert "500" in error.problem and "501" in error.problem
    parse_query("a" * 500)  # exactly at the limit is fine


def test_too_many_terms_says_the_limit() -> None:
    terms = [f"w{i}" for i in range(65)]
    error = _error(" ".join(terms))
    assert "64" in error.problem and "65" in error.problem
    assert error.position == len(" ".join(terms[:64])) + 1  # the 65th term
    parse_query(" ".join(terms[:64]))


def test_markdown_bold_is_reported_not_misread() -> None:
    assert "suffix wildcard" in _error("**diffusion**").problem


# --- robustness --------------------------------------------------------------------------------

_PIECES = [
    "talk", "head", "Müller", "ß", "ﬁ", "扩散", '"', "“", "”", "(", ")", "（", "）", " ", "OR",
    "AND", "NOT", "or", "-", "−", "*", "talk*", "ta*", "ti:", "abs:", "au:", "cat:", "cs.CV",
    "cs.*", "foo:", "http://x.y/z", "<b>", "</b>", "&amp;", "&", "&&", "||", "_", "`", "\x00",
    "\n", "🙂", "\u200b", "\ufeff", "\u0301", "ＯＲ", ":", "::", ".*", "**", "x" * 40,
]  # fmt: skip


def test_random_garbage_never_crashes_and_canonical_round_trips() -> None:
    rng = random.Random(20240917)
    parsed = 0
    for _ in range(5000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 9)))
        try:
            query = parse_query(text)
        except InvalidQuery as error:
            assert error.problem
            assert error.position is None or 0 <= error.position <= len(text)
            continue
        parsed += 1
        again = parse_query(query.canonical)
        assert again == query
        assert again.canonical == query.canonical
        assert len(query.describe()) <= 300
    assert parsed > 500  # the generator must also produce valid queries to test anything


def test_archives_mirror_the_settings_list() -> None:
    from bot.config import ARCHIVES as SETTINGS_ARCHIVES

    assert ARCHIVES == SETTINGS_ARCHIVES


def test_query_repr_shows_canonical() -> None:
    assert repr(parse_query("Diffusion  OR flow")) == "Query('diffusion OR flow')"
    assert isinstance(parse_query("x"), Query)
