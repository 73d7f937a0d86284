"""Reviews from the fake LLM server: accepted, retried with the problems named, or extractive.

Also the property the issue asks for: whatever the model answers, no link and no number in a
review is absent from the text the model was given.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import AsyncOpenAI

from bot.fulltext.model import FullText, Note, NoteKind, Section, SectionKind, TextSource
from bot.models import Link, LinkKind, Paper
from bot.reviews.model import Review, ReviewOrigin
from bot.reviews.numbers import unsupported_numbers
from bot.reviews.prompts import prompt_sections, source_text
from bot.reviews.reviewer import Reviewer
from bot.summaries.llm import LLMSummarizer
from bot.summaries.validate import find_links
from storage import Storage
from tests.fakes.llm_server import FakeLLMServer, Reply, raw

MODEL = "fake-model"
PAPER = Paper(
    id="2409.03605",
    version=2,
    title="LipSync-XL: Diffusion Transformers for Expressive Audio-Driven Talking Heads",
    abstract=(
        "Audio-driven talking-head generation has attracted growing attention, yet existing "
        "methods struggle to keep accurate lip synchronization. We propose LipSync-XL, a "
        "diffusion transformer that animates a single portrait from an audio clip. On HDTF, "
        "LipSync-XL reduces FID by 31.2% and improves LSE-C from 7.1 to 8.3 compared with "
        "SadTalker. After distillation to 4 steps, the model runs at 25 fps on one A100 GPU."
    ),
    authors=("Ada Lovelace", "Alan Turing"),
    comment="CVPR 2025. Project page: https://lipsync-xl.github.io/",
)
FULLTEXT = FullText(
    paper_id=PAPER.id,
    version=2,
    source=TextSource.HTML,
    sections=(
        Section("Abstract", SectionKind.ABSTRACT, PAPER.abstract),
        Section(
            "Introduction",
            SectionKind.INTRO,
            "Talking heads are used in dubbing, telepresence and education. Viewers notice "
            "lips that drift out of sync with speech within a fraction of a second.\n\n"
            "We propose LipSync-XL, which keeps lips in sync over long clips.",
        ),
        Section(
            "Related Work",
            SectionKind.RELATED,
            "Earlier GAN-based methods such as SadTalker and Wav2Lip warp a single frame. "
            "These methods drift out of sync on clips longer than 10 seconds.",
        ),
        Section(
            "Method",
            SectionKind.METHOD,
            "Audio encoding\nWe encode the audio clip into speech features with a frozen "
            "encoder. The features are aligned to video frames.\n\n"
            "Diffusion transformer\nA diffusion transformer denoises video latents conditioned "
            "on the speech features. It uses 24 layers.\n\n"
            "Distillation\nWe distill the sampler to 4 steps so that it runs in real time.",
        ),
        Section(
            "Experiments",
            SectionKind.EXPERIMENTS,
            "We evaluate on HDTF and VoxCeleb2. LipSync-XL reduces FID by 31.2% on HDTF and "
            "improves LSE-C from 7.1 to 8.3 compared with SadTalker. A user study with 40 "
            "participants preferred our videos in 78.5% of pairwise comparisons.",
        ),
        Section(
            "Conclusion",
            SectionKind.CONCLUSION,
            "LipSync-XL shows that diffusion transformers can drive accurate talking heads in "
            "real time. A limitation is that training needs 64 GPUs for 3 days.",
        ),
    ),
    affiliations=("University of Oxford", "Tsinghua University"),
    links=(
        Link(LinkKind.CODE, "https://github.com/ada/lipsync-xl", "GitHub"),
        Link(LinkKind.PROJECT, "https://lipsync-xl.github.io/", "Project page"),
    ),
    notes=(Note(NoteKind.PAGES_CAPPED, pages_read=60, pages_total=112),),
)


def answer(**overrides: Any) -> str:
    """A valid English review of PAPER, with fields replaced as given."""
    data: dict[str, Any] = {
        "title_translation": "",
        "keywords": ["LipSync-XL", "talking heads", "diffusion transformer"],
        "background": "Audio-driven talking heads must keep the lips in sync with speech.",
        "prior_work": "Earlier GAN-based methods such as SadTalker drift out of sync on long "
        "clips.",
        "method": "LipSync-XL is a diffusion transformer that animates one portrait from an "
        "audio clip.",
        "results": "On HDTF it reduces FID by 31.2% and raises LSE-C from 7.1 to 8.3, which "
        "supports the goal of accurate lip synchronization.",
        "method_steps": [
            "Encode the audio clip into speech features.",
            "Denoise video latents with a diffusion transformer conditioned on the audio.",
            "Distill the sampler to 4 steps for real-time use.",
        ],
        "significance": "The work shows that diffusion transformers can drive accurate talking "
        "heads in real time.",
        "strengths": "It runs at 25 fps on one A100 GPU and clearly improves synchronization.",
        "weaknesses": "Training is a heavy workload, and the evaluation covers few datasets.",
    }
    data.update(overrides)
    return json.dumps(data, ensure_ascii=False)


ZH_ANSWER = answer(
    title_translation="LipSync-XL：用于音频驱动说话人头像的扩散Transformer",
    keywords=["LipSync-XL", "说话人头像", "扩散模型"],
    background="音频驱动的说话人头像生成需要让嘴型与语音保持同步。",
    prior_work="以往基于GAN的方法在长视频中容易出现口型不同步的问题。",
    method="LipSync-XL是一种扩散Transformer，可以根据音频驱动单张肖像。",
    results="在HDTF上FID降低了31.2%，LSE-C从7.1提升到8.3，结果支持其目标。",
    method_steps=["将音频编码为语音特征。", "用扩散Transformer生成视频潜变量。"],
    significance="这项工作表明扩散模型可以实时生成准确的说话人头像。",
    strengths="模型在一块A100上达到25 fps，同步效果明显提升。",
    weaknesses="训练开销较大，评估的数据集也较少。",
)


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(default=raw(answer())) as fake:
        yield fake


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with await Storage.open(tmp_path / "reviews.db") as opened:
        yield opened


@pytest.fixture
async def llm(server: FakeLLMServer) -> AsyncIterator[LLMSummarizer]:
    client = AsyncOpenAI(api_key="test-key", base_url=server.base_url, timeout=5, max_retries=0)
    async with LLMSummarizer(client, MODEL, concurrency=4) as summarizer:
        yield summarizer


@pytest.fixture
def reviewer(storage: Storage, llm: LLMSummarizer) -> Reviewer:
    return Reviewer(storage.reviews, llm)


def prose_of(review: Review) -> str:
    parts = [
        review.translated_title or "",
        *review.keywords,
        review.background,
        review.prior_work,
        review.method,
        review.results,
        *review.method_steps,
        review.significance,
        review.strengths,
        review.weaknesses,
    ]
    return "\n".join(p for p in parts if p)


SOURCE = source_text(PAPER, prompt_sections(FULLTEXT))


async def test_a_good_review_is_accepted_with_the_papers_facts(
    reviewer: Reviewer, server: FakeLLMServer
) -> None:
    review = await reviewer.review(PAPER, FULLTEXT, "en")
    assert review.origin is ReviewOrigin.LLM and review.model == MODEL
    assert review.fallback_reason is None
    assert review.results.startswith("On HDTF it reduces FID by 31.2%")
    assert review.method_steps[2] == "Distill the sampler to 4 steps for real-time use."
    # Facts come from the paper, never from the model.
    assert review.title == PAPER.title and review.translated_title is None
    assert review.authors == PAPER.authors
    assert review.affiliations == ("University of Oxford", "Tsinghua University")
    assert review.source is TextSource.HTML
    assert review.notes == FULLTEXT.notes
    urls = [x.url for x in review.links]
    assert "https://arxiv.org/abs/2409.03605" in urls
    assert "https://github.com/ada/lipsync-xl" in urls
    assert [x.kind for x in review.code_links] == [LinkKind.PROJECT, LinkKind.CODE]
    assert server.calls == 1
    sent = server.recorded[0].text()
    assert "These methods drift out of sync on clips longer than 10 seconds." in sent
    assert "Target language: English (en)" in sent
    assert server.requests[0]["response_format"]["json_schema"]["name"] == "paper_review"


async def test_a_chinese_review_keeps_the_original_title_beside_the_translation(
    reviewer: Reviewer, server: FakeLLMServer
) -> None:
    server.default = raw(ZH_ANSWER)
    review = await reviewer.review(PAPER, FULLTEXT, "zh")
    assert review.origin is ReviewOrigin.LLM and review.language == "zh"
    assert review.translated_title == "LipSync-XL：用于音频驱动说话人头像的扩散Transformer"
    assert review.title == PAPER.title


async def test_an_invented_number_is_named_in_the_retry_and_removed(
    reviewer: Reviewer, server: FakeLLMServer
) -> None:
    invented = answer(results="On HDTF it reduces FID by 45.6% and beats every baseline.")
    server.enqueue(raw(invented), raw(answer()))
    review = await reviewer.review(PAPER, FULLTEXT, "en")
    assert review.origin is ReviewOrigin.LLM
    assert "45.6" not in prose_of(review)
    assert server.calls == 2
    retry = server.recorded[1].text()
    assert "these numbers do not appear in the paper's text: 45.6%" in retry


async def test_a_number_invented_twice_loses_its_sentence_only(
    reviewer: Reviewer, server: FakeLLMServer
) -> None:
    results = (
        "On HDTF it reduces FID by 31.2% and raises LSE-C from 7.1 to 8.3. "
        "It is also 12x faster than every diffusion baseline."
    )
    server.enqueue(raw(answer(results=results)), raw(answer(results=results)))
    review = await reviewer.review(PAPER, FULLTEXT, "en")
    assert review.origin is ReviewOrigin.LLM
    assert review.results == "On HDTF it reduces FID by 31.2% and raises LSE-C from 7.1 to 8.3."
    assert server.calls == 2


async def test_an_invented_url_is_rejected(reviewer: Reviewer, server: FakeLLMServer) -> None:
    bad = answer(strengths="Code is at https://link.to.paper and it runs at 25 fps.")
    server.enqueue(raw(bad), raw(bad))
    review = await reviewer.review(PAPER, FULLTEXT, "en")
    assert review.origin is ReviewOrigin.EXTRACTIVE
    assert review.fallback_reason is not None
    assert "failed validation" in review.fallback_reason
    assert "link.to.paper" in review.fallback_reason
    assert "link.to.paper" not in prose_of(review)
    assert "do not include links" in server.recorded[1].text()


@pytest.mark.parametrize(
    ("first", "problem"),
    [
        (raw(answer(background="Sure! Here is the review: talking heads need lip sync.")), "Sure"),
        (raw(answer(method="the model " * 12)), "repeats itself"),
    ],
    ids=["chatter", "loop"],
)
async def test_chatter_or_a_loop_is_retried_then_extractive(
    reviewer: Reviewer, server: FakeLLMServer, first: Reply, problem: str
) -> None:
    server.enqueue(first, first)
    review = await reviewer.review(PAPER, FULLTEXT, "en")
    assert server.calls == 2
    assert problem in server.recorded[1].text()
    assert review.origin is ReviewOrigin.EXTRACTIVE and review.model is None
    assert review.fallback_reason is not None and "failed validation" in review.fallback_reason


async def test_the_wrong_language_is_retried_then_extractive(
    reviewer: Reviewer, server: FakeLLMServer
) -> None:
    english = answer(title_translation="LipSync-XL: diffusion transformers for talking heads")
    server.enqueue(raw(english), raw(english))
    review = await reviewer.review(PAPER, FULLTEXT, "zh")
    assert "not written in Simplified Chinese" in server.recorded[1].text()
    assert review.origin is ReviewOrigin.EXTRACTIVE
    assert review.fallback_reason is not None
    assert review.fallback_reason.endswith("they are the paper's own sentences in English, not zh")


async def test_an_outage_gives_the_extractive_review(
    storage: Storage, server: FakeLLMServer
) -> None:
    client = AsyncOpenAI(api_key="wrong", base_url=server.base_url, timeout=5, max_retries=0)
    async with LLMSummarizer(client, MODEL) as llm:
        review = await Reviewer(storage.reviews, llm).review(PAPER, FULLTEXT, "en")
    assert review.origin is ReviewOrigin.EXTRACTIVE
    assert review.fallback_reason is not None
    assert review.fallback_reason.startswith("the model gave no answer (HTTP 401")


_NUMBERS = ("31.2%", "45.6%", "12x", "7.1", "0.37", "1,000", "25 fps", "3.5k", "78.5 %")
_URLS = ("https://github.com/ada/lipsync-xl", "https://link.to.paper", "example.com/code")


def _scripted_answers() -> list[str]:
    """A deterministic spread of answers: numbers and links from the source and invented."""
    answers = [answer(), answer(title_translation="ignored in English"), CHATTER_ANSWER]
    for i, number in enumerate(_NUMBERS):
        url = _URLS[i % len(_URLS)]
        answers.append(
            answer(
                results=f"On HDTF it reduces FID by {number} compared with SadTalker.",
                strengths=f"The code at {url} is fast." if i % 2 else "It is fast on one GPU.",
                method_steps=["Encode the audio clip.", f"Run {number} denoising steps."],
            )
        )
    return answers


CHATTER_ANSWER = answer(significance="I hope this helps with your research on talking heads.")


@pytest.mark.parametrize("first", range(len(_scripted_answers())))
async def test_no_link_and_no_number_of_a_review_is_absent_from_the_source(
    storage: Storage, server: FakeLLMServer, llm: LLMSummarizer, first: int
) -> None:
    answers = _scripted_answers()
    second = answers[(first * 5 + 3) % len(answers)]
    server.enqueue(raw(answers[first]), raw(second))
    review = await Reviewer(storage.reviews, llm).review(PAPER, FULLTEXT, "en")
    text = prose_of(review)
    assert unsupported_numbers(text, SOURCE) == []
    assert [u for u in find_links(text) if u.lower() not in SOURCE.lower()] == []
    # Links shown are the paper's and arXiv's, never the model's.
    for link in review.links:
        assert link.url.startswith("https://arxiv.org/") or link.url.rstrip("/") in SOURCE + str(
            [x.url for x in FULLTEXT.links]
        )


def test_every_prompt_number_is_found_in_the_source_text() -> None:
    sent = "\n".join(text for _, text in prompt_sections(FULLTEXT))
    assert unsupported_numbers(sent, SOURCE) == []
    assert re.search(r"78\.5%", SOURCE)
