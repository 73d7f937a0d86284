"""The extractive review: the paper's own sentences per section, and its facts."""

from __future__ import annotations

from bot.fulltext.fetch import abstract_only
from bot.fulltext.model import TextSource
from bot.reviews.extractive import extractive_review
from bot.reviews.model import ReviewOrigin, from_payload, to_payload
from bot.summaries.sentences import clean_text, split_sentences
from tests.test_reviews_llm import FULLTEXT, PAPER

REASON = "OPENAI_API_KEY is not set"


def _source_sentences() -> str:
    return "\n".join([*(s.text for s in FULLTEXT.sections), clean_text(PAPER.abstract)])


def test_every_sentence_comes_from_the_paper() -> None:
    review = extractive_review(PAPER, FULLTEXT, REASON)
    assert review.origin is ReviewOrigin.EXTRACTIVE and review.model is None
    assert review.fallback_reason == REASON
    source = " ".join(_source_sentences().split())
    fields = [
        review.background, review.prior_work, review.method, review.results,
        *review.method_steps, review.significance, review.strengths, review.weaknesses,
    ]  # fmt: skip
    assert all(fields), fields  # this paper has every kind of section
    for field in fields:
        for sentence in split_sentences(field):
            assert sentence.removesuffix("…") in source, sentence


def test_sections_feed_their_fields() -> None:
    review = extractive_review(PAPER, FULLTEXT, REASON)
    assert review.prior_work.startswith("Earlier GAN-based methods such as SadTalker")
    assert review.method.startswith("We propose LipSync-XL, a diffusion transformer")
    assert "31.2%" in review.results
    assert review.method_steps == (
        "We encode the audio clip into speech features with a frozen encoder.",
        "A diffusion transformer denoises video latents conditioned on the speech features.",
        "We distill the sampler to 4 steps so that it runs in real time.",
    )
    assert review.weaknesses == "A limitation is that training needs 64 GPUs for 3 days."
    assert "LipSync-XL" in review.keywords
    assert review.affiliations == FULLTEXT.affiliations
    assert review.source is TextSource.HTML


def test_an_abstract_only_review_states_no_affiliations_and_keeps_the_links() -> None:
    fulltext = abstract_only(PAPER)
    review = extractive_review(PAPER, fulltext, REASON)
    assert review.source is TextSource.ABSTRACT
    assert review.affiliations == ()  # shown as "not stated"
    assert review.method.startswith("We propose LipSync-XL")
    assert [x.url for x in review.code_links] == ["https://lipsync-xl.github.io/"]
    assert review.method_steps == ()


def test_the_payload_round_trips() -> None:
    review = extractive_review(PAPER, FULLTEXT, REASON)
    again = from_payload(to_payload(review))
    assert again == review and again.fallback_reason == REASON
    assert again.notes == FULLTEXT.notes


def test_the_text_lists_affiliations_links_and_the_source_line() -> None:
    from bot.reviews.render import review_text, source_line

    review = extractive_review(PAPER, FULLTEXT, "the day's LLM token budget is spent")
    text = review_text(review)
    assert "Affiliations: University of Oxford; Tsinghua University" in text
    assert "GitHub: https://github.com/ada/lipsync-xl" in text
    assert "Source: HTML" in text and source_line(review, "zh") == "来源: HTML"
    assert "read the first 60 of 112 pages" in text
    assert text.endswith("Extractive review: the day's LLM token budget is spent")
    bare = extractive_review(PAPER, abstract_only(PAPER), "x")
    assert "机构: 未注明" in review_text(bare, "zh")
    assert "来源: abstract" in review_text(bare, "zh")
