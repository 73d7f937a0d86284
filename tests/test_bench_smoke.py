"""The benchmarks run at a tiny scale, so they cannot rot; their figures are not checked here."""

from __future__ import annotations

from bench import bench_arxiv_requests, bench_llm_calls


async def test_arxiv_requests_bench_runs_and_counts_the_same_for_more_topics() -> None:
    papers = bench_arxiv_requests.busy_day(60)
    one = await bench_arxiv_requests.cycle(1, papers, max_papers=5)
    many = await bench_arxiv_requests.cycle(30, papers, max_papers=5)
    assert one["total"] == many["total"] and one["rss"] == 3


async def test_llm_calls_bench_runs_and_calls_once_per_summary() -> None:
    result = await bench_llm_calls.run(subscribers=12, papers=20)
    assert result["llm_calls"] == result["summaries"] > 0
