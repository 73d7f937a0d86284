"""Benchmark: LLM calls per paper for 1 and 1,000 subscribers (they must be the same).

Run from the repository root with ``python -m bench.bench_llm_calls`` (no network: a local fake
arXiv and a local fake OpenAI-compatible server). Each subscriber is a chat with one of a few
dozen topics over the same day's listing; every subscriber gets its digest summarised in its
language. Summaries are cached per (paper version, language, prompt version, model), so the
number of LLM calls depends on the papers and languages, not on the subscribers.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.config import load_settings
from bot.core import open_core
from bot.source.calendar import submission_window
from tests.fakes.arxiv_data import make_papers
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.llm_server import FakeLLMServer

LISTING = date(2026, 11, 20)
TOPICS = (
    '"talking head" OR "lip synchronization"',
    '"graph neural network"',
    '"neural radiance field" OR nerf',
    '"speech enhancement"',
    '"bayesian optimization"',
    '"quantum error correction"',
    "diffusion* AND scale",
    "robust OR sparse",
)
LANGUAGES = ("en", "zh")


async def run(subscribers: int, papers: int) -> dict[str, float]:
    start, _ = submission_window(LISTING)
    listing = make_papers(papers, start=start + timedelta(minutes=5), step=timedelta(minutes=2))
    with FakeArxiv() as arxiv, FakeLLMServer() as llm, tempfile.TemporaryDirectory() as tmp:
        arxiv.announce(LISTING, new=listing)
        settings = load_settings(
            ARXIV_API_URL=arxiv.api_url,
            ARXIV_RSS_URL=arxiv.rss_url,
            PAPERBOY_DB=str(Path(tmp) / "bench.db"),
            PAPERBOY_ARXIV_DELAY="0",
            PAPERBOY_CATEGORIES="cs",
            OPENAI_API_KEY="test-key",
            OPENAI_BASE_URL=llm.base_url,
            PAPERBOY_DIGEST_MAX="500",
        )
        now = datetime(LISTING.year, LISTING.month, LISTING.day, 6, tzinfo=UTC)
        began = time.perf_counter()
        summarised: set[tuple[str, str]] = set()
        async with open_core(settings, clock=lambda: now) as core:
            app = core.paperboy
            for i in range(subscribers):
                language = LANGUAGES[i % len(LANGUAGES)]
                digest = await app.digest(
                    TOPICS[i % len(TOPICS)], audience=f"chat:{i}", language=language
                )
                summarised.update((pid, language) for pid in digest.summaries)
        elapsed = time.perf_counter() - began
        return {
            "subscribers": subscribers,
            "summaries": len(summarised),
            "llm_calls": llm.calls,
            "calls_per_summary": llm.calls / max(1, len(summarised)),
            "seconds": elapsed,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--papers", type=int, default=200)
    args = parser.parse_args()
    print(f"{args.papers} papers in the listing; topics: {len(TOPICS)}; languages: {LANGUAGES}")
    print(f"{'subscribers':>11} {'(paper,lang) summarised':>24} {'LLM calls':>10} "
          f"{'calls/summary':>14} {'seconds':>8}")  # fmt: skip
    for n in args.subscribers:
        r = asyncio.run(run(n, args.papers))
        print(f"{r['subscribers']:>11.0f} {r['summaries']:>24.0f} {r['llm_calls']:>10.0f} "
              f"{r['calls_per_summary']:>14.2f} {r['seconds']:>8.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
