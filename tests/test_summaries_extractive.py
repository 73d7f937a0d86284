"""The extractive fallback and the sentence splitter, on realistic arXiv abstracts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.models import Paper, SummarySource
from bot.summaries.extractive import extractive_summary, trim_to
from bot.summaries.sentences import clean_text, split_sentences
from bot.summaries.validate import validate_summary

FIXTURE = Path(__file__).parent / "fixtures" / "summaries" / "papers.json"


def load_papers() -> dict[str, Paper]:
    papers = {}
    for item in json.loads(FIXTURE.read_text(encoding="utf-8")):
        papers[item["id"]] = Paper(
            id=item["id"],
            version=item["version"],
            title=item["title"],
            abstract=item["abstract"],
            comment=item.get("comment"),
            doi=item.get("doi"),
            journal_ref=item.get("journal_ref"),
            categories=tuple(item.get("categories", ())),
        )
    return papers


PAPERS = load_papers()


def test_tldr_is_the_contribution_sentence_not_the_background() -> None:
    summary = extractive_summary(PAPERS["2409.03605"])
    assert summary.tldr.startswith("In this paper, we propose LipSync-XL")
    assert summary.source is SummarySource.EXTRACTIVE
    assert summary.model is None
    assert summary.language == "en"


def test_takeaways_are_claims_in_abstract_order() -> None:
    summary = extractive_summary(PAPERS["2409.03605"])
    assert 3 <= len(summary.takeaways) <= 5
    joined = " ".join(summary.takeaways)
    assert "31.2%" in joined and "78.5%" in joined and "25 fps" in joined
    assert "has attracted growing attention" not in joined  # background, not a claim
    assert "will be released" not in joined  # an announcement, not a claim
    abstract = PAPERS["2409.03605"].abstract
    positions = [abstract.index(t[:40]) for t in summary.takeaways]
    assert positions == sorted(positions)


def test_abbreviations_and_decimals_do_not_split_sentences() -> None:
    summary = extractive_summary(PAPERS["2409.03605"])
    # "e.g.", "et al.", "Fig. 2", "wav2vec 2.0", "31.2%" all stay inside their sentences.
    assert any(t.endswith("(Fig. 2).") for t in summary.takeaways)
    assert any("31.2% and improves LSE-C from 7.1 to 8.3" in t for t in summary.takeaways)


def test_present_is_a_contribution_and_urls_are_not_takeaways() -> None:
    summary = extractive_summary(PAPERS["2501.01234"])
    assert summary.tldr.startswith("We present SpecVerify")
    assert any("2.8x" in t and "3.5%" in t for t in summary.takeaways)
    assert not any("github" in t for t in summary.takeaways)


def test_latex_is_made_readable() -> None:
    summary = extractive_summary(PAPERS["2312.09876"])
    text = " ".join([summary.tldr, *summary.takeaways])
    assert "$" not in text and "\\mathcal" not in text and "\\mathfrak" not in text
    assert "N=4 super Yang-Mills" in summary.tldr
    assert "Lüscher" in text and "L ≤ 8" in text


def test_math_abstract_prefers_we_prove() -> None:
    summary = extractive_summary(PAPERS["2407.11111"])
    assert summary.tldr.startswith("We prove that")
    assert "Erdős-Rényi" in summary.tldr
    assert any("Bubeck et al. on the clique number" in t for t in summary.takeaways)


def test_one_sentence_abstract_gives_a_tldr_and_no_takeaways() -> None:
    summary = extractive_summary(PAPERS["2410.22222"])
    assert summary.tldr.startswith("We report that tokenizers")
    assert summary.takeaways == ()


def test_two_sentence_abstract_gives_one_takeaway() -> None:
    paper = Paper(
        id="2411.00001",
        version=1,
        title="Short",
        abstract="We introduce a tiny benchmark for unit conversion. GPT-4o solves 62.5% of it.",
    )
    summary = extractive_summary(paper)
    assert summary.tldr == "We introduce a tiny benchmark for unit conversion."
    assert summary.takeaways == ("GPT-4o solves 62.5% of it.",)


def test_abstract_without_contribution_cue_uses_the_first_sentence() -> None:
    paper = Paper(
        id="2411.00002",
        version=1,
        title="Cosmic rays",
        abstract=(
            "Cosmic-ray anisotropy at TeV energies is measured with six years of IceCube data. "
            "A dipole of amplitude 7.2e-4 is detected at 5.1 sigma. "
            "The phase agrees with earlier HAWC results. "
            "No significant quadrupole is found."
        ),
    )
    summary = extractive_summary(paper)
    assert summary.tldr.startswith("Cosmic-ray anisotropy")
    assert len(summary.takeaways) == 3


def test_empty_abstract_falls_back_to_the_title() -> None:
    paper = Paper(id="2411.00003", version=1, title="Untitled Thoughts", abstract="  ")
    summary = extractive_summary(paper)
    assert summary.tldr == "Untitled Thoughts" and summary.takeaways == ()


def test_long_sentences_are_trimmed_at_a_word_boundary() -> None:
    sentence = "We propose " + "a remarkably detailed method " * 20 + "for everything."
    paper = Paper(id="2411.00004", version=1, title="Long", abstract=sentence)
    tldr = extractive_summary(paper).tldr
    assert len(tldr) <= 300 and tldr.endswith("…")
    assert tldr[:-1].split()[-1] in {"a", "remarkably", "detailed", "method"}  # whole words
    assert trim_to("short", 10) == "short"


@pytest.mark.parametrize("paper_id", sorted(PAPERS))
def test_every_fixture_gives_a_valid_extractive_summary(paper_id: str) -> None:
    paper = PAPERS[paper_id]
    summary = extractive_summary(paper)
    found = validate_summary(
        summary.tldr,
        summary.takeaways,
        language="en",
        source_text=paper.abstract,
        min_takeaways=0,
    )
    assert found == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Prior work (Smith et al. 2021) uses GANs. We do not.",
            ["Prior work (Smith et al. 2021) uses GANs.", "We do not."],
        ),
        (
            "It works, i.e. it converges. See Sec. 3 and Eq. 4 for details.",
            ["It works, i.e. it converges.", "See Sec. 3 and Eq. 4 for details."],
        ),
        ("Accuracy rises 3.5% vs. the baseline, approx. two points.", None),
        ("It is $O(n \\log n)$. Then we stop.", ["It is $O(n \\log n)$.", "Then we stop."]),
        (
            "Code: https://github.com/foo/bar.v2. The end.",
            ["Code: https://github.com/foo/bar.v2.", "The end."],
        ),
        (
            "We use images, text, etc. Results follow.",
            ["We use images, text, etc.", "Results follow."],
        ),
        ("3D scenes matter. 4D ones too!", ["3D scenes matter.", "4D ones too!"]),
        (
            "我们提出了新方法。效果很好！还有问题吗？",
            ["我们提出了新方法。", "效果很好！", "还有问题吗？"],
        ),
    ],
)
def test_split_sentences(text: str, expected: list[str] | None) -> None:
    assert split_sentences(text) == (expected if expected is not None else [text])


def test_clean_text_handles_common_latex() -> None:
    raw = (
        r"A \textbf{12\%} gain, $\times 2$ speed, $10^{-3}$ error, Erd\H{o}s, $\alpha$~and $\beta$."
    )
    assert clean_text(raw) == "A 12% gain, × 2 speed, 10^-3 error, Erdős, α and β."
