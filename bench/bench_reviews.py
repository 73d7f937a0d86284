"""Benchmark: tokens per review, and LLM calls per paper for 1 and 1,000 requests of a review.

Run from the repository root with ``python -m bench.bench_reviews`` (no network: a local fake
OpenAI-compatible server whose usage is ~characters / 4, as for English with GPT tokenizers).
Each paper gets a synthetic full text of realistic length (about 40,000 characters: 10,000
tokens, cut to the 6,000-token prompt budget); the fake answers every review with a valid
answer of about 2,000 characters. Reviews are cached per (paper version, language, prompt
version, model), and concurrent requests share one call, so 1,000 requests cost one call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from openai import AsyncOpenAI

from bot.fulltext.model import FullText, Section, SectionKind, TextSource
from bot.models import Paper
from bot.reviews.model import ReviewOrigin
from bot.reviews.reviewer import Reviewer
from bot.summaries.llm import LLMSummarizer
from storage import Storage
from tests.fakes.llm_server import FakeLLMServer, raw

_SENTENCE = (
    "The proposed model improves the baseline on the benchmark by 3.5 points while using "
    "the same training budget and a comparable number of parameters. "
)
_KINDS = (
    ("Abstract", SectionKind.ABSTRACT, 1),
    ("Introduction", SectionKind.INTRO, 50),
    ("Related Work", SectionKind.RELATED, 40),
    ("Method", SectionKind.METHOD, 80),
    ("Experiments", SectionKind.EXPERIMENTS, 80),
    ("Conclusion", SectionKind.CONCLUSION, 15),
)
_ANSWER = json.dumps(
    {
        "title_translation": "",
        "keywords": ["benchmark", "baseline", "training budget"],
        "background": "The paper studies how to improve a baseline model on a benchmark. Such "
        "gains usually cost more training, which many groups cannot afford.",
        "prior_work": "Earlier approaches need a larger training budget for the same gains. "
        "They also add parameters, which makes deployment slower.",
        "method": "The proposed model changes how the baseline is trained while keeping the "
        "training budget and the parameter count fixed.",
        "results": "On the benchmark it improves the baseline by 3.5 points with the same "
        "budget. This supports the goal of cheaper gains, though only one task is tested.",
        "method_steps": [
            "Train the baseline model on the benchmark.",
            "Apply the proposed change with the same training budget.",
            "Compare both models with a comparable number of parameters.",
        ],
        "significance": "Gains without extra training cost matter for groups with modest "
        "compute, and for practical use.",
        "strengths": "The improvement comes at no extra workload or parameter cost, and the "
        "change is simple to apply.",
        "weaknesses": "The evaluation uses one benchmark, so it does not show that the gains "
        "hold on other tasks.",
    }
)


def _paper(n: int) -> Paper:
    return Paper(
        id=f"2501.{n:05d}",
        version=1,
        title=f"Model {n}: Better Results Under the Same Budget",
        abstract=_SENTENCE * 6,
    )


def _fulltext(paper: Paper) -> FullText:
    sections = tuple(
        Section(title, kind, "\n\n".join(_SENTENCE * 4 for _ in range(max(1, count // 4))))
        for title, kind, count in _KINDS
    )
    return FullText(paper.id, paper.version, TextSource.HTML, sections)


async def run(requests: int, papers: int) -> dict[str, float]:
    with (
        FakeLLMServer(default=raw(_ANSWER), latency=0.05) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        async with await Storage.open(Path(tmp) / "bench.db") as storage:
            client = AsyncOpenAI(api_key="test-key", base_url=server.base_url, timeout=30)
            async with LLMSummarizer(client, "fake-model") as llm:
                reviewer = Reviewer(storage.reviews, llm)
                began = time.perf_counter()
                for n in range(papers):
                    paper = _paper(n)
                    text = _fulltext(paper)
                    reviews = await asyncio.gather(
                        *(reviewer.review(paper, text, "en") for _ in range(requests))
                    )
                    assert all(r.origin is ReviewOrigin.LLM for r in reviews)
                elapsed = time.perf_counter() - began
                full_chars = sum(len(s.text) for s in _fulltext(_paper(0)).sections)
                return {
                    "requests": requests,
                    "papers": papers,
                    "llm_calls": server.calls,
                    "calls_per_paper": server.calls / papers,
                    "prompt_tokens": llm.prompt_tokens / max(1, server.calls),
                    "completion_tokens": llm.completion_tokens / max(1, server.calls),
                    "fulltext_tokens": full_chars / 4,
                    "seconds": elapsed,
                }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--papers", type=int, default=5)
    args = parser.parse_args()
    print(f"{'requests/paper':>14} {'papers':>6} {'LLM calls':>9} {'calls/paper':>11} "
          f"{'prompt tok/review':>17} {'completion tok/review':>21} {'full text tok':>13} "
          f"{'seconds':>7}")  # fmt: skip
    for n in args.requests:
        r = asyncio.run(run(n, args.papers))
        print(f"{r['requests']:>14.0f} {r['papers']:>6.0f} {r['llm_calls']:>9.0f} "
              f"{r['calls_per_paper']:>11.2f} {r['prompt_tokens']:>17.0f} "
              f"{r['completion_tokens']:>21.0f} {r['fulltext_tokens']:>13.0f} "
              f"{r['seconds']:>7.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
