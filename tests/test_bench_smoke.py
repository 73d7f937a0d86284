"""The benchmarks run at a tiny scale, so they cannot rot; their figures are not checked here."""

from __future__ import annotations

from bench import bench_arxiv_requests, bench_discord_fanout, bench_llm_calls


async def test_arxiv_requests_bench_runs_and_counts_the_same_for_more_topics() -> None:
    papers = bench_arxiv_requests.busy_day(60)
    one = await bench_arxiv_requests.cycle(1, papers, max_papers=5)
    many = await bench_arxiv_requests.cycle(30, papers, max_papers=5)
    assert one["total"] == many["total"] and one["rss"] == 3


async def test_llm_calls_bench_runs_and_calls_once_per_summary() -> None:
    result = await bench_llm_calls.run(subscribers=12, papers=20)
    assert result["llm_calls"] == result["summaries"] > 0


async def test_discord_fanout_bench_runs_and_delivers_each_digest_once() -> None:
    result = await bench_discord_fanout.run(channels=6, guilds=2)
    assert result["messages"] == 6 and result["lost"] == 0 and result["duplicated"] == 0
    assert result["fake_errors"] == 0


def test_cli_bench_runs_and_keeps_the_spacing_across_processes() -> None:
    from bench import bench_cli

    result = bench_cli.run(delay=0.2, help_runs=1, paper_runs=2)
    assert result["warm_requests"] == 0
    assert result["violations"] == 0
