"""Warnings about a query that parses but probably does not say what was meant (issue 7 §4).

A lower-case ``or`` / ``and`` / ``not`` between two terms is searched as an ordinary word, as
it always was; the parser only adds a warning, never a change of meaning. Any spelling but the
all-capitals operator warns (``Or``, ``oR``), since every spelling is searched the same way.
"""

from __future__ import annotations

import pytest

from bot.query import parse_query, query_warnings

OR_WARNING = '"or" is searched as a word; did you mean OR?'


@pytest.mark.parametrize(
    ("text", "warnings"),
    [
        ("diffusion or flow", (OR_WARNING,)),
        ("diffusion and flow", ('"and" is searched as a word; did you mean AND?',)),
        ("diffusion not flow", ('"not" is searched as a word; did you mean NOT?',)),
        ("diffusion Or flow", ('"Or" is searched as a word; did you mean OR?',)),
        ("diffusion oR flow", ('"oR" is searched as a word; did you mean OR?',)),
        ('"talking head" or "lip sync"', (OR_WARNING,)),  # phrases are terms
        ("(a OR b) or c", (OR_WARNING,)),  # a group ends a term
        ("a or (b OR c)", (OR_WARNING,)),  # and starts one
        ("a or ti:b", (OR_WARNING,)),
        ("a or -b", (OR_WARNING,)),
        ("ti:(a or b)", (OR_WARNING,)),
        ("a or b or c", (OR_WARNING,)),  # one warning per word
        ("a or b and c", (OR_WARNING, '"and" is searched as a word; did you mean AND?')),
        ("ｄｉｆｆｕｓｉｏｎ ｏｒ ｆｌｏｗ", ('"ｏｒ" is searched as a word; did you mean OR?',)),
    ],
)
def test_a_lower_case_operator_between_terms_warns(text: str, warnings: tuple[str, ...]) -> None:
    assert parse_query(text).warnings == warnings
    assert query_warnings(text) == warnings


@pytest.mark.parametrize(
    "text",
    [
        "diffusion OR flow",  # the operator itself
        "diffusion AND flow",
        "diffusion NOT flow",
        "diffusion | flow",
        '"this or that"',  # inside quotes
        '"a and b" flow',
        "or gate",  # at the start
        "logic or",  # at the end
        "not",
        "ti:or gate",  # a field's word
        "-or gate",  # an excluded word
        "a (or) b",  # alone in a group: nothing on either side inside it
        "a orb",  # only the whole word
        "a nor b",
        "exclusive-or gate",  # part of a hyphenated phrase
    ],
)
def test_no_warning_where_the_word_is_plainly_meant(text: str) -> None:
    assert parse_query(text).warnings == ()


@pytest.mark.parametrize("text", ["diffusion or flow", "a Or b", "ti:(a and b) not c"])
def test_a_warning_never_changes_the_meaning(text: str) -> None:
    query = parse_query(text)
    assert query.warnings
    quiet = parse_query(query.canonical)  # the canonical form keeps the word as a word
    assert query == quiet and query.canonical == quiet.canonical
    words = {w for w in ("or", "and", "not") if w in text.lower().split()}
    assert all(f'"{w}"' in query.describe().lower() for w in words)


def test_warnings_do_not_take_part_in_equality() -> None:
    assert parse_query("a or b") == parse_query('a "or" b')
    assert parse_query('a "or" b').warnings == ()


def test_an_invalid_query_has_no_warnings_to_give() -> None:
    assert query_warnings('"unterminated or') == ()
    assert query_warnings("") == ()
