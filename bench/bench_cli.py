"""Benchmark: how fast the command line answers, and how politely processes share arXiv.

Run from the repository root with ``python -m bench.bench_cli`` (no network: a local fake arXiv
serves today's listing; every figure is a real ``paperboy`` process). Prints:

* ``--help``: the median wall time of ``paperboy --help`` (target < 0.3 s);
* cold and warm ``paperboy digest``: a first run on an empty database, then the same digest
  again (target for the warm run < 1.5 s), with arXiv's real spacing (``--delay 3``);
* the smallest gap the fake arXiv saw between one request's answer and the next request,
  across every process of the run (back-to-back ``paperboy paper`` runs included), and how many
  gaps were shorter than the spacing (target: 0 violations).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.source.calendar import current_listing_date
from tests.fakes.arxiv_server import FakeArxiv
from tests.pipeline_data import TOPIC, talking_head_papers

ROOT = Path(__file__).resolve().parent.parent


def _paperboy(env: dict[str, str], *args: str) -> float:
    """Run one ``paperboy`` process; its wall time in seconds."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "handlers", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"paperboy {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return elapsed


def run(*, delay: float = 3.0, help_runs: int = 5, paper_runs: int = 3) -> dict[str, float]:
    listing = current_listing_date(datetime.now(UTC))
    papers = talking_head_papers(listing)
    with FakeArxiv() as arxiv, tempfile.TemporaryDirectory() as tmp:
        arxiv.announce(listing, new=papers)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "OPENAI_"))},
            "ARXIV_API_URL": arxiv.api_url,
            "ARXIV_RSS_URL": arxiv.rss_url,
            "PAPERBOY_DB": str(Path(tmp) / "bench.db"),
            "PAPERBOY_ARXIV_DELAY": str(delay),
            "PAPERBOY_CATEGORIES": "cs,eess",
            "PAPERBOY_LOG_LEVEL": "WARNING",
        }
        helps = [_paperboy(env, "--help") for _ in range(help_runs)]
        cold = _paperboy(env, "digest", TOPIC)
        warm_requests_before = len(arxiv.requests)
        warm = _paperboy(env, "digest", TOPIC)
        warm_requests = len(arxiv.requests) - warm_requests_before
        for paper in itertools.islice(itertools.cycle(papers), paper_runs):
            _paperboy(env, "paper", paper.id)  # always asks arXiv: back-to-back processes
        requests = sorted(arxiv.requests, key=lambda r: r.started)
    gaps = [b.started - a.responded for a, b in itertools.pairwise(requests)]
    return {
        "help_s": statistics.median(helps),
        "cold_digest_s": cold,
        "warm_digest_s": warm,
        "warm_requests": warm_requests,
        "requests": len(requests),
        "min_gap_s": min(gaps, default=float("nan")),
        "violations": sum(gap < delay - 0.01 for gap in gaps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=3.0, help="arXiv spacing (default 3)")
    args = parser.parse_args()
    r = run(delay=args.delay)
    print(f"paperboy --help              {r['help_s']:.2f} s   (target < 0.3 s)")
    print(f"cold paperboy digest         {r['cold_digest_s']:.2f} s")
    print(
        f"warm paperboy digest         {r['warm_digest_s']:.2f} s   (target < 1.5 s; "
        f"{r['warm_requests']:.0f} arXiv requests)"
    )
    print(
        f"arXiv spacing across processes: min gap {r['min_gap_s']:.2f} s over "
        f"{r['requests']:.0f} requests, {r['violations']:.0f} shorter than {args.delay:g} s "
        "(target 0)"
    )


if __name__ == "__main__":
    main()
