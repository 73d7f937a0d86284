"""Benchmark: arXiv requests per cycle for 1, 100 and 10,000 topics (they must be the same).

Run from the repository root with ``python -m bench.bench_arxiv_requests`` (no network: a local
fake arXiv serves a busy announcement day). One cycle is what the bot does every announcement
day: fetch the watched groups' listings, enrich the new papers' metadata, and build the digest
of every topic (each topic a different chat). Prints the requests per endpoint and the time the
cycle took; the digests' contents are checked against each topic's own query, so a cycle that
skipped work could not look cheap.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from bench.bench_matching import make_paper, make_topic
from bot.config import load_settings
from bot.core import open_core
from bot.digest import DigestRequest
from bot.models import Paper
from bot.query import parse_query
from bot.source.calendar import submission_window
from tests.fakes.arxiv_server import FakeArxiv

LISTING = date(2026, 11, 19)  # a Thursday
GROUPS = "cs,eess,stat.ML"


def busy_day(count: int, seed: int = 7) -> list[Paper]:
    """`count` realistic papers submitted inside the listing's window, ids in sequence."""
    rng = random.Random(seed)
    start, end = submission_window(LISTING)
    step = (end - start) / (count + 1)
    papers = []
    for i in range(count):
        p = make_paper(i, rng)
        when = start + step * (i + 1)
        papers.append(
            replace(p, id=f"{when:%y%m}.{10000 + i:05d}", version=1, published=when, updated=when)
        )
    return papers


async def cycle(n_topics: int, papers: list[Paper], *, max_papers: int) -> dict[str, int | float]:
    rng = random.Random(n_topics)
    topics = [parse_query(make_topic(rng)) for _ in range(n_topics)]
    with FakeArxiv() as arxiv, tempfile.TemporaryDirectory() as tmp:
        arxiv.announce(LISTING, new=papers)
        settings = load_settings(
            ARXIV_API_URL=arxiv.api_url,
            ARXIV_RSS_URL=arxiv.rss_url,
            PAPERBOY_DB=str(Path(tmp) / "bench.db"),
            PAPERBOY_ARXIV_DELAY="0",
            PAPERBOY_CATEGORIES=GROUPS,
        )
        now = datetime(LISTING.year, LISTING.month, LISTING.day, 6, tzinfo=UTC)
        began = time.perf_counter()
        async with open_core(settings, clock=lambda: now) as core:
            app = core.paperboy
            await app.refresh()
            fetched = time.perf_counter()
            digests = await app.digests.latest_many(
                [DigestRequest(f"chat:{i}", q) for i, q in enumerate(topics)],
                max_papers=max_papers,
            )
        finished = time.perf_counter()
        by_endpoint = Counter("rss" if r.path.startswith("/rss") else "api" for r in arxiv.requests)
    # Every delivered paper must match its topic: the cheap cycle did the real work.
    for query, digest in zip(topics, digests, strict=True):
        assert all(query.matches(e.paper) for e in digest.entries), query.text
    delivered = sum(len(d.entries) for d in digests)
    return {
        "topics": n_topics,
        "rss": by_endpoint["rss"],
        "api": by_endpoint["api"],
        "total": by_endpoint["rss"] + by_endpoint["api"],
        "delivered": delivered,
        "ingest_s": fetched - began,
        "digests_s": finished - fetched,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, nargs="+", default=[1, 100, 10_000])
    parser.add_argument("--papers", type=int, default=1500, help="papers announced that day")
    parser.add_argument("--max", type=int, default=25, help="papers per digest")
    args = parser.parse_args()
    papers = busy_day(args.papers)
    print(f"{args.papers} papers announced in {GROUPS} on {LISTING}; page size 2000, "
          f"id_list batches of 100")  # fmt: skip
    header = (f"{'topics':>7} {'RSS req':>8} {'API req':>8} {'total':>6} "
              f"{'papers delivered':>17} {'ingest s':>9} {'digests s':>10}")  # fmt: skip
    print(header)
    for n in args.topics:
        r = asyncio.run(cycle(n, papers, max_papers=args.max))
        print(f"{r['topics']:>7} {r['rss']:>8} {r['api']:>8} {r['total']:>6} "
              f"{r['delivered']:>17} {r['ingest_s']:>9.1f} {r['digests_s']:>10.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
