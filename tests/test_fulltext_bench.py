"""The full-text benchmark runs at a tiny scale, so it cannot rot; its figures are not checked."""

from __future__ import annotations

from bench import bench_fulltext


def test_fulltext_bench_runs() -> None:
    pdf = bench_fulltext.pdf_bench(pages=3, words_per_page=100, runs=1)
    assert pdf["pages"] == 3 and pdf["chars"] > 0
    html = bench_fulltext.html_bench(sections=4, sentences=5, runs=1)
    assert html["sections"] == 5  # the abstract and four sections
