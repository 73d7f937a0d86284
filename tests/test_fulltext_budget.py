"""Selecting a paper's text for the LLM: priorities, budget, never a cut inside a sentence."""

from __future__ import annotations

import pytest

from bot.fulltext import (
    SHORTENED,
    FullText,
    Section,
    SectionKind,
    TextSource,
    estimate_tokens,
    select_for_budget,
)
from bot.summaries.sentences import split_sentences
from tests.fakes.fulltext_data import prose


def paper(**lengths: int) -> FullText:
    kinds = {
        "abstract": SectionKind.ABSTRACT,
        "intro": SectionKind.INTRO,
        "related": SectionKind.RELATED,
        "method": SectionKind.METHOD,
        "experiments": SectionKind.EXPERIMENTS,
        "conclusion": SectionKind.CONCLUSION,
        "appendix": SectionKind.OTHER,
    }
    sections = tuple(
        Section(name.title(), kinds[name], prose(n, seed=i) + "\n\n" + prose(n, seed=i + 50))
        for i, (name, n) in enumerate(lengths.items())
    )
    return FullText("2409.03605", 1, TextSource.HTML, sections)


def cost(title: str, text: str) -> int:
    return estimate_tokens(title) + 4 + estimate_tokens(text)


def test_everything_fits_in_a_large_budget_in_document_order() -> None:
    full = paper(abstract=3, intro=5, related=5, method=5, experiments=5, conclusion=2)
    chosen = select_for_budget(full, 100_000)
    assert [e.title for e in chosen] == [s.title for s in full.sections]
    assert all(not e.shortened for e in chosen)
    assert [e.text for e in chosen] == [s.text for s in full.sections]


@pytest.mark.parametrize("budget", [60, 150, 400, 900, 1500])
def test_the_budget_holds_and_cuts_are_between_sentences(budget: int) -> None:
    full = paper(abstract=4, intro=20, related=20, method=30, experiments=30, conclusion=3,
                 appendix=10)  # fmt: skip
    chosen = select_for_budget(full, budget)
    assert sum(cost(e.title, e.text) for e in chosen) <= budget
    originals = {s.title: s.text for s in full.sections}
    for excerpt in chosen:
        text = excerpt.text
        if excerpt.shortened:
            assert text.endswith(SHORTENED)
            text = text.removesuffix(SHORTENED)
        original_sentences = {
            s for p in originals[excerpt.title].split("\n\n") for s in split_sentences(p)
        }
        for paragraph in text.split("\n\n"):
            for sentence in split_sentences(paragraph):
                assert sentence in original_sentences  # whole sentences only
        assert originals[excerpt.title].startswith(text.split("\n\n")[0])


def test_priorities_share_the_budget_and_related_work_comes_last() -> None:
    full = paper(abstract=3, intro=40, related=40, method=40, experiments=40, conclusion=3)
    chosen = {e.title: e for e in select_for_budget(full, 1200)}
    assert set(chosen) == {"Abstract", "Intro", "Method", "Experiments", "Conclusion"}
    assert not chosen["Abstract"].shortened and not chosen["Conclusion"].shortened
    assert chosen["Intro"].shortened and chosen["Method"].shortened
    # A long introduction does not eat the method's share.
    assert abs(len(chosen["Intro"].text) - len(chosen["Method"].text)) < 400


def test_nothing_or_too_little_budget_gives_nothing_rather_than_a_fragment() -> None:
    full = paper(abstract=3)
    assert select_for_budget(full, 0) == []
    assert select_for_budget(full, 8) == []


def test_token_estimate_is_characters_over_four() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
